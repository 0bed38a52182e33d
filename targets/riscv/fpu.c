/* RISC-V F and D extensions: decode and execute, RV32 and RV64.
 *
 * Arithmetic in RNE/RTZ/RDN/RUP runs on the host FPU where fpu_x86.h can
 * use it; RMM (which SSE lacks), other hosts and hosts without FMA use the
 * exact software implementation in fpu_soft.h.  Both give every NaN result
 * as the canonical NaN and detect tininess after rounding.  Conversions to
 * integer, compares, min/max and classify work on the bits. */
#include "targets/riscv/cpu.h"
#include "targets/riscv/fpu_soft.h"
#include "targets/riscv/fpu_x86.h"

#define FPU_BOX 0xffffffff00000000ull

/* ---- operations on raw values, any rounding mode ----
 * *fl holds the flags accrued so far (the host fast path looks at NX) and
 * receives the new ones. */

#ifdef FPU_HOST_X86
#define FPU_HOST(rm) ((rm) != FPU_RMM)
#else
/* Never called: FPU_HOST is false. */
#define FPU_HOST(rm) false
#define fpu_x86_add(...) 0
#define fpu_x86_mul(...) 0
#define fpu_x86_div(...) 0
#define fpu_x86_sqrt(...) 0
#define fpu_x86_fma(...) false
#define fpu_x86_d_to_s(...) 0
#endif

static inline uint64_t fpu_add(int f, uint64_t a, uint64_t b, int rm, uint32_t *fl)
{
    return FPU_HOST(rm) ? fpu_x86_add(f, a, b, rm, fl) : fpu_soft_add(f, a, b, rm, fl);
}

static inline uint64_t fpu_mul(int f, uint64_t a, uint64_t b, int rm, uint32_t *fl)
{
    return FPU_HOST(rm) ? fpu_x86_mul(f, a, b, rm, fl) : fpu_soft_mul(f, a, b, rm, fl);
}

static inline uint64_t fpu_div(int f, uint64_t a, uint64_t b, int rm, uint32_t *fl)
{
    return FPU_HOST(rm) ? fpu_x86_div(f, a, b, rm, fl) : fpu_soft_div(f, a, b, rm, fl);
}

static inline uint64_t fpu_sqrt(int f, uint64_t a, int rm, uint32_t *fl)
{
    return FPU_HOST(rm) ? fpu_x86_sqrt(f, a, a, rm, fl) : fpu_soft_sqrt(f, a, rm, fl);
}

static inline uint64_t fpu_fma(int f, uint64_t a, uint64_t b, uint64_t c, int rm,
                               uint32_t *fl)
{
    uint64_t r;
    if (FPU_HOST(rm) && fpu_x86_fma(f, a, b, c, rm, fl, &r)) {
        return r;
    }
    return fpu_soft_fma(f, a, b, c, rm, fl);
}

static inline uint64_t fpu_d_to_s(uint64_t a, int rm, uint32_t *fl)
{
    return FPU_HOST(rm) ? fpu_x86_d_to_s(a, rm, fl) : fpu_soft_cvt(FPU_S, FPU_D, a, rm, fl);
}

/* ---- register access and handler plumbing ---- */

/* A single operand: the low half if properly NaN-boxed, else canonical NaN. */
static inline uint64_t fpu_get(const RiscvCPU *cpu, int f, unsigned r)
{
    uint64_t v = cpu->f[r];
    if (f == FPU_D) {
        return v;
    }
    return (v & FPU_BOX) == FPU_BOX ? (uint32_t)v : fpu_default_nan(FPU_S);
}

static inline void fpu_set(RiscvCPU *cpu, int f, unsigned r, uint64_t v)
{
    cpu->f[r] = f == FPU_S ? FPU_BOX | (uint32_t)v : v;
    riscv_fs_dirty(cpu);
}

static inline void fpu_accrue(RiscvCPU *cpu, uint32_t fl)
{
    if (fl) {
        cpu->fflags |= fl;
        riscv_fs_dirty(cpu);
    }
}

#define FPU_BITS(v, hi, lo) (((v) >> (lo)) & ((1u << ((hi) - (lo) + 1)) - 1))

/* The 16-bit encoding a compressed FP load/store was expanded from (C.FLD,
 * C.FSD, C.FLDSP, C.FSDSP and the RV32 word forms): the trap value of an
 * illegal instruction is the instruction as fetched.  SP-relative accesses
 * come from the SP forms only, whose base is never x8..x15. */
