/* Tandem x86 test guests: runtime API shared by the pm32 (gcc -m32), lm64
 * (gcc -m64) and rm16 (gcc -m16) guests.  See ../README.md. */
#ifndef X86_RT_H
#define X86_RT_H

#include <stdint.h>
#include <stddef.h>
#include <stdarg.h>

typedef unsigned long ureg;             /* 4 bytes in pm32/rm16, 8 in lm64 */
typedef long sreg;
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

#if defined(__x86_64__)
#define RT_LM64 1
#define RT_MODE "lm64"
#elif defined(RT_RM16)
#define RT_MODE "rm16"
#else
#define RT_PM32 1
#define RT_MODE "pm32"
#endif

/* Each guest names itself: RT_TEST_NAME("x86_alu"); */
extern const char rt_test_name[];
#define RT_TEST_NAME(s) const char rt_test_name[] = s
/* The guest's body; return normally to PASS (when no check failed). */
void test_main(void);
/* Set by a guest that wants the x87/SSE state in the final dump. */
extern int rt_dump_fpu;

/* ---- GDT selectors (common/start.S) ---- */
#define SEL_KCODE32 0x08
#define SEL_KDATA   0x10
#define SEL_KCODE   0x18   /* code64 in lm64 guests, a copy of 0x08 in pm32 */
#define SEL_KDATA2  0x20
#define SEL_UCODE32 0x28   /* DPL 3 */
#define SEL_UDATA   0x30
#define SEL_UCODE64 0x38
#define SEL_UDATA2  0x40
#define SEL_CODE16  0x48
#define SEL_DATA16  0x50
#define SEL_TSS     0x58   /* 16 bytes in lm64 */
#define SEL_FREE0   0x68   /* 0x68..0x98: free for tests (rt_gdt_set) */
#define RT_GDT_ENTRIES 20
extern u64 rt_gdt[RT_GDT_ENTRIES];
void rt_gdt_set(unsigned sel, u64 desc);
u64 rt_seg_desc(u32 base, u32 limit, unsigned type_s_dpl_p, unsigned flags4);

/* ---- port and control register access ---- */
static inline void outb(u16 port, u8 v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outw(u16 port, u16 v) { __asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port)); }
static inline void outl(u16 port, u32 v) { __asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port)); }
static inline u8 inb(u16 port) { u8 v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

#define read_cr(n) ({ ureg __v; __asm__ volatile("mov %%cr" #n ", %0" : "=r"(__v) :: "memory"); __v; })
#define write_cr(n, v) __asm__ volatile("mov %0, %%cr" #n :: "r"((ureg)(v)) : "memory")
static inline u64 rdmsr(u32 msr)
{
    u32 lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((u64)hi << 32) | lo;
}
static inline void wrmsr(u32 msr, u64 v)
{
    __asm__ volatile("wrmsr" :: "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)) : "memory");
}
static inline ureg read_flags(void)
{
    ureg f;
    __asm__ volatile("pushf; pop %0" : "=r"(f) :: "memory");
    return f;
}
static inline void cpuid(u32 leaf, u32 sub, u32 r[4])
{
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
#define read_seg(s) ({ u16 __v; __asm__ volatile("mov %%" #s ", %0" : "=r"(__v)); __v; })

#define MSR_EFER 0xC0000080u
#define MSR_STAR 0xC0000081u
#define MSR_LSTAR 0xC0000082u
#define MSR_CSTAR 0xC0000083u
#define MSR_FMASK 0xC0000084u
#define MSR_FS_BASE 0xC0000100u
#define MSR_GS_BASE 0xC0000101u
#define MSR_KERNEL_GS_BASE 0xC0000102u
#define MSR_SYSENTER_CS 0x174u
#define MSR_SYSENTER_ESP 0x175u
#define MSR_SYSENTER_EIP 0x176u
#define EFER_SCE (1u << 0)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define EFER_NXE (1u << 11)

#define FL_CF 0x0001u
#define FL_PF 0x0004u
#define FL_AF 0x0010u
#define FL_ZF 0x0040u
#define FL_SF 0x0080u
#define FL_TF 0x0100u
#define FL_IF 0x0200u
#define FL_DF 0x0400u
#define FL_OF 0x0800u
#define FL_ARITH (FL_CF | FL_PF | FL_AF | FL_ZF | FL_SF | FL_OF)

/* Exception vectors. */
enum { EXC_DE = 0, EXC_DB = 1, EXC_NMI = 2, EXC_BP = 3, EXC_OF = 4, EXC_BR = 5,
       EXC_UD = 6, EXC_NM = 7, EXC_DF = 8, EXC_TS = 10, EXC_NP = 11, EXC_SS = 12,
       EXC_GP = 13, EXC_PF = 14, EXC_MF = 16, EXC_AC = 17, EXC_MC = 18, EXC_XM = 19 };

/* ---- serial output (COM1) and exit (isa-debug-exit at 0xf4) ---- */
void rt_putc(char c);
void rt_puts(const char *s);
void rt_printf(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));
void rt_vprintf(const char *fmt, va_list ap);
#define printf rt_printf
/* Prints the register dump and the verdict, then exits: code 0 = PASS
 * (QEMU exit status 1), n = FAIL (status (n << 1) | 1). */
__attribute__((noreturn)) void rt_exit(unsigned code);
/* A hard failure: prints FAIL <msg> and exits at once. */
__attribute__((noreturn)) void rt_panic(const char *fmt, ...) __attribute__((format(__printf__, 1, 2)));

/* ---- checks ---- */
extern unsigned rt_failures;
void rt_check_fail(const char *file, int line, const char *expr, u64 got, u64 want);
#define CHECK(c) do { if (!(c)) rt_check_fail(__FILE__, __LINE__, #c, 0, 1); } while (0)
#define CHECK_EQ(got, want) do { u64 __g = (u64)(got), __w = (u64)(want); \
    if (__g != __w) rt_check_fail(__FILE__, __LINE__, #got, __g, __w); } while (0)

/* ---- exceptions ---- */
/* Trap frame built by the common entry (common/trap.S), lowest address first. */
#ifdef RT_LM64
typedef struct rt_frame {
    ureg r15, r14, r13, r12, r11, r10, r9, r8;
    ureg di, si, bp, bx, dx, cx, ax;
    ureg vector, err;
    ureg ip, cs, flags, sp, ss;     /* pushed by the CPU */
} rt_frame;
#else
typedef struct rt_frame {
    ureg gs, fs, es, ds;
    ureg di, si, bp, sp0, bx, dx, cx, ax;   /* pushal */
    ureg vector, err;
    ureg ip, cs, flags, sp, ss;     /* sp/ss only after a privilege change */
} rt_frame;
#endif

/* Last exception taken (by any path). */
typedef struct rt_fault {
    unsigned count;
    unsigned vector;
    ureg err, ip, cs, flags, cr2;
} rt_fault_t;
extern volatile rt_fault_t rt_fault;

/* A vector's hook runs instead of the default handling; it may edit the
 * frame (registers, ip) and returns through IRET. */
typedef void (*rt_hook_fn)(rt_frame *f);
void rt_set_hook(unsigned vector, rt_hook_fn fn);
/* IDT gate: type 0xE interrupt gate / 0xF trap gate, dpl 0..3. */
void rt_set_gate(unsigned vector, unsigned type, unsigned dpl);
void rt_set_gate_target(unsigned vector, unsigned type, unsigned dpl, unsigned sel, ureg target);
/* IDT base (so tests can LIDT elsewhere and restore). */
extern u64 rt_idt[];

/* Fault recovery: rt_catch() returns 0 when armed and 1 after an exception
 * was taken while armed (the kernel stack and callee-saved registers are
 * restored, like longjmp).  rt_uncatch() disarms. */
int rt_catch(void) __attribute__((returns_twice));
void rt_uncatch(void);
/* Runs stmt; evaluates to the exception vector taken, or -1. */
#define TRY(stmt) ({ volatile int __v = -1; \
    if (rt_catch() == 0) { stmt; rt_uncatch(); } else __v = (int)rt_fault.vector; __v; })
/* Checks that stmt raises vector vec with error code err (err < 0: any). */
#define EXPECT_FAULT(vec_, err_, stmt) do { int __x = TRY(stmt); \
    CHECK_EQ(__x, (vec_)); \
    if (__x == (vec_) && (long)(err_) >= 0) CHECK_EQ(rt_fault.err, (err_)); } while (0)

