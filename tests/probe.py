"""Helpers for test_embedded.py and test_hostile.py: a streaming HTTP
client that never holds a large body in memory and tells a complete
response from one cut short, and views of a server's processes (httpd
children, CGI scripts, zombies, memory) read from /proc.
"""

import hashlib
import os
import re
import socket
import subprocess
import threading
import time

import httpd as httpd_lib

APACHE2 = httpd_lib.APACHE2


class Streamed:
    """What stream_request() saw.  `complete` is True only when the body
    ended the way its framing says (last chunk, Content-Length reached,
    or EOF for a close-delimited body)."""

    def __init__(self):
        self.status = None
        self.headers = []
        self.head_raw = b""
        self.length = 0
        self.sha = hashlib.sha256()
        self.body = bytearray()
        self.keep = 0
        self.complete = False
        self.framing = None
        self.error = None          # why the body is incomplete
        self.t_head = self.t_first_body = self.t_complete = None
        self.t_end = None
        self.received = 0          # raw bytes, head included

    def header(self, name):
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    @property
    def sha256(self):
        return self.sha.hexdigest()

    @property
    def text(self):
        return bytes(self.body).decode("utf-8", "replace")

    def __repr__(self):
        return "<Streamed %s %s, %d body bytes, complete=%s%s>" % (
            self.status, self.framing, self.length, self.complete,
            ", " + self.error if self.error else "")


class _Dechunker:
    """Incremental chunked decoding; feed() returns body bytes."""

    def __init__(self):
        self.buf = b""
        self.left = None           # bytes left in the current chunk
        self.done = False
        self.error = None

    def feed(self, data):
        self.buf += data
        out = []
        while not self.done and not self.error:
            if self.left is None:
                eol = self.buf.find(b"\r\n")
                if eol < 0:
                    if len(self.buf) > 4096:
                        self.error = "chunk size line too long"
                    break
                field = self.buf[:eol].split(b";")[0].strip()
                try:
                    self.left = int(field, 16)
                except ValueError:
                    self.error = "bad chunk size %r" % field[:40]
                    break
                self.buf = self.buf[eol + 2:]
                if self.left == 0:
                    self.left = -1     # expecting the final CRLF
            if self.left == -1:
                if len(self.buf) < 2:
                    break
                if self.buf[:2] != b"\r\n":
                    self.error = "trailers or garbage after the last chunk"
                    break
                self.buf = self.buf[2:]
                self.done = True
                break
            if self.left > 0:
                take = self.buf[:self.left]
                out.append(take)
                self.buf = self.buf[len(take):]
                self.left -= len(take)
                if self.left:
                    break
            if len(self.buf) < 2:
                self.left = 0
                break
            if self.buf[:2] != b"\r\n":
                self.error = "no CRLF after a chunk"
                break
            self.buf = self.buf[2:]
            self.left = None
        return b"".join(out)


