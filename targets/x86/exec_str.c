/* String instructions: MOVS CMPS STOS LODS SCAS, with REP/REPE/REPNE.
 *
 * The source is in->seg (DS unless overridden), the destination always
 * ES.  The address size picks SI/ESI/RSI, DI/EDI/RDI and the counter
 * CX/ECX/RCX (32-bit forms zero-extend in 64-bit mode, 16-bit forms wrap
 * and keep the upper bits).  REPNE on MOVS/STOS/LODS repeats like REP.
 *
 * A REP instruction runs up to X86_REP_CHUNK iterations per execution,
 * then restarts itself with RCX/RSI/RDI updated (x86_restart: it has not
 * retired); it retires once, when it finishes.  A fault leaves the
 * registers at the faulting iteration.  While a debugger single-steps, a
 * chunk is one iteration (x86_rep_chunk).
 *
 * REP MOVS and REP STOS copy/fill whole runs on RAM directly: a run stays
 * inside one page on each side, the page is taken from the software TLB
 * (so write runs never touch code pages, which get no write entries), the
 * segment limit is checked here for the whole run, and the run is only
 * tried after one iteration took the ordinary path in this execution (so
 * the segment itself was validated). */
#include <string.h>

#include "targets/x86/exec.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the bulk string paths assume a little-endian host"
#endif

static inline int64_t str_step(const X86CPU *cpu, unsigned sz)
{
    return (cpu->eflags & X86_DF) ? -(int64_t)sz : (int64_t)sz;
}

static inline bool has_rep(const XInsn *in)
{
    return in->pfx & (X86_P_REP | X86_P_REPNE);
}

/* ---- one iteration through the ordinary memory path ---- */

static XI_ALWAYS void adv(X86CPU *cpu, const XInsn *in, unsigned r, int64_t d)
{
    x86_reg_set(cpu, r, in->asize, cpu->regs[r] + (uint64_t)d);
}

static inline bool movs_one(X86CPU *cpu, const XInsn *in)
{
    uint64_t am = x86_addr_mask(in->asize), v;
    unsigned sz = in->osize;
    if (!x86_ld_inline(cpu, in, in->seg, cpu->regs[X86_RSI] & am, sz, &v) ||
        !x86_st_inline(cpu, in, X86_ES, cpu->regs[X86_RDI] & am, sz, v))
        return false;
    int64_t d = str_step(cpu, sz);
    adv(cpu, in, X86_RSI, d);
    adv(cpu, in, X86_RDI, d);
    return true;
}

static inline bool stos_one(X86CPU *cpu, const XInsn *in)
{
    uint64_t am = x86_addr_mask(in->asize);
    unsigned sz = in->osize;
    if (!x86_st_inline(cpu, in, X86_ES, cpu->regs[X86_RDI] & am, sz,
                x86_reg_get(cpu, X86_RAX, sz)))
        return false;
    adv(cpu, in, X86_RDI, str_step(cpu, sz));
    return true;
}

static inline bool lods_one(X86CPU *cpu, const XInsn *in)
{
    uint64_t am = x86_addr_mask(in->asize), v;
    unsigned sz = in->osize;
    if (!x86_ld_inline(cpu, in, in->seg, cpu->regs[X86_RSI] & am, sz, &v))
        return false;
    x86_reg_set(cpu, X86_RAX, sz, v);
    adv(cpu, in, X86_RSI, str_step(cpu, sz));
    return true;
}

/* CMPS: flags of [src] - [ES:dst]; *eq tells whether they were equal. */
static inline bool cmps_one(X86CPU *cpu, const XInsn *in, bool *eq)
{
    uint64_t am = x86_addr_mask(in->asize), a, b;
    unsigned sz = in->osize;
    if (!x86_ld_inline(cpu, in, in->seg, cpu->regs[X86_RSI] & am, sz, &a) ||
        !x86_ld_inline(cpu, in, X86_ES, cpu->regs[X86_RDI] & am, sz, &b))
        return false;
    int64_t d = str_step(cpu, sz);
    adv(cpu, in, X86_RSI, d);
    adv(cpu, in, X86_RDI, d);
    x86_cc(cpu, X86_CC_SUB, sz, a - b, b);
    *eq = a == b;
    return true;
}

/* SCAS: flags of accumulator - [ES:dst]. */
static inline bool scas_one(X86CPU *cpu, const XInsn *in, bool *eq)
{
    uint64_t am = x86_addr_mask(in->asize), b;
    unsigned sz = in->osize;
    if (!x86_ld_inline(cpu, in, X86_ES, cpu->regs[X86_RDI] & am, sz, &b))
        return false;
    uint64_t a = x86_reg_get(cpu, X86_RAX, sz);
    adv(cpu, in, X86_RDI, str_step(cpu, sz));
    x86_cc(cpu, X86_CC_SUB, sz, a - b, b);
    *eq = a == b;
    return true;
}

