"""The embedded runner: how faithfully it plays a fresh CGI process, and
how it survives what a script does to the process it borrows.

Every test goes through a real apache2 (prefork and event).  Most of them
use a server with ONE child process (`one`), so that consecutive
requests are known to run in the same interpreter; each test checks that
with the pids the scripts report.  Where a behaviour is defined by what
a fork/exec CGI process does, the test runs the same script in an exec
directory of the same server (`runner` parameter) and expects the same
result, so the exec side proves the expectation on every run.

Directories of this module's site (all AddHandler pycgi-script):

  /m_emb, /m_emb2   PyCGIMode embedded      /m_exe   PyCGIMode exec
  /m_auto           PyCGIMode auto
  /m_embt, /m_exet  embedded / exec with CGIScriptTimeout 2
  /m_ssi            embedded, its output through mod_include (INCLUDES)
"""

import hashlib
import json
import os
import re
import resource
import shutil
import signal
import tempfile
import threading
import time
import uuid
import warnings

import pytest

import appkit
import httpd as httpd_lib
import probe
from conftest import TEST_MODULE

pytestmark = pytest.mark.skipif(
    TEST_MODULE != "pycgi",
    reason="the embedded runner is mod_pycgi's; stock mod_cgi has none")

DIRS = {
    "m_emb": "PyCGIMode embedded",
    "m_emb2": "PyCGIMode embedded",
    "m_exe": "PyCGIMode exec",
    "m_auto": "PyCGIMode auto",
    "m_embt": "PyCGIMode embedded\n    CGIScriptTimeout 2",
    "m_exet": "PyCGIMode exec\n    CGIScriptTimeout 2",
    "m_ssi": "PyCGIMode embedded\n    Options +Includes\n"
             "    SetOutputFilter INCLUDES\n    CGIScriptTimeout 5",
}
RUNNER_DIR = {"embedded": "/m_emb", "exec": "/m_exe"}
TIMEOUT_DIR = {"embedded": "/m_embt", "exec": "/m_exet"}
RUNNERS = ["exec", "embedded"]

# One child process: prefork serves one request at a time; event has
# one process with threads (embedded requests are serialised in it).
ONE_CHILD = {
    "prefork": """\
StartServers 1
MinSpareServers 1
MaxSpareServers 1
ServerLimit 1
MaxRequestWorkers 1""",
    "event": """\
StartServers 1
ServerLimit 1
ThreadsPerChild 16
MinSpareThreads 1
MaxSpareThreads 32
MaxRequestWorkers 16""",
}

DEBUG = "info pycgi:debug"


def dirs_conf():
    out = []
    for sub, directives in DIRS.items():
        out.append('<Directory "@SITE@/htdocs/%s">\n    Options +ExecCGI\n'
                   '    AddHandler pycgi-script .py .cgi\n    %s\n'
                   '</Directory>' % (sub, directives))
    return "\n".join(out) + "\n"


def one_child_conf(mpm, extra=""):
    return ONE_CHILD[mpm] + "\n" + dirs_conf() + extra


@pytest.fixture(scope="module")
def esite(site):
    for sub in DIRS:
        site.fill_script_dir("htdocs/" + sub, "/" + sub)
    return site


STATUS_CONF = """
<Location "/pycgi-status">
    SetHandler pycgi-status
</Location>
"""


@pytest.fixture(scope="module")
def one(httpd_module, esite, mpm):
    """mod_pycgi with a single child process, pycgi:debug logging."""
    return httpd_module(mpm=mpm, mode="embedded", site=esite,
                        loglevel=DEBUG,
                        extra_conf=one_child_conf(mpm, STATUS_CONF),
                        tag="one")


@pytest.fixture(scope="module")
def multi(httpd_module, esite, mpm):
    """mod_pycgi with the harness's usual several children."""
    return httpd_module(mpm=mpm, mode="embedded", site=esite,
                        extra_conf=dirs_conf(), tag="multi")


@pytest.fixture(params=RUNNERS)
def runner(request):
    return request.param


def get_json(server, path, **kw):
    resp = server.get(path, **kw)
    assert resp.status == 200, "%s: %s %r" % (path, resp.status,
                                              resp.body[:500])
    return json.loads(resp.text)


def pid_of(server):
    return get_json(server, "/m_emb/emb_pid.py")["pid"]


def script_path(server, url):
    return server.site.htdocs + url.split("?")[0]


def assert_log(server, mark, pattern, timeout=5.0, what="log line"):
    text = server.wait_log(mark, pattern, timeout)
    assert re.search(pattern, text), \
        "no %s matching %r in the new error log:\n%s" % (
            what, pattern, text[-4000:])
    return text


# -- 1. isolation -------------------------------------------------------------

def test_state_does_not_leak_to_next_request(one):
    """sys.argv, sys.path, cwd, a sibling module's global, __main__ and
    module-level names changed by one script are fresh for the next
    script run by the same process, in another directory and in the same
    one.  (os.environ: see the next test.)"""
    before = get_json(one, "/m_emb2/emb_clean.py")
    dirty = get_json(one, "/m_emb/emb_dirty.py?"
                     "argv,path,cwd,sibling,main,global")
    after_other_dir = get_json(one, "/m_emb2/emb_clean.py")
    after_same_dir = get_json(one, "/m_emb/emb_clean.py")
    _check_clean(one, before, dirty, after_other_dir, after_same_dir)
    assert dirty["cwd"] == "/tmp" and dirty["sibling"] == "dirty"
    assert dirty["argv"] == ["argv,path,cwd,sibling,main,global",
                             "leaked-arg"]


def _check_clean(one, before, dirty, after_other_dir, after_same_dir):
    pids = {before["pid"], dirty["pid"], after_other_dir["pid"],
            after_same_dir["pid"]}
    assert len(pids) == 1, "not one process: %s" % pids
    assert after_other_dir == before
    emb = one.site.htdocs + "/m_emb"
    emb2 = one.site.htdocs + "/m_emb2"
    for state, where in ((after_other_dir, emb2), (after_same_dir, emb)):
        assert state["leak"] is None
        assert state["argv"] == [where + "/emb_clean.py"]
        assert state["path"][0] == where
        assert "/leaked/path" not in state["path"]
        assert state["cwd"] == where
        assert state["sibling"] == "pristine"
        assert state["sibling_file"] == where + "/emb_sibling.py"
        assert state["module_level_seen"] is False
        assert state["main_extra"] is None
        assert state["main_is_globals"] is True
        assert state["globals"] == before["globals"]
    assert after_same_dir["path"][1:] == before["path"][1:]


@pytest.mark.parametrize("how", ["set", "del", "putenv", "setdefault",
                                 "clear"])
def test_environment_change_does_not_leak_or_crash(one, how):
    """Changing os.environ is ordinary for a CGI process (os.environ["TZ"]
    = ..., libraries setting their own variables).  The next request in
    the same process must get its own environment, and the process must
    survive.  (Until e1a5c95 a setenv() made glibc realloc the array
    `environ` was restored to, and the next request's getenv("PATH") in
    ap_add_common_vars() segfaulted.)"""
    before = get_json(one, "/m_emb2/emb_clean.py")
    mark = one.log_mark()
    changed = get_json(one, "/m_emb/emb_setenv.py?" + how)
    res = probe.stream_request(one, "GET", "/m_emb2/emb_clean.py")
    assert res.status == 200, "%r; log: %s" % (
        res, probe.crash_lines(one.log_since(mark)))
    after = json.loads(res.text)
    assert before["pid"] == changed["pid"] == after["pid"]
    assert after == before
    env = get_json(one, "/m_emb/emb_introspect.py")["env"]
    assert "EMB_SETENV" not in env and env.get("PATH") and "TZ" not in env
    assert not probe.crash_lines(one.log_since(mark))


# -- 2. the process as the script sees it, against exec -----------------------

def _normalise(view, own_dir, other_dir):
    def fix(v):
        if isinstance(v, str):
            return v.replace(own_dir, other_dir)
        if isinstance(v, list):
            return [fix(x) for x in v]
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        return v
    view = fix(view)
    view["env"].pop("REMOTE_PORT", None)
    return view


def _views(one):
    """emb_introspect.py as run by each runner, embedded paths rewritten
    to the exec directory's."""
    url = "/emb_introspect.py/extra/path?word1+word2"
    views = {}
    for runner in RUNNERS:
        resp = one.get(RUNNER_DIR[runner] + url,
                       headers=[("X-Probe", "same-for-both")])
        assert resp.status == 200, (runner, resp.body[:500])
        views[runner] = json.loads(resp.text)
    emb = _normalise(views["embedded"], "/m_emb/", "/m_exe/")
    emb = _normalise(emb, "/m_emb", "/m_exe")
    return emb, _normalise(views["exec"], "", "")


