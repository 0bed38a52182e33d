/* x86_boot (lm64): the way up real mode -> pm32 -> long mode done by
 * common/start.S (boot log), then the whole way down and back up again:
 * 64-bit -> compatibility mode -> paging off (LMA=0) -> LME off -> 16-bit
 * protected mode -> real mode -> pm32 -> long mode, recording CR0, CR4,
 * EFER and CS at each step.  Everything is printed and checked. */
#include "rt.h"

RT_TEST_NAME("x86_boot");

#define WALK_LOG ((volatile u32 *)0x800)       /* written by the walk */
#define WALK_PARAM ((volatile u16 *)0x700)     /* far pointer to walk_rm */
#define SEL_CODE16_E 0x68                      /* code16, base 0xE0000 */

void boot_walk(void);
extern const char walk_rm[], walk16p[];

/* Log slots. */
enum { L_COMPAT_CR0, L_COMPAT_EFER, L_COMPAT_CS, L_NOPG_CR0, L_NOPG_EFER,
       L_NOLME_EFER, L_NOPAE_CR4, L_PM16_CS, L_RM_CR0, L_RM_CS, L_RM_SEGVAL,
       L_RM_SS, L_PM_CR0, L_PM_CS, L_LM_CR0, L_LM_CR4, L_LM_EFER, L_LM_CS,
       L_COMPAT_PUSH, L_RM_PUSH, L_COUNT };

