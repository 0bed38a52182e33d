/* Segmentation (targets/x86/seg.c): segment-register loads and their
 * error codes, accessed bits, far JMP/CALL through call gates with
 * parameter copying, RETF/IRET to an outer level, LAR/LSL/VERR/VERW and a
 * task switch.  32-bit protected-mode programs in RAM, run through
 * CpuOps; faults land in HLT handlers. */
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "targets/x86/insn.h"
#include "targets/x86/seg.h"
#include "vmm/machine.h"

#define RAM_SIZE (4u << 20)
#define GDT   0x0800u
#define IDT   0x1000u
#define TSS   0x3000u
#define STK0  0x7000u      /* ring-0 stack top (TSS) */
#define STK   0x9000u      /* current stack top */
#define CODE  0x10000u
#define HND   0x20000u     /* handler for vector v at HND + 16 * v: HLT */

static Machine mach;
static uint8_t *ram;
static X86CPU *cpu;

static void setup(void)
{
    memset(&mach, 0, sizeof(mach));
    as_init(&mach.as);
    as_init(&mach.io);
    ram = g_malloc0(RAM_SIZE);
    cr_assert_eq(as_add_ram(&mach.as, "ram", 0, RAM_SIZE, ram, false), 0);
    cpu = x86_cpu_create(&mach, 64);
    cr_assert(cpu);
    x86_cpu_reset(cpu);
    cpu->seg[X86_CS].base = 0;
    cpu->seg[X86_CS].selector = 0;
    x86_update_hflags(cpu);
    cpu->rip = CODE;
    memset(ram + HND, 0xf4, 0x1000);        /* every handler: HLT */
}

static void teardown(void)
{
    x86_cpu_free(cpu);
    g_free(ram);
    g_free(mach.error);
}

static void put(uint32_t pa, const uint8_t *b, size_t n) { memcpy(ram + pa, b, n); }
#define PUT(pa, ...) \
    put(pa, (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ }))

static uint32_t rd32(uint32_t pa) { uint32_t v; memcpy(&v, ram + pa, 4); return v; }
static uint64_t rd64(uint32_t pa) { uint64_t v; memcpy(&v, ram + pa, 8); return v; }
static void wr16(uint32_t pa, uint16_t v) { memcpy(ram + pa, &v, 2); }
static void wr32(uint32_t pa, uint32_t v) { memcpy(ram + pa, &v, 4); }
static void wr64(uint32_t pa, uint64_t v) { memcpy(ram + pa, &v, 8); }

static CpuExit run(uint64_t n) { return x86_cpu_ops.run(cpu, n); }

/* flags nibble: 1 AVL, 2 L, 4 D/B, 8 G */
static uint64_t mkdesc(uint32_t base, uint32_t limit, unsigned type, unsigned dpl,
                       unsigned flags, bool s)
{
    return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
           ((uint64_t)type << 40) | ((uint64_t)s << 44) | ((uint64_t)dpl << 45) |
           (1ull << 47) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
           ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
}

static void gdt(unsigned idx, uint64_t d) { wr64(GDT + idx * 8, d); }

enum {
    S_CODE0 = 0x08, S_DATA0 = 0x10, S_CODE3 = 0x1b, S_DATA3 = 0x23, S_TSS = 0x28,
    S_CODE64 = 0x30, S_NP = 0x38, S_TSS64 = 0x40, S_CODE16 = 0x50,
};

static void std_gdt(void)
{
    gdt(1, mkdesc(0, 0xfffff, 0xb, 0, 0xc, true));
    gdt(2, mkdesc(0, 0xfffff, 0x3, 0, 0xc, true));
    gdt(3, mkdesc(0, 0xfffff, 0xb, 3, 0xc, true));
    gdt(4, mkdesc(0, 0xfffff, 0x3, 3, 0xc, true));
    gdt(5, mkdesc(TSS, 0x67 + 0x2000 / 8 + 1, 0x9, 0, 0, false));
    gdt(6, mkdesc(0, 0xfffff, 0xb, 0, 0xa, true));
    gdt(7, mkdesc(0, 0xfffff, 0x3, 0, 0xc, true) & ~(1ull << 47));
    gdt(8, mkdesc(TSS, 0x67, 0x9, 0, 0, false));
    gdt(9, 0);
    gdt(10, mkdesc(0, 0xffff, 0xb, 0, 0, true));
    cpu->gdt.base = GDT;
    cpu->gdt.limit = 11 * 8 - 1;
}

static void load(int seg, uint16_t sel)
{
    uint64_t d = rd64(GDT + (sel & ~7u)) | (1ull << 40);
    x86_seg_from_desc(&cpu->seg[seg], sel, d);
}

static void idt32(unsigned vec, unsigned type, unsigned dpl)
{
    uint32_t off = HND + 16 * vec;
    wr64(IDT + vec * 8, (off & 0xffff) | ((uint64_t)S_CODE0 << 16) | ((uint64_t)type << 40) |
                            ((uint64_t)dpl << 45) | (1ull << 47) | ((uint64_t)(off >> 16) << 48));
}

/* 32-bit protected mode at CPL cpl, flat segments, IDT with interrupt
 * gates for vectors 0..31 (DPL 0) and a TSS with ESP0 = STK0. */
static void enter_pm32(unsigned cpl)
{
    std_gdt();
    cpu->cr0 |= X86_CR0_PE;
    for (unsigned v = 0; v < 256; v++)
        idt32(v, 0xe, 0);
    cpu->idt.base = IDT;
    cpu->idt.limit = 256 * 8 - 1;
    wr32(TSS + 4, STK0);
    wr16(TSS + 8, S_DATA0);
    wr16(TSS + 0x66, 0x68);                 /* I/O bitmap right after */
    load(X86_CS, cpl ? S_CODE3 : S_CODE0);
    load(X86_SS, cpl ? S_DATA3 : S_DATA0);
    load(X86_DS, cpl ? S_DATA3 : S_DATA0);
    load(X86_ES, cpl ? S_DATA3 : S_DATA0);
    x86_seg_from_desc(&cpu->tr, S_TSS, rd64(GDT + S_TSS) | (2ull << 40));
    cpu->regs[X86_RSP] = STK;
    x86_update_hflags(cpu);
    cr_assert_eq(x86_cpl(cpu), cpl);
}

/* Ran into the HLT of vector v's handler? */
static void assert_in_handler(unsigned v)
{
    uint64_t lin = cpu->seg[X86_CS].base + cpu->rip;
    cr_assert_eq(lin, HND + 16 * v + 1, "at %#llx, expected handler %u",
                 (unsigned long long)lin, v);
}

TestSuite(seg, .init = setup, .fini = teardown);

/* (Re)start at CODE in protected mode; RAM was written behind the
 * CPU's back, so drop decoded blocks. */
static void go(unsigned cpl)
{
    enter_pm32(cpl);
    cpu->rip = CODE;
    cpu->halted = false;
    x86_code_flush(cpu);
}

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
    gdt(idx, (off & 0xffff) | ((uint64_t)sel << 16) | ((uint64_t)params << 32) |
                 (0xcull << 40) | ((uint64_t)dpl << 45) | (1ull << 47) |
                 ((uint64_t)(off >> 16) << 48));
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
