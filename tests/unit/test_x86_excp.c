/* Exception and interrupt delivery (targets/x86/excp.c): stack frames of
 * real-mode, protected-mode and long-mode delivery, privilege changes
 * through the TSS, error codes, the gate DPL check of INT n, IST, double
 * and triple faults.  Small programs in RAM, run through CpuOps. */
#define X86F_STD_NAMES
#include "x86_fixture.h"

TestSuite(excp, .init = x86f_setup_std, .fini = x86f_teardown);

Test(excp, real_mode_int)
{
    cpu->seg[X86_CS].selector = 0x1000;
    cpu->seg[X86_CS].base = 0x10000;
    cpu->rip = 0;
    cpu->regs[X86_RSP] = STK;
    ivt(0x21, 0x2000, 0x210);                       /* 2000:0210 = HND + 16 * 0x21 */
    PUT(CODE, 0xfb, 0xcd, 0x21);                    /* sti; int 0x21 */
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_in_handler(0x21);
    cr_assert_eq(cpu->regs[X86_RSP], STK - 6);
    cr_assert_eq(rd32(STK - 6) & 0xffff, 3);        /* IP after INT */
    cr_assert_eq(rd32(STK - 4) & 0xffff, 0x1000);
    cr_assert_eq(rd32(STK - 2) & 0xffff, 0x202);    /* FLAGS with IF */
    cr_assert_eq(cpu->eflags & X86_IF, 0);
    cr_assert_eq(cpu->icount, 3);                   /* sti, int, hlt */
}

Test(excp, pm32_fault_frame)
{
    enter_pm32(0);
    cpu->eflags |= X86_IF;
    PUT(CODE, 0x0f, 0x0b);                          /* ud2 */
    cpu->rip = CODE;
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_in_handler(X86_EXC_UD);
    cr_assert_eq(cpu->regs[X86_RSP], STK - 12);
    cr_assert_eq(rd32(STK - 12), CODE);
    cr_assert_eq(rd32(STK - 8), S_CODE0);
    /* Fault-class exception: RF set in the image; IF cleared (int gate). */
    cr_assert_eq(rd32(STK - 4), 0x10202);
    cr_assert_eq(cpu->eflags & (X86_IF | X86_RF), 0);
    cr_assert_eq(cpu->icount, 1);                   /* only the HLT */
}

Test(excp, pm32_error_code)
{
    enter_pm32(0);
    /* mov ax, 0x38; mov ds, ax: descriptor not present -> #NP(0x38) */
    PUT(CODE, 0x66, 0xb8, 0x38, 0x00, 0x8e, 0xd8);
    cpu->rip = CODE;
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_in_handler(X86_EXC_NP);
    cr_assert_eq(cpu->regs[X86_RSP], STK - 16);
    cr_assert_eq(rd32(STK - 16), 0x38);
    cr_assert_eq(rd32(STK - 12), CODE + 4);
    cr_assert_eq(cpu->icount, 2);
}

Test(excp, pm32_privilege_change)
{
    enter_pm32(3);
    idt32(0x80, 0xf, 3);                            /* trap gate, DPL 3 */
    cpu->eflags |= X86_IF;
    PUT(CODE, 0xcd, 0x80);
    cpu->rip = CODE;
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_in_handler(0x80);
    cr_assert_eq(x86_cpl(cpu), 0);
    cr_assert_eq(cpu->seg[X86_SS].selector, S_DATA0);
    cr_assert_eq(cpu->regs[X86_RSP], STK0 - 20);
    cr_assert_eq(rd32(STK0 - 20), CODE + 2);
    cr_assert_eq(rd32(STK0 - 16), S_CODE3);
    cr_assert_eq(rd32(STK0 - 12), 0x202);           /* soft int: RF 0 */
    cr_assert_eq(rd32(STK0 - 8), STK);
    cr_assert_eq(rd32(STK0 - 4), S_DATA3);
    cr_assert(cpu->eflags & X86_IF);                /* trap gate keeps IF */
    cr_assert_eq(cpu->icount, 2);
}

