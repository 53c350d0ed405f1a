/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_embed.h -- the embedded runner: the script runs in this
 * process's persistent Python interpreter (see pycgi_interp.h) as if it
 * were a fresh CGI process.  Its stdout bytes go through the same
 * pycgi_output path as an exec child's pipe.
 */
#ifndef PYCGI_EMBED_H
#define PYCGI_EMBED_H

#include "pycgi_output.h"
#include "pycgi_body.h"

/* One embedded request; from r->pool, owned by pycgi_embed_run(). */
typedef struct pycgi_embed_req {
    request_rec *r;
    pycgi_output *out;
    pycgi_body *body;
    pycgi_linebuf *lb;
    apr_bucket_brigade *bb;     /* scratch brigade for the output path */
    char *hbuf;                 /* header block collected so far */
    apr_size_t hlen, hcap;
    apr_time_t deadline;        /* CGIScriptTimeout, absolute */
    apr_time_t slow_at;         /* PyCGISlowLog, absolute; 0 = off */
    apr_interval_time_t timeout;/* CGIScriptTimeout: allowed silence */
    volatile int timed_out;     /* set by the watchdog, or by a sleep
                                 * cut short (under pycgi_pyio's lock) */
    int ending;                 /* script over: flush() adds no FLUSH */
    int forked;                 /* the script started processes */
    int interrupted;            /* the watchdog raised ScriptTimeout in
                                 * it, wherever it was (GIL held) */
} pycgi_embed_req;

/* Per-process state of the runner (child_init). */
void pycgi_embed_child_init(apr_pool_t *pchild);

/* Run r->filename embedded; returns the handler's status. */
int pycgi_embed_run(request_rec *r, int nph, apr_interval_time_t timeout);

/* The stream objects' side (pycgi_pyio.c).  Called WITHOUT the GIL
 * (they may block on the client or the log), one at a time, and only
 * while `req` is open (pycgi_pyio_open/close). */
apr_status_t pycgi_embed_write(pycgi_embed_req *req, const char *data,
                               apr_size_t len);
apr_status_t pycgi_embed_flush(pycgi_embed_req *req);
apr_status_t pycgi_embed_read(pycgi_embed_req *req, char *buf,
                              apr_size_t want, apr_size_t *got);
void pycgi_embed_stderr(pycgi_embed_req *req, const char *data,
                        apr_size_t len);

#endif /* PYCGI_EMBED_H */
