#!/usr/bin/python3
# Keeps sys.stdout.buffer and sys.stderr in a library module the first
# time it runs in a process, as Mercurial's procutil keeps
# sys.stdout.buffer from import time, and answers through the kept
# objects every time.  QUERY_STRING is echoed in the body and on stderr.
import os, string, sys

if not hasattr(string, "pycgi_keep"):
    string.pycgi_keep = (sys.stdout.buffer, sys.stderr, sys.stdin.buffer)
out, err, inp = string.pycgi_keep
query = os.environ.get("QUERY_STRING", "")
body = inp.read() if os.environ.get("REQUEST_METHOD") == "POST" else b""
out.write(b"Content-Type: text/plain\n\n")
out.write(("kept %s pid=%d body=%s\n" % (query, os.getpid(),
                                         body.decode())).encode())
out.flush()
err.write("emb-keep %s\n" % query)
err.flush()
