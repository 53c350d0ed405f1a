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
import threading
import time
import traceback

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
    "sleep40": "slept 1 s",
    "hgweb": "a line of the benchmark file",
}

# The hgweb workload: Mercurial's own hgweb.cgi (Debian's mercurial),
# unchanged but for its repository path, showing a file of a small
# repository: a real application, which imports Mercurial (~700
# modules' worth of it) on every request when run as a process.
HGWEB_CGI = "/usr/share/doc/mercurial-common/examples/hgweb.cgi"
HGWEB_TEXT = "a line of the benchmark file\n"

# The daemon runner's pool limits: room for every wrk connection, and for
# every client of the --sleep40 scenario.  Server-wide directives.
DAEMON_CONF = {
    "default": "PyCGIDaemonMaxWorkers 16\n",
    "sleep40": "PyCGIDaemonMaxWorkers 48\nPyCGIDaemonMaxTotal 64\n",
}
# What a daemon worker process calls itself (/proc/PID/comm).
WORKER_COMM = "pycgi-worker"

# The --sleep40 scenario: SLEEP_CLIENTS clients at once, one request each.
SLEEP_CLIENTS = 40

# Goals of the daemon runner, checked in the summary: (hello) req/s
# against mod_wsgi daemon and against our embedded runner, idle worker
# VmRSS, and --sleep40 wall time against mod_cgid.
GOAL_VS_WSGI_DAEMON = 1.5
GOAL_VS_EMBEDDED = 0.75
GOAL_WORKER_RSS_MB = 15
GOAL_SLEEP_VS_CGID = 1.2
# Goals of fork isolation (PyCGIIsolation fork): req/s against stock
# mod_cgi, hello and json+email, and the private memory of one forked
# script process running hello.
GOAL_FORK_HELLO_VS_CGI = 15
GOAL_FORK_JSON_VS_CGI = 30
GOAL_FORK_PRIVATE_MB = 2
# A suexec user pool against a plain daemon pool (hello, same MPM).
GOAL_SUEXEC_VS_DAEMON = 0.9

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

# hello.py's page, then the script process's own private memory
# (/proc/self/smaps_rollup: Private_Clean + Private_Dirty, kB).
FORKMEM_SCRIPT = '''\
#!/usr/bin/python3
print("Content-type:text/html")
print()
print("<html><body><h2>Hello World! This is my first CGI program</h2>")
print("</body></html>")
kb = 0
with open("/proc/self/smaps_rollup") as f:
    for line in f:
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            kb += int(line.split()[1])
print("private_kb=%d" % kb)
'''

# Tells check_runner() which process ran the script.
WHOAMI_SCRIPT = '''\
#!/usr/bin/python3
import os
print("Content-type: text/plain")
print()
print("ppid=%d pid=%d" % (os.getppid(), os.getpid()))
'''

# The --sleep40 scenario's script: a request that waits, not computes.
SLEEP_SCRIPT = '''\
#!/usr/bin/python3
import time
time.sleep(1)
print("Content-type: text/plain")
print()
print("slept 1 s")
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


def whoami(environ, start_response):
    page = ("process_group=%%s\\n"
            %% environ.get("mod_wsgi.process_group", "")).encode("utf-8")
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [page]
'''

WRK_POST_LUA = '''\
wrk.method = "POST"
wrk.body = "%s"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
''' % FORM_BODY

# The rows, in the order they are run and printed: (workload, server, mpm).
# "server" picks the handler configuration in server_snippet().  A row
# and the rows its ratios are taken against stay a few rows apart, so
# that each round's ratio compares measurements made seconds apart.
ROWS = [
    ("hello", "static", "prefork"),
    ("hello", "static", "event"),
    ("hello", "mod_cgi", "prefork"),
    ("hello", "pycgi-exec", "prefork"),
    ("hello", "pycgi-execfork", "prefork"),
    ("hello", "pycgi-embedded", "prefork"),
    ("hello", "pycgi-daemon", "prefork"),
    ("hello", "pycgi-embedded", "event"),
    ("hello", "pycgi-daemon", "event"),
    ("hello", "pycgi-fork", "prefork"),
    ("hello", "pycgi-suexec", "prefork"),
    ("hello", "pycgi-fork", "event"),
    ("hello", "mod_wsgi", "prefork"),
    ("hello", "mod_wsgi-daemon", "prefork"),
    ("hello", "mod_wsgi-daemon", "event"),
    ("hello", "mod_python", "prefork"),
    ("form", "mod_cgi", "prefork"),
    ("form", "pycgi-exec", "prefork"),
    ("form", "pycgi-embedded", "prefork"),
    ("form", "pycgi-daemon", "prefork"),
    ("form", "pycgi-daemon", "event"),
    ("form", "pycgi-fork", "prefork"),
    ("form", "mod_wsgi", "prefork"),
    ("form", "mod_wsgi-daemon", "prefork"),
    ("form", "mod_wsgi-daemon", "event"),
    ("json", "mod_cgi", "prefork"),
    ("json", "pycgi-exec", "prefork"),
    ("json", "pycgi-embedded", "prefork"),
    ("json", "pycgi-daemon", "prefork"),
    ("json", "pycgi-daemon", "event"),
    ("json", "pycgi-fork", "prefork"),
    ("json", "mod_wsgi", "prefork"),
    ("json", "mod_wsgi-daemon", "prefork"),
    ("json", "mod_wsgi-daemon", "event"),
    ("hgweb", "mod_cgi", "prefork"),
    ("hgweb", "pycgi-exec", "prefork"),
    ("hgweb", "pycgi-embedded", "prefork"),
    ("hgweb", "pycgi-daemon", "prefork"),
    ("hgweb", "pycgi-daemon", "event"),
]

