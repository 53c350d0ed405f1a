/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_status.c -- shared-memory counters and the status page.
 */
#include "pycgi_status.h"
#include "pycgi_pool.h"
#include "apr_shm.h"
#include "apr_atomic.h"
#include <unistd.h>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>

typedef struct {
    apr_uint32_t nslots;
    volatile apr_uint32_t recycles;
    /* Server-wide totals since start: they outlive retired children. */
    volatile apr_uint32_t exec_requests;
    volatile apr_uint32_t embedded_requests;
    volatile apr_uint32_t timeouts;
    apr_time_t created;
} pycgi_status_head;

static apr_shm_t *pycgi_status_shm;
static pycgi_status_head *pycgi_status_hdr;
static pycgi_status_slot *pycgi_status_slots;
static pycgi_status_slot *pycgi_status_me;

static apr_status_t pycgi_status_forget(void *unused)
{
    (void)unused;
    pycgi_status_shm = NULL;
    pycgi_status_hdr = NULL;
    pycgi_status_slots = NULL;
    return APR_SUCCESS;
}

apr_status_t pycgi_status_post_config(apr_pool_t *pconf, server_rec *s)
{
    int daemons = 0;
    apr_size_t size;
    apr_status_t rv;

    /* One slot per possible child process (a threaded child is one). */
    ap_mpm_query(AP_MPMQ_HARD_LIMIT_DAEMONS, &daemons);
    if (daemons <= 0) {
        daemons = 256;
    }
    size = sizeof(pycgi_status_head) + daemons * sizeof(pycgi_status_slot);
    rv = apr_shm_create(&pycgi_status_shm, size, NULL, pconf);
    if (rv != APR_SUCCESS) {
        ap_log_error(APLOG_MARK, APLOG_WARNING, rv, s, PYCGI_LOGNO(0701)
                     "cannot create the status segment; pycgi-status will "
                     "show this process only");
        pycgi_status_shm = NULL;
        return APR_SUCCESS;
    }
    pycgi_status_hdr = apr_shm_baseaddr_get(pycgi_status_shm);
    memset(pycgi_status_hdr, 0, size);
    pycgi_status_hdr->nslots = (apr_uint32_t)daemons;
    pycgi_status_hdr->created = apr_time_now();
    pycgi_status_slots = (pycgi_status_slot *)(pycgi_status_hdr + 1);
    apr_pool_cleanup_register(pconf, NULL, pycgi_status_forget,
                              apr_pool_cleanup_null);
    return APR_SUCCESS;
}

/* The calling thread, for the claim on a slot's `current`: asked of
 * the kernel once per thread (two system calls fewer per request), and
 * again in a forked child, whose one thread is not the parent's. */
static __thread apr_uint32_t pycgi_status_my_tid;

static void pycgi_status_forget_tid(void)
{
    pycgi_status_my_tid = 0;
}

static apr_uint32_t pycgi_status_tid(void)
{
    if (!pycgi_status_my_tid) {
        pycgi_status_my_tid = (apr_uint32_t)syscall(SYS_gettid);
    }
    return pycgi_status_my_tid;
}

void pycgi_status_child_init(void)
{
    apr_uint32_t me = (apr_uint32_t)getpid(), i;

    if (!pycgi_status_hdr) {
        return;
    }
    pthread_atfork(NULL, NULL, pycgi_status_forget_tid);
    /* Claim a free slot, or one whose owner has died. */
    for (i = 0; i < pycgi_status_hdr->nslots; i++) {
        pycgi_status_slot *s = &pycgi_status_slots[i];
        apr_uint32_t owner = s->pid;

        if (owner && kill((pid_t)owner, 0) == 0) {
            continue;
        }
        if (apr_atomic_cas32(&s->pid, me, owner) == owner) {
            memset((char *)s + sizeof(s->pid), 0, sizeof(*s) - sizeof(s->pid));
            s->started = apr_time_now();
            pycgi_status_me = s;
            return;
        }
    }
}

pycgi_status_slot *pycgi_status_slot_mine(void)
{
    return pycgi_status_me;
}

void pycgi_status_begin(request_rec *r, int count, const char *runner)
{
    pycgi_status_slot *s = pycgi_status_me;

    if (!s) {
        return;
    }
    /* Several threads of this child may count at once (event). */
    if (count == PYCGI_COUNT_EMBEDDED) {
        apr_atomic_inc64(&s->embedded_requests);
        apr_atomic_inc32(&pycgi_status_hdr->embedded_requests);
    }
    else if (count == PYCGI_COUNT_EXEC) {
        apr_atomic_inc64(&s->exec_requests);
        apr_atomic_inc32(&pycgi_status_hdr->exec_requests);
    }
    /* The name shown is that of a script that runs: the first to start
     * while none ran claims it, and only it clears it again. */
    apr_atomic_inc32(&s->running);
    if (apr_atomic_cas32(&s->current_tid, pycgi_status_tid(), 0) == 0) {
        apr_cpystrn(s->runner, runner, sizeof(s->runner));
        apr_cpystrn(s->current, r->filename, sizeof(s->current));
    }
}

