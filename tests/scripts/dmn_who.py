#!/usr/bin/python3
# Which process runs this script, as JSON: pid, parent, comm, exe,
# argv[0] of the process, uid; plus the query string.  (Daemon tests.)
import json, os

def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        return repr(e).encode()

print("Content-Type: application/json")
print()
print(json.dumps({
    "pid": os.getpid(),
    "ppid": os.getppid(),
    "comm": read("/proc/self/comm").decode("utf-8", "replace").strip(),
    "exe": os.readlink("/proc/self/exe"),
    "argv0": read("/proc/self/cmdline").split(b"\0")[0].decode(
        "utf-8", "replace"),
    "uid": os.getuid(),
    "query": os.environ.get("QUERY_STRING"),
}))
