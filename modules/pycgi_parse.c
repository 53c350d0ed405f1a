/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_parse.c -- byte-level parsers shared by the runners and fuzzed
 * on their own (fuzz/fuzz_parse.c).
 */
#include "pycgi_parse.h"
#include <string.h>

int pycgi_parse_headers_end(const char *buf, size_t len, size_t from)
{
    const char *p = buf + from, *end = buf + len;

    if (from >= len) {
        return 0;
    }
    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        if (p + 1 < end && p[1] == '\n') {
            return 1;
        }
        if (p + 2 < end && p[1] == '\r' && p[2] == '\n') {
            return 1;
        }
        p++;
    }
    return 0;
}

static char *pycgi_parse_word(char **s)
{
    char *w = *s;

    while (*w == ' ' || *w == '\t' || *w == '\r') {
        w++;
    }
    if (!*w) {
        *s = w;
        return NULL;
    }
    *s = w;
    while (**s && **s != ' ' && **s != '\t' && **s != '\r') {
        (*s)++;
    }
    if (**s) {
        *(*s)++ = '\0';
    }
    return w;
}

int pycgi_parse_shebang(char *line, size_t len, const char **prog,
                        const char **arg, int *more)
{
    char *nl, *s;

    *prog = *arg = NULL;
    *more = 0;
    if (len < 2 || line[0] != '#' || line[1] != '!') {
        return -1;
    }
    nl = memchr(line, '\n', len);
    if (!nl) {
        /* A first line longer than what we read: not one we trust. */
        if (strlen(line) >= len) {
            return -2;
        }
    }
    else {
        *nl = '\0';
    }
    s = line + 2;
    *prog = pycgi_parse_word(&s);
    if (!*prog) {
        return -3;
    }
    *arg = pycgi_parse_word(&s);
    if (*arg && pycgi_parse_word(&s)) {
        *more = 1;
    }
    return 0;
}

size_t pycgi_parse_line(const char *data, size_t len, size_t room,
                        int *complete)
{
    const char *nl = memchr(data, '\n', len);
    size_t take = nl ? (size_t)(nl - data) + 1 : len;

    *complete = nl != NULL;
    if (take >= room) {
        /* The buffer fills up: the line is logged in pieces. */
        take = room;
        *complete = 1;
    }
    return take;
}
