#!/usr/bin/python3
# -*- coding: UTF-8 -*-
#
# textarea.py - a textarea arrives as one (possibly multi-line) value.

import cgi, cgitb
import html

form = cgi.FieldStorage()

if form.getvalue('textcontent'):
    text_content = form.getvalue('textcontent')
else:
    text_content = "Not entered"

print("Content-type:text/html")
print()
print("<html>")
print("<head>")
print('<meta charset="utf-8">')
print("<title>Text Area - Fifth CGI Program</title>")
print("</head>")
print("<body>")
print("<h2> Entered Text Content is %s</h2>" % html.escape(text_content))
print("</body>")
print("</html>")
