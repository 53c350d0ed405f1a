/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_worker_conn.c -- the daemon worker's connections (no Python):
 * the wait for a new connection on the pool's socket or a request on
 * the kept one (and the slot's claim word, see "Kept connections" in
 * pycgi_proto.h), reading and checking a request record, the replies.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "pycgi_worker.h"

/* The kept connection (see "Kept connections" in pycgi_proto.h), or -1,
 * and its pipes (see "Kept pipes"): what the request's stdout and
 * stderr were given as, and whether fds 1 and 2 are the kept
 * connection's pipes now. */
static int pycgi_worker_kept_fd = -1;
static struct {
    int kept;
    dev_t dev[2];
    ino_t ino[2];
} pycgi_worker_stdio;

/* A connected client has this long to send its whole request. */
#define PYCGI_WORKER_READ_MS 10000

/* The request: header, then its strings in a buffer kept until the next
 * request (environ points into it); `strs` indexes the strings. */
pycgi_proto_req pycgi_worker_req;
static char *pycgi_worker_buf;
static size_t pycgi_worker_bufcap;
char **pycgi_worker_strs;
static size_t pycgi_worker_strcap;

int pycgi_worker_conn_reply(int conn, unsigned kind, int status,
                              unsigned flags)
{
    pycgi_proto_reply r;

    r.magic = PYCGI_PROTO_MAGIC;
    r.kind = kind;
    r.status = status;
    r.flags = flags;
    return send(conn, &r, sizeof(r), MSG_NOSIGNAL | MSG_DONTWAIT)
           == (ssize_t)sizeof(r) ? 0 : -1;
}

void pycgi_worker_conn_close_all(int *fds, int nfds)
{
    int i;

    for (i = 0; i < nfds && i < PYCGI_WORKER_MAX_FDS; i++) {
        close(fds[i]);
    }
}

/* One recvmsg() on the (non-blocking) connection, waiting in poll()
 * only if nothing has arrived yet; descriptors that come with the bytes
 * are collected in fds[] (those beyond PYCGI_WORKER_MAX_FDS closed, but
 * counted in *nfds).  Returns bytes, 0 at EOF, -1 with errno. */
static ssize_t pycgi_worker_recv(int conn, struct iovec *iov, int niov,
                                 int *fds, int *nfds, int64_t deadline)
{
    union {
        struct cmsghdr h;
        char buf[CMSG_SPACE(sizeof(int) * PYCGI_WORKER_MAX_FDS)];
    } cbuf;
    struct msghdr msg;
    struct cmsghdr *c;
    ssize_t n;

    for (;;) {
        struct pollfd pfd;
        int64_t left;

        memset(&msg, 0, sizeof(msg));
        msg.msg_iov = iov;
        msg.msg_iovlen = niov;
        msg.msg_control = cbuf.buf;
        msg.msg_controllen = sizeof(cbuf.buf);
        n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
        if (n >= 0) {
            break;
        }
        if (errno != EAGAIN && errno != EINTR) {
            return -1;
        }
        left = (deadline - pycgi_worker_now()) / 1000;
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        pfd.fd = conn;
        pfd.events = POLLIN;
        poll(&pfd, 1, (int)left);
    }
    for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            size_t k, cnt = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);

            for (k = 0; k < cnt; k++) {
                int fd;

                memcpy(&fd, CMSG_DATA(c) + k * sizeof(int), sizeof(int));
                if (*nfds < PYCGI_WORKER_MAX_FDS) {
                    fds[*nfds] = fd;
                }
                else {
                    close(fd);
                }
                (*nfds)++;
            }
        }
    }
    if (msg.msg_flags & MSG_CTRUNC) {
        /* The kernel closed what did not fit: too many anyway. */
        *nfds += PYCGI_WORKER_MAX_FDS;
    }
    return n;
}

/* Read and check one request: the record, its strings (indexed in
 * pycgi_worker_strs) and exactly 3 descriptors.  Returns 1, 0 for a
 * connection closed before a byte, -1 with *err for the log. */
