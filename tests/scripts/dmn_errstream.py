#!/usr/bin/python3
# Prints its page and flushes it, then writes a line to stderr every
# 0.5 ms for 0.6 s before it ends.  (Daemon tests: the page must reach
# the client before the end.)
import sys
import time

print("Content-Type: text/plain")
print()
print("the page")
sys.stdout.flush()
end = time.monotonic() + 0.6
while time.monotonic() < end:
    sys.stderr.write("progress\n")
    sys.stderr.flush()
    time.sleep(0.0005)
