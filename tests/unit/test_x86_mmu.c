/* x86 page walks (targets/x86/mmu.c): 32-bit, PAE and 4-level paging,
 * large pages, A/D bits, permissions and every page-fault error code, as
 * the Intel SDM vol. 3A chapter 4 describes them. */
#include "targets/x86/mem.h"
#include "x86_fixture.h"


#define P  0x001ull
#define W  0x002ull
#define U  0x004ull
#define A  0x020ull
#define D  0x040ull
#define PS 0x080ull
#define G  0x100ull
#define NX (1ull << 63)

enum { EP = 1, EW = 2, EU = 4, ER = 8, EI = 16 };

/* 16 MiB of RAM and a bare CPU structure: only the page walker runs. */
static void setup(void)
{
    x86f_machine(16);
    cpu = g_new0(X86CPU, 1);
    cpu->as = &mach.as;
}

static void teardown(void)
{
    g_free(cpu);
    cpu = NULL;
    x86f_teardown();
}

static uint64_t xpa, xflags;
static int xerr;

static int xl(uint64_t lin, X86Access acc, bool user)
{
    xpa = xflags = 0;
    xerr = -1;
    cpu->cr2 = 0;
    return x86_translate(cpu, lin, acc, user, &xpa, &xflags, &xerr);
}

/* Expect a #PF with this error code and CR2. */
static void expect_pf(uint64_t lin, X86Access acc, bool user, int err)
{
    int vec = xl(lin, acc, user);
    cr_assert_eq(vec, X86_EXC_PF, "lin %#lx acc %d user %d: vec %d", (unsigned long)lin,
                 acc, user, vec);
    cr_assert_eq(xerr, err, "lin %#lx acc %d user %d: err %#x want %#x",
                 (unsigned long)lin, acc, user, xerr, err);
    cr_assert_eq(cpu->cr2, lin);
}

static void expect_pa(uint64_t lin, X86Access acc, bool user, uint64_t pa)
{
    int vec = xl(lin, acc, user);
    cr_assert_eq(vec, 0, "lin %#lx: vec %d err %#x", (unsigned long)lin, vec, xerr);
    cr_assert_eq(xpa, pa, "lin %#lx: pa %#lx want %#lx", (unsigned long)lin,
                 (unsigned long)xpa, (unsigned long)pa);
}

TestSuite(x86_mmu, .init = setup, .fini = teardown);

Test(x86_mmu, no_paging_is_identity)
{
    cpu->cr0 = X86_CR0_PE;
    expect_pa(0x12345678, X86_ACC_WRITE, true, 0x12345678);
    cr_assert(xflags & X86_PTEF_W);
    cr_assert(xflags & X86_PTEF_U);
}

/* ---- 32-bit paging ---- */

static void paging32(void)
{
    cpu->cr0 = X86_CR0_PE | X86_CR0_PG;
    cpu->cr3 = 0x1000;
}

Test(x86_mmu, p32_4k_translation_and_ad_bits)
{
    paging32();
    wr32(0x1000 + 1 * 4, 0x2000 | P | W | U);
    wr32(0x2000 + 2 * 4, 0x345000 | P | W | U | G);
    expect_pa(0x00402abc, X86_ACC_READ, true, 0x345abc);
    cr_assert_eq(rd32(0x1004), 0x2000 | P | W | U | A);
    cr_assert_eq(rd32(0x2008), 0x345000 | P | W | U | G | A);
    cr_assert(xflags & X86_PTEF_W);
    cr_assert(xflags & X86_PTEF_U);
    cr_assert(xflags & X86_PTEF_G);
    cr_assert_not(xflags & X86_PTEF_D);
    cr_assert_not(xflags & X86_PTEF_PS);
    cr_assert_eq(X86_PTEF_SHIFT(xflags), 12);
    expect_pa(0x00402abc, X86_ACC_WRITE, false, 0x345abc);
    cr_assert_eq(rd32(0x2008), 0x345000 | P | W | U | G | A | D);
    cr_assert_eq(rd32(0x1004), 0x2000 | P | W | U | A);   /* no D on the PDE */
    cr_assert(xflags & X86_PTEF_D);
    /* CR3's low bits (PWT/PCD) do not move the directory. */
    cpu->cr3 = 0x1018;
    expect_pa(0x00402000, X86_ACC_READ, false, 0x345000);
}

