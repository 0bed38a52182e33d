/* RTL8139 (see rtl8139.h), from Realtek's RTL8139C(L) datasheet, with
 * QEMU's rtl8139 where the datasheet leaves a choice a driver can see.
 *
 * Receive: frames the filter accepts (RCR: AB broadcast, AM multicast
 * through the MAR hash of the CRC's top 6 bits, APM our IDR, AAP all) go
 * into the ring at RBSTART as a 4-byte header (status | length incl. CRC
 * << 16), the frame padded to 60 bytes, its CRC-32, and the write pointer
 * (CBR) is rounded up to a dword.  With RCR.WRAP clear (or a 64 KiB ring)
 * a frame reaching the end continues at the start; with WRAP set it runs
 * on past the end, where the driver keeps spare room.  CAPR is the read
 * pointer minus 16 (the driver's convention).  A frame that does not fit
 * before the read pointer is dropped with ISR.RxOverflow and MPC counts
 * it; the netdev is asked first (rtl8139_can_receive), so frames wait in
 * its queue while the ring is full instead of being lost.  The receive
 * pointers reset with the chip, when the receiver is disabled (the driver's
 * receive-reset sequence relies on that) and when RCR changes the ring
 * length.
 *
 * Transmit: writing TSDn with OWN clear sends TSADn's SIZE bytes; the
 * descriptors go round in order from the current one, each then reads back
 * OWN | TOK and ISR.TOK is raised.  TCR's loopback mode feeds the frame to
 * the receiver instead.
 *
 * Every DMA is bounded: 32-bit bus addresses, RAM only (ROM is not
 * written, reads of anything else are zeros), nothing while the command
 * register's bus master bit is clear.  Sizes come from 13- and 16-bit
 * fields, so no transfer exceeds 64 KiB. */
#include "devices/rtl8139.h"

#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include "devices/devsnap.h"
#include "vmm/error.h"
#include "vmm/machine.h"

enum {
    IDR0 = 0x00, MAR0 = 0x08, TSD0 = 0x10, TSAD0 = 0x20, RBSTART = 0x30, ERBCR = 0x34,
    ERSR = 0x36, CR = 0x37, CAPR = 0x38, CBR = 0x3a, IMR = 0x3c, ISR = 0x3e, TCR = 0x40,
    RCR = 0x44, TCTR = 0x48, MPC = 0x4c, CR9346 = 0x50, CONFIG0 = 0x51, CONFIG1 = 0x52,
    TIMERINT = 0x54, MSR = 0x58, CONFIG3 = 0x59, CONFIG4 = 0x5a, HLTCLK = 0x5b,
    MULINT = 0x5c, RERID = 0x5e, TSAD = 0x60, BMCR = 0x62, BMSR = 0x64, ANAR = 0x66,
    ANLPAR = 0x68, ANER = 0x6a, CSCR = 0x74, PARA78 = 0x78, PARA7C = 0x7c, CONFIG5 = 0xd8,
};

#define CR_BUFE  0x01
#define CR_TE    0x04
#define CR_RE    0x08
#define CR_RST   0x10

#define INT_ROK      0x0001
#define INT_TOK      0x0004
#define INT_RXOVW    0x0010
#define INT_TIMEOUT  0x4000
#define INT_RESERVED 0x1e00

#define TSD_SIZE 0x1fff
#define TSD_OWN  0x2000
#define TSD_TUN  0x4000
#define TSD_TOK  0x8000
#define TSD_TABT 0x40000000u

#define TCR_LBK      0x00060000u
#define TCR_WMASK    0x038f07f0u
#define TCR_VERSION  0x74000000u     /* RTL8139C: HW_REVID 1,1,1,0,1,0,0 */

#define RCR_AAP  0x01
#define RCR_APM  0x02
#define RCR_AM   0x04
#define RCR_AB   0x08
#define RCR_WRAP 0x80
#define RCR_WMASK 0x0f03ffbfu

#define RX_ROK  0x0001
#define RX_BAR  0x2000
#define RX_PAM  0x4000
#define RX_MAR  0x8000

#define EEM_SHIFT   6
#define EEM_NORMAL  0
#define EEM_AUTOLOAD 1
#define EEM_PROGRAM 2
#define EEM_CONFIG  3
#define EE_CS  0x08
#define EE_SK  0x04
#define EE_DI  0x02
#define EE_DO  0x01

#define BMCR_VALUE  0x1000          /* autonegotiation enabled */
#define BMSR_VALUE  0x782d          /* 10/100 capable, AN complete, link up */
#define ANAR_RESET  0x05e1
#define MSR_VALUE   0xd0            /* flow control, aux power; LINKB clear */
#define CSCR_VALUE  0x0340

#define MIN_FRAME   60
#define PCI_TCTR_HZ 33000000u
#define QEMU_SUBVENDOR 0x1af4
#define QEMU_SUBDEVICE 0x1100

/* The 93C46 behind 9346CR: 64 words; commands are a start bit then 8 bits
 * (2 opcode, 6 address) clocked in on SK's rising edge while CS is high. */
