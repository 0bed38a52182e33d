/* Intel 8254 PIT and PC port 0x61.
 *
 * The input clock is virtual time: clock pulse t happens at the first
 * virtual nanosecond at which t * 10^9 / 1193182 has been reached, so the
 * counters are pure functions of the guest's accesses and icount.  A
 * counter is not stepped pulse by pulse: it keeps its state as of some
 * pulse (c->t) and is brought forward in closed form whenever the guest
 * touches it, the gate moves or its OUT can change.  Only counter 0's OUT
 * is a wire anyone listens to (IRQ0), so only counter 0 has a Timer, armed
 * for its next OUT edge; counter 2's OUT is computed when port 0x61 is
 * read.
 *
 * The CE of modes 0, 1, 2, 4 and 5 is kept as d, the pulses until it
 * reaches 0 (1..modulus, where modulus reads back as 0).  Mode 3 keeps the
 * half-cycle (count, high or low, pulses into it): its CE runs 2 at a time
 * and, for odd counts, takes a 1 or a 3 first (datasheet). */
#include "devices/i8254.h"

#include <glib.h>

#include "devices/devsnap.h"
#include "vmm/clock.h"
#include "vmm/machine.h"

#define NO_TICK (-1)
/* Pulses a snapshot may name: far beyond what int64 nanoseconds reach. */
#define MAX_TICK (INT64_C(1) << 62)
#define SNAP_VERSION 1
/* Edges a late sync still passes to IRQ0 one by one before it jumps. */
#define MAX_CATCHUP_EDGES 8

typedef struct PitCounter {
    uint8_t mode;           /* 0-5 (6 and 7 are 2 and 3) */
    uint8_t mode_bits;      /* M2-M0 as written, for the status byte */
    uint8_t rw;             /* 1 LSB, 2 MSB, 3 LSB then MSB */
    bool bcd;
    uint8_t cr_lsb;         /* LSB of a two-byte count being written */
    uint32_t n;             /* the count register, 1..modulus */
    bool have_count;        /* a count was written since the control word */
    bool write_msb, read_msb;
    bool wait_msb;          /* mode 0: LSB written, counting held */
    bool latched, status_latched;
    uint16_t latch;
    uint8_t status;
    bool gate;
    bool null_count;
    bool out;
    bool loaded;            /* CE holds a count: the sequence is running */
    int64_t load_at;        /* pulse loading n into CE, or NO_TICK */
    int64_t t;              /* the pulse the state below is at */
    uint32_t d;             /* not mode 3: pulses until CE reaches 0 */
    uint32_t cur, e;        /* mode 3: count of this half-cycle, pulses into it */
    bool low_half;          /* mode 3 */
    bool strobe_armed;      /* modes 4, 5 */
} PitCounter;

struct I8254 {
    Machine *m;
    IrqLine irq0;
    int irq0_level;
    Timer timer;
    uint8_t port61;         /* bits 0-3: gate 2, speaker, parity/IOCHK enables */
    PitCounter c[3];
};

static int64_t tick_of_ns(int64_t ns) { return clock_ticks_at(ns, I8254_CLOCK_HZ); }
static int64_t ns_of_tick(int64_t t) { return clock_tick_ns(t, I8254_CLOCK_HZ); }

static int64_t now_tick(const I8254 *pit)
{
    return tick_of_ns(machine_ns(pit->m));
}

static uint32_t modulus(const PitCounter *c)
{
    return c->bcd ? 10000 : 65536;
}

static uint32_t decode_count(const PitCounter *c, uint16_t v)
{
    if (!c->bcd)
        return v ? v : 65536;
    /* Digits above 9 from a careless guest still give some count. */
    uint32_t n = (v >> 12 & 15) * 1000u + (v >> 8 & 15) * 100u + (v >> 4 & 15) * 10u +
                 (v & 15);
    n %= 10000;
    return n ? n : 10000;
}

