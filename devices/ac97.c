/* Intel 82801AA AC'97 audio controller and its codec (devices/ac97.h).
 *
 * The bus master registers are handled a byte at a time (drivers read
 * CIV/LVI/SR as one dword, BSD drivers SR and PICB separately), so every
 * access size at every offset means the same as on the chip.  Codec
 * registers are 16-bit; a byte access reads or merges half of one. */
#include "devices/ac97.h"

#include <string.h>

#include "checkpoint/snap.h"
#include "devices/devsnap.h"
#include "vmm/error.h"
#include "vmm/machine.h"

/* Channel registers (offsets in a channel's 16-byte box). */
#define CH_BDBAR 0x00
#define CH_CIV   0x04
#define CH_LVI   0x05
#define CH_SR    0x06
#define CH_PICB  0x08
#define CH_PIV   0x0a
#define CH_CR    0x0b

#define SR_DCH   0x01           /* DMA controller halted */
#define SR_CELV  0x02           /* current equals last valid */
#define SR_LVBCI 0x04           /* last valid buffer completion (W1C) */
#define SR_BCIS  0x08           /* buffer completion (W1C) */
#define SR_FIFOE 0x10           /* FIFO error (W1C) */
#define SR_W1C   (SR_LVBCI | SR_BCIS | SR_FIFOE)

#define CR_RPBM  0x01           /* run / pause bus master */
#define CR_RR    0x02           /* reset the channel's registers */
#define CR_LVBIE 0x04
#define CR_FEIE  0x08
#define CR_IOCE  0x10
#define CR_MASK  0x1d

#define BD_IOC   0x80000000u
#define BD_BUP   0x40000000u

/* Global registers. */
#define GLOB_CNT 0x2c
#define GLOB_STA 0x30
#define CAS      0x34

#define CNT_GIE    0x01
#define CNT_COLD   0x02         /* 0: the AC-link is in cold reset */
#define CNT_WARM   0x04         /* self-clearing */
#define CNT_SHUT   0x08         /* AC-link shut off */
#define CNT_MASK   0x0030003bu  /* + bits 20-21, 4/6-channel PCM (2 only here) */

#define STA_PIINT  0x00000020u
#define STA_POINT  0x00000040u
#define STA_MINT   0x00000080u
#define STA_PCR    0x00000100u  /* primary codec ready */

/* Codec (NAM) registers. */
#define NAM_RESET      0x00
#define NAM_POWERDOWN  0x26
#define NAM_EXT_ID     0x28
#define NAM_EXT_CTRL   0x2a
#define NAM_FRONT_RATE 0x2c
#define NAM_ADC_RATE   0x32
#define NAM_MIC_RATE   0x34
#define NAM_VENDOR1    0x7c
#define NAM_VENDOR2    0x7e

#define EXT_VRA 0x0001
#define EXT_VRM 0x0008

#define NBD 32
#define AC97_FIFO 2048          /* > one tick at 48 kHz, stereo */

typedef struct Ac97Chan {
    uint32_t bdbar;
    uint8_t civ, lvi, piv, cr;
    uint16_t sr, picb;
    /* The buffer being played or filled: next byte, its descriptor. */
    uint32_t addr;
    uint32_t bd_ctl;
    bool fetched;               /* a descriptor is loaded (since the reset) */
    /* Pacing: frames moved since started_ns at rate. */
    int64_t started_ns;
    uint64_t frames;
    unsigned rate;
    Timer timer;
    /* Input channels: samples taken from the port ahead of the guest, at
     * each tick for the tick to come, so that reads of the position
     * between ticks move samples without asking the port (and the log)
     * for a few bytes at every read. */
    uint8_t fifo[AC97_FIFO];
    uint32_t fifo_len;
} Ac97Chan;

struct Ac97 {
    Machine *m;
    PciDevice *pci;
    AudioPort port;
    PciBarMap nam_map, nabm_map;
    uint16_t codec[64];
    uint32_t glob_cnt;
    uint8_t cas;
    Ac97Chan ch[3];
};

/* ---- codec ---- */

