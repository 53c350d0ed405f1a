/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_exec.h -- the exec runner: the script as a child process of
 * this httpd process, served on its pipes by pycgi_pipe.
 *
 * The child belongs to the request pool (apr_pool_note_subprocess,
 * kill after timeout): whatever happens, it is reaped when the request
 * ends.  suexec, RLimitCPU/MEM/NPROC apply as with mod_cgi.
 */
#ifndef PYCGI_EXEC_H
#define PYCGI_EXEC_H

#include "pycgi_pipe.h"

/* Run r->filename as a CGI process; returns the handler's status.
 * The environment must already be in r->subprocess_env. */
int pycgi_exec_run(request_rec *r, int nph, apr_interval_time_t timeout);

/* Start `command` for request r with pipes as asked (stdin/stderr may
 * be left unpiped: the child then has /dev/null-like defaults of APR),
 * environment `envp` (NULL: the script's, pycgi_env_envp).  Used by
 * pycgi_exec_run and by the SSI "exec cmd" handler.  Children are
 * allocated from and reaped with pool p. */
apr_status_t pycgi_exec_spawn(request_rec *r, apr_pool_t *p,
                              const char *command, const char **argv,
                              char **envp, apr_cmdtype_e type, int pipe_in,
                              int pipe_err, apr_proc_t **proc);

#endif /* PYCGI_EXEC_H */
