/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_embed.c -- the embedded runner: one script in this process's
 * interpreter with CGI's contract.  (Who runs embedded is decided in
 * pycgi_runner.c.)
 */
#include "pycgi_python.h"
#include "pycgi_embed.h"
#include "pycgi_env.h"
#include "pycgi_interp.h"
#include "pycgi_pyio.h"
#include "pycgi_exec.h"
#include "unixd.h"
#include "pycgi_parse.h"
#include "pycgi_slowlog.h"
#include <unistd.h>
#include <sys/wait.h>
#include <sys/syscall.h>

extern char **environ;

/* A header block larger than this is handed to the scanner as it is
 * (and refused there if it never ends). */
#define PYCGI_MAX_HEADER_BLOCK (8 * 1024 * 1024)

/* Output the runner flushes after the script returned, with no header
 * block seen yet, is held (up to this much) and goes to the filters in
 * one brigade with EOS: one pass instead of two, and httpd can frame a
 * small page with Content-Length instead of chunks. */
#define PYCGI_END_HOLD (64 * 1024)


/* The process environment as it was at child start, in an array that
 * is ours, not glibc's.  A script's setenv() makes glibc realloc its own
 * array (and copy the request's entries into it); if that array were
 * the one we restore after the script, we would restore freed memory.
 * With this copy, glibc's array and ours never meet. */
static char **pycgi_embed_base_environ;

/* Bytes objects of environment names (GIL held to use; see
 * pycgi_embed_env_key()): the hash finds them by name, the list owns
 * them. */
static apr_hash_t *pycgi_env_keys;
static PyObject *pycgi_env_key_list;

static void pycgi_embed_environ_init(void)
{
    char **copy;
    int n = 0, i;

    while (environ && environ[n]) {
        n++;
    }
    /* malloc, never freed: exit-time code (atexit handlers, library
     * destructors) still reads the environment after the child pool is
     * gone. */
    copy = malloc((n + 1) * sizeof(char *));
    if (!copy) {
        return;
    }
    for (i = 0; i < n; i++) {
        if (!(copy[i] = strdup(environ[i]))) {
            break;
        }
    }
    copy[i] = NULL;
    pycgi_embed_base_environ = environ = copy;
}

/* A CGI process's own children are reparented to init and reaped when
 * it exits; an embedded script's children (a Popen never waited for, a
 * fork) are this httpd process's.  Linux lists the children each thread
 * made: those of the thread that ran the script are the script's (other
 * threads' exec children are left alone).  The finished ones are reaped
 * now, the others handed to the watchdog, which reaps them as they end. */
static void pycgi_embed_reap(request_rec *r)
{
    apr_file_t *f;
    char buf[4096], *p, *end;
    apr_size_t len = sizeof(buf) - 1;
    const char *path = apr_psprintf(r->pool, "/proc/self/task/%ld/children",
                                    (long)syscall(SYS_gettid));

    if (apr_file_open(&f, path, APR_READ, APR_OS_DEFAULT, r->pool)
        != APR_SUCCESS) {
        return;
    }
    if (apr_file_read(f, buf, &len) != APR_SUCCESS) {
        len = 0;
    }
    apr_file_close(f);
    buf[len] = '\0';
    for (p = buf; *p; p = end) {
        long pid = strtol(p, &end, 10);
        int status;

        if (end == p) {
            break;
        }
        if (pid > 0 && waitpid((pid_t)pid, &status, WNOHANG) == 0) {
            pycgi_interp_adopt((pid_t)pid);
        }
    }
}

/* The processes the script started that Python saw (their pids, from
 * any of its threads): reaped now if they have ended, else handed to
 * the watchdog.  GIL held; waitpid(WNOHANG) does not block. */
static void pycgi_embed_reap_pids(PyObject *pids)
{
    Py_ssize_t i;

    for (i = 0; i < PyTuple_GET_SIZE(pids); i++) {
        long pid = PyLong_AsLong(PyTuple_GET_ITEM(pids, i));
        int status;

        if (pid > 0 && waitpid((pid_t)pid, &status, WNOHANG) == 0) {
            pycgi_interp_adopt((pid_t)pid);
        }
    }
    PyErr_Clear();
}

void pycgi_embed_child_init(apr_pool_t *pchild)
{
    apr_pool_t *keys;

    pycgi_embed_environ_init();
    if (apr_pool_create(&keys, pchild) == APR_SUCCESS) {
        pycgi_env_keys = apr_hash_make(keys);
    }
}

