# Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE).
"""mod_pycgi's compatibility implementation of the ``cgi`` module.

Python 3.13 removed ``cgi`` from the standard library, but CGI scripts
written for older Pythons still start with ``import cgi`` and read their
form through ``cgi.FieldStorage``.  This module is mod_pycgi's own,
independent implementation of that documented API, written so that such
scripts run unmodified:

    form = cgi.FieldStorage()
    name = form.getvalue('name', '')
    upload = form['file']          # .filename, .file, .value (bytes)

What it provides: FieldStorage, MiniFieldStorage, parse, parse_multipart,
parse_header, the print_* debugging helpers, test() and the module
attribute ``maxlen`` (largest request body accepted; 0 means no limit).
"""

import codecs
import email.message
import email.parser
import html
import io
import os
import re
import sys
import tempfile
import urllib.parse
from collections.abc import Mapping

__all__ = ["MiniFieldStorage", "FieldStorage", "parse", "parse_multipart",
           "parse_header", "test", "print_exception", "print_environ",
           "print_form", "print_directory", "print_arguments",
           "print_environ_usage"]

# Largest request body FieldStorage and parse() accept, in bytes; 0 means
# unlimited.  Scripts set it as cgi.maxlen = N before reading the form.
maxlen = 0

_CHUNK = 64 * 1024          # read size for request bodies
_SPOOL_LIMIT = 64 * 1024    # field data kept in memory before make_file()
_MAX_HEADER_BLOCK = 64 * 1024   # one part's header lines, in bytes
_MAX_PADDING = 1024         # whitespace allowed after a boundary marker


# -- header parsing ------------------------------------------------------

_QUOTED_PAIR = re.compile(r'\\([\\"])')


def _split_params(line):
    """Split a header value at the semicolons that are outside quotes.

    Inside or outside quotes, only \\\\ and \\" are escapes: a lone
    backslash stays a backslash, because browsers send Windows paths such
    as filename="C:\\dir\\a.txt" without escaping them.
    """
    pieces = []
    start = 0
    quoted = False
    i = 0
    n = len(line)
    while i < n:
        c = line[i]
        if c == '\\' and line[i + 1:i + 2] in ('\\', '"'):
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        elif c == ';' and not quoted:
            pieces.append(line[start:i])
            start = i + 1
        i += 1
    pieces.append(line[start:])
    return pieces


def parse_header(line):
    """Parse a Content-Type-like header value.

    Returns (main value, dict of parameters); parameter names are lower
    case, quoted values are unquoted, parameters without '=' are dropped.
    """
    pieces = _split_params(line)
    key = pieces[0].strip()
    params = {}
    for piece in pieces[1:]:
        name, eq, value = piece.partition('=')
        if not eq:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = _QUOTED_PAIR.sub(r'\1', value[1:-1])
        params[name.strip().lower()] = value
    return key, params


def _header(headers, name):
    """headers[name] or None, whatever the capitalisation of the key.

    The top-level headers are a plain dict with lower-case keys (as the
    old module built them), a part's are an email Message.
    """
    if isinstance(headers, email.message.Message):
        return headers.get(name)
    value = headers.get(name)
    if value is None:
        for key, val in headers.items():
            if isinstance(key, str) and key.lower() == name:
                return val
    return value


def _rfc2231_filename(value):
    """Decode filename*=charset'lang'percent-encoded (RFC 2231/5987)."""
    charset, sep, rest = value.partition("'")
    _lang, sep2, encoded = rest.partition("'")
    if not (sep and sep2):
        return urllib.parse.unquote(value)
    try:
        return urllib.parse.unquote(encoded, encoding=charset or 'utf-8',
                                    errors='replace')
    except LookupError:
        return urllib.parse.unquote(encoded, errors='replace')


def _environ_text(value, encoding, errors):
    """A CGI variable as text decoded the way the form is decoded.

    os.environ holds undecodable bytes as surrogates; turning them back
    into bytes and decoding with the form's own error handler gives
    printable text instead of strings that fail when written out.
    """
    try:
        raw = os.fsencode(value)
    except UnicodeError:
        return value
    return raw.decode(encoding, errors)


