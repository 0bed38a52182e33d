/* Device snapshots: DeviceOps.save/load of every device.
 *
 * Each case builds a small machine (rig A), drives its device through the
 * register interface into a state with something in flight, saves every
 * device of the machine, builds a second one (rig B), loads the streams
 * into it at the same virtual time (with A's RAM), and checks that
 *   - the load moved no interrupt line and called out to nobody,
 *   - B saves byte for byte what A saved,
 *   - the same accesses on both (the case's probe) give the same reads,
 *     the same interrupt line activity and the same timer deadlines.
 * Then the streams are attacked: every prefix of each device's stream must
 * be refused with a message, and every single-byte corruption must either
 * be refused or give a device that survives the probe (the ASan build runs
 * this file too). */
#include <criterion/criterion.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <inttypes.h>
#include <linux/input-event-codes.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "block/block.h"
#include "checkpoint/snap.h"
#include "devices/fw_cfg.h"
#include "devices/goldfish_rtc.h"
#include "devices/i440fx.h"
#include "devices/i8042.h"
#include "devices/i8254.h"
#include "devices/i8259.h"
#include "devices/ide.h"
#include "devices/ioapic.h"
#include "devices/isa_debug_exit.h"
#include "devices/lapic.h"
#include "devices/mc146818.h"
#include "devices/ns16550a.h"
#include "devices/pci.h"
#include "devices/piix4_pm.h"
#include "devices/piix_ide.h"
#include "devices/ps2.h"
#include "devices/riscv_aclint.h"
#include "devices/riscv_plic.h"
#include "devices/rtl8139.h"
#include "devices/sifive_test.h"
#include "devices/virtio.h"
#include "devices/virtio_mmio.h"
#include "devices/virtio_net.h"
#include "devices/virtio_pci.h"
#include "vmm/machine.h"
#include "vmm/options.h"
#include "vmm/target.h"

#include "dev_machine.h"

/* ---- the rig: one machine, its devices, a trace of what they did ---- */

typedef struct Rig Rig;

typedef struct Echo {
    int processed;           /* backend state, saved through VirtioDeviceOps */
} Echo;

struct Rig {
    uint64_t icount;
    Machine *m;
    GString *trace;
    void *dev[4];
    BlockDev *blk;
    char *path;
    Echo echo;
    bool a20;
    int a20_calls;
    uint8_t pam[I440FX_NPAM];
    int pam_calls;
    uint8_t smram;
    int smram_calls;
};

typedef struct Case {
    const char *name;
    void (*build)(Rig *r);
    void (*drive)(Rig *r);            /* rig A only: into the state saved */
    void (*probe)(Rig *r);            /* the same accesses on A and B */
    /* Something the probe's trace must show (so the comparison is not
     * vacuous), or NULL. */
    const char *expect;
    /* Extra checks right after B loaded A's state (optional). */
    void (*loaded)(Rig *a, Rig *b);
} Case;

static void __attribute__((format(printf, 2, 3))) tr(Rig *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_string_append_vprintf(r->trace, fmt, ap);
    va_end(ap);
}

static void log_irq(void *opaque, int n, int level)
{
    Rig *r = opaque;
    tr(r, "irq%d=%d@%" PRId64 " ", n, level, machine_ns(r->m));
}

static void log_nmi(void *opaque)
{
    Rig *r = opaque;
    tr(r, "nmi@%" PRId64 " ", machine_ns(r->m));
}

/* Every armed deadline, in firing order. */
static void timers(Rig *r)
{
    tr(r, "T[");
    for (const Timer *t = r->m->clock.timers; t; t = t->next)
        tr(r, "%" PRId64 ",", t->deadline);
    tr(r, "] ");
}

/* Accesses that never assert: a corrupted but accepted state may unmap a
 * block, and the probe must still run. */
static uint64_t rd(Rig *r, AddressSpace *as, uint64_t addr, unsigned size)
{
    uint64_t v = 0;
    if (as_read(as, addr, size, &v) != MEM_OK) {
        tr(r, "r%" PRIx64 "=ERR ", addr);
        return 0;
    }
    tr(r, "r%" PRIx64 "=%" PRIx64 " ", addr, v);
    return v;
}

static void wr(Rig *r, AddressSpace *as, uint64_t addr, unsigned size, uint64_t v)
{
    if (as_write(as, addr, size, v) != MEM_OK)
        tr(r, "w%" PRIx64 "=ERR ", addr);
}

static uint64_t in(Rig *r, uint16_t port, unsigned size) { return rd(r, &r->m->io, port, size); }
static void out(Rig *r, uint16_t port, unsigned size, uint64_t v) { wr(r, &r->m->io, port, size, v); }
static uint64_t mrd(Rig *r, uint64_t a, unsigned size) { return rd(r, &r->m->as, a, size); }
static void mwr(Rig *r, uint64_t a, unsigned size, uint64_t v) { wr(r, &r->m->as, a, size, v); }

static void run(Rig *r, int64_t ns)
{
    dev_machine_run_to(r->m, &r->icount, (int64_t)r->icount + ns);
    timers(r);
}

