#!/usr/bin/python3
# The tutorial's file upload (save_file.py), reporting instead of saving:
# file name, size and sha256 of the uploaded content.
import cgi, hashlib

form = cgi.FieldStorage()
fileitem = form['filename']

print("Content-Type: text/plain")
print()
if fileitem.filename:
    data = fileitem.file.read()
    print("filename=%s" % fileitem.filename)
    print("size=%d" % len(data))
    print("sha256=%s" % hashlib.sha256(data).hexdigest())
else:
    print("no file was uploaded")
print("comment=%s" % form.getvalue("comment"))
