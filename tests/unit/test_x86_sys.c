/* System instructions (targets/x86/sys.c): the CPUID model, MSR rules,
 * MOV CR checks, IOPL and the TSS I/O bitmap, POPF/CLI/HLT privilege
 * rules, SYSENTER/SYSEXIT, descriptor-table registers. */
#define X86F_STD_NAMES
#include "x86_fixture.h"

TestSuite(sys, .init = x86f_setup_std, .fini = x86f_teardown);

static void assert_gp0_at(uint32_t eip)
{
    assert_in_handler(X86_EXC_GP);
    cr_assert_eq(rd32((uint32_t)cpu->regs[X86_RSP]), 0);
    cr_assert_eq(rd32((uint32_t)cpu->regs[X86_RSP] + 4), eip);
}

Test(sys, cpuid_model)
{
    uint32_t r[4];
    x86_cpuid(cpu, 0, 0, r);
    cr_assert_eq(r[0], 0xd);
    cr_assert_eq(r[1], 0x756e6547);
    cr_assert_eq(r[3], 0x49656e69);
    cr_assert_eq(r[2], 0x6c65746e);
    cpu->has_apic = false;
    cpu->cr4 = 0;
    x86_cpuid(cpu, 1, 0, r);
    cr_assert_eq(r[0], 0x6fb);
    cr_assert_eq(r[1], 0x800);
    cr_assert_eq(r[2], 0x04d82201);
    cr_assert_eq(r[3], 0x078bb97d);
    cpu->has_apic = true;
    cpu->apic_base = 0xfee00900;        /* BSP, enabled */
    cpu->cr4 = X86_CR4_OSXSAVE;
    x86_cpuid(cpu, 1, 0, r);
    cr_assert_eq(r[2], 0x0cd82201);
    cr_assert_eq(r[3], 0x078bbb7d);
    /* APIC globally disabled through IA32_APIC_BASE.EN: the flag clears. */
    cpu->apic_base = 0xfee00100;
    x86_cpuid(cpu, 1, 0, r);
    cr_assert_eq(r[3], 0x078bb97d);
    cpu->apic_base = 0xfee00900;
    x86_cpuid(cpu, 7, 0, r);
    cr_assert_eq(r[1], 0x108);
    x86_cpuid(cpu, 0xd, 0, r);
    cr_assert_eq(r[0], 3);
    cr_assert_eq(r[2], 576);
    x86_cpuid(cpu, 0x80000001, 0, r);
    cr_assert_eq(r[2], 0x21);
    cr_assert_eq(r[3], 0x2c100800);
    x86_cpuid(cpu, 0x80000008, 0, r);
    cr_assert_eq(r[0], 0x3028);
    char b[49] = { 0 };
    for (unsigned i = 0; i < 3; i++)
        x86_cpuid(cpu, 0x80000002 + i, 0, (uint32_t *)(b + 16 * i));
    cr_assert_str_eq(b, "Tandem Virtual CPU");
    /* Unknown leaves: the highest basic leaf (with the subleaf). */
    uint32_t u[4];
    x86_cpuid(cpu, 0x12345678, 1, u);
    x86_cpuid(cpu, 0xd, 1, r);
    cr_assert_arr_eq(u, r, sizeof(r));
    x86_cpuid(cpu, 0x80000009, 0, u);
    x86_cpuid(cpu, 0xd, 0, r);
    cr_assert_arr_eq(u, r, sizeof(r));

    X86CPU *c32 = x86_cpu_create(&mach, 32);
    x86_cpuid(c32, 0x80000001, 0, r);
    cr_assert_eq(r[3], 0x08100000);                 /* NX RDTSCP; no LM/SYSCALL */
    x86_cpuid(c32, 0x80000008, 0, r);
    cr_assert_eq(r[0], 0x24);
    x86_cpu_free(c32);
}

/* mov ecx, msr; mov eax, lo; mov edx, hi; wrmsr; hlt */
static void wrmsr_prog(uint32_t msr, uint64_t v)
{
    PUT(CODE, 0xb9, msr, msr >> 8, msr >> 16, msr >> 24,
        0xb8, (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24),
        0xba, (uint8_t)(v >> 32), (uint8_t)(v >> 40), (uint8_t)(v >> 48), (uint8_t)(v >> 56),
        0x0f, 0x30, 0xf4);
}

