"""Start real Debian apache2 instances and talk HTTP to them over raw sockets.

A Site is a tree of script directories and documents (built from
tests/scripts/); several servers may serve the same Site, so that a stock
mod_cgi server and a mod_pycgi server see byte-identical paths.  A Server
owns its run directory (config, pid file, mutexes, logs) and one apache2
process started with -DFOREGROUND in its own session, so that stop() can
reap the parent, its children and any CGI script left behind.
"""

import atexit
import glob
import hashlib
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
SCRIPTS = os.path.join(HERE, "scripts")
APACHE2 = "/usr/sbin/apache2"
MODDIR = "/usr/lib/apache2/modules"
STOCK_CGI = os.path.join(MODDIR, "mod_cgi.so")

# Modules every server loads besides the MPM and the CGI module under test
# (log_config is built into Debian's apache2).
BASE_MODULES = ("authz_core", "mime", "alias", "dir", "env", "include")

# Script directories of a Site: URL prefix -> (subdirectory, handler,
# extra directives).  "cgi-bin" is the ScriptAlias one; the others live
# under htdocs.  Directories whose handler is pycgi-script are only
# configured when the server loads mod_pycgi.
SCRIPT_DIRS = {
    "/cgi-bin": ("cgi-bin", None, ""),
    "/exec": ("htdocs/exec", "cgi-script", "Options +ExecCGI"),
    "/noexec": ("htdocs/noexec", "cgi-script", "Options -ExecCGI"),
    "/nopi": ("htdocs/nopi", "cgi-script",
              "Options +ExecCGI\n    AcceptPathInfo Off"),
    "/cgidir": ("htdocs/cgidir", "set:cgi-script",
                "Options +ExecCGI\n    DirectoryIndex disabled"),
    "/passauth": ("htdocs/passauth", "cgi-script",
                  "Options +ExecCGI\n    CGIPassAuth On"),
    "/cgivar": ("htdocs/cgivar", "cgi-script",
                "Options +ExecCGI\n    CGIVar REQUEST_URI current-uri"),
    "/pycgi": ("htdocs/pycgi", "pycgi-script", "Options +ExecCGI"),
    "/pycgi-noexec": ("htdocs/pycgi-noexec", "pycgi-script",
                      "Options -ExecCGI"),
    "/pycgi-nopi": ("htdocs/pycgi-nopi", "pycgi-script",
                    "Options +ExecCGI\n    AcceptPathInfo Off"),
    "/pycgi-dir": ("htdocs/pycgi-dir", "set:pycgi-script",
                   "Options +ExecCGI\n    DirectoryIndex disabled"),
}

# Documents for mod_include: name -> text, with {prefix} filled in per
# script directory prefix (see Site._write_ssi).
SSI_PAGES = {
    "exec_cgi": 'before\n<!--#exec cgi="{prefix}/hello.py"-->\nafter\n',
    "exec_cmd": 'before\n<!--#exec cmd="echo hi"-->\nafter\n',
    "include_virtual":
        'before\n<!--#include virtual="{prefix}/hello.py"-->\nafter\n',
    "include_nph":
        'before\n<!--#include virtual="{prefix}/nph-hello.py"-->\nafter\n',
    "include_env":
        'before\n<!--#include virtual="{prefix}/env.py?from=ssi"-->\n'
        'after\n',
}

_live_servers = set()

# With ASAN_OPTIONS (or LSAN_/UBSAN_OPTIONS) set, sanitizer reports go to
# <log dir>/<SANITIZER_LOG>.<pid>; conftest fails the test that made one.
SANITIZER_LOG = "sanitizer"


def pycgi_module_path():
    """Where our module is expected: $PYCGI_MODULE or <repo>/.libs."""
    return os.environ.get("PYCGI_MODULE",
                          os.path.join(REPO, ".libs", "mod_pycgi.so"))


