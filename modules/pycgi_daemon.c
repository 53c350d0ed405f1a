/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_daemon.c -- hand a request to a daemon worker and serve it.
 */
#include "pycgi_daemon.h"
#include "pycgi_pool.h"
#include "pycgi_env.h"
#include "pycgi_link.h"
#include "pycgi_slowlog.h"
#include "pycgi_suexec.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

/* One request's hand-off; lives in r->pool. */
typedef struct {
    request_rec *r;
    pycgi_pool *pool;
    int conn;                   /* to the worker; closed by the cleanup */
    int queued;                 /* counted in pool->stats->queued */
    pid_t worker;               /* from SCM_CREDENTIALS */
    int pidfd;                  /* the worker, for PyCGISlowLog; or -1 */
    int out, err;               /* our ends of stdout and stderr; closed
                                 * by the cleanup unless kept */
    int asked_stack;            /* PyCGISlowLog signalled the worker: its
                                 * dump may still come, on stderr */
    pycgi_proto_reply done;     /* the worker's DONE, once read */
    ssize_t done_n;             /* what reading it gave; -2: not read */
} pycgi_daemon_req;

int pycgi_daemon_available(request_rec *r)
{
    return pycgi_pool_for(r) != NULL;
}

/* Are a pool's workers failing to start, with none idle? */
static int pycgi_daemon_pool_failing(const pycgi_pool *pool)
{
    return apr_atomic_read32(&pool->stats->boot_failing)
           && !pycgi_pool_has_idle(pool);
}

int pycgi_daemon_failing(request_rec *r)
{
    pycgi_pool *pool = pycgi_pool_for(r);

    if (!pool || !pycgi_daemon_pool_failing(pool)) {
        return 0;
    }
    pycgi_pool_tell(pool, PYCGI_CTL_SPAWN, 0);
    return 1;
}

/* The first bytes of a request body, read before a worker is asked
 * for: up to PIPE_BUF, which a new pipe always takes at once. */
typedef struct {
    pycgi_body *body;
    char *data;
    apr_size_t len;
    int all;                    /* that is the whole body */
} pycgi_daemon_head;

/* Read the body's first bytes into h (up to PIPE_BUF, or its end).
 * They go into the script's stdin pipe before the request goes to a
 * worker: a small body (a form's, as a rule) is all there when the
 * script starts, so the script never waits for it and neither httpd
 * nor the worker is woken once more for it; and a request can be sent
 * again on a new connection with its pipes made anew.  A slow client
 * holds no worker meanwhile.  Not for a client that waits for "100
 * Continue" before it sends the body: that goes out only once a worker
 * has the request, as under mod_cgi once the script runs.  OK, or the
 * status a broken body maps to (logged by pycgi_body). */
static int pycgi_daemon_read_head(request_rec *r, pycgi_daemon_head *h)
{
    h->body = pycgi_body_of(r);
    h->data = apr_palloc(r->pool, PIPE_BUF);
    h->len = 0;
    h->all = 0;
    while (!r->expecting_100 && h->len < PIPE_BUF) {
        const char *data;
        apr_size_t len;
        apr_status_t rv = pycgi_body_next(h->body, PIPE_BUF - h->len, &data,
                                          &len);

        if (rv == APR_EOF) {
            h->all = 1;
            break;
        }
        if (rv != APR_SUCCESS) {
            return pycgi_body_status(h->body);
        }
        memcpy(h->data + h->len, data, len);
        h->len += len;
    }
    return OK;
}

/* A new stdin pipe with the body's first bytes in it; its write end
 * closed (in[1] = -1) when that is the whole body. */
static int pycgi_daemon_stdin(int in[2], const pycgi_daemon_head *h)
{
    if (pipe2(in, O_CLOEXEC) < 0) {
        return -1;
    }
    if (h->len) {
        ssize_t n = write(in[1], h->data, h->len);

        if (n != (ssize_t)h->len) {
            errno = n < 0 ? errno : EIO;
            return -1;
        }
    }
    if (h->all) {
        close(in[1]);
        in[1] = -1;
    }
    return 0;
}

