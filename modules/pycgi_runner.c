/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_runner.c -- which runner serves a request (PyCGIMode, the
 * script's #! line, PyCGIAllowEmbedded, PyCGIEmbedOwners, suexec,
 * RLimit*), and the one table that dispatches to the runners.
 */
#include "pycgi_runner.h"
#include "pycgi_exec.h"
#include "pycgi_embed.h"
#include "pycgi_daemon.h"
#include "pycgi_interp.h"
#include "pycgi_parse.h"
#include "pycgi_pool.h"
#include "pycgi_suexec.h"
#include "unixd.h"
#include <unistd.h>

/* realpath() of PYCGI_PYTHON_EXECUTABLE, e.g. /usr/bin/python3.11;
 * set once in child_init, read-only afterwards. */
static char pycgi_runner_ours[PATH_MAX];

static const char *pycgi_runner_our_python(request_rec *r)
{
    (void)r;
    return pycgi_runner_ours;
}

/* Is `prog` (a path, or a name looked up in the script's PATH) the
 * Python 3 of this interpreter's major.minor? */
static int pycgi_runner_same_python(request_rec *r, const char *prog)
{
    char resolved[PATH_MAX];

    if (!ap_strchr_c(prog, '/')) {
        const char *path = apr_table_get(r->subprocess_env, "PATH");
        char *dirs, *dir, *state;

        if (!path) {
            return 0;
        }
        dirs = apr_pstrdup(r->pool, path);
        for (dir = apr_strtok(dirs, ":", &state); dir;
             dir = apr_strtok(NULL, ":", &state)) {
            const char *cand = apr_pstrcat(r->pool, dir, "/", prog, NULL);

            if (access(cand, X_OK) == 0) {
                return pycgi_runner_same_python(r, cand);
            }
        }
        return 0;
    }
    if (!realpath(prog, resolved)) {
        return 0;
    }
    /* A virtualenv's python links to the system one but brings its own
     * site-packages: that script needs its own interpreter (exec). */
    {
        char *dir = ap_make_dirstr_parent(r->pool, prog);
        apr_finfo_t fi;

        if (apr_stat(&fi, apr_pstrcat(r->pool, dir, "../pyvenv.cfg", NULL),
                     APR_FINFO_TYPE, r->pool) == APR_SUCCESS
            || apr_stat(&fi, apr_pstrcat(r->pool, dir, "pyvenv.cfg", NULL),
                        APR_FINFO_TYPE, r->pool) == APR_SUCCESS) {
            return 0;
        }
    }
    /* Our interpreter's own binary, not merely one of the same name: a
     * python3.11 built elsewhere has other site-packages. */
    return !strcmp(resolved, pycgi_runner_our_python(r));
}

/* What a script's first line says it is. */
#define PYCGI_SCRIPT_OTHER  0   /* not Python (shell, perl, binary, ...) */
#define PYCGI_SCRIPT_PYTHON 1   /* some Python, not provably ours */
#define PYCGI_SCRIPT_OURS   2   /* our Python: no #! (.py), or #! to it */

static int pycgi_runner_classify(request_rec *r, const char **why)
{
    apr_file_t *f;
    char line[256];
    apr_size_t len = sizeof(line) - 1;
    const char *prog, *arg, *base;
    int rc, more;

    if (apr_file_open(&f, r->filename, APR_READ, APR_OS_DEFAULT, r->pool)
        != APR_SUCCESS) {
        *why = "cannot read the script";
        return PYCGI_SCRIPT_OTHER;
    }
    if (apr_file_read(f, line, &len) != APR_SUCCESS) {
        len = 0;
    }
    apr_file_close(f);
    line[len] = '\0';

    rc = pycgi_parse_shebang(line, len, &prog, &arg, &more);
    if (rc == -1) {
        const char *ext = strrchr(r->filename, '.');

        *why = "no #! line";
        return ext && !strcmp(ext, ".py") ? PYCGI_SCRIPT_OURS
                                          : PYCGI_SCRIPT_OTHER;
    }
    if (rc < 0) {
        *why = rc == -2 ? "#! line too long" : "empty #! line";
        return PYCGI_SCRIPT_OTHER;
    }
    if (!strcmp(apr_filepath_name_get(prog), "env")) {
        if (!arg || *arg == '-' || more) {
            *why = "#! env with options";
            return PYCGI_SCRIPT_OTHER;
        }
        prog = arg;
        arg = NULL;
    }
    *why = apr_pstrcat(r->pool, "#! ", prog, arg ? " " : "", arg, NULL);
    base = apr_filepath_name_get(prog);
    if (strncmp(base, "python", 6)) {
        return PYCGI_SCRIPT_OTHER;
    }
    if (arg) {
        /* python3 -u, -O, ...: interpreter flags we do not emulate. */
        return PYCGI_SCRIPT_PYTHON;
    }
    return pycgi_runner_same_python(r, prog) ? PYCGI_SCRIPT_OURS
                                            : PYCGI_SCRIPT_PYTHON;
}

