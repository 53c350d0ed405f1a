#!/usr/bin/python3
# Answers, leaving a daemon thread that for 3 s tries to write into
# whatever request is running (print, the stdout and stderr it kept) and
# swallows the SystemExit the runner raises in it.  What it saw is kept
# in the module `string`.
#   ?state   report what the leftover thread saw
import json, os, string, sys, threading, time

if os.environ.get("QUERY_STRING") == "state":
    t = getattr(string, "pycgi_leftover_thread", None)
    print("Content-Type: application/json")
    print()
    print(json.dumps({"pid": os.getpid(),
                      "seen": getattr(string, "pycgi_leftover", None),
                      "alive": t is not None and t.is_alive()}))
    sys.exit(0)

print("Content-Type: text/plain")
print()
print("answered", flush=True)
kept_out = sys.stdout.buffer
kept_err = sys.stderr
seen = string.pycgi_leftover = {"ok": 0, "refused": 0, "exits": 0,
                                "ok_after_exit": 0, "ended": False}


started = threading.Event()


# Everything it uses is bound here: the runner empties the script's
# globals when the request ends.
def linger(seen=seen, started=started, kept_out=kept_out,
           kept_err=kept_err, time=time, threading=threading):
    try:
        started.set()
        # The request ends meanwhile: SystemExit lands here.
        threading.Event().wait(0.5)
    except SystemExit:
        seen["exits"] += 1
    end = time.monotonic() + 3
    while time.monotonic() < end:
        try:
            time.sleep(0.02)
            # print() finds whatever sys.stdout is now (between requests
            # the interpreter's own); the kept streams are its request's.
            for kept, write in (
                    (False, lambda: print("LEFTOVER-LEAK", flush=True)),
                    (True, lambda: kept_out.write(b"LEFTOVER-LEAK\n")),
                    (True, lambda: kept_err.write("LEFTOVER-ERR\n"))):
                try:
                    write()
                    seen["ok"] += 1
                    if kept and seen["exits"]:
                        # After its SystemExit: its request had ended.
                        seen["ok_after_exit"] += 1
                except ValueError:
                    seen["refused"] += 1
        except SystemExit:
            seen["exits"] += 1
    seen["ended"] = True


t = string.pycgi_leftover_thread = threading.Thread(target=linger,
                                                    daemon=True)
t.start()
started.wait()
