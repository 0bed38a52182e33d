#include "dev_machine.h"

#include <criterion/criterion.h>
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

void dev_machine_run_to(Machine *m, uint64_t *icount, int64_t ns)
{
    for (;;) {
        int64_t d = vclock_next_deadline(&m->clock);
        if (d > ns)
            break;
        if (d > (int64_t)*icount)
            *icount = (uint64_t)d;
        vclock_run_timers(&m->clock);
    }
    *icount = (uint64_t)ns;
    vclock_run_timers(&m->clock);
}


uint64_t dev_in(Machine *m, uint16_t port, unsigned size)
{
    uint64_t v = 0;
    cr_assert_eq(as_read(&m->io, port, size, &v), MEM_OK, "in port 0x%x size %u", port, size);
    return v;
}

void dev_out(Machine *m, uint16_t port, unsigned size, uint64_t v)
{
    cr_assert_eq(as_write(&m->io, port, size, v), MEM_OK, "out port 0x%x size %u", port, size);
}

uint32_t dev_pci_cfg_addr(int devfn, unsigned reg)
{
    return 0x80000000u | (unsigned)devfn << 8 | (reg & 0xfc);
}

uint32_t dev_pci_cfg_read(Machine *m, int devfn, unsigned reg, unsigned size)
{
    dev_out(m, 0xcf8, 4, dev_pci_cfg_addr(devfn, reg));
    return (uint32_t)dev_in(m, (uint16_t)(0xcfc + (reg & 3)), size);
}

void dev_pci_cfg_write(Machine *m, int devfn, unsigned reg, unsigned size, uint32_t v)
{
    dev_out(m, 0xcf8, 4, dev_pci_cfg_addr(devfn, reg));
    dev_out(m, (uint16_t)(0xcfc + (reg & 3)), size, v);
}
