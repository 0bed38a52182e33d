/* F and D extensions: decode + execute single instructions on a hart.
 *
 * The vector table's expectations were checked against qemu-system-riscv64
 * and qemu-system-riscv32 7.2 (the table ran there as a bare-metal guest with
 * the same register convention), so they are the reference's results, flags
 * included.  The random test checks the host-FPU fast path against the
 * software implementation in fpu_soft.h (which also serves RMM). */
#include <criterion/criterion.h>
#include <string.h>

#include "targets/riscv/cpu.h"
#include "targets/riscv/decode.h"
#include "targets/riscv/fpu_soft.h"
#include "vmm/machine.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE 0x10000ull

static Machine machine;
static uint8_t ram[RAM_SIZE];

static RiscvCPU *new_cpu(int xlen)
{
    memset(&machine, 0, sizeof(machine));
    as_init(&machine.as);
    cr_assert_eq(as_add_ram(&machine.as, "ram", RAM_BASE, RAM_SIZE, ram, false), 0);
    RiscvCPU *cpu = riscv_cpu_create(&machine, xlen);
    cpu->priv = RV_PRIV_M;
    cpu->mtvec = RAM_BASE + 0x100;
    cpu->mstatus = (cpu->mstatus & ~RV_MSTATUS_FS) | (1ull << 13);    /* Initial */
    return cpu;
}

static uint64_t sext32(uint64_t v)
{
    return (uint64_t)(int64_t)(int32_t)v;
}

/* Decode raw and run it at pc RAM_BASE.  *decoded tells whether
 * riscv_decode_fp accepted it (if not, the decoder raises illegal). */
static RvInsn insn[2];
static const RvInsn *run(RiscvCPU *cpu, uint32_t raw, bool *decoded)
{
    memset(insn, 0, sizeof(insn));
    insn[0].pc = RAM_BASE;
    insn[0].len = 4;
    cpu->pc = RAM_BASE;
    cpu->icount = 1;            /* the engine pre-adds the block length */
    *decoded = riscv_decode_fp(&insn[0], raw, cpu->xlen);
    if (!*decoded)
        return NULL;
    cr_assert_eq(insn[0].raw, raw);
    cr_assert_eq(insn[0].len, 4, "decode must not touch len");
    return insn[0].fn(cpu, &insn[0]);
}

/* Run an instruction that must retire. */
static void exec_ok(RiscvCPU *cpu, uint32_t raw)
{
    bool decoded;
    const RvInsn *next = run(cpu, raw, &decoded);
    cr_assert(decoded, "raw %08x not decoded", raw);
    cr_assert_eq(next, &insn[1], "raw %08x did not retire (mcause %llu)", raw,
                 (unsigned long long)cpu->mcause);
}

/* Run an instruction that must raise illegal instruction. */
static void exec_illegal(RiscvCPU *cpu, uint32_t raw)
{
    bool decoded;
    cpu->mcause = 0;
    const RvInsn *next = run(cpu, raw, &decoded);
    if (!decoded)
        return;
    cr_assert_null(next, "raw %08x retired", raw);
    cr_assert_eq(cpu->mcause, RV_EXC_ILLEGAL_INSN);
    cr_assert_eq(cpu->mtval, raw);
    cr_assert_eq(cpu->mepc, RAM_BASE);
}

/* ---- encodings; register convention: fd = f1 / xd = x12, fs1 = f2 /
 * xs1 = x11, fs2 = f3, fs3 = f4 ---- */
enum { S = 0, D = 1, DYN = 7 };
#define R_FP(f5, fmt, rs2, rs1, rm, rd)                                     \
    (((uint32_t)(f5) << 27) | ((uint32_t)(fmt) << 25) | ((rs2) << 20) |     \
     ((rs1) << 15) | ((uint32_t)(rm) << 12) | ((rd) << 7) | 0x53)
#define FADD(fmt, rm) R_FP(0x00, fmt, 3, 2, rm, 1)
#define FSUB(fmt, rm) R_FP(0x01, fmt, 3, 2, rm, 1)
#define FMUL(fmt, rm) R_FP(0x02, fmt, 3, 2, rm, 1)
#define FDIV(fmt, rm) R_FP(0x03, fmt, 3, 2, rm, 1)
#define FSQRT(fmt, rm) R_FP(0x0b, fmt, 0, 2, rm, 1)
#define FSGNJ(fmt, k) R_FP(0x04, fmt, 3, 2, k, 1)    /* k: 0 J, 1 JN, 2 JX */
#define FMIN(fmt) R_FP(0x05, fmt, 3, 2, 0, 1)
#define FMAX(fmt) R_FP(0x05, fmt, 3, 2, 1, 1)
#define FEQ(fmt) R_FP(0x14, fmt, 3, 2, 2, 12)
#define FLT(fmt) R_FP(0x14, fmt, 3, 2, 1, 12)
#define FLE(fmt) R_FP(0x14, fmt, 3, 2, 0, 12)
enum { W = 0, WU = 1, L = 2, LU = 3 };
#define FCVT_I_F(t, fmt, rm) R_FP(0x18, fmt, t, 2, rm, 12)  /* fcvt.t.fmt */
#define FCVT_F_I(fmt, t, rm) R_FP(0x1a, fmt, t, 11, rm, 1)  /* fcvt.fmt.t */
#define FCVT_S_D(rm) R_FP(0x08, S, 1, 2, rm, 1)
#define FCVT_D_S(rm) R_FP(0x08, D, 0, 2, rm, 1)
#define FMV_X_F(fmt) R_FP(0x1c, fmt, 0, 2, 0, 12)
#define FCLASS(fmt) R_FP(0x1c, fmt, 0, 2, 1, 12)
#define FMV_F_X(fmt) R_FP(0x1e, fmt, 0, 11, 0, 1)
#define R4(opc, fmt, rm)                                                    \
    ((4u << 27) | ((uint32_t)(fmt) << 25) | (3u << 20) | (2u << 15) |       \
     ((uint32_t)(rm) << 12) | (1u << 7) | (opc))
#define FMADD(fmt, rm) R4(0x43, fmt, rm)
#define FMSUB(fmt, rm) R4(0x47, fmt, rm)
#define FNMSUB(fmt, rm) R4(0x4b, fmt, rm)
#define FNMADD(fmt, rm) R4(0x4f, fmt, rm)
#define FLW(rd, rs1, imm) ((((uint32_t)(imm) & 0xfff) << 20) | ((rs1) << 15) | (2u << 12) | ((rd) << 7) | 0x07)
#define FLD(rd, rs1, imm) ((((uint32_t)(imm) & 0xfff) << 20) | ((rs1) << 15) | (3u << 12) | ((rd) << 7) | 0x07)
#define FSTORE(w, rs2, rs1, imm)                                            \
    (((((uint32_t)(imm) >> 5) & 0x7f) << 25) | ((rs2) << 20) | ((rs1) << 15) | \
     ((uint32_t)(w) << 12) | (((uint32_t)(imm) & 31) << 7) | 0x27)
#define FSW(rs2, rs1, imm) FSTORE(2, rs2, rs1, imm)
#define FSD(rs2, rs1, imm) FSTORE(3, rs2, rs1, imm)

/* Single-precision register images. */
#define B(x) (0xffffffff00000000ull | (uint32_t)(x))
#define S_ONE 0x3f800000u
#define S_MONE 0xbf800000u
#define S_TWO 0x40000000u
#define S_HALF 0x3f000000u
#define S_INF 0x7f800000u
#define S_NINF 0xff800000u
#define S_QNAN 0x7fc00000u
#define S_SNAN 0x7f800001u
#define S_MAX 0x7f7fffffu
#define D_ONE 0x3ff0000000000000ull
#define D_MONE 0xbff0000000000000ull
#define D_TWO 0x4000000000000000ull
#define D_HALF 0x3fe0000000000000ull
#define D_INF 0x7ff0000000000000ull
#define D_NINF 0xfff0000000000000ull
#define D_QNAN 0x7ff8000000000000ull
#define D_SNAN 0x7ff0000000000001ull
#define D_NZERO 0x8000000000000000ull

enum { NX = 1, UF = 2, OF = 4, DZ = 8, NV = 16 };

