"""User pools (PyCGIDaemonUserPools): where suexec applies, the daemon
runner hands a script to a pool whose workers run as the script's user,
after suexec's own rules.  Through real apache2 under prefork and event;
each test states one boundary:

  identity      a SuexecUserGroup vhost's script and a ~user script run
                in a pycgi-worker as their user and group (never
                www-data, never root), warm: the next request reaches the
                same worker; under PyCGIIsolation fork, a process forked
                from that worker, as the user
  separation    two users never share a worker; a user's script cannot
                connect to any pool's socket, nor read another worker's
                memory (/proc/PID/mem, process_vm_readv)
  suexec rules  each rule suexec enforces (group-writable script or
                directory, wrong owner, symlink, outside the docroot)
                gets 500 in daemon mode too, with PYCGI0608 naming it;
                the worker applies them again itself: a request forged
                with the pool's secret (a script not the user's, an
                environment suexec would not pass) is refused, PYCGI0840
  environment   a user-pool script sees what the same script sees under
                exec + suexec (suexec's safe list, PATH=AP_SAFE_PATH)
  off           PyCGIDaemonUserPools 0 runs such scripts exec (today's
                behaviour); with every user pool taken, PYCGI0973 once
                and the other users' scripts run exec

The first request of an identity runs exec while the supervisor assigns
it a pool (PYCGI0972); `warm()` waits for the daemon runner.

Needs root and Debian's apache2-suexec-pristine, as test_security's
suexec tests, whose helpers this module uses: the users `pycgitest` and
`pycgitest2` are created once and left; the trees under /var/www, /srv
and ~pycgitest/public_html are removed afterwards.
"""

import array
import json
import os
import re
import shutil
import socket
import struct
import tempfile
import time
import uuid

import pytest

import probe
import test_security as sec
from conftest import TEST_MODULE

pytestmark = pytest.mark.skipif(
    TEST_MODULE != "pycgi", reason="mod_pycgi's user pools")

USER2 = "pycgitest2"

WHO = """\
#!/usr/bin/python3
import os
print("Content-Type: text/plain")
print()
print("exe=%s" % os.readlink("/proc/self/exe"))
print("pid=%d" % os.getpid())
print("ppid=%d" % os.getppid())
print("uid=%d" % os.getuid())
print("euid=%d" % os.geteuid())
print("gid=%d" % os.getgid())
print("egid=%d" % os.getegid())
print("groups=%s" % ",".join(str(g) for g in sorted(os.getgroups())))
"""

ENV = """\
#!/usr/bin/python3
import json, os
print("Content-Type: application/json")
print()
print(json.dumps(dict(os.environ), sort_keys=True))
"""

# Connects to each socket path in QUERY_STRING (comma separated) and
# lists their directories: {path: "ok" or the error}.
SOCKETS = """\
#!/usr/bin/python3
import json, os, socket
out = {}
for path in filter(None, os.environ.get("QUERY_STRING", "").split(",")):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.connect(path)
        out[path] = "ok"
    except OSError as e:
        out[path] = e.strerror
    finally:
        s.close()
    try:
        os.listdir(os.path.dirname(path))
        out["dir:" + os.path.dirname(path)] = "ok"
    except OSError as e:
        out["dir:" + os.path.dirname(path)] = e.strerror
print("Content-Type: application/json")
print()
print(json.dumps(out, sort_keys=True))
"""

# Reads the memory of the process QUERY_STRING names, two ways:
# {"mem": ..., "vm_readv": ...}, each "ok" or the error.
MEMORY = """\
#!/usr/bin/python3
import ctypes, json, os
pid = int(os.environ["QUERY_STRING"])
out = {}
addr = None
try:
    with open("/proc/%d/maps" % pid) as f:
        addr = int(f.readline().split("-")[0], 16)
except OSError as e:
    out["maps"] = e.strerror
try:
    fd = os.open("/proc/%d/mem" % pid, os.O_RDONLY)
    try:
        os.pread(fd, 16, addr or 0x400000)
        out["mem"] = "ok"
    finally:
        os.close(fd)
except OSError as e:
    out["mem"] = e.strerror

class iovec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]

libc = ctypes.CDLL(None, use_errno=True)
buf = ctypes.create_string_buffer(16)
local = iovec(ctypes.cast(buf, ctypes.c_void_p), 16)
remote = iovec(addr or 0x400000, 16)
n = libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote),
                          1, 0)
out["vm_readv"] = "ok" if n >= 0 else os.strerror(ctypes.get_errno())
print("Content-Type: application/json")
print()
print(json.dumps(out, sort_keys=True))
"""

