/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_pyio.h -- the built-in module "_pycgi": the objects behind an
 * embedded script's sys.stdin/stdout/stderr, wait() (the timeout-aware
 * sleep) and the ScriptTimeout exception.
 *
 * A stream object points at its request's pycgi_embed_req while the
 * script runs; pycgi_pyio_close() cuts the link when the request ends,
 * so a stream a script stashed away can never write into a later
 * request (it raises ValueError instead).  GIL: every function here
 * except pycgi_pyio_inittab_add() must be called with the GIL held.
 */
#ifndef PYCGI_PYIO_H
#define PYCGI_PYIO_H

#include "pycgi_python.h"

struct pycgi_embed_req;

/* Register "_pycgi" as a built-in module; before Py_Initialize. */
int pycgi_pyio_inittab_add(void);

/* The _pycgi module itself, for an interpreter that was initialised by
 * another module (no inittab then): a new reference. */
PyObject *pycgi_pyio_module_create(void);

/* New references to the three stream objects of `req`. */
PyObject *pycgi_pyio_stdout(struct pycgi_embed_req *req);
PyObject *pycgi_pyio_stdin(struct pycgi_embed_req *req);
PyObject *pycgi_pyio_stderr(struct pycgi_embed_req *req);

/* Detach a stream object from its request (and drop our reference). */
void pycgi_pyio_close(PyObject *stream);

/* The request whose script runs now (NULL between requests): the
 * target of _pycgi.wait(). */
void pycgi_pyio_set_current(struct pycgi_embed_req *req);

/* The ScriptTimeout exception type (borrowed), for the watchdog. */
PyObject *pycgi_pyio_timeout_exc(void);

#endif /* PYCGI_PYIO_H */
