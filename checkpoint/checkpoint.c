/* Whole-machine snapshots (checkpoint/checkpoint.h). */
#include "checkpoint/checkpoint.h"

#include <inttypes.h>
#include <string.h>
#include <zstd.h>

#include "checkpoint/snap.h"
#include "rr/rr.h"
#include "vmm/error.h"
#include "vmm/hash.h"
#include "vmm/machine.h"
#include "vmm/target.h"

#define STATE_MAGIC "TNDMVMST"
#define VM_MAGIC "TNDMVMSV"
#define STATE_VERSION 1
#define VM_VERSION 1

const char *checkpoint_unsupported(Machine *m)
{
    static char why[160];
    if (!m->cpu_ops->save || !m->cpu_ops->load) {
        snprintf(why, sizeof(why), "the CPU (%s) cannot be snapshotted", m->cpu_ops->name);
        return why;
    }
    for (int i = 0; i < m->ndevices; i++) {
        const DeviceOps *o = m->devices[i].ops;
        if (!o->save || !o->load) {
            snprintf(why, sizeof(why), "device %s cannot be snapshotted yet", o->name);
            return why;
        }
    }
    return NULL;
}

static char *identity(Machine *m)
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "%s/%s ram=%" PRIu64 " cpu=%s devices=", m->opts->arch,
                           m->board ? m->board->name : "?", m->ram_size, m->cpu_ops->name);
    for (int i = 0; i < m->ndevices; i++)
        g_string_append_printf(s, "%s%s", i ? "," : "", m->devices[i].ops->name);
    return g_string_free(s, FALSE);
}

/* A section: name, length, then what fill wrote. */
static void section_begin(SnapWriter *w, const char *name, size_t *len_at)
{
    snap_put_str(w, name);
    *len_at = w->buf->len;
    snap_put_u64(w, 0);
}

static void section_end(SnapWriter *w, size_t len_at)
{
    uint64_t n = w->buf->len - len_at - 8;
    for (int i = 0; i < 8; i++)
        w->buf->data[len_at + i] = (uint8_t)(n >> (8 * i));
}

uint8_t *checkpoint_save_state(Machine *m, size_t *len, GError **err)
{
    const char *why = checkpoint_unsupported(m);
    if (why) {
        tn_error(err, "%s", why);
        return NULL;
    }
    SnapWriter w;
    snap_writer_init(&w, &m->clock);
    snap_put_bytes(&w, STATE_MAGIC, 8);
    snap_put_u32(&w, STATE_VERSION);
    char *id = identity(m);
    snap_put_str(&w, id);
    g_free(id);
    snap_put_u64(&w, *m->icount);
    snap_put_u64(&w, m->as.mmio_accesses);
    snap_put_u64(&w, m->io.mmio_accesses);
    snap_put_u32(&w, (uint32_t)m->clock.shift);
    snap_put_bool(&w, m->clock.auto_shift);
    snap_put_i64(&w, m->clock.base_ns);
    snap_put_u64(&w, m->clock.base_icount);
    unsigned armed = vclock_armed_count(&m->clock);
    snap_put_u32(&w, armed);

    size_t at;
    section_begin(&w, "cpu", &at);
    m->cpu_ops->save(m->cpu, &w);
    section_end(&w, at);
    for (int i = 0; i < m->ndevices; i++) {
        const DeviceEntry *d = &m->devices[i];
        section_begin(&w, d->ops->name, &at);
        if (d->ops->save(d->dev, &w) != 0) {
            tn_error(err, "device %s could not save its state", d->ops->name);
            snap_writer_free(&w);
            return NULL;
        }
        section_end(&w, at);
    }
    section_begin(&w, "rr", &at);
    rr_save_state(m, &w);
    section_end(&w, at);
    if (w.timers_saved != armed) {
        tn_error(err, "%u timers are armed but the devices saved %u: a device does not "
                 "save all of its timers", armed, w.timers_saved);
        snap_writer_free(&w);
        return NULL;
    }
    return snap_writer_steal(&w, len);
}

