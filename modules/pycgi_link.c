/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_link.c -- a client connection's kept connection to a daemon
 * worker.
 */
#include "pycgi_link.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    int fd;                     /* -1: none */
    const pycgi_pool *pool;
    uint32_t slot;
    uint64_t word;              /* the slot's claim word while it idles */
    int done;                   /* the last request's DONE was read */
} pycgi_link_state;

/* How long a request waits for its worker to finish the request before
 * (its DONE), rather than go to another one. */
#define PYCGI_LINK_WAIT_MS 100

#define PYCGI_LINK_KEY "pycgi_link"

static void pycgi_link_drop(pycgi_link_state *l)
{
    if (l->fd >= 0) {
        close(l->fd);
    }
    l->fd = -1;
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
    l->fd = -1;
    apr_pool_userdata_setn(l, PYCGI_LINK_KEY, pycgi_link_cleanup, c->pool);
    return l;
}

int pycgi_link_take(conn_rec *c, pycgi_pool *pool, int *done)
{
    pycgi_link_state *l = pycgi_link_get(c, 0);
    uint64_t idle;
    int fd;

    if (!l || l->fd < 0) {
        return -1;
    }
    if (l->pool != pool) {
        pycgi_link_drop(l);
        return -1;
    }
    idle = l->word;
    if (!__atomic_compare_exchange_n(&pool->shm->slot[l->slot].claim, &idle,
                                     l->word | PYCGI_CLAIMED, 0,
                                     __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
        struct pollfd pfd;
        pycgi_proto_reply rep;

        /* Busy: maybe still finishing this connection's last request
         * (its clean-up runs after the response), which its DONE ends;
         * the worker publishes the connection just before that. */
        pfd.fd = l->fd;
        pfd.events = POLLIN;
        if (idle != 0 || l->done
            || poll(&pfd, 1, PYCGI_LINK_WAIT_MS) != 1
            || recv(l->fd, &rep, sizeof(rep), MSG_DONTWAIT)
               != (ssize_t)sizeof(rep)
            || rep.magic != PYCGI_PROTO_MAGIC
            || rep.kind != PYCGI_REPLY_DONE
            || !(rep.flags & PYCGI_DONE_KEPT)) {
            /* Busy with another request, retired, gone, or keeping
             * another connection now: this one will not be published
             * again. */
            pycgi_link_drop(l);
            return -1;
        }
        l->done = 1;
        idle = l->word;
        if (!__atomic_compare_exchange_n(&pool->shm->slot[l->slot].claim,
                                         &idle, l->word | PYCGI_CLAIMED, 0,
                                         __ATOMIC_SEQ_CST,
                                         __ATOMIC_SEQ_CST)) {
            pycgi_link_drop(l);
            return -1;
        }
    }
    fd = l->fd;
    *done = l->done;
    l->fd = -1;
    l->pool = NULL;
    return fd;
}

void pycgi_link_keep(conn_rec *c, pycgi_pool *pool, int fd, uint32_t slot,
                     uint64_t word, int done)
{
    pycgi_link_state *l = pycgi_link_get(c, 1);

    pycgi_link_drop(l);
    l->fd = fd;
    l->pool = pool;
    l->slot = slot;
    l->word = word;
    l->done = done;
}
