/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_pipe.c -- the poll loop over a CGI process's three pipes
 * (exec and daemon runners).
 */
#include "pycgi_pipe.h"
#include <poll.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

/* Per-request state of a script's pipes; lives in r->pool. */
typedef struct {
    request_rec *r;
    apr_file_t *out;            /* script's stdout (we read) */
    apr_file_t *err;            /* script's stderr (we read), NULL at EOF */
    apr_pollset_t *pollset;     /* out + err */
    apr_interval_time_t timeout;
    pycgi_linebuf *lb;
    int timed_out;              /* stdout went silent past the timeout */
    const pycgi_pipe_slow *slow;
    apr_time_t slow_at;         /* when slow->fn is due; 0 = done/never */
    apr_file_t *exitfd;         /* pidfd of our script: readable once it
                                 * has exited; NULL if none or seen */
    const pycgi_pipe_end *end;  /* exitfd's, with its word */
    apr_time_t exited;          /* when its exit was seen, or 0 */
    int drain;                  /* end->fn said all output is in: read
                                 * the pipes until empty, not to EOF */
    int cut;                    /* stdout given up after the exit grace,
                                 * or read to its end when draining */
    int out_eof;                /* stdout's real EOF was read */
    int drain_err;              /* stderr could not be read to empty */
    int drain_empty;            /* draining, one look found both pipes
                                 * empty: nothing more to read */
    int lingered;               /* a linger ran out: never again */
} pycgi_pipe_state;

/* How long stderr may stay open once stdout has closed. */
#define PYCGI_PIPE_STDERR_GRACE apr_time_from_msec(500)

/* How long stdout is read on after the script exited: it is normally
 * at EOF then, unless a child the script left running holds it. */
#define PYCGI_PIPE_EXIT_GRACE apr_time_from_sec(1)

/* How long a look that finds stdout empty waits for the end of a
 * script whose end says that all of its output is in (a daemon
 * worker's DONE), before the output read so far goes out: see
 * pycgi_pipe_linger(). */
#define PYCGI_PIPE_LINGER_NS 1000000L

/* Poll set entries, by client_data. */
#define PYCGI_PIPE_OUT  ((void *)1)
#define PYCGI_PIPE_ERR  ((void *)2)
#define PYCGI_PIPE_EXIT ((void *)3)

/* A pollset of up to three descriptors on poll(2): nothing to set up in
 * the kernel, where epoll would cost three system calls per request. */
static apr_status_t pycgi_pipe_pollset(apr_pollset_t **ps, apr_pool_t *p)
{
    return apr_pollset_create_ex(ps, 3, p, 0, APR_POLLSET_POLL);
}

/* apr_pollset_poll() for up to `timeout`, with the slow-log deadline
 * in the middle: when it passes, the callback runs and the wait goes
 * on for the rest of `timeout`.  A non-blocking look never fires it. */
static apr_status_t pycgi_pipe_poll(pycgi_pipe_state *x, apr_pollset_t *ps,
                                    apr_interval_time_t timeout,
                                    apr_int32_t *n, const apr_pollfd_t **res)
{
    apr_time_t until;

    if (!x->slow_at || timeout <= 0) {
        return apr_pollset_poll(ps, timeout, n, res);
    }
    until = apr_time_now() + timeout;
    for (;;) {
        apr_time_t now = apr_time_now(), wake;
        apr_status_t rv;

        if (x->slow_at && now >= x->slow_at) {
            x->slow_at = 0;
            x->slow->fn(x->r, x->lb, x->slow->data);
            now = apr_time_now();
        }
        wake = x->slow_at && x->slow_at < until ? x->slow_at : until;
        if (now >= wake) {
            return APR_TIMEUP;
        }
        rv = apr_pollset_poll(ps, wake - now, n, res);
        if (!APR_STATUS_IS_TIMEUP(rv) || wake == until) {
            return rv;
        }
    }
}

static void pycgi_pipe_unpoll(pycgi_pipe_state *x, apr_file_t *f,
                              void *which)
{
    apr_pollfd_t pfd;

    pfd.desc_type = APR_POLL_FILE;
    pfd.desc.f = f;
    pfd.reqevents = APR_POLLIN;
    pfd.p = x->r->pool;
    pfd.client_data = which;
    apr_pollset_remove(x->pollset, &pfd);
}

