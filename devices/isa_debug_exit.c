/* isa-debug-exit.  Any write of 1 to 4 bytes ends the machine with status
 * (value << 1) | 1, so a guest cannot exit with 0 and a "pass" is told
 * apart from the emulator's own success.  Reads return 0, like QEMU. */
#include "devices/isa_debug_exit.h"

#include "devices/devsnap.h"
#include "vmm/device.h"
#include "vmm/error.h"
#include "vmm/machine.h"
#include "vmm/options.h"

struct IsaDebugExit {
    Machine *m;
};

static uint64_t debug_exit_read(void *opaque, uint64_t off, unsigned size)
{
    return 0;
}

static void debug_exit_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    IsaDebugExit *d = opaque;
    /* The exit status of a process keeps 8 bits, as QEMU's exit() does. */
    machine_request_shutdown(d->m, (int)(((val << 1) | 1) & 0xff));
}

static const MemOps debug_exit_ops = {
    .name = "isa-debug-exit",
    .read = debug_exit_read,
    .write = debug_exit_write,
    .min_access = 1,
    .max_access = 4,
};

static void debug_exit_destroy(void *dev)
{
    g_free(dev);
}

/* No state: the stream is the layout version alone. */
#define SNAP_VERSION 1

static int debug_exit_save(void *dev, void *w)
{
    snap_put_u8(w, SNAP_VERSION);
    return 0;
}

static int debug_exit_load(void *dev, void *r)
{
    return devsnap_version(r, SNAP_VERSION, "isa-debug-exit") ? 0 : -1;
}

static const DeviceOps debug_exit_device_ops = {
    .name = "isa-debug-exit",
    .save = debug_exit_save,
    .load = debug_exit_load,
    .destroy = debug_exit_destroy,
};

IsaDebugExit *isa_debug_exit_create(Machine *m, AddressSpace *io, uint16_t iobase,
                                    uint16_t iosize, GError **err)
{
    if (iosize == 0 || (uint32_t)iobase + iosize > 0x10000) {
        tn_error(err, "isa-debug-exit: ports 0x%x..+0x%x do not fit the I/O space",
                 iobase, iosize);
        return NULL;
    }
    IsaDebugExit *d = g_new0(IsaDebugExit, 1);
    d->m = m;
    int r = as_add_mmio(io, "isa-debug-exit", iobase, iosize, &debug_exit_ops, d);
    if (r < 0) {
        tn_error(err, "isa-debug-exit: ports 0x%x..0x%x are taken by another device",
                 iobase, iobase + iosize - 1);
        g_free(d);
        return NULL;
    }
    machine_add_device(m, &debug_exit_device_ops, d);
    return d;
}

IsaDebugExit *isa_debug_exit_from_spec(Machine *m, AddressSpace *io, const char *spec,
                                       GError **err)
{
    static const char *const keys[] = { "iobase", "iosize", NULL };
    uint64_t base, size;
    if (!device_spec_check(spec, keys, err) ||
        !device_spec_uint(spec, "iobase", ISA_DEBUG_EXIT_IOBASE, 0xffff, &base, err) ||
        !device_spec_uint(spec, "iosize", ISA_DEBUG_EXIT_IOSIZE, 0xffff, &size, err))
        return NULL;
    return isa_debug_exit_create(m, io, (uint16_t)base, (uint16_t)size, err);
}
