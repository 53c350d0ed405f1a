#!/usr/bin/python3
"""Benchmark mod_pycgi against stock mod_cgi, mod_wsgi and mod_python.

One run starts a private httpd for every row of the table below, checks
that it answers correctly, loads it with wrk, stops it, and finally
prints a table, writes bench/results.tsv and draws bench/bench.png.

Everything the servers need (configuration, document root, scripts, wrk
Lua script, logs) lives in one temporary directory that is removed at
the end unless --keep is given.  Only the standard library is used, so
`/usr/bin/python3 bench/bench.py` works from a Makefile as it is.
"""

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)
EXAMPLES_DIR = os.path.join(REPO_DIR, "examples")

HTTPD = "/usr/sbin/apache2"
MODULES_DIR = "/usr/lib/apache2/modules"
PYTHON = "/usr/bin/python3"
WRK = "wrk"
GNUPLOT = "gnuplot"
RUN_USER = "www-data"

# The environment httpd starts with, as apache2ctl's envvars would give
# it: nothing from the caller (PYTHONPATH, a pyenv PATH, make's variables)
# may leak into the scripts or the embedded interpreters.
HTTPD_ENV = {
    "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG": "C",
}

WRK_THREADS = 2
WRK_CONNECTIONS = 8

# What the client sends for the form workload, and what each workload's
# answer must contain before we are willing to measure it.
FORM_BODY = "first_name=Ada&last_name=Lovelace"
EXPECT = {
    "hello": "Hello World! This is my first CGI program",
    "form": "Hello Ada Lovelace",
    "json": '"greeting": "Hello World"',
}

# The heavier CGI script: the hello page plus two stdlib imports that a
# real script pays for on every fork/exec but only once when embedded.
JSON_SCRIPT = '''\
#!/usr/bin/python3
# -*- coding: UTF-8 -*-
import json
import email.utils

data = {"greeting": "Hello World", "numbers": list(range(10)),
        "nested": {"on": True, "off": None, "ratio": 2.5}}

print("Content-type:text/html")
print()
print("<html><body>")
print("<h2>Hello World! This is my first CGI program</h2>")
print("<pre>%s</pre>" % json.dumps(data, sort_keys=True))
print("<p>%s</p>" % email.utils.formatdate(usegmt=True))
print("</body></html>")
'''

# Tells check_runner() which process ran the script.
WHOAMI_SCRIPT = '''\
#!/usr/bin/python3
import os
print("Content-type: text/plain")
print()
print("ppid=%d" % os.getppid())
'''

# WSGI twins of the three CGI workloads, for the mod_wsgi rows.  HELLO is
# filled in with the exact bytes examples/hello.py prints.
WSGI_SCRIPT = '''\
import cgi
import html
import json
import email.utils

HELLO = %(hello)r


def hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/html"),
                              ("Content-Length", str(len(HELLO)))])
    return [HELLO]


def form(environ, start_response):
    fs = cgi.FieldStorage(fp=environ["wsgi.input"], environ=environ)
    page = ("<html><body><h2>Hello %%s %%s</h2></body></html>\\n"
            %% (html.escape(fs.getvalue("first_name", "")),
                html.escape(fs.getvalue("last_name", "")))).encode("utf-8")
    start_response("200 OK", [("Content-Type", "text/html"),
                              ("Content-Length", str(len(page)))])
    return [page]


def json_email(environ, start_response):
    data = {"greeting": "Hello World", "numbers": list(range(10)),
            "nested": {"on": True, "off": None, "ratio": 2.5}}
    page = ("<html><body>\\n"
            "<h2>Hello World! This is my first CGI program</h2>\\n"
            "<pre>%%s</pre>\\n<p>%%s</p>\\n</body></html>\\n"
            %% (json.dumps(data, sort_keys=True),
                email.utils.formatdate(usegmt=True))).encode("utf-8")
    start_response("200 OK", [("Content-Type", "text/html"),
                              ("Content-Length", str(len(page)))])
    return [page]
'''

WRK_POST_LUA = '''\
wrk.method = "POST"
wrk.body = "%s"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
''' % FORM_BODY

