#include <criterion/criterion.h>
#include <glib.h>

#include "devices/riscv_aclint.h"
#include "vmm/machine.h"

#include "dev_machine.h"

#define BASE 0x2000000ull
#define NHARTS 2

static uint64_t icount;
static Machine *m;
static RiscvAclint *clint;
static int msip[NHARTS], mtip[NHARTS], mtip_edges[NHARTS];

static void set_msip(void *opaque, int n, int level) { msip[n] = level; }
static void set_mtip(void *opaque, int n, int level)
{
    if (mtip[n] != level)
        mtip_edges[n]++;
    mtip[n] = level;
}

static void run_to(int64_t ns) { dev_machine_run_to(m, &icount, ns); }

static uint64_t rd(uint64_t off, unsigned size)
{
    uint64_t v = 0;
    cr_assert_eq(as_read(&m->as, BASE + off, size, &v), MEM_OK);
    return v;
}

static void wr(uint64_t off, unsigned size, uint64_t v)
{
    cr_assert_eq(as_write(&m->as, BASE + off, size, v), MEM_OK);
}

static void setup(void)
{
    m = dev_machine_new(&icount);
    IrqLine s[NHARTS], t[NHARTS];
    for (int i = 0; i < NHARTS; i++) {
        s[i] = irq_line(set_msip, NULL, i);
        t[i] = irq_line(set_mtip, NULL, i);
        msip[i] = mtip[i] = mtip_edges[i] = 0;
    }
    clint = riscv_aclint_create(m, BASE, NHARTS, s, t);
    cr_assert_not_null(clint);
}

static void teardown(void)
{
    dev_machine_free(m);
}

TestSuite(aclint, .init = setup, .fini = teardown);

Test(aclint, msip)
{
    wr(0x0, 4, 0xffffffff);
    cr_assert_eq(msip[0], 1);
    cr_assert_eq(rd(0x0, 4), 1);
    wr(0x4, 4, 1);
    cr_assert_eq(msip[1], 1);
    wr(0x0, 8, 0x0000000100000000ull);  /* both harts at once */
    cr_assert_eq(msip[0], 0);
    cr_assert_eq(msip[1], 1);
    cr_assert_eq(rd(0x0, 8), 0x0000000100000000ull);
    wr(0x4, 4, 2);                       /* only bit 0 is writable */
    cr_assert_eq(msip[1], 0);
    cr_assert_eq(rd(0x4, 4), 0);
}

Test(aclint, mtime_follows_virtual_time)
{
    cr_assert_eq(rd(0xbff8, 8), 0);
    run_to(1000);
    cr_assert_eq(rd(0xbff8, 8), 10);
    cr_assert_eq(riscv_aclint_mtime(clint), 10);
    run_to(1099);
    cr_assert_eq(rd(0xbff8, 4), 10);
    cr_assert_eq(rd(0xbffc, 4), 0);
    /* Guest writes move mtime; time keeps running from there. */
    wr(0xbff8, 8, 0x123456789ull);
    cr_assert_eq(rd(0xbff8, 8), 0x123456789ull);
    run_to(1299);
    cr_assert_eq(riscv_aclint_mtime(clint), 0x123456789ull + 2);
    wr(0xbffc, 4, 0xab);
    cr_assert_eq(rd(0xbff8, 8), 0xab23456789ull + 2);
    wr(0xbff8, 4, 0);
    cr_assert_eq(rd(0xbff8, 8), 0xab00000000ull);
}

Test(aclint, mtimecmp_fires_at_the_right_time)
{
    cr_assert_eq(rd(0x4000, 8), UINT64_MAX);
    wr(0x4000, 8, 50);          /* mtime 50 = 5000 ns */
    cr_assert_eq(mtip[0], 0);
    cr_assert_eq(vclock_next_deadline(&m->clock), 5000);
    run_to(4999);
    cr_assert_eq(mtip[0], 0);
    run_to(5000);
    cr_assert_eq(mtip[0], 1);
    cr_assert_eq(mtip[1], 0);
    /* Moving mtimecmp forward lowers MTIP and rearms. */
    wr(0x4000, 4, 100);
    cr_assert_eq(mtip[0], 0);
    run_to(9999);
    cr_assert_eq(mtip[0], 0);
    run_to(10000);
    cr_assert_eq(mtip[0], 1);
    /* A compare value in the past asserts at once. */
    wr(0x4008, 8, 3);
    cr_assert_eq(mtip[1], 1);
    cr_assert_eq(rd(0x4008, 4), 3);
    cr_assert_eq(rd(0x400c, 4), 0);
}