def _mkdtemp(prefix, mode):
    # pytest's tmp_path is 0700 under /tmp/pytest-of-root: www-data could
    # not traverse it, so our trees live directly under /tmp.
    path = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    os.chmod(path, mode)
    return path


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Site:
    """Document root plus script directories, readable by www-data."""

    def __init__(self):
        self.root = _mkdtemp("pycgi-site-", 0o755)
        self.htdocs = os.path.join(self.root, "htdocs")
        os.mkdir(self.htdocs)
        os.chmod(self.htdocs, 0o755)
        with open(os.path.join(self.htdocs, "index.html"), "w") as f:
            f.write("<html><body>static index</body></html>\n")
        for prefix, (sub, _, _) in SCRIPT_DIRS.items():
            self.fill_script_dir(sub, prefix)
        for sub in ("ssi", "ssi-noexec"):
            self._write_ssi(os.path.join(self.htdocs, sub))
        self.make_dir("htdocs/local")
        self.write("htdocs/local/target.txt", "static redirect target\n")
        self.backdate()

    def backdate(self):
        """Give every file an old mtime: httpd makes the ETag of a file
        changed within the last second weak, which would make static
        answers depend on timing."""
        old = 1577836800  # 2020-01-01
        for top, dirs, files in os.walk(self.root):
            for name in files:
                os.utime(os.path.join(top, name), (old, old))

    def path(self, rel):
        return os.path.join(self.root, rel)

    def make_dir(self, rel):
        path = self.path(rel)
        os.makedirs(path, exist_ok=True)
        os.chmod(path, 0o755)
        return path

    def write(self, rel, text, mode=0o644):
        path = self.path(rel)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def fill_script_dir(self, rel, prefix):
        """A directory with every fixture script; data.txt names `prefix`."""
        path = self.path(rel)
        os.makedirs(path)
        os.chmod(path, 0o755)
        for name in sorted(os.listdir(SCRIPTS)):
            src = os.path.join(SCRIPTS, name)
            dst = os.path.join(path, name)
            shutil.copyfile(src, dst)
            os.chmod(dst, 0o644 if name in ("data.txt", "pycgi_helper.py")
                     else 0o755)
        # A script that is not executable, and a data file naming the
        # directory, so cwd.py can tell which directory it ran in.
        shutil.copyfile(os.path.join(SCRIPTS, "hello.py"),
                        os.path.join(path, "noperm.py"))
        os.chmod(os.path.join(path, "noperm.py"), 0o644)
        with open(os.path.join(path, "data.txt"), "w") as f:
            f.write("data in %s\n" % prefix)
        sub = os.path.join(path, "subdir")
        os.mkdir(sub)
        os.chmod(sub, 0o755)

    def _write_ssi(self, path):
        os.makedirs(path)
        os.chmod(path, 0o755)
        for prefix in SCRIPT_DIRS:
            tag = prefix.strip("/").replace("-", "_")
            for name, text in SSI_PAGES.items():
                with open(os.path.join(path, "%s_%s.shtml" % (name, tag)),
                          "w") as f:
                    f.write(text.format(prefix=prefix))

    def remove(self):
        shutil.rmtree(self.root, ignore_errors=True)


class Response:
    """A parsed HTTP response; headers keep order, case and repeats."""

    def __init__(self, raw, t_head=None, t_first_body=None, t_end=None):
        self.raw = raw
        self.t_head = t_head
        self.t_first_body = t_first_body
        self.t_end = t_end
        self.status = None
        self.reason = None
        self.version = None
        self.headers = []
        self.body_raw = b""
        self.body = b""
        self.chunk_error = None
        self._parse()

    def _parse(self):
        if not self.raw:
            raise ValueError("the server closed the connection without "
                             "answering (did the child crash? see the "
                             "error log)")
        head, sep, rest = self.raw.partition(b"\r\n\r\n")
        if not sep:
            raise ValueError("no complete response head in %r"
                             % self.raw[:300])
        lines = head.split(b"\r\n")
        m = re.match(rb"(HTTP/\d\.\d) (\d{3})(?: (.*))?$", lines[0])
        if not m:
            raise ValueError("bad status line %r" % lines[0])
        self.version = m.group(1).decode()
        self.status = int(m.group(2))
        self.reason = (m.group(3) or b"").decode("latin-1")
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            self.headers.append((name.decode("latin-1"),
                                 value.strip().decode("latin-1")))
        self.body_raw = rest
        if "chunked" in (self.header("Transfer-Encoding") or "").lower():
            try:
                self.body = _dechunk(rest)
            except ValueError as e:
                self.chunk_error = str(e)
                self.body = None
        else:
            self.body = rest

    def header(self, name):
        """First value of header `name` (case-insensitive), or None."""
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def header_all(self, name):
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def __repr__(self):
        return "<Response %s %s, %d body bytes>" % (
            self.status, self.reason, len(self.body or b""))


