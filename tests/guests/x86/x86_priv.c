/* x86_priv (pm32, lm64): privilege levels and protection.
 *   - ring 3 through IRET (rt_user_call), INT 0x80 through a DPL-3 gate back
 *     to ring 0 with the TSS stack switch (frame contents and position);
 *   - SYSENTER/SYSEXIT (both modes), SYSCALL/SYSRET (lm64 only: Tandem
 *     raises #UD outside 64-bit mode like Intel, QEMU follows AMD);
 *   - #GP(0) for privileged instructions at CPL 3;
 *   - the TSS I/O permission bitmap and IOPL;
 *   - pm32: a far call through a call gate to ring 0 copying 2 parameters;
 *   - segment loads that fault with selector error codes (#GP/#NP/#SS);
 *   - LAR/LSL/VERR/VERW at CPL 0 and 3;
 *   - INT n through not-present and DPL-0 gates, #DF from a not-present
 *     #GP gate.
 * Pushed RFLAGS are printed without RF (Intel sets it for faults, QEMU does
 * not: docs/x86-cpu.md). */
#include "rt.h"

RT_TEST_NAME("x86_priv");

#define SEL_RODATA 0x68
#define SEL_CGATE 0x70      /* pm32 */
#define SEL_XCODE 0x78      /* execute-only code */
#define SEL_NPDATA 0x80     /* not present */
#define SEL_IOTSS 0x88      /* TSS with an I/O bitmap (16 bytes in lm64) */
#define RF (1u << 16)

static void show(const char *what, u64 got, u64 want, int line)
{
    printf("  %-36s = %llx%s\n", what, (unsigned long long)got, got == want ? "" : "  <-- wrong");
    if (got != want)
        rt_check_fail(__FILE__, line, what, got, want);
}
#define SHOW(what, got, want) show(what, got, want, __LINE__)

/* Error codes naming an IDT gate are vector * 8 + 2 (SDM 6.13, also with
 * the 16-byte gates of long mode); QEMU 7.2 uses vector * 16 + 2 in long
 * mode, so there they are neither printed nor checked (README). */
#ifdef RT_LM64
#define IDT_ERR(v) -2
#else
#define IDT_ERR(v) ((v) * 8 + 2)
#endif

static void show_fault(const char *what, int v, int want_v, long want_err, int line)
{
    if (v < 0)
        printf("  %-36s no fault\n", what);
    else if (want_err == -2)
        printf("  %-36s vector %d\n", what, v);
    else
        printf("  %-36s vector %d err=%lx\n", what, v, (unsigned long)rt_fault.err);
    if (v != want_v)
        rt_check_fail(__FILE__, line, what, (u64)(long)v, (u64)want_v);
    else if (want_err >= 0 && rt_fault.err != (ureg)want_err)
        rt_check_fail(__FILE__, line, what, rt_fault.err, (u64)want_err);
}
#define FAULT(what, vec, err, stmt) show_fault(what, TRY(stmt), vec, err, __LINE__)

/* ---------------------------------------------------------- user code */
ureg u_hlt(ureg), u_cli(ureg), u_sti(ureg), u_rdcr0(ureg), u_wrcr3(ureg), u_lgdt(ureg),
    u_lidt(ureg), u_ltr(ureg), u_wrmsr(ureg), u_rdmsr(ureg), u_invlpg(ureg), u_clts(ureg),
    u_rddr7(ureg), u_wbinvd(ureg), u_in80(ureg), u_out80(ureg), u_out81(ureg), u_outw7f(ureg),
    u_outw80(ureg), u_int80(ureg), u_int82(ureg), u_sysenter(ureg), u_lar_kdata(ureg),
    u_verr_kdata(ureg), u_lar_udata(ureg), u_verw_ucode(ureg);
