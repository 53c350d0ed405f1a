/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_worker.h -- the daemon worker program (pycgi-worker), shared
 * between its C files:
 *
 *   pycgi_worker.c       main(), one request from record to answer, the
 *                        Python half (the only file that includes
 *                        Python.h);
 *   pycgi_worker_conn.c  its connections: the wait loop, the kept
 *                        connection and its claim word, reading a
 *                        request record, the replies;
 *   pycgi_worker_proc.c  plain process work: logging, descriptors, the
 *                        request's environment and locale, and the
 *                        after-request checks against a boot snapshot;
 *   pycgi_worker_fork.c  PyCGIIsolation fork's child and its wait.
 *
 * No httpd or APR header: the worker is a separate program that the
 * supervisor execs, talking to httpd only through pycgi_proto.h.
 * Single-threaded: nothing here is locked.
 */
#ifndef PYCGI_WORKER_H
#define PYCGI_WORKER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pycgi_proto.h"

/* Log levels of the lines on the log pipe. */
#define PYCGI_WORKER_ERROR   0
#define PYCGI_WORKER_WARNING 1
#define PYCGI_WORKER_NOTICE  2
#define PYCGI_WORKER_INFO    3
#define PYCGI_WORKER_DEBUG   4

/* "PYCGI0nnn: " as the rest of mod_pycgi writes it (see ERRORS.md). */
#define PYCGI_WORKER_LOGNO(n) "PYCGI" #n ": "

/* One line "LEVEL message\n" on the log pipe, in one write().  Newlines
 * in the message are turned into spaces; long lines are cut. */