void pycgi_status_end(void)
{
    pycgi_status_slot *s = pycgi_status_me;
    apr_uint32_t me = pycgi_status_tid();

    if (!s) {
        return;
    }
    if (s->current_tid == me) {
        s->runner[0] = '\0';
        s->current[0] = '\0';
        apr_atomic_cas32(&s->current_tid, 0, me);
    }
    apr_atomic_dec32(&s->running);
}

void pycgi_status_timeout(void)
{
    if (pycgi_status_hdr) {
        apr_atomic_inc32(&pycgi_status_hdr->timeouts);
    }
}

void pycgi_status_recycled(void)
{
    if (pycgi_status_hdr) {
        apr_atomic_inc32(&pycgi_status_hdr->recycles);
    }
}

/* Resident memory of a process in kB, from /proc; -1 if unknown. */
static long pycgi_status_rss(request_rec *r, apr_uint32_t pid)
{
    apr_file_t *f;
    char buf[4096];
    apr_size_t len = sizeof(buf) - 1;
    const char *p;

    if (apr_file_open(&f, apr_psprintf(r->pool, "/proc/%u/status", pid),
                      APR_READ, APR_OS_DEFAULT, r->pool) != APR_SUCCESS) {
        return -1;
    }
    if (apr_file_read(f, buf, &len) != APR_SUCCESS) {
        len = 0;
    }
    apr_file_close(f);
    buf[len] = '\0';
    p = strstr(buf, "VmRSS:");
    return p ? atol(p + 6) : -1;
}

static const char *pycgi_status_slot_state(apr_uint32_t state)
{
    switch (state) {
    case PYCGI_SLOT_STARTING:
        return "starting";
    case PYCGI_SLOT_IDLE:
        return "idle";
    case PYCGI_SLOT_BUSY:
        return "busy";
    case PYCGI_SLOT_EXITING:
        return "exiting";
    default:
        return "free";
    }
}

/* Who a user pool's workers run as (written once by the supervisor). */
static void pycgi_status_identity(request_rec *r, const pycgi_pool *p,
                                  int autofmt)
{
    const pycgi_pool_stats *st = p->stats;
    char *user = NULL;

    if (!__atomic_load_n(&st->assigned, __ATOMIC_ACQUIRE)) {
        ap_rprintf(r, autofmt ? "UserPool: name=%s unassigned\n"
                              : "<p>User pool %s: not assigned yet.</p>\n",
                   ap_escape_html(r->pool, p->name));
        return;
    }
    if (apr_uid_name_get(&user, (apr_uid_t)st->uid, r->pool)
        != APR_SUCCESS) {
        user = "?";
    }
    if (autofmt) {
        ap_rprintf(r, "UserPool: name=%s user=%s uid=%u gid=%u userdir=%u\n",
                   ap_escape_logitem(r->pool, p->name),
                   ap_escape_logitem(r->pool, user), st->uid, st->gid,
                   st->userdir);
    }
    else {
        ap_rprintf(r, "<p>Runs as %s (uid %u, gid %u)%s.</p>\n",
                   ap_escape_html(r->pool, user), st->uid, st->gid,
                   st->userdir ? ", for ~user URLs" : "");
    }
}

/* The daemon pools: counters (ours) and worker slots (written by the
 * workers: copied, bounded and escaped before use). */
