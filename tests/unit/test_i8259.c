#include <criterion/criterion.h>
#include <glib.h>

#include "devices/i8259.h"
#include "vmm/machine.h"

#include "dev_machine.h"

static uint64_t icount;
static Machine *m;
static I8259 *pic;
static int intr, intr_changes;
static IrqLine irq[16];

static void set_intr(void *opaque, int n, int level)
{
    if (level != intr)
        intr_changes++;
    intr = level;
}

static void out8(uint16_t port, uint8_t v)
{
    cr_assert_eq(as_write(&m->io, port, 1, v), MEM_OK, "port 0x%x", port);
}

static uint8_t in8(uint16_t port)
{
    uint64_t v = 0xdead;
    cr_assert_eq(as_read(&m->io, port, 1, &v), MEM_OK, "port 0x%x", port);
    cr_assert_lt(v, 0x100);
    return (uint8_t)v;
}

static void up(int n) { irq_set(&irq[n], 1); }
static void down(int n) { irq_set(&irq[n], 0); }

/* What a PC BIOS writes: vectors 0x08 and 0x70, slave on IR2, 8086 mode. */
static void init_pc(uint8_t icw4_master, uint8_t icw4_slave)
{
    out8(0x20, 0x11);
    out8(0x21, 0x08);
    out8(0x21, 0x04);
    out8(0x21, icw4_master);
    out8(0xa0, 0x11);
    out8(0xa1, 0x70);
    out8(0xa1, 0x02);
    out8(0xa1, icw4_slave);
}

static uint8_t irr(uint16_t base) { out8(base, 0x0a); return in8(base); }
static uint8_t isr(uint16_t base) { out8(base, 0x0b); return in8(base); }
static void eoi(uint16_t base) { out8(base, 0x20); }

static void setup(void)
{
    m = dev_machine_new(&icount);
    intr = intr_changes = 0;
    pic = i8259_create(m, &m->io, irq_line(set_intr, NULL, 0));
    cr_assert_not_null(pic);
    for (int i = 0; i < 16; i++)
        irq[i] = i8259_input(pic, i);
}

static void teardown(void)
{
    dev_machine_free(m);
}

TestSuite(i8259, .init = setup, .fini = teardown);

Test(i8259, icw_sequence_and_vectors)
{
    init_pc(0x01, 0x01);
    cr_assert_eq(in8(0x21), 0);
    cr_assert_eq(in8(0xa1), 0);
    out8(0x21, 0xb8);               /* OCW1 once initialised */
    cr_assert_eq(in8(0x21), 0xb8);
    out8(0x21, 0x00);
    cr_assert_eq(intr, 0);
    up(0);
    cr_assert_eq(intr, 1);
    cr_assert(i8259_pending(pic));
    cr_assert_eq(irr(0x20), 0x01);
    cr_assert_eq(i8259_ack(pic), 0x08);
    cr_assert_eq(intr, 0);
    cr_assert_eq(irr(0x20), 0x00);
    cr_assert_eq(isr(0x20), 0x01);
    eoi(0x20);
    cr_assert_eq(isr(0x20), 0x00);
    /* The IRR/ISR selection sticks until the next OCW3 that sets RR. */
    out8(0x20, 0x0b);
    out8(0x20, 0x08);
    cr_assert_eq(in8(0x20), 0x00);
    up(9);
    cr_assert_eq(intr, 1);
    cr_assert_eq(i8259_ack(pic), 0x71);
}

Test(i8259, icw_single_without_icw4)
{
    /* SNGL: no ICW3; IC4 clear: no ICW4, so the next data write is OCW1. */
    out8(0x20, 0x12);
    out8(0x21, 0x47);               /* T2-T0 are not part of the base */
    out8(0x21, 0xfe);
    cr_assert_eq(in8(0x21), 0xfe);
    up(0);
    cr_assert_eq(intr, 1);
    cr_assert_eq(i8259_ack(pic), 0x40);
    /* Single mode: IR2 is an ordinary input, nothing asks the slave. */
    out8(0x21, 0x00);
    up(2);
    eoi(0x20);
    cr_assert_eq(i8259_ack(pic), 0x42);
}

