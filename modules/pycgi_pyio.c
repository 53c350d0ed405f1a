/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_pyio.c -- the _pycgi built-in module: stream objects for an
 * embedded script's stdin/stdout/stderr.
 *
 * stdout and stderr objects play io.BufferedIOBase (TextIOWrapper sits
 * on them directly); the stdin object plays io.RawIOBase (readinto) and
 * gets an io.BufferedReader between it and its TextIOWrapper.
 *
 * Building the three io objects costs more than running a small script,
 * so each process keeps one set and rebinds it to the next request --
 * but only a set that is provably as good as new: nothing outside holds
 * a reference to any part of it (reference counts), nobody reconfigured
 * or decorated it, nothing is left unread in stdin's layers, and
 * stdout/stderr were flushed cleanly and still turn "\n" into exactly
 * b"\n".  Anything else is dropped and built afresh for the next
 * request.
 *
 * A dropped stream may still be referenced: libraries keep a std stream
 * from import time (Mercurial's sys.stdout.buffer, logging's
 * StreamHandler).  In a CGI process such a reference is the process's
 * own fd, i.e. the request's; here a stream left clean by its request
 * serves the request that is open now -- but only for the thread that
 * runs that request's script.  No other thread ever reaches a request
 * but its own, and threads a script left running reach none.
 *
 * Every stream operation reaches its request under pycgi_io.lock, with
 * the GIL released: two threads of one script never run the output
 * path of one request at once, and no thread reaches a request after
 * the runner closed it (pycgi_pyio_close() waits for the operation).
 */
#include "pycgi_pyio.h"
#include "pycgi_script.h"
#include "apr_thread_mutex.h"
#include "ap_listen.h"
#include <signal.h>
#include <dirent.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <netinet/in.h>

#define PYCGI_IO_OUT 1
#define PYCGI_IO_IN  2
#define PYCGI_IO_ERR 3

typedef struct {
    PyObject_HEAD
    apr_uint64_t gen;           /* request it is bound to; 0 = none */
    int reroute;                /* unbound but left clean: serves the
                                 * open request's script thread */
    int kind;
    int closed;                 /* the script closed it */
    int touched;                /* flushed (stdin: reconfigured) or
                                 * abandoned: never reused */
    int read_from;              /* stdin was read */
    int probing;                /* between requests: writes go to probe */
    char probe[8];
    Py_ssize_t probe_len;
} pycgi_stream;

static PyObject *pycgi_timeout_exc;     /* _pycgi.ScriptTimeout */
static PyObject *pycgi_pyio_init_module(void);
static PyObject *pycgi_unsupported;     /* io.UnsupportedOperation */

/* The open request: the one whose script runs in this process now
 * (embedded requests are serialised per process, see pycgi_interp.h).
 * `req` and `gen` change only under `lock`, by the runner's thread. */
static struct {
    apr_thread_mutex_t *lock;
    pycgi_script *req;          /* NULL between requests */
    apr_uint64_t gen;           /* of req; 0 between requests */
    unsigned long tid;          /* Python ident of the script's thread */
    apr_uint64_t next_gen;      /* last generation given out (GIL) */
    PyObject *orphans;          /* idents of threads earlier scripts left
                                 * running (a set), or NULL (GIL) */
    int forked;                 /* this is a process a script forked */
    volatile int sleeping;      /* the script's thread is in wait() */
} pycgi_io;

static void pycgi_stream_closed_error(void)
{
    PyErr_SetString(PyExc_ValueError, "I/O operation on closed file.");
}

/* Is this thread one that an earlier script left running?  GIL held. */
static int pycgi_thread_orphaned(unsigned long tid)
{
    PyObject *id;
    int in;

    if (!pycgi_io.orphans) {
        return 0;
    }
    id = PyLong_FromUnsignedLong(tid);
    in = id ? PySet_Contains(pycgi_io.orphans, id) : 1;
    Py_XDECREF(id);
    PyErr_Clear();
    return in != 0;
}

/* May `s` be used at all?  (Whether it reaches a request is decided
 * under the lock, pycgi_stream_target.) */
static int pycgi_stream_live(pycgi_stream *s)
{
    if (s->closed || (!s->probing && !s->gen && !s->reroute)) {
        pycgi_stream_closed_error();
        return 0;
    }
    return 1;
}

/* pycgi_io.lock held: the request `s` serves for thread `tid`, or NULL.
 * Its own request while that is open; the open request if `s` was left
 * clean by an earlier one and `tid` runs the open request's script. */
static pycgi_script *pycgi_stream_target(pycgi_stream *s,
                                         unsigned long tid)
{
    if (!pycgi_io.req) {
        return NULL;
    }
    if (s->gen == pycgi_io.gen
        || (s->reroute && tid == pycgi_io.tid)) {
        return pycgi_io.req;
    }
    return NULL;
}

#define PYCGI_OP_WRITE 1
#define PYCGI_OP_FLUSH 2
#define PYCGI_OP_READ  3

