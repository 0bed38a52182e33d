/* x86_sdm_sys (pm32 and lm64, tandem-only): system behaviour that the Intel
 * SDM defines and QEMU 7.2 does not implement (README.md, "QEMU 7.2
 * deviations"), so the guest is not compared with QEMU: the expected
 * values come from the SDM (quoted at each test).
 *
 *  both:  RFLAGS.RF in the pushed image (1 for faults, 0 for INT n/INT3);
 *         RDMSR/WRMSR of an unimplemented MSR, WRMSR of a reserved EFER
 *         bit -> #GP(0); reserved CR4 bits -> #GP(0); PUSH FS/GS/DS with
 *         a 32/64-bit operand writes only 2 bytes
 *  pm32:  SYSCALL/SYSRET #UD in protected mode (EFER.SCE=1); a null
 *         selector in DS/ES/FS -> #GP(0) on access; protected-mode
 *         segment limit and read-only checks; real-mode segment limits
 *         (word at offset 0xFFFF: #GP, through SS: #SS)
 *  lm64:  SYSCALL/SYSRET #UD in compatibility mode; SYSRET with
 *         EFER.SCE=0 -> #UD; SYSRET to a non-canonical RCX -> #GP(0) at
 *         CPL 0; clearing CR4.PAE in long mode -> #GP(0) */
#include "rt.h"

RT_TEST_NAME("x86_sdm_sys");

#define FL_RF 0x10000u

static void show(const char *name, u64 got, u64 want, int line)
{
    printf("%-52s %llx%s\n", name, (unsigned long long)got, got == want ? "" : "  <-- wrong");
    if (got != want)
        rt_check_fail(__FILE__, line, name, got, want);
}
#define SHOW(name, got, want) show(name, (u64)(got), (u64)(want), __LINE__)
/* a vector (or -1): printed as a signed number */
static void showv(const char *name, int got, int want, int line)
{
    printf("%-52s %d%s\n", name, got, got == want ? "" : "  <-- wrong");
    if (got != want)
        rt_check_fail(__FILE__, line, name, (u64)(sreg)got, (u64)(sreg)want);
}
#define SHOWV(name, got, want) showv(name, got, want, __LINE__)

/* --------------------------------------------------------------- RF */
/* SDM Vol. 3B, 17.3.1.1 "Instruction-Breakpoint Exception Condition": "...
 * for any fault-class exception except a debug exception generated in
 * response to an instruction breakpoint, the value pushed for RF is 1."
 * INT n / INT3 / INTO (Vol. 2A, INT n Operation) push the current EFLAGS
 * (RF = 0 while the program runs) and then clear RF. */
static void test_rf(void)
{
    printf("pushed RFLAGS.RF\n");
    int v = TRY(__asm__ volatile("ud2"));
    SHOWV("#UD: vector", v, EXC_UD);
    SHOW("#UD: pushed RF", rt_fault.flags & FL_RF, FL_RF);
    v = TRY(__asm__ volatile("rdmsr" :: "c"(0x12345678u) : "eax", "edx"));
    SHOWV("#GP (rdmsr): vector", v, EXC_GP);
    SHOW("#GP (rdmsr): pushed RF", rt_fault.flags & FL_RF, FL_RF);
    v = TRY(__asm__ volatile("xor %%edx, %%edx\n\tmov $1, %%eax\n\tdiv %%ecx" :: "c"(0) : "eax", "edx", "cc"));
    SHOWV("#DE: vector", v, EXC_DE);
    SHOW("#DE: pushed RF", rt_fault.flags & FL_RF, FL_RF);
#ifdef RT_LM64
    u64 dummy;
    v = TRY(__asm__ volatile("mov (%1), %0" : "=r"(dummy) : "r"(0x100000000ull) : "memory"));
    SHOWV("#PF (4 GiB, not mapped): vector", v, EXC_PF);
    SHOW("#PF: pushed RF", rt_fault.flags & FL_RF, FL_RF);
#endif
    v = TRY(__asm__ volatile("int $0x40" ::: "memory"));
    SHOWV("INT 0x40: vector", v, 0x40);
    SHOW("INT 0x40: pushed RF", rt_fault.flags & FL_RF, 0);
    v = TRY(__asm__ volatile("int3" ::: "memory"));
    SHOWV("INT3: vector", v, EXC_BP);
    SHOW("INT3: pushed RF", rt_fault.flags & FL_RF, 0);
#ifndef RT_LM64
    v = TRY(__asm__ volatile("mov $0x7f, %%al\n\tadd $1, %%al\n\tinto" ::: "eax", "cc", "memory"));
    SHOWV("INTO (OF=1): vector", v, EXC_OF);
    SHOW("INTO: pushed RF", rt_fault.flags & FL_RF, 0);
#endif
}