static uint16_t to_bcd(uint32_t v)
{
    v %= 10000;
    return (uint16_t)((v / 1000) << 12 | (v / 100 % 10) << 8 | (v / 10 % 10) << 4 | v % 10);
}

/* Mode 3 with a count of 1 is not defined; it runs as 2. */
static uint32_t mode3_count(uint32_t n)
{
    return n < 2 ? 2 : n;
}

static uint32_t half_len(uint32_t cur, bool low)
{
    return low ? cur / 2 : (cur + 1) / 2;
}

/* CE as a binary number below the modulus. */
static uint32_t ce_value(const PitCounter *c)
{
    uint32_t mod = modulus(c);
    if (c->mode != 3)
        return c->d % mod;
    uint32_t v;
    if (c->e == 0)
        v = c->cur;
    else if (!(c->cur & 1))
        v = c->cur - 2 * c->e;
    else
        v = c->low_half ? c->cur - 1 - 2 * c->e : c->cur + 1 - 2 * c->e;
    return v % mod;
}

static uint32_t count_down(uint32_t d, int64_t k, uint32_t mod)
{
    uint32_t kk = (uint32_t)(k % mod);
    return d > kk ? d - kk : d + mod - kk;
}

static bool counting(const PitCounter *c)
{
    if (!c->loaded)
        return false;
    if (c->mode == 1 || c->mode == 5)
        return true;            /* the gate only triggers */
    return c->gate && !c->wait_msb;
}

static void run_mode3(PitCounter *c, int64_t k)
{
    uint32_t len = half_len(c->cur, c->low_half);
    if ((int64_t)c->e + k < len) {
        c->e += (uint32_t)k;
    } else {
        k -= len - c->e;
        /* End of a half-cycle: OUT flips and the count register reloads. */
        c->low_half = !c->low_half;
        c->cur = mode3_count(c->n);
        c->null_count = false;
        k %= c->cur;
        while (k >= (len = half_len(c->cur, c->low_half))) {
            k -= len;
            c->low_half = !c->low_half;
        }
        c->e = (uint32_t)k;
    }
    c->out = !c->low_half;
}

/* Clock pulses c->t+1 .. t1, with no load among them. */
static void run(PitCounter *c, int64_t t1)
{
    int64_t k = t1 - c->t;
    if (k <= 0)
        return;
    c->t = t1;
    if (!counting(c))
        return;
    uint32_t mod = modulus(c);
    switch (c->mode) {
    case 0:
    case 1:
        if (!c->out && k >= c->d)
            c->out = true;      /* terminal count: high until reprogrammed */
        c->d = count_down(c->d, k, mod);
        break;
    case 4:
    case 5:
        if (!c->out) {
            c->out = true;      /* the strobe lasts one pulse */
        } else if (c->strobe_armed && k >= c->d) {
            c->strobe_armed = false;
            c->out = k != c->d;
        }
        c->d = count_down(c->d, k, mod);
        break;
    case 2:
        if (k < c->d) {
            c->d -= (uint32_t)k;
        } else {
            c->d = c->n - (uint32_t)((k - c->d) % c->n);
            c->null_count = false;
        }
        c->out = c->d != 1;
        break;
    default:
        run_mode3(c, k);
        break;
    }
}

static void do_load(PitCounter *c)
{
    c->loaded = true;
    c->null_count = false;
    c->d = c->n;
    switch (c->mode) {
    case 1:
        c->out = false;
        break;
    case 2:
        c->out = !(c->gate && c->d == 1);
        break;
    case 3:
        c->cur = mode3_count(c->n);
        c->e = 0;
        c->low_half = false;
        c->out = true;
        break;
    case 4:
    case 5:
        c->strobe_armed = true;
        c->out = true;
        break;
    default:                    /* mode 0: OUT went low when the count was written */
        break;
    }
}

static void advance(PitCounter *c, int64_t t1)
{
    if (c->load_at != NO_TICK && c->load_at <= t1) {
        run(c, c->load_at - 1);
        c->t = c->load_at;
        c->load_at = NO_TICK;
        do_load(c);
    }
    run(c, t1);
}

