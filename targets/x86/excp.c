/* Exception and interrupt delivery (Intel SDM vol. 3 chapter 6; vol. 2
 * INT n): the real-mode IVT, protected-mode IDT gates (interrupt, trap,
 * task), virtual-8086 exits, long-mode 16-byte gates with IST, and the
 * double-fault rules of table 6-5.
 *
 * One delivery either completes or changes no register: everything is
 * read and checked, the new frame is written, then CS/SS/RSP/RIP/EFLAGS
 * change.  A fault while delivering an event raised by the hardware (an
 * exception, an interrupt) is recorded (x86_pending_fault) and resolved
 * here: handled serially, turned into #DF, or after a failed #DF a
 * triple fault, which resets the machine as QEMU's pc does.  A fault
 * while delivering INT n / INT3 / INTO / INT1 is a fault of that
 * instruction (raised through its XInsn, EXT = 0 except INT1).
 *
 * RF in the pushed EFLAGS is 1 for fault-class exceptions (SDM vol. 3
 * 17.3.1.1); interrupts arriving between REP iterations are not told
 * apart (the engine delivers between instructions only). */
#include <string.h>

#include "rr/rr.h"
#include "targets/x86/flags.h"
#include "targets/x86/mem.h"
#include "targets/x86/seg.h"

/* What is being delivered. */
enum {
    K_FAULT,       /* fault-class exception (RIP = the faulting insn) */
    K_TRAP,        /* trap-class exception or abort, INT1 */
    K_HW,          /* external interrupt or NMI */
    K_SOFT,        /* INT n, INT3, INTO: gate DPL checked, EXT = 0 */
};

enum { C_BENIGN, C_CONTRIB, C_PF, C_DF };

static int exc_class(int vec)
{
    switch (vec) {
    case X86_EXC_DE: case X86_EXC_TS: case X86_EXC_NP: case X86_EXC_SS: case X86_EXC_GP:
        return C_CONTRIB;
    case X86_EXC_PF:
        return C_PF;
    default:
        return C_BENIGN;
    }
}

static bool is_fault_vec(int vec)
{
    switch (vec) {
    case X86_EXC_DE: case X86_EXC_BR: case X86_EXC_UD: case X86_EXC_NM:
    case X86_EXC_TS: case X86_EXC_NP: case X86_EXC_SS: case X86_EXC_GP:
    case X86_EXC_PF: case X86_EXC_MF: case X86_EXC_AC: case X86_EXC_XM:
        return true;
    default:
        return false;
    }
}

void x86_pending_fault(X86CPU *cpu, int vec, int err)
{
    cpu->pending_vec = vec;
    cpu->pending_err = err;
}

/* EFLAGS as pushed by a delivery. */
static uint64_t pushed_flags(X86CPU *cpu, int kind, int vec)
{
    uint64_t f = x86_eflags(cpu);
    if (kind == K_FAULT && vec != X86_EXC_DB)
        f |= X86_RF;
    return f;
}

static bool deliver_real(X86CPU *cpu, const XInsn *in, int vec, int kind, uint64_t ret)
{
    uint64_t v, sp = cpu->regs[X86_RSP], m = x86_sp_mask(cpu);
    if ((uint32_t)vec * 4 + 3 > cpu->idt.limit)
        return x86_fault(cpu, in, X86_EXC_GP, vec * 8 + 2);
    if (!x86_ld_lin(cpu, in, cpu->idt.base + (uint32_t)vec * 4, 4, &v))
        return false;
    uint64_t frame[3] = { pushed_flags(cpu, kind, vec), cpu->seg[X86_CS].selector, ret };
    for (unsigned i = 0; i < 3; i++) {
        sp = (sp - 2) & m;
        if (!x86_st(cpu, in, X86_SS, sp, 2, frame[i] & 0xffff))
            return false;
    }
    x86_set_sp(cpu, sp);
    x86_seg_load_real(cpu, X86_CS, (uint16_t)(v >> 16));
    x86_set_eflags(cpu, 0, X86_IF | X86_TF | X86_AC | X86_RF);
    x86_update_hflags(cpu);
    cpu->rip = v & 0xffff;
    return true;
}

