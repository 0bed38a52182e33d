/* x86 guest memory accesses (targets/x86/mem.c): segmentation checks in
 * real, protected and 64-bit mode, alignment checks, the software TLB's
 * flush rules, page-crossing accesses, MMIO and port I/O. */
#include "targets/x86/mem.h"
#include "x86_fixture.h"

#define RAM_SIZE (16u << 20)
#define ROM_BASE 0xfff00000ull
#define DEV_BASE 0xfec00000ull

#define P  0x001ull
#define W  0x002ull
#define U  0x004ull
#define PS 0x080ull
#define G  0x100ull

static uint8_t rom[0x10000];

/* A 4-byte-max device that logs its accesses. */
typedef struct DevLog {
    unsigned n;
    uint64_t off[8], val[8];
    unsigned size[8];
    bool write[8];
    uint64_t icount, rip;
} DevLog;
static DevLog dev;

static void dev_note(uint64_t off, uint64_t val, unsigned size, bool write)
{
    if (dev.n < 8) {
        dev.off[dev.n] = off;
        dev.val[dev.n] = val;
        dev.size[dev.n] = size;
        dev.write[dev.n] = write;
    }
    dev.n++;
    dev.icount = cpu->icount;
    dev.rip = cpu->rip;
}

static uint64_t dev_read(void *o, uint64_t off, unsigned size)
{
    uint64_t v = 0x11223344u + off;
    dev_note(off, v, size, false);
    return v;
}

static void dev_write(void *o, uint64_t off, uint64_t val, unsigned size)
{
    dev_note(off, val, size, true);
}

static const MemOps dev_ops = {
    .name = "dev", .read = dev_read, .write = dev_write, .min_access = 1, .max_access = 4,
};

static void setup(void)
{
    memset(&dev, 0, sizeof(dev));
    x86f_machine(RAM_SIZE >> 20);
    memset(rom, 0x5a, sizeof(rom));
    cr_assert_eq(as_add_ram(&mach.as, "rom", ROM_BASE, sizeof(rom), rom, true), 0);
    cr_assert_eq(as_add_mmio(&mach.as, "dev", DEV_BASE, 0x1000, &dev_ops, NULL), 0);
    cr_assert_eq(as_add_mmio(&mach.io, "port", 0x60, 4, &dev_ops, NULL), 0);
    x86f_cpu();
    cr_assert_eq(cpu->as, &mach.as);
    cr_assert_eq(cpu->io, &mach.io);
    x86_tlb_flush(cpu, false);
    cpu->pending_vec = -1;
    cpu->pending_err = -1;
}

TestSuite(x86_mem, .init = setup, .fini = x86f_teardown);

/* ---- helpers ---- */

static void prot_mode(unsigned cpl)
{
    cpu->cr0 = X86_CR0_PE | X86_CR0_ET;
    cpu->hflags = X86_HF_PE | X86_HF_CS32 | X86_HF_SS32 | cpl;
    for (int s = 0; s < X86_NSEG; s++)
        set_seg(s, 0, 0xffffffff, s == X86_CS ? 0xb : 0x3, true);
    x86_tlb_flush(cpu, false);
}

/* 32-bit paging: directory at 0x1000, one table at 0x2000 for 0..4 MiB. */
static void paging32(bool pge)
{
    prot_mode(0);
    memset(ram + 0x1000, 0, 0x2000);
    uint32_t pde = 0x2000 | P | W | U;
    memcpy(ram + 0x1000, &pde, 4);
    cpu->cr3 = 0x1000;
    cpu->cr4 = X86_CR4_PSE | (pge ? X86_CR4_PGE : 0);
    cpu->cr0 |= X86_CR0_PG;
    x86_tlb_flush(cpu, false);
}

static void map4k(uint32_t lin, uint32_t pte)
{
    memcpy(ram + 0x2000 + ((lin >> 12) & 0x3ff) * 4, &pte, 4);
}

