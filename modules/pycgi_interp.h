/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_interp.h -- the embedded interpreter's lifecycle.
 *
 * Scope (in mod_lua's terms: "server scope"): one Python interpreter
 * per httpd child process, never in the parent, so Python can only
 * ever take one child down: created in child_init under threaded MPMs,
 * by the child's first embedded request under prefork -- and living
 * until the child exits.  PyCGIMaxRequests retires the child (httpd
 * starts a fresh one) after that many embedded requests.
 *
 * Embedded requests are SERIALISED per process: os.environ, the working
 * directory, sys.argv and the std streams are process-wide, so two
 * scripts may never overlap in one process.  Under prefork that costs
 * nothing (one request per process anyway); under event/worker other
 * threads of the process wait on pycgi_interp_enter() while static files
 * and exec scripts are served in parallel; concurrency comes from the
 * MPM's several processes.
 *
 * The GIL is released once Python is up and taken only between
 * pycgi_interp_enter() and pycgi_interp_leave().
 */
#ifndef PYCGI_INTERP_H
#define PYCGI_INTERP_H

#include "pycgi_config.h"

void pycgi_interp_child_init(apr_pool_t *p, server_rec *s);

/* Take the pending Python error: its text (copied into `p`), the error
 * cleared.  GIL held. */
const char *pycgi_interp_pyerr(apr_pool_t *p);

/* Python is up in this process (embedded requests can run); under
 * prefork the first call starts it.  Called by the runner before any
 * embedded request, in the request's thread. */
int pycgi_interp_ready(void);

/* --- for the embedded runner (pycgi_embed.c) --- */
struct pycgi_script;

/* Take this process's embedded-request lock, waiting at most `wait`
 * (APR_TIMEUP then), then the GIL (with this thread's own, kept, Python
 * thread state); leave releases both. */
apr_status_t pycgi_interp_enter(apr_interval_time_t wait);
void pycgi_interp_leave(void);
/* Does this thread hold the lock already (a sub-request made while its
 * embedded script writes, e.g. mod_include on the script's output)? */
int pycgi_interp_entered(void);

/* The _pycgi_boot module (borrowed; GIL held). */
void *pycgi_interp_boot(void);

/* Arm the watchdog for `sc` (GIL held, in the request's thread): past
 * sc->deadline it sets sc->timed_out and raises ScriptTimeout in this
 * thread; if the script still runs PYCGI_HARD_GRACE later, the process
 * is ended (httpd replaces it).  Past `slow_at` (0 = never) it writes
 * the slow log (PyCGISlowLog): this thread's Python stack only, taken
 * with the GIL, logged without it.  Disarm also drops an exception the
 * watchdog raised too late to matter. */
void pycgi_interp_arm(struct pycgi_script *sc, apr_time_t slow_at);
void pycgi_interp_disarm(void);
/* Move the armed deadline later (the script wrote something). */
void pycgi_interp_extend(apr_time_t deadline);
/* The script waits on its client (reading the body, writing to a slow
 * reader): no timeout fires until the matching pycgi_interp_pause(0)
 * (nested calls count).  No GIL needed. */
void pycgi_interp_pause(int paused);

/* A child process an embedded script left running: the watchdog reaps
 * it when it ends (no GIL needed). */
void pycgi_interp_adopt(pid_t pid);

/* Count one embedded request (GIL held; `started`: the script's code
 * was looked up); retires the process after PyCGIMaxRequests. */
void pycgi_interp_count(request_rec *r, int started, int timed_out);

/* Something a script did outlives it in this process (`why`, from the
 * request pool): logged; under prefork the child retires after this
 * request (GIL held). */
void pycgi_interp_retire(request_rec *r, const char *why);

#endif /* PYCGI_INTERP_H */
