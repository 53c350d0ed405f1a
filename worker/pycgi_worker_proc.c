/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_worker_proc.c -- the plain-C process work of the daemon worker
 * (no Python): the log pipe, the worker's own descriptors, the
 * request's environment and locale, and the after-request checks.
 *
 * The checks come in two sizes.  After every request, a handful of
 * system calls: wait4() for children, one pread() of /proc/self/stat
 * for threads and RSS, one sigprocmask() for the mask.  Everything else
 * that a script could change in the process and that would outlive it
 * (sigactions, interval timers, umask, rlimits, ids, session, nice,
 * root) is compared with the boot snapshot only when the Python half
 * saw the script call one of the functions that change it, and every
 * PYCGI_WORKER_FULL_CHECK requests for changes made from C (ctypes, an
 * extension).  That costs ~90 system calls, i.e. more than a request.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <locale.h>
#include <langinfo.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "pycgi_worker.h"

pycgi_worker_fds pycgi_worker_fd = { -1, -1, -1, -1, -1, -1, -1, -1 };

static const char *const pycgi_worker_levels[] = {
    "error", "warning", "notice", "info", "debug"
};

void pycgi_worker_log(int level, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    int n, i;
    int fd = pycgi_worker_fd.log >= 0 ? pycgi_worker_fd.log : 2;

    n = snprintf(line, sizeof(line), "%s ", pycgi_worker_levels[level]);
    va_start(ap, fmt);
    i = vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
    va_end(ap);
    if (i < 0) {
        return;
    }
    n += i;
    if (n > (int)sizeof(line) - 2) {
        n = sizeof(line) - 2;
    }
    /* One line per write(): the supervisor reads lines. */
    for (i = 0; i < n; i++) {
        if (line[i] == '\n' || line[i] == '\r') {
            line[i] = ' ';
        }
    }
    line[n++] = '\n';
    if (write(fd, line, n) < 0) {
        /* nowhere left to say it */
    }
}

int64_t pycgi_worker_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Descriptors the worker keeps go above the range scripts use. */
#define PYCGI_WORKER_FD_MIN 10

static int pycgi_worker_keep(int fd)
{
    int kept;

    if (fd < 0) {
        return -1;
    }
    kept = fcntl(fd, F_DUPFD_CLOEXEC, PYCGI_WORKER_FD_MIN);
    close(fd);
    return kept;
}

int pycgi_worker_proc_own_std(unsigned mask)
{
    const int own[3] = { pycgi_worker_fd.eof, pycgi_worker_fd.devnull,
                         pycgi_worker_fd.log };
    int fd, rc = 0;

    for (fd = 0; fd < 3; fd++) {
        if ((mask & (1u << fd)) && dup2(own[fd], fd) < 0) {
            rc = -1;
        }
    }
    return rc;
}

int pycgi_worker_proc_lowfd(int conn, int *restored)
{
    int up = pycgi_worker_keep(conn), fd;

    *restored = 0;
    for (fd = 0; fd < 3; fd++) {
        if (fcntl(fd, F_GETFD) < 0) {
            pycgi_worker_proc_own_std(1u << fd);
            *restored |= 1 << fd;
            pycgi_worker_log(PYCGI_WORKER_INFO, PYCGI_WORKER_LOGNO(0815)
                             "fd %d was closed after the last request (a "
                             "file object the script left over it): put "
                             "back", fd);
        }
    }
    return up;
}