/* 64-bit mode; the first GiB identity-mapped by a 1 GiB page. */
static void long_mode(void)
{
    prot_mode(0);
    uint64_t e = 0x4000 | P | W | U;
    memset(ram + 0x3000, 0, 0x2000);
    memcpy(ram + 0x3000, &e, 8);
    e = 0 | P | W | U | PS;
    memcpy(ram + 0x4000, &e, 8);
    cpu->cr3 = 0x3000;
    cpu->cr4 = X86_CR4_PAE;
    cpu->efer = X86_EFER_LME | X86_EFER_LMA;
    cpu->cr0 |= X86_CR0_PG;
    cpu->hflags = X86_HF_PE | X86_HF_LMA | X86_HF_CS64 | X86_HF_SS32;
    x86_tlb_flush(cpu, false);
}

static void ok(bool r)
{
    cr_assert(r, "unexpected fault: vector %d error %#x", cpu->pending_vec,
              cpu->pending_err);
    cr_assert_eq(cpu->pending_vec, -1);
}

static void faults(bool r, int vec, int err)
{
    cr_assert_not(r, "no fault, wanted vector %d", vec);
    cr_assert_eq(cpu->pending_vec, vec, "vector %d, wanted %d", cpu->pending_vec, vec);
    cr_assert_eq(cpu->pending_err, err, "error %#x, wanted %#x", cpu->pending_err, err);
    cpu->pending_vec = -1;
    cpu->pending_err = -1;
}

static uint64_t ld(int seg, uint64_t off, unsigned size)
{
    uint64_t v = 0;
    ok(x86_ld(cpu, NULL, seg, off, size, &v));
    return v;
}

static bool ldf(int seg, uint64_t off, unsigned size)
{
    uint64_t v;
    return x86_ld(cpu, NULL, seg, off, size, &v);
}

static bool stf(int seg, uint64_t off, unsigned size, uint64_t v)
{
    return x86_st(cpu, NULL, seg, off, size, v);
}

/* ---- segmentation ---- */

Test(x86_mem, real_mode_base_and_limit)
{
    real_mode();
    cpu->seg[X86_DS].base = 0x1000;
    ok(stf(X86_DS, 0x10, 4, 0xdeadbeef));
    cr_assert_eq(rd32(0x1010), 0xdeadbeef);
    cr_assert_eq(ld(X86_DS, 0x10, 2), 0xbeef);
    /* Real mode checks the cached limit (0xffff): a word at 0xffff faults. */
    cr_assert_eq(ld(X86_DS, 0xffff, 1), 0);
    faults(ldf(X86_DS, 0xffff, 2), X86_EXC_GP, 0);
    faults(stf(X86_SS, 0xfffe, 4, 0), X86_EXC_SS, 0);
    /* Code segments are writable in real mode. */
    ok(stf(X86_CS, 0x20, 1, 0x77));
    cr_assert_eq(ram[0x20], 0x77);
    /* Big real mode: a 4 GiB cached limit. */
    cpu->seg[X86_ES].limit = 0xffffffff;
    ok(stf(X86_ES, 0x123456, 4, 0x01020304));
    cr_assert_eq(rd32(0x123456), 0x01020304);
}

