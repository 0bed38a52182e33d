/* The decoder: compressed instructions are expanded to their 32-bit
 * equivalents, then every 32-bit encoding is matched against a per-major-
 * opcode table of (mask, match) rows.  SYSTEM and F/D encodings are handed
 * to system.c and fpu.c. */
#include <string.h>

#include "targets/riscv/decode.h"

/* How a row's operands are laid out in the encoding. */
typedef enum RvFmt {
    FMT_NONE,   /* no operands used */
    FMT_R,      /* rd, rs1, rs2 */
    FMT_I,      /* rd, rs1, imm[11:0] */
    FMT_S,      /* rs1, rs2, store offset */
    FMT_B,      /* rs1, rs2; imm = absolute target */
    FMT_U,      /* rd; imm = upper immediate */
    FMT_UPC,    /* rd; imm = pc + upper immediate (AUIPC) */
    FMT_J,      /* rd; imm = absolute target */
    FMT_SH,     /* rd, rs1; imm = shift amount */
    FMT_AMO,    /* rd, rs1, rs2; rm = aq/rl */
} RvFmt;

enum {
    OPF_END = 1,    /* the block ends after it */
    OPF_PURE = 2,   /* no effect but x[rd]: rd == 0 makes it a nop */
};

typedef struct RvOp {
    uint32_t mask, match;
    RvHandler *h32, *h64;       /* NULL: not in that base ISA */
    uint8_t fmt, flags;
} RvOp;

#define BOTH(n) rv_##n, rv_##n
#define XL(n) rv_##n##_32, rv_##n##_64
#define RV64(n) NULL, rv_##n##_64
#define RV64I(n) NULL, rv_##n

static const RvOp op_load[] = {
    { 0x707f, 0x0003, XL(lb), FMT_I, 0 },
    { 0x707f, 0x1003, XL(lh), FMT_I, 0 },
    { 0x707f, 0x2003, XL(lw), FMT_I, 0 },
    { 0x707f, 0x3003, RV64(ld), FMT_I, 0 },
    { 0x707f, 0x4003, XL(lbu), FMT_I, 0 },
    { 0x707f, 0x5003, XL(lhu), FMT_I, 0 },
    { 0x707f, 0x6003, RV64(lwu), FMT_I, 0 },
};

/* FENCE (incl. FENCE.TSO and PAUSE): one hart, in-order memory: a nop.
 * The reserved fields are ignored as the spec asks. */
static const RvOp op_misc_mem[] = {
    { 0x707f, 0x000f, BOTH(nop), FMT_NONE, 0 },
    { 0x707f, 0x100f, BOTH(fence_i), FMT_NONE, OPF_END },
};

static const RvOp op_imm[] = {
    { 0x707f, 0x0013, rv_addiw, rv_addi, FMT_I, OPF_PURE },
    { 0x707f, 0x2013, BOTH(slti), FMT_I, OPF_PURE },
    { 0x707f, 0x3013, BOTH(sltiu), FMT_I, OPF_PURE },
    { 0x707f, 0x4013, BOTH(xori), FMT_I, OPF_PURE },
    { 0x707f, 0x6013, BOTH(ori), FMT_I, OPF_PURE },
    { 0x707f, 0x7013, BOTH(andi), FMT_I, OPF_PURE },
    /* shamt[5] set is reserved in RV32: only the 64-bit rows match it. */
    { 0xfe00707f, 0x00001013, rv_slliw, rv_slli, FMT_SH, OPF_PURE },
    { 0xfe00707f, 0x00005013, rv_srliw, rv_srli, FMT_SH, OPF_PURE },
    { 0xfe00707f, 0x40005013, rv_sraiw, rv_srai, FMT_SH, OPF_PURE },
    { 0xfc00707f, 0x00001013, RV64I(slli), FMT_SH, OPF_PURE },
    { 0xfc00707f, 0x00005013, RV64I(srli), FMT_SH, OPF_PURE },
    { 0xfc00707f, 0x40005013, RV64I(srai), FMT_SH, OPF_PURE },
};

static const RvOp op_auipc[] = {
    { 0x7f, 0x17, BOTH(li), FMT_UPC, OPF_PURE },
};

