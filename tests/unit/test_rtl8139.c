/* The RTL8139 register model (devices/rtl8139.c): PCI identity, the EEPROM
 * as 8139too reads it, the receive ring (header, CRC, wrap and no-wrap,
 * CAPR/CBR, overflow), transmit descriptors, ISR/IMR and the INTx line,
 * RCR filtering, loopback, TCTR/TimerInt, resets, snapshots and hostile
 * register values. */
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>
#include <zlib.h>

#include "checkpoint/snap.h"
#include "devices/pci.h"
#include "devices/rtl8139.h"
#include "net/net.h"
#include "vmm/machine.h"

#include "dev_machine.h"

#define DEVFN  PCI_DEVFN(3, 0)
#define IOBASE 0xc100
#define MMIO   0xfebff000u
#define RAM    (1u << 20)
#define RING   0x10000u
#define TXBUF  0x40000u

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static uint64_t icount;
static Machine *m;
static PciBus *bus;
static Rtl8139 *nic;
static NetClient nc;
static int irq_level, irq_edges;
static GPtrArray *sent;            /* GBytes the device transmitted */

static void route(void *opaque, PciDevice *d, int pin, int level)
{
    if (level && !irq_level)
        irq_edges++;
    irq_level = level;
}

static void capture(void *opaque, const uint8_t *buf, size_t len)
{
    g_ptr_array_add(sent, g_bytes_new(buf, len));
}

static void setup(void)
{
    m = dev_machine_new(&icount);
    cr_assert_eq(machine_alloc_ram(m, 0, RAM, NULL), 0);
    bus = pci_bus_create(m, &m->io);
    pci_bus_set_intx_router(bus, route, NULL);
    memset(&nc, 0, sizeof(nc));
    nc.id = "n1";
    nc.transmit = capture;
    sent = g_ptr_array_new_with_free_func((GDestroyNotify)g_bytes_unref);
    GError *err = NULL;
    nic = rtl8139_create(m, bus, DEVFN, &m->io, MAC, &nc, &err);
    cr_assert_not_null(nic, "%s", err ? err->message : "");
    rtl8139_firmware_setup(nic, IOBASE, MMIO, 11);
    irq_level = irq_edges = 0;
}

static void teardown(void)
{
    dev_machine_free(m);
    g_ptr_array_free(sent, TRUE);
}

TestSuite(rtl8139, .init = setup, .fini = teardown);

static uint8_t inb(unsigned r) { return (uint8_t)dev_in(m, (uint16_t)(IOBASE + r), 1); }
static uint16_t inw(unsigned r) { return (uint16_t)dev_in(m, (uint16_t)(IOBASE + r), 2); }
static uint32_t inl(unsigned r) { return (uint32_t)dev_in(m, (uint16_t)(IOBASE + r), 4); }
static void outb(unsigned r, uint8_t v) { dev_out(m, (uint16_t)(IOBASE + r), 1, v); }
static void outw(unsigned r, uint16_t v) { dev_out(m, (uint16_t)(IOBASE + r), 2, v); }
static void outl(unsigned r, uint32_t v) { dev_out(m, (uint16_t)(IOBASE + r), 4, v); }

/* 8139too's read_eeprom(): the 93C46 bit-banged through 9346CR. */
static uint16_t read_eeprom(unsigned location, int addr_len)
{
    enum { EE_CS = 0x08, EE_SK = 0x04, EE_DI = 0x02, EE_ENB = 0x80 | 0x08 };
    unsigned cmd = location | (6u << addr_len);
    outb(0x50, EE_ENB & ~EE_CS);
    outb(0x50, EE_ENB);
    for (int i = 4 + addr_len; i >= 0; i--) {
        uint8_t d = (cmd >> i & 1) ? EE_DI : 0;
        outb(0x50, EE_ENB | d);
        outb(0x50, EE_ENB | d | EE_SK);
    }
    outb(0x50, EE_ENB);
    uint16_t v = 0;
    for (int i = 16; i > 0; i--) {
        outb(0x50, EE_ENB | EE_SK);
        v = (uint16_t)(v << 1 | (inb(0x50) & 1));
        outb(0x50, EE_ENB);
    }
    outb(0x50, 0);
    return v;
}

