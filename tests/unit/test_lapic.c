#include <criterion/criterion.h>
#include <glib.h>

#include "devices/lapic.h"
#include "vmm/machine.h"

#include "dev_machine.h"

#define B LAPIC_BASE

enum {
    ID = 0x20, VER = 0x30, TPR = 0x80, APR = 0x90, PPR = 0xa0, EOI = 0xb0,
    LDR = 0xd0, DFR = 0xe0, SVR = 0xf0, ISR = 0x100, TMR = 0x180, IRR = 0x200,
    ESR = 0x280, ICR_LO = 0x300, ICR_HI = 0x310, LVT_TIMER = 0x320,
    LVT_THERMAL = 0x330, LVT_PERF = 0x340, LINT0 = 0x350, LINT1 = 0x360,
    LVT_ERR = 0x370, TICR = 0x380, TCCR = 0x390, TDCR = 0x3e0,
};

static uint64_t icount;
static Machine *m;
static Lapic *l;
static int intr, nmis, eois[256], neoi;
static int pic_vec, pic_acks;
static bool pic_int;
static IrqLine lint0, lint1;

static void set_intr(void *opaque, int n, int level) { intr = level; }
static void on_nmi(void *opaque) { nmis++; }
static void on_eoi(void *opaque, int v) { eois[neoi++ & 255] = v; }
static int pic_ack(void *opaque) { pic_acks++; return pic_vec; }
static bool pic_pending(void *opaque) { return pic_int; }

static void run_to(int64_t ns) { dev_machine_run_to(m, &icount, ns); }

static uint32_t rd(uint64_t off)
{
    uint64_t v = 0;
    cr_assert_eq(as_read(&m->as, B + off, 4, &v), MEM_OK);
    return (uint32_t)v;
}

static void wr(uint64_t off, uint32_t v)
{
    cr_assert_eq(as_write(&m->as, B + off, 4, v), MEM_OK);
}

static bool bit(uint64_t reg, int v) { return rd(reg + (v / 32) * 0x10) >> (v % 32) & 1; }

static void setup(void)
{
    m = dev_machine_new(&icount);
    intr = nmis = neoi = pic_acks = 0;
    pic_vec = 0x28;
    pic_int = false;
    l = lapic_create(m, irq_line(set_intr, NULL, 0), on_nmi, NULL);
    cr_assert_not_null(l);
    lapic_set_eoi_cb(l, on_eoi, NULL);
    lapic_set_extint(l, pic_ack, pic_pending, NULL);
    lint0 = lapic_lint0(l);
    lint1 = lapic_lint1(l);
}

static void teardown(void)
{
    dev_machine_free(m);
}

static void enable(void)
{
    wr(SVR, 0x1ff);
}

TestSuite(lapic, .init = setup, .fini = teardown);

Test(lapic, reset_values)
{
    cr_assert_eq(rd(ID), 0);
    cr_assert_eq(rd(VER), 0x00050014);
    cr_assert_eq(rd(TPR), 0);
    cr_assert_eq(rd(DFR), 0xffffffff);
    cr_assert_eq(rd(SVR), 0xff);
    cr_assert_eq(rd(LVT_TIMER), 0x10000);
    cr_assert_eq(rd(LVT_THERMAL), 0x10000);
    cr_assert_eq(rd(LVT_PERF), 0x10000);
    cr_assert_eq(rd(LINT0), 0x700);         /* ExtINT, as QEMU's pc */
    cr_assert_eq(rd(LINT1), 0x10000);
    cr_assert_eq(rd(LVT_ERR), 0x10000);
    cr_assert_eq(rd(TDCR), 0);
    cr_assert_eq(lapic_get_base(l), 0xfee00900);
    cr_assert_eq(intr, 0);
}

