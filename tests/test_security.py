"""Embedded mode never weakens the server's security boundaries.

Each boundary httpd draws around a CGI script, through real apache2
under prefork and event:

  suexec              SuexecUserGroup virtual hosts and ~user URLs
                      (mod_userdir), with PyCGIDaemonUserPools 0: `auto`
                      runs the script exec, through suexec, as its owner
                      (user pools: test_suexec_pools.py); `PyCGIMode embedded` -- in the
                      configuration or in the user's own .htaccess -- is
                      refused with 500 and PYCGI0601.
  PyCGIAllowEmbedded  Off: every script runs exec, whatever PyCGIMode
                      says in a directory or .htaccess; Off everywhere
                      starts no interpreter at all.
  .htaccess           PyCGIMode there needs AllowOverride Options (or
                      All): with None the file is not read, with
                      FileInfo it is an error (500).
  PyCGIEmbedOwners    only the listed owners' scripts run embedded.
  shared state        the documented model, asserted as documented: one
                      interpreter per child, so state left in a library
                      module crosses virtual hosts; a script's own
                      modules (next to it) never do.
  source              neither a script's source nor its traceback reaches
                      the client, unless the script shows it itself
                      (cgitb).

Which runner served a script is told by the script (/proc/self/exe is the
httpd binary, and its pid an httpd child, when it runs embedded) and by
the PYCGI0603 debug line.

Needs root (useradd, chown, apache2) and Debian's apache2-suexec-pristine
(tools/deps.sh): /usr/lib/apache2/suexec with docroot /var/www and userdir
suffix public_html.  The suexec tests create the user `pycgitest` once
and leave it; their files (/var/www/pycgi-test-*, and a directory of the
same name in ~pycgitest/public_html) are removed afterwards.
"""

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import uuid

import pytest

import httpd as httpd_lib
from conftest import MODES, TEST_MODULE

pycgi_only = pytest.mark.skipif(
    TEST_MODULE != "pycgi", reason="mod_pycgi's own directives")
needs_embedded = pytest.mark.skipif(
    "embedded" not in MODES,
    reason="embedded runner not enabled in PYCGI_MODES")

HTTPD_EXE = "/usr/sbin/apache2"
SUEXEC = "/usr/lib/apache2/suexec"
MODDIR = httpd_lib.MODDIR
TEST_USER = "pycgitest"
DEBUG = "info pycgi:debug"

# Who runs this script: exe is the httpd binary for the embedded
# runner; euid is the one suexec switched to.
WHO = """\
#!/usr/bin/python3
import os
print("Content-Type: text/plain")
print()
print("exe=%s" % os.readlink("/proc/self/exe"))
print("pid=%d" % os.getpid())
print("ppid=%d" % os.getppid())
print("euid=%d" % os.geteuid())
"""

# The default name-based host of a server with <VirtualHost> blocks:
# requests for 127.0.0.1 keep reaching the main server's configuration.
DEFAULT_VHOST = """\
<VirtualHost 127.0.0.1:@PORT@>
    ServerName 127.0.0.1
</VirtualHost>
"""


def who(resp):
    assert resp.status == 200, (resp.status, resp.body[:500])
    kv = dict(l.split("=", 1) for l in resp.text.splitlines() if "=" in l)
    kv["runner"] = ("embedded" if kv["exe"] == HTTPD_EXE else
                    "daemon" if kv["exe"].endswith("/pycgi-worker") else
                    "exec")
    return kv


def get(server, path, host=None):
    headers = [("Host", host)] if host else None
    return server.get(path, headers=headers)


def children(server, comm=None):
    """Pids of the httpd parent's direct children: its worker processes
    and mod_pycgi's daemon supervisor (only those named `comm`, if
    given)."""
    parent = server.proc.pid
    kids = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        if int(fields[1]) == parent and comm in (None, name):
            kids.add(int(entry))
    return kids


def assert_runner(server, kv, runner):
    """The script's own evidence agrees with `runner`: embedded scripts
    are an httpd child, exec scripts are a child of one."""
    assert kv["runner"] == runner, kv
    kids = children(server)
    if runner == "embedded":
        assert int(kv["pid"]) in kids, (kv, kids)
    elif runner == "daemon":
        # A worker: a child of the supervisor, not of an httpd child.
        sup = children(server, "pycgi-supervise")
        assert int(kv["pid"]) not in kids and int(kv["ppid"]) in sup, \
            (kv, kids, sup)
    else:
        assert re.fullmatch(r"/usr/bin/python3(\.\d+)?", kv["exe"]), kv
        assert int(kv["ppid"]) in kids, (kv, kids)


