#!/usr/bin/python3
# A flushed first chunk, 1.5 s of silence, the rest.
import sys, time

print("Content-Type: text/plain")
print()
print("first chunk")
sys.stdout.flush()
time.sleep(1.5)
print("last chunk")