# Rule-breaking copies of who.py: (directory, how to break it); each
# directory's who.py is otherwise as suexec wants it.
RULES = {
    "grpw_file": "file is writable by others",
    "grpw_dir": "directory is writable by others",
    "owner": "mismatch with directory",
    "symlink": "cannot stat program",
    "setgid": "file is either setuid or setgid",
    "noexec": "file has no execute permission",
}


def kv(resp):
    assert resp.status == 200, (resp.status, resp.body[:500])
    out = dict(l.split("=", 1) for l in resp.text.splitlines() if "=" in l)
    out["runner"] = ("daemon" if out["exe"].endswith("/pycgi-worker")
                     else "exec")
    return out


class PoolTree:
    """Two users' docroots under /var/www (vhosts suexec.test and
    suexec2.test), a ~pycgitest tree, and a directory outside the
    docroot (/srv) aliased into suexec.test."""

    def __init__(self):
        if os.geteuid() != 0:
            pytest.skip("the suexec tests need root (useradd, chown)")
        self.settings = sec._suexec_settings()
        self.user = sec._ensure_user(sec.TEST_USER)
        self.user2 = sec._ensure_user(USER2)
        for u in (self.user, self.user2):
            os.chmod(u.pw_dir, 0o755)
        self.www = tempfile.mkdtemp(prefix="pycgi-test-", dir="/var/www")
        self.www2 = tempfile.mkdtemp(prefix="pycgi-test-", dir="/var/www")
        self.outside = tempfile.mkdtemp(prefix="pycgi-test-", dir="/srv")
        self.name = os.path.basename(self.www)
        self.pub_html = os.path.join(self.user.pw_dir, "public_html")
        self.made_pub_html = not os.path.isdir(self.pub_html)
        sec.make_dir(self.pub_html, self.user)
        self.pub = sec.make_dir(os.path.join(self.pub_html, self.name),
                                self.user)
        sec.make_dir(self.www, self.user)
        sec.make_dir(self.www2, self.user2)
        sec.make_dir(self.outside, self.user)
        for top, owner in ((self.www, self.user), (self.www2, self.user2),
                           (self.pub, self.user), (self.outside, self.user)):
            for sub in ("auto", "exec", "fork"):
                d = sec.make_dir(os.path.join(top, sub), owner)
                sec.write(os.path.join(d, "who.py"), WHO, owner=owner)
                sec.write(os.path.join(d, "env.py"), ENV, owner=owner)
                sec.write(os.path.join(d, "sockets.py"), SOCKETS,
                          owner=owner)
                sec.write(os.path.join(d, "memory.py"), MEMORY, owner=owner)
        # Mode 0700, as suexec allows: httpd's User cannot read it.
        d = sec.make_dir(os.path.join(self.www, "private"), self.user)
        sec.write(os.path.join(d, "who.py"), WHO, mode=0o700,
                  owner=self.user)
        for rule in RULES:
            d = sec.make_dir(os.path.join(self.www, rule), self.user)
            path = os.path.join(d, "who.py")
            if rule == "symlink":
                os.symlink(os.path.join(self.www, "auto", "who.py"), path)
                continue
            sec.write(path, WHO, owner=self.user)
            if rule == "grpw_file":
                os.chmod(path, 0o775)
            elif rule == "grpw_dir":
                os.chmod(d, 0o775)
            elif rule == "owner":
                os.chown(path, self.user2.pw_uid, self.user2.pw_gid)
            elif rule == "setgid":
                os.chmod(path, 0o2755)
            elif rule == "noexec":
                # Executable for httpd (o+x), not for its owner.
                os.chmod(path, 0o645)

    def conf(self, user_pools=None):
        dirs = []
        for top in (self.www, self.www2, self.pub, self.outside):
            dirs.append("""\
<Directory "%(top)s">
    AllowOverride None
    Require all granted
    Options +ExecCGI
    AddHandler pycgi-script .py
    PyCGIMode daemon
</Directory>
<Directory "%(top)s/exec">
    PyCGIMode exec
</Directory>
<Directory "%(top)s/fork">
    PyCGIIsolation fork
</Directory>""" % {"top": top})
        return """\
LoadModule suexec_module %(moddir)s/mod_suexec.so
LoadModule userdir_module %(moddir)s/mod_userdir.so
UserDir public_html
UserDir disabled root
%(pools)s
%(dirs)s
<Location "/pycgi-status">
    SetHandler pycgi-status
</Location>
<VirtualHost 127.0.0.1:@PORT@>
    ServerName 127.0.0.1
    Alias /no-suexec "%(www)s"
</VirtualHost>
<VirtualHost 127.0.0.1:@PORT@>
    ServerName suexec.test
    DocumentRoot "%(www)s"
    Alias /outside "%(outside)s"
    SuexecUserGroup %(user)s %(user)s
</VirtualHost>
<VirtualHost 127.0.0.1:@PORT@>
    ServerName suexec2.test
    DocumentRoot "%(www2)s"
    SuexecUserGroup %(user2)s %(user2)s
</VirtualHost>
""" % {"moddir": sec.MODDIR, "dirs": "\n".join(dirs), "www": self.www,
       "www2": self.www2, "outside": self.outside, "user": sec.TEST_USER,
       "user2": USER2,
       "pools": ("PyCGIDaemonUserPools %d" % user_pools
                 if user_pools is not None else "")}

    def url(self, where, sub="auto", script="who.py"):
        """(path, Host) of `script` in `sub` of one of the trees."""
        if where == "vhost":
            return "/%s/%s" % (sub, script), "suexec.test"
        if where == "vhost2":
            return "/%s/%s" % (sub, script), "suexec2.test"
        if where == "outside":
            return "/outside/%s/%s" % (sub, script), "suexec.test"
        return "/~%s/%s/%s/%s" % (sec.TEST_USER, self.name, sub,
                                  script), None

    def owner(self, where):
        return self.user2 if where == "vhost2" else self.user

    def remove(self):
        for d in (self.www, self.www2, self.outside, self.pub):
            shutil.rmtree(d, ignore_errors=True)
        if self.made_pub_html:
            try:
                os.rmdir(self.pub_html)
            except OSError:
                pass


