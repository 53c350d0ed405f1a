#!/usr/bin/python3
# A garbage line inside the header block.

print("Content-Type: text/plain")
print("this line is not a header")
print()
print("body after a bad header")
