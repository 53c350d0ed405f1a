# Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE).
"""Unit tests of modules/compat/cgi.py and cgitb.py, mod_pycgi's own
replacements for the modules Python 3.13 removed.

Pure Python, no Apache: run with /usr/bin/python3 -m pytest
tests/test_compat.py.  Our modules are loaded by path under the names
pycgi_compat_cgi and pycgi_compat_cgitb, so they never shadow the standard
library's.  Where the standard library still has cgi (3.11, 3.12), the
same inputs go through both and the results must agree; the
intentional differences are tested on our side only.
"""

import importlib.util
import io
import os
import random
import re
import subprocess
import sys
import textwrap
import warnings

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
COMPAT = os.path.join(os.path.dirname(HERE), "modules", "compat")


def _load(name, filename):
    spec = importlib.util.spec_from_file_location(
        name, os.path.join(COMPAT, filename))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mycgi = _load("pycgi_compat_cgi", "cgi.py")
mycgitb = _load("pycgi_compat_cgitb", "cgitb.py")

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import cgi as stdcgi
        import cgitb as stdcgitb
    except ImportError:             # Python 3.13+: nothing to compare with
        stdcgi = stdcgitb = None

needs_std = pytest.mark.skipif(stdcgi is None,
                               reason="standard library has no cgi module")


# -- helpers ----------------------------------------------------------------

def form(mod, body=b"", ctype=None, method="POST", qs=None, clen=True,
         fp=None, **kw):
    """A FieldStorage of module `mod` over a CGI environment."""
    env = {"REQUEST_METHOD": method}
    if ctype is not None:
        env["CONTENT_TYPE"] = ctype
    if clen:
        env["CONTENT_LENGTH"] = str(len(body))
    if qs is not None:
        env["QUERY_STRING"] = qs
    return mod.FieldStorage(fp=fp or io.BytesIO(body), environ=env, **kw)


def snap(item):
    """Everything observable about a form tree, as comparable data."""
    if isinstance(item, list):
        return [snap(x) for x in item]
    d = {"class": type(item).__name__, "name": item.name,
         "filename": item.filename, "type": item.type,
         "type_options": item.type_options,
         "disposition": item.disposition,
         "disposition_options": item.disposition_options,
         "headers": dict(item.headers.items())}
    if item.list is not None:
        d["list"] = snap(item.list)
    else:
        d["value"] = item.value
    return d


def norm(value):
    """A value as comparable data (nested forms give field objects)."""
    if isinstance(value, (list, tuple)):
        return [norm(x) for x in value]
    if hasattr(value, "disposition_options"):
        return snap(value)
    return value


def accessors(f, keys):
    """What a script reads from a form, for each key (present or not)."""
    out = {"keys": set(f.keys()), "len": len(f), "bool": bool(f)}
    for k in keys:
        out[k] = norm((k in f, f.getvalue(k), f.getvalue(k, "dflt"),
                       f.getfirst(k), f.getfirst(k, "dflt"), f.getlist(k)))
    return out


def assert_same(body=b"", keys=(), **kw):
    """Our FieldStorage and the standard one agree on this request."""
    ours = form(mycgi, body, **kw)
    theirs = form(stdcgi, body, **kw)
    assert snap(ours.list) == snap(theirs.list)
    assert accessors(ours, keys) == accessors(theirs, keys)
    return ours


def multipart(boundary, parts, preamble=b"", epilogue=b"\r\n", nl=b"\r\n"):
    """Encode parts [(headers dict, data bytes)] as a multipart body."""
    b = boundary.encode("ascii")
    out = [preamble]
    for headers, data in parts:
        out.append(b"--" + b + nl)
        for name, value in headers.items():
            out.append(name.encode() + b": " + value.encode("utf-8") + nl)
        out.append(nl)
        out.append(data)
        out.append(nl)
    out.append(b"--" + b + b"--" + epilogue)
    return b"".join(out)


def field(name, value, **extra):
    return ({"Content-Disposition": 'form-data; name="%s"' % name},
            value.encode("utf-8") if isinstance(value, str) else value)


def upload(name, filename, data, ctype="application/octet-stream"):
    return ({"Content-Disposition": 'form-data; name="%s"; filename="%s"'
             % (name, filename), "Content-Type": ctype}, data)


