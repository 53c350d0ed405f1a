/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_ident.c -- the identities of daemon workers (see the header).
 */
#include "pycgi_ident.h"
#include "pycgi_suexec.h"

#include <grp.h>
#include <pwd.h>
#include <unistd.h>

int pycgi_ident_of_pool(apr_pool_t *p, const pycgi_pool *pool,
                        pycgi_ident *id)
{
    const char *name;
    struct passwd *pw;
    int n = 32;

    if (pool->user) {
        if (!__atomic_load_n(&pool->stats->assigned, __ATOMIC_ACQUIRE)
            || !(pw = getpwuid((uid_t)pool->stats->uid))) {
            return 0;
        }
        id->uid = (uid_t)pool->stats->uid;
        id->gid = (gid_t)pool->stats->gid;
        name = apr_pstrdup(p, pw->pw_name);
    }
    else {
        id->uid = ap_unixd_config.user_id;
        id->gid = ap_unixd_config.group_id;
        name = ap_unixd_config.user_name;
    }
    /* The user's groups, as initgroups() would set them (suexec's and
     * httpd's own way to drop privileges). */
    for (;;) {
        int got = n;

        id->groups = apr_palloc(p, n * sizeof(gid_t));
        if (getgrouplist(name, id->gid, id->groups, &got) >= 0) {
            id->ngroups = got;
            break;
        }
        if (got <= n || n >= 65536) {
            return 0;
        }
        n = got;
    }
    return id->uid != 0 && id->gid != 0;
}

void pycgi_ident_take(const pycgi_ident *id)
{
    if (setgroups((size_t)id->ngroups, id->groups) != 0
        || setgid(id->gid) != 0 || setuid(id->uid) != 0
        || getuid() != id->uid || geteuid() != id->uid
        || getgid() != id->gid || getegid() != id->gid
        || setuid(0) == 0 || seteuid(0) == 0) {
        char msg[256];
        int len = snprintf(msg, sizeof(msg), "error PYCGI0975: cannot run "
                           "as uid %ld gid %ld: %s\n", (long)id->uid,
                           (long)id->gid, strerror(errno));

        if (len > 0 && write(2, msg, (size_t)len) < 0) {
            _exit(127);
        }
        _exit(127);
    }
}

const char *pycgi_ident_acceptable(apr_pool_t *p, uid_t uid, gid_t gid)
{
    const pycgi_suexec_settings_t *st = pycgi_suexec_settings();
    struct passwd *pw;

    if (!st || uid == 0 || gid == 0 || (long)uid < st->uid_min
        || (long)gid < st->gid_min || !(pw = getpwuid(uid))) {
        return NULL;
    }
    return apr_pstrdup(p, pw->pw_name);
}

const char *pycgi_ident_docroot(apr_pool_t *p, uid_t uid, int userdir)
{
    const pycgi_suexec_settings_t *st = pycgi_suexec_settings();
    struct passwd *pw;

    if (!st) {
        return NULL;
    }
    if (!userdir) {
        return st->doc_root;
    }
    if (!(pw = getpwuid(uid))) {
        return NULL;
    }
    return apr_pstrcat(p, pw->pw_dir, "/", st->userdir_suffix, NULL);
}
