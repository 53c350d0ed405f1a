/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_interp.h -- the embedded interpreter's lifecycle.
 *
 * Scope: one interpreter per httpd child process, created lazily on the
 * first embedded request (or in child_init when PyCGIPreload asks for
 * it), living until the process exits or PyCGIMaxRequests recycles the
 * process.  Never created in the parent: a crash in Python can only
 * take one child down.
 */
#ifndef PYCGI_INTERP_H
#define PYCGI_INTERP_H

#include "pycgi_config.h"

void pycgi_interp_child_init(apr_pool_t *p, server_rec *s);

#endif /* PYCGI_INTERP_H */