# -- reading request bodies ----------------------------------------------

class _Body:
    """A request body: at most `limit` bytes of `fp` (None: up to EOF)."""

    def __init__(self, fp, limit, enforce_maxlen=True):
        self.fp = fp
        self.left = limit
        self.count = 0
        self.enforce_maxlen = enforce_maxlen

    def read(self, n=-1):
        if n is None or n < 0:
            n = sys.maxsize
        if self.left is not None:
            n = min(n, self.left)
        if n <= 0:
            return b''
        data = self.fp.read(min(n, _CHUNK))
        if not isinstance(data, (bytes, bytearray)):
            raise ValueError("%r.read() returned %s, not bytes: give "
                             "FieldStorage a binary file"
                             % (self.fp, type(data).__name__))
        self.count += len(data)
        if self.left is not None:
            self.left -= len(data)
        # A Content-Length over maxlen is refused up front; a body without
        # one (chunked request) is held to the same limit as it arrives.
        if self.enforce_maxlen and maxlen and self.count > maxlen:
            raise ValueError('Maximum content length exceeded')
        return bytes(data)


def _read_all(source):
    chunks = []
    while True:
        data = source.read(_CHUNK)
        if not data:
            return b''.join(chunks)
        chunks.append(data)


class _Multipart:
    """Splits a byte stream at the delimiter lines of one boundary.

    A delimiter is a line "--boundary" (then optional whitespace), the
    last one "--boundary--"; the line break before it belongs to the
    delimiter, not to the data.  Data is handed out as it arrives, with
    only a delimiter's length held back, so a part of any size streams
    through in bounded memory.  Bare LF line breaks are accepted as well
    as CRLF.
    """

    def __init__(self, source, boundary, in_part=False):
        self.source = source
        self.marker = b'\n--' + boundary
        # Outside a part (the preamble), the first delimiter may start the
        # stream with no line break before it: a made-up one lets the
        # search treat it like every other delimiter.
        self.buf = bytearray() if in_part else bytearray(b'\r\n')
        self.eof = False
        self.part_over = False      # current part's delimiter reached
        self.finished = False       # closing delimiter or end of input
        self.closed_properly = False

    def _fill(self):
        data = self.source.read(_CHUNK)
        if data:
            self.buf += data
        else:
            self.eof = True

    def _locate(self):
        """Look for the next delimiter in the buffer.

        Returns (data_end, next_start, closing): data_end is how many
        bytes at the front are certainly part data; next_start is None
        when no complete delimiter line is buffered yet.
        """
        buf = self.buf
        pos = 0
        while True:
            i = buf.find(self.marker, pos)
            if i < 0:
                # The tail could be the start of a delimiter (and its CR).
                return max(0, len(buf) - len(self.marker)), None, None
            end = i - 1 if i > 0 and buf[i - 1] == 0x0D else i
            j = i + len(self.marker)
            nl = buf.find(b'\n', j, j + _MAX_PADDING)
            if nl >= 0:
                rest, after = bytes(buf[j:nl]).rstrip(), nl + 1
            elif self.eof or len(buf) - j >= _MAX_PADDING:
                rest, after = bytes(buf[j:]).rstrip(), len(buf)
                if not self.eof:
                    rest = b'not a delimiter'
            else:
                return end, None, None      # need the rest of the line
            if rest in (b'', b'--'):
                return end, after, rest == b'--'
            # "--boundaryX": just data that looks like a boundary.
            pos = i + 1

    def read(self, n=-1):
        """Read up to n bytes of the current part; b'' at its end."""
        if n is None or n < 0:
            n = sys.maxsize
        while not self.part_over:
            data_end, next_start, closing = self._locate()
            if data_end and (next_start is not None or data_end >= n
                             or data_end >= _CHUNK):
                take = min(data_end, n)
                data = bytes(self.buf[:take])
                del self.buf[:take]
                return data
            if next_start is not None:
                del self.buf[:next_start]
                self.part_over = True
                if closing:
                    self.finished = self.closed_properly = True
                break
            if self.eof:
                # Input ended inside a part (a truncated upload): what
                # came is the part's data, and there are no more parts.
                data = bytes(self.buf[:n])
                del self.buf[:len(data)]
                if not self.buf:
                    self.part_over = self.finished = True
                return data
            self._fill()
        return b''

    def parts(self):
        """Yield once per part; the caller reads the part through
        self.read() and what it leaves unread is skipped."""
        while self.read(_CHUNK):        # the preamble
            pass
        while not self.finished:
            self.part_over = False
            yield self
            while self.read(_CHUNK):
                pass


