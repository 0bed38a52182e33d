/* The RISC-V privileged architecture: CSRs (csr.c), SYSTEM instructions
 * (system.c), traps and interrupts (trap.c), translation (mmu.c) and PMP
 * (pmp.c).  Expected WARL values come from QEMU 7.2 (-cpu rv64,h=false and
 * rv32) where csr.c says it follows QEMU. */
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "targets/riscv/cpu.h"
#include "vmm/machine.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (16ull << 20)

#define PTE_V 0x01ull
#define PTE_R 0x02ull
#define PTE_W 0x04ull
#define PTE_X 0x08ull
#define PTE_U 0x10ull
#define PTE_G 0x20ull
#define PTE_A 0x40ull
#define PTE_D 0x80ull
#define PTE_RWX (PTE_R | PTE_W | PTE_X)

enum {
    CSR_FFLAGS = 0x001, CSR_FRM = 0x002, CSR_FCSR = 0x003,
    CSR_CYCLE = 0xc00, CSR_TIME = 0xc01, CSR_INSTRET = 0xc02,
    CSR_HPMCOUNTER3 = 0xc03, CSR_CYCLEH = 0xc80, CSR_TIMEH = 0xc81,
    CSR_SSTATUS = 0x100, CSR_SIE = 0x104, CSR_STVEC = 0x105,
    CSR_SCOUNTEREN = 0x106, CSR_SENVCFG = 0x10a, CSR_SEPC = 0x141,
    CSR_SCAUSE = 0x142, CSR_SIP = 0x144, CSR_SATP = 0x180,
    CSR_STIMECMP = 0x14d,
    CSR_MSTATUS = 0x300, CSR_MISA = 0x301, CSR_MEDELEG = 0x302,
    CSR_MIDELEG = 0x303, CSR_MIE = 0x304, CSR_MTVEC = 0x305,
    CSR_MCOUNTEREN = 0x306, CSR_MENVCFG = 0x30a, CSR_MSTATUSH = 0x310,
    CSR_MENVCFGH = 0x31a, CSR_MCOUNTINHIBIT = 0x320, CSR_MHPMEVENT3 = 0x323,
    CSR_MSCRATCH = 0x340, CSR_MEPC = 0x341, CSR_MCAUSE = 0x342,
    CSR_MTVAL = 0x343, CSR_MIP = 0x344, CSR_MTINST = 0x34a,
    CSR_PMPCFG0 = 0x3a0, CSR_PMPCFG1 = 0x3a1, CSR_PMPCFG2 = 0x3a2,
    CSR_PMPCFG4 = 0x3a4, CSR_PMPADDR0 = 0x3b0, CSR_PMPADDR1 = 0x3b1, CSR_PMPADDR2 = 0x3b2,
    CSR_PMPADDR15 = 0x3bf, CSR_PMPADDR16 = 0x3c0,
    CSR_MCYCLE = 0xb00, CSR_MINSTRET = 0xb02, CSR_MHPMCOUNTER3 = 0xb03,
    CSR_MCYCLEH = 0xb80, CSR_MINSTRETH = 0xb82,
    CSR_MVENDORID = 0xf11, CSR_MHARTID = 0xf14, CSR_MCONFIGPTR = 0xf15,
    CSR_TSELECT = 0x7a0,
};

static Machine mach;
static uint8_t *ram;
static RiscvCPU *cpu;
static uint64_t next_table;

static void setup_xlen(int xlen)
{
    memset(&mach, 0, sizeof(mach));
    as_init(&mach.as);
    ram = g_malloc0(RAM_SIZE);
    cr_assert_eq(as_add_ram(&mach.as, "ram", RAM_BASE, RAM_SIZE, ram, false), 0);
    cpu = riscv_cpu_create(&mach, xlen);
    cr_assert(cpu);
    riscv_cpu_reset(cpu, RAM_BASE);
    next_table = RAM_BASE + 0x100000;
}

static void setup64(void) { setup_xlen(64); }
static void setup32(void) { setup_xlen(32); }

static void teardown(void)
{
    riscv_cpu_free(cpu);
    g_free(ram);
}

/* ---- helpers ---- */

static RvInsn at_insn;          /* the "current instruction" for icount */

static int csr_read(unsigned csr, uint64_t *v)
{
    return riscv_csr_rw(cpu, &at_insn, csr, v, 0, 0, false);
}

static uint64_t rd(unsigned csr)
{
    uint64_t v = 0xdeadbeef;
    int r = csr_read(csr, &v);
    cr_assert_eq(r, 0, "read of csr %#x: illegal", csr);
    return v;
}

static int csr_write(unsigned csr, uint64_t val)
{
    uint64_t old;
    return riscv_csr_rw(cpu, &at_insn, csr, &old, val, ~0ull, true);
}

static void wr(unsigned csr, uint64_t val)
{
    cr_assert_eq(csr_write(csr, val), 0, "write of csr %#x: illegal", csr);
}

static void set(unsigned csr, uint64_t bits)
{
    uint64_t old;
    cr_assert_eq(riscv_csr_rw(cpu, &at_insn, csr, &old, ~0ull, bits, true), 0);
}

/* Run one SYSTEM instruction at cpu->pc as the engine would: a one-insn
 * block whose icount was pre-added. */
static const RvInsn *exec(uint32_t raw)
{
    static RvInsn in;
    memset(&in, 0, sizeof(in));
    cr_assert(riscv_decode_system(&in, raw, cpu->xlen), "decode %#x", raw);
    in.pc = cpu->pc;
    in.len = 4;
    in.raw = raw;
    in.rem = 0;
    cpu->icount += 1;
    return in.fn(cpu, &in);
}

static uint32_t csrrs_insn(unsigned rd_, unsigned csr, unsigned rs1)
{
    return (csr << 20) | (rs1 << 15) | (2u << 12) | (rd_ << 7) | 0x73;
}

static uint32_t csrrw_insn(unsigned rd_, unsigned csr, unsigned rs1)
{
    return (csr << 20) | (rs1 << 15) | (1u << 12) | (rd_ << 7) | 0x73;
}

#define ECALL 0x00000073u
#define EBREAK 0x00100073u
#define MRET 0x30200073u
#define SRET 0x10200073u
#define WFI 0x10500073u
#define SFENCE_VMA 0x12000073u

static void wr64(uint64_t pa, uint64_t v) { memcpy(ram + (pa - RAM_BASE), &v, 8); }
static uint64_t rd64(uint64_t pa) { uint64_t v; memcpy(&v, ram + (pa - RAM_BASE), 8); return v; }
static void wr32(uint64_t pa, uint32_t v) { memcpy(ram + (pa - RAM_BASE), &v, 4); }
static uint32_t rd32(uint64_t pa) { uint32_t v; memcpy(&v, ram + (pa - RAM_BASE), 4); return v; }

static uint64_t alloc_table(void)
{
    uint64_t p = next_table;
    next_table += 4096;
    memset(ram + (p - RAM_BASE), 0, 4096);
    return p;
}

/* Map va -> pa with a leaf at `leaf_level` in an Sv39/Sv48 table; returns
 * the leaf PTE's address. */
static uint64_t map64(unsigned levels, uint64_t root, uint64_t va, uint64_t pa,
                      int leaf_level, uint64_t flags)
{
    uint64_t table = root;
    for (int l = (int)levels - 1; l > leaf_level; l--) {
        uint64_t slot = table + ((va >> (12 + 9 * l)) & 511) * 8;
        uint64_t pte = rd64(slot);
        if (!(pte & PTE_V)) {
            pte = ((alloc_table() >> 12) << 10) | PTE_V;
            wr64(slot, pte);
        }
        table = (pte >> 10) << 12;
    }
    uint64_t slot = table + ((va >> (12 + 9 * leaf_level)) & 511) * 8;
    wr64(slot, ((pa >> 12) << 10) | flags | PTE_V);
    return slot;
}

static uint64_t map32(uint64_t root, uint32_t va, uint64_t pa, int leaf_level,
                      uint32_t flags)
{
    uint64_t table = root;
    if (leaf_level == 0) {
        uint64_t slot = table + ((va >> 22) & 1023) * 4;
        uint32_t pte = rd32(slot);
        if (!(pte & PTE_V)) {
            pte = (uint32_t)(((alloc_table() >> 12) << 10) | PTE_V);
            wr32(slot, pte);
        }
        table = ((uint64_t)pte >> 10) << 12;
    }
    uint64_t slot = table + ((va >> (12 + 10 * leaf_level)) & 1023) * 4;
    wr32(slot, (uint32_t)(((pa >> 12) << 10) | flags | PTE_V));
    return slot;
}

static void pmp_allow_all(void)
{
    wr(CSR_PMPADDR0, ~0ull);
    wr(CSR_PMPCFG0, 0x1f);      /* NAPOT RWX */
}

static int xlate(uint64_t va, RvAccess acc, int priv, uint64_t *pa)
{
    bool ok;
    return riscv_translate(cpu, va, acc, priv, pa, &ok);
}

static uint64_t sv39_root(void)
{
    uint64_t root = alloc_table();
    wr(CSR_SATP, (8ull << 60) | (root >> 12));
    return root;
}

/* =================================================================== */
/* CSR semantics                                                        */
/* =================================================================== */

TestSuite(csr64, .init = setup64, .fini = teardown);
TestSuite(csr32, .init = setup32, .fini = teardown);

