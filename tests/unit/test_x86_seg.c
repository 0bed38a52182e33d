/* Segmentation (targets/x86/seg.c): segment-register loads and their
 * error codes, accessed bits, far JMP/CALL through call gates with
 * parameter copying, RETF/IRET to an outer level, LAR/LSL/VERR/VERW and a
 * task switch.  32-bit protected-mode programs in RAM, run through
 * CpuOps; faults land in HLT handlers. */
#define X86F_STD_NAMES
#include "x86_fixture.h"

TestSuite(seg, .init = x86f_setup_std, .fini = x86f_teardown);

Test(seg, outside_gdt_limit)
{
    go(0);
    PUT(CODE, 0x66, 0xb8, 0x80, 0x00, 0x8e, 0xd8);  /* mov ds, 0x80 */
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_in_handler(X86_EXC_GP);
    cr_assert_eq(rd32(STK - 16), 0x80);
    cr_assert_eq(rd32(STK - 12), CODE + 4);
}

Test(seg, ss_dpl_mismatch)
{
    go(0);
    PUT(CODE, 0x66, 0xb8, 0x23, 0x00, 0x8e, 0xd0);  /* mov ss, 0x23 at CPL 0 */
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_in_handler(X86_EXC_GP);
    cr_assert_eq(rd32(STK - 16), 0x20);
}

Test(seg, null_ss_outside_64bit)
{
    go(0);
    PUT(CODE, 0x31, 0xc0, 0x8e, 0xd0);              /* xor eax, eax; mov ss, ax */
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_in_handler(X86_EXC_GP);
    cr_assert_eq(rd32(STK - 16), 0);
}

Test(seg, null_ds_then_use)
{
    go(0);
    /* xor eax, eax; mov ds, ax (fine); mov eax, [0] (#GP(0)) */
    PUT(CODE, 0x31, 0xc0, 0x8e, 0xd8, 0xa1, 0, 0, 0, 0);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_in_handler(X86_EXC_GP);
    cr_assert(cpu->seg[X86_DS].unusable);
    cr_assert_eq(rd32(STK - 12), CODE + 4);
}

Test(seg, accessed_bit)
{
    go(0);
    gdt(2, mkdesc(0, 0xfffff, 0x2, 0, 0xc, true));  /* data, A clear */
    PUT(CODE, 0x66, 0xb8, 0x10, 0x00, 0x8e, 0xc0, 0xf4);    /* mov es, 0x10 */
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(cpu->seg[X86_ES].type, 3);
    cr_assert(rd64(GDT + 0x10) & (1ull << 40));
}

Test(seg, far_jmp_limit)
{
    go(0);
    /* jmp far 0x50:0x10000 -- beyond the 16-bit segment's limit */
    PUT(CODE, 0xea, 0x00, 0x00, 0x01, 0x00, 0x50, 0x00);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    assert_in_handler(X86_EXC_GP);
    cr_assert_eq(rd32(STK - 16), 0);
    cr_assert_eq(cpu->seg[X86_CS].selector, S_CODE0);
}

Test(seg, far_jmp_16bit_code)
{
    go(0);
    gdt(10, mkdesc(0x10000, 0xffff, 0xb, 0, 0, true));
    PUT(CODE, 0xea, 0x10, 0x00, 0x00, 0x00, 0x50, 0x00);   /* jmp 0x50:0x10 */
    PUT(CODE + 0x10, 0xf4);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(cpu->seg[X86_CS].selector, S_CODE16);
    cr_assert_eq(cpu->rip, 0x11);
    cr_assert_eq(cpu->hflags & X86_HF_CS32, 0);
}

static void call_gate(unsigned idx, uint16_t sel, uint32_t off, unsigned params, unsigned dpl)
{
    gdt(idx, mkgate(off, sel, 0xc, dpl) | ((uint64_t)params << 32));
}

Test(seg, call_gate_inner_and_retf)
{
    go(3);
    call_gate(12, S_CODE0, HND + 0x100, 2, 3);
    cpu->gdt.limit = 16 * 8 - 1;
    /* push 0x11111111; push 0x22222222; call far 0x63:0; nop; nop */
    PUT(CODE, 0x68, 0x11, 0x11, 0x11, 0x11, 0x68, 0x22, 0x22, 0x22, 0x22,
        0x9a, 0, 0, 0, 0, 0x63, 0x00, 0x90, 0x90);
    PUT(HND + 0x100, 0x90, 0xca, 0x08, 0x00);      /* nop; retf 8 */
    run(4);                                         /* push, push, call, nop */
    cr_assert_eq(x86_cpl(cpu), 0);
    cr_assert_eq(cpu->seg[X86_CS].selector, S_CODE0);
    cr_assert_eq(cpu->regs[X86_RSP], STK0 - 24);
    cr_assert_eq(rd32(STK0 - 4), S_DATA3);
    cr_assert_eq(rd32(STK0 - 8), STK - 8);
    cr_assert_eq(rd32(STK0 - 12), 0x11111111);
    cr_assert_eq(rd32(STK0 - 16), 0x22222222);
    cr_assert_eq(rd32(STK0 - 20), S_CODE3);
    cr_assert_eq(rd32(STK0 - 24), CODE + 17);
    run(1);                                         /* retf 8 */
    cr_assert_eq(x86_cpl(cpu), 3);
    cr_assert_eq(cpu->rip, CODE + 17);
    cr_assert_eq(cpu->regs[X86_RSP], STK);
    cr_assert_eq(cpu->seg[X86_SS].selector, S_DATA3);
    cr_assert_eq(cpu->icount, 5);
}

