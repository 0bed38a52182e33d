/* The KVM backend (kvm/): state transfer in both directions, compared
 * field by field; real-mode and 64-bit guests on kvm_run() with port I/O,
 * string I/O, MMIO, ROM, a map change during the run, filtered MSRs,
 * interrupt injection, kicks, guest debugging and shutdown; and a 64-bit
 * guest run on KVM and on the interpreter from one start state.
 *
 * Without a usable /dev/kvm the program prints "SKIP: /dev/kvm not
 * available: <why>" (or "not usable", when KVM cannot run the CPU model)
 * and exits with status 77 (meson's "skipped").  On a host without one,
 * tests/kvm/nested.py --cpu max -- <build>/tests/unit/test_kvm_x86 runs
 * it in a guest with KVM on (emulated) AMD SVM. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm/kvm.h"
#include "targets/x86/flags.h"
#include "x86_fixture.h"

#define RAM_SIZE  (4u << 20)
#define LOW_END   0x80000u          /* RAM 0 - 512 KiB, then 1 MiB - 4 MiB */
#define MMIO_BASE 0xa0000u
#define ROM_BASE  0xe0000u
#define ROM_SIZE  0x10000u
#define CODE      0x1000u

/* ---- the machine: RAM (page-aligned host memory), a test port at
 * 0x3f8/0x3f9, an MMIO page, a ROM with unaligned host memory ---- */

static GString *port_out;
static unsigned port_reads;
static uint64_t mmio_last_off, mmio_last_val;
static unsigned mmio_writes;
static uint8_t *rom_buf;
static KvmVcpu *v;

static uint64_t port_read(void *opaque, uint64_t off, unsigned size)
{
    return 0x5a + port_reads++;
}

/* 0x3f8: output; 0x3f9: map RAM over the ROM, as the PC's PAM does. */
static void port_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    if (off == 0) {
        g_string_append_c(port_out, (char)val);
        return;
    }
    cr_assert_eq(as_remove(&mach.as, ROM_BASE), 0);
    cr_assert_eq(as_add_ram(&mach.as, "shadow", ROM_BASE, ROM_SIZE, ram + 0x300000, false), 0);
}

static const MemOps port_ops = { .name = "test-port", .read = port_read, .write = port_write };

static uint64_t mmio_read(void *opaque, uint64_t off, unsigned size)
{
    return off == 0x20 ? 0x5b : off * 3 + size;
}

static void mmio_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    mmio_last_off = off;
    mmio_last_val = val;
    mmio_writes++;
}

/* Port 0x3fa: a device asking the machine to stop (as isa-debug-exit). */
static void stop_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    mach.exit_request = 1;
}

static const MemOps stop_ops = { .name = "test-stop", .write = stop_write };

static const MemOps mmio_ops = { .name = "test-mmio", .read = mmio_read, .write = mmio_write };

static void setup(void)
{
    memset(&mach, 0, sizeof(mach));
    as_init(&mach.as);
    as_init(&mach.io);
    ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    cr_assert_neq(ram, MAP_FAILED);
    mach.ram = ram;
    mach.ram_size = RAM_SIZE;
    cr_assert_eq(as_add_ram(&mach.as, "low", 0, LOW_END, ram, false), 0);
    cr_assert_eq(as_add_ram(&mach.as, "high", 0x100000, RAM_SIZE - 0x100000, ram + 0x100000,
                            false), 0);
    cr_assert_eq(as_add_mmio(&mach.as, "mmio", MMIO_BASE, 0x1000, &mmio_ops, NULL), 0);
    rom_buf = g_malloc(ROM_SIZE + 64);
    uint8_t *rom = rom_buf + 16;                 /* not page-aligned on purpose */
    for (unsigned i = 0; i < ROM_SIZE; i++)
        rom[i] = (uint8_t)(i * 7 + 0xa4);
    cr_assert_eq(as_add_ram(&mach.as, "rom", ROM_BASE, ROM_SIZE, rom, true), 0);
    cr_assert_eq(as_add_mmio(&mach.io, "test-port", 0x3f8, 2, &port_ops, NULL), 0);
    cr_assert_eq(as_add_mmio(&mach.io, "test-stop", 0x3fa, 1, &stop_ops, NULL), 0);
    port_out = g_string_new(NULL);
    port_reads = mmio_writes = 0;
    cpu = x86_cpu_create(&mach, 64);
    v = NULL;
}

static void teardown(void)
{
    kvm_destroy(v);
    v = NULL;
    x86_cpu_free(cpu);
    cpu = NULL;
    munmap(ram, RAM_SIZE);
    ram = NULL;
    g_free(rom_buf);
    g_string_free(port_out, TRUE);
    g_free(mach.error);
    mach.error = NULL;
}

TestSuite(kvm, .init = setup, .fini = teardown, .timeout = 60);

