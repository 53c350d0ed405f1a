"""Our cgi/cgitb fallback (modules/compat/), through real httpd.

Python 3.13 dropped cgi and cgitb; the embedded interpreter then serves
mod_pycgi's own.  On this Python 3.11 the stdlib still has them, so
`PyCGICompatModules Always` puts ours first -- the same code path a 3.13
interpreter takes -- and the tutorial-style scripts must work with it.
"""

import hashlib
import os

import pytest

import httpd as httpd_lib
from conftest import MPMS, TEST_MODULE

pytestmark = pytest.mark.skipif(TEST_MODULE != "pycgi",
                                reason="mod_pycgi's embedded fallback")

OURS = "mod_pycgi's compatibility implementation"


@pytest.fixture(scope="module", params=MPMS)
def srv(request, httpd_module):
    return httpd_module(mpm=request.param, mode="embedded",
                        extra_conf="PyCGICompatModules Always\n",
                        tag="compat")


@pytest.fixture(scope="module", params=MPMS)
def stock(request, httpd_module):
    return httpd_module(mpm=request.param, mode="embedded", tag="nocompat")


def multipart(fields, files, boundary="----pycgiBoundary7MA4YWxk"):
    out = []
    for name, value in fields:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\""
                    "\r\n\r\n%s\r\n" % (boundary, name, value)).encode())
    for name, filename, data in files:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"; "
                    "filename=\"%s\"\r\nContent-Type: application/octet-stream"
                    "\r\n\r\n" % (boundary, name, filename)).encode())
        out.append(data + b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode())
    return b"".join(out), "multipart/form-data; boundary=" + boundary


def test_ours_are_served_first(srv):
    r = srv.get("/pycgi/compat_probe.py")
    assert r.status == 200, r.text
    assert "cgi: " + OURS in r.text
    assert "cgitb: " + OURS in r.text or "cgitb: mod_pycgi" in r.text


def test_stdlib_wins_by_default(stock):
    r = stock.get("/pycgi/compat_probe.py")
    assert r.status == 200, r.text
    assert OURS not in r.text


def test_get_form(srv):
    r = srv.get("/pycgi/compat_probe.py?name=Ada&tag=a&tag=b&empty=")
    assert r.status == 200, r.text
    assert "name = Ada" in r.text
    assert "tag = ['a', 'b']" in r.text
    assert "empty" not in r.text.split("\n", 3)[3]


def test_urlencoded_post(srv):
    r = srv.request("POST", "/pycgi/compat_probe.py",
                    headers={"Content-Type":
                             "application/x-www-form-urlencoded"},
                    body=b"first_name=Ada&last_name=Lovelace")
    assert r.status == 200, r.text
    assert "first_name = Ada" in r.text
    assert "last_name = Lovelace" in r.text


@pytest.mark.parametrize("chunked", [False, True])
def test_multipart_upload(srv, chunked):
    data = os.urandom(2 * 1024 * 1024) + b"\r\n--not-a-boundary\r\n"
    body, ctype = multipart([("title", "report")],
                            [("upload", "data.bin", data)])
    r = srv.request("POST", "/pycgi/compat_probe.py",
                    headers={"Content-Type": ctype}, body=body,
                    chunked=chunked)
    assert r.status == 200, r.text
    assert "title = report" in r.text
    assert "upload file data.bin %d %s" % (
        len(data), hashlib.sha256(data).hexdigest()) in r.text


def test_cgitb_page(srv):
    r = srv.get("/pycgi/compat_crash.py")
    body = r.text
    assert "ZeroDivisionError" in body
    assert "secret_local" in body
    # Locals are shown escaped, never as live markup.
    assert "<b>visible-local</b>" not in body
    assert "&lt;b&gt;visible-local&lt;/b&gt;" in body
