/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_worker.c -- pycgi-worker, a warm Python process of a daemon
 * pool.  The supervisor execs it with the pool's socket, segment and
 * life pipe (pycgi_proto.h); it boots Python once and then runs one CGI
 * script per connection, as "/usr/bin/python3 script.py" would, until
 * a limit or a check says it must retire (answer first, then exit).
 *
 *   pycgi-worker --pool NAME --slot N --max-requests N --memory-mb N
 *                --idle-timeout SECS --python PATH
 *                [--preload mod1,mod2] [--compat-first]
 *                [--suexec-root DIR --suexec-path PATH]
 *
 * The interpreter's scope is the process: one main interpreter, one
 * thread, the GIL always held.  Per request, C does everything that is
 * not Python (the socket, fds 0-2, environ, cwd, the checks) and calls
 * the Python half (pycgi_worker.py) twice: run() and end().
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "pycgi_suexec_rules.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "pycgi_worker.h"
#include "pycgi_worker_py.h"
#include "pycgi_compat.h"


/* What end() says a script touched (pycgi_worker.py's _TOUCH_*). */
#define PYCGI_WORKER_TOUCH_SIGNALS  1
#define PYCGI_WORKER_TOUCH_PROCESS  2
#define PYCGI_WORKER_TOUCH_CHILDREN 4
#define PYCGI_WORKER_TOUCH_CWD      8


/* Set in a child forked by a script, and in the worker after a fork
 * (pthread_atfork: no system call). */
static volatile int pycgi_worker_in_child;
static volatile int pycgi_worker_forked;

/* The working directory the last script started in ("" = unknown):
 * the same one is not set again unless the script moved. */
static char pycgi_worker_cwd[4096];


static char *pycgi_worker_empty_env[] = { NULL };

/* The Python half (owned references, for the process's life). */
static struct {
    PyObject *run, *end, *stdio_config, *error_line;
    PyObject *prepare, *fork_begin, *fork_end, *learn;  /* fork isolation */
    PyObject *environ_data;     /* os.environ._data (also environb's) */
    char encoding[64], errors[64];  /* the std streams' current ones */
} pycgi_worker_py;

static void pycgi_worker_after_fork_child(void)
{
    pycgi_worker_in_child = 1;
}

static void pycgi_worker_after_fork_parent(void)
{
    pycgi_worker_forked = 1;
}

/* The Python exception being handled, on one line, cleared. */
static void pycgi_worker_log_pyerr(int level, const char *what)
{
    PyObject *etype, *value, *tb, *line = NULL;

    PyErr_Fetch(&etype, &value, &tb);
    PyErr_NormalizeException(&etype, &value, &tb);
    if (pycgi_worker_py.error_line) {
        line = PyObject_CallOneArg(pycgi_worker_py.error_line,
                                   value ? value : Py_None);
        PyErr_Clear();
    }
    Py_XDECREF(etype);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    pycgi_worker_log(level, "%s: %s", what,
                     line && PyUnicode_Check(line)
                     ? PyUnicode_AsUTF8(line) : "(no details)");
    Py_XDECREF(line);
    PyErr_Clear();
}

/* Retire: the slot says why, one info line says why, then exit.  No
 * Py_Finalize: the std streams hold nothing (fd 0 is at EOF, fd 1
 * /dev/null), and a script's leftover threads could hang it. */
void pycgi_worker_retire(unsigned reason, const char *why)
{
    /* No claim can be made any more; one made already is void once the
     * kept connection closes with the process (httpd starts over). */
    __atomic_store_n(&pycgi_worker_slot->claim, 0, __ATOMIC_SEQ_CST);
    pycgi_worker_set_state(PYCGI_SLOT_EXITING, reason);
    pycgi_worker_log(PYCGI_WORKER_INFO, PYCGI_WORKER_LOGNO(0820)
                     "worker retiring after %llu requests: %s",
                     (unsigned long long)pycgi_worker_slot->requests, why);
    _exit(reason == PYCGI_RETIRE_ERROR ? 1 : 0);
}

/* --- start-up -------------------------------------------------------- */

static PyObject *pycgi_worker_attr(PyObject *mod, const char *name)
{
    PyObject *o = PyObject_GetAttrString(mod, name);

    if (!o) {
        pycgi_worker_log_pyerr(PYCGI_WORKER_ERROR, PYCGI_WORKER_LOGNO(0805)
                               "the worker's Python half is incomplete");
    }
    return o;
}

/* Python as /usr/bin/python3 starts it (sys.executable, site, signal
 * handlers), then the Python half, faulthandler, --preload. */