static const struct { uint8_t reg; uint16_t val; } codec_defaults[] = {
    { 0x02, 0x8000 }, { 0x04, 0x8000 }, { 0x06, 0x8000 }, { 0x0c, 0x8008 },
    { 0x0e, 0x8008 }, { 0x10, 0x8808 }, { 0x12, 0x8808 }, { 0x14, 0x8808 },
    { 0x16, 0x8808 }, { 0x18, 0x8808 }, { 0x1c, 0x8000 }, { 0x1e, 0x8000 },
    { NAM_POWERDOWN, 0x000f },          /* ADC, DAC, analog mixer, Vref ready */
    { NAM_EXT_ID, EXT_VRA | EXT_VRM },
    { NAM_FRONT_RATE, 48000 }, { 0x2e, 48000 }, { 0x30, 48000 },
    { NAM_ADC_RATE, 48000 }, { NAM_MIC_RATE, 48000 },
    { NAM_VENDOR1, 0x8384 }, { NAM_VENDOR2, 0x7600 },   /* SigmaTel STAC9700 */
};

static void codec_reset(Ac97 *s)
{
    memset(s->codec, 0, sizeof(s->codec));
    for (size_t i = 0; i < G_N_ELEMENTS(codec_defaults); i++)
        s->codec[codec_defaults[i].reg / 2] = codec_defaults[i].val;
}

static unsigned chan_rate(const Ac97 *s, int n)
{
    static const uint8_t reg[3] = { NAM_ADC_RATE, NAM_FRONT_RATE, NAM_MIC_RATE };
    return s->codec[reg[n] / 2];
}

static void chan_retime(Ac97 *s, int n);

static void codec_write(Ac97 *s, unsigned reg, uint16_t v)
{
    uint16_t ext = s->codec[NAM_EXT_CTRL / 2];
    switch (reg) {
    case NAM_RESET:
        codec_reset(s);
        break;
    case NAM_POWERDOWN:
        /* The ready bits are status; the power-down requests are kept. */
        s->codec[reg / 2] = (uint16_t)((v & 0xff00) | 0x000f);
        break;
    case NAM_EXT_ID:
    case NAM_VENDOR1:
    case NAM_VENDOR2:
        break;
    case NAM_EXT_CTRL:
        s->codec[reg / 2] = v & (EXT_VRA | EXT_VRM);
        if (!(v & EXT_VRA)) {
            s->codec[NAM_FRONT_RATE / 2] = 48000;
            s->codec[NAM_ADC_RATE / 2] = 48000;
        }
        if (!(v & EXT_VRM))
            s->codec[NAM_MIC_RATE / 2] = 48000;
        break;
    case NAM_FRONT_RATE:
    case 0x2e:
    case 0x30:
    case NAM_ADC_RATE:
    case NAM_MIC_RATE:
        /* Variable rates only once enabled; 8 to 48 kHz. */
        if (!(ext & (reg == NAM_MIC_RATE ? EXT_VRM : EXT_VRA)))
            break;
        s->codec[reg / 2] = v < 8000 ? 8000 : v > 48000 ? 48000 : v;
        break;
    default:
        if (reg < 0x7c)
            s->codec[reg / 2] = v;
        break;
    }
    for (int n = 0; n < 3; n++)
        if (s->ch[n].rate != chan_rate(s, n))
            chan_retime(s, n);
}

static uint64_t nam_read(void *opaque, uint64_t off, unsigned size)
{
    Ac97 *s = opaque;
    s->cas = 0;
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        unsigned a = (unsigned)off + i;
        uint16_t r = a < 0x80 ? s->codec[a / 2] : 0;
        v |= (uint64_t)((r >> (8 * (a & 1))) & 0xff) << (8 * i);
    }
    return v;
}

static void nam_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    Ac97 *s = opaque;
    s->cas = 0;
    /* Each 16-bit register touched gets its new bytes merged in. */
    for (unsigned i = 0; i < size;) {
        unsigned a = (unsigned)off + i;
        if (a >= 0x80) {
            i++;
            continue;
        }
        uint16_t r = s->codec[a / 2];
        unsigned take = (a & 1) || size - i == 1 ? 1 : 2;
        if (take == 2)
            r = (uint16_t)(val >> (8 * i));
        else if (a & 1)
            r = (uint16_t)((r & 0x00ff) | ((val >> (8 * i)) & 0xff) << 8);
        else
            r = (uint16_t)((r & 0xff00) | ((val >> (8 * i)) & 0xff));
        codec_write(s, a & ~1u, r);
        i += take;
    }
}

static const MemOps nam_ops = {
    .name = "ac97-nam",
    .read = nam_read,
    .write = nam_write,
    .min_access = 1,
    .max_access = 4,
};

