/* rv_paging: Sv39 (RV64, plus Sv48) / Sv32 (RV32) address translation,
 * exercised from S-mode (and U-mode) with page faults delegated to S.
 * 4 KiB pages, a megapage, a gigapage alias (Sv39), a misaligned superpage,
 * A/D bits set by the hardware walker, load/store/fetch page faults with
 * stval, R/W/X permission combinations (W without R is reserved), U pages
 * and SUM, S fetch from a U page, MXR on an execute-only page, U-mode
 * access to S pages, sfence.vma after a PTE change, non-canonical
 * addresses (Sv39), an Sv48-only mapping, a page fault taken in M when not
 * delegated (mtval), satp ignoring an unsupported mode. */
#include "rt.h"

RT_TEST_NAME("rv_paging");

#define PTE_V 0x1
#define PTE_R 0x2
#define PTE_W 0x4
#define PTE_X 0x8
#define PTE_U 0x10
#define PTE_G 0x20
#define PTE_A 0x40
#define PTE_D 0x80

#define PG 4096ul
#define NENT (PG / sizeof(ureg))
#if IS_RV64
#define LEVELS 3
#define VPN_BITS 9
#define SATP_SV39 ((ureg)8 << 60)
#define SATP_SV48 ((ureg)9 << 60)
#define SATP_BARE_MODE(s) ((s) >> 60)
#define MEGA (1ul << 21)
#else
#define LEVELS 2
#define VPN_BITS 10
#define SATP_SV32 ((ureg)1 << 31)
#define MEGA (1ul << 22)
#endif

/* Page tables, data pages, and the U/X code page. */
static ureg tables[12][NENT] __attribute__((aligned(4096)));
static int ntables;
static uint8_t pages[8][4096] __attribute__((aligned(4096)));
static volatile ureg alias_probe = 0x600dcafe;

extern char ucode_page[], u_load[], u_store[], u_ret[];
__asm__(
    ".pushsection .text.ucode, \"ax\", @progbits\n"
    ".balign 4096\n"
    ".globl ucode_page, u_load, u_store, u_ret\n"
    "ucode_page:\n"
    "u_load:  lw a0, 0(a0)\n"
    "         li a7, " STR(RT_ECALL_RETURN) "\n"
    "         ecall\n"
    ".balign 32\n"
    "u_store: sw a1, 0(a0)\n"
    "         li a7, " STR(RT_ECALL_RETURN) "\n"
    "         ecall\n"
    ".balign 32\n"
    "u_ret:   li a7, " STR(RT_ECALL_RETURN) "\n"
    "         ecall\n"
    ".balign 4096\n"
    ".popsection\n");

/* Test virtual addresses. */
#define VBASE   0x40000000ul
#define T_RW    (VBASE + 0x0000)        /* pages[0] RW */
#define T_RO    (VBASE + 0x1000)        /* pages[1] R */
#define T_NA    (VBASE + 0x2000)        /* not mapped */
#define T_AD    (VBASE + 0x3000)        /* pages[2] RW, A = D = 0 */
#define T_X     (VBASE + 0x4000)        /* ucode X only */
#define T_U     (VBASE + 0x5000)        /* pages[3] RW U */
#define T_WO    (VBASE + 0x6000)        /* pages[4] W only: reserved */
#define T_SW    (VBASE + 0x7000)        /* pages[5], then pages[6] */
#define T_NX    (VBASE + 0x8000)        /* pages[0] RW, fetch -> fault */
#define T_UX    (VBASE + 0x9000)        /* ucode R X U */
#define T_MEGA  (VBASE + MEGA)          /* megapage -> PA 0x80000000 + MEGA */
#define T_BADSP (VBASE + 3 * MEGA)      /* misaligned superpage */
#define P_MEGA  (0x80000000ul + MEGA)
#if IS_RV64
#define T_GIGA  0x100000000ul           /* gigapage alias of 0x80000000 */
#define T_SV48  0x8000000000ul          /* 512 GiB: Sv48 only */
#endif

static ureg pte(ureg pa, ureg flags)
{
    return ((pa >> 12) << 10) | flags;
}

