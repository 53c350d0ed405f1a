#!/usr/bin/python3
# Answers, leaving a background child that holds on for 4 s.
#   ?fork   os.fork(); the child sleeps, then sys.exit(0)
#   ?popen  subprocess.Popen(["sleep", "4"]) inheriting stdout/stderr
import os, subprocess, sys, time

how = os.environ.get("QUERY_STRING", "fork")
print("Content-Type: text/plain")
print()
print("parent answered")
sys.stdout.flush()
if how == "fork":
    if os.fork() == 0:
        time.sleep(4)
        sys.exit(0)
else:
    subprocess.Popen(["sleep", "4"])