static int pycgi_worker_python_init(void)
{
    PyConfig config;
    PyStatus status;
    PyObject *code, *mod, *res;
    int boot_pipe[2];

    /* Python makes the std streams now, over whatever fds 0 and 1 are,
     * and caches whether they can seek: a script must find them as a
     * CGI process does, over pipes (io.TextIOWrapper(sys.stdout.buffer)
     * would otherwise call tell() on the request's pipe).  So they are
     * pipes while Python starts, then fd 0 a pipe at EOF and fd 1
     * /dev/null. */
    if (pipe2(boot_pipe, O_CLOEXEC) < 0 || dup2(boot_pipe[0], 0) < 0
        || dup2(boot_pipe[1], 1) < 0) {
        pycgi_worker_log(PYCGI_WORKER_ERROR, PYCGI_WORKER_LOGNO(0805)
                         "cannot make the boot pipe: %s", strerror(errno));
        return -1;
    }
    PyConfig_InitPythonConfig(&config);
    config.install_signal_handlers = 1;
    config.parse_argv = 0;
    status = PyConfig_SetBytesString(&config, &config.program_name,
                                     pycgi_worker_args.python);
    if (!PyStatus_Exception(status)) {
        status = Py_InitializeFromConfig(&config);
    }
    PyConfig_Clear(&config);
    /* Between requests fd 0 is the pipe at EOF that a request without a
     * body gets as its stdin (see pycgi_worker_take). */
    pycgi_worker_proc_own_std(3);
    close(boot_pipe[0]);
    close(boot_pipe[1]);
    if (PyStatus_Exception(status)) {
        pycgi_worker_log(PYCGI_WORKER_ERROR, PYCGI_WORKER_LOGNO(0805)
                         "Python initialisation failed: %s",
                         status.err_msg ? status.err_msg : "unknown error");
        return -1;
    }
    code = Py_CompileString(pycgi_worker_source, "<pycgi_worker.py>",
                            Py_file_input);
    mod = code ? PyImport_ExecCodeModule("_pycgi_worker", code) : NULL;
    Py_XDECREF(code);
    if (!mod) {
        pycgi_worker_log_pyerr(PYCGI_WORKER_ERROR, PYCGI_WORKER_LOGNO(0805)
                               "loading the worker's Python half failed");
        return -1;
    }
    pycgi_worker_py.error_line = pycgi_worker_attr(mod, "error_line");
    pycgi_worker_py.run = pycgi_worker_attr(mod, "run");
    pycgi_worker_py.end = pycgi_worker_attr(mod, "end");
    pycgi_worker_py.stdio_config = pycgi_worker_attr(mod, "stdio_config");
    pycgi_worker_py.environ_data = pycgi_worker_attr(mod, "_environ_data");
    pycgi_worker_py.prepare = pycgi_worker_attr(mod, "prepare");
    pycgi_worker_py.fork_begin = pycgi_worker_attr(mod, "fork_begin");
    pycgi_worker_py.fork_end = pycgi_worker_attr(mod, "fork_end");
    pycgi_worker_py.learn = pycgi_worker_attr(mod, "learn");
    if (!pycgi_worker_py.error_line || !pycgi_worker_py.run
        || !pycgi_worker_py.end || !pycgi_worker_py.stdio_config
        || !pycgi_worker_py.environ_data || !pycgi_worker_py.prepare
        || !pycgi_worker_py.fork_begin || !pycgi_worker_py.fork_end
        || !pycgi_worker_py.learn
        || !PyDict_Check(pycgi_worker_py.environ_data)) {
        return -1;
    }
    /* A script that kills the process in C (an extension's segfault,
     * os.abort()) leaves its Python stack on fd 2: the request's
     * stderr, i.e. httpd's error log, naming the script and line. */
    res = PyObject_CallMethod(mod, "enable_faulthandler", NULL);
    if (!res) {
        pycgi_worker_log_pyerr(PYCGI_WORKER_WARNING, PYCGI_WORKER_LOGNO(0806)
                               "enabling faulthandler failed");
    }
    Py_XDECREF(res);
    /* PyCGISlowLog's request for the stack (see PYCGI_SLOW_SIGNAL). */
    res = PyObject_CallMethod(mod, "register_slow_signal", "i",
                              (int)PYCGI_SLOW_SIGNAL);
    if (!res) {
        pycgi_worker_log_pyerr(PYCGI_WORKER_WARNING, PYCGI_WORKER_LOGNO(0834)
                               "registering the slow-log signal failed");
    }
    Py_XDECREF(res);
    if (pycgi_worker_args.preload) {
        char *list = strdup(pycgi_worker_args.preload), *save = NULL, *name;

        /* Each module on its own: one that fails is logged and skipped. */
        for (name = strtok_r(list, ",", &save); name;
             name = strtok_r(NULL, ",", &save)) {
            PyObject *m = PyImport_ImportModule(name);

            if (!m) {
                char what[300];

                snprintf(what, sizeof(what), PYCGI_WORKER_LOGNO(0807)
                         "--preload %.200s failed", name);
                pycgi_worker_log_pyerr(PYCGI_WORKER_WARNING, what);
            }
            Py_XDECREF(m);
        }
        free(list);
    }
    res = PyObject_CallMethod(mod, "boot", "({s:s,s:s,s:s}ii)",
                              "_finder", pycgi_compat_finder,
                              "cgi", pycgi_compat_cgi,
                              "cgitb", pycgi_compat_cgitb,
                              pycgi_worker_args.compat_first, 1);
    if (!res) {
        pycgi_worker_log_pyerr(PYCGI_WORKER_ERROR, PYCGI_WORKER_LOGNO(0805)
                               "the worker's Python half failed to boot");
        Py_DECREF(mod);
        return -1;
    }
    Py_DECREF(res);
    res = PyObject_CallMethod(mod, "warm", "i", 16);
    if (!res) {
        pycgi_worker_log_pyerr(PYCGI_WORKER_WARNING, PYCGI_WORKER_LOGNO(0835)
                               "warming the request path failed");
    }
    Py_XDECREF(res);
    PyErr_Clear();
    /* The std streams' encoding as Python chose it at boot. */
    {
        PyObject *out = PySys_GetObject("stdout");
        PyObject *enc = out ? PyObject_GetAttrString(out, "encoding") : NULL;
        PyObject *err = out ? PyObject_GetAttrString(out, "errors") : NULL;

        snprintf(pycgi_worker_py.encoding, sizeof(pycgi_worker_py.encoding),
                 "%s", enc && PyUnicode_Check(enc) ? PyUnicode_AsUTF8(enc)
                 : "");
        snprintf(pycgi_worker_py.errors, sizeof(pycgi_worker_py.errors),
                 "%s", err && PyUnicode_Check(err) ? PyUnicode_AsUTF8(err)
                 : "");
        Py_XDECREF(enc);
        Py_XDECREF(err);
        PyErr_Clear();
    }
    Py_DECREF(mod);
    return 0;
}


