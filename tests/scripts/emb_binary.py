#!/usr/bin/python3
# Text through print(), then every byte value through sys.stdout.buffer,
# then text again.
import sys

print("Content-Type: application/octet-stream")
print()
print("text before")
sys.stdout.flush()
sys.stdout.buffer.write(bytes(range(256)))
sys.stdout.buffer.flush()
print("text after")
