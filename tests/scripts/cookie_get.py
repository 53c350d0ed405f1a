#!/usr/bin/python3
# Read the cookies back from HTTP_COOKIE.
import os
from http import cookies

print("Content-type: text/plain")
print()
raw = os.environ.get('HTTP_COOKIE')
print("HTTP_COOKIE=%s" % raw)
if raw:
    jar = cookies.SimpleCookie()
    jar.load(raw)
    for key in sorted(jar):
        print("%s=%s" % (key, jar[key].value))
