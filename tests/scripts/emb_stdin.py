#!/usr/bin/python3
# Reads the request body through the stdin API named by QUERY_STRING and
# reports what it got as JSON.
import hashlib, json, os, sys

how = os.environ.get("QUERY_STRING", "read")
if how == "read":
    parts = [sys.stdin.read()]
elif how == "readn":
    parts = [sys.stdin.read(5), sys.stdin.read(7), sys.stdin.read()]
elif how == "readline":
    parts = []
    while True:
        line = sys.stdin.readline()
        if not line:
            break
        parts.append(line)
elif how == "readlines":
    parts = sys.stdin.readlines()
elif how == "iter":
    parts = [line for line in sys.stdin]
elif how == "buffer":
    parts = [sys.stdin.buffer.read().decode("latin-1")]
elif how == "buffer_readn":
    parts = []
    while True:
        piece = sys.stdin.buffer.read(1000)
        if not piece:
            break
        parts.append(piece.decode("latin-1"))
    parts = ["".join(parts)]
elif how == "clen":
    n = int(os.environ.get("CONTENT_LENGTH") or 0)
    parts = [sys.stdin.read(n)]
print("Content-Type: application/json")
print()
text = "".join(parts)
print(json.dumps({"parts": parts if len(text) < 4096 else len(parts),
                  "length": len(text),
                  "sha256": hashlib.sha256(text.encode("utf-8",
                                                       "surrogateescape"))
                  .hexdigest()}))
