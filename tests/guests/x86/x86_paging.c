/* x86_paging (pm32: 32-bit paging with 4 MiB PSE pages, then PAE paging;
 * lm64: 4-level paging with 2 MiB and 1 GiB pages).  The guest builds its
 * own tables: 0..32 MiB identity-mapped with large user/writable pages, the
 * 4 KiB test pages at V_PT (frames at P_AREA), a large page at V_BIG
 * (P_BIG; another CR3 maps it to P_BIG2), in lm64 a 1 GiB page at V_HUGE
 * (physical 0).  Checked in each paging mode: translation, page faults
 * with exact error codes (P, W, U, RSVD, I) and CR2, A and D bits set by
 * accesses (leaf and upper levels, large pages), CR0.WP for supervisor
 * writes, NX with EFER.NXE (and the NX bit as a reserved bit without it),
 * INVLPG and CR3 reloads making changed entries visible, user-mode (CPL 3)
 * accesses to supervisor, read-only and not-present pages.  Stale TLB
 * contents before an INVLPG are implementation-specific and not looked at. */
#include "rt.h"

RT_TEST_NAME("x86_paging");

#define PG_P 0x1ull
#define PG_RW 0x2ull
#define PG_US 0x4ull
#define PG_A 0x20ull
#define PG_D 0x40ull
#define PG_PS 0x80ull
#define PG_NX (1ull << 63)
#define PG_RSVD45 (1ull << 45)
#define PF_P 0x1
#define PF_W 0x2
#define PF_U 0x4
#define PF_RSVD 0x8
#define PF_I 0x10
#define URW (PG_P | PG_RW | PG_US)

#define V_PT 0x40000000ul
#define V_BIG 0x40400000ul
#define V_HUGE 0x8000000000ull
#define P_AREA 0x00800000u
#define P_BIG 0x01000000u
#define P_BIG2 0x01400000u
#define PAGE(i) (V_PT + (ureg)(i) * 4096)
#define FRAME(i) (P_AREA + (u32)(i) * 4096)

enum { M_LEGACY, M_PAE, M_LM };
static int pmode;
static const char *const mode_name[] = { "32-bit paging (PSE)", "PAE paging", "4-level paging" };

#define AL4K __attribute__((aligned(4096)))
static u64 pd0[512] AL4K, pd1[512] AL4K, pd1b[512] AL4K, pt[512] AL4K;
#ifdef RT_LM64
static u64 pml4[512] AL4K, pml4b[512] AL4K, pdpt0[512] AL4K, pdpt0b[512] AL4K, pdpt1[512] AL4K;
#else
static u32 pd32[1024] AL4K, pd32b[1024] AL4K, pt32[1024] AL4K;
static u64 pdpt[4] __attribute__((aligned(32))), pdptb[4] __attribute__((aligned(32)));
#endif
static ureg cr3_main, cr3_alt;

static u32 val(u32 phys) { return (phys * 2654435761u) ^ 0x5a5a5a5au; }
static void poke(u32 phys) { *(volatile u32 *)(uintptr_t)phys = val(phys); }
/* Accesses through the test mappings are ordered with the page-table
 * reads and writes around them (which the compiler does not see as
 * volatile): a compiler barrier on both sides. */
#define BARRIER() __asm__ volatile("" ::: "memory")
static u32 rd(ureg v) { BARRIER(); u32 x = *(volatile u32 *)v; BARRIER(); return x; }
static void wr(ureg v, u32 x) { BARRIER(); *(volatile u32 *)v = x; BARRIER(); }
static void invlpg(ureg v) { __asm__ volatile("invlpg (%0)" :: "r"(v) : "memory"); }
static void reload_cr3(void) { write_cr(3, read_cr(3)); }
static u64 tbl(u64 *p) { return (u64)(uintptr_t)p; }

