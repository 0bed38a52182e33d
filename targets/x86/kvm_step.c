/* Can the next instruction be single-stepped on KVM, counted, without the
 * guest noticing?  (kvm_step.h)
 *
 * Single-stepping on KVM sets EFLAGS.TF in the real guest.  An instruction
 * that delivers an event through the IDT (a fault, INT n, SYSCALL...)
 * pushes that TF into the guest's exception frame and runs the handler
 * with TF clear, so the handler's instructions go uncounted and the guest
 * can see the flag.  PUSHF would push it too.  So an instruction goes to
 * KVM only when it cannot raise anything: a white list of instruction
 * families whose possible faults are all checked here beforehand, from
 * the interpreter's own decoder and page walk (without side effects):
 * the fetch, every memory operand (segment checks, canonical form, page
 * permissions for the access; conservatively as a write where the
 * instruction may write), the stack for pushes and pops, the whole
 * remaining range of a REP string instruction, the branch target's
 * canonical form or CS limit, CR0.EM/TS, CR4.OSFXSR and the FPU/SSE
 * exception masks.  Anything else (system instructions, I/O without
 * I/O privilege, divisions, far transfers, RDTSC, segment loads, flag
 * changes that touch TF/IF, x87 environment loads) is the interpreter's.
 *
 * The plan also says where the step may end (the fall-through, a direct
 * branch's target, the computed target of RET and indirect branches), so
 * that a step that ends elsewhere (an event this file failed to predict)
 * is reported instead of silently miscounted. */
#include "targets/x86/kvm_step.h"

#include <string.h>

#include "targets/x86/mem.h"

enum { BR_NONE, BR_DIRECT, BR_RET, BR_INDIRECT };

/* What the white list says of an instruction. */
typedef struct Class {
    const char *no;          /* non-NULL: the interpreter's, and why */
    uint8_t modrm;           /* 0: no memory operand access; 1 read; 2 write */
    uint8_t msize;           /* its size, 0: the operand size */
    uint8_t push, pop;       /* implicit stack bytes (0xff: the operand size) */
    uint8_t br;              /* BR_* */
    bool cond;               /* conditional branch (brcount) */
    bool str;                /* string instruction */
    bool fpu, sse;           /* x87/MMX, SSE: the FPU checks apply */
    bool io;                 /* IN/OUT: I/O privilege */
} Class;

#define NO(why) ((Class){ .no = (why) })

/* ModRM.reg as an opcode extension (/digit): undo the decoder's byte
 * register mapping (AH..BH) of byte-operand forms. */
static unsigned digit(const XInsn *in)
{
    unsigned r = in->reg;
    if (r >= X86_AH)
        r = r - X86_AH + 4;
    return r & 7;
}
#define OSZ 0xff

