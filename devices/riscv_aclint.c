/* SiFive CLINT: machine software interrupts and the machine timer.
 *
 * mtime is not stored: it is virtual time in 100 ns ticks plus an offset
 * that guest writes to mtime (and reset) adjust, so it is a pure function
 * of icount.  Each hart's MTIP is the level (mtime >= mtimecmp), kept up to
 * date by re-evaluating on every write and by a Timer armed for the first
 * virtual nanosecond at which the comparison turns true. */
#include "devices/riscv_aclint.h"

#include <glib.h>
#include <stdbool.h>

#include "devices/devsnap.h"
#include "vmm/clock.h"
#include "vmm/machine.h"
#include "vmm/memory.h"

typedef struct AclintHart {
    RiscvAclint *c;
    IrqLine msip_irq, mtip_irq;
    uint32_t msip;
    uint64_t mtimecmp;
    int mtip;
    Timer timer;
} AclintHart;

struct RiscvAclint {
    Machine *m;
    int nharts;
    uint64_t mtime_offset;      /* mtime = ticks + mtime_offset (mod 2^64) */
    AclintHart *hart;
};

static uint64_t ticks_now(const RiscvAclint *c)
{
    int64_t ns = machine_ns(c->m);
    return ns > 0 ? (uint64_t)ns / RISCV_ACLINT_NS_PER_TICK : 0;
}

uint64_t riscv_aclint_mtime(void *clint)
{
    RiscvAclint *c = clint;
    return ticks_now(c) + c->mtime_offset;
}

/* Arm h's timer for the first nanosecond at which mtime has advanced by
 * delta ticks; a point past what int64 nanoseconds can hold never comes. */
static void arm_after(AclintHart *h, uint64_t ticks, uint64_t delta)
{
    const uint64_t max_ticks = (uint64_t)INT64_MAX / RISCV_ACLINT_NS_PER_TICK;
    if (ticks > max_ticks || delta > max_ticks - ticks)
        timer_del(&h->c->m->clock, &h->timer);
    else
        timer_mod(&h->c->m->clock, &h->timer,
                  (int64_t)((ticks + delta) * RISCV_ACLINT_NS_PER_TICK));
}

static void update_mtip(AclintHart *h)
{
    RiscvAclint *c = h->c;
    uint64_t ticks = ticks_now(c);
    uint64_t mtime = ticks + c->mtime_offset;
    int level = mtime >= h->mtimecmp;

    if (level) {
        /* Stays true until mtime wraps around to 0. */
        if (mtime)
            arm_after(h, ticks, -mtime);
        else
            timer_del(&c->m->clock, &h->timer);
    } else {
        arm_after(h, ticks, h->mtimecmp - mtime);
    }
    if (level != h->mtip) {
        h->mtip = level;
        irq_set(&h->mtip_irq, level);
    }
}

static void timer_fired(void *opaque)
{
    update_mtip(opaque);
}

static void set_msip(AclintHart *h, uint32_t val)
{
    val &= 1;
    if (val != h->msip) {
        h->msip = val;
        irq_set(&h->msip_irq, (int)val);
    }
}

static void set_mtime(RiscvAclint *c, uint64_t mtime)
{
    c->mtime_offset = mtime - ticks_now(c);
    for (int i = 0; i < c->nharts; i++)
        update_mtip(&c->hart[i]);
}

/* Merge a 4- or 8-byte write at byte offset (off & 4) into a 64-bit reg. */
static uint64_t merge64(uint64_t old, uint64_t off, uint64_t val, unsigned size)
{
    if (size == 8)
        return val;
    unsigned shift = (off & 4) * 8;
    uint64_t mask = 0xffffffffull << shift;
    return (old & ~mask) | ((val << shift) & mask);
}

static uint64_t extract64(uint64_t reg, uint64_t off, unsigned size)
{
    if (size == 8)
        return reg;
    return (uint32_t)(reg >> ((off & 4) * 8));
}

static uint64_t aclint_read(void *opaque, uint64_t off, unsigned size)
{
    RiscvAclint *c = opaque;

    if (off < RISCV_ACLINT_MTIMECMP) {
        uint64_t v = 0;
        for (unsigned i = 0; i < size / 4; i++) {
            uint64_t h = off / 4 + i;
            if (h < (uint64_t)c->nharts)
                v |= (uint64_t)c->hart[h].msip << (32 * i);
        }
        return v;
    }
    if (off < RISCV_ACLINT_MTIME) {
        uint64_t h = (off - RISCV_ACLINT_MTIMECMP) / 8;
        if (h >= (uint64_t)c->nharts)
            return 0;
        return extract64(c->hart[h].mtimecmp, off, size);
    }
    if (off < RISCV_ACLINT_MTIME + 8)
        return extract64(riscv_aclint_mtime(c), off, size);
    return 0;
}

static void aclint_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    RiscvAclint *c = opaque;

    if (off < RISCV_ACLINT_MTIMECMP) {
        for (unsigned i = 0; i < size / 4; i++) {
            uint64_t h = off / 4 + i;
            if (h < (uint64_t)c->nharts)
                set_msip(&c->hart[h], (uint32_t)(val >> (32 * i)));
        }
        return;
    }
    if (off < RISCV_ACLINT_MTIME) {
        uint64_t h = (off - RISCV_ACLINT_MTIMECMP) / 8;
        if (h >= (uint64_t)c->nharts)
            return;
        AclintHart *ht = &c->hart[h];
        ht->mtimecmp = merge64(ht->mtimecmp, off, val, size);
        update_mtip(ht);
        return;
    }
    if (off < RISCV_ACLINT_MTIME + 8)
        set_mtime(c, merge64(riscv_aclint_mtime(c), off, val, size));
}

