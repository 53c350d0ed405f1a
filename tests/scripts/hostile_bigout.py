#!/usr/bin/python3
# Writes QUERY_STRING mebibytes of a fixed 64 KiB pattern (bytes 0..255
# repeated), as fast as it can.  X-Httpd-Child names the httpd process
# that relays the output: this process when embedded, else our parent
# (not sent from a daemon worker, whose parent is no httpd child).
import os, sys

mib = int(os.environ.get("QUERY_STRING") or "1")
exe = os.readlink("/proc/self/exe")
embedded = exe.endswith("apache2")
out = sys.stdout.buffer
out.write(b"Content-Type: application/octet-stream\r\n")
if not exe.endswith("pycgi-worker"):
    out.write(b"X-Httpd-Child: %d\r\n"
              % (os.getpid() if embedded else os.getppid()))
out.write(b"\r\n")
out.flush()
chunk = bytes(range(256)) * 256
for _ in range(mib * 16):
    out.write(chunk)
