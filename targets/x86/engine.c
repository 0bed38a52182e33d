/* The x86 interpreter engine: block cache, run loop, icount, the interrupt
 * window, HLT, single-step, and the CPU's life cycle.
 *
 * A block is a run of predecoded instructions from one guest page, ended
 * by an X86_D_END instruction, the page end, an instruction straddling
 * two pages, or X86_MAX_BLOCK instructions.  Blocks are found by (linear
 * address, physical address, RIP, decode mode, CS limit): a direct-mapped
 * jump cache on the linear address, checked against the fetch TLB's
 * physical page, then a hash table.  RIP and the CS limit are part of the
 * key because the same linear bytes decode to other offsets under another
 * CS base, and a block's last instruction may cross a lower limit.  Block
 * memory comes from an arena that is reset only between blocks, so a block
 * stays readable while it runs even if a store in it invalidates it.
 * Near branches enter the next block directly when the jump cache has it
 * (x86_jump_chain, block.h), within cpu->chain_end: the budget, and at
 * most CHAIN_MAX instructions before the run loop looks again.
 *
 * Self-modifying code: pages holding translated code are "code pages" with
 * a bitmap of 64-byte chunks that hold instructions; mem.c never gives
 * them write TLB entries (x86_tlb_drop_writable), so every store to them
 * reaches x86_code_written(), which drops the page's blocks when a marked
 * chunk is hit.  Device and loader writes arrive through the AddressSpace
 * code_write hook.  x86 has no instruction to make stores visible to
 * fetches: the hardware notices them by itself, even for the next
 * instruction.  So when the running block is dropped, the rest of it is
 * turned into stops (stop_here), and the next instruction is decoded
 * again from memory.
 *
 * icount is added for a whole block on entry; a fault subtracts what did
 * not retire (x86_raise), a budget ending inside a block runs a truncated
 * copy of it (run_partial), and so does every case that needs one
 * instruction at a time: the MOV SS / STI interrupt shadow, EFLAGS.TF and
 * EFLAGS.RF.  Those truncated copies replace the handler of the first
 * instruction not to run, which is also what keeps fused pairs
 * (x86_fuse, run over every decoded block) from running past the end.
 *
 * A debugger (debug.c, cpu->dbg): a breakpoint's instruction is a block of
 * its own, kept out of the jump cache, and blocks end before it, so the run
 * loop sees every arrival there (debug_stop, one branch per block entry
 * while no debugger is attached). */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "targets/x86/flags.h"
#include "targets/x86/block.h"
#include "targets/x86/jit.h"
#include "vmm/hash.h"

#define HASH_BITS 15
#define CP_BITS 12
#define ARENA_SIZE ((size_t)64 << 20)
/* Blocks entered without retiring anything before run() yields. */
#define STALL_LIMIT 100000
/* Instructions run in chained blocks before the run loop looks again:
 * bounds the handler recursion where the compiler does not turn tail
 * calls into jumps (sanitizer builds). */
#define CHAIN_MAX 1024
/* Run-loop entries after which a block is compiled (jit.c). */
#define JIT_HOT 8

typedef struct CodePage {
    uint64_t page;          /* pa >> 12 */
    uint64_t chunks;        /* bit i: bytes [64i, 64i+64) hold code */
    XBlock *blocks;
    struct CodePage *next;
} CodePage;

typedef struct Engine {
    X86ChainCache cc;       /* first: handlers see cpu->bcache as this */
    XBlock *hash[1u << HASH_BITS];
    CodePage *cp[1u << CP_BITS];
    CodePage *cp_free;
    uint8_t *arena;
    size_t used;
    bool fatal;             /* translate() set m->error */
    void *jit;              /* the code generator (jit.h), NULL when off */
    /* x86_end_block_after: the running instruction whose handler became
     * stop_here, and its own, put back when the block returns. */
    XInsn *held;
    XHandler *held_fn;
    unsigned jit_hot;       /* compile at this many run-loop entries */
} Engine;

/* Never matches (no physical page ends in pa ~0): empty jump-cache slots
 * point here. */
static XBlock no_block = { .lin = ~0ull, .pa = ~0ull, .rip = ~0ull, .dead = true };

static inline Engine *engine(const X86CPU *cpu)
{
    return cpu->bcache;
}

static inline unsigned jc_index(uint64_t lin)
{
    return x86_jc_index(lin);
}

static inline unsigned hash_index(uint64_t lin, uint64_t pa)
{
    uint64_t h = (pa ^ (lin << 17) ^ (lin >> 12)) * 0x9e3779b97f4a7c15ull;
    return (unsigned)(h >> (64 - HASH_BITS));
}