/* One operation of stream `s` on its request, GIL released, under the
 * lock.  Returns 1 if it ran (its status in *rv), 0 with ValueError set
 * if `s` reaches no request from this thread. */
static int pycgi_stream_do(pycgi_stream *s, int op, char *buf,
                           apr_size_t len, apr_size_t *got, apr_status_t *rv)
{
    unsigned long tid = PyThread_get_thread_ident();
    pycgi_script *req = NULL;
    PyThreadState *ts = NULL;

    /* A forked copy never reaches the request: the connection is the
     * parent's, and the lock may have been copied held. */
    if (pycgi_io.forked || pycgi_thread_orphaned(tid)) {
        pycgi_stream_closed_error();
        return 0;
    }
    *rv = APR_SUCCESS;
    /* stdout's write keeps the GIL: Python 3.11's TextIOWrapper loses
     * text another thread writes while buffer.write() has released it
     * (CPython gh-119506), and we are its buffer.  A write blocked on
     * the client then holds the script's other threads (the watchdog
     * is paused meanwhile).  Flushes, reads and stderr (which logs)
     * release it. */
    if (op != PYCGI_OP_WRITE || s->kind != PYCGI_IO_OUT) {
        ts = PyEval_SaveThread();
    }
    apr_thread_mutex_lock(pycgi_io.lock);
    req = pycgi_stream_target(s, tid);
    if (req && op == PYCGI_OP_READ) {
        *rv = req->io->read(req, buf, len, got);
    }
    else if (req && op == PYCGI_OP_FLUSH) {
        *rv = req->io->flush(req);
    }
    else if (req && s->kind == PYCGI_IO_OUT) {
        *rv = req->io->write(req, buf, len);
    }
    else if (req) {
        req->io->err(req, buf, len);
    }
    apr_thread_mutex_unlock(pycgi_io.lock);
    if (ts) {
        PyEval_RestoreThread(ts);
    }
    if (!req) {
        pycgi_stream_closed_error();
        return 0;
    }
    return 1;
}

static PyObject *pycgi_stream_write(pycgi_stream *s, PyObject *arg)
{
    Py_buffer view;
    apr_status_t rv = APR_SUCCESS;

    if (!pycgi_stream_live(s)) {
        return NULL;
    }
    if (s->kind == PYCGI_IO_IN) {
        PyErr_SetString(pycgi_unsupported, "not writable");
        return NULL;
    }
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0) {
        return NULL;
    }
    if (s->probing) {
        Py_ssize_t n = view.len;

        if (s->probe_len + n <= (Py_ssize_t)sizeof(s->probe)) {
            memcpy(s->probe + s->probe_len, view.buf, (size_t)n);
            s->probe_len += n;
        }
        else {
            /* More than a probe ever writes: certainly not b"\n". */
            s->probe_len = (Py_ssize_t)sizeof(s->probe) + 1;
        }
        PyBuffer_Release(&view);
        return PyLong_FromSsize_t(n);
    }
    if (!pycgi_stream_do(s, PYCGI_OP_WRITE, view.buf, (apr_size_t)view.len,
                         NULL, &rv)) {
        PyBuffer_Release(&view);
        return NULL;
    }
    PyBuffer_Release(&view);
    if (rv != APR_SUCCESS) {
        /* Like writing to a pipe nobody reads: the client went away. */
        errno = EPIPE;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    return PyLong_FromSsize_t(view.len);
}