/* --- one request ------------------------------------------------------ */

/* A user pool's worker applies suexec's rules itself, as its user, to
 * whatever it is asked to run (httpd children check first, with a log
 * line and 500): the script in its working directory, the files as
 * suexec wants them, and only the environment suexec passes on.  A
 * request that did not come through those checks gets no more than the
 * suexec binary would give its sender.  0, or -1 with the rule in why. */
static int pycgi_worker_suexec_ok(char *why, size_t whylen)
{
    const char *script = pycgi_worker_strs[0], *dir = pycgi_worker_strs[1];
    const char *cmd;
    char **env = pycgi_worker_strs + 3 + pycgi_worker_req.nargv;
    size_t n = strlen(dir), plen = strlen(pycgi_worker_args.suexec_path);
    uid_t uid;
    gid_t gid;
    uint32_t i;
    int paths = 0;

    cmd = script + n;
    if (strncmp(script, dir, n) != 0
        || (n && dir[n - 1] != '/' && *cmd++ != '/')
        || !*cmd || strchr(cmd, '/') || !strcmp(cmd, "..")) {
        snprintf(why, whylen, "invalid command (%s in %s)", script, dir);
        return -1;
    }
    pycgi_worker_proc_ids(&uid, &gid);
    if (pycgi_suexec_rules_files(uid, gid,
                                 pycgi_worker_args.suexec_root, dir, cmd,
                                 why, whylen) != 0) {
        return -1;
    }
    if (pycgi_worker_req.nenv > PYCGI_SUEXEC_RULES_ENV_MAX) {
        snprintf(why, whylen, "more variables than suexec passes");
        return -1;
    }
    for (i = 0; i < pycgi_worker_req.nenv; i++) {
        if (!strncmp(env[i], "PATH=", 5)) {
            if (paths++ || strcmp(env[i] + 5, pycgi_worker_args.suexec_path)
                || plen != strlen(env[i] + 5)) {
                snprintf(why, whylen, "PATH is not suexec's");
                return -1;
            }
        }
        else if (!pycgi_suexec_rules_safe(env[i])) {
            snprintf(why, whylen, "variable not passed by suexec: %.40s",
                     env[i]);
            return -1;
        }
    }
    if (!paths) {
        snprintf(why, whylen, "PATH is not suexec's");
        return -1;
    }
    return 0;
}

/* The bytes objects of the last request's environment, by position:
 * most variables are the same from one request to the next (the
 * server's, the client's headers), so their objects, with the hashes
 * they cache, are used again instead of made anew.  Bytes are
 * immutable: a script can hold one but never change it.  As many
 * entries as the largest environment so far (bounded by the request
 * record's PYCGI_PROTO_MAX_LEN). */
typedef struct {
    char *raw;                  /* "NAME=value", malloc()ed */
    PyObject *k, *v;
} pycgi_worker_envc_entry;
static pycgi_worker_envc_entry *pycgi_worker_envc;
static size_t pycgi_worker_envc_cap;

/* Room for n entries: 0, or -1 with MemoryError set. */
static int pycgi_worker_envc_grow(size_t n)
{
    pycgi_worker_envc_entry *c;

    if (n <= pycgi_worker_envc_cap) {
        return 0;
    }
    c = realloc(pycgi_worker_envc, n * sizeof(*c));
    if (!c) {
        PyErr_NoMemory();
        return -1;
    }
    memset(c + pycgi_worker_envc_cap, 0,
           (n - pycgi_worker_envc_cap) * sizeof(*c));
    pycgi_worker_envc = c;
    pycgi_worker_envc_cap = n;
    return 0;
}

/* The key and value objects of env string s (whose '=' is at eq),
 * borrowed from cache entry e, made there if it holds another string.
 * 0, or -1 with an exception set (the entry keeps what it had). */
static int pycgi_worker_env_pair(pycgi_worker_envc_entry *e, const char *s,
                                 const char *eq)
{
    char *raw;
    PyObject *k, *v;

    if (e->raw && !strcmp(e->raw, s)) {
        return 0;
    }
    raw = strdup(s);
    k = PyBytes_FromStringAndSize(s, eq - s);
    v = PyBytes_FromString(eq + 1);
    if (!raw || !k || !v) {
        free(raw);
        Py_XDECREF(k);
        Py_XDECREF(v);
        if (!PyErr_Occurred()) {
            PyErr_NoMemory();
        }
        return -1;
    }
    free(e->raw);
    Py_XDECREF(e->k);
    Py_XDECREF(e->v);
    e->raw = raw;
    e->k = k;
    e->v = v;
    return 0;
}

