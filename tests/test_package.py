"""The Debian package, end to end, with the real package tools and the
machine's own Apache configuration.

libapache2-mod-pycgi is built once from a copy of the tree with
dpkg-buildpackage.  Each test installs it with dpkg -i (the postinst
enables the module through apache2-maintscript-helper), puts mod_cgi and
mod_cgid aside with a2dismod, enables serve-cgi-bin with a2enconf, starts
the system configuration with apache2ctl, fetches a script from
/usr/lib/cgi-bin/, stops the server and purges the package.

The system configuration is used as it is, with three exceptions that
live in a private envvars file (apache2ctl reads $APACHE_ENVVARS):
apache2.conf is read through a copy whose `Include ports.conf` is a
Listen on a free loopback port, and the pid file, run, lock and log
directories are private.  /etc/apache2 and /var/lib/apache2 are saved
before the first change and restored if anything differs afterwards.

Needs root, the build tools of `make deps`, and no running system
Apache (the package's maintainer scripts would restart it).
"""

import fcntl
import hashlib
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import warnings

import pytest

import httpd as httpd_lib

PKG = "libapache2-mod-pycgi"
SYS_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
CONFDIR = "/etc/apache2"
# Everything a2enmod, a2enconf and the maintainer scripts change.
STATE_TREES = (CONFDIR, "/var/lib/apache2")
CGI_BIN = "/usr/lib/cgi-bin"
SCRIPT_NAME = "pycgi-package-test.py"
MODULE_SO = os.path.join(httpd_lib.MODDIR, "mod_pycgi.so")
SYSTEM_PIDFILE = "/var/run/apache2/apache2.pid"

SCRIPT = """\
#!/usr/bin/python3
import os
print("Content-Type: text/plain")
print()
print("hello from the packaged mod_pycgi")
print("exe=" + os.path.realpath("/proc/self/exe"))
"""


def _env(**extra):
    env = {"PATH": SYS_PATH, "LANG": "C", "DEBIAN_FRONTEND": "noninteractive"}
    env.update(extra)
    return env


def run(cmd, timeout=120, check=True, **kw):
    """Run `cmd`; on failure (with check) fail the test with its output."""
    kw.setdefault("env", _env())
    proc = subprocess.run(cmd, stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=timeout, **kw)
    out = proc.stdout.decode("utf-8", "replace")
    if check and proc.returncode != 0:
        pytest.fail("%s exited %d:\n%s" % (" ".join(cmd), proc.returncode,
                                           out[-6000:]), pytrace=False)
    return proc.returncode, out


def dpkg(*args):
    """dpkg, waiting for the lock if apt or another dpkg holds it."""
    deadline = time.monotonic() + 120
    while True:
        rc, out = run(["dpkg"] + list(args), check=False)
        if rc == 0 or "lock" not in out or time.monotonic() > deadline:
            if rc != 0:
                pytest.fail("dpkg %s exited %d:\n%s"
                            % (" ".join(args), rc, out[-6000:]),
                            pytrace=False)
            return out
        time.sleep(2)


def package_status():
    """dpkg's Status of the package, or "not-installed" (also when dpkg
    still remembers a purged package: "unknown ok not-installed")."""
    rc, out = run(["dpkg-query", "-W", "-f=${Status}", PKG], check=False)
    out = out.strip()
    return out if rc == 0 and not out.endswith(" not-installed") \
        else "not-installed"


def enabled(module):
    return run(["a2query", "-m", module], check=False)[0] == 0