static PyObject *pycgi_stream_flush(pycgi_stream *s, PyObject *unused)
{
    apr_status_t rv = APR_SUCCESS;

    (void)unused;
    if (!pycgi_stream_live(s)) {
        return NULL;
    }
    /* TextIOWrapper.reconfigure() flushes: a stdin that saw one is not
     * as good as new any more. */
    if (s->kind == PYCGI_IO_IN) {
        s->touched = 1;
    }
    if (s->kind == PYCGI_IO_OUT && !s->probing
        && !pycgi_stream_do(s, PYCGI_OP_FLUSH, NULL, 0, NULL, &rv)) {
        return NULL;
    }
    if (rv != APR_SUCCESS) {
        errno = EPIPE;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    Py_RETURN_NONE;
}

/* May `s` be read now?  Marks stdin as read from.  Between requests
 * (probing) stdin is at its end. */
static int pycgi_stream_reading(pycgi_stream *s)
{
    if (!pycgi_stream_live(s)) {
        return 0;
    }
    if (s->kind != PYCGI_IO_IN) {
        PyErr_SetString(pycgi_unsupported, "not readable");
        return 0;
    }
    if (!s->probing) {
        s->read_from = 1;
    }
    return 1;
}

static PyObject *pycgi_stream_readinto(pycgi_stream *s, PyObject *arg)
{
    Py_buffer view;
    apr_size_t got = 0;
    apr_status_t rv;

    if (!pycgi_stream_reading(s)) {
        return NULL;
    }
    if (s->probing) {
        return PyLong_FromLong(0);
    }
    if (PyObject_GetBuffer(arg, &view, PyBUF_WRITABLE) < 0) {
        return NULL;
    }
    if (!pycgi_stream_do(s, PYCGI_OP_READ, view.buf, (apr_size_t)view.len,
                         &got, &rv)) {
        PyBuffer_Release(&view);
        return NULL;
    }
    PyBuffer_Release(&view);
    if (rv != APR_SUCCESS && rv != APR_EOF) {
        errno = ECONNRESET;
        return PyErr_SetFromErrno(PyExc_OSError);
    }
    return PyLong_FromSize_t(got);
}

/* read(n) / read() / readall() for the stdin object: what
 * io.BufferedReader calls for unbounded reads. */
static PyObject *pycgi_stream_read(pycgi_stream *s, PyObject *args)
{
    Py_ssize_t want = -1, have = 0, cap;
    PyObject *buf;

    if (!PyArg_ParseTuple(args, "|n:read", &want)) {
        return NULL;
    }
    if (!pycgi_stream_reading(s)) {
        return NULL;
    }
    if (s->probing) {
        return PyBytes_FromStringAndSize(NULL, 0);
    }
    cap = want >= 0 ? want : HUGE_STRING_LEN;
    buf = PyBytes_FromStringAndSize(NULL, cap);
    while (buf && (want < 0 || have < want)) {
        apr_size_t got = 0;
        apr_status_t rv;

        if (have == cap) {
            cap *= 2;
            if (_PyBytes_Resize(&buf, cap) < 0) {
                return NULL;
            }
        }
        if (!pycgi_stream_do(s, PYCGI_OP_READ, PyBytes_AS_STRING(buf) + have,
                             (apr_size_t)(cap - have), &got, &rv)) {
            Py_DECREF(buf);
            return NULL;
        }
        if (rv != APR_SUCCESS && rv != APR_EOF) {
            Py_DECREF(buf);
            errno = ECONNRESET;
            return PyErr_SetFromErrno(PyExc_OSError);
        }
        have += (Py_ssize_t)got;
        if (rv == APR_EOF || got == 0 || want >= 0) {
            break;
        }
    }
    if (buf && _PyBytes_Resize(&buf, have) < 0) {
        return NULL;
    }
    return buf;
}

static PyObject *pycgi_stream_readall(pycgi_stream *s, PyObject *unused)
{
    PyObject *args = PyTuple_New(0), *res;

    (void)unused;
    if (!args) {
        return NULL;
    }
    res = pycgi_stream_read(s, args);
    Py_DECREF(args);
    return res;
}

static PyObject *pycgi_stream_readable(pycgi_stream *s, PyObject *unused)
{
    (void)unused;
    return PyBool_FromLong(s->kind == PYCGI_IO_IN);
}

static PyObject *pycgi_stream_writable(pycgi_stream *s, PyObject *unused)
{
    (void)unused;
    return PyBool_FromLong(s->kind != PYCGI_IO_IN);
}

static PyObject *pycgi_stream_false(pycgi_stream *s, PyObject *unused)
{
    (void)s; (void)unused;
    Py_RETURN_FALSE;
}

/* tell() on a pipe: what a CGI process's stdin/stdout are.  (Also what
 * io.BufferedReader asks when it is built: answering without an
 * AttributeError is cheaper.) */
static PyObject *pycgi_stream_tell(pycgi_stream *s, PyObject *unused)
{
    (void)s; (void)unused;
    errno = ESPIPE;
    return PyErr_SetFromErrno(PyExc_OSError);
}

static PyObject *pycgi_stream_fileno(pycgi_stream *s, PyObject *unused)
{
    (void)s; (void)unused;
    PyErr_SetString(pycgi_unsupported,
                    "embedded CGI streams have no file descriptor");
    return NULL;
}

static PyObject *pycgi_stream_close(pycgi_stream *s, PyObject *unused)
{
    apr_status_t rv;

    (void)unused;
    /* As sys.stdout.close() in a process: the stream is closed (later
     * writes raise ValueError), what was written stands, and the
     * response ends when the script does (fd 1 itself stays open). */
    if (!s->closed && s->kind == PYCGI_IO_OUT && !s->probing
        && (s->gen || s->reroute)
        && !pycgi_stream_do(s, PYCGI_OP_FLUSH, NULL, 0, NULL, &rv)) {
        PyErr_Clear();
    }
    s->closed = 1;
    Py_RETURN_NONE;
}

/* abandon(): the script called os._exit(): what is still buffered
 * above this stream is lost, as in a dying process. */
static PyObject *pycgi_stream_abandon(pycgi_stream *s, PyObject *unused)
{
    (void)unused;
    s->gen = 0;
    s->reroute = 0;
    s->touched = 1;
    Py_RETURN_NONE;
}

static PyObject *pycgi_stream_closed(pycgi_stream *s, void *unused)
{
    (void)unused;
    return PyBool_FromLong(s->closed
                           || (!s->gen && !s->reroute && !s->probing));
}

static PyObject *pycgi_stream_name(pycgi_stream *s, void *unused)
{
    (void)unused;
    return PyUnicode_FromString(s->kind == PYCGI_IO_IN ? "<stdin>"
                                : s->kind == PYCGI_IO_OUT ? "<stdout>"
                                : "<stderr>");
}

static PyMethodDef pycgi_stream_methods[] = {
    {"write", (PyCFunction)pycgi_stream_write, METH_O, NULL},
    {"flush", (PyCFunction)pycgi_stream_flush, METH_NOARGS, NULL},
    {"readinto", (PyCFunction)pycgi_stream_readinto, METH_O, NULL},
    {"read", (PyCFunction)pycgi_stream_read, METH_VARARGS, NULL},
    {"readall", (PyCFunction)pycgi_stream_readall, METH_NOARGS, NULL},
    {"readable", (PyCFunction)pycgi_stream_readable, METH_NOARGS, NULL},
    {"writable", (PyCFunction)pycgi_stream_writable, METH_NOARGS, NULL},
    {"seekable", (PyCFunction)pycgi_stream_false, METH_NOARGS, NULL},
    {"isatty", (PyCFunction)pycgi_stream_false, METH_NOARGS, NULL},
    {"tell", (PyCFunction)pycgi_stream_tell, METH_NOARGS, NULL},
    {"fileno", (PyCFunction)pycgi_stream_fileno, METH_NOARGS, NULL},
    {"close", (PyCFunction)pycgi_stream_close, METH_NOARGS, NULL},
    {"abandon", (PyCFunction)pycgi_stream_abandon, METH_NOARGS, NULL},
    {NULL, NULL, 0, NULL}
};

static PyGetSetDef pycgi_stream_getset[] = {
    {"closed", (getter)pycgi_stream_closed, NULL, NULL, NULL},
    {"name", (getter)pycgi_stream_name, NULL, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL}
};

static PyTypeObject pycgi_stream_type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "_pycgi.Stream",
    .tp_basicsize = sizeof(pycgi_stream),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "A CGI script's standard stream inside mod_pycgi.",
    .tp_methods = pycgi_stream_methods,
    .tp_getset = pycgi_stream_getset,
};