static Class classify_1b(const XInsn *in, bool cs64)
{
    unsigned b = in->op & 0xff, r = digit(in);
    bool mem = in->mod != 3 && (in->dflags & X86_D_MODRM);
    if (b < 0x40 && (b & 7) < 6) {
        /* ALU ops: r/m destination for the first two, CMP only reads. */
        if ((b & 7) >= 4)
            return (Class){ 0 };
        bool cmp = (b & 0x38) == 0x38;
        return (Class){ .modrm = (uint8_t)(mem ? ((b & 2) || cmp ? 1 : 2) : 0) };
    }
    switch (b) {
    case 0x27: case 0x2f: case 0x37: case 0x3f:         /* DAA DAS AAA AAS */
    case 0x40 ... 0x4f:                                  /* INC/DEC r (32-bit) */
    case 0x90 ... 0x99:                                  /* XCHG, NOP, PAUSE, CBW, CWD */
    case 0x9e: case 0x9f:                                /* SAHF LAHF */
    case 0xa8: case 0xa9: case 0xb0 ... 0xbf:            /* TEST imm, MOV imm */
    case 0xd5:                                           /* AAD */
    case 0xf5: case 0xf8: case 0xf9: case 0xfc: case 0xfd: /* CMC CLC STC CLD STD */
        return (Class){ 0 };
    case 0x50 ... 0x57: case 0x68: case 0x6a:
        return (Class){ .push = OSZ };
    case 0x58 ... 0x5f:
        return (Class){ .pop = OSZ };
    case 0x63:                                           /* MOVSXD (ARPL: 32-bit) */
        if (!cs64)
            return NO("ARPL");
        return (Class){ .modrm = (uint8_t)(mem ? 1 : 0), .msize = 4 };
    case 0x69: case 0x6b:
        return (Class){ .modrm = (uint8_t)(mem ? 1 : 0) };
    case 0x70 ... 0x7f: case 0xe0 ... 0xe3:
        return (Class){ .br = BR_DIRECT, .cond = true };
    case 0x80 ... 0x83:
        return (Class){ .modrm = (uint8_t)(mem ? (r == 7 ? 1 : 2) : 0) };
    case 0x84: case 0x85:
        return (Class){ .modrm = (uint8_t)(mem ? 1 : 0) };
    case 0x86 ... 0x89:
        return (Class){ .modrm = (uint8_t)(mem ? 2 : 0) };
    case 0x8a: case 0x8b:
        return (Class){ .modrm = (uint8_t)(mem ? 1 : 0) };
    case 0x8c:
        return (Class){ .modrm = (uint8_t)(mem ? 2 : 0), .msize = 2 };
    case 0x8d:
        return (Class){ 0 };                             /* LEA: no access */
    case 0xa0: case 0xa1:
        return (Class){ .modrm = 1 };
    case 0xa2: case 0xa3:
        return (Class){ .modrm = 2 };
    case 0xa4: case 0xa5: case 0xa6: case 0xa7:
    case 0xaa ... 0xaf:
        return (Class){ .str = true };
    case 0xc0: case 0xc1: case 0xd0 ... 0xd3:
        return (Class){ .modrm = (uint8_t)(mem ? 2 : 0) };
    case 0xc2: case 0xc3:
        return (Class){ .pop = OSZ, .br = BR_RET };
    case 0xc6: case 0xc7:
        if (r != 0)
            return NO("XABORT/XBEGIN");
        return (Class){ .modrm = (uint8_t)(mem ? 2 : 0) };
    case 0xd8 ... 0xdf:
        /* x87: where a non-control instruction leaves FIP, FCS, FDP, FDS
         * and FOP is implementation-specific (AMD stores them only with an
         * exception pending, recent Intel CPUs never store FCS/FDS, QEMU's
         * TCG CPUs each their own way), and FSTENV/FSAVE/FXSAVE show them
         * to the guest: the interpreter keeps its model of them. */
        return NO("x87 instruction (last-instruction pointers)");
    case 0x9b:                                           /* FWAIT */
        return (Class){ .fpu = true };
    case 0xe4 ... 0xe7: case 0xec ... 0xef:
        return (Class){ .io = true };
    case 0xe8:
        return (Class){ .push = OSZ, .br = BR_DIRECT };
    case 0xe9: case 0xeb:
        return (Class){ .br = BR_DIRECT };
    case 0xf6: case 0xf7:
        if (r >= 6)
            return NO("DIV/IDIV (#DE)");
        return (Class){ .modrm = (uint8_t)(mem ? (r == 2 || r == 3 ? 2 : 1) : 0) };
    case 0xfe:
        if (r > 1)
            return NO("undefined FE form");
        return (Class){ .modrm = (uint8_t)(mem ? 2 : 0) };
    case 0xff:
        switch (r) {
        case 0: case 1:
            return (Class){ .modrm = (uint8_t)(mem ? 2 : 0) };
        case 2:
            return (Class){ .modrm = (uint8_t)(mem ? 1 : 0), .push = OSZ, .br = BR_INDIRECT };
        case 4:
            return (Class){ .modrm = (uint8_t)(mem ? 1 : 0), .br = BR_INDIRECT };
        case 6:
            return (Class){ .modrm = (uint8_t)(mem ? 1 : 0), .push = OSZ };
        default:
            return NO("far CALL/JMP");
        }
    default:
        return NO("system, far, flag, segment, interrupt or string-I/O instruction");
    }
}