static KvmVcpu *create(X86CPU *c)
{
    GError *e = NULL;
    KvmVcpu *k = kvm_create(&mach, c, &e);
    cr_assert_not_null(k, "kvm_create: %s", e ? e->message : "?");
    return k;
}

static void kput(X86CPU *c)
{
    GError *e = NULL;
    cr_assert(kvm_put_state(v, c, &e), "kvm_put_state: %s", e ? e->message : "?");
}

static void kget(X86CPU *c)
{
    GError *e = NULL;
    cr_assert(kvm_get_state(v, c, &e), "kvm_get_state: %s", e ? e->message : "?");
}

static KvmStop go_kvm(void)
{
    GError *e = NULL;
    KvmStop s = kvm_run(v, &e);
    cr_assert_neq(s, KVM_STOP_ERROR, "kvm_run: %s", e ? e->message : "?");
    return s;
}

/* ---- field-by-field comparison ---- */

static int mismatches;

static void differ(const char *what, const char *field, uint64_t a, uint64_t b)
{
    if (a == b)
        return;
    cr_log_error("%s: %s differs: expected 0x%llx, got 0x%llx", what, field,
                 (unsigned long long)a, (unsigned long long)b);
    mismatches++;
}

static void cmp_seg(const char *what, const char *name, const X86Seg *a, const X86Seg *b)
{
    char f[64];
#define SEGF(x) (snprintf(f, sizeof(f), "%s.%s", name, #x), differ(what, f, a->x, b->x))
    SEGF(base);
    SEGF(limit);
    SEGF(selector);
    SEGF(type);
    SEGF(present);
    SEGF(dpl);
    SEGF(db);
    SEGF(s);
    SEGF(l);
    SEGF(g);
    SEGF(avl);
    SEGF(unusable);
#undef SEGF
}

/* Every piece of architectural state the X86CPU holds.  Not compared:
 * icount/brcount/chain_end (the interpreter's counters), cc_* (compared
 * through the materialised EFLAGS), the TLB, block cache and their
 * bookkeeping, the machine pointers, the INTR line and its callbacks,
 * exc_first (the vector of the last delivery, not state).  The TSC offset
 * is compared within tsc_slack: the TSC runs while KVM holds the state. */
static void compare_cpu(const char *what, X86CPU *a, X86CPU *b, uint64_t tsc_slack)
{
    char f[64];
    mismatches = 0;
#define F(x) differ(what, #x, (uint64_t)(a->x), (uint64_t)(b->x))
#define FI(x, i) (snprintf(f, sizeof(f), #x "[%d]", (int)(i)), \
                  differ(what, f, (uint64_t)(a->x[i]), (uint64_t)(b->x[i])))
    for (int i = 0; i < 16; i++)
        FI(regs, i);
    F(rip);
    differ(what, "eflags", x86_eflags(a), x86_eflags(b));
    F(hflags);
    static const char *const sn[] = { "es", "cs", "ss", "ds", "fs", "gs" };
    for (int i = 0; i < X86_NSEG; i++)
        cmp_seg(what, sn[i], &a->seg[i], &b->seg[i]);
    cmp_seg(what, "ldt", &a->ldt, &b->ldt);
    cmp_seg(what, "tr", &a->tr, &b->tr);
    F(gdt.base);
    F(gdt.limit);
    F(idt.base);
    F(idt.limit);
    F(cr0);
    F(cr2);
    F(cr3);
    F(cr4);
    F(cr8);
    F(efer);
    for (int i = 0; i < 8; i++)
        FI(dr, i);
    F(apic_base);
    F(star);
    F(lstar);
    F(cstar);
    F(fmask);
    F(kernel_gs_base);
    F(tsc_aux);
    F(sysenter_cs);
    F(sysenter_esp);
    F(sysenter_eip);
    F(pat);
    F(misc_enable);
    F(mtrr_def_type);
    for (int i = 0; i < 11; i++)
        FI(mtrr_fixed, i);
    for (int i = 0; i < 16; i++)
        FI(mtrr_var, i);
    int64_t dt = a->tsc_offset - b->tsc_offset;
    if ((uint64_t)(dt < 0 ? -dt : dt) > tsc_slack)
        differ(what, "tsc_offset", (uint64_t)a->tsc_offset, (uint64_t)b->tsc_offset);
    for (int i = 0; i < 8; i++) {
        snprintf(f, sizeof(f), "fpu.st[%d].mant", i);
        differ(what, f, a->fpu.st[i].mant, b->fpu.st[i].mant);
        snprintf(f, sizeof(f), "fpu.st[%d].sexp", i);
        differ(what, f, a->fpu.st[i].sexp, b->fpu.st[i].sexp);
    }
    F(fpu.fcw);
    F(fpu.fsw);
    F(fpu.ftw);
    F(fpu.fop);
    F(fpu.fip);
    F(fpu.fdp);
    F(fpu.fcs);
    F(fpu.fds);
    F(fpu.mxcsr);
    for (int i = 0; i < 16; i++) {
        snprintf(f, sizeof(f), "fpu.xmm[%d].lo", i);
        differ(what, f, a->fpu.xmm[i].q[0], b->fpu.xmm[i].q[0]);
        snprintf(f, sizeof(f), "fpu.xmm[%d].hi", i);
        differ(what, f, a->fpu.xmm[i].q[1], b->fpu.xmm[i].q[1]);
    }
    F(fpu.xcr0);
    F(halted);
    F(inhibit_irq);
    F(nmi_pending);
    F(nmi_blocked);
    F(exc_depth);
    F(pending_vec);
    F(pending_err);
