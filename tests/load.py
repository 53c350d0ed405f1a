#!/usr/bin/python3
"""Load test: mixed CGI traffic against one real apache2, every answer
checked for its own nonce.

    /usr/bin/python3 tests/load.py --mode embedded --mpm event \\
        --duration 60 --concurrency 64

`--mode` and `--mpm` take comma-separated lists; each combination gets a
server of its own, run one after the other (`make load` runs all four).
Not a pytest module (pytest collects test_*.py only): it takes minutes.

Each of --concurrency threads keeps one HTTP/1.1 keep-alive connection
and sends, chosen at random by weight:

  hello   GET hello.py?nonce=N                 -> "hello nonce=N"
  form    POST form.py, urlencoded nonce=N     -> read with cgi.FieldStorage
  upload  POST upload.py, multipart, 200 KiB   -> nonce, size and sha256
          file that starts and ends with N        of the file as received
  big     GET big.py?N: 1 MiB of output        -> exact bytes, N on the
          first and the last line
  slow    GET slow.py?nonce=N, sleeps 0.5 s    -> "slow nonce=N"

A response counts as good only with the expected status and exactly the
expected body, so a body of another request (or half of one) is caught.
Warm-up: each connection first sends one request of every kind, and the
traffic runs for at least --warmup seconds; then the VmRSS of every httpd
child is read, and again when the load stops.  Then no descendant of httpd may be a
zombie (state Z), and the error log must show no crashed child.

Exit status 0 when every combination passed, 1 otherwise.
"""

import argparse
import hashlib
import http.client
import os
import random
import re
import sys
import threading
import time
import urllib.parse
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import httpd as httpd_lib  # noqa: E402

# The scripts, written into <site>/load.  Warnings of the deprecated cgi
# module are silenced around its import only (nothing left behind).
IMPORT_CGI = """\
import warnings
with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import cgi
"""

SCRIPTS = {
    "hello.py": """\
#!/usr/bin/python3
import os
print("Content-Type: text/plain")
print()
print("hello " + os.environ.get("QUERY_STRING", ""))
""",
    "form.py": """\
#!/usr/bin/python3
%s
form = cgi.FieldStorage()
print("Content-Type: text/plain")
print()
print("nonce=%%s" %% form.getfirst("nonce", ""))
print("name=%%s" %% form.getfirst("name", ""))
""" % IMPORT_CGI,
    "upload.py": """\
#!/usr/bin/python3
import hashlib
%s
form = cgi.FieldStorage()
item = form["file"]
data = item.file.read() if item.file else item.value
print("Content-Type: text/plain")
print()
print("nonce=%%s" %% form.getfirst("nonce", ""))
print("filename=%%s" %% item.filename)
print("size=%%d" %% len(data))
print("sha256=%%s" %% hashlib.sha256(data).hexdigest())
""" % IMPORT_CGI,
    "big.py": """\
#!/usr/bin/python3
import os, sys
nonce = os.environ.get("QUERY_STRING", "")
first = ("first %s\\n" % nonce).encode()
last = ("last %s\\n" % nonce).encode()
fill = (1 << 20) - len(first) - len(last)
body = first + ((b"." * 63 + b"\\n") * (fill // 64 + 1))[:fill - 1] \\
    + b"\\n" + last
out = sys.stdout.buffer
out.write(b"Content-Type: text/plain\\n\\n")
for i in range(0, len(body), 65536):
    out.write(body[i:i + 65536])
""",
    "slow.py": """\
#!/usr/bin/python3
import os, time
time.sleep(0.5)
print("Content-Type: text/plain")
print()
print("slow " + os.environ.get("QUERY_STRING", ""))
""",
}

# Relative weights of the request kinds.
WEIGHTS = {"hello": 3, "form": 3, "upload": 2, "big": 2, "slow": 1}

UPLOAD_SIZE = 200 * 1024
BIG_SIZE = 1 << 20
BOUNDARY = "----pycgiLoadBoundary9f8e7d6c"

LOAD_CONF = """\
<Directory "@SITE@/load">
    Options +ExecCGI
    AddHandler @HANDLER@ .py
    @MODE@
</Directory>
Alias /load "@SITE@/load"
KeepAliveTimeout 15
MaxKeepAliveRequests 0
"""

