/* x86_fpu (pm32 and lm64 from one source): the x87 FPU.  Loads and stores of every memory format
 * (m32/m64/m80 real, m16/m32/m64 integer, m80 BCD), the four arithmetic
 * operations and FSQRT in each rounding mode and precision control against
 * exactly rounded results (computed offline with rational arithmetic),
 * special operands (NaN, infinity, denormal, zero divisor, overflow), the
 * load-constant instructions, FPREM/FPREM1/FSCALE/FXTRACT/FRNDINT, the
 * compares (FCOM/FUCOM/FCOMI/FUCOMI/FTST/FXAM), stack overflow/underflow
 * (masked responses), FSTSW/FSTCW/FLDCW, FSTENV/FLDENV and FSAVE/FRSTOR
 * images, FXSAVE/FXRSTOR, an unmasked exception delivered as #MF at the next
 * waiting instruction (CR0.NE=1), #NM from CR0.TS/CR0.EM, and the
 * transcendentals (checked to ~1e-15 only and printed rounded: Tandem
 * rounds them correctly to 64 bits, QEMU computes them in double).
 *
 * Not printed (QEMU 7.2 differs from the hardware or leaves them
 * implementation-specific): FIP/FCS/FOP/FDP/FDS in the FSTENV, FSAVE and
 * FXSAVE images, the reserved upper halves of the 32-bit FSTENV fields
 * (FFFFh on the hardware, 0 on QEMU), the reserved bytes of FXSAVE.  FCW is
 * only loaded with bit 6 set (the hardware reads it as 1, QEMU keeps what
 * was written).  QEMU 7.2 also lacks parts of the x87 that the SDM defines,
 * so they are neither checked nor printed here (Tandem implements them):
 * C1 as the round-up indicator, DE for denormal operands, stack
 * overflow/underflow (SF, C1, the masked QNaN response), FCOMI clearing OF,
 * FSTENV masking all exceptions, FPREM1's quotient bits, FSIN/FPTAN's C2
 * for |x| >= 2^63, the destination left alone by an unmasked ZE, #MF taken
 * by a waiting x87 instruction other than FWAIT, FXRSTOR's #GP for
 * reserved MXCSR bits.  SW values are compared through SWM (no C1, no DE).
 *
 * The compiler is told -mgeneral-regs-only: every x87 value goes through
 * memory (the globals below) and inline assembly. */
#include "rt.h"

RT_TEST_NAME("x86_fpu");

typedef struct __attribute__((packed)) f80 {
    u64 m;
    u16 e;
} f80;

#define F(e_, m_) ((f80){ (m_), (e_) })
#define FV(e_, m_) { (m_), (e_) }
#define ONE F(0x3fff, 0x8000000000000000ull)
#define INDEF F(0xffff, 0xc000000000000000ull)

/* Operands and results of the asm blocks: globals, so that the addresses
 * do not depend on ESP (some blocks push). */
static f80 A, B, R, R2, R3;
static u16 CW, SW, SW2, TW;
static u64 M64;
static u32 M32;
static ureg FI, FO;              /* RFLAGS in and out (push/popf in either mode) */
static u16 M16;
static u8 BCD[10];
static u8 ENV[108], ENV2[28];
static u8 FX[512] __attribute__((aligned(16)));

#define X87(body) __asm__ volatile("fninit\n\tfldcw %[cw]\n\t" body "\n\tfninit"            \
    : [r] "=m"(R), [r2] "=m"(R2), [r3] "=m"(R3), [sw] "=m"(SW), [sw2] "=m"(SW2), [tw] "=m"(TW), \
      [fo] "=m"(FO), [m64] "+m"(M64), [m32] "+m"(M32), [m16] "+m"(M16), [bcd] "+m"(BCD),  \
      [env] "+m"(ENV), [env2] "+m"(ENV2), [fx] "+m"(FX)                                   \
    : [a] "m"(A), [b] "m"(B), [cw] "m"(CW), [fi] "m"(FI)                                  \
    : "memory", "cc", "eax")

/* FSW bits compared with QEMU: TOP, ES, SF and the flags but DE; C3/C2/C0
 * where an instruction defines them (see the header). */
#define SWM 0xfdfd
#define CW_RC(rc) ((u16)(0x037f & ~0xc00) | (u16)((rc) << 10))
#define CW_PC_RC(pc, rc) ((u16)(0x007f | (pc) << 8 | (rc) << 10))

