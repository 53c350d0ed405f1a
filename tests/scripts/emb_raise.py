#!/usr/bin/python3
# Raises an uncaught exception, before any output (?before) or after the
# headers and part of the body, without flushing (?after).
import os

SECRET_LOCAL = "emb-raise-local-secret"
if os.environ.get("QUERY_STRING") == "after":
    print("Content-Type: text/plain")
    print()
    print("partial body")
raise ValueError("emb_raise failure marker")
