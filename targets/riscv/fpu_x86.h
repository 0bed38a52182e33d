/* The host FPU for fpu.c on x86-64 hosts (FPU_HOST_X86 is defined when it
 * is usable).  SSE is IEEE 754 with tininess detected after rounding, as
 * RISC-V wants.  The exact path runs each operation inside one asm block
 * that installs our MXCSR (all exceptions masked, FTZ/DAZ off, the rounding
 * mode), operates, reads the sticky flags and puts the caller's MXCSR back,
 * so no host state leaks between instructions and the compiler cannot move
 * the operation out of the window.  MXCSR accesses are slow, so a fast path
 * skips them when no new flag can arise (fpu_x86_fast).  RMM, which SSE
 * lacks, stays with fpu_soft.h. */
#ifndef TANDEM_RISCV_FPU_X86_H
#define TANDEM_RISCV_FPU_X86_H

#if defined(__x86_64__)
#define FPU_HOST_X86 1

#include <string.h>

#include "targets/riscv/fpu_soft.h"

/* MXCSR per rounding mode: exceptions masked (0x1f80), RC in bits 13-14. */
static const uint32_t fpu_mxcsr[4] = {
    [FPU_RNE] = 0x1f80, [FPU_RTZ] = 0x7f80,
    [FPU_RDN] = 0x3f80, [FPU_RUP] = 0x5f80,
};

/* MXCSR flags (IE DE ZE OE UE PE) to fflags (NV DZ OF UF NX). */
static inline uint32_t fpu_x86_flags(uint32_t mx)
{
    return (mx & 0x01) << 4 | (mx & 0x04) << 1 | (mx & 0x08) >> 1 |
           (mx & 0x10) >> 3 | (mx & 0x20) >> 5;
}

/* Exact path: one asm block installs our MXCSR, operates, reads the flags
 * and puts the caller's MXCSR back. */
#define FPU_X86_ENTER "stmxcsr %[sv]\n\tldmxcsr %[cs]\n\t"
#define FPU_X86_LEAVE "\n\tstmxcsr %[st]\n\tldmxcsr %[sv]"
#define FPU_X86_MX [sv] "=&m"(saved), [st] "=&m"(st)

/* a = a OP b (for sqrt: a = sqrt(b)), in rounding mode cs; *mx: flags. */
#define FPU_X86_OP2(name, type, insn)                                       \
    static inline type name(type a, type b, uint32_t cs, uint32_t *mx)      \
    {                                                                       \
        uint32_t saved, st;                                                 \
        __asm__ volatile(FPU_X86_ENTER insn " %[b], %[a]" FPU_X86_LEAVE     \
                         : [a] "+x"(a), FPU_X86_MX                          \
                         : [b] "x"(b), [cs] "m"(cs));                       \
        *mx = st;                                                           \
        return a;                                                           \
    }

/* The same in the host's current mode, flags not collected (fast path). */
#define FPU_X86_FOP2(name, type, insn)                                      \
    static inline type name(type a, type b)                                 \
    {                                                                       \
        __asm__(insn " %[b], %[a]" : [a] "+x"(a) : [b] "x"(b));             \
        return a;                                                           \
    }

