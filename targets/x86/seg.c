/* Segmentation: hflags, segment-register loads, the stack helpers, far
 * JMP/CALL/RET, IRET and the task switch (Intel SDM vol. 2 JMP, CALL,
 * RET, IRET, MOV; vol. 3 chapters 3, 5 and 7).
 *
 * CPL is SS.DPL in protected mode (as VMX and KVM define it; SS.DPL ==
 * CPL is an architectural invariant, and unlike CS.DPL it holds under
 * conforming code segments), 3 in virtual-8086 mode, 0 in real mode.
 *
 * Every check reads and validates all it needs before the first register
 * changes; stack writes of far calls may land before a later fault (the
 * hardware does the same). */
#include <string.h>

#include "targets/x86/flags.h"
#include "targets/x86/mem.h"
#include "targets/x86/seg.h"

bool x86_fault(X86CPU *cpu, const XInsn *in, int vec, int err)
{
    if (in)
        x86_raise(cpu, in, vec, err);
    else
        x86_pending_fault(cpu, vec, err);
    return false;
}

void x86_update_hflags(X86CPU *cpu)
{
    uint32_t hf = 0;
    const X86Seg *cs = &cpu->seg[X86_CS];
    if (cpu->cr0 & X86_CR0_PE) {
        hf |= X86_HF_PE;
        if (cpu->eflags & X86_VM)
            hf |= X86_HF_VM | 3;
        else
            hf |= cpu->seg[X86_SS].dpl & 3;
    }
    if (cpu->efer & X86_EFER_LMA) {
        hf |= X86_HF_LMA;
        if (cs->l && !(hf & X86_HF_VM))
            hf |= X86_HF_CS64;
    }
    if (cs->db && !(hf & X86_HF_CS64))
        hf |= X86_HF_CS32;
    if (cpu->seg[X86_SS].db)
        hf |= X86_HF_SS32;
    if ((hf & (X86_HF_PE | X86_HF_VM | X86_HF_CS32)) == (X86_HF_PE | X86_HF_CS32)) {
        static const int data[] = { X86_ES, X86_SS, X86_DS };
        bool flat = true;
        for (int i = 0; i < 3; i++) {
            const X86Seg *s = &cpu->seg[data[i]];
            flat &= s->base == 0 && s->limit == 0xffffffffu && s->present && !s->unusable &&
                    s->s && (s->type & 0xe) == 0x2;
        }
        if (flat)
            hf |= X86_HF_FLAT32;
    }
    cpu->hflags = hf;
}

void x86_seg_load_real(X86CPU *cpu, int seg, uint16_t sel)
{
    X86Seg *s = &cpu->seg[seg];
    s->selector = sel;
    s->base = (uint64_t)sel << 4;
    s->present = 1;
    s->unusable = 0;
    if (cpu->eflags & X86_VM) {
        /* Virtual-8086 loads set the whole cache (VMX requires exactly
         * these attributes). */
        s->limit = 0xffff;
        s->type = 3;
        s->s = 1;
        s->dpl = 3;
        s->db = s->l = s->g = s->avl = 0;
    }
    /* Real mode keeps the cached limit and attributes ("unreal" mode). */
}

/* ---- stack ---- */

bool x86_push(X86CPU *cpu, const XInsn *in, unsigned size, uint64_t v)
{
    uint64_t sp = (cpu->regs[X86_RSP] - size) & x86_sp_mask(cpu);
    if (!x86_st(cpu, in, X86_SS, sp, size, v))
        return false;
    x86_set_sp(cpu, sp);
    return true;
}

bool x86_pop(X86CPU *cpu, const XInsn *in, unsigned size, uint64_t *v)
{
    uint64_t sp = cpu->regs[X86_RSP] & x86_sp_mask(cpu);
    if (!x86_ld(cpu, in, X86_SS, sp, size, v))
        return false;
    x86_set_sp(cpu, sp + size);
    return true;
}

bool x86_peek(X86CPU *cpu, const XInsn *in, unsigned off, unsigned size, uint64_t *v)
{
    uint64_t sp = (cpu->regs[X86_RSP] + off) & x86_sp_mask(cpu);
    return x86_ld(cpu, in, X86_SS, sp, size, v);
}

/* Push n values (v[0] first, at the highest address) on the current
 * stack without moving RSP; *sp gets the new top. */
static bool push_n(X86CPU *cpu, const XInsn *in, unsigned size, const uint64_t *v,
                   unsigned n, uint64_t *sp)
{
    uint64_t m = x86_sp_mask(cpu), p = cpu->regs[X86_RSP];
    for (unsigned i = 0; i < n; i++) {
        p = (p - size) & m;
        if (!x86_st(cpu, in, X86_SS, p, size, v[i]))
            return false;
    }
    *sp = p;
    return true;
}

/* ---- descriptors ---- */

bool x86_desc_read(X86CPU *cpu, const XInsn *in, uint16_t sel, int vec, int ext,
                   uint64_t *d, uint64_t *addr)
{
    uint64_t base;
    uint32_t limit;
    if (sel & 4) {
        if (cpu->ldt.unusable)
            return x86_fault(cpu, in, vec, (sel & 0xfffc) | ext);
        base = cpu->ldt.base;
        limit = cpu->ldt.limit;
    } else {
        base = cpu->gdt.base;
        limit = cpu->gdt.limit;
    }
    if ((uint32_t)(sel | 7) > limit)
        return x86_fault(cpu, in, vec, (sel & 0xfffc) | ext);
    uint64_t a = (base + (sel & ~7u)) & x86_lin_mask(cpu);
    if (addr)
        *addr = a;
    return x86_ld_lin(cpu, in, a, 8, d);
}

bool x86_desc_read_hi(X86CPU *cpu, const XInsn *in, uint16_t sel, int vec, int ext,
                      uint64_t *hi)
{
    uint64_t base = (sel & 4) ? cpu->ldt.base : cpu->gdt.base;
    uint32_t limit = (sel & 4) ? cpu->ldt.limit : cpu->gdt.limit;
    if ((uint32_t)(sel | 7) + 8 > limit)
        return x86_fault(cpu, in, vec, (sel & 0xfffc) | ext);
    return x86_ld_lin(cpu, in, base + (sel & ~7u) + 8, 8, hi);
}

bool x86_desc_touch(X86CPU *cpu, const XInsn *in, uint64_t addr, uint64_t *d)
{
    if (*d & X86_DESC_A)
        return true;
    *d |= X86_DESC_A;
    return x86_st_lin(cpu, in, addr + 5, 1, (*d >> 40) & 0xff);
}

