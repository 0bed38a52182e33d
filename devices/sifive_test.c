/* SiFive test finisher.  Like QEMU's, only offset 0 does anything, reads
 * return 0, and the device has no state of its own. */
#include "devices/sifive_test.h"

#include <glib.h>

#include "devices/devsnap.h"
#include "vmm/device.h"
#include "vmm/machine.h"
#include "vmm/memory.h"

struct SifiveTest {
    Machine *m;
};

static uint64_t sifive_test_read(void *opaque, uint64_t off, unsigned size)
{
    return 0;
}

static void sifive_test_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    SifiveTest *t = opaque;
    if (off == 2 && size == 2) {
        /* The upper half of the 32-bit register alone: no command code. */
        return;
    }
    if (off != 0)
        return;
    switch (val & 0xffff) {
    case SIFIVE_TEST_FAIL:
        machine_request_shutdown(t->m, (int)((val >> 16) & 0xffff));
        break;
    case SIFIVE_TEST_PASS:
        machine_request_shutdown(t->m, 0);
        break;
    case SIFIVE_TEST_RESET:
        machine_request_reset(t->m);
        break;
    default:
        break;
    }
}

static const MemOps sifive_test_mem_ops = {
    .name = "sifive_test",
    .read = sifive_test_read,
    .write = sifive_test_write,
    /* OpenSBI writes the 16-bit code with a halfword store (QEMU accepts
     * 2- and 4-byte accesses). */
    .min_access = 2,
    .max_access = 4,
};

static void sifive_test_destroy(void *dev)
{
    g_free(dev);
}

/* No state: the stream is the layout version alone. */
#define SNAP_VERSION 1

static int sifive_test_save(void *dev, void *w)
{
    snap_put_u8(w, SNAP_VERSION);
    return 0;
}

static int sifive_test_load(void *dev, void *r)
{
    return devsnap_version(r, SNAP_VERSION, "sifive_test") ? 0 : -1;
}

static const DeviceOps sifive_test_device_ops = {
    .name = "sifive_test",
    .save = sifive_test_save,
    .load = sifive_test_load,
    .destroy = sifive_test_destroy,
};

SifiveTest *sifive_test_create(Machine *m, uint64_t base)
{
    SifiveTest *t = g_new0(SifiveTest, 1);
    t->m = m;
    int err = as_add_mmio(&m->as, "sifive_test", base, SIFIVE_TEST_MMIO_SIZE,
                          &sifive_test_mem_ops, t);
    if (err) {
        machine_set_error(m, "sifive_test: cannot map at 0x%" G_GINT64_MODIFIER "x: %s",
                          base, g_strerror(-err));
        g_free(t);
        return NULL;
    }
    machine_add_device(m, &sifive_test_device_ops, t);
    return t;
}
