/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_pool.c -- the daemon pools' table: sockets, shared segments,
 * counters (built by the parent), and the lookups children make.
 */
#include "pycgi_pool.h"
#include "pycgi_suexec.h"
#include "unixd.h"
#include "apr_hash.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

/* Written once per generation by the parent, before any child exists. */
static pycgi_pool_table *pycgi_pools;

pycgi_pool_table *pycgi_pool_table_get(void)
{
    return pycgi_pools;
}

/* The worker program lives beside the module: .libs/pycgi-worker in a
 * build tree, /usr/lib/apache2/modules/pycgi-worker when installed. */
static const char *pycgi_pool_worker_path(apr_pool_t *p)
{
    Dl_info info;

    if (dladdr((void *)pycgi_pool_worker_path, &info) && info.dli_fname) {
        const char *dir = ap_make_dirstr_parent(p, info.dli_fname);

        return apr_pstrcat(p, dir, "pycgi-worker", NULL);
    }
    return "/usr/lib/apache2/modules/pycgi-worker";
}

static apr_status_t pycgi_pool_cleanup(void *data)
{
    pycgi_pool_table *t = data;
    int i;

    for (i = 0; i < t->npools; i++) {
        pycgi_pool *p = &t->pools[i];

        /* The socket file stays: on a graceful restart, children of
         * the old generation still reach the old workers through it;
         * the old supervisor removes it when its workers are gone. */
        if (p->listen_fd >= 0) {
            close(p->listen_fd);
        }
        if (p->shm_fd >= 0) {
            close(p->shm_fd);
        }
        if (p->shm) {
            munmap(p->shm, p->shm_size);
        }
    }
    if (t->ctl_send >= 0) {
        close(t->ctl_send);
    }
    if (t->ctl_recv >= 0) {
        close(t->ctl_recv);
    }
    if (pycgi_pools == t) {
        pycgi_pools = NULL;
    }
    return APR_SUCCESS;
}

/* One pool: its listening socket and its segment. */
static apr_status_t pycgi_pool_open(apr_pool_t *pconf, server_rec *s,
                                    pycgi_pool_table *t, pycgi_pool *p)
{
    struct sockaddr_un sa;
    int n = p->max_workers;

    p->sockpath = apr_psprintf(pconf, "%s/%d.sock", t->dir, p->index);
    if (strlen(p->sockpath) >= sizeof(sa.sun_path)) {
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, s, PYCGI_LOGNO(0951)
                     "daemon pool socket path too long: %s", p->sockpath);
        return APR_ENAMETOOLONG;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    strcpy(sa.sun_path, p->sockpath);
    p->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (p->listen_fd < 0
        || bind(p->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0
        || listen(p->listen_fd, p->queue_size) < 0) {
        apr_status_t rv = errno;

        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, PYCGI_LOGNO(0952)
                     "cannot listen on daemon pool socket %s", p->sockpath);
        return rv;
    }
    /* Only httpd's User may connect (the directory is 0700 as well). */
    if (!geteuid() && chown(p->sockpath, ap_unixd_config.user_id,
                            ap_unixd_config.group_id) < 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, s, PYCGI_LOGNO(0953)
                     "cannot chown %s", p->sockpath);
        return errno;
    }
    chmod(p->sockpath, 0600);

    p->shm_size = PYCGI_POOL_SHM_SIZE(n);
    p->shm_fd = memfd_create("pycgi-pool", MFD_CLOEXEC);
    if (p->shm_fd < 0 || ftruncate(p->shm_fd, (off_t)p->shm_size) < 0
        || (p->shm = mmap(NULL, p->shm_size, PROT_READ | PROT_WRITE,
                          MAP_SHARED, p->shm_fd, 0)) == MAP_FAILED) {
        apr_status_t rv = errno;

        p->shm = NULL;
        ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, PYCGI_LOGNO(0954)
                     "cannot create the segment of daemon pool %s", p->name);
        return rv;
    }
    /* A new memfd reads as zeros: slots no worker uses take no memory. */
    p->shm->magic = PYCGI_POOL_MAGIC;
    p->shm->nslots = (uint32_t)n;
    return apr_generate_random_bytes(p->shm->token, PYCGI_TOKEN_LEN);
}

/* PyCGIDaemonMaxTotal's default: as many workers as httpd can have
 * requests in flight (MaxRequestWorkers), because under mod_cgi each of
 * them may be running a script.  Workers start only when needed and
 * idle ones end (PyCGIDaemonIdleTimeout). */