typedef enum EeMode {
    EE_IDLE, EE_START, EE_COMMAND, EE_READ, EE_WRITE, EE_WRITE_ALL, EE_NMODES,
} EeMode;

typedef struct Eeprom {
    uint16_t words[64];
    uint8_t mode, tick, addr;
    uint16_t shift;
    bool cs, sk, dout, write_enabled;
} Eeprom;

struct Rtl8139 {
    Machine *m;
    AddressSpace *io;
    PciDevice *pci;
    NetClient *nc;
    uint8_t conf_mac[6];
    int io_base;                    /* -1: unmapped */
    uint64_t mmio_base;             /* PCI_BAR_UNMAPPED */
    bool map_warned;
    Timer timer;                    /* TimerInt */

    uint8_t idr[6], mar[8];
    uint32_t tsd[4], tsad[4];
    uint32_t rbstart;
    uint8_t cr;                     /* RE | TE */
    uint32_t rx_read, rx_write;     /* ring offsets: CAPR + 16, CBR */
    uint16_t imr, isr;
    uint32_t tcr, rcr, mpc;
    int64_t tctr_base;              /* virtual ns when TCTR was 0 */
    uint32_t timer_int;
    uint8_t cfg9346, config0, config1, config3, config4, config5;
    bool clock_on;
    uint16_t mulint, anar, bmcr_pending;
    uint8_t cur_tx;
    Eeprom ee;
    uint8_t txbuf[TSD_SIZE + 1];
};

/* ---- DMA ---- */

static bool master(const Rtl8139 *s)
{
    return (pci_get_word(s->pci, PCI_COMMAND) & PCI_COMMAND_MASTER) != 0;
}

static void dma(Rtl8139 *s, uint32_t pa, uint8_t *buf, size_t n, bool to_memory)
{
    AddressSpace *as = &s->m->as;
    bool on = master(s);
    while (n) {
        size_t piece = 4096 - (pa & 4095);
        if (piece > n)
            piece = n;
        MemRegion *r = on ? as_find(as, pa) : NULL;
        bool ram = r && r->host && pa - r->base + piece <= r->size;
        if (!to_memory) {
            if (ram)
                memcpy(buf, r->host + (pa - r->base), piece);
            else
                memset(buf, 0, piece);
        } else if (ram && !r->readonly) {
            as_copy_to(as, pa, buf, piece);
        }
        buf += piece;
        pa += (uint32_t)piece;        /* a 32-bit bus address wraps */
        n -= piece;
    }
}

/* ---- interrupts, timer ---- */

static void update_irq(Rtl8139 *s)
{
    if (s->pci)
        pci_set_irq(s->pci, (s->isr & s->imr) != 0);
}

static int64_t now_ns(const Rtl8139 *s)
{
    return vclock_ns(&s->m->clock);
}

static uint64_t tctr_ticks(const Rtl8139 *s)
{
    return (uint64_t)clock_ticks_at(now_ns(s) - s->tctr_base, PCI_TCTR_HZ);
}

/* PCSTimeout when TCTR reaches TimerInt (it counts through 2^32). */
static void timer_arm(Rtl8139 *s)
{
    if (!s->timer_int) {
        timer_del(&s->m->clock, &s->timer);
        return;
    }
    uint64_t t = tctr_ticks(s);
    uint64_t next = (t & ~0xffffffffull) | s->timer_int;
    if (next <= t)
        next += 1ull << 32;
    timer_mod(&s->m->clock, &s->timer, s->tctr_base + clock_tick_ns((int64_t)next, PCI_TCTR_HZ));
}

static void timer_cb(void *opaque)
{
    Rtl8139 *s = opaque;
    if (s->clock_on) {
        s->isr |= INT_TIMEOUT;
        update_irq(s);
    }
    timer_arm(s);
}

/* ---- EEPROM ---- */

static void ee_command(Eeprom *e)
{
    unsigned op = e->shift >> 6 & 3, addr = e->shift & 63;
    e->tick = 0;
    e->mode = EE_IDLE;
    switch (op) {
    case 2:                                     /* READ */
        e->addr = (uint8_t)addr;
        e->shift = e->words[addr];
        e->dout = false;
        e->mode = EE_READ;
        break;
    case 1:                                     /* WRITE */
        e->addr = (uint8_t)addr;
        e->shift = 0;
        e->mode = EE_WRITE;
        break;
    case 3:                                     /* ERASE */
        if (e->write_enabled)
            e->words[addr] = 0xffff;
        break;
    default:
        switch (addr >> 4) {
        case 3: e->write_enabled = true; break;    /* EWEN */
        case 0: e->write_enabled = false; break;   /* EWDS */
        case 1: e->shift = 0; e->mode = EE_WRITE_ALL; break;
        case 2:                                    /* ERAL */
            if (e->write_enabled)
                memset(e->words, 0xff, sizeof(e->words));
            break;
        }
    }
}