def pid_alive(pidfile):
    try:
        with open(pidfile) as f:
            pid = int(f.read().strip())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def fingerprint(root):
    """relative path -> (type, mode, uid, gid, digest or link target)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        names = [""] if dirpath == root else []
        for name in names + dirnames + filenames:
            path = os.path.join(dirpath, name) if name else dirpath
            st = os.lstat(path)
            if stat.S_ISLNK(st.st_mode):
                what = os.readlink(path)
            elif stat.S_ISREG(st.st_mode):
                with open(path, "rb") as f:
                    what = hashlib.sha256(f.read()).hexdigest()
            else:
                what = ""
            out[os.path.relpath(path, root)] = (
                stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode),
                st.st_uid, st.st_gid, what)
    return out


def fingerprint_diff(before, after):
    lines = []
    for key in sorted(set(before) | set(after)):
        if key not in after:
            lines.append("  missing: %s" % key)
        elif key not in before:
            lines.append("  added:   %s" % key)
        elif before[key] != after[key]:
            lines.append("  changed: %s" % key)
    return lines


class MachineState:
    """Saves STATE_TREES and puts them back if they end up different."""

    def __init__(self, workdir):
        self.backup = os.path.join(workdir, "state")
        self.before = {}
        for tree in STATE_TREES:
            self.before[tree] = fingerprint(tree)
            dst = os.path.join(self.backup, tree.lstrip("/"))
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            subprocess.run(["cp", "-a", tree, dst], check=True)

    def restore(self):
        """Put every changed tree back; return what had changed."""
        changed = []
        for tree in STATE_TREES:
            diff = fingerprint_diff(self.before[tree], fingerprint(tree))
            if not diff:
                continue
            changed += ["%s:" % tree] + diff
            saved = os.path.join(self.backup, tree.lstrip("/"))
            fresh, old = tree + ".pycgi-restore", tree + ".pycgi-old"
            subprocess.run(["cp", "-a", saved, fresh], check=True)
            os.rename(tree, old)
            os.rename(fresh, tree)
            shutil.rmtree(old)
            assert not fingerprint_diff(self.before[tree], fingerprint(tree))
        return changed


def build_deb(workdir):
    """dpkg-buildpackage -b in a copy of the tree; the .deb's path."""
    src = os.path.join(workdir, "src")
    if os.path.isdir(os.path.join(httpd_lib.REPO, ".git")):
        # The tree as it stands (committed or not), without build products.
        _, listing = run(["git", "-C", httpd_lib.REPO, "ls-files", "-z",
                          "--cached", "--others", "--exclude-standard"])
        os.mkdir(src)
        for rel in listing.split("\0"):
            if rel and os.path.lexists(os.path.join(httpd_lib.REPO, rel)):
                dst = os.path.join(src, rel)
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copy2(os.path.join(httpd_lib.REPO, rel), dst,
                             follow_symlinks=False)
    else:
        shutil.copytree(httpd_lib.REPO, src, symlinks=True,
                        ignore=shutil.ignore_patterns(
                            ".libs", "*.la", "*.lo", "*.slo", "*.o",
                            "__pycache__", ".pytest_cache", "build-asan"))
    run(["dpkg-buildpackage", "-us", "-uc", "-b"], cwd=src, timeout=300)
    debs = [n for n in os.listdir(workdir)
            if n.startswith(PKG + "_") and n.endswith(".deb")]
    assert len(debs) == 1, "expected one %s .deb in %s, got %r" % (
        PKG, workdir, os.listdir(workdir))
    return os.path.join(workdir, debs[0])


def private_envvars(workdir, port):
    """An envvars file for apache2ctl: the system one, then our Listen
    and our run, lock and log directories (see the module docstring)."""
    rundir = os.path.join(workdir, "run")
    # apache2ctl makes the run and lock directories (the latter owned by
    # www-data), not the log one.
    os.mkdir(os.path.join(workdir, "log"))
    conf = os.path.join(workdir, "apache2.conf")
    with open(os.path.join(CONFDIR, "apache2.conf")) as f:
        text = f.read()
    assert "\nInclude ports.conf\n" in text, \
        "%s/apache2.conf has no `Include ports.conf` line" % CONFDIR
    with open(conf, "w") as f:
        f.write(text.replace("\nInclude ports.conf\n",
                             "\nListen 127.0.0.1:%d\n" % port))
    envvars = os.path.join(workdir, "envvars")
    with open(envvars, "w") as f:
        f.write(". %s/envvars\n" % CONFDIR +
                "export APACHE_PID_FILE=%s/apache2.pid\n" % rundir +
                "export APACHE_RUN_DIR=%s\n" % rundir +
                "export APACHE_LOCK_DIR=%s/lock\n" % workdir +
                "export APACHE_LOG_DIR=%s/log\n" % workdir +
                "export APACHE_ARGUMENTS='-f %s'\n" % conf)
    return envvars, os.path.join(rundir, "apache2.pid")


def stop_pid(pid, timeout=20):
    """Wait for a stopped apache2 to go, else SIGKILL its group."""
    if not pid or pid <= 1:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except OSError:
            return
        time.sleep(0.1)
    # apache2 daemonises with setsid(): its children share its group.
    try:
        os.killpg(pid, signal.SIGKILL)
    except OSError:
        pass


def _fail_unless_root_and_tools():
    if os.geteuid() != 0:
        pytest.fail("tests/test_package.py needs root (dpkg -i, a2enmod)")
    for tool in ("dpkg-buildpackage", "dh_apache2", "a2enmod", "apache2ctl"):
        if not shutil.which(tool, path=SYS_PATH):
            pytest.fail("%s not found: run `make deps`" % tool)


