/* Shared by rv_f.c and rv_d.c: the vector table format and its runner. */
#ifndef FP_COMMON_H
#define FP_COMMON_H

#include "rt.h"

struct fvec {
    uint16_t op;
    uint8_t rm;         /* frm for the (dynamic-rounding) instruction */
    uint8_t flags;      /* expected fflags */
    u64 a, b, c;        /* operands: FP as 64-bit register images, or x */
    u64 r;              /* expected: FP register image, or x value */
};

#define FFLAG_NV 0x10
#define FFLAG_DZ 0x08
#define FFLAG_OF 0x04
#define FFLAG_UF 0x02
#define FFLAG_NX 0x01

#define RM_RNE 0
#define RM_RTZ 1
#define RM_RDN 2
#define RM_RUP 3
#define RM_RMM 4

#define BOX(x) (0xffffffff00000000ull | (uint32_t)(x))

static inline void fp_on(void)
{
    csr_clear(mstatus, MSTATUS_FS);
    csr_set(mstatus, 0x2000);           /* Initial */
}

/* Run one table; stop at the first mismatch (result or flags). */
#define FP_RUN_TABLE(tab) do { \
        unsigned n_ = sizeof(tab) / sizeof(tab[0]); \
        for (unsigned i_ = 0; i_ < n_; i_++) { \
            const struct fvec *v_ = &tab[i_]; \
            u64 in_[3] = { v_->a, v_->b, v_->c }; \
            unsigned fl_; \
            csr_write(frm, v_->rm); \
            u64 r_ = fop_run(v_->op, in_, &fl_); \
            if (r_ != v_->r || fl_ != v_->flags) { \
                rt_printf("%s[%u]: %s rm=%u a=%llx b=%llx c=%llx\n", #tab, i_, \
                          fop_names[v_->op], v_->rm, v_->a, v_->b, v_->c); \
                rt_printf("  got %llx flags %x, expected %llx flags %x\n", \
                          r_, fl_, v_->r, v_->flags); \
                CHECKEQ(r_, v_->r); \
                CHECKEQ(fl_, v_->flags); \
            } \
        } \
        csr_write(fcsr, 0); \
        rt_printf("%s: %u vectors\n", #tab, n_); \
    } while (0)

#define FP_RUN_VECTORS() do { \
        FP_RUN_TABLE(fvecs_common); \
        FP_RUN_TABLE(fvecs); \
    } while (0)

#endif
