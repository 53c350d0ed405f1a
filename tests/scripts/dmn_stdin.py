#!/usr/bin/python3
# Reads stdin to EOF through sys.stdin.buffer and reports, as JSON, the
# length and sha256 of what it read and sys.stdin.fileno().
import hashlib, json, os, sys

data = sys.stdin.buffer.read()
print("Content-Type: application/json")
print()
print(json.dumps({"length": len(data),
                  "sha256": hashlib.sha256(data).hexdigest(),
                  "fileno": sys.stdin.fileno(),
                  "content_length": os.environ.get("CONTENT_LENGTH"),
                  "pid": os.getpid()}))