Test(lapic, access_widths)
{
    uint64_t v;
    wr(TPR, 0x20);
    /* Only aligned 32-bit accesses reach a register. */
    cr_assert_eq(as_read(&m->as, B + VER, 1, &v), MEM_OK);
    cr_assert_eq(v, 0);
    cr_assert_eq(as_read(&m->as, B + VER, 2, &v), MEM_OK);
    cr_assert_eq(v, 0);
    cr_assert_eq(as_read(&m->as, B + VER, 8, &v), MEM_OK);
    cr_assert_eq(v, 0);
    cr_assert_eq(as_read(&m->as, B + VER + 4, 4, &v), MEM_OK);
    cr_assert_eq(v, 0);
    cr_assert_eq(as_write(&m->as, B + TPR, 1, 0x70), MEM_OK);
    cr_assert_eq(as_write(&m->as, B + TPR, 8, 0x70), MEM_OK);
    cr_assert_eq(as_write(&m->as, B + TPR + 8, 4, 0x70), MEM_OK);
    cr_assert_eq(rd(TPR), 0x20);
    cr_assert_eq(rd(ESR), 0);                /* none of that is an error */
    /* Read-only registers ignore writes; reserved bits stay put. */
    wr(VER, 0);
    cr_assert_eq(rd(VER), 0x00050014);
    wr(ID, 0xffffffff);
    cr_assert_eq(rd(ID), 0xff000000);
    wr(DFR, 0);
    cr_assert_eq(rd(DFR), 0x0fffffff);
    wr(LDR, 0x12345678);
    cr_assert_eq(rd(LDR), 0x12000000);
    wr(TDCR, 0xffffffff);
    cr_assert_eq(rd(TDCR), 0xb);
    enable();
    wr(LVT_TIMER, 0xffffffff);              /* no TSC-deadline mode */
    cr_assert_eq(rd(LVT_TIMER), 0x300ff);
    wr(LINT0, 0xffffffff);
    cr_assert_eq(rd(LINT0), 0x1a7ff);
    wr(LVT_ERR, 0xffffffff);
    cr_assert_eq(rd(LVT_ERR), 0x100ff);
    wr(ICR_LO, 0xfffff0ff);                 /* all excluding self: nobody */
    cr_assert_eq(rd(ICR_LO), 0x000cc0ff);
    wr(ICR_HI, 0xffffffff);
    cr_assert_eq(rd(ICR_HI), 0xff000000);
}

Test(lapic, priority_classes)
{
    enable();
    lapic_deliver(l, 0x31, LAPIC_DM_FIXED, false, true);
    lapic_deliver(l, 0x52, LAPIC_DM_FIXED, false, true);
    lapic_deliver(l, 0x45, LAPIC_DM_FIXED, false, true);
    cr_assert(bit(IRR, 0x31) && bit(IRR, 0x52) && bit(IRR, 0x45));
    cr_assert_eq(intr, 1);
    cr_assert_eq(rd(APR), 0x50);
    cr_assert_eq(lapic_intr_ack(l), 0x52);
    cr_assert(bit(ISR, 0x52));
    cr_assert(!bit(IRR, 0x52));
    cr_assert_eq(rd(PPR), 0x50);
    cr_assert_eq(intr, 0);                  /* 0x45 is a lower class */
    /* Same class as the one in service: held too. */
    lapic_deliver(l, 0x5f, LAPIC_DM_FIXED, false, true);
    cr_assert_eq(intr, 0);
    lapic_deliver(l, 0x61, LAPIC_DM_FIXED, false, true);
    cr_assert_eq(intr, 1);
    cr_assert_eq(lapic_intr_ack(l), 0x61);
    cr_assert_eq(rd(PPR), 0x60);
    /* EOI retires the highest in service first. */
    wr(EOI, 0);
    cr_assert(!bit(ISR, 0x61));
    cr_assert(bit(ISR, 0x52));
    cr_assert_eq(intr, 0);
    wr(EOI, 0);
    cr_assert_eq(rd(PPR), 0);
    cr_assert_eq(intr, 1);
    cr_assert_eq(lapic_intr_ack(l), 0x5f);
    wr(EOI, 0);
    /* TPR holds off classes at or below it. */
    wr(TPR, 0x40);
    cr_assert_eq(rd(PPR), 0x40);
    cr_assert_eq(intr, 0);
    lapic_set_tpr(l, 0x3f);
    cr_assert_eq(rd(TPR), 0x3f);
    cr_assert_eq(lapic_get_tpr(l), 0x3f);
    cr_assert_eq(intr, 1);
    cr_assert_eq(lapic_intr_ack(l), 0x45);
    cr_assert_eq(rd(PPR), 0x40);
    cr_assert_eq(intr, 0);                  /* 0x31 is below class 4 */
    wr(EOI, 0);
    lapic_set_tpr(l, 0);
    cr_assert_eq(lapic_intr_ack(l), 0x31);
    wr(EOI, 0);
    cr_assert_eq(rd(ISR + 0x10), 0);
    cr_assert_eq(neoi, 0);                  /* edge-triggered: no broadcast */
    /* An EOI with nothing in service does nothing. */
    wr(EOI, 0);
    cr_assert_eq(intr, 0);
}

