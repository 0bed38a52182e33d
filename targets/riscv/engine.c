/* The RISC-V interpreter engine: block cache, run loop, software TLB and
 * the memory slow paths.
 *
 * A block is a run of predecoded instructions from one guest page, ended by
 * a jump (JAL, JALR), a SYSTEM instruction, FENCE.I, the page end or
 * RV_MAX_BLOCK instructions; a conditional branch leaves it only when taken.
 * Blocks are found by (virtual pc, physical address): a direct-mapped jump
 * cache on the pc, checked against the ITLB's physical address, then a hash
 * table.  A block's exits go straight to the next block when the jump cache
 * has it (rv_chain, decode.h), and a jump to an instruction of the same
 * block goes there directly (rv_jump_local); the run loop sees the rest.
 * Block memory comes from an arena that is reset only between blocks, so a
 * block stays readable while it runs even if a store in it invalidates it.
 *
 * Self-modifying code: pages holding translated code are "code pages" with
 * a bitmap of 64-byte chunks that hold instructions.  They never enter the
 * write TLB, so every store to them takes the slow path, which invalidates
 * the page's blocks when the store hits a marked chunk.  Writes by devices
 * and loaders arrive through the AddressSpace code_write hook.  Whoever
 * writes guest RAM behind the hook's back (KVM running the guest, loadvm)
 * must call riscv_code_flush() before the interpreter runs again; FENCE.I
 * re-checks blocks against memory lazily (rv_code_fence).
 *
 * icount is added for a whole block on entry; a trap or a taken branch
 * subtracts what did not retire (riscv_raise, the branch handlers), a
 * budget ending inside a block runs a truncated copy of it (run_partial). */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "targets/riscv/decode.h"
#include "vmm/hash.h"

#define HASH_BITS 15
#define CP_BITS 12
#define ARENA_SIZE ((size_t)64 << 20)
/* TLB tables whose fills since the last flush fit here are flushed entry by
 * entry; Linux flushes often (SUM toggles, satp writes) with few fills. */
#define FILL_TRACK 32
/* Blocks entered without retiring anything before run() yields. */
#define STALL_LIMIT 100000
/* Instructions run in chained blocks before the run loop looks again: bounds
 * the handler recursion should the compiler not turn tail calls into jumps. */
#define CHAIN_MAX 1024

typedef struct CodePage {
    uint64_t page;          /* pa >> 12 */
    uint64_t chunks;        /* bit i: bytes [64i, 64i+64) hold code */
    RvBlock *blocks;
    struct CodePage *next;
} CodePage;

typedef struct Engine {
    RvChainCache cc;        /* first: handlers see cpu->bcache as this */
    RvBlock *hash[1u << HASH_BITS];
    CodePage *cp[1u << CP_BITS];
    CodePage *cp_free;
    uint8_t *arena;
    size_t used;
    uint64_t reset_pc;
    uint16_t nfill[4][3];
    uint8_t fills[4][3][FILL_TRACK];
} Engine;

_Static_assert(RV_TLB_SIZE <= 256, "Engine.fills holds TLB indexes in bytes");

/* Never matches a pc (pcs are even): empty jump-cache slots point here. */
static RvBlock no_block = { .vpc = 1, .pa = ~0ull, .dead = true };

static inline Engine *engine(const RiscvCPU *cpu)
{
    return cpu->bcache;
}

static inline uint64_t va_wrap(const RiscvCPU *cpu, uint64_t va)
{
    return cpu->xlen == 32 ? (uint32_t)va : va;
}

static inline unsigned jc_index(uint64_t pc)
{
    return rv_jc_index(pc);
}

static inline unsigned hash_index(uint64_t vpc, uint64_t pa)
{
    uint64_t h = (pa ^ (vpc << 17) ^ (vpc >> 12)) * 0x9e3779b97f4a7c15ull;
    return (unsigned)(h >> (64 - HASH_BITS));
}

static inline unsigned cp_index(uint64_t page)
{
    return (unsigned)((page * 0x9e3779b97f4a7c15ull) >> (64 - CP_BITS));
}

/* ---- software TLB ---- */

void riscv_tlb_flush(RiscvCPU *cpu)
{
    Engine *e = engine(cpu);
    for (int p = 0; p < 4; p++) {
        for (int a = 0; a < 3; a++) {
            unsigned n = e->nfill[p][a];
            if (n == 0)
                continue;
            if (n > FILL_TRACK) {
                for (unsigned i = 0; i < RV_TLB_SIZE; i++)
                    cpu->tlb[p][a][i].tag = ~0ull;
            } else {
                for (unsigned i = 0; i < n; i++)
                    cpu->tlb[p][a][e->fills[p][a][i]].tag = ~0ull;
            }
            e->nfill[p][a] = 0;
        }
    }
}

