#include <criterion/criterion.h>
#include <glib.h>
#include <time.h>

#include "devices/goldfish_rtc.h"
#include "vmm/machine.h"

#define BASE 0x101000ull
#define SEC 1000000000ull

static uint64_t icount;
static Machine *m;
static int irq_level;

static void rec_irq(void *opaque, int n, int level) { irq_level = level; }

static void setup(void)
{
    m = g_new0(Machine, 1);
    as_init(&m->as);
    icount = 1000;
    m->icount = &icount;
    vclock_init(&m->clock, &icount, 0);
    vclock_warp(&m->clock, 1000);       /* virtual time 1000 ns */
    irq_level = 0;
    cr_assert_not_null(goldfish_rtc_create(m, BASE, irq_line(rec_irq, NULL, 11)));
}

static void teardown(void)
{
    for (int i = m->ndevices - 1; i >= 0; i--)
        m->devices[i].ops->destroy(m->devices[i].dev);
    g_free(m->devices);
    g_free(m->error);
    g_free(m);
}

TestSuite(goldfish_rtc, .init = setup, .fini = teardown);

static uint32_t rd(uint64_t off)
{
    uint64_t v = 0;
    cr_assert_eq(as_read(&m->as, BASE + off, 4, &v), MEM_OK);
    cr_assert_leq(v, 0xffffffffull);
    return (uint32_t)v;
}

static void wr(uint64_t off, uint32_t v)
{
    cr_assert_eq(as_write(&m->as, BASE + off, 4, v), MEM_OK);
}

static uint64_t rtc_time(void)
{
    uint32_t lo = rd(GOLDFISH_RTC_TIME_LOW);
    return ((uint64_t)rd(GOLDFISH_RTC_TIME_HIGH) << 32) | lo;
}

static uint64_t host_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * SEC + (uint64_t)ts.tv_nsec;
}

static void advance(int64_t ns)
{
    icount += (uint64_t)ns;
    vclock_run_timers(&m->clock);
}

Test(goldfish_rtc, starts_at_host_time)
{
    uint64_t before = host_ns();
    uint64_t t = rtc_time();
    uint64_t after = host_ns();
    cr_assert_geq(t + SEC, before);
    cr_assert_leq(t, after + SEC);
}

Test(goldfish_rtc, time_high_is_latched)
{
    wr(GOLDFISH_RTC_TIME_HIGH, 0x1234);
    wr(GOLDFISH_RTC_TIME_LOW, 0);
    cr_assert_eq(rd(GOLDFISH_RTC_TIME_HIGH), 0, "not latched before a TIME_LOW read");
    uint32_t lo = rd(GOLDFISH_RTC_TIME_LOW);
    cr_assert_lt(lo, SEC);
    cr_assert_eq(rd(GOLDFISH_RTC_TIME_HIGH), 0x1234);
    wr(GOLDFISH_RTC_TIME_HIGH, 7);      /* the latch keeps the old value */
    cr_assert_eq(rd(GOLDFISH_RTC_TIME_HIGH), 0x1234);
    rd(GOLDFISH_RTC_TIME_LOW);
    cr_assert_eq(rd(GOLDFISH_RTC_TIME_HIGH), 7);
}

Test(goldfish_rtc, set_time)
{
    uint64_t want = 1700000000ull * SEC;
    wr(GOLDFISH_RTC_TIME_HIGH, (uint32_t)(want >> 32));
    wr(GOLDFISH_RTC_TIME_LOW, (uint32_t)want);
    uint64_t t = rtc_time();
    cr_assert_geq(t, want);
    cr_assert_lt(t, want + SEC);
    /* The offset survives a reset. */
    m->devices[0].ops->reset(m->devices[0].dev);
    t = rtc_time();
    cr_assert_geq(t, want);
    cr_assert_lt(t, want + 2 * SEC);
}

Test(goldfish_rtc, alarm_in_virtual_time)
{
    wr(GOLDFISH_RTC_IRQ_ENABLED, 1);
    cr_assert_eq(rd(GOLDFISH_RTC_IRQ_ENABLED), 1);
    uint64_t alarm = rtc_time() + 2 * SEC;
    wr(GOLDFISH_RTC_ALARM_HIGH, (uint32_t)(alarm >> 32));
    cr_assert_eq(rd(GOLDFISH_RTC_ALARM_STATUS), 0, "ALARM_HIGH alone does not arm");
    wr(GOLDFISH_RTC_ALARM_LOW, (uint32_t)alarm);
    cr_assert_eq(rd(GOLDFISH_RTC_ALARM_STATUS), 1);
    cr_assert_eq(rd(GOLDFISH_RTC_ALARM_LOW), (uint32_t)alarm);
    cr_assert_eq(rd(GOLDFISH_RTC_ALARM_HIGH), (uint32_t)(alarm >> 32));
    int64_t d = vclock_next_deadline(&m->clock);
    cr_assert_gt(d, 1000 + (int64_t)SEC);           /* 2 s minus host time spent */
    cr_assert_leq(d, 1000 + 2 * (int64_t)SEC);
    advance(d - 1000 - 1);
    cr_assert_eq(irq_level, 0);
    advance(1);
    cr_assert_eq(irq_level, 1);
    cr_assert_eq(rd(GOLDFISH_RTC_ALARM_STATUS), 0);
    wr(GOLDFISH_RTC_CLEAR_INTERRUPT, 1);
    cr_assert_eq(irq_level, 0);
}