static int pycgi_pool_mpm_capacity(void)
{
    int daemons = 0, threads = 0, all;

    if (ap_mpm_query(AP_MPMQ_MAX_DAEMONS, &daemons) != APR_SUCCESS
        || daemons <= 0) {
        return PYCGI_DEFAULT_TOTAL_WORKERS;
    }
    if (ap_mpm_query(AP_MPMQ_MAX_THREADS, &threads) != APR_SUCCESS
        || threads <= 0) {
        threads = 1;
    }
    all = daemons * threads;
    /* As many as the directive accepts, which is also a pool's most. */
    return all < PYCGI_POOL_MAX_WORKERS ? all : PYCGI_POOL_MAX_WORKERS;
}

/* A pool's limits; PyCGIDaemonMaxWorkers defaults to every worker the
 * server may have, `total` (never above PYCGI_POOL_MAX_WORKERS: the
 * directive's bound and the default's; capped below when there are
 * other pools). */
static void pycgi_pool_limits(pycgi_pool *p, server_rec *s, int total)
{
    pycgi_server_conf *c = pycgi_sconf(s);

    p->max_workers = pycgi_config_or(c->pool_workers, total);
    /* The backlog holds a burst that finds every worker still booting
     * (a cold or shrunk pool) rather than refusing it (PYCGI0904). */
    p->queue_size = pycgi_config_or(c->queue_size,
                                    p->max_workers > PYCGI_DEFAULT_QUEUE_SIZE
                                    ? p->max_workers
                                    : PYCGI_DEFAULT_QUEUE_SIZE);
    p->idle_timeout = pycgi_config_or(c->idle_timeout,
                                      PYCGI_DEFAULT_IDLE_TIMEOUT);
    p->max_requests = pycgi_config_or(c->daemon_requests,
                                      PYCGI_DEFAULT_DAEMON_REQUESTS);
    p->memory_mb = pycgi_config_or(c->memory_mb, PYCGI_DEFAULT_MEMORY_MB);
    p->queue_timeout = apr_time_from_sec(pycgi_config_or(c->queue_timeout,
                                         PYCGI_DEFAULT_QUEUE_TIMEOUT));
}

