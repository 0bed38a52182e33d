/* The x86 engine (targets/x86/engine.c): exact icount, budgets ending
 * inside a block, self-modifying code, HLT and the interrupt window,
 * single-step, reset state and the record/replay views (state.c).  Short
 * real-mode programs in RAM at 0, run through CpuOps. */
#include "targets/x86/jit.h"
#include "vmm/options.h"
#include "x86_fixture.h"

#define CODE 0x1000u

/* 1 MiB of RAM; real mode, CS = 0, IP = CODE. */
static void setup(void)
{
    x86f_setup(1);
    x86f_cs0();
    cpu->rip = CODE;
}

TestSuite(engine, .init = setup, .fini = x86f_teardown);

#define AX (cpu->regs[X86_RAX] & 0xffff)
#define BX (cpu->regs[X86_RBX] & 0xffff)
#define CX (cpu->regs[X86_RCX] & 0xffff)

Test(engine, reset_state)
{
    x86_cpu_reset(cpu);
    cr_assert_eq(cpu->rip, 0xfff0);
    cr_assert_eq(cpu->seg[X86_CS].selector, 0xf000);
    cr_assert_eq(cpu->seg[X86_CS].base, 0xffff0000);
    cr_assert_eq(cpu->seg[X86_CS].limit, 0xffff);
    cr_assert_eq(cpu->cr0, 0x60000010);
    cr_assert_eq(x86_eflags(cpu), 2);
    cr_assert_eq(cpu->dr[6], 0xffff0ff0);
    cr_assert_eq(cpu->dr[7], 0x400);
    cr_assert_eq(cpu->fpu.mxcsr, 0x1f80);
    cr_assert_eq(cpu->fpu.xcr0, 1);
    cr_assert_eq(cpu->apic_base, 0xfee00900);
    cr_assert_eq(cpu->pat, 0x0007040600070406ull);
    cr_assert_eq(cpu->gdt.limit, 0xffff);
    cr_assert_eq(cpu->idt.limit, 0xffff);
    cr_assert_eq(cpu->hflags & (X86_HF_DECODE | X86_HF_PE | X86_HF_CPL), 0);
    uint32_t id[4];
    x86_cpuid(cpu, 1, 0, id);
    cr_assert_eq(cpu->regs[X86_RDX], id[0]);
    cr_assert_neq(id[0], 0);
}

Test(engine, icount_exact)
{
    /* mov ax, 1; add ax, ax; inc ax; hlt */
    PUT(CODE, 0xb8, 0x01, 0x00, 0x01, 0xc0, 0x40, 0xf4);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(AX, 3);
    cr_assert_eq(cpu->icount, 4);           /* HLT retires */
    cr_assert_eq(cpu->rip, CODE + 7);
    cr_assert(cpu->halted);
    /* Halted with nothing pending: nothing runs. */
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(cpu->icount, 4);
}

/* Flat 32-bit protected mode, CPL 0, no paging. */
static void flat32(void)
{
    for (int i = 0; i < X86_NSEG; i++)
        seg_flat(i, i == X86_CS ? 0x08 : 0x10, i == X86_CS ? 0xb : 0x3, true, false);
    cpu->cr0 |= X86_CR0_PE;
    x86_update_hflags(cpu);
    cr_assert(cpu->hflags & X86_HF_CS32);
}

Test(engine, protected32)
{
    flat32();
    /* mov eax, 0x12345678; add eax, eax; mov [0x500], eax; 5 x inc eax; hlt */
    PUT(CODE, 0xb8, 0x78, 0x56, 0x34, 0x12, 0x01, 0xc0, 0xa3, 0x00, 0x05, 0x00, 0x00,
        0x40, 0x40, 0x40, 0x40, 0x40, 0xf4);
    cr_assert_eq(run(5), CPU_EXIT_BUDGET);
    cr_assert_eq(cpu->icount, 5);
    cr_assert_eq(cpu->rip, CODE + 14);
    cr_assert_eq(cpu->regs[X86_RAX], 0x2468acf0 + 2);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(cpu->icount, 9);
    cr_assert_eq(cpu->regs[X86_RAX], 0x2468acf0 + 5);
    uint32_t v;
    memcpy(&v, ram + 0x500, 4);
    cr_assert_eq(v, 0x2468acf0);
}