# The --sleep40 scenario, run instead of the table above: one burst of
# SLEEP_CLIENTS requests to a script that sleeps 1 s, under event.
SLEEP_ROWS = [
    ("sleep40", "mod_cgid", "event"),
    ("sleep40", "pycgi-daemon", "event"),
    ("sleep40", "pycgi-embedded", "event"),
]

WORKLOAD_TITLE = {
    "hello": "hello",
    "form": "form POST",
    "json": "json+email",
    "hgweb": "hgweb file page",
    "sleep40": "40 x sleep 1 s",
}

SERVER_TITLE = {
    "static": "static file",
    "mod_cgi": "mod_cgi",
    "pycgi-exec": "pycgi exec",
    "pycgi-embedded": "pycgi embedded",
    "pycgi-daemon": "pycgi daemon",
    "pycgi-fork": "pycgi daemon, fork isolation",
    "pycgi-execfork": "pycgi exec, APR fork path",
    "pycgi-suexec": "pycgi daemon, suexec user pool",
    "mod_cgid": "mod_cgid",
    "mod_wsgi": "mod_wsgi embedded",
    "mod_wsgi-daemon": "mod_wsgi daemon 8x1",
    "mod_python": "mod_python cgihandler",
}

# Bar colours in the chart, one per server kind.
SERVER_COLOUR = {
    "static": 0x888888,
    "mod_cgi": 0xcc3333,
    "pycgi-exec": 0xe69f00,
    "pycgi-embedded": 0x009e73,
    "pycgi-daemon": 0xcc79a7,
    "pycgi-fork": 0xd55e00,
    "pycgi-execfork": 0xb07800,
    "pycgi-suexec": 0x9966cc,
    "mod_wsgi": 0x3366cc,
    "mod_wsgi-daemon": 0x88aadd,
    "mod_python": 0x8855aa,
}

# URL path of each workload, per kind of server.
CGI_PATH = {"hello": "/cgi-bin/hello.py",
            "form": "/cgi-bin/hello_get.py",
            "json": "/cgi-bin/hello_json.py",
            "hgweb": "/cgi-bin/hgweb.py/file/tip/f.txt",
            "sleep40": "/cgi-bin/sleep1.py"}
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
# --sleep40: all 64 threads from the start, so that no runner waits for
# the MPM to spawn a child while the 40 clients connect.
SLEEP_MPM_CONF = MPM_CONF["event"].replace("StartServers 2",
                                           "StartServers 4")


class Row:
    """One line of the result table."""

    def __init__(self, workload, server, mpm):
        self.workload = workload
        self.server = server
        self.mpm = mpm
        self.status = "pending"     # ok, failed, skipped
        self.rps = None             # the median of the rounds' samples
        self.samples = []           # req/s of each round (--sleep40: the
                                    # warm burst's wall time, seconds)
        self.cold = []              # --sleep40: the first burst's, seconds
        self.worker_rss = []        # pycgi daemon hello: idle worker VmRSS
                                    # (kB, median over workers) per round
        self.workers = 0            # how many workers the last one saw
        self.private_kb = []        # pycgi fork hello: a forked script's
                                    # private memory (kB), per round
        self.non2xx = 0
        self.socket_errors = 0
        self.reason = ""            # why the row failed or was skipped
        self.flags = []
        self.ratio_cgi = None
        self.ratio_wsgi = None
        self.ratio_wsgi_daemon = None   # pycgi daemon rows only
        self.ratio_embedded = None      # pycgi daemon rows only

    @property
    def note(self):
        return "; ".join([self.reason] * bool(self.reason)
                         + ["FLAG: " + f for f in self.flags])

    def flag(self, what):
        """Something is wrong with a measured row; shown and fails the run."""
        if what not in self.flags:
            self.flags.append(what)

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


def populate_hgweb(work, cgi_bin):
    """A small Mercurial repository (a file, ten commits), owned by the
    servers' user, and Debian's hgweb.cgi serving it as hgweb.py (the
    runners' handler is set for .py)."""
    repo = os.path.join(work, "hgrepo")
    env = dict(HTTPD_ENV, HOME=work, HGPLAIN="1", HGUSER="bench <b@b>")
    subprocess.run(["hg", "init", repo], check=True, env=env)
    for i in range(10):
        with open(os.path.join(repo, "f.txt"), "w") as f:
            f.write(HGWEB_TEXT * (i + 1))
        subprocess.run(["hg", "commit", "-q", "-A", "-m", "commit %d" % i],
                       cwd=repo, check=True, env=env)
    with open(HGWEB_CGI) as f:
        text = f.read().replace('b"/path/to/repo/or/config"',
                                repr(repo.encode()))
    dst = os.path.join(cgi_bin, "hgweb.py")
    with open(dst, "w") as f:
        f.write(text)
    os.chmod(dst, 0o755)
    subprocess.run(["chown", "-R", "www-data:www-data", repo], check=True)


