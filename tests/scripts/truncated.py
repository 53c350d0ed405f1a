#!/usr/bin/python3
# Headers but no blank line ending the block, then exit.

print("Content-Type: text/plain")
print("X-Truncated: yes")