Test(engine, cs_base_in_key)
{
    /* The same linear bytes under two CS bases: offsets (and so branch
     * targets and pushed return addresses) differ. */
    PUT(0x2000, 0x40, 0xf4);                 /* inc ax; hlt */
    cpu->seg[X86_CS].base = 0x2000;
    cpu->seg[X86_CS].selector = 0x200;
    cpu->rip = 0;
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(cpu->rip, 2);
    cpu->seg[X86_CS].base = 0x1000;
    cpu->seg[X86_CS].selector = 0x100;
    cpu->rip = 0x1000;
    cpu->halted = false;
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(cpu->rip, 0x1002);
    cr_assert_eq(AX, 2);
}

Test(engine, budget_inside_block)
{
    /* 10 x inc ax; hlt */
    uint8_t prog[11];
    memset(prog, 0x40, 10);
    prog[10] = 0xf4;
    put(CODE, prog, sizeof(prog));
    cr_assert_eq(run(3), CPU_EXIT_BUDGET);
    cr_assert_eq(cpu->icount, 3);
    cr_assert_eq(AX, 3);
    cr_assert_eq(cpu->rip, CODE + 3);
    cr_assert_eq(run(1), CPU_EXIT_BUDGET);
    cr_assert_eq(cpu->icount, 4);
    cr_assert_eq(cpu->rip, CODE + 4);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(cpu->icount, 11);
    cr_assert_eq(AX, 10);
}

Test(engine, brcount)
{
    /* mov cx, 5; l: dec cx; jnz l; hlt -> 5 conditional branches */
    PUT(CODE, 0xb9, 0x05, 0x00, 0x49, 0x75, 0xfd, 0xf4);
    cr_assert_eq(run(1000), CPU_EXIT_IDLE);
    cr_assert_eq(CX, 0);
    cr_assert_eq(cpu->icount, 1 + 5 * 2 + 1);
    cr_assert_eq(x86_cpu_ops.brcount(cpu), 5);
}

Test(engine, smc_same_block)
{
    /* mov byte [CODE+5], 0x40 (inc ax); nop; hlt: the nop is already
     * decoded in this block when the store replaces it. */
    PUT(CODE, 0xc6, 0x06, 0x05, 0x10, 0x40, 0x90, 0xf4);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(AX, 1);
    cr_assert_eq(cpu->icount, 3);
    cr_assert_eq(ram[CODE + 5], 0x40);
}

Test(engine, smc_same_block_budget)
{
    /* The same with a budget that ends inside the block (truncated copy). */
    PUT(CODE, 0xc6, 0x06, 0x05, 0x10, 0x40, 0x90, 0x40, 0x40, 0xf4);
    cr_assert_eq(run(2), CPU_EXIT_BUDGET);
    cr_assert_eq(AX, 1);
    cr_assert_eq(cpu->icount, 2);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(AX, 3);
    cr_assert_eq(cpu->icount, 5);
}

Test(engine, smc_other_block)
{
    /* 0x2000: nop; hlt -- translated once */
    PUT(0x2000, 0x90, 0xf4);
    cpu->rip = 0x2000;
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(cpu->icount, 2);
    /* CODE: mov byte [0x2000], 0x40; jmp 0x2000 */
    PUT(CODE, 0xc6, 0x06, 0x00, 0x20, 0x40, 0xe9, 0xf8, 0x0f);
    cpu->rip = CODE;
    cpu->halted = false;
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(AX, 1);
    cr_assert_eq(cpu->icount, 2 + 4);
}

Test(engine, code_write_hook)
{
    PUT(CODE, 0x90, 0xf4);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    /* A loader/DMA write through the address space drops the block. */
    cr_assert_eq(as_copy_to(&mach.as, CODE, (const uint8_t[]){ 0x40 }, 1), MEM_OK);
    cpu->rip = CODE;
    cpu->halted = false;
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(AX, 1);
}

