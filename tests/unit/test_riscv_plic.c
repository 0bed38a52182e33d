#include <criterion/criterion.h>
#include <glib.h>

#include "devices/riscv_plic.h"
#include "vmm/machine.h"

#include "dev_machine.h"

#define BASE 0xc000000ull
#define NCTX 2                  /* hart 0: M, S */

static uint64_t icount;
static Machine *m;
static RiscvPlic *plic;
static int out[NCTX];

static void set_out(void *opaque, int n, int level) { out[n] = level; }

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

static void src(int s, int level)
{
    IrqLine l = riscv_plic_input(plic, s);
    irq_set(&l, level);
}

#define PRIO(s)        (4u * (s))
#define PENDING(w)     (0x1000 + 4u * (w))
#define ENABLE(c, w)   (0x2000 + 0x80u * (c) + 4u * (w))
#define THRESHOLD(c)   (0x200000 + 0x1000u * (c))
#define CLAIM(c)       (0x200004 + 0x1000u * (c))

static void setup(void)
{
    m = dev_machine_new(&icount);
    IrqLine l[NCTX];
    for (int i = 0; i < NCTX; i++) {
        l[i] = irq_line(set_out, NULL, i);
        out[i] = 0;
    }
    plic = riscv_plic_create(m, BASE, RISCV_PLIC_VIRT_SIZE, RISCV_PLIC_VIRT_SOURCES, NCTX, l);
    cr_assert_not_null(plic);
}

static void teardown(void)
{
    dev_machine_free(m);
}

TestSuite(plic, .init = setup, .fini = teardown);

Test(plic, registers)
{
    wr(PRIO(10), 0xffffffff);
    cr_assert_eq(rd(PRIO(10)), 7);
    wr(PRIO(0), 5);             /* source 0 does not exist */
    cr_assert_eq(rd(PRIO(0)), 0);
    wr(PRIO(95), 3);
    cr_assert_eq(rd(PRIO(95)), 3);
    wr(PRIO(96), 3);            /* beyond the last source */
    cr_assert_eq(rd(PRIO(96)), 0);
    wr(ENABLE(0, 0), 0xffffffff);
    cr_assert_eq(rd(ENABLE(0, 0)), 0xfffffffe);
    wr(ENABLE(1, 2), 0xffffffff);
    cr_assert_eq(rd(ENABLE(1, 2)), 0xffffffff);   /* 64..95 */
    wr(ENABLE(1, 3), 0xffffffff);
    cr_assert_eq(rd(ENABLE(1, 3)), 0);
    wr(THRESHOLD(1), 0x1f);
    cr_assert_eq(rd(THRESHOLD(1)), 7);
    cr_assert_eq(rd(THRESHOLD(0)), 0);
}

Test(plic, claim_complete_level)
{
    wr(PRIO(10), 1);
    wr(ENABLE(1, 0), 1u << 10);
    src(10, 1);
    cr_assert_eq(rd(PENDING(0)), 1u << 10);
    cr_assert_eq(out[1], 1);
    cr_assert_eq(out[0], 0);    /* not enabled in the M context */
    cr_assert_eq(rd(CLAIM(1)), 10);
    cr_assert_eq(rd(PENDING(0)), 0);
    cr_assert_eq(out[1], 0);
    cr_assert_eq(rd(CLAIM(1)), 0);      /* in service: not claimable again */
    /* Still asserted at completion: pending again. */
    wr(CLAIM(1), 10);
    cr_assert_eq(out[1], 1);
    cr_assert_eq(rd(CLAIM(1)), 10);
    src(10, 0);
    wr(CLAIM(1), 10);
    cr_assert_eq(out[1], 0);
    cr_assert_eq(rd(PENDING(0)), 0);
    /* A pulse while in service is not lost if the level is still high at
     * completion, and a deasserted pending request stays pending. */
    src(10, 1);
    src(10, 0);
    cr_assert_eq(rd(PENDING(0)), 1u << 10);
    cr_assert_eq(rd(CLAIM(1)), 10);
    wr(CLAIM(1), 10);
    cr_assert_eq(out[1], 0);
}

Test(plic, priority_threshold_and_ties)
{
    wr(ENABLE(0, 0), 0xfffffffe);
    wr(ENABLE(0, 1), 0xffffffff);
    wr(PRIO(5), 2);
    wr(PRIO(3), 2);
    wr(PRIO(40), 6);
    src(5, 1);
    src(3, 1);
    src(40, 1);
    src(7, 1);                  /* priority 0: never interrupts */
    cr_assert_eq(rd(PENDING(0)), (1u << 3) | (1u << 5) | (1u << 7));
    cr_assert_eq(rd(PENDING(1)), 1u << 8);
    wr(THRESHOLD(0), 6);
    cr_assert_eq(out[0], 0);
    cr_assert_eq(rd(CLAIM(0)), 0);
    wr(THRESHOLD(0), 1);
    cr_assert_eq(out[0], 1);
    cr_assert_eq(rd(CLAIM(0)), 40);
    cr_assert_eq(rd(CLAIM(0)), 3);      /* tie: lowest id */
    cr_assert_eq(rd(CLAIM(0)), 5);
    cr_assert_eq(rd(CLAIM(0)), 0);
    cr_assert_eq(out[0], 0);
    /* Raising source 7's priority makes it claimable. */
    wr(PRIO(7), 1);             /* not above the threshold of 1 */
    cr_assert_eq(out[0], 0);
    wr(PRIO(7), 2);
    cr_assert_eq(out[0], 1);
    cr_assert_eq(rd(CLAIM(0)), 7);
}

