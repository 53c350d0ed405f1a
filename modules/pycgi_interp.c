/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_interp.c -- Python start-up in each child, the per-process
 * request lock, the timeout watchdog, and process recycling.
 */
#include "pycgi_python.h"
#include "pycgi_interp.h"
#include "pycgi_pyio.h"
#include "pycgi_script.h"
#include "pycgi_boot.h"
#include "pycgi_compat.h"
#include "pycgi_status.h"
#include "pycgi_slowlog.h"
#include "mpm_common.h"
#include "apr_thread_mutex.h"
#include "apr_thread_cond.h"
#include <signal.h>
#include <pthread.h>
#include <unistd.h>
#include <sys/wait.h>

/* Script children the watchdog still has to reap (bounded). */
#define PYCGI_MAX_ADOPTED 256

/* How long a script may ignore its ScriptTimeout before the process is
 * ended, and how often the exception is raised again meanwhile. */
#define PYCGI_HARD_GRACE   apr_time_from_sec(5)
#define PYCGI_REFIRE       apr_time_from_sec(1)

/* Per-process counters, copied to this child's status slot. */
typedef struct {
    apr_uint64_t requests;      /* embedded requests run */
    apr_uint64_t timeouts;      /* scripts stopped by CGIScriptTimeout */
    apr_uint64_t lookups;       /* code cache lookups */
    apr_uint64_t cache_hits;
    apr_uint64_t cache_misses;
    apr_uint64_t stdio_builds;  /* std text streams built (not reused) */
} pycgi_interp_stats;

/* Process-lifetime state: made from the child pool when Python starts
 * (child_init, or the first embedded request under prefork). */
static struct {
    int ready;
    server_rec *server;
    int max_requests;
    apr_thread_mutex_t *lock;       /* one embedded script at a time */
    PyObject *boot;                 /* _pycgi_boot, strong reference */
    pycgi_interp_stats stats;

    /* watchdog */
    apr_thread_mutex_t *wd_lock;
    apr_thread_cond_t *wd_cond;
    pycgi_script *wd_req;           /* armed script, or NULL */
    unsigned long wd_tid;           /* its Python thread id */
    apr_time_t wd_deadline;
    apr_time_t wd_slow_at;          /* PyCGISlowLog due; 0 = done/off */
    apr_pool_t *wd_pool;            /* the watchdog thread's alone */
    apr_time_t wd_fired;            /* when ScriptTimeout was first raised */
    apr_uint64_t wd_gen;            /* arm counter, to spot stale work */
    apr_thread_t *wd_thread;
    int wd_stop;                    /* child is exiting */
    apr_time_t wd_wake_at;          /* watchdog's next wake-up, 0 = none */
    int wd_paused;                  /* the script waits on its client */
    int shared;                     /* Python belongs to another module */
    pid_t adopted[PYCGI_MAX_ADOPTED];
    int nadopted;
    int threaded;                   /* MPM runs threads in a child */
    apr_pool_t *pchild;             /* set while the start is pending */
} pycgi_interp;

static void pycgi_interp_bring_up(apr_pool_t *p, server_rec *s);

int pycgi_interp_ready(void)
{
    if (pycgi_interp.pchild) {
        /* The child's first embedded script (prefork: the one thread
         * that runs requests is the one that ran child_init).  Tried
         * once: a Python that cannot start gives 503s, as at start. */
        apr_pool_t *p = pycgi_interp.pchild;

        pycgi_interp.pchild = NULL;
        pycgi_interp_bring_up(p, pycgi_interp.server);
    }
    return pycgi_interp.ready;
}

const char *pycgi_interp_pyerr(apr_pool_t *p)
{
    PyObject *type, *value, *tb, *str = NULL;
    const char *msg = NULL;

    PyErr_Fetch(&type, &value, &tb);
    if (value) {
        str = PyObject_Str(value);
    }
    if (str && PyUnicode_Check(str)) {
        msg = PyUnicode_AsUTF8(str);
    }
    msg = apr_pstrdup(p, msg ? msg : "(no detail)");
    Py_XDECREF(str);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
    PyErr_Clear();
    return msg;
}

