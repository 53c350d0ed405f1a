#!/usr/bin/python3
# Starts a non-daemon thread that prints a line every 0.1 s for 1 s, and
# returns at once.  python3 waits for such a thread at exit, so the
# response has "main done" and all ten thread lines.
import sys, threading, time

def talk():
    for i in range(10):
        time.sleep(0.1)
        print("thread line %d" % i)
        sys.stdout.flush()

print("Content-Type: text/plain")
print()
sys.stdout.flush()
threading.Thread(target=talk).start()
print("main done")
sys.stdout.flush()