/* ---- interrupts ---- */

static bool chan_int(const Ac97Chan *c)
{
    return ((c->sr & SR_LVBCI) && (c->cr & CR_LVBIE)) || ((c->sr & SR_BCIS) && (c->cr & CR_IOCE)) ||
           ((c->sr & SR_FIFOE) && (c->cr & CR_FEIE));
}

static uint32_t glob_sta(const Ac97 *s)
{
    uint32_t v = 0;
    if ((s->glob_cnt & CNT_COLD) && !(s->glob_cnt & CNT_SHUT))
        v |= STA_PCR;
    if (chan_int(&s->ch[AC97_PCM_IN]))
        v |= STA_PIINT;
    if (chan_int(&s->ch[AC97_PCM_OUT]))
        v |= STA_POINT;
    if (chan_int(&s->ch[AC97_MIC_IN]))
        v |= STA_MINT;
    return v;
}

static void update_irq(Ac97 *s)
{
    pci_set_irq(s->pci, (glob_sta(s) & (STA_PIINT | STA_POINT | STA_MINT)) != 0);
}

/* ---- DMA ---- */

/* Copies between guest RAM and buf; false when some of it was not RAM (or
 * bus mastering is off): those bytes read as zeros / are dropped. */
static bool dma(Ac97 *s, uint32_t pa, uint8_t *buf, size_t n, bool to_memory)
{
    AddressSpace *as = &s->m->as;
    bool master = (pci_get_word(s->pci, PCI_COMMAND) & PCI_COMMAND_MASTER) != 0;
    bool ok = master;
    while (n) {
        size_t piece = 4096 - (pa & 4095);
        if (piece > n)
            piece = n;
        MemRegion *r = master ? as_find(as, pa) : NULL;
        bool ram = r && r->host && pa - r->base + piece <= r->size;
        if (!to_memory) {
            if (ram)
                memcpy(buf, r->host + (pa - r->base), piece);
            else
                memset(buf, 0, piece);
        } else if (ram && !r->readonly) {
            as_copy_to(as, pa, buf, piece);
        } else {
            ram = false;
        }
        ok &= ram;
        buf += piece;
        pa += (uint32_t)piece;        /* a 32-bit bus address wraps */
        n -= piece;
    }
    return ok;
}

/* ---- channels ---- */

static unsigned chan_channels(int n)
{
    return n == AC97_MIC_IN ? 1 : 2;
}

static bool chan_running(const Ac97Chan *c)
{
    return (c->cr & CR_RPBM) && !(c->sr & SR_DCH);
}

static void fetch(Ac97 *s, Ac97Chan *c)
{
    uint8_t bd[8];
    if (!dma(s, c->bdbar + 8u * c->civ, bd, 8, false))
        c->sr |= SR_FIFOE;
    c->addr = (bd[0] | (uint32_t)bd[1] << 8 | (uint32_t)bd[2] << 16 | (uint32_t)bd[3] << 24) &
              ~1u;
    c->bd_ctl = bd[4] | (uint32_t)bd[5] << 8 | (uint32_t)bd[6] << 16 | (uint32_t)bd[7] << 24;
    c->picb = (uint16_t)c->bd_ctl;
    c->piv = (c->civ + 1) % NBD;
    c->fetched = true;
}

static void chan_arm(Ac97 *s, Ac97Chan *c)
{
    int64_t now = machine_ns(s->m);
    timer_mod(&s->m->clock, &c->timer, now + AC97_TICK_NS);
}

static void chan_prefill(Ac97 *s, int n);

/* (Re)starts pacing from now: what was due before is done. */
static void chan_start_clock(Ac97 *s, Ac97Chan *c, int n)
{
    c->started_ns = machine_ns(s->m);
    c->frames = 0;
    c->rate = chan_rate(s, n);
    if (chan_running(c)) {
        chan_arm(s, c);
        chan_prefill(s, n);
    }
}

static void chan_advance(Ac97 *s, int n);

/* A new rate: what was due at the old one moves first. */
static void chan_retime(Ac97 *s, int n)
{
    chan_advance(s, n);
    chan_start_clock(s, &s->ch[n], n);
}

/* The current buffer is done: interrupt flags, then the next descriptor
 * or a halt at the last valid one. */