class _PartReader:
    """File-like view of one part's bytes, with push-back for what the
    header reader took beyond the blank line."""

    def __init__(self, multipart, pushback=b''):
        self.multipart = multipart
        self.pushback = pushback

    def read(self, n=-1):
        if self.pushback:
            if n is None or n < 0:
                n = len(self.pushback)
            data, self.pushback = self.pushback[:n], self.pushback[n:]
            return data
        return self.multipart.read(n)


_BLANK_LINE = re.compile(rb'\n\r?\n')


def _read_part_headers(part, encoding, errors):
    """Read a part's header block; returns (Message, bytes read beyond).

    The headers are decoded with the form's encoding, since browsers send
    a non-ASCII filename as raw UTF-8 inside the quotes.
    """
    # A leading LF lets "no headers at all" (the part starts with the
    # blank line) match the same pattern as the end of a header block.
    buf = b'\n'
    while True:
        m = _BLANK_LINE.search(buf)
        if m:
            block, rest = buf[1:m.start()], buf[m.end():]
            break
        if len(buf) > _MAX_HEADER_BLOCK:
            raise ValueError('multipart part headers longer than %d bytes'
                             % _MAX_HEADER_BLOCK)
        data = part.read(_CHUNK)
        if not data:                    # truncated inside the headers
            block, rest = buf[1:], b''
            break
        buf += data
    text = block.decode(encoding, errors)
    return email.parser.HeaderParser().parsestr(text), rest


def _valid_boundary(boundary):
    # RFC 2046 allows 1-70 characters; be generous in length as clients
    # vary, but insist on printable ASCII not ending in a space.
    return (0 < len(boundary) <= 256
            and all(0x20 <= b <= 0x7E for b in boundary)
            and boundary[-1] != 0x20)


# -- form fields -----------------------------------------------------------

class MiniFieldStorage:
    """One name=value field from a query string or urlencoded body."""

    # Same attributes as a FieldStorage, so code can treat both alike.
    filename = None
    list = None
    type = None
    file = None
    type_options = {}
    disposition = None
    disposition_options = {}
    headers = {}

    def __init__(self, name, value):
        self.name = name
        self.value = value

    def __repr__(self):
        return 'MiniFieldStorage(%r, %r)' % (self.name, self.value)