static ureg *new_table(void)
{
    CHECK(ntables < 12);
    ureg *t = tables[ntables++];
    for (unsigned i = 0; i < NENT; i++)
        t[i] = 0;
    return t;
}

static unsigned vpn(ureg va, int level)
{
    return (unsigned)((va >> (12 + level * VPN_BITS)) & (NENT - 1));
}

/* Leaf PTE slot for va at `level` (0 = 4 KiB), creating tables. */
static ureg *slot(ureg *root, ureg va, int level, int levels)
{
    ureg *t = root;
    for (int l = levels - 1; l > level; l--) {
        ureg *e = &t[vpn(va, l)];
        if (!(*e & PTE_V))
            *e = pte((ureg)new_table(), PTE_V);
        CHECK((*e & (PTE_R | PTE_W | PTE_X)) == 0);
        t = (ureg *)((*e >> 10) << 12);
    }
    return &t[vpn(va, level)];
}

static void map(ureg *root, ureg va, ureg pa, ureg flags, int level)
{
    *slot(root, va, level, LEVELS) = pte(pa, flags | PTE_V);
}

static ureg *root;
#if IS_RV64
static ureg *root48;
#endif
static ureg satp_val;

static void build(void)
{
    const ureg RWX = PTE_R | PTE_W | PTE_X | PTE_A | PTE_D;
    const ureg RW = PTE_R | PTE_W | PTE_A | PTE_D;
    root = new_table();
#if IS_RV64
    map(root, 0x80000000ul, 0x80000000ul, RWX, 2);      /* image: identity gigapage */
    map(root, 0, 0, RW, 2);                             /* MMIO */
    map(root, T_GIGA, 0x80000000ul, PTE_R | PTE_A, 2);  /* read-only alias */
#else
    map(root, 0x80000000ul, 0x80000000ul, RWX, 1);      /* 4 MiB identity */
    map(root, P_MEGA, P_MEGA, RW, 1);                   /* and the next 4 MiB */
    map(root, 0x00000000ul, 0x00000000ul, RW, 1);       /* finisher */
    map(root, 0x02000000ul, 0x02000000ul, RW, 1);       /* CLINT */
    map(root, 0x10000000ul, 0x10000000ul, RW, 1);       /* UART */
#endif
    map(root, T_RW, (ureg)pages[0], RW, 0);
    map(root, T_RO, (ureg)pages[1], PTE_R | PTE_A, 0);
    map(root, T_AD, (ureg)pages[2], PTE_R | PTE_W, 0);
    map(root, T_X, (ureg)ucode_page, PTE_X | PTE_A, 0);
    map(root, T_U, (ureg)pages[3], RW | PTE_U, 0);
    map(root, T_WO, (ureg)pages[4], PTE_W | PTE_A | PTE_D, 0);
    map(root, T_SW, (ureg)pages[5], RW, 0);
    map(root, T_NX, (ureg)pages[0], RW, 0);
    map(root, T_UX, (ureg)ucode_page, PTE_R | PTE_X | PTE_U | PTE_A, 0);
    map(root, T_MEGA, P_MEGA, RW, 1);
    map(root, T_BADSP, P_MEGA + 0x1000, RW, 1);          /* PPN not aligned */
    for (int i = 0; i < 8; i++)
        for (int j = 0; j < 4096; j++)
            pages[i][j] = (uint8_t)(i * 0x11 + j);
#if IS_RV64
    satp_val = SATP_SV39 | ((ureg)root >> 12);
    /* Sv48: the Sv39 root serves as the table for the first 512 GiB. */
    root48 = new_table();
    root48[0] = pte((ureg)root, PTE_V);
    ureg *l2 = new_table();
    root48[1] = pte((ureg)l2, PTE_V);
    l2[0] = pte(0x80000000ul, RW | PTE_V);              /* T_SV48 -> 0x80000000 */
#else
    satp_val = SATP_SV32 | ((ureg)root >> 12);
#endif
}

static uint32_t rd32(ureg va) { return *(volatile uint32_t *)va; }
static void wr32(ureg va, uint32_t v) { *(volatile uint32_t *)va = v; }
static uint32_t pa32(const void *p) { return *(volatile const uint32_t *)p; }

