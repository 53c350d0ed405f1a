/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_super.c -- the supervisor process of the daemon pools.
 *
 * One poll loop: the control datagrams of httpd children (spawn, kill),
 * each worker's log pipe (its fd 2 between requests), and a self-pipe
 * for SIGCHLD/SIGTERM.  Everything it learns from a worker (its slot,
 * its log lines) is untrusted: bounded, escaped, checked against the
 * worker table the supervisor keeps itself.
 */
#include "pycgi_super.h"
#include "pycgi_ident.h"
#include "pycgi_suexec.h"
#include "mpm_common.h"
#include "ap_listen.h"
#include "unixd.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* What a worker boots with: nothing of httpd's environment (a
 * PYTHONPATH there must not steer every pool's interpreter); each
 * request brings the script's own. */
static const char *const pycgi_super_worker_base_env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "LANG=C",
    NULL
};
/* Passed on when httpd has them: the sanitizer runs of the test suite
 * build the worker with AddressSanitizer too. */
static const char *const pycgi_super_worker_pass_env[] = {
    "ASAN_OPTIONS", "LSAN_OPTIONS", "UBSAN_OPTIONS", NULL
};
static char **pycgi_super_worker_env;

static char **pycgi_super_make_env(apr_pool_t *p)
{
    apr_array_header_t *a = apr_array_make(p, 8, sizeof(char *));
    int i;

    for (i = 0; pycgi_super_worker_base_env[i]; i++) {
        APR_ARRAY_PUSH(a, const char *) = pycgi_super_worker_base_env[i];
    }
    for (i = 0; pycgi_super_worker_pass_env[i]; i++) {
        const char *v = getenv(pycgi_super_worker_pass_env[i]);

        if (v) {
            APR_ARRAY_PUSH(a, const char *) =
                apr_pstrcat(p, pycgi_super_worker_pass_env[i], "=", v, NULL);
        }
    }
    APR_ARRAY_PUSH(a, const char *) = NULL;
    return (char **)a->elts;
}

/* How long a worker that got SIGTERM (timeout, shutdown) has before
 * SIGKILL -- mod_cgi's kill-after-timeout grace. */
#define PYCGI_SUPER_KILL_GRACE apr_time_from_sec(3)
/* After SIGTERM, the longest the supervisor goes on serving children of
 * its generation (a graceful restart) before it stops. */
#define PYCGI_SUPER_RETIRE_MAX apr_time_from_sec(60)
/* On stop, busy workers get this long to finish their request. */
#define PYCGI_SUPER_STOP_GRACE apr_time_from_sec(5)
#define PYCGI_SUPER_LOGLINE 2048

typedef struct {
    pid_t pid;                  /* 0 = entry free */
    int pool;
    int slot;
    int logfd;                  /* the worker's fd 2 between requests */
    apr_size_t loglen;
    apr_time_t started;
    apr_time_t kill_at;         /* SIGKILL deadline after our SIGTERM */
    int killed;                 /* we asked it to die (timeout) */
    int succeeded;              /* retiring, and a worker started since
                                 * counts as its successor */
    char logbuf[PYCGI_SUPER_LOGLINE];
} pycgi_super_worker;

/* The supervisor's own state (its process only). */
static struct {
    pycgi_pool_table *t;
    server_rec *s;
    pycgi_super_worker *w;
    int nw;                     /* entries in w: the server-wide maximum */
    int live;
    int sigpipe[2];
    int life[2];                /* workers hold [0]; EOF = we are gone */
    int stopping;
    apr_time_t stop_deadline;
    int retiring;               /* SIGTERM: serve our generation's last
                                 * children, then stop */
    apr_time_t retire_deadline;
    int orphaned;               /* the control socket reads EOF */
    apr_pool_t *scratch;        /* cleared every loop iteration */
    apr_time_t *backoff;        /* per pool: no spawn before this */
    int *boot_fails;            /* per pool: workers dead while starting */
    int *at_max;                /* per pool: requests wait with no room
                                 * for a worker (see pycgi_super_at_max) */
    int keep_root;              /* user pools: each worker drops to its
                                 * pool's identity itself */
} sv;

/* --- parent side ---------------------------------------------------- */

static apr_proc_t *pycgi_super_proc;
static pycgi_pool_table *pycgi_super_table;
static apr_pool_t *pycgi_super_pconf;
static server_rec *pycgi_super_server;

static apr_status_t pycgi_super_fork(void);

/* Supervisors of earlier generations that may still be finishing (their
 * workers serve what the old children send).  They are the parent's
 * children: each generation registers them again, so that the MPM
 * reaps them as ours (no "long lost child" warning).  Process-lifetime
 * memory: the module itself is unloaded on restart. */
#define PYCGI_SUPER_OLD_MAX 16
typedef struct {
    pid_t old[PYCGI_SUPER_OLD_MAX];
} pycgi_super_retained;

