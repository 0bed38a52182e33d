#include <criterion/criterion.h>

#include "vmm/clock.h"

static int fired[4];
static void cb(void *opaque) { fired[(intptr_t)opaque]++; }

Test(clock, icount_to_ns)
{
    uint64_t ic = 0;
    VClock c;
    vclock_init(&c, &ic, 3);
    ic = 100;
    cr_assert_eq(vclock_ns(&c), 800);
    vclock_set_shift(&c, 0);
    ic = 150;
    cr_assert_eq(vclock_ns(&c), 850);
    vclock_warp(&c, 1000);
    cr_assert_eq(vclock_ns(&c), 1850);
}

Test(clock, insns_until_rounds_up)
{
    uint64_t ic = 0;
    VClock c;
    vclock_init(&c, &ic, 2);
    cr_assert_eq(vclock_insns_until(&c, 9), 3);   /* 3 insns = 12 ns >= 9 */
    cr_assert_eq(vclock_insns_until(&c, 8), 2);
    cr_assert_eq(vclock_insns_until(&c, 0), 0);
}

Test(clock, timers_fire_in_deadline_order)
{
    uint64_t ic = 0;
    VClock c;
    vclock_init(&c, &ic, 0);
    Timer t[3];
    for (int i = 0; i < 3; i++)
        timer_init(&t[i], cb, (void *)(intptr_t)i);
    memset(fired, 0, sizeof(fired));
    timer_mod(&c, &t[0], 300);
    timer_mod(&c, &t[1], 100);
    timer_mod(&c, &t[2], 200);
    cr_assert_eq(vclock_next_deadline(&c), 100);
    timer_del(&c, &t[1]);
    cr_assert_eq(vclock_next_deadline(&c), 200);
    ic = 250;
    cr_assert_eq(vclock_run_timers(&c), 1);
    cr_assert_eq(fired[2], 1);
    cr_assert_eq(fired[1], 0);
    timer_mod(&c, &t[0], 260);   /* re-arming moves it */
    ic = 1000;
    cr_assert_eq(vclock_run_timers(&c), 1);
    cr_assert_eq(vclock_next_deadline(&c), INT64_MAX);
}

Test(clock, attach_keeps_time)
{
    VClock c;
    vclock_init(&c, NULL, 0);
    vclock_warp(&c, 500);
    uint64_t ic = 42;
    vclock_attach(&c, &ic);
    cr_assert_eq(vclock_ns(&c), 500);
    ic = 52;
    cr_assert_eq(vclock_ns(&c), 510);
}
