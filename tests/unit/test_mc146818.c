#include <criterion/criterion.h>
#include <glib.h>
#include <time.h>

#include "devices/mc146818.h"
#include "vmm/machine.h"

#define PORT 0x70
#define SEC 1000000000ll
/* 2024-02-29 23:59:58 UTC, a Thursday. */
#define LEAP_EVE 1709251198ll
/* 2024-06-15 10:00:00 UTC, a Saturday. */
#define JUNE 1718445600ll

enum { RA = 0x0a, RB = 0x0b, RC = 0x0c, RD = 0x0d };

typedef struct TestBox {
    uint64_t icount;
    Machine *m;
    Mc146818 *rtc;
    int level, rises;
} TestBox;

static TestBox box, box2;
static TestBox *cur = &box;

static void rec_irq(void *opaque, int n, int level)
{
    TestBox *b = opaque;
    cr_assert_eq(n, 8);
    if (level && !b->level)
        b->rises++;
    b->level = level;
}

static void box_init(TestBox *b)
{
    memset(b, 0, sizeof(*b));
    b->m = g_new0(Machine, 1);
    as_init(&b->m->as);
    as_init(&b->m->io);
    b->m->icount = &b->icount;
    vclock_init(&b->m->clock, &b->icount, 0);
    b->rtc = mc146818_create(b->m, &b->m->io, PORT, irq_line(rec_irq, b, 8));
    cr_assert_not_null(b->rtc);
}

static void box_free(TestBox *b)
{
    Machine *m = b->m;
    if (!m)
        return;
    for (int i = m->ndevices - 1; i >= 0; i--)
        m->devices[i].ops->destroy(m->devices[i].dev);
    g_free(m->devices);
    g_free(m->error);
    g_free(m);
    b->m = NULL;
}

static void setup(void)
{
    cur = &box;
    box_init(&box);
}

static void teardown(void)
{
    box_free(&box);
    box_free(&box2);
}

TestSuite(rtc, .init = setup, .fini = teardown);

/* Advance virtual time to ns, firing timers at their deadlines as the main
 * loop would. */
static void run_to(int64_t ns)
{
    for (;;) {
        int64_t d = vclock_next_deadline(&cur->m->clock);
        if (d > ns)
            break;
        cr_assert_geq(d, (int64_t)cur->icount, "timer armed in the past");
        cur->icount = (uint64_t)d;
        vclock_run_timers(&cur->m->clock);
    }
    cur->icount = (uint64_t)ns;
    vclock_run_timers(&cur->m->clock);
}

static int64_t now(void) { return (int64_t)cur->icount; }

static uint8_t rd(unsigned idx)
{
    uint64_t v = 0;
    cr_assert_eq(as_write(&cur->m->io, PORT, 1, idx), MEM_OK);
    cr_assert_eq(as_read(&cur->m->io, PORT + 1, 1, &v), MEM_OK);
    cr_assert_leq(v, 0xff);
    return (uint8_t)v;
}

static void wr(unsigned idx, uint8_t v)
{
    cr_assert_eq(as_write(&cur->m->io, PORT, 1, idx), MEM_OK);
    cr_assert_eq(as_write(&cur->m->io, PORT + 1, 1, v), MEM_OK);
}

/* Register C without PF: the default rate (1024 Hz) sets PF all the time,
 * whatever PIE says. */
static uint8_t rd_c(void)
{
    return rd(RC) & ~0x40;
}

static void expect_time(uint8_t s, uint8_t mi, uint8_t h, uint8_t wd, uint8_t d,
                        uint8_t mo, uint8_t y, uint8_t c)
{
    uint8_t got[8] = { rd(0), rd(2), rd(4), rd(6), rd(7), rd(8), rd(9), rd(0x32) };
    uint8_t want[8] = { s, mi, h, wd, d, mo, y, c };
    for (int i = 0; i < 8; i++)
        cr_assert_eq(got[i], want[i], "field %d: got 0x%02x, want 0x%02x (%02x:%02x:%02x)",
                     i, got[i], want[i], got[2], got[1], got[0]);
}