/* -------------------------------------------------------------- MSRs */
/* SDM Vol. 2B, RDMSR/WRMSR: "#GP(0) ... If the value in ECX specifies a
 * reserved or unimplemented MSR address." WRMSR: "If the value in EDX:EAX
 * sets bits that are reserved in the MSR specified by ECX." (IA32_EFER:
 * bits 1-7, 9, 12-63 reserved, Vol. 4 Table 2-2.) */
static void test_msr(void)
{
    printf("unimplemented MSRs, reserved bits\n");
    static const u32 msrs[] = { 0x12345678u, 0xC0001234u, 0x00000bffu };
    for (unsigned i = 0; i < 3; i++) {
        char name[64];
        u32 m = msrs[i];
        int v = TRY(__asm__ volatile("rdmsr" :: "c"(m) : "eax", "edx"));
        memcpy(name, "rdmsr ", 6);
        for (int j = 0; j < 8; j++)
            name[6 + j] = "0123456789abcdef"[(m >> (28 - 4 * j)) & 15];
        memcpy(name + 14, ": #GP", 6);
        SHOWV(name, v, EXC_GP);
        SHOW("  error code", rt_fault.err, 0);
        v = TRY(__asm__ volatile("wrmsr" :: "c"(m), "a"(0), "d"(0) : "memory"));
        name[0] = 'w', name[1] = 'r';
        SHOWV(name, v, EXC_GP);
        SHOW("  error code", rt_fault.err, 0);
    }
    static u64 efer;
    efer = rdmsr(MSR_EFER);
    int v = TRY(wrmsr(MSR_EFER, efer | 2));
    SHOWV("wrmsr EFER | bit 1 (reserved): #GP", v, EXC_GP);
    SHOW("  error code", rt_fault.err, 0);
    v = TRY(wrmsr(MSR_EFER, efer | (1ull << 63)));
    SHOWV("wrmsr EFER | bit 63 (reserved): #GP", v, EXC_GP);
    SHOW("EFER unchanged", rdmsr(MSR_EFER), efer);
}

/* --------------------------------------------------------------- CR4 */
/* SDM Vol. 2B, MOV (control registers): "#GP(0) ... If an attempt is made
 * to write a 1 to any reserved bit in CR4." (CR4 bit 15 and bits 31:25
 * here are reserved, Vol. 3A 2.5.)  64-bit mode: "#GP(0) ... If an
 * attempt is made to clear CR4.PAE while IA-32e mode is active." */
static void test_cr4(void)
{
    printf("reserved CR4 bits\n");
    ureg cr4 = read_cr(4);
    int v = TRY(write_cr(4, cr4 | (1u << 30)));
    SHOWV("mov cr4 | bit 30: #GP", v, EXC_GP);
    SHOW("  error code", rt_fault.err, 0);
    v = TRY(write_cr(4, cr4 | (1u << 15)));
    SHOWV("mov cr4 | bit 15: #GP", v, EXC_GP);
    SHOW("  error code", rt_fault.err, 0);
#ifdef RT_LM64
    v = TRY(write_cr(4, cr4 | (1ull << 32)));
    SHOWV("mov cr4 | bit 32: #GP", v, EXC_GP);
    v = TRY(write_cr(4, cr4 & ~(ureg)0x20));
    SHOWV("mov cr4 & ~PAE in long mode: #GP", v, EXC_GP);
    SHOW("  error code", rt_fault.err, 0);
#endif
    SHOW("CR4 unchanged", read_cr(4), cr4);
}