static void complete(Ac97 *s, Ac97Chan *c)
{
    if (c->bd_ctl & BD_IOC)
        c->sr |= SR_BCIS;
    if (c->civ == c->lvi) {
        c->sr |= SR_LVBCI | SR_CELV | SR_DCH;
        timer_del(&s->m->clock, &c->timer);
        return;
    }
    c->civ = (c->civ + 1) % NBD;
    fetch(s, c);
}

/* Moves up to nframes frames; returns when they are moved or the
 * channel halted. */
static void chan_move(Ac97 *s, int n, uint64_t nframes)
{
    Ac97Chan *c = &s->ch[n];
    unsigned chans = chan_channels(n);
    uint8_t buf[4096];
    uint64_t samples = nframes * chans;
    /* Zero-length buffers complete without moving anything: at most NBD
     * of them in a row before CIV reaches LVI and the channel halts. */
    unsigned empty = 0;
    while (samples && chan_running(c) && empty <= NBD) {
        if (!c->picb) {
            empty++;
            complete(s, c);
            continue;
        }
        empty = 0;
        size_t take = c->picb < samples ? c->picb : (size_t)samples;
        if (take > sizeof(buf) / 2)
            take = sizeof(buf) / 2;
        size_t bytes = take * 2;
        if (n == AC97_PCM_OUT) {
            if (!dma(s, c->addr, buf, bytes, false))
                c->sr |= SR_FIFOE;
            if (s->port.out)
                s->port.out(s->port.opaque, buf, bytes, chans, c->rate);
        } else {
            size_t have = c->fifo_len < bytes ? c->fifo_len : bytes;
            memcpy(buf, c->fifo, have);
            memmove(c->fifo, c->fifo + have, c->fifo_len - have);
            c->fifo_len -= (uint32_t)have;
            if (have < bytes && s->port.in)
                s->port.in(s->port.opaque, (unsigned)n, buf + have, bytes - have, chans,
                           c->rate);
            else if (have < bytes)
                memset(buf + have, 0, bytes - have);
            if (!dma(s, c->addr, buf, bytes, true))
                c->sr |= SR_FIFOE;
        }
        c->addr += (uint32_t)bytes;
        c->picb = (uint16_t)(c->picb - take);
        samples -= take;
        if (!c->picb)
            complete(s, c);
    }
    update_irq(s);
}

/* Moves the frames due by now: from the timer, and before the guest
 * reads where a channel is, so positions follow virtual time to the
 * instruction rather than to the tick. */
static void chan_advance(Ac97 *s, int n)
{
    Ac97Chan *c = &s->ch[n];
    if (!chan_running(c))
        return;
    int64_t now = machine_ns(s->m);
    uint64_t due = (uint64_t)clock_ticks_at(now - c->started_ns, c->rate);
    if (due > c->frames) {
        chan_move(s, n, due - c->frames);
        c->frames = due;
    }
}

static void chan_tick(Ac97 *s, int n)
{
    Ac97Chan *c = &s->ch[n];
    chan_advance(s, n);
    if (!chan_running(c))
        return;
    chan_arm(s, c);
    chan_prefill(s, n);
}

/* Input: what the guest may take before the next tick, from the port. */
static void chan_prefill(Ac97 *s, int n)
{
    Ac97Chan *c = &s->ch[n];
    if (n == AC97_PCM_OUT || !s->port.in || !c->timer.armed)
        return;
    uint64_t next = (uint64_t)clock_ticks_at(c->timer.deadline - c->started_ns, c->rate);
    uint64_t want = (next - c->frames) * chan_channels(n) * 2;
    if (want > AC97_FIFO)
        want = AC97_FIFO;
    if (want > c->fifo_len) {
        s->port.in(s->port.opaque, (unsigned)n, c->fifo + c->fifo_len, want - c->fifo_len,
                   chan_channels(n), c->rate);
        c->fifo_len = (uint32_t)want;
    }
}

static void tick_pi(void *opaque) { chan_tick(opaque, AC97_PCM_IN); }
static void tick_po(void *opaque) { chan_tick(opaque, AC97_PCM_OUT); }
static void tick_mc(void *opaque) { chan_tick(opaque, AC97_MIC_IN); }