Test(rtc, bcd_time_and_rollover)
{
    mc146818_set_time_ns(box.rtc, LEAP_EVE * SEC + SEC / 2);
    cr_assert_eq(rd(RB), 0x02);                   /* 24 h, BCD */
    expect_time(0x58, 0x59, 0x23, 5, 0x29, 0x02, 0x24, 0x20);
    run_to(SEC / 2 - 1);
    cr_assert_eq(rd(0), 0x58);
    run_to(SEC / 2);
    expect_time(0x59, 0x59, 0x23, 5, 0x29, 0x02, 0x24, 0x20);
    run_to(SEC + SEC / 2);                         /* leap day ends */
    expect_time(0x00, 0x00, 0x00, 6, 0x01, 0x03, 0x24, 0x20);
    /* A whole (non-leap) year and a day later. */
    run_to(SEC + SEC / 2 + (365 + 1) * 86400 * SEC);
    expect_time(0x00, 0x00, 0x00, 1, 0x02, 0x03, 0x25, 0x20);
}

Test(rtc, century_rollover)
{
    mc146818_set_time_ns(box.rtc, 4102444799ll * SEC);     /* 2099-12-31 23:59:59 */
    expect_time(0x59, 0x59, 0x23, 5, 0x31, 0x12, 0x99, 0x20);
    run_to(SEC);
    expect_time(0x00, 0x00, 0x00, 6, 0x01, 0x01, 0x00, 0x21);
}

Test(rtc, binary_mode)
{
    mc146818_set_time_ns(box.rtc, LEAP_EVE * SEC);
    wr(RB, 0x06);
    expect_time(58, 59, 23, 5, 29, 2, 24, 20);
    wr(RB, 0x02);                                  /* modes convert on the fly */
    expect_time(0x58, 0x59, 0x23, 5, 0x29, 0x02, 0x24, 0x20);
}

Test(rtc, twelve_hour_mode)
{
    mc146818_set_time_ns(box.rtc, LEAP_EVE * SEC);
    wr(RB, 0x00);                                  /* 12 h, BCD */
    cr_assert_eq(rd(4), 0x80 | 0x11);              /* 11 PM */
    run_to(2 * SEC);                               /* midnight: 12 AM */
    cr_assert_eq(rd(4), 0x12);
    wr(RB, 0x04);                                  /* 12 h, binary */
    cr_assert_eq(rd(4), 12);
    run_to(2 * SEC + 3600 * SEC);
    cr_assert_eq(rd(4), 1);
    run_to(2 * SEC + 12 * 3600 * SEC);             /* noon: 12 PM */
    cr_assert_eq(rd(4), 0x80 | 12);
    run_to(2 * SEC + 13 * 3600 * SEC);
    cr_assert_eq(rd(4), 0x80 | 1);
    /* Writing 12 h values: 7 PM, then 12 AM. */
    wr(4, 0x80 | 7);
    wr(RB, 0x06);
    cr_assert_eq(rd(4), 19);
    wr(RB, 0x00);
    wr(4, 0x12);
    wr(RB, 0x02);
    cr_assert_eq(rd(4), 0x00);
}

Test(rtc, uip_window_and_update)
{
    mc146818_set_time_ns(box.rtc, LEAP_EVE * SEC);  /* boundaries at k * 1e9 */
    cr_assert_eq(rd(RA), 0x26);
    run_to(SEC - 244141);
    cr_assert_eq(rd(RA), 0x26);
    run_to(SEC - 244140);                           /* 8 ticks of 32.768 kHz */
    cr_assert_eq(rd(RA), 0xa6);
    cr_assert_eq(rd(0), 0x58);                      /* still the old second */
    run_to(SEC - 1);
    cr_assert_eq(rd(RA), 0xa6);
    run_to(SEC);
    cr_assert_eq(rd(RA), 0x26);
    cr_assert_eq(rd(0), 0x59);
    cr_assert_eq(rd_c(), 0x10);                     /* UF, no IRQ (UIE off) */
    cr_assert_eq(box.level, 0);
    /* SET clears UIP. */
    run_to(2 * SEC - 1000);
    cr_assert_eq(rd(RA) & 0x80, 0x80);
    wr(RB, 0x82);
    cr_assert_eq(rd(RA), 0x26);
    /* So does a divider held in reset. */
    wr(RB, 0x02);
    cr_assert_eq(rd(RA) & 0x80, 0x80);
    wr(RA, 0x66);
    cr_assert_eq(rd(RA), 0x66);
    /* UIP itself is read-only. */
    wr(RA, 0xa6);
    run_to(2 * SEC - 500000);
    cr_assert_eq(rd(RA), 0x26);
}

