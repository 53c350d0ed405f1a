/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_suexec_rules.c -- suexec's file checks and safe variables
 * (see the header).  Our own code, following support/suexec.c's order
 * and wording, so that a refusal reads as the binary's would.
 */
#include "pycgi_suexec_rules.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Variables with these prefixes, and those named exactly (suexec's
 * safe_env_lst of httpd 2.4). */
static const char *const pycgi_suexec_rules_prefixes[] = {
    "HTTP_", "SSL_", NULL
};
static const char *const pycgi_suexec_rules_names[] = {
    "AUTH_TYPE", "CONTENT_LENGTH", "CONTENT_TYPE", "CONTEXT_DOCUMENT_ROOT",
    "CONTEXT_PREFIX", "DATE_GMT", "DATE_LOCAL", "DOCUMENT_ARGS",
    "DOCUMENT_NAME", "DOCUMENT_PATH_INFO", "DOCUMENT_ROOT", "DOCUMENT_URI",
    "GATEWAY_INTERFACE", "HTTPS", "LAST_MODIFIED", "PATH_INFO",
    "PATH_TRANSLATED", "QUERY_STRING", "QUERY_STRING_UNESCAPED",
    "REMOTE_ADDR", "REMOTE_HOST", "REMOTE_IDENT", "REMOTE_PORT",
    "REMOTE_USER", "REDIRECT_ERROR_NOTES", "REDIRECT_HANDLER",
    "REDIRECT_QUERY_STRING", "REDIRECT_REMOTE_USER",
    "REDIRECT_SCRIPT_FILENAME", "REDIRECT_STATUS", "REDIRECT_URL",
    "REQUEST_METHOD", "REQUEST_URI", "REQUEST_SCHEME", "SCRIPT_FILENAME",
    "SCRIPT_NAME", "SCRIPT_URI", "SCRIPT_URL", "SERVER_ADMIN",
    "SERVER_NAME", "SERVER_ADDR", "SERVER_PORT", "SERVER_PROTOCOL",
    "SERVER_SIGNATURE", "SERVER_SOFTWARE", "UNIQUE_ID", "USER_NAME", "TZ",
    NULL
};

int pycgi_suexec_rules_safe(const char *kv)
{
    int i;

    for (i = 0; pycgi_suexec_rules_prefixes[i]; i++) {
        if (!strncmp(kv, pycgi_suexec_rules_prefixes[i],
                     strlen(pycgi_suexec_rules_prefixes[i]))) {
            return 1;
        }
    }
    for (i = 0; pycgi_suexec_rules_names[i]; i++) {
        size_t n = strlen(pycgi_suexec_rules_names[i]);

        if (!strncmp(kv, pycgi_suexec_rules_names[i], n) && kv[n] == '=') {
            return 1;
        }
    }
    return 0;
}

int pycgi_suexec_rules_files(uid_t uid, gid_t gid, const char *docroot,
                             const char *dir, const char *cmd,
                             char *why, size_t whylen)
{
    char cwd[PATH_MAX], dwd[PATH_MAX], prog[PATH_MAX + NAME_MAX + 2];
    struct stat d, p;

    if (!realpath(dir, cwd)) {
        snprintf(why, whylen, "cannot get current working directory");
        return -1;
    }
    if (!realpath(docroot, dwd)) {
        snprintf(why, whylen, "cannot get docroot information (%s)",
                 docroot);
        return -1;
    }
    if (strncmp(cwd, dwd, strlen(dwd)) != 0) {
        snprintf(why, whylen, "command not in docroot (%s/%s)", cwd, cmd);
        return -1;
    }
    if (lstat(cwd, &d) != 0 || !S_ISDIR(d.st_mode)) {
        snprintf(why, whylen, "cannot stat directory: (%s)", cwd);
        return -1;
    }
    if (d.st_mode & (S_IWOTH | S_IWGRP)) {
        snprintf(why, whylen, "directory is writable by others: (%s)", cwd);
        return -1;
    }
    snprintf(prog, sizeof(prog), "%s/%s", cwd, cmd);
    if (strchr(cmd, '/') || lstat(prog, &p) != 0 || S_ISLNK(p.st_mode)) {
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