/* Close *fd unless it is -1, and make it -1. */
static void pycgi_daemon_close(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

static void pycgi_daemon_close3(int *a, int *b, int *c)
{
    pycgi_daemon_close(a);
    pycgi_daemon_close(b);
    pycgi_daemon_close(c);
}

static apr_status_t pycgi_daemon_cleanup(void *data)
{
    pycgi_daemon_req *d = data;

    if (d->queued) {
        apr_atomic_dec32(&d->pool->stats->queued);
        d->queued = 0;
    }
    pycgi_daemon_close(&d->conn);
    pycgi_daemon_close(&d->pidfd);
    pycgi_daemon_close(&d->out);
    pycgi_daemon_close(&d->err);
    return APR_SUCCESS;
}

/* PyCGISlowLog: the line, then the worker is asked for the stack (see
 * PYCGI_SLOW_SIGNAL), which comes back on the script's stderr.  A pidfd
 * taken when the worker started the script: the signal cannot reach
 * another process that got the pid since. */
static void pycgi_daemon_slow(request_rec *r, pycgi_linebuf *lb, void *data)
{
    pycgi_daemon_req *d = data;
    pycgi_slowlog_event *ev;

    ev = pycgi_slowlog_report(r, r->pool, apr_psprintf(r->pool,
                              "daemon worker %ld", (long)d->worker), NULL);
    if (d->pidfd < 0
        || syscall(SYS_pidfd_send_signal, d->pidfd, PYCGI_SLOW_SIGNAL,
                   NULL, 0) < 0) {
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, d->pidfd < 0 ? 0 : errno, r,
                      PYCGI_LOGNO(0911) "cannot ask daemon worker %ld for "
                      "the stack of slow script %s", (long)d->worker,
                      r->filename);
        return;
    }
    d->asked_stack = 1;
    pycgi_slowlog_divert(ev, lb);
}

/* RLimitCPU, RLimitMEM, RLimitNPROC for a forked script, as APR's
 * apr_procattr_limit_set() gives them to an exec'ed one. */
static void pycgi_daemon_rlimits(request_rec *r, pycgi_proto_req *h)
{
    core_dir_config *core = ap_get_core_module_config(r->per_dir_config);
    struct rlimit *lim[3];
    int i;

    lim[PYCGI_RLIM_CPU] = NULL;
    lim[PYCGI_RLIM_MEM] = NULL;
    lim[PYCGI_RLIM_NPROC] = NULL;
#ifdef RLIMIT_CPU
    lim[PYCGI_RLIM_CPU] = core->limit_cpu;
#endif
#ifdef RLIMIT_AS
    lim[PYCGI_RLIM_MEM] = core->limit_mem;
#endif
#ifdef RLIMIT_NPROC
    lim[PYCGI_RLIM_NPROC] = core->limit_nproc;
#endif
    for (i = 0; i < 3; i++) {
        if (lim[i]) {
            h->rlimits |= 1u << i;
            h->rlimit[i][0] = lim[i]->rlim_cur == RLIM_INFINITY
                              ? ~(uint64_t)0 : (uint64_t)lim[i]->rlim_cur;
            h->rlimit[i][1] = lim[i]->rlim_max == RLIM_INFINITY
                              ? ~(uint64_t)0 : (uint64_t)lim[i]->rlim_max;
        }
    }
}