Test(rtc, set_freezes_and_writes_time)
{
    mc146818_set_time_ns(box.rtc, LEAP_EVE * SEC + SEC / 4);   /* 23:59:58.25 */
    wr(RB, 0x82);
    run_to(5 * SEC);
    expect_time(0x58, 0x59, 0x23, 5, 0x29, 0x02, 0x24, 0x20);
    cr_assert_eq(rd_c(), 0x00);                      /* no update while SET */
    /* 2031-07-04 12:34:56, a Friday. */
    wr(0, 0x56); wr(2, 0x34); wr(4, 0x12); wr(6, 6);
    wr(7, 0x04); wr(8, 0x07); wr(9, 0x31); wr(0x32, 0x20);
    run_to(7 * SEC);
    expect_time(0x56, 0x34, 0x12, 6, 0x04, 0x07, 0x31, 0x20);
    wr(RB, 0x02);
    /* The divider kept its phase: the next update is at x.75 s. */
    run_to(7 * SEC + 3 * SEC / 4 - 1);
    cr_assert_eq(rd(0), 0x56);
    run_to(7 * SEC + 3 * SEC / 4);
    cr_assert_eq(rd(0), 0x57);
    run_to(7 * SEC + 3 * SEC / 4 + 12 * 3600 * SEC);
    expect_time(0x57, 0x34, 0x00, 7, 0x05, 0x07, 0x31, 0x20);
}

Test(rtc, write_without_set)
{
    mc146818_set_time_ns(box.rtc, (LEAP_EVE + 2 * 86400 - 86398) * SEC);   /* 2024-03-02 */
    expect_time(0x00, 0x00, 0x00, 7, 0x02, 0x03, 0x24, 0x20);
    /* Day 31 in February, then the 15th: raw fields hold within the second. */
    wr(7, 0x31);
    wr(8, 0x02);
    cr_assert_eq(rd(7), 0x31);
    wr(7, 0x15);
    run_to(SEC);
    expect_time(0x01, 0x00, 0x00, 7, 0x15, 0x02, 0x24, 0x20);
    wr(0x32, 0x19);
    cr_assert_eq(rd(9), 0x24);
    cr_assert_eq(rd(0x32), 0x19);
}

Test(rtc, set_clears_uie)
{
    mc146818_set_time_ns(box.rtc, JUNE * SEC);
    wr(RB, 0x12);
    cr_assert_eq(rd(RB), 0x12);
    wr(RB, 0x92);
    cr_assert_eq(rd(RB), 0x82);
}

Test(rtc, divider_reset_restarts_half_second_later)
{
    mc146818_set_time_ns(box.rtc, JUNE * SEC);
    wr(RA, 0x76);
    run_to(10 * SEC + 123);
    cr_assert_eq(rd(0), 0x00);
    cr_assert_eq(rd(RC), 0x00);                      /* no updates, no PF */
    wr(0, 0x30);
    wr(RA, 0x26);
    run_to(10 * SEC + 123 + SEC / 2 - 1);
    cr_assert_eq(rd(0), 0x30);
    run_to(10 * SEC + 123 + SEC / 2);
    cr_assert_eq(rd(0), 0x31);
    run_to(10 * SEC + 123 + SEC / 2 + SEC);
    cr_assert_eq(rd(0), 0x32);
}

/* ns of tick T with the time base aligned to virtual time 0. */
static int64_t tick_time(int64_t T)
{
    return (T * 1953125 + 63) / 64;
}