/* Per-process cache of pycgi_runner_classify() and access(X_OK),
 * keyed by path and checked against the stat httpd already did for the
 * request (a chmod changes ctime, an edit mtime).  Bounded: emptied when
 * it holds PYCGI_CLASS_CACHE_MAX scripts. */
#define PYCGI_CLASS_CACHE_MAX 4096

typedef struct {
    apr_time_t mtime, ctime;
    apr_off_t size;
    apr_ino_t inode;
    int kind;
    int executable;
    const char *why;
} pycgi_class_entry;

static struct {
    apr_pool_t *pool;
    apr_hash_t *hash;
    apr_thread_mutex_t *lock;
} pycgi_class_cache;

static void pycgi_runner_lookup(request_rec *r, int *kind, int *executable,
                               const char **why)
{
    pycgi_class_entry *e = NULL;
    const apr_finfo_t *fi = &r->finfo;

    if (pycgi_class_cache.hash) {
        apr_thread_mutex_lock(pycgi_class_cache.lock);
        e = apr_hash_get(pycgi_class_cache.hash, r->filename,
                         APR_HASH_KEY_STRING);
        if (e && e->mtime == fi->mtime && e->ctime == fi->ctime
            && e->size == fi->size && e->inode == fi->inode) {
            *kind = e->kind;
            *executable = e->executable;
            *why = apr_pstrcat(r->pool, e->why, ", cached", NULL);
            apr_thread_mutex_unlock(pycgi_class_cache.lock);
            return;
        }
        apr_thread_mutex_unlock(pycgi_class_cache.lock);
    }

    *executable = access(r->filename, X_OK) == 0;
    *kind = *executable ? pycgi_runner_classify(r, why) : PYCGI_SCRIPT_OTHER;
    if (!*executable) {
        *why = "not executable";
    }
    if (!pycgi_class_cache.hash) {
        return;
    }
    apr_thread_mutex_lock(pycgi_class_cache.lock);
    if (apr_hash_count(pycgi_class_cache.hash) >= PYCGI_CLASS_CACHE_MAX) {
        apr_pool_clear(pycgi_class_cache.pool);
        pycgi_class_cache.hash = apr_hash_make(pycgi_class_cache.pool);
    }
    e = apr_palloc(pycgi_class_cache.pool, sizeof(*e));
    e->mtime = fi->mtime;
    e->ctime = fi->ctime;
    e->size = fi->size;
    e->inode = fi->inode;
    e->kind = *kind;
    e->executable = *executable;
    e->why = apr_pstrdup(pycgi_class_cache.pool, *why);
    apr_hash_set(pycgi_class_cache.hash,
                 apr_pstrdup(pycgi_class_cache.pool, r->filename),
                 APR_HASH_KEY_STRING, e);
    apr_thread_mutex_unlock(pycgi_class_cache.lock);
}

static int pycgi_runner_rlimited(request_rec *r)
{
    core_dir_config *core = ap_get_core_module_config(r->per_dir_config);

    (void)core;
    return 0
#ifdef RLIMIT_CPU
        || core->limit_cpu
#endif
#if defined(RLIMIT_DATA) || defined(RLIMIT_VMEM) || defined(RLIMIT_AS)
        || core->limit_mem
#endif
#ifdef RLIMIT_NPROC
        || core->limit_nproc
#endif
        ;
}

static int pycgi_runner_owner_ok(request_rec *r, pycgi_server_conf *sconf)
{
    int i;

    if (!sconf->owners) {
        return 1;
    }
    for (i = 0; i < sconf->owners->nelts; i++) {
        if (APR_ARRAY_IDX(sconf->owners, i, apr_uid_t) == r->finfo.user) {
            return 1;
        }
    }
    return 0;
}

