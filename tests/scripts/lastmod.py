#!/usr/bin/python3
# Validators for conditional GET: httpd compares them with
# If-Modified-Since / If-None-Match and turns the answer into a 304.

print("Content-Type: text/plain")
print("Last-Modified: Wed, 01 Jan 2020 00:00:00 GMT")
print("Expires: Thu, 01 Jan 2037 00:00:00 GMT")
print('ETag: "pycgi-lastmod-1"')
print()
print("a body that a 304 must not carry")