def decision(server, mark, path, runner, why=""):
    """The PYCGI0603 line for `path` says `runner` and starts its reason
    with `why`."""
    pattern = r"PYCGI0603: %s runs %s \(%s" % (re.escape(path), runner,
                                                re.escape(why))
    log = server.wait_log(mark, pattern)
    assert re.search(pattern, log), log


def write(path, text, mode=0o755, owner=None):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    if owner is not None:
        os.chown(path, owner.pw_uid, owner.pw_gid)
    return path


def make_dir(path, owner=None):
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o755)
    if owner is not None:
        os.chown(path, owner.pw_uid, owner.pw_gid)
    return path


# == suexec ===================================================================

def _suexec_settings():
    """suexec -V as a dict, or pytest.fail with what is missing."""
    if not os.path.exists(SUEXEC):
        pytest.fail("%s is missing: install apache2-suexec-pristine "
                    "(make deps)" % SUEXEC, pytrace=False)
    proc = subprocess.run([SUEXEC, "-V"], capture_output=True, text=True,
                          timeout=30)
    out = proc.stdout + proc.stderr
    settings = dict(re.findall(r'-D (\w+)="?([^"\n]*)"?', out))
    if settings.get("AP_DOC_ROOT") != "/var/www" or \
            settings.get("AP_USERDIR_SUFFIX") != "public_html":
        pytest.fail("%s is not Debian's pristine suexec (docroot /var/www, "
                    "userdir public_html): %s" % (SUEXEC, out),
                    pytrace=False)
    return settings


def _ensure_user(name):
    """The suexec target user: a normal account (uid >= 1000, above
    suexec's AP_UID_MIN) with a home that www-data can traverse."""
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    proc = subprocess.run(
        ["useradd", "--create-home", "--user-group",
         "--shell", "/usr/sbin/nologin", "--comment", "mod_pycgi tests",
         name], capture_output=True, text=True, timeout=60)
    try:
        # Another test run may have created it in between.
        return pwd.getpwnam(name)
    except KeyError:
        pytest.fail("useradd %s failed: %s" % (name, proc.stderr),
                    pytrace=False)


class SuexecTree:
    """A docroot under /var/www and a ~user directory, both owned by the
    test user, each with auto/, exec/, embedded/ and htaccess/ holding
    who.py.  suexec insists on all of this: target uid/gid >= 100, the
    script and its directory owned by the target user and writable by
    no one else, the directory under its docroot (or ~user/public_html
    for ~user URLs)."""

    SUBDIRS = ("auto", "exec", "embedded", "htaccess")

    def __init__(self):
        if os.geteuid() != 0:
            pytest.skip("the suexec tests need root (useradd, chown)")
        self.settings = _suexec_settings()
        self.user = _ensure_user(TEST_USER)
        os.chmod(self.user.pw_dir, 0o755)
        self.www = tempfile.mkdtemp(prefix="pycgi-test-", dir="/var/www")
        self.name = os.path.basename(self.www)
        self.pub_html = os.path.join(self.user.pw_dir, "public_html")
        self.made_pub_html = not os.path.isdir(self.pub_html)
        make_dir(self.pub_html, self.user)
        self.pub = make_dir(os.path.join(self.pub_html, self.name), self.user)
        make_dir(self.www, self.user)
        for top in (self.www, self.pub):
            for sub in self.SUBDIRS:
                d = make_dir(os.path.join(top, sub), self.user)
                write(os.path.join(d, "who.py"), WHO, owner=self.user)
            # The user's own .htaccess asks for embedded execution.
            write(os.path.join(top, "htaccess", ".htaccess"),
                  "PyCGIMode embedded\n", mode=0o644, owner=self.user)

    def url(self, where, sub):
        """(path, Host) of who.py in `sub` of the vhost or ~user tree."""
        if where == "vhost":
            return "/%s/who.py" % sub, "suexec.test"
        return "/~%s/%s/%s/who.py" % (TEST_USER, self.name, sub), None

    def file(self, where, sub):
        return os.path.join(self.www if where == "vhost" else self.pub, sub,
                            "who.py")

    def conf(self):
        dirs = []
        for top in (self.www, self.pub):
            dirs.append("""\
<Directory "%(top)s">
    AllowOverride None
    Require all granted
    Options +ExecCGI
    AddHandler pycgi-script .py
</Directory>
<Directory "%(top)s/auto">
    PyCGIMode auto
</Directory>
<Directory "%(top)s/exec">
    PyCGIMode exec
</Directory>
<Directory "%(top)s/embedded">
    PyCGIMode embedded
</Directory>
<Directory "%(top)s/htaccess">
    AllowOverride Options
    PyCGIMode auto
</Directory>""" % {"top": top})
        return """\
LoadModule suexec_module %(moddir)s/mod_suexec.so
LoadModule userdir_module %(moddir)s/mod_userdir.so
UserDir public_html
UserDir disabled root
# Without user pools, as before them: test_suexec_pools.py has those.
PyCGIDaemonUserPools 0
%(dirs)s
<VirtualHost 127.0.0.1:@PORT@>
    ServerName 127.0.0.1
    # The same files without suexec: the control case.
    Alias /no-suexec "%(www)s"
</VirtualHost>
<VirtualHost 127.0.0.1:@PORT@>
    ServerName suexec.test
    DocumentRoot "%(www)s"
    SuexecUserGroup %(user)s %(user)s
</VirtualHost>
""" % {"moddir": MODDIR, "dirs": "\n".join(dirs), "www": self.www,
       "user": TEST_USER}

    def remove(self):
        shutil.rmtree(self.www, ignore_errors=True)
        shutil.rmtree(self.pub, ignore_errors=True)
        if self.made_pub_html:
            try:
                os.rmdir(self.pub_html)
            except OSError:
                pass