static void pycgi_interp_log_pyerr(server_rec *s, const char *what)
{
    ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, PYCGI_LOGNO(0501) "%s: %s",
                 what, pycgi_interp_pyerr(s->process->pool));
}

/* Import _pycgi_boot from the source compiled into this module. */
static PyObject *pycgi_interp_load_boot(void)
{
    PyObject *code, *mod;

    code = Py_CompileString(pycgi_boot_source, "<mod_pycgi boot>",
                            Py_file_input);
    if (!code) {
        return NULL;
    }
    mod = PyImport_ExecCodeModule("_pycgi_boot", code);
    Py_DECREF(code);
    return mod;
}

static void *APR_THREAD_FUNC pycgi_interp_watchdog(apr_thread_t *t, void *d);
static void pycgi_interp_retire_now(request_rec *r);

/* Child pool pre-cleanup: stop and join the watchdog before its mutex
 * and condition are destroyed under it (glibc would wait forever). */
static apr_status_t pycgi_interp_stop(void *unused)
{
    apr_status_t rv;

    (void)unused;
    apr_thread_mutex_lock(pycgi_interp.wd_lock);
    pycgi_interp.wd_stop = 1;
    apr_thread_cond_signal(pycgi_interp.wd_cond);
    apr_thread_mutex_unlock(pycgi_interp.wd_lock);
    apr_thread_join(&rv, pycgi_interp.wd_thread);
    return APR_SUCCESS;
}

/* Start Python (this thread ends up holding no GIL).  Also used to
 * share the one another module started. */
