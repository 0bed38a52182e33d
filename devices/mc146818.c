/* Motorola MC146818 RTC and CMOS RAM.
 *
 * The clock is a set of decoded fields (the "anchor") plus the number of
 * second boundaries crossed since it was taken: reading a time register
 * advances the anchor by that many seconds and encodes the field in the
 * current BCD/binary and 12/24-hour mode.  Second boundaries and the
 * 32.768 kHz divider ticks are fixed points of virtual time (`phase` says
 * where), so UIP, the update, the periodic rate and the alarm all happen at
 * deterministic instruction counts.  The wall clock enters once, through
 * machine_host_clock_ns, at the guest's first access to a clock register.
 *
 * Flags in register C are evaluated lazily, up to "now", whenever the guest
 * touches a register and when the one Timer fires; the Timer is armed only
 * for the next event that could raise IRQ 8, and not at all while the line
 * is already up (nothing the guest can see changes until it reads C).
 *
 * Not modelled: daylight saving (DSE is stored, never acted on), the square
 * wave pin, the divider's test modes (they stop the clock, like a reset
 * divider), and the ~2 ms during which a real update is in progress (the
 * update is instantaneous at the second boundary; UIP covers the 244 us
 * before it). */
#include "devices/mc146818.h"

#include <errno.h>
#include <glib.h>

#include "devices/devsnap.h"
#include "vmm/clock.h"
#include "vmm/machine.h"

#define NS_PER_SEC 1000000000ull
#define SECS_PER_DAY 86400
/* One tick of the 32.768 kHz time base is 1e9 / 32768 = 1953125 / 64 ns. */
#define TICK_NS_NUM 1953125ull
#define TICK_NS_DEN 64ull
#define TICKS_PER_SEC 32768ull
/* UIP rises 8 ticks (244.1 us) before each update. */
#define UIP_TICKS 8ull

enum {
    A_UIP = 0x80, A_DV = 0x70, A_RS = 0x0f,
    B_SET = 0x80, B_PIE = 0x40, B_AIE = 0x20, B_UIE = 0x10, B_SQWE = 0x08,
    B_DM = 0x04, B_24H = 0x02, B_DSE = 0x01,
    C_IRQF = 0x80, C_PF = 0x40, C_AF = 0x20, C_UF = 0x10,
    D_VRT = 0x80,
    ALARM_DONT_CARE = 0xc0,
};

/* Decoded clock fields.  They hold whatever a guest wrote (a month of 0, an
 * hour of 80) until the next second boundary normalises them. */
typedef struct RtcTime {
    int64_t year;                /* full year, >= 0 */
    int mon, mday, wday, hour, min, sec;   /* hour 0..23 in both modes */
} RtcTime;

struct Mc146818 {
    Machine *m;
    IrqLine irq;
    Timer timer;
    uint8_t index;
    bool nmi_masked;
    uint8_t ram[MC146818_CMOS_SIZE];   /* RAM and the three alarm bytes */
    uint8_t reg_a;               /* without UIP */
    uint8_t reg_b;
    uint8_t flags;               /* C_PF | C_AF | C_UF, evaluated to eval_ns */
    bool irq_level;
    bool have_time;              /* the wall clock has been read */
    RtcTime anchor;
    uint64_t anchor_idx;         /* second index at which anchor was shown */
    uint64_t phase;              /* boundaries at (t + phase) % 1e9 == 0 */
    uint64_t eval_ns;
};

/* ---- calendar (days since 1970-01-01, proleptic Gregorian) ---- */

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
    return a - floor_div(a, b) * b;
}

/* Counting years from March makes February the last month of a year, so a
 * month's first day is a linear function of its number (the 400-year era
 * formula, as in Hinnant's "chrono-compatible low-level date algorithms"). */
static int64_t days_from_civil(int64_t y, int mon, int mday)
{
    y -= mon <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (mon > 2 ? mon - 3 : mon + 9) + 2) / 5 + mday - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, RtcTime *t)
{
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    t->mday = (int)(doy - (153 * mp + 2) / 5 + 1);
    t->mon = (int)(mp < 10 ? mp + 3 : mp - 9);
    t->year = yoe + era * 400 + (t->mon <= 2);
}

