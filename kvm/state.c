/* CPU state interpreter <-> KVM.  The X86CPU keeps struct kvm_segment and
 * kvm_dtable layouts and the hardware register order, so most of this is
 * copies; the rest follows the FXSAVE layout (x87/SSE) and the KVM MSR
 * and event structures.
 *
 * What KVM cannot hold: FCS/FDS while the state is in 64-bit mode (KVM's
 * XSAVE image is the 64-bit format; like FXSAVE64 it has no selectors);
 * the G bit of a segment cache whose limit is at most 0xFFFFF (AMD
 * recomputes it from the limit); a NULL selector's hidden attributes
 * (AMD keeps only "not present").  The TSC keeps running while the state
 * is in KVM (at X86_TSC_KHZ where KVM scales it, else at the host's rate).
 * XCR0 is the pinned value on a host that loses the guest's XSETBV
 * (kvm.c, xsetbv_seen).  On QEMU TCG's nested SVM TR is given with the
 * available TSS type (kvm_int.h, KvmVcpu.tcg_host). */
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>

#include "kvm/kvm_int.h"

_Static_assert(sizeof(X86Seg) == sizeof(struct kvm_segment), "X86Seg = kvm_segment");
_Static_assert(offsetof(X86Seg, limit) == offsetof(struct kvm_segment, limit), "limit");
_Static_assert(offsetof(X86Seg, selector) == offsetof(struct kvm_segment, selector), "sel");
_Static_assert(offsetof(X86Seg, type) == offsetof(struct kvm_segment, type), "type");
_Static_assert(offsetof(X86Seg, g) == offsetof(struct kvm_segment, g), "g");
_Static_assert(offsetof(X86Seg, unusable) == offsetof(struct kvm_segment, unusable), "unusable");
_Static_assert(sizeof(X86Dtable) == sizeof(struct kvm_dtable), "X86Dtable = kvm_dtable");

enum {
    MSR_TSC = 0x10, MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175,
    MSR_SYSENTER_EIP = 0x176, MSR_MISC_ENABLE = 0x1a0, MSR_MTRR_VAR = 0x200, MSR_MTRR_FIX64K = 0x250,
    MSR_MTRR_FIX16K = 0x258, MSR_MTRR_FIX4K = 0x268, MSR_PAT = 0x277,
    MSR_MTRR_DEF_TYPE = 0x2ff, MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082,
    MSR_CSTAR = 0xc0000083, MSR_FMASK = 0xc0000084, MSR_KERNEL_GS_BASE = 0xc0000102,
    MSR_TSC_AUX = 0xc0000103,
};

/* The MSRs both sides keep, and where the X86CPU keeps them. */
#define NMSRS (11 + 1 + 11 + 16)

static unsigned msr_table(X86CPU *cpu, uint32_t *idx, uint64_t **field)
{
    unsigned n = 0;
#define M(i, f) (idx[n] = (i), field[n] = &(f), n++)
    M(MSR_STAR, cpu->star);
    M(MSR_LSTAR, cpu->lstar);
    M(MSR_CSTAR, cpu->cstar);
    M(MSR_FMASK, cpu->fmask);
    M(MSR_KERNEL_GS_BASE, cpu->kernel_gs_base);
    M(MSR_SYSENTER_CS, cpu->sysenter_cs);
    M(MSR_SYSENTER_ESP, cpu->sysenter_esp);
    M(MSR_SYSENTER_EIP, cpu->sysenter_eip);
    M(MSR_PAT, cpu->pat);
    M(MSR_TSC_AUX, cpu->tsc_aux);
    M(MSR_MISC_ENABLE, cpu->misc_enable);
    M(MSR_MTRR_DEF_TYPE, cpu->mtrr_def_type);
    M(MSR_MTRR_FIX64K, cpu->mtrr_fixed[0]);
    M(MSR_MTRR_FIX16K, cpu->mtrr_fixed[1]);
    M(MSR_MTRR_FIX16K + 1, cpu->mtrr_fixed[2]);
    for (unsigned i = 0; i < 8; i++)
        M(MSR_MTRR_FIX4K + i, cpu->mtrr_fixed[3 + i]);
    for (unsigned i = 0; i < 16; i++)
        M(MSR_MTRR_VAR + i, cpu->mtrr_var[i]);
#undef M
    g_assert(n == NMSRS);
    return n;
}

