#!/usr/bin/python3
# Sleeps QUERY_STRING seconds (a float, default 1), then reports its pid
# and the query.  (Daemon tests: bursts, pool sizing, the status page.)
import os, time

q = os.environ.get("QUERY_STRING", "") or "1"
secs = float(q.split("&")[0])
time.sleep(secs)
print("Content-Type: text/plain")
print()
print("slept=%s" % q)
print("pid=%d" % os.getpid())