extern const char u_int80_ret[], u_se_ret[];
void se_entry(void);
u32 se_k_esp, se_k_cs, se_k_ss, se_k_fl, se_u_esp, se_u_eip, se_r_cs, se_r_ss, se_r_esp;
ureg se_k_sp, se_u_sp, se_r_sp, se_u_ip;
#ifdef RT_LM64
ureg u_syscall(ureg);
extern const char u_sc_ret[];
void sc_entry(void);
ureg sc_rcx, sc_r11, sc_k_fl, sc_k_sp;
u32 sc_k_cs, sc_k_ss, sc_r_cs, sc_r_ss;
ureg sc_r_fl;
#else
ureg u_cgate(ureg);
extern const char u_cg_ret[];
void cg_target(void);
u32 cg_k_esp, cg_k_cs, cg_k_ss, cg_eip, cg_cs, cg_p1, cg_p2, cg_esp, cg_ss, cg_u_esp;
#endif
u8 se_stack[4096] __attribute__((aligned(16)));
u8 u_dummy[16] __attribute__((aligned(16)));

#ifdef RT_LM64
#define A(x) x "(%rip)"
__asm__(
    ".text\n.code64\n"
    "u_hlt: hlt; ret\n"
    "u_cli: cli; ret\n"
    "u_sti: sti; ret\n"
    "u_rdcr0: mov %cr0, %rax; ret\n"
    "u_wrcr3: mov %rdi, %cr3; ret\n"
    "u_lgdt: lgdt u_dummy(%rip); ret\n"
    "u_lidt: lidt u_dummy(%rip); ret\n"
    "u_ltr: ltr %ax; ret\n"
    "u_wrmsr: wrmsr; ret\n"
    "u_rdmsr: rdmsr; ret\n"
    "u_invlpg: invlpg u_dummy(%rip); ret\n"
    "u_clts: clts; ret\n"
    "u_rddr7: mov %dr7, %rax; ret\n"
    "u_wbinvd: wbinvd; ret\n"
    "u_in80: in $0x80, %al; xor %eax, %eax; ret\n"
    "u_out80: out %al, $0x80; ret\n"
    "u_out81: out %al, $0x81; ret\n"
    "u_outw7f: out %ax, $0x7f; ret\n"
    "u_outw80: out %ax, $0x80; ret\n"
    "u_int80: mov %rdi, %rax; int $0x80\n"
    "u_int80_ret: ret\n"
    "u_int82: int $0x82; ret\n"
    /* SYSENTER: kernel at se_entry on se_stack, back with SYSEXIT (64-bit) */
    "u_sysenter: mov %rdi, %rax; mov %rsp, %rcx; lea u_se_ret(%rip), %rdx; stc; sysenter\n"
    "u_se_ret: mov %cs, %ecx; mov %ecx, se_r_cs(%rip); mov %ss, %ecx; mov %ecx, se_r_ss(%rip)\n"
    "  mov %rsp, se_r_sp(%rip); ret\n"
    "se_entry: mov %rsp, se_k_sp(%rip); movl $0, se_k_cs(%rip); movw %cs, se_k_cs(%rip)\n"
    "  movl $0, se_k_ss(%rip); movw %ss, se_k_ss(%rip); pushfq; popq %r8; mov %r8d, se_k_fl(%rip)\n"
    "  mov %rcx, se_u_sp(%rip); mov %rdx, se_u_ip(%rip); inc %rax; sysexitq\n"
    /* SYSCALL */
    "u_syscall: mov %rdi, %rax; std; syscall\n"
    "u_sc_ret: pushfq; popq %rdx; mov %rdx, sc_r_fl(%rip); cld\n"
    "  mov %cs, %ecx; mov %ecx, sc_r_cs(%rip); mov %ss, %ecx; mov %ecx, sc_r_ss(%rip); ret\n"
    "sc_entry: mov %rcx, sc_rcx(%rip); mov %r11, sc_r11(%rip); mov %rsp, sc_k_sp(%rip)\n"
    "  movl $0, sc_k_cs(%rip); movw %cs, sc_k_cs(%rip); movl $0, sc_k_ss(%rip); movw %ss, sc_k_ss(%rip)\n"
    "  pushfq; popq sc_k_fl(%rip); inc %rax; sysretq\n"
    /* LAR/VERR at CPL 3 */
    "u_lar_kdata: mov $0xdeadbeef, %eax; mov $0x10, %ecx; lar %ecx, %eax; jz 1f; or $1, %ah; 1: ret\n"
    "u_lar_udata: mov $0xdeadbeef, %eax; mov $0x33, %ecx; lar %ecx, %eax; ret\n"
    "u_verr_kdata: xor %eax, %eax; mov $0x10, %ecx; verr %cx; setz %al; ret\n"
    "u_verw_ucode: xor %eax, %eax; mov $0x2b, %ecx; verw %cx; setz %al; ret\n"
);
#else
__asm__(
    ".text\n.code32\n"
    "u_hlt: hlt; ret\n"
    "u_cli: cli; ret\n"
    "u_sti: sti; ret\n"
    "u_rdcr0: mov %cr0, %eax; ret\n"
    "u_wrcr3: mov %eax, %cr3; ret\n"
    "u_lgdt: lgdt u_dummy; ret\n"
    "u_lidt: lidt u_dummy; ret\n"
    "u_ltr: ltr %ax; ret\n"
    "u_wrmsr: wrmsr; ret\n"
    "u_rdmsr: rdmsr; ret\n"
    "u_invlpg: invlpg u_dummy; ret\n"
    "u_clts: clts; ret\n"
    "u_rddr7: mov %dr7, %eax; ret\n"
    "u_wbinvd: wbinvd; ret\n"
    "u_in80: in $0x80, %al; xor %eax, %eax; ret\n"
    "u_out80: out %al, $0x80; ret\n"
    "u_out81: out %al, $0x81; ret\n"
    "u_outw7f: out %ax, $0x7f; ret\n"
    "u_outw80: out %ax, $0x80; ret\n"
    "u_int80: mov 4(%esp), %eax; int $0x80\n"
    "u_int80_ret: ret\n"
    "u_int82: int $0x82; ret\n"
    "u_sysenter: mov 4(%esp), %eax; mov %esp, %ecx; mov $u_se_ret, %edx; stc; sysenter\n"
    "u_se_ret: mov %cs, %ecx; mov %ecx, se_r_cs; mov %ss, %ecx; mov %ecx, se_r_ss\n"
    "  mov %esp, se_r_sp; ret\n"
    "se_entry: mov %esp, se_k_sp; movl $0, se_k_cs; movw %cs, se_k_cs\n"
    "  movl $0, se_k_ss; movw %ss, se_k_ss; pushf; popl se_k_fl\n"
    "  mov %ecx, se_u_sp; mov %edx, se_u_ip; inc %eax; sysexit\n"
    /* call gate: ring 3 -> ring 0 with 2 parameters copied */
    "u_cgate: push %ebx; mov %esp, cg_u_esp; pushl $0x1111; pushl $0x2222; lcall $0x73, $0\n"
    "u_cg_ret: pop %ebx; ret\n"
    "cg_target: mov %esp, cg_k_esp; movl $0, cg_k_cs; movw %cs, cg_k_cs; movl $0, cg_k_ss; movw %ss, cg_k_ss\n"
    "  mov 0(%esp), %eax; mov %eax, cg_eip\n"
    "  mov 4(%esp), %eax; mov %eax, cg_cs\n"
    "  mov 8(%esp), %eax; mov %eax, cg_p1\n"
    "  mov 12(%esp), %eax; mov %eax, cg_p2\n"
    "  mov 16(%esp), %eax; mov %eax, cg_esp\n"
    "  mov 20(%esp), %eax; mov %eax, cg_ss\n"
    "  mov $0x77, %eax\n"
    "  lret $8\n"
    "u_lar_kdata: mov $0xdeadbeef, %eax; mov $0x10, %ecx; lar %ecx, %eax; jz 1f; or $1, %ah; 1: ret\n"
    "u_lar_udata: mov $0xdeadbeef, %eax; mov $0x33, %ecx; lar %ecx, %eax; ret\n"
    "u_verr_kdata: xor %eax, %eax; mov $0x10, %ecx; verr %cx; setz %al; ret\n"
    "u_verw_ucode: xor %eax, %eax; mov $0x2b, %ecx; verw %cx; setz %al; ret\n"
);
#endif

