/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * mod_pycgi.c -- the table of contents: module record, directives,
 * hooks, and config create/merge.  The work lives in modules/:
 *
 *   pycgi_config   directive setters, UNSET -> default rules
 *   pycgi_handler  mod_cgi's request checks
 *   pycgi_runner   which runner serves a request; dispatch to it
 *   pycgi_env      request_rec -> CGI environment and argv
 *   pycgi_body     request body input (every runner)
 *   pycgi_output   header scanning + brigades to the client (every runner)
 *   pycgi_pipe     poll loop over a script process's pipes (exec, daemon)
 *   pycgi_exec     fork/exec runner
 *   pycgi_daemon   daemon runner, httpd side: hand a request to a worker
 *   pycgi_pool     daemon pools: sockets, shared segments, counters
 *   pycgi_super    the supervisor process that starts and reaps workers
 *   (worker/       the worker program itself, no httpd code)
 *   pycgi_embed    embedded runner (Python in this process)
 *   pycgi_interp   interpreter lifecycle (Python init, code cache)
 *   pycgi_include  mod_include's exec element
 *   pycgi_log      error log, ScriptLog, script stderr
 *   pycgi_slowlog  PyCGISlowLog: the line and stack of a slow script
 *   pycgi_status   per-child counters and the pycgi-status page
 *   pycgi_pyio     the _pycgi Python module: a script's std streams
 */
#include "modules/pycgi_config.h"
#include "modules/pycgi_handler.h"
#include "modules/pycgi_include.h"
#include "modules/pycgi_interp.h"
#include "modules/pycgi_status.h"
#include "modules/pycgi_embed.h"
#include "modules/pycgi_runner.h"
#include "modules/pycgi_pool.h"
#include "modules/pycgi_super.h"

static void *pycgi_create_dir_config(apr_pool_t *p, char *dir)
{
    pycgi_dir_conf *d = apr_palloc(p, sizeof(*d));

    (void)dir;
    d->mode = PYCGI_UNSET;
    d->timeout = PYCGI_UNSET;
    d->pool = NULL;
    d->isolation = PYCGI_UNSET;
    d->slowlog = PYCGI_UNSET;
    d->slowlog_file = NULL;
    return d;
}

static void *pycgi_merge_dir_config(apr_pool_t *p, void *basev, void *addv)
{
    pycgi_dir_conf *base = basev, *add = addv;
    pycgi_dir_conf *d = apr_palloc(p, sizeof(*d));

    d->mode = add->mode != PYCGI_UNSET ? add->mode : base->mode;
    d->timeout = add->timeout != PYCGI_UNSET ? add->timeout : base->timeout;
    d->pool = add->pool ? add->pool : base->pool;
    d->isolation = add->isolation != PYCGI_UNSET ? add->isolation
                                                 : base->isolation;
    /* The seconds and the file come together: one directive. */
    if (add->slowlog != PYCGI_UNSET) {
        d->slowlog = add->slowlog;
        d->slowlog_file = add->slowlog_file;
    }
    else {
        d->slowlog = base->slowlog;
        d->slowlog_file = base->slowlog_file;
    }
    return d;
}

static void *pycgi_create_server_config(apr_pool_t *p, server_rec *s)
{
    pycgi_server_conf *c = apr_pcalloc(p, sizeof(*c));

    (void)s;
    c->logname = NULL;
    c->logbytes = PYCGI_UNSET;
    c->bufbytes = PYCGI_UNSET;
    c->max_requests = PYCGI_UNSET;
    c->preload = NULL;
    c->allow_embedded = PYCGI_UNSET;
    c->owners = NULL;
    c->compat_first = PYCGI_UNSET;
    c->pool = NULL;
    c->pool_workers = PYCGI_UNSET;
    c->total_workers = PYCGI_UNSET;
    c->idle_timeout = PYCGI_UNSET;
    c->daemon_requests = PYCGI_UNSET;
    c->memory_mb = PYCGI_UNSET;
    c->queue_size = PYCGI_UNSET;
    c->queue_timeout = PYCGI_UNSET;
    c->user_pools = PYCGI_UNSET;
    return c;
}