unsigned checkpoint_device_hashes(Machine *m, uint64_t *out, unsigned max)
{
    unsigned n = (unsigned)m->ndevices < max ? (unsigned)m->ndevices : max;
    for (unsigned i = 0; i < n; i++) {
        const DeviceEntry *d = &m->devices[i];
        out[i] = 0;
        if (!d->ops->save)
            continue;
        SnapWriter w;
        snap_writer_init(&w, &m->clock);
        if (d->ops->save(d->dev, &w) == 0)
            out[i] = tn_hash_bytes(w.buf->data, w.buf->len, 0x646576ull);
        snap_writer_free(&w);
    }
    return n;
}

typedef struct Section {
    char *name;
    const uint8_t *p;
    uint64_t len;
} Section;

static bool read_section(SnapReader *r, Section *s, const char *want)
{
    s->name = snap_get_str(r);
    s->len = snap_get_u64(r);
    if (!snap_reader_ok(r))
        return false;
    if (!s->name || strcmp(s->name, want))
        return snap_reader_fail(r, "section %s found where %s belongs",
                                s->name ? s->name : "(none)", want);
    if (s->len > snap_reader_left(r))
        return snap_reader_fail(r, "section %s claims %" PRIu64 " bytes, %zu left", want, s->len,
                                snap_reader_left(r));
    s->p = r->p;
    r->p += s->len;
    return true;
}

static bool load_section(const Section *s, bool (*fn)(void *, void *, void *), void *obj,
                         void *ctx, GError **err)
{
    char *what = g_strdup_printf("snapshot: %s", s->name);
    SnapReader r;
    snap_reader_init(&r, s->p, s->len, what);
    bool ok = fn(obj, &r, ctx) && snap_reader_ok(&r);
    if (ok && snap_reader_left(&r))
        ok = snap_reader_fail(&r, "%zu bytes left unread", snap_reader_left(&r));
    if (!ok)
        tn_error(err, "%s", r.error ? r.error : what);
    snap_reader_free(&r);
    g_free(what);
    return ok;
}

static bool cpu_fn(void *cpu, void *r, void *ctx)
{
    const CpuOps *ops = ctx;
    return ops->load(cpu, r);
}

static bool dev_fn(void *dev, void *r, void *ctx)
{
    const DeviceOps *ops = ctx;
    if (ops->load(dev, r) != 0) {
        snap_reader_fail(r, "rejected its state");
        return false;
    }
    return true;
}

static bool rr_fn(void *mach, void *r, void *ctx)
{
    (void)ctx;
    return rr_load_state(mach, r);
}

