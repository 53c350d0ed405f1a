#!/usr/bin/python3
# A Location: with a local path and no Status: httpd must perform an
# internal redirect (as a GET) instead of answering 302.
# ?to=<path> chooses the target.
import os
from urllib.parse import parse_qs

qs = parse_qs(os.environ.get("QUERY_STRING", ""))
target = qs.get("to", ["/cgi-bin/env.py?redirected=1"])[0]
print("Location: %s" % target)
print()