class FieldStorage:
    """A form, or one field or part of it.

    The top-level instance reads the request: the query string for GET
    and HEAD, the body otherwise (urlencoded, multipart/form-data or
    anything else).  For a form, ``list`` holds the fields and the
    mapping methods look them up; a file upload has ``filename`` set and
    its content in ``file`` (positioned at 0) and ``value`` (bytes).

    Attributes: name, filename, value, file, list, type, type_options,
    disposition, disposition_options, headers, plus the constructor's
    arguments and length (the Content-Length, or -1).
    """

    # Class used for the parts of a multipart body; None: this class.
    FieldStorageClass = None

    def __init__(self, fp=None, headers=None, outerboundary=b'',
                 environ=os.environ, keep_blank_values=0, strict_parsing=0,
                 limit=None, encoding='utf-8', errors='replace',
                 max_num_fields=None, separator='&'):
        self.keep_blank_values = keep_blank_values
        self.strict_parsing = strict_parsing
        self.max_num_fields = max_num_fields
        self.separator = separator
        self.encoding = encoding
        self.errors = errors
        self.outerboundary = outerboundary
        self.qs_on_post = None
        self.list = self.file = None
        self.done = 0
        self.bytes_read = 0

        method = environ.get('REQUEST_METHOD', 'GET').upper()
        from_query = method in ('GET', 'HEAD')
        if from_query:
            # The query string is the form; it is read like a body so
            # that both go through one parser.
            qs = environ.get('QUERY_STRING')
            if qs is None:
                # Only a command-line test run lacks QUERY_STRING: there
                # the old convention is "script.py 'a=1&b=2'".
                qs = sys.argv[1] if len(sys.argv) > 1 else ''
            fp = io.BytesIO(_environ_text(qs, encoding, errors)
                            .encode(encoding, errors))
            if headers is None:
                headers = {'content-type':
                           'application/x-www-form-urlencoded'}
        if headers is None:
            headers = {}
            if method == 'POST':
                headers['content-type'] = 'application/x-www-form-urlencoded'
            if 'CONTENT_TYPE' in environ:
                headers['content-type'] = environ['CONTENT_TYPE']
            if 'QUERY_STRING' in environ:
                self.qs_on_post = environ['QUERY_STRING']
            if 'CONTENT_LENGTH' in environ:
                headers['content-length'] = environ['CONTENT_LENGTH']
        elif not isinstance(headers, (Mapping, email.message.Message)):
            raise TypeError("headers must be a mapping or an "
                            "email.message.Message, not %s"
                            % type(headers).__name__)
        self.headers = headers

        if fp is None:
            fp = getattr(sys.stdin, 'buffer', sys.stdin)
        elif isinstance(fp, io.TextIOWrapper):
            fp = fp.buffer
        if not hasattr(fp, 'read'):
            raise TypeError("fp must be a file object, not %s"
                            % type(fp).__name__)
        self.fp = fp

        self.disposition, self.disposition_options = '', {}
        self.name = self.filename = None
        cdisp = _header(headers, 'content-disposition')
        if cdisp is not None:
            self.disposition, self.disposition_options = parse_header(cdisp)
            self.name = self.disposition_options.get('name')
            self.filename = self.disposition_options.get('filename')
            if self.filename is None and \
                    'filename*' in self.disposition_options:
                self.filename = _rfc2231_filename(
                    self.disposition_options['filename*'])
        # Uploaded files are kept as bytes, every other field as text.
        self._binary_file = self.filename is not None

        ctype_header = _header(headers, 'content-type')
        if ctype_header is not None:
            ctype, pdict = parse_header(ctype_header)
        elif outerboundary or method != 'POST':
            # A part without Content-Type is text (RFC 7578).
            ctype, pdict = 'text/plain', {}
        else:
            ctype, pdict = 'application/x-www-form-urlencoded', {}
        # Media types are case-insensitive; compare and expose lower case.
        self.type = ctype.lower()
        self.type_options = pdict
        self.innerboundary = b''
        if 'boundary' in pdict:
            self.innerboundary = pdict['boundary'].encode('utf-8',
                                                          'surrogateescape')

        clen = -1
        clen_header = _header(headers, 'content-length')
        if clen_header is not None:
            try:
                clen = int(clen_header)
            except ValueError:
                pass
            if maxlen and clen > maxlen:
                raise ValueError('Maximum content length exceeded')
        self.length = clen
        if limit is None and clen >= 0:
            limit = clen
        self.limit = limit

        if isinstance(fp, _PartReader):
            source = fp             # already stops at the part's end
        else:
            source = _Body(fp, None if from_query else limit,
                           enforce_maxlen=not from_query)
            if outerboundary:
                # A caller handing us one part of a larger body: it ends
                # at the outer delimiter line.
                source = _PartReader(_Multipart(source, outerboundary,
                                                in_part=True))
        self._source = source

        # Public names, as before, so that subclasses may override them.
        if self.type == 'application/x-www-form-urlencoded':
            self.read_urlencoded()
        elif self.type.startswith('multipart/'):
            self.read_multi(environ, keep_blank_values, strict_parsing)
        else:
            self.read_single()
        if isinstance(source, _Body):
            self.bytes_read = source.count

    # -- reading ----------------------------------------------------------

    def _parse_qs(self, qs):
        pairs = urllib.parse.parse_qsl(
            qs, self.keep_blank_values, self.strict_parsing,
            encoding=self.encoding, errors=self.errors,
            max_num_fields=self.max_num_fields, separator=self.separator)
        return [MiniFieldStorage(key, value) for key, value in pairs]

    def read_urlencoded(self):
        """Read an application/x-www-form-urlencoded body into list."""
        body = _read_all(self._source).decode(self.encoding, self.errors)
        # A POST form's fields come first, then those of the URL's query
        # string (the order the old module used).
        pieces = [body]
        if self.qs_on_post:
            pieces.append(_environ_text(self.qs_on_post, self.encoding,
                                        self.errors))
        self.list = self._parse_qs(self.separator.join(p for p in pieces
                                                       if p))
        self.done = 1

    def read_multi(self, environ, keep_blank_values=None,
                   strict_parsing=None):
        """Read a multipart body into list, one FieldStorage per part.
        (The two flags are accepted for compatibility; the instance's
        own are used.)"""
        if not _valid_boundary(self.innerboundary):
            raise ValueError('Invalid boundary in multipart form: %r'
                             % (self.innerboundary,))
        self.list = []
        if self.qs_on_post:
            # Here the URL's query string fields come before the body's.
            self.list.extend(self._parse_qs(_environ_text(
                self.qs_on_post, self.encoding, self.errors)))
        klass = self.FieldStorageClass or self.__class__
        multipart = _Multipart(self._source, self.innerboundary)
        for part in multipart.parts():
            headers, rest = _read_part_headers(part, self.encoding,
                                               self.errors)
            if self.max_num_fields is not None and \
                    len(self.list) >= self.max_num_fields:
                raise ValueError('Max number of fields exceeded')
            left = None
            if self.max_num_fields is not None:
                left = self.max_num_fields - len(self.list)
            field = klass(_PartReader(part, rest), headers,
                          self.innerboundary, environ,
                          self.keep_blank_values, self.strict_parsing,
                          None, self.encoding, self.errors, left,
                          self.separator)
            self.list.append(field)
        self.done = 1 if multipart.closed_properly else -1

    def read_single(self):
        """Read a body or part that is one value into file."""
        if self._binary_file:
            decoder = None
            self.file = io.BytesIO()
        else:
            # Incremental, so a multi-byte character split between two
            # reads is decoded whole.
            decoder = codecs.getincrementaldecoder(self.encoding)(self.errors)
            self.file = io.StringIO()
        size = 0
        spilled = False
        while True:
            data = self._source.read(_CHUNK)
            chunk = data if decoder is None else \
                decoder.decode(data, final=not data)
            if chunk:
                self.file.write(chunk)
                size += len(chunk)
                # Big fields go to a temporary file rather than memory.
                if not spilled and size > _SPOOL_LIMIT:
                    spill = self.make_file()
                    spill.write(self.file.getvalue())
                    self.file = spill
                    spilled = True
            if not data:
                break
        self.file.seek(0)
        self.done = 1

    def make_file(self):
        """Return a new temporary file for field data too big for memory.

        Subclasses may override it (e.g. to choose the directory).  It
        must be binary for file uploads (self._binary_file) and text
        otherwise.
        """
        if self._binary_file:
            return tempfile.TemporaryFile('wb+')
        # A private store for decoded text: UTF-8 with surrogatepass can
        # hold any str, whatever the form's encoding and error handler.
        return tempfile.TemporaryFile('w+', encoding='utf-8',
                                      errors='surrogatepass', newline='\n')

    # -- access -----------------------------------------------------------

    @property
    def value(self):
        """The field's content (str, or bytes for an upload); the list of
        fields for a form; None if there is neither."""
        if self.file is not None:
            self.file.seek(0)
            data = self.file.read()
            self.file.seek(0)
            return data
        return self.list

    def __repr__(self):
        return 'FieldStorage(%r, %r, %r)' % (self.name, self.filename,
                                             self.value)

    def _fields(self):
        if self.list is None:
            raise TypeError('not indexable: this FieldStorage holds a '
                            'single value, not a form')
        return self.list

    def __iter__(self):
        return iter(self.keys())

    def __getitem__(self, key):
        found = [item for item in self._fields() if item.name == key]
        if not found:
            raise KeyError(key)
        return found[0] if len(found) == 1 else found

    def getvalue(self, key, default=None):
        """The value of field `key` (a list if it occurs more than once),
        or default if it is absent."""
        if key not in self:
            return default
        item = self[key]
        if isinstance(item, list):
            return [x.value for x in item]
        return item.value

    def getfirst(self, key, default=None):
        """The first value of field `key`, or default."""
        for item in self._fields():
            if item.name == key:
                return item.value
        return default

    def getlist(self, key):
        """All values of field `key`, in order; [] if absent."""
        return [item.value for item in self._fields() if item.name == key]

    def keys(self):
        """The field names, each once, in the order they first appear."""
        return list(dict.fromkeys(item.name for item in self._fields()))

    def __contains__(self, key):
        return any(item.name == key for item in self._fields())

    def __len__(self):
        return len(self.keys())

    def __bool__(self):
        if self.list is None:
            raise TypeError('Cannot be converted to bool: this '
                            'FieldStorage holds a single value, not a form')
        return bool(self.list)

    # -- cleanup ----------------------------------------------------------

    def __enter__(self):
        return self

    def __exit__(self, *args):
        self.close()

    def close(self):
        """Close the field's file (and its parts' files)."""
        if self.file is not None:
            self.file.close()
        for item in self.list or ():
            if isinstance(item, FieldStorage):
                item.close()

    def __del__(self):
        # Temporary files of big uploads go as soon as the form does.
        try:
            if self.file is not None:
                self.file.close()
        except Exception:
            pass


