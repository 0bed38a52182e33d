/* The machine fixture shared by the x86 unit tests: see x86_fixture.h. */
#include "x86_fixture.h"

Machine mach;
uint8_t *ram;
X86CPU *cpu;

/* ---- set-up and tear-down ---- */

void x86f_machine(unsigned ram_mib)
{
    size_t size = (size_t)ram_mib << 20;
    memset(&mach, 0, sizeof(mach));
    as_init(&mach.as);
    as_init(&mach.io);
    ram = NULL;
    if (size) {
        ram = g_malloc0(size);
        cr_assert_eq(as_add_ram(&mach.as, "ram", 0, size, ram, false), 0);
        mach.ram = ram;
        mach.ram_size = size;
    }
}

void x86f_cpu(void)
{
    cpu = x86_cpu_create(&mach, 64);
    cr_assert_not_null(cpu);
}

void x86f_setup(unsigned ram_mib)
{
    x86f_machine(ram_mib);
    x86f_cpu();
}

void x86f_teardown(void)
{
    x86_cpu_free(cpu);
    cpu = NULL;
    g_free(ram);
    ram = NULL;
    g_free(mach.error);
    mach.error = NULL;
}

void x86f_cs0(void)
{
    cpu->seg[X86_CS].base = 0;
    cpu->seg[X86_CS].selector = 0;
    x86_update_hflags(cpu);
}

static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

/* ---- descriptors, gates, tables ---- */

uint64_t mkdesc(uint32_t base, uint32_t limit, unsigned type, unsigned dpl, unsigned flags,
                bool s)
{
    return (limit & 0xffff) | ((uint64_t)(base & 0xffffff) << 16) |
           ((uint64_t)type << 40) | ((uint64_t)s << 44) | ((uint64_t)dpl << 45) |
           (1ull << 47) | ((uint64_t)((limit >> 16) & 0xf) << 48) |
           ((uint64_t)flags << 52) | ((uint64_t)(base >> 24) << 56);
}

uint64_t mkgate(uint64_t off, uint16_t sel, unsigned type, unsigned dpl)
{
    return (off & 0xffff) | ((uint64_t)sel << 16) | ((uint64_t)type << 40) |
           ((uint64_t)dpl << 45) | (1ull << 47) | (((off >> 16) & 0xffff) << 48);
}

void idt_gate(uint64_t idt, unsigned vec, bool lm, uint64_t off, uint16_t sel, unsigned type,
              unsigned dpl)
{
    if (lm) {
        wr64(idt + vec * 16, mkgate(off, sel, type, dpl));
        wr64(idt + vec * 16 + 8, off >> 32);
    } else {
        wr64(idt + vec * 8, mkgate(off, sel, type, dpl));
    }
}

void ivt(unsigned v, uint16_t seg, uint16_t off)
{
    wr32(v * 4, (uint32_t)seg << 16 | off);
}

void map_4m(uint64_t pml4, bool user)
{
    uint64_t u = user ? 4 : 0;
    wr64(pml4, (pml4 + 0x1000) | 3 | u);
    wr64(pml4 + 0x1000, (pml4 + 0x2000) | 3 | u);
    wr64(pml4 + 0x2000, 0x000000 | 0x83 | u);
    wr64(pml4 + 0x2008, 0x200000 | 0x83 | u);
}

/* ---- segment registers and modes ---- */

void set_seg(int s, uint64_t base, uint32_t limit, uint8_t type, bool db)
{
    X86Seg *g = &cpu->seg[s];
    memset(g, 0, sizeof(*g));
    g->base = base;
    g->limit = limit;
    g->type = type;
    g->db = db;
    g->s = 1;
    g->present = 1;
}

void seg_flat(int s, uint16_t sel, uint8_t type, bool db, bool l)
{
    X86Seg *g = &cpu->seg[s];
    memset(g, 0, sizeof(*g));
    g->selector = sel;
    g->limit = 0xffffffff;
    g->type = type;
    g->present = 1;
    g->s = 1;
    g->g = 1;
    g->db = db;
    g->l = l;
}