typedef struct FpuVec {
    uint32_t raw;
    uint8_t xlen;           /* 0: both */
    uint8_t frm;
    char dst;               /* 'f': f1, 'x': x12 (RV64 value), 't': illegal */
    uint64_t a, b, c, x;    /* f2, f3, f4, x11 */
    uint64_t res;
    uint8_t fl;
} FpuVec;

#define VF(raw, frm, a, b, c, res, fl) { raw, 0, frm, 'f', a, b, c, 0, res, fl }
#define VX(raw, frm, a, b, res, fl) { raw, 0, frm, 'x', a, b, 0, 0, res, fl }
#define VI(raw, frm, x, res, fl) { raw, 0, frm, 'f', 0, 0, 0, x, res, fl }
#define VT(raw, frm) { raw, 0, frm, 't', 0, 0, 0, 0, 0, 0 }
#define VL(...) { __VA_ARGS__ }     /* all fields, explicit xlen */

/* BEGIN VECTORS */
static const FpuVec vectors[] = {
    /* Rounding modes, dynamic: 1 + 2^-24 is a tie, the low side even. */
    VF(FADD(S, DYN), 0, B(S_ONE), B(0x33800000), 0, B(S_ONE), NX),
    VF(FADD(S, DYN), 1, B(S_ONE), B(0x33800000), 0, B(S_ONE), NX),
    VF(FADD(S, DYN), 2, B(S_ONE), B(0x33800000), 0, B(S_ONE), NX),
    VF(FADD(S, DYN), 3, B(S_ONE), B(0x33800000), 0, B(0x3f800001), NX),
    VF(FADD(S, DYN), 4, B(S_ONE), B(0x33800000), 0, B(0x3f800001), NX),
    VF(FADD(S, DYN), 0, B(S_MONE), B(0xb3800000), 0, B(S_MONE), NX),
    VF(FADD(S, DYN), 1, B(S_MONE), B(0xb3800000), 0, B(S_MONE), NX),
    VF(FADD(S, DYN), 2, B(S_MONE), B(0xb3800000), 0, B(0xbf800001), NX),
    VF(FADD(S, DYN), 3, B(S_MONE), B(0xb3800000), 0, B(S_MONE), NX),
    VF(FADD(S, DYN), 4, B(S_MONE), B(0xb3800000), 0, B(0xbf800001), NX),
    /* tie with the low side odd: RNE and RMM both go up */
    VF(FADD(S, DYN), 0, B(S_ONE), B(0x34400000), 0, B(0x3f800002), NX),
    VF(FADD(S, DYN), 4, B(S_ONE), B(0x34400000), 0, B(0x3f800002), NX),
    /* static rm overrides frm, even an invalid frm */
    VF(FADD(S, 4), 5, B(S_ONE), B(0x33800000), 0, B(0x3f800001), NX),
    VF(FADD(S, 0), 7, B(S_ONE), B(0x33800000), 0, B(S_ONE), NX),
    VF(FADD(D, DYN), 0, D_ONE, 0x3ca0000000000000ull, 0, D_ONE, NX),
    VF(FADD(D, DYN), 1, D_ONE, 0x3ca0000000000000ull, 0, D_ONE, NX),
    VF(FADD(D, DYN), 2, D_ONE, 0x3ca0000000000000ull, 0, D_ONE, NX),
    VF(FADD(D, DYN), 3, D_ONE, 0x3ca0000000000000ull, 0, 0x3ff0000000000001ull, NX),
    VF(FADD(D, DYN), 4, D_ONE, 0x3ca0000000000000ull, 0, 0x3ff0000000000001ull, NX),
    VF(FSUB(D, 4), 0, D_ONE, 0xbca0000000000000ull, 0, 0x3ff0000000000001ull, NX),
    VF(FSUB(D, 0), 0, D_ONE, D_ONE, 0, 0, 0),
    VF(FSUB(D, 2), 0, D_ONE, D_ONE, 0, D_NZERO, 0),
    VF(FADD(S, 2), 0, B(0x80000000), B(0), 0, B(0x80000000), 0),
    VF(FADD(S, 0), 0, B(0x80000000), B(0), 0, B(0), 0),
    /* reserved rounding modes */
    VT(FADD(S, DYN), 5), VT(FADD(S, DYN), 6), VT(FADD(S, DYN), 7),
    VT(FADD(S, 5), 0), VT(FMUL(D, 6), 0), VT(FMADD(D, 5), 0),
    VT(FSQRT(S, 6), 0), VT(FCVT_I_F(W, S, 5), 0), VT(FCVT_F_I(D, W, 6), 0),
    VT(FCVT_D_S(DYN), 5), VT(FCVT_F_I(D, W, DYN), 6), VT(FCVT_S_D(5), 0),
    /* RMM ties in the other operations (subnormal results) */
    VF(FMUL(S, DYN), 0, B(5), B(S_HALF), 0, B(2), UF | NX),
    VF(FMUL(S, DYN), 1, B(5), B(S_HALF), 0, B(2), UF | NX),
    VF(FMUL(S, DYN), 3, B(5), B(S_HALF), 0, B(3), UF | NX),
    VF(FMUL(S, DYN), 4, B(5), B(S_HALF), 0, B(3), UF | NX),
    VF(FMUL(S, DYN), 2, B(0x80000005), B(S_HALF), 0, B(0x80000003), UF | NX),
    VF(FMUL(S, DYN), 4, B(0x80000005), B(S_HALF), 0, B(0x80000003), UF | NX),
    VF(FMUL(D, DYN), 0, 5, D_HALF, 0, 2, UF | NX),
    VF(FMUL(D, DYN), 4, 5, D_HALF, 0, 3, UF | NX),
    VF(FDIV(D, DYN), 4, 5, D_TWO, 0, 3, UF | NX),
    VF(FDIV(S, DYN), 4, B(5), B(S_TWO), 0, B(3), UF | NX),
    VF(FDIV(S, DYN), 0, B(5), B(S_TWO), 0, B(2), UF | NX),
    VF(FMADD(D, DYN), 4, D_ONE, D_ONE, 0x3ca0000000000000ull, 0x3ff0000000000001ull, NX),
    VF(FMADD(D, DYN), 0, D_ONE, D_ONE, 0x3ca0000000000000ull, D_ONE, NX),
    VF(FMADD(S, 4), 0, B(S_ONE), B(S_ONE), B(0x33800000), B(0x3f800001), NX),
    VF(FMADD(S, 0), 0, B(S_ONE), B(S_ONE), B(0x33800000), B(S_ONE), NX),
    VF(FSQRT(D, 4), 0, D_TWO, 0, 0, 0x3ff6a09e667f3bcdull, NX),
    VF(FSQRT(D, 1), 0, D_TWO, 0, 0, 0x3ff6a09e667f3bccull, NX),
    VF(FSQRT(S, 4), 0, B(S_TWO), 0, 0, B(0x3fb504f3), NX),
    VF(FSQRT(S, 3), 0, B(S_TWO), 0, 0, B(0x3fb504f4), NX),
    VF(FSQRT(S, 4), 0, B(0x40800000), 0, 0, B(S_TWO), 0),
    /* NV, DZ, OF, NX */
    VF(FADD(S, 0), 0, B(S_INF), B(S_NINF), 0, B(S_QNAN), NV),
    VF(FSUB(D, 0), 0, D_INF, D_INF, 0, D_QNAN, NV),
    VF(FMUL(S, 0), 0, B(0), B(S_INF), 0, B(S_QNAN), NV),
    VF(FDIV(S, 0), 0, B(S_ONE), B(0), 0, B(S_INF), DZ),
    VF(FDIV(D, 0), 0, D_MONE, 0, 0, D_NINF, DZ),
    VF(FDIV(D, 0), 0, 0, 0, 0, D_QNAN, NV),
    VF(FDIV(S, 0), 0, B(S_INF), B(S_INF), 0, B(S_QNAN), NV),
    VF(FDIV(S, 0), 0, B(S_ONE), B(0x40400000), 0, B(0x3eaaaaab), NX),
    VF(FDIV(S, 4), 0, B(S_ONE), B(0x40400000), 0, B(0x3eaaaaab), NX),
    VF(FSQRT(S, 0), 0, B(S_MONE), 0, 0, B(S_QNAN), NV),
    VF(FSQRT(D, 0), 0, D_NZERO, 0, 0, D_NZERO, 0),
    VF(FSQRT(D, 4), 0, D_NINF, 0, 0, D_QNAN, NV),
    VF(FMUL(S, 0), 0, B(S_MAX), B(S_TWO), 0, B(S_INF), OF | NX),
    VF(FMUL(S, 1), 0, B(S_MAX), B(S_TWO), 0, B(S_MAX), OF | NX),
    VF(FMUL(S, 2), 0, B(S_MAX), B(S_TWO), 0, B(S_MAX), OF | NX),
    VF(FMUL(S, 3), 0, B(S_MAX), B(S_TWO), 0, B(S_INF), OF | NX),
    VF(FMUL(S, 4), 0, B(S_MAX), B(S_TWO), 0, B(S_INF), OF | NX),
    VF(FMUL(S, 3), 0, B(0xff7fffff), B(S_TWO), 0, B(0xff7fffff), OF | NX),
    VF(FMUL(D, 4), 0, 0x7fefffffffffffffull, D_TWO, 0, D_INF, OF | NX),
    VF(FMUL(D, 1), 0, 0xffefffffffffffffull, D_TWO, 0, 0xffefffffffffffffull, OF | NX),
    /* UF: tininess after rounding.  (1 + 2^-23) * (2^-126 (1 - 2^-23)) =
     * 2^-126 (1 - 2^-46) rounds to 2^-126 at full precision: not tiny in
     * RNE/RUP/RMM, tiny in RTZ/RDN. */
    VF(FMUL(S, DYN), 0, B(0x3f800001), B(0x007fffff), 0, B(0x00800000), NX),
    VF(FMUL(S, DYN), 1, B(0x3f800001), B(0x007fffff), 0, B(0x007fffff), UF | NX),
    VF(FMUL(S, DYN), 2, B(0x3f800001), B(0x007fffff), 0, B(0x007fffff), UF | NX),
    VF(FMUL(S, DYN), 3, B(0x3f800001), B(0x007fffff), 0, B(0x00800000), NX),
    VF(FMUL(S, DYN), 4, B(0x3f800001), B(0x007fffff), 0, B(0x00800000), NX),
    VF(FMUL(D, DYN), 0, 0x3ff0000000000001ull, 0x000fffffffffffffull, 0, 0x0010000000000000ull, NX),
    VF(FMUL(D, DYN), 1, 0x3ff0000000000001ull, 0x000fffffffffffffull, 0, 0x000fffffffffffffull, UF | NX),
    VF(FMUL(D, DYN), 4, 0x3ff0000000000001ull, 0x000fffffffffffffull, 0, 0x0010000000000000ull, NX),
    VF(FMADD(S, DYN), 0, B(0x3f800001), B(0x007fffff), B(0), B(0x00800000), NX),
    VF(FMADD(S, DYN), 1, B(0x3f800001), B(0x007fffff), B(0), B(0x007fffff), UF | NX),
    VF(FMADD(D, DYN), 4, 0x3ff0000000000001ull, 0x000fffffffffffffull, D_NZERO, 0x0010000000000000ull, NX),
    VF(FMADD(D, DYN), 2, 0x3ff0000000000001ull, 0x000fffffffffffffull, D_NZERO, 0x000fffffffffffffull, UF | NX),
    /* exact tiny results raise nothing */
    VF(FMUL(S, 0), 0, B(2), B(S_HALF), 0, B(1), 0),
    VF(FADD(D, 0), 0, 1, 0x800fffffffffffffull, 0, 0x800ffffffffffffeull, 0),
    VF(FMUL(S, 0), 0, B(1), B(S_HALF), 0, B(0), UF | NX),
    VF(FMUL(S, 3), 0, B(1), B(S_HALF), 0, B(1), UF | NX),
    VF(FMUL(S, 4), 0, B(1), B(S_HALF), 0, B(1), UF | NX),
    /* fused multiply-add */
    VF(FMADD(S, 0), 0, B(0x3f800800), B(0x3f800800), B(0xbf801000), B(0x33800000), 0),
    VF(FMSUB(S, 0), 0, B(S_TWO), B(0x40400000), B(S_ONE), B(0x40a00000), 0),
    VF(FNMSUB(S, 0), 0, B(S_TWO), B(0x40400000), B(S_ONE), B(0xc0a00000), 0),
    VF(FNMADD(S, 0), 0, B(S_TWO), B(0x40400000), B(S_ONE), B(0xc0e00000), 0),
    VF(FNMADD(S, 0), 0, B(S_ONE), B(S_ONE), B(S_MONE), B(0), 0),
    VF(FNMADD(S, 2), 0, B(S_ONE), B(S_ONE), B(S_MONE), B(0x80000000), 0),
    VF(FNMSUB(D, 0), 0, D_ONE, D_ONE, D_ONE, 0, 0),
    VF(FMSUB(D, 0), 0, 0, D_ONE, 0, 0, 0),
    VF(FMSUB(D, 0), 0, D_NZERO, D_ONE, 0, D_NZERO, 0),
    VF(FMADD(S, 0), 0, B(0), B(S_INF), B(S_QNAN), B(S_QNAN), NV),
    VF(FMADD(D, 0), 0, D_INF, 0, 0x7ff8000000000123ull, D_QNAN, NV),
    VF(FMADD(D, 4), 0, D_INF, 0, D_ONE, D_QNAN, NV),
    VF(FMADD(S, 0), 0, B(S_INF), B(S_ONE), B(S_NINF), B(S_QNAN), NV),
    VF(FMADD(S, 0), 0, B(S_QNAN), B(S_ONE), B(S_ONE), B(S_QNAN), 0),
    VF(FMADD(S, 0), 0, B(S_ONE), B(S_ONE), B(S_SNAN), B(S_QNAN), NV),
    VF(FNMADD(D, 0), 0, D_ONE, D_ONE, D_SNAN, D_QNAN, NV),
    VF(FMADD(D, 0), 0, 0x7fe0000000000000ull, D_TWO, D_NINF, D_NINF, 0),
    VF(FMADD(D, 0), 0, 0x7fe0000000000000ull, D_TWO, 0xffe0000000000000ull, 0x7fe0000000000000ull, 0),
    VF(FMADD(S, 0), 0, B(S_MAX), B(S_TWO), B(0xff7fffff), B(S_MAX), 0),
    /* NaN boxing of single operands */
    VF(FADD(S, 0), 0, 0x000000003f800000ull, B(S_ONE), 0, B(S_QNAN), 0),
    VF(FADD(S, 0), 0, B(S_ONE), 0x7fffffff3f800000ull, 0, B(S_QNAN), 0),
    VF(FMADD(S, 0), 0, B(S_ONE), B(S_ONE), 0xfffffffe00000000ull, B(S_QNAN), 0),
    VF(FSGNJ(S, 0), 0, 0x123456783f800000ull, B(S_MONE), 0, B(0xffc00000), 0),
    VF(FSGNJ(S, 1), 0, B(S_ONE), 0x0000000080000000ull, 0, B(S_MONE), 0),
    VF(FSGNJ(S, 0), 0, 0x0000000180000000ull, 0x0000000180000000ull, 0, B(S_QNAN), 0),
    VF(FMAX(S), 0, 0x00000000ffffffffull, B(S_ONE), 0, B(S_ONE), 0),
    VF(FMIN(S), 0, 0x00000000ffffffffull, 0x00000000ffffffffull, 0, B(S_QNAN), 0),
    VF(FCVT_D_S(0), 0, 0x000000003f800000ull, 0, 0, D_QNAN, 0),
    VX(FCLASS(S), 0, 0xfffffffe3f800000ull, 0, 0x200, 0),
    VX(FEQ(S), 0, 0x7fffffff7f800000ull, B(S_QNAN), 0, 0),
    VX(FMV_X_F(S), 0, 0x1234567880000000ull, 0, 0xffffffff80000000ull, 0),
    VX(FMV_X_F(S), 0, B(0x7f800001), 0, 0x7f800001, 0),
    VI(FMV_F_X(S), 0, 0x12345678bf800000ull, B(S_MONE), 0),
    VX(FCVT_I_F(W, S, 0), 0, 0x000000003f800000ull, 0, 0x7fffffff, NV),
    /* canonical NaN results; sign injection and moves keep payloads */
    VF(FADD(S, 0), 0, B(0x7fc12345), B(S_ONE), 0, B(S_QNAN), 0),
    VF(FADD(S, 0), 0, B(0xffc00000), B(S_ONE), 0, B(S_QNAN), 0),
    VF(FADD(S, 0), 0, B(S_SNAN), B(S_ONE), 0, B(S_QNAN), NV),
    VF(FSUB(S, 4), 0, B(S_ONE), B(0xff812345), 0, B(S_QNAN), NV),
    VF(FMUL(D, 0), 0, D_SNAN, 0x7ff8000000012345ull, 0, D_QNAN, NV),
    VF(FDIV(D, 4), 0, 0xfff8000000012345ull, D_ONE, 0, D_QNAN, 0),
    VF(FSQRT(D, 0), 0, 0x7ff8000000012345ull, 0, 0, D_QNAN, 0),
    VF(FSQRT(S, 0), 0, B(S_SNAN), 0, 0, B(S_QNAN), NV),
    VF(FSGNJ(S, 0), 0, B(0x7fc12345), B(S_MONE), 0, B(0xffc12345), 0),
    VF(FSGNJ(S, 2), 0, B(S_MONE), B(0xc0000000), 0, B(S_ONE), 0),
    VF(FSGNJ(S, 1), 0, B(S_SNAN), B(S_SNAN), 0, B(0xff800001), 0),
    VF(FSGNJ(D, 0), 0, D_ONE, B(0), 0, D_MONE, 0),
    VF(FSGNJ(D, 2), 0, D_MONE, D_MONE, 0, D_ONE, 0),
    VF(FSGNJ(D, 1), 0, D_SNAN, D_ONE, 0, 0xfff0000000000001ull, 0),
    /* fmin/fmax: minimumNumber/maximumNumber, -0 < +0 */
    VF(FMIN(S), 0, B(0x80000000), B(0), 0, B(0x80000000), 0),
    VF(FMIN(S), 0, B(0), B(0x80000000), 0, B(0x80000000), 0),
    VF(FMAX(S), 0, B(0x80000000), B(0), 0, B(0), 0),
    VF(FMAX(S), 0, B(0), B(0x80000000), 0, B(0), 0),
    VF(FMIN(D), 0, D_NZERO, 0, 0, D_NZERO, 0),
    VF(FMAX(D), 0, 0, D_NZERO, 0, 0, 0),
    VF(FMIN(S), 0, B(S_QNAN), B(S_ONE), 0, B(S_ONE), 0),
    VF(FMIN(S), 0, B(S_ONE), B(0x7fc12345), 0, B(S_ONE), 0),
    VF(FMIN(S), 0, B(S_SNAN), B(S_ONE), 0, B(S_ONE), NV),
    VF(FMAX(S), 0, B(S_MONE), B(S_SNAN), 0, B(S_MONE), NV),
    VF(FMAX(S), 0, B(0x7fc12345), B(0xffc00001), 0, B(S_QNAN), 0),
    VF(FMAX(S), 0, B(S_SNAN), B(S_QNAN), 0, B(S_QNAN), NV),
    VF(FMIN(D), 0, D_SNAN, D_SNAN, 0, D_QNAN, NV),
    VF(FMIN(D), 0, D_NINF, D_ONE, 0, D_NINF, 0),
    VF(FMAX(D), 0, D_MONE, 0xc000000000000000ull, 0, D_MONE, 0),
    VF(FMIN(S), 0, B(1), B(0x80000001), 0, B(0x80000001), 0),
    VF(FMAX(D), 0, 0x7ff8000000000000ull, 1, 0, 1, 0),
    /* compares: FEQ quiet, FLT/FLE signaling */
    VX(FEQ(S), 0, B(S_QNAN), B(S_ONE), 0, 0),
    VX(FEQ(S), 0, B(S_SNAN), B(S_ONE), 0, NV),
    VX(FEQ(D), 0, D_ONE, D_SNAN, 0, NV),
    VX(FEQ(S), 0, B(0x80000000), B(0), 1, 0),
    VX(FEQ(D), 0, D_ONE, D_ONE, 1, 0),
    VX(FEQ(D), 0, D_QNAN, D_QNAN, 0, 0),
    VX(FLT(S), 0, B(S_QNAN), B(S_ONE), 0, NV),
    VX(FLE(S), 0, B(S_ONE), B(S_QNAN), 0, NV),
    VX(FLE(D), 0, D_QNAN, D_QNAN, 0, NV),
    VX(FLT(S), 0, B(0x80000000), B(0), 0, 0),
    VX(FLE(S), 0, B(0x80000000), B(0), 1, 0),
    VX(FLE(D), 0, 0, D_NZERO, 1, 0),
    VX(FLT(S), 0, B(S_MONE), B(S_ONE), 1, 0),
    VX(FLT(S), 0, B(0xc0000000), B(S_MONE), 1, 0),
    VX(FLT(S), 0, B(S_MONE), B(0xc0000000), 0, 0),
    VX(FLE(D), 0, D_TWO, D_ONE, 0, 0),
    VX(FLT(D), 0, D_NINF, D_INF, 1, 0),
    VX(FLT(D), 0, 1, 2, 1, 0),
    VX(FLE(D), 0, 0x8000000000000002ull, 0x8000000000000001ull, 1, 0),
    /* to integer: saturation, NV only when out of range */
    VX(FCVT_I_F(W, S, 0), 0, B(S_QNAN), 0, 0x7fffffff, NV),
    VX(FCVT_I_F(W, S, 0), 0, B(0xffc00000), 0, 0x7fffffff, NV),
    VX(FCVT_I_F(W, S, 0), 0, B(S_SNAN), 0, 0x7fffffff, NV),
    VX(FCVT_I_F(W, S, 0), 0, B(S_INF), 0, 0x7fffffff, NV),
    VX(FCVT_I_F(W, S, 0), 0, B(S_NINF), 0, 0xffffffff80000000ull, NV),
    VX(FCVT_I_F(W, S, 0), 0, B(0x4f32d05e), 0, 0x7fffffff, NV),
    VX(FCVT_I_F(W, S, 0), 0, B(0xcf32d05e), 0, 0xffffffff80000000ull, NV),
    VX(FCVT_I_F(W, S, 0), 0, B(0x4f000000), 0, 0x7fffffff, NV),
    VX(FCVT_I_F(W, S, 0), 0, B(0xcf000000), 0, 0xffffffff80000000ull, 0),
    VX(FCVT_I_F(W, S, DYN), 0, B(0x40200000), 0, 2, NX),
    VX(FCVT_I_F(W, S, DYN), 1, B(0x40200000), 0, 2, NX),
    VX(FCVT_I_F(W, S, DYN), 2, B(0x40200000), 0, 2, NX),
    VX(FCVT_I_F(W, S, DYN), 3, B(0x40200000), 0, 3, NX),
    VX(FCVT_I_F(W, S, DYN), 4, B(0x40200000), 0, 3, NX),
    VX(FCVT_I_F(W, S, DYN), 0, B(0xc0200000), 0, (uint64_t)-2, NX),
    VX(FCVT_I_F(W, S, DYN), 1, B(0xc0200000), 0, (uint64_t)-2, NX),
    VX(FCVT_I_F(W, S, DYN), 2, B(0xc0200000), 0, (uint64_t)-3, NX),
    VX(FCVT_I_F(W, S, DYN), 3, B(0xc0200000), 0, (uint64_t)-2, NX),
    VX(FCVT_I_F(W, S, DYN), 4, B(0xc0200000), 0, (uint64_t)-3, NX),
    VX(FCVT_I_F(W, D, 0), 0, 0x41dfffffffe00000ull, 0, 0x7fffffff, NV),
    VX(FCVT_I_F(W, D, 1), 0, 0x41dfffffffe00000ull, 0, 0x7fffffff, NX),
    VX(FCVT_I_F(W, D, 4), 0, 0xc1e0000000100000ull, 0, 0xffffffff80000000ull, NV),
    VX(FCVT_I_F(W, D, 0), 0, 0xc1e0000000100000ull, 0, 0xffffffff80000000ull, NX),
    VX(FCVT_I_F(W, D, 0), 0, 1, 0, 0, NX),
    VX(FCVT_I_F(W, D, 2), 0, 0x8000000000000001ull, 0, (uint64_t)-1, NX),
    VX(FCVT_I_F(W, D, 0), 0, D_NZERO, 0, 0, 0),
    VX(FCVT_I_F(WU, S, 0), 0, B(S_MONE), 0, 0, NV),
    VX(FCVT_I_F(WU, S, 1), 0, B(0xbf000000), 0, 0, NX),
    VX(FCVT_I_F(WU, S, 0), 0, B(0xbf000000), 0, 0, NX),
    VX(FCVT_I_F(WU, S, 4), 0, B(0xbf000000), 0, 0, NV),
    VX(FCVT_I_F(WU, S, 0), 0, B(0xbf333333), 0, 0, NV),
    VX(FCVT_I_F(WU, S, 3), 0, B(0xbf333333), 0, 0, NX),
    VX(FCVT_I_F(WU, S, 0), 0, B(0x4f7fffff), 0, 0xffffffffffffff00ull, 0),
    VX(FCVT_I_F(WU, S, 0), 0, B(0x4f800000), 0, ~0ull, NV),
    VX(FCVT_I_F(WU, S, 0), 0, B(S_QNAN), 0, ~0ull, NV),
    VX(FCVT_I_F(WU, S, 0), 0, B(S_INF), 0, ~0ull, NV),
    VX(FCVT_I_F(WU, S, 0), 0, B(S_NINF), 0, 0, NV),
    VX(FCVT_I_F(WU, D, 0), 0, 0x41efffffffe00000ull, 0, ~0ull, 0),
    VX(FCVT_I_F(WU, D, 4), 0, 0x41efffffffe00000ull + 0x100000, 0, ~0ull, NV),
    VX(FCVT_I_F(WU, D, 1), 0, 0x41efffffffe00000ull + 0x100000, 0, ~0ull, NX),
    /* from integer; W/WU read the low 32 bits of x[rs1] */
    VI(FCVT_F_I(S, W, 0), 0, 0xffffffff80000000ull, B(0xcf000000), 0),
    VI(FCVT_F_I(S, W, 0), 0, 0x0000000080000000ull, B(0xcf000000), 0),
    VI(FCVT_F_I(S, W, DYN), 0, 16777217, B(0x4b800000), NX),
    VI(FCVT_F_I(S, W, DYN), 1, 16777217, B(0x4b800000), NX),
    VI(FCVT_F_I(S, W, DYN), 2, 16777217, B(0x4b800000), NX),
    VI(FCVT_F_I(S, W, DYN), 3, 16777217, B(0x4b800001), NX),
    VI(FCVT_F_I(S, W, DYN), 4, 16777217, B(0x4b800001), NX),
    VI(FCVT_F_I(S, W, DYN), 2, (uint64_t)-16777217, B(0xcb800001), NX),
    VI(FCVT_F_I(S, W, DYN), 4, (uint64_t)-16777217, B(0xcb800001), NX),
    VI(FCVT_F_I(S, W, DYN), 3, (uint64_t)-16777217, B(0xcb800000), NX),
    VI(FCVT_F_I(S, WU, 0), 0, 0xffffffff, B(0x4f800000), NX),
    VI(FCVT_F_I(S, WU, 1), 0, 0xffffffff, B(0x4f7fffff), NX),
    VI(FCVT_F_I(S, WU, 0), 0, 0, B(0), 0),
    VI(FCVT_F_I(D, W, 0), 0, 0xdeadbeef00000005ull, 0x4014000000000000ull, 0),
    VI(FCVT_F_I(D, W, 0), 0, 0xffffffff, D_MONE, 0),
    VI(FCVT_F_I(D, WU, 0), 0, 0xffffffff, 0x41efffffffe00000ull, 0),
    /* conversions between formats */
    VF(FCVT_S_D(DYN), 0, 0x3ff0000010000000ull, 0, 0, B(S_ONE), NX),
    VF(FCVT_S_D(DYN), 4, 0x3ff0000010000000ull, 0, 0, B(0x3f800001), NX),
    VF(FCVT_S_D(DYN), 3, 0x3ff0000000000001ull, 0, 0, B(0x3f800001), NX),
    VF(FCVT_S_D(0), 0, 0x7e37e43c8800759cull, 0, 0, B(S_INF), OF | NX),
    VF(FCVT_S_D(1), 0, 0x7e37e43c8800759cull, 0, 0, B(S_MAX), OF | NX),
    VF(FCVT_S_D(4), 0, 0xfe37e43c8800759cull, 0, 0, B(S_NINF), OF | NX),
    VF(FCVT_S_D(0), 0, 0x7ff8000000012345ull, 0, 0, B(S_QNAN), 0),
    VF(FCVT_S_D(0), 0, D_SNAN, 0, 0, B(S_QNAN), NV),
    VF(FCVT_S_D(0), 0, D_NINF, 0, 0, B(S_NINF), 0),
    VF(FCVT_S_D(0), 0, 0x380ffffff0000000ull, 0, 0, B(0x00800000), NX),
    VF(FCVT_S_D(1), 0, 0x380ffffff0000000ull, 0, 0, B(0x007fffff), UF | NX),
    VF(FCVT_S_D(4), 0, 0x380ffffff0000000ull, 0, 0, B(0x00800000), NX),
    VF(FCVT_S_D(4), 0, 0x36a8000000000000ull, 0, 0, B(0x00000002), UF | NX),
    VF(FCVT_S_D(0), 0, 0x36a8000000000000ull, 0, 0, B(0x00000002), UF | NX),
    VF(FCVT_S_D(0), 0, 0x36a0000000000000ull, 0, 0, B(0x00000001), 0),
    VF(FCVT_S_D(0), 0, 1, 0, 0, B(0), UF | NX),
    VF(FCVT_S_D(3), 0, 1, 0, 0, B(1), UF | NX),
    VF(FCVT_D_S(0), 0, B(0x3fc00000), 0, 0, 0x3ff8000000000000ull, 0),
    VF(FCVT_D_S(0), 0, B(1), 0, 0, 0x36a0000000000000ull, 0),
    VF(FCVT_D_S(0), 0, B(S_SNAN), 0, 0, D_QNAN, NV),
    VF(FCVT_D_S(4), 0, B(0xffc12345), 0, 0, D_QNAN, 0),
    VF(FCVT_D_S(0), 0, B(S_NINF), 0, 0, D_NINF, 0),
    VF(FCVT_D_S(0), 0, B(0x80000000), 0, 0, D_NZERO, 0),
    /* FCLASS: all ten classes */
    VX(FCLASS(S), 0, B(S_NINF), 0, 0x001, 0),
    VX(FCLASS(S), 0, B(S_MONE), 0, 0x002, 0),
    VX(FCLASS(S), 0, B(0x807fffff), 0, 0x004, 0),
    VX(FCLASS(S), 0, B(0x80000000), 0, 0x008, 0),
    VX(FCLASS(S), 0, B(0), 0, 0x010, 0),
    VX(FCLASS(S), 0, B(1), 0, 0x020, 0),
    VX(FCLASS(S), 0, B(S_MAX), 0, 0x040, 0),
    VX(FCLASS(S), 0, B(S_INF), 0, 0x080, 0),
    VX(FCLASS(S), 0, B(0xff800001), 0, 0x100, 0),
    VX(FCLASS(S), 0, B(0xffc00000), 0, 0x200, 0),
    VX(FCLASS(D), 0, D_NINF, 0, 0x001, 0),
    VX(FCLASS(D), 0, 0x8010000000000000ull, 0, 0x002, 0),
    VX(FCLASS(D), 0, 0x8000000000000001ull, 0, 0x004, 0),
    VX(FCLASS(D), 0, D_NZERO, 0, 0x008, 0),
    VX(FCLASS(D), 0, 0, 0, 0x010, 0),
    VX(FCLASS(D), 0, 0x000fffffffffffffull, 0, 0x020, 0),
    VX(FCLASS(D), 0, D_ONE, 0, 0x040, 0),
    VX(FCLASS(D), 0, D_INF, 0, 0x080, 0),
    VX(FCLASS(D), 0, 0x7ff7ffffffffffffull, 0, 0x100, 0),
    VX(FCLASS(D), 0, 0x7ff8000000000001ull, 0, 0x200, 0),
    VX(FCLASS(D), 0, B(S_ONE), 0, 0x200, 0),
    /* encodings that are not F/D instructions */
    VT(FSGNJ(S, 3), 0), VT(R_FP(0x05, D, 3, 2, 2, 1), 0),
    VT(R_FP(0x14, S, 3, 2, 3, 12), 0), VT(R_FP(0x1c, S, 0, 2, 2, 12), 0),
    VT(R_FP(0x1c, S, 1, 2, 0, 12), 0), VT(R_FP(0x1e, S, 0, 11, 1, 1), 0),
    VT(FSQRT(S, 0) | (1u << 20), 0), VT(R_FP(0x08, S, 0, 2, 0, 1), 0),
    VT(R_FP(0x08, D, 1, 2, 0, 1), 0), VT(R_FP(0x18, S, 4, 2, 0, 12), 0),
    VT(R_FP(0x1a, D, 5, 11, 0, 1), 0), VT(FADD(3, 0), 0), VT(FMADD(3, 0), 0),
    VT(R_FP(0x06, S, 3, 2, 0, 1), 0), VT(R_FP(0x1f, D, 0, 2, 0, 1), 0),
    VT(FLW(1, 2, 0) ^ (3u << 12), 0), VT(FSW(1, 2, 0) ^ (3u << 12), 0),

    /* RV64 only */
    VL(FCVT_I_F(L, D, 0), 64, 0, 'x', 0x43e0000000000000ull, 0, 0, 0, 0x7fffffffffffffffull, NV),
    VL(FCVT_I_F(L, D, 0), 64, 0, 'x', 0xc3e0000000000000ull, 0, 0, 0, 0x8000000000000000ull, 0),
    VL(FCVT_I_F(L, D, 0), 64, 0, 'x', 0x43e158e460913d00ull, 0, 0, 0, 0x7fffffffffffffffull, NV),
    VL(FCVT_I_F(L, D, 0), 64, 0, 'x', D_QNAN, 0, 0, 0, 0x7fffffffffffffffull, NV),
    VL(FCVT_I_F(L, D, 0), 64, 0, 'x', D_NINF, 0, 0, 0, 0x8000000000000000ull, NV),
    VL(FCVT_I_F(L, D, 0), 64, 0, 'x', D_HALF, 0, 0, 0, 0, NX),
    VL(FCVT_I_F(L, D, 4), 64, 0, 'x', D_HALF, 0, 0, 0, 1, NX),
    VL(FCVT_I_F(L, D, 4), 64, 0, 'x', 0xbfe0000000000000ull, 0, 0, 0, (uint64_t)-1, NX),
    VL(FCVT_I_F(L, S, 0), 64, 0, 'x', B(0xdf000000), 0, 0, 0, 0x8000000000000000ull, 0),
    VL(FCVT_I_F(L, S, 0), 64, 0, 'x', B(0x5f000000), 0, 0, 0, 0x7fffffffffffffffull, NV),
    VL(FCVT_I_F(LU, D, 0), 64, 0, 'x', 0x43f0000000000000ull, 0, 0, 0, ~0ull, NV),
    VL(FCVT_I_F(LU, D, 0), 64, 0, 'x', 0x43efffffffffffffull, 0, 0, 0, 0xfffffffffffff800ull, 0),
    VL(FCVT_I_F(LU, D, 0), 64, 0, 'x', D_MONE, 0, 0, 0, 0, NV),
    VL(FCVT_I_F(LU, D, 0), 64, 0, 'x', D_SNAN, 0, 0, 0, ~0ull, NV),
    VL(FCVT_I_F(LU, S, 0), 64, 0, 'x', B(0x80000000), 0, 0, 0, 0, 0),
    VL(FCVT_I_F(LU, S, 2), 64, 0, 'x', B(0xbf000000), 0, 0, 0, 0, NV),
    VL(FCVT_F_I(D, L, 0), 64, 0, 'f', 0, 0, 0, 0x7fffffffffffffffull, 0x43e0000000000000ull, NX),
    VL(FCVT_F_I(D, L, 1), 64, 0, 'f', 0, 0, 0, 0x7fffffffffffffffull, 0x43dfffffffffffffull, NX),
    VL(FCVT_F_I(D, L, 0), 64, 0, 'f', 0, 0, 0, 0x8000000000000000ull, 0xc3e0000000000000ull, 0),
    VL(FCVT_F_I(D, LU, 0), 64, 0, 'f', 0, 0, 0, ~0ull, 0x43f0000000000000ull, NX),
    VL(FCVT_F_I(D, LU, 1), 64, 0, 'f', 0, 0, 0, ~0ull, 0x43efffffffffffffull, NX),
    VL(FCVT_F_I(D, LU, 4), 64, 0, 'f', 0, 0, 0, 0x0020000000000001ull, 0x4340000000000001ull, NX),
    VL(FCVT_F_I(D, LU, 0), 64, 0, 'f', 0, 0, 0, 0x0020000000000001ull, 0x4340000000000000ull, NX),
    VL(FCVT_F_I(S, L, 0), 64, 0, 'f', 0, 0, 0, (uint64_t)-1, B(S_MONE), 0),
    VL(FCVT_F_I(S, LU, 4), 64, 0, 'f', 0, 0, 0, 0x8000008000000000ull, B(0x5f000001), NX),
    VL(FCVT_F_I(S, LU, 0), 64, 0, 'f', 0, 0, 0, 0x8000008000000000ull, B(0x5f000000), NX),
    VL(FMV_X_F(D), 64, 0, 'x', D_SNAN, 0, 0, 0, D_SNAN, 0),
    VL(FMV_F_X(D), 64, 0, 'f', 0, 0, 0, 0x000000003f800000ull, 0x000000003f800000ull, 0),
    /* RV32: no L/LU conversions, no FMV.X.D / FMV.D.X */
    VL(FCVT_I_F(L, D, 0), 32, 0, 't'), VL(FCVT_I_F(LU, S, 0), 32, 0, 't'),
    VL(FCVT_F_I(D, L, 0), 32, 0, 't'), VL(FCVT_F_I(S, LU, 0), 32, 0, 't'),
    VL(FMV_X_F(D), 32, 0, 't'), VL(FMV_F_X(D), 32, 0, 't'),
};
/* END VECTORS */