/* --------------------------------------------------- PUSH segment reg */
/* SDM Vol. 2B, PUSH: "If the source operand is a segment register (16
 * bits) and the operand size is 32-bits, either a zero-extension of the
 * value is pushed on the stack or the segment selector is written on the
 * stack using a 16-bit move.  For the last case, all recent Intel Core
 * and Intel Atom processors perform a 16-bit move, leaving the upper
 * portion of the stack location unmodified."  (The same for 64 bits.)
 * Tandem follows the recent processors. */
static void test_push_seg(void)
{
    printf("PUSH segment register: 16-bit store\n");
    ureg slot, delta;
#ifdef RT_LM64
    __asm__ volatile(
        "mov %%rsp, %%rdx\n\t"
        "sub $64, %%rsp\n\t"
        "mov $0x10, %%eax\n\tmov %%eax, %%fs\n\t"
        "movabs $0x1122334455667788, %%rax\n\tmov %%rax, -8(%%rsp)\n\t"
        "lea (%%rsp), %%rcx\n\t"
        "push %%fs\n\t"
        "sub %%rsp, %%rcx\n\t"
        "mov (%%rsp), %0\n\t"
        "mov %%rdx, %%rsp\n\t"
        "xor %%eax, %%eax\n\tmov %%eax, %%fs"
        : "=&r"(slot), "=&c"(delta) :: "rax", "rdx", "memory");
    SHOW("push fs (64-bit): rsp decrement", delta, 8);
    SHOW("push fs (64-bit): slot", slot, 0x1122334455660010ull);
    __asm__ volatile(
        "mov %%rsp, %%rdx\n\t"
        "sub $64, %%rsp\n\t"
        "mov $0x20, %%eax\n\tmov %%eax, %%gs\n\t"
        "movabs $0x1122334455667788, %%rax\n\tmov %%rax, -8(%%rsp)\n\t"
        "lea (%%rsp), %%rcx\n\t"
        "push %%gs\n\t"
        "sub %%rsp, %%rcx\n\t"
        "mov (%%rsp), %0\n\t"
        "mov %%rdx, %%rsp\n\t"
        "xor %%eax, %%eax\n\tmov %%eax, %%gs"
        : "=&r"(slot), "=&c"(delta) :: "rax", "rdx", "memory");
    SHOW("push gs (64-bit): rsp decrement", delta, 8);
    SHOW("push gs (64-bit): slot", slot, 0x1122334455660020ull);
    __asm__ volatile(
        "mov %%rsp, %%rdx\n\t"
        "sub $64, %%rsp\n\t"
        "mov $0x10, %%eax\n\tmov %%eax, %%fs\n\t"
        "movabs $0x1122334455667788, %%rax\n\tmov %%rax, -8(%%rsp)\n\t"
        "lea (%%rsp), %%rcx\n\t"
        "pushw %%fs\n\t"
        "sub %%rsp, %%rcx\n\t"
        "mov -6(%%rsp), %0\n\t"
        "mov %%rdx, %%rsp\n\t"
        "xor %%eax, %%eax\n\tmov %%eax, %%fs"
        : "=&r"(slot), "=&c"(delta) :: "rax", "rdx", "memory");
    SHOW("pushw fs (16-bit): rsp decrement", delta, 2);
    SHOW("pushw fs (16-bit): qword at the old rsp-8", slot, 0x0010334455667788ull);
#else
    static const char *const names[3] = { "push ds (32-bit)", "push fs (32-bit)", "push gs (32-bit)" };
    for (int i = 0; i < 3; i++) {
        char name[64];
        u16 sel = 0x20;
        if (i == 0)
            __asm__ volatile(
                "mov %%esp, %%edx\n\tsub $64, %%esp\n\t"
                "movl $0x11223344, -4(%%esp)\n\tmov %%esp, %%ecx\n\t"
                "push %%ds\n\tsub %%esp, %%ecx\n\tmov (%%esp), %0\n\tmov %%edx, %%esp"
                : "=&r"(slot), "=&c"(delta) :: "edx", "memory");
        else if (i == 1)
            __asm__ volatile(
                "mov %%esp, %%edx\n\tsub $64, %%esp\n\tmov $0x20, %%eax\n\tmov %%eax, %%fs\n\t"
                "movl $0x11223344, -4(%%esp)\n\tmov %%esp, %%ecx\n\t"
                "push %%fs\n\tsub %%esp, %%ecx\n\tmov (%%esp), %0\n\tmov %%edx, %%esp\n\t"
                "xor %%eax, %%eax\n\tmov %%eax, %%fs"
                : "=&r"(slot), "=&c"(delta) :: "eax", "edx", "memory");
        else
            __asm__ volatile(
                "mov %%esp, %%edx\n\tsub $64, %%esp\n\tmov $0x20, %%eax\n\tmov %%eax, %%gs\n\t"
                "movl $0x11223344, -4(%%esp)\n\tmov %%esp, %%ecx\n\t"
                "push %%gs\n\tsub %%esp, %%ecx\n\tmov (%%esp), %0\n\tmov %%edx, %%esp\n\t"
                "xor %%eax, %%eax\n\tmov %%eax, %%gs"
                : "=&r"(slot), "=&c"(delta) :: "eax", "edx", "memory");
        if (i == 0)
            sel = SEL_KDATA;
        memcpy(name, names[i], strlen(names[i]) + 1);
        memcpy(name + strlen(name), ": esp decrement", 16);
        SHOW(name, delta, 4);
        memcpy(name, names[i], strlen(names[i]) + 1);
        memcpy(name + strlen(name), ": slot", 7);
        SHOW(name, slot, 0x11220000u | sel);
    }
#endif
}