Test(lapic, level_triggered_eoi_broadcast)
{
    enable();
    lapic_deliver(l, 0x41, LAPIC_DM_FIXED, true, true);
    lapic_deliver(l, 0x42, LAPIC_DM_FIXED, false, true);
    cr_assert(bit(TMR, 0x41));
    cr_assert(!bit(TMR, 0x42));
    cr_assert_eq(lapic_intr_ack(l), 0x42);
    wr(EOI, 0);
    cr_assert_eq(neoi, 0);
    cr_assert_eq(lapic_intr_ack(l), 0x41);
    wr(EOI, 0);
    cr_assert_eq(neoi, 1);
    cr_assert_eq(eois[0], 0x41);
    /* A deassert message is not an interrupt. */
    lapic_deliver(l, 0x43, LAPIC_DM_FIXED, true, false);
    cr_assert_eq(intr, 0);
}

Test(lapic, spurious_and_disabled)
{
    /* Software-disabled: fixed interrupts are not accepted and INTA gives
     * the spurious vector. */
    lapic_deliver(l, 0x40, LAPIC_DM_FIXED, false, true);
    cr_assert(!bit(IRR, 0x40));
    cr_assert_eq(intr, 0);
    cr_assert_eq(lapic_intr_ack(l), 0xff);
    /* NMI messages still go through. */
    lapic_deliver(l, 0, LAPIC_DM_NMI, false, true);
    cr_assert_eq(nmis, 1);
    /* Enabled with spurious vector 0xef: INTR raised, then TPR masks the
     * vector before the CPU acknowledges. */
    wr(SVR, 0x1ef);
    lapic_deliver(l, 0x40, LAPIC_DM_FIXED, false, true);
    cr_assert_eq(intr, 1);
    lapic_set_tpr(l, 0x80);
    cr_assert_eq(lapic_intr_ack(l), 0xef);
    cr_assert(bit(IRR, 0x40));
    cr_assert(!bit(ISR, 0x40));
    /* Software disable holds IRR and masks every LVT entry for good. */
    lapic_set_tpr(l, 0);
    cr_assert_eq(intr, 1);
    wr(SVR, 0xef);
    cr_assert_eq(intr, 0);
    cr_assert(bit(IRR, 0x40));
    cr_assert_eq(rd(LINT0), 0x10700);
    wr(LVT_TIMER, 0x30);
    cr_assert_eq(rd(LVT_TIMER), 0x10030);
    wr(SVR, 0x1ef);
    cr_assert_eq(intr, 1);
    cr_assert_eq(lapic_intr_ack(l), 0x40);
}