Test(x86_mem, protected_mode_types)
{
    prot_mode(0);
    set_seg(X86_DS, 0x100000, 0xfffff, 0x1, true);           /* read-only data */
    ram[0x100010] = 0x42;
    cr_assert_eq(ld(X86_DS, 0x10, 1), 0x42);
    faults(stf(X86_DS, 0x10, 1, 0), X86_EXC_GP, 0);
    set_seg(X86_ES, 0, 0xfffff, 0x8, true);                  /* execute-only code */
    faults(ldf(X86_ES, 0x10, 1), X86_EXC_GP, 0);
    faults(stf(X86_ES, 0x10, 1, 0), X86_EXC_GP, 0);
    set_seg(X86_ES, 0, 0xfffff, 0xa, true);                  /* readable code */
    ok(ldf(X86_ES, 0x10, 1));
    faults(stf(X86_ES, 0x10, 1, 0), X86_EXC_GP, 0);
    /* Null (unusable) segments. */
    cpu->seg[X86_FS].unusable = 1;
    faults(ldf(X86_FS, 0, 1), X86_EXC_GP, 0);
    cpu->seg[X86_SS].unusable = 1;
    faults(ldf(X86_SS, 0, 1), X86_EXC_SS, 0);
    /* Probes check the segment too. */
    faults(x86_probe(cpu, NULL, X86_DS, 0, 8, X86_ACC_WRITE), X86_EXC_GP, 0);
    ok(x86_probe(cpu, NULL, X86_DS, 0, 8, X86_ACC_READ));
}

Test(x86_mem, protected_mode_limits)
{
    prot_mode(0);
    set_seg(X86_DS, 0x100000, 0xfff, 0x3, true);
    ok(stf(X86_DS, 0xffc, 4, 0x12345678));
    cr_assert_eq(rd32(0x100ffc), 0x12345678);
    faults(ldf(X86_DS, 0xffd, 4), X86_EXC_GP, 0);
    faults(ldf(X86_DS, 0x1000, 1), X86_EXC_GP, 0);
    uint8_t buf[16];
    faults(x86_ld_buf(cpu, NULL, X86_DS, 0xff8, buf, 10), X86_EXC_GP, 0);
    /* Expand-down, 32-bit: offsets limit+1 .. 0xffffffff. */
    set_seg(X86_ES, 0, 0xfff, 0x7, true);
    ok(ldf(X86_ES, 0x1000, 4));
    ok(ldf(X86_ES, 0x00fffffc, 4));
    faults(ldf(X86_ES, 0xfff, 1), X86_EXC_GP, 0);
    faults(ldf(X86_ES, 0xffe, 4), X86_EXC_GP, 0);
    faults(ldf(X86_ES, 0xfffffffd, 4), X86_EXC_GP, 0);
    /* Expand-down, 16-bit: upper bound 0xffff. */
    set_seg(X86_ES, 0, 0xfff, 0x7, false);
    ok(ldf(X86_ES, 0xfffe, 2));
    faults(ldf(X86_ES, 0xffff, 2), X86_EXC_GP, 0);
    /* Stack faults are #SS. */
    set_seg(X86_SS, 0x200000, 0xfff, 0x7, true);
    ok(stf(X86_SS, 0x2000, 4, 0xcafe));
    cr_assert_eq(rd32(0x202000), 0xcafe);
    faults(stf(X86_SS, 0x800, 4, 0), X86_EXC_SS, 0);
    /* Linear addresses wrap at 4 GiB. */
    set_seg(X86_GS, 0xfffff000, 0xffffffff, 0x3, true);
    ok(stf(X86_GS, 0x1010, 4, 0xabcd));
    cr_assert_eq(rd32(0x10), 0xabcd);
}

Test(x86_mem, long_mode_canonical_and_bases)
{
    long_mode();
    ram[0x5010] = 0x99;
    ram[0x10] = 0x11;
    cpu->seg[X86_DS].base = 0x5000;     /* ignored in 64-bit mode */
    cpu->seg[X86_DS].limit = 0;         /* so are limits */
    cpu->seg[X86_DS].type = 0x1;        /* and types */
    cr_assert_eq(ld(X86_DS, 0x10, 1), 0x11);
    ok(stf(X86_DS, 0x20, 1, 0x22));
    cpu->seg[X86_FS].base = 0x5000;
    cr_assert_eq(ld(X86_FS, 0x10, 1), 0x99);
    faults(ldf(X86_DS, 0x0000800000000000ull, 1), X86_EXC_GP, 0);
    faults(ldf(X86_DS, 0x00007ffffffffffeull, 4), X86_EXC_GP, 0);
    faults(stf(X86_SS, 0xffff7fffffffffffull, 8, 0), X86_EXC_SS, 0);
    cpu->seg[X86_GS].base = 0x00007ffffffff000ull;
    faults(ldf(X86_GS, 0x1000, 1), X86_EXC_GP, 0);
    /* Unusable segments are fine in 64-bit mode. */
    cpu->seg[X86_ES].unusable = 1;
    ok(ldf(X86_ES, 0x10, 1));
    /* System-table accesses check canonical form too. */
    uint64_t v;
    faults(x86_ld_lin(cpu, NULL, 0x8000000000000000ull, 8, &v), X86_EXC_GP, 0);
    ok(x86_ld_lin(cpu, NULL, 0x5010, 1, &v));
    cr_assert_eq(v, 0x99);
}

