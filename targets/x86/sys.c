/* System instructions (Intel SDM vol. 2; vol. 3 chapters 2, 5, 11, 35):
 * segment moves and far transfers (the checks live in seg.c), flags and
 * interrupt-flag control, port I/O with the TSS permission bitmap,
 * descriptor-table registers, control and debug registers, MSRs,
 * CPUID, RDTSC, SYSCALL/SYSRET, SYSENTER/SYSEXIT.
 *
 * The CPU model (docs/x86-cpu.md) is QEMU 7.2's qemu64 with an Intel
 * identity; leaf values below are what that QEMU reports, so that the
 * differential tests and a KVM run see one CPU.  Unknown MSRs raise
 * #GP(0) as on Intel hardware and KVM (QEMU TCG reads them as 0). */
#include <string.h>

#include "targets/x86/exec.h"
#include "targets/x86/flags.h"
#include "targets/x86/mem.h"
#include "targets/x86/seg.h"

#define SEG_OK(cpu) (((cpu)->hflags & (X86_HF_PE | X86_HF_VM)) == X86_HF_PE)

static inline unsigned iopl(const X86CPU *cpu)
{
    return (cpu->eflags >> 12) & 3;
}

static const XInsn *gp0(X86CPU *cpu, const XInsn *in)
{
    return x86_raise(cpu, in, X86_EXC_GP, 0);
}

static const XInsn *ud(X86CPU *cpu, const XInsn *in)
{
    return x86_raise(cpu, in, X86_EXC_UD, X86_NO_ERR);
}

static void set_zf(X86CPU *cpu, bool z)
{
    x86_flags_sync(cpu);
    cpu->eflags = (cpu->eflags & ~(uint64_t)X86_ZF) | (z ? X86_ZF : 0);
}

static unsigned phys_bits(const X86CPU *cpu)
{
    return cpu->variant == 64 ? 40 : 36;
}

static uint32_t desc_limit_of(uint64_t d)
{
    X86Seg s;
    x86_seg_from_desc(&s, 0, d);
    return s.limit;
}

/* ---- segment registers ---- */

/* PUSH Sreg: a 32/64-bit push moves RSP by the operand size but writes
 * only the 16-bit selector (recent Intel cores; QEMU zero-extends). */
static const XInsn *push_sreg(X86CPU *cpu, const XInsn *in, int seg)
{
    unsigned os = in->osize;
    uint64_t sp = (cpu->regs[X86_RSP] - os) & x86_sp_mask(cpu);
    if (!x86_probe(cpu, in, X86_SS, sp, os, X86_ACC_WRITE) ||
        !x86_st(cpu, in, X86_SS, sp, 2, cpu->seg[seg].selector))
        return NULL;
    x86_set_sp(cpu, sp);
    X86_NEXT(cpu, in);
}

static const XInsn *pop_sreg(X86CPU *cpu, const XInsn *in, int seg)
{
    unsigned os = in->osize;
    uint64_t v;
    if (!x86_peek(cpu, in, 0, os, &v) || !x86_seg_load(cpu, in, seg, (uint16_t)v))
        return NULL;
    x86_set_sp(cpu, cpu->regs[X86_RSP] + os);
    if (seg == X86_SS)
        cpu->inhibit_irq = true;
    X86_NEXT(cpu, in);
}

static const XInsn *op_push_es(X86CPU *cpu, const XInsn *in) { return push_sreg(cpu, in, X86_ES); }
static const XInsn *op_push_cs(X86CPU *cpu, const XInsn *in) { return push_sreg(cpu, in, X86_CS); }
static const XInsn *op_push_ss(X86CPU *cpu, const XInsn *in) { return push_sreg(cpu, in, X86_SS); }
static const XInsn *op_push_ds(X86CPU *cpu, const XInsn *in) { return push_sreg(cpu, in, X86_DS); }
static const XInsn *op_push_fs(X86CPU *cpu, const XInsn *in) { return push_sreg(cpu, in, X86_FS); }
static const XInsn *op_push_gs(X86CPU *cpu, const XInsn *in) { return push_sreg(cpu, in, X86_GS); }
static const XInsn *op_pop_es(X86CPU *cpu, const XInsn *in) { return pop_sreg(cpu, in, X86_ES); }
static const XInsn *op_pop_ss(X86CPU *cpu, const XInsn *in) { return pop_sreg(cpu, in, X86_SS); }
static const XInsn *op_pop_ds(X86CPU *cpu, const XInsn *in) { return pop_sreg(cpu, in, X86_DS); }
static const XInsn *op_pop_fs(X86CPU *cpu, const XInsn *in) { return pop_sreg(cpu, in, X86_FS); }
static const XInsn *op_pop_gs(X86CPU *cpu, const XInsn *in) { return pop_sreg(cpu, in, X86_GS); }

/* 8C: MOV r/m, Sreg.  Register destinations take the operand size
 * (zero-extended selector), memory always 16 bits. */
static const XInsn *op_mov_from_sreg(X86CPU *cpu, const XInsn *in)
{
    if ((in->reg & 7) > 5)
        return ud(cpu, in);
    uint16_t sel = cpu->seg[in->reg & 7].selector;
    if (in->mod == 3)
        x86_reg_set(cpu, in->rm, in->osize, sel);
    else if (!x86_st(cpu, in, in->seg, x86_ea(cpu, in), 2, sel))
        return NULL;
    X86_NEXT(cpu, in);
}

/* 8E: MOV Sreg, r/m16 (CS is #UD). */
static const XInsn *op_mov_to_sreg(X86CPU *cpu, const XInsn *in)
{
    unsigned seg = in->reg & 7;
    uint64_t v;
    if (seg == X86_CS || seg > 5)
        return ud(cpu, in);
    if (!x86_rm_get(cpu, in, 2, &v) || !x86_seg_load(cpu, in, (int)seg, (uint16_t)v))
        return NULL;
    if (seg == X86_SS)
        cpu->inhibit_irq = true;
    X86_NEXT(cpu, in);
}

/* LES/LDS/LSS/LFS/LGS: offset first, selector after it. */
static const XInsn *load_far_ptr(X86CPU *cpu, const XInsn *in, int seg)
{
    unsigned os = in->osize;
    uint64_t ea = x86_ea(cpu, in), off, sel;
    if (!x86_ld(cpu, in, in->seg, ea, os, &off) ||
        !x86_ld(cpu, in, in->seg, (ea + os) & x86_addr_mask(in->asize), 2, &sel) ||
        !x86_seg_load(cpu, in, seg, (uint16_t)sel))
        return NULL;
    x86_reg_set(cpu, in->reg, os, off);
    X86_NEXT(cpu, in);
}

static const XInsn *op_les(X86CPU *cpu, const XInsn *in) { return load_far_ptr(cpu, in, X86_ES); }
static const XInsn *op_lds(X86CPU *cpu, const XInsn *in) { return load_far_ptr(cpu, in, X86_DS); }
static const XInsn *op_lss(X86CPU *cpu, const XInsn *in) { return load_far_ptr(cpu, in, X86_SS); }
static const XInsn *op_lfs(X86CPU *cpu, const XInsn *in) { return load_far_ptr(cpu, in, X86_FS); }
static const XInsn *op_lgs(X86CPU *cpu, const XInsn *in) { return load_far_ptr(cpu, in, X86_GS); }

/* 63: ARPL r/m16, r16 (protected mode only). */
static const XInsn *op_arpl(X86CPU *cpu, const XInsn *in)
{
    uint64_t d;
    if (!SEG_OK(cpu))
        return ud(cpu, in);
    if (!x86_rm_get(cpu, in, 2, &d))
        return NULL;
    unsigned src = cpu->regs[in->reg] & 3;
    bool adj = (d & 3) < src;
    if (adj && !x86_rm_set(cpu, in, 2, (d & ~3ull) | src))
        return NULL;
    set_zf(cpu, adj);
    X86_NEXT(cpu, in);
}

/* ---- far transfers ---- */

static const XInsn *op_callf(X86CPU *cpu, const XInsn *in)
{
    return x86_far_call(cpu, in, (uint16_t)in->imm2, in->imm);
}

static const XInsn *op_jmpf(X86CPU *cpu, const XInsn *in)
{
    return x86_far_jmp(cpu, in, (uint16_t)in->imm2, in->imm);
}

static bool far_ptr_m(X86CPU *cpu, const XInsn *in, uint64_t *off, uint64_t *sel)
{
    uint64_t ea = x86_ea(cpu, in);
    return x86_ld(cpu, in, in->seg, ea, in->osize, off) &&
           x86_ld(cpu, in, in->seg, (ea + in->osize) & x86_addr_mask(in->asize), 2, sel);
}

static const XInsn *op_callf_m(X86CPU *cpu, const XInsn *in)
{
    uint64_t off, sel;
    if (!far_ptr_m(cpu, in, &off, &sel))
        return NULL;
    return x86_far_call(cpu, in, (uint16_t)sel, off);
}

static const XInsn *op_jmpf_m(X86CPU *cpu, const XInsn *in)
{
    uint64_t off, sel;
    if (!far_ptr_m(cpu, in, &off, &sel))
        return NULL;
    return x86_far_jmp(cpu, in, (uint16_t)sel, off);
}

static const XInsn *op_retf(X86CPU *cpu, const XInsn *in)
{
    return x86_far_ret(cpu, in, (unsigned)(in->imm & 0xffff));
}