static void chan_reset(Ac97 *s, Ac97Chan *c)
{
    timer_del(&s->m->clock, &c->timer);
    c->bdbar = 0;
    c->civ = c->lvi = c->piv = 0;
    c->cr = 0;
    c->sr = SR_DCH;
    c->picb = 0;
    c->addr = 0;
    c->bd_ctl = 0;
    c->fetched = false;
    c->frames = 0;
    c->fifo_len = 0;
}

static void chan_write_cr(Ac97 *s, int n, uint8_t v)
{
    Ac97Chan *c = &s->ch[n];
    chan_advance(s, n);
    if (v & CR_RR) {
        /* Only while halted, as the chip requires; ignored otherwise. */
        if (c->sr & SR_DCH)
            chan_reset(s, c);
        return;
    }
    uint8_t old = c->cr;
    c->cr = v & CR_MASK;
    if ((v & CR_RPBM) && !(old & CR_RPBM)) {
        if (!c->fetched)
            fetch(s, c);
        /* Halted at the last valid buffer: stays halted until LVI moves. */
        if (!(c->sr & SR_CELV))
            c->sr &= (uint16_t)~SR_DCH;
        chan_start_clock(s, c, n);
    } else if (!(v & CR_RPBM) && (old & CR_RPBM)) {
        c->sr |= SR_DCH;
        timer_del(&s->m->clock, &c->timer);
    }
}

static void chan_write_lvi(Ac97 *s, int n, uint8_t v)
{
    Ac97Chan *c = &s->ch[n];
    chan_advance(s, n);
    c->lvi = v % NBD;
    /* Halted after the last valid buffer and given more: go on with the
     * next one. */
    if ((c->sr & SR_CELV) && c->lvi != c->civ) {
        c->sr &= (uint16_t)~SR_CELV;
        if (c->cr & CR_RPBM) {
            c->sr &= (uint16_t)~SR_DCH;
            c->civ = (c->civ + 1) % NBD;
            fetch(s, c);
            chan_start_clock(s, c, n);
        }
    }
}

static uint8_t nabm_read_byte(Ac97 *s, unsigned a)
{
    if (a < 0x30 && a < GLOB_CNT) {
        const Ac97Chan *c = &s->ch[a / 16];
        unsigned r = a % 16;
        switch (r) {
        case 0: case 1: case 2: case 3:
            return (uint8_t)(c->bdbar >> (8 * r));
        case CH_CIV: return c->civ;
        case CH_LVI: return c->lvi;
        case CH_SR: return (uint8_t)c->sr;
        case CH_SR + 1: return (uint8_t)(c->sr >> 8);
        case CH_PICB: return (uint8_t)c->picb;
        case CH_PICB + 1: return (uint8_t)(c->picb >> 8);
        case CH_PIV: return c->piv;
        case CH_CR: return c->cr;
        default: return 0;
        }
    }
    if (a >= GLOB_CNT && a < GLOB_CNT + 4)
        return (uint8_t)(s->glob_cnt >> (8 * (a - GLOB_CNT)));
    if (a >= GLOB_STA && a < GLOB_STA + 4)
        return (uint8_t)(glob_sta(s) >> (8 * (a - GLOB_STA)));
    if (a == CAS) {
        uint8_t v = s->cas;
        s->cas = 1;
        return v;
    }
    return 0;
}

static uint64_t nabm_read(void *opaque, uint64_t off, unsigned size)
{
    Ac97 *s = opaque;
    uint64_t v = 0;
    /* CIV, SR, PICB, PIV of a channel: bring it up to now first. */
    for (unsigned a = (unsigned)off; a < off + size; a++) {
        unsigned r = a % 16;
        if (a < GLOB_CNT && r >= CH_CIV && r != CH_LVI && r != CH_CR) {
            chan_advance(s, (int)(a / 16));
            a |= 15;            /* once per channel */
        }
    }
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)nabm_read_byte(s, (unsigned)off + i) << (8 * i);
    return v;
}

static void glob_cnt_write(Ac97 *s, uint32_t v)
{
    bool was_ready = (s->glob_cnt & CNT_COLD) != 0;
    s->glob_cnt = v & CNT_MASK & ~(uint32_t)CNT_WARM;
    if (!(s->glob_cnt & CNT_COLD) && was_ready)
        codec_reset(s);
}