apr_status_t pycgi_pool_post_config(apr_pool_t *pconf, server_rec *s,
                                    pycgi_pool_table **built)
{
    pycgi_server_conf *main = pycgi_sconf(s);
    apr_array_header_t *names = pycgi_config_pool_names();
    pycgi_pool_table *t;
    server_rec *vs;
    int n = 0, i, sv[2], nuser;
    void *stats;
    apr_status_t rv;

    *built = NULL;
    /* The first pass only checks the configuration (as mod_cgid). */
    if (ap_state_query(AP_SQ_MAIN_STATE) == AP_SQ_MS_CREATE_PRE_CONFIG) {
        return APR_SUCCESS;
    }
    for (vs = s; vs; vs = vs->next) {
        n++;
    }
    n += names ? names->nelts : 0;
    /* User pools: only where suexec is on and a module gives requests
     * an identity (mod_suexec, mod_userdir), we are root (the
     * supervisor must start processes of other users) and suexec's
     * settings are known (its rules apply before a script gets there). */
    nuser = pycgi_config_or(main->user_pools, PYCGI_DEFAULT_USER_POOLS);
    if (nuser > 0 && ap_unixd_config.chroot_dir) {
        /* The supervisor keeps root for user pools and so never takes
         * mod_unixd's chroot (drop_privileges): their workers would
         * see the whole file system where mod_cgi's scripts see only
         * the ChrootDir.  Such scripts run exec, in the chrooted
         * children, as under mod_cgi. */
        ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, s, PYCGI_LOGNO(0977)
                     "ChrootDir %s: no user pools (PyCGIDaemonUserPools "
                     "ignored), scripts under suexec run exec",
                     ap_unixd_config.chroot_dir);
        nuser = 0;
    }
    if (nuser > 0 && (!ap_unixd_config.suexec_enabled || geteuid() != 0
                      || !ap_hook_get_get_suexec_identity()
                      || !ap_hook_get_get_suexec_identity()->nelts
                      || pycgi_suexec_post_config(pconf, s)
                         != APR_SUCCESS)) {
        nuser = 0;
    }
    n += nuser;

    t = apr_pcalloc(pconf, sizeof(*t));
    t->ctl_send = t->ctl_recv = -1;
    t->pools = apr_pcalloc(pconf, n * sizeof(pycgi_pool));
    t->total_workers = pycgi_config_or(main->total_workers,
                                       pycgi_pool_mpm_capacity());
    t->worker_path = pycgi_pool_worker_path(pconf);
    t->preload = main->preload;
    t->compat_first = main->compat_first == 1;
    t->by_server = apr_hash_make(pconf);
    t->by_name = apr_hash_make(pconf);
    for (i = 0; i < n; i++) {
        t->pools[i].listen_fd = t->pools[i].shm_fd = -1;
    }
    t->dir = ap_runtime_dir_relative(pconf,
                                     apr_psprintf(pconf, "pycgi.%ld.%"
                                                  APR_TIME_T_FMT,
                                                  (long)getpid(),
                                                  apr_time_now()));
    apr_pool_cleanup_register(pconf, t, pycgi_pool_cleanup,
                              apr_pool_cleanup_null);
    if (mkdir(t->dir, 0700) < 0
        || (!geteuid() && chown(t->dir, ap_unixd_config.user_id,
                                ap_unixd_config.group_id) < 0)) {
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, s, PYCGI_LOGNO(0955)
                     "cannot create the daemon socket directory %s; the "
                     "daemon runner is unavailable", t->dir);
        return APR_SUCCESS;
    }

    /* Counters: shared with children, never with workers. */
    stats = mmap(NULL, n * sizeof(pycgi_pool_stats), PROT_READ | PROT_WRITE,
                 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (stats == MAP_FAILED
        || socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, s, PYCGI_LOGNO(0956)
                     "cannot set up the daemon pools; the daemon runner "
                     "is unavailable");
        return APR_SUCCESS;
    }
    memset(stats, 0, n * sizeof(pycgi_pool_stats));
    t->ctl_recv = sv[0];
    t->ctl_send = sv[1];
    fcntl(t->ctl_send, F_SETFL, fcntl(t->ctl_send, F_GETFL) | O_NONBLOCK);

    /* A pool per virtual host, then the named ones (which take the main
     * server's limits unless their vhost sets its own). */
    for (vs = s, i = 0; vs; vs = vs->next, i++) {
        pycgi_pool *p = &t->pools[i];
        server_rec **key = apr_palloc(pconf, sizeof(*key));

        *key = vs;  /* the hash keys on the pointer's value */
        p->index = i;
        /* Named after its vhost: "host" or "host:port". */
        p->name = apr_pstrdup(pconf, vs->server_hostname
                                     ? vs->server_hostname : "default");
        if (vs->port) {
            p->name = apr_psprintf(pconf, "%s:%u", p->name, vs->port);
        }
        else if (vs->addrs && vs->addrs->host_port) {
            p->name = apr_psprintf(pconf, "%s:%u", p->name,
                                   vs->addrs->host_port);
        }
        pycgi_pool_limits(p, vs, t->total_workers);
        apr_hash_set(t->by_server, key, sizeof(*key), p);
    }
    for (; i < n - nuser; i++) {
        pycgi_pool *p = &t->pools[i];

        p->index = i;
        p->name = APR_ARRAY_IDX(names, i - (n - nuser - names->nelts),
                                const char *);
        pycgi_pool_limits(p, s, t->total_workers);
        apr_hash_set(t->by_name, p->name, APR_HASH_KEY_STRING, p);
    }
    /* The user pools: no identity until the supervisor assigns one. */
    t->first_user = i;
    t->nuser = nuser;
    for (; i < n; i++) {
        pycgi_pool *p = &t->pools[i];

        p->index = i;
        p->user = 1;
        p->name = apr_psprintf(pconf, "user-%d", i - t->first_user);
        pycgi_pool_limits(p, s, t->total_workers);
    }
    for (i = 0; i < n; i++) {
        t->pools[i].stats = (pycgi_pool_stats *)stats + i;
        if (t->pools[i].max_workers >= t->total_workers && n > 1) {
            /* One owner never takes every worker of the server. */
            t->pools[i].max_workers = t->total_workers > 1
                                      ? t->total_workers - 1 : 1;
        }
        if ((rv = pycgi_pool_open(pconf, s, t, &t->pools[i]))
            != APR_SUCCESS) {
            ap_log_error(APLOG_MARK, APLOG_ERR, rv, s, PYCGI_LOGNO(0957)
                         "the daemon runner is unavailable");
            return APR_SUCCESS;
        }
    }
    t->npools = n;
    *built = t;
    return APR_SUCCESS;
}

