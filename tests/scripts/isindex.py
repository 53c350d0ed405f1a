#!/usr/bin/python3
# ISINDEX-style queries (no '=') arrive as command-line words.
import sys

print("Content-Type: text/plain")
print()
print("argc=%d" % (len(sys.argv) - 1))
for word in sys.argv[1:]:
    print("arg=%s" % word)