bool checkpoint_load_state(Machine *m, const uint8_t *p, size_t len, GError **err)
{
    const char *why = checkpoint_unsupported(m);
    if (why) {
        tn_error(err, "%s", why);
        return false;
    }
    SnapReader r;
    snap_reader_init(&r, p, len, "snapshot");
    char magic[8];
    snap_get_bytes(&r, magic, 8);
    uint32_t version = snap_get_u32(&r);
    if (snap_reader_ok(&r) && memcmp(magic, STATE_MAGIC, 8))
        snap_reader_fail(&r, "not a Tandem machine state");
    else if (snap_reader_ok(&r) && version != STATE_VERSION)
        snap_reader_fail(&r, "state format version %u (this build reads %u)", version,
                         STATE_VERSION);
    char *id = snap_get_str(&r);
    char *mine = identity(m);
    if (snap_reader_ok(&r) && (!id || strcmp(id, mine)))
        snap_reader_fail(&r, "taken on another machine configuration:\n  snapshot: %s\n  "
                         "this machine: %s", id ? id : "(none)", mine);
    g_free(id);
    g_free(mine);
    uint64_t icount = snap_get_u64(&r);
    uint64_t mmio = snap_get_u64(&r), pio = snap_get_u64(&r);
    uint32_t shift = snap_get_u32(&r);
    bool auto_shift = snap_get_bool(&r);
    int64_t base_ns = snap_get_i64(&r);
    uint64_t base_icount = snap_get_u64(&r);
    uint32_t armed = snap_get_u32(&r);
    if (snap_reader_ok(&r) && shift > 30)
        snap_reader_fail(&r, "icount shift %u", shift);
    Section cpu = { 0 }, rr = { 0 };
    Section *devs = g_new0(Section, m->ndevices > 0 ? m->ndevices : 1);
    read_section(&r, &cpu, "cpu");
    for (int i = 0; i < m->ndevices; i++)
        read_section(&r, &devs[i], m->devices[i].ops->name);
    read_section(&r, &rr, "rr");
    if (snap_reader_ok(&r) && snap_reader_left(&r))
        snap_reader_fail(&r, "%zu bytes after the last section", snap_reader_left(&r));
    bool ok = snap_reader_ok(&r);
    if (!ok)
        tn_error(err, "%s", snap_reader_error(&r));
    snap_reader_free(&r);

    if (ok) {
        /* From here on the machine changes: a failure stops it. */
        vclock_disarm_all(&m->clock);
        m->clock.shift = (int)shift;
        m->clock.auto_shift = auto_shift;
        m->clock.base_ns = base_ns;
        m->clock.base_icount = base_icount;
        ok = load_section(&cpu, cpu_fn, m->cpu, (void *)m->cpu_ops, err);
        for (int i = 0; ok && i < m->ndevices; i++)
            ok = load_section(&devs[i], dev_fn, m->devices[i].dev,
                              (void *)m->devices[i].ops, err);
        if (ok)
            ok = load_section(&rr, rr_fn, m, NULL, err);
        if (ok && *m->icount != icount) {
            tn_error(err, "snapshot: the CPU's icount %" PRIu64 " differs from the snapshot's %"
                     PRIu64, *m->icount, icount);
            ok = false;
        }
        if (ok && vclock_armed_count(&m->clock) != armed) {
            tn_error(err, "snapshot: %u timers armed after loading, %u when saved",
                     vclock_armed_count(&m->clock), armed);
            ok = false;
        }
        if (ok) {
            vclock_sort_loaded(&m->clock);
            m->as.mmio_accesses = mmio;
            m->io.mmio_accesses = pio;
            m->exit_request = 1;
        } else {
            machine_set_error(m, "%s (the machine state is half loaded)", (*err)->message);
        }
    }
    for (int i = 0; i < m->ndevices; i++)
        g_free(devs[i].name);
    g_free(devs);
    g_free(cpu.name);
    g_free(rr.name);
    return ok;
}

static void put_u64_le(GByteArray *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    g_byte_array_append(b, x, 8);
}

uint8_t *checkpoint_save_vm(Machine *m, size_t *len, GError **err)
{
    size_t slen;
    uint8_t *state = checkpoint_save_state(m, &slen, err);
    if (!state)
        return NULL;
    size_t bound = ZSTD_compressBound(m->ram_size);
    uint8_t *z = g_try_malloc(bound ? bound : 1);
    if (!z) {
        tn_error(err, "savevm: out of memory compressing %" PRIu64 " bytes of RAM", m->ram_size);
        g_free(state);
        return NULL;
    }
    size_t zn = ZSTD_compress(z, bound, m->ram, m->ram_size, 1);
    if (ZSTD_isError(zn)) {
        tn_error(err, "savevm: zstd: %s", ZSTD_getErrorName(zn));
        g_free(state);
        g_free(z);
        return NULL;
    }
    GByteArray *b = g_byte_array_sized_new((guint)(slen + zn + 64));
    g_byte_array_append(b, (const guint8 *)VM_MAGIC, 8);
    uint8_t v[4] = { VM_VERSION, 0, 0, 0 };
    g_byte_array_append(b, v, 4);
    put_u64_le(b, slen);
    g_byte_array_append(b, state, (guint)slen);
    put_u64_le(b, m->ram_size);
    put_u64_le(b, zn);
    g_byte_array_append(b, z, (guint)zn);
    g_free(state);
    g_free(z);
    *len = b->len;
    return g_byte_array_free(b, FALSE);
}

/* Exchanges the contents of a and b, n bytes each. */
static void swap_bytes(uint8_t *a, uint8_t *b, size_t n)
{
    uint8_t t[16384];
    for (size_t off = 0; off < n; off += sizeof(t)) {
        size_t k = n - off < sizeof(t) ? n - off : sizeof(t);
        memcpy(t, a + off, k);
        memcpy(a + off, b + off, k);
        memcpy(b + off, t, k);
    }
}

