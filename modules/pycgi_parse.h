/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_parse.h -- the parsers of untrusted bytes that are ours (the
 * header block itself is scanned by httpd's ap_scan_script_header_*).
 * Plain C over byte buffers, no httpd or APR types, so that the fuzz
 * targets in fuzz/ can link them alone.
 */
#ifndef PYCGI_PARSE_H
#define PYCGI_PARSE_H

#include <stddef.h>

/* Does buf[0..len) hold the end of a CGI header block ("\n\n" or
 * "\n\r\n")?  The search starts at `from`; a caller appending to the
 * buffer passes the old length minus 2 so that an end split across two
 * writes is still found. */
int pycgi_parse_headers_end(const char *buf, size_t len, size_t from);

/* Split a "#!" first line in place.  `line` is NUL-terminated (at most
 * `len` bytes before the NUL).  On success returns 0 with *prog the
 * interpreter and *arg its one optional argument (or NULL), and
 * *more != 0 if further words follow; -1: no "#!"; -2: no complete
 * line within the buffer; -3: "#!" with no interpreter. */
int pycgi_parse_shebang(char *line, size_t len, const char **prog,
                        const char **arg, int *more);

/* How many bytes of data[0..len) belong to the current stderr line,
 * given `room` bytes left in the line buffer; *complete is set when
 * they end the line (a '\n', or the buffer is full). */
size_t pycgi_parse_line(const char *data, size_t len, size_t room,
                        int *complete);

#endif /* PYCGI_PARSE_H */