# -- module-level parsing functions ---------------------------------------

def parse_multipart(fp, pdict, encoding='utf-8', errors='replace',
                    separator='&'):
    """Parse a multipart/form-data body from binary file `fp`.

    pdict holds the Content-Type parameters, as parse_header() returns
    them: 'boundary' (str or bytes) is required, 'CONTENT-LENGTH' is
    used if present.  Returns {name: [values]}; text fields give str,
    file uploads bytes.
    """
    boundary = pdict['boundary']
    if isinstance(boundary, (bytes, bytearray)):
        boundary = bytes(boundary).decode('ascii')
    headers = email.message.Message()
    headers['Content-Type'] = 'multipart/form-data; boundary="%s"' % (
        boundary.replace('\\', '\\\\').replace('"', '\\"'))
    if 'CONTENT-LENGTH' in pdict:
        headers['Content-Length'] = str(pdict['CONTENT-LENGTH'])
    form = FieldStorage(fp, headers=headers, encoding=encoding,
                        errors=errors, environ={'REQUEST_METHOD': 'POST'},
                        separator=separator)
    return {name: form.getlist(name) for name in form}


def parse(fp=None, environ=os.environ, keep_blank_values=0,
          strict_parsing=0, separator='&'):
    """Parse the request's form into {name: [values]}.

    GET and HEAD read QUERY_STRING.  POST reads the body from fp
    (default sys.stdin): urlencoded bodies are followed by QUERY_STRING's
    fields, multipart bodies are parsed alone.
    """
    if fp is None:
        fp = sys.stdin
    # Percent-escapes are decoded with the stream's encoding; a binary
    # stream has none, and Latin-1 was the traditional choice for it.
    encoding = getattr(fp, 'encoding', None) or 'latin-1'
    if isinstance(fp, io.TextIOWrapper):
        fp = fp.buffer
    method = environ.get('REQUEST_METHOD', 'GET').upper()
    if method == 'POST':
        ctype, pdict = parse_header(environ.get('CONTENT_TYPE', ''))
        ctype = ctype.lower()
        if ctype == 'multipart/form-data':
            if 'CONTENT_LENGTH' in environ and 'CONTENT-LENGTH' not in pdict:
                pdict['CONTENT-LENGTH'] = environ['CONTENT_LENGTH']
            return parse_multipart(fp, pdict, separator=separator)
        qs = ''
        if ctype == 'application/x-www-form-urlencoded':
            try:
                clen = int(environ.get('CONTENT_LENGTH', -1))
            except ValueError:
                clen = -1
            if maxlen and clen > maxlen:
                raise ValueError('Maximum content length exceeded')
            if isinstance(fp, io.TextIOBase):      # e.g. a StringIO
                data = fp.read(clen)
            else:
                data = _read_all(_Body(fp, clen if clen >= 0 else None))
            qs = data.decode(encoding, 'replace') \
                if isinstance(data, bytes) else data
        if 'QUERY_STRING' in environ:
            extra = environ['QUERY_STRING']
        else:
            extra = sys.argv[1] if len(sys.argv) > 1 else ''
        qs = separator.join(p for p in (qs, extra) if p)
    else:
        qs = environ.get('QUERY_STRING')
        if qs is None:
            qs = sys.argv[1] if len(sys.argv) > 1 else ''
    return urllib.parse.parse_qs(qs, keep_blank_values, strict_parsing,
                                 encoding=encoding, separator=separator)


