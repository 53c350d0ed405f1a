/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_body.h -- the request body, pulled from the input filters in
 * pieces as the script wants it (exec: written to its stdin; embedded:
 * read through sys.stdin).  Chunked bodies are de-chunked by httpd's
 * HTTP_IN filter; the script sees a plain byte stream ending at EOF.
 *
 * One pycgi_body per request (pycgi_body_of), from r->pool.  The first
 * ScriptLogBuffer bytes are kept for the ScriptLog.
 */
#ifndef PYCGI_BODY_H
#define PYCGI_BODY_H

#include "pycgi_log.h"

typedef struct {
    request_rec *r;
    apr_bucket_brigade *bb;     /* buckets fetched, not yet consumed */
    apr_bucket *handed;         /* the bucket *data points into */
    int eos;                    /* the whole body has been read */
    apr_status_t error;         /* first read failure, or APR_SUCCESS */
    char *dbuf;                 /* ScriptLog copy, NUL-terminated */
    apr_size_t dbpos;
    apr_size_t dbmax;
} pycgi_body;

/* The request's body, made on its first use: every runner that reads
 * it (one that gives up and one that takes over) reads the same. */
pycgi_body *pycgi_body_of(request_rec *r);

/* Point *data at up to `want` body bytes (valid until the next call).
 * Returns APR_SUCCESS with *len > 0, APR_EOF at the end of the body, or
 * the failure (logged once; see pycgi_body_status()). */
apr_status_t pycgi_body_next(pycgi_body *b, apr_size_t want,
                             const char **data, apr_size_t *len);

/* Put back the `len` bytes at `data` (which must outlive the request's
 * reads) as the body's next ones: the first bytes of the body, and all
 * of it read so far.  The end of the body, if it was read, comes after
 * them again. */
void pycgi_body_unread(pycgi_body *b, const char *data, apr_size_t len);

/* Read on until the ScriptLog copy is full or the body ends. */
void pycgi_body_fill_log(pycgi_body *b);

/* The HTTP status a body read failure maps to (400, 413, ...), or OK. */
int pycgi_body_status(const pycgi_body *b);

#endif /* PYCGI_BODY_H */
