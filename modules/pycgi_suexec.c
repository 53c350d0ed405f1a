/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_suexec.c -- suexec's settings, checks and environment, for the
 * scripts of user pools.  The checks follow support/suexec.c's order
 * and wording so that a refusal reads as the binary's would; this is
 * our own code.
 */
#include "pycgi_suexec.h"
#include "pycgi_env.h"
#include "pycgi_log.h"
#include "pycgi_suexec_rules.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#ifndef SUEXEC_BIN
#define SUEXEC_BIN "/usr/lib/apache2/suexec"
#endif

/* The longest refusal text (two paths and a rule). */
#define PYCGI_SUEXEC_WHY_MAX (2 * PATH_MAX + 256)
/* The most lines of output `suexec -V` may give. */
#define PYCGI_SUEXEC_OUT_MAX 8192

/* Per generation, written by the parent before any child exists. */
static pycgi_suexec_settings_t *pycgi_suexec_set;

const pycgi_suexec_settings_t *pycgi_suexec_settings(void)
{
    return pycgi_suexec_set;
}

static apr_status_t pycgi_suexec_forget(void *data)
{
    (void)data;
    pycgi_suexec_set = NULL;
    return APR_SUCCESS;
}

/* The value of ` -D NAME=value` or ` -D NAME="value"` in out, or NULL. */
static const char *pycgi_suexec_value(apr_pool_t *p, const char *out,
                                      const char *name)
{
    const char *at = out;
    apr_size_t n = strlen(name);

    while ((at = strstr(at, name)) != NULL) {
        const char *v = at + n, *end;

        if (at - out >= 3 && !strncmp(at - 3, "-D ", 3) && *v == '=') {
            v++;
            end = v + strcspn(v, "\r\n");
            if (end > v && *v == '"' && end[-1] == '"' && end - v >= 2) {
                v++;
                end--;
            }
            return apr_pstrmemdup(p, v, end - v);
        }
        at = v;
    }
    return NULL;
}

apr_status_t pycgi_suexec_post_config(apr_pool_t *pconf, server_rec *s)
{
    const char *argv[3];
    const char *const envp[] = { NULL };
    apr_procattr_t *attr;
    apr_proc_t proc;
    apr_exit_why_e why;
    char *out = apr_pcalloc(pconf, PYCGI_SUEXEC_OUT_MAX + 1);
    apr_size_t got = 0;
    pycgi_suexec_settings_t *st;
    const char *uidmin, *gidmin;
    int code = -1;
    apr_status_t rv;

    pycgi_suexec_set = NULL;
    apr_pool_cleanup_register(pconf, NULL, pycgi_suexec_forget,
                              apr_pool_cleanup_null);
    argv[0] = SUEXEC_BIN;
    argv[1] = "-V";
    argv[2] = NULL;
    /* It prints its settings on stderr. */
    if ((rv = apr_procattr_create(&attr, pconf)) == APR_SUCCESS
        && (rv = apr_procattr_io_set(attr, APR_NO_PIPE, APR_FULL_BLOCK,
                                     APR_FULL_BLOCK)) == APR_SUCCESS
        && (rv = apr_procattr_cmdtype_set(attr, APR_PROGRAM)) == APR_SUCCESS
        && (rv = apr_proc_create(&proc, SUEXEC_BIN, argv, envp, attr,
                                 pconf)) == APR_SUCCESS) {
        for (;;) {
            apr_size_t n = PYCGI_SUEXEC_OUT_MAX - got;

            if (!n || apr_file_read(proc.err, out + got, &n) != APR_SUCCESS) {
                break;
            }
            got += n;
        }
        apr_file_close(proc.err);
        apr_file_close(proc.out);
        apr_proc_wait(&proc, &code, &why, APR_WAIT);
        if (why != APR_PROC_EXIT) {
            code = -1;
        }
    }
    out[got] = '\0';
    st = apr_pcalloc(pconf, sizeof(*st));
    st->doc_root = pycgi_suexec_value(pconf, out, "AP_DOC_ROOT");
    st->userdir_suffix = pycgi_suexec_value(pconf, out, "AP_USERDIR_SUFFIX");
    st->safe_path = pycgi_suexec_value(pconf, out, "AP_SAFE_PATH");
    uidmin = pycgi_suexec_value(pconf, out, "AP_UID_MIN");
    gidmin = pycgi_suexec_value(pconf, out, "AP_GID_MIN");
    if (code != 0 || !st->doc_root || !st->userdir_suffix || !st->safe_path
        || !uidmin || !gidmin || !apr_isdigit(*uidmin)
        || !apr_isdigit(*gidmin)) {
        ap_log_error(APLOG_MARK, APLOG_NOTICE, rv, s, PYCGI_LOGNO(0976)
                     "cannot read the settings of %s (-V, exit %d); "
                     "suexec'ed scripts run exec (no user pools)",
                     SUEXEC_BIN, code);
        return APR_EGENERAL;
    }
    st->uid_min = atol(uidmin);
    st->gid_min = atol(gidmin);
    pycgi_suexec_set = st;
    return APR_SUCCESS;
}

