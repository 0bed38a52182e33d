/* rv_pmp: physical memory protection (16 entries).
 * A NAPOT read-only page, a TOR read-write page, a NAPOT no-access page, a
 * NAPOT execute-only page, and a NAPOT entry for all of RAM (RWX) at lower
 * priority; checked from S and U (loads, stores, fetches; access faults
 * with mtval = the address), addresses matching no entry denied to S/U
 * (the UART), M unaffected by unlocked entries, MPRV making M's loads use
 * S's permissions, and a locked entry that applies to M and ignores later
 * writes to its pmpcfg byte and pmpaddr. */
#include "rt.h"

RT_TEST_NAME("rv_pmp");

#define PMP_R 0x01
#define PMP_W 0x02
#define PMP_X 0x04
#define PMP_OFF 0x00
#define PMP_TOR 0x08
#define PMP_NA4 0x10
#define PMP_NAPOT 0x18
#define PMP_L 0x80

static uint8_t ppages[6][4096] __attribute__((aligned(4096)));
#define P_RO   ((ureg)ppages[0])
#define P_TOR  ((ureg)ppages[1])
#define P_NONE ((ureg)ppages[2])
#define P_LOCK ((ureg)ppages[3])
#define P_XO   ((ureg)ppages[4])

static uint8_t cfg[16];

static void write_cfg(void)
{
#if IS_RV64
    ureg c0 = 0, c2 = 0;
    for (int i = 0; i < 8; i++) {
        c0 |= (ureg)cfg[i] << (8 * i);
        c2 |= (ureg)cfg[8 + i] << (8 * i);
    }
    csr_write(pmpcfg0, c0);
    csr_write(pmpcfg2, c2);
#else
    ureg c[4] = { 0, 0, 0, 0 };
    for (int i = 0; i < 16; i++)
        c[i / 4] |= (ureg)cfg[i] << (8 * (i % 4));
    csr_write(pmpcfg0, c[0]);
    csr_write(pmpcfg1, c[1]);
    csr_write(pmpcfg2, c[2]);
    csr_write(pmpcfg3, c[3]);
#endif
}

static unsigned read_cfg(int i)
{
#if IS_RV64
    ureg c = i < 8 ? csr_read(pmpcfg0) : csr_read(pmpcfg2);
    return (c >> (8 * (i % 8))) & 0xff;
#else
    ureg c;
    switch (i / 4) {
    case 0: c = csr_read(pmpcfg0); break;
    case 1: c = csr_read(pmpcfg1); break;
    case 2: c = csr_read(pmpcfg2); break;
    default: c = csr_read(pmpcfg3); break;
    }
    return (c >> (8 * (i % 4))) & 0xff;
#endif
}

static ureg napot(ureg base, ureg size)
{
    return (base >> 2) | ((size >> 3) - 1);
}

static void setup(void)
{
    for (int i = 0; i < 16; i++)
        cfg[i] = 0;
    write_cfg();                /* all off while addresses change */
    csr_write(pmpaddr0, napot(P_RO, 4096));
    csr_write(pmpaddr1, P_TOR >> 2);
    csr_write(pmpaddr2, (P_TOR + 4096) >> 2);
    csr_write(pmpaddr3, napot(P_NONE, 4096));
    csr_write(pmpaddr4, napot(P_XO, 4096));
    csr_write(pmpaddr5, napot(P_LOCK, 4096));
    csr_write(pmpaddr6, napot(0x80000000ul, 128ul << 20));
    cfg[0] = PMP_NAPOT | PMP_R;
    cfg[1] = PMP_OFF;
    cfg[2] = PMP_TOR | PMP_R | PMP_W;
    cfg[3] = PMP_NAPOT;
    cfg[4] = PMP_NAPOT | PMP_X;
    cfg[5] = PMP_NAPOT | PMP_R;
    cfg[6] = PMP_NAPOT | PMP_R | PMP_W | PMP_X;
    write_cfg();
    rt_sfence();
    for (int i = 0; i < 16; i++)
        CHECKEQ(read_cfg(i), cfg[i]);
    CHECKEQ(csr_read(pmpaddr0), napot(P_RO, 4096));
    CHECKEQ(csr_read(pmpaddr2), (P_TOR + 4096) >> 2);
    CHECKEQ(csr_read(pmpaddr6), napot(0x80000000ul, 128ul << 20));
    CHECKEQ(csr_read(pmpaddr15), 0);
}