typedef struct {
    struct kvm_msrs hdr;
    struct kvm_msr_entry e[NMSRS];
} MsrBuf;

bool kvm_set_msr(KvmVcpu *v, uint32_t index, uint64_t value, GError **err)
{
    MsrBuf b;
    memset(&b, 0, sizeof(b));
    b.hdr.nmsrs = 1;
    b.e[0].index = index;
    b.e[0].data = value;
    if (ioctl(v->fd, KVM_SET_MSRS, &b) != 1) {
        tn_error(err, "KVM: KVM_SET_MSRS(0x%x = 0x%" G_GINT64_MODIFIER "x) refused",
                 index, value);
        return false;
    }
    return true;
}

bool kvm_get_tsc(KvmVcpu *v, uint64_t *tsc, GError **err)
{
    MsrBuf b;
    memset(&b, 0, sizeof(b));
    b.hdr.nmsrs = 1;
    b.e[0].index = MSR_TSC;
    if (ioctl(v->fd, KVM_GET_MSRS, &b) != 1) {
        tn_error(err, "KVM: cannot read the TSC (KVM_GET_MSRS)");
        return false;
    }
    *tsc = b.e[0].data;
    return true;
}

/* A host-initiated TSC write within a second of what KVM expects is taken
 * as "synchronise" and ignored; moving the offset is exact. */
bool kvm_set_tsc(KvmVcpu *v, uint64_t tsc, GError **err)
{
    if (!v->has_tsc_offset)
        return kvm_set_msr(v, MSR_TSC, tsc, err);
    uint64_t off, now;
    struct kvm_device_attr a = { .group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET,
                                 .addr = (uintptr_t)&off };
    if (!kvm_ioctl_ok(ioctl(v->fd, KVM_GET_DEVICE_ATTR, &a), "KVM_GET_DEVICE_ATTR(TSC offset)",
                      err) ||
        !kvm_get_tsc(v, &now, err))
        return false;
    off += tsc - now;
    return kvm_ioctl_ok(ioctl(v->fd, KVM_SET_DEVICE_ATTR, &a), "KVM_SET_DEVICE_ATTR(TSC offset)",
                        err);
}

/* ---- x87 / SSE: the FXSAVE image (SDM vol. 1 tables 10-2, 10-3) ---- */

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* The pointer registers in the 64-bit form (no selectors) in 64-bit mode,
 * the 32-bit form elsewhere. */
static bool fpu_w64(const X86CPU *cpu)
{
    return (cpu->efer & X86_EFER_LMA) && cpu->seg[X86_CS].l;
}

static void fx_put(const X86CPU *cpu, uint8_t *b)
{
    x86_fx_image_save(cpu, b, fpu_w64(cpu));
}

static void fx_get(X86CPU *cpu, const uint8_t *b)
{
    x86_fx_image_load(cpu, b, fpu_w64(cpu));
}

/* KVM_GET/SET_FPU: the same image, pointers always 64-bit. */
static void fpu_put(const X86CPU *cpu, struct kvm_fpu *k)
{
    uint8_t b[512] = { 0 };
    fx_put(cpu, b);
    memset(k, 0, sizeof(*k));
    memcpy(k->fpr, b + 32, sizeof(k->fpr));
    k->fcw = get16(b);
    k->fsw = get16(b + 2);
    k->ftwx = b[4];
    k->last_opcode = get16(b + 6);
    k->last_ip = get64(b + 8);
    k->last_dp = get64(b + 16);
    memcpy(k->xmm, b + 160, sizeof(k->xmm));
    k->mxcsr = get32(b + 24);
}

static void fpu_get(X86CPU *cpu, const struct kvm_fpu *k)
{
    uint8_t b[512] = { 0 };
    put16(b, k->fcw);
    put16(b + 2, k->fsw);
    b[4] = k->ftwx;
    put16(b + 6, k->last_opcode);
    put64(b + 8, k->last_ip);
    put64(b + 16, k->last_dp);
    put32(b + 24, k->mxcsr);
    memcpy(b + 32, k->fpr, sizeof(k->fpr));
    memcpy(b + 160, k->xmm, sizeof(k->xmm));
    fx_get(cpu, b);
}