/* ---- bulk runs on RAM ---- */

/* Linear address of seg:off as the hardware forms it. */
static inline uint64_t lin_addr(const X86CPU *cpu, unsigned seg, uint64_t off)
{
    if (cpu->hflags & X86_HF_CS64)
        return (seg == X86_FS || seg == X86_GS) ? cpu->seg[seg].base + off : off;
    return (uint32_t)(cpu->seg[seg].base + off);
}

/* Host address of lin from the software TLB, or NULL if it has no entry
 * for this page and access kind (the caller then takes the slow path). */
static inline uint8_t *tlb_host(X86CPU *cpu, uint64_t lin, X86Access acc)
{
    const X86TlbEntry *e = x86_tlb_entry(cpu, x86_cpl(cpu) == 3, acc, lin);
    if (e->tag != (lin & ~0xfffull))
        return NULL;
    return (uint8_t *)(uintptr_t)(lin + e->addend);
}

/* Offsets [lo, hi] (byte offsets, no wrap) within seg's limit. */
static bool seg_range_ok(const X86CPU *cpu, unsigned seg, uint64_t lo, uint64_t hi)
{
    if (cpu->hflags & X86_HF_CS64)
        return true;
    const X86Seg *s = &cpu->seg[seg];
    /* As x86_seg_lin (mem.h): expand-down only in protected mode. */
    if ((cpu->hflags & (X86_HF_PE | X86_HF_VM)) == X86_HF_PE && (s->type & 0xc) == 0x4)
        return lo > s->limit && hi <= (s->db ? 0xffffffffull : 0xffff);
    return hi <= s->limit;
}

/* A run of up to max elements of sz bytes starting at offset off of seg,
 * going up (or down with DF): how many stay in the first element's page
 * and do not wrap the offset; *lo gets the lowest offset of the run. */
static uint64_t run_len(const X86CPU *cpu, unsigned seg, uint64_t off, unsigned sz,
                        bool down, uint64_t am, uint64_t max, uint64_t *lo)
{
    uint64_t pg = lin_addr(cpu, seg, off) & 0xfff, n;

    if (pg + sz > 0x1000 || off > am - (sz - 1))
        return 0;
    if (down) {
        n = pg / sz + 1;
        if (n > off / sz + 1)
            n = off / sz + 1;
    } else {
        n = (0x1000 - pg) / sz;
        if (n > (am - (sz - 1) - off) / sz + 1)
            n = (am - (sz - 1) - off) / sz + 1;
    }
    if (n > max)
        n = max;
    *lo = down ? off - (n - 1) * sz : off;
    return n;
}

/* Host pointer to n elements at offset lo of seg, or NULL. */
static uint8_t *run_host(X86CPU *cpu, unsigned seg, uint64_t lo, uint64_t n,
                         unsigned sz, X86Access acc)
{
    if (!seg_range_ok(cpu, seg, lo, lo + n * sz - 1))
        return NULL;
    return tlb_host(cpu, lin_addr(cpu, seg, lo), acc);
}

/* Up to max MOVS iterations in one run; returns how many were done. */
static uint64_t movs_run(X86CPU *cpu, const XInsn *in, uint64_t max)
{
    unsigned sz = in->osize;
    uint64_t am = x86_addr_mask(in->asize), si = cpu->regs[X86_RSI] & am;
    uint64_t di = cpu->regs[X86_RDI] & am, slo, dlo;
    bool down = cpu->eflags & X86_DF;

    uint64_t n = run_len(cpu, in->seg, si, sz, down, am, max, &slo);
    n = run_len(cpu, X86_ES, di, sz, down, am, n, &dlo);
    if (n < 2)
        return 0;
    if (down) {
        /* The second call may have shortened the run: recompute. */
        slo = si - (n - 1) * sz;
    }
    uint8_t *ps = run_host(cpu, in->seg, slo, n, sz, X86_ACC_READ);
    uint8_t *pd = run_host(cpu, X86_ES, dlo, n, sz, X86_ACC_WRITE);
    if (!ps || !pd)
        return 0;
    uint64_t bytes = n * sz;
    bool hazard = down ? (pd < ps && pd + bytes > ps) : (pd > ps && pd < ps + bytes);
    if (!hazard) {
        memmove(pd, ps, bytes);
    } else if (!down) {
        /* Element by element, as the hardware sees it (pattern fills). */
        for (uint64_t i = 0; i < bytes; i += sz)
            memmove(pd + i, ps + i, sz);
    } else {
        for (uint64_t i = bytes; i; i -= sz)
            memmove(pd + i - sz, ps + i - sz, sz);
    }
    int64_t d = str_step(cpu, sz) * (int64_t)n;
    adv(cpu, in, X86_RSI, d);
    adv(cpu, in, X86_RDI, d);
    return n;
}