static int f80_eq(f80 a, f80 b) { return a.m == b.m && a.e == b.e; }
#define CHECK_F80(got, want) do { f80 __g = (got), __w = (want);                        \
    if (!f80_eq(__g, __w)) {                                                           \
        rt_check_fail(__FILE__, __LINE__, #got " (mantissa)", __g.m, __w.m);            \
        if (__g.e != __w.e) rt_check_fail(__FILE__, __LINE__, #got " (exp)", __g.e, __w.e); \
    } } while (0)

static const char *const rc_name[4] = { "rn", "rd", "ru", "rz" };

static void pf80(f80 v) { printf("%04x_%016llx", v.e, (unsigned long long)v.m); }

static u32 hash;
static unsigned ncases;
static void hash_add(u64 v)
{
    for (int i = 0; i < 8; i++) {
        hash ^= (u8)(v >> (8 * i));
        hash *= 16777619u;
    }
}
static void hash_begin(void) { hash = 2166136261u; ncases = 0; }

/* ------------------------------------------------------------ arithmetic */
typedef struct ArithCase {
    u8 op, idx, rc, pc;     /* op: 0 add 1 sub 2 mul 3 div 4 sqrt; pc: FCW.PC */
    u16 e;
    u64 m;
    u16 sw;                 /* PE (20h) and C1 (200h, rounded up) */
} ArithCase;
/* Generated: exact rational result rounded to PC bits in RC (Python fractions). */
static const ArithCase arith_cases[] = {
    { 0, 0, 0, 0, 0x4001, 0x8000000000000000ull, 0x000 },
    { 0, 0, 0, 2, 0x4001, 0x8000000000000000ull, 0x000 },
    { 0, 0, 0, 3, 0x4001, 0x8000000000000000ull, 0x000 },
    { 0, 0, 1, 0, 0x4001, 0x8000000000000000ull, 0x000 },
    { 0, 0, 1, 2, 0x4001, 0x8000000000000000ull, 0x000 },
    { 0, 0, 1, 3, 0x4001, 0x8000000000000000ull, 0x000 },
    { 0, 0, 2, 0, 0x4001, 0x8000000000000000ull, 0x000 },
    { 0, 0, 2, 2, 0x4001, 0x8000000000000000ull, 0x000 },
    { 0, 0, 2, 3, 0x4001, 0x8000000000000000ull, 0x000 },
    { 0, 0, 3, 0, 0x4001, 0x8000000000000000ull, 0x000 },
    { 0, 0, 3, 2, 0x4001, 0x8000000000000000ull, 0x000 },
    { 0, 0, 3, 3, 0x4001, 0x8000000000000000ull, 0x000 },
    { 0, 1, 0, 0, 0x4001, 0xbb84170000000000ull, 0x020 },
    { 0, 1, 0, 2, 0x4001, 0xbb84177d62120800ull, 0x220 },
    { 0, 1, 0, 3, 0x4001, 0xbb84177d62120668ull, 0x000 },
    { 0, 1, 1, 0, 0x4001, 0xbb84170000000000ull, 0x020 },
    { 0, 1, 1, 2, 0x4001, 0xbb84177d62120000ull, 0x020 },
    { 0, 1, 1, 3, 0x4001, 0xbb84177d62120668ull, 0x000 },
    { 0, 1, 2, 0, 0x4001, 0xbb84180000000000ull, 0x220 },
    { 0, 1, 2, 2, 0x4001, 0xbb84177d62120800ull, 0x220 },
    { 0, 1, 2, 3, 0x4001, 0xbb84177d62120668ull, 0x000 },
    { 0, 1, 3, 0, 0x4001, 0xbb84170000000000ull, 0x020 },
    { 0, 1, 3, 2, 0x4001, 0xbb84177d62120000ull, 0x020 },
    { 0, 1, 3, 3, 0x4001, 0xbb84177d62120668ull, 0x000 },
    { 0, 2, 0, 0, 0x4000, 0x8000000000000000ull, 0x220 },
    { 0, 2, 0, 2, 0x4000, 0x8000000000000000ull, 0x220 },
    { 0, 2, 0, 3, 0x4000, 0x8000000000000000ull, 0x220 },
    { 0, 2, 1, 0, 0x3fff, 0xffffff0000000000ull, 0x020 },
    { 0, 2, 1, 2, 0x3fff, 0xfffffffffffff800ull, 0x020 },
    { 0, 2, 1, 3, 0x3fff, 0xffffffffffffffffull, 0x020 },
    { 0, 2, 2, 0, 0x4000, 0x8000000000000000ull, 0x220 },
    { 0, 2, 2, 2, 0x4000, 0x8000000000000000ull, 0x220 },
    { 0, 2, 2, 3, 0x4000, 0x8000000000000000ull, 0x220 },
    { 0, 2, 3, 0, 0x3fff, 0xffffff0000000000ull, 0x020 },
    { 0, 2, 3, 2, 0x3fff, 0xfffffffffffff800ull, 0x020 },
    { 0, 2, 3, 3, 0x3fff, 0xffffffffffffffffull, 0x020 },
    { 0, 3, 0, 0, 0xc002, 0x9fc71c0000000000ull, 0x020 },
    { 0, 3, 0, 2, 0xc002, 0x9fc71c71c71c7000ull, 0x020 },
    { 0, 3, 0, 3, 0xc002, 0x9fc71c71c71c71c7ull, 0x020 },
    { 0, 3, 1, 0, 0xc002, 0x9fc71d0000000000ull, 0x220 },
    { 0, 3, 1, 2, 0xc002, 0x9fc71c71c71c7800ull, 0x220 },
    { 0, 3, 1, 3, 0xc002, 0x9fc71c71c71c71c8ull, 0x220 },
    { 0, 3, 2, 0, 0xc002, 0x9fc71c0000000000ull, 0x020 },
    { 0, 3, 2, 2, 0xc002, 0x9fc71c71c71c7000ull, 0x020 },
    { 0, 3, 2, 3, 0xc002, 0x9fc71c71c71c71c7ull, 0x020 },
    { 0, 3, 3, 0, 0xc002, 0x9fc71c0000000000ull, 0x020 },
    { 0, 3, 3, 2, 0xc002, 0x9fc71c71c71c7000ull, 0x020 },
    { 0, 3, 3, 3, 0xc002, 0x9fc71c71c71c71c7ull, 0x020 },
    { 0, 4, 0, 0, 0x4009, 0xffc0000000000000ull, 0x020 },
    { 0, 4, 0, 2, 0x4009, 0xffc0000000000000ull, 0x020 },
    { 0, 4, 0, 3, 0x4009, 0xffc0000000000002ull, 0x020 },
    { 0, 4, 1, 0, 0x4009, 0xffc0000000000000ull, 0x020 },
    { 0, 4, 1, 2, 0x4009, 0xffc0000000000000ull, 0x020 },
    { 0, 4, 1, 3, 0x4009, 0xffc0000000000002ull, 0x020 },
    { 0, 4, 2, 0, 0x4009, 0xffc0010000000000ull, 0x220 },
    { 0, 4, 2, 2, 0x4009, 0xffc0000000000800ull, 0x220 },
    { 0, 4, 2, 3, 0x4009, 0xffc0000000000003ull, 0x220 },
    { 0, 4, 3, 0, 0x4009, 0xffc0000000000000ull, 0x020 },
    { 0, 4, 3, 2, 0x4009, 0xffc0000000000000ull, 0x020 },
    { 0, 4, 3, 3, 0x4009, 0xffc0000000000002ull, 0x020 },
    { 1, 0, 0, 0, 0xc000, 0x8000000000000000ull, 0x000 },
    { 1, 0, 0, 2, 0xc000, 0x8000000000000000ull, 0x000 },
    { 1, 0, 0, 3, 0xc000, 0x8000000000000000ull, 0x000 },
    { 1, 0, 1, 0, 0xc000, 0x8000000000000000ull, 0x000 },
    { 1, 0, 1, 2, 0xc000, 0x8000000000000000ull, 0x000 },
    { 1, 0, 1, 3, 0xc000, 0x8000000000000000ull, 0x000 },
    { 1, 0, 2, 0, 0xc000, 0x8000000000000000ull, 0x000 },
    { 1, 0, 2, 2, 0xc000, 0x8000000000000000ull, 0x000 },
    { 1, 0, 2, 3, 0xc000, 0x8000000000000000ull, 0x000 },
    { 1, 0, 3, 0, 0xc000, 0x8000000000000000ull, 0x000 },
    { 1, 0, 3, 2, 0xc000, 0x8000000000000000ull, 0x000 },
    { 1, 0, 3, 3, 0xc000, 0x8000000000000000ull, 0x000 },
    { 1, 1, 0, 0, 0x3ffd, 0xd8bc320000000000ull, 0x020 },
    { 1, 1, 0, 2, 0x3ffd, 0xd8bc324bf56bc000ull, 0x220 },
    { 1, 1, 0, 3, 0x3ffd, 0xd8bc324bf56bbcd0ull, 0x000 },
    { 1, 1, 1, 0, 0x3ffd, 0xd8bc320000000000ull, 0x020 },
    { 1, 1, 1, 2, 0x3ffd, 0xd8bc324bf56bb800ull, 0x020 },
    { 1, 1, 1, 3, 0x3ffd, 0xd8bc324bf56bbcd0ull, 0x000 },
    { 1, 1, 2, 0, 0x3ffd, 0xd8bc330000000000ull, 0x220 },
    { 1, 1, 2, 2, 0x3ffd, 0xd8bc324bf56bc000ull, 0x220 },
    { 1, 1, 2, 3, 0x3ffd, 0xd8bc324bf56bbcd0ull, 0x000 },
    { 1, 1, 3, 0, 0x3ffd, 0xd8bc320000000000ull, 0x020 },
    { 1, 1, 3, 2, 0x3ffd, 0xd8bc324bf56bb800ull, 0x020 },
    { 1, 1, 3, 3, 0x3ffd, 0xd8bc324bf56bbcd0ull, 0x000 },
    { 1, 2, 0, 0, 0x4000, 0x8000000000000000ull, 0x220 },
    { 1, 2, 0, 2, 0x4000, 0x8000000000000000ull, 0x220 },
    { 1, 2, 0, 3, 0x3fff, 0xfffffffffffffffeull, 0x020 },
    { 1, 2, 1, 0, 0x3fff, 0xffffff0000000000ull, 0x020 },
    { 1, 2, 1, 2, 0x3fff, 0xfffffffffffff800ull, 0x020 },
    { 1, 2, 1, 3, 0x3fff, 0xfffffffffffffffeull, 0x020 },
    { 1, 2, 2, 0, 0x4000, 0x8000000000000000ull, 0x220 },
    { 1, 2, 2, 2, 0x4000, 0x8000000000000000ull, 0x220 },
    { 1, 2, 2, 3, 0x3fff, 0xffffffffffffffffull, 0x220 },
    { 1, 2, 3, 0, 0x3fff, 0xffffff0000000000ull, 0x020 },
    { 1, 2, 3, 2, 0x3fff, 0xfffffffffffff800ull, 0x020 },
    { 1, 2, 3, 3, 0x3fff, 0xfffffffffffffffeull, 0x020 },
    { 1, 3, 0, 0, 0xc002, 0xa038e40000000000ull, 0x220 },
    { 1, 3, 0, 2, 0xc002, 0xa038e38e38e39000ull, 0x220 },
    { 1, 3, 0, 3, 0xc002, 0xa038e38e38e38e39ull, 0x220 },
    { 1, 3, 1, 0, 0xc002, 0xa038e40000000000ull, 0x220 },
    { 1, 3, 1, 2, 0xc002, 0xa038e38e38e39000ull, 0x220 },
    { 1, 3, 1, 3, 0xc002, 0xa038e38e38e38e39ull, 0x220 },
    { 1, 3, 2, 0, 0xc002, 0xa038e30000000000ull, 0x020 },
    { 1, 3, 2, 2, 0xc002, 0xa038e38e38e38800ull, 0x020 },
    { 1, 3, 2, 3, 0xc002, 0xa038e38e38e38e38ull, 0x020 },
    { 1, 3, 3, 0, 0xc002, 0xa038e30000000000ull, 0x020 },
    { 1, 3, 3, 2, 0xc002, 0xa038e38e38e38800ull, 0x020 },
    { 1, 3, 3, 3, 0xc002, 0xa038e38e38e38e38ull, 0x020 },
    { 1, 4, 0, 0, 0x400a, 0x8020000000000000ull, 0x020 },
    { 1, 4, 0, 2, 0x400a, 0x8020000000000000ull, 0x020 },
    { 1, 4, 0, 3, 0x400a, 0x8020000000000001ull, 0x220 },
    { 1, 4, 1, 0, 0x400a, 0x8020000000000000ull, 0x020 },
    { 1, 4, 1, 2, 0x400a, 0x8020000000000000ull, 0x020 },
    { 1, 4, 1, 3, 0x400a, 0x8020000000000000ull, 0x020 },
    { 1, 4, 2, 0, 0x400a, 0x8020010000000000ull, 0x220 },
    { 1, 4, 2, 2, 0x400a, 0x8020000000000800ull, 0x220 },
    { 1, 4, 2, 3, 0x400a, 0x8020000000000001ull, 0x220 },
    { 1, 4, 3, 0, 0x400a, 0x8020000000000000ull, 0x020 },
    { 1, 4, 3, 2, 0x400a, 0x8020000000000000ull, 0x020 },
    { 1, 4, 3, 3, 0x400a, 0x8020000000000000ull, 0x020 },
    { 2, 0, 0, 0, 0x4000, 0xc000000000000000ull, 0x000 },
    { 2, 0, 0, 2, 0x4000, 0xc000000000000000ull, 0x000 },
    { 2, 0, 0, 3, 0x4000, 0xc000000000000000ull, 0x000 },
    { 2, 0, 1, 0, 0x4000, 0xc000000000000000ull, 0x000 },
    { 2, 0, 1, 2, 0x4000, 0xc000000000000000ull, 0x000 },
    { 2, 0, 1, 3, 0x4000, 0xc000000000000000ull, 0x000 },
    { 2, 0, 2, 0, 0x4000, 0xc000000000000000ull, 0x000 },
    { 2, 0, 2, 2, 0x4000, 0xc000000000000000ull, 0x000 },
    { 2, 0, 2, 3, 0x4000, 0xc000000000000000ull, 0x000 },
    { 2, 0, 3, 0, 0x4000, 0xc000000000000000ull, 0x000 },
    { 2, 0, 3, 2, 0x4000, 0xc000000000000000ull, 0x000 },
    { 2, 0, 3, 3, 0x4000, 0xc000000000000000ull, 0x000 },
    { 2, 1, 0, 0, 0x4002, 0x88a2c00000000000ull, 0x020 },
    { 2, 1, 0, 2, 0x4002, 0x88a2c05a2ea3a800ull, 0x220 },
    { 2, 1, 0, 3, 0x4002, 0x88a2c05a2ea3a4f3ull, 0x020 },
    { 2, 1, 1, 0, 0x4002, 0x88a2c00000000000ull, 0x020 },
    { 2, 1, 1, 2, 0x4002, 0x88a2c05a2ea3a000ull, 0x020 },
    { 2, 1, 1, 3, 0x4002, 0x88a2c05a2ea3a4f3ull, 0x020 },
    { 2, 1, 2, 0, 0x4002, 0x88a2c10000000000ull, 0x220 },
    { 2, 1, 2, 2, 0x4002, 0x88a2c05a2ea3a800ull, 0x220 },
    { 2, 1, 2, 3, 0x4002, 0x88a2c05a2ea3a4f4ull, 0x220 },
    { 2, 1, 3, 0, 0x4002, 0x88a2c00000000000ull, 0x020 },
    { 2, 1, 3, 2, 0x4002, 0x88a2c05a2ea3a000ull, 0x020 },
    { 2, 1, 3, 3, 0x4002, 0x88a2c05a2ea3a4f3ull, 0x020 },
    { 2, 2, 0, 0, 0x3fc0, 0xc000000000000000ull, 0x220 },
    { 2, 2, 0, 2, 0x3fc0, 0xc000000000000000ull, 0x220 },
    { 2, 2, 0, 3, 0x3fc0, 0xbfffffffffffffffull, 0x020 },
    { 2, 2, 1, 0, 0x3fc0, 0xbfffff0000000000ull, 0x020 },
    { 2, 2, 1, 2, 0x3fc0, 0xbffffffffffff800ull, 0x020 },
    { 2, 2, 1, 3, 0x3fc0, 0xbfffffffffffffffull, 0x020 },
    { 2, 2, 2, 0, 0x3fc0, 0xc000000000000000ull, 0x220 },
    { 2, 2, 2, 2, 0x3fc0, 0xc000000000000000ull, 0x220 },
    { 2, 2, 2, 3, 0x3fc0, 0xc000000000000000ull, 0x220 },
    { 2, 2, 3, 0, 0x3fc0, 0xbfffff0000000000ull, 0x020 },
    { 2, 2, 3, 2, 0x3fc0, 0xbffffffffffff800ull, 0x020 },
    { 2, 2, 3, 3, 0x3fc0, 0xbfffffffffffffffull, 0x020 },
    { 2, 3, 0, 0, 0xbffc, 0x8e38e40000000000ull, 0x220 },
    { 2, 3, 0, 2, 0xbffc, 0x8e38e38e38e39000ull, 0x220 },
    { 2, 3, 0, 3, 0xbffc, 0x8e38e38e38e38e39ull, 0x020 },
    { 2, 3, 1, 0, 0xbffc, 0x8e38e40000000000ull, 0x220 },
    { 2, 3, 1, 2, 0xbffc, 0x8e38e38e38e39000ull, 0x220 },
    { 2, 3, 1, 3, 0xbffc, 0x8e38e38e38e38e3aull, 0x220 },
    { 2, 3, 2, 0, 0xbffc, 0x8e38e30000000000ull, 0x020 },
    { 2, 3, 2, 2, 0xbffc, 0x8e38e38e38e38800ull, 0x020 },
    { 2, 3, 2, 3, 0xbffc, 0x8e38e38e38e38e39ull, 0x020 },
    { 2, 3, 3, 0, 0xbffc, 0x8e38e30000000000ull, 0x020 },
    { 2, 3, 3, 2, 0xbffc, 0x8e38e38e38e38800ull, 0x020 },
    { 2, 3, 3, 3, 0xbffc, 0x8e38e38e38e38e39ull, 0x020 },
    { 2, 4, 0, 0, 0xc00b, 0x8000000000000000ull, 0x220 },
    { 2, 4, 0, 2, 0xc00b, 0x8000000000000000ull, 0x220 },
    { 2, 4, 0, 3, 0xc00b, 0x8000000000000000ull, 0x220 },
    { 2, 4, 1, 0, 0xc00b, 0x8000000000000000ull, 0x220 },
    { 2, 4, 1, 2, 0xc00b, 0x8000000000000000ull, 0x220 },
    { 2, 4, 1, 3, 0xc00b, 0x8000000000000000ull, 0x220 },
    { 2, 4, 2, 0, 0xc00a, 0xffffff0000000000ull, 0x020 },
    { 2, 4, 2, 2, 0xc00a, 0xfffffffffffff800ull, 0x020 },
    { 2, 4, 2, 3, 0xc00a, 0xffffffffffffffffull, 0x020 },
    { 2, 4, 3, 0, 0xc00a, 0xffffff0000000000ull, 0x020 },
    { 2, 4, 3, 2, 0xc00a, 0xfffffffffffff800ull, 0x020 },
    { 2, 4, 3, 3, 0xc00a, 0xffffffffffffffffull, 0x020 },
    { 3, 0, 0, 0, 0x3ffd, 0xaaaaab0000000000ull, 0x220 },
    { 3, 0, 0, 2, 0x3ffd, 0xaaaaaaaaaaaaa800ull, 0x020 },
    { 3, 0, 0, 3, 0x3ffd, 0xaaaaaaaaaaaaaaabull, 0x220 },
    { 3, 0, 1, 0, 0x3ffd, 0xaaaaaa0000000000ull, 0x020 },
    { 3, 0, 1, 2, 0x3ffd, 0xaaaaaaaaaaaaa800ull, 0x020 },
    { 3, 0, 1, 3, 0x3ffd, 0xaaaaaaaaaaaaaaaaull, 0x020 },
    { 3, 0, 2, 0, 0x3ffd, 0xaaaaab0000000000ull, 0x220 },
    { 3, 0, 2, 2, 0x3ffd, 0xaaaaaaaaaaaab000ull, 0x220 },
    { 3, 0, 2, 3, 0x3ffd, 0xaaaaaaaaaaaaaaabull, 0x220 },
    { 3, 0, 3, 0, 0x3ffd, 0xaaaaaa0000000000ull, 0x020 },
    { 3, 0, 3, 2, 0x3ffd, 0xaaaaaaaaaaaaa800ull, 0x020 },
    { 3, 0, 3, 3, 0x3ffd, 0xaaaaaaaaaaaaaaaaull, 0x020 },
    { 3, 1, 0, 0, 0x3fff, 0x93eee00000000000ull, 0x220 },
    { 3, 1, 0, 2, 0x3fff, 0x93eedfb138edf000ull, 0x220 },
    { 3, 1, 0, 3, 0x3fff, 0x93eedfb138edef7full, 0x220 },
    { 3, 1, 1, 0, 0x3fff, 0x93eedf0000000000ull, 0x020 },
    { 3, 1, 1, 2, 0x3fff, 0x93eedfb138ede800ull, 0x020 },
    { 3, 1, 1, 3, 0x3fff, 0x93eedfb138edef7eull, 0x020 },
    { 3, 1, 2, 0, 0x3fff, 0x93eee00000000000ull, 0x220 },
    { 3, 1, 2, 2, 0x3fff, 0x93eedfb138edf000ull, 0x220 },
    { 3, 1, 2, 3, 0x3fff, 0x93eedfb138edef7full, 0x220 },
    { 3, 1, 3, 0, 0x3fff, 0x93eedf0000000000ull, 0x020 },
    { 3, 1, 3, 2, 0x3fff, 0x93eedfb138ede800ull, 0x020 },
    { 3, 1, 3, 3, 0x3fff, 0x93eedfb138edef7eull, 0x020 },
    { 3, 2, 0, 0, 0x403f, 0xaaaaab0000000000ull, 0x220 },
    { 3, 2, 0, 2, 0x403f, 0xaaaaaaaaaaaaa800ull, 0x020 },
    { 3, 2, 0, 3, 0x403f, 0xaaaaaaaaaaaaaaaaull, 0x000 },
    { 3, 2, 1, 0, 0x403f, 0xaaaaaa0000000000ull, 0x020 },
    { 3, 2, 1, 2, 0x403f, 0xaaaaaaaaaaaaa800ull, 0x020 },
    { 3, 2, 1, 3, 0x403f, 0xaaaaaaaaaaaaaaaaull, 0x000 },
    { 3, 2, 2, 0, 0x403f, 0xaaaaab0000000000ull, 0x220 },
    { 3, 2, 2, 2, 0x403f, 0xaaaaaaaaaaaab000ull, 0x220 },
    { 3, 2, 2, 3, 0x403f, 0xaaaaaaaaaaaaaaaaull, 0x000 },
    { 3, 2, 3, 0, 0x403f, 0xaaaaaa0000000000ull, 0x020 },
    { 3, 2, 3, 2, 0x403f, 0xaaaaaaaaaaaaa800ull, 0x020 },
    { 3, 2, 3, 3, 0x403f, 0xaaaaaaaaaaaaaaaaull, 0x000 },
    { 3, 3, 0, 0, 0xc008, 0xb400000000000000ull, 0x220 },
    { 3, 3, 0, 2, 0xc008, 0xb400000000000000ull, 0x220 },
    { 3, 3, 0, 3, 0xc008, 0xb3ffffffffffffffull, 0x020 },
    { 3, 3, 1, 0, 0xc008, 0xb400000000000000ull, 0x220 },
    { 3, 3, 1, 2, 0xc008, 0xb400000000000000ull, 0x220 },
    { 3, 3, 1, 3, 0xc008, 0xb400000000000000ull, 0x220 },
    { 3, 3, 2, 0, 0xc008, 0xb3ffff0000000000ull, 0x020 },
    { 3, 3, 2, 2, 0xc008, 0xb3fffffffffff800ull, 0x020 },
    { 3, 3, 2, 3, 0xc008, 0xb3ffffffffffffffull, 0x020 },
    { 3, 3, 3, 0, 0xc008, 0xb3ffff0000000000ull, 0x020 },
    { 3, 3, 3, 2, 0xc008, 0xb3fffffffffff800ull, 0x020 },
    { 3, 3, 3, 3, 0xc008, 0xb3ffffffffffffffull, 0x020 },
    { 3, 4, 0, 0, 0xc009, 0x8000000000000000ull, 0x020 },
    { 3, 4, 0, 2, 0xc009, 0x8000000000000000ull, 0x020 },
    { 3, 4, 0, 3, 0xc009, 0x8000000000000002ull, 0x020 },
    { 3, 4, 1, 0, 0xc009, 0x8000010000000000ull, 0x220 },
    { 3, 4, 1, 2, 0xc009, 0x8000000000000800ull, 0x220 },
    { 3, 4, 1, 3, 0xc009, 0x8000000000000003ull, 0x220 },
    { 3, 4, 2, 0, 0xc009, 0x8000000000000000ull, 0x020 },
    { 3, 4, 2, 2, 0xc009, 0x8000000000000000ull, 0x020 },
    { 3, 4, 2, 3, 0xc009, 0x8000000000000002ull, 0x020 },
    { 3, 4, 3, 0, 0xc009, 0x8000000000000000ull, 0x020 },
    { 3, 4, 3, 2, 0xc009, 0x8000000000000000ull, 0x020 },
    { 3, 4, 3, 3, 0xc009, 0x8000000000000002ull, 0x020 },
    { 4, 0, 0, 0, 0x3fff, 0xb504f30000000000ull, 0x020 },
    { 4, 0, 0, 2, 0x3fff, 0xb504f333f9de6800ull, 0x220 },
    { 4, 0, 0, 3, 0x3fff, 0xb504f333f9de6484ull, 0x020 },
    { 4, 0, 1, 0, 0x3fff, 0xb504f30000000000ull, 0x020 },
    { 4, 0, 1, 2, 0x3fff, 0xb504f333f9de6000ull, 0x020 },
    { 4, 0, 1, 3, 0x3fff, 0xb504f333f9de6484ull, 0x020 },
    { 4, 0, 2, 0, 0x3fff, 0xb504f40000000000ull, 0x220 },
    { 4, 0, 2, 2, 0x3fff, 0xb504f333f9de6800ull, 0x220 },
    { 4, 0, 2, 3, 0x3fff, 0xb504f333f9de6485ull, 0x220 },
    { 4, 0, 3, 0, 0x3fff, 0xb504f30000000000ull, 0x020 },
    { 4, 0, 3, 2, 0x3fff, 0xb504f333f9de6000ull, 0x020 },
    { 4, 0, 3, 3, 0x3fff, 0xb504f333f9de6484ull, 0x020 },
    { 4, 1, 0, 0, 0x3fff, 0xddb3d70000000000ull, 0x020 },
    { 4, 1, 0, 2, 0x3fff, 0xddb3d742c2655000ull, 0x020 },
    { 4, 1, 0, 3, 0x3fff, 0xddb3d742c265539eull, 0x220 },
    { 4, 1, 1, 0, 0x3fff, 0xddb3d70000000000ull, 0x020 },
    { 4, 1, 1, 2, 0x3fff, 0xddb3d742c2655000ull, 0x020 },
    { 4, 1, 1, 3, 0x3fff, 0xddb3d742c265539dull, 0x020 },
    { 4, 1, 2, 0, 0x3fff, 0xddb3d80000000000ull, 0x220 },
    { 4, 1, 2, 2, 0x3fff, 0xddb3d742c2655800ull, 0x220 },
    { 4, 1, 2, 3, 0x3fff, 0xddb3d742c265539eull, 0x220 },
    { 4, 1, 3, 0, 0x3fff, 0xddb3d70000000000ull, 0x020 },
    { 4, 1, 3, 2, 0x3fff, 0xddb3d742c2655000ull, 0x020 },
    { 4, 1, 3, 3, 0x3fff, 0xddb3d742c265539dull, 0x020 },
    { 4, 2, 0, 0, 0x3ffe, 0xb504f30000000000ull, 0x020 },
    { 4, 2, 0, 2, 0x3ffe, 0xb504f333f9de6800ull, 0x220 },
    { 4, 2, 0, 3, 0x3ffe, 0xb504f333f9de6484ull, 0x020 },
    { 4, 2, 1, 0, 0x3ffe, 0xb504f30000000000ull, 0x020 },
    { 4, 2, 1, 2, 0x3ffe, 0xb504f333f9de6000ull, 0x020 },
    { 4, 2, 1, 3, 0x3ffe, 0xb504f333f9de6484ull, 0x020 },
    { 4, 2, 2, 0, 0x3ffe, 0xb504f40000000000ull, 0x220 },
    { 4, 2, 2, 2, 0x3ffe, 0xb504f333f9de6800ull, 0x220 },
    { 4, 2, 2, 3, 0x3ffe, 0xb504f333f9de6485ull, 0x220 },
    { 4, 2, 3, 0, 0x3ffe, 0xb504f30000000000ull, 0x020 },
    { 4, 2, 3, 2, 0x3ffe, 0xb504f333f9de6000ull, 0x020 },
    { 4, 2, 3, 3, 0x3ffe, 0xb504f333f9de6484ull, 0x020 },
    { 4, 3, 0, 0, 0x3fff, 0xe2dfc50000000000ull, 0x220 },
    { 4, 3, 0, 2, 0x3fff, 0xe2dfc48da77b5800ull, 0x220 },
    { 4, 3, 0, 3, 0x3fff, 0xe2dfc48da77b553dull, 0x020 },
    { 4, 3, 1, 0, 0x3fff, 0xe2dfc40000000000ull, 0x020 },
    { 4, 3, 1, 2, 0x3fff, 0xe2dfc48da77b5000ull, 0x020 },
    { 4, 3, 1, 3, 0x3fff, 0xe2dfc48da77b553dull, 0x020 },
    { 4, 3, 2, 0, 0x3fff, 0xe2dfc50000000000ull, 0x220 },
    { 4, 3, 2, 2, 0x3fff, 0xe2dfc48da77b5800ull, 0x220 },
    { 4, 3, 2, 3, 0x3fff, 0xe2dfc48da77b553eull, 0x220 },
    { 4, 3, 3, 0, 0x3fff, 0xe2dfc40000000000ull, 0x020 },
    { 4, 3, 3, 2, 0x3fff, 0xe2dfc48da77b5000ull, 0x020 },
    { 4, 3, 3, 3, 0x3fff, 0xe2dfc48da77b553dull, 0x020 },
    { 4, 4, 0, 0, 0x400f, 0xc350000000000000ull, 0x000 },
    { 4, 4, 0, 2, 0x400f, 0xc350000000000000ull, 0x000 },
    { 4, 4, 0, 3, 0x400f, 0xc350000000000000ull, 0x000 },
    { 4, 4, 1, 0, 0x400f, 0xc350000000000000ull, 0x000 },
    { 4, 4, 1, 2, 0x400f, 0xc350000000000000ull, 0x000 },
    { 4, 4, 1, 3, 0x400f, 0xc350000000000000ull, 0x000 },
    { 4, 4, 2, 0, 0x400f, 0xc350000000000000ull, 0x000 },
    { 4, 4, 2, 2, 0x400f, 0xc350000000000000ull, 0x000 },
    { 4, 4, 2, 3, 0x400f, 0xc350000000000000ull, 0x000 },
    { 4, 4, 3, 0, 0x400f, 0xc350000000000000ull, 0x000 },
    { 4, 4, 3, 2, 0x400f, 0xc350000000000000ull, 0x000 },
    { 4, 4, 3, 3, 0x400f, 0xc350000000000000ull, 0x000 },
    { 4, 5, 0, 0, 0x4000, 0x8000000000000000ull, 0x000 },
    { 4, 5, 0, 2, 0x4000, 0x8000000000000000ull, 0x000 },
    { 4, 5, 0, 3, 0x4000, 0x8000000000000000ull, 0x000 },
    { 4, 5, 1, 0, 0x4000, 0x8000000000000000ull, 0x000 },
    { 4, 5, 1, 2, 0x4000, 0x8000000000000000ull, 0x000 },
    { 4, 5, 1, 3, 0x4000, 0x8000000000000000ull, 0x000 },
    { 4, 5, 2, 0, 0x4000, 0x8000000000000000ull, 0x000 },
    { 4, 5, 2, 2, 0x4000, 0x8000000000000000ull, 0x000 },
    { 4, 5, 2, 3, 0x4000, 0x8000000000000000ull, 0x000 },
    { 4, 5, 3, 0, 0x4000, 0x8000000000000000ull, 0x000 },
    { 4, 5, 3, 2, 0x4000, 0x8000000000000000ull, 0x000 },
    { 4, 5, 3, 3, 0x4000, 0x8000000000000000ull, 0x000 },
};
/* st0 op st1 operands (a, b) and FSQRT operands */
static const f80 arith_pairs[][2] = {
    { FV(0x3fff, 0x8000000000000000ull), FV(0x4000, 0xc000000000000000ull) },
    { FV(0x4000, 0xc90fdaa22168c235ull), FV(0x4000, 0xadf85458a2bb4a9bull) },
    { FV(0x3fff, 0xffffffffffffffffull), FV(0x3fbf, 0xc000000000000000ull) },
    { FV(0xc002, 0xa000000000000000ull), FV(0x3ff8, 0xe38e38e38e38e38full) },
    { FV(0x400a, 0x8000000000000001ull), FV(0xbfff, 0xfffffffffffffffeull) },
};
static const f80 sqrt_args[] = {
    FV(0x4000, 0x8000000000000000ull),
    FV(0x4000, 0xc000000000000000ull),
    FV(0x3ffe, 0x8000000000000000ull),
    FV(0x4000, 0xc90fdaa22168c235ull),
    FV(0x4020, 0x9502f90000000000ull),
    FV(0x4001, 0x8000000000000000ull),
};

/* st0 = A, st1 = B; R = st0 after the operation, SW right after it. */
static void run_arith(unsigned op)
{
    switch (op) {
    case 0: X87("fldt %[b]\n\tfldt %[a]\n\tfadd %%st(1), %%st\n\tfnstsw %[sw]\n\tfstpt %[r]"); break;
    case 1: X87("fldt %[b]\n\tfldt %[a]\n\tfsub %%st(1), %%st\n\tfnstsw %[sw]\n\tfstpt %[r]"); break;
    case 2: X87("fldt %[b]\n\tfldt %[a]\n\tfmul %%st(1), %%st\n\tfnstsw %[sw]\n\tfstpt %[r]"); break;
    case 3: X87("fldt %[b]\n\tfldt %[a]\n\tfdiv %%st(1), %%st\n\tfnstsw %[sw]\n\tfstpt %[r]"); break;
    case 4: X87("fldt %[a]\n\tfsqrt\n\tfnstsw %[sw]\n\tfstpt %[r]"); break;
    /* the reversed and popping forms: st1 = st0 - st1 (DE E1), st1 = st0 / st1 (DE F1) */
    case 5: X87("fldt %[b]\n\tfldt %[a]\n\tfsubp %%st, %%st(1)\n\tfnstsw %[sw]\n\tfstpt %[r]"); break;
    case 6: X87("fldt %[b]\n\tfldt %[a]\n\tfdivp %%st, %%st(1)\n\tfnstsw %[sw]\n\tfstpt %[r]"); break;
    case 7: X87("fldt %[b]\n\tfldt %[a]\n\tfsubr %%st(1), %%st\n\tfnstsw %[sw]\n\tfstpt %[r]"); break;
    case 8: X87("fldt %[b]\n\tfldt %[a]\n\tfdivr %%st(1), %%st\n\tfnstsw %[sw]\n\tfstpt %[r]"); break;
    }
}

static void test_arith(void)
{
    static const char *const names[5] = { "fadd", "fsub", "fmul", "fdiv", "fsqrt" };
    unsigned fails = 0;
    for (unsigned op = 0; op < 5; op++) {
        hash_begin();
        for (unsigned i = 0; i < sizeof(arith_cases) / sizeof(arith_cases[0]); i++) {
            const ArithCase *c = &arith_cases[i];
            if (c->op != op)
                continue;
            if (op == 4) {
                A = sqrt_args[c->idx];
            } else {
                A = arith_pairs[c->idx][0];
                B = arith_pairs[c->idx][1];
            }
            CW = CW_PC_RC(c->pc, c->rc);
            run_arith(op);
            ncases++;
            hash_add(R.m);
            hash_add(R.e);
            hash_add(SW & 0x38fd);
            u16 top = op == 4 ? 0x3800 : 0x3000;
            if (!f80_eq(R, F(c->e, c->m)) || (SW & 0x38fd) != ((top | c->sw) & 0x38fd)) {
                rt_failures++;
                if (++fails <= 10) {
                    printf("TEST x86_fpu: FAIL %s #%u %s pc%u: got ", names[op], c->idx, rc_name[c->rc], c->pc);
                    pf80(R);
                    printf(" sw %04x, want ", SW);
                    pf80(F(c->e, c->m));
                    printf(" sw %04x\n", top | c->sw);
                }
            }
        }
        printf("%-6s %3u cases hash %08x\n", names[op], ncases, hash);
    }
    /* Reversed/popping forms against the plain ones (RN, 64 bits). */
    for (unsigned i = 0; i < sizeof(arith_pairs) / sizeof(arith_pairs[0]); i++) {
        f80 want;
        u16 wsw;
        CW = 0x037f;
        A = arith_pairs[i][0];
        B = arith_pairs[i][1];
        run_arith(1);
        want = R, wsw = SW;
        run_arith(5);                      /* st1 = A - B, popped: TOP 7 */
        CHECK_F80(R, want);
        CHECK_EQ(SW, (wsw & ~0x3800) | 0x3800);
        run_arith(3);
        want = R, wsw = SW;
        run_arith(6);
        CHECK_F80(R, want);
        CHECK_EQ(SW, (wsw & ~0x3800) | 0x3800);
        A = arith_pairs[i][1];
        B = arith_pairs[i][0];
        run_arith(7);                      /* st0 = st1 - st0 = A - B reversed back */
        CW = 0x037f;
        f80 rr = R;
        A = arith_pairs[i][0];
        B = arith_pairs[i][1];
        run_arith(1);
        CHECK_F80(rr, R);
        A = arith_pairs[i][1];
        B = arith_pairs[i][0];
        run_arith(8);
        rr = R;
        A = arith_pairs[i][0];
        B = arith_pairs[i][1];
        run_arith(3);
        CHECK_F80(rr, R);
    }
}

/* Memory-operand and integer forms: A op m64 / m32 / m16int / m32int. */
static void test_arith_mem(void)
{
    A = F(0x4000, 0xc90fdaa22168c235ull);   /* pi */
    CW = 0x037f;
    M64 = 0x3ff0000000000001ull;            /* 1 + 2^-52 */
    X87("fldt %[a]\n\tfaddl %[m64]\n\tfnstsw %[sw]\n\tfstpt %[r]");
    printf("fadd m64: "); pf80(R); printf(" sw %04x\n", SW & SWM);
    M32 = 0x40490fdb;                       /* pi as float */
    X87("fldt %[a]\n\tfsubs %[m32]\n\tfnstsw %[sw]\n\tfstpt %[r]");
    printf("fsub m32: "); pf80(R); printf(" sw %04x\n", SW & 0x38fd);
    CHECK_F80(R, F(0xbfe7, 0xbbbd2e7b96000000ull));
    M16 = (u16)-3;
    X87("fldt %[a]\n\tfimuls %[m16]\n\tfnstsw %[sw]\n\tfstpt %[r]");
    printf("fimul m16: "); pf80(R); printf(" sw %04x\n", SW & 0x38fd);
    M32 = 7;
    X87("fldt %[a]\n\tfidivrl %[m32]\n\tfnstsw %[sw]\n\tfstpt %[r]");
    printf("fidivr m32: "); pf80(R); printf(" sw %04x\n", SW & 0x38fd);
    M32 = 0x3f800000;
    X87("fldt %[a]\n\tfdivrs %[m32]\n\tfnstsw %[sw]\n\tfstpt %[r]");
    printf("fdivr m32: "); pf80(R); printf(" sw %04x\n", SW & 0x38fd);
}

/* Special operands: each prints the result and FSW; certain ones checked. */
static void special(const char *name, unsigned op, f80 a, f80 b, u16 cw, f80 want, u16 wsw, int check)
{
    A = a, B = b, CW = cw;
    run_arith(op);
    printf("%-22s ", name);
    pf80(R);
    printf(" sw %04x\n", SW & 0x38fd);
    if (check) {
        CHECK_F80(R, want);
        CHECK_EQ(SW & 0x00fd, wsw & 0x00fd);
    }
}

static void test_special(void)
{
    const f80 zero = F(0, 0), nzero = F(0x8000, 0), inf = F(0x7fff, 0x8000000000000000ull);
    const f80 max = F(0x7ffe, 0xffffffffffffffffull), two = F(0x4000, 0x8000000000000000ull);
    const f80 snan = F(0x7fff, 0xa000000000000000ull), qnan = F(0x7fff, 0xc000000000000001ull);
    const f80 qnan2 = F(0xffff, 0xe000000000000000ull), den = F(0, 1);
    const f80 tiny = F(0x0001, 0x8000000000000000ull), unnorm = F(0x4000, 0x4000000000000000ull);
    special("0/0", 3, zero, zero, 0x037f, INDEF, 0x0001, 1);
    special("1/0", 3, ONE, zero, 0x037f, inf, 0x0004, 1);
    special("-1/0", 3, F(0xbfff, 0x8000000000000000ull), zero, 0x037f, F(0xffff, 0x8000000000000000ull), 0x0004, 1);
    special("1/-0", 3, ONE, nzero, 0x037f, F(0xffff, 0x8000000000000000ull), 0x0004, 1);
    special("inf-inf", 1, inf, inf, 0x037f, INDEF, 0x0001, 1);
    special("0*inf", 2, zero, inf, 0x037f, INDEF, 0x0001, 1);
    special("sqrt(-2)", 4, F(0xc000, 0x8000000000000000ull), zero, 0x037f, INDEF, 0x0001, 1);
    special("sqrt(-0)", 4, nzero, zero, 0x037f, nzero, 0, 1);
    special("snan+1", 0, snan, ONE, 0x037f, F(0x7fff, 0xe000000000000000ull), 0x0001, 1);
    special("1+snan", 0, ONE, snan, 0x037f, F(0x7fff, 0xe000000000000000ull), 0x0001, 1);
    special("qnan+1", 0, qnan, ONE, 0x037f, qnan, 0, 1);
    special("qnan+qnan2", 0, qnan, qnan2, 0x037f, qnan2, 0, 1);   /* larger significand */
    special("qnan2+qnan", 0, qnan2, qnan, 0x037f, qnan2, 0, 1);
    special("inf+1", 0, inf, ONE, 0x037f, inf, 0, 1);
    special("den+1", 0, den, ONE, 0x037f, ONE, 0x0022, 1);
    special("den*2", 2, den, two, 0x037f, F(0, 2), 0x0002, 1);
    special("tiny/2", 3, tiny, two, 0x037f, F(0, 0x4000000000000000ull), 0, 1);
    special("tiny/3", 3, tiny, F(0x4000, 0xc000000000000000ull), 0x037f, zero, 0, 0);
    special("max*2 rn", 2, max, two, CW_RC(0), inf, 0x0028, 1);
    special("max*2 rd", 2, max, two, CW_RC(1), max, 0x0028, 1);
    special("max*2 ru", 2, max, two, CW_RC(2), inf, 0x0028, 1);
    special("max*2 rz", 2, max, two, CW_RC(3), max, 0x0028, 1);
    special("-max*2 rd", 2, F(0xfffe, 0xffffffffffffffffull), two, CW_RC(1), F(0xffff, 0x8000000000000000ull), 0x0028, 1);
    special("max*2 pc24 rz", 2, max, two, CW_PC_RC(0, 3), F(0x7ffe, 0xffffff0000000000ull), 0x0028, 1);
    special("unnormal+1", 0, unnorm, ONE, 0x037f, INDEF, 0x0001, 1);
    special("pdenormal+1", 0, F(0, 0x8000000000000001ull), ONE, 0x037f, zero, 0, 0);
}

/* ------------------------------------------------------- loads / stores */
static void test_loads(void)
{
    static const u32 s32[] = { 0x3f800000, 0x80000000, 0x00000001, 0x00800000, 0x7f7fffff,
                               0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001, 0xffbfffff };
    static const u64 s64[] = { 0x3ff0000000000000ull, 0x8000000000000000ull, 0x0000000000000001ull,
                               0x000fffffffffffffull, 0x7fefffffffffffffull, 0x7ff0000000000000ull,
                               0x7ff8000000000000ull, 0x7ff0000000000001ull, 0xc00921fb54442d18ull };
    CW = 0x037f;
    for (unsigned i = 0; i < sizeof(s32) / sizeof(s32[0]); i++) {
        M32 = s32[i];
        X87("flds %[m32]\n\tfnstsw %[sw]\n\tfstpt %[r]");
        printf("fld m32 %08x: ", M32); pf80(R); printf(" sw %04x\n", SW & SWM);
    }
    M32 = 0x3f800000;
    X87("flds %[m32]\n\tfnstsw %[sw]\n\tfstpt %[r]");
    CHECK_F80(R, ONE);
    CHECK_EQ(SW, 0x3800);
    M32 = 1;
    X87("flds %[m32]\n\tfnstsw %[sw]\n\tfstpt %[r]");
    CHECK_F80(R, F(0x3f6a, 0x8000000000000000ull));
    CHECK_EQ(SW & SWM, 0x3800);               /* DE (not on QEMU) */
    M32 = 0x7f800001;
    X87("flds %[m32]\n\tfnstsw %[sw]\n\tfstpt %[r]");
    CHECK_F80(R, F(0x7fff, 0xc000010000000000ull));
    CHECK_EQ(SW, 0x3801);                     /* IE, quieted */
    for (unsigned i = 0; i < sizeof(s64) / sizeof(s64[0]); i++) {
        M64 = s64[i];
        X87("fldl %[m64]\n\tfnstsw %[sw]\n\tfstpt %[r]");
        printf("fld m64 %016llx: ", (unsigned long long)M64); pf80(R); printf(" sw %04x\n", SW & SWM);
    }
    M64 = 1;
    X87("fldl %[m64]\n\tfnstsw %[sw]\n\tfstpt %[r]");
    CHECK_F80(R, F(0x3bcd, 0x8000000000000000ull));
    CHECK_EQ(SW & SWM, 0x3800);
    M64 = 0x7ff0000000000001ull;
    X87("fldl %[m64]\n\tfnstsw %[sw]\n\tfstpt %[r]");
    CHECK_F80(R, F(0x7fff, 0xc000000000000800ull));
    CHECK_EQ(SW, 0x3801);
    /* m80: no exceptions, any encoding loads as is. */
    A = F(0x0000, 0x0000000000000001ull);
    X87("fldt %[a]\n\tfnstsw %[sw]\n\tfstpt %[r]");
    CHECK_F80(R, A);
    CHECK_EQ(SW, 0x3800);
    A = F(0x7fff, 0xa000000000000000ull);
    X87("fldt %[a]\n\tfnstsw %[sw]\n\tfstpt %[r]");
    CHECK_F80(R, A);
    CHECK_EQ(SW, 0x3800);

    /* Integers. */
    static const u16 i16[] = { 0, 1, 0xffff, 0x7fff, 0x8000 };
    static const u32 i32[] = { 0x80000000, 123456789, 0xfffffff6 };
    static const u64 i64[] = { 0x8000000000000000ull, 0x7fffffffffffffffull, 1 };
    for (unsigned i = 0; i < 5; i++) {
        M16 = i16[i];
        X87("filds %[m16]\n\tfnstsw %[sw]\n\tfstpt %[r]");
        printf("fild m16 %04x: ", M16); pf80(R); printf(" sw %04x\n", SW);
    }
    M16 = 0xffff;
    X87("filds %[m16]\n\tfstpt %[r]");
    CHECK_F80(R, F(0xbfff, 0x8000000000000000ull));
    M16 = 0;
    X87("filds %[m16]\n\tfstpt %[r]");
    CHECK_F80(R, F(0, 0));
    for (unsigned i = 0; i < 3; i++) {
        M32 = i32[i];
        X87("fildl %[m32]\n\tfnstsw %[sw]\n\tfstpt %[r]");
        printf("fild m32 %08x: ", M32); pf80(R); printf(" sw %04x\n", SW);
    }
    M32 = 123456789;
    X87("fildl %[m32]\n\tfstpt %[r]");
    CHECK_F80(R, F(0x4019, 0xeb79a2a000000000ull));
    for (unsigned i = 0; i < 3; i++) {
        M64 = i64[i];
        X87("fildll %[m64]\n\tfnstsw %[sw]\n\tfstpt %[r]");
        printf("fild m64 %016llx: ", (unsigned long long)M64); pf80(R); printf(" sw %04x\n", SW);
    }
    M64 = 0x7fffffffffffffffull;
    X87("fildll %[m64]\n\tfstpt %[r]");
    CHECK_F80(R, F(0x403d, 0xfffffffffffffffeull));
    M64 = 0x8000000000000000ull;
    X87("fildll %[m64]\n\tfstpt %[r]");
    CHECK_F80(R, F(0xc03e, 0x8000000000000000ull));

    /* BCD */
    static const u8 bcd1[10] = { 0x89, 0x67, 0x45, 0x23, 0x01, 0, 0, 0, 0, 0 };
    memcpy(BCD, bcd1, 10);
    X87("fbld %[bcd]\n\tfnstsw %[sw]\n\tfstpt %[r]");
    CHECK_F80(R, F(0x4019, 0xeb79a2a000000000ull));
    CHECK_EQ(SW, 0x3800);
    BCD[9] = 0x80;
    X87("fbld %[bcd]\n\tfstpt %[r]");
    CHECK_F80(R, F(0xc019, 0xeb79a2a000000000ull));
    static const u8 bcd2[10] = { 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x99, 0x00 };
    memcpy(BCD, bcd2, 10);
    X87("fbld %[bcd]\n\tfnstsw %[sw]\n\tfstpt %[r]");
    printf("fbld 999..9: "); pf80(R); printf(" sw %04x\n", SW);
    /* FBSTP: -987654321.5 rounds to even (RN) / away (RD) / toward zero (RZ). */
    for (unsigned rc = 0; rc < 4; rc++) {
        A = F(0xc01c, 0xeb79a2c600000000ull);     /* -987654321.5 */
        CW = CW_RC(rc);
        memset(BCD, 0x55, 10);
        X87("fldt %[a]\n\tfbstp %[bcd]\n\tfnstsw %[sw]");
        printf("fbstp -987654321.5 %s: ", rc_name[rc]);
        for (int i = 9; i >= 0; i--)
            printf("%02x", BCD[i]);
        printf(" sw %04x\n", SW & SWM);
        u32 lo = BCD[0] | BCD[1] << 8 | BCD[2] << 16 | (u32)BCD[3] << 24;
        CHECK_EQ(lo, (rc == 0 || rc == 1) ? 0x87654322u : 0x87654321u);
        CHECK_EQ(BCD[4], 0x09);
        CHECK_EQ(BCD[9], 0x80);
        CHECK_EQ(SW & 0x3dff, 0x0020);
    }
    /* Out of range: BCD indefinite, IE. */
    CW = 0x037f;
    M64 = 0x0de0b6b3a7640000ull;                  /* 10^18 */
    memset(BCD, 0x55, 10);
    X87("fildll %[m64]\n\tfbstp %[bcd]\n\tfnstsw %[sw]");
    CHECK_EQ(BCD[9], 0xff);
    CHECK_EQ(BCD[8], 0xff);
    CHECK_EQ(BCD[7], 0xc0);
    CHECK_EQ(SW & 0x3f, 0x01);
    printf("fbstp 1e18: ");
    for (int i = 9; i >= 0; i--)
        printf("%02x", BCD[i]);
    printf(" sw %04x\n", SW & SWM);
}

/* FST m32/m64 from extended values, each rounding mode. */
static void test_stores(void)
{
    static const f80 v[] = {
        FV(0x3fff, 0x8000000200000000ull),   /* 1 + 2^-30 */
        FV(0xbfff, 0x8000000200000000ull),
        FV(0x3fff, 0x8000008000000000ull),   /* 1 + 2^-24: a tie for m32 */
        FV(0x3fff, 0x8000018000000000ull),   /* 1 + 3*2^-24: a tie, odd */
        FV(0x4000, 0xc90fdaa22168c235ull),   /* pi */
        FV(0x4100, 0x8000000000000000ull),   /* 2^257: overflows m32 */
        FV(0x3f00, 0xc000000000000000ull),   /* 1.5*2^-255: underflows m32 */
        FV(0x3f6a, 0xc000000000000000ull),   /* 1.5*2^-149: denormal m32, a tie */
        FV(0x7fff, 0xa000000000000000ull),   /* SNaN */
        FV(0x0000, 0x0000000000000001ull),   /* denormal */
    };
    hash_begin();
    for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        for (unsigned rc = 0; rc < 4; rc++) {
            A = v[i];
            CW = CW_RC(rc);
            X87("fldt %[a]\n\tfsts %[m32]\n\tfnstsw %[sw]\n\tfnclex\n\tfstpl %[m64]\n\tfnstsw %[sw2]");
            printf("fst %u %s: m32 %08x sw %04x m64 %016llx sw %04x\n", i, rc_name[rc], M32, SW & SWM,
                   (unsigned long long)M64, SW2 & SWM);
        }
    /* 1 + 2^-30 */
    A = v[0];
    for (unsigned rc = 0; rc < 4; rc++) {
        CW = CW_RC(rc);
        X87("fldt %[a]\n\tfstps %[m32]\n\tfnstsw %[sw]");
        CHECK_EQ(M32, rc == 2 ? 0x3f800001u : 0x3f800000u);
        CHECK_EQ(SW & 0x3dff, 0x0020);
    }
    /* ties to even */
    A = v[2];
    CW = 0x037f;
    X87("fldt %[a]\n\tfstps %[m32]\n\tfnstsw %[sw]");
    CHECK_EQ(M32, 0x3f800000u);
    A = v[3];
    X87("fldt %[a]\n\tfstps %[m32]\n\tfnstsw %[sw]");
    CHECK_EQ(M32, 0x3f800002u);
    CHECK_EQ(SW & 0x3dff, 0x0020);
    /* overflow */
    A = v[5];
    X87("fldt %[a]\n\tfstps %[m32]\n\tfnstsw %[sw]");
    CHECK_EQ(M32, 0x7f800000u);
    CHECK_EQ(SW & 0x3dff, 0x0028);
    CW = CW_RC(3);
    X87("fldt %[a]\n\tfstps %[m32]\n\tfnstsw %[sw]");
    CHECK_EQ(M32, 0x7f7fffffu);
    CHECK_EQ(SW & 0x3dff, 0x0028);
    /* underflow to a denormal, tie to even: 1.5*2^-149 -> 2*2^-149 */
    A = v[7];
    CW = 0x037f;
    X87("fldt %[a]\n\tfstps %[m32]\n\tfnstsw %[sw]");
    CHECK_EQ(M32, 2);
    CHECK_EQ(SW & 0x3dff, 0x0030);
    /* SNaN -> QNaN, IE */
    A = v[8];
    X87("fldt %[a]\n\tfstpl %[m64]\n\tfnstsw %[sw]");
    CHECK_EQ(M64, 0x7ffc000000000000ull);
    CHECK_EQ(SW & 0x3fff, 0x0001);
}

/* FIST/FISTP m16/m32/m64 and FISTTP in each rounding mode. */
static void test_fist(void)
{
    static const f80 v[] = {
        FV(0x4000, 0xa000000000000000ull),   /* 2.5 */
        FV(0xc000, 0xa000000000000000ull),   /* -2.5 */
        FV(0x4000, 0xe000000000000000ull),   /* 3.5 */
        FV(0xbffe, 0x8000000000000000ull),   /* -0.5 */
        FV(0x400d, 0xffff800000000000ull),   /* 32767.5 */
        FV(0xc00e, 0x8000000000000000ull),   /* -32768 */
        FV(0x4020, 0x9502f90000000000ull),   /* 1e10 */
        FV(0x403e, 0x8000000000000000ull),   /* 2^63 */
        FV(0x7fff, 0xc000000000000000ull),   /* QNaN */
    };
    static const int16_t want16[4][4] = {   /* 2.5 -2.5 3.5 -0.5 by rc */
        { 2, -2, 4, 0 }, { 2, -3, 3, -1 }, { 3, -2, 4, 0 }, { 2, -2, 3, 0 } };
    for (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++)
        for (unsigned rc = 0; rc < 4; rc++) {
            A = v[i];
            CW = CW_RC(rc);
            M16 = 0x5555;
            M32 = 0x55555555;
            M64 = 0x5555555555555555ull;
            X87("fldt %[a]\n\tfists %[m16]\n\tfistl %[m32]\n\tfistpll %[m64]\n\tfnstsw %[sw]");
            printf("fist %u %s: %04x %08x %016llx sw %04x", i, rc_name[rc], M16, M32,
                   (unsigned long long)M64, SW & SWM);
            if (i < 4) {
                CHECK_EQ(M16, (u16)want16[rc][i]);
                CHECK_EQ(M32, (u32)(int32_t)want16[rc][i]);
                CHECK_EQ(M64, (u64)(int64_t)want16[rc][i]);
                CHECK_EQ(SW & 0x3f, 0x20);
            }
            X87("fldt %[a]\n\tfisttps %[m16]\n\tfldt %[a]\n\tfisttpl %[m32]\n\tfldt %[a]\n\tfisttpll %[m64]\n\tfnstsw %[sw]");
            printf(" | fisttp %04x %08x %016llx sw %04x\n", M16, M32, (unsigned long long)M64, SW & SWM);
            if (i < 4) {
                CHECK_EQ(M16, (u16)want16[3][i]);
                CHECK_EQ(M64, (u64)(int64_t)want16[3][i]);
            }
        }
    /* Out of range: the integer indefinite, IE. */
    A = v[4];
    CW = 0x037f;
    X87("fldt %[a]\n\tfistps %[m16]\n\tfnstsw %[sw]");
    CHECK_EQ(M16, 0x8000);
    CHECK_EQ(SW & 0x3f, 0x01);
    A = v[6];
    X87("fldt %[a]\n\tfistpl %[m32]\n\tfnstsw %[sw]");
    CHECK_EQ(M32, 0x80000000u);
    CHECK_EQ(SW & 0x3f, 0x01);
    A = v[7];
    X87("fldt %[a]\n\tfistpll %[m64]\n\tfnstsw %[sw]");
    CHECK_EQ(M64, 0x8000000000000000ull);
    CHECK_EQ(SW & 0x3f, 0x01);
    A = v[5];
    X87("fldt %[a]\n\tfistps %[m16]\n\tfnstsw %[sw]");
    CHECK_EQ(M16, 0x8000);
    CHECK_EQ(SW & 0x3f, 0x00);
}

/* FLD1 .. FLDZ: the constants are rounded by RC. */
static void test_consts(void)
{
    for (unsigned rc = 0; rc < 4; rc++) {
        CW = CW_RC(rc);
        printf("consts %s:", rc_name[rc]);
#define CONST(insn) do { X87(insn "\n\tfnstsw %[sw]\n\tfstpt %[r]"); printf(" "); pf80(R); \
        if ((SW & SWM) != 0x3800) printf("/%04x", SW & SWM); } while (0)
        CONST("fld1"); CONST("fldl2t"); CONST("fldl2e"); CONST("fldpi");
        CONST("fldlg2"); CONST("fldln2"); CONST("fldz");
        printf("\n");
        X87("fldpi\n\tfstpt %[r]");
        CHECK_F80(R, F(0x4000, (rc == 0 || rc == 2) ? 0xc90fdaa22168c235ull : 0xc90fdaa22168c234ull));
        X87("fldl2e\n\tfstpt %[r]");
        CHECK_F80(R, F(0x3fff, (rc == 0 || rc == 2) ? 0xb8aa3b295c17f0bcull : 0xb8aa3b295c17f0bbull));
    }
}