void pycgi_runner_child_init(apr_pool_t *pchild)
{
    if (!realpath(PYCGI_PYTHON_EXECUTABLE, pycgi_runner_ours)) {
        apr_cpystrn(pycgi_runner_ours, PYCGI_PYTHON_EXECUTABLE,
                    sizeof(pycgi_runner_ours));
    }
    if (apr_pool_create(&pycgi_class_cache.pool, pchild) == APR_SUCCESS
        && apr_thread_mutex_create(&pycgi_class_cache.lock,
                                   APR_THREAD_MUTEX_DEFAULT, pchild)
           == APR_SUCCESS) {
        pycgi_class_cache.hash = apr_hash_make(pycgi_class_cache.pool);
    }
}

static int pycgi_runner_suexec(request_rec *r)
{
    return pycgi_suexec_identity(r) != NULL;
}

/* PyCGIMode embedded: the policies that keep a script out of the
 * server process.  Sets *runner, or returns the status of a request
 * that must not run. */
static int pycgi_runner_embedded(request_rec *r, int *runner,
                                 const char **why)
{
    pycgi_server_conf *sconf = pycgi_sconf(r->server);
    int embed;

    if (!pycgi_config_allow_embedded(sconf)) {
        *why = "PyCGIAllowEmbedded Off";
        embed = 0;
    }
    else if (pycgi_runner_suexec(r)) {
        /* The script must run as its own user: only exec + suexec can
         * do that.  Asking for embedded here is an error, never a
         * silent downgrade to the server's identity. */
        return pycgi_log_scripterror(r, HTTP_INTERNAL_SERVER_ERROR, 0,
                                     PYCGI_LOGNO(0601),
                                     "PyCGIMode embedded refused: suexec "
                                     "applies to this request");
    }
    else if (!pycgi_runner_owner_ok(r, sconf)) {
        *why = "script owner not in PyCGIEmbedOwners";
        embed = 0;
    }
    else {
        /* Every Python script; other scripts run exec, and so does a
         * file that is not executable: mod_cgi would fail to exec it
         * (500), and so must we.  (RLimit* cannot bind a script in the
         * server: the admin's choice, documented.) */
        int kind, executable;

        pycgi_runner_lookup(r, &kind, &executable, why);
        embed = executable && kind != PYCGI_SCRIPT_OTHER;
    }

    if (embed && !pycgi_interp_ready()) {
        return pycgi_log_scripterror(r, HTTP_SERVICE_UNAVAILABLE, 0,
                                     PYCGI_LOGNO(0602),
                                     "embedded Python interpreter is not "
                                     "available");
    }
    *runner = embed ? PYCGI_RUNNER_EMBEDDED : PYCGI_RUNNER_EXEC;
    return OK;
}

/* A script suexec applies to, about to run daemon: it runs in the user
 * pool of its identity once suexec's own rules pass.  OK with *daemon
 * set, or the status of a refused script. */
static int pycgi_runner_user_pool(request_rec *r, ap_unix_identity_t *id,
                                  int *daemon, const char **why)
{
    pycgi_pool *pool;
    int rc;

    *daemon = 0;
    pool = pycgi_pool_for(r);
    rc = pycgi_suexec_check(r, id, pool ? pool->stats->docroot : NULL);
    if (rc == DECLINED) {
        *why = "suexec applies, left to the suexec binary";
        return OK;
    }
    if (rc != OK) {
        return rc;
    }
    if (!pool) {
        /* This one runs exec; later ones find the pool (or, with every
         * user pool taken, run exec too). */
        pycgi_pool_assign(id);
        *why = "suexec applies, no user pool yet";
        return OK;
    }
    *why = apr_psprintf(r->pool, "suexec applies, user pool %s",
                        pool->name);
    *daemon = 1;
    return OK;
}

/* PyCGIMode daemon, and its pool's workers fail to start. */
static int pycgi_runner_failing(request_rec *r)
{
    return pycgi_log_scripterror(r, HTTP_SERVICE_UNAVAILABLE, 0,
                                 PYCGI_LOGNO(0609),
                                 "the daemon pool's workers fail to start "
                                 "(see PYCGI0967) for");
}