Test(rtc, periodic_rates)
{
    mc146818_set_time_ns(box.rtc, JUNE * SEC);
    for (unsigned rs = 1; rs <= 15; rs++) {
        int64_t p = rs <= 2 ? 1 << (rs + 6) : 1 << (rs - 1);      /* ticks */
        /* Start on a second boundary. */
        int64_t t0 = (now() / SEC + 1) * SEC;
        run_to(t0);
        wr(RA, 0x20 | rs);
        rd(RC);
        wr(RB, 0x42);
        box.rises = 0;
        int64_t first = t0 + tick_time(p);
        run_to(first - 1);
        cr_assert_eq(box.level, 0, "rs %u", rs);
        run_to(first);
        cr_assert_eq(box.level, 1, "rs %u", rs);
        cr_assert_eq(rd(RC), 0xc0, "rs %u", rs);
        cr_assert_eq(box.level, 0);
        /* One interrupt per period for the rest of the second. */
        for (int64_t k = 2; k <= 32768 / p; k++) {
            run_to(t0 + tick_time(k * p));
            cr_assert_eq(box.level, 1, "rs %u k %lld", rs, (long long)k);
            cr_assert_eq(rd(RC) & 0xc0, 0xc0);
        }
        cr_assert_eq(box.rises, 32768 / p, "rs %u", rs);
        wr(RB, 0x02);
    }
    /* Rate 0: nothing. */
    wr(RA, 0x20);
    rd(RC);
    wr(RB, 0x42);
    run_to(now() + 3 * SEC);
    cr_assert_eq(box.level, 0);
    cr_assert_eq(rd(RC) & 0x40, 0);
}

Test(rtc, periodic_flag_without_enable)
{
    mc146818_set_time_ns(box.rtc, JUNE * SEC);
    rd(RC);
    run_to(SEC / 100);
    cr_assert_eq(box.level, 0);
    cr_assert_null(box.m->clock.timers, "no timer while nothing is enabled");
    /* PF is set, without IRQF; enabling PIE then raises the line at once. */
    cr_assert_eq(rd(RC), 0x40);
    run_to(2 * SEC / 100);
    wr(RB, 0x42);
    cr_assert_eq(box.level, 1);
    cr_assert_null(box.m->clock.timers, "no timer while the line is up");
    cr_assert_eq(rd(RC), 0xc0);
    cr_assert_eq(box.level, 0);
    cr_assert_not_null(box.m->clock.timers);
}

Test(rtc, update_interrupt)
{
    mc146818_set_time_ns(box.rtc, JUNE * SEC + SEC / 3);
    rd(RC);
    wr(RB, 0x12);
    int64_t next = SEC - SEC / 3;
    cr_assert_eq(vclock_next_deadline(&box.m->clock), next);
    run_to(next - 1);
    cr_assert_eq(box.level, 0);
    run_to(next);
    cr_assert_eq(box.level, 1);
    cr_assert_eq(rd(0), 0x01);
    run_to(next + 5 * SEC);                          /* level stays up */
    cr_assert_eq(box.rises, 1);
    cr_assert_eq(rd_c(), 0x90);
    cr_assert_eq(rd_c(), 0x00);
    cr_assert_eq(box.level, 0);
    cr_assert_eq(vclock_next_deadline(&box.m->clock), next + 6 * SEC);
}