static void ee_clock(Eeprom *e, bool di)
{
    switch (e->mode) {
    case EE_START:
        if (di) {
            e->mode = EE_COMMAND;
            e->tick = 0;
            e->shift = 0;
        }
        break;
    case EE_COMMAND:
        e->shift = (uint16_t)(e->shift << 1 | di);
        if (++e->tick == 8)
            ee_command(e);
        break;
    case EE_READ:
        e->dout = e->shift >> 15 & 1;
        e->shift = (uint16_t)(e->shift << 1);
        if (++e->tick == 16) {
            /* Drivers read word after word without dropping CS (QEMU
             * found the BSD ones do): wait for the next start bit. */
            e->mode = EE_START;
            e->tick = 0;
        }
        break;
    case EE_WRITE:
    case EE_WRITE_ALL:
        e->shift = (uint16_t)(e->shift << 1 | di);
        if (++e->tick == 16) {
            if (e->write_enabled && e->mode == EE_WRITE)
                e->words[e->addr] = e->shift;
            else if (e->write_enabled)
                for (int i = 0; i < 64; i++)
                    e->words[i] = e->shift;
            e->mode = EE_IDLE;
            e->tick = 0;
        }
        break;
    default:
        break;
    }
}

static void ee_pins(Eeprom *e, bool cs, bool sk, bool di)
{
    bool rise = sk && !e->sk;
    if (cs && !e->cs) {
        e->mode = EE_START;
        e->tick = 0;
        e->shift = 0;
    }
    e->cs = cs;
    e->sk = sk;
    if (cs && rise)
        ee_clock(e, di);
}

/* ---- receive ---- */

static uint32_t ring_size(const Rtl8139 *s)
{
    return 8192u << (s->rcr >> 11 & 3);
}

static bool ring_wraps(const Rtl8139 *s)
{
    return ring_size(s) == 65536 || !(s->rcr & RCR_WRAP);
}

static uint32_t ring_room(const Rtl8139 *s)
{
    uint32_t sz = ring_size(s);
    return (sz + s->rx_read - s->rx_write) & (sz - 1);   /* 0: empty */
}

static void ring_write(Rtl8139 *s, const uint8_t *p, uint32_t n)
{
    uint32_t sz = ring_size(s);
    bool wrap = ring_wraps(s);
    while (n) {
        uint32_t chunk = n;
        if (wrap && s->rx_write + chunk > sz)
            chunk = sz - s->rx_write;
        dma(s, s->rbstart + s->rx_write, (uint8_t *)p, chunk, true);
        s->rx_write += chunk;
        if (wrap && s->rx_write == sz)
            s->rx_write = 0;
        p += chunk;
        n -= chunk;
    }
}

/* The multicast hash: the top 6 bits of the big-endian Ethernet CRC of
 * the destination address (what drivers compute with ether_crc). */
static unsigned mcast_bit(const uint8_t *addr)
{
    uint32_t crc = 0xffffffffu;
    for (int i = 0; i < 6; i++) {
        uint8_t b = addr[i];
        for (int j = 0; j < 8; j++, b >>= 1) {
            uint32_t carry = (crc >> 31) ^ (b & 1);
            crc <<= 1;
            if (carry)
                crc ^= 0x04c11db7u;
        }
    }
    return crc >> 26;
}

/* 0: dropped; else RX_ROK with the address kind (BAR, MAR, PAM), which
 * the status shows under AAP too. */
static uint16_t rx_filter(const Rtl8139 *s, const uint8_t *buf, size_t len)
{
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    uint16_t type = 0;
    bool accept = false;
    if (len >= 6 && !memcmp(buf, bcast, 6)) {
        type = RX_BAR;
        accept = s->rcr & RCR_AB;
    } else if (len >= 6 && (buf[0] & 1)) {
        unsigned bit = mcast_bit(buf);
        if (s->mar[bit >> 3] >> (bit & 7) & 1)
            type = RX_MAR;
        accept = type && (s->rcr & RCR_AM);
    } else if (len >= 6 && !memcmp(buf, s->idr, 6)) {
        type = RX_PAM;
        accept = s->rcr & RCR_APM;
    }
    if (s->rcr & RCR_AAP)
        accept = true;
    return accept ? (uint16_t)(RX_ROK | type) : 0;
}

static bool receiving(const Rtl8139 *s)
{
    return s->clock_on && (s->cr & CR_RE);
}

bool rtl8139_can_receive(void *opaque, size_t len)
{
    Rtl8139 *s = opaque;
    if (!receiving(s))
        return true;                /* dropped */
    uint32_t need = (uint32_t)(len < MIN_FRAME ? MIN_FRAME : len) + 8;
    uint32_t room = ring_room(s);
    /* A frame that can never fit is taken and dropped, not kept waiting. */
    return need >= ring_size(s) || room == 0 || need < room;
}