int pycgi_worker_proc_init(void)
{
    struct epoll_event ev;
    int fl;

    /* Nothing the supervisor left open may reach a script's children. */
    if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
        int fd;

        for (fd = 3; fd < 1024; fd++) {
            fcntl(fd, F_SETFD, FD_CLOEXEC);
        }
    }
    pycgi_worker_fd.listen = PYCGI_WORKER_FD_LISTEN;
    pycgi_worker_fd.life = PYCGI_WORKER_FD_LIFE;
    pycgi_worker_fd.log = fcntl(2, F_DUPFD_CLOEXEC, PYCGI_WORKER_FD_MIN);
    pycgi_worker_fd.devnull =
        pycgi_worker_keep(open("/dev/null", O_RDWR | O_CLOEXEC));
    {
        int p[2];

        pycgi_worker_fd.eof = -1;
        if (pipe2(p, O_CLOEXEC) == 0) {
            close(p[1]);
            pycgi_worker_fd.eof = pycgi_worker_keep(p[0]);
        }
    }
    pycgi_worker_fd.stat =
        pycgi_worker_keep(open("/proc/self/statm", O_RDONLY | O_CLOEXEC));
    pycgi_worker_fd.task = pycgi_worker_keep(open("/proc/self/task",
                                        O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    pycgi_worker_fd.epoll = pycgi_worker_keep(epoll_create1(EPOLL_CLOEXEC));
    if (pycgi_worker_fd.log < 0 || pycgi_worker_fd.devnull < 0
        || pycgi_worker_fd.eof < 0 || pycgi_worker_fd.stat < 0 || pycgi_worker_fd.task < 0
        || pycgi_worker_fd.epoll < 0) {
        pycgi_worker_log(PYCGI_WORKER_ERROR, PYCGI_WORKER_LOGNO(0803)
                         "cannot open the worker's own descriptors: %s",
                         strerror(errno));
        return -1;
    }
    /* Every idle worker of the pool waits on the same socket: a
     * non-blocking accept() for the ones that lose the race, and
     * EPOLLEXCLUSIVE so that one connection does not wake them all. */
    fl = fcntl(pycgi_worker_fd.listen, F_GETFL);
    if (fl < 0 || fcntl(pycgi_worker_fd.listen, F_SETFL, fl | O_NONBLOCK) < 0) {
        pycgi_worker_log(PYCGI_WORKER_ERROR, PYCGI_WORKER_LOGNO(0803)
                         "fd %d is not the pool's socket: %s",
                         PYCGI_WORKER_FD_LISTEN, strerror(errno));
        return -1;
    }
    ev.events = EPOLLIN | EPOLLEXCLUSIVE;
    ev.data.fd = pycgi_worker_fd.listen;
    if (epoll_ctl(pycgi_worker_fd.epoll, EPOLL_CTL_ADD,
                  pycgi_worker_fd.listen, &ev) < 0) {
        pycgi_worker_log(PYCGI_WORKER_ERROR, PYCGI_WORKER_LOGNO(0803)
                         "cannot wait on fd %d (the pool's socket): %s",
                         PYCGI_WORKER_FD_LISTEN, strerror(errno));
        return -1;
    }
    ev.events = EPOLLIN;
    ev.data.fd = pycgi_worker_fd.life;
    if (epoll_ctl(pycgi_worker_fd.epoll, EPOLL_CTL_ADD,
                  pycgi_worker_fd.life, &ev) < 0) {
        pycgi_worker_log(PYCGI_WORKER_ERROR, PYCGI_WORKER_LOGNO(0803)
                         "cannot wait on fd %d (the life pipe): %s",
                         PYCGI_WORKER_FD_LIFE, strerror(errno));
        return -1;
    }
    return 0;
}

/* --- the command line and the pool segment --------------------------- */

pycgi_worker_config pycgi_worker_args;
pycgi_pool_head *pycgi_worker_head;
pycgi_pool_slot *pycgi_worker_slot;

static int pycgi_worker_number(const char *s, unsigned long *out)
{
    char *end;

    errno = 0;
    *out = strtoul(s, &end, 10);
    return errno || end == s || *end || *s == '-' ? -1 : 0;
}

int pycgi_worker_parse_args(int argc, char **argv)
{
    int i, seen = 0;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;

        if (!strcmp(a, "--compat-first")) {
            pycgi_worker_args.compat_first = 1;
            continue;
        }
        if (!v) {
            bad = 1;
        }
        else if (!strcmp(a, "--pool")) {
            pycgi_worker_args.pool = v;
            seen |= 1;
        }
        else if (!strcmp(a, "--slot")) {
            bad = pycgi_worker_number(v, &pycgi_worker_args.slot);
            seen |= 2;
        }
        else if (!strcmp(a, "--max-requests")) {
            bad = pycgi_worker_number(v, &pycgi_worker_args.max_requests);
        }
        else if (!strcmp(a, "--memory-mb")) {
            bad = pycgi_worker_number(v, &pycgi_worker_args.memory_kb);
            pycgi_worker_args.memory_kb *= 1024;
        }
        else if (!strcmp(a, "--idle-timeout")) {
            bad = pycgi_worker_number(v, &pycgi_worker_args.idle_timeout)
                  || pycgi_worker_args.idle_timeout > 86400 * 365;
        }
        else if (!strcmp(a, "--python")) {
            pycgi_worker_args.python = v;
            seen |= 4;
        }
        else if (!strcmp(a, "--preload")) {
            pycgi_worker_args.preload = v;
        }
        else if (!strcmp(a, "--suexec-root")) {
            pycgi_worker_args.suexec_root = v;
        }
        else if (!strcmp(a, "--suexec-path")) {
            pycgi_worker_args.suexec_path = v;
        }
        else {
            bad = 1;
        }
        if (bad) {
            pycgi_worker_log(PYCGI_WORKER_ERROR, PYCGI_WORKER_LOGNO(0801)
                             "bad command line at \"%s\"", a);
            return -1;
        }
        i++;
    }
    if (!pycgi_worker_args.suexec_root != !pycgi_worker_args.suexec_path) {
        pycgi_worker_log(PYCGI_WORKER_ERROR, PYCGI_WORKER_LOGNO(0801)
                         "bad command line: --suexec-root and --suexec-path "
                         "go together");
        return -1;
    }
    if (seen != 7) {
        pycgi_worker_log(PYCGI_WORKER_ERROR, PYCGI_WORKER_LOGNO(0801)
                         "bad command line: --pool, --slot and --python "
                         "are required");
        return -1;
    }
    return 0;
}

