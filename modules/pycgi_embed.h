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
#include "pycgi_script.h"

/* One embedded request; from r->pool, owned by pycgi_embed_run(). */
typedef struct pycgi_embed_req {
    pycgi_script script;        /* first: the streams' and watchdog's view */
    pycgi_output *out;
    pycgi_body *body;
    pycgi_linebuf *lb;
    apr_bucket_brigade *bb;     /* scratch brigade for the output path */
    char *hbuf;                 /* header block collected so far */
    apr_size_t hlen, hcap;
    apr_time_t slow_at;         /* PyCGISlowLog, absolute; 0 = off */
    apr_interval_time_t timeout;/* CGIScriptTimeout: allowed silence */
    int forked;                 /* the script started processes */
} pycgi_embed_req;

/* Per-process state of the runner (child_init). */
void pycgi_embed_child_init(apr_pool_t *pchild);

/* Run r->filename embedded; returns the handler's status. */
int pycgi_embed_run(request_rec *r, int nph, apr_interval_time_t timeout);

#endif /* PYCGI_EMBED_H */