#define EXPECT_SFAULT(cause_, va_) do { \
        CHECKEQ(rt_strap.count, 1); \
        CHECKEQ(rt_strap.cause, (cause_)); \
        CHECKEQ(rt_strap.tval, (ureg)(va_)); \
        rt_trap_clear(); \
    } while (0)

/* ---- S-mode parts ---- */
static ureg s_basic(ureg arg)
{
    (void)arg;
    rt_trap_clear();
    CHECKEQ(rd32(T_RW + 8), pa32(&pages[0][8]));
    wr32(T_RW + 12, 0xa5a5f00d);
    CHECKEQ(pa32(&pages[0][12]), 0xa5a5f00d);
    CHECKEQ(rd32(T_NX + 12), 0xa5a5f00d);                /* second mapping */
    CHECKEQ(rd32(T_RO + 4), pa32(&pages[1][4]));
    CHECKEQ(*(volatile uint8_t *)(T_RO + 4095), pages[1][4095]);
    /* Megapage. */
    wr32(T_MEGA + 0x12344, 0x5eed1234);
    CHECKEQ(pa32((void *)(P_MEGA + 0x12344)), 0x5eed1234);
    CHECKEQ(rd32(T_MEGA + MEGA - 4), pa32((void *)(P_MEGA + MEGA - 4)));
#if IS_RV64
    /* Gigapage alias of the image. */
    CHECKEQ(*(volatile ureg *)(T_GIGA + ((ureg)&alias_probe - 0x80000000ul)), 0x600dcafe);
#endif
    /* Faults. */
    (void)rd32(T_NA + 0x10);
    EXPECT_SFAULT(EXC_LOAD_PAGE, T_NA + 0x10);
    wr32(T_NA + 0x20, 1);
    EXPECT_SFAULT(EXC_STORE_PAGE, T_NA + 0x20);
    wr32(T_RO + 0x30, 1);
    EXPECT_SFAULT(EXC_STORE_PAGE, T_RO + 0x30);
    CHECKEQ(pa32(&pages[1][0x30]), 0x44434241);          /* unchanged pattern */
    (void)rd32(T_WO);
    EXPECT_SFAULT(EXC_LOAD_PAGE, T_WO);
    wr32(T_WO + 4, 1);
    EXPECT_SFAULT(EXC_STORE_PAGE, T_WO + 4);
    (void)rd32(T_BADSP + 0x40);
    EXPECT_SFAULT(EXC_LOAD_PAGE, T_BADSP + 0x40);
    /* Execute-only page: no loads (MXR = 0), but fetch works. */
    (void)rd32(T_X);
    EXPECT_SFAULT(EXC_LOAD_PAGE, T_X);
    /* Fetch from a non-executable page. */
    rt_recover = RT_RECOVER_RA;
    ((void (*)(void))T_NX)();
    EXPECT_SFAULT(EXC_INSN_PAGE, T_NX);
    rt_recover = RT_RECOVER_RA;
    ((void (*)(void))(T_NA + 0x100))();
    EXPECT_SFAULT(EXC_INSN_PAGE, T_NA + 0x100);
    /* Store AMO to a read-only page: store/AMO page fault. */
    __asm__ volatile("amoadd.w zero, %1, (%0)" :: "r"(T_RO + 8), "r"(1) : "memory");
    EXPECT_SFAULT(EXC_STORE_PAGE, T_RO + 8);
#if IS_RV64
    /* Non-canonical Sv39 address. */
    (void)rd32(T_SV48);
    EXPECT_SFAULT(EXC_LOAD_PAGE, T_SV48);
    (void)rd32(0xffffffc000000000ul + 0x80000000ul);       /* canonical, unmapped */
    EXPECT_SFAULT(EXC_LOAD_PAGE, 0xffffffc000000000ul + 0x80000000ul);
#endif
    return 1;
}

static ureg *leaf(ureg va)
{
    return slot(root, va, 0, LEVELS);
}

