/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_spawn.h -- start a CGI program without copying the httpd child:
 * posix_spawn(3), which glibc runs as clone(CLONE_VM | CLONE_VFORK), so
 * neither the child's page tables nor libpython's pages are copied, and
 * no thread of a threaded MPM ever forks.  Used by the exec runner for
 * the requests it can serve so (no suexec, no RLimit*: those need code
 * between fork and exec, and keep APR's fork).
 */
#ifndef PYCGI_SPAWN_H
#define PYCGI_SPAWN_H

#include "pycgi_common.h"

/* Start `path` with argv and envp in directory `dir`, fds 0, 1 and 2
 * new pipes (stdin only if `pipe_in`, else /dev/null), a clear signal
 * mask and every signal at its default disposition.  On success *proc
 * (from p) has the pid and our ends of the pipes (as pycgi_pipe_file()
 * makes them, closed with p), and the process is noted in p (killed and reaped with it).
 * An error is the errno of the failed spawn, exec included; nothing is
 * left open then. */
apr_status_t pycgi_spawn(request_rec *r, apr_pool_t *p, const char *path,
                         const char * const *argv, char * const *envp,
                         const char *dir, int pipe_in, apr_proc_t **proc);

#endif /* PYCGI_SPAWN_H */
