/* The x86 CPU as a debugger sees it (vmm/debug.h): gdb's register
 * numbering and target description, side-effect-free memory access
 * through the page tables, and the breakpoint/watchpoint state the engine
 * (engine.c, mem.c) checks.
 *
 * tandem-system-x86_64 describes itself as i386:x86-64 whatever mode the
 * guest is in (as QEMU does: gdb cannot change descriptions as the guest
 * goes from real mode to long mode), tandem-system-i386 as i386.  The
 * registers follow gdb's features/i386 files, in their order:
 *
 *   x86_64: rax rbx rcx rdx rsi rdi rbp rsp r8-r15 (0-15), rip 16,
 *           eflags 17, cs ss ds es fs gs 18-23, st0-st7 24-31 (80-bit),
 *           fctrl fstat ftag fiseg fioff foseg fooff fop 32-39,
 *           xmm0-xmm15 40-55, mxcsr 56, fs_base gs_base k_gs_base 57-59;
 *   i386:   eax ecx edx ebx esp ebp esi edi (0-7), eip 8, eflags 9,
 *           cs..gs 10-15, st0-st7 16-23, fctrl..fop 24-31, xmm0-xmm7
 *           32-39, mxcsr 40.
 *
 * (gdb 13's i386 port fails an assertion when an i386 description has the
 * org.gnu.gdb.i386.segments feature without AVX: no fs_base/gs_base
 * there.)
 *
 * A 'g' packet carries all of them.  stN is ST(N), the register N below
 * the top of the stack (gdb's i387 view, as in an FXSAVE image); ftag is
 * the full tag word (FSTENV's), made from the abridged one. */
#include <glib.h>
#include <string.h>

#include "targets/x86/fpu.h"
#include "targets/x86/mem.h"

/* gdb's order of the 64-bit GPRs, as our register numbers. */
static const uint8_t gpr64[16] = {
    X86_RAX, X86_RBX, X86_RCX, X86_RDX, X86_RSI, X86_RDI, X86_RBP, X86_RSP,
    X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15,
};
static const char *const gpr64_names[16] = {
    "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};
/* i386: the hardware order. */
static const char *const gpr32_names[8] = {
    "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
};
/* cs ss ds es fs gs */
static const uint8_t seg_order[6] = { X86_CS, X86_SS, X86_DS, X86_ES, X86_FS, X86_GS };
static const char *const seg_names[6] = { "cs", "ss", "ds", "es", "fs", "gs" };
static const char *const fctl_names[8] = {
    "fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop",
};

/* Register numbers of one layout. */
typedef struct Layout {
    int ngpr, pc, eflags, seg, st, fctl, xmm, nxmm, mxcsr, fs_base, nregs;
    int bytes;               /* GPR, pc and base register size */
} Layout;

static const Layout lay64 = {
    .ngpr = 16, .pc = 16, .eflags = 17, .seg = 18, .st = 24, .fctl = 32, .xmm = 40,
    .nxmm = 16, .mxcsr = 56, .fs_base = 57, .nregs = 60, .bytes = 8,
};
static const Layout lay32 = {
    .ngpr = 8, .pc = 8, .eflags = 9, .seg = 10, .st = 16, .fctl = 24, .xmm = 32,
    .nxmm = 8, .mxcsr = 40, .fs_base = -1, .nregs = 41, .bytes = 4,
};

static const Layout *layout(const X86CPU *cpu)
{
    return cpu->variant == 64 ? &lay64 : &lay32;
}

/* Writable EFLAGS bits (bit 1 reads 1, the rest are reserved). */
#define EFLAGS_WRITABLE (X86_ARITH_FLAGS | X86_TF | X86_IF | X86_DF | X86_IOPL | X86_NT | \
                         X86_RF | X86_VM | X86_AC | X86_VIF | X86_VIP | X86_ID)

static void reg_xml(GString *s, const char *name, int bits, const char *type, int n,
                    const char *group)
{
    g_string_append_printf(s, "  <reg name=\"%s\" bitsize=\"%d\" type=\"%s\" regnum=\"%d\"%s%s%s/>\n",
                           name, bits, type, n, group ? " group=\"" : "", group ? group : "",
                           group ? "\"" : "");
}

static void flags_xml(GString *s, const char *id, const char *const *names, int n)
{
    g_string_append_printf(s, "  <flags id=\"%s\" size=\"4\">\n", id);
    for (int i = 0; i < n; i++)
        if (names[i])
            g_string_append_printf(s, "    <field name=\"%s\" start=\"%d\" end=\"%d\"/>\n",
                                   names[i], i, i);
    g_string_append(s, "  </flags>\n");
}