BOUNDARY = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
# Binary content that is hostile to a boundary scanner: CRLFs, bare CRs
# and LFs, a boundary missing its last character, one followed by other
# text, one with no line break before it, "--" closers in the wrong place.
TRICKY = (b"\x00\x01\r\n\r\n\xff\xfe\r\r\n\n--\r\n"
          b"\r\n--" + BOUNDARY[:-1].encode() + b"\r\n"
          b"\r\n--" + BOUNDARY.encode() + b"X\r\n"
          b"\r\n--" + BOUNDARY.encode() + b"--x\r\n"
          b"x--" + BOUNDARY.encode() + b"\r\n"
          b"\n--" + BOUNDARY[:10].encode() + b"\r\n\r\n")
BIG = random.Random(4711).randbytes(3 * 1024 * 1024)
UPLOAD_NAME = "résumé 履歴書.pdf"


def upload_form():
    return multipart(BOUNDARY, [
        field("first_name", "Zoë"),
        field("last_name", "<O'Brien & \"Co\">"),
        field("subject", "Maths"),
        field("subject", "Physics"),
        field("textcontent", "line 1\r\nline 2\r\n\r\nline 4"),
        field("empty", ""),
        upload("small", "tricky.bin", TRICKY),
        upload("big", UPLOAD_NAME, BIG, "application/pdf"),
        upload("none", "", b""),
    ])


UPLOAD_KEYS = ("first_name", "last_name", "subject", "textcontent", "empty",
               "small", "big", "none", "q", "missing")


class Trickle(io.RawIOBase):
    """A binary stream that never returns more than `step` bytes a read,
    like a slow client's request body."""

    def __init__(self, data, step):
        self.data, self.pos, self.step = data, 0, step

    def readable(self):
        return True

    def readinto(self, b):
        n = min(len(b), self.step, len(self.data) - self.pos)
        b[:n] = self.data[self.pos:self.pos + n]
        self.pos += n
        return n


# -- GET ----------------------------------------------------------------------

GET_CASES = [
    ("a=1&b=2&a=3", {}),
    ("a=&b=2&c&d=", {}),
    ("a=&b=2&c&d=", {"keep_blank_values": 1}),
    ("n=J%C3%BCrgen+M%C3%BCller&e=%E2%82%AC&s=a%26b%3Dc", {}),
    ("bad=%FF%FE&ok=1", {}),
    ("a=1;b=2&c=3", {"separator": ";"}),
    ("x=1&x=2&x=3&y=", {"keep_blank_values": True}),
    ("", {}),
    ("only", {"keep_blank_values": 1}),
    ("plus=a+b&pct=a%2Bb", {}),
]


@needs_std
@pytest.mark.parametrize("qs,kw", GET_CASES)
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_get_query_string(qs, kw, method):
    assert_same(qs=qs, method=method, clen=False,
                keys=("a", "b", "c", "d", "x", "y", "n", "e", "s", "bad",
                      "only", "plus", "pct", "nope"), **kw)


@needs_std
def test_get_strict_parsing_and_max_num_fields():
    for mod in (mycgi, stdcgi):
        with pytest.raises(ValueError):
            form(mod, qs="a=1&b", method="GET", strict_parsing=1)
        with pytest.raises(ValueError):
            form(mod, qs="a=1&b=2&c=3", method="GET", max_num_fields=2)
        assert form(mod, qs="a=1&b=2", method="GET",
                    max_num_fields=2).getvalue("b") == "2"


@needs_std
def test_get_ignores_body_and_uses_argv_without_query_string(monkeypatch):
    monkeypatch.setattr(sys, "argv", ["script.py", "from=argv&x=1"])
    for mod in (mycgi, stdcgi):
        f = mod.FieldStorage(fp=io.BytesIO(b"body=1"),
                             environ={"REQUEST_METHOD": "GET"})
        assert f.getvalue("from") == "argv" and "body" not in f


def test_get_typical_tutorial_script():
    f = form(mycgi, qs="first_name=Ada&last_name=Lovelace", method="GET")
    assert f.getvalue("first_name", "") == "Ada"
    assert f["last_name"].value == "Lovelace"
    assert f.getvalue("middle", "") == ""
    assert f.type == "application/x-www-form-urlencoded"
    assert list(f) == ["first_name", "last_name"]    # ours keep order


# -- urlencoded POST --------------------------------------------------------

