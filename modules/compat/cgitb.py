# Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE).
"""mod_pycgi's compatibility implementation of the ``cgitb`` module.

Python 3.13 removed ``cgitb`` from the standard library; CGI scripts still
begin with ``import cgitb; cgitb.enable()``.  This is mod_pycgi's own,
independent implementation of that documented API: after enable(), an
uncaught exception produces a report of the traceback -- every frame with
its source lines and local variables -- sent to the browser as an HTML
page (or plain text), and optionally saved in a log directory.

    enable(display=1, logdir=None, context=5, format='html')
    handler(info=None)      # report the exception being handled now
    html(einfo, context=5)  # the HTML report as a string
    text(einfo, context=5)  # the plain-text report as a string
    reset()                 # the preamble that makes the page display
    Hook                    # the sys.excepthook object enable() installs

The report shows local variables: leave it off (or display=0 with a
logdir) on a public server.
"""

import inspect
import keyword
import linecache
import os
import re
import reprlib
import sys
import tempfile
import time
import traceback
from html import escape as _html_escape

__all__ = ['enable', 'handler', 'Hook', 'html', 'text', 'reset']

_MAX_LOCALS = 100       # variables listed per frame
_MAX_FRAMES = 100       # frames listed per exception (the innermost ones)
_MAX_CHAIN = 10         # chained exceptions (__cause__/__context__) shown


def reset():
    """Text to write before the report so that it shows in the browser
    whether or not the script had already sent its CGI headers.

    Before the headers, the first lines *are* the header block: a valid
    header line, Status and Content-Type, then the blank line.  After the
    headers, the same lines land in the HTML body, where the "<!--" at the
    end of the first line opens a comment that hides the rest of them.
    The comment ends at the "-->" inside a hidden span (which hides that
    "-->" when there was no comment), and the end tags that follow get the
    report out of any element the script left open.

    Unlike the old module, the first header's name is a valid HTTP token:
    httpd 2.4 rejects a header named "<!--" with a 500 error.
    """
    return ('X-Traceback: Python exception <!--\n'
            'Status: 500 Internal Server Error\n'
            'Content-Type: text/html; charset=utf-8\n'
            '\n'
            '<span hidden style="display:none"> --></span>'
            '</script></style></textarea></title></xmp></select></option>'
            '</pre></code></table></table></table></ul></ol></dl>'
            '</div></div></div></span></p>\n')


# -- helpers ------------------------------------------------------------------

def _esc(value):
    """HTML-escape, and turn non-ASCII into character references so the
    page survives any stdout encoding."""
    return _html_escape(str(value), quote=True).encode(
        'ascii', 'xmlcharrefreplace').decode('ascii')


class _Repr(reprlib.Repr):
    """reprlib with room for useful detail, and safe against objects
    whose __repr__ itself fails."""

    def __init__(self):
        super().__init__()
        self.maxlevel = 3
        self.maxstring = 300
        self.maxother = 300
        self.maxlong = 100
        self.maxlist = self.maxtuple = self.maxset = 20
        self.maxfrozenset = self.maxdeque = self.maxarray = 20
        self.maxdict = 20

    def repr_instance(self, obj, level):
        try:
            text = repr(obj)
        except Exception as err:
            return '<%s object; repr() failed: %s>' % (
                type(obj).__name__, type(err).__name__)
        if len(text) > self.maxother:
            keep = (self.maxother - 3) // 2
            text = text[:keep] + '...' + text[len(text) - keep:]
        return text


_repr = _Repr()


def _safe_repr(value):
    try:
        return _repr.repr(value)
    except Exception as err:
        return '<unrepresentable: %s>' % type(err).__name__


def _safe_str(value):
    try:
        return str(value)
    except Exception as err:
        return '<str() failed: %s>' % type(err).__name__


_IDENT = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')


def _frame_variables(frame, source_lines):
    """(name, value) pairs worth showing for a frame.

    In a function, all its local variables.  At module level the "locals"
    are every global of the script, imports and functions included, so
    only the names used in the lines shown are listed.
    """
    names = frame.f_locals
    if frame.f_code.co_name == '<module>':
        used = []
        for line in source_lines:
            for name in _IDENT.findall(line):
                if name not in used and not keyword.iskeyword(name):
                    used.append(name)
        chosen = []
        for name in used:
            if name.startswith('__') or name not in names:
                continue
            value = names[name]
            if inspect.ismodule(value) or inspect.isroutine(value) \
                    or inspect.isclass(value):
                continue
            chosen.append((name, value))
    else:
        chosen = list(names.items())
    return chosen[:_MAX_LOCALS], len(chosen) > _MAX_LOCALS


