/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_script.h -- the embedded script that runs now, as the parts
 * that serve it see it: the stream objects (pycgi_pyio) reach its
 * request through `io`, and the watchdog (pycgi_interp) reads and sets
 * its clock and flags.  Neither knows the runner that owns it
 * (pycgi_embed), which embeds one in each request and fills in `io`.
 */
#ifndef PYCGI_SCRIPT_H
#define PYCGI_SCRIPT_H

#include "httpd.h"

typedef struct pycgi_script pycgi_script;

/* The request's side of the std streams.  Called WITHOUT the GIL (they
 * may block on the client or the log), one at a time, and only while
 * the script is open (pycgi_pyio_open/close). */
typedef struct pycgi_script_io {
    apr_status_t (*write)(pycgi_script *sc, const char *data,
                          apr_size_t len);
    apr_status_t (*flush)(pycgi_script *sc);
    apr_status_t (*read)(pycgi_script *sc, char *buf, apr_size_t want,
                         apr_size_t *got);
    void (*err)(pycgi_script *sc, const char *data, apr_size_t len);
} pycgi_script_io;

struct pycgi_script {
    request_rec *r;
    const pycgi_script_io *io;
    apr_time_t deadline;        /* CGIScriptTimeout, absolute */
    volatile int timed_out;     /* set by the watchdog, or by a sleep
                                 * cut short (under pycgi_pyio's lock) */
    int ending;                 /* script over: flush() adds no FLUSH */
    int interrupted;            /* the watchdog raised ScriptTimeout in
                                 * it, wherever it was (GIL held) */
};

#endif /* PYCGI_SCRIPT_H */