static ureg s_load(ureg a) { return *(volatile uint32_t *)a; }
static ureg s_store(ureg a) { *(volatile uint32_t *)a = 0x11223344; return 0; }
static ureg s_fetch(ureg a)
{
    rt_recover = RT_RECOVER_RA;
    ureg r = ((ureg (*)(ureg))a)(41);
    rt_recover = 0;
    return r;
}

/* Expect exactly one access fault with this cause and mtval. */
#define EXPECT_FAULT(cause_, addr_) do { \
        CHECK_MTRAP(cause_); \
        CHECKEQ(rt_mtrap.tval, (ureg)(addr_)); \
        rt_trap_clear(); \
    } while (0)
#define EXPECT_OK() do { CHECKEQ(rt_mtrap.count, 0); rt_trap_clear(); } while (0)

static void lower_mode_checks(int mode)
{
    rt_trap_clear();
    /* Read-only NAPOT page. */
    CHECKEQ(rt_call_in_mode(mode, s_load, P_RO + 8), 0x0b0a0908);
    EXPECT_OK();
    rt_call_in_mode(mode, s_store, P_RO + 12);
    EXPECT_FAULT(EXC_STORE_ACCESS, P_RO + 12);
    CHECKEQ(*(volatile uint32_t *)(P_RO + 12), 0x0f0e0d0c);
    rt_call_in_mode(mode, s_fetch, P_RO);
    EXPECT_FAULT(EXC_INSN_ACCESS, P_RO);
    /* TOR read-write page (its last word, and the first word after it
     * falls in the RAM entry). */
    rt_call_in_mode(mode, s_store, P_TOR + 4092);
    EXPECT_OK();
    CHECKEQ(rt_call_in_mode(mode, s_load, P_TOR + 4092), 0x11223344);
    EXPECT_OK();
    rt_call_in_mode(mode, s_fetch, P_TOR);
    EXPECT_FAULT(EXC_INSN_ACCESS, P_TOR);
    /* No permissions. */
    rt_call_in_mode(mode, s_load, P_NONE + 4);
    EXPECT_FAULT(EXC_LOAD_ACCESS, P_NONE + 4);
    rt_call_in_mode(mode, s_store, P_NONE + 8);
    EXPECT_FAULT(EXC_STORE_ACCESS, P_NONE + 8);
    /* Execute-only: runs, but cannot be read. */
    CHECKEQ(rt_call_in_mode(mode, s_fetch, P_XO), 42);
    EXPECT_OK();
    rt_call_in_mode(mode, s_load, P_XO);
    EXPECT_FAULT(EXC_LOAD_ACCESS, P_XO);
    /* No entry matches: denied to S/U. */
    rt_call_in_mode(mode, s_load, RT_UART_BASE + 5);
    EXPECT_FAULT(EXC_LOAD_ACCESS, RT_UART_BASE + 5);
    rt_call_in_mode(mode, s_store, RT_FINISHER);
    EXPECT_FAULT(EXC_STORE_ACCESS, RT_FINISHER);
}

