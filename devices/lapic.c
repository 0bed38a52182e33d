/* Local APIC, xAPIC mode, for a machine with one CPU.
 *
 * Registers are 32 bits on 16-byte boundaries; only aligned 4-byte
 * accesses reach them (other widths read 0 and write nothing: the SDM
 * leaves them undefined).
 *
 * Interrupts are accepted into IRR and dispatched by priority class
 * against PPR; an EOI retires the highest ISR bit and, for a level-
 * triggered vector (TMR), is broadcast to the IOAPIC through a callback.
 * ExtINT (LINT0 in ExtINT mode, or an ExtINT message from the IOAPIC)
 * bypasses IRR/ISR: INTR follows the 8259 and INTA is the 8259's.
 *
 * The timer counts at 1 GHz / divide in virtual time.  The current count is
 * computed from machine_ns() and the time the count (or the current
 * period) started, so nothing ticks; a Timer is armed only for the next
 * expiry, and only while the LVT entry is unmasked.
 *
 * Reset follows the SDM (power-up state) except LINT0, which comes up as
 * unmasked ExtINT on this BSP as on QEMU's pc: firmware written for it
 * relies on 8259 interrupts reaching the CPU before it programs the APIC. */
#include "devices/lapic.h"

#include <glib.h>

#include "devices/devsnap.h"
#include "vmm/clock.h"
#include "vmm/machine.h"
#include "vmm/memory.h"

enum { LVT_TIMER, LVT_THERMAL, LVT_PERF, LVT_LINT0, LVT_LINT1, LVT_ERROR, LVT_N };

#define LVT_VECTOR   0xffu
#define LVT_DM(v)    (((v) >> 8) & 7)
#define LVT_RIRR     (1u << 14)
#define LVT_LEVEL    (1u << 15)
#define LVT_MASK     (1u << 16)
#define LVT_PERIODIC (1u << 17)

/* Writable bits per LVT entry (delivery status and remote IRR are read-only;
 * bit 18, TSC-deadline mode, is reserved: the mode is not advertised). */
static const uint32_t lvt_wmask[LVT_N] = {
    [LVT_TIMER] = 0x300ff,
    [LVT_THERMAL] = 0x107ff,
    [LVT_PERF] = 0x107ff,
    [LVT_LINT0] = 0x1a7ff,
    [LVT_LINT1] = 0x1a7ff,
    [LVT_ERROR] = 0x100ff,
};

#define SVR_ENABLE   (1u << 8)
#define SVR_WMASK    0x3ffu         /* vector, enable, focus checking */

#define ESR_SEND_ILLEGAL (1u << 5)
#define ESR_RECV_ILLEGAL (1u << 6)
#define ESR_ILLEGAL_REG  (1u << 7)

#define ICR_WMASK    0x000ccfffu
#define BASE_MASK    (0x000ffffffffff800ull | LAPIC_BASE_BSP)    /* delivery status (12) always reads 0 */
#define ICR_LOGICAL  (1u << 11)

enum {
    REG_ID = 0x02, REG_VERSION = 0x03, REG_TPR = 0x08, REG_APR = 0x09,
    REG_PPR = 0x0a, REG_EOI = 0x0b, REG_RRD = 0x0c, REG_LDR = 0x0d,
    REG_DFR = 0x0e, REG_SVR = 0x0f, REG_ISR = 0x10, REG_TMR = 0x18,
    REG_IRR = 0x20, REG_ESR = 0x28, REG_ICR_LO = 0x30, REG_ICR_HI = 0x31,
    REG_LVT = 0x32, REG_TIMER_INIT = 0x38, REG_TIMER_CUR = 0x39,
    REG_TIMER_DCR = 0x3e,
};

struct Lapic {
    Machine *m;
    IrqLine intr;
    int intr_level;
    void (*nmi)(void *);
    void *nmi_opaque;
    int (*ext_ack)(void *);
    bool (*ext_pending)(void *);
    void *ext_opaque;
    void (*eoi_cb)(void *, int);
    void *eoi_opaque;

    uint64_t base;                  /* IA32_APIC_BASE */
    uint32_t id, tpr, ldr, dfr, svr;
    uint32_t esr, esr_pending;      /* visible ESR; errors since the last ESR write */
    uint32_t icr_lo, icr_hi;
    uint32_t isr[8], tmr[8], irr[8];
    uint32_t lvt[LVT_N];