Test(lapic, illegal_vectors_and_esr)
{
    enable();
    wr(LVT_ERR, 0x33);
    /* A fixed interrupt with vector < 16 is refused and logged. */
    lapic_deliver(l, 0x05, LAPIC_DM_FIXED, false, true);
    cr_assert_eq(rd(IRR), 0);
    cr_assert_eq(rd(ESR), 0);               /* not visible before an ESR write */
    wr(ESR, 0);
    cr_assert_eq(rd(ESR), 0x40);
    cr_assert(bit(IRR, 0x33));              /* the error interrupt */
    wr(ESR, 0);
    cr_assert_eq(rd(ESR), 0);
    /* A self IPI with an illegal vector: send and receive errors. */
    wr(ICR_LO, (1 << 18) | 0x02);
    wr(ESR, 0);
    cr_assert_eq(rd(ESR), 0x60);
    /* An unknown register. */
    cr_assert_eq(rd(0x2f0), 0);
    wr(0x400, 1);
    wr(ESR, 0);
    cr_assert_eq(rd(ESR), 0x80);
    /* An illegal error vector logs without recursing. */
    wr(LVT_ERR, 0x03);
    lapic_deliver(l, 0x01, LAPIC_DM_FIXED, false, true);
    wr(ESR, 0);
    cr_assert_eq(rd(ESR), 0x40);
}

Test(lapic, self_ipi)
{
    enable();
    wr(ICR_LO, (1 << 18) | 0x50);           /* self */
    cr_assert(bit(IRR, 0x50));
    cr_assert_eq(rd(ICR_LO) & (1 << 12), 0);
    wr(ICR_LO, (2 << 18) | 0x51);           /* all including self */
    cr_assert(bit(IRR, 0x51));
    wr(ICR_LO, (3 << 18) | 0x52);           /* all excluding self */
    cr_assert(!bit(IRR, 0x52));
    wr(ICR_HI, 0x00000000);                 /* physical ID 0 */
    wr(ICR_LO, 0x53);
    cr_assert(bit(IRR, 0x53));
    wr(ICR_HI, 0x01000000);                 /* physical ID 1: nobody */
    wr(ICR_LO, 0x54);
    cr_assert(!bit(IRR, 0x54));
    wr(LDR, 0x01000000);                    /* logical flat */
    wr(ICR_LO, (1 << 11) | 0x55);
    cr_assert(bit(IRR, 0x55));
    wr(ICR_HI, 0x02000000);
    wr(ICR_LO, (1 << 11) | 0x56);
    cr_assert(!bit(IRR, 0x56));
    wr(ICR_HI, 0);
    wr(ICR_LO, (4 << 8));                   /* NMI to ID 0 */
    cr_assert_eq(nmis, 1);
    wr(ICR_LO, (5 << 8) | (1 << 14));       /* INIT, SIPI: ignored */
    wr(ICR_LO, (6 << 8) | 0x10);
    cr_assert(lapic_match_dest(l, 0xff, false));
    cr_assert(lapic_match_dest(l, 0, false));
    wr(DFR, 0x0fffffff);                    /* cluster model */
    wr(LDR, 0x31000000);
    cr_assert(lapic_match_dest(l, 0x31, true));
    cr_assert(lapic_match_dest(l, 0x33, true));
    cr_assert(!lapic_match_dest(l, 0x21, true));
    cr_assert(!lapic_match_dest(l, 0x32, true));
}

Test(lapic, timer_one_shot)
{
    enable();
    wr(TDCR, 0xb);                          /* divide by 1: 1 tick per ns */
    wr(LVT_TIMER, 0x40);
    wr(TICR, 1000);
    cr_assert_eq(rd(TCCR), 1000);
    cr_assert_eq(vclock_next_deadline(&m->clock), 1000);
    run_to(400);
    cr_assert_eq(rd(TCCR), 600);
    run_to(999);
    cr_assert_eq(rd(TCCR), 1);
    cr_assert_eq(intr, 0);
    run_to(1000);
    cr_assert_eq(rd(TCCR), 0);
    cr_assert(bit(IRR, 0x40));
    cr_assert_eq(intr, 1);
    cr_assert_eq(vclock_next_deadline(&m->clock), INT64_MAX);
    cr_assert_eq(lapic_intr_ack(l), 0x40);
    wr(EOI, 0);
    run_to(100000);
    cr_assert_eq(intr, 0);
    cr_assert_eq(rd(TICR), 1000);
    /* Writing 0 stops a running count. */
    wr(TICR, 500);
    run_to(100100);
    cr_assert_eq(rd(TCCR), 400);
    wr(TICR, 0);
    cr_assert_eq(rd(TCCR), 0);
    cr_assert_eq(vclock_next_deadline(&m->clock), INT64_MAX);
}

