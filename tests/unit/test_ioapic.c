#include <criterion/criterion.h>
#include <glib.h>

#include "devices/ioapic.h"
#include "devices/lapic.h"
#include "vmm/machine.h"

#include "dev_machine.h"

#define IOB IOAPIC_BASE
#define LB  LAPIC_BASE

static uint64_t icount;
static Machine *m;
static Lapic *l;
static Ioapic *io;
static int intr, nmis, pic_acks;
static bool pic_int;

static void set_intr(void *opaque, int n, int level) { intr = level; }
static void on_nmi(void *opaque) { nmis++; }
static int pic_ack(void *opaque) { pic_acks++; return 0x30; }
static bool pic_pending(void *opaque) { return pic_int; }

static uint32_t lrd(uint64_t off)
{
    uint64_t v = 0;
    cr_assert_eq(as_read(&m->as, LB + off, 4, &v), MEM_OK);
    return (uint32_t)v;
}

static void lwr(uint64_t off, uint32_t v)
{
    cr_assert_eq(as_write(&m->as, LB + off, 4, v), MEM_OK);
}

static uint32_t ird(uint8_t reg)
{
    uint64_t v = 0;
    cr_assert_eq(as_write(&m->as, IOB + 0x00, 1, reg), MEM_OK);
    cr_assert_eq(as_read(&m->as, IOB + 0x10, 4, &v), MEM_OK);
    return (uint32_t)v;
}

static void iwr(uint8_t reg, uint32_t v)
{
    cr_assert_eq(as_write(&m->as, IOB + 0x00, 4, reg), MEM_OK);
    cr_assert_eq(as_write(&m->as, IOB + 0x10, 4, v), MEM_OK);
}

static void route(int pin, uint32_t lo, uint8_t dest)
{
    iwr((uint8_t)(0x11 + 2 * pin), (uint32_t)dest << 24);
    iwr((uint8_t)(0x10 + 2 * pin), lo);
}

static bool irr(int v) { return lrd(0x200 + (v / 32) * 0x10) >> (v % 32) & 1; }

static void setup(void)
{
    m = dev_machine_new(&icount);
    intr = nmis = pic_acks = 0;
    pic_int = false;
    l = lapic_create(m, irq_line(set_intr, NULL, 0), on_nmi, NULL);
    cr_assert_not_null(l);
    lapic_set_extint(l, pic_ack, pic_pending, NULL);
    io = ioapic_create(m, l);
    cr_assert_not_null(io);
    lwr(0xf0, 0x1ff);                       /* LAPIC software-enabled */
}

static void teardown(void)
{
    dev_machine_free(m);
}

TestSuite(ioapic, .init = setup, .fini = teardown);

Test(ioapic, identification)
{
    cr_assert_eq(ird(0x01), 0x00170020);
    cr_assert_eq(ird(0x00), 0);
    iwr(0x00, 0xffffffff);
    cr_assert_eq(ird(0x00), 0x0f000000);
    cr_assert_eq(ird(0x02), 0x0f000000);    /* arbitration ID */
    iwr(0x01, 0);
    cr_assert_eq(ird(0x01), 0x00170020);
    uint64_t v;
    as_read(&m->as, IOB, 1, &v);
    cr_assert_eq(v, 0x01);                  /* IOREGSEL reads back */
    for (int i = 0; i < IOAPIC_PINS; i++) {
        cr_assert_eq(ird((uint8_t)(0x10 + 2 * i)), 0x10000);
        cr_assert_eq(ird((uint8_t)(0x11 + 2 * i)), 0);
    }
    cr_assert_eq(ird(0x40), 0);             /* past the last entry */
    /* Writable bits: not delivery status or remote IRR. */
    iwr(0x12, 0xffffffff);
    cr_assert_eq(ird(0x12), 0x1afff);
    iwr(0x13, 0xffffffff);
    cr_assert_eq(ird(0x13), 0xff000000);
}