static const XInsn *op_iret(X86CPU *cpu, const XInsn *in)
{
    return x86_iret(cpu, in);
}

/* ---- interrupts ---- */

static const XInsn *op_int3(X86CPU *cpu, const XInsn *in)
{
    return x86_soft_int(cpu, in, X86_EXC_BP, true);
}

static const XInsn *op_int(X86CPU *cpu, const XInsn *in)
{
    /* Without VME, INT n in virtual-8086 mode is IOPL-sensitive. */
    if ((cpu->hflags & X86_HF_VM) && iopl(cpu) < 3)
        return gp0(cpu, in);
    return x86_soft_int(cpu, in, (int)(in->imm & 0xff), true);
}

static const XInsn *op_into(X86CPU *cpu, const XInsn *in)
{
    if (x86_cond(cpu, 0))
        return x86_soft_int(cpu, in, X86_EXC_OF, true);
    X86_NEXT(cpu, in);
}

static const XInsn *op_int1(X86CPU *cpu, const XInsn *in)
{
    return x86_soft_int(cpu, in, X86_EXC_DB, false);
}

static const XInsn *op_hlt(X86CPU *cpu, const XInsn *in)
{
    if (x86_cpl(cpu))
        return gp0(cpu, in);
    cpu->halted = true;
    return x86_jump(cpu, in, x86_next_rip(in));
}

/* CLI/STI: IF may change when CPL <= IOPL (protected mode), IOPL == 3
 * (virtual-8086 mode, no VME/PVI), always in real mode. */
static bool if_writable(const X86CPU *cpu)
{
    if (!(cpu->hflags & X86_HF_PE))
        return true;
    if (cpu->hflags & X86_HF_VM)
        return iopl(cpu) == 3;
    return x86_cpl(cpu) <= iopl(cpu);
}

static const XInsn *op_cli(X86CPU *cpu, const XInsn *in)
{
    if (!if_writable(cpu))
        return gp0(cpu, in);
    cpu->eflags &= ~(uint64_t)X86_IF;
    X86_NEXT(cpu, in);
}

static const XInsn *op_sti(X86CPU *cpu, const XInsn *in)
{
    if (!if_writable(cpu))
        return gp0(cpu, in);
    if (!(cpu->eflags & X86_IF))
        cpu->inhibit_irq = true;
    cpu->eflags |= X86_IF;
    X86_NEXT(cpu, in);
}

/* PUSHF: VM and RF are cleared in the image. */
static const XInsn *op_pushf(X86CPU *cpu, const XInsn *in)
{
    if ((cpu->hflags & X86_HF_VM) && iopl(cpu) < 3)
        return gp0(cpu, in);
    uint64_t f = x86_eflags(cpu) & ~(uint64_t)(X86_VM | X86_RF);
    if (!x86_push(cpu, in, in->osize, f & x86_size_mask(in->osize)))
        return NULL;
    X86_NEXT(cpu, in);
}

/* POPF (SDM POPF table): VIP, VIF, VM never change; RF is cleared by
 * the 32/64-bit forms; IOPL only at CPL 0; IF only when CPL <= IOPL. */
static const XInsn *op_popf(X86CPU *cpu, const XInsn *in)
{
    uint32_t hf = cpu->hflags;
    unsigned os = in->osize;
    uint64_t v;
    if ((hf & X86_HF_VM) && iopl(cpu) < 3)
        return gp0(cpu, in);
    if (!x86_pop(cpu, in, os, &v))
        return NULL;
    uint64_t m = X86_ARITH_FLAGS | X86_TF | X86_IF | X86_DF | X86_IOPL | X86_NT |
                 X86_AC | X86_ID;
    if (hf & X86_HF_PE) {
        if ((hf & X86_HF_VM) || x86_cpl(cpu) > 0)
            m &= ~(uint64_t)X86_IOPL;
        if (!(hf & X86_HF_VM) && x86_cpl(cpu) > iopl(cpu))
            m &= ~(uint64_t)X86_IF;
    }
    if (os == 2) {
        m &= 0xffff;
    } else {
        m |= X86_RF;
        v &= ~(uint64_t)X86_RF;
    }
    x86_set_eflags(cpu, v, m);
    X86_NEXT(cpu, in);
}

/* ---- port I/O ---- */

bool x86_io_allowed(X86CPU *cpu, const XInsn *in, uint16_t port, unsigned size)
{
    uint32_t hf = cpu->hflags;
    if (!(hf & X86_HF_PE) || (!(hf & X86_HF_VM) && x86_cpl(cpu) <= iopl(cpu)))
        return true;
    const X86Seg *tr = &cpu->tr;
    uint64_t lm = x86_lin_mask(cpu), base, bits;
    if (!tr->present || (tr->type & 9) != 9 || tr->limit < 0x67)
        return x86_fault(cpu, in, X86_EXC_GP, 0);
    if (!x86_ld_lin(cpu, in, (tr->base + 0x66) & lm, 2, &base))
        return false;
    uint64_t off = base + port / 8;
    if (off + 1 > tr->limit)
        return x86_fault(cpu, in, X86_EXC_GP, 0);
    if (!x86_ld_lin(cpu, in, (tr->base + off) & lm, 2, &bits))
        return false;
    if ((bits >> (port & 7)) & ((1u << size) - 1))
        return x86_fault(cpu, in, X86_EXC_GP, 0);
    return true;
}

static inline unsigned io_size(const XInsn *in)
{
    return in->osize > 4 ? 4 : in->osize;
}

/* After a port access: a device that raised an interrupt the CPU can take
 * (or an NMI), or asked the machine to stop, ends the block after this
 * instruction, so the interrupt is taken (the run ends) at the same
 * instruction whatever the slicing: single steps, a replay restarted from a
 * snapshot and the original run agree. */
static const XInsn *io_next(X86CPU *cpu, const XInsn *in)
{
    if (__builtin_expect(cpu->m->exit_request || cpu->nmi_pending ||
                         (cpu->intr && (cpu->eflags & X86_IF)), 0))
        return x86_jump(cpu, in, x86_next_rip(in));
    X86_NEXT(cpu, in);
}

static const XInsn *do_in(X86CPU *cpu, const XInsn *in, uint16_t port)
{
    unsigned size = io_size(in);
    if (!x86_io_allowed(cpu, in, port, size))
        return NULL;
    x86_reg_set(cpu, X86_RAX, size, x86_io_read(cpu, in, port, size));
    return io_next(cpu, in);
}

static const XInsn *do_out(X86CPU *cpu, const XInsn *in, uint16_t port)
{
    unsigned size = io_size(in);
    if (!x86_io_allowed(cpu, in, port, size))
        return NULL;
    x86_io_write(cpu, in, port, size, cpu->regs[X86_RAX] & x86_size_mask(size));
    return io_next(cpu, in);
}

static const XInsn *op_in_imm(X86CPU *cpu, const XInsn *in) { return do_in(cpu, in, (uint16_t)(in->imm & 0xff)); }
static const XInsn *op_out_imm(X86CPU *cpu, const XInsn *in) { return do_out(cpu, in, (uint16_t)(in->imm & 0xff)); }
static const XInsn *op_in_dx(X86CPU *cpu, const XInsn *in) { return do_in(cpu, in, (uint16_t)cpu->regs[X86_RDX]); }
static const XInsn *op_out_dx(X86CPU *cpu, const XInsn *in) { return do_out(cpu, in, (uint16_t)cpu->regs[X86_RDX]); }

/* INS/OUTS, REP-able.  Each iteration checks the memory operand before
 * the port access, so a fault does not lose a port read.  Like the other
 * string instructions (exec_str.c), a REP form runs at most
 * X86_REP_CHUNK iterations per execution and then restarts itself (not
 * retired) so the engine can take interrupts; it retires once, at the
 * end. */
static const XInsn *ins_outs(X86CPU *cpu, const XInsn *in, bool out)
{
    unsigned size = io_size(in), as = in->asize;
    uint16_t port = (uint16_t)cpu->regs[X86_RDX];
    uint64_t am = x86_addr_mask(as);
    bool rep = in->pfx & (X86_P_REP | X86_P_REPNE);
    int ptr = out ? X86_RSI : X86_RDI;
    int seg = out ? in->seg : X86_ES;
    uint64_t step = (cpu->eflags & X86_DF) ? -(uint64_t)size : size;
    unsigned budget = x86_rep_chunk(cpu);
    if (!x86_io_allowed(cpu, in, port, size))
        return NULL;
    for (;;) {
        if (rep && !(cpu->regs[X86_RCX] & am))
            break;
        uint64_t a = cpu->regs[ptr] & am, v;
        if (out) {
            if (!x86_ld(cpu, in, seg, a, size, &v))
                return NULL;
            x86_io_write(cpu, in, port, size, v);
        } else {
            if (!x86_probe(cpu, in, seg, a, size, X86_ACC_WRITE))
                return NULL;
            v = x86_io_read(cpu, in, port, size);
            if (!x86_st(cpu, in, seg, a, size, v))
                return NULL;
        }
        x86_reg_set(cpu, ptr, as, a + step);
        if (!rep)
            break;
        x86_reg_set(cpu, X86_RCX, as, cpu->regs[X86_RCX] - 1);
        if ((cpu->regs[X86_RCX] & am) && !--budget)
            return x86_restart(cpu, in);
    }
    return io_next(cpu, in);
}

