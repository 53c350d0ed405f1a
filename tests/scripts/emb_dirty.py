#!/usr/bin/python3
# Changes process state a CGI process may freely change, and says so;
# emb_clean.py, run next by the same process, must see none of it.
# QUERY_STRING: comma-separated aspects (default: all of them):
#   env (os.environ["LEAK"] = "x", which calls putenv()), argv, path,
#   cwd, sibling (a global of a module from the script's directory),
#   main (an attribute of __main__), global (a module-level variable).
import json, os, sys

import emb_sibling

ALL = "env,argv,path,cwd,sibling,main,global"
aspects = (os.environ.get("QUERY_STRING") or ALL).split(",")
if "global" in aspects:
    MODULE_LEVEL = "dirty"
if "sibling" in aspects:
    emb_sibling.VALUE = "dirty"
if "env" in aspects:
    os.environ["LEAK"] = "x"
if "argv" in aspects:
    sys.argv.append("leaked-arg")
if "path" in aspects:
    sys.path.append("/leaked/path")
if "cwd" in aspects:
    os.chdir("/tmp")
if "main" in aspects:
    sys.modules["__main__"].EXTRA = "dirty"
print("Content-Type: application/json")
print()
print(json.dumps({"pid": os.getpid(), "cwd": os.getcwd(),
                  "leak": os.environ.get("LEAK"),
                  "argv": sys.argv[1:],
                  "sibling": emb_sibling.VALUE}))
