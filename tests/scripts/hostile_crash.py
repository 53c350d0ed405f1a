#!/usr/bin/python3
# Dies in QUERY_STRING = "<how>-<when>" way:
#   how:  exc (uncaught exception), abort (os.abort()), segv (reads address
#         0 through ctypes), exit (os._exit(7))
#   when: before (no output at all) or after (headers + a line, flushed)
import ctypes, os, sys

how, when = os.environ.get("QUERY_STRING", "exc-before").split("-")
if when == "after":
    print("Content-Type: text/plain")
    print()
    print("output before the crash")
    sys.stdout.flush()
if how == "exc":
    raise RuntimeError("hostile_crash exception")
elif how == "abort":
    os.abort()
elif how == "segv":
    ctypes.string_at(0)
elif how == "exit":
    os._exit(7)
print("not reached")