# Compared by tests of their own, below.
OWN_TESTS = ("globals_at_start", "stdout")


def test_process_view_matches_exec(one):
    """Environment (key by key), cwd, argv, sys.path[0], __name__,
    __file__, __doc__, stdin/stderr encodings, the locale, umask and
    sys.executable are what the same script sees as a process."""
    emb, exe = _views(one)
    env_e, env_x = emb.pop("env"), exe.pop("env")
    missing = sorted(set(env_x) - set(env_e))
    extra = sorted(set(env_e) - set(env_x))
    differ = {k: (env_e[k], env_x[k]) for k in set(env_e) & set(env_x)
              if env_e[k] != env_x[k]}
    assert not missing and not extra and not differ, \
        "environment differs from exec: missing %s, extra %s, " \
        "different (embedded, exec) %s" % (missing, extra, differ)
    assert exe["argv"][1:] == ["word1", "word2"]
    for key in sorted(exe):
        if key not in OWN_TESTS:
            assert emb[key] == exe[key], "%s: embedded %r, exec %r" % (
                key, emb[key], exe[key])


def test_main_module_globals_match_exec(one):
    """The names a script finds in its fresh __main__ are a process's."""
    emb, exe = _views(one)
    # Fixed module bug (regression guard): the embedded __main__ lacks
    # __annotations__ (a process's __main__ has it: pycgi_boot.begin() builds
    # the module without it)
    assert emb["globals_at_start"] == exe["globals_at_start"]


def test_stdout_encoding_matches_exec(one):
    emb, exe = _views(one)
    assert exe["stdout"] == ["utf-8", "surrogateescape"]
    # Fixed module bug (regression guard): embedded sys.stdout uses
    # errors='strict' where python3 in the C.UTF-8 locale uses
    # 'surrogateescape' (pycgi_boot.py begin())
    assert emb["stdout"] == exe["stdout"]


# -- 1b. the std streams a process reuses -------------------------------------
#
# Each process keeps one set of sys.stdin/stdout/stderr objects and hands
# it to the next script only when it is as good as new (pycgi_pyio.c).
# The status page counts the text streams built (stdio_builds).

def stdio_builds(server, pid):
    r = server.get("/pycgi-status?auto")
    assert r.status == 200, r
    for line in re.findall(r"^Child: (.*)$", r.text, re.M):
        kv = dict(item.split("=", 1) for item in line.split())
        if int(kv["pid"]) == pid:
            return int(kv["stdio_builds"])
    raise AssertionError("pid %s not on the status page:\n%s"
                         % (pid, r.text))


def stdio_look(server, body=b"a\r\nb\rc\n"):
    resp = server.request("POST", "/m_emb/emb_stdio.py?look", body=body,
                          headers=[("Content-Type", "text/plain")])
    assert resp.status == 200, resp
    assert resp.body.endswith(b"}\n"), resp.body[-40:]
    return json.loads(resp.text)


def test_plain_requests_reuse_the_streams(one):
    first = stdio_look(one)
    pid = first["pid"]
    # A script that reads stdin gets a fresh stdin next time: warm up
    # with GETs, which leave every stream untouched.
    get_json(one, "/m_emb/emb_pid.py")
    base = stdio_builds(one, pid)
    views = [get_json(one, "/m_emb/emb_stdio.py?view") for _ in range(10)]
    assert {v["pid"] for v in views} == {pid}
    assert stdio_builds(one, pid) == base
    assert len({tuple(v["ids"]) for v in views}) == 1


def test_stashed_streams_serve_the_script_that_uses_them(one):
    """A script that keeps its streams in a library module: a later
    request's script writes and reads through them as through its own
    (in a process they would be its fds), and that request still gets
    new stream objects of its own."""
    stash = get_json(one, "/m_emb/emb_stdio.py?stash")
    mark = one.log_mark()
    resp = one.request("POST", "/m_emb/emb_stdio.py?use_stash",
                       body=b"SECRET-BODY",
                       headers=[("Content-Type", "text/plain")])
    assert resp.status == 200, resp
    lines = resp.text.splitlines()
    assert lines[:2] == ["STASH-TEXT", "STASH-BYTES"], lines
    used = json.loads(lines[-1])
    assert used["pid"] == stash["pid"]
    assert used["stale_is_current"] == [False, False, False]
    # Fixed module bug (regression guard, issue 13): every use raised
    # ValueError, so a library that kept a stream (Mercurial, logging)
    # failed from its second request on
    for what in ("write", "write_buffer", "write_err", "read",
                 "read_buffer"):
        assert used[what] == "ok", (what, used)
    assert used["got"] == "SECRET-BODY"
    assert set(used["ids"]).isdisjoint(stash["ids"])
    path = re.escape(script_path(one, "/m_emb/emb_stdio.py"))
    assert_log(one, mark, r"stderr from %s: STASH-ERR" % path)
    assert stdio_look(one)["body"] == "a\nb\nc\n"


def test_form_posts_reuse_stdin_and_see_only_their_body(one):
    """cgi.FieldStorage() reads the whole body through sys.stdin.buffer:
    the drained stdin serves the next request, which reads its own body
    and nothing of the previous one."""
    def post(nonce):
        resp = one.request("POST", "/m_emb/emb_stdio.py?form",
                           body=("nonce=%s" % nonce).encode(),
                           headers=[("Content-Type",
                                     "application/x-www-form-urlencoded")])
        assert resp.status == 200, resp
        return json.loads(resp.text)

    first = post("warm-up")
    pid = first["pid"]
    post("warm-up-2")
    builds = stdio_builds(one, pid)
    nonces = [uuid.uuid4().hex for _ in range(8)]
    answers = [post(n) for n in nonces]
    assert [a["nonce"] for a in answers] == nonces
    assert {a["pid"] for a in answers} == {pid}
    assert stdio_builds(one, pid) == builds
    assert all(a["newlines"] is None for a in answers)


@pytest.mark.parametrize("how,body", [
    ("partial_bytes", b"LEFTOVER-bytes and more\n"),
    ("partial_text", b"LEFTOVER-text\nsecond\n"),
    ("readline", b"first line\nLEFTOVER-line\n"),
    ("partial_text", b"caf\xc3"),       # an unfinished UTF-8 character
])
def test_partly_read_stdin_is_not_reused(one, how, body):
    """What a script left unread in stdin (bytes in the BufferedReader,
    text or half a character in the TextIOWrapper, a newline seen) never
    reaches the next request: it gets a new stdin that reads its own
    body, with sys.stdin.newlines None as in a fresh process."""
    before = stdio_look(one)
    pid = before["pid"]
    get_json(one, "/m_emb/emb_stdio.py?view")
    builds = stdio_builds(one, pid)
    resp = one.request("POST", "/m_emb/emb_stdio.py?" + how, body=body,
                       headers=[("Content-Type", "text/plain")])
    assert resp.status == 200, resp
    assert "LEFTOVER" not in json.loads(resp.text).get("got", "")
    view = get_json(one, "/m_emb/emb_stdio.py?view")
    assert view["newlines"] is None
    assert stdio_builds(one, pid) > builds
    after = stdio_look(one)
    assert after["pid"] == pid
    assert after["body"] == "a\nb\nc\n"
    for key in ("types", "stdout", "stderr", "stdin", "attr"):
        assert after[key] == before[key], (key, after[key], before[key])


@pytest.mark.parametrize("how", ["reconfig_out", "reconfig_err",
                                 "reconfig_in", "encoding", "attr", "wrap",
                                 "pending_exit"])
def test_changed_streams_are_not_reused(one, how):
    """Whatever a script did to its streams, the next script in the
    process gets them as a fresh python3 would: same configuration,
    stdin decoded with universal newlines, "\n" written as b"\n", no
    leftover text, no added attributes."""
    before = stdio_look(one)
    pid = before["pid"]
    get_json(one, "/m_emb/emb_stdio.py?view")      # stdin rebuilt here
    builds = stdio_builds(one, pid)
    resp = one.get("/m_emb/emb_stdio.py?" + how)
    # os._exit() with the headers still in the text buffer: no output.
    assert resp.status == (500 if how == "pending_exit" else 200), resp
    # The changed stream is built anew for the next script.
    get_json(one, "/m_emb/emb_stdio.py?view")
    assert stdio_builds(one, pid) > builds
    resp = one.request("POST", "/m_emb/emb_stdio.py?look",
                       body=b"a\r\nb\rc\n",
                       headers=[("Content-Type", "text/plain")])
    assert resp.status == 200, resp
    assert b"\r\n" not in resp.body and b"PENDING" not in resp.body
    after = json.loads(resp.text)
    assert after["pid"] == pid
    for key in ("types", "stdout", "stderr", "stdin", "attr", "body"):
        assert after[key] == before[key], (key, after[key], before[key])
    assert after["body"] == "a\nb\nc\n"
    assert after["attr"] is None