static PyObject *pycgi_stream_new(apr_uint64_t gen, int kind)
{
    pycgi_stream *s = PyObject_New(pycgi_stream, &pycgi_stream_type);

    if (s) {
        s->gen = gen;
        s->reroute = 0;
        s->kind = kind;
        s->closed = 0;
        s->touched = 0;
        s->read_from = 0;
        s->probing = 0;
        s->probe_len = 0;
    }
    return (PyObject *)s;
}

/* --- the per-process set of std streams ------------------------------ */

#define PYCGI_STD_IN  0
#define PYCGI_STD_OUT 1
#define PYCGI_STD_ERR 2

static struct {
    PyObject *stream[3];        /* our Stream objects */
    PyObject *bufin;            /* io.BufferedReader over stream[IN] */
    PyObject *text[3];          /* io.TextIOWrapper over bufin/stream */
    const char *errors;         /* errors= of text[IN] and text[OUT] */
} pycgi_std;

static apr_uint64_t pycgi_std_builds;   /* text streams built */
static apr_uint64_t pycgi_code_misses;  /* _pycgi.code_miss() calls */

/* Interned names and constants for the checks between requests. */
static PyObject *pycgi_s_encoding, *pycgi_s_errors, *pycgi_s_line_buffering,
                *pycgi_s_write_through, *pycgi_s_write, *pycgi_s_flush,
                *pycgi_s_read, *pycgi_s_newlines, *pycgi_s_newline,
                *pycgi_s_detach;

static PyObject *pycgi_io_text;         /* io.TextIOWrapper */
static PyObject *pycgi_io_bufreader;    /* io.BufferedReader */

#define PYCGI_STREAM(o) ((pycgi_stream *)(o))

/* Let go of an io layer.  If ours is the last reference, detach it
 * first: its finaliser would close the layers below, which a library
 * may still hold. */
static void pycgi_std_release(PyObject **layer)
{
    if (*layer && Py_REFCNT(*layer) == 1) {
        PyObject *res = PyObject_CallMethodNoArgs(*layer, pycgi_s_detach);

        Py_XDECREF(res);
        PyErr_Clear();
    }
    Py_CLEAR(*layer);
}

static void pycgi_std_drop(int i)
{
    pycgi_stream *s = (pycgi_stream *)pycgi_std.stream[i];

    /* Probing while the layers above let go: what they still flush
     * (left over from a script that died with its buffers) is thrown
     * away, and their flush or close cannot fail or close the stream. */
    if (s) {
        s->gen = 0;
        s->probing = 1;
    }
    pycgi_std_release(&pycgi_std.text[i]);
    if (i == PYCGI_STD_IN) {
        pycgi_std_release(&pycgi_std.bufin);
    }
    if (s) {
        s->probing = 0;
    }
    Py_CLEAR(pycgi_std.stream[i]);
}