static Class classify_0f(const XInsn *in)
{
    unsigned b = in->op & 0xff, r = digit(in);
    bool mem = in->mod != 3 && (in->dflags & X86_D_MODRM);
    switch (b) {
    case 0x18 ... 0x1f:                                  /* hint NOPs, PREFETCHh */
    case 0xc8 ... 0xcf:                                  /* BSWAP */
        return (Class){ 0 };
    case 0xa2:                                           /* CPUID: KVM has our model */
        return (Class){ 0 };
    case 0x40 ... 0x4f: case 0xaf: case 0xb6: case 0xb7: case 0xbe: case 0xbf:
    case 0xb8: case 0xbc: case 0xbd:
        return (Class){ .modrm = (uint8_t)(mem ? 1 : 0),
                        .msize = (uint8_t)(b == 0xb6 || b == 0xbe ? 1
                                           : b == 0xb7 || b == 0xbf ? 2 : 0) };
    case 0x80 ... 0x8f:
        return (Class){ .br = BR_DIRECT, .cond = true };
    case 0x90 ... 0x9f:
        return (Class){ .modrm = (uint8_t)(mem ? 2 : 0), .msize = 1 };
    case 0xa3: case 0xab: case 0xb3: case 0xbb:
        /* BT* with a register bit offset reach anywhere from the operand. */
        if (mem)
            return NO("BT with a register offset into memory");
        return (Class){ 0 };
    case 0xba:
        if (r < 4)
            return NO("undefined 0F BA form");
        return (Class){ .modrm = (uint8_t)(mem ? (r == 4 ? 1 : 2) : 0) };
    case 0xa4: case 0xa5: case 0xac: case 0xad: case 0xb0: case 0xb1: case 0xc0: case 0xc1:
        return (Class){ .modrm = (uint8_t)(mem ? 2 : 0) };
    case 0xae:
        if (!mem && r >= 5)
            return (Class){ 0 };                         /* LFENCE MFENCE SFENCE */
        return NO("FXSAVE/FXRSTOR/LDMXCSR/XSAVE/CLFLUSH");
    case 0x77:
        return (Class){ .fpu = true };                   /* EMMS */
    case 0x10 ... 0x17: case 0x28 ... 0x2f: case 0x50 ... 0x76: case 0x7c ... 0x7f:
    case 0xc2 ... 0xc6: case 0xd0 ... 0xfe:
        if (b == 0xf7)
            return NO("MASKMOVQ/MASKMOVDQU (implicit DS:RDI)");
        if (b == 0xc3)                                   /* MOVNTI */
            return (Class){ .modrm = (uint8_t)(mem ? 2 : 0) };
        return (Class){ .modrm = (uint8_t)(mem ? 2 : 0), .msize = 16, .sse = true };
    default:
        return NO("system or undefined 0F instruction");
    }
}

static Class classify(const XInsn *in, bool cs64)
{
    if (in->fn == x86_ud || in->len >= 15)
        return NO("undefined or over-long encoding");
    if (in->pfx & X86_P_VEX)
        return NO("VEX-encoded");
    switch (in->op >> 8) {
    case X86_MAP_1B:
        return classify_1b(in, cs64);
    case X86_MAP_0F:
        return classify_0f(in);
    case X86_MAP_0F38: {
        unsigned b = in->op & 0xff;
        bool mem = in->mod != 3;
        if (b == 0xf0 || b == 0xf1) {                    /* MOVBE, CRC32 */
            bool st = b == 0xf1 && !(in->pfx & X86_P_REPNE);
            return (Class){ .modrm = (uint8_t)(mem ? (st ? 2 : 1) : 0) };
        }
        return (Class){ .modrm = (uint8_t)(mem ? 2 : 0), .msize = 16, .sse = true };
    }
    case X86_MAP_0F3A:
        return (Class){ .modrm = (uint8_t)(in->mod != 3 ? 2 : 0), .msize = 16, .sse = true };
    }
    return NO("unknown opcode map");
}