#ifdef RT_LM64
/* ------------------------------------------------- SYSCALL/SYSRET (lm64) */
/* SDM Vol. 2B, SYSCALL Operation: "IF (CS.L != 1) or (IA32_EFER.LMA != 1)
 * or (IA32_EFER.SCE != 1) (* Not in 64-Bit Mode or SYSCALL/SYSRET not
 * enabled in IA32_EFER *) THEN #UD; FI;"  "Compatibility Mode Exceptions:
 * #UD The SYSCALL instruction is not recognized in compatibility mode."
 * SYSRET: the same #UD condition; "#GP(0) If CPL != 0.  If the return is
 * to 64-bit mode and RCX contains a non-canonical address." */
extern const char cm_syscall[], cm_sysret[], lm_sysret_nc[], lm_sysret_nosce[];
void sdm_compat_sys(void);
__asm__(
    ".text\n"
    ".code64\n"
    ".globl sdm_compat_sys\n"
    "sdm_compat_sys:\n"
    "  pushq $0x08\n"
    "  lea 1f(%rip), %rax\n"
    "  pushq %rax\n"
    "  lretq\n"
    ".code32\n"
    "1:\n"
    ".globl cm_syscall\n"
    "cm_syscall: syscall\n"
    ".globl cm_sysret\n"
    "cm_sysret: sysret\n"
    "  ljmp $0x18, $2f\n"
    ".code64\n"
    "2: ret\n");

/* Where an AMD CPU takes SYSCALL in compatibility mode (CSTAR), which the
 * SDM makes #UD: the guest says so and ends, rather than running off into
 * whatever CSTAR held (KVM on an AMD host runs the guest's SYSCALL there). */
__attribute__((noreturn, used)) void sdm_compat_syscall_ran(void)
{
    printf("TEST %s: FAIL: SYSCALL in compatibility mode went to CSTAR (AMD's behaviour; "
           "the SDM has #UD)\n", rt_test_name);
    rt_exit(rt_failures + 1);
}
__asm__(".code64\n"
        ".globl sdm_cstar\n"
        "sdm_cstar:\n"
        "  and $-16, %rsp\n"
        "  call sdm_compat_syscall_ran\n");
extern const char sdm_cstar[];

static unsigned ud_n;
static ureg ud_ip[4], ud_cs[4];
static void ud_skip(rt_frame *f)
{
    if (ud_n < 4) {
        ud_ip[ud_n] = f->ip;
        ud_cs[ud_n] = f->cs;
    }
    ud_n++;
    f->ip += 2;
}