static uint32_t fpu_rvc_original(uint32_t raw)
{
    bool store = (raw & 0x7f) == 0x27, dbl = FPU_BITS(raw, 14, 12) == 3;
    uint32_t rd = FPU_BITS(raw, 11, 7), rs1 = FPU_BITS(raw, 19, 15);
    uint32_t reg = store ? FPU_BITS(raw, 24, 20) : rd;
    uint32_t off = store ? FPU_BITS(raw, 31, 25) << 5 | rd : raw >> 20;
    uint32_t c = ((dbl ? 1u : 3u) | (store ? 4u : 0u)) << 13;

    if (rs1 == 2) {
        c |= 2;
        if (store) {
            c |= reg << 2 | (dbl ? FPU_BITS(off, 5, 3) << 10 | FPU_BITS(off, 8, 6) << 7
                                 : FPU_BITS(off, 5, 2) << 9 | FPU_BITS(off, 7, 6) << 7);
        } else {
            c |= reg << 7 | FPU_BITS(off, 5, 5) << 12 |
                 (dbl ? FPU_BITS(off, 4, 3) << 5 | FPU_BITS(off, 8, 6) << 2
                      : FPU_BITS(off, 4, 2) << 4 | FPU_BITS(off, 7, 6) << 2);
        }
    } else {
        c |= (reg - 8) << 2 | (rs1 - 8) << 7 | FPU_BITS(off, 5, 3) << 10 |
             (dbl ? FPU_BITS(off, 7, 6) << 5 : FPU_BITS(off, 2, 2) << 6 | FPU_BITS(off, 6, 6) << 5);
    }
    return c;
}

static const RvInsn *fpu_illegal(RiscvCPU *cpu, const RvInsn *in)
{
    uint32_t tval = in->len == 2 ? fpu_rvc_original(in->raw) : in->raw;
    return riscv_raise(cpu, in, RV_EXC_ILLEGAL_INSN, tval);
}

/* The effective rounding mode, or -1 if reserved (static 5/6 never get here:
 * the decoder turns them into fpu_illegal). */
static inline int fpu_rm(const RiscvCPU *cpu, const RvInsn *in)
{
    unsigned rm = in->rm == 7 ? cpu->frm : in->rm;
    return rm <= FPU_RMM ? (int)rm : -1;
}

#define FPU_CHECK()                                                         \
    do {                                                                    \
        if (riscv_fs_off(cpu)) {                                            \
            return fpu_illegal(cpu, in);                                    \
        }                                                                   \
    } while (0)

#define FPU_CHECK_RM(rm)                                                    \
    FPU_CHECK();                                                            \
    int rm = fpu_rm(cpu, in);                                               \
    if (rm < 0) {                                                           \
        return fpu_illegal(cpu, in);                                        \
    }

#define FPU_SIGN(f) fpu_sign_mask(f)

