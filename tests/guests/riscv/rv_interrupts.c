/* rv_interrupts: interrupt delivery.
 * CLINT timer (MTIP) taken with mie.MTIE + mstatus.MIE and cleared by a
 * new mtimecmp; CLINT software interrupt (MSIP); pending-but-disabled
 * interrupts stay pending (mip) and are taken once enabled; WFI wakes on a
 * pending enabled interrupt even with MIE = 0 (and no trap is taken);
 * STIP set by M in mip, delegated through mideleg, taken in S; SSIP raised
 * by S itself; S-level interrupts taken from U regardless of SIE; M-level
 * interrupts taken in S regardless of MIE; external interrupt (MEIP) from
 * the UART through the PLIC (source 10, context 0); priorities among
 * simultaneously pending interrupts (see test_priority). */
#include "rt.h"

RT_TEST_NAME("rv_interrupts");

/* Sequence of causes taken (M and S handlers). */
static volatile ureg seq[16];
static volatile int nseq;

static void seq_reset(void)
{
    nseq = 0;
    for (int i = 0; i < 16; i++)
        seq[i] = 0;
}

#define PLIC_PRIO(src)     (RT_PLIC_BASE + 4 * (src))
#define PLIC_PENDING       (RT_PLIC_BASE + 0x1000)
#define PLIC_ENABLE(ctx)   (RT_PLIC_BASE + 0x2000 + 0x80 * (ctx))
#define PLIC_THRESH(ctx)   (RT_PLIC_BASE + 0x200000 + 0x1000 * (ctx))
#define PLIC_CLAIM(ctx)    (RT_PLIC_BASE + 0x200004 + 0x1000 * (ctx))
#define UART_IRQ 10
#define UART_IER (RT_UART_BASE + 1)

/* M hook: record the interrupt and silence its source. */
static int m_hook(rt_frame *f, ureg cause, ureg epc, ureg tval)
{
    (void)f; (void)epc; (void)tval;
    if (!(cause & CAUSE_INT))
        return 0;
    if (nseq < 16)
        seq[nseq++] = cause;
    switch (cause & 0xff) {
    case IRQ_MTI:
        rt_set_mtimecmp(~0ull);
        break;
    case IRQ_MSI:
        MMIO32(RT_CLINT_MSIP) = 0;
        break;
    case IRQ_MEI: {
        MMIO8(UART_IER) = 0;
        uint32_t id = MMIO32(PLIC_CLAIM(0));
        if (nseq < 16)
            seq[nseq++] = 0x1000 + id;
        MMIO32(PLIC_CLAIM(0)) = id;
        break;
    }
    case IRQ_SEI: case IRQ_SSI: case IRQ_STI:
        csr_clear(mip, (ureg)1 << (cause & 0xff));
        break;
    }
    return 1;
}

/* S hook: record; S can clear SSIP itself, not STIP: mask it in sie. */
static int s_hook(rt_frame *f, ureg cause, ureg epc, ureg tval)
{
    (void)f; (void)epc; (void)tval;
    if (!(cause & CAUSE_INT))
        return 0;
    if (nseq < 16)
        seq[nseq++] = cause | 0x100;
    if ((cause & 0xff) == IRQ_SSI)
        csr_clear(sip, MIP_SSIP);
    else
        csr_clear(sie, (ureg)1 << (cause & 0xff));
    return 1;
}

static void spin_until(volatile int *n, int want)
{
    for (long i = 0; i < 2000000 && *n < want; i++)
        __asm__ volatile("nop");
}

static void test_timer(void)
{
    seq_reset();
    rt_trap_clear();
    csr_write(mie, MIP_MTIP);
    rt_set_mtimecmp(rt_mtime() + 2000);         /* 200 us */
    CHECKEQ(csr_read(mip) & MIP_MTIP, 0);
    csr_set(mstatus, MSTATUS_MIE);
    /* WFI with MIE = 1: wakes and takes the interrupt. */
    while (nseq == 0)
        __asm__ volatile("wfi");
    csr_clear(mstatus, MSTATUS_MIE);
    CHECKEQ(nseq, 1);
    CHECKEQ(seq[0], CAUSE_INT | IRQ_MTI);
    CHECKEQ(rt_mtrap.cause, CAUSE_INT | IRQ_MTI);
    CHECKEQ(rt_mtrap.tval, 0);
    CHECKEQ(csr_read(mip) & MIP_MTIP, 0);
    /* mtimecmp in the past: pending at once; disabled in mie: not taken. */
    csr_write(mie, 0);
    csr_set(mstatus, MSTATUS_MIE);
    rt_set_mtimecmp(0);
    for (int i = 0; i < 100; i++)
        __asm__ volatile("nop");
    CHECKEQ(nseq, 1);
    CHECKEQ(csr_read(mip) & MIP_MTIP, MIP_MTIP);
    csr_write(mie, MIP_MTIP);                   /* now it is taken */
    spin_until(&nseq, 2);
    csr_clear(mstatus, MSTATUS_MIE);
    CHECKEQ(nseq, 2);
    CHECKEQ(seq[1], CAUSE_INT | IRQ_MTI);
    csr_write(mie, 0);
}

