/* The gdb stub (GDB remote serial protocol, all-stop mode, one thread).
 *
 * Transport: one TCP client at a time; a second connection is closed at
 * once.  Packets are "$data#cs"; each one is acknowledged with '+' (or '-'
 * for a bad checksum, and gdb resends) until QStartNoAckMode.  A 0x03 byte
 * between packets interrupts a running guest.
 *
 * Run control is a small state machine driven by the main loop: the stub
 * "runs the machine until" a condition (a stop event, or one retired
 * instruction) by saying whether the CPU may run and with which budget,
 * and decides after each CpuOps.run whether the condition was met.  The
 * conditions are in RunUntil; reverse execution will add its own there
 * (see docs/gdb.md), computed from snapshots and replay rather than by
 * running forward.
 *
 * Breakpoints and watchpoints live in a CpuDebug handed to the CPU
 * (vmm/debug.h); the CPU stops before the instruction, without changing
 * icount, so a debugged run retires the same instructions as an undebugged
 * one. */
#include "vmm/gdbstub.h"

#include <errno.h>
#include <glib-unix.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "checkpoint/timeline.h"
#include "rr/rr.h"
#include "vmm/debug.h"
#include "vmm/error.h"

/* Largest packet we take or send (its payload); told to gdb in
 * qSupported as PacketSize (hex). */
#define PKT_MAX 16384
#define SEND_TIMEOUT_MS 5000

typedef enum RunUntil {
    UNTIL_EVENT,            /* continue: a breakpoint, watchpoint or Ctrl-C */
    UNTIL_ONE_INSN,         /* step: one retired instruction */
} RunUntil;

/* Reverse execution (bs, bc) on the replay timeline (checkpoint/timeline.h):
 * a snapshot before the target is restored and the replay runs forward, so
 * the CPU hooks stay the forward ones.
 *
 *   bs (reverse-stepi) at icount P: restore the last snapshot at or before
 *      P - 1, run to icount P - 1 with breakpoints off (REV_TO_ICOUNT).
 *   bc (reverse-continue) at P: from the last snapshot S before P, run to P
 *      counting breakpoint and watchpoint stops without reporting them
 *      (REV_SCAN).  With n > 0 of them, restore S again and stop at the
 *      n-th (REV_LAND): the stop gdb sees is the ordinary forward one.  With
 *      none, do the same over the interval before S, down to the beginning
 *      of the timeline, where the reply says replaylog:begin. */
typedef enum RevPhase {
    REV_NONE, REV_TO_ICOUNT, REV_SCAN, REV_LAND,
    REV_PROBE,              /* bs: counting the partial steps of an instruction */
    REV_SUBSTEPS,           /* bs: taking partial steps back to a stop inside one */
} RevPhase;

/* A stop's position is (icount, partial steps since the last retirement):
 * a single step of an x86 REP string instruction runs one iteration and
 * retires nothing (the hardware's single-step trap does the same), so
 * several stops share an icount.  bs from (I, s > 0) goes to (I, s - 1):
 * back to icount I, then s - 1 partial steps.  bs from (I, 0) goes to the
 * last stop of the instruction before: back to I - 1, count that
 * instruction's partial steps k by stepping it (REV_PROBE), then back to
 * I - 1 again and k partial steps (CPUs without partial steps skip the
 * count). */

typedef enum RxState { RX_IDLE, RX_DATA, RX_CSUM1, RX_CSUM2 } RxState;

struct GdbStub {
    Machine *m;
    void *cpu;
    const CpuDebugOps *ops;
    int lfd, cfd;

    /* Receiving. */
    RxState rx;
    char pkt[PKT_MAX + 1];
    size_t plen;
    bool overflow;
    uint8_t sum;
    int csum_hi;

    /* Sending. */
    bool noack;
    GString *last;          /* last packet sent, resent on '-' */
    bool swbreak, hwbreak;  /* gdb understands these stop reasons */

    /* Run control. */
    bool stopped;
    RunUntil until;
    uint64_t start_icount;  /* icount when the CPU was resumed */
    bool watch_redo;        /* re-executing the insn a watchpoint stopped */
    bool at_watch;          /* stopped by a watchpoint, before the access */
    bool step_partial;      /* the CPU ran one piece of an instruction (set_step) */
    CpuDebug dbg;
    bool bp_hw[DEBUG_MAX_BP];
    char stop_reply[96];

    RevPhase rev;
    uint64_t sub;           /* partial steps since the last retirement */
    uint64_t rev_subs;      /* REV_TO_ICOUNT/REV_SUBSTEPS: partial steps still to take */
    bool rev_probe;         /* REV_TO_ICOUNT: count the partial steps first */
    uint64_t rev_target;    /* REV_TO_ICOUNT: where to stop; REV_SCAN: scan end */
    uint64_t rev_from;      /* REV_SCAN/REV_LAND: the snapshot scanned from */
    uint64_t rev_hits, rev_want;
};

/* ---- helpers ---- */

static const char hexd[] = "0123456789abcdef";

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* A hex number of 1..16 digits at *p; advances *p. */
static bool parse_hex(const char **p, uint64_t *out)
{
    uint64_t v = 0;
    int n = 0, d;
    while ((d = hexval((unsigned char)**p)) >= 0) {
        if (++n > 16)
            return false;
        v = v << 4 | (uint64_t)d;
        (*p)++;
    }
    *out = v;
    return n > 0;
}