/* ---- entries of the current mode */
static u64 get_pte(unsigned i)
{
#ifndef RT_LM64
    if (pmode == M_LEGACY)
        return ((volatile u32 *)pt32)[i];
#endif
    return ((volatile u64 *)pt)[i];
}
static void set_pte(unsigned i, u64 v)
{
#ifndef RT_LM64
    if (pmode == M_LEGACY) {
        pt32[i] = (u32)v;
        return;
    }
#endif
    pt[i] = v;
}
/* The directory entry for V_PT (-> the page table) and the big page. */
static u64 get_pde(ureg v)
{
#ifndef RT_LM64
    if (pmode == M_LEGACY)
        return ((volatile u32 *)pd32)[v >> 22];
#endif
    return ((volatile u64 *)pd1)[(v >> 21) & 511];
}
static void set_pde(ureg v, u64 e)
{
#ifndef RT_LM64
    if (pmode == M_LEGACY) {
        pd32[v >> 22] = (u32)e;
        return;
    }
#endif
    pd1[(v >> 21) & 511] = e;
}
static u64 pt_addr(void)
{
#ifndef RT_LM64
    if (pmode == M_LEGACY)
        return (u64)(uintptr_t)pt32;
#endif
    return tbl(pt);
}
static u32 big_size(void) { return pmode == M_LEGACY ? 0x400000u : 0x200000u; }

static void setup_tables(void)
{
    memset(pd0, 0, sizeof(pd0));
    memset(pd1, 0, sizeof(pd1));
    memset(pt, 0, sizeof(pt));
#ifndef RT_LM64
    memset(pt32, 0, sizeof(pt32));
    if (pmode == M_LEGACY) {
        memset(pd32, 0, sizeof(pd32));
        for (u32 i = 0; i < 8; i++)
            pd32[i] = (i << 22) | (u32)(URW | PG_PS);
        pd32[V_PT >> 22] = (u32)(uintptr_t)pt32 | (u32)URW;
        pd32[V_BIG >> 22] = P_BIG | (u32)(URW | PG_PS);
        memcpy(pd32b, pd32, sizeof(pd32));
        pd32b[V_BIG >> 22] = P_BIG2 | (u32)(URW | PG_PS);
        cr3_main = (ureg)pd32;
        cr3_alt = (ureg)pd32b;
    }
#endif
    if (pmode != M_LEGACY) {
        for (u64 i = 0; i < 16; i++)
            pd0[i] = (i << 21) | URW | PG_PS;
        pd1[0] = tbl(pt) | URW;
        pd1[(V_BIG >> 21) & 511] = P_BIG | URW | PG_PS;
        memcpy(pd1b, pd1, sizeof(pd1));
        pd1b[(V_BIG >> 21) & 511] = P_BIG2 | URW | PG_PS;
    }
#ifdef RT_LM64
    memset(pml4, 0, sizeof(pml4));
    memset(pdpt0, 0, sizeof(pdpt0));
    memset(pdpt1, 0, sizeof(pdpt1));
    pml4[0] = tbl(pdpt0) | URW;
    pml4[1] = tbl(pdpt1) | URW;
    pdpt0[0] = tbl(pd0) | URW;
    pdpt0[1] = tbl(pd1) | URW;
    pdpt1[0] = 0 | URW | PG_PS;          /* 1 GiB page: V_HUGE -> 0 */
    memcpy(pml4b, pml4, sizeof(pml4));
    memcpy(pdpt0b, pdpt0, sizeof(pdpt0));
    pml4b[0] = tbl(pdpt0b) | URW;
    pdpt0b[1] = tbl(pd1b) | URW;
    cr3_main = (ureg)pml4;
    cr3_alt = (ureg)pml4b;
#else
    if (pmode == M_PAE) {
        memset(pdpt, 0, sizeof(pdpt));
        pdpt[0] = tbl(pd0) | PG_P;        /* PAE PDPTEs: P and the address only */
        pdpt[1] = tbl(pd1) | PG_P;
        memcpy(pdptb, pdpt, sizeof(pdpt));
        pdptb[1] = tbl(pd1b) | PG_P;
        cr3_main = (ureg)pdpt;
        cr3_alt = (ureg)pdptb;
    }
#endif
    /* 4 KiB test pages */
    for (unsigned i = 0; i < 4; i++)
        set_pte(i, FRAME(15 - i) | URW);
    set_pte(4, FRAME(4) | URW);
    set_pte(5, 0);
    set_pte(6, FRAME(6) | PG_P | PG_US);
    set_pte(7, FRAME(7) | URW);
    set_pte(8, FRAME(8) | URW);
    set_pte(9, FRAME(9) | URW);
    set_pte(10, 0);
    set_pte(12, FRAME(12) | PG_P | PG_RW);
    set_pte(13, FRAME(13) | PG_P | PG_US);
    set_pte(14, FRAME(14) | URW);
    set_pte(15, FRAME(4) | PG_P | PG_US);
}