void pycgi_pool_publish(pycgi_pool_table *t)
{
    pycgi_pools = t;
}

void pycgi_pool_child_init(apr_pool_t *pchild, server_rec *s)
{
    pycgi_pool_table *t = pycgi_pools;
    int i;

    (void)pchild; (void)s;
    if (!t) {
        return;
    }
    /* Only the supervisor accepts and spawns: a child (and anything
     * it runs) keeps no listening socket and no segment fd. */
    for (i = 0; i < t->npools; i++) {
        if (t->pools[i].listen_fd >= 0) {
            close(t->pools[i].listen_fd);
            t->pools[i].listen_fd = -1;
        }
        if (t->pools[i].shm_fd >= 0) {
            close(t->pools[i].shm_fd);
            t->pools[i].shm_fd = -1;
        }
    }
    if (t->ctl_recv >= 0) {
        close(t->ctl_recv);
        t->ctl_recv = -1;
    }
}

pycgi_pool *pycgi_pool_for(request_rec *r)
{
    pycgi_pool_table *t = pycgi_pools;
    ap_unix_identity_t *id;
    const char *name;
    int i;

    if (!t) {
        return NULL;
    }
    if ((id = pycgi_suexec_identity(r)) != NULL) {
        for (i = t->first_user; i < t->first_user + t->nuser; i++) {
            pycgi_pool_stats *st = t->pools[i].stats;

            if (__atomic_load_n(&st->assigned, __ATOMIC_ACQUIRE)
                && st->uid == (apr_uint32_t)id->uid
                && st->gid == (apr_uint32_t)id->gid
                && st->userdir == (apr_uint32_t)(id->userdir != 0)) {
                return &t->pools[i];
            }
        }
        return NULL;
    }
    name = pycgi_dconf(r)->pool;
    if (!name) {
        name = pycgi_sconf(r->server)->pool;
    }
    if (name) {
        return apr_hash_get(t->by_name, name, APR_HASH_KEY_STRING);
    }
    return apr_hash_get(t->by_server, &r->server, sizeof(r->server));
}

int pycgi_pool_has_idle(const pycgi_pool *p)
{
    uint32_t i, n = p->shm->nslots;

    if (n > PYCGI_POOL_MAX_SLOTS) {
        n = 0;
    }
    for (i = 0; i < n; i++) {
        if (p->shm->slot[i].state == PYCGI_SLOT_IDLE
            && p->shm->slot[i].pid > 0) {
            return 1;
        }
    }
    return 0;
}

int pycgi_pool_users(void)
{
    return pycgi_pools && pycgi_pools->nuser > 0;
}

void pycgi_pool_assign(const ap_unix_identity_t *id)
{
    pycgi_pool_table *t = pycgi_pools;
    pycgi_ctl_msg m;
    int i;

    if (!t) {
        return;
    }
    /* With every user pool taken there is nothing to ask for. */
    for (i = t->first_user; i < t->first_user + t->nuser; i++) {
        if (!__atomic_load_n(&t->pools[i].stats->assigned,
                             __ATOMIC_ACQUIRE)) {
            break;
        }
    }
    if (i == t->first_user + t->nuser) {
        return;
    }
    memset(&m, 0, sizeof(m));
    m.op = PYCGI_CTL_ASSIGN;
    m.uid = (apr_uint32_t)id->uid;
    m.gid = (apr_uint32_t)id->gid;
    m.userdir = id->userdir != 0;
    if (t->ctl_send >= 0) {
        (void)send(t->ctl_send, &m, sizeof(m), MSG_DONTWAIT);
    }
}

void pycgi_pool_tell(const pycgi_pool *p, apr_uint32_t op, pid_t pid)
{
    pycgi_ctl_msg m;

    memset(&m, 0, sizeof(m));
    m.op = op;
    m.pool = (apr_uint32_t)p->index;
    m.pid = (apr_int32_t)pid;
    if (pycgi_pools && pycgi_pools->ctl_send >= 0) {
        (void)send(pycgi_pools->ctl_send, &m, sizeof(m), MSG_DONTWAIT);
    }
}

const char *pycgi_pool_retire_name(apr_uint32_t r)
{
    static const char *const names[PYCGI_RETIRE_REASONS] = {
        "none", "max requests", "memory limit", "idle timeout",
        "threads left running", "signal handlers changed",
        "process state changed", "child process left running",
        "std streams replaced", "shutdown", "worker error"
    };

    return r < PYCGI_RETIRE_REASONS ? names[r] : "unknown";
}