/* Seconds since the epoch; out-of-range fields carry into the next unit. */
static int64_t time_to_secs(const RtcTime *t)
{
    int64_t y = t->year;
    int mon = t->mon < 1 ? 1 : t->mon;
    y += (mon - 1) / 12;
    mon = (mon - 1) % 12 + 1;
    int64_t mday = t->mday < 1 ? 1 : t->mday;
    int64_t days = days_from_civil(y, mon, 1) + mday - 1;
    return days * SECS_PER_DAY + (int64_t)t->hour * 3600 + t->min * 60 + t->sec;
}

static void secs_to_time(int64_t s, RtcTime *t)
{
    int64_t days = floor_div(s, SECS_PER_DAY);
    int64_t sod = s - days * SECS_PER_DAY;
    civil_from_days(days, t);
    t->hour = (int)(sod / 3600);
    t->min = (int)(sod / 60 % 60);
    t->sec = (int)(sod % 60);
    t->wday = (int)floor_mod(days + 4, 7) + 1;     /* 1970-01-01: Thursday; Sunday = 1 */
}

/* a, k seconds later.  The day of the week is a counter of its own (the
 * guest may have set it to anything): it moves by the midnights crossed. */
static RtcTime time_advance(const RtcTime *a, uint64_t k)
{
    if (!k)
        return *a;
    int64_t s0 = time_to_secs(a);
    int64_t s = s0 + (int64_t)k;
    RtcTime t;
    secs_to_time(s, &t);
    int64_t dd = floor_div(s, SECS_PER_DAY) - floor_div(s0, SECS_PER_DAY);
    t.wday = dd ? (int)floor_mod(a->wday - 1 + dd, 7) + 1 : a->wday;
    return t;
}

/* ---- virtual time ---- */

static uint64_t vnow(const Mc146818 *r)
{
    int64_t t = machine_ns(r->m);
    return t < 0 ? 0 : (uint64_t)t;
}

static bool divider_running(const Mc146818 *r)
{
    /* 000/001/010 select a time base (all run at the PC's 32.768 kHz);
     * 011/10x are test modes and 11x holds the divider in reset. */
    return (r->reg_a & A_DV) <= 0x20;
}

static bool clock_stopped(const Mc146818 *r)
{
    return (r->reg_b & B_SET) || !divider_running(r);
}

static uint64_t sec_index(const Mc146818 *r, uint64_t t)
{
    return (t + r->phase) / NS_PER_SEC;
}

/* The virtual time of second boundary j; UINT64_MAX if beyond reach. */
static uint64_t boundary_ns(const Mc146818 *r, uint64_t j)
{
    if (j > (UINT64_MAX - NS_PER_SEC) / NS_PER_SEC)
        return UINT64_MAX;
    return j * NS_PER_SEC - r->phase;
}

static uint64_t ticks_at(const Mc146818 *r, uint64_t t)
{
    uint64_t u = t + r->phase;
    return u / TICK_NS_NUM * TICK_NS_DEN + u % TICK_NS_NUM * TICK_NS_DEN / TICK_NS_NUM;
}

/* The first virtual time whose tick count reaches T (T > ticks_at(0)). */
static uint64_t tick_ns(const Mc146818 *r, uint64_t T)
{
    uint64_t u = T / TICK_NS_DEN * TICK_NS_NUM
               + (T % TICK_NS_DEN * TICK_NS_NUM + TICK_NS_DEN - 1) / TICK_NS_DEN;
    return u - r->phase;
}

/* Periodic interrupt period in ticks, 0 when off. */
static uint64_t period_ticks(const Mc146818 *r)
{
    unsigned rs = r->reg_a & A_RS;
    if (rs == 0)
        return 0;
    if (rs <= 2)
        return 1ull << (rs + 6);     /* 256 Hz and 128 Hz, as rates 8 and 9 */
    return 1ull << (rs - 1);
}

/* ---- register encoding ---- */

static uint8_t enc(const Mc146818 *r, int v)
{
    if (r->reg_b & B_DM)
        return (uint8_t)v;
    unsigned u = (unsigned)v % 100;
    return (uint8_t)((u / 10) << 4 | u % 10);
}

static int dec(const Mc146818 *r, uint8_t b)
{
    return (r->reg_b & B_DM) ? b : (b >> 4) * 10 + (b & 15);
}

static uint8_t enc_hour(const Mc146818 *r, int h)
{
    if (r->reg_b & B_24H)
        return enc(r, h);
    h %= 24;
    int h12 = h % 12 ? h % 12 : 12;
    return enc(r, h12) | (h >= 12 ? 0x80 : 0);
}