/* Exactly 2*len hex digits into buf. */
static bool hex_to_bytes(const char *s, size_t slen, uint8_t *buf, size_t len)
{
    if (slen != 2 * len)
        return false;
    for (size_t i = 0; i < len; i++) {
        int hi = hexval((unsigned char)s[2 * i]), lo = hexval((unsigned char)s[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        buf[i] = (uint8_t)(hi << 4 | lo);
    }
    return true;
}

static void append_hex(GString *s, const uint8_t *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        g_string_append_c(s, hexd[buf[i] >> 4]);
        g_string_append_c(s, hexd[buf[i] & 15]);
    }
}

/* "ADDR,LEN" then `end` (':' or 0). */
static bool parse_addr_len(const char **p, uint64_t *addr, uint64_t *len, char end)
{
    if (!parse_hex(p, addr) || **p != ',')
        return false;
    (*p)++;
    if (!parse_hex(p, len) || **p != end)
        return false;
    if (end)
        (*p)++;
    return true;
}

bool debug_mem_access(AddressSpace *as, uint64_t va, uint64_t va_mask,
                      bool (*xlate)(void *cpu, uint64_t va, uint64_t *pa), void *cpu,
                      uint8_t *rbuf, const uint8_t *wbuf, size_t len)
{
    while (len) {
        va &= va_mask;
        uint64_t pa;
        size_t n = 0x1000 - (va & 0xfff);
        if (n > len)
            n = len;
        if (!xlate(cpu, va, &pa))
            return false;
        uint8_t *p = as_host_ptr(as, pa, n);
        if (!p)
            return false;
        if (rbuf) {
            memcpy(rbuf, p, n);
            rbuf += n;
        } else {
            memcpy(p, wbuf, n);
            wbuf += n;
            if (as->code_write)
                as->code_write(as->code_write_opaque, pa, n);
        }
        va += n;
        len -= n;
    }
    return true;
}

/* ---- sending ---- */

static void drop_client(GdbStub *g);

static bool send_raw(GdbStub *g, const char *buf, size_t len)
{
    while (len && g->cfd >= 0) {
        ssize_t n = send(g->cfd, buf, len, MSG_NOSIGNAL);
        if (n > 0) {
            buf += n;
            len -= (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = { .fd = g->cfd, .events = POLLOUT };
            if (poll(&p, 1, SEND_TIMEOUT_MS) > 0)
                continue;
        }
        drop_client(g);
        return false;
    }
    return g->cfd >= 0;
}

/* Send a packet whose payload is already escaped where needed. */
static void send_packet(GdbStub *g, const char *data, size_t len)
{
    uint8_t sum = 0;
    for (size_t i = 0; i < len; i++)
        sum = (uint8_t)(sum + (uint8_t)data[i]);
    g_string_truncate(g->last, 0);
    g_string_append_c(g->last, '$');
    g_string_append_len(g->last, data, (gssize)len);
    g_string_append_printf(g->last, "#%02x", sum);
    send_raw(g, g->last->str, g->last->len);
}

static void reply(GdbStub *g, const char *s)
{
    send_packet(g, s, strlen(s));
}

static void reply_err(GdbStub *g, int code)
{
    char b[8];
    snprintf(b, sizeof(b), "E%02x", code & 0xff);
    reply(g, b);
}

/* Binary payloads (qXfer): escape $ # } and *. */
static void append_escaped(GString *s, const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char c = data[i];
        if (c == '$' || c == '#' || c == '}' || c == '*') {
            g_string_append_c(s, '}');
            c ^= 0x20;
        }
        g_string_append_c(s, c);
    }
}

/* ---- run control ---- */

static void install_debug(GdbStub *g)
{
    g->ops->set_debug(g->cpu, g->dbg.nbp || g->dbg.nwp ? &g->dbg : NULL);
}

/* Single-stepping on or off in the CPU (CpuDebugOps.set_step). */
static void set_step(GdbStub *g, bool on)
{
    g->step_partial = false;
    if (g->ops->set_step)
        g->ops->set_step(g->cpu, on ? &g->step_partial : NULL);
}

static void resume(GdbStub *g, RunUntil until)
{
    g->until = until;
    set_step(g, until == UNTIL_ONE_INSN);
    g->start_icount = *g->m->icount;
    g->dbg.hit = DEBUG_HIT_NONE;
    g->dbg.resume_icount = *g->m->icount;
    g->dbg.resume_pc = g->ops->get_pc(g->cpu);
    g->dbg.watch_skip = g->at_watch;
    g->at_watch = false;
    g->stopped = false;
}

static void stop(GdbStub *g, const char *why, bool at_watch);

/* A breakpoint or watchpoint stop during a reverse scan: count it and go
 * on (as gdb's continue would).  true when swallowed. */
static bool rev_swallow(GdbStub *g, bool at_watch)
{
    if (g->rev != REV_SCAN && g->rev != REV_LAND)
        return false;
    g->rev_hits++;
    if (g->rev == REV_LAND && g->rev_hits >= g->rev_want) {
        g->rev = REV_NONE;
        return false;
    }
    set_step(g, false);
    g->watch_redo = false;
    g->at_watch = at_watch;
    g->dbg.hit = DEBUG_HIT_NONE;
    resume(g, UNTIL_EVENT);
    return true;
}

static bool rev_step_done(GdbStub *g);

static void stop(GdbStub *g, const char *why, bool at_watch)
{
    if (rev_swallow(g, at_watch))
        return;
    if ((g->rev == REV_PROBE || g->rev == REV_SUBSTEPS) && rev_step_done(g))
        return;
    g->rev = REV_NONE;
    g->stopped = true;
    g->sub = 0;
    set_step(g, false);
    g->watch_redo = false;
    g->at_watch = at_watch;
    g->dbg.watch_skip = false;
    g->dbg.hit = DEBUG_HIT_NONE;
    snprintf(g->stop_reply, sizeof(g->stop_reply), "%sthread:1;", why);
    reply(g, g->stop_reply);
}

bool gdbstub_holds(const GdbStub *g)
{
    return g && g->stopped;
}

uint64_t gdbstub_budget(const GdbStub *g, uint64_t budget)
{
    if (!g || g->stopped || g->cfd < 0)
        return budget;
    if (g->until == UNTIL_ONE_INSN && budget > 1)
        return 1;
    if (g->rev == REV_TO_ICOUNT || g->rev == REV_SCAN) {
        uint64_t now = *g->m->icount;
        uint64_t left = g->rev_target > now ? g->rev_target - now : 0;
        if (left < budget)
            return left;
    }
    return budget;
}

/* ---- reverse execution ---- */

static void stop_at_begin(GdbStub *g)
{
    g->rev = REV_NONE;
    install_debug(g);
    stop(g, "T05replaylog:begin;", false);
}

/* Restore the last snapshot at or before icount target; false after
 * replying with an error. */
static bool rev_restore(GdbStub *g, uint64_t target, uint64_t *at)
{
    GError *err = NULL;
    if (!timeline_restore(g->m->timeline, target, at, &err)) {
        fprintf(stderr, "tandem: gdb: %s\n", err->message);
        g_error_free(err);
        g->rev = REV_NONE;
        install_debug(g);
        if (g->m->error)
            return false;
        stop(g, "E0e", false);
        return false;
    }
    g->at_watch = false;
    return true;
}

static void rev_reached(GdbStub *g);

/* Back to icount target with breakpoints off, then subs partial steps (or
 * first count them: probe). */
static void rev_goto(GdbStub *g, uint64_t target, uint64_t subs, bool probe)
{
    uint64_t at;
    if (!rev_restore(g, target, &at))
        return;
    g->ops->set_debug(g->cpu, NULL);
    resume(g, UNTIL_EVENT);
    g->rev = REV_TO_ICOUNT;
    g->rev_target = target;
    g->rev_subs = subs;
    g->rev_probe = probe;
    if (at == target)
        rev_reached(g);
}

/* bs: one stop back. */
static void reverse_step(GdbStub *g)
{
    uint64_t now = *g->m->icount;
    if (g->sub > 0) {
        rev_goto(g, now, g->sub - 1, false);
        return;
    }
    if (now <= timeline_begin(g->m->timeline)) {
        stop_at_begin(g);
        return;
    }
    rev_goto(g, now - 1, 0, g->ops->set_step != NULL);
}

/* A single step of REV_PROBE / REV_SUBSTEPS ended (stop() calls this
 * instead of reporting); true when it was swallowed. */
static bool rev_step_done(GdbStub *g)
{
    uint64_t icount = *g->m->icount;
    bool partial = icount == g->start_icount && g->step_partial;
    set_step(g, false);
    if (g->rev == REV_PROBE) {
        if (partial) {
            g->rev_subs++;
            resume(g, UNTIL_ONE_INSN);
            return true;
        }
        /* It retired: the stop wanted is its last partial one. */
        rev_goto(g, g->rev_target, g->rev_subs, false);
        return true;
    }
    /* REV_SUBSTEPS */
    if (!partial) {
        /* The replay did not repeat the partial steps: report where it is. */
        fprintf(stderr, "tandem: gdb: reverse step: the instruction at icount %llu did "
                "not repeat its partial steps\n", (unsigned long long)g->rev_target);
        g->rev = REV_NONE;
        install_debug(g);
        return false;
    }
    g->sub++;
    if (--g->rev_subs > 0) {
        resume(g, UNTIL_ONE_INSN);
        return true;
    }
    uint64_t sub = g->sub;
    g->rev = REV_NONE;
    install_debug(g);
    stop(g, "T05", false);
    g->sub = sub;
    return true;
}

/* Scan [from, end) for breakpoint and watchpoint stops. */
static void rev_scan(GdbStub *g, uint64_t from, uint64_t end)
{
    uint64_t at;
    if (!rev_restore(g, from, &at))
        return;
    install_debug(g);
    resume(g, UNTIL_EVENT);
    g->rev = REV_SCAN;
    g->rev_from = at;
    g->rev_target = end;
    g->rev_hits = 0;
}

/* Scan the interval that ends at icount end, or stop at the beginning of
 * the timeline when there is none. */
static void rev_scan_before(GdbStub *g, uint64_t end)
{
    uint64_t from = timeline_prev(g->m->timeline, end), at;
    if (from != UINT64_MAX) {
        rev_scan(g, from, end);
        return;
    }
    if (rev_restore(g, timeline_begin(g->m->timeline), &at))
        stop_at_begin(g);
}

/* bc: back to the last breakpoint or watchpoint stop. */
static void reverse_continue(GdbStub *g)
{
    rev_scan_before(g, *g->m->icount);
}

/* The CPU reached the end of a reverse phase's run (icount == target). */
static void rev_reached(GdbStub *g)
{
    if (g->rev == REV_TO_ICOUNT) {
        g->sub = 0;
        if (g->rev_probe) {
            g->rev = REV_PROBE;
            g->rev_subs = 0;
            resume(g, UNTIL_ONE_INSN);
            return;
        }
        if (g->rev_subs > 0) {
            g->rev = REV_SUBSTEPS;
            resume(g, UNTIL_ONE_INSN);
            return;
        }
        g->rev = REV_NONE;
        install_debug(g);
        stop(g, "T05", false);
        return;
    }
    /* REV_SCAN over [rev_from, rev_target) ended. */
    if (g->rev_hits) {
        uint64_t at;
        uint64_t want = g->rev_hits;
        if (!rev_restore(g, g->rev_from, &at))
            return;
        install_debug(g);
        resume(g, UNTIL_EVENT);
        g->rev = REV_LAND;
        g->rev_hits = 0;
        g->rev_want = want;
        return;
    }
    rev_scan_before(g, g->rev_from);
}

void gdbstub_cpu_stopped(GdbStub *g, CpuExit ex)
{
    if (!g || g->stopped || g->cfd < 0)
        return;
    CpuDebug *d = &g->dbg;
    uint64_t icount = *g->m->icount;
    char why[64];
    if ((g->rev == REV_TO_ICOUNT || g->rev == REV_SCAN) && icount >= g->rev_target &&
        d->hit == DEBUG_HIT_NONE && !g->watch_redo) {
        rev_reached(g);
        return;
    }
    if (d->hit == DEBUG_HIT_WATCH && !g->watch_redo && !g->ops->watch_before_access) {
        /* The CPU stopped before the access, but gdb wants it done:
         * execute that instruction alone, then report. */
        unsigned kind = d->hit_kind;
        uint64_t addr = d->hit_addr;
        g->at_watch = true;
        resume(g, UNTIL_ONE_INSN);
        g->watch_redo = true;
        d->hit_kind = kind;
        d->hit_addr = addr;
        return;
    }
    if (d->hit == DEBUG_HIT_WATCH || g->watch_redo) {
        if (g->watch_redo && icount == g->start_icount && !g->step_partial &&
            d->hit == DEBUG_HIT_NONE && ex != CPU_EXIT_ERROR)
            return;
        const char *r = d->hit_kind == DEBUG_WATCH_WRITE ? "watch"
                      : d->hit_kind == DEBUG_WATCH_READ ? "rwatch" : "awatch";
        snprintf(why, sizeof(why), "T05%s:%llx;", r, (unsigned long long)d->hit_addr);
        /* Before the access, the next resume must not stop there again. */
        stop(g, why, !g->watch_redo);
        return;
    }
    if (d->hit == DEBUG_HIT_BREAK) {
        bool hw = false;
        for (int i = 0; i < d->nbp; i++)
            if (d->bp[i] == d->hit_addr)
                hw = g->bp_hw[i];
        stop(g, hw ? (g->hwbreak ? "T05hwbreak:;" : "T05")
                   : (g->swbreak ? "T05swbreak:;" : "T05"), false);
        return;
    }
    if (g->until == UNTIL_ONE_INSN && (icount != g->start_icount || g->step_partial)) {
        uint64_t sub = icount == g->start_icount ? g->sub + 1 : 0;
        stop(g, "T05", false);
        if (g->stopped)
            g->sub = sub;
    }
}

/* ---- breakpoints and watchpoints ---- */

static int bp_find(const GdbStub *g, uint64_t addr)
{
    for (int i = 0; i < g->dbg.nbp; i++)
        if (g->dbg.bp[i] == addr)
            return i;
    return -1;
}

static int wp_find(const GdbStub *g, uint64_t addr, uint64_t len, unsigned kind)
{
    for (int i = 0; i < g->dbg.nwp; i++) {
        const DebugWatch *w = &g->dbg.wp[i];
        if (w->addr == addr && w->len == len && w->kind == kind)
            return i;
    }
    return -1;
}

/* Z/z TYPE,ADDR,KIND.  Inserting an existing one or removing a missing
 * one succeeds: gdb may resend a packet (the protocol asks for idempotent
 * handlers). */
static void handle_z(GdbStub *g, const char *p, bool insert)
{
    uint64_t type, addr, kind;
    if (!parse_hex(&p, &type) || *p++ != ',' || !parse_hex(&p, &addr) || *p++ != ',' ||
        !parse_hex(&p, &kind) || (*p && *p != ';')) {
        reply_err(g, 0x16);
        return;
    }
    CpuDebug *d = &g->dbg;
    if (type <= 1) {
        int i = bp_find(g, addr);
        if (insert && i < 0) {
            if (d->nbp == DEBUG_MAX_BP) {
                reply_err(g, 0x1c);
                return;
            }
            g->bp_hw[d->nbp] = type == 1;
            d->bp[d->nbp++] = addr;
        } else if (!insert && i >= 0) {
            d->nbp--;
            d->bp[i] = d->bp[d->nbp];
            g->bp_hw[i] = g->bp_hw[d->nbp];
        }
    } else if (type <= 4) {
        static const unsigned kinds[] = { 0, 0, DEBUG_WATCH_WRITE, DEBUG_WATCH_READ,
                                          DEBUG_WATCH_ACCESS };
        unsigned k = kinds[type];
        if (kind == 0 || kind > 4096 || addr + kind < addr) {
            reply_err(g, 0x16);
            return;
        }
        int i = wp_find(g, addr, kind, k);
        if (insert && i < 0) {
            if (d->nwp == DEBUG_MAX_WP) {
                reply_err(g, 0x1c);
                return;
            }
            d->wp[d->nwp++] = (DebugWatch){ addr, kind, k };
        } else if (!insert && i >= 0) {
            d->wp[i] = d->wp[--d->nwp];
        }
    } else {
        reply(g, "");
        return;
    }
    install_debug(g);
    reply(g, "OK");
}

/* ---- registers and memory ---- */

/* Register writes and memory writes would make the run differ from its
 * log: refused under record/replay. */
static bool writes_allowed(GdbStub *g)
{
    return g->m->rr_mode == RR_MODE_OFF;
}

static void handle_g(GdbStub *g)
{
    GString *s = g_string_new(NULL);
    int n = g->ops->gdb_gregs(g->cpu);
    for (int i = 0; i < n; i++) {
        uint8_t buf[16];
        int len = g->ops->gdb_read_reg(g->cpu, i, buf);
        if (len > 0)
            append_hex(s, buf, (size_t)len);
    }
    send_packet(g, s->str, s->len);
    g_string_free(s, TRUE);
}

static void handle_G(GdbStub *g, const char *p, size_t plen)
{
    if (!writes_allowed(g)) {
        reply_err(g, 0x01);
        return;
    }
    int n = g->ops->gdb_gregs(g->cpu);
    size_t need = 0;
    for (int i = 0; i < n; i++) {
        uint8_t buf[16];
        int len = g->ops->gdb_read_reg(g->cpu, i, buf);
        need += len > 0 ? 2 * (size_t)len : 0;
    }
    if (plen != need) {
        reply_err(g, 0x16);
        return;
    }
    /* Check all the hex first: a malformed packet changes nothing. */
    uint8_t *all = g_malloc(need / 2 + 1);
    if (!hex_to_bytes(p, plen, all, need / 2)) {
        g_free(all);
        reply_err(g, 0x16);
        return;
    }
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        uint8_t buf[16];
        int len = g->ops->gdb_read_reg(g->cpu, i, buf);
        if (len <= 0)
            continue;
        g->ops->gdb_write_reg(g->cpu, i, all + off, len);
        off += (size_t)len;
    }
    g_free(all);
    reply(g, "OK");
}