static pycgi_super_retained *pycgi_super_kept(void)
{
    return ap_retained_data_get("pycgi_super")
           ? ap_retained_data_get("pycgi_super")
           : ap_retained_data_create("pycgi_super",
                                     sizeof(pycgi_super_retained));
}

static void pycgi_super_forget_old(pid_t pid)
{
    pycgi_super_retained *k = pycgi_super_kept();
    int i;

    for (i = 0; i < PYCGI_SUPER_OLD_MAX; i++) {
        if (k->old[i] == pid) {
            k->old[i] = 0;
        }
    }
}

static void pycgi_super_maint_old(int reason, void *data, apr_wait_t status)
{
    apr_proc_t *proc = data;

    (void)status;
    if (reason == APR_OC_REASON_DEATH || reason == APR_OC_REASON_LOST) {
        apr_proc_other_child_unregister(data);
        pycgi_super_forget_old(proc->pid);
    }
    else if (reason == APR_OC_REASON_RESTART) {
        apr_proc_other_child_unregister(data);
    }
    /* UNREGISTER: pconf is going; the next generation registers it. */
}

static void pycgi_super_adopt_old(void)
{
    pycgi_super_retained *k = pycgi_super_kept();
    int i;

    for (i = 0; i < PYCGI_SUPER_OLD_MAX; i++) {
        if (k->old[i] > 0) {
            apr_proc_t *proc = apr_pcalloc(pycgi_super_pconf, sizeof(*proc));

            proc->pid = k->old[i];
            apr_proc_other_child_register(proc, pycgi_super_maint_old, proc,
                                          NULL, pycgi_super_pconf);
        }
    }
}

static void pycgi_super_maint(int reason, void *data, apr_wait_t status)
{
    apr_proc_t *proc = data;
    int mpm_state;

    (void)status;
    switch (reason) {
    case APR_OC_REASON_DEATH:
    case APR_OC_REASON_LOST:
        apr_proc_other_child_unregister(data);
        if (ap_mpm_query(AP_MPMQ_MPM_STATE, &mpm_state) == APR_SUCCESS
            && mpm_state != AP_MPMQ_STOPPING) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, pycgi_super_server,
                         PYCGI_LOGNO(0960) "daemon supervisor (pid %ld) "
                         "died; starting another", (long)proc->pid);
            pycgi_super_fork();
        }
        break;
    case APR_OC_REASON_RESTART:
        apr_proc_other_child_unregister(data);
        break;
    case APR_OC_REASON_UNREGISTER:
        /* pconf is going (stop, restart): so is this generation's
         * supervisor.  Its workers finish the request in hand. */
        kill(proc->pid, SIGTERM);
        {
            pycgi_super_retained *k = pycgi_super_kept();
            int i;

            for (i = 0; i < PYCGI_SUPER_OLD_MAX; i++) {
                if (!k->old[i]) {
                    k->old[i] = proc->pid;
                    break;
                }
            }
        }
        break;
    }
}

/* --- supervisor side -------------------------------------------------- */

static void pycgi_super_on_signal(int sig)
{
    unsigned char c = (unsigned char)sig;
    int saved = errno;

    if (write(sv.sigpipe[1], &c, 1) < 0) {
        /* full: a wake-up is already pending */
    }
    errno = saved;
}

/* Log a worker's complete lines ("LEVEL text"), keep a partial one. */
static void pycgi_super_log_lines(pycgi_super_worker *w, int eof)
{
    pycgi_pool *p = &sv.t->pools[w->pool];
    char *start = w->logbuf, *nl;
    apr_size_t left = w->loglen;

    for (;;) {
        int level = APLOG_ERR;
        char *text;
        apr_size_t len;

        nl = memchr(start, '\n', left);
        if (!nl) {
            if (!eof && left < sizeof(w->logbuf) - 1) {
                break;
            }
            if (!left) {
                break;
            }
            nl = start + left;  /* an over-long or final partial line */
        }
        len = nl - start;
        start[len] = '\0';
        text = start;
        if (!strncmp(text, "error ", 6)) { level = APLOG_ERR; text += 6; }
        else if (!strncmp(text, "warning ", 8)) { level = APLOG_WARNING; text += 8; }
        else if (!strncmp(text, "notice ", 7)) { level = APLOG_NOTICE; text += 7; }
        else if (!strncmp(text, "info ", 5)) { level = APLOG_INFO; text += 5; }
        else if (!strncmp(text, "debug ", 6)) { level = APLOG_DEBUG; text += 6; }
        if (*text) {
            ap_log_error(APLOG_MARK, level, 0, sv.s, "daemon worker %ld "
                         "(pool %s): %s", (long)w->pid, p->name,
                         ap_escape_logitem(sv.scratch, text));
        }
        if (nl == start + left) {
            left = 0;
            break;
        }
        left -= len + 1;
        start = nl + 1;
    }
    memmove(w->logbuf, start, left);
    w->loglen = left;
}