/* Write a frame: v[0] at the highest address.  inner: a new supervisor
 * stack at linear base + sp; else the current stack through SS. */
static bool write_frame(X86CPU *cpu, const XInsn *in, bool inner, uint64_t base,
                        uint64_t sp, uint64_t m, unsigned size, const uint64_t *v,
                        unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        sp = (sp - size) & m;
        bool ok = inner ? x86_st_lin(cpu, in, (base + sp) & x86_lin_mask(cpu), size, v[i])
                        : x86_st(cpu, in, X86_SS, sp, size, v[i]);
        if (!ok)
            return false;
    }
    return true;
}

/* Task gate in the IDT: switch with nesting, then push the error code on
 * the new task's stack. */
static bool deliver_task(X86CPU *cpu, const XInsn *in, uint64_t gate, int err, int ext,
                         uint64_t ret)
{
    uint16_t sel = (uint16_t)(gate >> 16);
    int serr = (sel & 0xfffc) | ext;
    uint64_t d, a;
    if (sel & 4)
        return x86_fault(cpu, in, X86_EXC_GP, serr);
    if (!x86_desc_read(cpu, in, sel, X86_EXC_GP, ext, &d, &a))
        return false;
    unsigned type = X86_D_TYPE(d);
    if (X86_D_S(d) || (type != X86_SYS_TSS && type != X86_SYS_TSS16))
        return x86_fault(cpu, in, X86_EXC_GP, serr);
    if (!X86_D_P(d))
        return x86_fault(cpu, in, X86_EXC_NP, serr);
    int r = x86_task_switch(cpu, in, sel, d, a, X86_TS_INT, ret, ext);
    if (!r)
        return false;
    if (r == 1 && err != X86_NO_ERR) {
        cpu->pending_vec = -1;
        if (!x86_push(cpu, NULL, (type & 8) ? 4 : 2, (uint32_t)err))
            x86_deliver_exc(cpu, cpu->pending_vec, cpu->pending_err);
    }
    return true;
}

/* Target code segment of an interrupt/trap gate: null, type, DPL and
 * presence checks. */
static bool gate_cs(X86CPU *cpu, const XInsn *in, uint16_t sel, int ext, uint64_t *d,
                    uint64_t *a)
{
    int serr = (sel & 0xfffc) | ext;
    if (!(sel & 0xfffc))
        return x86_fault(cpu, in, X86_EXC_GP, ext);
    if (!x86_desc_read(cpu, in, sel, X86_EXC_GP, ext, d, a))
        return false;
    if (!X86_D_S(*d) || !(X86_D_TYPE(*d) & 8) || X86_D_DPL(*d) > x86_cpl(cpu))
        return x86_fault(cpu, in, X86_EXC_GP, serr);
    if (!X86_D_P(*d))
        return x86_fault(cpu, in, X86_EXC_NP, serr);
    return true;
}

static void enter_handler(X86CPU *cpu, uint16_t csel, uint64_t cd, unsigned cpl,
                          bool intgate, uint64_t rip)
{
    x86_seg_from_desc(&cpu->seg[X86_CS], (uint16_t)((csel & ~3u) | cpl), cd);
    x86_set_eflags(cpu, 0, X86_TF | X86_NT | X86_RF | X86_VM | (intgate ? X86_IF : 0));
    x86_update_hflags(cpu);
    cpu->rip = rip;
}