/* Map the pool's segment (fd 4) and find our slot.  The fd is closed:
 * the mapping is all the worker needs, and a script cannot reach it. */
int pycgi_worker_map(void)
{
    struct stat st;
    void *p;

    if (fstat(PYCGI_WORKER_FD_SHM, &st) < 0
        || (size_t)st.st_size < PYCGI_POOL_SHM_SIZE(1)) {
        pycgi_worker_log(PYCGI_WORKER_ERROR, PYCGI_WORKER_LOGNO(0804)
                         "fd %d is not a pool segment", PYCGI_WORKER_FD_SHM);
        return -1;
    }
    p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED,
             PYCGI_WORKER_FD_SHM, 0);
    close(PYCGI_WORKER_FD_SHM);
    if (p == MAP_FAILED) {
        pycgi_worker_log(PYCGI_WORKER_ERROR, PYCGI_WORKER_LOGNO(0804)
                         "cannot map the pool segment: %s", strerror(errno));
        return -1;
    }
    pycgi_worker_head = p;
    if (pycgi_worker_head->magic != PYCGI_POOL_MAGIC
        || pycgi_worker_head->nslots == 0
        || pycgi_worker_head->nslots > PYCGI_POOL_MAX_SLOTS
        || (size_t)st.st_size < PYCGI_POOL_SHM_SIZE(pycgi_worker_head->nslots)
        || pycgi_worker_args.slot >= pycgi_worker_head->nslots) {
        pycgi_worker_log(PYCGI_WORKER_ERROR, PYCGI_WORKER_LOGNO(0804)
                         "bad pool segment (magic %08x, %u slots) or "
                         "slot %lu", pycgi_worker_head->magic,
                         pycgi_worker_head->nslots, pycgi_worker_args.slot);
        return -1;
    }
    pycgi_worker_slot = &pycgi_worker_head->slot[pycgi_worker_args.slot];
    return 0;
}

void pycgi_worker_set_state(unsigned state, unsigned reason)
{
    pycgi_worker_slot->since = pycgi_worker_now();
    pycgi_worker_slot->retire_reason = reason;
    __sync_synchronize();
    pycgi_worker_slot->state = state;
}

/* --- the boot snapshot ---------------------------------------------- */

#define PYCGI_WORKER_NSIG 65
#ifdef SA_RESTORER
#define PYCGI_WORKER_SA_RESTORER SA_RESTORER
#else
#define PYCGI_WORKER_SA_RESTORER 0x04000000
#endif
/* The bytes of a sigset_t the kernel fills (glibc's sigset_t is 128
 * bytes; the rest of what sigaction() returns is stack garbage). */
#define PYCGI_WORKER_SIGSET ((PYCGI_WORKER_NSIG - 1) / 8)

static struct {
    struct sigaction act[PYCGI_WORKER_NSIG];
    unsigned char have[PYCGI_WORKER_NSIG];
    sigset_t mask;
    mode_t umask;
    struct rlimit rlim[RLIM_NLIMITS];
    uid_t uid[3];
    gid_t gid[3];
    int ngroups;
    gid_t groups[64];
    pid_t pgid, sid;
    int prio;
    dev_t root_dev;
    ino_t root_ino;
    long threads;
} pycgi_worker_boot;

