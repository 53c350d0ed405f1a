/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_body.c -- request body input shared by both runners.
 */
#include "pycgi_body.h"

/* The bucket handed out last lives outside any brigade: free it with
 * the request (a script that reads exactly CONTENT_LENGTH bytes never
 * asks again). */
static apr_status_t pycgi_body_cleanup(void *data)
{
    pycgi_body *b = data;

    if (b->handed) {
        apr_bucket_destroy(b->handed);
        b->handed = NULL;
    }
    apr_brigade_cleanup(b->bb);
    return APR_SUCCESS;
}

pycgi_body *pycgi_body_of(request_rec *r)
{
    pycgi_body *b = ap_get_module_config(r->request_config, &pycgi_module);
    pycgi_server_conf *conf = pycgi_sconf(r->server);

    if (b) {
        return b;
    }
    b = apr_pcalloc(r->pool, sizeof(*b));
    ap_set_module_config(r->request_config, &pycgi_module, b);
    b->r = r;
    b->bb = apr_brigade_create(r->pool, r->connection->bucket_alloc);
    if (conf->logname) {
        b->dbmax = (apr_size_t)pycgi_config_bufbytes(conf);
        b->dbuf = apr_palloc(r->pool, b->dbmax + 1);
        b->dbuf[0] = '\0';
    }
    apr_pool_cleanup_register(r->pool, b, pycgi_body_cleanup,
                              apr_pool_cleanup_null);
    return b;
}

static void pycgi_body_keep(pycgi_body *b, const char *data, apr_size_t len)
{
    if (b->dbuf && b->dbpos < b->dbmax) {
        apr_size_t n = b->dbmax - b->dbpos < len ? b->dbmax - b->dbpos : len;

        memcpy(b->dbuf + b->dbpos, data, n);
        b->dbpos += n;
        b->dbuf[b->dbpos] = '\0';
    }
}

apr_status_t pycgi_body_next(pycgi_body *b, apr_size_t want,
                             const char **data, apr_size_t *len)
{
    request_rec *r = b->r;
    apr_status_t rv;

    *len = 0;
    /* The bucket handed out last time has been consumed by now. */
    if (b->handed) {
        apr_bucket_destroy(b->handed);
        b->handed = NULL;
    }
    for (;;) {
        apr_bucket *e;

        if (b->error != APR_SUCCESS) {
            return b->error;
        }
        while (!APR_BRIGADE_EMPTY(b->bb)) {
            e = APR_BRIGADE_FIRST(b->bb);
            if (APR_BUCKET_IS_EOS(e)) {
                b->eos = 1;
                apr_brigade_cleanup(b->bb);
                break;
            }
            if (APR_BUCKET_IS_METADATA(e)) {
                apr_bucket_delete(e);
                continue;
            }
            rv = apr_bucket_read(e, data, len, APR_BLOCK_READ);
            if (rv != APR_SUCCESS) {
                b->error = rv;
                return rv;
            }
            if (*len == 0) {
                apr_bucket_delete(e);
                continue;
            }
            if (*len > want) {
                apr_bucket_split(e, want);
                *len = want;
            }
            /* Out of the brigade; destroyed on the next call, so *data
             * stays valid until then. */
            APR_BUCKET_REMOVE(e);
            b->handed = e;
            pycgi_body_keep(b, *data, *len);
            return APR_SUCCESS;
        }
        if (b->eos) {
            return APR_EOF;
        }
        rv = ap_get_brigade(r->input_filters, b->bb, AP_MODE_READBYTES,
                            APR_BLOCK_READ, HUGE_STRING_LEN);
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, PYCGI_LOGNO(0201)
                          "Error reading request entity data for %s",
                          r->filename);
            b->error = rv;
            return rv;
        }
    }
}

void pycgi_body_unread(pycgi_body *b, const char *data, apr_size_t len)
{
    apr_bucket_alloc_t *ba = b->bb->bucket_alloc;

    if (b->handed) {
        apr_bucket_destroy(b->handed);
        b->handed = NULL;
    }
    if (b->eos) {
        b->eos = 0;
        APR_BRIGADE_INSERT_HEAD(b->bb, apr_bucket_eos_create(ba));
    }
    if (len) {
        APR_BRIGADE_INSERT_HEAD(b->bb, apr_bucket_immortal_create(data, len,
                                                                  ba));
    }
    /* Kept for the ScriptLog once more when read again. */
    b->dbpos = b->dbpos > len ? b->dbpos - len : 0;
    if (b->dbuf) {
        b->dbuf[b->dbpos] = '\0';
    }
}

void pycgi_body_fill_log(pycgi_body *b)
{
    const char *data;
    apr_size_t len;

    while (b->dbuf && b->dbpos < b->dbmax
           && pycgi_body_next(b, b->dbmax - b->dbpos, &data, &len)
              == APR_SUCCESS) {
        continue;
    }
}

int pycgi_body_status(const pycgi_body *b)
{
    if (b->error == APR_SUCCESS || b->error == APR_EOF) {
        return OK;
    }
    return ap_map_http_request_error(b->error, HTTP_BAD_REQUEST);
}
