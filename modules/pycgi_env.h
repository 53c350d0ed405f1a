/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_env.h -- the CGI/1.1 environment (RFC 3875) and argv of a
 * script, built from request_rec with httpd's own helpers so that
 * CGIPassAuth, CGIVar, SetEnv/PassEnv and the httpoxy rule behave
 * exactly as under mod_cgi.  Both runners use the same table: exec
 * turns it into envp, embedded into os.environ.
 */
#ifndef PYCGI_ENV_H
#define PYCGI_ENV_H

#include "pycgi_common.h"

/* Fill r->subprocess_env with the script's variables; returns it.
 * Idempotent per request. */
apr_table_t *pycgi_env_build(request_rec *r);

/* "KEY=value" array for execve, NULL-terminated, from pool p. */
char **pycgi_env_envp(request_rec *r, apr_pool_t *p);

/* The same for the shell command of an SSI <!--#exec cmd-->, as
 * mod_cgi gives it: PATH_INFO and QUERY_STRING_UNESCAPED shell-escaped
 * (left so in r->subprocess_env, as mod_cgi leaves them for the rest
 * of the page). */
char **pycgi_env_ssi_envp(request_rec *r, apr_pool_t *p);

/* argv of the script: argv[0] is the script's path (as mod_cgi); an ISINDEX
 * query (one without '=') adds its '+'-separated words, URL-decoded and
 * shell-escaped, as mod_cgi does.  NULL-terminated, from pool p; *argc
 * gets the count. */
const char **pycgi_env_argv(request_rec *r, apr_pool_t *p, int *argc);

/* The script's directory: its working directory in both runners. */
const char *pycgi_env_dir(request_rec *r, apr_pool_t *p);

#endif /* PYCGI_ENV_H */
