/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE).
 */

/*
 * pycgi_worker_fork.c -- PyCGIIsolation fork, the process side: what a
 * child the worker forks for one request does before the script runs
 * (it becomes a CGI process that knows nothing of the pool), how the
 * worker waits for it (passing on the supervisor's SIGTERM), and the
 * pipe on which the child names the library modules it imported.
 * The Python side of the fork is pycgi_worker.c's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "pycgi_worker.h"

/* How long a script asked to stop (SIGTERM) has before SIGKILL; the
 * supervisor kills the worker itself 3 s after its own SIGTERM. */
#define PYCGI_WORKER_TERM_GRACE_MS 2000

/* The learning pipe: [0] the worker's (non-blocking), [1] the child's.
 * Made once, kept for the worker's life. */
static int pycgi_worker_learn[2] = { -1, -1 };

static volatile sig_atomic_t pycgi_worker_term, pycgi_worker_slow;

static void pycgi_worker_on_term(int sig)
{
    if (sig == SIGTERM) {
        pycgi_worker_term = 1;
    }
    else {
        pycgi_worker_slow = 1;
    }
}

int pycgi_worker_fork_prepare(void)
{
    char junk[4096];

    if (pycgi_worker_learn[0] < 0) {
        int p[2], i;

        if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
            return -1;
        }
        /* Above the numbers a script uses. */
        for (i = 0; i < 2; i++) {
            pycgi_worker_learn[i] = fcntl(p[i], F_DUPFD_CLOEXEC, 10);
            close(p[i]);
        }
        if (pycgi_worker_learn[0] < 0 || pycgi_worker_learn[1] < 0) {
            return -1;
        }
    }
    /* What an earlier child (or its children) wrote late is stale. */
    while (read(pycgi_worker_learn[0], junk, sizeof(junk)) > 0) {
    }
    return 0;
}

int pycgi_worker_fork_learn_fd(void)
{
    return pycgi_worker_learn[1];
}

/* The slot a child "writes" once it no longer maps the pool. */
static pycgi_pool_slot pycgi_worker_child_slot;

int pycgi_worker_fork_child(const pycgi_proto_req *h, pid_t worker,
                            int conn)
{
    static const int res[3] = { RLIMIT_CPU, RLIMIT_AS, RLIMIT_NPROC };
    int i;

    /* The script's process dies with the worker (a SIGKILL'ed worker
     * cannot pass anything on). */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != worker) {
        _exit(1);
    }
    /* Nothing of the pool stays: not its socket (no other request can
     * be taken from here), not httpd's connection, not its segment (the
     * token), not the life pipe or the log pipe.  The request's fds are
     * still where recvmsg() put them; the caller moves them to 0-2 and
     * then drops the EOF pipe.  What stays is the learning pipe's
     * write end (close-on-exec). */
    pycgi_worker_conn_child(conn);
    close(conn);
    close(pycgi_worker_fd.listen);
    close(pycgi_worker_fd.life);
    close(pycgi_worker_fd.epoll);
    close(pycgi_worker_fd.stat);
    close(pycgi_worker_fd.task);
    close(pycgi_worker_fd.devnull);
    close(pycgi_worker_learn[0]);
    close(pycgi_worker_fd.log);
    /* From here pycgi_worker_log() writes to fd 2: the request's stderr
     * once the caller has moved it there, i.e. httpd's error log for
     * this request. */
    pycgi_worker_fd.log = -1;
    pycgi_worker_fd.listen = pycgi_worker_fd.life = pycgi_worker_fd.epoll = -1;
    pycgi_worker_fd.stat = pycgi_worker_fd.task = pycgi_worker_fd.devnull = -1;
    munmap(pycgi_worker_head,
           PYCGI_POOL_SHM_SIZE(pycgi_worker_head->nslots));
    pycgi_worker_head = NULL;
    pycgi_worker_slot = &pycgi_worker_child_slot;
    for (i = 0; i < 3; i++) {
        struct rlimit rl;

        if (!(h->rlimits & (1u << i))) {
            continue;
        }
        rl.rlim_cur = h->rlimit[i][0] == ~(uint64_t)0 ? RLIM_INFINITY
                      : (rlim_t)h->rlimit[i][0];
        rl.rlim_max = h->rlimit[i][1] == ~(uint64_t)0 ? RLIM_INFINITY
                      : (rlim_t)h->rlimit[i][1];
        if (setrlimit(res[i], &rl) < 0) {
            return errno;
        }
    }
    return 0;
}

int pycgi_worker_fork_wait(pid_t pid, int *killed)
{
    struct sigaction sa, old, old_slow;
    int st = 0, waited = 0;

    *killed = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = pycgi_worker_on_term;
    sigemptyset(&sa.sa_mask);
    /* No SA_RESTART: waitpid() returns EINTR. */
    pycgi_worker_term = 0;
    pycgi_worker_slow = 0;
    sigaction(SIGTERM, &sa, &old);
    /* httpd's request for a slow script's stack is for the script, not
     * for this waiting worker (faulthandler's handler, put back after). */
    sigaction(PYCGI_SLOW_SIGNAL, &sa, &old_slow);
    for (;;) {
        pid_t w = waitpid(pid, &st, 0);

        if (w == pid) {
            break;
        }
        if (w < 0 && errno != EINTR) {
            st = 0;
            break;
        }
        if (pycgi_worker_slow) {
            pycgi_worker_slow = 0;
            kill(pid, PYCGI_SLOW_SIGNAL);
        }
        if (pycgi_worker_term && !*killed) {
            /* The supervisor's SIGTERM (CGIScriptTimeout, or stop): the
             * script gets it as an exec'ed one would, then SIGKILL. */
            *killed = 1;
            kill(pid, SIGTERM);
            for (waited = 0; waited < PYCGI_WORKER_TERM_GRACE_MS;
                 waited += 10) {
                if (waitpid(pid, &st, WNOHANG) == pid) {
                    goto done;
                }
                usleep(10000);
            }
            kill(pid, SIGKILL);
        }
    }
done:
    sigaction(PYCGI_SLOW_SIGNAL, &old_slow, NULL);
    sigaction(SIGTERM, &old, NULL);
    return st;
}

size_t pycgi_worker_fork_learned(char *buf, size_t cap)
{
    size_t got = 0;
    ssize_t n;

    while (got < cap
           && (n = read(pycgi_worker_learn[0], buf + got, cap - got)) > 0) {
        got += n;
    }
    return got;
}