static void handle_p(GdbStub *g, const char *p)
{
    uint64_t n;
    uint8_t buf[16];
    int len;
    if (!parse_hex(&p, &n) || *p || n > 0xffff ||
        (len = g->ops->gdb_read_reg(g->cpu, (int)n, buf)) <= 0) {
        reply_err(g, 0x16);
        return;
    }
    GString *s = g_string_new(NULL);
    append_hex(s, buf, (size_t)len);
    send_packet(g, s->str, s->len);
    g_string_free(s, TRUE);
}

static void handle_P(GdbStub *g, const char *p, const char *end)
{
    uint64_t n;
    uint8_t buf[16];
    if (!parse_hex(&p, &n) || *p++ != '=' || n > 0xffff) {
        reply_err(g, 0x16);
        return;
    }
    size_t hl = (size_t)(end - p);
    int len = g->ops->gdb_read_reg(g->cpu, (int)n, buf);
    if (len <= 0 || !hex_to_bytes(p, hl, buf, (size_t)len)) {
        reply_err(g, 0x16);
        return;
    }
    if (!writes_allowed(g)) {
        reply_err(g, 0x01);
        return;
    }
    reply(g, g->ops->gdb_write_reg(g->cpu, (int)n, buf, len) ? "E16" : "OK");
}

