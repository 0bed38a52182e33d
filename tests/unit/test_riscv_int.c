/* The RISC-V interpreter: the unprivileged integer ISA (exec_int.c,
 * exec_xlen.h), the decoder and compressed expander (decode.c) and the
 * engine (engine.c): blocks, budget, software TLB, slow paths,
 * self-modifying code. */
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "targets/riscv/cpu.h"
#include "targets/riscv/decode.h"
#include "vmm/machine.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE (1ull << 20)
#define ROM_BASE 0x1000ull
#define MMIO_BASE 0x10000000ull
#define TRAP_VEC (RAM_BASE + 0xff000)
#define DATA (RAM_BASE + 0x10000)

static Machine mach;
static uint8_t *ram;
static uint8_t rom[4096];
static RiscvCPU *cpu;

/* A test device: 8-byte register file, aligned accesses only. */
static uint64_t dev_reg;
static uint64_t dev_icount;
static unsigned dev_accesses;

static uint64_t dev_read(void *opaque, uint64_t off, unsigned size)
{
    dev_icount = cpu->icount;
    dev_accesses++;
    return (dev_reg >> (off % 8 * 8)) & (size == 8 ? ~0ull : (1ull << size * 8) - 1);
}

static void dev_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    dev_icount = cpu->icount;
    dev_accesses++;
    dev_reg = val;
}

static const MemOps dev_ops = { .name = "testdev", .read = dev_read, .write = dev_write };

static void setup_xlen(int xlen)
{
    memset(&mach, 0, sizeof(mach));
    as_init(&mach.as);
    ram = g_malloc0(RAM_SIZE);
    cr_assert_eq(as_add_ram(&mach.as, "ram", RAM_BASE, RAM_SIZE, ram, false), 0);
    cr_assert_eq(as_add_ram(&mach.as, "rom", ROM_BASE, sizeof(rom), rom, true), 0);
    cr_assert_eq(as_add_mmio(&mach.as, "dev", MMIO_BASE, 0x1000, &dev_ops, NULL), 0);
    cpu = riscv_cpu_create(&mach, xlen);
    cr_assert(cpu);
    riscv_cpu_reset(cpu, RAM_BASE);
    cpu->mtvec = TRAP_VEC;
    /* The trap vector spins: "j ." */
    uint32_t spin = 0x0000006f;
    memcpy(ram + (TRAP_VEC - RAM_BASE), &spin, 4);
    dev_reg = 0;
    dev_accesses = 0;
}

static void setup64(void) { setup_xlen(64); }
static void setup32(void) { setup_xlen(32); }

static void teardown(void)
{
    riscv_cpu_free(cpu);
    g_free(ram);
}

TestSuite(int64, .init = setup64, .fini = teardown);
TestSuite(int32, .init = setup32, .fini = teardown);
TestSuite(rvc, .init = setup64, .fini = teardown);
TestSuite(engine, .init = setup64, .fini = teardown);
TestSuite(engine32, .init = setup32, .fini = teardown);

/* ---- encoders ---- */

/* Macros, so that static tables of encodings are constant. */
#define R(f7, rs2, rs1, f3, rd, op) \
    ((uint32_t)(f7) << 25 | (uint32_t)(rs2) << 20 | (uint32_t)(rs1) << 15 | \
     (uint32_t)(f3) << 12 | (uint32_t)(rd) << 7 | (uint32_t)(op))
#define I(imm, rs1, f3, rd, op) \
    (((uint32_t)(imm) & 0xfff) << 20 | (uint32_t)(rs1) << 15 | (uint32_t)(f3) << 12 | \
     (uint32_t)(rd) << 7 | (uint32_t)(op))
#define S(imm, rs2, rs1, f3, op) \
    (((uint32_t)(imm) >> 5 & 0x7f) << 25 | (uint32_t)(rs2) << 20 | (uint32_t)(rs1) << 15 | \
     (uint32_t)(f3) << 12 | ((uint32_t)(imm) & 0x1f) << 7 | (uint32_t)(op))
#define B(imm, rs2, rs1, f3) \
    (((uint32_t)(imm) >> 12 & 1) << 31 | ((uint32_t)(imm) >> 5 & 0x3f) << 25 | \
     (uint32_t)(rs2) << 20 | (uint32_t)(rs1) << 15 | (uint32_t)(f3) << 12 | \
     ((uint32_t)(imm) >> 1 & 0xf) << 8 | ((uint32_t)(imm) >> 11 & 1) << 7 | 0x63)
#define J(imm, rd) \
    (((uint32_t)(imm) >> 20 & 1) << 31 | ((uint32_t)(imm) >> 1 & 0x3ff) << 21 | \
     ((uint32_t)(imm) >> 11 & 1) << 20 | ((uint32_t)(imm) >> 12 & 0xff) << 12 | \
     (uint32_t)(rd) << 7 | 0x6f)

#define OP(f7, f3, rd, a, b) R(f7, b, a, f3, rd, 0x33)
#define OPW(f7, f3, rd, a, b) R(f7, b, a, f3, rd, 0x3b)
#define ADD(rd, a, b) OP(0, 0, rd, a, b)
#define ADDI(rd, a, imm) I(imm, a, 0, rd, 0x13)
#define LOADI(f3, rd, a, imm) I(imm, a, f3, rd, 0x03)
#define STOREI(f3, b, a, imm) S(imm, b, a, f3, 0x23)
#define LUI(rd, imm20) ((uint32_t)(imm20) << 12 | (rd) << 7 | 0x37)
#define AUIPC(rd, imm20) ((uint32_t)(imm20) << 12 | (rd) << 7 | 0x17)
#define JALR(rd, a, imm) I(imm, a, 0, rd, 0x67)
#define AMO(f5, f3, rd, a, b) R((f5) << 2, b, a, f3, rd, 0x2f)
#define SHI(f6, f3, rd, a, sh) ((uint32_t)(f6) << 26 | (uint32_t)(sh) << 20 | (a) << 15 | (f3) << 12 | (rd) << 7 | 0x13)
#define SHIW(f7, f3, rd, a, sh) ((uint32_t)(f7) << 25 | (uint32_t)(sh) << 20 | (a) << 15 | (f3) << 12 | (rd) << 7 | 0x1b)
#define FENCE 0x0ff0000fu
#define FENCE_I 0x0000100fu
#define PAUSE 0x0100000fu
#define EBREAK 0x00100073u
#define NOP 0x00000013u

/* ---- running one instruction ---- */

/* Decode one instruction at cpu->pc and run it as the engine would: a
 * one-instruction block (icount pre-added) ended by the sentinel. */
static RvInsn blk[2];

static unsigned decode_at_pc(uint32_t raw, unsigned len)
{
    unsigned flags = riscv_decode(&blk[0], raw, len, cpu->pc, cpu->xlen);
    blk[0].rem = 0;
    memset(&blk[1], 0, sizeof(blk[1]));
    blk[1].fn = rv_block_end;
    blk[1].pc = cpu->xlen == 32 ? (uint32_t)(cpu->pc + len) : cpu->pc + len;
    return flags;
}

static void run_decoded(void)
{
    cpu->icount += 1;
    const RvInsn *i = blk;
    while ((i = i->fn(cpu, i)))
        ;
}

static void step_len(uint32_t raw, unsigned len)
{
    decode_at_pc(raw, len);
    run_decoded();
}

static void step(uint32_t raw) { step_len(raw, 4); }
static void step16(uint16_t raw) { step_len(raw, 2); }

#define X(n) (cpu->x[n])

static uint64_t sx32(uint64_t v) { return (uint64_t)(int64_t)(int32_t)v; }

/* Put a program in RAM at pa. */
static void put(uint64_t pa, const uint32_t *w, size_t n)
{
    memcpy(ram + (pa - RAM_BASE), w, n * 4);
}

static void put16(uint64_t pa, uint16_t v)
{
    memcpy(ram + (pa - RAM_BASE), &v, 2);
}

static uint64_t rd64(uint64_t pa)
{
    uint64_t v;
    memcpy(&v, ram + (pa - RAM_BASE), 8);
    return v;
}

static void wr64(uint64_t pa, uint64_t v)
{
    memcpy(ram + (pa - RAM_BASE), &v, 8);
}

static void assert_trap(uint64_t cause, uint64_t epc, uint64_t tval)
{
    cr_assert_eq(cpu->mcause, cause, "mcause %llu, expected %llu",
                 (unsigned long long)cpu->mcause, (unsigned long long)cause);
    cr_assert_eq(cpu->mepc, epc, "mepc %#llx, expected %#llx",
                 (unsigned long long)cpu->mepc, (unsigned long long)epc);
    cr_assert_eq(cpu->mtval, tval, "mtval %#llx, expected %#llx",
                 (unsigned long long)cpu->mtval, (unsigned long long)tval);
    cr_assert_eq(cpu->pc, TRAP_VEC);
}

/* ================= RV64I ================= */