def test_undecodable_path_info_printed_like_exec(one):
    """A PATH_INFO byte that is not UTF-8 reaches os.environ as a
    surrogate escape; printing it works in a process (stdout uses
    surrogateescape under the C/C.UTF-8 locale) and must work embedded."""
    bodies = {}
    for runner in RUNNERS:
        resp = one.get(RUNNER_DIR[runner] + "/emb_pathinfo.py/caf%E9")
        bodies[runner] = (resp.status, resp.body)
    assert bodies["exec"] == (200, b"path_info=/caf\xe9\n")
    # Fixed module bug (regression guard): embedded sys.stdout uses
    # errors='strict' where python3 in the C.UTF-8 locale uses
    # 'surrogateescape' (pycgi_boot.py begin())
    assert bodies["embedded"] == bodies["exec"]


def test_tell_on_std_streams_matches_exec(one):
    """tell() on the std streams fails as on pipes (ESPIPE, or io's own
    "not seekable"), the same exception types and texts as exec."""
    bodies = {}
    for runner in RUNNERS:
        resp = one.get(RUNNER_DIR[runner] + "/emb_tell.py")
        assert resp.status == 200, (runner, resp)
        bodies[runner] = resp.text
    assert "stdin.buffer: OSError [Errno 29] Illegal seek" in bodies["exec"]
    assert bodies["embedded"] == bodies["exec"]


def test_undecodable_script_name_runs_like_exec(one):
    """A script whose file name is not UTF-8 (caf\xe9.py, Latin-1) runs,
    and sees __file__ and sys.argv[0] with the byte surrogate-escaped,
    as python3 started on that path does."""
    code = ("#!/usr/bin/python3\n"
            "import sys\n"
            "print('Content-Type: text/plain')\n"
            "print()\n"
            "print(repr(__file__), repr(sys.argv[0]))\n").encode()
    bodies = {}
    for runner in RUNNERS:
        d = script_path(one, RUNNER_DIR[runner] + "/x").encode()[:-2]
        path = d + b"/caf\xe9.py"
        with open(path, "wb") as f:
            f.write(code)
        os.chmod(path, 0o755)
        resp = one.get(RUNNER_DIR[runner] + "/caf%E9.py")
        assert resp.status == 200, (runner, resp)
        bodies[runner] = resp.text.replace(RUNNER_DIR[runner] + "/",
                                           "/DIR/")
    assert "\\udce9" in bodies["exec"], bodies
    assert bodies["embedded"] == bodies["exec"]


# -- 3. stdin -----------------------------------------------------------------

STDIN_BODY = (b"alpha=1&beta=two\nsecond line\nthird line caf\xc3\xa9\n"
              b"\n" + b"x" * 3000 + b"\nlast line without newline")
STDIN_TEXT = STDIN_BODY.decode("utf-8")


def _expected_parts(how):
    if how in ("read", "clen"):
        return [STDIN_TEXT]
    if how == "readn":
        return [STDIN_TEXT[:5], STDIN_TEXT[5:12], STDIN_TEXT[12:]]
    if how in ("readline", "readlines", "iter"):
        return STDIN_TEXT.splitlines(keepends=True)
    return [STDIN_BODY.decode("latin-1")]


@pytest.mark.parametrize("chunked", [False, True], ids=["clen", "chunked"])
@pytest.mark.parametrize("how", ["read", "readn", "readline", "readlines",
                                 "iter", "buffer", "buffer_readn", "clen"])
def test_stdin_api(one, runner, how, chunked):
    if how == "clen" and chunked:
        pytest.skip("no CONTENT_LENGTH for a chunked body")
    resp = one.request("POST", "%s/emb_stdin.py?%s" % (RUNNER_DIR[runner],
                                                       how),
                       body=STDIN_BODY, chunked=chunked,
                       headers=[("Content-Type",
                                 "application/x-www-form-urlencoded")])
    assert resp.status == 200, resp.body[:500]
    got = json.loads(resp.text)
    expected = _expected_parts(how)
    assert got["parts"] == expected
    assert got["length"] == len("".join(expected))


@pytest.mark.parametrize("chunked", [False, True], ids=["clen", "chunked"])
def test_stdin_binary_3mb(one, runner, chunked):
    body = os.urandom(3 * 1024 * 1024)
    for how in ("buffer", "buffer_readn"):
        resp = one.request("POST", "%s/emb_stdin.py?%s"
                           % (RUNNER_DIR[runner], how), body=body,
                           chunked=chunked, timeout=60,
                           headers=[("Content-Type",
                                     "application/octet-stream")])
        assert resp.status == 200, resp.body[:500]
        got = json.loads(resp.text)
        assert got["length"] == len(body), how
        assert got["sha256"] == hashlib.sha256(
            body.decode("latin-1").encode("utf-8")).hexdigest(), how


def test_fieldstorage_urlencoded(one, runner):
    body = b"name=J%C3%BCrgen+Smith&tag=a&tag=b&empty=&amp=%26%3D"
    resp = one.request("POST", RUNNER_DIR[runner] + "/emb_form.py",
                       body=body, headers=[
                           ("Content-Type",
                            "application/x-www-form-urlencoded")])
    assert resp.status == 200, resp.body[:500]
    assert json.loads(resp.text) == {"name": "J\u00fcrgen Smith",
                                     "tag": ["a", "b"], "amp": "&="}


BOUNDARY = "----embFormBoundary0123456789"


def multipart(fields, files):
    parts = []
    for name, value in fields:
        parts.append(("--%s\r\nContent-Disposition: form-data; "
                      "name=\"%s\"\r\n\r\n%s\r\n"
                      % (BOUNDARY, name, value)).encode())
    for name, filename, data in files:
        parts.append(("--%s\r\nContent-Disposition: form-data; "
                      "name=\"%s\"; filename=\"%s\"\r\nContent-Type: "
                      "application/octet-stream\r\n\r\n"
                      % (BOUNDARY, name, filename)).encode() + data + b"\r\n")
    parts.append(("--%s--\r\n" % BOUNDARY).encode())
    return b"".join(parts)


@pytest.mark.parametrize("chunked", [False, True], ids=["clen", "chunked"])
def test_fieldstorage_multipart_5mb_upload(one, runner, chunked):
    data = os.urandom(5 * 1024 * 1024)
    body = multipart([("comment", "five megabytes")],
                     [("upload", "blob.bin", data)])
    resp = one.request("POST", RUNNER_DIR[runner] + "/emb_form.py",
                       body=body, chunked=chunked, timeout=60, headers=[
                           ("Content-Type",
                            "multipart/form-data; boundary=" + BOUNDARY)])
    assert resp.status == 200, resp.body[:500]
    got = json.loads(resp.text)
    if not chunked:
        assert got == {"comment": "five megabytes",
                       "upload": {"filename": "blob.bin", "size": len(data),
                                  "sha256": hashlib.sha256(data).hexdigest()}}
    else:
        # cgi.FieldStorage relies on CONTENT_LENGTH, which a chunked
        # request has not: whatever a process makes of it, the embedded
        # runner must make the same.
        other = "embedded" if runner == "exec" else "exec"
        ref = one.request("POST", RUNNER_DIR[other] + "/emb_form.py",
                          body=body, chunked=True, timeout=60, headers=[
                              ("Content-Type",
                               "multipart/form-data; boundary=" + BOUNDARY)])
        assert ref.status == 200
        assert got == json.loads(ref.text)


# -- 4. stdout ----------------------------------------------------------------

def test_binary_stdout(one, runner):
    resp = one.get(RUNNER_DIR[runner] + "/emb_binary.py")
    assert resp.status == 200
    assert resp.header("Content-Type") == "application/octet-stream"
    assert resp.body == b"text before\n" + bytes(range(256)) + \
        b"text after\n"


