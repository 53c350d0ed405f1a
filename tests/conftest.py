"""Fixtures for the mod_pycgi suite: real apache2 servers per test module.

Environment:
  PYCGI_MODULE       path of mod_pycgi.so (default <repo>/.libs/mod_pycgi.so)
  PYCGI_MODES        runners to test, comma separated (default
                     exec,embedded,daemon,fork; fork = daemon with
                     PyCGIIsolation fork;
                     "auto" may be added)
  PYCGI_MPMS         MPMs to test (default prefork,event)
  PYCGI_TEST_MODULE  "pycgi" (default) or "cgi": run the candidate side with
                     stock mod_cgi, to prove the tests themselves
  PYCGI_PRELOAD      LD_PRELOAD for apache2 (sanitizer runs); ASAN_OPTIONS,
                     LSAN_OPTIONS and UBSAN_OPTIONS are passed through
  PYCGI_KEEP_TMP     keep the run directories (configs, logs) after the run
"""

import os
import sys
import warnings

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import httpd as httpd_lib  # noqa: E402


def _env_list(name, default, allowed):
    items = [x.strip() for x in os.environ.get(name, default).split(",")
             if x.strip()]
    bad = [x for x in items if x not in allowed]
    if bad or not items:
        raise pytest.UsageError("%s=%r: each item must be one of %s"
                                % (name, os.environ.get(name), allowed))
    return items


TEST_MODULE = os.environ.get("PYCGI_TEST_MODULE", "pycgi")
if TEST_MODULE not in ("cgi", "pycgi"):
    raise pytest.UsageError("PYCGI_TEST_MODULE must be cgi or pycgi")
MODES = _env_list("PYCGI_MODES", "exec,embedded,daemon,fork",
                  ("exec", "embedded", "daemon", "fork", "auto"))
if TEST_MODULE == "cgi":
    # Stock mod_cgi has one runner; the mode is only a label then.
    MODES = ["exec"]
MPMS = _env_list("PYCGI_MPMS", "prefork,event", ("prefork", "event"))


class BrokenServer:
    """Stands in for a server that could not start; any use fails the
    test (as FAILED, not as a setup ERROR) with the start-up report."""

    def __init__(self, name, report):
        self.name = name
        self.report = report

    def __getattr__(self, attr):
        pytest.fail("server %s could not start:\n%s" % (self.name,
                                                         self.report),
                    pytrace=False)


class ServerFactory:
    """Starts servers and stops all of them at teardown.

    With cache=True the same arguments give the same running server, so
    a test module shares one server per (module, mpm, mode, ...) set.
    """

    def __init__(self, default_site, cache):
        self.default_site = default_site
        self.cache = {} if cache else None
        self.servers = []

    def __call__(self, mpm="prefork", module=None, mode=None, extra_conf="",
                 site=None, loglevel="info", env=None, tag=""):
        module = module or TEST_MODULE
        if module == "pycgi" and mode is None:
            mode = MODES[0]
        site = site or self.default_site()
        key = (mpm, module, mode if module == "pycgi" else None, extra_conf,
               site.root, loglevel, tuple(sorted((env or {}).items())), tag)
        if self.cache is not None and key in self.cache:
            server = self.cache[key]
            if not isinstance(server, BrokenServer):
                httpd_lib.touch(server)
            return server
        name = "%s-%s-%s%s" % (module, mode if module == "pycgi" else
                               "stock", mpm, "-" + tag if tag else "")
        try:
            server = httpd_lib.Server(site, mpm=mpm, module=module,
                                      mode=mode, extra_conf=extra_conf,
                                      loglevel=loglevel, env=env, name=name)
        except httpd_lib.ServerError as e:
            # A missing or broken module is a failure, never a skip: every
            # test that uses this server fails, with apache2's own words.
            server = BrokenServer(name, str(e))
            if self.cache is not None:
                self.cache[key] = server
            return server
        self.servers.append(server)
        httpd_lib.touch(server)
        if self.cache is not None:
            self.cache[key] = server
        return server

    def close(self):
        reports = []
        for server in self.servers:
            # Reports written at exit (LeakSanitizer) exist only now.
            server.stop()
            reports += server.sanitizer_reports()
            server.cleanup()
        self.servers = []
        crashed = [rep for rep in reports if _lsan_tracer_crash(rep[1])]
        reports = [rep for rep in reports if rep not in crashed]
        if crashed:
            # LeakSanitizer's stop-the-world tracer itself segfaulted at
            # exit (a known, timing-dependent flaw of the runtime,
            # google/sanitizers#1353): no finding, but no leak check of
            # that process either.  Said, never hidden.
            warnings.warn("LeakSanitizer's tracer crashed (no leak check "
                          "of that process):\n" + _format_reports(crashed))
        if reports:
            pytest.fail("sanitizer reports at server stop:\n"
                        + _format_reports(reports), pytrace=False)


