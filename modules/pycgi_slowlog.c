/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_slowlog.c -- writing the slow-script log (PyCGISlowLog).
 */
#include "pycgi_slowlog.h"

#include <unistd.h>

struct pycgi_slowlog_event {
    apr_file_t *f;              /* the directive's file, open */
    apr_time_t until;           /* end of the stderr window */
};

apr_interval_time_t pycgi_slowlog_after(request_rec *r)
{
    return pycgi_config_slowlog(pycgi_dconf(r));
}

/* Open the directive's file for one event, as ScriptLog is opened: by
 * this child, appending.  NULL (after a line in the error log) when it
 * cannot be: the report then goes to the error log. */
static apr_file_t *pycgi_slowlog_open(request_rec *r, apr_pool_t *p,
                                      const char *path)
{
    apr_file_t *f;
    apr_status_t rv = apr_file_open(&f, path,
                                    APR_APPEND | APR_WRITE | APR_CREATE,
                                    APR_OS_DEFAULT, p);

    if (rv != APR_SUCCESS) {
        ap_log_rerror(APLOG_MARK, APLOG_ERR, rv, r, PYCGI_LOGNO(0111)
                      "cannot open the PyCGISlowLog file %s (the report "
                      "goes to the error log)", path);
        return NULL;
    }
    return f;
}

/* One line to the file, in one writev() (O_APPEND: lines of two
 * processes never mix). */
static void pycgi_slowlog_put(apr_file_t *f, const char *line,
                              apr_size_t len)
{
    struct iovec v[2];
    apr_size_t n;

    v[0].iov_base = (void *)line;
    v[0].iov_len = len;
    v[1].iov_base = (void *)"\n";
    v[1].iov_len = 1;
    apr_file_writev(f, v, 2, &n);
}

pycgi_slowlog_event *pycgi_slowlog_report(request_rec *r, apr_pool_t *p,
                                          const char *runner,
                                          const char *stack)
{
    pycgi_dir_conf *conf = pycgi_dconf(r);
    apr_interval_time_t after = pycgi_config_slowlog(conf);
    const char *line = r->the_request ? r->the_request : "-";
    pycgi_slowlog_event *ev = NULL;
    apr_file_t *f = NULL;
    const char *s, *nl;

    if (conf->slowlog_file) {
        f = pycgi_slowlog_open(r, p, conf->slowlog_file);
    }
    if (f) {
        char when[APR_CTIME_LEN];
        const char *head;

        apr_ctime(when, apr_time_now());
        head = apr_psprintf(p, "[%s] [pid %" APR_PID_T_FMT "] slow script "
                            "%s: still running after %" APR_TIME_T_FMT
                            " s (%s)\nrequest: %s", when, getpid(),
                            r->filename, apr_time_sec(after), runner,
                            ap_escape_logitem(p, line));
        pycgi_slowlog_put(f, head, strlen(head));
    }
    else {
        /* The error log escapes the request line itself. */
        ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PYCGI_LOGNO(0109)
                      "slow script %s: still running after %" APR_TIME_T_FMT
                      " s (%s), request \"%s\"", r->filename,
                      apr_time_sec(after), runner, line);
    }
    for (s = stack; s && *s; s = nl ? nl + 1 : s + strlen(s)) {
        apr_size_t len;

        nl = strchr(s, '\n');
        len = nl ? (apr_size_t)(nl - s) : strlen(s);
        if (f) {
            pycgi_slowlog_put(f, s, len);
        }
        else {
            ap_log_rerror(APLOG_MARK, APLOG_WARNING, 0, r, PYCGI_LOGNO(0110)
                          "slow script %s: %.*s", r->filename, (int)len, s);
        }
    }
    if (f && stack) {
        apr_file_close(f);
        return NULL;
    }
    if (f) {
        ev = apr_palloc(p, sizeof(*ev));
        ev->f = f;
        ev->until = 0;
    }
    return ev;
}

/* faulthandler's dump, line by line: "Thread 0x... (most recent call
 * first):", "Current thread 0x...", "Stack (...", frames indented by
 * two spaces, a blank line between threads. */
static int pycgi_slowlog_is_dump(const char *line)
{
    return !*line || !strncmp(line, "  ", 2)
           || !strncmp(line, "Thread 0x", 9)
           || !strncmp(line, "Current thread 0x", 17)
           || !strncmp(line, "Stack (most recent call first):", 31);
}

static int pycgi_slowlog_take(void *data, const char *line)
{
    pycgi_slowlog_event *ev = data;

    if (!ev->f) {
        return 0;
    }
    if (apr_time_now() > ev->until) {
        /* The window is over: the file is done with. */
        apr_file_close(ev->f);
        ev->f = NULL;
        return 0;
    }
    if (!pycgi_slowlog_is_dump(line)) {
        return 0;
    }
    pycgi_slowlog_put(ev->f, line, strlen(line));
    return 1;
}

void pycgi_slowlog_divert(pycgi_slowlog_event *ev, pycgi_linebuf *lb)
{
    if (!ev) {
        return;
    }
    ev->until = apr_time_now() + PYCGI_SLOWLOG_WINDOW;
    lb->divert = pycgi_slowlog_take;
    lb->divert_data = ev;
}
