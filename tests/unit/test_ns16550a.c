#include <criterion/criterion.h>
#include <glib.h>
#include <stdio.h>
#include <unistd.h>

#include "devices/ns16550a.h"
#include "vmm/chardev.h"
#include "vmm/machine.h"

#include "dev_machine.h"

#define BASE 0x10000000ull

static uint64_t icount;
static Machine *m;
static Ns16550a *uart;
static int irq_level, irq_edges;

static void rec_irq(void *opaque, int n, int level)
{
    if (level != irq_level)
        irq_edges++;
    irq_level = level;
}

static void advance(int64_t ns)
{
    icount += (uint64_t)ns;
    vclock_run_timers(&m->clock);
}

static uint8_t rd(unsigned reg)
{
    uint64_t v = 0xdead;
    cr_assert_eq(as_read(&m->as, BASE + reg, 1, &v), MEM_OK);
    cr_assert_lt(v, 0x100);
    return (uint8_t)v;
}

static void wr(unsigned reg, uint8_t v)
{
    cr_assert_eq(as_write(&m->as, BASE + reg, 1, v), MEM_OK);
}

static void rx(const char *s)
{
    const CharFrontend *fe = ns16550a_frontend(uart);
    fe->receive(fe->opaque, (const uint8_t *)s, strlen(s));
}

static void setup(void)
{
    m = dev_machine_new(&icount);
    irq_level = irq_edges = 0;
    uart = ns16550a_create(m, BASE, NULL, irq_line(rec_irq, NULL, 10));
    cr_assert_not_null(uart);
}

static void teardown(void)
{
    dev_machine_free(m);
}

TestSuite(ns16550a, .init = setup, .fini = teardown);

Test(ns16550a, reset_values)
{
    cr_assert_eq(rd(1), 0);
    cr_assert_eq(rd(2), 0x01);
    cr_assert_eq(rd(3), 0);
    cr_assert_eq(rd(4), 0);
    cr_assert_eq(rd(5), 0x60);
    cr_assert_eq(rd(6), 0xb0);
    cr_assert_eq(rd(7), 0);
    cr_assert_eq(irq_level, 0);
}

Test(ns16550a, scratch_and_divisor_latch)
{
    wr(7, 0x5a);
    cr_assert_eq(rd(7), 0x5a);
    wr(3, 0x83);                /* DLAB, 8N1 */
    wr(0, 0x02);
    wr(1, 0x01);
    cr_assert_eq(rd(0), 0x02);
    cr_assert_eq(rd(1), 0x01);
    wr(3, 0x03);
    cr_assert_eq(rd(1), 0);     /* IER untouched by the DLM write */
    cr_assert_eq(rd(3), 0x03);
}

Test(ns16550a, hostile_accesses)
{
    uint64_t v;
    for (unsigned off = 8; off < 0x100; off++) {
        cr_assert_eq(as_write(&m->as, BASE + off, 1, 0xff), MEM_OK);
        cr_assert_eq(as_read(&m->as, BASE + off, 1, &v), MEM_OK);
        cr_assert_eq(v, 0);
    }
    cr_assert_eq(as_read(&m->as, BASE, 8, &v), MEM_BAD_ACCESS);
    cr_assert_eq(as_write(&m->as, BASE + 1, 2, 0), MEM_BAD_ACCESS);
    cr_assert_eq(as_read(&m->as, BASE + 0x100, 1, &v), MEM_UNMAPPED);
    /* Wider accesses use the low byte. */
    cr_assert_eq(as_write(&m->as, BASE + 4, 4, 0xffffff10), MEM_OK);
    cr_assert_eq(rd(4), 0x10);
    cr_assert_eq(as_read(&m->as, BASE + 4, 4, &v), MEM_OK);
    cr_assert_eq(v, 0x10);
    /* LSR and MSR are read-only. */
    wr(5, 0);
    wr(6, 0);
    cr_assert_eq(rd(5) & 0x60, 0x60);
}