static inline unsigned cp_index(uint64_t page)
{
    return (unsigned)((page * 0x9e3779b97f4a7c15ull) >> (64 - CP_BITS));
}

/* Fetches are limit-checked outside 64-bit mode. */
static inline uint64_t cs_limit(const X86CPU *cpu)
{
    return (cpu->hflags & X86_HF_CS64) ? ~0ull : cpu->seg[X86_CS].limit;
}

static inline uint64_t fetch_lin(const X86CPU *cpu, uint64_t rip)
{
    return (cpu->hflags & X86_HF_CS64) ? rip : (uint32_t)(cpu->seg[X86_CS].base + rip);
}

/* ---- stops ---- */

/* Stands for an instruction that must not run now (budget end, a store
 * into the running block): it and the rest of the block do not retire. */
static const XInsn *stop_here(X86CPU *cpu, const XInsn *in)
{
    cpu->icount -= in->rem + 1u;
    cpu->rip = in->pc;
    return NULL;
}

const XInsn *x86_restart(X86CPU *cpu, const XInsn *in)
{
    /* A debugger's single-step: the piece just run is the step. */
    if (unlikely(cpu->dbg_step != NULL)) {
        *cpu->dbg_step = true;
        cpu->m->exit_request = 1;
    }
    return stop_here(cpu, in);
}

uint64_t x86_icount_at(const X86CPU *cpu, const XInsn *in)
{
    return cpu->icount - in->rem - 1;
}

/* Fetch beyond the CS limit (SDM vol. 3, 5.3: #GP(0)). */
static const XInsn *fetch_gp(X86CPU *cpu, const XInsn *in)
{
    return x86_raise(cpu, in, X86_EXC_GP, 0);
}

/* A fault before the first instruction of a block could be decoded. */
static void fetch_fault(X86CPU *cpu, uint64_t rip, int vec, int err)
{
    cpu->rip = rip;
    x86_deliver(cpu, vec, err, false);
}

/* ---- code pages and invalidation ---- */

static CodePage *cp_find(Engine *e, uint64_t page)
{
    for (CodePage *c = e->cp[cp_index(page)]; c; c = c->next)
        if (c->page == page)
            return c;
    return NULL;
}

static CodePage *cp_get(X86CPU *cpu, uint64_t page)
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
    x86_tlb_drop_writable(cpu, page << 12);
    return c;
}

static uint64_t chunk_mask(uint64_t off, uint64_t len)
{
    unsigned lo = (unsigned)(off >> 6), hi = (unsigned)((off + len - 1) >> 6);
    uint64_t m = hi == 63 ? ~0ull : (1ull << (hi + 1)) - 1;
    return m & ~((1ull << lo) - 1);
}

/* The running instructions stop after the one now executing. */
static void stop_running(Engine *e)
{
    for (unsigned i = 0; i < e->cc.run_n; i++)
        e->cc.run[i].fn = stop_here;
    e->cc.stopped = 1;
    e->held = NULL;         /* (the block is dropped: nothing to put back) */
}

void x86_end_block_after(X86CPU *cpu, const XInsn *in)
{
    Engine *e = engine(cpu);
    X86ChainCache *cc = &e->cc;
    /* Compiled code runs the instruction from a copy of its own and
     * checks `stopped` after it. */
    cc->stopped = 1;
    /* The run loop's instructions: the next one becomes a stop until the
     * block returns (run_insns).  The last one of a block leaves it
     * anyway, through x86_jump_chain, which looks for interrupts. */
    XInsn *next = (XInsn *)in + 1;
    if (in >= cc->run && next < cc->run + cc->run_n && !e->held) {
        e->held = next;
        e->held_fn = next->fn;
        next->fn = stop_here;
    }
}

static void block_unlink(Engine *e, XBlock *b)
{
    if (b == e->cc.run_block)
        stop_running(e);
    if (b->dead)
        return;
    b->dead = true;
    XBlock **pp = &e->hash[hash_index(b->lin, b->pa)];
    while (*pp && *pp != b)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = b->hnext;
    unsigned j = jc_index(b->lin);
    if (e->cc.jc[j] == b)
        e->cc.jc[j] = &no_block;
}