@pytest.fixture(scope="module")
def tree():
    t = PoolTree()
    yield t
    if not os.environ.get("PYCGI_KEEP_TMP"):
        t.remove()


@pytest.fixture(scope="module")
def usrv(httpd_module, tree, mpm):
    server = httpd_module(mpm=mpm, mode="auto", loglevel=sec.DEBUG,
                          extra_conf=tree.conf(), tag="userpools")
    assert "AH01232: suEXEC mechanism enabled" in server.error_log(), \
        "httpd did not enable suexec (is the parent root? see the log)"
    return server


def get(server, path, host=None, headers=None):
    return server.get(path, headers=([("Host", host)] if host else [])
                      + (headers or []))


def warm(server, tree, where, script="who.py", timeout=10.0):
    """Requests `script` until the daemon runner serves it (the first
    request of an identity runs exec while its pool is assigned)."""
    path, host = tree.url(where, "auto", script)
    deadline = time.monotonic() + timeout
    while True:
        resp = get(server, path, host)
        if script != "who.py":
            return resp
        got = kv(resp)
        if got["runner"] == "daemon" or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


def warm_pid(server, tree, where):
    got = warm(server, tree, where)
    assert got["runner"] == "daemon", (got, server.error_log_tail())
    return int(got["pid"])


def socket_paths(server):
    paths = []
    for d in os.listdir(server.rundir):
        if d.startswith("pycgi."):
            full = os.path.join(server.rundir, d)
            paths += [os.path.join(full, f) for f in sorted(os.listdir(full))
                      if f.endswith(".sock")]
    assert paths, os.listdir(server.rundir)
    return paths


# == identity =================================================================

@pytest.mark.parametrize("where", ["vhost", "userdir"])
def test_suexec_script_runs_warm_as_its_owner(usrv, tree, where):
    """A worker of the user's pool, with the user's uid, euid, gid and
    groups (as initgroups gives them), and the same worker next time."""
    got = warm(usrv, tree, where)
    assert got["runner"] == "daemon", (got, usrv.error_log_tail())
    sec.assert_runner(usrv, dict(got, runner="daemon"), "daemon")
    u = tree.owner(where)
    assert int(got["uid"]) == int(got["euid"]) == u.pw_uid, got
    assert int(got["gid"]) == int(got["egid"]) == u.pw_gid, got
    groups = sorted(os.getgrouplist(u.pw_name, u.pw_gid))
    assert got["groups"] == ",".join(map(str, groups)), got
    again = kv(get(usrv, *tree.url(where)))
    assert again["runner"] == "daemon" and again["pid"] == got["pid"], \
        (got, again)
    # The identity is the pool's, on the status page too.
    status = get(usrv, "/pycgi-status?auto").text
    assert re.search(r"UserPool: name=user-\d+ user=%s uid=%d gid=%d "
                     r"userdir=%d" % (u.pw_name, u.pw_uid, u.pw_gid,
                                      where == "userdir"), status), status