# Enough workers for every connection, and no child reaped for being
# idle: the RSS of one child at the start and at the end can be
# compared, and keep-alive connections never wait for a prefork child.
MPM_CONF = {
    "prefork": """\
StartServers {n}
MinSpareServers 1
MaxSpareServers {n}
ServerLimit {n}
MaxRequestWorkers {n}
MaxConnectionsPerChild 0
""",
    "event": """\
ServerLimit {procs}
StartServers {procs}
ThreadLimit 16
ThreadsPerChild 16
MinSpareThreads 16
MaxSpareThreads {threads}
MaxRequestWorkers {threads}
MaxConnectionsPerChild 0
""",
}


def mpm_conf(mpm, concurrency):
    if mpm == "prefork":
        return MPM_CONF["prefork"].format(n=concurrency + 2)
    procs = max(2, -(-concurrency // 16))
    return MPM_CONF["event"].format(procs=procs, threads=procs * 16)


# -- the requests ------------------------------------------------------------

def _big_body(nonce):
    first = ("first nonce=%s\n" % nonce).encode()
    last = ("last nonce=%s\n" % nonce).encode()
    fill = BIG_SIZE - len(first) - len(last)
    return first + ((b"." * 63 + b"\n") * (fill // 64 + 1))[:fill - 1] \
        + b"\n" + last


class Request:
    """One request of a kind, with the body its answer must have."""

    def __init__(self, kind, filler):
        self.kind = kind
        self.nonce = uuid.uuid4().hex
        n = self.nonce
        self.headers = {}
        self.body = None
        self.method = "GET"
        if kind == "hello":
            self.path = "/load/hello.py?nonce=" + n
            self.expect = ("hello nonce=%s\n" % n).encode()
        elif kind == "slow":
            self.path = "/load/slow.py?nonce=" + n
            self.expect = ("slow nonce=%s\n" % n).encode()
        elif kind == "big":
            self.path = "/load/big.py?nonce=" + n
            self.expect = None          # built on demand: 1 MiB
        elif kind == "form":
            self.method = "POST"
            self.path = "/load/form.py"
            self.body = urllib.parse.urlencode(
                {"nonce": n, "name": "load test %s" % n}).encode()
            self.headers["Content-Type"] = \
                "application/x-www-form-urlencoded"
            self.expect = ("nonce=%s\nname=load test %s\n" % (n, n)).encode()
        elif kind == "upload":
            self.method = "POST"
            self.path = "/load/upload.py"
            data = n.encode() + filler + n.encode()
            self.body = b"".join([
                b"--%s\r\n" % BOUNDARY.encode(),
                b'Content-Disposition: form-data; name="nonce"\r\n\r\n',
                n.encode(), b"\r\n",
                b"--%s\r\n" % BOUNDARY.encode(),
                b'Content-Disposition: form-data; name="file"; '
                b'filename="f-%s.bin"\r\n' % n.encode(),
                b"Content-Type: application/octet-stream\r\n\r\n",
                data, b"\r\n",
                b"--%s--\r\n" % BOUNDARY.encode()])
            self.headers["Content-Type"] = \
                "multipart/form-data; boundary=" + BOUNDARY
            self.expect = ("nonce=%s\nfilename=f-%s.bin\nsize=%d\n"
                           "sha256=%s\n" % (n, n, len(data),
                                            hashlib.sha256(data).hexdigest())
                           ).encode()
        else:
            raise ValueError(kind)

    def check(self, body):
        """None if `body` is this request's answer, else what is wrong."""
        expect = self.expect if self.kind != "big" else _big_body(self.nonce)
        if body == expect:
            return None
        if self.nonce.encode() not in body:
            found = re.findall(rb"[0-9a-f]{32}", body[:4096])
            return "%s: own nonce missing (%d bytes; nonces seen: %s)" % (
                self.kind, len(body),
                b",".join(sorted(set(found))[:3]).decode() or "none")
        return "%s: body differs (%d bytes, expected %d): %r" % (
            self.kind, len(body), len(expect), body[:200])


class Stats:
    """Results of one phase (warm-up or measured), shared by workers."""

    def __init__(self):
        self.lock = threading.Lock()
        self.latency = {k: [] for k in WEIGHTS}
        self.bad_status = {}
        self.mismatch = []
        self.errors = []
        self.retries = 0
        self.retry_why = []

    def ok(self, kind, seconds):
        with self.lock:
            self.latency[kind].append(seconds)

    def fail(self, what, detail):
        with self.lock:
            if what == "status":
                self.bad_status[detail] = self.bad_status.get(detail, 0) + 1
            elif what == "mismatch":
                self.mismatch.append(detail)
            else:
                self.errors.append(detail)

    @property
    def count(self):
        return sum(len(v) for v in self.latency.values()) \
            + sum(self.bad_status.values()) + len(self.mismatch) \
            + len(self.errors)

    @property
    def failures(self):
        return sum(self.bad_status.values()) + len(self.mismatch) \
            + len(self.errors)


class Worker(threading.Thread):
    """One keep-alive connection sending mixed requests until stopped."""

    def __init__(self, port, seed, run):
        super().__init__(daemon=True)
        self.port = port
        self.rng = random.Random(seed)
        self.run_state = run
        self.filler = self.rng.randbytes(UPLOAD_SIZE - 64)
        self.kinds = [k for k, w in WEIGHTS.items() for _ in range(w)]
        # Every kind once first: under prefork the connection keeps its
        # child, which is then warm (imports done, code cached).
        self.first_round = list(WEIGHTS)
        self.rng.shuffle(self.first_round)
        self.warm = threading.Event()
        self.conn = None

    def _connect(self):
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                               timeout=120)

    def _exchange(self, req):
        """(status, body) over the kept connection.  A connection the
        server closed while idle is reopened once: that is keep-alive,
        not a failure."""
        for attempt in (0, 1):
            fresh = self.conn is None or self.conn.sock is None
            if self.conn is None:
                self._connect()
            try:
                self.conn.request(req.method, req.path, body=req.body,
                                  headers=req.headers)
                resp = self.conn.getresponse()
                body = resp.read()
                if resp.will_close:
                    self.conn.close()
                return resp.status, body
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError) as e:
                self.conn.close()
                self.conn = None
                if fresh or attempt:
                    raise
                stats = self.run_state.stats
                with stats.lock:
                    stats.retries += 1
                    if len(stats.retry_why) < 3:
                        stats.retry_why.append("%s after %s" % (
                            type(e).__name__, req.kind))

    def run(self):
        state = self.run_state
        while not state.stop.is_set():
            stats = state.stats
            if self.first_round:
                kind = self.first_round.pop()
            else:
                kind = self.rng.choice(self.kinds)
                self.warm.set()
            req = Request(kind, self.filler)
            t0 = time.monotonic()
            try:
                status, body = self._exchange(req)
            except (OSError, http.client.HTTPException) as e:
                stats.fail("error", "%s: %s: %s" % (req.kind,
                                                    type(e).__name__, e))
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                continue
            elapsed = time.monotonic() - t0
            if status != 200:
                stats.fail("status", "%s %d" % (req.kind, status))
                continue
            problem = req.check(body)
            if problem:
                stats.fail("mismatch", problem)
                continue
            stats.ok(req.kind, elapsed)
        self.warm.set()
        if self.conn is not None:
            self.conn.close()


class RunState:
    def __init__(self):
        self.stop = threading.Event()
        self.stats = Stats()


# -- processes ---------------------------------------------------------------

def _proc_table():
    """pid -> (ppid, state, name) for every process."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                data = f.read()
        except OSError:
            continue
        name = data[data.index("(") + 1:data.rindex(")")]
        fields = data[data.rindex(")") + 2:].split()
        table[int(entry)] = (int(fields[1]), fields[0], name)
    return table


def children(parent):
    return sorted(p for p, (pp, _, _) in _proc_table().items()
                  if pp == parent)


def descendants(parent):
    table = _proc_table()
    kids = {}
    for pid, (ppid, _, _) in table.items():
        kids.setdefault(ppid, []).append(pid)
    out, todo = [], [parent]
    while todo:
        for kid in kids.get(todo.pop(), []):
            out.append((kid,) + table[kid])
            todo.append(kid)
    return out


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def sample_rss(server):
    return {pid: rss_kib(pid) for pid in children(server.proc.pid)
            if rss_kib(pid) is not None}


def zombies(server, wait=5.0):
    """Descendants of httpd in state Z that stay so for `wait` seconds
    (a script that has just ended is a zombie until its parent reaps
    it)."""
    deadline = time.monotonic() + wait
    while True:
        found = [d for d in descendants(server.proc.pid) if d[2] == "Z"]
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


CRASH_RE = re.compile(r"AH00052|exit signal|PYCGI0504|Segmentation fault")


# -- one combination -----------------------------------------------------------

def percentile(values, q):
    if not values:
        return float("nan")
    values = sorted(values)
    k = max(0, min(len(values) - 1, int(round(q * (len(values) - 1)))))
    return values[k]


def run_combo(module, mode, mpm, args):
    site = httpd_lib.Site()
    os.makedirs(site.path("load"))
    os.chmod(site.path("load"), 0o755)
    for name, text in SCRIPTS.items():
        site.write("load/" + name, text, mode=0o755)
    label = "%s/%s" % (mode if module == "pycgi" else "mod_cgi", mpm)
    server = None
    result = {"combo": label}
    try:
        server = httpd_lib.Server(
            site, mpm=mpm, module=module,
            mode=mode if module == "pycgi" else None,
            extra_conf=mpm_conf(mpm, args.concurrency) + LOAD_CONF,
            name="load-%s-%s" % (mode, mpm))
        print("== %s: %d connections, %ds warm-up, %ds measured (server "
              "%s, log %s)" % (label, args.concurrency, args.warmup,
                               args.duration, server.conf_path,
                               server.error_log_path), flush=True)
        run = RunState()
        workers = [Worker(server.port, i, run)
                   for i in range(args.concurrency)]
        for w in workers:
            w.start()
        time.sleep(args.warmup)
        # ... and until every connection has sent each kind once.
        deadline = time.monotonic() + 300
        for w in workers:
            w.warm.wait(max(0.0, deadline - time.monotonic()))
        warm = run.stats
        rss_start = sample_rss(server)
        run.stats = Stats()
        t0 = time.monotonic()
        time.sleep(args.duration)
        run.stop.set()
        for w in workers:
            w.join(180)
        elapsed = time.monotonic() - t0
        stuck = [w for w in workers if w.is_alive()]
        rss_end = sample_rss(server)
        zomb = zombies(server)
        log = server.error_log()
        result.update(summarise(run.stats, warm, elapsed, rss_start,
                                rss_end, zomb, log, stuck))
    except httpd_lib.ServerError as e:
        result.update(failed=True, problems=["server: %s" % e])
    finally:
        if server is not None:
            if args.keep:
                server.stop()
                print("kept: %s" % server.rundir)
            else:
                server.cleanup()
        if not args.keep:
            site.remove()
    report(result)
    return result


def summarise(stats, warm, elapsed, rss_start, rss_end, zomb, log, stuck):
    all_lat = [x for v in stats.latency.values() for x in v]
    growth = {pid: rss_end[pid] - rss_start[pid]
              for pid in rss_start if pid in rss_end}
    crashes = [l for l in log.splitlines() if CRASH_RE.search(l)]
    problems = []
    for phase, st in (("warm-up", warm), ("measured", stats)):
        if st.bad_status:
            problems.append("%s: unexpected statuses %s"
                            % (phase, st.bad_status))
        for m in st.mismatch[:5]:
            problems.append("%s: wrong body: %s" % (phase, m))
        if len(st.mismatch) > 5:
            problems.append("%s: ... %d wrong bodies in all"
                            % (phase, len(st.mismatch)))
        for e in st.errors[:5]:
            problems.append("%s: transport error: %s" % (phase, e))
        if len(st.errors) > 5:
            problems.append("%s: ... %d transport errors in all"
                            % (phase, len(st.errors)))
    if not all_lat:
        problems.append("no request succeeded")
    if zomb:
        problems.append("zombies among httpd's descendants: %s"
                        % ", ".join("%d(%s, ppid %d)" % (p, n, pp)
                                    for p, pp, _, n in zomb))
    for l in crashes[:5]:
        problems.append("error log: %s" % l[:300])
    if stuck:
        problems.append("%d client threads did not finish" % len(stuck))
    return {
        "failed": bool(problems),
        "problems": problems,
        "requests": stats.count,
        "ok": len(all_lat),
        "rps": stats.count / elapsed if elapsed else 0.0,
        "p50": percentile(all_lat, 0.50),
        "p99": percentile(all_lat, 0.99),
        "by_kind": {k: (len(v), percentile(v, 0.50), percentile(v, 0.99))
                    for k, v in stats.latency.items()},
        "bad_status": sum(stats.bad_status.values())
        + sum(warm.bad_status.values()),
        "mismatch": len(stats.mismatch) + len(warm.mismatch),
        "errors": len(stats.errors) + len(warm.errors),
        "retries": stats.retries,
        "retry_why": stats.retry_why,
        "warm_requests": warm.count,
        "children": (len(rss_start), len(rss_end)),
        "rss_start_max": max(rss_start.values(), default=0),
        "rss_end_max": max(rss_end.values(), default=0),
        "rss_growth_max": max(growth.values(), default=0),
        "rss_growth_pid": max(growth, key=growth.get, default=None),
        "zombies": len(zomb),
        "crashes": len(crashes),
    }


def _ms(seconds):
    return "%.0f" % (seconds * 1000) if seconds == seconds else "-"


def report(r):
    if "requests" in r:
        print("  %-8s %8s %9s %9s" % ("kind", "ok", "p50 ms", "p99 ms"))
        for kind, (n, p50, p99) in r["by_kind"].items():
            print("  %-8s %8d %9s %9s" % (kind, n, _ms(p50), _ms(p99)))
        print("  %d requests (%d ok, %d in warm-up), %.1f req/s, "
              "p50 %s ms, p99 %s ms; %d keep-alive reconnects%s"
              % (r["requests"], r["ok"], r["warm_requests"], r["rps"],
                 _ms(r["p50"]), _ms(r["p99"]), r["retries"],
                 " (%s)" % ", ".join(r["retry_why"]) if r["retry_why"]
                 else ""))
        print("  httpd children %d -> %d, max VmRSS %.1f -> %.1f MB, "
              "max growth of one child %.1f MB (pid %s)"
              % (r["children"][0], r["children"][1],
                 r["rss_start_max"] / 1024, r["rss_end_max"] / 1024,
                 r["rss_growth_max"] / 1024, r["rss_growth_pid"]))
    for p in r.get("problems", []):
        print("  FAIL %s" % p)
    print("  => %s" % ("FAILED" if r.get("failed") else "ok"), flush=True)


def table(results):
    cols = ("combo", "req/s", "p50 ms", "p99 ms", "requests", "bad st",
            "wrong", "errors", "RSS +MB", "zombies", "crashes", "result")
    rows = []
    for r in results:
        if "requests" not in r:
            rows.append((r["combo"],) + ("-",) * 10 + ("FAILED",))
            continue
        rows.append((r["combo"], "%.1f" % r["rps"], _ms(r["p50"]),
                     _ms(r["p99"]), str(r["requests"]),
                     str(r["bad_status"]), str(r["mismatch"]),
                     str(r["errors"]), "%.1f" % (r["rss_growth_max"] / 1024),
                     str(r["zombies"]), str(r["crashes"]),
                     "FAILED" if r["failed"] else "ok"))
    widths = [max(len(c), *(len(row[i]) for row in rows))
              for i, c in enumerate(cols)]
    line = "  ".join("%-*s" % (w, c) for w, c in zip(widths, cols))
    print("\n" + line)
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join("%-*s" % (w, c) for w, c in zip(widths, row)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mode", default="embedded",
                    help="exec, daemon, embedded, auto, comma separated "
                         "(default embedded)")
    ap.add_argument("--mpm", default="event",
                    help="prefork, event, comma separated (default event)")
    ap.add_argument("--module", default="pycgi", choices=("pycgi", "cgi"),
                    help="cgi: stock mod_cgi, for comparison")
    ap.add_argument("--duration", type=float, default=60,
                    help="measured seconds (default 60)")
    ap.add_argument("--warmup", type=float, default=5,
                    help="seconds of traffic before the first RSS sample "
                         "(default 5)")
    ap.add_argument("--concurrency", type=int, default=64,
                    help="connections, one thread each (default 64)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the server's run directory and site")
    args = ap.parse_args(argv)
    modes = [m.strip() for m in args.mode.split(",") if m.strip()]
    mpms = [m.strip() for m in args.mpm.split(",") if m.strip()]
    for m in modes:
        if m not in ("exec", "embedded", "daemon", "auto"):
            ap.error("bad --mode %r" % m)
    for m in mpms:
        if m not in ("prefork", "event"):
            ap.error("bad --mpm %r" % m)
    if args.module == "cgi":
        modes = ["exec"]
    if os.geteuid() != 0:
        ap.error("run as root: apache2 starts as root and drops to "
                 "www-data")
    results = [run_combo(args.module, mode, mpm, args)
               for mpm in mpms for mode in modes]
    table(results)
    return 1 if any(r.get("failed") for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