static void test_syscall(void)
{
    printf("SYSCALL/SYSRET outside 64-bit mode / disabled\n");
    static u64 efer;
    efer = rdmsr(MSR_EFER);
    wrmsr(MSR_STAR, ((u64)(SEL_UCODE32 | 3) << 48) | ((u64)SEL_KCODE << 32));
    wrmsr(MSR_LSTAR, 0);
    wrmsr(MSR_CSTAR, (u64)(uintptr_t)sdm_cstar);
    /* EFER.SCE = 0: SYSRET #UD (at CPL 0, before any other check) */
    wrmsr(MSR_EFER, efer & ~(u64)EFER_SCE);
    int v = TRY(__asm__ volatile("mov $0x1000, %%ecx\n\tmov $2, %%r11d\n\t"
                                 ".globl lm_sysret_nosce\nlm_sysret_nosce: sysretq" ::: "rcx", "r11", "memory"));
    SHOWV("sysretq, EFER.SCE=0: #UD", v, EXC_UD);
    SHOW("  at the sysret", rt_fault.ip == (ureg)lm_sysret_nosce, 1);
    wrmsr(MSR_EFER, efer | EFER_SCE);
    /* compatibility mode, SCE = 1: both #UD */
    ud_n = 0;
    rt_set_hook(EXC_UD, ud_skip);
    sdm_compat_sys();
    rt_set_hook(EXC_UD, 0);
    SHOW("compatibility mode: #UD count", ud_n, 2);
    SHOW("  syscall: #UD at it", ud_ip[0] == (ureg)cm_syscall, 1);
    SHOW("  syscall: cs (compatibility)", ud_cs[0], SEL_KCODE32);
    SHOW("  sysret: #UD at it", ud_ip[1] == (ureg)cm_sysret, 1);
    /* 64-bit mode, SCE = 1, RCX non-canonical: #GP(0) at CPL 0 */
    v = TRY(__asm__ volatile("movabs $0x8000000000001000, %%rcx\n\tmov $2, %%r11d\n\t"
                             ".globl lm_sysret_nc\nlm_sysret_nc: sysretq" ::: "rcx", "r11", "memory"));
    SHOWV("sysretq to non-canonical rcx: #GP", v, EXC_GP);
    SHOW("  error code", rt_fault.err, 0);
    SHOW("  at the sysret (cpl 0)", rt_fault.ip == (ureg)lm_sysret_nc && rt_fault.cs == SEL_KCODE, 1);
    wrmsr(MSR_EFER, efer);
}
#else
/* ------------------------------------------------- SYSCALL/SYSRET (pm32) */
/* SDM Vol. 2B, SYSCALL: "Protected Mode Exceptions: #UD The SYSCALL
 * instruction is not recognized in protected mode."  SYSRET: "#UD If not
 * in 64-Bit Mode or if IA32_EFER.SCE = 0." (Operation: "IF (CS.L != 1) or
 * (IA32_EFER.LMA != 1) or (IA32_EFER.SCE != 1) THEN #UD".) */
extern const char pm_syscall[], pm_sysret[];
static void test_syscall(void)
{
    printf("SYSCALL/SYSRET in protected mode\n");
    static u64 efer;
    efer = rdmsr(MSR_EFER);
    wrmsr(MSR_STAR, ((u64)(SEL_UCODE32 | 3) << 48) | ((u64)SEL_KCODE32 << 32) | 0x1000);
    wrmsr(MSR_EFER, efer | EFER_SCE);
    SHOW("EFER.SCE set in protected mode", rdmsr(MSR_EFER) & EFER_SCE, EFER_SCE);
    int v = TRY(__asm__ volatile(".globl pm_syscall\npm_syscall: syscall" ::: "ecx", "memory"));
    SHOWV("syscall (pm32, SCE=1): #UD", v, EXC_UD);
    SHOW("  at the syscall", rt_fault.ip == (ureg)pm_syscall, 1);
    v = TRY(__asm__ volatile("mov $0x1000, %%ecx\n\t.globl pm_sysret\npm_sysret: sysret" ::: "ecx", "memory"));
    SHOWV("sysret (pm32, SCE=1): #UD", v, EXC_UD);
    SHOW("  at the sysret", rt_fault.ip == (ureg)pm_sysret, 1);
    SHOW("  cs still ring 0", rt_fault.cs, SEL_KCODE32);
    wrmsr(MSR_EFER, efer);
}