Test(ns16550a, tx_goes_to_chardev)
{
    char path[] = "/tmp/tandem-uart-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    close(fd);
    char spec[64];
    snprintf(spec, sizeof(spec), "file:%s", path);
    Chardev *chr = chardev_open(spec, NULL);
    cr_assert_not_null(chr);

    Machine *m2 = dev_machine_new(&icount);
    cr_assert_not_null(ns16550a_create(m2, BASE, chr, irq_line(NULL, NULL, 0)));
    const char *msg = "hi!\n";
    for (const char *p = msg; *p; p++) {
        uint64_t lsr;
        cr_assert_eq(as_read(&m2->as, BASE + 5, 1, &lsr), MEM_OK);
        cr_assert_eq(lsr & 0x60, 0x60);
        cr_assert_eq(as_write(&m2->as, BASE, 1, (uint8_t)*p), MEM_OK);
    }
    dev_machine_free(m2);
    chardev_close(chr);

    gchar *got = NULL;
    gsize len = 0;
    cr_assert(g_file_get_contents(path, &got, &len, NULL));
    cr_assert_eq(len, 4);
    cr_assert_str_eq(got, msg);
    g_free(got);
    unlink(path);
}

Test(ns16550a, rx_without_fifo)
{
    const CharFrontend *fe = ns16550a_frontend(uart);
    cr_assert_eq(fe->can_receive(fe->opaque), 1);
    wr(1, 0x01);                /* ERBFI */
    rx("a");
    cr_assert_eq(fe->can_receive(fe->opaque), 0);
    cr_assert_eq(irq_level, 1);
    cr_assert_eq(rd(2), 0x04);
    cr_assert_eq(rd(5), 0x61);
    cr_assert_eq(rd(0), 'a');
    cr_assert_eq(irq_level, 0);
    cr_assert_eq(rd(5), 0x60);
    cr_assert_eq(rd(2), 0x01);
    /* Overrun: the second byte is lost, OE set and cleared by reading LSR. */
    rx("bc");
    cr_assert_eq(rd(5), 0x63);
    cr_assert_eq(rd(5), 0x61);
    cr_assert_eq(rd(0), 'b');
    cr_assert_eq(rd(0), 0);     /* empty RBR */
}

Test(ns16550a, fifo_trigger_levels)
{
    const CharFrontend *fe = ns16550a_frontend(uart);
    wr(2, 0x81);                /* FIFO on, trigger 8 */
    cr_assert_eq(rd(2), 0xc1);
    cr_assert_eq(fe->can_receive(fe->opaque), 16);
    wr(1, 0x01);
    rx("1234567");
    cr_assert_eq(irq_level, 0);
    rx("8");
    cr_assert_eq(irq_level, 1);
    cr_assert_eq(rd(2), 0xc4);
    cr_assert_eq(rd(0), '1');   /* 7 left: below the trigger */
    cr_assert_eq(irq_level, 0);
    cr_assert_eq(fe->can_receive(fe->opaque), 9);

    wr(2, 0xc3);                /* trigger 14, clear RX */
    cr_assert_eq(rd(5) & 1, 0);
    rx("abcdefghijklmnop");     /* 16 fill the FIFO */
    cr_assert_eq(fe->can_receive(fe->opaque), 0);
    cr_assert_eq(irq_level, 1);
    rx("q");
    cr_assert_eq(rd(5), 0x63);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(rd(0), 'a' + i);
    cr_assert_eq(rd(5), 0x60);

    wr(2, 0x00);                /* FIFO off: 1-byte holding register */
    cr_assert_eq(rd(2), 0x01);
    cr_assert_eq(fe->can_receive(fe->opaque), 1);
}

Test(ns16550a, char_timeout_in_virtual_time)
{
    wr(3, 0x83);
    wr(0, 2);                   /* 115200 baud from 3.6864 MHz */
    wr(1, 0);
    wr(3, 0x03);                /* 8N1: 10 bits a character */
    wr(2, 0xc1);                /* trigger 14 */
    wr(1, 0x01);
    rx("xy");
    cr_assert_eq(irq_level, 0);
    /* 4 chars * 10 bits * 32 / 3686400 Hz = 347222 ns */
    advance(347000);
    cr_assert_eq(irq_level, 0);
    advance(1000);
    cr_assert_eq(irq_level, 1);
    cr_assert_eq(rd(2), 0xcc);
    cr_assert_eq(rd(0), 'x');   /* a read clears the timeout and restarts it */
    cr_assert_eq(irq_level, 0);
    advance(348000);
    cr_assert_eq(irq_level, 1);
    cr_assert_eq(rd(0), 'y');
    cr_assert_eq(irq_level, 0);
    advance(10000000);
    cr_assert_eq(irq_level, 0); /* empty FIFO: no timeout */
    /* Disabled ERBFI masks the timeout. */
    wr(1, 0x00);
    rx("z");
    advance(10000000);
    cr_assert_eq(irq_level, 0);
    cr_assert_eq(rd(2), 0xc1);
}

