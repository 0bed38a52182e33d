/* Handlers for the unprivileged integer ISA: RV32I/RV64I, M, A, Zifencei,
 * FENCE/PAUSE.
 *
 * RV32 reuses the RV64 "W" handlers for ADD, SUB, shifts, MUL, DIV, REM:
 * x[] holds sign-extended 32-bit values, so an RV64 W operation computes
 * exactly the RV32 result.  Bitwise ops, comparisons and branches are
 * width-agnostic for the same reason.  What truly depends on the width
 * (addresses, the pc, MULH*) lives in exec_xlen.h. */
#include <string.h>

#include "targets/riscv/decode.h"

#define X(r) (cpu->x[in->r])
#define SX32(v) ((uint64_t)(int64_t)(int32_t)(v))

/* alu_<name> computes the result; rv_<name> is the handler, and fused
 * pairs (below) reuse alu_<name>. */
#define ALU(name, expr)                                                       \
static inline uint64_t alu_##name(const RiscvCPU *cpu, const RvInsn *in)      \
{                                                                             \
    uint64_t a = X(rs1), b = X(rs2), i = (uint64_t)in->imm;                   \
    (void)a; (void)b; (void)i;                                                \
    return (expr);                                                            \
}                                                                             \
const RvInsn *rv_##name(RiscvCPU *cpu, const RvInsn *in)                      \
{                                                                             \
    cpu->x[in->rd] = alu_##name(cpu, in);                                     \
    RV_NEXT(cpu, in);                                                         \
}

const RvInsn *rv_nop(RiscvCPU *cpu, const RvInsn *in)
{
    RV_NEXT(cpu, in);
}

/* LUI, and AUIPC whose value the decoder computed from the pc. */
ALU(li, i)

/* imm holds the original encoding (16-bit for compressed ones). */
const RvInsn *rv_illegal(RiscvCPU *cpu, const RvInsn *in)
{
    return riscv_raise(cpu, in, RV_EXC_ILLEGAL_INSN, (uint64_t)in->imm);
}

/* The decoder appends this after the last instruction of every block: a
 * block that ends without a control transfer (page end, size limit, a
 * not-taken branch) leaves here.  It is not an instruction: pc is the next
 * one's address and it retires nothing. */
const RvInsn *rv_block_end(RiscvCPU *cpu, const RvInsn *in)
{
    return rv_chain(cpu, in->pc);
}

/* FENCE.I ends its block; later fetches see every store made before it
 * (engine.c: rv_code_fence). */
const RvInsn *rv_fence_i(RiscvCPU *cpu, const RvInsn *in)
{
    uint64_t next = in->pc + in->len;
    if (cpu->xlen == 32)
        next = (uint32_t)next;
    rv_code_fence(cpu);
    cpu->pc = next;
    return NULL;
}

ALU(add, a + b)
ALU(sub, a - b)
ALU(sll, a << (b & 63))
ALU(slt, (int64_t)a < (int64_t)b)
ALU(sltu, a < b)
ALU(xor, a ^ b)
ALU(srl, a >> (b & 63))
ALU(sra, (uint64_t)((int64_t)a >> (b & 63)))
ALU(or, a | b)
ALU(and, a & b)

ALU(addi, a + i)
ALU(slti, (int64_t)a < (int64_t)i)
ALU(sltiu, a < i)
ALU(xori, a ^ i)
ALU(ori, a | i)
ALU(andi, a & i)
ALU(slli, a << i)
ALU(srli, a >> i)
ALU(srai, (uint64_t)((int64_t)a >> i))

ALU(addw, SX32(a + b))
ALU(subw, SX32(a - b))
ALU(sllw, SX32((uint32_t)a << (b & 31)))
ALU(srlw, SX32((uint32_t)a >> (b & 31)))
ALU(sraw, SX32((int32_t)a >> (b & 31)))
ALU(addiw, SX32(a + i))
ALU(slliw, SX32((uint32_t)a << i))
ALU(srliw, SX32((uint32_t)a >> i))
ALU(sraiw, SX32((int32_t)a >> i))

ALU(mul, a * b)
ALU(mulw, SX32((uint32_t)a * (uint32_t)b))