/* ---- the checks ---- */

static uint64_t asize_mask(unsigned asize)
{
    return asize == 8 ? ~0ull : asize == 4 ? 0xffffffffull : 0xffffull;
}

static uint64_t ip_mask(const X86CPU *cpu)
{
    return (cpu->hflags & X86_HF_CS64) ? ~0ull
         : (cpu->hflags & X86_HF_CS32) ? 0xffffffffull : 0xffffull;
}

static uint64_t lin_of(const X86CPU *cpu, int seg, uint64_t ea)
{
    if (cpu->hflags & X86_HF_CS64)
        return (seg == X86_FS || seg == X86_GS ? cpu->seg[seg].base : 0) + ea;
    return (uint32_t)(cpu->seg[seg].base + ea);
}

static bool pages_ok(X86CPU *cpu, uint64_t lin, uint64_t size, X86Access acc)
{
    bool user = x86_cpl(cpu) == 3;
    uint64_t pa;
    uint64_t last = lin + size - 1;
    for (uint64_t p = lin & ~0xfffull;; p += 4096) {
        if (x86_translate_probe(cpu, p < lin ? lin : p, acc, user, &pa))
            return false;
        if ((p | 0xfff) >= last)
            return true;
    }
}

/* [ea, ea + size) through segment seg: false if any check of the segment,
 * the canonical form, alignment or the page walk would fault. */
static bool access_ok(X86CPU *cpu, int seg, uint64_t ea, uint64_t size, bool write)
{
    uint64_t lin;
    if (size == 0)
        return true;
    if (x86_ac_on(cpu))
        return false;
    if (cpu->hflags & X86_HF_CS64) {
        lin = lin_of(cpu, seg, ea);
        if (!x86_canonical(lin) || !x86_canonical(lin + size - 1) || lin + size - 1 < lin)
            return false;
    } else {
        const X86Seg *s = &cpu->seg[seg];
        if ((cpu->hflags & X86_HF_PE) && !(cpu->hflags & X86_HF_VM)) {
            if (s->unusable || !s->present)
                return false;
            if (s->type & 8) {
                if (write || !(s->type & 2))
                    return false;
            } else if ((write && !(s->type & 2)) || (s->type & 4)) {
                return false;                    /* read-only, or expand-down */
            }
        }
        if (ea + size - 1 > s->limit || ea + size - 1 < ea)
            return false;
        lin = (uint32_t)(s->base + ea);
        if ((uint64_t)lin + size - 1 > 0xffffffffull)
            return false;
    }
    return pages_ok(cpu, lin, size, write ? X86_ACC_WRITE : X86_ACC_READ);
}

static uint64_t modrm_ea(const X86CPU *cpu, const XInsn *in)
{
    uint64_t ea = (uint64_t)in->disp;
    if (in->base != X86_NONE)
        ea += cpu->regs[in->base];
    if (in->index != X86_NONE)
        ea += cpu->regs[in->index] << in->scale;
    return ea & asize_mask(in->asize);
}

/* Read size bytes (<= 8) of guest memory at seg:ea (already checked),
 * as the debugger reads it. */
static bool read_mem(X86CPU *cpu, int seg, uint64_t ea, unsigned size, uint64_t *val)
{
    uint8_t b[8] = { 0 };
    if (!x86_debug_read(cpu, lin_of(cpu, seg, ea), b, size))
        return false;
    *val = 0;
    for (unsigned i = 0; i < size; i++)
        *val |= (uint64_t)b[i] << (8 * i);
    return true;
}

static bool target_ok(const X86CPU *cpu, uint64_t t)
{
    if (cpu->hflags & X86_HF_CS64)
        return x86_canonical(t);
    return t <= cpu->seg[X86_CS].limit;
}

