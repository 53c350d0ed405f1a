#!/usr/bin/python3
# The tutorial's GET form handler (hello_get.py).
import cgi, cgitb

form = cgi.FieldStorage()

first_name = form.getvalue('first_name')
last_name = form.getvalue('last_name')

print("Content-type:text/html")
print()
print("<html>")
print("<head>")
print("<meta charset=\"utf-8\">")
print("<title>Hello - Second CGI Program</title>")
print("</head>")
print("<body>")
print("<h2>Hello %s %s</h2>" % (first_name, last_name))
for key in sorted(form.keys()):
    print("<p>%s=%r</p>" % (key, form.getlist(key)))
print("</body>")
print("</html>")
