#include <criterion/criterion.h>
#include <glib.h>

#include "devices/i8254.h"
#include "vmm/machine.h"

#include "dev_machine.h"

static uint64_t icount;
static Machine *m;
static I8254 *pit;
static int irq0, irq0_rises;

static void set_irq0(void *opaque, int n, int level)
{
    if (level && !irq0)
        irq0_rises++;
    irq0 = level;
}

static int64_t tick_ns(int64_t t) { return clock_tick_ns(t, I8254_CLOCK_HZ); }

static void run_to(int64_t ns) { dev_machine_run_to(m, &icount, ns); }

static void at_tick(int64_t t) { run_to(tick_ns(t)); }

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

/* Latch counter n and read both bytes (the counter is in LSB/MSB mode). */
static unsigned latched(int n)
{
    out8(0x43, (uint8_t)(n << 6));
    unsigned lo = in8((uint16_t)(0x40 + n));
    return lo | in8((uint16_t)(0x40 + n)) << 8;
}

static void program(int n, int mode, unsigned count)
{
    out8(0x43, (uint8_t)(n << 6 | 0x30 | mode << 1));
    out8((uint16_t)(0x40 + n), (uint8_t)count);
    out8((uint16_t)(0x40 + n), (uint8_t)(count >> 8));
}

static void setup(void)
{
    m = dev_machine_new(&icount);
    irq0 = irq0_rises = 0;
    pit = i8254_create(m, &m->io, irq_line(set_irq0, NULL, 0));
    cr_assert_not_null(pit);
}

static void teardown(void)
{
    dev_machine_free(m);
}

TestSuite(i8254, .init = setup, .fini = teardown);

Test(i8254, power_on_counter0_ticks_at_18hz)
{
    /* Mode 3, count 65536, loaded at pulse 1: low after 32768, high after
     * 65536 pulses. */
    cr_assert_eq(irq0, 1);
    cr_assert_eq(irq0_rises, 1);
    cr_assert_eq(vclock_next_deadline(&m->clock), tick_ns(1 + 32768));
    at_tick(32768);
    cr_assert_eq(irq0, 1);
    at_tick(1 + 32768);
    cr_assert_eq(irq0, 0);
    at_tick(65536);
    cr_assert_eq(irq0, 0);
    at_tick(1 + 65536);
    cr_assert_eq(irq0, 1);
    cr_assert_eq(irq0_rises, 2);
    run_to(1000000000);             /* one virtual second: 18 more ticks */
    cr_assert_eq(irq0_rises, 2 + 17);
}

Test(i8254, mode0_interrupt_on_terminal_count)
{
    out8(0x43, 0x30);
    cr_assert_eq(irq0, 0);          /* mode 0: OUT low at the control word */
    out8(0x40, 100);
    out8(0x40, 0);
    cr_assert_eq(vclock_next_deadline(&m->clock), tick_ns(101));
    at_tick(1);
    cr_assert_eq(latched(0), 100);
    at_tick(31);
    cr_assert_eq(latched(0), 70);
    run_to(tick_ns(101) - 1);
    cr_assert_eq(irq0, 0);
    at_tick(101);
    cr_assert_eq(irq0, 1);
    cr_assert_eq(latched(0), 0);
    at_tick(102);
    cr_assert_eq(latched(0), 0xffff);   /* keeps counting, OUT stays high */
    at_tick(102 + 65536);
    cr_assert_eq(irq0, 1);
    cr_assert_eq(vclock_next_deadline(&m->clock), INT64_MAX);
    /* A new count drops OUT at once and starts over. */
    int64_t t = 102 + 65536;
    out8(0x40, 5);
    cr_assert_eq(irq0, 0);          /* the LSB already holds counting */
    at_tick(t + 10);
    out8(0x40, 0);
    cr_assert_eq(irq0, 0);
    at_tick(t + 10 + 5);
    cr_assert_eq(irq0, 0);
    at_tick(t + 10 + 6);
    cr_assert_eq(irq0, 1);
}

Test(i8254, mode2_rate_generator)
{
    program(0, 2, 10);
    int rises = irq0_rises;
    /* Loaded at pulse 1; CE 1 (OUT low) at pulse 10, reload at 11. */
    at_tick(9);
    cr_assert_eq(irq0, 1);
    cr_assert_eq(latched(0), 2);
    at_tick(10);
    cr_assert_eq(irq0, 0);
    cr_assert_eq(latched(0), 1);
    at_tick(11);
    cr_assert_eq(irq0, 1);
    cr_assert_eq(latched(0), 10);
    cr_assert_eq(irq0_rises, rises + 1);
    cr_assert_eq(vclock_next_deadline(&m->clock), tick_ns(20));
    at_tick(1001);
    cr_assert_eq(irq0_rises, rises + 100);
    /* A new count waits for the end of the cycle. */
    at_tick(1005);
    out8(0x40, 20);
    out8(0x40, 0);
    cr_assert_eq(latched(0), 6);
    at_tick(1010);
    cr_assert_eq(irq0, 0);
    at_tick(1011);
    cr_assert_eq(latched(0), 20);
    at_tick(1030);
    cr_assert_eq(irq0, 0);
    at_tick(1031);
    cr_assert_eq(irq0, 1);
}

