#!/usr/bin/python3
"""Soak test: does an embedded interpreter's memory grow with requests?

    /usr/bin/python3 tools/soak.py [--mpm prefork,event] [--requests N]

For each MPM, one apache2 with a single child process (prefork: one
child; event: one process of 8 threads) runs the tutorial scripts of
examples/ embedded: hello.py, test.py, a form POST to hello_get.py and
cookie_set.py, in turn on every wrk connection.  After --warmup requests
(5,000) the child's VmRSS is read, then after --requests more (100,000)
again.  The growth is printed per MPM; the exit status is 1 if it reaches
--max-growth-mb (5) for any MPM, or if a request failed, the child was
replaced (a crash or a recycle would make the numbers meaningless), or
the scripts did not run embedded.

wrk (tools/deps.sh) sends the requests over keep-alive connections; its
Lua script stops each thread after its share, see WRK_LUA.
"""

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests"))

import httpd as httpd_lib  # noqa: E402

EXAMPLES = os.path.join(REPO, "examples")
WRK = "/usr/bin/wrk"

# One child process, never replaced.
MPM_CONF = {
    "prefork": """\
StartServers 1
MinSpareServers 1
MaxSpareServers 1
MaxRequestWorkers 1
MaxConnectionsPerChild 0
""",
    "event": """\
ServerLimit 1
StartServers 1
ThreadLimit 8
ThreadsPerChild 8
MinSpareThreads 1
MaxSpareThreads 8
MaxRequestWorkers 8
MaxConnectionsPerChild 0
""",
}

# wrk threads and connections.  Under event, fewer connections than
# worker threads: with every worker busy, event closes idle keep-alive
# connections, and wrk counts the requests it had sent on them as read
# errors (static files too).
WRK_LOAD = {"prefork": (1, 1), "event": (2, 6)}

SOAK_CONF = """\
<Directory "@SITE@/examples">
    Options +ExecCGI
    AddHandler @HANDLER@ .py
    @MODE@
</Directory>
Alias /examples "@SITE@/examples"
KeepAliveTimeout 30
MaxKeepAliveRequests 0
"""

# Tells whether the examples directory runs scripts embedded.
PROBE = """\
#!/usr/bin/python3
import os
print("Content-Type: text/plain")
print()
print("exe=%s" % os.readlink("/proc/self/exe"))
"""

# Every thread sends the four requests in turn and stops after its
# share (args[1]); it then says so on stdout, so that soak.py can end
# wrk at once instead of waiting out -d.  done() sums the threads'
# counters.
WRK_LUA = r"""
threads = {}

function setup(thread)
    table.insert(threads, thread)
end

function init(args)
    quota = tonumber(args[1])
    count = 0
    bad = 0
    i = 0
    local form = "first_name=Ada&last_name=Lovelace"
    reqs = {
        wrk.format("GET", "/examples/hello.py"),
        wrk.format("GET", "/examples/test.py"),
        wrk.format("POST", "/examples/hello_get.py",
                   {["Content-Type"] = "application/x-www-form-urlencoded"},
                   form),
        wrk.format("GET", "/examples/cookie_set.py"),
    }
end

function request()
    i = i % #reqs + 1
    return reqs[i]
end

function response(status, headers, body)
    count = count + 1
    if status ~= 200 then
        bad = bad + 1
    end
    if count == quota then
        io.write("SOAK-THREAD-DONE\n")
        io.stdout:flush()
        wrk.thread:stop()
    end
end

function done(summary, latency, requests)
    local total, nbad = 0, 0
    for _, t in ipairs(threads) do
        total = total + t:get("count")
        nbad = nbad + t:get("bad")
    end
    local e = summary.errors
    io.write(string.format(
        "SOAK-RESULT count=%d bad=%d connect=%d read=%d write=%d " ..
        "timeout=%d\n", total, nbad, e.connect, e.read, e.write, e.timeout))
end
"""


