/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_config.c -- directive setters and the UNSET -> default rules.
 */
#include "pycgi_config.h"
#include "apr_user.h"
#include <limits.h>

int pycgi_config_mode(const pycgi_dir_conf *d)
{
    return d->mode == PYCGI_UNSET ? PYCGI_MODE_AUTO : d->mode;
}

int pycgi_config_isolation(const pycgi_dir_conf *d)
{
    return d->isolation == PYCGI_UNSET ? PYCGI_ISOLATION_REUSE : d->isolation;
}

apr_interval_time_t pycgi_config_slowlog(const pycgi_dir_conf *d)
{
    return d->slowlog > 0 ? d->slowlog : 0;
}

apr_interval_time_t pycgi_config_timeout(const pycgi_dir_conf *d,
                                         const request_rec *r)
{
    /* Like mod_cgi: no CGIScriptTimeout means the server's Timeout. */
    return d->timeout > 0 ? d->timeout : r->server->timeout;
}

long pycgi_config_logbytes(const pycgi_server_conf *s)
{
    return s->logbytes == PYCGI_UNSET ? PYCGI_DEFAULT_LOGBYTES : s->logbytes;
}

int pycgi_config_bufbytes(const pycgi_server_conf *s)
{
    return s->bufbytes == PYCGI_UNSET ? PYCGI_DEFAULT_BUFBYTES : s->bufbytes;
}

int pycgi_config_allow_embedded(const pycgi_server_conf *s)
{
    return s->allow_embedded == PYCGI_UNSET ? 1 : s->allow_embedded;
}

const char *pycgi_config_set_mode(cmd_parms *cmd, void *dconf, const char *arg)
{
    pycgi_dir_conf *d = dconf;

    if (!strcasecmp(arg, "exec")) {
        d->mode = PYCGI_MODE_EXEC;
    }
    else if (!strcasecmp(arg, "embedded")) {
        d->mode = PYCGI_MODE_EMBEDDED;
    }
    else if (!strcasecmp(arg, "auto")) {
        d->mode = PYCGI_MODE_AUTO;
    }
    else if (!strcasecmp(arg, "daemon")) {
        d->mode = PYCGI_MODE_DAEMON;
    }
    else {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           " must be one of exec, daemon, embedded or auto, "
                           "not '", arg, "'", NULL);
    }
    /* Moving scripts into the server process is a power of whoever may
     * turn on ExecCGI, no one else: AllowOverride Options=Indexes lets a
     * .htaccess say "PyCGIMode exec", not "embedded". */
    if (d->mode != PYCGI_MODE_EXEC && !(cmd->override_opts & OPT_EXECCGI)) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name, " ", arg,
                           " not allowed here: needs AllowOverride "
                           "Options with ExecCGI", NULL);
    }
    return NULL;
}

const char *pycgi_config_set_isolation(cmd_parms *cmd, void *dconf,
                                       const char *arg)
{
    pycgi_dir_conf *d = dconf;

    if (!strcasecmp(arg, "reuse")) {
        d->isolation = PYCGI_ISOLATION_REUSE;
    }
    else if (!strcasecmp(arg, "fork")) {
        d->isolation = PYCGI_ISOLATION_FORK;
    }
    else {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           " must be reuse or fork, not '", arg, "'", NULL);
    }
    return NULL;
}

const char *pycgi_config_set_timeout(cmd_parms *cmd, void *dconf,
                                     const char *arg)
{
    pycgi_dir_conf *d = dconf;
    apr_interval_time_t t;

    /* Same syntax as mod_cgi's: seconds, or a number with a unit. */
    if (ap_timeout_parameter_parse(arg, &t, "s") != APR_SUCCESS || t < 0) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           ": invalid timeout '", arg, "'", NULL);
    }
    d->timeout = t;
    return NULL;
}

/* PyCGISlowLog seconds|Off [file]: whole seconds, as the log line
 * says them; the file is opened by the children, like ScriptLog. */
const char *pycgi_config_set_slowlog(cmd_parms *cmd, void *dconf,
                                     const char *secs, const char *file)
{
    pycgi_dir_conf *d = dconf;
    char *end;
    long v;

    if (!strcasecmp(secs, "off")) {
        v = 0;
    }
    else {
        v = strtol(secs, &end, 10);
        if (!apr_isdigit(*secs) || *end || v < 0 || v > 86400) {
            return apr_pstrcat(cmd->pool, cmd->cmd->name, " needs Off or "
                               "whole seconds from 0 to 86400, not '",
                               secs, "'", NULL);
        }
    }
    d->slowlog = apr_time_from_sec(v);
    d->slowlog_file = NULL;
    if (file) {
        d->slowlog_file = ap_server_root_relative(cmd->pool, file);
        if (!d->slowlog_file) {
            return apr_pstrcat(cmd->pool, cmd->cmd->name, ": invalid path ",
                               file, NULL);
        }
    }
    return NULL;
}