# The rows, in the order they are run and printed: (workload, server, mpm).
# "server" picks the handler configuration in server_snippet().
ROWS = [
    ("hello", "static", "prefork"),
    ("hello", "static", "event"),
    ("hello", "mod_cgi", "prefork"),
    ("hello", "pycgi-exec", "prefork"),
    ("hello", "pycgi-embedded", "prefork"),
    ("hello", "pycgi-embedded", "event"),
    ("hello", "mod_wsgi", "prefork"),
    ("hello", "mod_python", "prefork"),
    ("form", "mod_cgi", "prefork"),
    ("form", "pycgi-exec", "prefork"),
    ("form", "pycgi-embedded", "prefork"),
    ("form", "mod_wsgi", "prefork"),
    ("json", "mod_cgi", "prefork"),
    ("json", "pycgi-exec", "prefork"),
    ("json", "pycgi-embedded", "prefork"),
    ("json", "mod_wsgi", "prefork"),
]

WORKLOAD_TITLE = {
    "hello": "hello",
    "form": "form POST",
    "json": "json+email",
}

SERVER_TITLE = {
    "static": "static file",
    "mod_cgi": "mod_cgi",
    "pycgi-exec": "pycgi exec",
    "pycgi-embedded": "pycgi embedded",
    "mod_wsgi": "mod_wsgi embedded",
    "mod_python": "mod_python cgihandler",
}

# Bar colours in the chart, one per server kind.
SERVER_COLOUR = {
    "static": 0x888888,
    "mod_cgi": 0xcc3333,
    "pycgi-exec": 0xe69f00,
    "pycgi-embedded": 0x009e73,
    "mod_wsgi": 0x3366cc,
    "mod_python": 0x8855aa,
}

# URL path of each workload, per kind of server.
CGI_PATH = {"hello": "/cgi-bin/hello.py",
            "form": "/cgi-bin/hello_get.py",
            "json": "/cgi-bin/hello_json.py"}
WSGI_PATH = {"hello": "/wsgi/hello", "form": "/wsgi/form",
             "json": "/wsgi/json"}

MPM_CONF = {
    # Enough prefork children that every wrk connection keeps its own.
    "prefork": """\
StartServers 10
MinSpareServers 10
MaxSpareServers 20
ServerLimit 32
MaxRequestWorkers 32
MaxConnectionsPerChild 0
""",
    "event": """\
StartServers 2
ServerLimit 4
ThreadLimit 16
ThreadsPerChild 16
MinSpareThreads 16
MaxSpareThreads 64
MaxRequestWorkers 64
MaxConnectionsPerChild 0
""",
}


class Row:
    """One line of the result table."""

    def __init__(self, workload, server, mpm):
        self.workload = workload
        self.server = server
        self.mpm = mpm
        self.status = "pending"     # ok, failed, skipped
        self.rps = None             # the median of the rounds' samples
        self.samples = []           # req/s of each round
        self.non2xx = 0
        self.socket_errors = 0
        self.note = ""
        self.flags = []
        self.ratio_cgi = None
        self.ratio_wsgi = None

    def flag(self, what):
        """Something is wrong with a measured row; shown and fails the run."""
        self.flags.append(what)
        self.note = "; ".join("FLAG: " + f for f in self.flags)

    @property
    def name(self):
        return "%s-%s-%s" % (self.workload, self.server, self.mpm)

    @property
    def title(self):
        return "%s / %s" % (WORKLOAD_TITLE[self.workload],
                            SERVER_TITLE[self.server])


def log(msg):
    print(msg, flush=True)


def pycgi_module_path():
    return os.environ.get("PYCGI_MODULE",
                          os.path.join(REPO_DIR, ".libs", "mod_pycgi.so"))