/* --- the stream side (no GIL held) ---------------------------------- */

static apr_status_t pycgi_embed_scan(pycgi_embed_req *req, int eos)
{
    apr_bucket_alloc_t *ba = req->script.r->connection->bucket_alloc;

    if (req->hlen) {
        APR_BRIGADE_INSERT_TAIL(req->bb, apr_bucket_pool_create(req->hbuf,
                                req->hlen, req->script.r->pool, ba));
    }
    if (eos) {
        APR_BRIGADE_INSERT_TAIL(req->bb, apr_bucket_eos_create(ba));
    }
    pycgi_output_headers(req->out, req->bb);
    apr_brigade_cleanup(req->bb);
    req->hlen = 0;
    return req->out->pass_rv;
}

/* Output resets the clock: CGIScriptTimeout is the longest silence
 * allowed, as mod_cgi applies it to reads from the script.  Time spent
 * waiting on the client is not the script's silence (httpd's Timeout
 * bounds it): the watchdog is paused meanwhile, and the clock starts
 * afresh after. */
static void pycgi_embed_alive(pycgi_embed_req *req)
{
    if (!req->script.timed_out) {
        req->script.deadline = apr_time_now() + req->timeout;
        pycgi_interp_extend(req->script.deadline);
    }
}

static apr_status_t pycgi_embed_write_out(pycgi_embed_req *req,
                                          const char *data, apr_size_t len);

/* The request of `sc`: its script is the request's first member. */
static pycgi_embed_req *pycgi_embed_of(pycgi_script *sc)
{
    return (pycgi_embed_req *)sc;
}

static apr_status_t pycgi_embed_write(pycgi_script *sc, const char *data,
                                      apr_size_t len)
{
    pycgi_embed_req *req = pycgi_embed_of(sc);
    apr_status_t rv;

    pycgi_interp_pause(1);
    rv = pycgi_embed_write_out(req, data, len);
    pycgi_interp_pause(0);
    pycgi_embed_alive(req);
    return rv;
}

static apr_status_t pycgi_embed_write_out(pycgi_embed_req *req,
                                          const char *data, apr_size_t len)
{
    pycgi_output *o = req->out;

    if (o->state == PYCGI_OUT_HEADERS) {
        apr_size_t from = req->hlen > 2 ? req->hlen - 2 : 0;

        if (req->hlen + len > req->hcap) {
            apr_size_t cap = req->hcap ? req->hcap * 2 : 8192;
            char *nbuf;

            while (cap < req->hlen + len) {
                cap *= 2;
            }
            nbuf = apr_palloc(req->script.r->pool, cap);
            memcpy(nbuf, req->hbuf, req->hlen);
            req->hbuf = nbuf;
            req->hcap = cap;
        }
        memcpy(req->hbuf + req->hlen, data, len);
        req->hlen += len;
        if (req->script.ending && !o->nph && req->hlen < PYCGI_END_HOLD) {
            return APR_SUCCESS;
        }
        if (o->nph || req->hlen >= PYCGI_MAX_HEADER_BLOCK
            || pycgi_parse_headers_end(req->hbuf, req->hlen, from)) {
            return pycgi_embed_scan(req, 0);
        }
        return APR_SUCCESS;
    }
    if (o->state == PYCGI_OUT_DISCARD) {
        return o->pass_rv;
    }
    APR_BRIGADE_INSERT_TAIL(req->bb, apr_bucket_transient_create(data, len,
                            req->script.r->connection->bucket_alloc));
    return pycgi_output_body(o, req->bb);
}

static apr_status_t pycgi_embed_flush(pycgi_script *sc)
{
    pycgi_embed_req *req = pycgi_embed_of(sc);
    pycgi_output *o = req->out;
    apr_status_t rv;

    if (o->state != PYCGI_OUT_PASS) {
        return o->state == PYCGI_OUT_DISCARD ? o->pass_rv : APR_SUCCESS;
    }
    if (req->script.ending) {
        /* The runner's own final flush: EOS follows at once, and one
         * write to the client is cheaper than two. */
        return APR_SUCCESS;
    }
    APR_BRIGADE_INSERT_TAIL(req->bb, apr_bucket_flush_create(
                            req->script.r->connection->bucket_alloc));
    pycgi_interp_pause(1);
    rv = pycgi_output_body(o, req->bb);
    pycgi_interp_pause(0);
    pycgi_embed_alive(req);
    return rv;
}