Test(ioapic, edge_triggered)
{
    IrqLine in = ioapic_input(io, 4);
    route(4, 0x34, 0);
    irq_set(&in, 1);
    cr_assert(irr(0x34));
    cr_assert_eq(intr, 1);
    cr_assert_eq(lapic_intr_ack(l), 0x34);
    irq_set(&in, 1);                        /* no new edge */
    cr_assert(!irr(0x34));
    irq_set(&in, 0);
    irq_set(&in, 1);
    cr_assert(irr(0x34));
    lwr(0xb0, 0);
    cr_assert_eq(lapic_intr_ack(l), 0x34);
    lwr(0xb0, 0);
    cr_assert_eq(ird(0x18) & (1 << 14), 0);  /* no remote IRR for edges */
}

Test(ioapic, masking)
{
    IrqLine e = ioapic_input(io, 1), lv = ioapic_input(io, 9);
    route(1, 0x10000 | 0x31, 0);
    route(9, 0x10000 | 0x8000 | 0x39, 0);
    irq_set(&e, 1);
    irq_set(&lv, 1);
    cr_assert_eq(intr, 0);
    /* Unmasking: the edge was lost, the asserted level is delivered. */
    route(1, 0x31, 0);
    cr_assert(!irr(0x31));
    route(9, 0x8000 | 0x39, 0);
    cr_assert(irr(0x39));
    cr_assert(ird(0x10 + 18) & (1 << 14));
}

Test(ioapic, level_remote_irr)
{
    IrqLine in = ioapic_input(io, 10);
    route(10, 0x8000 | 0x3a, 0);
    irq_set(&in, 1);
    cr_assert(irr(0x3a));
    cr_assert(lrd(0x180 + 0x10) >> (0x3a - 32) & 1);   /* TMR */
    cr_assert(ird(0x10 + 20) & (1 << 14));
    cr_assert_eq(lapic_intr_ack(l), 0x3a);
    /* Still asserted but remote IRR is set: nothing new. */
    irq_set(&in, 1);
    cr_assert(!irr(0x3a));
    cr_assert_eq(intr, 0);
    /* EOI with the line still high: delivered again. */
    lwr(0xb0, 0);
    cr_assert(irr(0x3a));
    cr_assert(ird(0x10 + 20) & (1 << 14));
    cr_assert_eq(lapic_intr_ack(l), 0x3a);
    irq_set(&in, 0);
    lwr(0xb0, 0);
    cr_assert_eq(ird(0x10 + 20) & (1 << 14), 0);
    cr_assert_eq(intr, 0);
    /* The IOAPIC's own EOI register clears remote IRR too. */
    irq_set(&in, 1);
    cr_assert_eq(lapic_intr_ack(l), 0x3a);
    cr_assert_eq(as_write(&m->as, IOB + 0x40, 4, 0x3b), MEM_OK);
    cr_assert(ird(0x10 + 20) & (1 << 14));  /* other vector */
    cr_assert_eq(as_write(&m->as, IOB + 0x40, 4, 0x3a), MEM_OK);
    cr_assert(irr(0x3a));                   /* still high: again */
    /* Toggling to edge drops a stuck remote IRR. */
    route(10, 0x10000 | 0x3a, 0);
    cr_assert_eq(ird(0x10 + 20) & (1 << 14), 0);
}

Test(ioapic, destinations_and_modes)
{
    IrqLine a = ioapic_input(io, 3), b = ioapic_input(io, 5), c = ioapic_input(io, 6);
    route(3, 0x33, 1);                      /* physical 1: nobody */
    irq_set(&a, 1);
    cr_assert(!irr(0x33));
    irq_set(&a, 0);
    route(3, 0x33, 0xff);                   /* broadcast */
    irq_set(&a, 1);
    cr_assert(irr(0x33));
    lwr(0xd0, 0x01000000);                  /* logical flat, bit 0 */
    route(5, 0x800 | 0x100 | 0x35, 0x01);   /* logical, lowest priority */
    irq_set(&b, 1);
    cr_assert(irr(0x35));
    route(6, 0x400, 0);                     /* NMI */
    irq_set(&c, 1);
    cr_assert_eq(nmis, 1);
    irq_set(&c, 1);
    cr_assert_eq(nmis, 1);
    /* A level-triggered entry whose destination matches nobody keeps no
     * remote IRR; pointing it at the CPU delivers. */
    IrqLine d = ioapic_input(io, 7);
    route(7, 0x8000 | 0x37, 2);
    irq_set(&d, 1);
    cr_assert(!irr(0x37));
    cr_assert_eq(ird(0x10 + 14) & (1 << 14), 0);
    iwr(0x11 + 14, 0);
    cr_assert(irr(0x37));
    /* Out-of-range pins are ignored. */
    IrqLine bad = ioapic_input(io, 24);
    irq_set(&bad, 1);
    bad = ioapic_input(io, -1);
    irq_set(&bad, 1);
}