Test(rtc, alarm_exact_and_wildcards)
{
    mc146818_set_time_ns(box.rtc, JUNE * SEC);       /* 10:00:00 */
    rd(RC);
    wr(1, 0x05); wr(3, 0x00); wr(5, 0x10);
    wr(RB, 0x22);
    cr_assert_eq(vclock_next_deadline(&box.m->clock), 5 * SEC);
    run_to(5 * SEC - 1);
    cr_assert_eq(box.level, 0);
    run_to(5 * SEC);
    cr_assert_eq(box.level, 1);
    cr_assert_eq(rd_c(), 0xb0);                      /* IRQF | AF | UF */
    /* Next time: tomorrow. */
    cr_assert_eq(vclock_next_deadline(&box.m->clock), 5 * SEC + 86400 * SEC);
    /* Seconds don't care: every second of 10:01. */
    wr(1, 0xff); wr(3, 0x01);
    cr_assert_eq(vclock_next_deadline(&box.m->clock), 60 * SEC);
    for (int s = 0; s < 60; s++) {
        run_to((60 + s) * SEC);
        cr_assert_eq(box.level, 1, "second %d", s);
        cr_assert_eq(rd(RC) & 0xa0, 0xa0);
    }
    cr_assert_eq(vclock_next_deadline(&box.m->clock), (60 + 86400) * SEC);
    /* Hour don't care: at xx:30:00 every hour. */
    wr(1, 0x00); wr(3, 0x30); wr(5, 0xc0);
    run_to(30 * 60 * SEC);
    cr_assert_eq(box.level, 1);
    rd(RC);
    cr_assert_eq(vclock_next_deadline(&box.m->clock), (30 * 60 + 3600) * SEC);
    /* Everything don't care: every second. */
    wr(1, 0xc0); wr(3, 0xd5); wr(5, 0xff);
    cr_assert_eq(vclock_next_deadline(&box.m->clock), (30 * 60 + 1) * SEC);
    /* A value that never matches: no timer. */
    wr(1, 0x60);
    cr_assert_eq(vclock_next_deadline(&box.m->clock), INT64_MAX);
}

Test(rtc, alarm_twelve_hour)
{
    mc146818_set_time_ns(box.rtc, JUNE * SEC);       /* 10 AM */
    wr(RB, 0x00);
    rd(RC);
    wr(1, 0x00); wr(3, 0x00); wr(5, 0x80 | 0x10);    /* 10 PM */
    wr(RB, 0x20);
    cr_assert_eq(vclock_next_deadline(&box.m->clock), 12 * 3600 * SEC);
    run_to(12 * 3600 * SEC);
    cr_assert_eq(box.level, 1);
    cr_assert_eq(rd(4), 0x90);
}

Test(rtc, alarm_flag_lazy_without_enable)
{
    mc146818_set_time_ns(box.rtc, JUNE * SEC);
    rd(RC);
    wr(1, 0x00); wr(3, 0x00); wr(5, 0x03);           /* 03:00:00 */
    run_to(10 * 3600 * SEC);                         /* 20:00: not yet */
    cr_assert_eq(rd_c(), 0x10);
    run_to(17 * 3600 * SEC);                         /* 03:00 passed */
    cr_assert_eq(rd_c(), 0x30);
    run_to(3 * 86400 * SEC);                         /* long gap */
    cr_assert_eq(rd_c(), 0x30);
    cr_assert_eq(box.level, 0);
}

Test(rtc, register_c_and_d)
{
    mc146818_set_time_ns(box.rtc, JUNE * SEC);
    cr_assert_eq(rd(RD), 0x80);
    wr(RD, 0x00);
    cr_assert_eq(rd(RD), 0x80);
    wr(RB, 0x12);
    run_to(SEC);
    cr_assert_eq(box.level, 1);
    wr(RC, 0x00);                                     /* read-only */
    cr_assert_eq(box.level, 1);
    cr_assert_eq(mc146818_cmos_get(box.rtc, RC) & ~0x40, 0x90);   /* peek: no clear */
    cr_assert_eq(box.level, 1);
    cr_assert_eq(rd_c(), 0x90);
    cr_assert_eq(box.level, 0);
    cr_assert_eq(rd_c(), 0x00);
    /* Disabling the source lowers the line too, but keeps the flag. */
    run_to(2 * SEC);
    cr_assert_eq(box.level, 1);
    wr(RB, 0x02);
    cr_assert_eq(box.level, 0);
    cr_assert_eq(rd_c(), 0x10);
}