__asm__(
    ".text\n"
    ".code64\n"
    ".globl boot_walk\n"
    "boot_walk:\n"
    "  push %rbx; push %rbp; push %r12; push %r13; push %r14; push %r15\n"
    "  mov %rsp, walk_saved_rsp\n"
    "  pushq $0x08\n"
    "  pushq $walk32\n"
    "  lretq\n"
    ".code32\n"
    "walk32:\n"                         /* compatibility mode */
    "  mov %cr0, %eax; mov %eax, 0x800 + 4*0\n"
    "  mov $0xC0000080, %ecx; rdmsr; mov %eax, 0x800 + 4*1\n"
    "  mov %cs, %eax; mov %eax, 0x800 + 4*2\n"
    "  mov %esp, %ebx; push %eax; sub %esp, %ebx; mov %ebx, 0x800 + 4*18; pop %eax\n"
    "  mov %cr0, %eax; and $0x7fffffff, %eax; mov %eax, %cr0\n"
    "  mov %cr0, %eax; mov %eax, 0x800 + 4*3\n"
    "  mov $0xC0000080, %ecx; rdmsr; mov %eax, 0x800 + 4*4\n"
    "  and $~0x100, %eax; wrmsr\n"
    "  rdmsr; mov %eax, 0x800 + 4*5\n"
    "  mov %cr4, %eax; and $~0x20, %eax; mov %eax, %cr4; mov %eax, 0x800 + 4*6\n"
    "  ljmp $0x68, $(walk16p - 0xe0000)\n"
    ".code16\n"
    ".globl walk16p\n"
    "walk16p:\n"                        /* 16-bit protected mode */
    "  mov %cs, %ax; movzwl %ax, %eax; mov %eax, %ds:0x800 + 4*7\n"
    "  mov $0x50, %ax; mov %ax, %ds; mov %ax, %es; mov %ax, %ss; mov %ax, %fs; mov %ax, %gs\n"
    "  mov $0x7000, %esp\n"
    "  mov %cr0, %eax; and $~1, %eax; mov %eax, %cr0\n"
    "  ljmp *%ds:0x700\n"
    ".globl walk_rm\n"
    "walk_rm:\n"                        /* real mode, CS = 0xE000 */
    "  xor %ax, %ax; mov %ax, %ds; mov %ax, %es; mov %ax, %ss\n"
    "  mov %cr0, %eax; mov %eax, 0x800 + 4*8\n"
    "  mov %cs, %ax; movzwl %ax, %eax; mov %eax, 0x800 + 4*9\n"
    "  mov $0x1234, %ax; mov %ax, %es; movw $0xbeef, %es:0x10\n"   /* linear 0x12350 */
    "  mov $0x1000, %ax; mov %ax, %fs; movzwl %fs:0x2350, %eax; mov %eax, 0x800 + 4*10\n"
    "  mov %ss, %ax; movzwl %ax, %eax; mov %eax, 0x800 + 4*11\n"
    "  mov %sp, %bx; push %ax; sub %sp, %bx; movzwl %bx, %ebx; mov %ebx, 0x800 + 4*19; pop %ax\n"
    "  mov $0x3fd, %dx\n"               /* print 'R' '\\n' from real mode */
    "1: in %dx, %al; test $0x20, %al; jz 1b\n"
    "  mov $0x3f8, %dx; mov $'R', %al; out %al, %dx\n"
    "  mov $0x3fd, %dx\n"
    "1: in %dx, %al; test $0x20, %al; jz 1b\n"
    "  mov $0x3f8, %dx; mov $10, %al; out %al, %dx\n"
    "  mov %cr0, %eax; or $1, %eax; mov %eax, %cr0\n"
    "  ljmpl $0x08, $walk32b\n"
    ".code32\n"
    "walk32b:\n"                        /* pm32 again */
    "  mov $0x10, %ax; mov %ax, %ds; mov %ax, %es; mov %ax, %ss\n"
    "  xor %ax, %ax; mov %ax, %fs; mov %ax, %gs\n"
    "  mov walk_saved_rsp, %esp\n"
    "  mov %cr0, %eax; mov %eax, 0x800 + 4*12\n"
    "  mov %cs, %eax; mov %eax, 0x800 + 4*13\n"
    "  mov %cr4, %eax; or $0x20, %eax; mov %eax, %cr4\n"
    "  mov $0xC0000080, %ecx; rdmsr; or $0x100, %eax; wrmsr\n"
    "  mov %cr0, %eax; or $0x80000000, %eax; mov %eax, %cr0\n"
    "  ljmp $0x18, $walk64b\n"
    ".code64\n"
    "walk64b:\n"
    "  mov %cr0, %rax; mov %eax, 0x800 + 4*14\n"
    "  mov %cr4, %rax; mov %eax, 0x800 + 4*15\n"
    "  mov $0xC0000080, %ecx; rdmsr; mov %eax, 0x800 + 4*16\n"
    "  mov %cs, %eax; mov %eax, 0x800 + 4*17\n"
    "  mov walk_saved_rsp, %rsp\n"
    "  pop %r15; pop %r14; pop %r13; pop %r12; pop %rbp; pop %rbx\n"
    "  ret\n"
    ".bss\n"
    ".balign 8\n"
    "walk_saved_rsp: .quad 0\n"
    ".text\n");

static void show(const char *what, u64 got, u64 want)
{
    printf("  %-24s = %llx%s\n", what, (unsigned long long)got, got == want ? "" : "  <-- wrong");
}
#define SHOW(what, got, want) do { show(what, got, want); CHECK_EQ(got, want); } while (0)