/* What 8139too's rtl8139_hw_start leaves: reset, ring at RING (size
 * given by rcr_len: 0 8K .. 3 64K), RE | TE, all interrupts unmasked. */
static void start(unsigned rcr_len, uint32_t rcr_extra)
{
    outb(0x37, 0x10);
    cr_assert_eq(inb(0x37) & 0x10, 0, "the reset completes at once");
    outl(0x30, RING);
    outb(0x37, 0x0c);
    outl(0x44, rcr_len << 11 | 0x0a | rcr_extra);        /* AB | APM */
    outl(0x40, 0x03000600);
    for (int i = 0; i < 4; i++)
        outl(0x20 + 4 * i, TXBUF + 0x800 * i);
    outw(0x3c, 0xc07f);
}

static void frame(uint8_t *f, size_t len, const uint8_t *dst, uint8_t seed)
{
    memcpy(f, dst, 6);
    memcpy(f + 6, "\x52\x55\x0a\x00\x02\x02", 6);
    f[12] = 0x08;
    f[13] = 0x00;
    for (size_t i = 14; i < len; i++)
        f[i] = (uint8_t)(seed + i * 3);
}

static bool deliver(const uint8_t *f, size_t len)
{
    if (!nc.can_receive(nc.fe_opaque, len))
        return false;
    nc.receive(nc.fe_opaque, f, len);
    return true;
}

/* The packet at ring offset off as 8139too reads it: status, length
 * (with CRC), the frame, the CRC; returns the next offset. */
static uint32_t check_packet(uint32_t off, const uint8_t *f, size_t len, uint16_t type,
                             bool wrap, uint32_t ring)
{
    size_t plen = len < 60 ? 60 : len;
    uint8_t *buf = g_malloc(plen + 8);
    for (size_t i = 0; i < plen + 8; i++) {
        uint32_t o = off + (uint32_t)i;
        if (wrap)
            o %= ring;
        buf[i] = m->ram[RING + o];
    }
    uint32_t hdr;
    memcpy(&hdr, buf, 4);
    cr_assert_eq(hdr & 0xffff, 0x0001u | type, "status 0x%04x", hdr & 0xffff);
    cr_assert_eq(hdr >> 16, plen + 4, "length %u", hdr >> 16);
    cr_assert(!memcmp(buf + 4, f, len), "frame bytes");
    for (size_t i = len; i < plen; i++)
        cr_assert_eq(buf[4 + i], 0, "padding");
    uint32_t crc;
    memcpy(&crc, buf + 4 + plen, 4);
    cr_assert_eq(crc, (uint32_t)crc32(0, buf + 4, (uInt)plen), "CRC");
    g_free(buf);
    return (uint32_t)((off + plen + 8 + 3) & ~3u) % ring;
}