void pycgi_worker_log(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The command line (see pycgi_worker.c); read-only after start-up. */
typedef struct {
    const char *pool;
    unsigned long slot;
    unsigned long max_requests;     /* 0 = never */
    unsigned long memory_kb;        /* 0 = no limit */
    unsigned long idle_timeout;     /* seconds, 0 = never */
    const char *python;
    const char *preload;            /* "mod1,mod2" or NULL */
    int compat_first;
    /* A user pool's worker (both set, or neither): suexec's document
     * root for its user, and its AP_SAFE_PATH. */
    const char *suexec_root;
    const char *suexec_path;
} pycgi_worker_config;

extern pycgi_worker_config pycgi_worker_args;

/* The pool's segment and this worker's slot in it (the worker writes
 * only its own slot). */
extern pycgi_pool_head *pycgi_worker_head;
extern pycgi_pool_slot *pycgi_worker_slot;

int pycgi_worker_parse_args(int argc, char **argv);

/* Map the segment from PYCGI_WORKER_FD_SHM (closed afterwards), check
 * it and the slot number.  0, or -1 after logging. */
int pycgi_worker_map(void);

/* Enter a PYCGI_SLOT_* state (and say why, once EXITING). */
void pycgi_worker_set_state(unsigned state, unsigned reason);

/* Descriptors the worker keeps for itself (all >= 3, CLOEXEC). */
typedef struct {
    int listen;         /* PYCGI_WORKER_FD_LISTEN */
    int life;           /* PYCGI_WORKER_FD_LIFE */
    int log;            /* a dup of the log pipe (fd 2 at start) */
    int devnull;        /* /dev/null, O_RDWR */
    int eof;            /* a pipe's read end whose writer is gone: the
                         * stdin of a request without a body (what a
                         * CGI process gets, EOF at once) */
    int stat;           /* /proc/self/statm, for RSS */
    int task;           /* /proc/self/task: its link count, threads + 2 */
    int epoll;          /* listen (EPOLLEXCLUSIVE) + life + the kept
                         * connection (pycgi_worker_conn.c's; see
                         * "Kept connections" in pycgi_proto.h) */
} pycgi_worker_fds;

extern pycgi_worker_fds pycgi_worker_fd;

/* Start-up: close-on-exec on every fd >= 3, the kept descriptors
 * above, socket timeouts.  Returns 0, or -1 after logging. */
int pycgi_worker_proc_init(void);

/* The worker's own std fds, between requests: fd 0 its pipe at EOF
 * (the stdin of a request without a body), fd 1 /dev/null, fd 2 the
 * log pipe.  Those of `mask` (bit 1 << fd) are put back.  0, or -1 if
 * a dup2() failed. */
int pycgi_worker_proc_own_std(unsigned mask);

/* Reap the worker's children that have ended (it is a subreaper: a
 * script's orphans are its children), without waiting. */
void pycgi_worker_proc_reap(void);

/* `conn`, just accepted, took a number in 0-2: one of the std fds was
 * closed after the worker had put it back (the clean-up freed a file
 * object the script left over it, such as `sys.stdin = open(0)`).  The
 * connection moves above the script's range and fds 0-2 are the
 * worker's own again (logged; *restored gets a bit 1 << fd for each
 * fd put back).  Returns the new connection fd, or -1 (conn closed). */
int pycgi_worker_proc_lowfd(int conn, int *restored);

/* Snapshot of the process state the after-request checks compare
 * with (signals, mask, umask, rlimits, ids).  Taken once at boot, after
 * Python installed its own signal handlers. */
void pycgi_worker_proc_snapshot(void);

/* The real user and group ids of the snapshot: the worker's identity
 * (a process that is not root cannot change them; one that changed
 * any of its ids has them compared with the snapshot and retires). */
void pycgi_worker_proc_ids(uid_t *uid, gid_t *gid);

/* The cheap checks, after every request: threads (beyond those at
 * boot), RSS if there is a limit (`memory_kb`, 0 = none), and, if
 * `children` (the script forked or spawned), child processes (reaped
 * if finished).  Returns 0 or a PYCGI_RETIRE_* reason; `what` gets a
 * phrase for the log line. */
unsigned pycgi_worker_proc_check(unsigned long memory_kb, int children,
                                 char *what, size_t whatlen);

/* The full comparison with the boot snapshot (~90 system calls): only
 * when the script touched signals or process state through Python,
 * and every PYCGI_WORKER_FULL_CHECK requests for changes made in C.
 * Also reaps children. */
#define PYCGI_WORKER_FULL_CHECK 128
unsigned pycgi_worker_proc_check_full(char *what, size_t whatlen);

/* The request's environment: `env` points at nenv "NAME=value"
 * strings (inside the request buffer, owned by the caller and kept
 * until the next request).  Makes `environ` exactly that (plus
 * LC_CTYPE=C.UTF-8 where python3 would coerce the C locale, as it does
 * at start-up), and fills `out` with the entries in order.  Also
 * decides the std streams' encoding python3 would choose under it.
 * The array is the worker's own, reused from request to request;
 * whatever glibc's setenv() makes of it during a script is glibc's. */
typedef struct {
    char **envp;            /* the entries, NULL-terminated */
    size_t n;
    const char *pythonpath; /* PYTHONPATH's value, or NULL */
    int body;               /* CONTENT_LENGTH or HTTP_TRANSFER_ENCODING */
    const char *encoding;   /* the std streams' encoding and errors, */
    const char *errors;     /* as python3 would choose them */
} pycgi_worker_env;

int pycgi_worker_proc_environ(char **env, size_t nenv, pycgi_worker_env *out);

/* --- PyCGIIsolation fork (pycgi_worker_fork.c) ---------------------- */

/* Before each fork: the learning pipe exists and is empty.  0 or -1. */
int pycgi_worker_fork_prepare(void);

/* The learning pipe's write end, for the child (close-on-exec): it
 * writes there the names of the library modules it imported,
 * "name\n" each; the worker reads them after the child is gone. */
int pycgi_worker_fork_learn_fd(void);

/* In the child, at once after fork(): dies with the worker, drops
 * every descriptor and mapping of the pool and httpd's connection
 * `conn`, applies the request's rlimits.  Returns 0, or the errno of a
 * limit it could not apply (said by the caller once the request's
 * stderr is fd 2: until then fds 1 and 2 may be pipes the worker keeps
 * for another connection). */
int pycgi_worker_fork_child(const pycgi_proto_req *h, pid_t worker,
                            int conn);

/* In the worker: wait for the child; a SIGTERM meanwhile (the
 * supervisor's) goes on to the child, then SIGKILL after a grace, and
 * *killed is set; PYCGI_SLOW_SIGNAL (httpd's, PyCGISlowLog) goes on to
 * the child, whose faulthandler dumps the script's stack.  Returns the
 * wait status. */
int pycgi_worker_fork_wait(pid_t pid, int *killed);

/* What the child wrote on the learning pipe (up to cap bytes). */
size_t pycgi_worker_fork_learned(char *buf, size_t cap);

/* Microseconds since the epoch (vDSO: no system call). */
int64_t pycgi_worker_now(void);

/* --- connections (pycgi_worker_conn.c) ------------------------------ */

/* The most descriptors a request record may bring. */
#define PYCGI_WORKER_MAX_FDS 8

/* The request in hand: its record, and its strings (script path, cwd,
 * request line, argv, env; see pycgi_proto_req) in a buffer kept until
 * the next request (environ points into it).  Set by
 * pycgi_worker_conn_read(). */
extern pycgi_proto_req pycgi_worker_req;
extern char **pycgi_worker_strs;

/* Read and check one request on `conn`: the record, its strings and
 * exactly the descriptors its flags announce (into fds[], *nfds of
 * them).  1, 0 for a connection closed before a byte, -1 with *err. */
int pycgi_worker_conn_read(int conn, int *fds, int *nfds, const char **err);

/* Is `token` the pool's secret?  (Constant time.) */
int pycgi_worker_conn_token_ok(const uint8_t *token);

/* One reply record, without blocking.  0, or -1 if it did not go out. */
int pycgi_worker_conn_reply(int conn, unsigned kind, int status, unsigned flags);

void pycgi_worker_conn_close_all(int *fds, int nfds);

/* `conn` (serial `serial`) becomes the kept connection, in the epoll
 * set (one kept before is closed).  0, or -1 if it cannot be watched. */
int pycgi_worker_conn_keep(int conn, uint32_t serial);

/* The kept connection, if any, published in the slot's claim word:
 * the worker is idle and its httpd side may claim it. */
void pycgi_worker_conn_publish(void);

/* No kept connection any more (nor its pipes: fds 1 and 2 back to
 * /dev/null and the log). */
void pycgi_worker_conn_unkeep(void);

/* Before the worker runs Python for a request whose script does not
 * get fds 1 and 2 (fork isolation): kept pipes go back (fds 1 and 2 to
 * /dev/null and the log), and the connection kept with them unless it
 * is `conn`, the request's. */
void pycgi_worker_conn_stdio_drop(int conn);

/* In a child forked to run a script (PyCGIIsolation fork): the kept
 * connection and its pipes are not the child's (its copy of the fd is
 * closed unless it is `conn`, the request's, which the caller closes;
 * the worker's epoll set is left alone). */
void pycgi_worker_conn_child(int conn);

/* New pipes `out` and `err` for the request on `conn` are about to
 * become fds 1 and 2: note what they are; a connection kept before
 * (other than conn) goes, its pipes being replaced.  0, or -1. */
int pycgi_worker_conn_stdio_fresh(int conn, int out, int err);

/* After a request: keep `conn` (serial `serial`) with fds 1 and 2 if
 * they are still the request's pipes; otherwise, or if `keepable` is
 * 0, let go of the pipes (fds 1 and 2 to /dev/null and the log, so that
 * httpd sees their EOF).  Returns 1 if kept, 0 if not, -1 if the
 * worker's own fds are gone. */
int pycgi_worker_conn_stdio_end(int conn, uint32_t serial, int keepable);

/* Wait for new connections and claimed requests, serve them, until a
 * retire reason comes up (then it does not return). */
void pycgi_worker_conn_loop(void);

/* --- requests (pycgi_worker.c) ---------------------------------------- */

/* One request on `conn` (a new connection, or the kept one, whose
 * serial is `serial`): read, check, run, answer.  *kept says whether
 * conn is the kept connection now; if not, the caller closes it.
 * Returns 0 to go on, or the reason to retire (`what` says why). */
unsigned pycgi_worker_request(int conn, uint32_t serial, int *kept,
                              char *what, size_t whatlen);

/* Retire: the slot says why, one info line says why, then exit. */
void pycgi_worker_retire(unsigned reason, const char *why)
    __attribute__((noreturn));

#endif /* PYCGI_WORKER_H */
