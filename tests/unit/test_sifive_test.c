#include <criterion/criterion.h>
#include <glib.h>

#include "devices/sifive_test.h"
#include "vmm/machine.h"

#define BASE 0x100000ull

static uint64_t icount;
static Machine *m;

static void setup(void)
{
    m = g_new0(Machine, 1);
    as_init(&m->as);
    icount = 0;
    m->icount = &icount;
    vclock_init(&m->clock, &icount, 0);
    cr_assert_not_null(sifive_test_create(m, BASE));
}

static void teardown(void)
{
    for (int i = m->ndevices - 1; i >= 0; i--)
        m->devices[i].ops->destroy(m->devices[i].dev);
    g_free(m->devices);
    g_free(m->error);
    g_free(m);
}

TestSuite(sifive_test, .init = setup, .fini = teardown);

Test(sifive_test, pass)
{
    cr_assert_eq(as_write(&m->as, BASE, 4, 0x5555), MEM_OK);
    cr_assert(m->shutdown_requested);
    cr_assert_eq(m->exit_status, 0);
    cr_assert(!m->reset_requested);
}

Test(sifive_test, fail_with_code)
{
    cr_assert_eq(as_write(&m->as, BASE, 4, (42u << 16) | 0x3333), MEM_OK);
    cr_assert(m->shutdown_requested);
    cr_assert_eq(m->exit_status, 42);
}

Test(sifive_test, pass_ignores_the_high_half)
{
    cr_assert_eq(as_write(&m->as, BASE, 4, (7u << 16) | 0x5555), MEM_OK);
    cr_assert(m->shutdown_requested);
    cr_assert_eq(m->exit_status, 0);
}

Test(sifive_test, reset)
{
    cr_assert_eq(as_write(&m->as, BASE, 4, 0x7777), MEM_OK);
    cr_assert(m->reset_requested);
    cr_assert(!m->shutdown_requested);
}

Test(sifive_test, other_values_and_offsets_ignored)
{
    uint64_t v = 1;
    uint32_t vals[] = { 0, 0x1234, 0x5556, 0x33330000, 0xffffffff, 0x4444 };
    for (size_t i = 0; i < G_N_ELEMENTS(vals); i++)
        cr_assert_eq(as_write(&m->as, BASE, 4, vals[i]), MEM_OK);
    for (uint64_t off = 4; off < 0x1000; off += 4)
        cr_assert_eq(as_write(&m->as, BASE + off, 4, 0x5555), MEM_OK);
    cr_assert(!m->shutdown_requested);
    cr_assert(!m->reset_requested);
    for (uint64_t off = 0; off < 0x1000; off += 4) {
        cr_assert_eq(as_read(&m->as, BASE + off, 4, &v), MEM_OK);
        cr_assert_eq(v, 0);
    }
}

Test(sifive_test, bad_sizes)
{
    uint64_t v;
    cr_assert_eq(as_write(&m->as, BASE, 1, 0x55), MEM_BAD_ACCESS);
    cr_assert_eq(as_write(&m->as, BASE, 8, 0x5555), MEM_BAD_ACCESS);
    cr_assert_eq(as_write(&m->as, BASE + 2, 2, 0x5555), MEM_OK);   /* upper half: no code */
    cr_assert_eq(as_read(&m->as, BASE + 2, 4, &v), MEM_BAD_ACCESS);
    cr_assert_eq(as_read(&m->as, BASE + 0x1000, 4, &v), MEM_UNMAPPED);
    cr_assert(!m->shutdown_requested);
}

Test(sifive_test, halfword_pass_as_opensbi_writes_it)
{
    cr_assert_eq(as_write(&m->as, BASE, 2, 0x5555), MEM_OK);
    cr_assert(m->shutdown_requested);
    cr_assert_eq(m->exit_status, 0);
}

Test(sifive_test, overlap_fails_cleanly)
{
    cr_assert_null(sifive_test_create(m, BASE + 0x800));
    cr_assert_not_null(m->error);
}