def _dechunk(data):
    body, used = dechunk_prefix(data)
    if used != len(data):
        raise ValueError("%d bytes after the last chunk" % (len(data) - used))
    return body


def dechunk_prefix(data):
    """Decode the chunked body at the start of `data`: (body, bytes used)."""
    out = []
    pos = 0
    while True:
        eol = data.find(b"\r\n", pos)
        if eol < 0:
            raise ValueError("chunk size line missing at %d" % pos)
        size_field = data[pos:eol].split(b";")[0].strip()
        try:
            size = int(size_field, 16)
        except ValueError:
            raise ValueError("bad chunk size %r at %d" % (size_field, pos))
        pos = eol + 2
        if size == 0:
            # No trailers are expected from httpd: just the final CRLF.
            if data[pos:pos + 2] != b"\r\n":
                raise ValueError("no CRLF after the last chunk")
            return b"".join(out), pos + 2
        if len(data) < pos + size + 2 or data[pos + size:pos + size + 2] \
                != b"\r\n":
            raise ValueError("truncated chunk at %d" % pos)
        out.append(data[pos:pos + size])
        pos += size + 2


def encode_chunked(body, size=65536):
    parts = []
    for i in range(0, len(body), size):
        piece = body[i:i + size]
        parts.append(b"%x\r\n" % len(piece) + piece + b"\r\n")
    parts.append(b"0\r\n\r\n")
    return b"".join(parts)


def exchange(port, data, timeout=30.0, read_limit=None):
    """Send `data` while reading the answer until EOF.

    Sending runs in a thread so that a server answering before it has
    consumed the request body cannot deadlock us.  Returns (raw bytes,
    t_head, t_first_body, t_end), times relative to the connect.
    """
    t0 = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    sock.settimeout(timeout)
    send_error = []

    def sender():
        try:
            sock.sendall(data)
        except OSError as e:
            send_error.append(e)

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    chunks = []
    got = 0
    head_end = None
    t_head = t_first_body = None
    deadline = t0 + timeout
    try:
        while True:
            if time.monotonic() > deadline:
                raise TimeoutError("no EOF from server within %.0fs "
                                   "(%d bytes read)" % (timeout, got))
            try:
                buf = sock.recv(1 << 20)
            except ConnectionResetError:
                break
            if not buf:
                break
            chunks.append(buf)
            got += len(buf)
            now = time.monotonic() - t0
            if head_end is None:
                joined = b"".join(chunks)
                idx = joined.find(b"\r\n\r\n")
                if idx >= 0:
                    head_end = idx + 4
                    t_head = now
            if head_end is not None and t_first_body is None \
                    and got > head_end:
                t_first_body = now
            if read_limit is not None and got >= read_limit:
                break
    finally:
        sock.close()
        thread.join(timeout)
    return b"".join(chunks), t_head, t_first_body, time.monotonic() - t0


def mode_directives(mode, sep="\n    "):
    """The directives of a test mode: "PyCGIMode <mode>", except "fork",
    the daemon runner with PyCGIIsolation fork; "" for stock mod_cgi."""
    if not mode:
        return ""
    if mode == "fork":
        return "PyCGIMode daemon%sPyCGIIsolation fork" % sep
    return "PyCGIMode %s" % mode


