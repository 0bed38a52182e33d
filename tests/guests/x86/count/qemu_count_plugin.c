/* A QEMU TCG plugin that counts retired x86 instructions and retired
 * conditional branches of a guest by Tandem's rules (interp/icount.md, x86),
 * so that QEMU can stand in for a hardware PMU as the reference for
 * Tandem's icount and brcount.  See README.md in this directory.
 *
 *   qemu-system-x86_64 ... -plugin qemu_count_plugin.so[,out=FILE][,stubs=ADDR]
 *                          [,trace=K][,marks=on]
 *
 * At exit (isa-debug-exit calls exit()) it writes, to FILE or stderr:
 *   icount N brcount M
 *   detail jcc=.. loop=.. jrcxz=.. rep=.. rep_iters=.. faults=.. traps=.. insns_exec=..
 *
 * Counting: QEMU calls an exec callback before every instruction it runs.
 *   - every instruction counts once, except that consecutive executions of
 *     the same REP/REPE/REPNE string instruction (TCG runs one iteration per
 *     execution, at the same address) count once: the first execution counts
 *     (with RCX = 0 it is the only one), the next ones are iterations;
 *   - conditional branches: Jcc (70-7F, 0F 80-8F), LOOP/LOOPE/LOOPNE (E0-E2),
 *     JCXZ/JECXZ/JRCXZ (E3), taken or not;
 *   - faults: the callback runs before the instruction, so a faulting one was
 *     counted.  With stubs=ADDR (the guest runtime's IDT stubs, 256 x 16
 *     bytes: common/trap.S rt_trap_stubs_start) an entry into a stub that does
 *     not follow INT n/INT3/INTO/INT1 of that same vector is a fault (the
 *     guests run with IF = 0, so nothing else enters a stub): the
 *     instruction before it is taken off again (an INT n whose delivery
 *     faults, a #GP for a DPL-0 gate, does not retire either).  A #PF can
 *     also be an instruction fetch fault, where the instruction before it
 *     did retire and the faulting one never ran: the #PF is taken as a fetch
 *     fault when the instruction before it completed a memory access (a CALL
 *     or RET into a bad page) or cannot access memory (JMP, Jcc).  Without
 *     stubs= the guest must be fault-free.
 * Aids: trace=K prints "T icount brcount vaddr" every K counted instructions;
 * marks=on prints "M icount brcount vaddr" at each marker instruction
 * "xchg %bx,%bx" (66 87 DB, Bochs' magic breakpoint; a no-op) the guest
 * executes, with the count before the marker (x86_count.c uses them).
 *
 * One vCPU only (the counters are not per vCPU).  Written for QEMU 7.2
 * (plugin API version 1); the declarations are ours (qemu_plugin_api.h). */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_api.h"

TQP_EXPORT int qemu_plugin_version = 1;

enum {
    K_JCC = 1,      /* Jcc */
    K_LOOP = 2,     /* LOOP, LOOPE, LOOPNE */
    K_JRCXZ = 4,    /* JCXZ, JECXZ, JRCXZ */
    K_REP = 8,      /* REP/REPE/REPNE string instruction */
    K_TRAP = 16,    /* INT n, INT3, INTO, INT1: enters the IDT as a trap */
    K_MARK = 32,    /* xchg %bx,%bx: a marker */
};
#define K_BRANCH (K_JCC | K_LOOP | K_JRCXZ)

typedef struct Insn {
    uint64_t vaddr;
    unsigned kind;
    int vec;                      /* K_TRAP: the vector it raises */
    int nomem;                    /* a branch that cannot access memory */
} Insn;

static struct {
    uint64_t icount, brcount;
    uint64_t jcc, loop, jrcxz, rep, rep_iters, faults, traps, exec;
    uint64_t odd;                 /* faults we cannot account for */
    uint64_t fetch_faults;
    const Insn *prev;             /* the instruction executed last */
    uint64_t prev_mem;            /* memory accesses it completed */
    int prev_counted;             /* ... and whether it was counted */
} st;

static uint64_t stubs;            /* 0: no fault accounting */
static uint64_t trace_every;
static int marks;
static FILE *out;
static char *out_path;
static int installed, reported;

/* The vector of INT3/INT n/INTO/INT1 (b[i] the opcode), and whether an
 * instruction is a JMP/Jcc that cannot touch memory. */