static int dec_hour(const Mc146818 *r, uint8_t b)
{
    if (r->reg_b & B_24H)
        return dec(r, b);
    return dec(r, b & 0x7f) % 12 + ((b & 0x80) ? 12 : 0);
}

static bool is_time_reg(unsigned i)
{
    return i == MC146818_SEC || i == MC146818_MIN || i == MC146818_HOUR ||
           (i >= MC146818_WDAY && i <= MC146818_YEAR) || i == MC146818_CENTURY;
}

static bool is_clock_reg(unsigned i)
{
    return i <= MC146818_REG_D || i == MC146818_CENTURY;
}

static uint8_t time_field(const Mc146818 *r, const RtcTime *t, unsigned i)
{
    switch (i) {
    case MC146818_SEC: return enc(r, t->sec);
    case MC146818_MIN: return enc(r, t->min);
    case MC146818_HOUR: return enc_hour(r, t->hour);
    case MC146818_WDAY: return enc(r, t->wday);
    case MC146818_MDAY: return enc(r, t->mday);
    case MC146818_MONTH: return enc(r, t->mon);
    case MC146818_YEAR: return enc(r, (int)(t->year % 100));
    default: return enc(r, (int)(t->year / 100 % 100));   /* century */
    }
}

static void set_time_field(const Mc146818 *r, RtcTime *t, unsigned i, uint8_t v)
{
    switch (i) {
    case MC146818_SEC: t->sec = dec(r, v); break;
    case MC146818_MIN: t->min = dec(r, v); break;
    case MC146818_HOUR: t->hour = dec_hour(r, v); break;
    case MC146818_WDAY: t->wday = dec(r, v); break;
    case MC146818_MDAY: t->mday = dec(r, v); break;
    case MC146818_MONTH: t->mon = dec(r, v); break;
    case MC146818_YEAR: t->year = t->year / 100 * 100 + dec(r, v); break;
    default: t->year = (int64_t)dec(r, v) * 100 + t->year % 100; break;
    }
}

/* ---- clock state ---- */

static RtcTime current_time(const Mc146818 *r)
{
    if (clock_stopped(r))
        return r->anchor;
    uint64_t idx = sec_index(r, vnow(r));
    return time_advance(&r->anchor, idx > r->anchor_idx ? idx - r->anchor_idx : 0);
}

/* Show t from now on (call after any change of phase or stop state). */
static void set_anchor(Mc146818 *r, const RtcTime *t)
{
    r->anchor = *t;
    r->anchor_idx = sec_index(r, vnow(r));
}

static bool alarm_ok(uint8_t alarm, uint8_t shown)
{
    return (alarm & ALARM_DONT_CARE) == ALARM_DONT_CARE || alarm == shown;
}

/* Seconds from second-of-day sod (inclusive) to the next one the alarm
 * registers match in the current mode, or -1 if none ever does. */
static int64_t next_alarm(const Mc146818 *r, int64_t sod)
{
    bool hs[24], ms[60], ss[60], any_h = false, any_m = false, any_s = false;
    for (int i = 0; i < 60; i++) {
        ms[i] = alarm_ok(r->ram[MC146818_MIN_ALARM], enc(r, i));
        ss[i] = alarm_ok(r->ram[MC146818_SEC_ALARM], enc(r, i));
        any_m |= ms[i];
        any_s |= ss[i];
        if (i < 24) {
            hs[i] = alarm_ok(r->ram[MC146818_HOUR_ALARM], enc_hour(r, i));
            any_h |= hs[i];
        }
    }
    if (!any_h || !any_m || !any_s)
        return -1;
    int h0 = (int)(sod / 3600), m0 = (int)(sod / 60 % 60), s0 = (int)(sod % 60);
    /* dh == 24 revisits hour h0 tomorrow, before minute m0 / second s0. */
    for (int dh = 0; dh <= 24; dh++) {
        if (!hs[(h0 + dh) % 24])
            continue;
        for (int mi = dh ? 0 : m0; mi < 60; mi++) {
            if (!ms[mi])
                continue;
            for (int si = (dh || mi != m0) ? 0 : s0; si < 60; si++)
                if (ss[si])
                    return (int64_t)(h0 + dh) * 3600 + mi * 60 + si - sod;
        }
    }
    return -1;
}

