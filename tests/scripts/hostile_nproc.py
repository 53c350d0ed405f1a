#!/usr/bin/python3
# Tries to fork a process and says whether it could.
import os

print("Content-Type: text/plain")
print()
try:
    pid = os.fork()
except OSError as e:
    print("fork failed: %s" % type(e).__name__)
else:
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    print("fork worked")