static void classify_more(Insn *in, const uint8_t *b, size_t n)
{
    size_t i = 0;
    while (i < n && (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf2 || b[i] == 0xf3 ||
                     b[i] == 0x2e || b[i] == 0x3e || b[i] == 0x26 || b[i] == 0x36 ||
                     b[i] == 0x64 || b[i] == 0x65 || ((b[i] & 0xf0) == 0x40 && i + 1 < n)))
        i++;
    in->vec = -1;
    in->nomem = 0;
    if (i >= n)
        return;
    uint8_t op = b[i];
    if (op == 0xcc)
        in->vec = 3;
    else if (op == 0xcd && i + 1 < n)
        in->vec = b[i + 1];
    else if (op == 0xce)
        in->vec = 4;
    else if (op == 0xf1)
        in->vec = 1;
    if ((op >= 0x70 && op <= 0x7f) || op == 0xeb || op == 0xe9 || (op >= 0xe0 && op <= 0xe3) ||
        (op == 0x0f && i + 1 < n && b[i + 1] >= 0x80 && b[i + 1] <= 0x8f) ||
        (op == 0xff && i + 1 < n && (b[i + 1] & 0xf8) == 0xe0 && (b[i + 1] >> 6) == 3))
        in->nomem = 1;
}

static unsigned classify(const uint8_t *b, size_t n)
{
    size_t i = 0;
    int rep = 0;
    for (; i < n; i++) {
        uint8_t c = b[i];
        if (c == 0xf2 || c == 0xf3) {
            rep = 1;
            continue;
        }
        if (c == 0xf0 || c == 0x2e || c == 0x36 || c == 0x3e || c == 0x26 || c == 0x64 ||
            c == 0x65 || c == 0x66 || c == 0x67)
            continue;
        /* 40-4F: REX in 64-bit mode (an opcode follows), INC/DEC in 16/32-bit
         * modes (always the instruction's last byte).  The length tells. */
        if ((c & 0xf0) == 0x40 && i + 1 < n)
            continue;
        break;
    }
    if (i >= n)
        return 0;
    uint8_t op = b[i];
    if (op >= 0x70 && op <= 0x7f)
        return K_JCC;
    if (op == 0x0f && i + 1 < n && b[i + 1] >= 0x80 && b[i + 1] <= 0x8f)
        return K_JCC;
    if (op >= 0xe0 && op <= 0xe2)
        return K_LOOP;
    if (op == 0xe3)
        return K_JRCXZ;
    if (rep && ((op >= 0xa4 && op <= 0xa7) || (op >= 0xaa && op <= 0xaf) ||
                (op >= 0x6c && op <= 0x6f)))
        return K_REP;
    if (op == 0xcc || op == 0xcd || op == 0xce || op == 0xf1)
        return K_TRAP;
    if (marks && n == 3 && b[0] == 0x66 && b[1] == 0x87 && b[2] == 0xdb)
        return K_MARK;
    return 0;
}

static void uncount(const Insn *in)
{
    st.icount--;
    if (in->kind & K_BRANCH)
        st.brcount--;
    if (in->kind & K_JCC)
        st.jcc--;
    if (in->kind & K_LOOP)
        st.loop--;
    if (in->kind & K_JRCXZ)
        st.jrcxz--;
    if (in->kind & K_REP)
        st.rep--;
}

static void on_exec(unsigned int vcpu, void *ud)
{
    const Insn *in = ud;
    const Insn *prev = st.prev;
    (void)vcpu;
    st.exec++;
    if (stubs && in->vaddr - stubs < 256 * 16 && !((in->vaddr - stubs) & 15) && prev) {
        int vec = (int)((in->vaddr - stubs) >> 4);
        if ((prev->kind & K_TRAP) && prev->vec == vec) {
            st.traps++;
        } else if (vec == 14 && st.prev_counted && (st.prev_mem > 0 || prev->nomem)) {
            st.fetch_faults++;  /* prev retired; the next fetch faulted */
        } else {
            /* A fault: the previous instruction did not retire. */
            st.faults++;
            if (st.prev_counted)
                uncount(prev);
            else
                st.odd++;   /* a fault in a later REP iteration */
        }
    }
    if ((in->kind & K_REP) && prev && prev->vaddr == in->vaddr && (prev->kind & K_REP)) {
        st.rep_iters++;     /* the same REP instruction again: an iteration */
        st.prev = in;
        st.prev_counted = 0;
        return;
    }
    if (in->kind & K_MARK)
        fprintf(out, "M %" PRIu64 " %" PRIu64 " 0x%" PRIx64 "\n", st.icount, st.brcount,
                in->vaddr);
    st.icount++;
    if (in->kind & K_BRANCH)
        st.brcount++;
    if (in->kind & K_JCC)
        st.jcc++;
    if (in->kind & K_LOOP)
        st.loop++;
    if (in->kind & K_JRCXZ)
        st.jrcxz++;
    if (in->kind & K_REP)
        st.rep++;
    st.prev = in;
    st.prev_counted = 1;
    st.prev_mem = 0;
    if (trace_every && st.icount % trace_every == 0)
        fprintf(out, "T %" PRIu64 " %" PRIu64 " 0x%" PRIx64 "\n", st.icount, st.brcount,
                in->vaddr);
}