Test(seg, iret_to_outer_level)
{
    go(0);
    uint32_t sp = STK - 20;
    wr32(sp, CODE + 0x40);
    wr32(sp + 4, S_CODE3);
    wr32(sp + 8, 0x202);
    wr32(sp + 12, 0x8000);
    wr32(sp + 16, S_DATA3);
    cpu->regs[X86_RSP] = sp;
    PUT(CODE, 0xcf);
    PUT(CODE + 0x40, 0x90);
    run(2);
    cr_assert_eq(x86_cpl(cpu), 3);
    cr_assert_eq(cpu->rip, CODE + 0x41);
    cr_assert_eq(cpu->regs[X86_RSP], 0x8000);
    cr_assert(cpu->eflags & X86_IF);
    /* DS held a DPL-0 data segment: nulled on the way out. */
    cr_assert_eq(cpu->seg[X86_DS].selector, 0);
    cr_assert(cpu->seg[X86_DS].unusable);
}

Test(seg, lar_lsl_verr)
{
    go(0);
    /* mov ax, 0x1b; lar ebx, ax; lsl ecx, ax; verw ax; hlt */
    PUT(CODE, 0x66, 0xb8, 0x1b, 0x00, 0x0f, 0x02, 0xd8, 0x0f, 0x03, 0xc8,
        0x0f, 0x00, 0xe8, 0xf4);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(cpu->regs[X86_RBX], 0x00c0fb00);
    cr_assert_eq(cpu->regs[X86_RCX], 0xffffffff);
    cr_assert_eq(x86_eflags(cpu) & X86_ZF, 0);     /* code is not writable */
    go(0);
    cpu->regs[X86_RBX] = 7;
    /* mov ax, 0x80 (outside the GDT); lar ebx, ax; hlt */
    PUT(CODE, 0x66, 0xb8, 0x80, 0x00, 0x0f, 0x02, 0xd8, 0xf4);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(cpu->regs[X86_RBX], 7);
    cr_assert_eq(x86_eflags(cpu) & X86_ZF, 0);
}

Test(seg, task_switch_jmp)
{
    go(0);
    gdt(13, mkdesc(0x4000, 0x67, 0x9, 0, 0, false));   /* 0x68: TSS 2 */
    gdt(5, rd64(GDT + S_TSS) | (2ull << 40));           /* current one busy */
    cpu->gdt.limit = 16 * 8 - 1;
    wr32(0x4000 + 0x20, HND + 0x200);
    wr32(0x4000 + 0x24, 0x2);
    wr32(0x4000 + 0x28, 0x1234);                        /* EAX */
    wr32(0x4000 + 0x38, 0x8800);                        /* ESP */
    static const uint16_t segs[6] = { S_DATA0, S_CODE0, S_DATA0, S_DATA0, S_DATA0, S_DATA0 };
    for (unsigned i = 0; i < 6; i++)
        wr16(0x4000 + 0x48 + 4 * i, segs[i]);
    cpu->regs[X86_RAX] = 0x5555;
    PUT(CODE, 0xea, 0, 0, 0, 0, 0x68, 0x00);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(cpu->tr.selector, 0x68);
    cr_assert_eq(cpu->seg[X86_CS].base + cpu->rip, HND + 0x201);
    cr_assert_eq(cpu->regs[X86_RAX], 0x1234);
    cr_assert_eq(cpu->regs[X86_RSP], 0x8800);
    cr_assert(cpu->cr0 & X86_CR0_TS);
    cr_assert_eq((rd64(GDT + 0x68) >> 40) & 0xf, 0xb);  /* new busy */
    cr_assert_eq((rd64(GDT + S_TSS) >> 40) & 0xf, 0x9); /* old free */
    cr_assert_eq(rd32(TSS + 0x20), CODE + 7);           /* old EIP */
    cr_assert_eq(rd32(TSS + 0x28), 0x5555);             /* old EAX */
}
