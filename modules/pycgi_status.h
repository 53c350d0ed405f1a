/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_status.h -- per-child counters in shared memory, and the
 * "pycgi-status" handler that shows them (HTML, or "?auto" text).
 *
 * The segment is created by the parent in post_config from pconf (so a
 * restart gets a fresh one) and inherited by every child; each child
 * claims one slot in child_init and is its only writer.  Under a
 * threaded MPM the child's threads write it at once: the request
 * counters are atomic, and `current` belongs to the thread that set it
 * (one script's end never blanks or renames another's).  Readers (the status page, in any child) may see a script
 * name mid-update: harmless.
 *
 * The page shows every child's PIDs and script paths, of every virtual
 * host: restrict it as mod_status's server-status is restricted (see
 * docs/directives.md).
 */
#ifndef PYCGI_STATUS_H
#define PYCGI_STATUS_H

#include "pycgi_common.h"

typedef struct {
    volatile apr_uint32_t pid;  /* owner, 0 = free */
    apr_time_t started;
    volatile apr_uint64_t exec_requests;        /* atomic */
    volatile apr_uint64_t embedded_requests;    /* atomic */
    apr_uint64_t cache_hits;
    apr_uint64_t cache_misses;
    apr_uint64_t stdio_builds;
    apr_uint64_t timeouts;
    int python_ready;
    volatile apr_uint32_t running;  /* scripts running now (atomic) */
    volatile apr_uint32_t current_tid;  /* thread that set `current` */
    char runner[16];            /* the runner of `current` ("exec"...) */
    char current[256];          /* a script running now (the first to
                                 * start while none ran), "" if none */
} pycgi_status_slot;

apr_status_t pycgi_status_post_config(apr_pool_t *pconf, server_rec *s);
void pycgi_status_child_init(void);

/* This child's slot, or NULL (no segment, or no free slot). */
pycgi_status_slot *pycgi_status_slot_mine(void);

/* What a starting script counts as in this child's slot. */
#define PYCGI_COUNT_POOL     0  /* nothing here: counted per pool */
#define PYCGI_COUNT_EXEC     1
#define PYCGI_COUNT_EMBEDDED 2

/* A script starts, in `runner` (its name, for the page) / ends, in
 * this child. */
void pycgi_status_begin(request_rec *r, int count, const char *runner);
void pycgi_status_end(void);
/* An embedded script stopped by its timeout (server-wide total). */
void pycgi_status_timeout(void);
/* A child retired by PyCGIMaxRequests (counted across children). */
void pycgi_status_recycled(void);

int pycgi_status_handler(request_rec *r);

#endif /* PYCGI_STATUS_H */
