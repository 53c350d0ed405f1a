/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_exec.c -- fork/exec runner.
 */
#include "pycgi_exec.h"
#include "pycgi_env.h"
#include "pycgi_spawn.h"
#include "pycgi_slowlog.h"
#include "unixd.h"

#include <signal.h>

/* Runs in the forked child when exec (or chdir, ...) fails: the parent
 * then sees no output and answers 500, as mod_cgi does. */
static void pycgi_exec_child_errfn(apr_pool_t *pool, apr_status_t err,
                                   const char *description)
{
    (void)pool;
    ap_log_error(APLOG_MARK, APLOG_ERR, err, ap_server_conf,
                 PYCGI_LOGNO(0103) "%s", description);
}

/* Runs in the forked child just before exec (APR runs the child
 * cleanups of every pool there).  A worker thread of a threaded MPM
 * blocks all signals, and a process it forks inherits that mask: the
 * SIGXCPU of RLimitCPU and the SIGTERM that ends a timed-out script
 * would never arrive.  A CGI process starts with nothing blocked, as
 * it does under prefork. */
static apr_status_t pycgi_exec_child_sigmask(void *data)
{
    sigset_t none;
    int sig;

    (void)data;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    /* exec keeps what is ignored (httpd ignores SIGPIPE, SIGXFSZ, ...):
     * a CGI process starts with every signal at its default, as the
     * posix_spawn path gives it (pycgi_spawn.c).  Handlers are reset by
     * exec itself. */
    for (sig = 1; sig < NSIG; sig++) {
        struct sigaction sa;

        if (sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN) {
            signal(sig, SIG_DFL);
        }
    }
    return APR_SUCCESS;
}

/* posix_spawn can serve this request: a program (not a shell command)
 * with all three pipes, neither suexec nor RLimit* (they need code of
 * ours between fork and exec). */
static int pycgi_exec_spawnable(request_rec *r, core_dir_config *core,
                                apr_cmdtype_e type, int pipe_err)
{
    return type == APR_PROGRAM && pipe_err
           && !core->limit_cpu && !core->limit_mem && !core->limit_nproc
           && !(ap_unixd_config.suexec_enabled
                && ap_run_get_suexec_identity(r));
}

apr_status_t pycgi_exec_spawn(request_rec *r, apr_pool_t *p,
                              const char *command, const char **argv,
                              char **envp, apr_cmdtype_e type, int pipe_in,
                              int pipe_err, apr_proc_t **proc)
{
    core_dir_config *core = ap_get_core_module_config(r->per_dir_config);
    apr_procattr_t *attr;
    apr_status_t rv;

    if (!envp) {
        envp = pycgi_env_envp(r, p);
    }

    if (pycgi_exec_spawnable(r, core, type, pipe_err)) {
        rv = pycgi_spawn(r, p, command, argv, envp, pycgi_env_dir(r, p),
                         pipe_in, proc);
        if (rv != APR_ENOTIMPL) {
            if (rv != APR_SUCCESS) {
                /* What APR's forked child says when its exec fails. */
                ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, PYCGI_LOGNO(0103)
                              "exec of '%s' failed", command);
            }
            return rv;
        }
    }

    *proc = apr_pcalloc(p, sizeof(apr_proc_t));
    if ((rv = apr_procattr_create(&attr, p)) != APR_SUCCESS
        || (rv = apr_procattr_io_set(attr,
                                     pipe_in ? APR_CHILD_BLOCK : APR_NO_PIPE,
                                     APR_CHILD_BLOCK,
                                     pipe_err ? APR_CHILD_BLOCK : APR_NO_PIPE))
           != APR_SUCCESS
        || (rv = apr_procattr_dir_set(attr, pycgi_env_dir(r, p))) != APR_SUCCESS
#ifdef RLIMIT_CPU
        || (rv = apr_procattr_limit_set(attr, APR_LIMIT_CPU, core->limit_cpu))
           != APR_SUCCESS
#endif
#if defined(RLIMIT_DATA) || defined(RLIMIT_VMEM) || defined(RLIMIT_AS)
        || (rv = apr_procattr_limit_set(attr, APR_LIMIT_MEM, core->limit_mem))
           != APR_SUCCESS
#endif
#ifdef RLIMIT_NPROC
        || (rv = apr_procattr_limit_set(attr, APR_LIMIT_NPROC,
                                        core->limit_nproc)) != APR_SUCCESS
#endif
        || (rv = apr_procattr_cmdtype_set(attr, type)) != APR_SUCCESS
        || (rv = apr_procattr_detach_set(attr, 0)) != APR_SUCCESS
        || (rv = apr_procattr_addrspace_set(attr, 0)) != APR_SUCCESS
        || (rv = apr_procattr_child_errfn_set(attr, pycgi_exec_child_errfn))
           != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, PYCGI_LOGNO(0101)
                      "couldn't set child process attributes: %s",
                      r->filename);
        return rv;
    }

    apr_pool_cleanup_register(p, NULL, apr_pool_cleanup_null,
                              pycgi_exec_child_sigmask);
    /* suexec, when configured for this request, is applied here. */
    rv = ap_os_create_privileged_process(r, *proc, command, argv,
                                         (const char * const *)envp, attr, p);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    apr_pool_note_subprocess(p, *proc, APR_KILL_AFTER_TIMEOUT);
    /* Our ends never block the server thread without a bound: pipes are
     * non-blocking and waited on with poll. */
    if ((*proc)->in) {
        apr_file_pipe_timeout_set((*proc)->in, 0);
    }
    apr_file_pipe_timeout_set((*proc)->out, 0);
    if ((*proc)->err) {
        apr_file_pipe_timeout_set((*proc)->err, 0);
    }
    return APR_SUCCESS;
}

/* PyCGISlowLog: the script runs its own interpreter, which we cannot
 * ask for its stack; the line still says which request is slow. */
static void pycgi_exec_slow(request_rec *r, pycgi_linebuf *lb, void *data)
{
    (void)lb;
    (void)data;
    pycgi_slowlog_report(r, r->pool, "exec runner: no Python stack", "");
}

int pycgi_exec_run(request_rec *r, int nph, apr_interval_time_t timeout)
{
    apr_pool_t *p = r->main ? r->main->pool : r->pool;
    pycgi_pipe_slow slow;
    apr_proc_t *proc;
    const char **argv;
    apr_status_t rv;
    int argc;

    argv = pycgi_env_argv(r, p, &argc);
    rv = pycgi_exec_spawn(r, p, r->filename, argv, NULL, APR_PROGRAM, 1, 1,
                          &proc);
    if (rv != APR_SUCCESS) {
        return pycgi_log_scripterror(r, HTTP_INTERNAL_SERVER_ERROR, rv,
                                     PYCGI_LOGNO(0102),
                                     "couldn't spawn child process");
    }
    slow.after = pycgi_slowlog_after(r);
    slow.fn = pycgi_exec_slow;
    slow.data = NULL;
    /* The child is the request pool's: reaped (and, after a timeout,
     * killed) when the pool goes. */
    return pycgi_pipe_serve_child(r, nph, timeout, proc->in, proc->out,
                                  proc->err, proc->pid, &slow, NULL);
}