@pytest.fixture(scope="module")
def suexec_tree():
    if TEST_MODULE != "pycgi":
        pytest.skip("mod_pycgi's own directives")
    tree = SuexecTree()
    yield tree
    if not os.environ.get("PYCGI_KEEP_TMP"):
        tree.remove()


@pytest.fixture(scope="module")
def suexec_srv(httpd_module, suexec_tree, mpm):
    server = httpd_module(mpm=mpm, mode="auto", loglevel=DEBUG,
                          extra_conf=suexec_tree.conf(), tag="suexec")
    assert "AH01232: suEXEC mechanism enabled" in server.error_log(), \
        "httpd did not enable suexec (is the parent root? see the log)"
    return server


WHERE = ["vhost", "userdir"]


@pycgi_only
@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("sub", ["auto", "exec"])
def test_suexec_script_runs_exec_as_its_owner(suexec_srv, suexec_tree,
                                              where, sub):
    path, host = suexec_tree.url(where, sub)
    mark = suexec_srv.log_mark()
    kv = who(get(suexec_srv, path, host))
    assert_runner(suexec_srv, kv, "exec")
    assert int(kv["euid"]) == suexec_tree.user.pw_uid, kv
    decision(suexec_srv, mark, suexec_tree.file(where, sub), "exec",
             "suexec applies" if sub == "auto" else "PyCGIMode exec")


@pycgi_only
@pytest.mark.parametrize("where", WHERE)
@pytest.mark.parametrize("sub", ["embedded", "htaccess"])
def test_suexec_embedded_is_refused(suexec_srv, suexec_tree, where, sub):
    """PyCGIMode embedded, from the configuration or from the user's own
    .htaccess, cannot get a suexec user's script into the httpd child:
    500, never a quiet run as www-data."""
    path, host = suexec_tree.url(where, sub)
    mark = suexec_srv.log_mark()
    resp = get(suexec_srv, path, host)
    assert resp.status == 500, resp.body[:500]
    assert b"euid=" not in resp.body
    fs = suexec_tree.file(where, sub)
    pattern = (r"PYCGI0601: PyCGIMode embedded refused: suexec applies to "
               r"this request: " + re.escape(fs))
    log = suexec_srv.wait_log(mark, pattern)
    assert re.search(pattern, log), log
    assert not re.search(r"PYCGI0603: %s runs embedded" % re.escape(fs), log)


@pycgi_only
@needs_embedded
def test_without_suexec_the_same_script_runs_in_a_worker(suexec_srv,
                                                         suexec_tree):
    """Control: the very file of the suexec vhost, reached through a host
    without SuexecUserGroup, goes to a daemon worker under auto -- so the
    exec above is suexec's doing."""
    mark = suexec_srv.log_mark()
    kv = who(get(suexec_srv, "/no-suexec/auto/who.py"))
    assert_runner(suexec_srv, kv, "daemon")
    assert int(kv["euid"]) == pwd.getpwnam("www-data").pw_uid
    decision(suexec_srv, mark, suexec_tree.file("vhost", "auto"), "daemon",
             "#! /usr/bin/python3")