Test(rtl8139, pci_identity_and_bars)
{
    cr_assert_eq(dev_pci_cfg_read(m, DEVFN, PCI_VENDOR_ID, 4), 0x813910ec);
    cr_assert_eq(dev_pci_cfg_read(m, DEVFN, PCI_REVISION_ID, 1), RTL8139_REVISION);
    cr_assert_eq(dev_pci_cfg_read(m, DEVFN, PCI_CLASS_DEVICE, 2), 0x0200);
    cr_assert_eq(dev_pci_cfg_read(m, DEVFN, PCI_INTERRUPT_PIN, 1), 1);
    cr_assert_eq(dev_pci_cfg_read(m, DEVFN, PCI_INTERRUPT_LINE, 1), 11);
    /* BAR sizing: 256 ports and 256 bytes of memory. */
    dev_pci_cfg_write(m, DEVFN, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
    cr_assert_eq(dev_pci_cfg_read(m, DEVFN, PCI_BASE_ADDRESS_0, 4), 0xffffff01);
    dev_pci_cfg_write(m, DEVFN, PCI_BASE_ADDRESS_0 + 4, 4, 0xffffffff);
    cr_assert_eq(dev_pci_cfg_read(m, DEVFN, PCI_BASE_ADDRESS_0 + 4, 4), 0xffffff00);
    rtl8139_firmware_setup(nic, IOBASE, MMIO, 11);
    /* The same registers through both BARs. */
    uint64_t v = 0;
    cr_assert_eq(as_read(&m->as, MMIO, 4, &v), MEM_OK);
    cr_assert_eq(v, 0x12005452);
    cr_assert_eq(inl(0), 0x12005452);
    cr_assert_eq(inw(4), 0x5634);
    cr_assert_eq(inb(0x5e), RTL8139_REVISION);
    /* An RTL8139C in TCR's version bits (8139too's chip table). */
    cr_assert_eq(inl(0x40) & 0x7cc00000, 0x74000000);
    /* Moving BAR0 moves the ports. */
    dev_pci_cfg_write(m, DEVFN, PCI_BASE_ADDRESS_0, 4, 0xd001);
    cr_assert_eq(dev_in(m, 0xd000, 4), 0x12005452);
    uint64_t x;
    cr_assert_neq(as_read(&m->io, IOBASE, 4, &x), MEM_OK);
}

Test(rtl8139, eeprom_as_8139too_reads_it)
{
    /* 8139too probes with 8 address bits: the answer must not be 0x8129
     * (QEMU's model does the same), so it settles on 6. */
    cr_assert_neq(read_eeprom(0, 8), 0x8129);
    cr_assert_eq(read_eeprom(0, 6), 0x8129);
    cr_assert_eq(read_eeprom(1, 6), RTL8139_VENDOR);
    cr_assert_eq(read_eeprom(2, 6), RTL8139_DEVICE);
    uint16_t w[3];
    for (int i = 0; i < 3; i++)
        w[i] = read_eeprom(7 + (unsigned)i, 6);
    cr_assert_eq(w[0], 0x5452);
    cr_assert_eq(w[1], 0x1200);
    cr_assert_eq(w[2], 0x5634);
    /* Normal mode again: DO reads 0. */
    cr_assert_eq(inb(0x50), 0);
}

/* One 93C46 command through 9346CR's programming mode: a start bit, then
 * nbits of v (most significant first). */
static void ee_command(uint32_t v, int nbits)
{
    enum { CS = 0x08, SK = 0x04, DI = 0x02, PROG = 0x80 };
    outb(0x50, PROG);
    outb(0x50, PROG | CS);
    for (int i = nbits; i >= 0; i--) {
        uint8_t d = (((1u << nbits) | v) >> i & 1) ? DI : 0;
        outb(0x50, PROG | CS | d);
        outb(0x50, PROG | CS | d | SK);
    }
    outb(0x50, PROG);
    outb(0x50, 0);
}

Test(rtl8139, eeprom_write_needs_ewen)
{
    /* WRITE (01) word 10 = 0xbeef: refused until EWEN (00 11xxxx). */
    ee_command((0x40u | 10) << 16 | 0xbeef, 24);
    cr_assert_eq(read_eeprom(10, 6), 0);
    ee_command(0x30, 8);
    ee_command((0x40u | 10) << 16 | 0xbeef, 24);
    cr_assert_eq(read_eeprom(10, 6), 0xbeef);
    ee_command(0x00, 8);            /* EWDS */
    ee_command((0x40u | 10) << 16 | 0x1234, 24);
    cr_assert_eq(read_eeprom(10, 6), 0xbeef);
}

Test(rtl8139, receive_into_the_ring)
{
    start(2, 0);                    /* 32K, wrapping */
    cr_assert_eq(inb(0x37) & 1, 1, "BUFE: ring empty");
    uint8_t f[1514];
    frame(f, 100, MAC, 1);
    cr_assert(deliver(f, 100));
    cr_assert_eq(inw(0x3e) & 1, 1, "ROK");
    cr_assert_eq(irq_level, 1);
    cr_assert_eq(inb(0x37) & 1, 0);
    uint32_t next = check_packet(0, f, 100, 0x4000, true, 32768);
    cr_assert_eq(inw(0x3a), next, "CBR after the packet, dword aligned");
    /* A runt is padded to 60 bytes. */
    frame(f, 42, MAC, 2);
    cr_assert(deliver(f, 42));
    uint32_t next2 = check_packet(next, f, 42, 0x4000, true, 32768);
    cr_assert_eq(inw(0x3a), next2);
    /* The driver acknowledges: ISR write-1-to-clear, CAPR = read - 16. */
    outw(0x3e, 0x0001);
    cr_assert_eq(inw(0x3e) & 1, 0);
    cr_assert_eq(irq_level, 0);
    outw(0x38, (uint16_t)(next2 - 16));
    cr_assert_eq(inw(0x38), (uint16_t)(next2 - 16));
    cr_assert_eq(inb(0x37) & 1, 1, "BUFE again");
}

Test(rtl8139, ring_wraps_to_its_start)
{
    start(0, 0);                    /* 8K, WRAP clear: packets wrap */
    uint8_t f[1514];
    uint32_t off = 0;
    int n = 0;
    /* Fill and consume until a packet straddles the end. */
    while (off + 1514 + 8 <= 8192 || n < 6) {
        frame(f, 1514, MAC, (uint8_t)n);
        cr_assert(deliver(f, 1514), "packet %d at %u", n, off);
        uint32_t next = check_packet(off, f, 1514, 0x4000, true, 8192);
        outw(0x38, (uint16_t)(next - 16));
        bool wrapped = next < off;
        off = next;
        n++;
        if (wrapped)
            break;
    }
    cr_assert_lt(off, 8192);
    cr_assert_eq(inw(0x3a), off);
    cr_assert_eq(m->ram[RING + 8192], 0, "nothing written past the ring");
}

Test(rtl8139, no_wrap_mode_runs_past_the_end)
{
    start(0, 0x80);                 /* 8K, WRAP set: 8139too's mode */
    uint8_t f[1514];
    uint32_t off = 0;
    for (int n = 0; n < 6; n++) {
        frame(f, 1514, MAC, (uint8_t)n);
        cr_assert(deliver(f, 1514));
        bool past = off + 1514 + 8 > 8192;
        uint32_t next = check_packet(off, f, 1514, 0x4000, false, 8192);
        /* check_packet read linearly: the whole packet is after off. */
        outw(0x38, (uint16_t)(next - 16));
        off = next;
        if (past) {
            cr_assert_lt(off, 8192, "the write pointer comes back modulo the ring");
            return;
        }
    }
    cr_assert_fail("no packet crossed the end");
}

Test(rtl8139, full_ring_holds_frames_back_then_overflows)
{
    start(0, 0);
    uint8_t f[1514];
    frame(f, 1514, MAC, 9);
    int taken = 0;
    while (deliver(f, 1514))
        taken++;
    cr_assert_eq(taken, 5, "8K holds five 1514-byte frames");
    cr_assert_eq(inw(0x3e) & 0x10, 0, "no overflow while the netdev waits");
    /* A receive anyway (a netdev that does not ask) overflows. */
    nc.receive(nc.fe_opaque, f, 1514);
    cr_assert_eq(inw(0x3e) & 0x10, 0x10, "RxOverflow");
    cr_assert_eq(inl(0x4c), 1, "MPC counts it");
    outl(0x4c, 0);
    cr_assert_eq(inl(0x4c), 0);
    /* Reading frees room. */
    uint32_t next = check_packet(0, f, 1514, 0x4000, true, 8192);
    outw(0x38, (uint16_t)(next - 16));
    cr_assert(deliver(f, 1514));
    /* A frame that can never fit is taken (and dropped), not held. */
    uint8_t *big = g_malloc0(9000);
    frame(big, 9000, MAC, 3);
    cr_assert(nc.can_receive(nc.fe_opaque, 9000));
    g_free(big);
}

Test(rtl8139, receive_filter)
{
    start(2, 0);
    static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    static const uint8_t other[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x57 };
    static const uint8_t mcast[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
    uint8_t f[64];
    uint32_t off = 0;
    frame(f, 64, bcast, 1);
    deliver(f, 64);
    off = check_packet(off, f, 64, 0x2000, true, 32768);
    frame(f, 64, other, 1);
    deliver(f, 64);
    cr_assert_eq(inw(0x3a), off, "another station's frame is dropped");
    frame(f, 64, mcast, 1);
    deliver(f, 64);
    cr_assert_eq(inw(0x3a), off, "multicast without AM");
    /* AM with the hash bit of 01:00:5e:00:00:01 (ether_crc >> 26 = 31). */
    outl(0x44, 2u << 11 | 0x0e);    /* the same ring length: the pointers stay */
    outl(0x08, 0x80000000u);
    outl(0x0c, 0);
    deliver(f, 64);
    off = check_packet(off, f, 64, 0x8000, true, 32768);
    outl(0x08, 0x7fffffffu);
    outl(0x0c, 0xffffffffu);
    deliver(f, 64);
    cr_assert_eq(inw(0x3a), off, "multicast outside the hash");
    /* Broadcast refused without AB. */
    outl(0x44, 2u << 11 | 0x02);
    frame(f, 64, bcast, 1);
    deliver(f, 64);
    cr_assert_eq(inw(0x3a), off);
    /* AAP takes anything. */
    outl(0x44, 2u << 11 | 0x01);
    frame(f, 64, other, 5);
    deliver(f, 64);
    check_packet(off, f, 64, 0x0000, true, 32768);
    /* The receiver off: nothing, and the netdev need not wait. */
    outb(0x37, 0x04);
    uint16_t cbr = inw(0x3a);
    deliver(f, 64);
    cr_assert_eq(inw(0x3a), cbr);
}

Test(rtl8139, transmit_descriptors)
{
    start(2, 0);
    outw(0x3e, 0xffff);
    for (int k = 0; k < 6; k++) {
        unsigned d = (unsigned)k & 3;
        uint32_t len = 60 + 10 * (uint32_t)k;
        for (uint32_t i = 0; i < len; i++)
            m->ram[TXBUF + 0x800 * d + i] = (uint8_t)(k + i);
        cr_assert(inl(0x10 + 4 * d) & 0x2000, "OWN before");
        outl(0x10 + 4 * d, 0x00080000 | len);
        cr_assert_eq(sent->len, (guint)k + 1);
        gsize n;
        const uint8_t *p = g_bytes_get_data(g_ptr_array_index(sent, (guint)k), &n);
        cr_assert_eq(n, len);
        for (uint32_t i = 0; i < len; i++)
            cr_assert_eq(p[i], (uint8_t)(k + i));
        uint32_t tsd = inl(0x10 + 4 * d);
        cr_assert_eq(tsd & 0xe000, 0xa000, "OWN | TOK: 0x%08x", tsd);
        cr_assert_eq(tsd & 0x1fff, len);
        cr_assert(inw(0x60) & (1u << (12 + d)), "TSAD TOK%u", d);
        cr_assert_eq(inw(0x3e) & 0x04, 0x04, "TOK interrupt");
        outw(0x3e, 0x04);
    }
    /* Out of order: descriptor 3 is not next (2 is), so nothing goes. */
    outl(0x1c, 100);
    cr_assert_eq(sent->len, 6);
    outl(0x18, 100);
    cr_assert_eq(sent->len, 8, "2 then 3 go, in order");
    /* The transmitter off: held until it is enabled. */
    outb(0x37, 0x08);
    outl(0x10, 80);
    cr_assert_eq(sent->len, 8);
    outb(0x37, 0x0c);
    cr_assert_eq(sent->len, 9);
}

Test(rtl8139, loopback)
{
    start(2, 0);
    outl(0x40, 0x03060600);
    uint8_t f[80];
    frame(f, 80, MAC, 7);
    memcpy(m->ram + TXBUF, f, 80);
    outl(0x10, 80);
    cr_assert_eq(sent->len, 0, "loopback keeps it inside");
    check_packet(0, f, 80, 0x4000, true, 32768);
}

Test(rtl8139, isr_imr_and_the_line)
{
    start(2, 0);
    outw(0x3c, 0);
    uint8_t f[64];
    frame(f, 64, MAC, 1);
    deliver(f, 64);
    cr_assert_eq(inw(0x3e), 0x0001);
    cr_assert_eq(irq_level, 0, "masked");
    outw(0x3c, 0x0001);
    cr_assert_eq(irq_level, 1);
    cr_assert_eq(dev_pci_cfg_read(m, DEVFN, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT,
                 PCI_STATUS_INTERRUPT);
    /* Reserved bits 9-12 stay 0; writing 0 clears nothing. */
    outw(0x3c, 0xffff);
    cr_assert_eq(inw(0x3c), 0xe1ff);
    outw(0x3e, 0x0000);
    cr_assert_eq(inw(0x3e), 0x0001);
    /* A byte write to the high half leaves ROK. */
    outb(0x3f, 0xff);
    cr_assert_eq(inw(0x3e), 0x0001);
    outb(0x3e, 0x01);
    cr_assert_eq(inw(0x3e), 0);
    cr_assert_eq(irq_level, 0);
    /* DisINTx in the command register holds the line low. */
    deliver(f, 64);
    cr_assert_eq(irq_level, 1);
    dev_pci_cfg_write(m, DEVFN, PCI_COMMAND, 2,
                      dev_pci_cfg_read(m, DEVFN, PCI_COMMAND, 2) | PCI_COMMAND_INTX_DISABLE);
    cr_assert_eq(irq_level, 0);
}

Test(rtl8139, timer_and_tctr)
{
    start(2, 0);
    outl(0x48, 0);                  /* TCTR restarts */
    dev_machine_run_to(m, &icount, 1000000);   /* 1 ms: 33000 ticks */
    cr_assert_eq(inl(0x48), 33000);
    outw(0x3e, 0xffff);
    outl(0x54, 66000);              /* TimerInt: 2 ms after the restart */
    dev_machine_run_to(m, &icount, 1999000);
    cr_assert_eq(inw(0x3e) & 0x4000, 0);
    dev_machine_run_to(m, &icount, 2000001);
    cr_assert_eq(inw(0x3e) & 0x4000, 0x4000, "PCSTimeout");
    cr_assert_eq(irq_level, 1);
    outl(0x54, 0);
    cr_assert_eq(vclock_next_deadline(&m->clock), INT64_MAX);
}

Test(rtl8139, resets)
{
    start(2, 0);
    outl(0x00, 0x11223344);
    outl(0x04, 0x5566);
    outl(0x08, 0xdeadbeef);
    uint8_t f[64];
    frame(f, 64, (const uint8_t *)"\x44\x33\x22\x11\x66\x55", 1);
    deliver(f, 64);
    cr_assert_neq(inw(0x3a), 0);
    /* CR.RST: IDR and MAR stay, the ring and the interrupts go. */
    outb(0x37, 0x10);
    cr_assert_eq(inl(0x00), 0x11223344);
    cr_assert_eq(inl(0x08), 0xdeadbeef);
    cr_assert_eq(inw(0x3a), 0);
    cr_assert_eq(inw(0x3e), 0);
    cr_assert_eq(inb(0x37), 0x01);
    cr_assert_eq(irq_level, 0);
    /* Disabling the receiver resets its pointers (8139too's rx reset). */
    start(2, 0);
    outl(0x00, 0x11223344);
    deliver(f, 64);
    outb(0x37, 0x04);
    cr_assert_eq(inw(0x3a), 0);
    /* Auto-load: the MAC comes back from the EEPROM. */
    outb(0x50, 0x40);
    cr_assert_eq(inb(0x50), 0);
    cr_assert_eq(inl(0x00), 0x12005452);
    /* Machine reset. */
    outl(0x00, 0x99999999);
    m->devices[m->ndevices - 1].ops->reset(m->devices[m->ndevices - 1].dev);
    cr_assert_eq(inl(0x00), 0x12005452);
    cr_assert_eq(inl(0x08), 0);
}

Test(rtl8139, link_and_phy_registers)
{
    cr_assert_eq(inw(0x64) & 0x0004, 0x0004, "BMSR: link up");
    cr_assert_eq(inw(0x64) & 0x0020, 0x0020, "autonegotiation complete");
    cr_assert_eq(inw(0x62), 0x1000);
    outw(0x62, 0x8200);             /* reset + restart AN complete at once */
    cr_assert_eq(inw(0x62), 0x1000);
    cr_assert_eq(inb(0x58) & 0x04, 0, "MSR: LINKB clear = link ok");
    cr_assert_eq(inw(0x68), 0x05e1);
    /* CONFIG1 needs 9346CR's config-write mode. */
    uint8_t c1 = inb(0x52);
    outb(0x52, (uint8_t)(c1 | 0x01));
    cr_assert_eq(inb(0x52), c1);
    outb(0x50, 0xc0);
    outb(0x52, (uint8_t)(c1 | 0x01));
    cr_assert_eq(inb(0x52), c1 | 0x01);
    outb(0x50, 0x00);
}

Test(rtl8139, hostile_values)
{
    start(3, 0x80);                 /* 64K ring: WRAP is ignored */
    uint8_t f[1514];
    frame(f, 1514, MAC, 3);
    /* The ring outside RAM, straddling its end, at the top of 4 GiB. */
    const uint32_t rings[] = { 0xfffff000u, RAM - 100, 0x80000000u, MMIO - 8 };
    for (size_t k = 0; k < G_N_ELEMENTS(rings); k++) {
        outl(0x30, rings[k]);
        for (int i = 0; i < 50; i++) {
            deliver(f, 1514);
            outw(0x38, (uint16_t)(inw(0x3a) - 16));
        }
    }
    /* Transmit from outside RAM and with the largest size: zeros. */
    outl(0x20, 0xfffffff0u);
    outl(0x10, 0x1fff);
    cr_assert_eq(sent->len, 1);
    gsize n;
    const uint8_t *p = g_bytes_get_data(g_ptr_array_index(sent, 0), &n);
    cr_assert_eq(n, 0x1fff);
    for (int i = 0; i < 16; i++)
        cr_assert_eq(p[i], 0, "no RAM at 0xfffffff0: zeros (then the bus address wraps)");
    /* No bus mastering: no DMA at all. */
    outl(0x30, RING);
    memset(m->ram + RING, 0xaa, 64);
    dev_pci_cfg_write(m, DEVFN, PCI_COMMAND, 2, PCI_COMMAND_IO);
    deliver(f, 100);
    cr_assert_eq(m->ram[RING], 0xaa);
    dev_pci_cfg_write(m, DEVFN, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MASTER);
    /* Random accesses of every size everywhere, frames in between. */
    GRand *g = g_rand_new_with_seed(8139);
    for (int i = 0; i < 200000; i++) {
        unsigned off = (unsigned)g_rand_int_range(g, 0, 256);
        unsigned size = 1u << g_rand_int_range(g, 0, 3);
        uint32_t v = g_rand_int(g);
        if (off == 0x37 && (v & 0x10) && g_rand_int_range(g, 0, 8))
            v &= ~0x10u;
        if (g_rand_boolean(g))
            as_write(&m->io, IOBASE + off, size, v);
        else {
            uint64_t x;
            as_read(&m->io, IOBASE + off, size, &x);
        }
        if (i % 64 == 0) {
            size_t len = (size_t)g_rand_int_range(g, 1, 1515);
            deliver(f, len);
        }
        if (i % 4096 == 0)
            dev_pci_cfg_write(m, DEVFN, PCI_BASE_ADDRESS_0, 4, IOBASE | 1);
    }
    g_rand_free(g);
}

Test(rtl8139, snapshot_roundtrip)
{
    start(2, 0x80);
    uint8_t f[300];
    frame(f, 300, MAC, 4);
    deliver(f, 300);
    outl(0x54, 1000000);
    (void)read_eeprom(7, 6);
    DeviceEntry *e = &m->devices[m->ndevices - 1];
    cr_assert_str_eq(e->ops->name, "rtl8139");
    SnapWriter w;
    snap_writer_init(&w, &m->clock);
    cr_assert_eq(e->ops->save(e->dev, &w), 0);
    size_t len;
    uint8_t *blob = snap_writer_steal(&w, &len);
    uint8_t before[256];
    for (unsigned i = 0; i < 256; i++)
        before[i] = i == 0x48 ? 0 : inb(i);     /* TCTR moves */
    /* Scramble, then load back. */
    outb(0x37, 0x10);
    outl(0x00, 0);
    outl(0x54, 0);
    SnapReader r;
    snap_reader_init(&r, blob, len, "rtl8139");
    cr_assert_eq(e->ops->load(e->dev, &r), 0, "%s", snap_reader_error(&r));
    cr_assert_eq(snap_reader_left(&r), 0);
    snap_reader_free(&r);
    for (unsigned i = 0; i < 256; i++)
        if (i != 0x48)
            cr_assert_eq(inb(i), before[i], "register 0x%02x", i);
    cr_assert_neq(vclock_next_deadline(&m->clock), INT64_MAX, "TimerInt re-armed");
    /* A write pointer beyond the ring is refused. */
    blob[1 + 6 + 8 + 32 + 4 + 1 + 4] = 0xff;
    blob[1 + 6 + 8 + 32 + 4 + 1 + 4 + 1] = 0xff;
    snap_reader_init(&r, blob, len, "rtl8139");
    cr_assert_neq(e->ops->load(e->dev, &r), 0);
    cr_assert(strstr(snap_reader_error(&r), "write pointer"), "%s", snap_reader_error(&r));
    snap_reader_free(&r);
    g_free(blob);
}
