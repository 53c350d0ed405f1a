#!/usr/bin/python3
# Read the request body to EOF (works without CONTENT_LENGTH, e.g. for a
# chunked request) and report its length and sha256.
import hashlib, os, sys

data = sys.stdin.buffer.read()
print("Content-Type: text/plain")
print()
print("CONTENT_LENGTH=%s" % os.environ.get("CONTENT_LENGTH", "<unset>"))
print("CONTENT_TYPE=%s" % os.environ.get("CONTENT_TYPE", "<unset>"))
print("length=%d" % len(data))
print("sha256=%s" % hashlib.sha256(data).hexdigest())
