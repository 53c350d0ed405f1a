#!/usr/bin/python3
# cgitb.enable() then a crash: the script asks for its traceback page.
import cgitb
cgitb.enable()

print("Content-Type: text/html")
print()
secret_local = "<b>visible-local</b>"
print(1 / 0)