void pycgi_worker_proc_ids(uid_t *uid, gid_t *gid)
{
    *uid = pycgi_worker_boot.uid[0];
    *gid = pycgi_worker_boot.gid[0];
}

static int pycgi_worker_groups(gid_t *g, int max)
{
    return getgroups(max, g);
}

void pycgi_worker_proc_snapshot(void)
{
    int i;
    struct stat st;

    for (i = 1; i < PYCGI_WORKER_NSIG; i++) {
        pycgi_worker_boot.have[i] =
            sigaction(i, NULL, &pycgi_worker_boot.act[i]) == 0;
    }
    sigprocmask(SIG_BLOCK, NULL, &pycgi_worker_boot.mask);
    pycgi_worker_boot.umask = umask(022);
    umask(pycgi_worker_boot.umask);
    for (i = 0; i < RLIM_NLIMITS; i++) {
        getrlimit(i, &pycgi_worker_boot.rlim[i]);
    }
    getresuid(&pycgi_worker_boot.uid[0], &pycgi_worker_boot.uid[1],
              &pycgi_worker_boot.uid[2]);
    getresgid(&pycgi_worker_boot.gid[0], &pycgi_worker_boot.gid[1],
              &pycgi_worker_boot.gid[2]);
    pycgi_worker_boot.ngroups = pycgi_worker_groups(pycgi_worker_boot.groups,
                                                    64);
    pycgi_worker_boot.pgid = getpgid(0);
    pycgi_worker_boot.sid = getsid(0);
    errno = 0;
    pycgi_worker_boot.prio = getpriority(PRIO_PROCESS, 0);
    if (stat("/", &st) == 0) {
        pycgi_worker_boot.root_dev = st.st_dev;
        pycgi_worker_boot.root_ino = st.st_ino;
    }
    /* Threads a --preload'ed library started (a BLAS pool) are the
     * worker's own: only more than these count. */
    pycgi_worker_boot.threads = fstat(pycgi_worker_fd.task, &st) == 0
                                ? (long)st.st_nlink - 2 : 1;
}

/* --- the checks ------------------------------------------------------ */

/* Threads: the link count of /proc/self/task is their number + 2. */
static int pycgi_worker_threads(long *threads)
{
    struct stat st;

    if (fstat(pycgi_worker_fd.task, &st) < 0) {
        return -1;
    }
    *threads = (long)st.st_nlink - 2;
    return 0;
}

/* Resident memory in KB if it is over `limit_kb`, else 0 (-1 on error).
 * The peak (getrusage(): nothing to format or parse) says whether it
 * ever was; only then is the present size read (field 2 of
 * /proc/self/statm, in pages), since memory a script freed may be back
 * with the system. */
static long pycgi_worker_rss_over(unsigned long limit_kb)
{
    struct rusage ru;
    char buf[256];
    ssize_t n;
    long pages;
    char *p;

    if (getrusage(RUSAGE_SELF, &ru) < 0) {
        return -1;
    }
    if ((unsigned long)ru.ru_maxrss <= limit_kb) {
        return 0;
    }
    n = pread(pycgi_worker_fd.stat, buf, sizeof(buf) - 1, 0);
    if (n <= 0) {
        return -1;
    }
    buf[n] = '\0';
    p = strchr(buf, ' ');
    if (!p) {
        return -1;
    }
    pages = strtol(p + 1, NULL, 10);
    if ((unsigned long)pages * (sysconf(_SC_PAGESIZE) / 1024) <= limit_kb) {
        return 0;
    }
    return pages * (sysconf(_SC_PAGESIZE) / 1024);
}

void pycgi_worker_proc_reap(void)
{
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

/* Children the script started, and their orphans (the worker is a
 * subreaper): the finished ones are reaped (as init would reap a CGI
 * process's orphans); one still running would be waited for by nobody,
 * and may hold the request's pipes. */
static unsigned pycgi_worker_children(char *what, size_t whatlen)
{
    pid_t pid;

    while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
    }
    if (pid == 0) {
        snprintf(what, whatlen, "a child process of the script is still "
                 "running");
        return PYCGI_RETIRE_CHILDREN;
    }
    return PYCGI_RETIRE_NONE;
}