static void *pycgi_merge_server_config(apr_pool_t *p, void *basev, void *addv)
{
    pycgi_server_conf *base = basev, *add = addv;
    pycgi_server_conf *c = apr_palloc(p, sizeof(*c));

    c->logname = add->logname ? add->logname : base->logname;
    c->logbytes = add->logbytes != PYCGI_UNSET ? add->logbytes : base->logbytes;
    c->bufbytes = add->bufbytes != PYCGI_UNSET ? add->bufbytes : base->bufbytes;
    c->max_requests = add->max_requests != PYCGI_UNSET ? add->max_requests
                                                       : base->max_requests;
    c->preload = add->preload ? add->preload : base->preload;
    c->allow_embedded = add->allow_embedded != PYCGI_UNSET
                        ? add->allow_embedded : base->allow_embedded;
    c->owners = add->owners ? add->owners : base->owners;
    c->compat_first = add->compat_first != PYCGI_UNSET ? add->compat_first
                                                       : base->compat_first;
#define PYCGI_MERGE_INT(f) c->f = add->f != PYCGI_UNSET ? add->f : base->f
    c->pool = add->pool ? add->pool : base->pool;
    PYCGI_MERGE_INT(pool_workers);
    PYCGI_MERGE_INT(total_workers);
    PYCGI_MERGE_INT(idle_timeout);
    PYCGI_MERGE_INT(daemon_requests);
    PYCGI_MERGE_INT(memory_mb);
    PYCGI_MERGE_INT(queue_size);
    PYCGI_MERGE_INT(queue_timeout);
    PYCGI_MERGE_INT(user_pools);
#undef PYCGI_MERGE_INT
    return c;
}

static int pycgi_pre_config(apr_pool_t *pconf, apr_pool_t *plog,
                            apr_pool_t *ptemp)
{
    (void)plog; (void)ptemp;
    pycgi_config_pre_config(pconf);
    return OK;
}