static void do_receive(Rtl8139 *s, const uint8_t *buf, size_t len)
{
    if (!receiving(s))
        return;
    uint16_t type = rx_filter(s, buf, len);
    if (!type)
        return;
    uint8_t pad[MIN_FRAME];
    if (len < MIN_FRAME) {
        memset(pad, 0, sizeof(pad));
        memcpy(pad, buf, len);
        buf = pad;
        len = MIN_FRAME;
    }
    uint32_t room = ring_room(s);
    if (len + 8 >= ring_size(s) || len + 4 > 0xffff || (room != 0 && len + 8 >= room)) {
        s->isr |= INT_RXOVW;
        s->mpc = (s->mpc + 1) & 0xffffff;
        update_irq(s);
        return;
    }
    uint32_t hdr = (uint32_t)type | (uint32_t)(len + 4) << 16;
    uint8_t h[4] = { (uint8_t)hdr, (uint8_t)(hdr >> 8), (uint8_t)(hdr >> 16),
                     (uint8_t)(hdr >> 24) };
    uint32_t crc = (uint32_t)crc32(0, buf, (uInt)len);
    uint8_t c[4] = { (uint8_t)crc, (uint8_t)(crc >> 8), (uint8_t)(crc >> 16),
                     (uint8_t)(crc >> 24) };
    ring_write(s, h, 4);
    ring_write(s, buf, (uint32_t)len);
    ring_write(s, c, 4);
    s->rx_write = ((s->rx_write + 3) & ~3u) & (ring_size(s) - 1);
    s->isr |= INT_ROK;
    update_irq(s);
}

void rtl8139_receive(void *opaque, const uint8_t *buf, size_t len)
{
    do_receive(opaque, buf, len);
}

/* ---- transmit ---- */

static void transmit(Rtl8139 *s)
{
    for (int k = 0; k < 4 && (s->cr & CR_TE) && s->clock_on; k++) {
        unsigned d = s->cur_tx;
        if (s->tsd[d] & TSD_OWN)
            return;
        uint32_t size = s->tsd[d] & TSD_SIZE;
        dma(s, s->tsad[d], s->txbuf, size, false);
        s->tsd[d] |= TSD_OWN | TSD_TOK;
        s->cur_tx = (uint8_t)((d + 1) & 3);
        if (size && (s->tcr & TCR_LBK) == TCR_LBK)
            do_receive(s, s->txbuf, size);
        else if (size)
            net_client_transmit(s->nc, s->txbuf, size);
        s->isr |= INT_TOK;
        update_irq(s);
    }
}

/* ---- reset ---- */

/* CR.RST and the auto-load: IDR and MAR stay (datasheet); the rest as
 * QEMU's reset leaves it. */
static void soft_reset(Rtl8139 *s)
{
    s->cr = 0;
    s->rx_read = s->rx_write = 0;
    s->cur_tx = 0;
    for (int i = 0; i < 4; i++)
        s->tsd[i] = TSD_OWN;
    s->imr = s->isr = 0;
    s->tcr = 0;
    s->rbstart = 0;
    s->clock_on = true;
    s->config0 = 0;
    s->config1 = 0x0c;              /* I/O and memory mapped */
    s->config3 = 0x01;              /* fast back-to-back */
    s->config5 = 0;
    s->bmcr_pending = 0;
    s->anar = ANAR_RESET;
    s->tctr_base = now_ns(s);
    s->timer_int = 0;
    timer_del(&s->m->clock, &s->timer);
    update_irq(s);
}

static void eeprom_init(Rtl8139 *s)
{
    Eeprom *e = &s->ee;
    memset(e, 0, sizeof(*e));
    e->words[0] = 0x8129;
    e->words[1] = RTL8139_VENDOR;
    e->words[2] = RTL8139_DEVICE;
    for (int i = 0; i < 3; i++)
        e->words[7 + i] = (uint16_t)(s->conf_mac[2 * i] | s->conf_mac[2 * i + 1] << 8);
}

/* ---- registers ---- */

/* The register holding byte off: its first byte and width. */
static unsigned reg_width(unsigned off, unsigned *base)
{
    static const uint8_t dwords[] = { RBSTART, TCR, RCR, TCTR, MPC, TIMERINT, PARA78, PARA7C };
    static const uint8_t words[] = { ERBCR, CAPR, CBR, IMR, ISR, MULINT, TSAD, BMCR, BMSR,
                                     ANAR, ANLPAR, ANER, 0x6c, 0x6e, 0x70, 0x72, CSCR, 0x76 };
    if (off >= TSD0 && off < TSAD0 + 16) {
        *base = off & ~3u;
        return 4;
    }
    for (size_t i = 0; i < sizeof(dwords); i++)
        if (off >= dwords[i] && off < dwords[i] + 4u) {
            *base = dwords[i];
            return 4;
        }
    for (size_t i = 0; i < sizeof(words); i++)
        if (off >= words[i] && off < words[i] + 2u) {
            *base = words[i];
            return 2;
        }
    *base = off;
    return 1;
}