static void cp_invalidate(Engine *e, CodePage *c)
{
    XBlock *b = c->blocks;
    while (b) {
        XBlock *next = (b->pa >> 12) == c->page ? b->pnext[0] : b->pnext[1];
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

void x86_code_written(X86CPU *cpu, uint64_t pa, uint64_t len)
{
    Engine *e = engine(cpu);
    while (len) {
        uint64_t off = pa & 0xfff;
        uint64_t n = 0x1000 - off < len ? 0x1000 - off : len;
        CodePage *c = cp_find(e, pa >> 12);
        if (c && (c->chunks & chunk_mask(off, n))) {
            cp_invalidate(e, c);
            cpu->chain_end = cpu->loop_end = 0;
        }
        pa += n;
        len -= n;
    }
}

static void as_code_write(void *opaque, uint64_t pa, uint64_t len)
{
    x86_code_written(opaque, pa, len);
}

bool x86_is_code_page(X86CPU *cpu, uint64_t pa)
{
    return cp_find(engine(cpu), pa >> 12) != NULL;
}

void x86_code_flush(X86CPU *cpu)
{
    Engine *e = engine(cpu);
    if (e->cc.run_block)
        stop_running(e);
    cpu->chain_end = cpu->loop_end = 0;
    /* Clear only the slots the arena's blocks can occupy. */
    for (size_t off = 0; off < e->used;) {
        XBlock *b = (XBlock *)(e->arena + off);
        e->hash[hash_index(b->lin, b->pa)] = NULL;
        e->cc.jc[jc_index(b->lin)] = &no_block;
        off += sizeof(XBlock) + (b->n + 1) * sizeof(XInsn);
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
     * happens between blocks: a running block may finish.  So does
     * compiled code until the next compilation. */
    e->used = 0;
    x86_jit_reset(e->jit);
}

/* ---- translation ---- */

/* Host pointer to RAM/ROM at pa and how many bytes (up to max) follow it
 * in the same region; NULL if pa is not RAM/ROM. */
static const uint8_t *host_span(X86CPU *cpu, uint64_t pa, unsigned max, unsigned *avail)
{
    MemRegion *r = as_find(cpu->as, pa);
    if (!r || !r->host)
        return NULL;
    uint64_t left = r->base + r->size - pa;
    *avail = left < max ? (unsigned)left : max;
    return r->host + (pa - r->base);
}

static void not_ram(X86CPU *cpu, uint64_t lin, uint64_t pa)
{
    machine_set_error(cpu->m, "x86: instruction fetch at linear %#llx (physical %#llx) "
                      "from outside RAM/ROM", (unsigned long long)lin,
                      (unsigned long long)pa);
    engine(cpu)->fatal = true;
}

static void block_register(X86CPU *cpu, XBlock *b, uint64_t end_off)
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
        c->chunks |= 1;     /* a tail is at most 14 bytes */
        if (page2 != page) {
            b->pnext[1] = c->blocks;
            c->blocks = b;
        }
    }
    unsigned h = hash_index(b->lin, b->pa);
    b->hnext = e->hash[h];
    e->hash[h] = b;
}

/* The instruction at rip runs past the CS limit: it raises #GP(0). */
static void make_gp(XInsn *in, uint64_t rip, unsigned len)
{
    memset(in, 0, sizeof(*in));
    in->fn = fetch_gp;
    in->pc = rip;
    in->len = (uint8_t)len;
    in->dflags = X86_D_END;
    in->base = in->index = X86_NONE;
}

/* The page after the one of lin (a block's instructions all start in
 * the page of its first). */
static inline uint64_t next_page(const X86CPU *cpu, uint64_t lin)
{
    uint64_t l = (lin | 0xfff) + 1;
    return (cpu->hflags & X86_HF_CS64) ? l : (uint32_t)l;
}

/* Translate the fetch of a straddling instruction's tail. */
static int xlate_next(X86CPU *cpu, uint64_t lin2, uint64_t *pa2, int *err)
{
    if ((cpu->hflags & X86_HF_CS64) && !x86_canonical(lin2)) {
        *err = 0;
        return X86_EXC_GP;
    }
    return x86_fetch_xlate(cpu, lin2, pa2, err);
}

/* Decode a block at rip (linear lin, physical pa).  Returns NULL if its
 * first instruction cannot be fetched; the fault has then been delivered
 * (or e->fatal set). */
static XBlock *translate(X86CPU *cpu, uint64_t rip, uint64_t lin, uint64_t pa)
{
    Engine *e = engine(cpu);
    const size_t max = sizeof(XBlock) + (X86_MAX_BLOCK + 1) * sizeof(XInsn);
    if (e->used + max > ARENA_SIZE)
        x86_code_flush(cpu);
    const uint32_t hf = cpu->hflags;
    const bool m64 = (hf & X86_HF_CS64) != 0;
    const uint64_t lim = cs_limit(cpu);
    XBlock *b = (XBlock *)(e->arena + e->used);
    b->lin = lin;
    b->rip = rip;
    b->pa = pa;
    b->pa2 = ~0ull;
    b->cs_limit = lim;
    b->hf = hf & X86_HF_DECODE;
    b->dead = false;
    b->hits = 0;
    b->fn0 = NULL;
    b->jit_body = NULL;
    /* A debugger breakpoint gets a block of its own instruction: the run
     * loop checks breakpoints only where blocks start (debug_stop). */
    b->bp = cpu->dbg && debug_bp_at(cpu->dbg, lin);

    const uint64_t page_pa = pa & ~0xfffull;
    uint64_t r = rip, off = pa & 0xfff;
    unsigned n = 0;
    for (;;) {
        XInsn *in = &b->insns[n];
        unsigned avail, len;
        bool straddle = false;
        if (n > 0 && unlikely(cpu->dbg != NULL) &&
            debug_bp_at(cpu->dbg, m64 ? r : (uint32_t)(cpu->seg[X86_CS].base + r)))
            break;
        const uint8_t *p = host_span(cpu, page_pa | off, (unsigned)(0x1000 - off), &avail);
        if (!p) {
            if (n == 0) {
                not_ram(cpu, lin, pa);
                return NULL;
            }
            break;
        }
        len = x86_decode(in, p, avail < 15 ? avail : 15, r, hf);
        if (len == 0 && !m64 && r + avail > lim) {
            /* The bytes it still needs lie beyond the CS limit. */
            make_gp(in, r, avail);
            len = avail;
        } else if (len == 0) {
            if (off + avail < 0x1000) {
                /* The RAM region ends inside the page. */
                if (n == 0) {
                    not_ram(cpu, lin, page_pa | (off + avail));
                    return NULL;
                }
                break;
            }
            /* The rest is on the next page: fetch it through its own
             * translation; a fault there is reported at its address. */
            uint64_t lin2 = next_page(cpu, lin), pa2 = 0, cr2 = cpu->cr2;
            int err = 0;
            int vec = xlate_next(cpu, lin2, &pa2, &err);
            unsigned avail2 = 0;
            const uint8_t *q = vec ? NULL : host_span(cpu, pa2, 15 - avail, &avail2);
            uint8_t buf[15];
            if (q) {
                memcpy(buf, p, avail);
                memcpy(buf + avail, q, avail2);
                len = x86_decode(in, buf, avail + avail2, r, hf);
            }
            if (!len) {
                if (n == 0) {
                    if (vec)
                        fetch_fault(cpu, r, vec, err);
                    else
                        not_ram(cpu, lin2, pa2);
                    return NULL;
                }
                /* Not taken now: the block ends before it, and it faults
                 * when it is reached, as the first of its block. */
                cpu->cr2 = cr2;
                break;
            }
            b->pa2 = pa2 & ~0xfffull;
            straddle = true;
        }
        if (!m64 && r + len - 1 > lim)
            make_gp(in, r, len);
        n++;
        r += len;
        if (!m64)
            r = (uint32_t)r;
        off += len;
        if ((in->dflags & X86_D_END) || straddle || off >= 0x1000 || n == X86_MAX_BLOCK ||
            b->bp)
            break;
    }
    b->n = n;
    for (unsigned i = 0; i < n; i++)
        b->insns[i].rem = (uint8_t)(n - 1 - i);
    x86_fuse(b->insns, n);
    XInsn *end = &b->insns[n];
    memset(end, 0, sizeof(*end));
    end->fn = x86_block_end;
    end->pc = r;
    end->base = end->index = X86_NONE;
    e->used += sizeof(XBlock) + (n + 1) * sizeof(XInsn);
    block_register(cpu, b, off > 0x1000 ? 0x1000 : off);
    return b;
}

/* The block at cpu->rip, translating it if needed; NULL when the fetch
 * faulted (the fault has been delivered) or failed (e->fatal).  Out of
 * line: the run loop keeps its registers. */
static __attribute__((noinline)) XBlock *lookup_slow(X86CPU *cpu)
{
    Engine *e = engine(cpu);
    const uint32_t hf = cpu->hflags;
    const uint64_t rip = cpu->rip, lim = cs_limit(cpu);
    if (hf & X86_HF_CS64) {
        if (!x86_canonical(rip)) {
            fetch_fault(cpu, rip, X86_EXC_GP, 0);
            return NULL;
        }
    } else if (rip > lim) {
        fetch_fault(cpu, rip, X86_EXC_GP, 0);
        return NULL;
    }
    const uint64_t lin = fetch_lin(cpu, rip);
    const bool user = (hf & X86_HF_CPL) == 3;
    const X86TlbEntry *t = x86_tlb_entry(cpu, user, X86_ACC_EXEC, lin);
    uint64_t pa;
    if (t->tag == (lin & ~0xfffull)) {
        pa = t->pa_page | (lin & 0xfff);
    } else {
        int err = 0;
        int vec = x86_fetch_xlate(cpu, lin, &pa, &err);
        if (vec) {
            fetch_fault(cpu, rip, vec, err);
            return NULL;
        }
    }
    XBlock *b;
    for (b = e->hash[hash_index(lin, pa)]; b; b = b->hnext) {
        if (b->lin != lin || b->pa != pa || b->rip != rip ||
            b->hf != (hf & X86_HF_DECODE) || b->cs_limit != lim)
            continue;
        if (b->pa2 == ~0ull)
            break;
        /* A straddling tail depends on the next page's mapping too.  A
         * fault found here is not taken (the block is just decoded
         * again), so CR2 must not change. */
        uint64_t pa2 = 0, cr2 = cpu->cr2;
        int err = 0;
        if (!xlate_next(cpu, next_page(cpu, lin), &pa2, &err) &&
            (pa2 & ~0xfffull) == b->pa2)
            return b;
        cpu->cr2 = cr2;
        block_unlink(e, b);
        b = NULL;
        break;
    }
    if (!b) {
        b = translate(cpu, rip, lin, pa);
        if (!b || b->pa2 != ~0ull)
            return b;
    }
    /* Chaining (x86_jump_chain) finds blocks only in the jump cache:
     * leaving a breakpoint's block out of it sends every entry through
     * the run loop. */
    if (!b->bp)
        e->cc.jc[jc_index(lin)] = b;
    return b;
}

static inline XBlock *lookup(X86CPU *cpu, Engine *e)
{
    const uint32_t hf = cpu->hflags;
    const uint64_t rip = cpu->rip;
    const uint64_t lin = fetch_lin(cpu, rip);
    const X86TlbEntry *t = x86_tlb_entry(cpu, (hf & X86_HF_CPL) == 3, X86_ACC_EXEC, lin);
    XBlock *b = e->cc.jc[jc_index(lin)];
    if (likely(t->tag == (lin & ~0xfffull) && b->lin == lin && b->rip == rip &&
               b->pa == (t->pa_page | (lin & 0xfff)) &&
               b->hf == (hf & X86_HF_DECODE) && b->cs_limit == cs_limit(cpu)))
        return b;
    return lookup_slow(cpu);
}

/* ---- the code generator ---- */

/* One more entry of block b; true at the one that makes it hot. */
static inline bool jit_count(Engine *e, XBlock *b)
{
    return b->hits < e->jit_hot && ++b->hits == e->jit_hot;
}

/* Compile a hot block (jit.h): only 64-bit code, or 32-bit code with flat
 * ES/SS/DS (X86_HF_FLAT32), without a page-straddling
 * tail, and not while a debugger steps or watches memory (those need the
 * run loop at every block and every access through the TLB).  Breakpoints
 * alone do not stop it: a breakpoint's block is never compiled and never
 * in the jump cache, so compiled code reaches it only through the run
 * loop (a KVM replay's interpreted landing runs this way).  The handlers the
 * generator calls are the decoder's own, before x86_fuse: decode the
 * block's bytes once more (they are unchanged, or the block would be
 * dead). */
static __attribute__((noinline)) void jit_block(X86CPU *cpu, Engine *e, XBlock *b)
{
    if (!(b->hf & (X86_HF_CS64 | X86_HF_FLAT32)) || b->pa2 != ~0ull || b->bp || b->dead ||
        (cpu->dbg && (cpu->dbg->nwp || cpu->dbg_step)))
        return;
    if (x86_jit_full(e->jit)) {
        x86_code_flush(cpu);    /* the block is gone with the rest */
        return;
    }
    XInsn plain[X86_MAX_BLOCK];
    uint64_t pa = b->pa;
    for (unsigned i = 0; i < b->n; i++) {
        unsigned avail;
        const uint8_t *p = host_span(cpu, pa, (unsigned)(0x1000 - (pa & 0xfff)), &avail);
        if (!p || x86_decode(&plain[i], p, avail < 15 ? avail : 15, b->insns[i].pc, b->hf) !=
                      b->insns[i].len)
            return;
        plain[i].rem = b->insns[i].rem;
        pa += b->insns[i].len;
    }
    void *body = NULL;
    XHandler *fn = x86_jit_compile(e->jit, cpu, b, plain, &body);
    if (fn) {
        b->fn0 = b->insns[0].fn;
        b->insns[0].fn = fn;
        b->jit_body = body;
    }
}

void *x86_jit_next(X86CPU *cpu, const XInsn *in, uint64_t target, XBlock **slot)
{
    Engine *e = engine(cpu);
    X86ChainCache *cc = &e->cc;
    const uint64_t icount = cpu->icount - in->rem;
    XBlock *b = (XBlock *)x86_chain_block(cpu, target, icount, true);
    if (!b)
        return NULL;
    /* Hot only through chains: compile it here, unless that needs a flush
     * (which would reuse the code running now). */
    if (!b->jit_body && jit_count(e, b) && !x86_jit_full(e->jit))
        jit_block(cpu, e, b);
    if (!b->jit_body)
        return NULL;
    cpu->icount = icount + b->n;
    cc->run_block = b;
    cc->run = b->insns;
    cc->run_n = b->n;
    if (slot && (target >> 12) == (in->pc >> 12))
        *slot = b;
    return b->jit_body;
}

/* ---- run loop ---- */

static inline void run_insns(Engine *e, X86CPU *cpu, const XBlock *b, XInsn *insns,
                             unsigned n)
{
    e->cc.run_block = b;
    e->cc.run = insns;
    e->cc.run_n = n;
    const XInsn *i = insns;
    while ((i = i->fn(cpu, i)))
        ;
    if (unlikely(e->held != NULL)) {
        e->held->fn = e->held_fn;
        e->held = NULL;
    }
    e->cc.run_block = NULL;
    e->cc.run_n = 0;
}

/* Run only the first `left` (< b->n) instructions: handlers chain to their
 * successor, so run a copy that stops there.  A fault inside fixes icount
 * by itself (x86_raise uses the copied rem). */
static __attribute__((noinline)) void run_partial(X86CPU *cpu, Engine *e, const XBlock *b,
                                                  unsigned left)
{
    XInsn tmp[X86_MAX_BLOCK + 1];
    memcpy(tmp, b->insns, left * sizeof(XInsn));
    if (b->fn0)
        tmp[0].fn = b->fn0;
    tmp[left] = b->insns[left];
    tmp[left].fn = stop_here;
    run_insns(e, cpu, b, tmp, left);
}

static bool is_soft_int(const XInsn *in)
{
    return in->op == X86_OP(X86_MAP_1B, 0xcc) || in->op == X86_OP(X86_MAP_1B, 0xcd) ||
           in->op == X86_OP(X86_MAP_1B, 0xce) || in->op == X86_OP(X86_MAP_1B, 0xf1);
}

/* One instruction alone: the interrupt shadow of MOV SS / STI, EFLAGS.RF
 * (cleared when an instruction completes) and single-step (EFLAGS.TF).
 *
 * Single-step traps after an instruction that began with TF set (SDM vol.
 * 3, 17.3.1.4): so POPF setting TF traps after the next instruction, and
 * POPF/IRET clearing it still trap.  No trap when the instruction faulted
 * or vectored through INT n / INT3 / INTO / INT1 (the delivery cleared TF).
 * REP string instructions trap only when they complete here (exec_str.c
 * decides how many iterations one step runs). */
static __attribute__((noinline)) void run_step(X86CPU *cpu, Engine *e, XBlock *b)
{
    const bool tf = (cpu->eflags & X86_TF) != 0;
    cpu->inhibit_irq = false;
    cpu->eflags &= ~(uint64_t)X86_RF;
    const uint64_t before = cpu->icount;
    cpu->icount += b->n;
    if (b->n == 1)
        run_insns(e, cpu, b, b->insns, 1);
    else
        run_partial(cpu, e, b, 1);
    if (tf && cpu->icount == before + 1 && !cpu->halted &&
        (!is_soft_int(&b->insns[0]) || (cpu->eflags & X86_TF))) {
        cpu->dr[6] |= 1u << 14;     /* BS */
        x86_deliver(cpu, X86_EXC_DB, X86_NO_ERR, false);
    }
}

/* A debugger is attached (cpu->dbg): stop before the instruction at RIP
 * if a breakpoint is at its linear address, unless run() resumed from
 * exactly there. */
static __attribute__((noinline)) bool debug_stop(X86CPU *cpu)
{
    CpuDebug *d = cpu->dbg;
    uint64_t lin = fetch_lin(cpu, cpu->rip);
    if (!debug_bp_at(d, lin) || (cpu->icount == d->resume_icount && cpu->rip == d->resume_pc))
        return false;
    d->hit = DEBUG_HIT_BREAK;
    d->hit_addr = lin;
    return true;
}

static CpuExit run_loop(X86CPU *cpu, uint64_t max)
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
        /* A guest caught in a fault loop (a bad IDT) retires nothing: give
         * the main loop its turn now and then so the monitor and timers
         * still run.  Nothing retired, so nothing is skipped. */
        if (unlikely(left == last_left)) {
            if (++stalled >= STALL_LIMIT)
                return CPU_EXIT_BUDGET;
        } else {
            last_left = left;
            stalled = 0;
        }
        if (unlikely(m->exit_request))
            return CPU_EXIT_REQUEST;
        /* IF is never lazy: reading eflags directly is exact.  The STI /
         * MOV SS shadow holds off INTR; NMIs are left to excp.c, which
         * takes them in the shadow as QEMU does. */
        if (unlikely(cpu->nmi_pending ||
                     (cpu->intr && (cpu->eflags & X86_IF) && !cpu->inhibit_irq))) {
            if (x86_check_interrupts(cpu))
                cpu->halted = false;
        }
        if (unlikely(cpu->halted))
            return CPU_EXIT_IDLE;
        if (unlikely(cpu->dbg != NULL) && debug_stop(cpu))
            return CPU_EXIT_DEBUG;
        XBlock *b = lookup(cpu, e);
        if (unlikely(!b)) {
            if (unlikely(e->fatal)) {
                e->fatal = false;
                return CPU_EXIT_ERROR;
            }
            continue;
        }
        if (unlikely(cpu->inhibit_irq || (cpu->eflags & (X86_TF | X86_RF)))) {
            cpu->chain_end = cpu->loop_end = 0;
            run_step(cpu, e, b);
            continue;
        }
        /* Chained blocks stay within the budget (x86_jump_chain). */
        cpu->chain_end = cpu->icount + (left < CHAIN_MAX ? left : CHAIN_MAX);
        cpu->loop_end = end;
        cpu->icount += b->n;
        if (likely(b->n <= left)) {
            if (unlikely(b->hits < e->jit_hot) && e->jit && jit_count(e, b))
                jit_block(cpu, e, b);
            run_insns(e, cpu, b, b->insns, b->n);
        }
        else
            run_partial(cpu, e, b, (unsigned)left);
    }
}

