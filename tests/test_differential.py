"""Differential tests: each request of the table goes to stock mod_cgi and
to mod_pycgi, both serving the same script directories with the same
cgi-script configuration (ScriptAlias, AddHandler); the answers must match.

mod_pycgi registers the cgi-script handler itself, so nothing in the
configuration changes except the LoadModule line and, per directory,
`PyCGIMode <mode>`.  With PYCGI_TEST_MODULE=cgi both sides are stock
mod_cgi and every test must pass: that proves the harness and the table.
"""

import hashlib

import pytest

import cases
from conftest import TEST_MODULE

# Headers the script controls (or that httpd derives from the script's
# output); compared in order, repeats kept.  Date, Server and the framing
# headers (Content-Length, Transfer-Encoding, Connection) are httpd's.
SCRIPT_HEADERS = {"content-type", "location", "set-cookie", "last-modified",
                  "expires", "etag", "cache-control", "allow",
                  "accept-ranges"}


@pytest.fixture(scope="module")
def pair(httpd_module, mpm, mode):
    ref = httpd_module(mpm=mpm, module="cgi", tag="ref")
    cand = httpd_module(mpm=mpm, module=TEST_MODULE, mode=mode, tag="cand")
    return ref, cand


def _norm(text, port):
    return text.replace(str(port), "<PORT>")


def script_headers(resp, port):
    return [(k.lower(), _norm(v, port)) for k, v in resp.headers
            if k.lower() in SCRIPT_HEADERS or k.lower().startswith("x-")]


def normalised_env(resp, port):
    env = cases.env_of(resp)
    # The only values allowed to differ: the servers' and clients' ports.
    for key in ("REMOTE_PORT", "REDIRECT_REMOTE_PORT"):
        if key in env:
            assert env.pop(key).isdigit(), key
    return {k: _norm(v, port) for k, v in env.items()}


def env_diff(ref, cand):
    lines = []
    for key in sorted(set(ref) | set(cand)):
        if key not in cand:
            lines.append("  missing in mod_pycgi: %s=%s" % (key, ref[key]))
        elif key not in ref:
            lines.append("  extra in mod_pycgi:   %s=%s" % (key, cand[key]))
        elif ref[key] != cand[key]:
            lines.append("  %s: mod_cgi %r, mod_pycgi %r"
                         % (key, ref[key], cand[key]))
    return "\n".join(lines)


def check_framing(resp, method):
    """Whatever the framing, it must be valid HTTP."""
    assert resp.chunk_error is None, "bad chunked body: %s" % resp.chunk_error
    clen = resp.header_all("Content-Length")
    assert len(clen) <= 1, "several Content-Length: %r" % clen
    if clen and method != "HEAD" and resp.status != 304:
        assert int(clen[0]) == len(resp.body_raw), \
            "Content-Length %s but %d body bytes" % (clen[0],
                                                     len(resp.body_raw))
    assert not (clen and resp.header("Transfer-Encoding")), \
        "both Content-Length and Transfer-Encoding"


def compare(case, ref, rr, cand, cr):
    what = "%s: mod_cgi vs %s" % (case.id, cand.name)
    if case.compare == "raw":
        assert cr.raw == rr.raw, "%s raw response differs:\n%r\n%r" % (
            what, rr.raw[:2000], cr.raw[:2000])
        return
    assert (cr.status, cr.reason) == (rr.status, rr.reason), \
        "%s status: %s %s vs %s %s; body %r" % (
            what, rr.status, rr.reason, cr.status, cr.reason, cr.body[:500])
    assert script_headers(cr, cand.port) == script_headers(rr, ref.port), \
        "%s headers differ" % what
    check_framing(cr, case.method)
    if case.compare == "exact":
        assert _norm_bytes(cr.body, cand.port) == \
            _norm_bytes(rr.body, ref.port), "%s body differs" % what
    elif case.compare == "digest":
        assert (len(cr.body), hashlib.sha256(cr.body).hexdigest()) == \
            (len(rr.body), hashlib.sha256(rr.body).hexdigest()), \
            "%s body differs" % what
    elif case.compare == "env":
        renv = normalised_env(rr, ref.port)
        cenv = normalised_env(cr, cand.port)
        assert cenv == renv, "%s environment differs:\n%s" % (
            what, env_diff(renv, cenv))


def _norm_bytes(data, port):
    return data.replace(str(port).encode(), b"<PORT>")


@pytest.mark.parametrize("case", cases.CASES, ids=cases.CASE_IDS)
def test_same_as_mod_cgi(pair, case):
    ref, cand = pair
    rctx = cases.Ctx(ref, cases.DIFF_ROLES)
    cctx = cases.Ctx(cand, cases.DIFF_ROLES)
    rmark, cmark = ref.log_mark(), cand.log_mark()
    rr = case.send(rctx)
    cr = case.send(cctx)
    # The table must describe stock mod_cgi, or the test itself is wrong.
    try:
        cases.run_checks(case, rr, rctx)
        cases.check_log(case, rctx, rmark)
        check_framing(rr, case.method)
    except AssertionError as e:
        raise AssertionError("TABLE BUG - stock mod_cgi does not match the "
                             "table: %s" % e)
    compare(case, ref, rr, cand, cr)
    cases.run_checks(case, cr, cctx)
    cases.check_log(case, cctx, cmark)


SSI_PI_CONF = """
<Directory "@SITE@/htdocs/ssi_pi">
    Options +Includes
    AcceptPathInfo On
</Directory>
"""


@pytest.mark.parametrize("mpm_", ["prefork", "event"])
def test_ssi_exec_cmd_environment_same_as_mod_cgi(httpd, site, mpm_):
    """<!--#exec cmd--> of a page requested with path info and a query
    full of shell characters: the command's environment is stock
    mod_cgi's (its add_ssi_vars: PATH_INFO and QUERY_STRING_UNESCAPED
    shell-escaped, PATH_TRANSLATED from a sub-request), key by key."""
    site.make_dir("htdocs/ssi_pi")
    site.write("htdocs/ssi_pi/env.shtml",
               '<!--#exec cmd="env"-->\n')
    url = ("/ssi_pi/env.shtml/a%20b;c&d/%3Cq%3E$x"
           "?w=1%3Bx%26y&z=%27q%27+%60id%60")
    envs = []
    for module in ("cgi", TEST_MODULE):
        srv = httpd(mpm=mpm_, module=module, site=site,
                    extra_conf=SSI_PI_CONF, tag="ssi-pi-" + module)
        resp = srv.get(url)
        assert resp.status == 200, resp
        env = dict(line.split("=", 1) for line in resp.text.splitlines()
                   if "=" in line)
        for key in ("REMOTE_PORT", "DATE_LOCAL", "DATE_GMT"):
            env.pop(key, None)
        envs.append({k: v.replace(str(srv.port), "<PORT>")
                     for k, v in env.items()})
    ref, cand = envs
    assert ref["PATH_INFO"] != "/a b;c&d/<q>$x", "not escaped: test invalid"
    diff = {k: (ref.get(k), cand.get(k)) for k in set(ref) | set(cand)
            if ref.get(k) != cand.get(k)}
    assert not diff, "(mod_cgi, ours): %s" % diff
