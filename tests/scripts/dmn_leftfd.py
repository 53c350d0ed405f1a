#!/usr/bin/python3
# Leaves file objects over fds 0, 1 and 2 behind: sys.stdin reopened on
# fd 0, module globals on fds 1 and 2.  A daemon worker's clean-up frees
# them after the request, which closes those fds.  (Daemon tests.)
import sys

sys.stdin = open(0, encoding="latin-1")
out = open(1, "wb", buffering=0)
err = open(2, "wb", buffering=0)
out.write(b"Content-Type: text/plain\r\n\r\nleft\n")