/* Division never traps: x/0 = all ones, x%0 = x, MIN/-1 = MIN, MIN%-1 = 0. */
static inline uint64_t div64(int64_t a, int64_t b)
{
    if (b == 0)
        return ~0ull;
    if (a == INT64_MIN && b == -1)
        return (uint64_t)a;
    return (uint64_t)(a / b);
}

static inline uint64_t rem64(int64_t a, int64_t b)
{
    if (b == 0)
        return (uint64_t)a;
    if (a == INT64_MIN && b == -1)
        return 0;
    return (uint64_t)(a % b);
}

static inline uint64_t div32(int32_t a, int32_t b)
{
    if (b == 0)
        return ~0ull;
    if (a == INT32_MIN && b == -1)
        return SX32(a);
    return SX32(a / b);
}

static inline uint64_t rem32(int32_t a, int32_t b)
{
    if (b == 0)
        return SX32(a);
    if (a == INT32_MIN && b == -1)
        return 0;
    return SX32(a % b);
}

ALU(div, div64((int64_t)a, (int64_t)b))
ALU(divu, b ? a / b : ~0ull)
ALU(rem, rem64((int64_t)a, (int64_t)b))
ALU(remu, b ? a % b : a)
ALU(divw, div32((int32_t)a, (int32_t)b))
ALU(divuw, (uint32_t)b ? SX32((uint32_t)a / (uint32_t)b) : ~0ull)
ALU(remw, rem32((int32_t)a, (int32_t)b))
ALU(remuw, (uint32_t)b ? SX32((uint32_t)a % (uint32_t)b) : SX32(a))

/* ---- fused pairs ----
 *
 * Two adjacent register-only instructions of a block run as one handler:
 * one dispatch instead of two.  The pair has exactly the effect of the two
 * in order (the second reads its operands after the first wrote), both keep
 * their RvInsn, and nothing else can happen between them: neither can trap
 * nor touch memory.  Only run_partial (engine.c), which may have to stop
 * between the two, splits a pair again (riscv_plain). */

/* Those that also pair with a branch after them or a load or store before
 * or after them (exec_xlen.h: PAIR_MEMS). */
#define PAIR_HEADS(X, p)                                                      \
    X(p, add) X(p, sub) X(p, xor) X(p, and) X(p, addi) X(p, andi) X(p, addiw) \
    X(p, li)
#define PAIR_MEMS(X, p) X(p, ld) X(p, lw) X(p, sd) X(p, sw)

/* Register-only instructions that pair with each other.  The preprocessor
 * cannot expand a list inside itself: the pair table needs it twice. */
#define FUSABLE_A(X, p)                                                       \
    PAIR_HEADS(X, p) X(p, or) X(p, sll) X(p, srl) X(p, addw) X(p, xori)       \
    X(p, ori) X(p, slli) X(p, srli) X(p, srai)
#define FUSABLE_B(X, p)                                                       \
    X(p, add) X(p, sub) X(p, xor) X(p, and) X(p, addi) X(p, andi) X(p, addiw) \
    X(p, li) X(p, or) X(p, sll) X(p, srl) X(p, addw) X(p, xori) X(p, ori)     \
    X(p, slli) X(p, srli) X(p, srai)

#define FUSED_PAIR(first, second)                                             \
static const RvInsn *rv_##first##_##second(RiscvCPU *cpu, const RvInsn *in)   \
{                                                                             \
    cpu->x[in->rd] = alu_##first(cpu, in);                                    \
    cpu->x[in[1].rd] = alu_##second(cpu, in + 1);                             \
    RV_DISPATCH(cpu, in + 2);                                                 \
}
#define FUSED_ROW(_, first) FUSABLE_B(FUSED_PAIR, first)
FUSABLE_A(FUSED_ROW, _)

#define PLAIN(_, name) rv_##name,
#define PAIR_ENTRY(first, second) rv_##first##_##second,
#define PAIR_ROW(_, first) { FUSABLE_B(PAIR_ENTRY, first) },
static RvHandler *const fusable[] = { FUSABLE_A(PLAIN, _) };
#define NFUSABLE (sizeof(fusable) / sizeof(fusable[0]))
static RvHandler *const fused[][NFUSABLE] = { FUSABLE_A(PAIR_ROW, _) };
_Static_assert(sizeof(fused) == NFUSABLE * NFUSABLE * sizeof(RvHandler *),
               "FUSABLE_A and FUSABLE_B must list the same handlers");