static void handle_m(GdbStub *g, const char *p)
{
    uint64_t addr, len;
    if (!parse_addr_len(&p, &addr, &len, 0) || len > (PKT_MAX - 4) / 2) {
        reply_err(g, 0x16);
        return;
    }
    uint8_t *buf = g_malloc(len + 1);
    if (!g->ops->read_mem(g->cpu, addr, buf, len)) {
        g_free(buf);
        reply_err(g, 0x0e);
        return;
    }
    GString *s = g_string_sized_new(2 * len + 1);
    append_hex(s, buf, len);
    send_packet(g, s->str, s->len);
    g_string_free(s, TRUE);
    g_free(buf);
}

/* M (hex data) and X (binary data, escaped with '}'). */
static void handle_write_mem(GdbStub *g, const char *p, const char *end, bool binary)
{
    uint64_t addr, len;
    if (!parse_addr_len(&p, &addr, &len, ':') || len > PKT_MAX) {
        reply_err(g, 0x16);
        return;
    }
    uint8_t *buf = g_malloc(len + 1);
    bool ok;
    if (binary) {
        size_t n = 0;
        ok = true;
        while (p < end && n < len) {
            uint8_t c = (uint8_t)*p++;
            if (c == '}') {
                if (p == end) {
                    ok = false;
                    break;
                }
                c = (uint8_t)(*p++ ^ 0x20);
            }
            buf[n++] = c;
        }
        ok = ok && n == len && p == end;
    } else {
        ok = hex_to_bytes(p, (size_t)(end - p), buf, len);
    }
    if (!ok)
        reply_err(g, 0x16);
    else if (len && !writes_allowed(g))
        reply_err(g, 0x01);
    else if (len && !g->ops->write_mem(g->cpu, addr, buf, len))
        reply_err(g, 0x0e);
    else
        reply(g, "OK");
    g_free(buf);
}