Test(ioapic, extint_virtual_wire)
{
    IrqLine pin0 = ioapic_input(io, 0);
    lwr(0x350, 0x10700);                    /* LINT0 masked */
    route(0, 0x700, 0);                     /* ExtINT */
    pic_int = true;
    irq_set(&pin0, 1);
    cr_assert_eq(intr, 1);
    cr_assert_eq(lapic_intr_ack(l), 0x30);
    cr_assert_eq(pic_acks, 1);
    pic_int = false;
    irq_set(&pin0, 0);
    cr_assert_eq(intr, 0);
    /* Masking the entry takes the wire away. */
    pic_int = true;
    irq_set(&pin0, 1);
    cr_assert_eq(intr, 1);
    route(0, 0x10700, 0);
    cr_assert_eq(intr, 0);
}

Test(ioapic, reset)
{
    IrqLine in = ioapic_input(io, 2);
    route(2, 0x8000 | 0x42, 0);
    irq_set(&in, 1);
    for (int i = 0; i < m->ndevices; i++)
        m->devices[i].ops->reset(m->devices[i].dev);
    cr_assert_eq(ird(0x14), 0x10000);
    cr_assert_eq(intr, 0);
}

Test(ioapic, hostile_sweep)
{
    static const unsigned sizes[] = { 1, 2, 4, 8 };
    uint64_t x = 0x243f6a8885a308d3ull, v;
    IrqLine in[IOAPIC_PINS];
    for (int i = 0; i < IOAPIC_PINS; i++)
        in[i] = ioapic_input(io, i);
    pic_int = true;
    for (int round = 0; round < 4; round++) {
        for (unsigned sel = 0; sel < 256; sel++) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            uint64_t val = round == 0 ? ~0ull : round == 1 ? 0 : x;
            iwr((uint8_t)sel, (uint32_t)val);
            ird((uint8_t)sel);
            for (uint64_t off = 0; off < 0x80; off += 4)
                for (unsigned s = 0; s < 4; s++) {
                    if (off % sizes[s])
                        continue;
                    if (off == 0x10 || off == 0x40 || (x >> 40 & 7) == 0)
                        as_write(&m->as, IOB + off, sizes[s], x >> 3);
                    as_read(&m->as, IOB + off, sizes[s], &v);
                }
            irq_set(&in[x % IOAPIC_PINS], (int)(x >> 30) & 1);
            if (intr) {
                int vec = lapic_intr_ack(l);
                cr_assert(vec >= 0 && vec < 256);
                if (x & 0x100)
                    lwr(0xb0, 0);
            }
        }
    }
    /* Still answers. */
    cr_assert_eq(ird(0x01), 0x00170020);
}

/* Unmasked or asserted pins only, with their remote IRR. */
Test(ioapic, describe)
{
    GString *s = g_string_new(NULL);
    ioapic_describe(io, s);
    cr_assert_str_eq(s->str, "I/O APIC: every pin masked");
    IrqLine in = ioapic_input(io, 10);
    route(10, 0x8000 | 0x3a, 0);
    irq_set(&in, 1);
    cr_assert_eq(lapic_intr_ack(l), 0x3a);
    IrqLine in3 = ioapic_input(io, 3);
    irq_set(&in3, 1);
    g_string_truncate(s, 0);
    ioapic_describe(io, s);
    cr_assert_str_eq(s->str, "I/O APIC: pin 3 vector 0 masked asserted; pin 10 vector 0x3a "
                             "asserted awaiting EOI");
    g_string_free(s, TRUE);
}