    uint32_t timer_initial, dcr;
    unsigned timer_div;
    bool timer_counting;
    int64_t timer_start;            /* ns at which the count (or this period) began */
    Timer timer;

    bool lint[2];                   /* LINT0/LINT1 pin levels */
    bool extint_msg;                /* ExtINT asserted by an IOAPIC message */
};

static bool hw_enabled(const Lapic *l) { return l->base & LAPIC_BASE_EN; }
static bool sw_enabled(const Lapic *l) { return l->svr & SVR_ENABLE; }
static int64_t now_ns(const Lapic *l) { return machine_ns(l->m); }

static bool test_vec(const uint32_t *r, int v) { return r[v >> 5] >> (v & 31) & 1; }
static void set_vec(uint32_t *r, int v) { r[v >> 5] |= 1u << (v & 31); }
static void clr_vec(uint32_t *r, int v) { r[v >> 5] &= ~(1u << (v & 31)); }

static int highest_vec(const uint32_t *r)
{
    for (int i = 7; i >= 0; i--)
        if (r[i])
            return i * 32 + 31 - __builtin_clz(r[i]);
    return -1;
}

static uint32_t ppr(const Lapic *l)
{
    int isrv = highest_vec(l->isr);
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    return (l->tpr & 0xf0) >= isr_class ? l->tpr : isr_class;
}

/* SDM's arbitration priority: TPR when it is at least the highest pending
 * and above the highest in-service class, else the highest class of the
 * three. */
static uint32_t apr(const Lapic *l)
{
    int irrv = highest_vec(l->irr), isrv = highest_vec(l->isr);
    uint32_t irr_class = irrv < 0 ? 0 : (uint32_t)irrv & 0xf0;
    uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
    uint32_t tpr_class = l->tpr & 0xf0;
    if (tpr_class >= irr_class && tpr_class > isr_class)
        return l->tpr;
    return MAX(tpr_class, MAX(irr_class, isr_class));
}

static bool extint_active(const Lapic *l)
{
    bool ext;
    if (!hw_enabled(l)) {
        ext = l->lint[0];
    } else {
        uint32_t lv = l->lvt[LVT_LINT0];
        ext = l->extint_msg ||
              (l->lint[0] && !(lv & LVT_MASK) && LVT_DM(lv) == LAPIC_DM_EXTINT);
    }
    if (ext && l->ext_pending)
        ext = l->ext_pending(l->ext_opaque);
    return ext;
}

/* The highest IRR vector if its class beats PPR, else -1. */
static int deliverable(const Lapic *l)
{
    if (!hw_enabled(l) || !sw_enabled(l))
        return -1;
    int v = highest_vec(l->irr);
    if (v < 0 || ((uint32_t)v & 0xf0) <= (ppr(l) & 0xf0))
        return -1;
    return v;
}

bool lapic_intr_pending(Lapic *l)
{
    return extint_active(l) || deliverable(l) >= 0;
}

static void update_irq(Lapic *l)
{
    int level = lapic_intr_pending(l);
    if (level != l->intr_level) {
        l->intr_level = level;
        irq_set(&l->intr, level);
    }
}

static void raise_nmi(Lapic *l)
{
    if (l->nmi)
        l->nmi(l->nmi_opaque);
}

static void raise_error(Lapic *l, uint32_t bits);

/* Accept a fixed interrupt into IRR. */
static void accept_fixed(Lapic *l, int vec, bool level)
{
    if (vec < 16) {
        raise_error(l, ESR_RECV_ILLEGAL);
        return;
    }
    set_vec(l->irr, vec);
    if (level)
        set_vec(l->tmr, vec);
    else
        clr_vec(l->tmr, vec);
    update_irq(l);
}

/* Log errors; new ones raise the LVT error interrupt.  An illegal vector
 * in the error entry itself is logged without another interrupt. */
static void raise_error(Lapic *l, uint32_t bits)
{
    uint32_t fresh = bits & ~l->esr_pending;
    l->esr_pending |= bits;
    uint32_t lv = l->lvt[LVT_ERROR];
    if (!fresh || (lv & LVT_MASK))
        return;
    int vec = (int)(lv & LVT_VECTOR);
    if (vec < 16) {
        l->esr_pending |= ESR_RECV_ILLEGAL;
        return;
    }
    accept_fixed(l, vec, false);
}

