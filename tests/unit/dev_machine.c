#include "dev_machine.h"

#include <glib.h>

Machine *dev_machine_new(uint64_t *icount)
{
    Machine *m = g_new0(Machine, 1);
    as_init(&m->as);
    as_init(&m->io);
    *icount = 0;
    m->icount = icount;
    vclock_init(&m->clock, icount, 0);
    return m;
}

void dev_machine_free(Machine *m)
{
    for (int i = m->ndevices - 1; i >= 0; i--)
        m->devices[i].ops->destroy(m->devices[i].dev);
    g_free(m->devices);
    for (int i = 0; i < m->nfree; i++)
        g_free(m->to_free[i]);
    g_free(m->to_free);
    g_free(m->error);
    g_free(m);
}
