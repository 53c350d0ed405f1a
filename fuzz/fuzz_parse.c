/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * fuzz_parse.c -- libFuzzer target for modules/pycgi_parse.c, the
 * parsers that see a script's raw bytes.  Besides "no crash" it checks
 * each parser against a plain reference:
 *   - headers_end fed in the fuzzer-chosen pieces, as the embedded
 *     writer does, agrees with one search over the whole buffer;
 *   - the stderr line splitter gives back every byte, in order, and
 *     ends lines exactly at '\n' or a full buffer;
 *   - shebang words lie inside the line and hold no blanks.
 */
#include "../modules/pycgi_parse.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int reference_end(const char *b, size_t n)
{
    size_t i;

    for (i = 0; i + 1 < n; i++) {
        if (b[i] == '\n' && (b[i + 1] == '\n'
                             || (i + 2 < n && b[i + 1] == '\r'
                                 && b[i + 2] == '\n'))) {
            return 1;
        }
    }
    return 0;
}

static void check_headers(const uint8_t *data, size_t size)
{
    const char *buf = (const char *)data;
    size_t have = 0, step = 1 + (size ? data[0] % 17 : 0);
    int found = 0;

    /* Feed in pieces of `step` bytes, searching from have - 2. */
    while (have < size && !found) {
        size_t from = have > 2 ? have - 2 : 0;

        have = have + step > size ? size : have + step;
        found = pycgi_parse_headers_end(buf, have, from);
        if (found != reference_end(buf, have)) {
            abort();
        }
    }
    if (!found && reference_end(buf, size)) {
        abort();
    }
}

static void check_lines(const uint8_t *data, size_t size)
{
    char line[64];
    char *out = malloc(size + 1);
    size_t len = 0, outlen = 0, pos = 0;

    while (pos < size) {
        int complete;
        size_t take = pycgi_parse_line((const char *)data + pos, size - pos,
                                       sizeof(line) - 1 - len, &complete);

        if (take == 0 || take > size - pos) {
            abort();
        }
        memcpy(line + len, data + pos, take);
        len += take;
        pos += take;
        if (memchr(line, '\n', len) && line[len - 1] != '\n') {
            abort();            /* a line must end at its newline */
        }
        if (complete) {
            if (line[len - 1] != '\n' && len != sizeof(line) - 1) {
                abort();
            }
            memcpy(out + outlen, line, len);
            outlen += len;
            len = 0;
        }
    }
    memcpy(out + outlen, line, len);
    outlen += len;
    if (outlen != size || memcmp(out, data, size)) {
        abort();
    }
    free(out);
}

static void check_shebang(const uint8_t *data, size_t size)
{
    char line[256];
    size_t n = size < sizeof(line) - 1 ? size : sizeof(line) - 1;
    const char *prog, *arg;
    int more;

    memcpy(line, data, n);
    line[n] = '\0';
    if (pycgi_parse_shebang(line, n, &prog, &arg, &more) == 0) {
        if (prog < line || prog >= line + n || !*prog
            || strpbrk(prog, " \t\r\n")) {
            abort();
        }
        if (arg && (arg < line || arg >= line + n || !*arg
                    || strpbrk(arg, " \t\r\n"))) {
            abort();
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_headers(data, size);
    check_lines(data, size);
    check_shebang(data, size);
    return 0;
}