/* ---- reporting */
static void show(const char *what, u64 got, u64 want, int line)
{
    printf("  %-40s = %llx%s\n", what, (unsigned long long)got, got == want ? "" : "  <-- wrong");
    if (got != want)
        rt_check_fail(__FILE__, line, what, got, want);
}
#define SHOW(what, got, want) show(what, got, want, __LINE__)

static void report_pf(const char *what, int v, unsigned err, ureg addr, unsigned mask)
{
    if (v == EXC_PF)
        printf("  %-40s #PF err=%lx cr2=%lx\n", what, (unsigned long)(rt_fault.err & mask),
               (unsigned long)rt_fault.cr2);
    else if (v < 0)
        printf("  %-40s no fault\n", what);
    else
        printf("  %-40s vector %d\n", what, v);
    CHECK_EQ(v, EXC_PF);
    if (v == EXC_PF) {
        CHECK_EQ(rt_fault.err & mask, err);
        CHECK_EQ(rt_fault.cr2, addr);
    }
}
#define EXPECT_PF(what, err, addr, stmt) report_pf(what, TRY(stmt), err, addr, ~0u)
/* Reserved-bit faults: the SDM sets P (the entry is present) as well as
 * RSVD; QEMU 7.2 reports RSVD alone.  P is not compared (README). */
#define EXPECT_PF_RSVD(what, err, addr, stmt) report_pf(what, TRY(stmt), (err) & ~PF_P, addr, ~(unsigned)PF_P)
#define EXPECT_OK(what, stmt) do { int __v = TRY(stmt); \
    if (__v >= 0) printf("  %-40s vector %d err=%lx\n", what, __v, (unsigned long)rt_fault.err); \
    CHECK_EQ(__v, -1); } while (0)

static ureg u_read(ureg a) { return *(volatile u32 *)a; }
static ureg u_write(ureg a) { *(volatile u32 *)a = 0x600d600d; return 0; }
static ureg u_call(ureg a) { ((void (*)(void))a)(); return 0x11; }
static volatile u32 sink;

static void test_translate(void)
{
    printf("translation:\n");
    for (unsigned i = 0; i < 16; i++)
        for (unsigned o = 0; o < 4096; o += 1024)
            poke(FRAME(i) + o + 0x24);
    for (unsigned i = 0; i < 4; i++) {
        u32 got = rd(PAGE(i) + 0x424);
        printf("  page %u -> frame %u: %08lx\n", i, 15 - i, (unsigned long)got);
        CHECK_EQ(got, val(FRAME(15 - i) + 0x424));
    }
    poke(P_BIG + 0x123450);
    poke(P_BIG + big_size() - 4);
    SHOW("big page +123450", rd(V_BIG + 0x123450), val(P_BIG + 0x123450));
    SHOW("big page last dword", rd(V_BIG + big_size() - 4), val(P_BIG + big_size() - 4));
    /* two virtual pages (4 and 15) on one frame: writes seen through both */
    wr(PAGE(4) + 0x24, 0xcafef00d);
    SHOW("alias read", rd(PAGE(15) + 0x24), 0xcafef00d);
    poke(FRAME(4) + 0x24);
}

