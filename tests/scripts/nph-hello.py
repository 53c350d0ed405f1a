#!/usr/bin/python3
# A non-parsed-header script: it writes the whole HTTP response head itself.
import sys

out = sys.stdout.buffer
out.write(b"HTTP/1.0 200 OK\r\n")
out.write(b"Content-Type: text/plain\r\n")
out.write(b"X-NPH: yes\r\n")
out.write(b"\r\n")
out.write(b"hello from an nph script\n")
out.flush()