static const XInsn *op_ins(X86CPU *cpu, const XInsn *in) { return ins_outs(cpu, in, false); }
static const XInsn *op_outs(X86CPU *cpu, const XInsn *in) { return ins_outs(cpu, in, true); }

/* ---- descriptor tables ---- */

/* Non-faulting descriptor lookup for LAR/LSL/VERR/VERW: false when the
 * selector is null or outside its table (*mem_ok stays true), or when
 * reading it faulted (*mem_ok false; the fault was raised). */
static bool desc_probe(X86CPU *cpu, const XInsn *in, uint16_t sel, uint64_t *d,
                       bool *mem_ok)
{
    *mem_ok = true;
    if (!(sel & 0xfffc))
        return false;
    const X86Seg *t = (sel & 4) ? &cpu->ldt : NULL;
    uint32_t limit = t ? t->limit : cpu->gdt.limit;
    uint64_t base = t ? t->base : cpu->gdt.base;
    if ((t && t->unusable) || (uint32_t)(sel | 7) > limit)
        return false;
    if (!x86_ld_lin(cpu, in, (base + (sel & ~7u)) & x86_lin_mask(cpu), 8, d)) {
        *mem_ok = false;
        return false;
    }
    return true;
}

/* LAR/LSL: may this CPL/RPL see the descriptor? */
static bool lar_visible(const X86CPU *cpu, uint16_t sel, uint64_t d, bool lsl)
{
    unsigned type = X86_D_TYPE(d), dpl = X86_D_DPL(d);
    if (X86_D_S(d)) {
        if ((type & 0xc) == 0xc)
            return true;                    /* conforming code */
    } else {
        bool lma = cpu->hflags & X86_HF_LMA;
        switch (type) {
        case X86_SYS_LDT: case X86_SYS_TSS: case X86_SYS_TSS_BUSY:
            break;
        case X86_SYS_TSS16: case X86_SYS_TSS16_BUSY:
            if (lma)
                return false;
            break;
        case X86_SYS_CALL:
            if (lsl)
                return false;
            break;
        case X86_SYS_CALL16: case X86_SYS_TASK:
            if (lsl || lma)
                return false;
            break;
        default:
            return false;
        }
    }
    return dpl >= x86_cpl(cpu) && dpl >= (sel & 3u);
}

static const XInsn *lar_lsl(X86CPU *cpu, const XInsn *in, bool lsl)
{
    uint64_t s, d;
    bool mem_ok;
    if (!SEG_OK(cpu))
        return ud(cpu, in);
    if (!x86_rm_get(cpu, in, 2, &s))
        return NULL;
    bool ok = desc_probe(cpu, in, (uint16_t)s, &d, &mem_ok);
    if (!mem_ok)
        return NULL;
    ok = ok && lar_visible(cpu, (uint16_t)s, d, lsl);
    if (ok) {
        /* LAR: bits 8-23 of the high dword as QEMU (00F0FF00h; Intel
         * documents bits 16-19 as undefined). */
        uint64_t v = lsl ? desc_limit_of(d) : ((d >> 32) & 0x00f0ff00);
        x86_reg_set(cpu, in->reg, in->osize, v);
    }
    set_zf(cpu, ok);
    X86_NEXT(cpu, in);
}

static const XInsn *op_lar(X86CPU *cpu, const XInsn *in) { return lar_lsl(cpu, in, false); }
static const XInsn *op_lsl(X86CPU *cpu, const XInsn *in) { return lar_lsl(cpu, in, true); }

static const XInsn *verr_verw(X86CPU *cpu, const XInsn *in, bool write)
{
    uint64_t s, d;
    bool mem_ok;
    if (!SEG_OK(cpu))
        return ud(cpu, in);
    if (!x86_rm_get(cpu, in, 2, &s))
        return NULL;
    bool ok = desc_probe(cpu, in, (uint16_t)s, &d, &mem_ok);
    if (!mem_ok)
        return NULL;
    if (ok) {
        unsigned type = X86_D_TYPE(d), dpl = X86_D_DPL(d);
        bool conforming = (type & 0xc) == 0xc;
        if (!X86_D_S(d))
            ok = false;
        else if (write)
            ok = (type & 0xa) == 0x2;
        else
            ok = (type & 0xa) != 0x8;
        if (ok && !conforming && (dpl < x86_cpl(cpu) || dpl < ((unsigned)s & 3)))
            ok = false;
    }
    set_zf(cpu, ok);
    X86_NEXT(cpu, in);
}

/* SLDT/STR: register destinations take the operand size. */
static const XInsn *store_sel(X86CPU *cpu, const XInsn *in, uint16_t sel)
{
    if (!SEG_OK(cpu))
        return ud(cpu, in);
    if (!x86_rm_set(cpu, in, in->mod == 3 ? in->osize : 2, sel))
        return NULL;
    X86_NEXT(cpu, in);
}

static const XInsn *op_sldt(X86CPU *cpu, const XInsn *in) { return store_sel(cpu, in, cpu->ldt.selector); }
static const XInsn *op_str(X86CPU *cpu, const XInsn *in) { return store_sel(cpu, in, cpu->tr.selector); }

/* LLDT/LTR: GDT system descriptors, 16 bytes in long mode. */
static bool sys_desc(X86CPU *cpu, const XInsn *in, uint16_t sel, uint64_t *d, uint64_t *a,
                     uint64_t *hi)
{
    int err = sel & 0xfffc;
    if (sel & 4)
        return x86_fault(cpu, in, X86_EXC_GP, err);
    if (!x86_desc_read(cpu, in, sel, X86_EXC_GP, 0, d, a))
        return false;
    *hi = 0;
    if (cpu->hflags & X86_HF_LMA) {
        if (!x86_desc_read_hi(cpu, in, sel, X86_EXC_GP, 0, hi))
            return false;
        if ((*hi >> 40) & 0x1f)
            return x86_fault(cpu, in, X86_EXC_GP, err);
    }
    return true;
}

static const XInsn *op_lldt(X86CPU *cpu, const XInsn *in)
{
    uint64_t s, d, a, hi;
    if (!SEG_OK(cpu))
        return ud(cpu, in);
    if (x86_cpl(cpu))
        return gp0(cpu, in);
    if (!x86_rm_get(cpu, in, 2, &s))
        return NULL;
    uint16_t sel = (uint16_t)s;
    if (!(sel & 0xfffc)) {
        memset(&cpu->ldt, 0, sizeof(cpu->ldt));
        cpu->ldt.selector = sel;
        cpu->ldt.unusable = 1;
        X86_NEXT(cpu, in);
    }
    if (!sys_desc(cpu, in, sel, &d, &a, &hi))
        return NULL;
    if (X86_D_S(d) || X86_D_TYPE(d) != X86_SYS_LDT)
        return x86_raise(cpu, in, X86_EXC_GP, sel & 0xfffc);
    if (!X86_D_P(d))
        return x86_raise(cpu, in, X86_EXC_NP, sel & 0xfffc);
    x86_seg_from_desc(&cpu->ldt, sel, d);
    cpu->ldt.base |= hi << 32;
    X86_NEXT(cpu, in);
}

static const XInsn *op_ltr(X86CPU *cpu, const XInsn *in)
{
    uint64_t s, d, a, hi;
    if (!SEG_OK(cpu))
        return ud(cpu, in);
    if (x86_cpl(cpu))
        return gp0(cpu, in);
    if (!x86_rm_get(cpu, in, 2, &s))
        return NULL;
    uint16_t sel = (uint16_t)s;
    if (!(sel & 0xfffc))
        return gp0(cpu, in);
    if (!sys_desc(cpu, in, sel, &d, &a, &hi))
        return NULL;
    unsigned type = X86_D_TYPE(d);
    bool lma = cpu->hflags & X86_HF_LMA;
    if (X86_D_S(d) || !(type == X86_SYS_TSS || (type == X86_SYS_TSS16 && !lma)))
        return x86_raise(cpu, in, X86_EXC_GP, sel & 0xfffc);
    if (!X86_D_P(d))
        return x86_raise(cpu, in, X86_EXC_NP, sel & 0xfffc);
    d |= X86_DESC_BUSY;
    if (!x86_st_lin(cpu, in, a + 5, 1, (d >> 40) & 0xff))
        return NULL;
    x86_seg_from_desc(&cpu->tr, sel, d);
    cpu->tr.base |= hi << 32;
    X86_NEXT(cpu, in);
}

static const XInsn *op_verr(X86CPU *cpu, const XInsn *in) { return verr_verw(cpu, in, false); }
static const XInsn *op_verw(X86CPU *cpu, const XInsn *in) { return verr_verw(cpu, in, true); }

/* SGDT/SIDT: limit then a 32-bit base (64-bit in 64-bit mode), whatever
 * the operand size. */
static const XInsn *store_dt(X86CPU *cpu, const XInsn *in, const X86Dtable *t)
{
    uint8_t buf[10];
    unsigned n = (cpu->hflags & X86_HF_CS64) ? 10 : 6;
    memcpy(buf, &t->limit, 2);
    memcpy(buf + 2, &t->base, 8);
    if (!x86_st_buf(cpu, in, in->seg, x86_ea(cpu, in), buf, n))
        return NULL;
    X86_NEXT(cpu, in);
}

