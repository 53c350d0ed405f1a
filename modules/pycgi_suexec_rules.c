/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_suexec_rules.c -- suexec's file checks and safe variables
 * (see the header).  Our own code, following support/suexec.c's order
 * and wording, so that a refusal reads as the binary's would.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE             /* O_PATH */
#endif
#include "pycgi_suexec_rules.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

/* Variables named HTTP_* or SSL_*, and those named exactly so (suexec's
 * safe_env_lst of httpd 2.4), in strcmp() order: looked up by bisection,
 * for every variable of every request of a user pool. */
static const char *const pycgi_suexec_rules_names[] = {
    "AUTH_TYPE", "CONTENT_LENGTH", "CONTENT_TYPE", "CONTEXT_DOCUMENT_ROOT",
    "CONTEXT_PREFIX", "DATE_GMT", "DATE_LOCAL", "DOCUMENT_ARGS",
    "DOCUMENT_NAME", "DOCUMENT_PATH_INFO", "DOCUMENT_ROOT", "DOCUMENT_URI",
    "GATEWAY_INTERFACE", "HTTPS", "LAST_MODIFIED", "PATH_INFO",
    "PATH_TRANSLATED", "QUERY_STRING", "QUERY_STRING_UNESCAPED",
    "REDIRECT_ERROR_NOTES", "REDIRECT_HANDLER", "REDIRECT_QUERY_STRING",
    "REDIRECT_REMOTE_USER", "REDIRECT_SCRIPT_FILENAME", "REDIRECT_STATUS",
    "REDIRECT_URL", "REMOTE_ADDR", "REMOTE_HOST", "REMOTE_IDENT",
    "REMOTE_PORT", "REMOTE_USER", "REQUEST_METHOD", "REQUEST_SCHEME",
    "REQUEST_URI", "SCRIPT_FILENAME", "SCRIPT_NAME", "SCRIPT_URI",
    "SCRIPT_URL", "SERVER_ADDR", "SERVER_ADMIN", "SERVER_NAME", "SERVER_PORT",
    "SERVER_PROTOCOL", "SERVER_SIGNATURE", "SERVER_SOFTWARE", "TZ",
    "UNIQUE_ID", "USER_NAME"
};

int pycgi_suexec_rules_safe(const char *kv)
{
    const char *eq = strchr(kv, '=');
    size_t n = eq ? (size_t)(eq - kv) : strlen(kv);
    size_t lo = 0, hi = sizeof(pycgi_suexec_rules_names)
                        / sizeof(pycgi_suexec_rules_names[0]);

    if (!strncmp(kv, "HTTP_", 5) || !strncmp(kv, "SSL_", 4)) {
        return 1;
    }
    if (!eq) {
        return 0;
    }
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *name = pycgi_suexec_rules_names[mid];
        int c = strncmp(kv, name, n);

        if (c == 0 && name[n] != '\0') {
            c = -1;             /* kv's name is a prefix of this one */
        }
        if (c == 0) {
            return 1;
        }
        if (c < 0) {
            hi = mid;
        }
        else {
            lo = mid + 1;
        }
    }
    return 0;
}

/* The kernel's name for the directory open at `dfd` (from /proc/self/fd:
 * what getcwd() gives in it, symbolic links resolved), or realpath(dir)
 * where /proc is not mounted.  `out` holds PATH_MAX bytes. */
static int pycgi_suexec_rules_dirname(int dfd, const char *dir, char *out)
{
    char link[40];
    ssize_t n;

    snprintf(link, sizeof(link), "/proc/self/fd/%d", dfd);
    n = readlink(link, out, PATH_MAX - 1);
    if (n > 0 && n < PATH_MAX - 1 && out[0] == '/') {
        out[n] = '\0';
        return 0;
    }
    return realpath(dir, out) ? 0 : -1;
}

/* suexec's docroot resolved, as suexec resolves it for each exec; kept
 * per thread with the device and inode it resolved to, and resolved
 * again whenever stat() of the docroot gives another directory (a
 * symbolic link in it repointed or removed) or fails: one system call
 * instead of a walk of every component for each request.  (A directory
 * of the path renamed keeps its inode: the old name then no longer
 * prefixes the script's, and scripts are refused until the thread
 * resolves again, which fails closed.)  NULL if it cannot be
 * resolved. */
