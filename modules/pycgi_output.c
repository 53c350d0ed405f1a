/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_output.c -- header scanning and the brigade path to the client,
 * shared by the exec and the embedded runner.
 */
#include "pycgi_output.h"

pycgi_output *pycgi_output_create(request_rec *r, int nph)
{
    pycgi_output *o = apr_pcalloc(r->pool, sizeof(*o));

    o->r = r;
    o->nph = nph;
    o->state = PYCGI_OUT_HEADERS;
    o->result = OK;
    return o;
}

/* Drop every bucket up to EOS, reading each so that a pipe is drained
 * (a script blocked writing must be allowed to finish). */
static void pycgi_output_drain(apr_bucket_brigade *bb)
{
    apr_bucket *e;

    for (e = APR_BRIGADE_FIRST(bb); e != APR_BRIGADE_SENTINEL(bb);
         e = APR_BUCKET_NEXT(e)) {
        const char *data;
        apr_size_t len;

        if (APR_BUCKET_IS_EOS(e)
            || apr_bucket_read(e, &data, &len, APR_BLOCK_READ) != APR_SUCCESS) {
            break;
        }
    }
    apr_brigade_cleanup(bb);
}

pycgi_out_state pycgi_output_headers(pycgi_output *o, apr_bucket_brigade *bb)
{
    request_rec *r = o->r;
    char sbuf[MAX_STRING_LEN];
    const char *location;
    int ret;

    if (o->nph) {
        /* The script writes the status line and headers itself: nothing
         * above the connection filters can make sense of that. */
        ap_filter_t *cur = r->proto_output_filters;

        while (cur && cur->frec->ftype < AP_FTYPE_CONNECTION) {
            cur = cur->next;
        }
        r->output_filters = r->proto_output_filters = cur;
        o->state = PYCGI_OUT_PASS;
        pycgi_output_body(o, bb);
        return o->state;
    }

    sbuf[0] = '\0';
    ret = ap_scan_script_header_err_brigade_ex(r, bb, sbuf, APLOG_MODULE_INDEX);

    /* CGI output has its own framing (the end of the stream), so a
     * script's Content-Length is not trusted and Transfer-Encoding never
     * passed on; the core frames what is really sent (CVE-2024-24795,
     * as mod_cgi does). */
    if (!apr_table_get(r->subprocess_env, AP_TRUST_CGILIKE_CL_ENVVAR)) {
        apr_table_unset(r->headers_out, "Content-Length");
    }
    apr_table_unset(r->headers_out, "Transfer-Encoding");

    if (ret != OK) {
        o->state = PYCGI_OUT_DISCARD;
        if (o->body && o->body->dbuf) {
            /* The ScriptLog shows the start of the body, as mod_cgi's
             * does; an embedded script may not have read that much yet.
             * Its output is refused anyway, so taking the bytes is
             * harmless. */
            pycgi_body_fill_log(o->body);
        }
        ret = pycgi_log_script(r, ret, o->body ? o->body->dbuf : NULL,
                               sbuf, bb);
        apr_brigade_cleanup(bb);
        /* 304 from ap_meets_conditions() is a success: answer it without
         * the error machinery (which would upset mod_cache). */
        if (ret == HTTP_NOT_MODIFIED) {
            r->status = ret;
            ret = OK;
        }
        o->result = ret;
        return o->state;
    }

    location = apr_table_get(r->headers_out, "Location");
    if (location && r->status == HTTP_OK) {
        /* A redirect: whatever else the script prints is dropped. */
        o->state = PYCGI_OUT_DISCARD;
        if (location[0] == '/') {
            o->redirect = location;
        }
        else {
            /* An absolute URL with no Status: is a 302; a script that
             * wants its own redirect body must say Status: itself. */
            o->result = HTTP_MOVED_TEMPORARILY;
        }
        pycgi_output_drain(bb);
        return o->state;
    }

    o->state = PYCGI_OUT_PASS;
    pycgi_output_body(o, bb);
    return o->state;
}

apr_status_t pycgi_output_body(pycgi_output *o, apr_bucket_brigade *bb)
{
    apr_status_t rv;

    if (o->state != PYCGI_OUT_PASS) {
        pycgi_output_drain(bb);
        return APR_SUCCESS;
    }
    if (APR_BRIGADE_EMPTY(bb)) {
        return APR_SUCCESS;
    }
    rv = ap_pass_brigade(o->r->output_filters, bb);
    apr_brigade_cleanup(bb);
    if (rv != APR_SUCCESS || o->r->connection->aborted) {
        /* The client is gone: stop sending, keep draining the script. */
        o->pass_rv = rv != APR_SUCCESS ? rv : APR_ECONNABORTED;
        o->state = PYCGI_OUT_DISCARD;
    }
    return rv;
}

int pycgi_output_finish(pycgi_output *o)
{
    request_rec *r = o->r;

    if (o->redirect) {
        /* The redirected request is a GET whatever the method was, and
         * the body has been consumed already. */
        r->method = "GET";
        r->method_number = M_GET;
        apr_table_unset(r->headers_in, "Content-Length");
        ap_internal_redirect_handler(o->redirect, r);
        return OK;
    }
    return o->result;
}
