/* Predecoded x86 instructions, the opcode-table fragments the decoder is
 * built from, and the operand helpers every handler uses.  Internal to
 * targets/x86/.
 *
 * Handler contract (the same as the RISC-V engine's):
 *   - A handler runs one instruction and returns in + 1 to go on with the
 *     block (or tail-calls it: X86_NEXT), or NULL to leave the block.
 *   - Inside a block cpu->rip is stale: an instruction's own address is
 *     in->pc and the next one's is in->pc + in->len (x86_next_rip).  A
 *     handler that leaves the block sets cpu->rip first.
 *   - icount is pre-added for the whole block on entry.  A faulting
 *     instruction returns x86_raise(cpu, in, vec, err), which takes away
 *     what did not retire.  An instruction that stops without retiring
 *     and without a fault (a REP string cut short, to be restarted) returns
 *     x86_restart(cpu, in).
 *   - Architectural state may change only after the last access that can
 *     fault: load and check everything first, then write registers.
 *   - Conditional branches (Jcc, LOOP*, JrCXZ) add 1 to cpu->brcount when
 *     they retire, taken or not.
 *   - Instructions that change the decode mode (hflags), CR0/CR3/CR4/EFER,
 *     segment registers CS/SS, EFLAGS.IF/TF, or that write memory holding
 *     later instructions of the same block on purpose must be marked
 *     X86_D_END so the block ends after them. */
#ifndef TANDEM_X86_INSN_H
#define TANDEM_X86_INSN_H

#include "targets/x86/cpu.h"

#ifndef likely
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

typedef const XInsn *XHandler(X86CPU *cpu, const XInsn *in);

#define X86_NONE 0xff            /* no base / no index register */

/* Prefix bits in XInsn.pfx */
#define X86_P_LOCK   (1u << 0)
#define X86_P_REP    (1u << 1)   /* F3 */
#define X86_P_REPNE  (1u << 2)   /* F2 */
#define X86_P_OPSIZE (1u << 3)   /* 66 */
#define X86_P_ADSIZE (1u << 4)   /* 67 */
#define X86_P_REX    (1u << 5)   /* any REX prefix */
#define X86_P_REXW   (1u << 6)
#define X86_P_VEX    (1u << 7)

struct XInsn {
    XHandler *fn;
    uint64_t pc;             /* RIP (offset in CS) of this instruction */
    int64_t disp;            /* memory operand displacement; RIP-relative
                              * already resolved to an absolute offset */
    uint64_t imm;            /* immediate, extended as the opcode says; for
                              * relative branches the target RIP */
    uint64_t imm2;           /* second immediate (ENTER's level, far
                              * pointer's selector) */
    uint16_t op;             /* map << 8 | opcode byte (X86_MAP_*) */
    uint16_t dflags;         /* X86_D_* of the table entry */
    uint8_t len;             /* bytes, 1..15 */
    uint8_t rem;             /* instructions after this one in its block */
    uint8_t osize;           /* operand size in bytes: 1, 2, 4, 8 */
    uint8_t asize;           /* address size in bytes: 2, 4, 8 */
    uint8_t seg;             /* segment of the memory operand (override or
                              * default: SS for [E/R]BP/[E/R]SP bases) */
    uint8_t pfx;             /* X86_P_* */
    uint8_t mod;             /* ModRM.mod; 3 = register operand */
    uint8_t reg;             /* ModRM.reg + REX.R, or the +r register */
    uint8_t rm;              /* ModRM.rm + REX.B (register when mod == 3) */
    uint8_t base, index;     /* memory operand registers or X86_NONE */
    uint8_t scale;           /* index shift 0..3 */
    uint8_t cc;              /* condition code (X86_D_CC) / low opcode bits */
    uint8_t vreg;            /* VEX.vvvv (inverted back), else 0 */
    uint8_t vexl;            /* VEX.L */
};

/* Byte registers: for byte operands the decoder maps a register number
 * r (0..15) to r, except AH/CH/DH/BH (r = 4..7 without any REX prefix),
 * which become X86_AH + (r - 4). */
#define X86_AH 16

/* Opcode maps */
#define X86_MAP_1B   0           /* one-byte opcodes */
#define X86_MAP_0F   1
#define X86_MAP_0F38 2
#define X86_MAP_0F3A 3
#define X86_OP(map, byte) ((uint16_t)((map) << 8 | (byte)))