/* ------------------------------------- FPREM FPREM1 FSCALE FXTRACT FRNDINT */
static void test_misc(void)
{
    const f80 seven = F(0x4001, 0xe000000000000000ull), two = F(0x4000, 0x8000000000000000ull);
    CW = 0x037f;
    A = seven, B = two;
    X87("fldt %[b]\n\tfldt %[a]\n\tfprem\n\tfnstsw %[sw]\n\tfstpt %[r]");
    printf("fprem 7,2: "); pf80(R); printf(" sw %04x\n", SW);
    CHECK_F80(R, ONE);
    CHECK_EQ(SW & 0x4700, 0x4200);            /* Q = 3: C3 = Q1, C1 = Q0 */
    X87("fldt %[b]\n\tfldt %[a]\n\tfprem1\n\tfnstsw %[sw]\n\tfstpt %[r]");
    printf("fprem1 7,2: "); pf80(R); printf(" sw %04x\n", SW & 0x38ff);
    CHECK_F80(R, F(0xbfff, 0x8000000000000000ull));
    A = F(0xc001, 0xe000000000000000ull);
    X87("fldt %[b]\n\tfldt %[a]\n\tfprem\n\tfnstsw %[sw]\n\tfstpt %[r]");
    CHECK_F80(R, F(0xbfff, 0x8000000000000000ull));
    CHECK_EQ(SW & 0x4700, 0x4200);
    /* pi rem e, 1e10 rem pi: printed */
    A = F(0x4020, 0x9502f90000000000ull), B = F(0x4000, 0xc90fdaa22168c235ull);
    X87("fldt %[b]\n\tfldt %[a]\n\tfprem\n\tfnstsw %[sw]\n\tfstpt %[r]");
    printf("fprem 1e10,pi: "); pf80(R); printf(" sw %04x\n", SW);
    X87("fldt %[b]\n\tfldt %[a]\n\tfprem1\n\tfnstsw %[sw]\n\tfstpt %[r]");
    printf("fprem1 1e10,pi: "); pf80(R); printf(" sw %04x\n", SW & 0x38ff);
    /* 2^100 rem 3: partial remainders (C2 = 1) until done; 2^100 = 1 mod 3. */
    A = F(0x4063, 0x8000000000000000ull), B = F(0x4000, 0xc000000000000000ull);
    unsigned iter = 0;
    do {
        X87("fldt %[b]\n\tfldt %[a]\n\tfprem\n\tfnstsw %[sw]\n\tfstpt %[r]");
        if (iter == 0)
            CHECK_EQ(SW & 0x0400, 0x0400);
        A = R;
    } while ((SW & 0x0400) && ++iter < 10);
    CHECK_F80(R, ONE);
    printf("fprem 2^100,3: "); pf80(R); printf(" sw %04x\n", SW & ~0x4300);
    /* remainder of 0 and of infinity */
    A = F(0x7fff, 0x8000000000000000ull), B = two;
    X87("fldt %[b]\n\tfldt %[a]\n\tfprem\n\tfnstsw %[sw]\n\tfstpt %[r]");
    CHECK_F80(R, INDEF);
    CHECK_EQ(SW & 0x3f, 0x01);
    A = two, B = F(0, 0);
    X87("fldt %[b]\n\tfldt %[a]\n\tfprem1\n\tfnstsw %[sw]\n\tfstpt %[r]");
    CHECK_F80(R, INDEF);
    CHECK_EQ(SW & 0x3f, 0x01);

    /* FSCALE: st0 * 2^trunc(st1) */
    A = F(0x3fff, 0xc000000000000000ull), B = F(0x4000, 0xeccccccccccccccdull);   /* 1.5, 3.7 */
    X87("fldt %[b]\n\tfldt %[a]\n\tfscale\n\tfnstsw %[sw]\n\tfstpt %[r]");
    CHECK_F80(R, F(0x4002, 0xc000000000000000ull));
    CHECK_EQ(SW & 0x3f, 0);
    A = ONE, B = F(0xc000, 0xa000000000000000ull);                              /* 1, -2.5 */
    X87("fldt %[b]\n\tfldt %[a]\n\tfscale\n\tfnstsw %[sw]\n\tfstpt %[r]");
    CHECK_F80(R, F(0x3ffd, 0x8000000000000000ull));
    A = ONE, B = F(0x4020, 0x9502f90000000000ull);                              /* 1, 1e10 */
    X87("fldt %[b]\n\tfldt %[a]\n\tfscale\n\tfnstsw %[sw]\n\tfstpt %[r]");
    printf("fscale 1,1e10: "); pf80(R); printf(" sw %04x\n", SW & SWM);
    CHECK_F80(R, F(0x7fff, 0x8000000000000000ull));
    CHECK_EQ(SW & 0x3f, 0x28);
    A = ONE, B = F(0xc020, 0x9502f90000000000ull);                              /* 1, -1e10 */
    X87("fldt %[b]\n\tfldt %[a]\n\tfscale\n\tfnstsw %[sw]\n\tfstpt %[r]");
    printf("fscale 1,-1e10: "); pf80(R); printf(" sw %04x\n", SW & SWM);
    CHECK_F80(R, F(0, 0));
    CHECK_EQ(SW & 0x3f, 0x30);

    /* FXTRACT */
    A = F(0x4002, 0xc000000000000000ull);                                       /* 12 */
    X87("fldt %[a]\n\tfxtract\n\tfnstsw %[sw]\n\tfstpt %[r]\n\tfstpt %[r2]");
    CHECK_F80(R, F(0x3fff, 0xc000000000000000ull));
    CHECK_F80(R2, F(0x4000, 0xc000000000000000ull));
    CHECK_EQ(SW, 0x3000);
    A = F(0x8000, 0);                                                           /* -0 */
    X87("fldt %[a]\n\tfxtract\n\tfnstsw %[sw]\n\tfstpt %[r]\n\tfstpt %[r2]");
    CHECK_F80(R, F(0x8000, 0));
    CHECK_F80(R2, F(0xffff, 0x8000000000000000ull));
    CHECK_EQ(SW & 0x3f, 0x04);
    A = F(0xbffd, 0xa000000000000000ull);                                       /* -0.3125 */
    X87("fldt %[a]\n\tfxtract\n\tfnstsw %[sw]\n\tfstpt %[r]\n\tfstpt %[r2]");
    CHECK_F80(R, F(0xbfff, 0xa000000000000000ull));
    CHECK_F80(R2, F(0xc000, 0x8000000000000000ull));                            /* -2 */
    A = F(0x7fff, 0x8000000000000000ull);
    X87("fldt %[a]\n\tfxtract\n\tfnstsw %[sw]\n\tfstpt %[r]\n\tfstpt %[r2]");
    CHECK_F80(R, A);
    CHECK_F80(R2, A);

    /* FRNDINT in each mode */
    static const f80 rv[] = { FV(0x4000, 0xa000000000000000ull), FV(0xc000, 0xa000000000000000ull),
                              FV(0x3ffe, 0x8000000000000000ull), FV(0x4000, 0xe000000000000000ull) };
    static const u64 rwant[4][4] = {     /* 2.5 -2.5 0.5 3.5 -> rn rd ru rz (value, sign in bit 63) */
        { 2, 2 | 1ull << 63, 0, 4 }, { 2, 3 | 1ull << 63, 0, 3 }, { 3, 2 | 1ull << 63, 1, 4 }, { 2, 2 | 1ull << 63, 0, 3 } };
    for (unsigned rc = 0; rc < 4; rc++)
        for (unsigned i = 0; i < 4; i++) {
            A = rv[i];
            CW = CW_RC(rc);
            M64 = 0;
            X87("fldt %[a]\n\tfrndint\n\tfnstsw %[sw]\n\tfld %%st(0)\n\tfstpt %[r]\n\tfabs\n\tfistpll %[m64]");
            u64 w = rwant[rc][i];
            CHECK_EQ(M64, w & ~(1ull << 63));
            CHECK_EQ(R.e >> 15, w >> 63);
            CHECK_EQ(SW & 0x3f, 0x20);
        }
    CW = 0x037f;
}