static PyObject *pycgi_std_wrap(PyObject *buffer, const char *errors,
                                int line_buffering)
{
    PyObject *args = PyTuple_Pack(1, buffer), *kw, *res = NULL;

    kw = Py_BuildValue("{s:s,s:s,s:O}", "encoding", "utf-8", "errors",
                       errors, "line_buffering",
                       line_buffering ? Py_True : Py_False);
    if (args && kw) {
        res = PyObject_Call(pycgi_io_text, args, kw);
    }
    Py_XDECREF(args);
    Py_XDECREF(kw);
    return res;
}

static int pycgi_std_make(int i, apr_uint64_t gen, const char *errors)
{
    static const int kinds[3] = {PYCGI_IO_IN, PYCGI_IO_OUT, PYCGI_IO_ERR};
    PyObject *under;

    pycgi_std.stream[i] = pycgi_stream_new(gen, kinds[i]);
    if (!pycgi_std.stream[i]) {
        return -1;
    }
    under = pycgi_std.stream[i];
    if (i == PYCGI_STD_IN) {
        pycgi_std.bufin = PyObject_CallOneArg(pycgi_io_bufreader, under);
        if (!pycgi_std.bufin) {
            pycgi_std_drop(i);
            return -1;
        }
        under = pycgi_std.bufin;
    }
    /* What python3 gives a CGI process: UTF-8 (its locale is C or
     * coerced to C.UTF-8), backslashreplace and line buffering on
     * stderr. */
    pycgi_std.text[i] = i == PYCGI_STD_ERR
        ? pycgi_std_wrap(under, "backslashreplace", 1)
        : pycgi_std_wrap(under, errors, 0);
    if (!pycgi_std.text[i]) {
        pycgi_std_drop(i);
        return -1;
    }
    pycgi_std_builds++;
    return 0;
}

int pycgi_pyio_bind(const char *errors, PyObject **text, PyObject **out)
{
    apr_uint64_t gen = ++pycgi_io.next_gen;
    int i;

    if (pycgi_std.errors && strcmp(pycgi_std.errors, errors)) {
        pycgi_std_drop(PYCGI_STD_IN);
        pycgi_std_drop(PYCGI_STD_OUT);
    }
    pycgi_std.errors = errors;
    for (i = 0; i < 3; i++) {
        if (pycgi_std.text[i]) {
            pycgi_stream *s = PYCGI_STREAM(pycgi_std.stream[i]);

            s->gen = gen;
            s->touched = 0;
            s->read_from = 0;
        }
        else if (pycgi_std_make(i, gen, errors) < 0) {
            return -1;
        }
        text[i] = pycgi_std.text[i];
    }
    *out = pycgi_std.stream[PYCGI_STD_OUT];
    return 0;
}

/* Is `obj` free of instance attributes a script may have added? */
static int pycgi_std_plain(PyObject *obj)
{
    PyObject **dict = _PyObject_GetDictPtr(obj);

    return !dict || !*dict || PyDict_GET_SIZE(*dict) == 0;
}

/* Does text attribute `name` of `obj` equal `want`? */
static int pycgi_std_attr_is(PyObject *obj, PyObject *name, const char *want)
{
    PyObject *v = PyObject_GetAttr(obj, name);
    int ok = v && PyUnicode_Check(v)
             && PyUnicode_CompareWithASCIIString(v, want) == 0;

    Py_XDECREF(v);
    PyErr_Clear();
    return ok;
}

static int pycgi_std_flag_is(PyObject *obj, PyObject *name, int want)
{
    PyObject *v = PyObject_GetAttr(obj, name);
    int ok = v && PyObject_IsTrue(v) == want;

    Py_XDECREF(v);
    PyErr_Clear();
    return ok;
}

/* stdout/stderr: write "\n" through the text layer to the probe; as
 * good as new iff nothing was pending and exactly b"\n" comes out. */
static int pycgi_std_probe(int i)
{
    pycgi_stream *s = PYCGI_STREAM(pycgi_std.stream[i]);
    PyObject *res;
    int ok;

    s->probing = 1;
    s->probe_len = 0;
    res = PyObject_CallMethodOneArg(pycgi_std.text[i], pycgi_s_write,
                                    pycgi_s_newline);
    Py_XDECREF(res);
    if (res) {
        res = PyObject_CallMethodNoArgs(pycgi_std.text[i], pycgi_s_flush);
        Py_XDECREF(res);
    }
    s->probing = 0;
    ok = res && s->probe_len == 1 && s->probe[0] == '\n';
    PyErr_Clear();
    return ok;
}

/* stdin after the script read from it: as good as new iff nothing is
 * left above the raw stream -- no bytes in the BufferedReader, no text
 * or partial character in the TextIOWrapper (read() at the probe's end
 * of input gives "") -- and no newline was seen (sys.stdin.newlines of a
 * fresh process is None). */