@needs_std
@pytest.mark.parametrize("body,qs,kw", [
    (b"a=1&b=x+y&a=2", None, {}),
    (b"a=1&b=x+y&a=2", "a=q&c=3", {}),          # body first, then the URL's
    (b"a=1&b=x+y&a=2", "", {}),
    (b"name=Zo%C3%AB&blank=", "blank=&z=9", {"keep_blank_values": 1}),
    (b"k=%E2%82%AC" * 3, None, {}),
    ("raw=Zoë".encode("utf-8"), None, {}),
    (b"a=1;b=2", None, {"separator": ";"}),
])
@pytest.mark.parametrize("ctype", ["application/x-www-form-urlencoded",
                                   "application/x-www-form-urlencoded; "
                                   "charset=UTF-8", None])
def test_post_urlencoded(body, qs, kw, ctype):
    assert_same(body, ctype=ctype, qs=qs,
                keys=("a", "b", "c", "k", "q", "z", "name", "blank", "raw"),
                **kw)


@needs_std
def test_post_urlencoded_reads_only_content_length():
    for mod in (mycgi, stdcgi):
        env = {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": "3",
               "CONTENT_TYPE": "application/x-www-form-urlencoded"}
        fp = io.BytesIO(b"a=1&b=2")
        f = mod.FieldStorage(fp=fp, environ=env)
        assert f.getvalue("a") == "1" and "b" not in f
        assert fp.read() == b"&b=2"


def test_post_urlencoded_separator_also_joins_the_query_string():
    # The old module joined body and query string with "&" whatever the
    # separator, so with ";" the last body value swallowed the URL's.
    f = form(mycgi, b"a=1;b=2", "application/x-www-form-urlencoded",
             qs="c=3", separator=";")
    assert [(x.name, x.value) for x in f.list] == [("a", "1"), ("b", "2"),
                                                   ("c", "3")]


def test_post_urlencoded_without_content_length_reads_to_eof():
    f = form(mycgi, b"a=1&b=2", "application/x-www-form-urlencoded",
             clen=False)
    assert f.getvalue("b") == "2"


# -- multipart/form-data ----------------------------------------------------

@needs_std
def test_multipart_fields_and_uploads_match_stdlib():
    body = upload_form()
    ctype = "multipart/form-data; boundary=" + BOUNDARY
    assert_same(body, ctype=ctype, qs="q=from-url", keys=UPLOAD_KEYS)


def test_multipart_fields_and_uploads():
    # What the tutorial scripts read, checked on its own (also where the
    # standard library has no cgi left to compare with).
    ours = form(mycgi, upload_form(), "multipart/form-data; boundary="
                + BOUNDARY, qs="q=from-url")
    assert ours.list[0].name == "q" and ours.getvalue("q") == "from-url"
    assert ours.getvalue("first_name") == "Zoë"
    assert ours.getvalue("last_name") == "<O'Brien & \"Co\">"
    assert ours.getfirst("subject") == "Maths"
    assert ours.getlist("empty") == [""]
    assert ours.getvalue("subject") == ["Maths", "Physics"]
    assert ours.getvalue("textcontent") == "line 1\r\nline 2\r\n\r\nline 4"
    small, big = ours["small"], ours["big"]
    assert small.filename == "tricky.bin" and small.value == TRICKY
    assert big.filename == UPLOAD_NAME and big.type == "application/pdf"
    assert big.file.read() == BIG and big.file.read() == b""
    assert ours["none"].filename == "" and ours["none"].value == b""


def test_multipart_big_upload_goes_to_a_temporary_file():
    f = form(mycgi, upload_form(),
             "multipart/form-data; boundary=" + BOUNDARY)
    big, small = f["big"], f["small"]
    assert not isinstance(big.file, io.BytesIO)
    assert os.fstat(big.file.fileno()).st_size == len(BIG)
    assert big.file.tell() == 0
    assert isinstance(small.file, io.BytesIO)      # small stays in memory
    assert isinstance(f["first_name"].file, io.StringIO)


def test_multipart_text_field_spills_as_text(monkeypatch):
    monkeypatch.setattr(mycgi, "_SPOOL_LIMIT", 100)
    text = "é€ line\r\n" * 500
    f = form(mycgi, multipart("b", [field("t", text), field("u", "x")]),
             "multipart/form-data; boundary=b")
    assert not isinstance(f["t"].file, io.StringIO)
    assert f.getvalue("t") == text and f.getvalue("u") == "x"