static void pycgi_super_read_log(pycgi_super_worker *w)
{
    for (;;) {
        ssize_t n = read(w->logfd, w->logbuf + w->loglen,
                         sizeof(w->logbuf) - 1 - w->loglen);

        if (n > 0) {
            w->loglen += n;
            pycgi_super_log_lines(w, 0);
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n == 0) {
            pycgi_super_log_lines(w, 1);
            close(w->logfd);
            w->logfd = -1;
        }
        return;
    }
}

/* Live workers of a pool in slot state `state`, or in any state for
 * PYCGI_SUPER_ANY (no live worker's slot is FREE). */
#define PYCGI_SUPER_ANY PYCGI_SLOT_FREE

static int pycgi_super_count(int pool, uint32_t state)
{
    int i, n = 0;

    for (i = 0; i < sv.nw; i++) {
        if (sv.w[i].pid && sv.w[i].pool == pool
            && (state == PYCGI_SUPER_ANY
                || sv.t->pools[pool].shm->slot[sv.w[i].slot].state == state)) {
            n++;
        }
    }
    return n;
}

/* The worker program's command line, or NULL when a user pool's
 * cannot be made. */
static char **pycgi_super_argv(apr_pool_t *p, pycgi_pool *pool, int slot)
{
    apr_array_header_t *a = apr_array_make(p, 20, sizeof(char *));
    int maxreq = pool->max_requests;

    /* Jitter, so that workers started together do not all retire
     * together: up to a tenth fewer requests. */
    if (maxreq > 10) {
        apr_uint32_t r;

        apr_generate_random_bytes((unsigned char *)&r, sizeof(r));
        maxreq -= (int)(r % (apr_uint32_t)(maxreq / 10));
    }
#define PUSH(x) (APR_ARRAY_PUSH(a, const char *) = (x))
    PUSH("pycgi-worker");
    PUSH("--pool");
    PUSH(pool->name);
    PUSH("--slot");
    PUSH(apr_itoa(p, slot));
    PUSH("--max-requests");
    PUSH(apr_itoa(p, maxreq));
    PUSH("--memory-mb");
    PUSH(apr_itoa(p, pool->memory_mb));
    PUSH("--idle-timeout");
    PUSH(apr_itoa(p, pool->idle_timeout));
    PUSH("--python");
    PUSH(PYCGI_PYTHON_EXECUTABLE);
    if (sv.t->preload && sv.t->preload->nelts) {
        PUSH("--preload");
        PUSH(apr_array_pstrcat(p, sv.t->preload, ','));
    }
    if (sv.t->compat_first) {
        PUSH("--compat-first");
    }
    if (pool->user) {
        /* The worker applies suexec's rules again itself, as its user:
         * the user's document root and suexec's PATH. */
        PUSH("--suexec-root");
        PUSH(apr_pstrdup(p, pool->stats->docroot));
        PUSH("--suexec-path");
        PUSH(pycgi_suexec_settings()->safe_path);
    }
    PUSH(NULL);
#undef PUSH
    return (char **)a->elts;
}

/* A worker that retired in use (a limit reached, or state its script
 * left) has its successor started at once, not when a request next
 * finds no idle worker: the pool keeps the size its load gave it.
 * Otherwise the pool shrinks by one at every retirement while its idle
 * workers keep other client connections, and the client connection
 * that lost its worker takes another's, whose client takes the next
 * one's (measured under event: 8 keep-alive clients, workers retiring
 * every 10,000 requests, the pool down to 5 workers, 12% of requests on
 * new connections).  Idle workers still end by PyCGIDaemonIdleTimeout. */
static int pycgi_super_replaces(uint32_t reason)
{
    switch (reason) {
    case PYCGI_RETIRE_MAX_REQUESTS:
    case PYCGI_RETIRE_MEMORY:
    case PYCGI_RETIRE_THREADS:
    case PYCGI_RETIRE_SIGNALS:
    case PYCGI_RETIRE_PROCESS:
    case PYCGI_RETIRE_CHILDREN:
    case PYCGI_RETIRE_STDIO:
        return 1;
    default:
        return 0;
    }
}