/* Decode flags of a table entry (X86OpDef.flags, copied to XInsn.dflags) */
#define X86_D_MODRM   (1u << 0)  /* has a ModRM byte (and SIB/disp) */
#define X86_D_BYTE    (1u << 1)  /* operand size 1; reg and rm are byte regs */
#define X86_D_RMBYTE  (1u << 2)  /* only rm is a byte operand (MOVZX, SETcc) */
#define X86_D_DEF64   (1u << 3)  /* 64-bit mode: default operand size 64
                                  * (66 gives 16; no 32-bit form) */
#define X86_D_F64     (1u << 4)  /* 64-bit mode: operand size always 64
                                  * (near branches; Intel ignores 66) */
#define X86_D_NO64    (1u << 5)  /* #UD in 64-bit mode */
#define X86_D_ONLY64  (1u << 6)  /* #UD outside 64-bit mode */
#define X86_D_END     (1u << 7)  /* the block ends after this instruction */
#define X86_D_LOCK    (1u << 8)  /* LOCK allowed (with a memory operand) */
#define X86_D_PLUSR   (1u << 9)  /* entry covers opc..opc+7; reg = low 3
                                  * bits + REX.B */
#define X86_D_CC      (1u << 10) /* entry covers opc..opc+15; cc = low 4 bits */
#define X86_D_SSE     (1u << 11) /* 66/F3/F2 select the entry (X86OpDef.pfx)
                                  * and do not change osize */
#define X86_D_VEX     (1u << 12) /* VEX-encoded only (BMI1/BMI2) */
#define X86_D_SIZE16  (1u << 13) /* operand size fixed at 2 (ENTER's iw,
                                  * segment moves to memory, ...) */
#define X86_D_VEXW    (1u << 14) /* VEX.W selects osize 8 (else 4) */

/* Immediate kinds (X86OpDef.imm) */
enum {
    X86_I_NONE = 0,
    X86_I_B,                 /* 8 bits, sign-extended to 64 */
    X86_I_UB,                /* 8 bits, zero-extended */
    X86_I_W,                 /* 16 bits, zero-extended */
    X86_I_Z,                 /* 16 bits if osize 2 else 32, sign-extended */
    X86_I_V,                 /* osize bits (MOV r, imm64) */
    X86_I_WB,                /* ENTER: imm = iw, imm2 = ib */
    X86_I_FAR,               /* ptr16:16/32: imm = offset, imm2 = selector */
    X86_I_MOFFS,             /* asize offset into disp (MOV AL, moffs); no
                              * ModRM; base = index = X86_NONE */
    X86_I_REL8,              /* rel8: imm = target RIP (wrapped to osize) */
    X86_I_RELZ,              /* rel16/32: imm = target RIP */
};

/* Mandatory-prefix selector for X86_D_SSE entries */
enum { X86_PF_NONE = 0, X86_PF_66, X86_PF_F3, X86_PF_F2 };

/* ModRM form filter */
enum { X86_M_ANY = 0, X86_M_REG, X86_M_MEM };

/* Specialised handlers of one table entry (X86OpDef.fast), chosen by the
 * decoder for instructions decoded in 64-bit mode with operand size 4
 * ([0]) or 8 ([1]): reg[] when the operand is a register (ModRM.mod == 3,
 * or no ModRM byte), mem[] when it is memory with 64-bit addressing and a
 * segment without a base (not FS/GS).  A NULL member, or any other form,
 * keeps the generic fn.  A variant does exactly what fn does for that
 * form, with the size and the register-or-memory choice fixed; it may
 * rely on the mode and form (exec_fast.c). */
typedef struct X86Fast {
    XHandler *reg[2];
    XHandler *mem[2];
} X86Fast;

/* One opcode-table entry.  Each exec_*.c / sys.c / fpu.c / sse.c exports a
 * list ended by an entry with fn == NULL; decode.c merges them at startup
 * and reports a clash (two entries for one encoding) as a build-time-like
 * fatal error in its unit test. */
typedef struct X86OpDef {
    uint16_t op;             /* X86_OP(map, byte) */
    int8_t reg;              /* ModRM.reg for group opcodes, -1 = any */
    int8_t rm;               /* ModRM.rm when mod == 3 (0F 01 F8 ...), -1 = any */
    uint8_t mod;             /* X86_M_* */
    uint8_t pfx;             /* X86_PF_* for X86_D_SSE entries */
    uint8_t imm;             /* X86_I_* */
    uint16_t flags;          /* X86_D_* */
    XHandler *fn;
    const char *name;        /* mnemonic (tracing, tests) */
    const X86Fast *fast;     /* specialised variants of fn, or NULL */
} X86OpDef;