static const RvOp op_imm32[] = {
    { 0x707f, 0x001b, RV64I(addiw), FMT_I, OPF_PURE },
    { 0xfe00707f, 0x0000101b, RV64I(slliw), FMT_SH, OPF_PURE },
    { 0xfe00707f, 0x0000501b, RV64I(srliw), FMT_SH, OPF_PURE },
    { 0xfe00707f, 0x4000501b, RV64I(sraiw), FMT_SH, OPF_PURE },
};

static const RvOp op_store[] = {
    { 0x707f, 0x0023, XL(sb), FMT_S, 0 },
    { 0x707f, 0x1023, XL(sh), FMT_S, 0 },
    { 0x707f, 0x2023, XL(sw), FMT_S, 0 },
    { 0x707f, 0x3023, RV64(sd), FMT_S, 0 },
};

#define AMO_ROWS(f3, sfx, H)                                                  \
    { 0xf9f0707f, 0x1000002f | (f3) << 12, H(lr_##sfx), FMT_AMO, 0 },         \
    { 0xf800707f, 0x1800002f | (f3) << 12, H(sc_##sfx), FMT_AMO, 0 },         \
    { 0xf800707f, 0x0800002f | (f3) << 12, H(amoswap_##sfx), FMT_AMO, 0 },    \
    { 0xf800707f, 0x0000002f | (f3) << 12, H(amoadd_##sfx), FMT_AMO, 0 },     \
    { 0xf800707f, 0x2000002f | (f3) << 12, H(amoxor_##sfx), FMT_AMO, 0 },     \
    { 0xf800707f, 0x6000002f | (f3) << 12, H(amoand_##sfx), FMT_AMO, 0 },     \
    { 0xf800707f, 0x4000002f | (f3) << 12, H(amoor_##sfx), FMT_AMO, 0 },      \
    { 0xf800707f, 0x8000002f | (f3) << 12, H(amomin_##sfx), FMT_AMO, 0 },     \
    { 0xf800707f, 0xa000002f | (f3) << 12, H(amomax_##sfx), FMT_AMO, 0 },     \
    { 0xf800707f, 0xc000002f | (f3) << 12, H(amominu_##sfx), FMT_AMO, 0 },    \
    { 0xf800707f, 0xe000002f | (f3) << 12, H(amomaxu_##sfx), FMT_AMO, 0 }

static const RvOp op_amo[] = {
    AMO_ROWS(2u, w, XL),
    AMO_ROWS(3u, d, RV64),
};

static const RvOp op_op[] = {
    { 0xfe00707f, 0x00000033, rv_addw, rv_add, FMT_R, OPF_PURE },
    { 0xfe00707f, 0x40000033, rv_subw, rv_sub, FMT_R, OPF_PURE },
    { 0xfe00707f, 0x00001033, rv_sllw, rv_sll, FMT_R, OPF_PURE },
    { 0xfe00707f, 0x00002033, BOTH(slt), FMT_R, OPF_PURE },
    { 0xfe00707f, 0x00003033, BOTH(sltu), FMT_R, OPF_PURE },
    { 0xfe00707f, 0x00004033, BOTH(xor), FMT_R, OPF_PURE },
    { 0xfe00707f, 0x00005033, rv_srlw, rv_srl, FMT_R, OPF_PURE },
    { 0xfe00707f, 0x40005033, rv_sraw, rv_sra, FMT_R, OPF_PURE },
    { 0xfe00707f, 0x00006033, BOTH(or), FMT_R, OPF_PURE },
    { 0xfe00707f, 0x00007033, BOTH(and), FMT_R, OPF_PURE },
    { 0xfe00707f, 0x02000033, rv_mulw, rv_mul, FMT_R, OPF_PURE },
    { 0xfe00707f, 0x02001033, XL(mulh), FMT_R, OPF_PURE },
    { 0xfe00707f, 0x02002033, XL(mulhsu), FMT_R, OPF_PURE },
    { 0xfe00707f, 0x02003033, XL(mulhu), FMT_R, OPF_PURE },
    { 0xfe00707f, 0x02004033, rv_divw, rv_div, FMT_R, OPF_PURE },
    { 0xfe00707f, 0x02005033, rv_divuw, rv_divu, FMT_R, OPF_PURE },
    { 0xfe00707f, 0x02006033, rv_remw, rv_rem, FMT_R, OPF_PURE },
    { 0xfe00707f, 0x02007033, rv_remuw, rv_remu, FMT_R, OPF_PURE },
};

static const RvOp op_lui[] = {
    { 0x7f, 0x37, BOTH(li), FMT_U, OPF_PURE },
};

static const RvOp op_op32[] = {
    { 0xfe00707f, 0x0000003b, RV64I(addw), FMT_R, OPF_PURE },
    { 0xfe00707f, 0x4000003b, RV64I(subw), FMT_R, OPF_PURE },
    { 0xfe00707f, 0x0000103b, RV64I(sllw), FMT_R, OPF_PURE },
    { 0xfe00707f, 0x0000503b, RV64I(srlw), FMT_R, OPF_PURE },
    { 0xfe00707f, 0x4000503b, RV64I(sraw), FMT_R, OPF_PURE },
    { 0xfe00707f, 0x0200003b, RV64I(mulw), FMT_R, OPF_PURE },
    { 0xfe00707f, 0x0200403b, RV64I(divw), FMT_R, OPF_PURE },
    { 0xfe00707f, 0x0200503b, RV64I(divuw), FMT_R, OPF_PURE },
    { 0xfe00707f, 0x0200603b, RV64I(remw), FMT_R, OPF_PURE },
    { 0xfe00707f, 0x0200703b, RV64I(remuw), FMT_R, OPF_PURE },
};

static const RvOp op_branch[] = {
    { 0x707f, 0x0063, XL(beq), FMT_B, OPF_END },
    { 0x707f, 0x1063, XL(bne), FMT_B, OPF_END },
    { 0x707f, 0x4063, XL(blt), FMT_B, OPF_END },
    { 0x707f, 0x5063, XL(bge), FMT_B, OPF_END },
    { 0x707f, 0x6063, XL(bltu), FMT_B, OPF_END },
    { 0x707f, 0x7063, XL(bgeu), FMT_B, OPF_END },
};

static const RvOp op_jalr[] = {
    { 0x707f, 0x0067, XL(jalr), FMT_I, OPF_END },
};

static const RvOp op_jal[] = {
    { 0x7f, 0x6f, XL(jal), FMT_J, OPF_END },
};

typedef struct RvOpTable {
    const RvOp *ops;
    unsigned n;
} RvOpTable;

#define TBL(t) { t, sizeof(t) / sizeof(t[0]) }

/* Indexed by bits [6:2] of a 32-bit encoding. */
static const RvOpTable major_table[32] = {
    [0x03 >> 2] = TBL(op_load),
    [0x0f >> 2] = TBL(op_misc_mem),
    [0x13 >> 2] = TBL(op_imm),
    [0x17 >> 2] = TBL(op_auipc),
    [0x1b >> 2] = TBL(op_imm32),
    [0x23 >> 2] = TBL(op_store),
    [0x2f >> 2] = TBL(op_amo),
    [0x33 >> 2] = TBL(op_op),
    [0x37 >> 2] = TBL(op_lui),
    [0x3b >> 2] = TBL(op_op32),
    [0x63 >> 2] = TBL(op_branch),
    [0x67 >> 2] = TBL(op_jalr),
    [0x6f >> 2] = TBL(op_jal),
};

static inline int64_t sext(uint64_t v, unsigned bits)
{
    return (int64_t)(v << (64 - bits)) >> (64 - bits);
}

static inline uint32_t bits(uint32_t x, unsigned hi, unsigned lo)
{
    return (x >> lo) & ((1u << (hi - lo + 1)) - 1);
}

/* ---- compressed expansion ---- */

static uint32_t enc_r(uint32_t op, uint32_t rd, uint32_t f3, uint32_t rs1,
                      uint32_t rs2, uint32_t f7)
{
    return f7 << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}

static uint32_t enc_i(uint32_t op, uint32_t rd, uint32_t f3, uint32_t rs1,
                      int32_t imm)
{
    return ((uint32_t)imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}

static uint32_t enc_s(uint32_t op, uint32_t f3, uint32_t rs1, uint32_t rs2,
                      int32_t imm)
{
    uint32_t u = (uint32_t)imm;
    return bits(u, 11, 5) << 25 | rs2 << 20 | rs1 << 15 | f3 << 12 |
           bits(u, 4, 0) << 7 | op;
}

static uint32_t enc_b(uint32_t f3, uint32_t rs1, uint32_t rs2, int32_t imm)
{
    uint32_t u = (uint32_t)imm;
    return bits(u, 12, 12) << 31 | bits(u, 10, 5) << 25 | rs2 << 20 |
           rs1 << 15 | f3 << 12 | bits(u, 4, 1) << 8 | bits(u, 11, 11) << 7 |
           0x63;
}

static uint32_t enc_j(uint32_t rd, int32_t imm)
{
    uint32_t u = (uint32_t)imm;
    return bits(u, 20, 20) << 31 | bits(u, 10, 1) << 21 | bits(u, 11, 11) << 20 |
           bits(u, 19, 12) << 12 | rd << 7 | 0x6f;
}

static uint32_t enc_u(uint32_t op, uint32_t rd, int32_t imm)
{
    return ((uint32_t)imm & 0xfffff000u) | rd << 7 | op;
}

/* Offsets of the compressed loads/stores (zero-extended, scaled). */
static uint32_t c_lw_off(uint32_t c)
{
    return bits(c, 12, 10) << 3 | bits(c, 6, 6) << 2 | bits(c, 5, 5) << 6;
}

static uint32_t c_ld_off(uint32_t c)
{
    return bits(c, 12, 10) << 3 | bits(c, 6, 5) << 6;
}

static uint32_t c_lwsp_off(uint32_t c)
{
    return bits(c, 12, 12) << 5 | bits(c, 6, 4) << 2 | bits(c, 3, 2) << 6;
}

static uint32_t c_ldsp_off(uint32_t c)
{
    return bits(c, 12, 12) << 5 | bits(c, 6, 5) << 3 | bits(c, 4, 2) << 6;
}

static uint32_t c_swsp_off(uint32_t c)
{
    return bits(c, 12, 9) << 2 | bits(c, 8, 7) << 6;
}

static uint32_t c_sdsp_off(uint32_t c)
{
    return bits(c, 12, 10) << 3 | bits(c, 9, 7) << 6;
}

static int32_t c_imm6(uint32_t c)
{
    return (int32_t)sext(bits(c, 12, 12) << 5 | bits(c, 6, 2), 6);
}

static int32_t c_j_off(uint32_t c)
{
    uint32_t u = bits(c, 12, 12) << 11 | bits(c, 11, 11) << 4 |
                 bits(c, 10, 9) << 8 | bits(c, 8, 8) << 10 | bits(c, 7, 7) << 6 |
                 bits(c, 6, 6) << 7 | bits(c, 5, 3) << 1 | bits(c, 2, 2) << 5;
    return (int32_t)sext(u, 12);
}

static int32_t c_b_off(uint32_t c)
{
    uint32_t u = bits(c, 12, 12) << 8 | bits(c, 11, 10) << 3 |
                 bits(c, 6, 5) << 6 | bits(c, 4, 3) << 1 | bits(c, 2, 2) << 5;
    return (int32_t)sext(u, 9);
}

enum {
    OPC_LOAD = 0x03, OPC_LOAD_FP = 0x07, OPC_IMM = 0x13, OPC_IMM32 = 0x1b,
    OPC_STORE = 0x23, OPC_STORE_FP = 0x27, OPC_OP = 0x33, OPC_LUI = 0x37,
    OPC_OP32 = 0x3b, OPC_JALR = 0x67, OPC_SYSTEM = 0x73,
};

static uint32_t expand_q0(uint32_t c, int xlen)
{
    uint32_t rdp = bits(c, 4, 2) + 8, rs1p = bits(c, 9, 7) + 8;
    switch (bits(c, 15, 13)) {
    case 0: {   /* C.ADDI4SPN */
        uint32_t imm = bits(c, 12, 11) << 4 | bits(c, 10, 7) << 6 |
                       bits(c, 6, 6) << 2 | bits(c, 5, 5) << 3;
        if (imm == 0)
            return 0;
        return enc_i(OPC_IMM, rdp, 0, 2, (int32_t)imm);
    }
    case 1:     /* C.FLD */
        return enc_i(OPC_LOAD_FP, rdp, 3, rs1p, (int32_t)c_ld_off(c));
    case 2:     /* C.LW */
        return enc_i(OPC_LOAD, rdp, 2, rs1p, (int32_t)c_lw_off(c));
    case 3:     /* C.FLW (RV32) / C.LD (RV64) */
        if (xlen == 32)
            return enc_i(OPC_LOAD_FP, rdp, 2, rs1p, (int32_t)c_lw_off(c));
        return enc_i(OPC_LOAD, rdp, 3, rs1p, (int32_t)c_ld_off(c));
    case 5:     /* C.FSD */
        return enc_s(OPC_STORE_FP, 3, rs1p, rdp, (int32_t)c_ld_off(c));
    case 6:     /* C.SW */
        return enc_s(OPC_STORE, 2, rs1p, rdp, (int32_t)c_lw_off(c));
    case 7:     /* C.FSW (RV32) / C.SD (RV64) */
        if (xlen == 32)
            return enc_s(OPC_STORE_FP, 2, rs1p, rdp, (int32_t)c_lw_off(c));
        return enc_s(OPC_STORE, 3, rs1p, rdp, (int32_t)c_ld_off(c));
    default:    /* 4: reserved */
        return 0;
    }
}

static uint32_t expand_q1(uint32_t c, int xlen)
{
    uint32_t rd = bits(c, 11, 7), rdp = bits(c, 9, 7) + 8, rs2p = bits(c, 4, 2) + 8;
    switch (bits(c, 15, 13)) {
    case 0:     /* C.ADDI, C.NOP (rd = 0 or imm = 0 are hints) */
        return enc_i(OPC_IMM, rd, 0, rd, c_imm6(c));
    case 1:
        if (xlen == 32)     /* C.JAL */
            return enc_j(1, c_j_off(c));
        if (rd == 0)        /* C.ADDIW: rd = 0 reserved */
            return 0;
        return enc_i(OPC_IMM32, rd, 0, rd, c_imm6(c));
    case 2:     /* C.LI */
        return enc_i(OPC_IMM, rd, 0, 0, c_imm6(c));
    case 3:
        if (rd == 2) {      /* C.ADDI16SP */
            uint32_t u = bits(c, 12, 12) << 9 | bits(c, 6, 6) << 4 |
                         bits(c, 5, 5) << 6 | bits(c, 4, 3) << 7 |
                         bits(c, 2, 2) << 5;
            if (u == 0)
                return 0;
            return enc_i(OPC_IMM, 2, 0, 2, (int32_t)sext(u, 10));
        }
        /* C.LUI: nzimm = 0 reserved; rd = 0 is a hint */
        if (bits(c, 12, 12) == 0 && bits(c, 6, 2) == 0)
            return 0;
        return enc_u(OPC_LUI, rd, c_imm6(c) * 4096);
    case 4: {
        uint32_t shamt = bits(c, 12, 12) << 5 | bits(c, 6, 2);
        switch (bits(c, 11, 10)) {
        case 0:     /* C.SRLI */
            if (xlen == 32 && (shamt & 32))
                return 0;
            return enc_i(OPC_IMM, rdp, 5, rdp, (int32_t)shamt);
        case 1:     /* C.SRAI */
            if (xlen == 32 && (shamt & 32))
                return 0;
            return enc_i(OPC_IMM, rdp, 5, rdp, (int32_t)(shamt | 0x400));
        case 2:     /* C.ANDI */
            return enc_i(OPC_IMM, rdp, 7, rdp, c_imm6(c));
        default: {
            static const uint8_t f3[4] = { 0, 4, 6, 7 };   /* SUB XOR OR AND */
            uint32_t f2 = bits(c, 6, 5);
            if (bits(c, 12, 12) == 0)
                return enc_r(OPC_OP, rdp, f3[f2], rdp, rs2p, f2 == 0 ? 0x20 : 0);
            if (xlen == 32 || f2 >= 2)  /* reserved */
                return 0;
            /* C.SUBW, C.ADDW */
            return enc_r(OPC_OP32, rdp, 0, rdp, rs2p, f2 == 0 ? 0x20 : 0);
        }
        }
    }
    case 5:     /* C.J */
        return enc_j(0, c_j_off(c));
    case 6:     /* C.BEQZ */
        return enc_b(0, rdp, 0, c_b_off(c));
    default:    /* C.BNEZ */
        return enc_b(1, rdp, 0, c_b_off(c));
    }
}

static uint32_t expand_q2(uint32_t c, int xlen)
{
    uint32_t rd = bits(c, 11, 7), rs2 = bits(c, 6, 2);
    switch (bits(c, 15, 13)) {
    case 0: {   /* C.SLLI (rd = 0 is a hint) */
        uint32_t shamt = bits(c, 12, 12) << 5 | bits(c, 6, 2);
        if (xlen == 32 && (shamt & 32))
            return 0;
        return enc_i(OPC_IMM, rd, 1, rd, (int32_t)shamt);
    }
    case 1:     /* C.FLDSP */
        return enc_i(OPC_LOAD_FP, rd, 3, 2, (int32_t)c_ldsp_off(c));
    case 2:     /* C.LWSP: rd = 0 reserved */
        if (rd == 0)
            return 0;
        return enc_i(OPC_LOAD, rd, 2, 2, (int32_t)c_lwsp_off(c));
    case 3:
        if (xlen == 32)     /* C.FLWSP */
            return enc_i(OPC_LOAD_FP, rd, 2, 2, (int32_t)c_lwsp_off(c));
        if (rd == 0)        /* C.LDSP: rd = 0 reserved */
            return 0;
        return enc_i(OPC_LOAD, rd, 3, 2, (int32_t)c_ldsp_off(c));
    case 4:
        if (bits(c, 12, 12) == 0) {
            if (rs2 == 0) {     /* C.JR: rs1 = 0 reserved */
                if (rd == 0)
                    return 0;
                return enc_i(OPC_JALR, 0, 0, rd, 0);
            }
            return enc_r(OPC_OP, rd, 0, 0, rs2, 0);    /* C.MV */
        }
        if (rs2 == 0) {
            if (rd == 0)        /* C.EBREAK */
                return 0x00100073;
            return enc_i(OPC_JALR, 1, 0, rd, 0);       /* C.JALR */
        }
        return enc_r(OPC_OP, rd, 0, rd, rs2, 0);       /* C.ADD */
    case 5:     /* C.FSDSP */
        return enc_s(OPC_STORE_FP, 3, 2, rs2, (int32_t)c_sdsp_off(c));
    case 6:     /* C.SWSP */
        return enc_s(OPC_STORE, 2, 2, rs2, (int32_t)c_swsp_off(c));
    default:
        if (xlen == 32)     /* C.FSWSP */
            return enc_s(OPC_STORE_FP, 2, 2, rs2, (int32_t)c_swsp_off(c));
        return enc_s(OPC_STORE, 3, 2, rs2, (int32_t)c_sdsp_off(c));  /* C.SDSP */
    }
}

uint32_t riscv_rvc_expand(uint16_t c, int xlen)
{
    if (c == 0)
        return 0;
    switch (c & 3) {
    case 0: return expand_q0(c, xlen);
    case 1: return expand_q1(c, xlen);
    case 2: return expand_q2(c, xlen);
    default: return 0;
    }
}

/* ---- 32-bit decode ---- */

static unsigned decode_illegal(RvInsn *out, uint32_t orig)
{
    out->fn = rv_illegal;
    out->imm = orig;
    out->rd = out->rs1 = out->rs2 = out->rs3 = 0;
    return RV_DEC_END;
}

static bool fmt_has_rd(unsigned fmt)
{
    return fmt != FMT_NONE && fmt != FMT_S && fmt != FMT_B;
}

static void fill_operands(RvInsn *out, const RvOp *op, uint32_t raw, int xlen)
{
    uint64_t pc = out->pc;
    int64_t imm = 0;
    switch (op->fmt) {
    case FMT_I:
        imm = sext(raw >> 20, 12);
        break;
    case FMT_S:
        imm = sext(bits(raw, 31, 25) << 5 | bits(raw, 11, 7), 12);
        break;
    case FMT_B:
        imm = (int64_t)(pc + (uint64_t)sext(bits(raw, 31, 31) << 12 |
                                            bits(raw, 7, 7) << 11 |
                                            bits(raw, 30, 25) << 5 |
                                            bits(raw, 11, 8) << 1, 13));
        if (xlen == 32)
            imm = (uint32_t)imm;
        break;
    case FMT_J:
        imm = (int64_t)(pc + (uint64_t)sext(bits(raw, 31, 31) << 20 |
                                            bits(raw, 19, 12) << 12 |
                                            bits(raw, 20, 20) << 11 |
                                            bits(raw, 30, 21) << 1, 21));
        if (xlen == 32)
            imm = (uint32_t)imm;
        break;
    case FMT_U:
        imm = (int32_t)(raw & 0xfffff000u);
        break;
    case FMT_UPC:
        imm = (int64_t)(pc + (uint64_t)(int64_t)(int32_t)(raw & 0xfffff000u));
        if (xlen == 32)
            imm = (int32_t)imm;
        break;
    case FMT_SH:
        imm = bits(raw, 25, 20);
        break;
    case FMT_AMO:
        out->rm = (uint8_t)bits(raw, 26, 25);
        break;
    default:
        break;
    }
    out->imm = imm;
}

unsigned riscv_decode(RvInsn *out, uint32_t raw, unsigned len, uint64_t pc, int xlen)
{
    uint32_t orig = raw;

    memset(out, 0, sizeof(*out));
    out->pc = pc;
    out->len = (uint8_t)len;
    if (len == 2) {
        raw = riscv_rvc_expand((uint16_t)raw, xlen);
        if (!raw)
            return decode_illegal(out, orig);
    } else if ((raw & 3) != 3) {
        return decode_illegal(out, orig);
    }
    out->raw = raw;
    out->rd = (uint8_t)bits(raw, 11, 7);
    out->rs1 = (uint8_t)bits(raw, 19, 15);
    out->rs2 = (uint8_t)bits(raw, 24, 20);
    out->rs3 = (uint8_t)bits(raw, 31, 27);
    out->rm = (uint8_t)bits(raw, 14, 12);

    unsigned major = bits(raw, 6, 2);
    unsigned flags = 0;
    bool ok;
    switch (raw & 0x7f) {
    case OPC_SYSTEM:
        ok = riscv_decode_system(out, raw, xlen);
        flags = RV_DEC_END;
        goto other;
    case OPC_LOAD_FP: case OPC_STORE_FP: case 0x43: case 0x47: case 0x4b:
    case 0x4f: case 0x53:
        ok = riscv_decode_fp(out, raw, xlen);
        goto other;
    default:
        break;
    }

    const RvOpTable *t = &major_table[major];
    for (unsigned k = 0; k < t->n; k++) {
        const RvOp *op = &t->ops[k];
        if ((raw & op->mask) != op->match)
            continue;
        RvHandler *h = xlen == 32 ? op->h32 : op->h64;
        if (!h)
            continue;
        out->fn = h;
        fill_operands(out, op, raw, xlen);
        if (out->rd == 0 && fmt_has_rd(op->fmt)) {
            if (op->flags & OPF_PURE)
                out->fn = rv_nop;
            else
                out->rd = RV_SINK;
        }
        return (op->flags & OPF_END) ? RV_DEC_END : 0;
    }
    return decode_illegal(out, orig);

other:
    /* The other decoders fill fn and operands; keep what the engine owns. */
    out->pc = pc;
    out->len = (uint8_t)len;
    out->raw = raw;
    if (!ok || !out->fn)
        return decode_illegal(out, orig);
    return flags;
}
