/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_log.h -- error-log and ScriptLog output for both runners.
 *
 * Everything here allocates from r->pool and may block on the log
 * file: never call it while holding the GIL.
 */
#ifndef PYCGI_LOG_H
#define PYCGI_LOG_H

#include "pycgi_config.h"

/* Log "<logno><msg>: <script>" at APLOG_ERR, append the same to the
 * ScriptLog if one is configured, and return `status` -- the one place
 * that maps a failure to its HTTP status. */
int pycgi_log_scripterror(request_rec *r, int status, apr_status_t rv,
                          const char *logno, const char *msg);

/* The ScriptLog record of a script whose headers were refused: request
 * headers, the logged part of the body (`dbuf`, may be NULL), response
 * headers, the scanner's message `sbuf`, then whatever stdout is left
 * in `bb` (read to its end, so for a pipe this waits for the script).
 * Without a ScriptLog the rest of `bb` is simply discarded. */
int pycgi_log_script(request_rec *r, int status, const char *dbuf,
                     const char *sbuf, apr_bucket_brigade *bb);

/* Script stderr is logged a line at a time, tagged with the script's
 * name.  A pycgi_linebuf collects partial lines between writes; it is
 * per request (allocate it from r->pool). */
typedef struct {
    request_rec *r;
    /* When set, each complete line is offered here first; a line it
     * takes (returns 1) is not logged (the slow log's file). */
    int (*divert)(void *data, const char *line);
    void *divert_data;
    apr_size_t len;
    char buf[HUGE_STRING_LEN];
} pycgi_linebuf;

pycgi_linebuf *pycgi_log_linebuf(request_rec *r);
void pycgi_log_stderr(pycgi_linebuf *lb, const char *data, apr_size_t len);
/* Log a trailing partial line, if any (end of the script's stderr). */
void pycgi_log_stderr_flush(pycgi_linebuf *lb);

#endif /* PYCGI_LOG_H */