Test(int64, register_alu)
{
    X(1) = 0x8000000000000001ull;
    X(2) = 3;
    step(ADD(3, 1, 2));             cr_assert_eq(X(3), 0x8000000000000004ull);
    step(OP(0x20, 0, 3, 2, 1));     cr_assert_eq(X(3), 3 - 0x8000000000000001ull);
    step(OP(0, 1, 3, 1, 2));        cr_assert_eq(X(3), 0x8ull);
    X(4) = 65;                      /* only the low 6 bits count */
    step(OP(0, 1, 3, 2, 4));        cr_assert_eq(X(3), 6);
    step(OP(0, 2, 3, 1, 2));        cr_assert_eq(X(3), 1);   /* slt: negative < 3 */
    step(OP(0, 3, 3, 1, 2));        cr_assert_eq(X(3), 0);   /* sltu */
    step(OP(0, 4, 3, 1, 2));        cr_assert_eq(X(3), 0x8000000000000002ull);
    step(OP(0, 5, 3, 1, 2));        cr_assert_eq(X(3), 0x1000000000000000ull);
    step(OP(0x20, 5, 3, 1, 2));     cr_assert_eq(X(3), 0xf000000000000000ull);
    step(OP(0, 6, 3, 1, 2));        cr_assert_eq(X(3), 0x8000000000000003ull);
    step(OP(0, 7, 3, 1, 2));        cr_assert_eq(X(3), 1);
}

Test(int64, immediate_alu)
{
    X(1) = 5;
    step(ADDI(2, 1, -6));           cr_assert_eq(X(2), ~0ull);
    step(I(-1, 1, 2, 3, 0x13));     cr_assert_eq(X(3), 0);   /* slti 5 < -1 */
    step(I(-1, 1, 3, 3, 0x13));     cr_assert_eq(X(3), 1);   /* sltiu 5 < 2^64-1 */
    step(I(-1, 1, 4, 3, 0x13));     cr_assert_eq(X(3), ~5ull);
    step(I(0x7f0, 1, 6, 3, 0x13));  cr_assert_eq(X(3), 0x7f5);
    step(I(-4, 2, 7, 3, 0x13));     cr_assert_eq(X(3), ~3ull);
    step(SHI(0, 1, 3, 1, 63));      cr_assert_eq(X(3), 1ull << 63);
    step(SHI(0, 5, 4, 3, 63));      cr_assert_eq(X(4), 1);
    step(SHI(0x10, 5, 4, 3, 60));   cr_assert_eq(X(4), ~7ull);
    step(SHI(0x10, 5, 4, 3, 0));    cr_assert_eq(X(4), 1ull << 63);
}

Test(int64, word_ops)
{
    X(1) = 0x7fffffff;
    X(2) = 1;
    step(OPW(0, 0, 3, 1, 2));       cr_assert_eq(X(3), 0xffffffff80000000ull);
    step(OPW(0x20, 0, 3, 2, 1));    cr_assert_eq(X(3), 0xffffffff80000002ull);
    X(4) = 33;
    step(OPW(0, 1, 3, 1, 4));       cr_assert_eq(X(3), 0xfffffffffffffffeull);
    X(5) = 0xffffffff80000000ull;
    step(OPW(0, 5, 3, 5, 4));       cr_assert_eq(X(3), 0x40000000);
    step(OPW(0x20, 5, 3, 5, 4));    cr_assert_eq(X(3), 0xffffffffc0000000ull);
    X(6) = 0x123456789ull;
    step(I(-1, 6, 0, 3, 0x1b));     cr_assert_eq(X(3), 0x23456788);
    step(SHIW(0, 1, 3, 1, 1));      cr_assert_eq(X(3), 0xfffffffffffffffeull);
    step(SHIW(0, 5, 3, 5, 31));     cr_assert_eq(X(3), 1);
    step(SHIW(0x20, 5, 3, 5, 31));  cr_assert_eq(X(3), ~0ull);
    step(SHIW(0, 5, 3, 6, 0));      cr_assert_eq(X(3), 0x23456789);
    /* shamt[5] set in a W shift is reserved */
    cpu->pc = RAM_BASE;
    step(SHIW(1, 1, 3, 1, 0));
    assert_trap(RV_EXC_ILLEGAL_INSN, RAM_BASE, SHIW(1, 1, 3, 1, 0));
}

Test(int64, lui_auipc)
{
    step(LUI(1, 0xfffff));          cr_assert_eq(X(1), 0xfffffffffffff000ull);
    step(LUI(1, 0x7ffff));          cr_assert_eq(X(1), 0x7ffff000ull);
    cpu->pc = RAM_BASE + 0x100;
    step(AUIPC(2, 0xfffff));        cr_assert_eq(X(2), RAM_BASE + 0x100 - 0x1000);
    step(AUIPC(2, 0));              cr_assert_eq(X(2), RAM_BASE + 0x104);
    cr_assert_eq(cpu->pc, RAM_BASE + 0x108);
}

Test(int64, x0_is_hardwired)
{
    X(1) = 7;
    cr_assert_eq(decode_at_pc(ADD(0, 1, 1), 4), 0);
    cr_assert_eq(blk[0].fn, rv_nop);
    run_decoded();
    step(LUI(0, 1));
    step(ADDI(0, 1, 1));
    cr_assert_eq(X(0), 0);
    /* A load to x0 still faults. */
    cpu->pc = RAM_BASE;
    step(LOADI(3, 0, 0, 0));
    assert_trap(RV_EXC_LOAD_ACCESS, RAM_BASE, 0);
    cr_assert_eq(X(0), 0);
    /* A load to x0 from memory does not write x0. */
    X(2) = DATA;
    wr64(DATA, 0x55);
    cpu->pc = RAM_BASE;
    step(LOADI(3, 0, 2, 0));
    cr_assert_eq(X(0), 0);
    cr_assert_eq(cpu->pc, RAM_BASE + 4);
}

Test(int64, jal_jalr)
{
    cpu->pc = RAM_BASE + 0x100;
    cr_assert_eq(decode_at_pc(J(-0x100, 1), 4), RV_DEC_END);
    run_decoded();
    cr_assert_eq(X(1), RAM_BASE + 0x104);
    cr_assert_eq(cpu->pc, RAM_BASE);
    step(J(0x7fffe, 0));
    cr_assert_eq(cpu->pc, RAM_BASE + 0x7fffe);
    cr_assert_eq(X(0), 0);
    /* jalr: target = (rs1 + imm) & ~1; rd == rs1 reads before writing */
    X(5) = RAM_BASE + 0x201;
    cpu->pc = RAM_BASE + 0x10;
    step(JALR(5, 5, 2));
    cr_assert_eq(cpu->pc, RAM_BASE + 0x202);
    cr_assert_eq(X(5), RAM_BASE + 0x14);
    /* compressed: the link is pc + 2 */
    X(1) = RAM_BASE + 0x40;
    cpu->pc = RAM_BASE + 0x20;
    step16(0x9082);                 /* c.jalr ra */
    cr_assert_eq(cpu->pc, RAM_BASE + 0x40);
    cr_assert_eq(X(1), RAM_BASE + 0x22);
}

Test(int64, branches_count)
{
    static const struct { uint32_t f3; uint64_t a, b; bool taken; } cases[] = {
        { 0, 5, 5, true }, { 0, 5, 6, false },
        { 1, 5, 6, true }, { 1, 5, 5, false },
        { 4, ~0ull, 0, true }, { 4, 0, ~0ull, false },
        { 5, 0, ~0ull, true }, { 5, ~0ull, 0, false }, { 5, 3, 3, true },
        { 6, 0, ~0ull, true }, { 6, ~0ull, 0, false },
        { 7, ~0ull, 0, true }, { 7, 0, ~0ull, false }, { 7, 3, 3, true },
    };
    for (unsigned k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
        X(1) = cases[k].a;
        X(2) = cases[k].b;
        cpu->pc = RAM_BASE + 0x1000;
        uint64_t br = cpu->brcount;
        cr_assert_eq(decode_at_pc(B(-8, 2, 1, cases[k].f3), 4), RV_DEC_END);
        run_decoded();
        cr_assert_eq(cpu->brcount, br + 1);
        cr_assert_eq(cpu->pc, cases[k].taken ? RAM_BASE + 0x1000 - 8 : RAM_BASE + 0x1004,
                     "case %u", k);
    }
    /* c.beqz / c.bnez */
    X(8) = 0;
    cpu->pc = RAM_BASE + 0x1000;
    step16(0xc011);                 /* c.beqz s0, +4 */
    cr_assert_eq(cpu->pc, RAM_BASE + 0x1004);
    cpu->pc = RAM_BASE + 0x1000;
    step16(0xe011);                 /* c.bnez s0, +4 */
    cr_assert_eq(cpu->pc, RAM_BASE + 0x1002);
}

