#!/usr/bin/python3
# Sleeps QUERY_STRING seconds (the part before '&', default 2.5) inside
# deep_wait(), then prints its pid, 2000 numbered lines and "end".
# With "&touch" it sets SIGINT's handler to itself first.  PyCGISlowLog's
# stack must name deep_wait's sleeping line (marked below), and the
# response must still come whole.  (test_slowlog.py)
import os
import time


def deep_wait(secs):
    time.sleep(secs)  # SLOWLOG-LINE


def main():
    args = os.environ.get("QUERY_STRING", "").split("&")
    if "touch" in args:
        # Set a handler to what it is: a daemon worker then compares
        # every signal handler with its boot snapshot after the script.
        import signal
        signal.signal(signal.SIGINT, signal.getsignal(signal.SIGINT))
    deep_wait(float(args[0] or "2.5"))
    print("Content-Type: text/plain")
    print()
    print("pid=%d" % os.getpid())
    for i in range(2000):
        print("line %d" % i)
    print("end")


main()