Test(lapic, timer_periodic_divides)
{
    static const struct { uint32_t dcr; unsigned div; } d[] = {
        { 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
        { 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 },
    };
    enable();
    int64_t t = 0;
    for (unsigned i = 0; i < G_N_ELEMENTS(d); i++) {
        wr(TDCR, d[i].dcr);
        wr(LVT_TIMER, (1 << 17) | 0x60);
        wr(TICR, 10);
        int64_t period = 10 * (int64_t)d[i].div;
        cr_assert_eq(vclock_next_deadline(&m->clock), t + period);
        run_to(t + period / 2);
        cr_assert_eq(rd(TCCR), 5, "div %u", d[i].div);
        for (int k = 1; k <= 3; k++) {
            run_to(t + k * period - 1);
            cr_assert_eq(intr, 0);
            cr_assert_eq(rd(TCCR), 1);
            run_to(t + k * period);
            cr_assert_eq(intr, 1, "div %u period %d", d[i].div, k);
            cr_assert_eq(rd(TCCR), 10);     /* reloaded */
            cr_assert_eq(lapic_intr_ack(l), 0x60);
            wr(EOI, 0);
        }
        t += 3 * period;
        wr(TICR, 0);
    }
}

Test(lapic, timer_divide_change_and_mask)
{
    enable();
    wr(TDCR, 0x0);                          /* /2 */
    wr(LVT_TIMER, 0x41);
    wr(TICR, 100);                          /* 200 ns */
    run_to(100);
    cr_assert_eq(rd(TCCR), 50);
    wr(TDCR, 0x1);                          /* /4: the remaining 50 take 200 ns */
    cr_assert_eq(rd(TCCR), 50);
    cr_assert_eq(vclock_next_deadline(&m->clock), 300);
    run_to(200);
    cr_assert_eq(rd(TCCR), 25);
    run_to(300);
    cr_assert_eq(intr, 1);
    cr_assert_eq(lapic_intr_ack(l), 0x41);
    wr(EOI, 0);
    /* Masked: the count still runs, no Timer is armed, the expiry is lost. */
    wr(LVT_TIMER, 0x10041);
    wr(TICR, 100);                          /* 400 ns at /4 */
    cr_assert_eq(vclock_next_deadline(&m->clock), INT64_MAX);
    run_to(500);
    cr_assert_eq(rd(TCCR), 50);
    run_to(1000);
    cr_assert_eq(rd(TCCR), 0);
    wr(LVT_TIMER, 0x41);
    cr_assert_eq(intr, 0);
    cr_assert_eq(vclock_next_deadline(&m->clock), INT64_MAX);
    /* Periodic masked then unmasked: picks up the current period. */
    wr(LVT_TIMER, 0x10000 | (1 << 17) | 0x41);
    wr(TICR, 100);                          /* t=1000, period 400 */
    run_to(2100);
    cr_assert_eq(rd(TCCR), 25);
    wr(LVT_TIMER, (1 << 17) | 0x41);
    cr_assert_eq(intr, 0);
    cr_assert_eq(vclock_next_deadline(&m->clock), 2200);
    run_to(2200);
    cr_assert_eq(intr, 1);
    /* A late Timer callback still delivers once per catch-up. */
    cr_assert_eq(lapic_intr_ack(l), 0x41);
    wr(EOI, 0);
    icount = 3500;                          /* no timers run */
    wr(TDCR, 0x1);
    cr_assert_eq(intr, 1);
    cr_assert_eq(rd(TCCR), 75);
}

Test(lapic, extint_through_lint0)
{
    /* Reset state: LINT0 is ExtINT, so the 8259 reaches the CPU even
     * before the APIC is software-enabled. */
    pic_int = true;
    irq_set(&lint0, 1);
    cr_assert_eq(intr, 1);
    cr_assert(lapic_intr_pending(l));
    cr_assert_eq(lapic_intr_ack(l), 0x28);
    cr_assert_eq(pic_acks, 1);
    cr_assert_eq(rd(ISR + 0x10), 0);        /* ExtINT bypasses ISR */
    pic_int = false;
    irq_set(&lint0, 0);
    cr_assert_eq(intr, 0);
    /* Masked LINT0 blocks the 8259. */
    enable();
    wr(LINT0, 0x10700);
    pic_int = true;
    irq_set(&lint0, 1);
    cr_assert_eq(intr, 0);
    wr(LINT0, 0x8700);                      /* SeaBIOS's setting */
    cr_assert_eq(intr, 1);
    /* The 8259's pending() has the last word. */
    pic_int = false;
    wr(TPR, 0);
    cr_assert_eq(intr, 0);
    irq_set(&lint0, 0);
    /* LINT0 as fixed, edge: the rising edge sets IRR. */
    wr(LINT0, 0x37);
    irq_set(&lint0, 1);
    cr_assert(bit(IRR, 0x37));
    irq_set(&lint0, 0);
    /* Level-triggered fixed: remote IRR until EOI, then again if high. */
    wr(LINT0, 0x8038);
    irq_set(&lint0, 1);
    cr_assert(bit(IRR, 0x38));
    cr_assert(rd(LINT0) & (1 << 14));
    cr_assert_eq(lapic_intr_ack(l), 0x38);
    cr_assert(!bit(IRR, 0x38));
    wr(EOI, 0);
    cr_assert(bit(IRR, 0x38));
    irq_set(&lint0, 0);
    cr_assert_eq(lapic_intr_ack(l), 0x38);
    wr(EOI, 0);
    cr_assert_eq(rd(LINT0) & (1 << 14), 0);
    cr_assert_eq(lapic_intr_ack(l), 0x37);
}

Test(lapic, extint_message)
{
    enable();
    wr(LINT0, 0x10700);
    pic_int = true;
    lapic_deliver(l, 0, LAPIC_DM_EXTINT, false, true);
    cr_assert_eq(intr, 1);
    cr_assert_eq(lapic_intr_ack(l), 0x28);
    lapic_deliver(l, 0, LAPIC_DM_EXTINT, false, false);
    cr_assert_eq(intr, 0);
}

Test(lapic, nmi_through_lint1)
{
    irq_set(&lint1, 1);                     /* masked at reset */
    irq_set(&lint1, 0);
    cr_assert_eq(nmis, 0);
    enable();
    wr(LINT1, 0x8400);
    irq_set(&lint1, 1);
    cr_assert_eq(nmis, 1);
    irq_set(&lint1, 1);                     /* no edge */
    cr_assert_eq(nmis, 1);
    irq_set(&lint1, 0);
    /* Globally disabled: LINT1 is the NMI pin. */
    lapic_set_base(l, 0xfee00000);
    irq_set(&lint1, 1);
    cr_assert_eq(nmis, 2);
}

Test(lapic, virtual_wire_when_globally_disabled)
{
    enable();
    wr(LINT0, 0x10700);
    wr(TPR, 0x20);
    lapic_deliver(l, 0x40, LAPIC_DM_FIXED, false, true);
    cr_assert_eq(intr, 1);
    lapic_set_base(l, 0xfee00000);
    cr_assert_eq(lapic_get_base(l), 0xfee00100);
    cr_assert_eq(intr, 0);                  /* pending state is gone */
    cr_assert_eq(rd(VER), 0);               /* no registers */
    wr(SVR, 0x1ff);
    /* The 8259 goes straight to INTR whatever the LVT said. */
    pic_int = true;
    irq_set(&lint0, 1);
    cr_assert_eq(intr, 1);
    cr_assert_eq(lapic_intr_ack(l), 0x28);
    lapic_deliver(l, 0x41, LAPIC_DM_FIXED, false, true);
    pic_int = false;
    irq_set(&lint0, 0);
    cr_assert_eq(intr, 0);
    /* Re-enabled: the power-up state. */
    lapic_set_base(l, 0xfee00800);
    cr_assert_eq(rd(SVR), 0xff);
    cr_assert_eq(rd(TPR), 0);
    cr_assert_eq(rd(IRR + 0x20), 0);
    cr_assert_eq(rd(LINT0), 0x700);
}

Test(lapic, device_reset)
{
    enable();
    wr(LVT_TIMER, 0x40);
    wr(TICR, 1000);
    lapic_deliver(l, 0x50, LAPIC_DM_FIXED, false, true);
    lapic_set_base(l, 0);
    m->devices[0].ops->reset(m->devices[0].dev);
    cr_assert_eq(lapic_get_base(l), 0xfee00900);
    cr_assert_eq(intr, 0);
    cr_assert_eq(rd(SVR), 0xff);
    cr_assert_eq(vclock_next_deadline(&m->clock), INT64_MAX);
}

/* Any value, any width, any offset: nothing may crash, and INTA must keep
 * answering. */
Test(lapic, hostile_sweep)
{
    static const unsigned sizes[] = { 1, 2, 4, 8 };
    uint64_t x = 0x9e3779b97f4a7c15ull, v;
    pic_int = true;
    for (int round = 0; round < 6; round++) {
        for (uint64_t off = 0; off < LAPIC_MMIO_SIZE; off += 4) {
            x ^= x << 13; x ^= x >> 7; x ^= x << 17;
            uint64_t val = round == 0 ? ~0ull : round == 1 ? 0 : x;
            for (unsigned s = 0; s < 4; s++) {
                if (off % sizes[s])
                    continue;
                as_write(&m->as, B + off, sizes[s], val);
                as_read(&m->as, B + off, sizes[s], &v);
            }
            if ((x & 0xff) == 0)
                lapic_set_base(l, x);
            if ((x & 0x3f) == 1)
                lapic_set_base(l, 0xfee00800);
            lapic_deliver(l, (int)(x >> 8), (int)(x >> 16) & 7, x & 1, x & 2);
            irq_set(&lint0, (int)(x >> 20) & 1);
            irq_set(&lint1, (int)(x >> 21) & 1);
            if (intr) {
                int vec = lapic_intr_ack(l);
                cr_assert(vec >= 0 && vec < 256);
            }
            icount += x & 0xff;
            run_to((int64_t)icount);
        }
    }
    /* Still works. */
    lapic_set_base(l, 0xfee00800);
    enable();
    wr(TPR, 0);
    for (int i = 0; i < 256; i++)
        wr(EOI, 0);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(rd(ISR + i * 0x10), 0);
}

/* The line the "cannot wake up" message carries: what is in service and
 * requested, the priorities, the timer. */
Test(lapic, describe)
{
    GString *s = g_string_new(NULL);
    lapic_describe(l, s);
    cr_assert_str_eq(s->str, "local APIC: software-disabled, TPR 0, PPR 0; in service: none; "
                             "requested: none; timer masked, vector 0, not counting");
    enable();
    lapic_deliver(l, 0x30, LAPIC_DM_FIXED, false, true);
    lapic_deliver(l, 0x41, LAPIC_DM_FIXED, false, true);
    cr_assert_eq(lapic_intr_ack(l), 0x41);
    lapic_deliver(l, 0x3c, LAPIC_DM_FIXED, false, true);
    wr(TPR, 0x20);
    wr(LVT_TIMER, 0x200ec);
    wr(TICR, 1000);
    g_string_truncate(s, 0);
    lapic_describe(l, s);
    cr_assert_str_eq(s->str, "local APIC: enabled, TPR 0x20, PPR 0x40; in service: 0x41; "
                             "requested: 0x30 0x3c; timer unmasked, vector 0xec, periodic");
    g_string_free(s, TRUE);
}