static uint16_t tsad_summary(const Rtl8139 *s)
{
    uint16_t v = 0;
    for (int i = 0; i < 4; i++) {
        uint32_t t = s->tsd[i];
        v |= (uint16_t)(((t & TSD_TOK) ? 1u << (12 + i) : 0) | ((t & TSD_TUN) ? 1u << (8 + i) : 0) |
                        ((t & TSD_TABT) ? 1u << (4 + i) : 0) | ((t & TSD_OWN) ? 1u << i : 0));
    }
    return v;
}

static uint32_t reg_read(Rtl8139 *s, unsigned r)
{
    if (r < 6)
        return s->idr[r];
    if (r >= MAR0 && r < MAR0 + 8)
        return s->mar[r - MAR0];
    if (r >= TSD0 && r < TSD0 + 16)
        return s->tsd[(r - TSD0) / 4];
    if (r >= TSAD0 && r < TSAD0 + 16)
        return s->tsad[(r - TSAD0) / 4];
    switch (r) {
    case RBSTART: return s->rbstart;
    case CR: return s->cr | (ring_room(s) == 0 ? CR_BUFE : 0);
    case CAPR: return (s->rx_read - 16) & 0xffff;
    case CBR: return s->rx_write & 0xffff;
    case IMR: return s->imr;
    case ISR: return s->isr;
    case TCR: return s->tcr | TCR_VERSION;
    case RCR: return s->rcr;
    case TCTR: return (uint32_t)tctr_ticks(s);
    case MPC: return s->mpc;
    case CR9346: {
        bool prog = (s->cfg9346 >> EEM_SHIFT) == EEM_PROGRAM;
        return (s->cfg9346 & ~EE_DO) | (prog && s->ee.cs && s->ee.dout ? EE_DO : 0);
    }
    case CONFIG0: return s->config0;
    case CONFIG1: return s->config1;
    case TIMERINT: return s->timer_int;
    case MSR: return MSR_VALUE;
    case CONFIG3: return s->config3;
    case CONFIG4: return s->config4;
    case HLTCLK: return s->clock_on;
    case MULINT: return s->mulint;
    case RERID: return RTL8139_REVISION;
    case TSAD: return tsad_summary(s);
    case BMCR: return BMCR_VALUE;
    case BMSR: return BMSR_VALUE;
    case ANAR: return s->anar;
    case ANLPAR: return ANAR_RESET;
    case ANER: return 0x0001;
    case CSCR: return CSCR_VALUE;
    case CONFIG5: return s->config5;
    default: return 0;
    }
}

static bool config_unlocked(const Rtl8139 *s)
{
    return (s->cfg9346 >> EEM_SHIFT) == EEM_CONFIG;
}

static void write_cfg9346(Rtl8139 *s, uint8_t v)
{
    unsigned mode = v >> EEM_SHIFT;
    if (mode == EEM_AUTOLOAD) {
        /* Loads the EEPROM as at power-on, then back to normal mode with
         * the other registers at their defaults. */
        soft_reset(s);
        for (int i = 0; i < 3; i++) {
            s->idr[2 * i] = (uint8_t)s->ee.words[7 + i];
            s->idr[2 * i + 1] = (uint8_t)(s->ee.words[7 + i] >> 8);
        }
        s->cfg9346 = 0;
        return;
    }
    s->cfg9346 = v & 0xce;
    if (mode == EEM_PROGRAM)
        ee_pins(&s->ee, v & EE_CS, v & EE_SK, v & EE_DI);
}

static void write_cr(Rtl8139 *s, uint8_t v)
{
    if (v & CR_RST)
        soft_reset(s);
    if ((s->cr & CR_RE) && !(v & CR_RE))
        s->rx_read = s->rx_write = 0;
    s->cr = v & (CR_RE | CR_TE);
    if (s->cr & CR_TE)
        transmit(s);
}

static void write_rcr(Rtl8139 *s, uint32_t v)
{
    uint32_t old = ring_size(s);
    s->rcr = v & RCR_WMASK;
    if (ring_size(s) != old)
        s->rx_read = s->rx_write = 0;
}