@pytest.mark.parametrize("chunk", [1, 2, 3, 5, 16, 41, 64, 1000])
def test_multipart_any_read_size_gives_the_same_form(monkeypatch, chunk):
    # Delimiters, CRs and header blocks split across reads at every
    # possible offset; the result must not change.
    body = multipart(BOUNDARY, [field("a", "1"),
                                upload("f", "t.bin", TRICKY),
                                field("b", "x\r\ny\r\n")])
    ctype = "multipart/form-data; boundary=" + BOUNDARY
    expected = snap(form(mycgi, body, ctype).list)
    monkeypatch.setattr(mycgi, "_CHUNK", chunk)
    assert snap(form(mycgi, body, ctype).list) == expected
    assert snap(form(mycgi, ctype=ctype, clen=False,
                     fp=io.BufferedReader(Trickle(body, 7))).list) == expected


@needs_std
def test_multipart_without_content_length_reads_to_eof():
    # A chunked request: no CONTENT_LENGTH, the body ends at EOF.
    assert_same(upload_form(), ctype="multipart/form-data; boundary="
                + BOUNDARY, clen=False, keys=UPLOAD_KEYS)


@needs_std
@pytest.mark.parametrize("name,body", [
    ("preamble-epilogue", multipart("XyZ", [field("a", "1")],
                                    preamble=b"This is a preamble\r\n",
                                    epilogue=b"\r\nepilogue text\r\n")),
    ("lf-only", multipart("XyZ", [field("a", "1\n2"), field("b", "")],
                          nl=b"\n")),
    ("no-final-newline", multipart("XyZ", [field("a", "1")], epilogue=b"")),
    ("padding", multipart("XyZ", [field("a", "1")]).replace(
        b"--XyZ\r\n", b"--XyZ  \t\r\n")),
    ("truncated", multipart("XyZ", [field("a", "1"),
                                    upload("f", "f", b"partial data")])
     [:-12]),
    ("empty-body", b""),
    ("no-parts", b"--XyZ--\r\n"),
    ("no-disposition", multipart("XyZ", [({"Content-Type": "text/plain"},
                                          b"anon")])),
    ("header-case", multipart("XyZ", [({"CONTENT-DISPOSITION":
                                        'form-data; NAME="a"'}, b"v")])),
    ("quoted-name", multipart("XyZ", [({"Content-Disposition":
                                        'form-data; name="a;b\\"c"'},
                                       b"v")])),
    ("windows-path", multipart("XyZ", [upload("f", "C:\\Users\\me\\a.txt",
                                              b"data")])),
    ("invalid-utf8", multipart("XyZ", [field("a", b"\xff\xfeok")])),
])
def test_multipart_edge_cases(name, body):
    assert_same(body, ctype='multipart/form-data; boundary="XyZ"',
                qs="", keys=("a", "b", "f", "a;b\"c"))


@needs_std
def test_multipart_nested_mixed():
    inner = multipart("InNeR", [
        ({"Content-Disposition": 'file; filename="a.txt"',
          "Content-Type": "text/plain"}, b"aaa\r\n"),
        ({"Content-Disposition": 'file; filename="b.gif"',
          "Content-Type": "image/gif"}, b"GIF89a\r\n--InNe"),
    ], epilogue=b"")
    body = multipart("OuTeR", [
        field("title", "two files"),
        ({"Content-Disposition": 'form-data; name="files"',
          "Content-Type": "multipart/mixed; boundary=InNeR"}, inner),
    ])
    ours = assert_same(body, ctype="multipart/form-data; boundary=OuTeR",
                       keys=("title", "files"))
    files = ours["files"]
    assert [p.filename for p in files.value] == ["a.txt", "b.gif"]
    assert files.value[1].value == b"GIF89a\r\n--InNe"


@needs_std
@pytest.mark.parametrize("ctype", [
    "multipart/form-data",
    "multipart/form-data; boundary=",
    "multipart/form-data; boundary=\"bad boundary \"",
    "multipart/form-data; boundary=caf\u00e9",
])
def test_multipart_invalid_boundary(ctype):
    for mod in (mycgi, stdcgi):
        with pytest.raises(ValueError):
            form(mod, b"--x\r\n\r\n--x--\r\n", ctype)


@needs_std
def test_multipart_max_num_fields():
    body = multipart("b", [field("a", "1"), field("b", "2"), field("c", "3")])
    for mod in (mycgi, stdcgi):
        with pytest.raises(ValueError):
            form(mod, body, "multipart/form-data; boundary=b",
                 max_num_fields=2)
        f = form(mod, body, "multipart/form-data; boundary=b",
                 max_num_fields=3)
        assert f.getvalue("c") == "3"


