/* Licensed under the Apache License, Version 2.0 (see LICENSE and NOTICE). */

/*
 * pycgi_include.h -- mod_include's <!--#exec cgi=... cmd=... --> element,
 * which mod_cgi provides to mod_include and so must we when we replace
 * it.  Registered from post_config when mod_include is loaded.
 */
#ifndef PYCGI_INCLUDE_H
#define PYCGI_INCLUDE_H

#include "pycgi_common.h"

void pycgi_include_register(void);

#endif /* PYCGI_INCLUDE_H */
