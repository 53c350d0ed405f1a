#!/usr/bin/python3
# Headers and part of the body, then an uncaught exception.
import sys

print("Content-Type: text/plain")
print()
print("partial body")
sys.stdout.flush()
raise RuntimeError("pycgi-test-exception")
