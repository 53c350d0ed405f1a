#!/usr/bin/python3
# Reads its environment and cwd, sleeps, reads them again: concurrent
# requests must not see each other's values.
import os, time

before = (os.environ.get("QUERY_STRING"), os.getcwd())
time.sleep(0.5)
after = (os.environ.get("QUERY_STRING"), os.getcwd())
print("Content-Type: text/plain")
print()
print("before=%s|%s" % before)
print("after=%s|%s" % after)