/* AMO operations: new memory value from the old one and rs2.  The handler
 * truncates the result to the access width. */
static uint64_t amo_amoswap_w(uint64_t o, uint64_t s) { return s; }
static uint64_t amo_amoadd_w(uint64_t o, uint64_t s) { return o + s; }
static uint64_t amo_amoxor_w(uint64_t o, uint64_t s) { return o ^ s; }
static uint64_t amo_amoand_w(uint64_t o, uint64_t s) { return o & s; }
static uint64_t amo_amoor_w(uint64_t o, uint64_t s) { return o | s; }
static uint64_t amo_amomin_w(uint64_t o, uint64_t s)
{
    return (int32_t)o < (int32_t)s ? o : s;
}
static uint64_t amo_amomax_w(uint64_t o, uint64_t s)
{
    return (int32_t)o > (int32_t)s ? o : s;
}
static uint64_t amo_amominu_w(uint64_t o, uint64_t s)
{
    return (uint32_t)o < (uint32_t)s ? o : s;
}
static uint64_t amo_amomaxu_w(uint64_t o, uint64_t s)
{
    return (uint32_t)o > (uint32_t)s ? o : s;
}
#define amo_amoswap_d amo_amoswap_w
#define amo_amoadd_d amo_amoadd_w
#define amo_amoxor_d amo_amoxor_w
#define amo_amoand_d amo_amoand_w
#define amo_amoor_d amo_amoor_w
static uint64_t amo_amomin_d(uint64_t o, uint64_t s)
{
    return (int64_t)o < (int64_t)s ? o : s;
}
static uint64_t amo_amomax_d(uint64_t o, uint64_t s)
{
    return (int64_t)o > (int64_t)s ? o : s;
}
static uint64_t amo_amominu_d(uint64_t o, uint64_t s) { return o < s ? o : s; }
static uint64_t amo_amomaxu_d(uint64_t o, uint64_t s) { return o > s ? o : s; }

#define XLEN 32
#include "targets/riscv/exec_xlen.h"
#undef XLEN
#define XLEN 64
#include "targets/riscv/exec_xlen.h"
#undef XLEN

/* ---- specialised forms ---- */

static int find(RvHandler *const *table, unsigned n, RvHandler *h)
{
    for (unsigned k = 0; k < n; k++)
        if (table[k] == h)
            return (int)k;
    return -1;
}
#define FIND(table, h) find(table, sizeof(table) / sizeof(table[0]), h)

/* Branches and JAL, and their forms for a target in the same block. */
#define LOCAL_JUMPS(X) X(jal) X(beq) X(bne) X(blt) X(bge) X(bltu) X(bgeu)
#define JUMP_PAIR(n) { rv_##n##_32, rv_##n##_local_32 }, { rv_##n##_64, rv_##n##_local_64 },
static const struct { RvHandler *plain, *local; } jumps[] = { LOCAL_JUMPS(JUMP_PAIR) };
#define NJUMPS (sizeof(jumps) / sizeof(jumps[0]))

/* Pairs with a branch, a load or a store (exec_xlen.h): one row per
 * handler of the branch or access, one column per PAIR_HEADS entry. */
#define HEAD(_, first) rv_##first,
static RvHandler *const heads[] = { PAIR_HEADS(HEAD, _) };
#define NHEADS (sizeof(heads) / sizeof(heads[0]))
#define BRANCH_NAMES(X, p) X(p, beq) X(p, bne) X(p, blt) X(p, bge) X(p, bltu) X(p, bgeu)
#define LOCAL_BRANCH(_, br) rv_##br##_local_32, rv_##br##_local_64,
#define BRANCH_CELL_32(br, first) rv_##first##_##br##_32,
#define BRANCH_CELL_64(br, first) rv_##first##_##br##_64,
#define BRANCH_ROWS(_, br)                                                    \
    { PAIR_HEADS(BRANCH_CELL_32, br) }, { PAIR_HEADS(BRANCH_CELL_64, br) },