Test(csr64, reset_values)
{
    cr_assert_eq(rd(CSR_MISA), 0x800000000014112dull);
    cr_assert_eq(rd(CSR_MSTATUS), 0x0000000a00000000ull);
    cr_assert_eq(rd(CSR_SSTATUS), 0x0000000200000000ull);
    cr_assert_eq(rd(CSR_MEDELEG), 0);
    cr_assert_eq(rd(CSR_MIDELEG), 0);
    cr_assert_eq(rd(CSR_MIE), 0);
    cr_assert_eq(rd(CSR_MIP), 0);
    cr_assert_eq(rd(CSR_SATP), 0);
    cr_assert_eq(rd(CSR_PMPCFG0), 0);
    cr_assert_eq(rd(CSR_MVENDORID), 0);
    cr_assert_eq(rd(CSR_MCONFIGPTR), 0);
    cr_assert_eq(rd(CSR_MHARTID), 0);
    cr_assert_eq(cpu->priv, RV_PRIV_M);
}

Test(csr32, reset_values)
{
    cr_assert_eq(rd(CSR_MISA), 0x4014112dull);
    cr_assert_eq(rd(CSR_MSTATUS), 0);
    cr_assert_eq(rd(CSR_MSTATUSH), 0);
    cr_assert_eq(rd(CSR_MENVCFGH), 0);
}

Test(csr64, misa_is_read_only)
{
    wr(CSR_MISA, 0);
    cr_assert_eq(rd(CSR_MISA), 0x800000000014112dull);
}

Test(csr64, mstatus_warl)
{
    wr(CSR_MSTATUS, ~0ull);
    /* SIE MIE SPIE MPIE SPP MPP FS MPRV SUM MXR TVM TW TSR, UXL=SXL=2, SD */
    cr_assert_eq(rd(CSR_MSTATUS), 0x8000000a007e79aaull);
    wr(CSR_MSTATUS, 0);
    cr_assert_eq(rd(CSR_MSTATUS), 0x0000000a00000000ull);
    /* XS is read-only 0; FS dirty sets SD. */
    wr(CSR_MSTATUS, RV_MSTATUS_XS);
    cr_assert_eq(rd(CSR_MSTATUS), 0x0000000a00000000ull);
    wr(CSR_MSTATUS, RV_MSTATUS_FS);
    cr_assert_eq(rd(CSR_MSTATUS), 0x8000000a00006000ull);
}

Test(csr64, mstatus_mpp_warl_keeps_legal_value)
{
    wr(CSR_MSTATUS, 1ull << 11);
    cr_assert_eq(rd(CSR_MSTATUS) & RV_MSTATUS_MPP, 1ull << 11);
    wr(CSR_MSTATUS, 2ull << 11);
    cr_assert_eq(rd(CSR_MSTATUS) & RV_MSTATUS_MPP, 1ull << 11);
    wr(CSR_MSTATUS, 3ull << 11);
    cr_assert_eq(rd(CSR_MSTATUS) & RV_MSTATUS_MPP, 3ull << 11);
}

Test(csr32, mstatus_warl)
{
    wr(CSR_MSTATUS, ~0ull);
    cr_assert_eq(rd(CSR_MSTATUS), 0x807e79aaull);
    wr(CSR_MSTATUSH, ~0ull);
    cr_assert_eq(rd(CSR_MSTATUSH), 0);
    wr(CSR_SSTATUS, 0);
    cr_assert_eq(rd(CSR_SSTATUS), 0);
    wr(CSR_SSTATUS, ~0ull);
    cr_assert_eq(rd(CSR_SSTATUS), 0x800c6122ull);
}

Test(csr64, sstatus_is_a_view)
{
    wr(CSR_SSTATUS, ~0ull);
    /* SIE SPIE SPP FS SUM MXR, UXL=2, SD */
    cr_assert_eq(rd(CSR_SSTATUS), 0x80000002000c6122ull);
    cr_assert_eq(rd(CSR_MSTATUS), 0x8000000a000c6122ull);
    wr(CSR_MSTATUS, RV_MSTATUS_MIE | RV_MSTATUS_MPP | RV_MSTATUS_TVM | RV_MSTATUS_SIE);
    cr_assert_eq(rd(CSR_SSTATUS), 0x0000000200000002ull);
    wr(CSR_SSTATUS, 0);
    cr_assert_eq(rd(CSR_MSTATUS), 0x0000000a00101808ull);
}

Test(csr64, delegation_and_interrupt_masks)
{
    wr(CSR_MEDELEG, ~0ull);
    cr_assert_eq(rd(CSR_MEDELEG), 0xb3ff);      /* not ecall-from-M */
    wr(CSR_MIDELEG, ~0ull);
    cr_assert_eq(rd(CSR_MIDELEG), 0x222);
    wr(CSR_MIE, ~0ull);
    cr_assert_eq(rd(CSR_MIE), 0xaaa);
    cr_assert_eq(rd(CSR_SIE), 0x222);
    wr(CSR_MIP, ~0ull);
    cr_assert_eq(rd(CSR_MIP), 0x222);
    cr_assert_eq(rd(CSR_SIP), 0x222);
    /* Only SSIP is writable through sip. */
    wr(CSR_SIP, 0);
    cr_assert_eq(rd(CSR_SIP), 0x220);
    wr(CSR_MIP, 0);
    /* Without delegation sie/sip show nothing and ignore writes. */
    wr(CSR_MIDELEG, 0);
    wr(CSR_SIE, ~0ull);
    wr(CSR_SIP, ~0ull);
    cr_assert_eq(rd(CSR_SIE), 0);
    cr_assert_eq(rd(CSR_SIP), 0);
    cr_assert_eq(rd(CSR_MIP), 0);
    wr(CSR_SIE, 0);
    cr_assert_eq(rd(CSR_MIE), 0xaaa);
}

Test(csr64, mip_reads_device_lines_but_rmw_does_not_latch_them)
{
    riscv_cpu_set_irq(cpu, RV_IRQ_SEIP, 1);
    riscv_cpu_set_irq(cpu, RV_IRQ_MTIP, 1);
    cr_assert_eq(rd(CSR_MIP), 0x280);
    set(CSR_MIP, 1ull << RV_IRQ_SSIP);          /* csrs mip, SSIP */
    cr_assert_eq(rd(CSR_MIP), 0x282);
    riscv_cpu_set_irq(cpu, RV_IRQ_SEIP, 0);
    riscv_cpu_set_irq(cpu, RV_IRQ_MTIP, 0);
    cr_assert_eq(rd(CSR_MIP), 0x002);
    /* MTIP is not software-writable. */
    wr(CSR_MIP, 0x80);
    cr_assert_eq(rd(CSR_MIP), 0);
}

Test(csr64, tvec_modes)
{
    wr(CSR_MTVEC, 0x80000020);
    wr(CSR_MTVEC, 0x80000002);                  /* mode 2: ignored */
    cr_assert_eq(rd(CSR_MTVEC), 0x80000020);
    wr(CSR_MTVEC, ~0ull);                       /* mode 3: ignored */
    cr_assert_eq(rd(CSR_MTVEC), 0x80000020);
    wr(CSR_MTVEC, 0x80000001);
    cr_assert_eq(rd(CSR_MTVEC), 0x80000001);
    wr(CSR_STVEC, 0x80000006);
    cr_assert_eq(rd(CSR_STVEC), 0);
    wr(CSR_STVEC, 0x80000005);
    cr_assert_eq(rd(CSR_STVEC), 0x80000005);
}

Test(csr64, epc_bit0_reads_zero)
{
    wr(CSR_MEPC, ~0ull);
    cr_assert_eq(rd(CSR_MEPC), ~1ull);
    wr(CSR_SEPC, 0x80000003);
    cr_assert_eq(rd(CSR_SEPC), 0x80000002);
    wr(CSR_MCAUSE, ~0ull);
    cr_assert_eq(rd(CSR_MCAUSE), ~0ull);
}

Test(csr64, envcfg_counteren_inhibit_warl)
{
    wr(CSR_MENVCFG, ~0ull);
    cr_assert_eq(rd(CSR_MENVCFG), 1);
    wr(CSR_SENVCFG, ~0ull);
    cr_assert_eq(rd(CSR_SENVCFG), 1);
    wr(CSR_MCOUNTEREN, ~0ull);
    cr_assert_eq(rd(CSR_MCOUNTEREN), 0xffffffffull);
    wr(CSR_SCOUNTEREN, ~0ull);
    cr_assert_eq(rd(CSR_SCOUNTEREN), 0xffffffffull);
    wr(CSR_MCOUNTINHIBIT, ~0ull);
    cr_assert_eq(rd(CSR_MCOUNTINHIBIT), 5);
}

Test(csr64, satp_modes)
{
    wr(CSR_SATP, 0x8fffffffffffffffull);
    cr_assert_eq(rd(CSR_SATP), 0x8fffffffffffffffull);
    wr(CSR_SATP, 0x9000000000080000ull);        /* Sv48 */
    cr_assert_eq(rd(CSR_SATP), 0x9000000000080000ull);
    wr(CSR_SATP, 0xa000000000080000ull);        /* Sv57: unsupported */
    cr_assert_eq(rd(CSR_SATP), 0x9000000000080000ull);
    wr(CSR_SATP, 0x1000000000000001ull);        /* reserved mode */
    cr_assert_eq(rd(CSR_SATP), 0x9000000000080000ull);
    wr(CSR_SATP, 0);
    cr_assert_eq(rd(CSR_SATP), 0);
}

