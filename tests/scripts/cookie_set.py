#!/usr/bin/python3
# Several Set-Cookie headers, one per line, as in the tutorial.

print('Set-Cookie: name="Runoob";expires=Wed, 28 Aug 2036 18:30:00 GMT')
print('Set-Cookie: session=abc123; Path=/; HttpOnly')
print('Set-Cookie: theme=dark; Max-Age=3600; SameSite=Lax')
print('Content-Type: text/html')
print()
print("""
<html>
  <head>
    <meta charset="utf-8">
    <title>cookies</title>
  </head>
    <body>
        <h1>Cookie set OK!</h1>
    </body>
</html>
""")