def world_traversable(path):
    """True if every directory from / down to path has o+x, so that the
    unprivileged httpd children can reach files below it."""
    path = os.path.abspath(path)
    while True:
        if not os.stat(path).st_mode & 0o001:
            return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def make_workdir():
    base = tempfile.gettempdir()
    if not world_traversable(base):
        # pytest and friends hand out 0700 temporary directories; the
        # www-data children could not read our document root in there.
        base = "/tmp"
    work = tempfile.mkdtemp(prefix="pycgi-bench-", dir=base)
    for sub in ("htdocs", "htdocs/cgi-bin", "wsgi", "conf", "logs", "run"):
        os.mkdir(os.path.join(work, sub))
    for dirpath, dirnames, _ in os.walk(work):
        os.chmod(dirpath, 0o755)
    return work


def split_cgi_output(raw):
    """Split a CGI script's stdout into (header text, body bytes)."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        head, found, body = raw.partition(sep)
        if found:
            return head.decode("latin-1"), body
    raise ValueError("no blank line after the CGI headers")


def populate(work):
    """Lay out the document root: the tutorial scripts, the heavier JSON
    script, the static twin of hello.py, the WSGI twins, the wrk script."""
    cgi_bin = os.path.join(work, "htdocs", "cgi-bin")
    for script in ("hello.py", "hello_get.py"):
        dst = os.path.join(cgi_bin, script)
        shutil.copyfile(os.path.join(EXAMPLES_DIR, script), dst)
        os.chmod(dst, 0o755)
    for name, text in (("hello_json.py", JSON_SCRIPT),
                       ("whoami.py", WHOAMI_SCRIPT)):
        dst = os.path.join(cgi_bin, name)
        with open(dst, "w") as f:
            f.write(text)
        os.chmod(dst, 0o755)

    # The static file and the WSGI app serve exactly the bytes hello.py
    # prints, so every "hello" row moves the same payload.
    raw = subprocess.run([PYTHON, os.path.join(EXAMPLES_DIR, "hello.py")],
                         stdout=subprocess.PIPE, check=True,
                         env=HTTPD_ENV).stdout
    _, hello_body = split_cgi_output(raw)
    with open(os.path.join(work, "htdocs", "hello.html"), "wb") as f:
        f.write(hello_body)
    with open(os.path.join(work, "wsgi", "app.wsgi"), "w") as f:
        f.write(WSGI_SCRIPT % {"hello": hello_body})
    with open(os.path.join(work, "post.lua"), "w") as f:
        f.write(WRK_POST_LUA)
    for dirpath, dirnames, filenames in os.walk(work):
        for name in filenames:
            p = os.path.join(dirpath, name)
            os.chmod(p, os.stat(p).st_mode | 0o444)
    return hello_body


def module_for(server):
    """Path of the DSO a server kind needs, or None for static."""
    return {
        "mod_cgi": os.path.join(MODULES_DIR, "mod_cgi.so"),
        "pycgi-exec": pycgi_module_path(),
        "pycgi-embedded": pycgi_module_path(),
        "mod_wsgi": os.path.join(MODULES_DIR, "mod_wsgi.so"),
        "mod_python": os.path.join(MODULES_DIR, "mod_python.so"),
    }.get(server)


def server_snippet(row, work):
    """The handler-specific part of the configuration."""
    cgi_bin = os.path.join(work, "htdocs", "cgi-bin")
    mod = module_for(row.server)
    if row.server == "static":
        return ""
    if row.server == "mod_cgi":
        return """\
LoadModule cgi_module %s
<Directory "%s">
    Options +ExecCGI
    AddHandler cgi-script .py
</Directory>
""" % (mod, cgi_bin)
    if row.server in ("pycgi-exec", "pycgi-embedded"):
        mode = row.server.split("-")[1]
        return """\
LoadModule pycgi_module %s
<Directory "%s">
    Options +ExecCGI
    AddHandler pycgi-script .py
    PyCGIMode %s
</Directory>
""" % (mod, cgi_bin, mode)
    if row.server == "mod_wsgi":
        app = os.path.join(work, "wsgi", "app.wsgi")
        # No WSGIDaemonProcess: the application runs embedded in the
        # httpd children, in the main interpreter, as mod_pycgi does.
        return """\