static uint32_t desc_limit(uint64_t d)
{
    uint32_t l = (uint32_t)(d & 0xffff) | (uint32_t)((d >> 32) & 0xf0000);
    if ((d >> 55) & 1)
        l = (l << 12) | 0xfff;
    return l;
}

void x86_seg_from_desc(X86Seg *s, uint16_t sel, uint64_t d)
{
    s->selector = sel;
    s->base = ((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000);
    s->limit = desc_limit(d);
    s->type = X86_D_TYPE(d);
    s->s = X86_D_S(d);
    s->dpl = X86_D_DPL(d);
    s->present = X86_D_P(d);
    s->avl = (d >> 52) & 1;
    s->l = X86_D_L(d);
    s->db = X86_D_DB(d);
    s->g = (d >> 55) & 1;
    s->unusable = 0;
    s->padding = 0;
}

bool x86_seg_range_ok(const X86Seg *s, uint64_t off, unsigned len)
{
    uint64_t last = off + len - 1;
    if (s->s && (s->type & 0xc) == 0x4)
        return off > s->limit && last <= (s->db ? 0xffffffffull : 0xffffull);
    return last <= s->limit;
}

/* A null selector in a data segment register: unusable, base 0 (Intel
 * clears the base; AMD keeps it). */
static void seg_load_null(X86CPU *cpu, int seg, uint16_t sel)
{
    X86Seg *s = &cpu->seg[seg];
    memset(s, 0, sizeof(*s));
    s->selector = sel;
    s->unusable = 1;
    if (seg == X86_SS)
        s->dpl = sel & 3;       /* 64-bit mode null SS keeps CPL in SS.DPL */
}

/* RET/IRET to an outer level: data registers the new CPL may not use
 * become null (SDM RET "IF (segment is data or non-conforming code) AND
 * DPL < CPL"); base and limit stay, as QEMU does. */
static void seg_drop_outer(X86CPU *cpu, unsigned cpl)
{
    static const int segs[] = { X86_ES, X86_DS, X86_FS, X86_GS };
    for (unsigned i = 0; i < 4; i++) {
        X86Seg *s = &cpu->seg[segs[i]];
        if (!(s->selector & 0xfffc) || s->unusable)
            continue;
        bool conforming = (s->type & 0xc) == 0xc;
        if (!conforming && s->dpl < cpl) {
            s->selector = 0;
            s->unusable = 1;
            s->present = 0;
            s->type = s->s = s->dpl = s->db = s->l = s->g = s->avl = 0;
        }
    }
}

static bool seg_load_pm(X86CPU *cpu, const XInsn *in, int seg, uint16_t sel)
{
    unsigned cpl = x86_cpl(cpu), rpl = sel & 3;
    int err = sel & 0xfffc;
    if (!err) {
        if (seg == X86_SS && (!(cpu->hflags & X86_HF_CS64) || cpl == 3 || rpl != cpl))
            return x86_fault(cpu, in, X86_EXC_GP, 0);
        seg_load_null(cpu, seg, sel);
        return true;
    }
    uint64_t d, a;
    if (!x86_desc_read(cpu, in, sel, X86_EXC_GP, 0, &d, &a))
        return false;
    unsigned type = X86_D_TYPE(d), dpl = X86_D_DPL(d);
    if (!X86_D_S(d))
        return x86_fault(cpu, in, X86_EXC_GP, err);
    if (seg == X86_SS) {
        if (rpl != cpl || (type & 0xa) != 0x2 || dpl != cpl)
            return x86_fault(cpu, in, X86_EXC_GP, err);
        if (!X86_D_P(d))
            return x86_fault(cpu, in, X86_EXC_SS, err);
    } else {
        if ((type & 0xa) == 0x8)             /* execute-only code */
            return x86_fault(cpu, in, X86_EXC_GP, err);
        if ((type & 0xc) != 0xc && (rpl > dpl || cpl > dpl))
            return x86_fault(cpu, in, X86_EXC_GP, err);
        if (!X86_D_P(d))
            return x86_fault(cpu, in, X86_EXC_NP, err);
    }
    if (!x86_desc_touch(cpu, in, a, &d))
        return false;
    x86_seg_from_desc(&cpu->seg[seg], sel, d);
    return true;
}

bool x86_seg_load(X86CPU *cpu, const XInsn *in, int seg, uint16_t sel)
{
    if ((cpu->hflags & (X86_HF_PE | X86_HF_VM)) != X86_HF_PE) {
        x86_seg_load_real(cpu, seg, sel);
    } else if (!seg_load_pm(cpu, in, seg, sel)) {
        return false;
    }
    /* SS: the CPL and stack size; ES/SS/DS: FLAT32 (the instructions that
     * load ES and DS end their block, as those that load SS do). */
    if (seg == X86_SS || seg == X86_DS || seg == X86_ES)
        x86_update_hflags(cpu);
    return true;
}

/* ---- TSS stacks ---- */

static bool tss_ld(X86CPU *cpu, const XInsn *in, uint32_t off, unsigned size, int ext,
                   uint64_t *v)
{
    const X86Seg *tr = &cpu->tr;
    if (off + size - 1 > tr->limit)
        return x86_fault(cpu, in, X86_EXC_TS, (tr->selector & 0xfffc) | ext);
    return x86_ld_lin(cpu, in, (tr->base + off) & x86_lin_mask(cpu), size, v);
}

bool x86_tss_stack(X86CPU *cpu, const XInsn *in, unsigned dpl, int ext,
                   uint16_t *ss, uint64_t *sp)
{
    uint64_t s;
    if (cpu->tr.type & 8) {
        if (!tss_ld(cpu, in, 4 + dpl * 8, 4, ext, sp) ||
            !tss_ld(cpu, in, 8 + dpl * 8, 2, ext, &s))
            return false;
    } else {
        if (!tss_ld(cpu, in, 2 + dpl * 4, 2, ext, sp) ||
            !tss_ld(cpu, in, 4 + dpl * 4, 2, ext, &s))
            return false;
    }
    *ss = (uint16_t)s;
    return true;
}

bool x86_tss_stack64(X86CPU *cpu, const XInsn *in, unsigned dpl, unsigned ist,
                     int ext, uint64_t *sp)
{
    return tss_ld(cpu, in, ist ? 0x1c + ist * 8 : 4 + dpl * 8, 8, ext, sp);
}

bool x86_inner_ss(X86CPU *cpu, const XInsn *in, uint16_t sel, unsigned cpl, int ext,
                  X86Seg *s, uint64_t *addr, uint64_t *d)
{
    int err = (sel & 0xfffc) | ext;
    if (!(sel & 0xfffc))
        return x86_fault(cpu, in, X86_EXC_TS, ext);
    if (!x86_desc_read(cpu, in, sel, X86_EXC_TS, ext, d, addr))
        return false;
    unsigned type = X86_D_TYPE(*d);
    if ((sel & 3) != cpl || !X86_D_S(*d) || (type & 0xa) != 0x2 || X86_D_DPL(*d) != cpl)
        return x86_fault(cpu, in, X86_EXC_TS, err);
    if (!X86_D_P(*d))
        return x86_fault(cpu, in, X86_EXC_SS, err);
    x86_seg_from_desc(s, sel, *d);
    return true;
}

/* ---- far transfers ---- */

static bool is_64bit_code(const X86CPU *cpu, uint64_t d)
{
    return (cpu->hflags & X86_HF_LMA) && X86_D_L(d);
}

/* New RIP valid for code descriptor d: canonical for 64-bit code, inside
 * the limit otherwise. */
static bool cs_rip_ok(const X86CPU *cpu, uint64_t d, uint64_t rip)
{
    if (is_64bit_code(cpu, d))
        return x86_canonical(rip);
    return rip <= desc_limit(d);
}

/* CS with L and D both set is reserved in long mode (#GP(sel)). */
static bool cs_ld_ok(const X86CPU *cpu, uint64_t d)
{
    return !((cpu->hflags & X86_HF_LMA) && X86_D_L(d) && X86_D_DB(d));
}

static void load_cs(X86CPU *cpu, uint16_t sel, uint64_t d, unsigned cpl)
{
    x86_seg_from_desc(&cpu->seg[X86_CS], (uint16_t)((sel & ~3u) | cpl), d);
}

static const XInsn *retire(X86CPU *cpu, const XInsn *in)
{
    cpu->icount -= in->rem;
    return NULL;
}

/* Real and virtual-8086 mode far JMP/CALL target. */
static const XInsn *far_real(X86CPU *cpu, const XInsn *in, uint16_t sel, uint64_t off,
                             bool call)
{
    unsigned os = in->osize;
    off &= x86_size_mask(os);
    if (off > cpu->seg[X86_CS].limit)
        return x86_raise(cpu, in, X86_EXC_GP, 0);
    if (call) {
        uint64_t v[2] = { cpu->seg[X86_CS].selector, x86_next_rip(in) & x86_size_mask(os) };
        uint64_t sp;
        if (!push_n(cpu, in, os, v, 2, &sp))
            return NULL;
        x86_set_sp(cpu, sp);
    }
    x86_seg_load_real(cpu, X86_CS, sel);
    x86_update_hflags(cpu);
    return x86_jump(cpu, in, off);
}

/* TSS descriptor or task gate as a JMP/CALL target (protected mode, not
 * long mode): checks, then the switch. */
static const XInsn *far_task(X86CPU *cpu, const XInsn *in, uint16_t sel, uint64_t d,
                             uint64_t a, bool call)
{
    unsigned cpl = x86_cpl(cpu), type = X86_D_TYPE(d);
    int err = sel & 0xfffc;
    if (X86_D_DPL(d) < cpl || X86_D_DPL(d) < (sel & 3u))
        return x86_raise(cpu, in, X86_EXC_GP, err);
    if (type == X86_SYS_TASK) {
        if (!X86_D_P(d))
            return x86_raise(cpu, in, X86_EXC_NP, err);
        sel = (uint16_t)(d >> 16);
        err = sel & 0xfffc;
        if (sel & 4)
            return x86_raise(cpu, in, X86_EXC_GP, err);
        if (!x86_desc_read(cpu, in, sel, X86_EXC_GP, 0, &d, &a))
            return NULL;
        type = X86_D_TYPE(d);
        if (X86_D_S(d) || (type != X86_SYS_TSS && type != X86_SYS_TSS16))
            return x86_raise(cpu, in, X86_EXC_GP, err);
    }
    if (!X86_D_P(d))
        return x86_raise(cpu, in, X86_EXC_NP, err);
    int r = x86_task_switch(cpu, in, sel, d, a, call ? X86_TS_CALL : X86_TS_JMP,
                            x86_next_rip(in), 0);
    return r ? retire(cpu, in) : NULL;
}

/* Call gate: the target code descriptor, its selector and offset. */
typedef struct Gate {
    uint16_t csel;
    uint64_t cd, ca;       /* code descriptor and its address */
    uint64_t off;
    unsigned size;         /* 2, 4, 8: gate width */
    unsigned params;
} Gate;

static bool call_gate(X86CPU *cpu, const XInsn *in, uint16_t sel, uint64_t d, Gate *g,
                      bool call)
{
    unsigned cpl = x86_cpl(cpu), type = X86_D_TYPE(d);
    int err = sel & 0xfffc;
    bool lma = cpu->hflags & X86_HF_LMA;
    if (X86_D_DPL(d) < cpl || (sel & 3u) > X86_D_DPL(d))
        return x86_fault(cpu, in, X86_EXC_GP, err);
    if (!X86_D_P(d))
        return x86_fault(cpu, in, X86_EXC_NP, err);
    g->off = (d & 0xffff) | ((d >> 32) & 0xffff0000);
    g->size = type == X86_SYS_CALL16 ? 2 : 4;
    g->params = (d >> 32) & 0x1f;
    if (g->size == 2)
        g->off &= 0xffff;
    if (lma) {
        uint64_t hi;
        if (!x86_desc_read_hi(cpu, in, sel, X86_EXC_GP, 0, &hi))
            return false;
        if ((hi >> 40) & 0x1f)
            return x86_fault(cpu, in, X86_EXC_GP, err);
        g->off |= hi << 32;
        g->size = 8;
        g->params = 0;
    }
    g->csel = (uint16_t)(d >> 16);
    if (!(g->csel & 0xfffc))
        return x86_fault(cpu, in, X86_EXC_GP, 0);
    int cerr = g->csel & 0xfffc;
    if (!x86_desc_read(cpu, in, g->csel, X86_EXC_GP, 0, &g->cd, &g->ca))
        return false;
    uint64_t cd = g->cd;
    unsigned cdpl = X86_D_DPL(cd);
    if (!X86_D_S(cd) || !(X86_D_TYPE(cd) & 8))
        return x86_fault(cpu, in, X86_EXC_GP, cerr);
    if (X86_D_TYPE(cd) & 4 ? cdpl > cpl : (call ? cdpl > cpl : cdpl != cpl))
        return x86_fault(cpu, in, X86_EXC_GP, cerr);
    if (!X86_D_P(cd))
        return x86_fault(cpu, in, X86_EXC_NP, cerr);
    if (lma && (!X86_D_L(cd) || X86_D_DB(cd)))
        return x86_fault(cpu, in, X86_EXC_GP, cerr);
    if (!cs_rip_ok(cpu, cd, g->off))
        return x86_fault(cpu, in, X86_EXC_GP, 0);
    return true;
}

const XInsn *x86_far_jmp(X86CPU *cpu, const XInsn *in, uint16_t sel, uint64_t off)
{
    if ((cpu->hflags & (X86_HF_PE | X86_HF_VM)) != X86_HF_PE)
        return far_real(cpu, in, sel, off, false);
    off &= x86_size_mask(in->osize);
    int err = sel & 0xfffc;
    if (!err)
        return x86_raise(cpu, in, X86_EXC_GP, 0);
    uint64_t d, a;
    if (!x86_desc_read(cpu, in, sel, X86_EXC_GP, 0, &d, &a))
        return NULL;
    unsigned cpl = x86_cpl(cpu), dpl = X86_D_DPL(d), type = X86_D_TYPE(d);
    if (X86_D_S(d)) {
        if (!(type & 8))
            return x86_raise(cpu, in, X86_EXC_GP, err);
        if (type & 4 ? dpl > cpl : ((sel & 3u) > cpl || dpl != cpl))
            return x86_raise(cpu, in, X86_EXC_GP, err);
        if (!X86_D_P(d))
            return x86_raise(cpu, in, X86_EXC_NP, err);
        if (!cs_ld_ok(cpu, d))
            return x86_raise(cpu, in, X86_EXC_GP, err);
        if (!cs_rip_ok(cpu, d, off))
            return x86_raise(cpu, in, X86_EXC_GP, 0);
        if (!x86_desc_touch(cpu, in, a, &d))
            return NULL;
        load_cs(cpu, sel, d, cpl);
        x86_update_hflags(cpu);
        return x86_jump(cpu, in, off);
    }
    bool lma = cpu->hflags & X86_HF_LMA;
    if (type == X86_SYS_CALL || (type == X86_SYS_CALL16 && !lma)) {
        Gate g;
        if (!call_gate(cpu, in, sel, d, &g, false))
            return NULL;
        if (!x86_desc_touch(cpu, in, g.ca, &g.cd))
            return NULL;
        load_cs(cpu, g.csel, g.cd, cpl);
        x86_update_hflags(cpu);
        return x86_jump(cpu, in, g.off);
    }
    if (!lma && (type == X86_SYS_TASK || type == X86_SYS_TSS || type == X86_SYS_TSS16))
        return far_task(cpu, in, sel, d, a, false);
    return x86_raise(cpu, in, X86_EXC_GP, err);
}

/* Call through a gate to a more privileged non-conforming segment:
 * switch to the inner stack of the TSS, copy parameters (32/16-bit
 * gates), push the caller's SS:ESP and CS:EIP. */
static const XInsn *call_inner(X86CPU *cpu, const XInsn *in, const Gate *g)
{
    unsigned ncpl = X86_D_DPL(g->cd), size = g->size;
    const X86Seg *oss = &cpu->seg[X86_SS];
    uint64_t ret = x86_next_rip(in);
    uint64_t osp = cpu->regs[X86_RSP];
    uint64_t v[36];
    unsigned n = 0;
    X86Seg nss;
    uint64_t nsp, base, m;

    if (size == 8) {
        if (!x86_tss_stack64(cpu, in, ncpl, 0, 0, &nsp))
            return NULL;
        memset(&nss, 0, sizeof(nss));
        nss.selector = (uint16_t)ncpl;
        nss.unusable = 1;
        nss.dpl = ncpl;
        base = 0;
        m = ~0ull;
        if (!x86_canonical(nsp) || !x86_canonical(nsp - 32))
            return x86_raise(cpu, in, X86_EXC_SS, 0);
    } else {
        uint16_t ss;
        uint64_t sd, sa;
        if (!x86_tss_stack(cpu, in, ncpl, 0, &ss, &nsp) ||
            !x86_inner_ss(cpu, in, ss, ncpl, 0, &nss, &sa, &sd))
            return NULL;
        m = nss.db ? 0xffffffffull : 0xffffull;
        base = nss.base;
        unsigned total = (4 + g->params) * size;
        for (unsigned k = 1; k <= total / size; k++) {
            if (!x86_seg_range_ok(&nss, (nsp - k * size) & m, size))
                return x86_raise(cpu, in, X86_EXC_SS, ss & 0xfffc);
        }
        if (!x86_desc_touch(cpu, in, sa, &sd))
            return NULL;
        nss.type = X86_D_TYPE(sd);
    }
    v[n++] = oss->selector;
    v[n++] = osp & x86_size_mask(size);
    for (unsigned i = g->params; i-- > 0;) {
        uint64_t p;
        if (!x86_peek(cpu, in, i * size, size, &p))
            return NULL;
        v[n++] = p;
    }
    v[n++] = cpu->seg[X86_CS].selector;
    v[n++] = ret & x86_size_mask(size);
    uint64_t sp = nsp;
    for (unsigned i = 0; i < n; i++) {
        sp = (sp - size) & m;
        if (!x86_st_lin(cpu, in, (base + sp) & x86_lin_mask(cpu), size, v[i]))
            return NULL;
    }
    uint64_t cd = g->cd;
    if (!x86_desc_touch(cpu, in, g->ca, &cd))
        return NULL;
    cpu->seg[X86_SS] = nss;
    if (size == 8 || nss.db)
        cpu->regs[X86_RSP] = size == 8 ? sp : (uint32_t)sp;
    else
        cpu->regs[X86_RSP] = (cpu->regs[X86_RSP] & ~0xffffull) | (sp & 0xffff);
    load_cs(cpu, g->csel, cd, ncpl);
    x86_update_hflags(cpu);
    return x86_jump(cpu, in, g->off);
}

const XInsn *x86_far_call(X86CPU *cpu, const XInsn *in, uint16_t sel, uint64_t off)
{
    if ((cpu->hflags & (X86_HF_PE | X86_HF_VM)) != X86_HF_PE)
        return far_real(cpu, in, sel, off, true);
    unsigned os = in->osize;
    off &= x86_size_mask(os);
    int err = sel & 0xfffc;
    if (!err)
        return x86_raise(cpu, in, X86_EXC_GP, 0);
    uint64_t d, a, sp;
    if (!x86_desc_read(cpu, in, sel, X86_EXC_GP, 0, &d, &a))
        return NULL;
    unsigned cpl = x86_cpl(cpu), dpl = X86_D_DPL(d), type = X86_D_TYPE(d);
    uint64_t ret = x86_next_rip(in);
    if (X86_D_S(d)) {
        if (!(type & 8))
            return x86_raise(cpu, in, X86_EXC_GP, err);
        if (type & 4 ? dpl > cpl : ((sel & 3u) > cpl || dpl != cpl))
            return x86_raise(cpu, in, X86_EXC_GP, err);
        if (!X86_D_P(d))
            return x86_raise(cpu, in, X86_EXC_NP, err);
        if (!cs_ld_ok(cpu, d))
            return x86_raise(cpu, in, X86_EXC_GP, err);
        if (!cs_rip_ok(cpu, d, off))
            return x86_raise(cpu, in, X86_EXC_GP, 0);
        uint64_t v[2] = { cpu->seg[X86_CS].selector, ret & x86_size_mask(os) };
        if (!push_n(cpu, in, os, v, 2, &sp) || !x86_desc_touch(cpu, in, a, &d))
            return NULL;
        x86_set_sp(cpu, sp);
        load_cs(cpu, sel, d, cpl);
        x86_update_hflags(cpu);
        return x86_jump(cpu, in, off);
    }
    bool lma = cpu->hflags & X86_HF_LMA;
    if (type == X86_SYS_CALL || (type == X86_SYS_CALL16 && !lma)) {
        Gate g;
        if (!call_gate(cpu, in, sel, d, &g, true))
            return NULL;
        if (!(X86_D_TYPE(g.cd) & 4) && X86_D_DPL(g.cd) < cpl)
            return call_inner(cpu, in, &g);
        uint64_t v[2] = { cpu->seg[X86_CS].selector, ret & x86_size_mask(g.size) };
        if (!push_n(cpu, in, g.size, v, 2, &sp) || !x86_desc_touch(cpu, in, g.ca, &g.cd))
            return NULL;
        x86_set_sp(cpu, sp);
        load_cs(cpu, g.csel, g.cd, cpl);
        x86_update_hflags(cpu);
        return x86_jump(cpu, in, g.off);
    }
    if (!lma && (type == X86_SYS_TASK || type == X86_SYS_TSS || type == X86_SYS_TSS16))
        return far_task(cpu, in, sel, d, a, true);
    return x86_raise(cpu, in, X86_EXC_GP, err);
}

/* Validate the outer SS of a RET/IRET to privilege rpl; null SS is
 * allowed only into 64-bit code at CPL < 3. */
static bool outer_ss(X86CPU *cpu, const XInsn *in, uint16_t sel, unsigned rpl,
                     uint64_t cd, X86Seg *s, uint64_t *sa, uint64_t *sd)
{
    int err = sel & 0xfffc;
    if (!err) {
        if (!is_64bit_code(cpu, cd) || rpl == 3)
            return x86_fault(cpu, in, X86_EXC_GP, 0);
        memset(s, 0, sizeof(*s));
        s->selector = sel;
        s->unusable = 1;
        s->dpl = rpl;
        *sa = 0;
        *sd = X86_DESC_A;
        return true;
    }
    if ((sel & 3u) != rpl)
        return x86_fault(cpu, in, X86_EXC_GP, err);
    if (!x86_desc_read(cpu, in, sel, X86_EXC_GP, 0, sd, sa))
        return false;
    if (!X86_D_S(*sd) || (X86_D_TYPE(*sd) & 0xa) != 0x2 || X86_D_DPL(*sd) != rpl)
        return x86_fault(cpu, in, X86_EXC_GP, err);
    if (!X86_D_P(*sd))
        return x86_fault(cpu, in, X86_EXC_SS, err);
    x86_seg_from_desc(s, sel, *sd);
    return true;
}

/* Checks of the code segment a RET/IRET returns to (protected mode). */
static bool ret_cs(X86CPU *cpu, const XInsn *in, uint16_t sel, uint64_t *d, uint64_t *a)
{
    int err = sel & 0xfffc;
    unsigned cpl = x86_cpl(cpu), rpl = sel & 3;
    if (!err)
        return x86_fault(cpu, in, X86_EXC_GP, 0);
    if (!x86_desc_read(cpu, in, sel, X86_EXC_GP, 0, d, a))
        return false;
    unsigned type = X86_D_TYPE(*d), dpl = X86_D_DPL(*d);
    if (!X86_D_S(*d) || !(type & 8) || rpl < cpl)
        return x86_fault(cpu, in, X86_EXC_GP, err);
    if (type & 4 ? dpl > rpl : dpl != rpl)
        return x86_fault(cpu, in, X86_EXC_GP, err);
    if (!X86_D_P(*d))
        return x86_fault(cpu, in, X86_EXC_NP, err);
    if (!cs_ld_ok(cpu, *d))
        return x86_fault(cpu, in, X86_EXC_GP, err);
    return true;
}

/* Commit a return to an outer level: CS, SS, RSP, null data segments. */
static void ret_outer_commit(X86CPU *cpu, uint16_t csel, uint64_t cd, const X86Seg *ss,
                             uint64_t rsp)
{
    unsigned rpl = csel & 3;
    load_cs(cpu, csel, cd, rpl);
    cpu->seg[X86_SS] = *ss;
    if (is_64bit_code(cpu, cd))
        cpu->regs[X86_RSP] = rsp;
    else if (ss->db)
        cpu->regs[X86_RSP] = (uint32_t)rsp;
    else
        cpu->regs[X86_RSP] = (cpu->regs[X86_RSP] & ~0xffffull) | (rsp & 0xffff);
    seg_drop_outer(cpu, rpl);
    x86_update_hflags(cpu);
}

const XInsn *x86_far_ret(X86CPU *cpu, const XInsn *in, unsigned imm)
{
    unsigned os = in->osize;
    uint64_t rip, csv;
    if (!x86_peek(cpu, in, 0, os, &rip) || !x86_peek(cpu, in, os, os, &csv))
        return NULL;
    uint16_t csel = (uint16_t)csv;
    uint64_t sp = cpu->regs[X86_RSP] + 2 * os + imm;
    if ((cpu->hflags & (X86_HF_PE | X86_HF_VM)) != X86_HF_PE) {
        if (rip > cpu->seg[X86_CS].limit)
            return x86_raise(cpu, in, X86_EXC_GP, 0);
        x86_seg_load_real(cpu, X86_CS, csel);
        x86_set_sp(cpu, sp);
        x86_update_hflags(cpu);
        return x86_jump(cpu, in, rip);
    }
    uint64_t cd, ca;
    if (!ret_cs(cpu, in, csel, &cd, &ca))
        return NULL;
    unsigned cpl = x86_cpl(cpu), rpl = csel & 3;
    if (rpl == cpl) {
        if (!cs_rip_ok(cpu, cd, rip))
            return x86_raise(cpu, in, X86_EXC_GP, 0);
        if (!x86_desc_touch(cpu, in, ca, &cd))
            return NULL;
        load_cs(cpu, csel, cd, cpl);
        x86_set_sp(cpu, sp);
        x86_update_hflags(cpu);
        return x86_jump(cpu, in, rip);
    }
    uint64_t nsp, ssv, sd, sa;
    if (!x86_peek(cpu, in, 2 * os + imm, os, &nsp) ||
        !x86_peek(cpu, in, 3 * os + imm, os, &ssv))
        return NULL;
    X86Seg nss;
    if (!outer_ss(cpu, in, (uint16_t)ssv, rpl, cd, &nss, &sa, &sd))
        return NULL;
    if (!cs_rip_ok(cpu, cd, rip))
        return x86_raise(cpu, in, X86_EXC_GP, 0);
    if (!x86_desc_touch(cpu, in, ca, &cd) || (sa && !x86_desc_touch(cpu, in, sa, &sd)))
        return NULL;
    if (sa)
        nss.type = X86_D_TYPE(sd);
    ret_outer_commit(cpu, csel, cd, &nss, nsp + imm);
    return x86_jump(cpu, in, rip);
}

/* EFLAGS bits an IRET may write, by the CPL it runs at. */
static uint64_t iret_mask(const X86CPU *cpu, unsigned os)
{
    uint64_t m = X86_ARITH_FLAGS | X86_TF | X86_DF | X86_NT | X86_RF | X86_AC | X86_ID;
    unsigned cpl = x86_cpl(cpu), iopl = (cpu->eflags >> 12) & 3;
    if (!(cpu->hflags & X86_HF_PE)) {
        m |= X86_IF | X86_IOPL;
    } else {
        if (cpl <= iopl)
            m |= X86_IF;
        if (cpl == 0)
            m |= X86_IOPL | X86_VIF | X86_VIP;
    }
    if (os == 2)
        m &= 0xffff;
    return m;
}

static const XInsn *iret_task(X86CPU *cpu, const XInsn *in)
{
    uint64_t link, d, a;
    const X86Seg *tr = &cpu->tr;
    if (!x86_ld_lin(cpu, in, tr->base & x86_lin_mask(cpu), 2, &link))
        return NULL;
    uint16_t sel = (uint16_t)link;
    int err = sel & 0xfffc;
    if (sel & 4)
        return x86_raise(cpu, in, X86_EXC_TS, err);
    if (!x86_desc_read(cpu, in, sel, X86_EXC_TS, 0, &d, &a))
        return NULL;
    unsigned type = X86_D_TYPE(d);
    if (X86_D_S(d) || (type != X86_SYS_TSS_BUSY && type != X86_SYS_TSS16_BUSY))
        return x86_raise(cpu, in, X86_EXC_TS, err);
    if (!X86_D_P(d))
        return x86_raise(cpu, in, X86_EXC_NP, err);
    int r = x86_task_switch(cpu, in, sel, d, a, X86_TS_IRET, x86_next_rip(in), 0);
    if (!r)
        return NULL;
    cpu->nmi_blocked = false;
    return retire(cpu, in);
}

/* IRET with EFLAGS.VM in the image, at CPL 0 outside long mode. */
static const XInsn *iret_to_vm86(X86CPU *cpu, const XInsn *in, uint64_t rip,
                                 uint16_t csel, uint64_t fl)
{
    uint64_t v[6];
    for (unsigned i = 0; i < 6; i++) {
        if (!x86_peek(cpu, in, 12 + 4 * i, 4, &v[i]))
            return NULL;
    }
    /* v: ESP SS ES DS FS GS */
    x86_set_eflags(cpu, fl | 2, 0x3f7fd5 | X86_VIF | X86_VIP | X86_VM);
    cpu->eflags |= X86_VM;
    x86_seg_load_real(cpu, X86_CS, csel);
    x86_seg_load_real(cpu, X86_SS, (uint16_t)v[1]);
    x86_seg_load_real(cpu, X86_ES, (uint16_t)v[2]);
    x86_seg_load_real(cpu, X86_DS, (uint16_t)v[3]);
    x86_seg_load_real(cpu, X86_FS, (uint16_t)v[4]);
    x86_seg_load_real(cpu, X86_GS, (uint16_t)v[5]);
    cpu->regs[X86_RSP] = (uint32_t)v[0];
    x86_update_hflags(cpu);
    cpu->nmi_blocked = false;
    return x86_jump(cpu, in, rip & 0xffff);
}

const XInsn *x86_iret(X86CPU *cpu, const XInsn *in)
{
    unsigned os = in->osize;
    uint32_t hf = cpu->hflags;
    uint64_t rip, csv, fl;

    if ((hf & X86_HF_PE) && !(hf & X86_HF_VM) && (cpu->eflags & X86_NT)) {
        if (hf & X86_HF_LMA)
            return x86_raise(cpu, in, X86_EXC_GP, 0);
        return iret_task(cpu, in);
    }
    if ((hf & X86_HF_VM) && ((cpu->eflags >> 12) & 3) != 3)
        return x86_raise(cpu, in, X86_EXC_GP, 0);   /* no VME */
    if (!x86_peek(cpu, in, 0, os, &rip) || !x86_peek(cpu, in, os, os, &csv) ||
        !x86_peek(cpu, in, 2 * os, os, &fl))
        return NULL;
    uint16_t csel = (uint16_t)csv;

    if (!(hf & X86_HF_PE) || (hf & X86_HF_VM)) {
        if (rip > cpu->seg[X86_CS].limit)
            return x86_raise(cpu, in, X86_EXC_GP, 0);
        uint64_t m;
        if (hf & X86_HF_VM) {
            /* IOPL 3: VM, IOPL, VIP, VIF (and RF for IRETD) are kept. */
            m = os == 2 ? 0xffff & ~(uint64_t)X86_IOPL
                        : (0x3f7fd5 & ~(uint64_t)(X86_IOPL | X86_VM | X86_VIF | X86_VIP));
        } else {
            m = os == 2 ? 0xffff : 0x257fd5;
        }
        x86_seg_load_real(cpu, X86_CS, csel);
        x86_set_sp(cpu, cpu->regs[X86_RSP] + 3 * os);
        x86_set_eflags(cpu, fl | 2, m & 0x3f7fd5);
        x86_update_hflags(cpu);
        cpu->nmi_blocked = false;
        return x86_jump(cpu, in, rip);
    }

    if (os == 4 && (fl & X86_VM) && x86_cpl(cpu) == 0 && !(hf & X86_HF_LMA))
        return iret_to_vm86(cpu, in, rip, csel, fl);

    uint64_t cd, ca;
    if (!ret_cs(cpu, in, csel, &cd, &ca))
        return NULL;
    unsigned cpl = x86_cpl(cpu), rpl = csel & 3;
    uint64_t fmask = iret_mask(cpu, os);
    if (rpl == cpl && !(hf & X86_HF_CS64)) {
        if (!cs_rip_ok(cpu, cd, rip))
            return x86_raise(cpu, in, X86_EXC_GP, 0);
        if (!x86_desc_touch(cpu, in, ca, &cd))
            return NULL;
        load_cs(cpu, csel, cd, cpl);
        x86_set_sp(cpu, cpu->regs[X86_RSP] + 3 * os);
        x86_set_eflags(cpu, fl, fmask);
        x86_update_hflags(cpu);
        cpu->nmi_blocked = false;
        return x86_jump(cpu, in, rip);
    }
    uint64_t nsp, ssv, sd, sa;
    if (!x86_peek(cpu, in, 3 * os, os, &nsp) || !x86_peek(cpu, in, 4 * os, os, &ssv))
        return NULL;
    X86Seg nss;
    if (!outer_ss(cpu, in, (uint16_t)ssv, rpl, cd, &nss, &sa, &sd))
        return NULL;
    if (!cs_rip_ok(cpu, cd, rip))
        return x86_raise(cpu, in, X86_EXC_GP, 0);
    if (!x86_desc_touch(cpu, in, ca, &cd) || (sa && !x86_desc_touch(cpu, in, sa, &sd)))
        return NULL;
    if (sa)
        nss.type = X86_D_TYPE(sd);
    x86_set_eflags(cpu, fl, fmask);
    if (rpl == cpl) {
        /* 64-bit mode IRET to the same level pops SS:RSP too. */
        load_cs(cpu, csel, cd, cpl);
        cpu->seg[X86_SS] = nss;
        cpu->regs[X86_RSP] = is_64bit_code(cpu, cd) ? nsp
                           : nss.db ? (uint32_t)nsp
                           : ((cpu->regs[X86_RSP] & ~0xffffull) | (nsp & 0xffff));
        x86_update_hflags(cpu);
    } else {
        ret_outer_commit(cpu, csel, cd, &nss, nsp);
    }
    cpu->nmi_blocked = false;
    return x86_jump(cpu, in, rip);
}

/* ---- task switch ---- */

/* Field offsets of the 32-bit and 16-bit TSS. */
typedef struct TssLayout {
    unsigned w;            /* field width */
    unsigned min_limit;
    unsigned cr3, eip, eflags, regs, segs, ldt;
} TssLayout;

static const TssLayout tss32 = { 4, 0x67, 0x1c, 0x20, 0x24, 0x28, 0x48, 0x60 };
static const TssLayout tss16 = { 2, 0x2b, 0, 0x0e, 0x10, 0x12, 0x22, 0x2a };

/* Selector checks of the new task's segments (SDM vol. 3 table 7-1);
 * in == NULL: faults happen in the new task. */
static bool ts_load_seg(X86CPU *cpu, int seg, uint16_t sel, int ext)
{
    int err = (sel & 0xfffc) | ext;
    unsigned cpl = cpu->seg[X86_CS].selector & 3;
    uint64_t d, a;
    if (!(sel & 0xfffc)) {
        if (seg == X86_CS || seg == X86_SS)
            return x86_fault(cpu, NULL, X86_EXC_TS, err);
        seg_load_null(cpu, seg, sel);
        return true;
    }
    if (!x86_desc_read(cpu, NULL, sel, X86_EXC_TS, ext, &d, &a))
        return false;
    unsigned type = X86_D_TYPE(d), dpl = X86_D_DPL(d);
    if (!X86_D_S(d))
        return x86_fault(cpu, NULL, X86_EXC_TS, err);
    if (seg == X86_CS) {
        if (!(type & 8) || (type & 4 ? dpl > cpl : dpl != cpl))
            return x86_fault(cpu, NULL, X86_EXC_TS, err);
        if (!X86_D_P(d))
            return x86_fault(cpu, NULL, X86_EXC_NP, err);
    } else if (seg == X86_SS) {
        if ((sel & 3u) != cpl || (type & 0xa) != 0x2 || dpl != cpl)
            return x86_fault(cpu, NULL, X86_EXC_TS, err);
        if (!X86_D_P(d))
            return x86_fault(cpu, NULL, X86_EXC_SS, err);
    } else {
        if ((type & 0xa) == 0x8 ||
            ((type & 0xc) != 0xc && (dpl < cpl || dpl < (sel & 3u))))
            return x86_fault(cpu, NULL, X86_EXC_TS, err);
        if (!X86_D_P(d))
            return x86_fault(cpu, NULL, X86_EXC_NP, err);
    }
    if (!x86_desc_touch(cpu, NULL, a, &d))
        return false;
    x86_seg_from_desc(&cpu->seg[seg], sel, d);
    return true;
}

static bool ts_load_ldt(X86CPU *cpu, uint16_t sel, int ext)
{
    int err = (sel & 0xfffc) | ext;
    uint64_t d, a;
    if (!(sel & 0xfffc)) {
        memset(&cpu->ldt, 0, sizeof(cpu->ldt));
        cpu->ldt.selector = sel;
        cpu->ldt.unusable = 1;
        return true;
    }
    if (sel & 4)
        return x86_fault(cpu, NULL, X86_EXC_TS, err);
    if (!x86_desc_read(cpu, NULL, sel, X86_EXC_TS, ext, &d, &a))
        return false;
    if (X86_D_S(d) || X86_D_TYPE(d) != X86_SYS_LDT || !X86_D_P(d))
        return x86_fault(cpu, NULL, X86_EXC_TS, err);
    x86_seg_from_desc(&cpu->ldt, sel, d);
    return true;
}

/* Set or clear the busy bit of the TSS descriptor of GDT selector sel. */
static bool ts_busy(X86CPU *cpu, const XInsn *in, uint16_t sel, bool busy)
{
    uint64_t a = (cpu->gdt.base + (sel & ~7u) + 5) & x86_lin_mask(cpu), b;
    if (!x86_ld_lin(cpu, in, a, 1, &b))
        return false;
    b = busy ? (b | 2) : (b & ~2ull);
    return x86_st_lin(cpu, in, a, 1, b);
}

int x86_task_switch(X86CPU *cpu, const XInsn *in, uint16_t sel, uint64_t desc,
                    uint64_t desc_addr, int reason, uint64_t ret_rip, int ext)
{
    (void)desc_addr;
    X86Seg nt;
    x86_seg_from_desc(&nt, sel, desc);
    const TssLayout *L = (nt.type & 8) ? &tss32 : &tss16;
    const TssLayout *O = (cpu->tr.type & 8) ? &tss32 : &tss16;
    uint64_t lm = x86_lin_mask(cpu);
    unsigned w = L->w;
    if (nt.limit < L->min_limit) {
        x86_fault(cpu, in, X86_EXC_TS, (sel & 0xfffc) | ext);
        return 0;
    }

    /* Read the whole new state first. */
    uint64_t cr3 = cpu->cr3, eip, fl, regs[8], segs[6], ldt;
    if ((L == &tss32 && !x86_ld_lin(cpu, in, (nt.base + L->cr3) & lm, 4, &cr3)) ||
        !x86_ld_lin(cpu, in, (nt.base + L->eip) & lm, w, &eip) ||
        !x86_ld_lin(cpu, in, (nt.base + L->eflags) & lm, w, &fl) ||
        !x86_ld_lin(cpu, in, (nt.base + L->ldt) & lm, 2, &ldt))
        return 0;
    for (unsigned i = 0; i < 8; i++) {
        if (!x86_ld_lin(cpu, in, (nt.base + L->regs + i * w) & lm, w, &regs[i]))
            return 0;
    }
    for (unsigned i = 0; i < 6; i++) {
        if (!x86_ld_lin(cpu, in, (nt.base + L->segs + i * w) & lm, 2, &segs[i]))
            return 0;
    }

    /* Save the old task. */
    uint64_t ofl = x86_eflags(cpu);
    if (reason == X86_TS_IRET)
        ofl &= ~(uint64_t)X86_NT;
    uint64_t ob = cpu->tr.base;
    unsigned ow = O->w;
    if (!x86_st_lin(cpu, in, (ob + O->eip) & lm, ow, ret_rip) ||
        !x86_st_lin(cpu, in, (ob + O->eflags) & lm, ow, ofl))
        return 0;
    for (unsigned i = 0; i < 8; i++) {
        if (!x86_st_lin(cpu, in, (ob + O->regs + i * ow) & lm, ow, cpu->regs[i]))
            return 0;
    }
    for (unsigned i = 0; i < 6; i++) {
        if (!x86_st_lin(cpu, in, (ob + O->segs + i * ow) & lm, 2, cpu->seg[i].selector))
            return 0;
    }
    if (reason == X86_TS_CALL || reason == X86_TS_INT) {
        if (!x86_st_lin(cpu, in, nt.base & lm, 2, cpu->tr.selector))
            return 0;
        fl |= X86_NT;
    }
    if ((reason == X86_TS_JMP || reason == X86_TS_IRET) &&
        !ts_busy(cpu, in, cpu->tr.selector, false))
        return 0;
    if (reason != X86_TS_IRET && !ts_busy(cpu, in, sel, true))
        return 0;

    /* Commit point: from here on faults belong to the new task. */
    nt.type |= 2;
    cpu->tr = nt;
    cpu->cr0 |= X86_CR0_TS;
    if (L == &tss32 && (cpu->cr0 & X86_CR0_PG)) {
        cpu->cr3 = cr3 & 0xffffffffull;
        x86_tlb_flush(cpu, true);
    }
    if (L == &tss32) {
        x86_set_eflags(cpu, fl | 2, 0x3f7fd5 | X86_VM | X86_VIF | X86_VIP);
        for (unsigned i = 0; i < 8; i++)
            cpu->regs[i] = (uint32_t)regs[i];
    } else {
        x86_set_eflags(cpu, fl | 2, 0xffff);
        for (unsigned i = 0; i < 8; i++)
            x86_reg_set(cpu, i, 2, regs[i]);
    }
    cpu->rip = eip & (L == &tss32 ? 0xffffffffull : 0xffffull);
    for (unsigned i = 0; i < 6; i++)
        cpu->seg[i].selector = (uint16_t)segs[i];
    cpu->ldt.selector = (uint16_t)ldt;

    bool ok = true;
    cpu->pending_vec = -1;
    if (cpu->eflags & X86_VM) {
        for (unsigned i = 0; i < 6; i++)
            x86_seg_load_real(cpu, (int)i, (uint16_t)segs[i]);
        ok = ts_load_ldt(cpu, (uint16_t)ldt, ext);
    } else {
        static const int order[] = { X86_CS, X86_SS, X86_ES, X86_DS, X86_FS, X86_GS };
        ok = ts_load_ldt(cpu, (uint16_t)ldt, ext);
        for (unsigned i = 0; ok && i < 6; i++) {
            ok = ts_load_seg(cpu, order[i], (uint16_t)segs[order[i]], ext);
            if (ok && order[i] == X86_SS)
                x86_update_hflags(cpu);
        }
    }
    x86_update_hflags(cpu);
    if (ok && cpu->rip > cpu->seg[X86_CS].limit) {
        x86_pending_fault(cpu, X86_EXC_GP, 0);
        ok = false;
    }
    if (!ok) {
        int vec = cpu->pending_vec, err = cpu->pending_err;
        cpu->pending_vec = -1;
        x86_deliver_exc(cpu, vec, err);
        return 2;
    }
    return 1;
}