/* ---- queries ---- */

static void handle_qxfer(GdbStub *g, const char *p)
{
    const char *pre = "features:read:";
    if (strncmp(p, pre, strlen(pre))) {
        reply(g, "");
        return;
    }
    p += strlen(pre);
    const char *annex = "target.xml:";
    if (strncmp(p, annex, strlen(annex))) {
        reply_err(g, 0x00);
        return;
    }
    p += strlen(annex);
    uint64_t off, len;
    if (!parse_addr_len(&p, &off, &len, 0)) {
        reply_err(g, 0x16);
        return;
    }
    const char *xml = g->ops->gdb_xml(g->cpu);
    size_t total = strlen(xml);
    if (len > (PKT_MAX - 8) / 2)
        len = (PKT_MAX - 8) / 2;     /* escaping can double it */
    GString *s = g_string_new(NULL);
    if (off >= total) {
        g_string_append_c(s, 'l');
    } else {
        size_t n = total - off < len ? total - off : len;
        g_string_append_c(s, off + n >= total ? 'l' : 'm');
        append_escaped(s, xml + off, n);
    }
    send_packet(g, s->str, s->len);
    g_string_free(s, TRUE);
}

static bool thread_ok(const char *p)
{
    return !strcmp(p, "0") || !strcmp(p, "-1") || !strcmp(p, "1") || !strcmp(p, "01");
}