unsigned pycgi_worker_proc_check(unsigned long memory_kb, int children,
                                 char *what, size_t whatlen)
{
    long threads, rss;
    int tries;

    if (children && pycgi_worker_children(what, whatlen)) {
        return PYCGI_RETIRE_CHILDREN;
    }
    if (pycgi_worker_threads(&threads) < 0) {
        snprintf(what, whatlen, "cannot count threads: %s", strerror(errno));
        return PYCGI_RETIRE_ERROR;
    }
    /* A thread that a script joined may take a moment to leave the
     * kernel's count: look again for up to ~5 ms before retiring. */
    for (tries = 0; threads > pycgi_worker_boot.threads && tries < 50;
         tries++) {
        struct timespec ts = { 0, 100000 };

        nanosleep(&ts, NULL);
        if (pycgi_worker_threads(&threads) < 0) {
            break;
        }
    }
    if (threads > pycgi_worker_boot.threads) {
        snprintf(what, whatlen, "%ld threads still running after the "
                 "script", threads - pycgi_worker_boot.threads);
        return PYCGI_RETIRE_THREADS;
    }
    rss = memory_kb ? pycgi_worker_rss_over(memory_kb) : 0;
    if (rss < 0) {
        snprintf(what, whatlen, "cannot read its memory size: %s",
                 strerror(errno));
        return PYCGI_RETIRE_ERROR;
    }
    if (rss > 0) {
        snprintf(what, whatlen, "resident memory %lu MB over the limit "
                 "of %lu MB", (unsigned long)rss / 1024, memory_kb / 1024);
        return PYCGI_RETIRE_MEMORY;
    }
    return PYCGI_RETIRE_NONE;
}

unsigned pycgi_worker_proc_check_full(char *what, size_t whatlen)
{
    int i;
    struct sigaction sa;
    struct itimerval it;
    struct rlimit rl;
    uid_t u[3];
    gid_t g[3], groups[64];
    mode_t m;
    struct stat st;
    sigset_t mask;

    if (pycgi_worker_children(what, whatlen)) {
        return PYCGI_RETIRE_CHILDREN;
    }
    if (sigprocmask(SIG_BLOCK, NULL, &mask) < 0
        || memcmp(&mask, &pycgi_worker_boot.mask, PYCGI_WORKER_SIGSET) != 0) {
        snprintf(what, whatlen, "the script changed the signal mask");
        return PYCGI_RETIRE_SIGNALS;
    }
    for (i = 1; i < PYCGI_WORKER_NSIG; i++) {
        const struct sigaction *b = &pycgi_worker_boot.act[i];

        if (!pycgi_worker_boot.have[i] || sigaction(i, NULL, &sa) < 0) {
            continue;
        }
        /* SA_RESTORER is glibc's own bookkeeping: a handler set and set
         * back (fork isolation's SIGTERM) comes back with it. */
        if (sa.sa_handler != b->sa_handler
            || (sa.sa_flags & ~PYCGI_WORKER_SA_RESTORER)
               != (b->sa_flags & ~PYCGI_WORKER_SA_RESTORER)
            || memcmp(&sa.sa_mask, &b->sa_mask, PYCGI_WORKER_SIGSET) != 0) {
            snprintf(what, whatlen, "the script changed the handler of "
                     "signal %d", i);
            return PYCGI_RETIRE_SIGNALS;
        }
    }
    for (i = ITIMER_REAL; i <= ITIMER_PROF; i++) {
        if (getitimer(i, &it) == 0
            && (it.it_value.tv_sec || it.it_value.tv_usec)) {
            snprintf(what, whatlen, "the script left an interval timer "
                     "(%d) running", i);
            return PYCGI_RETIRE_SIGNALS;
        }
    }
    m = umask(022);
    umask(m);
    if (m != pycgi_worker_boot.umask) {
        snprintf(what, whatlen, "the script changed the umask to %03o",
                 (unsigned)m);
        return PYCGI_RETIRE_PROCESS;
    }
    for (i = 0; i < RLIM_NLIMITS; i++) {
        if (getrlimit(i, &rl) == 0
            && (rl.rlim_cur != pycgi_worker_boot.rlim[i].rlim_cur
                || rl.rlim_max != pycgi_worker_boot.rlim[i].rlim_max)) {
            snprintf(what, whatlen, "the script changed resource limit "
                     "%d", i);
            return PYCGI_RETIRE_PROCESS;
        }
    }
    getresuid(&u[0], &u[1], &u[2]);
    getresgid(&g[0], &g[1], &g[2]);
    if (memcmp(u, pycgi_worker_boot.uid, sizeof(u)) != 0
        || memcmp(g, pycgi_worker_boot.gid, sizeof(g)) != 0
        || pycgi_worker_groups(groups, 64) != pycgi_worker_boot.ngroups
        || (pycgi_worker_boot.ngroups > 0
            && memcmp(groups, pycgi_worker_boot.groups,
                      pycgi_worker_boot.ngroups * sizeof(gid_t)) != 0)) {
        snprintf(what, whatlen, "the script changed its user or groups");
        return PYCGI_RETIRE_PROCESS;
    }
    errno = 0;
    if (getpgid(0) != pycgi_worker_boot.pgid
        || getsid(0) != pycgi_worker_boot.sid
        || getpriority(PRIO_PROCESS, 0) != pycgi_worker_boot.prio) {
        snprintf(what, whatlen, "the script changed its process group, "
                 "session or priority");
        return PYCGI_RETIRE_PROCESS;
    }
    if (stat("/", &st) < 0 || st.st_dev != pycgi_worker_boot.root_dev
        || st.st_ino != pycgi_worker_boot.root_ino) {
        snprintf(what, whatlen, "the script changed its root directory");
        return PYCGI_RETIRE_PROCESS;
    }
    return PYCGI_RETIRE_NONE;
}