Test(int64, loads_and_stores)
{
    X(1) = DATA;
    X(2) = 0x8182838485868788ull;
    step(STOREI(3, 2, 1, 0));       cr_assert_eq(rd64(DATA), 0x8182838485868788ull);
    step(LOADI(0, 3, 1, 0));        cr_assert_eq(X(3), 0xffffffffffffff88ull);
    step(LOADI(4, 3, 1, 0));        cr_assert_eq(X(3), 0x88);
    step(LOADI(1, 3, 1, 2));        cr_assert_eq(X(3), 0xffffffffffff8586ull);
    step(LOADI(5, 3, 1, 2));        cr_assert_eq(X(3), 0x8586);
    step(LOADI(2, 3, 1, 4));        cr_assert_eq(X(3), 0xffffffff81828384ull);
    step(LOADI(6, 3, 1, 4));        cr_assert_eq(X(3), 0x81828384);
    step(LOADI(3, 3, 1, 0));        cr_assert_eq(X(3), 0x8182838485868788ull);
    X(2) = 0x1122334455667788ull;
    step(STOREI(0, 2, 1, 8));
    step(STOREI(1, 2, 1, 10));
    step(STOREI(2, 2, 1, 12));
    cr_assert_eq(rd64(DATA + 8), 0x5566778877880088ull);
    /* negative offsets */
    X(4) = DATA + 16;
    step(LOADI(3, 3, 4, -16));      cr_assert_eq(X(3), 0x8182838485868788ull);
    /* misaligned inside a page is performed */
    step(LOADI(3, 3, 1, 1));        cr_assert_eq(X(3), 0x8881828384858687ull);
    step(STOREI(2, 2, 1, 0x21));
    cr_assert_eq(rd64(DATA + 0x20), 0x0000005566778800ull);
    cr_assert_eq(cpu->pc, RAM_BASE + 4 * 14);
}

Test(int64, misaligned_across_pages)
{
    uint64_t edge = DATA + 0x1000;
    wr64(edge - 8, 0x0807060504030201ull);
    wr64(edge, 0x100f0e0d0c0b0a09ull);
    X(1) = edge - 3;
    step(LOADI(3, 3, 1, 0));
    cr_assert_eq(X(3), 0x0d0c0b0a09080706ull);
    X(2) = 0xa1a2a3a4a5a6a7a8ull;
    step(STOREI(3, 2, 1, 0));
    cr_assert_eq(rd64(edge - 8), 0xa6a7a80504030201ull);
    cr_assert_eq(rd64(edge), 0x100f0ea1a2a3a4a5ull);
    /* The second page is outside RAM: the fault names that portion. */
    X(1) = RAM_BASE + RAM_SIZE - 2;
    cpu->pc = RAM_BASE;
    step(LOADI(2, 3, 1, 0));
    assert_trap(RV_EXC_LOAD_ACCESS, RAM_BASE, RAM_BASE + RAM_SIZE);
    uint64_t before = rd64(RAM_BASE + RAM_SIZE - 8);
    cpu->pc = RAM_BASE;
    step(STOREI(2, 2, 1, 0));
    assert_trap(RV_EXC_STORE_ACCESS, RAM_BASE, RAM_BASE + RAM_SIZE);
    cr_assert_eq(rd64(RAM_BASE + RAM_SIZE - 8), before, "no byte may be written");
}

Test(int64, mmio_rom_and_holes)
{
    X(1) = MMIO_BASE;
    X(2) = 0x1234;
    cpu->icount = 1000;
    step(STOREI(3, 2, 1, 0));
    cr_assert_eq(dev_reg, 0x1234);
    cr_assert_eq(dev_icount, 1000, "devices see the exact icount");
    cr_assert_eq(cpu->icount, 1001);
    step(LOADI(4, 3, 1, 0));
    cr_assert_eq(X(3), 0x34);
    cr_assert_eq(dev_accesses, 2);
    /* misaligned MMIO: access fault */
    cpu->pc = RAM_BASE;
    step(LOADI(2, 3, 1, 2));
    assert_trap(RV_EXC_LOAD_ACCESS, RAM_BASE, MMIO_BASE + 2);
    cpu->pc = RAM_BASE;
    step(STOREI(3, 2, 1, 4));
    assert_trap(RV_EXC_STORE_ACCESS, RAM_BASE, MMIO_BASE + 4);
    cr_assert_eq(dev_accesses, 2);
    /* nothing mapped */
    X(1) = 0x20000000;
    cpu->pc = RAM_BASE;
    step(LOADI(2, 3, 1, 0));
    assert_trap(RV_EXC_LOAD_ACCESS, RAM_BASE, 0x20000000);
    /* ROM reads, refuses writes */
    rom[8] = 0x5a;
    X(1) = ROM_BASE;
    cpu->pc = RAM_BASE;
    step(LOADI(4, 3, 1, 8));
    cr_assert_eq(X(3), 0x5a);
    step(STOREI(0, 2, 1, 8));
    assert_trap(RV_EXC_STORE_ACCESS, RAM_BASE + 4, ROM_BASE + 8);
    cr_assert_eq(rom[8], 0x5a);
    /* a trap does not retire: icount counts only the retired ones */
    cr_assert_eq(cpu->icount, 1003);
}

Test(int64, multiply)
{
    X(1) = (uint64_t)-3;
    X(2) = 5;
    step(OP(1, 0, 3, 1, 2));        cr_assert_eq(X(3), (uint64_t)-15);
    step(OP(1, 1, 3, 1, 2));        cr_assert_eq(X(3), ~0ull);      /* mulh */
    step(OP(1, 2, 3, 1, 2));        cr_assert_eq(X(3), ~0ull);      /* mulhsu */
    step(OP(1, 3, 3, 1, 2));        cr_assert_eq(X(3), 4);          /* mulhu */
    X(2) = ~0ull;
    step(OP(1, 2, 3, 1, 2));        cr_assert_eq(X(3), (uint64_t)-3);  /* -3 * (2^64-1) */
    step(OP(1, 1, 3, 1, 2));        cr_assert_eq(X(3), 0);
    X(1) = 1ull << 63;
    X(2) = 1ull << 63;
    step(OP(1, 1, 3, 1, 2));        cr_assert_eq(X(3), 1ull << 62);
    step(OP(1, 3, 3, 1, 2));        cr_assert_eq(X(3), 1ull << 62);
    step(OP(1, 2, 3, 1, 2));        cr_assert_eq(X(3), 0xc000000000000000ull);
    X(1) = 0x80000001;
    X(2) = 0x80000001;
    step(OPW(1, 0, 3, 1, 2));       cr_assert_eq(X(3), sx32(0x00000001));
    X(2) = 3;
    step(OPW(1, 0, 3, 1, 2));       cr_assert_eq(X(3), sx32(0x80000003));
}

Test(int64, divide)
{
    X(1) = (uint64_t)-7;
    X(2) = 2;
    X(3) = 0;
    X(4) = (uint64_t)-1;
    X(5) = 1ull << 63;
    step(OP(1, 4, 6, 1, 2));        cr_assert_eq(X(6), (uint64_t)-3);
    step(OP(1, 6, 6, 1, 2));        cr_assert_eq(X(6), (uint64_t)-1);
    step(OP(1, 5, 6, 1, 2));        cr_assert_eq(X(6), ((uint64_t)-7) / 2);
    step(OP(1, 7, 6, 1, 2));        cr_assert_eq(X(6), 1);
    step(OP(1, 4, 6, 1, 3));        cr_assert_eq(X(6), ~0ull);
    step(OP(1, 5, 6, 1, 3));        cr_assert_eq(X(6), ~0ull);
    step(OP(1, 6, 6, 1, 3));        cr_assert_eq(X(6), (uint64_t)-7);
    step(OP(1, 7, 6, 1, 3));        cr_assert_eq(X(6), (uint64_t)-7);
    step(OP(1, 4, 6, 5, 4));        cr_assert_eq(X(6), 1ull << 63);
    step(OP(1, 6, 6, 5, 4));        cr_assert_eq(X(6), 0);
    /* W forms operate on the low 32 bits */
    X(1) = 0xffffffff80000000ull;
    step(OPW(1, 4, 6, 1, 4));       cr_assert_eq(X(6), 0xffffffff80000000ull);
    step(OPW(1, 6, 6, 1, 4));       cr_assert_eq(X(6), 0);
    step(OPW(1, 4, 6, 1, 3));       cr_assert_eq(X(6), ~0ull);
    step(OPW(1, 5, 6, 1, 3));       cr_assert_eq(X(6), ~0ull);
    step(OPW(1, 6, 6, 1, 3));       cr_assert_eq(X(6), 0xffffffff80000000ull);
    step(OPW(1, 7, 6, 1, 3));       cr_assert_eq(X(6), 0xffffffff80000000ull);
    X(7) = 0x100000007ull;          /* low word 7 */
    X(8) = 0x2;
    step(OPW(1, 5, 6, 7, 8));       cr_assert_eq(X(6), 3);
    step(OPW(1, 7, 6, 7, 8));       cr_assert_eq(X(6), 1);
    X(9) = 0xfffffffe;              /* divuw: 0xfffffffe / 1 sign-extends */
    X(10) = 1;
    step(OPW(1, 5, 6, 9, 10));      cr_assert_eq(X(6), 0xfffffffffffffffeull);
}