static int pycgi_post_config(apr_pool_t *pconf, apr_pool_t *plog,
                             apr_pool_t *ptemp, server_rec *s)
{
    pycgi_pool_table *pools = NULL;

    (void)plog; (void)ptemp;
    pycgi_include_register();
    if (pycgi_status_post_config(pconf, s) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    /* The daemon pools and their supervisor (none in the first,
     * configuration-checking pass).  Children use the pools only if
     * the supervisor is up. */
    if (pycgi_pool_post_config(pconf, s, &pools) != APR_SUCCESS) {
        return HTTP_INTERNAL_SERVER_ERROR;
    }
    if (pools && pycgi_super_start(pconf, s, pools) == APR_SUCCESS) {
        pycgi_pool_publish(pools);
    }
    return OK;
}

static void pycgi_child_init(apr_pool_t *pchild, server_rec *s)
{
    /* The status slot first: the interpreter reports into it. */
    pycgi_status_child_init();
    pycgi_pool_child_init(pchild, s);
    pycgi_runner_child_init(pchild);
    pycgi_embed_child_init(pchild);
    pycgi_interp_child_init(pchild, s);
}

static const command_rec pycgi_cmds[] = {
    AP_INIT_TAKE1("PyCGIMode", pycgi_config_set_mode, NULL,
                  RSRC_CONF | ACCESS_CONF | OR_OPTIONS,
                  "How scripts run: exec (a process each), daemon (warm "
                  "Python worker processes), embedded (this server's "
                  "Python) or auto"),
    AP_INIT_TAKE1("PyCGIDaemonPool", pycgi_config_set_pool, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "The daemon pool that runs scripts here (default: one "
                  "pool per virtual host)"),
    AP_INIT_TAKE1("PyCGIIsolation", pycgi_config_set_isolation, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "reuse: a daemon worker runs many scripts, restored "
                  "between them; fork: each script in a process the worker "
                  "forks"),
    AP_INIT_TAKE12("PyCGISlowLog", pycgi_config_set_slowlog, NULL,
                   RSRC_CONF | ACCESS_CONF,
                   "Seconds after which a still running script's Python "
                   "stack is logged, once (Off = never); optionally a file "
                   "for it instead of the error log"),
    AP_INIT_TAKE1("PyCGIDaemonMaxWorkers", pycgi_config_set_daemon_count,
                  "workers", RSRC_CONF,
                  "Most worker processes one daemon pool may have"),
    AP_INIT_TAKE1("PyCGIDaemonMaxTotal", pycgi_config_set_daemon_count,
                  "total", RSRC_CONF,
                  "Most daemon worker processes of all pools together"),
    AP_INIT_TAKE1("PyCGIDaemonIdleTimeout", pycgi_config_set_daemon_count,
                  "idle", RSRC_CONF,
                  "Seconds an idle daemon worker waits before it exits"),
    AP_INIT_TAKE1("PyCGIDaemonMaxRequests", pycgi_config_set_daemon_count,
                  "requests", RSRC_CONF,
                  "Requests a daemon worker serves before it is replaced "
                  "(0 = no limit)"),
    AP_INIT_TAKE1("PyCGIDaemonMemoryLimit", pycgi_config_set_daemon_count,
                  "memory", RSRC_CONF,
                  "Resident MB past which a daemon worker is replaced after "
                  "its request (0 = no limit)"),
    AP_INIT_TAKE1("PyCGIDaemonQueueSize", pycgi_config_set_daemon_count,
                  "queue", RSRC_CONF,
                  "Requests that may wait for a busy daemon pool"),
    AP_INIT_TAKE1("PyCGIDaemonQueueTimeout", pycgi_config_set_daemon_count,
                  "queuetimeout", RSRC_CONF,
                  "Seconds a request waits for a daemon worker before 503"),
    AP_INIT_TAKE1("PyCGIDaemonUserPools", pycgi_config_set_daemon_count,
                  "userpools", RSRC_CONF,
                  "Daemon pools for scripts under suexec, each running as "
                  "one user (0 = such scripts run exec)"),
    AP_INIT_TAKE1("PyCGIMaxRequests", pycgi_config_set_max_requests, NULL,
                  RSRC_CONF,
                  "Recycle the embedded interpreter after this many "
                  "requests (0 = never)"),
    AP_INIT_ITERATE("PyCGIPreload", pycgi_config_add_preload, NULL, RSRC_CONF,
                    "Python modules to import once when a server process "
                    "starts its embedded interpreter"),
    AP_INIT_FLAG("PyCGIAllowEmbedded", pycgi_config_set_allow_embedded, NULL,
                 RSRC_CONF,
                 "Off forbids embedded execution: every script runs exec"),
    AP_INIT_ITERATE("PyCGIEmbedOwners", pycgi_config_add_owner, NULL, RSRC_CONF,
                    "Only scripts owned by these users may run embedded"),
    AP_INIT_TAKE1("PyCGICompatModules", pycgi_config_set_compat, NULL,
                  RSRC_CONF,
                  "Auto: our cgi/cgitb only where Python lacks them; Always: "
                  "ours in every case"),
    /* mod_cgi's own directives, with mod_cgi's meaning. */
    AP_INIT_TAKE1("ScriptLog", pycgi_config_set_scriptlog, NULL, RSRC_CONF,
                  "the name of a log for script debugging info"),
    AP_INIT_TAKE1("ScriptLogLength", pycgi_config_set_logbytes, NULL, RSRC_CONF,
                  "the maximum length (in bytes) of the script debug log"),
    AP_INIT_TAKE1("ScriptLogBuffer", pycgi_config_set_bufbytes, NULL, RSRC_CONF,
                  "the maximum size (in bytes) to record of a POST request"),
    AP_INIT_TAKE1("CGIScriptTimeout", pycgi_config_set_timeout, NULL,
                  RSRC_CONF | ACCESS_CONF,
                  "The amount of time to wait between successful reads from "
                  "the CGI script, in seconds."),
    {NULL}
};

/* mod_include must have set up its tag table before we add "exec" to
 * it, whatever the LoadModule order (mod_cgi says the same). */
static const char *const pycgi_after_include[] = {"mod_include.c", NULL};

static void pycgi_register_hooks(apr_pool_t *p)
{
    (void)p;
    ap_hook_pre_config(pycgi_pre_config, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_handler(pycgi_handler, NULL, NULL, APR_HOOK_MIDDLE);
    ap_hook_post_config(pycgi_post_config, pycgi_after_include, NULL,
                        APR_HOOK_REALLY_FIRST);
    ap_hook_handler(pycgi_status_handler, NULL, NULL, APR_HOOK_MIDDLE);
    /* Last: another module that owns Python (mod_wsgi) starts it first,
     * and we share it (see pycgi_interp.c). */
    ap_hook_child_init(pycgi_child_init, NULL, NULL, APR_HOOK_LAST);
}

module AP_MODULE_DECLARE_DATA pycgi_module = {
#ifdef PYCGI_AS_MOD_CGI
    MODULE_MAGIC_NUMBER_MAJOR, MODULE_MAGIC_NUMBER_MINOR, -1, "mod_cgi.c",
    NULL, NULL, MODULE_MAGIC_COOKIE, NULL,
#else
    STANDARD20_MODULE_STUFF,
#endif
    pycgi_create_dir_config,
    pycgi_merge_dir_config,
    pycgi_create_server_config,
    pycgi_merge_server_config,
    pycgi_cmds,
    pycgi_register_hooks,
    AP_MODULE_FLAG_NONE
};