def test_flush_streams_first_chunk(one, runner):
    res = probe.stream_request(one, "GET", RUNNER_DIR[runner]
                               + "/emb_stream.py", timeout=20)
    assert res.status == 200 and res.complete, res
    assert res.text == "first chunk\nlast chunk\n"
    assert res.t_complete - res.t_first_body >= 1.0, \
        "first chunk at %.2fs, end at %.2fs: the flush did not stream" % (
            res.t_first_body, res.t_complete)


def test_200mb_output_streams_in_bounded_memory(one, runner):
    mib = 200
    pid = pid_of(one)
    with probe.RssSampler(pid) as rss:
        res = probe.stream_request(one, "GET", "%s/hostile_bigout.py?%d"
                                   % (RUNNER_DIR[runner], mib), timeout=120,
                                   keep=0)
    assert res.status == 200 and res.complete, res
    assert int(res.header("X-Httpd-Child")) == pid
    assert res.length == mib << 20
    assert res.sha256 == probe.pattern_sha256(mib)
    assert rss.samples > 5
    growth = (rss.peak_kb - rss.first_kb) / 1024.0
    assert growth < 50, "httpd child %d grew by %.0f MiB relaying %d MiB" % (
        pid, growth, mib)


# -- 5. exits -----------------------------------------------------------------

@pytest.mark.parametrize("how", ["exit0", "exit3", "exit", "msg"])
def test_exit_after_output_keeps_it(one, runner, how):
    mark = one.log_mark()
    resp = one.get("%s/emb_exit.py?%s" % (RUNNER_DIR[runner], how))
    assert resp.status == 200
    assert resp.text == "before the exit\n"
    if how == "msg":
        assert_log(one, mark, r"PYCGI0301: stderr from \S*/emb_exit\.py: "
                              r"emb_exit says goodbye")


def test_exit_before_headers_is_500(one, runner):
    mark = one.log_mark()
    resp = one.get(RUNNER_DIR[runner] + "/emb_exit.py?early3")
    assert resp.status == 500
    assert_log(one, mark, r"End of script output before headers: "
                          r"emb_exit\.py")


# -- 6. exceptions ------------------------------------------------------------

def test_exception_before_headers(one, runner):
    mark = one.log_mark()
    resp = one.get(RUNNER_DIR[runner] + "/emb_raise.py?before")
    assert resp.status == 500
    for secret in (b"Traceback", b"emb_raise failure marker",
                   b"SECRET_LOCAL", b"emb_raise.py"):
        assert secret not in resp.body
    text = assert_log(one, mark, r"ValueError: emb_raise failure marker")
    script = script_path(one, RUNNER_DIR[runner] + "/emb_raise.py")
    tagged = "PYCGI0301: stderr from %s: " % script
    assert probe.log_lines(text, tagged, "Traceback (most recent call last)")
    assert probe.log_lines(text, tagged,
                           "ValueError: emb_raise failure marker")


def _traceback_files(text, script):
    tagged = "PYCGI0301: stderr from %s: " % script
    return [l.split(tagged, 1)[1].strip() for l in text.splitlines()
            if tagged in l and l.split(tagged, 1)[1].strip().startswith(
                "File ")]


def test_traceback_is_the_scripts_own(one):
    """The logged traceback shows the script's frames, like a process's
    traceback, and nothing of the runner."""
    frames = {}
    for runner in RUNNERS:
        mark = one.log_mark()
        assert one.get(RUNNER_DIR[runner] + "/emb_raise.py").status == 500
        text = assert_log(one, mark, r"ValueError: emb_raise failure")
        script = script_path(one, RUNNER_DIR[runner] + "/emb_raise.py")
        frames[runner] = [f.replace("/m_emb/", "/m_exe/")
                          for f in _traceback_files(text, script)]
    assert frames["exec"], "no traceback frames logged for exec"
    # Fixed module bug (regression guard): tracebacks of embedded scripts
    # include the runner's own frame (File "<mod_pycgi boot>", line N, in
    # execute)
    assert frames["embedded"] == frames["exec"]


def test_exception_after_headers_keeps_partial_body(one, runner):
    mark = one.log_mark()
    res = probe.stream_request(one, "GET", RUNNER_DIR[runner]
                               + "/emb_raise.py?after")
    assert res.status == 200 and res.complete, res
    assert res.text == "partial body\n"
    assert_log(one, mark, r"emb_raise\.py: ValueError: emb_raise failure")


def test_syntax_error_is_500_without_source(one, runner):
    mark = one.log_mark()
    resp = one.get(RUNNER_DIR[runner] + "/emb_syntax.py")
    assert resp.status == 500
    assert b"emb-syntax-source-secret" not in resp.body
    assert b"SOURCE_SECRET" not in resp.body
    assert_log(one, mark, r"emb_syntax\.py: SyntaxError")


def test_cgitb_page_in_body(one, runner):
    """cgitb.enable() installs sys.excepthook; a crashing script's
    traceback page then goes to the client (as the tutorials expect)."""
    resp = one.get(RUNNER_DIR[runner] + "/emb_cgitb.py")
    assert resp.status == 200
    # Fixed module bug (regression guard): embedded runner never calls
    # sys.excepthook: pycgi_boot.execute() prints uncaught exceptions with
    # traceback.print_exc(), so cgitb.enable() has no effect
    assert b"<p>before the bug</p>" in resp.body
    assert b"ZeroDivisionError" in resp.body
    assert b"emb_cgitb_marker" in resp.body


def test_cgitb_hook_does_not_outlive_its_request(one):
    pid = pid_of(one)
    one.get("/m_emb/emb_cgitb.py")
    res = probe.stream_request(one, "GET", "/m_emb/emb_raise.py?after")
    assert res.status == 200 and res.text == "partial body\n", res.text
    assert pid_of(one) == pid


# -- 7. code cache ------------------------------------------------------------

CACHE_SCRIPT = """#!/usr/bin/python3
import {mod}
print("Content-Type: text/plain")
print()
print("script {v} module %s" % {mod}.VALUE)
"""


def test_code_cache_sees_edits(one, runner):
    tag = uuid.uuid4().hex[:8]
    sub = "htdocs" + RUNNER_DIR[runner]
    mod = "emb_cmod_" + tag
    name = "emb_cache_%s.py" % tag
    url = "%s/%s" % (RUNNER_DIR[runner], name)
    path = one.site.write("%s/%s" % (sub, name),
                          CACHE_SCRIPT.format(mod=mod, v="A"), 0o755)
    mpath = one.site.write("%s/%s.py" % (sub, mod), 'VALUE = "1"\n')
    old = time.time() - 100
    for p in (path, mpath):
        os.utime(p, (old, old))

    def body():
        resp = one.get(url)
        assert resp.status == 200, resp.body[:300]
        return resp.text

    assert body() == "script A module 1\n"
    assert body() == "script A module 1\n"
    # Same size, new content, mtime 2 s later.
    one.site.write("%s/%s" % (sub, name), CACHE_SCRIPT.format(mod=mod, v="B"),
                   0o755)
    one.site.write("%s/%s.py" % (sub, mod), 'VALUE = "2"\n')
    for p in (path, mpath):
        os.utime(p, (old + 2, old + 2))
    assert body() == "script B module 2\n"
    # Replaced by rename, same size and mtime (cp -p, rsync -t): only the
    # inode tells.
    tmp = path + ".new"
    with open(tmp, "w") as f:
        f.write(CACHE_SCRIPT.format(mod=mod, v="C"))
    os.chmod(tmp, 0o755)
    os.utime(tmp, (old + 2, old + 2))
    os.rename(tmp, path)
    assert body() == "script C module 2\n"


# -- 8. os._exit --------------------------------------------------------------

@pytest.mark.parametrize("how,status,text", [
    ("flushed", 200, "before os._exit\n"),
    ("early", 500, None),
    ("unflushed", 500, None),
])
def test_os_exit(one, runner, how, status, text):
    """os._exit() ends the script as it ends a process: what was flushed
    is sent, what was still in the stdout buffer is lost."""
    mark = one.log_mark()
    res = probe.stream_request(one, "GET", "%s/emb_osexit.py?%s"
                               % (RUNNER_DIR[runner], how))
    # Fixed module bug (regression guard): os._exit() in an embedded script
    # still flushes its buffered stdout (pycgi_boot.execute() flushes after
    # _ScriptExit); a process loses it (exec: 500)
    assert res.status == status, res
    assert res.complete
    if text is not None:
        assert res.text == text
    else:
        assert_log(one, mark, r"End of script output before headers: "
                              r"emb_osexit\.py")