def _lsan_tracer_crash(text):
    """Is this report only LeakSanitizer's tracer crash (its three lines
    and nothing else: no ERROR, no leak)?"""
    lines = [line for line in text.splitlines() if line.strip()]
    return (bool(lines) and lines[0].startswith("Tracer caught signal")
            and "ERROR:" not in text and "SUMMARY:" not in text
            and all(line.startswith(("Tracer caught signal", "==")) and
                    ("LeakSanitizer has encountered a fatal error" in line
                     or "HINT:" in line or line.startswith("Tracer"))
                    for line in lines))


@pytest.fixture(scope="module")
def site():
    """The standard script/document tree, one per test module."""
    s = httpd_lib.Site()
    yield s
    if not os.environ.get("PYCGI_KEEP_TMP"):
        s.remove()


@pytest.fixture(scope="module")
def httpd_module(site):
    """Module-scoped server factory; equal arguments share a server."""
    factory = ServerFactory(lambda: site, cache=True)
    yield factory
    factory.close()


@pytest.fixture
def httpd(site):
    """Per-test server factory: httpd(mpm=..., module=..., mode=...,
    extra_conf=..., site=...) -> running Server, stopped after the test."""
    factory = ServerFactory(lambda: site, cache=False)
    yield factory
    factory.close()


@pytest.fixture(scope="module", params=MPMS)
def mpm(request):
    return request.param


@pytest.fixture(scope="module", params=MODES)
def mode(request):
    return request.param


@pytest.fixture(scope="module")
def srv(httpd_module, mpm, mode):
    """The module under test with the standard layout, one per mpm x mode."""
    return httpd_module(mpm=mpm, module=TEST_MODULE, mode=mode)


@pytest.fixture(scope="module")
def base():
    """URL prefix of the directory served by our own handler name
    (pycgi-script); the cgi-script one when validating with mod_cgi."""
    return "/pycgi" if TEST_MODULE == "pycgi" else "/exec"


@pytest.fixture(autouse=True)
def _reset_touched():
    del httpd_lib.touched[:]
    yield


def pytest_report_header(config):
    return ["mod_pycgi suite: module=%s (%s) modes=%s mpms=%s" % (
        TEST_MODULE, httpd_lib.pycgi_module_path()
        if TEST_MODULE == "pycgi" else httpd_lib.STOCK_CGI,
        ",".join(MODES), ",".join(MPMS))]


def _format_reports(reports):
    return "\n".join("--- %s ---\n%s" % (path, text[:20000])
                     for path, text in reports)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call":
        # A sanitizer report (see httpd.SANITIZER_LOG) fails the test
        # whose requests were running when it was written.
        reports = []
        for server in httpd_lib.touched:
            reports += server.sanitizer_reports()
        if reports and report.passed:
            report.outcome = "failed"
            report.longrepr = ("sanitizer reports:\n"
                               + _format_reports(reports))
        elif reports:
            report.sections.append(("sanitizer reports",
                                    _format_reports(reports)))
    if report.failed and report.when in ("setup", "call"):
        for server in httpd_lib.touched:
            report.sections.append((
                "error log tail: %s (%s)" % (server.name,
                                             server.error_log_path),
                server.error_log_tail(40)))