static void nabm_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    Ac97 *s = opaque;
    for (unsigned i = 0; i < size; i++) {
        unsigned a = (unsigned)off + i;
        uint8_t b = (uint8_t)(val >> (8 * i));
        if (a < GLOB_CNT) {
            int n = (int)(a / 16);
            Ac97Chan *c = &s->ch[n];
            unsigned r = a % 16;
            switch (r) {
            case 0: case 1: case 2: case 3: {
                uint32_t mask = 0xffu << (8 * r);
                c->bdbar = ((c->bdbar & ~mask) | (uint32_t)b << (8 * r)) & ~7u;
                break;
            }
            case CH_LVI: chan_write_lvi(s, n, b); break;
            case CH_SR: c->sr &= (uint16_t)~(b & SR_W1C); break;
            case CH_CR: chan_write_cr(s, n, b); break;
            default: break;                    /* CIV, PICB, PIV: read-only */
            }
        } else if (a >= GLOB_CNT && a < GLOB_CNT + 4) {
            uint32_t mask = 0xffu << (8 * (a - GLOB_CNT));
            glob_cnt_write(s, (s->glob_cnt & ~mask) | (uint32_t)b << (8 * (a - GLOB_CNT)));
        } else if (a == CAS) {
            s->cas = b & 1;
        }
        /* GLOB_STA: its write-one-to-clear bits (resume, RCS) never set. */
    }
    update_irq(s);
}

static const MemOps nabm_ops = {
    .name = "ac97-nabm",
    .read = nabm_read,
    .write = nabm_write,
    .min_access = 1,
    .max_access = 4,
};

/* ---- PCI function ---- */

static void bars_changed(PciDevice *d)
{
    Ac97 *s = d->opaque;
    if (!s->pci)                 /* NULL while pci_add_device runs */
        return;
    pci_bar_map_update(d, &s->nam_map);
    pci_bar_map_update(d, &s->nabm_map);
}

static const PciDeviceInfo ac97_pci_info = {
    .name = "AC97",
    .vendor_id = AC97_VENDOR,
    .device_id = AC97_DEVICE,
    .class_code = 0x040100,      /* multimedia audio controller */
    .revision = 0x01,
    .subsystem_vendor_id = AC97_VENDOR,
    .subsystem_id = 0x0000,
    .interrupt_pin = 1,
    .bars_changed = bars_changed,
};

static void ac97_reset(void *dev)
{
    Ac97 *s = dev;
    for (int n = 0; n < 3; n++)
        chan_reset(s, &s->ch[n]);
    s->glob_cnt = 0;
    s->cas = 0;
    codec_reset(s);
    for (int n = 0; n < 3; n++)
        s->ch[n].rate = chan_rate(s, n);
}

/* ---- snapshots ---- */

#define SNAP_VERSION 2

static int ac97_save(void *dev, void *wp)
{
    Ac97 *s = dev;
    SnapWriter *w = wp;
    snap_put_u8(w, SNAP_VERSION);
    for (int i = 0; i < 64; i++)
        snap_put_u16(w, s->codec[i]);
    snap_put_u32(w, s->glob_cnt);
    snap_put_u64(w, s->cas);
    for (int n = 0; n < 3; n++) {
        const Ac97Chan *c = &s->ch[n];
        snap_put_u32(w, c->bdbar);
        snap_put_u64(w, c->civ);
        snap_put_u64(w, c->lvi);
        snap_put_u64(w, c->piv);
        snap_put_u8(w, c->cr);
        snap_put_u16(w, c->sr);
        snap_put_u16(w, c->picb);
        snap_put_u32(w, c->addr);
        snap_put_u32(w, c->bd_ctl);
        snap_put_bool(w, c->fetched);
        snap_put_i64(w, c->started_ns);
        snap_put_u64(w, c->frames);
        snap_put_u64(w, c->rate);
        snap_put_u64(w, c->fifo_len);
        snap_put_bytes(w, c->fifo, c->fifo_len);
    }
    for (int n = 0; n < 3; n++)
        snap_put_timer(w, &s->ch[n].timer);
    return 0;
}