static apr_status_t pycgi_embed_read(pycgi_script *sc, char *buf,
                                     apr_size_t want, apr_size_t *got)
{
    pycgi_embed_req *req = pycgi_embed_of(sc);
    const char *data;
    apr_status_t rv;

    pycgi_interp_pause(1);
    rv = pycgi_body_next(req->body, want, &data, got);
    pycgi_interp_pause(0);
    pycgi_embed_alive(req);
    if (rv == APR_SUCCESS) {
        memcpy(buf, data, *got);
    }
    return rv;
}

static void pycgi_embed_stderr(pycgi_script *sc, const char *data,
                               apr_size_t len)
{
    pycgi_log_stderr(pycgi_embed_of(sc)->lb, data, len);
}

static const pycgi_script_io pycgi_embed_io = {
    pycgi_embed_write, pycgi_embed_flush, pycgi_embed_read,
    pycgi_embed_stderr
};

/* --- running a script ----------------------------------------------- */

/* os.environ's keys are the same few dozen names request after request:
 * keep their bytes objects (hash included) for the life of the process. */
#define PYCGI_ENV_KEYS_MAX 512

static PyObject *pycgi_embed_env_key(const char *k, apr_size_t len)
{
    PyObject *o;

    if (pycgi_env_keys) {
        o = apr_hash_get(pycgi_env_keys, k, (apr_ssize_t)len);
        if (o) {
            Py_INCREF(o);
            return o;
        }
    }
    o = PyBytes_FromStringAndSize(k, (Py_ssize_t)len);
    if (!pycgi_env_key_list) {
        pycgi_env_key_list = PyList_New(0);
    }
    if (o && pycgi_env_keys && pycgi_env_key_list
        && apr_hash_count(pycgi_env_keys) < PYCGI_ENV_KEYS_MAX
        && PyList_Append(pycgi_env_key_list, o) == 0) {
        /* The list keeps a reference for the life of the process; the
         * hash's key is the bytes' own (immutable) buffer. */
        (void)PyObject_Hash(o);
        apr_hash_set(pycgi_env_keys, PyBytes_AS_STRING(o), (apr_ssize_t)len,
                     o);
    }
    if (o) {
        PyErr_Clear();          /* the cache is optional */
    }
    return o;
}

/* os.environ's data for the script: exactly exec mode's envp, as bytes
 * (os.environ keeps bytes on POSIX). */
static PyObject *pycgi_embed_environ(char **envp)
{
    Py_ssize_t n = 0;
    char **e;
    PyObject *d;

    for (e = envp; *e; e++) {
        n++;
    }
    d = _PyDict_NewPresized(n);
    for (; d && *envp; envp++) {
        const char *eq = strchr(*envp, '=');
        PyObject *k, *v;

        if (!eq) {
            continue;
        }
        k = pycgi_embed_env_key(*envp, (apr_size_t)(eq - *envp));
        v = PyBytes_FromString(eq + 1);
        if (!k || !v || PyDict_SetItem(d, k, v) < 0) {
            Py_XDECREF(k);
            Py_XDECREF(v);
            Py_DECREF(d);
            return NULL;
        }
        Py_DECREF(k);
        Py_DECREF(v);
    }
    return d;
}

/* The errors= python3 gives stdin/stdout in this environment:
 * surrogateescape in the C/POSIX locale and its UTF-8 coercion target,
 * strict elsewhere (the first of LC_ALL, LC_CTYPE, LANG that is set and
 * not empty decides; the last entry of a name counts, as in a dict). */
static const char *pycgi_embed_stdio_errors(char **envp)
{
    static const char *const names[3] = {"LC_ALL=", "LC_CTYPE=", "LANG="};
    const char *val[3] = {NULL, NULL, NULL};
    const char *loc = "C";
    int i;

    for (; *envp; envp++) {
        for (i = 0; i < 3; i++) {
            if (!strncmp(*envp, names[i], strlen(names[i]))) {
                val[i] = *envp + strlen(names[i]);
            }
        }
    }
    for (i = 0; i < 3; i++) {
        if (val[i] && *val[i]) {
            loc = val[i];
            break;
        }
    }
    if (!strcmp(loc, "C") || !strcmp(loc, "POSIX")
        || !strcasecmp(loc, "C.UTF-8") || !strcasecmp(loc, "C.UTF8")) {
        return "surrogateescape";
    }
    return "strict";
}