/* ---- LINT0 / LINT1 ---- */

static void lint_eval(Lapic *l, int n, bool rising)
{
    uint32_t *lv = &l->lvt[LVT_LINT0 + n];
    if (*lv & LVT_MASK)
        return;
    switch (LVT_DM(*lv)) {
    case LAPIC_DM_FIXED:
        if (*lv & LVT_LEVEL) {
            if (l->lint[n] && !(*lv & LVT_RIRR) && (*lv & LVT_VECTOR) >= 16) {
                *lv |= LVT_RIRR;
                accept_fixed(l, (int)(*lv & LVT_VECTOR), true);
            } else if (l->lint[n] && (*lv & LVT_VECTOR) < 16 && rising) {
                raise_error(l, ESR_RECV_ILLEGAL);
            }
        } else if (rising) {
            accept_fixed(l, (int)(*lv & LVT_VECTOR), false);
        }
        break;
    case LAPIC_DM_NMI:
        if (rising)
            raise_nmi(l);
        break;
    default:
        /* ExtINT: INTR follows the pin (update_irq).  SMI, INIT and the
         * reserved modes do nothing here. */
        break;
    }
}

static void lint_set(void *opaque, int n, int level)
{
    Lapic *l = opaque;
    bool rising = level && !l->lint[n];
    l->lint[n] = level != 0;
    if (!hw_enabled(l)) {
        /* No APIC: LINT0 is INTR (update_irq), LINT1 is NMI. */
        if (n == 1 && rising)
            raise_nmi(l);
    } else {
        lint_eval(l, n, rising);
    }
    update_irq(l);
}

IrqLine lapic_lint0(Lapic *l) { return irq_line(lint_set, l, 0); }
IrqLine lapic_lint1(Lapic *l) { return irq_line(lint_set, l, 1); }

/* ---- Timer ---- */

static unsigned dcr_div(uint32_t dcr)
{
    unsigned v = ((dcr >> 1) & 4) | (dcr & 3);
    return v == 7 ? 1 : 2u << v;
}

static bool timer_periodic(const Lapic *l) { return l->lvt[LVT_TIMER] & LVT_PERIODIC; }

static int64_t timer_period_ns(const Lapic *l)
{
    return (int64_t)l->timer_initial * l->timer_div;
}

static uint32_t timer_current(const Lapic *l)
{
    if (!l->timer_counting)
        return 0;
    int64_t el = now_ns(l) - l->timer_start;
    uint64_t e = el > 0 ? (uint64_t)el / l->timer_div : 0;
    if (timer_periodic(l))
        return l->timer_initial - (uint32_t)(e % l->timer_initial);
    return e >= l->timer_initial ? 0 : l->timer_initial - (uint32_t)e;
}

/* Account for expiries up to now under the current settings, before they
 * change (a late Timer callback must not lose one). */
static void timer_catch_up(Lapic *l)
{
    if (!l->timer_counting)
        return;
    int64_t p = timer_period_ns(l), el = now_ns(l) - l->timer_start;
    if (el < p)
        return;
    if (timer_periodic(l))
        l->timer_start += el / p * p;
    else
        l->timer_counting = false;
    uint32_t lv = l->lvt[LVT_TIMER];
    if (!(lv & LVT_MASK))
        accept_fixed(l, (int)(lv & LVT_VECTOR), false);
}

static void timer_rearm(Lapic *l)
{
    if (l->timer_counting && !(l->lvt[LVT_TIMER] & LVT_MASK))
        timer_mod(&l->m->clock, &l->timer, l->timer_start + timer_period_ns(l));
    else
        timer_del(&l->m->clock, &l->timer);
}

static void timer_fired(void *opaque)
{
    Lapic *l = opaque;
    timer_catch_up(l);
    timer_rearm(l);
}

static void timer_set_initial(Lapic *l, uint32_t val)
{
    timer_catch_up(l);
    l->timer_initial = val;
    l->timer_start = now_ns(l);
    l->timer_counting = val != 0;
    timer_rearm(l);
}

