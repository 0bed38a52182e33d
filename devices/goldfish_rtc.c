/* Goldfish RTC.
 *
 * The time is the host wall clock plus an offset that guest writes to
 * TIME_LOW/TIME_HIGH adjust; every read of it goes through
 * machine_host_clock_ns so record/replay sees each one.  The alarm is a
 * virtual-time Timer armed (alarm - now) ns ahead: it fires at a
 * deterministic instruction count whatever the host clock does later. */
#include "devices/goldfish_rtc.h"

#include <glib.h>
#include <stdbool.h>

#include "devices/devsnap.h"
#include "vmm/clock.h"
#include "vmm/machine.h"
#include "vmm/memory.h"

struct GoldfishRtc {
    Machine *m;
    IrqLine irq;
    Timer alarm_timer;
    uint64_t tick_offset;       /* time = host ns + tick_offset (mod 2^64) */
    uint64_t alarm_next;
    uint32_t time_high;         /* latched by reading TIME_LOW */
    bool alarm_running;
    bool irq_pending;
    bool irq_enabled;
    int irq_level;
};

static uint64_t rtc_now(GoldfishRtc *r)
{
    return (uint64_t)machine_host_clock_ns(r->m) + r->tick_offset;
}

static void update_irq(GoldfishRtc *r)
{
    int level = r->irq_pending && r->irq_enabled;
    if (level != r->irq_level) {
        r->irq_level = level;
        irq_set(&r->irq, level);
    }
}

static void clear_alarm(GoldfishRtc *r)
{
    timer_del(&r->m->clock, &r->alarm_timer);
    r->alarm_running = false;
}

static void alarm_fired(void *opaque)
{
    GoldfishRtc *r = opaque;
    r->alarm_running = false;
    r->irq_pending = true;
    update_irq(r);
}

static void set_alarm(GoldfishRtc *r)
{
    uint64_t now = rtc_now(r);
    if (r->alarm_next <= now) {
        clear_alarm(r);
        r->irq_pending = true;
        update_irq(r);
        return;
    }
    uint64_t delta = r->alarm_next - now;
    int64_t vnow = machine_ns(r->m);
    r->alarm_running = true;
    if (vnow < 0 || delta > (uint64_t)(INT64_MAX - vnow))
        timer_del(&r->m->clock, &r->alarm_timer);      /* never comes */
    else
        timer_mod(&r->m->clock, &r->alarm_timer, vnow + (int64_t)delta);
}

/* Replace 32 bits of the time at bit shift, keeping the rest. */
static void set_time_half(GoldfishRtc *r, unsigned shift, uint32_t val)
{
    uint64_t now = rtc_now(r);
    uint64_t mask = 0xffffffffull << shift;
    uint64_t want = (now & ~mask) | ((uint64_t)val << shift);
    r->tick_offset += want - now;
}

static uint64_t rtc_read(void *opaque, uint64_t off, unsigned size)
{
    GoldfishRtc *r = opaque;
    switch (off) {
    case GOLDFISH_RTC_TIME_LOW: {
        uint64_t now = rtc_now(r);
        r->time_high = (uint32_t)(now >> 32);
        return (uint32_t)now;
    }
    case GOLDFISH_RTC_TIME_HIGH:
        return r->time_high;
    case GOLDFISH_RTC_ALARM_LOW:
        return (uint32_t)r->alarm_next;
    case GOLDFISH_RTC_ALARM_HIGH:
        return (uint32_t)(r->alarm_next >> 32);
    case GOLDFISH_RTC_IRQ_ENABLED:
        return r->irq_enabled;
    case GOLDFISH_RTC_ALARM_STATUS:
        return r->alarm_running;
    default:
        return 0;
    }
}

static void rtc_write(void *opaque, uint64_t off, uint64_t val64, unsigned size)
{
    GoldfishRtc *r = opaque;
    uint32_t val = (uint32_t)val64;
    switch (off) {
    case GOLDFISH_RTC_TIME_LOW:
        set_time_half(r, 0, val);
        break;
    case GOLDFISH_RTC_TIME_HIGH:
        set_time_half(r, 32, val);
        break;
    case GOLDFISH_RTC_ALARM_LOW:
        r->alarm_next = (r->alarm_next & ~0xffffffffull) | val;
        set_alarm(r);
        break;
    case GOLDFISH_RTC_ALARM_HIGH:
        r->alarm_next = (r->alarm_next & 0xffffffffull) | ((uint64_t)val << 32);
        break;
    case GOLDFISH_RTC_IRQ_ENABLED:
        r->irq_enabled = val & 1;
        update_irq(r);
        break;
    case GOLDFISH_RTC_CLEAR_ALARM:
        clear_alarm(r);
        break;
    case GOLDFISH_RTC_CLEAR_INTERRUPT:
        r->irq_pending = false;
        update_irq(r);
        break;
    default:
        break;
    }
}