#define PRESET_F 0x1111111111111111ull
#define PRESET_X 0x2222222222222222ull

static void run_vectors(int xlen)
{
    RiscvCPU *cpu = new_cpu(xlen);
    for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
        const FpuVec *v = &vectors[i];
        if (v->xlen && v->xlen != xlen)
            continue;
        uint64_t preset_x = xlen == 32 ? sext32(PRESET_X) : PRESET_X;
        cpu->f[1] = PRESET_F;
        cpu->f[2] = v->a;
        cpu->f[3] = v->b;
        cpu->f[4] = v->c;
        cpu->x[11] = xlen == 32 ? sext32(v->x) : v->x;
        cpu->x[12] = preset_x;
        cpu->frm = v->frm;
        cpu->fflags = 0;
        cpu->mstatus = (cpu->mstatus & ~RV_MSTATUS_FS) | (1ull << 13);

        bool decoded;
        cpu->mcause = 0;
        const RvInsn *next = run(cpu, v->raw, &decoded);
        if (v->dst == 't') {
            cr_expect(!decoded || (next == NULL && cpu->mcause == RV_EXC_ILLEGAL_INSN &&
                                   cpu->mtval == v->raw),
                      "vector %zu (raw %08x, rv%d): expected illegal", i, v->raw, xlen);
            cr_expect_eq(cpu->f[1], PRESET_F, "vector %zu: f1 written", i);
            cr_expect_eq(cpu->fflags, 0, "vector %zu: fflags written", i);
            cr_expect_eq(cpu->mstatus & RV_MSTATUS_FS, 1ull << 13);
            continue;
        }
        cr_expect(decoded && next == &insn[1], "vector %zu (raw %08x, rv%d): did not retire",
                  i, v->raw, xlen);
        if (v->dst == 'x') {
            uint64_t want = xlen == 32 ? sext32(v->res) : v->res;
            cr_expect_eq(cpu->x[12], want, "vector %zu (raw %08x, rv%d): x12 %016llx, want %016llx",
                         i, v->raw, xlen, (unsigned long long)cpu->x[12],
                         (unsigned long long)want);
            cr_expect_eq(cpu->f[1], PRESET_F);
        } else {
            cr_expect_eq(cpu->f[1], v->res, "vector %zu (raw %08x, rv%d): f1 %016llx, want %016llx",
                         i, v->raw, xlen, (unsigned long long)cpu->f[1],
                         (unsigned long long)v->res);
            cr_expect_eq(cpu->x[12], preset_x);
            cr_expect_eq(cpu->mstatus & RV_MSTATUS_FS, RV_MSTATUS_FS,
                         "vector %zu: FS not dirty after writing f1", i);
        }
        cr_expect_eq(cpu->fflags, v->fl, "vector %zu (raw %08x, rv%d, frm %d): fflags %02x, want %02x",
                     i, v->raw, xlen, v->frm, cpu->fflags, v->fl);
        if (v->fl)
            cr_expect_eq(cpu->mstatus & RV_MSTATUS_FS, RV_MSTATUS_FS);
    }
    riscv_cpu_free(cpu);
}