/* ------------------------------------------------------------ compares */
static void test_compare(void)
{
    const f80 one = ONE, two = F(0x4000, 0x8000000000000000ull), qnan = F(0x7fff, 0xc000000000000000ull);
    const f80 snan = F(0x7fff, 0x8000000000000001ull), zero = F(0, 0), nzero = F(0x8000, 0);
    const f80 inf = F(0x7fff, 0x8000000000000000ull), ninf = F(0xffff, 0x8000000000000000ull);
    struct { f80 a, b; u16 cc; int nan; } c[] = {
        { two, one, 0x0000, 0 }, { one, two, 0x0100, 0 }, { two, two, 0x4000, 0 },
        { zero, nzero, 0x4000, 0 }, { ninf, inf, 0x0100, 0 }, { inf, two, 0x0000, 0 },
        { one, qnan, 0x4500, 1 }, { qnan, one, 0x4500, 1 }, { snan, one, 0x4500, 2 },
    };
    CW = 0x037f;
    FI = 0x8d7 | 0x2;                          /* OF SF ZF AF PF CF set going in */
    for (unsigned i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        A = c[i].a, B = c[i].b;
        X87("fldt %[b]\n\tfldt %[a]\n\tfcom %%st(1)\n\tfnstsw %[sw]");
        CHECK_EQ(SW & 0x4745, c[i].cc | (c[i].nan ? 1 : 0));
        u16 fcom = SW;
        X87("fldt %[b]\n\tfldt %[a]\n\tfucom %%st(1)\n\tfnstsw %[sw]");
        CHECK_EQ(SW & 0x4745, c[i].cc | (c[i].nan == 2 ? 1 : 0));
        u16 fucom = SW;
        X87("fldt %[b]\n\tfldt %[a]\n\tfucompp\n\tfnstsw %[sw]");
        CHECK_EQ(SW & 0x7fff, c[i].cc | (c[i].nan == 2 ? 1 : 0));     /* TOP back to 0 */
        u32 want = (c[i].cc & 0x4000 ? FL_ZF : 0) | (c[i].cc & 0x0400 ? FL_PF : 0) | (c[i].cc & 0x0100 ? FL_CF : 0);
        X87("fldt %[b]\n\tfldt %[a]\n\tpush %[fi]\n\tpopf\n\tfcomi %%st(1), %%st\n\tpushf\n\tpop %[fo]\n\tfnstsw %[sw]");
        CHECK_EQ(FO & 0x45, want);
        CHECK_EQ(SW & 0x3f, c[i].nan ? 1 : 0);
        u32 fcomi = (u32)FO & 0x45;
        X87("fldt %[b]\n\tfldt %[a]\n\tpush %[fi]\n\tpopf\n\tfucomip %%st(1), %%st\n\tpushf\n\tpop %[fo]\n\tfnstsw %[sw]");
        CHECK_EQ(FO & 0x45, want);
        CHECK_EQ(SW & 0x383f, 0x3800 | (c[i].nan == 2 ? 1 : 0));
        printf("cmp %u: fcom %04x fucom %04x fcomi %02x fucomip %02x sw %04x\n", i, fcom & SWM, fucom & SWM,
               fcomi, (u32)FO & 0x45, SW & SWM);
    }
    /* FCOM m32/m64, FICOM m16 */
    A = two;
    M32 = 0x40000000;
    X87("fldt %[a]\n\tfcoms %[m32]\n\tfnstsw %[sw]");
    CHECK_EQ(SW & 0x4745, 0x4000);
    M64 = 0x4008000000000000ull;                /* 3.0 */
    X87("fldt %[a]\n\tfcompl %[m64]\n\tfnstsw %[sw]");
    CHECK_EQ(SW & 0x7f45, 0x0100);
    M16 = (u16)-5;
    X87("fldt %[a]\n\tficoms %[m16]\n\tfnstsw %[sw]");
    CHECK_EQ(SW & 0x4745, 0x0000);
    /* FTST */
    const f80 tv[] = { one, F(0xbfff, 0x8000000000000000ull), zero, nzero, qnan, F(0, 1) };
    const u16 tw[] = { 0x0000, 0x0100, 0x4000, 0x4000, 0x4501, 0x0002 };
    for (unsigned i = 0; i < 6; i++) {
        A = tv[i];
        X87("fldt %[a]\n\tftst\n\tfnstsw %[sw]");
        CHECK_EQ(SW & 0x4745, tw[i] & 0x4745);
    }
    /* FXAM classes */
    const f80 xv[] = { zero, nzero, one, F(0xbfff, 0x8000000000000000ull), inf, ninf, qnan, snan,
                       F(0, 1), F(0x8000, 0x4000000000000000ull), F(0x4000, 0x4000000000000000ull),
                       F(0x7fff, 0x4000000000000000ull), F(0x0000, 0x8000000000000000ull) };
    const u16 xw[] = { 0x4000, 0x4200, 0x0400, 0x0600, 0x0500, 0x0700, 0x0100, 0x0100, 0x4400, 0x4600,
                       0xffff, 0xffff, 0xffff };
    printf("fxam:");
    for (unsigned i = 0; i < sizeof(xv) / sizeof(xv[0]); i++) {
        A = xv[i];
        X87("fldt %[a]\n\tfxam\n\tfnstsw %[sw]");
        printf(" %04x", SW & 0x4700);
        if (xw[i] != 0xffff)
            CHECK_EQ(SW & 0x4700, xw[i]);
    }
    X87("fxam\n\tfnstsw %[sw]");
    CHECK_EQ(SW & 0x4500, 0x4100);              /* empty (C1 is the stale sign) */
    printf(" empty %04x\n", SW & 0x4500);
}

