#!/usr/bin/python3
# -*- coding: UTF-8 -*-
#
# hello.py - the first CGI program.
# A CGI script prints its headers, then an empty line, then the page.

print("Content-type:text/html")
print()                             # empty line: the headers end here
print('<html>')
print('<head>')
print('<meta charset="utf-8">')
print('<title>Hello World - First CGI Program</title>')
print('</head>')
print('<body>')
print('<h2>Hello World! This is my first CGI program</h2>')
print('<p>你好，世界！这是我的第一个 CGI 程序。</p>')
print('</body>')
print('</html>')