/* ------------------------------------------- null selectors (pm32) */
/* SDM Vol. 2B, MOV: "#GP(0) If the DS, ES, FS, or GS register is used to
 * access memory and it contains a NULL segment selector." Vol. 3A, 3.4.2:
 * "...loading ... a null segment selector ... does not generate an
 * exception.  However, it does cause an exception to be generated when a
 * segment register holding a null selector is used to access memory." */
static u32 probe = 0x5a5a5a5a;
static void test_null_sel(void)
{
    printf("null selectors (protected mode)\n");
    static u32 val;
    int v = TRY(__asm__ volatile("xor %%eax, %%eax\n\tmov %%eax, %%fs\n\tmov %%fs:%1, %0"
                                 : "=r"(val) : "m"(probe) : "eax", "memory"));
    SHOWV("mov fs, 0; read fs:x: #GP", v, EXC_GP);
    SHOW("  error code", rt_fault.err, 0);
    v = TRY(__asm__ volatile("xor %%eax, %%eax\n\tmov %%eax, %%ds\n\tmov %1, %0"
                             : "=r"(val) : "m"(probe) : "eax", "memory"));
    SHOWV("mov ds, 0; read ds:x: #GP", v, EXC_GP);
    SHOW("  error code", rt_fault.err, 0);
    v = TRY(__asm__ volatile("mov $3, %%eax\n\tmov %%eax, %%es\n\tmovl $1, %%es:%0"
                             : "=m"(probe) :: "eax", "memory"));
    SHOWV("mov es, 3 (null, RPL 3); write es:x: #GP", v, EXC_GP);
    SHOW("  probe unchanged", probe, 0x5a5a5a5a);
    v = TRY(__asm__ volatile("xor %%eax, %%eax\n\tmov %%eax, %%gs\n\tmov $0x10, %%eax\n\tmov %%eax, %%gs\n\t"
                             "mov %%gs:%1, %0\n\txor %%eax, %%eax\n\tmov %%eax, %%gs"
                             : "=r"(val) : "m"(probe) : "eax", "memory"));
    SHOWV("mov gs, 0 then 0x10: read works", v, -1);
    SHOW("  value", val, 0x5a5a5a5a);
    __asm__ volatile("xor %%eax, %%eax\n\tmov %%eax, %%fs\n\tmov %%eax, %%gs" ::: "eax");
}

/* --------------------------------- protected-mode limits, read-only */
/* SDM Vol. 3A, 5.3 "Limit Checking": "...the processor causes a
 * general-protection exception (or, in the case of a stack segment, a
 * stack-fault exception) any time an attempt is made to access the
 * following addresses in a segment: a byte at an offset greater than the
 * effective limit; a word at an offset greater than the (effective-limit
 * - 1); a doubleword at an offset greater than the (effective-limit -
 * 3) ..."  5.4.1 / 5.5 "Privilege Levels"/type checks: "Writing into ... a
 * read-only data segment" -> #GP. */
#define SEL_LIM 0x70
#define SEL_RO  0x78
static u8 limbuf[0x1010] __attribute__((aligned(4096)));
static void test_pm_limits(void)
{
    printf("protected-mode segment limits\n");
    u32 base = (u32)(uintptr_t)limbuf;
    rt_gdt_set(SEL_LIM, rt_seg_desc(base, 0xfff, 0x93, 0x4));   /* data RW, limit 0xfff */
    rt_gdt_set(SEL_RO, rt_seg_desc(base, 0xfff, 0x91, 0x4));    /* data RO */
    static u32 val;
#define LIM(name, insn, want) do {                                                      \
        int v_ = TRY(__asm__ volatile("mov %1, %%fs\n\t" insn "\n\txor %%eax, %%eax\n\tmov %%eax, %%fs" \
                                      : "=&r"(val) : "r"((u32)SEL_LIM) : "eax", "memory")); \
        SHOWV(name, v_, want);                                                          \
        if (want >= 0) SHOW("  error code", rt_fault.err, 0);                           \
    } while (0)
    LIM("limit 0xfff: byte at 0xfff", "movzbl %%fs:0xfff, %0", -1);
    LIM("limit 0xfff: word at 0xffe", "movzwl %%fs:0xffe, %0", -1);
    LIM("limit 0xfff: word at 0xfff: #GP", "movzwl %%fs:0xfff, %0", EXC_GP);
    LIM("limit 0xfff: dword at 0xffc", "movl %%fs:0xffc, %0", -1);
    LIM("limit 0xfff: dword at 0xffd: #GP", "movl %%fs:0xffd, %0", EXC_GP);
    LIM("limit 0xfff: byte at 0x1000: #GP", "movzbl %%fs:0x1000, %0", EXC_GP);