/* --------------------------------------------- FSTSW / FSTCW / FLDCW */
static void test_control(void)
{
    CW = 0x037f;
    X87("fnstcw %[sw]\n\tfnstsw %[sw2]");
    CHECK_EQ(SW, 0x037f);
    CHECK_EQ(SW2, 0);
    X87("fld1\n\tfld1\n\tfstsw %%ax\n\tmov %%ax, %[sw]\n\tfstcw %[sw2]");
    CHECK_EQ(SW, 0x3000);
    CHECK_EQ(SW2, 0x037f);
    static const u16 cws[] = { 0x0040, 0x0e7f, 0x0c72, 0x027f, 0x0b5a };
    for (unsigned i = 0; i < 5; i++) {
        CW = cws[i];
        X87("fnstcw %[sw]");
        CHECK_EQ(SW, cws[i]);
    }
    CW = 0x037f;
}

/* ------------------------------------------------- environment images */
static u16 get16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }
static void put16(u8 *p, u16 v) { p[0] = (u8)v; p[1] = (u8)(v >> 8); }
static f80 get80(const u8 *p) { f80 v; memcpy(&v, p, 10); return v; }

static void test_env(void)
{
    A = F(0x7fff, 0x8000000000000000ull);      /* inf */
    B = F(0, 1);                               /* denormal */
    CW = 0x0b7f;                               /* RU, PC64 */
    /* st3 = 1 (phys 7), st2 = 0 (6), st1 = inf (5), st0 = denormal (4) */
    memset(ENV, 0xaa, sizeof(ENV));
    X87("fld1\n\tfldz\n\tfldt %[a]\n\tfldt %[b]\n\tfnstenv %[env]\n\tfnstcw %[sw]");
    printf("fstenv32: fcw %04x fsw %04x ftw %04x\n", get16(ENV), get16(ENV + 4), get16(ENV + 8));
    CHECK_EQ(get16(ENV), 0x0b7f);
    CHECK_EQ(get16(ENV + 4), 0x2000);
    CHECK_EQ(get16(ENV + 8), 0x1aff);
    CHECK_EQ(SW, 0x0b7f);
    CW = 0x0b60;
    X87("fnstenv %[env]");
    CHECK_EQ(get16(ENV), 0x0b60);
    /* FLDENV: new control, status (TOP 4, PE IE), phys 4 now empty */
    CW = 0x0b7f;
    X87("fld1\n\tfldz\n\tfldt %[a]\n\tfldt %[b]\n\tfnstenv %[env]");
    put16(ENV, 0x0f7f);
    put16(ENV + 4, 0x2021);
    put16(ENV + 8, 0x1bff);
    X87("fld1\n\tfldz\n\tfldt %[a]\n\tfldt %[b]\n\tfldenv %[env]\n\tfnstcw %[sw]\n\tfnstsw %[sw2]\n\t"
        "fxam\n\tfnstsw %[tw]\n\tfnstenv %[env2]\n\tfldenv %[env]\n\tfstpt %[r]\n\tfnstsw %[sw]");
    CHECK_EQ(get16(ENV2), 0x0f7f);
    CHECK_EQ(get16(ENV2 + 4), 0x2021 | (TW & 0x4700));
    CHECK_EQ(get16(ENV2 + 8), 0x1bff);
    CHECK_EQ(TW & 0x4500, 0x4100);            /* st0 empty */
    CHECK_EQ(SW & 0x3800, 0x2800);            /* FSTP of the empty st0 pops: TOP 5 */
    /* 16-bit image */
    X87("fld1\n\tfldz\n\tfldt %[a]\n\tfnstenvs %[env]");
    printf("fstenv16: fcw %04x fsw %04x ftw %04x\n", get16(ENV), get16(ENV + 2), get16(ENV + 4));
    CHECK_EQ(get16(ENV), 0x0b7f);
    CHECK_EQ(get16(ENV + 2), 0x2800);
    CHECK_EQ(get16(ENV + 4), 0x1bff);
    put16(ENV, 0x037f);
    put16(ENV + 4, 0x3fff);                    /* only phys 7 in use */
    X87("fld1\n\tfldz\n\tfldt %[a]\n\tfldenvs %[env]\n\tfnstcw %[sw]\n\tfxam\n\tfnstsw %[sw2]");
    CHECK_EQ(SW, 0x037f);
    CHECK_EQ(SW2 & 0x7d00, 0x6900);            /* TOP 5, st0 empty */

    /* FSAVE / FRSTOR */
    memset(ENV, 0xaa, sizeof(ENV));
    X87("fld1\n\tfldz\n\tfldt %[a]\n\tfldt %[b]\n\tfnsave %[env]\n\tfnstcw %[sw]\n\tfnstsw %[sw2]\n\tfnstenv %[env2]");
    printf("fsave32: fcw %04x fsw %04x ftw %04x", get16(ENV), get16(ENV + 4), get16(ENV + 8));
    for (int i = 0; i < 8; i++) {
        printf(" ");
        pf80(get80(ENV + 28 + 10 * i));
    }
    printf("\n");
    CHECK_EQ(get16(ENV + 8), 0x1aff);
    CHECK_F80(get80(ENV + 28), F(0, 1));
    CHECK_F80(get80(ENV + 38), F(0x7fff, 0x8000000000000000ull));
    CHECK_F80(get80(ENV + 48), F(0, 0));
    CHECK_F80(get80(ENV + 58), ONE);
    CHECK_EQ(SW, 0x037f);                      /* FSAVE re-initialises */
    CHECK_EQ(SW2, 0);
    CHECK_EQ(get16(ENV2 + 8), 0xffff);
    /* FRSTOR with st0 changed to 2.0 */
    memcpy(ENV + 28, &(f80){ 0x8000000000000000ull, 0x4000 }, 10);
    put16(ENV, 0x0c7f);
    X87("frstor %[env]\n\tfnstcw %[sw]\n\tfnstsw %[sw2]\n\tfstpt %[r]\n\tfstpt %[r2]\n\tfstpt %[r3]");
    CHECK_EQ(SW, 0x0c7f);
    CHECK_EQ(SW2, 0x2000);
    CHECK_F80(R, F(0x4000, 0x8000000000000000ull));
    CHECK_F80(R2, F(0x7fff, 0x8000000000000000ull));
    CHECK_F80(R3, F(0, 0));
    /* 16-bit FSAVE: registers from byte 14 */
    X87("fld1\n\tfldpi\n\tfnsaves %[env]");
    CHECK_EQ(get16(ENV + 4), 0x0fff);
    CHECK_F80(get80(ENV + 14), F(0x4000, 0xc90fdaa22168c235ull));   /* FCW 0b7f: RU */
    CHECK_F80(get80(ENV + 24), ONE);
    X87("frstors %[env]\n\tfstpt %[r]\n\tfnstsw %[sw]");
    CHECK_EQ(SW & 0x3800, 0x3800);
    CW = 0x037f;
}