/* The request record and its strings, in one buffer. */
static char *pycgi_daemon_message(pycgi_daemon_req *d, apr_size_t *len)
{
    request_rec *r = d->r;
    /* A user pool's script sees what suexec would have let through. */
    char **envp = d->pool->user ? pycgi_suexec_envp(r, r->pool)
                                : pycgi_env_envp(r, r->pool);
    const char **argv;
    const char *cwd = pycgi_env_dir(r, r->pool);
    const char *line = r->the_request ? r->the_request : "";
    pycgi_proto_req *h;
    apr_size_t total = 0, n;
    int argc, nenv = 0, i;
    char *buf, *p;

    argv = pycgi_env_argv(r, r->pool, &argc);
    total += strlen(r->filename) + 1 + strlen(cwd) + 1 + strlen(line) + 1;
    for (i = 0; i < argc; i++) {
        total += strlen(argv[i]) + 1;
    }
    for (nenv = 0; envp[nenv]; nenv++) {
        total += strlen(envp[nenv]) + 1;
    }
    if (total > PYCGI_PROTO_MAX_LEN) {
        return NULL;
    }
    buf = apr_palloc(r->pool, sizeof(*h) + total);
    h = (pycgi_proto_req *)buf;
    memset(h, 0, sizeof(*h));
    h->magic = PYCGI_PROTO_MAGIC;
    h->version = PYCGI_PROTO_VERSION;
    memcpy(h->token, d->pool->shm->token, PYCGI_TOKEN_LEN);
    h->length = (uint32_t)total;
    h->nargv = (uint32_t)argc;
    h->nenv = (uint32_t)nenv;
    /* The worker empties what the script left of stdin only when
     * there may have been a body. */
    if (apr_table_get(r->headers_in, "Transfer-Encoding")
        || (apr_table_get(r->headers_in, "Content-Length")
            && strcmp(apr_table_get(r->headers_in, "Content-Length"), "0"))) {
        h->flags |= PYCGI_REQ_BODY;
    }
    else {
        /* No body: the worker gives the script a pipe at EOF of its
         * own; one pipe fewer per request. */
        h->flags |= PYCGI_REQ_NO_STDIN;
    }
    if (pycgi_config_isolation(pycgi_dconf(r)) == PYCGI_ISOLATION_FORK) {
        h->flags |= PYCGI_REQ_FORK;
        pycgi_daemon_rlimits(r, h);
    }
    h->mtime = r->finfo.mtime;
    h->size = r->finfo.size;
    h->inode = (uint64_t)r->finfo.inode;
    p = buf + sizeof(*h);
#define PUT(s) (n = strlen(s) + 1, memcpy(p, (s), n), p += n)
    PUT(r->filename);
    PUT(cwd);
    PUT(line);
    for (i = 0; i < argc; i++) {
        PUT(argv[i]);
    }
    for (i = 0; i < nenv; i++) {
        PUT(envp[i]);
    }
#undef PUT
    *len = sizeof(*h) + total;
    return buf;
}

/* Wait until fd is ready for `events` or the deadline passes. */
static int pycgi_daemon_wait(int fd, short events, apr_time_t deadline)
{
    for (;;) {
        struct pollfd pfd;
        apr_time_t left = deadline - apr_time_now();
        int rc;

        if (left <= 0) {
            return 0;
        }
        pfd.fd = fd;
        pfd.events = events;
        rc = poll(&pfd, 1, (int)apr_time_as_msec(left) + 1);
        if (rc > 0) {
            return 1;
        }
        if (rc < 0 && errno != EINTR) {
            return -1;
        }
    }
}

/* Wait for the worker's first reply: 1 when readable, 0 at the
 * deadline, -1 on error, -3 when the pool's workers fail to start
 * meanwhile (looked at every PYCGI_DAEMON_BOOT_LOOK). */
#define PYCGI_DAEMON_BOOT_LOOK apr_time_from_msec(200)
static int pycgi_daemon_wait_started(pycgi_daemon_req *d,
                                     apr_time_t deadline)
{
    for (;;) {
        apr_time_t now = apr_time_now();
        apr_time_t until = deadline - now > PYCGI_DAEMON_BOOT_LOOK
                           ? now + PYCGI_DAEMON_BOOT_LOOK : deadline;
        int rc = pycgi_daemon_wait(d->conn, POLLIN, until);

        if (rc != 0 || until == deadline) {
            return rc;
        }
        if (pycgi_daemon_pool_failing(d->pool)) {
            return -3;
        }
    }
}