static bool put_fpu(KvmVcpu *v, const X86CPU *cpu, GError **err)
{
    if (v->has_xcrs) {
        struct kvm_xcrs x;
        memset(&x, 0, sizeof(x));
        x.nr_xcrs = 1;
        x.xcrs[0].xcr = 0;
        x.xcrs[0].value = v->xcr0_pinned ? v->xcr0_pinned : cpu->fpu.xcr0;
        if (!kvm_ioctl_ok(ioctl(v->fd, KVM_SET_XCRS, &x), "KVM_SET_XCRS", err))
            return false;
    }
    if (!v->has_xsave) {
        struct kvm_fpu k;
        fpu_put(cpu, &k);
        return kvm_ioctl_ok(ioctl(v->fd, KVM_SET_FPU, &k), "KVM_SET_FPU", err);
    }
    struct kvm_xsave xs;
    if (!kvm_ioctl_ok(ioctl(v->fd, KVM_GET_XSAVE, &xs), "KVM_GET_XSAVE", err))
        return false;
    uint8_t *b = (uint8_t *)xs.region;
    fx_put(cpu, b);
    /* XSTATE_BV: x87 and SSE state are in the image (not in their init
     * state); other components stay as KVM had them. */
    put64(b + 512, get64(b + 512) | 3);
    return kvm_ioctl_ok(ioctl(v->fd, KVM_SET_XSAVE, &xs), "KVM_SET_XSAVE", err);
}

static bool get_fpu(KvmVcpu *v, X86CPU *cpu, GError **err)
{
    if (v->has_xcrs) {
        struct kvm_xcrs x;
        memset(&x, 0, sizeof(x));
        if (!kvm_ioctl_ok(ioctl(v->fd, KVM_GET_XCRS, &x), "KVM_GET_XCRS", err))
            return false;
        for (unsigned i = 0; i < x.nr_xcrs; i++)
            if (x.xcrs[i].xcr == 0)
                cpu->fpu.xcr0 = x.xcrs[i].value;
    }
    if (!v->has_xsave) {
        struct kvm_fpu k;
        if (!kvm_ioctl_ok(ioctl(v->fd, KVM_GET_FPU, &k), "KVM_GET_FPU", err))
            return false;
        fpu_get(cpu, &k);
        return true;
    }
    /* KVM's image has the x87/SSE fields even for components in their
     * init state (it fills them in). */
    struct kvm_xsave xs;
    if (!kvm_ioctl_ok(ioctl(v->fd, KVM_GET_XSAVE, &xs), "KVM_GET_XSAVE", err))
        return false;
    fx_get(cpu, (const uint8_t *)xs.region);
    return true;
}

/* ---- general registers ---- */

static void regs_put(struct kvm_regs *k, const X86CPU *cpu, uint64_t rflags)
{
    const uint64_t *r = cpu->regs;
    k->rax = r[X86_RAX];
    k->rbx = r[X86_RBX];
    k->rcx = r[X86_RCX];
    k->rdx = r[X86_RDX];
    k->rsi = r[X86_RSI];
    k->rdi = r[X86_RDI];
    k->rsp = r[X86_RSP];
    k->rbp = r[X86_RBP];
    k->r8 = r[X86_R8];
    k->r9 = r[X86_R9];
    k->r10 = r[X86_R10];
    k->r11 = r[X86_R11];
    k->r12 = r[X86_R12];
    k->r13 = r[X86_R13];
    k->r14 = r[X86_R14];
    k->r15 = r[X86_R15];
    k->rip = cpu->rip;
    k->rflags = rflags;
}

static void regs_get(X86CPU *cpu, const struct kvm_regs *k)
{
    uint64_t *r = cpu->regs;
    r[X86_RAX] = k->rax;
    r[X86_RBX] = k->rbx;
    r[X86_RCX] = k->rcx;
    r[X86_RDX] = k->rdx;
    r[X86_RSI] = k->rsi;
    r[X86_RDI] = k->rdi;
    r[X86_RSP] = k->rsp;
    r[X86_RBP] = k->rbp;
    r[X86_R8] = k->r8;
    r[X86_R9] = k->r9;
    r[X86_R10] = k->r10;
    r[X86_R11] = k->r11;
    r[X86_R12] = k->r12;
    r[X86_R13] = k->r13;
    r[X86_R14] = k->r14;
    r[X86_R15] = k->r15;
    cpu->rip = k->rip;
    x86_set_eflags(cpu, k->rflags, ~0ull);
}

/* ---- segments, control registers ---- */

