#!/usr/bin/python3
# Reports the process state emb_dirty.py changes, as JSON.
import json, os, sys

import emb_sibling

main = sys.modules["__main__"]
state = {
    "pid": os.getpid(),
    "leak": os.environ.get("LEAK"),
    "argv": sys.argv,
    "path": sys.path,
    "cwd": os.getcwd(),
    "sibling": emb_sibling.VALUE,
    "sibling_file": emb_sibling.__file__,
    "module_level_seen": "MODULE_LEVEL" in globals(),
    "main_extra": getattr(main, "EXTRA", None),
    "main_is_globals": main.__dict__ is globals(),
    "globals": sorted(k for k in globals() if k not in ("json", "os", "sys",
                                                        "emb_sibling",
                                                        "main")),
}
print("Content-Type: application/json")
print()
print(json.dumps(state))
