#!/usr/bin/python3
# Changes process-wide state that a CGI script may freely change, because
# as a process of its own it owns it. The next script must not notice.
import os, sys

POLLUTED_GLOBAL = True
os.environ["PYCGI_POLLUTED"] = "yes"
os.chdir("/")
sys.argv.append("polluted-argv")
sys.path.insert(0, "/polluted/path")
print("Content-Type: text/plain")
print()
print("polluted")
