#!/usr/bin/python3
# Non-ASCII text through plain print(): relies on the interpreter's
# stdout encoding being UTF-8 with no LANG in the CGI environment.

print("Content-type:text/html")
print()
print('<html>')
print('<head>')
print('<meta charset="utf-8">')
print('<title>Hello Word - 我的第一个 CGI 程序！</title>')
print('</head>')
print('<body>')
print('<h2>Hello Word! 我是第一个CGI程序 – ünïcödé ✓</h2>')
print('</body>')
print('</html>')