Test(i8254, mode2_count_of_one_never_ticks)
{
    program(0, 2, 1);
    at_tick(5);
    cr_assert_eq(irq0, 0);
    cr_assert_eq(vclock_next_deadline(&m->clock), INT64_MAX);
}

Test(i8254, mode3_square_wave_even)
{
    program(0, 3, 10);
    static const unsigned ce[] = { 10, 8, 6, 4, 2, 10, 8, 6, 4, 2, 10 };
    static const int out[] = { 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1 };
    for (int k = 0; k < 11; k++) {
        at_tick(1 + k);
        cr_assert_eq(latched(0), ce[k], "pulse %d", 1 + k);
        cr_assert_eq(irq0, out[k], "pulse %d", 1 + k);
    }
    int rises = irq0_rises;
    at_tick(11 + 10 * 1000);
    cr_assert_eq(irq0_rises, rises + 1000);
}

Test(i8254, mode3_square_wave_odd)
{
    /* Odd counts: high (N+1)/2 pulses, low (N-1)/2; CE first drops by 1
     * in the high half and by 3 in the low half. */
    program(0, 3, 11);
    static const unsigned ce[] = { 11, 10, 8, 6, 4, 2, 11, 8, 6, 4, 2, 11 };
    static const int out[] = { 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1 };
    for (int k = 0; k < 12; k++) {
        at_tick(1 + k);
        cr_assert_eq(latched(0), ce[k], "pulse %d", 1 + k);
        cr_assert_eq(irq0, out[k], "pulse %d", 1 + k);
    }
    /* Far ahead in one step: phase computed, not stepped. */
    at_tick(1 + 11 * 100000 + 6);
    cr_assert_eq(irq0, 0);
    cr_assert_eq(latched(0), 11);
}

Test(i8254, mode4_software_strobe)
{
    program(0, 4, 5);
    cr_assert_eq(irq0, 1);
    at_tick(5);
    cr_assert_eq(irq0, 1);
    at_tick(6);
    cr_assert_eq(irq0, 0);
    at_tick(7);
    cr_assert_eq(irq0, 1);
    /* Only once per count written. */
    cr_assert_eq(vclock_next_deadline(&m->clock), INT64_MAX);
    at_tick(7 + 70000);
    cr_assert_eq(irq0, 1);
}

Test(i8254, counter_latch)
{
    program(0, 2, 1000);
    at_tick(101);
    out8(0x43, 0x00);
    at_tick(201);
    out8(0x43, 0x00);               /* ignored: a latch is pending */
    cr_assert_eq(in8(0x40), 900 & 0xff);
    at_tick(301);
    cr_assert_eq(in8(0x40), 900 >> 8);
    /* Unlatched reads follow the counter, LSB then MSB. */
    cr_assert_eq(in8(0x40), 700 & 0xff);
    cr_assert_eq(in8(0x40), 700 >> 8);
    /* LSB-only and MSB-only counters read one byte. */
    out8(0x43, 0x54);               /* counter 1, LSB only, mode 2 */
    out8(0x41, 0x80);
    at_tick(302 + 0x10);
    out8(0x43, 0x40);
    at_tick(302 + 0x20);
    cr_assert_eq(in8(0x41), 0x70);
    cr_assert_eq(in8(0x41), 0x60);
    out8(0x43, 0x64);               /* counter 1, MSB only, mode 2 */
    out8(0x41, 0x02);               /* count 0x200 */
    at_tick(302 + 0x20 + 1 + 0x100);
    cr_assert_eq(in8(0x41), 0x01);
}