#undef F
#undef FI
    cr_assert_eq(mismatches, 0, "%s: %d fields differ (see the log)", what, mismatches);
}

/* ---- states ---- */

static void some_regs(uint64_t seed)
{
    for (int i = 0; i < 16; i++)
        cpu->regs[i] = seed * (uint64_t)(i + 1) ^ 0x0123456789abcdefull;
}

static void some_fpu(bool w64)
{
    X86Fpu *p = &cpu->fpu;
    p->fcw = 0x027f;
    p->fsw = (5u << 11) | 0x4200;           /* TOP 5, C3, C1 */
    p->ftw = 0xe0;                          /* R5..R7 valid */
    for (int i = 0; i < 8; i++) {
        p->st[i].mant = 0x8000000000000000ull | (0x1111111111111ull * (uint64_t)i);
        p->st[i].sexp = (uint16_t)(0x3ff0 + i);
    }
    p->st[5].mant = 0x8000000000000000ull;  /* 1.0 */
    p->st[5].sexp = 0x3fff;
    p->st[6].mant = 0xc90fdaa22168c235ull;  /* pi */
    p->st[6].sexp = 0x4000;
    p->st[7].mant = 0xa000000000000000ull;  /* -2.5 */
    p->st[7].sexp = 0xc000;
    p->fop = 0x5d9;
    if (w64) {
        p->fip = 0xffffffff81234567ull;
        p->fdp = 0x00007fff12345678ull;
        p->fcs = p->fds = 0;                /* not in the 64-bit image */
    } else {
        p->fip = 0x00401234;
        p->fdp = 0x00405678;
        p->fcs = 0x08;
        p->fds = 0x10;
    }
    p->mxcsr = 0x9fc0;                      /* FZ, DAZ, all masked */
    for (int i = 0; i < 16; i++) {
        p->xmm[i].q[0] = 0x0101010101010101ull * (uint64_t)(i + 1);
        p->xmm[i].q[1] = ~p->xmm[i].q[0] ^ ((uint64_t)i << 56);
    }
    p->xcr0 = 3;
}

static void some_msrs(void)
{
    cpu->sysenter_cs = 0x10;
    cpu->sysenter_esp = 0x9000;
    cpu->sysenter_eip = 0x401000;
    cpu->pat = 0x0407050600070106ull;
    cpu->mtrr_def_type = 0xc06;
    cpu->mtrr_fixed[0] = 0x0606060606060606ull;
    cpu->mtrr_fixed[4] = 0x0505050505050505ull;
    cpu->mtrr_var[0] = 0x80000006;
    cpu->mtrr_var[1] = 0xff80000800ull;
    cpu->tsc_aux = 7;
    cpu->misc_enable = 0x1801;
    cpu->tsc_offset = 123456789;
}

/* 32-bit protected mode, 4 MiB PSE pages, CPL 0, a MOV SS shadow (IF
 * clear), NMIs blocked, halted. */
static void pm32_state(void)
{
    some_regs(0x1111);
    enter_pm32(0);
    wr32(0x20000, 0x000000e3);              /* PDE 0: 4 MiB page at 0 */
    cpu->cr3 = 0x20000;
    cpu->cr4 = X86_CR4_PSE | X86_CR4_PGE | X86_CR4_OSFXSR | X86_CR4_DE;
    cpu->cr0 = X86_CR0_PE | X86_CR0_ET | X86_CR0_NE | X86_CR0_PG | X86_CR0_WP;
    cpu->cr2 = 0x00c0ffee;
    load(X86_FS, S_DATA0);
    cpu->seg[X86_FS].base = 0x12345000;
    memset(&cpu->seg[X86_GS], 0, sizeof(X86Seg));
    cpu->seg[X86_GS].unusable = 1;          /* null selector */
    memset(&cpu->ldt, 0, sizeof(cpu->ldt));
    cpu->ldt.selector = 0x48;
    cpu->ldt.base = 0x6000;
    cpu->ldt.limit = 0x17;
    cpu->ldt.type = 2;
    cpu->ldt.present = 1;
    cpu->idt.base = X86F_IDT;
    cpu->idt.limit = 0x7ff;
    cpu->rip = 0x10000;
    x86_cc(cpu, X86_CC_SUB, 4, 0x80000000u, 1);
    cpu->eflags &= ~(uint64_t)X86_IF;
    cpu->eflags |= X86_DF;
    cpu->dr[0] = 0x401000;
    cpu->dr[1] = 0x402000;
    cpu->dr[2] = 0x403000;
    cpu->dr[3] = 0x404000;
    cpu->dr[6] = 0xffff4ff1;
    cpu->dr[7] = 0x400;
    some_fpu(false);
    some_msrs();
    cpu->inhibit_irq = true;
    cpu->nmi_blocked = true;
    cpu->halted = true;
    x86_update_hflags(cpu);
}

