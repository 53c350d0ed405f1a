#!/usr/bin/python3
# Reads the whole request body, then reports its length and sha256.
import hashlib, sys

data = sys.stdin.buffer.read()
print("Content-Type: text/plain")
print()
print("length=%d" % len(data))
print("sha256=%s" % hashlib.sha256(data).hexdigest())