static ureg s_access_dirty(ureg arg)
{
    (void)arg;
    volatile ureg *p = leaf(T_AD);
    CHECKEQ(*p & (PTE_A | PTE_D), 0);
    CHECKEQ(rd32(T_AD + 0x80), pa32(&pages[2][0x80]));
    CHECKEQ(*p & (PTE_A | PTE_D), PTE_A);
    wr32(T_AD + 0x84, 0x0dd0beef);
    CHECKEQ(*p & (PTE_A | PTE_D), PTE_A | PTE_D);
    CHECKEQ(pa32(&pages[2][0x84]), 0x0dd0beef);
    CHECKEQ(rt_strap.count, 0);
    return 1;
}

static ureg s_sum_mxr(ureg arg)
{
    (void)arg;
    csr_clear(sstatus, MSTATUS_SUM | MSTATUS_MXR);
    rt_trap_clear();
    (void)rd32(T_U);
    EXPECT_SFAULT(EXC_LOAD_PAGE, T_U);
    wr32(T_U + 4, 1);
    EXPECT_SFAULT(EXC_STORE_PAGE, T_U + 4);
    csr_set(sstatus, MSTATUS_SUM);
    CHECKEQ(rd32(T_U + 8), pa32(&pages[3][8]));
    wr32(T_U + 12, 0x50505050);
    CHECKEQ(pa32(&pages[3][12]), 0x50505050);
    CHECKEQ(rt_strap.count, 0);
    /* S never executes from a U page, SUM or not. */
    rt_recover = RT_RECOVER_RA;
    ((void (*)(void))(T_UX + (u_ret - ucode_page)))();
    EXPECT_SFAULT(EXC_INSN_PAGE, T_UX + (u_ret - ucode_page));
    csr_clear(sstatus, MSTATUS_SUM);
    /* MXR: execute-only pages become readable. */
    csr_set(sstatus, MSTATUS_MXR);
    CHECKEQ(rd32(T_X), pa32(ucode_page));
    CHECKEQ(rt_strap.count, 0);
    csr_clear(sstatus, MSTATUS_MXR);
    (void)rd32(T_X + 4);
    EXPECT_SFAULT(EXC_LOAD_PAGE, T_X + 4);
    return 1;
}

static ureg s_sfence(ureg arg)
{
    (void)arg;
    volatile ureg *p = leaf(T_SW);
    CHECKEQ(rd32(T_SW + 16), pa32(&pages[5][16]));
    *p = pte((ureg)pages[6], PTE_R | PTE_W | PTE_A | PTE_D | PTE_V);
    __asm__ volatile("sfence.vma %0, zero" :: "r"(T_SW) : "memory");
    CHECKEQ(rd32(T_SW + 16), pa32(&pages[6][16]));
    *p = pte((ureg)pages[5], PTE_R | PTE_W | PTE_A | PTE_D | PTE_V);
    __asm__ volatile("sfence.vma" ::: "memory");
    CHECKEQ(rd32(T_SW + 16), pa32(&pages[5][16]));
    /* Unmap: fault after the fence. */
    *p = 0;
    __asm__ volatile("sfence.vma %0" :: "r"(T_SW) : "memory");
    rt_trap_clear();
    (void)rd32(T_SW + 20);
    EXPECT_SFAULT(EXC_LOAD_PAGE, T_SW + 20);
    *p = pte((ureg)pages[5], PTE_R | PTE_W | PTE_A | PTE_D | PTE_V);
    __asm__ volatile("sfence.vma" ::: "memory");
    return 1;
}

#if IS_RV64
static ureg s_sv48(ureg arg)
{
    (void)arg;
    rt_trap_clear();
    CHECKEQ(rd32(T_SV48 + ((ureg)&alias_probe - 0x80000000ul)), 0x600dcafe);
    CHECKEQ(rd32(T_MEGA + 0x12344), 0x5eed1234);
    CHECKEQ(rd32(T_RW + 12), 0xa5a5f00d);
    CHECKEQ(*(volatile ureg *)(T_GIGA + ((ureg)&alias_probe - 0x80000000ul)), 0x600dcafe);
    /* Bits 63:48 must equal bit 47. */
    (void)rd32(0x0001000000000000ul);
    EXPECT_SFAULT(EXC_LOAD_PAGE, 0x0001000000000000ul);
    return 1;
}
#endif

typedef ureg (*fn_t)(ureg);