extern const X86OpDef x86_ops_int[];   /* exec_*.c: general-purpose */
extern const X86OpDef x86_ops_sys[];   /* sys.c, seg.c: system, I/O, far */
extern const X86OpDef x86_ops_fpu[];   /* fpu.c: x87, FXSAVE, XSAVE */
extern const X86OpDef x86_ops_sse[];   /* sse.c: MMX, SSE..SSE4.2 */

/* ---- decode.c ---- */
/* Decode one instruction from bytes[0..avail) at rip in mode hflags.
 * Fills *out (an undefined or over-long encoding gets a handler that
 * raises #UD or #GP/#PF as the hardware would) and returns its length, or
 * 0 when more than avail bytes are needed (the engine then fetches across
 * the page boundary and calls again). */
unsigned x86_decode(XInsn *out, const uint8_t *bytes, unsigned avail,
                    uint64_t rip, uint32_t hflags);
/* Peephole pass over a decoded block (exec_fast.c): pairs of
 * instructions that run as one handler.  The first of a pair gets the
 * fused handler and the second keeps its own; the fused one runs the pair
 * only while the second still has that handler, so an engine that stops a
 * block before an instruction (by giving it another handler) stays exact. */
void x86_fuse(XInsn *insns, unsigned n);
/* Handlers the decoder itself uses. */
XHandler x86_ud;             /* #UD */
XHandler x86_block_end;      /* end-of-block sentinel: sets rip */
/* Check the merged opcode tables: entries claiming the same encoding,
 * malformed entries.  Returns the number of problems (0: fine) and
 * describes the first few in msg. */
int x86_decode_check_tables(char *msg, size_t n);

/* ---- continuing and stopping ---- */
#define X86_NEXT(cpu, in) return (in)[1].fn((cpu), (in) + 1)

static inline uint64_t x86_next_rip(const XInsn *in)
{
    return in->pc + in->len;    /* wrapped by the decoder's mode rules */
}

/* Leave the block without retiring `in` (RIP = in->pc): used by REP
 * string instructions that stop mid-way and by HLT-like waits. */
const XInsn *x86_restart(X86CPU *cpu, const XInsn *in);
/* The instruction running now (in) is the last of its block: the run
 * loop gets control back after it (engine.c).  For a device access that
 * made an interrupt deliverable (mem.c). */
void x86_end_block_after(X86CPU *cpu, const XInsn *in);

/* Leave the block after `in` retired, at RIP = target. */
static inline const XInsn *x86_jump(X86CPU *cpu, const XInsn *in, uint64_t target)
{
    cpu->icount -= in->rem;
    cpu->rip = target;
    return NULL;
}

/* ---- registers ---- */
static inline uint64_t x86_size_mask(unsigned size)
{
    return size >= 8 ? ~0ull : (1ull << (size * 8)) - 1;
}

static inline uint64_t x86_sext(uint64_t v, unsigned size)
{
    switch (size) {
    case 1: return (uint64_t)(int64_t)(int8_t)v;
    case 2: return (uint64_t)(int64_t)(int16_t)v;
    case 4: return (uint64_t)(int64_t)(int32_t)v;
    default: return v;
    }
}

/* r as the decoder gives it (byte operands use the X86_AH mapping). */
static inline uint64_t x86_reg_get(const X86CPU *cpu, unsigned r, unsigned size)
{
    if (size == 1) {
        if (r >= X86_AH)
            return (cpu->regs[r - X86_AH] >> 8) & 0xff;
        return cpu->regs[r] & 0xff;
    }
    return cpu->regs[r] & x86_size_mask(size);
}

/* Writes as the hardware does: 32-bit results zero-extend to 64 bits,
 * 8- and 16-bit results merge. */
static inline void x86_reg_set(X86CPU *cpu, unsigned r, unsigned size, uint64_t v)
{
    switch (size) {
    case 1:
        if (r >= X86_AH) {
            uint64_t *p = &cpu->regs[r - X86_AH];
            *p = (*p & ~0xff00ull) | ((v & 0xff) << 8);
        } else {
            cpu->regs[r] = (cpu->regs[r] & ~0xffull) | (v & 0xff);
        }
        break;
    case 2:
        cpu->regs[r] = (cpu->regs[r] & ~0xffffull) | (v & 0xffff);
        break;
    case 4:
        cpu->regs[r] = (uint32_t)v;
        break;
    default:
        cpu->regs[r] = v;
    }
}