Test(int64, atomics)
{
    X(1) = DATA;
    wr64(DATA, 0x100000005ull);
    X(2) = 3;
    step(AMO(0x00, 2, 3, 1, 2));    /* amoadd.w */
    cr_assert_eq(X(3), 5);
    cr_assert_eq(rd64(DATA), 0x100000008ull);
    X(2) = 0x80000000;
    step(AMO(0x01, 2, 3, 1, 2));    /* amoswap.w */
    cr_assert_eq(X(3), 8);
    step(AMO(0x01, 2, 3, 1, 2));
    cr_assert_eq(X(3), 0xffffffff80000000ull, "W results are sign-extended");
    X(2) = 1;
    step(AMO(0x10, 2, 3, 1, 2));    /* amomin.w: min(INT_MIN, 1) */
    cr_assert_eq((uint32_t)rd64(DATA), 0x80000000);
    step(AMO(0x18, 2, 3, 1, 2));    /* amominu.w */
    cr_assert_eq((uint32_t)rd64(DATA), 1);
    X(2) = 0xfffffff0;
    step(AMO(0x14, 2, 3, 1, 2));    /* amomax.w: max(1, -16) */
    cr_assert_eq((uint32_t)rd64(DATA), 1);
    step(AMO(0x1c, 2, 3, 1, 2));    /* amomaxu.w */
    cr_assert_eq((uint32_t)rd64(DATA), 0xfffffff0);
    cr_assert_eq(rd64(DATA) >> 32, 1, "the upper word is untouched");
    wr64(DATA, 0xf0f0);
    X(2) = 0xff00;
    step(AMO(0x0c, 3, 3, 1, 2));    /* amoand.d */
    cr_assert_eq(rd64(DATA), 0xf000);
    step(AMO(0x08, 3, 3, 1, 2));    /* amoor.d */
    cr_assert_eq(rd64(DATA), 0xff00);
    step(AMO(0x04, 3, 3, 1, 2));    /* amoxor.d */
    cr_assert_eq(rd64(DATA), 0);
    cr_assert_eq(X(3), 0xff00);
    X(2) = ~0ull;
    step(AMO(0x10, 3, 3, 1, 2));    /* amomin.d */
    cr_assert_eq(rd64(DATA), ~0ull);
    X(2) = 5;
    step(AMO(0x14, 3, 3, 1, 2));    /* amomax.d */
    cr_assert_eq(rd64(DATA), 5);
    step(AMO(0x1c, 3, 3, 1, 4));    /* amomaxu.d with x4 = 0 */
    cr_assert_eq(rd64(DATA), 5);
    X(4) = ~0ull;
    step(AMO(0x18, 3, 3, 1, 4));    /* amominu.d */
    cr_assert_eq(rd64(DATA), 5);
}

Test(int64, lr_sc)
{
    X(1) = DATA;
    wr64(DATA, 42);
    X(2) = 43;
    /* SC without a reservation fails and does not store */
    step(AMO(0x03, 3, 3, 1, 2));
    cr_assert_eq(X(3), 1);
    cr_assert_eq(rd64(DATA), 42);
    step(AMO(0x02, 3, 4, 1, 0));    /* lr.d */
    cr_assert_eq(X(4), 42);
    step(AMO(0x03, 3, 3, 1, 2));    /* sc.d */
    cr_assert_eq(X(3), 0);
    cr_assert_eq(rd64(DATA), 43);
    /* the SC consumed the reservation */
    X(2) = 44;
    step(AMO(0x03, 3, 3, 1, 2));
    cr_assert_eq(X(3), 1);
    cr_assert_eq(rd64(DATA), 43);
    /* a reservation elsewhere does not match */
    X(5) = DATA + 8;
    step(AMO(0x02, 2, 4, 5, 0));    /* lr.w */
    step(AMO(0x03, 2, 3, 1, 2));    /* sc.w */
    cr_assert_eq(X(3), 1);
    /* lr.w sign-extends; a trap drops the reservation */
    wr64(DATA, 0x80000000);
    step(AMO(0x02, 2, 4, 1, 0));
    cr_assert_eq(X(4), 0xffffffff80000000ull);
    step(EBREAK);
    step(AMO(0x03, 2, 3, 1, 2));
    cr_assert_eq(X(3), 1);
    cr_assert_eq(rd64(DATA), 0x80000000);
}

Test(int64, atomics_alignment_and_faults)
{
    X(1) = DATA + 4;
    cpu->pc = RAM_BASE;
    step(AMO(0x02, 3, 4, 1, 0));    /* lr.d misaligned */
    assert_trap(RV_EXC_LOAD_MISALIGNED, RAM_BASE, DATA + 4);
    cpu->pc = RAM_BASE;
    step(AMO(0x00, 3, 4, 1, 2));    /* amoadd.d misaligned */
    assert_trap(RV_EXC_STORE_MISALIGNED, RAM_BASE, DATA + 4);
    X(1) = DATA + 2;
    cpu->pc = RAM_BASE;
    step(AMO(0x03, 2, 4, 1, 2));    /* sc.w misaligned */
    assert_trap(RV_EXC_STORE_MISALIGNED, RAM_BASE, DATA + 2);
    X(1) = ROM_BASE;
    cpu->pc = RAM_BASE;
    step(AMO(0x01, 2, 4, 1, 2));    /* amoswap.w on ROM */
    assert_trap(RV_EXC_STORE_ACCESS, RAM_BASE, ROM_BASE);
    /* AMOs on MMIO are performed */
    X(1) = MMIO_BASE;
    dev_reg = 10;
    X(2) = 5;
    step(AMO(0x00, 3, 4, 1, 2));
    cr_assert_eq(X(4), 10);
    cr_assert_eq(dev_reg, 15);
}

Test(int64, fences_are_nops)
{
    cr_assert_eq(decode_at_pc(FENCE, 4), 0);
    cr_assert_eq(blk[0].fn, rv_nop);
    cr_assert_eq(decode_at_pc(PAUSE, 4), 0);
    cr_assert_eq(blk[0].fn, rv_nop);
    cr_assert_eq(decode_at_pc(0x8330000f, 4), 0);   /* fence.tso */
    cr_assert_eq(decode_at_pc(FENCE_I, 4), RV_DEC_END);
    cpu->pc = RAM_BASE + 8;
    step(FENCE_I);
    cr_assert_eq(cpu->pc, RAM_BASE + 12);
}

Test(int64, illegal_encodings)
{
    static const uint32_t bad[] = {
        0x00000000, 0xffffffff, 0x0000001f /* 48-bit prefix */,
        0x0000707f, R(0x02, 0, 0, 1, 1, 0x13) /* slli, funct6 = 1 */,
        0x0000200f /* cbo */, I(0, 1, 1, 1, 0x67) /* jalr f3=1 */,
        0x0000702f /* amo f3=7 */, AMO(0x02, 2, 1, 2, 3) /* lr with rs2 */,
        OP(0x02, 0, 1, 2, 3), 0x00007003 /* load f3=7 */,
        0x00004023 /* store f3=4 */,
    };
    for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        cpu->pc = RAM_BASE + 0x40;
        cr_assert_eq(decode_at_pc(bad[k], 4), RV_DEC_END, "%08x", bad[k]);
        run_decoded();
        assert_trap(RV_EXC_ILLEGAL_INSN, RAM_BASE + 0x40, bad[k]);
    }
    /* compressed: tval is the 16-bit encoding */
    static const uint16_t bad16[] = { 0x0000, 0x6001, 0x6101, 0x4002, 0x8002,
                                      0x9c41, 0x9c61, 0x8000, 0x2001 };
    for (unsigned k = 0; k < sizeof(bad16) / sizeof(bad16[0]); k++) {
        cpu->pc = RAM_BASE + 0x40;
        step16(bad16[k]);
        assert_trap(RV_EXC_ILLEGAL_INSN, RAM_BASE + 0x40, bad16[k]);
    }
}

/* ================= RV32 ================= */