static struct kvm_segment *sregs_seg(struct kvm_sregs *s, int seg)
{
    switch (seg) {
    case X86_ES: return &s->es;
    case X86_CS: return &s->cs;
    case X86_SS: return &s->ss;
    case X86_DS: return &s->ds;
    case X86_FS: return &s->fs;
    default: return &s->gs;
    }
}

/* The TPR's priority class: the local APIC's when the board has one. */
static uint64_t cpu_cr8(const X86CPU *cpu)
{
    return cpu->apic ? (uint64_t)(cpu->apic_get_tpr(cpu->apic) >> 4) : cpu->cr8;
}

static void sregs_put(struct kvm_sregs *s, const X86CPU *cpu, bool tcg_host)
{
    memset(s, 0, sizeof(*s));
    for (int i = 0; i < X86_NSEG; i++)
        memcpy(sregs_seg(s, i), &cpu->seg[i], sizeof(X86Seg));
    memcpy(&s->ldt, &cpu->ldt, sizeof(X86Seg));
    memcpy(&s->tr, &cpu->tr, sizeof(X86Seg));
    /* (KvmVcpu.tcg_host: QEMU TCG wants the available type in TR.) */
    if (tcg_host && (s->tr.type == 3 || s->tr.type == 11))
        s->tr.type &= ~2;
    memcpy(&s->gdt, &cpu->gdt, sizeof(X86Dtable));
    memcpy(&s->idt, &cpu->idt, sizeof(X86Dtable));
    s->cr0 = cpu->cr0;
    s->cr2 = cpu->cr2;
    s->cr3 = cpu->cr3;
    s->cr4 = cpu->cr4;
    s->cr8 = cpu_cr8(cpu);
    s->efer = cpu->efer;
    /* A CPU without a local APIC has no APIC base MSR (the interpreter
     * raises #GP) and no CPUID.1:EDX.APIC; KVM derives that bit from the
     * MSR's enable bit, so it gets a disabled APIC. */
    s->apic_base = cpu->has_apic ? cpu->apic_base : cpu->apic_base & ~0x800ull;
    /* interrupt_bitmap stays empty: events go through KVM_SET_VCPU_EVENTS. */
}

static void seg_get(X86Seg *d, const struct kvm_segment *s)
{
    /* SVM keeps no G bit: KVM reports it as limit > 0xfffff.  The limit is
     * held expanded, so a descriptor loaded with limit 0 and G set (a
     * 4 KiB TSS, say) comes back as the same segment with G clear.  The
     * interpreter's G stays where nothing else changed: the state hash (the
     * end's and the state checks', rr/replay.c) covers it. */
    bool g = d->g;
    bool same = d->base == s->base && d->limit == s->limit && d->selector == s->selector &&
                d->type == s->type && d->present == s->present && d->dpl == s->dpl;
    memcpy(d, s, sizeof(*d));
    d->padding = 0;
    if (same && s->limit <= 0xfffff && !s->g)
        d->g = g;
}

/* known_cr8: the CR8 KVM was last given or reported (KvmVcpu.cr8).  With
 * a local APIC the APIC's TPR is the truth: the guest may have written it
 * through MMIO since, which KVM's CR8 does not see; only a CR8 that KVM
 * changed (a MOV to CR8 run there) goes to the APIC. */
static void sregs_get(X86CPU *cpu, const struct kvm_sregs *s, uint64_t known_cr8,
                      bool tcg_host)
{
    for (int i = 0; i < X86_NSEG; i++)
        seg_get(&cpu->seg[i], sregs_seg((struct kvm_sregs *)s, i));
    seg_get(&cpu->ldt, &s->ldt);
    seg_get(&cpu->tr, &s->tr);
    /* A null SS in 64-bit mode: the host may keep whatever descriptor SS
     * held before (QEMU TCG does); the interpreter's is unusable with the
     * selector's RPL as DPL, however it got there (an interrupt or a
     * return to ring 0, MOV SS). */
    if ((s->efer & (1u << 10)) && s->cs.l && !(cpu->seg[X86_SS].selector & ~3u)) {
        uint16_t sel = cpu->seg[X86_SS].selector;
        memset(&cpu->seg[X86_SS], 0, sizeof(cpu->seg[X86_SS]));
        cpu->seg[X86_SS].selector = sel;
        cpu->seg[X86_SS].unusable = 1;
        cpu->seg[X86_SS].dpl = sel & 3;
    }
    if (tcg_host && (cpu->tr.type == 1 || cpu->tr.type == 9))
        cpu->tr.type |= 2;      /* TR only ever holds a busy TSS */
    cpu->gdt.base = s->gdt.base;
    cpu->gdt.limit = s->gdt.limit;
    cpu->idt.base = s->idt.base;
    cpu->idt.limit = s->idt.limit;
    cpu->cr0 = s->cr0;
    cpu->cr2 = s->cr2;
    cpu->cr3 = s->cr3;
    cpu->cr4 = s->cr4;
    if (!cpu->apic) {
        cpu->cr8 = s->cr8;
    } else if (s->cr8 != known_cr8) {
        /* A MOV to CR8 ran on KVM: as the interpreter's, it sets both.
         * Otherwise cpu->cr8 is what the interpreter's last MOV to CR8 left
         * (the TPR the guest wrote through MMIO since is the APIC's). */
        cpu->apic_set_tpr(cpu->apic, (uint8_t)(s->cr8 << 4));
        cpu->cr8 = s->cr8;
    }
    cpu->efer = s->efer;
    if (cpu->has_apic)
        cpu->apic_base = s->apic_base;
}