int pycgi_worker_conn_read(int conn, int *fds, int *nfds, const char **err)
{
    pycgi_proto_req *h = &pycgi_worker_req;
    int64_t deadline = pycgi_worker_now() + PYCGI_WORKER_READ_MS * 1000LL;
    size_t got = 0, need, nstr, i;
    struct iovec iov[2];
    ssize_t n;
    char *p, *end;

    if (!pycgi_worker_buf) {
        pycgi_worker_bufcap = 65536;
        pycgi_worker_buf = malloc(pycgi_worker_bufcap);
        if (!pycgi_worker_buf) {
            *err = "out of memory";
            return -1;
        }
    }
    /* Usually one recvmsg(): the record and its strings together. */
    while (got < sizeof(*h)) {
        iov[0].iov_base = (char *)h + got;
        iov[0].iov_len = sizeof(*h) - got;
        iov[1].iov_base = pycgi_worker_buf;
        iov[1].iov_len = pycgi_worker_bufcap;
        n = pycgi_worker_recv(conn, iov, 2, fds, nfds, deadline);
        if (n <= 0) {
            *err = n < 0 ? strerror(errno) : "short request record";
            return n == 0 && got == 0 && *nfds == 0 ? 0 : -1;
        }
        got += n;
    }
    if (h->magic != PYCGI_PROTO_MAGIC || h->version != PYCGI_PROTO_VERSION) {
        *err = "bad magic or version";
        return -1;
    }
    nstr = 3 + (size_t)h->nargv + h->nenv;
    if (h->length > PYCGI_PROTO_MAX_LEN || h->nargv < 1
        || (uint64_t)h->nargv + h->nenv + 3 > h->length) {
        *err = "bad lengths";
        return -1;
    }
    need = sizeof(*h) + h->length;
    if (got > need) {
        *err = "bytes after the request";
        return -1;
    }
    if (h->length > pycgi_worker_bufcap) {
        p = realloc(pycgi_worker_buf, h->length);
        if (!p) {
            *err = "out of memory";
            return -1;
        }
        pycgi_worker_buf = p;
        pycgi_worker_bufcap = h->length;
    }
    while (got < need) {
        iov[0].iov_base = pycgi_worker_buf + (got - sizeof(*h));
        iov[0].iov_len = need - got;
        n = pycgi_worker_recv(conn, iov, 1, fds, nfds, deadline);
        if (n <= 0) {
            *err = n < 0 ? strerror(errno) : "short request strings";
            return -1;
        }
        got += n;
    }
    if (*nfds != ((h->flags & PYCGI_REQ_NO_STDIN) ? 0 : 1)
                 + ((h->flags & PYCGI_REQ_KEPT_STDIO) ? 0 : 2)) {
        *err = "not the descriptors the flags announce";
        return -1;
    }
    if ((h->flags & PYCGI_REQ_KEPT_STDIO)
        && (conn != pycgi_worker_kept_fd || !pycgi_worker_stdio.kept
            || (h->flags & PYCGI_REQ_FORK))) {
        *err = "kept pipes asked for where there are none";
        return -1;
    }
    if (nstr > pycgi_worker_strcap) {
        char **s = realloc(pycgi_worker_strs, nstr * sizeof(char *));

        if (!s) {
            *err = "out of memory";
            return -1;
        }
        pycgi_worker_strs = s;
        pycgi_worker_strcap = nstr;
    }
    /* Exactly nstr strings, each NUL-terminated, nothing after. */
    p = pycgi_worker_buf;
    end = p + h->length;
    for (i = 0; i < nstr; i++) {
        char *z = memchr(p, '\0', end - p);

        if (!z) {
            *err = "fewer strings than announced";
            return -1;
        }
        pycgi_worker_strs[i] = p;
        p = z + 1;
    }
    if (p != end) {
        *err = "more strings than announced";
        return -1;
    }
    return 1;
}

