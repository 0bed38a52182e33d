/* What record/replay logs and compares of an x86 CPU: RIP, the 16 GPRs
 * and EFLAGS with every event, a hash of the whole architectural state at
 * the end, and the monitor's register dump (laid out like QEMU's "info
 * registers" so the two can be compared by eye). */
#include <stdio.h>
#include <string.h>

#include "checkpoint/snap.h"
#include "targets/x86/flags.h"

const char *const x86_reg_names[] = {
    "rip", "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "eflags", NULL,
};

#define NREGS 18

unsigned x86_regs(void *opaque, uint64_t *out)
{
    X86CPU *cpu = opaque;
    out[0] = cpu->rip;
    memcpy(out + 1, cpu->regs, sizeof(cpu->regs));
    out[17] = x86_eflags(cpu);
    return NREGS;
}

/* Writable EFLAGS bits (bit 1 is fixed at 1, the rest reserved 0). */
#define EFLAGS_MASK (X86_ARITH_FLAGS | X86_TF | X86_IF | X86_DF | X86_IOPL | X86_NT | \
                     X86_RF | X86_VM | X86_AC | X86_VIF | X86_VIP | X86_ID)

void x86_set_reg(void *opaque, unsigned idx, uint64_t val)
{
    X86CPU *cpu = opaque;
    if (idx == 0)
        cpu->rip = val;
    else if (idx <= 16)
        cpu->regs[idx - 1] = val;
    else if (idx == 17)
        x86_set_eflags(cpu, val, EFLAGS_MASK);
}

static uint64_t h64(uint64_t h, uint64_t v)
{
    h = (h ^ v) * 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 31);
}

/* Every architectural field, named, in the state hash's order; not the
 * TLB, blocks, icount or lazy-flag bookkeeping (EFLAGS enters as
 * x86_eflags computes it). */
typedef void FieldFn(void *ctx, const char *name, int idx, uint64_t v);

static void visit_seg(FieldFn *fn, void *ctx, const char *name, int idx, const X86Seg *s)
{
    fn(ctx, name, idx, s->base);
    fn(ctx, name, idx, (uint64_t)s->limit << 16 | s->selector);
    fn(ctx, name, idx,
       (uint64_t)s->type | (uint64_t)s->present << 8 | (uint64_t)s->dpl << 16 |
           (uint64_t)s->db << 24 | (uint64_t)s->s << 32 | (uint64_t)s->l << 40 |
           (uint64_t)s->g << 48 | (uint64_t)s->avl << 56 | (uint64_t)(s->unusable & 1) << 63);
}