/* Send the request and the script's ends of its pipes. */
static apr_status_t pycgi_daemon_send(pycgi_daemon_req *d, const char *msg,
                                      apr_size_t len, const int *fds,
                                      int nfds, apr_time_t deadline)
{
    union {
        char buf[CMSG_SPACE(3 * sizeof(int))];
        struct cmsghdr align;
    } u;
    struct msghdr mh;
    struct iovec iov;
    struct cmsghdr *cm;
    ssize_t n;
    int first = 1;

    while (len) {
        memset(&mh, 0, sizeof(mh));
        iov.iov_base = (void *)msg;
        iov.iov_len = len;
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        if (first && nfds > 0) {
            memset(&u, 0, sizeof(u));
            mh.msg_control = u.buf;
            mh.msg_controllen = sizeof(u.buf);
            cm = CMSG_FIRSTHDR(&mh);
            cm->cmsg_level = SOL_SOCKET;
            cm->cmsg_type = SCM_RIGHTS;
            mh.msg_controllen = CMSG_SPACE(nfds * sizeof(int));
            cm->cmsg_len = CMSG_LEN(nfds * sizeof(int));
            memcpy(CMSG_DATA(cm), fds, nfds * sizeof(int));
        }
        n = sendmsg(d->conn, &mh, MSG_NOSIGNAL);
        if (n > 0) {
            first = 0;
            msg += n;
            len -= n;
            continue;
        }
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN
            && pycgi_daemon_wait(d->conn, POLLOUT, deadline) > 0) {
            continue;
        }
        return n < 0 && errno != EAGAIN ? errno : APR_TIMEUP;
    }
    return APR_SUCCESS;
}

/* Read one reply record; *pid from the kernel's credentials when
 * asked (the first reply: waiting for it, the pool's boot failures are
 * watched).  Returns 1, 0 at EOF, -1 on error or timeout, -3 when the
 * pool's workers fail to start. */
static int pycgi_daemon_reply(pycgi_daemon_req *d, pycgi_proto_reply *rep,
                              pid_t *pid, apr_time_t deadline)
{
    apr_size_t got = 0;

    while (got < sizeof(*rep)) {
        union {
            char buf[CMSG_SPACE(sizeof(struct ucred))];
            struct cmsghdr align;
        } u;
        struct msghdr mh;
        struct iovec iov;
        struct cmsghdr *cm;
        ssize_t n;

        memset(&mh, 0, sizeof(mh));
        iov.iov_base = (char *)rep + got;
        iov.iov_len = sizeof(*rep) - got;
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        mh.msg_control = u.buf;
        mh.msg_controllen = sizeof(u.buf);
        n = recvmsg(d->conn, &mh, MSG_CMSG_CLOEXEC);
        if (n > 0) {
            for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
                if (cm->cmsg_level == SOL_SOCKET
                    && cm->cmsg_type == SCM_CREDENTIALS && pid && !got) {
                    struct ucred cred;

                    memcpy(&cred, CMSG_DATA(cm), sizeof(cred));
                    *pid = cred.pid;
                }
                else if (cm->cmsg_level == SOL_SOCKET
                         && cm->cmsg_type == SCM_RIGHTS) {
                    /* Nobody sends us fds: close any. */
                    int *fd = (int *)CMSG_DATA(cm);
                    size_t k, nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

                    for (k = 0; k < nfd; k++) {
                        close(fd[k]);
                    }
                }
            }
            got += n;
            continue;
        }
        if (n == 0) {
            return 0;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno == EAGAIN) {
            int rc = pid && !got ? pycgi_daemon_wait_started(d, deadline)
                     : pycgi_daemon_wait(d->conn, POLLIN, deadline);

            if (rc > 0) {
                continue;
            }
            return rc == -3 ? -3 : -1;
        }
        return -1;
    }
    return rep->magic == PYCGI_PROTO_MAGIC ? 1 : -1;
}

