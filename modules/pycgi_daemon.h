/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_daemon.h -- the daemon runner, httpd side.  The request's three
 * pipes are made here exactly as the exec runner's would be, passed to
 * an idle worker of the request's pool (pycgi_pool) over its socket,
 * and served by the exec runner's own loop (pycgi_pipe): to the script,
 * fds 0, 1 and 2 are the request's, as in any CGI process.
 *
 * Everything per request comes from r->pool; the connection to the
 * worker is closed by a cleanup of r->pool.
 */
#ifndef PYCGI_DAEMON_H
#define PYCGI_DAEMON_H

#include "pycgi_pipe.h"

/* Is the daemon runner up (pools built, supervisor started)? */
int pycgi_daemon_available(request_rec *r);

/* Do the workers of r's pool fail to start, with none idle (a missing
 * or unexecutable worker program, a chroot without it, ...)?  Then it
 * also asks the supervisor to try again, which it does when its
 * back-off allows (PYCGI0967): a pool that boots again is used again. */
int pycgi_daemon_failing(request_rec *r);

/* pycgi_daemon_run()'s answer when no worker took the request because
 * the pool's workers fail to start (found while it waited): nothing of
 * the request was used (what it read of the body is put back, see
 * pycgi_body_unread), nothing was logged, and no worker will run it. */
#define PYCGI_DAEMON_UNSTARTED (-300)

/* Run r->filename in a worker of its pool; returns the handler's
 * status.  The environment must already be in r->subprocess_env. */
int pycgi_daemon_run(request_rec *r, int nph, apr_interval_time_t timeout);

#endif /* PYCGI_DAEMON_H */
