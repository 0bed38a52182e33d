/* Tandem RISC-V test guests: C runtime API (XLEN-neutral). */
#ifndef RT_H
#define RT_H

#include <stdint.h>
#include <stddef.h>
#include "asm.h"

typedef unsigned long ureg;     /* XLEN wide on ilp32 and lp64 */
typedef long sreg;
typedef unsigned long long u64;

#define XLEN RT_XLEN
#define IS_RV64 (RT_XLEN == 64)
#define CAUSE_INT ((ureg)1 << (XLEN - 1))

/* Each test defines its name: RT_TEST_NAME("rv_i"); */
extern const char rt_test_name[];
#define RT_TEST_NAME(s) const char rt_test_name[] = s

/* ---- CSR access ---- */
#define STR_(x) #x
#define STR(x) STR_(x)
#define csr_read(csr) ({ ureg __v; \
    __asm__ volatile("csrr %0, " STR(csr) : "=r"(__v) :: "memory"); __v; })
#define csr_write(csr, val) ({ ureg __w = (ureg)(val); \
    __asm__ volatile("csrw " STR(csr) ", %0" :: "r"(__w) : "memory"); })
#define csr_set(csr, val) ({ ureg __w = (ureg)(val); \
    __asm__ volatile("csrs " STR(csr) ", %0" :: "r"(__w) : "memory"); })
#define csr_clear(csr, val) ({ ureg __w = (ureg)(val); \
    __asm__ volatile("csrc " STR(csr) ", %0" :: "r"(__w) : "memory"); })
#define csr_swap(csr, val) ({ ureg __w = (ureg)(val), __o; \
    __asm__ volatile("csrrw %0, " STR(csr) ", %1" : "=r"(__o) : "r"(__w) : "memory"); __o; })

#define MMIO32(a) (*(volatile uint32_t *)(uintptr_t)(a))
#define MMIO8(a)  (*(volatile uint8_t *)(uintptr_t)(a))

#define PRV_U 0
#define PRV_S 1
#define PRV_M 3

/* Exception causes. */
#define EXC_INSN_MISALIGNED 0
#define EXC_INSN_ACCESS     1
#define EXC_ILLEGAL         2
#define EXC_BREAKPOINT      3
#define EXC_LOAD_MISALIGNED 4
#define EXC_LOAD_ACCESS     5
#define EXC_STORE_MISALIGNED 6
#define EXC_STORE_ACCESS    7
#define EXC_ECALL_U         8
#define EXC_ECALL_S         9
#define EXC_ECALL_M         11
#define EXC_INSN_PAGE       12
#define EXC_LOAD_PAGE       13
#define EXC_STORE_PAGE      15

#define IRQ_SSI 1
#define IRQ_MSI 3
#define IRQ_STI 5
#define IRQ_MTI 7
#define IRQ_SEI 9
#define IRQ_MEI 11
#define MIP_SSIP (1u << IRQ_SSI)
#define MIP_MSIP (1u << IRQ_MSI)
#define MIP_STIP (1u << IRQ_STI)
#define MIP_MTIP (1u << IRQ_MTI)
#define MIP_SEIP (1u << IRQ_SEI)
#define MIP_MEIP (1u << IRQ_MEI)

/* ---- Trap records ---- */
typedef struct rt_frame { ureg x[32]; } rt_frame;

typedef struct rt_trap_rec {
    ureg count;     /* traps taken since rt_trap_clear() */
    ureg cause, epc, tval;
    ureg status;    /* mstatus (sstatus) as seen on handler entry */
    ureg vec;       /* RT_VEC_DIRECT or RT_VEC_TABLE | n */
    ureg mode;      /* rt_cur_mode when the trap was taken */
} rt_trap_rec;

extern volatile rt_trap_rec rt_mtrap, rt_strap;
/* Where the next exception returns to (one shot; 0 = skip the faulting
 * instruction).  RT_RECOVER_RA: return to the trapping context's ra. */
extern volatile ureg rt_recover;
#define RT_RECOVER_RA ((ureg)1)
/* Optional hooks, called first; return nonzero when they handled the trap
 * (they may write xepc / the frame themselves). */
typedef int (*rt_hook_t)(rt_frame *f, ureg cause, ureg epc, ureg tval);
extern volatile rt_hook_t rt_mhook, rt_shook;
/* Mode the test code is running in (kept by rt_call_in_mode). */
extern volatile int rt_cur_mode;

void rt_trap_clear(void);
/* Run fn(arg) in PRV_U or PRV_S; returns fn's return value. */
ureg rt_call_in_mode(int mode, ureg (*fn)(ureg), ureg arg);
/* Bytes of the instruction at a (2 or 4): reads it as the trapped mode. */
unsigned rt_insn_len_at(ureg epc, int from_mode);

extern char rt_mtrap_entry[], rt_strap_entry[], rt_mvec_table[], rt_svec_table[];
extern char rt_mtrap_stack_top[], rt_strap_stack_top[];

/* ---- Output ---- */
void rt_putc(char c);
void rt_puts(const char *s);
void rt_puthex(u64 v, int digits);
void rt_printf(const char *fmt, ...);   /* %s %c %d %u %x %lx %llx, 0-pad width */

/* ---- Checks ---- */
void rt_check_failed(const char *file, int line, const char *what,
                     u64 got, u64 exp, int has_vals) __attribute__((noreturn));
void rt_finish(int status) __attribute__((noreturn));

#define CHECK(cond) do { if (!(cond)) \
    rt_check_failed(__FILE__, __LINE__, #cond, 0, 0, 0); } while (0)
#define CHECKEQ(got, exp) do { u64 __g = (u64)(got), __e = (u64)(exp); \
    if (__g != __e) rt_check_failed(__FILE__, __LINE__, #got " == " #exp, __g, __e, 1); } while (0)
/* Expect exactly one trap (in M unless noted) with the given cause. */
#define CHECK_MTRAP(cause_) do { CHECKEQ(rt_mtrap.count, 1); \
    CHECKEQ(rt_mtrap.cause, (cause_)); } while (0)
#define CHECK_STRAP(cause_) do { CHECKEQ(rt_strap.count, 1); \
    CHECKEQ(rt_strap.cause, (cause_)); } while (0)

/* ---- Misc ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);

static inline void rt_fence_i(void) { __asm__ volatile("fence.i" ::: "memory"); }
static inline void rt_sfence(void) { __asm__ volatile("sfence.vma" ::: "memory"); }
#define barrier() __asm__ volatile("" ::: "memory")

/* CLINT helpers */
static inline u64 rt_mtime(void)
{
#if IS_RV64
    return *(volatile u64 *)RT_CLINT_MTIME;
#else
    uint32_t hi, lo;
    do {
        hi = MMIO32(RT_CLINT_MTIME + 4);
        lo = MMIO32(RT_CLINT_MTIME);
    } while (hi != MMIO32(RT_CLINT_MTIME + 4));
    return ((u64)hi << 32) | lo;
#endif
}
static inline void rt_set_mtimecmp(u64 v)
{
    MMIO32(RT_CLINT_MTIMECMP) = 0xffffffffu;
    MMIO32(RT_CLINT_MTIMECMP + 4) = (uint32_t)(v >> 32);
    MMIO32(RT_CLINT_MTIMECMP) = (uint32_t)v;
}

#endif