static bool deliver_pm(X86CPU *cpu, const XInsn *in, int vec, int err, int kind,
                       uint64_t ret)
{
    int ext = kind != K_SOFT;
    int ierr = vec * 8 + 2 + ext;
    uint64_t gate, cd, ca;
    if ((uint32_t)vec * 8 + 7 > cpu->idt.limit)
        return x86_fault(cpu, in, X86_EXC_GP, ierr);
    if (!x86_ld_lin(cpu, in, (cpu->idt.base + (uint32_t)vec * 8) & 0xffffffffull, 8, &gate))
        return false;
    unsigned type = X86_D_TYPE(gate), cpl = x86_cpl(cpu);
    if (X86_D_S(gate) || !(type == X86_SYS_TASK || type == X86_SYS_INT16 ||
                           type == X86_SYS_TRAP16 || type == X86_SYS_INT ||
                           type == X86_SYS_TRAP))
        return x86_fault(cpu, in, X86_EXC_GP, ierr);
    if (kind == K_SOFT && X86_D_DPL(gate) < cpl)
        return x86_fault(cpu, in, X86_EXC_GP, ierr);
    if (!X86_D_P(gate))
        return x86_fault(cpu, in, X86_EXC_NP, ierr);
    if (type == X86_SYS_TASK)
        return deliver_task(cpu, in, gate, err, ext, ret);

    uint16_t csel = (uint16_t)(gate >> 16);
    if (!gate_cs(cpu, in, csel, ext, &cd, &ca))
        return false;
    unsigned size = (type & 8) ? 4 : 2, cdpl = X86_D_DPL(cd);
    uint64_t off = (gate & 0xffff) | ((gate >> 32) & 0xffff0000);
    if (size == 2)
        off &= 0xffff;
    bool vm = cpu->eflags & X86_VM;
    bool inner = !(X86_D_TYPE(cd) & 4) && cdpl < cpl;
    if (vm && (!inner || cdpl != 0))
        return x86_fault(cpu, in, X86_EXC_GP, (csel & 0xfffc) | ext);
    X86Seg tmp;
    x86_seg_from_desc(&tmp, csel, cd);
    if (off > tmp.limit)
        return x86_fault(cpu, in, X86_EXC_GP, ext);

    uint64_t v[10];
    unsigned n = 0;
    if (vm) {
        v[n++] = cpu->seg[X86_GS].selector;
        v[n++] = cpu->seg[X86_FS].selector;
        v[n++] = cpu->seg[X86_DS].selector;
        v[n++] = cpu->seg[X86_ES].selector;
    }
    if (inner) {
        v[n++] = cpu->seg[X86_SS].selector;
        v[n++] = cpu->regs[X86_RSP] & x86_size_mask(size);
    }
    v[n++] = pushed_flags(cpu, kind, vec) & x86_size_mask(size);
    v[n++] = cpu->seg[X86_CS].selector;
    v[n++] = ret & x86_size_mask(size);
    if (err != X86_NO_ERR)
        v[n++] = (uint32_t)err & x86_size_mask(size);

    if (inner) {
        uint16_t ss;
        uint64_t sp, sd, sa;
        X86Seg nss;
        if (!x86_tss_stack(cpu, in, cdpl, ext, &ss, &sp) ||
            !x86_inner_ss(cpu, in, ss, cdpl, ext, &nss, &sa, &sd))
            return false;
        uint64_t m = nss.db ? 0xffffffffull : 0xffffull;
        for (unsigned k = 1; k <= n; k++) {
            if (!x86_seg_range_ok(&nss, (sp - k * size) & m, size))
                return x86_fault(cpu, in, X86_EXC_SS, (ss & 0xfffc) | ext);
        }
        if (!write_frame(cpu, in, true, nss.base, sp, m, size, v, n) ||
            !x86_desc_touch(cpu, in, sa, &sd) || !x86_desc_touch(cpu, in, ca, &cd))
            return false;
        nss.type = X86_D_TYPE(sd);
        sp = (sp - n * size) & m;
        if (vm) {
            static const int segs[] = { X86_ES, X86_DS, X86_FS, X86_GS };
            for (unsigned i = 0; i < 4; i++) {
                X86Seg *s = &cpu->seg[segs[i]];
                memset(s, 0, sizeof(*s));
                s->unusable = 1;
            }
        }
        cpu->seg[X86_SS] = nss;
        if (nss.db)
            cpu->regs[X86_RSP] = (uint32_t)sp;
        else
            cpu->regs[X86_RSP] = (cpu->regs[X86_RSP] & ~0xffffull) | sp;
        enter_handler(cpu, csel, cd, cdpl, !(type & 1), off);
        return true;
    }
    const X86Seg *ss = &cpu->seg[X86_SS];
    uint64_t m = x86_sp_mask(cpu), sp = cpu->regs[X86_RSP];
    for (unsigned k = 1; k <= n; k++) {
        if (!x86_seg_range_ok(ss, (sp - k * size) & m, size))
            return x86_fault(cpu, in, X86_EXC_SS, ext);
    }
    if (!write_frame(cpu, in, false, 0, sp, m, size, v, n) ||
        !x86_desc_touch(cpu, in, ca, &cd))
        return false;
    x86_set_sp(cpu, sp - n * size);
    enter_handler(cpu, csel, cd, cpl, !(type & 1), off);
    return true;
}

