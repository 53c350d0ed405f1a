#!/usr/bin/python3
# -*- coding: UTF-8 -*-
#
# save_file.py - receive a file from a multipart/form-data form and save
# it under /tmp (a directory the web server user can always write to).

import cgi, os
import cgitb; cgitb.enable()
import html

form = cgi.FieldStorage()

message = 'No file was uploaded'
if 'filename' in form:
    fileitem = form['filename']
    if fileitem.filename:
        # Keep only the last path component: browsers on Windows may send
        # "C:\\Users\\me\\a.txt", and nobody may write outside /tmp.
        fn = os.path.basename(fileitem.filename.replace('\\', '/'))
        if fn in ('', '.', '..'):
            fn = 'upload.bin'
        path = os.path.join('/tmp', fn)
        data = fileitem.file.read()
        with open(path, 'wb') as out:
            out.write(data)
        message = 'The file "%s" was uploaded successfully (%d bytes)' % (fn, len(data))

print("""\
Content-Type: text/html

<html>
<head>
<meta charset="utf-8">
<title>File upload</title>
</head>
<body>
   <p>%s</p>
</body>
</html>
""" % html.escape(message))