Test(x86_mmu, p32_not_present)
{
    paging32();
    expect_pf(0x00400000, X86_ACC_READ, false, 0);
    expect_pf(0x00400004, X86_ACC_WRITE, true, EW | EU);
    wr32(0x1004, 0x2000 | P | W | U);
    expect_pf(0x00402000, X86_ACC_EXEC, true, EU);
    cr_assert_eq(rd32(0x1004), 0x2000 | P | W | U | A);
    /* 32-bit paging has no NX: no I/D bit even with EFER.NXE. */
    cpu->efer = X86_EFER_NXE;
    expect_pf(0x00402000, X86_ACC_EXEC, false, 0);
}

Test(x86_mmu, p32_user_and_write_protection)
{
    paging32();
    wr32(0x1000, 0x2000 | P | W);                 /* supervisor directory */
    wr32(0x2000, 0x10000 | P | W | U);
    wr32(0x1004, 0x3000 | P | W | U);
    wr32(0x3000, 0x11000 | P | U);                /* read-only user page */
    expect_pf(0x00000000, X86_ACC_READ, true, EP | EU);
    expect_pf(0x00000000, X86_ACC_WRITE, true, EP | EW | EU);
    expect_pa(0x00000123, X86_ACC_WRITE, false, 0x10123);
    expect_pa(0x00400000, X86_ACC_READ, true, 0x11000);
    expect_pf(0x00400000, X86_ACC_WRITE, true, EP | EW | EU);
    /* Supervisor writes to read-only pages: allowed unless CR0.WP. */
    expect_pa(0x00400010, X86_ACC_WRITE, false, 0x11010);
    cr_assert_eq(rd32(0x3000), 0x11000 | P | U | A | D);
    cpu->cr0 |= X86_CR0_WP;
    expect_pf(0x00400010, X86_ACC_WRITE, false, EP | EW);
    /* A failing access does not set the leaf's D bit. */
    wr32(0x3000, 0x11000 | P | U);
    expect_pf(0x00400010, X86_ACC_WRITE, false, EP | EW);
    cr_assert_eq(rd32(0x3000), 0x11000 | P | U);
}

Test(x86_mmu, p32_4m_pages_and_pse36)
{
    paging32();
    uint32_t pde = 0x00800000 | (0x12u << 13) | P | W | PS;
    wr32(0x1000 + 3 * 4, pde);
    /* Without CR4.PSE the PS bit is ignored: the PDE points to a table. */
    wr32((pde & 0xfffff000) + 0x12 * 4, 0x00456000 | P);
    expect_pa(0x00c12345, X86_ACC_READ, false, 0x456345);
    cpu->cr4 = X86_CR4_PSE;
    expect_pa(0x00c12345, X86_ACC_READ, false, 0x1200812345ull);
    cr_assert(xflags & X86_PTEF_PS);
    cr_assert_eq(X86_PTEF_SHIFT(xflags), 22);
    cr_assert_eq(rd32(0x100c), pde | A);
    expect_pa(0x00c12345, X86_ACC_WRITE, false, 0x1200812345ull);
    cr_assert_eq(rd32(0x100c), pde | A | D);
    expect_pf(0x00c12345, X86_ACC_READ, true, EP | EU);
    /* Bit 21 is reserved with a 40-bit MAXPHYADDR. */
    wr32(0x100c, pde | (1u << 21));
    expect_pf(0x00c00000, X86_ACC_WRITE, true, EP | EW | EU | ER);
}

/* ---- PAE paging ---- */

static void paging_pae(void)
{
    cpu->cr0 = X86_CR0_PE | X86_CR0_PG;
    cpu->cr4 = X86_CR4_PAE;
    cpu->cr3 = 0x3020;                           /* 32-byte aligned PDPT */
    wr64(0x3020 + 1 * 8, 0x4000 | P);             /* lin 0x40000000.. */
    wr64(0x4000 + 2 * 8, 0x5000 | P | W | U);     /* lin +0x400000 */
}

Test(x86_mmu, pae_translation)
{
    paging_pae();
    wr64(0x5000 + 5 * 8, 0xabcd000 | P | W | U);
    expect_pa(0x40405678, X86_ACC_READ, true, 0xabcd678);
    /* PAE PDPTEs have no A bit; the others do. */
    cr_assert_eq(rd64(0x3028), 0x4000 | P);
    cr_assert_eq(rd64(0x4010), 0x5000 | P | W | U | A);
    cr_assert_eq(rd64(0x5028), 0xabcd000 | P | W | U | A);
    expect_pf(0x00000000, X86_ACC_READ, false, 0);   /* PDPTE 0 not present */
    expect_pf(0x40600000, X86_ACC_READ, false, 0);   /* PDE 3 not present */
    cr_assert(x86_pae_pdptes_ok(cpu, cpu->cr3));
}

