#!/usr/bin/python3
# The tutorial's POST form handler: text fields, checkboxes, radio,
# textarea and a drop-down, all read through cgi.FieldStorage.
import cgi, cgitb

form = cgi.FieldStorage()

print("Content-type:text/html")
print()
print("<html><body>")
print("<h2>Hello %s %s</h2>" % (form.getvalue('first_name'),
                                form.getvalue('last_name')))
if form.getvalue('maths'):
    print("<p>maths checked</p>")
if form.getvalue('physics'):
    print("<p>physics checked</p>")
print("<p>subject: %s</p>" % form.getvalue('subject'))
print("<p>dropdown: %s</p>" % form.getvalue('dropdown'))
print("<p>text: %s</p>" % form.getvalue('textcontent'))
for key in sorted(form.keys()):
    print("<p>%s=%r</p>" % (key, form.getlist(key)))
print("</body></html>")
