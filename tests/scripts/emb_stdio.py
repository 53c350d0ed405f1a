#!/usr/bin/python3
# What a script can do to its std streams, for the stream-reuse tests
# (QUERY_STRING picks one; every case answers JSON):
#   view        report the streams' identity and configuration
#   look        the same, and stdin's text read through sys.stdin
#   stash       keep references to the streams in a library module
#   use_stash   write, read and flush through the stashed references
#               (headers first, then their output, then one JSON line)
#   reconfig_out / reconfig_err / reconfig_in / encoding / attr /
#   wrap / pending_exit    change the streams (see below)
#   partial_bytes / partial_text / readline   read part of the body
#   form        cgi.FieldStorage() of a urlencoded POST
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
        "newlines": sys.stdin.newlines,
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
    # Headers first: the stashed streams serve this request, as a
    # process's own fds would (one JSON line follows their output).
    stash = getattr(string, "pycgi_stash", None)
    del string.pycgi_stash
    sin, sout, sbuf, serr, sinbuf = stash
    print("Content-Type: application/json")
    print(flush=True)
    out["stale_is_current"] = [sin is sys.stdin, sout is sys.stdout,
                               serr is sys.stderr]
    out["write"] = attempt(lambda: (sout.write("STASH-TEXT\n"),
                                    sout.flush()))
    out["write_buffer"] = attempt(lambda: sbuf.write(b"STASH-BYTES\n"))
    out["write_err"] = attempt(lambda: serr.write("STASH-ERR\n"))
    out["read"] = attempt(lambda: out.__setitem__("got", sin.read()))
    out["read_buffer"] = attempt(lambda: sinbuf.read())
    out.update(view())
    sys.stdout.flush()
    print(json.dumps(out))
    sys.exit(0)
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
elif how == "partial_bytes":
    out["got"] = sys.stdin.buffer.read(5).decode("latin-1")
elif how == "partial_text":
    out["got"] = sys.stdin.read(3)
elif how == "readline":
    out["got"] = sys.stdin.readline()
elif how == "form":
    import cgi
    form = cgi.FieldStorage()
    out["nonce"] = form.getfirst("nonce")
    out.update(view())
elif how == "pending_exit":
    print("Content-Type: text/plain")
    print()
    print("PENDING-LOST")          # left in the text buffer
    os._exit(0)

print("Content-Type: application/json")
print()
print(json.dumps(out))