Test(int32, alu_is_32_bit)
{
    X(1) = sx32(0x7fffffff);
    X(2) = 1;
    step(ADD(3, 1, 2));             cr_assert_eq(X(3), 0xffffffff80000000ull);
    step(OP(0x20, 0, 3, 3, 2));     cr_assert_eq(X(3), 0x7fffffff);
    X(4) = 33;
    step(OP(0, 1, 3, 2, 4));        cr_assert_eq(X(3), 2, "shift amounts use 5 bits");
    X(5) = sx32(0x80000000);
    step(OP(0, 5, 3, 5, 4));        cr_assert_eq(X(3), 0x40000000);
    step(OP(0x20, 5, 3, 5, 4));     cr_assert_eq(X(3), sx32(0xc0000000));
    step(OP(0, 3, 3, 2, 5));        cr_assert_eq(X(3), 1, "sltu compares unsigned");
    step(OP(0, 2, 3, 2, 5));        cr_assert_eq(X(3), 0);
    step(ADDI(3, 1, 1));            cr_assert_eq(X(3), sx32(0x80000000));
    step(I(-1, 2, 3, 3, 0x13));     cr_assert_eq(X(3), 1);    /* sltiu 1 < 0xffffffff */
    step(SHI(0, 1, 3, 2, 31));      cr_assert_eq(X(3), sx32(0x80000000));
    step(SHI(0, 5, 3, 5, 31));      cr_assert_eq(X(3), 1);
    step(SHI(0x10, 5, 3, 5, 31));   cr_assert_eq(X(3), ~0ull);
    step(LUI(3, 0x80000));          cr_assert_eq(X(3), sx32(0x80000000));
    cpu->pc = 0xfffff000;
    step(AUIPC(3, 0x1));            cr_assert_eq(X(3), 0);
    cr_assert_eq(cpu->pc, 0xfffff004);
}

Test(int32, mul_div)
{
    X(1) = sx32(0x80000000);
    X(2) = sx32(0xffffffff);
    step(OP(1, 0, 3, 1, 2));        cr_assert_eq(X(3), sx32(0x80000000));
    step(OP(1, 1, 3, 1, 2));        cr_assert_eq(X(3), 0);            /* mulh */
    step(OP(1, 3, 3, 1, 2));        cr_assert_eq(X(3), sx32(0x7fffffff)); /* mulhu */
    step(OP(1, 2, 3, 1, 2));        cr_assert_eq(X(3), sx32(0x80000000)); /* mulhsu */
    step(OP(1, 4, 3, 1, 2));        cr_assert_eq(X(3), sx32(0x80000000)); /* overflow */
    step(OP(1, 6, 3, 1, 2));        cr_assert_eq(X(3), 0);
    step(OP(1, 5, 3, 1, 2));        cr_assert_eq(X(3), 0);            /* divu */
    step(OP(1, 7, 3, 1, 2));        cr_assert_eq(X(3), sx32(0x80000000));
    step(OP(1, 4, 3, 1, 0));        cr_assert_eq(X(3), ~0ull);
    step(OP(1, 5, 3, 1, 0));        cr_assert_eq(X(3), ~0ull);
    step(OP(1, 6, 3, 1, 0));        cr_assert_eq(X(3), sx32(0x80000000));
}

Test(int32, rv64_only_encodings_are_illegal)
{
    static const uint32_t bad[] = {
        0x0000b003 /* ld */, 0x0000e003 /* lwu */, 0x0000b023 /* sd */,
        0x0000001b /* addiw */, 0x0000003b /* addw */,
        SHI(0, 1, 1, 1, 32) /* slli shamt[5] */, SHI(0x10, 5, 1, 1, 40),
        AMO(0x00, 3, 1, 2, 3) /* amoadd.d */,
    };
    for (unsigned k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        cpu->pc = RAM_BASE;
        step(bad[k]);
        assert_trap(RV_EXC_ILLEGAL_INSN, RAM_BASE, bad[k]);
    }
    cpu->pc = RAM_BASE;
    step16(0x1082);                 /* c.slli ra, 32: reserved in RV32 */
    assert_trap(RV_EXC_ILLEGAL_INSN, RAM_BASE, 0x1082);
}

Test(int32, addresses_wrap)
{
    /* x1 = -4 (sign-extended); -4 + 0x80000010 wraps to 0x8000000c */
    X(1) = ~3ull;
    wr64(RAM_BASE + 8, 0x11223344aabbccddull);
    step(LOADI(2, 2, 1, 0) | 0);    /* lw x2, 0(x1): address 0xfffffffc: unmapped */
    assert_trap(RV_EXC_LOAD_ACCESS, RAM_BASE, 0xfffffffc);
    X(1) = sx32(0x80000010);
    cpu->pc = RAM_BASE;
    step(LOADI(2, 2, 1, -8));
    cr_assert_eq(X(2), sx32(0xaabbccdd));
    step(LOADI(2, 2, 1, -4));
    cr_assert_eq(X(2), 0x11223344);
    /* jal/jalr: link sign-extended, target wrapped */
    cpu->pc = 0xfffffff0;
    step(J(0x20, 1));
    cr_assert_eq(cpu->pc, 0x10);
    cr_assert_eq(X(1), sx32(0xfffffff4));
    X(3) = sx32(0x80000000);
    step(JALR(1, 3, 4));
    cr_assert_eq(cpu->pc, 0x80000004);
    cr_assert_eq(X(1), 0x14);
    /* c.jal exists in RV32 */
    cpu->pc = RAM_BASE;
    step16(0x2011);                 /* c.jal +4 */
    cr_assert_eq(cpu->pc, RAM_BASE + 4);
    cr_assert_eq(X(1), sx32(RAM_BASE + 2));
}

Test(int32, atomics)
{
    X(1) = sx32(DATA);
    wr64(DATA, 7);
    X(2) = sx32(0xfffffff0);
    step(AMO(0x00, 2, 3, 1, 2));
    cr_assert_eq(X(3), 7);
    cr_assert_eq(rd64(DATA), 0xfffffff7);
    step(AMO(0x02, 2, 4, 1, 0));
    cr_assert_eq(X(4), sx32(0xfffffff7));
    step(AMO(0x03, 2, 3, 1, 0));
    cr_assert_eq(X(3), 0);
    cr_assert_eq(rd64(DATA), 0);
}

/* ================= compressed expansion ================= */

typedef struct { uint16_t c; uint32_t e; } Pair;

/* Checked against binutils: each 16-bit form next to its 32-bit one. */
static const Pair rvc64[] = {
    { 0x0040, 0x00410413 },      /* c.addi4spn s0, sp, 4 */
    { 0x1fa0, 0x3f810413 },      /* c.addi4spn s0, sp, 1016 */
    { 0x2d00, 0x01853407 },      /* c.fld fs0, 24(a0) */
    { 0x4d8c, 0x0185a583 },      /* c.lw a1, 24(a1) */
    { 0x7dac, 0x0785b583 },      /* c.ld a1, 120(a1) */
    { 0x7f7c, 0x0f873783 },      /* c.ld a5, 248(a4) */
    { 0x5f7c, 0x07c72783 },      /* c.lw a5, 124(a4) */
    { 0xa000, 0x00843027 },      /* c.fsd fs0, 0(s0) */
    { 0xbf7c, 0x0ef73c27 },      /* c.fsd fa5, 248(a4) */
    { 0xcd8c, 0x00b5ac23 },      /* c.sw a1, 24(a1) */
    { 0xfdac, 0x06b5bc23 },      /* c.sd a1, 120(a1) */
    { 0x0505, 0x00150513 },      /* c.addi a0, 1 */
    { 0x157d, 0xfff50513 },      /* c.addi a0, -1 */
    { 0x0ffd, 0x01ff8f93 },      /* c.addi t6, 31 */
    { 0x357d, 0xfff5051b },      /* c.addiw a0, -1 */
    { 0x557d, 0xfff00513 },      /* c.li a0, -1 */
    { 0x4dfd, 0x01f00d93 },      /* c.li s11, 31 */
    { 0x7179, 0xfd010113 },      /* c.addi16sp sp, -48 */
    { 0x617d, 0x1f010113 },      /* c.addi16sp sp, 496 */
    { 0x7101, 0xe0010113 },      /* c.addi16sp sp, -512 */
    { 0x757d, 0xfffff537 },      /* c.lui a0, 0xfffff */
    { 0x6505, 0x00001537 },      /* c.lui a0, 1 */
    { 0x64fd, 0x0001f4b7 },      /* c.lui s1, 0x1f */
    { 0x7481, 0xfffe04b7 },      /* c.lui s1, 0xfffe0 */
    { 0x8105, 0x00155513 },      /* c.srli a0, 1 */
    { 0x9101, 0x02055513 },      /* c.srli a0, 32 */
    { 0x94fd, 0x43f4d493 },      /* c.srai s1, 63 */
    { 0x9901, 0xfe057513 },      /* c.andi a0, -32 */
    { 0x8d0d, 0x40b50533 },      /* c.sub a0, a1 */
    { 0x8c3d, 0x00f44433 },      /* c.xor s0, a5 */
    { 0x8d4d, 0x00b56533 },      /* c.or a0, a1 */
    { 0x8d6d, 0x00b57533 },      /* c.and a0, a1 */
    { 0x9d0d, 0x40b5053b },      /* c.subw a0, a1 */
    { 0x9d2d, 0x00b5053b },      /* c.addw a0, a1 */
    { 0x050a, 0x00251513 },      /* c.slli a0, 2 */
    { 0x1ffe, 0x03ff9f93 },      /* c.slli t6, 63 */
    { 0x2522, 0x00813507 },      /* c.fldsp fa0, 8(sp) */
    { 0x30fe, 0x1f813087 },      /* c.fldsp ft1, 504(sp) */
    { 0x557e, 0x0fc12503 },      /* c.lwsp a0, 252(sp) */
    { 0x757e, 0x1f813503 },      /* c.ldsp a0, 504(sp) */
    { 0x8782, 0x00078067 },      /* c.jr a5 */
    { 0x852e, 0x00b00533 },      /* c.mv a0, a1 */
    { 0x9002, 0x00100073 },      /* c.ebreak */
    { 0x9502, 0x000500e7 },      /* c.jalr a0 */
    { 0x952e, 0x00b50533 },      /* c.add a0, a1 */
    { 0xbfaa, 0x1ea13c27 },      /* c.fsdsp fa0, 504(sp) */
    { 0xdfaa, 0x0ea12e23 },      /* c.swsp a0, 252(sp) */
    { 0xffaa, 0x1ea13c23 },      /* c.sdsp a0, 504(sp) */
};
static const Pair rvc32[] = {
    { 0x6d8c, 0x0185a587 },      /* c.flw fa1, 24(a1) */
    { 0x7f7c, 0x07c72787 },      /* c.flw fa5, 124(a4) */
    { 0xfdec, 0x06b5ae27 },      /* c.fsw fa1, 124(a1) */
    { 0x757e, 0x0fc12507 },      /* c.flwsp fa0, 252(sp) */
    { 0xffaa, 0x0ea12e27 },      /* c.fswsp fa0, 252(sp) */
    { 0x817d, 0x01f55513 },      /* c.srli a0, 31 */
    { 0x0505, 0x00150513 },      /* c.addi a0, 1 */
    { 0x3f7c, 0x0f873787 },      /* c.fld fa5, 248(a4) */
    { 0x4d8c, 0x0185a583 },      /* c.lw a1, 24(a1) */
    { 0xcd8c, 0x00b5ac23 },      /* c.sw a1, 24(a1) */
    { 0xbfaa, 0x1ea13c27 },      /* c.fsdsp fa0, 504(sp) */
    { 0x557e, 0x0fc12503 },      /* c.lwsp a0, 252(sp) */
    { 0xdfaa, 0x0ea12e23 },      /* c.swsp a0, 252(sp) */
};