def children(parent):
    kids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                data = f.read()
        except OSError:
            continue
        if int(data[data.rindex(")") + 2:].split()[1]) == parent:
            kids.append(int(entry))
    return sorted(kids)


def vmrss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS for pid %d" % pid)


def sample(server):
    return {pid: vmrss_kib(pid) for pid in children(server.proc.pid)}


def run_wrk(port, lua, total, threads, conns):
    """Send `total` requests (rounded up to a multiple of `threads`);
    returns (requests, non-200, {socket error kind: count}, seconds)."""
    quota = -(-total // threads)
    cmd = [WRK, "-t%d" % threads, "-c%d" % conns, "-d3600s", "--timeout",
           "60s", "-s", lua, "http://127.0.0.1:%d/" % port, "--",
           str(quota)]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    out, done = [], 0
    for line in proc.stdout:
        out.append(line)
        if line.startswith("SOAK-THREAD-DONE"):
            done += 1
            if done == threads:
                # Every thread has stopped: end wrk's sleep(-d) now;
                # it still prints its summary and calls done().
                proc.send_signal(signal.SIGINT)
    proc.wait()
    elapsed = time.monotonic() - t0
    text = "".join(out)
    m = re.search(r"SOAK-RESULT count=(\d+) bad=(\d+) connect=(\d+) "
                  r"read=(\d+) write=(\d+) timeout=(\d+)", text)
    if not m:
        raise RuntimeError("wrk gave no result:\n" + text)
    count, bad = int(m.group(1)), int(m.group(2))
    sock = dict(zip(("connect", "read", "write", "timeout"),
                    map(int, m.groups()[2:])))
    return count, bad, sock, elapsed


def check_wrk(phase, bad, sock, problems):
    """Non-200 answers, failed connects and timeouts fail the run.  A
    read or write error is a keep-alive connection the server closed
    as wrk sent on it (wrk does not retry): reported only, since a
    crashed or replaced child fails the run anyway."""
    if bad or sock["connect"] or sock["timeout"]:
        problems.append("%s: %d non-200, socket errors %s"
                        % (phase, bad, sock))
    elif sock["read"] or sock["write"]:
        print("  note: %s: %d read and %d write errors (keep-alive "
              "connections closed by httpd)" % (phase, sock["read"],
                                                 sock["write"]))


def make_site():
    site = httpd_lib.Site()
    dst = site.make_dir("examples")
    for name in sorted(os.listdir(EXAMPLES)):
        src = os.path.join(EXAMPLES, name)
        if os.path.isfile(src):
            shutil.copyfile(src, os.path.join(dst, name))
            os.chmod(os.path.join(dst, name),
                     0o755 if name.endswith(".py") else 0o644)
    site.write("examples/soak_probe.py", PROBE, mode=0o755)
    return site


def soak(mpm, args, lua):
    site = make_site()
    server = None
    result = {"mpm": mpm, "problems": []}
    problems = result["problems"]
    try:
        server = httpd_lib.Server(site, mpm=mpm, mode=args.mode,
                                  extra_conf=MPM_CONF[mpm] + SOAK_CONF,
                                  name="soak-%s-%s" % (args.mode, mpm))
        print("== %s/%s: server %s, log %s" % (
            args.mode, mpm, server.conf_path, server.error_log_path),
            flush=True)
        probe = server.get("/examples/soak_probe.py")
        exe = probe.text.strip().partition("=")[2] if probe.status == 200 \
            else "status %d" % probe.status
        result["runner"] = "embedded" if exe == "/usr/sbin/apache2" \
            else "exec"
        if args.mode in ("embedded", "auto") \
                and result["runner"] != "embedded":
            problems.append("the examples did not run embedded (%s)" % exe)
        threads, conns = WRK_LOAD[mpm]
        n, bad, sock, secs = run_wrk(server.port, lua, args.warmup,
                                     threads, conns)
        print("  warm-up: %d requests in %.0fs, %d non-200, socket "
              "errors %s" % (n, secs, bad, sock), flush=True)
        check_wrk("warm-up", bad, sock, problems)
        time.sleep(0.5)
        before = sample(server)
        n, bad, sock, secs = run_wrk(server.port, lua, args.requests,
                                     threads, conns)
        time.sleep(0.5)
        after = sample(server)
        result.update(requests=n, seconds=secs, rps=n / secs if secs else 0)
        print("  soak: %d requests in %.0fs (%.0f/s), %d non-200, socket "
              "errors %s" % (n, secs, result["rps"], bad, sock), flush=True)
        check_wrk("soak", bad, sock, problems)
        if n < args.requests:
            problems.append("only %d of %d requests were answered"
                            % (n, args.requests))
        if len(before) != 1 or sorted(before) != sorted(after):
            problems.append("the child was not the same process throughout "
                            "(%s -> %s): growth not measurable"
                            % (sorted(before), sorted(after)))
        pids = [p for p in before if p in after]
        result["before"] = sum(before[p] for p in pids) / 1024
        result["after"] = sum(after[p] for p in pids) / 1024
        result["growth"] = result["after"] - result["before"]
        print("  VmRSS of child %s: %.1f MB -> %.1f MB, growth %.2f MB"
              % (",".join(map(str, pids)), result["before"],
                 result["after"], result["growth"]), flush=True)
        if result["growth"] >= args.max_growth_mb:
            problems.append("VmRSS grew %.2f MB over %d requests (limit "
                            "%.1f MB)" % (result["growth"], n,
                                          args.max_growth_mb))
        crashes = [l for l in server.error_log().splitlines()
                   if re.search(r"AH00052|exit signal|PYCGI0504", l)]
        problems.extend("error log: %s" % l[:300] for l in crashes[:5])
    except (httpd_lib.ServerError, RuntimeError, OSError) as e:
        problems.append(str(e))
    finally:
        if server is not None:
            server.cleanup()
        site.remove()
    for p in problems:
        print("  FAIL %s" % p)
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mpm", default="prefork,event",
                    help="prefork, event, comma separated (default both)")
    ap.add_argument("--mode", default="embedded",
                    choices=("embedded", "auto", "exec"),
                    help="PyCGIMode of the examples (default embedded)")
    ap.add_argument("--warmup", type=int, default=5000,
                    help="requests before the first reading (default 5000)")
    ap.add_argument("--requests", type=int, default=100000,
                    help="requests between the readings (default 100000)")
    ap.add_argument("--max-growth-mb", type=float, default=5.0,
                    help="fail at this growth or more (default 5)")
    args = ap.parse_args(argv)
    mpms = [m.strip() for m in args.mpm.split(",") if m.strip()]
    for m in mpms:
        if m not in MPM_CONF:
            ap.error("bad --mpm %r" % m)
    if os.geteuid() != 0:
        ap.error("run as root: apache2 starts as root and drops to www-data")
    if not os.access(WRK, os.X_OK):
        ap.error("%s missing: make deps" % WRK)
    fd, lua = tempfile.mkstemp(prefix="pycgi-soak-", suffix=".lua")
    with os.fdopen(fd, "w") as f:
        f.write(WRK_LUA)
    try:
        results = [soak(mpm, args, lua) for mpm in mpms]
    finally:
        os.unlink(lua)
    print("\n%-8s %-9s %9s %8s %10s %10s %9s  %s" % (
        "mpm", "runner", "requests", "req/s", "RSS start", "RSS end",
        "growth", "result"))
    for r in results:
        if "growth" in r:
            print("%-8s %-9s %9d %8.0f %8.1fMB %8.1fMB %7.2fMB  %s" % (
                r["mpm"], r.get("runner", "?"), r["requests"], r["rps"],
                r["before"], r["after"], r["growth"],
                "FAILED" if r["problems"] else "ok"))
        else:
            print("%-8s %-9s %9s %8s %10s %10s %9s  FAILED" % (
                r["mpm"], r.get("runner", "?"), "-", "-", "-", "-", "-"))
    return 1 if any(r["problems"] for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