/* A new divisor applies from the current tick on. */
static void timer_set_dcr(Lapic *l, uint32_t val)
{
    timer_catch_up(l);
    unsigned div = dcr_div(val);
    if (l->timer_counting) {
        int64_t now = now_ns(l);
        int64_t ticks = (now - l->timer_start) / l->timer_div;
        l->timer_start = now - ticks * div;
    }
    l->dcr = val & 0xb;
    l->timer_div = div;
    timer_rearm(l);
}

/* ---- State changes ---- */

static void lvt_write(Lapic *l, int i, uint32_t val)
{
    if (i == LVT_TIMER)
        timer_catch_up(l);
    uint32_t nv = (val & lvt_wmask[i]) | (l->lvt[i] & LVT_RIRR);
    if (!sw_enabled(l))
        nv |= LVT_MASK;
    if (!(nv & LVT_LEVEL))
        nv &= ~LVT_RIRR;
    l->lvt[i] = nv;
    if (i == LVT_TIMER)
        timer_rearm(l);
    if (i == LVT_LINT0 || i == LVT_LINT1)
        lint_eval(l, i - LVT_LINT0, false);
    update_irq(l);
}

static void svr_write(Lapic *l, uint32_t val)
{
    timer_catch_up(l);
    l->svr = val & SVR_WMASK;
    if (!sw_enabled(l))
        for (int i = 0; i < LVT_N; i++)
            l->lvt[i] |= LVT_MASK;
    timer_rearm(l);
    update_irq(l);
}

static void do_eoi(Lapic *l)
{
    int v = highest_vec(l->isr);
    if (v < 0)
        return;
    clr_vec(l->isr, v);
    if (test_vec(l->tmr, v)) {
        for (int n = 0; n < 2; n++) {
            uint32_t *lv = &l->lvt[LVT_LINT0 + n];
            if ((*lv & LVT_RIRR) && (int)(*lv & LVT_VECTOR) == v) {
                *lv &= ~LVT_RIRR;
                lint_eval(l, n, false);
            }
        }
        if (l->eoi_cb)
            l->eoi_cb(l->eoi_opaque, v);
    }
    update_irq(l);
}

bool lapic_match_dest(const Lapic *l, uint8_t dest, bool logical)
{
    if (dest == 0xff)
        return true;
    if (!logical)
        return dest == l->id >> 24;
    uint8_t ldr = (uint8_t)(l->ldr >> 24);
    switch (l->dfr >> 28) {
    case 0xf:                       /* flat */
        return (ldr & dest) != 0;
    case 0x0:                       /* cluster */
        return (dest >> 4) == (ldr >> 4) && (dest & ldr & 0xf);
    default:
        return false;
    }
}

/* One CPU: an IPI reaches this APIC or nobody. */
static void send_ipi(Lapic *l)
{
    uint32_t lo = l->icr_lo;
    int vec = (int)(lo & 0xff), dm = (int)LVT_DM(lo);
    bool self;
    switch ((lo >> 18) & 3) {
    case 1: case 2: self = true; break;     /* self; all including self */
    case 3: self = false; break;            /* all excluding self */
    default:
        self = lapic_match_dest(l, (uint8_t)(l->icr_hi >> 24), lo & ICR_LOGICAL);
        break;
    }
    if ((dm == LAPIC_DM_FIXED || dm == LAPIC_DM_LOWEST) && vec < 16)
        raise_error(l, ESR_SEND_ILLEGAL);
    if (!self)
        return;
    switch (dm) {
    case LAPIC_DM_FIXED:
    case LAPIC_DM_LOWEST:
        if (sw_enabled(l))
            accept_fixed(l, vec, false);
        break;
    case LAPIC_DM_NMI:
        raise_nmi(l);
        break;
    default:
        break;                      /* SMI, INIT, SIPI: no such CPU states */
    }
}

void lapic_deliver(Lapic *l, int vector, int delivery_mode, bool level, bool assert)
{
    if (!hw_enabled(l))
        return;
    vector &= 0xff;
    switch (delivery_mode) {
    case LAPIC_DM_FIXED:
    case LAPIC_DM_LOWEST:
        /* A software-disabled APIC holds what it has but takes no more. */
        if (assert && sw_enabled(l))
            accept_fixed(l, vector, level);
        break;
    case LAPIC_DM_NMI:
        if (assert)
            raise_nmi(l);
        break;
    case LAPIC_DM_EXTINT:
        l->extint_msg = assert;
        update_irq(l);
        break;
    default:
        break;
    }
}