/* ---- MSRs ---- */

static bool put_msrs(KvmVcpu *v, const X86CPU *cpu, GError **err)
{
    MsrBuf b;
    uint32_t idx[NMSRS];
    uint64_t *field[NMSRS];
    unsigned n = msr_table((X86CPU *)cpu, idx, field);
    memset(&b, 0, sizeof(b));
    b.hdr.nmsrs = n;
    for (unsigned i = 0; i < n; i++) {
        b.e[i].index = idx[i];
        b.e[i].data = *field[i];
    }
    int r = ioctl(v->fd, KVM_SET_MSRS, &b);
    if (r < 0)
        return kvm_ioctl_ok(r, "KVM_SET_MSRS", err);
    if ((unsigned)r < n) {
        tn_error(err, "KVM: KVM_SET_MSRS refused MSR 0x%x = 0x%" G_GINT64_MODIFIER "x",
                 idx[r], *field[r]);
        return false;
    }
    /* The TSC as the interpreter would read it now. */
    return kvm_set_tsc(v, x86_rdtsc((X86CPU *)cpu, NULL), err);
}

static bool get_msrs(KvmVcpu *v, X86CPU *cpu, GError **err)
{
    MsrBuf b;
    uint32_t idx[NMSRS];
    uint64_t *field[NMSRS];
    unsigned n = msr_table(cpu, idx, field);
    memset(&b, 0, sizeof(b));
    b.hdr.nmsrs = n;
    for (unsigned i = 0; i < n; i++)
        b.e[i].index = idx[i];
    int r = ioctl(v->fd, KVM_GET_MSRS, &b);
    if (r < 0)
        return kvm_ioctl_ok(r, "KVM_GET_MSRS", err);
    if ((unsigned)r < n) {
        tn_error(err, "KVM: KVM_GET_MSRS cannot read MSR 0x%x", idx[r]);
        return false;
    }
    for (unsigned i = 0; i < n; i++)
        *field[i] = b.e[i].data;
    uint64_t tsc;
    if (!kvm_get_tsc(v, &tsc, err))
        return false;
    /* x86_rdtsc() = virtual clock + tsc_offset. */
    uint64_t clock = x86_rdtsc(cpu, NULL) - (uint64_t)cpu->tsc_offset;
    cpu->tsc_offset = (int64_t)(tsc - clock);
    return true;
}

/* ---- debug registers, events ---- */

static bool put_debugregs(KvmVcpu *v, const X86CPU *cpu, GError **err)
{
    struct kvm_debugregs d;
    memset(&d, 0, sizeof(d));
    for (int i = 0; i < 4; i++)
        d.db[i] = cpu->dr[i];
    d.dr6 = cpu->dr[6];
    d.dr7 = cpu->dr[7];
    return kvm_ioctl_ok(ioctl(v->fd, KVM_SET_DEBUGREGS, &d), "KVM_SET_DEBUGREGS", err);
}

static bool get_debugregs(KvmVcpu *v, X86CPU *cpu, GError **err)
{
    struct kvm_debugregs d;
    if (!kvm_ioctl_ok(ioctl(v->fd, KVM_GET_DEBUGREGS, &d), "KVM_GET_DEBUGREGS", err))
        return false;
    for (int i = 0; i < 4; i++)
        cpu->dr[i] = d.db[i];
    cpu->dr[6] = d.dr6;
    cpu->dr[7] = d.dr7;
    return true;
}