static const XInsn *load_dt(X86CPU *cpu, const XInsn *in, X86Dtable *t)
{
    uint8_t buf[10] = { 0 };
    uint16_t limit;
    uint64_t base = 0;
    bool w = cpu->hflags & X86_HF_CS64;
    if (x86_cpl(cpu))
        return gp0(cpu, in);
    if (!x86_ld_buf(cpu, in, in->seg, x86_ea(cpu, in), buf, w ? 10 : 6))
        return NULL;
    memcpy(&limit, buf, 2);
    memcpy(&base, buf + 2, 8);
    if (!w)
        base &= in->osize == 2 ? 0xffffff : 0xffffffff;
    t->limit = limit;
    t->base = base;
    X86_NEXT(cpu, in);
}

static const XInsn *op_sgdt(X86CPU *cpu, const XInsn *in) { return store_dt(cpu, in, &cpu->gdt); }
static const XInsn *op_sidt(X86CPU *cpu, const XInsn *in) { return store_dt(cpu, in, &cpu->idt); }
static const XInsn *op_lgdt(X86CPU *cpu, const XInsn *in) { return load_dt(cpu, in, &cpu->gdt); }
static const XInsn *op_lidt(X86CPU *cpu, const XInsn *in) { return load_dt(cpu, in, &cpu->idt); }

/* ---- control registers ---- */

#define CR0_BITS (X86_CR0_PE | X86_CR0_MP | X86_CR0_EM | X86_CR0_TS | X86_CR0_ET | \
                  X86_CR0_NE | X86_CR0_WP | X86_CR0_AM | X86_CR0_NW | X86_CR0_CD | \
                  X86_CR0_PG)
/* No VME/PVI (not advertised), UMIP, FSGSBASE, PCIDE, SMEP, SMAP. */
#define CR4_BITS (X86_CR4_TSD | X86_CR4_DE | X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | \
                  X86_CR4_PGE | X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT | \
                  X86_CR4_OSXSAVE)

/* CR0 write (MOV, LMSW, CLTS): reserved bits 31:0 are ignored, 63:32
 * fault; ET is hardwired to 1. */
static bool cr0_write(X86CPU *cpu, const XInsn *in, uint64_t v)
{
    uint64_t old = cpu->cr0;
    if (v >> 32)
        return x86_fault(cpu, in, X86_EXC_GP, 0);
    v = (v & CR0_BITS) | X86_CR0_ET;
    if ((v & X86_CR0_PG) && !(v & X86_CR0_PE))
        return x86_fault(cpu, in, X86_EXC_GP, 0);
    if ((v & X86_CR0_NW) && !(v & X86_CR0_CD))
        return x86_fault(cpu, in, X86_EXC_GP, 0);
    if ((v & X86_CR0_PG) && !(old & X86_CR0_PG) && (cpu->efer & X86_EFER_LME) &&
        !(cpu->cr4 & X86_CR4_PAE))
        return x86_fault(cpu, in, X86_EXC_GP, 0);
    if (!(v & X86_CR0_PG) && (old & X86_CR0_PG) && (cpu->hflags & X86_HF_CS64))
        return x86_fault(cpu, in, X86_EXC_GP, 0);
    cpu->cr0 = v;
    if ((v ^ old) & X86_CR0_PG) {
        if ((v & X86_CR0_PG) && (cpu->efer & X86_EFER_LME))
            cpu->efer |= X86_EFER_LMA;
        else
            cpu->efer &= ~X86_EFER_LMA;
    }
    if ((v ^ old) & (X86_CR0_PG | X86_CR0_WP | X86_CR0_PE))
        x86_tlb_flush(cpu, false);
    x86_update_hflags(cpu);
    return true;
}

static bool cr4_write(X86CPU *cpu, const XInsn *in, uint64_t v)
{
    uint64_t old = cpu->cr4;
    if (v & ~(uint64_t)CR4_BITS)
        return x86_fault(cpu, in, X86_EXC_GP, 0);
    if ((cpu->efer & X86_EFER_LMA) && !(v & X86_CR4_PAE))
        return x86_fault(cpu, in, X86_EXC_GP, 0);
    cpu->cr4 = v;
    if ((v ^ old) & (X86_CR4_PGE | X86_CR4_PAE | X86_CR4_PSE))
        x86_tlb_flush(cpu, false);
    return true;
}

static bool cr3_write(X86CPU *cpu, const XInsn *in, uint64_t v)
{
    if (cpu->hflags & X86_HF_LMA) {
        if (v >> phys_bits(cpu))
            return x86_fault(cpu, in, X86_EXC_GP, 0);
    } else {
        v = (uint32_t)v;
    }
    cpu->cr3 = v;
    x86_tlb_flush(cpu, true);
    return true;
}

/* MOV CR/DR: the operand is always a register (ModRM.mod is ignored) of
 * 64 bits in 64-bit mode, 32 bits elsewhere. */
static inline unsigned crdr_size(const X86CPU *cpu)
{
    return (cpu->hflags & X86_HF_CS64) ? 8 : 4;
}

static const XInsn *op_mov_from_cr(X86CPU *cpu, const XInsn *in)
{
    uint64_t v;
    if (x86_cpl(cpu))
        return gp0(cpu, in);
    switch (in->reg) {
    case 0: v = cpu->cr0; break;
    case 2: v = cpu->cr2; break;
    case 3: v = cpu->cr3; break;
    case 4: v = cpu->cr4; break;
    case 8: v = cpu->apic ? cpu->apic_get_tpr(cpu->apic) >> 4 : cpu->cr8 & 0xf; break;
    default: return ud(cpu, in);
    }
    x86_reg_set(cpu, in->rm, crdr_size(cpu), v);
    X86_NEXT(cpu, in);
}

static const XInsn *op_mov_to_cr(X86CPU *cpu, const XInsn *in)
{
    unsigned size = crdr_size(cpu);
    uint64_t v = x86_reg_get(cpu, in->rm, size);
    if (in->reg != 0 && in->reg != 2 && in->reg != 3 && in->reg != 4 && in->reg != 8)
        return ud(cpu, in);
    if (x86_cpl(cpu))
        return gp0(cpu, in);
    bool ok = true;
    switch (in->reg) {
    case 0: ok = cr0_write(cpu, in, v); break;
    case 2: cpu->cr2 = v; break;
    case 3: ok = cr3_write(cpu, in, v); break;
    case 4: ok = cr4_write(cpu, in, v); break;
    case 8:
        /* TPR[7:4] of the local APIC (kept here too, for the state). */
        if (v >> 4)
            return gp0(cpu, in);
        cpu->cr8 = v;
        if (cpu->apic)
            cpu->apic_set_tpr(cpu->apic, (uint8_t)(v << 4));
        break;
    }
    if (!ok)
        return NULL;
    return x86_jump(cpu, in, x86_next_rip(in));
}

/* DR4/DR5 alias DR6/DR7 unless CR4.DE (then #UD).  Breakpoints and
 * DR7.GD are not implemented: the registers hold values only. */
static int dr_index(const X86CPU *cpu, unsigned r)
{
    if (r > 7)
        return -1;
    if (r == 4 || r == 5)
        return (cpu->cr4 & X86_CR4_DE) ? -1 : (int)r + 2;
    return (int)r;
}

static const XInsn *op_mov_from_dr(X86CPU *cpu, const XInsn *in)
{
    int i = dr_index(cpu, in->reg);
    if (i < 0)
        return ud(cpu, in);
    if (x86_cpl(cpu))
        return gp0(cpu, in);
    x86_reg_set(cpu, in->rm, crdr_size(cpu), cpu->dr[i]);
    X86_NEXT(cpu, in);
}

static const XInsn *op_mov_to_dr(X86CPU *cpu, const XInsn *in)
{
    int i = dr_index(cpu, in->reg);
    unsigned size = crdr_size(cpu);
    uint64_t v = x86_reg_get(cpu, in->rm, size);
    if (i < 0)
        return ud(cpu, in);
    if (x86_cpl(cpu))
        return gp0(cpu, in);
    if (i >= 6 && (v >> 32))
        return gp0(cpu, in);
    if (i == 6)
        v = v | 0xffff0ff0u;
    else if (i == 7)
        v = (v & ~0xd800ull) | 0x400;
    cpu->dr[i] = v;
    X86_NEXT(cpu, in);
}

static const XInsn *op_clts(X86CPU *cpu, const XInsn *in)
{
    if (x86_cpl(cpu))
        return gp0(cpu, in);
    cpu->cr0 &= ~X86_CR0_TS;
    X86_NEXT(cpu, in);
}

static const XInsn *op_smsw(X86CPU *cpu, const XInsn *in)
{
    if (!x86_rm_set(cpu, in, in->mod == 3 ? in->osize : 2, cpu->cr0))
        return NULL;
    X86_NEXT(cpu, in);
}

/* LMSW: loads PE MP EM TS; PE cannot be cleared. */
static const XInsn *op_lmsw(X86CPU *cpu, const XInsn *in)
{
    uint64_t v;
    if (x86_cpl(cpu))
        return gp0(cpu, in);
    if (!x86_rm_get(cpu, in, 2, &v))
        return NULL;
    if (!cr0_write(cpu, in, (cpu->cr0 & ~0xeull) | (v & 0xf)))
        return NULL;
    return x86_jump(cpu, in, x86_next_rip(in));
}

