/* Intel 8259A PIC pair, as wired on a PC (slave INT on master IR2), with
 * the PIIX3 ELCR.
 *
 * Each chip keeps its input pin levels and one edge-sense latch per input.
 * The IRR seen by priority resolution is the latch for edge-triggered
 * inputs and the pin for level-triggered ones (LTIM or the ELCR bit), so a
 * level request that is withdrawn before INTA disappears (and the INTA
 * returns the IR7 spurious vector), while an edge stays latched until it is
 * acknowledged, even if the line dropped again: devices may pulse a line
 * high and low within one access, and the CPU only looks at INTR between
 * instructions.  INTR is recomputed after every input change or register
 * access, so it never lags the chip state. */
#include "devices/i8259.h"

#include <glib.h>

#include "devices/devsnap.h"
#include "vmm/machine.h"

typedef struct PicChip {
    I8259 *p;
    bool master;
    uint8_t pin;            /* input levels */
    uint8_t edge;           /* edge-sense latches */
    uint8_t isr, imr;
    uint8_t elcr, elcr_mask;
    uint8_t vbase;          /* ICW2 T7-T3 */
    uint8_t icw3;           /* master: inputs with a slave; slave: its ID */
    uint8_t lowest;         /* the input with the lowest priority */
    uint8_t init_step;      /* next ICW expected (2, 3, 4), 0 when done */
    bool ltim, single, ic4, aeoi, sfnm;
    bool rotate_aeoi, smm, read_isr, poll;
} PicChip;

struct I8259 {
    Machine *m;
    IrqLine intr_out;
    int intr;
    bool ext2;              /* a device on master input 2 itself */
    PicChip chip[2];
};

static uint8_t level_mask(const PicChip *c)
{
    return c->ltim ? 0xff : c->elcr;
}

static uint8_t chip_irr(const PicChip *c)
{
    uint8_t l = level_mask(c);
    return (uint8_t)((c->edge & ~l) | (c->pin & l));
}

/* 0 is the highest priority; the input after `lowest` has it. */
static int prio(const PicChip *c, int irq)
{
    return (irq - c->lowest - 1) & 7;
}

static int highest(const PicChip *c, uint8_t bits)
{
    for (int i = 1; i <= 8; i++) {
        int irq = (c->lowest + i) & 7;
        if (bits >> irq & 1)
            return irq;
    }
    return -1;
}

static uint8_t cascade_mask(const PicChip *c)
{
    return c->master && !c->single ? c->icw3 : 0;
}

/* In special mask mode an in-service level that is masked no longer holds
 * off the others (and a non-specific EOI leaves it alone). */
static uint8_t in_service(const PicChip *c)
{
    return c->smm ? (uint8_t)(c->isr & ~c->imr) : c->isr;
}

/* The input the chip would raise INT for, or -1. */
static int chip_request(const PicChip *c)
{
    int irq = highest(c, chip_irr(c) & (uint8_t)~c->imr);
    if (irq < 0)
        return -1;
    int cur = highest(c, in_service(c));
    if (cur < 0 || prio(c, irq) < prio(c, cur))
        return irq;
    /* Special fully nested mode: a slave may interrupt its own cascade
     * level while it is in service, for its higher-priority inputs. */
    if (irq == cur && c->sfnm && (cascade_mask(c) >> irq & 1))
        return irq;
    return -1;
}

static void chip_set_pin(PicChip *c, int irq, bool level)
{
    uint8_t bit = (uint8_t)(1u << irq);
    if (level) {
        if (!(c->pin & bit))
            c->edge |= bit;
        c->pin |= bit;
    } else {
        c->pin &= (uint8_t)~bit;
    }
}

static void chip_ack(PicChip *c, int irq)
{
    uint8_t bit = (uint8_t)(1u << irq);
    c->edge &= (uint8_t)~bit;
    if (!c->aeoi)
        c->isr |= bit;
    else if (c->rotate_aeoi)
        c->lowest = (uint8_t)irq;
}

static void update(I8259 *p)
{
    PicChip *m = &p->chip[0];
    chip_set_pin(m, I8259_CASCADE_IRQ, p->ext2 || chip_request(&p->chip[1]) >= 0);
    int level = chip_request(m) >= 0;
    if (level != p->intr) {
        p->intr = level;
        irq_set(&p->intr_out, level);
    }
}