static u8 FXU[528] __attribute__((aligned(16)));

static void test_fxsave(void)
{
    CW = 0x027f;
    memset(FX, 0, sizeof(FX));
    X87("fld1\n\tfldz\n\tfxsave %[fx]");
    printf("fxsave: fcw %04x fsw %04x ftw %02x mxcsr %08x mask %08x",
           get16(FX), get16(FX + 2), FX[4], *(u32 *)(FX + 24), *(u32 *)(FX + 28));
    for (int i = 0; i < 8; i++) {
        printf(" ");
        pf80(get80(FX + 32 + 16 * i));
    }
    printf("\n");
    CHECK_EQ(get16(FX), 0x027f);
    CHECK_EQ(get16(FX + 2), 0x3000);
    CHECK_EQ(FX[4], 0xc0);
    CHECK_EQ(*(u32 *)(FX + 24), 0x1f80);
    CHECK_EQ(*(u32 *)(FX + 28), 0xffff);
    CHECK_F80(get80(FX + 32), F(0, 0));
    CHECK_F80(get80(FX + 48), ONE);
    /* FXRSTOR: new FCW, st0 = 3.0, st7 (phys 5) valid too, MXCSR RZ */
    put16(FX, 0x0c7f);
    memcpy(FX + 32, &(f80){ 0xc000000000000000ull, 0x4000 }, 10);
    memcpy(FX + 32 + 16 * 7, &(f80){ 0x8000000000000000ull, 0x4001 }, 10);
    FX[4] = 0xe0;
    *(u32 *)(FX + 24) = 0x7f80;
    u32 mx = 0;
    X87("fxrstor %[fx]\n\tfnstcw %[sw]\n\tfnstenv %[env2]\n\tfstpt %[r]\n\tfdecstp\n\tfdecstp\n\tfstpt %[r2]");
    __asm__ volatile("stmxcsr %0" : "=m"(mx));
    CHECK_EQ(SW, 0x0c7f);
    CHECK_EQ(get16(ENV2 + 8), 0x03ff);          /* phys 5..7 valid */
    CHECK_F80(R, F(0x4000, 0xc000000000000000ull));
    CHECK_F80(R2, F(0x4001, 0x8000000000000000ull));
    CHECK_EQ(mx, 0x7f80);
    mx = 0x1f80;
    __asm__ volatile("ldmxcsr %0" :: "m"(mx));
    /* misaligned: #GP(0); reserved MXCSR bits in the image: #GP(0) */
    EXPECT_FAULT(EXC_GP, 0, __asm__ volatile("fxsave 8+%0" : "=m"(FXU) :: "memory"));
    __asm__ volatile("fxsave %0" : "=m"(FXU));
    EXPECT_FAULT(EXC_GP, 0, __asm__ volatile("fxrstor 8+%0" :: "m"(FXU) : "memory"));
}