/* ---------------------------------------------------------- tests */
static volatile rt_frame int80_frame;
static volatile uintptr_t int80_frame_at;
static void hook80(rt_frame *f)
{
    int80_frame = *f;
    int80_frame_at = (uintptr_t)&f->ip;
    f->ax = f->ax * 2 + 1;
}

static void test_int80(void)
{
    printf("ring 3 and INT 0x80 (DPL 3 gate):\n");
    rt_set_gate(0x80, 0xE, 3);
    rt_set_hook(0x80, hook80);
    ureg r = rt_user_call(u_int80, 0x1234);
    SHOW("result", r, 0x2469);
    SHOW("frame: ip", int80_frame.ip, (uintptr_t)u_int80_ret);
    SHOW("frame: cs", int80_frame.cs, SEL_UCODE);
    SHOW("frame: flags (RF masked)", int80_frame.flags & ~(ureg)RF, 0x2);
    SHOW("frame: sp", int80_frame.sp, (uintptr_t)rt_user_stack_top - 8);
    SHOW("frame: ss", int80_frame.ss, SEL_UDATA | 3);
    SHOW("frame at TSS stack top - 5 words", rt_trap_stack_top - (u8 *)int80_frame_at, 5 * sizeof(ureg));
    rt_set_hook(0x80, 0);
    rt_set_gate(0x80, 0xE, 0);
    FAULT("int 0x82 (DPL 0 gate) from ring 3", EXC_GP, IDT_ERR(0x82), rt_user_call(u_int82, 0));
    SHOW("fault ip", rt_fault.ip, (uintptr_t)u_int82);
    SHOW("fault cs", rt_fault.cs, SEL_UCODE);
    /* not-present gate at CPL 0 */
    rt_set_gate(0x81, 0xE, 0);
#ifdef RT_LM64
    rt_idt[2 * 0x81] &= ~(1ull << 47);
#else
    rt_idt[0x81] &= ~(1ull << 47);
#endif
    FAULT("int 0x81 (not-present gate)", EXC_NP, IDT_ERR(0x81), __asm__ volatile("int $0x81"));
    rt_set_gate(0x81, 0xE, 0);
}