static void tlb_fill(RiscvCPU *cpu, int priv, RvAccess acc, uint64_t va,
                     uint64_t pa, const MemRegion *r)
{
    Engine *e = engine(cpu);
    uint64_t pa_page = pa & ~0xfffull, va_page = va & ~0xfffull;
    /* Only whole pages of one RAM/ROM region are cached. */
    if (pa_page < r->base || pa_page - r->base > r->size - 0x1000 || r->size < 0x1000)
        return;
    unsigned idx = (unsigned)(va >> 12) & (RV_TLB_SIZE - 1);
    RvTlbEntry *t = &cpu->tlb[priv][acc][idx];
    t->tag = va_page;
    t->addend = (uintptr_t)(r->host + (pa_page - r->base)) - (uintptr_t)va_page;
    t->pa_page = pa_page;
    unsigned n = e->nfill[priv][acc];
    if (n < FILL_TRACK)
        e->fills[priv][acc][n] = (uint8_t)idx;
    if (n <= FILL_TRACK)
        e->nfill[priv][acc] = (uint16_t)(n + 1);
}

/* A page became a code page: stores to it must take the slow path. */
static void tlb_drop_writable(RiscvCPU *cpu, uint64_t pa_page)
{
    for (int p = 0; p < 4; p++)
        for (unsigned i = 0; i < RV_TLB_SIZE; i++) {
            RvTlbEntry *t = &cpu->tlb[p][RV_ACC_WRITE][i];
            if (t->tag != ~0ull && t->pa_page == pa_page)
                t->tag = ~0ull;
        }
}

/* ---- code pages and invalidation ---- */

static CodePage *cp_find(Engine *e, uint64_t page)
{
    for (CodePage *c = e->cp[cp_index(page)]; c; c = c->next)
        if (c->page == page)
            return c;
    return NULL;
}

static CodePage *cp_get(RiscvCPU *cpu, uint64_t page)
{
    Engine *e = engine(cpu);
    CodePage *c = cp_find(e, page);
    if (c)
        return c;
    c = e->cp_free;
    if (c)
        e->cp_free = c->next;
    else
        c = g_new(CodePage, 1);
    c->page = page;
    c->chunks = 0;
    c->blocks = NULL;
    unsigned h = cp_index(page);
    c->next = e->cp[h];
    e->cp[h] = c;
    tlb_drop_writable(cpu, page << 12);
    return c;
}

static uint64_t chunk_mask(uint64_t off, uint64_t len)
{
    unsigned lo = (unsigned)(off >> 6), hi = (unsigned)((off + len - 1) >> 6);
    uint64_t m = hi == 63 ? ~0ull : (1ull << (hi + 1)) - 1;
    return m & ~((1ull << lo) - 1);
}

static void block_unlink(Engine *e, RvBlock *b)
{
    if (b->dead)
        return;
    b->dead = true;
    RvBlock **pp = &e->hash[hash_index(b->vpc, b->pa)];
    while (*pp && *pp != b)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = b->hnext;
    unsigned j = jc_index(b->vpc);
    if (e->cc.jc[j] == b)
        e->cc.jc[j] = &no_block;
}

static void cp_invalidate(Engine *e, CodePage *c)
{
    RvBlock *b = c->blocks;
    while (b) {
        RvBlock *next = (b->pa >> 12) == c->page ? b->pnext[0] : b->pnext[1];
        block_unlink(e, b);
        b = next;
    }
    CodePage **pp = &e->cp[cp_index(c->page)];
    while (*pp != c)
        pp = &(*pp)->next;
    *pp = c->next;
    c->next = e->cp_free;
    e->cp_free = c;
}

/* Guest physical [pa, pa+len) was written: drop blocks made from it. */
static void code_written(RiscvCPU *cpu, uint64_t pa, uint64_t len)
{
    Engine *e = engine(cpu);
    while (len) {
        uint64_t off = pa & 0xfff;
        uint64_t n = 0x1000 - off < len ? 0x1000 - off : len;
        CodePage *c = cp_find(e, pa >> 12);
        if (c && (c->chunks & chunk_mask(off, n))) {
            cp_invalidate(e, c);
            /* The running block may be among them: no jump back into it. */
            cpu->chain_end = 0;
        }
        pa += n;
        len -= n;
    }
}

static void as_code_write(void *opaque, uint64_t pa, uint64_t len)
{
    code_written(opaque, pa, len);
}

static bool is_code_page(RiscvCPU *cpu, uint64_t pa)
{
    return cp_find(engine(cpu), pa >> 12) != NULL;
}

void riscv_code_flush(RiscvCPU *cpu)
{
    Engine *e = engine(cpu);
    /* Clear only the slots the arena's blocks can occupy. */
    for (size_t off = 0; off < e->used;) {
        RvBlock *b = (RvBlock *)(e->arena + off);
        e->hash[hash_index(b->vpc, b->pa)] = NULL;
        e->cc.jc[jc_index(b->vpc)] = &no_block;
        off += sizeof(RvBlock) + (b->n + 1) * sizeof(RvInsn);
    }
    for (unsigned i = 0; i < (1u << CP_BITS); i++) {
        while (e->cp[i]) {
            CodePage *c = e->cp[i];
            e->cp[i] = c->next;
            c->next = e->cp_free;
            e->cp_free = c;
        }
    }
    /* The memory stays intact until the next translation, which only
     * happens between blocks: a running block may finish. */
    e->used = 0;
    cpu->chain_end = 0;
}

/* FENCE.I.  Every write this engine can see already invalidated the
 * blocks it touched; what FENCE.I adds is coherence with writes that
 * bypassed the code_write hook.  Rather than retranslating everything, each
 * block is re-checked against memory the first time it is looked up after
 * the fence (block_verify), which costs a fraction of decoding it again. */
