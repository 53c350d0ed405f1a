/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_handler.c -- request checks (the same, in the same order and
 * with the same statuses, as mod_cgi's), then the runner pycgi_runner
 * chooses.
 */
#include "pycgi_handler.h"
#include "pycgi_env.h"
#include "pycgi_runner.h"
#include "pycgi_log.h"
#include "pycgi_status.h"

/* ScriptAlias'd requests need no Options ExecCGI (mod_alias leaves a
 * note saying the type was forced). */
static int pycgi_is_scriptaliased(request_rec *r)
{
    const char *t = apr_table_get(r->notes, "alias-forced-type");

    return t && !strcasecmp(t, PYCGI_CGI_HANDLER);
}

static int pycgi_is_our_handler(const char *h)
{
    return h && (!strcmp(h, PYCGI_HANDLER) || !strcmp(h, PYCGI_CGI_HANDLER)
                 || !strcmp(h, PYCGI_CGI_MAGIC));
}

int pycgi_handler(request_rec *r)
{
    pycgi_dir_conf *dconf;
    int is_included, nph, runner, status;

    if (!pycgi_is_our_handler(r->handler)) {
        return DECLINED;
    }
    dconf = pycgi_dconf(r);
    is_included = !strcmp(r->protocol, "INCLUDED");
    nph = !strncmp(apr_filepath_name_get(r->filename), "nph-", 4);

    if (!(ap_allow_options(r) & OPT_EXECCGI) && !pycgi_is_scriptaliased(r)) {
        return pycgi_log_scripterror(r, HTTP_FORBIDDEN, 0, PYCGI_LOGNO(0001),
                                     "Options ExecCGI is off in this directory");
    }
    if (nph && is_included) {
        return pycgi_log_scripterror(r, HTTP_FORBIDDEN, 0, PYCGI_LOGNO(0002),
                                     "attempt to include NPH CGI script");
    }
    if (r->finfo.filetype == APR_NOFILE) {
        return pycgi_log_scripterror(r, HTTP_NOT_FOUND, 0, PYCGI_LOGNO(0003),
                                     "script not found or unable to stat");
    }
    if (r->finfo.filetype == APR_DIR) {
        return pycgi_log_scripterror(r, HTTP_FORBIDDEN, 0, PYCGI_LOGNO(0004),
                                     "attempt to invoke directory as script");
    }
    if (r->used_path_info == AP_REQ_REJECT_PATH_INFO
        && r->path_info && *r->path_info) {
        return pycgi_log_scripterror(r, HTTP_NOT_FOUND, 0, PYCGI_LOGNO(0005),
                                     "AcceptPathInfo off disallows user's path");
    }

    pycgi_env_build(r);
    status = pycgi_runner_choose(r, dconf, nph, &runner);
    if (status != OK) {
        return status;      /* refused, already logged */
    }
    pycgi_status_begin(r, runner == PYCGI_RUNNER_EMBEDDED
                          ? PYCGI_COUNT_EMBEDDED
                          : runner == PYCGI_RUNNER_DAEMON ? PYCGI_COUNT_POOL
                          : PYCGI_COUNT_EXEC, pycgi_runner_name(runner));
    status = pycgi_runner_run(r, runner, nph, pycgi_config_timeout(dconf, r));
    pycgi_status_end();
    return status;
}