/* The instruction bytes at CS:RIP, checked as fetches, decoded. */
static const char *fetch(X86CPU *cpu, XInsn *in)
{
    bool cs64 = cpu->hflags & X86_HF_CS64;
    uint64_t rip = cpu->rip;
    uint64_t lin = cs64 ? rip : (uint32_t)(cpu->seg[X86_CS].base + rip);
    uint8_t bytes[16];
    unsigned have = 0;
    for (;;) {
        uint64_t l = lin + have, pa;
        if (!cs64 && rip + have > cpu->seg[X86_CS].limit)
            return "instruction beyond the CS limit";
        if (cs64 && !x86_canonical(l))
            return "non-canonical RIP";
        if (x86_translate_probe(cpu, l, X86_ACC_EXEC, x86_cpl(cpu) == 3, &pa))
            return "instruction fetch would fault";
        unsigned n = 4096 - (unsigned)(l & 0xfff);
        if (n > 15 - have)
            n = 15 - have;
        const uint8_t *h = as_host_ptr(cpu->as, pa, n);
        if (!h)
            return "code outside RAM/ROM";
        memcpy(bytes + have, h, n);
        have += n;
        unsigned len = x86_decode(in, bytes, have, rip, cpu->hflags);
        if (len) {
            if (!cs64 && rip + len - 1 > cpu->seg[X86_CS].limit)
                return "instruction beyond the CS limit";
            return NULL;
        }
        if (have >= 15)
            return "undecodable instruction";
    }
}

static const char *check_fpu(const X86CPU *cpu, const Class *c)
{
    if (cpu->cr0 & (X86_CR0_EM | X86_CR0_TS))
        return "FPU/SSE instruction with CR0.EM or CR0.TS (#NM/#UD)";
    if ((cpu->fpu.fcw & 0x3f) != 0x3f || (cpu->fpu.fsw & 0x80))
        return "x87 exceptions unmasked or pending (#MF)";
    if (c->sse) {
        if (!(cpu->cr4 & X86_CR4_OSFXSR))
            return "SSE without CR4.OSFXSR (#UD)";
        if ((cpu->fpu.mxcsr & 0x1f80) != 0x1f80)
            return "SIMD exceptions unmasked (#XM)";
    }
    return NULL;
}