Test(goldfish_rtc, alarm_in_the_past_fires_at_once)
{
    wr(GOLDFISH_RTC_ALARM_HIGH, 0);
    wr(GOLDFISH_RTC_ALARM_LOW, 5);
    cr_assert_eq(rd(GOLDFISH_RTC_ALARM_STATUS), 0);
    cr_assert_eq(irq_level, 0);         /* pending but masked */
    wr(GOLDFISH_RTC_IRQ_ENABLED, 1);
    cr_assert_eq(irq_level, 1);
    wr(GOLDFISH_RTC_IRQ_ENABLED, 0);
    cr_assert_eq(irq_level, 0);
    wr(GOLDFISH_RTC_CLEAR_INTERRUPT, 0);
    wr(GOLDFISH_RTC_IRQ_ENABLED, 1);
    cr_assert_eq(irq_level, 0);
}

Test(goldfish_rtc, clear_alarm)
{
    wr(GOLDFISH_RTC_IRQ_ENABLED, 1);
    uint64_t alarm = rtc_time() + SEC;
    wr(GOLDFISH_RTC_ALARM_HIGH, (uint32_t)(alarm >> 32));
    wr(GOLDFISH_RTC_ALARM_LOW, (uint32_t)alarm);
    cr_assert_eq(rd(GOLDFISH_RTC_ALARM_STATUS), 1);
    wr(GOLDFISH_RTC_CLEAR_ALARM, 1);
    cr_assert_eq(rd(GOLDFISH_RTC_ALARM_STATUS), 0);
    cr_assert_eq(vclock_next_deadline(&m->clock), INT64_MAX);
    advance(10 * SEC);
    cr_assert_eq(irq_level, 0);
}

Test(goldfish_rtc, far_alarm_never_fires)
{
    wr(GOLDFISH_RTC_IRQ_ENABLED, 1);
    wr(GOLDFISH_RTC_ALARM_HIGH, 0xffffffff);
    wr(GOLDFISH_RTC_ALARM_LOW, 0xffffffff);
    cr_assert_eq(rd(GOLDFISH_RTC_ALARM_STATUS), 1);
    int64_t d = vclock_next_deadline(&m->clock);
    cr_assert(d == INT64_MAX || d > (int64_t)(100 * SEC));
    advance(100 * SEC);
    cr_assert_eq(irq_level, 0);
}

Test(goldfish_rtc, reset)
{
    wr(GOLDFISH_RTC_IRQ_ENABLED, 1);
    wr(GOLDFISH_RTC_ALARM_LOW, 1);
    cr_assert_eq(irq_level, 1);
    m->devices[0].ops->reset(m->devices[0].dev);
    cr_assert_eq(irq_level, 0);
    cr_assert_eq(rd(GOLDFISH_RTC_IRQ_ENABLED), 0);
    cr_assert_eq(rd(GOLDFISH_RTC_ALARM_LOW), 0);
    cr_assert_eq(rd(GOLDFISH_RTC_ALARM_STATUS), 0);
}

Test(goldfish_rtc, hostile_accesses)
{
    uint64_t v;
    cr_assert_eq(as_read(&m->as, BASE, 8, &v), MEM_BAD_ACCESS);
    cr_assert_eq(as_read(&m->as, BASE, 1, &v), MEM_BAD_ACCESS);
    cr_assert_eq(as_write(&m->as, BASE + 2, 2, 0), MEM_BAD_ACCESS);
    cr_assert_eq(as_read(&m->as, BASE + 0x1000, 4, &v), MEM_UNMAPPED);
    for (uint64_t off = 0x20; off < 0x1000; off += 4) {
        wr(off, 0xffffffff);
        cr_assert_eq(rd(off), 0);
    }
    cr_assert_eq(rd(GOLDFISH_RTC_CLEAR_ALARM), 0);
    cr_assert_eq(rd(GOLDFISH_RTC_CLEAR_INTERRUPT), 0);
    cr_assert_eq(irq_level, 0);
}
