/* SiFive PLIC.
 *
 * Each source has a level-triggered gateway: while the source is neither
 * pending nor in service (claimed and not yet completed), an asserted input
 * makes it pending.  Deasserting does not withdraw a pending request (PLIC
 * spec: it stays in IP until claimed); completing an interrupt whose input
 * is still asserted makes it pending again. */
#include "devices/riscv_plic.h"

#include <glib.h>
#include <stdbool.h>
#include <string.h>

#include "devices/devsnap.h"
#include "vmm/machine.h"
#include "vmm/memory.h"

struct RiscvPlic {
    Machine *m;
    int nsources, ncontexts, nwords;
    uint32_t *priority;         /* [nsources] */
    uint32_t *level;            /* input wires, bitmap [nwords] */
    uint32_t *pending;          /* bitmap [nwords] */
    uint32_t *claimed;          /* in service, bitmap [nwords] */
    uint32_t *enable;           /* [ncontexts][nwords] */
    uint32_t *threshold;        /* [ncontexts] */
    IrqLine *out;               /* [ncontexts] */
    int *out_level;             /* [ncontexts] */
};

static bool bit_get(const uint32_t *map, int n)
{
    return (map[n / 32] >> (n % 32)) & 1;
}

static void bit_put(uint32_t *map, int n, bool v)
{
    if (v)
        map[n / 32] |= 1u << (n % 32);
    else
        map[n / 32] &= ~(1u << (n % 32));
}

/* Bits of word w that name real sources (id 0 and ids >= nsources are not). */
static uint32_t valid_mask(const RiscvPlic *p, int w)
{
    uint32_t mask = ~0u;
    if (w == 0)
        mask &= ~1u;
    int top = p->nsources - 32 * w;
    if (top < 32)
        mask &= (1u << top) - 1;
    return mask;
}

static uint32_t *ctx_enable(RiscvPlic *p, int ctx)
{
    return &p->enable[(size_t)ctx * p->nwords];
}

/* Highest-priority pending, enabled source above the context's threshold;
 * the lowest id wins a tie.  0 if none. */
static int best_source(RiscvPlic *p, int ctx)
{
    const uint32_t *en = ctx_enable(p, ctx);
    uint32_t best_prio = p->threshold[ctx];
    int best = 0;
    for (int w = 0; w < p->nwords; w++) {
        uint32_t bits = p->pending[w] & en[w];
        while (bits) {
            int src = 32 * w + __builtin_ctz(bits);
            bits &= bits - 1;
            if (p->priority[src] > best_prio) {
                best_prio = p->priority[src];
                best = src;
            }
        }
    }
    return best;
}

static void update(RiscvPlic *p)
{
    for (int ctx = 0; ctx < p->ncontexts; ctx++) {
        int level = best_source(p, ctx) != 0;
        if (level != p->out_level[ctx]) {
            p->out_level[ctx] = level;
            irq_set(&p->out[ctx], level);
        }
    }
}

static void plic_set_input(void *opaque, int src, int level)
{
    RiscvPlic *p = opaque;
    if (src <= 0 || src >= p->nsources)
        return;
    bit_put(p->level, src, level != 0);
    if (level && !bit_get(p->claimed, src))
        bit_put(p->pending, src, true);
    update(p);
}

IrqLine riscv_plic_input(RiscvPlic *p, int src)
{
    return irq_line(plic_set_input, p, src);
}

static uint32_t claim(RiscvPlic *p, int ctx)
{
    int src = best_source(p, ctx);
    if (src) {
        bit_put(p->pending, src, false);
        bit_put(p->claimed, src, true);
        update(p);
    }
    return (uint32_t)src;
}

static void complete(RiscvPlic *p, int ctx, uint32_t src)
{
    /* Spec: an id not enabled for this context is silently ignored. */
    if (src == 0 || src >= (uint32_t)p->nsources ||
        !bit_get(ctx_enable(p, ctx), (int)src) || !bit_get(p->claimed, (int)src))
        return;
    bit_put(p->claimed, (int)src, false);
    if (bit_get(p->level, (int)src))
        bit_put(p->pending, (int)src, true);
    update(p);
}

static uint64_t plic_read(void *opaque, uint64_t off, unsigned size)
{
    RiscvPlic *p = opaque;

    if (off < RISCV_PLIC_PENDING) {
        uint64_t src = off / 4;
        return src < (uint64_t)p->nsources ? p->priority[src] : 0;
    }
    if (off < RISCV_PLIC_ENABLE) {
        uint64_t w = (off - RISCV_PLIC_PENDING) / 4;
        return w < (uint64_t)p->nwords ? p->pending[w] : 0;
    }
    if (off < RISCV_PLIC_CONTEXT) {
        uint64_t ctx = (off - RISCV_PLIC_ENABLE) / RISCV_PLIC_ENABLE_STRIDE;
        uint64_t w = (off % RISCV_PLIC_ENABLE_STRIDE) / 4;
        if (ctx >= (uint64_t)p->ncontexts || w >= (uint64_t)p->nwords)
            return 0;
        return ctx_enable(p, (int)ctx)[w];
    }
    uint64_t ctx = (off - RISCV_PLIC_CONTEXT) / RISCV_PLIC_CONTEXT_STRIDE;
    if (ctx >= (uint64_t)p->ncontexts)
        return 0;
    switch (off % RISCV_PLIC_CONTEXT_STRIDE) {
    case 0:
        return p->threshold[ctx];
    case 4:
        return claim(p, (int)ctx);
    default:
        return 0;
    }
}