Test(csr32, satp_and_pmp_csrs)
{
    wr(CSR_SATP, ~0ull);
    cr_assert_eq(rd(CSR_SATP), 0xffffffffull);
    wr(CSR_PMPCFG1, 0x1f1f1f1f);
    cr_assert_eq(rd(CSR_PMPCFG1), 0x1f1f1f1f);
    cr_assert_eq(cpu->pmpcfg[0] >> 32, 0x1f1f1f1f);
    wr(CSR_PMPADDR0, ~0ull);
    cr_assert_eq(rd(CSR_PMPADDR0), 0xffffffffull);
    uint64_t v;
    cr_assert_eq(csr_read(CSR_PMPCFG4, &v), RV_EXC_ILLEGAL_INSN);
}

Test(csr64, pmp_csrs)
{
    uint64_t v;
    /* Bits 63:54 read back (as QEMU 7.2) but are not address bits. */
    wr(CSR_PMPADDR0, ~0ull);
    cr_assert_eq(rd(CSR_PMPADDR0), ~0ull);
    wr(CSR_PMPADDR0, (1ull << 60) | (RAM_BASE >> 2));
    wr(CSR_PMPCFG0, 0x11);                  /* NA4, R */
    cr_assert(riscv_pmp_check(cpu, RAM_BASE, 4, RV_ACC_READ, RV_PRIV_S, NULL));
    cr_assert_not(riscv_pmp_check(cpu, RAM_BASE + 4, 4, RV_ACC_READ, RV_PRIV_S, NULL));
    wr(CSR_PMPCFG0, 0);
    cr_assert_eq(rd(CSR_PMPADDR15), 0);
    cr_assert_eq(csr_read(CSR_PMPADDR16, &v), RV_EXC_ILLEGAL_INSN);
    cr_assert_eq(csr_read(CSR_PMPCFG1, &v), RV_EXC_ILLEGAL_INSN);
    cr_assert_eq(csr_read(CSR_PMPCFG4, &v), RV_EXC_ILLEGAL_INSN);
    wr(CSR_PMPCFG2, 0x0102030405060708ull);
    cr_assert_eq(rd(CSR_PMPCFG2), 0x0102030405060708ull);
    /* Bits 6:5 are reserved. */
    wr(CSR_PMPCFG0, 0x6464646464646464ull);
    cr_assert_eq(rd(CSR_PMPCFG0), 0x0404040404040404ull);
}

Test(csr64, pmp_lock_bits)
{
    wr(CSR_PMPADDR0, 0x1000);
    wr(CSR_PMPADDR1, 0x2000);
    wr(CSR_PMPCFG0, 0x8f00);            /* entry 1: L, TOR, RWX */
    wr(CSR_PMPCFG0, 0);                 /* entry 1 stays */
    cr_assert_eq(rd(CSR_PMPCFG0), 0x8f00);
    wr(CSR_PMPADDR1, 0x3000);           /* locked */
    cr_assert_eq(rd(CSR_PMPADDR1), 0x2000);
    wr(CSR_PMPADDR0, 0x1800);           /* base of a locked TOR entry */
    cr_assert_eq(rd(CSR_PMPADDR0), 0x1000);
    wr(CSR_PMPCFG0, 0x8f1f);            /* entry 0 still writable */
    cr_assert_eq(rd(CSR_PMPCFG0), 0x8f1f);
}

Test(csr64, counters_follow_icount)
{
    cpu->icount = 1000;
    at_insn.rem = 9;                    /* 990 retired before "this" insn */
    cr_assert_eq(rd(CSR_MINSTRET), 990);
    cr_assert_eq(rd(CSR_MCYCLE), 990);
    cr_assert_eq(rd(CSR_INSTRET), 990);
    cr_assert_eq(rd(CSR_CYCLE), 990);
    /* The next instruction reads what was written. */
    wr(CSR_MINSTRET, 5000);
    at_insn.rem = 8;
    cr_assert_eq(rd(CSR_MINSTRET), 5000);
    cr_assert_eq(rd(CSR_MCYCLE), 991);
    at_insn.rem = 0;
    cr_assert_eq(rd(CSR_INSTRET), 5008);
    /* Inhibit freezes; resuming continues from the frozen value. */
    wr(CSR_MCOUNTINHIBIT, 4);
    cpu->icount += 100;
    cr_assert_eq(rd(CSR_MINSTRET), 5009);
    wr(CSR_MINSTRET, 7);
    cr_assert_eq(rd(CSR_MINSTRET), 7);
    wr(CSR_MCOUNTINHIBIT, 0);
    cpu->icount += 10;
    cr_assert_eq(rd(CSR_MINSTRET), 7 + 9);
    at_insn.rem = 0;
}

Test(csr64, hpm_counters_read_zero)
{
    uint64_t v;
    wr(CSR_MHPMCOUNTER3, 5);
    cr_assert_eq(rd(CSR_MHPMCOUNTER3), 0);
    wr(CSR_MHPMEVENT3, 1);
    cr_assert_eq(rd(CSR_MHPMEVENT3), 0);
    cr_assert_eq(rd(CSR_HPMCOUNTER3), 0);
    cr_assert_eq(csr_read(0xb01, &v), RV_EXC_ILLEGAL_INSN);
    cr_assert_eq(csr_read(CSR_CYCLEH, &v), RV_EXC_ILLEGAL_INSN);
    cr_assert_eq(csr_read(CSR_MCYCLEH, &v), RV_EXC_ILLEGAL_INSN);
}

static uint64_t fake_time(void *opaque)
{
    return *(uint64_t *)opaque;
}

Test(csr64, counter_enables)
{
    uint64_t v, now = 0x123456789ull;
    cr_assert_eq(csr_read(CSR_TIME, &v), RV_EXC_ILLEGAL_INSN);  /* no timer */
    cpu->rdtime = fake_time;
    cpu->rdtime_opaque = &now;
    cr_assert_eq(rd(CSR_TIME), now);

    cpu->priv = RV_PRIV_S;
    cr_assert_eq(csr_read(CSR_CYCLE, &v), RV_EXC_ILLEGAL_INSN);
    cr_assert_eq(csr_read(CSR_TIME, &v), RV_EXC_ILLEGAL_INSN);
    cpu->mcounteren = 7;
    cr_assert_eq(rd(CSR_TIME), now);
    cr_assert_eq(csr_read(CSR_HPMCOUNTER3, &v), RV_EXC_ILLEGAL_INSN);
    cpu->priv = RV_PRIV_U;
    cr_assert_eq(csr_read(CSR_CYCLE, &v), RV_EXC_ILLEGAL_INSN);
    cpu->scounteren = 5;
    cr_assert_eq(csr_read(CSR_TIME, &v), RV_EXC_ILLEGAL_INSN);
    cr_assert_eq(csr_read(CSR_INSTRET, &v), 0);
    cpu->mcounteren = 0;
    cr_assert_eq(csr_read(CSR_INSTRET, &v), RV_EXC_ILLEGAL_INSN);
}

Test(csr32, counter_halves)
{
    cpu->icount = 0x123456789abull;
    at_insn.rem = 0;
    cr_assert_eq(rd(CSR_CYCLE), 0x456789aaull);
    cr_assert_eq(rd(CSR_CYCLEH), 0x123);
    wr(CSR_MCYCLEH, 0x777);
    /* Written values are what the next instruction reads; these reads are
     * made at the writing instruction's own position, one count earlier. */
    cr_assert_eq(rd(CSR_MCYCLEH), 0x777);
    cr_assert_eq(rd(CSR_MCYCLE), 0x456789aaull);
    wr(CSR_MINSTRET, 0x10);
    cr_assert_eq(rd(CSR_MINSTRETH), 0x123);
    cr_assert_eq(rd(CSR_MINSTRET), 0xf);
    uint64_t now = 0xabcdef0011223344ull;
    cpu->rdtime = fake_time;
    cpu->rdtime_opaque = &now;
    cr_assert_eq(rd(CSR_TIMEH), 0xabcdef00ull);
    cr_assert_eq(rd(CSR_TIME), 0x11223344ull);
}

Test(csr64, fp_csrs)
{
    uint64_t v;
    cr_assert_eq(csr_read(CSR_FCSR, &v), RV_EXC_ILLEGAL_INSN);
    cr_assert_eq(csr_write(CSR_FFLAGS, 1), RV_EXC_ILLEGAL_INSN);
    wr(CSR_MSTATUS, 1ull << 13);                /* FS = Initial */
    cr_assert_eq(rd(CSR_FCSR), 0);
    cr_assert_eq(rd(CSR_MSTATUS) & RV_MSTATUS_FS, 1ull << 13);
    wr(CSR_FCSR, 0xfff);
    cr_assert_eq(rd(CSR_FCSR), 0xff);
    cr_assert_eq(rd(CSR_FRM), 7);
    cr_assert_eq(rd(CSR_FFLAGS), 0x1f);
    cr_assert_eq(rd(CSR_MSTATUS), 0x8000000a00006000ull);
    wr(CSR_FRM, 2);
    cr_assert_eq(rd(CSR_FCSR), 0x5f);
    cr_assert_eq(cpu->frm, 2);
    cr_assert_eq(cpu->fflags, 0x1f);
}

