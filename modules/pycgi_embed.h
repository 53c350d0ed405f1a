/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_embed.h -- the embedded runner: the script runs in this
 * process's persistent Python interpreter (see pycgi_interp.h) as if it
 * were a fresh CGI process.  Callers hold no Python state: everything
 * Python happens inside, between an acquire/release pair.
 */
#ifndef PYCGI_EMBED_H
#define PYCGI_EMBED_H

#include "pycgi_config.h"

/* Does this request run embedded?  Applies PyCGIMode (auto: the
 * script's shebang), PyCGIAllowEmbedded, PyCGIEmbedOwners and suexec;
 * logs the choice at debug level. */
int pycgi_embed_wanted(request_rec *r, pycgi_dir_conf *dconf, int nph);

/* Run r->filename embedded; returns the handler's status. */
int pycgi_embed_run(request_rec *r, int nph, apr_interval_time_t timeout);

#endif /* PYCGI_EMBED_H */