static apr_status_t pycgi_interp_python_start(server_rec *s)
{
    static int inittab_done = 0;
    pycgi_server_conf *conf = pycgi_sconf(s);
    PyConfig config;
    PyStatus status;
    PyGILState_STATE gil = PyGILState_UNLOCKED;

    if (Py_IsInitialized()) {
        /* Another module (mod_wsgi, mod_python) owns this process's
         * Python: share its main interpreter, take the GIL its way, and
         * never finalise it ourselves. */
        PyObject *m;

        ap_log_error(APLOG_MARK, APLOG_INFO, 0, s, PYCGI_LOGNO(0508)
                     "Python is already initialised by another module: "
                     "embedded scripts share its main interpreter");
        pycgi_interp.shared = 1;
        gil = PyGILState_Ensure();
        m = pycgi_pyio_module_create();
        if (!m || PyDict_SetItemString(PyImport_GetModuleDict(), "_pycgi",
                                       m) < 0) {
            Py_XDECREF(m);
            pycgi_interp_log_pyerr(s, "creating the _pycgi module failed");
            PyGILState_Release(gil);
            return APR_EGENERAL;
        }
        Py_DECREF(m);
    }
    else if (!inittab_done) {
        if (pycgi_pyio_inittab_add() < 0) {
            return APR_EGENERAL;
        }
        inittab_done = 1;
    }
    PyConfig_InitPythonConfig(&config);
    /* httpd owns the signals and the command line; the interpreter
     * should look like Debian's /usr/bin/python3 to scripts (for
     * sys.executable, e.g. subprocess.run([sys.executable, ...])). */
    config.install_signal_handlers = 0;
    config.parse_argv = 0;
    config.user_site_directory = 0;
    status = PyConfig_SetBytesString(&config, &config.program_name,
                                     PYCGI_PYTHON_EXECUTABLE);
    if (!PyStatus_Exception(status) && !pycgi_interp.shared) {
        status = Py_InitializeFromConfig(&config);
    }
    PyConfig_Clear(&config);
    if (PyStatus_Exception(status)) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, PYCGI_LOGNO(0502)
                     "Python initialisation failed: %s",
                     status.err_msg ? status.err_msg : "unknown error");
        return APR_EGENERAL;
    }

    pycgi_interp.boot = pycgi_interp_load_boot();
    if (!pycgi_interp.boot) {
        pycgi_interp_log_pyerr(s, "loading the embedded runner failed");
        if (pycgi_interp.shared) {
            PyGILState_Release(gil);
        }
        else {
            PyEval_SaveThread();
        }
        return APR_EGENERAL;
    }
    {
        PyObject *res = PyObject_CallMethod(pycgi_interp.boot,
                                            "install_compat", "({s:s,s:s,s:s}i)",
                                            "_finder", pycgi_compat_finder,
                                            "cgi", pycgi_compat_cgi,
                                            "cgitb", pycgi_compat_cgitb,
                                            conf->compat_first == 1);

        if (!res) {
            pycgi_interp_log_pyerr(s, "installing the cgi/cgitb fallback "
                                   "failed");
        }
        Py_XDECREF(res);
    }
    if (!pycgi_interp.shared) {
        /* A script that kills the process in C (a segfault in an
         * extension, os.abort()) takes this httpd child with it: the
         * Python traceback on fd 2, the error log, names the script and
         * line.  (Not imposed on an interpreter another module owns.) */
        PyObject *res = PyObject_CallMethod(pycgi_interp.boot,
                                            "enable_faulthandler", NULL);

        if (!res) {
            pycgi_interp_log_pyerr(s, "enabling faulthandler failed");
        }
        Py_XDECREF(res);
    }
    if (conf->preload && conf->preload->nelts) {
        int i;

        /* Each module on its own: one that fails is logged and skipped. */
        for (i = 0; i < conf->preload->nelts; i++) {
            const char *name = APR_ARRAY_IDX(conf->preload, i, const char *);
            PyObject *m = PyImport_ImportModule(name);

            if (!m) {
                pycgi_interp_log_pyerr(s, apr_psprintf(s->process->pool,
                                       "PyCGIPreload %s failed", name));
            }
            Py_XDECREF(m);
        }
    }
    /* Python runs only between enter/leave from now on. */
    if (pycgi_interp.shared) {
        PyGILState_Release(gil);
    }
    else {
        PyEval_SaveThread();
    }
    return APR_SUCCESS;
}

static apr_status_t pycgi_interp_start(apr_pool_t *p, server_rec *s)
{
    apr_status_t rv = pycgi_interp_python_start(s);
    apr_allocator_t *alloc = NULL;

    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* The watchdog's pool has an allocator of its own: the child pool's
     * is not locked, and other threads allocate from it. */
    if (apr_allocator_create(&alloc) != APR_SUCCESS
        || apr_pool_create_ex(&pycgi_interp.wd_pool, p, NULL, alloc)
           != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, PYCGI_LOGNO(0503)
                     "cannot create the embedded runner's watchdog pool");
        return APR_EGENERAL;
    }
    apr_allocator_owner_set(alloc, pycgi_interp.wd_pool);
    if (apr_thread_mutex_create(&pycgi_interp.lock, APR_THREAD_MUTEX_TIMED,
                                p) != APR_SUCCESS
        || apr_thread_mutex_create(&pycgi_interp.wd_lock,
                                   APR_THREAD_MUTEX_DEFAULT, p) != APR_SUCCESS
        || apr_thread_cond_create(&pycgi_interp.wd_cond, p) != APR_SUCCESS
        || pycgi_pyio_child_init(p) != APR_SUCCESS
        || apr_thread_create(&pycgi_interp.wd_thread, NULL,
                             pycgi_interp_watchdog, NULL, p) != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_CRIT, 0, s, PYCGI_LOGNO(0503)
                     "cannot create the embedded runner's lock or watchdog");
        return APR_EGENERAL;
    }
    apr_pool_pre_cleanup_register(p, NULL, pycgi_interp_stop);
    return APR_SUCCESS;
}

