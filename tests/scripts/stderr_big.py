#!/usr/bin/python3
# 1 MiB on stderr before any header: the server must drain stderr while
# it waits for the headers, or both sides block on full pipes.
import sys

line = "e" * 1023 + "\n"
for i in range(1024):
    sys.stderr.write(line)
sys.stderr.flush()
print("Content-Type: text/plain")
print()
print("survived 1 MiB of stderr")