/* 64-bit long mode: flat code/data, FS/GS bases, KernelGSbase, SYSCALL
 * MSRs, x87 stack and SSE registers, an STI shadow, a pending NMI. */
static void long_state(void)
{
    some_regs(0x2222);
    std_gdt();
    map_4m(0x10000, false);
    cpu->cr3 = 0x10000;
    cpu->cr4 = X86_CR4_PAE | X86_CR4_PGE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT |
               X86_CR4_OSXSAVE;
    cpu->efer = X86_EFER_LME | X86_EFER_LMA | X86_EFER_SCE | X86_EFER_NXE;
    cpu->cr0 = X86_CR0_PE | X86_CR0_MP | X86_CR0_ET | X86_CR0_NE | X86_CR0_WP |
               X86_CR0_AM | X86_CR0_PG;
    load(X86_CS, S_CODE64);
    load(X86_SS, S_DATA0);
    load(X86_DS, S_DATA0);
    load(X86_ES, S_DATA0);
    load(X86_FS, S_DATA0);
    load(X86_GS, S_DATA0);
    cpu->seg[X86_FS].base = 0x00007f1234560000ull;
    cpu->seg[X86_GS].base = 0xffff888000001000ull;
    cpu->kernel_gs_base = 0xffffffff81000000ull;
    x86_seg_from_desc(&cpu->tr, S_TSS64, rd64(X86F_GDT + S_TSS64) | (2ull << 40));
    cpu->idt.base = X86F_IDT;
    cpu->idt.limit = 0xfff;
    cpu->star = 0x0023001000000000ull;
    cpu->lstar = 0xffffffff81800000ull;
    cpu->cstar = 0xffffffff81800100ull;
    cpu->fmask = 0x47700;
    cpu->cr2 = 0xffff800012345678ull;
    cpu->cr8 = 5;
    cpu->regs[X86_RSP] = 0x9000;
    cpu->rip = 0x110000;
    x86_cc(cpu, X86_CC_ADD, 8, 0, 1);
    cpu->eflags |= X86_IF;
    some_fpu(true);
    some_msrs();
    cpu->inhibit_irq = true;
    cpu->nmi_pending = true;
    x86_update_hflags(cpu);
}

/* How far the TSC may have run while KVM held the state since start_ns:
 * the host time that passed at up to 10 GHz, plus 1 ms (a loaded host
 * running the nested harness can take seconds between put and get). */
static uint64_t tsc_slack_since(int64_t start_ns)
{
    int64_t dt = g_get_monotonic_time() * 1000 - start_ns;
    return (uint64_t)(dt + 1000000) * 10;
}

/* state of cpu -> KVM -> a fresh X86CPU, compared. */
static void round_trip(const char *what)
{
    v = create(cpu);
    int64_t t0 = g_get_monotonic_time() * 1000;
    kput(cpu);
    /* A host that loses the guest's XSETBV (the nested harness): KVM
     * holds the model's XCR0 whatever was put (kvm.h). */
    if (kvm_xcr0_pinned(v))
        cpu->fpu.xcr0 = kvm_xcr0_pinned(v);
    X86CPU *fresh = x86_cpu_create(&mach, 64);
    kget(fresh);
    compare_cpu(what, cpu, fresh, tsc_slack_since(t0));
    /* And back again: KVM -> KVM is stable. */
    kput(fresh);
    X86CPU *again = x86_cpu_create(&mach, 64);
    kget(again);
    compare_cpu(what, cpu, again, tsc_slack_since(t0));
    x86_cpu_free(again);
    x86_cpu_free(fresh);
}

Test(kvm, roundtrip_real_mode_reset)
{
    x86_cpu_reset(cpu);
    some_regs(0x3333);
    cpu->fpu.xmm[3].q[1] = 0xfeedface;
    round_trip("real mode");
}

