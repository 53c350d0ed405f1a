#!/usr/bin/python3
# Allocates 500 MB before answering.
big = bytearray(500 * 1000 * 1000)
print("Content-Type: text/plain")
print()
print("allocated %d bytes" % len(big))
