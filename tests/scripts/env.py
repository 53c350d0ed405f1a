#!/usr/bin/python3
# Every environment variable, sorted, one "KEY=value" per line.
# Values are printed with repr-escaping of newlines so one line is one key.
import os

print("Content-Type: text/plain")
print()
for key in sorted(os.environ):
    value = os.environ[key].replace("\\", "\\\\").replace("\n", "\\n")
    print("%s=%s" % (key, value))
