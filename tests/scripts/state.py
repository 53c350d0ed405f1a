#!/usr/bin/python3
# Reports the state pollute.py changes.
import os, sys

print("Content-Type: text/plain")
print()
print("env=%s" % os.environ.get("PYCGI_POLLUTED", "<unset>"))
print("cwd=%s" % os.getcwd())
print("argv=%s" % sys.argv[1:])
print("path_polluted=%s" % ("/polluted/path" in sys.path))
print("global_leaked=%s" % ("POLLUTED_GLOBAL" in globals()))
