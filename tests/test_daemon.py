"""The daemon runner (PyCGIMode daemon): scripts run in warm pycgi-worker
processes outside httpd, started by a supervisor, in pools per virtual
host.  Each test states one guarantee and is written to fail when the
runner breaks it.

One shared server per MPM (`dsrv`), pycgi:debug logging, the status page
at /pycgi-status, and name-based virtual hosts on the server's port, each
with its own pool:

  127.0.0.1   the default host: the standard site, every directory
              PyCGIMode daemon; pool with the default limits
  solo.test   PyCGIDaemonMaxWorkers 1: consecutive requests are known to
              reach the same worker, so a pid tells "same warm worker"
              from "retired and replaced"; QueueTimeout 8
  tiny.test   MaxWorkers 1, QueueSize 1, QueueTimeout 1 (pool sizing)
  mr3.test    MaxWorkers 1, MaxRequests 3, QueueTimeout 8
  mr5.test    MaxWorkers 2, MaxRequests 5, QueueTimeout 8
  idle.test   MaxWorkers 1, IdleTimeout 1, QueueTimeout 8
  mem.test    MaxWorkers 1, MemoryLimit 64, QueueTimeout 8
  a.test      DocumentRoot <site>/vhost_a (MaxWorkers 1)
  b.test      DocumentRoot <site>/vhost_b, SetEnv SECRET_B <random>

Directories besides the standard ones: /d_exec (PyCGIMode exec: a local
process of httpd's User, for the socket test), /d_t2 (daemon,
CGIScriptTimeout 2).  The burst test and the graceful-restart test start
servers of their own.
"""

import hashlib
import http.client
import json
import os
import re
import shutil
import signal
import socket
import stat
import threading
import time
import urllib.parse
import uuid

import pytest

import httpd as httpd_lib
import probe
from conftest import TEST_MODULE

pytestmark = pytest.mark.skipif(
    TEST_MODULE != "pycgi",
    reason="the daemon runner is mod_pycgi's; stock mod_cgi has none")

APACHE2 = httpd_lib.APACHE2
DEBUG = "info pycgi:debug"
# Only b.test's configuration holds it; a.test's scripts look for it.
SECRET_B = "sb%s%s" % (uuid.uuid4().hex, uuid.uuid4().hex[:6])

STATUS_CONF = """
<Location "/pycgi-status">
    SetHandler pycgi-status
</Location>
"""

DIRS = {
    "d_exec": "PyCGIMode exec",
    "d_t2": "PyCGIMode daemon\n    CGIScriptTimeout 2",
}


def _dirs_conf():
    out = []
    for sub, directives in DIRS.items():
        out.append('<Directory "@SITE@/htdocs/%s">\n    Options +ExecCGI\n'
                   '    AddHandler pycgi-script .py\n    %s\n</Directory>'
                   % (sub, directives))
    for sub in ("vhost_a", "vhost_b"):
        out.append('<Directory "@SITE@/%s">\n    Options +ExecCGI\n'
                   '    AddHandler pycgi-script .py\n    PyCGIMode daemon\n'
                   '</Directory>' % sub)
    return "\n".join(out) + "\n"


def _vhost(name, body=""):
    return ("<VirtualHost 127.0.0.1:@PORT@>\n    ServerName %s\n%s"
            "</VirtualHost>\n" % (name, "".join("    %s\n" % l for l in
                                                body.splitlines())))


VHOSTS = "".join([
    # First: requests for 127.0.0.1 keep the main configuration.
    _vhost("127.0.0.1"),
    # A short queue timeout: a request that finds no worker says so (503,
    # PYCGI0907) in 8 s, not the default 30.
    _vhost("solo.test", "PyCGIDaemonMaxWorkers 1\nPyCGIDaemonQueueTimeout 8"),
    _vhost("tiny.test", "PyCGIDaemonMaxWorkers 1\nPyCGIDaemonQueueSize 1\n"
                        "PyCGIDaemonQueueTimeout 1"),
    _vhost("mr3.test", "PyCGIDaemonMaxWorkers 1\nPyCGIDaemonMaxRequests 3\n"
                       "PyCGIDaemonQueueTimeout 8"),
    _vhost("mr5.test", "PyCGIDaemonMaxWorkers 2\nPyCGIDaemonMaxRequests 5\n"
                       "PyCGIDaemonQueueTimeout 8"),
    _vhost("idle.test", "PyCGIDaemonMaxWorkers 1\nPyCGIDaemonIdleTimeout 1\n"
                        "PyCGIDaemonQueueTimeout 8"),
    _vhost("mem.test", "PyCGIDaemonMaxWorkers 1\nPyCGIDaemonMemoryLimit 64\n"
                       "PyCGIDaemonQueueTimeout 8"),
    _vhost("a.test", 'DocumentRoot "@SITE@/vhost_a"\n'
                     "PyCGIDaemonMaxWorkers 1"),
    _vhost("b.test", 'DocumentRoot "@SITE@/vhost_b"\n'
                     "SetEnv SECRET_B %s" % SECRET_B),
])

CONF = STATUS_CONF + _dirs_conf() + VHOSTS


@pytest.fixture(scope="module")
def dsite(site):
    for sub in DIRS:
        site.fill_script_dir("htdocs/" + sub, "/" + sub)
    site.fill_script_dir("vhost_a", "/")
    site.fill_script_dir("vhost_b", "/")
    os.chmod(site.make_dir("capture"), 0o777)
    return site


@pytest.fixture(scope="module")
def dsrv(httpd_module, dsite, mpm):
    return httpd_module(mpm=mpm, mode="daemon", site=dsite, loglevel=DEBUG,
                        extra_conf=CONF, tag="dmn")


# -- helpers ------------------------------------------------------------------

def host(name):
    return [("Host", name)] if name else None


def get(server, path, hostname=None, **kw):
    return server.get(path, headers=host(hostname), **kw)


def get_json(server, path, hostname=None, **kw):
    resp = get(server, path, hostname, **kw)
    assert resp.status == 200, "%s (Host %s): %s %r" % (
        path, hostname, resp.status, resp.body[:500])
    return json.loads(resp.text)


def who(server, hostname="solo.test", prefix="/pycgi"):
    return get_json(server, prefix + "/dmn_who.py", hostname)


def who_after_retire(server, mark, hostname="solo.test"):
    """dmn_who.py right after a worker retired: the pool must start
    another worker for it (a 503 here is PYCGI0907: nobody did)."""
    resp = get(server, "/pycgi/dmn_who.py", hostname, timeout=20)
    assert resp.status == 200, \
        "the request after a retirement: %s; log:\n%s" % (
            resp.status, "\n".join(l for l in server.log_since(
                mark).splitlines() if re.search(r"PYCGI09(0\d|6\d|71)|"
                                                 r"PYCGI0820", l)))
    return json.loads(resp.text)


def assert_log(server, mark, pattern, timeout=5.0, what="log line"):
    text = server.wait_log(mark, pattern, timeout)
    assert re.search(pattern, text), \
        "no %s matching %r; new log:\n%s" % (what, pattern, text[-4000:])
    return text


def status(server):
    """The ?auto status page: ({pool name: fields}, [worker fields]),
    pools in the order of the page (= pool index = socket number)."""
    resp = server.get("/pycgi-status?auto")
    assert resp.status == 200, resp
    pools, workers = {}, []
    for line in resp.text.splitlines():
        if line.startswith("Pool: "):
            head, _, retired = line[6:].partition(" retired=")
            f = dict(t.split("=", 1) for t in head.split())
            f["retired"] = {} if retired in ("", "-") else dict(
                r.rsplit("=", 1) for r in retired.split(","))
            f["index"] = len(pools)
            pools[f["name"]] = f
        elif line.startswith("Worker: "):
            head, _, script = line[8:].partition(" script=")
            f = dict(t.split("=", 1) for t in head.split())
            f["script"] = script
            workers.append(f)
    return pools, workers


def pool_name(server, hostname):
    return "%s:%d" % (hostname, server.port)


def pool(server, hostname):
    pools, _ = status(server)
    name = pool_name(server, hostname)
    assert name in pools, "no pool %s on the status page: %s" % (
        name, sorted(pools))
    return pools[name]


def retire_pattern(pid):
    return (r"daemon worker %d \(pool [^)]*\): PYCGI0820: worker retiring "
            r"after \d+ requests: ([^\n]*)" % pid)


def worker_procs(server):
    """Live pycgi-worker processes of the server's session."""
    return [p for p in probe.session_procs(server)
            if p.exe.endswith("/pycgi-worker") and p.state != "Z"]


def supervisors(server):
    """Live supervisors: children of the httpd parent in a process group
    of their own (pycgi_super_become() calls setpgid(0, 0))."""
    parent = server.proc.pid
    return [p for p in probe.session_procs(server)
            if p.ppid == parent and p.pgid == p.pid and p.exe == APACHE2
            and p.state != "Z"]


def proc_comm(pid):
    with open("/proc/%d/comm" % pid) as f:
        return f.read().strip()


# -- 1. where a script runs ---------------------------------------------------

