#!/usr/bin/python3
# The tutorial's first CGI program, as users copy it.

print("Content-type:text/html")
print()                             # blank line: end of the header block
print('<html>')
print('<head>')
print('<title>Hello Word - First CGI Program</title>')
print('</head>')
print('<body>')
print('<h2>Hello Word! This is my first CGI program</h2>')
print('</body>')
print('</html>')
