"""The layout of the C sources: one concern per file pair, and no
include cycles between pairs (pycgi_x.c and pycgi_x.h are one node; a
pair that includes another's header depends on it).  The module and the
worker are checked apart: the worker's room is readable without the
httpd side, so what it includes of modules/ stands alone."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def graph(directory):
    """{pair: set of pairs it includes} for the .c/.h files there."""
    deps = {}
    base = os.path.join(ROOT, directory)
    for name in sorted(os.listdir(base)):
        if not name.endswith((".c", ".h")):
            continue
        node = name.rsplit(".", 1)[0]
        with open(os.path.join(base, name)) as f:
            heads = INCLUDE.findall(f.read())
        deps.setdefault(node, set()).update(
            os.path.basename(h).rsplit(".", 1)[0] for h in heads
            if os.path.basename(h).rsplit(".", 1)[0] != node)
    return deps


def cycle(deps):
    """One include cycle as a list of pairs, or None."""
    state = {}

    def visit(node, path):
        state[node] = 1
        for dep in sorted(deps.get(node, ())):
            if state.get(dep) == 1:
                return path[path.index(dep):] + [dep]
            if dep in deps and dep not in state:
                found = visit(dep, path + [dep])
                if found:
                    return found
        state[node] = 2
        return None

    for node in sorted(deps):
        if node not in state:
            found = visit(node, [node])
            if found:
                return found
    return None


def test_module_pairs_include_no_cycle():
    deps = graph("modules")
    assert "pycgi_embed" in deps and "pycgi_pyio" in deps, sorted(deps)
    found = cycle(deps)
    assert found is None, " -> ".join(found)


def test_the_cycle_finder_finds_one():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": set()}) is None


HTTPD = re.compile(r'^\s*#\s*include\s+[<"]'
                   r'(httpd|http_\w+|ap_\w+|util_\w+|apr\w*|unixd|mpm\w*)\.h',
                   re.M)


def test_worker_reads_without_the_httpd_side():
    """What the worker takes from modules/ (the wire protocol, suexec's
    rules, the generated compat sources) includes nothing of httpd or
    APR, nor any other pair of the module."""
    module = graph("modules")
    used = {d for ds in graph("worker").values() for d in ds
            if d in module}
    assert "pycgi_proto" in used, sorted(used)
    for pair in sorted(used):
        assert not module[pair], (pair, sorted(module[pair]))
        for ext in (".h", ".c"):
            path = os.path.join(ROOT, "modules", pair + ext)
            if os.path.exists(path):
                with open(path) as f:
                    found = HTTPD.findall(f.read())
                assert not found, (pair + ext, found)


LOGNO = re.compile(r'LOGNO\((\d{4})\)|PYCGI(\d{4})')


def test_every_log_tag_is_in_errors_md():
    """Every tag the module or the worker writes (PYCGI_LOGNO(NNNN),
    PYCGI_WORKER_LOGNO(NNNN), a literal PYCGINNNN) has its row in
    docs/errors.md: an admin who greps the log finds what it means."""
    used = set()
    for directory in ("modules", "worker", "."):
        base = os.path.join(ROOT, directory)
        for name in os.listdir(base):
            if name.endswith((".c", ".h", ".py")) and \
                    name != "pycgi_compat.h":
                with open(os.path.join(base, name)) as f:
                    used |= {a or b for a, b in LOGNO.findall(f.read())}
    with open(os.path.join(ROOT, "docs", "errors.md")) as f:
        documented = set(re.findall(r"^\|\s*PYCGI(\d{4})\s*\|", f.read(),
                                    re.M))
    assert len(used) > 50, sorted(used)
    assert used <= documented, sorted(used - documented)
