"""Real CGI applications, as Debian ships them, through real httpd under
each runner: git's smart HTTP backend (clone, push, pull), gitweb (Perl),
cgit (C), Fossil (a binary started by a two-line CGI file), MooseFS's
mfs.cgi (7,900 lines of Python) and Mercurial's hgweb.cgi (Python).

The applications are not ours and are not changed: each gets the
configuration its documentation gives for mod_cgi, with the handler and
`PyCGIMode` of the run.  The binaries and Perl run exec whatever
`PyCGIMode` says (only Python runs in daemon workers or embedded); the
Python applications run in the mode under test, several requests in a
row, so that a worker or process that serves them again is exercised.

With PYCGI_TEST_MODULE=cgi every test runs against stock mod_cgi: that
checks the tests themselves.  A test whose package is missing is
skipped, with the package named (tools/deps.sh installs them all).
"""

import io
import os
import pwd
import shutil
import socket
import subprocess
import tarfile
import tempfile
import time

import pytest

import httpd as httpd_lib
from appkit import HAVE_HG, chown_www, hgweb, proc as _proc, run as _run
from conftest import TEST_MODULE

GIT_BACKEND = "/usr/lib/git-core/git-http-backend"
GITWEB = "/usr/share/gitweb/gitweb.cgi"
CGIT = "/usr/lib/cgit/cgit.cgi"
FOSSIL = "/usr/bin/fossil"
MFS_CGI = "/usr/share/moosefs-cgi/mfs.cgi"


def need(path, package):
    return pytest.mark.skipif(not os.path.exists(path),
                              reason="Debian's %s is not installed" % package)