/* No worker took the request: say why, with the status it maps to. */
static int pycgi_daemon_not_started(pycgi_daemon_req *d, int rc,
                                    const pycgi_proto_reply *rep,
                                    apr_time_t deadline)
{
    request_rec *r = d->r;

    if (rc == -2 || (rc < 0 && apr_time_now() >= deadline)) {
        __atomic_add_fetch(&d->pool->stats->queue_timeouts, 1,
                           __ATOMIC_RELAXED);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PYCGI_LOGNO(0907)
                      "no worker of daemon pool %s was free within "
                      "PyCGIDaemonQueueTimeout (%" APR_TIME_T_FMT " s; "
                      "PyCGIDaemonMaxWorkers %d): %s", d->pool->name,
                      apr_time_sec(d->pool->queue_timeout),
                      d->pool->max_workers, r->filename);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    if (rc > 0 && rep->kind == PYCGI_REPLY_REFUSED) {
        return pycgi_log_scripterror(r, HTTP_INTERNAL_SERVER_ERROR, 0,
                                     PYCGI_LOGNO(0908),
                                     apr_psprintf(r->pool, "daemon worker "
                                     "refused the request (reason %d)",
                                     (int)rep->status));
    }
    return pycgi_log_scripterror(r, HTTP_SERVICE_UNAVAILABLE, 0,
                                 PYCGI_LOGNO(0909),
                                 "daemon worker went away before starting");
}

/* A new connection to the pool's socket in d->conn (closed by the
 * request's cleanup in any case).  OK, or the handler's status, logged. */
static int pycgi_daemon_connect(pycgi_daemon_req *d)
{
    request_rec *r = d->r;
    struct sockaddr_un sa;
    apr_status_t rv;
    int one = 1, rc;

    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    apr_cpystrn(sa.sun_path, d->pool->sockpath, sizeof(sa.sun_path));
    d->conn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (d->conn < 0
        || setsockopt(d->conn, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) < 0) {
        return pycgi_log_scripterror(r, HTTP_INTERNAL_SERVER_ERROR, errno,
                                     PYCGI_LOGNO(0903),
                                     "cannot create a socket for the daemon "
                                     "worker of");
    }
    if (!pycgi_pool_has_idle(d->pool)) {
        pycgi_pool_tell(d->pool, PYCGI_CTL_SPAWN, 0);
    }
    while ((rc = connect(d->conn, (struct sockaddr *)&sa, sizeof(sa))) < 0
           && errno == EINTR) {
    }
    if (rc == 0) {
        return OK;
    }
    rv = errno;
    if (rv == EAGAIN) {
        __atomic_add_fetch(&d->pool->stats->queue_full, 1, __ATOMIC_RELAXED);
        ap_log_rerror(APLOG_MARK, APLOG_ERR, 0, r, PYCGI_LOGNO(0904)
                      "daemon pool %s is full: its %d workers busy or "
                      "starting and %d requests queued (raise "
                      "PyCGIDaemonMaxWorkers "
                      "or PyCGIDaemonQueueSize): %s", d->pool->name,
                      d->pool->max_workers, d->pool->queue_size,
                      r->filename);
        return HTTP_SERVICE_UNAVAILABLE;
    }
    return pycgi_log_scripterror(r, HTTP_SERVICE_UNAVAILABLE, rv,
                                 PYCGI_LOGNO(0905),
                                 "cannot reach the daemon pool (is its "
                                 "supervisor running?) for");
}

/* The worker's DONE, read once: exactly one record, nothing after it
 * (d->done_n: its size, 0 at EOF, -1 if nothing is there yet). */
static void pycgi_daemon_read_done(pycgi_daemon_req *d)
{
    pycgi_proto_reply more;
    struct iovec iov[2];
    struct msghdr mh;

    memset(&mh, 0, sizeof(mh));
    iov[0].iov_base = &d->done;
    iov[0].iov_len = sizeof(d->done);
    iov[1].iov_base = &more;
    iov[1].iov_len = sizeof(more);
    mh.msg_iov = iov;
    mh.msg_iovlen = 2;
    do {
        d->done_n = recvmsg(d->conn, &mh, MSG_DONTWAIT);
    } while (d->done_n < 0 && errno == EINTR);
}

