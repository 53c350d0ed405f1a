#!/usr/bin/python3
# -*- coding: UTF-8 -*-
#
# hello2.py - a page that carries its own form and posts back to itself.

import cgi
import html

print("Content-type: text/html")
print()
print("<html><body>")
print("<h1>Hello Program!</h1>")

form = cgi.FieldStorage()
if form.getvalue("name"):
    name = html.escape(form.getvalue("name"))
    print("<h1>Hello " + name + "! Thanks for using my script!</h1><br />")
if form.getvalue("happy"):
    print("<p>Glad to hear you are happy!</p>")
if form.getvalue("sad"):
    print("<p>Sorry to hear that. Why are you sad?</p>")

print("<form method='post' action='hello2.py'>")
print("<p>Name: <input type='text' name='name' /></p>")
print("<input type='checkbox' name='happy' /> Happy")
print("<input type='checkbox' name='sad' /> Sad")
print("<input type='submit' value='Submit' />")
print("</form>")
print("</body></html>")