static int ack_vector;

static int ack(void *opaque)
{
    x86_cpu_set_intr(cpu, 0);
    return ack_vector;
}

Test(engine, hlt_wakes_on_interrupt)
{
    /* sti; hlt; inc ax; hlt -- handler at 0x3000: mov bx, 0x1234; iret */
    PUT(CODE, 0xfb, 0xf4, 0x40, 0xf4);
    PUT(0x3000, 0xbb, 0x34, 0x12, 0xcf);
    ivt(0x20, 0, 0x3000);
    cpu->regs[X86_RSP] = 0x8000;
    cpu->intr_ack = ack;
    ack_vector = 0x20;
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(cpu->icount, 2);
    cr_assert_eq(cpu->rip, CODE + 2);
    x86_cpu_set_intr(cpu, 1);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(BX, 0x1234);
    cr_assert_eq(AX, 1);
    cr_assert_eq(cpu->icount, 2 + 2 + 2);
    cr_assert_eq(cpu->rip, CODE + 4);
}

Test(engine, sti_shadow)
{
    /* IF=0, INTR pending: sti; inc ax; inc ax; hlt.  The interrupt comes
     * after the instruction following STI, not before. */
    PUT(CODE, 0xfb, 0x40, 0x40, 0xf4);
    PUT(0x3000, 0xbb, 0x34, 0x12, 0xf4);     /* mov bx, 0x1234; hlt */
    ivt(0x20, 0, 0x3000);
    cpu->regs[X86_RSP] = 0x8000;
    cpu->intr_ack = ack;
    ack_vector = 0x20;
    x86_cpu_set_intr(cpu, 1);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(AX, 1);
    cr_assert_eq(BX, 0x1234);
    cr_assert_eq(cpu->icount, 4);
    /* The pushed return address is the second inc. */
    uint16_t ret;
    memcpy(&ret, ram + 0x8000 - 6, 2);
    cr_assert_eq(ret, CODE + 2);
}

Test(engine, single_step)
{
    /* TF set: #DB after each instruction; the handler (inc cx; iret) runs
     * with TF clear and IRET restores it. */
    PUT(CODE, 0x40, 0x40, 0x40, 0xf4);
    PUT(0x3000, 0x41, 0xcf);
    ivt(1, 0, 0x3000);
    cpu->regs[X86_RSP] = 0x8000;
    cpu->eflags |= X86_TF;
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(AX, 3);
    cr_assert_eq(CX, 3);
    cr_assert_eq(cpu->icount, 3 + 3 * 2 + 1);
    cr_assert(cpu->dr[6] & (1u << 14));
}

Test(engine, popf_sets_tf)
{
    /* push 0x102 (TF); popf; inc ax; inc ax; hlt: the first trap comes
     * after the instruction that follows POPF. */
    PUT(CODE, 0x68, 0x02, 0x01, 0x9d, 0x40, 0x40, 0xf4);
    PUT(0x3000, 0x41, 0xcf);
    ivt(1, 0, 0x3000);
    cpu->regs[X86_RSP] = 0x8000;
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(AX, 2);
    cr_assert_eq(CX, 2);
}

Test(engine, fault_in_block)
{
    /* inc ax; inc ax; ud2 -- #UD handler at 0x3000: hlt */
    PUT(CODE, 0x40, 0x40, 0x0f, 0x0b);
    PUT(0x3000, 0xf4);
    ivt(6, 0, 0x3000);
    cpu->regs[X86_RSP] = 0x8000;
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(AX, 2);
    cr_assert_eq(cpu->icount, 3);           /* the faulting ud2 does not count */
    uint16_t ret;
    memcpy(&ret, ram + 0x8000 - 6, 2);
    cr_assert_eq(ret, CODE + 2);
}

