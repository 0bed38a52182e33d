/* Device model plumbing: an ops table per device type, interrupt lines. */
#ifndef TANDEM_DEVICE_H
#define TANDEM_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct Machine Machine;

/* Every device type has one const DeviceOps.  save/load are filled in by the
 * snapshot work; a device whose save is NULL makes savevm fail with a message
 * naming it. */
typedef struct DeviceOps {
    const char *name;
    void (*reset)(void *dev);
    int (*save)(void *dev, void *writer);
    int (*load)(void *dev, void *reader);
    void (*destroy)(void *dev);
} DeviceOps;

/* Registers a device with the machine (reset order = registration order;
 * destroy in reverse). */
void machine_add_device(Machine *m, const DeviceOps *ops, void *dev);

/* An interrupt line: a level-triggered wire from a device to a controller
 * input (PLIC source n, CPU mip bit, ...). */
typedef struct IrqLine {
    void (*set)(void *opaque, int n, int level);
    void *opaque;
    int n;
} IrqLine;

static inline void irq_set(const IrqLine *l, int level)
{
    if (l->set)
        l->set(l->opaque, l->n, level);
}

static inline IrqLine irq_line(void (*set)(void *, int, int), void *opaque, int n)
{
    IrqLine l = { set, opaque, n };
    return l;
}

#endif
