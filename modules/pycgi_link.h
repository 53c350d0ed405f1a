/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_link.h -- a client connection's kept connection to the daemon
 * worker that served its last request (see "Kept connections" in
 * pycgi_proto.h): the next request on the same client connection to the
 * same pool goes there, without a new socket, connect() or accept(),
 * whenever that worker is idle.
 *
 * Owner: the client connection (conn_rec; one kept connection each,
 * closed by a cleanup of c->pool).  A client connection is served by
 * one thread at a time under every MPM, so nothing here is locked.  A
 * request that takes the kept connection owns it until it hands it back
 * with pycgi_link_keep() or closes it.  The fd is close-on-exec.
 */
#ifndef PYCGI_LINK_H
#define PYCGI_LINK_H

#include "pycgi_pool.h"

/* c's kept connection to an idle worker of `pool`, claimed (no other
 * request can reach that worker now): the fd, now the caller's, with
 * our ends of the script's stdout and stderr pipes that the worker
 * keeps with it (*out, *err, the caller's too).  If the worker is gone
 * meanwhile, the first send or read fails (a claim is void once the
 * connection closes).  -1 when there is none or it is no longer usable
 * (then all three are closed). */
int pycgi_link_take(conn_rec *c, pycgi_pool *pool, int *out, int *err);

/* Keep `fd` and the pipe ends `out` and `err` (the caller's, after a
 * clean request: its DONE read, nothing pending on any of them) for c's
 * next request to `pool`; the worker is at `slot` (checked by the
 * caller: below the pool's nslots) and publishes `word` once idle.
 * What was kept before is closed. */
void pycgi_link_keep(conn_rec *c, pycgi_pool *pool, int fd, int out,
                     int err, uint32_t slot, uint64_t word);

#endif /* PYCGI_LINK_H */
