/* Predecoded blocks and block chaining: the part of the block cache
 * (engine.c) that the near-branch handlers read to enter the next block
 * themselves, without returning to the run loop.  Internal to
 * targets/x86/. */
#ifndef TANDEM_X86_BLOCK_H
#define TANDEM_X86_BLOCK_H

#include "targets/x86/mem.h"

#define X86_MAX_BLOCK 64

typedef struct XBlock XBlock;
struct XBlock {
    uint64_t lin;           /* linear address of the first instruction */
    uint64_t rip;
    uint64_t pa;
    uint64_t pa2;           /* page of a straddling last insn's tail, or ~0 */
    uint64_t cs_limit;      /* the CS limit it was checked against */
    XBlock *hnext;          /* hash chain */
    XBlock *pnext[2];       /* code-page lists: [0] page of pa, [1] of pa2 */
    uint32_t n;             /* instructions (the end sentinel not counted) */
    uint32_t hf;            /* hflags & X86_HF_DECODE */
    bool dead;
    bool bp;                /* one instruction at a debugger breakpoint: never
                             * in the jump cache (engine.c) */
    uint16_t hits;          /* run-loop entries, up to the JIT's threshold */
    XHandler *fn0;          /* insns[0]'s handler when the JIT replaced it
                             * (jit.h), else NULL */
    void *jit_body;         /* its compiled body for chained entries */
    XInsn insns[];          /* n + 1 */
};

#define X86_JC_BITS 14

/* The engine's state starts with this, so cpu->bcache points to it.  The
 * jump cache holds only live blocks without a page-straddling tail, so
 * the fetch TLB and the block's key are all that decide a hit.  run_*
 * name the instructions running now, which a store into them turns into
 * stops (engine.c, stop_running). */
typedef struct X86ChainCache {
    XBlock *jc[1u << X86_JC_BITS];
    const XBlock *run_block;
    XInsn *run;
    unsigned run_n;
    /* Set when the running instructions became stops: compiled code
     * (jit.c) checks it after each handler it calls. */
    uint8_t stopped;
} X86ChainCache;

static inline unsigned x86_jc_index(uint64_t lin)
{
    return (unsigned)(lin ^ (lin >> X86_JC_BITS)) & ((1u << X86_JC_BITS) - 1);
}

/* The block the run loop would run now at RIP = target, if it is in the
 * jump cache (the same key checks as its lookup) and fits under
 * cpu->chain_end with icount, the count once `in`'s block is left, plus
 * its own length; and no interrupt it would take (IF is never lazy) or
 * exit request is waiting.  Else NULL.  Everything else the run loop
 * looks at before entering a block (the interrupt shadow, TF, RF, HLT,
 * the decode mode) changes only through instructions that end their
 * block without chaining.  m64: the caller runs in 64-bit mode (a
 * constant in the specialised handlers): RIP is the linear address and
 * there is no CS limit.  Changes nothing. */
static inline __attribute__((always_inline)) const XBlock *
x86_chain_block(const X86CPU *cpu, uint64_t target, uint64_t icount, bool m64)
{
    const X86ChainCache *cc = cpu->bcache;
    const uint32_t hf = cpu->hflags;
    const uint64_t lin = m64 ? target : (uint32_t)(cpu->seg[X86_CS].base + target);
    const XBlock *b = cc->jc[x86_jc_index(lin)];
    const X86TlbEntry *t =
        x86_tlb_entry((X86CPU *)cpu, (hf & X86_HF_CPL) == 3, X86_ACC_EXEC, lin);
    if (likely(b->rip == target && b->lin == lin && t->tag == (lin & ~0xfffull) &&
               b->pa == (t->pa_page | (lin & 0xfff)) &&
               b->hf == (hf & X86_HF_DECODE) &&
               (m64 || b->cs_limit == cpu->seg[X86_CS].limit) &&
               icount + b->n <= cpu->chain_end &&
               !((cpu->intr && (cpu->eflags & X86_IF)) | cpu->nmi_pending |
                 cpu->m->exit_request)))
        return b;
    return NULL;
}

/* Leave the block after `in` retired, at RIP = target, entering target's
 * block directly when x86_chain_block finds it.  Otherwise return to the
 * run loop like x86_jump. */
static inline __attribute__((always_inline)) const XInsn *
x86_jump_chain(X86CPU *cpu, const XInsn *in, uint64_t target, bool m64)
{
    X86ChainCache *cc = cpu->bcache;
    const uint64_t icount = cpu->icount - in->rem;
    const XBlock *b = x86_chain_block(cpu, target, icount, m64);
    if (likely(b != NULL)) {
        cpu->icount = icount + b->n;
        cc->run_block = b;
        cc->run = (XInsn *)b->insns;
        cc->run_n = b->n;
        return b->insns[0].fn(cpu, b->insns);
    }
    cpu->icount = icount;
    cpu->rip = target;
    return NULL;
}

#endif
