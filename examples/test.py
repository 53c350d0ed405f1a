#!/usr/bin/python3
# -*- coding: UTF-8 -*-
#
# test.py - list the CGI environment variables the server passed to us.

import os
import html

print("Content-type:text/html")
print()
print('<meta charset="utf-8">')
print("<b>Environment variables</b><br>")
print("<ul>")
for key in sorted(os.environ.keys()):
    print("<li><span style='color:green'>%30s </span> : %s </li>"
          % (html.escape(key), html.escape(os.environ[key])))
print("</ul>")
