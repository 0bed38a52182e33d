/* Guest memory: the software TLB, segmentation checks (mem.h), the slow
 * paths of loads and stores (page walks, page-crossing accesses, MMIO),
 * buffer accesses and port I/O.
 *
 * The TLB caches linear -> host translations of whole 4 KiB RAM/ROM pages
 * per (user access, access kind).  Write entries exist only for pages that
 * are writable, dirty, not ROM and not code pages, so every store that
 * needs the hardware's attention (D bit, ROM, self-modifying code) takes
 * the slow path.  Over-flushing is always allowed (the hardware may drop
 * TLB entries whenever it likes); failing to flush is not.  Flag changes
 * that alter translations without a CR3 write (CR0.WP/PG, CR4.PGE/PAE/PSE,
 * EFER.NXE) must be followed by x86_tlb_flush(cpu, false) (sys.c).
 *
 * Physical memory outside RAM/ROM is the PC bus: MMIO devices get one
 * access per naturally sized piece (an access a device refuses is split
 * in halves, down to bytes), unmapped addresses read all ones and ignore
 * writes, writes to ROM are dropped.  Devices see the exact instruction
 * count and RIP of the accessing instruction. */
#include "targets/x86/mem.h"

static bool fault(X86CPU *cpu, const XInsn *in, int vec, int err)
{
    if (in)
        x86_raise(cpu, in, vec, err);
    else
        x86_pending_fault(cpu, vec, err);
    return false;
}

bool x86_seg_fault(X86CPU *cpu, const XInsn *in, int seg)
{
    return fault(cpu, in, seg == X86_SS ? X86_EXC_SS : X86_EXC_GP, 0);
}

/* A debugger's watchpoint covers an instruction's access (debug.c stops
 * before it).  Watched pages get no read or write TLB entries (tlb_fill),
 * so every access to them comes through the slow paths here: a TLB hit
 * never needs the check.  Accesses without an instruction (exception
 * delivery) are not watched. */
#define WATCH(cpu, in, lin, size, kind) \
    (unlikely((cpu)->dbg != NULL) && (in) && x86_watch_stop(cpu, in, lin, size, kind))

/* ---- software TLB ---- */

static inline bool slot_global(const X86TlbBook *b, int u, int a, unsigned i)
{
    return (b->global[u][a][i / 64] >> (i % 64)) & 1;
}

static void slot_clear(X86CPU *cpu, int u, int a, unsigned i)
{
    cpu->tlb[u][a][i].tag = ~0ull;
    cpu->tlb_book.global[u][a][i / 64] &= ~(1ull << (i % 64));
}

void x86_tlb_flush(X86CPU *cpu, bool keep_global)
{
    X86TlbBook *b = &cpu->tlb_book;
    if (!keep_global) {
        for (int u = 0; u < 2; u++)
            for (int a = 0; a < 3; a++)
                for (unsigned i = 0; i < X86_TLB_SIZE; i++)
                    cpu->tlb[u][a][i].tag = ~0ull;
        memset(b, 0, sizeof(*b));
        return;
    }
    for (int u = 0; u < 2; u++) {
        for (int a = 0; a < 3; a++) {
            unsigned n = b->nfill[u][a];
            if (n > X86_TLB_FILLS) {
                for (unsigned i = 0; i < X86_TLB_SIZE; i++)
                    if (!slot_global(b, u, a, i))
                        cpu->tlb[u][a][i].tag = ~0ull;
            } else {
                for (unsigned k = 0; k < n; k++) {
                    unsigned i = b->fills[u][a][k];
                    if (!slot_global(b, u, a, i))
                        cpu->tlb[u][a][i].tag = ~0ull;
                }
            }
            b->nfill[u][a] = 0;
        }
    }
    unsigned j = 0;
    for (unsigned k = 0; k < b->nlarge; k++)
        if (b->large[k] & 0x40)
            b->large[j++] = b->large[k];
    b->nlarge = (uint8_t)j;
    b->large_lost = b->large_lost_global;
}