# == PyCGIAllowEmbedded, .htaccess and PyCGIEmbedOwners =======================

# Directories under <site>/sec: name -> (directives, .htaccess text).
POLICY_DIRS = {
    "emb": ("PyCGIMode embedded", None),
    # .htaccess asks for embedded in an exec directory.
    "emb/ht": ("AllowOverride Options\n    PyCGIMode exec",
               "PyCGIMode embedded\n"),
    # Not read at all: the line after PyCGIMode would be a syntax error.
    "ht_none": ("AllowOverride None\n    PyCGIMode exec",
                "PyCGIMode embedded\nNoSuchDirective at all\n"),
    "ht_fileinfo": ("AllowOverride FileInfo\n    PyCGIMode exec",
                    "PyCGIMode embedded\n"),
    "ht_options": ("AllowOverride Options\n    PyCGIMode exec",
                   "PyCGIMode embedded\n"),
    "ht_all": ("AllowOverride All\n    PyCGIMode exec",
               "PyCGIMode embedded\n"),
    # Options=list limits what .htaccess may do with Options.
    "ht_opt_execcgi": ("AllowOverride Options=ExecCGI\n    PyCGIMode exec",
                       "PyCGIMode embedded\n"),
    "ht_opt_indexes": ("AllowOverride Options=Indexes\n    PyCGIMode exec",
                       "PyCGIMode embedded\n"),
    # The administrator names the directive itself.
    "ht_list": ("AllowOverride None\n    AllowOverrideList PyCGIMode\n"
                "    PyCGIMode exec", "PyCGIMode embedded\n"),
    "own_root": ("PyCGIMode embedded", None),
    "own_nobody": ("PyCGIMode embedded", None),
}

POLICY_CONF = """\
PyCGIEmbedOwners root
%(dirs)s
%(default)s
<VirtualHost 127.0.0.1:@PORT@>
    ServerName noembed.test
    DocumentRoot "@SITE@/sec"
    PyCGIAllowEmbedded Off
</VirtualHost>
<VirtualHost 127.0.0.1:@PORT@>
    ServerName owners.test
    DocumentRoot "@SITE@/sec"
    PyCGIEmbedOwners nobody
</VirtualHost>
"""


@pytest.fixture(scope="module")
def policy_site(site):
    nobody = pwd.getpwnam("nobody")
    make_dir(site.path("sec"))
    for name, (_, htaccess) in POLICY_DIRS.items():
        d = make_dir(site.path("sec/" + name))
        write(os.path.join(d, "who.py"), WHO,
              owner=nobody if name == "own_nobody" else None)
        if htaccess:
            write(os.path.join(d, ".htaccess"), htaccess, mode=0o644)
    return site


@pytest.fixture(scope="module")
def policy_srv(httpd_module, policy_site, mpm):
    dirs = ['<Directory "@SITE@/sec">\n    Require all granted\n'
            '    Options +ExecCGI\n    AddHandler pycgi-script .py\n'
            '</Directory>']
    for name, (directives, _) in POLICY_DIRS.items():
        dirs.append('<Directory "@SITE@/sec/%s">\n    %s\n</Directory>'
                    % (name, directives))
    conf = POLICY_CONF % {"dirs": "\n".join(dirs),
                          "default": DEFAULT_VHOST.replace(
                              "</VirtualHost>",
                              '    DocumentRoot "@SITE@/sec"\n'
                              "</VirtualHost>")}
    return httpd_module(mpm=mpm, mode="exec", site=policy_site,
                        loglevel=DEBUG, extra_conf=conf, tag="policy")


def _sec(server, name):
    return server.site.path("sec/%s/who.py" % name)


@pycgi_only
@needs_embedded
@pytest.mark.parametrize("name", ["emb", "emb/ht"])
def test_allow_embedded_off_runs_everything_exec(policy_srv, name):
    """PyCGIMode embedded in the directory (emb) or in .htaccess (emb/ht)
    is overridden by the vhost's PyCGIAllowEmbedded Off; the same files
    through the default host run embedded."""
    url = "/%s/who.py" % name
    mark = policy_srv.log_mark()
    first = who(get(policy_srv, url, "noembed.test"))
    second = who(get(policy_srv, url, "noembed.test"))
    for kv in (first, second):
        assert_runner(policy_srv, kv, "exec")
    # A process per request.
    assert first["pid"] != second["pid"]
    decision(policy_srv, mark, _sec(policy_srv, name), "exec",
             "PyCGIAllowEmbedded Off")
    assert_runner(policy_srv, who(get(policy_srv, url)), "embedded")