static void pycgi_status_pools(request_rec *r, int autofmt)
{
    pycgi_pool_table *t = pycgi_pool_table_get();
    apr_time_t now = apr_time_now();
    int i;
    apr_uint32_t k, j;

    if (!t) {
        ap_rputs(autofmt ? "DaemonPools: 0\n"
                         : "<p>The daemon runner is not available.</p>\n", r);
        return;
    }
    if (autofmt) {
        ap_rprintf(r, "DaemonPools: %d\nDaemonMaxTotal: %d\n", t->npools,
                   t->total_workers);
    }
    else {
        ap_rprintf(r, "<h2>Daemon pools</h2>\n<p>%d pool(s), at most %d "
                   "workers in all.</p>\n", t->npools, t->total_workers);
    }
    for (i = 0; i < t->npools; i++) {
        pycgi_pool *p = &t->pools[i];
        pycgi_pool_stats *st = p->stats;
        const char *retired = "";
        apr_uint32_t n = p->shm->nslots;
        apr_uint32_t failing = apr_atomic_read32(&st->boot_failing);

        for (k = 1; k < PYCGI_RETIRE_REASONS; k++) {
            if (st->retired[k]) {
                retired = apr_psprintf(r->pool, "%s%s%s=%" APR_UINT64_T_FMT,
                                       retired, *retired ? "," : "",
                                       pycgi_pool_retire_name(k),
                                       st->retired[k]);
            }
        }
        if (autofmt) {
            ap_rprintf(r, "Pool: name=%s max_workers=%d queue_size=%d "
                       "workers=%u queued=%u "
                       "requests=%" APR_UINT64_T_FMT " reused=%"
                       APR_UINT64_T_FMT " dropped=%" APR_UINT64_T_FMT
                       " max_reached=%"
                       APR_UINT64_T_FMT " queue_full=%" APR_UINT64_T_FMT
                       " queue_timeouts=%" APR_UINT64_T_FMT " spawns=%"
                       APR_UINT64_T_FMT " kills=%" APR_UINT64_T_FMT
                       " crashes=%" APR_UINT64_T_FMT " boot_failing=%u"
                       " retired=%s\n",
                       ap_escape_logitem(r->pool, p->name), p->max_workers,
                       p->queue_size, st->workers, st->queued, st->requests,
                       st->reused, st->dropped, st->max_reached,
                       st->queue_full, st->queue_timeouts, st->spawns,
                       st->kills, st->crashes, failing,
                       *retired ? retired : "-");
        }
        else {
            ap_rprintf(r, "<h3>Pool %s</h3>\n<p>%u of at most %d workers; "
                       "%u requests waiting; %" APR_UINT64_T_FMT " requests "
                       "served (%" APR_UINT64_T_FMT " on kept connections, "
                       "%" APR_UINT64_T_FMT " sent again after a kept "
                       "connection failed); "
                       "maximum reached %" APR_UINT64_T_FMT " times; "
                       "%" APR_UINT64_T_FMT " refused (queue full), %"
                       APR_UINT64_T_FMT " queue timeouts; %" APR_UINT64_T_FMT
                       " spawns, %" APR_UINT64_T_FMT " kills, %"
                       APR_UINT64_T_FMT " crashes; retired: %s.%s</p>\n"
                       "<table border=\"1\"><tr><th>PID</th><th>State</th>"
                       "<th>Requests</th><th>Seconds</th><th>Script</th>"
                       "</tr>\n",
                       ap_escape_html(r->pool, p->name), st->workers,
                       p->max_workers, st->queued, st->requests, st->reused,
                       st->dropped, st->max_reached, st->queue_full,
                       st->queue_timeouts, st->spawns, st->kills, st->crashes,
                       *retired ? ap_escape_html(r->pool, retired) : "none",
                       failing ? apr_psprintf(r->pool, " <strong>Failing: "
                                              "the last %u workers died "
                                              "while starting (PYCGI0967)."
                                              "</strong>", failing) : "");
        }
        if (p->user) {
            pycgi_status_identity(r, p, autofmt);
        }
        if (n > PYCGI_POOL_MAX_SLOTS) {
            n = 0;
        }
        for (j = 0; j < n; j++) {
            pycgi_pool_slot copy = p->shm->slot[j];
            apr_time_t since = copy.since;
            long secs = since > 0 && since <= now
                        ? (long)apr_time_sec(now - since) : 0;

            if (copy.pid <= 0) {
                continue;
            }
            copy.script[sizeof(copy.script) - 1] = '\0';
            if (copy.state != PYCGI_SLOT_BUSY) {
                copy.script[0] = '\0';
            }
            if (autofmt) {
                ap_rprintf(r, "Worker: pool=%s pid=%d state=%s requests=%"
                           APR_UINT64_T_FMT " seconds=%ld script=%s\n",
                           ap_escape_logitem(r->pool, p->name), (int)copy.pid,
                           pycgi_status_slot_state(copy.state),
                           (apr_uint64_t)copy.requests, secs,
                           copy.script[0] ? ap_escape_logitem(r->pool,
                                                              copy.script)
                                          : "-");
            }
            else {
                ap_rprintf(r, "<tr><td>%d</td><td>%s</td><td>%"
                           APR_UINT64_T_FMT "</td><td>%ld</td><td>%s</td>"
                           "</tr>\n", (int)copy.pid,
                           pycgi_status_slot_state(copy.state),
                           (apr_uint64_t)copy.requests, secs,
                           ap_escape_html(r->pool, copy.script));
            }
        }
        if (!autofmt) {
            ap_rputs("</table>\n", r);
        }
    }
}