const char *x86_kvm_step_plan(X86CPU *cpu, X86StepPlan *p)
{
    memset(p, 0, sizeof(*p));
    XInsn *in = &p->in;
    uint64_t fl = x86_eflags(cpu);
    if (fl & (X86_TF | X86_VM))
        return "EFLAGS.TF or virtual-8086 mode";
    if (cpu->dr[7] & 0xff)
        return "the guest's own debug breakpoints are enabled";
    const char *why = fetch(cpu, in);
    if (why)
        return why;
    /* PAUSE exits to KVM (pause filtering), which skips it; QEMU TCG's
     * nested SVM (the harness) then runs one more instruction before the
     * single-step trap.  A hint only: the interpreter runs it. */
    if ((in->op & 0xff) == 0x90 && (in->op >> 8) == 0 && (in->pfx & X86_P_REP))
        return "PAUSE (a VM exit)";
    Class c = classify(in, cpu->hflags & X86_HF_CS64);
    if (c.no)
        return c.no;
    if ((c.fpu || c.sse) && (why = check_fpu(cpu, &c)))
        return why;
    if (c.io && (cpu->hflags & X86_HF_PE) && x86_cpl(cpu) > ((fl >> 12) & 3))
        return "I/O without I/O privilege (the TSS bitmap decides)";

    unsigned os = in->osize;
    if (c.modrm) {
        unsigned size = c.msize ? c.msize : os;
        uint64_t ea = (in->dflags & X86_D_MODRM) || in->base != X86_NONE ||
                              in->index != X86_NONE || in->disp
                          ? modrm_ea(cpu, in) : 0;
        if (c.sse && c.msize == 16) {
            /* Aligned forms fault on misalignment; check all as aligned. */
            if (lin_of(cpu, in->seg, ea) & 15)
                return "misaligned SSE memory operand";
        }
        if (!access_ok(cpu, in->seg, ea, size, c.modrm == 2))
            return "memory operand would fault";
    }
    uint64_t spm = x86_sp_mask(cpu), sp = cpu->regs[X86_RSP] & spm;
    if (c.push) {
        unsigned n = c.push == OSZ ? os : c.push;
        if (!access_ok(cpu, X86_SS, (sp - n) & spm, n, true))
            return "stack push would fault";
    }
    if (c.pop) {
        unsigned n = c.pop == OSZ ? os : c.pop;
        if (!access_ok(cpu, X86_SS, sp, n, false))
            return "stack pop would fault";
    }
    if (c.str) {
        unsigned b = in->op & 0xff, sz = os;
        uint64_t am = asize_mask(in->asize);
        bool rep = in->pfx & (X86_P_REP | X86_P_REPNE);
        uint64_t cnt = rep ? cpu->regs[X86_RCX] & am : 1;
        if (cnt > 65536 / sz)
            return "long REP string instruction";
        uint64_t span = cnt * sz;
        bool down = fl & X86_DF;
        bool src = b == 0xa4 || b == 0xa5 || b == 0xa6 || b == 0xa7 || b == 0xac || b == 0xad;
        bool dst = !(b == 0xac || b == 0xad);
        bool dst_w = b == 0xa4 || b == 0xa5 || b == 0xaa || b == 0xab;
        if (cnt) {
            uint64_t si = cpu->regs[X86_RSI] & am, di = cpu->regs[X86_RDI] & am;
            uint64_t slo = down ? (si - (span - sz)) & am : si;
            uint64_t dlo = down ? (di - (span - sz)) & am : di;
            if (src && !access_ok(cpu, in->seg, slo, span, false))
                return "string source would fault";
            if (dst && !access_ok(cpu, X86_ES, dlo, span, dst_w))
                return "string destination would fault";
        }
        p->rep = rep;
    }

    /* Where the step may end. */
    uint64_t ipm = ip_mask(cpu);
    uint64_t next = (in->pc + in->len) & ipm;
    p->cond = c.cond;
    switch (c.br) {
    case BR_NONE:
        p->next[p->nnext++] = next;
        if (p->rep)
            p->next[p->nnext++] = in->pc;
        break;
    case BR_DIRECT:
        if (!target_ok(cpu, in->imm))
            return "branch target would fault";
        p->next[p->nnext++] = in->imm;
        if (c.cond)
            p->next[p->nnext++] = next;
        break;
    case BR_RET:
    case BR_INDIRECT: {
        uint64_t t;
        if (c.br == BR_RET) {
            if (!read_mem(cpu, X86_SS, sp, os, &t))
                return "return address unreadable";
        } else if (in->mod == 3) {
            t = cpu->regs[in->rm];
        } else if (!read_mem(cpu, in->seg, modrm_ea(cpu, in), os, &t)) {
            return "branch target unreadable";
        }
        t &= os == 8 ? ~0ull : os == 4 ? 0xffffffffull : 0xffffull;
        if (!target_ok(cpu, t))
            return "branch target would fault";
        p->next[p->nnext++] = t;
        break;
    }
    }
    return NULL;
}

bool x86_kvm_step_always_safe(X86CPU *cpu, uint64_t rip)
{
    uint64_t saved = cpu->rip;
    X86StepPlan p;
    cpu->rip = rip;
    const char *why = x86_kvm_step_plan(cpu, &p);
    cpu->rip = saved;
    if (why)
        return false;
    Class c = classify(&p.in, cpu->hflags & X86_HF_CS64);
    return !c.no && !c.modrm && !c.push && !c.pop && !c.str && !c.fpu && !c.sse && !c.io &&
           (c.br == BR_NONE || c.br == BR_DIRECT);
}

bool x86_kvm_step_expected(const X86StepPlan *p, uint64_t rip)
{
    for (int i = 0; i < p->nnext; i++)
        if (p->next[i] == rip)
            return true;
    return false;
}