static void plic_write(void *opaque, uint64_t off, uint64_t val64, unsigned size)
{
    RiscvPlic *p = opaque;
    uint32_t val = (uint32_t)val64;

    if (off < RISCV_PLIC_PENDING) {
        uint64_t src = off / 4;
        if (src == 0 || src >= (uint64_t)p->nsources)
            return;
        p->priority[src] = val & RISCV_PLIC_PRIO_MASK;
        update(p);
        return;
    }
    if (off < RISCV_PLIC_ENABLE)        /* pending bits are read-only */
        return;
    if (off < RISCV_PLIC_CONTEXT) {
        uint64_t ctx = (off - RISCV_PLIC_ENABLE) / RISCV_PLIC_ENABLE_STRIDE;
        uint64_t w = (off % RISCV_PLIC_ENABLE_STRIDE) / 4;
        if (ctx >= (uint64_t)p->ncontexts || w >= (uint64_t)p->nwords)
            return;
        ctx_enable(p, (int)ctx)[w] = val & valid_mask(p, (int)w);
        update(p);
        return;
    }
    uint64_t ctx = (off - RISCV_PLIC_CONTEXT) / RISCV_PLIC_CONTEXT_STRIDE;
    if (ctx >= (uint64_t)p->ncontexts)
        return;
    switch (off % RISCV_PLIC_CONTEXT_STRIDE) {
    case 0:
        p->threshold[ctx] = val & RISCV_PLIC_PRIO_MASK;
        update(p);
        break;
    case 4:
        complete(p, (int)ctx, val);
        break;
    default:
        break;
    }
}

static const MemOps riscv_plic_mem_ops = {
    .name = "riscv_plic",
    .read = plic_read,
    .write = plic_write,
    .min_access = 4,
    .max_access = 4,
};

/* Input wires are not part of the PLIC's state: a source still asserted
 * across the reset is pending right after it. */
static void riscv_plic_reset(void *dev)
{
    RiscvPlic *p = dev;
    for (int i = 0; i < p->nsources; i++)
        p->priority[i] = 0;
    for (int w = 0; w < p->nwords; w++) {
        p->pending[w] = p->level[w];
        p->claimed[w] = 0;
    }
    for (size_t i = 0; i < (size_t)p->ncontexts * p->nwords; i++)
        p->enable[i] = 0;
    for (int c = 0; c < p->ncontexts; c++)
        p->threshold[c] = 0;
    update(p);
}

/* ---- snapshots ---- */

#define SNAP_VERSION 1

static int riscv_plic_save(void *dev, void *wp)
{
    RiscvPlic *p = dev;
    SnapWriter *w = wp;
    size_t nen = (size_t)p->ncontexts * p->nwords;
    snap_put_u8(w, SNAP_VERSION);
    snap_put_u64(w, (uint64_t)p->nsources);
    snap_put_u64(w, (uint64_t)p->ncontexts);
    for (int i = 0; i < p->nsources; i++)
        snap_put_u32(w, p->priority[i]);
    for (int i = 0; i < p->nwords; i++) {
        snap_put_u32(w, p->level[i]);
        snap_put_u32(w, p->pending[i]);
        snap_put_u32(w, p->claimed[i]);
    }
    for (size_t i = 0; i < nen; i++)
        snap_put_u32(w, p->enable[i]);
    for (int c = 0; c < p->ncontexts; c++) {
        snap_put_u32(w, p->threshold[c]);
        snap_put_bool(w, p->out_level[c]);
    }
    return 0;
}

/* Pending and enable bits name sources that index priority[]: bits for
 * source 0 or beyond nsources are refused. */