Test(x86_mmu, pae_reserved_bits)
{
    paging_pae();
    /* NX is reserved without EFER.NXE. */
    wr64(0x5000, 0x6000 | P | W | U | NX);
    expect_pf(0x40400000, X86_ACC_READ, false, EP | ER);
    cpu->efer = X86_EFER_NXE;
    expect_pa(0x40400000, X86_ACC_READ, false, 0x6000);
    expect_pf(0x40400000, X86_ACC_EXEC, true, EP | EU | EI);
    expect_pf(0x40401000, X86_ACC_EXEC, false, EI);  /* not present fetch */
    /* Bits 51:40 and, in PAE paging, 62:52 are reserved. */
    wr64(0x5008, 0x7000 | P | (1ull << 40));
    expect_pf(0x40401000, X86_ACC_READ, false, EP | ER);
    wr64(0x5008, 0x7000 | P | (1ull << 52));
    expect_pf(0x40401000, X86_ACC_WRITE, false, EP | EW | ER);
    /* PDPTE reserved bits (bit 1 here). */
    wr64(0x3020 + 2 * 8, 0x4000 | P | W);
    expect_pf(0x80000000, X86_ACC_READ, false, EP | ER);
    cr_assert_not(x86_pae_pdptes_ok(cpu, cpu->cr3));
}

Test(x86_mmu, pae_2m_pages)
{
    paging_pae();
    wr64(0x4000 + 4 * 8, 0x00e00000 | P | W | PS | G);
    expect_pa(0x40812345, X86_ACC_WRITE, false, 0xe12345);
    cr_assert_eq(rd64(0x4020), 0x00e00000 | P | W | PS | G | A | D);
    cr_assert_eq(X86_PTEF_SHIFT(xflags), 21);
    cr_assert(xflags & X86_PTEF_G);
    expect_pf(0x40812345, X86_ACC_READ, true, EP | EU);
    /* Bits 20:13 of a 2 MiB entry are reserved; the PAT bit (12) is not. */
    wr64(0x4020, 0x00e00000 | P | W | PS | (1ull << 12));
    expect_pa(0x40812345, X86_ACC_READ, false, 0xe12345);
    wr64(0x4020, 0x00e00000 | P | W | PS | (1ull << 13));
    expect_pf(0x40812345, X86_ACC_READ, false, EP | ER);
    /* PAE ignores CR4.PSE for PS. */
    cr_assert_eq(cpu->cr4 & X86_CR4_PSE, 0);
}

/* ---- 4-level paging ---- */

#define KLIN 0xffff8000c0201abcull   /* PML4 256, PDPT 3, PD 1, PT 1 */

static void paging64(void)
{
    cpu->cr0 = X86_CR0_PE | X86_CR0_PG;
    cpu->cr4 = X86_CR4_PAE;
    cpu->efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_NXE;
    cpu->cr3 = 0x10000;
    wr64(0x10000 + 256 * 8, 0x11000 | P | W | U);
    wr64(0x11000 + 3 * 8, 0x12000 | P | W | U);
    wr64(0x12000 + 1 * 8, 0x13000 | P | W | U);
    wr64(0x13000 + 1 * 8, 0x9876000 | P | W | U);
}

Test(x86_mmu, l4_translation_and_ad_bits)
{
    paging64();
    expect_pa(KLIN, X86_ACC_WRITE, true, 0x9876abc);
    cr_assert_eq(rd64(0x10800), 0x11000 | P | W | U | A);
    cr_assert_eq(rd64(0x11018), 0x12000 | P | W | U | A);
    cr_assert_eq(rd64(0x12008), 0x13000 | P | W | U | A);
    cr_assert_eq(rd64(0x13008), 0x9876000 | P | W | U | A | D);
    /* Bits 62:52 are ignored in 4-level paging. */
    wr64(0x13008, 0x9876000 | P | W | U | (0x7ffull << 52));
    expect_pa(KLIN, X86_ACC_READ, true, 0x9876abc);
    /* The low half. */
    wr64(0x10000, 0x11000 | P | W | U);
    wr64(0x11000, 0x12000 | P | W | U);
    wr64(0x12000, 0x13000 | P | W | U);
    wr64(0x13000 + 2 * 8, 0x5000 | P);
    expect_pa(0x2010, X86_ACC_READ, false, 0x5010);
}