static int pycgi_std_drained(void)
{
    pycgi_stream *s = PYCGI_STREAM(pycgi_std.stream[PYCGI_STD_IN]);
    PyObject *res, *nl = NULL;
    int ok;

    s->probing = 1;
    res = PyObject_CallMethodNoArgs(pycgi_std.text[PYCGI_STD_IN],
                                    pycgi_s_read);
    ok = res && PyUnicode_Check(res) && PyUnicode_GET_LENGTH(res) == 0;
    if (ok) {
        nl = PyObject_GetAttr(pycgi_std.text[PYCGI_STD_IN], pycgi_s_newlines);
        ok = nl == Py_None;
    }
    s->probing = 0;
    Py_XDECREF(res);
    Py_XDECREF(nl);
    PyErr_Clear();
    return ok;
}

static int pycgi_std_reusable(int i)
{
    PyObject *t = pycgi_std.text[i];
    pycgi_stream *s = PYCGI_STREAM(pycgi_std.stream[i]);

    if (!t || s->closed || Py_REFCNT(t) != 1
        || Py_REFCNT(pycgi_std.stream[i]) != 2 || !pycgi_std_plain(t)
        || !pycgi_std_attr_is(t, pycgi_s_encoding, "utf-8")
        || !pycgi_std_attr_is(t, pycgi_s_errors, i == PYCGI_STD_ERR
                              ? "backslashreplace" : pycgi_std.errors)) {
        return 0;
    }
    if (i == PYCGI_STD_IN) {
        return !s->touched && Py_REFCNT(pycgi_std.bufin) == 2
               && pycgi_std_plain(pycgi_std.bufin)
               && (!s->read_from || pycgi_std_drained());
    }
    return pycgi_std_flag_is(t, pycgi_s_line_buffering, i == PYCGI_STD_ERR)
           && pycgi_std_flag_is(t, pycgi_s_write_through, 0)
           && pycgi_std_probe(i);
}

void pycgi_pyio_unbind(int clean)
{
    int i;

    for (i = 0; i < 3; i++) {
        if (pycgi_std.stream[i]) {
            PYCGI_STREAM(pycgi_std.stream[i])->gen = 0;
        }
    }
    for (i = 0; i < 3; i++) {
        pycgi_stream *s;

        if (clean && pycgi_std_reusable(i)) {
            continue;
        }
        /* Dropped, perhaps kept by a library: it may serve later
         * requests' scripts if nothing of this request is left in its
         * layers (the runner's flushes went through; stdin holds no
         * unread input). */
        if ((s = (pycgi_stream *)pycgi_std.stream[i]) != NULL) {
            s->reroute = clean && !s->closed
                         && (i != PYCGI_STD_IN
                             || (!s->touched && (!s->read_from
                                                 || pycgi_std_drained())));
        }
        pycgi_std_drop(i);
    }
}

PyObject *pycgi_pyio_timeout_exc(void)
{
    return pycgi_timeout_exc;
}

apr_status_t pycgi_pyio_child_init(apr_pool_t *p)
{
    return apr_thread_mutex_create(&pycgi_io.lock, APR_THREAD_MUTEX_DEFAULT,
                                   p);
}

void pycgi_pyio_open(pycgi_script *req)
{
    apr_thread_mutex_lock(pycgi_io.lock);
    pycgi_io.req = req;
    pycgi_io.gen = pycgi_io.next_gen;
    pycgi_io.tid = PyThread_get_thread_ident();
    apr_thread_mutex_unlock(pycgi_io.lock);
}

void pycgi_pyio_close(void)
{
    /* Waits for an operation of another thread still under way, e.g. a
     * write blocked on a slow client: never with the GIL held. */
    Py_BEGIN_ALLOW_THREADS
    apr_thread_mutex_lock(pycgi_io.lock);
    pycgi_io.req = NULL;
    pycgi_io.gen = 0;
    apr_thread_mutex_unlock(pycgi_io.lock);
    Py_END_ALLOW_THREADS
}

/* _pycgi.wait(secs): time.sleep() for scripts.  The script's threads
 * sleep at most until the open request's deadline (False: it came
 * first, the request has timed out); other threads just sleep. */
