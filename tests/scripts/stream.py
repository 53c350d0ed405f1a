#!/usr/bin/python3
# A line, a flush, a pause, another line: the first line must reach the
# client before the script ends.
import sys, time

print("Content-Type: text/plain")
print()
print("first line")
sys.stdout.flush()
time.sleep(3)
print("second line")