static void handle_q(GdbStub *g, const char *p)
{
    if (!strncmp(p, "qSupported", 10)) {
        g->swbreak = strstr(p, "swbreak+") != NULL;
        g->hwbreak = strstr(p, "hwbreak+") != NULL;
        /* ReverseStep+ and ReverseContinue+ only in replay, where the
         * timeline exists (bs/bc below). */
        char b[200];
        snprintf(b, sizeof(b), "PacketSize=%x;qXfer:features:read+;QStartNoAckMode+;"
                 "vContSupported+;swbreak+;hwbreak+%s", PKT_MAX,
                 g->m->timeline ? ";ReverseStep+;ReverseContinue+" : "");
        reply(g, b);
    } else if (!strncmp(p, "qXfer:", 6)) {
        handle_qxfer(g, p + 6);
    } else if (!strcmp(p, "qAttached") || !strncmp(p, "qAttached:", 10)) {
        reply(g, "1");
    } else if (!strcmp(p, "qC")) {
        reply(g, "QC1");
    } else if (!strcmp(p, "qfThreadInfo")) {
        reply(g, "m1");
    } else if (!strcmp(p, "qsThreadInfo")) {
        reply(g, "l");
    } else if (!strcmp(p, "QStartNoAckMode")) {
        reply(g, "OK");
        g->noack = true;
    } else {
        reply(g, "");
    }
}

/* vCont;ACTION[:TID][;ACTION[:TID]]...: the first action for our thread. */
static void handle_vcont(GdbStub *g, const char *p)
{
    while (*p == ';') {
        p++;
        char act = *p++;
        if (act == 'C' || act == 'S') {
            uint64_t sig;      /* the signal is not delivered: no OS here */
            if (!parse_hex(&p, &sig)) {
                reply_err(g, 0x16);
                return;
            }
        } else if (act != 'c' && act != 's' && act != 't') {
            reply_err(g, 0x16);
            return;
        }
        bool ours = true;
        if (*p == ':') {
            const char *t = ++p;
            while (*p && *p != ';')
                p++;
            char tid[24];
            size_t n = (size_t)(p - t);
            if (n == 0 || n >= sizeof(tid)) {
                reply_err(g, 0x16);
                return;
            }
            memcpy(tid, t, n);
            tid[n] = 0;
            ours = thread_ok(tid);
        }
        if (*p && *p != ';') {
            reply_err(g, 0x16);
            return;
        }
        if (!ours)
            continue;
        if (act == 't') {
            g->rev = REV_NONE;
            stop(g, "T00", g->at_watch);
        } else {
            resume(g, act == 's' || act == 'S' ? UNTIL_ONE_INSN : UNTIL_EVENT);
        }
        return;
    }
    reply_err(g, 0x16);
}