Test(rtc, cmos_ram)
{
    mc146818_cmos_set(box.rtc, 0x10, 0x44);
    mc146818_cmos_set(box.rtc, 0x7f, 0x99);
    cr_assert_eq(rd(0x10), 0x44);
    cr_assert_eq(rd(0x7f), 0x99);
    wr(0x34, 0xab);
    cr_assert_eq(mc146818_cmos_get(box.rtc, 0x34), 0xab);
    for (unsigned i = 0x0e; i < 0x80; i++)
        if (i != 0x32)
            wr(i, (uint8_t)(i * 7));
    for (unsigned i = 0x0e; i < 0x80; i++)
        if (i != 0x32)
            cr_assert_eq(rd(i), (uint8_t)(i * 7));
    /* The board cannot scribble over the clock. */
    mc146818_cmos_set(box.rtc, RB, 0xff);
    mc146818_cmos_set(box.rtc, 0x32, 0x55);
    mc146818_cmos_set(box.rtc, 0x80, 0x55);
    cr_assert_eq(mc146818_cmos_get(box.rtc, RB), 0x02);
    cr_assert_eq(mc146818_cmos_get(box.rtc, 0x80), 0xff);
    /* Alarm bytes are plain storage. */
    wr(1, 0xc7);
    cr_assert_eq(rd(1), 0xc7);
}

Test(rtc, index_and_nmi_mask)
{
    mc146818_cmos_set(box.rtc, 0x20, 0x5a);
    cr_assert_not(mc146818_nmi_masked(box.rtc));
    wr(0x80 | 0x20, 0x00);                            /* index 0x20, NMI off */
    cr_assert(mc146818_nmi_masked(box.rtc));
    cr_assert_eq(mc146818_cmos_get(box.rtc, 0x20), 0x00);
    cr_assert_eq(rd(0x20), 0x00);
    cr_assert_not(mc146818_nmi_masked(box.rtc));
    uint64_t v;
    cr_assert_eq(as_read(&box.m->io, PORT, 1, &v), MEM_OK);
    cr_assert_eq(v, 0xff);                             /* write-only */
    /* Reset unmasks NMIs and keeps the RAM. */
    wr(0x80 | 0x20, 0x66);
    box.m->devices[0].ops->reset(box.m->devices[0].dev);
    cr_assert_not(mc146818_nmi_masked(box.rtc));
    cr_assert_eq(rd(0x20), 0x66);
}

Test(rtc, reset_keeps_clock_clears_interrupts)
{
    mc146818_set_time_ns(box.rtc, JUNE * SEC);
    wr(RB, 0x7e);                                     /* binary + PIE AIE UIE SQWE */
    run_to(SEC);
    cr_assert_eq(box.level, 1);
    box.m->devices[0].ops->reset(box.m->devices[0].dev);
    cr_assert_eq(box.level, 0);
    cr_assert_eq(rd(RB), 0x06);
    cr_assert_eq(rd(RC), 0x00);
    cr_assert_eq(rd(0), 1);
    cr_assert_eq(vclock_next_deadline(&box.m->clock), INT64_MAX);
}

Test(rtc, host_clock_read_at_first_access)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    cr_assert_null(box.m->clock.timers);
    int64_t sec = rd(0), min = rd(2);
    uint8_t year = rd(9);
    /* BCD of the host's UTC time. */
    struct tm tm;
    time_t t = ts.tv_sec;
    gmtime_r(&t, &tm);
    int host = tm.tm_min * 60 + tm.tm_sec;
    int got = (int)((min >> 4) * 10 + (min & 15)) * 60 + (int)((sec >> 4) * 10 + (sec & 15));
    int diff = (got - host + 3600) % 3600;
    cr_assert(diff <= 2 || diff >= 3598, "rtc %d vs host %d", got, host);
    cr_assert_eq(year, ((tm.tm_year % 100) / 10) << 4 | tm.tm_year % 10);
    /* Read once: the clock then follows virtual time only. */
    run_to(10 * SEC);
    int64_t s2 = rd(0);
    int a = (int)((sec >> 4) * 10 + (sec & 15)), b = (int)((s2 >> 4) * 10 + (s2 & 15));
    cr_assert_eq((b - a + 60) % 60, 10);
}

/* A scripted run on a machine with a fixed wall clock; returns a digest of
 * everything the guest read. */