def populate(work, workloads):
    """Lay out the document root: the tutorial scripts, the heavier JSON
    script, the static twin of hello.py, the WSGI twins, the wrk script;
    hgweb and its repository only when a row of `workloads` needs them
    (ten `hg commit`s, and Mercurial must be installed)."""
    cgi_bin = os.path.join(work, "htdocs", "cgi-bin")
    for script in ("hello.py", "hello_get.py"):
        dst = os.path.join(cgi_bin, script)
        shutil.copyfile(os.path.join(EXAMPLES_DIR, script), dst)
        os.chmod(dst, 0o755)
    for name, text in (("hello_json.py", JSON_SCRIPT),
                       ("whoami.py", WHOAMI_SCRIPT),
                       ("forkmem.py", FORKMEM_SCRIPT),
                       ("sleep1.py", SLEEP_SCRIPT)):
        dst = os.path.join(cgi_bin, name)
        with open(dst, "w") as f:
            f.write(text)
        os.chmod(dst, 0o755)

    if "hgweb" in workloads:
        populate_hgweb(work, cgi_bin)

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
        "mod_cgid": os.path.join(MODULES_DIR, "mod_cgid.so"),
        "pycgi-exec": pycgi_module_path(),
        "pycgi-embedded": pycgi_module_path(),
        "pycgi-daemon": pycgi_module_path(),
        "pycgi-fork": pycgi_module_path(),
        "pycgi-execfork": pycgi_module_path(),
        "pycgi-suexec": pycgi_module_path(),
        "mod_wsgi": os.path.join(MODULES_DIR, "mod_wsgi.so"),
        "mod_wsgi-daemon": os.path.join(MODULES_DIR, "mod_wsgi.so"),
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
    if row.server == "mod_cgid":
        return """\
LoadModule cgid_module %s
ScriptSock "%s/run/cgid.sock"
<Directory "%s">
    Options +ExecCGI
    AddHandler cgi-script .py
</Directory>
""" % (mod, work, cgi_bin)
    if row.server == "pycgi-suexec":
        # The scripts again, as suexec wants them: under its document
        # root (/var/www), owned by a user of their own, a user pool's.
        tree = suexec_tree(work)
        return """\
LoadModule pycgi_module %s
LoadModule suexec_module %s/mod_suexec.so
LoadModule alias_module %s/mod_alias.so
%sSuexecUserGroup %s %s
Alias /cgi-bin/ "%s/"
<Directory "%s">
    Options +ExecCGI
    Require all granted
    AddHandler pycgi-script .py
    PyCGIMode daemon
</Directory>
""" % (mod, MODULES_DIR, MODULES_DIR, DAEMON_CONF["default"], SUEXEC_USER,
       SUEXEC_USER, tree, tree)
    if row.server.startswith("pycgi-"):
        mode = row.server.split("-")[1]
        daemon = ""
        if mode == "fork":
            mode = "daemon\n    PyCGIIsolation fork"
        if mode == "execfork":
            # An RLimit* makes the exec runner use APR's fork + exec
            # instead of posix_spawn: the two measured side by side.
            mode = "exec\n    RLimitCPU 3600"
        if mode.startswith("daemon"):
            daemon = DAEMON_CONF.get(row.workload, DAEMON_CONF["default"])
        return """\
LoadModule pycgi_module %s
%s<Directory "%s">
    Options +ExecCGI
    AddHandler pycgi-script .py
    PyCGIMode %s
</Directory>
""" % (mod, daemon, cgi_bin, mode)
    if row.server in ("mod_wsgi", "mod_wsgi-daemon"):
        app = os.path.join(work, "wsgi", "app.wsgi")
        # mod_wsgi: no WSGIDaemonProcess, the application runs embedded
        # in the httpd children, in the main interpreter, as mod_pycgi
        # does.  mod_wsgi-daemon: one single-threaded daemon process per
        # wrk connection, as our daemon runner has one worker per request.
        daemon = ""
        if row.server == "mod_wsgi-daemon":
            daemon = """\
WSGISocketPrefix {work}/run/wsgi
WSGIDaemonProcess bench processes={n} threads=1
WSGIProcessGroup bench
""".format(work=work, n=WRK_CONNECTIONS)
        return """\
LoadModule wsgi_module {mod}
{daemon}WSGIApplicationGroup %{{GLOBAL}}
WSGIScriptAlias /wsgi/hello {app} callable-object=hello
WSGIScriptAlias /wsgi/form {app} callable-object=form
WSGIScriptAlias /wsgi/json {app} callable-object=json_email
WSGIScriptAlias /wsgi/whoami {app} callable-object=whoami
<Directory "{wsgi}">
    Require all granted
</Directory>
""".format(mod=mod, daemon=daemon, app=app, wsgi=os.path.dirname(app))
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


# The suexec user pool row: its user, and its scripts' directory under
# suexec's document root (made once per run, removed at the end).
SUEXEC_USER = "pycgibench"
SUEXEC_ROOT = "/var/www"
_suexec_tree = []


