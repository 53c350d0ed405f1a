#!/usr/bin/python3
# Never reads its request body; answers after a short pause.
import time

time.sleep(0.3)
print("Content-Type: text/plain")
print()
print("body ignored")