/* os.environ (and os.environb: the same dict) = exactly the request's
 * environment, as python3 builds it at start-up: bytes keys and values,
 * the first of two same names wins, entries without '=' skipped. */
static int pycgi_worker_py_environ(const pycgi_worker_env *e)
{
    PyObject *d = pycgi_worker_py.environ_data;
    size_t i;

    if (pycgi_worker_envc_grow(e->n) < 0) {
        return -1;
    }
    PyDict_Clear(d);
    for (i = 0; i < e->n; i++) {
        const char *s = e->envp[i], *eq = strchr(s, '=');
        pycgi_worker_envc_entry *c = &pycgi_worker_envc[i];

        if (!eq) {
            continue;
        }
        if (pycgi_worker_env_pair(c, s, eq) < 0
            || !PyDict_SetDefault(d, c->k, c->v)) {
            return -1;
        }
    }
    return 0;
}

/* The script's path as a str, and its (mtime, size, inode) key: the
 * last request's objects when they are the same (a worker serves one
 * script over and over, as a rule).  New references. */
static PyObject *pycgi_worker_path(const char *raw)
{
    static char *last_raw;
    static PyObject *last;
    PyObject *path;

    if (last && !strcmp(last_raw, raw)) {
        Py_INCREF(last);
        return last;
    }
    path = PyUnicode_DecodeFSDefault(raw);
    if (path) {
        char *copy = strdup(raw);

        if (copy) {
            free(last_raw);
            Py_XDECREF(last);
            last_raw = copy;
            last = path;
            Py_INCREF(last);
        }
    }
    return path;
}

static PyObject *pycgi_worker_key(const pycgi_proto_req *h)
{
    static PyObject *last;
    static int64_t mtime, size;
    static uint64_t inode;

    if (!last || h->mtime != mtime || h->size != size || h->inode != inode) {
        PyObject *key = Py_BuildValue("(LLK)", (long long)h->mtime,
                                      (long long)h->size,
                                      (unsigned long long)h->inode);

        if (!key) {
            return NULL;
        }
        Py_XDECREF(last);
        last = key;
        mtime = h->mtime;
        size = h->size;
        inode = h->inode;
    }
    Py_INCREF(last);
    return last;
}

/* Run the script of the request in hand (fds 0-2 are its pipes).
 * Returns its exit status; *retire set if the worker cannot go on. */
static int pycgi_worker_run(pycgi_worker_env *e, unsigned *retire,
                            char *what, size_t whatlen)
{
    pycgi_proto_req *h = &pycgi_worker_req;
    char **strs = pycgi_worker_strs;
    PyObject *path, *key, *argv, *pp, *res;
    int status = 1;
    uint32_t i;

    if (pycgi_worker_py_environ(e) < 0) {
        pycgi_worker_log_pyerr(PYCGI_WORKER_ERROR, PYCGI_WORKER_LOGNO(0813)
                               "cannot set os.environ");
        snprintf(what, whatlen, "os.environ could not be set");
        *retire = PYCGI_RETIRE_ERROR;
        return 1;
    }
    if (strcmp(strs[1], pycgi_worker_cwd)) {
        if (chdir(strs[1]) < 0) {
            /* What an exec'ed CGI process cannot survive either. */
            dprintf(2, "pycgi-worker: cannot change to directory %s: %s\n",
                    strs[1], strerror(errno));
            pycgi_worker_cwd[0] = '\0';
            return 1;
        }
        snprintf(pycgi_worker_cwd, sizeof(pycgi_worker_cwd), "%s", strs[1]);
    }
    if (strcmp(e->encoding, pycgi_worker_py.encoding)
        || strcmp(e->errors, pycgi_worker_py.errors)) {
        res = PyObject_CallFunction(pycgi_worker_py.stdio_config, "ss",
                                    e->encoding, e->errors);
        if (!res) {
            pycgi_worker_log_pyerr(PYCGI_WORKER_WARNING,
                                   PYCGI_WORKER_LOGNO(0814)
                                   "cannot set the std streams' encoding");
        }
        else {
            snprintf(pycgi_worker_py.encoding, sizeof(pycgi_worker_py.encoding),
                     "%s", e->encoding);
            snprintf(pycgi_worker_py.errors, sizeof(pycgi_worker_py.errors),
                     "%s", e->errors);
        }
        Py_XDECREF(res);
    }
    path = pycgi_worker_path(strs[0]);
    key = pycgi_worker_key(h);
    argv = PyList_New(h->nargv);
    pp = e->pythonpath ? PyUnicode_DecodeFSDefault(e->pythonpath)
                       : (Py_INCREF(Py_None), Py_None);
    for (i = 0; argv && i < h->nargv; i++) {
        /* argv[0] is the script's path, as a rule. */
        PyObject *a = path && !strcmp(strs[3 + i], strs[0])
                      ? (Py_INCREF(path), path)
                      : PyUnicode_DecodeFSDefault(strs[3 + i]);

        if (!a) {
            Py_CLEAR(argv);
            break;
        }
        PyList_SET_ITEM(argv, i, a);
    }
    res = path && key && argv && pp
          ? PyObject_CallFunctionObjArgs(pycgi_worker_py.run, path, key, argv,
                                         pp, NULL)
          : NULL;
    Py_XDECREF(path);
    Py_XDECREF(key);
    Py_XDECREF(argv);
    Py_XDECREF(pp);
    if (pycgi_worker_in_child) {
        /* A child the script forked, back here: in a CGI process it
         * would just exit.  It must never serve requests. */
        _exit(res && PyLong_Check(res) ? (int)PyLong_AsLong(res) & 0xff : 1);
    }
    if (!res || !PyLong_Check(res)) {
        pycgi_worker_log_pyerr(PYCGI_WORKER_ERROR, PYCGI_WORKER_LOGNO(0813)
                               "the worker's runner failed");
        snprintf(what, whatlen, "its runner failed");
        *retire = PYCGI_RETIRE_ERROR;
    }
    else {
        status = (int)PyLong_AsLong(res);
    }
    Py_XDECREF(res);
    return status;
}

