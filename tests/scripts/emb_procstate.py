#!/usr/bin/python3
# Process state a script may change, for the restore test (JSON):
#   ?look     report: SIGPIPE/SIGTERM/SIGALRM dispositions as the kernel
#             has them (/proc/self/status), the real-time itimer, umask,
#             RLIMIT_NOFILE and RLIMIT_CORE, the signal mask
#   ?change   change all of them (what a CGI process may do to itself),
#             then report
import json, os, resource, signal


def mask(name):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(name + ":"):
                return int(line.split()[1], 16)
    return 0


def bit(m, sig):
    return bool(m >> (sig - 1) & 1)


def look():
    ign, cgt = mask("SigIgn"), mask("SigCgt")
    um = os.umask(0o022)
    os.umask(um)
    return {
        "pid": os.getpid(),
        "sig": {name: [bit(ign, s), bit(cgt, s)]
                for name, s in (("PIPE", signal.SIGPIPE),
                                ("TERM", signal.SIGTERM),
                                ("ALRM", signal.SIGALRM))},
        "itimer": signal.getitimer(signal.ITIMER_REAL)[0] > 0,
        "umask": um,
        "nofile": resource.getrlimit(resource.RLIMIT_NOFILE),
        "core": resource.getrlimit(resource.RLIMIT_CORE),
        "blocked": sorted(int(s) for s in
                          signal.pthread_sigmask(signal.SIG_BLOCK, [])),
    }


out = {"errors": {}}
if os.environ.get("QUERY_STRING") == "change":
    def attempt(name, fn):
        try:
            fn()
        except Exception as e:     # signal.signal outside the main thread
            out["errors"][name] = type(e).__name__
    attempt("pipe", lambda: signal.signal(signal.SIGPIPE, signal.SIG_DFL))
    attempt("term", lambda: signal.signal(signal.SIGTERM, signal.SIG_IGN))
    attempt("alrm", lambda: signal.signal(signal.SIGALRM,
                                          lambda *a: None))
    attempt("alarm", lambda: signal.setitimer(signal.ITIMER_REAL, 30))
    attempt("umask", lambda: os.umask(0o077))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    attempt("nofile", lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                                 (64, hard)))
    attempt("core", lambda: resource.setrlimit(resource.RLIMIT_CORE,
                                               (0, 0)))
    attempt("mask", lambda: signal.pthread_sigmask(signal.SIG_BLOCK,
                                                   [signal.SIGUSR2]))
out.update(look())
print("Content-Type: application/json")
print()
print(json.dumps(out))