Test(sys, msr_rules)
{
    go(0);
    wrmsr_prog(0x277, 0x0007040600070402ull);       /* PAT type 2: invalid */
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_gp0_at(CODE + 15);
    cr_assert_eq(cpu->pat, 0x0007040600070406ull);

    go(0);
    wrmsr_prog(0xc0000080, 0x4);                    /* EFER reserved bit */
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_in_handler(X86_EXC_GP);

    go(0);
    wrmsr_prog(0xc0000080, X86_EFER_SCE | X86_EFER_NXE | X86_EFER_LME | X86_EFER_LMA);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(cpu->efer, X86_EFER_SCE | X86_EFER_NXE | X86_EFER_LME); /* LMA read-only */

    go(0);
    /* mov ecx, 0xfe; rdmsr; hlt */
    PUT(CODE, 0xb9, 0xfe, 0, 0, 0, 0x0f, 0x32, 0xf4);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(cpu->regs[X86_RAX], 0x508);
    cr_assert_eq(cpu->regs[X86_RDX], 0);

    go(0);
    PUT(CODE, 0xb9, 0x3a, 0, 0, 0, 0x0f, 0x32, 0xf4);   /* unknown MSR */
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_gp0_at(CODE + 5);

    go(0);
    wrmsr_prog(0x200, 0x80000000ull | (1ull << 40));   /* PHYSBASE above 40 bits */
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_in_handler(X86_EXC_GP);
}

Test(sys, tsc_write_moves_offset)
{
    go(0);
    /* wrmsr TSC = 1000000; rdtsc; hlt */
    PUT(CODE, 0xb9, 0x10, 0, 0, 0, 0xb8, 0x40, 0x42, 0x0f, 0x00, 0x31, 0xd2,
        0x0f, 0x30, 0x0f, 0x31, 0xf4);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    uint64_t t = cpu->regs[X86_RAX] | (cpu->regs[X86_RDX] << 32);
    cr_assert(t >= 1000000 && t < 1000000 + 1000, "tsc %llu", (unsigned long long)t);
}

Test(sys, mov_cr_checks)
{
    go(0);
    /* mov eax, 0x80000010 (PG without PE); mov cr0, eax */
    PUT(CODE, 0xb8, 0x10, 0, 0, 0x80, 0x0f, 0x22, 0xc0, 0xf4);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_gp0_at(CODE + 5);

    go(0);
    PUT(CODE, 0xb8, 0x01, 0, 0, 0, 0x0f, 0x22, 0xe0, 0xf4);   /* CR4.VME: not offered */
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_gp0_at(CODE + 5);

    go(0);
    cpu->efer = X86_EFER_LME;
    PUT(CODE, 0x0f, 0x20, 0xc0, 0x0d, 0, 0, 0, 0x80, 0x0f, 0x22, 0xc0, 0xf4);  /* PG, no PAE */
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_gp0_at(CODE + 8);
    cr_assert_eq(cpu->efer & X86_EFER_LMA, 0);

    go(0);
    /* mov eax, cr0; and eax, ~(CD|NW) ; or eax, NW; mov cr0, eax: NW without CD */
    PUT(CODE, 0x0f, 0x20, 0xc0, 0x25, 0xff, 0xff, 0xff, 0x9f, 0x0d, 0, 0, 0, 0x20,
        0x0f, 0x22, 0xc0, 0xf4);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_gp0_at(CODE + 13);

    go(3);
    PUT(CODE, 0x0f, 0x20, 0xc0);                    /* mov eax, cr0 at CPL 3 */
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_in_handler(X86_EXC_GP);
    cr_assert_eq(rd32(STK0 - 20), CODE);
}

Test(sys, dr_aliases)
{
    go(0);
    /* mov eax, dr4 (alias of DR6); hlt */
    PUT(CODE, 0x0f, 0x21, 0xe0, 0xf4);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(cpu->regs[X86_RAX], 0xffff0ff0);
    go(0);
    cpu->cr4 |= X86_CR4_DE;
    PUT(CODE, 0x0f, 0x21, 0xe0, 0xf4);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_in_handler(X86_EXC_UD);
}