Test(kvm, roundtrip_pm32_paging)
{
    pm32_state();
    round_trip("32-bit protected mode");
}

Test(kvm, roundtrip_long_mode)
{
    long_state();
    round_trip("long mode");
}

/* ---- guests ---- */

static void real_mode_at(uint16_t ip)
{
    x86_cpu_reset(cpu);
    x86f_cs0();
    cpu->rip = ip;
    cpu->regs[X86_RSP] = 0x8000;
}

/* OUT, REP OUTSB, IN, MMIO write and read, ROM read, a write to ROM
 * (dropped), the ROM replaced by RAM from a port write during the run,
 * REP INSB, HLT. */
Test(kvm, real_mode_guest_io)
{
    static const uint8_t prog[] = {
        0xba, 0xf8, 0x03, 0xb0, 0x4b, 0xee, 0xbe, 0x00, 0x20, 0xb9, 0x05, 0x00, 0xfc, 0xf3,
        0x6e, 0xec, 0xa2, 0x00, 0x30, 0xb8, 0x00, 0xa0, 0x8e, 0xc0, 0x26, 0xc6, 0x06, 0x10,
        0x00, 0x77, 0x26, 0xa0, 0x20, 0x00, 0xa2, 0x01, 0x30, 0xb8, 0x00, 0xe0, 0x8e, 0xc0,
        0x26, 0xa0, 0x05, 0x00, 0xa2, 0x02, 0x30, 0x26, 0xc6, 0x06, 0x05, 0x00, 0x99, 0x26,
        0xa0, 0x05, 0x00, 0xa2, 0x03, 0x30, 0xba, 0xf9, 0x03, 0xee, 0x26, 0xc6, 0x06, 0x06,
        0x00, 0x55, 0x26, 0xa0, 0x06, 0x00, 0xa2, 0x04, 0x30, 0x31, 0xc0, 0x8e, 0xc0, 0xbf,
        0x00, 0x31, 0xba, 0xf8, 0x03, 0xb9, 0x04, 0x00, 0xf3, 0x6c, 0xf4,
    };
    put(CODE, prog, sizeof(prog));
    memcpy(ram + 0x2000, "hello", 5);
    real_mode_at(CODE);
    v = create(cpu);
    kput(cpu);
    cr_assert_eq(go_kvm(), KVM_STOP_HLT);
    kget(cpu);
    cr_assert_str_eq(port_out->str, "Khello");
    cr_assert_eq(ram[0x3000], 0x5a, "IN: %#x", ram[0x3000]);
    cr_assert_eq(mmio_writes, 1);
    cr_assert_eq(mmio_last_off, 0x10);
    cr_assert_eq(mmio_last_val, 0x77);
    cr_assert_eq(ram[0x3001], 0x5b, "MMIO read: %#x", ram[0x3001]);
    uint8_t rom5 = (uint8_t)(5 * 7 + 0xa4);
    cr_assert_eq(ram[0x3002], rom5, "ROM read: %#x", ram[0x3002]);
    cr_assert_eq(ram[0x3003], rom5, "ROM after a write: %#x", ram[0x3003]);
    cr_assert_eq(rom_buf[16 + 5], rom5);
    cr_assert_eq(ram[0x3004], 0x55, "RAM mapped over the ROM: %#x", ram[0x3004]);
    cr_assert_eq(ram[0x300006], 0x55);
    cr_assert_eq(ram[0x3100], 0x5b);
    cr_assert_eq(ram[0x3103], 0x5e);
    cr_assert(cpu->halted);
    cr_assert_eq(cpu->rip, CODE + sizeof(prog));
    /* Halted: kvm_run returns at once. */
    cr_assert_eq(go_kvm(), KVM_STOP_HLT);
}

/* Filtered MSRs answered by the interpreter's MSR code: MISC_ENABLE reads
 * the X86CPU's value, a TSC_AUX write reaches RDTSCP, an MSR KVM has and
 * the interpreter has not (PLATFORM_INFO) raises #GP. */
Test(kvm, msr_filter)
{
    static const uint8_t prog[] = {
        0x66, 0xb9, 0xa0, 0x01, 0x00, 0x00, 0x0f, 0x32, 0x66, 0xa3, 0x00, 0x30, 0x66, 0xb9,
        0x03, 0x01, 0x00, 0xc0, 0x66, 0xb8, 0x34, 0x12, 0x00, 0x00, 0x66, 0x31, 0xd2, 0x0f,
        0x30, 0x0f, 0x01, 0xf9, 0x66, 0x89, 0x0e, 0x04, 0x30, 0x66, 0xb9, 0xce, 0x00, 0x00,
        0x00, 0x0f, 0x32, 0xf4, 0xba, 0xf8, 0x03, 0xb0, 0x47, 0xee, 0xf4,
    };
    put(CODE, prog, sizeof(prog));
    real_mode_at(CODE);
    ivt(X86_EXC_GP, 0, CODE + 0x2e);
    cpu->misc_enable = 0x1801;
    v = create(cpu);
    kput(cpu);
    cr_assert_eq(go_kvm(), KVM_STOP_HLT);
    kget(cpu);
    cr_assert_eq(rd32(0x3000), 0x1801);
    cr_assert_eq(rd32(0x3004), 0x1234, "RDTSCP after WRMSR TSC_AUX: %#x", rd32(0x3004));
    cr_assert_eq(cpu->tsc_aux, 0x1234);
    cr_assert_str_eq(port_out->str, "G");
}