Test(riscv_fpu, vectors_rv64) { run_vectors(64); }
Test(riscv_fpu, vectors_rv32) { run_vectors(32); }

/* fflags accrue (OR) rather than overwrite. */
Test(riscv_fpu, flags_accrue)
{
    RiscvCPU *cpu = new_cpu(64);
    cpu->fflags = DZ;
    cpu->f[2] = B(S_ONE);
    cpu->f[3] = B(0x40400000);
    exec_ok(cpu, FDIV(S, 0));
    cr_assert_eq(cpu->fflags, DZ | NX);
    riscv_cpu_free(cpu);
}

Test(riscv_fpu, fs_off_is_illegal)
{
    static const uint32_t raws[] = {
        FADD(S, 0), FMADD(D, 0), FSGNJ(S, 0), FMV_X_F(S), FMV_F_X(D),
        FEQ(D), FCLASS(S), FCVT_I_F(W, S, 0), FCVT_F_I(D, W, 0),
        FLW(1, 10, 0), FSD(2, 10, 8), FMIN(S),
    };
    RiscvCPU *cpu = new_cpu(64);
    for (size_t i = 0; i < sizeof(raws) / sizeof(raws[0]); i++) {
        cpu->mstatus &= ~RV_MSTATUS_FS;
        cpu->x[10] = RAM_BASE + 0x1000;
        cpu->x[12] = 7;
        cpu->f[1] = PRESET_F;
        exec_illegal(cpu, raws[i]);
        cr_expect_eq(cpu->f[1], PRESET_F);
        cr_expect_eq(cpu->x[12], 7);
        cr_expect_eq(cpu->mstatus & RV_MSTATUS_FS, 0);
    }
    riscv_cpu_free(cpu);
}

