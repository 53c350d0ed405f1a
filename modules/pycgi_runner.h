/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_runner.h -- the runners are peers: each serves one request,
 * given its nph flag and CGIScriptTimeout, and returns the handler's
 * status.  Which one serves a request is decided here and nowhere else.
 */
#ifndef PYCGI_RUNNER_H
#define PYCGI_RUNNER_H

#include "pycgi_config.h"

#define PYCGI_RUNNER_NONE     0
#define PYCGI_RUNNER_EXEC     1
#define PYCGI_RUNNER_EMBEDDED 2
#define PYCGI_RUNNER_DAEMON   3

/* Choose the runner for r (the environment is built already): sets
 * *runner and returns OK, or returns the HTTP error status (logged) of
 * a request that must not run at all.  The choice and its reason are
 * logged at debug level (PYCGI0603). */
int pycgi_runner_choose(request_rec *r, pycgi_dir_conf *dconf, int nph,
                        int *runner);

/* Serve r with the chosen runner. */
int pycgi_runner_run(request_rec *r, int runner, int nph,
                     apr_interval_time_t timeout);

/* "exec", "embedded", ...: for logs and the status page. */
const char *pycgi_runner_name(int runner);

/* Per-process state of the choice (the script classification cache). */
void pycgi_runner_child_init(apr_pool_t *pchild);

#endif /* PYCGI_RUNNER_H */
