#!/usr/bin/python3
# What a script can do to its std streams, for the stream-reuse tests
# (QUERY_STRING picks one; every case answers JSON):
#   view        report the streams' identity and configuration
#   look        the same, and stdin's text read through sys.stdin
#   stash       keep references to the streams in a library module
#   use_stash   write, read and flush through the stashed references
#   reconfig_out / reconfig_err / reconfig_in / encoding / attr /
#   wrap / pending_exit    change the streams (see below)
import io, json, os, string, sys

how = os.environ.get("QUERY_STRING", "look")
out = {"pid": os.getpid(), "how": how}


def view():
    return {
        "ids": [id(sys.stdin), id(sys.stdout), id(sys.stderr)],
        "types": [type(s).__name__ for s in (sys.stdin, sys.stdout,
                                             sys.stderr)],
        "stdout": [sys.stdout.encoding, sys.stdout.errors,
                   sys.stdout.line_buffering, sys.stdout.write_through],
        "stderr": [sys.stderr.encoding, sys.stderr.errors,
                   sys.stderr.line_buffering],
        "stdin": [sys.stdin.encoding, sys.stdin.errors],
        "attr": getattr(sys.stdout, "pycgi_test_attr", None),
    }


def attempt(fn):
    try:
        fn()
        return "ok"
    except Exception as e:
        return type(e).__name__


if how == "view":
    out.update(view())
elif how == "look":
    out.update(view())
    out["body"] = sys.stdin.read()
elif how == "stash":
    string.pycgi_stash = (sys.stdin, sys.stdout, sys.stdout.buffer,
                          sys.stderr, sys.stdin.buffer)
    out.update(view())
elif how == "use_stash":
    stash = getattr(string, "pycgi_stash", None)
    del string.pycgi_stash
    sin, sout, sbuf, serr, sinbuf = stash
    out["stale_is_current"] = [sin is sys.stdin, sout is sys.stdout,
                               serr is sys.stderr]
    out["write"] = attempt(lambda: (sout.write("LEAK-TEXT\n"),
                                    sout.flush()))
    out["write_buffer"] = attempt(lambda: sbuf.write(b"LEAK-BYTES\n"))
    out["write_err"] = attempt(lambda: serr.write("LEAK-ERR\n"))
    out["read"] = attempt(lambda: sin.read())
    out["read_buffer"] = attempt(lambda: sinbuf.read())
    out.update(view())
elif how == "reconfig_out":
    # Headers go out first; the newline change applies to the body.
    print("Content-Type: application/json")
    print(flush=True)
    sys.stdout.reconfigure(newline="\r\n")
    print(json.dumps(out))
    sys.exit(0)
elif how == "reconfig_err":
    sys.stderr.reconfigure(errors="strict", line_buffering=False)
elif how == "reconfig_in":
    # Never reads: only the configuration changes.
    sys.stdin.reconfigure(newline="")
elif how == "encoding":
    sys.stdout.reconfigure(encoding="latin-1")
elif how == "attr":
    sys.stdout.pycgi_test_attr = "leaked"
elif how == "wrap":
    sys.stdout = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8")
elif how == "pending_exit":
    print("Content-Type: text/plain")
    print()
    print("PENDING-LOST")          # left in the text buffer
    os._exit(0)

print("Content-Type: application/json")
print()
print(json.dumps(out))