def test_os_exit_keeps_the_process(one):
    pid = pid_of(one)
    for how in ("flushed", "early", "unflushed", "flushed"):
        one.get("/m_emb/emb_osexit.py?" + how)
    for _ in range(5):
        assert pid_of(one) == pid
    assert probe.httpd_children(one) == [pid]
    assert one.running


# -- 9. timeouts (CGIScriptTimeout 2) -----------------------------------------

def assert_retired_after_timeout(one, mark, pid, mpm, script):
    """A timeout raised wherever the script was (here a CPU loop) may
    leave library state broken: the prefork child retires after the
    request, a threaded one says it cannot."""
    text = assert_log(one, mark, r"PYCGI0510: script \S*%s was interrupted"
                      % re.escape(script))
    if mpm == "prefork":
        assert "retiring this process" in text
        assert probe.wait_for(lambda: pid_of(one) != pid, 10)
    else:
        assert "cannot retire" in text
        assert pid_of(one) == pid


def test_timeout_cpu_loop_before_headers(one, mpm):
    pid = pid_of(one)
    mark = one.log_mark()
    res = probe.stream_request(one, "GET", "/m_embt/hostile_spin.py",
                               timeout=30)
    assert res.status == 504, res
    assert 1.5 < res.t_end < 4.5, "504 after %.2fs" % res.t_end
    assert_log(one, mark, r"PYCGI0605: Script timed out before returning "
                          r"headers \(CGIScriptTimeout\): \S*/m_embt/"
                          r"hostile_spin\.py")
    # The exception stopped the script.  (Issue 13: the process lived on
    # under prefork too.)
    assert_retired_after_timeout(one, mark, pid, mpm, "hostile_spin.py")


def test_timeout_cpu_loop_after_headers_cuts_connection(one, mpm):
    pid = pid_of(one)
    mark = one.log_mark()
    res = probe.stream_request(one, "GET", "/m_embt/hostile_spin_after.py",
                               timeout=30)
    assert res.status == 200
    assert res.text == "started\n"
    assert not res.complete, \
        "the response of a timed-out script looks complete: %r" % res
    assert res.t_end < 4.5, "cut after %.2fs" % res.t_end
    assert_log(one, mark, r"PYCGI0606: \S.*hostile_spin_after\.py")
    assert_retired_after_timeout(one, mark, pid, mpm,
                                 "hostile_spin_after.py")


def test_timeout_sleep_is_cut_short(one):
    pid = pid_of(one)
    mark = one.log_mark()
    res = probe.stream_request(one, "GET", "/m_embt/hostile_sleep.py",
                               timeout=40)
    assert res.status == 504, res
    assert res.t_end < 4.0, "504 after %.2fs" % res.t_end
    assert_log(one, mark, r"PYCGI0605: .*hostile_sleep\.py")
    # Cut short in time.sleep(), a known place: no need to retire.
    assert pid_of(one) == pid
    assert "PYCGI0510" not in one.log_since(mark)


def test_timeout_is_for_silence_not_total_run_time(one, runner):
    """CGIScriptTimeout bounds the time without output (mod_cgi,
    docs/directives.md); a script writing a line every 0.5 s for 4 s
    completes under CGIScriptTimeout 2."""
    res = probe.stream_request(one, "GET", TIMEOUT_DIR[runner]
                               + "/emb_trickle.py", timeout=30)
    # Fixed module bug (regression guard): the embedded runner's deadline is
    # start + CGIScriptTimeout (pycgi_embed_run: req->deadline = apr_time_now()
    # + timeout, never moved on output), so a script that keeps writing is cut
    # after CGIScriptTimeout in all
    assert res.status == 200
    assert res.complete, res
    assert res.text == "".join("line %d\n" % i for i in range(8)) + "done\n"


def test_script_ignoring_timeout_ends_its_process(one):
    """A script that swallows ScriptTimeout is given 5 s more, then its
    process ends (PYCGI0504); httpd replaces it and serves on."""
    pid = pid_of(one)
    mark = one.log_mark()
    res = probe.stream_request(one, "GET", "/m_embt/emb_stubborn.py",
                               timeout=30)
    assert res.status in (None, 500, 504), res
    assert 5.0 < res.t_end < 12.0, "ended after %.2fs" % res.t_end
    assert_log(one, mark, r"PYCGI0504: script \S*/m_embt/emb_stubborn\.py "
                          r"ignored its timeout")
    assert_log(one, mark, r"emb_stubborn: swallowed ScriptTimeout")
    new_pid = probe.wait_for(
        lambda: [p for p in probe.httpd_children(one) if p != pid], 10)
    assert new_pid, "no new child after the old one was ended"
    assert probe.wait_for(lambda: not os.path.exists("/proc/%d" % pid)
                          or probe.status_field(pid, "VmRSS") is None, 5)
    for _ in range(3):
        assert pid_of(one) != pid


# -- 10. PyCGIMaxRequests -----------------------------------------------------

def skip_max_requests_under_event(mpm):
    if mpm == "event":
        pytest.skip("PyCGIMaxRequests is a prefork feature: under threaded "
                    "MPMs it is ignored with PYCGI0509 (see "
                    "test_max_requests_ignored_under_event)")


def test_max_requests_ignored_under_event(httpd, esite):
    """Under event no module can retire one child, and finalising Python
    in place is not safe: the directive is ignored, said once per child
    (PYCGI0509), and scripts keep running in the same interpreter."""
    srv = httpd(mpm="event", mode="embedded", site=esite,
                extra_conf=one_child_conf("event", "PyCGIMaxRequests 2\n"))
    pids = set()
    for i in range(8):
        resp = srv.get("/m_emb/emb_pid.py")
        assert resp.status == 200, (i, resp.status, resp.body[:300])
        pids.add(json.loads(resp.text)["pid"])
    log = srv.error_log()
    assert re.search(r"PYCGI0509: PyCGIMaxRequests has no effect under a "
                     r"threaded MPM", log), log[-3000:]
    assert not re.search(r"PYCGI050[57]", log), log[-3000:]
    assert len(pids) == 1, pids
    assert not probe.crash_lines(log), probe.crash_lines(log)


def test_max_requests_gives_a_fresh_interpreter(httpd, esite, mpm):
    """After 5 embedded requests the next script starts in a new
    interpreter: a mark left in a library module is gone."""
    skip_max_requests_under_event(mpm)
    srv = httpd(mpm=mpm, mode="embedded", site=esite,
                extra_conf=one_child_conf(mpm, "PyCGIMaxRequests 5\n"))
    seen = []
    for i in range(12):
        resp = srv.get("/m_emb/emb_mark.py")
        assert resp.status == 200, (i, resp.status, resp.body[:300])
        seen.append(json.loads(resp.text))
        if i == 4:
            # The recycling happens once the 5th request is done.
            srv.wait_log(0, r"PYCGI050[57]", 5)
            time.sleep(1.0)
    assert seen[0]["found"] is None
    for i in range(1, 5):
        assert seen[i]["found"] is not None, \
            "request %d did not see the mark of the earlier ones: the test " \
            "cannot tell a fresh interpreter" % (i + 1)
    assert seen[5]["found"] is None, \
        "request 6 still saw %r: not a fresh interpreter" % seen[5]["found"]
    assert seen[6]["found"] is not None
    assert seen[10]["found"] is None, "no fresh interpreter after 10"


def test_max_requests_replaces_the_process(httpd, esite, mpm):
    """docs/directives.md: after `number` embedded requests the child
    exits gracefully and the MPM starts a new one (PYCGI0505)."""
    skip_max_requests_under_event(mpm)
    srv = httpd(mpm=mpm, mode="embedded", site=esite,
                extra_conf=one_child_conf(mpm, "PyCGIMaxRequests 5\n"))
    pids = []
    for i in range(8):
        if i == 5:
            srv.wait_log(0, r"PYCGI050[57]", 5)
            probe.wait_for(lambda: probe.httpd_children(srv)
                           and probe.httpd_children(srv) != [pids[0]], 5)
        pids.append(get_json(srv, "/m_emb/emb_pid.py")["pid"])
    log = srv.error_log()
    assert len(set(pids[:5])) == 1, pids
    assert re.search(r"PYCGI0505: PyCGIMaxRequests 5 reached: recycling "
                     r"process %d" % pids[0], log), log[-3000:]
    assert pids[5] != pids[0], pids
    assert len(set(pids[5:])) == 1, pids
    assert not probe.crash_lines(log), probe.crash_lines(log)