static void test_software(void)
{
    seq_reset();
    rt_trap_clear();
    MMIO32(RT_CLINT_MSIP) = 1;
    CHECKEQ(MMIO32(RT_CLINT_MSIP), 1);
    CHECKEQ(csr_read(mip) & MIP_MSIP, MIP_MSIP);
    csr_write(mie, MIP_MSIP);
    CHECKEQ(nseq, 0);                           /* MIE still 0 */
    csr_set(mstatus, MSTATUS_MIE);
    spin_until(&nseq, 1);
    csr_clear(mstatus, MSTATUS_MIE);
    CHECKEQ(nseq, 1);
    CHECKEQ(seq[0], CAUSE_INT | IRQ_MSI);
    CHECKEQ(csr_read(mip) & MIP_MSIP, 0);
    CHECKEQ(rt_mtrap.status & MSTATUS_MPIE, MSTATUS_MPIE);
    CHECKEQ((rt_mtrap.status & MSTATUS_MPP) >> 11, PRV_M);
    csr_write(mie, 0);
}

static void test_wfi_no_mie(void)
{
    seq_reset();
    rt_trap_clear();
    csr_clear(mstatus, MSTATUS_MIE);
    csr_write(mie, MIP_MTIP);
    rt_set_mtimecmp(rt_mtime() + 2000);
    /* WFI returns once MTIP is pending (enabled in mie) even though MIE is
     * 0; no trap.  (WFI may also return early: loop on mip.) */
    for (long i = 0; i < 100000 && !(csr_read(mip) & MIP_MTIP); i++)
        __asm__ volatile("wfi");
    CHECKEQ(csr_read(mip) & MIP_MTIP, MIP_MTIP);
    CHECKEQ(nseq, 0);
    CHECKEQ(rt_mtrap.count, 0);
    rt_set_mtimecmp(~0ull);
    CHECKEQ(csr_read(mip) & MIP_MTIP, 0);
    csr_write(mie, 0);
    /* A software interrupt likewise. */
    csr_write(mie, MIP_MSIP);
    MMIO32(RT_CLINT_MSIP) = 1;
    __asm__ volatile("wfi");
    CHECKEQ(csr_read(mip) & MIP_MSIP, MIP_MSIP);
    CHECKEQ(rt_mtrap.count, 0);
    MMIO32(RT_CLINT_MSIP) = 0;
    csr_write(mie, 0);
}

static ureg s_spin(ureg n)
{
    for (ureg i = 0; i < n && nseq == 0; i++)
        __asm__ volatile("nop");
    return nseq;
}

static ureg s_raise_ssip(ureg arg)
{
    (void)arg;
    csr_set(sie, MIP_SSIP);
    csr_set(sstatus, MSTATUS_SIE);
    csr_set(sip, MIP_SSIP);
    for (int i = 0; i < 1000 && nseq == 0; i++)
        __asm__ volatile("nop");
    csr_clear(sstatus, MSTATUS_SIE);
    return csr_read(sip);
}

