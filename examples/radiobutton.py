#!/usr/bin/python3
# -*- coding: UTF-8 -*-
#
# radiobutton.py - radio buttons sharing one name send a single value.

import cgi, cgitb
import html

form = cgi.FieldStorage()

if form.getvalue('subject'):
    subject = form.getvalue('subject')
else:
    subject = "Not set"

print("Content-type:text/html")
print()
print("<html>")
print("<head>")
print('<meta charset="utf-8">')
print("<title>Radio - Fourth CGI Program</title>")
print("</head>")
print("<body>")
print("<h2> Selected Subject is %s</h2>" % html.escape(subject))
print("</body>")
print("</html>")