class Apps:
    """The applications' data (repositories, configuration files) and the
    configuration that serves them, under one directory readable by
    www-data; writable where the application writes (pushes, Fossil's
    database)."""

    def __init__(self, site):
        self.site = site
        self.root = site.make_dir("apps")
        self.conf = []
        self.content = "line one\nline two\n"
        if os.path.exists(GIT_BACKEND):
            self._git()
        if os.path.exists(GITWEB):
            self._gitweb()
        if os.path.exists(CGIT):
            self._cgit()
        if os.path.exists(FOSSIL):
            self._fossil()
        if os.path.exists(MFS_CGI):
            self._mfs()
        if HAVE_HG:
            self._hgweb()

    def path(self, *rel):
        return os.path.join(self.root, *rel)

    def _cgi_dir(self, d, extra=""):
        """Serve directory d's .cgi files as CGI scripts, in the mode of
        the run (@HANDLER@, @MODE@: see httpd.Server.expand)."""
        lines = ["Options +ExecCGI", "AddHandler @HANDLER@ .cgi"]
        lines += [extra] if extra else []
        self.conf.append('<Directory "%s">\n    %s\n    @MODE@\n</Directory>'
                         % (d, "\n    ".join(lines)))

    def git_head(self):
        """The commit the test repository's main branch is at (every
        git test pushes one more)."""
        return _run(["git", "--git-dir", self.path("git", "p.git"),
                     "rev-parse", "main"]).strip()

    def _git(self):
        # A bare repository with one commit, pushable over HTTP.
        top = self.path("git")
        os.mkdir(top)
        bare = os.path.join(top, "p.git")
        _run(["git", "init", "-q", "--bare", "-b", "main", bare])
        _run(["git", "config", "http.receivepack", "true"], cwd=bare)
        work = tempfile.mkdtemp(prefix="pycgi-git-")
        try:
            _run(["git", "init", "-q", "-b", "main", work])
            with open(os.path.join(work, "f.txt"), "w") as f:
                f.write(self.content)
            _run(["git", "add", "f.txt"], cwd=work)
            _run(["git", "commit", "-q", "-m", "first commit"], cwd=work)
            _run(["git", "push", "-q", bare, "main"], cwd=work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        with open(os.path.join(bare, "description"), "w") as f:
            f.write("pycgi test project\n")
        chown_www(top)
        # git-http-backend(1)'s own example, for mod_cgi (its SetEnvIf
        # for Git-Protocol aside: the backend reads HTTP_GIT_PROTOCOL
        # itself since git 2.x, and mod_setenvif's regexes are reported
        # as leaked by LeakSanitizer at httpd's exit).
        self.conf.append("""\
<Location /git/>
    SetEnv GIT_PROJECT_ROOT {top}
    SetEnv GIT_HTTP_EXPORT_ALL 1
</Location>
ScriptAlias /git/ {backend}/
<Directory /usr/lib/git-core>
    Require all granted
    @MODE@
</Directory>""".format(top=top, backend=GIT_BACKEND))

    def _gitweb(self):
        d = self.site.make_dir("htdocs/gitweb")
        shutil.copy(GITWEB, os.path.join(d, "gitweb.cgi"))
        conf = self.path("gitweb.conf")
        with open(conf, "w") as f:
            f.write('$projectroot = "%s";\n' % self.path("git"))
            f.write('$feature{"snapshot"}{"default"} = ["tgz"];\n')
        self._cgi_dir(d, "SetEnv GITWEB_CONFIG %s" % conf)

    def _cgit(self):
        rc = self.path("cgitrc")
        with open(rc, "w") as f:
            f.write("cache-size=0\nenable-http-clone=1\n"
                    "snapshots=tar.gz\nvirtual-root=/cgit/\n"
                    "repo.url=p.git\nrepo.path=%s\n"
                    "repo.desc=pycgi test project\n" % self.path("git",
                                                                "p.git"))
        self.conf.append("""\
<Location /cgit/>
    SetEnv CGIT_CONFIG {rc}
</Location>
ScriptAlias /cgit/ {cgit}/
<Directory /usr/lib/cgit>
    Require all granted
    @MODE@
</Directory>""".format(rc=rc, cgit=CGIT))

    def _fossil(self):
        top = self.path("fossil")
        os.mkdir(top)
        repo = os.path.join(top, "f.fossil")
        _run([FOSSIL, "init", repo])
        # Anonymous visitors may read and clone, as on a public server.
        _run([FOSSIL, "user", "capabilities", "nobody", "gjorz", "-R", repo])
        chown_www(top)
        d = self.site.make_dir("htdocs/fossil")
        with open(os.path.join(d, "repo.cgi"), "w") as f:
            f.write("#!%s\nrepository: %s\n" % (FOSSIL, repo))
        os.chmod(os.path.join(d, "repo.cgi"), 0o755)
        self._cgi_dir(d)

    def _mfs(self):
        # The package's directory as a whole (chart.cgi opens err.gif
        # from its working directory).
        d = self.site.path("htdocs/mfs")
        shutil.copytree(os.path.dirname(MFS_CGI), d)
        self._cgi_dir(d)

    def _hgweb(self):
        d = self.site.make_dir("htdocs/hg")
        hgweb(self.path("hg"), d, self.content)
        self._cgi_dir(d)


@pytest.fixture(scope="module")
def apps(site):
    return Apps(site)


@pytest.fixture(scope="module")
def srv(httpd_module, mpm, mode, apps):
    return httpd_module(mpm=mpm, module=TEST_MODULE, mode=mode,
                        extra_conf="\n".join(apps.conf))


def url(server, path):
    return "http://127.0.0.1:%d%s" % (server.port, path)


def ok(resp, what=""):
    assert resp.status == 200, (what, resp.status, resp.text[-1500:])
    return resp


# -- git smart HTTP -----------------------------------------------------------

@need(GIT_BACKEND, "git")
@pytest.mark.parametrize("protocol", ["0", "2"])
def test_git_http_backend_clone_push_pull(srv, apps, protocol):
    """Clone twice, push a commit with a 3 MB file (git sends a pack
    larger than its 1 MiB http.postBuffer as a chunked request body),
    pull it into the other clone: every byte through the CGI's stdin and
    stdout.  Protocol v0 and v2 (the request's Git-Protocol header,
    which the backend reads as HTTP_GIT_PROTOCOL)."""
    work = tempfile.mkdtemp(prefix="pycgi-gitc-")
    env = {"GIT_PROTOCOL_FROM_USER": "1"}
    cfg = ["-c", "protocol.version=" + protocol]
    try:
        a, b = os.path.join(work, "a"), os.path.join(work, "b")
        remote = url(srv, "/git/p.git")
        _run(["git"] + cfg + ["clone", "-q", remote, a], env=env)
        _run(["git"] + cfg + ["clone", "-q", remote, b], env=env)
        with open(os.path.join(a, "f.txt")) as f:
            assert f.read() == apps.content
        blob = os.urandom(3 << 20)
        with open(os.path.join(a, "big.bin"), "wb") as f:
            f.write(blob)
        _run(["git", "add", "big.bin"], cwd=a)
        _run(["git", "commit", "-q", "-m", "big " + protocol], cwd=a)
        _run(["git"] + cfg + ["push", "-q", "origin", "main"], cwd=a,
             env=env)
        _run(["git"] + cfg + ["pull", "-q", "--ff-only"], cwd=b, env=env)
        with open(os.path.join(b, "big.bin"), "rb") as f:
            assert f.read() == blob
        proc = _proc(["git"] + cfg + ["ls-remote", remote],
                     env=dict(env, GIT_TRACE_PACKET="1"))
        head_a = _run(["git", "rev-parse", "HEAD"], cwd=a).strip()
        assert head_a + "\trefs/heads/main" in proc.stdout, proc.stdout
        # The server answered in the protocol asked for (the request's
        # Git-Protocol header reached the backend as HTTP_GIT_PROTOCOL).
        v2 = "git< version 2" in proc.stderr
        assert v2 == (protocol == "2"), proc.stderr[-2000:]
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- gitweb (Perl) ------------------------------------------------------------

@need(GITWEB, "gitweb")
def test_gitweb_pages_blob_and_snapshot(srv, apps):
    """The project list, a project's summary and log, a raw file, and a
    snapshot download (binary output, a gzipped tar)."""
    text = ok(srv.get("/gitweb/gitweb.cgi"), "projects").text
    assert "p.git" in text and "pycgi test project" in text, text[-1500:]
    text = ok(srv.get("/gitweb/gitweb.cgi?p=p.git;a=summary")).text
    assert apps.git_head() in text, text[-1500:]
    ok(srv.get("/gitweb/gitweb.cgi?p=p.git;a=log"))
    resp = ok(srv.get("/gitweb/gitweb.cgi?p=p.git;a=blob_plain;f=f.txt;"
                      "hb=HEAD"))
    assert resp.text == apps.content
    resp = ok(srv.get("/gitweb/gitweb.cgi?p=p.git;a=snapshot;h=HEAD;"
                      "sf=tgz"))
    with tarfile.open(fileobj=io.BytesIO(resp.body), mode="r:gz") as t:
        names = [m.name for m in t.getmembers()]
        f = t.extractfile([m for m in t.getmembers()
                           if m.name.endswith("/f.txt")][0])
        assert f.read().decode() == apps.content, names
    resp = srv.get("/gitweb/gitweb.cgi?p=nosuch.git;a=summary")
    assert resp.status == 404, resp.status


# -- cgit (C) -----------------------------------------------------------------

@need(CGIT, "cgit")
def test_cgit_pages_and_dumb_http_clone(srv, apps):
    """cgit's index, tree and raw file, and a clone over git's dumb HTTP
    protocol, which cgit serves (enable-http-clone)."""
    text = ok(srv.get("/cgit/"), "index").text
    assert "pycgi test project" in text, text[-1500:]
    ok(srv.get("/cgit/p.git/tree/"))
    text = ok(srv.get("/cgit/p.git/log/")).text
    assert apps.git_head() in text, text[-1500:]
    assert ok(srv.get("/cgit/p.git/plain/f.txt")).text == apps.content
    assert srv.get("/cgit/nosuch.git/").status == 404
    work = tempfile.mkdtemp(prefix="pycgi-cgit-")
    try:
        _run(["git", "clone", "-q", url(srv, "/cgit/p.git"),
              os.path.join(work, "c")])
        with open(os.path.join(work, "c", "f.txt")) as f:
            assert f.read() == apps.content
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- Fossil (a binary behind a two-line CGI file) -----------------------------

@need(FOSSIL, "fossil")
def test_fossil_pages_and_clone(srv):
    """Fossil's CGI file is a script whose interpreter is the fossil
    binary: its timeline, and `fossil clone` over HTTP (POSTs of
    Fossil's own binary sync protocol)."""
    text = ok(srv.get("/fossil/repo.cgi/timeline")).text
    assert "initial empty check-in" in text, text[-1500:]
    work = tempfile.mkdtemp(prefix="pycgi-fossil-")
    try:
        out = _run([FOSSIL, "clone", url(srv, "/fossil/repo.cgi"),
                    os.path.join(work, "c.fossil")], cwd=work)
        assert "Rebuilding repository meta-data" in out or \
            "project-id" in out, out
        assert os.path.getsize(os.path.join(work, "c.fossil")) > 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


# -- MooseFS's mfs.cgi (Python) -----------------------------------------------

MFSMASTER = "/usr/sbin/mfsmaster"


@pytest.fixture(scope="module")
def mfsmaster():
    """A MooseFS master of its own, empty, on free loopback ports, for
    mfs.cgi to monitor; its port for clients."""
    if not os.path.exists(MFSMASTER):
        pytest.skip("Debian's moosefs-master is not installed")
    top = tempfile.mkdtemp(prefix="pycgi-mfs-")
    ports = [httpd_lib.free_port() for _ in range(3)]
    with open(os.path.join(top, "metadata.mfs"), "w") as f:
        f.write("MFSM NEW")        # a new, empty file system
    with open(os.path.join(top, "mfsexports.cfg"), "w") as f:
        f.write("* / rw\n")
    open(os.path.join(top, "mfstopology.cfg"), "w").close()
    cfg = os.path.join(top, "mfsmaster.cfg")
    with open(cfg, "w") as f:
        f.write("WORKING_USER = nobody\nWORKING_GROUP = nogroup\n"
                "DATA_PATH = {t}\nEXPORTS_FILENAME = {t}/mfsexports.cfg\n"
                "TOPOLOGY_FILENAME = {t}/mfstopology.cfg\n"
                "SYSLOG_IDENT = pycgi-test-mfsmaster\n".format(t=top))
        for name, port in zip(("MATOML", "MATOCS", "MATOCL"), ports):
            f.write("%s_LISTEN_HOST = 127.0.0.1\n%s_LISTEN_PORT = %d\n"
                    % (name, name, port))
    nobody = pwd.getpwnam("nobody")
    for name in [""] + os.listdir(top):
        os.chown(os.path.join(top, name), nobody.pw_uid, nobody.pw_gid)
    log = open(os.path.join(top, "master.log"), "w")
    proc = subprocess.Popen([MFSMASTER, "-c", cfg, "-d", "start"],
                            stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    try:
        deadline = time.time() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", ports[2]), 1).close()
                break
            except OSError:
                assert proc.poll() is None and time.time() < deadline, \
                    open(os.path.join(top, "master.log")).read()
                time.sleep(0.1)
        yield ports[2]
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(top, ignore_errors=True)


@need(MFS_CGI, "moosefs-cgi")
def test_moosefs_mfs_cgi_monitors_a_master(srv, mfsmaster):
    """MooseFS's monitor, 7,900 lines of Python CGI (cgi.FieldStorage,
    sockets to the master, struct), watching a real master: its pages,
    several requests in a row (a daemon worker or embedded process serves
    it again), and a chart from chart.cgi (a header print()ed and
    flushed, then a GIF or PNG through sys.stdout.buffer)."""
    master = "masterhost=127.0.0.1&masterport=%d" % mfsmaster
    for sections in ("", "IN", "IN|CS|HD|EX|MS|MO", "MC", "IN"):
        resp = ok(srv.get("/mfs/mfs.cgi?%s&sections=%s" % (master, sections)),
                  sections)
        assert resp.header("Content-Type").startswith("text/html"), \
            resp.headers
        text = resp.text
        assert text.rstrip().endswith("</html>"), text[-500:]
        if sections in ("", "IN"):
            assert "Metadata Servers (masters)" in text, text[-3000:]
            assert "127.0.0.1" in text and "all fs objects" in text, \
                text[-3000:]
    with open(os.path.join(os.path.dirname(MFS_CGI), "err.gif"), "rb") as f:
        err_gif = f.read()
    resp = ok(srv.get("/mfs/chart.cgi?host=127.0.0.1&port=%d&id=0"
                      % mfsmaster))
    assert resp.header("Content-Type") in ("image/png", "image/gif"), \
        resp.headers
    assert resp.body[:4] in (b"\x89PNG", b"GIF8"), resp.body[:40]
    assert resp.body != err_gif, "chart.cgi could not get the chart"
    # No master at all: its own error page, and its error image.
    text = ok(srv.get("/mfs/mfs.cgi")).text
    assert "Can't find masters" in text, text[-3000:]
    resp = ok(srv.get("/mfs/chart.cgi?host=127.0.0.1&port=1&id=0"))
    assert resp.body == err_gif, resp.body[:200]


# -- Mercurial's hgweb.cgi (Python) -------------------------------------------

@pytest.mark.skipif(not HAVE_HG, reason="Debian's mercurial is not installed")
def test_mercurial_hgweb_clone_push_pull(srv, apps):
    """hgweb's pages, clone, push and pull, several requests in a row
    (Mercurial keeps sys.stdout.buffer from its first import)."""
    for path in ("", "/log", "/file/tip/f.txt", "/graph",
                 "/raw-file/tip/f.txt"):
        ok(srv.get("/hg/hgweb.cgi" + path), path)
    assert srv.get("/hg/hgweb.cgi/raw-file/tip/f.txt").text == apps.content
    work = tempfile.mkdtemp(prefix="pycgi-hg-")
    remote = url(srv, "/hg/hgweb.cgi")
    try:
        a, b = os.path.join(work, "a"), os.path.join(work, "b")
        _run(["hg", "clone", "-q", remote, a])
        _run(["hg", "clone", "-q", remote, b])
        blob = os.urandom(1 << 20)
        with open(os.path.join(a, "big.bin"), "wb") as f:
            f.write(blob)
        _run(["hg", "commit", "-q", "-A", "-m", "big"], cwd=a)
        _run(["hg", "push", "-q", remote], cwd=a)
        _run(["hg", "pull", "-q", "-u", remote], cwd=b)
        with open(os.path.join(b, "big.bin"), "rb") as f:
            assert f.read() == blob
    finally:
        shutil.rmtree(work, ignore_errors=True)