void pycgi_interp_child_init(apr_pool_t *p, server_rec *s)
{
    pycgi_server_conf *conf = pycgi_sconf(s);
    server_rec *vs;
    int wanted = 0;

    /* Start Python only if some server may run scripts embedded. */
    for (vs = s; vs; vs = vs->next) {
        if (pycgi_config_allow_embedded(pycgi_sconf(vs))) {
            wanted = 1;
        }
    }
    if (!wanted) {
        return;
    }
    pycgi_interp.server = s;
    pycgi_interp.max_requests = conf->max_requests > 0 ? conf->max_requests : 0;
    ap_mpm_query(AP_MPMQ_IS_THREADED, &pycgi_interp.threaded);
    if (pycgi_interp.max_requests
        && pycgi_interp.threaded != AP_MPMQ_NOT_SUPPORTED) {
        /* A module cannot ask event/worker to retire one child, and
         * finalising Python in place is not safe (C extensions, the
         * threading module's shutdown).  Say so once per child. */
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, PYCGI_LOGNO(0509)
                     "PyCGIMaxRequests has no effect under a threaded MPM; "
                     "use MaxConnectionsPerChild to recycle processes");
        pycgi_interp.max_requests = 0;
    }
    if (pycgi_interp.threaded == AP_MPMQ_NOT_SUPPORTED) {
        /* prefork: Python starts with the child's first embedded
         * script, so that a child that only ever runs scripts exec or
         * in daemon workers (PyCGIMode auto) stays near the size of a
         * mod_cgi child and starts as fast.  A threaded child starts it
         * here: its main thread, which never runs a script, must be
         * Python's main thread. */
        pycgi_interp.pchild = p;
        return;
    }
    pycgi_interp_bring_up(p, s);
}

static void pycgi_interp_bring_up(apr_pool_t *p, server_rec *s)
{
    if (pycgi_interp_start(p, s) == APR_SUCCESS) {
        pycgi_interp.ready = 1;
        if (pycgi_status_slot_mine()) {
            pycgi_status_slot_mine()->python_ready = 1;
        }
    }
}

/* Each httpd thread keeps its Python thread state from one embedded
 * request to the next (creating and destroying one per request costs
 * more than the script under event).  The interpreter lives as long as
 * the process, and so do they. */
static __thread PyThreadState *pycgi_tstate;
static __thread int pycgi_entered;      /* this thread holds the lock */

int pycgi_interp_entered(void)
{
    return pycgi_entered;
}

apr_status_t pycgi_interp_enter(apr_interval_time_t wait)
{
    apr_status_t rv = apr_thread_mutex_timedlock(pycgi_interp.lock, wait);

    if (rv != APR_SUCCESS) {
        return rv;
    }
    pycgi_entered = 1;
    if (pycgi_tstate) {
        PyEval_RestoreThread(pycgi_tstate);
    }
    else {
        /* Never balanced by PyGILState_Release: the state is kept. */
        PyGILState_Ensure();
        pycgi_tstate = PyThreadState_Get();
    }
    return APR_SUCCESS;
}

void pycgi_interp_leave(void)
{
    pycgi_entered = 0;
    pycgi_tstate = PyEval_SaveThread();
    apr_thread_mutex_unlock(pycgi_interp.lock);
}

void *pycgi_interp_boot(void)
{
    return pycgi_interp.boot;
}

void pycgi_interp_arm(pycgi_script *req, apr_time_t slow_at)
{
    apr_time_t deadline = req->deadline;
    apr_time_t first = slow_at && slow_at < deadline ? slow_at : deadline;

    apr_thread_mutex_lock(pycgi_interp.wd_lock);
    pycgi_interp.wd_req = req;
    pycgi_interp.wd_paused = 0;
    pycgi_interp.wd_tid = PyThread_get_thread_ident();
    pycgi_interp.wd_deadline = deadline;
    pycgi_interp.wd_slow_at = slow_at;
    pycgi_interp.wd_fired = 0;
    pycgi_interp.wd_gen++;
    /* Wake the watchdog only if it would otherwise sleep past this
     * deadline: a context switch per request is a measurable cost. */
    if (!pycgi_interp.wd_wake_at || pycgi_interp.wd_wake_at > first) {
        apr_thread_cond_signal(pycgi_interp.wd_cond);
    }
    apr_thread_mutex_unlock(pycgi_interp.wd_lock);
}

