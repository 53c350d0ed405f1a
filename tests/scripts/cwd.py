#!/usr/bin/python3
# The working directory, and a relative open() as scripts commonly do.
import os

print("Content-Type: text/plain")
print()
print("cwd=%s" % os.getcwd())
with open("data.txt") as f:
    print("data=%s" % f.read().strip())
