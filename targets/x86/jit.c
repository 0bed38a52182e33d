/* The x86 code generator (jit.h): a hot block of 64-bit guest code
 * becomes one function of x86-64 host code.
 *
 * What the generated code does is what the block's handlers would do,
 * instruction by instruction, with the same state at every point where
 * anything outside can look:
 *   - Guest registers stay in cpu->regs; each instruction loads its
 *     operands and stores its results.  What goes away is the dispatch
 *     between instructions, the operand decoding, and the lazy-flag
 *     stores that a later instruction of the same straight stretch
 *     overwrites before anything could read them (flags_plan).
 *   - Instructions generated inline are the register and flat-memory
 *     forms of the specialised handlers (exec_fast.c: MOV, LEA, MOVSX/ZX,
 *     ALU, shifts by a constant, IMUL, CMOVcc, NOT/NEG, NOP, PUSH/POP)
 *     and the block's ending Jcc/JMP.  They compute exactly what those handlers
 *     compute, lazy flag operands included (snapshots hold them).
 *   - A memory access that misses the software TLB or is unaligned, and
 *     every other instruction, calls the instruction's own handler on a
 *     private copy of it followed by a sentinel (JitPair): the handler
 *     runs that one instruction and comes back, or leaves the block (a
 *     fault, x86_raise, with icount fixed by the copy's rem), and the
 *     generated code then returns what it returned.
 *   - A store into the running block (stop_running) sets
 *     X86ChainCache.stopped; the code checks it after every handler call
 *     and leaves before the next instruction as stop_here would.
 *   - A block that ends with a branch back to its own start loops inside
 *     its code while the run loop would chain it (the budget, pending
 *     interrupts, exit requests: x86_jump_chain's conditions), adding
 *     its length to icount on each pass; other exits go through
 *     x86_jump_chain like the handlers'.
 *
 * Host registers: rbx = cpu, r12 = the TLB of the block's privilege
 * (cpu->tlb[user]), r14 = cpu->m, r15 = a value kept across a helper
 * call; rax rcx rdx rsi rdi are scratch. */
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

#include <glib.h>

#include "targets/x86/exec.h"
#include "targets/x86/flags.h"
#include "targets/x86/jit.h"

#if defined(__x86_64__)

#define JIT_SIZE ((size_t)32 << 20)
/* Room one block can need at most: 64 instructions, each at most a
 * couple of hundred bytes of code plus its slow path and a JitPair. */
#define JIT_BLOCK_MAX ((size_t)64 * 1024)

typedef struct Jit {
    uint8_t *buf;
    size_t used;
} Jit;

/* A handler's private copy of one instruction and what it continues
 * with: X86_NEXT on the copy calls the sentinel, which returns itself. */
typedef struct JitPair {
    XInsn insn;
    XInsn sentinel;
} JitPair;

static const XInsn *jit_sentinel(X86CPU *cpu, const XInsn *in)
{
    (void)cpu;
    return in;
}

/* stop_here (engine.c): the instruction does not run, nor the rest. */
static const XInsn *jit_stop(X86CPU *cpu, const XInsn *in)
{
    cpu->icount -= in->rem + 1u;
    cpu->rip = in->pc;
    return NULL;
}

static const XInsn *jit_chain(X86CPU *cpu, const XInsn *in, uint64_t target)
{
    return x86_jump_chain(cpu, in, target, true);
}

bool x86_jit_supported(void)
{
    return true;
}