/* ---------------------------------------------- #MF, #NM (CR0.TS / EM) */
extern const char mf_fwait[], nm_fld[];

static void test_mf(void)
{
    CW = 0x037b;                               /* ZE unmasked */
    int v = TRY(__asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldz\n\tfld1\n\tfdiv %%st(1), %%st\n\t"
                                 "fnstsw %[sw]\n\tnop\n\t.globl mf_fwait\nmf_fwait: fwait\n\tnop"
                                 : [sw] "=m"(SW) : [cw] "m"(CW) : "memory"));
    CHECK_EQ(v, EXC_MF);
    CHECK_EQ(rt_fault.ip, (ureg)mf_fwait);
    CHECK_EQ(SW, 0xb084);                      /* B, TOP 6, ES, ZE */
    __asm__ volatile("fnstsw %[sw]\n\tfnclex\n\tfnstsw %[sw2]\n\tfninit"
                     : [sw] "=m"(SW), [sw2] "=m"(SW2) :: "memory");
    CHECK_EQ(SW, 0xb084);                      /* still pending after #MF */
    CHECK_EQ(SW2, 0x3000);                     /* FNCLEX: flags, ES, B clear */
    /* unmasked PE: the result is delivered, then #MF */
    CW = 0x035f;
    A = ONE, B = F(0x4000, 0xc000000000000000ull);
    v = TRY(__asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldt %[b]\n\tfldt %[a]\n\tfdiv %%st(1), %%st\n\t"
                             "fnstsw %[sw]\n\tfwait" : [sw] "=m"(SW) : [cw] "m"(CW), [a] "m"(A), [b] "m"(B) : "memory"));
    CHECK_EQ(v, EXC_MF);
    __asm__ volatile("fnclex\n\tfstpt %[r]\n\tfninit" : [r] "=m"(R) :: "memory");
    CHECK_EQ(SW & SWM, 0xb0a0);
    CHECK_F80(R, F(0x3ffd, 0xaaaaaaaaaaaaaaabull));
    /* no-wait instructions do not take it */
    CW = 0x037b;
    v = TRY(__asm__ volatile("fninit\n\tfldcw %[cw]\n\tfldz\n\tfld1\n\tfdiv %%st(1), %%st\n\t"
                             "fnstsw %[sw]\n\tfnstcw %[sw2]\n\tfnstenv %[env]\n\tfnclex\n\tfwait\n\tfninit"
                             : [sw] "=m"(SW), [sw2] "=m"(SW2), [env] "=m"(ENV) : [cw] "m"(CW) : "memory"));
    CHECK_EQ(v, -1);
    CHECK_EQ(SW2, 0x037b);
    CW = 0x037f;
}

