/* NS16550A UART.
 *
 * Transmission is instantaneous: a THR write goes straight to the chardev
 * and THR/TSR are empty again at once, so LSR.THRE and LSR.TEMT always read
 * 1.  Reception goes through a 16-byte FIFO (1 byte with FIFOs disabled).
 * The character timeout is measured in virtual time from the last FIFO
 * activity (a byte received or read), 4 character times at the programmed
 * baud rate and frame format, so it is a deterministic function of icount. */
#include "devices/ns16550a.h"

#include <glib.h>
#include <stdbool.h>

#include "devices/devsnap.h"
#include "vmm/clock.h"
#include "vmm/machine.h"
#include "vmm/memory.h"

enum {
    REG_RBR_THR = 0, REG_IER = 1, REG_IIR_FCR = 2, REG_LCR = 3,
    REG_MCR = 4, REG_LSR = 5, REG_MSR = 6, REG_SCR = 7,
};

#define IER_RDA   0x01
#define IER_THRE  0x02
#define IER_RLS   0x04
#define IER_MSI   0x08

#define IIR_NONE    0x01
#define IIR_MSI     0x00
#define IIR_THRE    0x02
#define IIR_RDA     0x04
#define IIR_RLS     0x06
#define IIR_TIMEOUT 0x0c
#define IIR_FIFO    0xc0

#define FCR_ENABLE   0x01
#define FCR_CLR_RX   0x02
#define FCR_CLR_TX   0x04
#define FCR_DMA      0x08
#define FCR_TRIGGER  0xc0

#define LCR_DLAB  0x80

#define MCR_DTR   0x01
#define MCR_RTS   0x02
#define MCR_OUT1  0x04
#define MCR_OUT2  0x08
#define MCR_LOOP  0x10
#define MCR_MASK  0x1f

#define LSR_DR    0x01
#define LSR_OE    0x02
#define LSR_PE    0x04
#define LSR_FE    0x08
#define LSR_BI    0x10
#define LSR_THRE  0x20
#define LSR_TEMT  0x40
#define LSR_ERRS  (LSR_OE | LSR_PE | LSR_FE | LSR_BI)

#define MSR_DCTS  0x01
#define MSR_DDSR  0x02
#define MSR_TERI  0x04
#define MSR_DDCD  0x08
#define MSR_DELTA 0x0f
#define MSR_CTS   0x10
#define MSR_DSR   0x20
#define MSR_RI    0x40
#define MSR_DCD   0x80

#define RX_FIFO_SIZE 16

struct Ns16550a {
    Machine *m;
    Chardev *chr;
    IrqLine irq;
    CharFrontend fe;
    Timer timeout_timer;

    uint8_t rx[RX_FIFO_SIZE];
    unsigned rx_head, rx_count;

    uint16_t divisor;
    uint8_t ier, fcr, lcr, mcr, msr, scr;
    uint8_t lsr_err;            /* sticky error bits, cleared by reading LSR */
    bool thr_ipending;          /* THRE interrupt not yet acknowledged */
    bool timeout_ipending;      /* character timeout fired */
    int irq_level;
};

static bool fifo_on(const Ns16550a *s)
{
    return s->fcr & FCR_ENABLE;
}

static unsigned rx_capacity(const Ns16550a *s)
{
    return fifo_on(s) ? RX_FIFO_SIZE : 1;
}

static unsigned rx_trigger(const Ns16550a *s)
{
    static const unsigned level[4] = { 1, 4, 8, 14 };
    return fifo_on(s) ? level[s->fcr >> 6] : 1;
}

/* Highest-priority pending interrupt, as IIR bits 0-3 report it. */
static uint8_t pending_iid(const Ns16550a *s)
{
    if ((s->ier & IER_RLS) && (s->lsr_err & LSR_ERRS))
        return IIR_RLS;
    if (s->ier & IER_RDA) {
        if (s->rx_count >= rx_trigger(s))
            return IIR_RDA;
        if (s->timeout_ipending)
            return IIR_TIMEOUT;
    }
    if ((s->ier & IER_THRE) && s->thr_ipending)
        return IIR_THRE;
    if ((s->ier & IER_MSI) && (s->msr & MSR_DELTA))
        return IIR_MSI;
    return IIR_NONE;
}