static void test_sysenter(void)
{
    printf("SYSENTER/SYSEXIT:\n");
    wrmsr(MSR_SYSENTER_CS, SEL_KCODE);
    wrmsr(MSR_SYSENTER_ESP, (uintptr_t)(se_stack + sizeof(se_stack)));
    wrmsr(MSR_SYSENTER_EIP, (uintptr_t)se_entry);
    ureg r = rt_user_call(u_sysenter, 0x4321);
    SHOW("result", r, 0x4322);
    SHOW("kernel cs", se_k_cs, SEL_KCODE);
    SHOW("kernel ss", se_k_ss, SEL_KCODE + 8);
    SHOW("kernel sp", se_k_sp, (uintptr_t)(se_stack + sizeof(se_stack)));
    SHOW("kernel flags (CF kept, IF RF VM cleared)", se_k_fl, 0x3);
    SHOW("rcx/ecx = user sp", se_u_sp, (uintptr_t)rt_user_stack_top - 8);
    SHOW("rdx/edx = return ip", se_u_ip, (uintptr_t)u_se_ret);
#ifdef RT_LM64
    SHOW("user cs after sysexit", se_r_cs, SEL_UCODE64 | 3);
    SHOW("user ss after sysexit", se_r_ss, SEL_UDATA2 | 3);
#else
    SHOW("user cs after sysexit", se_r_cs, SEL_UCODE32 | 3);
    SHOW("user ss after sysexit", se_r_ss, SEL_UDATA | 3);
#endif
    SHOW("user sp after sysexit", se_r_sp, se_u_sp);
}