int lapic_intr_ack(Lapic *l)
{
    int v;
    if (!hw_enabled(l)) {
        v = l->ext_ack ? l->ext_ack(l->ext_opaque) : -1;
    } else if (extint_active(l) && l->ext_ack) {
        v = l->ext_ack(l->ext_opaque);
    } else {
        v = deliverable(l);
        if (v >= 0) {
            clr_vec(l->irr, v);
            set_vec(l->isr, v);
        } else {
            v = (int)(l->svr & 0xff);
        }
    }
    update_irq(l);
    return v;
}

static void put_vectors(GString *s, const char *what, const uint32_t *r)
{
    g_string_append_printf(s, "; %s", what);
    int n = 0;
    for (int v = 0; v < 256; v++)
        if (test_vec(r, v)) {
            g_string_append_printf(s, " %#x", v);
            n++;
        }
    if (!n)
        g_string_append(s, " none");
}

void lapic_describe(const Lapic *l, GString *s)
{
    uint32_t lv = l->lvt[LVT_TIMER];
    g_string_append_printf(s, "local APIC: %s, TPR %#x, PPR %#x",
                           !hw_enabled(l) ? "disabled" : !sw_enabled(l) ? "software-disabled"
                                                                      : "enabled",
                           l->tpr, ppr(l));
    put_vectors(s, "in service:", l->isr);
    put_vectors(s, "requested:", l->irr);
    g_string_append_printf(s, "; timer %s, vector %#x, %s", (lv & LVT_MASK) ? "masked" : "unmasked",
                           lv & LVT_VECTOR,
                           !l->timer_counting ? "not counting"
                           : timer_periodic(l) ? "periodic" : "one-shot, counting");
}

void lapic_set_tpr(Lapic *l, uint8_t tpr)
{
    l->tpr = tpr;
    update_irq(l);
}

uint8_t lapic_get_tpr(const Lapic *l) { return (uint8_t)l->tpr; }

/* The power-up state (SDM), which a global disable also returns to. */
static void reset_state(Lapic *l)
{
    timer_del(&l->m->clock, &l->timer);
    l->id = 0;
    l->tpr = l->ldr = 0;
    l->dfr = 0xffffffff;
    l->svr = 0xff;
    l->esr = l->esr_pending = 0;
    l->icr_lo = l->icr_hi = 0;
    for (int i = 0; i < 8; i++)
        l->isr[i] = l->tmr[i] = l->irr[i] = 0;
    for (int i = 0; i < LVT_N; i++)
        l->lvt[i] = LVT_MASK;
    l->lvt[LVT_LINT0] = LAPIC_DM_EXTINT << 8;
    l->timer_initial = 0;
    l->dcr = 0;
    l->timer_div = dcr_div(0);
    l->timer_counting = false;
    l->timer_start = 0;
    l->extint_msg = false;
}

void lapic_set_base(Lapic *l, uint64_t msr)
{
    bool was = hw_enabled(l);
    l->base = (msr & BASE_MASK) | LAPIC_BASE_BSP;
    if (was && !hw_enabled(l))
        reset_state(l);
    update_irq(l);
}

uint64_t lapic_get_base(const Lapic *l) { return l->base; }

void lapic_set_extint(Lapic *l, int (*ack)(void *), bool (*pending)(void *),
                      void *opaque)
{
    l->ext_ack = ack;
    l->ext_pending = pending;
    l->ext_opaque = opaque;
    update_irq(l);
}

void lapic_set_eoi_cb(Lapic *l, void (*eoi)(void *, int), void *opaque)
{
    l->eoi_cb = eoi;
    l->eoi_opaque = opaque;
}

/* ---- Registers ---- */