static const XInsn *op_invlpg(X86CPU *cpu, const XInsn *in)
{
    if (x86_cpl(cpu))
        return gp0(cpu, in);
    uint64_t ea = x86_ea(cpu, in), base = cpu->seg[in->seg].base;
    if ((cpu->hflags & X86_HF_CS64) && in->seg < X86_FS)
        base = 0;
    x86_tlb_flush_page(cpu, (base + ea) & x86_lin_mask(cpu));
    X86_NEXT(cpu, in);
}

static const XInsn *op_invd(X86CPU *cpu, const XInsn *in)
{
    if (x86_cpl(cpu))
        return gp0(cpu, in);
    X86_NEXT(cpu, in);
}

/* ---- time stamp counter ---- */

uint64_t x86_rdtsc(X86CPU *cpu, const XInsn *in)
{
    /* One tick per virtual nanosecond, read at this instruction's exact
     * position (as an MMIO access sees the clock).  Record/replay logs the
     * value (DESIGN.md: an instruction whose result KVM cannot reproduce),
     * with the position: RIP and icount made exact for it. */
    uint64_t saved = cpu->icount, saved_rip = cpu->rip;
    if (in) {
        cpu->icount = x86_icount_at(cpu, in);
        cpu->rip = in->pc;
    }
    uint64_t t = cpu->m ? (uint64_t)machine_ns(cpu->m) : cpu->icount;
    t += (uint64_t)cpu->tsc_offset;
    if (in && cpu->m && cpu->m->rr)
        t = machine_guest_tsc(cpu->m, t);
    cpu->icount = saved;
    cpu->rip = saved_rip;
    return t;
}

static const XInsn *op_rdtsc(X86CPU *cpu, const XInsn *in)
{
    if ((cpu->cr4 & X86_CR4_TSD) && x86_cpl(cpu))
        return gp0(cpu, in);
    uint64_t t = x86_rdtsc(cpu, in);
    cpu->regs[X86_RAX] = (uint32_t)t;
    cpu->regs[X86_RDX] = t >> 32;
    X86_NEXT(cpu, in);
}

static const XInsn *op_rdtscp(X86CPU *cpu, const XInsn *in)
{
    if ((cpu->cr4 & X86_CR4_TSD) && x86_cpl(cpu))
        return gp0(cpu, in);
    uint64_t t = x86_rdtsc(cpu, in);
    cpu->regs[X86_RAX] = (uint32_t)t;
    cpu->regs[X86_RDX] = t >> 32;
    cpu->regs[X86_RCX] = (uint32_t)cpu->tsc_aux;
    X86_NEXT(cpu, in);
}

/* No performance counters are advertised. */
static const XInsn *op_rdpmc(X86CPU *cpu, const XInsn *in)
{
    return gp0(cpu, in);
}

/* ---- MSRs ---- */

enum {
    MSR_TSC = 0x10, MSR_PLATFORM_ID = 0x17, MSR_APIC_BASE = 0x1b,
    MSR_BIOS_SIGN_ID = 0x8b, MSR_MTRRCAP = 0xfe,
    MSR_SYSENTER_CS = 0x174, MSR_SYSENTER_ESP = 0x175, MSR_SYSENTER_EIP = 0x176,
    MSR_MISC_ENABLE = 0x1a0, MSR_MTRR_VAR = 0x200, MSR_MTRR_FIX64K = 0x250,
    MSR_MTRR_FIX16K_80000 = 0x258, MSR_MTRR_FIX16K_A0000 = 0x259,
    MSR_MTRR_FIX4K = 0x268, MSR_PAT = 0x277, MSR_MTRR_DEF_TYPE = 0x2ff,
    MSR_EFER = 0xc0000080, MSR_STAR = 0xc0000081, MSR_LSTAR = 0xc0000082,
    MSR_CSTAR = 0xc0000083, MSR_FMASK = 0xc0000084, MSR_FS_BASE = 0xc0000100,
    MSR_GS_BASE = 0xc0000101, MSR_KERNEL_GS_BASE = 0xc0000102, MSR_TSC_AUX = 0xc0000103,
};

/* Index into mtrr_fixed[] (0x250, 0x258, 0x259, 0x268..0x26f), or -1. */
static int mtrr_fixed_index(uint32_t msr)
{
    if (msr == MSR_MTRR_FIX64K)
        return 0;
    if (msr == MSR_MTRR_FIX16K_80000 || msr == MSR_MTRR_FIX16K_A0000)
        return 1 + (int)(msr - MSR_MTRR_FIX16K_80000);
    if (msr >= MSR_MTRR_FIX4K && msr < MSR_MTRR_FIX4K + 8)
        return 3 + (int)(msr - MSR_MTRR_FIX4K);
    return -1;
}

static bool mtrr_type_ok(unsigned t)
{
    return t == 0 || t == 1 || t == 4 || t == 5 || t == 6;
}

static bool pat_type_ok(unsigned t)
{
    return t == 0 || t == 1 || t == 4 || t == 5 || t == 6 || t == 7;
}

/* Returns false for an MSR that does not exist (#GP). */
static bool msr_read(X86CPU *cpu, const XInsn *in, uint32_t msr, uint64_t *v)
{
    bool lm = cpu->variant == 64;
    int f = mtrr_fixed_index(msr);
    if (f >= 0) {
        *v = cpu->mtrr_fixed[f];
        return true;
    }
    if (msr >= MSR_MTRR_VAR && msr < MSR_MTRR_VAR + 16) {
        *v = cpu->mtrr_var[msr - MSR_MTRR_VAR];
        return true;
    }
    switch (msr) {
    case MSR_TSC: *v = x86_rdtsc(cpu, in); return true;
    case MSR_PLATFORM_ID: *v = 0; return true;
    case MSR_APIC_BASE:
        *v = cpu->apic_base;
        return cpu->has_apic;
    /* Microcode revision 1 in the high half, as QEMU reports. */
    case MSR_BIOS_SIGN_ID: *v = 1ull << 32; return true;
    case MSR_MTRRCAP: *v = 0x508; return true;     /* 8 variable, fixed, WC */
    case MSR_SYSENTER_CS: *v = cpu->sysenter_cs; return true;
    case MSR_SYSENTER_ESP: *v = cpu->sysenter_esp; return true;
    case MSR_SYSENTER_EIP: *v = cpu->sysenter_eip; return true;
    case MSR_MISC_ENABLE: *v = cpu->misc_enable; return true;
    case MSR_PAT: *v = cpu->pat; return true;
    case MSR_MTRR_DEF_TYPE: *v = cpu->mtrr_def_type; return true;
    case MSR_EFER: *v = cpu->efer; return true;
    case MSR_TSC_AUX: *v = cpu->tsc_aux; return true;
    case MSR_STAR: *v = cpu->star; return lm;
    case MSR_LSTAR: *v = cpu->lstar; return lm;
    case MSR_CSTAR: *v = cpu->cstar; return lm;
    case MSR_FMASK: *v = cpu->fmask; return lm;
    case MSR_FS_BASE: *v = cpu->seg[X86_FS].base; return lm;
    case MSR_GS_BASE: *v = cpu->seg[X86_GS].base; return lm;
    case MSR_KERNEL_GS_BASE: *v = cpu->kernel_gs_base; return lm;
    default: return false;
    }
}

/* Returns false when the write must #GP (no such MSR, reserved bits,
 * invalid memory type, non-canonical address). */
static bool msr_write(X86CPU *cpu, const XInsn *in, uint32_t msr, uint64_t v)
{
    bool lm = cpu->variant == 64;
    uint64_t pmask = (1ull << phys_bits(cpu)) - 1;
    int f = mtrr_fixed_index(msr);
    if (f >= 0) {
        for (unsigned i = 0; i < 8; i++) {
            if (!mtrr_type_ok((v >> (8 * i)) & 0xff))
                return false;
        }
        cpu->mtrr_fixed[f] = v;
        return true;
    }
    if (msr >= MSR_MTRR_VAR && msr < MSR_MTRR_VAR + 16) {
        bool mask = msr & 1;
        uint64_t ok = mask ? ((pmask & ~0xfffull) | 0x800) : ((pmask & ~0xfffull) | 0xff);
        if ((v & ~ok) || (!mask && !mtrr_type_ok(v & 0xff)))
            return false;
        cpu->mtrr_var[msr - MSR_MTRR_VAR] = v;
        return true;
    }
    switch (msr) {
    case MSR_TSC:
        cpu->tsc_offset = (int64_t)(v - (x86_rdtsc(cpu, in) - (uint64_t)cpu->tsc_offset));
        return true;
    case MSR_APIC_BASE:
        /* BSP (read-only), EN, base; no x2APIC. */
        if (!cpu->has_apic || (v & ~((pmask & ~0xfffull) | 0x900)))
            return false;
        cpu->apic_base = (v & ~0x100ull) | (cpu->apic_base & 0x100);
        if (cpu->apic)
            cpu->apic_set_base(cpu->apic, cpu->apic_base);
        return true;
    case MSR_BIOS_SIGN_ID:
        return true;                /* the microcode-revision query protocol */
    case MSR_SYSENTER_CS: cpu->sysenter_cs = v & 0xffff; return true;
    case MSR_SYSENTER_ESP:
    case MSR_SYSENTER_EIP:
        if (lm && !x86_canonical(v))
            return false;
        if (!lm)
            v = (uint32_t)v;
        if (msr == MSR_SYSENTER_ESP)
            cpu->sysenter_esp = v;
        else
            cpu->sysenter_eip = v;
        return true;
    case MSR_MISC_ENABLE:
        /* Stored (the limit-CPUID and XD-disable bits have no effect). */
        cpu->misc_enable = v;
        return true;
    case MSR_PAT:
        for (unsigned i = 0; i < 8; i++) {
            if (!pat_type_ok((v >> (8 * i)) & 0xff))
                return false;
        }
        cpu->pat = v;
        return true;
    case MSR_MTRR_DEF_TYPE:
        if ((v & ~0xcffull) || !mtrr_type_ok(v & 0xff))
            return false;
        cpu->mtrr_def_type = v;
        return true;
    case MSR_EFER: {
        uint64_t w = X86_EFER_NXE | (lm ? X86_EFER_SCE | X86_EFER_LME : 0);
        if (v & ~(w | X86_EFER_LMA))
            return false;
        if (((v ^ cpu->efer) & X86_EFER_LME) && (cpu->cr0 & X86_CR0_PG))
            return false;
        uint64_t old = cpu->efer;
        cpu->efer = (v & w) | (old & X86_EFER_LMA);
        if ((old ^ cpu->efer) & X86_EFER_NXE)
            x86_tlb_flush(cpu, false);
        return true;
    }
    case MSR_TSC_AUX:
        if (v >> 32)
            return false;
        cpu->tsc_aux = v;
        return true;
    case MSR_STAR:
        if (!lm)
            return false;
        cpu->star = v;
        return true;
    case MSR_FMASK:
        if (!lm || (v >> 32))
            return false;
        cpu->fmask = v;
        return true;
    case MSR_LSTAR: case MSR_CSTAR: case MSR_FS_BASE: case MSR_GS_BASE:
    case MSR_KERNEL_GS_BASE:
        if (!lm || !x86_canonical(v))
            return false;
        if (msr == MSR_LSTAR)
            cpu->lstar = v;
        else if (msr == MSR_CSTAR)
            cpu->cstar = v;
        else if (msr == MSR_FS_BASE)
            cpu->seg[X86_FS].base = v;
        else if (msr == MSR_GS_BASE)
            cpu->seg[X86_GS].base = v;
        else
            cpu->kernel_gs_base = v;
        return true;
    default:
        return false;
    }
}