/* A compressed FP load/store trapping for FS off reports the 16-bit
 * encoding as fetched (QEMU does too), though it arrives expanded. */
Test(riscv_fpu, fs_off_compressed_tval)
{
    for (int xlen = 32; xlen <= 64; xlen += 32) {
        RiscvCPU *cpu = new_cpu(xlen);
        int n = 0;
        for (uint32_t c = 0; c < 0x10000; c++) {
            if ((c & 3) == 3)
                continue;
            uint32_t raw = riscv_rvc_expand((uint16_t)c, xlen);
            if ((raw & 0x5f) != 0x07)           /* LOAD-FP or STORE-FP */
                continue;
            memset(insn, 0, sizeof(insn));
            insn[0].len = 2;
            insn[0].pc = RAM_BASE;
            cr_assert(riscv_decode_fp(&insn[0], raw, xlen));
            cpu->mstatus &= ~RV_MSTATUS_FS;
            cpu->icount = 1;
            cr_assert_null(insn[0].fn(cpu, &insn[0]));
            cr_assert_eq(cpu->mcause, RV_EXC_ILLEGAL_INSN);
            cr_assert_eq(cpu->mtval, c, "rv%d: %04x expanded to %08x gave tval %llx",
                         xlen, c, raw, (unsigned long long)cpu->mtval);
            n++;
        }
        cr_expect_eq(n, (xlen == 32 ? 8 : 4) * 2048);   /* 11 free bits per form */
        riscv_cpu_free(cpu);
    }
}

