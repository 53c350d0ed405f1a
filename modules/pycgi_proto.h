/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_proto.h -- what crosses between httpd and a daemon worker: the
 * request and reply records on a pool's socket, and the layout of a
 * pool's shared status segment.  Plain C (stdint only): included by
 * the httpd side (pycgi_daemon.c, pycgi_pool.c, pycgi_super.c) and by
 * the worker program (worker/pycgi_worker.c), which links no httpd code.
 *
 * One request = one connection to the pool's listening socket
 * (AF_UNIX, SOCK_STREAM):
 *
 *   httpd  -> worker   pycgi_proto_req, then `length` bytes of strings;
 *                      the first sendmsg() carries SCM_RIGHTS with
 *                      exactly 3 fds: the script's stdin (read end),
 *                      stdout (write end), stderr (write end) -- or
 *                      only the last two with PYCGI_REQ_NO_STDIN.
 *   worker -> httpd    pycgi_proto_reply kind STARTED once it has taken
 *                      the request (httpd reads the worker's pid from
 *                      SCM_CREDENTIALS, which the kernel fills in, never
 *                      from the record), and kind DONE once the script
 *                      ended and the worker has cleaned up: it has
 *                      closed its stdin and, unless DONE says KEPT, its
 *                      stdout and stderr; or REFUSED instead of both.
 *
 * Kept connections.  After a clean request the worker may keep the
 * connection instead of closing it (at most one: its latest) and
 * publish it in its slot's `claim` word, PYCGI_CLAIM(pid, serial), the
 * serial its STARTED gave.  The httpd thread that holds the other end
 * may then give it its next request without connecting: it first turns
 * the word into PYCGI_CLAIM(pid, serial) | PYCGI_CLAIMED with one
 * compare-and-swap, which succeeds only while the worker idles with
 * that very connection; then it sends the request there as on a new
 * connection.  The worker sets the word to 0 whenever it takes any
 * request (and before it exits), so that a claim and a connection from
 * the listening socket never both get it; a claimed worker serves the
 * claim first.  Either side closing the connection ends it (a claim
 * then made is void: httpd starts over on a new connection).
 *
 * Kept pipes.  A worker that keeps the connection also keeps the
 * request's stdout and stderr pipes as its fds 1 and 2, if they still
 * are (it compares them with what it was given), and httpd keeps its
 * read ends with the connection.  DONE KEPT then means: every byte of
 * the script's output is in those pipes, and nothing more comes, so
 * httpd reads them until empty (not to EOF).  It keeps them only if it
 * read both that far; otherwise it closes all three, and the worker,
 * seeing EOF on the connection, lets go of its ends too.  The next
 * request on the connection is sent with PYCGI_REQ_KEPT_STDIO and
 * carries only its stdin fd, if any: no pipes to make, pass or close.
 * Nothing is kept after a script started a process: it could hold
 * a copy of a pipe.
 *
 * Every length is checked by the reader; a record that does not parse
 * ends the connection (the worker logs it and goes on).
 */
#ifndef PYCGI_PROTO_H
#define PYCGI_PROTO_H

#include <signal.h>
#include <stdint.h>

#define PYCGI_PROTO_MAGIC    0x50594347u     /* "PYCG" */
#define PYCGI_PROTO_VERSION  4u
#define PYCGI_TOKEN_LEN      16
/* The most string bytes a request may carry (environment + argv). */
#define PYCGI_PROTO_MAX_LEN  (4u * 1024 * 1024)

/* Request.  The strings that follow, each NUL-terminated, in order:
 *   script path, working directory, the request line (for the status
 *   page, may be ""), argv[0 .. nargv-1], env[0 .. nenv-1] ("NAME=value").
 * `token` is the pool's secret (see pycgi_pool_head): a process that
 * does not know it gets REFUSED and nothing runs. */
typedef struct {
    uint32_t magic;
    uint32_t version;
    uint8_t  token[PYCGI_TOKEN_LEN];
    uint32_t length;            /* bytes of strings after this record */
    uint32_t nargv;             /* >= 1 */
    uint32_t nenv;
    uint32_t flags;             /* PYCGI_REQ_* */
    int64_t  mtime;             /* httpd's stat of the script (usec), */
    int64_t  size;              /* the code cache's key: an edit or a */
    uint64_t inode;             /* replaced file recompiles */
    uint32_t rlimits;           /* PYCGI_RLIM_* bits: which of rlimit[] */
    uint32_t pad;               /* are set (fork isolation applies them) */
    uint64_t rlimit[3][2];      /* soft, hard; RLIM_INFINITY as ~0 */
} pycgi_proto_req;

/* rlimit[] indexes (RLimitCPU, RLimitMEM, RLimitNPROC) */
#define PYCGI_RLIM_CPU   0
#define PYCGI_RLIM_MEM   1          /* RLIMIT_AS, as APR sets it */
#define PYCGI_RLIM_NPROC 2

/* Request flags */
#define PYCGI_REQ_NO_STDIN   2u     /* no request body: the first sendmsg
                                     * carries 2 fds (stdout, stderr); the
                                     * script's stdin is a pipe at EOF the
                                     * worker keeps for this */
#define PYCGI_REQ_BODY       1u     /* httpd may write a request body to
                                     * the script's stdin (the worker
                                     * then empties what the script left
                                     * unread of it in sys.stdin's
                                     * buffers; it also guesses from
                                     * CONTENT_LENGTH and
                                     * HTTP_TRANSFER_ENCODING) */
#define PYCGI_REQ_KEPT_STDIO 8u     /* on a kept connection: stdout and
                                     * stderr are the kept pipes, not
                                     * passed (see "Kept pipes") */
