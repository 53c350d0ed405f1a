#!/usr/bin/python3
# cgi.FieldStorage over whatever was posted: every field, files reported
# by name, size and sha256.
import cgi, hashlib, json

form = cgi.FieldStorage()
out = {}
for key in sorted(form.keys()):
    item = form[key]
    if isinstance(item, list):
        out[key] = [i.value for i in item]
    elif item.filename:
        data = item.file.read()
        out[key] = {"filename": item.filename, "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest()}
    else:
        out[key] = item.value
print("Content-Type: application/json")
print()
print(json.dumps(out, sort_keys=True))
