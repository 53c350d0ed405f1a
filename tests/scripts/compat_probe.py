#!/usr/bin/python3
# Which cgi/cgitb module does this script get, and does FieldStorage work?
import hashlib
import cgi
import cgitb

print("Content-Type: text/plain")
print()
print("cgi:", (cgi.__doc__ or "").splitlines()[0])
print("cgitb:", (cgitb.__doc__ or "").splitlines()[0])
form = cgi.FieldStorage()
for key in sorted(form.keys()):
    item = form[key]
    if isinstance(item, list):
        print(key, "=", [i.value for i in item])
    elif item.filename:
        data = item.file.read()
        print(key, "file", item.filename, len(data),
              hashlib.sha256(data).hexdigest())
    else:
        print(key, "=", item.value)