static void handle_v(GdbStub *g, const char *p)
{
    if (!strcmp(p, "vCont?")) {
        reply(g, "vCont;c;C;s;S;t");
    } else if (!strncmp(p, "vCont;", 6)) {
        handle_vcont(g, p + 5);
    } else if (!strncmp(p, "vKill", 5)) {
        reply(g, "OK");
        rr_user_quit(g->m);
    } else {
        reply(g, "");
    }
}

/* c / s [ADDR] */
static void handle_resume(GdbStub *g, const char *p, RunUntil until)
{
    uint64_t addr;
    if (*p) {
        if (!parse_hex(&p, &addr) || *p) {
            reply_err(g, 0x16);
            return;
        }
        if (!writes_allowed(g)) {
            reply_err(g, 0x01);
            return;
        }
        g->ops->set_pc(g->cpu, addr);
    }
    resume(g, until);
}

static void detach(GdbStub *g)
{
    g->dbg.nbp = 0;
    g->dbg.nwp = 0;
    install_debug(g);
    g->watch_redo = false;
    g->at_watch = false;
    g->dbg.watch_skip = false;
    g->dbg.hit = DEBUG_HIT_NONE;
    g->stopped = false;
    g->until = UNTIL_EVENT;
    set_step(g, false);
}

static void handle_packet(GdbStub *g, char *p, size_t len)
{
    p[len] = 0;
    /* A NUL inside would cut the packet short for the parsers: refuse it
     * (only X carries binary data, and gdb escapes nothing for NUL, so
     * X gets its real length from `len`). */
    if (p[0] != 'X' && strlen(p) != len) {
        reply_err(g, 0x16);
        return;
    }
    switch (p[0]) {
    case '?':
        reply(g, g->stopped ? g->stop_reply : "T05thread:1;");
        break;
    case 'q':
    case 'Q':
        handle_q(g, p);
        break;
    case 'v':
        handle_v(g, p);
        break;
    case 'H':
        if ((p[1] == 'g' || p[1] == 'c') && thread_ok(p + 2))
            reply(g, "OK");
        else
            reply_err(g, 0x16);
        break;
    case 'T':
        if (thread_ok(p + 1))
            reply(g, "OK");
        else
            reply_err(g, 0x16);
        break;
    case 'g':
        if (len == 1)
            handle_g(g);
        else
            reply_err(g, 0x16);
        break;
    case 'G':
        handle_G(g, p + 1, len - 1);
        break;
    case 'p':
        handle_p(g, p + 1);
        break;
    case 'P':
        handle_P(g, p + 1, p + len);
        break;
    case 'm':
        handle_m(g, p + 1);
        break;
    case 'M':
        handle_write_mem(g, p + 1, p + len, false);
        break;
    case 'X':
        handle_write_mem(g, p + 1, p + len, true);
        break;
    case 'c':
        handle_resume(g, p + 1, UNTIL_EVENT);
        break;
    case 's':
        handle_resume(g, p + 1, UNTIL_ONE_INSN);
        break;
    case 'Z':
    case 'z':
        handle_z(g, p + 1, p[0] == 'Z');
        break;
    case 'b':
        /* Reverse execution: only on a replay's timeline. */
        if (len == 2 && (p[1] == 's' || p[1] == 'c')) {
            if (!g->m->timeline)
                reply_err(g, 0x01);
            else if (p[1] == 's')
                reverse_step(g);
            else
                reverse_continue(g);
        } else {
            reply(g, "");
        }
        break;
    case 'D':
        reply(g, "OK");
        detach(g);
        drop_client(g);
        break;
    case 'k':
        rr_user_quit(g->m);
        break;
    default:
        reply(g, "");
        break;
    }
}

/* ---- receiving ---- */

static void rx_byte(GdbStub *g, uint8_t c)
{
    switch (g->rx) {
    case RX_IDLE:
        if (c == '$') {
            g->rx = RX_DATA;
            g->plen = 0;
            g->sum = 0;
            g->overflow = false;
        } else if (c == 0x03) {
            if (!g->stopped) {
                /* An interrupted reverse scan stops where it is. */
                g->rev = REV_NONE;
                install_debug(g);
                stop(g, "T02", false);
            }
        } else if (c == '-' && !g->noack && g->last->len) {
            send_raw(g, g->last->str, g->last->len);
        }
        /* '+' and noise between packets are ignored. */
        break;
    case RX_DATA:
        if (c == '#') {
            g->rx = RX_CSUM1;
        } else if (c == '$') {
            /* A new start: what came before was not a packet. */
            g->plen = 0;
            g->sum = 0;
            g->overflow = false;
        } else {
            g->sum = (uint8_t)(g->sum + c);
            if (g->plen < PKT_MAX)
                g->pkt[g->plen++] = (char)c;
            else
                g->overflow = true;
        }
        break;
    case RX_CSUM1:
        g->csum_hi = hexval(c);
        g->rx = RX_CSUM2;
        break;
    case RX_CSUM2: {
        int lo = hexval(c);
        g->rx = RX_IDLE;
        bool good = g->csum_hi >= 0 && lo >= 0 && (uint8_t)(g->csum_hi << 4 | lo) == g->sum;
        if (!good) {
            if (!g->noack)
                send_raw(g, "-", 1);
            break;
        }
        if (!g->noack && !send_raw(g, "+", 1))
            break;
        if (g->overflow)
            reply_err(g, 0x07);          /* E2BIG */
        else if (g->plen == 0)
            reply(g, "");
        else
            handle_packet(g, g->pkt, g->plen);
        break;
    }
    }
}