LoadModule wsgi_module {mod}
WSGIApplicationGroup %{{GLOBAL}}
WSGIScriptAlias /wsgi/hello {app} callable-object=hello
WSGIScriptAlias /wsgi/form {app} callable-object=form
WSGIScriptAlias /wsgi/json {app} callable-object=json_email
<Directory "{wsgi}">
    Require all granted
</Directory>
""".format(mod=mod, app=app, wsgi=os.path.dirname(app))
    if row.server == "mod_python":
        return """\
LoadModule python_module %s
<Directory "%s">
    SetHandler mod_python
    PythonHandler mod_python.cgihandler
    PythonDebug Off
</Directory>
""" % (mod, cgi_bin)
    raise ValueError(row.server)


def write_config(row, work, port):
    mpm = row.mpm
    user = ""
    if os.geteuid() == 0:
        user = "User %s\nGroup %s\n" % (RUN_USER, RUN_USER)
    conf = """\
# Generated by bench.py for row {name}
ServerRoot "{work}"
ServerName 127.0.0.1
Listen 127.0.0.1:{port}
PidFile "{work}/run/{name}.pid"
DefaultRuntimeDir "{work}/run"
ErrorLog "{work}/logs/{name}.error.log"
LogLevel warn
{user}
LoadModule mpm_{mpm}_module {mods}/mod_mpm_{mpm}.so
LoadModule authz_core_module {mods}/mod_authz_core.so
LoadModule mime_module {mods}/mod_mime.so
TypesConfig /etc/mime.types
{mpmconf}
# wrk keeps its connections open; let it.
KeepAlive On
MaxKeepAliveRequests 0
KeepAliveTimeout 15
Timeout 30

DocumentRoot "{work}/htdocs"
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "{work}/htdocs">
    Options None
    Require all granted
</Directory>

