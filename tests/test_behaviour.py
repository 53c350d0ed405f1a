"""Behaviour of mod_pycgi on its own, for every runner (PYCGI_MODES) and MPM.

The request table of cases.py runs against the directories served by our
own handler name (pycgi-script); the tests below it cover what a
differential test cannot express: runner identity, stderr handling,
streaming, unread bodies, concurrency and persistent connections.
"""

import re
import threading
import time
import uuid

import pytest

import cases
from conftest import TEST_MODULE

ROLES = cases.PYCGI_ROLES if TEST_MODULE == "pycgi" else cases.STOCK_ROLES


@pytest.mark.parametrize("case", cases.CASES, ids=cases.CASE_IDS)
def test_table(srv, case):
    ctx = cases.Ctx(srv, ROLES)
    mark = srv.log_mark()
    resp = case.send(ctx)
    cases.run_checks(case, resp, ctx)
    cases.check_log(case, ctx, mark)


@pytest.mark.parametrize("prefix", ["/pycgi", "/cgi-bin", "/exec"])
def test_runner_in_effect(srv, mode, base, prefix):
    """`PyCGIMode <mode>` in the directory decides who runs the script,
    for our handler name and for cgi-script alike; scripts run as the
    server's User in both runners."""
    if prefix == "/pycgi":
        prefix = base
    resp = srv.get(prefix + "/whoami.py")
    assert resp.status == 200, resp.body
    lines = dict(l.split("=", 1) for l in resp.text.splitlines())
    assert re.fullmatch(cases.expected_exe(TEST_MODULE, mode), lines["exe"]), \
        "PyCGIMode %s in %s, but the script ran in %s" % (
            mode, prefix, lines["exe"])
    assert lines["uid"] == "33"


def test_stderr_tagged_with_script(srv, base):
    marker = "marker-" + uuid.uuid4().hex
    mark = srv.log_mark()
    resp = srv.get("%s/stderr.py?%s" % (base, marker))
    assert resp.status == 200
    assert resp.text == "stdout after stderr %s\n" % marker
    text = srv.wait_log(mark, r"stderr-line-2 " + marker)
    for i in range(3):
        lines = [l for l in text.splitlines()
                 if "stderr-line-%d %s" % (i, marker) in l]
        assert len(lines) == 1, \
            "stderr line %d logged %d times:\n%s" % (i, len(lines), text)
        assert "stderr.py" in lines[0], \
            "stderr line not tagged with the script: %r" % lines[0]


def test_megabyte_of_stderr_before_headers(srv, base):
    mark = srv.log_mark()
    resp = srv.get(base + "/stderr_big.py", timeout=20)
    assert resp.status == 200
    assert resp.text == "survived 1 MiB of stderr\n"
    text = srv.wait_log(mark, r"stderr_big\.py.*e{1000}")
    assert re.search(r"stderr_big\.py.*e{1000}", text)


def test_unread_20m_post_does_not_hang(srv, base):
    body = b"x" * (20 * 1024 * 1024)
    t0 = time.monotonic()
    resp = srv.request("POST", base + "/noread.py", body=body,
                       headers=[("Content-Type",
                                 "application/octet-stream")], timeout=40)
    elapsed = time.monotonic() - t0
    assert resp.status == 200
    assert resp.text == "did not read the body\n"
    # Stuck, it would wait for Timeout (30 s) or forever.
    assert elapsed < 10, "response took %.1fs" % elapsed
    # The worker is still healthy afterwards.
    assert srv.get(base + "/hello.py").status == 200


def test_streamed_response(srv, base):
    resp = srv.get(base + "/stream.py")
    assert resp.status == 200
    assert resp.text == "first line\nsecond line\n"
    assert resp.t_first_body is not None
    # The script sleeps 3 s between its two lines; measured relative to
    # the end so that a slow script start-up does not matter.
    assert resp.t_end - resp.t_first_body > 2.0, \
        "first body bytes after %.2fs, end after %.2fs: the output was " \
        "held back until the script ended" % (resp.t_first_body, resp.t_end)


def test_concurrent_requests_are_isolated(srv, base):
    """Environment and working directory belong to each request, even
    when requests run at the same time (threads under event)."""
    prefixes = [base, "/cgi-bin", "/exec"]
    results = {}

    def one(i):
        prefix = prefixes[i % len(prefixes)]
        query = "req%d-%s" % (i, uuid.uuid4().hex[:8])
        try:
            resp = srv.get("%s/sleep_env.py?%s" % (prefix, query),
                           timeout=20)
            results[i] = (prefix, query, resp.status, resp.text)
        except Exception as e:  # reported below
            results[i] = (prefix, query, None, repr(e))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    ctx = cases.Ctx(srv, ROLES)
    dirs = {p: ctx.site + "/" + cases.httpd_lib.SCRIPT_DIRS[p][0]
            for p in prefixes}
    assert len(results) == 12
    for i, (prefix, query, status, text) in sorted(results.items()):
        assert status == 200, (i, prefix, text)
        expect = "%s|%s" % (query, dirs[prefix])
        assert text == "before=%s\nafter=%s\n" % (expect, expect), \
            "request %d to %s saw another request's state:\n%s" % (
                i, prefix, text)