/* Jumps and branches, also from binutils (labels instead of numbers). */
static const Pair rvc_jumps64[] = {
    { 0xa001, 0x0000006f },      /* c.j . */
    { 0xbffd, 0xfffff06f },      /* c.j -2 */
    { 0xa801, 0x0100006f },      /* c.j +16 */
    { 0xaffd, 0x7fe0006f },      /* c.j +2046 */
    { 0xb001, 0x801ff06f },      /* c.j -2048 */
    { 0xc111, 0x00050263 },      /* c.beqz a0, +4 */
    { 0xfd7d, 0xfe051fe3 },      /* c.bnez a0, -2 */
    { 0xcffd, 0x0e078f63 },      /* c.beqz a5, +254 */
    { 0xf081, 0xf00490e3 },      /* c.bnez s1, -256 */
};

Test(rvc, expansion_rv64)
{
    for (unsigned k = 0; k < sizeof(rvc64) / sizeof(rvc64[0]); k++) {
        uint32_t e = riscv_rvc_expand(rvc64[k].c, 64);
        cr_assert_eq(e, rvc64[k].e, "%04x -> %08x, expected %08x", rvc64[k].c, e, rvc64[k].e);
    }
    for (unsigned k = 0; k < sizeof(rvc_jumps64) / sizeof(rvc_jumps64[0]); k++) {
        uint32_t e = riscv_rvc_expand(rvc_jumps64[k].c, 64);
        cr_assert_eq(e, rvc_jumps64[k].e, "%04x -> %08x, expected %08x",
                     rvc_jumps64[k].c, e, rvc_jumps64[k].e);
    }
}

Test(rvc, expansion_rv32)
{
    for (unsigned k = 0; k < sizeof(rvc32) / sizeof(rvc32[0]); k++) {
        uint32_t e = riscv_rvc_expand(rvc32[k].c, 32);
        cr_assert_eq(e, rvc32[k].e, "%04x -> %08x, expected %08x", rvc32[k].c, e, rvc32[k].e);
    }
}

Test(rvc, reserved_encodings)
{
    static const uint16_t res64[] = {
        0x0000, 0x0004, 0x8000 /* q0 f3=4 */, 0x6001 /* c.lui x0? nzimm 0 */,
        0x6101 /* c.addi16sp 0 */, 0x6501 /* c.lui a0, 0 */, 0x2001 /* c.addiw x0 */,
        0x4002 /* c.lwsp x0 */, 0x6002 /* c.ldsp x0 */, 0x8002 /* c.jr x0 */,
        0x9c41 /* c.subw? f2=2 reserved */, 0x9c61,
    };
    for (unsigned k = 0; k < sizeof(res64) / sizeof(res64[0]); k++)
        cr_assert_eq(riscv_rvc_expand(res64[k], 64), 0, "%04x", res64[k]);
    cr_assert_eq(riscv_rvc_expand(0x9d0d, 32), 0, "c.subw is RV64 only");
    cr_assert_eq(riscv_rvc_expand(0x9101, 32), 0, "c.srli shamt[5] in RV32");
    /* hints expand to instructions without effect */
    cr_assert_eq(riscv_rvc_expand(0x0001, 64), 0x00000013);
    cr_assert_eq(riscv_rvc_expand(0x4001, 64), 0x00000013);
}

Test(rvc, execution)
{
    X(2) = DATA;
    X(11) = 0x1122334455667788ull;
    step16(0xe02e);                 /* c.sdsp a1, 0(sp) */
    cr_assert_eq(rd64(DATA), 0x1122334455667788ull);
    step16(0x6502);                 /* c.ldsp a0, 0(sp) */
    cr_assert_eq(X(10), 0x1122334455667788ull);
    step16(0x4502);                 /* c.lwsp a0, 0(sp) */
    cr_assert_eq(X(10), 0x55667788);
    step16(0x157d);                 /* c.addi a0, -1 */
    cr_assert_eq(X(10), 0x55667787);
    step16(0x7179);                 /* c.addi16sp sp, -48 */
    cr_assert_eq(X(2), DATA - 48);
    cr_assert_eq(cpu->pc, RAM_BASE + 10);
    cr_assert_eq(blk[0].len, 2);
    cr_assert_eq(blk[0].raw, 0xfd010113);
}

/* ================= engine ================= */

static CpuExit run(uint64_t n)
{
    return riscv_cpu_ops.run(cpu, n);
}

/* A loop summing 1..10 with a load and a store in it. */
static const uint32_t sum_prog[] = {
    ADDI(1, 0, 10),                 /* 0: x1 = 10 */
    ADDI(2, 0, 0),                  /* 4: x2 = 0 */
    ADDI(5, 0, 1),                  /* 8 */
    SHI(0, 1, 5, 5, 31),            /* c: x5 = RAM_BASE */
    LUI(6, 0x10),                   /* 10 */
    ADD(5, 5, 6),                   /* 14: x5 = DATA */
    ADD(2, 2, 1),                   /* 18: loop: x2 += x1 */
    STOREI(3, 2, 5, 0),             /* 1c: sd x2, 0(x5) */
    LOADI(3, 3, 5, 0),              /* 20: ld x3, 0(x5) */
    ADDI(1, 1, -1),                 /* 24 */
    B(-16, 0, 1, 1),                /* 28: bne x1, x0, loop */
    EBREAK,                         /* 2c */
};
#define SUM_LEN 12
#define SUM_INSNS (6 + 10 * 5)
#define SUM_END (RAM_BASE + 0x2c)

Test(engine, runs_a_loop_exactly)
{
    put(RAM_BASE, sum_prog, SUM_LEN);
    cr_assert_eq(run(SUM_INSNS), CPU_EXIT_BUDGET);
    cr_assert_eq(X(2), 55);
    cr_assert_eq(X(3), 55);
    cr_assert_eq(cpu->icount, SUM_INSNS);
    cr_assert_eq(cpu->brcount, 10);
    cr_assert_eq(cpu->pc, SUM_END);
    run(1);
    assert_trap(RV_EXC_BREAKPOINT, SUM_END, 0);
    cr_assert_eq(cpu->icount, SUM_INSNS + 1, "ebreak does not retire; one spin does");
}

static void reset_at(uint64_t pc)
{
    riscv_cpu_reset(cpu, pc);
    cpu->mtvec = TRAP_VEC;
    cpu->icount = 0;
    cpu->brcount = 0;
}

Test(engine, budget_is_exact_at_every_split)
{
    put(RAM_BASE, sum_prog, SUM_LEN);
    for (uint64_t k = 1; k <= SUM_INSNS; k++) {
        reset_at(RAM_BASE);
        run(k);
        cr_assert_eq(cpu->icount, k);
        run(SUM_INSNS - k);
        cr_assert_eq(cpu->icount, SUM_INSNS);
        cr_assert_eq(X(2), 55, "split at %llu", (unsigned long long)k);
        cr_assert_eq(cpu->brcount, 10);
        cr_assert_eq(cpu->pc, SUM_END);
    }
    /* one instruction at a time */
    reset_at(RAM_BASE);
    for (int k = 0; k < SUM_INSNS; k++)
        run(1);
    cr_assert_eq(X(2), 55);
    cr_assert_eq(cpu->brcount, 10);
    cr_assert_eq(cpu->pc, SUM_END);
}