@pycgi_only
@pytest.mark.parametrize("allow", ["On", "Off"])
def test_allow_embedded_off_everywhere_starts_no_interpreter(
        httpd, policy_site, mpm, allow):
    """With Off in every server the children never start Python: even
    PyCGIPreload is not attempted (the control, On, logs its failure)."""
    missing = "pycgi_no_such_module_%s" % uuid.uuid4().hex[:8]
    server = httpd(mpm=mpm, mode="embedded", site=policy_site,
                   loglevel=DEBUG, extra_conf=(
                       "PyCGIAllowEmbedded %s\nPyCGIPreload %s\n"
                       '<Directory "@SITE@/sec">\n    Require all granted\n'
                       "    Options +ExecCGI\n"
                       "    AddHandler pycgi-script .py\n"
                       "    PyCGIMode embedded\n</Directory>\n"
                       'Alias /sec "@SITE@/sec"\n') % (allow, missing))
    kv = who(get(server, "/sec/emb/who.py"))
    log = server.wait_log(0, r"PyCGIPreload %s failed" % missing)
    if allow == "On":
        assert_runner(server, kv, "embedded")
        assert re.search(r"PYCGI0501: PyCGIPreload %s failed" % missing,
                         log), log
    else:
        assert_runner(server, kv, "exec")
        assert missing not in log, log
        assert "PYCGI05" not in log, log


@pycgi_only
@needs_embedded
@pytest.mark.parametrize("name, expect", [
    ("ht_none", "exec"),        # AllowOverride None: file never read
    ("ht_options", "embedded"),
    ("ht_all", "embedded"),
    ("ht_opt_execcgi", "embedded"),
    ("ht_list", "embedded"),
])
def test_htaccess_pycgimode_needs_allowoverride_options(policy_srv, name,
                                                        expect):
    mark = policy_srv.log_mark()
    kv = who(get(policy_srv, "/%s/who.py" % name))
    assert_runner(policy_srv, kv, expect)
    decision(policy_srv, mark, _sec(policy_srv, name), expect,
             "PyCGIMode exec" if expect == "exec" else "")
    assert ".htaccess" not in policy_srv.log_since(mark)


@pycgi_only
def test_htaccess_pycgimode_needs_the_right_to_enable_execcgi(policy_srv):
    """docs/directives.md: "anyone who may enable ExecCGI in a directory
    may also choose embedded execution for it" -- and no one else.
    AllowOverride Options=Indexes lets .htaccess switch Indexes, not
    ExecCGI: its PyCGIMode embedded must not put the directory's scripts
    into the httpd process (refused with 500, or ignored)."""
    mark = policy_srv.log_mark()
    resp = get(policy_srv, "/ht_opt_indexes/who.py")
    if resp.status == 200:
        assert_runner(policy_srv, who(resp), "exec")
    else:
        assert resp.status == 500, resp.body[:500]
        log = policy_srv.wait_log(mark, r"PyCGIMode")
        assert re.search(r"\.htaccess: .*PyCGIMode", log), log


@pycgi_only
def test_htaccess_pycgimode_under_fileinfo_is_an_error(policy_srv):
    mark = policy_srv.log_mark()
    resp = get(policy_srv, "/ht_fileinfo/who.py")
    assert resp.status == 500
    assert b"exe=" not in resp.body
    log = policy_srv.wait_log(mark, r"PyCGIMode not allowed here")
    assert re.search(r"%s: PyCGIMode not allowed here" % re.escape(
        policy_srv.site.path("sec/ht_fileinfo/.htaccess")), log), log


@pycgi_only
@needs_embedded
@pytest.mark.parametrize("host, name, expect", [
    (None, "own_root", "embedded"),         # PyCGIEmbedOwners root
    (None, "own_nobody", "exec"),
    ("owners.test", "own_root", "exec"),    # PyCGIEmbedOwners nobody
    ("owners.test", "own_nobody", "embedded"),
])
def test_embed_owners(policy_srv, host, name, expect):
    mark = policy_srv.log_mark()
    kv = who(get(policy_srv, "/%s/who.py" % name, host))
    assert_runner(policy_srv, kv, expect)
    if expect == "exec":
        decision(policy_srv, mark, _sec(policy_srv, name), "exec",
                 "script owner not in PyCGIEmbedOwners")


