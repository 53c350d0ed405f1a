#!/usr/bin/python3
# -*- coding: UTF-8 -*-
#
# cookie_set.py - a cookie is just one more header, sent before the
# empty line.  The browser returns it in HTTP_COOKIE on later requests.

import time

# Cookie dates are always GMT; this one expires a day from now.
expires = time.strftime("%a, %d %b %Y %H:%M:%S GMT",
                        time.gmtime(time.time() + 24 * 3600))

print('Content-Type: text/html')
print('Set-Cookie: name="Tutorial reader";expires=%s' % expires)
print()
print("""
<html>
  <head>
    <meta charset="utf-8">
    <title>Set a cookie</title>
  </head>
  <body>
    <h1>Cookie set OK!</h1>
    <p><a href="cookie_get.py">Read it back</a></p>
  </body>
</html>
""")