Test(sys, io_bitmap)
{
    go(3);
    ram[TSS + 0x68 + 0x60 / 8] = 0x02;              /* port 0x61 denied */
    PUT(CODE, 0xe4, 0x60, 0xe4, 0x61);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_in_handler(X86_EXC_GP);
    cr_assert_eq(rd32(STK0 - 24), 0);
    cr_assert_eq(rd32(STK0 - 20), CODE + 2);
    cr_assert_eq(cpu->regs[X86_RAX] & 0xff, 0xff);  /* unmapped port */
}

Test(sys, popf_cli_hlt_privilege)
{
    go(3);
    cpu->eflags |= X86_IF;
    /* push 0x3000 (IOPL 3, IF 0); popf; cli */
    PUT(CODE, 0x68, 0x00, 0x30, 0x00, 0x00, 0x9d, 0xfa);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_in_handler(X86_EXC_GP);                  /* CLI: CPL 3 > IOPL 0 */
    cr_assert_eq(rd32(STK0 - 20), CODE + 6);
    cr_assert_eq(rd32(STK0 - 16 + 4) & (X86_IF | X86_IOPL), X86_IF);

    go(3);
    PUT(CODE, 0xf4);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_in_handler(X86_EXC_GP);
    cr_assert_eq(rd32(STK0 - 20), CODE);
}

Test(sys, sti_shadow)
{
    go(0);
    PUT(CODE, 0xfb, 0x90, 0xf4);
    run(1);
    cr_assert(cpu->eflags & X86_IF);
    cr_assert(cpu->inhibit_irq);
}

Test(sys, sysenter_sysexit)
{
    go(3);
    cpu->sysenter_cs = S_CODE0;
    cpu->sysenter_esp = 0x6000;
    cpu->sysenter_eip = HND + 0x300;
    gdt(2 + 1, mkdesc(0, 0xfffff, 0xb, 3, 0xc, true)); /* CS + 16 | 3 = 0x1b */
    PUT(CODE, 0x0f, 0x34);
    /* sysexit to edx = CODE + 0x20, ecx = 0x8800 */
    PUT(HND + 0x300, 0xba, 0x20, 0x00, 0x01, 0x00, 0xb9, 0x00, 0x88, 0, 0, 0x0f, 0x35);
    PUT(CODE + 0x20, 0x90);
    run(1);
    cr_assert_eq(x86_cpl(cpu), 0);
    cr_assert_eq(cpu->seg[X86_CS].selector, S_CODE0);
    cr_assert_eq(cpu->seg[X86_SS].selector, S_DATA0);
    cr_assert_eq(cpu->regs[X86_RSP], 0x6000);
    cr_assert_eq(cpu->rip, HND + 0x300);
    run(4);
    cr_assert_eq(x86_cpl(cpu), 3);
    cr_assert_eq(cpu->seg[X86_CS].selector, 0x1b);
    cr_assert_eq(cpu->seg[X86_SS].selector, 0x23);
    cr_assert_eq(cpu->regs[X86_RSP], 0x8800);
    cr_assert_eq(cpu->rip, CODE + 0x21);
}

Test(sys, sgdt_lgdt)
{
    go(0);
    wr16(0x5000, 0x1234);
    wr32(0x5002, 0x00abcdef);
    /* lgdt [0x5000]; sgdt [0x5010]; sidt [0x5020]; hlt */
    PUT(CODE, 0x0f, 0x01, 0x15, 0x00, 0x50, 0, 0, 0x0f, 0x01, 0x05, 0x10, 0x50, 0, 0,
        0x0f, 0x01, 0x0d, 0x20, 0x50, 0, 0, 0xf4);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(cpu->gdt.limit, 0x1234);
    cr_assert_eq(cpu->gdt.base, 0xabcdef);
    cr_assert_eq(rd64(0x5010) & 0xffffffffffffull, 0xabcdef1234ull);
    cr_assert_eq(rd64(0x5020) & 0xffff, 256 * 8 - 1);
}