static void test_nm(void)
{
    ureg cr0 = read_cr(0);
    write_cr(0, cr0 | 8);                      /* TS */
    int v = TRY(__asm__ volatile(".globl nm_fld\nnm_fld: fld1" ::: "memory"));
    CHECK_EQ(v, EXC_NM);
    CHECK_EQ(rt_fault.ip, (ureg)nm_fld);
    CHECK_EQ(TRY(__asm__ volatile("fwait" ::: "memory")), EXC_NM);          /* MP = 1 */
    CHECK_EQ(TRY(__asm__ volatile("fnstsw %0" : "=m"(SW) :: "memory")), EXC_NM);
    CHECK_EQ(TRY(__asm__ volatile("fninit" ::: "memory")), EXC_NM);
    CHECK_EQ(TRY(__asm__ volatile("fxsave %0" : "=m"(FX) :: "memory")), EXC_NM);
    __asm__ volatile("clts");
    CHECK_EQ(read_cr(0) & 8, 0);
    CHECK_EQ(TRY(__asm__ volatile("fld1\n\tfstp %%st(0)" ::: "memory")), -1);
    write_cr(0, (cr0 | 4) & ~(ureg)8);         /* EM */
    CHECK_EQ(TRY(__asm__ volatile("fld1" ::: "memory")), EXC_NM);
    CHECK_EQ(TRY(__asm__ volatile("fwait" ::: "memory")), -1);              /* WAIT ignores EM */
    CHECK_EQ(TRY(__asm__ volatile("fxsave %0" : "=m"(FX) :: "memory")), EXC_NM);
    write_cr(0, (cr0 | 8) & ~(ureg)2);         /* TS without MP: WAIT runs */
    CHECK_EQ(TRY(__asm__ volatile("fwait" ::: "memory")), -1);
    write_cr(0, cr0);
}

/* ------------------------------------------------------ transcendentals */
/* Tandem (correctly rounded to 64 bits) and QEMU (double precision) differ
 * in the last bits:
 * checked against the correctly rounded double within 8 ulps, printed as
 * round(x * 1e9). */
static void loose(const char *name, f80 v, u64 want)
{
    A = v;
    CW = 0x037f;
    X87("fldt %[a]\n\tfstpl %[m64]");
    u64 d = M64;
    u64 diff = d > want ? d - want : want - d;
    if (diff > 8 || ((d ^ want) >> 63))
        rt_check_fail(__FILE__, __LINE__, name, d, want);
    M32 = 1000000000;
    X87("fldt %[a]\n\tfimull %[m32]\n\tfistpll %[m64]");
    printf("%-14s %lld\n", name, (long long)M64);
}

static f80 from_double(u64 d)
{
    M64 = d;
    CW = 0x037f;
    X87("fldl %[m64]\n\tfstpt %[r]");
    return R;
}

static void test_trans(void)
{
    const f80 one = ONE, half = from_double(0x3fe0000000000000ull), m3 = from_double(0xc008000000000000ull);
    const f80 zero = F(0, 0);
    CW = 0x037f;
    A = one;
    X87("fldt %[a]\n\tfsin\n\tfnstsw %[sw]\n\tfstpt %[r]");
    CHECK_EQ(SW & 0x0400, 0);
    loose("fsin(1)", R, 0x3feaed548f090ceeull);
    A = one;
    X87("fldt %[a]\n\tfcos\n\tfnstsw %[sw]\n\tfstpt %[r]");
    loose("fcos(1)", R, 0x3fe14a280fb5068cull);
    A = m3;
    X87("fldt %[a]\n\tfsincos\n\tfnstsw %[sw]\n\tfstpt %[r]\n\tfstpt %[r2]");
    CHECK_EQ(SW & 0x3c00, 0x3000);
    f80 s = R2;
    loose("fsincos(-3).c", R, 0xbfefae04be85e5d2ull);   /* sets A */
    loose("fsincos(-3).s", s, 0xbfc210386db6d55bull);
    A = from_double(0x4059000000000000ull);
    X87("fldt %[a]\n\tfsin\n\tfstpt %[r]");
    loose("fsin(100)", R, 0xbfe03425b78c4db8ull);
    A = half;
    X87("fldt %[a]\n\tfptan\n\tfnstsw %[sw]\n\tfstpt %[r]\n\tfstpt %[r2]");
    CHECK_F80(R, ONE);
    CHECK_EQ(SW & 0x3c00, 0x3000);
    loose("fptan(0.5)", R2, 0x3fe17b4f5bf3474aull);
    A = F(0x4000, 0x8000000000000000ull), B = F(0xbfff, 0x8000000000000000ull);
    X87("fldt %[b]\n\tfldt %[a]\n\tfpatan\n\tfnstsw %[sw]\n\tfstpt %[r]");
    CHECK_EQ(SW & 0x3800, 0x3800);
    loose("fpatan(-1,2)", R, 0xbfddac670561bb4full);
    A = one, B = one;
    X87("fldt %[b]\n\tfldt %[a]\n\tfpatan\n\tfstpt %[r]");
    loose("fpatan(1,1)", R, 0x3fe921fb54442d18ull);
    A = half;
    X87("fldt %[a]\n\tf2xm1\n\tfstpt %[r]");
    loose("f2xm1(0.5)", R, 0x3fda827999fcef34ull);
    A = from_double(0xbfd0000000000000ull);
    X87("fldt %[a]\n\tf2xm1\n\tfstpt %[r]");
    loose("f2xm1(-0.25)", R, 0xbfc45d819a94b14cull);
    A = from_double(0x4024000000000000ull), B = from_double(0x4008000000000000ull);
    X87("fldt %[b]\n\tfldt %[a]\n\tfyl2x\n\tfnstsw %[sw]\n\tfstpt %[r]");
    CHECK_EQ(SW & 0x3800, 0x3800);
    loose("fyl2x(10,3)", R, 0x4023ee7b471b3a95ull);
    A = from_double(0xbfb999999999999aull), B = F(0x4000, 0x8000000000000000ull);
    X87("fldt %[b]\n\tfldt %[a]\n\tfyl2xp1\n\tfstpt %[r]");
    loose("fyl2xp1(-.1,2)", R, 0xbfd374d65d9e608full);
    A = F(0x3ffd, 0x8000000000000000ull), B = one;
    X87("fldt %[b]\n\tfldt %[a]\n\tfyl2xp1\n\tfstpt %[r]");
    loose("fyl2xp1(.25,1)", R, 0x3fd49a784bcd1b8bull);
    /* exact cases */
    A = zero;
    X87("fldt %[a]\n\tfsin\n\tfstpt %[r]");
    CHECK_F80(R, zero);
    X87("fldt %[a]\n\tfcos\n\tfstpt %[r]");
    CHECK_F80(R, ONE);
    X87("fldt %[a]\n\tf2xm1\n\tfstpt %[r]");
    CHECK_F80(R, zero);
    A = one, B = F(0x4000, 0xc000000000000000ull);
    X87("fldt %[b]\n\tfldt %[a]\n\tfyl2x\n\tfstpt %[r]");
    CHECK_F80(R, zero);
    A = F(0x4002, 0x8000000000000000ull);
    X87("fldt %[b]\n\tfldt %[a]\n\tfyl2x\n\tfstpt %[r]");   /* 3 * log2(8) */
    CHECK_F80(R, F(0x4002, 0x9000000000000000ull));
    /* invalid / zero divide */
    A = F(0xbfff, 0x8000000000000000ull), B = one;
    X87("fldt %[b]\n\tfldt %[a]\n\tfyl2x\n\tfnstsw %[sw]\n\tfstpt %[r]");
    CHECK_EQ(SW & 0x3f, 0x01);
    CHECK_F80(R, INDEF);
    A = zero;
    X87("fldt %[b]\n\tfldt %[a]\n\tfyl2x\n\tfnstsw %[sw]\n\tfstpt %[r]");
    CHECK_EQ(SW & 0x3f, 0x04);
    CHECK_F80(R, F(0xffff, 0x8000000000000000ull));
}

void test_main(void)
{
    test_arith();
    test_arith_mem();
    test_special();
    test_loads();
    test_stores();
    test_fist();
    test_consts();
    test_misc();
    test_compare();
    test_control();
    test_env();
    test_fxsave();
    test_mf();
    test_nm();
    test_trans();
    /* leave every register zero for the final dump */
    __asm__ volatile("fninit\n\tfldz\n\tfldz\n\tfldz\n\tfldz\n\tfldz\n\tfldz\n\tfldz\n\tfldz\n\tfninit");
    rt_dump_fpu = 1;
}
