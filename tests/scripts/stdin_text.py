#!/usr/bin/python3
# The old tutorial way to read a POST: CONTENT_LENGTH characters from
# sys.stdin in text mode.
import os, sys

n = int(os.environ.get("CONTENT_LENGTH") or 0)
data = sys.stdin.read(n)
print("Content-Type: text/plain")
print()
print("read %d chars: %s" % (len(data), data))