#ifdef SYS_pidfd_open
static apr_status_t pycgi_pipe_close_fd(void *fd)
{
    close((int)(apr_uintptr_t)fd);
    return APR_SUCCESS;
}
#endif

/* A pidfd for our script `pid` (Linux 5.3 and later; elsewhere NULL:
 * the exit is not watched).  Closed with r->pool. */
static apr_file_t *pycgi_pipe_pidfd(request_rec *r, pid_t pid)
{
#ifdef SYS_pidfd_open
    apr_os_file_t fd = (apr_os_file_t)syscall(SYS_pidfd_open, pid, 0);
    apr_file_t *f = NULL;

    if (fd < 0 || apr_os_file_put(&f, &fd, APR_FOPEN_READ, r->pool)
                  != APR_SUCCESS) {
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    apr_pool_cleanup_register(r->pool, (void *)(apr_uintptr_t)fd,
                              pycgi_pipe_close_fd, apr_pool_cleanup_null);
    return f;
#else
    (void)r;
    (void)pid;
    return NULL;
#endif
}

/* `ended` (readable once the script has ended) polled with the pipes. */
static void pycgi_pipe_watch_exit(pycgi_pipe_state *x,
                                  const pycgi_pipe_end *ended)
{
    apr_pollfd_t pfd;

    x->exitfd = ended->fd;
    x->end = ended;
    pfd.desc_type = APR_POLL_FILE;
    pfd.desc.f = ended->fd;
    pfd.reqevents = APR_POLLIN;
    pfd.p = x->r->pool;
    pfd.client_data = PYCGI_PIPE_EXIT;
    apr_pollset_add(x->pollset, &pfd);
}

/* stderr is readable (poll said so): log what one read() gives; the
 * pipe may block, so there is no second read before the next poll.
 * At EOF the pipe leaves the pollset. */
static void pycgi_pipe_read_err(pycgi_pipe_state *x)
{
    char buf[HUGE_STRING_LEN];
    apr_status_t rv;

    if (x->err) {
        apr_size_t len = sizeof(buf);

        rv = apr_file_read(x->err, buf, &len);
        if (len > 0) {
            pycgi_log_stderr(x->lb, buf, len);
        }
        if (rv != APR_SUCCESS && !APR_STATUS_IS_EAGAIN(rv)) {
            apr_pollfd_t pfd;

            pfd.desc_type = APR_POLL_FILE;
            pfd.desc.f = x->err;
            pfd.reqevents = APR_POLLIN;
            pfd.p = x->r->pool;
            pfd.client_data = PYCGI_PIPE_ERR;
            apr_pollset_remove(x->pollset, &pfd);
            pycgi_log_stderr_flush(x->lb);
            x->err = NULL;
        }
    }
}

/* A non-blocking look for output is about to find stdout empty, and
 * the output read so far would go to the client now, with the end of
 * the response in a second write, once the script's end is seen.  A
 * daemon worker writes a script's last output and says DONE a few
 * microseconds apart: wait for that (or more output) up to
 * PYCGI_PIPE_LINGER_NS in all, logging stderr meanwhile, so that the
 * whole response goes out in one write -- one TCP segment, one wake-up
 * of the client.  A script that goes on past it (output first, then a
 * long computation, or a stream of stderr) costs that wait once per
 * request: a linger that runs out is not repeated. */
static void pycgi_pipe_linger(pycgi_pipe_state *x)
{
    apr_time_t until = apr_time_now() + PYCGI_PIPE_LINGER_NS / 1000;

    for (;;) {
        apr_interval_time_t left = until - apr_time_now();
        struct timespec ts;
        struct pollfd p[3];
        apr_os_file_t fd;
        int n = 0, rc;

        if (left <= 0) {
            x->lingered = 1;
            return;
        }
        ts.tv_sec = 0;
        ts.tv_nsec = (long)left * 1000;
        apr_os_file_get(&fd, x->out);
        p[n].fd = fd;
        p[n++].events = POLLIN;
        apr_os_file_get(&fd, x->exitfd);
        p[n].fd = fd;
        p[n++].events = POLLIN;
        if (x->err) {
            apr_os_file_get(&fd, x->err);
            p[n].fd = fd;
            p[n++].events = POLLIN;
        }
        rc = ppoll(p, n, &ts, NULL);
        if (rc == 0) {
            x->lingered = 1;
            return;
        }
        if (rc < 0 && errno == EINTR) {
            continue;
        }
        if (rc < 0 || p[0].revents || p[1].revents) {
            return;
        }
        /* stderr alone: log it and wait on for the time left. */
        pycgi_pipe_read_err(x);
    }
}

/* Wait for stdout (1) to be readable, logging stderr meanwhile.  Returns
 * APR_SUCCESS when stdout has data or EOF, APR_TIMEUP after `timeout`
 * of silence, APR_EAGAIN for a non-blocking look, APR_EOF when the
 * script exited PYCGI_PIPE_EXIT_GRACE ago and stdout is still open. */
static apr_status_t pycgi_pipe_wait_out(pycgi_pipe_state *x,
                                        apr_interval_time_t timeout)
{
    for (;;) {
        const apr_pollfd_t *res;
        apr_int32_t n, i;
        int out_ready = 0, bounded = 0;
        apr_interval_time_t wait = timeout;
        apr_status_t rv;

        if (x->drain) {
            /* All the output is in: what is readable now is the rest. */
            wait = 0;
        }
        else if (!timeout && x->exitfd && x->end->fn && !x->lingered) {
            pycgi_pipe_linger(x);
        }
        else if (x->exited && timeout) {
            apr_interval_time_t left = x->exited + PYCGI_PIPE_EXIT_GRACE
                                       - apr_time_now();

            if (left <= 0) {
                return APR_EOF;
            }
            if (left < wait) {
                wait = left;
                bounded = 1;
            }
        }
        rv = pycgi_pipe_poll(x, x->pollset, wait, &n, &res);
        if (APR_STATUS_IS_EINTR(rv)) {
            continue;
        }
        if (APR_STATUS_IS_TIMEUP(rv)) {
            if (x->drain) {
                /* Both pipes (stderr unless at its EOF) in that look. */
                x->drain_empty = 1;
                return APR_EOF;
            }
            if (bounded) {
                return APR_EOF;
            }
            return timeout ? APR_TIMEUP : APR_EAGAIN;
        }
        if (rv != APR_SUCCESS) {
            ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, x->r, PYCGI_LOGNO(0104)
                          "poll failed waiting for CGI script %s",
                          x->r->filename);
            return rv;
        }
        for (i = 0; i < n; i++) {
            if (res[i].client_data == PYCGI_PIPE_OUT) {
                out_ready = 1;
            }
            else if (res[i].client_data == PYCGI_PIPE_EXIT) {
                /* Seen once; what it left on stdout is read on. */
                pycgi_pipe_unpoll(x, x->exitfd, PYCGI_PIPE_EXIT);
                x->exitfd = NULL;
                x->exited = apr_time_now();
                x->drain = x->end->fn && x->end->fn(x->end->data);
            }
            else {
                pycgi_pipe_read_err(x);
            }
        }
        if (out_ready) {
            return APR_SUCCESS;
        }
    }
}