/* --- the request's environment and locale ---------------------------- */

static char pycgi_worker_coerced[] = "LC_CTYPE=C.UTF-8";
static char **pycgi_worker_envp;
static size_t pycgi_worker_envcap;

/* The locale-related variables of the last request and what python3
 * would have made of them; recomputed only when one differs. */
#define PYCGI_WORKER_NLOCVARS 6
static const char *const pycgi_worker_locvars[PYCGI_WORKER_NLOCVARS] = {
    "LC_ALL=", "LC_CTYPE=", "LANG=", "PYTHONIOENCODING=", "PYTHONUTF8=",
    "PYTHONCOERCECLOCALE="
};
static struct {
    int valid;
    char *val[PYCGI_WORKER_NLOCVARS];   /* strdup'ed, NULL = unset */
    int coerce;
    char encoding[64];
    char errors[64];
} pycgi_worker_loc;

static int pycgi_worker_same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* What python3 3.11 decides at start-up from the locale variables
 * (Python/preconfig.c, Python/initconfig.c): C locale coercion, the
 * UTF-8 mode, the std streams' encoding and error handler. */
static void pycgi_worker_locale(const char *const *v)
{
    const char *lc_all = v[0] && *v[0] ? v[0] : NULL;
    const char *name = lc_all ? lc_all : v[1] && *v[1] ? v[1]
                     : v[2] && *v[2] ? v[2] : "C";
    int legacy = !strcmp(name, "C") || !strcmp(name, "POSIX");
    int utf8 = v[4] && !strcmp(v[4], "1") ? 1
             : v[4] && !strcmp(v[4], "0") ? 0 : -1;
    const char *codeset = "UTF-8";
    const char *errors;
    locale_t loc = (locale_t)0;

    if (!legacy) {
        loc = newlocale(LC_CTYPE_MASK, name, (locale_t)0);
        if (!loc) {
            legacy = 1;     /* setlocale() fails: the C locale it is */
        }
        else {
            codeset = nl_langinfo_l(CODESET, loc);
        }
    }
    pycgi_worker_loc.coerce = legacy && !lc_all
                              && !(v[5] && !strcmp(v[5], "0"));
    if (utf8 < 0) {
        utf8 = legacy;
    }
    if (legacy) {
        name = pycgi_worker_loc.coerce ? "C.UTF-8" : "C";
        codeset = pycgi_worker_loc.coerce ? "UTF-8" : "ANSI_X3.4-1968";
    }
    if (utf8 || !strcasecmp(codeset, "UTF-8") || !strcasecmp(codeset, "utf8")) {
        codeset = "utf-8";
    }
    else if (!strcmp(codeset, "ANSI_X3.4-1968")) {
        codeset = "ascii";
    }
    errors = utf8 || !strcmp(name, "C") || !strcmp(name, "POSIX")
             || !strcmp(name, "C.UTF-8") || !strcmp(name, "C.utf8")
             || !strcmp(name, "UTF-8") ? "surrogateescape" : "strict";
    /* PYTHONIOENCODING=encoding[:errors], either part may be empty. */
    if (v[3] && *v[3]) {
        const char *colon = strchr(v[3], ':');
        size_t len = colon ? (size_t)(colon - v[3]) : strlen(v[3]);

        if (len) {
            snprintf(pycgi_worker_loc.encoding,
                     sizeof(pycgi_worker_loc.encoding), "%.*s", (int)len,
                     v[3]);
            codeset = NULL;
            errors = "strict";
        }
        if (colon && colon[1]) {
            errors = colon + 1;
        }
    }
    if (codeset) {
        snprintf(pycgi_worker_loc.encoding, sizeof(pycgi_worker_loc.encoding),
                 "%s", codeset);
    }
    snprintf(pycgi_worker_loc.errors, sizeof(pycgi_worker_loc.errors), "%s",
             errors);
    if (loc) {
        freelocale(loc);
    }
    /* The process's LC_CTYPE, as python3 sets it (open()'s default
     * encoding, locale.getpreferredencoding()). */
    setlocale(LC_CTYPE, name);
}

