#!/usr/bin/python3
# os._exit(3) in several situations (QUERY_STRING):
#   flushed    headers and a line, flushed, then os._exit(3)
#   unflushed  headers and a line left in the stdout buffer, os._exit(3)
#   early      os._exit(3) before any output
import os, sys

how = os.environ.get("QUERY_STRING", "flushed")
if how != "early":
    print("Content-Type: text/plain")
    print()
    print("before os._exit")
    if how == "flushed":
        sys.stdout.flush()
os._exit(3)
