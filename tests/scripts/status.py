#!/usr/bin/python3
# Status: from the query string ("404", "418 I'm a teapot", ...);
# without one, "404 Not Found".
import os
from urllib.parse import unquote_plus

status = unquote_plus(os.environ.get("QUERY_STRING", "")) or "404 Not Found"
print("Status: %s" % status)
print("Content-Type: text/plain")
print("X-Status-Script: yes")
print()
print("status body for %s" % status)