Test(x86_mem, alignment_check)
{
    prot_mode(3);
    cpu->cr0 |= X86_CR0_AM;
    cpu->eflags = 0x2 | X86_AC;
    faults(ldf(X86_DS, 0x1001, 4), X86_EXC_AC, 0);
    faults(stf(X86_DS, 0x1002, 8, 0), X86_EXC_AC, 0);
    ok(ldf(X86_DS, 0x1004, 4));
    ok(ldf(X86_DS, 0x1001, 1));
    uint8_t buf[16];
    faults(x86_ld_buf(cpu, NULL, X86_DS, 0x1004, buf, 10), X86_EXC_AC, 0);
    ok(x86_ld_buf(cpu, NULL, X86_DS, 0x1008, buf, 10));
    ok(x86_ld_buf(cpu, NULL, X86_DS, 0x1001, buf, 16));
    /* Implicit supervisor accesses are never checked. */
    uint64_t v;
    ok(x86_ld_lin(cpu, NULL, 0x1001, 4, &v));
    /* Segment checks come first. */
    cpu->seg[X86_DS].limit = 0xfff;
    faults(ldf(X86_DS, 0x1001, 4), X86_EXC_GP, 0);
    cpu->seg[X86_DS].limit = 0xffffffff;
    /* Any of CPL < 3, AC = 0, AM = 0 turns it off. */
    cpu->hflags &= ~X86_HF_CPL;
    ok(ldf(X86_DS, 0x1001, 4));
    cpu->hflags |= 3;
    cpu->eflags = 0x2;
    ok(ldf(X86_DS, 0x1001, 4));
    cpu->eflags = 0x2 | X86_AC;
    cpu->cr0 &= ~X86_CR0_AM;
    ok(ldf(X86_DS, 0x1001, 4));
}

/* ---- TLB ---- */

Test(x86_mem, tlb_flush_keeps_global_pages)
{
    paging32(true);
    map4k(0x1000, 0x10000 | P | W | G);
    map4k(0x5000, 0x11000 | P | W);
    ram[0x10000] = 0xaa;
    ram[0x11000] = 0xbb;
    ram[0x12000] = 0xcc;
    ram[0x13000] = 0xdd;
    cr_assert_eq(ld(X86_DS, 0x1000, 1), 0xaa);
    cr_assert_eq(ld(X86_DS, 0x5000, 1), 0xbb);
    map4k(0x1000, 0x12000 | P | W | G);
    map4k(0x5000, 0x13000 | P | W);
    /* Stale until flushed, as on hardware. */
    cr_assert_eq(ld(X86_DS, 0x1000, 1), 0xaa);
    cr_assert_eq(ld(X86_DS, 0x5000, 1), 0xbb);
    x86_tlb_flush(cpu, true);                    /* CR3 write */
    cr_assert_eq(ld(X86_DS, 0x1000, 1), 0xaa);
    cr_assert_eq(ld(X86_DS, 0x5000, 1), 0xdd);
    x86_tlb_flush_page(cpu, 0x1234);             /* INVLPG */
    cr_assert_eq(ld(X86_DS, 0x1000, 1), 0xcc);
    map4k(0x1000, 0x10000 | P | W | G);
    x86_tlb_flush(cpu, false);
    cr_assert_eq(ld(X86_DS, 0x1000, 1), 0xaa);
}

