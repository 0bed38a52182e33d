/* The x87 transcendental instructions in software (fpu_trans.c), on the
 * F80 values and flags of f80.h.  Results are rounded once, to 64 bits
 * whatever the precision control (which only governs + - * / sqrt), in
 * the rounding mode c->rc; flags collect in c->fl as for f80.h.
 *
 * The values are exact to 128 bits internally, so a result is the correctly
 * rounded value of the function as the x87 defines it: FSIN, FCOS,
 * FSINCOS and FPTAN reduce their argument with the x87's 66-bit pi, and
 * FPATAN adds multiples of that same pi.  Nothing depends on the host.
 * Internal to targets/x86/. */
#ifndef TANDEM_X86_FPU_TRANS_H
#define TANDEM_X86_FPU_TRANS_H

#include <stdbool.h>

#include "targets/x86/f80.h"

/* FSIN, FCOS, FSINCOS: *s = sin(x), *co = cos(x) (either may be NULL;
 * C1 reports the sine's rounding when both are asked for).  Returns false,
 * writing nothing and raising nothing, when x is finite with |x| >= 2^63:
 * the instruction then sets C2 and leaves ST0 alone. */
bool f80_fsincos(F80Ctx *c, F80 x, F80 *s, F80 *co);

/* FPTAN: *t = tan(x) and *one = the value pushed after it (1.0, or the
 * NaN result again).  Returns false when |x| >= 2^63, as above. */
bool f80_fptan(F80Ctx *c, F80 x, F80 *t, F80 *one);

/* FPATAN: arctan(y / x) in the quadrant of (x, y); y = ST1, x = ST0. */
F80 f80_fpatan(F80Ctx *c, F80 y, F80 x);

/* FYL2X: y * log2(x); FYL2XP1: y * log2(x + 1).  y = ST1, x = ST0. */
F80 f80_fyl2x(F80Ctx *c, F80 y, F80 x);
F80 f80_fyl2xp1(F80Ctx *c, F80 y, F80 x);

/* F2XM1: 2^x - 1. */
F80 f80_f2xm1(F80Ctx *c, F80 x);

#endif