static bool deliver_lm(X86CPU *cpu, const XInsn *in, int vec, int err, int kind,
                       uint64_t ret)
{
    int ext = kind != K_SOFT;
    int ierr = vec * 8 + 2 + ext;
    uint64_t lo, hi, cd, ca;
    if ((uint32_t)vec * 16 + 15 > cpu->idt.limit)
        return x86_fault(cpu, in, X86_EXC_GP, ierr);
    uint64_t ga = cpu->idt.base + (uint32_t)vec * 16;
    if (!x86_ld_lin(cpu, in, ga, 8, &lo) || !x86_ld_lin(cpu, in, ga + 8, 8, &hi))
        return false;
    unsigned type = X86_D_TYPE(lo), cpl = x86_cpl(cpu);
    if (X86_D_S(lo) || (type != X86_SYS_INT && type != X86_SYS_TRAP))
        return x86_fault(cpu, in, X86_EXC_GP, ierr);
    if (kind == K_SOFT && X86_D_DPL(lo) < cpl)
        return x86_fault(cpu, in, X86_EXC_GP, ierr);
    if (!X86_D_P(lo))
        return x86_fault(cpu, in, X86_EXC_NP, ierr);
    uint16_t csel = (uint16_t)(lo >> 16);
    if (!gate_cs(cpu, in, csel, ext, &cd, &ca))
        return false;
    if (!X86_D_L(cd) || X86_D_DB(cd))
        return x86_fault(cpu, in, X86_EXC_GP, (csel & 0xfffc) | ext);
    uint64_t off = (lo & 0xffff) | ((lo >> 32) & 0xffff0000) | (hi << 32);
    if (!x86_canonical(off))
        return x86_fault(cpu, in, X86_EXC_GP, ext);
    unsigned ist = (lo >> 32) & 7, cdpl = X86_D_DPL(cd);
    bool inner = !(X86_D_TYPE(cd) & 4) && cdpl < cpl;
    unsigned ncpl = inner ? cdpl : cpl;
    uint64_t sp = cpu->regs[X86_RSP];
    if ((inner || ist) && !x86_tss_stack64(cpu, in, cdpl, ist, ext, &sp))
        return false;
    sp &= ~0xfull;

    uint64_t v[6];
    unsigned n = 0;
    v[n++] = cpu->seg[X86_SS].selector;
    v[n++] = cpu->regs[X86_RSP];
    v[n++] = pushed_flags(cpu, kind, vec);
    v[n++] = cpu->seg[X86_CS].selector;
    v[n++] = ret;
    if (err != X86_NO_ERR)
        v[n++] = (uint32_t)err;
    if (!x86_canonical(sp) || !x86_canonical(sp - n * 8))
        return x86_fault(cpu, in, X86_EXC_SS, ext);
    /* A CPL-3 handler at the same level writes with user rights (through
     * SS, in 64-bit mode); every other frame goes to a supervisor stack. */
    bool user = ncpl == 3 && (cpu->hflags & X86_HF_CS64);
    if (!write_frame(cpu, in, !user, 0, sp, ~0ull, 8, v, n) ||
        !x86_desc_touch(cpu, in, ca, &cd))
        return false;
    if (inner) {
        X86Seg *ss = &cpu->seg[X86_SS];
        memset(ss, 0, sizeof(*ss));
        ss->selector = (uint16_t)ncpl;
        ss->dpl = ncpl;
        ss->unusable = 1;
    }
    cpu->regs[X86_RSP] = sp - n * 8;
    enter_handler(cpu, csel, cd, ncpl, !(type & 1), off);
    return true;
}