/* The script's stdout as a bucket that morphs into heap buckets as it
 * is read, like APR's pipe bucket, but polling stderr alongside so that
 * a script chatty on stderr never blocks (and its lines are logged as
 * they come). */
static const apr_bucket_type_t pycgi_pipe_bucket_type;

static apr_bucket *pycgi_pipe_bucket_make(pycgi_pipe_state *x,
                                          apr_bucket_alloc_t *list)
{
    apr_bucket *b = apr_bucket_alloc(sizeof(*b), list);

    APR_BUCKET_INIT(b);
    b->free = apr_bucket_free;
    b->list = list;
    b->type = &pycgi_pipe_bucket_type;
    b->length = (apr_size_t)(-1);
    b->start = -1;
    b->data = x;
    return b;
}

static apr_status_t pycgi_pipe_bucket_read(apr_bucket *b, const char **str,
                                           apr_size_t *len,
                                           apr_read_type_e block)
{
    pycgi_pipe_state *x = b->data;
    apr_status_t rv;
    char *buf;

    if (x->timed_out) {
        /* The script was given its CGIScriptTimeout once: whoever reads
         * on (the ScriptLog, the drain after a failed header scan) must
         * not wait a second time. */
        return APR_TIMEUP;
    }
    rv = x->cut ? APR_EOF
         : pycgi_pipe_wait_out(x, block == APR_NONBLOCK_READ ? 0 : x->timeout);
    if (rv == APR_EOF) {
        if (!x->cut && x->drain) {
            /* The end of the output, not of the pipe. */
            x->cut = 1;
        }
        else if (!x->cut) {
            x->cut = 1;
            ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, x->r, PYCGI_LOGNO(0112)
                          "%s exited %" APR_TIME_T_FMT " ms ago and its "
                          "stdout is still open (a process it left running "
                          "holds it): the response ends here", x->r->filename,
                          apr_time_as_msec(PYCGI_PIPE_EXIT_GRACE));
        }
        /* As at the pipe's end: an empty bucket; the brigade's EOS
         * follows. */
        b = apr_bucket_immortal_make(b, "", 0);
        *str = b->data;
        *len = 0;
        return APR_SUCCESS;
    }
    if (rv != APR_SUCCESS) {
        if (APR_STATUS_IS_TIMEUP(rv)) {
            x->timed_out = 1;
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, x->r, PYCGI_LOGNO(0105)
                          "Timeout waiting for output from CGI script %s",
                          x->r->filename);
        }
        return rv;
    }

    *len = APR_BUCKET_BUFF_SIZE;
    buf = apr_bucket_alloc(*len, b->list);
    rv = apr_file_read(x->out, buf, len);
    if (rv != APR_SUCCESS && rv != APR_EOF && !APR_STATUS_IS_EAGAIN(rv)) {
        apr_bucket_free(buf);
        return rv;
    }
    if (*len > 0) {
        apr_bucket_heap *h;

        b = apr_bucket_heap_make(b, buf, *len, apr_bucket_free);
        h = b->data;
        h->alloc_len = APR_BUCKET_BUFF_SIZE;
        *str = buf;
        APR_BUCKET_INSERT_AFTER(b, pycgi_pipe_bucket_make(x, b->list));
        return APR_SUCCESS;
    }
    apr_bucket_free(buf);
    if (APR_STATUS_IS_EAGAIN(rv)) {
        /* Spurious wake-up: stay a pipe bucket, report nothing yet. */
        *str = "";
        return block == APR_NONBLOCK_READ ? APR_EAGAIN
                                          : pycgi_pipe_bucket_read(b, str, len,
                                                                   block);
    }
    /* EOF: become an empty bucket; the brigade's EOS follows. */
    x->out_eof = 1;
    b = apr_bucket_immortal_make(b, "", 0);
    *str = b->data;
    return APR_SUCCESS;
}

