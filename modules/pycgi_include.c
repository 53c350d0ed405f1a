/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_include.c -- the SSI exec element.
 */
#include "pycgi_include.h"
#include "pycgi_exec.h"
#include "pycgi_env.h"
#include "mod_include.h"

static APR_OPTIONAL_FN_TYPE(ap_register_include_handler) *pycgi_ssi_register;
static APR_OPTIONAL_FN_TYPE(ap_ssi_get_tag_and_value) *pycgi_ssi_tag;
static APR_OPTIONAL_FN_TYPE(ap_ssi_parse_string) *pycgi_ssi_parse;

/* exec cgi="/uri": run the URI as a CGI sub-request, forced to CGI
 * whatever its type; it sees the document's PATH_INFO and query. */
static apr_status_t pycgi_include_cgi(include_ctx_t *ctx, ap_filter_t *f,
                                      apr_bucket_brigade *bb, const char *uri)
{
    request_rec *r = f->r;
    request_rec *rr = ap_sub_req_lookup_uri(uri, r, f->next);
    int status;

    if (rr->status != HTTP_OK || (rr->path_info && *rr->path_info)
        || rr->args || rr->finfo.filetype != APR_REG) {
        ap_destroy_sub_req(rr);
        return APR_EGENERAL;
    }
    rr->path_info = r->path_info;
    rr->args = r->args;
    ap_set_content_type(rr, PYCGI_CGI_MAGIC);

    status = ap_run_sub_req(rr);
    if (ap_is_HTTP_REDIRECT(status)) {
        const char *location = apr_table_get(rr->headers_out, "Location");

        /* A redirecting script becomes a link in the page. */
        if (location) {
            char *link;

            location = ap_escape_html(rr->pool, location);
            link = apr_pstrcat(ctx->pool, "<a href=\"", location, "\">",
                               location, "</a>", NULL);
            APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_pool_create(link,
                                    strlen(link), ctx->pool,
                                    f->c->bucket_alloc));
        }
    }
    ap_destroy_sub_req(rr);
    return APR_SUCCESS;
}

/* exec cmd="...": /bin/sh -c in the document's directory, with the
 * document's environment as mod_cgi gives it (pycgi_env_ssi_envp);
 * its stdout is inserted in the page. */
static apr_status_t pycgi_include_cmd(include_ctx_t *ctx, ap_filter_t *f,
                                      apr_bucket_brigade *bb, const char *cmd)
{
    request_rec *r = f->r;
    apr_proc_t *proc;
    apr_status_t rv;
    const char *argv[2];

    argv[0] = cmd;
    argv[1] = NULL;
    rv = pycgi_exec_spawn(r, r->pool, cmd, argv,
                          pycgi_env_ssi_envp(r, r->pool), APR_SHELLCMD, 0, 0,
                          &proc);
    if (rv != APR_SUCCESS) {
        return rv;
    }
    /* A plain blocking pipe bucket: the page waits for the command. */
    apr_file_pipe_timeout_set(proc->out, r->server->timeout);
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_pipe_create(proc->out,
                                                       f->c->bucket_alloc));
    ctx->flush_now = 1;
    return APR_SUCCESS;
}

static apr_status_t pycgi_include_exec(include_ctx_t *ctx, ap_filter_t *f,
                                       apr_bucket_brigade *bb)
{
    request_rec *r = f->r;
    char parsed[MAX_STRING_LEN];
    char *tag, *val;

    if (!ctx->argc) {
        ap_log_rerror(APLOG_MARK,
                      (ctx->flags & SSI_FLAG_PRINTING)
                      ? APLOG_ERR : APLOG_WARNING, 0, r, PYCGI_LOGNO(0401)
                      "missing argument for exec element in %s", r->filename);
    }
    if (!(ctx->flags & SSI_FLAG_PRINTING)) {
        return APR_SUCCESS;
    }
    if (!ctx->argc) {
        SSI_CREATE_ERROR_BUCKET(ctx, f, bb);
        return APR_SUCCESS;
    }
    if (ctx->flags & SSI_FLAG_NO_EXEC) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PYCGI_LOGNO(0402)
                      "exec used but not allowed in %s", r->filename);
        SSI_CREATE_ERROR_BUCKET(ctx, f, bb);
        return APR_SUCCESS;
    }

    for (;;) {
        pycgi_ssi_tag(ctx, &tag, &val, SSI_VALUE_DECODED);
        if (!tag || !val) {
            break;
        }
        if (!strcmp(tag, "cmd")) {
            pycgi_ssi_parse(ctx, val, parsed, sizeof(parsed),
                            SSI_EXPAND_LEAVE_NAME);
            if (pycgi_include_cmd(ctx, f, bb, parsed) != APR_SUCCESS) {
                ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PYCGI_LOGNO(0403)
                              "execution failure for parameter \"%s\" "
                              "to tag exec in file %s", tag, r->filename);
                SSI_CREATE_ERROR_BUCKET(ctx, f, bb);
                break;
            }
        }
        else if (!strcmp(tag, "cgi")) {
            pycgi_ssi_parse(ctx, val, parsed, sizeof(parsed),
                            SSI_EXPAND_DROP_NAME);
            if (pycgi_include_cgi(ctx, f, bb, parsed) != APR_SUCCESS) {
                ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PYCGI_LOGNO(0404)
                              "invalid CGI ref \"%s\" in %s", val,
                              r->filename);
                SSI_CREATE_ERROR_BUCKET(ctx, f, bb);
                break;
            }
        }
        else {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PYCGI_LOGNO(0405)
                          "unknown parameter \"%s\" to tag exec in %s", tag,
                          r->filename);
            SSI_CREATE_ERROR_BUCKET(ctx, f, bb);
            break;
        }
    }
    return APR_SUCCESS;
}

void pycgi_include_register(void)
{
    pycgi_ssi_register = APR_RETRIEVE_OPTIONAL_FN(ap_register_include_handler);
    pycgi_ssi_tag = APR_RETRIEVE_OPTIONAL_FN(ap_ssi_get_tag_and_value);
    pycgi_ssi_parse = APR_RETRIEVE_OPTIONAL_FN(ap_ssi_parse_string);

    if (pycgi_ssi_register && pycgi_ssi_tag && pycgi_ssi_parse) {
        pycgi_ssi_register("exec", pycgi_include_exec);
    }
}