/* Drop every slot caching a 4 KiB piece of [base, base + 2^shift). */
static void flush_region(X86CPU *cpu, uint64_t base, unsigned shift)
{
    uint64_t mask = ~((1ull << shift) - 1);
    for (int u = 0; u < 2; u++)
        for (int a = 0; a < 3; a++)
            for (unsigned i = 0; i < X86_TLB_SIZE; i++)
                if (cpu->tlb[u][a][i].tag != ~0ull &&
                    (cpu->tlb[u][a][i].tag & mask) == base)
                    slot_clear(cpu, u, a, i);
}

void x86_tlb_flush_page(X86CPU *cpu, uint64_t lin)
{
    X86TlbBook *b = &cpu->tlb_book;
    uint64_t tag = lin & ~0xfffull;
    unsigned i = (unsigned)(lin >> 12) & (X86_TLB_SIZE - 1);
    for (int u = 0; u < 2; u++)
        for (int a = 0; a < 3; a++)
            if (cpu->tlb[u][a][i].tag == tag)
                slot_clear(cpu, u, a, i);
    /* INVLPG of any address in a large page drops the whole page. */
    if (b->large_lost) {
        flush_region(cpu, lin & ~((1ull << 30) - 1), 30);
        return;
    }
    unsigned j = 0;
    for (unsigned k = 0; k < b->nlarge; k++) {
        unsigned shift = b->large[k] & 0x3f;
        uint64_t base = b->large[k] & ~0xfffull;
        if ((lin & ~((1ull << shift) - 1)) == base)
            flush_region(cpu, base, shift);
        else
            b->large[j++] = b->large[k];
    }
    b->nlarge = (uint8_t)j;
}

void x86_tlb_drop_writable(X86CPU *cpu, uint64_t pa_page)
{
    pa_page &= ~0xfffull;
    for (int u = 0; u < 2; u++)
        for (unsigned i = 0; i < X86_TLB_SIZE; i++) {
            X86TlbEntry *t = &cpu->tlb[u][X86_ACC_WRITE][i];
            if (t->tag != ~0ull && t->pa_page == pa_page)
                slot_clear(cpu, u, X86_ACC_WRITE, i);
        }
}

static void note_large(X86TlbBook *b, uint64_t lin, uint64_t flags, bool global)
{
    unsigned shift = X86_PTEF_SHIFT(flags);
    uint64_t key = (lin & ~((1ull << shift) - 1)) | shift;
    for (unsigned k = 0; k < b->nlarge; k++) {
        if ((b->large[k] & ~0x40ull) == key) {
            if (global)
                b->large[k] |= 0x40;
            return;
        }
    }
    if (b->nlarge < X86_TLB_LARGE) {
        b->large[b->nlarge++] = key | (global ? 0x40 : 0);
    } else {
        b->large_lost = true;
        b->large_lost_global |= global;
    }
}

static void tlb_fill(X86CPU *cpu, bool user, X86Access acc, uint64_t lin,
                     uint64_t pa, const MemRegion *r, uint64_t flags)
{
    uint64_t pa_page = pa & ~0xfffull, lin_page = lin & ~0xfffull;
    if (r->size < 0x1000 || pa_page < r->base || pa_page - r->base > r->size - 0x1000)
        return;
    if (acc == X86_ACC_WRITE &&
        (r->readonly || !(flags & X86_PTEF_W) || !(flags & X86_PTEF_D) ||
         x86_is_code_page(cpu, pa_page)))
        return;
    if (unlikely(cpu->dbg != NULL) && acc != X86_ACC_EXEC &&
        debug_watch_page(cpu->dbg, lin_page))
        return;
    X86TlbBook *b = &cpu->tlb_book;
    unsigned i = (unsigned)(lin >> 12) & (X86_TLB_SIZE - 1);
    X86TlbEntry *t = &cpu->tlb[user][acc][i];
    t->tag = lin_page;
    t->addend = (uintptr_t)(r->host + (pa_page - r->base)) - (uintptr_t)lin_page;
    t->pa_page = pa_page;
    bool global = (flags & X86_PTEF_G) && (cpu->cr4 & X86_CR4_PGE);
    if (global)
        b->global[user][acc][i / 64] |= 1ull << (i % 64);
    else
        b->global[user][acc][i / 64] &= ~(1ull << (i % 64));
    unsigned n = b->nfill[user][acc];
    if (n < X86_TLB_FILLS)
        b->fills[user][acc][n] = (uint8_t)i;
    if (n <= X86_TLB_FILLS)
        b->nfill[user][acc] = (uint16_t)(n + 1);
    if (flags & X86_PTEF_PS)
        note_large(b, lin, flags, global);
}