#undef LIM
    limbuf[0] = 0x42;
    int v = TRY(__asm__ volatile("mov %1, %%fs\n\tmovzbl %%fs:0, %0\n\txor %%eax, %%eax\n\tmov %%eax, %%fs"
                                 : "=&r"(val) : "r"((u32)SEL_RO) : "eax", "memory"));
    SHOWV("read-only data: read", v, -1);
    SHOW("  value", val, 0x42);
    v = TRY(__asm__ volatile("mov %0, %%fs\n\tmovb $7, %%fs:0\n\txor %%eax, %%eax\n\tmov %%eax, %%fs"
                             :: "r"((u32)SEL_RO) : "eax", "memory"));
    SHOWV("read-only data: write: #GP", v, EXC_GP);
    SHOW("  error code", rt_fault.err, 0);
    SHOW("  memory unchanged", limbuf[0], 0x42);
    __asm__ volatile("xor %%eax, %%eax\n\tmov %%eax, %%fs" ::: "eax");
}

/* ------------------------------------------- real-mode limits (pm32) */
/* SDM Vol. 2B, MOV: "Real-Address Mode Exceptions: #GP If a memory operand
 * effective address is outside the CS, DS, ES, FS, or GS segment limit.
 * #SS If a memory operand effective address is outside the SS segment
 * limit."  Vol. 3A, 21.1.1: real-mode segments are 64 KiB (limit 0xFFFF),
 * so a word at offset 0xFFFF is outside.  No error code in real mode.
 * The walk: pm32 -> 16-bit protected mode (code16 with base 0xE0000,
 * data16 limit 0xFFFF) -> real mode (CS = 0xE000, IVT at 0 with #GP/#SS
 * handlers that resume at the offset in 0:0x804, the low 16 bits of the
 * linear address in the E000 segment) -> pm32. */
