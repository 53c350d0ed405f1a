#!/usr/bin/python3
# The tutorial way to debug: cgitb.enable(), headers, then a bug.
import cgitb
cgitb.enable()

print("Content-Type: text/html")
print()
print("<p>before the bug</p>")
emb_cgitb_marker = 1 / 0