/* Pulses from c->t until OUT changes with no load pending; -1: never. */
static int64_t steady_next(const PitCounter *c)
{
    if (!counting(c))
        return -1;
    switch (c->mode) {
    case 0:
    case 1:
        return c->out ? -1 : (int64_t)c->d;
    case 4:
    case 5:
        if (!c->out)
            return 1;
        return c->strobe_armed ? (int64_t)c->d : -1;
    case 2:
        if (c->d == 1)
            return c->n == 1 ? -1 : 1;
        return c->d - 1;
    default:
        return half_len(c->cur, c->low_half) - c->e;
    }
}

/* The pulse at which OUT next changes if the guest does nothing. */
static int64_t next_edge(const PitCounter *c)
{
    PitCounter tmp = *c;
    int64_t base = c->t;
    if (c->load_at != NO_TICK) {
        advance(&tmp, c->load_at);
        if (tmp.out != c->out)
            return c->load_at;
        base = tmp.t;
    }
    int64_t rel = steady_next(&tmp);
    return rel < 0 ? NO_TICK : base + rel;
}

static void emit_irq0(I8254 *pit)
{
    int level = pit->c[0].out;
    if (level != pit->irq0_level) {
        pit->irq0_level = level;
        irq_set(&pit->irq0, level);
    }
}

static void rearm(I8254 *pit)
{
    int64_t e = next_edge(&pit->c[0]);
    int64_t ns = e == NO_TICK ? INT64_MAX : ns_of_tick(e);
    if (ns == INT64_MAX)
        timer_del(&pit->m->clock, &pit->timer);
    else
        timer_mod(&pit->m->clock, &pit->timer, ns);
}

/* Bring counter i to pulse now.  Counter 0 passes its OUT edges to IRQ0
 * one at a time, so a sync that comes late still shows the PIC a
 * rising edge it would otherwise skip (mode 2's one-pulse low). */
static void sync_counter(I8254 *pit, int i, int64_t now)
{
    PitCounter *c = &pit->c[i];
    if (i == 0) {
        for (int n = 0; n < MAX_CATCHUP_EDGES; n++) {
            int64_t e = next_edge(c);
            if (e == NO_TICK || e > now)
                break;
            advance(c, e);
            emit_irq0(pit);
        }
    }
    advance(c, now);
}

/* After anything that may have changed counter 0. */
static void counter0_changed(I8254 *pit)
{
    emit_irq0(pit);
    rearm(pit);
}

static void pit_timer(void *opaque)
{
    I8254 *pit = opaque;
    sync_counter(pit, 0, now_tick(pit));
    counter0_changed(pit);
}

static void set_count(PitCounter *c, uint16_t v, int64_t now)
{
    c->n = decode_count(c, v);
    c->have_count = true;
    c->null_count = true;
    switch (c->mode) {
    case 0:
        c->out = false;
        c->load_at = now + 1;
        break;
    case 4:
        c->load_at = now + 1;
        break;
    case 2:
    case 3:
        /* Once running, a new count waits for the end of the (half-)cycle. */
        if (!c->loaded)
            c->load_at = now + 1;
        break;
    default:                    /* modes 1 and 5 wait for a gate trigger */
        break;
    }
}

static void counter_write(PitCounter *c, uint8_t v, int64_t now)
{
    switch (c->rw) {
    case 1:
        set_count(c, v, now);
        break;
    case 2:
        set_count(c, (uint16_t)(v << 8), now);
        break;
    default:
        if (!c->write_msb) {
            c->cr_lsb = v;
            c->write_msb = true;
            if (c->mode == 0) {
                c->wait_msb = true;
                c->out = false;
            }
        } else {
            c->write_msb = false;
            c->wait_msb = false;
            set_count(c, (uint16_t)(c->cr_lsb | v << 8), now);
        }
        break;
    }
}