static CpuExit x86_run(void *opaque, uint64_t max)
{
    X86CPU *cpu = opaque;
    CpuExit ex = run_loop(cpu, max);
    /* Handlers run outside the loop (tests, debuggers) must not chain. */
    cpu->chain_end = cpu->loop_end = 0;
    return ex;
}

/* ---- life cycle ---- */

static void tlb_clear(X86CPU *cpu)
{
    for (int u = 0; u < 2; u++)
        for (int a = 0; a < 3; a++)
            for (unsigned i = 0; i < X86_TLB_SIZE; i++)
                cpu->tlb[u][a][i].tag = ~0ull;
}

X86CPU *x86_cpu_create(Machine *m, int variant)
{
    X86CPU *cpu = g_new0(X86CPU, 1);
    Engine *e = g_new0(Engine, 1);
    e->arena = g_malloc(ARENA_SIZE);
    const Options *o = m ? m->opts : NULL;
    e->jit_hot = o && o->jit_threshold ? o->jit_threshold : JIT_HOT;
    if (x86_jit_supported() && !(o && o->jit_off)) {
        e->jit = x86_jit_new();
        if (!e->jit)
            fprintf(stderr, "tandem: x86 code generator off: no executable memory "
                    "(mmap PROT_EXEC refused); running on the interpreter\n");
    }
    for (unsigned i = 0; i < (1u << X86_JC_BITS); i++)
        e->cc.jc[i] = &no_block;
    cpu->bcache = e;
    cpu->m = m;
    cpu->as = &m->as;
    cpu->io = &m->io;
    cpu->variant = variant;
    tlb_clear(cpu);
    m->as.code_write = as_code_write;
    m->as.code_write_opaque = cpu;
    x86_cpu_reset(cpu);
    return cpu;
}