Test(x86_mem, tlb_global_needs_pge)
{
    paging32(false);
    map4k(0x1000, 0x10000 | P | W | G);
    ram[0x10000] = 0xaa;
    ram[0x12000] = 0xcc;
    cr_assert_eq(ld(X86_DS, 0x1000, 1), 0xaa);
    map4k(0x1000, 0x12000 | P | W | G);
    x86_tlb_flush(cpu, true);
    cr_assert_eq(ld(X86_DS, 0x1000, 1), 0xcc);
}

Test(x86_mem, tlb_many_fills_then_cr3_flush)
{
    paging32(true);
    for (uint32_t i = 0; i < 100; i++) {
        map4k(0x100000 + i * 0x1000, (0x200000 + i * 0x1000) | P | W | (i == 7 ? G : 0));
        ram[0x200000 + i * 0x1000] = (uint8_t)i;
        cr_assert_eq(ld(X86_DS, 0x100000 + i * 0x1000, 1), i);
    }
    for (uint32_t i = 0; i < 100; i++)
        map4k(0x100000 + i * 0x1000, 0x300000 | P | W);
    ram[0x300000] = 0xee;
    x86_tlb_flush(cpu, true);
    for (uint32_t i = 0; i < 100; i++)
        cr_assert_eq(ld(X86_DS, 0x100000 + i * 0x1000, 1), i == 7 ? 7 : 0xee);
}

Test(x86_mem, invlpg_drops_whole_large_page)
{
    paging32(true);
    uint32_t pde = 0x400000 | P | W | PS | G;
    memcpy(ram + 0x1004, &pde, 4);
    ram[0x400000] = 1;
    ram[0x401000] = 2;
    ram[0x800000] = 3;
    ram[0x801000] = 4;
    cr_assert_eq(ld(X86_DS, 0x400000, 1), 1);
    cr_assert_eq(ld(X86_DS, 0x401000, 1), 2);
    pde = 0x800000 | P | W | PS | G;
    memcpy(ram + 0x1004, &pde, 4);
    x86_tlb_flush(cpu, true);                    /* global: kept */
    cr_assert_eq(ld(X86_DS, 0x401000, 1), 2);
    x86_tlb_flush_page(cpu, 0x400000);
    cr_assert_eq(ld(X86_DS, 0x401000, 1), 4);
    cr_assert_eq(ld(X86_DS, 0x400000, 1), 3);
}

Test(x86_mem, writes_set_dirty_before_caching)
{
    paging32(false);
    map4k(0x1000, 0x10000 | P | W);
    cr_assert_eq(ld(X86_DS, 0x1000, 4), 0);
    ok(stf(X86_DS, 0x1000, 4, 0x12345678));
    cr_assert_eq(rd32(0x10000), 0x12345678);
    cr_assert_eq(rd32(0x2004), 0x10000 | P | W | 0x20 | 0x40);
    /* Read-only page: a supervisor write passes only without CR0.WP. */
    map4k(0x3000, 0x13000 | P);
    ok(stf(X86_DS, 0x3000, 1, 1));
    cpu->cr0 |= X86_CR0_WP;
    x86_tlb_flush(cpu, false);
    faults(stf(X86_DS, 0x3000, 1, 2), X86_EXC_PF, X86_PFERR_P | X86_PFERR_W);
    cr_assert_eq(cpu->cr2, 0x3000);
    cr_assert_eq(ram[0x13000], 1);
    /* A user access to a supervisor page. */
    cpu->hflags |= 3;
    faults(ldf(X86_DS, 0x3000, 1), X86_EXC_PF, X86_PFERR_P | X86_PFERR_U);
}

/* ---- page-crossing accesses ---- */