Test(i8259, icw1_resets_state)
{
    init_pc(0x01, 0x01);
    out8(0x21, 0x55);
    up(3);
    cr_assert_eq(i8259_ack(pic), 0x0b);
    up(4);
    cr_assert_eq(intr, 0);          /* masked */
    init_pc(0x01, 0x01);
    cr_assert_eq(in8(0x21), 0);
    cr_assert_eq(isr(0x20), 0);
    /* Edge sense reset: lines already high must go low and high again. */
    cr_assert_eq(irr(0x20), 0);
    cr_assert_eq(intr, 0);
    down(4);
    up(4);
    cr_assert_eq(i8259_ack(pic), 0x0c);
}

Test(i8259, priority_and_masks)
{
    init_pc(0x01, 0x01);
    up(5);
    up(3);
    cr_assert_eq(irr(0x20), 0x28);
    cr_assert_eq(i8259_ack(pic), 0x0b);
    /* 5 is lower than 3 in service: held off. */
    cr_assert_eq(intr, 0);
    up(1);
    cr_assert_eq(intr, 1);          /* 1 nests above 3 */
    cr_assert_eq(i8259_ack(pic), 0x09);
    cr_assert_eq(isr(0x20), 0x0a);
    eoi(0x20);                      /* clears 1, the highest */
    cr_assert_eq(isr(0x20), 0x08);
    cr_assert_eq(intr, 0);
    eoi(0x20);
    cr_assert_eq(intr, 1);
    cr_assert_eq(i8259_ack(pic), 0x0d);
    eoi(0x20);
    /* Masked requests stay in IRR and come when unmasked. */
    out8(0x21, 0x40);
    up(6);
    cr_assert_eq(intr, 0);
    cr_assert_eq(irr(0x20), 0x40);
    up(7);
    cr_assert_eq(i8259_ack(pic), 0x0f);
    cr_assert_eq(isr(0x20), 0x80);
    eoi(0x20);
    out8(0x21, 0x00);
    cr_assert_eq(intr, 1);
    cr_assert_eq(i8259_ack(pic), 0x0e);
    /* A masked level in service still holds off lower ones. */
    out8(0x21, 0x40);
    down(7);
    up(7);
    cr_assert_eq(intr, 0);
    down(5);
    up(5);
    cr_assert_eq(intr, 1);
}

Test(i8259, eoi_variants)
{
    init_pc(0x01, 0x01);
    up(6);
    cr_assert_eq(i8259_ack(pic), 0x0e);
    up(4);
    cr_assert_eq(i8259_ack(pic), 0x0c);
    up(3);
    cr_assert_eq(i8259_ack(pic), 0x0b);
    cr_assert_eq(isr(0x20), 0x58);
    out8(0x20, 0x64);               /* specific EOI 4 */
    cr_assert_eq(isr(0x20), 0x48);
    out8(0x20, 0x40);               /* no operation */
    cr_assert_eq(isr(0x20), 0x48);
    eoi(0x20);                      /* non-specific: the highest, 3 */
    cr_assert_eq(isr(0x20), 0x40);
    out8(0x20, 0x66);
    cr_assert_eq(isr(0x20), 0x00);
    /* A specific EOI for a level not in service is harmless. */
    out8(0x20, 0x61);
    cr_assert_eq(isr(0x20), 0x00);
}

Test(i8259, rotation)
{
    init_pc(0x01, 0x01);
    /* Rotate on non-specific EOI: the level served becomes the lowest. */
    up(3);
    cr_assert_eq(i8259_ack(pic), 0x0b);
    out8(0x20, 0xa0);
    cr_assert_eq(isr(0x20), 0);
    up(1);
    up(5);
    cr_assert_eq(i8259_ack(pic), 0x0d);     /* 4 is highest now: 5 before 1 */
    /* Rotate on specific EOI: 5 cleared and made lowest (6 highest). */
    out8(0x20, 0xe5);
    down(3);
    up(3);
    up(6);
    cr_assert_eq(i8259_ack(pic), 0x0e);
    eoi(0x20);
    cr_assert_eq(i8259_ack(pic), 0x09);     /* 1 before 3 after 6,7,0 */
    eoi(0x20);
    /* Set priority: 0 lowest, back to 1 ... 7, 0. */
    out8(0x20, 0xc0);
    down(0);
    up(0);
    cr_assert_eq(i8259_ack(pic), 0x0b);
    eoi(0x20);
    cr_assert_eq(i8259_ack(pic), 0x08);
    eoi(0x20);
    out8(0x20, 0xc7);               /* back to the default */
    down(0);
    down(4);
    up(4);
    up(0);
    cr_assert_eq(i8259_ack(pic), 0x08);
}

