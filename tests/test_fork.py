"""PyCGIIsolation fork: the daemon runner's worker forks a child for each
request; the child runs the script and exits.  Each test states one
guarantee and is written to fail when the runner breaks it.

One server per MPM, its directories:

  /f       PyCGIMode daemon, PyCGIIsolation fork, CGIScriptTimeout 2,
           a pool of one worker (PyCGIDaemonPool fone, MaxWorkers 1), so
           that the worker's pid tells "same warm worker"
  /f_cpu   PyCGIMode auto, PyCGIIsolation fork, RLimitCPU 1: auto picks
           the daemon runner (a forked child can obey RLimit*)
  /f_reuse PyCGIMode daemon (reuse), same pool: the contrast

(The whole suite also runs in this mode: PYCGI_MODES' "fork".)
"""

import json
import os
import re
import threading
import time
import uuid

import pytest

from conftest import TEST_MODULE

pytestmark = pytest.mark.skipif(
    TEST_MODULE != "pycgi",
    reason="fork isolation is mod_pycgi's; stock mod_cgi has none")

DIRS = {
    "f": "PyCGIMode daemon\n    PyCGIIsolation fork\n"
         "    CGIScriptTimeout 2\n    PyCGIDaemonPool fone",
    "f_cpu": "PyCGIMode auto\n    PyCGIIsolation fork\n    RLimitCPU 1\n"
             "    CGIScriptTimeout 10\n    PyCGIDaemonPool fcpu",
    "f_reuse": "PyCGIMode daemon\n    PyCGIDaemonPool fone",
}

CONF = "".join(
    '<Directory "@SITE@/htdocs/%s">\n    Options +ExecCGI\n'
    '    AddHandler pycgi-script .py\n    %s\n</Directory>\n' % (sub, body)
    for sub, body in DIRS.items()) + "PyCGIDaemonMaxWorkers 1\n" + """
<Location "/pycgi-status">
    SetHandler pycgi-status
</Location>
"""


@pytest.fixture(scope="module")
def fsite(site):
    for sub in DIRS:
        site.fill_script_dir("htdocs/" + sub, "/" + sub)
    os.chmod(site.make_dir("capture"), 0o777)
    return site


@pytest.fixture(scope="module")
def fsrv(httpd_module, fsite, mpm):
    return httpd_module(mpm=mpm, mode="fork", site=fsite,
                        loglevel="info pycgi:debug", extra_conf=CONF,
                        tag="fork")


def probe(server, path="/f/fork_probe.py", query="who"):
    resp = server.get("%s?%s" % (path, query))
    assert resp.status == 200, "%s?%s: %s %r\n%s" % (
        path, query, resp.status, resp.body[:300], server.error_log_tail())
    return json.loads(resp.text)


def test_each_request_is_a_new_process_of_one_warm_worker(fsrv):
    a, b, c = (probe(fsrv) for _ in range(3))
    assert len({a["pid"], b["pid"], c["pid"]}) == 3, (a, b, c)
    # The same worker forked all three, and it is our worker program.
    assert a["ppid"] == b["ppid"] == c["ppid"], (a, b, c)
    assert a["pcomm"] == "pycgi-worker", a


def test_nothing_a_script_changes_outlives_it(fsrv):
    before = probe(fsrv)
    resp = fsrv.get("/f/fork_probe.py?dirty")
    assert resp.status == 200, resp.body[:300]
    after = probe(fsrv)
    # Library patch, SIGTERM ignored, umask 0, a thread left sleeping:
    # all died with the script's process; the worker did not retire.
    assert not after["patched"], after
    assert after["sigterm"] == before["sigterm"], (before, after)
    assert after["umask"] == before["umask"] == 0o022, (before, after)
    assert after["threads"] == 1, after
    assert after["ppid"] == before["ppid"], (before, after)


def test_reuse_mode_in_the_same_pool_is_the_contrast(fsrv):
    # The same dirty script under reuse retires its worker (a new pid
    # next time): fork isolation is what keeps the warm process.
    first = probe(fsrv, "/f_reuse/fork_probe.py")
    fsrv.get("/f_reuse/fork_probe.py?dirty")
    second = probe(fsrv, "/f_reuse/fork_probe.py")
    assert not second["patched"]
    assert first["pid"] != second["pid"], (first, second)


