"""The README's first command: `make demo` (tools/demo.sh) builds the
module and serves examples/ (the tutorial scripts) on a private Apache,
configured as the tutorials say.  Started here in the background
(DEMO_BACKGROUND=1) under each MPM, every example is used as its
tutorial uses it, through real HTTP, and the server is stopped with
nothing of it left running."""

import http.client
import os
import re
import shutil
import subprocess
import uuid

import pytest

import httpd as httpd_lib
import probe
from conftest import MPMS, TEST_MODULE

# Another build is under test (PYCGI_MODULE: make check-asan), or stock
# mod_cgi: the demo builds and serves the repository's own, as its users
# run it.
OTHER_BUILD = bool(os.environ.get("PYCGI_MODULE")) or TEST_MODULE != "pycgi"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXAMPLES = os.path.join(REPO, "examples")


def _pids_of(conf):
    """httpd's parent and children of this demo: their command line
    names its configuration."""
    return [p.pid for p in probe.all_procs() if conf in p.cmdline]


def _workers_below(parent):
    """pycgi-worker processes whose parent is a child of `parent` (the
    supervisor is one of httpd's children)."""
    procs = probe.all_procs()
    kids = {p.pid for p in procs if p.ppid == parent}
    return [p.pid for p in procs
            if p.ppid in kids and p.comm == "pycgi-worker"]


def _start_time(pid):
    """The start time of process `pid`, None once it is gone."""
    p = probe.read_proc(pid)
    return p.start if p else None


def _run_demo(mpm, root, port):
    env = dict(os.environ, DEMO_BACKGROUND="1", DEMO_MPM=mpm,
               DEMO_PORT=str(port), DEMO_ROOT=root)
    return subprocess.run(["sh", os.path.join(REPO, "tools", "demo.sh")],
                          env=env, capture_output=True, text=True,
                          timeout=600)


class Demo:
    def __init__(self, mpm, root=None):
        self.mpm = mpm
        self.root = root or httpd_lib._mkdtemp("pycgi-demo-", 0o755)
        self.port = httpd_lib.free_port()
        self.conf = os.path.join(self.root, "httpd.conf")
        self.workers = set()
        self.pid = None
        self.started = _run_demo(mpm, self.root, self.port)
        try:
            assert self.started.returncode == 0, \
                self.started.stderr[-3000:]
            assert probe.wait_for(self._answers, 20), \
                "the demo does not answer on port %d" % self.port
            with open(os.path.join(self.root, "run", "httpd.pid")) as f:
                self.pid = int(f.read())
        except BaseException:
            self.stop()
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    def _answers(self):
        try:
            return self.request("GET", "/")[0] == 200
        except OSError:
            return False

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            c.request(method, path, body=body, headers=headers or {})
            r = c.getresponse()
            return r.status, dict(r.getheaders()), r.read()
        finally:
            c.close()

    def error_log(self):
        with open(os.path.join(self.root, "logs", "error.log"),
                  errors="replace") as f:
            return f.read()

    def note_workers(self):
        """Remember the demo's workers now running (pid, start time)."""
        for pid in _workers_below(self.pid):
            self.workers.add((pid, _start_time(pid)))

    def stop(self):
        """Stop the demo; the processes of it still there after 15 s."""
        if os.path.exists(self.conf):
            if self.pid:
                self.note_workers()
            subprocess.run(["/usr/sbin/apache2", "-f", self.conf, "-k",
                            "stop"], capture_output=True, timeout=60)

        def left():
            return _pids_of(self.conf) + sorted(
                pid for pid, start in self.workers
                if start is not None and _start_time(pid) == start)
        probe.wait_for(lambda: not left(), 15)
        return left()


@pytest.fixture(scope="module", params=MPMS)
def demo(request):
    if OTHER_BUILD:
        pytest.skip("the demo serves the repository's own build")
    d = Demo(request.param)
    yield d
    left = d.stop()
    shutil.rmtree(d.root, ignore_errors=True)
    assert not left, "demo processes left running: %s" % left


def _form(fields):
    from urllib.parse import urlencode
    return urlencode(fields).encode()


FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def test_the_demo_says_where_it_serves_and_runs_its_mpm(demo):
    out = demo.started.stdout
    assert "http://127.0.0.1:%d/" % demo.port in out, out
    # The parent logs its MPM once it is up, maybe after the first answer.
    mark = "[mpm_%s:notice]" % demo.mpm
    assert probe.wait_for(lambda: mark in demo.error_log(), 10), \
        demo.error_log()[-2000:]


def test_index_and_hello_world(demo):
    status, _, body = demo.request("GET", "/")
    assert status == 200 and b"Python CGI tutorial examples" in body
    for path in ("/hello.py", "/cgi-bin/hello.py"):
        status, headers, body = demo.request("GET", path)
        assert status == 200, (path, body[-500:])
        assert headers["Content-Type"].startswith("text/html")
        assert "Hello World! This is my first CGI program" \
            in body.decode("utf-8"), body
        assert "你好，世界！" in body.decode("utf-8")


def test_hello_cgi_in_shell(demo):
    status, _, body = demo.request("GET", "/hello.cgi")
    assert status == 200, body
    assert b"<h2>Hello World from /bin/sh!</h2>" in body, body
    assert b"<p>Server: Apache" in body, body


