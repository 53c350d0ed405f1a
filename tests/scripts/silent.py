#!/usr/bin/python3
# Produces nothing for longer than CGIScriptTimeout.
import time

time.sleep(12)
print("Content-Type: text/plain")
print()
print("too late")
