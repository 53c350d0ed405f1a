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
#define PYCGI_MODE_DAEMON    4

/* PyCGIIsolation: how a daemon worker runs one script. */
#define PYCGI_ISOLATION_REUSE 1     /* in the worker, restored after */
#define PYCGI_ISOLATION_FORK  2     /* in a child the worker forks */

/* Daemon pool defaults (see docs/directives.md). */
#define PYCGI_POOL_MAX_WORKERS       256  /* = PYCGI_POOL_MAX_SLOTS */
/* PyCGIDaemonMaxTotal when the MPM cannot say its MaxRequestWorkers;
 * PyCGIDaemonMaxWorkers defaults to the total (pycgi_pool.c). */
#define PYCGI_DEFAULT_TOTAL_WORKERS  32
#define PYCGI_DEFAULT_IDLE_TIMEOUT   300
#define PYCGI_DEFAULT_DAEMON_REQUESTS 10000
#define PYCGI_DEFAULT_MEMORY_MB      256
#define PYCGI_DEFAULT_QUEUE_SIZE     100
#define PYCGI_DEFAULT_QUEUE_TIMEOUT  30
#define PYCGI_DEFAULT_USER_POOLS     8
#define PYCGI_MAX_USER_POOLS         1000

/* mod_cgi's ScriptLog defaults, kept so that the same config logs the
 * same amount. */
#define PYCGI_DEFAULT_LOGBYTES 10385760
#define PYCGI_DEFAULT_BUFBYTES 1024

typedef struct {
    int mode;                   /* PYCGI_MODE_*, or UNSET (= auto) */
    apr_interval_time_t timeout;/* CGIScriptTimeout; UNSET = server Timeout */
    const char *pool;           /* PyCGIDaemonPool; NULL = the vhost's own */
    int isolation;              /* PYCGI_ISOLATION_*, or UNSET (= reuse) */
    apr_interval_time_t slowlog;/* PyCGISlowLog; 0 = off, UNSET = off */
    const char *slowlog_file;   /* its file; NULL = the error log */
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
    /* Daemon pools of this virtual host (UNSET = default). */
    const char *pool;           /* PyCGIDaemonPool at server/vhost level */
    int pool_workers;           /* PyCGIDaemonMaxWorkers */
    int total_workers;          /* PyCGIDaemonMaxTotal (main server only) */
    int idle_timeout;           /* PyCGIDaemonIdleTimeout, seconds */
    int daemon_requests;        /* PyCGIDaemonMaxRequests, 0 = never */
    int memory_mb;              /* PyCGIDaemonMemoryLimit, 0 = none */
    int queue_size;             /* PyCGIDaemonQueueSize */
    int queue_timeout;          /* PyCGIDaemonQueueTimeout, seconds */
    int user_pools;             /* PyCGIDaemonUserPools (main server only) */
} pycgi_server_conf;

/* Effective values: resolve UNSET to the documented default. */
int pycgi_config_mode(const pycgi_dir_conf *d);
int pycgi_config_isolation(const pycgi_dir_conf *d);
apr_interval_time_t pycgi_config_slowlog(const pycgi_dir_conf *d);
apr_interval_time_t pycgi_config_timeout(const pycgi_dir_conf *d,
                                         const request_rec *r);
long pycgi_config_logbytes(const pycgi_server_conf *s);
int pycgi_config_bufbytes(const pycgi_server_conf *s);
int pycgi_config_allow_embedded(const pycgi_server_conf *s);
/* A daemon limit: the value, or `def` when UNSET. */
#define pycgi_config_or(v, def) ((v) == PYCGI_UNSET ? (def) : (v))

/* Every pool name PyCGIDaemonPool mentioned while reading the config
 * (char *, from the config pool); emptied by pre_config. */
apr_array_header_t *pycgi_config_pool_names(void);
void pycgi_config_pre_config(apr_pool_t *pconf);

#define pycgi_dconf(r) \
    ((pycgi_dir_conf *)ap_get_module_config((r)->per_dir_config, &pycgi_module))
#define pycgi_sconf(s) \
    ((pycgi_server_conf *)ap_get_module_config((s)->module_config, &pycgi_module))

/* Directive setters, referenced from the command table in mod_pycgi.c. */
const char *pycgi_config_set_mode(cmd_parms *cmd, void *dconf, const char *arg);
const char *pycgi_config_set_timeout(cmd_parms *cmd, void *dconf,
                                     const char *arg);
const char *pycgi_config_set_isolation(cmd_parms *cmd, void *dconf,
                                       const char *arg);
const char *pycgi_config_set_slowlog(cmd_parms *cmd, void *dconf,
                                     const char *secs, const char *file);
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
const char *pycgi_config_set_pool(cmd_parms *cmd, void *dconf,
                                  const char *arg);
const char *pycgi_config_set_daemon_count(cmd_parms *cmd, void *dummy,
                                          const char *arg);

#endif /* PYCGI_CONFIG_H */