Test(csr64, privilege_and_read_only_checks)
{
    uint64_t v;
    cr_assert_eq(csr_write(CSR_MHARTID, 1), RV_EXC_ILLEGAL_INSN);
    cr_assert_eq(csr_write(CSR_CYCLE, 1), RV_EXC_ILLEGAL_INSN);
    cr_assert_eq(csr_read(CSR_STIMECMP, &v), RV_EXC_ILLEGAL_INSN);
    cr_assert_eq(csr_read(CSR_MTINST, &v), RV_EXC_ILLEGAL_INSN);
    cr_assert_eq(csr_read(CSR_TSELECT, &v), RV_EXC_ILLEGAL_INSN);
    cr_assert_eq(csr_read(CSR_MSTATUSH, &v), RV_EXC_ILLEGAL_INSN);
    cr_assert_eq(csr_read(CSR_MENVCFGH, &v), RV_EXC_ILLEGAL_INSN);
    cr_assert_eq(csr_read(0x7c0, &v), RV_EXC_ILLEGAL_INSN);
    cpu->priv = RV_PRIV_S;
    cr_assert_eq(csr_read(CSR_MSTATUS, &v), RV_EXC_ILLEGAL_INSN);
    cr_assert_eq(csr_write(CSR_MSCRATCH, 1), RV_EXC_ILLEGAL_INSN);
    cr_assert_eq(csr_read(CSR_SSTATUS, &v), 0);
    cr_assert_eq(csr_read(CSR_SATP, &v), 0);
    cpu->mstatus |= RV_MSTATUS_TVM;
    cr_assert_eq(csr_read(CSR_SATP, &v), RV_EXC_ILLEGAL_INSN);
    cr_assert_eq(csr_write(CSR_SATP, 0), RV_EXC_ILLEGAL_INSN);
    cpu->priv = RV_PRIV_U;
    cr_assert_eq(csr_read(CSR_SSTATUS, &v), RV_EXC_ILLEGAL_INSN);
}

/* =================================================================== */
/* SYSTEM instructions                                                  */
/* =================================================================== */

TestSuite(sys64, .init = setup64, .fini = teardown);
TestSuite(sys32, .init = setup32, .fini = teardown);

Test(sys64, csr_instructions)
{
    cpu->pc = RAM_BASE;
    cpu->x[5] = 0x1234;
    cr_assert_null(exec(csrrw_insn(6, 0x340, 5)));      /* csrrw t1, mscratch, t0 */
    cr_assert_eq(cpu->pc, RAM_BASE + 4);
    cr_assert_eq(cpu->mscratch, 0x1234);
    cr_assert_eq(cpu->x[6], 0);
    /* csrrs x0 on a read-only CSR is legal, csrrw is not. */
    cr_assert_null(exec(csrrs_insn(0, CSR_CYCLE, 0)));
    cr_assert_eq(cpu->x[0], 0);
    cr_assert_eq(cpu->priv, RV_PRIV_M);
    cr_assert_eq(cpu->pc, RAM_BASE + 8);
    uint64_t ic = cpu->icount;
    cr_assert_null(exec(csrrw_insn(0, CSR_CYCLE, 0)));
    cr_assert_eq(cpu->mcause, RV_EXC_ILLEGAL_INSN);
    cr_assert_eq(cpu->mtval, csrrw_insn(0, CSR_CYCLE, 0));
    cr_assert_eq(cpu->mepc, RAM_BASE + 8);
    cr_assert_eq(cpu->icount, ic, "faulting insn must not retire");
    /* csrrsi / csrrci */
    cpu->pc = RAM_BASE;
    cr_assert_null(exec((0x340u << 20) | (5u << 15) | (6u << 12) | (7u << 7) | 0x73));
    cr_assert_eq(cpu->x[7], 0x1234);
    cr_assert_eq(cpu->mscratch, 0x1235);
    cr_assert_null(exec((0x340u << 20) | (1u << 15) | (7u << 12) | (0u << 7) | 0x73));
    cr_assert_eq(cpu->mscratch, 0x1234);
}

Test(sys32, csr_result_is_sign_extended)
{
    cpu->pc = RAM_BASE;
    cpu->mstatus |= RV_MSTATUS_FS;
    cr_assert_null(exec(csrrs_insn(5, CSR_MSTATUS, 0)));
    cr_assert_eq(cpu->x[5], 0xffffffff80006000ull);
    /* A sign-extended source does not spill into the upper half. */
    cpu->x[6] = 0xffffffff80000000ull;
    cr_assert_null(exec(csrrw_insn(0, 0x340, 6)));
    cr_assert_eq(cpu->mscratch, 0x80000000ull);
}

Test(sys64, ecall_causes)
{
    cpu->pc = RAM_BASE + 0x100;
    wr(CSR_MTVEC, RAM_BASE + 0x400);
    exec(ECALL);
    cr_assert_eq(cpu->mcause, RV_EXC_ECALL_M);
    cr_assert_eq(cpu->mepc, RAM_BASE + 0x100);
    cr_assert_eq(cpu->pc, RAM_BASE + 0x400);
    cpu->priv = RV_PRIV_S;
    exec(ECALL);
    cr_assert_eq(cpu->mcause, RV_EXC_ECALL_S);
    cr_assert_eq(cpu->mstatus & RV_MSTATUS_MPP, 1ull << 11);
    cpu->priv = RV_PRIV_U;
    exec(ECALL);
    cr_assert_eq(cpu->mcause, RV_EXC_ECALL_U);
    cr_assert_eq(cpu->mstatus & RV_MSTATUS_MPP, 0);
    exec(EBREAK);
    cr_assert_eq(cpu->mcause, RV_EXC_BREAKPOINT);
    cr_assert_eq(cpu->mtval, 0);
}

Test(sys64, mret_and_sret)
{
    cpu->resv_addr = RAM_BASE;
    /* mret to S: MIE <- MPIE, MPIE <- 1, MPP <- U, MPRV cleared. */
    cpu->mstatus = (cpu->mstatus & ~0xffffull) | RV_MSTATUS_MPIE |
                   (1ull << 11) | RV_MSTATUS_MPRV;
    cpu->mepc = RAM_BASE + 0x40;
    cr_assert_null(exec(MRET));
    cr_assert_eq(cpu->priv, RV_PRIV_S);
    cr_assert_eq(cpu->pc, RAM_BASE + 0x40);
    cr_assert_eq(cpu->mstatus & 0xffffffffull,
                 RV_MSTATUS_MIE | RV_MSTATUS_MPIE);
    cr_assert_eq(cpu->resv_addr, ~0ull);
    /* mret is illegal in S. */
    exec(MRET);
    cr_assert_eq(cpu->priv, RV_PRIV_M);
    cr_assert_eq(cpu->mcause, RV_EXC_ILLEGAL_INSN);
    cr_assert_eq(cpu->mtval, MRET);
    /* mret to M keeps MPRV. */
    cpu->mstatus |= RV_MSTATUS_MPRV | RV_MSTATUS_MPP;
    cpu->mepc = RAM_BASE;
    exec(MRET);
    cr_assert_eq(cpu->priv, RV_PRIV_M);
    cr_assert(cpu->mstatus & RV_MSTATUS_MPRV);
    cr_assert_eq(cpu->mstatus & RV_MSTATUS_MPP, 0);
    /* sret from M to S clears MPRV too. */
    cpu->mstatus |= RV_MSTATUS_SPP | RV_MSTATUS_SPIE;
    cpu->sepc = RAM_BASE + 0x80;
    exec(SRET);
    cr_assert_eq(cpu->priv, RV_PRIV_S);
    cr_assert_eq(cpu->pc, RAM_BASE + 0x80);
    cr_assert_not(cpu->mstatus & RV_MSTATUS_MPRV);
    cr_assert(cpu->mstatus & RV_MSTATUS_SIE);
    cr_assert(cpu->mstatus & RV_MSTATUS_SPIE);
    cr_assert_not(cpu->mstatus & RV_MSTATUS_SPP);
    /* sret from S to U. */
    cpu->sepc = RAM_BASE + 0xc0;
    exec(SRET);
    cr_assert_eq(cpu->priv, RV_PRIV_U);
    cr_assert_eq(cpu->pc, RAM_BASE + 0xc0);
    /* sret in U is illegal. */
    exec(SRET);
    cr_assert_eq(cpu->priv, RV_PRIV_M);
    cr_assert_eq(cpu->mcause, RV_EXC_ILLEGAL_INSN);
}

Test(sys64, tsr_tvm_tw)
{
    cpu->mstatus |= RV_MSTATUS_TSR | RV_MSTATUS_TVM | RV_MSTATUS_TW;
    uint32_t insns[] = { SRET, SFENCE_VMA, WFI, csrrs_insn(5, CSR_SATP, 0) };
    for (unsigned i = 0; i < 4; i++) {
        cpu->priv = RV_PRIV_S;
        cpu->mcause = 0;
        exec(insns[i]);
        cr_assert_eq(cpu->priv, RV_PRIV_M, "insn %#x", insns[i]);
        cr_assert_eq(cpu->mcause, RV_EXC_ILLEGAL_INSN);
        cr_assert_eq(cpu->mtval, insns[i]);
    }
    /* M-mode is not affected by TW/TVM. */
    cpu->pc = RAM_BASE;
    cr_assert_null(exec(SFENCE_VMA));
    cr_assert_eq(cpu->pc, RAM_BASE + 4);
}

Test(sys64, wfi)
{
    cpu->pc = RAM_BASE;
    cr_assert_null(exec(WFI));
    cr_assert(cpu->wfi);
    cr_assert_eq(cpu->pc, RAM_BASE + 4);
    cpu->wfi = false;
    /* A pending enabled interrupt wakes it even with MIE clear. */
    cpu->mie = 1ull << RV_IRQ_MTIP;
    riscv_cpu_set_irq(cpu, RV_IRQ_MTIP, 1);
    cr_assert_null(exec(WFI));
    cr_assert_not(cpu->wfi);
    cr_assert_eq(cpu->priv, RV_PRIV_M);
    /* Illegal in U even with TW clear; fine in S. */
    cpu->priv = RV_PRIV_S;
    cpu->pc = RAM_BASE;
    exec(WFI);
    cr_assert_eq(cpu->priv, RV_PRIV_S);
    cpu->priv = RV_PRIV_U;
    exec(WFI);
    cr_assert_eq(cpu->priv, RV_PRIV_M);
    cr_assert_eq(cpu->mcause, RV_EXC_ILLEGAL_INSN);
}

