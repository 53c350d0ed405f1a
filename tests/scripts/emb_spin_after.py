#!/usr/bin/python3
# Headers and a line, flushed, then a CPU loop with no more output.
import sys

print("Content-Type: text/plain")
print()
print("started")
sys.stdout.flush()
while True:
    pass