static void drop_client(GdbStub *g)
{
    if (g->cfd < 0)
        return;
    close(g->cfd);
    g->cfd = -1;
    /* Losing the debugger is a detach: the guest runs on. */
    detach(g);
}

static void accept_client(GdbStub *g)
{
    int fd = accept(g->lfd, NULL, NULL);
    if (fd < 0)
        return;
    if (g->cfd >= 0) {
        close(fd);               /* one debugger at a time */
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    g->cfd = fd;
    g->rx = RX_IDLE;
    g->noack = false;
    g->swbreak = g->hwbreak = false;
    g_string_truncate(g->last, 0);
    /* Attaching stops the guest, as on QEMU; '?' reports it. */
    g->stopped = true;
    snprintf(g->stop_reply, sizeof(g->stop_reply), "T05thread:1;");
}

int gdbstub_poll_fds(GdbStub *g, struct pollfd *pfd, int max)
{
    int n = 0;
    if (!g)
        return 0;
    if (n < max)
        pfd[n++] = (struct pollfd){ .fd = g->lfd, .events = POLLIN };
    if (g->cfd >= 0 && n < max)
        pfd[n++] = (struct pollfd){ .fd = g->cfd, .events = POLLIN };
    return n;
}

bool gdbstub_service(GdbStub *g, const struct pollfd *pfd)
{
    if (!g || !pfd->revents)
        return false;
    bool was = g->stopped;
    if (pfd->fd == g->lfd) {
        accept_client(g);
        return was != g->stopped;
    }
    if (pfd->fd != g->cfd)
        return false;
    uint8_t buf[4096];
    ssize_t n = read(g->cfd, buf, sizeof(buf));
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        drop_client(g);
    } else {
        for (ssize_t i = 0; i < n && g->cfd >= 0; i++)
            rx_byte(g, buf[i]);
    }
    return was != g->stopped || g->m->shutdown_requested;
}

void gdbstub_machine_exit(GdbStub *g)
{
    if (!g || g->cfd < 0)
        return;
    char b[8];
    if (g->m->error)
        snprintf(b, sizeof(b), "X06");
    else
        snprintf(b, sizeof(b), "W%02x", g->m->exit_status & 0xff);
    reply(g, b);
    close(g->cfd);
    g->cfd = -1;
}

/* ---- lifecycle ---- */

static int listen_on(const char *host, int port, GError **err)
{
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE };
    struct addrinfo *res, *ai;
    char ps[16];
    snprintf(ps, sizeof(ps), "%d", port);
    if (!host)
        hints.ai_family = AF_INET;       /* QEMU's tcp::PORT: every IPv4 address */
    int r = getaddrinfo(host, ps, &hints, &res);
    if (r) {
        tn_error(err, "-gdb: cannot resolve '%s': %s", host ? host : "", gai_strerror(r));
        return -1;
    }
    int fd = -1, saved = 0;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0) {
            saved = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1) == 0)
            break;
        saved = errno;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd < 0) {
        tn_error(err, "-gdb: cannot listen on %s:%d: %s", host ? host : "", port,
                 g_strerror(saved));
        return -1;
    }
    g_unix_set_fd_nonblocking(fd, TRUE, NULL);
    return fd;
}

GdbStub *gdbstub_create(Machine *m, const char *spec, bool start_stopped, GError **err)
{
    if (!m->cpu_ops->debug || (m->accel && strcmp(m->accel, "tcg"))) {
        tn_error(err, "-gdb: the %s CPU%s has no debugger support yet", m->cpu_ops->name,
                 m->accel && strcmp(m->accel, "tcg") ? " under this accelerator" : "");
        return NULL;
    }
    char *host;
    int port;
    if (!gdbstub_parse_spec(spec, &host, &port, err))
        return NULL;
    int fd = listen_on(host, port, err);
    g_free(host);
    if (fd < 0)
        return NULL;
    GdbStub *g = g_new0(GdbStub, 1);
    g->m = m;
    g->cpu = m->cpu;
    g->ops = m->cpu_ops->debug;
    g->lfd = fd;
    g->cfd = -1;
    g->last = g_string_new(NULL);
    g->stopped = start_stopped;
    g->until = UNTIL_EVENT;
    snprintf(g->stop_reply, sizeof(g->stop_reply), "T05thread:1;");
    return g;
}

void gdbstub_destroy(GdbStub *g)
{
    if (!g)
        return;
    if (g->cfd >= 0)
        close(g->cfd);
    g->ops->set_debug(g->cpu, NULL);
    if (g->ops->set_step)
        g->ops->set_step(g->cpu, NULL);
    close(g->lfd);
    g_string_free(g->last, TRUE);
    g_free(g);
}