static void test_ad(void)
{
    printf("accessed and dirty bits:\n");
    set_pte(4, FRAME(4) | URW);
    set_pde(V_PT, get_pde(V_PT) & ~PG_A);
#ifdef RT_LM64
    pml4[0] &= ~PG_A;
    pdpt0[1] &= ~PG_A;
#endif
    reload_cr3();
    sink = rd(PAGE(4) + 8);
    SHOW("pte after read", get_pte(4), FRAME(4) | URW | PG_A);
    SHOW("pde (-> page table) after read", get_pde(V_PT), pt_addr() | URW | PG_A);
#ifdef RT_LM64
    SHOW("pml4e after read", pml4[0], tbl(pdpt0) | URW | PG_A);
    SHOW("pdpte after read", pdpt0[1], tbl(pd1) | URW | PG_A);
#endif
    wr(PAGE(4) + 8, 0x12345678);
    SHOW("pte after write", get_pte(4), FRAME(4) | URW | PG_A | PG_D);
    SHOW("pde after write (no D in directories)", get_pde(V_PT) & (PG_A | PG_D), PG_A);
    /* write first on a clean entry: A and D together */
    set_pte(4, FRAME(4) | URW);
    invlpg(PAGE(4));
    wr(PAGE(4) + 8, 0x9abcdef0);
    SHOW("pte after write only", get_pte(4), FRAME(4) | URW | PG_A | PG_D);
    poke(FRAME(4) + 8);
    /* large page */
    set_pde(V_BIG, P_BIG | URW | PG_PS);
    invlpg(V_BIG);
    sink = rd(V_BIG + 0x1000);
    SHOW("big pde after read", get_pde(V_BIG), P_BIG | URW | PG_PS | PG_A);
    wr(V_BIG + 0x1000, 1);
    SHOW("big pde after write", get_pde(V_BIG), P_BIG | URW | PG_PS | PG_A | PG_D);
    /* a faulting write sets neither */
    set_pte(6, FRAME(6) | PG_P | PG_US);
    invlpg(PAGE(6));
    write_cr(0, read_cr(0) | 0x10000);
    EXPECT_PF("supervisor write, RO page, WP=1", PF_P | PF_W, PAGE(6) + 0x10, wr(PAGE(6) + 0x10, 1));
    SHOW("pte after the faulting write", get_pte(6) & PG_D, 0);
    write_cr(0, read_cr(0) & ~(ureg)0x10000);
}

static void test_faults(void)
{
    printf("page faults (supervisor):\n");
    EXPECT_PF("read, not present", 0, PAGE(5) + 0xabc, sink = rd(PAGE(5) + 0xabc));
    EXPECT_PF("write, not present", PF_W, PAGE(5) + 0x4, wr(PAGE(5) + 0x4, 1));
    EXPECT_PF("read, not present PDE", 0, V_PT + 0x800000 + 0x10, sink = rd(V_PT + 0x800000 + 0x10));
    /* CR0.WP */
    set_pte(6, FRAME(6) | PG_P | PG_US);
    invlpg(PAGE(6));
    EXPECT_OK("supervisor write, RO page, WP=0", wr(PAGE(6) + 0x20, 0x1234));
    SHOW("written", rd(PAGE(6) + 0x20), 0x1234);
    write_cr(0, read_cr(0) | 0x10000);
    EXPECT_PF("supervisor write, RO page, WP=1", PF_P | PF_W, PAGE(6) + 0x20, wr(PAGE(6) + 0x20, 0x5678));
    EXPECT_OK("supervisor read, RO page, WP=1", sink = rd(PAGE(6) + 0x20));
    SHOW("unchanged", rd(PAGE(6) + 0x20), 0x1234);
    set_pde(V_BIG, P_BIG | PG_P | PG_US | PG_PS);
    invlpg(V_BIG);
    EXPECT_PF("supervisor write, RO big page, WP=1", PF_P | PF_W, V_BIG + 0x5008, wr(V_BIG + 0x5008, 1));
    set_pde(V_BIG, P_BIG | URW | PG_PS);
    invlpg(V_BIG);
    /* a read-only directory entry makes the page read-only */
    set_pde(V_PT, get_pde(V_PT) & ~PG_RW);
    reload_cr3();
    EXPECT_PF("write, RW page under RO PDE, WP=1", PF_P | PF_W, PAGE(9) + 0x30, wr(PAGE(9) + 0x30, 1));
    write_cr(0, read_cr(0) & ~(ureg)0x10000);
    EXPECT_OK("the same with WP=0", wr(PAGE(9) + 0x30, 1));
    set_pde(V_PT, get_pde(V_PT) | PG_RW);
    reload_cr3();
    poke(FRAME(9) + 0x30);
}

