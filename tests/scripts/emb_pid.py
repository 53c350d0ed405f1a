#!/usr/bin/python3
# Who runs this script, as JSON: pid, parent pid, program, whether json
# was already imported when the script started.
import sys

json_preloaded = "json" in sys.modules
import json, os

print("Content-Type: application/json")
print()
print(json.dumps({"pid": os.getpid(), "ppid": os.getppid(),
                  "exe": os.readlink("/proc/self/exe"),
                  "json_preloaded": json_preloaded,
                  "marker": getattr(json, "emb_marker", None)}))