_Static_assert(X86_TLB_SIZE <= 256, "X86TlbBook.fills holds slot indexes in bytes");

/* Translate the page of lin for an access; fills the TLB where allowed. */
static bool xlate(X86CPU *cpu, const XInsn *in, uint64_t lin, X86Access acc,
                  bool user, uint64_t *pa)
{
    uint64_t flags;
    int err;
    int vec = x86_translate(cpu, lin, acc, user, pa, &flags, &err);
    if (vec)
        return fault(cpu, in, vec, err);
    MemRegion *r = as_find(cpu->as, *pa);
    if (r && r->host)
        tlb_fill(cpu, user, acc, lin, *pa, r, flags);
    return true;
}

int x86_fetch_xlate(X86CPU *cpu, uint64_t lin, uint64_t *pa, int *err)
{
    if ((cpu->hflags & X86_HF_LMA) && !x86_canonical(lin)) {
        *err = 0;
        return X86_EXC_GP;
    }
    bool user = x86_cpl(cpu) == 3;
    uint64_t flags;
    int vec = x86_translate(cpu, lin, X86_ACC_EXEC, user, pa, &flags, err);
    if (vec)
        return vec;
    MemRegion *r = as_find(cpu->as, *pa);
    if (r && r->host)
        tlb_fill(cpu, user, X86_ACC_EXEC, lin, *pa, r, flags);
    return 0;
}

/* ---- the physical side ---- */

static uint64_t pow2_below(unsigned n)
{
    unsigned p = 1;
    while (p * 2 < n)
        p *= 2;
    return p;
}

/* An access to the bus outside RAM: n bytes (1..8) at a, as naturally
 * sized device accesses. */
uint64_t x86_bus_read(AddressSpace *as, uint64_t a, unsigned n)
{
    if (!(n & (n - 1))) {
        uint64_t v;
        if (as_read(as, a, n, &v) == MEM_OK)
            return v & x86_size_mask(n);
        if (n == 1)
            return 0xff;
    }
    /* Low part first: device reads have side effects. */
    unsigned lo = (unsigned)pow2_below(n);
    uint64_t v = x86_bus_read(as, a, lo);
    return v | x86_bus_read(as, a + lo, n - lo) << (8 * lo);
}

void x86_bus_write(AddressSpace *as, uint64_t a, unsigned n, uint64_t v)
{
    if (!(n & (n - 1))) {
        MemResult r = as_write(as, a, n, v);
        if (r == MEM_OK || r == MEM_READONLY || n == 1)
            return;
    }
    unsigned lo = (unsigned)pow2_below(n);
    x86_bus_write(as, a, lo, v);
    x86_bus_write(as, a + lo, n - lo, v >> (8 * lo));
}

unsigned x86_bus_accesses(AddressSpace *as, uint64_t a, unsigned n, bool write)
{
    if (!(n & (n - 1))) {
        bool dev;
        MemResult r = as_probe(as, a, n, write, &dev);
        if (r == MEM_OK || (write && r == MEM_READONLY) || n == 1)
            return dev;
    }
    unsigned lo = (unsigned)pow2_below(n);
    return x86_bus_accesses(as, a, lo, write) + x86_bus_accesses(as, a + lo, n - lo, write);
}