Test(i8259, auto_eoi)
{
    init_pc(0x03, 0x01);
    up(4);
    cr_assert_eq(i8259_ack(pic), 0x0c);
    cr_assert_eq(isr(0x20), 0);
    up(6);
    cr_assert_eq(intr, 1);          /* nothing in service holds it off */
    cr_assert_eq(i8259_ack(pic), 0x0e);
    /* Rotate in AEOI mode: each level served becomes the lowest. */
    out8(0x20, 0x80);
    up(1);
    cr_assert_eq(i8259_ack(pic), 0x09);
    down(4);
    up(4);
    up(0);
    cr_assert_eq(i8259_ack(pic), 0x0c);     /* 2 is highest: 4 before 0 */
    cr_assert_eq(i8259_ack(pic), 0x08);
    out8(0x20, 0x00);               /* clear rotate in AEOI */
    out8(0x20, 0xc7);
    down(0);
    down(1);
    up(1);
    up(0);
    cr_assert_eq(i8259_ack(pic), 0x08);
    cr_assert_eq(i8259_ack(pic), 0x09);
}

Test(i8259, cascade)
{
    init_pc(0x01, 0x01);
    up(12);
    cr_assert_eq(intr, 1);
    cr_assert_eq(irr(0xa0), 0x10);
    cr_assert_eq(irr(0x20), 0x04);
    cr_assert_eq(i8259_ack(pic), 0x74);
    cr_assert_eq(isr(0x20), 0x04);
    cr_assert_eq(isr(0xa0), 0x10);
    cr_assert_eq(intr, 0);
    /* Slave inputs rank between IRQ1 and IRQ3. */
    up(3);
    up(9);
    cr_assert_eq(intr, 0);          /* IR2 in service on the master */
    eoi(0xa0);
    eoi(0x20);
    cr_assert_eq(intr, 1);
    cr_assert_eq(i8259_ack(pic), 0x71);
    eoi(0xa0);
    eoi(0x20);
    cr_assert_eq(i8259_ack(pic), 0x0b);
    eoi(0x20);
    /* Masking IR2 on the master masks the whole slave. */
    out8(0x21, 0x04);
    down(15);
    up(15);
    cr_assert_eq(intr, 0);
    cr_assert_eq(irr(0xa0), 0x80);
    out8(0x21, 0x00);
    cr_assert_eq(i8259_ack(pic), 0x77);
    /* A slave request that was pending stays pending behind the one in
     * service and reaches the master after both EOIs. */
    up(8);
    cr_assert_eq(intr, 0);
    eoi(0xa0);
    cr_assert_eq(intr, 0);
    eoi(0x20);
    cr_assert_eq(intr, 1);
    cr_assert_eq(i8259_ack(pic), 0x70);
}

Test(i8259, cascade_auto_eoi_slave_keeps_requesting)
{
    /* Slave in AEOI with two requests: the second reaches the master even
     * though the slave's INT never went low in between. */
    init_pc(0x03, 0x03);
    up(10);
    up(11);
    cr_assert_eq(i8259_ack(pic), 0x72);
    cr_assert_eq(intr, 1);
    cr_assert_eq(i8259_ack(pic), 0x73);
    cr_assert_eq(intr, 0);
}

Test(i8259, special_fully_nested)
{
    init_pc(0x11, 0x01);
    up(12);
    cr_assert_eq(i8259_ack(pic), 0x74);
    up(9);                       /* higher on the slave */
    cr_assert_eq(intr, 1);
    cr_assert_eq(i8259_ack(pic), 0x71);
    up(13);                      /* lower on the slave: held there */
    cr_assert_eq(intr, 0);
    up(4);                       /* lower on the master: held */
    cr_assert_eq(intr, 0);
    up(1);
    cr_assert_eq(intr, 1);
}

Test(i8259, without_sfnm_slave_waits)
{
    init_pc(0x01, 0x01);
    up(12);
    cr_assert_eq(i8259_ack(pic), 0x74);
    up(9);
    cr_assert_eq(intr, 0);
}

