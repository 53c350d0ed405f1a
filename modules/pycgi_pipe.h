/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_pipe.h -- serving a script that talks CGI on three pipes: the
 * request body written to its stdin, its stdout scanned and passed to
 * the client (pycgi_output), its stderr logged line by line, all at
 * once in one poll loop.  Shared by the runners whose script is a real
 * process: exec (our child) and daemon (a worker's).
 *
 * CGIScriptTimeout is measured as mod_cgi measures it: the longest
 * silence on stdout while we wait for it.
 */
#ifndef PYCGI_PIPE_H
#define PYCGI_PIPE_H

#include "pycgi_output.h"
#include "pycgi_body.h"

typedef struct {
    int timed_out;              /* stdout went silent past the timeout */
    int drained;                /* ended by `ended`'s word (see below),
                                 * both pipes read to that point: they
                                 * hold nothing more of this request */
} pycgi_pipe_result;

/* How the script's end is told besides EOF on its pipes: `fd` becomes
 * readable once the script has ended (a pidfd; a daemon worker's
 * connection when its DONE arrives).  `fn` (may be NULL) is then called
 * once; 1 means every byte of the script's output is in the pipes now
 * and nothing more comes, though they stay open (a daemon worker keeps
 * them for the next request): they are read until empty, and the
 * response ends there. */
typedef int pycgi_pipe_end_fn(void *data);
typedef struct {
    apr_file_t *fd;
    pycgi_pipe_end_fn *fn;
    void *data;
} pycgi_pipe_end;

/* PyCGISlowLog: once the script has run `after` (counted from
 * pycgi_pipe_serve()'s start) and we still wait for it, `fn` runs, once,
 * in the request's thread, with the stderr line buffer (for
 * pycgi_slowlog_divert()).  It must not block for long. */
typedef void pycgi_pipe_slow_fn(request_rec *r, pycgi_linebuf *lb,
                                void *data);
typedef struct {
    apr_interval_time_t after;  /* 0 = never */
    pycgi_pipe_slow_fn *fn;
    void *data;
} pycgi_pipe_slow;

/* Serve the script of r whose ends are `in` (we write; closed here;
 * NULL when the script got no stdin pipe because there is no body, or
 * all of it is in the pipe already), `out` and `err` (we read), all
 * from r->pool or a longer-lived pool.  What the caller has read of the
 * request's body already (pycgi_body_of) is not written to `in`.
 * `in` must be non-blocking (pipe timeout 0); `out` and `err` may block
 * or not: they are read once per readiness that poll() reports, so a
 * read never waits.  `slow` may be NULL.  Returns the handler's status;
 * `res` (may be NULL) says how it ended. */
int pycgi_pipe_serve(request_rec *r, int nph, apr_interval_time_t timeout,
                     apr_file_t *in, apr_file_t *out, apr_file_t *err,
                     const pycgi_pipe_end *ended,
                     const pycgi_pipe_slow *slow, pycgi_pipe_result *res);

/* `ended` may be NULL.  Once it has said the script ended (and its `fn`
 * did not say all output is in), what is left on stdout is read for at
 * most PYCGI_PIPE_EXIT_GRACE more (a child it left running may hold
 * stdout open), then the response ends (logged, PYCGI0112).
 * pycgi_pipe_serve_child() is that for our child process `pid`. */
int pycgi_pipe_serve_child(request_rec *r, int nph,
                           apr_interval_time_t timeout, apr_file_t *in,
                           apr_file_t *out, apr_file_t *err, pid_t pid,
                           const pycgi_pipe_slow *slow,
                           pycgi_pipe_result *res);

/* Our end `*fd` of a script's pipe as an APR file of p, closed when p
 * goes (*fd becomes -1; on failure *fd is closed and NULL returned).
 * The end we write to (`writing`) is made non-blocking; an end we read
 * from is left as it is (see pycgi_pipe_serve): two fcntl() calls
 * saved per pipe. */
apr_file_t *pycgi_pipe_file(apr_pool_t *p, int *fd, int writing);

/* An end `fd` we read from as an APR file of p that p does not close:
 * the caller still owns fd (a daemon worker's kept pipes).  NULL on
 * failure. */
apr_file_t *pycgi_pipe_file_lent(apr_pool_t *p, int fd);

#endif /* PYCGI_PIPE_H */