/* Devices see the position of the accessing instruction. */
static uint64_t device_enter(X86CPU *cpu, const XInsn *in)
{
    uint64_t icount = cpu->icount;
    if (in) {
        cpu->icount = x86_icount_at(cpu, in);
        cpu->rip = in->pc;
    }
    return icount;
}

/* After a device access by an instruction: an interrupt it made
 * deliverable (an EOI with another one waiting, an unmasked line) is taken
 * right after the instruction, as after a port access (sys.c, io_next),
 * whatever the slicing (a single step, a replay from a snapshot) and as a
 * KVM replay takes it. */
static inline void device_leave(X86CPU *cpu, const XInsn *in, uint64_t icount)
{
    cpu->icount = icount;
    if (in && unlikely(cpu->nmi_pending || (cpu->intr && (cpu->eflags & X86_IF))) &&
        !cpu->m->mmio_irq_at_block_end)
        x86_end_block_after(cpu, in);
}

static uint8_t *ram_ptr(X86CPU *cpu, uint64_t pa, unsigned n, bool *rom)
{
    MemRegion *r = as_find(cpu->as, pa);
    if (!r || !r->host || r->size < n || pa - r->base > r->size - n)
        return NULL;
    *rom = r->readonly;
    return r->host + (pa - r->base);
}

/* n (1..8) bytes at pa, little-endian. */
static uint64_t phys_read(X86CPU *cpu, const XInsn *in, uint64_t pa, unsigned n)
{
    bool rom;
    uint8_t *p = ram_ptr(cpu, pa, n, &rom);
    uint64_t v = 0;
    if (p) {
        memcpy(&v, p, n);
        return v;
    }
    uint64_t icount = device_enter(cpu, in);
    v = x86_bus_read(cpu->as, pa, n);
    device_leave(cpu, in, icount);
    return v;
}

static void phys_write(X86CPU *cpu, const XInsn *in, uint64_t pa, unsigned n,
                       uint64_t v)
{
    bool rom;
    uint8_t *p = ram_ptr(cpu, pa, n, &rom);
    if (p) {
        if (!rom) {
            memcpy(p, &v, n);
            x86_code_written(cpu, pa, n);
        }
        return;
    }
    uint64_t icount = device_enter(cpu, in);
    x86_bus_write(cpu->as, pa, n, v);
    device_leave(cpu, in, icount);
}

/* ---- slow paths of loads and stores ---- */

/* The next page of a page-crossing access; wide: 64-bit linear addresses. */
static inline uint64_t next_page(uint64_t lin, bool wide)
{
    uint64_t a = (lin | 0xfff) + 1;
    return wide ? a : (uint32_t)a;
}

static bool lin_load(X86CPU *cpu, const XInsn *in, uint64_t lin, unsigned size,
                     bool user, bool wide, uint64_t *val)
{
    if (user && (lin & (size - 1)) && x86_ac_on(cpu))
        return fault(cpu, in, X86_EXC_AC, 0);
    unsigned off = (unsigned)(lin & 0xfff);
    if (off + size <= 0x1000) {
        const X86TlbEntry *t = x86_tlb_entry(cpu, user, X86_ACC_READ, lin);
        if (t->tag == (lin & ~0xfffull)) {
            *val = mem_load_le((const uint8_t *)(uintptr_t)(lin + t->addend), size);
            return true;
        }
        uint64_t pa;
        if (!xlate(cpu, in, lin, X86_ACC_READ, user, &pa) ||
            WATCH(cpu, in, lin, size, DEBUG_WATCH_READ))
            return false;
        *val = phys_read(cpu, in, pa, size);
        return true;
    }
    /* Both pages are translated before anything is read. */
    unsigned n1 = 0x1000 - off;
    uint64_t pa1, pa2;
    if (!xlate(cpu, in, lin, X86_ACC_READ, user, &pa1) ||
        !xlate(cpu, in, next_page(lin, wide), X86_ACC_READ, user, &pa2) ||
        WATCH(cpu, in, lin, size, DEBUG_WATCH_READ))
        return false;
    uint64_t lo = phys_read(cpu, in, pa1, n1);
    uint64_t hi = phys_read(cpu, in, pa2, size - n1);
    *val = lo | hi << (8 * n1);
    return true;
}

