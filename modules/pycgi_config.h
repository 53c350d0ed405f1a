/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_config.h -- our configuration records and directive setters.
 *
 * Every field starts UNSET and is merged field by field (see
 * mod_pycgi.c), so a <Directory> that only says "PyCGIMode exec" keeps
 * the CGIScriptTimeout it inherited.  The records live in the config
 * pool: read-only once the server is running.
 */
#ifndef PYCGI_CONFIG_H
#define PYCGI_CONFIG_H

#include "pycgi_common.h"

#define PYCGI_UNSET (-1)

/* Which runner serves a script. */
#define PYCGI_MODE_EXEC      1
#define PYCGI_MODE_EMBEDDED  2
#define PYCGI_MODE_AUTO      3

/* mod_cgi's ScriptLog defaults, kept so that the same config logs the
 * same amount. */
#define PYCGI_DEFAULT_LOGBYTES 10385760
#define PYCGI_DEFAULT_BUFBYTES 1024

typedef struct {
    int mode;                   /* PYCGI_MODE_*, or UNSET (= auto) */
    apr_interval_time_t timeout;/* CGIScriptTimeout; UNSET = server Timeout */
} pycgi_dir_conf;

typedef struct {
    const char *logname;        /* ScriptLog file, NULL = no script log */
    long logbytes;              /* ScriptLogLength */
    int bufbytes;               /* ScriptLogBuffer */
    int max_requests;           /* PyCGIMaxRequests, 0 = never recycle */
    apr_array_header_t *preload;/* PyCGIPreload module names (char *) */
    int allow_embedded;         /* PyCGIAllowEmbedded */
    apr_array_header_t *owners; /* PyCGIEmbedOwners uids (apr_uid_t) */
    int compat_first;           /* PyCGICompatModules Always */
} pycgi_server_conf;

/* Effective values: resolve UNSET to the documented default. */
int pycgi_config_mode(const pycgi_dir_conf *d);
apr_interval_time_t pycgi_config_timeout(const pycgi_dir_conf *d,
                                         const request_rec *r);
long pycgi_config_logbytes(const pycgi_server_conf *s);
int pycgi_config_bufbytes(const pycgi_server_conf *s);
int pycgi_config_allow_embedded(const pycgi_server_conf *s);

#define pycgi_dconf(r) \
    ((pycgi_dir_conf *)ap_get_module_config((r)->per_dir_config, &pycgi_module))
#define pycgi_sconf(s) \
    ((pycgi_server_conf *)ap_get_module_config((s)->module_config, &pycgi_module))

/* Directive setters, referenced from the command table in mod_pycgi.c. */
const char *pycgi_config_set_mode(cmd_parms *cmd, void *dconf, const char *arg);
const char *pycgi_config_set_timeout(cmd_parms *cmd, void *dconf,
                                     const char *arg);
const char *pycgi_config_set_scriptlog(cmd_parms *cmd, void *dummy,
                                       const char *arg);
const char *pycgi_config_set_logbytes(cmd_parms *cmd, void *dummy,
                                      const char *arg);
const char *pycgi_config_set_bufbytes(cmd_parms *cmd, void *dummy,
                                      const char *arg);
const char *pycgi_config_set_max_requests(cmd_parms *cmd, void *dummy,
                                          const char *arg);
const char *pycgi_config_add_preload(cmd_parms *cmd, void *dummy,
                                     const char *arg);
const char *pycgi_config_set_allow_embedded(cmd_parms *cmd, void *dummy,
                                            int flag);
const char *pycgi_config_add_owner(cmd_parms *cmd, void *dummy,
                                   const char *arg);
const char *pycgi_config_set_compat(cmd_parms *cmd, void *dummy,
                                    const char *arg);

#endif /* PYCGI_CONFIG_H */
