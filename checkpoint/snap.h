/* The VM state stream: what a snapshot holds of the CPU and each device.
 *
 * A SnapWriter appends little-endian fields to a growable buffer; a
 * SnapReader takes them back in the same order with bounds checks.  A
 * reader's first failure (stream too short, a value out of range) sticks:
 * later gets return 0 and snap_reader_error() names the first problem, so a
 * device's load reads its fields and checks once at the end.
 *
 * Each device's DeviceOps.save/load (vmm/device.h) take these:
 *
 *     static int uart_save(void *dev, void *w) {
 *         Uart *s = dev;
 *         snap_put_u8(w, s->ier);
 *         snap_put_timer(w, &s->timer);
 *         return 0;
 *     }
 *     static int uart_load(void *dev, void *r) {
 *         Uart *s = dev;
 *         s->ier = snap_get_u8(r);
 *         snap_get_timer(r, &s->m->clock, &s->timer);
 *         return snap_reader_ok(r) ? 0 : -1;
 *     }
 *
 * The machine frames every device's bytes in a section with its name and
 * length (checkpoint/checkpoint.c), so a device reading less or more than
 * it wrote is reported by name. */
#ifndef TANDEM_SNAP_H
#define TANDEM_SNAP_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vmm/clock.h"

typedef struct SnapWriter {
    GByteArray *buf;
    /* The machine's clock (snap_put_timer saves a timer's rank in its
     * armed list) and how many armed timers were saved: a timer nobody
     * saves would be lost, so the machine checks the count. */
    const VClock *clock;
    unsigned timers_saved;
} SnapWriter;

typedef struct SnapReader {
    const uint8_t *p, *end;
    char *error;             /* first failure, or NULL */
    const char *what;        /* the section being read (for messages) */
} SnapReader;

void snap_writer_init(SnapWriter *w, const VClock *clock);
/* Returns the bytes written (caller frees with g_free); len set. */
uint8_t *snap_writer_steal(SnapWriter *w, size_t *len);
void snap_writer_free(SnapWriter *w);
static inline size_t snap_writer_len(const SnapWriter *w) { return w->buf->len; }

void snap_put_u8(SnapWriter *w, uint8_t v);
void snap_put_u16(SnapWriter *w, uint16_t v);
void snap_put_u32(SnapWriter *w, uint32_t v);
void snap_put_u64(SnapWriter *w, uint64_t v);
static inline void snap_put_i64(SnapWriter *w, int64_t v) { snap_put_u64(w, (uint64_t)v); }
static inline void snap_put_bool(SnapWriter *w, bool v) { snap_put_u8(w, v ? 1 : 0); }
void snap_put_bytes(SnapWriter *w, const void *p, size_t len);
/* A length-prefixed string (NULL allowed). */
void snap_put_str(SnapWriter *w, const char *s);
/* A timer's armed state and deadline (not its callback: the device owns
 * that). */
void snap_put_timer(SnapWriter *w, const Timer *t);

void snap_reader_init(SnapReader *r, const void *p, size_t len, const char *what);
void snap_reader_free(SnapReader *r);
static inline bool snap_reader_ok(const SnapReader *r) { return r->error == NULL; }
static inline size_t snap_reader_left(const SnapReader *r) { return (size_t)(r->end - r->p); }
const char *snap_reader_error(const SnapReader *r);
/* Records a failure (the first one sticks); returns false. */
bool snap_reader_fail(SnapReader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

uint8_t snap_get_u8(SnapReader *r);
uint16_t snap_get_u16(SnapReader *r);
uint32_t snap_get_u32(SnapReader *r);
uint64_t snap_get_u64(SnapReader *r);
static inline int64_t snap_get_i64(SnapReader *r) { return (int64_t)snap_get_u64(r); }
/* A bool stored by snap_put_bool; anything but 0/1 fails the reader. */
bool snap_get_bool(SnapReader *r);
bool snap_get_bytes(SnapReader *r, void *p, size_t len);
/* g_malloc'd (NULL if a NULL was stored or on failure). */
char *snap_get_str(SnapReader *r);
/* A value that must lie in [0, max]: fails the reader naming the field
 * otherwise (a hostile or corrupt stream must not index arrays). */
uint64_t snap_get_max(SnapReader *r, uint64_t max, const char *field);
/* Re-arms (or disarms) t on clock c as saved. */
void snap_get_timer(SnapReader *r, VClock *c, Timer *t);

#endif