static RvHandler *const local_branches[] = { BRANCH_NAMES(LOCAL_BRANCH, _) };
static RvHandler *const head_branch[][NHEADS] = { BRANCH_NAMES(BRANCH_ROWS, _) };
#define MEM(_, mem) rv_##mem##_32, rv_##mem##_64,
#define HEAD_MEM_32(mem, first) rv_##first##_##mem##_32,
#define HEAD_MEM_64(mem, first) rv_##first##_##mem##_64,
#define MEM_HEAD_32(mem, second) rv_##mem##_##second##_32,
#define MEM_HEAD_64(mem, second) rv_##mem##_##second##_64,
#define HEAD_MEM_ROWS(_, mem)                                                 \
    { PAIR_HEADS(HEAD_MEM_32, mem) }, { PAIR_HEADS(HEAD_MEM_64, mem) },
#define MEM_HEAD_ROWS(_, mem)                                                 \
    { PAIR_HEADS(MEM_HEAD_32, mem) }, { PAIR_HEADS(MEM_HEAD_64, mem) },
static RvHandler *const mems[] = { PAIR_MEMS(MEM, _) };
static RvHandler *const head_mem[][NHEADS] = { PAIR_MEMS(HEAD_MEM_ROWS, _) };
static RvHandler *const mem_head[][NHEADS] = { PAIR_MEMS(MEM_HEAD_ROWS, _) };

/* Every handler a specialised one stands for: RvInsn.alt - 1 indexes it. */
#define JUMP_PLAIN(n) rv_##n##_32, rv_##n##_64,
static RvHandler *const plain[] = {
    FUSABLE_A(PLAIN, _) LOCAL_JUMPS(JUMP_PLAIN) PAIR_MEMS(MEM, _)
};
#define NPLAIN (sizeof(plain) / sizeof(plain[0]))
_Static_assert(NPLAIN < 255, "RvInsn.alt holds an index + 1 in a byte");

static int fusable_index(RvHandler *h)
{
    return FIND(fusable, h);
}

static void localise_jump(RvInsn *insns, unsigned n, unsigned i)
{
    unsigned k;
    for (k = 0; k < NJUMPS && jumps[k].plain != insns[i].fn; k++)
        ;
    if (k == NJUMPS)
        return;
    for (unsigned j = 0; j < n; j++) {
        if (insns[j].pc == (uint64_t)insns[i].imm) {
            insns[i].fn = jumps[k].local;
            insns[i].jump = (int16_t)((int)j - (int)i);
            insns[i].alt = (uint8_t)(FIND(plain, jumps[k].plain) + 1);
            return;
        }
    }
}

/* The handler running a and b as a pair, or NULL. */
static RvHandler *pair_of(RvHandler *a, RvHandler *b)
{
    int i = fusable_index(a), j = fusable_index(b), k;
    if (i >= 0 && j >= 0)
        return fused[i][j];
    if (i >= 0 && (i = FIND(heads, a)) >= 0) {
        if ((k = FIND(local_branches, b)) >= 0)
            return head_branch[k][i];
        if ((k = FIND(mems, b)) >= 0)
            return head_mem[k][i];
    }
    if (j >= 0 && (j = FIND(heads, b)) >= 0 && (k = FIND(mems, a)) >= 0)
        return mem_head[k][j];
    return NULL;
}

void riscv_specialise(RvInsn *insns, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        localise_jump(insns, n, i);
    /* The most pairs: best[i] counts those possible in insns[i..n). */
    RvHandler *pair[RV_MAX_BLOCK];
    unsigned best[RV_MAX_BLOCK + 2];
    best[n] = best[n + 1] = 0;
    for (unsigned i = n; i-- > 0;) {
        pair[i] = i + 1 < n ? pair_of(insns[i].fn, insns[i + 1].fn) : NULL;
        best[i] = best[i + 1];
        if (pair[i] && best[i + 2] + 1 > best[i])
            best[i] = best[i + 2] + 1;
        else
            pair[i] = NULL;
    }
    for (unsigned i = 0; i + 1 < n; i++) {
        if (!pair[i])
            continue;
        insns[i].alt = (uint8_t)(FIND(plain, insns[i].fn) + 1);
        insns[i].fn = pair[i];
        i++;
    }
}

RvHandler *riscv_plain(const RvInsn *in)
{
    return in->alt ? plain[in->alt - 1] : in->fn;
}