/* v holds the written bytes of register r (at their places), mask which. */
static void reg_write(Rtl8139 *s, unsigned r, uint32_t v, uint32_t mask)
{
    uint32_t old = reg_read(s, r), nv = (old & ~mask) | (v & mask);
    if (r < 6) {
        s->idr[r] = (uint8_t)v;
        return;
    }
    if (r >= MAR0 && r < MAR0 + 8) {
        s->mar[r - MAR0] = (uint8_t)v;
        return;
    }
    if (r >= TSD0 && r < TSD0 + 16) {
        /* The status bits are the chip's: a write clears them. */
        unsigned d = (r - TSD0) / 4;
        s->tsd[d] = (nv & ~0xff00c000u & ~0x00c00000u) | (s->tsd[d] & 0x00c00000u);
        transmit(s);
        return;
    }
    if (r >= TSAD0 && r < TSAD0 + 16) {
        s->tsad[(r - TSAD0) / 4] = nv;
        return;
    }
    switch (r) {
    case RBSTART: s->rbstart = nv; break;
    case CR: write_cr(s, (uint8_t)v); break;
    case CAPR: s->rx_read = (nv + 16) & (ring_size(s) - 1); break;
    case IMR:
        s->imr = (uint16_t)(nv & ~INT_RESERVED);
        update_irq(s);
        break;
    case ISR:
        s->isr &= (uint16_t)~(v & mask & ~INT_RESERVED);
        update_irq(s);
        break;
    case TCR: s->tcr = nv & TCR_WMASK; break;
    case RCR: write_rcr(s, nv); break;
    case TCTR:
        s->tctr_base = now_ns(s);
        timer_arm(s);
        break;
    case MPC: s->mpc = 0; break;
    case CR9346: write_cfg9346(s, (uint8_t)v); break;
    case CONFIG0:
        if (config_unlocked(s))
            s->config0 = (uint8_t)((s->config0 & 0xf8) | (v & 0x07));
        break;
    case CONFIG1:
        if (config_unlocked(s))
            s->config1 = (uint8_t)((s->config1 & 0x0c) | (v & 0xf3));
        break;
    case CONFIG3:
        if (config_unlocked(s))
            s->config3 = (uint8_t)((s->config3 & 0x8f) | (v & 0x70));
        break;
    case CONFIG4:
        if (config_unlocked(s))
            s->config4 = (uint8_t)((s->config4 & 0x0a) | (v & 0xf5));
        break;
    case CONFIG5: s->config5 = (uint8_t)(v & 0x7f); break;
    case TIMERINT:
        s->timer_int = nv;
        timer_arm(s);
        break;
    case HLTCLK:
        if (v == 'R')
            s->clock_on = true;
        else if (v == 'H')
            s->clock_on = false;
        break;
    case MULINT: s->mulint = (uint16_t)(nv & 0x0fff); break;
    case ANAR: s->anar = (uint16_t)nv; break;
    default: break;         /* read-only or reserved (BMCR's reset and restart
                               bits complete at once) */
    }
}

static uint64_t regs_read(void *opaque, uint64_t off, unsigned size)
{
    Rtl8139 *s = opaque;
    uint64_t v = 0;
    for (unsigned i = 0; i < size && off + i < RTL8139_REGS; i++) {
        unsigned o = (unsigned)off + i, base;
        reg_width(o, &base);
        v |= (uint64_t)(reg_read(s, base) >> (8 * (o - base)) & 0xff) << (8 * i);
    }
    return v;
}

static void regs_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    Rtl8139 *s = opaque;
    unsigned i = 0;
    while (i < size && off + i < RTL8139_REGS) {
        unsigned o = (unsigned)off + i, base;
        unsigned w = reg_width(o, &base);
        uint32_t v = 0, mask = 0;
        /* Every byte of this write that falls in this register. */
        for (; i < size && (unsigned)off + i < base + w; i++) {
            unsigned sh = 8 * ((unsigned)off + i - base);
            v |= (uint32_t)(val >> (8 * i) & 0xff) << sh;
            mask |= 0xffu << sh;
        }
        reg_write(s, base, v, mask);
    }
}

static const MemOps rtl8139_ops = {
    .name = "rtl8139",
    .read = regs_read,
    .write = regs_write,
    .min_access = 1,
    .max_access = 4,
};

/* ---- PCI function ---- */

static void update_mapping(Rtl8139 *s)
{
    uint64_t io = pci_bar_address(s->pci, 0), mem = pci_bar_address(s->pci, 1);
    int want_io = io == PCI_BAR_UNMAPPED ? -1 : (int)io;
    if (want_io != s->io_base) {
        if (s->io_base >= 0)
            as_remove(s->io, (uint64_t)s->io_base);
        s->io_base = -1;
        if (want_io >= 0 && as_add_mmio(s->io, "rtl8139-io", (uint64_t)want_io, RTL8139_REGS,
                                        &rtl8139_ops, s) == 0)
            s->io_base = want_io;
        else if (want_io >= 0 && !s->map_warned) {
            s->map_warned = true;
            fprintf(stderr, "tandem: rtl8139: cannot map its registers at ports 0x%x-0x%x: "
                    "another device uses some of them\n", want_io, want_io + RTL8139_REGS - 1);
        }
    }
    if (mem != s->mmio_base) {
        if (s->mmio_base != PCI_BAR_UNMAPPED)
            as_remove(&s->m->as, s->mmio_base);
        s->mmio_base = PCI_BAR_UNMAPPED;
        if (mem != PCI_BAR_UNMAPPED &&
            as_add_mmio(&s->m->as, "rtl8139-mmio", mem, RTL8139_REGS, &rtl8139_ops, s) == 0)
            s->mmio_base = mem;
        else if (mem != PCI_BAR_UNMAPPED && !s->map_warned) {
            s->map_warned = true;
            fprintf(stderr, "tandem: rtl8139: cannot map its registers at 0x%llx: another "
                    "region is there\n", (unsigned long long)mem);
        }
    }
}

