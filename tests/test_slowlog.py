"""PyCGISlowLog: a script still running after so many seconds gets its
Python stack logged once, with the request line, and goes on unharmed.
Each test states one guarantee, for each runner that runs Python:
daemon reuse, daemon fork and embedded.

One server per MPM, its directories (each daemon one a pool of its own,
of one worker, so that the worker's pid tells "same worker"):

  /s_<runner>   PyCGISlowLog 1: to the error log
  /sf_<runner>  PyCGISlowLog 1 @LOGDIR@/slow_log: to that file
  /s_exec       PyCGISlowLog 1 under the exec runner: the line, no stack
  /sf_exec      the same to @LOGDIR@/slow_log

The script, slow_deep.py, sleeps 2.5 s in deep_wait() then prints 2000
lines; with a query of 0.3 it is a fast script.
"""

import os
import re
import time
import uuid

import pytest

from conftest import TEST_MODULE
from httpd import SCRIPTS

pytestmark = pytest.mark.skipif(
    TEST_MODULE != "pycgi",
    reason="PyCGISlowLog is mod_pycgi's; stock mod_cgi has none")

RUNNERS = {
    "reuse": "PyCGIMode daemon",
    "fork": "PyCGIMode daemon\n    PyCGIIsolation fork",
    "embedded": "PyCGIMode embedded",
}


def _dirs():
    dirs = {"s_exec": "PyCGIMode exec\n    PyCGISlowLog 1",
            "sf_exec": "PyCGIMode exec\n    PyCGISlowLog 1 @LOGDIR@/slow_log"}
    for name, mode in RUNNERS.items():
        pool = ("\n    PyCGIDaemonPool p%s" % name) if "daemon" in mode else ""
        dirs["s_" + name] = mode + pool + "\n    PyCGISlowLog 1"
        dirs["sf_" + name] = (mode + pool.replace(" p", " pf")
                              + "\n    PyCGISlowLog 1 @LOGDIR@/slow_log")
    return dirs


DIRS = _dirs()

CONF = "".join(
    '<Directory "@SITE@/htdocs/%s">\n    Options +ExecCGI\n'
    '    AddHandler pycgi-script .py\n    %s\n</Directory>\n' % (sub, body)
    for sub, body in DIRS.items()) + "PyCGIDaemonMaxWorkers 1\n"


def _marked_line():
    with open(os.path.join(SCRIPTS, "slow_deep.py")) as f:
        for n, line in enumerate(f, 1):
            if "SLOWLOG-LINE" in line:
                return n
    raise AssertionError("slow_deep.py lost its marked line")


LINE = _marked_line()
# faulthandler's (daemon) and the watchdog's (embedded) frame line.
FRAME = r'File \\?"\S*/slow_deep\.py\\?", line %d in deep_wait' % LINE


@pytest.fixture(scope="module")
def ssite(site):
    for sub in DIRS:
        site.fill_script_dir("htdocs/" + sub, "/" + sub)
    return site


@pytest.fixture(scope="module")
def ssrv(httpd_module, ssite, mpm):
    return httpd_module(mpm=mpm, mode="daemon", site=ssite,
                        extra_conf=CONF, tag="slowlog")


def slow_get(server, path, secs="2.5"):
    """GET path?secs&nonce; the nonce is in the request line the log
    must name.  Returns (response, request line, log mark)."""
    nonce = uuid.uuid4().hex
    mark = server.log_mark()
    resp = server.get("%s?%s&%s" % (path, secs, nonce), timeout=30)
    return resp, "GET %s?%s&%s HTTP/1.1" % (path, secs, nonce), mark


def assert_whole(server, resp):
    assert resp.status == 200, (resp.status, resp.body[:300],
                                server.error_log_tail())
    lines = resp.text.splitlines()
    assert lines[-1] == "end" and len(lines) == 2002, lines[-3:]
    assert lines[1:-1] == ["line %d" % i for i in range(2000)]