def test_script_runs_in_a_worker_not_in_httpd(dsrv):
    """dmn_who.py reports a process that is no httpd process: named
    pycgi-worker (comm, exe, argv[0]), child of the supervisor, which is
    a child of the httpd parent; the same pid answers the next request."""
    first = who(dsrv)
    parent = dsrv.proc.pid
    kids = probe.httpd_children(dsrv)
    sups = supervisors(dsrv)
    assert len(sups) == 1, "supervisors: %s" % sups
    sup = sups[0].pid
    assert first["pid"] != parent
    assert first["pid"] not in kids, (first, kids)
    assert first["ppid"] == sup, \
        "worker %d's parent is %d, not the supervisor %d" % (
            first["pid"], first["ppid"], sup)
    assert first["comm"] == "pycgi-worker", first
    assert proc_comm(first["pid"]) == "pycgi-worker"
    assert first["exe"].endswith("/pycgi-worker") and \
        first["exe"] != APACHE2, first
    assert first["argv0"] == "pycgi-worker", first
    assert first["uid"] != 0, "a worker runs as root: %s" % first
    log = dsrv.error_log()
    assert re.search(r"\[pid %d:tid \d+\] PYCGI0969: daemon supervisor "
                     r"started" % sup, log), "PYCGI0969 is not from %d" % sup
    second = who(dsrv)
    assert second["pid"] == first["pid"], \
        "two sequential requests, two workers: %s %s" % (first, second)


def test_worker_holds_no_listener_and_no_client_connection(dsrv):
    """Of httpd's descriptors a worker holds none: no TCP socket at all
    (httpd's listeners, client connections); its Unix sockets are its
    pool's, the request's channel to the httpd child, and at most one
    connection kept from an earlier request, nothing else.  An exec
    script of the same server (yardstick) holds no TCP socket either."""
    for path, host in (("/pycgi/dmn_fdscan.py", "solo.test"),
                       ("/d_exec/dmn_fdscan.py", None)):
        fds = get_json(dsrv, path, host)
        inet = {fd: i for fd, i in fds.items()
                if i.get("family") in ("AF_INET", "AF_INET6")}
        assert not inet, "%s holds TCP sockets: %s" % (path, inet)
        if path.startswith("/pycgi"):
            unix = [i for i in fds.values() if i.get("family") == "AF_UNIX"]
            assert sum(i["listening"] for i in unix) == 1 and \
                len(unix) <= 3, fds


def test_sequential_requests_reuse_a_warm_worker_in_a_default_pool(dsrv):
    """In a pool with the default limits, sequential requests (with a
    pause) are served by workers already running: no spawn, and the pid
    is one the status page listed before."""
    who(dsrv, "127.0.0.1")
    time.sleep(0.3)
    before = pool(dsrv, "127.0.0.1")
    _, workers = status(dsrv)
    known = {int(w["pid"]) for w in workers
             if w["pool"] == pool_name(dsrv, "127.0.0.1")}
    pids = []
    for _ in range(3):
        pids.append(who(dsrv, "127.0.0.1")["pid"])
        time.sleep(0.3)
    after = pool(dsrv, "127.0.0.1")
    assert set(pids) <= known, (pids, known)
    assert after["spawns"] == before["spawns"], (before, after)


EDIT = """#!/usr/bin/python3
import os
print("Content-Type: text/plain")
print()
print("version=%s pid=%%d" %% os.getpid())
"""


def test_edited_script_is_reloaded_by_the_warm_worker(dsrv, dsite):
    """The code cache is keyed on the file: an edit (new mtime and size)
    shows on the next request, served by the same warm worker."""
    path = dsite.write("htdocs/pycgi/dmn_edit_%s.py" % dsrv.mpm, EDIT % "1",
                       0o755)
    os.utime(path, (1600000000, 1600000000))
    url = "/pycgi/" + os.path.basename(path)
    r1 = get(dsrv, url, "solo.test")
    r1b = get(dsrv, url, "solo.test")
    assert r1.status == 200 and r1.text.startswith("version=1 "), r1.text
    assert r1b.text == r1.text, "cached run differs: %r %r" % (r1.text,
                                                             r1b.text)
    dsite.write("htdocs/pycgi/" + os.path.basename(path), EDIT % "22", 0o755)
    os.utime(path, (1600000100, 1600000100))
    r2 = get(dsrv, url, "solo.test")
    assert r2.status == 200 and r2.text.startswith("version=22 "), \
        "edit not seen: %r" % r2.text
    assert r2.text.split("pid=")[1] == r1.text.split("pid=")[1], \
        "reloaded by another worker: %r %r" % (r1.text, r2.text)
    # Same size, only the mtime changes: still a new version.
    dsite.write("htdocs/pycgi/" + os.path.basename(path), EDIT % "33", 0o755)
    os.utime(path, (1600000200, 1600000200))
    r3 = get(dsrv, url, "solo.test")
    assert r3.text.startswith("version=33 "), r3.text


# -- 2. concurrency -----------------------------------------------------------

BURST_CLIENTS = 40
# An AddressSanitizer build boots each worker several times slower: the
# cold burst gets more room there (make check-asan sets ASAN_OPTIONS).
_SLOW = 3.0 if os.environ.get("ASAN_OPTIONS") else 1.0
BURST_LIMIT = 5.0 * _SLOW   # from a cold pool; embedded/event takes ~20 s
BURST_LIMIT_WARM = 2.5      # once the pool has grown: "well under 5 s"