ap_unix_identity_t *pycgi_suexec_identity(request_rec *r)
{
    if (!ap_unixd_config.suexec_enabled) {
        return NULL;
    }
    return ap_run_get_suexec_identity(r);
}

/* Log the rule suexec would have refused the script by: 500. */
static int pycgi_suexec_refuse(request_rec *r, const char *rule)
{
    return pycgi_log_scripterror(r, HTTP_INTERNAL_SERVER_ERROR, 0,
                                 PYCGI_LOGNO(0608),
                                 apr_pstrcat(r->pool, "suexec policy "
                                             "refuses the script: ", rule,
                                             NULL));
}

/* suexec's checks 2-5, of the identity: the user and group exist, not
 * root, not below the minimums.  OK with *docroot set, or as
 * pycgi_suexec_check(). */
static int pycgi_suexec_identity_ok(request_rec *r,
                                    const ap_unix_identity_t *id,
                                    const char **docroot)
{
    const pycgi_suexec_settings_t *st = pycgi_suexec_set;
    long bufsize = sysconf(_SC_GETPW_R_SIZE_MAX);
    struct passwd pwd, *pw = NULL;
    struct group grp, *gr = NULL;
    char *buf;

    if (bufsize < 16384) {
        bufsize = 16384;
    }
    buf = apr_palloc(r->pool, bufsize);
    /* 2. The target user exists (suexec looks a ~user up by uid). */
    if (getpwuid_r(id->uid, &pwd, buf, bufsize, &pw) != 0 || !pw) {
        return pycgi_suexec_refuse(r, apr_psprintf(r->pool, "invalid "
                                   "target user id: (%ld)", (long)id->uid));
    }
    *docroot = id->userdir
               ? apr_pstrcat(r->pool, pw->pw_dir, "/", st->userdir_suffix,
                             NULL)
               : st->doc_root;
    /* 3. So does the group.  suexec takes a numeric gid as given: one
     * without an entry is left to the binary (the script runs exec). */
    {
        char *gbuf = apr_palloc(r->pool, bufsize);

        if (getgrgid_r(id->gid, &grp, gbuf, bufsize, &gr) != 0 || !gr) {
            return DECLINED;
        }
    }
    /* 4, 5. Never root, never below the minimums. */
    if (id->uid == 0 || (long)id->uid < st->uid_min) {
        return pycgi_suexec_refuse(r, apr_psprintf(r->pool, "cannot run "
                                   "as forbidden uid (%ld)", (long)id->uid));
    }
    if (id->gid == 0 || (long)id->gid < st->gid_min) {
        return pycgi_suexec_refuse(r, apr_psprintf(r->pool, "cannot run "
                                   "as forbidden gid (%ld)", (long)id->gid));
    }
    return OK;
}

int pycgi_suexec_check(request_rec *r, const ap_unix_identity_t *id,
                       const char *docroot)
{
    const char *cmd = apr_filepath_name_get(r->filename);
    char *why;
    int rc;

    if (!pycgi_suexec_set) {
        return DECLINED;
    }
    /* 1. No way up and out of the script's directory. */
    if (*cmd == '/' || !strncmp(cmd, "../", 3) || strstr(cmd, "/../")
        || strstr(r->filename, "/../")) {
        return pycgi_suexec_refuse(r, "invalid command");
    }
    if (!docroot
        && (rc = pycgi_suexec_identity_ok(r, id, &docroot)) != OK) {
        return rc;
    }
    /* 6-14. The files, as the worker checks them again (as the user). */
    why = apr_palloc(r->pool, PYCGI_SUEXEC_WHY_MAX);
    if (pycgi_suexec_rules_files(id->uid, id->gid, docroot,
                                 pycgi_env_dir(r, r->pool), cmd, why,
                                 PYCGI_SUEXEC_WHY_MAX) != 0) {
        return pycgi_suexec_refuse(r, why);
    }
    return OK;
}

char **pycgi_suexec_envp(request_rec *r, apr_pool_t *p)
{
    char **env = pycgi_env_envp(r, p);
    char **clean = apr_palloc(p, (PYCGI_SUEXEC_RULES_ENV_MAX + 1)
                                 * sizeof(char *));
    int i, n = 0;

    clean[n++] = apr_pstrcat(p, "PATH=", pycgi_suexec_set
                             ? pycgi_suexec_set->safe_path : "", NULL);
    /* HTTP_ values that look like bash functions ("() {") pass, as the
     * binary passes them (tests/test_suexec_pools.py compares). */
    for (i = 0; env[i] && n < PYCGI_SUEXEC_RULES_ENV_MAX; i++) {
        if (pycgi_suexec_rules_safe(env[i])) {
            clean[n++] = env[i];
        }
    }
    clean[n] = NULL;
    return clean;
}