@pycgi_only
def test_embed_owners_unknown_user_is_a_config_error(site):
    server = httpd_lib.Server(site, mpm="prefork", module="pycgi",
                              mode="exec", start=False, extra_conf=(
                                  "PyCGIEmbedOwners root "
                                  "pycgi-no-such-user\n"))
    try:
        rc, out = server.configtest()
    finally:
        server.cleanup()
    assert rc != 0, out
    assert "PyCGIEmbedOwners: unknown user 'pycgi-no-such-user'" in out, out


# == state shared by virtual hosts ============================================

# Two virtual hosts, each with an embedded and an exec directory holding
# the same script names and a helper module (and package) of its own.
STATE_HOSTS = ("a", "b")

MARK_SET = """\
#!/usr/bin/python3
import json, os, sys
print("Content-Type: text/plain")
print()
print("pid=%d" % os.getpid())
json._pycgi_marker = os.environ["QUERY_STRING"]
"""

MARK_GET = """\
#!/usr/bin/python3
import json, os
print("Content-Type: text/plain")
print()
print("pid=%d" % os.getpid())
print("marker=%s" % getattr(json, "_pycgi_marker", "<none>"))
"""

USE_HELPER = """\
#!/usr/bin/python3
import os
import pycgi_sec_helper
import pycgi_sec_pkg
pycgi_sec_helper.COUNT += 1
print("Content-Type: text/plain")
print()
print("pid=%d" % os.getpid())
print("helper=%s" % pycgi_sec_helper.WHERE)
print("count=%d" % pycgi_sec_helper.COUNT)
print("pkg=%s" % pycgi_sec_pkg.WHERE)
"""

# Imports a standard-library module that its own directory may shadow.
SHADOW = """\
#!/usr/bin/python3
import colorsys
print("Content-Type: text/plain")
print()
print("colorsys=%s" % getattr(colorsys, "WHERE", "stdlib"))
"""


def _single_child(mpm):
    """One worker process, so that two requests meet in one interpreter."""
    if mpm == "prefork":
        return ("StartServers 1\nMinSpareServers 1\nMaxSpareServers 1\n"
                "MaxRequestWorkers 1\n")
    return ("ServerLimit 1\nStartServers 1\nMaxRequestWorkers 16\n"
            "MinSpareThreads 1\nMaxSpareThreads 32\n")


@pytest.fixture(scope="module")
def state_site(site):
    for h in STATE_HOSTS:
        for runner in ("embedded", "exec"):
            d = make_dir(site.path("vh_%s/%s" % (h, runner)))
            write(os.path.join(d, "mark_set.py"), MARK_SET)
            write(os.path.join(d, "mark_get.py"), MARK_GET)
            write(os.path.join(d, "use_helper.py"), USE_HELPER)
            write(os.path.join(d, "shadow.py"), SHADOW)
            write(os.path.join(d, "pycgi_sec_helper.py"),
                  "WHERE = %r\nCOUNT = 0\n" % h, mode=0o644)
            pkg = make_dir(os.path.join(d, "pycgi_sec_pkg"))
            write(os.path.join(pkg, "__init__.py"), "WHERE = %r\n" % h,
                  mode=0o644)
    # Host a's directories shadow a standard-library module.
    for runner in ("embedded", "exec"):
        write(site.path("vh_a/%s/colorsys.py" % runner),
              "WHERE = 'a'\n", mode=0o644)
    return site


@pytest.fixture(scope="module")
def state_srv(httpd_module, state_site, mpm):
    conf = [_single_child(mpm), DEFAULT_VHOST]
    for h in STATE_HOSTS:
        conf.append('<VirtualHost 127.0.0.1:@PORT@>\n'
                    '    ServerName %s.test\n'
                    '    DocumentRoot "@SITE@/vh_%s"\n'
                    '</VirtualHost>' % (h, h))
        conf.append('<Directory "@SITE@/vh_%s">\n    Require all granted\n'
                    '    Options +ExecCGI\n    AddHandler pycgi-script .py\n'
                    '</Directory>' % h)
        for runner in ("embedded", "exec"):
            conf.append('<Directory "@SITE@/vh_%s/%s">\n    PyCGIMode %s\n'
                        '</Directory>' % (h, runner, runner))
    return httpd_module(mpm=mpm, mode="exec", site=state_site,
                        extra_conf="\n".join(conf), tag="state")


