#!/usr/bin/python3
# What fds 0, 1 and 2 are (pipes for a CGI process), then output from a
# shell (os.system) and from a child process (subprocess.run), which
# write to fd 1 directly.
import os, stat, subprocess, sys

kinds = []
for fd in (0, 1, 2):
    try:
        kinds.append("fd%d=%s" % (fd, "fifo" if stat.S_ISFIFO(
            os.fstat(fd).st_mode) else oct(os.fstat(fd).st_mode)))
    except OSError as e:
        kinds.append("fd%d=%s" % (fd, e))
print("Content-Type: text/plain")
print()
print(" ".join(kinds))
sys.stdout.flush()
os.system("echo from-shell")
subprocess.run(["echo", "from-sub"])
print("end")