static bool lin_store(X86CPU *cpu, const XInsn *in, uint64_t lin, unsigned size,
                      bool user, bool wide, uint64_t val)
{
    if (user && (lin & (size - 1)) && x86_ac_on(cpu))
        return fault(cpu, in, X86_EXC_AC, 0);
    unsigned off = (unsigned)(lin & 0xfff);
    if (off + size <= 0x1000) {
        const X86TlbEntry *t = x86_tlb_entry(cpu, user, X86_ACC_WRITE, lin);
        if (t->tag == (lin & ~0xfffull)) {
            mem_store_le((uint8_t *)(uintptr_t)(lin + t->addend), size, val);
            return true;
        }
        uint64_t pa;
        if (!xlate(cpu, in, lin, X86_ACC_WRITE, user, &pa) ||
            WATCH(cpu, in, lin, size, DEBUG_WATCH_WRITE))
            return false;
        phys_write(cpu, in, pa, size, val);
        return true;
    }
    /* Both pages are checked before any byte is written. */
    unsigned n1 = 0x1000 - off;
    uint64_t pa1, pa2;
    if (!xlate(cpu, in, lin, X86_ACC_WRITE, user, &pa1) ||
        !xlate(cpu, in, next_page(lin, wide), X86_ACC_WRITE, user, &pa2) ||
        WATCH(cpu, in, lin, size, DEBUG_WATCH_WRITE))
        return false;
    phys_write(cpu, in, pa1, n1, val);
    phys_write(cpu, in, pa2, size - n1, val >> (8 * n1));
    return true;
}

bool x86_ld_slow(X86CPU *cpu, const XInsn *in, uint64_t lin, unsigned size,
                 bool user, uint64_t *val)
{
    return lin_load(cpu, in, lin, size, user, cpu->hflags & X86_HF_CS64, val);
}

bool x86_st_slow(X86CPU *cpu, const XInsn *in, uint64_t lin, unsigned size,
                 bool user, uint64_t val)
{
    return lin_store(cpu, in, lin, size, user, cpu->hflags & X86_HF_CS64, val);
}

bool x86_ld(X86CPU *cpu, const XInsn *in, int seg, uint64_t off, unsigned size,
            uint64_t *val)
{
    return x86_ld_inline(cpu, in, seg, off, size, val);
}

bool x86_st(X86CPU *cpu, const XInsn *in, int seg, uint64_t off, unsigned size,
            uint64_t val)
{
    return x86_st_inline(cpu, in, seg, off, size, val);
}

/* System-table accesses: linear, supervisor, never alignment-checked. */
static bool sys_lin(X86CPU *cpu, const XInsn *in, uint64_t *lin)
{
    if (!(cpu->hflags & X86_HF_LMA)) {
        *lin = (uint32_t)*lin;
        return true;
    }
    if (!x86_canonical(*lin))
        return fault(cpu, in, X86_EXC_GP, 0);
    return true;
}

bool x86_ld_lin(X86CPU *cpu, const XInsn *in, uint64_t lin, unsigned size,
                uint64_t *val)
{
    if (!sys_lin(cpu, in, &lin))
        return false;
    const X86TlbEntry *t = x86_tlb_entry(cpu, false, X86_ACC_READ, lin);
    if (likely(t->tag == (lin & ~0xfffull) && (lin & 0xfff) <= 0x1000 - size)) {
        *val = mem_load_le((const uint8_t *)(uintptr_t)(lin + t->addend), size);
        return true;
    }
    return lin_load(cpu, in, lin, size, false, cpu->hflags & X86_HF_LMA, val);
}

