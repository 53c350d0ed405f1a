/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_super.h -- the daemon pools' supervisor: one process forked
 * from the httpd parent (never from a child, so never from a threaded
 * process), running as httpd's User -- or as root while there are user
 * pools (PyCGIDaemonUserPools), each worker then taking its pool's
 * identity before exec (pycgi_ident.h).  It alone starts workers (fork +
 * exec of the worker program: a fresh process that has read no
 * configuration and holds no key), reaps them, counts why they ended,
 * and kills the worker of a timed-out script on a child's request.
 *
 * The parent watches it with apr_proc_other_child_register and starts
 * another if it dies; pconf's cleanup ends it on stop and restart.  A
 * worker whose supervisor is gone finishes the request in hand and
 * exits (its "life" pipe reads EOF).
 */
#ifndef PYCGI_SUPER_H
#define PYCGI_SUPER_H

#include "pycgi_pool.h"

apr_status_t pycgi_super_start(apr_pool_t *pconf, server_rec *s,
                               pycgi_pool_table *t);

#endif /* PYCGI_SUPER_H */
