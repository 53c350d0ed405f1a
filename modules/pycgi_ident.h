/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_ident.h -- who a daemon worker runs as: httpd's User and Group
 * for the pools of virtual hosts, the identity of a user pool (suexec)
 * for those.  Used by the supervisor only: worked out before fork (the
 * name service is never called in a forked child), taken by the forked
 * worker before exec, for good.
 *
 * Memory comes from the pool the caller passes (the supervisor's
 * per-iteration scratch pool); nothing is kept between calls.
 */
#ifndef PYCGI_IDENT_H
#define PYCGI_IDENT_H

#include "pycgi_pool.h"

typedef struct {
    uid_t uid;
    gid_t gid;
    int ngroups;
    gid_t *groups;              /* supplementary, as initgroups() sets */
} pycgi_ident;

/* The identity of pool's workers into *id: 1, or 0 when it has none
 * (a user pool not assigned yet, a user gone, root). */
int pycgi_ident_of_pool(apr_pool_t *p, const pycgi_pool *pool,
                        pycgi_ident *id);

/* In the forked worker: take *id (groups, gid, uid), check that it
 * holds and that root is out of reach, or write PYCGI0975 to fd 2 and
 * _exit(127).  No name service calls: the groups were looked up
 * before fork. */
void pycgi_ident_take(const pycgi_ident *id);

/* May a user pool run as uid/gid: suexec's minimums, never root, an
 * existing user?  The user's name (from p), or NULL. */
const char *pycgi_ident_acceptable(apr_pool_t *p, uid_t uid, gid_t gid);

/* The document root suexec takes for an identity: ~user's
 * AP_USERDIR_SUFFIX (userdir) or AP_DOC_ROOT, unresolved; NULL when
 * unknown. */
const char *pycgi_ident_docroot(apr_pool_t *p, uid_t uid, int userdir);

#endif /* PYCGI_IDENT_H */