Test(sys64, decode_rejects_unknown)
{
    RvInsn in;
    memset(&in, 0, sizeof(in));
    cr_assert_not(riscv_decode_system(&in, 0x00200073, 64));   /* uret */
    cr_assert_not(riscv_decode_system(&in, 0x7b200073, 64));   /* dret */
    cr_assert_not(riscv_decode_system(&in, 0x00004073, 64));   /* funct3 4 */
    cr_assert_not(riscv_decode_system(&in, 0x12000f73, 64));   /* sfence rd!=0 */
    cr_assert(riscv_decode_system(&in, 0x12b50073, 64));       /* sfence a0,a1 */
}

/* =================================================================== */
/* Traps and interrupts                                                 */
/* =================================================================== */

TestSuite(trap64, .init = setup64, .fini = teardown);
TestSuite(trap32, .init = setup32, .fini = teardown);

Test(trap64, raise_fixes_icount_and_epc)
{
    RvInsn block[4];
    memset(block, 0, sizeof(block));
    for (int i = 0; i < 4; i++) {
        block[i].pc = RAM_BASE + 4 * (uint64_t)i;
        block[i].rem = (uint8_t)(3 - i);
    }
    cpu->icount = 100 + 4;      /* block pre-added */
    cpu->resv_addr = RAM_BASE;
    wr(CSR_MTVEC, RAM_BASE + 0x200);
    cr_assert_null(riscv_raise(cpu, &block[2], RV_EXC_LOAD_PAGE_FAULT, 0x1234));
    cr_assert_eq(cpu->icount, 102);
    cr_assert_eq(cpu->mepc, RAM_BASE + 8);
    cr_assert_eq(cpu->mtval, 0x1234);
    cr_assert_eq(cpu->mcause, RV_EXC_LOAD_PAGE_FAULT);
    cr_assert_eq(cpu->pc, RAM_BASE + 0x200);
    cr_assert_eq(cpu->resv_addr, ~0ull);
}

Test(trap64, delegation)
{
    wr(CSR_MTVEC, RAM_BASE + 0x100);
    wr(CSR_STVEC, RAM_BASE + 0x200);
    wr(CSR_MEDELEG, 1ull << RV_EXC_ECALL_U | 1ull << RV_EXC_LOAD_PAGE_FAULT);
    /* U -> S, delegated. */
    cpu->priv = RV_PRIV_U;
    cpu->mstatus |= RV_MSTATUS_SIE;
    cpu->pc = 0x1000;
    riscv_do_trap(cpu, RV_EXC_ECALL_U, false, 0);
    cr_assert_eq(cpu->priv, RV_PRIV_S);
    cr_assert_eq(cpu->pc, RAM_BASE + 0x200);
    cr_assert_eq(cpu->sepc, 0x1000);
    cr_assert_eq(cpu->scause, RV_EXC_ECALL_U);
    cr_assert(cpu->mstatus & RV_MSTATUS_SPIE);
    cr_assert_not(cpu->mstatus & RV_MSTATUS_SIE);
    cr_assert_not(cpu->mstatus & RV_MSTATUS_SPP);
    /* S -> S, delegated; SPP = S. */
    cpu->pc = 0x2000;
    riscv_do_trap(cpu, RV_EXC_LOAD_PAGE_FAULT, false, 0xdead);
    cr_assert_eq(cpu->priv, RV_PRIV_S);
    cr_assert_eq(cpu->stval, 0xdead);
    cr_assert(cpu->mstatus & RV_MSTATUS_SPP);
    cr_assert_not(cpu->mstatus & RV_MSTATUS_SPIE);
    /* S -> M, not delegated. */
    cpu->mstatus |= RV_MSTATUS_MIE;
    riscv_do_trap(cpu, RV_EXC_ILLEGAL_INSN, false, 0x73);
    cr_assert_eq(cpu->priv, RV_PRIV_M);
    cr_assert_eq(cpu->pc, RAM_BASE + 0x100);
    cr_assert_eq(cpu->mcause, RV_EXC_ILLEGAL_INSN);
    cr_assert_eq(cpu->mtval, 0x73);
    cr_assert_eq(cpu->mstatus & RV_MSTATUS_MPP, 1ull << 11);
    cr_assert(cpu->mstatus & RV_MSTATUS_MPIE);
    cr_assert_not(cpu->mstatus & RV_MSTATUS_MIE);
    /* M never delegates. */
    riscv_do_trap(cpu, RV_EXC_LOAD_PAGE_FAULT, false, 0);
    cr_assert_eq(cpu->priv, RV_PRIV_M);
    cr_assert_eq(cpu->mcause, RV_EXC_LOAD_PAGE_FAULT);
    cr_assert_eq(cpu->mstatus & RV_MSTATUS_MPP, 3ull << 11);
}

Test(trap64, vectored_interrupts)
{
    wr(CSR_MTVEC, RAM_BASE + 0x101);
    wr(CSR_MIE, 1ull << RV_IRQ_MTIP);
    cpu->priv = RV_PRIV_S;
    cpu->pc = 0x5000;
    riscv_cpu_set_irq(cpu, RV_IRQ_MTIP, 1);
    cr_assert(riscv_check_interrupts(cpu));
    cr_assert_eq(cpu->pc, RAM_BASE + 0x100 + 4 * RV_IRQ_MTIP);
    cr_assert_eq(cpu->mcause, (1ull << 63) | RV_IRQ_MTIP);
    cr_assert_eq(cpu->mepc, 0x5000);
    /* Exceptions go to the base. */
    riscv_do_trap(cpu, RV_EXC_BREAKPOINT, false, 0);
    cr_assert_eq(cpu->pc, RAM_BASE + 0x100);
}

Test(trap32, interrupt_cause_bit)
{
    wr(CSR_MTVEC, RAM_BASE);
    wr(CSR_MIE, 1ull << RV_IRQ_MEIP);
    cpu->priv = RV_PRIV_U;
    riscv_cpu_set_irq(cpu, RV_IRQ_MEIP, 1);
    cr_assert(riscv_check_interrupts(cpu));
    cr_assert_eq(rd(CSR_MCAUSE), 0x80000000ull | RV_IRQ_MEIP);
}

static int take_one(void)
{
    if (!riscv_check_interrupts(cpu))
        return -1;
    uint64_t cause = cpu->priv == RV_PRIV_M ? cpu->mcause : cpu->scause;
    return (int)(cause & 0xff);
}

Test(trap64, interrupt_priority)
{
    static const int order[] = {
        RV_IRQ_MEIP, RV_IRQ_MSIP, RV_IRQ_MTIP,
        RV_IRQ_SEIP, RV_IRQ_SSIP, RV_IRQ_STIP,
    };
    wr(CSR_MIE, 0xaaa);
    cpu->mip = 0x222;
    cpu->mip_hw = 0x888;
    for (unsigned i = 0; i < 6; i++) {
        cpu->priv = RV_PRIV_U;
        cr_assert_eq(take_one(), order[i]);
        cr_assert_eq(cpu->priv, RV_PRIV_M);
        cpu->mip &= ~(1ull << order[i]);
        cpu->mip_hw &= ~(1ull << order[i]);
    }
    cpu->priv = RV_PRIV_U;
    cr_assert_eq(take_one(), -1);
}

Test(trap64, interrupt_enables)
{
    wr(CSR_MIE, 0xaaa);
    wr(CSR_MIDELEG, 0x222);
    wr(CSR_MTVEC, RAM_BASE);
    wr(CSR_STVEC, RAM_BASE + 0x100);
    cpu->mip = 1ull << RV_IRQ_SSIP;
    /* Delegated interrupts are never taken in M, even with MIE. */
    cpu->mstatus |= RV_MSTATUS_MIE | RV_MSTATUS_SIE;
    cr_assert_eq(take_one(), -1);
    /* In S with SIE clear: not taken; with SIE: taken into S. */
    cpu->priv = RV_PRIV_S;
    cpu->mstatus &= ~RV_MSTATUS_SIE;
    cr_assert_eq(take_one(), -1);
    cr_assert(riscv_wfi_wakeup(cpu));
    cpu->mstatus |= RV_MSTATUS_SIE;
    cr_assert_eq(take_one(), RV_IRQ_SSIP);
    cr_assert_eq(cpu->priv, RV_PRIV_S);
    cr_assert_eq(cpu->scause, (1ull << 63) | RV_IRQ_SSIP);
    cr_assert_eq(cpu->pc, RAM_BASE + 0x100);
    /* In U: S interrupts are taken whatever SIE says. */
    cpu->priv = RV_PRIV_U;
    cpu->mstatus &= ~RV_MSTATUS_SIE;
    cr_assert_eq(take_one(), RV_IRQ_SSIP);
    /* M-level interrupts preempt S and win over pending S ones. */
    cpu->priv = RV_PRIV_S;
    cpu->mstatus &= ~(RV_MSTATUS_MIE | RV_MSTATUS_SIE);
    riscv_cpu_set_irq(cpu, RV_IRQ_MTIP, 1);
    cr_assert_eq(take_one(), RV_IRQ_MTIP);
    cr_assert_eq(cpu->priv, RV_PRIV_M);
    /* In M with MIE clear nothing is taken. */
    cr_assert_eq(take_one(), -1);
    /* A non-delegated S interrupt is an M interrupt. */
    wr(CSR_MIDELEG, 0);
    riscv_cpu_set_irq(cpu, RV_IRQ_MTIP, 0);
    cpu->mstatus |= RV_MSTATUS_MIE;
    cr_assert_eq(take_one(), RV_IRQ_SSIP);
    cr_assert_eq(cpu->priv, RV_PRIV_M);
}