#define RM_VEC   ((volatile u16 *)0x800)   /* vector taken (0xffff: none) */
#define RM_RES   ((volatile u16 *)0x810)   /* per test */
#define RM_NTEST 8
#define SEL_CODE16_E 0x68
void sdm_rm_walk(void);
extern const char rm_real[], rm_gp[], rm_ss[], rm16p[];
__asm__(
    ".text\n"
    ".code32\n"
    ".globl sdm_rm_walk\n"
    "sdm_rm_walk:\n"
    "  push %ebx; push %esi; push %edi; push %ebp\n"
    "  mov %esp, rm_saved_esp\n"
    "  sidt rm_saved_idt\n"
    "  lidt rm_ivt_desc\n"
    "  ljmp $0x68, $(rm16p - 0xe0000)\n"
    ".code16\n"
    ".globl rm16p\n"
    "rm16p:\n"
    "  mov $0x50, %ax; mov %ax, %ds; mov %ax, %es; mov %ax, %ss; mov %ax, %fs; mov %ax, %gs\n"
    "  mov $0x7000, %esp\n"
    "  mov %cr0, %eax; and $~1, %eax; mov %eax, %cr0\n"
    "  movl $rm_real, %eax\n"                 /* far return: IP = the low 16 bits */
    "  pushw $0xe000; push %ax; lret\n"
    ".globl rm_real\n"
    "rm_real:\n"
    "  xor %ax, %ax; mov %ax, %ss; mov %ax, %es; mov %ax, %fs; mov %ax, %gs\n"
    "  mov $0x1000, %ax; mov %ax, %ds\n"
    /* test i: RM_VEC = 0, resume address, the access, record */
#define RMT(i, insn) \
    "  movw $0xffff, %ss:0x800\n" \
    "  movl $9f, %ss:0x804\n" \
    "  " insn "\n" \
    "9: mov %ss:0x800, %ax; mov %ax, %ss:0x810 + 2*" #i "\n"
    RMT(0, "movb 0xffff, %al")                /* byte at 0xffff: fine */
    RMT(1, "movw 0xffff, %ax")                /* word at 0xffff: #GP */
    RMT(2, "movw 0xfffe, %ax")                /* word at 0xfffe: fine */
    RMT(3, "movl 0xfffd, %eax")               /* dword at 0xfffd: #GP */
    RMT(4, "mov $0xffff, %bp; movw (%bp), %ax")   /* SS: #SS */
    RMT(5, "mov $0xffff, %di; movw %ax, %es:(%di)") /* ES write: #GP */
    RMT(6, "mov $0xfffe, %si; lodsl")         /* dword at 0xfffe: #GP */
    RMT(7, "movw %ss:0xfffe, %ax")            /* fine */
#undef RMT
    "  mov %cr0, %eax; or $1, %eax; mov %eax, %cr0\n"
    "  ljmpl $0x08, $rm_back32\n"
    /* handlers: record the vector, resume at 0:0x804 */
    ".globl rm_gp\n"
    "rm_gp: movw $13, %ss:0x800; jmp 8f\n"
    ".globl rm_ss\n"
    "rm_ss: movw $12, %ss:0x800\n"
    "8: push %bp; mov %sp, %bp; push %ax\n"
    "  mov %ss:0x804, %ax; mov %ax, 2(%bp)\n"
    "  pop %ax; pop %bp; iret\n"
    ".code32\n"
    "rm_back32:\n"
    "  mov $0x10, %ax; mov %ax, %ds; mov %ax, %es; mov %ax, %ss\n"
    "  xor %ax, %ax; mov %ax, %fs; mov %ax, %gs\n"
    "  mov rm_saved_esp, %esp\n"
    "  lidt rm_saved_idt\n"
    "  pop %ebp; pop %edi; pop %esi; pop %ebx\n"
    "  ret\n"
    ".section .rodata\n"
    "rm_ivt_desc: .word 0x3ff\n .long 0\n"
    ".bss\n"
    ".balign 8\n"
    "rm_saved_esp: .long 0\n"
    "rm_saved_idt: .word 0\n .long 0\n"
    ".text\n");

static void test_rm_limits(void)
{
    printf("real-mode segment limits\n");
    if ((uintptr_t)rm_real >= 0xF0000 || (uintptr_t)rm16p >= 0xF0000 || (uintptr_t)rm_ss >= 0xF0000)
        rt_panic("real-mode code at %p is outside the E000 segment", rm_real);
    rt_gdt_set(SEL_CODE16_E, rt_seg_desc(0xE0000, 0xFFFF, 0x9A, 0));
    volatile u16 *ivt = (volatile u16 *)0;
    ivt[13 * 2] = (u16)((uintptr_t)rm_gp - 0xE0000);
    ivt[13 * 2 + 1] = 0xE000;
    ivt[12 * 2] = (u16)((uintptr_t)rm_ss - 0xE0000);
    ivt[12 * 2 + 1] = 0xE000;
    for (int i = 0; i < RM_NTEST; i++)
        RM_RES[i] = 0xdead;
    sdm_rm_walk();
    static const char *const names[RM_NTEST] = {
        "real mode: byte at ds:0xffff", "real mode: word at ds:0xffff: #GP",
        "real mode: word at ds:0xfffe", "real mode: dword at ds:0xfffd: #GP",
        "real mode: word at ss:0xffff (bp): #SS", "real mode: word write es:0xffff: #GP",
        "real mode: lodsl at ds:0xfffe: #GP", "real mode: word at ss:0xfffe",
    };
    static const int want[RM_NTEST] = { -1, EXC_GP, -1, EXC_GP, EXC_SS, EXC_GP, EXC_GP, -1 };
    for (int i = 0; i < RM_NTEST; i++)
        SHOWV(names[i], (int16_t)RM_RES[i], want[i]);
    SHOW("back in pm32: cs", read_seg(cs), SEL_KCODE32);
}
#endif

void test_main(void)
{
    test_rf();
    test_msr();
    test_cr4();
    test_push_seg();
    test_syscall();
#ifndef RT_LM64
    test_null_sel();
    test_pm_limits();
    test_rm_limits();
#endif
}