/* The request's descriptors become fds 0-2 (the originals closed):
 * stdin if it has one (otherwise fd 0 stays the pipe at EOF), stdout
 * and stderr unless they are the kept pipes (fds 1 and 2 already).
 * Its strings become the C environment.  0, or a reason to retire. */
static unsigned pycgi_worker_take(int conn, int *fds, int nfds,
                                  pycgi_worker_env *e, char *what,
                                  size_t whatlen)
{
    int first = (pycgi_worker_req.flags & PYCGI_REQ_NO_STDIN) ? 1 : 0, i;

    if (!(pycgi_worker_req.flags & PYCGI_REQ_KEPT_STDIO)
        && pycgi_worker_conn_stdio_fresh(conn, fds[nfds - 2],
                                         fds[nfds - 1]) < 0) {
        snprintf(what, whatlen, "fstat of the request's pipes failed: %s",
                 strerror(errno));
        return PYCGI_RETIRE_ERROR;
    }
    for (i = 0; i < nfds; i++) {
        if (dup2(fds[i], first + i) < 0) {
            snprintf(what, whatlen, "dup2 of the request's fd failed: %s",
                     strerror(errno));
            return PYCGI_RETIRE_ERROR;
        }
    }
    /* They arrive as the lowest free numbers: usually adjacent. */
    if (nfds == 1) {
        close(fds[0]);
    }
    else if (nfds && fds[nfds - 1] == fds[0] + nfds - 1) {
        close_range(fds[0], fds[nfds - 1], 0);
    }
    else {
        pycgi_worker_conn_close_all(fds, nfds);
    }
    if (pycgi_worker_proc_environ(pycgi_worker_strs + 3 + pycgi_worker_req.nargv,
                                  pycgi_worker_req.nenv, e) < 0) {
        snprintf(what, whatlen, "out of memory for the environment");
        return PYCGI_RETIRE_ERROR;
    }
    return PYCGI_RETIRE_NONE;
}

/* The end of a request: past PyCGIDaemonMaxRequests it is the last
 * (unless `retire` says so already); otherwise the worker is idle, and
 * `conn` is kept with the request's pipes and published when
 * `keepable` (if they are still fds 1 and 2), before DONE goes out
 * (httpd may claim it as soon as it has read DONE).  When fds 1 and 2
 * are the request's (`ours`) and not kept, they are let go of first:
 * httpd then sees their EOF.  Then DONE with the exit status, the
 * request counted.  Returns the reason to retire or 0; *kept says
 * whether conn is the kept connection now. */
static unsigned pycgi_worker_answer(int conn, uint32_t serial, int status,
                                    unsigned retire, int ours, int keepable,
                                    int *kept, char *what, size_t whatlen)
{
    int k = 0;

    if (!retire && pycgi_worker_args.max_requests
        && pycgi_worker_slot->requests + 1 >= pycgi_worker_args.max_requests) {
        snprintf(what, whatlen, "maximum requests reached");
        retire = PYCGI_RETIRE_MAX_REQUESTS;
    }
    *kept = 0;
    if (!retire && keepable) {
        pycgi_worker_set_state(PYCGI_SLOT_IDLE, PYCGI_RETIRE_NONE);
    }
    if (ours) {
        k = pycgi_worker_conn_stdio_end(conn, serial, !retire && keepable);
        if (k < 0 && !retire) {
            snprintf(what, whatlen, "the worker's own descriptors are gone");
            retire = PYCGI_RETIRE_ERROR;
        }
    }
    if (k > 0) {
        *kept = 1;
        pycgi_worker_conn_publish();
    }
    if (pycgi_worker_conn_reply(conn, PYCGI_REPLY_DONE, status,
                                (retire ? PYCGI_DONE_RETIRING : 0)
                                | (*kept ? PYCGI_DONE_KEPT : 0)) < 0
        && *kept) {
        /* httpd will not read the pipes to their end by DONE: it waits
         * for their EOF (or has gone).  Nothing is kept: the caller
         * lets go of the connection and the pipes. */
        *kept = 0;
    }
    pycgi_worker_slot->requests++;
    return retire;
}