static uint64_t stos_run(X86CPU *cpu, const XInsn *in, uint64_t max)
{
    unsigned sz = in->osize;
    uint64_t am = x86_addr_mask(in->asize), di = cpu->regs[X86_RDI] & am, dlo;
    bool down = cpu->eflags & X86_DF;

    uint64_t n = run_len(cpu, X86_ES, di, sz, down, am, max, &dlo);
    if (n < 2)
        return 0;
    uint8_t *pd = run_host(cpu, X86_ES, dlo, n, sz, X86_ACC_WRITE);
    if (!pd)
        return 0;
    uint64_t v = cpu->regs[X86_RAX];
    if (sz == 1) {
        memset(pd, (int)(v & 0xff), n);
    } else {
        for (uint64_t i = 0; i < n; i++)
            memcpy(pd + i * sz, &v, sz);
    }
    adv(cpu, in, X86_RDI, str_step(cpu, sz) * (int64_t)n);
    return n;
}

/* ---- handlers ---- */

/* REP loop for MOVS/STOS/LODS: run() does a bulk run (or 0), one() one
 * ordinary iteration. */
static XI_ALWAYS const XInsn *rep_loop(X86CPU *cpu, const XInsn *in,
                                       uint64_t (*run)(X86CPU *, const XInsn *, uint64_t),
                                       bool (*one)(X86CPU *, const XInsn *))
{
    unsigned as = in->asize;
    uint64_t cnt = x86_reg_get(cpu, X86_RCX, as);
    uint64_t budget = x86_rep_chunk(cpu);
    bool validated = false;

    while (cnt) {
        if (!budget)
            return x86_restart(cpu, in);
        uint64_t n = 0;
        if (run && validated)
            n = run(cpu, in, cnt < budget ? cnt : budget);
        if (!n) {
            if (!one(cpu, in))
                return NULL;
            n = 1;
            validated = true;
        }
        cnt -= n;
        budget -= n;
        x86_reg_set(cpu, X86_RCX, as, cnt);
    }
    X86_NEXT(cpu, in);
}

const XInsn *xi_movs(X86CPU *cpu, const XInsn *in)
{
    if (!has_rep(in)) {
        if (!movs_one(cpu, in))
            return NULL;
        X86_NEXT(cpu, in);
    }
    return rep_loop(cpu, in, movs_run, movs_one);
}

const XInsn *xi_stos(X86CPU *cpu, const XInsn *in)
{
    if (!has_rep(in)) {
        if (!stos_one(cpu, in))
            return NULL;
        X86_NEXT(cpu, in);
    }
    return rep_loop(cpu, in, stos_run, stos_one);
}

const XInsn *xi_lods(X86CPU *cpu, const XInsn *in)
{
    if (!has_rep(in)) {
        if (!lods_one(cpu, in))
            return NULL;
        X86_NEXT(cpu, in);
    }
    return rep_loop(cpu, in, NULL, lods_one);
}

/* REPE (F3) stops when an iteration finds a difference, REPNE (F2) when it
 * finds equality; both stop when the counter reaches 0. */
static XI_ALWAYS const XInsn *rep_cmp(X86CPU *cpu, const XInsn *in,
                                      bool (*one)(X86CPU *, const XInsn *, bool *))
{
    unsigned as = in->asize;
    uint64_t cnt = x86_reg_get(cpu, X86_RCX, as);
    unsigned budget = x86_rep_chunk(cpu);
    bool until_eq = !(in->pfx & X86_P_REP), eq;

    if (!(in->pfx & (X86_P_REP | X86_P_REPNE))) {
        if (!one(cpu, in, &eq))
            return NULL;
        X86_NEXT(cpu, in);
    }
    while (cnt) {
        if (!budget--)
            return x86_restart(cpu, in);
        if (!one(cpu, in, &eq))
            return NULL;
        x86_reg_set(cpu, X86_RCX, as, --cnt);
        if (eq == until_eq)
            break;
    }
    X86_NEXT(cpu, in);
}

const XInsn *xi_cmps(X86CPU *cpu, const XInsn *in) { return rep_cmp(cpu, in, cmps_one); }
const XInsn *xi_scas(X86CPU *cpu, const XInsn *in) { return rep_cmp(cpu, in, scas_one); }