/* PyCGIMode daemon (and auto, when it picks daemon). */
static int pycgi_runner_daemon(request_rec *r, int mode, int *runner,
                               const char **why)
{
    ap_unix_identity_t *id = pycgi_suexec_identity(r);
    int kind, executable, daemon;

    if (id && !pycgi_pool_users()) {
        /* No user pools: workers run as httpd's User, so a script that
         * must run as its own user runs exec, under suexec. */
        *why = "suexec applies";
        daemon = 0;
    }
    else if (mode == PYCGI_MODE_AUTO && pycgi_runner_rlimited(r)
             && pycgi_config_isolation(pycgi_dconf(r))
                != PYCGI_ISOLATION_FORK) {
        /* A worker serves many requests: RLimit* could not bound one
         * (a forked one can: PyCGIIsolation fork). */
        *why = "RLimit* applies";
        daemon = 0;
    }
    else {
        pycgi_runner_lookup(r, &kind, &executable, why);
        daemon = executable && (mode == PYCGI_MODE_DAEMON
                                ? kind != PYCGI_SCRIPT_OTHER
                                : kind == PYCGI_SCRIPT_OURS);
        if (id && !daemon) {
            /* Not for a worker (a file httpd's User cannot read is
             * among them): exec, under suexec. */
            *why = apr_pstrcat(r->pool, "suexec applies, ", *why, NULL);
        }
    }
    if (daemon && id) {
        int rc = pycgi_runner_user_pool(r, id, &daemon, why);

        if (rc != OK) {
            return rc;
        }
    }
    else if (daemon && !pycgi_daemon_available(r)) {
        if (mode == PYCGI_MODE_DAEMON) {
            return pycgi_log_scripterror(r, HTTP_SERVICE_UNAVAILABLE, 0,
                                         PYCGI_LOGNO(0607),
                                         "the daemon runner is not "
                                         "available");
        }
        *why = "daemon runner not available";
        daemon = 0;
    }
    if (daemon && pycgi_daemon_failing(r)) {
        /* Rather than a wait for the queue timeout and a 503: exec, as
         * mod_cgi would run it, until a worker boots again. */
        if (mode == PYCGI_MODE_DAEMON) {
            return pycgi_runner_failing(r);
        }
        *why = "the daemon pool's workers fail to start";
        daemon = 0;
    }
    *runner = daemon ? PYCGI_RUNNER_DAEMON : PYCGI_RUNNER_EXEC;
    return OK;
}

int pycgi_runner_choose(request_rec *r, pycgi_dir_conf *dconf, int nph,
                        int *runner)
{
    int mode = pycgi_config_mode(dconf);
    const char *why = "PyCGIMode exec";
    int status = OK;

    (void)nph;
    *runner = PYCGI_RUNNER_EXEC;
    /* auto is daemon: a Python script gets a process of its own, as
     * under mod_cgi; in-process embedding is only ever asked for. */
    if (mode == PYCGI_MODE_DAEMON || mode == PYCGI_MODE_AUTO) {
        status = pycgi_runner_daemon(r, mode, runner, &why);
    }
    else if (mode == PYCGI_MODE_EMBEDDED) {
        status = pycgi_runner_embedded(r, runner, &why);
    }
    if (status != OK) {
        return status;
    }
    ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PYCGI_LOGNO(0603)
                  "%s runs %s (%s)", r->filename, pycgi_runner_name(*runner),
                  why);
    return OK;
}

const char *pycgi_runner_name(int runner)
{
    switch (runner) {
    case PYCGI_RUNNER_EXEC:
        return "exec";
    case PYCGI_RUNNER_EMBEDDED:
        return "embedded";
    case PYCGI_RUNNER_DAEMON:
        return "daemon";
    default:
        return "idle";
    }
}

int pycgi_runner_run(request_rec *r, int runner, int nph,
                     apr_interval_time_t timeout)
{
    switch (runner) {
    case PYCGI_RUNNER_EMBEDDED:
        return pycgi_embed_run(r, nph, timeout);
    case PYCGI_RUNNER_DAEMON: {
        int status = pycgi_daemon_run(r, nph, timeout);

        if (status != PYCGI_DAEMON_UNSTARTED) {
            return status;
        }
        if (pycgi_config_mode(pycgi_dconf(r)) == PYCGI_MODE_DAEMON) {
            return pycgi_runner_failing(r);
        }
        /* auto: as mod_cgi would run it (nothing of it was used). */
        ap_log_rerror(APLOG_MARK, APLOG_DEBUG, 0, r, PYCGI_LOGNO(0603)
                      "%s runs exec (the daemon pool's workers fail to "
                      "start)", r->filename);
        return pycgi_exec_run(r, nph, timeout);
    }
    default:
        return pycgi_exec_run(r, nph, timeout);
    }
}