bool checkpoint_load_vm(Machine *m, const uint8_t *p, size_t len, GError **err)
{
    SnapReader r;
    snap_reader_init(&r, p, len, "snapshot");
    char magic[8];
    snap_get_bytes(&r, magic, 8);
    uint32_t version = snap_get_u32(&r);
    if (snap_reader_ok(&r) && memcmp(magic, VM_MAGIC, 8))
        snap_reader_fail(&r, "the VM state is not a Tandem snapshot");
    else if (snap_reader_ok(&r) && version != VM_VERSION)
        snap_reader_fail(&r, "VM state version %u (this build reads %u)", version, VM_VERSION);
    uint64_t slen = snap_get_u64(&r);
    if (snap_reader_ok(&r) && slen > snap_reader_left(&r))
        snap_reader_fail(&r, "machine state of %" PRIu64 " bytes, only %zu there", slen,
                         snap_reader_left(&r));
    const uint8_t *state = r.p;
    if (snap_reader_ok(&r))
        r.p += slen;
    uint64_t ram = snap_get_u64(&r);
    uint64_t zn = snap_get_u64(&r);
    if (snap_reader_ok(&r) && ram != m->ram_size)
        snap_reader_fail(&r, "RAM of %" PRIu64 " bytes, this machine has %" PRIu64, ram,
                         m->ram_size);
    if (snap_reader_ok(&r) && zn != snap_reader_left(&r))
        snap_reader_fail(&r, "compressed RAM of %" PRIu64 " bytes, %zu there", zn,
                         snap_reader_left(&r));
    if (!snap_reader_ok(&r)) {
        tn_error(err, "%s", snap_reader_error(&r));
        snap_reader_free(&r);
        return false;
    }
    unsigned long long raw = ZSTD_getFrameContentSize(r.p, zn);
    if (raw != ram) {
        tn_error(err, "snapshot: the compressed RAM is damaged (content size %llu, expected %"
                 PRIu64 ")", raw, ram);
        return false;
    }
    /* Decompress aside first: a damaged frame must not leave RAM half
     * overwritten. */
    uint8_t *tmp = g_try_malloc(ram ? ram : 1);
    if (!tmp) {
        tn_error(err, "loadvm: out of memory for %" PRIu64 " bytes of RAM", ram);
        return false;
    }
    size_t got = ZSTD_decompress(tmp, ram, r.p, zn);
    if (ZSTD_isError(got) || got != ram) {
        tn_error(err, "snapshot: the compressed RAM is damaged (%s)",
                 ZSTD_isError(got) ? ZSTD_getErrorName(got) : "short");
        g_free(tmp);
        return false;
    }
    /* Check the state before touching RAM: a refused snapshot changes
     * nothing. */
    SnapReader pre;
    snap_reader_init(&pre, state, slen, "snapshot");
    char mg[8];
    snap_get_bytes(&pre, mg, 8);
    bool plausible = snap_reader_ok(&pre) && !memcmp(mg, STATE_MAGIC, 8);
    snap_reader_free(&pre);
    if (!plausible) {
        tn_error(err, "snapshot: the machine state inside is not a Tandem machine state");
        g_free(tmp);
        return false;
    }
    /* The snapshot's RAM in, the current RAM kept in tmp until the state
     * has loaded. */
    swap_bytes(m->ram, tmp, ram);
    bool ok = checkpoint_load_state(m, state, slen, err);
    if (!ok && !m->error) {
        /* Refused before any change: put RAM back. */
        memcpy(m->ram, tmp, ram);
    }
    g_free(tmp);
    return ok;
}

bool checkpoint_vm_icount(const uint8_t *p, size_t len, uint64_t *icount)
{
    /* VM_MAGIC, version, state length, then the state: STATE_MAGIC,
     * version, identity string, icount. */
    if (len < 8 + 4 + 8 + 8 + 4 + 4 || memcmp(p, VM_MAGIC, 8))
        return false;
    SnapReader r;
    snap_reader_init(&r, p + 20, len - 20, NULL);
    char magic[8];
    snap_get_bytes(&r, magic, 8);
    snap_get_u32(&r);
    g_free(snap_get_str(&r));
    *icount = snap_get_u64(&r);
    bool ok = snap_reader_ok(&r) && !memcmp(magic, STATE_MAGIC, 8);
    snap_reader_free(&r);
    return ok;
}