class Server:
    """One apache2 process tree, configured and started by __init__."""

    def __init__(self, site, mpm="prefork", module="pycgi", mode=None,
                 extra_conf="", loglevel="info", env=None, name=None,
                 start=True):
        if mpm not in ("prefork", "event"):
            raise ValueError("mpm must be prefork or event, not %r" % mpm)
        if module not in ("cgi", "pycgi"):
            raise ValueError("module must be cgi or pycgi, not %r" % module)
        if module == "pycgi" and mode not in ("exec", "embedded", "auto",
                                                "daemon", "fork"):
            raise ValueError("mode must be exec, embedded, daemon, fork or "
                             "auto, not %r" % mode)
        self.site = site
        self.mpm = mpm
        self.module = module
        self.mode = mode if module == "pycgi" else None
        self.extra_conf = extra_conf
        self.loglevel = loglevel
        self.env = dict(env or {})
        self.name = name or "%s-%s-%s" % (module, self.mode or "stock", mpm)
        self.proc = None
        self.port = None
        self.rundir = _mkdtemp("pycgi-run-", 0o755)
        self.logdir = os.path.join(self.rundir, "logs")
        os.mkdir(self.logdir)
        # The script log is written by the children, as www-data.
        os.chmod(self.logdir, 0o777)
        self.conf_path = os.path.join(self.rundir, "httpd.conf")
        self.error_log_path = os.path.join(self.logdir, "error_log")
        self.script_log_path = os.path.join(self.logdir, "script_log")
        self.stderr_path = os.path.join(self.rundir, "apache2.stderr")
        self._sanitizer_seen = {}
        if start:
            self.start()

    # -- configuration -----------------------------------------------------

    def module_line(self):
        if self.module == "cgi":
            return "LoadModule cgi_module %s" % STOCK_CGI
        return "LoadModule pycgi_module %s" % pycgi_module_path()

    def config_text(self):
        site = self.site.root
        mode_line = mode_directives(self.mode)
        lines = [
            "# generated by tests/httpd.py for %s" % self.name,
            'ServerRoot "%s"' % self.rundir,
            "ServerName 127.0.0.1",
            "Listen 127.0.0.1:%d" % self.port,
            "PidFile %s/httpd.pid" % self.rundir,
            "DefaultRuntimeDir %s" % self.rundir,
            "Mutex file:%s default" % self.rundir,
            "ErrorLog %s" % self.error_log_path,
            "LogLevel %s" % self.loglevel,
            "User www-data",
            "Group www-data",
            "LoadModule mpm_%s_module %s/mod_mpm_%s.so"
            % (self.mpm, MODDIR, self.mpm),
        ]
        lines += ["LoadModule %s_module %s/mod_%s.so" % (m, MODDIR, m)
                  for m in BASE_MODULES]
        lines.append(self.module_line())
        lines.append(_MPM_CONF[self.mpm])
        lines.append(_BASE_CONF.format(site=site, logdir=self.logdir))
        for prefix, (sub, handler, extra) in SCRIPT_DIRS.items():
            if handler and "pycgi-script" in handler \
                    and self.module != "pycgi":
                continue
            body = [extra] if extra else []
            if handler and handler.startswith("set:"):
                body.append("SetHandler %s" % handler[4:])
            elif handler:
                body.append("AddHandler %s .py .cgi" % handler)
            if mode_line:
                body.append(mode_line)
            if prefix == "/cgi-bin":
                lines.append("ScriptAlias /cgi-bin/ %s/cgi-bin/" % site)
            lines.append('<Directory "%s/%s">\n    %s\n</Directory>'
                         % (site, sub, "\n    ".join(body)))
        lines.append(self.expand(self.extra_conf))
        return "\n".join(lines) + "\n"

    def expand(self, text):
        """Fill the tokens extra_conf may use: @SITE@, @LOGDIR@, @RUNDIR@,
        @PORT@ (the port this start listens on, for <VirtualHost>),
        @HANDLER@ (our handler name, or cgi-script for stock mod_cgi) and
        @MODE@ (a PyCGIMode line, empty for stock mod_cgi)."""
        return (text.replace("@SITE@", self.site.root)
                .replace("@PORT@", str(self.port))
                .replace("@LOGDIR@", self.logdir)
                .replace("@RUNDIR@", self.rundir)
                .replace("@HANDLER@", "pycgi-script" if self.module == "pycgi"
                         else "cgi-script")
                .replace("@MODE@", mode_directives(self.mode, "\n    ")))

    # -- process control ---------------------------------------------------

    def start(self, timeout=20.0):
        """Start apache2; a running instance is stopped first, so that
        start() doubles as restart and never orphans a process tree."""
        self.stop()
        if self.module == "pycgi" and not os.path.exists(
                pycgi_module_path()):
            raise ServerError(
                "mod_pycgi not built: %s does not exist (build it with "
                "`make` in %s, or point PYCGI_MODULE at the .so)"
                % (pycgi_module_path(), REPO))
        for attempt in range(3):
            self.port = free_port()
            with open(self.conf_path, "w") as f:
                f.write(self.config_text())
            try:
                self._spawn(timeout)
                return self
            except ServerError as e:
                # Another process may have grabbed the port in between.
                if "Address already in use" in str(e) and attempt < 2:
                    continue
                raise

    def configtest(self):
        """`apache2 -t` on this server's configuration: (exit code, output)."""
        if self.port is None:
            self.port = free_port()
        with open(self.conf_path, "w") as f:
            f.write(self.config_text())
        proc = subprocess.run([APACHE2, "-t", "-f", self.conf_path],
                              stdin=subprocess.DEVNULL, capture_output=True,
                              env=self._environ(), timeout=60)
        return proc.returncode, (proc.stdout + proc.stderr).decode(
            "utf-8", "replace")

    def _environ(self):
        env = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:"
                       "/sbin:/bin",
               "LANG": "C",
               "PYCGI_PASSENV": "passed-by-passenv",
               # In apache2's environment but never passed on: a script
               # that sees it got httpd's environ instead of its own.
               "PYCGI_PRIVATE": "not-for-scripts"}
        env.update(self.env)
        if os.environ.get("PYCGI_PRELOAD"):
            env["LD_PRELOAD"] = os.environ["PYCGI_PRELOAD"]
        for var in ("ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS"):
            if var in os.environ:
                env[var] = os.environ[var]
                # Each process's report in our log directory, as
                # <SANITIZER_LOG>.<pid>: see sanitizer_reports().
                if "log_path=" not in env[var]:
                    env[var] += ":log_path=" + os.path.join(
                        self.logdir, SANITIZER_LOG)
        if "PYTHONMALLOC" in os.environ:
            # PYTHONMALLOC=malloc lets ASan see the embedded interpreter's
            # objects (pymalloc's arenas hide them, and look like leaks).
            env["PYTHONMALLOC"] = os.environ["PYTHONMALLOC"]
        return env

    def _spawn(self, timeout):
        env = self._environ()
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                [APACHE2, "-f", self.conf_path, "-DFOREGROUND"],
                stdin=subprocess.DEVNULL, stdout=err, stderr=err, env=env,
                start_new_session=True, close_fds=True)
        _live_servers.add(self)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.proc = None
                _live_servers.discard(self)
                raise ServerError("apache2 exited at start-up",
                                  self.startup_report())
            try:
                socket.create_connection(("127.0.0.1", self.port),
                                         timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise ServerError("apache2 did not answer on port %d within %.0fs"
                          % (self.port, timeout), self.startup_report())

    def startup_report(self):
        return ("--- %s ---\n%s\n--- apache2 stderr ---\n%s\n"
                "--- error log ---\n%s" % (
                    self.name, self.conf_path, _read(self.stderr_path),
                    self.error_log_tail(60)))

    def stop(self, timeout=15.0):
        """SIGTERM the parent, wait for the whole session to disappear."""
        proc, self.proc = self.proc, None
        _live_servers.discard(self)
        if proc is None:
            return
        pgid = proc.pid
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                _killpg(pgid, signal.SIGKILL)
                proc.wait(5)
        # Children and CGI scripts share the session's process group;
        # whatever outlived the parent (a sleeping script) goes now.
        _killpg(pgid, signal.SIGKILL)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and _pg_alive(pgid):
            time.sleep(0.05)

    @property
    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def cleanup(self):
        self.stop()
        if not os.environ.get("PYCGI_KEEP_TMP"):
            shutil.rmtree(self.rundir, ignore_errors=True)

    # -- HTTP --------------------------------------------------------------

    def build_request(self, method, path, headers=None, body=None,
                      chunked=False, version="HTTP/1.1"):
        hdrs = list(headers.items() if isinstance(headers, dict)
                    else (headers or []))
        names = {k.lower() for k, _ in hdrs}
        if "host" not in names:
            hdrs.insert(0, ("Host", "127.0.0.1:%d" % self.port))
        if "connection" not in names:
            hdrs.append(("Connection", "close"))
        if body is not None:
            if chunked:
                if "transfer-encoding" not in names:
                    hdrs.append(("Transfer-Encoding", "chunked"))
                body = encode_chunked(body)
            elif "content-length" not in names:
                hdrs.append(("Content-Length", str(len(body))))
        head = "%s %s %s\r\n" % (method, path, version)
        head += "".join("%s: %s\r\n" % kv for kv in hdrs) + "\r\n"
        return head.encode("latin-1") + (body or b"")

    def request(self, method, path, headers=None, body=None, chunked=False,
                timeout=30.0, version="HTTP/1.1"):
        touch(self)
        data = self.build_request(method, path, headers, body, chunked,
                                  version)
        raw, t_head, t_first, t_end = exchange(self.port, data, timeout)
        return Response(raw, t_head, t_first, t_end)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def raw(self, data, timeout=30.0):
        touch(self)
        return exchange(self.port, data, timeout)[0]

    # -- logs --------------------------------------------------------------

    def error_log(self):
        return _read(self.error_log_path)

    def log_mark(self):
        try:
            return os.path.getsize(self.error_log_path)
        except OSError:
            return 0

    def log_since(self, mark):
        try:
            with open(self.error_log_path, "rb") as f:
                f.seek(mark)
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def wait_log(self, mark, pattern, timeout=5.0):
        """Wait until the log written after `mark` matches `pattern`
        (a regex); return the new text either way."""
        deadline = time.monotonic() + timeout
        while True:
            text = self.log_since(mark)
            if re.search(pattern, text) or time.monotonic() > deadline:
                return text
            time.sleep(0.05)

    def error_log_tail(self, n=40):
        try:
            with open(self.error_log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                f.seek(max(0, f.tell() - 256 * 1024))
                data = f.read().decode("utf-8", "replace")
        except OSError:
            return "(no error log)"
        # Runs of lines that differ only in their timestamp (1 MiB of
        # stderr) are folded, and long lines cut, to keep tails readable.
        out = []
        last_key, repeats = None, 0
        for line in data.splitlines():
            key = re.sub(r"^\[[^]]*\] ", "", line)
            if key == last_key:
                repeats += 1
                continue
            if repeats:
                out.append("    ... %d more like the line above" % repeats)
            last_key, repeats = key, 0
            out.append(line if len(line) < 400 else line[:400] + "...[cut]")
        if repeats:
            out.append("    ... %d more like the line above" % repeats)
        return "\n".join(out[-n:])

    def sanitizer_reports(self):
        """Sanitizer reports written since the last call, [(path, text)]:
        new files, and what was added to a file seen before."""
        found = []
        pattern = os.path.join(self.logdir, SANITIZER_LOG + ".*")
        for path in sorted(glob.glob(pattern)):
            text = _read(path)
            seen = self._sanitizer_seen.get(path, 0)
            if len(text) > seen:
                self._sanitizer_seen[path] = len(text)
                found.append((path, text[seen:]))
        return found

    def script_log(self):
        return _read(self.script_log_path)

    def __repr__(self):
        return "<Server %s port %s>" % (self.name, self.port)


class ServerError(Exception):
    def __init__(self, message, report=""):
        super().__init__(message + ("\n" + report if report else ""))


# Servers used by the test now running; conftest prints their log tails
# when the test fails.
touched = []


def touch(server):
    if server not in touched:
        touched.append(server)


def _read(path):
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _killpg(pgid, sig):
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _pg_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


@atexit.register
def _stop_all():
    for server in list(_live_servers):
        server.stop()


def sha256(data):
    return hashlib.sha256(data).hexdigest()


_MPM_CONF = {
    "prefork": """\
StartServers 2
MinSpareServers 2
MaxSpareServers 6
MaxRequestWorkers 32
MaxConnectionsPerChild 0""",
    "event": """\
StartServers 2
ServerLimit 4
ThreadLimit 16
ThreadsPerChild 16
MinSpareThreads 16
MaxSpareThreads 64
MaxRequestWorkers 64
MaxConnectionsPerChild 0""",
}

_BASE_CONF = """\
TypesConfig /etc/mime.types
LogFormat "%h \\"%r\\" %>s %b %D" short
CustomLog {logdir}/access_log short
Timeout 30
KeepAlive On
ServerSignature Off
# Only silent.py is meant to time out; everything else keeps the default
# (Timeout), so a loaded machine does not turn slow scripts into 504s.
<Files "silent.py">
    CGIScriptTimeout 2
</Files>
SetEnv PYCGI_SETENV set-by-setenv
PassEnv PYCGI_PASSENV
<Directory />
    AllowOverride None
    Require all denied
</Directory>
<Directory "{site}">
    AllowOverride None
    Require all granted
</Directory>
DocumentRoot "{site}/htdocs"
<Directory "{site}/htdocs">
    Options Includes
    DirectoryIndex index.html
    AddType text/html .shtml
    AddOutputFilter INCLUDES .shtml
</Directory>
<Directory "{site}/htdocs/ssi-noexec">
    Options IncludesNOEXEC
</Directory>"""
