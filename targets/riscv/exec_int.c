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

#define ALU(name, expr)                                                       \
const RvInsn *rv_##name(RiscvCPU *cpu, const RvInsn *in)                      \
{                                                                             \
    uint64_t a = X(rs1), b = X(rs2), i = (uint64_t)in->imm;                   \
    (void)a; (void)b; (void)i;                                                \
    cpu->x[in->rd] = (expr);                                                  \
    RV_NEXT(cpu, in);                                                         \
}

const RvInsn *rv_nop(RiscvCPU *cpu, const RvInsn *in)
{
    RV_NEXT(cpu, in);
}

/* LUI, and AUIPC whose value the decoder computed from the pc. */
const RvInsn *rv_li(RiscvCPU *cpu, const RvInsn *in)
{
    cpu->x[in->rd] = (uint64_t)in->imm;
    RV_NEXT(cpu, in);
}

/* imm holds the original encoding (16-bit for compressed ones). */
const RvInsn *rv_illegal(RiscvCPU *cpu, const RvInsn *in)
{
    return riscv_raise(cpu, in, RV_EXC_ILLEGAL_INSN, (uint64_t)in->imm);
}

/* The decoder appends this after the last instruction of every block: a
 * block that ends without a control transfer (page end, size limit, a CSR
 * handler continuing) leaves here.  It is not an instruction: pc is the
 * next one's address and it retires nothing. */
const RvInsn *rv_block_end(RiscvCPU *cpu, const RvInsn *in)
{
    cpu->pc = in->pc;
    return NULL;
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
