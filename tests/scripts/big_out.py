#!/usr/bin/python3
# N MiB of deterministic binary output, N from QUERY_STRING (default 1).
import os, sys

mib = int(os.environ.get("QUERY_STRING") or "1")
block = bytes(range(256)) * 4096          # 1 MiB
print("Content-Type: application/octet-stream")
print("X-Size-MiB: %d" % mib)
print()
sys.stdout.flush()
for i in range(mib):
    sys.stdout.buffer.write(block[i % 256:] + block[:i % 256])
sys.stdout.buffer.flush()