static uint8_t counter_read(PitCounter *c)
{
    if (c->status_latched) {
        c->status_latched = false;
        return c->status;
    }
    uint16_t v;
    if (c->latched) {
        v = c->latch;
    } else {
        uint32_t ce = ce_value(c);
        v = c->bcd ? to_bcd(ce) : (uint16_t)ce;
    }
    uint8_t byte;
    bool last = true;
    switch (c->rw) {
    case 1:
        byte = (uint8_t)v;
        break;
    case 2:
        byte = (uint8_t)(v >> 8);
        break;
    default:
        byte = c->read_msb ? (uint8_t)(v >> 8) : (uint8_t)v;
        last = c->read_msb;
        c->read_msb = !c->read_msb;
        break;
    }
    if (last)
        c->latched = false;
    return byte;
}

static void latch_count(PitCounter *c)
{
    if (c->latched)
        return;
    uint32_t ce = ce_value(c);
    c->latch = c->bcd ? to_bcd(ce) : (uint16_t)ce;
    c->latched = true;
}

static void latch_status(PitCounter *c)
{
    if (c->status_latched)
        return;
    c->status = (uint8_t)(c->out << 7 | c->null_count << 6 | c->rw << 4 |
                          c->mode_bits << 1 | c->bcd);
    c->status_latched = true;
}

static void control_word(PitCounter *c, uint8_t v)
{
    uint32_t shown = ce_value(c);
    c->rw = v >> 4 & 3;
    c->mode_bits = v >> 1 & 7;
    c->mode = c->mode_bits > 5 ? c->mode_bits - 4 : c->mode_bits;
    c->bcd = v & 1;
    /* CE keeps its value, stopped until a count is written. */
    uint32_t mod = modulus(c);
    c->d = shown % mod ? shown % mod : mod;
    c->cur = c->d;
    c->e = 0;
    c->low_half = false;
    c->loaded = false;
    c->load_at = NO_TICK;
    c->have_count = false;
    c->null_count = true;
    c->write_msb = c->read_msb = c->wait_msb = false;
    c->latched = c->status_latched = false;
    c->strobe_armed = false;
    c->out = c->mode != 0;
}

static void set_gate(PitCounter *c, bool gate, int64_t now)
{
    if (gate == c->gate)
        return;
    c->gate = gate;
    if (gate) {
        if (c->mode != 0 && c->mode != 4 && c->have_count)
            c->load_at = now + 1;           /* trigger */
    } else if (c->mode == 2 || c->mode == 3) {
        c->out = true;
    }
}

static uint64_t pit_read(void *opaque, uint64_t off, unsigned size)
{
    I8254 *pit = opaque;
    if (off == 3)
        return 0xff;            /* the control word register is write-only */
    int i = (int)off;
    sync_counter(pit, i, now_tick(pit));
    uint8_t v = counter_read(&pit->c[i]);
    if (i == 0)
        counter0_changed(pit);
    return v;
}

static void pit_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    I8254 *pit = opaque;
    uint8_t v = (uint8_t)val;
    int64_t now = now_tick(pit);
    if (off < 3) {
        sync_counter(pit, (int)off, now);
        counter_write(&pit->c[off], v, now);
    } else if (v >> 6 == 3) {
        /* Read-back: bit 5 clear latches counts, bit 4 clear statuses. */
        for (int i = 0; i < 3; i++) {
            if (!(v & 2 << i))
                continue;
            sync_counter(pit, i, now);
            if (!(v & 0x20))
                latch_count(&pit->c[i]);
            if (!(v & 0x10))
                latch_status(&pit->c[i]);
        }
    } else {
        int i = v >> 6;
        sync_counter(pit, i, now);
        if (!(v & 0x30))
            latch_count(&pit->c[i]);
        else
            control_word(&pit->c[i], v);
    }
    counter0_changed(pit);
}

static const MemOps i8254_mem_ops = {
    .name = "i8254",
    .read = pit_read,
    .write = pit_write,
    .min_access = 1,
    .max_access = 1,
};

