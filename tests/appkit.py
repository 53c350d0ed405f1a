"""Set-up shared by the tests that run real applications (test_apps.py,
and test_embedded.py's Mercurial test): the client tools they drive and
Mercurial's hgweb.cgi, laid out as its documentation lays it out for
mod_cgi."""

import os
import pwd
import shutil
import subprocess

HGWEB = "/usr/share/doc/mercurial-common/examples/hgweb.cgi"
HAVE_HG = os.path.exists(HGWEB) and shutil.which("hg") is not None


def proc(args, cwd=None, env=None, timeout=120):
    """Run a client tool (git, hg, fossil) that must succeed; the
    finished process, its stdout and stderr as text."""
    full = dict(os.environ, HOME="/tmp", LANG="C", HGPLAIN="1",
                HGUSER="test <t@t>", GIT_AUTHOR_NAME="test",
                GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="test",
                GIT_COMMITTER_EMAIL="t@t", GIT_CONFIG_NOSYSTEM="1",
                GIT_TERMINAL_PROMPT="0", USER="test")
    full.update(env or {})
    done = subprocess.run(args, cwd=cwd, env=full, capture_output=True,
                          text=True, timeout=timeout)
    assert done.returncode == 0, (args, done.stdout[-2000:],
                                  done.stderr[-2000:])
    return done


def run(args, cwd=None, env=None, timeout=120):
    return proc(args, cwd, env, timeout).stdout


def chown_www(top):
    www = pwd.getpwnam("www-data")
    os.chown(top, www.pw_uid, www.pw_gid)
    for root, dirs, files in os.walk(top):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), www.pw_uid, www.pw_gid)


def hgweb(repo, cgi_dir, content):
    """A Mercurial repository at `repo` with one commit of f.txt
    (`content`) that accepts pushes over plain HTTP, owned by www-data,
    and Debian's hgweb.cgi in `cgi_dir` serving it (unchanged but for
    the repository's path).  Returns the CGI file's path."""
    run(["hg", "init", repo])
    with open(os.path.join(repo, "f.txt"), "w") as f:
        f.write(content)
    run(["hg", "commit", "-A", "-m", "first", "-R", repo], cwd=repo)
    with open(os.path.join(repo, ".hg", "hgrc"), "a") as f:
        f.write("[web]\npush_ssl = false\nallow-push = *\n")
    chown_www(repo)
    with open(HGWEB) as f:
        text = f.read().replace('b"/path/to/repo/or/config"',
                                repr(repo.encode()))
    path = os.path.join(cgi_dir, "hgweb.cgi")
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, 0o755)
    return path
