/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_python.h -- the one header that includes Python.h.  Python.h
 * must come before any system header, so .c files that touch Python
 * include this first (it then pulls in pycgi_common.h).
 */
#ifndef PYCGI_PYTHON_H
#define PYCGI_PYTHON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* Python.h and httpd both define these; httpd's values win. */
#undef _POSIX_C_SOURCE
#undef _XOPEN_SOURCE
#undef HAVE_STRERROR

#include "pycgi_common.h"

#endif /* PYCGI_PYTHON_H */