static const MemOps goldfish_rtc_mem_ops = {
    .name = "goldfish_rtc",
    .read = rtc_read,
    .write = rtc_write,
    .min_access = 4,
    .max_access = 4,
};

/* The wall-clock offset survives a reset, as a battery-backed RTC would. */
static void goldfish_rtc_reset(void *dev)
{
    GoldfishRtc *r = dev;
    clear_alarm(r);
    r->alarm_next = 0;
    r->time_high = 0;
    r->irq_pending = false;
    r->irq_enabled = false;
    update_irq(r);
}

static void goldfish_rtc_destroy(void *dev)
{
    GoldfishRtc *r = dev;
    timer_del(&r->m->clock, &r->alarm_timer);
    g_free(r);
}

/* ---- snapshots ---- */

#define SNAP_VERSION 1

/* The offset to the host clock is saved as it is: the guest's time goes
 * on following the wall clock (read only through machine_host_clock_ns,
 * never here), as it does across a reset.  alarm_running is kept apart
 * from the timer: an alarm too far ahead runs with no timer armed. */
static int goldfish_rtc_save(void *dev, void *wp)
{
    GoldfishRtc *r = dev;
    SnapWriter *w = wp;
    snap_put_u8(w, SNAP_VERSION);
    snap_put_u64(w, r->tick_offset);
    snap_put_u64(w, r->alarm_next);
    snap_put_u32(w, r->time_high);
    snap_put_bool(w, r->alarm_running);
    snap_put_bool(w, r->irq_pending);
    snap_put_bool(w, r->irq_enabled);
    snap_put_bool(w, r->irq_level);
    snap_put_timer(w, &r->alarm_timer);
    return 0;
}

static int goldfish_rtc_load(void *dev, void *rp)
{
    GoldfishRtc *r = dev;
    SnapReader *sr = rp;
    if (!devsnap_version(sr, SNAP_VERSION, "goldfish_rtc"))
        return -1;
    uint64_t tick_offset = snap_get_u64(sr);
    uint64_t alarm_next = snap_get_u64(sr);
    uint32_t time_high = snap_get_u32(sr);
    bool alarm_running = snap_get_bool(sr);
    bool irq_pending = snap_get_bool(sr);
    bool irq_enabled = snap_get_bool(sr);
    int irq_level = snap_get_bool(sr);
    if (snap_reader_ok(sr))
        snap_get_timer(sr, &r->m->clock, &r->alarm_timer);
    if (!snap_reader_ok(sr))
        return -1;
    r->tick_offset = tick_offset;
    r->alarm_next = alarm_next;
    r->time_high = time_high;
    r->alarm_running = alarm_running;
    r->irq_pending = irq_pending;
    r->irq_enabled = irq_enabled;
    r->irq_level = irq_level;
    return 0;
}

static const DeviceOps goldfish_rtc_device_ops = {
    .name = "goldfish_rtc",
    .reset = goldfish_rtc_reset,
    .save = goldfish_rtc_save,
    .load = goldfish_rtc_load,
    .destroy = goldfish_rtc_destroy,
};

GoldfishRtc *goldfish_rtc_create(Machine *m, uint64_t base, IrqLine irq)
{
    GoldfishRtc *r = g_new0(GoldfishRtc, 1);
    r->m = m;
    r->irq = irq;
    timer_init(&r->alarm_timer, alarm_fired, r);
    int err = as_add_mmio(&m->as, "goldfish_rtc", base, GOLDFISH_RTC_MMIO_SIZE,
                          &goldfish_rtc_mem_ops, r);
    if (err) {
        machine_set_error(m, "goldfish_rtc: cannot map at 0x%" G_GINT64_MODIFIER "x: %s",
                          base, g_strerror(-err));
        g_free(r);
        return NULL;
    }
    machine_add_device(m, &goldfish_rtc_device_ops, r);
    return r;
}