#define PYCGI_REQ_FORK       4u     /* PyCGIIsolation fork: the worker
                                     * forks a child that applies
                                     * rlimit[], runs the script and
                                     * exits; the worker itself runs no
                                     * script code */

/* PyCGISlowLog: the httpd child sends this signal to the worker that
 * runs a slow script.  The worker has faulthandler registered for it
 * (at boot, before its snapshot of signal handlers): every thread's
 * Python stack goes to fd 2, the request's stderr, which httpd logs.
 * Under fork isolation the worker passes it on to the script's
 * process, which inherited the same registration.  A real-time signal
 * (40 with glibc), which no script meets by chance. */
#define PYCGI_SLOW_SIGNAL    (SIGRTMIN + 6)

#define PYCGI_REPLY_STARTED  1u
#define PYCGI_REPLY_DONE     2u
#define PYCGI_REPLY_REFUSED  3u

/* REFUSED reasons */
#define PYCGI_REFUSE_PROTOCOL 1u    /* bad magic, version, lengths, fds */
#define PYCGI_REFUSE_TOKEN    2u    /* wrong pool secret */
#define PYCGI_REFUSE_SUEXEC   3u    /* a user pool's worker: suexec's
                                     * rules do not pass */

/* DONE flags */
#define PYCGI_DONE_RETIRING  1u     /* the worker exits after this one */
#define PYCGI_DONE_KEPT      2u     /* the worker keeps the connection */

typedef struct {
    uint32_t magic;
    uint32_t kind;              /* PYCGI_REPLY_* */
    int32_t  status;            /* DONE: exit status 0-255; REFUSED:
                                 * reason; STARTED: the worker's slot */
    uint32_t flags;             /* DONE: PYCGI_DONE_*; STARTED: the
                                 * connection's serial (even) */
} pycgi_proto_reply;

/* A slot's claim word (see "Kept connections" above). */
#define PYCGI_CLAIM(pid, serial) \
    (((uint64_t)(uint32_t)(pid) << 32) | (uint32_t)(serial))
#define PYCGI_CLAIMED 1u

/* --- a pool's shared segment (a memfd) ------------------------------

 * Created by the httpd parent, mapped by every httpd child (inherited),
 * by the supervisor, and by the pool's own workers (the fd is passed at
 * exec).  A worker writes only its own slot; everything a worker wrote
 * is untrusted by the readers (copied, bounded, escaped). */

#define PYCGI_POOL_MAGIC     0x504f4f4cu     /* "POOL" */
#define PYCGI_POOL_MAX_SLOTS 256

#define PYCGI_SLOT_FREE      0u
#define PYCGI_SLOT_STARTING  1u     /* exec'ed, Python booting */
#define PYCGI_SLOT_IDLE      2u     /* waiting in accept() */
#define PYCGI_SLOT_BUSY      3u     /* running a script */
#define PYCGI_SLOT_EXITING   4u     /* retiring */

/* Why a worker retired (slot.retire_reason; the supervisor counts them). */
#define PYCGI_RETIRE_NONE        0u
#define PYCGI_RETIRE_MAX_REQUESTS 1u
#define PYCGI_RETIRE_MEMORY      2u
#define PYCGI_RETIRE_IDLE        3u
#define PYCGI_RETIRE_THREADS     4u /* threads still alive */
#define PYCGI_RETIRE_SIGNALS     5u /* signal handlers or mask changed */
#define PYCGI_RETIRE_PROCESS     6u /* umask, rlimits, uid, cwd root... */
#define PYCGI_RETIRE_CHILDREN    7u /* a child process still running */
#define PYCGI_RETIRE_STDIO       8u /* std fds or stream objects replaced */
#define PYCGI_RETIRE_SHUTDOWN    9u /* supervisor gone (stop, restart) */
#define PYCGI_RETIRE_ERROR      10u /* the worker's own failure */
#define PYCGI_RETIRE_REASONS    11u

typedef struct {
    volatile int32_t  pid;          /* 0 = free */
    volatile uint32_t state;        /* PYCGI_SLOT_* */
    volatile uint64_t requests;     /* served since the worker started */
    volatile int64_t  since;        /* state entered (usec, realtime) */
    volatile uint32_t retire_reason;/* PYCGI_RETIRE_* once EXITING */
    uint32_t pad;
    uint64_t claim;                 /* a kept connection, or 0 (atomic:
                                     * see "Kept connections") */
    char script[256];               /* BUSY: the script, NUL-terminated */
} pycgi_pool_slot;

typedef struct {
    uint32_t magic;
    uint32_t nslots;                /* slots that follow */
    uint8_t  token[PYCGI_TOKEN_LEN];/* the pool's secret */
    pycgi_pool_slot slot[1];        /* nslots of them */
} pycgi_pool_head;

#define PYCGI_POOL_SHM_SIZE(n) \
    (sizeof(pycgi_pool_head) + ((n) - 1) * sizeof(pycgi_pool_slot))

/* The worker program's fixed descriptors (the supervisor sets them up
 * before exec; everything else is closed). */
#define PYCGI_WORKER_FD_LISTEN 3    /* the pool's listening socket */
#define PYCGI_WORKER_FD_SHM    4    /* the pool's segment */
#define PYCGI_WORKER_FD_LIFE   5    /* EOF here = supervisor gone: exit */
/* fd 0: a pipe at EOF between requests (the stdin of a request without
 * a body); fd 1: /dev/null; fd 2: the pool's log pipe to the
 * supervisor between requests (lines "LEVEL message\n", LEVEL one of
 * error, warning, notice, info, debug), logged with the worker's pid. */

#endif /* PYCGI_PROTO_H */
