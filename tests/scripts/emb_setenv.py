#!/usr/bin/python3
# Changes the environment the ways scripts and libraries do
# (QUERY_STRING): set (os.environ[k] = v), del (del os.environ["PATH"]),
# putenv (os.putenv), setdefault, clear (os.environ.clear()).
import json, os

how = os.environ.get("QUERY_STRING", "set")
if how == "set":
    os.environ["EMB_SETENV"] = "set-by-script"
elif how == "del":
    del os.environ["PATH"]
elif how == "putenv":
    os.putenv("EMB_SETENV", "putenv-by-script")
elif how == "setdefault":
    os.environ.setdefault("TZ", "UTC")
elif how == "clear":
    os.environ.clear()
print("Content-Type: application/json")
print()
print(json.dumps({"pid": os.getpid(), "how": how,
                  "value": os.environ.get("EMB_SETENV")}))
