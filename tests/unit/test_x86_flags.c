/* Lazy condition codes (targets/x86/flags.c): the six arithmetic flags of
 * every CC operation and size against hand-computed values, the fast
 * paths of x86_cond/x86_cf against the general computation, and
 * x86_eflags/x86_set_eflags. */
#include "targets/x86/flags.h"
#include "x86_fixture.h"

/* A CPU on a machine without RAM. */
static void setup(void) { x86f_setup(0); }

TestSuite(flags, .init = setup, .fini = x86f_teardown);

enum { C = X86_CF, P = X86_PF, A = X86_AF, Z = X86_ZF, S = X86_SF, O = X86_OF };

typedef struct Case {
    unsigned op, size;
    uint64_t dst, src, src2;
    uint32_t want;
} Case;

/* dst/src as the producers record them (flags.h). */
static const Case cases[] = {
    /* ADD: carries out of each width, AF, OF */
    { X86_CC_ADD, 1, 0x00, 0x01, 0, C | Z | A | P },          /* ff + 01 */
    { X86_CC_ADD, 1, 0x80, 0x01, 0, O | S | A },              /* 7f + 01 */
    { X86_CC_ADD, 1, 0x10, 0x08, 0, A },                      /* 08 + 08 */
    { X86_CC_ADD, 2, 0x0000, 0x0001, 0, C | Z | A | P },      /* ffff + 1 */
    { X86_CC_ADD, 2, 0x8000, 0x0001, 0, O | S | A | P },      /* 7fff + 1 */
    { X86_CC_ADD, 4, 0x80000000, 0x00000001, 0, O | S | A | P },
    { X86_CC_ADD, 4, 0x00000000, 0x80000000, 0, C | O | Z | P },  /* 8.. + 8.. */
    { X86_CC_ADD, 8, 0, 1, 0, C | Z | A | P },
    { X86_CC_ADD, 8, 0, 1ull << 63, 0, C | O | Z | P },
    { X86_CC_ADD, 8, 1ull << 63, 1, 0, O | S | A | P },       /* 7fff.. + 1 */
    /* Garbage above the size is ignored. */
    { X86_CC_ADD, 1, 0x1234500, 0xff01, 0, C | Z | A | P },
    /* ADC with carry in */
    { X86_CC_ADC, 1, 0x00, 0x00, 1, C | Z | A | P },          /* ff + 0 + 1 */
    { X86_CC_ADC, 1, 0x80, 0x00, 1, O | S | A },              /* 7f + 0 + 1 */
    { X86_CC_ADC, 1, 0xff, 0xff, 1, C | S | A | P },          /* ff + ff + 1 */
    { X86_CC_ADC, 2, 0x0000, 0xffff, 1, C | Z | A | P },      /* 0 + ffff + 1 */
    { X86_CC_ADC, 8, 0, ~0ull, 1, C | Z | A | P },
    { X86_CC_ADC, 4, 0x00000001, 0x00000000, 0, 0 },          /* 1 + 0 + 0 */
    /* SUB / CMP: dst = a - s */
    { X86_CC_SUB, 1, 0xff, 0x01, 0, C | S | A | P },          /* 00 - 01 */
    { X86_CC_SUB, 1, 0x7f, 0x01, 0, O | A },                  /* 80 - 01 */
    { X86_CC_SUB, 1, 0x80, 0xff, 0, O | S | C },              /* 7f - ff */
    { X86_CC_SUB, 2, 0x7fff, 0x0001, 0, O | A | P },          /* 8000 - 1 */
    { X86_CC_SUB, 4, 0, 5, 0, Z | P },                        /* 5 - 5 */
    { X86_CC_SUB, 8, ~0ull, 1, 0, C | S | A | P },            /* 0 - 1 */
    { X86_CC_SUB, 8, (1ull << 63) - 1, 1, 0, O | A | P },     /* 8000.. - 1 */
    /* SBB with borrow in */
    { X86_CC_SBB, 1, 0xff, 0x00, 1, C | S | A | P },          /* 0 - 0 - 1 */
    { X86_CC_SBB, 2, 0x7fff, 0x0000, 1, O | A | P },          /* 8000 - 0 - 1 */
    { X86_CC_SBB, 1, 0x00, 0xff, 1, C | Z | A | P },          /* 0 - ff - 1 */
    { X86_CC_SBB, 4, 0xffffffff, 0xffffffff, 1, C | S | A | P }, /* ffffffff - ffffffff - 1 */
    /* LOGIC */
    { X86_CC_LOGIC, 1, 0x80, 0, 0, S },
    { X86_CC_LOGIC, 2, 0x0300, 0, 0, P },
    { X86_CC_LOGIC, 8, 0, 0, 0, Z | P },
    { X86_CC_LOGIC, 4, 0x80000001, 0, 0, S },
    /* INC / DEC: OF at the boundaries of each size, CF kept (src) */
    { X86_CC_INC, 1, 0x80, 0, 0, O | S | A },
    { X86_CC_INC, 1, 0x00, 1, 0, C | Z | A | P },
    { X86_CC_INC, 2, 0x8000, 0, 0, O | S | A | P },
    { X86_CC_INC, 4, 0x80000000, 0, 0, O | S | A | P },
    { X86_CC_INC, 8, 1ull << 63, 1, 0, C | O | S | A | P },
    { X86_CC_INC, 8, 0x10, 0, 0, A },
    { X86_CC_DEC, 1, 0x7f, 0, 0, O | A },
    { X86_CC_DEC, 1, 0xff, 0, 0, S | A | P },
    { X86_CC_DEC, 2, 0x7fff, 1, 0, C | O | A | P },
    { X86_CC_DEC, 4, 0x7fffffff, 0, 0, O | A | P },
    { X86_CC_DEC, 8, (1ull << 63) - 1, 0, 0, O | A | P },
    { X86_CC_DEC, 8, 0, 0, 0, Z | P },
    /* SHL: src = operand shifted by count - 1 */
    { X86_CC_SHL, 1, 0x00, 0x80, 0, C | O | Z | P },          /* 80 << 1 */
    { X86_CC_SHL, 1, 0x80, 0x40, 0, O | S },                  /* 40 << 1 */
    { X86_CC_SHL, 1, 0x80, 0xc0, 0, C | S },                  /* c0 << 1 */
    { X86_CC_SHL, 2, 0x0000, 0x8000, 0, C | O | Z | P },
    { X86_CC_SHL, 8, 0, 1ull << 63, 0, C | O | Z | P },
    /* SHR: src = operand >> (count - 1); OF from its top bit */
    { X86_CC_SHR, 1, 0x40, 0x81, 0x81, C | O },               /* 81 >> 1 */
    { X86_CC_SHR, 1, 0x20, 0x40, 0x81, 0 },                   /* 81 >> 2 */
    { X86_CC_SHR, 4, 0x40000000, 0x80000000, 0x80000000, O | P },
    { X86_CC_SHR, 8, 0, 1, 1, C | Z | P },
    /* SAR: OF = 0 */
    { X86_CC_SAR, 1, 0xc0, 0x81, 0, C | S | P },              /* 81 sar 1 */
    { X86_CC_SAR, 8, ~0ull, ~0ull, 0, C | S | P },
    { X86_CC_SAR, 2, 0x0001, 0x0002, 0, 0 },
    /* MUL / IMUL: CF = OF = src != 0; SF ZF PF from the low half */
    { X86_CC_MUL, 1, 0x00, 0x01, 0, C | O | Z | P },
    { X86_CC_MUL, 2, 0x8000, 0x0000, 0, S | P },
    { X86_CC_MUL, 8, 6, 0, 0, P },
    { X86_CC_MUL, 4, 3, 1, 0, C | O | P },
    /* BMI */
    { X86_CC_BLSI, 4, 0x10, 0xf0, 0, C },
    { X86_CC_BLSI, 4, 0, 0, 0, Z | P },
    { X86_CC_BLSR, 8, 0, 0, 0, C | Z | P },
    { X86_CC_BLSR, 4, 0x80000000, 0xc0000000, 0, S | P },
    { X86_CC_BLSMSK, 2, 0xffff, 0, 0, C | S | P },
    { X86_CC_BLSMSK, 4, 0x1, 0x1, 0, 0 },
};