void pycgi_interp_extend(apr_time_t deadline)
{
    apr_thread_mutex_lock(pycgi_interp.wd_lock);
    if (pycgi_interp.wd_req && !pycgi_interp.wd_fired) {
        pycgi_interp.wd_deadline = deadline;
    }
    apr_thread_mutex_unlock(pycgi_interp.wd_lock);
}

void pycgi_interp_pause(int paused)
{
    apr_thread_mutex_lock(pycgi_interp.wd_lock);
    pycgi_interp.wd_paused += paused ? 1 : -1;
    /* A watchdog that saw the pause sleeps with no deadline: wake it. */
    if (!pycgi_interp.wd_paused && pycgi_interp.wd_req
        && !pycgi_interp.wd_wake_at) {
        apr_thread_cond_signal(pycgi_interp.wd_cond);
    }
    apr_thread_mutex_unlock(pycgi_interp.wd_lock);
}

void pycgi_interp_adopt(pid_t pid)
{
    if (!pycgi_interp.wd_lock) {
        return;
    }
    apr_thread_mutex_lock(pycgi_interp.wd_lock);
    if (pycgi_interp.nadopted < PYCGI_MAX_ADOPTED) {
        pycgi_interp.adopted[pycgi_interp.nadopted++] = pid;
        apr_thread_cond_signal(pycgi_interp.wd_cond);
    }
    apr_thread_mutex_unlock(pycgi_interp.wd_lock);
}

/* wd_lock held: reap the adopted children that have ended. */
static void pycgi_interp_reap_adopted(void)
{
    int i = 0, status;

    while (i < pycgi_interp.nadopted) {
        pid_t rc = waitpid(pycgi_interp.adopted[i], &status, WNOHANG);

        if (rc == 0) {
            i++;
            continue;
        }
        pycgi_interp.adopted[i] =
            pycgi_interp.adopted[--pycgi_interp.nadopted];
    }
}

void pycgi_interp_disarm(void)
{
    unsigned long tid;

    apr_thread_mutex_lock(pycgi_interp.wd_lock);
    tid = pycgi_interp.wd_tid;
    pycgi_interp.wd_req = NULL;
    apr_thread_mutex_unlock(pycgi_interp.wd_lock);
    /* The watchdog can no longer fire; drop anything it raised that the
     * script did not live to see (GIL held by the caller). */
    PyThreadState_SetAsyncExc(tid, NULL);
}

/* PyCGISlowLog for the armed request `req` (wd_lock held on entry and
 * on return, dropped meanwhile).  The stack of the script's thread
 * alone (other threads of the process run other requests) is taken
 * with the GIL and written without it, under wd_lock: the script's
 * thread disarms under wd_lock, so req and its request live until we
 * let go.  Only the watchdog's own pool is allocated from here. */
