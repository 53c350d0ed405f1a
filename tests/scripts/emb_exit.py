#!/usr/bin/python3
# Output, then one of the ways a script ends itself (QUERY_STRING):
# exit0, exit3, exit (builtin exit()), msg (raise SystemExit("msg")),
# early3 (sys.exit(3) before any output).
import os, sys

how = os.environ.get("QUERY_STRING", "exit0")
if how == "early3":
    sys.exit(3)
print("Content-Type: text/plain")
print()
print("before the exit")
if how == "exit0":
    sys.exit(0)
elif how == "exit3":
    sys.exit(3)
elif how == "exit":
    exit()
elif how == "msg":
    raise SystemExit("emb_exit says goodbye")
print("after the exit: must never be seen")
