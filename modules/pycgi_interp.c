/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */
#include "pycgi_interp.h"

void pycgi_interp_child_init(apr_pool_t *p, server_rec *s)
{
    (void)p; (void)s;
}
