/* System instructions (targets/x86/sys.c): the CPUID model, MSR rules,
 * MOV CR checks, IOPL and the TSS I/O bitmap, POPF/CLI/HLT privilege
 * rules, SYSENTER/SYSEXIT, descriptor-table registers. */
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

TestSuite(sys, .init = setup, .fini = teardown);

/* (Re)start at CODE in protected mode; RAM was written behind the
 * CPU's back, so drop decoded blocks. */
static void go(unsigned cpl)
{
    enter_pm32(cpl);
    cpu->rip = CODE;
    cpu->halted = false;
    x86_code_flush(cpu);
}

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
    cpu->cr4 = X86_CR4_OSXSAVE;
    x86_cpuid(cpu, 1, 0, r);
    cr_assert_eq(r[2], 0x0cd82201);
    cr_assert_eq(r[3], 0x078bbb7d);
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