void *x86_jit_new(void)
{
    void *p = mmap(NULL, JIT_SIZE, PROT_READ | PROT_WRITE | PROT_EXEC,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    Jit *j = g_new0(Jit, 1);
    j->buf = p;
    return j;
}

void x86_jit_free(void *jit)
{
    Jit *j = jit;
    if (!j)
        return;
    munmap(j->buf, JIT_SIZE);
    g_free(j);
}

void x86_jit_reset(void *jit)
{
    Jit *j = jit;
    if (j)
        j->used = 0;
}

bool x86_jit_full(void *jit)
{
    const Jit *j = jit;
    return j->used + JIT_BLOCK_MAX > JIT_SIZE;
}


/* ---- assembler ---- */

enum { RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI, R8, R9, R10, R11, R12, R13, R14, R15 };
/* Host condition codes are the guest's (the same encoding). */
enum { CC_O, CC_NO, CC_B, CC_AE, CC_E, CC_NE, CC_BE, CC_A, CC_S, CC_NS, CC_P, CC_NP,
       CC_L, CC_GE, CC_LE, CC_G };

typedef struct Asm {
    uint8_t *start, *p, *end;
} Asm;

static void b1(Asm *a, unsigned x)
{
    if (a->p < a->end)
        *a->p = (uint8_t)x;
    a->p++;
}

static void b4(Asm *a, uint32_t x)
{
    for (int i = 0; i < 4; i++)
        b1(a, (x >> (8 * i)) & 0xff);
}

static void b8(Asm *a, uint64_t x)
{
    b4(a, (uint32_t)x);
    b4(a, (uint32_t)(x >> 32));
}

static void rex(Asm *a, bool w, unsigned r, unsigned x, unsigned b)
{
    unsigned v = 0x40 | (w ? 8 : 0) | ((r >> 3) & 1) << 2 | ((x >> 3) & 1) << 1 | ((b >> 3) & 1);
    if (v != 0x40)
        b1(a, v);
}

/* opcode bytes: up to 3, given as 0x0fxx / 0xxx */
static void opc(Asm *a, unsigned op)
{
    if (op > 0xff)
        b1(a, op >> 8);
    b1(a, op & 0xff);
}

/* op reg, [base + disp32] */
static void op_m(Asm *a, bool w, unsigned op, unsigned reg, unsigned base, int32_t disp)
{
    rex(a, w, reg, 0, base);
    opc(a, op);
    b1(a, 0x80 | (reg & 7) << 3 | (base & 7));
    if ((base & 7) == 4)
        b1(a, 0x24);
    b4(a, (uint32_t)disp);
}

/* op reg, [base + index << scale + disp32] */
static void op_sib(Asm *a, bool w, unsigned op, unsigned reg, unsigned base, unsigned index,
                   unsigned scale, int32_t disp)
{
    rex(a, w, reg, index, base);
    opc(a, op);
    b1(a, 0x80 | (reg & 7) << 3 | 4);
    b1(a, scale << 6 | (index & 7) << 3 | (base & 7));
    b4(a, (uint32_t)disp);
}

/* op reg, rm (register form) */
static void op_r(Asm *a, bool w, unsigned op, unsigned reg, unsigned rm)
{
    rex(a, w, reg, 0, rm);
    opc(a, op);
    b1(a, 0xc0 | (reg & 7) << 3 | (rm & 7));
}

static void mov_imm(Asm *a, unsigned r, uint64_t v)
{
    if (v <= 0xffffffffull) {
        rex(a, false, 0, 0, r);
        b1(a, 0xb8 | (r & 7));
        b4(a, (uint32_t)v);
    } else if ((int64_t)v == (int32_t)v) {
        op_r(a, true, 0xc7, 0, r);
        b4(a, (uint32_t)v);
    } else {
        rex(a, true, 0, 0, r);
        b1(a, 0xb8 | (r & 7));
        b8(a, v);
    }
}

/* group-1 op (0..7: add or adc sbb and sub xor cmp) r, imm32 */
static void alu_ri(Asm *a, bool w, unsigned n, unsigned r, int32_t imm)
{
    op_r(a, w, 0x81, n, r);
    b4(a, (uint32_t)imm);
}

static void shift_ri(Asm *a, bool w, unsigned n, unsigned r, unsigned c)
{
    op_r(a, w, 0xc1, n, r);
    b1(a, c);
}

#define OFF(f) ((int32_t)offsetof(X86CPU, f))
#define REG_OFF(g) (OFF(regs) + 8 * (int32_t)(g))

static void st_cpu64(Asm *a, int32_t off, unsigned h)
{
    op_m(a, true, 0x89, h, RBX, off);
}

static void st_cpu32_imm(Asm *a, int32_t off, uint32_t v)
{
    op_m(a, false, 0xc7, 0, RBX, off);
    b4(a, v);
}

static void call_abs(Asm *a, const void *fn)
{
    mov_imm(a, RAX, (uint64_t)(uintptr_t)fn);
    op_r(a, false, 0xff, 2, RAX);
}

/* Forward jump: returns the place of its rel32, patched by here(). */
static size_t jcc_fwd(Asm *a, unsigned cc)
{
    b1(a, 0x0f);
    b1(a, 0x80 | cc);
    b4(a, 0);
    return (size_t)(a->p - a->start) - 4;
}

static void patch_to(Asm *a, size_t at, size_t target)
{
    if (at + 4 <= (size_t)(a->end - a->start)) {
        int32_t rel = (int32_t)((int64_t)target - (int64_t)(at + 4));
        memcpy(a->start + at, &rel, 4);
    }
}

static size_t pos(const Asm *a)
{
    return (size_t)(a->p - a->start);
}

static void jmp_back(Asm *a, size_t target)
{
    b1(a, 0xe9);
    b4(a, (uint32_t)(int32_t)((int64_t)target - (int64_t)(pos(a) + 4)));
}

/* ---- the block compiler ---- */

/* Lazy-flag fields an instruction writes (flags_plan). */
enum { F_OP = 1, F_DST = 2, F_SRC = 4, F_ALL = 7 };

enum { K_NONE, K_ALU, K_SHIFT, K_NOT, K_NEG, K_IMUL, K_MOV, K_CMOV, K_NOP, K_JCC, K_JMP,
       K_CALL, K_PUSH, K_POP, K_CALLR, K_RET };
enum { A_ADD, A_OR, A_AND, A_SUB, A_XOR, A_CMP, A_TEST };
/* ALU operand forms: dst = rm, src = reg / imm / (RAX, imm) / dst = reg, src = rm */
enum { FM_RM_R, FM_RM_I, FM_A_I, FM_R_RM };
enum { MV_RM_R, MV_R_RM, MV_RM_I, MV_R_I, MV_LEA, MV_SXD, MV_ZXB, MV_SXB, MV_ZXW, MV_SXW };
enum { SH_SHL = 4, SH_SHR = 5, SH_SAR = 7 };

typedef struct Plan {
    uint8_t kind;
    uint8_t sub;             /* A_*, MV_*, SH_* */
    uint8_t form;            /* FM_* ; K_IMUL: 0 r_rm, 1 r_rm_i */
    uint8_t sz;
    bool mem;
    uint8_t count;           /* shift count (masked) */
    uint8_t fw;              /* F_* written */
    uint8_t fneed;           /* F_* that must be stored */
    bool exits;              /* may leave the block (handler, slow path) */
    bool reads;              /* reads the flags */
} Plan;

typedef struct Fast {
    const X86Fast *f;
    uint8_t kind, sub, form;
} Fast;

#define AL(n, A)                                                              \
    { &xf_##n##_rm_r, K_ALU, A, FM_RM_R }, { &xf_##n##_rm_i, K_ALU, A, FM_RM_I }, \
    { &xf_##n##_a_i, K_ALU, A, FM_A_I }
static const Fast fast_table[] = {
    AL(add, A_ADD), AL(or, A_OR), AL(and, A_AND), AL(sub, A_SUB), AL(xor, A_XOR),
    AL(cmp, A_CMP), AL(test, A_TEST),
    { &xf_add_r_rm, K_ALU, A_ADD, FM_R_RM }, { &xf_or_r_rm, K_ALU, A_OR, FM_R_RM },
    { &xf_and_r_rm, K_ALU, A_AND, FM_R_RM }, { &xf_sub_r_rm, K_ALU, A_SUB, FM_R_RM },
    { &xf_xor_r_rm, K_ALU, A_XOR, FM_R_RM }, { &xf_cmp_r_rm, K_ALU, A_CMP, FM_R_RM },
    { &xf_shl_i, K_SHIFT, SH_SHL, 0 }, { &xf_shr_i, K_SHIFT, SH_SHR, 0 },
    { &xf_sar_i, K_SHIFT, SH_SAR, 0 },
    { &xf_shl_1, K_SHIFT, SH_SHL, 1 }, { &xf_shr_1, K_SHIFT, SH_SHR, 1 },
    { &xf_sar_1, K_SHIFT, SH_SAR, 1 },
    { &xf_not_rm, K_NOT, 0, 0 }, { &xf_neg_rm, K_NEG, 0, 0 },
    { &xf_imul_r_rm, K_IMUL, 0, 0 }, { &xf_imul_r_rm_i, K_IMUL, 0, 1 },
    { &xf_mov_rm_r, K_MOV, MV_RM_R, 0 }, { &xf_mov_r_rm, K_MOV, MV_R_RM, 0 },
    { &xf_mov_rm_i, K_MOV, MV_RM_I, 0 }, { &xf_mov_r_i, K_MOV, MV_R_I, 0 },
    { &xf_lea, K_MOV, MV_LEA, 0 }, { &xf_movsxd, K_MOV, MV_SXD, 0 },
    { &xf_movzx_b, K_MOV, MV_ZXB, 0 }, { &xf_movsx_b, K_MOV, MV_SXB, 0 },
    { &xf_movzx_w, K_MOV, MV_ZXW, 0 }, { &xf_movsx_w, K_MOV, MV_SXW, 0 },
    { &xf_cmov, K_CMOV, 0, 0 },
    { &xf_jcc, K_JCC, 0, 0 }, { &xf_jmp_rel, K_JMP, 0, 0 },
    { &xf_push_r, K_PUSH, 0, 0 }, { &xf_pop_r, K_POP, 0, 0 },
    { &xf_call_rel, K_CALLR, 0, 0 }, { &xf_ret, K_RET, 0, 0 },
};

static void plan_insn(const XInsn *in, Plan *p, bool m64)
{
    memset(p, 0, sizeof(*p));
    p->kind = K_CALL;
    if (in->pfx & (X86_P_LOCK | X86_P_VEX))
        return;
    if (in->fn == xi_nop_rm) {
        p->kind = K_NOP;
        return;
    }
    for (size_t i = 0; i < sizeof(fast_table) / sizeof(fast_table[0]); i++) {
        const X86Fast *f = fast_table[i].f;
        for (int s = 0; s < 2; s++) {
            bool mem;
            if (f->reg[s] == in->fn)
                mem = false;
            else if (f->mem[s] == in->fn)
                mem = true;
            else
                continue;
            p->kind = fast_table[i].kind;
            p->sub = fast_table[i].sub;
            p->form = fast_table[i].form;
            p->sz = s ? 8 : 4;
            p->mem = mem;
            goto found;
        }
    }
    return;
found:
    /* Memory operands through FS/GS have a base: not generated. */
    /* Memory operands: 64-bit addressing in 64-bit mode, 32-bit addressing
     * through the flat ES/SS/DS of X86_HF_FLAT32 otherwise (the forms the
     * decoder gives the specialised handlers); FS/GS have a base. */
    if (p->mem && (in->seg == X86_FS || in->seg == X86_GS || in->seg == X86_CS ||
                   in->asize != (m64 ? 8 : 4))) {
        p->kind = K_CALL;
        return;
    }
    if ((p->kind == K_NOT || p->kind == K_NEG) && p->mem) {
        p->kind = K_CALL;                   /* register forms only */
        return;
    }
    if (p->kind == K_MOV && p->sub == MV_LEA)
        p->mem = false;                     /* no access */
    switch (p->kind) {
    case K_ALU:
        p->fw = (p->sub == A_ADD || p->sub == A_SUB || p->sub == A_CMP) ? F_ALL : F_OP | F_DST;
        break;
    case K_SHIFT:
        p->count = (uint8_t)((p->form ? 1 : (unsigned)in->imm & 0xff) & (p->sz == 8 ? 63 : 31));
        p->fw = p->count ? F_ALL : 0;
        break;
    case K_NEG:
    case K_IMUL:
        p->fw = F_ALL;
        break;
    case K_CMOV:
    case K_JCC:
        p->reads = true;
        break;
    case K_JMP:
        break;
    default:
        break;
    }
    if ((p->kind == K_JCC || p->kind == K_JMP || p->kind == K_CALLR) &&
        !x86_canonical(in->imm))
        p->kind = K_CALL;
}

/* Which flag stores are needed: a store can go when a later instruction
 * of the same stretch without exits or flag readers writes that field
 * again. */
static void flags_plan(Plan *p, unsigned n)
{
    unsigned live = F_ALL;
    for (unsigned i = n; i-- > 0;) {
        if (p[i].kind == K_CALL)
            p[i].exits = true;
        if (p[i].mem || p[i].kind == K_PUSH || p[i].kind == K_POP || p[i].kind == K_CALLR ||
            p[i].kind == K_RET)
            p[i].exits = true;
        p[i].fneed = (uint8_t)(p[i].fw & live);
        if (p[i].exits || p[i].reads)
            live = F_ALL;
        else
            live &= ~(unsigned)p[i].fw;
    }
}

typedef struct Slow {
    size_t jump;             /* rel32 of the jump to the slow path */
    size_t resume;           /* where the instruction's code ends */
    unsigned i;
    uint16_t dirty;          /* cached registers dirty there */
} Slow;

typedef struct Ctx {
    Asm a;
    const XBlock *b;
    const XInsn *plain;
    JitPair *pairs;
    /* At most two slow paths per instruction (a read-modify-write's two
     * TLB checks, RET's load and target check), each one handler call
     * (an exit and a stop check), plus the mid-block handler calls. */
    Slow slow[4 * X86_MAX_BLOCK];
    unsigned nslow;
    size_t exit_rax;         /* epilogue returning rax */
    size_t fix_exit[4 * X86_MAX_BLOCK];
    unsigned nfix;
    size_t fix_stop[4 * X86_MAX_BLOCK];
    unsigned stop_i[4 * X86_MAX_BLOCK];
    unsigned nstop;
    /* The last inline flag writer in this block since the last handler
     * call: its lazy op and size, or 0. */
    unsigned known_op, known_sz;
    /* Guest registers kept in host registers (regalloc): hreg[g] or -1;
     * dirty: those whose host copy may differ from cpu->regs. */
    int8_t hreg[16];
    uint16_t cached, dirty;
    /* rax and rcx still hold the last flag writer's cc_dst and cc_src
     * (only for the instruction right after it). */
    bool fl_regs;
    size_t body;             /* the entry for chained blocks */
} Ctx;

/* Host registers that hold guest registers; the caller-saved ones are
 * saved around x86_cond (cond) and reloaded after handler calls. */
static const unsigned cache_regs[] = { RBP, R13, R15, R14, R8, R9, R10, R11 };
#define NCACHE (sizeof(cache_regs) / sizeof(cache_regs[0]))

static bool caller_saved(unsigned h)
{
    return h >= R8 && h <= R11;
}

/* op h, guest register g as the r/m operand */
static void op_g(Ctx *c, bool w, unsigned op, unsigned h, unsigned g)
{
    if (c->hreg[g] >= 0)
        op_r(&c->a, w, op, h, (unsigned)c->hreg[g]);
    else
        op_m(&c->a, w, op, h, RBX, REG_OFF(g));
}

/* mov h, guest register g (size 4: zero-extended) */
static void ld_g(Ctx *c, unsigned h, unsigned g, unsigned sz)
{
    op_g(c, sz == 8, 0x8b, h, g);
}

/* guest register g = h, as wr(): size 4 zero-extends (h is changed) */
static void st_g(Ctx *c, unsigned g, unsigned h, unsigned sz)
{
    Asm *a = &c->a;
    if (sz == 4)
        op_r(a, false, 0x89, h, h);
    if (c->hreg[g] >= 0) {
        op_r(a, true, 0x89, h, (unsigned)c->hreg[g]);
        c->dirty |= (uint16_t)(1u << g);
    } else {
        op_m(a, true, 0x89, h, RBX, REG_OFF(g));
    }
}

/* Store the dirty cached registers (before anything outside looks). */
static void sync_regs(Ctx *c, uint16_t dirty)
{
    for (unsigned g = 0; g < 16; g++)
        if (dirty & (1u << g))
            op_m(&c->a, true, 0x89, (unsigned)c->hreg[g], RBX, REG_OFF(g));
}

/* Load every cached register again (after a handler ran). */
static void reload_regs(Ctx *c)
{
    for (unsigned g = 0; g < 16; g++)
        if (c->cached & (1u << g))
            op_m(&c->a, true, 0x8b, (unsigned)c->hreg[g], RBX, REG_OFF(g));
}

/* The epilogue then a jump to rax (the arguments in rdi rsi rdx stay). */
static void epilogue_jmp_rax(Asm *a)
{
    alu_ri(a, true, 0, RSP, 8);
    static const unsigned regs[] = { R15, R14, R13, R12, RBP, RBX };
    for (int i = 0; i < 6; i++) {
        rex(a, false, 0, 0, regs[i]);
        b1(a, 0x58 | (regs[i] & 7));
    }
    op_r(a, false, 0xff, 4, RAX);
}

/* Leave through fn(cpu, in) as a tail call. */
static void tail(Ctx *c, const void *fn, const XInsn *in)
{
    Asm *a = &c->a;
    sync_regs(c, c->dirty);
    op_r(a, true, 0x89, RBX, RDI);
    mov_imm(a, RSI, (uint64_t)(uintptr_t)in);
    mov_imm(a, RAX, (uint64_t)(uintptr_t)fn);
    epilogue_jmp_rax(a);
}

/* Jumps (their rel32 places into out[0..2]) taken when the run loop
 * would stop before the next block: an interrupt it would take (INTR
 * with IF), an NMI, an exit request.  scratch is changed. */
static void pending(Ctx *c, unsigned scratch, size_t out[3])
{
    Asm *a = &c->a;
    op_m(a, false, 0x8b, scratch, RBX, OFF(intr));
    op_r(a, false, 0x85, scratch, scratch);
    size_t no_intr = jcc_fwd(a, CC_E);
    op_m(a, false, 0xf7, 0, RBX, OFF(eflags));
    b4(a, X86_IF);
    out[0] = jcc_fwd(a, CC_NE);
    patch_to(a, no_intr, pos(a));
    op_m(a, false, 0x80, 7, RBX, OFF(nmi_pending));
    b1(a, 0);
    out[1] = jcc_fwd(a, CC_NE);
    op_m(a, true, 0x8b, scratch, RBX, OFF(m));
    op_m(a, false, 0x83, 7, scratch, (int32_t)offsetof(Machine, exit_request));
    b1(a, 0);
    out[2] = jcc_fwd(a, CC_NE);
}

/* The end of every exit through a near branch, with the target in treg
 * (callee-saved: it survives the call): x86_jit_next, then straight into
 * the block it returns (one indirect jump per exit, predicted per exit),
 * else out through x86_jump_chain as the handlers leave.  With slot_ref,
 * the place of the exit's slot address (patched by the caller) is stored
 * there; without, the target is data (RET's) and has no slot. */
static void next_exit(Ctx *c, const XInsn *orig, unsigned treg, size_t *slot_ref)
{
    Asm *a = &c->a;
    op_r(a, true, 0x89, RBX, RDI);
    mov_imm(a, RSI, (uint64_t)(uintptr_t)orig);
    op_r(a, true, 0x89, treg, RDX);
    if (slot_ref) {
        b1(a, 0x48); b1(a, 0x8d); b1(a, 0x0d); b4(a, 0);        /* lea rcx, [rip+slot] */
        *slot_ref = pos(a) - 4;
    } else {
        mov_imm(a, RCX, 0);
    }
    call_abs(a, (const void *)x86_jit_next);
    op_r(a, true, 0x85, RAX, RAX);
    size_t no = jcc_fwd(a, CC_E);
    op_r(a, false, 0xff, 4, RAX);               /* jmp rax */
    patch_to(a, no, pos(a));
    op_r(a, true, 0x89, RBX, RDI);
    mov_imm(a, RSI, (uint64_t)(uintptr_t)orig);
    op_r(a, true, 0x89, treg, RDX);
    mov_imm(a, RAX, (uint64_t)(uintptr_t)jit_chain);
    epilogue_jmp_rax(a);
}

/* Leave for the block at target (a near branch's): straight into its
 * compiled body when x86_jump_chain would chain to it and it is
 * compiled (x86_jit_next; one indirect jump per exit, predicted per
 * exit), else through x86_jump_chain as the handlers do. */
static void chain_exit(Ctx *c, const XInsn *orig, uint64_t target)
{
    Asm *a = &c->a;
    const uint16_t dirty = c->dirty;
    sync_regs(c, dirty);
    c->dirty = 0;
    /* The exit's slot: the block x86_jit_next found last time, when it
     * is in this block's page (so the page's mapping, checked when this
     * block was entered, holds for it too; hflags are the same as this
     * block's).  Still to check here: alive, the budget, interrupts. */
    size_t slow[6], slot_ref[2];
    b1(a, 0x48); b1(a, 0x8b); b1(a, 0x05); b4(a, 0);            /* mov rax, [rip+slot] */
    slot_ref[0] = pos(a) - 4;
    op_r(a, true, 0x85, RAX, RAX);
    slow[0] = jcc_fwd(a, CC_E);
    op_m(a, false, 0x80, 7, RAX, (int32_t)offsetof(XBlock, dead));
    b1(a, 0);
    slow[1] = jcc_fwd(a, CC_NE);
    op_m(a, false, 0x8b, RDX, RAX, (int32_t)offsetof(XBlock, n));  /* edx = n */
    op_m(a, true, 0x8b, RCX, RBX, OFF(icount));
    op_r(a, true, 0x01, RDX, RCX);
    if (orig->rem)
        alu_ri(a, true, 5, RCX, orig->rem);
    op_m(a, true, 0x3b, RCX, RBX, OFF(chain_end));
    slow[2] = jcc_fwd(a, CC_A);
    pending(c, RDX, slow + 3);
    /* enter: icount, and the running block for stop_running */
    st_cpu64(a, OFF(icount), RCX);
    op_m(a, true, 0x8b, RDX, RBX, OFF(bcache));
    op_m(a, true, 0x89, RAX, RDX, (int32_t)offsetof(X86ChainCache, run_block));
    op_m(a, true, 0x8d, RSI, RAX, (int32_t)offsetof(XBlock, insns));
    op_m(a, true, 0x89, RSI, RDX, (int32_t)offsetof(X86ChainCache, run));
    op_m(a, false, 0x8b, RSI, RAX, (int32_t)offsetof(XBlock, n));
    op_m(a, false, 0x89, RSI, RDX, (int32_t)offsetof(X86ChainCache, run_n));
    op_m(a, false, 0xff, 4, RAX, (int32_t)offsetof(XBlock, jit_body));  /* jmp [rax+body] */
    for (int k = 0; k < 6; k++)
        patch_to(a, slow[k], pos(a));
    mov_imm(a, R15, target);
    next_exit(c, orig, R15, &slot_ref[1]);
    while (pos(a) & 7)
        b1(a, 0xcc);
    const size_t slot = pos(a);
    b8(a, 0);
    for (int k = 0; k < 2; k++)
        patch_to(a, slot_ref[k], slot);
    c->dirty = dirty;
}

/* Run instruction i through its handler on its pair; continue here
 * when it comes back, else return what it returned.  Then check for a
 * stop. */
static void run_pair(Ctx *c, unsigned i, uint16_t dirty)
{
    Asm *a = &c->a;
    JitPair *pr = &c->pairs[i];
    sync_regs(c, dirty);
    op_r(a, true, 0x89, RBX, RDI);
    mov_imm(a, RSI, (uint64_t)(uintptr_t)&pr->insn);
    call_abs(a, (const void *)c->plain[i].fn);
    mov_imm(a, RCX, (uint64_t)(uintptr_t)&pr->sentinel);
    op_r(a, true, 0x39, RCX, RAX);          /* cmp rax, rcx */
    g_assert(c->nfix < G_N_ELEMENTS(c->fix_exit));
    c->fix_exit[c->nfix++] = jcc_fwd(a, CC_NE);
    reload_regs(c);
    if (i + 1 < c->b->n) {
        op_m(a, true, 0x8b, RCX, RBX, OFF(bcache));
        op_m(a, false, 0x80, 7, RCX, (int32_t)offsetof(X86ChainCache, stopped));
        b1(a, 0);                           /* cmp byte [rcx + stopped], 0 */
        c->stop_i[c->nstop] = i + 1;
        g_assert(c->nstop < G_N_ELEMENTS(c->fix_stop));
        c->fix_stop[c->nstop++] = jcc_fwd(a, CC_NE);
    }
}

static void call_handler(Ctx *c, unsigned i)
{
    run_pair(c, i, c->dirty);
    c->dirty = 0;
    c->known_op = 0;
}

/* rdx = the memory operand's linear address: 64-bit addressing, or
 * 32-bit addressing through a flat segment (X86_HF_FLAT32). */
static void ea(Ctx *c, const XInsn *in)
{
    Asm *a = &c->a;
    bool big = (int64_t)(int32_t)in->disp != in->disp;
    if (in->base != X86_NONE)
        ld_g(c, RDX, in->base, 8);
    else
        mov_imm(a, RDX, big ? (uint64_t)in->disp : 0);
    int32_t d = big ? 0 : (int32_t)in->disp;
    if (in->base != X86_NONE && big) {
        mov_imm(a, RSI, (uint64_t)in->disp);
        op_r(a, true, 0x01, RSI, RDX);      /* add rdx, rsi */
    }
    if (in->index != X86_NONE) {
        ld_g(c, RSI, in->index, 8);
        op_sib(a, true, 0x8d, RDX, RDX, RSI, in->scale, d);
    } else if (d) {
        op_m(a, true, 0x8d, RDX, RDX, d);
    }
    if (in->asize == 4)
        op_r(a, false, 0x89, RDX, RDX);     /* 32-bit addressing wraps */
}

/* A jump (condition cc) to a slow path for instruction i: its handler
 * runs it from the start, with the registers dirty here written back. */
static void add_slow(Ctx *c, unsigned i, unsigned cc)
{
    g_assert(c->nslow < G_N_ELEMENTS(c->slow));
    c->slow[c->nslow].dirty = c->dirty;
    c->slow[c->nslow].jump = jcc_fwd(&c->a, cc);
    c->slow[c->nslow++].i = i;
}

/* The TLB check for an access of size sz at linear rdx: on a hit rdx
 * becomes the host address of the read (and rdi of the write when
 * write is set), else a jump to instruction i's slow path. */
static void tlb(Ctx *c, unsigned i, unsigned sz, bool read, bool write)
{
    Asm *a = &c->a;
    const int32_t per_acc = (int32_t)(X86_TLB_SIZE * sizeof(X86TlbEntry));
    op_r(a, true, 0x89, RDX, RSI);          /* mov rsi, rdx */
    shift_ri(a, true, 5, RSI, 12);          /* shr rsi, 12 */
    alu_ri(a, false, 4, RSI, X86_TLB_SIZE - 1);
    op_sib(a, true, 0x8d, RSI, RSI, RSI, 1, 0);     /* lea rsi, [rsi + rsi*2] */
    shift_ri(a, false, 4, RSI, 3);          /* shl esi, 3: * 24 */
    op_r(a, true, 0x01, R12, RSI);          /* add rsi, r12 */
    op_r(a, true, 0x89, RDX, RDI);          /* mov rdi, rdx */
    alu_ri(a, true, 4, RDI, (int32_t)(-4096 | (int32_t)(sz - 1)));
    int32_t rd_off = X86_ACC_READ * per_acc, wr_off = X86_ACC_WRITE * per_acc;
    if (read) {
        op_m(a, true, 0x3b, RDI, RSI, rd_off + (int32_t)offsetof(X86TlbEntry, tag));
        add_slow(c, i, CC_NE);
    }
    if (write) {
        op_m(a, true, 0x3b, RDI, RSI, wr_off + (int32_t)offsetof(X86TlbEntry, tag));
        add_slow(c, i, CC_NE);
        op_r(a, true, 0x89, RDX, RDI);
        op_m(a, true, 0x03, RDI, RSI, wr_off + (int32_t)offsetof(X86TlbEntry, addend));
    }
    if (read)
        op_m(a, true, 0x03, RDX, RSI, rd_off + (int32_t)offsetof(X86TlbEntry, addend));
}

/* Mark where instruction i's code ends (its slow paths resume here). */
static void resume_here(Ctx *c, unsigned i)
{
    for (unsigned k = 0; k < c->nslow; k++)
        if (c->slow[k].i == i)
            c->slow[k].resume = pos(&c->a);
}

/* h = load of size sz from host address in rdx, zero- or sign-extended */
static void load(Asm *a, unsigned h, unsigned sz, bool sx)
{
    switch (sz) {
    case 8: op_m(a, true, 0x8b, h, RDX, 0); break;
    case 4: op_m(a, sx, sx ? 0x63 : 0x8b, h, RDX, 0); break;
    case 2: op_m(a, sx, sx ? 0x0fbf : 0x0fb7, h, RDX, 0); break;
    default: op_m(a, sx, sx ? 0x0fbe : 0x0fb6, h, RDX, 0); break;
    }
}

static void store(Asm *a, unsigned h, unsigned sz, unsigned addr)
{
    op_m(a, sz == 8, 0x89, h, addr, 0);
}

static unsigned lg(unsigned sz)
{
    return x86_size_log2(sz);
}

/* The lazy-flag stores of plan p: op, dst from rax, src from rcx. */
static void set_flags(Ctx *c, const Plan *p, unsigned op, unsigned dst, unsigned src)
{
    Asm *a = &c->a;
    if (p->fneed & F_OP)
        st_cpu32_imm(a, OFF(cc_op), op * 4 + lg(p->sz));
    if (p->fneed & F_DST)
        st_cpu64(a, OFF(cc_dst), dst);
    if (p->fneed & F_SRC)
        st_cpu64(a, OFF(cc_src), src);
    c->known_op = op;
    c->known_sz = p->sz;
}

/* Set the host flags so that guest condition cc is host condition
 * returned. */
static unsigned cond(Ctx *c, unsigned cc)
{
    Asm *a = &c->a;
    const bool w = c->known_sz == 8;
    /* What follows changes rax and rcx: a second reader (CMOV then
     * CMOV or Jcc) loads the operands again. */
    const bool fl_regs = c->fl_regs;
    c->fl_regs = false;
    switch (c->known_op) {
    case X86_CC_SUB:
        if (!fl_regs) {
            op_m(a, true, 0x8b, RAX, RBX, OFF(cc_dst));
            op_m(a, true, 0x8b, RCX, RBX, OFF(cc_src));
        }
        op_r(a, w, 0x01, RCX, RAX);         /* add: the first operand */
        op_r(a, w, 0x39, RCX, RAX);         /* cmp it, src */
        return cc;
    case X86_CC_ADD:
        if (!fl_regs) {
            op_m(a, true, 0x8b, RAX, RBX, OFF(cc_dst));
            op_m(a, true, 0x8b, RCX, RBX, OFF(cc_src));
        }
        op_r(a, w, 0x29, RCX, RAX);
        op_r(a, w, 0x01, RCX, RAX);
        return cc;
    case X86_CC_LOGIC:
        if (!fl_regs)
            op_m(a, true, 0x8b, RAX, RBX, OFF(cc_dst));
        op_r(a, w, 0x85, RAX, RAX);
        return cc;
    default: {
        /* x86_cond: the caller-saved host registers in use (rdx, cached
         * guest registers) survive it on the stack. */
        unsigned keep[NCACHE + 2], nk = 0;
        keep[nk++] = RDX;
        for (unsigned g = 0; g < 16; g++)
            if ((c->cached & (1u << g)) && caller_saved((unsigned)c->hreg[g]))
                keep[nk++] = (unsigned)c->hreg[g];
        if (nk & 1)
            keep[nk++] = RDX;                /* an even count keeps rsp aligned */
        for (unsigned k = 0; k < nk; k++) {
            rex(a, false, 0, 0, keep[k]);
            b1(a, 0x50 | (keep[k] & 7));
        }
        op_r(a, true, 0x89, RBX, RDI);
        mov_imm(a, RSI, cc);
        call_abs(a, (const void *)x86_cond);
        for (unsigned k = nk; k-- > 0;) {
            rex(a, false, 0, 0, keep[k]);
            b1(a, 0x58 | (keep[k] & 7));
        }
        op_r(a, false, 0x84, RAX, RAX);     /* test al, al */
        return CC_NE;
    }
    }
}

static void gen_alu(Ctx *c, unsigned i, const XInsn *in, const Plan *p)
{
    Asm *a = &c->a;
    const unsigned sz = p->sz;
    const bool stores = p->sub != A_CMP && p->sub != A_TEST;
    static const unsigned host_op[] = { 0x01, 0x09, 0x21, 0x29, 0x31, 0x29, 0x21 };
    static const unsigned group[] = { 0, 1, 4, 5, 6, 5, 4 };
    const unsigned dst = p->form == FM_R_RM ? in->reg : p->form == FM_A_I ? X86_RAX : in->rm;
    if (sz == 8 && stores && !p->mem && c->hreg[dst] >= 0) {
        /* In place on the host register (size 8: the lazy result is the
         * register's value). */
        const unsigned h = (unsigned)c->hreg[dst];
        const bool imm = p->form == FM_RM_I || p->form == FM_A_I;
        const unsigned src = p->form == FM_RM_R ? in->reg : in->rm;
        const bool small = (int64_t)(int32_t)in->imm == (int64_t)in->imm;
        if (imm && (!small || (p->fneed & F_SRC)))
            mov_imm(a, RCX, in->imm);
        else if (!imm && (p->fneed & F_SRC))
            ld_g(c, RCX, src, 8);
        if (imm && small && !(p->fneed & F_SRC))
            alu_ri(a, true, group[p->sub], h, (int32_t)in->imm);
        else if (imm || (p->fneed & F_SRC))
            op_r(a, true, host_op[p->sub], RCX, h);
        else
            op_g(c, true, host_op[p->sub] + 2, h, src);
        unsigned op = p->sub == A_ADD ? X86_CC_ADD : p->sub == A_SUB ? X86_CC_SUB : X86_CC_LOGIC;
        set_flags(c, p, op, h, RCX);
        c->dirty |= (uint16_t)(1u << dst);
        return;
    }
    /* rax = the first operand, rcx = the second */
    if (p->form == FM_R_RM) {
        if (p->mem) {
            ea(c, in);
            tlb(c, i, sz, true, false);
            load(a, RCX, sz, false);
        } else {
            ld_g(c, RCX, in->rm, sz);
        }
        ld_g(c, RAX, in->reg, sz);
    } else {
        if (p->form == FM_RM_R)
            ld_g(c, RCX, in->reg, sz);
        else
            mov_imm(a, RCX, in->imm);
        if (p->form == FM_A_I) {
            ld_g(c, RAX, X86_RAX, sz);
        } else if (p->mem) {
            ea(c, in);
            tlb(c, i, sz, true, stores);
            load(a, RAX, sz, false);
        } else {
            ld_g(c, RAX, in->rm, sz);
        }
    }
    if (stores || p->fneed) {
        op_r(a, true, host_op[p->sub], RCX, RAX);
        unsigned op = (p->sub == A_ADD) ? X86_CC_ADD
                      : (p->sub == A_SUB || p->sub == A_CMP) ? X86_CC_SUB : X86_CC_LOGIC;
        set_flags(c, p, op, RAX, RCX);
    } else {
        c->known_op = (p->sub == A_CMP) ? X86_CC_SUB : X86_CC_LOGIC;
        c->known_sz = sz;
    }
    if (stores) {
        if (p->mem && p->form != FM_R_RM)
            store(a, RAX, sz, RDI);
        else
            st_g(c, dst, RAX, sz);
    }
    /* rax = cc_dst, rcx = cc_src, unless a size-4 register write
     * truncated rax, the flags were not computed, or a slow path (which
     * comes back with other values) may have run. */
    c->fl_regs = !p->mem && (stores || p->fneed) && (sz == 8 || !stores);
}

static void gen_shift(Ctx *c, const XInsn *in, const Plan *p)
{
    Asm *a = &c->a;
    const unsigned sz = p->sz, n = p->count;
    if (n == 0) {
        ld_g(c, RAX, in->rm, sz);
        st_g(c, in->rm, RAX, sz);
        return;
    }
    if (c->hreg[in->rm] >= 0 && !(p->fneed & F_SRC)) {
        /* In place: the source operand of the flags is not needed. */
        const unsigned h = (unsigned)c->hreg[in->rm];
        if (p->sub == SH_SAR && sz == 4)
            op_r(a, true, 0x63, h, h);          /* movsxd h, h32 */
        else if (sz == 4)
            op_r(a, false, 0x89, h, h);         /* zero-extend */
        if (p->sub == SH_SHR)
            st_cpu64(a, OFF(cc_src2), h);
        shift_ri(a, true, p->sub, h, n);
        unsigned op = p->sub == SH_SHL ? X86_CC_SHL : p->sub == SH_SHR ? X86_CC_SHR : X86_CC_SAR;
        set_flags(c, p, op, h, h);
        if (sz == 4)
            op_r(a, false, 0x89, h, h);
        c->dirty |= (uint16_t)(1u << in->rm);
        return;
    }
    if (p->sub == SH_SAR && sz == 4)
        op_g(c, true, 0x63, RAX, in->rm);   /* movsxd */
    else
        ld_g(c, RAX, in->rm, sz);
    if (p->sub == SH_SHR)
        st_cpu64(a, OFF(cc_src2), RAX);     /* the operand, always (flags_plan) */
    if (n > 1)
        shift_ri(a, true, p->sub, RAX, n - 1);
    op_r(a, true, 0x89, RAX, RCX);                          /* src */
    shift_ri(a, true, p->sub, RAX, 1);
    unsigned op = p->sub == SH_SHL ? X86_CC_SHL : p->sub == SH_SHR ? X86_CC_SHR : X86_CC_SAR;
    set_flags(c, p, op, RAX, RCX);
    st_g(c, in->rm, RAX, sz);
}

static void gen_unary(Ctx *c, const XInsn *in, const Plan *p)
{
    Asm *a = &c->a;
    const unsigned sz = p->sz;
    ld_g(c, RAX, in->rm, sz);
    if (p->kind == K_NOT) {
        op_r(a, true, 0xf7, 2, RAX);
    } else {
        op_r(a, true, 0x89, RAX, RCX);
        op_r(a, true, 0xf7, 3, RAX);
        set_flags(c, p, X86_CC_SUB, RAX, RCX);
    }
    st_g(c, in->rm, RAX, sz);
}

static void gen_imul(Ctx *c, unsigned i, const XInsn *in, const Plan *p)
{
    Asm *a = &c->a;
    const unsigned sz = p->sz;
    /* rcx = the r/m operand */
    if (p->mem) {
        ea(c, in);
        tlb(c, i, sz, true, false);
        load(a, RCX, sz, sz == 4);
    } else if (sz == 4) {
        op_g(c, true, 0x63, RCX, in->rm);
    } else {
        ld_g(c, RCX, in->rm, 8);
    }
    if (p->form == 0) {
        if (sz == 4)
            op_g(c, true, 0x63, RAX, in->reg);
        else
            ld_g(c, RAX, in->reg, 8);
    } else {
        mov_imm(a, RAX, sz == 4 ? (uint64_t)(int64_t)(int32_t)in->imm : in->imm);
    }
    op_r(a, true, 0x0faf, RAX, RCX);                    /* imul rax, rcx */
    if (sz == 8) {
        b1(a, 0x0f); b1(a, 0x90); b1(a, 0xc1);          /* seto cl */
    } else {
        op_r(a, true, 0x63, RDX, RAX);                  /* movsxd rdx, eax */
        op_r(a, true, 0x39, RAX, RDX);                  /* cmp rdx, rax */
        b1(a, 0x0f); b1(a, 0x95); b1(a, 0xc1);          /* setne cl */
    }
    op_r(a, false, 0x0fb6, RCX, RCX);                   /* movzx ecx, cl */
    set_flags(c, p, X86_CC_MUL, RAX, RCX);
    st_g(c, in->reg, RAX, sz);
}

static void gen_mov(Ctx *c, unsigned i, const XInsn *in, const Plan *p)
{
    Asm *a = &c->a;
    const unsigned sz = p->sz;
    switch (p->sub) {
    case MV_RM_R:
        if (!p->mem && c->hreg[in->rm] >= 0) {
            op_g(c, sz == 8, 0x8b, (unsigned)c->hreg[in->rm], in->reg);
            c->dirty |= (uint16_t)(1u << in->rm);
            break;
        }
        ld_g(c, RAX, in->reg, sz);
        if (p->mem) {
            ea(c, in);
            tlb(c, i, sz, false, true);
            store(a, RAX, sz, RDI);
        } else {
            st_g(c, in->rm, RAX, sz);
        }
        break;
    case MV_RM_I:
        mov_imm(a, RAX, sz == 4 ? (uint32_t)in->imm : in->imm);
        if (p->mem) {
            ea(c, in);
            tlb(c, i, sz, false, true);
            store(a, RAX, sz, RDI);
        } else {
            st_g(c, in->rm, RAX, sz);
        }
        break;
    case MV_R_I:
        mov_imm(a, RAX, sz == 4 ? (uint32_t)in->imm : in->imm);
        st_g(c, in->reg, RAX, sz);
        break;
    case MV_LEA:
        ea(c, in);
        st_g(c, in->reg, RDX, sz);
        break;
    default: {
        /* loads: size and extension of the source */
        unsigned ssz = sz;
        bool sx = false;
        switch (p->sub) {
        case MV_SXD: ssz = 4; sx = sz == 8; break;
        case MV_ZXB: ssz = 1; break;
        case MV_SXB: ssz = 1; sx = true; break;
        case MV_ZXW: ssz = 2; break;
        case MV_SXW: ssz = 2; sx = true; break;
        default: break;
        }
        if (!p->mem && p->sub == MV_R_RM && c->hreg[in->reg] >= 0) {
            op_g(c, sz == 8, 0x8b, (unsigned)c->hreg[in->reg], in->rm);
            c->dirty |= (uint16_t)(1u << in->reg);
            break;
        }
        if (p->mem) {
            ea(c, in);
            tlb(c, i, ssz, true, false);
            load(a, RAX, ssz, sx);
        } else if (ssz == 2) {
            op_g(c, sx, sx ? 0x0fbf : 0x0fb7, RAX, in->rm);
        } else if (ssz == 4 && sx) {
            op_g(c, true, 0x63, RAX, in->rm);
        } else {
            ld_g(c, RAX, in->rm, ssz == 8 ? 8 : 4);
        }
        st_g(c, in->reg, RAX, sz);
        break;
    }
    }
}

static void gen_cmov(Ctx *c, unsigned i, const XInsn *in, const Plan *p)
{
    Asm *a = &c->a;
    const unsigned sz = p->sz;
    if (p->mem) {
        ea(c, in);
        tlb(c, i, sz, true, false);
        load(a, RDX, sz, false);
    } else {
        ld_g(c, RDX, in->rm, sz);
    }
    unsigned hc = cond(c, in->cc);
    ld_g(c, RAX, in->reg, sz);
    op_r(a, sz == 8, 0x0f40 | hc, RAX, RDX);
    st_g(c, in->reg, RAX, 8);
}

/* PUSH r64 / POP r64 (64-bit mode: SS has no base; RSP is all of it).
 * As push_r_/pop_r_: PUSH RSP stores the old value, POP RSP leaves the
 * popped one. */
static void gen_stack(Ctx *c, unsigned i, const XInsn *in, const Plan *p)
{
    Asm *a = &c->a;
    ld_g(c, RDX, X86_RSP, 8);
    if (p->kind == K_PUSH) {
        alu_ri(a, true, 5, RDX, 8);             /* sub rdx, 8 */
        tlb(c, i, 8, false, true);
        ld_g(c, RAX, in->reg, 8);
        store(a, RAX, 8, RDI);
        st_g(c, X86_RSP, RDX, 8);
    } else {
        op_r(a, true, 0x89, RDX, RCX);          /* the new RSP, rcx */
        alu_ri(a, true, 0, RCX, 8);
        tlb(c, i, 8, true, false);
        load(a, RAX, 8, false);
        st_g(c, X86_RSP, RCX, 8);
        st_g(c, in->reg, RAX, 8);
    }
}

/* CALL rel / RET as a block's last instruction (call_rel_/ret_): the
 * return address through the stack, then the exit.  RET's target is
 * data: no slot, and a non-canonical one goes to the handler (#GP). */
static void gen_call_ret(Ctx *c, unsigned i, const XInsn *in, const Plan *p)
{
    Asm *a = &c->a;
    const XInsn *orig = &c->b->insns[i];
    ld_g(c, RDX, X86_RSP, 8);
    if (p->kind == K_CALLR) {
        alu_ri(a, true, 5, RDX, 8);
        tlb(c, i, 8, false, true);
        mov_imm(a, RAX, x86_next_rip(in));
        store(a, RAX, 8, RDI);
        st_g(c, X86_RSP, RDX, 8);
        chain_exit(c, orig, in->imm);
        return;
    }
    op_r(a, true, 0x89, RDX, RCX);
    alu_ri(a, true, 0, RCX, 8);                 /* rcx = the new RSP */
    tlb(c, i, 8, true, false);
    load(a, RAX, 8, false);
    /* canonical: bits 63..47 all equal */
    op_r(a, true, 0x89, RAX, RDX);
    shift_ri(a, true, 7, RDX, 47);              /* sar rdx, 47 */
    alu_ri(a, true, 0, RDX, 1);
    alu_ri(a, true, 7, RDX, 1);                 /* -1 or 0 -> 0 or 1 */
    add_slow(c, i, CC_A);
    st_g(c, X86_RSP, RCX, 8);
    /* the exit, with the target in rax */
    sync_regs(c, c->dirty);
    c->dirty = 0;
    op_r(a, true, 0x89, RAX, R15);
    next_exit(c, orig, R15, NULL);
}

/* The block's last instruction, a Jcc or JMP: the exits. */
static void gen_branch(Ctx *c, unsigned i, const XInsn *in, const Plan *p, size_t top)
{
    Asm *a = &c->a;
    const XInsn *orig = &c->b->insns[i];
    size_t taken = 0;
    if (p->kind == K_JCC) {
        unsigned hc = cond(c, in->cc);
        taken = jcc_fwd(a, hc);
        op_m(a, true, 0xff, 0, RBX, OFF(brcount));          /* inc brcount */
        chain_exit(c, orig, x86_next_rip(in));
        patch_to(a, taken, pos(a));
        op_m(a, true, 0xff, 0, RBX, OFF(brcount));
    }
    if (in->imm == c->b->rip) {
        /* Around again while x86_jump_chain would chain. */
        size_t out[4];
        op_m(a, true, 0x8b, RAX, RBX, OFF(icount));
        alu_ri(a, true, 0, RAX, (int32_t)c->b->n);
        op_m(a, true, 0x3b, RAX, RBX, OFF(loop_end));
        out[0] = jcc_fwd(a, CC_A);
        pending(c, RCX, out + 1);
        st_cpu64(a, OFF(icount), RAX);
        jmp_back(a, top);
        for (int k = 0; k < 4; k++)
            patch_to(a, out[k], pos(a));
    }
    chain_exit(c, orig, in->imm);
}

/* Which guest registers live in host registers: the most used by the
 * generated instructions, at least twice. */
static void regalloc(Ctx *c, const Plan *plan)
{
    unsigned count[16] = { 0 };
    for (unsigned i = 0; i < c->b->n; i++) {
        const Plan *p = &plan[i];
        const XInsn *in = &c->plain[i];
        bool lea = p->kind == K_MOV && p->sub == MV_LEA;
        bool rm = false, reg = false;
        switch (p->kind) {
        case K_ALU:
            if (p->form == FM_A_I)
                count[X86_RAX]++;
            rm = p->form != FM_A_I;
            reg = p->form == FM_RM_R || p->form == FM_R_RM;
            break;
        case K_SHIFT: case K_NOT: case K_NEG:
            rm = true;
            break;
        case K_IMUL: case K_CMOV:
            rm = reg = true;
            break;
        case K_PUSH: case K_POP:
            count[X86_RSP] += 2;
            reg = true;
            break;
        case K_CALLR: case K_RET:
            count[X86_RSP] += 2;
            break;
        case K_MOV:
            rm = !lea && p->sub != MV_R_I;
            reg = p->sub != MV_RM_I;
            break;
        default:
            continue;
        }
        if (rm && !p->mem && in->rm < 16)
            count[in->rm]++;
        if (reg && in->reg < 16)
            count[in->reg]++;
        if (p->mem || lea) {
            if (in->base != X86_NONE)
                count[in->base]++;
            if (in->index != X86_NONE)
                count[in->index]++;
        }
    }
    memset(c->hreg, -1, sizeof(c->hreg));
    for (unsigned k = 0; k < NCACHE; k++) {
        unsigned best = 16, bc = 1;
        for (unsigned g = 0; g < 16; g++)
            if (c->hreg[g] < 0 && count[g] > bc) {
                best = g;
                bc = count[g];
            }
        if (best == 16)
            break;
        c->hreg[best] = (int8_t)cache_regs[k];
        c->cached |= (uint16_t)(1u << best);
    }
}

static bool gen(Ctx *c, Plan *plan)
{
    Asm *a = &c->a;
    const XBlock *b = c->b;
    const unsigned n = b->n;

    /* prologue: keep the callee-saved registers, 16-byte aligned calls */
    static const unsigned saved[] = { RBX, RBP, R12, R13, R14, R15 };
    for (int k = 0; k < 6; k++) {
        rex(a, false, 0, 0, saved[k]);
        b1(a, 0x50 | (saved[k] & 7));
    }
    alu_ri(a, true, 5, RSP, 8);
    op_r(a, true, 0x89, RDI, RBX);                      /* mov rbx, rdi */
    /* r12 = &cpu->tlb[CPL == 3][0][0] */
    op_m(a, false, 0x8b, RAX, RBX, OFF(hflags));
    alu_ri(a, false, 4, RAX, 3);
    alu_ri(a, false, 7, RAX, 3);
    b1(a, 0x0f); b1(a, 0x94); b1(a, 0xc0);              /* sete al */
    op_r(a, false, 0x0fb6, RAX, RAX);
    op_r(a, false, 0x69, RAX, RAX);                     /* imul eax, eax, size */
    b4(a, (uint32_t)sizeof(((X86CPU *)0)->tlb[0]));
    op_sib(a, true, 0x8d, R12, RBX, RAX, 0, OFF(tlb));
    /* Compiled blocks that chain to this one enter here, in their frame
     * (x86_jit_next): CPL and so r12 are the same. */
    c->body = pos(a);
    op_m(a, true, 0x8b, RCX, RBX, OFF(bcache));
    op_m(a, false, 0xc6, 0, RCX, (int32_t)offsetof(X86ChainCache, stopped));
    b1(a, 0);
    regalloc(c, plan);
    reload_regs(c);
    const size_t top = pos(a);
    /* A block that loops to itself comes back to top with whatever it
     * changed still only in host registers. */
    const Plan *last = &plan[n - 1];
    if ((last->kind == K_JCC || last->kind == K_JMP) && c->plain[n - 1].imm == b->rip)
        c->dirty = c->cached;

    bool ended = false;
    for (unsigned i = 0; i < n; i++) {
        const XInsn *in = &c->plain[i];
        const Plan *p = &plan[i];
        c->fl_regs = c->fl_regs && (p->kind == K_JCC || p->kind == K_CMOV);
        switch (p->kind) {
        case K_ALU: gen_alu(c, i, in, p); break;
        case K_SHIFT: gen_shift(c, in, p); break;
        case K_NOT: case K_NEG: gen_unary(c, in, p); break;
        case K_IMUL: gen_imul(c, i, in, p); break;
        case K_MOV: gen_mov(c, i, in, p); break;
        case K_CMOV: gen_cmov(c, i, in, p); break;
        case K_PUSH: case K_POP: gen_stack(c, i, in, p); break;
        case K_NOP: break;
        case K_JCC: case K_JMP:
            if (i + 1 == n) {
                gen_branch(c, i, in, p, top);
                ended = true;
                break;
            }
            __attribute__((fallthrough));
        case K_CALLR: case K_RET:
            if (i + 1 == n && (p->kind == K_CALLR || p->kind == K_RET)) {
                gen_call_ret(c, i, in, p);
                ended = true;
                break;
            }
            /* a branch inside a block is not expected: its handler */
            __attribute__((fallthrough));
        default:
            if (i + 1 == n) {
                /* Its handler goes on to the end sentinel itself. */
                tail(c, (const void *)b->insns[i].fn, &b->insns[i]);
                ended = true;
            } else {
                call_handler(c, i);
            }
            break;
        }
        resume_here(c, i);
    }
    if (!ended)
        tail(c, (const void *)x86_block_end, &b->insns[n]);

    /* slow paths: the handler on the instruction's pair */
    for (unsigned k = 0; k < c->nslow; k++) {
        patch_to(a, c->slow[k].jump, pos(a));
        run_pair(c, c->slow[k].i, c->slow[k].dirty);
        jmp_back(a, c->slow[k].resume);
    }
    /* stops before instruction k */
    for (unsigned k = 0; k < c->nstop; k++) {
        patch_to(a, c->fix_stop[k], pos(a));
        tail(c, (const void *)jit_stop, &b->insns[c->stop_i[k]]);
    }
    /* return rax */
    c->exit_rax = pos(a);
    for (unsigned k = 0; k < c->nfix; k++)
        patch_to(a, c->fix_exit[k], c->exit_rax);
    alu_ri(a, true, 0, RSP, 8);
    for (int k = 5; k >= 0; k--) {
        rex(a, false, 0, 0, saved[k]);
        b1(a, 0x58 | (saved[k] & 7));
    }
    b1(a, 0xc3);
    return a->p <= a->end;
}

XHandler *x86_jit_compile(void *jit, X86CPU *cpu, const XBlock *b, const XInsn *plain,
                          void **body)
{
    (void)cpu;
    Jit *j = jit;
    const unsigned n = b->n;
    if (n == 0 || n > X86_MAX_BLOCK || x86_jit_full(j))
        return NULL;
    Plan plan[X86_MAX_BLOCK];
    unsigned inl = 0;
    for (unsigned i = 0; i < n; i++) {
        plan_insn(&plain[i], &plan[i], (b->hf & X86_HF_CS64) != 0);
        if (plan[i].kind != K_CALL)
            inl++;
    }
    /* Nothing to gain where nearly everything is a handler call. */
    if (inl == 0 || (n > 1 && inl * 2 < n))
        return NULL;
    flags_plan(plan, n);

    /* The pairs first (8-byte aligned data), then the code. */
    size_t at = (j->used + 63) & ~(size_t)63;
    JitPair *pairs = (JitPair *)(j->buf + at);
    for (unsigned i = 0; i < n; i++) {
        pairs[i].insn = plain[i];
        pairs[i].insn.rem = b->insns[i].rem;
        memset(&pairs[i].sentinel, 0, sizeof(pairs[i].sentinel));
        pairs[i].sentinel.fn = jit_sentinel;
        pairs[i].sentinel.pc = x86_next_rip(&plain[i]);
        pairs[i].sentinel.base = pairs[i].sentinel.index = X86_NONE;
    }
    at += n * sizeof(JitPair);
    at = (at + 63) & ~(size_t)63;
    Ctx *c = g_new0(Ctx, 1);
    c->a.start = c->a.p = j->buf + at;
    c->a.end = j->buf + JIT_SIZE;
    if ((size_t)(c->a.end - c->a.start) > JIT_BLOCK_MAX)
        c->a.end = c->a.start + JIT_BLOCK_MAX;
    c->b = b;
    c->plain = plain;
    c->pairs = pairs;
    bool ok = gen(c, plan);
    size_t len = pos(&c->a);
    *body = j->buf + at + c->body;
    g_free(c);
    if (!ok)
        return NULL;
    j->used = at + len;
    return (XHandler *)(void *)(j->buf + at);
}

#else  /* not an x86-64 host */

bool x86_jit_supported(void) { return false; }
void *x86_jit_new(void) { return NULL; }
void x86_jit_free(void *jit) { (void)jit; }
void x86_jit_reset(void *jit) { (void)jit; }
bool x86_jit_full(void *jit) { (void)jit; return true; }
XHandler *x86_jit_compile(void *jit, X86CPU *cpu, const XBlock *b, const XInsn *plain,
                          void **body)
{
    (void)jit, (void)cpu, (void)b, (void)plain, (void)body;
    return NULL;
}

#endif