static bool cond_of(uint32_t f, unsigned cc)
{
    bool of = f & O, cf = f & C, zf = f & Z, sf = f & S, pf = f & P, r;
    switch (cc >> 1) {
    case 0: r = of; break;
    case 1: r = cf; break;
    case 2: r = zf; break;
    case 3: r = cf || zf; break;
    case 4: r = sf; break;
    case 5: r = pf; break;
    case 6: r = sf != of; break;
    default: r = zf || sf != of; break;
    }
    return r ^ (cc & 1);
}

Test(flags, every_op_and_size)
{
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        const Case *c = &cases[i];
        x86_cc3(cpu, c->op, c->size, c->dst, c->src, c->src2);
        uint32_t f = x86_arith(cpu);
        cr_assert_eq(f, c->want, "case %zu (op %u size %u): got %#x want %#x", i, c->op,
                     c->size, f, c->want);
        cr_assert_eq(x86_cf(cpu), (c->want & C) != 0, "case %zu: CF", i);
        for (unsigned cc = 0; cc < 16; cc++)
            cr_assert_eq(x86_cond(cpu, cc), cond_of(c->want, cc), "case %zu cc %u", i, cc);
    }
}

/* The fast paths of x86_cond and x86_cf agree with x86_arith on many
 * random states of every operation and size. */