static int ac97_load(void *dev, void *rp)
{
    Ac97 *s = dev;
    SnapReader *r = rp;
    if (!devsnap_version(r, SNAP_VERSION, "AC97"))
        return -1;
    Ac97 *c = g_new(Ac97, 1);
    *c = *s;
    for (int i = 0; i < 64; i++)
        c->codec[i] = snap_get_u16(r);
    c->glob_cnt = (uint32_t)devsnap_check_mask(r, snap_get_u32(r), CNT_MASK & ~CNT_WARM,
                                               "AC97 GLOB_CNT");
    c->cas = (uint8_t)snap_get_max(r, 1, "AC97 CAS");
    for (int n = 0; n < 3; n++) {
        Ac97Chan *h = &c->ch[n];
        h->bdbar = (uint32_t)devsnap_check_mask(r, snap_get_u32(r), ~7u, "AC97 BDBAR");
        h->civ = (uint8_t)snap_get_max(r, NBD - 1, "AC97 CIV");
        h->lvi = (uint8_t)snap_get_max(r, NBD - 1, "AC97 LVI");
        h->piv = (uint8_t)snap_get_max(r, NBD - 1, "AC97 PIV");
        h->cr = (uint8_t)devsnap_check_mask(r, snap_get_u8(r), CR_MASK, "AC97 CR");
        h->sr = (uint16_t)devsnap_check_mask(r, snap_get_u16(r), 0x1f, "AC97 SR");
        h->picb = snap_get_u16(r);
        h->addr = snap_get_u32(r);
        h->bd_ctl = snap_get_u32(r);
        h->fetched = snap_get_bool(r);
        h->started_ns = snap_get_i64(r);
        h->frames = snap_get_u64(r);
        h->rate = (unsigned)devsnap_get_range(r, 8000, 48000, "AC97 channel rate");
        h->fifo_len = (uint32_t)snap_get_max(r, AC97_FIFO, "AC97 input FIFO length");
        if (snap_reader_ok(r))
            snap_get_bytes(r, h->fifo, h->fifo_len);
        devsnap_require(r, h->started_ns >= 0 && h->started_ns <= machine_ns(s->m),
                        "AC97 channel started outside [0, now]");
    }
    for (int n = 0; n < 3 && snap_reader_ok(r); n++)
        snap_get_timer(r, &s->m->clock, &s->ch[n].timer);
    bool ok = snap_reader_ok(r);
    if (ok) {
        for (int n = 0; n < 3; n++)
            c->ch[n].timer = s->ch[n].timer;
        *s = *c;
        bars_changed(s->pci);
        update_irq(s);
    }
    g_free(c);
    return ok ? 0 : -1;
}

static void ac97_destroy(void *dev)
{
    Ac97 *s = dev;
    for (int n = 0; n < 3; n++)
        timer_del(&s->m->clock, &s->ch[n].timer);
    g_free(s);
}

static const DeviceOps ac97_device_ops = {
    .name = "AC97",
    .reset = ac97_reset,
    .save = ac97_save,
    .load = ac97_load,
    .destroy = ac97_destroy,
};

Ac97 *ac97_create(Machine *m, PciBus *bus, int devfn, AddressSpace *io, const AudioPort *port,
                  GError **err)
{
    Ac97 *s = g_new0(Ac97, 1);
    s->m = m;
    if (port)
        s->port = *port;
    timer_init(&s->ch[AC97_PCM_IN].timer, tick_pi, s);
    timer_init(&s->ch[AC97_PCM_OUT].timer, tick_po, s);
    timer_init(&s->ch[AC97_MIC_IN].timer, tick_mc, s);
    pci_bar_map_init(&s->nam_map, 0, io, "ac97-nam", AC97_NAM_SIZE, &nam_ops, s);
    pci_bar_map_init(&s->nabm_map, 1, io, "ac97-nabm", AC97_NABM_SIZE, &nabm_ops, s);
    s->pci = pci_add_device(bus, devfn, &ac97_pci_info, s);
    if (!s->pci) {
        tn_error(err, "AC97: PCI slot %02x.%x is taken or out of range", PCI_SLOT(devfn),
                 PCI_FUNC(devfn));
        g_free(s);
        return NULL;
    }
    pci_register_bar(s->pci, 0, AC97_NAM_SIZE, PCI_BAR_IO);
    pci_register_bar(s->pci, 1, AC97_NABM_SIZE, PCI_BAR_IO);
    ac97_reset(s);
    machine_add_device(m, &ac97_device_ops, s);
    return s;
}

PciDevice *ac97_pci(Ac97 *s)
{
    return s->pci;
}

void ac97_firmware_setup(Ac97 *s, uint16_t nam, uint16_t nabm, uint8_t irq_line)
{
    pci_firmware_setup(s->pci, (const uint64_t[PCI_NUM_BARS]){ nam, nabm }, irq_line);
}