/* ---- memory operands ---- */
static inline uint64_t x86_addr_mask(unsigned asize)
{
    return asize == 8 ? ~0ull : asize == 4 ? 0xffffffffull : 0xffffull;
}

/* Effective address (offset in in->seg) of the ModRM memory operand. */
static inline uint64_t x86_ea(const X86CPU *cpu, const XInsn *in)
{
    uint64_t a = (uint64_t)in->disp;
    if (in->base != X86_NONE)
        a += cpu->regs[in->base];
    if (in->index != X86_NONE)
        a += cpu->regs[in->index] << in->scale;
    return a & x86_addr_mask(in->asize);
}

/* Guest memory through a segment (mem.c).  On a fault they raise it (the
 * instruction does not retire) and return false; the handler then returns
 * NULL.  With in == NULL (exception delivery, engine) a fault is recorded
 * with x86_pending_fault() instead.  size: 1, 2, 4, 8. */
bool x86_ld(X86CPU *cpu, const XInsn *in, int seg, uint64_t off, unsigned size,
            uint64_t *val);
bool x86_st(X86CPU *cpu, const XInsn *in, int seg, uint64_t off, unsigned size,
            uint64_t val);
/* Any length (10-byte x87 values, 16-byte XMM, 512-byte FXSAVE areas):
 * checks every byte's segment and page permission before the first byte
 * is moved, so a fault leaves memory untouched. */
bool x86_ld_buf(X86CPU *cpu, const XInsn *in, int seg, uint64_t off, void *buf,
                unsigned len);
bool x86_st_buf(X86CPU *cpu, const XInsn *in, int seg, uint64_t off,
                const void *buf, unsigned len);
/* Check that [off, off+len) is writable (or readable) without touching it:
 * for instructions that must fault before any state changes. */
bool x86_probe(X86CPU *cpu, const XInsn *in, int seg, uint64_t off, unsigned len,
               X86Access acc);
/* Linear-address accesses with supervisor rights (descriptor tables, TSS,
 * IDT): implicit supervisor accesses as the SDM defines them. */
bool x86_ld_lin(X86CPU *cpu, const XInsn *in, uint64_t lin, unsigned size,
                uint64_t *val);
bool x86_st_lin(X86CPU *cpu, const XInsn *in, uint64_t lin, unsigned size,
                uint64_t val);
/* Port I/O (after the I/O permission checks, sys.c). */
uint64_t x86_io_read(X86CPU *cpu, const XInsn *in, uint16_t port, unsigned size);
void x86_io_write(X86CPU *cpu, const XInsn *in, uint16_t port, unsigned size,
                  uint64_t val);

/* The ModRM r/m operand of size `size`: a register or memory. */
static inline bool x86_rm_get(X86CPU *cpu, const XInsn *in, unsigned size, uint64_t *v)
{
    if (in->mod == 3) {
        *v = x86_reg_get(cpu, in->rm, size);
        return true;
    }
    return x86_ld(cpu, in, in->seg, x86_ea(cpu, in), size, v);
}

static inline bool x86_rm_set(X86CPU *cpu, const XInsn *in, unsigned size, uint64_t v)
{
    if (in->mod == 3) {
        x86_reg_set(cpu, in->rm, size, v);
        return true;
    }
    return x86_st(cpu, in, in->seg, x86_ea(cpu, in), size, v);
}

/* Stack (seg.c): push/pop with the current stack size (SS.B / 64-bit mode);
 * x86_push checks the write before changing RSP. */
bool x86_push(X86CPU *cpu, const XInsn *in, unsigned size, uint64_t v);
bool x86_pop(X86CPU *cpu, const XInsn *in, unsigned size, uint64_t *v);
/* Pop without moving RSP (for instructions that must check several
 * values before committing); off is bytes above the top of stack. */
bool x86_peek(X86CPU *cpu, const XInsn *in, unsigned off, unsigned size, uint64_t *v);
static inline uint64_t x86_sp_mask(const X86CPU *cpu)
{
    return (cpu->hflags & X86_HF_CS64) ? ~0ull
         : (cpu->hflags & X86_HF_SS32) ? 0xffffffffull : 0xffffull;
}
/* Write RSP keeping the bits above the stack size (SP-only stacks). */
static inline void x86_set_sp(X86CPU *cpu, uint64_t v)
{
    uint64_t m = x86_sp_mask(cpu);
    cpu->regs[X86_RSP] = (cpu->regs[X86_RSP] & ~m) | (v & m);
}

#endif