Test(ns16550a, thre_semantics)
{
    wr(1, 0x02);                /* ETBEI with THR empty: interrupt */
    cr_assert_eq(irq_level, 1);
    cr_assert_eq(rd(2), 0x02);  /* IIR read acknowledges THRE */
    cr_assert_eq(irq_level, 0);
    cr_assert_eq(rd(2), 0x01);
    wr(0, 'x');                 /* transmitted at once: THRE again */
    cr_assert_eq(irq_level, 1);
    wr(1, 0x00);
    cr_assert_eq(irq_level, 0);
    wr(1, 0x02);                /* re-enabling re-raises */
    cr_assert_eq(irq_level, 1);
    cr_assert_eq(rd(2), 0x02);
    wr(1, 0x02);                /* rewriting the same IER does not */
    cr_assert_eq(irq_level, 0);
}

Test(ns16550a, interrupt_priority)
{
    wr(2, 0x01);
    wr(1, 0x0f);
    cr_assert_eq(rd(2), 0xc2);  /* THRE only */
    wr(4, 0x10);                /* loopback: modem lines change */
    wr(4, 0x12);                /* RTS -> CTS */
    cr_assert_eq(rd(2), 0xc0);  /* MSR (THRE acknowledged by the last read) */
    wr(0, 'A');                 /* loops back: RDA (trigger 1) and THRE */
    cr_assert_eq(rd(2), 0xc4);
    wr(0, 'B');
    for (int i = 0; i < 14; i++)
        wr(0, 'C');
    wr(0, 'D');                 /* 17th byte: overrun */
    cr_assert_eq(rd(2), 0xc6);  /* RLS beats everything */
    cr_assert_eq(rd(5), 0x63);
    cr_assert_eq(rd(2), 0xc4);
    for (int i = 0; i < 16; i++)
        rd(0);
    cr_assert_eq(rd(2), 0xc2);
    cr_assert_eq(rd(2), 0xc0);
    cr_assert_eq(rd(6) & 0x0f, 0x0b);   /* deltas, cleared by the read */
    cr_assert_eq(rd(2), 0xc1);
    cr_assert_eq(irq_level, 0);
}

Test(ns16550a, loopback)
{
    const CharFrontend *fe = ns16550a_frontend(uart);
    wr(4, 0x10);
    cr_assert_eq(fe->can_receive(fe->opaque), 0);
    cr_assert_eq(rd(6), 0x0b);  /* CTS, DSR, DCD dropped */
    cr_assert_eq(rd(6), 0x00);
    wr(4, 0x1f);
    cr_assert_eq(rd(6), 0xfb);  /* all up; no TERI on a rising RI */
    wr(4, 0x1b);                /* OUT1 (RI) falls */
    cr_assert_eq(rd(6), 0xb4);
    wr(0, 'q');
    cr_assert_eq(rd(5), 0x61);
    cr_assert_eq(rd(0), 'q');
    rx("ignored");
    cr_assert_eq(rd(5), 0x60);
    wr(4, 0x00);
    cr_assert_eq(fe->can_receive(fe->opaque), 1);
    cr_assert_eq(rd(6) & 0xf0, 0xb0);
}

Test(ns16550a, reset_clears_state)
{
    wr(2, 0x01);
    wr(1, 0x0f);
    rx("abc");
    cr_assert_eq(irq_level, 1);
    m->devices[0].ops->reset(m->devices[0].dev);
    cr_assert_eq(irq_level, 0);
    cr_assert_eq(rd(5), 0x60);
    cr_assert_eq(rd(2), 0x01);
    cr_assert_eq(rd(1), 0);
    advance(100000000);
    cr_assert_eq(irq_level, 0);
}