Test(i8254, read_back)
{
    out8(0x43, 0x34);               /* counter 0, LSB/MSB, mode 2 */
    out8(0x43, 0xe2);               /* status of counter 0 */
    cr_assert_eq(in8(0x40), 0xf4);  /* OUT high, null count */
    out8(0x40, 0x00);
    out8(0x40, 0x10);
    out8(0x43, 0xe2);
    cr_assert_eq(in8(0x40), 0x74 | 0x80);
    at_tick(1);
    out8(0x43, 0xe2);
    cr_assert_eq(in8(0x40), 0xb4);  /* loaded: null count clear */
    /* Status and count together: status first. */
    at_tick(0x11);
    out8(0x43, 0xc2);
    at_tick(0x40);
    out8(0x43, 0xc2);               /* both already latched: ignored */
    cr_assert_eq(in8(0x40), 0xb4);
    cr_assert_eq(in8(0x40), 0xf0);
    cr_assert_eq(in8(0x40), 0x0f);
    /* Several counters at once, count only. */
    out8(0x43, 0xb6);               /* counter 2, mode 3, LSB/MSB */
    out8(0x42, 0x34);
    out8(0x42, 0x12);
    at_tick(0x41);                  /* loaded; gate 2 low: not counting */
    out8(0x43, 0xda);               /* count of 0 and 2 */
    cr_assert_eq(in8(0x42), 0x34);
    cr_assert_eq(in8(0x42), 0x12);
    cr_assert_eq(in8(0x40), 0xc0);
    cr_assert_eq(in8(0x40), 0x0f);
    /* A control word discards latches and writes to 0x43 read as 0xff. */
    out8(0x43, 0xe4);
    out8(0x43, 0x74);
    cr_assert_eq(in8(0x43), 0xff);
    out8(0x43, 0xe4);
    cr_assert_eq(in8(0x41), 0xf4);  /* not 0xb6, the status before */
}

Test(i8254, bcd)
{
    out8(0x43, 0x31);               /* counter 0, LSB/MSB, mode 0, BCD */
    out8(0x40, 0x00);
    out8(0x40, 0x01);               /* 100 */
    at_tick(2);
    cr_assert_eq(latched(0), 0x0099);
    at_tick(101);
    cr_assert_eq(irq0, 1);
    cr_assert_eq(latched(0), 0x0000);
    at_tick(102);
    cr_assert_eq(latched(0), 0x9999);   /* wraps at 10000 */
    /* Count 0 is 10000 in BCD. */
    out8(0x43, 0x35);               /* mode 2, BCD */
    out8(0x40, 0x00);
    out8(0x40, 0x00);
    at_tick(103);
    cr_assert_eq(latched(0), 0x0000);
    at_tick(104);
    cr_assert_eq(latched(0), 0x9999);
    at_tick(103 + 9999);
    cr_assert_eq(latched(0), 0x0001);
    cr_assert_eq(irq0, 0);
    at_tick(103 + 10000);
    cr_assert_eq(irq0, 1);
    out8(0x43, 0xe2);
    cr_assert_eq(in8(0x40), 0xb5);
    /* Nonsense digits give some count, no crash. */
    out8(0x40, 0xff);
    out8(0x40, 0xff);
    at_tick(103 + 30000);
    (void)latched(0);
}

Test(i8254, gate_via_port61)
{
    cr_assert_eq(in8(0x61) & 0x0f, 0x00);
    /* Counter 2 mode 0 (the BIOS's TSC calibration): held while gate low. */
    program(2, 0, 50);
    at_tick(10);
    cr_assert_eq(latched(2), 50);
    out8(0x61, 0x01);
    cr_assert_eq(in8(0x61) & 0x0f, 0x01);
    at_tick(59);
    cr_assert_eq(in8(0x61) & 0x20, 0);
    at_tick(60);
    cr_assert_eq(in8(0x61) & 0x20, 0x20);
    /* Gate low stops counting in mode 0. */
    program(2, 0, 50);
    at_tick(70);
    out8(0x61, 0x00);
    at_tick(170);
    cr_assert_eq(latched(2), 41);
    out8(0x61, 0x03);               /* gate and speaker on */
    cr_assert_eq(in8(0x61) & 0x0f, 0x03);
    at_tick(170 + 41);
    cr_assert_eq(in8(0x61) & 0x20, 0x20);
    /* Mode 2: gate low forces OUT high; the rising edge reloads. */
    program(2, 2, 4);
    at_tick(300);
    out8(0x61, 0x00);
    cr_assert_eq(in8(0x61) & 0x20, 0x20);
    at_tick(400);
    out8(0x61, 0x01);
    at_tick(401);
    cr_assert_eq(latched(2), 4);
    at_tick(404);
    cr_assert_eq(in8(0x61) & 0x20, 0);
    at_tick(405);
    cr_assert_eq(in8(0x61) & 0x20, 0x20);
}