static void pycgi_interp_slow(pycgi_script *req, apr_uint64_t gen,
                              unsigned long tid)
{
    apr_pool_t *p = pycgi_interp.wd_pool;
    const char *stack;
    PyGILState_STATE g;
    PyObject *res;

    apr_thread_mutex_unlock(pycgi_interp.wd_lock);
    g = PyGILState_Ensure();
    res = PyObject_CallMethod(pycgi_interp.boot, "stack_of", "k", tid);
    if (!res) {
        stack = apr_pstrcat(p, "  <the stack could not be taken: ",
                            pycgi_interp_pyerr(p), ">", NULL);
    }
    else if (PyUnicode_Check(res) && PyUnicode_AsUTF8(res)) {
        stack = apr_pstrdup(p, PyUnicode_AsUTF8(res));
    }
    else {
        stack = "  <no Python frame in the script's thread>";
    }
    Py_XDECREF(res);
    PyErr_Clear();
    PyGILState_Release(g);

    apr_thread_mutex_lock(pycgi_interp.wd_lock);
    if (pycgi_interp.wd_req == req && pycgi_interp.wd_gen == gen) {
        pycgi_slowlog_report(req->r, p, "embedded", stack);
    }
    apr_pool_clear(p);
}

/* The watchdog thread: sleeps until the armed deadline, then raises
 * ScriptTimeout in the script's thread (again every PYCGI_REFIRE for a
 * script that swallows it); a script that outlives the grace period is
 * stuck in C code and only ending the process stops it. */
static void *APR_THREAD_FUNC pycgi_interp_watchdog(apr_thread_t *t, void *d)
{
    sigset_t all;

    (void)d;
    /* Signals sent to the process are httpd's business: they must reach
     * its own threads, never run (or end the process) in this one. */
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    apr_thread_mutex_lock(pycgi_interp.wd_lock);
    while (!pycgi_interp.wd_stop) {
        apr_time_t now = apr_time_now();
        pycgi_script *req = pycgi_interp.wd_req;
        apr_uint64_t gen = pycgi_interp.wd_gen;
        unsigned long tid = pycgi_interp.wd_tid;
        PyGILState_STATE g;
        int sleep_raised;

        pycgi_interp_reap_adopted();
        if (!req || pycgi_interp.wd_paused) {
            /* Nothing armed, or the script waits on its client (httpd's
             * Timeout bounds that): its silence is not counted.  The
             * runner moves the deadline when the wait is over. */
            if (pycgi_interp.nadopted) {
                /* Look again in a second for scripts' children. */
                pycgi_interp.wd_wake_at = now + PYCGI_REFIRE;
                apr_thread_cond_timedwait(pycgi_interp.wd_cond,
                                          pycgi_interp.wd_lock, PYCGI_REFIRE);
            }
            else {
                pycgi_interp.wd_wake_at = 0;
                apr_thread_cond_wait(pycgi_interp.wd_cond,
                                     pycgi_interp.wd_lock);
            }
            continue;
        }
        if (pycgi_interp.wd_slow_at && now >= pycgi_interp.wd_slow_at) {
            pycgi_interp.wd_slow_at = 0;
            pycgi_interp_slow(req, gen, tid);
            continue;
        }
        if (now < pycgi_interp.wd_deadline) {
            apr_time_t wake = pycgi_interp.wd_deadline;

            if (pycgi_interp.wd_slow_at && pycgi_interp.wd_slow_at < wake) {
                wake = pycgi_interp.wd_slow_at;
            }
            pycgi_interp.wd_wake_at = wake;
            apr_thread_cond_timedwait(pycgi_interp.wd_cond,
                                      pycgi_interp.wd_lock, wake - now);
            continue;
        }
        if (pycgi_interp.wd_fired
            && now - pycgi_interp.wd_fired > PYCGI_HARD_GRACE) {
            ap_log_rerror(APLOG_MARK, APLOG_CRIT, 0, req->r, PYCGI_LOGNO(0504)
                          "script %s ignored its timeout for %" APR_TIME_T_FMT
                          " s; ending this server process",
                          req->r->filename, apr_time_sec(PYCGI_HARD_GRACE));
            _exit(1);
        }
        /* A sleep cut short at the deadline raises the timeout itself,
         * in a known place: no exception from here then (at first). */
        sleep_raised = pycgi_pyio_sleeping() || req->timed_out;
        if (!pycgi_interp.wd_fired) {
            pycgi_interp.wd_fired = now;
            req->timed_out = 1;
        }
        apr_thread_mutex_unlock(pycgi_interp.wd_lock);

        /* Never wait for the GIL while holding wd_lock: the script's
         * thread takes wd_lock with the GIL held. */
        g = PyGILState_Ensure();
        apr_thread_mutex_lock(pycgi_interp.wd_lock);
        if (pycgi_interp.wd_req == req && pycgi_interp.wd_gen == gen
            && !(sleep_raised && now - pycgi_interp.wd_fired < PYCGI_REFIRE)) {
            PyThreadState_SetAsyncExc(tid, pycgi_pyio_timeout_exc());
            req->interrupted = 1;
        }
        apr_thread_mutex_unlock(pycgi_interp.wd_lock);
        PyGILState_Release(g);

        apr_thread_mutex_lock(pycgi_interp.wd_lock);
        if (pycgi_interp.wd_req == req && pycgi_interp.wd_gen == gen) {
            pycgi_interp.wd_wake_at = apr_time_now() + PYCGI_REFIRE;
            apr_thread_cond_timedwait(pycgi_interp.wd_cond,
                                      pycgi_interp.wd_lock, PYCGI_REFIRE);
        }
    }
    apr_thread_mutex_unlock(pycgi_interp.wd_lock);
    apr_thread_exit(t, APR_SUCCESS);
    return NULL;
}