Test(engine, cs_limit)
{
    /* Running off the end of a 64 KiB segment: #GP (vector 13) */
    cpu->rip = 0xffff;
    ram[0xffff] = 0xb8;                     /* mov ax, imm16 crosses the limit */
    PUT(0x3000, 0xf4);
    ivt(13, 0, 0x3000);
    cpu->regs[X86_RSP] = 0x8000;
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(cpu->icount, 1);
    cr_assert_eq(cpu->rip, 0x3001);
}

Test(engine, page_straddle)
{
    /* mov ax, 0x1234 split over a page boundary, then hlt */
    cpu->rip = 0x1ffe;
    PUT(0x1ffe, 0xb8, 0x34);
    PUT(0x2000, 0x12, 0xf4);
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(AX, 0x1234);
    cr_assert_eq(cpu->icount, 2);
    /* Rewrite the tail on the second page: the block must see it. */
    cr_assert_eq(as_copy_to(&mach.as, 0x2000, (const uint8_t[]){ 0x56 }, 1), MEM_OK);
    cpu->rip = 0x1ffe;
    cpu->halted = false;
    cr_assert_eq(run(100), CPU_EXIT_IDLE);
    cr_assert_eq(AX, 0x5634);
}

/* A device register whose write raises INTR (an EOI with another
 * interrupt waiting, an unmasked line), at guest-physical 0x100000. */
static void irq_dev_write(void *o, uint64_t off, uint64_t val, unsigned size)
{
    x86_cpu_set_intr(cpu, 1);
}

static uint64_t irq_dev_read(void *o, uint64_t off, unsigned size)
{
    return 0;
}

static const MemOps irq_dev_ops = {
    .name = "irqdev", .read = irq_dev_read, .write = irq_dev_write,
    .min_access = 1, .max_access = 4,
};

/* sti; nop; mov ax, 0xffff; mov ds, ax; mov [0x10], al (the device);
 * inc bx; inc bx; hlt.  Handler at 0x3000: hlt.  Runs it in pieces of
 * `step` instructions; returns the IP the interrupt pushed. */
static uint16_t mmio_irq_run(uint64_t step)
{
    cr_assert_eq(as_add_mmio(&mach.as, "irqdev", 0x100000, 0x1000, &irq_dev_ops, NULL), 0);
    PUT(CODE, 0xfb, 0x90, 0xb8, 0xff, 0xff, 0x8e, 0xd8, 0xa2, 0x10, 0x00, 0x43, 0x43, 0xf4);
    PUT(0x3000, 0xf4);
    ivt(0x20, 0, 0x3000);
    cpu->regs[X86_RSP] = 0x8000;
    cpu->intr_ack = ack;
    ack_vector = 0x20;
    for (int i = 0; i < 100 && !cpu->halted; i++)
        run(step);
    cr_assert(cpu->halted);
    cr_assert_eq(cpu->rip, 0x3001);
    return rd16(0x8000 - 6);
}

Test(engine, mmio_irq_after_the_access)
{
    /* Taken right after the store, as after an OUT, whatever the slicing. */
    cr_assert_eq(mmio_irq_run(100), CODE + 10);
    cr_assert_eq(BX, 0);
    cr_assert_eq(cpu->icount, 5 + 1);
}

Test(engine, mmio_irq_after_the_access_stepped)
{
    cr_assert_eq(mmio_irq_run(1), CODE + 10);
    cr_assert_eq(BX, 0);
    cr_assert_eq(cpu->icount, 5 + 1);
}

