/* Inline fast paths of guest memory accesses (mem.c has the slow paths
 * and the extern API declared in insn.h).  Hot handlers (stack, string
 * instructions) may call x86_ld_inline / x86_st_inline directly; the
 * specialised handlers (exec_fast.c) call x86_ld_flat / x86_st_flat. */
#ifndef TANDEM_X86_MEM_H
#define TANDEM_X86_MEM_H

#include <string.h>

#include "targets/x86/insn.h"

/* x86_translate()'s *pte_flags: the combined rights of the walk, plus what
 * the TLB needs to know about the final entry. */
#define X86_PTEF_W      (1ull << 1)    /* writable at every level */
#define X86_PTEF_U      (1ull << 2)    /* user at every level */
#define X86_PTEF_D      (1ull << 6)    /* final entry dirty */
#define X86_PTEF_PS     (1ull << 7)    /* a large page; size below */
#define X86_PTEF_G      (1ull << 8)    /* final entry global */
#define X86_PTEF_SHIFT(f) ((unsigned)((f) >> 52) & 63)  /* log2 page size */
#define X86_PTEF_NX     (1ull << 63)   /* no-execute at some level */

static inline bool x86_canonical(uint64_t lin)
{
    return (uint64_t)((int64_t)(lin << 16) >> 16) == lin;
}

static inline X86TlbEntry *x86_tlb_entry(X86CPU *cpu, bool user, X86Access acc,
                                         uint64_t lin)
{
    return &cpu->tlb[user][acc][(lin >> 12) & (X86_TLB_SIZE - 1)];
}

/* Alignment checking applies (CR0.AM, EFLAGS.AC, CPL 3). */
static inline bool x86_ac_on(const X86CPU *cpu)
{
    return (cpu->cr0 & X86_CR0_AM) && (cpu->eflags & X86_AC) && x86_cpl(cpu) == 3;
}

/* Slow paths (mem.c). */
bool x86_seg_fault(X86CPU *cpu, const XInsn *in, int seg);
bool x86_ld_slow(X86CPU *cpu, const XInsn *in, uint64_t lin, unsigned size,
                 bool user, uint64_t *val);
bool x86_st_slow(X86CPU *cpu, const XInsn *in, uint64_t lin, unsigned size,
                 bool user, uint64_t val);

/* Segmentation checks without side effects: may [off, off+size) of seg
 * be accessed this way?  off is already truncated to the address size;
 * size may be any length (buffers, string runs). */
static inline bool x86_seg_ok(const X86CPU *cpu, int seg, uint64_t off, uint64_t size,
                              X86Access acc)
{
    const X86Seg *s = &cpu->seg[seg];
    uint32_t hf = cpu->hflags;
    if (hf & X86_HF_CS64) {
        /* No limit or type checks; only FS and GS have a base. */
        uint64_t a = off + (seg >= X86_FS ? s->base : 0);
        return x86_canonical(a) && x86_canonical(a + size - 1);
    }
    uint64_t last = off + size - 1;
    if ((hf & (X86_HF_PE | X86_HF_VM)) == X86_HF_PE) {
        unsigned t = s->type;
        if (unlikely(s->unusable))
            return false;
        /* Writes need a writable data segment, reads a data or readable
         * code segment. */
        if (acc == X86_ACC_WRITE ? (t & 0xa) != 0x2 : (t & 0xa) == 0x8)
            return false;
        if (unlikely((t & 0xc) == 0x4)) {
            /* Expand-down: valid offsets are limit+1 .. 0xffff / 0xffffffff. */
            uint64_t upper = s->db ? 0xffffffffull : 0xffffull;
            return off > s->limit && last <= upper;
        }
    }
    /* Real mode and virtual-8086 mode check the cached limit too (a word
     * at offset 0xffff faults); QEMU TCG does not. */
    return last <= s->limit;
}

/* The linear address of seg:off, no checks. */
static inline uint64_t x86_seg_linear(const X86CPU *cpu, int seg, uint64_t off)
{
    if (cpu->hflags & X86_HF_CS64)
        return off + (seg >= X86_FS ? cpu->seg[seg].base : 0);
    return (uint32_t)(cpu->seg[seg].base + off);
}

/* Segmentation: the linear address of [off, off+size) in segment seg, or
 * false after raising #GP(0) / #SS(0) (SS-relative). */