static uint64_t port61_read(void *opaque, uint64_t off, unsigned size)
{
    I8254 *pit = opaque;
    int64_t now = now_tick(pit);
    sync_counter(pit, 2, now);
    bool refresh = (now / I8254_REFRESH_TICKS) & 1;
    return (uint64_t)(pit->port61 | refresh << 4 | pit->c[2].out << 5);
}

static void port61_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    I8254 *pit = opaque;
    int64_t now = now_tick(pit);
    pit->port61 = (uint8_t)val & 0x0f;
    sync_counter(pit, 2, now);
    set_gate(&pit->c[2], val & 1, now);
}

static const MemOps port61_mem_ops = {
    .name = "port61",
    .read = port61_read,
    .write = port61_write,
    .min_access = 1,
    .max_access = 1,
};

bool i8254_out(I8254 *pit, int n)
{
    if (n < 0 || n > 2)
        return false;
    sync_counter(pit, n, now_tick(pit));
    if (n == 0)
        counter0_changed(pit);
    return pit->c[n].out;
}

/* The 8254's power-on state is undefined; like a PC after its BIOS (and
 * QEMU), every counter starts in mode 3 with a count of 65536, gates 0 and
 * 1 high, so counter 0 ticks IRQ0 at 18.2 Hz even before anyone programs
 * it. */
static void counter_reset(PitCounter *c, bool gate, int64_t now)
{
    *c = (PitCounter){ .t = now, .gate = gate, .load_at = NO_TICK, .d = 65536 };
    control_word(c, 0x36);
    set_count(c, 0, now);
}

static void i8254_reset(void *dev)
{
    I8254 *pit = dev;
    int64_t now = now_tick(pit);
    pit->port61 = 0;
    for (int i = 0; i < 3; i++)
        counter_reset(&pit->c[i], i != 2, now);
    counter0_changed(pit);
}

static void i8254_destroy(void *dev)
{
    I8254 *pit = dev;
    timer_del(&pit->m->clock, &pit->timer);
    g_free(pit);
}

/* ---- snapshots ---- */

static void counter_save(SnapWriter *w, const PitCounter *c)
{
    snap_put_u64(w, c->mode_bits);
    snap_put_u64(w, c->rw);
    snap_put_bool(w, c->bcd);
    snap_put_u8(w, c->cr_lsb);
    snap_put_u64(w, c->n);
    snap_put_bool(w, c->have_count);
    snap_put_bool(w, c->write_msb);
    snap_put_bool(w, c->read_msb);
    snap_put_bool(w, c->wait_msb);
    snap_put_bool(w, c->latched);
    snap_put_bool(w, c->status_latched);
    snap_put_u16(w, c->latch);
    snap_put_u8(w, c->status);
    snap_put_bool(w, c->gate);
    snap_put_bool(w, c->null_count);
    snap_put_bool(w, c->out);
    snap_put_bool(w, c->loaded);
    snap_put_i64(w, c->load_at);
    snap_put_i64(w, c->t);
    snap_put_u64(w, c->d);
    snap_put_u64(w, c->cur);
    snap_put_u64(w, c->e);
    snap_put_bool(w, c->low_half);
    snap_put_bool(w, c->strobe_armed);
}

/* The counts are divisors in run(): none may be 0.  (A control word that
 * switches to BCD leaves a binary count register behind, so the bound is
 * the binary modulus.) */