static PyObject *pycgi_embed_argv(const char **argv, int argc)
{
    PyObject *l = PyList_New(argc);
    int i;

    for (i = 0; l && i < argc; i++) {
        PyObject *s = PyUnicode_DecodeFSDefault(argv[i]);

        if (!s) {
            Py_DECREF(l);
            return NULL;
        }
        PyList_SET_ITEM(l, i, s);
    }
    return l;
}

/* Log the Python error of the runner itself (not the script's). */
static void pycgi_embed_log_pyerr(request_rec *r, const char *what)
{
    const char *msg = pycgi_interp_pyerr(r->pool);

    /* A log write may block (piped logs): never with the GIL held. */
    Py_BEGIN_ALLOW_THREADS
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PYCGI_LOGNO(0604)
                  "%s for %s: %s", what, r->filename, msg);
    Py_END_ALLOW_THREADS
}

/* What pycgi_boot.end() returns: (flags, pids, lost state).  Bit 0 of flags, the
 * script started processes; the bits above PYCGI_END_THREADS_SHIFT,
 * how many threads it left running. */
#define PYCGI_END_FORKED 1
#define PYCGI_END_THREADS_SHIFT 1

/* The runner's three functions (pycgi_boot.py), looked up once. */
static PyObject *pycgi_fn_begin, *pycgi_fn_execute, *pycgi_fn_end;

static int pycgi_embed_functions(void)
{
    PyObject *boot = pycgi_interp_boot();

    if (!pycgi_fn_begin) {
        pycgi_fn_begin = PyObject_GetAttrString(boot, "begin");
        pycgi_fn_execute = PyObject_GetAttrString(boot, "execute");
        pycgi_fn_end = PyObject_GetAttrString(boot, "end");
        if (!pycgi_fn_begin || !pycgi_fn_execute || !pycgi_fn_end) {
            Py_CLEAR(pycgi_fn_begin);
            Py_CLEAR(pycgi_fn_execute);
            Py_CLEAR(pycgi_fn_end);
            return -1;
        }
    }
    return 0;
}

/* begin(path, key, environ, argv, cwd, stdin, stdout, stderr, out) */
static PyObject *pycgi_embed_begin(request_rec *r, PyObject *env,
                                   PyObject *pyargv, const char *cwd,
                                   PyObject **text, PyObject *out)
{
    PyObject *args[9], *res = NULL;

    /* Paths as python3 decodes them (surrogateescape); the code cache
     * key comes from the stat httpd already made. */
    args[0] = PyUnicode_DecodeFSDefault(r->filename);
    args[1] = Py_BuildValue("(LLL)", (long long)r->finfo.mtime,
                            (long long)r->finfo.size,
                            (long long)r->finfo.inode);
    args[2] = env;
    args[3] = pyargv;
    args[4] = PyUnicode_DecodeFSDefault(cwd);
    args[5] = text[0];
    args[6] = text[1];
    args[7] = text[2];
    args[8] = out;
    if (args[0] && args[1] && args[4]) {
        res = PyObject_Vectorcall(pycgi_fn_begin, args, 9, NULL);
    }
    Py_XDECREF(args[0]);
    Py_XDECREF(args[1]);
    Py_XDECREF(args[4]);
    return res;
}

/* The Python part, GIL held: set up, run, restore.  Returns 0, or -1
 * if the runner itself failed (logged). */