static char *build_xml(const Layout *l)
{
    static const char *const eflags[22] = {
        "CF", "", "PF", NULL, "AF", NULL, "ZF", "SF", "TF", "IF", "DF", "OF",
        NULL, NULL, "NT", NULL, "RF", "VM", "AC", "VIF", "VIP", "ID",
    };
    static const char *const mxcsr[16] = {
        "IE", "DE", "ZE", "OE", "UE", "PE", "DAZ", "IM", "DM", "ZM", "OM", "UM", "PM",
        NULL, NULL, "FZ",
    };
    const bool w = l->bytes == 8;
    const int gb = 8 * l->bytes;
    GString *s = g_string_new("<?xml version=\"1.0\"?>\n"
                              "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
                              "<target version=\"1.0\">\n");
    g_string_append_printf(s, "<architecture>%s</architecture>\n", w ? "i386:x86-64" : "i386");
    g_string_append(s, "<feature name=\"org.gnu.gdb.i386.core\">\n");
    flags_xml(s, "i386_eflags", eflags, 22);
    for (int i = 0; i < l->ngpr; i++) {
        const char *name = w ? gpr64_names[i] : gpr32_names[i];
        bool ptr = !strcmp(name + 1, "sp") || !strcmp(name + 1, "bp");
        reg_xml(s, name, gb, ptr ? "data_ptr" : w ? "int64" : "int32", i, NULL);
    }
    reg_xml(s, w ? "rip" : "eip", gb, "code_ptr", l->pc, NULL);
    reg_xml(s, "eflags", 32, "i386_eflags", l->eflags, NULL);
    for (int i = 0; i < 6; i++)
        reg_xml(s, seg_names[i], 32, "int32", l->seg + i, NULL);
    for (int i = 0; i < 8; i++) {
        char name[16];
        snprintf(name, sizeof(name), "st%d", i);
        reg_xml(s, name, 80, "i387_ext", l->st + i, NULL);
    }
    for (int i = 0; i < 8; i++)
        reg_xml(s, fctl_names[i], 32, "int", l->fctl + i, "float");
    g_string_append(s, "</feature>\n");

    g_string_append(s, "<feature name=\"org.gnu.gdb.i386.sse\">\n"
                       "  <vector id=\"v4f\" type=\"ieee_single\" count=\"4\"/>\n"
                       "  <vector id=\"v2d\" type=\"ieee_double\" count=\"2\"/>\n"
                       "  <vector id=\"v16i8\" type=\"int8\" count=\"16\"/>\n"
                       "  <vector id=\"v8i16\" type=\"int16\" count=\"8\"/>\n"
                       "  <vector id=\"v4i32\" type=\"int32\" count=\"4\"/>\n"
                       "  <vector id=\"v2i64\" type=\"int64\" count=\"2\"/>\n"
                       "  <union id=\"vec128\">\n"
                       "    <field name=\"v4_float\" type=\"v4f\"/>\n"
                       "    <field name=\"v2_double\" type=\"v2d\"/>\n"
                       "    <field name=\"v16_int8\" type=\"v16i8\"/>\n"
                       "    <field name=\"v8_int16\" type=\"v8i16\"/>\n"
                       "    <field name=\"v4_int32\" type=\"v4i32\"/>\n"
                       "    <field name=\"v2_int64\" type=\"v2i64\"/>\n"
                       "    <field name=\"uint128\" type=\"uint128\"/>\n"
                       "  </union>\n");
    flags_xml(s, "i386_mxcsr", mxcsr, 16);
    for (int i = 0; i < l->nxmm; i++) {
        char name[16];
        snprintf(name, sizeof(name), "xmm%d", i);
        reg_xml(s, name, 128, "vec128", l->xmm + i, NULL);
    }
    reg_xml(s, "mxcsr", 32, "i386_mxcsr", l->mxcsr, "vector");
    g_string_append(s, "</feature>\n");

    if (l->fs_base >= 0) {
        g_string_append(s, "<feature name=\"org.gnu.gdb.i386.segments\">\n");
        reg_xml(s, "fs_base", gb, "int64", l->fs_base, NULL);
        reg_xml(s, "gs_base", gb, "int64", l->fs_base + 1, NULL);
        reg_xml(s, "k_gs_base", gb, "int64", l->fs_base + 2, NULL);
        g_string_append(s, "</feature>\n");
    }
    g_string_append(s, "</target>\n");
    return g_string_free(s, FALSE);
}

/* Built once per variant, shared by every machine (read-only text). */
static const char *dbg_xml(void *opaque)
{
    static char *cache[2];
    const X86CPU *cpu = opaque;
    int i = cpu->variant == 64;
    if (!cache[i])
        cache[i] = build_xml(layout(cpu));
    return cache[i];
}