void test_main(void)
{
    volatile rt_bootlog *b = RT_BOOTLOG;
    u32 r[4];
    cpuid(1, 0, r);
    printf("reset (real mode):\n");
    SHOW("edx (signature)", b->reset_edx, r[0]);
    SHOW("cr0", b->reset_cr0, 0x60000010);
    SHOW("eflags", b->reset_eflags, 0x2);
    SHOW("cs", b->reset_cs, 0xf000);
    SHOW("ss", b->reset_ss, 0);
    printf("protected mode (start.S):\n");
    SHOW("cr0", b->pm_cr0, 0x60000011);
    printf("long mode (start.S):\n");
    SHOW("cr0", b->lm_cr0, 0xe0000011);
    SHOW("cr4", b->lm_cr4, 0x20);
    SHOW("efer", b->lm_efer_lo, EFER_LME | EFER_LMA);
    printf("now:\n");
    SHOW("cr0", read_cr(0), 0xe0000033);   /* + MP NE (rt_start) */
    SHOW("cr4", read_cr(4), 0x620);         /* + OSFXSR OSXMMEXCPT */
    SHOW("efer", rdmsr(MSR_EFER), EFER_LME | EFER_LMA);
    SHOW("cs", read_seg(cs), SEL_KCODE);

    /* The time-stamp counter runs forward (its values depend on the
     * emulator's clock, so only the order is printed); under record/replay
     * each read is a logged event (tests/system/test_rr_x86.py). */
    u32 lo1, hi1, lo2, hi2, aux;
    __asm__ volatile("rdtsc" : "=a"(lo1), "=d"(hi1));
    __asm__ volatile("rdtscp" : "=a"(lo2), "=d"(hi2), "=c"(aux));
    u64 t1 = (u64)hi1 << 32 | lo1, t2 = (u64)hi2 << 32 | lo2;
    printf("tsc: %s\n", t2 > t1 ? "increasing" : "NOT increasing");
    CHECK(t2 > t1);

    /* CR8 is the local APIC's task priority (TPR[7:4]), both ways. */
    volatile u32 *tpr = (volatile u32 *)(uintptr_t)0xfee00080;
    write_cr(8, 5);
    SHOW("apic tpr after cr8=5", *tpr, 0x50);
    *tpr = 0x30;
    SHOW("cr8 after tpr=0x30", read_cr(8), 3);
    write_cr(8, 0);

    /* The way down and back up. */
    if ((uintptr_t)walk_rm >= 0xF0000 || (uintptr_t)walk16p >= 0xF0000)
        rt_panic("walk code at %p is outside the E000 segment", walk_rm);
    rt_gdt_set(SEL_CODE16_E, rt_seg_desc(0xE0000, 0xFFFF, 0x9A, 0));
    WALK_PARAM[0] = (u16)((uintptr_t)walk_rm - 0xE0000);
    WALK_PARAM[1] = 0xE000;
    for (int i = 0; i < L_COUNT; i++)
        WALK_LOG[i] = 0xdeadbeef;
    boot_walk();
    volatile u32 *l = WALK_LOG;
    printf("compatibility mode:\n");
    SHOW("cr0", l[L_COMPAT_CR0], 0xe0000033);
    SHOW("efer", l[L_COMPAT_EFER], EFER_LME | EFER_LMA);
    SHOW("cs", l[L_COMPAT_CS], SEL_KCODE32);
    SHOW("push size", l[L_COMPAT_PUSH], 4);
    printf("paging off:\n");
    SHOW("cr0", l[L_NOPG_CR0], 0x60000033);
    SHOW("efer", l[L_NOPG_EFER], EFER_LME);
    SHOW("efer after LME=0", l[L_NOLME_EFER], 0);
    SHOW("cr4 after PAE=0", l[L_NOPAE_CR4], 0x600);
    printf("16-bit protected mode:\n");
    SHOW("cs", l[L_PM16_CS], SEL_CODE16_E);
    printf("real mode:\n");
    SHOW("cr0", l[L_RM_CR0], 0x60000032);
    SHOW("cs", l[L_RM_CS], 0xe000);
    SHOW("ss", l[L_RM_SS], 0);
    SHOW("1234:0010 read as 1000:2350", l[L_RM_SEGVAL], 0xbeef);
    SHOW("push size", l[L_RM_PUSH], 2);
    printf("protected mode again:\n");
    SHOW("cr0", l[L_PM_CR0], 0x60000033);
    SHOW("cs", l[L_PM_CS], SEL_KCODE32);
    printf("long mode again:\n");
    SHOW("cr0", l[L_LM_CR0], 0xe0000033);
    SHOW("cr4", l[L_LM_CR4], 0x620);
    SHOW("efer", l[L_LM_EFER], EFER_LME | EFER_LMA);
    SHOW("cs", l[L_LM_CS], SEL_KCODE);
    /* Still working: an exception and the IDT. */
    CHECK_EQ(TRY(__asm__ volatile("ud2")), EXC_UD);
    CHECK_EQ(rt_fault.cs, SEL_KCODE);
}
