/* The hart as a debugger sees it (vmm/debug.h): gdb's register numbering
 * and target description, side-effect-free memory access through the MMU,
 * and the breakpoint/watchpoint state the engine checks.
 *
 * gdb numbers RISC-V registers x0..x31 = 0..31, pc = 32, f0..f31 = 33..64
 * and CSRs from 65 on (65 + the CSR number: fflags 66, frm 67, fcsr 68);
 * the XML gives those numbers so 'p'/'P' use them unchanged.  'g' carries
 * x0..x31 and pc only; gdb reads the rest with 'p'. */
#include <glib.h>
#include <string.h>

#include "targets/riscv/cpu.h"

enum {
    GDB_PC = 32,
    GDB_F0 = 33,
    GDB_FFLAGS = 66,
    GDB_FRM = 67,
    GDB_FCSR = 68,
};

#define MISA_D (1ull << 3)
#define MISA_F (1ull << 5)

static const char *const xnames[32] = {
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "fp", "s1", "a0", "a1",
    "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7",
    "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
};

static const char *const fnames[32] = {
    "ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1",
    "fa0", "fa1", "fa2", "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3",
    "fs4", "fs5", "fs6", "fs7", "fs8", "fs9", "fs10", "fs11", "ft8", "ft9",
    "ft10", "ft11",
};

static bool has_f(const RiscvCPU *cpu)
{
    return (cpu->misa & MISA_F) != 0;
}

static int flen_bytes(const RiscvCPU *cpu)
{
    return (cpu->misa & MISA_D) ? 8 : 4;
}

static char *build_xml(int xlen, int flen)
{
    GString *s = g_string_new("<?xml version=\"1.0\"?>\n"
                              "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
                              "<target version=\"1.0\">\n");
    g_string_append_printf(s, "<architecture>riscv:rv%d</architecture>\n", xlen);
    g_string_append(s, "<feature name=\"org.gnu.gdb.riscv.cpu\">\n");
    for (int i = 0; i < 32; i++)
        g_string_append_printf(s, "  <reg name=\"%s\" bitsize=\"%d\" type=\"%s\" regnum=\"%d\"/>\n",
                               xnames[i], xlen,
                               i == 1 ? "code_ptr" : i == 2 || i == 8 ? "data_ptr" : "int", i);
    g_string_append_printf(s, "  <reg name=\"pc\" bitsize=\"%d\" type=\"code_ptr\" regnum=\"%d\"/>\n",
                           xlen, GDB_PC);
    g_string_append(s, "</feature>\n");
    if (flen) {
        const char *type = "ieee_single";
        g_string_append(s, "<feature name=\"org.gnu.gdb.riscv.fpu\">\n");
        if (flen == 64) {
            g_string_append(s, "  <union id=\"riscv_double\">\n"
                               "    <field name=\"float\" type=\"ieee_single\"/>\n"
                               "    <field name=\"double\" type=\"ieee_double\"/>\n"
                               "  </union>\n");
            type = "riscv_double";
        }
        for (int i = 0; i < 32; i++)
            g_string_append_printf(s, "  <reg name=\"%s\" bitsize=\"%d\" type=\"%s\" regnum=\"%d\"/>\n",
                                   fnames[i], flen, type, GDB_F0 + i);
        g_string_append_printf(s, "  <reg name=\"fflags\" bitsize=\"32\" type=\"int\" regnum=\"%d\"/>\n"
                                  "  <reg name=\"frm\" bitsize=\"32\" type=\"int\" regnum=\"%d\"/>\n"
                                  "  <reg name=\"fcsr\" bitsize=\"32\" type=\"int\" regnum=\"%d\"/>\n",
                               GDB_FFLAGS, GDB_FRM, GDB_FCSR);
        g_string_append(s, "</feature>\n");
    }
    g_string_append(s, "</target>\n");
    return g_string_free(s, FALSE);
}

/* The description depends only on XLEN and FLEN: built once per variant
 * and shared by every machine (read-only text, not machine state). */
static const char *dbg_xml(void *opaque)
{
    static char *cache[2][3];
    RiscvCPU *cpu = opaque;
    int x = cpu->xlen == 64, f = has_f(cpu) ? (flen_bytes(cpu) == 8 ? 2 : 1) : 0;
    if (!cache[x][f])
        cache[x][f] = build_xml(cpu->xlen, f == 2 ? 64 : f == 1 ? 32 : 0);
    return cache[x][f];
}

static int dbg_gregs(void *opaque)
{
    return 33;
}