static int dbg_gregs(void *opaque)
{
    return layout(opaque)->nregs;
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

/* Physical x87 register of ST(i). */
static X86Float80 *st_reg(X86CPU *cpu, int i)
{
    unsigned top = (cpu->fpu.fsw & X86_FSW_TOP) >> 11;
    return &cpu->fpu.st[(top + (unsigned)i) & 7];
}

static uint64_t *base_reg(X86CPU *cpu, int k)
{
    return k == 0 ? &cpu->seg[X86_FS].base : k == 1 ? &cpu->seg[X86_GS].base
                                                    : &cpu->kernel_gs_base;
}

static int dbg_read_reg(void *opaque, int n, uint8_t *buf)
{
    X86CPU *cpu = opaque;
    const Layout *l = layout(cpu);
    const int b = l->bytes;
    if (n < 0 || n >= l->nregs)
        return -1;
    if (n < l->ngpr) {
        put_le(buf, cpu->regs[b == 8 ? gpr64[n] : n], b);
        return b;
    }
    if (n == l->pc) {
        put_le(buf, cpu->rip, b);
        return b;
    }
    if (n == l->eflags) {
        put_le(buf, x86_eflags(cpu), 4);
        return 4;
    }
    if (n >= l->seg && n < l->seg + 6) {
        put_le(buf, cpu->seg[seg_order[n - l->seg]].selector, 4);
        return 4;
    }
    if (n >= l->st && n < l->st + 8) {
        const X86Float80 *f = st_reg(cpu, n - l->st);
        put_le(buf, f->mant, 8);
        put_le(buf + 8, f->sexp, 2);
        return 10;
    }
    if (n >= l->fctl && n < l->fctl + 8) {
        const X86Fpu *f = &cpu->fpu;
        uint64_t v = 0;
        switch (n - l->fctl) {
        case 0: v = f->fcw; break;
        case 1: v = f->fsw; break;
        case 2: v = x86_fpu_full_tag(cpu); break;
        case 3: v = f->fcs; break;
        case 4: v = (uint32_t)f->fip; break;
        case 5: v = f->fds; break;
        case 6: v = (uint32_t)f->fdp; break;
        case 7: v = f->fop; break;
        }
        put_le(buf, v, 4);
        return 4;
    }
    if (n >= l->xmm && n < l->xmm + l->nxmm) {
        memcpy(buf, cpu->fpu.xmm[n - l->xmm].b, 16);
        return 16;
    }
    if (n == l->mxcsr) {
        put_le(buf, cpu->fpu.mxcsr, 4);
        return 4;
    }
    put_le(buf, *base_reg(cpu, n - l->fs_base), b);
    return b;
}

/* A selector written by gdb: loaded in real and virtual-8086 mode (the
 * base follows it); in protected mode only the value it has is accepted
 * (a descriptor load could fault, and gdb writes every register back). */
static int write_seg(X86CPU *cpu, int seg, uint16_t sel)
{
    if (cpu->seg[seg].selector == sel)
        return 0;
    if ((cpu->hflags & (X86_HF_PE | X86_HF_VM)) == X86_HF_PE)
        return -1;
    x86_seg_load_real(cpu, seg, sel);
    x86_update_hflags(cpu);
    return 0;
}

static int dbg_write_reg(void *opaque, int n, const uint8_t *buf, int len)
{
    X86CPU *cpu = opaque;
    const Layout *l = layout(cpu);
    const int b = l->bytes;
    uint8_t cur[16];
    int size = dbg_read_reg(cpu, n, cur);
    if (size < 0 || len != size)
        return -1;
    uint64_t v = size <= 8 ? get_le(buf, size) : 0;
    if (n < l->ngpr) {
        cpu->regs[b == 8 ? gpr64[n] : n] = v;
    } else if (n == l->pc) {
        cpu->rip = v;
    } else if (n == l->eflags) {
        x86_set_eflags(cpu, v, EFLAGS_WRITABLE);
    } else if (n >= l->seg && n < l->seg + 6) {
        if (v > 0xffff)
            return -1;
        return write_seg(cpu, seg_order[n - l->seg], (uint16_t)v);
    } else if (n >= l->st && n < l->st + 8) {
        X86Float80 *f = st_reg(cpu, n - l->st);
        f->mant = get_le(buf, 8);
        f->sexp = (uint16_t)get_le(buf + 8, 2);
    } else if (n >= l->fctl && n < l->fctl + 8) {
        X86Fpu *f = &cpu->fpu;
        switch (n - l->fctl) {
        case 0: f->fcw = (uint16_t)((v & 0x1f3f) | 0x40); break;
        case 1: f->fsw = (uint16_t)v; break;
        case 2: {
            uint8_t t = 0;
            for (unsigned p = 0; p < 8; p++)
                if (((v >> (2 * p)) & 3) != 3)
                    t |= (uint8_t)(1u << p);
            f->ftw = t;
            break;
        }
        case 3: f->fcs = (uint16_t)v; break;
        case 4: f->fip = (uint32_t)v; break;
        case 5: f->fds = (uint16_t)v; break;
        case 6: f->fdp = (uint32_t)v; break;
        case 7: f->fop = (uint16_t)(v & 0x7ff); break;
        }
    } else if (n >= l->xmm && n < l->xmm + l->nxmm) {
        memcpy(cpu->fpu.xmm[n - l->xmm].b, buf, 16);
    } else if (n == l->mxcsr) {
        if (v & ~(uint64_t)X86_MXCSR_MASK)
            return -1;       /* LDMXCSR would fault */
        cpu->fpu.mxcsr = (uint32_t)v;
    } else {
        *base_reg(cpu, n - l->fs_base) = v;
    }
    return 0;
}

/* Linear addresses through the current page tables; outside long mode
 * they wrap at 4 GiB, in it a non-canonical one is not mapped. */
static bool xlate(void *opaque, uint64_t lin, uint64_t *pa)
{
    X86CPU *cpu = opaque;
    if ((cpu->hflags & X86_HF_LMA) && !x86_canonical(lin))
        return false;
    return x86_translate_debug(cpu, lin, pa);
}

static bool mem_access(X86CPU *cpu, uint64_t lin, uint8_t *rbuf, const uint8_t *wbuf,
                       size_t len)
{
    uint64_t mask = (cpu->hflags & X86_HF_LMA) ? ~0ull : 0xffffffffull;
    return debug_mem_access(cpu->as, lin, mask, xlate, cpu, rbuf, wbuf, len);
}

bool x86_debug_read(X86CPU *cpu, uint64_t lin, void *buf, size_t len)
{
    return mem_access(cpu, lin, buf, NULL, len);
}

static bool dbg_read_mem(void *opaque, uint64_t va, uint8_t *buf, size_t len)
{
    return mem_access(opaque, va, buf, NULL, len);
}

static bool dbg_write_mem(void *opaque, uint64_t va, const uint8_t *buf, size_t len)
{
    return mem_access(opaque, va, NULL, buf, len);
}

/* Blocks are split at breakpoints and watched pages stay out of the TLB:
 * both caches start over with the new set. */
static void dbg_set_debug(void *opaque, CpuDebug *d)
{
    X86CPU *cpu = opaque;
    cpu->dbg = d;
    x86_code_flush(cpu);
    x86_tlb_flush(cpu, false);
}

static void dbg_set_step(void *opaque, bool *partial)
{
    ((X86CPU *)opaque)->dbg_step = partial;
}

static uint64_t dbg_get_pc(void *opaque)
{
    return ((X86CPU *)opaque)->rip;
}

static void dbg_set_pc(void *opaque, uint64_t pc)
{
    X86CPU *cpu = opaque;
    cpu->rip = cpu->variant == 64 ? pc : (uint32_t)pc;
}

/* Stop before the access (mem.c); the stub then runs the instruction and
 * reports after it, as x86 data breakpoints trap. */
bool x86_watch_stop(X86CPU *cpu, const XInsn *in, uint64_t lin, uint64_t size,
                    unsigned kind)
{
    CpuDebug *d = cpu->dbg;
    const DebugWatch *w = debug_watch_hit(d, lin, (unsigned)size, kind);
    if (!w || (d->watch_skip && in->pc == d->resume_pc &&
               x86_icount_at(cpu, in) == d->resume_icount))
        return false;
    d->hit = DEBUG_HIT_WATCH;
    d->hit_addr = w->addr;
    d->hit_kind = w->kind;
    cpu->icount -= in->rem + 1u;
    cpu->rip = in->pc;
    cpu->chain_end = cpu->loop_end = 0;
    cpu->m->exit_request = 1;
    return true;
}

/* gdb's x86 port has no nonsteppable watchpoints: it expects the stop
 * after the accessing instruction, as the hardware's debug registers
 * report it (a trap). */
const CpuDebugOps x86_debug_ops = {
    .gdb_xml = dbg_xml,
    .gdb_gregs = dbg_gregs,
    .gdb_read_reg = dbg_read_reg,
    .gdb_write_reg = dbg_write_reg,
    .read_mem = dbg_read_mem,
    .write_mem = dbg_write_mem,
    .set_debug = dbg_set_debug,
    .get_pc = dbg_get_pc,
    .set_pc = dbg_set_pc,
    .set_step = dbg_set_step,
    .watch_before_access = false,
};
