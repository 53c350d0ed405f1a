#!/usr/bin/python3
# Prints its page and flushes it, then takes 0.3 ms more before it ends:
# the gap between a script's last output and its end that a daemon
# worker's clean-up makes, a little longer.  (Daemon tests.)
import sys
import time

print("Content-Type: text/plain")
print()
print("the whole page")
sys.stdout.flush()
time.sleep(0.0003)