Test(i8259, spurious_irq7)
{
    init_pc(0x01, 0x01);
    /* No request at all. */
    cr_assert_eq(i8259_ack(pic), 0x0f);
    cr_assert_eq(isr(0x20), 0);
    /* A level request withdrawn before INTA. */
    out8(0x4d0, 0x20);
    up(5);
    cr_assert_eq(intr, 1);
    down(5);
    cr_assert_eq(intr, 0);
    cr_assert_eq(i8259_ack(pic), 0x0f);
    cr_assert_eq(isr(0x20), 0);
    /* An edge request masked before INTA. */
    up(3);
    out8(0x21, 0x08);
    cr_assert_eq(i8259_ack(pic), 0x0f);
    cr_assert_eq(isr(0x20), 0);
    cr_assert_eq(irr(0x20), 0x08);
    /* A real IRQ7 sets ISR bit 7, which is how a handler tells them apart. */
    up(7);
    cr_assert_eq(i8259_ack(pic), 0x0f);
    cr_assert_eq(isr(0x20), 0x80);
}

Test(i8259, spurious_irq15)
{
    init_pc(0x01, 0x01);
    out8(0x4d1, 0x04);              /* IRQ10 level-triggered */
    up(10);
    cr_assert_eq(irr(0x20), 0x04);
    down(10);
    /* The master latched the slave's INT edge; the slave has nothing. */
    cr_assert_eq(intr, 1);
    cr_assert_eq(i8259_ack(pic), 0x77);
    cr_assert_eq(isr(0xa0), 0x00);
    cr_assert_eq(isr(0x20), 0x04);  /* the OS EOIs the master only */
    eoi(0x20);
    cr_assert_eq(intr, 0);
}

Test(i8259, edge_and_level)
{
    init_pc(0x01, 0x01);
    /* Edge: served once per rising edge, even if the line stays high. */
    up(3);
    cr_assert_eq(i8259_ack(pic), 0x0b);
    eoi(0x20);
    cr_assert_eq(intr, 0);
    up(3);
    cr_assert_eq(intr, 0);
    /* A pulse is latched. */
    up(4);
    down(4);
    cr_assert_eq(intr, 1);
    cr_assert_eq(irr(0x20), 0x10);
    cr_assert_eq(i8259_ack(pic), 0x0c);
    eoi(0x20);
    /* Level (ELCR): served again after EOI while the line stays high. */
    out8(0x4d0, 0x08);
    cr_assert_eq(in8(0x4d0), 0x08);
    cr_assert_eq(intr, 1);          /* 3 is high */
    cr_assert_eq(i8259_ack(pic), 0x0b);
    cr_assert_eq(irr(0x20), 0x08);  /* IRR follows the pin */
    eoi(0x20);
    cr_assert_eq(i8259_ack(pic), 0x0b);
    down(3);
    eoi(0x20);
    cr_assert_eq(intr, 0);
    cr_assert_eq(irr(0x20), 0x00);
    /* Level on the slave. */
    out8(0x4d1, 0x80);
    up(15);
    cr_assert_eq(i8259_ack(pic), 0x77);
    eoi(0xa0);
    eoi(0x20);
    cr_assert_eq(i8259_ack(pic), 0x77);
    down(15);
    eoi(0xa0);
    eoi(0x20);
    cr_assert_eq(intr, 0);
}

Test(i8259, ltim_makes_every_input_level)
{
    out8(0x20, 0x19);
    out8(0x21, 0x20);
    out8(0x21, 0x04);
    out8(0x21, 0x01);
    up(0);
    cr_assert_eq(i8259_ack(pic), 0x20);
    eoi(0x20);
    cr_assert_eq(i8259_ack(pic), 0x20);
    down(0);
    cr_assert_eq(i8259_ack(pic), 0x27);     /* withdrawn: spurious */
}

Test(i8259, elcr_reserved_bits)
{
    out8(0x4d0, 0xff);
    out8(0x4d1, 0xff);
    cr_assert_eq(in8(0x4d0), 0xf8);
    cr_assert_eq(in8(0x4d1), 0xde);
    out8(0x4d0, 0x00);
    cr_assert_eq(in8(0x4d0), 0x00);
}

Test(i8259, poll_mode)
{
    init_pc(0x01, 0x01);
    out8(0x21, 0xff);               /* polled systems run with INT ignored */
    out8(0x21, 0x00);
    up(5);
    out8(0x20, 0x0c);
    cr_assert_eq(in8(0x20), 0x85);
    cr_assert_eq(isr(0x20), 0x20);
    out8(0x20, 0x0c);
    cr_assert_eq(in8(0x21), 0x00);  /* nothing: I bit clear */
    cr_assert_eq(in8(0x21), 0x00);  /* back to IMR */
    eoi(0x20);
    /* Cascade: the master reports IR2, then the slave is polled. */
    up(14);
    out8(0x20, 0x0c);
    cr_assert_eq(in8(0x20), 0x82);
    out8(0xa0, 0x0c);
    cr_assert_eq(in8(0xa0), 0x86);
    cr_assert_eq(isr(0xa0), 0x40);
}