def stream_request(server, method, path, headers=None, body=None,
                   chunked=False, timeout=60.0, keep=1 << 20,
                   read_limit=None, body_iter=None, on_head=None):
    """Send one request and read the answer incrementally.

    The first `keep` body bytes are kept in .body; all of them are
    counted and hashed.  `read_limit`: stop (and close) after that many
    body bytes.  `body_iter`: an iterable of byte strings sent one after
    the other after the head (for trickled or abandoned uploads; a None
    item closes the connection at once).  `on_head(res)` is called once
    the response head has been parsed.  Never raises for a cut
    connection: .complete and .error say what happened.
    """
    httpd_lib.touch(server)
    data = server.build_request(method, path, headers, body, chunked)
    res = Streamed()
    res.keep = keep
    t0 = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", server.port),
                                    timeout=timeout)
    sock.settimeout(timeout)
    stop_sending = threading.Event()

    def sender():
        try:
            sock.sendall(data)
            for piece in body_iter or ():
                if stop_sending.is_set():
                    return
                if piece is None:
                    sock.shutdown(socket.SHUT_RDWR)
                    return
                sock.sendall(piece)
        except OSError:
            pass

    thread = threading.Thread(target=sender, daemon=True)
    thread.start()
    deadline = t0 + timeout
    head = b""
    decoder = None
    clen = None
    try:
        while True:
            if time.monotonic() > deadline:
                res.error = "timeout after %.0fs" % timeout
                break
            try:
                buf = sock.recv(1 << 20)
            except socket.timeout:
                res.error = "timeout after %.0fs" % timeout
                break
            except OSError as e:
                res.error = "connection error: %s" % e
                break
            now = time.monotonic() - t0
            if not buf:
                break
            res.received += len(buf)
            if res.status is None:
                head += buf
                idx = head.find(b"\r\n\r\n")
                if idx < 0:
                    if len(head) > 16 << 20:
                        res.error = "response head over 16 MiB"
                        break
                    continue
                res.head_raw, buf = head[:idx + 4], head[idx + 4:]
                parsed = httpd_lib.Response(res.head_raw)
                res.status, res.headers = parsed.status, parsed.headers
                res.t_head = now
                te = (res.header("Transfer-Encoding") or "").lower()
                if "chunked" in te:
                    res.framing, decoder = "chunked", _Dechunker()
                elif res.header("Content-Length") is not None:
                    res.framing = "length"
                    clen = int(res.header("Content-Length"))
                elif method == "HEAD" or res.status in (204, 304):
                    res.framing, clen = "length", 0
                else:
                    res.framing = "close"
                if on_head:
                    on_head(res)
                if clen == 0:
                    res.complete, res.t_complete = True, now
                    break
            if not buf:
                continue
            if decoder:
                piece = decoder.feed(buf)
            else:
                piece = buf[:clen - res.length] if clen is not None else buf
            if piece:
                if res.t_first_body is None:
                    res.t_first_body = now
                res.length += len(piece)
                res.sha.update(piece)
                if len(res.body) < keep:
                    res.body += piece[:keep - len(res.body)]
            if decoder and decoder.error:
                res.error = decoder.error
                break
            if (decoder and decoder.done) or (
                    clen is not None and res.length >= clen):
                res.complete, res.t_complete = True, now
                break
            if read_limit is not None and res.length >= read_limit:
                res.error = "client stopped reading"
                break
    finally:
        stop_sending.set()
        res.t_end = time.monotonic() - t0
        try:
            sock.close()
        except OSError:
            pass
    if res.status is not None and not res.complete and res.error is None:
        if res.framing == "close":
            res.complete, res.t_complete = True, res.t_end
        else:
            res.error = "EOF in the middle of the body"
    if res.status is None and res.error is None:
        res.error = "connection closed before a complete response head " \
                    "(%d bytes)" % len(head)
    return res


def pattern_sha256(mib):
    """sha256 of `mib` MiB of hostile_bigout.py's pattern."""
    chunk = bytes(range(256)) * 256
    h = hashlib.sha256()
    for _ in range(mib * 16):
        h.update(chunk)
    return h.hexdigest()


# -- processes ---------------------------------------------------------------

class Proc:
    __slots__ = ("pid", "ppid", "pgid", "sid", "state", "exe", "cmdline",
                 "comm", "start")

    def __repr__(self):
        return "<pid %d ppid %d %s %s %r>" % (self.pid, self.ppid, self.state,
                                             self.exe, self.cmdline[:80])


