#!/usr/bin/python3
# Fetches hello.py from its own server over HTTP (127.0.0.1:SERVER_PORT,
# the script's own directory, or the path in QUERY_STRING) and reports
# the status, the body and the time it took.
import os, time, urllib.request

url = "http://127.0.0.1:%s%s" % (
    os.environ["SERVER_PORT"], os.environ.get("QUERY_STRING") or
    os.path.dirname(os.environ["SCRIPT_NAME"]) + "/hello.py")
t0 = time.monotonic()
with urllib.request.urlopen(url, timeout=20) as resp:
    body = resp.read().decode("utf-8", "replace")
    status = resp.status
print("Content-Type: text/plain")
print()
print("status=%d" % status)
print("seconds=%.3f" % (time.monotonic() - t0))
print("hello=%s" % ("Hello" in body or "hello" in body))