static uint64_t scripted_run(TestBox *b, int64_t wall)
{
    cur = b;
    mc146818_set_time_ns(b->rtc, wall);
    uint64_t h = 1469598103934665603ull;
    uint32_t x = 12345;
    for (int i = 0; i < 3000; i++) {
        x = x * 1103515245 + 12345;
        unsigned op = x >> 28;
        if (op < 4) {
            run_to(now() + (x >> 8) % (SEC / 3));
        } else if (op < 6) {
            static const uint8_t bs[] = { 0x02, 0x06, 0x00, 0x72, 0x32, 0x52, 0x86, 0x12 };
            wr(RB, bs[(x >> 4) % 8]);
        } else if (op < 7) {
            wr(RA, (uint8_t)(0x20 | ((x >> 4) % 16)));
        } else if (op < 8) {
            wr(1 + 2 * ((x >> 4) % 3), (uint8_t)(x >> 12));
        } else {
            h = (h ^ rd((x >> 4) % 14)) * 1099511628211ull;
            h = (h ^ (uint64_t)b->level) * 1099511628211ull;
        }
    }
    h = (h ^ (uint64_t)b->rises) * 1099511628211ull;
    cur = &box;
    return h;
}

Test(rtc, deterministic_with_fixed_wall_clock)
{
    box_init(&box2);
    uint64_t a = scripted_run(&box, JUNE * SEC + 123456789);
    uint64_t b = scripted_run(&box2, JUNE * SEC + 123456789);
    cr_assert_eq(a, b);
    cr_assert_eq(box.rises, box2.rises);
    cr_assert_gt(box.rises, 10);
    cr_assert_eq(box.icount, box2.icount);
    cr_assert_eq(vclock_next_deadline(&box.m->clock), vclock_next_deadline(&box2.m->clock));
    /* A different wall clock gives a different run. */
    box_free(&box2);
    box_init(&box2);
    cr_assert_neq(scripted_run(&box2, JUNE * SEC + 623456789), a);
}

Test(rtc, hostile_sweep)
{
    mc146818_set_time_ns(box.rtc, JUNE * SEC);
    uint32_t x = 1;
    for (unsigned idx = 0; idx < 256; idx++) {
        for (unsigned v = 0; v < 256; v++) {
            wr(idx, (uint8_t)v);
            x = x * 1664525 + 1013904223;
            if ((x >> 24) < 8)
                run_to(now() + (x >> 4) % (2 * SEC));
            uint8_t c = rd(RC);
            cr_assert_eq(c & 0x0f, 0);
            cr_assert_eq(rd(RD), 0x80);
            rd(idx);
            int64_t d = vclock_next_deadline(&box.m->clock);
            cr_assert(d == INT64_MAX || d > now(), "deadline %lld at %lld",
                      (long long)d, (long long)now());
        }
    }
    /* Garbage in every time field, in every mode, across many updates. */
    for (unsigned mode = 0; mode < 8; mode++) {
        wr(RB, (uint8_t)(0x80 | (mode & 6)));
        for (unsigned i = 0; i < 10; i++)
            wr(i, 0xff);
        wr(0x32, 0xff);
        wr(RB, (uint8_t)(0x70 | (mode & 6)));
        wr(RA, 0x23);
        run_to(now() + 3 * SEC + 86400 * SEC * (mode + 1));
        for (unsigned i = 0; i < 14; i++)
            rd(i);
        rd(0x32);
    }
    /* Extreme wall clocks. */
    mc146818_set_time_ns(box.rtc, INT64_MAX);
    run_to(now() + 5 * SEC);
    rd(0); rd(9); rd(0x32);
    wr(RB, 0x02);
    mc146818_set_time_ns(box.rtc, -5);
    cr_assert_eq(rd(9), 0x70);
    run_to(now() + SEC);
    cr_assert_eq(rd(RC) & 0x10, 0x10);
    /* Wide and odd accesses are refused by the bus, not the device. */
    uint64_t v;
    cr_assert_neq(as_read(&box.m->io, PORT, 2, &v), MEM_OK);
    cr_assert_neq(as_write(&box.m->io, PORT, 4, 0), MEM_OK);
}