static void visit_state(X86CPU *cpu, FieldFn *fn, void *ctx)
{
    fn(ctx, "rip", -1, cpu->rip);
    for (int i = 0; i < 16; i++)
        fn(ctx, "reg", i, cpu->regs[i]);
    fn(ctx, "eflags", -1, x86_eflags(cpu));
    for (int i = 0; i < X86_NSEG; i++)
        visit_seg(fn, ctx, "seg", i, &cpu->seg[i]);
    visit_seg(fn, ctx, "ldt", -1, &cpu->ldt);
    visit_seg(fn, ctx, "tr", -1, &cpu->tr);
    fn(ctx, "gdt.base", -1, cpu->gdt.base);
    fn(ctx, "gdt.limit", -1, cpu->gdt.limit);
    fn(ctx, "idt.base", -1, cpu->idt.base);
    fn(ctx, "idt.limit", -1, cpu->idt.limit);
    static const char *const sys_names[] = {
        "cr0", "cr2", "cr3", "cr4", "cr8", "efer", "apic_base", "star", "lstar", "cstar",
        "fmask", "kernel_gs_base", "tsc_aux", "sysenter_cs", "sysenter_esp", "sysenter_eip",
        "pat", "misc_enable", "mtrr_def_type", "tsc_offset", "halted",
    };
    const uint64_t sys[] = {
        cpu->cr0, cpu->cr2, cpu->cr3, cpu->cr4, cpu->cr8, cpu->efer,
        cpu->apic_base, cpu->star, cpu->lstar, cpu->cstar, cpu->fmask,
        cpu->kernel_gs_base, cpu->tsc_aux, cpu->sysenter_cs, cpu->sysenter_esp,
        cpu->sysenter_eip, cpu->pat, cpu->misc_enable, cpu->mtrr_def_type,
        (uint64_t)cpu->tsc_offset, cpu->halted,
    };
    for (size_t i = 0; i < sizeof(sys) / sizeof(sys[0]); i++)
        fn(ctx, sys_names[i], -1, sys[i]);
    for (int i = 0; i < 8; i++)
        fn(ctx, "dr", i, cpu->dr[i]);
    for (int i = 0; i < 11; i++)
        fn(ctx, "mtrr_fixed", i, cpu->mtrr_fixed[i]);
    for (int i = 0; i < 16; i++)
        fn(ctx, "mtrr_var", i, cpu->mtrr_var[i]);
    const X86Fpu *f = &cpu->fpu;
    for (int i = 0; i < 8; i++) {
        fn(ctx, "st.mant", i, f->st[i].mant);
        fn(ctx, "st.sexp", i, f->st[i].sexp);
    }
    fn(ctx, "fcw|fsw|ftw|fop", -1, (uint64_t)f->fcw | (uint64_t)f->fsw << 16 |
                                       (uint64_t)f->ftw << 32 | (uint64_t)f->fop << 40);
    fn(ctx, "fip", -1, f->fip);
    fn(ctx, "fdp", -1, f->fdp);
    fn(ctx, "fcs|fds|mxcsr", -1,
       (uint64_t)f->fcs | (uint64_t)f->fds << 16 | (uint64_t)f->mxcsr << 32);
    for (int i = 0; i < 16; i++) {
        fn(ctx, "xmm.lo", i, f->xmm[i].q[0]);
        fn(ctx, "xmm.hi", i, f->xmm[i].q[1]);
    }
    fn(ctx, "xcr0", -1, f->xcr0);
}

static void hash_field(void *ctx, const char *name, int idx, uint64_t v)
{
    uint64_t *h = ctx;
    *h = h64(*h, v);
}

uint64_t x86_state_hash(void *opaque)
{
    uint64_t h = 0x783836ull;
    visit_state(opaque, hash_field, &h);
    return h;
}

static void print_field(void *ctx, const char *name, int idx, uint64_t v)
{
    if (idx >= 0)
        fprintf(ctx, "%s[%d]=%016llx\n", name, idx, (unsigned long long)v);
    else
        fprintf(ctx, "%s=%016llx\n", name, (unsigned long long)v);
}

void x86_dump_state(void *opaque, FILE *f)
{
    visit_state(opaque, print_field, f);
}

/* The descriptor's attribute dword as QEMU prints it (type, S, DPL, P,
 * limit 19:16, AVL, L, D/B, G in their descriptor positions). */
static uint32_t seg_flags(const X86Seg *s)
{
    uint32_t raw = s->g ? s->limit >> 12 : s->limit;
    return (uint32_t)s->type << 8 | (uint32_t)s->s << 12 | (uint32_t)s->dpl << 13 |
           (uint32_t)s->present << 15 | ((raw >> 16) & 0xf) << 16 |
           (uint32_t)s->avl << 20 | (uint32_t)s->l << 21 | (uint32_t)s->db << 22 |
           (uint32_t)s->g << 23;
}

static void dump_seg(FILE *f, const char *name, const X86Seg *s, bool lma)
{
    if (lma)
        fprintf(f, "%-3s=%04x %016llx %08x %08x\n", name, s->selector,
                (unsigned long long)s->base, s->limit, seg_flags(s));
    else
        fprintf(f, "%-3s=%04x %08x %08x %08x\n", name, s->selector,
                (unsigned)s->base, s->limit, seg_flags(s));
}

