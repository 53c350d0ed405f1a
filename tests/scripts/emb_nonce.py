#!/usr/bin/python3
# Reads its request's identity, sleeps 0.2 s, reads it again: another
# request running meanwhile must not change it.
import json, os, sys, time

before = [os.environ.get("QUERY_STRING"), list(sys.argv), os.getcwd()]
time.sleep(0.2)
print("Content-Type: application/json")
print()
print(json.dumps({"query": os.environ.get("QUERY_STRING"),
                  "env_nonce": os.environ.get("HTTP_X_NONCE"),
                  "argv": sys.argv, "cwd": os.getcwd(), "before": before,
                  "pid": os.getpid()}))