static void test_supervisor(void)
{
    /* STIP by M, delegated, taken in S with SIE = 1. */
    csr_write(mideleg, MIP_SSIP | MIP_STIP | MIP_SEIP);
    csr_write(mie, MIP_STIP);
    csr_set(mip, MIP_STIP);
    CHECKEQ(csr_read(sip) & MIP_STIP, MIP_STIP);
    seq_reset();
    rt_trap_clear();
    CHECKEQ(rt_call_in_mode(PRV_S, s_spin, 1000), 0);   /* SIE = 0: not taken */
    CHECKEQ(nseq, 0);
    csr_set(mstatus, MSTATUS_SIE);
    CHECKEQ(rt_call_in_mode(PRV_S, s_spin, 100000), 1);
    csr_clear(mstatus, MSTATUS_SIE);
    CHECKEQ(nseq, 1);
    CHECKEQ(seq[0], 0x100 | CAUSE_INT | IRQ_STI);
    CHECKEQ(rt_strap.cause, CAUSE_INT | IRQ_STI);
    CHECKEQ(rt_strap.mode, PRV_S);
    CHECKEQ(rt_mtrap.count, 0);
    /* S could not clear STIP; M does. */
    CHECKEQ(csr_read(mip) & MIP_STIP, MIP_STIP);
    csr_clear(mip, MIP_STIP);

    /* From U, a delegated S interrupt is taken whatever SIE says. */
    csr_write(mie, MIP_STIP);
    csr_set(mip, MIP_STIP);
    seq_reset();
    rt_trap_clear();
    CHECKEQ(rt_call_in_mode(PRV_U, s_spin, 100000), 1);
    CHECKEQ(seq[0], 0x100 | CAUSE_INT | IRQ_STI);
    CHECKEQ(rt_strap.mode, PRV_U);
    csr_clear(mip, MIP_STIP);

    /* SSIP raised by S itself. */
    csr_write(mie, 0);
    seq_reset();
    rt_trap_clear();
    CHECKEQ(rt_call_in_mode(PRV_S, s_raise_ssip, 0) & MIP_SSIP, 0);
    CHECKEQ(nseq, 1);
    CHECKEQ(seq[0], 0x100 | CAUSE_INT | IRQ_SSI);

    /* Not delegated: STIP goes to M, taken in S even with MIE = 0. */
    csr_write(mideleg, 0);
    csr_write(mie, MIP_STIP);
    csr_set(mip, MIP_STIP);
    seq_reset();
    rt_trap_clear();
    CHECKEQ(rt_call_in_mode(PRV_S, s_spin, 100000), 1);
    CHECKEQ(seq[0], CAUSE_INT | IRQ_STI);
    CHECKEQ(rt_mtrap.mode, PRV_S);
    CHECKEQ(csr_read(mip) & MIP_STIP, 0);
    /* M-level software interrupt in S with MIE = 0. */
    csr_write(mie, MIP_MSIP);
    MMIO32(RT_CLINT_MSIP) = 1;
    seq_reset();
    rt_trap_clear();
    CHECKEQ(rt_call_in_mode(PRV_S, s_spin, 100000), 1);
    CHECKEQ(seq[0], CAUSE_INT | IRQ_MSI);
    CHECKEQ((rt_mtrap.status & MSTATUS_MPP) >> 11, PRV_S);
    csr_write(mie, 0);
}

static void uart_irq_on(void)
{
    MMIO32(PLIC_PRIO(UART_IRQ)) = 1;
    MMIO32(PLIC_ENABLE(0)) = 1u << UART_IRQ;
    MMIO32(PLIC_THRESH(0)) = 0;
    MMIO8(UART_IER) = 0x02;                     /* THR empty interrupt */
}

static void test_external(void)
{
    seq_reset();
    rt_trap_clear();
    uart_irq_on();
    for (int i = 0; i < 1000 && !(csr_read(mip) & MIP_MEIP); i++)
        __asm__ volatile("nop");
    CHECKEQ(csr_read(mip) & MIP_MEIP, MIP_MEIP);
    csr_write(mie, MIP_MEIP);
    csr_set(mstatus, MSTATUS_MIE);
    spin_until(&nseq, 2);
    csr_clear(mstatus, MSTATUS_MIE);
    CHECKEQ(nseq, 2);
    CHECKEQ(seq[0], CAUSE_INT | IRQ_MEI);
    CHECKEQ(seq[1], 0x1000 + UART_IRQ);
    for (int i = 0; i < 100; i++)
        __asm__ volatile("nop");
    CHECKEQ(csr_read(mip) & MIP_MEIP, 0);
    csr_write(mie, 0);
}

/* All six M-level sources pending at once (MIE = 0, then MIE = 1): taken
 * one at a time, highest priority first (each handler silences its
 * source).  The architectural order is MEI > MSI > MTI > SEI > SSI > STI.
 * QEMU 7.2 without AIA takes the lowest-numbered pending bit instead, so
 * by default only the orders on which both agree are checked:
 * MSI > MTI > SEI, and SSI > STI (in M and, delegated, in S).  Build with
 * -DRT_STRICT_SPEC to check the full order (MEI first, SEI > SSI). */