def _kv(resp):
    assert resp.status == 200, (resp.status, resp.body[:500])
    return dict(l.split("=", 1) for l in resp.text.splitlines() if "=" in l)


@pycgi_only
@pytest.mark.parametrize("runner", [
    pytest.param("embedded", marks=needs_embedded), "exec"])
def test_library_module_state_crosses_vhosts_only_embedded(state_srv,
                                                           runner):
    """The documented model (docs/directives.md, "The embedded
    interpreter"): one interpreter per child process, no separation by
    virtual host.  An attribute that host a's script sets on the json
    module is seen by host b's script in the same child.  That is the
    reason for PyCGIAllowEmbedded and PyCGIEmbedOwners.  Exec scripts
    share nothing."""
    nonce = uuid.uuid4().hex
    a = _kv(get(state_srv, "/%s/mark_set.py?%s" % (runner, nonce),
                "a.test"))
    b = _kv(get(state_srv, "/%s/mark_get.py" % runner, "b.test"))
    if runner == "embedded":
        assert a["pid"] == b["pid"], "not one child: the test proves nothing"
        assert b["marker"] == nonce
    else:
        assert b["marker"] == "<none>"


@pycgi_only
@pytest.mark.parametrize("runner", [
    pytest.param("embedded", marks=needs_embedded), "exec"])
@pytest.mark.parametrize("what", ["helper", "pkg"])
def test_sibling_modules_never_mix_between_vhosts(state_srv, runner, what):
    """docs/directives.md: modules imported from the script's own
    directory are forgotten after every request, "so that two
    directories' utils.py never mix" -- a module (helper) or a package
    (pkg) next to the script.  Alternating between the hosts, each gets
    its own, freshly imported (count=1)."""
    pids = set()
    for _ in range(3):
        for h in STATE_HOSTS:
            kv = _kv(get(state_srv, "/%s/use_helper.py" % runner,
                         "%s.test" % h))
            pids.add(kv["pid"])
            assert kv[what] == h, (h, kv)
            if what == "helper":
                assert kv["count"] == "1", (h, kv)
    if runner == "embedded":
        assert len(pids) == 1, "not one child: the test proves nothing"


@pycgi_only
@pytest.mark.parametrize("runner", [
    pytest.param("embedded", marks=needs_embedded), "exec"])
def test_shadowing_module_does_not_reach_other_vhost(state_srv, runner):
    """Host a's directory has a colorsys.py: host b's script importing
    colorsys after a's still gets the standard library's."""
    get(state_srv, "/%s/shadow.py" % runner, "a.test")
    for _ in range(2):
        kv = _kv(get(state_srv, "/%s/shadow.py" % runner, "b.test"))
        assert kv["colorsys"] == "stdlib", kv


# == source and tracebacks ====================================================

SECRET = "PYCGI-SOURCE-SECRET-%s" % uuid.uuid4().hex[:12]

# name -> script text; every one carries SECRET on a line of its own code.
SOURCE_SCRIPTS = {
    "secret.py": """\
#!/usr/bin/python3
# %(secret)s: this source must never reach a client
token = "%(secret)s-token"
print("Content-Type: text/plain")
print()
print("the page, not the source")
""",
    # SyntaxError on the line with the secret.
    "syntax.py": """\
#!/usr/bin/python3
print("Content-Type: text/plain")
print()
password = "%(secret)s" (
""",
    # Raises before any output: the traceback shows the secret line.
    "raise_early.py": """\
#!/usr/bin/python3
settings = {"user": "admin"}
password = settings["%(secret)s"]
print("Content-Type: text/plain")
print()
""",
    # Raises after the headers and part of the page.
    "raise_late.py": """\
#!/usr/bin/python3
import sys
print("Content-Type: text/plain")
print()
print("partial page")
sys.stdout.flush()
settings = {"user": "admin"}
password = settings["%(secret)s"]
""",
    # The tutorials' pattern: cgitb shows the traceback page on purpose.
    "cgitb_late.py": """\
#!/usr/bin/python3
import cgitb
cgitb.enable()
print("Content-Type: text/html")
print()
print("<p>partial page</p>")
settings = {"user": "admin"}
password = settings["%(secret)s"]
""",
}