static int pycgi_embed_python(pycgi_embed_req *req, char **envp,
                              const char **argv, int argc, const char *cwd)
{
    request_rec *r = req->script.r;
    PyObject *env, *pyargv, *text[3], *out, *ctx = NULL, *res;
    int failed = 0, clean = 0, started = 0, threads = 0;
    const char *lost_state = NULL;
    char here[PATH_MAX];

    /* The script's directory; getcwd() is cheaper than chdir(), and
     * most requests find the process where the last script was. */
    if (!getcwd(here, sizeof(here)) || strcmp(here, cwd)) {
        if (chdir(cwd) < 0) {
            apr_status_t rv = errno;

            Py_BEGIN_ALLOW_THREADS
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, PYCGI_LOGNO(0604)
                          "cannot set up the embedded script for %s: "
                          "chdir to %s failed", r->filename, cwd);
            Py_END_ALLOW_THREADS
            pycgi_interp_count(r, 0, 0);
            return -1;
        }
    }
    env = pycgi_embed_environ(envp);
    pyargv = pycgi_embed_argv(argv, argc);
    if (env && pyargv && pycgi_embed_functions() == 0
        && pycgi_pyio_bind(pycgi_embed_stdio_errors(envp), text,
                           &out) == 0) {
        ctx = pycgi_embed_begin(r, env, pyargv, cwd, text, out);
    }
    if (!ctx) {
        pycgi_embed_log_pyerr(r, "cannot set up the embedded script");
        failed = 1;
    }
    else {
        started = 1;
        /* The C-level environment too, so os.system()/subprocess see
         * what a CGI process would.  XXX: process-wide; fine because
         * embedded requests are serialised and httpd itself does not
         * read its environment while serving. */
        if (pycgi_embed_base_environ) {
            environ = envp;
        }
        pycgi_pyio_open(&req->script);
        pycgi_interp_arm(&req->script, req->slow_at);

        res = PyObject_CallOneArg(pycgi_fn_execute, ctx);

        pycgi_interp_disarm();
        if (!res) {
            pycgi_embed_log_pyerr(r, "embedded runner failed");
            failed = 1;
        }
        else {
            clean = res == Py_True;
        }
        Py_XDECREF(res);
        /* Still open: what end() lets go of (a stream wrapper the
         * script made, say) is flushed into this request as it dies. */
        res = PyObject_CallOneArg(pycgi_fn_end, ctx);
        pycgi_pyio_close();
        if (!res) {
            pycgi_embed_log_pyerr(r, "restoring the interpreter failed");
            clean = 0;
        }
        else {
            long flags = 0;
            PyObject *pids = NULL;
            const char *lost = NULL;

            if (!PyArg_ParseTuple(res, "lOz", &flags, &pids, &lost)) {
                PyErr_Clear();
            }
            if (lost && *lost) {
                lost_state = apr_pstrdup(r->pool, lost);
            }
            req->forked = flags > 0 && (flags & PYCGI_END_FORKED);
            threads = flags > 0 ? (int)(flags >> PYCGI_END_THREADS_SHIFT) : 0;
            if (pids && PyTuple_Check(pids)) {
                pycgi_embed_reap_pids(pids);
            }
        }
        Py_XDECREF(res);
        if (pycgi_embed_base_environ) {
            environ = pycgi_embed_base_environ;
        }
        Py_DECREF(ctx);
    }
    /* Streams a script kept a reference to are dead from here on; the
     * rest may serve the next request. */
    pycgi_pyio_unbind(clean && !req->script.timed_out);
    Py_XDECREF(env);
    Py_XDECREF(pyargv);
    pycgi_interp_count(r, started, req->script.timed_out);
    PyErr_Clear();
    if (threads) {
        pycgi_interp_retire(r, apr_psprintf(r->pool, "script %s left %d "
                            "thread(s) running (SystemExit raised in them; "
                            "they reach no request)", r->filename, threads));
    }
    if (req->script.interrupted) {
        /* Raised wherever the script was: inside a library, perhaps
         * half-way through an import or holding a lock, which later
         * scripts of this process would find broken. */
        pycgi_interp_retire(r, apr_psprintf(r->pool, "script %s was "
                            "interrupted by its CGIScriptTimeout (library "
                            "state it was changing may be left broken)",
                            r->filename));
    }
    if (lost_state) {
        pycgi_interp_retire(r, apr_psprintf(r->pool, "script %s changed "
                            "process state that cannot be put back (%s)",
                            r->filename, lost_state));
    }
    return failed ? -1 : 0;
}

/* A fresh python3 started in the C/POSIX locale coerces it to C.UTF-8
 * and says so in its own environment (PEP 538); the script sees
 * LC_CTYPE=C.UTF-8.  Reproduce that, for os.environ and children. */
static char **pycgi_embed_envp(request_rec *r)
{
    apr_table_t *env = r->subprocess_env;
    const char *ctype, *coerce = apr_table_get(env, "PYTHONCOERCECLOCALE");
    const char *all = apr_table_get(env, "LC_ALL");

    if ((all && *all) || (coerce && !strcmp(coerce, "0"))) {
        return pycgi_env_envp(r, r->pool);
    }
    ctype = apr_table_get(env, "LC_CTYPE");
    if (!ctype || !*ctype) {
        ctype = apr_table_get(env, "LANG");
    }
    if (ctype && *ctype && strcmp(ctype, "C") && strcmp(ctype, "POSIX")) {
        return pycgi_env_envp(r, r->pool);
    }
    env = apr_table_copy(r->pool, env);
    apr_table_setn(env, "LC_CTYPE", "C.UTF-8");
    return ap_create_environment(r->pool, env);
}

