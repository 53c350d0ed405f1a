"""The request table shared by the differential and the behaviour tests.

Each Case is one HTTP request against a script of tests/scripts/, plus
what stock mod_cgi (Debian's 2.4.71 build) is known to answer.  Paths are
templates over the script-directory roles of a Site:

  {sa}   ScriptAlias'd directory        {x}    Options +ExecCGI + AddHandler
  {nx}   AddHandler without ExecCGI     {npi}  AcceptPathInfo Off
  {dir}  SetHandler on a directory      {ssi}  tag of the .shtml pages that
                                               include scripts from {sa}

The differential test fills them with the cgi-script directories (both
servers), the behaviour test with our pycgi-script ones.  The
differential test checks every expectation against stock mod_cgi too, so
the table itself is proven on each run.
"""

import hashlib
import os
import random
import re

import httpd as httpd_lib

DIFF_ROLES = dict(sa="/cgi-bin", x="/exec", nx="/noexec", npi="/nopi",
                  dir="/cgidir", ssi="cgi_bin")
PYCGI_ROLES = dict(sa="/pycgi", x="/pycgi", nx="/pycgi-noexec",
                   npi="/pycgi-nopi", dir="/pycgi-dir", ssi="pycgi")
STOCK_ROLES = dict(DIFF_ROLES, sa="/exec", ssi="exec")

SSI_ERROR = b"[an error occurred while processing this directive]"


class Ctx:
    """What a check needs to know about the server that answered."""

    def __init__(self, server, roles):
        self.server = server
        self.roles = roles
        self.site = server.site.root
        self.htdocs = server.site.htdocs
        self.port = server.port

    def url(self, template):
        return template.format(**self.roles)

    def fs(self, role):
        """Filesystem directory of a role, e.g. fs('sa')."""
        sub = httpd_lib.SCRIPT_DIRS[self.roles[role]][0]
        return os.path.join(self.site, sub)


class Case:
    def __init__(self, id, path, method="GET", headers=None, body=None,
                 chunked=False, status=200, check=None, compare="exact",
                 log_name=None, log_re=None, timeout=30.0,
                 version="HTTP/1.1"):
        self.id = id
        self.version = version
        self.path = path
        self.method = method
        self.headers = headers or []
        self._body = body
        self.chunked = chunked
        self.status = status
        self.check = check
        # exact: headers + body; env: body parsed as KEY=value lines;
        # digest: headers + length/sha256 of the body; raw: the raw bytes
        # (nph-), nothing: status and headers only.
        self.compare = compare
        # Error paths: a new error-log line must name this script.
        self.log_name = log_name
        # A regex the new error-log text must match (e.g. a traceback).
        self.log_re = log_re
        self.timeout = timeout

    @property
    def body(self):
        return self._body() if callable(self._body) else self._body

    def send(self, ctx):
        return ctx.server.request(self.method, ctx.url(self.path),
                                  headers=self.headers, body=self.body,
                                  chunked=self.chunked, timeout=self.timeout,
                                  version=self.version)

    def __repr__(self):
        return "<Case %s>" % self.id


# -- request bodies (deterministic, built once) ----------------------------

_cache = {}


def _blob(size, seed):
    key = (size, seed)
    if key not in _cache:
        _cache[key] = random.Random(seed).randbytes(size)
    return _cache[key]


def body_10m():
    return _blob(10 * 1024 * 1024, 10)


def body_1m():
    return _blob(1024 * 1024, 1)


BOUNDARY = "----pycgiTestBoundary7MA4YWxkTrZu0gW"


def multipart_upload():
    key = "multipart"
    if key not in _cache:
        parts = [
            b"--" + BOUNDARY.encode() + b"\r\n",
            b'Content-Disposition: form-data; name="comment"\r\n\r\n',
            b"a 1 MiB upload\r\n",
            b"--" + BOUNDARY.encode() + b"\r\n",
            b'Content-Disposition: form-data; name="filename"; '
            b'filename="test.bin"\r\n',
            b"Content-Type: application/octet-stream\r\n\r\n",
            body_1m(), b"\r\n",
            b"--" + BOUNDARY.encode() + b"--\r\n",
        ]
        _cache[key] = b"".join(parts)
    return _cache[key]