@pytest.mark.parametrize("where", ["vhost", "userdir"])
def test_fork_isolation_in_a_user_pool(usrv, tree, where):
    """PyCGIIsolation fork: each request in a process of its own, forked
    from the user pool's worker, as the user."""
    worker = warm_pid(usrv, tree, where)
    u = tree.owner(where)
    pids = set()
    for _ in range(2):
        got = kv(get(usrv, *tree.url(where, "fork")))
        assert got["runner"] == "daemon", got
        assert int(got["ppid"]) == worker, (got, worker)
        assert int(got["uid"]) == int(got["euid"]) == u.pw_uid, got
        assert int(got["gid"]) == u.pw_gid, got
        pids.add(got["pid"])
    assert len(pids) == 2 and str(worker) not in pids, pids


def test_assignment_is_logged_once_per_identity(usrv, tree):
    warm_pid(usrv, tree, "vhost")
    log = usrv.error_log()
    lines = re.findall(r"PYCGI0972: daemon pool (\S+) now runs as %s "
                       r"\(uid %d, gid %d\)" % (sec.TEST_USER,
                                                tree.user.pw_uid,
                                                tree.user.pw_gid), log)
    assert len(lines) == 1, lines


def test_no_worker_runs_as_root(usrv, tree):
    """Every pycgi-worker of the server runs with uid, euid, saved uid
    and the gids of a user other than root."""
    warm_pid(usrv, tree, "vhost")
    warm_pid(usrv, tree, "vhost2")
    sup = sec.children(usrv, "pycgi-supervise")
    workers = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/status" % entry) as f:
                status = f.read()
        except OSError:
            continue
        ppid = int(re.search(r"PPid:\s+(\d+)", status).group(1))
        if ppid in sup:
            workers.append(status)
            uids = re.search(r"Uid:\s+(.*)", status).group(1).split()
            gids = re.search(r"Gid:\s+(.*)", status).group(1).split()
            assert "0" not in uids and "0" not in gids, status
    assert len(workers) >= 2, workers


def test_script_httpd_cannot_read_runs_exec_as_its_owner(usrv, tree):
    """A 0700 script: the runner cannot tell it is Python, so suexec
    runs it, as under mod_cgi."""
    warm_pid(usrv, tree, "vhost")
    mark = usrv.log_mark()
    got = kv(get(usrv, "/private/who.py", "suexec.test"))
    assert got["runner"] == "exec", got
    assert int(got["euid"]) == tree.user.pw_uid, got
    sec.decision(usrv, mark, os.path.join(tree.www, "private", "who.py"),
                 "exec", "suexec applies, not executable")


# == separation ===============================================================

def test_two_users_never_share_a_worker(usrv, tree):
    pids = {}
    for where in ("vhost", "vhost2", "vhost", "vhost2"):
        got = warm(usrv, tree, where)
        assert got["runner"] == "daemon", got
        pids.setdefault(where, set()).add(got["pid"])
        assert int(got["uid"]) == tree.owner(where).pw_uid, got
    assert not pids["vhost"] & pids["vhost2"], pids


@pytest.mark.parametrize("where", ["vhost", "userdir"])
def test_user_script_cannot_connect_to_any_pool_socket(usrv, tree, where):
    warm_pid(usrv, tree, where)
    paths = socket_paths(usrv)
    path, host = tree.url(where, "auto", "sockets.py")
    resp = get(usrv, path + "?" + ",".join(paths), host)
    assert resp.status == 200, resp
    got = json.loads(resp.text)
    assert set(got) >= set(paths), got
    assert set(got.values()) == {"Permission denied"}, got


def test_user_script_cannot_read_another_worker(usrv, tree):
    """user 1's script against user 2's worker and a www-data worker."""
    other = warm_pid(usrv, tree, "vhost2")
    plain = kv(get(usrv, "/no-suexec/auto/who.py"))
    assert plain["runner"] == "daemon", plain
    warm_pid(usrv, tree, "vhost")
    path, host = tree.url("vhost", "auto", "memory.py")
    for pid in (other, int(plain["pid"])):
        resp = get(usrv, "%s?%d" % (path, pid), host)
        assert resp.status == 200, resp
        got = json.loads(resp.text)
        assert got["mem"] != "ok" and got["vm_readv"] != "ok", (pid, got)


