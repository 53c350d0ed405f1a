/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_link.c -- a client connection's kept connection to a daemon
 * worker.
 */
#include "pycgi_link.h"

#include <unistd.h>

typedef struct {
    int fd;                     /* -1: none */
    int out, err;               /* our ends of the kept pipes */
    const pycgi_pool *pool;
    uint32_t slot;
    uint64_t word;              /* the slot's claim word while it idles */
} pycgi_link_state;

#define PYCGI_LINK_KEY "pycgi_link"

static void pycgi_link_drop(pycgi_link_state *l)
{
    if (l->fd >= 0) {
        close(l->fd);
        close(l->out);
        close(l->err);
    }
    l->fd = l->out = l->err = -1;
    l->pool = NULL;
}

static apr_status_t pycgi_link_cleanup(void *data)
{
    pycgi_link_drop(data);
    return APR_SUCCESS;
}

static pycgi_link_state *pycgi_link_get(conn_rec *c, int create)
{
    void *data = NULL;
    pycgi_link_state *l;

    apr_pool_userdata_get(&data, PYCGI_LINK_KEY, c->pool);
    if (data || !create) {
        return data;
    }
    l = apr_pcalloc(c->pool, sizeof(*l));
    l->fd = l->out = l->err = -1;
    apr_pool_userdata_setn(l, PYCGI_LINK_KEY, pycgi_link_cleanup, c->pool);
    return l;
}

int pycgi_link_take(conn_rec *c, pycgi_pool *pool, int *out, int *err)
{
    pycgi_link_state *l = pycgi_link_get(c, 0);
    uint64_t idle;
    int fd;

    if (!l || l->fd < 0) {
        return -1;
    }
    idle = l->word;
    if (l->pool != pool
        || !__atomic_compare_exchange_n(&pool->shm->slot[l->slot].claim,
                                        &idle, l->word | PYCGI_CLAIMED, 0,
                                        __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        /* Another pool's, or its worker is busy with another request,
         * retired, gone, or keeping another connection now: this one
         * will not be published again. */
        pycgi_link_drop(l);
        return -1;
    }
    fd = l->fd;
    *out = l->out;
    *err = l->err;
    l->fd = l->out = l->err = -1;
    l->pool = NULL;
    return fd;
}

void pycgi_link_keep(conn_rec *c, pycgi_pool *pool, int fd, int out,
                     int err, uint32_t slot, uint64_t word)
{
    pycgi_link_state *l = pycgi_link_get(c, 1);

    pycgi_link_drop(l);
    l->fd = fd;
    l->out = out;
    l->err = err;
    l->pool = pool;
    l->slot = slot;
    l->word = word;
}