/* The server-wide directives below refuse <Directory> and friends with
 * httpd's own wording. */
static const char *pycgi_server_only(cmd_parms *cmd)
{
    return ap_check_cmd_context(cmd, NOT_IN_DIR_CONTEXT);
}

const char *pycgi_config_set_scriptlog(cmd_parms *cmd, void *dummy,
                                       const char *arg)
{
    const char *err = pycgi_server_only(cmd);

    (void)dummy;
    if (err) {
        return err;
    }
    pycgi_sconf(cmd->server)->logname = ap_server_root_relative(cmd->pool, arg);
    if (!pycgi_sconf(cmd->server)->logname) {
        return apr_pstrcat(cmd->pool, "Invalid ScriptLog path ", arg, NULL);
    }
    return NULL;
}

/* A count directive: context check, then a whole number in 0..max. */
static const char *pycgi_config_count(cmd_parms *cmd, const char *arg,
                                      unsigned context, long max, long *out)
{
    const char *err = ap_check_cmd_context(cmd, context);
    char *end;
    long v = 0;

    if (err) {
        return err;
    }
    v = strtol(arg, &end, 10);
    if (*arg == '\0' || *end != '\0' || v < 0 || v > max) {
        return apr_psprintf(cmd->pool, "%s needs a whole number from 0 to "
                            "%ld, not '%s'", cmd->cmd->name, max, arg);
    }
    *out = v;
    return NULL;
}

const char *pycgi_config_set_logbytes(cmd_parms *cmd, void *dummy,
                                      const char *arg)
{
    long v = 0;
    const char *err = pycgi_config_count(cmd, arg, NOT_IN_DIR_CONTEXT,
                                         LONG_MAX, &v);

    (void)dummy;
    if (!err) {
        pycgi_sconf(cmd->server)->logbytes = v;
    }
    return err;
}

const char *pycgi_config_set_bufbytes(cmd_parms *cmd, void *dummy,
                                      const char *arg)
{
    long v = 0;
    const char *err = pycgi_config_count(cmd, arg, NOT_IN_DIR_CONTEXT,
                                         APR_INT32_MAX, &v);

    (void)dummy;
    if (!err) {
        pycgi_sconf(cmd->server)->bufbytes = (int)v;
    }
    return err;
}

const char *pycgi_config_set_max_requests(cmd_parms *cmd, void *dummy,
                                          const char *arg)
{
    long v = 0;
    /* Per process, so per server as a whole: not per virtual host. */
    const char *err = pycgi_config_count(cmd, arg, GLOBAL_ONLY,
                                         APR_INT32_MAX, &v);

    (void)dummy;
    if (!err) {
        pycgi_sconf(cmd->server)->max_requests = (int)v;
    }
    return err;
}

const char *pycgi_config_add_preload(cmd_parms *cmd, void *dummy,
                                     const char *arg)
{
    pycgi_server_conf *s = pycgi_sconf(cmd->server);
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    (void)dummy;
    if (err) {
        return err;
    }
    if (!s->preload) {
        s->preload = apr_array_make(cmd->pool, 4, sizeof(char *));
    }
    APR_ARRAY_PUSH(s->preload, const char *) = arg;
    return NULL;
}

const char *pycgi_config_set_allow_embedded(cmd_parms *cmd, void *dummy,
                                            int flag)
{
    const char *err = pycgi_server_only(cmd);

    (void)dummy;
    if (err) {
        return err;
    }
    pycgi_sconf(cmd->server)->allow_embedded = flag;
    return NULL;
}

const char *pycgi_config_add_owner(cmd_parms *cmd, void *dummy,
                                   const char *arg)
{
    pycgi_server_conf *s = pycgi_sconf(cmd->server);
    const char *err = pycgi_server_only(cmd);
    apr_uid_t uid;
    apr_gid_t gid;

    (void)dummy;
    if (err) {
        return err;
    }
    if (apr_uid_get(&uid, &gid, arg, cmd->pool) != APR_SUCCESS) {
        return apr_pstrcat(cmd->pool, "PyCGIEmbedOwners: unknown user '",
                           arg, "'", NULL);
    }
    if (!s->owners) {
        s->owners = apr_array_make(cmd->pool, 4, sizeof(apr_uid_t));
    }
    APR_ARRAY_PUSH(s->owners, apr_uid_t) = uid;
    return NULL;
}