bool x86_st_lin(X86CPU *cpu, const XInsn *in, uint64_t lin, unsigned size,
                uint64_t val)
{
    if (!sys_lin(cpu, in, &lin))
        return false;
    const X86TlbEntry *t = x86_tlb_entry(cpu, false, X86_ACC_WRITE, lin);
    if (likely(t->tag == (lin & ~0xfffull) && (lin & 0xfff) <= 0x1000 - size)) {
        mem_store_le((uint8_t *)(uintptr_t)(lin + t->addend), size, val);
        return true;
    }
    return lin_store(cpu, in, lin, size, false, cpu->hflags & X86_HF_LMA, val);
}

/* ---- buffers ---- */

/* Pages translated up front: the all-or-nothing guarantee covers buffers
 * up to (RANGE_PAGES - 1) * 4 KiB; longer ones are moved in such chunks. */
#define RANGE_PAGES 8

/* The alignment #AC checks for a buffer access (SDM vol. 3 table 6-7):
 * 80-bit reals 8, 48-bit far pointers and descriptor-table images 4,
 * words/doublewords/quadwords their size.  Other lengths get none here:
 * 128-bit SSE data faults with #GP when it must be aligned (the SSE code
 * checks), FXSAVE/XSAVE areas likewise, and FSAVE/FSTENV images, aligned
 * to 2 or 4 by operand size, are left to their callers. */
static unsigned ac_align(unsigned len)
{
    switch (len) {
    case 2: case 4: case 8: return len;
    case 6: return 4;
    case 10: return 8;
    default: return 1;
    }
}

/* Segment and alignment checks of a buffer access; its linear address. */
static bool buf_lin(X86CPU *cpu, const XInsn *in, int seg, uint64_t off,
                    unsigned len, X86Access acc, bool ac, uint64_t *lin)
{
    if (!x86_seg_lin(cpu, in, seg, off, len, acc, lin))
        return false;
    if (ac && (*lin & (ac_align(len) - 1)) && x86_ac_on(cpu))
        return fault(cpu, in, X86_EXC_AC, 0);
    return true;
}

/* Translate [lin, lin+len) page by page into pa[]; returns the count. */
static unsigned range_xlate(X86CPU *cpu, const XInsn *in, uint64_t lin, unsigned len,
                            X86Access acc, bool user, bool wide, uint64_t *pa,
                            unsigned *n)
{
    unsigned k = 0;
    while (len) {
        unsigned m = 0x1000 - (unsigned)(lin & 0xfff);
        if (m > len)
            m = len;
        if (!xlate(cpu, in, lin, acc, user, &pa[k]))
            return 0;
        n[k++] = m;
        lin = wide ? lin + m : (uint32_t)(lin + m);
        len -= m;
    }
    return k;
}

static unsigned chunk_len(unsigned len)
{
    unsigned max = (RANGE_PAGES - 1) * 0x1000;
    return len < max ? len : max;
}

static void piece_read(X86CPU *cpu, const XInsn *in, uint64_t pa, uint8_t *dst,
                       unsigned n)
{
    bool rom;
    uint8_t *p = ram_ptr(cpu, pa, n, &rom);
    if (p) {
        memcpy(dst, p, n);
        return;
    }
    while (n) {
        unsigned m = 8 - (unsigned)(pa & 7);
        if (m > n)
            m = n;
        uint64_t v = phys_read(cpu, in, pa, m);
        memcpy(dst, &v, m);
        pa += m; dst += m; n -= m;
    }
}

static void piece_write(X86CPU *cpu, const XInsn *in, uint64_t pa,
                        const uint8_t *src, unsigned n)
{
    bool rom;
    uint8_t *p = ram_ptr(cpu, pa, n, &rom);
    if (p) {
        if (!rom) {
            memcpy(p, src, n);
            x86_code_written(cpu, pa, n);
        }
        return;
    }
    while (n) {
        unsigned m = 8 - (unsigned)(pa & 7);
        if (m > n)
            m = n;
        uint64_t v = 0;
        memcpy(&v, src, m);
        phys_write(cpu, in, pa, m, v);
        pa += m; src += m; n -= m;
    }
}