static uint64_t lapic_read(void *opaque, uint64_t off, unsigned size)
{
    Lapic *l = opaque;
    if (!hw_enabled(l) || size != 4 || (off & 0xf))
        return 0;
    unsigned r = (unsigned)(off >> 4);
    switch (r) {
    case REG_ID: return l->id;
    case REG_VERSION: return LAPIC_VERSION;
    case REG_TPR: return l->tpr;
    case REG_APR: return apr(l);
    case REG_PPR: return ppr(l);
    case REG_EOI: return 0;
    case REG_RRD: return 0;
    case REG_LDR: return l->ldr;
    case REG_DFR: return l->dfr;
    case REG_SVR: return l->svr;
    case REG_ESR: return l->esr;
    case REG_ICR_LO: return l->icr_lo;
    case REG_ICR_HI: return l->icr_hi;
    case REG_TIMER_INIT: return l->timer_initial;
    case REG_TIMER_CUR: return timer_current(l);
    case REG_TIMER_DCR: return l->dcr;
    default: break;
    }
    if (r >= REG_ISR && r < REG_ISR + 8)
        return l->isr[r - REG_ISR];
    if (r >= REG_TMR && r < REG_TMR + 8)
        return l->tmr[r - REG_TMR];
    if (r >= REG_IRR && r < REG_IRR + 8)
        return l->irr[r - REG_IRR];
    if (r >= REG_LVT && r < REG_LVT + LVT_N)
        return l->lvt[r - REG_LVT];
    raise_error(l, ESR_ILLEGAL_REG);
    return 0;
}

static void lapic_write(void *opaque, uint64_t off, uint64_t val64, unsigned size)
{
    Lapic *l = opaque;
    if (!hw_enabled(l) || size != 4 || (off & 0xf))
        return;
    uint32_t val = (uint32_t)val64;
    unsigned r = (unsigned)(off >> 4);
    switch (r) {
    case REG_ID: l->id = val & 0xff000000u; return;
    case REG_TPR: lapic_set_tpr(l, (uint8_t)val); return;
    case REG_EOI: do_eoi(l); return;
    case REG_LDR: l->ldr = val & 0xff000000u; return;
    case REG_DFR: l->dfr = val | 0x0fffffffu; return;
    case REG_SVR: svr_write(l, val); return;
    case REG_ESR:
        l->esr = l->esr_pending;
        l->esr_pending = 0;
        return;
    case REG_ICR_LO:
        l->icr_lo = val & ICR_WMASK;
        send_ipi(l);
        return;
    case REG_ICR_HI: l->icr_hi = val & 0xff000000u; return;
    case REG_TIMER_INIT: timer_set_initial(l, val); return;
    case REG_TIMER_DCR: timer_set_dcr(l, val); return;
    /* Read-only registers ignore writes. */
    case REG_VERSION: case REG_APR: case REG_PPR: case REG_RRD:
    case REG_TIMER_CUR:
        return;
    default: break;
    }
    if (r >= REG_ISR && r < REG_IRR + 8)
        return;
    if (r >= REG_LVT && r < REG_LVT + LVT_N) {
        lvt_write(l, (int)(r - REG_LVT), val);
        return;
    }
    raise_error(l, ESR_ILLEGAL_REG);
}

static const MemOps lapic_mem_ops = {
    .name = "lapic",
    .read = lapic_read,
    .write = lapic_write,
    .min_access = 1,
    .max_access = 8,
};

static void lapic_reset(void *dev)
{
    Lapic *l = dev;
    reset_state(l);
    l->base = LAPIC_BASE | LAPIC_BASE_EN | LAPIC_BASE_BSP;
    update_irq(l);
}

static void lapic_destroy(void *dev)
{
    Lapic *l = dev;
    timer_del(&l->m->clock, &l->timer);
    g_free(l);
}

/* ---- snapshots ---- */

#define SNAP_VERSION 1

static void put_words(SnapWriter *w, const uint32_t *v, int n)
{
    for (int i = 0; i < n; i++)
        snap_put_u32(w, v[i]);
}

static void get_words(SnapReader *r, uint32_t *v, int n)
{
    for (int i = 0; i < n; i++)
        v[i] = snap_get_u32(r);
}

static int lapic_save(void *dev, void *wp)
{
    Lapic *l = dev;
    SnapWriter *w = wp;
    snap_put_u8(w, SNAP_VERSION);
    snap_put_u64(w, l->base);
    snap_put_u32(w, l->id);
    snap_put_u32(w, l->tpr);
    snap_put_u32(w, l->ldr);
    snap_put_u32(w, l->dfr);
    snap_put_u32(w, l->svr);
    snap_put_u32(w, l->esr);
    snap_put_u32(w, l->esr_pending);
    snap_put_u32(w, l->icr_lo);
    snap_put_u32(w, l->icr_hi);
    put_words(w, l->isr, 8);
    put_words(w, l->tmr, 8);
    put_words(w, l->irr, 8);
    put_words(w, l->lvt, LVT_N);
    snap_put_u32(w, l->timer_initial);
    snap_put_u32(w, l->dcr);
    snap_put_bool(w, l->timer_counting);
    snap_put_i64(w, l->timer_start);
    snap_put_bool(w, l->lint[0]);
    snap_put_bool(w, l->lint[1]);
    snap_put_bool(w, l->extint_msg);
    snap_put_bool(w, l->intr_level);
    snap_put_timer(w, &l->timer);
    return 0;
}