static const apr_bucket_type_t pycgi_pipe_bucket_type = {
    "PYCGI_PIPE", 5, APR_BUCKET_DATA,
    apr_bucket_destroy_noop,
    pycgi_pipe_bucket_read,
    apr_bucket_setaside_notimpl,
    apr_bucket_split_notimpl,
    apr_bucket_copy_notimpl
};

/* Copy the request body to the script's stdin, then close it.  stderr
 * is logged meanwhile; a script that stops reading (exits, closes
 * stdin) gets the rest drained instead.  Returns OK or the status a
 * broken body maps to. */
static int pycgi_pipe_feed(pycgi_pipe_state *x, apr_file_t *in,
                           pycgi_body *body)
{
    request_rec *r = x->r;
    apr_pollset_t *ps = NULL;
    apr_pollfd_t pfd;
    const char *data;
    apr_size_t len;
    int stopped = in == NULL;   /* no stdin pipe: nothing to write */

    pfd.desc_type = APR_POLL_FILE;
    pfd.p = r->pool;
    while (pycgi_body_next(body, HUGE_STRING_LEN, &data, &len) == APR_SUCCESS) {
        while (len && !stopped) {
            apr_size_t n = len;
            apr_status_t rv = apr_file_write(in, data, &n);

            if (n > 0) {
                data += n;
                len -= n;
                continue;
            }
            if (APR_STATUS_IS_EAGAIN(rv) && !ps
                && pycgi_pipe_pollset(&ps, r->pool) == APR_SUCCESS) {
                /* A full pipe: wait for room, logging stderr meanwhile
                 * (made only now: most bodies fit at once). */
                pfd.desc.f = in;
                pfd.reqevents = APR_POLLOUT;
                pfd.client_data = PYCGI_PIPE_OUT;
                apr_pollset_add(ps, &pfd);
                if (x->err) {
                    pfd.desc.f = x->err;
                    pfd.reqevents = APR_POLLIN;
                    pfd.client_data = PYCGI_PIPE_ERR;
                    apr_pollset_add(ps, &pfd);
                }
            }
            if (APR_STATUS_IS_EAGAIN(rv) && ps) {
                const apr_pollfd_t *res;
                apr_int32_t num, i;

                rv = pycgi_pipe_poll(x, ps, x->timeout, &num, &res);
                if (rv == APR_SUCCESS || APR_STATUS_IS_EINTR(rv)) {
                    for (i = 0; rv == APR_SUCCESS && i < num; i++) {
                        if (res[i].client_data == PYCGI_PIPE_ERR) {
                            int had_err = x->err != NULL;

                            pycgi_pipe_read_err(x);
                            if (had_err && !x->err) {
                                pfd.desc.f = res[i].desc.f;
                                pfd.reqevents = APR_POLLIN;
                                apr_pollset_remove(ps, &pfd);
                            }
                        }
                    }
                    continue;
                }
            }
            /* EPIPE, timeout, ...: the script does not want the rest. */
            ap_log_rerror(APLOG_MARK, APLOG_INFO, rv, r, PYCGI_LOGNO(0106)
                          "Error writing request body to script %s",
                          r->filename);
            stopped = 1;
        }
    }
    if (in) {
        apr_file_close(in);
    }
    if (ps) {
        apr_pollset_destroy(ps);
    }
    return pycgi_body_status(body);
}