static void counter_load(SnapReader *r, PitCounter *c)
{
    const uint32_t mod = 65536;
    c->mode_bits = (uint8_t)snap_get_max(r, 7, "i8254 counter mode");
    c->mode = c->mode_bits > 5 ? c->mode_bits - 4 : c->mode_bits;
    c->rw = (uint8_t)devsnap_get_range(r, 1, 3, "i8254 read/write mode");
    c->bcd = snap_get_bool(r);
    c->cr_lsb = snap_get_u8(r);
    c->n = (uint32_t)devsnap_get_range(r, 1, mod, "i8254 count register");
    c->have_count = snap_get_bool(r);
    c->write_msb = snap_get_bool(r);
    c->read_msb = snap_get_bool(r);
    c->wait_msb = snap_get_bool(r);
    c->latched = snap_get_bool(r);
    c->status_latched = snap_get_bool(r);
    c->latch = snap_get_u16(r);
    c->status = snap_get_u8(r);
    c->gate = snap_get_bool(r);
    c->null_count = snap_get_bool(r);
    c->out = snap_get_bool(r);
    c->loaded = snap_get_bool(r);
    c->load_at = snap_get_i64(r);
    c->t = snap_get_i64(r);
    c->d = (uint32_t)devsnap_get_range(r, 1, mod, "i8254 counting element");
    c->cur = (uint32_t)devsnap_get_range(r, 1, mod, "i8254 mode 3 count");
    c->e = (uint32_t)snap_get_max(r, mod, "i8254 mode 3 position");
    c->low_half = snap_get_bool(r);
    c->strobe_armed = snap_get_bool(r);
    devsnap_require(r, c->load_at == NO_TICK || (c->load_at >= 0 && c->load_at <= MAX_TICK),
                    "i8254 load pulse");
    devsnap_require(r, c->t >= 0 && c->t <= MAX_TICK, "i8254 counter pulse");
    devsnap_require(r, c->e < half_len(c->cur, c->low_half), "i8254 mode 3 half-cycle");
}

static int i8254_save(void *dev, void *wp)
{
    I8254 *pit = dev;
    SnapWriter *w = wp;
    snap_put_u8(w, SNAP_VERSION);
    snap_put_bool(w, pit->irq0_level);
    snap_put_u8(w, pit->port61);
    for (int i = 0; i < 3; i++)
        counter_save(w, &pit->c[i]);
    snap_put_timer(w, &pit->timer);
    return 0;
}

static int i8254_load(void *dev, void *rp)
{
    I8254 *pit = dev;
    SnapReader *r = rp;
    if (!devsnap_version(r, SNAP_VERSION, "i8254"))
        return -1;
    int irq0_level = snap_get_bool(r);
    uint8_t port61 = (uint8_t)devsnap_check_mask(r, snap_get_u8(r), 0x0f, "port 0x61");
    PitCounter c[3];
    for (int i = 0; i < 3; i++) {
        c[i] = pit->c[i];
        counter_load(r, &c[i]);
    }
    if (snap_reader_ok(r))
        snap_get_timer(r, &pit->m->clock, &pit->timer);
    if (!snap_reader_ok(r))
        return -1;
    pit->irq0_level = irq0_level;
    pit->port61 = port61;
    for (int i = 0; i < 3; i++)
        pit->c[i] = c[i];
    return 0;
}

static const DeviceOps i8254_device_ops = {
    .name = "i8254",
    .reset = i8254_reset,
    .save = i8254_save,
    .load = i8254_load,
    .destroy = i8254_destroy,
};

I8254 *i8254_create(Machine *m, AddressSpace *io, IrqLine irq0)
{
    I8254 *pit = g_new0(I8254, 1);
    pit->m = m;
    pit->irq0 = irq0;
    timer_init(&pit->timer, pit_timer, pit);
    pit->timer.lazy = true;      /* state and interrupt line only */

    int err = as_add_mmio(io, "i8254", I8254_PORT, 4, &i8254_mem_ops, pit);
    if (err) {
        machine_set_error(m, "i8254: cannot map ports 0x%x-0x%x: %s",
                          I8254_PORT, I8254_PORT + 3, g_strerror(-err));
        g_free(pit);
        return NULL;
    }
    err = as_add_mmio(io, "port61", I8254_PORT61, 1, &port61_mem_ops, pit);
    if (err) {
        machine_set_error(m, "i8254: cannot map port 0x%x: %s", I8254_PORT61,
                          g_strerror(-err));
        /* The PIT ports already point at pit: it lives as long as they do. */
        machine_keep(m, pit);
        return NULL;
    }
    i8254_reset(pit);
    machine_add_device(m, &i8254_device_ops, pit);
    return pit;
}
