#!/usr/bin/python3
"""What a CGI process sees of itself, as JSON (docstring kept on purpose)."""
import json, locale, os, sys

names_at_start = sorted(globals())
print("Content-Type: application/json")
print()
print(json.dumps({
    "env": dict(os.environ),
    "cwd": os.getcwd(),
    "argv": sys.argv,
    "path0": sys.path[0],
    "name": __name__,
    "file": __file__,
    "doc": __doc__,
    "globals_at_start": names_at_start,
    "main_is_globals": sys.modules["__main__"].__dict__ is globals(),
    "stdout": [sys.stdout.encoding, sys.stdout.errors],
    "stdin": [sys.stdin.encoding, sys.stdin.errors],
    "stderr": [sys.stderr.encoding, sys.stderr.errors],
    "fsencoding": sys.getfilesystemencoding(),
    "preferred": locale.getpreferredencoding(False),
    "utf8_mode": sys.flags.utf8_mode,
    "executable": sys.executable,
    "umask": [l.split()[1] for l in open("/proc/self/status")
              if l.startswith("Umask:")][0],
}))