static bool put_events(KvmVcpu *v, const X86CPU *cpu, GError **err)
{
    struct kvm_vcpu_events e;
    memset(&e, 0, sizeof(e));
    /* A fault the interpreter raised outside an instruction and has not
     * delivered yet: KVM delivers it on entry. */
    if (cpu->pending_vec >= 0) {
        e.exception.injected = 1;
        e.exception.nr = (uint8_t)cpu->pending_vec;
        e.exception.has_error_code = cpu->pending_err >= 0;
        e.exception.error_code = cpu->pending_err >= 0 ? (uint32_t)cpu->pending_err : 0;
    }
    /* One shadow in the interpreter.  VMX refuses an STI shadow with IF
     * clear, so that one is a MOV SS shadow. */
    if (cpu->inhibit_irq)
        e.interrupt.shadow = (cpu->eflags & X86_IF) ? KVM_X86_SHADOW_INT_STI
                                                    : KVM_X86_SHADOW_INT_MOV_SS;
    e.nmi.pending = cpu->nmi_pending;
    e.nmi.masked = cpu->nmi_blocked;
    e.flags = KVM_VCPUEVENT_VALID_NMI_PENDING | KVM_VCPUEVENT_VALID_SHADOW;
    return kvm_ioctl_ok(ioctl(v->fd, KVM_SET_VCPU_EVENTS, &e), "KVM_SET_VCPU_EVENTS", err);
}

/* Events KVM was delivering when it exited: the interpreter delivers
 * them (its state has no half-delivered event). */
static bool finish_events(X86CPU *cpu, const struct kvm_vcpu_events *e, GError **err)
{
    if (e->nmi.injected) {
        cpu->nmi_blocked = true;
        x86_deliver(cpu, X86_EXC_NMI, X86_NO_ERR, false);
    }
    if (e->exception.injected || e->exception.pending)
        x86_deliver(cpu, e->exception.nr,
                    e->exception.has_error_code ? (int)e->exception.error_code : X86_NO_ERR,
                    false);
    if (e->interrupt.injected) {
        if (e->interrupt.soft) {
            tn_error(err, "KVM: software interrupt %u was being delivered at RIP "
                     "0x%" G_GINT64_MODIFIER "x; the interpreter cannot finish it",
                     e->interrupt.nr, cpu->rip);
            return false;
        }
        x86_deliver(cpu, e->interrupt.nr, X86_NO_ERR, false);
        cpu->halted = false;
    }
    return true;
}

/* ---- the two directions ---- */

static uint64_t *pdpte_ptr(KvmVcpu *v)
{
    return (uint64_t *)as_host_ptr(v->as, v->pdpte_pa, 32);
}

/* PAE PDPTEs are never written by the hardware; a host that sets their
 * (reserved) accessed bit while KVM ran has it taken back here. */
static void pdptes_save(KvmVcpu *v, const X86CPU *cpu)
{
    v->pdpte_saved = false;
    if (!(cpu->cr0 & X86_CR0_PG) || !(cpu->cr4 & X86_CR4_PAE) || (cpu->efer & X86_EFER_LMA))
        return;
    v->pdpte_pa = cpu->cr3 & 0xffffffe0ull;
    uint64_t *p = pdpte_ptr(v);
    if (!p)
        return;
    memcpy(v->pdpte, p, sizeof(v->pdpte));
    v->pdpte_saved = true;
}

void kvm_pdptes_fixup(KvmVcpu *v)
{
    uint64_t *p = v->pdpte_saved ? pdpte_ptr(v) : NULL;
    for (int i = 0; p && i < 4; i++) {
        uint64_t now;
        memcpy(&now, p + i, 8);
        if (now != v->pdpte[i] && now == (v->pdpte[i] | 0x20))
            memcpy(p + i, &v->pdpte[i], 8);
    }
}

static void pdptes_restore(KvmVcpu *v)
{
    kvm_pdptes_fixup(v);
    v->pdpte_saved = false;
}

