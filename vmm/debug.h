/* What a debugger (vmm/gdbstub.c) needs from a CPU: registers described for
 * gdb, guest-virtual memory access without side effects, and stops at
 * breakpoints and watchpoints.
 *
 * The stub owns a CpuDebug and hands it to the CPU with set_debug whenever
 * its breakpoints or watchpoints change (NULL when there are none, so an
 * undebugged guest runs the engine's usual paths).  The CPU then returns
 * CPU_EXIT_DEBUG from run() with `hit` set:
 *   - DEBUG_HIT_BREAK: the next instruction to execute is at a breakpoint
 *     (it has not executed; icount is that of the instruction);
 *   - DEBUG_HIT_WATCH: the next instruction accesses a watched range; it has
 *     not executed either.  Where gdb expects that (watch_before_access, as
 *     on RISC-V) the stub reports it so; elsewhere it first re-executes the
 *     instruction (watch_skip), so gdb sees the access done.
 * A stop never changes icount or any architectural state: stopping is
 * invisible to the guest and to record/replay. */
#ifndef TANDEM_DEBUG_H
#define TANDEM_DEBUG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { DEBUG_MAX_BP = 64, DEBUG_MAX_WP = 16 };

/* Watchpoint kinds, a mask of the accesses that trigger it. */
enum {
    DEBUG_WATCH_WRITE = 1,
    DEBUG_WATCH_READ = 2,
    DEBUG_WATCH_ACCESS = 3,
};

typedef struct DebugWatch {
    uint64_t addr, len;      /* guest virtual; len 1..8 (gdb's limits) */
    unsigned kind;           /* DEBUG_WATCH_* */
} DebugWatch;

typedef enum DebugHit {
    DEBUG_HIT_NONE,
    DEBUG_HIT_BREAK,
    DEBUG_HIT_WATCH,
} DebugHit;

typedef struct CpuDebug {
    uint64_t bp[DEBUG_MAX_BP];    /* breakpoint PCs (guest virtual) */
    int nbp;
    DebugWatch wp[DEBUG_MAX_WP];
    int nwp;
    /* The position run() resumes from: a breakpoint at exactly this pc and
     * icount does not stop the CPU (continuing from a breakpoint executes
     * the instruction there). */
    uint64_t resume_icount, resume_pc;
    /* Resuming from a watchpoint stop: a watchpoint does not stop the
     * instruction at the resume position again. */
    bool watch_skip;
    /* Why run() returned CPU_EXIT_DEBUG (set by the CPU, cleared by the
     * stub before resuming). */
    DebugHit hit;
    uint64_t hit_addr;       /* the watchpoint's address */
    unsigned hit_kind;       /* the access: DEBUG_WATCH_READ or _WRITE */
} CpuDebug;

static inline bool debug_bp_at(const CpuDebug *d, uint64_t pc)
{
    for (int i = 0; i < d->nbp; i++)
        if (d->bp[i] == pc)
            return true;
    return false;
}

/* Does a watchpoint overlap the 4 KiB page at va_page (page-aligned)? */
static inline bool debug_watch_page(const CpuDebug *d, uint64_t va_page)
{
    for (int i = 0; i < d->nwp; i++) {
        uint64_t a = d->wp[i].addr & ~0xfffull;
        uint64_t b = (d->wp[i].addr + d->wp[i].len - 1) & ~0xfffull;
        if (va_page == a || va_page == b)
            return true;
    }
    return false;
}

/* The watchpoint an access of kind (DEBUG_WATCH_READ/WRITE) to
 * [va, va + size) triggers, or NULL. */
static inline const DebugWatch *debug_watch_hit(const CpuDebug *d, uint64_t va,
                                                unsigned size, unsigned kind)
{
    for (int i = 0; i < d->nwp; i++) {
        const DebugWatch *w = &d->wp[i];
        if ((w->kind & kind) && va < w->addr + w->len && w->addr < va + size)
            return w;
    }
    return NULL;
}

/* Per-target debugger hooks (CpuOps.debug; NULL: no debugger support). */
typedef struct CpuDebugOps {
    /* gdb's target description (target.xml) for this CPU; static storage
     * or owned by the CPU. */
    const char *(*gdb_xml)(void *cpu);
    /* Registers a 'g' packet carries: gdb numbers 0 .. n-1. */
    int (*gdb_gregs)(void *cpu);
    /* Register n (gdb's number, as in the XML) into buf in target byte
     * order (at most 16 bytes): its size, or -1 when there is none. */
    int (*gdb_read_reg)(void *cpu, int n, uint8_t *buf);
    /* Write register n from len bytes: 0, or -1 (no such register, wrong
     * size). */
    int (*gdb_write_reg)(void *cpu, int n, const uint8_t *buf, int len);
    /* Guest virtual memory as the CPU sees it now (its MMU and current
     * privilege; physical when paging is off).  Only RAM/ROM: no device
     * access, no fault taken, no A/D bit set.  false if any byte cannot be
     * reached.  Writes drop translated code they touch. */
    bool (*read_mem)(void *cpu, uint64_t va, uint8_t *buf, size_t len);
    bool (*write_mem)(void *cpu, uint64_t va, const uint8_t *buf, size_t len);
    /* Install the breakpoints/watchpoints (NULL: none).  The CPU keeps the
     * pointer until the next call and reads it while running. */
    void (*set_debug)(void *cpu, CpuDebug *d);
    uint64_t (*get_pc)(void *cpu);
    void (*set_pc)(void *cpu, uint64_t pc);
    /* Optional: single-stepping starts (partial non-NULL) or ends (NULL).
     * While it is on, an instruction that runs in pieces and retires only
     * after the last one (x86 REP string instructions) runs one piece per
     * step, as the hardware's single-step trap does: the CPU sets *partial
     * and returns from run() after a piece that did not retire it, and
     * that ends the step too. */
    void (*set_step)(void *cpu, bool *partial);
    /* gdb's have_nonsteppable_watchpoint for this ISA: it wants watchpoint
     * stops before the access and steps over it itself. */
    bool watch_before_access;
} CpuDebugOps;

/* A debugger's read (rbuf) or write (wbuf) of [va, va + len), page by
 * page: the address wraps with va_mask, xlate gives each page's physical
 * address (false: unmapped, the access fails), and only RAM/ROM is
 * reached.  A write drops translated code made from the bytes
 * (gdbstub.c; used by each target's debug.c). */
struct AddressSpace;
bool debug_mem_access(struct AddressSpace *as, uint64_t va, uint64_t va_mask,
                      bool (*xlate)(void *cpu, uint64_t va, uint64_t *pa), void *cpu,
                      uint8_t *rbuf, const uint8_t *wbuf, size_t len);

#endif