static void on_mem(unsigned int vcpu, qemu_plugin_meminfo_t info, uint64_t vaddr, void *ud)
{
    (void)vcpu;
    (void)info;
    (void)vaddr;
    if (ud == st.prev)
        st.prev_mem++;
}

static void on_tb(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    (void)id;
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *qi = qemu_plugin_tb_get_insn(tb, i);
        /* Lives as long as the translation may (never freed: small guests). */
        Insn *in = malloc(sizeof(*in));
        if (!in)
            abort();
        in->vaddr = qemu_plugin_insn_vaddr(qi);
        in->kind = classify(qemu_plugin_insn_data(qi), qemu_plugin_insn_size(qi));
        classify_more(in, qemu_plugin_insn_data(qi), qemu_plugin_insn_size(qi));
        qemu_plugin_register_vcpu_insn_exec_cb(qi, on_exec, QEMU_PLUGIN_CB_NO_REGS, in);
        if (stubs)
            qemu_plugin_register_vcpu_mem_cb(qi, on_mem, QEMU_PLUGIN_CB_NO_REGS,
                                             QEMU_PLUGIN_MEM_RW, in);
    }
}

static void report(void)
{
    if (reported || !installed)
        return;
    reported = 1;
    fprintf(out, "icount %" PRIu64 " brcount %" PRIu64 "\n", st.icount, st.brcount);
    fprintf(out,
            "detail jcc=%" PRIu64 " loop=%" PRIu64 " jrcxz=%" PRIu64 " rep=%" PRIu64
            " rep_iters=%" PRIu64 " faults=%" PRIu64 " fetch_faults=%" PRIu64 " traps=%" PRIu64
            " unaccounted=%" PRIu64
            " insns_exec=%" PRIu64 "\n",
            st.jcc, st.loop, st.jrcxz, st.rep, st.rep_iters, st.faults, st.fetch_faults,
            st.traps, st.odd,
            st.exec);
    fflush(out);
}

static void on_exit_cb(qemu_plugin_id_t id, void *p)
{
    (void)id;
    (void)p;
    report();
}

/* QEMU's isa-debug-exit calls exit(): make sure the counts come out. */
__attribute__((destructor)) static void at_unload(void)
{
    report();
}

static int parse_u64(const char *s, uint64_t *v)
{
    char *end;
    *v = strtoull(s, &end, 0);
    return *s && !*end;
}

TQP_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                   char **argv)
{
    out = stderr;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        uint64_t v;
        if (!strncmp(a, "out=", 4)) {
            out_path = strdup(a + 4);
        } else if (!strncmp(a, "stubs=", 6) && parse_u64(a + 6, &v)) {
            stubs = v;
        } else if (!strncmp(a, "trace=", 6) && parse_u64(a + 6, &v)) {
            trace_every = v;
        } else if (!strcmp(a, "marks=on")) {
            marks = 1;
        } else {
            fprintf(stderr, "qemu_count_plugin: unknown argument '%s' "
                    "(known: out=FILE stubs=ADDR trace=K marks=on)\n", a);
            return -1;
        }
    }
    if (!info->system_emulation || strcmp(info->target_name, "x86_64") != 0) {
        fprintf(stderr, "qemu_count_plugin: needs qemu-system-x86_64 (got %s)\n",
                info->target_name);
        return -1;
    }
    if (info->system.max_vcpus > 1) {
        fprintf(stderr, "qemu_count_plugin: one vCPU only\n");
        return -1;
    }
    if (out_path) {
        out = fopen(out_path, "w");
        if (!out) {
            perror(out_path);
            return -1;
        }
    }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_tb);
    qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
    installed = 1;
    return 0;
}