Test(i8254, mode1_and_mode5_are_gate_triggered)
{
    out8(0x61, 0x00);
    program(2, 1, 20);
    at_tick(10);
    cr_assert_eq(in8(0x61) & 0x20, 0x20);   /* armed, no trigger yet */
    out8(0x61, 0x01);
    cr_assert_eq(in8(0x61) & 0x20, 0x20);
    at_tick(11);
    cr_assert_eq(in8(0x61) & 0x20, 0);      /* low from the next pulse */
    at_tick(30);
    cr_assert_eq(in8(0x61) & 0x20, 0);
    at_tick(31);
    cr_assert_eq(in8(0x61) & 0x20, 0x20);
    /* Retrigger. */
    out8(0x61, 0x00);
    out8(0x61, 0x01);
    at_tick(32);
    cr_assert_eq(in8(0x61) & 0x20, 0);
    cr_assert_eq(latched(2), 20);
    /* Mode 5: a strobe N+1 pulses after the trigger. */
    program(2, 5, 3);
    out8(0x61, 0x00);
    at_tick(40);
    out8(0x61, 0x01);
    at_tick(43);
    cr_assert_eq(in8(0x61) & 0x20, 0x20);
    at_tick(44);
    cr_assert_eq(in8(0x61) & 0x20, 0);
    at_tick(45);
    cr_assert_eq(in8(0x61) & 0x20, 0x20);
    /* Counters 0 and 1 have their gates tied high: never triggered. */
    program(0, 1, 5);
    at_tick(100);
    cr_assert_eq(irq0, 1);
    cr_assert(i8254_out(pit, 1));   /* still the power-on square wave */
}

Test(i8254, refresh_toggle)
{
    /* Bit 4 flips every 18 pulses, whatever the guest does. */
    int flips = 0;
    int last = in8(0x61) & 0x10;
    for (int64_t t = 0; t < 18 * 100; t++) {
        at_tick(t);
        int b = in8(0x61) & 0x10;
        cr_assert_eq(b, (t / 18) & 1 ? 0x10 : 0, "pulse %ld", (long)t);
        if (b != last)
            flips++;
        last = b;
    }
    cr_assert_eq(flips, 99);
    out8(0x61, 0xf0);               /* read-only bits */
    cr_assert_eq(in8(0x61) & 0xcf, 0x00);
}

Test(i8254, late_timer_still_shows_an_edge)
{
    program(0, 2, 10);
    at_tick(5);
    int rises = irq0_rises;
    /* Time jumps past the low pulse before the timer runs. */
    icount = (uint64_t)tick_ns(15);
    vclock_run_timers(&m->clock);
    cr_assert_eq(irq0, 1);
    cr_assert_eq(irq0_rises, rises + 1);
    cr_assert_gt(vclock_next_deadline(&m->clock), (int64_t)icount);
    /* A guest read that comes first does the same. */
    icount = (uint64_t)tick_ns(25);
    (void)latched(0);
    cr_assert_eq(irq0_rises, rises + 2);
}

Test(i8254, reset)
{
    program(0, 0, 1000);
    program(2, 2, 7);
    out8(0x61, 0x0f);
    at_tick(50);
    m->devices[0].ops->reset(m->devices[0].dev);
    cr_assert_eq(in8(0x61) & 0x0f, 0);
    cr_assert_eq(irq0, 1);
    out8(0x43, 0xee);
    cr_assert_eq(in8(0x40), 0xf6);  /* mode 3, LSB/MSB, load pending */
    cr_assert_eq(in8(0x42), 0xf6);
    cr_assert_eq(vclock_next_deadline(&m->clock), tick_ns(51 + 32768));
}

Test(i8254, bad_accesses)
{
    uint64_t v;
    cr_assert_eq(as_read(&m->io, 0x40, 2, &v), MEM_BAD_ACCESS);
    cr_assert_eq(as_write(&m->io, 0x61, 2, 0), MEM_BAD_ACCESS);
    cr_assert_eq(as_read(&m->io, 0x44, 1, &v), MEM_UNMAPPED);
    cr_assert(!i8254_out(pit, 3));
    cr_assert_null(i8254_create(m, &m->io, irq_line(NULL, NULL, 0)));
    cr_assert_not_null(m->error);
}

/* Every value to every port, time moving in between: no crash, timers
 * always in the future, reads are bytes. */
Test(i8254, hostile_sweep)
{
    static const uint16_t ports[] = { 0x40, 0x41, 0x42, 0x43, 0x61 };
    uint32_t seed = 7;
    int64_t ns = 0;
    for (int round = 0; round < 3; round++) {
        for (unsigned pi = 0; pi < G_N_ELEMENTS(ports); pi++) {
            for (int v = 0; v < 256; v++) {
                out8(ports[pi], (uint8_t)v);
                seed = seed * 1103515245u + 12345u;
                out8(ports[(seed >> 8) % G_N_ELEMENTS(ports)], (uint8_t)(seed >> 16));
                (void)in8(ports[(seed >> 4) % G_N_ELEMENTS(ports)]);
                ns += (seed >> 20) % 3000;
                run_to(ns);
                cr_assert_gt(vclock_next_deadline(&m->clock), ns);
            }
        }
    }
    /* Fastest possible rate on counter 0, then a long stretch. */
    program(0, 3, 2);
    int rises = irq0_rises;
    run_to(ns + 1000000);
    cr_assert_geq(irq0_rises - rises, 1193182 / 1000 / 2 - 2);
    program(0, 2, 2);
    run_to(ns + 2000000);
}