static void update_irq(Ns16550a *s)
{
    int level = pending_iid(s) != IIR_NONE;
    if (level != s->irq_level) {
        s->irq_level = level;
        irq_set(&s->irq, level);
    }
}

/* Four character times at the current divisor and frame format. */
static int64_t timeout_ns(const Ns16550a *s)
{
    uint64_t bits = 1 + 5 + (s->lcr & 3) + ((s->lcr & 0x08) ? 1 : 0) +
                    ((s->lcr & 0x04) ? 2 : 1);
    uint64_t div = s->divisor ? s->divisor : 1;
    uint64_t char_ns = bits * 16 * div * 1000000000ull / NS16550A_CLOCK_HZ;
    return (int64_t)(4 * char_ns) + 1;
}

/* Called on every FIFO activity: the timeout restarts from now. */
static void rx_activity(Ns16550a *s)
{
    s->timeout_ipending = false;
    if (fifo_on(s) && s->rx_count)
        timer_mod(&s->m->clock, &s->timeout_timer, machine_ns(s->m) + timeout_ns(s));
    else
        timer_del(&s->m->clock, &s->timeout_timer);
}

static void timeout_fired(void *opaque)
{
    Ns16550a *s = opaque;
    if (fifo_on(s) && s->rx_count) {
        s->timeout_ipending = true;
        update_irq(s);
    }
}

static void rx_clear(Ns16550a *s)
{
    s->rx_head = s->rx_count = 0;
    s->timeout_ipending = false;
    timer_del(&s->m->clock, &s->timeout_timer);
}

static void rx_push(Ns16550a *s, uint8_t b)
{
    if (s->rx_count >= rx_capacity(s)) {
        s->lsr_err |= LSR_OE;      /* the new byte is lost */
        return;
    }
    s->rx[(s->rx_head + s->rx_count) % RX_FIFO_SIZE] = b;
    s->rx_count++;
}

static uint8_t rx_pop(Ns16550a *s)
{
    if (!s->rx_count)
        return 0;
    uint8_t b = s->rx[s->rx_head];
    s->rx_head = (s->rx_head + 1) % RX_FIFO_SIZE;
    s->rx_count--;
    rx_activity(s);
    return b;
}

/* Recompute the modem status inputs (looped back from MCR in loop mode,
 * otherwise a permanently connected line) and latch the delta bits. */
static void update_msr(Ns16550a *s)
{
    uint8_t in;
    if (s->mcr & MCR_LOOP) {
        in = ((s->mcr & MCR_RTS) ? MSR_CTS : 0) |
             ((s->mcr & MCR_DTR) ? MSR_DSR : 0) |
             ((s->mcr & MCR_OUT1) ? MSR_RI : 0) |
             ((s->mcr & MCR_OUT2) ? MSR_DCD : 0);
    } else {
        in = MSR_CTS | MSR_DSR | MSR_DCD;
    }
    uint8_t old = s->msr & 0xf0, chg = old ^ in;
    uint8_t delta = s->msr & MSR_DELTA;
    if (chg & MSR_CTS)
        delta |= MSR_DCTS;
    if (chg & MSR_DSR)
        delta |= MSR_DDSR;
    if ((old & MSR_RI) && !(in & MSR_RI))
        delta |= MSR_TERI;
    if (chg & MSR_DCD)
        delta |= MSR_DDCD;
    s->msr = in | delta;
}

static uint64_t uart_read(void *opaque, uint64_t off, unsigned size)
{
    Ns16550a *s = opaque;
    uint8_t v = 0;

    switch (off) {
    case REG_RBR_THR:
        if (s->lcr & LCR_DLAB) {
            v = s->divisor & 0xff;
        } else {
            v = rx_pop(s);
            update_irq(s);
        }
        break;
    case REG_IER:
        v = (s->lcr & LCR_DLAB) ? s->divisor >> 8 : s->ier;
        break;
    case REG_IIR_FCR:
        v = pending_iid(s);
        if (v == IIR_THRE) {
            s->thr_ipending = false;
            update_irq(s);
        }
        if (fifo_on(s))
            v |= IIR_FIFO;
        break;
    case REG_LCR:
        v = s->lcr;
        break;
    case REG_MCR:
        v = s->mcr;
        break;
    case REG_LSR:
        v = LSR_THRE | LSR_TEMT | s->lsr_err | (s->rx_count ? LSR_DR : 0);
        s->lsr_err = 0;
        update_irq(s);
        break;
    case REG_MSR:
        v = s->msr;
        s->msr &= ~MSR_DELTA;
        update_irq(s);
        break;
    case REG_SCR:
        v = s->scr;
        break;
    default:
        break;
    }
    return v;
}