#ifdef RT_LM64
static void test_syscall(void)
{
    printf("SYSCALL/SYSRET:\n");
    wrmsr(MSR_STAR, ((u64)SEL_UCODE32 << 48) | ((u64)SEL_KCODE << 32));
    wrmsr(MSR_LSTAR, (uintptr_t)sc_entry);
    wrmsr(MSR_FMASK, 0x700);
    FAULT("syscall with EFER.SCE=0", EXC_UD, -1, rt_user_call(u_syscall, 1));
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SCE);
    ureg r = rt_user_call(u_syscall, 0x999);
    SHOW("result", r, 0x99a);
    SHOW("rcx = return rip", sc_rcx, (uintptr_t)u_sc_ret);
    SHOW("r11 = user rflags (DF)", sc_r11, 0x402);
    SHOW("kernel cs", sc_k_cs, SEL_KCODE);
    SHOW("kernel ss", sc_k_ss, SEL_KCODE + 8);
    SHOW("kernel rflags (FMASK applied)", sc_k_fl, 0x2);
    SHOW("kernel rsp (not switched)", sc_k_sp, (uintptr_t)rt_user_stack_top - 8);
    SHOW("user rflags after sysret", sc_r_fl, 0x402);
    SHOW("user cs after sysret", sc_r_cs, SEL_UCODE64 | 3);
    SHOW("user ss after sysret", sc_r_ss, SEL_UDATA | 3);
    wrmsr(MSR_EFER, rdmsr(MSR_EFER) & ~(u64)EFER_SCE);
}
#else
static void test_cgate(void)
{
    printf("call gate (ring 3 -> ring 0, 2 parameters):\n");
    uintptr_t t = (uintptr_t)cg_target;
    rt_gdt_set(SEL_CGATE, (u64)(t & 0xffff) | ((u64)SEL_KCODE32 << 16) | (2ull << 32) |
                          (0xECull << 40) | ((u64)(t >> 16) << 48));
    ureg r = rt_user_call(u_cgate, 0);
    SHOW("result", r, 0x77);
    SHOW("cs in the gate target", cg_k_cs, SEL_KCODE32);
    SHOW("ss (TSS SS0)", cg_k_ss, SEL_KDATA);
    SHOW("esp = TSS ESP0 - 24", (uintptr_t)rt_trap_stack_top - cg_k_esp, 24);
    SHOW("pushed eip", cg_eip, (uintptr_t)u_cg_ret);
    SHOW("pushed cs", cg_cs, SEL_UCODE32 | 3);
    SHOW("parameter 1", cg_p1, 0x2222);
    SHOW("parameter 2", cg_p2, 0x1111);
    SHOW("pushed esp", cg_esp, cg_u_esp - 8);
    SHOW("pushed ss", cg_ss, SEL_UDATA | 3);
}
#endif

static void test_privileged(void)
{
    static const struct { const char *name; ureg (*fn)(ureg); } t[] = {
        { "hlt", u_hlt }, { "cli (IOPL 0)", u_cli }, { "sti (IOPL 0)", u_sti },
        { "mov cr0 -> reg", u_rdcr0 }, { "mov reg -> cr3", u_wrcr3 }, { "lgdt", u_lgdt },
        { "lidt", u_lidt }, { "ltr", u_ltr }, { "wrmsr", u_wrmsr }, { "rdmsr", u_rdmsr },
        { "invlpg", u_invlpg }, { "clts", u_clts }, { "mov dr7 -> reg", u_rddr7 },
        { "wbinvd", u_wbinvd }, { "in (IOPL 0, no bitmap)", u_in80 },
        { "out (IOPL 0, no bitmap)", u_out80 },
    };
    printf("privileged instructions at CPL 3:\n");
    for (unsigned i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        FAULT(t[i].name, EXC_GP, 0, rt_user_call(t[i].fn, 0));
        CHECK_EQ(rt_fault.ip, (uintptr_t)t[i].fn);
        CHECK_EQ(rt_fault.cs, SEL_UCODE);
    }
}

static u8 iotss[104 + 8192 + 16] __attribute__((aligned(16)));