static void put_le(uint8_t *buf, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        buf[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le(const uint8_t *buf, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)buf[i] << (8 * i);
    return v;
}

static int dbg_read_reg(void *opaque, int n, uint8_t *buf)
{
    RiscvCPU *cpu = opaque;
    int xb = cpu->xlen / 8;
    if (n >= 0 && n < 32) {
        put_le(buf, n ? cpu->x[n] : 0, xb);
        return xb;
    }
    if (n == GDB_PC) {
        put_le(buf, cpu->pc, xb);
        return xb;
    }
    if (!has_f(cpu))
        return -1;
    if (n >= GDB_F0 && n < GDB_F0 + 32) {
        put_le(buf, cpu->f[n - GDB_F0], flen_bytes(cpu));
        return flen_bytes(cpu);
    }
    switch (n) {
    case GDB_FFLAGS: put_le(buf, cpu->fflags, 4); return 4;
    case GDB_FRM: put_le(buf, cpu->frm, 4); return 4;
    case GDB_FCSR: put_le(buf, cpu->frm << 5 | cpu->fflags, 4); return 4;
    }
    return -1;
}

static int dbg_write_reg(void *opaque, int n, const uint8_t *buf, int len)
{
    RiscvCPU *cpu = opaque;
    int xb = cpu->xlen / 8;
    if ((n >= 0 && n < 32) || n == GDB_PC) {
        if (len != xb)
            return -1;
        uint64_t v = get_le(buf, xb);
        if (xb == 4)
            v = (uint64_t)(int64_t)(int32_t)v;   /* x[] holds RV32 sign-extended */
        if (n == GDB_PC)
            cpu->pc = xb == 4 ? (uint32_t)v : v;
        else if (n)
            cpu->x[n] = v;
        return 0;
    }
    if (!has_f(cpu))
        return -1;
    if (n >= GDB_F0 && n < GDB_F0 + 32) {
        int fb = flen_bytes(cpu);
        if (len != fb)
            return -1;
        uint64_t v = get_le(buf, fb);
        if (fb == 4)
            v |= 0xffffffff00000000ull;           /* NaN-boxed */
        cpu->f[n - GDB_F0] = v;
        riscv_fs_dirty(cpu);
        return 0;
    }
    if (len != 4 || (n != GDB_FFLAGS && n != GDB_FRM && n != GDB_FCSR))
        return -1;
    uint32_t v = (uint32_t)get_le(buf, 4);
    if (n == GDB_FFLAGS || n == GDB_FCSR)
        cpu->fflags = v & 0x1f;
    if (n == GDB_FRM)
        cpu->frm = v & 7;
    if (n == GDB_FCSR)
        cpu->frm = (v >> 5) & 7;
    riscv_fs_dirty(cpu);
    return 0;
}

static bool xlate(void *cpu, uint64_t va, uint64_t *pa)
{
    return riscv_translate_debug(cpu, va, pa);
}

static bool mem_access(RiscvCPU *cpu, uint64_t va, uint8_t *rbuf, const uint8_t *wbuf,
                       size_t len)
{
    uint64_t mask = cpu->xlen == 32 ? 0xffffffffull : ~0ull;
    return debug_mem_access(cpu->as, va, mask, xlate, cpu, rbuf, wbuf, len);
}

static bool dbg_read_mem(void *opaque, uint64_t va, uint8_t *buf, size_t len)
{
    return mem_access(opaque, va, buf, NULL, len);
}

static bool dbg_write_mem(void *opaque, uint64_t va, const uint8_t *buf, size_t len)
{
    return mem_access(opaque, va, NULL, buf, len);
}

/* Blocks are split at breakpoints and watched pages stay out of the TLB
 * (engine.c): both caches start over with the new set. */
static void dbg_set_debug(void *opaque, CpuDebug *d)
{
    RiscvCPU *cpu = opaque;
    cpu->dbg = d;
    riscv_code_flush(cpu);
    riscv_tlb_flush(cpu);
}

static uint64_t dbg_get_pc(void *opaque)
{
    RiscvCPU *cpu = opaque;
    return cpu->xlen == 32 ? (uint32_t)cpu->pc : cpu->pc;
}

static void dbg_set_pc(void *opaque, uint64_t pc)
{
    RiscvCPU *cpu = opaque;
    cpu->pc = cpu->xlen == 32 ? (uint32_t)pc : pc;
}

const CpuDebugOps riscv_debug_ops = {
    .gdb_xml = dbg_xml,
    .gdb_gregs = dbg_gregs,
    .gdb_read_reg = dbg_read_reg,
    .gdb_write_reg = dbg_write_reg,
    .read_mem = dbg_read_mem,
    .write_mem = dbg_write_mem,
    .set_debug = dbg_set_debug,
    .get_pc = dbg_get_pc,
    .set_pc = dbg_set_pc,
    .watch_before_access = true,
};