static void test_nx(void)
{
    printf("reserved bits and NX:\n");
    u64 efer = rdmsr(MSR_EFER);
    wrmsr(MSR_EFER, efer & ~(u64)EFER_NXE);
    set_pte(7, FRAME(7) | URW | PG_RSVD45);
    invlpg(PAGE(7));
    EXPECT_PF_RSVD("read, bit 45 set", PF_P | PF_RSVD, PAGE(7) + 0x40, sink = rd(PAGE(7) + 0x40));
    EXPECT_PF_RSVD("write, bit 45 set", PF_P | PF_W | PF_RSVD, PAGE(7) + 0x44, wr(PAGE(7) + 0x44, 1));
    set_pte(7, FRAME(7) | URW | PG_NX);
    invlpg(PAGE(7));
    EXPECT_PF_RSVD("read, NX set with EFER.NXE=0", PF_P | PF_RSVD, PAGE(7) + 0x48, sink = rd(PAGE(7) + 0x48));
    set_pde(V_BIG, P_BIG | URW | PG_PS | (1ull << 13));
    invlpg(V_BIG);
    EXPECT_PF_RSVD("read, big page bit 13 (reserved) set", PF_P | PF_RSVD, V_BIG + 0x10, sink = rd(V_BIG + 0x10));
    set_pde(V_BIG, P_BIG | URW | PG_PS);
    invlpg(V_BIG);
    wrmsr(MSR_EFER, efer | EFER_NXE);
    SHOW("efer.nxe", (rdmsr(MSR_EFER) >> 11) & 1, 1);
    poke(FRAME(7) + 0x48);
    EXPECT_OK("read, NX set with EFER.NXE=1", sink = rd(PAGE(7) + 0x48));
    SHOW("value", sink, val(FRAME(7) + 0x48));
    *(volatile u8 *)(uintptr_t)FRAME(8) = 0xc3;   /* ret */
    set_pte(8, FRAME(8) | URW | PG_NX);
    invlpg(PAGE(8));
    EXPECT_PF("fetch, NX page", PF_P | PF_I, PAGE(8), ((void (*)(void))PAGE(8))());
    SHOW("fault ip", rt_fault.ip, PAGE(8));
    set_pte(8, FRAME(8) | URW);
    invlpg(PAGE(8));
    EXPECT_OK("fetch, NX cleared", ((void (*)(void))PAGE(8))());
    EXPECT_PF("fetch, not present", PF_I, PAGE(10) + 0x10, ((void (*)(void))(PAGE(10) + 0x10))());
    set_pde(V_BIG, P_BIG | URW | PG_PS | PG_NX);
    invlpg(V_BIG);
    *(volatile u8 *)(uintptr_t)(P_BIG + 0x3000) = 0xc3;
    EXPECT_PF("fetch, NX big page", PF_P | PF_I, V_BIG + 0x3000, ((void (*)(void))(V_BIG + 0x3000))());
    set_pde(V_BIG, P_BIG | URW | PG_PS);
    invlpg(V_BIG);
    EXPECT_OK("fetch, big page", ((void (*)(void))(V_BIG + 0x3000))());
    /* NX in the directory entry covers the 4 KiB pages below it */
    set_pde(V_PT, get_pde(V_PT) | PG_NX);
    reload_cr3();
    EXPECT_PF("fetch, NX in the PDE", PF_P | PF_I, PAGE(8), ((void (*)(void))PAGE(8))());
    EXPECT_PF("user fetch, NX in the PDE", PF_P | PF_U | PF_I, PAGE(8), rt_user_call(u_call, PAGE(8)));
    set_pde(V_PT, get_pde(V_PT) & ~PG_NX);
    reload_cr3();
    set_pte(7, FRAME(7) | URW);
    invlpg(PAGE(7));
}

