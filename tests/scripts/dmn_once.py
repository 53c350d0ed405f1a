#!/usr/bin/python3
# Counts its own runs: QUERY_STRING is "<file>:<nonce>"; appends the
# nonce, one line, to the file (O_APPEND: one write each, whole) and
# prints it back.  A request run twice shows its nonce twice.  (Daemon
# tests.)
import os

path, _, nonce = os.environ.get("QUERY_STRING", "").rpartition(":")
fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
os.write(fd, (nonce + "\n").encode())
os.close(fd)
print("Content-Type: text/plain")
print()
print(nonce)