static void raise_m(ureg bits)
{
    if (bits & MIP_MEIP)
        uart_irq_on();
    if (bits & MIP_MSIP)
        MMIO32(RT_CLINT_MSIP) = 1;
    if (bits & MIP_MTIP)
        rt_set_mtimecmp(0);
    csr_set(mip, bits & (MIP_SEIP | MIP_SSIP | MIP_STIP));
    for (int i = 0; i < 1000 && (csr_read(mip) & bits) != bits; i++)
        __asm__ volatile("nop");
    CHECKEQ(csr_read(mip), bits);
}

static void take_all(int n)
{
    csr_set(mstatus, MSTATUS_MIE);
    spin_until(&nseq, n);
    csr_clear(mstatus, MSTATUS_MIE);
    CHECKEQ(nseq, n);
    CHECKEQ(csr_read(mip), 0);
    csr_write(mie, 0);
}

static void test_priority(void)
{
    const ureg M3 = MIP_MSIP | MIP_MTIP | MIP_SEIP;
    csr_write(mideleg, 0);
    csr_write(mie, 0);

    seq_reset();
    rt_trap_clear();
    raise_m(M3);
    csr_write(mie, M3);
    CHECKEQ(nseq, 0);
    take_all(3);
    CHECKEQ(seq[0], CAUSE_INT | IRQ_MSI);
    CHECKEQ(seq[1], CAUSE_INT | IRQ_MTI);
    CHECKEQ(seq[2], CAUSE_INT | IRQ_SEI);

    seq_reset();
    raise_m(MIP_SSIP | MIP_STIP);
    csr_write(mie, MIP_SSIP | MIP_STIP);
    take_all(2);
    CHECKEQ(seq[0], CAUSE_INT | IRQ_SSI);
    CHECKEQ(seq[1], CAUSE_INT | IRQ_STI);

#ifdef RT_STRICT_SPEC
    const ureg ALL = MIP_MEIP | MIP_MSIP | MIP_MTIP | MIP_SEIP | MIP_SSIP | MIP_STIP;
    seq_reset();
    raise_m(ALL);
    csr_write(mie, ALL);
    take_all(7);
    CHECKEQ(seq[0], CAUSE_INT | IRQ_MEI);
    CHECKEQ(seq[1], 0x1000 + UART_IRQ);
    CHECKEQ(seq[2], CAUSE_INT | IRQ_MSI);
    CHECKEQ(seq[3], CAUSE_INT | IRQ_MTI);
    CHECKEQ(seq[4], CAUSE_INT | IRQ_SEI);
    CHECKEQ(seq[5], CAUSE_INT | IRQ_SSI);
    CHECKEQ(seq[6], CAUSE_INT | IRQ_STI);
#endif

    /* Delegated S interrupts, taken in S on entry to U. */
    csr_write(mideleg, MIP_SEIP | MIP_SSIP | MIP_STIP);
    seq_reset();
    rt_trap_clear();
    csr_set(mip, MIP_SSIP | MIP_STIP);
    csr_write(mie, MIP_SSIP | MIP_STIP);
    rt_call_in_mode(PRV_U, s_spin, 0);
    CHECKEQ(nseq, 2);
    CHECKEQ(seq[0], 0x100 | CAUSE_INT | IRQ_SSI);
    CHECKEQ(seq[1], 0x100 | CAUSE_INT | IRQ_STI);
    csr_clear(mip, MIP_SEIP | MIP_SSIP | MIP_STIP);
#ifdef RT_STRICT_SPEC
    seq_reset();
    csr_set(mip, MIP_SEIP | MIP_SSIP | MIP_STIP);
    csr_write(mie, MIP_SEIP | MIP_SSIP | MIP_STIP);
    rt_call_in_mode(PRV_U, s_spin, 0);
    CHECKEQ(nseq, 3);
    CHECKEQ(seq[0], 0x100 | CAUSE_INT | IRQ_SEI);
    CHECKEQ(seq[1], 0x100 | CAUSE_INT | IRQ_SSI);
    CHECKEQ(seq[2], 0x100 | CAUSE_INT | IRQ_STI);
    csr_clear(mip, MIP_SEIP | MIP_SSIP | MIP_STIP);
#endif
    csr_write(mie, 0);
    csr_write(mideleg, 0);
}

int main(void)
{
    rt_mhook = m_hook;
    rt_shook = s_hook;
    test_timer();
    test_software();
    test_wfi_no_mie();
    test_supervisor();
    test_external();
    test_priority();
    rt_mhook = 0;
    rt_shook = 0;
    seq_reset();
    rt_trap_clear();
    return 0;
}