/* The epoch second shown after boundary j (j > anchor_idx). */
static int64_t secs_at(const Mc146818 *r, uint64_t j)
{
    return time_to_secs(&r->anchor) + (int64_t)(j - r->anchor_idx);
}

static bool alarm_between(const Mc146818 *r, uint64_t j1, uint64_t j2)
{
    if (j2 - j1 >= SECS_PER_DAY - 1)
        return next_alarm(r, 0) >= 0;
    int64_t d = next_alarm(r, floor_mod(secs_at(r, j1), SECS_PER_DAY));
    return d >= 0 && (uint64_t)d <= j2 - j1;
}

/* Sets the flags for every event in (eval_ns, now]. */
static void rtc_sync(Mc146818 *r)
{
    if (!r->have_time)
        return;
    uint64_t now = vnow(r);
    if (now <= r->eval_ns)
        return;
    if (divider_running(r)) {
        uint64_t p = period_ticks(r);
        if (p && ticks_at(r, now) / p != ticks_at(r, r->eval_ns) / p)
            r->flags |= C_PF;
        if (!(r->reg_b & B_SET)) {
            uint64_t i0 = sec_index(r, r->eval_ns), i1 = sec_index(r, now);
            if (i1 > i0) {
                r->flags |= C_UF;
                if (alarm_between(r, i0 + 1, i1))
                    r->flags |= C_AF;
            }
        }
    }
    r->eval_ns = now;
}

static bool irqf(const Mc146818 *r)
{
    return ((r->flags & C_PF) && (r->reg_b & B_PIE)) ||
           ((r->flags & C_AF) && (r->reg_b & B_AIE)) ||
           ((r->flags & C_UF) && (r->reg_b & B_UIE));
}

static void update_irq(Mc146818 *r)
{
    bool level = irqf(r);
    if (level != r->irq_level) {
        r->irq_level = level;
        irq_set(&r->irq, level);
    }
}

/* Arms the timer for the next event that would raise the line. */
static void rearm(Mc146818 *r)
{
    uint64_t best = UINT64_MAX;
    if (r->have_time && !r->irq_level && divider_running(r)) {
        uint64_t now = vnow(r), p = period_ticks(r);
        if ((r->reg_b & B_PIE) && p)
            best = tick_ns(r, (ticks_at(r, now) / p + 1) * p);
        if (!(r->reg_b & B_SET) && (r->reg_b & (B_UIE | B_AIE))) {
            uint64_t j = sec_index(r, now) + 1;
            if (r->reg_b & B_UIE)
                best = MIN(best, boundary_ns(r, j));
            if (r->reg_b & B_AIE) {
                int64_t d = next_alarm(r, floor_mod(secs_at(r, j), SECS_PER_DAY));
                if (d >= 0)
                    best = MIN(best, boundary_ns(r, j + (uint64_t)d));
            }
        }
    }
    if (best <= INT64_MAX)
        timer_mod(&r->m->clock, &r->timer, (int64_t)best);
    else
        timer_del(&r->m->clock, &r->timer);
}

static void rtc_timer_cb(void *opaque)
{
    Mc146818 *r = opaque;
    rtc_sync(r);
    update_irq(r);
    rearm(r);
}

static void set_wall_ns(Mc146818 *r, int64_t ns)
{
    if (ns < 0)
        ns = 0;
    rtc_sync(r);
    uint64_t now = vnow(r);
    r->phase = ((uint64_t)ns % NS_PER_SEC + NS_PER_SEC - now % NS_PER_SEC) % NS_PER_SEC;
    RtcTime t;
    secs_to_time(ns / (int64_t)NS_PER_SEC, &t);
    set_anchor(r, &t);
    if (!r->have_time) {
        r->have_time = true;
        r->eval_ns = now;
    }
    update_irq(r);
    rearm(r);
}

static void ensure_time(Mc146818 *r)
{
    if (!r->have_time)
        set_wall_ns(r, machine_host_clock_ns(r->m));
}

/* ---- registers ---- */

static bool uip(const Mc146818 *r)
{
    if (!r->have_time || clock_stopped(r))
        return false;
    return ticks_at(r, vnow(r)) % TICKS_PER_SEC >= TICKS_PER_SEC - UIP_TICKS;
}