# == suexec's rules ===========================================================

@pytest.mark.parametrize("rule", sorted(RULES) + ["outside"])
def test_suexec_rule_violation_is_refused_in_daemon_mode(usrv, tree, rule):
    warm_pid(usrv, tree, "vhost")   # the user has a pool
    mark = usrv.log_mark()
    if rule == "outside":
        path, host = tree.url("outside")
        why = "command not in docroot"
    else:
        path, host = "/%s/who.py" % rule, "suexec.test"
        why = RULES[rule]
    resp = get(usrv, path, host)
    assert resp.status == 500, (resp.status, resp.text[:300])
    pattern = r"PYCGI0608: suexec policy refuses the script: .*%s" % \
        re.escape(why)
    log = usrv.wait_log(mark, pattern)
    assert re.search(pattern, log), log


# -- forged requests: the worker's own checks ---------------------------------

MAGIC, VERSION = 0x50594347, 4


def worker_pool(pid):
    """(socket path, token) of the pool of worker `pid`, as root reads
    them: its fd 3 (the listening socket, found in /proc/net/unix) and
    its mapping of the pool's segment (magic, nslots, token)."""
    inode = re.search(r"socket:\[(\d+)\]",
                      os.readlink("/proc/%d/fd/3" % pid)).group(1)
    with open("/proc/net/unix") as f:
        path = [l.split()[-1] for l in f
                if l.split()[6] == inode and len(l.split()) > 7][0]
    with open("/proc/%d/maps" % pid) as f:
        start = [int(l.split("-")[0], 16) for l in f
                 if "pycgi-pool" in l][0]
    with open("/proc/%d/mem" % pid, "rb") as f:
        f.seek(start)
        head = f.read(24)
    assert struct.unpack("=I", head[:4])[0] == 0x504f4f4c, head
    return path, head[8:24]


def forge(sock, token, script, env):
    """Send one request record as an httpd child would; the reply's
    (kind, status)."""
    pipes = [os.pipe() for _ in range(3)]
    give = [pipes[0][0], pipes[1][1], pipes[2][1]]
    st = os.stat(script)
    strings = [script, os.path.dirname(script) + "/", "GET /forged HTTP/1.1",
               script] + env
    blob = b"".join(x.encode() + b"\0" for x in strings)
    head = struct.pack("=II16sIIIIqqQII6Q", MAGIC, VERSION, token,
                       len(blob), 1, len(env), 0, st.st_mtime_ns // 1000,
                       st.st_size, st.st_ino, 0, 0, 0, 0, 0, 0, 0, 0)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(10)
        s.connect(sock)
        s.sendmsg([head + blob], [(socket.SOL_SOCKET, socket.SCM_RIGHTS,
                                   array.array("i", give))])
        for fd in give:
            os.close(fd)
        reply = b""
        while len(reply) < 16:
            part = s.recv(16 - len(reply))
            if not part:
                break
            reply += part
    finally:
        s.close()
        for fd in (pipes[0][1], pipes[1][0], pipes[2][0]):
            os.close(fd)
    assert len(reply) == 16, reply
    magic, kind, status, flags = struct.unpack("=IIiI", reply)
    return kind, status


MARKER = """\
#!/usr/bin/python3
import os
open(os.environ["QUERY_STRING"], "w").close()
print("Content-Type: text/plain")
print()
"""


def test_worker_refuses_forged_requests_suexec_would_refuse(usrv, tree):
    """With the pool's own secret (what an httpd child holds), a request
    for a script that is not the user's, or with a variable suexec does
    not pass, runs nothing: REFUSED (suexec), PYCGI0840.  The same
    record for the user's own script and suexec's environment runs."""
    pid = warm_pid(usrv, tree, "vhost")
    sock, token = worker_pool(pid)
    path = tree.settings["AP_SAFE_PATH"]
    own = os.path.join(tree.www, "auto", "who.py")
    foreign_dir = tempfile.mkdtemp(prefix="pycgi-forge-", dir="/var/www")
    try:
        os.chmod(foreign_dir, 0o755)
        foreign = sec.write(os.path.join(foreign_dir, "m.py"), MARKER)
        marker = "/tmp/pycgi-forged-%s" % uuid.uuid4().hex
        good_env = ["PATH=" + path, "REQUEST_METHOD=GET",
                    "QUERY_STRING=" + marker, "GATEWAY_INTERFACE=CGI/1.1"]
        cases = [
            (foreign, good_env, "mismatch with directory"),
            (own, good_env + ["LD_PRELOAD=/tmp/x.so"],
             "variable not passed by suexec: LD_PRELOAD"),
            (own, ["PATH=/tmp:" + path] + good_env[1:],
             "PATH is not suexec's"),
        ]
        for script, env, why in cases:
            mark = usrv.log_mark()
            assert forge(sock, token, script, env) == (3, 3), (script, env)
            pattern = r"PYCGI0840: refused a request suexec would " \
                      r"refuse: .*%s" % re.escape(why)
            log = usrv.wait_log(mark, pattern)
            assert re.search(pattern, log), log
        time.sleep(0.5)
        assert not os.path.exists(marker)
        # Control: the user's own script, suexec's environment: it runs.
        assert forge(sock, token, own, good_env)[0] == 1
    finally:
        shutil.rmtree(foreign_dir, ignore_errors=True)