Test(riscv_fpu, fs_dirty)
{
    RiscvCPU *cpu = new_cpu(64);
    cpu->x[10] = RAM_BASE + 0x1000;
    /* Stores, moves to x and flag-free compares leave FS alone. */
    exec_ok(cpu, FSD(2, 10, 0));
    exec_ok(cpu, FMV_X_F(D));
    exec_ok(cpu, FEQ(D));
    exec_ok(cpu, FCLASS(S));
    cr_assert_eq(cpu->mstatus & RV_MSTATUS_FS, 1ull << 13);
    /* A compare that raises a flag writes fflags. */
    cpu->f[2] = D_SNAN;
    exec_ok(cpu, FEQ(D));
    cr_assert_eq(cpu->fflags, NV);
    cr_assert_eq(cpu->mstatus & RV_MSTATUS_FS, RV_MSTATUS_FS);
    /* Any f[] write dirties, flags or not. */
    cpu->mstatus = (cpu->mstatus & ~RV_MSTATUS_FS) | (2ull << 13);
    exec_ok(cpu, FSGNJ(D, 0));
    cr_assert_eq(cpu->mstatus & RV_MSTATUS_FS, RV_MSTATUS_FS);
    riscv_cpu_free(cpu);
}

Test(riscv_fpu, loads_and_stores)
{
    for (int xlen = 32; xlen <= 64; xlen += 32) {
        RiscvCPU *cpu = new_cpu(xlen);
        uint64_t base = xlen == 32 ? sext32(RAM_BASE + 0x2000) : RAM_BASE + 0x2000;
        cpu->x[10] = base;
        memset(ram + 0x1800, 0, 0x1000);
        cpu->f[5] = 0x0123456789abcdefull;
        exec_ok(cpu, FSD(5, 10, -16));
        exec_ok(cpu, FLD(6, 10, -16));
        cr_expect_eq(cpu->f[6], 0x0123456789abcdefull);
        cr_expect_eq(ram[0x2000 - 16], 0xef);
        /* FLW boxes; FSW stores the low half even when not boxed. */
        exec_ok(cpu, FLW(7, 10, -12));
        cr_expect_eq(cpu->f[7], B(0x01234567));
        cpu->f[8] = 0x00000000cafef00dull;
        exec_ok(cpu, FSW(8, 10, -2048));
        exec_ok(cpu, FLW(9, 10, -2048));
        cr_expect_eq(cpu->f[9], B(0xcafef00d));
        exec_ok(cpu, FSW(8, 10, 32));
        cr_expect_eq(ram[0x2000 + 32], 0x0d);
        cr_expect_eq(ram[0x2000 + 35], 0xca);
        cr_expect_eq(ram[0x2000 + 36], 0);
        cr_expect_eq(cpu->mstatus & RV_MSTATUS_FS, RV_MSTATUS_FS);
        /* A faulting load traps and leaves the register alone. */
        cpu->x[10] = 0x1000;
        cpu->f[6] = PRESET_F;
        bool decoded;
        cr_expect_null(run(cpu, FLD(6, 10, 0), &decoded));
        cr_expect_eq(cpu->mcause, RV_EXC_LOAD_ACCESS);
        cr_expect_eq(cpu->f[6], PRESET_F);
        cr_expect_null(run(cpu, FSW(6, 10, 0), &decoded));
        cr_expect_eq(cpu->mcause, RV_EXC_STORE_ACCESS);
        riscv_cpu_free(cpu);
    }
}