/* The (name, module) pairs sys.modules gained after its first `before`
 * entries (a dict keeps insertion order).  Walked with PyDict_Next,
 * which takes no references: a forked child that wrote a reference
 * count on every module would copy every page they sit on. */
static PyObject *pycgi_worker_new_modules(Py_ssize_t before)
{
    PyObject *mods = PyImport_GetModuleDict(), *out = PyList_New(0), *k, *v;
    Py_ssize_t pos = 0, i = 0;

    while (out && PyDict_Next(mods, &pos, &k, &v)) {
        PyObject *pair;

        if (i++ < before) {
            continue;
        }
        pair = PyTuple_Pack(2, k, v);
        if (!pair || PyList_Append(out, pair) < 0) {
            Py_XDECREF(pair);
            Py_CLEAR(out);
            break;
        }
        Py_DECREF(pair);
    }
    return out;
}

/* PyCGIIsolation fork: the script runs in a child of the worker, which
 * exits after it, so nothing a script does outlives it; the worker
 * itself only waits, and needs no restoring.  `conn` and `fds` are the
 * request's (STARTED sent).  Returns 0 or a reason to retire. */
static unsigned pycgi_worker_fork_request(int conn, int *fds, int nfds,
                                    char *what, size_t whatlen)
{
    pid_t worker = getpid(), pid;
    int st, killed = 0, status = 1, kept;
    unsigned retire = PYCGI_RETIRE_NONE;
    PyObject *res, *path, *key;
    char learned[32768];
    size_t n;

    /* The worker runs Python here (compiling, learning), which may
     * print: not into pipes kept for another client connection. */
    pycgi_worker_conn_stdio_drop(conn);
    /* The script's code object compiled here once, so that children do
     * not each compile it; then gc.freeze(): what the children inherit
     * stays out of their collector's way (pages stay shared). */
    path = PyUnicode_DecodeFSDefault(pycgi_worker_strs[0]);
    key = Py_BuildValue("(LLK)", (long long)pycgi_worker_req.mtime,
                        (long long)pycgi_worker_req.size,
                        (unsigned long long)pycgi_worker_req.inode);
    res = path && key ? PyObject_CallFunctionObjArgs(pycgi_worker_py.prepare,
                                                     path, key, NULL)
                      : NULL;
    Py_XDECREF(path);
    Py_XDECREF(key);
    Py_XDECREF(res);
    PyErr_Clear();
    if (pycgi_worker_fork_prepare() < 0) {
        pid = -1;
    }
    else {
        PyOS_BeforeFork();
        pid = fork();
    }
    if (pid == 0) {
        pycgi_worker_env e;
        unsigned ignored = 0;
        Py_ssize_t before;
        PyObject *fresh;
        int limit_err;

        PyOS_AfterFork_Child();
        pycgi_worker_in_child = 0;
        limit_err = pycgi_worker_fork_child(&pycgi_worker_req, worker, conn);
        if (pycgi_worker_take(conn, fds, nfds, &e, what, whatlen)) {
            dprintf(2, "pycgi-worker: %s\n", what);
            _exit(1);
        }
        if (limit_err) {
            /* As an exec'ed script whose limits APR could not set: it
             * does not run. */
            dprintf(2, "pycgi-worker: setrlimit: %s\n", strerror(limit_err));
            _exit(1);
        }
        close(pycgi_worker_fd.eof);
        res = PyObject_CallNoArgs(pycgi_worker_py.fork_begin);
        Py_XDECREF(res);
        PyErr_Clear();
        before = PyDict_Size(PyImport_GetModuleDict());
        status = pycgi_worker_run(&e, &ignored, what, whatlen);
        fresh = pycgi_worker_new_modules(before);
        res = fresh ? PyObject_CallFunction(pycgi_worker_py.fork_end, "iO",
                                            pycgi_worker_fork_learn_fd(),
                                            fresh)
                    : NULL;
        Py_XDECREF(fresh);
        Py_XDECREF(res);
        /* No finalisation: what the worker owns is not the child's to
         * flush or close (run() flushed the script's streams). */
        _exit(status & 0xff);
    }
    pycgi_worker_conn_close_all(fds, nfds);
    if (pid < 0) {
        pycgi_worker_log(PYCGI_WORKER_ERROR, PYCGI_WORKER_LOGNO(0830)
                         "cannot fork for %s: %s", pycgi_worker_strs[0],
                         strerror(errno));
    }
    else {
        PyOS_AfterFork_Parent();
        pycgi_worker_forked = 0;
        st = pycgi_worker_fork_wait(pid, &killed);
        /* What the script's process left running is the worker's now
         * (a subreaper): reaped once it has ended, never waited for. */
        pycgi_worker_proc_reap();
        if (WIFSIGNALED(st)) {
            status = 128 + WTERMSIG(st);
            if (!killed) {
                /* What the supervisor says of a crashed worker; the
                 * faulthandler dump went to the request's stderr. */
                pycgi_worker_log(PYCGI_WORKER_ERROR, PYCGI_WORKER_LOGNO(0831)
                                 "script %s (pid %ld) killed by signal %d "
                                 "(%s)%s", pycgi_worker_strs[0], (long)pid,
                                 WTERMSIG(st), strsignal(WTERMSIG(st)),
                                 WCOREDUMP(st) ? ", core dumped" : "");
            }
        }
        else {
            status = WEXITSTATUS(st);
        }
    }
    if (killed) {
        snprintf(what, whatlen, "the supervisor ended its script "
                 "(CGIScriptTimeout or stop)");
        retire = PYCGI_RETIRE_SHUTDOWN;
    }
    /* Never kept: the script's process may have left a process that
     * holds a copy of the connection. */
    retire = pycgi_worker_answer(conn, 0, status, retire, 0, 0, &kept,
                                 what, whatlen);
    if (retire) {
        return retire;
    }
    /* The library modules the child imported, imported here for the
     * next children (bounded in learn()); anything an import started or
     * changed (threads, signal handlers) ends this worker. */
    n = pid > 0 ? pycgi_worker_fork_learned(learned, sizeof(learned)) : 0;
    if (n) {
        long got;

        res = PyObject_CallFunction(pycgi_worker_py.learn, "y#", learned,
                                    (Py_ssize_t)n);
        if (!res) {
            pycgi_worker_log_pyerr(PYCGI_WORKER_WARNING,
                                   PYCGI_WORKER_LOGNO(0833)
                                   "learning a child's modules failed");
        }
        got = res ? PyLong_AsLong(res) : 0;
        Py_XDECREF(res);
        PyErr_Clear();
        pycgi_worker_log(PYCGI_WORKER_DEBUG, PYCGI_WORKER_LOGNO(0832)
                         "imported %ld of the modules a child of %s "
                         "imported (%zu bytes of names)", got,
                         pycgi_worker_strs[0], n);
        if (got > 0) {
            retire = pycgi_worker_proc_check_full(what, whatlen);
            if (!retire) {
                retire = pycgi_worker_proc_check(pycgi_worker_args.memory_kb,
                                                 0, what, whatlen);
            }
        }
    }
    if (!retire) {
        pycgi_worker_set_state(PYCGI_SLOT_IDLE, PYCGI_RETIRE_NONE);
    }
    return retire;
}

