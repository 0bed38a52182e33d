#include <criterion/criterion.h>

#include "vmm/memory.h"

static uint64_t last_off, last_val;
static unsigned last_size;
static uint64_t rd(void *o, uint64_t off, unsigned size) { last_off = off; last_size = size; return 0xabcd; }
static void wr(void *o, uint64_t off, uint64_t v, unsigned size) { last_off = off; last_val = v; last_size = size; }
static const MemOps ops = { .name = "dev", .read = rd, .write = wr, .min_access = 4, .max_access = 4 };

Test(memory, regions_sorted_and_overlap_refused)
{
    AddressSpace as;
    uint8_t ram[64];
    as_init(&as);
    cr_assert_eq(as_add_ram(&as, "ram", 0x1000, sizeof(ram), ram, false), 0);
    cr_assert_eq(as_add_mmio(&as, "dev", 0x100, 0x10, &ops, NULL), 0);
    cr_assert_lt(as_add_mmio(&as, "dev2", 0x1020, 0x10, &ops, NULL), 0);
    cr_assert_lt(as_add_ram(&as, "zero", 0x5000, 0, ram, false), 0);
    cr_assert_eq(as.regions[0].base, 0x100);
    cr_assert_null(as_find(&as, 0x110));
    cr_assert_not_null(as_find(&as, 0x103f));
}

Test(memory, ram_and_mmio_access)
{
    AddressSpace as;
    uint8_t ram[64] = { 0 };
    uint8_t rom[16] = { 1, 2, 3, 4 };
    as_init(&as);
    as_add_ram(&as, "ram", 0x1000, sizeof(ram), ram, false);
    as_add_ram(&as, "rom", 0x2000, sizeof(rom), rom, true);
    as_add_mmio(&as, "dev", 0x100, 0x10, &ops, NULL);
    uint64_t v;
    cr_assert_eq(as_write(&as, 0x1004, 4, 0x11223344), MEM_OK);
    cr_assert_eq(as_read(&as, 0x1004, 2, &v), MEM_OK);
    cr_assert_eq(v, 0x3344);
    cr_assert_eq(as_read(&as, 0x2000, 4, &v), MEM_OK);
    cr_assert_eq(v, 0x04030201);
    cr_assert_eq(as_write(&as, 0x2000, 1, 9), MEM_READONLY);
    cr_assert_eq(as_read(&as, 0x108, 4, &v), MEM_OK);
    cr_assert_eq(v, 0xabcd);
    cr_assert_eq(last_off, 8);
    cr_assert_eq(as_read(&as, 0x108, 8, &v), MEM_BAD_ACCESS);
    cr_assert_eq(as_read(&as, 0x102, 4, &v), MEM_BAD_ACCESS);
    cr_assert_eq(as_read(&as, 0x103e, 4, &v), MEM_UNMAPPED);   /* runs off RAM end */
    cr_assert_eq(as_read(&as, 0x9000, 4, &v), MEM_UNMAPPED);
    cr_assert_eq(as.mmio_accesses, 1);
}

Test(memory, bulk_copies_span_regions)
{
    AddressSpace as;
    uint8_t a[16], b[16];
    as_init(&as);
    as_add_ram(&as, "a", 0x0, 16, a, false);
    as_add_ram(&as, "b", 0x10, 16, b, false);
    uint8_t src[24];
    for (int i = 0; i < 24; i++)
        src[i] = (uint8_t)i;
    cr_assert_eq(as_copy_to(&as, 4, src, 24), MEM_OK);
    cr_assert_eq(b[0], 12);
    uint8_t dst[24];
    cr_assert_eq(as_copy_from(&as, 4, dst, 24), MEM_OK);
    cr_assert_arr_eq(dst, src, 24);
    cr_assert_eq(as_copy_to(&as, 20, src, 24), MEM_UNMAPPED);
    cr_assert_null(as_host_ptr(&as, 12, 8));
    cr_assert_eq(as_host_ptr(&as, 0x10, 16), b);
}
