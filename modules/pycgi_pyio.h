/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_pyio.h -- the built-in module "_pycgi": the objects behind an
 * embedded script's sys.stdin/stdout/stderr, wait() (the timeout-aware
 * sleep) and the ScriptTimeout exception.
 *
 * A stream object is bound to one request while the script runs;
 * pycgi_pyio_unbind() cuts the link when the request ends, and a set of
 * streams is only reused when no reference to any part of it exists
 * outside.  A stream kept by a library from an earlier request serves
 * only the thread that runs the open request's script (as a process's
 * own fd would); any other thread gets ValueError.  GIL: every function here
 * except pycgi_pyio_inittab_add() must be called with the GIL held.
 */
#ifndef PYCGI_PYIO_H
#define PYCGI_PYIO_H

#include "pycgi_python.h"

struct pycgi_script;

/* Register "_pycgi" as a built-in module; before Py_Initialize. */
int pycgi_pyio_inittab_add(void);

/* The _pycgi module itself, for an interpreter that was initialised by
 * another module (no inittab then): a new reference. */
PyObject *pycgi_pyio_module_create(void);

/* The lock of the stream operations (child_init; no GIL needed). */
apr_status_t pycgi_pyio_child_init(apr_pool_t *p);

/* Bind this process's std streams to the next request (reusing the previous
 * request's set where it is as good as new, building the rest): text[0..2]
 * get borrowed references to the stdin, stdout and stderr text streams,
 * *out the raw stdout stream (for abandon()).  `errors` (a string
 * constant) is the errors= of stdin and stdout.  -1 with a Python
 * error set on failure. */
int pycgi_pyio_bind(const char *errors, PyObject **text, PyObject **out);

/* The request is over: cut every stream's link to it, and keep for the
 * next request only the parts that pass the checks (none unless
 * `clean`: the runner flushed stdout and stderr without error). */
void pycgi_pyio_unbind(int clean);

/* Open `sc` (its request, through sc->io) to the streams bound last, for the calling thread's
 * script (and the threads it starts); close it again when the script
 * and the runner's flushes are done, before unbinding.  Close waits for
 * any stream operation still under way and takes the GIL back. */
void pycgi_pyio_open(struct pycgi_script *sc);
void pycgi_pyio_close(void);

/* Counters for the status page: text streams built (a request that
 * reuses the previous set builds none) and code cache misses. */
void pycgi_pyio_counts(apr_uint64_t *std_builds, apr_uint64_t *code_misses);

/* Is a script thread in a sleep that ends at the script's deadline
 * (and raises ScriptTimeout itself)?  For the watchdog; no GIL. */
int pycgi_pyio_sleeping(void);

/* The ScriptTimeout exception type (borrowed), for the watchdog. */
PyObject *pycgi_pyio_timeout_exc(void);

#endif /* PYCGI_PYIO_H */