int pycgi_worker_conn_token_ok(const uint8_t *token)
{
    volatile uint8_t diff = 0;
    int i;

    for (i = 0; i < PYCGI_TOKEN_LEN; i++) {
        diff |= token[i] ^ pycgi_worker_head->token[i];
    }
    return diff == 0;
}

/* The kept connection's serial and whether it is published in the
 * slot's claim word; owned by the loop and the end of a request. */
static uint32_t pycgi_worker_kserial;
static int pycgi_worker_published;
static int pycgi_worker_draining;
static pid_t pycgi_worker_self;

/* Idle, with a connection its httpd side may claim. */
void pycgi_worker_conn_publish(void)
{
    if (pycgi_worker_kept_fd >= 0 && !pycgi_worker_draining) {
        __atomic_store_n(&pycgi_worker_slot->claim,
                         PYCGI_CLAIM(pycgi_worker_self,
                                     pycgi_worker_kserial),
                         __ATOMIC_SEQ_CST);
        pycgi_worker_published = 1;
    }
}

/* fds 1 and 2 back to the worker's own: httpd sees EOF on the pipes
 * that were there (unless a process the script started holds them). */
static int pycgi_worker_stdio_release(void)
{
    pycgi_worker_stdio.kept = 0;
    return pycgi_worker_proc_own_std(6);
}

void pycgi_worker_conn_child(int conn)
{
    if (pycgi_worker_kept_fd >= 0 && pycgi_worker_kept_fd != conn) {
        close(pycgi_worker_kept_fd);
    }
    pycgi_worker_kept_fd = -1;
    if (pycgi_worker_stdio.kept) {
        /* Not the child's to write to, even before the request's own
         * fds are moved there. */
        pycgi_worker_stdio_release();
    }
}

void pycgi_worker_conn_stdio_drop(int conn)
{
    if (pycgi_worker_stdio.kept) {
        pycgi_worker_stdio_release();
    }
    if (pycgi_worker_kept_fd >= 0 && pycgi_worker_kept_fd != conn) {
        pycgi_worker_conn_unkeep();
    }
}

/* No kept connection any more.  Out of the epoll set explicitly: a
 * process the script forked may hold a copy of the fd, and the epoll
 * entry lives as long as any copy does. */
void pycgi_worker_conn_unkeep(void)
{
    if (pycgi_worker_kept_fd >= 0) {
        epoll_ctl(pycgi_worker_fd.epoll, EPOLL_CTL_DEL, pycgi_worker_kept_fd,
                  NULL);
        close(pycgi_worker_kept_fd);
        pycgi_worker_kept_fd = -1;
    }
    if (pycgi_worker_stdio.kept) {
        pycgi_worker_stdio_release();
    }
}

int pycgi_worker_conn_stdio_fresh(int conn, int out, int err)
{
    struct stat st[2];

    /* Replaced below: a kept connection without them is of no use. */
    pycgi_worker_stdio.kept = 0;
    if (pycgi_worker_kept_fd >= 0 && pycgi_worker_kept_fd != conn) {
        pycgi_worker_conn_unkeep();
    }
    if (fstat(out, &st[0]) < 0 || fstat(err, &st[1]) < 0) {
        return -1;
    }
    pycgi_worker_stdio.dev[0] = st[0].st_dev;
    pycgi_worker_stdio.ino[0] = st[0].st_ino;
    pycgi_worker_stdio.dev[1] = st[1].st_dev;
    pycgi_worker_stdio.ino[1] = st[1].st_ino;
    return 0;
}

/* fd's status flags are a new pipe's. */
static int pycgi_worker_stdio_plain(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    return fl >= 0 && !(fl & (O_NONBLOCK | O_ASYNC | O_APPEND | O_DIRECT));
}