FORM_POST = (b"first_name=Zara&last_name=Ali&maths=on&subject=Maths"
             b"&dropdown=Physics&textcontent=hello+world+%E4%BD%A0%E5%A5%BD")
FORM_CT = [("Content-Type", "application/x-www-form-urlencoded")]


def big_out_expected(mib):
    block = bytes(range(256)) * 4096
    h = hashlib.sha256()
    for i in range(mib):
        h.update(block[i % 256:] + block[:i % 256])
    return mib * len(block), h.hexdigest()


# -- checks ------------------------------------------------------------------

def env_of(resp):
    """Parse KEY=value lines (env.py output); other lines are ignored."""
    env = {}
    for line in resp.body.decode("utf-8", "replace").splitlines():
        m = re.match(r"([A-Za-z_][A-Za-z0-9_]*)=(.*)$", line)
        if m:
            env[m.group(1)] = m.group(2)
    return env


def contains(*needles):
    def check(resp, ctx):
        for n in needles:
            n = n.encode() if isinstance(n, str) else n
            assert n in resp.body, "%r not in body %r" % (n, resp.body[:500])
    return check


def equals(expected):
    def check(resp, ctx):
        e = expected.encode() if isinstance(expected, str) else expected
        assert resp.body == e
    return check


def header_is(name, value):
    def check(resp, ctx):
        assert resp.header(name) == value, \
            "%s: %r != %r" % (name, resp.header(name), value)
    return check


def all_of(*checks):
    def check(resp, ctx):
        for c in checks:
            c(resp, ctx)
    return check


def no_framing_from_script(resp, ctx):
    """CVE-2024-24795: the script's Content-Length / Transfer-Encoding
    are dropped and httpd frames the full body itself."""
    assert resp.header_all("Content-Length") == [] or \
        resp.header_all("Content-Length") == [str(len(resp.body))]
    assert len(resp.header_all("Transfer-Encoding")) <= 1
    assert resp.chunk_error is None, resp.chunk_error
    assert resp.body == b"0123456789abcdef\n"