static void pycgi_super_spawn(int pool)
{
    pycgi_pool *p = &sv.t->pools[pool];
    pycgi_super_worker *w = NULL;
    int i, slot = -1, logp[2];
    pycgi_ident ids;
    char **argv;
    pid_t pid;

    /* A user pool without its user never starts a worker; with user
     * pools, the supervisor is root and every worker drops to its own
     * identity (without them, the supervisor dropped already). */
    memset(&ids, 0, sizeof(ids));
    if ((p->user || sv.keep_root)
        && !pycgi_ident_of_pool(sv.scratch, p, &ids)) {
        return;
    }
    for (i = 0; i < sv.nw && !w; i++) {
        if (!sv.w[i].pid) {
            w = &sv.w[i];
        }
    }
    for (i = 0; i < (int)p->shm->nslots && i < p->max_workers; i++) {
        int32_t owner = p->shm->slot[i].pid;

        /* A slot is free when empty, or when its pid is no worker of
         * ours any more (a previous supervisor's, now gone). */
        if (!owner || (kill(owner, 0) < 0 && errno == ESRCH)) {
            int j, mine = 0;

            for (j = 0; j < sv.nw; j++) {
                if (sv.w[j].pid && sv.w[j].pool == pool
                    && sv.w[j].slot == i) {
                    mine = 1;
                }
            }
            if (!mine) {
                slot = i;
                break;
            }
        }
    }
    if (!w || slot < 0
        || !(argv = pycgi_super_argv(sv.scratch, p, slot))
        || pipe2(logp, O_CLOEXEC) < 0) {
        return;
    }
    memset(&p->shm->slot[slot], 0, sizeof(p->shm->slot[slot]));
    p->shm->slot[slot].state = PYCGI_SLOT_STARTING;
    p->shm->slot[slot].since = apr_time_now();

    pid = fork();
    if (pid == 0) {
        /* The worker: fds 0-5 as pycgi_proto.h says, nothing else. */
        int devnull = open("/dev/null", O_RDWR);
        sigset_t none;
        int sig;

        if (devnull < 0
            || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0
            || dup2(logp[1], 2) < 0
            || dup2(p->listen_fd, PYCGI_WORKER_FD_LISTEN) < 0
            || dup2(p->shm_fd, PYCGI_WORKER_FD_SHM) < 0
            || dup2(sv.life[0], PYCGI_WORKER_FD_LIFE) < 0) {
            _exit(127);
        }
        closefrom(PYCGI_WORKER_FD_LIFE + 1);
        for (sig = 1; sig < NSIG; sig++) {
            signal(sig, SIG_DFL);
        }
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (sv.keep_root) {
            pycgi_ident_take(&ids);
        }
        execve(sv.t->worker_path, argv, pycgi_super_worker_env);
        {
            char msg[512];
            int len = snprintf(msg, sizeof(msg), "error PYCGI0961: cannot "
                               "execute %s: %s\n", sv.t->worker_path,
                               strerror(errno));

            if (len > 0 && write(2, msg, (size_t)len) < 0) {
                _exit(127);
            }
        }
        _exit(127);
    }
    close(logp[1]);
    if (pid < 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, sv.s, PYCGI_LOGNO(0962)
                     "cannot fork a worker for daemon pool %s", p->name);
        close(logp[0]);
        p->shm->slot[slot].state = PYCGI_SLOT_FREE;
        return;
    }
    p->shm->slot[slot].pid = pid;
    memset(w, 0, sizeof(*w));
    w->pid = pid;
    w->pool = pool;
    w->slot = slot;
    w->logfd = logp[0];
    w->started = apr_time_now();
    fcntl(w->logfd, F_SETFL, fcntl(w->logfd, F_GETFL) | O_NONBLOCK);
    sv.live++;
    apr_atomic_inc32(&p->stats->workers);
    __atomic_add_fetch(&p->stats->spawns, 1, __ATOMIC_RELAXED);
    /* Started for whatever reason (a request found no idle worker), it
     * is the successor of one retiring worker of the pool not reaped
     * yet: that one's reaping starts no other. */
    for (i = 0; i < sv.nw; i++) {
        pycgi_super_worker *o = &sv.w[i];

        if (o != w && o->pid && o->pool == pool && !o->succeeded
            && p->shm->slot[o->slot].pid == o->pid
            && p->shm->slot[o->slot].state == PYCGI_SLOT_EXITING
            && pycgi_super_replaces(p->shm->slot[o->slot].retire_reason)) {
            o->succeeded = 1;
            break;
        }
    }
    ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, sv.s, PYCGI_LOGNO(0963)
                 "daemon pool %s: started worker %ld (slot %d)", p->name,
                 (long)pid, slot);
}

/* Workers of a pool that count against its maximum: not those that
 * are leaving. */
static int pycgi_super_active(int pool)
{
    return pycgi_super_count(pool, PYCGI_SUPER_ANY)
           - pycgi_super_count(pool, PYCGI_SLOT_EXITING);
}

/* Room for one more worker of `pool`: below its maximum and the
 * server's. */
static int pycgi_super_room(int pool)
{
    return pycgi_super_active(pool) < sv.t->pools[pool].max_workers
           && sv.live < sv.nw;
}

/* Whether requests of `pool` wait with no room to start a worker for
 * them.  The status page's max_reached counts such spells: one begins
 * when a request finds the pool at its maximum, or when requests that
 * were to be served by workers still starting turn out to be more than
 * the workers (a burst: the children's asks came while workers started,
 * and the pool filled up meanwhile); it ends when the pool has room or
 * nothing waits. */
static void pycgi_super_at_max(int pool, int blocked)
{
    if (blocked && !sv.at_max[pool]) {
        __atomic_add_fetch(&sv.t->pools[pool].stats->max_reached, 1,
                           __ATOMIC_RELAXED);
    }
    sv.at_max[pool] = blocked;
}

/* Requests wait with no worker free or on its way (a burst, or the
 * worker they waited for retired): start workers for them. */
