#!/usr/bin/python3
# Hostile: sleeps far past any sensible CGIScriptTimeout before answering.
import time

time.sleep(30)
print("Content-Type: text/plain")
print()
print("too late")