/* Handlers are written once and instantiated per format. */
#define FPU_FOR_FORMATS(def, name, ...)                                     \
    def(name##_s, FPU_S, __VA_ARGS__)                                       \
    def(name##_d, FPU_D, __VA_ARGS__)

/* fd = a OP b with rm; negb flips rs2 (FSUB). */
#define FPU_DEF_BINARY(hname, f, op, negb)                                  \
    static const RvInsn *hname(RiscvCPU *cpu, const RvInsn *in)             \
    {                                                                       \
        FPU_CHECK_RM(rm);                                                   \
        uint32_t fl = cpu->fflags;                                          \
        uint64_t b = fpu_get(cpu, f, in->rs2) ^ ((negb) ? FPU_SIGN(f) : 0); \
        uint64_t r = op(f, fpu_get(cpu, f, in->rs1), b, rm, &fl);           \
        fpu_set(cpu, f, in->rd, r);                                         \
        cpu->fflags = fl;                                                   \
        return in + 1;                                                      \
    }
FPU_FOR_FORMATS(FPU_DEF_BINARY, fpu_fadd, fpu_add, 0)
FPU_FOR_FORMATS(FPU_DEF_BINARY, fpu_fsub, fpu_add, 1)
FPU_FOR_FORMATS(FPU_DEF_BINARY, fpu_fmul, fpu_mul, 0)
FPU_FOR_FORMATS(FPU_DEF_BINARY, fpu_fdiv, fpu_div, 0)

#define FPU_DEF_SQRT(hname, f, unused)                                      \
    static const RvInsn *hname(RiscvCPU *cpu, const RvInsn *in)             \
    {                                                                       \
        FPU_CHECK_RM(rm);                                                   \
        uint32_t fl = cpu->fflags;                                          \
        uint64_t r = fpu_sqrt(f, fpu_get(cpu, f, in->rs1), rm, &fl);        \
        fpu_set(cpu, f, in->rd, r);                                         \
        cpu->fflags = fl;                                                   \
        return in + 1;                                                      \
    }
FPU_FOR_FORMATS(FPU_DEF_SQRT, fpu_fsqrt, 0)

/* FMADD a*b+c, FMSUB a*b-c, FNMSUB -(a*b)+c, FNMADD -(a*b)-c: the negations
 * are applied to the operands, as the spec defines them. */
#define FPU_DEF_FMA(hname, f, nega, negc)                                   \
    static const RvInsn *hname(RiscvCPU *cpu, const RvInsn *in)             \
    {                                                                       \
        FPU_CHECK_RM(rm);                                                   \
        uint32_t fl = cpu->fflags;                                          \
        uint64_t a = fpu_get(cpu, f, in->rs1) ^ ((nega) ? FPU_SIGN(f) : 0); \
        uint64_t c = fpu_get(cpu, f, in->rs3) ^ ((negc) ? FPU_SIGN(f) : 0); \
        uint64_t r = fpu_fma(f, a, fpu_get(cpu, f, in->rs2), c, rm, &fl);   \
        fpu_set(cpu, f, in->rd, r);                                         \
        cpu->fflags = fl;                                                   \
        return in + 1;                                                      \
    }
FPU_FOR_FORMATS(FPU_DEF_FMA, fpu_fmadd, 0, 0)
FPU_FOR_FORMATS(FPU_DEF_FMA, fpu_fmsub, 0, 1)
FPU_FOR_FORMATS(FPU_DEF_FMA, fpu_fnmsub, 1, 0)
FPU_FOR_FORMATS(FPU_DEF_FMA, fpu_fnmadd, 1, 1)

/* Sign injection: 0 = FSGNJ, 1 = FSGNJN, 2 = FSGNJX. */
#define FPU_DEF_SGNJ(hname, f, kind)                                        \
    static const RvInsn *hname(RiscvCPU *cpu, const RvInsn *in)             \
    {                                                                       \
        FPU_CHECK();                                                        \
        uint64_t a = fpu_get(cpu, f, in->rs1), b = fpu_get(cpu, f, in->rs2); \
        uint64_t s = FPU_SIGN(f);                                           \
        uint64_t sign = (kind) == 0 ? b & s : (kind) == 1 ? ~b & s : (a ^ b) & s; \
        fpu_set(cpu, f, in->rd, (a & ~s) | sign);                           \
        return in + 1;                                                      \
    }
FPU_FOR_FORMATS(FPU_DEF_SGNJ, fpu_fsgnj, 0)
FPU_FOR_FORMATS(FPU_DEF_SGNJ, fpu_fsgnjn, 1)
FPU_FOR_FORMATS(FPU_DEF_SGNJ, fpu_fsgnjx, 2)

#define FPU_DEF_MINMAX(hname, f, is_max)                                    \
    static const RvInsn *hname(RiscvCPU *cpu, const RvInsn *in)             \
    {                                                                       \
        FPU_CHECK();                                                        \
        uint32_t fl = 0;                                                    \
        uint64_t r = fpu_soft_minmax(f, fpu_get(cpu, f, in->rs1),           \
                                     fpu_get(cpu, f, in->rs2), is_max, &fl); \
        fpu_set(cpu, f, in->rd, r);                                         \
        fpu_accrue(cpu, fl);                                                \
        return in + 1;                                                      \
    }
FPU_FOR_FORMATS(FPU_DEF_MINMAX, fpu_fmin, false)
FPU_FOR_FORMATS(FPU_DEF_MINMAX, fpu_fmax, true)

/* Compares: 2 = FEQ (quiet), 1 = FLT, 0 = FLE (signaling). */
#define FPU_DEF_CMP(hname, f, kind)                                         \
    static const RvInsn *hname(RiscvCPU *cpu, const RvInsn *in)             \
    {                                                                       \
        FPU_CHECK();                                                        \
        uint32_t fl = 0;                                                    \
        uint64_t a = fpu_get(cpu, f, in->rs1), b = fpu_get(cpu, f, in->rs2); \
        bool r = (kind) == 2 ? fpu_soft_eq(f, a, b, &fl)                    \
                             : fpu_soft_lt(f, a, b, (kind) == 0, &fl);      \
        cpu->x[in->rd] = r;                                                 \
        fpu_accrue(cpu, fl);                                                \
        return in + 1;                                                      \
    }
FPU_FOR_FORMATS(FPU_DEF_CMP, fpu_feq, 2)
FPU_FOR_FORMATS(FPU_DEF_CMP, fpu_flt, 1)
FPU_FOR_FORMATS(FPU_DEF_CMP, fpu_fle, 0)

#define FPU_DEF_CLASS(hname, f, unused)                                     \
    static const RvInsn *hname(RiscvCPU *cpu, const RvInsn *in)             \
    {                                                                       \
        FPU_CHECK();                                                        \
        cpu->x[in->rd] = fpu_soft_class(f, fpu_get(cpu, f, in->rs1));       \
        return in + 1;                                                      \
    }
FPU_FOR_FORMATS(FPU_DEF_CLASS, fpu_fclass, 0)

/* FCVT.{W,WU,L,LU}.{S,D}. */
#define FPU_DEF_TO_INT(hname, f, is_signed, width)                          \
    static const RvInsn *hname(RiscvCPU *cpu, const RvInsn *in)             \
    {                                                                       \
        FPU_CHECK_RM(rm);                                                   \
        uint32_t fl = 0;                                                    \
        cpu->x[in->rd] = fpu_soft_to_int(f, fpu_get(cpu, f, in->rs1), rm,   \
                                         is_signed, width, &fl);            \
        fpu_accrue(cpu, fl);                                                \
        return in + 1;                                                      \
    }
FPU_FOR_FORMATS(FPU_DEF_TO_INT, fpu_fcvt_w, true, 32)
FPU_FOR_FORMATS(FPU_DEF_TO_INT, fpu_fcvt_wu, false, 32)
FPU_FOR_FORMATS(FPU_DEF_TO_INT, fpu_fcvt_l, true, 64)
FPU_FOR_FORMATS(FPU_DEF_TO_INT, fpu_fcvt_lu, false, 64)

/* FCVT.{S,D}.{W,WU,L,LU}: x[rs1] read as a 32- or 64-bit integer. */
#define FPU_DEF_FROM_INT(hname, f, is_signed, width)                        \
    static const RvInsn *hname(RiscvCPU *cpu, const RvInsn *in)             \
    {                                                                       \
        FPU_CHECK_RM(rm);                                                   \
        uint32_t fl = 0;                                                    \
        uint64_t v = cpu->x[in->rs1];                                       \
        if ((width) == 32) {                                                \
            v = (is_signed) ? (uint64_t)(int64_t)(int32_t)v : (uint32_t)v;  \
        }                                                                   \
        bool neg = (is_signed) && (int64_t)v < 0;                           \
        uint64_t r = fpu_soft_from_int(f, neg, neg ? -v : v, rm, &fl);      \
        fpu_set(cpu, f, in->rd, r);                                         \
        fpu_accrue(cpu, fl);                                                \
        return in + 1;                                                      \
    }
FPU_FOR_FORMATS(FPU_DEF_FROM_INT, fpu_fcvt_w2f, true, 32)
FPU_FOR_FORMATS(FPU_DEF_FROM_INT, fpu_fcvt_wu2f, false, 32)
FPU_FOR_FORMATS(FPU_DEF_FROM_INT, fpu_fcvt_l2f, true, 64)
FPU_FOR_FORMATS(FPU_DEF_FROM_INT, fpu_fcvt_lu2f, false, 64)

static const RvInsn *fpu_fcvt_s_d(RiscvCPU *cpu, const RvInsn *in)
{
    FPU_CHECK_RM(rm);
    uint32_t fl = cpu->fflags;
    uint64_t r = fpu_d_to_s(fpu_get(cpu, FPU_D, in->rs1), rm, &fl);
    fpu_set(cpu, FPU_S, in->rd, r);
    cpu->fflags = fl;
    return in + 1;
}

static const RvInsn *fpu_fcvt_d_s(RiscvCPU *cpu, const RvInsn *in)
{
    FPU_CHECK_RM(rm);
    uint32_t fl = 0;
    uint64_t r = fpu_soft_cvt(FPU_D, FPU_S, fpu_get(cpu, FPU_S, in->rs1), rm, &fl);
    fpu_set(cpu, FPU_D, in->rd, r);
    fpu_accrue(cpu, fl);
    return in + 1;
}

/* Moves copy bits: no NaN-box check, no canonicalisation. */
static const RvInsn *fpu_fmv_x_w(RiscvCPU *cpu, const RvInsn *in)
{
    FPU_CHECK();
    cpu->x[in->rd] = (uint64_t)(int64_t)(int32_t)cpu->f[in->rs1];
    return in + 1;
}

static const RvInsn *fpu_fmv_w_x(RiscvCPU *cpu, const RvInsn *in)
{
    FPU_CHECK();
    fpu_set(cpu, FPU_S, in->rd, cpu->x[in->rs1]);
    return in + 1;
}

static const RvInsn *fpu_fmv_x_d(RiscvCPU *cpu, const RvInsn *in)
{
    FPU_CHECK();
    cpu->x[in->rd] = cpu->f[in->rs1];
    return in + 1;
}

static const RvInsn *fpu_fmv_d_x(RiscvCPU *cpu, const RvInsn *in)
{
    FPU_CHECK();
    fpu_set(cpu, FPU_D, in->rd, cpu->x[in->rs1]);
    return in + 1;
}

/* ---- loads and stores ---- */

static inline uint64_t fpu_ea(const RiscvCPU *cpu, const RvInsn *in)
{
    uint64_t va = cpu->x[in->rs1] + (uint64_t)in->imm;
    return cpu->xlen == 32 ? (uint32_t)va : va;
}

static const RvInsn *fpu_flw(RiscvCPU *cpu, const RvInsn *in)
{
    uint64_t v;
    FPU_CHECK();
    if (!rv_load(cpu, in, fpu_ea(cpu, in), 4, &v)) {
        return NULL;
    }
    fpu_set(cpu, FPU_S, in->rd, v);
    return in + 1;
}

static const RvInsn *fpu_fld(RiscvCPU *cpu, const RvInsn *in)
{
    uint64_t v;
    FPU_CHECK();
    if (!rv_load(cpu, in, fpu_ea(cpu, in), 8, &v)) {
        return NULL;
    }
    fpu_set(cpu, FPU_D, in->rd, v);
    return in + 1;
}

/* FSW stores the low 32 bits whatever the boxing. */
static const RvInsn *fpu_fsw(RiscvCPU *cpu, const RvInsn *in)
{
    FPU_CHECK();
    if (!rv_store(cpu, in, fpu_ea(cpu, in), 4, (uint32_t)cpu->f[in->rs2])) {
        return NULL;
    }
    return in + 1;
}

static const RvInsn *fpu_fsd(RiscvCPU *cpu, const RvInsn *in)
{
    FPU_CHECK();
    if (!rv_store(cpu, in, fpu_ea(cpu, in), 8, cpu->f[in->rs2])) {
        return NULL;
    }
    return in + 1;
}

/* ---- decoder ---- */

/* Indexed by format (S, D). */
static RvHandler *const fpu_fma_ops[4][2] = {      /* by (opcode >> 2) & 3 */
    { fpu_fmadd_s, fpu_fmadd_d }, { fpu_fmsub_s, fpu_fmsub_d },
    { fpu_fnmsub_s, fpu_fnmsub_d }, { fpu_fnmadd_s, fpu_fnmadd_d },
};
static RvHandler *const fpu_arith_ops[4][2] = {    /* by funct5 0..3 */
    { fpu_fadd_s, fpu_fadd_d }, { fpu_fsub_s, fpu_fsub_d },
    { fpu_fmul_s, fpu_fmul_d }, { fpu_fdiv_s, fpu_fdiv_d },
};
static RvHandler *const fpu_sgnj_ops[3][2] = {     /* by funct3 */
    { fpu_fsgnj_s, fpu_fsgnj_d }, { fpu_fsgnjn_s, fpu_fsgnjn_d },
    { fpu_fsgnjx_s, fpu_fsgnjx_d },
};
static RvHandler *const fpu_cmp_ops[3][2] = {      /* by funct3 */
    { fpu_fle_s, fpu_fle_d }, { fpu_flt_s, fpu_flt_d },
    { fpu_feq_s, fpu_feq_d },
};
static RvHandler *const fpu_to_int_ops[4][2] = {   /* by rs2: W WU L LU */
    { fpu_fcvt_w_s, fpu_fcvt_w_d }, { fpu_fcvt_wu_s, fpu_fcvt_wu_d },
    { fpu_fcvt_l_s, fpu_fcvt_l_d }, { fpu_fcvt_lu_s, fpu_fcvt_lu_d },
};
static RvHandler *const fpu_from_int_ops[4][2] = {
    { fpu_fcvt_w2f_s, fpu_fcvt_w2f_d }, { fpu_fcvt_wu2f_s, fpu_fcvt_wu2f_d },
    { fpu_fcvt_l2f_s, fpu_fcvt_l2f_d }, { fpu_fcvt_lu2f_s, fpu_fcvt_lu2f_d },
};

bool riscv_decode_fp(RvInsn *out, uint32_t raw, int xlen)
{
    unsigned opcode = raw & 0x7f;
    unsigned rd = (raw >> 7) & 31, funct3 = (raw >> 12) & 7;
    unsigned rs1 = (raw >> 15) & 31, rs2 = (raw >> 20) & 31;
    unsigned fmt = (raw >> 25) & 3, funct5 = raw >> 27;
    RvHandler *fn = NULL;
    bool uses_rm = false, int_rd = false;
    int64_t imm = 0;

    switch (opcode) {
    case 0x07:                                  /* LOAD-FP */
        fn = funct3 == 2 ? fpu_flw : funct3 == 3 ? fpu_fld : NULL;
        imm = (int32_t)raw >> 20;
        break;
    case 0x27:                                  /* STORE-FP */
        fn = funct3 == 2 ? fpu_fsw : funct3 == 3 ? fpu_fsd : NULL;
        imm = (int64_t)(((int32_t)raw >> 25) * 32) | rd;
        rd = 0;
        break;
    case 0x43: case 0x47: case 0x4b: case 0x4f:
        if (fmt < 2) {
            fn = fpu_fma_ops[(opcode >> 2) & 3][fmt];
            uses_rm = true;
        }
        break;
    case 0x53:
        if (fmt >= 2) {
            break;
        }
        switch (funct5) {
        case 0x00: case 0x01: case 0x02: case 0x03:
            fn = fpu_arith_ops[funct5][fmt];
            uses_rm = true;
            break;
        case 0x0b:
            fn = rs2 == 0 ? (fmt ? fpu_fsqrt_d : fpu_fsqrt_s) : NULL;
            uses_rm = true;
            break;
        case 0x04:
            fn = funct3 < 3 ? fpu_sgnj_ops[funct3][fmt] : NULL;
            break;
        case 0x05:
            if (funct3 < 2) {
                fn = funct3 ? (fmt ? fpu_fmax_d : fpu_fmax_s)
                            : (fmt ? fpu_fmin_d : fpu_fmin_s);
            }
            break;
        case 0x08:
            fn = fmt == 0 && rs2 == 1 ? fpu_fcvt_s_d
               : fmt == 1 && rs2 == 0 ? fpu_fcvt_d_s : NULL;
            uses_rm = true;
            break;
        case 0x14:
            fn = funct3 < 3 ? fpu_cmp_ops[funct3][fmt] : NULL;
            int_rd = true;
            break;
        case 0x18:
            if (rs2 < (xlen == 64 ? 4u : 2u)) {
                fn = fpu_to_int_ops[rs2][fmt];
            }
            uses_rm = true;
            int_rd = true;
            break;
        case 0x1a:
            if (rs2 < (xlen == 64 ? 4u : 2u)) {
                fn = fpu_from_int_ops[rs2][fmt];
            }
            uses_rm = true;
            break;
        case 0x1c:
            if (rs2 == 0 && funct3 == 0 && (fmt == 0 || xlen == 64)) {
                fn = fmt ? fpu_fmv_x_d : fpu_fmv_x_w;
            } else if (rs2 == 0 && funct3 == 1) {
                fn = fmt ? fpu_fclass_d : fpu_fclass_s;
            }
            int_rd = true;
            break;
        case 0x1e:
            if (rs2 == 0 && funct3 == 0 && (fmt == 0 || xlen == 64)) {
                fn = fmt ? fpu_fmv_d_x : fpu_fmv_w_x;
            }
            break;
        }
        break;
    }
    if (!fn) {
        return false;
    }
    if (uses_rm && (funct3 == 5 || funct3 == 6)) {
        fn = fpu_illegal;
    }
    if (int_rd && rd == 0) {
        rd = RV_SINK;
    }
    out->fn = fn;
    out->rd = rd;
    out->rs1 = rs1;
    out->rs2 = rs2;
    out->rs3 = funct5;
    out->rm = funct3;
    out->imm = imm;
    out->raw = raw;
    return true;
}