/* One request on `conn` (a new connection, or the kept one, whose
 * serial is `serial`): read, check, run, answer.  *kept says whether
 * conn is the kept connection now (see pycgi_worker_answer); if not,
 * the caller closes it.  Returns 0 to go on, or the reason to retire
 * (`what` says it in words). */
unsigned pycgi_worker_request(int conn, uint32_t serial, int *kept,
                              char *what, size_t whatlen)
{
    int fds[PYCGI_WORKER_MAX_FDS], nfds = 0, rc, status, forked;
    const char *err = NULL;
    unsigned retire = PYCGI_RETIRE_NONE, r;
    long touched = 0;
    pycgi_worker_env e;
    PyObject *res;

    *kept = 0;
    rc = pycgi_worker_conn_read(conn, fds, &nfds, &err);
    if (rc <= 0) {
        if (rc < 0) {
            pycgi_worker_log(PYCGI_WORKER_WARNING, PYCGI_WORKER_LOGNO(0810)
                             "refused a request that does not parse: %s",
                             err);
            pycgi_worker_conn_reply(conn, PYCGI_REPLY_REFUSED, PYCGI_REFUSE_PROTOCOL,
                               0);
        }
        pycgi_worker_conn_close_all(fds, nfds);
        return PYCGI_RETIRE_NONE;
    }
    if (!pycgi_worker_conn_token_ok(pycgi_worker_req.token)) {
        struct ucred cred = { 0, 0, 0 };
        socklen_t len = sizeof(cred);

        getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len);
        pycgi_worker_log(PYCGI_WORKER_WARNING, PYCGI_WORKER_LOGNO(0811)
                         "refused a request with a wrong pool token from "
                         "pid %d (uid %u)", (int)cred.pid, (unsigned)cred.uid);
        pycgi_worker_conn_reply(conn, PYCGI_REPLY_REFUSED, PYCGI_REFUSE_TOKEN, 0);
        pycgi_worker_conn_close_all(fds, nfds);
        return PYCGI_RETIRE_NONE;
    }
    if (pycgi_worker_args.suexec_root && pycgi_worker_suexec_ok(what,
                                                                whatlen)) {
        pycgi_worker_log(PYCGI_WORKER_WARNING, PYCGI_WORKER_LOGNO(0840)
                         "refused a request suexec would refuse: %s", what);
        what[0] = '\0';
        pycgi_worker_conn_reply(conn, PYCGI_REPLY_REFUSED, PYCGI_REFUSE_SUEXEC, 0);
        pycgi_worker_conn_close_all(fds, nfds);
        return PYCGI_RETIRE_NONE;
    }
    snprintf(pycgi_worker_slot->script, sizeof(pycgi_worker_slot->script),
             "%s", pycgi_worker_strs[0]);
    pycgi_worker_set_state(PYCGI_SLOT_BUSY, PYCGI_RETIRE_NONE);
    if (pycgi_worker_conn_reply(conn, PYCGI_REPLY_STARTED,
                           (int)pycgi_worker_args.slot, serial) < 0) {
        /* httpd gave up on the request already. */
        pycgi_worker_conn_close_all(fds, nfds);
        pycgi_worker_set_state(PYCGI_SLOT_IDLE, PYCGI_RETIRE_NONE);
        return PYCGI_RETIRE_NONE;
    }
    if (pycgi_worker_req.flags & PYCGI_REQ_FORK) {
        return pycgi_worker_fork_request(conn, fds, nfds, what, whatlen);
    }
    if ((retire = pycgi_worker_take(conn, fds, nfds, &e, what, whatlen))) {
        return retire;
    }
    status = pycgi_worker_run(&e, &retire, what, whatlen);
    /* fd 0 goes back to the pipe at EOF, whatever the script made it;
     * fds 1 and 2 stay until the clean-up has flushed what is left
     * (see pycgi_worker_answer). */
    if (pycgi_worker_proc_own_std(1) < 0) {
        snprintf(what, whatlen, "the worker's own descriptors are gone");
        return PYCGI_RETIRE_ERROR;
    }
    environ = pycgi_worker_empty_env;
    res = PyObject_CallFunction(pycgi_worker_py.end, "i",
                                e.body || (pycgi_worker_req.flags
                                           & PYCGI_REQ_BODY));
    r = PYCGI_RETIRE_NONE;
    if (!res) {
        pycgi_worker_log_pyerr(PYCGI_WORKER_ERROR, PYCGI_WORKER_LOGNO(0813)
                               "the worker's clean-up failed");
        snprintf(what, whatlen, "its clean-up failed");
        r = PYCGI_RETIRE_ERROR;
    }
    else {
        /* > 0: a reason to retire; < 0: minus what the script touched
         * (PYCGI_WORKER_TOUCH_*). */
        long v = PyLong_AsLong(res);

        Py_DECREF(res);
        if (v > 0) {
            r = v < PYCGI_RETIRE_REASONS ? (unsigned)v : PYCGI_RETIRE_ERROR;
            snprintf(what, whatlen, "%s", r == PYCGI_RETIRE_THREADS
                     ? "Python threads still running after the script"
                     : r == PYCGI_RETIRE_SIGNALS
                     ? "the script changed a signal handler"
                     : "the script closed a std stream");
        }
        else if (v < 0) {
            touched = -v;
        }
    }
    PyErr_Clear();
    if (touched & PYCGI_WORKER_TOUCH_CWD) {
        pycgi_worker_cwd[0] = '\0';
    }
    if (touched & PYCGI_WORKER_TOUCH_CHILDREN) {
        pycgi_worker_forked = 1;
    }
    forked = pycgi_worker_forked;
    if (!retire) {
        retire = r;
    }
    if (!retire && ((touched & (PYCGI_WORKER_TOUCH_SIGNALS
                                | PYCGI_WORKER_TOUCH_PROCESS))
                    || (pycgi_worker_slot->requests + 1)
                       % PYCGI_WORKER_FULL_CHECK == 0)) {
        retire = pycgi_worker_proc_check_full(what, whatlen);
        pycgi_worker_forked = 0;
        /* A working directory changed from C. */
        pycgi_worker_cwd[0] = '\0';
    }
    if (!retire) {
        retire = pycgi_worker_proc_check(pycgi_worker_args.memory_kb, 1,
                                         what, whatlen);
        pycgi_worker_forked = 0;
    }
    /* Kept only if nothing the script started (os.fork(), a subprocess)
     * may hold a copy of the connection.  (A connection kept before
     * another one was taken went already, with its pipes, when the new
     * pipes arrived: no script saw it.) */
    retire = pycgi_worker_answer(conn, serial, status, retire, 1, !forked,
                                 kept, what, whatlen);
    if (!retire) {
        pycgi_worker_set_state(PYCGI_SLOT_IDLE, PYCGI_RETIRE_NONE);
    }
    return retire;
}

