#!/usr/bin/python3
# QUERY_STRING lines of 64 bytes ("line NNNNN " and a pattern): a page
# larger than the 8 KB of a pipe buffer or a single read.
import os, sys

n = int(os.environ.get("QUERY_STRING") or "400")
print("Content-Type: text/plain")
print()
for i in range(n):
    sys.stdout.write(("line %05d " % i) + "x" * 52 + "\n")
