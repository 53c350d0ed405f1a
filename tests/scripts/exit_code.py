#!/usr/bin/python3
# A full response, then a non-zero exit status.
import sys

print("Content-Type: text/plain")
print()
print("output before sys.exit(3)")
sys.exit(3)
