/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_common.h -- the one header that pulls in httpd and APR and says
 * which module our log lines belong to.  Every .c file of mod_pycgi
 * includes this first; none of them includes an httpd header directly.
 * It never includes Python.h (that is pycgi_python.h's job).
 */
#ifndef PYCGI_COMMON_H
#define PYCGI_COMMON_H

#include "apr.h"
#include "apr_strings.h"
#include "apr_buckets.h"
#include "apr_lib.h"
#include "apr_poll.h"
#include "apr_thread_proc.h"
#include "apr_file_io.h"
#include "apr_optional.h"
#include "apr_atomic.h"

#define APR_WANT_STRFUNC
#define APR_WANT_MEMFUNC
#include "apr_want.h"

#include "httpd.h"
#include "http_config.h"
#include "http_core.h"
#include "http_log.h"
#include "http_main.h"
#include "http_protocol.h"
#include "http_request.h"
#include "util_script.h"
#include "util_filter.h"
#include "ap_mpm.h"

/* PYCGI_AS_MOD_CGI builds the module under mod_cgi's names (module
 * record cgi_module, source name mod_cgi.c), to be installed as
 * mod_cgi.so and run against tests written for mod_cgi, such as
 * httpd's own test framework.  Not for production. */
#ifdef PYCGI_AS_MOD_CGI
#define pycgi_module cgi_module
#endif

extern module AP_MODULE_DECLARE_DATA pycgi_module;

#ifdef APLOG_USE_MODULE
APLOG_USE_MODULE(pycgi);
#endif

/* Our own error-log tag space: PYCGI_LOGNO(0101) expands to "PYCGI0101: ".
 * Numbers are never reused; each one is explained in docs/errors.md. */
#define PYCGI_LOGNO(n) "PYCGI" #n ": "

/* The handler names we answer to: our own, and mod_cgi's two so that
 * existing AddHandler/ScriptAlias configurations work unchanged. */
#define PYCGI_HANDLER      "pycgi-script"
#define PYCGI_CGI_HANDLER  "cgi-script"
#define PYCGI_CGI_MAGIC    "application/x-httpd-cgi"

/* The interpreter scripts believe they run under (sys.executable), in
 * the embedded runner and in daemon workers alike. */
#ifndef PYCGI_PYTHON_EXECUTABLE
#define PYCGI_PYTHON_EXECUTABLE "/usr/bin/python3"
#endif

#endif /* PYCGI_COMMON_H */