static const char *pycgi_suexec_rules_root(const char *docroot)
{
    static __thread char given[PATH_MAX], resolved[PATH_MAX];
    static __thread dev_t dev;
    static __thread ino_t ino;
    struct stat st;

    if (strlen(docroot) >= sizeof(given) || stat(docroot, &st) != 0) {
        given[0] = '\0';
        return NULL;
    }
    if (strcmp(given, docroot) != 0 || st.st_dev != dev
        || st.st_ino != ino) {
        given[0] = '\0';
        if (!realpath(docroot, resolved)) {
            return NULL;
        }
        strcpy(given, docroot);
        dev = st.st_dev;
        ino = st.st_ino;
    }
    return resolved;
}

/* The checks from "command not in docroot" on, of the directory open
 * at `dfd`, named `cwd`. */
static int pycgi_suexec_rules_in(uid_t uid, gid_t gid, int dfd,
                                 const char *docroot, const char *cwd,
                                 const char *cmd, char *why, size_t whylen)
{
    struct stat d, p;
    const char *dwd;

    if (!(dwd = pycgi_suexec_rules_root(docroot))) {
        snprintf(why, whylen, "cannot get docroot information (%s)",
                 docroot);
        return -1;
    }
    if (strncmp(cwd, dwd, strlen(dwd)) != 0) {
        snprintf(why, whylen, "command not in docroot (%s/%s)", cwd, cmd);
        return -1;
    }
    if (fstat(dfd, &d) != 0 || !S_ISDIR(d.st_mode)) {
        snprintf(why, whylen, "cannot stat directory: (%s)", cwd);
        return -1;
    }
    if (d.st_mode & (S_IWOTH | S_IWGRP)) {
        snprintf(why, whylen, "directory is writable by others: (%s)", cwd);
        return -1;
    }
    if (strchr(cmd, '/') || fstatat(dfd, cmd, &p, AT_SYMLINK_NOFOLLOW) != 0
        || S_ISLNK(p.st_mode)) {
        snprintf(why, whylen, "cannot stat program: (%s)", cmd);
        return -1;
    }
    if (p.st_mode & (S_IWOTH | S_IWGRP)) {
        snprintf(why, whylen, "file is writable by others: (%s/%s)", cwd,
                 cmd);
        return -1;
    }
    if (p.st_mode & (S_ISUID | S_ISGID)) {
        snprintf(why, whylen, "file is either setuid or setgid: (%s/%s)",
                 cwd, cmd);
        return -1;
    }
    if (uid != d.st_uid || gid != d.st_gid || uid != p.st_uid
        || gid != p.st_gid) {
        snprintf(why, whylen, "target uid/gid (%ld/%ld) mismatch with "
                 "directory (%ld/%ld) or program (%ld/%ld)", (long)uid,
                 (long)gid, (long)d.st_uid, (long)d.st_gid, (long)p.st_uid,
                 (long)p.st_gid);
        return -1;
    }
    if (!(p.st_mode & S_IXUSR)) {
        snprintf(why, whylen, "file has no execute permission: (%s/%s)",
                 cwd, cmd);
        return -1;
    }
    return 0;
}

int pycgi_suexec_rules_files(uid_t uid, gid_t gid, const char *docroot,
                             const char *dir, const char *cmd,
                             char *why, size_t whylen)
{
    char cwd[PATH_MAX];
    int dfd, rc;

    /* The directory is opened once, and every check of it and in it
     * goes through that descriptor: one walk of its path, and one
     * directory seen by all the checks whatever is renamed meanwhile
     * (suexec's chdir(), getcwd() and lstat()s each walk it anew). */
    dfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0 || pycgi_suexec_rules_dirname(dfd, dir, cwd) != 0) {
        snprintf(why, whylen, "cannot get current working directory");
        if (dfd >= 0) {
            close(dfd);
        }
        return -1;
    }
    rc = pycgi_suexec_rules_in(uid, gid, dfd, docroot, cwd, cmd, why,
                               whylen);
    close(dfd);
    return rc;
}