Test(i8259, special_mask_mode)
{
    init_pc(0x01, 0x01);
    up(3);
    cr_assert_eq(i8259_ack(pic), 0x0b);
    up(5);
    cr_assert_eq(intr, 0);
    out8(0x21, 0x08);
    out8(0x20, 0x68);               /* set special mask mode */
    cr_assert_eq(intr, 1);          /* 3 masked: its ISR no longer counts */
    /* A non-specific EOI skips the masked in-service level. */
    cr_assert_eq(i8259_ack(pic), 0x0d);
    eoi(0x20);
    cr_assert_eq(isr(0x20), 0x08);
    out8(0x20, 0x48);               /* reset special mask mode */
    up(6);
    cr_assert_eq(intr, 0);
    out8(0x20, 0x28);               /* ESMM clear: SMM bit ignored */
    cr_assert_eq(intr, 0);
}

Test(i8259, reset)
{
    init_pc(0x03, 0x01);
    out8(0x21, 0x12);
    out8(0x4d0, 0x20);
    up(5);
    up(3);
    cr_assert_eq(intr, 1);
    m->devices[0].ops->reset(m->devices[0].dev);
    cr_assert_eq(intr, 0);
    cr_assert_eq(in8(0x21), 0);
    cr_assert_eq(in8(0x4d0), 0);
    cr_assert_eq(irr(0x20), 0);
    init_pc(0x01, 0x01);
    down(3);
    up(3);
    cr_assert_eq(i8259_ack(pic), 0x0b);
}

Test(i8259, bad_inputs_and_accesses)
{
    IrqLine bad = i8259_input(pic, 16);
    irq_set(&bad, 1);
    bad = i8259_input(pic, -1);
    irq_set(&bad, 1);
    cr_assert_eq(intr, 0);
    uint64_t v;
    cr_assert_eq(as_read(&m->io, 0x20, 2, &v), MEM_BAD_ACCESS);
    cr_assert_eq(as_write(&m->io, 0x4d0, 2, 0), MEM_BAD_ACCESS);
    cr_assert_eq(as_read(&m->io, 0x22, 1, &v), MEM_UNMAPPED);
    /* A second pair on the same ports fails cleanly. */
    cr_assert_null(i8259_create(m, &m->io, irq_line(NULL, NULL, 0)));
    cr_assert_not_null(m->error);
}

/* Every value to every port, with lines moving and INTAs in between: the
 * chip state stays consistent (INTR matches i8259_pending, vectors are
 * bytes) and nothing crashes. */
Test(i8259, hostile_sweep)
{
    static const uint16_t ports[] = { 0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1 };
    uint32_t seed = 1;
    for (int round = 0; round < 4; round++) {
        for (unsigned pi = 0; pi < G_N_ELEMENTS(ports); pi++) {
            for (int v = 0; v < 256; v++) {
                out8(ports[pi], (uint8_t)v);
                seed = seed * 1103515245u + 12345u;
                int line = (int)(seed >> 16) & 15;
                irq_set(&irq[line], (int)(seed >> 24) & 1);
                (void)in8(ports[(seed >> 8) % G_N_ELEMENTS(ports)]);
                if (intr) {
                    int vec = i8259_ack(pic);
                    cr_assert(vec >= 0 && vec <= 0xff);
                }
                cr_assert_eq(intr, i8259_pending(pic));
            }
        }
    }
    int vec = i8259_ack(pic);
    cr_assert(vec >= 0 && vec <= 0xff);
}

Test(i8259, describe)
{
    init_pc(0x01, 0x01);
    up(3);
    up(5);
    out8(0x21, 0x40);
    cr_assert_eq(i8259_ack(pic), 0x0b);
    GString *s = g_string_new(NULL);
    i8259_describe(pic, s);
    cr_assert_str_eq(s->str, "8259 master: requested 0x20, in service 0x08, masked 0x40; "
                             "8259 slave: requested 0x00, in service 0x00, masked 0x00");
    g_string_free(s, TRUE);
}
