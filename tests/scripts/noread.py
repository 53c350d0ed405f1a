#!/usr/bin/python3
# Answers at once and never reads its (possibly huge) request body.

print("Content-Type: text/plain")
print()
print("did not read the body")