@pytest.fixture(scope="module")
def deb():
    """The package, built once per run from a copy of the tree."""
    _fail_unless_root_and_tools()
    builddir = tempfile.mkdtemp(prefix="pycgi-deb-", dir="/tmp")
    try:
        yield build_deb(builddir)
    finally:
        if not os.environ.get("PYCGI_KEEP_TMP"):
            shutil.rmtree(builddir, ignore_errors=True)


@pytest.fixture
def machine():
    """Preconditions, a lock against a concurrent run, the saved state;
    afterwards the package purged and the state put back.  Gives a
    private work directory (0755: www-data reopens the lock files)."""
    _fail_unless_root_and_tools()
    if package_status() != "not-installed":
        pytest.fail("%s is already installed (%s); this test installs and "
                    "purges it, so remove it first"
                    % (PKG, package_status()))
    if pid_alive(SYSTEM_PIDFILE):
        pytest.fail("the system Apache is running (%s): installing a module "
                    "package would restart it" % SYSTEM_PIDFILE)
    lock = os.open(CONFDIR, os.O_RDONLY)
    deadline = time.monotonic() + 150
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                pytest.fail("another test_package run holds %s" % CONFDIR)
            time.sleep(1)
    workdir = tempfile.mkdtemp(prefix="pycgi-package-", dir="/tmp")
    os.chmod(workdir, 0o755)
    state = MachineState(workdir)
    script = os.path.join(CGI_BIN, SCRIPT_NAME)
    problems = []
    try:
        yield workdir
    finally:
        if os.path.lexists(script):
            os.unlink(script)
        if package_status() != "not-installed":
            rc, out = run(["dpkg", "-P", PKG], check=False)
            if rc:
                problems.append("dpkg -P %s: %s" % (PKG, out))
        if pid_alive(SYSTEM_PIDFILE):
            # A maintainer script restarted the system Apache after all.
            problems.append("the system Apache was started; stopped it")
            pid = pid_alive(SYSTEM_PIDFILE)
            run(["apache2ctl", "stop"], check=False,
                env=_env(APACHE_STARTED_BY_SYSTEMD="true"))
            stop_pid(pid)
        changed = state.restore()
        if not os.environ.get("PYCGI_KEEP_TMP"):
            shutil.rmtree(workdir, ignore_errors=True)
        fcntl.flock(lock, fcntl.LOCK_UN)
        os.close(lock)
        if changed:
            # Our own a2dismod/a2enconf, and the empty state directories
            # a2dismod leaves; shown with -rA for the record.
            sys.stderr.write("restored after the test:\n%s\n"
                             % "\n".join(changed))
        if problems:
            pytest.fail("cleanup: " + "; ".join(problems), pytrace=False)


def install(deb):
    """dpkg -i; the postinst must have enabled the module."""
    dpkg("-i", deb)
    assert package_status() == "install ok installed"
    assert os.path.isfile(MODULE_SO)
    for name in ("pycgi.load", "pycgi.conf"):
        assert os.path.islink(os.path.join(CONFDIR, "mods-enabled", name)), \
            "postinst did not enable %s" % name


def serve_once(workdir, disable=(), enable=(), confs=(),
               path="/cgi-bin/" + SCRIPT_NAME):
    """Configure the system Apache the way an administrator would, start
    it with apache2ctl on a private port, fetch `path` (the test script
    by default), stop it.  `confs`: conf-available names to enable
    besides serve-cgi-bin.  Returns (response, error log)."""
    for mod in ("cgi", "cgid") + tuple(disable):
        if enabled(mod):
            run(["a2dismod", "-f", mod])
    for mod in ("pycgi",) + tuple(enable):
        run(["a2enmod", mod])
    for conf in ("serve-cgi-bin",) + tuple(confs):
        run(["a2enconf", conf])
    script = os.path.join(CGI_BIN, SCRIPT_NAME)
    with open(script, "w") as f:
        f.write(SCRIPT)
    os.chmod(script, 0o755)

    port = httpd_lib.free_port()
    envvars, pidfile = private_envvars(workdir, port)
    ctl_env = _env(APACHE_ENVVARS=envvars,
                   # Never hand the start to systemctl (that would start
                   # the system unit, with the system's ports).
                   APACHE_STARTED_BY_SYSTEMD="true")

    _, modules = run(["apache2ctl", "-M"], env=ctl_env)
    loaded = {line.split()[0] for line in modules.splitlines()
              if line.startswith(" ") and line.strip()}
    assert "pycgi_module" in loaded, modules
    assert not loaded & {"cgi_module", "cgid_module"}, modules

    errlog = os.path.join(workdir, "log", "error.log")
    rc, started = run(["apache2ctl", "start"], env=ctl_env, check=False)
    assert rc == 0, "apache2ctl start exited %d:\n%s\n--- error.log ---\n%s" \
        % (rc, started, httpd_lib._read(errlog)[-6000:])
    pid = None
    resp = None
    try:
        deadline = time.monotonic() + 20
        while not pid and time.monotonic() < deadline:
            pid = pid_alive(pidfile)
            time.sleep(0.1)
        assert pid, "apache2ctl start: no server\n%s" % httpd_lib._read(errlog)
        request = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                   "Connection: close\r\n\r\n" % (path, port)).encode()
        while resp is None and time.monotonic() < deadline:
            try:
                resp = httpd_lib.Response(
                    httpd_lib.exchange(port, request, timeout=30)[0])
            except OSError:
                time.sleep(0.1)
    finally:
        run(["apache2ctl", "stop"], env=ctl_env, check=False)
        if pid:
            stop_pid(pid)
    log = httpd_lib._read(errlog)
    assert resp is not None, "no answer on port %d\n%s" % (port, log)
    for line in started.splitlines():
        # AH00558 (no ServerName) is the stock configuration's own.
        if ":warn]" in line and "AH00558" not in line:
            warnings.warn("apache2ctl start: " + line.split("] ", 3)[-1])
    return resp, log