bool x86_msr_read(X86CPU *cpu, uint32_t msr, uint64_t *v)
{
    return msr_read(cpu, NULL, msr, v);
}

bool x86_msr_write(X86CPU *cpu, uint32_t msr, uint64_t v)
{
    return msr_write(cpu, NULL, msr, v);
}

static const XInsn *op_rdmsr(X86CPU *cpu, const XInsn *in)
{
    uint64_t v;
    if (x86_cpl(cpu) || !msr_read(cpu, in, (uint32_t)cpu->regs[X86_RCX], &v))
        return gp0(cpu, in);
    cpu->regs[X86_RAX] = (uint32_t)v;
    cpu->regs[X86_RDX] = v >> 32;
    X86_NEXT(cpu, in);
}

static const XInsn *op_wrmsr(X86CPU *cpu, const XInsn *in)
{
    uint64_t v = (uint32_t)cpu->regs[X86_RAX] | (cpu->regs[X86_RDX] << 32);
    if (x86_cpl(cpu) || !msr_write(cpu, in, (uint32_t)cpu->regs[X86_RCX], v))
        return gp0(cpu, in);
    return x86_jump(cpu, in, x86_next_rip(in));
}

/* ---- CPUID ---- */

static const char brand[48] = "Tandem Virtual CPU";

void x86_cpuid(X86CPU *cpu, uint32_t leaf, uint32_t sub, uint32_t out[4])
{
    bool lm = cpu->variant == 64;
    uint32_t a = 0, b = 0, c = 0, d = 0;
    if (leaf == 0x40000000) {
        /* QEMU TCG's hypervisor leaf ("TCGTCGTCGTCG"), present even
         * without the hypervisor bit. */
        out[0] = 0x40000001;
        out[1] = 0x54474354;
        out[2] = 0x43544743;
        out[3] = 0x47435447;
        return;
    }
    if (leaf == 0x40000001 || leaf == 0x80000007) {
        out[0] = out[1] = out[2] = out[3] = 0;
        return;
    }
    /* Beyond the last leaf: the highest basic leaf's data (Intel). */
    if (leaf > 0x80000008 || (leaf > 0xd && leaf < 0x80000000))
        leaf = 0xd;
    switch (leaf) {
    case 0:
    case 0x80000000:
        a = leaf ? 0x80000008 : 0xd;
        b = 0x756e6547;             /* "GenuineIntel" */
        d = 0x49656e69;
        c = 0x6c65746e;
        break;
    case 1:
        a = 0x6fb;                  /* family 6, model 15, stepping 11 */
        b = 8 << 8;                 /* CLFLUSH line 64 bytes; APIC ID 0 */
        /* SSE3 SSSE3 CX16 SSE4.1 SSE4.2 MOVBE POPCNT XSAVE (OSXSAVE) */
        c = 0x04d82201 | ((cpu->cr4 & X86_CR4_OSXSAVE) ? 1u << 27 : 0);
        /* FPU DE PSE TSC MSR PAE CX8 (APIC) SEP MTRR PGE CMOV PAT PSE36
         * CLFSH MMX FXSR SSE SSE2 */
        d = 0x078bb97d;
        /* APIC: present and not disabled through IA32_APIC_BASE.EN (the
         * flag follows the enable bit, SDM vol. 3 "Local APIC Status and
         * Location"; KVM does the same). */
        if (cpu->has_apic && (cpu->apic_base & (1u << 11)))
            d |= 1u << 9;
        break;
    case 2:
        a = 1;
        c = 0x4d;
        d = 0x002c307d;
        break;
    case 4: {
        static const uint32_t caches[4][4] = {
            { 0x121, 0x01c0003f, 0x3f, 1 },
            { 0x122, 0x01c0003f, 0x3f, 1 },
            { 0x143, 0x03c0003f, 0xfff, 1 },
            { 0x163, 0x03c0003f, 0x3fff, 6 },
        };
        if (sub < 4) {
            a = caches[sub][0];
            b = caches[sub][1];
            c = caches[sub][2];
            d = caches[sub][3];
        }
        break;
    }
    case 5:
        c = 3;
        break;
    case 7:
        if (sub == 0)
            b = 0x108;              /* BMI1 BMI2 */
        break;
    case 0xb:
        c = sub & 0xff;
        if (sub == 0) {
            b = 1;
            c |= 0x100;
        } else if (sub == 1) {
            b = 1;
            c |= 0x200;
        }
        break;
    case 0xd:
        if (sub == 0) {
            a = 3;                  /* x87 | SSE */
            b = c = 0x240;
        } else if (sub == 1) {
            b = 0x240;
        }
        break;
    case 0x80000001:
        a = 0x6fb;
        c = 0x21;                   /* LAHF_LM ABM */
        /* SYSCALL NX PDPE1GB RDTSCP LM; i386: NX RDTSCP */
        d = lm ? 0x2c100800 : 0x08100000;
        break;
    case 0x80000002: case 0x80000003: case 0x80000004: {
        uint32_t r[4];
        memcpy(r, brand + (leaf - 0x80000002) * 16, 16);
        a = r[0];
        b = r[1];
        c = r[2];
        d = r[3];
        break;
    }
    case 0x80000005:
        a = b = 0x01ff01ff;
        c = d = 0x40020140;
        break;
    case 0x80000006:
        b = 0x42004200;
        c = 0x02008140;
        d = 0x00808140;
        break;
    case 0x80000008:
        a = lm ? 0x3028 : 0x24;
        break;
    default:
        break;
    }
    out[0] = a;
    out[1] = b;
    out[2] = c;
    out[3] = d;
}

unsigned x86_cpuid_leaves(X86CPU *cpu, X86CpuidLeaf *out, unsigned max)
{
    /* (leaf, subleaves; 0 = not indexed) in the ranges x86_cpuid serves. */
    static const uint32_t leaves[][2] = {
        { 0, 0 }, { 1, 0 }, { 2, 0 }, { 3, 0 }, { 4, 5 }, { 5, 0 }, { 6, 0 },
        { 7, 1 }, { 8, 0 }, { 9, 0 }, { 0xa, 0 }, { 0xb, 2 }, { 0xc, 0 }, { 0xd, 2 },
        { 0x40000000, 0 }, { 0x40000001, 0 },
        { 0x80000000, 0 }, { 0x80000001, 0 }, { 0x80000002, 0 }, { 0x80000003, 0 },
        { 0x80000004, 0 }, { 0x80000005, 0 }, { 0x80000006, 0 }, { 0x80000007, 0 },
        { 0x80000008, 0 },
    };
    unsigned n = 0;
    for (unsigned i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
        uint32_t nsub = leaves[i][1] ? leaves[i][1] : 1;
        for (uint32_t sub = 0; sub < nsub; sub++, n++) {
            if (n >= max)
                continue;
            out[n].leaf = leaves[i][0];
            out[n].sub = sub;
            out[n].indexed = leaves[i][1] != 0;
            x86_cpuid(cpu, leaves[i][0], sub, out[n].r);
        }
    }
    return n;
}

