#!/usr/bin/python3
# A line every 0.5 s for 4 s, each flushed: never silent for long, but
# running for twice CGIScriptTimeout in all.
import sys, time

print("Content-Type: text/plain")
print()
for i in range(8):
    print("line %d" % i)
    sys.stdout.flush()
    time.sleep(0.5)
print("done")