Test(engine, mmio_irq_after_the_access_compiled)
{
    /* Flat 32-bit code compiled at its first run (jit.c): the store goes
     * through its handler from the compiled code, which then leaves.
     * sti; nop; mov eax, 0x400000; mov [eax], cl (the device); inc ebx;
     * mov ecx, 5; mov edx, 6; hlt. */
    static Options o;
    o.jit_threshold = 1;
    x86f_teardown();
    x86f_machine(4);
    mach.opts = &o;
    x86f_cpu();
    cr_assert(x86_jit_supported());
    memset(ram + X86F_HND, 0xf4, 0x1000);       /* every handler: HLT */
    cr_assert_eq(as_add_mmio(&mach.as, "irqdev", 0x400000, 0x1000, &irq_dev_ops, NULL), 0);
    PUT(X86F_CODE, 0xfb, 0x90, 0xb8, 0x00, 0x00, 0x40, 0x00, 0x88, 0x08, 0x43,
        0xb9, 0x05, 0x00, 0x00, 0x00, 0xba, 0x06, 0x00, 0x00, 0x00, 0xf4);
    go(0);
    cr_assert(cpu->hflags & X86_HF_FLAT32);
    uint64_t rdx0 = cpu->regs[X86_RDX];
    cpu->intr_ack = ack;
    ack_vector = 0x20;
    for (int i = 0; i < 100 && !cpu->halted; i++)
        run(100);
    assert_in_handler(0x20);
    cr_assert_eq(rd32(X86F_STK - 12), X86F_CODE + 9);     /* the pushed EIP */
    cr_assert_eq(cpu->regs[X86_RBX], 0);
    cr_assert_eq(cpu->regs[X86_RDX], rdx0);
    cr_assert_eq(cpu->icount, 4 + 1);
}

Test(engine, mmio_irq_at_block_end_for_old_logs)
{
    /* Replaying a log before format 9: where the block ends, as then. */
    mach.mmio_irq_at_block_end = true;
    cr_assert_eq(mmio_irq_run(100), CODE + 13);
    cr_assert_eq(BX, 2);
    cr_assert_eq(cpu->icount, 8 + 1);
}

Test(engine, exit_request)
{
    PUT(CODE, 0xeb, 0xfe);                  /* jmp $ */
    cr_assert_eq(run(1000), CPU_EXIT_BUDGET);
    cr_assert_eq(cpu->icount, 1000);
    mach.exit_request = 1;
    cr_assert_eq(run(1000), CPU_EXIT_REQUEST);
    cr_assert_eq(cpu->icount, 1000);
}

Test(engine, fetch_outside_ram)
{
    cpu->seg[X86_CS].base = 0x200000;
    cpu->rip = 0;
    cr_assert_eq(run(10), CPU_EXIT_ERROR);
    cr_assert(mach.error);
}

Test(engine, views)
{
    uint64_t v[32];
    cpu->regs[X86_RCX] = 0x1111;
    cpu->regs[X86_R15] = 0x2222;
    cr_assert_eq(x86_cpu_ops.regs(cpu, v), 18);
    cr_assert_eq(v[0], CODE);
    cr_assert_eq(v[2], 0x1111);
    cr_assert_eq(v[16], 0x2222);
    cr_assert_eq(v[17], 2);
    cr_assert_str_eq(x86_cpu_ops.reg_names[0], "rip");
    cr_assert_str_eq(x86_cpu_ops.reg_names[2], "rcx");
    cr_assert_str_eq(x86_cpu_ops.reg_names[17], "eflags");
    uint64_t d = x86_cpu_ops.digest(cpu), h = x86_cpu_ops.state_hash(cpu);
    x86_cpu_ops.set_reg(cpu, 3, 7);
    cr_assert_eq(cpu->regs[X86_RDX], 7);
    cr_assert_neq(x86_cpu_ops.digest(cpu), d);
    x86_cpu_ops.set_reg(cpu, 3, v[3]);
    cr_assert_eq(x86_cpu_ops.digest(cpu), d);
    cpu->fpu.xmm[5].q[1] = 1;
    cr_assert_neq(x86_cpu_ops.state_hash(cpu), h);
    cpu->fpu.xmm[5].q[1] = 0;
    cpu->icount += 5;                       /* not architectural state */
    cr_assert_eq(x86_cpu_ops.state_hash(cpu), h);
    x86_cpu_ops.set_reg(cpu, 17, 0x202);
    cr_assert_eq(x86_eflags(cpu), 0x202);

    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    x86_cpu_ops.dump(cpu, f);
    fclose(f);
    cr_assert(strstr(buf, "CS =0000 00000000 0000ffff 00009b00"), "%s", buf);
    cr_assert(strstr(buf, "ECX=00001111"), "%s", buf);
    free(buf);
}
