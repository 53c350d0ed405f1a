/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_slowlog.h -- PyCGISlowLog: a script still running after so
 * many seconds gets one report, its request line, script and Python
 * stack, in the error log or the directive's file; the request goes on.
 *
 * Who owns the clock and how the stack is got is the runners' business:
 * the exec and daemon runners through pycgi_pipe's slow callback (the
 * daemon asks its worker by a signal, the stack comes back on the
 * script's stderr), the embedded runner through its watchdog thread.
 * This pair only writes what they hand it.  It may block on the log or
 * the file: never call it while holding the GIL.
 */
#ifndef PYCGI_SLOWLOG_H
#define PYCGI_SLOWLOG_H

#include "pycgi_log.h"

/* The slow-log threshold of r's directory, 0 = off. */
apr_interval_time_t pycgi_slowlog_after(request_rec *r);

/* One report of r; lives in the pool it was made from. */
typedef struct pycgi_slowlog_event pycgi_slowlog_event;

/* Report that r's script still runs: the head line (PYCGI0109 in the
 * error log, or a record in the PyCGISlowLog file) with the request
 * line, the script, the seconds and `runner` (a few words: who runs
 * it); then `stack` a line at a time (PYCGI0110, or the file): "" when
 * there is none, NULL when it comes later on the script's stderr (see
 * below).  Everything is allocated from `p`, which the calling thread
 * alone may use (r->pool in the request's thread; the embedded
 * watchdog has a pool of its own).  Returns the event, kept open for
 * pycgi_slowlog_divert(), only when `stack` is NULL and the report
 * went to the file. */
pycgi_slowlog_event *pycgi_slowlog_report(request_rec *r, apr_pool_t *p,
                                          const char *runner,
                                          const char *stack);

/* The stack comes later, on the script's stderr (faulthandler's
 * format): for PYCGI_SLOWLOG_WINDOW from now, lines of `lb` that look
 * like a stack dump go to the event's file instead of the error log.
 * A no-op for a NULL event.  Request thread only. */
#define PYCGI_SLOWLOG_WINDOW apr_time_from_sec(2)
void pycgi_slowlog_divert(pycgi_slowlog_event *ev, pycgi_linebuf *lb);

#endif /* PYCGI_SLOWLOG_H */