void x86_dump(void *opaque, FILE *f)
{
    X86CPU *cpu = opaque;
    static const char *const gpr64[16] = {
        "RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "RSP",
        "R8", "R9", "R10", "R11", "R12", "R13", "R14", "R15",
    };
    static const char *const gpr32[8] = {
        "EAX", "EBX", "ECX", "EDX", "ESI", "EDI", "EBP", "ESP",
    };
    /* QEMU's order: AX BX CX DX SI DI BP SP. */
    static const int order[8] = { X86_RAX, X86_RBX, X86_RCX, X86_RDX,
                                  X86_RSI, X86_RDI, X86_RBP, X86_RSP };
    const bool lma = (cpu->efer & X86_EFER_LMA) != 0;
    const bool cs64 = (cpu->hflags & X86_HF_CS64) != 0;
    uint64_t fl = x86_eflags(cpu);

    if (cs64) {
        for (int i = 0; i < 16; i++)
            fprintf(f, "%-3s=%016llx%c", gpr64[i],
                    (unsigned long long)cpu->regs[i < 8 ? order[i] : i],
                    i % 4 == 3 ? '\n' : ' ');
        fprintf(f, "RIP=%016llx", (unsigned long long)cpu->rip);
    } else {
        for (int i = 0; i < 8; i++)
            fprintf(f, "%s=%08x%c", gpr32[i], (unsigned)cpu->regs[order[i]],
                    i % 4 == 3 ? '\n' : ' ');
        fprintf(f, "EIP=%08x", (unsigned)cpu->rip);
    }
    fprintf(f, " %s=%08x [%c%c%c%c%c%c%c] CPL=%u II=%d A20=1 SMM=0 HLT=%d\n",
            cs64 ? "RFL" : "EFL", (unsigned)fl, fl & X86_DF ? 'D' : '-', fl & X86_OF ? 'O' : '-',
            fl & X86_SF ? 'S' : '-', fl & X86_ZF ? 'Z' : '-', fl & X86_AF ? 'A' : '-',
            fl & X86_PF ? 'P' : '-', fl & X86_CF ? 'C' : '-', x86_cpl(cpu),
            cpu->inhibit_irq, cpu->halted);
    static const char *const seg_names[X86_NSEG] = { "ES", "CS", "SS", "DS", "FS", "GS" };
    for (int i = 0; i < X86_NSEG; i++)
        dump_seg(f, seg_names[i], &cpu->seg[i], lma);
    dump_seg(f, "LDT", &cpu->ldt, lma);
    dump_seg(f, "TR", &cpu->tr, lma);
    int w = lma ? 16 : 8;
    fprintf(f, "GDT=     %0*llx %08x\n", w, (unsigned long long)cpu->gdt.base, cpu->gdt.limit);
    fprintf(f, "IDT=     %0*llx %08x\n", w, (unsigned long long)cpu->idt.base, cpu->idt.limit);
    fprintf(f, "CR0=%08llx CR2=%0*llx CR3=%0*llx CR4=%08llx\n",
            (unsigned long long)cpu->cr0, w, (unsigned long long)cpu->cr2, w,
            (unsigned long long)cpu->cr3, (unsigned long long)cpu->cr4);
    for (int i = 0; i < 4; i++)
        fprintf(f, "DR%d=%0*llx ", i, w, (unsigned long long)cpu->dr[i]);
    fprintf(f, "\nDR6=%0*llx DR7=%0*llx\n", w, (unsigned long long)cpu->dr[6], w,
            (unsigned long long)cpu->dr[7]);
    fprintf(f, "EFER=%016llx\n", (unsigned long long)cpu->efer);
    fprintf(f, "FCW=%04x FSW=%04x [ST=%d] FTW=%02x MXCSR=%08x\n", cpu->fpu.fcw,
            cpu->fpu.fsw, (cpu->fpu.fsw >> 11) & 7, cpu->fpu.ftw, cpu->fpu.mxcsr);
    fprintf(f, "icount=%llu brcount=%llu\n", (unsigned long long)cpu->icount,
            (unsigned long long)cpu->brcount);
}

/* ---- snapshots (checkpoint/snap.h) ---- */

#define X86_SNAP_VERSION 1

static void put_seg(SnapWriter *w, const X86Seg *s)
{
    snap_put_u64(w, s->base);
    snap_put_u32(w, s->limit);
    snap_put_u16(w, s->selector);
    const uint8_t b[9] = { s->type, s->present, s->dpl, s->db, s->s, s->l, s->g, s->avl,
                           s->unusable };
    snap_put_bytes(w, b, sizeof(b));
}