int pycgi_worker_conn_stdio_end(int conn, uint32_t serial, int keepable)
{
    struct stat st[2];

    /* Still the request's pipes, whatever the script did to fds 1 and 2
     * (closed, dup2()ed over, closed and reopened), and with the status
     * flags a new pipe has (a script may have made stdout non-blocking:
     * the next script's large writes would fail)? */
    if (keepable && pycgi_worker_stdio_plain(1) && pycgi_worker_stdio_plain(2)
        && fstat(1, &st[0]) == 0 && fstat(2, &st[1]) == 0
        && st[0].st_dev == pycgi_worker_stdio.dev[0]
        && st[0].st_ino == pycgi_worker_stdio.ino[0]
        && st[1].st_dev == pycgi_worker_stdio.dev[1]
        && st[1].st_ino == pycgi_worker_stdio.ino[1]) {
        pycgi_worker_stdio.kept = 0;
        if (pycgi_worker_conn_keep(conn, serial) == 0) {
            pycgi_worker_stdio.kept = 1;
            return 1;
        }
    }
    return pycgi_worker_stdio_release() < 0 ? -1 : 0;
}

/* `conn` (serial `serial`) becomes the kept connection, in the epoll
 * set; one kept before is closed.  0, or -1 if it cannot be watched. */
int pycgi_worker_conn_keep(int conn, uint32_t serial)
{
    if (conn != pycgi_worker_kept_fd) {
        struct epoll_event ev;

        memset(&ev, 0, sizeof(ev));
        ev.events = EPOLLIN;
        ev.data.fd = conn;
        if (epoll_ctl(pycgi_worker_fd.epoll, EPOLL_CTL_ADD, conn, &ev) < 0) {
            return -1;
        }
        pycgi_worker_conn_unkeep();
        pycgi_worker_kept_fd = conn;
        pycgi_worker_kserial = serial;
    }
    return 0;
}

/* Serve `conn`; closed unless it is the kept connection now. */
static unsigned pycgi_worker_serve(int conn, uint32_t serial, char *what,
                                   size_t whatlen)
{
    int kept;
    unsigned retire = pycgi_worker_request(conn, serial, &kept, what,
                                           whatlen);

    if (!kept) {
        if (conn == pycgi_worker_kept_fd) {
            pycgi_worker_conn_unkeep();
        }
        else {
            close(conn);
        }
    }
    return retire;
}

/* To the back of the line of idle workers that the pool's socket wakes.
 * With EPOLLEXCLUSIVE a new connection wakes the first worker, in the
 * order they began to wait on the socket, that is idle in epoll_wait():
 * a fixed order.  A worker that took a new connection while it kept
 * another client connection's (it gave that one up: a steal) goes
 * behind the others, so that a worker keeping nothing, such as the
 * fresh one that replaces a retired worker, is woken before the others
 * are stolen from in turn.  Otherwise the client connection that lost
 * its worker steals another's, whose client steals the next, and so on
 * while the fresh worker idles behind them all: measured under event,
 * 8 clients of 8 workers retiring every 10,000 requests, 8% of
 * requests went on new connections and 3% were sent twice.  0, or -1
 * when the socket can no longer be waited on. */
static int pycgi_worker_conn_wait_last(void)
{
    struct epoll_event ev;

    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.fd = pycgi_worker_fd.listen;
    if (epoll_ctl(pycgi_worker_fd.epoll, EPOLL_CTL_DEL,
                  pycgi_worker_fd.listen, NULL) < 0) {
        return -1;
    }
    return epoll_ctl(pycgi_worker_fd.epoll, EPOLL_CTL_ADD,
                     pycgi_worker_fd.listen, &ev);
}

/* Wait for connections (and requests on the kept one) until a retire
 * reason comes up. */