def slow_entries(log, request_line):
    return [l for l in log.splitlines()
            if "PYCGI0109" in l and request_line in l]


@pytest.mark.parametrize("runner", list(RUNNERS))
def test_a_slow_script_gets_one_entry_with_its_stack(ssrv, runner):
    resp, line, mark = slow_get(ssrv, "/s_%s/slow_deep.py" % runner)
    assert_whole(ssrv, resp)
    log = ssrv.wait_log(mark, FRAME)
    entries = slow_entries(log, line)
    assert len(entries) == 1, log
    assert "slow_deep.py: still running after 1 s" in entries[0], entries
    # One stack, naming the line deep_wait() sleeps on: the script's
    # thread alone (embedded), the script's process alone (fork: not
    # the waiting worker's too).
    assert len(re.findall(FRAME, log)) == 1, log


@pytest.mark.parametrize("runner", list(RUNNERS))
def test_a_fast_script_gets_none(ssrv, runner):
    resp, line, mark = slow_get(ssrv, "/s_%s/slow_deep.py" % runner, "0.3")
    assert_whole(ssrv, resp)
    time.sleep(1.2)
    log = ssrv.log_since(mark)
    assert not slow_entries(log, line), log
    assert not re.search(FRAME, log), log


@pytest.mark.parametrize("runner", list(RUNNERS))
def test_the_file_form_writes_there(ssrv, runner):
    path = os.path.join(ssrv.logdir, "slow_log")
    resp, line, mark = slow_get(ssrv, "/sf_%s/slow_deep.py" % runner)
    assert_whole(ssrv, resp)
    deadline = time.monotonic() + 5
    while True:
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            text = ""
        record = text[text.find("request: " + line):] \
            if "request: " + line in text else ""
        if re.search(FRAME, record) or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert record, (text, ssrv.log_since(mark))
    assert re.search(FRAME, record), record
    assert text.count("request: " + line) == 1, text
    # Nothing of it in the error log.
    log = ssrv.log_since(mark)
    assert not slow_entries(log, line), log
    assert not re.search(FRAME, log), log


def test_a_reused_worker_does_not_retire_for_it(ssrv):
    # "touch": the worker's full comparison of signal handlers with its
    # boot snapshot runs after this script, and finds the slow log's
    # handler unchanged.
    resp, _, mark = slow_get(ssrv, "/s_reuse/slow_deep.py", "2.5&touch")
    assert_whole(ssrv, resp)
    assert "PYCGI0109" in ssrv.log_since(mark)
    first = resp.text.splitlines()[0]
    resp, _, _ = slow_get(ssrv, "/s_reuse/slow_deep.py", "0")
    assert_whole(ssrv, resp)
    assert resp.text.splitlines()[0] == first, (first, resp.text[:40])
    assert "PYCGI0820" not in ssrv.log_since(mark), ssrv.log_since(mark)


def test_exec_gets_the_line_without_a_stack(ssrv):
    resp, line, mark = slow_get(ssrv, "/s_exec/slow_deep.py")
    assert_whole(ssrv, resp)
    log = ssrv.log_since(mark)
    entries = slow_entries(log, line)
    assert len(entries) == 1 and "no Python stack" in entries[0], log
    assert not re.search(FRAME, log), log


def test_exec_file_form_gets_the_record_alone(ssrv):
    path = os.path.join(ssrv.logdir, "slow_log")
    resp, line, mark = slow_get(ssrv, "/sf_exec/slow_deep.py")
    assert_whole(ssrv, resp)
    with open(path) as f:
        text = f.read()
    assert text.count("request: " + line) == 1, text
    head = text[:text.index("request: " + line)].splitlines()[-1]
    assert "sf_exec/slow_deep.py: still running after 1 s (exec runner: " \
        "no Python stack)" in head, head
    assert not slow_entries(ssrv.log_since(mark), line)