static inline bool x86_seg_lin(X86CPU *cpu, const XInsn *in, int seg, uint64_t off,
                               uint64_t size, X86Access acc, uint64_t *lin)
{
    if (unlikely(!x86_seg_ok(cpu, seg, off, size, acc))) {
        x86_seg_fault(cpu, in, seg);
        return false;
    }
    *lin = x86_seg_linear(cpu, seg, off);
    return true;
}

static inline bool x86_ld_inline(X86CPU *cpu, const XInsn *in, int seg, uint64_t off,
                                 unsigned size, uint64_t *val)
{
    uint64_t lin;
    if (!x86_seg_lin(cpu, in, seg, off, size, X86_ACC_READ, &lin))
        return false;
    bool user = x86_cpl(cpu) == 3;
    const X86TlbEntry *t = x86_tlb_entry(cpu, user, X86_ACC_READ, lin);
    if (likely(t->tag == (lin & ~0xfffull) && !(lin & (size - 1)))) {
        *val = mem_load_le((const uint8_t *)(uintptr_t)(lin + t->addend), size);
        return true;
    }
    return x86_ld_slow(cpu, in, lin, size, user, val);
}

static inline bool x86_st_inline(X86CPU *cpu, const XInsn *in, int seg, uint64_t off,
                                 unsigned size, uint64_t val)
{
    uint64_t lin;
    if (!x86_seg_lin(cpu, in, seg, off, size, X86_ACC_WRITE, &lin))
        return false;
    bool user = x86_cpl(cpu) == 3;
    const X86TlbEntry *t = x86_tlb_entry(cpu, user, X86_ACC_WRITE, lin);
    if (likely(t->tag == (lin & ~0xfffull) && !(lin & (size - 1)))) {
        mem_store_le((uint8_t *)(uintptr_t)(lin + t->addend), size, val);
        return true;
    }
    return x86_st_slow(cpu, in, lin, size, user, val);
}

/* 64-bit mode, a segment without a base (not FS/GS): the linear address is
 * the offset, and only a TLB hit on an aligned access is served inline.
 * The TLB caches canonical pages only (every fill follows the segment
 * checks), so a hit needs no canonical test; anything else, faults
 * included, goes through the out-of-line x86_ld / x86_st. */
static inline __attribute__((always_inline)) bool
x86_ld_flat(X86CPU *cpu, const XInsn *in, int seg, uint64_t lin, unsigned size,
            uint64_t *val)
{
    const X86TlbEntry *t = x86_tlb_entry(cpu, x86_cpl(cpu) == 3, X86_ACC_READ, lin);
    if (likely((((lin & ~0xfffull) ^ t->tag) | (lin & (size - 1))) == 0)) {
        *val = mem_load_le((const uint8_t *)(uintptr_t)(lin + t->addend), size);
        return true;
    }
    return x86_ld(cpu, in, seg, lin, size, val);
}

static inline __attribute__((always_inline)) bool
x86_st_flat(X86CPU *cpu, const XInsn *in, int seg, uint64_t lin, unsigned size,
            uint64_t val)
{
    const X86TlbEntry *t = x86_tlb_entry(cpu, x86_cpl(cpu) == 3, X86_ACC_WRITE, lin);
    if (likely((((lin & ~0xfffull) ^ t->tag) | (lin & (size - 1))) == 0)) {
        mem_store_le((uint8_t *)(uintptr_t)(lin + t->addend), size, val);
        return true;
    }
    return x86_st(cpu, in, seg, lin, size, val);
}

/* The bus outside RAM (devices, ROM, nothing): n bytes (1..8) at a as
 * naturally sized accesses, split low part first; a byte with nothing
 * behind it reads 0xFF; writes to ROM or nothing are dropped.  The
 * interpreter's and KVM's MMIO and port I/O (kvm/run.c) go through these. */
uint64_t x86_bus_read(AddressSpace *as, uint64_t a, unsigned n);
void x86_bus_write(AddressSpace *as, uint64_t a, unsigned n, uint64_t v);
/* How many device accesses x86_bus_read (x86_bus_write, if write) of n
 * bytes at a makes (0 where nothing answers but RAM or no one). */
unsigned x86_bus_accesses(AddressSpace *as, uint64_t a, unsigned n, bool write);

#endif