Test(x86_mmu, l4_combined_rights)
{
    paging64();
    /* U is ANDed over the levels. */
    wr64(0x12008, 0x13000 | P | W);
    expect_pf(KLIN, X86_ACC_READ, true, EP | EU);
    expect_pa(KLIN, X86_ACC_READ, false, 0x9876abc);
    cr_assert_not(xflags & X86_PTEF_U);
    /* W is ANDed too. */
    wr64(0x12008, 0x13000 | P | U);
    expect_pf(KLIN, X86_ACC_WRITE, true, EP | EW | EU);
    expect_pa(KLIN, X86_ACC_WRITE, false, 0x9876abc);   /* WP = 0 */
    cr_assert_not(xflags & X86_PTEF_W);
    cpu->cr0 |= X86_CR0_WP;
    expect_pf(KLIN, X86_ACC_WRITE, false, EP | EW);
    /* NX is ORed: set only in the PML4E. */
    wr64(0x12008, 0x13000 | P | W | U);
    wr64(0x10800, 0x11000 | P | W | U | NX);
    expect_pa(KLIN, X86_ACC_READ, true, 0x9876abc);
    cr_assert(xflags & X86_PTEF_NX);
    expect_pf(KLIN, X86_ACC_EXEC, true, EP | EU | EI);
    expect_pf(KLIN, X86_ACC_EXEC, false, EP | EI);
    /* Without NXE the NX bit is a reserved bit. */
    cpu->efer &= ~X86_EFER_NXE;
    expect_pf(KLIN, X86_ACC_READ, false, EP | ER);
    expect_pf(KLIN, X86_ACC_EXEC, false, EP | ER);      /* no I without NXE */
}

Test(x86_mmu, l4_large_pages)
{
    paging64();
    /* 1 GiB page in the PDPTE. */
    wr64(0x11018, 0x40000000ull | P | W | PS | G);
    expect_pa(KLIN, X86_ACC_READ, false, 0x40201abcull);
    cr_assert_eq(X86_PTEF_SHIFT(xflags), 30);
    cr_assert(xflags & X86_PTEF_PS);
    cr_assert(xflags & X86_PTEF_G);
    cr_assert_eq(rd64(0x11018), 0x40000000ull | P | W | PS | G | A);
    wr64(0x11018, 0x40000000ull | P | W | PS | (1ull << 29));
    expect_pf(KLIN, X86_ACC_READ, false, EP | ER);
    /* 2 MiB page in the PDE. */
    wr64(0x11018, 0x12000 | P | W | U);
    wr64(0x12008, 0x7e00000ull | P | W | U | PS);
    expect_pa(KLIN, X86_ACC_WRITE, true, 0x7e01abcull);
    cr_assert_eq(X86_PTEF_SHIFT(xflags), 21);
    cr_assert_eq(rd64(0x12008), 0x7e00000ull | P | W | U | PS | A | D);
    /* PS is reserved in a PML4E. */
    wr64(0x10800, 0x11000 | P | W | U | PS);
    expect_pf(KLIN, X86_ACC_WRITE, true, EP | EW | EU | ER);
}

Test(x86_mmu, l4_maxphyaddr_and_unmapped_tables)
{
    paging64();
    wr64(0x12008, 0x13000 | P | W | U | (1ull << 45));
    expect_pf(KLIN, X86_ACC_READ, false, EP | ER);
    /* A table in unmapped physical memory reads as all ones. */
    wr64(0x12008, 0x80000000ull | P | W | U);
    expect_pf(KLIN, X86_ACC_READ, false, EP | ER);
    /* The D bit is set atomically and only when it changes. */
    wr64(0x12008, 0x13000 | P | W | U);
    expect_pa(KLIN, X86_ACC_WRITE, false, 0x9876abc);
    expect_pa(KLIN, X86_ACC_WRITE, false, 0x9876abc);
    cr_assert_eq(rd64(0x13008), 0x9876000 | P | W | U | A | D);
}

Test(x86_mmu, rom_tables_are_not_written)
{
    static uint8_t rom[0x1000];
    memset(rom, 0, sizeof(rom));
    cr_assert_eq(as_add_ram(&mach.as, "rom", 0x2000000, sizeof(rom), rom, true), 0);
    paging32();
    wr32(0x1000, 0x2000000 | P | W);
    uint32_t pte = 0x5000 | P | W;
    memcpy(rom, &pte, 4);
    expect_pa(0x10, X86_ACC_WRITE, false, 0x5010);
    cr_assert_eq(rom[0] & (A | D), 0);
}
