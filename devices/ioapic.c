/* 82093AA I/O APIC: 24 redirection entries behind IOREGSEL/IOWIN, plus
 * the EOI register of version 0x20.
 *
 * Edge-triggered entries send a message on a rising input; level-triggered
 * fixed/lowest-priority entries send while the input is asserted and remote
 * IRR is clear, set remote IRR, and send again after the EOI if the input
 * is still asserted.  Every write to an entry re-evaluates its pin, so
 * unmasking an asserted level-triggered input delivers it (an edge seen
 * while masked is lost).  ExtINT entries are a virtual wire: the LAPIC's
 * ExtINT input follows the OR of the unmasked ExtINT pins. */
#include "devices/ioapic.h"

#include <glib.h>
#include <string.h>

#include "devices/devsnap.h"
#include "vmm/machine.h"
#include "vmm/memory.h"

#define RTE_VECTOR   0xffull
#define RTE_DM(e)    ((int)(((e) >> 8) & 7))
#define RTE_LOGICAL  (1ull << 11)
#define RTE_RIRR     (1ull << 14)
#define RTE_LEVEL    (1ull << 15)
#define RTE_MASK     (1ull << 16)
#define RTE_LO_WMASK 0x1afffull      /* delivery status and remote IRR are read-only */

enum { IOREGSEL = 0x00, IOWIN = 0x10, IOEOI = 0x40 };
enum { REG_ID = 0x00, REG_VERSION = 0x01, REG_ARB = 0x02, REG_REDIR = 0x10 };

struct Ioapic {
    Machine *m;
    Lapic *lapic;
    uint8_t sel;
    uint32_t id;
    uint64_t rte[IOAPIC_PINS];
    uint32_t level;                 /* input pins, one bit each */
    bool extint_out;
};

static bool asserted(const Ioapic *io, int pin) { return io->level >> pin & 1; }

static bool send(Ioapic *io, uint64_t e)
{
    if (!lapic_match_dest(io->lapic, (uint8_t)(e >> 56), e & RTE_LOGICAL))
        return false;
    lapic_deliver(io->lapic, (int)(e & RTE_VECTOR), RTE_DM(e), e & RTE_LEVEL, true);
    return true;
}

static void extint_update(Ioapic *io)
{
    bool out = false;
    for (int i = 0; i < IOAPIC_PINS; i++) {
        uint64_t e = io->rte[i];
        if (!(e & RTE_MASK) && RTE_DM(e) == LAPIC_DM_EXTINT && asserted(io, i) &&
            lapic_match_dest(io->lapic, (uint8_t)(e >> 56), e & RTE_LOGICAL))
            out = true;
    }
    if (out != io->extint_out) {
        io->extint_out = out;
        lapic_deliver(io->lapic, 0, LAPIC_DM_EXTINT, false, out);
    }
}

static void pin_eval(Ioapic *io, int pin, bool rising)
{
    uint64_t *e = &io->rte[pin];
    int dm = RTE_DM(*e);
    if ((*e & RTE_MASK) || dm == LAPIC_DM_EXTINT)
        return;
    if ((*e & RTE_LEVEL) && (dm == LAPIC_DM_FIXED || dm == LAPIC_DM_LOWEST)) {
        if (asserted(io, pin) && !(*e & RTE_RIRR) && send(io, *e))
            *e |= RTE_RIRR;
        return;
    }
    if (rising)
        send(io, *e);
}

static void input_set(void *opaque, int pin, int level)
{
    Ioapic *io = opaque;
    if (pin < 0 || pin >= IOAPIC_PINS)
        return;
    bool rising = level && !asserted(io, pin);
    if (level)
        io->level |= 1u << pin;
    else
        io->level &= ~(1u << pin);
    pin_eval(io, pin, rising);
    extint_update(io);
}

IrqLine ioapic_input(Ioapic *io, int pin)
{
    return irq_line(input_set, io, pin);
}

void ioapic_describe(const Ioapic *io, GString *s)
{
    g_string_append(s, "I/O APIC:");
    int n = 0;
    for (int pin = 0; pin < IOAPIC_PINS; pin++) {
        uint64_t e = io->rte[pin];
        if (e & RTE_MASK && !asserted(io, pin))
            continue;
        g_string_append_printf(s, "%s pin %d vector %#x%s%s%s", n++ ? ";" : "", pin,
                               (unsigned)(e & RTE_VECTOR), e & RTE_MASK ? " masked" : "",
                               asserted(io, pin) ? " asserted" : "",
                               e & RTE_RIRR ? " awaiting EOI" : "");
    }
    if (!n)
        g_string_append(s, " every pin masked");
}

void ioapic_eoi(Ioapic *io, int vector)
{
    for (int i = 0; i < IOAPIC_PINS; i++) {
        uint64_t *e = &io->rte[i];
        if ((*e & RTE_RIRR) && (int)(*e & RTE_VECTOR) == (vector & 0xff)) {
            *e &= ~RTE_RIRR;
            pin_eval(io, i, false);
        }
    }
}

static void eoi_broadcast(void *opaque, int vector)
{
    ioapic_eoi(opaque, vector);
}