Test(aclint, split_32bit_writes)
{
    run_to(100 * 7);            /* mtime 7 */
    wr(0x4004, 4, 0);           /* cmp = 0x00000000_ffffffff */
    cr_assert_eq(mtip[0], 0);
    wr(0x4000, 4, 8);           /* cmp = 8 */
    cr_assert_eq(rd(0x4000, 8), 8);
    run_to(800);
    cr_assert_eq(mtip[0], 1);
    /* The 8-byte write updates both halves in one go: no glitch. */
    mtip_edges[0] = 0;
    wr(0x4000, 8, 9);
    cr_assert_eq(mtip[0], 0);
    cr_assert_eq(mtip_edges[0], 1);
}

Test(aclint, mtime_write_moves_deadlines)
{
    wr(0x4000, 8, 1000);        /* 100000 ns away */
    wr(0xbff8, 8, 990);         /* now 10 ticks away */
    cr_assert_eq(vclock_next_deadline(&m->clock), 1000);
    run_to(1000);
    cr_assert_eq(mtip[0], 1);
    wr(0xbff8, 8, 0);           /* back in time: MTIP drops */
    cr_assert_eq(mtip[0], 0);
    cr_assert_eq(vclock_next_deadline(&m->clock), 1000 + 1000 * 100);
}

Test(aclint, huge_values_never_arm_in_the_past)
{
    wr(0x4000, 8, UINT64_MAX - 1);
    cr_assert_eq(mtip[0], 0);
    cr_assert_eq(vclock_next_deadline(&m->clock), INT64_MAX);
    wr(0x4000, 8, (uint64_t)INT64_MAX / 100 + 5);
    cr_assert_eq(vclock_next_deadline(&m->clock), INT64_MAX);
    run_to(1000000);
    cr_assert_eq(mtip[0], 0);
    /* mtime near the top: mtimecmp small is "in the past" (unsigned). */
    wr(0x4000, 8, 5);
    wr(0xbff8, 8, UINT64_MAX - 2);
    cr_assert_eq(mtip[0], 1);
    /* ... until mtime wraps to 0, 3 ticks later. */
    run_to(1000000 + 299);
    cr_assert_eq(mtip[0], 1);
    run_to(1000000 + 300);
    cr_assert_eq(mtip[0], 0);
    cr_assert_eq(rd(0xbff8, 8), 0);
    run_to(1000000 + 300 + 499);
    cr_assert_eq(mtip[0], 0);
    run_to(1000000 + 300 + 500);
    cr_assert_eq(mtip[0], 1);
}

Test(aclint, hostile_accesses)
{
    uint64_t v;
    cr_assert_eq(as_read(&m->as, BASE, 1, &v), MEM_BAD_ACCESS);
    cr_assert_eq(as_read(&m->as, BASE, 2, &v), MEM_BAD_ACCESS);
    cr_assert_eq(as_write(&m->as, BASE + 0x4004, 8, 0), MEM_BAD_ACCESS);
    cr_assert_eq(as_read(&m->as, BASE + 0x10000, 4, &v), MEM_UNMAPPED);
    /* Harts that do not exist and reserved space read 0, ignore writes. */
    for (uint64_t off = 0; off < 0x10000; off += 4) {
        if (off == 0 || off == 4 || (off >= 0x4000 && off < 0x4010) || off >= 0xbff8)
            continue;
        wr(off, 4, 0xffffffff);
        cr_assert_eq(rd(off, 4), 0, "offset 0x%lx", (unsigned long)off);
    }
    cr_assert_eq(msip[0] + msip[1] + mtip[0] + mtip[1], 0);
}

Test(aclint, reset)
{
    wr(0x0, 4, 1);
    wr(0x4000, 8, 0);
    run_to(12345600);
    cr_assert_eq(mtip[0], 1);
    m->devices[0].ops->reset(m->devices[0].dev);
    cr_assert_eq(msip[0], 0);
    cr_assert_eq(mtip[0], 0);
    cr_assert_eq(rd(0xbff8, 8), 0);
    cr_assert_eq(rd(0x4000, 8), UINT64_MAX);
    run_to(12345600 + 100);
    cr_assert_eq(rd(0xbff8, 8), 1);
}

Test(aclint, bad_hart_count)
{
    IrqLine l[1] = { irq_line(NULL, NULL, 0) };
    cr_assert_null(riscv_aclint_create(m, 0x3000000, 0, l, l));
    cr_assert_not_null(m->error);
}