def test_max_requests_survives_extension_modules(httpd, esite, mpm):
    """Recycling every 2 requests while scripts use C extension modules
    (ctypes, sqlite3, ssl, decimal, pickle of an array, ...): every
    request gives the same answer, nothing crashes.  (The in-place
    re-initialisation once tried under event broke exactly this:
    PicklingError for array._array_reconstructor after a recycle.)"""
    skip_max_requests_under_event(mpm)
    srv = httpd(mpm=mpm, mode="embedded", site=esite,
                extra_conf=one_child_conf(mpm, "PyCGIMaxRequests 2\n"))
    answers = []
    for i in range(8):
        resp = srv.get("/m_emb/emb_extmods.py")
        answers.append((resp.status, resp.text))
        time.sleep(0.1)
    log = srv.error_log()
    assert [status for status, _ in answers] == [200] * 8, \
        [(i, a[0]) for i, a in enumerate(answers)]
    assert len({text for _, text in answers}) == 1
    assert not probe.crash_lines(log), probe.crash_lines(log)
    assert not re.search(r"PYCGI050[16]", log), log[-3000:]


# -- 11. PyCGIPreload ---------------------------------------------------------

@pytest.mark.parametrize("preload,loaded", [
    ("", False),
    ("PyCGIPreload json", True),
    ("PyCGIPreload no_such_module_pycgi json", True),
])
def test_preload(httpd, esite, mpm, preload, loaded):
    srv = httpd(mpm=mpm, mode="embedded", site=esite,
                extra_conf=one_child_conf(mpm, preload + "\n"))
    first = get_json(srv, "/m_emb/emb_pid.py")
    assert first["json_preloaded"] is loaded
    log = srv.error_log()
    if "no_such_module" in preload:
        assert re.search(r"PYCGI\d+: PyCGIPreload no_such_module_pycgi "
                         r"failed: .*no_such_module_pycgi", log), log[-2000:]
    assert not probe.crash_lines(log)


# -- 12. graceful restarts ----------------------------------------------------

def _restart_cycles(srv, sig, count, resume_re):
    parent = srv.proc.pid
    for i in range(count):
        resp = srv.get("/m_emb/emb_pid.py")
        assert resp.status == 200, (sig, i, resp.status)
        mark = srv.log_mark()
        os.kill(parent, sig)
        text = srv.wait_log(mark, resume_re, 20)
        assert re.search(resume_re, text), (sig, i, text[-2000:])
        resp = srv.get("/m_emb/emb_pid.py")
        assert resp.status == 200, (sig, i, resp.status)
        assert srv.running, "parent died after signal %d #%d" % (sig, i)


def _set_core_uses_pid(value):
    """Set kernel.core_uses_pid; returns the old value, or None if it
    cannot be read or written."""
    path = "/proc/sys/kernel/core_uses_pid"
    try:
        with open(path) as f:
            old = f.read().strip()
        with open(path, "w") as f:
            f.write(value)
        return old
    except OSError:
        return None


def test_graceful_and_restart_ten_times(httpd, esite, mpm):
    """10 graceful restarts (SIGUSR1) then 10 restarts (SIGHUP), a request
    before and after each: every request 200, the parent alive, no child
    crashed during the graceful ones.  SIGHUP kills the children, and
    httpd 2.4.71's event MPM itself sometimes crashes a child there, with
    stock mod_cgi too (about 1 in 200: apr_os_sock_get() or
    ap_queue_info_free_idle_pools() in mod_mpm_event.so); such a crash
    fails the test only if its core file's backtrace runs through
    mod_pycgi or Python, or if no core file explains it."""
    cores = tempfile.mkdtemp(prefix="pycgi-cores-", dir="/tmp")
    os.chmod(cores, 0o777)
    # Two crashes must leave two core files: with core_pattern "core"
    # the second would overwrite the first unless core_uses_pid is on
    # (restored afterwards; root only, as the whole suite).
    uses_pid = _set_core_uses_pid("1")
    limit = resource.getrlimit(resource.RLIMIT_CORE)
    resource.setrlimit(resource.RLIMIT_CORE, (limit[1], limit[1]))
    try:
        srv = httpd(mpm=mpm, mode="embedded", site=esite,
                    extra_conf=dirs_conf() + "CoreDumpDirectory %s\n"
                    % cores)
    finally:
        resource.setrlimit(resource.RLIMIT_CORE, limit)
    try:
        resume = r"AH0\d+: .*configured -- resuming normal operations"
        _restart_cycles(srv, signal.SIGUSR1, 10, resume)
        graceful_log = srv.error_log()
        assert not probe.crash_lines(graceful_log), \
            probe.crash_lines(graceful_log)
        mark = srv.log_mark()
        _restart_cycles(srv, signal.SIGHUP, 10, resume)
        for _ in range(5):
            assert srv.get("/m_emb/emb_nonce.py?after").status == 200
        assert srv.running
        # One crash is one child ended by a signal (its faulthandler dump
        # and httpd's AH00051 line are two lines about the same crash).
        crashes = sorted(set(re.findall(r"child pid (\d+) exit signal",
                                        srv.log_since(mark))))
        traces = probe.core_backtraces(cores) if crashes else {}
        assert len(traces) >= len(crashes), \
            "crashes without a core file to tell whose: %s" % crashes
        ours = {k: v for k, v in traces.items() if probe.blames_us(v)}
        assert not ours, "children crashed in mod_pycgi/Python:\n%s" % (
            "\n\n".join(ours.values()))
        if crashes:
            warnings.warn("httpd's own restart crash (not mod_pycgi's): %s"
                          % "; ".join(traces.values()))
    finally:
        shutil.rmtree(cores, ignore_errors=True)
        if uses_pid is not None:
            _set_core_uses_pid(uses_pid)


# -- 13. concurrency ----------------------------------------------------------

