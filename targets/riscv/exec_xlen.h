/* Width-specific integer handlers, written once and included by exec_int.c
 * with XLEN 32 and XLEN 64.  In RV32 addresses and the pc wrap at 32 bits
 * and results written to x[] are sign-extended from bit 31.
 *
 * Loads, stores and AMOs inline the software-TLB hit; a miss, a page
 * crossing, MMIO or a fault goes to engine.c. */

#define RV_PASTE_(a, b) a##_##b
#define RV_PASTE(a, b) RV_PASTE_(a, b)
#define F(name) RV_PASTE(rv_##name, XLEN)

#if XLEN == 32
#define ADDR(a) ((uint64_t)(uint32_t)(a))
#define SEXT(v) ((uint64_t)(int64_t)(int32_t)(v))
#else
#define ADDR(a) ((uint64_t)(a))
#define SEXT(v) ((uint64_t)(v))
#endif

#define HOST(e, va) ((void *)(uintptr_t)((va) + (e)->addend))

#define SLOW static __attribute__((noinline, cold)) const RvInsn *

#define LOAD(name, T)                                                         \
SLOW F(name##_slow)(RiscvCPU *cpu, const RvInsn *in, uint64_t va)             \
{                                                                             \
    uint64_t v;                                                               \
    if (!rv_load(cpu, in, va, sizeof(T), &v))                                 \
        return NULL;                                                          \
    cpu->x[in->rd] = (uint64_t)(T)v;                                          \
    return in + 1;                                                            \
}                                                                             \
const RvInsn *F(name)(RiscvCPU *cpu, const RvInsn *in)                        \
{                                                                             \
    uint64_t va = ADDR(cpu->x[in->rs1] + (uint64_t)in->imm);                  \
    const RvTlbEntry *e = rv_tlb_entry(cpu, cpu->priv, RV_ACC_READ, va);      \
    if (unlikely(!rv_tlb_hit(e, va, sizeof(T))))                                 \
        return F(name##_slow)(cpu, in, va);                                   \
    T t;                                                                      \
    memcpy(&t, HOST(e, va), sizeof(T));                                       \
    cpu->x[in->rd] = (uint64_t)t;                                             \
    RV_NEXT(cpu, in);                                                         \
}

LOAD(lb, int8_t)
LOAD(lh, int16_t)
LOAD(lw, int32_t)
LOAD(ld, uint64_t)
LOAD(lbu, uint8_t)
LOAD(lhu, uint16_t)
LOAD(lwu, uint32_t)

#define STORE(name, T)                                                        \
SLOW F(name##_slow)(RiscvCPU *cpu, const RvInsn *in, uint64_t va)             \
{                                                                             \
    return rv_store(cpu, in, va, sizeof(T), cpu->x[in->rs2]) ? in + 1 : NULL; \
}                                                                             \
const RvInsn *F(name)(RiscvCPU *cpu, const RvInsn *in)                        \
{                                                                             \
    uint64_t va = ADDR(cpu->x[in->rs1] + (uint64_t)in->imm);                  \
    const RvTlbEntry *e = rv_tlb_entry(cpu, cpu->priv, RV_ACC_WRITE, va);     \
    if (unlikely(!rv_tlb_hit(e, va, sizeof(T))))                                 \
        return F(name##_slow)(cpu, in, va);                                   \
    T t = (T)cpu->x[in->rs2];                                                 \
    memcpy(HOST(e, va), &t, sizeof(T));                                       \
    RV_NEXT(cpu, in);                                                         \
}

STORE(sb, uint8_t)
STORE(sh, uint16_t)
STORE(sw, uint32_t)
STORE(sd, uint64_t)

/* Control transfer: the decoder stored the absolute target in imm.  With C
 * always enabled every target is 2-byte aligned (JALR clears bit 0), so no
 * instruction-address-misaligned exception can arise. */
const RvInsn *F(jal)(RiscvCPU *cpu, const RvInsn *in)
{
    cpu->x[in->rd] = SEXT(in->pc + in->len);
    cpu->pc = (uint64_t)in->imm;
    return NULL;
}

const RvInsn *F(jalr)(RiscvCPU *cpu, const RvInsn *in)
{
    uint64_t t = ADDR((cpu->x[in->rs1] + (uint64_t)in->imm) & ~1ull);
    cpu->x[in->rd] = SEXT(in->pc + in->len);
    cpu->pc = t;
    return NULL;
}

#define BRANCH(name, cond)                                                    \
const RvInsn *F(name)(RiscvCPU *cpu, const RvInsn *in)                        \
{                                                                             \
    uint64_t a = cpu->x[in->rs1], b = cpu->x[in->rs2];                        \
    cpu->brcount++;                                                           \
    cpu->pc = (cond) ? (uint64_t)in->imm : ADDR(in->pc + in->len);            \
    return NULL;                                                              \
}

BRANCH(beq, a == b)
BRANCH(bne, a != b)
BRANCH(blt, (int64_t)a < (int64_t)b)
BRANCH(bge, (int64_t)a >= (int64_t)b)
BRANCH(bltu, a < b)
BRANCH(bgeu, a >= b)

/* High halves of products. */
const RvInsn *F(mulh)(RiscvCPU *cpu, const RvInsn *in)
{
    uint64_t a = cpu->x[in->rs1], b = cpu->x[in->rs2];
#if XLEN == 32
    cpu->x[in->rd] = SEXT((uint64_t)((int64_t)(int32_t)a * (int64_t)(int32_t)b) >> 32);
#else
    cpu->x[in->rd] = (uint64_t)(((__int128)(int64_t)a * (__int128)(int64_t)b) >> 64);
#endif
    RV_NEXT(cpu, in);
}

const RvInsn *F(mulhsu)(RiscvCPU *cpu, const RvInsn *in)
{
    uint64_t a = cpu->x[in->rs1], b = cpu->x[in->rs2];
#if XLEN == 32
    cpu->x[in->rd] = SEXT((uint64_t)((int64_t)(int32_t)a * (int64_t)(uint32_t)b) >> 32);
#else
    cpu->x[in->rd] = (uint64_t)(((__int128)(int64_t)a * (__int128)b) >> 64);
#endif
    RV_NEXT(cpu, in);
}

const RvInsn *F(mulhu)(RiscvCPU *cpu, const RvInsn *in)
{
    uint64_t a = cpu->x[in->rs1], b = cpu->x[in->rs2];
#if XLEN == 32
    cpu->x[in->rd] = SEXT(((uint64_t)(uint32_t)a * (uint32_t)b) >> 32);
#else
    cpu->x[in->rd] = (uint64_t)(((unsigned __int128)a * b) >> 64);
#endif
    RV_NEXT(cpu, in);
}

/* A extension.  LR/SC/AMO need natural alignment: a misaligned LR raises
 * load-address-misaligned, SC and AMOs store/AMO-address-misaligned.  The
 * reservation is a physical address. */
#define LR(name, T)                                                           \
const RvInsn *F(name)(RiscvCPU *cpu, const RvInsn *in)                        \
{                                                                             \
    uint64_t va = ADDR(cpu->x[in->rs1]), v;                                   \
    if (unlikely(va & (sizeof(T) - 1)))                                       \
        return riscv_raise(cpu, in, RV_EXC_LOAD_MISALIGNED, va);              \
    const RvTlbEntry *e = rv_tlb_entry(cpu, cpu->priv, RV_ACC_READ, va);      \
    if (likely(rv_tlb_hit(e, va, 1))) {                                       \
        T t;                                                                  \
        memcpy(&t, HOST(e, va), sizeof(T));                                   \
        v = (uint64_t)t;                                                      \
        cpu->resv_addr = e->pa_page | (va & 0xfff);                           \
    } else if (!rv_lr(cpu, in, va, sizeof(T), &v)) {                          \
        return NULL;                                                          \
    }                                                                         \
    cpu->x[in->rd] = (uint64_t)(T)v;                                          \
    return in + 1;                                                            \
}

#define SC(name, T)                                                           \
const RvInsn *F(name)(RiscvCPU *cpu, const RvInsn *in)                        \
{                                                                             \
    uint64_t va = ADDR(cpu->x[in->rs1]);                                      \
    if (unlikely(va & (sizeof(T) - 1)))                                       \
        return riscv_raise(cpu, in, RV_EXC_STORE_MISALIGNED, va);             \
    bool ok = false;                                                          \
    if (cpu->resv_addr != ~0ull) {                                            \
        const RvTlbEntry *e = rv_tlb_entry(cpu, cpu->priv, RV_ACC_WRITE, va); \
        if (likely(rv_tlb_hit(e, va, 1))) {                                   \
            if (cpu->resv_addr == (e->pa_page | (va & 0xfff))) {              \
                T t = (T)cpu->x[in->rs2];                                     \
                memcpy(HOST(e, va), &t, sizeof(T));                           \
                ok = true;                                                    \
            }                                                                 \
            cpu->resv_addr = ~0ull;                                           \
        } else if (!rv_sc(cpu, in, va, sizeof(T), cpu->x[in->rs2], &ok)) {    \
            return NULL;                                                      \
        }                                                                     \
    }                                                                         \
    cpu->x[in->rd] = !ok;                                                     \
    return in + 1;                                                            \
}

#define AMO(name, T)                                                          \
const RvInsn *F(name)(RiscvCPU *cpu, const RvInsn *in)                        \
{                                                                             \
    uint64_t va = ADDR(cpu->x[in->rs1]), src = cpu->x[in->rs2], old;          \
    if (unlikely(va & (sizeof(T) - 1)))                                       \
        return riscv_raise(cpu, in, RV_EXC_STORE_MISALIGNED, va);             \
    const RvTlbEntry *e = rv_tlb_entry(cpu, cpu->priv, RV_ACC_WRITE, va);     \
    if (likely(rv_tlb_hit(e, va, 1))) {                                       \
        T t;                                                                  \
        memcpy(&t, HOST(e, va), sizeof(T));                                   \
        old = (uint64_t)t;                                                    \
        t = (T)amo_##name(old, src);                                          \
        memcpy(HOST(e, va), &t, sizeof(T));                                   \
    } else if (!rv_amo(cpu, in, va, sizeof(T), amo_##name, src, &old)) {     \
        return NULL;                                                          \
    }                                                                         \
    cpu->x[in->rd] = (uint64_t)(T)old;                                        \
    return in + 1;                                                            \
}

LR(lr_w, int32_t)
SC(sc_w, uint32_t)
AMO(amoswap_w, int32_t)
AMO(amoadd_w, int32_t)
AMO(amoxor_w, int32_t)
AMO(amoand_w, int32_t)
AMO(amoor_w, int32_t)
AMO(amomin_w, int32_t)
AMO(amomax_w, int32_t)
AMO(amominu_w, int32_t)
AMO(amomaxu_w, int32_t)
LR(lr_d, uint64_t)
SC(sc_d, uint64_t)
AMO(amoswap_d, uint64_t)
AMO(amoadd_d, uint64_t)
AMO(amoxor_d, uint64_t)
AMO(amoand_d, uint64_t)
AMO(amoor_d, uint64_t)
AMO(amomin_d, uint64_t)
AMO(amomax_d, uint64_t)
AMO(amominu_d, uint64_t)
AMO(amomaxu_d, uint64_t)

#undef LOAD
#undef SLOW
#undef STORE
#undef BRANCH
#undef LR
#undef SC
#undef AMO
#undef HOST
#undef ADDR
#undef SEXT
#undef F
#undef RV_PASTE
#undef RV_PASTE_