void real_mode(void)
{
    cpu->cr0 = 0;
    cpu->hflags = 0;
    for (int s = 0; s < X86_NSEG; s++)
        set_seg(s, 0, 0xffff, s == X86_CS ? 0xb : 0x3, false);
    x86_tlb_flush(cpu, false);
}

/* ---- the standard protected-mode layout ---- */

void x86f_setup_std(void)
{
    x86f_setup(4);
    x86f_cs0();
    cpu->rip = X86F_CODE;
    memset(ram + X86F_HND, 0xf4, 0x1000);       /* every handler: HLT */
}

void gdt(unsigned idx, uint64_t d)
{
    wr64(X86F_GDT + idx * 8, d);
}

void std_gdt(void)
{
    gdt(1, mkdesc(0, 0xfffff, 0xb, 0, 0xc, true));
    gdt(2, mkdesc(0, 0xfffff, 0x3, 0, 0xc, true));
    gdt(3, mkdesc(0, 0xfffff, 0xb, 3, 0xc, true));
    gdt(4, mkdesc(0, 0xfffff, 0x3, 3, 0xc, true));
    gdt(5, mkdesc(X86F_TSS, 0x67 + 0x2000 / 8 + 1, 0x9, 0, 0, false));
    gdt(6, mkdesc(0, 0xfffff, 0xb, 0, 0xa, true));
    gdt(7, mkdesc(0, 0xfffff, 0x3, 0, 0xc, true) & ~(1ull << 47));
    gdt(8, mkdesc(X86F_TSS, 0x67, 0x9, 0, 0, false));
    gdt(9, 0);
    gdt(10, mkdesc(0, 0xffff, 0xb, 0, 0, true));
    cpu->gdt.base = X86F_GDT;
    cpu->gdt.limit = 11 * 8 - 1;
}

void load(int seg, uint16_t sel)
{
    uint64_t d = rd64(X86F_GDT + (sel & ~7u)) | (1ull << 40);
    x86_seg_from_desc(&cpu->seg[seg], sel, d);
}

void idt32(unsigned vec, unsigned type, unsigned dpl)
{
    idt_gate(X86F_IDT, vec, false, X86F_HND + 16 * vec, S_CODE0, type, dpl);
}

void enter_pm32(unsigned cpl)
{
    std_gdt();
    cpu->cr0 |= X86_CR0_PE;
    for (unsigned v = 0; v < 256; v++)
        idt32(v, 0xe, 0);
    cpu->idt.base = X86F_IDT;
    cpu->idt.limit = 256 * 8 - 1;
    wr32(X86F_TSS + 4, X86F_STK0);
    wr16(X86F_TSS + 8, S_DATA0);
    wr16(X86F_TSS + 0x66, 0x68);                /* I/O bitmap right after */
    load(X86_CS, cpl ? S_CODE3 : S_CODE0);
    load(X86_SS, cpl ? S_DATA3 : S_DATA0);
    load(X86_DS, cpl ? S_DATA3 : S_DATA0);
    load(X86_ES, cpl ? S_DATA3 : S_DATA0);
    x86_seg_from_desc(&cpu->tr, S_TSS, rd64(X86F_GDT + S_TSS) | (2ull << 40));
    cpu->regs[X86_RSP] = X86F_STK;
    x86_update_hflags(cpu);
    cr_assert_eq(x86_cpl(cpu), cpl);
}

void go(unsigned cpl)
{
    enter_pm32(cpl);
    cpu->rip = X86F_CODE;
    cpu->halted = false;
    x86_code_flush(cpu);
}

void assert_in_handler(unsigned v)
{
    uint64_t lin = cpu->seg[X86_CS].base + cpu->rip;
    cr_assert_eq(lin, X86F_HND + 16 * v + 1, "at %#llx, expected handler %u",
                 (unsigned long long)lin, v);
}
