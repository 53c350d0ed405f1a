/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_output.h -- the one response path of both runners.
 *
 * A runner turns its script's stdout into brigades (exec: a pipe
 * bucket; embedded: heap buckets from the in-process writer) and hands
 * them here in order:
 *
 *     pycgi_output_headers(o, bb)   once, with at least the header block
 *     pycgi_output_body(o, bb)      any number of times
 *     pycgi_output_finish(o)        once, after the script ended
 *
 * Header scanning is httpd's own (ap_scan_script_header_err_brigade_ex),
 * so Status:, Location:, conditional requests and malformed headers
 * behave exactly as under mod_cgi.  The record lives in r->pool.
 */
#ifndef PYCGI_OUTPUT_H
#define PYCGI_OUTPUT_H

#include "pycgi_log.h"
#include "pycgi_body.h"

typedef enum {
    PYCGI_OUT_HEADERS = 0,  /* header block not scanned yet */
    PYCGI_OUT_PASS,         /* body goes to the client as it comes */
    PYCGI_OUT_DISCARD       /* body is read and dropped (errors, redirects) */
} pycgi_out_state;

typedef struct {
    request_rec *r;
    int nph;                    /* nph- script: no header parsing at all */
    pycgi_out_state state;
    int result;                 /* what the handler returns at the end */
    const char *redirect;       /* local Location: to follow at the end */
    pycgi_body *body;           /* request body, for the ScriptLog */
    apr_off_t sent;             /* body bytes passed on */
    apr_status_t pass_rv;       /* first failure passing to the client */
} pycgi_output;

pycgi_output *pycgi_output_create(request_rec *r, int nph);

/* Scan the header block at the front of `bb`.  What is left in `bb`
 * after it is body and is passed or dropped like pycgi_output_body().
 * Returns the state chosen. */
pycgi_out_state pycgi_output_headers(pycgi_output *o, apr_bucket_brigade *bb);

/* Pass (or drop) body buckets; empties `bb`.  A client that went away
 * turns the state to DISCARD so the script's remaining output is
 * drained without being sent. */
apr_status_t pycgi_output_body(pycgi_output *o, apr_bucket_brigade *bb);

/* Follow a pending local redirect, and return the handler's status. */
int pycgi_output_finish(pycgi_output *o);

#endif /* PYCGI_OUTPUT_H */
