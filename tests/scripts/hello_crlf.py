#!/usr/bin/python3
# -*- coding: UTF-8 -*-
# The older tutorial variant: "\r\n\r\n" inside print(), so the body
# starts with the "\n" that print() appends.

print("Content-type:text/html\r\n\r\n")
print('<html>')
print('<head>')
print('<title>Hello Word - First CGI Program</title>')
print('</head>')
print('<body>')
print('<h2>Hello Word! This is my first CGI program</h2>')
print('</body>')
print('</html>')