void rv_code_fence(RiscvCPU *cpu)
{
    engine(cpu)->cc.epoch++;
}

/* ---- translation ---- */

/* Host pointer to 2 bytes of RAM/ROM at pa, or NULL. */
static const uint8_t *fetch_ptr(RiscvCPU *cpu, uint64_t pa)
{
    return as_host_ptr(cpu->as, pa, 2);
}

static uint16_t rd16(const uint8_t *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

/* Translate a fetch; on success *pa, and the ITLB is filled when allowed. */
static int fetch_xlate(RiscvCPU *cpu, uint64_t va, uint64_t *pa, bool *page_ok)
{
    int cause = riscv_translate(cpu, va, RV_ACC_EXEC, cpu->priv, pa, page_ok);
    if (cause)
        return cause;
    MemRegion *r = as_find(cpu->as, *pa);
    if (!r || !r->host)
        return RV_EXC_INSN_ACCESS;
    if (*page_ok)
        tlb_fill(cpu, cpu->priv, RV_ACC_EXEC, va, *pa, r);
    return 0;
}

static void block_register(RiscvCPU *cpu, RvBlock *b, uint64_t end_off)
{
    Engine *e = engine(cpu);
    uint64_t page = b->pa >> 12;
    CodePage *c = cp_get(cpu, page);
    c->chunks |= chunk_mask(b->pa & 0xfff, end_off - (b->pa & 0xfff));
    b->pnext[0] = c->blocks;
    c->blocks = b;
    b->pnext[1] = NULL;
    if (b->pa2 != ~0ull) {
        uint64_t page2 = b->pa2 >> 12;
        c = cp_get(cpu, page2);
        c->chunks |= 1;
        if (page2 != page) {
            b->pnext[1] = c->blocks;
            c->blocks = b;
        }
    }
    unsigned h = hash_index(b->vpc, b->pa);
    b->hnext = e->hash[h];
    e->hash[h] = b;
}

/* Decode a block at pc (physical pa, translation checked).  Returns NULL if
 * its first instruction cannot be fetched; the fault has then been taken. */
static RvBlock *translate(RiscvCPU *cpu, uint64_t pc, uint64_t pa, bool page_ok)
{
    Engine *e = engine(cpu);
    const size_t max = sizeof(RvBlock) + (RV_MAX_BLOCK + 1) * sizeof(RvInsn);
    if (e->used + max > ARENA_SIZE)
        riscv_code_flush(cpu);
    RvBlock *b = (RvBlock *)(e->arena + e->used);
    b->vpc = pc;
    b->pa = pa;
    b->pa2 = ~0ull;
    b->dead = false;
    b->epoch = e->cc.epoch;
    /* A debugger breakpoint gets a block of its own instruction: the run
     * loop checks breakpoints only where blocks start (debug_stop). */
    b->bp = cpu->dbg && debug_bp_at(cpu->dbg, pc);

    uint64_t va = pc, off = pa & 0xfff;
    const uint64_t page_pa = pa & ~0xfffull;
    const uint8_t *page = as_host_ptr(cpu->as, page_pa, 0x1000);
    unsigned n = 0;
    for (;;) {
        RvInsn *in = &b->insns[n];
        if (n > 0 && unlikely(cpu->dbg) && debug_bp_at(cpu->dbg, va))
            break;
        if (n > 0 && !page_ok) {
            /* Sub-page PMP: check each instruction's permission. */
            uint64_t p2;
            bool ok2;
            if (riscv_translate(cpu, va, RV_ACC_EXEC, cpu->priv, &p2, &ok2) ||
                p2 != (page_pa | off))
                break;
        }
        const uint8_t *p = page ? page + off : fetch_ptr(cpu, page_pa | off);
        if (!p) {
            if (n == 0) {
                riscv_do_trap(cpu, RV_EXC_INSN_ACCESS, false, va);
                return NULL;
            }
            break;
        }
        uint32_t raw = rd16(p);
        unsigned flags, len = (raw & 3) == 3 ? 4 : 2;
        bool straddle = false;
        if (len == 4) {
            const uint8_t *q = NULL;
            if (off == 0xffe) {
                /* The upper half lies on the next page: fetch it through its
                 * own translation; a fault there is reported at its address. */
                uint64_t va2 = va_wrap(cpu, va + 2), pa2;
                bool ok2;
                int cause = fetch_xlate(cpu, va2, &pa2, &ok2);
                if (!cause && !(q = fetch_ptr(cpu, pa2)))
                    cause = RV_EXC_INSN_ACCESS;
                if (cause) {
                    if (n == 0) {
                        riscv_do_trap(cpu, (uint64_t)cause, false, va2);
                        return NULL;
                    }
                    break;
                }
                b->pa2 = pa2 & ~0xfffull;
                straddle = true;
            } else {
                q = page ? page + off + 2 : fetch_ptr(cpu, page_pa | (off + 2));
                if (!q) {
                    if (n == 0) {
                        riscv_do_trap(cpu, RV_EXC_INSN_ACCESS, false, va_wrap(cpu, va + 2));
                        return NULL;
                    }
                    break;
                }
            }
            raw |= (uint32_t)rd16(q) << 16;
        }
        flags = riscv_decode(in, raw, len, va, cpu->xlen);
        /* A conditional branch leaves the block only when taken (its
         * handler takes the rest of the block off icount). */
        if ((in->raw & 0x7f) == 0x63 && in->fn != rv_illegal)
            flags &= ~RV_DEC_END;
        n++;
        va = va_wrap(cpu, va + len);
        off += len;
        if ((flags & RV_DEC_END) || straddle || off >= 0x1000 || n == RV_MAX_BLOCK ||
            b->bp)
            break;
    }
    b->n = n;
    for (unsigned i = 0; i < n; i++)
        b->insns[i].rem = (uint8_t)(n - 1 - i);
    riscv_specialise(b->insns, n);
    /* No jump back into a breakpoint's block without the run loop. */
    if (b->bp)
        b->insns[0].fn = riscv_plain(&b->insns[0]);
    RvInsn *end = &b->insns[n];
    memset(end, 0, sizeof(*end));
    end->fn = rv_block_end;
    end->pc = va;
    e->used += sizeof(RvBlock) + (n + 1) * sizeof(RvInsn);
    block_register(cpu, b, off > 0x1000 ? 0x1000 : off);
    return b;
}

/* Does memory still hold the instructions b was decoded from?  Compressed
 * ones are compared through their expansion: two encodings with the same
 * expansion behave the same. */
static bool block_verify(RiscvCPU *cpu, const RvBlock *b)
{
    const uint64_t page_pa = b->pa & ~0xfffull;
    const uint8_t *page = as_host_ptr(cpu->as, page_pa, 0x1000);
    uint64_t off = b->pa & 0xfff;
    for (unsigned i = 0; i < b->n; i++) {
        const RvInsn *in = &b->insns[i];
        const uint8_t *p = page ? page + off : as_host_ptr(cpu->as, page_pa | off, 2);
        if (!p)
            return false;
        uint32_t cur = rd16(p);
        if (in->len == 4) {
            const uint8_t *q = off + 2 >= 0x1000 ? as_host_ptr(cpu->as, b->pa2, 2)
                             : page ? page + off + 2
                             : as_host_ptr(cpu->as, page_pa | (off + 2), 2);
            if (!q || (cur & 3) != 3)
                return false;
            cur |= (uint32_t)rd16(q) << 16;
            if (cur != (in->fn == rv_illegal ? (uint32_t)in->imm : in->raw))
                return false;
        } else {
            if ((cur & 3) == 3)
                return false;
            if (in->fn == rv_illegal ? cur != (uint32_t)in->imm
                                     : riscv_rvc_expand((uint16_t)cur, cpu->xlen) != in->raw)
                return false;
        }
        off += in->len;
    }
    return true;
}

/* The block for cpu->pc, translating it if needed; NULL when the fetch
 * faulted (the trap has been taken).  Out of line: the run loop keeps its
 * registers. */
static __attribute__((noinline)) RvBlock *lookup_slow(RiscvCPU *cpu)
{
    Engine *e = engine(cpu);
    /* RV32: whoever set the pc may have left it sign-extended. */
    uint64_t pc = cpu->pc = va_wrap(cpu, cpu->pc), pa;
    bool page_ok = true;
    const RvTlbEntry *t = rv_tlb_entry(cpu, cpu->priv, RV_ACC_EXEC, pc);
    if (t->tag == (pc & ~0xfffull)) {
        pa = t->pa_page | (pc & 0xfff);
    } else {
        int cause = fetch_xlate(cpu, pc, &pa, &page_ok);
        if (cause) {
            riscv_do_trap(cpu, (uint64_t)cause, false, pc);
            return NULL;
        }
    }
    RvBlock *b;
    for (b = e->hash[hash_index(pc, pa)]; b; b = b->hnext) {
        if (b->vpc != pc || b->pa != pa)
            continue;
        if (b->epoch != e->cc.epoch) {
            if (!block_verify(cpu, b)) {
                block_unlink(e, b);
                b = NULL;
                break;
            }
            b->epoch = e->cc.epoch;
        }
        if (b->pa2 == ~0ull)
            break;
        /* A straddling tail depends on the next page's mapping too. */
        uint64_t pa2;
        bool ok2;
        if (!fetch_xlate(cpu, va_wrap(cpu, (pc | 0xfff) + 1), &pa2, &ok2) &&
            (pa2 & ~0xfffull) == b->pa2)
            return b;
        block_unlink(e, b);
        b = NULL;
        break;
    }
    if (!b) {
        b = translate(cpu, pc, pa, page_ok);
        if (!b)
            return NULL;
        if (b->pa2 != ~0ull || !page_ok)
            return b;
    }
    /* Chaining (rv_chain) finds blocks only in the jump cache: leaving a
     * breakpoint's block out of it sends every entry through the run loop. */
    if (b->bp)
        return b;
    e->cc.jc[jc_index(pc)] = b;
    return b;
}

static inline RvBlock *lookup(RiscvCPU *cpu, Engine *e)
{
    uint64_t pc = cpu->pc;
    const RvTlbEntry *t = rv_tlb_entry(cpu, cpu->priv, RV_ACC_EXEC, pc);
    RvBlock *b = e->cc.jc[jc_index(pc)];
    if (likely(t->tag == (pc & ~0xfffull) && b->vpc == pc &&
               b->pa == (t->pa_page | (pc & 0xfff)) && b->epoch == e->cc.epoch))
        return b;
    return lookup_slow(cpu);
}

/* ---- run loop ---- */

/* A debugger is attached (cpu->dbg): stop before the instruction at pc if a
 * breakpoint is there, unless run() resumed from exactly there. */
static __attribute__((noinline)) bool debug_stop(RiscvCPU *cpu)
{
    CpuDebug *d = cpu->dbg;
    uint64_t pc = va_wrap(cpu, cpu->pc);
    if (!debug_bp_at(d, pc) || (cpu->icount == d->resume_icount && pc == d->resume_pc))
        return false;
    d->hit = DEBUG_HIT_BREAK;
    d->hit_addr = pc;
    return true;
}

/* Ends a truncated copy of a block: the instruction it stands for and the
 * rem after it do not retire. */
static const RvInsn *budget_stop(RiscvCPU *cpu, const RvInsn *in)
{
    cpu->icount -= in->rem + 1u;
    cpu->pc = in->pc;
    return NULL;
}

/* The budget ends inside the block: handlers chain to their successor, so
 * run a copy of the first `left` instructions that stops there.  A trap
 * inside fixes icount by itself (riscv_raise uses the copied rem). */
static __attribute__((noinline)) void run_partial(RiscvCPU *cpu, const RvBlock *b,
                                                  unsigned left)
{
    RvInsn tmp[RV_MAX_BLOCK + 1];
    memcpy(tmp, b->insns, left * sizeof(RvInsn));
    tmp[left] = b->insns[left];
    tmp[left].fn = budget_stop;
    /* Nothing may run past the stop: no pairs, no jumps inside the block. */
    for (unsigned k = 0; k < left; k++)
        tmp[k].fn = riscv_plain(&tmp[k]);
    const RvInsn *i = tmp;
    while ((i = i->fn(cpu, i)))
        ;
}


static CpuExit run_loop(RiscvCPU *cpu, uint64_t max)
{
    Engine *e = engine(cpu);
    Machine *m = cpu->m;
    const uint64_t end = cpu->icount + max;
    uint64_t last_left = 0;
    unsigned stalled = 0;

    for (;;) {
        uint64_t left = end - cpu->icount;
        if (left == 0)
            return CPU_EXIT_BUDGET;
        /* A guest caught in a trap loop (a bad trap vector) retires
         * nothing: give the main loop its turn now and then so the monitor
         * and timers still run.  Nothing retired, so nothing is skipped. */
        if (unlikely(left == last_left)) {
            if (++stalled >= STALL_LIMIT)
                return CPU_EXIT_BUDGET;
        } else {
            last_left = left;
            stalled = 0;
        }
        if (unlikely(m->exit_request))
            return CPU_EXIT_REQUEST;
        /* mip as read is mip | mip_hw (cpu.h); only call into trap.c when
         * something is both pending and enabled. */
        if (unlikely((cpu->mip | cpu->mip_hw) & cpu->mie)) {
            if (riscv_check_interrupts(cpu)) {
                cpu->wfi = false;
                cpu->resv_addr = ~0ull;
            }
        }
        if (unlikely(cpu->wfi)) {
            if (!riscv_wfi_wakeup(cpu))
                return CPU_EXIT_IDLE;
            cpu->wfi = false;
        }
        if (unlikely(cpu->dbg != NULL) && debug_stop(cpu))
            return CPU_EXIT_DEBUG;
        RvBlock *b = lookup(cpu, e);
        if (unlikely(!b))
            continue;
        /* Chained blocks stay within the budget; anything else the checks
         * above look at changes only through a trap, a SYSTEM instruction or
         * a device access, and those return here (mmio_read/mmio_write
         * clear chain_end). */
        cpu->chain_end = cpu->icount + (left < CHAIN_MAX ? left : CHAIN_MAX);
        cpu->icount += b->n;
        if (likely(b->n <= left)) {
            const RvInsn *i = b->insns;
            while ((i = i->fn(cpu, i)))
                ;
        } else {
            run_partial(cpu, b, (unsigned)left);
        }
    }
}

static CpuExit riscv_run(void *opaque, uint64_t max)
{
    RiscvCPU *cpu = opaque;
    CpuExit ex = run_loop(cpu, max);
    /* Handlers run outside the loop (tests, debuggers) must not chain. */
    cpu->chain_end = 0;
    return ex;
}

/* ---- memory slow paths ---- */

static bool fault(RiscvCPU *cpu, const RvInsn *in, int cause, uint64_t tval)
{
    riscv_raise(cpu, in, (uint64_t)cause, tval);
    return false;
}

/* A debugger watchpoint covers this access: leave the block before `in`
 * as a trap would, without taking one (nothing has been accessed yet); the
 * exit request returns run() to the main loop and the stub reports the
 * stop (gdb steps over the access itself on RISC-V).  Watched pages never enter the TLB
 * (data_xlate), so every access to them comes here: that is the cost of a
 * watchpoint, slow paths for its pages only. */
static __attribute__((noinline)) bool watch_stop(RiscvCPU *cpu, const RvInsn *in,
                                                 uint64_t va, unsigned size,
                                                 unsigned kind)
{
    CpuDebug *d = cpu->dbg;
    const DebugWatch *w = debug_watch_hit(d, va, size, kind);
    if (!w || (d->watch_skip && in->pc == d->resume_pc &&
               riscv_icount_at(cpu, in) == d->resume_icount))
        return false;
    d->hit = DEBUG_HIT_WATCH;
    d->hit_addr = w->addr;
    d->hit_kind = w->kind;
    cpu->icount -= in->rem + 1u;
    cpu->pc = in->pc;
    cpu->chain_end = 0;
    cpu->m->exit_request = 1;
    return true;
}

#define WATCH(cpu, in, va, size, kind) \
    (unlikely((cpu)->dbg != NULL) && watch_stop(cpu, in, va, size, kind))

/* Device accesses see the exact instruction count of `in`. */
static MemResult mmio_read(RiscvCPU *cpu, const RvInsn *in, uint64_t pa,
                           unsigned size, uint64_t *val)
{
    cpu->chain_end = 0;     /* the device may raise an interrupt */
    uint64_t ahead = in->rem + 1u;
    cpu->icount -= ahead;
    cpu->pc = in->pc;       /* record/replay logs the position of the access */
    MemResult r = as_read(cpu->as, pa, size, val);
    cpu->icount += ahead;
    return r;
}

static MemResult mmio_write(RiscvCPU *cpu, const RvInsn *in, uint64_t pa,
                            unsigned size, uint64_t val)
{
    cpu->chain_end = 0;     /* the device may raise an interrupt */
    uint64_t ahead = in->rem + 1u;
    cpu->icount -= ahead;
    cpu->pc = in->pc;
    MemResult r = as_write(cpu->as, pa, size, val);
    cpu->icount += ahead;
    return r;
}

/* Translate a data access that stays in one page; fills the TLB if the
 * page is plain RAM/ROM (and, for writes, writable and free of code).
 * Returns the region (NULL for nothing there) or raises. */
static bool data_xlate(RiscvCPU *cpu, const RvInsn *in, uint64_t va, RvAccess acc,
                       uint64_t *pa, MemRegion **region)
{
    int dp = riscv_data_priv(cpu);
    bool page_ok;
    int cause = riscv_translate(cpu, va, acc, dp, pa, &page_ok);
    if (cause)
        return fault(cpu, in, cause, va);
    MemRegion *r = as_find(cpu->as, *pa);
    *region = r;
    /* The fast paths index the TLB by cpu->priv: fill only when MPRV does
     * not change the privilege. */
    if (r && r->host && page_ok && dp == cpu->priv &&
        !(acc == RV_ACC_WRITE && (r->readonly || is_code_page(cpu, *pa))) &&
        !(cpu->dbg && debug_watch_page(cpu->dbg, va & ~0xfffull)))
        tlb_fill(cpu, cpu->priv, acc, va, *pa, r);
    return true;
}

static uint8_t *ram_ptr(MemRegion *r, uint64_t pa, unsigned size)
{
    if (!r || !r->host || pa - r->base > r->size - size || r->size < size)
        return NULL;
    return r->host + (pa - r->base);
}

/* An access crossing a page boundary: both pages are translated (and must
 * be RAM/ROM) before any byte moves; a fault is reported at the address of
 * the portion that caused it. */
static bool cross_xlate(RiscvCPU *cpu, const RvInsn *in, uint64_t va, unsigned size,
                        RvAccess acc, uint8_t *host[2], unsigned *n1, uint64_t pa[2])
{
    uint64_t va2 = va_wrap(cpu, (va | 0xfff) + 1);
    *n1 = (unsigned)(0x1000 - (va & 0xfff));
    int access = acc == RV_ACC_WRITE ? RV_EXC_STORE_ACCESS : RV_EXC_LOAD_ACCESS;
    MemRegion *r;
    if (!data_xlate(cpu, in, va, acc, &pa[0], &r))
        return false;
    host[0] = ram_ptr(r, pa[0], *n1);
    if (!host[0] || (acc == RV_ACC_WRITE && r->readonly))
        return fault(cpu, in, access, va);
    if (!data_xlate(cpu, in, va2, acc, &pa[1], &r))
        return false;
    host[1] = ram_ptr(r, pa[1], size - *n1);
    if (!host[1] || (acc == RV_ACC_WRITE && r->readonly))
        return fault(cpu, in, access, va2);
    return true;
}

bool rv_load(RiscvCPU *cpu, const RvInsn *in, uint64_t va, unsigned size, uint64_t *val)
{
    va = va_wrap(cpu, va);
    const RvTlbEntry *t = rv_tlb_entry(cpu, cpu->priv, RV_ACC_READ, va);
    if (t->tag == (va & ~0xfffull) && (va & 0xfff) <= 0x1000 - size) {
        *val = mem_load_le((const uint8_t *)(uintptr_t)(va + t->addend), size);
        return true;
    }
    if (WATCH(cpu, in, va, size, DEBUG_WATCH_READ))
        return false;
    if ((va & 0xfff) + size > 0x1000) {
        uint8_t *host[2];
        uint64_t pa[2];
        unsigned n1;
        if (!cross_xlate(cpu, in, va, size, RV_ACC_READ, host, &n1, pa))
            return false;
        uint8_t buf[8];
        memcpy(buf, host[0], n1);
        memcpy(buf + n1, host[1], size - n1);
        *val = mem_load_le(buf, size);
        return true;
    }
    uint64_t pa;
    MemRegion *r;
    if (!data_xlate(cpu, in, va, RV_ACC_READ, &pa, &r))
        return false;
    uint8_t *p = ram_ptr(r, pa, size);
    if (p) {
        *val = mem_load_le(p, size);
        return true;
    }
    if (mmio_read(cpu, in, pa, size, val) != MEM_OK)
        return fault(cpu, in, RV_EXC_LOAD_ACCESS, va);
    return true;
}

bool rv_store(RiscvCPU *cpu, const RvInsn *in, uint64_t va, unsigned size, uint64_t val)
{
    va = va_wrap(cpu, va);
    const RvTlbEntry *t = rv_tlb_entry(cpu, cpu->priv, RV_ACC_WRITE, va);
    if (t->tag == (va & ~0xfffull) && (va & 0xfff) <= 0x1000 - size) {
        mem_store_le((uint8_t *)(uintptr_t)(va + t->addend), size, val);
        return true;
    }
    if (WATCH(cpu, in, va, size, DEBUG_WATCH_WRITE))
        return false;
    if ((va & 0xfff) + size > 0x1000) {
        uint8_t *host[2];
        uint64_t pa[2];
        unsigned n1;
        if (!cross_xlate(cpu, in, va, size, RV_ACC_WRITE, host, &n1, pa))
            return false;
        uint8_t buf[8];
        mem_store_le(buf, size, val);
        memcpy(host[0], buf, n1);
        memcpy(host[1], buf + n1, size - n1);
        code_written(cpu, pa[0], n1);
        code_written(cpu, pa[1], size - n1);
        return true;
    }
    uint64_t pa;
    MemRegion *r;
    if (!data_xlate(cpu, in, va, RV_ACC_WRITE, &pa, &r))
        return false;
    uint8_t *p = ram_ptr(r, pa, size);
    if (p) {
        if (r->readonly)
            return fault(cpu, in, RV_EXC_STORE_ACCESS, va);
        mem_store_le(p, size, val);
        code_written(cpu, pa, size);
        return true;
    }
    if (mmio_write(cpu, in, pa, size, val) != MEM_OK)
        return fault(cpu, in, RV_EXC_STORE_ACCESS, va);
    if (unlikely(((cpu->mip | cpu->mip_hw) & cpu->mie) || cpu->m->exit_request)) {
        /* The device raised an interrupt or asked the machine to stop
         * (power-off, reset): leave the block after this store, so the
         * interrupt is taken, or the run ends, right here whatever the
         * slice boundaries are (a single-stepping debugger, a replay
         * restarted from a snapshot and the original run all stop at the
         * same instruction).  The store retired; the rest of the block did
         * not. */
        cpu->icount -= in->rem;
        cpu->pc = va_wrap(cpu, in->pc + in->len);
        return false;
    }
    return true;
}

bool rv_amo(RiscvCPU *cpu, const RvInsn *in, uint64_t va, unsigned size,
            RvAmoOp *op, uint64_t src, uint64_t *old)
{
    uint64_t pa;
    MemRegion *r;
    va = va_wrap(cpu, va);
    if (WATCH(cpu, in, va, size, DEBUG_WATCH_ACCESS))
        return false;
    if (!data_xlate(cpu, in, va, RV_ACC_WRITE, &pa, &r))
        return false;
    uint8_t *p = ram_ptr(r, pa, size);
    if (p) {
        if (r->readonly)
            return fault(cpu, in, RV_EXC_STORE_ACCESS, va);
        *old = mem_load_le(p, size);
        mem_store_le(p, size, op(*old, src));
        code_written(cpu, pa, size);
        return true;
    }
    if (mmio_read(cpu, in, pa, size, old) != MEM_OK ||
        mmio_write(cpu, in, pa, size, op(*old, src)) != MEM_OK)
        return fault(cpu, in, RV_EXC_STORE_ACCESS, va);
    return true;
}

bool rv_lr(RiscvCPU *cpu, const RvInsn *in, uint64_t va, unsigned size, uint64_t *val)
{
    uint64_t pa;
    MemRegion *r;
    va = va_wrap(cpu, va);
    if (WATCH(cpu, in, va, size, DEBUG_WATCH_READ))
        return false;
    if (!data_xlate(cpu, in, va, RV_ACC_READ, &pa, &r))
        return false;
    uint8_t *p = ram_ptr(r, pa, size);
    if (p)
        *val = mem_load_le(p, size);
    else if (mmio_read(cpu, in, pa, size, val) != MEM_OK)
        return fault(cpu, in, RV_EXC_LOAD_ACCESS, va);
    cpu->resv_addr = pa;
    return true;
}

bool rv_sc(RiscvCPU *cpu, const RvInsn *in, uint64_t va, unsigned size,
           uint64_t val, bool *ok)
{
    uint64_t pa;
    MemRegion *r;
    va = va_wrap(cpu, va);
    *ok = false;
    if (WATCH(cpu, in, va, size, DEBUG_WATCH_WRITE))
        return false;
    if (!data_xlate(cpu, in, va, RV_ACC_WRITE, &pa, &r))
        return false;
    bool match = cpu->resv_addr == pa;
    cpu->resv_addr = ~0ull;
    if (!match)
        return true;
    uint8_t *p = ram_ptr(r, pa, size);
    if (p) {
        if (r->readonly)
            return fault(cpu, in, RV_EXC_STORE_ACCESS, va);
        mem_store_le(p, size, val);
        code_written(cpu, pa, size);
    } else if (mmio_write(cpu, in, pa, size, val) != MEM_OK) {
        return fault(cpu, in, RV_EXC_STORE_ACCESS, va);
    }
    *ok = true;
    return true;
}

/* ---- lifecycle and CpuOps ---- */

RiscvCPU *riscv_cpu_create(Machine *m, int xlen)
{
    RiscvCPU *cpu = g_new0(RiscvCPU, 1);
    Engine *e = g_new0(Engine, 1);
    e->arena = g_malloc(ARENA_SIZE);
    for (unsigned i = 0; i < RV_JC_SIZE; i++)
        e->cc.jc[i] = &no_block;
    cpu->bcache = e;
    cpu->m = m;
    cpu->as = &m->as;
    cpu->xlen = xlen;
    cpu->resv_addr = ~0ull;
    for (int p = 0; p < 4; p++)
        for (int a = 0; a < 3; a++)
            for (unsigned i = 0; i < RV_TLB_SIZE; i++)
                cpu->tlb[p][a][i].tag = ~0ull;
    m->as.code_write = as_code_write;
    m->as.code_write_opaque = cpu;
    riscv_cpu_reset(cpu, 0);
    return cpu;
}

void riscv_cpu_free(RiscvCPU *cpu)
{
    if (!cpu)
        return;
    Engine *e = cpu->bcache;
    if (cpu->as && cpu->as->code_write_opaque == cpu) {
        cpu->as->code_write = NULL;
        cpu->as->code_write_opaque = NULL;
    }
    riscv_code_flush(cpu);
    while (e->cp_free) {
        CodePage *c = e->cp_free;
        e->cp_free = c->next;
        g_free(c);
    }
    g_free(e->arena);
    g_free(e);
    g_free(cpu);
}

void riscv_cpu_reset(RiscvCPU *cpu, uint64_t reset_pc)
{
    memset(cpu->x, 0, sizeof(cpu->x));
    memset(cpu->f, 0, sizeof(cpu->f));
    cpu->fflags = 0;
    cpu->frm = 0;
    cpu->pc = va_wrap(cpu, reset_pc);
    cpu->priv = RV_PRIV_M;
    cpu->wfi = false;
    cpu->resv_addr = ~0ull;
    riscv_csr_reset(cpu);
    riscv_tlb_flush(cpu);
    riscv_code_flush(cpu);
    engine(cpu)->reset_pc = reset_pc;
}

void riscv_cpu_set_irq(RiscvCPU *cpu, int irq, int level)
{
    if (level)
        cpu->mip_hw |= 1ull << irq;
    else
        cpu->mip_hw &= ~(1ull << irq);
}

static void ops_reset(void *opaque)
{
    RiscvCPU *cpu = opaque;
    riscv_cpu_reset(cpu, engine(cpu)->reset_pc);
}

static const char *const abi_names[32] = {
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1",
    "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7",
    "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6",
};

static void ops_dump(void *opaque, FILE *f)
{
    RiscvCPU *cpu = opaque;
    static const char priv_name[4] = { 'U', 'S', '?', 'M' };
    int w = cpu->xlen == 32 ? 8 : 16;
    uint64_t mask = cpu->xlen == 32 ? 0xffffffffull : ~0ull;
    fprintf(f, " pc       %0*llx  priv %c  icount %llu  brcount %llu\n", w,
            (unsigned long long)(cpu->pc & mask), priv_name[cpu->priv & 3],
            (unsigned long long)cpu->icount, (unsigned long long)cpu->brcount);
    for (int i = 1; i < 32; i++)
        fprintf(f, " x%-2d/%-4s %0*llx%s", i, abi_names[i], w,
                (unsigned long long)(cpu->x[i] & mask), i % 4 == 3 ? "\n" : "");
    fprintf(f, "\n");
#define CSR(n) fprintf(f, " %-8s %0*llx\n", #n, w, (unsigned long long)(cpu->n & mask))
    CSR(mstatus); CSR(mepc); CSR(mcause); CSR(mtval); CSR(mtvec); CSR(mie);
    fprintf(f, " %-8s %0*llx\n", "mip", w, (unsigned long long)(riscv_mip(cpu) & mask));
    CSR(mideleg); CSR(medeleg); CSR(satp); CSR(sepc); CSR(scause); CSR(stval);
    CSR(stvec);
#undef CSR
}

static uint64_t ops_brcount(void *opaque)
{
    return ((RiscvCPU *)opaque)->brcount;
}

/* pc and x1..x31. */
static uint64_t ops_digest(void *opaque)
{
    const RiscvCPU *cpu = opaque;
    return tn_reg_digest(cpu->pc, &cpu->x[1], 31);
}

static void ops_destroy(void *opaque)
{
    riscv_cpu_free(opaque);
}

const CpuOps riscv_cpu_ops = {
    .name = "riscv",
    .run = riscv_run,
    .reset = ops_reset,
    .dump = ops_dump,
    .brcount = ops_brcount,
    .digest = ops_digest,
    .regs = riscv_regs,
    .reg_names = riscv_reg_names,
    .set_reg = riscv_set_reg,
    .state_hash = riscv_state_hash,
    .save = riscv_save,
    .load = riscv_load,
    .destroy = ops_destroy,
    .debug = &riscv_debug_ops,
};