bool x86_ld_buf(X86CPU *cpu, const XInsn *in, int seg, uint64_t off, void *buf,
                unsigned len)
{
    uint64_t lin;
    if (len == 0)
        return true;
    if (!buf_lin(cpu, in, seg, off, len, X86_ACC_READ, true, &lin) ||
        WATCH(cpu, in, lin, len, DEBUG_WATCH_READ))
        return false;
    bool user = x86_cpl(cpu) == 3, wide = cpu->hflags & X86_HF_CS64;
    uint8_t *dst = buf;
    while (len) {
        uint64_t pa[RANGE_PAGES];
        unsigned n[RANGE_PAGES];
        unsigned c = chunk_len(len);
        unsigned k = range_xlate(cpu, in, lin, c, X86_ACC_READ, user, wide, pa, n);
        if (!k)
            return false;
        for (unsigned j = 0; j < k; j++) {
            piece_read(cpu, in, pa[j], dst, n[j]);
            dst += n[j];
        }
        lin = wide ? lin + c : (uint32_t)(lin + c);
        len -= c;
    }
    return true;
}

bool x86_st_buf(X86CPU *cpu, const XInsn *in, int seg, uint64_t off,
                const void *buf, unsigned len)
{
    uint64_t lin;
    if (len == 0)
        return true;
    if (!buf_lin(cpu, in, seg, off, len, X86_ACC_WRITE, true, &lin) ||
        WATCH(cpu, in, lin, len, DEBUG_WATCH_WRITE))
        return false;
    bool user = x86_cpl(cpu) == 3, wide = cpu->hflags & X86_HF_CS64;
    const uint8_t *src = buf;
    while (len) {
        uint64_t pa[RANGE_PAGES];
        unsigned n[RANGE_PAGES];
        unsigned c = chunk_len(len);
        unsigned k = range_xlate(cpu, in, lin, c, X86_ACC_WRITE, user, wide, pa, n);
        if (!k)
            return false;
        for (unsigned j = 0; j < k; j++) {
            piece_write(cpu, in, pa[j], src, n[j]);
            src += n[j];
        }
        lin = wide ? lin + c : (uint32_t)(lin + c);
        len -= c;
    }
    return true;
}

bool x86_probe(X86CPU *cpu, const XInsn *in, int seg, uint64_t off, unsigned len,
               X86Access acc)
{
    uint64_t lin;
    if (len == 0)
        return true;
    if (!buf_lin(cpu, in, seg, off, len, acc, false, &lin))
        return false;
    bool user = x86_cpl(cpu) == 3, wide = cpu->hflags & X86_HF_CS64;
    /* One translation per page, nothing moved. */
    while (len) {
        uint64_t pa;
        unsigned m = 0x1000 - (unsigned)(lin & 0xfff);
        if (m > len)
            m = len;
        if (!xlate(cpu, in, lin, acc, user, &pa))
            return false;
        lin = wide ? lin + m : (uint32_t)(lin + m);
        len -= m;
    }
    return true;
}

/* ---- port I/O ---- */

uint64_t x86_io_read(X86CPU *cpu, const XInsn *in, uint16_t port, unsigned size)
{
    uint64_t icount = device_enter(cpu, in);
    uint64_t v = x86_bus_read(cpu->io, port, size);
    cpu->icount = icount;
    return v;
}

void x86_io_write(X86CPU *cpu, const XInsn *in, uint16_t port, unsigned size,
                  uint64_t val)
{
    uint64_t icount = device_enter(cpu, in);
    x86_bus_write(cpu->io, port, size, val & x86_size_mask(size));
    cpu->icount = icount;
}