/* =================================================================== */
/* Translation                                                          */
/* =================================================================== */

TestSuite(mmu64, .init = setup64, .fini = teardown);
TestSuite(mmu32, .init = setup32, .fini = teardown);

Test(mmu64, bare_and_m_mode_are_identity)
{
    uint64_t pa;
    bool ok;
    cr_assert_eq(riscv_translate(cpu, RAM_BASE + 0x123, RV_ACC_READ, RV_PRIV_M, &pa, &ok), 0);
    cr_assert_eq(pa, RAM_BASE + 0x123);
    cr_assert(ok);
    /* S-mode with Bare: identity but PMP denies without entries. */
    cr_assert_eq(xlate(RAM_BASE, RV_ACC_READ, RV_PRIV_S, &pa), RV_EXC_LOAD_ACCESS);
    cr_assert_eq(xlate(RAM_BASE, RV_ACC_EXEC, RV_PRIV_U, &pa), RV_EXC_INSN_ACCESS);
    cr_assert_eq(xlate(RAM_BASE, RV_ACC_WRITE, RV_PRIV_S, &pa), RV_EXC_STORE_ACCESS);
    pmp_allow_all();
    cr_assert_eq(xlate(RAM_BASE + 8, RV_ACC_WRITE, RV_PRIV_S, &pa), 0);
    cr_assert_eq(pa, RAM_BASE + 8);
    /* M ignores satp. */
    sv39_root();
    cr_assert_eq(xlate(RAM_BASE + 8, RV_ACC_READ, RV_PRIV_M, &pa), 0);
    cr_assert_eq(pa, RAM_BASE + 8);
}

Test(mmu64, data_priv_mprv)
{
    cr_assert_eq(riscv_data_priv(cpu), RV_PRIV_M);
    cpu->mstatus |= RV_MSTATUS_MPRV | (1ull << 11);
    cr_assert_eq(riscv_data_priv(cpu), RV_PRIV_S);
    cpu->mstatus &= ~RV_MSTATUS_MPP;
    cr_assert_eq(riscv_data_priv(cpu), RV_PRIV_U);
    cpu->priv = RV_PRIV_S;
    cr_assert_eq(riscv_data_priv(cpu), RV_PRIV_S);
}

Test(mmu64, sv39_pages_and_superpages)
{
    uint64_t pa;
    pmp_allow_all();
    uint64_t root = sv39_root();
    map64(3, root, 0x1000, RAM_BASE + 0x5000, 0, PTE_RWX | PTE_A | PTE_D);
    map64(3, root, 0x40200000, RAM_BASE + 0x200000, 1, PTE_R | PTE_A);
    map64(3, root, 0xffffffffc0000000ull, RAM_BASE, 2, PTE_R | PTE_X | PTE_A);
    cr_assert_eq(xlate(0x1abc, RV_ACC_READ, RV_PRIV_S, &pa), 0);
    cr_assert_eq(pa, RAM_BASE + 0x5abc);
    cr_assert_eq(xlate(0x40212345, RV_ACC_READ, RV_PRIV_S, &pa), 0);
    cr_assert_eq(pa, RAM_BASE + 0x212345);
    cr_assert_eq(xlate(0xffffffffc0abcdefull, RV_ACC_EXEC, RV_PRIV_S, &pa), 0);
    cr_assert_eq(pa, RAM_BASE + 0xabcdef);
    /* Permissions: the 2M page is read-only, the 1G page not writable. */
    cr_assert_eq(xlate(0x40212345, RV_ACC_WRITE, RV_PRIV_S, &pa), RV_EXC_STORE_PAGE_FAULT);
    cr_assert_eq(xlate(0x40212345, RV_ACC_EXEC, RV_PRIV_S, &pa), RV_EXC_INSN_PAGE_FAULT);
    cr_assert_eq(xlate(0xffffffffc0000000ull, RV_ACC_WRITE, RV_PRIV_S, &pa), RV_EXC_STORE_PAGE_FAULT);
    /* Unmapped. */
    cr_assert_eq(xlate(0x2000, RV_ACC_READ, RV_PRIV_S, &pa), RV_EXC_LOAD_PAGE_FAULT);
    cr_assert_eq(xlate(0x80000000, RV_ACC_EXEC, RV_PRIV_S, &pa), RV_EXC_INSN_PAGE_FAULT);
}

Test(mmu64, misaligned_superpage_faults)
{
    uint64_t pa;
    pmp_allow_all();
    uint64_t root = sv39_root();
    map64(3, root, 0x40200000, RAM_BASE + 0x201000, 1, PTE_R | PTE_A);
    map64(3, root, 0x80000000, RAM_BASE + 0x200000, 2, PTE_R | PTE_A);
    cr_assert_eq(xlate(0x40200000, RV_ACC_READ, RV_PRIV_S, &pa), RV_EXC_LOAD_PAGE_FAULT);
    cr_assert_eq(xlate(0x80000000, RV_ACC_READ, RV_PRIV_S, &pa), RV_EXC_LOAD_PAGE_FAULT);
}

Test(mmu64, accessed_and_dirty_bits)
{
    uint64_t pa;
    pmp_allow_all();
    uint64_t root = sv39_root();
    uint64_t slot = map64(3, root, 0x1000, RAM_BASE + 0x5000, 0, PTE_R | PTE_W);
    uint64_t pte0 = rd64(slot);
    cr_assert_eq(xlate(0x1000, RV_ACC_READ, RV_PRIV_S, &pa), 0);
    cr_assert_eq(rd64(slot), pte0 | PTE_A);
    cr_assert_eq(xlate(0x1008, RV_ACC_WRITE, RV_PRIV_S, &pa), 0);
    cr_assert_eq(rd64(slot), pte0 | PTE_A | PTE_D);
    /* A failed access does not set D. */
    uint64_t slot2 = map64(3, root, 0x3000, RAM_BASE + 0x6000, 0, PTE_R);
    cr_assert_eq(xlate(0x3000, RV_ACC_WRITE, RV_PRIV_S, &pa), RV_EXC_STORE_PAGE_FAULT);
    cr_assert_eq(rd64(slot2), ((RAM_BASE + 0x6000) >> 12) << 10 | PTE_R | PTE_V);
}

Test(mmu64, user_pages_sum_mxr)
{
    uint64_t pa;
    pmp_allow_all();
    uint64_t root = sv39_root();
    map64(3, root, 0x1000, RAM_BASE + 0x5000, 0, PTE_RWX | PTE_U | PTE_A | PTE_D);
    map64(3, root, 0x2000, RAM_BASE + 0x6000, 0, PTE_RWX | PTE_A | PTE_D);
    map64(3, root, 0x3000, RAM_BASE + 0x7000, 0, PTE_X | PTE_U | PTE_A);
    /* U reaches only U pages. */
    cr_assert_eq(xlate(0x1000, RV_ACC_WRITE, RV_PRIV_U, &pa), 0);
    cr_assert_eq(xlate(0x1000, RV_ACC_EXEC, RV_PRIV_U, &pa), 0);
    cr_assert_eq(xlate(0x2000, RV_ACC_READ, RV_PRIV_U, &pa), RV_EXC_LOAD_PAGE_FAULT);
    /* S reaches U pages for data only with SUM, never for fetch. */
    cr_assert_eq(xlate(0x1000, RV_ACC_READ, RV_PRIV_S, &pa), RV_EXC_LOAD_PAGE_FAULT);
    set(CSR_SSTATUS, RV_MSTATUS_SUM);
    cr_assert_eq(xlate(0x1000, RV_ACC_READ, RV_PRIV_S, &pa), 0);
    cr_assert_eq(xlate(0x1000, RV_ACC_WRITE, RV_PRIV_S, &pa), 0);
    cr_assert_eq(xlate(0x1000, RV_ACC_EXEC, RV_PRIV_S, &pa), RV_EXC_INSN_PAGE_FAULT);
    /* MXR: execute-only pages become readable. */
    cr_assert_eq(xlate(0x3000, RV_ACC_READ, RV_PRIV_U, &pa), RV_EXC_LOAD_PAGE_FAULT);
    set(CSR_SSTATUS, RV_MSTATUS_MXR);
    cr_assert_eq(xlate(0x3000, RV_ACC_READ, RV_PRIV_U, &pa), 0);
    cr_assert_eq(pa, RAM_BASE + 0x7000);
    cr_assert_eq(xlate(0x3000, RV_ACC_WRITE, RV_PRIV_U, &pa), RV_EXC_STORE_PAGE_FAULT);
}

