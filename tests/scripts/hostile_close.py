#!/usr/bin/python3
# Ends its output early, then keeps running for 1.5 s.
#   ?sys   sys.stdout.close(), then tries to print once more
#   ?fd    closes file descriptor 1 (exec only: embedded has none)
#   ?both  closes file descriptors 1 and 2
import os, sys, time

how = os.environ.get("QUERY_STRING", "sys")
print("Content-Type: text/plain")
print()
print("body before close")
sys.stdout.flush()
if how == "sys":
    sys.stdout.close()
    try:
        print("printed after close")
        sys.stderr.write("hostile_close: print after close worked\n")
    except ValueError:
        sys.stderr.write("hostile_close: print after close: ValueError\n")
elif how == "fd":
    os.close(1)
elif how == "both":
    os.close(1)
    os.close(2)
time.sleep(1.5)