def read_proc(pid):
    """Process `pid` as /proc shows it now (`start`: its start time in
    clock ticks since boot, which tells it from a later process given
    the same pid), or None when there is none."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            stat = f.read().decode("latin-1")
    except OSError:
        return None
    p = Proc()
    p.pid = pid
    p.comm = stat[stat.index("(") + 1:stat.rindex(")")]
    rest = stat[stat.rindex(")") + 2:].split()
    p.state, p.ppid, p.pgid, p.sid = rest[0], int(rest[1]), int(rest[2]), \
        int(rest[3])
    p.start = int(rest[19])
    try:
        p.exe = os.readlink("/proc/%d/exe" % pid)
    except OSError:
        p.exe = ""
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            p.cmdline = f.read().replace(b"\0", b" ").decode(
                "utf-8", "replace").strip()
    except OSError:
        p.cmdline = ""
    return p


def all_procs():
    out = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            p = read_proc(int(name))
            if p is not None:
                out.append(p)
    return out


def session_procs(server):
    """Every process of the server's session: the parent, its children,
    CGI scripts and whatever they started (unless they left the
    session)."""
    if server.proc is None:
        return []
    sid = server.proc.pid
    return [p for p in all_procs() if p.sid == sid]


def parent_pid(server):
    return server.proc.pid


def httpd_children(server):
    """pids of the parent's apache2 children (the worker processes), not
    counting mod_pycgi's daemon supervisor (also a child of the parent,
    named pycgi-supervise)."""
    parent = server.proc.pid
    return sorted(p.pid for p in session_procs(server)
                  if p.ppid == parent and p.exe == APACHE2
                  and p.state != "Z" and p.comm != "pycgi-supervise")


def rogue_httpds(server):
    """apache2 processes of the session that are neither the parent nor
    one of its children: a forked copy of an httpd child."""
    parent = server.proc.pid
    return [p for p in session_procs(server)
            if p.exe == APACHE2 and p.pid != parent and p.ppid != parent]


def zombies_of_httpd(server):
    """Zombie processes whose parent is an httpd process of the server."""
    procs = session_procs(server)
    httpds = {p.pid for p in procs if p.exe == APACHE2}
    return [p for p in all_procs() if p.state == "Z" and p.ppid in httpds]


def scripts_running(server, name):
    """Live processes of the session running script `name` (exec)."""
    return [p for p in session_procs(server)
            if p.state != "Z" and name in p.cmdline
            and p.exe != APACHE2]


def wait_for(predicate, timeout, interval=0.1):
    """Poll until predicate() is truthy; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)


def status_field(pid, field):
    """A numeric field of /proc/<pid>/status in kB (VmRSS, VmHWM), or
    None when the process is gone."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


class RssSampler:
    """Samples VmRSS of a process every `interval` seconds in a thread;
    .peak_kb is the largest value seen."""

    def __init__(self, pid, interval=0.02):
        self.pid = pid
        self.interval = interval
        self.first_kb = status_field(pid, "VmRSS")
        self.peak_kb = self.first_kb or 0
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.is_set():
            v = status_field(self.pid, "VmRSS")
            if v is not None:
                self.samples += 1
                self.peak_kb = max(self.peak_kb, v)
            self._stop.wait(self.interval)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def log_lines(text, *needles):
    """Lines of `text` containing every needle (plain substrings)."""
    return [l for l in text.splitlines() if all(n in l for n in needles)]


def crash_lines(text):
    """httpd's reports of children killed by a signal, and other signs
    of a crash."""
    return [l for l in text.splitlines()
            if re.search(r"AH00052|exit signal|Segmentation fault|"
                         r"AH00059|AH00060|seg fault|core dumped", l)]


def core_backtraces(directory):
    """{core file: backtrace of its crashing thread} for the core files
    in `directory` (gdb -batch), "" when gdb cannot say."""
    out = {}
    for name in sorted(os.listdir(directory)):
        if not name.startswith("core"):
            continue
        path = os.path.join(directory, name)
        try:
            proc = subprocess.run(["gdb", "-batch", "-ex", "bt 40", APACHE2,
                                   path], capture_output=True, text=True,
                                  timeout=120)
            out[path] = "\n".join(l for l in proc.stdout.splitlines()
                                  if l.startswith("#"))
        except (OSError, subprocess.SubprocessError):
            out[path] = ""
    return out


def blames_us(backtrace):
    """Does a crash backtrace run through mod_pycgi or Python?"""
    return not backtrace or bool(re.search(
        r"pycgi|mod_pycgi|libpython|\bPy[A-Z_]\w*|\b_Py\w*", backtrace))