# == environment ==============================================================

PER_REQUEST = ("REMOTE_PORT", "UNIQUE_ID")


@pytest.mark.parametrize("where", ["vhost", "userdir"])
def test_environment_equals_exec_under_suexec(usrv, tree, where):
    headers = [("X-Plain", "1"), ("X-Func", "() { :; }; echo pwned"),
               ("Cookie", "a=b")]
    warm_pid(usrv, tree, where)
    envs = {}
    for sub in ("exec", "auto"):
        path, host = tree.url(where, sub, "env.py")
        resp = get(usrv, path + "?q=1", host, headers)
        assert resp.status == 200, resp
        env = json.loads(resp.text)
        for k in PER_REQUEST:
            env.pop(k, None)
        envs[sub] = {k: v.replace("/exec/", "/auto/")
                     for k, v in env.items()}
    assert envs["auto"] == envs["exec"], (
        set(envs["auto"].items()) ^ set(envs["exec"].items()))
    assert envs["auto"]["PATH"] == tree.settings["AP_SAFE_PATH"]
    assert envs["auto"]["HTTP_X_PLAIN"] == "1"


# == off, full ================================================================

def assert_exec_as_owner_without_pools(server, tree):
    """The vhost user's script runs exec, as that user, three times, and
    no user pool was ever asked for (PYCGI0972)."""
    for _ in range(3):
        got = kv(get(server, *tree.url("vhost")))
        assert got["runner"] == "exec", got
        assert int(got["euid"]) == tree.user.pw_uid, got
        time.sleep(0.2)
    assert "PYCGI0972" not in server.error_log()


def test_user_pools_off_runs_exec(httpd, tree, mpm):
    server = httpd(mpm=mpm, mode="auto", loglevel=sec.DEBUG,
                   extra_conf=tree.conf(user_pools=0))
    assert_exec_as_owner_without_pools(server, tree)
    assert "PyCGIDaemonUserPools" not in get(
        server, "/pycgi-status?auto").text
    assert "UserPool:" not in get(server, "/pycgi-status?auto").text


def test_chroot_dir_turns_user_pools_off(httpd, tree, mpm):
    """Under ChrootDir mod_cgi's scripts see only the chroot, and a user
    pool's workers (started by a supervisor that keeps root, so never
    chrooted) would see everything: no user pools, exec as mod_cgi.
    (ChrootDir / chroots the children where they are: the choice is
    made on the directive alone.)"""
    server = httpd(mpm=mpm, mode="auto", loglevel=sec.DEBUG,
                   extra_conf=tree.conf() + "ChrootDir /\n")
    # The supervisor's line may come a moment after the server answers.
    started = re.compile(r"PYCGI0977: ChrootDir /: no user pools(.|\n)*"
                         r"supervisor started: .*\(0 for suexec users\)")
    assert probe.wait_for(lambda: started.search(server.error_log()), 10), \
        server.error_log()
    assert_exec_as_owner_without_pools(server, tree)


def test_all_user_pools_taken_runs_exec(httpd, tree, mpm):
    server = httpd(mpm=mpm, mode="auto", loglevel=sec.DEBUG,
                   extra_conf=tree.conf(user_pools=1))
    assert warm(server, tree, "vhost")["runner"] == "daemon"
    for _ in range(3):
        got = kv(get(server, *tree.url("vhost2")))
        assert got["runner"] == "exec", got
        assert int(got["euid"]) == tree.user2.pw_uid, got
        time.sleep(0.2)
    log = server.error_log()
    assert len(re.findall(r"PYCGI0973: all 1 user pools are taken", log)) \
        == 1, log