bool kvm_put_state(KvmVcpu *v, const X86CPU *cpu, GError **err)
{
    struct kvm_sregs s;
    struct kvm_regs r;
    if (!kvm_complete_pending(v, err) || (v->map_dirty && !kvm_slots_sync(v, err)))
        return false;
    kvm_roms_refresh(v);
    sregs_put(&s, cpu, v->tcg_host);
    if (!kvm_ioctl_ok(ioctl(v->fd, KVM_SET_SREGS, &s), "KVM_SET_SREGS", err))
        return false;
    memset(&r, 0, sizeof(r));
    regs_put(&r, cpu, x86_eflags((X86CPU *)cpu));
    if (!kvm_ioctl_ok(ioctl(v->fd, KVM_SET_REGS, &r), "KVM_SET_REGS", err) ||
        !put_fpu(v, cpu, err) || !put_msrs(v, cpu, err) || !put_debugregs(v, cpu, err) ||
        !put_events(v, cpu, err))
        return false;
    v->cr8 = s.cr8;
    v->run->cr8 = s.cr8;
    v->run->request_interrupt_window = 0;
    pdptes_save(v, cpu);
    v->halted = cpu->halted;
    v->ready = (cpu->eflags & X86_IF) && !cpu->inhibit_irq && cpu->pending_vec < 0;
    return true;
}

bool kvm_peek_regs(KvmVcpu *v, X86CPU *cpu, GError **err)
{
    struct kvm_regs r;
    if (!kvm_ioctl_ok(ioctl(v->fd, KVM_GET_REGS, &r), "KVM_GET_REGS", err))
        return false;
    regs_get(cpu, &r);
    return true;
}

bool kvm_resume_past_breakpoint(KvmVcpu *v, GError **err)
{
    struct kvm_regs r;
    if (!kvm_complete_pending(v, err) ||
        !kvm_ioctl_ok(ioctl(v->fd, KVM_GET_REGS, &r), "KVM_GET_REGS", err))
        return false;
    r.rflags |= X86_RF;
    return kvm_ioctl_ok(ioctl(v->fd, KVM_SET_REGS, &r), "KVM_SET_REGS", err);
}

bool kvm_unhalt_at(KvmVcpu *v, uint64_t rip, GError **err)
{
    struct kvm_regs r;
    if (!kvm_complete_pending(v, err) ||
        !kvm_ioctl_ok(ioctl(v->fd, KVM_GET_REGS, &r), "KVM_GET_REGS", err))
        return false;
    r.rip = rip;
    v->halted = false;
    return kvm_ioctl_ok(ioctl(v->fd, KVM_SET_REGS, &r), "KVM_SET_REGS", err);
}

bool kvm_get_regs(KvmVcpu *v, X86CPU *cpu, GError **err)
{
    struct kvm_regs r;
    if (!kvm_complete_pending(v, err) ||
        !kvm_ioctl_ok(ioctl(v->fd, KVM_GET_REGS, &r), "KVM_GET_REGS", err))
        return false;
    regs_get(cpu, &r);
    return true;
}

bool kvm_get_state(KvmVcpu *v, X86CPU *cpu, GError **err)
{
    struct kvm_regs r;
    struct kvm_sregs s;
    struct kvm_vcpu_events e;
    if (!kvm_complete_pending(v, err) ||
        !kvm_ioctl_ok(ioctl(v->fd, KVM_GET_REGS, &r), "KVM_GET_REGS", err) ||
        !kvm_ioctl_ok(ioctl(v->fd, KVM_GET_SREGS, &s), "KVM_GET_SREGS", err) ||
        !kvm_ioctl_ok(ioctl(v->fd, KVM_GET_VCPU_EVENTS, &e), "KVM_GET_VCPU_EVENTS", err))
        return false;
    sregs_get(cpu, &s, v->cr8, v->tcg_host);
    pdptes_restore(v);
    regs_get(cpu, &r);
    if (!get_fpu(v, cpu, err) || !get_msrs(v, cpu, err) || !get_debugregs(v, cpu, err))
        return false;
    cpu->inhibit_irq = e.interrupt.shadow != 0;
    cpu->nmi_pending = e.nmi.pending;
    cpu->nmi_blocked = e.nmi.masked;
    cpu->halted = v->halted;
    cpu->exc_depth = 0;
    cpu->pending_vec = cpu->pending_err = -1;
    cpu->chain_end = 0;
    /* The guest ran: modes, translations and code may all have changed. */
    x86_update_hflags(cpu);
    x86_tlb_flush(cpu, false);
    x86_code_flush(cpu);
    return finish_events(cpu, &e, err);
}
