"""The pycgi-status handler, through real httpd: per-child counters in
shared memory, as HTML and as ?auto text."""

import re
import time

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
    # Every child that ran a script embedded has Python up (a child
    # started meanwhile may still be booting it: slow under ASan).
    served = [c for c in children if int(c["embedded"])]
    assert served and all(c["python"] == "up" for c in served), children
    assert all(int(c["rss_kb"]) > 0 for c in children)
    # The first run of hello.py in a child compiles it, later ones hit.
    assert int(after["CacheMisses"]) >= 1
    assert int(after["CacheHits"]) + int(after["CacheMisses"]) >= 5


LAZY_CONF = STATUS_CONF + """
<Location "/pycgi/emb_pid.py">
    PyCGIMode embedded
</Location>
"""


def test_prefork_child_starts_python_with_its_first_embedded_script(httpd):
    """Under prefork a child that runs no script embedded never starts
    Python (PyCGIMode auto runs them exec or in daemon workers): it stays
    near the size of a mod_cgi child.  Its first embedded script starts
    it."""
    srv = httpd(mpm="prefork", mode="daemon", extra_conf=LAZY_CONF,
                tag="status-lazy")
    for _ in range(4):
        assert srv.get("/pycgi/hello.py").status == 200
    _, children = auto(srv)
    assert children and all(c["python"] == "off" for c in children), children
    for _ in range(3):
        r = srv.get("/pycgi/emb_pid.py")
        assert r.status == 200, r
    _, children = auto(srv)
    up = [c for c in children if c["python"] == "up"]
    off = [c for c in children if c["python"] == "off"]
    # Exactly the children that ran a script embedded have Python.
    assert up and all(int(c["embedded"]) for c in up), children
    assert all(not int(c["embedded"]) for c in off), children
    if off:
        assert max(int(c["rss_kb"]) for c in off) \
            < min(int(c["rss_kb"]) for c in up), children


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


def _children_sum(children, key):
    return sum(int(c[key]) for c in children)


@pytest.mark.parametrize("mpm", MPMS)
def test_counters_exact_under_concurrent_load(httpd, mpm):
    """Eight clients at once, 40 requests each, embedded and exec: the
    server-wide totals and the per-child counters each grow by exactly
    what was served (under event, a child's threads count at once)."""
    import threading
    srv = httpd(mpm=mpm, mode="embedded", extra_conf=STATUS_CONF,
                tag="status-load")
    before, kids_before = auto(srv)
    failures = []

    def client(n):
        for i in range(40):
            url = "/pycgi/hello.cgi" if i % 8 == 0 else "/pycgi/hello.py"
            r = srv.get(url, timeout=60)
            if r.status != 200:
                failures.append((n, i, r.status))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert not failures, failures[:5]
    after, kids = auto(srv)
    # hello.cgi (shell) runs exec: 5 of each client's 40.
    assert int(after["EmbeddedRequests"]) \
        - int(before["EmbeddedRequests"]) == 8 * 35
    assert int(after["ExecRequests"]) - int(before["ExecRequests"]) == 8 * 5
    assert {c["pid"] for c in kids_before} <= {c["pid"] for c in kids}, \
        "a child was replaced: per-child sums not comparable"
    assert _children_sum(kids, "embedded") \
        - _children_sum(kids_before, "embedded") == 8 * 35
    assert _children_sum(kids, "exec") - _children_sum(kids_before,
                                                       "exec") == 8 * 5


@pytest.mark.parametrize("mpm", MPMS)
def test_a_script_ending_leaves_another_current(httpd, mpm):
    """While an exec script sleeps 3 s, quick requests begin and end
    (under event on other threads of the same child): the sleeping
    script stays on the page as running."""
    import threading
    srv = httpd(mpm=mpm, mode="exec", extra_conf=STATUS_CONF + (
        "" if mpm == "prefork" else
        "StartServers 1\nServerLimit 1\nThreadsPerChild 8\n"
        "MaxRequestWorkers 8\nMinSpareThreads 1\nMaxSpareThreads 8\n"),
        tag="status-current")
    done = {}
    sleeper = threading.Thread(target=lambda: done.setdefault(
        "r", srv.get("/pycgi/dmn_sleep.py?3", timeout=30)))
    sleeper.start()
    time.sleep(1.0)
    for _ in range(3):
        assert srv.get("/pycgi/hello.cgi").status == 200
    _, children = auto(srv)
    sleeper.join(30)
    assert done["r"].status == 200
    current = [c["current"] for c in children]
    # Fixed module bug (regression guard, issue 13): under event the
    # quick requests' end blanked the child's current script
    assert any(c.endswith("/dmn_sleep.py") for c in current), children
    assert sum(int(c["running"]) for c in children) >= 1, children


@pytest.mark.parametrize("override, status", [("Options", 500),
                                              ("FileInfo", 200)])
def test_htaccess_sets_the_status_handler_only_with_fileinfo(
        httpd, site, override, status):
    """A .htaccess can make a directory the status page only where its
    author may set handlers (AllowOverride FileInfo), as for mod_status's
    server-status; elsewhere httpd refuses the line (500)."""
    sub = "htdocs/st_" + override.lower()
    site.make_dir(sub)
    site.write(sub + "/.htaccess", "SetHandler pycgi-status\n")
    site.write(sub + "/index.html", "plain page\n")
    srv = httpd(mpm="prefork", mode="embedded", tag="status-ht-" + override,
                extra_conf='<Directory "@SITE@/%s">\n    AllowOverride %s\n'
                           '</Directory>\n' % (sub, override))
    r = srv.get("/%s/index.html?auto" % sub[len("htdocs/"):])
    assert r.status == status, r
    assert ("Children:" in r.text) == (status == 200), r.text[:300]