static void *kicker(void *arg)
{
    usleep(100 * 1000);
    kvm_kick(arg);
    return NULL;
}

Test(kvm, kick)
{
    PUT(CODE, 0xeb, 0xfe);                  /* jmp $ */
    real_mode_at(CODE);
    v = create(cpu);
    kput(cpu);
    pthread_t t;
    pthread_create(&t, NULL, kicker, v);
    cr_assert_eq(go_kvm(), KVM_STOP_KICK);
    pthread_join(t, NULL);
    kget(cpu);
    cr_assert_eq(cpu->rip, CODE);
    /* The kick is consumed: a kick before the run stops it at once. */
    kvm_kick(v);
    cr_assert_eq(go_kvm(), KVM_STOP_KICK);
}

/* STI; HLT with interrupt 0x20 requested while IF is clear: the window
 * opens, the handler runs, IRET returns after the HLT. */
Test(kvm, interrupt_injection)
{
    static const uint8_t prog[] = {
        0xfb, 0xf4, 0xba, 0xf8, 0x03, 0xb0, 0x44, 0xee, 0xf4,
        0xba, 0xf8, 0x03, 0xb0, 0x49, 0xee, 0xcf,
    };
    put(CODE, prog, sizeof(prog));
    real_mode_at(CODE);
    ivt(0x20, 0, CODE + 9);
    v = create(cpu);
    kput(cpu);
    GError *e = NULL;
    cr_assert(!kvm_interrupt_ready(v));
    cr_assert_eq(kvm_inject_interrupt(v, 0x20, &e), 0);
    bool injected = false;
    for (int i = 0; i < 10; i++) {
        KvmStop s = go_kvm();
        if (s == KVM_STOP_HLT && injected)
            break;
        cr_assert(s == KVM_STOP_IRQ_WINDOW || s == KVM_STOP_HLT, "stopped: %s",
                  kvm_stop_name(s));
        int r = kvm_inject_interrupt(v, 0x20, &e);
        cr_assert_neq(r, -1, "%s", e ? e->message : "?");
        injected = r == 1;
    }
    cr_assert(injected);
    cr_assert_str_eq(port_out->str, "ID");
    kget(cpu);
    cr_assert_eq(cpu->rip, CODE + 9);
}

Test(kvm, single_step)
{
    PUT(CODE, 0x90, 0x90, 0x90, 0x90, 0xf4);   /* nop x4; hlt */
    real_mode_at(CODE);
    v = create(cpu);
    kput(cpu);
    GError *e = NULL;
    cr_assert(kvm_set_guest_debug(v, true, NULL, 0, &e), "%s", e ? e->message : "?");
    for (unsigned i = 1; i <= 2; i++) {
        KvmStop s = go_kvm();
        cr_assert_eq(s, KVM_STOP_DEBUG, "step %u stopped with %s", i, kvm_stop_name(s));
        cr_assert_eq(kvm_debug_exit(v)->exception, 1);
        cr_assert_eq(kvm_debug_exit(v)->pc, CODE + i);
    }
    kget(cpu);
    cr_assert_eq(cpu->rip, CODE + 2);
    cr_assert_eq(x86_eflags(cpu) & X86_TF, 0, "the host's TF is not the guest's");
    cr_assert(kvm_set_guest_debug(v, false, NULL, 0, &e), "%s", e ? e->message : "?");
    cr_assert_eq(go_kvm(), KVM_STOP_HLT);
    kget(cpu);
    cr_assert_eq(cpu->rip, CODE + 5);
}

/* Does this (virtual) CPU raise debug-register breakpoints in a guest at
 * all?  QEMU's TCG with nested SVM (tests/kvm/nested.py) does not: there
 * the guest's own DR0 breakpoint does not fire either. */
static bool dr_breakpoints_work(void)
{
    PUT(CODE, 0x90, 0x90, 0x90, 0x90, 0xf4);
    real_mode_at(CODE);
    ivt(X86_EXC_DB, 0, CODE + 4);
    cpu->dr[0] = CODE + 3;
    cpu->dr[7] = 0x402;                         /* G0, execute */
    v = create(cpu);
    kput(cpu);
    cr_assert_eq(go_kvm(), KVM_STOP_HLT);
    kget(cpu);
    bool hit = cpu->dr[6] & 1;
    kvm_destroy(v);
    v = NULL;
    return hit;
}