Test(riscv_fpu, decode_operands)
{
    RvInsn in;
    memset(&in, 0, sizeof(in));
    in.len = 2;
    in.pc = 0x1234;
    cr_assert(riscv_decode_fp(&in, FLD(3, 4, -8), 64));
    cr_expect_eq(in.rd, 3);
    cr_expect_eq(in.rs1, 4);
    cr_expect_eq(in.imm, -8);
    cr_expect_eq(in.len, 2);
    cr_expect_eq(in.pc, 0x1234);
    cr_assert(riscv_decode_fp(&in, FSW(5, 6, -2048), 32));
    cr_expect_eq(in.rs1, 6);
    cr_expect_eq(in.rs2, 5);
    cr_expect_eq(in.imm, -2048);
    cr_assert(riscv_decode_fp(&in, FSD(5, 6, 2047), 64));
    cr_expect_eq(in.imm, 2047);
    cr_assert(riscv_decode_fp(&in, FMADD(D, 3), 64));
    cr_expect_eq(in.rd, 1);
    cr_expect_eq(in.rs1, 2);
    cr_expect_eq(in.rs2, 3);
    cr_expect_eq(in.rs3, 4);
    /* Integer destinations x0 go to the sink. */
    cr_assert(riscv_decode_fp(&in, R_FP(0x14, S, 3, 2, 2, 0), 64));
    cr_expect_eq(in.rd, RV_SINK);
    cr_assert(riscv_decode_fp(&in, R_FP(0x18, D, 0, 2, 0, 0), 32));
    cr_expect_eq(in.rd, RV_SINK);
    cr_assert(riscv_decode_fp(&in, R_FP(0x1c, S, 0, 2, 1, 0), 32));
    cr_expect_eq(in.rd, RV_SINK);
    /* ...but f0 is a real register. */
    cr_assert(riscv_decode_fp(&in, R_FP(0x00, S, 3, 2, 0, 0), 64));
    cr_expect_eq(in.rd, 0);
    cr_expect(!riscv_decode_fp(&in, 0x00000033, 64));
    cr_expect(!riscv_decode_fp(&in, 0x00000073, 64));
}