static uint8_t reg_read(Mc146818 *r, unsigned i, bool side_effects)
{
    if (is_clock_reg(i))
        ensure_time(r);
    if (is_time_reg(i)) {
        RtcTime t = current_time(r);
        return time_field(r, &t, i);
    }
    switch (i) {
    case MC146818_REG_A:
        return r->reg_a | (uip(r) ? A_UIP : 0);
    case MC146818_REG_B:
        return r->reg_b;
    case MC146818_REG_C: {
        rtc_sync(r);
        uint8_t v = r->flags | (irqf(r) ? C_IRQF : 0);
        if (side_effects) {
            r->flags = 0;
            update_irq(r);
            rearm(r);
        }
        return v;
    }
    case MC146818_REG_D:
        return D_VRT;
    default:                    /* alarms and RAM */
        return r->ram[i];
    }
}

static void reg_write(Mc146818 *r, unsigned i, uint8_t v)
{
    if (!is_clock_reg(i)) {
        r->ram[i] = v;
        return;
    }
    ensure_time(r);
    rtc_sync(r);
    RtcTime t = current_time(r);
    switch (i) {
    case MC146818_SEC_ALARM:
    case MC146818_MIN_ALARM:
    case MC146818_HOUR_ALARM:
        r->ram[i] = v;
        break;
    case MC146818_REG_A: {
        bool was_running = divider_running(r);
        r->reg_a = v & ~A_UIP;
        /* Out of divider reset, the first update comes half a second later. */
        if (!was_running && divider_running(r)) {
            uint64_t now = vnow(r);
            r->phase = (NS_PER_SEC / 2 + NS_PER_SEC - now % NS_PER_SEC) % NS_PER_SEC;
        }
        set_anchor(r, &t);
        break;
    }
    case MC146818_REG_B:
        /* SET going high aborts updates and clears UIE (datasheet). */
        r->reg_b = (v & B_SET) ? v & ~B_UIE : v;
        set_anchor(r, &t);
        break;
    case MC146818_REG_C:
    case MC146818_REG_D:
        return;                 /* read-only */
    default:
        set_time_field(r, &t, i, v);
        set_anchor(r, &t);
        break;
    }
    update_irq(r);
    rearm(r);
}

static uint64_t rtc_io_read(void *opaque, uint64_t off, unsigned size)
{
    Mc146818 *r = opaque;
    if (off == 0)
        return 0xff;            /* the index port is write-only */
    return reg_read(r, r->index, true);
}

static void rtc_io_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    Mc146818 *r = opaque;
    if (off == 0) {
        r->index = val & 0x7f;
        r->nmi_masked = val & 0x80;
    } else {
        reg_write(r, r->index, (uint8_t)val);
    }
}

static const MemOps mc146818_mem_ops = {
    .name = "mc146818",
    .read = rtc_io_read,
    .write = rtc_io_write,
    .min_access = 1,
    .max_access = 1,
};

/* ---- public ---- */

void mc146818_cmos_set(Mc146818 *r, unsigned index, uint8_t value)
{
    if (index < MC146818_CMOS_SIZE && !is_clock_reg(index))
        r->ram[index] = value;
}

uint8_t mc146818_cmos_get(Mc146818 *r, unsigned index)
{
    return index < MC146818_CMOS_SIZE ? reg_read(r, index, false) : 0xff;
}

void mc146818_set_time_ns(Mc146818 *r, int64_t unix_ns)
{
    set_wall_ns(r, unix_ns);
}

bool mc146818_nmi_masked(const Mc146818 *r)
{
    return r->nmi_masked;
}

/* The RESET pin: interrupt enables and flags clear; the clock, the RAM and
 * the data modes survive (battery-backed). */
static void mc146818_reset(void *dev)
{
    Mc146818 *r = dev;
    rtc_sync(r);
    r->reg_b &= ~(B_PIE | B_AIE | B_UIE | B_SQWE);
    r->flags = 0;
    r->index = 0;
    r->nmi_masked = false;
    update_irq(r);
    rearm(r);
}

static void mc146818_destroy(void *dev)
{
    Mc146818 *r = dev;
    timer_del(&r->m->clock, &r->timer);
    g_free(r);
}

/* ---- snapshots ---- */

#define SNAP_VERSION 1
/* Bounds on the clock fields a load accepts: guest writes give at most
 * 255 per field and years below 25600 (century 255); the clock runs on
 * from there, never by a million years.  Within them the calendar
 * arithmetic cannot overflow. */
