#!/usr/bin/python3
# The signals blocked in this CGI process (SigBlk of /proc/self/status).
import re

with open("/proc/self/status") as f:
    blocked = re.search(r"^SigBlk:\s*(\S+)", f.read(), re.M).group(1)
print("Content-Type: text/plain")
print()
print(blocked)
