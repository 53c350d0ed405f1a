/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_suexec_rules.h -- the checks suexec makes of a script's files,
 * and its list of the variables it passes on.  Plain C (libc only):
 * applied twice to a script of a user pool, by the httpd child (as
 * User: a refused script gets 500 and a log line) and by the worker
 * itself (as the target user, where suexec makes them: a request that
 * does not pass is refused, whoever sent it).  No allocation beyond
 * realpath()'s, freed before return; thread-safe.  State: suexec's
 * docroot as last resolved, per thread, checked by one stat() a call.
 */
#ifndef PYCGI_SUEXEC_RULES_H
#define PYCGI_SUEXEC_RULES_H

#include <stddef.h>
#include <sys/types.h>

/* suexec's checks, from "command not in docroot" on, in its order:
 * `dir` (the working directory, resolved as getcwd() would) inside
 * `docroot` (resolved the same way; compared as a prefix, as suexec
 * compares), `dir` and `dir`/`cmd` (lstat: a symlink is refused) owned
 * by uid and gid, writable by nobody else, the program neither setuid
 * nor setgid and executable by its owner.  `cmd` is a file name (no
 * '/').  0 when all pass; otherwise -1 and the rule, in suexec's words
 * with the paths, in why[whylen]. */
int pycgi_suexec_rules_files(uid_t uid, gid_t gid, const char *docroot,
                             const char *dir, const char *cmd,
                             char *why, size_t whylen);

/* Does suexec pass "NAME=value" on (an HTTP_ or SSL_ variable, or one
 * of its safe list)?  PATH is not: suexec sets it itself. */
int pycgi_suexec_rules_safe(const char *kv);

/* suexec's bound on the variables it passes, PATH included. */
#define PYCGI_SUEXEC_RULES_ENV_MAX 255

#endif /* PYCGI_SUEXEC_RULES_H */
