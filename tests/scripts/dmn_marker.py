#!/usr/bin/python3
# Creates the file named by QUERY_STRING (the proof that it ran).
import os

path = os.environ.get("QUERY_STRING", "")
if path:
    with open(path, "w") as f:
        f.write("ran as pid %d\n" % os.getpid())
print("Content-Type: text/plain")
print()
print("marked %s" % path)