static void pycgi_super_rebalance(void)
{
    int i;

    if (sv.stopping) {
        return;
    }
    for (i = 0; i < sv.t->npools; i++) {
        pycgi_pool *p = &sv.t->pools[i];
        apr_uint32_t queued = p->stats->queued;
        int ready, room;

        if (!queued) {
            pycgi_super_at_max(i, 0);
            continue;
        }
        if (apr_time_now() < sv.backoff[i]) {
            continue;
        }
        ready = pycgi_super_count(i, PYCGI_SLOT_IDLE)
                + pycgi_super_count(i, PYCGI_SLOT_STARTING);
        room = p->max_workers - pycgi_super_active(i);
        while ((apr_uint32_t)ready < queued && room > 0 && sv.live < sv.nw) {
            pycgi_super_spawn(i);
            ready++;
            room--;
        }
        pycgi_super_at_max(i, (apr_uint32_t)ready < queued);
    }
}

/* Does any pool have requests waiting? */
static int pycgi_super_waiting(void)
{
    int i;

    for (i = 0; i < sv.t->npools; i++) {
        if (sv.t->pools[i].stats->queued) {
            return 1;
        }
    }
    return 0;
}

/* A child asked for a worker: spawn one if the pool may grow. */
static void pycgi_super_want(int pool)
{
    pycgi_pool *p = &sv.t->pools[pool];
    int starting = pycgi_super_count(pool, PYCGI_SLOT_STARTING);
    apr_uint32_t queued = p->stats->queued;

    if (sv.stopping || apr_time_now() < sv.backoff[pool]) {
        return;
    }
    /* Workers already booting will take the waiting requests. */
    if (starting > 0 && (apr_uint32_t)starting >= queued) {
        return;
    }
    if (!pycgi_super_room(pool)) {
        pycgi_super_at_max(pool, 1);
        return;
    }
    pycgi_super_spawn(pool);
}

/* A child asks for a user pool for a suexec identity.  Checked again
 * here (suexec's uid/gid minimums, the user exists): a pool gets an
 * identity once and keeps it for the life of the table. */
static void pycgi_super_assign(const pycgi_ctl_msg *m)
{
    const char *user, *root;
    int i, free_pool = -1, nfree = 0;

    if (!sv.keep_root) {
        return;
    }
    for (i = sv.t->first_user; i < sv.t->first_user + sv.t->nuser; i++) {
        pycgi_pool_stats *ps = sv.t->pools[i].stats;

        if (!__atomic_load_n(&ps->assigned, __ATOMIC_ACQUIRE)) {
            if (free_pool < 0) {
                free_pool = i;
            }
            nfree++;
        }
        else if (ps->uid == m->uid && ps->gid == m->gid
                 && ps->userdir == (m->userdir != 0)) {
            return;     /* another child asked first */
        }
    }
    if (!(user = pycgi_ident_acceptable(sv.scratch, (uid_t)m->uid,
                                        (gid_t)m->gid))
        || !(root = pycgi_ident_docroot(sv.scratch, (uid_t)m->uid,
                                        m->userdir != 0))
        || strlen(root) >= sizeof(sv.t->pools[0].stats->docroot)) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, 0, sv.s, PYCGI_LOGNO(0974)
                     "no user pool for uid %lu gid %lu: not an identity "
                     "suexec would take", (unsigned long)m->uid,
                     (unsigned long)m->gid);
        return;
    }
    if (free_pool < 0) {
        return;     /* children stop asking once all are taken */
    }
    {
        pycgi_pool *p = &sv.t->pools[free_pool];

        p->stats->uid = m->uid;
        p->stats->gid = m->gid;
        p->stats->userdir = m->userdir != 0;
        /* httpd children check scripts against it (the identity being
         * known good), and the workers get it on their command line. */
        apr_cpystrn(p->stats->docroot, root, sizeof(p->stats->docroot));
        __atomic_store_n(&p->stats->assigned, 1, __ATOMIC_RELEASE);
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, sv.s, PYCGI_LOGNO(0972)
                     "daemon pool %s now runs as %s (uid %lu, gid %lu%s)",
                     p->name, ap_escape_logitem(sv.scratch, user),
                     (unsigned long)m->uid, (unsigned long)m->gid,
                     m->userdir ? ", ~user" : "");
        if (nfree == 1) {
            ap_log_error(APLOG_MARK, APLOG_NOTICE, 0, sv.s,
                         PYCGI_LOGNO(0973) "all %d user pools are taken: "
                         "scripts of further suexec users run exec (raise "
                         "PyCGIDaemonUserPools)", sv.t->nuser);
        }
        pycgi_super_want(free_pool);
    }
}

static void pycgi_super_stop(void);