/* The divisor is derived from DCR; a counting timer divides by its
 * initial count, which therefore may not be 0.  The clock is already the
 * snapshot's when devices load. */
static int lapic_load(void *dev, void *rp)
{
    Lapic *l = dev;
    SnapReader *r = rp;
    if (!devsnap_version(r, SNAP_VERSION, "lapic"))
        return -1;
    Lapic t = *l;
    t.base = snap_get_u64(r);
    devsnap_check_mask(r, t.base, BASE_MASK | LAPIC_BASE_EN, "IA32_APIC_BASE");
    devsnap_require(r, t.base & LAPIC_BASE_BSP, "IA32_APIC_BASE without BSP");
    t.id = snap_get_u32(r);
    t.tpr = (uint32_t)devsnap_check_mask(r, snap_get_u32(r), 0xff, "lapic TPR");
    t.ldr = snap_get_u32(r);
    t.dfr = snap_get_u32(r);
    t.svr = (uint32_t)devsnap_check_mask(r, snap_get_u32(r), SVR_WMASK, "lapic SVR");
    t.esr = snap_get_u32(r);
    t.esr_pending = snap_get_u32(r);
    t.icr_lo = snap_get_u32(r);
    t.icr_hi = snap_get_u32(r);
    get_words(r, t.isr, 8);
    get_words(r, t.tmr, 8);
    get_words(r, t.irr, 8);
    get_words(r, t.lvt, LVT_N);
    t.timer_initial = snap_get_u32(r);
    t.dcr = (uint32_t)devsnap_check_mask(r, snap_get_u32(r), 0xb, "lapic timer DCR");
    t.timer_div = dcr_div(t.dcr);
    t.timer_counting = snap_get_bool(r);
    t.timer_start = snap_get_i64(r);
    t.lint[0] = snap_get_bool(r);
    t.lint[1] = snap_get_bool(r);
    t.extint_msg = snap_get_bool(r);
    t.intr_level = snap_get_bool(r);
    devsnap_require(r, !t.timer_counting || t.timer_initial,
                    "lapic timer counting from an initial count of 0");
    /* A count starts at or before now (expiries move it forward): one in
     * the future, or before time began, would make the expiry arithmetic
     * overflow and the timer fire in the past for ever. */
    devsnap_require(r, t.timer_start >= 0 && t.timer_start <= now_ns(l),
                    "lapic timer started outside [0, now]");
    if (snap_reader_ok(r))
        snap_get_timer(r, &l->m->clock, &l->timer);
    if (!snap_reader_ok(r))
        return -1;
    t.timer = l->timer;
    *l = t;
    return 0;
}

static const DeviceOps lapic_device_ops = {
    .name = "lapic",
    .reset = lapic_reset,
    .save = lapic_save,
    .load = lapic_load,
    .destroy = lapic_destroy,
};

Lapic *lapic_create(Machine *m, IrqLine intr, void (*nmi)(void *opaque),
                    void *nmi_opaque)
{
    Lapic *l = g_new0(Lapic, 1);
    l->m = m;
    l->intr = intr;
    l->nmi = nmi;
    l->nmi_opaque = nmi_opaque;
    timer_init(&l->timer, timer_fired, l);
    l->timer.lazy = true;      /* state and interrupt line only */
    int err = as_add_mmio(&m->as, "lapic", LAPIC_BASE, LAPIC_MMIO_SIZE,
                          &lapic_mem_ops, l);
    if (err) {
        machine_set_error(m, "lapic: cannot map at 0x%llx: %s",
                          LAPIC_BASE, g_strerror(-err));
        g_free(l);
        return NULL;
    }
    reset_state(l);
    l->base = LAPIC_BASE | LAPIC_BASE_EN | LAPIC_BASE_BSP;
    machine_add_device(m, &lapic_device_ops, l);
    return l;
}