static int riscv_plic_load(void *dev, void *rp)
{
    RiscvPlic *p = dev;
    SnapReader *r = rp;
    if (!devsnap_version(r, SNAP_VERSION, "riscv_plic"))
        return -1;
    uint64_t ns = snap_get_max(r, RISCV_PLIC_MAX_SOURCES, "PLIC source count");
    uint64_t nc = snap_get_max(r, RISCV_PLIC_MAX_CONTEXTS, "PLIC context count");
    if (snap_reader_ok(r) && (ns != (uint64_t)p->nsources || nc != (uint64_t)p->ncontexts)) {
        snap_reader_fail(r, "the snapshot's PLIC has %llu sources and %llu contexts, this one "
                         "%d and %d", (unsigned long long)ns, (unsigned long long)nc,
                         p->nsources, p->ncontexts);
        return -1;
    }
    size_t nen = (size_t)p->ncontexts * p->nwords;
    uint32_t *prio = g_new(uint32_t, p->nsources);
    uint32_t *words = g_new(uint32_t, 3 * (size_t)p->nwords + nen + p->ncontexts);
    uint32_t *level = words, *pending = level + p->nwords, *claimed = pending + p->nwords;
    uint32_t *enable = claimed + p->nwords, *threshold = enable + nen;
    int *out_level = g_new(int, p->ncontexts);
    for (int i = 0; i < p->nsources; i++)
        prio[i] = (uint32_t)devsnap_check_mask(r, snap_get_u32(r),
                                               i ? RISCV_PLIC_PRIO_MASK : 0,
                                               "PLIC source priority");
    for (int i = 0; i < p->nwords; i++) {
        uint32_t valid = valid_mask(p, i);
        level[i] = (uint32_t)devsnap_check_mask(r, snap_get_u32(r), valid, "PLIC input levels");
        pending[i] = (uint32_t)devsnap_check_mask(r, snap_get_u32(r), valid, "PLIC pending");
        claimed[i] = (uint32_t)devsnap_check_mask(r, snap_get_u32(r), valid, "PLIC claimed");
    }
    for (size_t i = 0; i < nen; i++)
        enable[i] = (uint32_t)devsnap_check_mask(r, snap_get_u32(r),
                                                 valid_mask(p, (int)(i % p->nwords)),
                                                 "PLIC enables");
    for (int c = 0; c < p->ncontexts; c++) {
        threshold[c] = (uint32_t)devsnap_check_mask(r, snap_get_u32(r), RISCV_PLIC_PRIO_MASK,
                                                    "PLIC threshold");
        out_level[c] = snap_get_bool(r);
    }
    bool ok = snap_reader_ok(r);
    if (ok) {
        memcpy(p->priority, prio, sizeof(uint32_t) * (size_t)p->nsources);
        memcpy(p->level, level, sizeof(uint32_t) * (size_t)p->nwords);
        memcpy(p->pending, pending, sizeof(uint32_t) * (size_t)p->nwords);
        memcpy(p->claimed, claimed, sizeof(uint32_t) * (size_t)p->nwords);
        memcpy(p->enable, enable, sizeof(uint32_t) * nen);
        memcpy(p->threshold, threshold, sizeof(uint32_t) * (size_t)p->ncontexts);
        memcpy(p->out_level, out_level, sizeof(int) * (size_t)p->ncontexts);
    }
    g_free(prio);
    g_free(words);
    g_free(out_level);
    return ok ? 0 : -1;
}

static void plic_free(RiscvPlic *p)
{
    g_free(p->priority);
    g_free(p->level);
    g_free(p->pending);
    g_free(p->claimed);
    g_free(p->enable);
    g_free(p->threshold);
    g_free(p->out);
    g_free(p->out_level);
    g_free(p);
}

static void riscv_plic_destroy(void *dev)
{
    plic_free(dev);
}

static const DeviceOps riscv_plic_device_ops = {
    .name = "riscv_plic",
    .reset = riscv_plic_reset,
    .save = riscv_plic_save,
    .load = riscv_plic_load,
    .destroy = riscv_plic_destroy,
};

RiscvPlic *riscv_plic_create(Machine *m, uint64_t base, uint64_t size,
                             int nsources, int ncontexts, const IrqLine *ctx_irq)
{
    if (nsources < 2 || nsources > RISCV_PLIC_MAX_SOURCES) {
        machine_set_error(m, "riscv_plic: %d sources (2 to %d supported)",
                          nsources, RISCV_PLIC_MAX_SOURCES);
        return NULL;
    }
    if (ncontexts < 1 || ncontexts > RISCV_PLIC_MAX_CONTEXTS ||
        size < RISCV_PLIC_CONTEXT + (uint64_t)ncontexts * RISCV_PLIC_CONTEXT_STRIDE) {
        machine_set_error(m, "riscv_plic: %d contexts do not fit in 0x%" G_GINT64_MODIFIER "x bytes",
                          ncontexts, size);
        return NULL;
    }
    RiscvPlic *p = g_new0(RiscvPlic, 1);
    p->m = m;
    p->nsources = nsources;
    p->ncontexts = ncontexts;
    p->nwords = (nsources + 31) / 32;
    p->priority = g_new0(uint32_t, nsources);
    p->level = g_new0(uint32_t, p->nwords);
    p->pending = g_new0(uint32_t, p->nwords);
    p->claimed = g_new0(uint32_t, p->nwords);
    p->enable = g_new0(uint32_t, (size_t)ncontexts * p->nwords);
    p->threshold = g_new0(uint32_t, ncontexts);
    p->out = g_new0(IrqLine, ncontexts);
    p->out_level = g_new0(int, ncontexts);
    for (int i = 0; i < ncontexts; i++)
        p->out[i] = ctx_irq[i];

    int err = as_add_mmio(&m->as, "riscv_plic", base, size, &riscv_plic_mem_ops, p);
    if (err) {
        machine_set_error(m, "riscv_plic: cannot map at 0x%" G_GINT64_MODIFIER "x: %s",
                          base, g_strerror(-err));
        plic_free(p);
        return NULL;
    }
    machine_add_device(m, &riscv_plic_device_ops, p);
    return p;
}