Test(x86_mem, cross_page_fault_leaves_memory_untouched)
{
    paging32(false);
    map4k(0x1000, 0x10000 | P | W);
    memset(ram + 0x10ff0, 0x33, 16);
    faults(stf(X86_DS, 0x1ffe, 4, 0xaabbccdd), X86_EXC_PF, X86_PFERR_W);
    cr_assert_eq(cpu->cr2, 0x2000);
    cr_assert_eq(ram[0x10ffe], 0x33);
    cr_assert_eq(ram[0x10fff], 0x33);
    uint8_t buf[16];
    memset(buf, 0x44, sizeof(buf));
    faults(x86_st_buf(cpu, NULL, X86_DS, 0x1ff8, buf, 16), X86_EXC_PF, X86_PFERR_W);
    cr_assert_eq(ram[0x10ff8], 0x33);
    faults(x86_probe(cpu, NULL, X86_DS, 0x1f00, 0x200, X86_ACC_READ), X86_EXC_PF, 0);
    cr_assert_eq(cpu->cr2, 0x2000);
    /* The second page read-only: the write still fails as a whole. */
    map4k(0x2000, 0x20000 | P);
    cpu->cr0 |= X86_CR0_WP;
    faults(stf(X86_DS, 0x1ffe, 4, 0xaabbccdd), X86_EXC_PF, X86_PFERR_P | X86_PFERR_W);
    cr_assert_eq(ram[0x10fff], 0x33);
    /* Mapped: split between two distant physical pages. */
    map4k(0x2000, 0x30000 | P | W);
    ok(stf(X86_DS, 0x1ffe, 4, 0xaabbccdd));
    cr_assert_eq(ram[0x10ffe], 0xdd);
    cr_assert_eq(ram[0x10fff], 0xcc);
    cr_assert_eq(ram[0x30000], 0xbb);
    cr_assert_eq(ram[0x30001], 0xaa);
    cr_assert_eq(ld(X86_DS, 0x1fff, 8), 0xaabbccull);
    ok(x86_st_buf(cpu, NULL, X86_DS, 0x1ff8, buf, 16));
    cr_assert_eq(ram[0x10ff8], 0x44);
    cr_assert_eq(ram[0x30007], 0x44);
    uint8_t back[16];
    ok(x86_ld_buf(cpu, NULL, X86_DS, 0x1ff8, back, 16));
    cr_assert_arr_eq(back, buf, 16);
}

/* ---- MMIO, ROM, unmapped, port I/O ---- */

Test(x86_mem, mmio_dispatch)
{
    prot_mode(0);
    cr_assert_eq(ld(X86_DS, DEV_BASE + 0x10, 4), 0x11223354);
    cr_assert_eq(dev.n, 1);
    cr_assert_eq(dev.off[0], 0x10);
    cr_assert_eq(dev.size[0], 4);
    /* Wider than the device takes: split into two naturally sized halves. */
    dev.n = 0;
    cr_assert_eq(ld(X86_DS, DEV_BASE + 0x20, 8), 0x1122336811223364ull);
    cr_assert_eq(dev.n, 2);
    cr_assert_eq(dev.off[1], 0x24);
    dev.n = 0;
    ok(stf(X86_DS, DEV_BASE + 0x8, 2, 0xbeef));
    cr_assert_eq(dev.n, 1);
    cr_assert(dev.write[0]);
    cr_assert_eq(dev.val[0], 0xbeef);
    cr_assert_eq(dev.size[0], 2);
    cr_assert_eq(mach.as.mmio_accesses, 4);
    /* The device sees the accessing instruction's position. */
    XInsn in[4];
    memset(in, 0, sizeof(in));
    in[0].pc = 0x1234;
    in[0].rem = 2;
    cpu->icount = 100;
    uint64_t want = x86_icount_at(cpu, &in[0]);
    uint64_t v;
    ok(x86_ld(cpu, &in[0], X86_DS, DEV_BASE, 4, &v));
    cr_assert_eq(dev.icount, want);
    cr_assert_eq(dev.rip, 0x1234);
    cr_assert_eq(cpu->icount, 100);
}

