/* The VM state stream (checkpoint/snap.h). */
#include "checkpoint/snap.h"

#include <stdarg.h>
#include <string.h>

void snap_writer_init(SnapWriter *w, const VClock *clock)
{
    w->buf = g_byte_array_new();
    w->clock = clock;
    w->timers_saved = 0;
}

uint8_t *snap_writer_steal(SnapWriter *w, size_t *len)
{
    *len = w->buf->len;
    uint8_t *p = g_byte_array_free(w->buf, FALSE);
    w->buf = NULL;
    return p;
}

void snap_writer_free(SnapWriter *w)
{
    if (w->buf)
        g_byte_array_free(w->buf, TRUE);
    w->buf = NULL;
}

static void put_le(SnapWriter *w, uint64_t v, unsigned n)
{
    uint8_t b[8];
    for (unsigned i = 0; i < n; i++)
        b[i] = (uint8_t)(v >> (8 * i));
    g_byte_array_append(w->buf, b, n);
}

void snap_put_u8(SnapWriter *w, uint8_t v) { put_le(w, v, 1); }
void snap_put_u16(SnapWriter *w, uint16_t v) { put_le(w, v, 2); }
void snap_put_u32(SnapWriter *w, uint32_t v) { put_le(w, v, 4); }
void snap_put_u64(SnapWriter *w, uint64_t v) { put_le(w, v, 8); }

void snap_put_bytes(SnapWriter *w, const void *p, size_t len)
{
    if (len)
        g_byte_array_append(w->buf, p, (guint)len);
}

void snap_put_str(SnapWriter *w, const char *s)
{
    if (!s) {
        snap_put_u32(w, UINT32_MAX);
        return;
    }
    size_t n = strlen(s);
    snap_put_u32(w, (uint32_t)n);
    snap_put_bytes(w, s, n);
}

void snap_put_timer(SnapWriter *w, const Timer *t)
{
    snap_put_bool(w, t->armed);
    snap_put_i64(w, t->armed ? t->deadline : INT64_MAX);
    uint32_t rank = 0;
    if (t->armed) {
        w->timers_saved++;
        if (w->clock)
            rank = vclock_timer_rank(w->clock, t);
    }
    snap_put_u32(w, rank);
}

void snap_reader_init(SnapReader *r, const void *p, size_t len, const char *what)
{
    r->p = p;
    r->end = r->p + len;
    r->error = NULL;
    r->what = what;
}

void snap_reader_free(SnapReader *r)
{
    g_free(r->error);
    r->error = NULL;
}

const char *snap_reader_error(const SnapReader *r)
{
    return r->error ? r->error : "";
}

bool snap_reader_fail(SnapReader *r, const char *fmt, ...)
{
    if (r->error)
        return false;
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    r->error = r->what ? g_strdup_printf("%s: %s", r->what, msg) : g_strdup(msg);
    g_free(msg);
    r->p = r->end;
    return false;
}

static bool take(SnapReader *r, size_t n)
{
    if (r->error)
        return false;
    if ((size_t)(r->end - r->p) < n)
        return snap_reader_fail(r, "the state ends early (%zu more bytes needed, %zu left)", n,
                                (size_t)(r->end - r->p));
    return true;
}

static uint64_t get_le(SnapReader *r, unsigned n)
{
    if (!take(r, n))
        return 0;
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    return v;
}

uint8_t snap_get_u8(SnapReader *r) { return (uint8_t)get_le(r, 1); }
uint16_t snap_get_u16(SnapReader *r) { return (uint16_t)get_le(r, 2); }
uint32_t snap_get_u32(SnapReader *r) { return (uint32_t)get_le(r, 4); }
uint64_t snap_get_u64(SnapReader *r) { return get_le(r, 8); }

bool snap_get_bool(SnapReader *r)
{
    uint8_t v = snap_get_u8(r);
    if (v > 1) {
        snap_reader_fail(r, "a flag holds %u (0 or 1 expected)", v);
        return false;
    }
    return v;
}

bool snap_get_bytes(SnapReader *r, void *p, size_t len)
{
    if (!take(r, len)) {
        if (len)
            memset(p, 0, len);
        return false;
    }
    if (len)
        memcpy(p, r->p, len);
    r->p += len;
    return true;
}

char *snap_get_str(SnapReader *r)
{
    uint32_t n = snap_get_u32(r);
    if (n == UINT32_MAX || !snap_reader_ok(r))
        return NULL;
    if (!take(r, n))
        return NULL;
    char *s = g_strndup((const char *)r->p, n);
    r->p += n;
    return s;
}

uint64_t snap_get_max(SnapReader *r, uint64_t max, const char *field)
{
    uint64_t v = snap_get_u64(r);
    if (snap_reader_ok(r) && v > max) {
        snap_reader_fail(r, "%s is %llu, at most %llu allowed", field, (unsigned long long)v,
                         (unsigned long long)max);
        return 0;
    }
    return v;
}

void snap_get_timer(SnapReader *r, VClock *c, Timer *t)
{
    bool armed = snap_get_bool(r);
    int64_t deadline = snap_get_i64(r);
    uint32_t rank = snap_get_u32(r);
    timer_del(c, t);
    if (!snap_reader_ok(r))
        return;
    if (armed) {
        t->load_rank = rank;
        timer_mod(c, t, deadline);
    }
}