Test(mmu64, malformed_ptes_and_addresses)
{
    uint64_t pa;
    pmp_allow_all();
    uint64_t root = sv39_root();
    uint64_t slot = map64(3, root, 0x1000, RAM_BASE + 0x5000, 0, PTE_W | PTE_A | PTE_D);
    cr_assert_eq(xlate(0x1000, RV_ACC_READ, RV_PRIV_S, &pa), RV_EXC_LOAD_PAGE_FAULT);
    wr64(slot, rd64(slot) | PTE_R | (1ull << 62));          /* PBMT */
    cr_assert_eq(xlate(0x1000, RV_ACC_READ, RV_PRIV_S, &pa), RV_EXC_LOAD_PAGE_FAULT);
    wr64(slot, rd64(slot) & ~(1ull << 62));
    cr_assert_eq(xlate(0x1000, RV_ACC_READ, RV_PRIV_S, &pa), 0);
    wr64(slot, rd64(slot) | (1ull << 63));                  /* N */
    cr_assert_eq(xlate(0x1000, RV_ACC_EXEC, RV_PRIV_S, &pa), RV_EXC_INSN_PAGE_FAULT);
    wr64(slot, rd64(slot) & ~(1ull << 63));
    /* A pointer PTE at level 0. */
    wr64(slot, (rd64(slot) & ~PTE_RWX));
    cr_assert_eq(xlate(0x1000, RV_ACC_READ, RV_PRIV_S, &pa), RV_EXC_LOAD_PAGE_FAULT);
    /* Non-canonical addresses. */
    map64(3, root, 0x4000000000ull - 0x1000, RAM_BASE + 0x5000, 0, PTE_R | PTE_A);
    cr_assert_eq(xlate(0x3ffffff000ull, RV_ACC_READ, RV_PRIV_S, &pa), 0);
    cr_assert_eq(xlate(0x7ffffff000ull, RV_ACC_READ, RV_PRIV_S, &pa), RV_EXC_LOAD_PAGE_FAULT);
    cr_assert_eq(xlate(0xffffffbffffff000ull, RV_ACC_WRITE, RV_PRIV_S, &pa), RV_EXC_STORE_PAGE_FAULT);
}

Test(mmu64, walk_outside_ram_is_an_access_fault)
{
    uint64_t pa;
    pmp_allow_all();
    wr(CSR_SATP, (8ull << 60) | (0x10000000ull >> 12));    /* root in MMIO space */
    cr_assert_eq(xlate(0x1000, RV_ACC_READ, RV_PRIV_S, &pa), RV_EXC_LOAD_ACCESS);
    cr_assert_eq(xlate(0x1000, RV_ACC_WRITE, RV_PRIV_S, &pa), RV_EXC_STORE_ACCESS);
    cr_assert_eq(xlate(0x1000, RV_ACC_EXEC, RV_PRIV_S, &pa), RV_EXC_INSN_ACCESS);
}

Test(mmu64, walk_checks_pmp_as_s_mode)
{
    uint64_t pa;
    uint64_t root = alloc_table();
    map64(3, root, 0x1000, RAM_BASE + 0x5000, 0, PTE_RWX | PTE_A | PTE_D);
    wr(CSR_SATP, (8ull << 60) | (root >> 12));
    /* Entry 0: the page-table area, no permissions; entry 1: everything. */
    wr(CSR_PMPADDR0, (RAM_BASE + 0x100000) >> 2 | ((0x100000 >> 3) - 1));
    wr(CSR_PMPADDR1, ~0ull);
    wr(CSR_PMPCFG0, 0x1f18);
    cr_assert_eq(xlate(0x1000, RV_ACC_READ, RV_PRIV_S, &pa), RV_EXC_LOAD_ACCESS);
    cr_assert_eq(xlate(0x1000, RV_ACC_EXEC, RV_PRIV_S, &pa), RV_EXC_INSN_ACCESS);
    /* MPRV-style S access from M also uses PMP with S privilege. */
    wr(CSR_PMPCFG0, 0x1f19);            /* page tables readable */
    cr_assert_eq(xlate(0x1000, RV_ACC_READ, RV_PRIV_S, &pa), 0);
}

Test(mmu64, sv48)
{
    uint64_t pa;
    pmp_allow_all();
    uint64_t root = alloc_table();
    wr(CSR_SATP, (9ull << 60) | (root >> 12));
    map64(4, root, 0x7fffffffe000ull, RAM_BASE + 0x9000, 0, PTE_R | PTE_W | PTE_U | PTE_A | PTE_D);
    map64(4, root, 0xffff800000000000ull, RAM_BASE, 2, PTE_RWX | PTE_A | PTE_D);
    cr_assert_eq(xlate(0x7fffffffe010ull, RV_ACC_WRITE, RV_PRIV_U, &pa), 0);
    cr_assert_eq(pa, RAM_BASE + 0x9010);
    cr_assert_eq(xlate(0xffff800012345678ull, RV_ACC_EXEC, RV_PRIV_S, &pa), 0);
    cr_assert_eq(pa, RAM_BASE + 0x12345678);
    cr_assert_eq(xlate(0x0000800000000000ull, RV_ACC_READ, RV_PRIV_S, &pa), RV_EXC_LOAD_PAGE_FAULT);
    /* 512 GiB superpage: PPN must be aligned to 2^27 pages. */
    uint64_t slot = root + 1 * 8;
    wr64(slot, ((RAM_BASE >> 12) << 10) | PTE_R | PTE_A | PTE_V);
    cr_assert_eq(xlate(0x8000000000ull, RV_ACC_READ, RV_PRIV_S, &pa), RV_EXC_LOAD_PAGE_FAULT);
    wr64(slot, 0 | PTE_R | PTE_A | PTE_V);
    cr_assert_eq(xlate(0x8000000000ull + RAM_BASE + 4, RV_ACC_READ, RV_PRIV_S, &pa), 0);
    cr_assert_eq(pa, RAM_BASE + 4);
}

Test(mmu32, sv32)
{
    uint64_t pa;
    pmp_allow_all();
    uint64_t root = alloc_table();
    wr(CSR_SATP, (1ull << 31) | (root >> 12));
    uint64_t slot = map32(root, 0x00401000, RAM_BASE + 0x3000, 0, PTE_R | PTE_W);
    map32(root, 0xc0000000, RAM_BASE, 1, PTE_RWX | PTE_A | PTE_D);
    /* A 4 MiB page above 4 GiB (34-bit physical address). */
    map32(root, 0x80000000, 0x300000000ull, 1, PTE_R | PTE_A);
    cr_assert_eq(xlate(0x00401234, RV_ACC_WRITE, RV_PRIV_S, &pa), 0);
    cr_assert_eq(pa, RAM_BASE + 0x3234);
    cr_assert_eq(rd32(slot) & (PTE_A | PTE_D), PTE_A | PTE_D);
    cr_assert_eq(xlate(0xc0123456, RV_ACC_EXEC, RV_PRIV_S, &pa), 0);
    cr_assert_eq(pa, RAM_BASE + 0x123456);
    cr_assert_eq(xlate(0x80001234, RV_ACC_READ, RV_PRIV_S, &pa), 0);
    cr_assert_eq(pa, 0x300001234ull);
    /* Misaligned 4 MiB superpage. */
    map32(root, 0x40000000, RAM_BASE + 0x1000, 1, PTE_R | PTE_A);
    cr_assert_eq(xlate(0x40000000, RV_ACC_READ, RV_PRIV_S, &pa), RV_EXC_LOAD_PAGE_FAULT);
    cr_assert_eq(xlate(0x00402000, RV_ACC_READ, RV_PRIV_S, &pa), RV_EXC_LOAD_PAGE_FAULT);
    /* Bare RV32 addresses wrap at 32 bits. */
    wr(CSR_SATP, 0);
    cr_assert_eq(xlate(0xffffffff80000010ull, RV_ACC_READ, RV_PRIV_S, &pa), 0);
    cr_assert_eq(pa, 0x80000010ull);
}

/* =================================================================== */
/* PMP                                                                  */
/* =================================================================== */

TestSuite(pmp64, .init = setup64, .fini = teardown);

static bool pmp(uint64_t pa, uint64_t size, RvAccess acc, int priv, bool *page_ok)
{
    return riscv_pmp_check(cpu, pa, size, acc, priv, page_ok);
}

Test(pmp64, defaults)
{
    bool ok = false;
    cr_assert(pmp(RAM_BASE, 8, RV_ACC_WRITE, RV_PRIV_M, &ok));
    cr_assert(ok);
    cr_assert_not(pmp(RAM_BASE, 8, RV_ACC_READ, RV_PRIV_S, NULL));
    cr_assert_not(pmp(RAM_BASE, 8, RV_ACC_EXEC, RV_PRIV_U, NULL));
}

Test(pmp64, tor_na4_napot)
{
    bool ok;
    /* 0: TOR [0, RAM_BASE+0x1000) R;  1: NA4 at RAM_BASE+0x2000 RW;
     * 2: NAPOT 64 KiB at RAM_BASE+0x10000 RX. */
    wr(CSR_PMPADDR0, (RAM_BASE + 0x1000) >> 2);
    wr(CSR_PMPADDR1, (RAM_BASE + 0x2000) >> 2);
    wr(CSR_PMPADDR2, ((RAM_BASE + 0x10000) >> 2) | ((0x10000 >> 3) - 1));
    wr(CSR_PMPCFG0, 0x1d1309);
    cr_assert(pmp(0x1000, 4, RV_ACC_READ, RV_PRIV_S, &ok));
    cr_assert(ok);
    cr_assert_not(pmp(0x1000, 4, RV_ACC_WRITE, RV_PRIV_U, NULL));
    cr_assert(pmp(RAM_BASE + 0xff8, 8, RV_ACC_READ, RV_PRIV_U, NULL));
    cr_assert_not(pmp(RAM_BASE + 0x1000, 1, RV_ACC_READ, RV_PRIV_U, NULL));
    /* NA4 covers exactly 4 bytes; the page around it is split. */
    cr_assert(pmp(RAM_BASE + 0x2000, 4, RV_ACC_WRITE, RV_PRIV_S, &ok));
    cr_assert_not(ok);
    cr_assert_not(pmp(RAM_BASE + 0x2000, 8, RV_ACC_WRITE, RV_PRIV_S, NULL));
    cr_assert_not(pmp(RAM_BASE + 0x2004, 4, RV_ACC_READ, RV_PRIV_S, &ok));
    cr_assert_not(ok);
    /* NAPOT range and its edges. */
    cr_assert(pmp(RAM_BASE + 0x10000, 4, RV_ACC_EXEC, RV_PRIV_S, &ok));
    cr_assert(ok);
    cr_assert(pmp(RAM_BASE + 0x1fffc, 4, RV_ACC_READ, RV_PRIV_S, NULL));
    cr_assert_not(pmp(RAM_BASE + 0x1fffc, 4, RV_ACC_WRITE, RV_PRIV_S, NULL));
    cr_assert_not(pmp(RAM_BASE + 0x20000, 4, RV_ACC_READ, RV_PRIV_S, NULL));
    cr_assert_not(pmp(RAM_BASE + 0xfffc, 4, RV_ACC_READ, RV_PRIV_S, NULL));
    /* Straddling the end of the range fails (partial match). */
    cr_assert_not(pmp(RAM_BASE + 0x1fffc, 8, RV_ACC_READ, RV_PRIV_S, NULL));
    /* M-mode ignores unlocked entries. */
    cr_assert(pmp(RAM_BASE + 0x10000, 4, RV_ACC_WRITE, RV_PRIV_M, NULL));
    cr_assert(pmp(RAM_BASE + 0x900000, 4, RV_ACC_WRITE, RV_PRIV_M, &ok));
    cr_assert(ok);
}