Test(engine, fault_inside_a_block_fixes_icount)
{
    static const uint32_t prog[] = {
        ADDI(1, 0, 1), ADDI(1, 1, 1), LOADI(3, 2, 0, 0) /* ld x2, 0(x0) */,
        ADDI(1, 1, 1), EBREAK,
    };
    put(RAM_BASE, prog, 5);
    run(100);
    assert_trap(RV_EXC_LOAD_ACCESS, RAM_BASE + 8, 0);
    cr_assert_eq(X(1), 2);
    /* 2 before the fault, then the trap vector's spin loop */
    cr_assert_eq(cpu->icount, 100);
    cr_assert_eq(cpu->brcount, 0);
}

Test(engine, mmio_sees_exact_icount_in_a_block)
{
    static const uint32_t prog[] = {
        LUI(1, 0x10000), NOP, NOP, STOREI(3, 0, 1, 0), NOP, EBREAK,
    };
    put(RAM_BASE, prog, 6);
    run(5);
    cr_assert_eq(dev_icount, 3);
    cr_assert_eq(cpu->icount, 5);
}

Test(engine, fetch_faults)
{
    /* jump outside RAM */
    static const uint32_t prog[] = { LUI(1, 0x20000), JALR(0, 1, 0) };
    put(RAM_BASE, prog, 2);
    run(2);
    cr_assert_eq(cpu->pc, 0x20000000, "the fault is taken when the next run fetches");
    run(1);
    assert_trap(RV_EXC_INSN_ACCESS, 0x20000000, 0x20000000);
    cr_assert_eq(cpu->icount, 3, "the faulting fetch retires nothing; then one spin");
    /* MMIO is not executable */
    reset_at(MMIO_BASE);
    run(1);
    assert_trap(RV_EXC_INSN_ACCESS, MMIO_BASE, MMIO_BASE);
}

Test(engine, straddling_instruction)
{
    /* A 4-byte instruction at the end of a page runs, ending its block. */
    uint64_t pc = RAM_BASE + 0x2ffc;
    put16(pc, 0x0505);              /* c.addi a0, 1 */
    uint32_t add = ADDI(10, 10, 5);
    put16(pc + 2, (uint16_t)add);
    put16(pc + 4, (uint16_t)(add >> 16));
    put16(pc + 6, 0x0505);
    cpu->pc = pc;
    run(3);
    cr_assert_eq(X(10), 7);
    cr_assert_eq(cpu->pc, pc + 8);
    /* Rewriting the tail (second page) is seen. */
    add = ADDI(10, 10, 100);
    put16(pc + 4, (uint16_t)(add >> 16));
    as_copy_to(&mach.as, pc + 4, ram + (pc + 4 - RAM_BASE), 2);
    cpu->pc = pc;
    run(2);
    cr_assert_eq(X(10), 7 + 1 + 100);
    /* At the end of RAM the tail cannot be fetched: the fault names the
     * second half, epc the instruction; earlier instructions retire. */
    uint64_t end = RAM_BASE + RAM_SIZE;
    put16(end - 4, 0x0505);
    put16(end - 2, (uint16_t)add);
    X(10) = 0;
    cpu->pc = end - 4;
    uint64_t ic = cpu->icount;
    run(2);
    cr_assert_eq(X(10), 1);
    assert_trap(RV_EXC_INSN_ACCESS, end - 2, end);
    cr_assert_eq(cpu->icount, ic + 2, "c.addi, then one spin of the trap vector");
}

Test(engine, self_modifying_code)
{
    /* The program rewrites an instruction on another page, then calls it. */
    uint64_t fn = RAM_BASE + 0x4000;
    uint32_t ret = JALR(0, 1, 0);
    uint32_t f1[] = { ADDI(10, 0, 1), ret };
    put(fn, f1, 2);
    uint32_t newinsn = ADDI(10, 0, 2);
    static uint32_t prog[] = {
        NOP,                        /* x5 = fn, set below */
        JALR(1, 5, 0),              /* call fn */
        ADD(11, 10, 0),             /* x11 = x10 */
        STOREI(2, 6, 5, 0),         /* sw x6, 0(x5) */
        JALR(1, 5, 0),              /* call fn again */
        EBREAK,
    };
    put(RAM_BASE, prog, 6);
    X(6) = newinsn;
    X(5) = fn;
    run(3 + 2 + 3);                 /* through the second call's addi */
    cr_assert_eq(X(11), 1);
    cr_assert_eq(X(10), 2, "the rewritten instruction must run");
    /* A store to the page of the running code, outside its chunks: the code
     * stays valid and a data store does not break execution. */
    static const uint32_t prog2[] = {
        NOP, ADDI(6, 0, 0x77), STOREI(3, 6, 5, 0x7f8),
        ADDI(7, 0, 3), EBREAK,
    };
    reset_at(RAM_BASE);
    X(5) = RAM_BASE;
    put(RAM_BASE, prog2, 5);
    run(4);
    cr_assert_eq(rd64(RAM_BASE + 0x7f8), 0x77);
    cr_assert_eq(X(7), 3);
}

Test(engine, code_write_hook_and_fence_i)
{
    uint32_t p1[] = { ADDI(10, 0, 1), EBREAK };
    put(RAM_BASE, p1, 2);
    run(1);
    cr_assert_eq(X(10), 1);
    /* a loader/DMA write through the address space */
    uint32_t p2 = ADDI(10, 0, 9);
    as_copy_to(&mach.as, RAM_BASE, &p2, 4);
    cpu->pc = RAM_BASE;
    run(1);
    cr_assert_eq(X(10), 9);
    /* a write behind the engine's back (host pointer), then FENCE.I */
    uint32_t p3[] = { ADDI(10, 0, 3), FENCE_I, 0 };
    put(RAM_BASE + 0x100, p3, 2);
    put(RAM_BASE + 0x108, (uint32_t[]){ JALR(0, 0, 0) | 0 }, 0);
    uint32_t jmp = J(-0x108, 0);
    put(RAM_BASE + 0x108, &jmp, 1);
    cpu->pc = RAM_BASE + 0x100;
    run(3);
    cr_assert_eq(cpu->pc, RAM_BASE);
    uint32_t p4 = ADDI(10, 0, 4);
    memcpy(ram, &p4, 4);            /* not seen: no code_write */
    cpu->pc = RAM_BASE + 0x100;
    run(4);                         /* addi 3, fence.i, j, then the new addi */
    cr_assert_eq(X(10), 4);
}

Test(engine, interrupts_between_blocks_and_wfi)
{
    static const uint32_t prog[] = { NOP, NOP, J(-8, 0) };
    put(RAM_BASE, prog, 3);
    run(10);
    cr_assert_eq(cpu->icount, 10);
    cpu->mie = 1ull << RV_IRQ_MEIP;
    cpu->mstatus |= RV_MSTATUS_MIE;
    riscv_cpu_set_irq(cpu, RV_IRQ_MEIP, 1);
    uint64_t pc = cpu->pc;
    run(1);
    cr_assert_eq(cpu->mcause, (1ull << 63) | RV_IRQ_MEIP);
    cr_assert_eq(cpu->mepc, pc);
    cr_assert_eq(cpu->pc, TRAP_VEC);
    cr_assert_eq(cpu->icount, 11);
    riscv_cpu_set_irq(cpu, RV_IRQ_MEIP, 0);
    cr_assert_eq(cpu->mip_hw, 0);
    /* WFI with nothing pending: idle */
    cpu->wfi = true;
    cr_assert_eq(run(5), CPU_EXIT_IDLE);
    cr_assert_eq(cpu->icount, 11);
    riscv_cpu_set_irq(cpu, RV_IRQ_MEIP, 1);
    cpu->mstatus &= ~RV_MSTATUS_MIE;     /* wakes WFI without a trap */
    cr_assert_eq(run(5), CPU_EXIT_BUDGET);
    cr_assert_eq(cpu->wfi, false);
    cr_assert_eq(cpu->icount, 16);
    mach.exit_request = 1;
    cr_assert_eq(run(5), CPU_EXIT_REQUEST);
    cr_assert_eq(cpu->icount, 16);
}