def suexec_tree(work):
    """The cgi-bin of the run, copied under SUEXEC_ROOT for SUEXEC_USER
    (created if missing), as suexec's rules want it."""
    if _suexec_tree:
        return _suexec_tree[0]
    import pwd
    try:
        pw = pwd.getpwnam(SUEXEC_USER)
    except KeyError:
        subprocess.run(["useradd", "--no-create-home", "--user-group",
                        "--shell", "/usr/sbin/nologin", "--comment",
                        "mod_pycgi bench", SUEXEC_USER], check=True,
                       capture_output=True)
        pw = pwd.getpwnam(SUEXEC_USER)
    top = tempfile.mkdtemp(prefix="pycgi-bench-", dir=SUEXEC_ROOT)
    os.chmod(top, 0o755)
    tree = os.path.join(top, "cgi-bin")
    shutil.copytree(os.path.join(work, "htdocs", "cgi-bin"), tree)
    for d, _, files in os.walk(top):
        os.chown(d, pw.pw_uid, pw.pw_gid)
        os.chmod(d, 0o755)
        for f in files:
            os.chown(os.path.join(d, f), pw.pw_uid, pw.pw_gid)
            os.chmod(os.path.join(d, f), 0o755)
    _suexec_tree.append(tree)
    return tree


def write_config(row, work, port):
    mpm = row.mpm
    mpmconf = SLEEP_MPM_CONF if row.workload == "sleep40" else MPM_CONF[mpm]
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
                    mods=MODULES_DIR, mpmconf=mpmconf,
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


def last_line(path):
    """The last non-empty line of a log without its [time] [module:level]
    [pid] [client] prefixes, short enough for a table's note."""
    lines = [x.strip() for x in tail(path, 50).splitlines() if x.strip()]
    if not lines:
        return ""
    return re.sub(r"^(\[[^\]]*\]\s*)+", "", lines[-1])[:160]