static void pycgi_super_ctl(void)
{
    pycgi_ctl_msg m;
    ssize_t n;

    while ((n = recv(sv.t->ctl_recv, &m, sizeof(m), MSG_DONTWAIT)) >= 0) {
        int i;

        if (n == 0) {
            /* Every httpd child of our generation has gone (and the
             * parent let go of its end at restart or stop). */
            if (sv.retiring) {
                pycgi_super_stop();
            }
            else {
                sv.orphaned = 1;
            }
            return;
        }
        if (n == sizeof(m) && m.op == PYCGI_CTL_ASSIGN) {
            pycgi_super_assign(&m);
            continue;
        }
        if (n != sizeof(m) || m.pool >= (apr_uint32_t)sv.t->npools) {
            continue;
        }
        if (m.op == PYCGI_CTL_SPAWN) {
            pycgi_super_want((int)m.pool);
        }
        else if (m.op == PYCGI_CTL_KILL) {
            /* Only a worker of ours, of that pool. */
            for (i = 0; i < sv.nw; i++) {
                pycgi_super_worker *w = &sv.w[i];

                if (w->pid && w->pid == m.pid && w->pool == (int)m.pool
                    && !w->killed) {
                    w->killed = 1;
                    w->kill_at = apr_time_now() + PYCGI_SUPER_KILL_GRACE;
                    kill(w->pid, SIGTERM);
                    __atomic_add_fetch(&sv.t->pools[w->pool].stats->kills, 1,
                                       __ATOMIC_RELAXED);
                }
            }
        }
    }
}

static void pycgi_super_replace(int pool)
{
    /* Not for a generation that only serves its last children (a
     * graceful restart): the new one has pools of its own. */
    if (sv.stopping || sv.retiring || sv.orphaned
        || apr_time_now() < sv.backoff[pool] || !pycgi_super_room(pool)) {
        return;
    }
    pycgi_super_spawn(pool);
}

static void pycgi_super_reaped(pycgi_super_worker *w, int status)
{
    pycgi_pool *p = &sv.t->pools[w->pool];
    pycgi_pool_slot *slot = &p->shm->slot[w->slot];
    uint32_t state = slot->state, reason = slot->retire_reason;
    char script[sizeof(slot->script)];

    memcpy(script, slot->script, sizeof(script));
    script[sizeof(script) - 1] = '\0';
    if (w->logfd >= 0) {
        pycgi_super_read_log(w);
        if (w->logfd >= 0) {
            close(w->logfd);
        }
    }
    if (WIFSIGNALED(status) && !w->killed && !sv.stopping) {
        /* A crash: the request's client got 500 (the httpd child
         * logged it too); this line names the signal. */
        __atomic_add_fetch(&p->stats->crashes, 1, __ATOMIC_RELAXED);
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, sv.s, PYCGI_LOGNO(0964)
                     "daemon worker %ld (pool %s) killed by signal %d%s%s%s",
                     (long)w->pid, p->name, WTERMSIG(status),
                     state == PYCGI_SLOT_BUSY ? " while running " : "",
                     state == PYCGI_SLOT_BUSY
                     ? ap_escape_logitem(sv.scratch, script) : "",
                     WCOREDUMP(status) ? " (core dumped)" : "");
    }
    else if (w->killed) {
        ap_log_error(APLOG_MARK, APLOG_INFO, 0, sv.s, PYCGI_LOGNO(0965)
                     "daemon worker %ld (pool %s) ended after its script "
                     "timed out", (long)w->pid, p->name);
    }
    else {
        if (reason == PYCGI_RETIRE_NONE || reason >= PYCGI_RETIRE_REASONS) {
            reason = PYCGI_RETIRE_ERROR;
        }
        __atomic_add_fetch(&p->stats->retired[reason], 1, __ATOMIC_RELAXED);
        ap_log_error(APLOG_MARK, APLOG_DEBUG, 0, sv.s, PYCGI_LOGNO(0971)
                     "daemon worker %ld (pool %s) retired: %s",
                     (long)w->pid, p->name, pycgi_pool_retire_name(reason));
        if (WIFEXITED(status) && WEXITSTATUS(status) != 0
            && reason == PYCGI_RETIRE_ERROR) {
            ap_log_error(APLOG_MARK, APLOG_ERR, 0, sv.s, PYCGI_LOGNO(0966)
                         "daemon worker %ld (pool %s) exited with status %d",
                         (long)w->pid, p->name, WEXITSTATUS(status));
        }
    }
    /* A worker that dies before it ever served: back off, so that a
     * broken installation does not fork in a loop. */
    if (state == PYCGI_SLOT_STARTING && !sv.stopping) {
        int fails = ++sv.boot_fails[w->pool];

        sv.backoff[w->pool] = apr_time_now()
                              + apr_time_from_sec(fails > 5 ? 30
                                                  : 1 << (fails - 1));
        apr_atomic_set32(&p->stats->boot_failing, (apr_uint32_t)fails);
        ap_log_error(APLOG_MARK, APLOG_ERR, 0, sv.s, PYCGI_LOGNO(0967)
                     "daemon worker %ld (pool %s) failed to start; next "
                     "attempt in %d s", (long)w->pid, p->name,
                     fails > 5 ? 30 : 1 << (fails - 1));
    }
    else {
        sv.boot_fails[w->pool] = 0;
        apr_atomic_set32(&p->stats->boot_failing, 0);
    }
    if (slot->pid == w->pid) {
        /* Its kept connection is gone with it: no claim may succeed. */
        __atomic_store_n(&slot->claim, 0, __ATOMIC_SEQ_CST);
        slot->state = PYCGI_SLOT_FREE;
        slot->pid = 0;
    }
    w->pid = 0;
    sv.live--;
    apr_atomic_dec32(&p->stats->workers);
    if (WIFEXITED(status) && !w->killed && !w->succeeded
        && pycgi_super_replaces(reason)) {
        pycgi_super_replace(w->pool);
    }
}