#define SNAP_MAX_YEAR 1000000
#define SNAP_MAX_FIELD 255

static int mc146818_save(void *dev, void *wp)
{
    Mc146818 *r = dev;
    SnapWriter *w = wp;
    snap_put_u8(w, SNAP_VERSION);
    snap_put_u64(w, r->index);
    snap_put_bool(w, r->nmi_masked);
    snap_put_bytes(w, r->ram, sizeof(r->ram));
    snap_put_u8(w, r->reg_a);
    snap_put_u8(w, r->reg_b);
    snap_put_u8(w, r->flags);
    snap_put_bool(w, r->irq_level);
    snap_put_bool(w, r->have_time);
    const RtcTime *a = &r->anchor;
    snap_put_u64(w, (uint64_t)a->year);
    const int f[6] = { a->mon, a->mday, a->wday, a->hour, a->min, a->sec };
    for (int i = 0; i < 6; i++)
        snap_put_u64(w, (uint64_t)f[i]);
    snap_put_u64(w, r->anchor_idx);
    snap_put_u64(w, r->phase);
    snap_put_u64(w, r->eval_ns);
    snap_put_timer(w, &r->timer);
    return 0;
}

static int mc146818_load(void *dev, void *rp)
{
    Mc146818 *r = dev;
    SnapReader *sr = rp;
    if (!devsnap_version(sr, SNAP_VERSION, "mc146818"))
        return -1;
    Mc146818 t = *r;
    t.index = (uint8_t)snap_get_max(sr, MC146818_CMOS_SIZE - 1, "mc146818 index");
    t.nmi_masked = snap_get_bool(sr);
    snap_get_bytes(sr, t.ram, sizeof(t.ram));
    t.reg_a = (uint8_t)devsnap_check_mask(sr, snap_get_u8(sr), (uint8_t)~A_UIP,
                                          "mc146818 register A");
    t.reg_b = snap_get_u8(sr);
    t.flags = (uint8_t)devsnap_check_mask(sr, snap_get_u8(sr), C_PF | C_AF | C_UF,
                                          "mc146818 register C");
    t.irq_level = snap_get_bool(sr);
    t.have_time = snap_get_bool(sr);
    RtcTime *a = &t.anchor;
    a->year = (int64_t)snap_get_max(sr, SNAP_MAX_YEAR, "mc146818 year");
    int *f[6] = { &a->mon, &a->mday, &a->wday, &a->hour, &a->min, &a->sec };
    for (int i = 0; i < 6; i++)
        *f[i] = (int)snap_get_max(sr, SNAP_MAX_FIELD, "mc146818 clock field");
    t.anchor_idx = snap_get_max(sr, UINT64_MAX / NS_PER_SEC + 1, "mc146818 second index");
    t.phase = snap_get_max(sr, NS_PER_SEC - 1, "mc146818 second phase");
    t.eval_ns = snap_get_u64(sr);
    if (snap_reader_ok(sr))
        snap_get_timer(sr, &r->m->clock, &r->timer);
    if (!snap_reader_ok(sr))
        return -1;
    t.timer = r->timer;
    *r = t;
    return 0;
}

static const DeviceOps mc146818_device_ops = {
    .name = "mc146818",
    .reset = mc146818_reset,
    .save = mc146818_save,
    .load = mc146818_load,
    .destroy = mc146818_destroy,
};

Mc146818 *mc146818_create(Machine *m, AddressSpace *io, uint16_t port, IrqLine irq8)
{
    Mc146818 *r = g_new0(Mc146818, 1);
    r->m = m;
    r->irq = irq8;
    r->reg_a = 0x26;            /* 32.768 kHz time base, 1024 Hz periodic rate */
    r->reg_b = B_24H;
    timer_init(&r->timer, rtc_timer_cb, r);
    r->timer.lazy = true;      /* state and interrupt line only */
    int err = (uint32_t)port + MC146818_PIO_SIZE > 0x10000 ? -ERANGE
            : as_add_mmio(io, "mc146818", port, MC146818_PIO_SIZE, &mc146818_mem_ops, r);
    if (err) {
        machine_set_error(m, "mc146818: cannot map ports 0x%x-0x%x: %s",
                          port, port + MC146818_PIO_SIZE - 1, g_strerror(-err));
        g_free(r);
        return NULL;
    }
    machine_add_device(m, &mc146818_device_ops, r);
    return r;
}
