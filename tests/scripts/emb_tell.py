#!/usr/bin/python3
# What tell() says on each standard stream (pipes in a CGI process).
import sys

results = []
for name in ("stdin.buffer", "stdin", "stdout.buffer", "stdout", "stderr"):
    obj = sys
    for part in name.split("."):
        obj = getattr(obj, part)
    try:
        results.append("%s: %r" % (name, obj.tell()))
    except Exception as e:
        results.append("%s: %s %s" % (name, type(e).__name__, e))
print("Content-Type: text/plain")
print()
print("\n".join(results))
