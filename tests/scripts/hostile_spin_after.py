#!/usr/bin/python3
# Hostile: sends headers and a first line, then loops forever.
import sys

print("Content-Type: text/plain")
print()
print("started")
sys.stdout.flush()
while True:
    pass