int main(int argc, char **argv)
{
    int64_t t0 = pycgi_worker_now();

    /* No core dumps or ptrace by other processes of the same user:
     * the segment holds the pool's token. */
    prctl(PR_SET_DUMPABLE, 0);
    /* A script's orphans become the worker's children, not init's: a
     * background job (`os.system("job &")`, a double fork) is seen by
     * the after-request check, and then the worker retires instead of
     * keeping pipes that job may still write to. */
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    if (pycgi_worker_parse_args(argc, argv) < 0
        || pycgi_worker_proc_init() < 0 || pycgi_worker_map() < 0) {
        return 2;
    }
    if (pycgi_worker_python_init() < 0) {
        pycgi_worker_retire(PYCGI_RETIRE_ERROR, "Python did not start");
    }
    pycgi_worker_proc_snapshot();
    pthread_atfork(NULL, pycgi_worker_after_fork_parent,
                   pycgi_worker_after_fork_child);
    pycgi_worker_slot->pid = getpid();
    pycgi_worker_slot->requests = 0;
    pycgi_worker_set_state(PYCGI_SLOT_IDLE, PYCGI_RETIRE_NONE);
    pycgi_worker_log(PYCGI_WORKER_INFO, PYCGI_WORKER_LOGNO(0802)
                     "worker ready: pool %s, slot %lu, Python %s, "
                     "started in %lld ms", pycgi_worker_args.pool,
                     pycgi_worker_args.slot, PY_VERSION,
                     (long long)(pycgi_worker_now() - t0) / 1000);
    pycgi_worker_conn_loop();
    return 0;
}
