/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_env.c -- request_rec to environment and argv.
 */
#include "pycgi_env.h"

/* The number of ISINDEX words we pass at most (mod_cgi's bound too). */
#define PYCGI_ARG_MAX 512

apr_table_t *pycgi_env_build(request_rec *r)
{
    /* Both helpers only add to subprocess_env; calling them again for
     * the same request (an SSI exec after an include) is harmless. */
    ap_add_common_vars(r);
    ap_add_cgi_vars(r);
    return r->subprocess_env;
}

char **pycgi_env_envp(request_rec *r, apr_pool_t *p)
{
    return ap_create_environment(p, pycgi_env_build(r));
}

char **pycgi_env_ssi_envp(request_rec *r, apr_pool_t *p)
{
    apr_table_t *e = pycgi_env_build(r);

    /* The values reach a shell: what the client chose in them has its
     * metacharacters escaped. */
    if (r->path_info && *r->path_info) {
        apr_table_setn(e, "PATH_INFO",
                       ap_escape_shell_cmd(r->pool, r->path_info));
    }
    if (r->args) {
        char *q = apr_pstrdup(r->pool, r->args);

        ap_unescape_url(q);
        apr_table_setn(e, "QUERY_STRING_UNESCAPED",
                       ap_escape_shell_cmd(r->pool, q));
    }
    return ap_create_environment(p, e);
}

const char **pycgi_env_argv(request_rec *r, apr_pool_t *p, int *argc)
{
    const char *args = r->args;
    const char **argv;
    int words = 0, n = 0;

    if (args && *args && !ap_strchr_c(args, '=')) {
        const char *c;

        for (words = 1, c = args; *c; c++) {
            if (*c == '+') {
                words++;
            }
        }
        if (words > PYCGI_ARG_MAX - 1) {
            words = PYCGI_ARG_MAX - 1;
        }
    }
    argv = apr_palloc(p, (words + 2) * sizeof(char *));
    argv[n++] = r->filename;
    while (n <= words) {
        char *w = ap_getword_nulls(p, &args, '+');

        ap_unescape_url(w);
        argv[n++] = ap_escape_shell_cmd(p, w);
    }
    argv[n] = NULL;
    *argc = n;
    return argv;
}

const char *pycgi_env_dir(request_rec *r, apr_pool_t *p)
{
    return ap_make_dirstr_parent(p, r->filename);
}