# -- debugging helpers ------------------------------------------------------

def _e(value):
    return html.escape(str(value), quote=True)


def test(environ=os.environ):
    """A CGI script in itself: prints the form and the environment."""
    print('Content-Type: text/html; charset=utf-8')
    print()
    try:
        print('<h1>mod_pycgi cgi module test</h1>')
        form = FieldStorage(environ=environ)
        print_directory()
        print_arguments()
        print_form(form)
        print_environ(environ)
        print_environ_usage()
    except Exception:
        print_exception()


def print_exception(type=None, value=None, tb=None, limit=None):
    """Print the current (or given) exception as HTML."""
    import traceback
    if type is None:
        type, value, tb = sys.exc_info()
    lines = traceback.format_exception(type, value, tb, limit=limit)
    print('<h3>Traceback (most recent call last):</h3>')
    print('<pre>%s</pre>' % _e(''.join(lines)))


def print_environ(environ=os.environ):
    """Print the CGI environment as an HTML definition list."""
    print('<h3>Shell environment:</h3>')
    print('<dl>')
    for key in sorted(environ):
        print('<dt>%s</dt><dd>%s</dd>' % (_e(key), _e(environ[key])))
    print('</dl>')


def print_form(form):
    """Print the fields of a FieldStorage as an HTML definition list."""
    print('<h3>Form contents:</h3>')
    keys = form.keys()
    if not keys:
        print('<p>No form fields.</p>')
    print('<dl>')
    for key in keys:
        value = form[key]
        print('<dt>%s: <i>%s</i></dt><dd>%s</dd>'
              % (_e(key), _e(type(value).__name__), _e(repr(value))))
    print('</dl>')