def test_python_examples_run_in_daemon_workers(demo):
    # PyCGIMode auto: Python scripts go to the daemon runner's workers.
    demo.request("GET", "/hello.py")
    assert _workers_below(demo.pid), "no pycgi-worker under the demo"
    demo.note_workers()
    assert re.search(r"PYCGI0802.*worker ready", demo.error_log()), \
        demo.error_log()[-2000:]


def test_environment_listing(demo):
    status, _, body = demo.request("GET", "/test.py?x=1")
    text = body.decode("utf-8")
    assert status == 200
    for var in ("GATEWAY_INTERFACE", "QUERY_STRING", "SERVER_PORT",
                "SCRIPT_NAME", "REQUEST_METHOD"):
        assert var in text, var
    assert ": %d " % demo.port in text
    assert re.search(r"QUERY_STRING </span> : x=1 <", text), text


def test_get_and_post_forms(demo):
    status, _, body = demo.request(
        "GET", "/hello_get.py?first_name=Ada&last_name=Lovelace")
    assert status == 200 and b"Hello Ada Lovelace" in body, body
    status, _, body = demo.request(
        "POST", "/hello_get.py",
        _form({"first_name": "Grace", "last_name": "Hopper"}), FORM)
    assert status == 200 and b"Hello Grace Hopper" in body, body
    status, _, body = demo.request(
        "POST", "/checkbox.py", _form({"maths": "on"}), FORM)
    assert b"CheckBox Maths is : ON" in body
    assert b"CheckBox Physics is : OFF" in body


def test_radio_textarea_dropdown(demo):
    for script, field, value, unset in (
            ("radiobutton.py", "subject", "physics", "Not set"),
            ("textarea.py", "textcontent", "two words " + uuid.uuid4().hex,
             "Not entered"),
            ("dropdown.py", "dropdown", "Maths", "Not entered")):
        status, _, body = demo.request(
            "POST", "/" + script, _form({field: value}), FORM)
        assert status == 200, (script, body)
        assert (" is %s</h2>" % value).encode() in body, (script, body)
        status, _, body = demo.request("POST", "/" + script, b"", FORM)
        assert status == 200, (script, body)
        assert (" is %s</h2>" % unset).encode() in body, (script, body)


def test_cookie_set_and_read_back(demo):
    status, headers, _ = demo.request("GET", "/cookie_set.py")
    assert status == 200
    cookie = headers["Set-Cookie"]
    assert cookie.startswith('name="Tutorial reader"'), cookie
    status, _, body = demo.request(
        "GET", "/cookie_get.py", headers={"Cookie": cookie.split(";")[0]})
    assert b"cookie name: Tutorial reader" in body, body
    status, _, body = demo.request("GET", "/cookie_get.py")
    assert b"No cookie called name was sent" in body


def test_upload_and_download(demo):
    name = "pycgi-demo-%s.txt" % uuid.uuid4().hex[:12]
    data = os.urandom(3000).hex().encode()
    boundary = "----pycgi" + uuid.uuid4().hex
    body = (("--%s\r\nContent-Disposition: form-data; name=\"filename\"; "
             "filename=\"%s\"\r\nContent-Type: text/plain\r\n\r\n"
             % (boundary, name)).encode() + data
            + ("\r\n--%s--\r\n" % boundary).encode())
    try:
        status, _, page = demo.request(
            "POST", "/save_file.py", body,
            {"Content-Type": "multipart/form-data; boundary=" + boundary})
        assert status == 200, page
        assert ('&quot;%s&quot; was uploaded successfully (%d bytes)'
                % (name, len(data))).encode() in page, page
        with open(os.path.join("/tmp", name), "rb") as f:
            assert f.read() == data
    finally:
        if os.path.exists(os.path.join("/tmp", name)):
            os.unlink(os.path.join("/tmp", name))
    status, headers, got = demo.request("GET", "/download.py")
    assert status == 200
    assert headers["Content-Disposition"] == 'attachment; filename="foo.txt"'
    with open(os.path.join(EXAMPLES, "foo.txt"), "rb") as f:
        assert got == f.read()


@pytest.mark.skipif(OTHER_BUILD,
                    reason="the demo serves the repository's own build")
def test_a_second_demo_in_the_same_tree_stops_the_first():
    first = Demo("prefork")
    try:
        second = Demo("prefork", root=first.root)
        try:
            assert "stopping the demo still running" in second.started.stdout
            assert probe.wait_for(lambda: _start_time(first.pid) is None,
                                  10), "the first demo's httpd still runs"
            assert second._answers()
        finally:
            assert not second.stop()
    finally:
        first.stop()
        shutil.rmtree(first.root, ignore_errors=True)


def test_the_demo_never_removes_a_tree_that_is_not_a_demos():
    root = httpd_lib._mkdtemp("pycgi-notdemo-", 0o755)
    try:
        keep = os.path.join(root, "keep.txt")
        with open(keep, "w") as f:
            f.write("mine\n")
        done = _run_demo("prefork", root, httpd_lib.free_port())
        assert done.returncode == 2, (done.stdout, done.stderr)
        assert "not a demo's tree" in done.stderr
        with open(keep) as f:
            assert f.read() == "mine\n"
        done = _run_demo("prefork", "relative/path", httpd_lib.free_port())
        assert done.returncode == 2 and "absolute" in done.stderr
    finally:
        shutil.rmtree(root, ignore_errors=True)
