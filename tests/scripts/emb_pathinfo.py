#!/usr/bin/python3
# Prints PATH_INFO as the script gets it (a string that may carry
# surrogate escapes for bytes that are not UTF-8).
import os

print("Content-Type: text/plain")
print()
print("path_info=%s" % os.environ.get("PATH_INFO", ""))