static void pci_bars_changed(PciDevice *d)
{
    Rtl8139 *s = d->opaque;
    if (s->pci)                  /* NULL while pci_add_device runs */
        update_mapping(s);
}

static const PciDeviceInfo rtl8139_pci_info = {
    .name = "rtl8139",
    .vendor_id = RTL8139_VENDOR,
    .device_id = RTL8139_DEVICE,
    .class_code = 0x020000,      /* Ethernet controller */
    .revision = RTL8139_REVISION,
    .subsystem_vendor_id = QEMU_SUBVENDOR,
    .subsystem_id = QEMU_SUBDEVICE,
    .interrupt_pin = 1,
    .bars_changed = pci_bars_changed,
};

/* ---- lifecycle ---- */

static void rtl8139_reset(void *dev)
{
    Rtl8139 *s = dev;
    memcpy(s->idr, s->conf_mac, 6);
    memset(s->mar, 0, sizeof(s->mar));
    s->rcr = 0;
    s->mpc = 0;
    s->cfg9346 = 0;
    s->config4 = 0;
    s->mulint = 0;
    s->tsad[0] = s->tsad[1] = s->tsad[2] = s->tsad[3] = 0;
    eeprom_init(s);
    soft_reset(s);
    update_mapping(s);
}

static void rtl8139_destroy(void *dev)
{
    Rtl8139 *s = dev;
    timer_del(&s->m->clock, &s->timer);
    if (s->io_base >= 0)
        as_remove(s->io, (uint64_t)s->io_base);
    if (s->mmio_base != PCI_BAR_UNMAPPED)
        as_remove(&s->m->as, s->mmio_base);
    g_free(s);
}

/* ---- snapshots ---- */

#define SNAP_VERSION 1

/* Every register and the EEPROM with its shift state; the BARs are in the
 * configuration space the PCI bus loads first, the mapping is re-derived.
 * The MAC given on the command line is configuration, not state: it must
 * be the same where the snapshot loads (the EEPROM in it says so). */
static int rtl8139_save(void *dev, void *wp)
{
    Rtl8139 *s = dev;
    SnapWriter *w = wp;
    snap_put_u8(w, SNAP_VERSION);
    snap_put_bytes(w, s->idr, 6);
    snap_put_bytes(w, s->mar, 8);
    for (int i = 0; i < 4; i++) {
        snap_put_u32(w, s->tsd[i]);
        snap_put_u32(w, s->tsad[i]);
    }
    snap_put_u32(w, s->rbstart);
    snap_put_u8(w, s->cr);
    snap_put_u32(w, s->rx_read);
    snap_put_u32(w, s->rx_write);
    snap_put_u16(w, s->imr);
    snap_put_u16(w, s->isr);
    snap_put_u32(w, s->tcr);
    snap_put_u32(w, s->rcr);
    snap_put_u32(w, s->mpc);
    snap_put_i64(w, s->tctr_base);
    snap_put_u32(w, s->timer_int);
    snap_put_u8(w, s->cfg9346);
    snap_put_u8(w, s->config0);
    snap_put_u8(w, s->config1);
    snap_put_u8(w, s->config3);
    snap_put_u8(w, s->config4);
    snap_put_u8(w, s->config5);
    snap_put_bool(w, s->clock_on);
    snap_put_u16(w, s->mulint);
    snap_put_u16(w, s->anar);
    snap_put_u64(w, s->cur_tx);
    for (int i = 0; i < 64; i++)
        snap_put_u16(w, s->ee.words[i]);
    snap_put_u64(w, s->ee.mode);
    snap_put_u64(w, s->ee.tick);
    snap_put_u64(w, s->ee.addr);
    snap_put_u16(w, s->ee.shift);
    snap_put_bool(w, s->ee.cs);
    snap_put_bool(w, s->ee.sk);
    snap_put_bool(w, s->ee.dout);
    snap_put_bool(w, s->ee.write_enabled);
    snap_put_timer(w, &s->timer);
    return 0;
}