int main(void)
{
    build();
    rt_trap_clear();
    csr_write(medeleg, (1u << EXC_INSN_PAGE) | (1u << EXC_LOAD_PAGE) | (1u << EXC_STORE_PAGE));
    csr_write(satp, satp_val);
    CHECKEQ(csr_read(satp), satp_val);
    rt_sfence();

    CHECKEQ(rt_call_in_mode(PRV_S, s_basic, 0), 1);
    CHECKEQ(rt_call_in_mode(PRV_S, s_access_dirty, 0), 1);
    CHECKEQ(rt_call_in_mode(PRV_S, s_sum_mxr, 0), 1);
    CHECKEQ(rt_call_in_mode(PRV_S, s_sfence, 0), 1);
    /* S executes the X-only page (its code returns through the runtime). */
    rt_trap_clear();
    CHECKEQ(rt_call_in_mode(PRV_S, (fn_t)(T_X + (u_load - ucode_page)), T_RW + 12),
            (ureg)(sreg)(int32_t)0xa5a5f00d);      /* lw sign-extends */
    CHECKEQ(rt_strap.count, 0);

    /* U mode: its own pages only. */
    rt_trap_clear();
    CHECKEQ(rt_call_in_mode(PRV_U, (fn_t)(T_UX + (u_load - ucode_page)), T_U + 8),
            (ureg)(sreg)(int32_t)pa32(&pages[3][8]));
    CHECKEQ(rt_strap.count, 0);
    CHECKEQ(rt_call_in_mode(PRV_U, (fn_t)(T_UX + (u_load - ucode_page)), T_RW), T_RW);
    CHECKEQ(rt_strap.mode, PRV_U);
    EXPECT_SFAULT(EXC_LOAD_PAGE, T_RW);
    rt_call_in_mode(PRV_U, (fn_t)(T_UX + (u_load - ucode_page)), T_X);
    EXPECT_SFAULT(EXC_LOAD_PAGE, T_X);
    /* U fetch from an S page: recover to the U return stub. */
    rt_recover = T_UX + (u_ret - ucode_page);
    rt_call_in_mode(PRV_U, (fn_t)(T_RW), 0);
    EXPECT_SFAULT(EXC_INSN_PAGE, T_RW);
    /* SUM does not matter to U; U stores to its page. */
    CHECKEQ(pa32(&pages[3][0x40]), 0x76757473);
    rt_call_in_mode(PRV_U, (fn_t)(T_UX + (u_store - ucode_page)), T_U + 0x40);
    CHECKEQ(rt_strap.count, 0);
    CHECKEQ(pa32(&pages[3][0x40]), 0);                   /* a1 = 0 on entry */

    /* Not delegated: the fault goes to M, mtval = address, MPP = S. */
    csr_write(medeleg, 0);
    rt_trap_clear();
    rt_call_in_mode(PRV_S, (fn_t)(T_X + (u_load - ucode_page)), T_NA + 0x44);
    CHECK_MTRAP(EXC_LOAD_PAGE);
    CHECKEQ(rt_mtrap.tval, T_NA + 0x44);
    CHECKEQ((rt_mtrap.status & MSTATUS_MPP) >> 11, PRV_S);
    CHECKEQ(rt_strap.count, 0);
    csr_write(medeleg, (1u << EXC_INSN_PAGE) | (1u << EXC_LOAD_PAGE) | (1u << EXC_STORE_PAGE));

#if IS_RV64
    /* Sv48. */
    csr_write(satp, SATP_SV48 | ((ureg)root48 >> 12));
    rt_sfence();
    CHECKEQ(csr_read(satp), SATP_SV48 | ((ureg)root48 >> 12));
    CHECKEQ(rt_call_in_mode(PRV_S, s_sv48, 0), 1);
    /* An unsupported mode leaves satp unchanged. */
    csr_write(satp, ((ureg)1 << 60) | 0x1234);
    CHECKEQ(csr_read(satp), SATP_SV48 | ((ureg)root48 >> 12));
#endif
    /* M is never translated (MPRV = 0). */
    CHECKEQ(pa32(&pages[0][12]), 0xa5a5f00d);
    csr_write(satp, 0);
    rt_sfence();
    csr_write(medeleg, 0);
    rt_trap_clear();
    return 0;
}
