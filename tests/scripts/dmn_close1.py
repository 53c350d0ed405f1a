#!/usr/bin/python3
# Prints its whole answer, closes fd 1, then goes on for 3 s: the
# response has ended when fd 1 closed.
import os, sys, time

print("Content-Type: text/plain")
print()
print("body before close")
sys.stdout.flush()
os.close(1)
time.sleep(3)
