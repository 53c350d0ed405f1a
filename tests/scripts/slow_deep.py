#!/usr/bin/python3
# Sleeps QUERY_STRING seconds (the part before '&', default 2.5) inside
# deep_wait(), then prints its pid, 2000 numbered lines and "end".
# PyCGISlowLog's stack must name deep_wait's sleeping line (marked
# below), and the response must still come whole.  (test_slowlog.py)
import os
import time


def deep_wait(secs):
    time.sleep(secs)  # SLOWLOG-LINE


def main():
    q = os.environ.get("QUERY_STRING", "").split("&")[0] or "2.5"
    deep_wait(float(q))
    print("Content-Type: text/plain")
    print()
    print("pid=%d" % os.getpid())
    for i in range(2000):
        print("line %d" % i)
    print("end")


main()