def test_multipart_truncated_is_marked():
    body = multipart("b", [field("a", "1")])
    assert form(mycgi, body, "multipart/form-data; boundary=b").done == 1
    assert form(mycgi, body[:-6], "multipart/form-data; boundary=b").done \
        == -1


# -- field objects ----------------------------------------------------------

@needs_std
def test_field_object_errors():
    single = multipart("b", [field("a", "1")])
    for mod in (mycgi, stdcgi):
        f = form(mod, single, "multipart/form-data; boundary=b")
        with pytest.raises(KeyError):
            f["missing"]
        part = f["a"]
        with pytest.raises(TypeError):
            part["x"]
        with pytest.raises(TypeError):
            bool(part)
        with pytest.raises(TypeError):
            form(mod, b"", "text/plain", fp=object())
        mini = mod.MiniFieldStorage("k", "v")
        assert (mini.name, mini.value, mini.filename, mini.list,
                mini.file) == ("k", "v", None, None, None)


def test_field_object_protocols():
    f = form(mycgi, b"a=1&b=2&a=3", "application/x-www-form-urlencoded")
    assert len(f) == 2 and bool(f) and "a" in f and "z" not in f
    assert [x.value for x in f["a"]] == ["1", "3"]
    assert isinstance(f["b"], mycgi.MiniFieldStorage)
    assert f.value == f.list
    assert "FieldStorage" in repr(f) and "MiniFieldStorage" in repr(f["b"])
    with form(mycgi, multipart("b", [upload("f", "x", b"data")]),
              "multipart/form-data; boundary=b") as g:
        part = g["f"]
    assert part.file.closed


def test_non_form_body_is_the_value():
    # The old module failed here (bytes written to a text file).
    f = form(mycgi, b'{"a": [1, 2]}', "application/json")
    assert f.type == "application/json" and f.value == '{"a": [1, 2]}'
    assert f.list is None and f.file.read() == '{"a": [1, 2]}'
    f = form(mycgi, b"abc", "text/plain", method="PUT", clen=False)
    assert f.value == "abc"


def test_media_type_is_case_insensitive():
    # The old module compared types case-sensitively (and then crashed).
    f = form(mycgi, b"a=1", "Application/X-WWW-Form-Urlencoded")
    assert f.type == "application/x-www-form-urlencoded"
    assert f.getvalue("a") == "1"
    f = form(mycgi, multipart("b", [field("a", "2")]),
             "Multipart/Form-Data; Boundary=b")
    assert f.getvalue("a") == "2"


def test_rfc2231_filename():
    body = multipart("b", [({"Content-Disposition":
                             "form-data; name=\"f\"; "
                             "filename*=UTF-8''na%C3%AFve%20%E2%82%AC.txt"},
                            b"x")])
    f = form(mycgi, body, "multipart/form-data; boundary=b")
    assert f["f"].filename == "naïve €.txt" and f["f"].value == b"x"


def test_make_file_can_be_overridden(tmp_path, monkeypatch):
    monkeypatch.setattr(mycgi, "_SPOOL_LIMIT", 10)
    made = []

    class MyForm(mycgi.FieldStorage):
        def make_file(self):
            f = open(tmp_path / ("spill%d" % len(made)), "wb+")
            made.append(f)
            return f

    f = MyForm(fp=io.BytesIO(multipart("b", [upload("f", "x", b"y" * 50)])),
               environ={"REQUEST_METHOD": "POST",
                        "CONTENT_TYPE": "multipart/form-data; boundary=b"})
    assert isinstance(f["f"], MyForm) and f["f"].file is made[0]
    assert f["f"].value == b"y" * 50


# -- maxlen -------------------------------------------------------------------

@needs_std
def test_maxlen(monkeypatch):
    monkeypatch.setattr(mycgi, "maxlen", 10)
    monkeypatch.setattr(stdcgi, "maxlen", 10)
    for mod in (mycgi, stdcgi):
        with pytest.raises(ValueError):
            form(mod, b"a=12345678901234", "application/x-www-form-urlencoded")
        with pytest.raises(ValueError):
            form(mod, multipart("b", [field("a", "1")]),
                 "multipart/form-data; boundary=b")
        assert form(mod, b"a=1", "application/x-www-form-urlencoded"
                    ).getvalue("a") == "1"
        # A long query string is not a body: maxlen does not apply.
        assert form(mod, qs="a=" + "x" * 50, method="GET",
                    clen=False).getvalue("a") == "x" * 50
        env = {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": "20",
               "CONTENT_TYPE": "application/x-www-form-urlencoded"}
        with pytest.raises(ValueError):
            mod.parse(io.BytesIO(b"a=1" * 7), environ=env)