static PyObject *pycgi_mod_wait(PyObject *self, PyObject *arg)
{
    double secs = PyFloat_AsDouble(arg);
    apr_interval_time_t want, left = 0;
    apr_uint64_t gen = 0;
    int orphan, slept = 1;

    (void)self;
    if (secs == -1.0 && PyErr_Occurred()) {
        return NULL;
    }
    want = (apr_interval_time_t)(secs * APR_USEC_PER_SEC);
    if (pycgi_io.forked) {
        Py_BEGIN_ALLOW_THREADS
        apr_sleep(want);
        Py_END_ALLOW_THREADS
        Py_RETURN_TRUE;
    }
    orphan = pycgi_thread_orphaned(PyThread_get_thread_ident());
    Py_BEGIN_ALLOW_THREADS
    apr_thread_mutex_lock(pycgi_io.lock);
    if (pycgi_io.req && !orphan) {
        gen = pycgi_io.gen;
        left = pycgi_io.req->deadline - apr_time_now();
    }
    apr_thread_mutex_unlock(pycgi_io.lock);
    if (!gen || want <= left) {
        apr_sleep(want);
    }
    else {
        if (left > 0) {
            /* Cut short at the deadline: the timeout needs no exception
             * from the watchdog here (pycgi_pyio_sleeping). */
            pycgi_io.sleeping = 1;
            apr_sleep(left);
        }
        slept = 0;
        /* timed_out before `sleeping` ends: the watchdog sees one. */
        apr_thread_mutex_lock(pycgi_io.lock);
        if (pycgi_io.req && pycgi_io.gen == gen) {
            pycgi_io.req->timed_out = 1;
        }
        apr_thread_mutex_unlock(pycgi_io.lock);
        pycgi_io.sleeping = 0;
    }
    Py_END_ALLOW_THREADS
    return PyBool_FromLong(slept);
}

int pycgi_pyio_sleeping(void)
{
    return pycgi_io.sleeping;
}

/* _pycgi.ending(): the script has returned; what follows is the
 * runner's own clean-up flush.  (Called by the runner's thread, which
 * alone changes pycgi_io.req.) */
static PyObject *pycgi_mod_ending(PyObject *self, PyObject *unused)
{
    (void)self; (void)unused;
    if (pycgi_io.req) {
        pycgi_io.req->ending = 1;
    }
    Py_RETURN_NONE;
}

/* _pycgi.orphans(idents): the threads scripts left running (a set of
 * thread idents, or empty).  Each gets SystemExit raised in it, as its
 * process's exit would have ended it, and until it has ended it
 * reaches no request. */
static PyObject *pycgi_mod_orphans(PyObject *self, PyObject *arg)
{
    PyObject *set, *it, *id;

    (void)self;
    if (!(set = PySet_New(arg))) {
        return NULL;
    }
    Py_CLEAR(pycgi_io.orphans);
    if (PySet_GET_SIZE(set) == 0) {
        Py_DECREF(set);
        Py_RETURN_NONE;
    }
    pycgi_io.orphans = set;
    if (!(it = PyObject_GetIter(set))) {
        return NULL;
    }
    while ((id = PyIter_Next(it)) != NULL) {
        unsigned long tid = PyLong_AsUnsignedLong(id);

        if (!PyErr_Occurred()) {
            PyThreadState_SetAsyncExc(tid, PyExc_SystemExit);
        }
        PyErr_Clear();
        Py_DECREF(id);
    }
    Py_DECREF(it);
    Py_RETURN_NONE;
}

/* Signal dispositions a script changed, as the kernel had them before
 * (a handler httpd installed is not Python's to put back).  Saved and
 * restored by the runner's thread (GIL held). */
static struct sigaction pycgi_sig_saved[NSIG];
static char pycgi_sig_is_saved[NSIG];

/* _pycgi.save_signal(signum): before a script changes it. */
static PyObject *pycgi_mod_save_signal(PyObject *self, PyObject *arg)
{
    long sig = PyLong_AsLong(arg);

    (void)self;
    if (sig == -1 && PyErr_Occurred()) {
        return NULL;
    }
    if (sig > 0 && sig < NSIG && !pycgi_sig_is_saved[sig]
        && sigaction((int)sig, NULL, &pycgi_sig_saved[sig]) == 0) {
        pycgi_sig_is_saved[sig] = 1;
    }
    Py_RETURN_NONE;
}

/* _pycgi.restore_signals(): put every saved disposition back. */
static PyObject *pycgi_mod_restore_signals(PyObject *self, PyObject *unused)
{
    int sig;

    (void)self; (void)unused;
    for (sig = 1; sig < NSIG; sig++) {
        if (pycgi_sig_is_saved[sig]) {
            sigaction(sig, &pycgi_sig_saved[sig], NULL);
            pycgi_sig_is_saved[sig] = 0;
        }
    }
    Py_RETURN_NONE;
}

/* Is `port` one httpd listens on? */
static int pycgi_listen_port(apr_port_t port)
{
    ap_listen_rec *lr;

    for (lr = ap_listeners; lr; lr = lr->next) {
        if (lr->bind_addr && lr->bind_addr->port == port) {
            return 1;
        }
    }
    return 0;
}

/* _pycgi.forked_child(): runs first in a process a script forked (an
 * at-fork hook).  A CGI process's child holds only the script's
 * descriptors; this one has httpd's: its listening sockets (it could
 * accept clients) and the connections of every client of the process.
 * Those -- every TCP socket whose local port is one httpd listens on
 * -- are closed here; what the script opened itself stays.  Its std
 * streams reach no request (pycgi_stream_do). */
