#!/usr/bin/python3
# Memory for PyCGIDaemonMemoryLimit: ?keep=MB leaves that much resident
# in the worker (held by the sys module, which outlives the script);
# ?temp=MB touches that much and frees it before the script ends.
import os, sys

what, _, mb = os.environ.get("QUERY_STRING", "").partition("=")
size = int(mb or 0) << 20
if what == "keep":
    sys._pycgi_test_hog = b"h" * size
elif what == "temp":
    block = b"t" * size
    del block
print("Content-Type: text/plain")
print()
print("pid=%d" % os.getpid())