apr_file_t *pycgi_pipe_file_lent(apr_pool_t *p, int fd)
{
    apr_file_t *f = NULL;

    return apr_os_pipe_put_ex(&f, &fd, 0, p) == APR_SUCCESS ? f : NULL;
}

apr_file_t *pycgi_pipe_file(apr_pool_t *p, int *fd, int writing)
{
    apr_file_t *f = NULL;

    if (apr_os_pipe_put_ex(&f, fd, 1, p) != APR_SUCCESS) {
        close(*fd);
        *fd = -1;
        return NULL;
    }
    *fd = -1;   /* the apr_file_t owns it now */
    if (writing) {
        /* The body loop writes what fits and polls for the rest. */
        apr_file_pipe_timeout_set(f, 0);
    }
    return f;
}

int pycgi_pipe_serve_child(request_rec *r, int nph,
                           apr_interval_time_t timeout, apr_file_t *in,
                           apr_file_t *out, apr_file_t *err, pid_t pid,
                           const pycgi_pipe_slow *slow,
                           pycgi_pipe_result *res)
{
    pycgi_pipe_end ended;

    ended.fd = pid > 0 ? pycgi_pipe_pidfd(r, pid) : NULL;
    ended.fn = NULL;
    ended.data = NULL;
    return pycgi_pipe_serve(r, nph, timeout, in, out, err,
                            ended.fd ? &ended : NULL, slow, res);
}