Test(riscv_fpu, x0_destination)
{
    RiscvCPU *cpu = new_cpu(64);
    cpu->f[2] = D_ONE;
    cpu->f[3] = D_ONE;
    exec_ok(cpu, R_FP(0x14, D, 3, 2, 2, 0));
    exec_ok(cpu, R_FP(0x18, D, 0, 2, 0, 0));
    cr_expect_eq(cpu->x[0], 0);
    riscv_cpu_free(cpu);
}

Test(riscv_fpu, rv32_integer_results_sign_extended)
{
    RiscvCPU *cpu = new_cpu(32);
    cpu->f[2] = 0x41efffffffe00000ull;                  /* 4294967295.0 */
    exec_ok(cpu, FCVT_I_F(WU, D, 0));
    cr_expect_eq(cpu->x[12], ~0ull);
    cpu->f[2] = B(0x80000001);
    exec_ok(cpu, FMV_X_F(S));
    cr_expect_eq(cpu->x[12], 0xffffffff80000001ull);
    cpu->x[11] = 0xffffffff80000000ull;
    exec_ok(cpu, FCVT_F_I(D, WU, 0));
    cr_expect_eq(cpu->f[1], 0x41e0000000000000ull);
    riscv_cpu_free(cpu);
}

/* ---- host fast path against the software implementation ---- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Values that exercise the corners: subnormals, near-overflow, integers
 * around 2^31/2^63, ties. */
static uint64_t rand_val(int f)
{
    int mb = fpu_mant_bits(f);
    uint64_t emax = fpu_exp_max(f), bias = (uint64_t)fpu_bias(f);
    uint64_t r = next_rand(), e, m, mmask = (1ull << mb) - 1;
    switch (r % 12) {
    case 0: e = 0; break;
    case 1: e = 1 + (r >> 8) % 3; break;
    case 2: e = emax - 1 - (r >> 8) % 3; break;
    case 3: e = emax; break;
    case 4: e = bias + (r >> 8) % 8 - 4; break;
    case 5: e = bias + 31 - (r >> 8) % 3; break;
    case 6: e = bias + 63 - (r >> 8) % 3; break;
    case 7: e = bias + mb + 1 - (r >> 8) % 4; break;
    default: e = 1 + (r >> 8) % (emax - 1); break;
    }
    uint64_t r2 = next_rand();
    switch (r2 % 6) {
    case 0: m = 0; break;
    case 1: m = mmask; break;
    case 2: m = 1ull << ((r2 >> 8) % mb); break;
    case 3: m = mmask >> ((r2 >> 8) % mb); break;
    default: m = next_rand() & mmask; break;
    }
    return ((r >> 40) & 1 ? fpu_sign_mask(f) : 0) | (e << mb) | m;
}

static uint64_t freg(int f, uint64_t v)
{
    return f == S ? B(v) : v;
}

Test(riscv_fpu, host_matches_soft)
{
    RiscvCPU *cpu = new_cpu(64);
    long bad = 0;
    for (int i = 0; i < 40000; i++) {
        int f = i & 1;
        uint64_t a = rand_val(f), b = rand_val(f), c = rand_val(f);
        if (i % 5 == 0)
            c = fpu_soft_mul(f, a, b, FPU_RTZ, &(uint32_t){0}) ^ fpu_sign_mask(f);
        for (int rm = 0; rm < 5; rm++) {
            uint32_t raws[] = { FADD(f, rm), FMUL(f, rm), FDIV(f, rm), FSQRT(f, rm),
                                FMADD(f, rm) };
            for (int k = 0; k < 5; k++) {
                uint32_t fl = 0;
                uint64_t want;
                switch (k) {
                case 0: want = fpu_soft_add(f, a, b, rm, &fl); break;
                case 1: want = fpu_soft_mul(f, a, b, rm, &fl); break;
                case 2: want = fpu_soft_div(f, a, b, rm, &fl); break;
                case 3: want = fpu_soft_sqrt(f, a, rm, &fl); break;
                default: want = fpu_soft_fma(f, a, b, c, rm, &fl); break;
                }
                /* With NX already accrued the host takes its fast path. */
                uint32_t before = (i >> 1) & 1 ? NX : 0;
                fl |= before;
                cpu->f[2] = freg(f, a);
                cpu->f[3] = freg(f, b);
                cpu->f[4] = freg(f, c);
                cpu->fflags = before;
                exec_ok(cpu, raws[k]);
                if (cpu->f[1] != freg(f, want) || cpu->fflags != fl) {
                    if (bad++ < 10)
                        cr_log_error("op %d f %d rm %d: %llx %llx %llx -> %llx/%x, soft %llx/%x",
                                     k, f, rm, (unsigned long long)a, (unsigned long long)b,
                                     (unsigned long long)c, (unsigned long long)cpu->f[1],
                                     cpu->fflags, (unsigned long long)want, fl);
                }
            }
            if (f == D) {
                uint32_t fl = (i >> 1) & 1 ? NX : 0;
                uint64_t want = fpu_soft_cvt(FPU_S, FPU_D, a, rm, &fl);
                cpu->f[2] = a;
                cpu->fflags = (i >> 1) & 1 ? NX : 0;
                exec_ok(cpu, FCVT_S_D(rm));
                if (cpu->f[1] != B(want) || cpu->fflags != fl)
                    bad++;
            }
        }
    }
    cr_expect_eq(bad, 0);
    riscv_cpu_free(cpu);
}

/* Integer conversions round-trip where exact, and RMM differs from RNE only
 * on ties. */
Test(riscv_fpu, soft_conversions_consistent)
{
    for (int i = 0; i < 20000; i++) {
        int f = i & 1;
        uint64_t a = rand_val(f);
        uint32_t fl = 0;
        uint64_t n = fpu_soft_to_int(f, a, FPU_RTZ, true, 64, &fl);
        if (!(fl & FPU_NV)) {
            uint32_t fl2 = 0;
            bool neg = (int64_t)n < 0;
            uint64_t back = fpu_soft_from_int(f, neg, neg ? -n : n, FPU_RTZ, &fl2);
            /* truncation toward zero never increases the magnitude */
            cr_expect(fpu_abs(f, back) <= fpu_abs(f, a) || fpu_is_zero(f, back));
            cr_expect_eq(fl2, 0, "integer-valued %llx converts back exactly",
                         (unsigned long long)back);
        }
        uint32_t f1 = 0, f2 = 0, f3 = 0;
        uint64_t rne = fpu_soft_to_int(f, a, FPU_RNE, true, 64, &f1);
        uint64_t rmm = fpu_soft_to_int(f, a, FPU_RMM, true, 64, &f2);
        uint64_t rtz = fpu_soft_to_int(f, a, FPU_RTZ, true, 64, &f3);
        if (rne != rmm && !(f1 & FPU_NV) && !(f2 & FPU_NV))
            cr_expect(rmm - rtz == (uint64_t)((int64_t)rmm < 0 ? -1 : 1),
                      "RMM rounds away from zero on a tie");
    }
}