def test_maxlen_applies_to_bodies_without_content_length(monkeypatch):
    # Ours also holds a chunked body (no CONTENT_LENGTH) to maxlen.
    monkeypatch.setattr(mycgi, "maxlen", 10)
    with pytest.raises(ValueError):
        form(mycgi, b"a=12345678901234", "application/x-www-form-urlencoded",
             clen=False)


# -- parse_header -----------------------------------------------------------

PARSE_HEADER_CASES = [
    "text/plain",
    "Text/HTML; Charset=UTF-8",
    "  text/plain  ;  charset = utf-8  ",
    'form-data; name="field"; filename="a b.txt"',
    'form-data; name="a;b"; filename="c;d.txt"',
    'form-data; name="say \\"hi\\""; x=1',
    'form-data; name="back\\\\slash"',
    'form-data; filename="C:\\Users\\me\\a.txt"',
    'form-data; name=""; filename=""',
    'form-data; name="unterminated',
    "multipart/form-data; boundary=----WebKitFormBoundaryX",
    'multipart/mixed; boundary="quoted=boundary"',
    "a; noequals; =novalue; b=2",
    "a;;;b=1",
    "",
    'x; a=" spaced "',
    "attachment; filename*=UTF-8''na%C3%AFve.txt",
    'form-data; name="é"; filename="履歴.pdf"',
]


@needs_std
@pytest.mark.parametrize("line", PARSE_HEADER_CASES)
def test_parse_header(line):
    assert mycgi.parse_header(line) == stdcgi.parse_header(line)


def test_parse_header_values():
    assert mycgi.parse_header('Text/HTML; Charset="UTF-8"; x') == (
        "Text/HTML", {"charset": "UTF-8"})
    line = 'form-data; name="a;b"; filename="\\"q\\".txt"'
    assert mycgi.parse_header(line) == (
        "form-data", {"name": "a;b", "filename": '"q".txt'})
    assert mycgi.parse_header('f; filename="C:\\dir\\a.txt"') == (
        "f", {"filename": "C:\\dir\\a.txt"})


def test_parse_header_escaped_backslash_before_quote():
    # name="x\\" is a backslash then the closing quote.  The old module
    # counted quotes naively and took the "; b=1" into the value.
    assert mycgi.parse_header('a; name="x\\\\"; b=1') == (
        "a", {"name": "x\\", "b": "1"})


# -- parse_multipart and parse ----------------------------------------------

@needs_std
def test_parse_multipart():
    body = upload_form()
    ours = mycgi.parse_multipart(io.BytesIO(body),
                                 {"boundary": BOUNDARY.encode()})
    theirs = stdcgi.parse_multipart(io.BytesIO(body),
                                    {"boundary": BOUNDARY.encode()})
    assert ours == theirs
    assert ours["subject"] == ["Maths", "Physics"]
    assert ours["small"] == [TRICKY]
    # Ours also takes a str boundary and the content length.
    assert mycgi.parse_multipart(
        io.BytesIO(body + b"junk"),
        {"boundary": BOUNDARY, "CONTENT-LENGTH": len(body)}) == ours


@needs_std
@pytest.mark.parametrize("method,body,qs,kw", [
    ("GET", b"", "a=1&b=&a=2", {}),
    ("GET", b"", "a=1&b=&a=2", {"keep_blank_values": 1}),
    ("POST", b"x=1&y=%C3%A9", "a=1", {}),
    ("POST", b"x=1&y=2", None, {}),
    ("POST", b"x=1;y=2", None, {"separator": ";"}),
])
def test_parse(method, body, qs, kw, monkeypatch):
    monkeypatch.setattr(sys, "argv", ["script.py"])
    results = []
    for mod in (mycgi, stdcgi):
        env = {"REQUEST_METHOD": method, "CONTENT_LENGTH": str(len(body)),
               "CONTENT_TYPE": "application/x-www-form-urlencoded"}
        if qs is not None:
            env["QUERY_STRING"] = qs
        fp = io.TextIOWrapper(io.BytesIO(body), encoding="utf-8")
        results.append(mod.parse(fp, env, **kw))
    assert results[0] == results[1]


