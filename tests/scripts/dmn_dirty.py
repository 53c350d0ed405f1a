#!/usr/bin/python3
# Leaves one kind of process state behind (QUERY_STRING), then answers:
#   thread   a daemon thread still sleeping (3 s)
#   signal   a SIGUSR1 handler        sigterm  a SIGTERM handler
#   umask    umask 077                rlimit   RLIMIT_NOFILE soft limit lower
#   child    a child process (sleep 5) never waited for
#   stdio    sys.stdout closed after the answer
#   sigmask  SIGUSR2 blocked
#   none     nothing
import os, resource, signal, subprocess, sys, threading, time

what = os.environ.get("QUERY_STRING", "none")
print("Content-Type: text/plain")
print()
print("dirty %s pid=%d" % (what, os.getpid()))
sys.stdout.flush()
if what == "thread":
    threading.Thread(target=time.sleep, args=(3,), daemon=True).start()
elif what == "signal":
    signal.signal(signal.SIGUSR1, lambda *a: None)
elif what == "sigterm":
    signal.signal(signal.SIGTERM, lambda *a: None)
elif what == "umask":
    os.umask(0o077)
elif what == "rlimit":
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft - 1, hard))
elif what == "child":
    subprocess.Popen(["sleep", "5"], stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
elif what == "stdio":
    sys.stdout.close()
elif what == "sigmask":
    signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR2])
