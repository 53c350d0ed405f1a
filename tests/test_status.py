"""The pycgi-status handler, through real httpd: per-child counters in
shared memory, as HTML and as ?auto text."""

import re

import pytest

from conftest import MPMS, TEST_MODULE

pytestmark = pytest.mark.skipif(TEST_MODULE != "pycgi",
                                reason="mod_pycgi's status page")

STATUS_CONF = """
<Location "/pycgi-status">
    SetHandler pycgi-status
</Location>
"""


def auto(server):
    r = server.get("/pycgi-status?auto")
    assert r.status == 200, r
    assert r.header("Content-Type").startswith("text/plain")
    fields = dict(re.findall(r"^(\w+): (.*)$", r.text, re.M))
    children = re.findall(r"^Child: (.*)$", r.text, re.M)
    return fields, [dict(kv.split("=", 1) for kv in c.split()) for c in children]


@pytest.mark.parametrize("mpm", MPMS)
def test_counts_embedded_and_exec_requests(httpd, mpm):
    srv = httpd(mpm=mpm, mode="embedded", extra_conf=STATUS_CONF,
                tag="status")
    before, _ = auto(srv)
    for _ in range(5):
        assert srv.get("/pycgi/hello.py").status == 200
    for _ in range(2):
        assert srv.get("/pycgi/hello.cgi").status == 200   # shell: exec
    after, children = auto(srv)
    assert int(after["EmbeddedRequests"]) - int(before["EmbeddedRequests"]) == 5
    assert int(after["ExecRequests"]) - int(before["ExecRequests"]) == 2
    assert int(after["Children"]) == len(children) >= 1
    assert all(c["python"] == "up" for c in children)
    assert all(int(c["rss_kb"]) > 0 for c in children)
    # The first run of hello.py in a child compiles it, later ones hit.
    assert int(after["CacheMisses"]) >= 1
    assert int(after["CacheHits"]) + int(after["CacheMisses"]) >= 5


def test_html_page_and_current_script(httpd):
    srv = httpd(mpm="prefork", mode="embedded", extra_conf=STATUS_CONF,
                tag="status-html")
    assert srv.get("/pycgi/hello.py").status == 200
    r = srv.get("/pycgi-status")
    assert r.status == 200
    assert r.header("Content-Type").startswith("text/html")
    assert "<table" in r.text and "Embedded requests" in r.text
    # Nothing runs while the page is made (it is not a CGI script).
    fields, children = auto(srv)
    assert all(c["current"] == "-" for c in children)


def test_timeouts_and_recycles_are_counted(httpd):
    srv = httpd(mpm="prefork", mode="embedded",
                extra_conf=STATUS_CONF + "CGIScriptTimeout 1\n"
                "PyCGIMaxRequests 3\n", tag="status-count")
    r = srv.get("/pycgi/silent.py")
    assert r.status == 504
    # Enough requests that some child reaches 3, however they spread.
    for _ in range(30):
        assert srv.get("/pycgi/hello.py").status == 200
    fields, _ = auto(srv)
    assert int(fields["Timeouts"]) >= 1
    assert int(fields["Recycles"]) >= 1, fields
