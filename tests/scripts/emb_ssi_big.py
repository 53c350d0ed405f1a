#!/usr/bin/python3
# 20 KB of text run through mod_include (SetOutputFilter INCLUDES) with
# an include of another embedded script at the start, in the middle
# and at the end: the sub-requests run while this script still writes.
import os

where = os.environ.get("QUERY_STRING") or "/m_emb/hello.py"
tag = '<!--#include virtual="%s" -->\n' % where
print("Content-Type: text/html")
print()
print(tag, end="")
for i in range(200):
    print("line %03d %s" % (i, "x" * 90))
    if i == 100:
        print(tag, end="")
print(tag, end="")
print("end")