static const MemOps riscv_aclint_mem_ops = {
    .name = "riscv_aclint",
    .read = aclint_read,
    .write = aclint_write,
    .min_access = 4,
    .max_access = 8,
};

/* mtime restarts from 0 (ACLINT spec); mtimecmp is architecturally unknown
 * after reset: all-ones keeps MTIP low until software programs it. */
static void riscv_aclint_reset(void *dev)
{
    RiscvAclint *c = dev;
    for (int i = 0; i < c->nharts; i++) {
        set_msip(&c->hart[i], 0);
        c->hart[i].mtimecmp = UINT64_MAX;
    }
    set_mtime(c, 0);
}

static void riscv_aclint_destroy(void *dev)
{
    RiscvAclint *c = dev;
    for (int i = 0; i < c->nharts; i++)
        timer_del(&c->m->clock, &c->hart[i].timer);
    g_free(c->hart);
    g_free(c);
}

/* ---- snapshots ---- */

#define SNAP_VERSION 1

static int riscv_aclint_save(void *dev, void *wp)
{
    RiscvAclint *c = dev;
    SnapWriter *w = wp;
    snap_put_u8(w, SNAP_VERSION);
    snap_put_u64(w, (uint64_t)c->nharts);
    snap_put_u64(w, c->mtime_offset);
    for (int i = 0; i < c->nharts; i++) {
        snap_put_u32(w, c->hart[i].msip);
        snap_put_u64(w, c->hart[i].mtimecmp);
        snap_put_bool(w, c->hart[i].mtip);
    }
    for (int i = 0; i < c->nharts; i++)
        snap_put_timer(w, &c->hart[i].timer);
    return 0;
}

static int riscv_aclint_load(void *dev, void *rp)
{
    RiscvAclint *c = dev;
    SnapReader *r = rp;
    if (!devsnap_version(r, SNAP_VERSION, "riscv_aclint"))
        return -1;
    uint64_t n = snap_get_max(r, RISCV_ACLINT_MAX_HARTS, "CLINT hart count");
    if (snap_reader_ok(r) && n != (uint64_t)c->nharts) {
        snap_reader_fail(r, "the snapshot's CLINT has %llu harts, this one %d",
                         (unsigned long long)n, c->nharts);
        return -1;
    }
    uint64_t offset = snap_get_u64(r);
    AclintHart *h = g_new(AclintHart, c->nharts);
    for (int i = 0; i < c->nharts; i++) {
        h[i].msip = (uint32_t)devsnap_check_mask(r, snap_get_u32(r), 1, "CLINT msip");
        h[i].mtimecmp = snap_get_u64(r);
        h[i].mtip = snap_get_bool(r);
    }
    for (int i = 0; i < c->nharts && snap_reader_ok(r); i++)
        snap_get_timer(r, &c->m->clock, &c->hart[i].timer);
    bool ok = snap_reader_ok(r);
    if (ok) {
        c->mtime_offset = offset;
        for (int i = 0; i < c->nharts; i++) {
            c->hart[i].msip = h[i].msip;
            c->hart[i].mtimecmp = h[i].mtimecmp;
            c->hart[i].mtip = h[i].mtip;
        }
    }
    g_free(h);
    return ok ? 0 : -1;
}

static const DeviceOps riscv_aclint_device_ops = {
    .name = "riscv_aclint",
    .reset = riscv_aclint_reset,
    .save = riscv_aclint_save,
    .load = riscv_aclint_load,
    .destroy = riscv_aclint_destroy,
};

RiscvAclint *riscv_aclint_create(Machine *m, uint64_t base, int nharts,
                                 const IrqLine *msip, const IrqLine *mtip)
{
    if (nharts < 1 || nharts > RISCV_ACLINT_MAX_HARTS) {
        machine_set_error(m, "riscv_aclint: %d harts (1 to %d supported)",
                          nharts, RISCV_ACLINT_MAX_HARTS);
        return NULL;
    }
    RiscvAclint *c = g_new0(RiscvAclint, 1);
    c->m = m;
    c->nharts = nharts;
    c->hart = g_new0(AclintHart, nharts);
    for (int i = 0; i < nharts; i++) {
        AclintHart *h = &c->hart[i];
        h->c = c;
        h->msip_irq = msip[i];
        h->mtip_irq = mtip[i];
        h->mtimecmp = UINT64_MAX;
        timer_init(&h->timer, timer_fired, h);
    }

    int err = as_add_mmio(&m->as, "riscv_aclint", base, RISCV_ACLINT_MMIO_SIZE,
                          &riscv_aclint_mem_ops, c);
    if (err) {
        machine_set_error(m, "riscv_aclint: cannot map at 0x%" G_GINT64_MODIFIER "x: %s",
                          base, g_strerror(-err));
        g_free(c->hart);
        g_free(c);
        return NULL;
    }
    c->mtime_offset = -ticks_now(c);
    machine_add_device(m, &riscv_aclint_device_ops, c);
    return c;
}