void pycgi_worker_conn_loop(void)
{
    int timeout = pycgi_worker_args.idle_timeout
                  ? (int)pycgi_worker_args.idle_timeout * 1000 : -1;
    uint32_t serial_next = ((uint32_t)pycgi_worker_now() * 2654435761u) & ~1u;
    char what[256];

    pycgi_worker_self = getpid();
    for (;;) {
        struct epoll_event ev[3];
        int n, i, listen_ready = 0, kept_ready, conn;
        uint64_t was;
        unsigned retire = PYCGI_RETIRE_NONE;

        n = epoll_wait(pycgi_worker_fd.epoll, ev, 3, timeout);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            snprintf(what, sizeof(what), "epoll_wait: %s", strerror(errno));
            pycgi_worker_retire(PYCGI_RETIRE_ERROR, what);
        }
        /* Off the market first: no claim can be made from here on, and
         * one made already is served before anything else. */
        was = __atomic_exchange_n(&pycgi_worker_slot->claim, 0,
                                  __ATOMIC_SEQ_CST);
        pycgi_worker_published = 0;
        kept_ready = (was & PYCGI_CLAIMED) && pycgi_worker_kept_fd >= 0;
        if (n == 0 && !kept_ready && pycgi_worker_draining) {
            pycgi_worker_retire(PYCGI_RETIRE_SHUTDOWN,
                                "the supervisor is gone (stop or restart)");
        }
        if (n == 0 && !kept_ready) {
            snprintf(what, sizeof(what), "idle for %lu seconds",
                     pycgi_worker_args.idle_timeout);
            pycgi_worker_retire(PYCGI_RETIRE_IDLE, what);
        }
        for (i = 0; i < n; i++) {
            if (ev[i].data.fd == pycgi_worker_fd.life) {
                char c;

                /* Nobody writes there: readable means EOF.  On a graceful
                 * restart httpd children of the old generation may still
                 * send requests: serve what comes until a quarter of a
                 * second passes without one, then exit (nothing is
                 * published for a claim any more). */
                if (read(pycgi_worker_fd.life, &c, 1) <= 0) {
                    epoll_ctl(pycgi_worker_fd.epoll, EPOLL_CTL_DEL,
                              pycgi_worker_fd.life, NULL);
                    pycgi_worker_draining = 1;
                    timeout = 250;
                }
            }
            else if (ev[i].data.fd == pycgi_worker_kept_fd) {
                /* A claimed request, or EOF: httpd let it go. */
                kept_ready = 1;
            }
            else {
                listen_ready = 1;
            }
        }
        conn = -1;
        if (listen_ready) {
            /* A new connection first, even against a claim: this worker
             * alone was woken for it (EPOLLEXCLUSIVE).  A claim it beats
             * is given up by closing the kept connection: its httpd
             * side starts over on a new connection, which wakes another
             * worker. */
            conn = accept4(pycgi_worker_fd.listen, NULL, NULL,
                           SOCK_CLOEXEC | SOCK_NONBLOCK);
            if (conn < 0 && errno != EAGAIN && errno != EINTR
                && errno != ECONNABORTED) {
                snprintf(what, sizeof(what), "accept: %s", strerror(errno));
                pycgi_worker_retire(PYCGI_RETIRE_ERROR, what);
            }
            if (conn >= 0 && conn <= 2) {
                int restored;

                conn = pycgi_worker_proc_lowfd(conn, &restored);
                if (restored & 6) {
                    /* Not both of the kept pipes any more. */
                    pycgi_worker_conn_unkeep();
                }
            }
        }
        if (conn >= 0) {
            int stole = pycgi_worker_kept_fd >= 0;

            if (was & PYCGI_CLAIMED) {
                pycgi_worker_conn_unkeep();
            }
            retire = pycgi_worker_serve(conn, serial_next, what,
                                        sizeof(what));
            serial_next += 2;
            if (!retire && stole && pycgi_worker_kept_fd == conn
                && pycgi_worker_conn_wait_last() < 0) {
                snprintf(what, sizeof(what), "epoll_ctl on the pool's "
                         "socket: %s", strerror(errno));
                retire = PYCGI_RETIRE_ERROR;
            }
        }
        else if (kept_ready && pycgi_worker_kept_fd >= 0) {
            retire = pycgi_worker_serve(pycgi_worker_kept_fd,
                                        pycgi_worker_kserial, what,
                                        sizeof(what));
        }
        if (retire) {
            pycgi_worker_retire(retire, what);
        }
        if (!pycgi_worker_published) {
            /* Woken for nothing, or a request that was not kept: the
             * connection kept before is claimable again. */
            pycgi_worker_conn_publish();
        }
    }
}