static const XInsn *op_cpuid(X86CPU *cpu, const XInsn *in)
{
    uint32_t r[4];
    x86_cpuid(cpu, (uint32_t)cpu->regs[X86_RAX], (uint32_t)cpu->regs[X86_RCX], r);
    cpu->regs[X86_RAX] = r[0];
    cpu->regs[X86_RBX] = r[1];
    cpu->regs[X86_RCX] = r[2];
    cpu->regs[X86_RDX] = r[3];
    return x86_jump(cpu, in, x86_next_rip(in));
}

/* ---- fast system calls ---- */

static void flat_seg(X86Seg *s, uint16_t sel, unsigned type, unsigned dpl, bool l, bool db)
{
    memset(s, 0, sizeof(*s));
    s->selector = sel;
    s->limit = 0xffffffff;
    s->type = (uint8_t)type;
    s->s = 1;
    s->dpl = (uint8_t)dpl;
    s->present = 1;
    s->l = l;
    s->db = db;
    s->g = 1;
}

static const XInsn *op_syscall(X86CPU *cpu, const XInsn *in)
{
    /* Intel: 64-bit mode only (the table entry is ONLY64). */
    if (!(cpu->efer & X86_EFER_SCE))
        return ud(cpu, in);
    uint16_t sel = (uint16_t)(cpu->star >> 32) & 0xfffc;
    cpu->regs[X86_RCX] = x86_next_rip(in);
    cpu->regs[X86_R11] = x86_eflags(cpu);
    x86_set_eflags(cpu, 0, (cpu->fmask & 0x3f7fd5) | X86_RF);
    flat_seg(&cpu->seg[X86_CS], sel, 11, 0, true, false);
    flat_seg(&cpu->seg[X86_SS], (uint16_t)(sel + 8), 3, 0, false, true);
    x86_update_hflags(cpu);
    return x86_jump(cpu, in, cpu->lstar);
}

static const XInsn *op_sysret(X86CPU *cpu, const XInsn *in)
{
    if (!(cpu->efer & X86_EFER_SCE))
        return ud(cpu, in);
    if (x86_cpl(cpu))
        return gp0(cpu, in);
    bool to64 = in->osize == 8;
    uint64_t rip = to64 ? cpu->regs[X86_RCX] : (uint32_t)cpu->regs[X86_RCX];
    if (!x86_canonical(rip))
        return gp0(cpu, in);
    uint16_t base = (uint16_t)(cpu->star >> 48);
    x86_set_eflags(cpu, (cpu->regs[X86_R11] & 0x3c7fd7) | 2, 0x3f7fd5 | X86_VIF | X86_VIP | X86_VM);
    if (to64)
        flat_seg(&cpu->seg[X86_CS], (uint16_t)((base + 16) | 3), 11, 3, true, false);
    else
        flat_seg(&cpu->seg[X86_CS], (uint16_t)(base | 3), 11, 3, false, true);
    flat_seg(&cpu->seg[X86_SS], (uint16_t)((base + 8) | 3), 3, 3, false, true);
    x86_update_hflags(cpu);
    return x86_jump(cpu, in, rip);
}

static const XInsn *op_sysenter(X86CPU *cpu, const XInsn *in)
{
    uint16_t cs = (uint16_t)cpu->sysenter_cs & 0xfffc;
    bool lma = cpu->efer & X86_EFER_LMA;
    if (!(cpu->cr0 & X86_CR0_PE) || !cs)
        return gp0(cpu, in);
    x86_set_eflags(cpu, 0, X86_VM | X86_IF | X86_RF);
    flat_seg(&cpu->seg[X86_CS], cs, 11, 0, lma, !lma);
    flat_seg(&cpu->seg[X86_SS], (uint16_t)(cs + 8), 3, 0, false, true);
    cpu->regs[X86_RSP] = lma ? cpu->sysenter_esp : (uint32_t)cpu->sysenter_esp;
    x86_update_hflags(cpu);
    return x86_jump(cpu, in, lma ? cpu->sysenter_eip : (uint32_t)cpu->sysenter_eip);
}

static const XInsn *op_sysexit(X86CPU *cpu, const XInsn *in)
{
    uint16_t cs = (uint16_t)cpu->sysenter_cs & 0xfffc;
    if (!(cpu->cr0 & X86_CR0_PE) || (cpu->hflags & X86_HF_VM) || !cs || x86_cpl(cpu))
        return gp0(cpu, in);
    bool to64 = in->osize == 8;
    uint64_t rip = to64 ? cpu->regs[X86_RDX] : (uint32_t)cpu->regs[X86_RDX];
    uint64_t rsp = to64 ? cpu->regs[X86_RCX] : (uint32_t)cpu->regs[X86_RCX];
    if (to64 && (!x86_canonical(rip) || !x86_canonical(rsp)))
        return gp0(cpu, in);
    uint16_t ncs = (uint16_t)((cs + (to64 ? 32 : 16)) | 3);
    flat_seg(&cpu->seg[X86_CS], ncs, 11, 3, to64, !to64);
    flat_seg(&cpu->seg[X86_SS], (uint16_t)(ncs + 8), 3, 3, false, true);
    cpu->regs[X86_RSP] = rsp;
    x86_update_hflags(cpu);
    return x86_jump(cpu, in, rip);
}

static const XInsn *op_swapgs(X86CPU *cpu, const XInsn *in)
{
    if (x86_cpl(cpu))
        return gp0(cpu, in);
    uint64_t t = cpu->seg[X86_GS].base;
    cpu->seg[X86_GS].base = cpu->kernel_gs_base;
    cpu->kernel_gs_base = t;
    X86_NEXT(cpu, in);
}

/* ---- the table ---- */

#define OP1(b) X86_OP(X86_MAP_1B, b)
#define OP2(b) X86_OP(X86_MAP_0F, b)
#define M X86_D_MODRM
#define E X86_D_END

