"""Directives: mod_cgi's ScriptLog family, the core CGI directives as seen
through our handler (CGIPassAuth, CGIVar, SetEnv, PassEnv), and PyCGIMode
in <Directory> and .htaccess.  Parametrised over runner and MPM; the
servers here carry extra configuration, so they are not shared with the
other test modules.
"""

import os
import re
import time

import pytest

import cases
import httpd as httpd_lib
from conftest import MODES, TEST_MODULE

pycgi_only = pytest.mark.skipif(
    TEST_MODULE != "pycgi", reason="PyCGIMode is mod_pycgi's directive")

# Directories added to this module's site: URL prefix -> directives.
DIRS = {
    "/d_env": """\
    Options +ExecCGI
    AddHandler @HANDLER@ .py
    CGIPassAuth On
    CGIVar REQUEST_URI current-uri
    SetEnv DIR_SETENV dir-value
    @MODE@""",
    "/d_htaccess": """\
    AllowOverride Options
    Options +ExecCGI
    AddHandler @HANDLER@ .py
    @MODE@""",
    "/d_htaccess_to_embedded": """\
    AllowOverride Options
    Options +ExecCGI
    AddHandler @HANDLER@ .py
    PyCGIMode exec""",
    "/d_htaccess_fileinfo": """\
    AllowOverride FileInfo
    Options +ExecCGI
    AddHandler @HANDLER@ .py
    @MODE@""",
    "/d_embedded_only": """\
    Options +ExecCGI
    AddHandler @HANDLER@ .py .cgi
    PyCGIMode embedded""",
}

SCRIPT_LOG = """\
ScriptLog @LOGDIR@/script_log
ScriptLogLength 100000
ScriptLogBuffer 1024
"""


def _dirs_conf():
    conf = []
    for prefix, body in DIRS.items():
        if "PyCGIMode" in body and TEST_MODULE != "pycgi":
            continue
        conf.append('<Directory "@SITE@/htdocs%s">\n%s\n</Directory>'
                    % (prefix, body))
    return "\n".join(conf)


@pytest.fixture(scope="module")
def dsite(site):
    for prefix in DIRS:
        site.fill_script_dir("htdocs" + prefix, prefix)
    site.write("htdocs/d_htaccess/.htaccess", "PyCGIMode exec\n")
    site.write("htdocs/d_htaccess_to_embedded/.htaccess",
               "PyCGIMode embedded\n")
    site.write("htdocs/d_htaccess_fileinfo/.htaccess", "PyCGIMode exec\n")
    site.write("htdocs/d_embedded_only/py2.py",
               '#!/usr/bin/python2\nprint "Content-Type: text/plain"\n'
               'print\nprint "python 2"\n', mode=0o755)
    return site


@pytest.fixture(scope="module")
def dsrv(httpd_module, dsite, mpm, mode):
    return httpd_module(mpm=mpm, mode=mode, site=dsite,
                        extra_conf=SCRIPT_LOG + _dirs_conf())


def env_of(resp):
    assert resp.status == 200, resp.body
    return dict(l.split("=", 1) for l in resp.text.splitlines() if "=" in l)


# -- environment directives ------------------------------------------------

def test_cgipassauth_on_passes_authorization(dsrv):
    env = env_of(dsrv.get("/d_env/env.py", headers=[
        ("Authorization", "Basic dXNlcjpwYXNz")]))
    assert env.get("HTTP_AUTHORIZATION") == "Basic dXNlcjpwYXNz"


def test_cgipassauth_off_hides_authorization(dsrv):
    prefix = "/pycgi" if TEST_MODULE == "pycgi" else "/exec"
    env = env_of(dsrv.get(prefix + "/env.py", headers=[
        ("Authorization", "Basic dXNlcjpwYXNz")]))
    assert "HTTP_AUTHORIZATION" not in env


@pytest.mark.parametrize("prefix", ["/d_env", "/pycgi", "/cgi-bin"])
def test_proxy_header_never_reaches_script(dsrv, prefix):
    if prefix == "/pycgi" and TEST_MODULE != "pycgi":
        prefix = "/exec"
    env = env_of(dsrv.get(prefix + "/env.py", headers=[
        ("Proxy", "http://proxy.invalid:3128/")]))
    assert "HTTP_PROXY" not in env
    # The same goes for the variable in the script's os.environ.
    assert not any(k.upper() == "HTTP_PROXY" for k in env)


