#!/usr/bin/python3
# Its source must never reach a client: HOSTILE-SOURCE-SECRET-4f1c9e
print("Content-Type: text/plain")
print()
print("hello from a script whose source is secret")