/* Did the worker end the request keeping the connection and the pipes? */
static int pycgi_daemon_done_kept(const pycgi_daemon_req *d)
{
    return d->done_n == (ssize_t)sizeof(d->done)
           && d->done.magic == PYCGI_PROTO_MAGIC
           && d->done.kind == PYCGI_REPLY_DONE
           && !(d->done.flags & PYCGI_DONE_RETIRING)
           && (d->done.flags & PYCGI_DONE_KEPT);
}

/* The pipe loop's word on the script's end (the connection is readable):
 * 1 when the worker kept the pipes, so that all output is in them. */
static int pycgi_daemon_ended(void *data)
{
    pycgi_daemon_req *d = data;

    pycgi_daemon_read_done(d);
    return pycgi_daemon_done_kept(d);
}

/* After the response: keep the connection and the pipes for the next
 * request of the same client connection (pycgi_link) if the worker took
 * the request cleanly, kept them, and the pipe loop read both pipes to
 * the end of this request's output -- and no stack dump was asked for,
 * which could land in stderr after that end.  `started` is its
 * STARTED. */
static void pycgi_daemon_keep(pycgi_daemon_req *d,
                              const pycgi_proto_reply *started,
                              const pycgi_pipe_result *res)
{
    if (d->done_n == -2) {
        pycgi_daemon_read_done(d);
    }
    if (d->done_n == 0) {
        /* os._exit() in the script, or a crash (then PYCGI0964). */
        ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, d->r, PYCGI_LOGNO(0910)
                      "daemon worker %ld ended while running %s",
                      (long)d->worker, d->r->filename);
        return;
    }
    if (!res->drained || d->asked_stack || !pycgi_daemon_done_kept(d)
        || started->status < 0
        || (uint32_t)started->status >= d->pool->shm->nslots
        || (started->flags & PYCGI_CLAIMED)) {
        return;
    }
    pycgi_link_keep(d->r->connection, d->pool, d->conn, d->out, d->err,
                    (uint32_t)started->status,
                    PYCGI_CLAIM(d->worker, started->flags));
    d->conn = d->out = d->err = -1;
}