const X86OpDef x86_ops_sys[] = {
    { .op = OP1(0x06), .reg = -1, .rm = -1, .flags = X86_D_NO64, .fn = op_push_es, .name = "push es" },
    { .op = OP1(0x07), .reg = -1, .rm = -1, .flags = X86_D_NO64 | E, .fn = op_pop_es, .name = "pop es" },
    { .op = OP1(0x0e), .reg = -1, .rm = -1, .flags = X86_D_NO64, .fn = op_push_cs, .name = "push cs" },
    { .op = OP1(0x16), .reg = -1, .rm = -1, .flags = X86_D_NO64, .fn = op_push_ss, .name = "push ss" },
    { .op = OP1(0x17), .reg = -1, .rm = -1, .flags = X86_D_NO64 | E, .fn = op_pop_ss, .name = "pop ss" },
    { .op = OP1(0x1e), .reg = -1, .rm = -1, .flags = X86_D_NO64, .fn = op_push_ds, .name = "push ds" },
    { .op = OP1(0x1f), .reg = -1, .rm = -1, .flags = X86_D_NO64 | E, .fn = op_pop_ds, .name = "pop ds" },
    { .op = OP1(0x63), .reg = -1, .rm = -1, .flags = M | X86_D_NO64 | X86_D_SIZE16, .fn = op_arpl, .name = "arpl" },
    { .op = OP1(0x6c), .reg = -1, .rm = -1, .flags = X86_D_BYTE | E, .fn = op_ins, .name = "insb" },
    { .op = OP1(0x6d), .reg = -1, .rm = -1, .flags = E, .fn = op_ins, .name = "ins" },
    { .op = OP1(0x6e), .reg = -1, .rm = -1, .flags = X86_D_BYTE | E, .fn = op_outs, .name = "outsb" },
    { .op = OP1(0x6f), .reg = -1, .rm = -1, .flags = E, .fn = op_outs, .name = "outs" },
    { .op = OP1(0x8c), .reg = -1, .rm = -1, .flags = M, .fn = op_mov_from_sreg, .name = "mov r/m, sreg" },
    { .op = OP1(0x8e), .reg = 0, .rm = -1, .flags = M | E, .fn = op_mov_to_sreg, .name = "mov es, r/m" },
    { .op = OP1(0x8e), .reg = 1, .rm = -1, .flags = M, .fn = op_mov_to_sreg, .name = "mov cs, r/m" },
    { .op = OP1(0x8e), .reg = 2, .rm = -1, .flags = M | E, .fn = op_mov_to_sreg, .name = "mov ss, r/m" },
    { .op = OP1(0x8e), .reg = 3, .rm = -1, .flags = M | E, .fn = op_mov_to_sreg, .name = "mov ds, r/m" },
    { .op = OP1(0x8e), .reg = 4, .rm = -1, .flags = M, .fn = op_mov_to_sreg, .name = "mov fs, r/m" },
    { .op = OP1(0x8e), .reg = 5, .rm = -1, .flags = M, .fn = op_mov_to_sreg, .name = "mov gs, r/m" },
    { .op = OP1(0x9a), .reg = -1, .rm = -1, .imm = X86_I_FAR, .flags = X86_D_NO64 | E, .fn = op_callf, .name = "call far" },
    { .op = OP1(0x9c), .reg = -1, .rm = -1, .flags = X86_D_DEF64, .fn = op_pushf, .name = "pushf" },
    { .op = OP1(0x9d), .reg = -1, .rm = -1, .flags = X86_D_DEF64 | E, .fn = op_popf, .name = "popf" },
    { .op = OP1(0xc4), .reg = -1, .rm = -1, .mod = X86_M_MEM, .flags = M | X86_D_NO64 | E, .fn = op_les, .name = "les" },
    { .op = OP1(0xc5), .reg = -1, .rm = -1, .mod = X86_M_MEM, .flags = M | X86_D_NO64 | E, .fn = op_lds, .name = "lds" },
    { .op = OP1(0xca), .reg = -1, .rm = -1, .imm = X86_I_W, .flags = E, .fn = op_retf, .name = "retf" },
    { .op = OP1(0xcb), .reg = -1, .rm = -1, .flags = E, .fn = op_retf, .name = "retf" },
    { .op = OP1(0xcc), .reg = -1, .rm = -1, .flags = E, .fn = op_int3, .name = "int3" },
    { .op = OP1(0xcd), .reg = -1, .rm = -1, .imm = X86_I_UB, .flags = E, .fn = op_int, .name = "int" },
    { .op = OP1(0xce), .reg = -1, .rm = -1, .flags = X86_D_NO64 | E, .fn = op_into, .name = "into" },
    { .op = OP1(0xcf), .reg = -1, .rm = -1, .flags = E, .fn = op_iret, .name = "iret" },
    { .op = OP1(0xe4), .reg = -1, .rm = -1, .imm = X86_I_UB, .flags = X86_D_BYTE | E, .fn = op_in_imm, .name = "in al, ib" },
    { .op = OP1(0xe5), .reg = -1, .rm = -1, .imm = X86_I_UB, .flags = E, .fn = op_in_imm, .name = "in eax, ib" },
    { .op = OP1(0xe6), .reg = -1, .rm = -1, .imm = X86_I_UB, .flags = X86_D_BYTE | E, .fn = op_out_imm, .name = "out ib, al" },
    { .op = OP1(0xe7), .reg = -1, .rm = -1, .imm = X86_I_UB, .flags = E, .fn = op_out_imm, .name = "out ib, eax" },
    { .op = OP1(0xea), .reg = -1, .rm = -1, .imm = X86_I_FAR, .flags = X86_D_NO64 | E, .fn = op_jmpf, .name = "jmp far" },
    { .op = OP1(0xec), .reg = -1, .rm = -1, .flags = X86_D_BYTE | E, .fn = op_in_dx, .name = "in al, dx" },
    { .op = OP1(0xed), .reg = -1, .rm = -1, .flags = E, .fn = op_in_dx, .name = "in eax, dx" },
    { .op = OP1(0xee), .reg = -1, .rm = -1, .flags = X86_D_BYTE | E, .fn = op_out_dx, .name = "out dx, al" },
    { .op = OP1(0xef), .reg = -1, .rm = -1, .flags = E, .fn = op_out_dx, .name = "out dx, eax" },
    { .op = OP1(0xf1), .reg = -1, .rm = -1, .flags = E, .fn = op_int1, .name = "int1" },
    { .op = OP1(0xf4), .reg = -1, .rm = -1, .flags = E, .fn = op_hlt, .name = "hlt" },
    { .op = OP1(0xfa), .reg = -1, .rm = -1, .flags = E, .fn = op_cli, .name = "cli" },
    { .op = OP1(0xfb), .reg = -1, .rm = -1, .flags = E, .fn = op_sti, .name = "sti" },
    { .op = OP1(0xff), .reg = 3, .rm = -1, .mod = X86_M_MEM, .flags = M | E, .fn = op_callf_m, .name = "call far m" },
    { .op = OP1(0xff), .reg = 5, .rm = -1, .mod = X86_M_MEM, .flags = M | E, .fn = op_jmpf_m, .name = "jmp far m" },

    { .op = OP2(0x00), .reg = 0, .rm = -1, .flags = M, .fn = op_sldt, .name = "sldt" },
    { .op = OP2(0x00), .reg = 1, .rm = -1, .flags = M, .fn = op_str, .name = "str" },
    { .op = OP2(0x00), .reg = 2, .rm = -1, .flags = M | E, .fn = op_lldt, .name = "lldt" },
    { .op = OP2(0x00), .reg = 3, .rm = -1, .flags = M | E, .fn = op_ltr, .name = "ltr" },
    { .op = OP2(0x00), .reg = 4, .rm = -1, .flags = M, .fn = op_verr, .name = "verr" },
    { .op = OP2(0x00), .reg = 5, .rm = -1, .flags = M, .fn = op_verw, .name = "verw" },
    { .op = OP2(0x01), .reg = 0, .rm = -1, .mod = X86_M_MEM, .flags = M, .fn = op_sgdt, .name = "sgdt" },
    { .op = OP2(0x01), .reg = 1, .rm = -1, .mod = X86_M_MEM, .flags = M, .fn = op_sidt, .name = "sidt" },
    { .op = OP2(0x01), .reg = 2, .rm = -1, .mod = X86_M_MEM, .flags = M | E, .fn = op_lgdt, .name = "lgdt" },
    { .op = OP2(0x01), .reg = 3, .rm = -1, .mod = X86_M_MEM, .flags = M | E, .fn = op_lidt, .name = "lidt" },
    { .op = OP2(0x01), .reg = 4, .rm = -1, .flags = M, .fn = op_smsw, .name = "smsw" },
    { .op = OP2(0x01), .reg = 6, .rm = -1, .flags = M | E, .fn = op_lmsw, .name = "lmsw" },
    { .op = OP2(0x01), .reg = 7, .rm = -1, .mod = X86_M_MEM, .flags = M | E, .fn = op_invlpg, .name = "invlpg" },
    { .op = OP2(0x01), .reg = 7, .rm = 0, .mod = X86_M_REG, .flags = M | X86_D_ONLY64, .fn = op_swapgs, .name = "swapgs" },
    { .op = OP2(0x01), .reg = 7, .rm = 1, .mod = X86_M_REG, .flags = M, .fn = op_rdtscp, .name = "rdtscp" },
    { .op = OP2(0x02), .reg = -1, .rm = -1, .flags = M, .fn = op_lar, .name = "lar" },
    { .op = OP2(0x03), .reg = -1, .rm = -1, .flags = M, .fn = op_lsl, .name = "lsl" },
    { .op = OP2(0x05), .reg = -1, .rm = -1, .flags = X86_D_ONLY64 | E, .fn = op_syscall, .name = "syscall" },
    { .op = OP2(0x06), .reg = -1, .rm = -1, .flags = E, .fn = op_clts, .name = "clts" },
    { .op = OP2(0x07), .reg = -1, .rm = -1, .flags = X86_D_ONLY64 | E, .fn = op_sysret, .name = "sysret" },
    { .op = OP2(0x08), .reg = -1, .rm = -1, .flags = 0, .fn = op_invd, .name = "invd" },
    { .op = OP2(0x09), .reg = -1, .rm = -1, .flags = 0, .fn = op_invd, .name = "wbinvd" },
    { .op = OP2(0x20), .reg = -1, .rm = -1, .flags = M | X86_D_F64, .fn = op_mov_from_cr, .name = "mov r, cr" },
    { .op = OP2(0x21), .reg = -1, .rm = -1, .flags = M | X86_D_F64, .fn = op_mov_from_dr, .name = "mov r, dr" },
    { .op = OP2(0x22), .reg = -1, .rm = -1, .flags = M | X86_D_F64 | E, .fn = op_mov_to_cr, .name = "mov cr, r" },
    { .op = OP2(0x23), .reg = -1, .rm = -1, .flags = M | X86_D_F64 | E, .fn = op_mov_to_dr, .name = "mov dr, r" },
    { .op = OP2(0x30), .reg = -1, .rm = -1, .flags = E, .fn = op_wrmsr, .name = "wrmsr" },
    { .op = OP2(0x31), .reg = -1, .rm = -1, .flags = 0, .fn = op_rdtsc, .name = "rdtsc" },
    { .op = OP2(0x32), .reg = -1, .rm = -1, .flags = 0, .fn = op_rdmsr, .name = "rdmsr" },
    { .op = OP2(0x33), .reg = -1, .rm = -1, .flags = 0, .fn = op_rdpmc, .name = "rdpmc" },
    { .op = OP2(0x34), .reg = -1, .rm = -1, .flags = E, .fn = op_sysenter, .name = "sysenter" },
    { .op = OP2(0x35), .reg = -1, .rm = -1, .flags = E, .fn = op_sysexit, .name = "sysexit" },
    { .op = OP2(0xa0), .reg = -1, .rm = -1, .flags = X86_D_DEF64, .fn = op_push_fs, .name = "push fs" },
    { .op = OP2(0xa1), .reg = -1, .rm = -1, .flags = X86_D_DEF64, .fn = op_pop_fs, .name = "pop fs" },
    { .op = OP2(0xa2), .reg = -1, .rm = -1, .flags = E, .fn = op_cpuid, .name = "cpuid" },
    { .op = OP2(0xa8), .reg = -1, .rm = -1, .flags = X86_D_DEF64, .fn = op_push_gs, .name = "push gs" },
    { .op = OP2(0xa9), .reg = -1, .rm = -1, .flags = X86_D_DEF64, .fn = op_pop_gs, .name = "pop gs" },
    { .op = OP2(0xb2), .reg = -1, .rm = -1, .mod = X86_M_MEM, .flags = M | E, .fn = op_lss, .name = "lss" },
    { .op = OP2(0xb4), .reg = -1, .rm = -1, .mod = X86_M_MEM, .flags = M, .fn = op_lfs, .name = "lfs" },
    { .op = OP2(0xb5), .reg = -1, .rm = -1, .mod = X86_M_MEM, .flags = M, .fn = op_lgs, .name = "lgs" },
    { 0 },
};