@needs_std
def test_parse_multipart_request():
    # The old parse() crashed on multipart requests (it handed
    # parse_multipart a str boundary); ours gives parse_multipart's result.
    body = upload_form()
    env = {"REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(len(body)),
           "CONTENT_TYPE": "multipart/form-data; boundary=" + BOUNDARY}
    assert mycgi.parse(io.BytesIO(body), env) == stdcgi.parse_multipart(
        io.BytesIO(body), {"boundary": BOUNDARY.encode()})


def test_print_helpers(capsys):
    f = form(mycgi, qs="a=<b>", method="GET")
    mycgi.print_form(f)
    mycgi.print_environ({"X": "<y>"})
    mycgi.print_directory()
    mycgi.print_environ_usage()
    out = capsys.readouterr().out
    assert "&lt;b&gt;" in out and "&lt;y&gt;" in out and "<b>" not in out
    assert not hasattr(mycgi, "escape")


# -- a CGI script, run the way a server runs it -----------------------------

def run_script(source, env, body=b""):
    """Run `source` as a CGI script, with modules/compat first on the path
    so that `import cgi, cgitb` finds ours."""
    full = "import sys; sys.path.insert(0, %r)\n" % COMPAT + \
        textwrap.dedent(source)
    environ = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
               "PYTHONIOENCODING": "utf-8"}
    environ.update(env)
    return subprocess.run([sys.executable, "-c", full], input=body,
                          env=environ, capture_output=True, timeout=60)


TUTORIAL = """
    import cgi, cgitb
    cgitb.enable()
    assert cgi.__file__.startswith(sys.path[0]), cgi.__file__
    form = cgi.FieldStorage()
    print("Content-Type: text/plain; charset=utf-8")
    print()
    print("name=%s" % form.getvalue("name"))
    print("subject=%s" % form.getlist("subject"))
    if "file" in form:
        item = form["file"]
        print("file=%s %d" % (item.filename, len(item.file.read())))
"""


def test_tutorial_script_get():
    r = run_script(TUTORIAL, {"REQUEST_METHOD": "GET",
                              "QUERY_STRING": "name=Zo%C3%AB&subject=a"})
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines()[2:] == ["name=Zoë",
                                                  "subject=['a']"]


def test_tutorial_script_upload():
    body = multipart("b", [field("name", "Zoë"), field("subject", "a"),
                           field("subject", "b"),
                           upload("file", UPLOAD_NAME, BIG)])
    r = run_script(TUTORIAL, {"REQUEST_METHOD": "POST",
                              "CONTENT_TYPE":
                                  "multipart/form-data; boundary=b",
                              "CONTENT_LENGTH": str(len(body))}, body)
    assert r.returncode == 0, r.stderr
    assert r.stdout.decode().splitlines()[2:] == [
        "name=Zoë", "subject=['a', 'b']", "file=%s %d" % (UPLOAD_NAME,
                                                          len(BIG))]


# -- cgitb --------------------------------------------------------------------

class Boom(Exception):
    pass


def failing_function(items, label):
    secret = "<script>alert('x')</script>"     # noqa: F841 (reported)
    count = len(items)
    raise Boom("went <wrong> with %d items" % count)


def exc_info():
    try:
        failing_function([1, 2, 3], label="näme")
    except Boom:
        return sys.exc_info()


HEADER_LINE = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+:[^\n]*\n")


def split_cgi(output):
    """(header lines, body) of a CGI response; fails unless the output
    starts with a well-formed header block."""
    head, sep, body = output.partition("\n\n")
    assert sep, output[:200]
    lines = [line + "\n" for line in head.split("\n")]
    for line in lines:
        assert HEADER_LINE.fullmatch(line), line
    return lines, body


def test_cgitb_html_page():
    out = io.StringIO()
    mycgitb.Hook(file=out).handle(exc_info())
    headers, body = split_cgi(out.getvalue())
    assert any(h.lower().startswith("content-type: text/html")
               for h in headers)
    assert "Boom" in body and "failing_function" in body
    assert "went &lt;wrong&gt; with 3 items" in body
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in body
    assert "<script>alert" not in body
    assert "n&#228;me" in body                 # non-ASCII as references
    assert out.getvalue().isascii()
    assert "raise Boom(&quot;went &lt;wrong&gt;" in body     # source line
    assert "test_compat.py" in body