def check_served(resp, log):
    assert resp.status == 200, "%r\n%s\n%s" % (resp, resp.body, log)
    lines = resp.text.splitlines()
    assert lines[:1] == ["hello from the packaged mod_pycgi"], resp.text
    # The packaged pycgi.conf says PyCGIMode auto: a python3 script runs
    # in a warm daemon worker, installed beside the module.
    assert lines[1:2] == ["exe=/usr/lib/apache2/modules/pycgi-worker"], \
        resp.text
    # Children must also have exited cleanly at the stop.
    crashes = [l for l in log.splitlines() if re.search(
        r"exit signal|Fatal Python error|AddressSanitizer", l)]
    assert not crashes, "server processes crashed:\n%s\n--- error.log ---\n%s" \
        % ("\n".join(crashes), log[-6000:])


def test_package_install_serve_purge(deb, machine):
    install(deb)
    _, listing = run(["dpkg", "-L", PKG])
    assert "/usr/share/doc/%s/directives.md.gz" % PKG in listing

    # The other embedders of libpython are put aside here (they have a
    # test of their own below); mod_python and mod_wsgi refuse to start
    # together anyway (AH00016), and `make deps` installs both for bench/.
    check_served(*serve_once(machine, disable=("python", "wsgi")))

    # -- remove and purge: the module is disabled and its files gone -------
    run(["a2dismod", "pycgi"])
    dpkg("-r", PKG)
    assert not os.path.exists(MODULE_SO)
    dpkg("-P", PKG)
    assert package_status() == "not-installed"
    leftovers = [os.path.join(dirpath, n)
                 for tree in STATE_TREES
                 for dirpath, dirs, files in os.walk(tree)
                 for n in dirs + files if "pycgi" in n]
    assert not leftovers, "left after purge: %r" % leftovers


def test_package_beside_mod_wsgi(deb, machine):
    """Debian users with libapache2-mod-wsgi-py3 get both modules enabled
    by the postinsts: both embed the same libpython."""
    if not os.path.exists(os.path.join(httpd_lib.MODDIR, "mod_wsgi.so")):
        pytest.fail("mod_wsgi.so not installed: run `make deps`")
    install(deb)
    check_served(*serve_once(machine, disable=("python",), enable=("wsgi",)))


GITWEB_CONF = "/etc/apache2/conf-available/gitweb.conf"


def test_package_serves_debians_gitweb(deb, machine):
    """Debian's gitweb.conf (package gitweb) switches itself on only when
    it sees mod_cgi or mod_cgid (<IfModule mod_cgi.c>, then Define
    ENABLE_GITWEB), as serve-cgi-bin.conf does: with mod_cgi and mod_cgid
    put aside for mod_pycgi, /gitweb/ must still be gitweb's."""
    if not os.path.exists(GITWEB_CONF):
        pytest.fail("gitweb not installed: run `make deps`")
    install(deb)
    resp, log = serve_once(machine, disable=("python", "wsgi"),
                           confs=("gitweb",), path="/gitweb/")
    # /var/lib/git, gitweb's default project root, may hold no project:
    # its own page says so (404), not Apache's.
    assert resp.status in (200, 404), "%r\n%s" % (resp, log[-3000:])
    assert re.search(r'<meta name="generator" content="gitweb/', resp.text), \
        "not gitweb's page:\n%s\n%s" % (resp.text[-2000:], log[-3000:])