static int rtl8139_load(void *dev, void *rp)
{
    Rtl8139 *s = dev;
    SnapReader *r = rp;
    if (!devsnap_version(r, SNAP_VERSION, "rtl8139"))
        return -1;
    Rtl8139 *c = g_new(Rtl8139, 1);
    *c = *s;
    snap_get_bytes(r, c->idr, 6);
    snap_get_bytes(r, c->mar, 8);
    for (int i = 0; i < 4; i++) {
        c->tsd[i] = snap_get_u32(r);
        c->tsad[i] = snap_get_u32(r);
    }
    c->rbstart = snap_get_u32(r);
    c->cr = (uint8_t)devsnap_check_mask(r, snap_get_u8(r), CR_RE | CR_TE, "rtl8139 CR");
    c->rx_read = snap_get_u32(r);
    c->rx_write = snap_get_u32(r);
    c->imr = (uint16_t)devsnap_check_mask(r, snap_get_u16(r), 0xffffu & ~INT_RESERVED,
                                          "rtl8139 IMR");
    c->isr = (uint16_t)devsnap_check_mask(r, snap_get_u16(r), 0xffffu & ~INT_RESERVED,
                                          "rtl8139 ISR");
    c->tcr = (uint32_t)devsnap_check_mask(r, snap_get_u32(r), TCR_WMASK, "rtl8139 TCR");
    c->rcr = (uint32_t)devsnap_check_mask(r, snap_get_u32(r), RCR_WMASK, "rtl8139 RCR");
    c->mpc = (uint32_t)devsnap_check_mask(r, snap_get_u32(r), 0xffffff, "rtl8139 MPC");
    c->tctr_base = snap_get_i64(r);
    c->timer_int = snap_get_u32(r);
    c->cfg9346 = (uint8_t)devsnap_check_mask(r, snap_get_u8(r), 0xce, "rtl8139 9346CR");
    c->config0 = snap_get_u8(r);
    c->config1 = snap_get_u8(r);
    c->config3 = snap_get_u8(r);
    c->config4 = snap_get_u8(r);
    c->config5 = snap_get_u8(r);
    c->clock_on = snap_get_bool(r);
    c->mulint = snap_get_u16(r);
    c->anar = snap_get_u16(r);
    c->cur_tx = (uint8_t)snap_get_max(r, 3, "rtl8139 current transmit descriptor");
    for (int i = 0; i < 64; i++)
        c->ee.words[i] = snap_get_u16(r);
    c->ee.mode = (uint8_t)snap_get_max(r, EE_NMODES - 1, "rtl8139 EEPROM mode");
    c->ee.tick = (uint8_t)snap_get_max(r, 15, "rtl8139 EEPROM bit count");
    c->ee.addr = (uint8_t)snap_get_max(r, 63, "rtl8139 EEPROM address");
    c->ee.shift = snap_get_u16(r);
    c->ee.cs = snap_get_bool(r);
    c->ee.sk = snap_get_bool(r);
    c->ee.dout = snap_get_bool(r);
    c->ee.write_enabled = snap_get_bool(r);
    /* TCTR started at or before now (the clock is the snapshot's when
     * devices load): one outside [0, now] would put TimerInt's deadline in
     * the past for ever. */
    devsnap_require(r, c->tctr_base >= 0 && c->tctr_base <= now_ns(s),
                    "rtl8139 TCTR started outside [0, now]");
    /* The ring offsets index the ring the loaded RCR sizes. */
    devsnap_require(r, c->rx_read < ring_size(c), "rtl8139 read pointer beyond its ring");
    devsnap_require(r, c->rx_write < ring_size(c), "rtl8139 write pointer beyond its ring");
    if (snap_reader_ok(r))
        snap_get_timer(r, &s->m->clock, &s->timer);
    bool ok = snap_reader_ok(r);
    if (ok) {
        c->timer = s->timer;
        *s = *c;
        update_mapping(s);
    }
    g_free(c);
    return ok ? 0 : -1;
}

static const DeviceOps rtl8139_device_ops = {
    .name = "rtl8139",
    .reset = rtl8139_reset,
    .save = rtl8139_save,
    .load = rtl8139_load,
    .destroy = rtl8139_destroy,
};

Rtl8139 *rtl8139_create(Machine *m, PciBus *bus, int devfn, AddressSpace *io,
                        const uint8_t mac[6], NetClient *nc, GError **err)
{
    Rtl8139 *s = g_new0(Rtl8139, 1);
    s->m = m;
    s->io = io;
    s->io_base = -1;
    s->mmio_base = PCI_BAR_UNMAPPED;
    memcpy(s->conf_mac, mac, 6);
    timer_init(&s->timer, timer_cb, s);
    if (nc && !net_client_attach(nc, "rtl8139", mac, rtl8139_can_receive, rtl8139_receive, s,
                                 err)) {
        g_free(s);
        return NULL;
    }
    s->nc = nc;
    s->pci = pci_add_device(bus, devfn, &rtl8139_pci_info, s);
    if (!s->pci) {
        tn_error(err, "rtl8139: PCI slot %02x.%x is taken or out of range", PCI_SLOT(devfn),
                 PCI_FUNC(devfn));
        if (nc)
            nc->model = NULL;
        g_free(s);
        return NULL;
    }
    pci_register_bar(s->pci, 0, RTL8139_REGS, PCI_BAR_IO);
    pci_register_bar(s->pci, 1, RTL8139_REGS, PCI_BAR_MEM32);
    rtl8139_reset(s);
    machine_add_device(m, &rtl8139_device_ops, s);
    return s;
}

PciDevice *rtl8139_pci(Rtl8139 *s)
{
    return s->pci;
}

void rtl8139_firmware_setup(Rtl8139 *s, uint16_t iobase, uint32_t mmio, uint8_t irq_line)
{
    pci_firmware_setup(s->pci, (const uint64_t[PCI_NUM_BARS]){ iobase, mmio }, irq_line);
}
