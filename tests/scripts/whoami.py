#!/usr/bin/python3
# Which program runs this script: /usr/bin/python3.x for a fork/exec
# runner, the httpd binary for an embedded interpreter.
import os

print("Content-Type: text/plain")
print()
print("exe=%s" % os.readlink("/proc/self/exe"))
print("pid=%d" % os.getpid())
print("uid=%d" % os.getuid())
