#!/usr/bin/python3
# A few lines on stderr (tagged with the marker from QUERY_STRING),
# then a normal response.
import os, sys

marker = os.environ.get("QUERY_STRING") or "no-marker"
for i in range(3):
    sys.stderr.write("stderr-line-%d %s\n" % (i, marker))
sys.stderr.flush()
print("Content-Type: text/plain")
print()
print("stdout after stderr %s" % marker)