int pycgi_pipe_serve(request_rec *r, int nph, apr_interval_time_t timeout,
                     apr_file_t *in, apr_file_t *out, apr_file_t *err,
                     const pycgi_pipe_end *ended,
                     const pycgi_pipe_slow *slow, pycgi_pipe_result *res)
{
    apr_bucket_alloc_t *ba = r->connection->bucket_alloc;
    pycgi_pipe_state *x = apr_pcalloc(r->pool, sizeof(*x));
    apr_bucket_brigade *bb;
    pycgi_output *o;
    pycgi_body *body;
    apr_pollfd_t pfd;
    apr_status_t rv;
    int status;

    x->r = r;
    x->out = out;
    x->err = err;
    x->timeout = timeout;
    x->lb = pycgi_log_linebuf(r);
    if (slow && slow->after > 0 && slow->fn) {
        x->slow = slow;
        x->slow_at = apr_time_now() + slow->after;
    }
    if (res) {
        res->timed_out = 0;
        res->drained = 0;
    }
    rv = pycgi_pipe_pollset(&x->pollset, r->pool);
    if (rv != APR_SUCCESS) {
        if (in) {
            apr_file_close(in);
        }
        return pycgi_log_scripterror(r, HTTP_INTERNAL_SERVER_ERROR, rv,
                                     PYCGI_LOGNO(0107),
                                     "apr_pollset_create failed for");
    }
    pfd.desc_type = APR_POLL_FILE;
    pfd.reqevents = APR_POLLIN;
    pfd.p = r->pool;
    pfd.desc.f = x->out;
    pfd.client_data = PYCGI_PIPE_OUT;
    apr_pollset_add(x->pollset, &pfd);
    pfd.desc.f = x->err;
    pfd.client_data = PYCGI_PIPE_ERR;
    apr_pollset_add(x->pollset, &pfd);
    if (ended) {
        pycgi_pipe_watch_exit(x, ended);
    }

    body = pycgi_body_of(r);
    status = pycgi_pipe_feed(x, in, body);
    if (status != OK) {
        /* A broken request body: the script gets EOF; the client gets
         * the status httpd maps the failure to, as with mod_cgi. */
        return status;
    }

    o = pycgi_output_create(r, nph);
    o->body = body;
    bb = apr_brigade_create(r->pool, ba);
    APR_BRIGADE_INSERT_TAIL(bb, pycgi_pipe_bucket_make(x, ba));
    APR_BRIGADE_INSERT_TAIL(bb, apr_bucket_eos_create(ba));
    pycgi_output_headers(o, bb);

    /* The rest of stderr: whatever the script writes until it closes it
     * (normally at exit, with stdout).  A script that closed stdout and
     * goes on (os.close(1), a background child holding stderr) has
     * ended its response: its stderr gets a short grace, not the whole
     * script timeout -- and none at all once stdout has timed out or
     * was given up after the script's exit (a background child holding
     * both pipes would double the wait; mod_cgi gives up at once). */
    if (x->drain && x->cut) {
        /* All of stderr is in its pipe too: read while there is some
         * (unless the look that ended stdout saw it empty as well). */
        pycgi_pipe_unpoll(x, x->out, PYCGI_PIPE_OUT);
        while (x->err && !x->drain_empty) {
            apr_int32_t n;
            const apr_pollfd_t *pres;

            rv = apr_pollset_poll(x->pollset, 0, &n, &pres);
            if (APR_STATUS_IS_EINTR(rv)) {
                continue;
            }
            if (rv != APR_SUCCESS) {
                x->drain_err = !APR_STATUS_IS_TIMEUP(rv);
                break;
            }
            pycgi_pipe_read_err(x);
        }
    }
    else if (x->err && !r->connection->aborted && !x->timed_out
             && !x->cut) {
        apr_interval_time_t grace = timeout < PYCGI_PIPE_STDERR_GRACE
                                    ? timeout : PYCGI_PIPE_STDERR_GRACE;
        apr_time_t until = apr_time_now() + grace;

        pycgi_pipe_unpoll(x, x->out, PYCGI_PIPE_OUT);
        if (x->exitfd) {
            pycgi_pipe_unpoll(x, x->exitfd, PYCGI_PIPE_EXIT);
        }
        while (x->err) {
            apr_int32_t n;
            const apr_pollfd_t *pres;
            apr_interval_time_t left = until - apr_time_now();

            if (left <= 0) {
                ap_log_rerror(APLOG_MARK, APLOG_INFO, 0, r, PYCGI_LOGNO(0108)
                              "%s still holds stderr %" APR_TIME_T_FMT
                              " ms after its stdout closed: the response "
                              "ends, later stderr is not logged",
                              r->filename, apr_time_as_msec(grace));
                break;
            }
            rv = apr_pollset_poll(x->pollset, left, &n, &pres);
            if (APR_STATUS_IS_EINTR(rv)) {
                continue;
            }
            if (rv != APR_SUCCESS && !APR_STATUS_IS_TIMEUP(rv)) {
                break;
            }
            if (rv == APR_SUCCESS) {
                pycgi_pipe_read_err(x);
            }
        }
    }
    pycgi_log_stderr_flush(x->lb);
    if (res) {
        res->timed_out = x->timed_out;
        res->drained = x->drain && x->cut && !x->out_eof && x->err
                       && !x->drain_err && !x->timed_out;
    }
    return pycgi_output_finish(o);
}