int pycgi_daemon_run(request_rec *r, int nph, apr_interval_time_t timeout)
{
    pycgi_daemon_req *d = apr_pcalloc(r->pool, sizeof(*d));
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1}, give[3];
    pycgi_proto_reply rep;
    pycgi_proto_req *h;
    pycgi_pipe_result res;
    pycgi_pipe_slow slow;
    pycgi_pipe_end ended;
    pycgi_daemon_head head;
    apr_file_t *fin = NULL, *fout, *ferr;
    apr_time_t deadline;
    apr_size_t len;
    apr_status_t rv;
    char *msg;
    int rc, status, nostdin, late = 0, attempt, reused, kept, ngive, feed;

    d->r = r;
    d->conn = d->out = d->err = -1;
    d->pidfd = -1;
    d->done_n = -2;
    d->pool = pycgi_pool_for(r);
    if (!d->pool) {
        return pycgi_log_scripterror(r, HTTP_SERVICE_UNAVAILABLE, 0,
                                     PYCGI_LOGNO(0901),
                                     "the daemon runner is unavailable "
                                     "(see the start-up log)");
    }
    msg = pycgi_daemon_message(d, &len);
    if (!msg) {
        return pycgi_log_scripterror(r, HTTP_INTERNAL_SERVER_ERROR, 0,
                                     PYCGI_LOGNO(0902),
                                     "environment too large for a daemon "
                                     "worker");
    }
    h = (pycgi_proto_req *)msg;
    nostdin = (h->flags & PYCGI_REQ_NO_STDIN) != 0;
    memset(&head, 0, sizeof(head));
    if (!nostdin && (status = pycgi_daemon_read_head(r, &head)) != OK) {
        return status;
    }
    apr_pool_cleanup_register(r->pool, d, pycgi_daemon_cleanup,
                              apr_pool_cleanup_null);
    deadline = apr_time_now() + d->pool->queue_timeout;

    /* A kept connection comes with its pipes for stdout and stderr
     * (except under fork isolation: the script's process gets new
     * ones).  Otherwise pipes first, then connect and send at once: the
     * worker that wakes for the connection finds the request there
     * already.  A kept connection that fails before its worker said
     * STARTED (the worker retired or died meanwhile) is given up, and
     * the request starts over on a new one, with new pipes. */
    for (attempt = 0; ; attempt++) {
        d->conn = attempt ? -1 : pycgi_link_take(r->connection, d->pool,
                                                 &d->out, &d->err);
        reused = d->conn >= 0;
        kept = reused && !(h->flags & PYCGI_REQ_FORK);
        if (reused && !kept) {
            pycgi_daemon_close(&d->out);
            pycgi_daemon_close(&d->err);
        }
        if ((!kept && (pipe2(out, O_CLOEXEC) < 0
                       || pipe2(err, O_CLOEXEC) < 0))
            || (!nostdin && pycgi_daemon_stdin(in, &head) < 0)) {
            rv = errno;
            pycgi_daemon_close3(&in[0], &out[0], &err[0]);
            pycgi_daemon_close3(&in[1], &out[1], &err[1]);
            return pycgi_log_scripterror(r, HTTP_INTERNAL_SERVER_ERROR, rv,
                                         PYCGI_LOGNO(0906),
                                         "cannot create pipes for");
        }
        if (!kept) {
            d->out = out[0];
            d->err = err[0];
            out[0] = err[0] = -1;
        }
        if (!reused && (status = pycgi_daemon_connect(d)) != OK) {
            pycgi_daemon_close3(&in[0], &in[1], &out[1]);
            pycgi_daemon_close3(&err[1], &d->out, &d->err);
            return status;
        }
        if (!d->queued) {
            apr_atomic_inc32(&d->pool->stats->queued);
            d->queued = 1;
        }
        h->flags = kept ? h->flags | PYCGI_REQ_KEPT_STDIO
                        : h->flags & ~PYCGI_REQ_KEPT_STDIO;
        ngive = 0;
        if (!nostdin) {
            give[ngive++] = in[0];
        }
        if (!kept) {
            give[ngive++] = out[1];
            give[ngive++] = err[1];
        }
        rv = pycgi_daemon_send(d, msg, len, give, ngive, deadline);
        /* The script's ends are the worker's now (or nobody's). */
        pycgi_daemon_close3(&in[0], &out[1], &err[1]);
        rc = -1;
        if (rv == APR_SUCCESS) {
            /* The worker has yet to wake up: wait first (a recvmsg()
             * now would only say EAGAIN). */
            rc = pycgi_daemon_wait_started(d, deadline);
            rc = rc > 0 ? pycgi_daemon_reply(d, &rep, &d->worker, deadline)
                 : rc == -3 ? -3 : -1;
        }
        else {
            rc = APR_STATUS_IS_TIMEUP(rv) ? -2 : -1;
        }
        if (!reused || rc == -2 || rc == -3 || apr_time_now() >= deadline
            || (rc > 0 && (rep.kind == PYCGI_REPLY_STARTED
                           || rep.kind == PYCGI_REPLY_REFUSED))) {
            break;
        }
        /* Sent again on a new connection (the worker gave up the claim:
         * a new connection woke it at the same time; or it is gone). */
        __atomic_add_fetch(&d->pool->stats->dropped, 1, __ATOMIC_RELAXED);
        pycgi_daemon_close3(&in[1], &d->out, &d->err);
        pycgi_daemon_close(&d->conn);
    }
    if (rc == -3) {
        /* The pool's workers fail to start.  Shutting our reading side
         * is the point of no return: a worker's STARTED sent after it
         * fails (EPIPE), so that worker never runs this request.  One
         * sent before it is still queued here: then that worker has
         * the request after all (without the DONE, which can no longer
         * arrive: the script's end is told by its pipes alone). */
        shutdown(d->conn, SHUT_RD);
        late = recv(d->conn, &rep, sizeof(rep), MSG_PEEK | MSG_DONTWAIT) > 0;
        rc = late ? pycgi_daemon_reply(d, &rep, &d->worker, deadline) : -3;
    }
    if (rc <= 0 || rep.kind != PYCGI_REPLY_STARTED || d->worker <= 0) {
        pycgi_daemon_close3(&in[1], &d->out, &d->err);
        if (rc == -3) {
            /* Nobody has it: the caller may run it another way, with
             * the body's head put back. */
            pycgi_daemon_close(&d->conn);
            if (head.body) {
                pycgi_body_unread(head.body, head.data, head.len);
            }
            return PYCGI_DAEMON_UNSTARTED;
        }
        return pycgi_daemon_not_started(d, rc, &rep, deadline);
    }
    apr_atomic_dec32(&d->pool->stats->queued);
    d->queued = 0;
    __atomic_add_fetch(&d->pool->stats->requests, 1, __ATOMIC_RELAXED);
    if (reused) {
        __atomic_add_fetch(&d->pool->stats->reused, 1, __ATOMIC_RELAXED);
    }
    if (apr_atomic_read32(&d->pool->stats->boot_failing)) {
        /* A worker booted: the pool works again. */
        apr_atomic_set32(&d->pool->stats->boot_failing, 0);
    }

    /* The rest of a body longer than its head, if there is one. */
    feed = in[1] >= 0;
    if (feed) {
        fin = pycgi_pipe_file(r->pool, &in[1], 1);
    }
    fout = pycgi_pipe_file_lent(r->pool, d->out);
    ferr = pycgi_pipe_file_lent(r->pool, d->err);
    if ((feed && !fin) || !fout || !ferr) {
        pycgi_pool_tell(d->pool, PYCGI_CTL_KILL, d->worker);
        return pycgi_log_scripterror(r, HTTP_INTERNAL_SERVER_ERROR, 0,
                                     PYCGI_LOGNO(0906),
                                     "cannot create pipes for");
    }
    slow.after = pycgi_slowlog_after(r);
    slow.fn = pycgi_daemon_slow;
    slow.data = d;
    if (slow.after > 0) {
        d->pidfd = (int)syscall(SYS_pidfd_open, d->worker, 0);
    }
    /* The worker's DONE (or its death) makes the connection readable:
     * the script has ended.  With the pipes kept, all of its output is
     * in them then; otherwise a process it left holding stdout gets the
     * pipe loop's exit grace, not the whole script timeout.  (Not
     * closed by APR: the request's cleanup closes it.) */
    ended.fn = pycgi_daemon_ended;
    ended.data = d;
    if (late || apr_os_file_put(&ended.fd, &d->conn, APR_FOPEN_READ,
                                r->pool) != APR_SUCCESS) {
        ended.fd = NULL;
    }
    status = pycgi_pipe_serve(r, nph, timeout, fin, fout, ferr,
                              ended.fd ? &ended : NULL, &slow, &res);
    if (res.timed_out) {
        /* Output silence past CGIScriptTimeout: the worker is ended
         * (TERM, then KILL) by the supervisor, which replaces it. */
        pycgi_pool_tell(d->pool, PYCGI_CTL_KILL, d->worker);
        return status;
    }
    /* A worker that died leaves EOF here without DONE; one that lives
     * sends DONE after its clean-up (the supervisor's PYCGI0964 names
     * a crash in any case).  `rep` is still its STARTED. */
    if (!late) {
        pycgi_daemon_keep(d, &rep, &res);
    }
    return status;
}