SOURCE_CONF = """\
<Directory "@SITE@/src">
    Require all granted
</Directory>
<Directory "@SITE@/src/run">
    Options +ExecCGI
    AddHandler @HANDLER@ .py
    @MODE@
</Directory>
<Directory "@SITE@/src/noexec">
    Options -ExecCGI
    AddHandler @HANDLER@ .py
    @MODE@
</Directory>
<Directory "@SITE@/src/noexec-cgi-script">
    Options -ExecCGI
    AddHandler cgi-script .py
    @MODE@
</Directory>
Alias /src "@SITE@/src"
"""


def script_lines(name):
    text = SOURCE_SCRIPTS[name] % {"secret": SECRET}
    return [l.strip() for l in text.splitlines() if l.strip()]


@pytest.fixture(scope="module")
def source_site(site):
    for sub in ("run", "noexec", "noexec-cgi-script"):
        d = make_dir(site.path("src/" + sub))
        for name in SOURCE_SCRIPTS:
            write(os.path.join(d, name),
                  SOURCE_SCRIPTS[name] % {"secret": SECRET})
        # Not executable: mod_cgi fails it (500); so must every mode.
        write(os.path.join(d, "noperm.py"),
              SOURCE_SCRIPTS["secret.py"] % {"secret": SECRET}, mode=0o644)
    return site


@pytest.fixture(scope="module")
def source_srv(httpd_module, source_site, mpm, mode):
    return httpd_module(mpm=mpm, mode=mode, site=source_site,
                        extra_conf=SOURCE_CONF, tag="source")


def assert_no_source(resp, name):
    body = resp.body or resp.body_raw
    text = body.decode("utf-8", "replace")
    assert SECRET not in text, text[:2000]
    for line in script_lines(name):
        if line.startswith("#!"):
            continue
        assert line not in text, (line, text[:2000])
    assert "Traceback" not in text, text[:2000]
    assert "Error" not in text.replace("Internal Server Error", ""), \
        text[:2000]


@pytest.mark.parametrize("sub", [
    "noexec", pytest.param("noexec-cgi-script", marks=pycgi_only)])
@pytest.mark.parametrize("name", ["secret.py", "raise_early.py"])
def test_no_execcgi_is_403_without_source(source_srv, sub, name):
    resp = source_srv.get("/src/%s/%s" % (sub, name))
    assert resp.status == 403, resp.body[:500]
    assert_no_source(resp, name)


def test_not_executable_is_500_without_source(source_srv):
    resp = source_srv.get("/src/run/noperm.py")
    assert resp.status == 500, resp.body[:500]
    assert_no_source(resp, "secret.py")


@pytest.mark.parametrize("name, log_re", [
    ("syntax.py", r"SyntaxError"),
    ("raise_early.py", r"Traceback \(most recent call last\)"),
])
def test_failing_script_500_traceback_only_in_log(source_srv, name, log_re):
    mark = source_srv.log_mark()
    resp = source_srv.get("/src/run/" + name)
    assert resp.status == 500, resp.body[:500]
    assert_no_source(resp, name)
    log = source_srv.wait_log(mark, r"KeyError|SyntaxError: ")
    # The traceback, with the offending source line, is in the log.
    assert re.search(log_re, log), log
    assert re.search(r"File \"%s\", line \d+" % re.escape(
        source_srv.site.path("src/run/" + name)), log), log
    assert SECRET in log, log


def test_exception_after_headers_keeps_traceback_out_of_body(source_srv):
    mark = source_srv.log_mark()
    resp = source_srv.get("/src/run/raise_late.py")
    assert resp.status == 200
    assert resp.text == "partial page\n", resp.body[:2000]
    log = source_srv.wait_log(mark, r"KeyError")
    assert "Traceback (most recent call last)" in log, log
    assert SECRET in log, log


def test_cgitb_shows_traceback_page(source_srv):
    """cgitb.enable() is the script's own choice to show its traceback:
    the page reaches the client in every mode, as under mod_cgi."""
    resp = source_srv.get("/src/run/cgitb_late.py")
    assert resp.status == 200
    text = resp.text
    assert text.startswith("<p>partial page</p>\n"), text[:2000]
    # cgitb's HTML page: the exception and the failing source line.
    assert "KeyError" in text, text[:2000]
    assert SECRET in text, text[:2000]
    assert "settings[" in text, text[:2000]