Test(engine, digest_and_ops)
{
    cr_assert_str_eq(riscv_cpu_ops.name, "riscv");
    uint64_t d = riscv_cpu_ops.digest(cpu);
    cr_assert_eq(riscv_cpu_ops.digest(cpu), d);
    X(31) = 1;
    uint64_t d2 = riscv_cpu_ops.digest(cpu);
    cr_assert_neq(d2, d);
    X(31) = 0;
    cpu->pc += 4;
    cr_assert_neq(riscv_cpu_ops.digest(cpu), d);
    X(32) = 123;    /* the sink is not state */
    cpu->pc -= 4;
    cr_assert_eq(riscv_cpu_ops.digest(cpu), d);
    cpu->brcount = 77;
    cr_assert_eq(riscv_cpu_ops.brcount(cpu), 77);
    X(5) = 9;
    cpu->pc = RAM_BASE + 0x40;
    riscv_cpu_ops.reset(cpu);
    cr_assert_eq(cpu->pc, RAM_BASE);
    cr_assert_eq(X(5), 0);
    cr_assert_eq(cpu->priv, RV_PRIV_M);
    char *buf;
    size_t len;
    FILE *f = open_memstream(&buf, &len);
    riscv_cpu_ops.dump(cpu, f);
    fclose(f);
    cr_assert(strstr(buf, "pc") && strstr(buf, "mstatus"));
    free(buf);
}

Test(engine32, runs_rv32_code)
{
    static const uint32_t prog[] = {
        LUI(1, 0x80010),            /* x1 = DATA (sign-extended) */
        ADDI(2, 0, -1),
        STOREI(2, 2, 1, 0),         /* sw */
        LOADI(2, 3, 1, 0),          /* lw -> -1 */
        LOADI(6, 3, 1, 0) & ~0u,    /* (lwu is illegal in RV32) */
    };
    put(RAM_BASE, prog, 5);
    run(4);
    cr_assert_eq(X(1), sx32(DATA));
    cr_assert_eq(X(3), ~0ull);
    cr_assert_eq(cpu->pc, RAM_BASE + 16);
    run(1);
    assert_trap(RV_EXC_ILLEGAL_INSN, RAM_BASE + 16, LOADI(6, 3, 1, 0));
    /* a sign-extended pc is treated as its 32-bit value */
    cpu->pc = sx32(RAM_BASE);
    run(1);
    cr_assert_eq(cpu->pc, RAM_BASE + 4);
}

/* ================= paging: faults name the right address ================= */

#define PT_ROOT (RAM_BASE + 0x80000)
#define PTE_V 0x01ull
#define PTE_R 0x02ull
#define PTE_W 0x04ull
#define PTE_X 0x08ull
#define PTE_A 0x40ull
#define PTE_D 0x80ull
#define VBASE 0x40000000ull         /* virtual window, Sv39 */

/* Sv39 with one level-0 table mapping VBASE + i*4K -> pa[i]; 0 = unmapped. */
static void map_window(const uint64_t *pa, unsigned n, uint64_t flags)
{
    uint64_t l1 = PT_ROOT + 0x1000, l0 = PT_ROOT + 0x2000;
    memset(ram + (PT_ROOT - RAM_BASE), 0, 0x3000);
    wr64(PT_ROOT + ((VBASE >> 30) & 511) * 8, ((l1 >> 12) << 10) | PTE_V);
    wr64(l1 + ((VBASE >> 21) & 511) * 8, ((l0 >> 12) << 10) | PTE_V);
    for (unsigned i = 0; i < n; i++)
        if (pa[i])
            wr64(l0 + i * 8, ((pa[i] >> 12) << 10) | flags | PTE_A | PTE_D | PTE_V);
    uint64_t old;
    cpu->priv = RV_PRIV_M;
    /* PMP: everything for S/U; satp: Sv39 */
    cr_assert_eq(riscv_csr_rw(cpu, &blk[0], 0x3b0, &old, ~0ull >> 10, ~0ull, true), 0);
    cr_assert_eq(riscv_csr_rw(cpu, &blk[0], 0x3a0, &old, 0x1f, ~0ull, true), 0);
    cr_assert_eq(riscv_csr_rw(cpu, &blk[0], 0x180, &old, (8ull << 60) | (PT_ROOT >> 12),
                              ~0ull, true), 0);
    cpu->priv = RV_PRIV_S;
    riscv_tlb_flush(cpu);
}

Test(engine, straddling_fetch_page_fault)
{
    /* page 0 mapped (code), page 1 unmapped */
    uint64_t code = RAM_BASE + 0x5000;
    uint64_t pages[2] = { code, 0 };
    map_window(pages, 2, PTE_R | PTE_W | PTE_X);
    put16(code + 0xffa, 0x0505);               /* c.addi a0, 1 */
    put16(code + 0xffc, 0x0505);
    uint32_t add = ADDI(10, 10, 5);
    put16(code + 0xffe, (uint16_t)add);
    cpu->pc = VBASE + 0xffa;
    run(2);
    cr_assert_eq(X(10), 2);
    cr_assert_eq(cpu->pc, VBASE + 0xffe);
    run(1);
    assert_trap(RV_EXC_INSN_PAGE_FAULT, VBASE + 0xffe, VBASE + 0x1000);
    cr_assert_eq(cpu->priv, RV_PRIV_M);
    /* Map the second page: the same instruction now runs. */
    uint64_t tail = RAM_BASE + 0x7000;
    pages[1] = tail;
    map_window(pages, 2, PTE_R | PTE_W | PTE_X);
    put16(tail, (uint16_t)(add >> 16));
    put16(tail + 2, 0x0505);
    cpu->pc = VBASE + 0xffe;
    run(2);
    cr_assert_eq(X(10), 2 + 5 + 1);
    cr_assert_eq(cpu->pc, VBASE + 0x1004);
    /* Remap the second page elsewhere: the block must not be reused. */
    uint64_t tail2 = RAM_BASE + 0x9000;
    put16(tail2, (uint16_t)(ADDI(10, 10, 50) >> 16));
    pages[1] = tail2;
    map_window(pages, 2, PTE_R | PTE_W | PTE_X);
    cpu->pc = VBASE + 0xffe;
    run(1);
    cr_assert_eq(X(10), 8 + 50);
}

Test(engine, data_page_faults)
{
    uint64_t data = RAM_BASE + 0x6000;
    uint64_t pages[3] = { RAM_BASE + 0x5000, data, 0 };
    map_window(pages, 3, PTE_R | PTE_W | PTE_X);
    static const uint32_t prog[] = {
        LOADI(3, 3, 1, 0),          /* ld x3, 0(x1) */
        STOREI(3, 2, 1, 0),         /* sd x2, 0(x1) */
    };
    put(RAM_BASE + 0x5000, prog, 2);
    wr64(data + 0xff8, 0x1111);
    X(1) = VBASE + 0x1ff8;
    X(2) = 0x2222;
    cpu->pc = VBASE;
    run(2);
    cr_assert_eq(X(3), 0x1111);
    cr_assert_eq(rd64(data + 0xff8), 0x2222);
    /* misaligned across into the unmapped page: tval is that page */
    X(1) = VBASE + 0x1ffc;
    cpu->pc = VBASE;
    run(1);
    assert_trap(RV_EXC_LOAD_PAGE_FAULT, VBASE, VBASE + 0x2000);
    cpu->priv = RV_PRIV_S;
    cpu->pc = VBASE + 4;
    run(1);
    assert_trap(RV_EXC_STORE_PAGE_FAULT, VBASE + 4, VBASE + 0x2000);
    cr_assert_eq(rd64(data + 0xff8), 0x2222, "nothing written on a fault");
    /* entirely unmapped */
    cpu->priv = RV_PRIV_S;
    X(1) = VBASE + 0x2010;
    cpu->pc = VBASE;
    run(1);
    assert_trap(RV_EXC_LOAD_PAGE_FAULT, VBASE, VBASE + 0x2010);
    /* a read-only page refuses stores and AMOs (store faults) */
    pages[2] = RAM_BASE + 0x8000;
    map_window(pages, 3, PTE_R | PTE_X);
    X(1) = VBASE + 0x2000;
    cpu->pc = VBASE;
    run(1);
    cr_assert_eq(cpu->pc, VBASE + 4);
    run(1);
    assert_trap(RV_EXC_STORE_PAGE_FAULT, VBASE + 4, VBASE + 0x2000);
}

Test(engine, tlb_flush_sees_new_mappings)
{
    uint64_t pages[2] = { RAM_BASE + 0x5000, RAM_BASE + 0x6000 };
    map_window(pages, 2, PTE_R | PTE_W | PTE_X);
    static const uint32_t prog[] = { LOADI(3, 3, 1, 0), J(-4, 0) };
    put(RAM_BASE + 0x5000, prog, 2);
    wr64(RAM_BASE + 0x6000, 1);
    wr64(RAM_BASE + 0x7000, 2);
    X(1) = VBASE + 0x1000;
    cpu->pc = VBASE;
    run(1);
    cr_assert_eq(X(3), 1);
    /* Change the PTE: without a flush the cached translation stays (allowed);
     * after riscv_tlb_flush (SFENCE.VMA) the new one is used. */
    pages[1] = RAM_BASE + 0x7000;
    map_window(pages, 2, PTE_R | PTE_W | PTE_X);
    run(2);
    cr_assert_eq(X(3), 2);
}
