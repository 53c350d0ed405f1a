#!/usr/bin/python3
# PyCGIIsolation fork tests: what one forked script process sees, and
# what it may leave behind.  QUERY_STRING names the action:
#   who    JSON: pid, parent pid and its comm, open fds, whether a pool
#          segment (memfd) is mapped, json.dumps patched?, SIGTERM's
#          handler, umask, whether email.mime.text was imported before
#          this script ran, rlimits
#   dirty  patch json.dumps, ignore SIGTERM, umask 0, leave a daemon
#          thread sleeping, then answer
#   learn  import email.mime.text (a library module) and answer
#   spin   burn CPU (RLimitCPU ends it)
#   term   ignore nothing: on SIGTERM write "term" to the file named by
#          the second item, then exit 0; meanwhile sleep silently
#   abort  os.abort() after the headers
import json, os, signal, sys, threading, time

q = os.environ.get("QUERY_STRING", "who").split("&")
act = q[0]
learned = "email.mime.text" in sys.modules

if act == "dirty":
    json.dumps = lambda *a, **k: "patched"
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.umask(0)
    threading.Thread(target=time.sleep, args=(3600,), daemon=True).start()
elif act == "learn":
    import email.mime.text  # noqa: F401
elif act == "spin":
    print("Content-Type: text/plain\n", flush=True)
    while True:
        pass
elif act == "term":
    def bye(sig, frame):
        with open(q[1], "w") as f:
            f.write("term %d\n" % os.getpid())
        os._exit(0)
    signal.signal(signal.SIGTERM, bye)
    time.sleep(60)
elif act == "abort":
    print("Content-Type: text/plain\n", flush=True)
    os.abort()

def comm(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError as e:
        return repr(e)

with open("/proc/self/maps") as f:
    maps = f.read()
import resource
fds = {}
for n in os.listdir("/proc/self/fd"):
    try:
        fds[n] = os.readlink("/proc/self/fd/" + n)
    except OSError:
        pass    # the listing's own descriptor, gone already
print("Content-Type: application/json")
print()
print(json.dumps({
    "pid": os.getpid(),
    "ppid": os.getppid(),
    "pcomm": comm(os.getppid()),
    "fds": fds,
    "memfd": "memfd:" in maps,
    "patched": json.dumps(1) == "patched",
    "sigterm": str(signal.getsignal(signal.SIGTERM)),
    "umask": os.umask(0o022),
    "learned": learned,
    "threads": threading.active_count(),
    "cpu": resource.getrlimit(resource.RLIMIT_CPU)[0],
}))