#ifdef RT_RM16
/* ---- real mode (rm16): IVT at 0; every vector fails the test until a
 * guest installs its handler.  CS = DS = ES = SS = 0 while C code runs. ---- */
void rt_ivt_set(unsigned vec, u16 seg, u16 off);
void rt_ivt_default(unsigned vec);
#endif

/* ---- ring 3 (pm32, lm64) ---- */
/* Runs fn(arg) at CPL 3 and returns its result: IRET to the user code
 * selector (SEL_UCODE32|3 in pm32, SEL_UCODE64|3 in lm64) with SS (and in
 * pm32 DS/ES) = SEL_UDATA|3, RFLAGS = rt_user_flags (default 0x2: IF = 0,
 * IOPL 0) and the stack rt_user_stack_top; fn returns through INT
 * RT_VEC_USER_RET (an interrupt gate with DPL 3) to the caller.  Faults at
 * CPL 3 go through the IDT as usual, so TRY(rt_user_call(...)) works. */
#define RT_VEC_USER_RET 0xFE
ureg rt_user_call(ureg (*fn)(ureg), ureg arg);
extern ureg rt_user_flags;
extern u8 rt_user_stack_top[];
#ifdef RT_LM64
#define SEL_UCODE (SEL_UCODE64 | 3)
#else
#define SEL_UCODE (SEL_UCODE32 | 3)
#endif

/* ---- TSS / kernel stacks ---- */
extern u8 rt_trap_stack_top[];   /* TSS ring-0 stack (ESP0/RSP0) */
void rt_tss_set_sp0(ureg sp);

/* ---- misc ---- */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* Boot log written by common/start.S (read by x86_boot). */
typedef struct rt_bootlog {
    u32 reset_edx;   /* EDX at reset: CPU signature */
    u32 reset_cr0;
    u32 reset_eflags;
    u16 reset_cs, reset_ss;
    u32 pm_cr0;      /* after CR0.PE */
    u32 lm_cr0, lm_cr4;   /* in 64-bit mode (lm64 only) */
    u32 lm_efer_lo;
} rt_bootlog;
#define RT_BOOTLOG ((volatile rt_bootlog *)0x600)

/* Identity page tables of lm64 guests: 2 MiB pages over 0..4 GiB. */
extern u64 rt_pml4[512], rt_pdpt[512], rt_pd[4][512];

/* The stack limits (link.ld). */
extern u8 __stack_top[];
#endif