static void pic_set_irq(void *opaque, int irq, int level)
{
    I8259 *p = opaque;
    if (irq == I8259_CASCADE_IRQ)
        p->ext2 = level != 0;
    else
        chip_set_pin(&p->chip[irq >> 3], irq & 7, level != 0);
    update(p);
}

IrqLine i8259_input(I8259 *p, int irq)
{
    if (irq < 0 || irq >= I8259_NIRQ)
        return irq_line(NULL, NULL, 0);
    return irq_line(pic_set_irq, p, irq);
}

int i8259_ack(I8259 *p)
{
    PicChip *m = &p->chip[0], *s = &p->chip[1];
    int vec;
    int irq = chip_request(m);
    if (irq < 0) {
        vec = m->vbase | 7;
    } else {
        chip_ack(m, irq);
        if (!(cascade_mask(m) >> irq & 1)) {
            vec = m->vbase | irq;
        } else if (!s->single && (s->icw3 & 7) == irq) {
            int sirq = chip_request(s);
            if (sirq < 0) {
                vec = s->vbase | 7;
            } else {
                chip_ack(s, sirq);
                vec = s->vbase | sirq;
            }
            /* The slave drops INT during its INTA: a request it still has
             * (auto-EOI) reaches the edge-triggered master afresh. */
            if (irq == I8259_CASCADE_IRQ && !p->ext2)
                m->pin &= (uint8_t)~(1u << irq);
        } else {
            vec = 0xff;     /* no slave answers: the data bus floats */
        }
    }
    update(p);
    return vec;
}

void i8259_describe(const I8259 *p, GString *s)
{
    for (int i = 0; i < 2; i++) {
        const PicChip *c = &p->chip[i];
        g_string_append_printf(s, "%s8259 %s: requested 0x%02x, in service 0x%02x, masked 0x%02x",
                               i ? "; " : "", c->master ? "master" : "slave", chip_irr(c), c->isr,
                               c->imr);
    }
}

bool i8259_pending(I8259 *p)
{
    return p->intr != 0;
}

static void icw1(PicChip *c, uint8_t v)
{
    c->ltim = v & 0x08;
    c->single = v & 0x02;
    c->ic4 = v & 0x01;
    /* The edge-sense circuit is reset: an input must go low to high again
     * to request.  ICW4 functions not written are zero. */
    c->edge = 0;
    c->isr = 0;
    c->imr = 0;
    c->lowest = 7;
    c->smm = false;
    c->read_isr = false;
    c->poll = false;
    c->rotate_aeoi = false;
    c->aeoi = false;
    c->sfnm = false;
    c->init_step = 2;
}

static void ocw2(PicChip *c, uint8_t v)
{
    int l = v & 7;
    int irq;
    switch (v >> 5) {
    case 0:                         /* clear rotate in AEOI mode */
        c->rotate_aeoi = false;
        break;
    case 4:                         /* set rotate in AEOI mode */
        c->rotate_aeoi = true;
        break;
    case 1:                         /* non-specific EOI */
    case 5:                         /* rotate on non-specific EOI */
        irq = highest(c, in_service(c));
        if (irq >= 0) {
            c->isr &= (uint8_t)~(1u << irq);
            if (v >> 5 == 5)
                c->lowest = (uint8_t)irq;
        }
        break;
    case 3:                         /* specific EOI */
        c->isr &= (uint8_t)~(1u << l);
        break;
    case 7:                         /* rotate on specific EOI */
        c->isr &= (uint8_t)~(1u << l);
        c->lowest = (uint8_t)l;
        break;
    case 6:                         /* set priority */
        c->lowest = (uint8_t)l;
        break;
    default:                        /* 2: no operation */
        break;
    }
}

static void ocw3(PicChip *c, uint8_t v)
{
    if (v & 0x04)
        c->poll = true;
    if (v & 0x02)
        c->read_isr = v & 0x01;
    if (v & 0x40)
        c->smm = v & 0x20;
}