static bool deliver_one(X86CPU *cpu, const XInsn *in, int vec, int err, int kind,
                        uint64_t ret)
{
    cpu->inhibit_irq = false;
    if (!(cpu->cr0 & X86_CR0_PE))
        return deliver_real(cpu, in, vec, kind, ret);
    if (cpu->efer & X86_EFER_LMA)
        return deliver_lm(cpu, in, vec, err, kind, ret);
    return deliver_pm(cpu, in, vec, err, kind, ret);
}

static void triple_fault(X86CPU *cpu)
{
    /* Shutdown: QEMU's pc resets the machine. */
    cpu->exc_depth = 0;
    if (cpu->m)
        machine_request_reset(cpu->m);
}

/* Deliver a hardware-raised event; faults during delivery follow the
 * double-fault rules.  Returns true if the first event was delivered. */
static bool deliver_chain(X86CPU *cpu, int vec, int err, int kind, uint64_t ret)
{
    int cls = (kind == K_HW || kind == K_SOFT) ? C_BENIGN : exc_class(vec);
    bool first = true;
    cpu->exc_depth++;
    cpu->exc_first = vec;
    for (;;) {
        cpu->pending_vec = -1;
        if (deliver_one(cpu, NULL, vec, err, kind, ret)) {
            cpu->exc_depth = 0;
            return first;
        }
        int v2 = cpu->pending_vec, e2 = cpu->pending_err;
        cpu->pending_vec = -1;
        first = false;
        if (cls == C_DF || v2 < 0) {
            triple_fault(cpu);
            return false;
        }
        int c2 = exc_class(v2);
        if ((cls == C_CONTRIB && c2 == C_CONTRIB) || (cls == C_PF && c2 != C_BENIGN)) {
            vec = X86_EXC_DF;
            err = 0;
            kind = K_TRAP;
            cls = C_DF;
        } else {
            vec = v2;
            err = e2;
            kind = K_FAULT;
            cls = c2;
        }
        cpu->exc_depth++;
    }
}

const XInsn *x86_raise(X86CPU *cpu, const XInsn *in, int vec, int err)
{
    if (!in) {
        x86_pending_fault(cpu, vec, err);
        return NULL;
    }
    cpu->icount -= in->rem + 1u;
    cpu->rip = in->pc;
    deliver_chain(cpu, vec, err, K_FAULT, in->pc);
    return NULL;
}

bool x86_deliver(X86CPU *cpu, int vec, int err, bool soft)
{
    int kind = soft ? K_SOFT : is_fault_vec(vec) ? K_FAULT : K_TRAP;
    return deliver_chain(cpu, vec, err, kind, cpu->rip);
}

void x86_deliver_exc(X86CPU *cpu, int vec, int err)
{
    deliver_chain(cpu, vec, err, K_FAULT, cpu->rip);
}

const XInsn *x86_soft_int(X86CPU *cpu, const XInsn *in, int vec, bool dpl_check)
{
    uint64_t ret = x86_next_rip(in);
    cpu->pending_vec = -1;
    if (!deliver_one(cpu, in, vec, X86_NO_ERR, dpl_check ? K_SOFT : K_TRAP, ret))
        return NULL;
    cpu->icount -= in->rem;
    return NULL;
}

bool x86_check_interrupts(X86CPU *cpu)
{
    /* NMIs are not held off by the STI/MOV SS shadow (as QEMU). */
    if (cpu->nmi_pending && !cpu->nmi_blocked) {
        rr_interrupt_taken(cpu->m);
        cpu->nmi_pending = false;
        cpu->nmi_blocked = true;
        cpu->halted = false;
        deliver_chain(cpu, X86_EXC_NMI, X86_NO_ERR, K_HW, cpu->rip);
        return true;
    }
    if (cpu->intr && (cpu->eflags & X86_IF) && !cpu->inhibit_irq && cpu->intr_ack) {
        /* Timers held back as lazy fired before this (rr/replay.c). */
        rr_interrupt_taken(cpu->m);
        int vec = cpu->intr_ack(cpu->intr_opaque);
        if (vec < 0)
            return false;
        cpu->halted = false;
        deliver_chain(cpu, vec & 0xff, X86_NO_ERR, K_HW, cpu->rip);
        return true;
    }
    return false;
}
