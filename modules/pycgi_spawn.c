/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_spawn.c -- posix_spawn of a CGI program (see pycgi_spawn.h).
 */
#include "pycgi_spawn.h"
#include "pycgi_pipe.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <unistd.h>

static void pycgi_spawn_close(int *fds, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
    }
}

apr_status_t pycgi_spawn(request_rec *r, apr_pool_t *p, const char *path,
                         const char * const *argv, char * const *envp,
                         const char *dir, int pipe_in, apr_proc_t **proc)
{
    /* [0..1] stdin, [2..3] stdout, [4..5] stderr: read end, write end */
    int fd[6] = { -1, -1, -1, -1, -1, -1 }, devnull = -1, rc, i;
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none, all;
    pid_t pid;
    apr_proc_t *pr;

    (void)r;
    if ((pipe_in && pipe2(fd, O_CLOEXEC) < 0) || pipe2(fd + 2, O_CLOEXEC) < 0
        || pipe2(fd + 4, O_CLOEXEC) < 0
        || (!pipe_in
            && (devnull = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0)) {
        rc = errno;
        pycgi_spawn_close(fd, 6);
        return rc;
    }
    /* dup2 onto 0-2 would misbehave for a source already there: only
     * when httpd runs with a std fd closed.  The caller falls back. */
    for (i = 0; i < 6; i++) {
        if (fd[i] >= 0 && fd[i] <= 2) {
            pycgi_spawn_close(fd, 6);
            if (devnull >= 0) {
                close(devnull);
            }
            return APR_ENOTIMPL;
        }
    }
    posix_spawn_file_actions_init(&fa);
    posix_spawnattr_init(&at);
    sigemptyset(&none);
    sigfillset(&all);
    /* A worker thread of a threaded MPM blocks every signal, and httpd
     * ignores or handles some: a CGI process starts with none blocked
     * and all at their defaults (RLimitCPU's SIGXCPU, our SIGTERM). */
    rc = posix_spawnattr_setsigmask(&at, &none);
    if (!rc) {
        rc = posix_spawnattr_setsigdefault(&at, &all);
    }
    if (!rc) {
        rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK
                                           | POSIX_SPAWN_SETSIGDEF);
    }
    if (!rc) {
        rc = posix_spawn_file_actions_adddup2(&fa, pipe_in ? fd[0] : devnull,
                                              0);
    }
    if (!rc) {
        rc = posix_spawn_file_actions_adddup2(&fa, fd[3], 1);
    }
    if (!rc) {
        rc = posix_spawn_file_actions_adddup2(&fa, fd[5], 2);
    }
    if (!rc) {
        rc = posix_spawn_file_actions_addchdir_np(&fa, dir);
    }
    if (!rc) {
        rc = posix_spawn(&pid, path, &fa, &at, (char * const *)argv, envp);
    }
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    if (devnull >= 0) {
        close(devnull);
    }
    /* The child's ends are the child's. */
    if (fd[0] >= 0) {
        close(fd[0]);
        fd[0] = -1;
    }
    close(fd[3]);
    fd[3] = -1;
    close(fd[5]);
    fd[5] = -1;
    if (rc) {
        pycgi_spawn_close(fd, 6);
        return rc;
    }
    pr = apr_pcalloc(p, sizeof(*pr));
    pr->pid = pid;
    /* Noted before anything else can fail: reaped with p in any case. */
    apr_pool_note_subprocess(p, pr, APR_KILL_AFTER_TIMEOUT);
    pr->in = pipe_in ? pycgi_pipe_file(p, &fd[1], 1) : NULL;
    pr->out = pycgi_pipe_file(p, &fd[2], 0);
    pr->err = pycgi_pipe_file(p, &fd[4], 0);
    if ((pipe_in && !pr->in) || !pr->out || !pr->err) {
        pycgi_spawn_close(fd, 6);
        return APR_EGENERAL;
    }
    *proc = pr;
    return APR_SUCCESS;
}