Test(kvm, hardware_breakpoint)
{
    if (!dr_breakpoints_work())
        cr_skip_test("this virtual CPU raises no debug-register breakpoints in a guest "
                     "(the guest's own DR0 breakpoint did not fire)");
    PUT(CODE, 0x90, 0x90, 0x90, 0x90, 0xf4);
    real_mode_at(CODE);
    v = create(cpu);
    kput(cpu);
    GError *e = NULL;
    uint64_t bp = CODE + 3;
    cr_assert(kvm_set_guest_debug(v, false, &bp, 1, &e), "%s", e ? e->message : "?");
    KvmStop s = go_kvm();
    cr_assert_eq(s, KVM_STOP_DEBUG, "breakpoint: stopped with %s", kvm_stop_name(s));
    cr_assert_eq(kvm_debug_exit(v)->pc, CODE + 3);
    kget(cpu);
    cr_assert_eq(cpu->rip, CODE + 3);
    cr_assert_eq(cpu->dr[7], 0x400, "the guest's DR7 is its own: %#llx",
                 (unsigned long long)cpu->dr[7]);
    cr_assert(kvm_set_guest_debug(v, false, NULL, 0, &e), "%s", e ? e->message : "?");
    cr_assert_eq(go_kvm(), KVM_STOP_HLT);
}

/* A device that stops the machine during an OUT: kvm_run returns with
 * the OUT finished (RIP after it), and goes on from there. */
Test(kvm, device_request)
{
    PUT(CODE, 0xba, 0xfa, 0x03, 0xee, 0xba, 0xf8, 0x03, 0xb0, 0x21, 0xee, 0xf4);
    real_mode_at(CODE);
    v = create(cpu);
    kput(cpu);
    cr_assert_eq(go_kvm(), KVM_STOP_REQUEST);
    kget(cpu);
    cr_assert_eq(cpu->rip, CODE + 4);
    mach.exit_request = 0;
    cr_assert_eq(go_kvm(), KVM_STOP_HLT);
    cr_assert_str_eq(port_out->str, "!");
}

/* Code fetched from MMIO cannot run on KVM: the error names the exit. */
Test(kvm, exit_error_named)
{
    PUT(CODE, 0xea, 0x00, 0x00, 0x00, 0xa0);    /* jmp a000:0000 (MMIO) */
    real_mode_at(CODE);
    v = create(cpu);
    kput(cpu);
    GError *e = NULL;
    KvmStop s = kvm_run(v, &e);
    cr_assert_eq(s, KVM_STOP_ERROR, "stopped with %s", kvm_stop_name(s));
    cr_assert(strstr(e->message, "KVM_EXIT_"), "%s", e->message);
    cr_log_info("%s", e->message);
    g_error_free(e);
}

/* INT3 with an empty IVT: #GP, #DF, shutdown. */
Test(kvm, triple_fault_shutdown)
{
    PUT(CODE, 0xcc);
    real_mode_at(CODE);
    cpu->idt.limit = 0;
    v = create(cpu);
    kput(cpu);
    cr_assert_eq(go_kvm(), KVM_STOP_SHUTDOWN);
}

/* A 64-bit guest (loop with memory updates, stack, filtered and
 * unfiltered MSRs, CPUID, SSE, an unmapped port, MMIO, lazy flags) from
 * one start state on the interpreter and on KVM: same registers, same
 * memory. */
