#!/usr/bin/python3
# Which /proc files of a process the script can open, as JSON
# {name: "ok" or the error}: its own (no QUERY_STRING), or those of the
# process whose pid QUERY_STRING gives.
import json, os

who = os.environ.get("QUERY_STRING") or "self"
out = {}
for name in ("environ", "mem", "auxv", "maps", "status"):
    try:
        with open("/proc/%s/%s" % (who, name), "rb") as f:
            if name != "mem":   # offset 0 of mem is unmapped: EIO
                f.read(1)
        out[name] = "ok"
    except OSError as e:
        out[name] = e.strerror
try:
    os.listdir("/proc/%s/fd" % who)
    out["fd"] = "ok"
except OSError as e:
    out["fd"] = e.strerror
print("Content-Type: application/json")
print()
print(json.dumps(out, sort_keys=True))
