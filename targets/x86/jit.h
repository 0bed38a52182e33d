/* The x86 code generator: hot predecoded blocks of 64-bit code compiled
 * to x86-64 host code (jit.c).  Internal to targets/x86/.
 *
 * A compiled block is entered exactly as its predecoded form is, through
 * insns[0].fn (engine.c replaces that handler and keeps the original in
 * XBlock.fn0), and keeps every part of the handler contract (insn.h):
 * icount pre-added for the whole block, faults through the handlers'
 * x86_raise, chaining through x86_jump_chain, stops by a store into the
 * running block (X86ChainCache.stopped).  Instructions the generator
 * does not know, and every memory access that misses the software TLB,
 * run through the instruction's own handler.  docs/x86-jit.md. */
#ifndef TANDEM_X86_JIT_H
#define TANDEM_X86_JIT_H

#include "targets/x86/block.h"

/* Whether this host can run generated code at all (x86-64 hosts). */
bool x86_jit_supported(void);

/* Compile block b.  plain[0..b->n) are its instructions as decoded,
 * before the peephole pass (x86_fuse) gave some of them fused handlers.
 * Returns the entry point, or NULL when the block is not worth it or
 * the code buffer is full (x86_jit_full() then says so). */
XHandler *x86_jit_compile(void *jit, X86CPU *cpu, const XBlock *b, const XInsn *plain,
                          void **body);

/* For compiled code leaving through near branch `in` (64-bit mode) for
 * target: when x86_jump_chain would enter target's block and that block
 * is compiled (or becomes so now, being hot), do what x86_jump_chain
 * does before entering and return the block's body entry (the code after
 * its prologue: compiled blocks share one frame).  Else change nothing
 * and return NULL.  When the target block is in the page of `in`, *slot
 * (unless slot is NULL: a target that is data, RET's)

 * gets it (the exit's cache, checked by the code: jit.c chain_exit).
 * engine.c. */
void *x86_jit_next(X86CPU *cpu, const XInsn *in, uint64_t target, XBlock **slot);

/* The code buffer cannot take another block: the engine flushes all
 * blocks (x86_code_flush), which calls x86_jit_reset. */
bool x86_jit_full(void *jit);

void *x86_jit_new(void);
void x86_jit_free(void *jit);
void x86_jit_reset(void *jit);


#endif