static void pycgi_super_reap(void)
{
    int status, i;
    pid_t pid;

    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (i = 0; i < sv.nw; i++) {
            if (sv.w[i].pid == pid) {
                pycgi_super_reaped(&sv.w[i], status);
                break;
            }
        }
    }
}

static void pycgi_super_stop(void)
{
    int i;

    if (sv.stopping) {
        return;
    }
    sv.stopping = 1;
    sv.stop_deadline = apr_time_now() + PYCGI_SUPER_STOP_GRACE;
    /* Idle workers see EOF at once and exit; busy ones after their
     * request. */
    close(sv.life[1]);
    sv.life[1] = -1;
    for (i = 0; i < sv.t->npools; i++) {
        close(sv.t->pools[i].listen_fd);
    }
}

static void pycgi_super_timers(void)
{
    apr_time_t now = apr_time_now();
    int i;

    for (i = 0; i < sv.nw; i++) {
        pycgi_super_worker *w = &sv.w[i];

        if (!w->pid) {
            continue;
        }
        if (w->kill_at && now >= w->kill_at) {
            kill(w->pid, SIGKILL);
            w->kill_at = 0;
        }
        if (sv.stopping && now >= sv.stop_deadline && !w->killed) {
            w->killed = 1;
            w->kill_at = now + PYCGI_SUPER_KILL_GRACE;
            kill(w->pid, SIGTERM);
        }
    }
}

static void pycgi_super_main(void)
{
    struct pollfd *pfd;
    pycgi_super_worker **who;
    int i;

    pfd = calloc(sv.nw + 2, sizeof(*pfd));
    who = calloc(sv.nw + 2, sizeof(*who));
    if (!pfd || !who) {
        exit(1);
    }
    while (!sv.stopping || sv.live > 0) {
        int n = 0, rc;
        /* While requests wait, look again soon: the worker they wait
         * for may retire (see pycgi_super_rebalance). */
        apr_time_t wait = pycgi_super_waiting() ? apr_time_from_msec(50)
                                                : apr_time_from_sec(1);

        apr_pool_clear(sv.scratch);
        pfd[n].fd = sv.sigpipe[0];
        pfd[n++].events = POLLIN;
        if (!sv.stopping && !sv.orphaned) {
            pfd[n].fd = sv.t->ctl_recv;
            pfd[n++].events = POLLIN;
        }
        for (i = 0; i < sv.nw; i++) {
            if (sv.w[i].pid && sv.w[i].logfd >= 0) {
                who[n] = &sv.w[i];
                pfd[n].fd = sv.w[i].logfd;
                pfd[n++].events = POLLIN;
            }
            if (sv.w[i].pid && sv.w[i].kill_at) {
                apr_time_t left = sv.w[i].kill_at - apr_time_now();

                wait = left < wait ? (left > 0 ? left : 0) : wait;
            }
        }
        rc = poll(pfd, n, (int)apr_time_as_msec(wait) + 1);
        if (rc < 0 && errno != EINTR) {
            break;
        }
        for (i = 0; rc > 0 && i < n; i++) {
            if (!pfd[i].revents) {
                continue;
            }
            if (pfd[i].fd == sv.sigpipe[0]) {
                unsigned char sigs[64];
                ssize_t got = read(sv.sigpipe[0], sigs, sizeof(sigs));
                ssize_t k;

                for (k = 0; k < got; k++) {
                    if (sigs[k] == SIGTERM || sigs[k] == SIGHUP) {
                        /* A second one, or nobody left to serve: stop
                         * now.  Otherwise a graceful restart: children
                         * of our generation may still send requests. */
                        if (sv.retiring || sv.orphaned) {
                            pycgi_super_stop();
                        }
                        sv.retiring = 1;
                        sv.retire_deadline = apr_time_now()
                                             + PYCGI_SUPER_RETIRE_MAX;
                    }
                }
                pycgi_super_reap();
            }
            else if (!sv.stopping && pfd[i].fd == sv.t->ctl_recv) {
                pycgi_super_ctl();
            }
            else if (who[i] && who[i]->pid && who[i]->logfd == pfd[i].fd) {
                pycgi_super_read_log(who[i]);
            }
        }
        pycgi_super_timers();
        pycgi_super_rebalance();
        if (sv.retiring && apr_time_now() >= sv.retire_deadline) {
            pycgi_super_stop();
        }
    }
    /* The last worker is gone: so are the sockets (see pycgi_pool.c). */
    for (i = 0; i < sv.t->npools; i++) {
        unlink(sv.t->pools[i].sockpath);
    }
    rmdir(sv.t->dir);
    exit(0);
}

