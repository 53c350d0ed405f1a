#!/usr/bin/python3
# Script-supplied framing headers (CVE-2024-24795 area). QUERY_STRING:
#   ok     Content-Length matching the body
#   short  Content-Length smaller than the body
#   long   Content-Length larger than the body
#   te     Transfer-Encoding: chunked over a body that is not chunked
#   tecl   both Transfer-Encoding: chunked and Content-Length
#   split  a Content-Length header carrying two values
import os, sys

body = b"0123456789abcdef\n"
variant = os.environ.get("QUERY_STRING", "ok")
out = sys.stdout.buffer
out.write(b"Content-Type: text/plain\n")
if variant == "ok":
    out.write(b"Content-Length: %d\n" % len(body))
elif variant == "short":
    out.write(b"Content-Length: 5\n")
elif variant == "long":
    out.write(b"Content-Length: 1000\n")
elif variant == "te":
    out.write(b"Transfer-Encoding: chunked\n")
elif variant == "tecl":
    out.write(b"Transfer-Encoding: chunked\n")
    out.write(b"Content-Length: %d\n" % len(body))
elif variant == "split":
    out.write(b"Content-Length: %d, 5\n" % len(body))
out.write(b"X-Variant: " + variant.encode() + b"\n\n")
out.write(body)
out.flush()
