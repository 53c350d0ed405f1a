#!/usr/bin/python3
# Compares os.environb with os.environ (decoded with os.fsdecode) and
# reports, as JSON, the differences and both views of the request's
# REQUEST_METHOD and QUERY_STRING.
import json, os

b = {os.fsdecode(k): os.fsdecode(v) for k, v in os.environb.items()}
s = dict(os.environ)
print("Content-Type: application/json")
print()
print(json.dumps({
    "only_environ": sorted(set(s) - set(b)),
    "only_environb": sorted(set(b) - set(s)),
    "differ": sorted(k for k in set(s) & set(b) if s[k] != b[k]),
    "keys": len(s),
    "REQUEST_METHOD": [s.get("REQUEST_METHOD"),
                       os.fsdecode(os.environb.get(b"REQUEST_METHOD", b"-"))],
    "QUERY_STRING": [s.get("QUERY_STRING"),
                     os.fsdecode(os.environb.get(b"QUERY_STRING", b"-"))],
    "getenv": os.getenv("QUERY_STRING"),
}))