static void icw_or_ocw1(PicChip *c, uint8_t v)
{
    switch (c->init_step) {
    case 2:
        /* x86 (8086) mode vectors whatever ICW4's uPM says: the CPU
         * cannot take the 8080 CALL format anyway. */
        c->vbase = v & 0xf8;
        c->init_step = c->single ? (c->ic4 ? 4 : 0) : 3;
        break;
    case 3:
        c->icw3 = v;
        c->init_step = c->ic4 ? 4 : 0;
        break;
    case 4:
        c->aeoi = v & 0x02;
        c->sfnm = v & 0x10;
        c->init_step = 0;
        break;
    default:
        c->imr = v;
        break;
    }
}

static uint64_t pic_read(void *opaque, uint64_t off, unsigned size)
{
    PicChip *c = opaque;
    if (c->poll) {
        /* Poll mode: this read is the interrupt acknowledge. */
        c->poll = false;
        int irq = chip_request(c);
        uint8_t v = 0;
        if (irq >= 0) {
            chip_ack(c, irq);
            v = (uint8_t)(0x80 | irq);
        }
        update(c->p);
        return v;
    }
    if (off == 1)
        return c->imr;
    return c->read_isr ? c->isr : chip_irr(c);
}

static void pic_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    PicChip *c = opaque;
    uint8_t v = (uint8_t)val;
    if (off == 1)
        icw_or_ocw1(c, v);
    else if (v & 0x10)
        icw1(c, v);
    else if (v & 0x08)
        ocw3(c, v);
    else
        ocw2(c, v);
    update(c->p);
}

static const MemOps i8259_mem_ops = {
    .name = "i8259",
    .read = pic_read,
    .write = pic_write,
    .min_access = 1,
    .max_access = 1,
};

static uint64_t elcr_read(void *opaque, uint64_t off, unsigned size)
{
    I8259 *p = opaque;
    return p->chip[off & 1].elcr;
}

static void elcr_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    I8259 *p = opaque;
    PicChip *c = &p->chip[off & 1];
    uint8_t old = c->elcr;
    c->elcr = (uint8_t)val & c->elcr_mask;
    /* An input switched to edge must see a new rising edge. */
    c->edge &= (uint8_t)~(old ^ c->elcr);
    update(p);
}

static const MemOps elcr_mem_ops = {
    .name = "elcr",
    .read = elcr_read,
    .write = elcr_write,
    .min_access = 1,
    .max_access = 1,
};

/* The 8259A's state before ICW1 is undefined; this one looks like an
 * uninitialised chip wired as on a PC (the input pins keep their levels:
 * they are the devices' wires). */
static void chip_reset(PicChip *c)
{
    c->edge = 0;
    c->isr = 0;
    c->imr = 0;
    c->elcr = 0;
    c->vbase = 0;
    c->icw3 = c->master ? 1u << I8259_CASCADE_IRQ : I8259_CASCADE_IRQ;
    c->lowest = 7;
    c->init_step = 0;
    c->ltim = c->single = c->ic4 = c->aeoi = c->sfnm = false;
    c->rotate_aeoi = c->smm = c->read_isr = c->poll = false;
}

static void i8259_reset(void *dev)
{
    I8259 *p = dev;
    chip_reset(&p->chip[0]);
    chip_reset(&p->chip[1]);
    update(p);
}

static void i8259_destroy(void *dev)
{
    g_free(dev);
}

/* ---- snapshots ---- */

#define SNAP_VERSION 1

static void chip_save(SnapWriter *w, const PicChip *c)
{
    snap_put_u8(w, c->pin);
    snap_put_u8(w, c->edge);
    snap_put_u8(w, c->isr);
    snap_put_u8(w, c->imr);
    snap_put_u8(w, c->elcr);
    snap_put_u8(w, c->vbase);
    snap_put_u8(w, c->icw3);
    snap_put_u64(w, c->lowest);
    snap_put_u64(w, c->init_step);
    snap_put_bool(w, c->ltim);
    snap_put_bool(w, c->single);
    snap_put_bool(w, c->ic4);
    snap_put_bool(w, c->aeoi);
    snap_put_bool(w, c->sfnm);
    snap_put_bool(w, c->rotate_aeoi);
    snap_put_bool(w, c->smm);
    snap_put_bool(w, c->read_isr);
    snap_put_bool(w, c->poll);
}

