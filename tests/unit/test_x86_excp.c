/* Exception and interrupt delivery (targets/x86/excp.c): stack frames of
 * real-mode, protected-mode and long-mode delivery, privilege changes
 * through the TSS, error codes, the gate DPL check of INT n, IST, double
 * and triple faults.  Small programs in RAM, run through CpuOps. */
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

TestSuite(excp, .init = setup, .fini = teardown);

Test(excp, real_mode_int)
{
    cpu->seg[X86_CS].selector = 0x1000;
    cpu->seg[X86_CS].base = 0x10000;
    cpu->rip = 0;
    cpu->regs[X86_RSP] = STK;
    wr32(0x21 * 4, (0x2000u << 16) | 0x210);       /* 2000:0210 = HND + 16 * 0x21 */
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
    wr64(0x100000, 0x101000 | 7);
    wr64(0x101000, 0x102000 | 7);
    wr64(0x102000, 0x000000 | 0x87);
    wr64(0x102008, 0x200000 | 0x87);
    cpu->cr3 = 0x100000;
    cpu->cr4 = X86_CR4_PAE;
    cpu->efer = X86_EFER_LME | X86_EFER_LMA;
    cpu->cr0 = X86_CR0_PE | X86_CR0_PG | X86_CR0_ET;
    x86_tlb_flush(cpu, false);
    for (unsigned v = 0; v < 256; v++) {
        uint32_t off = HND + 16 * v;
        wr64(IDT + v * 16, (off & 0xffff) | ((uint64_t)S_CODE64 << 16) | (0xeull << 40) |
                               (1ull << 47) | ((uint64_t)(off >> 16) << 48));
        wr64(IDT + v * 16 + 8, 0);
    }
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
