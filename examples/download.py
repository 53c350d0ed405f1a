#!/usr/bin/python3
# -*- coding: UTF-8 -*-
#
# download.py - send a file for the browser to save instead of display.
# Content-Disposition names the file; the body is the raw bytes.

import sys

print("Content-Type: application/octet-stream")
print('Content-Disposition: attachment; filename="foo.txt"')
print()

# The server runs us in the script's own directory, as CGI always has.
with open("foo.txt", "rb") as fo:
    data = fo.read()

# Bytes go to the binary buffer; flush the text layer first so the
# headers printed above come out before them.
sys.stdout.flush()
sys.stdout.buffer.write(data)
