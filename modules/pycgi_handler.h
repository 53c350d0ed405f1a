/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_handler.h -- the content handler: mod_cgi's checks, then the
 * runner chosen for the script (exec or embedded).
 */
#ifndef PYCGI_HANDLER_H
#define PYCGI_HANDLER_H

#include "pycgi_config.h"

int pycgi_handler(request_rec *r);

#endif /* PYCGI_HANDLER_H */
