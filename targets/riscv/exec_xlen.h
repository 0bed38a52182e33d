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

/* name##_hit performs the access on a TLB hit and returns true; otherwise
 * it runs the slow path and returns false with *next set to what the
 * handler must return (in + 1, or NULL after a trap).  Handlers and fused
 * pairs are built on it. */
#define LOAD(name, T)                                                         \
SLOW F(name##_slow)(RiscvCPU *cpu, const RvInsn *in, uint64_t va)             \
{                                                                             \
    uint64_t v;                                                               \
    if (!rv_load(cpu, in, va, sizeof(T), &v))                                 \
        return NULL;                                                          \
    cpu->x[in->rd] = (uint64_t)(T)v;                                          \
    return in + 1;                                                            \
}                                                                             \
static inline bool F(name##_hit)(RiscvCPU *cpu, const RvInsn *in,             \
                                 const RvInsn **next)                         \
{                                                                             \
    uint64_t va = ADDR(cpu->x[in->rs1] + (uint64_t)in->imm);                  \
    const RvTlbEntry *e = rv_tlb_entry(cpu, cpu->priv, RV_ACC_READ, va);      \
    if (unlikely(!rv_tlb_hit(e, va, sizeof(T)))) {                            \
        *next = F(name##_slow)(cpu, in, va);                                  \
        return false;                                                         \
    }                                                                         \
    T t;                                                                      \
    memcpy(&t, HOST(e, va), sizeof(T));                                       \
    cpu->x[in->rd] = (uint64_t)t;                                             \
    return true;                                                              \
}                                                                             \
MEM_HANDLER(name)

#define MEM_HANDLER(name)                                                     \
const RvInsn *F(name)(RiscvCPU *cpu, const RvInsn *in)                        \
{                                                                             \
    const RvInsn *next;                                                       \
    if (unlikely(!F(name##_hit)(cpu, in, &next)))                             \
        return next;                                                          \
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
static inline bool F(name##_hit)(RiscvCPU *cpu, const RvInsn *in,             \
                                 const RvInsn **next)                         \
{                                                                             \
    uint64_t va = ADDR(cpu->x[in->rs1] + (uint64_t)in->imm);                  \
    const RvTlbEntry *e = rv_tlb_entry(cpu, cpu->priv, RV_ACC_WRITE, va);     \
    if (unlikely(!rv_tlb_hit(e, va, sizeof(T)))) {                            \
        *next = F(name##_slow)(cpu, in, va);                                  \
        return false;                                                         \
    }                                                                         \
    T t = (T)cpu->x[in->rs2];                                                 \
    memcpy(HOST(e, va), &t, sizeof(T));                                       \
    return true;                                                              \
}                                                                             \
MEM_HANDLER(name)

STORE(sb, uint8_t)
STORE(sh, uint16_t)
STORE(sw, uint32_t)
STORE(sd, uint64_t)

/* A load or store fused with a register-only instruction before or after
 * it (exec_int.c pairs them).  When the access takes the slow path, the
 * pair returns to the run loop like the access alone would: the second
 * instruction then runs through its own handler. */
#define ALU_MEM(mem, first)                                                   \
static const RvInsn *F(first##_##mem)(RiscvCPU *cpu, const RvInsn *in)        \
{                                                                             \
    const RvInsn *next;                                                       \
    cpu->x[in->rd] = alu_##first(cpu, in);                                    \
    if (unlikely(!F(mem##_hit)(cpu, in + 1, &next)))                          \
        return next;                                                          \
    RV_DISPATCH(cpu, in + 2);                                                 \
}
#define MEM_ALU(mem, second)                                                  \
static const RvInsn *F(mem##_##second)(RiscvCPU *cpu, const RvInsn *in)       \
{                                                                             \
    const RvInsn *next;                                                       \
    if (unlikely(!F(mem##_hit)(cpu, in, &next)))                              \
        return next;                                                          \
    cpu->x[in[1].rd] = alu_##second(cpu, in + 1);                             \
    RV_DISPATCH(cpu, in + 2);                                                 \
}
#define MEM_PAIRS(_, mem) PAIR_HEADS(ALU_MEM, mem) PAIR_HEADS(MEM_ALU, mem)
PAIR_MEMS(MEM_PAIRS, _)

/* Control transfer: the decoder stored the absolute target in imm.  With C
 * always enabled every target is 2-byte aligned (JALR clears bit 0), so no
 * instruction-address-misaligned exception can arise.  Each leaves through
 * rv_chain, straight into the next block when it may. */
const RvInsn *F(jal)(RiscvCPU *cpu, const RvInsn *in)
{
    cpu->x[in->rd] = SEXT(in->pc + in->len);
    return rv_chain(cpu, (uint64_t)in->imm);
}

const RvInsn *F(jal_local)(RiscvCPU *cpu, const RvInsn *in)
{
    cpu->x[in->rd] = SEXT(in->pc + in->len);
    return rv_jump_local(cpu, in);
}

const RvInsn *F(jalr)(RiscvCPU *cpu, const RvInsn *in)
{
    uint64_t t = ADDR((cpu->x[in->rs1] + (uint64_t)in->imm) & ~1ull);
    cpu->x[in->rd] = SEXT(in->pc + in->len);
    return rv_chain(cpu, t);
}

/* Conditional branches need not end their block (engine.c): a taken one
 * leaves it, and the instructions after it in the block do not retire. */
#define BRANCH(name, cond)                                                    \
const RvInsn *F(name)(RiscvCPU *cpu, const RvInsn *in)                        \
{                                                                             \
    uint64_t a = cpu->x[in->rs1], b = cpu->x[in->rs2];                        \
    cpu->brcount++;                                                           \
    if (cond) {                                                               \
        cpu->icount -= in->rem;                                               \
        return rv_chain(cpu, (uint64_t)in->imm);                              \
    }                                                                         \
    RV_NEXT(cpu, in);                                                         \
}                                                                             \
const RvInsn *F(name##_local)(RiscvCPU *cpu, const RvInsn *in)                \
{                                                                             \
    uint64_t a = cpu->x[in->rs1], b = cpu->x[in->rs2];                        \
    cpu->brcount++;                                                           \
    if (cond)                                                                 \
        return rv_jump_local(cpu, in);                                        \
    RV_NEXT(cpu, in);                                                         \
}

#define BRANCHES(X, p)                                                        \
    X(p, beq, a == b)                                                         \
    X(p, bne, a != b)                                                         \
    X(p, blt, (int64_t)a < (int64_t)b)                                        \
    X(p, bge, (int64_t)a >= (int64_t)b)                                       \
    X(p, bltu, a < b)                                                         \
    X(p, bgeu, a >= b)
#define BRANCH_ROW(_, name, cond) BRANCH(name, cond)
BRANCHES(BRANCH_ROW, _)

/* A register-only instruction fused with the branch after it, when that
 * branch jumps within the block (a loop): exec_int.c pairs them. */
#define BRANCH_PAIR(first, name, cond)                                        \
static const RvInsn *F(first##_##name)(RiscvCPU *cpu, const RvInsn *in)       \
{                                                                             \
    cpu->x[in->rd] = alu_##first(cpu, in);                                    \
    const RvInsn *br = in + 1;                                                \
    uint64_t a = cpu->x[br->rs1], b = cpu->x[br->rs2];                        \
    cpu->brcount++;                                                           \
    if (cond)                                                                 \
        return rv_jump_local(cpu, br);                                        \
    RV_NEXT(cpu, br);                                                         \
}
#define BRANCH_PAIR_ROW(_, first) BRANCHES(BRANCH_PAIR, first)
PAIR_HEADS(BRANCH_PAIR_ROW, _)

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
#undef MEM_HANDLER
#undef ALU_MEM
#undef MEM_ALU
#undef MEM_PAIRS
#undef SLOW
#undef STORE
#undef BRANCH
#undef BRANCHES
#undef BRANCH_ROW
#undef BRANCH_PAIR
#undef BRANCH_PAIR_ROW
#undef LR
#undef SC
#undef AMO
#undef HOST
#undef ADDR
#undef SEXT
#undef F
#undef RV_PASTE
#undef RV_PASTE_