def test_setenv_passenv_visible(dsrv):
    env = env_of(dsrv.get("/d_env/env.py"))
    assert env["DIR_SETENV"] == "dir-value"
    assert env["PYCGI_SETENV"] == "set-by-setenv"
    assert env["PYCGI_PASSENV"] == "passed-by-passenv"
    assert "PYCGI_PRIVATE" not in env


def test_cgivar_request_uri_current_uri(dsrv):
    # Through an internal redirect the original URI and the current one
    # differ; CGIVar REQUEST_URI current-uri asks for the current one.
    target = "/d_env/env.py/pi"
    env = env_of(dsrv.get("/cgi-bin/redirect_local.py?to=" + target
                          + "%3Fq%3D1"))
    assert env["REQUEST_URI"] == target
    assert env["QUERY_STRING"] == "q=1"
    env = env_of(dsrv.get("/cgi-bin/redirect_local.py?to=/cgi-bin/env.py"))
    assert env["REQUEST_URI"] == "/cgi-bin/redirect_local.py?to=/cgi-bin/" \
                                 "env.py"


# -- ScriptLog ---------------------------------------------------------------

def _wait_script_log(server, pattern, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        text = server.script_log()
        if re.search(pattern, text) or time.monotonic() > deadline:
            return text
        time.sleep(0.05)


def _failing_post(dsrv):
    """POST 4000 bytes to a script that writes to stderr and then sends a
    bad header; return (its "%% 500" script-log entry, all of the
    entries this request produced)."""
    prefix = "/pycgi" if TEST_MODULE == "pycgi" else "/exec"
    marker = "q=%d" % time.monotonic_ns()
    body = b"A" * 1000 + b"B" * 3000
    resp = dsrv.request("POST", prefix + "/badheader_stderr.py?" + marker,
                        body=body, headers=[("Content-Type", "text/plain"),
                                            ("X-Scriptlog-Test", "yes")])
    assert resp.status == 500
    fs = dsrv.site.path("htdocs" + prefix + "/badheader_stderr.py")
    line = "%% 500 " + fs
    text = _wait_script_log(dsrv, re.escape(marker) + r"[^\n]*\n" +
                            re.escape(line))
    # mod_cgi's documented format: "%% [date] request-line",
    # "%% status script-path", then %request (headers and the start of
    # the body), %response, %stdout, %stderr sections.
    m = re.search(r"(?m)^%% \[[^]]+\] POST " + re.escape(
        prefix + "/badheader_stderr.py?" + marker) + r" HTTP/1\.1\n"
        + re.escape(line) + "\n", text)
    assert m, "no entry for this request in the script log:\n" + text
    entry = text[m.start():]
    nxt = entry.find("\n%% [", 1)
    # Every entry of this request (stock mod_cgi writes stderr as an
    # entry of its own, "%error", before the 500 one).
    mine = [e for e in re.split(r"(?m)^(?=%% \[)", text)
            if e.split("\n", 1)[0].endswith("?%s HTTP/1.1" % marker)]
    return (entry if nxt < 0 else entry[:nxt + 1]), "".join(mine)


def test_scriptlog_records_failing_script(dsrv):
    entry, _ = _failing_post(dsrv)
    assert "%request" in entry
    assert "X-Scriptlog-Test: yes" in entry
    assert "Content-Length: 4000" in entry
    assert "%response\nno colon on this line either\n" in entry
    assert "%stdout\n\nnever sent\n" in entry


def test_scriptlog_buffer_limits_logged_body(dsrv):
    """ScriptLogBuffer 1024: the first 1024 bytes of the request body are
    in the %request section, and no more."""
    entry, _ = _failing_post(dsrv)
    request = entry[entry.index("%request"):entry.index("%response")]
    assert "A" * 1000 + "B" * 24 in request, request
    assert "B" * 25 not in request, request


def test_scriptlog_gets_script_stderr(dsrv):
    """What the failing script wrote to stderr reaches the script log
    (stock mod_cgi logs it there as well as in the error log)."""
    _, entries = _failing_post(dsrv)
    assert "badheader-stderr-marker" in entries, entries


def test_scriptlog_quiet_for_good_script(dsrv):
    before = dsrv.script_log()
    prefix = "/pycgi" if TEST_MODULE == "pycgi" else "/exec"
    assert dsrv.get(prefix + "/hello.py").status == 200
    time.sleep(0.3)
    assert dsrv.script_log() == before


def test_scriptlog_length_limit(httpd, dsite, mpm, mode):
    """Once the script log is longer than ScriptLogLength nothing more is
    appended; the failure goes to the error log instead."""
    server = httpd(mpm=mpm, mode=mode, site=dsite, extra_conf=(
        "ScriptLog @LOGDIR@/script_log\nScriptLogLength 300\n"))
    prefix = "/pycgi" if TEST_MODULE == "pycgi" else "/exec"
    pad = [("X-Pad", "p" * 400)]
    assert server.get(prefix + "/nooutput.py", headers=pad).status == 500
    text = _wait_script_log(server, "nooutput")
    assert "nooutput.py" in text
    size = len(text)
    assert size > 300
    mark = server.log_mark()
    assert server.get(prefix + "/nooutput.py", headers=pad).status == 500
    log = server.wait_log(mark, r"nooutput\.py")
    time.sleep(0.3)
    assert len(server.script_log()) == size
    assert re.search(r"nooutput\.py", log), log


# -- PyCGIMode ---------------------------------------------------------------

def _exe(server, path):
    resp = server.get(path)
    assert resp.status == 200, resp.body
    return dict(l.split("=", 1) for l in resp.text.splitlines())["exe"]


@pycgi_only
def test_pycgimode_exec_in_htaccess(dsrv):
    """Directory says the module-wide mode; .htaccess (AllowOverride
    Options) says exec, and wins."""
    assert re.fullmatch(cases.expected_exe(TEST_MODULE, "exec"),
                        _exe(dsrv, "/d_htaccess/whoami.py"))


@pycgi_only
@pytest.mark.skipif("embedded" not in MODES,
                    reason="embedded runner not enabled in PYCGI_MODES")
def test_pycgimode_embedded_in_htaccess(dsrv):
    assert re.fullmatch(cases.expected_exe(TEST_MODULE, "embedded"),
                        _exe(dsrv, "/d_htaccess_to_embedded/whoami.py"))


@pycgi_only
def test_pycgimode_needs_allowoverride_options(dsrv):
    mark = dsrv.log_mark()
    resp = dsrv.get("/d_htaccess_fileinfo/whoami.py")
    assert resp.status == 500
    log = dsrv.wait_log(mark, r"PyCGIMode not allowed here")
    assert re.search(r"\.htaccess: PyCGIMode not allowed here", log), log


@pycgi_only
@pytest.mark.skipif("embedded" not in MODES,
                    reason="embedded runner not enabled in PYCGI_MODES")
def test_embedded_dir_runs_other_scripts_exec(dsrv):
    """docs/directives.md: under PyCGIMode embedded, Python scripts run
    embedded and scripts that are not Python (shell) still run exec."""
    assert re.fullmatch(cases.expected_exe(TEST_MODULE, "embedded"),
                        _exe(dsrv, "/d_embedded_only/whoami.py"))
    resp = dsrv.get("/d_embedded_only/hello.cgi")
    assert resp.status == 200
    assert resp.text == "hello from sh\nquery=\nmethod=GET\n"


@pycgi_only
@pytest.mark.skipif("embedded" not in MODES,
                    reason="embedded runner not enabled in PYCGI_MODES")
def test_embedded_python2_script_fails_with_syntaxerror(dsrv):
    """docs/directives.md: a Python 2 script in an embedded directory
    fails with 500 and its SyntaxError in the error log."""
    mark = dsrv.log_mark()
    resp = dsrv.get("/d_embedded_only/py2.py")
    assert resp.status == 500
    log = dsrv.wait_log(mark, r"SyntaxError")
    assert re.search(r"SyntaxError", log), log
    assert "py2.py" in log, log


@pycgi_only
@pytest.mark.parametrize("where", ["server", "directory"])
def test_pycgimode_bad_value_rejected(site, where):
    conf = "PyCGIMode bogus\n"
    if where == "directory":
        conf = '<Directory "@SITE@/htdocs/exec">\n%s</Directory>\n' % conf
    server = httpd_lib.Server(site, mpm="prefork", module="pycgi",
                              mode="exec", extra_conf=conf, start=False)
    try:
        rc, out = server.configtest()
    finally:
        server.cleanup()
    assert rc != 0, out
    assert "PyCGIMode" in out, out


def test_config_syntax_ok(site, mpm):
    """The generated configuration itself passes `apache2 -t`."""
    server = httpd_lib.Server(site, mpm=mpm, module=TEST_MODULE,
                              mode=MODES[0], extra_conf=SCRIPT_LOG,
                              start=False)
    try:
        rc, out = server.configtest()
    finally:
        server.cleanup()
    assert rc == 0 and "Syntax OK" in out, out