const char *pycgi_config_set_compat(cmd_parms *cmd, void *dummy,
                                    const char *arg)
{
    const char *err = ap_check_cmd_context(cmd, GLOBAL_ONLY);

    (void)dummy;
    if (err) {
        return err;
    }
    if (!strcasecmp(arg, "auto")) {
        pycgi_sconf(cmd->server)->compat_first = 0;
    }
    else if (!strcasecmp(arg, "always")) {
        pycgi_sconf(cmd->server)->compat_first = 1;
    }
    else {
        return "PyCGICompatModules must be Auto or Always";
    }
    return NULL;
}

/* --- daemon pools ---------------------------------------------------- */

static apr_array_header_t *pycgi_config_pools;

void pycgi_config_pre_config(apr_pool_t *pconf)
{
    pycgi_config_pools = apr_array_make(pconf, 4, sizeof(char *));
}

apr_array_header_t *pycgi_config_pool_names(void)
{
    return pycgi_config_pools;
}

const char *pycgi_config_set_pool(cmd_parms *cmd, void *dconf,
                                  const char *arg)
{
    const char *c;
    int i;

    /* The name becomes part of log lines and the status page: keep it
     * to a plain word. */
    for (c = arg; *c; c++) {
        if (!apr_isalnum(*c) && !strchr("._-", *c)) {
            return apr_pstrcat(cmd->pool, cmd->cmd->name, ": '", arg,
                               "' is not a pool name (letters, digits, "
                               "'.', '_' and '-')", NULL);
        }
    }
    if (!*arg || strlen(arg) > 64) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           " needs a name of 1 to 64 characters", NULL);
    }
    if (cmd->path) {
        ((pycgi_dir_conf *)dconf)->pool = arg;
    }
    else {
        pycgi_sconf(cmd->server)->pool = arg;
    }
    for (i = 0; i < pycgi_config_pools->nelts; i++) {
        if (!strcmp(APR_ARRAY_IDX(pycgi_config_pools, i, char *), arg)) {
            return NULL;
        }
    }
    APR_ARRAY_PUSH(pycgi_config_pools, const char *) = arg;
    return NULL;
}

/* The count directives of the daemon pools share one setter; the
 * command table's cmd_data says which field (and whether it is
 * server-wide only). */
const char *pycgi_config_set_daemon_count(cmd_parms *cmd, void *dummy,
                                          const char *arg)
{
    pycgi_server_conf *s = pycgi_sconf(cmd->server);
    const char *which = cmd->cmd->cmd_data;
    long v = 0, max = 1000000;
    const char *err;
    int global = !strcmp(which, "total") || !strcmp(which, "userpools");

    (void)dummy;
    if (!strcmp(which, "workers") || !strcmp(which, "total")) {
        max = PYCGI_POOL_MAX_WORKERS;
    }
    else if (!strcmp(which, "userpools")) {
        max = PYCGI_MAX_USER_POOLS;
    }
    err = pycgi_config_count(cmd, arg, global ? GLOBAL_ONLY
                                              : NOT_IN_DIR_CONTEXT, max, &v);
    if (err) {
        return err;
    }
    if ((!strcmp(which, "workers") || !strcmp(which, "total")
         || !strcmp(which, "queue")) && v < 1) {
        return apr_pstrcat(cmd->pool, cmd->cmd->name,
                           " must be at least 1", NULL);
    }
    if (!strcmp(which, "workers")) s->pool_workers = (int)v;
    else if (!strcmp(which, "total")) s->total_workers = (int)v;
    else if (!strcmp(which, "userpools")) s->user_pools = (int)v;
    else if (!strcmp(which, "idle")) s->idle_timeout = (int)v;
    else if (!strcmp(which, "requests")) s->daemon_requests = (int)v;
    else if (!strcmp(which, "memory")) s->memory_mb = (int)v;
    else if (!strcmp(which, "queue")) s->queue_size = (int)v;
    else if (!strcmp(which, "queuetimeout")) s->queue_timeout = (int)v;
    return NULL;
}
