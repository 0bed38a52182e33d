/* -gdb specs (tcp::PORT, tcp:HOST:PORT), apart from the stub so that
 * options.c links without it (the log-reader fuzzer builds options.c
 * alone). */
#include "vmm/gdbstub.h"

#include <stdlib.h>
#include <string.h>

#include "vmm/error.h"

bool gdbstub_parse_spec(const char *spec, char **host, int *port, GError **err)
{
    const char *p = spec;
    if (!strncmp(p, "tcp:", 4))
        p += 4;
    else if (*p != ':') {
        tn_error(err, "-gdb %s: expected tcp::PORT or tcp:HOST:PORT (e.g. -gdb tcp::1234)", spec);
        return false;
    }
    const char *colon = strrchr(p, ':');
    const char *hs = colon ? p : NULL, *ps = colon ? colon + 1 : p;
    char *end;
    long v = strtol(ps, &end, 10);
    if (!*ps || *end || v < 1 || v > 65535) {
        tn_error(err, "-gdb %s: the port must be a number from 1 to 65535", spec);
        return false;
    }
    *port = (int)v;
    *host = hs && colon > hs ? g_strndup(hs, (gsize)(colon - hs)) : NULL;
    return true;
}