static void uart_write(void *opaque, uint64_t off, uint64_t val64, unsigned size)
{
    Ns16550a *s = opaque;
    uint8_t val = (uint8_t)val64;

    switch (off) {
    case REG_RBR_THR:
        if (s->lcr & LCR_DLAB) {
            s->divisor = (s->divisor & 0xff00) | val;
            break;
        }
        if (s->mcr & MCR_LOOP) {
            rx_push(s, val);
            rx_activity(s);
        } else if (s->chr) {
            chardev_write(s->chr, &val, 1);
        }
        /* The byte left at once: THR is empty again. */
        s->thr_ipending = true;
        update_irq(s);
        break;
    case REG_IER:
        if (s->lcr & LCR_DLAB) {
            s->divisor = (uint16_t)((s->divisor & 0xff) | (val << 8));
            break;
        }
        /* Enabling ETBEI with THR empty raises THRE again, even if an
         * earlier IIR read acknowledged it (drivers rely on this). */
        if ((val & IER_THRE) && !(s->ier & IER_THRE))
            s->thr_ipending = true;
        s->ier = val & 0x0f;
        update_irq(s);
        break;
    case REG_IIR_FCR: {
        uint8_t nf = (val & FCR_ENABLE) ? (val & (FCR_ENABLE | FCR_DMA | FCR_TRIGGER)) : 0;
        if ((nf ^ s->fcr) & FCR_ENABLE)
            rx_clear(s);
        else if (val & FCR_CLR_RX)
            rx_clear(s);
        s->fcr = nf;
        update_irq(s);
        break;
    }
    case REG_LCR:
        s->lcr = val;
        break;
    case REG_MCR:
        s->mcr = val & MCR_MASK;
        update_msr(s);
        update_irq(s);
        break;
    case REG_SCR:
        s->scr = val;
        break;
    default:                    /* LSR, MSR (read-only) and reserved */
        break;
    }
}

static const MemOps ns16550a_mem_ops = {
    .name = "ns16550a",
    .read = uart_read,
    .write = uart_write,
    .min_access = 1,
    .max_access = 4,
};

static int uart_can_receive(void *opaque)
{
    Ns16550a *s = opaque;
    if (s->mcr & MCR_LOOP)      /* the serial input is disconnected */
        return 0;
    return (int)(rx_capacity(s) - s->rx_count);
}

static void uart_receive(void *opaque, const uint8_t *buf, size_t len)
{
    Ns16550a *s = opaque;
    if (!len || (s->mcr & MCR_LOOP))
        return;
    for (size_t i = 0; i < len; i++)
        rx_push(s, buf[i]);
    rx_activity(s);
    update_irq(s);
}

static void ns16550a_reset(void *dev)
{
    Ns16550a *s = dev;
    rx_clear(s);
    s->divisor = 0;
    s->ier = s->fcr = s->lcr = s->mcr = s->scr = 0;
    s->lsr_err = 0;
    s->msr = 0;
    update_msr(s);
    s->msr &= ~MSR_DELTA;
    s->thr_ipending = false;
    update_irq(s);
}

static void ns16550a_destroy(void *dev)
{
    Ns16550a *s = dev;
    /* The chardev keeps a pointer to s->fe; machine_destroy closes the
     * backends right after the devices, with no input delivered between. */
    timer_del(&s->m->clock, &s->timeout_timer);
    g_free(s);
}

/* ---- snapshots ---- */

#define SNAP_VERSION 1

static int ns16550a_save(void *dev, void *wp)
{
    Ns16550a *s = dev;
    SnapWriter *w = wp;
    snap_put_u8(w, SNAP_VERSION);
    snap_put_bytes(w, s->rx, sizeof(s->rx));
    snap_put_u64(w, s->rx_head);
    snap_put_u64(w, s->rx_count);
    snap_put_u16(w, s->divisor);
    snap_put_u8(w, s->ier);
    snap_put_u8(w, s->fcr);
    snap_put_u8(w, s->lcr);
    snap_put_u8(w, s->mcr);
    snap_put_u8(w, s->msr);
    snap_put_u8(w, s->scr);
    snap_put_u8(w, s->lsr_err);
    snap_put_bool(w, s->thr_ipending);
    snap_put_bool(w, s->timeout_ipending);
    snap_put_bool(w, s->irq_level);
    snap_put_timer(w, &s->timeout_timer);
    return 0;
}

