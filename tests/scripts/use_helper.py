#!/usr/bin/python3
# Imports a module from its own directory, as multi-file CGI apps do.
import pycgi_helper

print("Content-Type: text/plain")
print()
print("helper=%s" % pycgi_helper.WHERE)