def _frame_records(etb, context):
    """One dict per traceback entry, outermost first."""
    entries = list(traceback.walk_tb(etb))
    # A RecursionError has ~1000 frames: keep the innermost, which are
    # where the problem shows.
    omitted = max(0, len(entries) - _MAX_FRAMES)
    records = []
    for frame, lineno in entries[omitted:]:
        code = frame.f_code
        filename = code.co_filename
        lines = []
        if context > 0 and lineno:
            first = max(1, lineno - (context - 1) // 2)   # centred
            # mod_pycgi's embedded interpreter outlives requests, and with
            # it linecache: drop lines cached before the script was edited.
            linecache.checkcache(filename)
            for n in range(first, first + context):
                line = linecache.getline(filename, n, frame.f_globals)
                if not line:
                    break
                lines.append((n, line.rstrip('\r\n')))
        try:
            args = inspect.formatargvalues(
                *inspect.getargvalues(frame),
                formatvalue=lambda v: '=' + _safe_repr(v))
        except Exception:
            args = '(...)'
        if code.co_name == '<module>':
            args = ''                   # a script's top level: no call
        variables, truncated = _frame_variables(
            frame, [text for _, text in lines])
        records.append({
            'file': os.path.abspath(filename) if filename and
            not filename.startswith('<') else filename,
            'line': lineno, 'func': code.co_name, 'args': args,
            'source': lines,
            'locals': [(k, _safe_repr(v)) for k, v in variables],
            'more_locals': truncated,
        })
    return records, omitted


def _exception_chain(einfo):
    """[(etype, evalue, etb, how it led to the next)], first cause first."""
    etype, evalue, etb = einfo
    chain = [(etype, evalue, etb, None)]
    seen = {id(evalue)}
    while isinstance(evalue, BaseException) and len(chain) < _MAX_CHAIN:
        if evalue.__cause__ is not None:
            prev, how = evalue.__cause__, 'cause'
        elif evalue.__context__ is not None and \
                not evalue.__suppress_context__:
            prev, how = evalue.__context__, 'context'
        else:
            break
        if id(prev) in seen:        # a cycle of contexts
            break
        seen.add(id(prev))
        chain.append((type(prev), prev, prev.__traceback__, how))
        evalue = prev
    # Oldest first, as traceback prints them; each entry's "how" says how
    # it led to the one after it.
    chain.reverse()
    return chain


_LINKS = {
    'cause': 'The exception above was the direct cause of the '
             'following exception:',
    'context': 'While handling the exception above, another exception '
               'was raised:',
}


def _type_name(etype):
    if isinstance(etype, type):
        mod = etype.__module__
        if mod in ('builtins', '__main__', None):
            return etype.__qualname__
        return '%s.%s' % (mod, etype.__qualname__)
    return _safe_str(etype)


def _exception_notes(evalue):
    notes = getattr(evalue, '__notes__', None)
    if isinstance(notes, (list, tuple)):
        return [_safe_str(n) for n in notes]
    return []


def _exception_attributes(evalue):
    """Public, non-callable attributes of the exception (errno, filename,
    lineno...), which often say more than its message."""
    attrs = []
    for name in dir(evalue):
        if name.startswith('_') or name in ('args', 'with_traceback',
                                             'add_note'):
            continue
        try:
            value = getattr(evalue, name)
        except Exception:
            continue
        if not callable(value):
            attrs.append((name, _safe_repr(value)))
    return attrs


# -- HTML report --------------------------------------------------------------

_STYLE = """\
<style>
#pycgi-traceback { font-family: sans-serif; background: #fff; color: #222;
  border-top: 6px solid #b22; padding: 0.5em 1em; margin: 1em 0; }
#pycgi-traceback h1 { font-size: 1.5em; color: #b22; margin: 0.3em 0; }
#pycgi-traceback h2 { font-size: 1.2em; margin: 1.2em 0 0.3em; }
#pycgi-traceback .message { font-size: 1.1em; white-space: pre-wrap; }
#pycgi-traceback .frame { border: 1px solid #ccc; margin: 0.8em 0; }
#pycgi-traceback .where { background: #eee; padding: 0.3em 0.6em;
  font-family: monospace; }
#pycgi-traceback pre { margin: 0; padding: 0.3em 0.6em; overflow-x: auto; }
#pycgi-traceback .current { background: #fdd; display: block; }
#pycgi-traceback table { border-collapse: collapse; margin: 0.3em 0.6em; }
#pycgi-traceback td { font-family: monospace; vertical-align: top;
  padding: 0.1em 0.6em; border-bottom: 1px solid #eee; }
#pycgi-traceback .meta { color: #666; font-size: 0.9em; }
</style>
"""


def _html_frame(rec):
    out = ['<div class="frame">']
    out.append('<div class="where">%s, line %s, in <strong>%s</strong>%s'
               '</div>' % (_esc(rec['file']), _esc(rec['line']),
                           _esc(rec['func']), _esc(rec['args'])))
    if rec['source']:
        # The current line's span is a block: it needs no line break.
        rows = []
        for n, line in rec['source']:
            text = _esc('%5d  %s' % (n, line))
            rows.append('<span class="current">%s</span>' % text
                        if n == rec['line'] else text + '\n')
        out.append('<pre>%s</pre>' % ''.join(rows))
    if rec['locals']:
        out.append('<table>')
        for name, value in rec['locals']:
            out.append('<tr><td>%s</td><td>%s</td></tr>'
                       % (_esc(name), _esc(value)))
        if rec['more_locals']:
            out.append('<tr><td colspan="2">(more variables not '
                       'shown)</td></tr>')
        out.append('</table>')
    out.append('</div>')
    return '\n'.join(out)


def _html_exception(etype, evalue, etb, context):
    records, omitted = _frame_records(etb, context)
    out = ['<h1>%s</h1>' % _esc(_type_name(etype)),
           '<p class="message">%s</p>' % _esc(_safe_str(evalue))]
    for note in _exception_notes(evalue):
        out.append('<p class="message">%s</p>' % _esc(note))
    if records:
        out.append('<p>Calls that led to the error, outermost first; the '
                   'highlighted line is where each one was when it '
                   'happened.</p>')
    if omitted:
        out.append('<p>(%d outer frames not shown)</p>' % omitted)
    out.extend(_html_frame(rec) for rec in records)
    attrs = _exception_attributes(evalue)
    if attrs:
        out.append('<h2>Exception attributes</h2><table>')
        out.extend('<tr><td>%s</td><td>%s</td></tr>' % (_esc(k), _esc(v))
                   for k, v in attrs)
        out.append('</table>')
    return '\n'.join(out)


def html(einfo, context=5):
    """Return an HTML report of the exception einfo = (type, value, tb):
    the exception, then each frame's location, `context` source lines
    around the current one, and its local variables.  All text is
    escaped; the result is plain ASCII."""
    etype = einfo[0]
    parts = ['<title>%s</title>' % _esc(_type_name(etype)), _STYLE,
             '<div id="pycgi-traceback">']
    for etype, evalue, etb, link in _exception_chain(einfo):
        parts.append(_html_exception(etype, evalue, etb, context))
        if link:
            parts.append('<h2>%s</h2>' % _esc(_LINKS[link]))
    plain = ''.join(traceback.format_exception(*einfo))
    parts.append('<details><summary>Plain traceback</summary>'
                 '<pre>%s</pre></details>' % _esc(plain))
    parts.append('<p class="meta">Python %s (%s), %s</p>' % (
        _esc(sys.version.split()[0]), _esc(sys.executable),
        _esc(time.strftime('%Y-%m-%d %H:%M:%S %z'))))
    parts.append('</div>\n')
    return '\n'.join(parts)


# -- plain-text report --------------------------------------------------------

def _text_exception(etype, evalue, etb, context):
    records, omitted = _frame_records(etb, context)
    out = ['%s: %s' % (_type_name(etype), _safe_str(evalue))]
    out.extend(_exception_notes(evalue))
    if omitted:
        out.append('(%d outer frames not shown)' % omitted)
    for rec in records:
        out.append('')
        out.append('File %s, line %s, in %s%s' % (
            rec['file'], rec['line'], rec['func'], rec['args']))
        for n, line in rec['source']:
            out.append('%s%5d  %s' % ('->' if n == rec['line'] else '  ',
                                      n, line))
        for name, value in rec['locals']:
            out.append('        %s = %s' % (name, value))
        if rec['more_locals']:
            out.append('        (more variables not shown)')
    attrs = _exception_attributes(evalue)
    if attrs:
        out.append('')
        out.append('Exception attributes:')
        out.extend('    %s = %s' % kv for kv in attrs)
    return '\n'.join(out)


def text(einfo, context=5):
    """Return a plain-text report of einfo = (type, value, tb), with the
    same content as html()."""
    parts = ['Python exception (Python %s, %s, %s)' % (
        sys.version.split()[0], sys.executable,
        time.strftime('%Y-%m-%d %H:%M:%S %z')), '']
    for etype, evalue, etb, link in _exception_chain(einfo):
        parts.append(_text_exception(etype, evalue, etb, context))
        if link:
            parts.extend(['', _LINKS[link], ''])
    parts.extend(['', 'The plain traceback:', '',
                  ''.join(traceback.format_exception(*einfo))])
    return '\n'.join(parts)


# -- the hook -----------------------------------------------------------------

def _write(out, data):
    try:
        out.write(data)
    except UnicodeEncodeError:
        # A text report may hold characters the stream cannot encode.
        enc = getattr(out, 'encoding', None) or 'ascii'
        out.write(data.encode(enc, 'backslashreplace').decode(enc))


class Hook:
    """Reports an exception: install as sys.excepthook (enable() does),
    or call handle() from an except block."""

    def __init__(self, display=1, logdir=None, context=5, file=None,
                 format='html'):
        self.display = display
        self.logdir = logdir
        self.context = context
        # None means "sys.stdout at the time of the error": mod_pycgi's
        # embedded runner gives each request its own sys.stdout, so a
        # stream captured at enable() time could be a finished request's.
        self.file = file
        self.format = format

    def __call__(self, etype, evalue, etb):
        self.handle((etype, evalue, etb))

    def handle(self, info=None):
        info = info or sys.exc_info()
        out = self.file if self.file is not None else sys.stdout
        as_html = self.format == 'html'
        if as_html:
            _write(out, reset())
        try:
            doc = html(info, self.context) if as_html \
                else text(info, self.context)
            plain = False
        except Exception:
            # The report itself failed (a hostile object, say): fall back
            # to the standard traceback rather than lose the error.
            doc = ''.join(traceback.format_exception(*info))
            plain = True

        if self.display:
            if as_html and plain:
                _write(out, '<pre>%s</pre>\n' % _esc(doc))
            else:
                _write(out, doc)
        elif as_html:
            _write(out, '<h1>Internal error</h1>\n<p>The script stopped '
                        'on an unexpected error.</p>\n')
        else:
            _write(out, 'The script stopped on an unexpected error.\n')

        if self.logdir is not None:
            message = self._log(doc, as_html and not plain)
            _write(out, ('<p>%s</p>\n' % _esc(message)) if as_html
                   else message + '\n')
        try:
            out.flush()
        except Exception:
            pass

    def _log(self, doc, is_html):
        suffix = '.html' if is_html else '.txt'
        try:
            fd, path = tempfile.mkstemp(prefix='pycgi-tb-', suffix=suffix,
                                        dir=self.logdir)
            with os.fdopen(fd, 'w', encoding='utf-8',
                           errors='backslashreplace') as f:
                if is_html:
                    f.write('<!DOCTYPE html>\n<meta charset="utf-8">\n')
                f.write(doc)
        except Exception as err:
            return 'Could not save the error report in %s (%s: %s).' % (
                self.logdir, type(err).__name__, _safe_str(err))
        return 'The error report was saved as %s.' % path


def handler(info=None):
    """Report the exception being handled (or `info`) on sys.stdout."""
    Hook().handle(info)


def enable(display=1, logdir=None, context=5, format='html'):
    """Report uncaught exceptions from now on (sets sys.excepthook).

    display: show the report to the client (else only a short notice);
    logdir: also save each report as a file in this directory;
    context: source lines shown around each frame's current line;
    format: 'html', or 'text' for a plain-text report.
    """
    sys.excepthook = Hook(display=display, logdir=logdir, context=context,
                          format=format)
