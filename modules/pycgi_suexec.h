/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_suexec.h -- suexec's own rules, for the scripts the daemon
 * runner hands to a user pool (a pool whose workers run as the
 * script's user, see pycgi_pool.h) instead of exec'ing them through
 * the suexec binary.
 *
 * The binary's compiled-in values (AP_DOC_ROOT, AP_UID_MIN, ...) are
 * read once per generation by the root parent (`suexec -V`) and kept
 * in pconf; afterwards they are read-only everywhere.  Everything per
 * request comes from r->pool.
 */
#ifndef PYCGI_SUEXEC_H
#define PYCGI_SUEXEC_H

#include "pycgi_config.h"
#include "unixd.h"

/* What `suexec -V` says; NULL from pycgi_suexec_settings() when it
 * could not be read. */
typedef struct {
    const char *doc_root;       /* AP_DOC_ROOT */
    const char *userdir_suffix; /* AP_USERDIR_SUFFIX */
    const char *safe_path;      /* AP_SAFE_PATH */
    long uid_min;               /* AP_UID_MIN */
    long gid_min;               /* AP_GID_MIN */
} pycgi_suexec_settings_t;

/* Run SUEXEC_BIN -V and parse it (parent, post_config, as root). */
apr_status_t pycgi_suexec_post_config(apr_pool_t *pconf, server_rec *s);

const pycgi_suexec_settings_t *pycgi_suexec_settings(void);

/* The identity suexec would switch r's script to, or NULL when suexec
 * does not apply (disabled, or no SuexecUserGroup / ~user). */
ap_unix_identity_t *pycgi_suexec_identity(request_rec *r);

/* The checks suexec makes, in its order, as httpd's User sees the
 * files.  OK when the script may run as `id`; otherwise the status a
 * refused request gets (500, logged with the rule, as mod_cgi's
 * premature end of headers would be after suexec's refusal), or
 * DECLINED for what only the binary can decide (it runs exec).  With
 * `docroot` (a user pool's: the supervisor checked its identity when
 * it gave it) only the checks of the files, against that root. */
int pycgi_suexec_check(request_rec *r, const ap_unix_identity_t *id,
                       const char *docroot);

/* The script's environment as suexec passes it on: PATH=AP_SAFE_PATH,
 * then only the variables of its safe list (the HTTP_ and SSL_ ones
 * and those it names), at most 255 in all, as the binary does.
 * NULL-terminated, from pool p. */
char **pycgi_suexec_envp(request_rec *r, apr_pool_t *p);

#endif /* PYCGI_SUEXEC_H */