/* The FIFO indexes address rx[]; the count may not exceed what the loaded
 * FCR lets the FIFO hold (the chardev is told capacity - count). */
static int ns16550a_load(void *dev, void *rp)
{
    Ns16550a *s = dev;
    SnapReader *r = rp;
    if (!devsnap_version(r, SNAP_VERSION, "ns16550a"))
        return -1;
    Ns16550a t = *s;
    snap_get_bytes(r, t.rx, sizeof(t.rx));
    t.rx_head = (unsigned)snap_get_max(r, RX_FIFO_SIZE - 1, "ns16550a receive FIFO head");
    t.rx_count = (unsigned)snap_get_max(r, RX_FIFO_SIZE, "ns16550a receive FIFO count");
    t.divisor = snap_get_u16(r);
    t.ier = (uint8_t)devsnap_check_mask(r, snap_get_u8(r), 0x0f, "ns16550a IER");
    t.fcr = (uint8_t)devsnap_check_mask(r, snap_get_u8(r), FCR_ENABLE | FCR_DMA | FCR_TRIGGER,
                                        "ns16550a FCR");
    t.lcr = snap_get_u8(r);
    t.mcr = (uint8_t)devsnap_check_mask(r, snap_get_u8(r), MCR_MASK, "ns16550a MCR");
    t.msr = snap_get_u8(r);
    t.scr = snap_get_u8(r);
    t.lsr_err = (uint8_t)devsnap_check_mask(r, snap_get_u8(r), LSR_ERRS, "ns16550a LSR errors");
    t.thr_ipending = snap_get_bool(r);
    t.timeout_ipending = snap_get_bool(r);
    t.irq_level = snap_get_bool(r);
    devsnap_require(r, fifo_on(&t) || t.fcr == 0, "ns16550a FCR bits with the FIFO off");
    devsnap_require(r, t.rx_count <= rx_capacity(&t),
                    "ns16550a receive FIFO holds more than it can");
    if (snap_reader_ok(r))
        snap_get_timer(r, &s->m->clock, &s->timeout_timer);
    if (!snap_reader_ok(r))
        return -1;
    t.timeout_timer = s->timeout_timer;
    *s = t;
    return 0;
}

static const DeviceOps ns16550a_device_ops = {
    .name = "ns16550a",
    .reset = ns16550a_reset,
    .save = ns16550a_save,
    .load = ns16550a_load,
    .destroy = ns16550a_destroy,
};

const CharFrontend *ns16550a_frontend(Ns16550a *s)
{
    return &s->fe;
}

Ns16550a *ns16550a_create(Machine *m, uint64_t base, Chardev *chr, IrqLine irq)
{
    return ns16550a_create_in(m, &m->as, base, NS16550A_MMIO_SIZE, chr, irq);
}

Ns16550a *ns16550a_create_in(Machine *m, AddressSpace *as, uint64_t base,
                             uint64_t size, Chardev *chr, IrqLine irq)
{
    Ns16550a *s = g_new0(Ns16550a, 1);
    s->m = m;
    s->chr = chr;
    s->irq = irq;
    s->fe.can_receive = uart_can_receive;
    s->fe.receive = uart_receive;
    s->fe.opaque = s;
    timer_init(&s->timeout_timer, timeout_fired, s);
    s->timeout_timer.lazy = true;      /* state and interrupt line only */
    ns16550a_reset(s);

    int err = as_add_mmio(as, "ns16550a", base, size, &ns16550a_mem_ops, s);
    if (err) {
        machine_set_error(m, "ns16550a: cannot map at 0x%" G_GINT64_MODIFIER "x: %s",
                          base, g_strerror(-err));
        g_free(s);
        return NULL;
    }
    if (chr)
        chardev_set_frontend(chr, &s->fe);
    machine_add_device(m, &ns16550a_device_ops, s);
    return s;
}
