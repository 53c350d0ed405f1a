#!/usr/bin/python3
# -*- coding: UTF-8 -*-
#
# cookie_get.py - read the cookies the browser sent back.
# HTTP_COOKIE looks like "key1=value1; key2=value2".

import os
import html

print("Content-type: text/html")
print()
print("""
<html>
<head>
<meta charset="utf-8">
<title>Read a cookie</title>
</head>
<body>
<h1>Reading the cookie</h1>
""")

name = None
if 'HTTP_COOKIE' in os.environ:
    for cookie in os.environ['HTTP_COOKIE'].split(';'):
        if '=' not in cookie:
            continue
        key, value = cookie.split('=', 1)
        if key.strip() == "name":
            name = value.strip().strip('"')

if name is None:
    print("<p>No cookie called name was sent; "
          "<a href=\"cookie_set.py\">set one first</a>.</p>")
else:
    print("<p>cookie name: " + html.escape(name) + "</p>")

print("</body>")
print("</html>")