static void chip_load(SnapReader *r, PicChip *c)
{
    c->pin = snap_get_u8(r);
    c->edge = snap_get_u8(r);
    c->isr = snap_get_u8(r);
    c->imr = snap_get_u8(r);
    c->elcr = (uint8_t)devsnap_check_mask(r, snap_get_u8(r), c->elcr_mask, "i8259 ELCR");
    c->vbase = (uint8_t)devsnap_check_mask(r, snap_get_u8(r), 0xf8, "i8259 vector base");
    c->icw3 = snap_get_u8(r);
    c->lowest = (uint8_t)snap_get_max(r, 7, "i8259 lowest priority input");
    c->init_step = (uint8_t)snap_get_max(r, 4, "i8259 initialization step");
    devsnap_require(r, c->init_step != 1, "i8259 initialization step 1");
    c->ltim = snap_get_bool(r);
    c->single = snap_get_bool(r);
    c->ic4 = snap_get_bool(r);
    c->aeoi = snap_get_bool(r);
    c->sfnm = snap_get_bool(r);
    c->rotate_aeoi = snap_get_bool(r);
    c->smm = snap_get_bool(r);
    c->read_isr = snap_get_bool(r);
    c->poll = snap_get_bool(r);
}

static int i8259_save(void *dev, void *wp)
{
    I8259 *p = dev;
    SnapWriter *w = wp;
    snap_put_u8(w, SNAP_VERSION);
    snap_put_bool(w, p->intr);
    snap_put_bool(w, p->ext2);
    chip_save(w, &p->chip[0]);
    chip_save(w, &p->chip[1]);
    return 0;
}

static int i8259_load(void *dev, void *rp)
{
    I8259 *p = dev;
    SnapReader *r = rp;
    if (!devsnap_version(r, SNAP_VERSION, "i8259"))
        return -1;
    int intr = snap_get_bool(r);
    bool ext2 = snap_get_bool(r);
    PicChip c[2] = { p->chip[0], p->chip[1] };
    chip_load(r, &c[0]);
    chip_load(r, &c[1]);
    if (!snap_reader_ok(r))
        return -1;
    p->intr = intr;
    p->ext2 = ext2;
    p->chip[0] = c[0];
    p->chip[1] = c[1];
    return 0;
}

static const DeviceOps i8259_device_ops = {
    .name = "i8259",
    .reset = i8259_reset,
    .save = i8259_save,
    .load = i8259_load,
    .destroy = i8259_destroy,
};

I8259 *i8259_create(Machine *m, AddressSpace *io, IrqLine intr_out)
{
    I8259 *p = g_new0(I8259, 1);
    p->m = m;
    p->intr_out = intr_out;
    for (int i = 0; i < 2; i++) {
        p->chip[i].p = p;
        p->chip[i].master = i == 0;
        chip_reset(&p->chip[i]);
    }
    /* PIIX3: IRQ 0, 1, 2, 8 and 13 are edge-triggered only. */
    p->chip[0].elcr_mask = 0xf8;
    p->chip[1].elcr_mask = 0xde;

    int err = as_add_mmio(io, "i8259-master", I8259_MASTER_PORT, 2,
                          &i8259_mem_ops, &p->chip[0]);
    if (err) {
        machine_set_error(m, "i8259: cannot map ports 0x%x-0x%x: %s",
                          I8259_MASTER_PORT, I8259_MASTER_PORT + 1, g_strerror(-err));
        g_free(p);
        return NULL;
    }
    err = as_add_mmio(io, "i8259-slave", I8259_SLAVE_PORT, 2, &i8259_mem_ops, &p->chip[1]);
    if (!err)
        err = as_add_mmio(io, "elcr", I8259_ELCR_PORT, 2, &elcr_mem_ops, p);
    if (err) {
        machine_set_error(m, "i8259: cannot map the slave or ELCR ports: %s",
                          g_strerror(-err));
        /* Regions already mapped point at p: it lives as long as they do. */
        machine_keep(m, p);
        return NULL;
    }
    machine_add_device(m, &i8259_device_ops, p);
    return p;
}