static void test_iobitmap(void)
{
    printf("I/O permission bitmap:\n");
    memset(iotss, 0, sizeof(iotss));
    u32 *w = (u32 *)iotss;
#ifdef RT_LM64
    w[1] = (u32)(uintptr_t)rt_trap_stack_top;
    w[2] = 0;
#else
    w[1] = (u32)(uintptr_t)rt_trap_stack_top;
    w[2] = SEL_KDATA;
#endif
    *(u16 *)&iotss[102] = 104;
    memset(iotss + 104, 0xff, 8192 + 1);
    iotss[104 + 0x80 / 8] &= (u8)~1;       /* port 0x80 allowed */
    uintptr_t b = (uintptr_t)iotss;
    rt_gdt_set(SEL_IOTSS, rt_seg_desc((u32)b, 104 + 8192, 0x89, 0));
#ifdef RT_LM64
    rt_gdt_set(SEL_IOTSS + 8, (u64)b >> 32);
#endif
    __asm__ volatile("ltr %w0" :: "r"((u16)SEL_IOTSS) : "memory");
    FAULT("out 0x80 (allowed)", -1, -1, rt_user_call(u_out80, 0));
    FAULT("out 0x81 (denied)", EXC_GP, 0, rt_user_call(u_out81, 0));
    FAULT("out word 0x7f (0x7f denied)", EXC_GP, 0, rt_user_call(u_outw7f, 0));
    FAULT("out word 0x80 (0x81 denied)", EXC_GP, 0, rt_user_call(u_outw80, 0));
    rt_user_flags = 0x3002;   /* IOPL 3 */
    FAULT("cli with IOPL 3", -1, -1, rt_user_call(u_cli, 0));
    rt_user_flags = 0x2;
    /* the INT 0x80 stack switch still uses this TSS's ring-0 stack */
    rt_set_gate(0x80, 0xE, 3);
    rt_set_hook(0x80, hook80);
    SHOW("int 0x80 with this TSS", rt_user_call(u_int80, 5), 11);
    SHOW("frame at its stack top - 5 words", rt_trap_stack_top - (u8 *)int80_frame_at, 5 * sizeof(ureg));
    rt_set_hook(0x80, 0);
    rt_set_gate(0x80, 0xE, 0);
}

static void load_ds(u16 sel) { __asm__ volatile("mov %0, %%ds" :: "r"((u32)sel) : "memory"); }
static void load_fs(u16 sel) { __asm__ volatile("mov %0, %%fs" :: "r"((u32)sel) : "memory"); }
static void load_ss(u16 sel) { __asm__ volatile("mov %0, %%ss" :: "r"((u32)sel) : "memory"); }

static void test_segloads(void)
{
    printf("segment loads:\n");
    rt_gdt_set(SEL_RODATA, rt_seg_desc(0, 0xfffff, 0x90, 0xC));
    rt_gdt_set(SEL_XCODE, rt_seg_desc(0, 0xfffff, 0x98, 0xC));
    rt_gdt_set(SEL_NPDATA, rt_seg_desc(0, 0xfffff, 0x12, 0xC));
    FAULT("ds <- 0xa0 (beyond the GDT limit)", EXC_GP, 0xa0, load_ds(0xa0));
    FAULT("ds <- 0x78 (execute-only code)", EXC_GP, 0x78, load_ds(SEL_XCODE));
    FAULT("ds <- 0x80 (not present)", EXC_NP, 0x80, load_ds(SEL_NPDATA));
    FAULT("fs <- 0x83 (not present, DPL 0 < RPL 3)", EXC_GP, 0x80, load_fs(SEL_NPDATA | 3));
    FAULT("ds <- 0x13 (DPL 0 < RPL 3)", EXC_GP, 0x10, load_ds(0x13));
    FAULT("ds <- 0x58 (TSS)", EXC_GP, 0x58, load_ds(SEL_TSS));
    FAULT("ds <- 0x04 (LDT, no LDT)", EXC_GP, 0x04, load_ds(0x04));
    /* (FS: the C code would write through DS; QEMU does not check writes
     * through a read-only data segment) */
    FAULT("fs <- 0x68 (read-only data)", -1, -1, load_fs(SEL_RODATA));
    FAULT("ss <- 0x80 (not present)", EXC_SS, 0x80, load_ss(SEL_NPDATA));
    FAULT("ss <- 0x68 (read-only data)", EXC_GP, 0x68, load_ss(SEL_RODATA));
    FAULT("ss <- 0x33 (RPL 3 at CPL 0)", EXC_GP, 0x30, load_ss(SEL_UDATA | 3));
    FAULT("ss <- 0x30 (DPL 3 at CPL 0)", EXC_GP, 0x30, load_ss(SEL_UDATA));
    FAULT("ss <- 0x08 (code)", EXC_GP, 0x08, load_ss(SEL_KCODE32));
#ifndef RT_LM64
    FAULT("ss <- 0 (null)", EXC_GP, 0, load_ss(0));
    FAULT("ljmp 0x10:0 (data segment)", EXC_GP, 0x10, __asm__ volatile("ljmp $0x10, $0"));
    FAULT("ljmp 0x80:0 (not-present data)", EXC_GP, 0x80, __asm__ volatile("ljmp $0x80, $0"));
#endif
    load_fs(0);
}

