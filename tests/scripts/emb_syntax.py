#!/usr/bin/python3
# Does not compile.  The source must never reach the client.
print("Content-Type: text/plain")
print()
SOURCE_SECRET = "emb-syntax-source-secret" (