static void get_seg(SnapReader *r, X86Seg *s)
{
    memset(s, 0, sizeof(*s));
    s->base = snap_get_u64(r);
    s->limit = snap_get_u32(r);
    s->selector = snap_get_u16(r);
    uint8_t b[9];
    snap_get_bytes(r, b, sizeof(b));
    s->type = b[0] & 15;
    s->present = b[1] & 1;
    s->dpl = b[2] & 3;
    s->db = b[3] & 1;
    s->s = b[4] & 1;
    s->l = b[5] & 1;
    s->g = b[6] & 1;
    s->avl = b[7] & 1;
    s->unusable = b[8] & 1;
}

/* The scalar fields, in stream order (pointers: one list for both ways). */
#define X86_SNAP_U64S(c)                                                              \
    &(c)->rip, &(c)->icount, &(c)->brcount, &(c)->cc_dst, &(c)->cc_src, &(c)->cc_src2, \
        &(c)->eflags, &(c)->cr0, &(c)->cr2, &(c)->cr3, &(c)->cr4, &(c)->cr8, &(c)->efer, \
        &(c)->apic_base, &(c)->star, &(c)->lstar, &(c)->cstar, &(c)->fmask,              \
        &(c)->kernel_gs_base, &(c)->tsc_aux, &(c)->sysenter_cs, &(c)->sysenter_esp,      \
        &(c)->sysenter_eip, &(c)->pat, &(c)->misc_enable, &(c)->mtrr_def_type,           \
        (uint64_t *)&(c)->tsc_offset, &(c)->gdt.base, &(c)->idt.base,                   \
        &(c)->fpu.fip, &(c)->fpu.fdp, &(c)->fpu.xcr0

void x86_save(void *opaque, void *writer)
{
    X86CPU *cpu = opaque;
    SnapWriter *w = writer;
    snap_put_u8(w, X86_SNAP_VERSION);
    snap_put_u8(w, (uint8_t)cpu->variant);
    for (int i = 0; i < 16; i++)
        snap_put_u64(w, cpu->regs[i]);
    uint64_t *const u64s[] = { X86_SNAP_U64S(cpu) };
    for (size_t i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++)
        snap_put_u64(w, *u64s[i]);
    snap_put_u32(w, cpu->cc_op);
    snap_put_u32(w, cpu->hflags);
    for (int i = 0; i < X86_NSEG; i++)
        put_seg(w, &cpu->seg[i]);
    put_seg(w, &cpu->ldt);
    put_seg(w, &cpu->tr);
    snap_put_u16(w, cpu->gdt.limit);
    snap_put_u16(w, cpu->idt.limit);
    for (int i = 0; i < 8; i++)
        snap_put_u64(w, cpu->dr[i]);
    for (int i = 0; i < 11; i++)
        snap_put_u64(w, cpu->mtrr_fixed[i]);
    for (int i = 0; i < 16; i++)
        snap_put_u64(w, cpu->mtrr_var[i]);
    const X86Fpu *f = &cpu->fpu;
    for (int i = 0; i < 8; i++) {
        snap_put_u64(w, f->st[i].mant);
        snap_put_u16(w, f->st[i].sexp);
    }
    snap_put_u16(w, f->fcw);
    snap_put_u16(w, f->fsw);
    snap_put_u8(w, f->ftw);
    snap_put_u16(w, f->fop);
    snap_put_u16(w, f->fcs);
    snap_put_u16(w, f->fds);
    snap_put_u32(w, f->mxcsr);
    for (int i = 0; i < 16; i++) {
        snap_put_u64(w, f->xmm[i].q[0]);
        snap_put_u64(w, f->xmm[i].q[1]);
    }
    snap_put_u16(w, cpu->fop_cur);
    snap_put_bool(w, cpu->halted);
    snap_put_bool(w, cpu->inhibit_irq);
    snap_put_bool(w, cpu->nmi_pending);
    snap_put_bool(w, cpu->nmi_blocked);
    snap_put_bool(w, cpu->intr != 0);
    snap_put_u32(w, (uint32_t)cpu->exc_depth);
    snap_put_u32(w, (uint32_t)cpu->exc_first);
    snap_put_u32(w, (uint32_t)cpu->pending_vec);
    snap_put_u32(w, (uint32_t)cpu->pending_err);
}