void pycgi_interp_count(request_rec *r, int started, int timed_out)
{
    pycgi_interp.stats.requests++;
    if (timed_out) {
        pycgi_interp.stats.timeouts++;
        pycgi_status_timeout();
    }
    /* Every started script looked its code up once: a hit unless it
     * was a miss. */
    if (started) {
        pycgi_interp.stats.lookups++;
    }
    pycgi_pyio_counts(&pycgi_interp.stats.stdio_builds,
                      &pycgi_interp.stats.cache_misses);
    pycgi_interp.stats.cache_hits = pycgi_interp.stats.lookups
                                    - pycgi_interp.stats.cache_misses;
    if (pycgi_status_slot_mine()) {
        pycgi_status_slot *slot = pycgi_status_slot_mine();

        slot->cache_hits = pycgi_interp.stats.cache_hits;
        slot->cache_misses = pycgi_interp.stats.cache_misses;
        slot->stdio_builds = pycgi_interp.stats.stdio_builds;
        slot->timeouts = pycgi_interp.stats.timeouts;
    }

    if (pycgi_interp.max_requests
        && pycgi_interp.stats.requests == (apr_uint64_t)pycgi_interp.max_requests) {
        pycgi_status_recycled();
        /* Logged without the GIL: a log write may block. */
        Py_BEGIN_ALLOW_THREADS
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PYCGI_LOGNO(0505)
                      "PyCGIMaxRequests %d reached: recycling process %"
                      APR_PID_T_FMT, pycgi_interp.max_requests, getpid());
        Py_END_ALLOW_THREADS
        pycgi_interp_retire_now(r);
    }
}

/* Retire this child gracefully: it finishes what it is doing and
 * exits; httpd starts a fresh one with a fresh interpreter.  Prefork
 * only: a module cannot retire one child of a threaded MPM. */
static void pycgi_interp_retire_now(request_rec *r)
{
    r->connection->keepalive = AP_CONN_CLOSE;
    kill(getpid(), AP_SIG_GRACEFUL);
}

void pycgi_interp_retire(request_rec *r, const char *why)
{
    int threaded = pycgi_interp.threaded != AP_MPMQ_NOT_SUPPORTED;

    /* Logged without the GIL: a log write may block. */
    Py_BEGIN_ALLOW_THREADS
    ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PYCGI_LOGNO(0510)
                  "%s: %s", why, threaded
                  ? "a threaded MPM cannot retire this process, it serves "
                    "on" : "retiring this process");
    Py_END_ALLOW_THREADS
    if (!threaded) {
        pycgi_interp_retire_now(r);
    }
}