def test_concurrent_requests_see_only_their_own_state(multi):
    results = {}
    dirs = ["/m_emb", "/m_emb2"]

    def one_request(i):
        nonce = "n%02d%s" % (i, uuid.uuid4().hex[:10])
        where = dirs[i % 2]
        try:
            resp = multi.get("%s/emb_nonce.py?%s" % (where, nonce),
                             headers=[("X-Nonce", nonce)], timeout=30)
            results[i] = (nonce, where, resp.status, resp.text)
        except Exception as e:  # reported below
            results[i] = (nonce, where, None, repr(e))

    threads = [threading.Thread(target=one_request, args=(i,))
               for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(results) == 16
    for i, (nonce, where, status, text) in sorted(results.items()):
        assert status == 200, (i, text)
        got = json.loads(text)
        cwd = multi.site.htdocs + where
        argv = [cwd + "/emb_nonce.py", nonce]
        assert got["query"] == nonce and got["env_nonce"] == nonce, got
        assert got["argv"] == argv, got
        assert got["cwd"] == cwd, got
        assert got["before"] == [nonce, argv, cwd], got


# -- 14. auto mode ------------------------------------------------------------

PY_BODY = ('import os\nprint("Content-Type: text/plain")\nprint()\n'
           'print("exe=" + os.readlink("/proc/self/exe"))\n')
AUTO_SCRIPTS = {
    # name: (first line or None, body kind)
    "a_noshebang.py": (None, "py"),
    "a_py3.py": ("#!/usr/bin/python3", "py"),
    "a_py311.py": ("#!/usr/bin/python3.11", "py"),
    "a_env.py": ("#!/usr/bin/env python3", "py"),
    "a_py3u.py": ("#!/usr/bin/python3 -u", "py"),
    "a_envS.py": ("#!/usr/bin/env -S python3 -u", "py"),
    "a_py2.py": ("#!/usr/bin/python2.7", "py"),
    "a_noshebang.cgi": (None, "py"),
    "a_sh.cgi": ("#!/bin/sh", "sh"),
    "a_perl.cgi": ("#!/usr/bin/perl", "perl"),
}
BODIES = {
    "py": PY_BODY,
    "sh": 'printf "Content-Type: text/plain\\n\\n"\n'
          'echo "exe=$(readlink /proc/$$/exe)"\n',
    "perl": 'print "Content-Type: text/plain\\n\\n";\n'
            'print "exe=" . readlink("/proc/self/exe") . "\\n";\n',
}
EXPECT = {
    # name: (runner in auto, runner in embedded); auto gives our Python's
    # scripts to the daemon runner, never to embedded.
    "a_noshebang.py": ("daemon", "embedded"),
    "a_py3.py": ("daemon", "embedded"),
    "a_py311.py": ("daemon", "embedded"),
    "a_env.py": ("daemon", "embedded"),
    "a_py3u.py": ("exec", "embedded"),
    # env -S: "the argument of env" is an option; either runner is fine
    # under PyCGIMode embedded.
    "a_envS.py": ("exec", None),
    "a_py2.py": ("exec", "embedded"),
    "a_noshebang.cgi": ("exec", "exec"),
    "a_sh.cgi": ("exec", "exec"),
    "a_perl.cgi": ("exec", "exec"),
    "noperm.py": ("exec", "exec"),
}


@pytest.fixture(scope="module")
def auto_scripts(esite):
    for sub in ("m_auto", "m_emb"):
        for name, (first, kind) in AUTO_SCRIPTS.items():
            text = ((first + "\n") if first else "") + BODIES[kind]
            esite.write("htdocs/%s/%s" % (sub, name), text, 0o755)
    return esite


@pytest.mark.parametrize("name", sorted(EXPECT))
@pytest.mark.parametrize("where", ["m_auto", "m_emb"])
def test_runner_choice(one, auto_scripts, name, where):
    expected = EXPECT[name][0 if where == "m_auto" else 1]
    path = "%s/%s/%s" % (one.site.htdocs, where, name)
    mark = one.log_mark()
    resp = one.get("/%s/%s" % (where, name))
    text = assert_log(one, mark, r"PYCGI0603: %s runs (embedded|exec|daemon) "
                      r"\(" % re.escape(path), what="runner choice")
    chosen = re.search(r"PYCGI0603: %s runs (embedded|exec|daemon) \((.*?)\)"
                       % re.escape(path), text)
    if expected is None:
        expected = chosen.group(1)
    assert chosen.group(1) == expected, \
        "%s in %s ran %s (%s), expected %s" % (name, where, chosen.group(1),
                                               chosen.group(2), expected)
    if resp.status == 200:
        exe = resp.text.strip().split("=", 1)[1]
        assert (exe == httpd_lib.APACHE2) == (expected == "embedded"), exe
        assert exe.endswith("/pycgi-worker") == (expected == "daemon"), exe
    else:
        # Only scripts exec cannot start fail: python2.7 is not installed,
        # a file without #! or without x bit cannot be exec'd.
        assert expected == "exec" and name in (
            "a_py2.py", "a_noshebang.cgi", "noperm.py"), resp.status
        assert resp.status == 500


# -- 15. what libraries keep from one request to the next (issue 13) ----------

@pytest.mark.parametrize("method", ["GET", "POST"])
def test_environb_agrees_with_environ(one, method):
    """os.environb and os.getenvb() are views of os.environ, this
    request's environment, two requests in a row in one process.  (They
    showed httpd's start-up environment, which mod_cgi never exposes.)"""
    pids = set()
    for i in range(2):
        query = "q%d=%s" % (i, uuid.uuid4().hex[:10])
        resp = one.request(method, "/m_emb/dmn_environb.py?" + query,
                           body=b"x=1" if method == "POST" else None)
        assert resp.status == 200, resp
        got = json.loads(resp.text)
        assert not got["only_environ"] and not got["only_environb"] \
            and not got["differ"], got
        assert got["REQUEST_METHOD"] == [method, method], got
        assert got["QUERY_STRING"] == [query, query], got
        assert got["getenv"] == query, got
        assert got["keys"] > 10, got
        pids.add(pid_of(one))
    assert len(pids) == 1, pids



def test_logging_records_of_every_request_reach_the_error_log(one):
    """logging.basicConfig() in a script: its handler keeps the
    sys.stderr of the first request from then on, as it does in any
    library; every request's record must still reach the error log,
    tagged with that request's script."""
    pid = pid_of(one)
    mark = one.log_mark()
    nonces = [uuid.uuid4().hex[:16] for _ in range(3)]
    for n in nonces:
        resp = one.get("/m_emb/dmn_logging.py?" + n)
        assert resp.status == 200, resp
    assert pid_of(one) == pid, "the process changed: test not valid"
    log = one.wait_log(mark, "dmn-logging " + nonces[-1], 5)
    missing = [n for n in nonces
               if not re.search(r"PYCGI0301: stderr from %s: "
                                r"WARNING:root:dmn-logging %s"
                                % (re.escape(script_path(one, "/m_emb/"
                                                         "dmn_logging.py")),
                                   n), log)]
    assert not missing, "records missing from the error log: %s\n%s" % (
        missing, log[-3000:])


def test_stream_kept_from_an_earlier_request_serves_the_current_one(one):
    """A library that keeps sys.stdout.buffer, sys.stderr and
    sys.stdin.buffer from the first request (as Mercurial's hgweb does)
    answers later requests through them: in a process they would be its
    own fds.  Each answer reaches its own response and error log."""
    pid = pid_of(one)
    mark = one.log_mark()
    nonces = [uuid.uuid4().hex[:12] for _ in range(4)]
    for i, n in enumerate(nonces):
        body = ("body-%s" % n).encode()
        resp = one.request("POST", "/m_emb/emb_keep.py?" + n, body=body,
                           headers=[("Content-Type", "text/plain")])
        # Fixed module bug (regression guard): from the second request on,
        # a stream kept from an earlier request raised ValueError (Mercurial:
        # "I/O operation on closed file", 500)
        assert resp.status == 200, (i, resp, one.log_since(mark)[-2000:])
        assert resp.text == "kept %s pid=%d body=body-%s\n" % (n, pid, n), \
            (i, resp.text)
    log = one.wait_log(mark, "emb-keep " + nonces[-1], 5)
    where = re.escape(script_path(one, "/m_emb/emb_keep.py"))
    for n in nonces:
        assert re.search(r"stderr from %s: emb-keep %s" % (where, n), log), n
    assert pid_of(one) == pid, "the process changed: test not valid"


def test_threads_of_one_script_write_one_response_whole(one):
    """Eight threads of one script print 1,000 lines each at once: every
    line arrives whole, the process lives on.  (The stream operations of
    one request ran the output path from several threads at once:
    truncated responses, and the httpd child died.)"""
    pid = pid_of(one)
    mark = one.log_mark()
    for _ in range(3):
        res = probe.stream_request(one, "GET", "/m_emb/emb_threads.py",
                                   timeout=60)
        assert res.status == 200, (res, probe.crash_lines(
            one.log_since(mark)))
        lines = res.text.splitlines()
        assert lines[-1] == "all done", lines[-3:]
        expect = sorted("thread %d line %04d" % (n, i) for n in range(8)
                        for i in range(1000))
        assert sorted(lines[:-1]) == expect
    assert not probe.crash_lines(one.log_since(mark))
    assert pid_of(one) == pid, "the httpd child was replaced"
    log = one.wait_log(mark, "emb-threads stderr 7 900", 5)
    assert log.count("emb-threads stderr 7 900") == 3


def test_thread_left_running_reaches_no_later_request(one, mpm):
    """A daemon thread a script leaves running writes for 3 s through
    print(), a stdout it kept and stderr, and swallows SystemExit.  A
    process's exit would have ended it: it gets SystemExit, the runner
    logs it, and from the end of its request on it reaches no other
    request's response or stderr (prefork: the child also retires)."""
    pid = pid_of(one)
    mark = one.log_mark()
    resp = one.get("/m_emb/emb_leftover.py")
    assert resp.status == 200 and resp.text.startswith("answered"), resp
    path = re.escape(script_path(one, "/m_emb/emb_leftover.py"))
    text = assert_log(one, mark, r"PYCGI0510: script %s left 1 thread" % path)
    bodies = []
    for _ in range(10):
        r = one.get("/m_emb/emb_pid.py")
        assert r.status == 200, r
        bodies.append(r.text)
        time.sleep(0.05)
    assert not any("LEFTOVER" in b for b in bodies), bodies
    if mpm == "prefork":
        assert "retiring this process" in text, text[-2000:]
        assert probe.wait_for(lambda: pid_of(one) != pid, 10), \
            "the child did not retire"
    else:
        assert "cannot retire" in text, text[-2000:]
        # Its SystemExit lands when its 0.5 s wait ends, and its first
        # refused write follows: wait for both (a loaded machine can
        # answer the requests above before that).
        states = []

        def refused():
            states.append(get_json(one, "/m_emb/emb_leftover.py?state"))
            return states[-1]["seen"]["refused"] > 0
        probe.wait_for(refused, 5)
        state = states[-1]
        assert state["pid"] == pid
        seen = state["seen"]
        assert seen["exits"] >= 1 and seen["refused"] > 0, state
        # Only what it wrote while its own request ran went through.
        assert seen["ok_after_exit"] == 0, state
        # Let it end (3 s): a thread alive when the server stops would
        # leave its Python objects to LeakSanitizer (make check-asan).
        assert probe.wait_for(lambda: not get_json(
            one, "/m_emb/emb_leftover.py?state")["alive"], 10)
    time.sleep(0.3)
    # Between requests the interpreter's own sys.stderr (the error log,
    # untagged) is what it finds; never another request's stderr.
    assert not re.search(r"stderr from (?!%s).*LEFTOVER" % path,
                         one.log_since(mark))


def test_processes_a_thread_started_are_reaped(one):
    """A script's thread forks and starts a subprocess it never waits
    for: both are reaped (a CGI process's children go to init); none is
    left a zombie of the httpd child.  (Only the children of the
    runner's own thread were looked for.)"""
    mark = one.log_mark()
    for _ in range(3):
        resp = one.get("/m_emb/emb_fork_thread.py")
        assert resp.status == 200 and resp.text.startswith("spawned"), resp
    gone = probe.wait_for(lambda: not probe.zombies_of_httpd(one), 4)
    assert gone, "zombies: %s" % probe.zombies_of_httpd(one)
    assert not probe.rogue_httpds(one)
    assert not probe.crash_lines(one.log_since(mark))


def test_process_state_a_script_changed_is_put_back(one, mpm):
    """Signal dispositions (SIGPIPE to default, SIGTERM ignored, a
    SIGALRM handler), a pending alarm, the umask, a lowered soft
    RLIMIT_NOFILE and the signal mask die with a CGI process: the next
    script in the same httpd child finds them as before.  RLIMIT_CORE
    lowered for good cannot be put back: the child retires (prefork)."""
    before = get_json(one, "/m_emb/emb_procstate.py?look")
    mark = one.log_mark()
    changed = get_json(one, "/m_emb/emb_procstate.py?change")
    assert changed["pid"] == before["pid"]
    if mpm == "prefork":
        # The script runs in the process's main thread: all of it took.
        assert not changed["errors"], changed
        assert changed["sig"]["PIPE"] != before["sig"]["PIPE"]
        assert changed["umask"] == 0o077 and changed["itimer"]
    after = get_json(one, "/m_emb/emb_procstate.py?look")
    path = re.escape(script_path(one, "/m_emb/emb_procstate.py"))
    if mpm == "prefork" and before["core"] != [0, 0]:
        # A hard limit lowered cannot be raised again by www-data.
        assert_log(one, mark, r"PYCGI0510: script %s .*RLIMIT_CORE" % path)
        assert probe.wait_for(lambda: pid_of(one) != before["pid"], 10)
        return
    assert after["pid"] == before["pid"]
    # Fixed module bug (regression guard, issue 13): they outlived the
    # script (prefork: children then died of SIGPIPE, ignored SIGTERM)
    for key in ("sig", "itimer", "umask", "nofile", "blocked"):
        assert after[key] == before[key], (key, before[key], after[key])


def test_forked_child_holds_no_server_socket_and_reaches_no_request(one):
    """A script's os.fork() child holds none of httpd's sockets (its
    listeners, or the connection of any client: local port = the
    server's), keeps what the script opened itself, and cannot write
    into the parent's request (a CGI process's child would share fd 1;
    here it would write into the parent's connection)."""
    for _ in range(2):
        got = get_json(one, "/m_emb/emb_fork_fds.py")
        assert one.port not in got["ports"], got
        assert got["own_port"] in got["ports"], got
        assert got["printed"] == "ValueError", got


def test_trickled_body_is_not_the_scripts_silence(one):
    """A POST whose body trickles in for 8 s, to a script with
    CGIScriptTimeout 2 that reads it all: waiting on the client is
    httpd's Timeout's business, not the script's silence.  The script
    gets its whole body, answers 200, and the httpd child (serving other
    connections) lives on.  (The watchdog raised the timeout during the
    read and ended the whole child 5 s later.)"""
    pid = pid_of(one)
    body = bytes(range(256)) * 16           # 4 KiB, in 16 pieces

    def trickle():
        for i in range(0, len(body), 256):
            time.sleep(0.5)
            yield body[i:i + 256]

    hdrs = [("Content-Type", "application/octet-stream"),
            ("Content-Length", str(len(body)))]
    mark = one.log_mark()
    res = probe.stream_request(one, "POST", "/m_embt/hostile_readbody.py",
                               headers=hdrs, body=b"", body_iter=trickle(),
                               timeout=30)
    assert res.status == 200 and res.complete, (res, one.log_since(mark))
    assert res.text == "length=%d\nsha256=%s\n" % (
        len(body), httpd_lib.sha256(body))
    assert pid_of(one) == pid, "the httpd child was ended"
    assert "PYCGI0504" not in one.log_since(mark)


def test_ssi_include_of_an_embedded_script_from_embedded_output(one):
    """An embedded script's 20 KB of output runs through mod_include,
    which includes another embedded script three times while the first
    still writes: the sub-requests re-enter the runner on the same
    thread.  They must not wait for the lock that thread holds."""
    mark = one.log_mark()
    res = probe.stream_request(one, "GET", "/m_ssi/emb_ssi_big.py",
                               timeout=20)
    assert res.status == 200 and res.complete, (res, one.log_since(mark))
    assert res.t_end < 4, "took %.1f s" % res.t_end
    assert res.text.count("Hello") >= 3 or \
        res.text.count("hello") >= 3, res.text[:300]
    assert res.text.rstrip().endswith("end")


def test_script_fetching_its_own_server_does_not_wait_forever(one, mpm):
    """Under event (one child, several threads) an embedded script
    fetches /m_embt/hello.py (CGIScriptTimeout 2) of its own server over
    HTTP: the request lands on another thread of the same child, whose
    embedded runner is held by the waiting script.  After one
    CGIScriptTimeout it runs exec instead (logged), and both answer.
    (It waited for the lock until the fetch itself timed out.)"""
    if mpm != "event":
        pytest.skip("one prefork child serves one connection at a time")
    mark = one.log_mark()
    resp = one.get("/m_emb/dmn_selffetch.py?/m_embt/hello.py", timeout=30)
    assert resp.status == 200, (resp, one.log_since(mark)[-2000:])
    got = dict(line.split("=", 1) for line in resp.text.split())
    assert got["status"] == "200" and got["hello"] == "True", got
    assert float(got["seconds"]) < 5, got
    assert_log(one, mark, r"PYCGI0611: \S*m_embt/hello\.py runs exec")


def _hg(*args, cwd=None):
    return appkit.run(["hg"] + list(args), cwd=cwd, timeout=60)


@pytest.mark.skipif(not appkit.HAVE_HG,
                    reason="Debian's mercurial is not installed")
def test_mercurial_hgweb_pages_clone_pull_and_push(one, esite):
    """Debian's own hgweb.cgi, run embedded in one process: pages, clone,
    push and pull over HTTP, many requests each.  Mercurial keeps
    sys.stdout.buffer from its first import; every later request must
    still answer through it.  (From the second request on: 500,
    "ValueError: I/O operation on closed file".)"""
    repo = esite.path("hgrepo")
    if not os.path.isdir(repo):
        appkit.hgweb(repo, esite.make_dir("htdocs/m_emb"), "one\n")
    pid = pid_of(one)
    url = "http://127.0.0.1:%d/m_emb/hgweb.cgi" % one.port
    for path in ("", "/log", "/file/tip/f.txt", "/graph"):
        resp = one.get("/m_emb/hgweb.cgi" + path)
        assert resp.status == 200, (path, resp, resp.text[-500:])
    work = tempfile.mkdtemp(prefix="pycgi-hg-")
    try:
        a, b = os.path.join(work, "a"), os.path.join(work, "b")
        _hg("clone", url, a)
        _hg("clone", url, b)
        nonce = uuid.uuid4().hex[:12]
        with open(os.path.join(a, "f.txt"), "a") as f:
            f.write(nonce + "\n")
        _hg("commit", "-m", "change " + nonce, cwd=a)
        _hg("push", url, cwd=a)
        _hg("pull", "-u", url, cwd=b)
        with open(os.path.join(a, "f.txt")) as fa, \
                open(os.path.join(b, "f.txt")) as fb:
            assert fb.read() == fa.read()
        assert "change " + nonce in one.get("/m_emb/hgweb.cgi/log").text
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert pid_of(one) == pid, "the process changed: test not valid"
