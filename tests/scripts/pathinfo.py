#!/usr/bin/python3
# The path-related CGI variables.
import os

print("Content-Type: text/plain")
print()
for key in ("SCRIPT_NAME", "PATH_INFO", "PATH_TRANSLATED", "QUERY_STRING",
            "REQUEST_URI", "SCRIPT_FILENAME"):
    print("%s=%s" % (key, os.environ.get(key, "<unset>")))