Test(plic, complete_rules)
{
    wr(PRIO(2), 1);
    wr(ENABLE(0, 0), 1u << 2);
    src(2, 1);
    cr_assert_eq(rd(CLAIM(0)), 2);
    /* Completing from a context where the id is not enabled is ignored. */
    wr(CLAIM(1), 2);
    cr_assert_eq(rd(PENDING(0)), 0);
    /* Bogus ids are ignored. */
    wr(CLAIM(0), 0);
    wr(CLAIM(0), 96);
    wr(CLAIM(0), 0xffffffff);
    cr_assert_eq(rd(PENDING(0)), 0);
    wr(CLAIM(0), 2);
    cr_assert_eq(rd(PENDING(0)), 1u << 2);
    /* Completing a source that is not in service does nothing. */
    src(2, 0);
    cr_assert_eq(rd(CLAIM(0)), 2);
    wr(CLAIM(0), 2);
    wr(CLAIM(0), 2);
    cr_assert_eq(rd(PENDING(0)), 0);
}

Test(plic, both_contexts)
{
    wr(PRIO(1), 1);
    wr(ENABLE(0, 0), 2);
    wr(ENABLE(1, 0), 2);
    src(1, 1);
    cr_assert_eq(out[0], 1);
    cr_assert_eq(out[1], 1);
    cr_assert_eq(rd(CLAIM(1)), 1);      /* one context takes it */
    cr_assert_eq(out[0], 0);
    cr_assert_eq(out[1], 0);
    cr_assert_eq(rd(CLAIM(0)), 0);
}

Test(plic, hostile_accesses)
{
    uint64_t v;
    cr_assert_eq(as_read(&m->as, BASE, 8, &v), MEM_BAD_ACCESS);
    cr_assert_eq(as_read(&m->as, BASE, 1, &v), MEM_BAD_ACCESS);
    cr_assert_eq(as_write(&m->as, BASE + 2, 2, 0), MEM_BAD_ACCESS);
    cr_assert_eq(as_read(&m->as, BASE + RISCV_PLIC_VIRT_SIZE, 4, &v), MEM_UNMAPPED);
    /* Pending is read-only. */
    src(4, 0);
    wr(PENDING(0), 0xffffffff);
    cr_assert_eq(rd(PENDING(0)), 0);
    /* Contexts that do not exist, gaps and the top of the window. */
    uint64_t offs[] = { 0x1080, 0x1ffc, ENABLE(2, 0), ENABLE(15871, 31), 0x1ffffc,
                        THRESHOLD(2), CLAIM(2), 0x200008, 0x200ffc, 0x5ffffc,
                        RISCV_PLIC_VIRT_SIZE - 4 };
    for (size_t i = 0; i < G_N_ELEMENTS(offs); i++) {
        wr(offs[i], 0xffffffff);
        cr_assert_eq(rd(offs[i]), 0, "offset 0x%lx", (unsigned long)offs[i]);
    }
    /* Out-of-range inputs are harmless. */
    src(0, 1);
    src(96, 1);
    src(-1, 1);
    src(100000, 1);
    for (int w = 0; w < 4; w++)
        cr_assert_eq(rd(PENDING(w)), 0);
    /* A full sweep of reads never crashes (claims may change state). */
    for (uint64_t off = 0; off < 0x210000; off += 4)
        cr_assert_eq(as_read(&m->as, BASE + off, 4, &v), MEM_OK);
}

Test(plic, reset_keeps_asserted_wires_pending)
{
    wr(PRIO(9), 3);
    wr(ENABLE(0, 0), 1u << 9);
    src(9, 1);
    src(8, 1);
    src(8, 0);
    cr_assert_eq(rd(CLAIM(0)), 9);
    m->devices[0].ops->reset(m->devices[0].dev);
    cr_assert_eq(rd(PRIO(9)), 0);
    cr_assert_eq(rd(ENABLE(0, 0)), 0);
    cr_assert_eq(rd(PENDING(0)), 1u << 9);
    cr_assert_eq(out[0], 0);
}

Test(plic, bad_config)
{
    IrqLine l[1] = { irq_line(NULL, NULL, 0) };
    cr_assert_null(riscv_plic_create(m, 0x20000000, 0x201000, 96, 2, l));
    cr_assert_null(riscv_plic_create(m, 0x20000000, 0x600000, 2000, 1, l));
    cr_assert_not_null(m->error);
}