int pycgi_status_handler(request_rec *r)
{
    int autofmt = r->args && !strcasecmp(r->args, "auto");
    apr_uint64_t tot_hits = 0, tot_miss = 0;
    apr_uint32_t i, children = 0;

    if (!r->handler || strcmp(r->handler, "pycgi-status")) {
        return DECLINED;
    }
    r->allowed |= (AP_METHOD_BIT << M_GET);
    if (r->method_number != M_GET) {
        return DECLINED;
    }
    if (!pycgi_status_hdr) {
        return HTTP_SERVICE_UNAVAILABLE;
    }
    ap_set_content_type(r, autofmt ? "text/plain; charset=ISO-8859-1"
                                   : "text/html; charset=ISO-8859-1");
    if (r->header_only) {
        return OK;
    }
    if (!autofmt) {
        ap_rputs(DOCTYPE_HTML_4_01 "<html><head><title>mod_pycgi status"
                 "</title></head><body><h1>mod_pycgi status</h1>\n"
                 "<table border=\"1\"><tr><th>PID</th><th>Python</th>"
                 "<th>Exec requests</th><th>Embedded requests</th>"
                 "<th>Cache hits</th><th>Cache misses</th><th>Timeouts</th>"
                 "<th>RSS (kB)</th><th>Runner</th><th>Current script</th>"
                 "</tr>\n", r);
    }
    for (i = 0; i < pycgi_status_hdr->nslots; i++) {
        pycgi_status_slot *s = &pycgi_status_slots[i];
        apr_uint32_t pid = s->pid;

        if (!pid || kill((pid_t)pid, 0) != 0) {
            continue;
        }
        children++;
        tot_hits += s->cache_hits;
        tot_miss += s->cache_misses;
        if (autofmt) {
            ap_rprintf(r, "Child: pid=%u python=%s exec=%" APR_UINT64_T_FMT
                       " embedded=%" APR_UINT64_T_FMT " cache_hits=%"
                       APR_UINT64_T_FMT " cache_misses=%" APR_UINT64_T_FMT
                       " stdio_builds=%" APR_UINT64_T_FMT
                       " timeouts=%" APR_UINT64_T_FMT " rss_kb=%ld runner=%s"
                       " running=%u current=%s\n", pid,
                       s->python_ready ? "up" : "off",
                       s->exec_requests, s->embedded_requests, s->cache_hits,
                       s->cache_misses, s->stdio_builds, s->timeouts,
                       pycgi_status_rss(r, pid),
                       s->runner[0] ? s->runner : "idle", s->running,
                       s->current[0] ? s->current : "-");
        }
        else {
            ap_rprintf(r, "<tr><td>%u</td><td>%s</td><td>%" APR_UINT64_T_FMT
                       "</td><td>%" APR_UINT64_T_FMT "</td><td>%"
                       APR_UINT64_T_FMT "</td><td>%" APR_UINT64_T_FMT
                       "</td><td>%" APR_UINT64_T_FMT "</td><td>%ld</td>"
                       "<td>%s</td><td>%s</td></tr>\n", pid,
                       s->python_ready ? "up" : "off", s->exec_requests,
                       s->embedded_requests, s->cache_hits, s->cache_misses,
                       s->timeouts, pycgi_status_rss(r, pid),
                       s->runner[0] ? s->runner : "idle",
                       ap_escape_html(r->pool, s->current));
        }
    }
    if (autofmt) {
        /* Request and timeout totals are server-wide since start; cache
         * figures are those of the children alive now. */
        ap_rprintf(r, "Children: %u\nExecRequests: %u\nEmbeddedRequests: %u"
                   "\nCacheHits: %" APR_UINT64_T_FMT
                   "\nCacheMisses: %" APR_UINT64_T_FMT
                   "\nTimeouts: %u\nRecycles: %u\n",
                   children, pycgi_status_hdr->exec_requests,
                   pycgi_status_hdr->embedded_requests, tot_hits, tot_miss,
                   pycgi_status_hdr->timeouts, pycgi_status_hdr->recycles);
        pycgi_status_pools(r, 1);
    }
    else {
        ap_rprintf(r, "</table>\n<p>%u children; since start %u exec and %u "
                   "embedded requests, %u timeouts, %u recycles by "
                   "PyCGIMaxRequests.</p>\n", children,
                   pycgi_status_hdr->exec_requests,
                   pycgi_status_hdr->embedded_requests,
                   pycgi_status_hdr->timeouts, pycgi_status_hdr->recycles);
        pycgi_status_pools(r, 0);
        ap_rputs("</body></html>\n", r);
    }
    return OK;
}