Test(kvm, long_mode_guest_matches_interpreter)
{
    static const uint8_t prog[] = {
        0x48, 0xb8, 0xf0, 0xde, 0xbc, 0x9a, 0x78, 0x56, 0x34, 0x12, 0xb9, 0x05, 0x00, 0x00,
        0x00, 0x48, 0xc7, 0xc3, 0x00, 0x00, 0x12, 0x00, 0x48, 0x01, 0xc8, 0x48, 0xc1, 0xc0,
        0x07, 0x48, 0x31, 0x03, 0x48, 0x83, 0xc3, 0x08, 0x48, 0xff, 0xc9, 0x75, 0xed, 0x50,
        0x5a, 0x49, 0x89, 0xe0, 0xb9, 0xa0, 0x01, 0x00, 0x00, 0x0f, 0x32, 0x49, 0x89, 0xc1,
        0xb9, 0x81, 0x00, 0x00, 0xc0, 0xb8, 0x44, 0x33, 0x22, 0x11, 0xba, 0x10, 0x00, 0x23,
        0x00, 0x0f, 0x30, 0xb9, 0x03, 0x01, 0x00, 0xc0, 0xb8, 0x42, 0x00, 0x00, 0x00, 0x31,
        0xd2, 0x0f, 0x30, 0x0f, 0x32, 0x49, 0x89, 0xc2, 0x31, 0xc0, 0x0f, 0xa2, 0x41, 0x89,
        0xdb, 0xb8, 0x01, 0x00, 0x00, 0x00, 0x0f, 0xa2, 0x49, 0x89, 0xcc, 0x49, 0x89, 0xd5,
        0xb8, 0x01, 0x00, 0x00, 0x80, 0x0f, 0xa2, 0x49, 0x89, 0xd6, 0x66, 0x49, 0x0f, 0x6e,
        0xc0, 0x66, 0x0f, 0x70, 0xc8, 0x1b, 0x66, 0x0f, 0xd4, 0xc8, 0x49, 0xc7, 0xc7, 0x00,
        0x01, 0x12, 0x00, 0xf3, 0x41, 0x0f, 0x7f, 0x0f, 0xe4, 0x81, 0x89, 0xc6, 0x48, 0xc7,
        0xc7, 0x00, 0x02, 0x12, 0x00, 0xc7, 0x07, 0xa5, 0xa5, 0x00, 0x00, 0xb8, 0x30, 0x00,
        0x0a, 0x00, 0x8b, 0x28, 0x89, 0x68, 0x08, 0x48, 0x39, 0xd0, 0xf4,
    };
    /* The KVM side's X86CPU first, so the interpreter's owns the code-write
     * hook. */
    X86CPU *interp = cpu;
    X86CPU *kcpu = x86_cpu_create(&mach, 64);
    x86_cpu_free(interp);
    cpu = interp = x86_cpu_create(&mach, 64);
    long_state();
    cpu->inhibit_irq = false;
    cpu->nmi_pending = false;
    cpu->eflags &= ~(uint64_t)X86_IF;
    /* The x87 pointers are kept only while an exception is pending on AMD
     * (FXSAVE/XSAVE store zeros), Intel keeps them: no x87 code runs here,
     * so start them at zero. */
    cpu->fpu.fip = cpu->fpu.fdp = 0;
    cpu->fpu.fop = 0;
    put(0x110000, prog, sizeof(prog));
    for (unsigned i = 0; i < 64; i++)
        ram[0x120000 + i] = (uint8_t)(i * 13);
    v = create(kcpu);
    kput(interp);
    kget(kcpu);                              /* kcpu = the start state */
    uint8_t *start = g_memdup2(ram, RAM_SIZE);

    cr_assert_eq(run(10000), CPU_EXIT_IDLE);
    cr_assert(interp->halted);
    uint8_t *after = g_memdup2(ram, RAM_SIZE);
    unsigned interp_mmio = mmio_writes;
    uint64_t interp_last = mmio_last_val;

    memcpy(ram, start, RAM_SIZE);
    mmio_writes = 0;
    int64_t t0 = g_get_monotonic_time() * 1000;
    cr_assert_eq(go_kvm(), KVM_STOP_HLT);
    kget(kcpu);
    compare_cpu("64-bit guest, interpreter vs KVM", interp, kcpu,
                tsc_slack_since(t0) + (1ull << 32));
    for (size_t i = 0; i < RAM_SIZE; i++)
        cr_assert_eq(ram[i], after[i], "RAM at %#zx: interpreter %#x, KVM %#x", i, after[i],
                     ram[i]);
    cr_assert_eq(mmio_writes, interp_mmio);
    cr_assert_eq(mmio_last_val, interp_last);
    cr_assert_eq(kcpu->regs[X86_RSI] & 0xff, 0xff, "unmapped port reads 0xff");
    cr_assert_eq(kcpu->regs[X86_R10], 0x42);
    g_free(start);
    g_free(after);
    x86_cpu_free(kcpu);
}

/* Without /dev/kvm: say so and report "skipped", never "passed". */
int main(int argc, char *argv[])
{
    GError *e = NULL;
    if (!kvm_probe(&e)) {
        printf("SKIP: /dev/kvm not available: %s\n", e->message);
        g_error_free(e);
        return 77;
    }
    /* A host CPU without the model's features (QEMU's qemu64 under
     * tests/kvm/nested.py without --cpu max) cannot run these guests. */
    x86f_machine(0);
    X86CPU *probe = x86_cpu_create(&mach, 64);
    bool ok = kvm_supports_cpu(probe, &e);
    x86_cpu_free(probe);
    if (!ok) {
        printf("SKIP: /dev/kvm not usable: %s\n", e->message);
        g_error_free(e);
        return 77;
    }
    struct criterion_test_set *tests = criterion_initialize();
    int result = 0;
    if (criterion_handle_args(argc, argv, true))
        result = !criterion_run_all_tests(tests);
    criterion_finalize(tests);
    return result;
}