void x86_cpu_free(X86CPU *cpu)
{
    if (!cpu)
        return;
    Engine *e = cpu->bcache;
    if (cpu->as && cpu->as->code_write_opaque == cpu) {
        cpu->as->code_write = NULL;
        cpu->as->code_write_opaque = NULL;
    }
    x86_code_flush(cpu);
    while (e->cp_free) {
        CodePage *c = e->cp_free;
        e->cp_free = c->next;
        g_free(c);
    }
    g_free(e->arena);
    x86_jit_free(e->jit);
    g_free(e);
    g_free(cpu);
}

static void seg_reset(X86Seg *s, uint16_t sel, uint64_t base, uint8_t type, uint8_t sflag)
{
    memset(s, 0, sizeof(*s));
    s->selector = sel;
    s->base = base;
    s->limit = 0xffff;
    s->type = type;
    s->s = sflag;
    s->present = 1;
}

/* SDM vol. 3, 10.1.1 (table "IA-32 and Intel 64 Processor States
 * Following Power-up, Reset, or INIT"). */
void x86_cpu_reset(X86CPU *cpu)
{
    memset(cpu->regs, 0, sizeof(cpu->regs));
    cpu->rip = 0xfff0;
    cpu->cc_op = X86_CC_EFLAGS;
    cpu->cc_dst = cpu->cc_src = cpu->cc_src2 = 0;
    cpu->eflags = 0x2;
    for (int i = 0; i < X86_NSEG; i++)
        seg_reset(&cpu->seg[i], 0, 0, 0x3, 1);          /* data, RW, accessed */
    seg_reset(&cpu->seg[X86_CS], 0xf000, 0xffff0000, 0xb, 1);  /* code, RX, accessed */
    seg_reset(&cpu->ldt, 0, 0, 0x2, 0);                 /* LDT */
    seg_reset(&cpu->tr, 0, 0, 0xb, 0);                  /* busy 32-bit TSS */
    memset(&cpu->gdt, 0, sizeof(cpu->gdt));
    memset(&cpu->idt, 0, sizeof(cpu->idt));
    cpu->gdt.limit = cpu->idt.limit = 0xffff;
    cpu->cr0 = 0x60000010;
    cpu->cr2 = cpu->cr3 = cpu->cr4 = cpu->cr8 = 0;
    cpu->efer = 0;
    memset(cpu->dr, 0, sizeof(cpu->dr));
    cpu->dr[6] = 0xffff0ff0;
    cpu->dr[7] = 0x400;

    cpu->apic_base = 0xfee00900;                        /* enabled, BSP */
    cpu->star = cpu->lstar = cpu->cstar = cpu->fmask = 0;
    cpu->kernel_gs_base = cpu->tsc_aux = 0;
    cpu->sysenter_cs = cpu->sysenter_esp = cpu->sysenter_eip = 0;
    cpu->pat = 0x0007040600070406ull;
    cpu->misc_enable = 1;                               /* fast strings */
    cpu->mtrr_def_type = 0;
    memset(cpu->mtrr_fixed, 0, sizeof(cpu->mtrr_fixed));
    memset(cpu->mtrr_var, 0, sizeof(cpu->mtrr_var));
    cpu->tsc_offset = 0;

    /* x87 at power-up: FCW 0040H, tag word 5555H (every register tagged
     * zero: all valid in the abridged form), registers +0.0. */
    memset(&cpu->fpu, 0, sizeof(cpu->fpu));
    cpu->fpu.fcw = 0x0040;
    cpu->fpu.ftw = 0xff;
    cpu->fpu.mxcsr = 0x1f80;
    cpu->fpu.xcr0 = 1;

    cpu->halted = false;
    cpu->inhibit_irq = false;
    cpu->nmi_pending = false;
    cpu->nmi_blocked = false;
    cpu->exc_depth = 0;
    cpu->exc_first = -1;
    cpu->pending_vec = -1;
    cpu->pending_err = -1;

    x86_update_hflags(cpu);
    uint32_t id[4];
    x86_cpuid(cpu, 1, 0, id);
    cpu->regs[X86_RDX] = id[0];
    x86_tlb_flush(cpu, false);
    x86_code_flush(cpu);
}

void x86_cpu_set_intr(X86CPU *cpu, int level)
{
    cpu->intr = level;
}

void x86_cpu_nmi(X86CPU *cpu)
{
    cpu->nmi_pending = true;
}

static void ops_reset(void *opaque)
{
    x86_cpu_reset(opaque);
}

static uint64_t ops_brcount(void *opaque)
{
    return ((X86CPU *)opaque)->brcount;
}

/* RIP and the 16 GPRs. */
static uint64_t ops_digest(void *opaque)
{
    const X86CPU *cpu = opaque;
    return tn_reg_digest(cpu->rip, cpu->regs, 16);
}

static void ops_destroy(void *opaque)
{
    x86_cpu_free(opaque);
}

const CpuOps x86_cpu_ops = {
    .name = "x86",
    .run = x86_run,
    .reset = ops_reset,
    .dump = x86_dump,
    .brcount = ops_brcount,
    .digest = ops_digest,
    .regs = x86_regs,
    .reg_names = x86_reg_names,
    .set_reg = x86_set_reg,
    .state_hash = x86_state_hash,
    .dump_state = x86_dump_state,
    .save = x86_save,
    .load = x86_load,
    .destroy = ops_destroy,
    .debug = &x86_debug_ops,
};