Test(x86_mem, unmapped_and_rom)
{
    prot_mode(0);
    cr_assert_eq(ld(X86_DS, 0xd0000000, 4), 0xffffffff);
    cr_assert_eq(ld(X86_DS, 0xd0000000, 8), ~0ull);
    ok(stf(X86_DS, 0xd0000000, 4, 0));
    /* ROM: readable, writes dropped without a fault. */
    cr_assert_eq(ld(X86_DS, ROM_BASE + 0x100, 4), 0x5a5a5a5a);
    ok(stf(X86_DS, ROM_BASE + 0x100, 4, 0));
    ok(stf(X86_DS, ROM_BASE + 0x100, 4, 0));
    cr_assert_eq(rom[0x100], 0x5a);
    uint8_t buf[4] = { 0 };
    ok(x86_st_buf(cpu, NULL, X86_DS, ROM_BASE, buf, 4));
    cr_assert_eq(rom[0], 0x5a);
    /* RAM's end running into unmapped space. */
    ram[RAM_SIZE - 1] = 0x12;
    cr_assert_eq(ld(X86_DS, RAM_SIZE - 1, 2), 0xff12);
}

Test(x86_mem, port_io)
{
    prot_mode(0);
    cr_assert_eq(x86_io_read(cpu, NULL, 0x80, 1), 0xff);
    cr_assert_eq(x86_io_read(cpu, NULL, 0x80, 2), 0xffff);
    cr_assert_eq(x86_io_read(cpu, NULL, 0x80, 4), 0xffffffff);
    x86_io_write(cpu, NULL, 0x80, 1, 0);
    cr_assert_eq(dev.n, 0);
    cr_assert_eq(mach.io.mmio_accesses, 0);
    cr_assert_eq(x86_io_read(cpu, NULL, 0x61, 1), (0x11223344u + 1) & 0xff);
    x86_io_write(cpu, NULL, 0x60, 2, 0x1234);
    cr_assert_eq(dev.n, 2);
    cr_assert_eq(dev.val[1], 0x1234);
    cr_assert_eq(dev.size[1], 2);
    cr_assert_eq(mach.io.mmio_accesses, 2);
    /* Half in the device, half unassigned. */
    dev.n = 0;
    cr_assert_eq(x86_io_read(cpu, NULL, 0x63, 2), 0xff00 | ((0x11223344u + 3) & 0xff));
    cr_assert_eq(dev.n, 1);
}

/* ---- stores into translated code ---- */

Test(x86_mem, store_into_code_takes_slow_path)
{
    x86_cpu_reset(cpu);
    x86_seg_load_real(cpu, X86_CS, 0);
    x86_seg_load_real(cpu, X86_DS, 0);
    cpu->rip = 0x1000;
    static const uint8_t code[] = {
        0xc6, 0x06, 0x08, 0x10, 0xf4,   /* mov byte [0x1008], 0xf4 (HLT) */
        0x90, 0x90, 0x90,               /* nop x3 */
        0x40,                           /* inc ax: overwritten */
        0xf4,                           /* hlt */
    };
    memcpy(ram + 0x1000, code, sizeof(code));
    cpu->regs[X86_RAX] = 0;
    x86_cpu_ops.run(cpu, 100);
    cr_assert_eq(cpu->regs[X86_RAX], 0, "the stale INC ran");
    cr_assert(cpu->halted);
    cr_assert_eq(cpu->rip, 0x1009);
    cr_assert_eq(ram[0x1008], 0xf4);
    /* The page holds code now: a later store must not get a write entry. */
    ok(stf(X86_DS, 0x1009, 1, 0x90));
    X86TlbEntry *t = x86_tlb_entry(cpu, false, X86_ACC_WRITE, 0x1009);
    cr_assert_neq(t->tag, 0x1000);
}