Test(excp, soft_int_gate_dpl)
{
    enter_pm32(3);
    PUT(CODE, 0xcd, 0x81);                          /* gate DPL 0 < CPL 3 */
    cpu->rip = CODE;
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_in_handler(X86_EXC_GP);
    cr_assert_eq(rd32(STK0 - 24), 0x81 * 8 + 2);    /* IDT, EXT = 0 */
    cr_assert_eq(rd32(STK0 - 20), CODE);            /* INT did not retire */
    cr_assert_eq(cpu->icount, 1);
}

Test(excp, not_present_gate)
{
    enter_pm32(0);
    wr64(IDT + 0x40 * 8, rd64(IDT + 0x40 * 8) & ~(1ull << 47));
    PUT(CODE, 0xcd, 0x40);
    cpu->rip = CODE;
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_in_handler(X86_EXC_NP);
    cr_assert_eq(rd32(STK - 16), 0x40 * 8 + 2);
}

Test(excp, double_fault)
{
    enter_pm32(0);
    cpu->idt.limit = 9 * 8 - 1;                     /* vectors 0..8 only */
    PUT(CODE, 0x66, 0xb8, 0x38, 0x00, 0x8e, 0xd8);  /* #NP -> #GP -> #DF */
    cpu->rip = CODE;
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_in_handler(X86_EXC_DF);
    cr_assert_eq(rd32(STK - 16), 0);
    cr_assert_eq(rd32(STK - 12), CODE + 4);
    cr_assert(!mach.reset_requested);
}

Test(excp, benign_then_contributory_is_serial)
{
    enter_pm32(0);
    cpu->idt.limit = 14 * 8 - 1;                    /* #UD gate missing... */
    wr64(IDT + 6 * 8, 0);                           /* ...as a null gate */
    PUT(CODE, 0x0f, 0x0b);
    cpu->rip = CODE;
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_in_handler(X86_EXC_GP);
    cr_assert_eq(rd32(STK - 16), 6 * 8 + 2 + 1);    /* IDT | EXT */
}

Test(excp, triple_fault_resets)
{
    enter_pm32(0);
    cpu->idt.limit = 0;
    PUT(CODE, 0x0f, 0x0b);
    cpu->rip = CODE;
    run(100);
    cr_assert(mach.reset_requested);
}

Test(excp, nmi_blocked_until_iret)
{
    cpu->seg[X86_CS].selector = 0x1000;
    cpu->seg[X86_CS].base = 0x10000;
    cpu->rip = 0;
    cpu->regs[X86_RSP] = STK;
    wr32(2 * 4, (0x2000u << 16) | 0x20);            /* NMI -> 2000:0020 */
    PUT(HND + 0x20, 0x90, 0xcf);                    /* nop; iret */
    PUT(CODE, 0x90, 0x90, 0x90, 0x90, 0xf4);
    x86_cpu_nmi(cpu);
    run(1);                                         /* enter; nop */
    cr_assert(cpu->nmi_blocked);
    x86_cpu_nmi(cpu);                               /* held while blocked */
    cr_assert(cpu->nmi_pending);
    run(1);                                         /* iret */
    cr_assert(!cpu->nmi_blocked);
}