static PyObject *pycgi_mod_forked_child(PyObject *self, PyObject *unused)
{
    DIR *d;
    struct dirent *e;

    (void)self; (void)unused;
    pycgi_io.forked = 1;
    pycgi_io.req = NULL;
    pycgi_io.gen = 0;
    if (!(d = opendir("/proc/self/fd"))) {
        Py_RETURN_NONE;
    }
    while ((e = readdir(d)) != NULL) {
        int fd = atoi(e->d_name);
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        struct stat st;
        apr_port_t port = 0;

        if (fd < 3 || fd == dirfd(d) || fstat(fd, &st) < 0
            || !S_ISSOCK(st.st_mode)
            || getsockname(fd, (struct sockaddr *)&ss, &len) < 0) {
            continue;
        }
        if (ss.ss_family == AF_INET) {
            port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
        }
        else if (ss.ss_family == AF_INET6) {
            port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
        }
        if (port && pycgi_listen_port(port)) {
            close(fd);
        }
    }
    closedir(d);
    Py_RETURN_NONE;
}

/* _pycgi.code_miss(): the runner compiled (or recompiled) a script. */
static PyObject *pycgi_mod_code_miss(PyObject *self, PyObject *unused)
{
    (void)self; (void)unused;
    pycgi_code_misses++;
    Py_RETURN_NONE;
}

void pycgi_pyio_counts(apr_uint64_t *std_builds, apr_uint64_t *code_misses)
{
    *std_builds = pycgi_std_builds;
    *code_misses = pycgi_code_misses;
}

static PyMethodDef pycgi_mod_methods[] = {
    {"wait", pycgi_mod_wait, METH_O,
     "Sleep, returning False if the script's timeout came first."},
    {"ending", pycgi_mod_ending, METH_NOARGS,
     "The script has returned: the next flushes are the runner's."},
    {"forked_child", pycgi_mod_forked_child, METH_NOARGS,
     "In a process a script forked: let go of httpd's sockets."},
    {"save_signal", pycgi_mod_save_signal, METH_O,
     "Keep a signal's disposition before a script changes it."},
    {"restore_signals", pycgi_mod_restore_signals, METH_NOARGS,
     "Put back the dispositions save_signal() kept."},
    {"orphans", pycgi_mod_orphans, METH_O,
     "Threads scripts left running: stopped, and cut off from requests."},
    {"code_miss", pycgi_mod_code_miss, METH_NOARGS,
     "Count a code cache miss (for the status page)."},
    {NULL, NULL, 0, NULL}
};

static struct PyModuleDef pycgi_moddef = {
    PyModuleDef_HEAD_INIT, "_pycgi", "mod_pycgi's in-server support.", -1,
    pycgi_mod_methods, NULL, NULL, NULL, NULL
};

PyObject *pycgi_pyio_module_create(void)
{
    return pycgi_pyio_init_module();
}

static PyObject *pycgi_pyio_init_module(void)
{
    PyObject *m, *io;

    if (PyType_Ready(&pycgi_stream_type) < 0) {
        return NULL;
    }
    io = PyImport_ImportModule("io");
    if (!io) {
        return NULL;
    }
    pycgi_unsupported = PyObject_GetAttrString(io, "UnsupportedOperation");
    pycgi_io_text = PyObject_GetAttrString(io, "TextIOWrapper");
    pycgi_io_bufreader = PyObject_GetAttrString(io, "BufferedReader");
    Py_DECREF(io);
    if (!pycgi_unsupported || !pycgi_io_text || !pycgi_io_bufreader) {
        return NULL;
    }
    if (!(pycgi_s_encoding = PyUnicode_InternFromString("encoding"))
        || !(pycgi_s_errors = PyUnicode_InternFromString("errors"))
        || !(pycgi_s_line_buffering =
             PyUnicode_InternFromString("line_buffering"))
        || !(pycgi_s_write_through =
             PyUnicode_InternFromString("write_through"))
        || !(pycgi_s_write = PyUnicode_InternFromString("write"))
        || !(pycgi_s_flush = PyUnicode_InternFromString("flush"))
        || !(pycgi_s_read = PyUnicode_InternFromString("read"))
        || !(pycgi_s_newlines = PyUnicode_InternFromString("newlines"))
        || !(pycgi_s_detach = PyUnicode_InternFromString("detach"))
        || !(pycgi_s_newline = PyUnicode_FromString("\n"))) {
        return NULL;
    }
    m = PyModule_Create(&pycgi_moddef);
    if (!m) {
        return NULL;
    }
    /* A BaseException, so that a script's "except Exception:" does not
     * swallow its own timeout. */
    pycgi_timeout_exc = PyErr_NewException("_pycgi.ScriptTimeout",
                                           PyExc_BaseException, NULL);
    if (!pycgi_timeout_exc
        || PyModule_AddObjectRef(m, "ScriptTimeout", pycgi_timeout_exc) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}

int pycgi_pyio_inittab_add(void)
{
    return PyImport_AppendInittab("_pycgi", pycgi_pyio_init_module);
}