bool x86_load(void *opaque, void *reader)
{
    X86CPU *cpu = opaque;
    SnapReader *r = reader;
    unsigned v = snap_get_u8(r);
    if (snap_reader_ok(r) && v != X86_SNAP_VERSION)
        return snap_reader_fail(r, "x86 CPU state version %u (this build reads %u)", v,
                                X86_SNAP_VERSION);
    unsigned variant = snap_get_u8(r);
    if (snap_reader_ok(r) && (int)variant != cpu->variant)
        return snap_reader_fail(r, "saved from a %s CPU, this machine is %s",
                                variant == 64 ? "x86_64" : "i386",
                                cpu->variant == 64 ? "x86_64" : "i386");
    /* Into a copy: a failed load leaves the CPU as it was. */
    X86CPU *t = g_memdup2(cpu, sizeof(*cpu));
    for (int i = 0; i < 16; i++)
        t->regs[i] = snap_get_u64(r);
    uint64_t *const u64s[] = { X86_SNAP_U64S(t) };
    for (size_t i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++)
        *u64s[i] = snap_get_u64(r);
    t->cc_op = snap_get_u32(r);
    t->hflags = snap_get_u32(r);
    for (int i = 0; i < X86_NSEG; i++)
        get_seg(r, &t->seg[i]);
    get_seg(r, &t->ldt);
    get_seg(r, &t->tr);
    t->gdt.limit = snap_get_u16(r);
    t->idt.limit = snap_get_u16(r);
    for (int i = 0; i < 8; i++)
        t->dr[i] = snap_get_u64(r);
    for (int i = 0; i < 11; i++)
        t->mtrr_fixed[i] = snap_get_u64(r);
    for (int i = 0; i < 16; i++)
        t->mtrr_var[i] = snap_get_u64(r);
    X86Fpu *f = &t->fpu;
    for (int i = 0; i < 8; i++) {
        f->st[i].mant = snap_get_u64(r);
        f->st[i].sexp = snap_get_u16(r);
    }
    f->fcw = snap_get_u16(r);
    f->fsw = snap_get_u16(r);
    f->ftw = snap_get_u8(r);
    f->fop = snap_get_u16(r);
    f->fcs = snap_get_u16(r);
    f->fds = snap_get_u16(r);
    f->mxcsr = snap_get_u32(r);
    for (int i = 0; i < 16; i++) {
        f->xmm[i].q[0] = snap_get_u64(r);
        f->xmm[i].q[1] = snap_get_u64(r);
    }
    t->fop_cur = snap_get_u16(r);
    t->halted = snap_get_bool(r);
    t->inhibit_irq = snap_get_bool(r);
    t->nmi_pending = snap_get_bool(r);
    t->nmi_blocked = snap_get_bool(r);
    t->intr = snap_get_bool(r);
    t->exc_depth = (int)snap_get_u32(r);
    t->exc_first = (int)snap_get_u32(r);
    t->pending_vec = (int)snap_get_u32(r);
    t->pending_err = (int)snap_get_u32(r);
    bool ok = snap_reader_ok(r);
    if (ok && (t->cc_op >= X86_CC_NOPS * 4 || (t->cc_op != X86_CC_EFLAGS && t->cc_op < 4)))
        ok = snap_reader_fail(r, "lazy-flags operation %u", t->cc_op);
    if (ok && (t->exc_depth < 0 || t->exc_depth > 3 || t->pending_vec < -1 ||
               t->pending_vec > 255))
        ok = snap_reader_fail(r, "exception delivery state %d/%d", t->exc_depth,
                              t->pending_vec);
    if (ok) {
        memcpy(cpu, t, sizeof(*cpu));
        cpu->chain_end = cpu->loop_end = 0;
        x86_update_hflags(cpu);
        x86_tlb_flush(cpu, false);
        x86_code_flush(cpu);
    }
    g_free(t);
    return ok;
}