def _split_responses(data):
    """Split pipelined responses (chunked or Content-Length framed)."""
    out = []
    while data:
        head, sep, rest = data.partition(b"\r\n\r\n")
        assert sep, "incomplete response head: %r" % data[:200]
        resp = cases.httpd_lib.Response(head + sep)
        if "chunked" in (resp.header("Transfer-Encoding") or ""):
            _, body_len = cases.httpd_lib.dechunk_prefix(rest)
        else:
            body_len = int(resp.header("Content-Length") or 0)
        out.append(cases.httpd_lib.Response(head + sep + rest[:body_len]))
        data = rest[body_len:]
    return out


def test_keepalive_pipelined(srv, base):
    """Three CGI responses on one persistent connection: each must be
    framed so the next one can be found."""
    host = "Host: 127.0.0.1:%d\r\n" % srv.port
    req = ("GET %s/hello.py HTTP/1.1\r\n%s\r\n"
           "POST %s/echo_body.py HTTP/1.1\r\n%sContent-Length: 5\r\n\r\nabcde"
           "GET %s/status.py?404 HTTP/1.1\r\n%sConnection: close\r\n\r\n"
           % (base, host, base, host, base, host)).encode()
    responses = _split_responses(srv.raw(req))
    assert [r.status for r in responses] == [200, 200, 404]
    assert responses[0].text == cases.HELLO_BODY
    assert "length=5\n" in responses[1].text
    assert responses[2].text == "status body for 404\n"


def test_server_survives_exit_and_exception(srv, base):
    for _ in range(3):
        assert srv.get(base + "/exit_code.py").status == 200
        assert srv.get(base + "/exception.py").status == 200
    resp = srv.get(base + "/hello.py")
    assert resp.status == 200 and resp.text == cases.HELLO_BODY


def _pipeline(srv, paths):
    """GET each path on one persistent connection (so one server process
    answers all of them) and return the responses."""
    host = "Host: 127.0.0.1:%d\r\n" % srv.port
    reqs = ["GET %s HTTP/1.1\r\n%s%s\r\n" % (
        p, host, "Connection: close\r\n" if i == len(paths) - 1 else "")
        for i, p in enumerate(paths)]
    mark = srv.log_mark()
    raw = srv.raw("".join(reqs).encode())
    try:
        responses = _split_responses(raw)
        assert len(responses) == len(paths), \
            "%d responses to %d requests" % (len(responses), len(paths))
    except (AssertionError, ValueError) as e:
        # Cut short: the parent logs a crashed child when it reaps it.
        log = srv.wait_log(mark, r"exit signal", timeout=3)
        crashes = [l for l in log.splitlines() if "exit signal" in l]
        raise AssertionError(
            "pipelined %s: the connection ended mid-response (%s); "
            "%d bytes, ending %r; child crashes logged: %s"
            % (paths, e, len(raw), raw[-120:], crashes or "none"))
    assert [r.status for r in responses] == [200] * len(paths), \
        [(r.status, r.body[:200]) for r in responses]
    return responses


def test_no_state_leaks_between_requests(srv, base):
    """Environment, working directory, argv, sys.path and globals that a
    script changes are its own; the next script in the same server process
    starts clean."""
    ctx = cases.Ctx(srv, ROLES)
    responses = _pipeline(srv, [base + "/pollute.py", base + "/state.py",
                                base + "/pollute.py", "/cgi-bin/state.py"])
    for resp, role_dir in ((responses[1], base), (responses[3], "/cgi-bin")):
        cwd = ctx.site + "/" + cases.httpd_lib.SCRIPT_DIRS[role_dir][0]
        assert resp.text.splitlines() == [
            "env=<unset>", "cwd=%s" % cwd, "argv=[]",
            "path_polluted=False", "global_leaked=False"]


def test_sibling_modules_do_not_mix(srv, base):
    """Each directory's pycgi_helper.py is its own module, even when the
    same process ran the other directory's script just before."""
    ctx = cases.Ctx(srv, ROLES)
    prefixes = ["/cgi-bin", "/exec", base, "/cgi-bin"]
    responses = _pipeline(srv, [p + "/use_helper.py" for p in prefixes])
    for prefix, resp in zip(prefixes, responses):
        where = ctx.site + "/" + cases.httpd_lib.SCRIPT_DIRS[prefix][0]
        assert resp.text == "helper=%s\n" % where, prefix