def test_cgitb_page_after_headers_hides_its_header_lines():
    # Output already started: the header lines must land inside an HTML
    # comment that the report's preamble closes again.
    page = mycgitb.reset() + mycgitb.html(exc_info())
    first, rest = page.split("\n", 1)
    assert first.endswith("<!--")
    comment, after = rest.split("-->", 1)
    assert "Content-Type" in comment
    assert "Boom" in after


@needs_std
def test_cgitb_reports_what_the_stdlib_reported():
    info = exc_info()
    for mod in (mycgitb, stdcgitb):
        page = mod.html(info)
        assert "Boom" in page and "failing_function" in page
        assert "&lt;script&gt;" in page and "<script>alert" not in page
        assert "went" in mod.text(info)


def test_cgitb_logdir(tmp_path):
    out = io.StringIO()
    mycgitb.Hook(file=out, logdir=str(tmp_path)).handle(exc_info())
    files = list(tmp_path.iterdir())
    assert len(files) == 1 and files[0].suffix == ".html"
    saved = files[0].read_text(encoding="utf-8")
    assert "Boom" in saved and "failing_function" in saved
    assert str(files[0]) in out.getvalue()


def test_cgitb_logdir_unwritable(tmp_path):
    out = io.StringIO()
    mycgitb.Hook(file=out, logdir=str(tmp_path / "nope")).handle(exc_info())
    assert "Could not save" in out.getvalue()
    assert "Boom" in out.getvalue()


def test_cgitb_display_off(tmp_path):
    out = io.StringIO()
    mycgitb.Hook(display=0, file=out, logdir=str(tmp_path)).handle(
        exc_info())
    split_cgi(out.getvalue())
    assert "failing_function" not in out.getvalue()
    assert "failing_function" in next(tmp_path.iterdir()).read_text()


def test_cgitb_text_format(tmp_path):
    out = io.StringIO()
    mycgitb.Hook(file=out, format="text", logdir=str(tmp_path)).handle(
        exc_info())
    report = out.getvalue()
    assert report.startswith("Python exception")
    assert "Boom: went <wrong> with 3 items" in report
    assert "failing_function" in report
    assert "secret = \"<script>alert('x')</script>\"" in report
    assert "&lt;" not in report
    assert next(tmp_path.iterdir()).suffix == ".txt"


def test_cgitb_chained_exceptions_and_bad_repr():
    class BadRepr:
        def __repr__(self):
            raise RuntimeError("no repr")

    def inner():
        obj = BadRepr()     # noqa: F841 (reported)
        return {}["key"]

    try:
        try:
            inner()
        except KeyError as e:
            raise ValueError("outer problem") from e
    except ValueError:
        info = sys.exc_info()
    page = mycgitb.html(info)
    assert page.index("<h1>KeyError") < page.index("<h1>ValueError")
    assert "direct cause" in page
    assert "repr() failed" in page


def test_cgitb_context_lines():
    info = exc_info()
    assert "secret = " in mycgitb.text(info, context=5)
    lines = [ln for ln in mycgitb.text(info, context=1).splitlines()
             if ln.startswith("->")]
    assert lines and all("raise" in ln or "failing_function(" in ln
                         for ln in lines)


def test_cgitb_handler_and_enable(monkeypatch):
    out = io.StringIO()
    # Hook() writes to sys.stdout as it is when the error happens.
    monkeypatch.setattr(sys, "stdout", out)
    try:
        failing_function([], "x")
    except Boom:
        mycgitb.handler()
    assert "failing_function" in out.getvalue()

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    mycgitb.enable(display=0, format="text", context=2)
    hook = sys.excepthook
    assert isinstance(hook, mycgitb.Hook)
    assert (hook.display, hook.format, hook.context) == (0, "text", 2)


def test_cgitb_enable_in_a_script(tmp_path):
    r = run_script("""
        import cgitb
        cgitb.enable(logdir=%r)
        def handler(request):
            token = "<secret>"
            return request["user"]
        handler({})
    """ % str(tmp_path), {"REQUEST_METHOD": "GET"})
    assert r.returncode == 1
    headers, body = split_cgi(r.stdout.decode("ascii"))
    assert "Status: 500 Internal Server Error\n" in headers
    assert "KeyError" in body and "handler" in body
    assert "&lt;secret&gt;" in body
    assert len(list(tmp_path.iterdir())) == 1
