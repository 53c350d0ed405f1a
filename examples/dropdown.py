#!/usr/bin/python3
# -*- coding: UTF-8 -*-
#
# dropdown.py - a <select> box sends the value of the chosen option.

import cgi, cgitb
import html

form = cgi.FieldStorage()

if form.getvalue('dropdown'):
    subject = form.getvalue('dropdown')
else:
    subject = "Not entered"

print("Content-type:text/html")
print()
print("<html>")
print("<head>")
print('<meta charset="utf-8">')
print("<title>Dropdown Box - Sixth CGI Program</title>")
print("</head>")
print("<body>")
print("<h2> Selected Subject is %s</h2>" % html.escape(subject))
print("</body>")
print("</html>")