static uint32_t reg_read(Ioapic *io)
{
    unsigned r = io->sel;
    switch (r) {
    case REG_ID:
    case REG_ARB:
        return io->id;
    case REG_VERSION:
        return IOAPIC_VERSION;
    default:
        break;
    }
    if (r >= REG_REDIR && r < REG_REDIR + 2 * IOAPIC_PINS) {
        uint64_t e = io->rte[(r - REG_REDIR) / 2];
        return (uint32_t)(r & 1 ? e >> 32 : e);
    }
    return 0;
}

static void reg_write(Ioapic *io, uint32_t val)
{
    unsigned r = io->sel;
    if (r == REG_ID) {
        io->id = val & 0x0f000000u;
        return;
    }
    if (r < REG_REDIR || r >= REG_REDIR + 2 * IOAPIC_PINS)
        return;                     /* version, arbitration: read-only */
    int pin = (int)(r - REG_REDIR) / 2;
    uint64_t *e = &io->rte[pin];
    if (r & 1) {
        *e = (*e & 0x00ffffffffffffffull) | ((uint64_t)(val & 0xff000000u) << 32);
    } else {
        *e = (*e & ~0xffffffffull) | (val & RTE_LO_WMASK) | (*e & RTE_RIRR);
        /* Remote IRR means nothing for edge triggering; dropping it lets a
         * guest unstick an entry by toggling the trigger mode. */
        if (!(*e & RTE_LEVEL))
            *e &= ~RTE_RIRR;
    }
    pin_eval(io, pin, false);
    extint_update(io);
}

static uint64_t ioapic_read(void *opaque, uint64_t off, unsigned size)
{
    Ioapic *io = opaque;
    if (off == IOREGSEL)
        return io->sel;
    if (off == IOWIN && size == 4)
        return reg_read(io);
    return 0;
}

static void ioapic_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    Ioapic *io = opaque;
    if (off == IOREGSEL)
        io->sel = (uint8_t)val;
    else if (off == IOWIN && size == 4)
        reg_write(io, (uint32_t)val);
    else if (off == IOEOI && size == 4)
        ioapic_eoi(io, (int)(val & 0xff));
}

static const MemOps ioapic_mem_ops = {
    .name = "ioapic",
    .read = ioapic_read,
    .write = ioapic_write,
    .min_access = 1,
    .max_access = 8,
};

/* Input levels are the wires' and survive; the registers do not. */
static void ioapic_reset(void *dev)
{
    Ioapic *io = dev;
    io->sel = 0;
    io->id = 0;
    for (int i = 0; i < IOAPIC_PINS; i++)
        io->rte[i] = RTE_MASK;
    extint_update(io);
}

static void ioapic_destroy(void *dev)
{
    g_free(dev);
}

/* ---- snapshots ---- */

#define SNAP_VERSION 1

static int ioapic_save(void *dev, void *wp)
{
    Ioapic *io = dev;
    SnapWriter *w = wp;
    snap_put_u8(w, SNAP_VERSION);
    snap_put_u8(w, io->sel);
    snap_put_u32(w, io->id);
    for (int i = 0; i < IOAPIC_PINS; i++)
        snap_put_u64(w, io->rte[i]);
    snap_put_u32(w, io->level);
    snap_put_bool(w, io->extint_out);
    return 0;
}

/* Remote IRR and the pin levels are restored as they were: the LAPIC's
 * IRR/ISR/TMR, loaded beside them, hold the interrupts they stand for. */
static int ioapic_load(void *dev, void *rp)
{
    Ioapic *io = dev;
    SnapReader *r = rp;
    if (!devsnap_version(r, SNAP_VERSION, "ioapic"))
        return -1;
    uint8_t sel = snap_get_u8(r);
    uint32_t id = (uint32_t)devsnap_check_mask(r, snap_get_u32(r), 0x0f000000u, "I/O APIC ID");
    uint64_t rte[IOAPIC_PINS];
    for (int i = 0; i < IOAPIC_PINS; i++)
        rte[i] = snap_get_u64(r);
    uint32_t level = (uint32_t)devsnap_check_mask(r, snap_get_u32(r),
                                                  (1ull << IOAPIC_PINS) - 1,
                                                  "I/O APIC input levels");
    bool extint_out = snap_get_bool(r);
    if (!snap_reader_ok(r))
        return -1;
    io->sel = sel;
    io->id = id;
    memcpy(io->rte, rte, sizeof(rte));
    io->level = level;
    io->extint_out = extint_out;
    return 0;
}

static const DeviceOps ioapic_device_ops = {
    .name = "ioapic",
    .reset = ioapic_reset,
    .save = ioapic_save,
    .load = ioapic_load,
    .destroy = ioapic_destroy,
};

Ioapic *ioapic_create(Machine *m, Lapic *l)
{
    Ioapic *io = g_new0(Ioapic, 1);
    io->m = m;
    io->lapic = l;
    for (int i = 0; i < IOAPIC_PINS; i++)
        io->rte[i] = RTE_MASK;
    int err = as_add_mmio(&m->as, "ioapic", IOAPIC_BASE, IOAPIC_MMIO_SIZE,
                          &ioapic_mem_ops, io);
    if (err) {
        machine_set_error(m, "ioapic: cannot map at 0x%llx: %s",
                          IOAPIC_BASE, g_strerror(-err));
        g_free(io);
        return NULL;
    }
    lapic_set_eoi_cb(l, eoi_broadcast, io);
    machine_add_device(m, &ioapic_device_ops, io);
    return io;
}