def test_the_script_holds_nothing_of_the_pool(fsrv):
    kv = probe(fsrv)
    fds = {int(k): v for k, v in kv["fds"].items()}
    # fds 0-2 are the request's pipes; no pool socket, no connection to
    # httpd, no life or log pipe, and the pool segment is unmapped.
    assert all(v.startswith("pipe:") for k, v in fds.items() if k <= 2), fds
    assert not any(v.startswith("socket:") for v in fds.values()), fds
    others = [k for k in fds if k > 2]
    # At most the learning pipe (close-on-exec) besides 0-2.
    assert len(others) <= 1 and all(k >= 10 for k in others), fds
    assert not kv["memfd"], kv


def test_library_modules_a_child_imported_are_warm_for_the_next(fsrv):
    first = probe(fsrv, query="learn")
    assert not first["learned"], first
    deadline = time.monotonic() + 5
    while True:
        kv = probe(fsrv)
        if kv["learned"] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert kv["learned"], "email.mime.text was not imported by the worker"
    assert kv["ppid"] == first["ppid"], (first, kv)


def test_a_crash_is_the_script_s_alone(fsrv):
    mark = fsrv.log_mark()
    before = probe(fsrv)
    resp = fsrv.get("/f/fork_probe.py?abort")
    log = fsrv.wait_log(mark, r"PYCGI0831")
    assert re.search(r"PYCGI0831: script \S*/f/fork_probe\.py \(pid \d+\) "
                     r"killed by signal 6", log), log
    # faulthandler names the script's line, through its stderr.
    assert re.search(r'File "\S*/f/fork_probe\.py", line \d+', log), log
    after = probe(fsrv)
    assert after["ppid"] == before["ppid"], "the worker died with its child"
    # Headers had been sent: the response is cut, not a 500 page.
    assert resp.status == 200


def test_timeout_sends_sigterm_to_the_script_then_504(fsrv, fsite):
    marker = os.path.join(fsite.path("capture"), uuid.uuid4().hex)
    mark = fsrv.log_mark()
    t0 = time.monotonic()
    resp = fsrv.get("/f/fork_probe.py?term&" + marker, timeout=30)
    assert resp.status == 504, (resp.status, fsrv.log_since(mark))
    assert time.monotonic() - t0 < 10
    # The script's SIGTERM handler writes "term <pid>" (the file may
    # exist a moment before its text does).
    deadline = time.monotonic() + 5
    text = ""
    while not text.startswith("term ") and time.monotonic() < deadline:
        time.sleep(0.05)
        try:
            with open(marker) as f:
                text = f.read()
        except OSError:
            pass
    assert text.startswith("term "), (text, fsrv.log_since(mark))
    # The pool serves on.
    probe(fsrv)


def test_rlimit_cpu_binds_a_forked_script_under_auto(fsrv):
    kv = probe(fsrv, "/f_cpu/fork_probe.py")
    assert kv["pcomm"] == "pycgi-worker", kv      # auto chose the daemon
    assert kv["cpu"] == 1, kv
    mark = fsrv.log_mark()
    t0 = time.monotonic()
    resp = fsrv.get("/f_cpu/fork_probe.py?spin", timeout=30)
    took = time.monotonic() - t0
    assert took < 8, took                     # SIGXCPU, not the timeout
    log = fsrv.wait_log(mark, r"PYCGI0831")
    assert re.search(r"PYCGI0831: script \S*fork_probe\.py \(pid \d+\) "
                     r"killed by signal (24|9)", log), log
    assert resp.status in (200, 500), resp.status


def test_status_page_shows_the_worker_busy_with_a_forked_script(fsrv):
    worker = probe(fsrv)["ppid"]
    box = {}
    t = threading.Thread(target=lambda: box.setdefault(
        "r", fsrv.get("/f/dmn_sleep.py?1.5")))
    t.start()
    seen = None
    deadline = time.monotonic() + 1.4
    while time.monotonic() < deadline and not seen:
        text = fsrv.get("/pycgi-status?auto").text
        for line in text.splitlines():
            # (Busy with the probe a moment longer: after answering, it
            # imports what that probe's process imported.)
            if line.startswith("Worker: ") and " pid=%d " % worker in line \
                    and " state=busy " in line \
                    and line.endswith("/f/dmn_sleep.py"):
                seen = line
        time.sleep(0.05)
    t.join(10)
    assert box["r"].status == 200, box["r"]
    assert seen, (worker, text)