int main(void)
{
    for (int p = 0; p < 6; p++)
        for (int i = 0; i < 4096; i++)
            ppages[p][i] = (uint8_t)i;
    /* X-only page: a function returning a0 + 1. */
    static const uint32_t code[] = { 0x00150513, 0x00008067 };   /* addi a0,a0,1; ret */
    memcpy((void *)P_XO, code, sizeof(code));
    rt_fence_i();
    setup();

    lower_mode_checks(PRV_S);
    lower_mode_checks(PRV_U);

    /* M ignores unlocked entries. */
    rt_trap_clear();
    *(volatile uint32_t *)(P_NONE + 16) = 0xfeedface;
    CHECKEQ(*(volatile uint32_t *)(P_NONE + 16), 0xfeedface);
    *(volatile uint32_t *)(P_RO + 16) = 0x01020304;
    CHECKEQ(*(volatile uint32_t *)(P_RO + 16), 0x01020304);
    CHECKEQ(*(volatile uint32_t *)(P_XO), code[0]);
    CHECKEQ(rt_mtrap.count, 0);

    /* MPRV = 1, MPP = S: M's loads and stores are checked as S. */
    ureg v = 0;
    rt_trap_clear();
    __asm__ volatile("li t0, 0x1800\n\tcsrc mstatus, t0\n\t"
                     "li t0, 0x20800\n\tcsrs mstatus, t0\n\t"   /* MPRV | MPP=S */
                     "lw %0, 0(%1)\n\t"
                     "li t0, 0x20000\n\tcsrc mstatus, t0"
                     : "+r"(v) : "r"(P_NONE + 16) : "t0", "memory");
    EXPECT_FAULT(EXC_LOAD_ACCESS, P_NONE + 16);
    __asm__ volatile("li t0, 0x1800\n\tcsrc mstatus, t0\n\t"
                     "li t0, 0x20800\n\tcsrs mstatus, t0\n\t"
                     "lw %0, 0(%1)\n\t"
                     "li t0, 0x20000\n\tcsrc mstatus, t0"
                     : "+r"(v) : "r"(P_RO + 16) : "t0", "memory");
    EXPECT_OK();
    CHECKEQ(v, 0x01020304);
    /* MPRV does not affect fetches: M keeps running (this code is RAM). */

    /* Lock entry 5 (read-only): now it binds M too. */
    *(volatile uint32_t *)(P_LOCK + 32) = 0x5a5a5a5a;
    cfg[5] = PMP_L | PMP_NAPOT | PMP_R;
    write_cfg();
    CHECKEQ(read_cfg(5), PMP_L | PMP_NAPOT | PMP_R);
    rt_trap_clear();
    CHECKEQ(*(volatile uint32_t *)(P_LOCK + 32), 0x5a5a5a5a);
    EXPECT_OK();
    *(volatile uint32_t *)(P_LOCK + 36) = 1;
    EXPECT_FAULT(EXC_STORE_ACCESS, P_LOCK + 36);
    CHECKEQ(*(volatile uint32_t *)(P_LOCK + 36), 0x27262524);
    rt_recover = RT_RECOVER_RA;
    ((void (*)(void))P_LOCK)();
    EXPECT_FAULT(EXC_INSN_ACCESS, P_LOCK);
    /* Writes to a locked entry are ignored; its neighbours still change. */
    cfg[5] = PMP_NAPOT | PMP_R | PMP_W | PMP_X;
    cfg[7] = PMP_NAPOT;
    write_cfg();
    CHECKEQ(read_cfg(5), PMP_L | PMP_NAPOT | PMP_R);
    CHECKEQ(read_cfg(7), PMP_NAPOT);
    csr_write(pmpaddr5, 0);
    CHECKEQ(csr_read(pmpaddr5), napot(P_LOCK, 4096));
    *(volatile uint32_t *)(P_LOCK + 40) = 1;
    EXPECT_FAULT(EXC_STORE_ACCESS, P_LOCK + 40);
    cfg[5] = PMP_L | PMP_NAPOT | PMP_R;
    cfg[7] = 0;
    write_cfg();
    /* S is bound by it as well. */
    rt_call_in_mode(PRV_S, s_store, P_LOCK + 44);
    EXPECT_FAULT(EXC_STORE_ACCESS, P_LOCK + 44);
    rt_trap_clear();
    return 0;
}
