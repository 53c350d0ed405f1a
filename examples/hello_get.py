#!/usr/bin/python3
# -*- coding: UTF-8 -*-
#
# hello_get.py - read two form fields.  cgi.FieldStorage looks at
# QUERY_STRING for GET and at standard input for POST, so the same
# script answers both the GET and the POST form in index.html.

import cgi, cgitb
import html
import os

cgitb.enable()                      # show a traceback page on errors

form = cgi.FieldStorage()

first_name = form.getvalue('first_name', '')
last_name = form.getvalue('last_name', '')

print("Content-type:text/html")
print()
print("<html>")
print("<head>")
print('<meta charset="utf-8">')
print("<title>Hello - Second CGI Program</title>")
print("</head>")
print("<body>")
print("<h2>Hello %s %s</h2>" % (html.escape(first_name), html.escape(last_name)))
print("<p>Sent with %s.</p>" % html.escape(os.environ.get('REQUEST_METHOD', '')))
print("</body>")
print("</html>")
