/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_log.c -- error log, ScriptLog and script stderr.
 */
#include "pycgi_log.h"
#include "pycgi_parse.h"

/* Open the ScriptLog for one record, or NULL when there is none, it
 * cannot be opened, or it has grown past ScriptLogLength (mod_cgi's
 * rule: the log simply stops growing). */
static apr_file_t *pycgi_scriptlog_open(request_rec *r)
{
    pycgi_server_conf *conf = pycgi_sconf(r->server);
    apr_finfo_t finfo;
    apr_file_t *f;

    if (!conf->logname) {
        return NULL;
    }
    if (apr_stat(&finfo, conf->logname, APR_FINFO_SIZE, r->pool) == APR_SUCCESS
        && finfo.size > pycgi_config_logbytes(conf)) {
        return NULL;
    }
    if (apr_file_open(&f, conf->logname, APR_APPEND | APR_WRITE | APR_CREATE,
                      APR_OS_DEFAULT, r->pool) != APR_SUCCESS) {
        return NULL;
    }
    return f;
}

static void pycgi_scriptlog_head(apr_file_t *f, request_rec *r, int status)
{
    char when[APR_CTIME_LEN];

    apr_ctime(when, apr_time_now());
    apr_file_printf(f, "%%%% [%s] %s %s%s%s %s\n", when, r->method, r->uri,
                    r->args ? "?" : "", r->args ? r->args : "", r->protocol);
    apr_file_printf(f, "%%%% %d %s\n", status, r->filename);
}

/* One "%error" record in the ScriptLog, if there is one. */
static void pycgi_scriptlog_error(request_rec *r, int status, const char *msg)
{
    apr_file_t *f = pycgi_scriptlog_open(r);

    if (f) {
        pycgi_scriptlog_head(f, r, status);
        apr_file_printf(f, "%%error\n%s\n", msg);
        apr_file_close(f);
    }
}

int pycgi_log_scripterror(request_rec *r, int status, apr_status_t rv,
                          const char *logno, const char *msg)
{
    ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, "%s%s: %s", logno, msg,
                  r->filename);
    pycgi_scriptlog_error(r, status, msg);
    return status;
}

static int pycgi_log_header_line(void *f, const char *key, const char *val)
{
    apr_file_printf(f, "%s: %s\n", key, val);
    return 1;
}

int pycgi_log_script(request_rec *r, int status, const char *dbuf,
                     const char *sbuf, apr_bucket_brigade *bb)
{
    apr_file_t *f = pycgi_scriptlog_open(r);
    int first = 1;
    apr_bucket *e;

    if (f) {
        pycgi_scriptlog_head(f, r, status);
        apr_file_puts("%request\n", f);
        apr_table_do(pycgi_log_header_line, f, r->headers_in, NULL);
        if (dbuf && *dbuf) {
            apr_file_printf(f, "\n%s\n", dbuf);
        }
        apr_file_puts("%response\n", f);
        apr_table_do(pycgi_log_header_line, f, r->err_headers_out, NULL);
        if (sbuf && *sbuf) {
            apr_file_printf(f, "%s\n", sbuf);
        }
    }

    /* Read what the script still has to say: into the log, or away. */
    for (e = bb ? APR_BRIGADE_FIRST(bb) : NULL;
         e && e != APR_BRIGADE_SENTINEL(bb); e = APR_BUCKET_NEXT(e)) {
        const char *data;
        apr_size_t len;

        if (APR_BUCKET_IS_EOS(e)
            || apr_bucket_read(e, &data, &len, APR_BLOCK_READ) != APR_SUCCESS) {
            break;
        }
        if (f && len) {
            if (first) {
                apr_file_puts("%stdout\n", f);
                first = 0;
            }
            apr_file_write_full(f, data, len, NULL);
        }
    }
    if (f) {
        if (!first) {
            apr_file_puts("\n", f);
        }
        apr_file_close(f);
    }
    return status;
}

pycgi_linebuf *pycgi_log_linebuf(request_rec *r)
{
    pycgi_linebuf *lb = apr_palloc(r->pool, sizeof(*lb));

    lb->r = r;
    lb->divert = NULL;
    lb->divert_data = NULL;
    lb->len = 0;
    return lb;
}

static void pycgi_log_stderr_line(pycgi_linebuf *lb)
{
    request_rec *r = lb->r;

    /* Drop the line ending.  The error log itself escapes control
     * characters and quotes, so the text goes in as it is. */
    while (lb->len && (lb->buf[lb->len - 1] == '\n'
                       || lb->buf[lb->len - 1] == '\r')) {
        lb->len--;
    }
    lb->buf[lb->len] = '\0';
    if (lb->divert && lb->divert(lb->divert_data, lb->buf)) {
        lb->len = 0;
        return;
    }
    ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r,
                  PYCGI_LOGNO(0301) "stderr from %s: %s", r->filename,
                  lb->buf);
    /* Each stderr line is also a ScriptLog record, as with mod_cgi. */
    pycgi_scriptlog_error(r, r->status, lb->buf);
    lb->len = 0;
}

void pycgi_log_stderr(pycgi_linebuf *lb, const char *data, apr_size_t len)
{
    while (len) {
        int complete;
        apr_size_t take = pycgi_parse_line(data, len,
                                           sizeof(lb->buf) - 1 - lb->len,
                                           &complete);

        memcpy(lb->buf + lb->len, data, take);
        lb->len += take;
        data += take;
        len -= take;
        if (complete) {
            pycgi_log_stderr_line(lb);
        }
    }
}

void pycgi_log_stderr_flush(pycgi_linebuf *lb)
{
    if (lb->len) {
        pycgi_log_stderr_line(lb);
    }
}