def print_directory():
    """Print the current working directory."""
    print('<h3>Current working directory:</h3>')
    try:
        print('<pre>%s</pre>' % _e(os.getcwd()))
    except OSError as err:
        print('<pre>OSError: %s</pre>' % _e(err))


def print_arguments():
    """Print sys.argv."""
    print('<h3>Command line arguments:</h3>')
    print('<pre>%s</pre>' % _e(sys.argv))


def print_environ_usage():
    """Print the CGI variables a script may look at."""
    print('<h3>Some CGI environment variables</h3>')
    print('<ul>')
    for name in ('AUTH_TYPE', 'CONTENT_LENGTH', 'CONTENT_TYPE',
                 'DOCUMENT_ROOT', 'GATEWAY_INTERFACE', 'HTTP_ACCEPT',
                 'HTTP_COOKIE', 'HTTP_REFERER', 'HTTP_USER_AGENT',
                 'PATH_INFO', 'PATH_TRANSLATED', 'QUERY_STRING',
                 'REMOTE_ADDR', 'REMOTE_HOST', 'REMOTE_USER',
                 'REQUEST_METHOD', 'REQUEST_URI', 'SCRIPT_FILENAME',
                 'SCRIPT_NAME', 'SERVER_NAME', 'SERVER_PORT',
                 'SERVER_PROTOCOL', 'SERVER_SOFTWARE'):
        print('<li>%s</li>' % name)
    print('</ul>')


if __name__ == '__main__':
    test()