static int pycgi_embed_run_here(request_rec *r, int nph,
                                apr_interval_time_t timeout);

int pycgi_embed_run(request_rec *r, int nph, apr_interval_time_t timeout)
{
    if (pycgi_interp_entered()) {
        /* This thread runs an embedded script already, and a filter on
         * that script's output (mod_include) asks for this one: it
         * cannot run in the same interpreter before that one ends. */
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PYCGI_LOGNO(0610)
                      "%s runs exec: a sub-request of the embedded script "
                      "running in this thread", r->filename);
        return pycgi_exec_run(r, nph, timeout);
    }
    return pycgi_embed_run_here(r, nph, timeout);
}

static int pycgi_embed_run_here(request_rec *r, int nph,
                                apr_interval_time_t timeout)
{
    pycgi_embed_req *req = apr_pcalloc(r->pool, sizeof(*req));
    apr_bucket_alloc_t *ba = r->connection->bucket_alloc;
    char **envp = pycgi_embed_envp(r);
    const char **argv;
    char *cwd;
    int argc, failed;
    apr_size_t n;

    argv = pycgi_env_argv(r, r->pool, &argc);
    cwd = apr_pstrdup(r->pool, pycgi_env_dir(r, r->pool));
    n = strlen(cwd);
    if (n > 1 && cwd[n - 1] == '/') {
        cwd[n - 1] = '\0';
    }
    req->script.r = r;
    req->script.io = &pycgi_embed_io;
    req->out = pycgi_output_create(r, nph);
    req->body = pycgi_body_of(r);
    req->out->body = req->body;
    req->lb = pycgi_log_linebuf(r);
    req->bb = apr_brigade_create(r->pool, ba);
    req->timeout = timeout;
    req->script.deadline = apr_time_now() + timeout;
    if (pycgi_slowlog_after(r) > 0) {
        req->slow_at = apr_time_now() + pycgi_slowlog_after(r);
    }

    if (pycgi_interp_enter(timeout) != APR_SUCCESS) {
        /* Every embedded script of this process has been busy for a
         * whole CGIScriptTimeout: perhaps the one running waits for
         * this very request (it fetches a page of its own server). */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PYCGI_LOGNO(0611)
                      "%s runs exec: the embedded runner of this process "
                      "stayed busy for %" APR_TIME_T_FMT " s", r->filename,
                      apr_time_sec(timeout));
        return pycgi_exec_run(r, nph, timeout);
    }
    failed = pycgi_embed_python(req, envp, argv, argc, cwd);
    pycgi_interp_leave();
    if (req->forked) {
        pycgi_embed_reap(r);
    }
    pycgi_log_stderr_flush(req->lb);

    if (req->out->state == PYCGI_OUT_HEADERS) {
        if (req->script.timed_out) {
            return pycgi_log_scripterror(r, HTTP_GATEWAY_TIME_OUT, 0,
                                         PYCGI_LOGNO(0605),
                                         "Script timed out before returning "
                                         "headers (CGIScriptTimeout)");
        }
        if (failed) {
            return HTTP_INTERNAL_SERVER_ERROR;
        }
        if (pycgi_body_status(req->body) != OK) {
            return pycgi_body_status(req->body);
        }
        pycgi_embed_scan(req, 1);
    }
    else {
        if (req->script.timed_out && req->out->state == PYCGI_OUT_PASS) {
            /* Headers are out: all we can do is cut the response short
             * so the client sees it is incomplete. */
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PYCGI_LOGNO(0606)
                          "Script timed out after sending headers "
                          "(CGIScriptTimeout): %s", r->filename);
            APR_BRIGADE_INSERT_TAIL(req->bb, ap_bucket_error_create(
                                    HTTP_BAD_GATEWAY, NULL, r->pool, ba));
        }
        APR_BRIGADE_INSERT_TAIL(req->bb, apr_bucket_eos_create(ba));
        pycgi_output_body(req->out, req->bb);
    }
    return pycgi_output_finish(req->out);
}
