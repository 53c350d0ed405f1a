/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */
#include "pycgi_embed.h"

int pycgi_embed_wanted(request_rec *r, pycgi_dir_conf *dconf, int nph)
{
    (void)r; (void)dconf; (void)nph;
    return 0;
}

int pycgi_embed_run(request_rec *r, int nph, apr_interval_time_t timeout)
{
    (void)r; (void)nph; (void)timeout;
    return HTTP_SERVICE_UNAVAILABLE;
}