static void test_lar(void)
{
    static const u16 sels[] = { 0x00, 0x08, 0x10, 0x18, 0x2b, 0x33, 0x3b, 0x48, 0x58,
                                SEL_RODATA, 0x70, SEL_XCODE, SEL_NPDATA, 0xa0, 0x13, 0x04 };
    printf("LAR/LSL/VERR/VERW at CPL 0:\n");
    /* Tandem sets the accessed bit of descriptors loaded into CS (far
     * transfers, IRET) and into SS by IRET, as the SDM says; QEMU does not:
     * set it beforehand in the boot descriptors. */
    for (unsigned sel = SEL_KCODE32; sel <= SEL_DATA16; sel += 8)
        if ((rt_gdt[sel >> 3] >> 44) & 1)
            rt_gdt[sel >> 3] |= 1ull << 40;
    for (unsigned i = 0; i < sizeof(sels) / sizeof(sels[0]); i++) {
        u32 s = sels[i], ar = 0xdeadbeef, lim = 0xdeadbeef;
        u8 zl, zs, zr, zw;
        __asm__ volatile("lar %2, %0; setz %1" : "+r"(ar), "=q"(zl) : "r"(s) : "cc");
        __asm__ volatile("lsl %2, %0; setz %1" : "+r"(lim), "=q"(zs) : "r"(s) : "cc");
        __asm__ volatile("verr %w1; setz %0" : "=q"(zr) : "r"(s) : "cc");
        __asm__ volatile("verw %w1; setz %0" : "=q"(zw) : "r"(s) : "cc");
        printf("  sel %02x: lar %u %08lx  lsl %u %08lx  verr %u  verw %u\n", (unsigned)s, zl,
               (unsigned long)ar, zs, (unsigned long)lim, zr, zw);
    }
    printf("at CPL 3:\n");
    SHOW("lar 0x10 (DPL 0): fails, dest kept", rt_user_call(u_lar_kdata, 0) & 0xffffffff, 0xdeadbfef);
    SHOW("lar 0x33", rt_user_call(u_lar_udata, 0) & 0xffffffff, 0x00c0f300);
    SHOW("verr 0x10", rt_user_call(u_verr_kdata, 0), 0);
    SHOW("verw 0x2b (code)", rt_user_call(u_verw_ucode, 0), 0);
}

static void test_df(void)
{
    printf("double fault:\n");
#ifdef RT_LM64
    u64 *g = &rt_idt[2 * EXC_GP];
#else
    u64 *g = &rt_idt[EXC_GP];
#endif
    *g &= ~(1ull << 47);
    FAULT("#GP with a not-present #GP gate", EXC_DF, 0, load_ds(0xa0));
    *g |= 1ull << 47;
    FAULT("#GP again with the gate back", EXC_GP, 0xa0, load_ds(0xa0));
}

void test_main(void)
{
    test_int80();
    test_sysenter();
#ifdef RT_LM64
    test_syscall();
#else
    test_cgate();
#endif
    test_privileged();
    test_segloads();
    test_lar();
    test_df();
    test_iobitmap();
}