/* In the forked process: become the supervisor. */
static void pycgi_super_become(void)
{
    struct sigaction sa;
    sigset_t none;
    int sig;

    setpgid(0, 0);  /* httpd's process-group signals are not for us */
    prctl(PR_SET_NAME, "pycgi-supervise");
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    ap_close_listeners();
    for (sig = 1; sig < NSIG; sig++) {
        signal(sig, SIG_DFL);
    }
    signal(SIGPIPE, SIG_IGN);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = pycgi_super_on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(SIGCHLD, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);

    /* With user pools the supervisor stays root: it starts processes of
     * other users, each of which drops to its own before exec
     * (pycgi_ident_take).  Otherwise it becomes User at once. */
    sv.keep_root = pycgi_super_table->nuser > 0 && geteuid() == 0;
    if (!sv.keep_root
        && ap_run_drop_privileges(pycgi_super_pconf, pycgi_super_server)
           != 0) {
        ap_log_error(APLOG_MARK, APLOG_ALERT, 0, pycgi_super_server,
                     PYCGI_LOGNO(0968) "daemon supervisor cannot drop "
                     "privileges; exiting");
        exit(1);
    }
    prctl(PR_SET_DUMPABLE, 0);
    sv.t = pycgi_super_table;
    /* Only httpd children hold the sending end: when the last of them
     * is gone, the control socket reads EOF. */
    close(sv.t->ctl_send);
    sv.s = pycgi_super_server;
    sv.nw = sv.t->total_workers;
    sv.w = calloc(sv.nw, sizeof(*sv.w));
    sv.backoff = calloc(sv.t->npools, sizeof(*sv.backoff));
    sv.boot_fails = calloc(sv.t->npools, sizeof(*sv.boot_fails));
    sv.at_max = calloc(sv.t->npools, sizeof(*sv.at_max));
    if (!sv.w || !sv.backoff || !sv.boot_fails || !sv.at_max
        || apr_pool_create(&sv.scratch, NULL) != APR_SUCCESS) {
        exit(1);
    }
    pycgi_super_worker_env = pycgi_super_make_env(pycgi_super_pconf);
    for (sig = 0; sig < sv.t->npools; sig++) {
        /* Slots of a previous supervisor's workers that are gone. */
        pycgi_pool *p = &sv.t->pools[sig];
        uint32_t i;

        for (i = 0; i < p->shm->nslots; i++) {
            int32_t pid = p->shm->slot[i].pid;

            if (pid && kill(pid, 0) < 0 && errno == ESRCH) {
                __atomic_store_n(&p->shm->slot[i].claim, 0,
                                 __ATOMIC_SEQ_CST);
                p->shm->slot[i].pid = 0;
                p->shm->slot[i].state = PYCGI_SLOT_FREE;
            }
        }
        p->stats->workers = 0;
    }
    ap_log_error(APLOG_MARK, APLOG_INFO, 0, sv.s, PYCGI_LOGNO(0969)
                 "daemon supervisor started: %d pool(s) (%d for suexec "
                 "users), at most %d workers, sockets in %s", sv.t->npools,
                 sv.t->nuser, sv.nw, sv.t->dir);
    pycgi_super_main();
}

static apr_status_t pycgi_super_fork(void)
{
    apr_proc_t *proc = apr_pcalloc(pycgi_super_pconf, sizeof(*proc));
    int life[2], sig[2];

    if (pipe2(life, O_CLOEXEC) < 0) {
        return errno;
    }
    if (pipe2(sig, O_CLOEXEC | O_NONBLOCK) < 0) {
        close(life[0]);
        close(life[1]);
        return errno;
    }
    proc->pid = fork();
    if (proc->pid == 0) {
        sv.life[0] = life[0];
        sv.life[1] = life[1];
        sv.sigpipe[0] = sig[0];
        sv.sigpipe[1] = sig[1];
        pycgi_super_become();
        exit(0);
    }
    close(life[0]);
    close(life[1]);
    close(sig[0]);
    close(sig[1]);
    if (proc->pid < 0) {
        ap_log_error(APLOG_MARK, APLOG_ERR, errno, pycgi_super_server,
                     PYCGI_LOGNO(0970) "cannot fork the daemon supervisor; "
                     "the daemon runner is unavailable");
        return APR_EGENERAL;
    }
    pycgi_super_proc = proc;
    apr_proc_other_child_register(proc, pycgi_super_maint, proc, NULL,
                                  pycgi_super_pconf);
    return APR_SUCCESS;
}

apr_status_t pycgi_super_start(apr_pool_t *pconf, server_rec *s,
                               pycgi_pool_table *t)
{
    pycgi_super_table = t;
    pycgi_super_pconf = pconf;
    pycgi_super_server = s;
    pycgi_super_adopt_old();
    return pycgi_super_fork();
}