def env_get_check(resp, ctx):
    env = env_of(resp)
    sa = ctx.url("{sa}")
    assert env["REQUEST_METHOD"] == "GET"
    assert env["QUERY_STRING"] == "a=1&b=two"
    assert env["PATH_INFO"] == "/extra/path"
    assert env["PATH_TRANSLATED"] == ctx.htdocs + "/extra/path"
    assert env["SCRIPT_NAME"] == sa + "/env.py"
    assert env["SCRIPT_FILENAME"] == ctx.fs("sa") + "/env.py"
    assert env["REQUEST_URI"] == sa + "/env.py/extra/path?a=1&b=two"
    assert env["GATEWAY_INTERFACE"] == "CGI/1.1"
    assert env["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert env["SERVER_NAME"] == "127.0.0.1"
    assert env["SERVER_PORT"] == str(ctx.port)
    assert env["REMOTE_ADDR"] == "127.0.0.1"
    assert env["REMOTE_PORT"].isdigit()
    assert env["DOCUMENT_ROOT"] == ctx.htdocs
    assert env["HTTP_USER_AGENT"] == "pycgi-tests/1.0"
    assert env["HTTP_X_CUSTOM_HEADER"] == "custom value"
    assert env["SERVER_SOFTWARE"].startswith("Apache/2.4")
    assert env["PYCGI_SETENV"] == "set-by-setenv"
    assert env["PYCGI_PASSENV"] == "passed-by-passenv"
    assert env["PATH"]
    # httpoxy: a Proxy: request header must never become HTTP_PROXY.
    assert "HTTP_PROXY" not in env
    # CGIPassAuth is off here.
    assert "HTTP_AUTHORIZATION" not in env
    assert "CONTENT_LENGTH" not in env
    # Nothing of apache2's own environment leaks except what is passed.
    assert "PYCGI_PRIVATE" not in env


def env_post_check(resp, ctx):
    env = env_of(resp)
    assert env["REQUEST_METHOD"] == "POST"
    assert env["CONTENT_LENGTH"] == str(len(FORM_POST))
    assert env["CONTENT_TYPE"] == "application/x-www-form-urlencoded"
    assert env["QUERY_STRING"] == ""


def env_encoded_check(resp, ctx):
    env = env_of(resp)
    assert env["PATH_INFO"] == "/a b/c"
    assert env["QUERY_STRING"] == "x=%41&y=%20"


def redirect_get_check(resp, ctx):
    env = env_of(resp)
    assert env["QUERY_STRING"] == "redirected=1"
    assert env["REQUEST_METHOD"] == "GET"
    assert env["REDIRECT_STATUS"] == "200"
    assert env["REDIRECT_URL"] == ctx.url("{sa}/redirect_local.py")
    assert env["SCRIPT_NAME"] == "/cgi-bin/env.py"


def redirect_post_check(resp, ctx):
    redirect_get_check(resp, ctx)
    # The redirect turns the POST into a GET without a body.
    assert "CONTENT_LENGTH" not in env_of(resp)


def echo_check(data, clen):
    def check(resp, ctx):
        lines = resp.body.decode().splitlines()
        assert lines[0] == "CONTENT_LENGTH=%s" % clen
        assert lines[2] == "length=%d" % len(data)
        assert lines[3] == "sha256=%s" % hashlib.sha256(data).hexdigest()
    return check


def big_out_check(mib):
    def check(resp, ctx):
        size, digest = big_out_expected(mib)
        assert len(resp.body) == size
        assert hashlib.sha256(resp.body).hexdigest() == digest
    return check


def upload_check(resp, ctx):
    data = body_1m()
    assert resp.body.decode().splitlines() == [
        "filename=test.bin",
        "size=%d" % len(data),
        "sha256=%s" % hashlib.sha256(data).hexdigest(),
        "comment=a 1 MiB upload",
    ]


def cwd_check(resp, ctx):
    assert resp.body.decode().splitlines() == [
        "cwd=%s" % ctx.fs("sa"),
        "data=data in %s" % ctx.url("{sa}"),
    ]


def main_guard_check(resp, ctx):
    script = ctx.fs("sa") + "/main_guard.py"
    assert resp.text.splitlines() == [
        "__name__=__main__",
        "__file__=%s" % script,
        "argv0=%s" % script,
        "path0=%s" % ctx.fs("sa"),
    ]


def not_modified(resp, ctx):
    assert resp.body == b""
    assert resp.header("Last-Modified") == "Wed, 01 Jan 2020 00:00:00 GMT"
    assert resp.header("ETag") == '"pycgi-lastmod-1"'


def nph_check(resp, ctx):
    assert resp.raw == (b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                        b"X-NPH: yes\r\n\r\nhello from an nph script\n")


def ssi_env_check(resp, ctx):
    env = env_of(resp)
    assert resp.body.startswith(b"before\n")
    assert resp.body.endswith(b"after\n")
    assert env["QUERY_STRING"] == "from=ssi"
    assert env["DOCUMENT_URI"] == "/ssi/include_env_%s.shtml" % \
        ctx.roles["ssi"]


HELLO_H2 = "<h2>Hello Word! This is my first CGI program</h2>"
HELLO_BODY = ("<html>\n<head>\n<title>Hello Word - First CGI Program</title>"
              "\n</head>\n<body>\n" + HELLO_H2 + "\n</body>\n</html>\n")
UA = [("User-Agent", "pycgi-tests/1.0")]

# -- the table ---------------------------------------------------------------

CASES = [
    # The tutorial scripts.
    Case("hello", "{sa}/hello.py",
         check=all_of(equals(HELLO_BODY), header_is("Content-Type",
                                                    "text/html"))),
    Case("hello_exec_dir", "{x}/hello.py", check=equals(HELLO_BODY)),
    Case("hello_crlf", "{x}/hello_crlf.py",
         check=equals("\n" + HELLO_BODY)),
    Case("hello_utf8", "{sa}/hello_utf8.py",
         check=contains("我的第一个 CGI 程序！", "ünïcödé ✓")),
    Case("hello_head", "{sa}/hello.py", method="HEAD", check=equals(b"")),
    Case("hello_http10", "{sa}/hello.py", version="HTTP/1.0",
         check=equals(HELLO_BODY)),
    Case("options", "{sa}/hello.py", method="OPTIONS", compare="nothing"),
    Case("shell_cgi", "{sa}/hello.cgi?a=b",
         check=all_of(equals("hello from sh\nquery=a=b\nmethod=GET\n"),
                      header_is("X-Shell", "yes"))),
    Case("shell_cgi_exec_dir", "{x}/hello.cgi",
         check=equals("hello from sh\nquery=\nmethod=GET\n")),
    Case("env_get", "{sa}/env.py/extra/path?a=1&b=two", compare="env",
         headers=UA + [("X-Custom-Header", "custom value"),
                       ("Proxy", "http://proxy.invalid:3128/"),
                       ("Authorization", "Basic dXNlcjpwYXNz")],
         check=env_get_check),
    Case("env_post", "{sa}/env.py", method="POST", headers=FORM_CT,
         body=FORM_POST, compare="env", check=env_post_check),
    Case("env_exec_dir", "{x}/env.py/p?q=1", compare="env",
         check=lambda r, c: env_of(r)["PATH_INFO"] == "/p"),
    Case("env_encoded", "{sa}/env.py/a%20b/c?x=%41&y=%20", compare="env",
         check=env_encoded_check),
    Case("env_passauth", "/passauth/env.py", compare="env",
         headers=[("Authorization", "Basic dXNlcjpwYXNz")],
         check=lambda r, c: env_of(r)["HTTP_AUTHORIZATION"]
         == "Basic dXNlcjpwYXNz"),
    Case("env_cgivar", "/cgivar/env.py/pi?q=1", compare="env",
         check=lambda r, c: env_of(r)["REQUEST_URI"] == "/cgivar/env.py/pi"),
    Case("pathinfo", "{sa}/pathinfo.py/some/where",
         check=contains("PATH_INFO=/some/where\n",
                        "SCRIPT_NAME=/")),
    Case("form_get", "{sa}/form_get.py?first_name=Zara&last_name=Ali",
         check=contains("<h2>Hello Zara Ali</h2>",
                        "<p>first_name=['Zara']</p>")),
    Case("form_post", "{sa}/form_post.py", method="POST", headers=FORM_CT,
         body=FORM_POST,
         check=contains("<h2>Hello Zara Ali</h2>", "maths checked",
                        "subject: Maths", "dropdown: Physics",
                        "text: hello world 你好")),
    Case("cookie_set", "{sa}/cookie_set.py",
         check=lambda r, c: r.header_all("Set-Cookie") == [
             'name="Runoob";expires=Wed, 28 Aug 2036 18:30:00 GMT',
             "session=abc123; Path=/; HttpOnly",
             "theme=dark; Max-Age=3600; SameSite=Lax"]),
    Case("cookie_get", "{sa}/cookie_get.py",
         headers=[("Cookie", "name=Runoob; session=abc123")],
         check=equals("HTTP_COOKIE=name=Runoob; session=abc123\n"
                      "name=Runoob\nsession=abc123\n")),
    Case("redirect_local", "{sa}/redirect_local.py", compare="env",
         check=redirect_get_check),
    Case("redirect_local_post", "{sa}/redirect_local.py", method="POST",
         headers=FORM_CT, body=FORM_POST, compare="env",
         check=redirect_post_check),
    Case("redirect_local_static",
         "{sa}/redirect_local.py?to=/local/target.txt",
         check=all_of(equals("static redirect target\n"),
                      header_is("Content-Type", "text/plain"))),
    Case("redirect_external", "{sa}/redirect_external.py", status=302,
         check=all_of(header_is("Location", "http://example.invalid/x"),
                      header_is("X-Redirect", "external"))),
    Case("upload_1m", "{sa}/upload.py", method="POST",
         headers=[("Content-Type",
                   "multipart/form-data; boundary=" + BOUNDARY)],
         body=multipart_upload, check=upload_check),
    Case("post_10m", "{sa}/echo_body.py", method="POST",
         headers=[("Content-Type", "application/octet-stream")],
         body=body_10m, check=echo_check(body_10m(), 10 * 1024 * 1024)),
    Case("post_chunked_1m", "{sa}/echo_body.py", method="POST",
         headers=[("Content-Type", "application/octet-stream")],
         body=body_1m, chunked=True, check=echo_check(body_1m(), "<unset>")),
    Case("get_stdin_eof", "{sa}/echo_body.py",
         check=echo_check(b"", "<unset>")),
    Case("output_50m", "{sa}/big_out.py?50", compare="digest",
         check=big_out_check(50)),
    Case("lastmod_200", "{sa}/lastmod.py",
         check=all_of(header_is("Last-Modified",
                                "Wed, 01 Jan 2020 00:00:00 GMT"),
                      header_is("Expires", "Thu, 01 Jan 2037 00:00:00 GMT"),
                      contains("a body that a 304 must not carry"))),
    Case("lastmod_304_ims", "{sa}/lastmod.py", status=304,
         headers=[("If-Modified-Since", "Sat, 01 Feb 2020 00:00:00 GMT")],
         check=not_modified),
    Case("lastmod_200_ims_older", "{sa}/lastmod.py",
         headers=[("If-Modified-Since", "Tue, 01 Jan 2019 00:00:00 GMT")],
         check=contains("a body that a 304 must not carry")),
    Case("lastmod_304_inm", "{sa}/lastmod.py", status=304,
         headers=[("If-None-Match", '"pycgi-lastmod-1"')],
         check=not_modified),
    Case("status_404", "{sa}/status.py", status=404,
         check=all_of(equals("status body for 404 Not Found\n"),
                      header_is("X-Status-Script", "yes"))),
    Case("status_teapot", "{sa}/status.py?418%20I'm%20a%20teapot",
         status=418, check=lambda r, c: r.reason == "I'm a teapot"),
    Case("status_custom_reason", "{sa}/status.py?299%20Custom%20Reason",
         status=299, check=lambda r, c: r.reason == "Custom Reason"),
    Case("status_500_from_script", "{sa}/status.py?500", status=500,
         check=equals("status body for 500\n")),
    Case("nph", "{sa}/nph-hello.py", compare="raw", check=nph_check),
    Case("nph_exec_dir", "{x}/nph-hello.py", compare="raw", check=nph_check),
    Case("clen_ok", "{sa}/clen.py?ok", check=no_framing_from_script),
    Case("clen_short", "{sa}/clen.py?short", check=no_framing_from_script),
    Case("clen_long", "{sa}/clen.py?long", check=no_framing_from_script),
    Case("clen_te", "{sa}/clen.py?te", check=no_framing_from_script),
    Case("clen_te_and_cl", "{sa}/clen.py?tecl", check=no_framing_from_script),
    Case("clen_split", "{sa}/clen.py?split", check=no_framing_from_script),
    Case("isindex", "{sa}/isindex.py?foo+bar%20baz",
         check=equals("argc=2\narg=foo\narg=bar baz\n")),
    Case("isindex_with_equals", "{sa}/isindex.py?a=b",
         check=equals("argc=0\n")),
    Case("cwd", "{sa}/cwd.py", check=cwd_check),
    Case("exit_code", "{sa}/exit_code.py",
         check=equals("output before sys.exit(3)\n")),
    Case("exception_after_output", "{sa}/exception.py",
         check=equals("partial body\n"),
         log_re=r"exception\.py.*RuntimeError: pycgi-test-exception"),
    Case("main_guard", "{sa}/main_guard.py", check=main_guard_check),
    Case("os_exit", "{sa}/os_exit.py",
         check=equals("output before os._exit(0)\n")),
    Case("import_sibling_module", "{sa}/use_helper.py",
         check=lambda r, c: r.text == "helper=%s\n" % c.fs("sa")),
    Case("stdin_text_mode", "{sa}/stdin_text.py", method="POST",
         headers=FORM_CT, body=b"hello=world&x=1",
         check=equals("read 15 chars: hello=world&x=1\n")),
    # mod_include.
    Case("ssi_exec_cgi", "/ssi/exec_cgi_{ssi}.shtml",
         check=equals("before\n" + HELLO_BODY + "\nafter\n")),
    Case("ssi_exec_cmd", "/ssi/exec_cmd_{ssi}.shtml",
         check=equals("before\nhi\n\nafter\n")),
    Case("ssi_include_virtual", "/ssi/include_virtual_{ssi}.shtml",
         check=equals("before\n" + HELLO_BODY + "\nafter\n")),
    Case("ssi_include_env", "/ssi/include_env_{ssi}.shtml", compare="env",
         check=ssi_env_check),
    Case("ssi_noexec_exec_cgi", "/ssi-noexec/exec_cgi_{ssi}.shtml",
         check=equals(b"before\n" + SSI_ERROR + b"\nafter\n"),
         log_name="exec_cgi_{ssi}.shtml"),
    Case("ssi_noexec_exec_cmd", "/ssi-noexec/exec_cmd_{ssi}.shtml",
         check=equals(b"before\n" + SSI_ERROR + b"\nafter\n"),
         log_name="exec_cmd_{ssi}.shtml"),
    Case("ssi_noexec_include_virtual",
         "/ssi-noexec/include_virtual_{ssi}.shtml",
         check=equals("before\n" + HELLO_BODY + "\nafter\n")),
    # Error paths: status plus an error-log line naming the script.
    Case("err_execcgi_off", "{nx}/hello.py", status=403,
         log_name="hello.py"),
    Case("err_missing", "{sa}/missing.py", status=404,
         log_name="missing.py"),
    Case("err_missing_exec_dir", "{x}/missing.py", status=404,
         log_name="missing.py"),
    Case("err_directory", "{dir}/subdir/", status=403, log_name="subdir"),
    Case("err_pathinfo_off", "{npi}/env.py/extra", status=404,
         log_name="env.py"),
    Case("err_not_executable", "{sa}/noperm.py", status=500,
         log_name="noperm.py"),
    Case("err_nph_in_ssi", "/ssi/include_nph_{ssi}.shtml",
         check=equals(b"before\n" + SSI_ERROR + b"\nafter\n"),
         log_name="nph-hello.py"),
    Case("err_no_output", "{sa}/nooutput.py", status=500,
         log_name="nooutput.py"),
    Case("err_bad_header", "{sa}/badheader.py", status=500,
         log_name="badheader.py"),
    Case("err_truncated_headers", "{sa}/truncated.py", status=500,
         log_name="truncated.py"),
    Case("err_timeout", "{sa}/silent.py", status=504, log_name="silent.py",
         timeout=20.0),
]

CASE_IDS = [c.id for c in CASES]
assert len(set(CASE_IDS)) == len(CASE_IDS)


def expected_exe(module, mode):
    """Regex for /proc/self/exe of a script (whoami.py): the interpreter
    for fork/exec runners, the httpd binary for the embedded one, the
    worker program for the daemon runner (and auto, which gives whoami.py
    to a daemon worker: its #! names Debian's python3)."""
    if module == "pycgi" and mode == "embedded":
        return r"/usr/sbin/apache2"
    if module == "pycgi" and mode in ("daemon", "fork", "auto"):
        return r"/.*/pycgi-worker"
    return r"/usr/bin/python3(\.\d+)?"


def run_checks(case, resp, ctx):
    """The table's own expectations for one response."""
    assert resp.status == case.status, \
        "%s: status %s %s, expected %s; body %r" % (
            case.id, resp.status, resp.reason, case.status, resp.body[:300])
    if case.check is not None:
        result = case.check(resp, ctx)
        assert result is None or result is True, \
            "%s: check returned %r" % (case.id, result)


def log_name_pattern(case, ctx):
    return re.escape(ctx.url(case.log_name))


def check_log(case, ctx, mark):
    """Error paths must leave a log line naming the script; returns the
    new log text."""
    pattern = None
    if case.log_name:
        pattern = r"(?m)^.*%s.*$" % log_name_pattern(case, ctx)
    elif case.log_re:
        pattern = case.log_re
    if pattern is None:
        return ""
    text = ctx.server.wait_log(mark, pattern)
    assert re.search(pattern, text), (
        "%s: no error-log line matching %r in %s; new log text:\n%s"
        % (case.id, pattern, ctx.server.name, text[-3000:] or "(none)"))
    if case.log_re and case.log_name:
        assert re.search(case.log_re, text)
    return text