{snippet}""".format(name=row.name, work=work, port=port, user=user, mpm=mpm,
                    mods=MODULES_DIR, mpmconf=MPM_CONF[mpm],
                    snippet=server_snippet(row, work))
    path = os.path.join(work, "conf", row.name + ".conf")
    with open(path, "w") as f:
        f.write(conf)
    return path


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def tail(path, lines=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError as e:
        return "(cannot read %s: %s)\n" % (path, e)


class Httpd:
    """A foreground httpd we started and must stop."""

    def __init__(self, conf, port, errlog, stdout_path):
        self.port = port
        self.errlog = errlog
        self.stdout_path = stdout_path
        self.out = open(stdout_path, "wb")
        # A session of its own: on shutdown the prefork parent signals its
        # whole process group, which would otherwise include us.
        self.proc = subprocess.Popen([HTTPD, "-DFOREGROUND", "-f", conf],
                                     stdout=self.out,
                                     stderr=subprocess.STDOUT,
                                     env=HTTPD_ENV,
                                     start_new_session=True)

    def wait_ready(self, timeout=15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
                return True
            except OSError:
                time.sleep(0.1)
        return False

    def diagnostics(self):
        return ("--- httpd output ---\n%s--- error log tail ---\n%s"
                % (tail(self.stdout_path), tail(self.errlog)))

    def stop(self):
        if self.proc.poll() is None:
            # SIGTERM makes the parent kill its children and exit.
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                # Our session: the parent and every child it left behind.
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.out.close()


def request(port, path, body=None):
    """One request outside wrk, to check the server is right."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        if body is None:
            conn.request("GET", path)
        else:
            conn.request("POST", path, body=body, headers={
                "Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        return resp.status, resp.read().decode("utf-8", "replace")
    finally:
        conn.close()


def url_path(row):
    if row.server == "static":
        return "/hello.html"
    if row.server == "mod_wsgi":
        return WSGI_PATH[row.workload]
    return CGI_PATH[row.workload]


def run_wrk(port, path, seconds, lua=None):
    cmd = [WRK, "-t%d" % WRK_THREADS, "-c%d" % WRK_CONNECTIONS,
           "-d%ds" % seconds, "--timeout", "10s"]
    if lua:
        cmd += ["-s", lua]
    cmd.append("http://127.0.0.1:%d%s" % (port, path))
    # wrk stops itself after -d; the timeout is for a wedged server.
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True, timeout=seconds + 60).stdout
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise RuntimeError("cannot parse wrk output:\n" + out)
    rps = float(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    non2xx = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", out)
    sockerr = sum(int(x) for x in m.groups()) if m else 0
    return rps, non2xx, sockerr


def check_runner(row, httpd):
    """Flag a pycgi row whose scripts do not run where the mode says.

    An embedded script runs inside an httpd child, so its parent is the
    httpd parent process; an exec'd script's parent is the httpd child.
    Without this a silent fallback to exec would be measured as embedded.
    """
    try:
        status, text = request(httpd.port, "/cgi-bin/whoami.py")
        m = re.search(r"ppid=(\d+)", text)
    except (OSError, http.client.HTTPException) as e:
        status, m = str(e), None
    if status != 200 or not m:
        row.flag("runner probe failed (%s)" % status)
        return
    embedded = int(m.group(1)) == httpd.proc.pid
    if row.server == "pycgi-embedded" and not embedded:
        row.flag("script ran in a child process, not embedded")
    elif row.server == "pycgi-exec" and embedded:
        row.flag("script ran embedded, not exec")


def measure(row, work, seconds, warmup):
    mod = module_for(row.server)
    if mod and not os.path.exists(mod):
        row.status = "skipped"
        if row.server.startswith("pycgi"):
            row.note = ("%s not found (run make, or set PYCGI_MODULE)" % mod)
        else:
            row.note = "%s not installed" % mod
        return

    port = free_port()
    conf = write_config(row, work, port)
    errlog = os.path.join(work, "logs", row.name + ".error.log")
    httpd = Httpd(conf, port, errlog,
                  os.path.join(work, "logs", row.name + ".stdout"))
    try:
        if not httpd.wait_ready():
            row.status = "failed"
            row.note = "httpd did not start"
            log("  %s: httpd did not start\n%s"
                % (row.name, httpd.diagnostics()))
            return
        path = url_path(row)
        body = FORM_BODY if row.workload == "form" else None
        try:
            status, text = request(port, path, body)
        except (OSError, http.client.HTTPException) as e:
            status, text = None, str(e)
        if status != 200 or EXPECT[row.workload] not in text:
            row.status = "failed"
            row.note = "bad answer (status %s)" % status
            log("  %s: expected 200 and %r, got %s:\n%s\n%s"
                % (row.name, EXPECT[row.workload], status, text[:500],
                   httpd.diagnostics()))
            return
        if row.server.startswith("pycgi"):
            check_runner(row, httpd)
        lua = os.path.join(work, "post.lua") if body else None
        # Let every child load what it lazily loads (interpreters, apps)
        # before the clock starts.
        try:
            run_wrk(port, path, warmup, lua)
            rps, non2xx, socket_errors = run_wrk(port, path, seconds, lua)
            row.samples.append(rps)
            row.non2xx += non2xx
            row.socket_errors += socket_errors
        except (RuntimeError, subprocess.TimeoutExpired) as e:
            row.status = "failed"
            row.note = "wrk failed"
            log("  %s: %s\n%s" % (row.name, e, httpd.diagnostics()))
            return
        row.status = "ok"
        if row.non2xx or row.socket_errors:
            row.flag("%d non-2xx, %d socket errors"
                     % (row.non2xx, row.socket_errors))
            log("  %s: %s\n%s" % (row.name, row.note, httpd.diagnostics()))
    finally:
        httpd.stop()


def round_ratios(rows, server, ref_server):
    """{(workload, mpm): [rps(server) / rps(ref_server) of each round]}:
    each ratio compares two measurements made minutes apart at most."""
    out = {}
    refs = {r.workload: r for r in rows
            if r.server == ref_server and r.mpm == "prefork"
            and r.status == "ok"}
    for r in rows:
        ref = refs.get(r.workload)
        if r.server == server and r.status == "ok" and ref:
            n = min(len(r.samples), len(ref.samples))
            out[(r.workload, r.mpm)] = [r.samples[i] / ref.samples[i]
                                        for i in range(n)]
    return out


def compute_ratios(rows):
    """Ratios against the prefork mod_cgi and mod_wsgi rows of the same
    workload measured in this run (medians of the rounds)."""
    for r in rows:
        if r.status == "ok" and r.samples:
            r.rps = statistics.median(r.samples)
    base = {}
    for r in rows:
        if r.status == "ok" and r.mpm == "prefork":
            base[(r.workload, r.server)] = r.rps
    for r in rows:
        if r.status != "ok":
            continue
        cgi = base.get((r.workload, "mod_cgi"))
        wsgi = base.get((r.workload, "mod_wsgi"))
        r.ratio_cgi = r.rps / cgi if cgi else None
        r.ratio_wsgi = r.rps / wsgi if wsgi else None


def fmt_ratio(x):
    # Three significant digits: 272x, 1.07x, 0.00812x.
    return "-" if x is None else "%.3gx" % x


def print_table(rows):
    head = ("scenario", "MPM", "req/s", "spread", "vs mod_cgi",
            "vs mod_wsgi", "non-2xx", "note")
    lines = []
    for r in rows:
        rps = "%.1f" % r.rps if r.rps is not None else r.status
        spread = "-"
        if r.rps and len(r.samples) > 1:
            spread = "%d-%d%%" % (round(100 * min(r.samples) / r.rps),
                                  round(100 * max(r.samples) / r.rps))
        lines.append((r.title, r.mpm, rps, spread, fmt_ratio(r.ratio_cgi),
                      fmt_ratio(r.ratio_wsgi),
                      str(r.non2xx) if r.status == "ok" else "-", r.note))
    widths = [max(len(x[i]) for x in [head] + lines) for i in range(7)]
    align = ["<", "<", ">", ">", ">", ">", ">"]

    def fmt(cells):
        out = "  ".join("%*s" % (-w if a == "<" else w, c)
                        for c, w, a in zip(cells[:7], widths, align))
        return (out + "  " + cells[7]).rstrip()

    log("")
    log(fmt(head))
    log("  ".join("-" * w for w in widths))
    for line in lines:
        log(fmt(line))
    per_round = round_ratios(rows, "pycgi-embedded", "mod_wsgi")
    if per_round and max(len(v) for v in per_round.values()) > 1:
        log("\npycgi embedded / mod_wsgi embedded (prefork), round by round:")
        for (workload, mpm), ratios in sorted(per_round.items()):
            log("  %-6s %-8s %s   (min %.2fx)"
                % (workload, mpm, " ".join("%.2fx" % x for x in ratios),
                   min(ratios)))


def write_tsv(rows, path):
    with open(path, "w") as f:
        f.write("workload\tserver\tmpm\treq_per_s\tratio_mod_cgi\t"
                "ratio_mod_wsgi\tnon_2xx\tsocket_errors\tstatus\tnote\t"
                "round_samples\n")
        for r in rows:
            f.write("\t".join([
                r.workload, r.server, r.mpm,
                "%.2f" % r.rps if r.rps is not None else "",
                "%.3f" % r.ratio_cgi if r.ratio_cgi is not None else "",
                "%.3f" % r.ratio_wsgi if r.ratio_wsgi is not None else "",
                str(r.non2xx), str(r.socket_errors), r.status, r.note,
                ",".join("%.1f" % x for x in r.samples),
            ]) + "\n")


def plot(rows, work, png, subtitle):
    data = os.path.join(work, "plot.dat")
    n = 0
    with open(data, "w") as f:
        for r in rows:
            if r.status != "ok" or not r.rps:
                continue
            label = "%s (%s)%s" % (r.title, r.mpm,
                                   " [FLAG]" if r.flags else "")
            f.write('"%s"\t%.1f\t%d\n' % (label, r.rps,
                                         SERVER_COLOUR[r.server]))
            n += 1
    if not n:
        log("nothing to plot")
        return False
    script = """\
set terminal pngcairo noenhanced size {w},720 font "sans,10"
set output "{png}"
set lmargin 14
set rmargin 4
set xrange [-0.6:{n}-0.4]
set title "mod_pycgi benchmark: requests per second (log scale)\\n{sub}"
set logscale y
set yrange [1:*]
set ylabel "requests/s"
set grid ytics
set style fill solid 0.85 border -1
set boxwidth 0.7
set xtics rotate by 35 right nomirror
set bmargin 12
unset key
plot "{data}" using 0:2:3:xtic(1) with boxes lc rgb variable, \\
     "" using 0:2:(sprintf("%.0f", $2)) with labels offset 0,0.8 font "sans,8"
""".format(w=max(800, 70 * n + 200), n=n, png=png, sub=subtitle,
           data=data)
    res = subprocess.run([GNUPLOT], input=script, universal_newlines=True,
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if res.returncode != 0:
        log("gnuplot failed:\n" + res.stdout)
        return False
    return True


def httpd_version():
    out = subprocess.run([HTTPD, "-v"], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL,
                         universal_newlines=True).stdout
    m = re.search(r"Server version:\s*(\S+)", out)
    return m.group(1) if m else "httpd"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=int, default=10, metavar="SECS",
                    help="seconds of wrk load per row (default 10)")
    ap.add_argument("--quick", action="store_true",
                    help="3 seconds per row, shorter warm-up, one round")
    ap.add_argument("--rounds", type=int, default=3, metavar="N",
                    help="measure every row N times, rows interleaved, and "
                         "report the median (default 3): this machine's "
                         "throughput drifts by 10-20%% over minutes")
    ap.add_argument("--only", metavar="TEXT", action="append",
                    help="run only rows whose name (workload-server-mpm) "
                         "contains TEXT; may be repeated")
    ap.add_argument("--out-dir", default=BENCH_DIR,
                    help="where results.tsv and bench.png go "
                         "(default: next to this script)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory (configs, logs)")
    args = ap.parse_args(argv)

    if args.duration < 1:
        ap.error("--duration must be at least 1")
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")
    rounds = 1 if args.quick else args.rounds
    seconds = 3 if args.quick else args.duration
    warmup = 1 if args.quick else 2
    for tool in (HTTPD, WRK):
        if not shutil.which(tool):
            sys.exit("bench.py: %s not found" % tool)

    rows = [Row(*spec) for spec in ROWS]
    if args.only:
        rows = [r for r in rows if any(t in r.name for t in args.only)]

    work = make_workdir()
    try:
        populate(work)
        log("mod_pycgi benchmark: %s, Python %s, wrk -t%d -c%d -d%ds, "
            "%d round(s), %d CPUs"
            % (httpd_version(), sys.version.split()[0], WRK_THREADS,
               WRK_CONNECTIONS, seconds, rounds, os.cpu_count()))
        log("mod_pycgi module: %s%s" % (
            pycgi_module_path(),
            "" if os.path.exists(pycgi_module_path()) else " (missing)"))
        log("work dir: %s" % work)
        for n in range(rounds):
            if rounds > 1:
                log("-- round %d of %d" % (n + 1, rounds))
            for r in rows:
                if r.status in ("failed", "skipped"):
                    continue
                log("%-32s %-8s ..." % (r.title, r.mpm))
                measure(r, work, seconds, warmup)
                if r.status == "ok":
                    log("  %.1f req/s  %s" % (r.samples[-1], r.note))
                else:
                    log("  %s: %s" % (r.status, r.note))

        compute_ratios(rows)
        print_table(rows)
        os.makedirs(args.out_dir, exist_ok=True)
        tsv = os.path.join(args.out_dir, "results.tsv")
        png = os.path.join(args.out_dir, "bench.png")
        write_tsv(rows, tsv)
        subtitle = "%s, wrk -t%d -c%d -d%ds, median of %d, %s" % (
            httpd_version(), WRK_THREADS, WRK_CONNECTIONS, seconds, rounds,
            time.strftime("%Y-%m-%d"))
        log("\nwrote %s" % tsv)
        if plot(rows, work, png, subtitle):
            log("wrote %s" % png)
    finally:
        if args.keep:
            log("kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)

    bad = [r for r in rows if r.status == "failed" or r.flags]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