#define FPU_X86_OPS(op, insn)                                               \
    FPU_X86_OP2(fpu_x86_##op##s, float, insn "ss")                          \
    FPU_X86_OP2(fpu_x86_##op##d, double, insn "sd")                         \
    FPU_X86_FOP2(fpu_x86_fast_##op##s, float, insn "ss")                    \
    FPU_X86_FOP2(fpu_x86_fast_##op##d, double, insn "sd")
FPU_X86_OPS(add, "add")
FPU_X86_OPS(mul, "mul")
FPU_X86_OPS(div, "div")
FPU_X86_OPS(sqrt, "sqrt")

static inline float fpu_x86_cvtsd2ss(double a, uint32_t cs, uint32_t *mx)
{
    uint32_t saved, st;
    float r;
    __asm__ volatile(FPU_X86_ENTER "cvtsd2ss %[a], %[r]" FPU_X86_LEAVE
                     : [r] "=x"(r), FPU_X86_MX
                     : [a] "x"(a), [cs] "m"(cs));
    *mx = st;
    return r;
}

/* c = a * b + c. */
#define FPU_X86_FMA(name, type, insn)                                       \
    static inline type name(type a, type b, type c, uint32_t cs,            \
                            uint32_t *mx)                                   \
    {                                                                       \
        uint32_t saved, st;                                                 \
        __asm__ volatile(FPU_X86_ENTER insn " %[b], %[a], %[c]"             \
                         FPU_X86_LEAVE                                      \
                         : [c] "+x"(c), FPU_X86_MX                          \
                         : [a] "x"(a), [b] "x"(b), [cs] "m"(cs));           \
        *mx = st;                                                           \
        return c;                                                           \
    }
#define FPU_X86_FFMA(name, type, insn)                                      \
    static inline type name(type a, type b, type c)                         \
    {                                                                       \
        __asm__(insn " %[b], %[a], %[c]" : [c] "+x"(c) : [a] "x"(a), [b] "x"(b)); \
        return c;                                                           \
    }
FPU_X86_FMA(fpu_x86_fmas, float, "vfmadd231ss")
FPU_X86_FMA(fpu_x86_fmad, double, "vfmadd231sd")
FPU_X86_FFMA(fpu_x86_fast_fmas, float, "vfmadd231ss")
FPU_X86_FFMA(fpu_x86_fast_fmad, double, "vfmadd231sd")

/* Host capability only: both paths round once, so a recording made with
 * host FMA replays exactly without it. */
static inline bool fpu_x86_has_fma(void)
{
    return __builtin_cpu_supports("fma");
}

static inline float fpu_u2f(uint64_t a)
{
    uint32_t v = (uint32_t)a;
    float r;
    memcpy(&r, &v, 4);
    return r;
}
static inline double fpu_u2d(uint64_t a)
{
    double r;
    memcpy(&r, &a, 8);
    return r;
}
static inline uint64_t fpu_f2u(float a)
{
    uint32_t v;
    memcpy(&v, &a, 4);
    return v;
}
static inline uint64_t fpu_d2u(double a)
{
    uint64_t v;
    memcpy(&v, &a, 8);
    return v;
}

/* Fast path, QEMU's "hardfloat" idea: once NX is among the accrued flags,
 * an RNE operation whose result is normal (not tiny, not the minimum normal,
 * finite, not NaN) cannot raise anything new: OF and UF need an infinite or
 * tiny result, NV a NaN, DZ an infinity.  So the host computes it in its own
 * mode without touching MXCSR, and any other result is recomputed on the
 * exact path.  The host mode is RNE, masked, without FTZ/DAZ: the x86-64
 * psABI starts processes and threads that way and makes the MXCSR control
 * bits callee-saved, and nothing in Tandem sets them outside the exact path,
 * which restores them.  (Reading MXCSR here to check would cost more than
 * the operation.) */
static inline bool fpu_x86_fast(uint32_t fl, int rm)
{
    return rm == FPU_RNE && (fl & FPU_NX);
}

static inline bool fpu_normal_result(int f, uint64_t r)
{
    uint64_t m = fpu_abs(f, r);
    return m > (1ull << fpu_mant_bits(f)) && m < fpu_inf(f, false);
}

/* Finish an exact host operation: flags, and NaN results made canonical. */
static inline uint64_t fpu_x86_done(int f, uint64_t r, uint32_t mx, uint32_t *fl)
{
    *fl |= fpu_x86_flags(mx);
    return fpu_is_nan(f, r) ? fpu_default_nan(f) : r;
}

/* ---- operations for fpu.c: rm is RNE, RTZ, RDN or RUP; *fl holds the
 * flags accrued so far (the fast path looks at NX) and receives the new
 * ones ---- */

/* A binary operation (sqrt: b = a). */
#define FPU_X86_DEF_BINARY(op)                                              \
    static inline uint64_t fpu_x86_##op(int f, uint64_t a, uint64_t b,      \
                                        int rm, uint32_t *fl)               \
    {                                                                       \
        uint64_t r;                                                         \
        uint32_t mx;                                                        \
        if (fpu_x86_fast(*fl, rm)) {                                        \
            r = f == FPU_S                                                  \
                ? fpu_f2u(fpu_x86_fast_##op##s(fpu_u2f(a), fpu_u2f(b)))     \
                : fpu_d2u(fpu_x86_fast_##op##d(fpu_u2d(a), fpu_u2d(b)));    \
            if (fpu_normal_result(f, r)) {                                  \
                return r;                                                   \
            }                                                               \
        }                                                                   \
        r = f == FPU_S                                                      \
            ? fpu_f2u(fpu_x86_##op##s(fpu_u2f(a), fpu_u2f(b), fpu_mxcsr[rm], &mx)) \
            : fpu_d2u(fpu_x86_##op##d(fpu_u2d(a), fpu_u2d(b), fpu_mxcsr[rm], &mx)); \
        return fpu_x86_done(f, r, mx, fl);                                  \
    }
FPU_X86_DEF_BINARY(add)
FPU_X86_DEF_BINARY(mul)
FPU_X86_DEF_BINARY(div)
FPU_X86_DEF_BINARY(sqrt)

/* a * b + c; false if the host cannot do it exactly (no FMA instruction,
 * or NaN operands: RISC-V raises NV for 0 * inf + qNaN, x86 need not). */
static inline bool fpu_x86_fma(int f, uint64_t a, uint64_t b, uint64_t c, int rm,
                               uint32_t *fl, uint64_t *res)
{
    uint64_t r;
    uint32_t mx;

    if (!fpu_x86_has_fma()) {
        return false;
    }
    if (fpu_x86_fast(*fl, rm)) {
        r = f == FPU_S
            ? fpu_f2u(fpu_x86_fast_fmas(fpu_u2f(a), fpu_u2f(b), fpu_u2f(c)))
            : fpu_d2u(fpu_x86_fast_fmad(fpu_u2d(a), fpu_u2d(b), fpu_u2d(c)));
        if (fpu_normal_result(f, r)) {
            *res = r;
            return true;
        }
    }
    if (fpu_is_nan(f, a) || fpu_is_nan(f, b) || fpu_is_nan(f, c)) {
        return false;
    }
    r = f == FPU_S
        ? fpu_f2u(fpu_x86_fmas(fpu_u2f(a), fpu_u2f(b), fpu_u2f(c), fpu_mxcsr[rm], &mx))
        : fpu_d2u(fpu_x86_fmad(fpu_u2d(a), fpu_u2d(b), fpu_u2d(c), fpu_mxcsr[rm], &mx));
    *res = fpu_x86_done(f, r, mx, fl);
    return true;
}

/* FCVT.S.D. */
static inline uint64_t fpu_x86_d_to_s(uint64_t a, int rm, uint32_t *fl)
{
    uint64_t r;
    uint32_t mx;

    if (fpu_x86_fast(*fl, rm)) {
        r = fpu_f2u((float)fpu_u2d(a));
        if (fpu_normal_result(FPU_S, r)) {
            return r;
        }
    }
    r = fpu_f2u(fpu_x86_cvtsd2ss(fpu_u2d(a), fpu_mxcsr[rm], &mx));
    return fpu_x86_done(FPU_S, r, mx, fl);
}

#endif
#endif
