#!/usr/bin/python3
# An absolute Location: httpd answers 302 with it.

print("Location: http://example.invalid/x")
print("X-Redirect: external")
print()
