#!/usr/bin/python3
# Starts processes from a thread of its own (os.fork(), whose child
# exits at once, and a subprocess.Popen() never waited for), joins the
# thread and answers.  The processes are the script's to reap: none
# may be left a zombie of the httpd child.
import os, subprocess, threading

pids = []


def spawn():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    pids.append(pid)
    pids.append(subprocess.Popen(["/bin/true"]).pid)


t = threading.Thread(target=spawn)
t.start()
t.join()
print("Content-Type: text/plain")
print()
print("spawned %s" % " ".join(map(str, pids)))