static void test_legacy_fetch(void)
{
    printf("instruction fetch without NX (32-bit paging):\n");
    EXPECT_PF("fetch, not present (no I bit)", 0, PAGE(10) + 0x10, ((void (*)(void))(PAGE(10) + 0x10))());
    *(volatile u8 *)(uintptr_t)FRAME(8) = 0xc3;
    EXPECT_OK("fetch", ((void (*)(void))PAGE(8))());
}

static void test_invlpg_cr3(void)
{
    printf("INVLPG and CR3:\n");
    poke(FRAME(9) + 0x100);
    poke(FRAME(10) + 0x100);
    poke(FRAME(11) + 0x100);
    set_pte(9, FRAME(9) | URW);
    invlpg(PAGE(9));
    SHOW("page 9 -> frame 9", rd(PAGE(9) + 0x100), val(FRAME(9) + 0x100));
    set_pte(9, FRAME(10) | URW);
    invlpg(PAGE(9));
    SHOW("invlpg: page 9 -> frame 10", rd(PAGE(9) + 0x100), val(FRAME(10) + 0x100));
    set_pte(9, FRAME(11) | URW);
    reload_cr3();
    SHOW("cr3 reload: page 9 -> frame 11", rd(PAGE(9) + 0x100), val(FRAME(11) + 0x100));
    set_pte(9, 0);
    invlpg(PAGE(9));
    EXPECT_PF("invlpg: page 9 not present", 0, PAGE(9) + 0x100, sink = rd(PAGE(9) + 0x100));
    set_pte(9, FRAME(9) | URW);
    EXPECT_OK("not-present entries are not cached", sink = rd(PAGE(9) + 0x100));
    SHOW("value", sink, val(FRAME(9) + 0x100));
    poke(P_BIG + 0x8888);
    poke(P_BIG2 + 0x8888);
    SHOW("big page via cr3 A", rd(V_BIG + 0x8888), val(P_BIG + 0x8888));
    write_cr(3, cr3_alt);
    SHOW("big page via cr3 B", rd(V_BIG + 0x8888), val(P_BIG2 + 0x8888));
    write_cr(3, cr3_main);
    SHOW("big page via cr3 A again", rd(V_BIG + 0x8888), val(P_BIG + 0x8888));
}

static void test_user(void)
{
    printf("user mode (CPL 3):\n");
    poke(FRAME(14) + 0x80);
    poke(FRAME(13) + 0x80);
    SHOW("user read, user page", rt_user_call(u_read, PAGE(14) + 0x80), val(FRAME(14) + 0x80));
    SHOW("user read, user RO page", rt_user_call(u_read, PAGE(13) + 0x80), val(FRAME(13) + 0x80));
    EXPECT_OK("user write, user page", rt_user_call(u_write, PAGE(14) + 0x84));
    SHOW("written", rd(PAGE(14) + 0x84), 0x600d600d);
    EXPECT_PF("user read, supervisor page", PF_P | PF_U, PAGE(12) + 0x88, rt_user_call(u_read, PAGE(12) + 0x88));
    SHOW("fault cs rpl", rt_fault.cs & 3, 3);
    EXPECT_PF("user write, supervisor page", PF_P | PF_W | PF_U, PAGE(12) + 0x8c,
              rt_user_call(u_write, PAGE(12) + 0x8c));
    EXPECT_PF("user write, user RO page (WP=0)", PF_P | PF_W | PF_U, PAGE(13) + 0x90,
              rt_user_call(u_write, PAGE(13) + 0x90));
    write_cr(0, read_cr(0) | 0x10000);
    EXPECT_PF("user write, user RO page (WP=1)", PF_P | PF_W | PF_U, PAGE(13) + 0x94,
              rt_user_call(u_write, PAGE(13) + 0x94));
    write_cr(0, read_cr(0) & ~(ureg)0x10000);
    EXPECT_PF("user read, not present", PF_U, PAGE(5) + 0x98, rt_user_call(u_read, PAGE(5) + 0x98));
    EXPECT_PF("user write, not present", PF_W | PF_U, PAGE(5) + 0x9c, rt_user_call(u_write, PAGE(5) + 0x9c));
    /* supervisor directory entry over a user page */
    set_pde(V_PT, get_pde(V_PT) & ~PG_US);
    reload_cr3();
    EXPECT_PF("user read, user page under supervisor PDE", PF_P | PF_U, PAGE(14) + 0xa0,
              rt_user_call(u_read, PAGE(14) + 0xa0));
    EXPECT_OK("supervisor read of it", sink = rd(PAGE(14) + 0xa0));
    set_pde(V_PT, get_pde(V_PT) | PG_US);
    reload_cr3();
    set_pde(V_BIG, P_BIG | PG_P | PG_RW | PG_PS);
    invlpg(V_BIG);
    EXPECT_PF("user read, supervisor big page", PF_P | PF_U, V_BIG + 0x10000, rt_user_call(u_read, V_BIG + 0x10000));
    set_pde(V_BIG, P_BIG | URW | PG_PS);
    invlpg(V_BIG);
    poke(P_BIG + 0x10000);
    SHOW("user read, user big page", rt_user_call(u_read, V_BIG + 0x10000), val(P_BIG + 0x10000));
}