Test(flags, fast_paths_agree)
{
    GRand *rnd = g_rand_new_with_seed(1234);
    static const uint64_t edge[] = { 0, 1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff,
                                     0x7fffffff, 0x80000000, 0xffffffff, 1ull << 63,
                                     ~0ull, (1ull << 63) - 1 };
    for (unsigned op = X86_CC_ADD; op < X86_CC_NOPS; op++) {
        for (unsigned lg = 0; lg < 4; lg++) {
            for (unsigned k = 0; k < 400; k++) {
                uint64_t d, s;
                if (k < 196) {
                    d = edge[k % 14];
                    s = edge[k / 14];
                } else {
                    d = (uint64_t)g_rand_int(rnd) << 32 | g_rand_int(rnd);
                    s = (uint64_t)g_rand_int(rnd) << 32 | g_rand_int(rnd);
                    if (k & 1)
                        s &= 0xff;
                }
                x86_cc3(cpu, op, 1u << lg, d, s, k & 2 ? 1 : 0);
                uint32_t f = x86_arith(cpu);
                cr_assert_eq(x86_cf(cpu), (f & C) != 0, "op %u lg %u", op, lg);
                for (unsigned cc = 0; cc < 16; cc++)
                    cr_assert_eq(x86_cond(cpu, cc), cond_of(f, cc), "op %u lg %u cc %u d %llx s %llx",
                                 op, lg, cc, (unsigned long long)d, (unsigned long long)s);
            }
        }
    }
    /* CC_EFLAGS: every combination of the six bits. */
    for (uint32_t bits = 0; bits < 64; bits++) {
        static const uint32_t map[6] = { C, P, A, Z, S, O };
        uint32_t f = 0;
        for (unsigned b = 0; b < 6; b++)
            if (bits & (1u << b))
                f |= map[b];
        x86_set_arith(cpu, f);
        cr_assert_eq(x86_arith(cpu), f);
        for (unsigned cc = 0; cc < 16; cc++)
            cr_assert_eq(x86_cond(cpu, cc), cond_of(f, cc));
    }
    g_rand_free(rnd);
}

/* SUB's fast comparisons against the operands themselves. */
Test(flags, cmp_fast_path)
{
    static const int64_t vals[] = { 0, 1, -1, 2, -2, 127, -128, 32767, -32768,
                                    INT32_MAX, INT32_MIN, INT64_MAX, INT64_MIN };
    for (unsigned lg = 0; lg < 4; lg++) {
        unsigned sz = 1u << lg;
        uint64_t m = x86_size_mask(sz);
        for (size_t i = 0; i < G_N_ELEMENTS(vals); i++) {
            for (size_t j = 0; j < G_N_ELEMENTS(vals); j++) {
                uint64_t a = (uint64_t)vals[i] & m, b = (uint64_t)vals[j] & m;
                int64_t sa = (int64_t)x86_sext(a, sz), sb = (int64_t)x86_sext(b, sz);
                x86_cc(cpu, X86_CC_SUB, sz, a - b, b);
                cr_assert_eq(x86_cond(cpu, 2), a < b);
                cr_assert_eq(x86_cond(cpu, 6), a <= b);
                cr_assert_eq(x86_cond(cpu, 7), a > b);
                cr_assert_eq(x86_cond(cpu, 12), sa < sb);
                cr_assert_eq(x86_cond(cpu, 13), sa >= sb);
                cr_assert_eq(x86_cond(cpu, 14), sa <= sb);
                cr_assert_eq(x86_cond(cpu, 15), sa > sb);
                cr_assert_eq(x86_cond(cpu, 4), a == b);
            }
        }
    }
}

Test(flags, eflags_view)
{
    cpu->eflags = 2 | X86_IF | X86_DF;
    x86_cc(cpu, X86_CC_SUB, 4, 0, 5);
    uint64_t f = x86_eflags(cpu);
    cr_assert_eq(f, 2 | X86_IF | X86_DF | X86_ZF | X86_PF);
    /* Writing: only the masked bits change; reserved bits stay 0, bit 1
     * stays 1; the lazy flags are merged first. */
    x86_set_eflags(cpu, ~0ull, X86_CF | X86_OF | (1u << 3) | (1u << 15) | (1ull << 40));
    cr_assert_eq(x86_eflags(cpu), 2 | X86_IF | X86_DF | X86_ZF | X86_PF | X86_CF | X86_OF);
    cr_assert_eq(cpu->cc_op, X86_CC_EFLAGS);
    x86_set_eflags(cpu, 0, ~0ull);
    cr_assert_eq(x86_eflags(cpu), 2);
    cr_assert_eq(x86_arith(cpu), 0);
}

Test(flags, vm_bit_updates_hflags)
{
    cpu->cr0 |= X86_CR0_PE;
    x86_update_hflags(cpu);
    cr_assert_eq(cpu->hflags & X86_HF_VM, 0);
    x86_set_eflags(cpu, X86_VM, X86_VM);
    cr_assert(cpu->hflags & X86_HF_VM);
    cr_assert_eq(cpu->hflags & X86_HF_CPL, 3);
    x86_set_eflags(cpu, 0, X86_VM);
    cr_assert_eq(cpu->hflags & X86_HF_VM, 0);
}