Test(pmp64, locked_entries_bind_m_mode)
{
    wr(CSR_PMPADDR0, ((RAM_BASE) >> 2) | ((0x1000 >> 3) - 1));
    wr(CSR_PMPCFG0, 0x99);              /* L, NAPOT, R */
    cr_assert(pmp(RAM_BASE, 4, RV_ACC_READ, RV_PRIV_M, NULL));
    cr_assert_not(pmp(RAM_BASE, 4, RV_ACC_WRITE, RV_PRIV_M, NULL));
    cr_assert_not(pmp(RAM_BASE, 4, RV_ACC_EXEC, RV_PRIV_M, NULL));
    cr_assert(pmp(RAM_BASE + 0x1000, 4, RV_ACC_EXEC, RV_PRIV_M, NULL));
}

Test(pmp64, priority_and_page_ok)
{
    bool ok;
    /* Entry 0: no access to 512 KiB at RAM_BASE (OpenSBI's firmware
     * region); entry 1: all memory RWX. */
    wr(CSR_PMPADDR0, (RAM_BASE >> 2) | ((0x80000 >> 3) - 1));
    wr(CSR_PMPADDR1, ~0ull);
    wr(CSR_PMPCFG0, 0x1f18);
    cr_assert_not(pmp(RAM_BASE + 0x7fff8, 8, RV_ACC_READ, RV_PRIV_S, &ok));
    cr_assert(ok);
    cr_assert(pmp(RAM_BASE + 0x80000, 8, RV_ACC_READ, RV_PRIV_S, &ok));
    cr_assert(ok);
    cr_assert(pmp(RAM_BASE + 0x7fff8, 8, RV_ACC_READ, RV_PRIV_M, &ok));
    cr_assert(ok);
}

Test(pmp64, tor_ending_mid_page)
{
    bool ok;
    /* Entry 0: TOR [0, RAM_BASE + 0x100800) read-only; entry 1: all. */
    wr(CSR_PMPADDR0, (RAM_BASE + 0x100800) >> 2);
    wr(CSR_PMPADDR1, ~0ull);
    wr(CSR_PMPCFG0, 0x1f09);
    cr_assert(pmp(RAM_BASE + 0x100000, 4, RV_ACC_READ, RV_PRIV_S, &ok));
    cr_assert_not(ok);
    cr_assert_not(pmp(RAM_BASE + 0x100000, 4, RV_ACC_WRITE, RV_PRIV_S, NULL));
    cr_assert(pmp(RAM_BASE + 0x100800, 4, RV_ACC_WRITE, RV_PRIV_S, &ok));
    cr_assert_not(ok);
    cr_assert(pmp(RAM_BASE + 0x0ff000, 4, RV_ACC_READ, RV_PRIV_S, &ok));
    cr_assert(ok);
    /* An access straddling the boundary matches entry 0 partially. */
    cr_assert_not(pmp(RAM_BASE + 0x1007fc, 8, RV_ACC_READ, RV_PRIV_S, NULL));
}

Test(pmp64, empty_tor_matches_nothing)
{
    /* Entry 0 OFF supplies the base of entry 1: TOR [0xc0000000, 0x4000). */
    wr(CSR_PMPADDR0, 0xc0000000ull >> 2);
    wr(CSR_PMPADDR1, 0x4000 >> 2);
    wr(CSR_PMPCFG0, 0x0f00);
    cr_assert_not(pmp(0x2000, 4, RV_ACC_READ, RV_PRIV_S, NULL));
    cr_assert(pmp(0x2000, 4, RV_ACC_READ, RV_PRIV_M, NULL));
    wr(CSR_PMPADDR0, 0);
    cr_assert(pmp(0x2000, 4, RV_ACC_READ, RV_PRIV_S, NULL));
}

Test(pmp64, translate_reports_page_ok)
{
    uint64_t pa;
    bool ok;
    wr(CSR_PMPADDR0, (RAM_BASE + 0x2000) >> 2);
    wr(CSR_PMPADDR1, ~0ull);
    wr(CSR_PMPCFG0, 0x1f13);            /* NA4 at RAM_BASE+0x2000, then all */
    cr_assert_eq(riscv_translate(cpu, RAM_BASE + 0x2100, RV_ACC_READ, RV_PRIV_S, &pa, &ok), 0);
    cr_assert_not(ok);
    cr_assert_eq(riscv_translate(cpu, RAM_BASE + 0x3100, RV_ACC_READ, RV_PRIV_S, &pa, &ok), 0);
    cr_assert(ok);
}

/* =================================================================== */
/* Through the engine                                                   */
/* =================================================================== */

/* M-mode sets PMP, Sv39 (identity gigapage for RAM, built by the test),
 * drops to S with mret; S does li a0, 42; csrr a3, sstatus; ecall; the M
 * handler reads mcause and mepc and waits in WFI.  Assembled with
 * riscv64-linux-gnu-as, .option norvc, linked at 0x80000000. */
static const uint32_t prog_sv39[] = {
    0x00000297, /* 80000000: auipc t0,0x0 */
    0x06028293, /* 80000004: addi  t0,t0,96 -> mtrap */
    0x30529073, /* 80000008: csrw  mtvec,t0 */
    0xfff00293, /* 8000000c: li    t0,-1 */
    0x3b029073, /* 80000010: csrw  pmpaddr0,t0 */
    0x01f00293, /* 80000014: li    t0,31 */
    0x3a029073, /* 80000018: csrw  pmpcfg0,t0 */
    0xfff0029b, /* 8000001c: addiw t0,zero,-1 */
    0x02c29293, /* 80000020: slli  t0,t0,0x2c */
    0x00128293, /* 80000024: addi  t0,t0,1 */
    0x01329293, /* 80000028: slli  t0,t0,0x13 */
    0x01028293, /* 8000002c: addi  t0,t0,16 (8<<60 | 0x80010) */
    0x18029073, /* 80000030: csrw  satp,t0 */
    0x000012b7, /* 80000034: lui   t0,0x1 */
    0x8002829b, /* 80000038: addiw t0,t0,-2048 (MPP = S) */
    0x30029073, /* 8000003c: csrw  mstatus,t0 */
    0x00000297, /* 80000040: auipc t0,0x0 */
    0x01028293, /* 80000044: addi  t0,t0,16 -> smode */
    0x34129073, /* 80000048: csrw  mepc,t0 */
    0x30200073, /* 8000004c: mret */
    0x02a00513, /* 80000050: smode: li a0,42 */
    0x100026f3, /* 80000054: csrr  a3,sstatus */
    0x00000073, /* 80000058: ecall */
    0x00000013, /* 8000005c: nop */
    0x342025f3, /* 80000060: mtrap: csrr a1,mcause */
    0x34102673, /* 80000064: csrr  a2,mepc */
    0x10500073, /* 80000068: wfi */
    0xff5ff06f, /* 8000006c: j mtrap */
};

TestSuite(engine64, .init = setup64, .fini = teardown);

Test(engine64, sv39_round_trip)
{
    memcpy(ram, prog_sv39, sizeof(prog_sv39));
    /* Root at 0x80010000: gigapage 2 -> 0x80000000, RWX, A, D. */
    wr64(0x80010000 + 2 * 8, ((RAM_BASE >> 12) << 10) | PTE_RWX | PTE_A | PTE_D | PTE_V);
    CpuExit r = riscv_cpu_ops.run(cpu, 1000);
    cr_assert_eq(r, CPU_EXIT_IDLE);
    cr_assert_eq(cpu->x[10], 42);
    cr_assert_eq(cpu->x[11], RV_EXC_ECALL_S);
    cr_assert_eq(cpu->x[12], 0x80000050 + 8);
    cr_assert_eq(cpu->x[13], 0x0000000200000000ull);
    cr_assert_eq(cpu->priv, RV_PRIV_M);
    cr_assert_eq(cpu->pc, 0x8000006c);
    /* 20 in M before mret included, 2 in S (ecall does not retire), 3. */
    cr_assert_eq(cpu->icount, 25);
    /* Between instructions (no current insn) minstret is the position. */
    uint64_t v;
    cr_assert_eq(riscv_csr_rw(cpu, NULL, CSR_MINSTRET, &v, 0, 0, false), 0);
    cr_assert_eq(v, 25);
}