int pycgi_worker_proc_environ(char **env, size_t nenv, pycgi_worker_env *out)
{
    const char *v[PYCGI_WORKER_NLOCVARS] = { NULL };
    ssize_t ctype = -1;
    size_t i;
    int k, changed = !pycgi_worker_loc.valid;

    if (nenv + 2 > pycgi_worker_envcap) {
        char **p = realloc(pycgi_worker_envp, (nenv + 2) * sizeof(char *));

        if (!p) {
            return -1;
        }
        pycgi_worker_envp = p;
        pycgi_worker_envcap = nenv + 2;
    }
    out->pythonpath = NULL;
    out->body = 0;
    for (i = 0; i < nenv; i++) {
        const char *e = env[i];

        pycgi_worker_envp[i] = env[i];
        if (e[0] == 'C' || e[0] == 'H') {
            if ((!strncmp(e, "CONTENT_LENGTH=", 15) && strcmp(e + 15, "0"))
                || !strncmp(e, "HTTP_TRANSFER_ENCODING=", 23)) {
                out->body = 1;
            }
            continue;
        }
        if (e[0] != 'L' && e[0] != 'P') {
            continue;
        }
        for (k = 0; k < PYCGI_WORKER_NLOCVARS; k++) {
            size_t len = strlen(pycgi_worker_locvars[k]);

            /* The first of two same names wins, as in getenv(). */
            if (!v[k] && !strncmp(e, pycgi_worker_locvars[k], len)) {
                v[k] = e + len;
                if (k == 1) {
                    ctype = i;
                }
            }
        }
        if (!out->pythonpath && !strncmp(e, "PYTHONPATH=", 11)) {
            out->pythonpath = e + 11;
        }
    }
    for (k = 0; k < PYCGI_WORKER_NLOCVARS && !changed; k++) {
        changed = !pycgi_worker_same(v[k], pycgi_worker_loc.val[k]);
    }
    if (changed) {
        for (k = 0; k < PYCGI_WORKER_NLOCVARS; k++) {
            free(pycgi_worker_loc.val[k]);
            pycgi_worker_loc.val[k] = v[k] ? strdup(v[k]) : NULL;
        }
        pycgi_worker_loc.valid = 1;
        pycgi_worker_locale(v);
    }
    /* python3 coerces the C locale with setenv("LC_CTYPE", "C.UTF-8"):
     * in the place of an LC_CTYPE there was, or at the end. */
    if (pycgi_worker_loc.coerce) {
        if (ctype >= 0) {
            pycgi_worker_envp[ctype] = pycgi_worker_coerced;
        }
        else {
            pycgi_worker_envp[nenv++] = pycgi_worker_coerced;
        }
    }
    pycgi_worker_envp[nenv] = NULL;
    environ = pycgi_worker_envp;
    out->envp = pycgi_worker_envp;
    out->n = nenv;
    out->encoding = pycgi_worker_loc.encoding;
    out->errors = pycgi_worker_loc.errors;
    return 0;
}