static uint32_t fnv(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* The hash of guest RAM [a, a + n) as the trace shows it. */
static void ram_hash(Rig *r, uint64_t a, size_t n)
{
    uint8_t *buf = g_malloc(n);
    if (as_copy_from(&r->m->as, a, buf, n) == MEM_OK)
        tr(r, "ram%" PRIx64 "#%08x ", a, fnv(buf, n));
    else
        tr(r, "ram%" PRIx64 "=ERR ", a);
    g_free(buf);
}

static void rig_init(Rig *r, const Case *c)
{
    memset(r, 0, sizeof(*r));
    r->m = dev_machine_new(&r->icount);
    r->trace = g_string_new(NULL);
    c->build(r);
}

static void rig_free(Rig *r)
{
    dev_machine_free(r->m);
    if (r->blk)
        blk_close(r->blk);
    if (r->path) {
        g_unlink(r->path);
        g_free(r->path);
    }
    g_string_free(r->trace, TRUE);
}

/* ---- whole-machine save/load over m->devices, as checkpoint does ---- */

typedef struct Blobs {
    int n;
    uint8_t *p[64];
    size_t len[64];
} Blobs;

static void save_all(Machine *m, Blobs *b)
{
    unsigned saved = 0;
    cr_assert_leq(m->ndevices, 64);
    b->n = m->ndevices;
    for (int i = 0; i < m->ndevices; i++) {
        const DeviceEntry *e = &m->devices[i];
        cr_assert_not_null(e->ops->save, "%s has no save", e->ops->name);
        cr_assert_not_null(e->ops->load, "%s has no load", e->ops->name);
        SnapWriter w;
        snap_writer_init(&w, &m->clock);
        cr_assert_eq(e->ops->save(e->dev, &w), 0, "%s: save failed", e->ops->name);
        saved += w.timers_saved;
        b->p[i] = snap_writer_steal(&w, &b->len[i]);
        cr_assert_geq(b->len[i], 1);
    }
    cr_assert_eq(saved, vclock_armed_count(&m->clock),
                 "%u timers armed, the devices saved %u", vclock_armed_count(&m->clock), saved);
}

static void blobs_free(Blobs *b)
{
    for (int i = 0; i < b->n; i++)
        g_free(b->p[i]);
    b->n = 0;
}

static void blobs_equal(Machine *m, const Blobs *x, const Blobs *y, const char *when)
{
    cr_assert_eq(x->n, y->n);
    for (int i = 0; i < x->n; i++) {
        const char *name = m->devices[i].ops->name;
        cr_assert_eq(x->len[i], y->len[i], "%s: %s saves %zu bytes, then %zu", when, name,
                     x->len[i], y->len[i]);
        for (size_t k = 0; k < x->len[i]; k++)
            cr_assert_eq(x->p[i][k], y->p[i][k], "%s: %s's state differs at byte %zu of %zu",
                         when, name, k, x->len[i]);
    }
}

/* Loads p into device i: 0, or the load's -1 (err: the reader's message);
 * -2 if the load claimed success with a failed reader, -3 if it left
 * bytes unread. */
static int load_one(Machine *m, int i, const uint8_t *p, size_t len, char **err)
{
    const DeviceEntry *e = &m->devices[i];
    SnapReader r;
    snap_reader_init(&r, p, len, e->ops->name);
    int rc = e->ops->load(e->dev, &r);
    if (rc == 0 && !snap_reader_ok(&r))
        rc = -2;
    else if (rc == 0 && snap_reader_left(&r))
        rc = -3;
    else if (rc != 0 && snap_reader_ok(&r))
        rc = -4;                /* refused without saying why */
    if (err)
        *err = g_strdup(snap_reader_error(&r));
    snap_reader_free(&r);
    return rc;
}

static void load_all(Machine *m, const Blobs *b)
{
    cr_assert_eq(b->n, m->ndevices);
    vclock_disarm_all(&m->clock);
    for (int i = 0; i < b->n; i++) {
        char *err = NULL;
        int rc = load_one(m, i, b->p[i], b->len[i], &err);
        cr_assert_eq(rc, 0, "%s: load gave %d: %s", m->devices[i].ops->name, rc, err);
        g_free(err);
    }
    vclock_sort_loaded(&m->clock);
}

/* B as A left it: same virtual time and RAM, then every device loaded. */
static void restore_into(Rig *a, Rig *b, const Blobs *s)
{
    b->icount = a->icount;
    if (a->m->ram) {
        cr_assert_eq(a->m->ram_size, b->m->ram_size);
        memcpy(b->m->ram, a->m->ram, a->m->ram_size);
    }
    g_string_truncate(b->trace, 0);
    load_all(b->m, s);
}

static void roundtrip(const Case *c)
{
    Rig a, b;
    rig_init(&a, c);
    if (c->drive)
        c->drive(&a);
    Blobs sa, sb, pa, pb;
    save_all(a.m, &sa);
    rig_init(&b, c);
    restore_into(&a, &b, &sa);
    cr_assert_str_empty(b.trace->str, "%s: the load called out: %s", c->name, b.trace->str);
    if (c->loaded)
        c->loaded(&a, &b);
    save_all(b.m, &sb);
    blobs_equal(b.m, &sa, &sb, "saved again after loading");

    g_string_truncate(a.trace, 0);
    timers(&a);
    timers(&b);
    c->probe(&a);
    c->probe(&b);
    cr_assert_str_eq(a.trace->str, b.trace->str, "%s: the loaded device behaves differently\n"
                     "  original: %s\n  loaded:   %s", c->name, a.trace->str, b.trace->str);
    if (c->expect)
        cr_assert(strstr(a.trace->str, c->expect), "%s: the probe never showed %s: %s",
                  c->name, c->expect, a.trace->str);
    save_all(a.m, &pa);
    save_all(b.m, &pb);
    blobs_equal(a.m, &pa, &pb, "after the probe");
    blobs_free(&sa);
    blobs_free(&sb);
    blobs_free(&pa);
    blobs_free(&pb);
    rig_free(&a);
    rig_free(&b);
}

/* Every prefix of every device's stream is refused with a message; a wrong
 * layout version too; afterwards the whole stream still loads. */
static void truncated(const Case *c)
{
    Rig a, b;
    rig_init(&a, c);
    if (c->drive)
        c->drive(&a);
    Blobs sa, sb;
    save_all(a.m, &sa);
    rig_init(&b, c);
    restore_into(&a, &b, &sa);
    for (int i = 0; i < sa.n; i++) {
        const char *name = b.m->devices[i].ops->name;
        for (size_t k = 0; k < sa.len[i]; k++) {
            /* An exact-size copy, so ASan sees a read past the prefix. */
            uint8_t *p = k ? g_memdup2(sa.p[i], k) : NULL;
            char *err = NULL;
            int rc = load_one(b.m, i, p, k, &err);
            cr_assert_eq(rc, -1, "%s: a %zu-byte prefix of its %zu bytes gave %d (%s)", name, k,
                         sa.len[i], rc, err);
            cr_assert_str_not_empty(err);
            g_free(err);
            g_free(p);
        }
        uint8_t *p = g_memdup2(sa.p[i], sa.len[i]);
        p[0] = (uint8_t)(sa.p[i][0] + 1);
        char *err = NULL;
        cr_assert_eq(load_one(b.m, i, p, sa.len[i], &err), -1, "%s took version %u", name,
                     p[0]);
        cr_assert(strstr(err, "version"), "%s: %s", name, err);
        g_free(err);
        g_free(p);
    }
    b.icount = a.icount;
    load_all(b.m, &sa);
    save_all(b.m, &sb);
    blobs_equal(b.m, &sa, &sb, "after the refused loads");
    blobs_free(&sa);
    blobs_free(&sb);
    rig_free(&a);
    rig_free(&b);
}

/* Each byte of each stream (but the version) replaced by 0xff, 0x80 ^ it
 * and 1 ^ it: a refusal must say why, an accepted state must survive the
 * probe.  At least one corruption must be refused where the stream has
 * range-checked fields (min_refused). */
static void corrupted(const Case *c, int min_refused)
{
    Rig a, b;
    rig_init(&a, c);
    if (c->drive)
        c->drive(&a);
    Blobs sa;
    save_all(a.m, &sa);
    rig_init(&b, c);
    restore_into(&a, &b, &sa);
    int refused = 0, accepted = 0;
    for (int i = 0; i < sa.n; i++) {
        for (size_t k = 1; k < sa.len[i]; k++) {
            const uint8_t vals[3] = { 0xff, (uint8_t)(sa.p[i][k] ^ 0x80),
                                      (uint8_t)(sa.p[i][k] ^ 0x01) };
            for (int v = 0; v < 3; v++) {
                if (v == 0 && sa.p[i][k] == 0xff)
                    continue;
                uint8_t *p = g_memdup2(sa.p[i], sa.len[i]);
                p[k] = vals[v];
                char *err = NULL;
                int rc = load_one(b.m, i, p, sa.len[i], &err);
                /* -3: a corrupted length made the load read less than the
                 * stream holds; the machine refuses that (bytes left in the
                 * section), but the state went in and must be safe too. */
                cr_assert(rc == 0 || rc == -1 || rc == -3, "%s: byte %zu = 0x%02x gave %d (%s)",
                          b.m->devices[i].ops->name, k, vals[v], rc, err);
                if (rc == 0 || rc == -3) {
                    accepted++;
                    c->probe(&b);
                } else {
                    refused++;
                    cr_assert_str_not_empty(err);
                }
                g_free(err);
                g_free(p);
                g_string_truncate(b.trace, 0);
                restore_into(&a, &b, &sa);
            }
        }
    }
    cr_assert_geq(refused, min_refused, "%s: %d corruptions refused, %d accepted", c->name,
                  refused, accepted);
    blobs_free(&sa);
    rig_free(&a);
    rig_free(&b);
}

/* The stream of the n-th device named name (0 = first) in b, patched:
 * the u64 at off must hold want (the layout the test expects) and becomes
 * v; the load must fail naming needle. */
static void refuse_u64(const Case *c, const char *name, int nth, size_t off, uint64_t want,
                       uint64_t v, const char *needle)
{
    Rig a, b;
    rig_init(&a, c);
    if (c->drive)
        c->drive(&a);
    Blobs sa;
    save_all(a.m, &sa);
    rig_init(&b, c);
    restore_into(&a, &b, &sa);
    int i = -1;
    for (int k = 0, seen = 0; k < b.m->ndevices; k++)
        if (!strcmp(b.m->devices[k].ops->name, name) && seen++ == nth)
            i = k;
    cr_assert_geq(i, 0, "no device %s", name);
    cr_assert_leq(off + 8, sa.len[i]);
    uint64_t cur = 0;
    for (int k = 0; k < 8; k++)
        cur |= (uint64_t)sa.p[i][off + k] << (8 * k);
    cr_assert_eq(cur, want, "%s: the field at %zu holds %" PRIu64 ", the test expects %" PRIu64,
                 name, off, cur, want);
    for (int k = 0; k < 8; k++)
        sa.p[i][off + k] = (uint8_t)(v >> (8 * k));
    char *err = NULL;
    cr_assert_eq(load_one(b.m, i, sa.p[i], sa.len[i], &err), -1, "%s took %" PRIu64, name, v);
    cr_assert(strstr(err, needle), "%s: '%s' does not mention '%s'", name, err, needle);
    g_free(err);
    blobs_free(&sa);
    rig_free(&a);
    rig_free(&b);
}

#define DEVICE_TESTS(c, min_refused)                                  \
    Test(device_snap, c##_roundtrip) { roundtrip(&c##_case); }        \
    Test(device_snap, c##_truncated) { truncated(&c##_case); }        \
    Test(device_snap, c##_corrupted) { corrupted(&c##_case, min_refused); }

/* ---- i8254 ---- */

static void pit_build(Rig *r)
{
    r->dev[0] = i8254_create(r->m, &r->m->io, irq_line(log_irq, r, 0));
    cr_assert_not_null(r->dev[0]);
}

static void pit_drive(Rig *r)
{
    out(r, 0x43, 1, 0x34);              /* counter 0: mode 2, count 1000 */
    out(r, 0x40, 1, 0xe8);
    out(r, 0x40, 1, 0x03);
    out(r, 0x61, 1, 0x01);              /* gate 2 */
    out(r, 0x43, 1, 0xb6);              /* counter 2: mode 3, count 17 */
    out(r, 0x42, 1, 17);
    out(r, 0x42, 1, 0);
    out(r, 0x43, 1, 0x70);              /* counter 1: mode 0, LSB only so far */
    out(r, 0x41, 1, 0x34);
    run(r, 5000);
    out(r, 0x43, 1, 0x00);              /* latch counter 0, read half of it */
    in(r, 0x40, 1);
    out(r, 0x43, 1, 0xe8);              /* read-back: status of counter 2 */
    run(r, 3333);
}

static void pit_probe(Rig *r)
{
    in(r, 0x40, 1);                     /* the latched MSB */
    in(r, 0x42, 1);                     /* counter 2's status */
    in(r, 0x42, 1);
    in(r, 0x42, 1);
    in(r, 0x61, 1);
    out(r, 0x41, 1, 0x02);              /* counter 1's MSB: it starts */
    run(r, 2000);
    out(r, 0x43, 1, 0x40);
    in(r, 0x41, 1);
    in(r, 0x41, 1);
    run(r, 2000000);
    in(r, 0x61, 1);
    out(r, 0x40, 1, 0x10);              /* a new count for counter 0 */
    out(r, 0x40, 1, 0x01);
    run(r, 1000000);
    for (int i = 0; i < 3; i++) {
        out(r, 0x43, 1, (uint8_t)(i << 6));
        in(r, (uint16_t)(0x40 + i), 1);
        in(r, (uint16_t)(0x40 + i), 1);
    }
    tr(r, "out2=%d ", i8254_out(r->dev[0], 2));
}

static const Case pit_case = { "i8254", pit_build, pit_drive, pit_probe, "irq0=1", NULL };
DEVICE_TESTS(pit, 1)

Test(device_snap, pit_refuses_zero_count)
{
    /* version, irq0, port61, then counter 0: mode_bits (u64), rw (u64),
     * bcd, cr_lsb, n (u64) at 1 + 1 + 1 + 8 + 8 + 1 + 1. */
    refuse_u64(&pit_case, "i8254", 0, 21, 1000, 0, "count register");
}

/* ---- local APIC ---- */

static void lapic_w(Rig *r, unsigned reg, uint32_t v) { mwr(r, LAPIC_BASE + reg, 4, v); }
static uint32_t lapic_r(Rig *r, unsigned reg) { return (uint32_t)mrd(r, LAPIC_BASE + reg, 4); }

static void lapic_build(Rig *r)
{
    r->dev[0] = lapic_create(r->m, irq_line(log_irq, r, 0), log_nmi, r);
    cr_assert_not_null(r->dev[0]);
}

static void lapic_drive(Rig *r)
{
    Lapic *l = r->dev[0];
    lapic_w(r, 0xf0, 0x1ff);            /* SVR: enabled, spurious 0xff */
    lapic_w(r, 0x350, 0x10000);         /* LINT0 masked */
    lapic_w(r, 0x360, 0x400);           /* LINT1: NMI */
    lapic_w(r, 0x3e0, 0x1);             /* divide by 4 */
    lapic_w(r, 0x320, 0x20040);         /* periodic, vector 0x40 */
    lapic_w(r, 0x380, 1000);            /* period 4000 ns */
    lapic_deliver(l, 0x51, LAPIC_DM_FIXED, false, true);
    lapic_deliver(l, 0x62, LAPIC_DM_FIXED, true, true);
    tr(r, "ack=%d ", lapic_intr_ack(l));
    lapic_w(r, 0x80, 0x20);
    IrqLine lint1 = lapic_lint1(l);
    irq_set(&lint1, 1);
    lapic_w(r, 0x300, 0x30);            /* an illegal self IPI: ESR */
    run(r, 6000);
    lapic_deliver(l, 0x90, LAPIC_DM_FIXED, false, true);     /* INTR up */
}

static void lapic_probe(Rig *r)
{
    Lapic *l = r->dev[0];
    for (unsigned i = 0; i < 8; i++) {
        lapic_r(r, 0x100 + 0x10 * i);
        lapic_r(r, 0x180 + 0x10 * i);
        lapic_r(r, 0x200 + 0x10 * i);
    }
    lapic_r(r, 0xa0);
    lapic_r(r, 0x90);
    lapic_r(r, 0x390);
    lapic_w(r, 0x280, 0);
    lapic_r(r, 0x280);
    IrqLine lint1 = lapic_lint1(l);
    irq_set(&lint1, 0);
    irq_set(&lint1, 1);
    for (int i = 0; i < 3; i++) {
        tr(r, "ack=%d ", lapic_intr_ack(l));
        lapic_w(r, 0xb0, 0);
        run(r, 1500);
    }
    lapic_r(r, 0x390);
    lapic_w(r, 0x3e0, 0xb);             /* divide by 1 from here */
    run(r, 7000);
    lapic_w(r, 0x320, 0x00041);         /* one-shot, vector 0x41 */
    lapic_w(r, 0x380, 500);
    run(r, 800);
    tr(r, "ack=%d pending=%d ", lapic_intr_ack(l), lapic_intr_pending(l));
    lapic_r(r, 0x200 + 0x20);
}

static const Case lapic_case = { "lapic", lapic_build, lapic_drive, lapic_probe, "irq0=1", NULL };
DEVICE_TESTS(lapic, 1)

/* ---- I/O APIC (with its LAPIC) ---- */

static void ioapic_reg_w(Rig *r, uint8_t reg, uint32_t v)
{
    mwr(r, IOAPIC_BASE, 1, reg);
    mwr(r, IOAPIC_BASE + 0x10, 4, v);
}

static void ioapic_pin(Rig *r, int pin, int level)
{
    IrqLine l = ioapic_input(r->dev[1], pin);
    irq_set(&l, level);
}

static void ioapic_build(Rig *r)
{
    r->dev[0] = lapic_create(r->m, irq_line(log_irq, r, 0), log_nmi, r);
    cr_assert_not_null(r->dev[0]);
    r->dev[1] = ioapic_create(r->m, r->dev[0]);
    cr_assert_not_null(r->dev[1]);
}

static void ioapic_drive(Rig *r)
{
    lapic_w(r, 0xf0, 0x1ff);
    lapic_w(r, 0x350, 0x10000);
    ioapic_reg_w(r, 0x00, 0x05000000);  /* ID */
    ioapic_reg_w(r, 0x10 + 2 * 3 + 1, 0);
    ioapic_reg_w(r, 0x10 + 2 * 3, 0x8033);        /* pin 3: level, vector 0x33 */
    ioapic_reg_w(r, 0x10 + 2 * 5 + 1, 0);
    ioapic_reg_w(r, 0x10 + 2 * 5, 0x10035);       /* pin 5: edge, masked */
    ioapic_pin(r, 3, 1);
    ioapic_pin(r, 5, 1);
    tr(r, "ack=%d ", lapic_intr_ack(r->dev[0]));
    mwr(r, IOAPIC_BASE, 1, 0x10 + 2 * 3);         /* IOREGSEL left on pin 3 */
}

static void ioapic_probe(Rig *r)
{
    mrd(r, IOAPIC_BASE, 1);
    mrd(r, IOAPIC_BASE + 0x10, 4);
    lapic_w(r, 0xb0, 0);                /* EOI: pin 3 is still high, again */
    mrd(r, IOAPIC_BASE + 0x10, 4);
    tr(r, "ack=%d ", lapic_intr_ack(r->dev[0]));
    ioapic_pin(r, 3, 0);
    lapic_w(r, 0xb0, 0);
    mrd(r, IOAPIC_BASE + 0x10, 4);
    ioapic_reg_w(r, 0x10 + 2 * 5, 0x0035);        /* unmask pin 5 (high: no edge) */
    ioapic_pin(r, 5, 0);
    ioapic_pin(r, 5, 1);
    tr(r, "ack=%d ", lapic_intr_ack(r->dev[0]));
    mwr(r, IOAPIC_BASE + 0x40, 4, 0x35);
    mwr(r, IOAPIC_BASE, 1, 0);
    mrd(r, IOAPIC_BASE + 0x10, 4);
    for (unsigned i = 0; i < 8; i++)
        lapic_r(r, 0x200 + 0x10 * i);
}

static const Case ioapic_case = { "ioapic", ioapic_build, ioapic_drive, ioapic_probe, "irq0=1",
                                  NULL };
DEVICE_TESTS(ioapic, 1)

/* ---- i8259 ---- */

static void pic_in(Rig *r, int irq, int level)
{
    IrqLine l = i8259_input(r->dev[0], irq);
    irq_set(&l, level);
}

static void pic_build(Rig *r)
{
    r->dev[0] = i8259_create(r->m, &r->m->io, irq_line(log_irq, r, 0));
    cr_assert_not_null(r->dev[0]);
}

static void pic_drive(Rig *r)
{
    static const uint8_t init[2][5] = { { 0x20, 0x11, 0x20, 0x04, 0x01 },
                                        { 0xa0, 0x11, 0x28, 0x02, 0x01 } };
    for (int c = 0; c < 2; c++) {
        out(r, init[c][0], 1, init[c][1]);
        for (int i = 2; i < 5; i++)
            out(r, (uint16_t)(init[c][0] + 1), 1, init[c][i]);
    }
    out(r, 0x4d1, 1, 0x04);             /* IRQ 10 level-triggered */
    out(r, 0x21, 1, 0x00);
    out(r, 0xa1, 1, 0x00);
    pic_in(r, 3, 1);
    pic_in(r, 3, 0);
    pic_in(r, 10, 1);
    tr(r, "ack=%d ", i8259_ack(r->dev[0]));
    pic_in(r, 5, 1);
    out(r, 0x20, 1, 0x0b);              /* OCW3: read ISR */
    out(r, 0x20, 1, 0xc4);              /* OCW2: priority, lowest 4 */
}

static void pic_probe(Rig *r)
{
    in(r, 0x20, 1);
    in(r, 0x21, 1);
    in(r, 0xa0, 1);
    in(r, 0x4d0, 1);
    in(r, 0x4d1, 1);
    out(r, 0x20, 1, 0x0a);
    in(r, 0x20, 1);
    for (int i = 0; i < 3; i++) {
        tr(r, "ack=%d pend=%d ", i8259_ack(r->dev[0]), i8259_pending(r->dev[0]));
        out(r, 0xa0, 1, 0x20);
        out(r, 0x20, 1, 0x20);
    }
    pic_in(r, 10, 0);
    pic_in(r, 7, 1);
    out(r, 0x20, 1, 0x0c);              /* poll */
    in(r, 0x20, 1);
    out(r, 0xa0, 1, 0x11);              /* the slave again, halfway */
    out(r, 0xa1, 1, 0x70);
    pic_in(r, 12, 1);
    out(r, 0xa1, 1, 0x02);
    out(r, 0xa1, 1, 0x01);
    pic_in(r, 12, 0);
    pic_in(r, 12, 1);
    tr(r, "ack=%d pend=%d ", i8259_ack(r->dev[0]), i8259_pending(r->dev[0]));
}

static const Case pic_case = { "i8259", pic_build, pic_drive, pic_probe, "irq0=1", NULL };
DEVICE_TESTS(pic, 1)

/* ---- NS16550A ---- */

#define UART 0x10000000ull

static void uart_build(Rig *r)
{
    r->dev[0] = ns16550a_create(r->m, UART, NULL, irq_line(log_irq, r, 10));
    cr_assert_not_null(r->dev[0]);
}

static void uart_rx(Rig *r, const char *s)
{
    const CharFrontend *fe = ns16550a_frontend(r->dev[0]);
    tr(r, "room=%d ", fe->can_receive(fe->opaque));
    fe->receive(fe->opaque, (const uint8_t *)s, strlen(s));
}

static void uart_drive(Rig *r)
{
    mwr(r, UART + 3, 1, 0x83);
    mwr(r, UART + 0, 1, 0x03);
    mwr(r, UART + 1, 1, 0x00);
    mwr(r, UART + 3, 1, 0x03);
    mwr(r, UART + 2, 1, 0x41);          /* FIFO on, trigger 4 */
    mwr(r, UART + 1, 1, 0x0f);
    mwr(r, UART + 4, 1, 0x0b);
    mwr(r, UART + 7, 1, 0x5a);
    uart_rx(r, "hello!");
    mrd(r, UART + 0, 1);
    mrd(r, UART + 2, 1);
    run(r, 100);
}

static void uart_probe(Rig *r)
{
    uart_rx(r, "ab");
    mrd(r, UART + 2, 1);
    mrd(r, UART + 5, 1);
    mrd(r, UART + 6, 1);
    for (int i = 0; i < 4; i++)
        mrd(r, UART + 0, 1);
    run(r, 600000);                     /* the character timeout */
    mrd(r, UART + 2, 1);
    for (int i = 0; i < 4; i++)
        mrd(r, UART + 0, 1);
    mrd(r, UART + 5, 1);
    mwr(r, UART + 0, 1, 'x');
    mrd(r, UART + 2, 1);
    mrd(r, UART + 7, 1);
    mwr(r, UART + 4, 1, 0x1f);          /* loopback */
    mwr(r, UART + 0, 1, 'y');
    mrd(r, UART + 6, 1);
    mrd(r, UART + 0, 1);
    uart_rx(r, "");
}

static const Case uart_case = { "ns16550a", uart_build, uart_drive, uart_probe, "irq10=1",
                                NULL };
DEVICE_TESTS(uart, 1)

Test(device_snap, uart_refuses_fifo_head)
{
    refuse_u64(&uart_case, "ns16550a", 0, 1 + 16, 1, 16, "FIFO head");
}

Test(device_snap, uart_refuses_fifo_count)
{
    refuse_u64(&uart_case, "ns16550a", 0, 1 + 16 + 8, 5, 17, "FIFO count");
}

/* ---- i8042 with the PS/2 keyboard and mouse ---- */

static void a20_cb(void *opaque, bool on)
{
    Rig *r = opaque;
    r->a20 = on;
    r->a20_calls++;
}

static void kbc_build(Rig *r)
{
    r->dev[0] = i8042_create(r->m, &r->m->io, irq_line(log_irq, r, 1), irq_line(log_irq, r, 12));
    cr_assert_not_null(r->dev[0]);
    i8042_set_a20(r->dev[0], a20_cb, r);
}

static void kbc_drive(Rig *r)
{
    I8042 *s = r->dev[0];
    out(r, 0x64, 1, 0xa8);              /* aux on */
    out(r, 0x64, 1, 0xd4);
    out(r, 0x60, 1, 0xf4);              /* mouse: reporting on */
    out(r, 0x64, 1, 0x20);              /* read the command byte */
    ps2_mouse_move(i8042_mouse(s), 5, -3, 1, PS2_BTN_LEFT);
    ps2_kbd_key(i8042_kbd(s), KEY_A, true);
    out(r, 0x64, 1, 0xd4);
    out(r, 0x60, 1, 0xf0);              /* mouse: remote mode, motion accumulates */
    ps2_mouse_move(i8042_mouse(s), 7, 9, 2, PS2_BTN_RIGHT);
    out(r, 0x60, 1, 0xed);              /* keyboard: LEDs, argument pending */
    out(r, 0x64, 1, 0x60);              /* write command byte: data pending */
    in(r, 0x64, 1);
    in(r, 0x60, 1);
}

static void kbc_drain(Rig *r)
{
    for (int i = 0; i < 16; i++) {
        uint64_t st = in(r, 0x64, 1);
        if (!(st & 1))
            break;
        in(r, 0x60, 1);
    }
}

static void kbc_probe(Rig *r)
{
    I8042 *s = r->dev[0];
    out(r, 0x60, 1, 0x47);              /* the command byte: translation on */
    kbc_drain(r);
    out(r, 0x60, 1, 0x02);              /* the LED argument */
    ps2_kbd_key(i8042_kbd(s), KEY_A, false);
    ps2_mouse_move(i8042_mouse(s), -300, 2, 0, 0);
    kbc_drain(r);
    tr(r, "leds=%u set=%d id=%d ", ps2_kbd_leds(i8042_kbd(s)), ps2_kbd_scancode_set(i8042_kbd(s)),
       ps2_mouse_id(i8042_mouse(s)));
    out(r, 0x64, 1, 0xd1);
    out(r, 0x60, 1, 0xdd);              /* output port: A20 off */
    tr(r, "a20=%d/%d ", r->a20, i8042_a20(s));
    out(r, 0x64, 1, 0xd4);
    out(r, 0x60, 1, 0xeb);              /* mouse: read data (the counters) */
    kbc_drain(r);
    out(r, 0x64, 1, 0xd4);
    out(r, 0x60, 1, 0xe9);              /* mouse status */
    out(r, 0x64, 1, 0xd0);
    kbc_drain(r);
}

static void kbc_loaded(Rig *a, Rig *b)
{
    cr_assert_gt(b->a20_calls, 0, "the board did not hear the A20 gate");
    cr_assert_eq(b->a20, i8042_a20(a->dev[0]));
}

static const Case kbc_case = { "i8042", kbc_build, kbc_drive, kbc_probe, "irq12=1",
                               kbc_loaded };
DEVICE_TESTS(kbc, 1)

Test(device_snap, kbc_refuses_reply_queue_length)
{
    /* version, ram[32], outport, pending, a2, obf, obf_aux, obuf, ctrlq[4]
     * (u16 each), then ctrl_n. */
    refuse_u64(&kbc_case, "i8042", 0, 1 + 32 + 6 + 8, 0, 5, "reply queue length");
}

/* ---- MC146818 ---- */

static uint8_t cmos(Rig *r, uint8_t idx)
{
    out(r, 0x70, 1, idx);
    return (uint8_t)in(r, 0x71, 1);
}

static void rtc_build(Rig *r)
{
    r->dev[0] = mc146818_create(r->m, &r->m->io, 0x70, irq_line(log_irq, r, 8));
    cr_assert_not_null(r->dev[0]);
}

static void rtc_drive(Rig *r)
{
    mc146818_set_time_ns(r->dev[0], 1700000000ll * 1000000000ll + 250000000ll);
    out(r, 0x70, 1, 0x0b);
    out(r, 0x71, 1, 0x72);              /* 24h BCD, PIE, AIE, UIE */
    out(r, 0x70, 1, 0x0a);
    out(r, 0x71, 1, 0x2f);              /* 2 Hz periodic */
    uint8_t sec = cmos(r, 0x00);
    unsigned s = (sec >> 4) * 10 + (sec & 15);
    s = (s + 3) % 60;
    out(r, 0x70, 1, 0x01);
    out(r, 0x71, 1, (s / 10) << 4 | s % 10);
    out(r, 0x70, 1, 0x03);
    out(r, 0x71, 1, 0xc0);
    out(r, 0x70, 1, 0x05);
    out(r, 0x71, 1, 0xc0);
    out(r, 0x70, 1, 0x40);
    out(r, 0x71, 1, 0x99);
    run(r, 300000000);
    out(r, 0x70, 1, 0x8c);              /* NMI masked, index on register C */
}

static void rtc_probe(Rig *r)
{
    in(r, 0x71, 1);
    tr(r, "nmi=%d ", mc146818_nmi_masked(r->dev[0]));
    for (int i = 0; i < 8; i++) {
        run(r, 400000000);
        cmos(r, 0x0c);
        cmos(r, 0x0a);
        cmos(r, 0x00);
    }
    for (uint8_t i = 0; i < 10; i++)
        cmos(r, i);
    cmos(r, 0x32);
    cmos(r, 0x40);
    out(r, 0x70, 1, 0x0b);
    out(r, 0x71, 1, 0x06);              /* binary, 24h, no interrupts */
    cmos(r, 0x04);
    run(r, 1000000000);
    cmos(r, 0x00);
}

static const Case rtc_case = { "mc146818", rtc_build, rtc_drive, rtc_probe, "irq8=1", NULL };
DEVICE_TESTS(rtc, 1)

/* ---- trivial devices ---- */

static void finisher_build(Rig *r)
{
    r->dev[0] = sifive_test_create(r->m, 0x100000);
    cr_assert_not_null(r->dev[0]);
}

static void finisher_probe(Rig *r)
{
    mrd(r, 0x100000, 4);
}

static const Case finisher_case = { "sifive_test", finisher_build, NULL, finisher_probe, NULL,
                                    NULL };
DEVICE_TESTS(finisher, 0)

static void debug_exit_build(Rig *r)
{
    r->dev[0] = isa_debug_exit_create(r->m, &r->m->io, 0xf4, 1, NULL);
    cr_assert_not_null(r->dev[0]);
}

static void debug_exit_probe(Rig *r)
{
    in(r, 0xf4, 1);
}

static const Case debug_exit_case = { "isa-debug-exit", debug_exit_build, NULL, debug_exit_probe,
                                      NULL, NULL };
DEVICE_TESTS(debug_exit, 0)

/* ---- goldfish RTC ---- */

#define GRTC 0x101000ull

static void grtc_build(Rig *r)
{
    r->dev[0] = goldfish_rtc_create(r->m, GRTC, irq_line(log_irq, r, 11));
    cr_assert_not_null(r->dev[0]);
}

static void grtc_drive(Rig *r)
{
    uint64_t lo = 0, hi = 0;
    as_read(&r->m->as, GRTC + GOLDFISH_RTC_TIME_LOW, 4, &lo);
    as_read(&r->m->as, GRTC + GOLDFISH_RTC_TIME_HIGH, 4, &hi);
    uint64_t alarm = (hi << 32 | lo) + 3000000;     /* 3 ms ahead */
    mwr(r, GRTC + GOLDFISH_RTC_IRQ_ENABLED, 4, 1);
    mwr(r, GRTC + GOLDFISH_RTC_ALARM_HIGH, 4, alarm >> 32);
    mwr(r, GRTC + GOLDFISH_RTC_ALARM_LOW, 4, (uint32_t)alarm);
    run(r, 1000);
}

/* No reads of the time itself: that is the host's clock. */
static void grtc_probe(Rig *r)
{
    mrd(r, GRTC + GOLDFISH_RTC_ALARM_STATUS, 4);
    mrd(r, GRTC + GOLDFISH_RTC_IRQ_ENABLED, 4);
    mrd(r, GRTC + GOLDFISH_RTC_ALARM_LOW, 4);
    mrd(r, GRTC + GOLDFISH_RTC_ALARM_HIGH, 4);
    mrd(r, GRTC + GOLDFISH_RTC_TIME_HIGH, 4);
    run(r, 4000000);
    mrd(r, GRTC + GOLDFISH_RTC_ALARM_STATUS, 4);
    mwr(r, GRTC + GOLDFISH_RTC_CLEAR_INTERRUPT, 4, 1);
    mwr(r, GRTC + GOLDFISH_RTC_IRQ_ENABLED, 4, 0);
}

static const Case grtc_case = { "goldfish_rtc", grtc_build, grtc_drive, grtc_probe, "irq11=1",
                                NULL };
DEVICE_TESTS(grtc, 1)

/* ---- fw_cfg ---- */

#define FWC 0x510

static void fwcfg_build(Rig *r)
{
    cr_assert_eq(machine_alloc_ram(r->m, 0, 0x10000, NULL), 0);
    r->dev[0] = fw_cfg_create(r->m, &r->m->io, FWC);
    cr_assert_not_null(r->dev[0]);
    fw_cfg_add_i64(r->dev[0], FW_CFG_RAM_SIZE, 0x10000);
    cr_assert_eq(fw_cfg_add_file(r->dev[0], "etc/test", "0123456789abcdef", 16), 0);
}

static void put_be32(Rig *r, uint64_t a, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        as_write(&r->m->as, a + (uint64_t)i, 1, (uint8_t)(v >> (24 - 8 * i)));
}

static void fwcfg_drive(Rig *r)
{
    out(r, FWC, 2, FW_CFG_SIGNATURE);
    in(r, FWC + 1, 1);
    in(r, FWC + 1, 1);
    /* A DMA descriptor: select the file, read 8 bytes to 0x2000. */
    int key = fw_cfg_file_key(r->dev[0], "etc/test");
    put_be32(r, 0x1000, (uint32_t)key << 16 | FW_CFG_DMA_CTL_SELECT | FW_CFG_DMA_CTL_READ);
    put_be32(r, 0x1004, 8);
    put_be32(r, 0x1008, 0);
    put_be32(r, 0x100c, 0x2000);
    /* The high half of the DMA address latched: 0x12_00000000. */
    out(r, FWC + 4, 4, GUINT32_SWAP_LE_BE(0x12u));
}

static void fwcfg_probe(Rig *r)
{
    in(r, FWC + 1, 1);
    in(r, FWC + 1, 1);
    out(r, FWC + 8, 4, GUINT32_SWAP_LE_BE(0x1000u));  /* at 0x12_00001000: nothing */
    mrd(r, 0x2000, 8);
    out(r, FWC + 4, 4, 0);
    out(r, FWC + 8, 4, GUINT32_SWAP_LE_BE(0x1000u));
    mrd(r, 0x1000, 4);
    mrd(r, 0x2000, 8);
    in(r, FWC + 1, 1);
    in(r, FWC + 1, 1);
    in(r, FWC, 1);
}

static const Case fwcfg_case = { "fw_cfg", fwcfg_build, fwcfg_drive, fwcfg_probe, NULL, NULL };
DEVICE_TESTS(fwcfg, 1)

Test(device_snap, fwcfg_refuses_offset_past_item)
{
    /* The signature item is selected, 2 of its 4 bytes read. */
    refuse_u64(&fwcfg_case, "fw_cfg", 0, 1 + 8, 2, 5, "read offset");
}

/* ---- PIIX4 power management (on its PCI bus) ---- */

#define PMBASE 0x600

static void pm_build(Rig *r)
{
    PciBus *bus = pci_bus_create(r->m, &r->m->io);
    cr_assert_not_null(bus);
    r->dev[0] = piix4_pm_create(r->m, bus, PCI_DEVFN(1, 3), &r->m->io, irq_line(log_irq, r, 9));
    cr_assert_not_null(r->dev[0]);
}

static void pm_drive(Rig *r)
{
    piix4_pm_set_base(r->dev[0], PMBASE);
    out(r, PMBASE + PIIX4_PM1_EN, 2, PIIX4_PM1_TMR | PIIX4_PM1_PWRBTN);
    piix4_pm_power_button(r->dev[0]);
    out(r, PMBASE + 0x0e, 2, 0xbeef);
    out(r, 0xcf8, 4, dev_pci_cfg_addr(PCI_DEVFN(1, 3), PIIX4_PM_PMBA));
    run(r, 1000000);
}

static void pm_probe(Rig *r)
{
    tr(r, "base=%d ", piix4_pm_io_base(r->dev[0]));
    in(r, PMBASE + PIIX4_PM1_STS, 2);
    in(r, PMBASE + PIIX4_PM_TMR, 4);
    in(r, PMBASE + 0x0e, 2);
    out(r, PMBASE + PIIX4_PM1_STS, 2, PIIX4_PM1_PWRBTN);
    run(r, 2500000000ll);               /* bit 23 of the timer toggles */
    in(r, PMBASE + PIIX4_PM1_STS, 2);
    out(r, PMBASE + PIIX4_PM1_STS, 2, PIIX4_PM1_TMR);
    in(r, 0xcfc, 4);                    /* PMBA through the latched address */
    out(r, 0xcfc, 4, 0x701);            /* move the block */
    tr(r, "base=%d ", piix4_pm_io_base(r->dev[0]));
    in(r, 0x700 + PIIX4_PM_TMR, 4);
}

static const Case pm_case = { "piix4-pm", pm_build, pm_drive, pm_probe, "irq9=1", NULL };
DEVICE_TESTS(pm, 1)

/* ---- i440FX + PIIX3 with a PCI function that interrupts ---- */

static void pam_cb(void *opaque, const uint8_t pam[I440FX_NPAM])
{
    Rig *r = opaque;
    memcpy(r->pam, pam, I440FX_NPAM);
    r->pam_calls++;
}

static void smram_cb(void *opaque, uint8_t smram)
{
    Rig *r = opaque;
    r->smram = smram;
    r->smram_calls++;
}

static const PciDeviceInfo intx_info = {
    .name = "test-intx",
    .vendor_id = 0x1234,
    .device_id = 0x5678,
    .class_code = 0xff0000,
    .interrupt_pin = 1,
};

#define INTX_DEVFN PCI_DEVFN(3, 0)

static void chipset_build(Rig *r)
{
    PciBus *bus = pci_bus_create(r->m, &r->m->io);
    cr_assert_not_null(bus);
    I440fxConfig c = { .pam_changed = pam_cb, .smram_changed = smram_cb, .opaque = r };
    for (int i = 0; i < 16; i++)
        c.isa_irq[i] = irq_line(log_irq, r, 100 + i);
    r->dev[0] = i440fx_create(r->m, bus, &c);
    cr_assert_not_null(r->dev[0]);
    PciDevice *d = pci_add_device(bus, INTX_DEVFN, &intx_info, NULL);
    cr_assert_not_null(d);
    pci_register_bar(d, 0, 0x100, PCI_BAR_IO);
    r->dev[1] = d;
    r->pam_calls = r->smram_calls = 0;
}

static void chipset_drive(Rig *r)
{
    dev_pci_cfg_write(r->m, PCI_DEVFN(1, 0), PIIX3_PIRQRC + 2, 1, 0x0a);  /* PIRQC: IRQ 10 */
    dev_pci_cfg_write(r->m, PCI_DEVFN(0, 0), I440FX_PAM, 1, 0x30);
    dev_pci_cfg_write(r->m, PCI_DEVFN(0, 0), I440FX_PAM + 1, 1, 0x31);
    dev_pci_cfg_write(r->m, PCI_DEVFN(0, 0), 0x72, 1, 0x4a);            /* SMRAM open */
    dev_pci_cfg_write(r->m, INTX_DEVFN, PCI_BASE_ADDRESS_0, 4, 0xd000);
    dev_pci_cfg_write(r->m, INTX_DEVFN, PCI_COMMAND, 2, PCI_COMMAND_IO);
    pci_set_irq(r->dev[1], 1);
    out(r, 0xcf9, 1, 0x02);
    out(r, 0xcf8, 4, dev_pci_cfg_addr(INTX_DEVFN, PCI_STATUS & ~3u));
}

static void chipset_probe(Rig *r)
{
    in(r, 0xcf9, 1);
    in(r, 0xcf8, 4);
    in(r, 0xcfc, 4);
    for (unsigned reg = 0; reg < 0x100; reg += 4) {
        dev_out(r->m, 0xcf8, 4, dev_pci_cfg_addr(PCI_DEVFN(0, 0), reg));
        in(r, 0xcfc, 4);
        dev_out(r->m, 0xcf8, 4, dev_pci_cfg_addr(PCI_DEVFN(1, 0), reg));
        in(r, 0xcfc, 4);
    }
    tr(r, "bar=%" PRIx64 " ", pci_bar_address(r->dev[1], 0));
    pci_set_irq(r->dev[1], 0);
    pci_set_irq(r->dev[1], 1);
    dev_pci_cfg_write(r->m, PCI_DEVFN(1, 0), PIIX3_PIRQRC + 2, 1, 0x0b);  /* to IRQ 11 */
    dev_pci_cfg_write(r->m, INTX_DEVFN, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
    tr(r, "pirqc=%d ", i440fx_pirq_irq(r->dev[0], 2));
    dev_pci_cfg_write(r->m, PCI_DEVFN(0, 0), 0x72, 1, 0x1a);            /* lock */
    dev_pci_cfg_write(r->m, PCI_DEVFN(0, 0), 0x72, 1, 0x4a);
    tr(r, "smram=%02x ", r->smram);
}

static void chipset_loaded(Rig *a, Rig *b)
{
    cr_assert_gt(b->pam_calls, 0, "the board did not hear PAM");
    cr_assert_arr_eq(b->pam, &i440fx_host(a->dev[0])->config[I440FX_PAM], I440FX_NPAM);
    cr_assert_gt(b->smram_calls, 0);
    cr_assert_eq(b->smram, i440fx_host(a->dev[0])->config[0x72]);
}

static const Case chipset_case = { "i440fx", chipset_build, chipset_drive, chipset_probe,
                                   "irq110=1", chipset_loaded };
DEVICE_TESTS(chipset, 1)

Test(device_snap, pci_refuses_a_function_not_here)
{
    /* version, CONFIG_ADDRESS (u32), the count, then the first devfn. */
    refuse_u64(&chipset_case, "pci", 0, 1 + 4 + 8, 0, 0x28, "not on this machine");
}

Test(device_snap, pci_refuses_another_count)
{
    refuse_u64(&chipset_case, "pci", 0, 1 + 4, 3, 2, "PCI functions");
}

/* ---- PIIX3 IDE: a PIO read, a PIO write and a DMA read in flight ---- */

#define IDE_SECTORS 256u
#define BMIBA 0xc000

static uint8_t pattern(uint64_t off) { return (uint8_t)(off * 7 + (off >> 9) * 13); }

static void ide_build(Rig *r)
{
    cr_assert_eq(machine_alloc_ram(r->m, 0, 1u << 20, NULL), 0);
    PciBus *bus = pci_bus_create(r->m, &r->m->io);
    cr_assert_not_null(bus);
    GError *err = NULL;
    r->dev[0] = piix_ide_create(r->m, bus, PCI_DEVFN(1, 1), &r->m->io,
                                irq_line(log_irq, r, 14), irq_line(log_irq, r, 15), &err);
    cr_assert_not_null(r->dev[0]);
    int fd = g_file_open_tmp("tandem-snap-ide-XXXXXX", &r->path, NULL);
    cr_assert_geq(fd, 0);
    uint8_t *img = g_malloc(IDE_SECTORS * 512);
    for (uint64_t i = 0; i < IDE_SECTORS * 512; i++)
        img[i] = pattern(i);
    cr_assert_eq(write(fd, img, IDE_SECTORS * 512), (ssize_t)(IDE_SECTORS * 512));
    close(fd);
    g_free(img);
    BlockOpenOpts o = { .format = "raw" };
    r->blk = blk_open(r->path, &o, &err);
    cr_assert_not_null(r->blk);
    cr_assert(ide_attach_disk(piix_ide_bus(r->dev[0], 0), 0, r->blk, "TD00001", &err));
}

/* What firmware does, on A only: B's bus master is unmapped until its
 * load re-derives the mapping from the loaded BAR. */
static void ide_setup(Rig *r)
{
    piix_ide_firmware_setup(r->dev[0], BMIBA);
}

static void ide_cmd(Rig *r, uint32_t lba, uint8_t count, uint8_t cmd)
{
    out(r, 0x1f6, 1, 0xe0 | (lba >> 24));
    out(r, 0x1f2, 1, count);
    out(r, 0x1f3, 1, (uint8_t)lba);
    out(r, 0x1f4, 1, (uint8_t)(lba >> 8));
    out(r, 0x1f5, 1, (uint8_t)(lba >> 16));
    out(r, 0x1f7, 1, cmd);
}

/* Reads n data words, hashed into the trace. */
static void ide_read_words(Rig *r, int n)
{
    uint32_t h = 2166136261u;
    for (int i = 0; i < n; i++) {
        uint64_t v = 0;
        as_read(&r->m->io, 0x1f0, 2, &v);
        h = (h ^ (uint32_t)v) * 16777619u;
    }
    tr(r, "data#%08x ", h);
}

static void ide_regs(Rig *r)
{
    for (uint16_t p = 0x1f1; p <= 0x1f7; p++)
        in(r, p, 1);
    in(r, 0x3f6, 1);
    in(r, BMIBA + 2, 1);
}

static void ide_pio_read_drive(Rig *r)
{
    ide_setup(r);
    ide_cmd(r, 5, 3, 0x20);
    run(r, IDE_REQUEST_NS);
    ide_read_words(r, 100);
}

static void ide_pio_read_probe(Rig *r)
{
    ide_regs(r);
    ide_read_words(r, 156);
    ide_regs(r);
    for (int i = 0; i < 2; i++) {
        run(r, IDE_REQUEST_NS);
        ide_regs(r);
        ide_read_words(r, 256);
    }
    ide_regs(r);
}

static void ide_pio_write_drive(Rig *r)
{
    ide_setup(r);
    out(r, 0x1f6, 1, 0xe0);
    out(r, 0x1f2, 1, 4);
    out(r, 0x1f7, 1, 0xc6);             /* SET MULTIPLE: 4 sectors a block */
    run(r, IDE_REQUEST_NS);
    in(r, 0x1f7, 1);
    ide_cmd(r, 9, 6, 0xc5);             /* WRITE MULTIPLE */
    for (int i = 0; i < 300; i++)
        out(r, 0x1f0, 2, 0x1234 + i);
}

static void ide_pio_write_probe(Rig *r)
{
    ide_regs(r);
    for (int i = 300; i < 4 * 256; i++)
        out(r, 0x1f0, 2, 0x1234 + i);
    ide_regs(r);
    run(r, IDE_REQUEST_NS);
    ide_regs(r);
    for (int i = 0; i < 2 * 256; i++)
        out(r, 0x1f0, 2, 0x4321 + i);
    run(r, IDE_REQUEST_NS);
    ide_regs(r);
    ide_cmd(r, 8, 8, 0xc4);             /* READ MULTIPLE it back */
    for (int i = 0; i < 2; i++) {
        run(r, IDE_REQUEST_NS);
        ide_regs(r);
        ide_read_words(r, 4 * 256);
    }
}

#define PRD 0x8000
#define DMABUF 0x10000

static void ide_dma_drive(Rig *r)
{
    ide_setup(r);
    /* One PRD entry: 4096 bytes at DMABUF, end of table. */
    as_write(&r->m->as, PRD, 4, DMABUF);
    as_write(&r->m->as, PRD + 4, 4, 0x80000000u | 4096);
    out(r, BMIBA + 4, 4, PRD);
    out(r, BMIBA + 2, 1, 0x06);
    ide_cmd(r, 20, 2, 0xc8);            /* READ DMA */
    out(r, BMIBA, 1, 0x09);             /* start, to memory */
    run(r, IDE_REQUEST_NS);
    /* The table has room left and the engine runs on: the next command
     * continues the walk.  Saved halfway through its request. */
    ide_cmd(r, 30, 2, 0xc8);
    run(r, IDE_REQUEST_NS / 2);
}

static void ide_dma_probe(Rig *r)
{
    ide_regs(r);
    ram_hash(r, DMABUF, 4096);
    run(r, IDE_REQUEST_NS);
    ide_regs(r);
    ram_hash(r, DMABUF, 4096);
    out(r, BMIBA, 1, 0x00);
    out(r, BMIBA + 2, 1, 0x06);
    ide_regs(r);
    /* And a DMA write whose engine starts late. */
    ide_cmd(r, 40, 2, 0xca);
    ide_regs(r);
    run(r, IDE_REQUEST_NS);
    out(r, BMIBA, 1, 0x01);
    run(r, IDE_REQUEST_NS);
    ide_regs(r);
}

static const Case ide_pio_read_case = { "ide-pio-read", ide_build, ide_pio_read_drive,
                                        ide_pio_read_probe, "irq14=1", NULL };
static const Case ide_pio_write_case = { "ide-pio-write", ide_build, ide_pio_write_drive,
                                         ide_pio_write_probe, "irq14=1", NULL };
static const Case ide_dma_case = { "ide-dma", ide_build, ide_dma_drive, ide_dma_probe,
                                   "irq14=1", NULL };
DEVICE_TESTS(ide_pio_read, 1)
DEVICE_TESTS(ide_pio_write, 1)
DEVICE_TESTS(ide_dma, 1)

/* The ide stream: version, irq_level, irq_pending, then per unit
 * present, sectors (u64), heads, spt (u16), status, error, mult (u64),
 * xfer_mode, wcache (25 bytes), then sel (u64), the task file (12 bytes),
 * cur (u64), cmd, lba48, chs, lba (u64), left (u32), block (u64), xfer,
 * pos, len, req (u64 each). */
#define IDE_OFF_BLOCK (3 + 2 * 25 + 8 + 12 + 8 + 3 + 8 + 4)
#define IDE_OFF_POS (IDE_OFF_BLOCK + 16)

Test(device_snap, ide_refuses_block_past_buffer)
{
    refuse_u64(&ide_pio_write_case, "ide", 0, IDE_OFF_BLOCK, 4, 17, "sectors per DRQ block");
}

Test(device_snap, ide_refuses_position_past_block)
{
    refuse_u64(&ide_pio_read_case, "ide", 0, IDE_OFF_POS, 200, 514, "PIO position");
}

Test(device_snap, ide_refuses_a_disk_of_another_size)
{
    refuse_u64(&ide_pio_read_case, "ide", 0, 4, IDE_SECTORS, IDE_SECTORS + 1, "sectors");
}

/* ---- virtio-mmio with a backend that keeps state ---- */

#define VIO 0x10001000ull
#define VRAM 0x80000000ull
#define VDESC (VRAM + 0x000)
#define VAVAIL (VRAM + 0x100)
#define VUSED (VRAM + 0x200)
#define VOUT (VRAM + 0x1000)
#define VIN (VRAM + 0x2000)

static void echo_notify(void *be, VirtQueue *vq)
{
    Echo *e = be;
    VirtqElem *el;
    while ((el = virtq_pop(vq))) {
        uint8_t buf[64];
        size_t n = virtq_elem_read(vq, el, 0, buf, sizeof(buf));
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)(buf[i] + e->processed);
        size_t w = virtq_elem_write(vq, el, 0, buf, n);
        virtq_push(vq, el, (uint32_t)w);
        g_free(el);
        e->processed++;
    }
    virtq_notify(vq);
}

static uint64_t echo_config(void *be, uint32_t off, unsigned size)
{
    Echo *e = be;
    return (uint64_t)(e->processed * 0x01010101u) >> (8 * off);
}

static void echo_save(void *be, void *w)
{
    snap_put_u32(w, (uint32_t)((Echo *)be)->processed);
}

static bool echo_load(void *be, void *r)
{
    uint32_t v = snap_get_u32(r);
    if (!snap_reader_ok(r))
        return false;
    ((Echo *)be)->processed = (int)(v & 0xff);
    return true;
}

static void echo_reset(void *be)
{
    ((Echo *)be)->processed = 0;
}

static const VirtioDeviceOps echo_ops = {
    .name = "echo",
    .device_id = 31,
    .num_queues = 2,
    .queue_max = 8,
    .config_size = 4,
    .config_read = echo_config,
    .queue_notify = echo_notify,
    .reset = echo_reset,
    .save = echo_save,
    .load = echo_load,
};

static void vio_build(Rig *r)
{
    cr_assert_eq(machine_alloc_ram(r->m, VRAM, 0x10000, NULL), 0);
    VirtioMmio *t = virtio_mmio_create(r->m, VIO, irq_line(log_irq, r, 1));
    cr_assert_not_null(t);
    cr_assert_not_null(virtio_mmio_plug(t, &echo_ops, &r->echo));
    r->dev[0] = t;
}

static void vio_w(Rig *r, unsigned reg, uint32_t v) { mwr(r, VIO + reg, 4, v); }

/* Descriptors 2k (readable, 8 bytes at VOUT) -> 2k+1 (writable at VIN). */
static void vio_post(Rig *r, int k, uint16_t avail_idx)
{
    uint64_t d = VDESC + 32ull * (unsigned)k;
    as_write(&r->m->as, d, 8, VOUT + 16ull * (unsigned)k);
    as_write(&r->m->as, d + 8, 4, 8);
    as_write(&r->m->as, d + 12, 2, VIRTQ_DESC_F_NEXT);
    as_write(&r->m->as, d + 14, 2, (uint64_t)(2 * k + 1));
    as_write(&r->m->as, d + 16, 8, VIN + 16ull * (unsigned)k);
    as_write(&r->m->as, d + 24, 4, 8);
    as_write(&r->m->as, d + 28, 2, VIRTQ_DESC_F_WRITE);
    as_write(&r->m->as, VOUT + 16ull * (unsigned)k, 8, 0x0807060504030201ull * (unsigned)(k + 1));
    as_write(&r->m->as, VAVAIL + 4 + 2ull * ((avail_idx - 1) % 8), 2, (uint64_t)(2 * k));
    as_write(&r->m->as, VAVAIL + 2, 2, avail_idx);
}

static void vio_drive(Rig *r)
{
    vio_w(r, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    vio_w(r, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    vio_w(r, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    vio_w(r, VIRTIO_MMIO_STATUS, 0x0b);
    vio_w(r, VIRTIO_MMIO_QUEUE_SEL, 0);
    vio_w(r, VIRTIO_MMIO_QUEUE_NUM, 8);
    vio_w(r, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)VDESC);
    vio_w(r, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)VAVAIL);
    vio_w(r, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)VUSED);
    vio_w(r, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
    vio_w(r, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
    vio_w(r, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
    vio_w(r, VIRTIO_MMIO_QUEUE_READY, 1);
    vio_w(r, VIRTIO_MMIO_QUEUE_SEL, 1);
    vio_w(r, VIRTIO_MMIO_QUEUE_NUM, 4);             /* queue 1: sized, not ready */
    vio_w(r, VIRTIO_MMIO_STATUS, 0x0f);
    vio_post(r, 0, 1);
    vio_w(r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    vio_post(r, 1, 2);                               /* posted, not kicked */
    vio_w(r, VIRTIO_MMIO_QUEUE_SEL, 5);
    vio_w(r, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
}

static void vio_probe(Rig *r)
{
    static const unsigned regs[] = {
        VIRTIO_MMIO_DEVICE_ID, VIRTIO_MMIO_DEVICE_FEATURES, VIRTIO_MMIO_QUEUE_NUM_MAX,
        VIRTIO_MMIO_QUEUE_NUM, VIRTIO_MMIO_QUEUE_READY, VIRTIO_MMIO_INTERRUPT_STATUS,
        VIRTIO_MMIO_STATUS, VIRTIO_MMIO_QUEUE_DESC_LOW, VIRTIO_MMIO_QUEUE_DRIVER_LOW,
        VIRTIO_MMIO_QUEUE_DEVICE_LOW, VIRTIO_MMIO_CONFIG_GENERATION, VIRTIO_MMIO_CONFIG,
    };
    for (int q = 5; q >= 0; q -= 4) {
        for (size_t i = 0; i < G_N_ELEMENTS(regs); i++)
            mrd(r, VIO + regs[i], 4);
        vio_w(r, VIRTIO_MMIO_QUEUE_SEL, (uint32_t)(q == 5 ? 1 : 0));
    }
    vio_w(r, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_QUEUE);
    vio_w(r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    mrd(r, VUSED, 4);
    mrd(r, VUSED + 4, 8);
    mrd(r, VUSED + 12, 8);
    mrd(r, VIN, 8);
    mrd(r, VIN + 16, 8);
    mrd(r, VIO + VIRTIO_MMIO_CONFIG, 4);
    vio_post(r, 2, 3);
    vio_w(r, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
    mrd(r, VIN + 32, 8);
    vio_w(r, VIRTIO_MMIO_STATUS, 0);
    mrd(r, VIO + VIRTIO_MMIO_INTERRUPT_STATUS, 4);
    mrd(r, VIO + VIRTIO_MMIO_CONFIG, 4);
}

static const Case vio_case = { "virtio_mmio", vio_build, vio_drive, vio_probe, "irq1=1", NULL };
DEVICE_TESTS(vio, 1)

Test(device_snap, virtio_refuses_oversized_queue)
{
    /* version, irq, three selectors (u32), device id, features, status,
     * isr, generation, then queue 0's size. */
    refuse_u64(&vio_case, "virtio_mmio", 0, 1 + 1 + 12 + 4 + 8 + 1 + 4 + 4, 8, 9,
               "virtqueue size");
}

/* ---- RISC-V CLINT and PLIC ---- */

#define CLINT 0x2000000ull
#define PLIC 0xc000000ull

static void clint_build(Rig *r)
{
    IrqLine msip = irq_line(log_irq, r, 3), mtip = irq_line(log_irq, r, 7);
    r->dev[0] = riscv_aclint_create(r->m, CLINT, 1, &msip, &mtip);
    cr_assert_not_null(r->dev[0]);
}

static void clint_drive(Rig *r)
{
    run(r, 1000);
    mwr(r, CLINT + RISCV_ACLINT_MSIP, 4, 1);
    mwr(r, CLINT + RISCV_ACLINT_MTIME, 8, 5000);
    mwr(r, CLINT + RISCV_ACLINT_MTIMECMP, 8, 5030);
    run(r, 1000);
}

static void clint_probe(Rig *r)
{
    mrd(r, CLINT + RISCV_ACLINT_MTIME, 8);
    mrd(r, CLINT + RISCV_ACLINT_MTIMECMP, 4);
    mrd(r, CLINT + RISCV_ACLINT_MSIP, 4);
    run(r, 5000);
    mrd(r, CLINT + RISCV_ACLINT_MTIME, 4);
    mwr(r, CLINT + RISCV_ACLINT_MSIP, 4, 0);
    mwr(r, CLINT + RISCV_ACLINT_MTIMECMP + 4, 4, 1);
    run(r, 1000);
    mwr(r, CLINT + RISCV_ACLINT_MTIME + 4, 4, 1);
    run(r, 1000);
}

static const Case clint_case = { "riscv_aclint", clint_build, clint_drive, clint_probe,
                                 "irq7=1", NULL };
DEVICE_TESTS(clint, 1)

static void plic_in(Rig *r, int src, int level)
{
    IrqLine l = riscv_plic_input(r->dev[0], src);
    irq_set(&l, level);
}

static void plic_build(Rig *r)
{
    IrqLine ctx[2] = { irq_line(log_irq, r, 11), irq_line(log_irq, r, 9) };
    r->dev[0] = riscv_plic_create(r->m, PLIC, RISCV_PLIC_VIRT_SIZE, RISCV_PLIC_VIRT_SOURCES, 2,
                                  ctx);
    cr_assert_not_null(r->dev[0]);
}

static void plic_drive(Rig *r)
{
    mwr(r, PLIC + 4 * 5, 4, 3);
    mwr(r, PLIC + 4 * 10, 4, 5);
    mwr(r, PLIC + 4 * 40, 4, 1);
    mwr(r, PLIC + RISCV_PLIC_ENABLE, 4, 1u << 5 | 1u << 10);
    mwr(r, PLIC + RISCV_PLIC_ENABLE + 4, 4, 1u << 8);
    mwr(r, PLIC + RISCV_PLIC_ENABLE + RISCV_PLIC_ENABLE_STRIDE, 4, 1u << 10);
    mwr(r, PLIC + RISCV_PLIC_CONTEXT + RISCV_PLIC_CONTEXT_STRIDE, 4, 4);
    plic_in(r, 5, 1);
    plic_in(r, 10, 1);
    plic_in(r, 40, 1);
    mrd(r, PLIC + RISCV_PLIC_CONTEXT + 4, 4);       /* claims 10 */
    plic_in(r, 40, 0);
}

static void plic_probe(Rig *r)
{
    mrd(r, PLIC + RISCV_PLIC_PENDING, 4);
    mrd(r, PLIC + RISCV_PLIC_PENDING + 4, 4);
    mrd(r, PLIC + RISCV_PLIC_CONTEXT + RISCV_PLIC_CONTEXT_STRIDE + 4, 4);
    mwr(r, PLIC + RISCV_PLIC_CONTEXT + 4, 4, 10);   /* complete: still high, again */
    for (int i = 0; i < 4; i++) {
        uint64_t src = mrd(r, PLIC + RISCV_PLIC_CONTEXT + 4, 4);
        plic_in(r, (int)src, 0);
        mwr(r, PLIC + RISCV_PLIC_CONTEXT + 4, 4, src);
    }
    mrd(r, PLIC + RISCV_PLIC_PENDING, 4);
    mwr(r, PLIC + RISCV_PLIC_CONTEXT + RISCV_PLIC_CONTEXT_STRIDE, 4, 0);
    plic_in(r, 10, 1);
}

static const Case plic_case = { "riscv_plic", plic_build, plic_drive, plic_probe, "irq11=1",
                                NULL };
DEVICE_TESTS(plic, 1)

/* ---- RTL8139 (a packet in its ring, TimerInt armed, an EEPROM read
 * half clocked in) ---- */

#define NIC_IO   0xc100
#define NIC_MMIO 0xfebff000u
#define NIC_RING 0x10000u

static void nic_intx(void *opaque, PciDevice *d, int pin, int level)
{
    Rig *r = opaque;
    tr(r, "intx%d=%d@%" PRId64 " ", pin, level, machine_ns(r->m));
}

static void nic_tx(void *opaque, const uint8_t *buf, size_t len)
{
    Rig *r = opaque;
    tr(r, "tx%zu#%08x ", len, fnv(buf, len));
}

static void nic_build(Rig *r)
{
    cr_assert_eq(machine_alloc_ram(r->m, 0, 1u << 20, NULL), 0);
    PciBus *bus = pci_bus_create(r->m, &r->m->io);
    cr_assert_not_null(bus);
    pci_bus_set_intx_router(bus, nic_intx, r);
    NetClient *nc = g_new0(NetClient, 1);
    machine_keep(r->m, nc);
    nc->id = "n1";
    nc->transmit = nic_tx;
    nc->be_opaque = r;
    static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    GError *err = NULL;
    r->dev[0] = rtl8139_create(r->m, bus, PCI_DEVFN(3, 0), &r->m->io, mac, nc, &err);
    cr_assert_not_null(r->dev[0]);
}

static void nic_frame(Rig *r, size_t len, uint8_t seed)
{
    uint8_t f[1514];
    memcpy(f, "\x52\x54\x00\x12\x34\x56\x52\x55\x0a\x00\x02\x02\x08\x00", 14);
    for (size_t i = 14; i < len; i++)
        f[i] = (uint8_t)(seed + i);
    tr(r, "can%d ", rtl8139_can_receive(r->dev[0], len));
    rtl8139_receive(r->dev[0], f, len);
}

static void nic_drive(Rig *r)
{
    rtl8139_firmware_setup(r->dev[0], NIC_IO, NIC_MMIO, 11);
    out(r, NIC_IO + 0x30, 4, NIC_RING);
    out(r, NIC_IO + 0x37, 1, 0x0c);
    out(r, NIC_IO + 0x44, 4, 0x8a);              /* 8K, WRAP, AB | APM */
    out(r, NIC_IO + 0x3c, 2, 0xc07f);
    out(r, NIC_IO + 0x08, 4, 0x80000000u);
    nic_frame(r, 1000, 1);
    nic_frame(r, 1514, 2);
    out(r, NIC_IO + 0x38, 2, 1016 - 16);         /* the first one read */
    out(r, NIC_IO + 0x24, 4, 0x20000);
    out(r, NIC_IO + 0x48, 4, 0);
    out(r, NIC_IO + 0x54, 4, 50000);
    /* An EEPROM read command half clocked in. */
    out(r, NIC_IO + 0x50, 1, 0x80);
    out(r, NIC_IO + 0x50, 1, 0x88);
    for (int i = 0; i < 5; i++) {
        uint8_t d = (0x187u >> (8 - i) & 1) ? 0x02 : 0;
        out(r, NIC_IO + 0x50, 1, 0x88 | d);
        out(r, NIC_IO + 0x50, 1, 0x8c | d);
    }
    run(r, 1000);
}

static void nic_probe(Rig *r)
{
    for (unsigned i = 0; i < 0x100; i += 4)
        in(r, NIC_IO + (uint16_t)i, 4);
    mrd(r, NIC_MMIO + 0x3e, 2);
    for (int i = 5; i < 9; i++) {
        uint8_t d = (0x187u >> (8 - i) & 1) ? 0x02 : 0;
        out(r, NIC_IO + 0x50, 1, 0x88 | d);
        out(r, NIC_IO + 0x50, 1, 0x8c | d);
    }
    for (int i = 0; i < 16; i++) {
        out(r, NIC_IO + 0x50, 1, 0x8c);
        in(r, NIC_IO + 0x50, 1);
        out(r, NIC_IO + 0x50, 1, 0x88);
    }
    nic_frame(r, 1514, 3);
    nic_frame(r, 200, 4);
    ram_hash(r, NIC_RING, 8192 + 1600);
    out(r, NIC_IO + 0x3e, 2, 0xffff);
    for (uint32_t i = 0; i < 100; i++)
        mwr(r, 0x20000 + i, 1, i);
    out(r, NIC_IO + 0x10, 4, 100);               /* descriptor 0: nothing ready */
    out(r, NIC_IO + 0x14, 4, 100);
    in(r, NIC_IO + 0x60, 2);
    run(r, 2000000);                              /* TimerInt fires */
    in(r, NIC_IO + 0x3e, 2);
}

static const Case nic_case = { "rtl8139", nic_build, nic_drive, nic_probe, "intx0=1", NULL };
DEVICE_TESTS(nic, 1)

/* ---- virtio-pci (the echo backend: one request served, one posted and
 * kicked while bus mastering is off, a second queue sized, selectors
 * moved) ---- */

#define VP_BAR    0xfe000000ull
#define VP_COMMON (VP_BAR + VIRTIO_PCI_COMMON_OFF)

static void vp_build(Rig *r)
{
    cr_assert_eq(machine_alloc_ram(r->m, VRAM, 0x10000, NULL), 0);
    PciBus *bus = pci_bus_create(r->m, &r->m->io);
    cr_assert_not_null(bus);
    pci_bus_set_intx_router(bus, nic_intx, r);
    GError *err = NULL;
    VirtioPci *t = virtio_pci_create(r->m, bus, PCI_DEVFN(4, 0), &r->m->as, 31, &err);
    cr_assert_not_null(t);
    cr_assert_not_null(virtio_pci_plug(t, &echo_ops, &r->echo));
    r->dev[0] = t;
}

static void vp_w(Rig *r, unsigned off, unsigned size, uint64_t v)
{
    mwr(r, VP_COMMON + off, size, v);
}

static void vp_drive(Rig *r)
{
    pci_firmware_setup(virtio_pci_device(r->dev[0]),
                       (const uint64_t[PCI_NUM_BARS]){ [VIRTIO_PCI_BAR] = VP_BAR }, 11);
    vp_w(r, VIRTIO_PCI_COMMON_STATUS, 1, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    vp_w(r, VIRTIO_PCI_COMMON_GFSELECT, 4, 1);
    vp_w(r, VIRTIO_PCI_COMMON_GF, 4, 1);
    vp_w(r, VIRTIO_PCI_COMMON_STATUS, 1, 0x0b);
    vp_w(r, VIRTIO_PCI_COMMON_Q_SELECT, 2, 0);
    vp_w(r, VIRTIO_PCI_COMMON_Q_SIZE, 2, 8);
    vp_w(r, VIRTIO_PCI_COMMON_Q_DESCLO, 8, VDESC);
    vp_w(r, VIRTIO_PCI_COMMON_Q_AVAILLO, 4, (uint32_t)VAVAIL);
    vp_w(r, VIRTIO_PCI_COMMON_Q_AVAILHI, 4, 0);
    vp_w(r, VIRTIO_PCI_COMMON_Q_USEDLO, 8, VUSED);
    vp_w(r, VIRTIO_PCI_COMMON_Q_ENABLE, 2, 1);
    vp_w(r, VIRTIO_PCI_COMMON_Q_SELECT, 2, 1);
    vp_w(r, VIRTIO_PCI_COMMON_Q_SIZE, 2, 4);        /* queue 1: sized, not enabled */
    vp_w(r, VIRTIO_PCI_COMMON_STATUS, 1, 0x0f);
    vio_post(r, 0, 1);
    mwr(r, VP_BAR + VIRTIO_PCI_NOTIFY_OFF, 2, 0);
    vio_post(r, 1, 2);
    /* Kicked without bus mastering: waits for the bit. */
    pci_config_write(virtio_pci_device(r->dev[0]), PCI_COMMAND, PCI_COMMAND_MEMORY, 2);
    mwr(r, VP_BAR + VIRTIO_PCI_NOTIFY_OFF, 2, 0);
    vp_w(r, VIRTIO_PCI_COMMON_Q_SELECT, 2, 5);
    vp_w(r, VIRTIO_PCI_COMMON_DFSELECT, 4, 1);
}

static void vp_probe(Rig *r)
{
    static const unsigned fields[][2] = {
        { VIRTIO_PCI_COMMON_DFSELECT, 4 }, { VIRTIO_PCI_COMMON_DF, 4 },
        { VIRTIO_PCI_COMMON_GFSELECT, 4 }, { VIRTIO_PCI_COMMON_GF, 4 },
        { VIRTIO_PCI_COMMON_STATUS, 1 }, { VIRTIO_PCI_COMMON_CFGGENERATION, 1 },
        { VIRTIO_PCI_COMMON_Q_SELECT, 2 }, { VIRTIO_PCI_COMMON_Q_SIZE, 2 },
        { VIRTIO_PCI_COMMON_Q_ENABLE, 2 }, { VIRTIO_PCI_COMMON_Q_DESCLO, 8 },
        { VIRTIO_PCI_COMMON_Q_AVAILLO, 8 }, { VIRTIO_PCI_COMMON_Q_USEDLO, 8 },
    };
    mrd(r, VUSED + 2, 2);
    pci_config_write(virtio_pci_device(r->dev[0]), PCI_COMMAND,
                     PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
    mrd(r, VUSED + 2, 2);                            /* the waiting kick ran */
    for (int q = 5; q >= 0; q -= 4) {
        for (size_t i = 0; i < G_N_ELEMENTS(fields); i++)
            mrd(r, VP_COMMON + fields[i][0], fields[i][1]);
        vp_w(r, VIRTIO_PCI_COMMON_Q_SELECT, 2, (uint64_t)(q == 5 ? 1 : 0));
    }
    mrd(r, VP_BAR + VIRTIO_PCI_DEVICE_OFF, 4);
    mrd(r, VP_BAR + VIRTIO_PCI_ISR_OFF, 1);          /* clears, INTx drops */
    mrd(r, VP_BAR + VIRTIO_PCI_ISR_OFF, 1);
    mwr(r, VP_BAR + VIRTIO_PCI_NOTIFY_OFF, 2, 0);
    mrd(r, VUSED, 4);
    mrd(r, VUSED + 4, 8);
    mrd(r, VUSED + 12, 8);
    mrd(r, VIN, 8);
    mrd(r, VIN + 16, 8);
    vio_post(r, 2, 3);
    mwr(r, VP_BAR + VIRTIO_PCI_NOTIFY_OFF, 2, 0);
    mrd(r, VIN + 32, 8);
    vp_w(r, VIRTIO_PCI_COMMON_STATUS, 1, 0);
    mrd(r, VP_BAR + VIRTIO_PCI_ISR_OFF, 1);
    mrd(r, VP_COMMON + VIRTIO_PCI_COMMON_Q_SIZE, 2);
}

static const Case vp_case = { "virtio-pci", vp_build, vp_drive, vp_probe, "intx0=1", NULL };
DEVICE_TESTS(vp, 1)

Test(device_snap, virtio_pci_refuses_oversized_queue)
{
    /* version, three selectors (u32, u32, u16), the pending kicks (u16),
     * device id, features, status, isr, generation, then queue 0's size. */
    refuse_u64(&vp_case, "virtio-pci", 0, 1 + 4 + 4 + 2 + 2 + 4 + 8 + 1 + 4 + 4, 8, 9,
               "virtqueue size");
}

/* ---- virtio-net on virtio-mmio ---- */

#define VN_RX_DESC  (VRAM + 0x000)
#define VN_RX_AVAIL (VRAM + 0x100)
#define VN_RX_USED  (VRAM + 0x200)
#define VN_TX_DESC  (VRAM + 0x400)
#define VN_TX_AVAIL (VRAM + 0x500)
#define VN_TX_USED  (VRAM + 0x600)
#define VN_BUF      (VRAM + 0x1000)      /* receive buffers: 0x800 each */
#define VN_TXBUF    (VRAM + 0x8000)

static void vn_build(Rig *r)
{
    cr_assert_eq(machine_alloc_ram(r->m, VRAM, 0x10000, NULL), 0);
    VirtioMmio *t = virtio_mmio_create(r->m, VIO, irq_line(log_irq, r, 1));
    cr_assert_not_null(t);
    NetClient *nc = g_new0(NetClient, 1);
    machine_keep(r->m, nc);
    nc->id = "n1";
    nc->transmit = nic_tx;
    nc->be_opaque = r;
    static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 };
    GError *err = NULL;
    r->dev[0] = virtio_net_create(r->m, virtio_mmio_slot(t), "virtio-net-device", mac, nc, &err);
    cr_assert_not_null(r->dev[0]);
}

static void vn_queue(Rig *r, unsigned q, uint64_t desc, uint64_t avail, uint64_t used)
{
    vio_w(r, VIRTIO_MMIO_QUEUE_SEL, q);
    vio_w(r, VIRTIO_MMIO_QUEUE_NUM, 8);
    vio_w(r, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)desc);
    vio_w(r, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)avail);
    vio_w(r, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)used);
    vio_w(r, VIRTIO_MMIO_QUEUE_READY, 1);
}

/* Receive buffer k (descriptor k, 0x800 bytes), avail entry n. */
static void vn_post_rx(Rig *r, unsigned k, uint16_t n)
{
    uint64_t d = VN_RX_DESC + 16ull * k;
    as_write(&r->m->as, d, 8, VN_BUF + 0x800ull * k);
    as_write(&r->m->as, d + 8, 4, 0x800);
    as_write(&r->m->as, d + 12, 2, VIRTQ_DESC_F_WRITE);
    as_write(&r->m->as, VN_RX_AVAIL + 4 + 2ull * ((n - 1) % 8), 2, k);
    as_write(&r->m->as, VN_RX_AVAIL + 2, 2, n);
}

/* A 12-byte header and a len-byte frame at descriptor k, avail entry n. */
static void vn_send(Rig *r, unsigned k, uint16_t n, uint32_t len)
{
    uint64_t d = VN_TX_DESC + 16ull * k, b = VN_TXBUF + 0x800ull * k;
    for (uint32_t i = 0; i < 12 + len; i++)
        as_write(&r->m->as, b + i, 1, i < 12 ? 0 : (uint8_t)(i * 5 + k));
    as_write(&r->m->as, d, 8, b);
    as_write(&r->m->as, d + 8, 4, 12 + len);
    as_write(&r->m->as, d + 12, 2, 0);
    as_write(&r->m->as, VN_TX_AVAIL + 4 + 2ull * ((n - 1) % 8), 2, k);
    as_write(&r->m->as, VN_TX_AVAIL + 2, 2, n);
    vio_w(r, VIRTIO_MMIO_QUEUE_NOTIFY, VIRTIO_NET_TXQ);
}

static void vn_frame(Rig *r, size_t len, uint8_t seed)
{
    uint8_t f[1514];
    for (size_t i = 0; i < len; i++)
        f[i] = (uint8_t)(seed + i);
    tr(r, "can%d ", virtio_net_can_receive(r->dev[0], len));
    virtio_net_receive(r->dev[0], f, len);
}

static void vn_drive(Rig *r)
{
    vio_w(r, VIRTIO_MMIO_STATUS, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
    vio_w(r, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
    vio_w(r, VIRTIO_MMIO_DRIVER_FEATURES, (1u << VIRTIO_NET_F_MAC) | (1u << VIRTIO_NET_F_STATUS));
    vio_w(r, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
    vio_w(r, VIRTIO_MMIO_DRIVER_FEATURES, 1);
    vio_w(r, VIRTIO_MMIO_STATUS, 0x0b);
    vn_queue(r, VIRTIO_NET_RXQ, VN_RX_DESC, VN_RX_AVAIL, VN_RX_USED);
    vn_queue(r, VIRTIO_NET_TXQ, VN_TX_DESC, VN_TX_AVAIL, VN_TX_USED);
    vio_w(r, VIRTIO_MMIO_STATUS, 0x0f);
    for (uint16_t k = 0; k < 3; k++)
        vn_post_rx(r, k, (uint16_t)(k + 1));
    vn_frame(r, 1000, 1);
    vn_send(r, 0, 1, 60);
}

static void vn_probe(Rig *r)
{
    static const unsigned regs[] = {
        VIRTIO_MMIO_DEVICE_ID, VIRTIO_MMIO_DEVICE_FEATURES, VIRTIO_MMIO_QUEUE_NUM,
        VIRTIO_MMIO_QUEUE_READY, VIRTIO_MMIO_INTERRUPT_STATUS, VIRTIO_MMIO_STATUS,
        VIRTIO_MMIO_QUEUE_DESC_LOW, VIRTIO_MMIO_CONFIG, VIRTIO_MMIO_CONFIG + 4,
    };
    for (unsigned q = 0; q < 2; q++) {
        vio_w(r, VIRTIO_MMIO_QUEUE_SEL, q);
        for (size_t i = 0; i < G_N_ELEMENTS(regs); i++)
            mrd(r, VIO + regs[i], 4);
    }
    vio_w(r, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_ISR_QUEUE);
    vn_frame(r, 1514, 2);
    vn_frame(r, 80, 3);
    vn_frame(r, 80, 4);                           /* no buffer left */
    mrd(r, VN_RX_USED, 4);
    for (unsigned i = 0; i < 3; i++)
        mrd(r, VN_RX_USED + 4 + 8 * i, 8);
    ram_hash(r, VN_BUF, 0x1800);
    vn_send(r, 1, 2, 300);
    mrd(r, VN_TX_USED, 4);
    mrd(r, VIO + VIRTIO_MMIO_INTERRUPT_STATUS, 4);
}

static const Case vn_case = { "virtio_net", vn_build, vn_drive, vn_probe, "tx300#", NULL };
DEVICE_TESTS(vn, 1)

/* ---- whole boards: every device of pc and virt, and pc's PAM map ---- */

static Machine *board_new(Options *o, const char *arch, int argc, char **argv)
{
    GError *err = NULL;
    if (!target_find(arch))
        return NULL;
    cr_assert(options_parse(o, argc, argv, &err), "%s", err ? err->message : "");
    o->arch = arch;
    Machine *m = machine_create(o, &err);
    cr_assert_not_null(m, "%s", err ? err->message : "");
    return m;
}

/* Builds two machines from argv, lets prep (optional) touch the first,
 * then moves every device's state from one to the other. */
static void board_roundtrip(const char *arch, int argc, char **argv,
                            void (*prep)(Machine *a), void (*check)(Machine *a, Machine *b))
{
    Options oa, ob;
    Machine *a = board_new(&oa, arch, argc, argv);
    if (!a) {
        cr_skip_test("no %s target in this build", arch);
        return;
    }
    Machine *b = board_new(&ob, arch, argc, argv);
    if (prep)
        prep(a);
    Blobs sa, sb;
    save_all(a, &sa);
    memcpy(b->ram, a->ram, a->ram_size);
    load_all(b, &sa);
    save_all(b, &sb);
    blobs_equal(b, &sa, &sb, "board saved again after loading");
    if (check)
        check(a, b);
    blobs_free(&sa);
    blobs_free(&sb);
    machine_destroy(a);
    machine_destroy(b);
}

static void pc_prep(Machine *a)
{
    /* Shadow the BIOS: 0xF0000 to RAM (read/write), 0xC0000 read-only. */
    dev_pci_cfg_write(a, PCI_DEVFN(0, 0), I440FX_PAM, 1, 0x30);
    dev_pci_cfg_write(a, PCI_DEVFN(0, 0), I440FX_PAM + 1, 1, 0x01);
    cr_assert_eq(as_write(&a->as, 0xf0000, 4, 0xdeadbeef), MEM_OK);
}

static void pc_check(Machine *a, Machine *b)
{
    static const uint64_t seg[] = { 0xc0000, 0xc4000, 0xe0000, 0xf0000 };
    for (size_t i = 0; i < G_N_ELEMENTS(seg); i++) {
        MemRegion *ra = as_find(&a->as, seg[i]), *rb = as_find(&b->as, seg[i]);
        cr_assert_eq(ra != NULL, rb != NULL, "0x%" PRIx64 " mapped on one side only", seg[i]);
        if (!ra)
            continue;
        cr_assert_str_eq(ra->name, rb->name, "0x%" PRIx64, seg[i]);
        cr_assert_eq(ra->readonly, rb->readonly, "0x%" PRIx64, seg[i]);
        cr_assert_eq(ra->base, rb->base);
        cr_assert_eq(ra->size, rb->size);
    }
    uint64_t v = 0;
    cr_assert_eq(as_read(&b->as, 0xf0000, 4, &v), MEM_OK);
    cr_assert_eq(v, 0xdeadbeef, "0xF0000 is not the shadow RAM after the load");
    cr_assert_eq(as_write(&b->as, 0xf0004, 4, 0x12345678), MEM_OK);
    cr_assert_eq(as_read(&b->as, 0xf0004, 4, &v), MEM_OK);
    cr_assert_eq(v, 0x12345678);
}

Test(device_snap, pc_board_pam)
{
    char *argv[] = { "tandem", "-M", "pc", "-m", "32", "-nographic", "-serial", "none",
                     "-monitor", "none", NULL };
    board_roundtrip("x86_64", 10, argv, pc_prep, pc_check);
}

Test(device_snap, virt_board)
{
    char *argv[] = { "tandem", "-M", "virt", "-m", "64", "-nographic", "-serial", "none",
                     "-monitor", "none", "-bios", "none", NULL };
    board_roundtrip("riscv64", 12, argv, NULL, NULL);
}
