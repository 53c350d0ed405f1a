/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_pool.h -- the daemon runner's pools: one per virtual host (or
 * per PyCGIDaemonPool name), each with its listening socket in a
 * private directory under DefaultRuntimeDir, its shared segment (the
 * workers' slots, see pycgi_proto.h) and its counters.
 *
 * Owner: the httpd parent builds the table in post_config from pconf
 * (a restart builds a new one) and starts the supervisor; afterwards
 * the table is read-only everywhere.  httpd children keep the mappings
 * and the control socket's sending end; child_init closes the rest.
 */
#ifndef PYCGI_POOL_H
#define PYCGI_POOL_H

#include "pycgi_config.h"
#include "pycgi_proto.h"
#include "unixd.h"

/* The longest document root a user pool may have. */
#define PYCGI_POOL_DOCROOT_MAX 1024

/* Counters of one pool, in an anonymous shared segment of the parent:
 * written (atomically) by httpd children and the supervisor, never
 * reachable from a worker. */
typedef struct {
    volatile apr_uint32_t queued;       /* waiting for a worker now */
    volatile apr_uint32_t workers;      /* live workers (supervisor) */
    volatile apr_uint64_t requests;     /* handed to a worker */
    volatile apr_uint64_t reused;       /* of them, on a kept connection */
    volatile apr_uint64_t dropped;      /* kept connections that failed
                                         * before their worker took the
                                         * request: sent again on a new
                                         * connection */
    volatile apr_uint64_t queue_full;   /* 503: no room in the queue */
    volatile apr_uint64_t queue_timeouts; /* 503: waited too long */
    volatile apr_uint64_t max_reached;  /* a worker was wanted at the max */
    volatile apr_uint64_t spawns;
    volatile apr_uint64_t kills;        /* timed-out scripts' workers */
    volatile apr_uint64_t crashes;      /* workers that died of a signal */
    volatile apr_uint64_t retired[PYCGI_RETIRE_REASONS];
    /* Workers in a row that died while starting (set by the
     * supervisor); 0 again once one boots (its first STARTED, seen by
     * a child, or its end). */
    volatile apr_uint32_t boot_failing;
    /* A user pool's identity: written once by the supervisor (uid,
     * gid, userdir, then `assigned` with release order), never
     * changed for the life of the table. */
    volatile apr_uint32_t assigned;
    apr_uint32_t uid;
    apr_uint32_t gid;
    apr_uint32_t userdir;       /* a ~user identity (mod_userdir) */
    char docroot[PYCGI_POOL_DOCROOT_MAX]; /* suexec's, for the identity */
} pycgi_pool_stats;

typedef struct {
    int index;
    const char *name;           /* "host:port" of its vhost, or the name */
    int max_workers;            /* PyCGIDaemonMaxWorkers */
    int idle_timeout;           /* seconds */
    int max_requests;           /* 0 = never */
    int memory_mb;              /* 0 = no limit */
    int queue_size;
    apr_interval_time_t queue_timeout;
    const char *sockpath;
    int listen_fd;              /* parent and supervisor only */
    int shm_fd;                 /* parent and supervisor only */
    pycgi_pool_head *shm;       /* the workers' slots, mapped everywhere */
    apr_size_t shm_size;
    pycgi_pool_stats *stats;
    int user;                   /* a user pool (PyCGIDaemonUserPools) */
} pycgi_pool;

/* Control messages, httpd child -> supervisor (one-way), on a
 * SOCK_SEQPACKET pair made by the parent: the supervisor reads EOF once
 * no process of its generation holds the sending end. */
#define PYCGI_CTL_SPAWN 1u      /* the pool has no idle worker */
#define PYCGI_CTL_KILL  2u      /* the script of worker `pid` timed out */
#define PYCGI_CTL_ASSIGN 3u     /* give a user pool to uid/gid/userdir */

typedef struct {
    apr_uint32_t op;
    apr_uint32_t pool;          /* ASSIGN: unused */
    apr_int32_t  pid;
    apr_uint32_t uid;           /* ASSIGN only */
    apr_uint32_t gid;
    apr_uint32_t userdir;
} pycgi_ctl_msg;

typedef struct {
    int npools;
    pycgi_pool *pools;          /* per vhost, named, then the user pools */
    int first_user;             /* index of the first user pool */
    int nuser;                  /* user pools (0: suexec runs exec) */
    int total_workers;          /* PyCGIDaemonMaxTotal */
    const char *dir;            /* the sockets' directory */
    const char *worker_path;    /* the pycgi-worker program */
    apr_array_header_t *preload;/* PyCGIPreload, for the workers too */
    int compat_first;
    int ctl_send;               /* httpd children's end */
    int ctl_recv;               /* the supervisor's end */
    apr_hash_t *by_server;      /* server_rec * -> pycgi_pool * */
    apr_hash_t *by_name;        /* name -> pycgi_pool * */
} pycgi_pool_table;

/* Build the pools (parent, post_config): *built is the table, or NULL
 * when there is none (the first, configuration-checking pass, or the
 * daemon runner unavailable, logged).  Its supervisor (pycgi_super.h)
 * is the caller's to start; pycgi_pool_publish() then makes the table
 * the one children use. */
apr_status_t pycgi_pool_post_config(apr_pool_t *pconf, server_rec *s,
                                    pycgi_pool_table **built);
void pycgi_pool_publish(pycgi_pool_table *t);

/* Close what a child must not hold (listening sockets, segments' fds). */
void pycgi_pool_child_init(apr_pool_t *pchild, server_rec *s);

/* The table, or NULL when the daemon runner is unavailable. */
pycgi_pool_table *pycgi_pool_table_get(void);

/* The pool that serves r: PyCGIDaemonPool, else its virtual host's;
 * where suexec applies, the user pool of its identity, or NULL when
 * none is assigned to it (yet). */
pycgi_pool *pycgi_pool_for(request_rec *r);

/* Ask the supervisor for a user pool of this identity. */
void pycgi_pool_assign(const ap_unix_identity_t *id);

/* Are there user pools at all? */
int pycgi_pool_users(void);

/* Does the pool have a worker waiting for a request (a hint: the slots
 * are written by workers)? */
int pycgi_pool_has_idle(const pycgi_pool *p);

/* Tell the supervisor (never blocks; a lost datagram is harmless). */
void pycgi_pool_tell(const pycgi_pool *p, apr_uint32_t op, pid_t pid);

/* "max requests", "threads left running", ...: a PYCGI_RETIRE_*. */
const char *pycgi_pool_retire_name(apr_uint32_t reason);

#endif /* PYCGI_POOL_H */