def proc_stat(pid):
    """(comm, ppid, session id) of a live process, or None (also for a
    zombie: it holds no memory and its parent or init will reap it)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            text = f.read()
    except OSError:
        return None
    # comm may hold spaces and parentheses: it ends at the last ')'.
    fields = text[text.rindex(")") + 2:].split()
    if fields[0] == "Z":
        return None
    return text[text.index("(") + 1:text.rindex(")")], int(fields[1]), \
        int(fields[3])


def all_procs():
    """{pid: (comm, ppid, session id)} of every live process."""
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = proc_stat(int(name))
            if st:
                out[int(name)] = st
    return out


def is_worker(pid, comm):
    """A pycgi daemon worker: by its comm, or by argv[0] for a worker that
    renamed only that."""
    if comm == WORKER_COMM:
        return True
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv0 = f.read().split(b"\0")[0].decode("latin-1").split()
    except OSError:
        return False
    return bool(argv0) and os.path.basename(argv0[0]).startswith(WORKER_COMM)


def daemon_workers(httpd):
    """pids of the daemon workers of a running httpd: descendants of its
    parent process or, should they have left the process tree, members
    of the session we started httpd in."""
    procs = all_procs()
    children = {}
    for pid, (comm, ppid, sid) in procs.items():
        children.setdefault(ppid, []).append(pid)
    found, todo = [], [httpd.proc.pid]
    while todo:
        for pid in children.get(todo.pop(), []):
            todo.append(pid)
            if is_worker(pid, procs[pid][0]):
                found.append(pid)
    if not found:
        found = [pid for pid, (comm, ppid, sid) in procs.items()
                 if sid == httpd.proc.pid and is_worker(pid, comm)]
    return sorted(found)


def vmrss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


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
        """Stop httpd; return the pids it left behind in its session
        (killed by now)."""
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
        # A helper that outlives the parent (a worker pool that left the
        # process group, say) would load the CPUs under the next row.
        deadline = time.monotonic() + 5
        while True:
            left = [pid for pid, (comm, ppid, sid) in all_procs().items()
                    if sid == self.proc.pid]
            if not left or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        return left


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
    if row.server.startswith("mod_wsgi"):
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


def ran_in_worker(pid, ppid, top):
    """True if the script process pid, or failing that (it has ended) its
    parent ppid, is a daemon worker or runs below one."""
    for p in (pid, ppid):
        while p > 1 and p != top:
            st = proc_stat(p)
            if st is None:
                break
            if is_worker(p, st[0]):
                return True
            p = st[1]
    return False


def check_runner(row, httpd):
    """Flag a pycgi row whose scripts do not run where the mode says.

    An embedded script runs inside an httpd child, so its parent is the
    httpd parent process; an exec'd script's parent is the httpd child; a
    daemon's script runs in (or below) a pycgi-worker process.  Without
    this a silent fallback to another runner would be measured under the
    wrong name.
    """
    try:
        status, text = request(httpd.port, "/cgi-bin/whoami.py")
        m = re.search(r"ppid=(\d+) pid=(\d+)", text)
    except (OSError, http.client.HTTPException) as e:
        status, m = str(e), None
    if status != 200 or not m:
        row.flag("runner probe failed (%s)" % status)
        return
    ppid, pid = int(m.group(1)), int(m.group(2))
    embedded = ppid == httpd.proc.pid
    if row.server in ("pycgi-daemon", "pycgi-fork", "pycgi-suexec"):
        # Checked first: a worker forked by the httpd parent has the
        # embedded runner's parent.
        if not ran_in_worker(pid, ppid, httpd.proc.pid):
            row.flag("script ran %s, not in a %s process"
                     % ("embedded" if embedded else "in an httpd child",
                        WORKER_COMM))
    elif row.server == "pycgi-embedded" and not embedded:
        row.flag("script ran in a child process, not embedded")
    elif row.server in ("pycgi-exec", "pycgi-execfork") and embedded:
        row.flag("script ran embedded, not exec")


def check_wsgi_group(row, httpd):
    """Flag a mod_wsgi row whose application does not run in the process
    group (embedded: none) its name says."""
    want = "bench" if row.server == "mod_wsgi-daemon" else ""
    try:
        status, text = request(httpd.port, "/wsgi/whoami")
        m = re.search(r"process_group=(\S*)", text)
    except (OSError, http.client.HTTPException) as e:
        status, m = str(e), None
    if status != 200 or not m:
        row.flag("process group probe failed (%s)" % status)
    elif m.group(1) != want:
        row.flag("application ran in process group %r, not %r"
                 % (m.group(1), want))


def measure(row, work, seconds, warmup):
    """Start a server for row, check its answer and its runner, measure
    one round (wrk, or --sleep40's bursts), stop it."""
    mod = module_for(row.server)
    if mod and not os.path.exists(mod):
        row.status = "skipped"
        if row.server.startswith("pycgi"):
            row.reason = ("%s not found (run make, or set PYCGI_MODULE)"
                          % mod)
        else:
            row.reason = "%s not installed" % mod
        return

    port = free_port()
    conf = write_config(row, work, port)
    errlog = os.path.join(work, "logs", row.name + ".error.log")
    httpd = Httpd(conf, port, errlog,
                  os.path.join(work, "logs", row.name + ".stdout"))
    try:
        if not httpd.wait_ready():
            # A directive the module does not know yet (a runner still
            # being built) ends here: the row fails, the run goes on.
            row.status = "failed"
            row.reason = "httpd did not start: %s" % (
                last_line(httpd.stdout_path) or last_line(errlog))
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
            row.reason = "bad answer (status %s): %s" % (status,
                                                         last_line(errlog))
            log("  %s: expected 200 and %r, got %s:\n%s\n%s"
                % (row.name, EXPECT[row.workload], status, text[:500],
                   httpd.diagnostics()))
            return
        if row.server.startswith("pycgi"):
            check_runner(row, httpd)
        elif row.server.startswith("mod_wsgi"):
            check_wsgi_group(row, httpd)
        if row.workload == "sleep40":
            measure_sleep(row, httpd, path)
        else:
            measure_wrk(row, httpd, work, path, body, seconds, warmup)
    finally:
        left = httpd.stop()
        if left:
            row.flag("%d process(es) outlived httpd (killed)" % len(left))


def measure_wrk(row, httpd, work, path, body, seconds, warmup):
    lua = os.path.join(work, "post.lua") if body else None
    # Let every child load what it lazily loads (interpreters, apps)
    # before the clock starts.
    try:
        run_wrk(httpd.port, path, warmup, lua)
        rps, non2xx, socket_errors = run_wrk(httpd.port, path, seconds, lua)
        row.samples.append(rps)
        row.non2xx += non2xx
        row.socket_errors += socket_errors
    except (RuntimeError, subprocess.TimeoutExpired) as e:
        row.status = "failed"
        row.reason = "wrk failed"
        log("  %s: %s\n%s" % (row.name, e, httpd.diagnostics()))
        return
    row.status = "ok"
    if row.server == "pycgi-daemon" and row.workload == "hello":
        # What one warm worker costs, once the last request has ended.
        time.sleep(0.5)
        rss = [kb for kb in map(vmrss_kb, daemon_workers(httpd)) if kb]
        row.workers = len(rss)
        if rss:
            row.worker_rss.append(statistics.median(rss))
    if row.server == "pycgi-fork" and row.workload == "hello":
        kb = []
        for _ in range(5):
            try:
                status, text = request(httpd.port, "/cgi-bin/forkmem.py")
            except (OSError, http.client.HTTPException):
                continue
            m = re.search(r"private_kb=(\d+)", text)
            if status == 200 and m:
                kb.append(int(m.group(1)))
        if kb:
            row.private_kb.append(statistics.median(kb))
    if row.non2xx or row.socket_errors:
        row.flag("%d non-2xx, %d socket errors"
                 % (row.non2xx, row.socket_errors))
        log("  %s: %s\n%s" % (row.name, row.note, httpd.diagnostics()))


def burst(port, path, n):
    """n clients, one GET each, all let go at once; returns (seconds
    until the last one has its answer, the failed answers)."""
    go = threading.Barrier(n + 1, timeout=30)
    done = [0.0] * n
    bad = []

    def client(i):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        try:
            go.wait()
            conn.request("GET", path)
            resp = conn.getresponse()
            text = resp.read().decode("utf-8", "replace")
            if resp.status != 200 or EXPECT["sleep40"] not in text:
                bad.append(resp.status)
        except (OSError, http.client.HTTPException,
                threading.BrokenBarrierError) as e:
            bad.append(str(e))
        finally:
            done[i] = time.monotonic()
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    go.wait()
    t0 = time.monotonic()
    for t in threads:
        t.join()
    return max(done) - t0, bad


def measure_sleep(row, httpd, path):
    """Two bursts: the first finds the runner as the check requests left
    it (a daemon may start its workers on demand), the second warm."""
    for samples in (row.cold, row.samples):
        wall, bad = burst(httpd.port, path, SLEEP_CLIENTS)
        samples.append(wall)
        row.non2xx += len(bad)
        if bad:
            log("  %s: %d failed: %s\n%s" % (row.name, len(bad), bad[:5],
                                             httpd.diagnostics()))
    row.status = "ok"
    if row.non2xx:
        row.flag("%d failed requests" % row.non2xx)


def round_ratios(rows, server, ref_server, same_mpm=False, attr="samples"):
    """{(workload, mpm): [figure(server) / figure(ref_server) of each
    round]}: each ratio compares two measurements made minutes apart at
    most.  The reference is the prefork row of the workload, or with
    same_mpm the row of the same MPM (the prefork one if that MPM has
    none); attr names the figures."""
    out = {}
    refs = {(r.workload, r.mpm): r for r in rows
            if r.server == ref_server and r.status == "ok"}
    for r in rows:
        ref = refs.get((r.workload, r.mpm)) if same_mpm else None
        ref = ref or refs.get((r.workload, "prefork"))
        if r.server == server and r.status == "ok" and ref:
            mine, theirs = getattr(r, attr), getattr(ref, attr)
            n = min(len(mine), len(theirs))
            out[(r.workload, r.mpm)] = [mine[i] / theirs[i]
                                        for i in range(n)]
    return out


def compute_ratios(rows):
    """Ratios against the prefork mod_cgi and mod_wsgi rows of the same
    workload measured in this run (medians of the rounds); for the pycgi
    daemon rows also against the mod_wsgi daemon row and the pycgi
    embedded row of the same MPM (mod_wsgi daemon's prefork row when
    that MPM has none)."""
    for r in rows:
        if r.status == "ok" and r.samples:
            r.rps = statistics.median(r.samples)
    med = {(r.workload, r.server, r.mpm): r.rps
           for r in rows if r.status == "ok"}

    def ratio(r, server, mpm="prefork"):
        ref = med.get((r.workload, server, mpm))
        return r.rps / ref if ref else None

    for r in rows:
        if r.status != "ok":
            continue
        r.ratio_cgi = ratio(r, "mod_cgi")
        r.ratio_wsgi = ratio(r, "mod_wsgi")
        if r.server == "pycgi-daemon":
            r.ratio_wsgi_daemon = (ratio(r, "mod_wsgi-daemon", r.mpm)
                                   or ratio(r, "mod_wsgi-daemon"))
            r.ratio_embedded = ratio(r, "pycgi-embedded", r.mpm)


def fmt_ratio(x):
    # Three significant digits: 272x, 1.07x, 0.00812x.
    return "-" if x is None else "%.3gx" % x


def fmt_range(ratios):
    """Lowest and highest round of a list of per-round ratios."""
    if not ratios or len(ratios) < 2:
        return "-"
    return "%.2f-%.2fx" % (min(ratios), max(ratios))


def print_cells(head, lines, align):
    """A table: every column padded to its widest cell, but the last (a
    free-form note)."""
    k = len(align)
    widths = [max(len(x[i]) for x in [head] + lines) for i in range(k)]

    def fmt(cells):
        out = "  ".join("%*s" % (-w if a == "<" else w, c)
                        for c, w, a in zip(cells[:k], widths, align))
        return (out + "  " + cells[k]).rstrip()

    log(fmt(head))
    log("  ".join("-" * w for w in widths))
    for line in lines:
        log(fmt(line))


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
    log("")
    print_cells(head, lines, "<<>>>>>")
    per_round = round_ratios(rows, "pycgi-embedded", "mod_wsgi")
    if per_round and max(len(v) for v in per_round.values()) > 1:
        log("\npycgi embedded / mod_wsgi embedded (prefork), round by round:")
        for (workload, mpm), ratios in sorted(per_round.items()):
            log("  %-6s %-8s %s   (min %.2fx)"
                % (workload, mpm, " ".join("%.2fx" % x for x in ratios),
                   min(ratios)))
    print_daemon_table(rows)
    print_fork_table(rows)
    print_suexec_line(rows)


def print_suexec_line(rows):
    """The suexec user pool against the plain daemon pool (same run)."""
    per_round = round_ratios(rows, "pycgi-suexec", "pycgi-daemon",
                             same_mpm=True)
    for (workload, mpm), ratios in sorted(per_round.items()):
        med = statistics.median(ratios) if ratios else None
        log("\npycgi daemon, suexec user pool / plain daemon pool (%s, %s): "
            "%s (rounds %s); goal >= %.2g: %s"
            % (workload, mpm, fmt_ratio(med),
               " ".join("%.2fx" % x for x in ratios), GOAL_SUEXEC_VS_DAEMON,
               "met" if med and med >= GOAL_SUEXEC_VS_DAEMON else "MISSED"))


def print_fork_table(rows):
    """Fork isolation against stock mod_cgi, with its goals."""
    fork = [r for r in rows if r.server == "pycgi-fork"]
    if not fork:
        return
    vs_cgi = round_ratios(rows, "pycgi-fork", "mod_cgi")
    vs_daemon = round_ratios(rows, "pycgi-fork", "pycgi-daemon",
                             same_mpm=True)
    goal = {"hello": GOAL_FORK_HELLO_VS_CGI, "json": GOAL_FORK_JSON_VS_CGI}
    head = ("scenario", "MPM", "req/s", "x mod_cgi", "rounds",
            "x daemon (reuse)", "rounds", "child private", "goal")
    lines = []
    for r in fork:
        key = (r.workload, r.mpm)
        mem, verdict = "-", "-"
        missed, met = [], []
        if r.workload in goal and r.mpm == "prefork" and r.ratio_cgi:
            what = "x mod_cgi >= %g" % goal[r.workload]
            (missed if r.ratio_cgi < goal[r.workload] else met).append(what)
        if r.private_kb:
            mb = statistics.median(r.private_kb) / 1024
            mem = "%.2f MB" % mb
            what = "private <= %g MB" % GOAL_FORK_PRIVATE_MB
            (missed if mb > GOAL_FORK_PRIVATE_MB else met).append(what)
        # Each verdict names the goals it judged: the mod_cgi goals are
        # prefork's only (stock mod_cgi runs under prefork).
        if missed or met:
            verdict = "; ".join(
                (["MISSED: " + ", ".join(missed)] if missed else [])
                + (["met: " + ", ".join(met)] if met else []))
        ratio_daemon = None
        for d in rows:
            if (d.server, d.workload, d.mpm) == ("pycgi-daemon", r.workload,
                                                 r.mpm) and d.rps and r.rps:
                ratio_daemon = r.rps / d.rps
        lines.append((r.title, r.mpm,
                      "%.1f" % r.rps if r.rps is not None else r.status,
                      fmt_ratio(r.ratio_cgi), fmt_range(vs_cgi.get(key)),
                      fmt_ratio(ratio_daemon),
                      fmt_range(vs_daemon.get(key)), mem, verdict))
    log("\npycgi fork isolation against stock mod_cgi (prefork) and the "
        "daemon runner's reuse (same MPM).\nchild private: a forked "
        "hello script's Private_Clean + Private_Dirty.  Goals: hello x "
        "mod_cgi >= %g,\njson+email x mod_cgi >= %g, child private <= %g MB."
        % (GOAL_FORK_HELLO_VS_CGI, GOAL_FORK_JSON_VS_CGI,
           GOAL_FORK_PRIVATE_MB))
    print_cells(head, lines, "<<>>>>>>")


def print_daemon_table(rows):
    """The daemon runner against its two references, with its goals."""
    daemon = [r for r in rows if r.server == "pycgi-daemon"]
    if not daemon:
        return
    vs_wd = round_ratios(rows, "pycgi-daemon", "mod_wsgi-daemon",
                         same_mpm=True)
    vs_emb = round_ratios(rows, "pycgi-daemon", "pycgi-embedded",
                          same_mpm=True)
    head = ("scenario", "MPM", "req/s", "x mod_wsgi daemon", "rounds",
            "x embedded", "rounds", "idle worker", "goals (hello)")
    lines = []
    for r in daemon:
        key = (r.workload, r.mpm)
        rss = goals = "-"
        if r.workload == "hello" and r.status == "ok":
            mb = (statistics.median(r.worker_rss) / 1024
                  if r.worker_rss else None)
            rss = "%.1f MB (%d)" % (mb, r.workers) if mb else "n/a"
            checks = (("x mod_wsgi daemon", r.ratio_wsgi_daemon,
                       lambda x: x >= GOAL_VS_WSGI_DAEMON),
                      ("x embedded", r.ratio_embedded,
                       lambda x: x >= GOAL_VS_EMBEDDED),
                      ("VmRSS", mb, lambda x: x <= GOAL_WORKER_RSS_MB))
            missed = [what for what, x, ok in checks
                      if x is not None and not ok(x)]
            unknown = [what for what, x, ok in checks if x is None]
            goals = ("MISSED: " + ", ".join(missed) if missed
                     else "met" if not unknown
                     else "met, unknown: " + ", ".join(unknown))
        lines.append((r.title, r.mpm,
                      "%.1f" % r.rps if r.rps is not None else r.status,
                      fmt_ratio(r.ratio_wsgi_daemon),
                      fmt_range(vs_wd.get(key)),
                      fmt_ratio(r.ratio_embedded),
                      fmt_range(vs_emb.get(key)), rss, goals))
    log("\npycgi daemon against mod_wsgi daemon (%d processes x 1 "
        "thread) and pycgi embedded,\nboth of the same MPM: medians, "
        "lowest-highest round.  idle worker: median VmRSS of the\n"
        "pycgi-worker processes after the load (how many).  Goals for "
        "hello: x mod_wsgi\ndaemon >= %.2g, x embedded >= %.2g, idle "
        "worker <= %d MB."
        % (WRK_CONNECTIONS, GOAL_VS_WSGI_DAEMON, GOAL_VS_EMBEDDED,
           GOAL_WORKER_RSS_MB))
    print_cells(head, lines, "<<>>>>>>")


def print_sleep_table(rows):
    """--sleep40: seconds until the last of the clients had its answer."""
    def secs(xs):
        return "%.2f s" % statistics.median(xs) if xs else "-"

    cold = round_ratios(rows, "pycgi-daemon", "mod_cgid", same_mpm=True,
                        attr="cold")
    warm = round_ratios(rows, "pycgi-daemon", "mod_cgid", same_mpm=True)
    ref = {r.mpm: r for r in rows
           if r.server == "mod_cgid" and r.status == "ok"}
    head = ("scenario", "MPM", "cold burst", "warm burst", "warm rounds",
            "x mod_cgid cold", "x mod_cgid warm", "failed", "note")
    lines = []
    for r in rows:
        c = ref.get(r.mpm)
        rc = rw = None
        if r.status == "ok" and c:
            rc = statistics.median(r.cold) / statistics.median(c.cold)
            rw = statistics.median(r.samples) / statistics.median(c.samples)
        lines.append((r.title, r.mpm,
                      secs(r.cold) if r.status == "ok" else r.status,
                      secs(r.samples) if r.status == "ok" else "-",
                      " ".join("%.2f" % x for x in r.samples) or "-",
                      fmt_ratio(rc), fmt_ratio(rw),
                      str(r.non2xx) if r.status == "ok" else "-", r.note))
    log("\n%d clients at once, one GET each of a script that sleeps 1 s: "
        "seconds until the last answer\n(median of the rounds).  cold: the "
        "first burst after start, warm: the second." % SLEEP_CLIENTS)
    print_cells(head, lines, "<<>>>>>>")
    for mpm in sorted(set(k[1] for k in warm)):
        c, w = cold[("sleep40", mpm)], warm[("sleep40", mpm)]
        verdict = ("met" if max(statistics.median(c), statistics.median(w))
                   <= GOAL_SLEEP_VS_CGID else "MISSED")
        log("pycgi daemon / mod_cgid (%s), round by round: cold %s, warm %s;"
            " goal <= %.2gx: %s"
            % (mpm, " ".join("%.2fx" % x for x in c),
               " ".join("%.2fx" % x for x in w), GOAL_SLEEP_VS_CGID, verdict))


def write_tsv(rows, path):
    def num(x, fmt="%.3f"):
        return fmt % x if x is not None else ""

    with open(path, "w") as f:
        f.write("workload\tserver\tmpm\treq_per_s\tratio_mod_cgi\t"
                "ratio_mod_wsgi\tnon_2xx\tsocket_errors\tstatus\tnote\t"
                "round_samples\tratio_mod_wsgi_daemon\tratio_embedded\t"
                "worker_rss_kb\tchild_private_kb\n")
        for r in rows:
            f.write("\t".join([
                r.workload, r.server, r.mpm, num(r.rps, "%.2f"),
                num(r.ratio_cgi), num(r.ratio_wsgi),
                str(r.non2xx), str(r.socket_errors), r.status, r.note,
                ",".join("%.1f" % x for x in r.samples),
                num(r.ratio_wsgi_daemon), num(r.ratio_embedded),
                num(statistics.median(r.worker_rss) if r.worker_rss
                    else None, "%d"),
                num(statistics.median(r.private_kb) if r.private_kb
                    else None, "%d"),
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
    ap.add_argument("--sleep40", action="store_true",
                    help="instead of the table: %d clients at once, each "
                         "requesting a script that sleeps 1 s, under event "
                         "(mod_cgid, pycgi daemon, pycgi embedded); reports "
                         "the wall time until all are answered and writes "
                         "no files" % SLEEP_CLIENTS)
    args = ap.parse_args(argv)

    if args.duration < 1:
        ap.error("--duration must be at least 1")
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")
    rounds = 1 if args.quick else args.rounds
    seconds = 3 if args.quick else args.duration
    warmup = 1 if args.quick else 2
    for tool in (HTTPD,) if args.sleep40 else (HTTPD, WRK):
        if not shutil.which(tool):
            sys.exit("bench.py: %s not found" % tool)

    rows = [Row(*spec) for spec in (SLEEP_ROWS if args.sleep40 else ROWS)]
    if args.only:
        rows = [r for r in rows if any(t in r.name for t in args.only)]

    work = make_workdir()
    try:
        populate(work, {r.workload for r in rows})
        load = ("%d clients x sleep 1 s" % SLEEP_CLIENTS if args.sleep40
                else "wrk -t%d -c%d -d%ds" % (WRK_THREADS, WRK_CONNECTIONS,
                                               seconds))
        log("mod_pycgi benchmark: %s, Python %s, %s, %d round(s), %d CPUs"
            % (httpd_version(), sys.version.split()[0], load, rounds,
               os.cpu_count()))
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
                try:
                    measure(r, work, seconds, warmup)
                except Exception as e:
                    # A bug here, or a server we cannot talk to, costs
                    # this row, not the run.
                    r.status = "failed"
                    r.reason = "bench error: %s: %s" % (type(e).__name__, e)
                    log(traceback.format_exc())
                if r.status != "ok":
                    log("  %s: %s" % (r.status, r.note))
                elif r.workload == "sleep40":
                    log("  %.2f s cold, %.2f s warm  %s"
                        % (r.cold[-1], r.samples[-1], r.note))
                else:
                    log("  %.1f req/s  %s" % (r.samples[-1], r.note))

        compute_ratios(rows)
        if args.sleep40:
            print_sleep_table(rows)
            return 1 if any(r.status == "failed" or r.flags
                            for r in rows) else 0
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
        for tree in _suexec_tree:
            shutil.rmtree(os.path.dirname(tree), ignore_errors=True)

    bad = [r for r in rows if r.status == "failed" or r.flags]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