/* Long mode: identity map of the first 4 MiB with 2 MiB pages. */
static void enter_lm64(unsigned cpl)
{
    std_gdt();
    gdt(11, mkdesc(0, 0xfffff, 0xb, 3, 0xa, true));     /* 0x5b: 64-bit code, DPL 3 */
    cpu->gdt.limit = 12 * 8 - 1;
    map_4m(0x100000, true);
    cpu->cr3 = 0x100000;
    cpu->cr4 = X86_CR4_PAE;
    cpu->efer = X86_EFER_LME | X86_EFER_LMA;
    cpu->cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_ET;
    x86_tlb_flush(cpu, false);
    for (unsigned v = 0; v < 256; v++)
        idt_gate(IDT, v, true, HND + 16 * v, S_CODE64, 0xe, 0);
    cpu->idt.base = IDT;
    cpu->idt.limit = 256 * 16 - 1;
    wr64(TSS + 4, STK0);                            /* RSP0 */
    wr64(TSS + 0x24, 0x6008);                       /* IST1 (unaligned) */
    x86_seg_from_desc(&cpu->tr, S_TSS64, rd64(GDT + S_TSS64) | (2ull << 40));
    load(X86_CS, cpl ? 0x5b : S_CODE64);
    load(X86_SS, cpl ? S_DATA3 : S_DATA0);
    cpu->regs[X86_RSP] = STK;
    x86_update_hflags(cpu);
    cr_assert(cpu->hflags & X86_HF_CS64);
}

Test(excp, lm64_ist_frame)
{
    enter_lm64(0);
    wr64(IDT + 6 * 16, rd64(IDT + 6 * 16) | (1ull << 32));     /* #UD on IST1 */
    PUT(CODE, 0x0f, 0x0b);
    cpu->rip = CODE;
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_in_handler(X86_EXC_UD);
    cr_assert_eq(cpu->regs[X86_RSP], 0x6000 - 40);  /* IST aligned to 16 */
    cr_assert_eq(rd64(0x6000 - 40), CODE);
    cr_assert_eq(rd64(0x6000 - 32), S_CODE64);
    cr_assert_eq(rd64(0x6000 - 24), 0x10002);
    cr_assert_eq(rd64(0x6000 - 16), STK);
    cr_assert_eq(rd64(0x6000 - 8), S_DATA0);
}

Test(excp, lm64_privilege_change)
{
    enter_lm64(3);
    wr64(IDT + 0x80 * 16, rd64(IDT + 0x80 * 16) | (3ull << 45));
    PUT(CODE, 0xcd, 0x80);
    cpu->rip = CODE;
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_in_handler(0x80);
    cr_assert_eq(x86_cpl(cpu), 0);
    cr_assert_eq(cpu->seg[X86_SS].selector, 0);     /* null SS, RPL 0 */
    cr_assert_eq(cpu->regs[X86_RSP], STK0 - 40);
    cr_assert_eq(rd64(STK0 - 40), CODE + 2);
    cr_assert_eq(rd64(STK0 - 32), 0x5b);
    cr_assert_eq(rd64(STK0 - 16), STK);
    cr_assert_eq(rd64(STK0 - 8), S_DATA3);
}

Test(excp, lm64_error_code_and_iretq)
{
    enter_lm64(0);
    /* 0: mov ax, 0x38; 4: mov ds, ax (#NP); handler: add rsp, 8; iretq */
    PUT(CODE, 0x66, 0xb8, 0x38, 0x00, 0x8e, 0xd8, 0xf4);
    PUT(HND + 16 * X86_EXC_NP, 0x48, 0x83, 0xc4, 0x08, 0x48, 0xcf);
    cpu->rip = CODE;
    run(2);                                         /* mov, (fault), add */
    cr_assert_eq(rd64(STK - 48), 0x38);             /* error code */
    cr_assert_eq(rd64(STK - 40), CODE + 4);
    wr64(GDT + S_NP, rd64(GDT + S_NP) | (1ull << 47));
    run(1);                                         /* iretq */
    cr_assert_eq(cpu->rip, CODE + 4);
    cr_assert_eq(cpu->regs[X86_RSP], STK);
    cr_assert_eq(cpu->seg[X86_SS].selector, S_DATA0);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(cpu->seg[X86_DS].selector, S_NP);
    cr_assert(rd64(GDT + S_NP) & (1ull << 40));    /* accessed */
}