#ifdef RT_LM64
static u32 huge_var = 0x13579bdf;
static void test_huge(void)
{
    printf("1 GiB page:\n");
    pdpt1[0] = 0 | URW | PG_PS;
    invlpg((ureg)(V_HUGE + (uintptr_t)&huge_var));
    SHOW("read through the 1 GiB page", rd((ureg)(V_HUGE + (uintptr_t)&huge_var)), 0x13579bdf);
    SHOW("pdpte after read", pdpt1[0], URW | PG_PS | PG_A);
    wr((ureg)(V_HUGE + (uintptr_t)&huge_var), 0x2468ace0);
    SHOW("pdpte after write", pdpt1[0], URW | PG_PS | PG_A | PG_D);
    SHOW("written, seen at the identity address", huge_var, 0x2468ace0);
    SHOW("pml4e[1]", pml4[1] & (PG_A | PG_D), PG_A);
    pdpt1[0] = 0 | PG_P | PG_RW | PG_PS;   /* supervisor */
    invlpg((ureg)(V_HUGE + 0x3000000));
    EXPECT_PF("user read, supervisor 1 GiB page", PF_P | PF_U, V_HUGE + 0x3000000,
              rt_user_call(u_read, (ureg)(V_HUGE + 0x3000000)));
    pdpt1[0] = 0 | URW | PG_PS | (1ull << 20);   /* reserved in a 1 GiB PDPTE */
    invlpg((ureg)(V_HUGE + 0x3000000));
    EXPECT_PF_RSVD("read, 1 GiB page bit 20 (reserved)", PF_P | PF_RSVD, V_HUGE + 0x3000000,
              sink = rd((ureg)(V_HUGE + 0x3000000)));
    pdpt1[0] = 0 | URW | PG_PS;
    invlpg((ureg)(V_HUGE + 0x3000000));
    CHECK_EQ(TRY(sink = rd(0x0000800000000000ull)), EXC_GP);
    printf("  %-40s vector %u err=%lx\n", "read, non-canonical", rt_fault.vector, rt_fault.err);
}
#endif

static void run_mode(int m)
{
    pmode = m;
    printf("== %s\n", mode_name[m]);
    setup_tables();
#ifndef RT_LM64
    write_cr(4, (read_cr(4) & ~(ureg)0x30) | (m == M_LEGACY ? 0x10 : 0x20));
    write_cr(3, cr3_main);
    write_cr(0, read_cr(0) | 0x80000000);
#else
    write_cr(3, cr3_main);
#endif
    test_translate();
    test_ad();
    test_faults();
    if (m != M_LEGACY)
        test_nx();
    else
        test_legacy_fetch();
    test_invlpg_cr3();
    test_user();
#ifdef RT_LM64
    test_huge();
#endif
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~(u64)EFER_NXE);
}

void test_main(void)
{
#ifdef RT_LM64
    run_mode(M_LM);
#else
    run_mode(M_LEGACY);
    write_cr(0, read_cr(0) & ~(ureg)0x80000000);
    run_mode(M_PAE);
#endif
}