def _burst(srv, tag):
    results = {}

    def one(i):
        try:
            results[i] = srv.get("/pycgi/dmn_sleep.py?1&%s%d" % (tag, i),
                                 timeout=60)
        except Exception as e:  # reported below
            results[i] = e

    threads = [threading.Thread(target=one, args=(i,))
               for i in range(BURST_CLIENTS)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(90)
    elapsed = time.monotonic() - t0
    bad = {i: r for i, r in results.items()
           if not isinstance(r, httpd_lib.Response) or r.status != 200}
    assert len(results) == BURST_CLIENTS and not bad, bad
    pids = {re.search(r"pid=(\d+)", r.text).group(1)
            for r in results.values()}
    return elapsed, len(pids)


def test_burst_of_40_one_second_sleepers_under_event(httpd, dsite):
    """40 concurrent requests to a script that sleeps 1 s, event MPM,
    PyCGIDaemonMaxWorkers 48 / PyCGIDaemonMaxTotal 64: all 200; the
    burst done in BURST_LIMIT seconds from a cold pool (workers start on
    demand), in BURST_LIMIT_WARM once the pool has grown."""
    srv = httpd(mpm="event", mode="daemon", site=dsite, loglevel=DEBUG,
                extra_conf=STATUS_CONF + "PyCGIDaemonMaxWorkers 48\n"
                "PyCGIDaemonMaxTotal 64\n", tag="burst")
    cold, cold_pids = _burst(srv, "cold")
    warm, warm_pids = _burst(srv, "warm")
    pools, workers = status(srv)
    why = "cold %.1fs (%d workers), warm %.1fs (%d workers); pools %s" % (
        cold, cold_pids, warm, warm_pids, pools)
    assert cold < BURST_LIMIT, why
    assert warm < BURST_LIMIT_WARM, why


def test_default_pool_runs_as_many_scripts_at_once_as_mod_cgi(httpd, dsite):
    """No PyCGIDaemonMaxWorkers/MaxTotal: the limits follow the MPM's
    MaxRequestWorkers (64 in the test's event configuration), as mod_cgid
    would run a script per request in flight; 40 one-second sleepers are
    not queued behind a small pool."""
    srv = httpd(mpm="event", mode="daemon", site=dsite,
                extra_conf=STATUS_CONF, tag="burst-default")
    r = srv.get("/pycgi-status?auto")
    total = int(re.search(r"^DaemonMaxTotal: (\d+)$", r.text, re.M).group(1))
    assert total == 64, r.text
    cold, _ = _burst(srv, "cold")
    warm, warm_pids = _burst(srv, "warm")
    pools, _ = status(srv)
    why = "cold %.1fs, warm %.1fs (%d workers); pools %s" % (
        cold, warm, warm_pids, pools)
    assert all(int(p["max_workers"]) >= BURST_CLIENTS
               for p in pools.values()), why
    assert cold < BURST_LIMIT, why
    assert warm < BURST_LIMIT_WARM, why


def test_default_total_is_max_request_workers(httpd, dsite, mpm):
    srv = httpd(mpm=mpm, mode="daemon", site=dsite, extra_conf=STATUS_CONF,
                tag="total-default")
    r = srv.get("/pycgi-status?auto")
    want = {"prefork": 32, "event": 64}[mpm]   # tests/httpd.py's MPM conf
    assert re.search(r"^DaemonMaxTotal: %d$" % want, r.text, re.M), r.text
    pools, _ = status(srv)
    assert all(int(p["queue_size"]) == 100 for p in pools.values()), pools


def test_default_queue_holds_a_whole_pool_of_requests(httpd, dsite):
    """A pool bigger than the default queue (100) gets a queue as big as
    itself: a burst that finds its workers still starting waits rather
    than getting 503."""
    srv = httpd(mpm="event", mode="daemon", site=dsite,
                extra_conf=STATUS_CONF + "PyCGIDaemonMaxTotal 200\n"
                "PyCGIDaemonMaxWorkers 150\n", tag="queue-default")
    pools, _ = status(srv)
    assert all(int(p["max_workers"]) == 150 and int(p["queue_size"]) == 150
               for p in pools.values()), pools


# -- 3. slow uploads ----------------------------------------------------------

def _assert_upload(text, body, what=None):
    """dmn_stdin.py's answer `text` says it read exactly `body`."""
    got = json.loads(text)
    assert got["length"] == len(body) and \
        got["sha256"] == hashlib.sha256(body).hexdigest(), (what, got)


def _assert_slow_upload(res, body, secs):
    """A trickled upload's answer: complete, all of `body`, and it took
    more than `secs`."""
    assert res is not None and res.status == 200 and res.complete, res
    _assert_upload(res.text, body)
    assert res.t_end > secs, "the upload was not slow: %.1fs" % res.t_end


def test_trickling_upload_beside_other_requests(dsrv):
    """A body arriving 1 KiB every 0.3 s (gaps well inside Timeout, 4.8 s
    in all, past CGIScriptTimeout 2 of /d_t2): the upload gets its answer
    with the whole body, other requests are served meanwhile, and no
    httpd child dies."""
    for path in ("/pycgi/hello.py", "/d_t2/dmn_sleep.py?0.2",
                 "/pycgi/emb_nonce.py?warm"):
        assert dsrv.get(path).status == 200   # workers started beforehand
    mark = dsrv.log_mark()
    pieces = [os.urandom(1024) for _ in range(16)]
    body = b"".join(pieces)
    box = {}

    def sender():
        def trickle():
            for p in pieces:
                time.sleep(0.3)
                yield p
        box["res"] = probe.stream_request(
            dsrv, "POST", "/d_t2/dmn_stdin.py",
            headers=[("Content-Length", str(len(body))),
                     ("Content-Type", "application/octet-stream")],
            body_iter=trickle(), timeout=40)

    upload = threading.Thread(target=sender)
    upload.start()
    others = []
    t0 = time.monotonic()
    while upload.is_alive() and time.monotonic() - t0 < 30:
        for path in ("/pycgi/hello.py", "/d_t2/dmn_sleep.py?0.2",
                     "/pycgi/emb_nonce.py?other"):
            resp = dsrv.get(path, timeout=20)
            others.append((path, resp.status, resp.t_end,
                           time.monotonic() - t0))
    upload.join(40)
    res = box.get("res")
    _assert_slow_upload(res, body, 4.0)
    during = [o for o in others if o[3] < res.t_end - 0.5]
    assert len(during) >= 5, "few requests served during the upload: %s" \
        % others
    assert all(o[1] == 200 for o in others), others
    # Served while the upload ran, not queued behind it (4.8 s).
    assert max(o[2] for o in during) < 3.0, others
    log = dsrv.log_since(mark)
    assert not probe.crash_lines(log), probe.crash_lines(log)


def test_a_small_body_arriving_slowly_holds_no_worker(dsrv):
    """A form-sized body (under 4 KB) is read before a worker is asked
    for: while its client sends it, 1 byte every 0.15 s, the one worker
    of solo.test serves other requests at once (before, the upload held
    it for the 3 s the body took), and the script then finds all of the
    body on its stdin."""
    assert get(dsrv, "/pycgi/dmn_who.py", "solo.test").status == 200
    body = b"first_name=Ada&last_=L"
    box = {}

    def trickle():
        for i in range(len(body)):
            time.sleep(0.15)
            yield body[i:i + 1]

    def sender():
        box["res"] = probe.stream_request(
            dsrv, "POST", "/pycgi/dmn_stdin.py",
            headers=[("Host", "solo.test"),
                     ("Content-Length", str(len(body))),
                     ("Content-Type", "application/x-www-form-urlencoded")],
            body_iter=trickle(), timeout=40)

    upload = threading.Thread(target=sender)
    upload.start()
    try:
        time.sleep(0.5)
        took = []
        for i in range(3):
            t0 = time.monotonic()
            resp = get(dsrv, "/pycgi/dmn_who.py?n=%d" % i, "solo.test",
                       timeout=20)
            took.append(time.monotonic() - t0)
            assert resp.status == 200, resp
        alive = upload.is_alive()
    finally:
        upload.join(40)
    assert max(took) < 1.0, "queued behind the upload: %s" % took
    assert alive, "the upload ended before the others"
    _assert_slow_upload(box.get("res"), body, 3.0)


def test_a_body_longer_than_its_head_reaches_the_script_whole(dsrv):
    """Bodies around the 4 KB read before a worker is asked for, and
    much longer: each reaches the script's stdin exactly, sent at once
    and chunked."""
    for n in (0, 1, 4095, 4096, 4097, 70000):
        body = os.urandom(n)
        for chunked in (False, True):
            resp = dsrv.request("POST", "/pycgi/dmn_stdin.py", body=body,
                                chunked=chunked, timeout=20)
            assert resp.status == 200, (n, chunked, resp)
            _assert_upload(resp.text, body, (n, chunked))


def test_100_continue_only_once_a_worker_has_the_request(dsrv):
    """A client that waits for "100 Continue" before it sends its body is
    told to go on only once a worker has the request, as under mod_cgi
    once the script runs: while solo.test's one worker sleeps 2 s, not
    at once (a request refused meanwhile would have had the client send
    its body for nothing).  Then the body reaches the script whole."""
    assert get(dsrv, "/pycgi/dmn_who.py", "solo.test").status == 200
    sleeper = threading.Thread(target=lambda: get(
        dsrv, "/pycgi/dmn_sleep.py?2", "solo.test", timeout=20))
    sleeper.start()
    time.sleep(0.3)
    body = os.urandom(3000)
    s = socket.create_connection(("127.0.0.1", dsrv.port), timeout=20)
    try:
        t0 = time.monotonic()
        s.sendall(b"POST /pycgi/dmn_stdin.py HTTP/1.1\r\nHost: solo.test\r\n"
                  b"Content-Type: application/octet-stream\r\n"
                  b"Content-Length: %d\r\nExpect: 100-continue\r\n"
                  b"Connection: close\r\n\r\n" % len(body))
        interim = s.recv(4096)
        waited = time.monotonic() - t0
        assert interim.startswith(b"HTTP/1.1 100 "), interim
        s.sendall(body)
        raw = b""
        while True:
            piece = s.recv(65536)
            if not piece:
                break
            raw += piece
    finally:
        s.close()
        sleeper.join(20)
    assert waited > 1.0, "100 Continue after %.2f s" % waited
    resp = httpd_lib.Response(raw)
    assert resp.status == 200, resp
    _assert_upload(resp.text, body)


def test_stderr_while_httpd_waits_for_the_end_does_not_hold_the_page(dsrv):
    """dmn_errstream.py flushes its page, then writes stderr every 0.5 ms
    for 0.6 s.  httpd's wait for the end of the script after the page
    (up to 1 ms in all, see
    test_the_page_and_the_end_of_the_response_go_out_together) logs
    that stderr and runs out: the page reaches the client long before
    the end of the response."""
    get(dsrv, "/pycgi/dmn_errstream.py")
    res = probe.stream_request(dsrv, "GET", "/pycgi/dmn_errstream.py",
                               timeout=20)
    assert res.status == 200 and res.complete, res
    assert res.text == "the page\n", res.text
    assert res.t_complete - res.t_first_body > 0.4, \
        "page at %.3f s, end at %.3f s: the page was held back" % (
            res.t_first_body, res.t_complete)


# -- 4, 5. virtual hosts ------------------------------------------------------

def _scan_query():
    return "p=%s&h=%s&n=%d" % (SECRET_B[:10],
                               hashlib.sha256(SECRET_B.encode()).hexdigest(),
                               len(SECRET_B))


def test_other_vhosts_secret_never_in_a_workers_memory(dsrv):
    """b.test's SetEnv secret reaches b's scripts (b's own scan finds it
    in its memory: the scan works) but never any byte of a.test's worker
    memory, before or after b served requests; a and b run in different
    worker processes."""
    env_b = get(dsrv, "/env.py", "b.test")
    assert env_b.status == 200 and "SECRET_B=%s" % SECRET_B in env_b.text
    env_a = get(dsrv, "/env.py", "a.test")
    assert env_a.status == 200 and "SECRET_B" not in env_a.text
    q = _scan_query()
    scan_b = get_json(dsrv, "/dmn_memscan.py?" + q, "b.test")
    assert scan_b["found"] >= 1, "control: b's scan misses b's secret: %s" \
        % scan_b
    scans = [get_json(dsrv, "/dmn_memscan.py?" + q, "a.test")]
    b_pids = {scan_b["pid"]}
    for _ in range(3):
        b_pids.add(who(dsrv, "b.test", prefix="")["pid"])
        get(dsrv, "/env.py", "b.test")
    scans.append(get_json(dsrv, "/dmn_memscan.py?" + q, "a.test"))
    for scan in scans:
        assert scan["scanned"] > 1 << 20 and scan["prefix_hits"] >= 1, scan
        assert scan["found"] == 0, \
            "b.test's secret found %d times in a.test's worker %d" % (
                scan["found"], scan["pid"])
    a_pids = {s["pid"] for s in scans} | {who(dsrv, "a.test", "")["pid"]}
    assert not a_pids & b_pids, "a.test %s and b.test %s share a worker" % (
        a_pids, b_pids)


def _form(first):
    return urllib.parse.urlencode({"first_name": first,
                                   "last_name": "x"}).encode()


def test_library_patch_in_one_vhost_never_sees_another_vhosts_forms(
        dsrv, dsite):
    """A script of a.test replaces cgi.FieldStorage with a capturing
    subclass; a.test's next form is captured (the patch works and stays
    in a's warm worker), none of 10 b.test form posts is."""
    capture = dsite.path("capture/forms-%s-%s.txt" % (dsrv.mpm,
                                                      uuid.uuid4().hex))
    resp = get(dsrv, "/dmn_capture.py?" + capture, "a.test")
    assert resp.status == 200, resp.text
    hdr = [("Host", "a.test"),
           ("Content-Type", "application/x-www-form-urlencoded")]
    nonce = uuid.uuid4().hex[:12]
    resp = dsrv.request("POST", "/form_post.py", headers=hdr,
                        body=_form("a-" + nonce))
    assert resp.status == 200 and "a-" + nonce in resp.text
    with open(capture) as f:
        assert "a-" + nonce in f.read(), "control: the patch did not capture"
    for i in range(10):
        hdr[0] = ("Host", "b.test")
        first = "b%d-%s" % (i, nonce)
        resp = dsrv.request("POST", "/form_post.py", headers=hdr,
                            body=_form(first))
        assert resp.status == 200 and "Hello %s x" % first in resp.text, \
            resp.text
    with open(capture) as f:
        captured = f.read()
    leaked = [l for l in captured.splitlines() if "b.test" in l
              or re.search(r"'b\d-", l)]
    assert not leaked, "b.test forms captured by a.test's patch: %s" % leaked


# -- 6. process semantics -----------------------------------------------------

def test_nondaemon_thread_output_complete_then_worker_retires(dsrv):
    """A non-daemon thread that prints for 1 s after the script's main
    code returned: python3 waits for it, so the response has all of its
    lines (as the same script under exec shows); the worker then retires
    (info line saying threads) and the next request gets another pid."""
    yard = get(dsrv, "/d_exec/dmn_thread.py")
    expect = sorted(["main done"] + ["thread line %d" % i for i in range(10)])
    assert yard.status == 200 and sorted(yard.text.splitlines()) == expect, \
        "exec yardstick: %r" % yard.text
    pid = who(dsrv)["pid"]
    mark = dsrv.log_mark()
    resp = get(dsrv, "/pycgi/dmn_thread.py", "solo.test")
    assert resp.status == 200
    assert sorted(resp.text.splitlines()) == expect, \
        "response cut short: %r" % resp.text
    text = assert_log(dsrv, mark, retire_pattern(pid))
    reason = re.search(retire_pattern(pid), text).group(1)
    assert "thread" in reason, reason
    after = who_after_retire(dsrv, mark)
    assert after["pid"] != pid


def test_worker_memory_is_closed_to_other_processes(dsrv):
    """A worker is not dumpable: another process of the same user (here
    an exec script, as www-data like the worker) cannot open its memory,
    environment or descriptors.  The price, documented: the script in
    the worker cannot open those /proc/self files either (its maps and
    status it can), where under exec it can (the yardstick)."""
    yard = get_json(dsrv, "/d_exec/dmn_procself.py")
    assert set(yard.values()) == {"ok"}, "exec yardstick: %s" % yard
    pid = who(dsrv)["pid"]
    other = get_json(dsrv, "/d_exec/dmn_procself.py?%d" % pid)
    for name in ("environ", "mem", "auxv", "fd"):
        assert other[name] != "ok", \
            "an exec script opened /proc/%d/%s of a daemon worker" % (pid,
                                                                      name)
    own = get_json(dsrv, "/pycgi/dmn_procself.py", "solo.test")
    assert own["maps"] == "ok" and own["status"] == "ok", own
    assert own["mem"] != "ok", "the worker is dumpable: %s" % own


def test_logging_records_of_every_request_reach_the_error_log(dsrv):
    """logging.basicConfig() + logging.warning(nonce) in the same warm
    worker, three times: three records, each in the error log."""
    pid = who(dsrv)["pid"]
    mark = dsrv.log_mark()
    nonces = [uuid.uuid4().hex[:16] for _ in range(3)]
    for n in nonces:
        resp = get(dsrv, "/pycgi/dmn_logging.py?" + n, "solo.test")
        assert resp.status == 200, resp
    assert who(dsrv)["pid"] == pid, "the worker changed: test not valid"
    log = dsrv.wait_log(mark, "dmn-logging " + nonces[-1], 5)
    missing = [n for n in nonces if "dmn-logging " + n not in log]
    assert not missing, "records missing from the error log: %s\n%s" % (
        missing, log[-3000:])


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_environb_agrees_with_environ(dsrv, method):
    """os.environb has the same keys and values as os.environ, those of
    this request (two requests in a row in the same worker)."""
    for i in range(2):
        query = "q%d=%s" % (i, uuid.uuid4().hex[:10])
        resp = dsrv.request(method, "/pycgi/dmn_environb.py?" + query,
                            headers=host("solo.test"),
                            body=b"x=1" if method == "POST" else None)
        assert resp.status == 200, resp
        got = json.loads(resp.text)
        assert not got["only_environ"] and not got["only_environb"] \
            and not got["differ"], got
        assert got["REQUEST_METHOD"] == [method, method], got
        assert got["QUERY_STRING"] == [query, query], got
        assert got["getenv"] == query, got
        assert got["keys"] > 10, got


def test_ssi_include_virtual_of_a_daemon_script_over_8k(dsrv, dsite):
    """<!--#include virtual--> of a daemon script printing 25,600 bytes:
    the page has all of it between the text around the element."""
    dsite.write("htdocs/dmn_include.shtml",
                'before\n<!--#include virtual="/pycgi/dmn_big.py?400"-->\n'
                'after\n')
    big = "".join(("line %05d " % i) + "x" * 52 + "\n" for i in range(400))
    direct = get(dsrv, "/pycgi/dmn_big.py?400")
    assert direct.status == 200 and direct.text == big
    resp = get(dsrv, "/dmn_include.shtml")
    assert resp.status == 200, resp
    assert "[an error occurred" not in resp.text, resp.text[:500]
    assert resp.text == "before\n" + big + "\nafter\n", \
        "%d bytes: %r ... %r" % (len(resp.text), resp.text[:200],
                                 resp.text[-200:])


def test_script_fetching_its_own_server(dsrv):
    """A script that requests a page of its own server over HTTP
    (another daemon script) finishes within 3 s."""
    t0 = time.monotonic()
    resp = get(dsrv, "/pycgi/dmn_selffetch.py", timeout=30)
    elapsed = time.monotonic() - t0
    assert resp.status == 200, resp.text
    assert "status=200" in resp.text and "hello=True" in resp.text, \
        resp.text
    assert elapsed < 3.0, "self-fetch took %.1fs: %s" % (elapsed, resp.text)


# -- 7. file descriptors 0, 1, 2 ----------------------------------------------

def test_std_fds_are_pipes_and_children_write_to_the_response(dsrv):
    """fds 0, 1 and 2 are pipes, as in a CGI process (the exec yardstick:
    a GET too), and output of a shell and of a child process, written to
    fd 1 directly, is part of the response, in order."""
    yard = get(dsrv, "/d_exec/dmn_fds.py")
    assert yard.text.splitlines()[0] == "fd0=fifo fd1=fifo fd2=fifo", \
        "exec yardstick: %r" % yard.text
    resp = get(dsrv, "/pycgi/dmn_fds.py", "solo.test")
    assert resp.status == 200, resp
    assert resp.text.splitlines() == ["fd0=fifo fd1=fifo fd2=fifo",
                                      "from-shell", "from-sub", "end"], \
        resp.text


def test_stdin_is_exactly_the_request_body(dsrv):
    body = os.urandom(300000) + b"\0\r\n--end"
    for _ in range(2):
        resp = dsrv.request("POST", "/pycgi/dmn_stdin.py",
                            headers=host("solo.test"), body=body)
        assert resp.status == 200, resp
        got = json.loads(resp.text)
        assert got["length"] == len(body), got
        assert got["sha256"] == hashlib.sha256(body).hexdigest(), got
        assert got["fileno"] == 0, got


def test_std_fds_a_script_left_file_objects_over_are_put_back(dsrv):
    """A script leaves file objects over fds 0, 1 and 2 (sys.stdin =
    open(0), globals open(1) and open(2)): the worker's clean-up frees
    them, closing those fds, and the next connection would take fd 0.
    The next requests of the same worker still get their own pipes on
    0-2: stdin at EOF for a GET, the body for a POST, output complete."""
    mark = dsrv.log_mark()
    resp = get(dsrv, "/pycgi/dmn_leftfd.py", "solo.test")
    assert resp.status == 200 and resp.text == "left\n", resp
    body = os.urandom(5000)
    for _ in range(2):
        resp = get(dsrv, "/pycgi/dmn_fds.py", "solo.test")
        assert resp.status == 200, resp
        assert resp.text.splitlines() == ["fd0=fifo fd1=fifo fd2=fifo",
                                          "from-shell", "from-sub", "end"], \
            resp.text
        got = get_json(dsrv, "/pycgi/dmn_stdin.py", "solo.test")
        assert (got["length"], got["fileno"]) == (0, 0), got
        resp = dsrv.request("POST", "/pycgi/dmn_stdin.py",
                            headers=host("solo.test"), body=body)
        assert resp.status == 200, resp
        got = json.loads(resp.text)
        assert got["sha256"] == hashlib.sha256(body).hexdigest(), got
    log = assert_log(dsrv, mark, r"PYCGI0815: fd 0 was closed")
    assert not re.search(r"PYCGI0(910|112)", log), log[-3000:]


def test_closing_fd1_ends_the_response(dsrv):
    """os.close(1) after the whole answer, then 3 s more work: the client
    has the complete response within 2 s."""
    yard = probe.stream_request(dsrv, "GET", "/d_exec/dmn_close1.py",
                                timeout=20)
    res = probe.stream_request(dsrv, "GET", "/pycgi/dmn_close1.py",
                               headers=host("solo.test"), timeout=20)
    assert res.status == 200 and res.complete, res
    assert res.text == "body before close\n", res.text
    assert res.t_complete < 2.0, \
        "complete after %.2fs (the script ran 3 s after closing fd 1; " \
        "the same script exec: %.2fs)" % (res.t_complete, yard.t_complete)


# -- 8. retirement on dirty state ---------------------------------------------

# what the script leaves -> (pattern of the worker's retire line, status
# page reason)
DIRTY = {
    "thread": (r"thread", "threads left running"),
    "signal": (r"signal", "signal handlers changed"),
    "sigterm": (r"signal", "signal handlers changed"),
    "sigmask": (r"signal mask", "signal handlers changed"),
    "umask": (r"umask", "process state changed"),
    "rlimit": (r"resource limit", "process state changed"),
    "child": (r"child process", "child process left running"),
    "stdio": (r"std stream", "std streams replaced"),
}


@pytest.mark.parametrize("what", list(DIRTY))
def test_dirty_worker_retires(dsrv, what):
    """A script that leaves process state behind: its answer is intact,
    its worker retires (info line with the reason, status page
    retired=), and the next request is served, 200, by another worker."""
    pattern, reason = DIRTY[what]
    pid = who(dsrv)["pid"]
    before = pool(dsrv, "solo.test")["retired"].get(reason, "0")
    mark = dsrv.log_mark()
    resp = get(dsrv, "/pycgi/dmn_dirty.py?" + what, "solo.test")
    assert resp.status == 200 and \
        resp.text == "dirty %s pid=%d\n" % (what, pid), resp.text
    after = who_after_retire(dsrv, mark)
    assert after["pid"] != pid, "worker %d kept serving after %s" % (pid,
                                                                      what)
    text = assert_log(dsrv, mark, retire_pattern(pid))
    line = re.search(retire_pattern(pid), text).group(1)
    assert re.search(pattern, line), "retired for %r" % line
    deadline = time.monotonic() + 3
    while True:
        now = pool(dsrv, "solo.test")["retired"].get(reason, "0")
        if int(now) > int(before) or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert int(now) == int(before) + 1, \
        "status retired %s=%s, was %s" % (reason, now, before)


def test_clean_scripts_do_not_retire_the_worker(dsrv):
    pid = who(dsrv)["pid"]
    mark = dsrv.log_mark()
    for path in ("/pycgi/hello.py", "/pycgi/env.py",
                 "/pycgi/form_get.py?first_name=a&last_name=b",
                 "/pycgi/dmn_dirty.py?none", "/pycgi/dmn_environb.py"):
        resp = get(dsrv, path, "solo.test")
        assert resp.status == 200, (path, resp)
    assert who(dsrv)["pid"] == pid
    assert not re.search(retire_pattern(pid), dsrv.log_since(mark)), \
        dsrv.log_since(mark)[-2000:]


# -- 9. pool sizing -----------------------------------------------------------

def test_full_pool_answers_503_and_says_why(dsrv):
    """tiny.test: 1 worker, queue of 1, 1 s queue timeout; four 3-second
    requests at once: at least one 503, a log line naming the pool and
    the directive, and the status counters show it."""
    mark = dsrv.log_mark()
    results = {}

    def one(i):
        results[i] = probe.stream_request(
            dsrv, "GET", "/pycgi/dmn_sleep.py?3&t%d" % i,
            headers=host("tiny.test"), timeout=30)

    threads = []
    for i in range(4):
        threads.append(threading.Thread(target=one, args=(i,)))
        threads[-1].start()
        time.sleep(0.3 if i == 0 else 0.05)
    for t in threads:
        t.join(40)
    codes = sorted(r.status for r in results.values())
    assert 503 in codes, codes
    assert 200 in codes, codes
    slow503 = [r.t_end for r in results.values() if r.status == 503]
    assert max(slow503) < 2.5, "503 only after %s s" % slow503
    log = assert_log(dsrv, mark, r"tiny\.test[^\n]*PyCGIDaemon(QueueTimeout|"
                                 r"QueueSize|MaxWorkers)")
    assert re.search(r"PYCGI090[47]", log)
    p = pool(dsrv, "tiny.test")
    assert int(p["queue_timeouts"]) + int(p["queue_full"]) > 0, p
    assert int(p["max_reached"]) > 0, p


def test_one_pool_never_takes_every_worker(httpd, dsite):
    """Several pools (the main server's and two virtual hosts'),
    PyCGIDaemonMaxTotal 3, PyCGIDaemonMaxWorkers 8: each pool is capped
    at 2, so while 4 slow requests of one virtual host
    keep its pool full (two of them queued), a request of the other
    virtual host is still answered at once."""
    srv = httpd(mpm="event", mode="daemon", site=dsite, loglevel=DEBUG,
                extra_conf=STATUS_CONF + "PyCGIDaemonMaxTotal 3\n"
                "PyCGIDaemonMaxWorkers 8\n"
                + _dirs_conf() + _vhost("127.0.0.1")
                + _vhost("b.test", 'DocumentRoot "@SITE@/vhost_b"'),
                tag="cap")
    pools, _ = status(srv)
    assert len(pools) == 3 and \
        all(int(p["max_workers"]) == 2 for p in pools.values()), pools
    results = {}

    def slow(i):
        results[i] = get(srv, "/pycgi/dmn_sleep.py?3&%d" % i, None,
                         timeout=30)

    threads = [threading.Thread(target=slow, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    assert probe.wait_for(
        lambda: int(pool(srv, "127.0.0.1")["queued"]) >= 2, 10), \
        status(srv)
    t0 = time.monotonic()
    other = get(srv, "/dmn_who.py", "b.test", timeout=30)
    took = time.monotonic() - t0
    for t in threads:
        t.join(30)
    assert other.status == 200, other
    assert took < 2.0, "the other pool waited %.1f s" % took
    assert sorted(r.status for r in results.values()) == [200] * 4
    assert int(pool(srv, "127.0.0.1")["max_reached"]) > 0, status(srv)


def test_workers_that_cannot_start_mean_exec_not_a_wait(
        httpd, dsite, mpm, monkeypatch, tmp_path):
    """No worker program beside the module (a broken installation, a
    ChrootDir without it): every worker dies while it starts (PYCGI0967).
    Under auto a script runs exec, as mod_cgi would run it, the first
    one too (its wait ends when the failure is known, not at
    PyCGIDaemonQueueTimeout), with all of its body; under PyCGIMode
    daemon the answer is 503 at once, PYCGI0609 saying why."""
    so = tmp_path / "mod_pycgi.so"
    shutil.copy(httpd_lib.pycgi_module_path(), so)
    monkeypatch.setenv("PYCGI_MODULE", str(so))
    srv = httpd(mpm=mpm, mode="auto", site=dsite, loglevel=DEBUG,
                extra_conf=STATUS_CONF + _dirs_conf()
                + "PyCGIDaemonQueueTimeout 30\n", tag="noworker")
    # The first request, with a body longer than the 4 KB read before a
    # worker is asked for: that head is put back for the exec runner.
    body = os.urandom(5000)
    t0 = time.monotonic()
    resp = srv.request("POST", "/pycgi/dmn_stdin.py", body=body, timeout=60)
    assert resp.status == 200, resp
    _assert_upload(resp.text, body)
    assert time.monotonic() - t0 < 10
    for i in range(3):
        t0 = time.monotonic()
        got = get_json(srv, "/pycgi/dmn_who.py?%d" % i, timeout=60)
        took = time.monotonic() - t0
        assert got["exe"].startswith("/usr/bin/python3"), got
        assert got["query"] == str(i), got
        assert took < 10, "waited %.1f s" % took
    t0 = time.monotonic()
    resp = get(srv, "/d_t2/dmn_who.py", timeout=60)
    assert resp.status == 503, resp
    assert time.monotonic() - t0 < 10
    log = srv.error_log()
    assert "PYCGI0967" in log, log[-3000:]
    assert re.search(r"PYCGI0609: the daemon pool's workers fail to start "
                     r".*d_t2/dmn_who\.py", log), log[-3000:]
    assert "PYCGI0907" not in log, log[-3000:]
    # The status page says the pool is failing.
    pools, _ = status(srv)
    assert any(int(p["boot_failing"]) >= 1 for p in pools.values()), pools
    assert "Failing: the last" in get(srv, "/pycgi-status").text


def test_max_requests_replaces_the_worker(dsrv):
    """PyCGIDaemonMaxRequests 3: three requests per worker."""
    mark = dsrv.log_mark()
    pids = [who_after_retire(dsrv, mark, "mr3.test")["pid"]
            for _ in range(7)]
    assert pids[0] == pids[1] == pids[2], pids
    assert pids[3] == pids[4] == pids[5] != pids[0], pids
    assert pids[6] != pids[3], pids
    text = assert_log(dsrv, mark, retire_pattern(pids[0]))
    assert "maximum requests" in re.search(retire_pattern(pids[0]),
                                           text).group(1)


def test_a_worker_retired_in_use_is_replaced_before_the_next_request(dsrv):
    """A worker that retires for PyCGIDaemonMaxRequests has its successor
    started by the supervisor at once: the pool keeps its size without
    waiting for a request that finds no worker.  mr3.test's worker
    retires at its third request; after the one that retired it, no
    request goes to the pool, and a new worker appears that has served
    none."""
    name = pool_name(dsrv, "mr3.test")
    mark = dsrv.log_mark()
    retired = None
    for _ in range(3):
        pid = who(dsrv, "mr3.test")["pid"]
        # The worker logs it after DONE: wait, rather than send a fourth
        # request that would start a worker on demand.
        if re.search(retire_pattern(pid),
                     dsrv.wait_log(mark, retire_pattern(pid), timeout=3)):
            retired = pid
            break
    assert retired, "no retirement in 3 requests:\n" + \
        dsrv.log_since(mark)[-3000:]
    served = int(pool(dsrv, "mr3.test")["requests"])
    deadline = time.monotonic() + 8
    while True:
        _, workers = status(dsrv)
        new = [w for w in workers
               if w["pool"] == name and int(w["pid"]) != retired]
        if new:
            break
        assert time.monotonic() < deadline, \
            "no successor without a request: %r" % workers
        time.sleep(0.1)
    assert [int(w["requests"]) for w in new] == [0], new
    assert int(pool(dsrv, "mr3.test")["requests"]) == served


def _wait_idle_workers(server, name, n, timeout=10):
    deadline = time.monotonic() + timeout
    while True:
        _, workers = status(server)
        idle = [w for w in workers
                if w["pool"] == name and w["state"] == "idle"]
        if len(idle) >= n:
            return
        assert time.monotonic() < deadline, \
            "pool %s: not %d idle workers: %r" % (name, n, workers)
        time.sleep(0.05)


def test_keepalive_clients_keep_their_workers_through_retirements(dsrv):
    """Two keep-alive clients of mr5.test (two workers, each retiring
    after 5 requests) take turns for 60 requests, each once both workers
    are idle.  After a retirement the client that lost its worker gets
    the successor, after at most one request on another's worker: most
    requests go over kept connections (`reused`).  Before: the pool
    shrank to one worker at the first retirement and the clients took it
    from each other at every turn."""
    name = pool_name(dsrv, "mr5.test")
    conns = [http.client.HTTPConnection("127.0.0.1", dsrv.port, timeout=20)
             for _ in range(2)]
    try:
        # Two workers, one per client: both at once, each sleeping.
        results = []
        threads = [threading.Thread(target=lambda c=c: results.append(
            _keepalive_get(c, "/pycgi/dmn_sleep.py?0.5", "mr5.test")))
            for c in conns]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
        assert [st for st, _ in results] == [200, 200], results
        before = pool(dsrv, "mr5.test")
        for i in range(60):
            _wait_idle_workers(dsrv, name, 2)
            st, body = _keepalive_get(conns[i % 2],
                                      "/pycgi/dmn_who.py?i=%d" % i,
                                      "mr5.test")
            assert st == 200 and json.loads(body)["query"] == "i=%d" % i, \
                (i, st, body[:200])
        after = pool(dsrv, "mr5.test")
    finally:
        for c in conns:
            c.close()
    requests = int(after["requests"]) - int(before["requests"])
    reused = int(after["reused"]) - int(before["reused"])
    retired = int(after["retired"].get("max requests", 0)) \
        - int(before["retired"].get("max requests", 0))
    assert requests == 60, (before, after)
    assert retired >= 10, (before, after)
    # Each retirement costs its client one new connection, and at most
    # one more for the client it took a worker from.
    assert reused >= 60 - 3 * retired and reused >= 30, \
        "reused %d of 60 with %d retirements (pool %s)" % (
            reused, retired, name)


def test_memory_limit_replaces_the_worker_that_stays_over_it(dsrv):
    """PyCGIDaemonMemoryLimit 64: a script that used 100 MB and freed it
    leaves the worker in place (its resident size is back under the
    limit); one that leaves 100 MB resident has its worker replaced
    after the request, with an info line saying why."""
    mark = dsrv.log_mark()
    first = who(dsrv, "mem.test")["pid"]
    if not os.environ.get("ASAN_OPTIONS"):
        # (AddressSanitizer's allocator keeps freed memory resident.)
        resp = get(dsrv, "/pycgi/dmn_hog.py?temp=100", "mem.test",
                   timeout=20)
        assert resp.status == 200 and "pid=%d" % first in resp.text, \
            resp.text
        assert who(dsrv, "mem.test")["pid"] == first
    resp = get(dsrv, "/pycgi/dmn_hog.py?keep=100", "mem.test", timeout=20)
    assert resp.status == 200 and "pid=%d" % first in resp.text, resp.text
    assert who_after_retire(dsrv, mark, "mem.test")["pid"] != first
    text = assert_log(dsrv, mark, retire_pattern(first))
    assert re.search(r"resident memory 1\d\d MB over the limit of 64 MB",
                     re.search(retire_pattern(first), text).group(1)), text


def test_idle_timeout_ends_the_worker(dsrv):
    """PyCGIDaemonIdleTimeout 1: after 3 s without requests the worker is
    gone (status page and process table) and the next request gets a new
    one."""
    mark = dsrv.log_mark()
    pid = who(dsrv, "idle.test")["pid"]
    time.sleep(3)
    _, workers = status(dsrv)
    assert pid not in {int(w["pid"]) for w in workers}, workers
    assert pid not in {p.pid for p in worker_procs(dsrv)}
    assert "idle" in re.search(retire_pattern(pid), assert_log(
        dsrv, mark, retire_pattern(pid))).group(1)
    assert who_after_retire(dsrv, mark, "idle.test")["pid"] != pid


# -- 10. failures -------------------------------------------------------------

def test_segfault_is_500_logged_and_the_pool_recovers(dsrv):
    pid = who(dsrv)["pid"]
    mark = dsrv.log_mark()
    resp = get(dsrv, "/pycgi/hostile_crash.py?segv-before", "solo.test")
    assert resp.status == 500, resp
    assert_log(dsrv, mark, r"PYCGI0964: daemon worker %d \(pool solo\.test:"
                           r"\d+\) killed by signal 11 while running "
                           r"\S*hostile_crash\.py" % pid)
    log = assert_log(dsrv, mark, r"File \"[^\"]*hostile_crash\.py\", line "
                                 r"\d+", what="faulthandler stack")
    assert "Fatal Python error: Segmentation fault" in log, log[-3000:]
    after = who_after_retire(dsrv, mark)
    assert after["pid"] != pid
    assert get(dsrv, "/pycgi/hello.py", "solo.test").status == 200


def test_silent_script_504_and_its_worker_is_killed(dsrv):
    pid = who(dsrv)["pid"]
    kills = int(pool(dsrv, "solo.test")["kills"])
    mark = dsrv.log_mark()
    res = probe.stream_request(dsrv, "GET", "/pycgi/silent.py",
                               headers=host("solo.test"), timeout=30)
    assert res.status == 504, res
    assert res.t_end < 4.0, "504 after %.2fs" % res.t_end
    assert_log(dsrv, mark, r"PYCGI0965: daemon worker %d \(pool solo\.test"
                           % pid, timeout=8)
    assert int(pool(dsrv, "solo.test")["kills"]) == kills + 1
    assert probe.wait_for(
        lambda: pid not in {p.pid for p in worker_procs(dsrv)}, 6), \
        "worker %d still alive after its script timed out" % pid
    after = who_after_retire(dsrv, mark)
    assert after["pid"] != pid


# -- 11. the pools' sockets ---------------------------------------------------

def test_socket_directory_is_private_and_in_the_runtime_dir(dsrv):
    who(dsrv)
    dirs = [os.path.join(dsrv.rundir, d) for d in os.listdir(dsrv.rundir)
            if d.startswith("pycgi.")]
    assert len(dirs) == 1, dirs
    st = os.stat(dirs[0])
    assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o700, \
        oct(st.st_mode)
    socks = sorted(os.listdir(dirs[0]))
    assert socks and all(re.match(r"\d+\.sock$", s) for s in socks), socks
    for s in socks:
        path = os.path.join(dirs[0], s)
        assert path.startswith(dsrv.rundir + "/")
        sst = os.stat(path)
        assert stat.S_ISSOCK(sst.st_mode) and \
            stat.S_IMODE(sst.st_mode) & 0o077 == 0, (path, oct(sst.st_mode))
    # Nothing of ours in /tmp itself (only under the test's rundir).
    assert not [n for n in os.listdir("/tmp") if n.startswith("pycgi.")]


def test_forged_request_with_a_wrong_token_runs_nothing(dsrv, dsite):
    """An exec script (httpd's User, as any local process of that user)
    connects to solo.test's pool socket and sends a well-formed request
    with a made-up token, three pipes and dmn_marker.py: the worker
    refuses it (reply REFUSED/token, log line) and no marker appears."""
    legit = dsite.path("capture/legit-%s" % uuid.uuid4().hex)
    resp = get(dsrv, "/pycgi/dmn_marker.py?" + legit, "solo.test")
    assert resp.status == 200 and os.path.exists(legit), \
        "control: dmn_marker.py did not create its marker"
    index = pool(dsrv, "solo.test")["index"]
    marker = dsite.path("capture/forged-%s" % uuid.uuid4().hex)
    script = dsite.path("htdocs/pycgi/dmn_marker.py")
    mark = dsrv.log_mark()
    q = urllib.parse.urlencode({"rundir": dsrv.rundir, "script": script,
                                "marker": marker, "index": index})
    got = get_json(dsrv, "/d_exec/dmn_forge.py?" + q, timeout=60)
    solo = [r for r in got["results"]
            if r["socket"].endswith("/%d.sock" % index)]
    assert solo, got
    time.sleep(1)
    assert not os.path.exists(marker), "the forged request ran: %s" % got
    assert not any(r.get("kind") in (1, 2) for r in got["results"]), got
    assert solo[0].get("kind") == 3 and solo[0].get("status") == 2, solo
    assert_log(dsrv, mark, r"PYCGI0811: refused a request with a wrong "
                           r"pool token from pid \d+ \(uid %d\)" % got["uid"])


# -- 11b. kept connections ---------------------------------------------------

def _keepalive_get(conn, path, hostname):
    conn.request("GET", path, headers={"Host": hostname})
    resp = conn.getresponse()
    return resp.status, resp.read()


def _first_read(server, path):
    """What one recv() gets of the response to a keep-alive GET."""
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    try:
        s.sendall(b"GET " + path.encode() + b" HTTP/1.1\r\n"
                  b"Host: 127.0.0.1\r\n\r\n")
        return s.recv(65536)
    finally:
        s.close()


def test_the_page_and_the_end_of_the_response_go_out_together(dsrv):
    """dmn_tail.py flushes its page and ends 0.3 ms later.  httpd waits
    (up to 1 ms) for the worker's word that the script ended before it
    sends the page, so that the whole response reaches the client in
    one write (with a Content-Length, as the embedded runner's): one
    read here gets all of it.  (Before, the page went out as soon as it
    was read, chunked, and the end of the response in a second write:
    one more TCP segment and one more wake-up of the client for every
    request.)"""
    _first_read(dsrv, "/pycgi/dmn_tail.py")
    got = [_first_read(dsrv, "/pycgi/dmn_tail.py") for i in range(5)]
    for data in got:
        assert data.startswith(b"HTTP/1.1 200 "), data
        assert b"the whole page" in data, data
    whole = [_complete(data) for data in got]
    assert whole.count(True) >= 4, got


def _complete(data):
    """Is `data` a whole response: its headers, and a body that is as
    long as its Content-Length says or ends its chunked encoding?"""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    m = re.search(rb"(?im)^content-length: *(\d+)\r?$", head)
    if m:
        return len(body) == int(m.group(1))
    return re.search(rb"(?im)^transfer-encoding: *chunked\r?$", head) \
        is not None and body.endswith(b"\r\n0\r\n\r\n")


def test_a_keepalive_client_goes_on_over_the_kept_connection(dsrv):
    """Sequential requests of one keep-alive client: each after the first
    reaches the worker over the connection kept from the one before (the
    pool's `reused` count grows by one each, under event too, where the
    client's requests are served by different threads), and every answer
    is its own."""
    before = int(pool(dsrv, "solo.test")["reused"])
    conn = http.client.HTTPConnection("127.0.0.1", dsrv.port, timeout=20)
    try:
        for i in range(20):
            st, body = _keepalive_get(conn, "/pycgi/dmn_who.py?n=%d" % i,
                                      "solo.test")
            assert st == 200, (st, body)
            assert json.loads(body)["query"] == "n=%d" % i, body
    finally:
        conn.close()
    reused = int(pool(dsrv, "solo.test")["reused"]) - before
    assert reused == 19, reused


def test_no_connection_is_kept_after_a_script_that_started_a_process(dsrv):
    """dmn_fds.py runs a shell and a subprocess, which could keep a copy
    of the worker's connection: the worker keeps none after it, so the
    client's next request comes on a new connection (the `reused` count
    grows for the second and third requests only), and all answer."""
    before = int(pool(dsrv, "solo.test")["reused"])
    conn = http.client.HTTPConnection("127.0.0.1", dsrv.port, timeout=20)
    try:
        for path in ("/pycgi/dmn_who.py", "/pycgi/dmn_who.py",
                     "/pycgi/dmn_fds.py", "/pycgi/dmn_who.py"):
            st, body = _keepalive_get(conn, path, "solo.test")
            assert st == 200, (path, st, body)
    finally:
        conn.close()
    assert int(pool(dsrv, "solo.test")["reused"]) - before == 2


def test_a_kept_connection_to_a_worker_that_died_is_given_up(dsrv):
    """The worker that served a keep-alive client is killed (SIGKILL)
    while it idles with the connection kept: the client's next requests
    on the same connection are answered (200) by a new worker."""
    conn = http.client.HTTPConnection("127.0.0.1", dsrv.port, timeout=20)
    try:
        st, body = _keepalive_get(conn, "/pycgi/dmn_who.py", "solo.test")
        assert st == 200, (st, body)
        first = json.loads(body)["pid"]
        st, body = _keepalive_get(conn, "/pycgi/dmn_who.py", "solo.test")
        assert st == 200 and json.loads(body)["pid"] == first, body
        os.kill(first, signal.SIGKILL)
        for i in range(3):
            st, body = _keepalive_get(conn, "/pycgi/dmn_who.py?k=%d" % i,
                                      "solo.test")
            assert st == 200, (i, st, body)
            got = json.loads(body)
            assert got["pid"] != first and got["query"] == "k=%d" % i, got
    finally:
        conn.close()


def test_claims_a_worker_gives_up_are_sent_again_on_a_new_connection(dsrv,
                                                                    dsite):
    """A worker woken by a new connection at the moment its kept
    connection is claimed gives the claim up, closing that connection,
    and httpd sends the request again on a new one (it had no STARTED
    yet).  Four keep-alive clients of solo.test (one worker) collide that
    way often: each of their 600 requests is answered with its own
    nonce, its script ran exactly once (dmn_once.py writes down every
    run), and the pool counts the requests sent again (`dropped`)."""
    runs = dsite.path("capture/once-%s-%s.txt" % (dsrv.mpm, uuid.uuid4().hex))
    before = int(pool(dsrv, "solo.test")["dropped"])
    errors, lock = [], threading.Lock()

    def client(k):
        conn = http.client.HTTPConnection("127.0.0.1", dsrv.port, timeout=30)
        try:
            for i in range(150):
                nonce = "c%d-%d" % (k, i)
                st, body = _keepalive_get(
                    conn, "/pycgi/dmn_once.py?%s:%s" % (runs, nonce),
                    "solo.test")
                if st != 200 or body.decode().strip() != nonce:
                    with lock:
                        errors.append((nonce, st, body[:200]))
        except Exception as e:  # noqa: BLE001 -- reported below
            with lock:
                errors.append(("client %d" % k, repr(e)))
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:5]
    with open(runs) as f:
        ran = f.read().split()
    assert len(ran) == 600 and len(set(ran)) == 600, \
        [n for n in set(ran) if ran.count(n) > 1][:5]
    dropped = int(pool(dsrv, "solo.test")["dropped"]) - before
    assert dropped > 0, "no claim was given up: the case went untested"


def test_a_kept_connection_survives_its_worker_retiring(dsrv):
    """mr3.test retires its worker every 3 requests: 10 requests of one
    keep-alive client all answer 200, from a new worker every 3."""
    conn = http.client.HTTPConnection("127.0.0.1", dsrv.port, timeout=20)
    pids = []
    try:
        for i in range(10):
            st, body = _keepalive_get(conn, "/pycgi/dmn_who.py?r=%d" % i,
                                      "mr3.test")
            assert st == 200, (i, st, body)
            pids.append(json.loads(body)["pid"])
    finally:
        conn.close()
    assert len(set(pids)) >= 3, pids


def test_kept_pipes_carry_each_request_its_own_output_only(dsrv):
    """The worker keeps the request's stdout and stderr pipes with the
    connection: whatever a script does to them (200 KB on both, fds 1
    and 2 dup2()ed over or closed, fd 1 replaced while a copy of it
    stays open, stdout left non-blocking, a malformed header with its
    body left unread, a POST
    body read through), each response of one keep-alive client is
    exactly its own, and each script's stderr line reaches the log."""
    mark = dsrv.log_mark()
    before = int(pool(dsrv, "solo.test")["reused"])
    conn = http.client.HTTPConnection("127.0.0.1", dsrv.port, timeout=20)
    tag = uuid.uuid4().hex[:10]
    steps = [
        ("who?n=1", 200, None),
        ("stdio?big", 200, ("o" * 99 + "\n") * 2000),
        ("stdio?nonblock", 200, "nonblock\n"),
        ("stdio?big", 200, ("o" * 99 + "\n") * 2000),
        ("who?n=2", 200, None),
        ("stdio?replace", 200, "replaced\n"),
        ("stdio?stderr&tag=%s-1" % tag, 200, "stderr %s-1\n" % tag),
        ("stdio?close", 200, "closed\n"),
        ("stdio?stderr&tag=%s-0" % tag, 200, "stderr %s-0\n" % tag),
        ("stdio?leak", 200, "leaked\n"),
        ("stdio?stderr&tag=%s-2" % tag, 200, "stderr %s-2\n" % tag),
        ("stdio?badhdr", 500, None),
        ("echo_body", 200, "post"),
        ("echo_body", 200, "post"),
        ("who?n=3", 200, None),
        ("stdio?stderr&tag=%s-3" % tag, 200, "stderr %s-3\n" % tag),
        ("who?n=4", 200, None),
    ]
    posted = os.urandom(150000)
    try:
        for path, want_status, want_body in steps:
            if want_body == "post":
                conn.request("POST", "/pycgi/echo_body.py", body=posted,
                             headers={"Host": "solo.test"})
                resp = conn.getresponse()
                st, body = resp.status, resp.read()
                assert st == 200, (st, body[:300])
                assert "sha256=%s" % hashlib.sha256(posted).hexdigest() \
                    in body.decode(), body
                continue
            st, body = _keepalive_get(conn, "/pycgi/dmn_%s" % path.replace(
                "?", ".py?", 1), "solo.test")
            assert st == want_status, (path, st, body[:300])
            if path.startswith("who"):
                assert json.loads(body)["query"] == path.split("?")[1], body
            elif want_body is not None:
                assert body.decode() == want_body, (path, body[:300])
    finally:
        conn.close()
    for i in (0, 1, 2, 3):
        assert_log(dsrv, mark, r"stdio-tag %s-%d" % (tag, i))
    text = assert_log(dsrv, mark, r"e{99}")
    assert len(re.findall(r"e{99}", text)) >= 1000, "stderr of big lost"
    # Kept after big, who, stderr, the POSTs and who at least.
    assert int(pool(dsrv, "solo.test")["reused"]) - before >= 6


def test_kept_pipes_never_carry_a_background_jobs_late_output(dsrv):
    """A script starts a background job through the shell (os.system
    forks by posix_spawn, which no Python hook sees) that writes to the
    inherited stdout a second later.  The worker, a subreaper, finds the
    job still running after the script and retires rather than keep
    pipes the job may write to; the client's later responses on the same
    keep-alive connection are exactly their own."""
    mark = dsrv.log_mark()
    tag = uuid.uuid4().hex[:10]
    conn = http.client.HTTPConnection("127.0.0.1", dsrv.port, timeout=20)
    try:
        st, body = _keepalive_get(conn, "/pycgi/dmn_stdio.py?bgjob&tag=%s"
                                  % tag, "solo.test")
        assert st == 200 and body.startswith(b"bgjob\n"), (st, body)
        first = None
        for i in range(2):
            st, body = _keepalive_get(conn, "/pycgi/dmn_who.py?b=%d" % i,
                                      "solo.test")
            assert st == 200, (st, body)
            got = json.loads(body)
            assert got["query"] == "b=%d" % i, body
            first = first or got["pid"]
            time.sleep(1.5)
    finally:
        conn.close()
    assert_log(dsrv, mark, r"PYCGI0820: worker retiring after \d+ "
                      r"requests: a child process of the script is still "
                      r"running")


# -- 12. graceful restarts ----------------------------------------------------

def test_graceful_restarts_under_load_lose_no_request(httpd, dsite, mpm):
    """5 graceful restarts (SIGUSR1) while 4 clients send nonce requests
    without pause: every request answers 200 with its own nonce; old
    workers exit, so the pycgi-worker count stays bounded and ends with
    one supervisor whose workers are all there are."""
    srv = httpd(mpm=mpm, mode="daemon", site=dsite, extra_conf=STATUS_CONF,
                tag="graceful")
    srv.get("/pycgi/hello.py")
    stop = threading.Event()
    results = []
    counts = []

    def client(c):
        while not stop.is_set():
            nonce = "c%d-%s" % (c, uuid.uuid4().hex[:12])
            try:
                resp = srv.get("/pycgi/emb_nonce.py?" + nonce,
                               headers=[("X-Nonce", nonce)], timeout=30)
                ok = resp.status == 200 and \
                    json.loads(resp.text)["query"] == nonce
                results.append((nonce, resp.status, ok, resp.text[:200]))
            except Exception as e:  # reported below
                results.append((nonce, None, False, repr(e)))

    clients = [threading.Thread(target=client, args=(c,)) for c in range(4)]
    for t in clients:
        t.start()
    resume = r"AH00\d+: .*configured -- resuming normal operations"
    try:
        time.sleep(0.5)
        for i in range(5):
            mark = srv.log_mark()
            os.kill(srv.proc.pid, signal.SIGUSR1)
            text = srv.wait_log(mark, resume, 20)
            assert re.search(resume, text), (i, text[-2000:])
            for _ in range(10):
                counts.append(len(worker_procs(srv)))
                time.sleep(0.1)
    finally:
        stop.set()
        for t in clients:
            t.join(40)
    problems = []
    bad = [r for r in results if not r[2]]
    # Traffic must have flowed (a loaded machine makes it slow: each
    # restart starts a new pool cold); none of it may fail.
    if len(results) < 8 or bad:
        problems.append("%d of %d requests failed: %s\nlog:\n%s" % (
            len(bad), len(results), [r[:2] for r in bad[:10]],
            "\n".join(l for l in srv.error_log().splitlines()
                      if re.search(r"PYCGI0(9\d\d|6\d\d)|AH00\d+: .*"
                                   r"(resuming|Graceful)", l))[-6000:]))

    def settled():
        sups = supervisors(srv)
        procs = worker_procs(srv)
        return (len(sups) == 1 and all(p.ppid == sups[0].pid for p in procs)
                and len(procs) <= 8) and (sups, procs)

    if not probe.wait_for(settled, 10):
        problems.append("old workers or supervisors left: supervisors %s, "
                        "workers %s" % (supervisors(srv), worker_procs(srv)))
    if max(counts) > 16:
        problems.append("up to %d workers at once: %s" % (max(counts),
                                                          counts))
    crashes = probe.crash_lines(srv.error_log())
    if crashes:
        problems.append("crashes: %s" % crashes)
    assert not problems, "\n".join(problems)


# -- 13. status page ----------------------------------------------------------

def test_status_page_lists_pools_and_busy_workers(dsrv):
    pid = who(dsrv)["pid"]
    before = pool(dsrv, "solo.test")
    _, workers = status(dsrv)
    mine = [w for w in workers if int(w["pid"]) == pid]
    assert len(mine) == 1 and mine[0]["pool"] == pool_name(dsrv, "solo.test")
    assert mine[0]["state"] == "idle", mine
    served = int(mine[0]["requests"])
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("r", get(
        dsrv, "/pycgi/dmn_sleep.py?2.5", "solo.test")))
    t.start()
    seen = None
    deadline = time.monotonic() + 2.3
    while time.monotonic() < deadline:
        _, workers = status(dsrv)
        busy = [w for w in workers if int(w["pid"]) == pid
                and w["state"] == "busy"]
        if busy and int(busy[0]["seconds"]) >= 1:
            seen = busy[0]
            break
        time.sleep(0.1)
    t.join(10)
    assert box["r"].status == 200
    assert seen, "worker %d never shown busy for 1 s: %s" % (pid, workers)
    assert seen["script"].endswith("/pycgi/dmn_sleep.py"), seen
    p = pool(dsrv, "solo.test")
    assert int(p["workers"]) >= 1 and int(p["max_workers"]) == 1, p
    assert int(p["requests"]) >= int(before["requests"]) + 1, (before, p)
    _, workers = status(dsrv)
    mine = [w for w in workers if int(w["pid"]) == pid]
    assert mine and mine[0]["state"] == "idle" and \
        int(mine[0]["requests"]) == served + 1, mine
