/* The AC'97 controller (devices/ac97.c): PCI identity, codec registers
 * (reset values, cold reset and codec ready, VRA rates), the bus master
 * channels (BDL walk, PICB/CIV/PIV, IOC/LVI interrupts, W1C status, pause,
 * LVI restart, register reset), pacing by virtual time, byte/word/dword
 * accesses, snapshots, and hostile descriptor lists. */
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "checkpoint/snap.h"
#include "devices/ac97.h"
#include "devices/pci.h"
#include "vmm/machine.h"

#include "dev_machine.h"

#define DEVFN PCI_DEVFN(4, 0)
#define NAM   0xd000
#define NABM  0xd100
#define RAM   (1u << 20)
#define BDL   0x10000u
#define BUF   0x20000u

/* Channel boxes and registers. */
#define PI 0x00
#define PO 0x10
#define MC 0x20
#define BDBAR 0x00
#define CIV   0x04
#define LVI   0x05
#define SR    0x06
#define PICB  0x08
#define PIV   0x0a
#define CR    0x0b
#define GLOB_CNT 0x2c
#define GLOB_STA 0x30
#define CAS      0x34

static uint64_t icount;
static Machine *m;
static PciBus *bus;
static Ac97 *ac;
static int irq_level;
static GByteArray *played;
static unsigned played_rate, played_ch;
static unsigned in_calls;
static uint8_t in_next;

static void route(void *opaque, PciDevice *d, int pin, int level)
{
    irq_level = level;
}

static void out_cb(void *opaque, const uint8_t *buf, size_t n, unsigned ch, unsigned rate)
{
    g_byte_array_append(played, buf, (guint)n);
    played_rate = rate;
    played_ch = ch;
}

/* Input: a counting byte pattern. */
static void in_cb(void *opaque, unsigned source, uint8_t *buf, size_t n, unsigned ch,
                  unsigned rate)
{
    in_calls++;
    for (size_t i = 0; i < n; i++)
        buf[i] = in_next++;
}

static void setup(void)
{
    m = dev_machine_new(&icount);
    cr_assert_eq(machine_alloc_ram(m, 0, RAM, NULL), 0);
    bus = pci_bus_create(m, &m->io);
    pci_bus_set_intx_router(bus, route, NULL);
    played = g_byte_array_new();
    AudioPort port = { .out = out_cb, .in = in_cb };
    GError *err = NULL;
    ac = ac97_create(m, bus, DEVFN, &m->io, &port, &err);
    cr_assert_not_null(ac, "%s", err ? err->message : "");
    ac97_firmware_setup(ac, NAM, NABM, 11);
    irq_level = 0;
    in_calls = 0;
    in_next = 0;
}

static void teardown(void)
{
    dev_machine_free(m);
    g_byte_array_free(played, TRUE);
}

TestSuite(ac97, .init = setup, .fini = teardown);

static uint32_t nabm_in(unsigned r, unsigned size) { return (uint32_t)dev_in(m, (uint16_t)(NABM + r), size); }
static void nabm_out(unsigned r, unsigned size, uint32_t v) { dev_out(m, (uint16_t)(NABM + r), size, v); }
static uint16_t nam_in(unsigned r) { return (uint16_t)dev_in(m, (uint16_t)(NAM + r), 2); }
static void nam_out(unsigned r, uint16_t v) { dev_out(m, (uint16_t)(NAM + r), 2, v); }

static void bd(unsigned i, uint32_t addr, uint32_t ctl, uint32_t list)
{
    uint32_t e[2] = { addr, ctl };
    cr_assert_eq(as_copy_to(&m->as, list + 8 * i, e, 8), MEM_OK);
}

static void codec_up(void)
{
    nabm_out(GLOB_CNT, 4, 0x2);           /* cold reset deasserted */
}

static void run_ms(double ms)
{
    dev_machine_run_to(m, &icount, (int64_t)icount + (int64_t)(ms * 1e6));
}

Test(ac97, pci_identity)
{
    cr_assert_eq(dev_pci_cfg_read(m, DEVFN, PCI_VENDOR_ID, 2), 0x8086);
    cr_assert_eq(dev_pci_cfg_read(m, DEVFN, PCI_DEVICE_ID, 2), 0x2415);
    cr_assert_eq(dev_pci_cfg_read(m, DEVFN, PCI_CLASS_DEVICE, 2), 0x0401);
    cr_assert_eq(dev_pci_cfg_read(m, DEVFN, PCI_INTERRUPT_PIN, 1), 1);
    /* BAR sizing: 256 and 64 I/O ports. */
    dev_pci_cfg_write(m, DEVFN, PCI_BASE_ADDRESS_0, 4, 0xffffffff);
    cr_assert_eq(dev_pci_cfg_read(m, DEVFN, PCI_BASE_ADDRESS_0, 4) & 0xffff, 0xff01);
    dev_pci_cfg_write(m, DEVFN, PCI_BASE_ADDRESS_0 + 4, 4, 0xffffffff);
    cr_assert_eq(dev_pci_cfg_read(m, DEVFN, PCI_BASE_ADDRESS_0 + 4, 4) & 0xffff, 0xffc1);
}

Test(ac97, codec_reset_values_and_ready)
{
    cr_assert_eq(nabm_in(GLOB_STA, 4) & 0x100, 0, "codec not ready in cold reset");
    codec_up();
    cr_assert_eq(nabm_in(GLOB_STA, 4) & 0x100, 0x100);
    cr_assert_eq(nam_in(0x02), 0x8000);
    cr_assert_eq(nam_in(0x18), 0x8808);
    cr_assert_eq(nam_in(0x26) & 0xf, 0xf);
    cr_assert_eq(nam_in(0x2c), 48000);
    cr_assert_eq(nam_in(0x7c), 0x8384);
    cr_assert_eq(nam_in(0x7e), 0x7600);
    nam_out(0x02, 0x0808);
    cr_assert_eq(nam_in(0x02), 0x0808);
    nam_out(0x00, 0);                         /* codec register reset */
    cr_assert_eq(nam_in(0x02), 0x8000);
    /* The warm reset bit clears itself. */
    nabm_out(GLOB_CNT, 4, 0x6);
    cr_assert_eq(nabm_in(GLOB_CNT, 4), 0x2);
    /* CAS: the first read gets the semaphore, the next sees it taken, a
     * codec access frees it. */
    cr_assert_eq(nabm_in(CAS, 1), 0);
    cr_assert_eq(nabm_in(CAS, 1), 1);
    nam_in(0x02);
    cr_assert_eq(nabm_in(CAS, 1), 0);
}

Test(ac97, variable_rate)
{
    codec_up();
    nam_out(0x2c, 22050);
    cr_assert_eq(nam_in(0x2c), 48000, "no VRA: the rate stays 48 kHz");
    cr_assert_eq(nam_in(0x28) & 1, 1, "VRA supported");
    nam_out(0x2a, 1);
    nam_out(0x2c, 22050);
    cr_assert_eq(nam_in(0x2c), 22050);
    nam_out(0x2c, 100);
    cr_assert_eq(nam_in(0x2c), 8000);
    nam_out(0x32, 60000);
    cr_assert_eq(nam_in(0x32), 48000);
    nam_out(0x34, 8000);
    cr_assert_eq(nam_in(0x34), 48000, "mic rate needs VRM");
    nam_out(0x2a, 0);
    cr_assert_eq(nam_in(0x2c), 48000, "VRA off: back to 48 kHz");
}

/* Two buffers of 96 samples (48 frames, 1 ms at 48 kHz) each with IOC. */
Test(ac97, pcm_out_plays_the_list)
{
    codec_up();
    uint8_t pcm[384];
    for (unsigned i = 0; i < sizeof(pcm); i++)
        pcm[i] = (uint8_t)(i * 7 + 3);
    as_copy_to(&m->as, BUF, pcm, sizeof(pcm));
    bd(0, BUF, 0x80000000u | 96, BDL);
    bd(1, BUF + 192, 0x80000000u | 96, BDL);
    nabm_out(PO + BDBAR, 4, BDL);
    nabm_out(PO + LVI, 1, 1);
    cr_assert_eq(nabm_in(PO + SR, 2), 0x01, "halted before it runs");
    nabm_out(PO + CR, 1, 0x15);               /* RPBM, LVBIE, IOCE */
    cr_assert_eq(nabm_in(PO + SR, 2) & 1, 0);
    cr_assert_eq(nabm_in(PO + PICB, 2), 96);
    cr_assert_eq(nabm_in(PO + PIV, 1), 1);
    run_ms(1);
    cr_assert_eq(played->len, 0, "nothing before the first tick");
    run_ms(5);
    /* 5 ms at 48 kHz is 240 frames: both buffers (96 frames) played. */
    cr_assert_eq(played->len, sizeof(pcm));
    cr_assert_eq(memcmp(played->data, pcm, sizeof(pcm)), 0);
    cr_assert_eq(played_rate, 48000);
    cr_assert_eq(played_ch, 2);
    uint16_t sr = (uint16_t)nabm_in(PO + SR, 2);
    cr_assert_eq(sr, 0x0f, "DCH CELV LVBCI BCIS, got 0x%x", sr);
    cr_assert_eq(nabm_in(PO + CIV, 1), 1);
    cr_assert_eq(nabm_in(PO + PICB, 2), 0);
    cr_assert_eq(irq_level, 1);
    cr_assert_eq(nabm_in(GLOB_STA, 4) & 0xe0, 0x40, "POINT only");
    /* One dword read: CIV, LVI, SR. */
    cr_assert_eq(nabm_in(PO + CIV, 4), 0x000f0101);
    nabm_out(PO + SR, 2, 0x08);               /* BCIS: LVBCI still asks */
    cr_assert_eq(irq_level, 1);
    nabm_out(PO + SR, 2, 0x1c);
    cr_assert_eq(irq_level, 0);
    cr_assert_eq(nabm_in(PO + SR, 2), 0x03, "DCH and CELV are status, not W1C");
    /* More buffers: LVI moves on, the channel resumes with entry 2. */
    bd(2, BUF, 96, BDL);
    nabm_out(PO + LVI, 1, 2);
    cr_assert_eq(nabm_in(PO + SR, 2), 0);
    cr_assert_eq(nabm_in(PO + CIV, 1), 2);
    run_ms(6);
    cr_assert_eq(played->len, 2 * sizeof(pcm) / 2 + sizeof(pcm) / 2);
    cr_assert_eq(nabm_in(PO + SR, 2), 0x07, "no IOC on entry 2: LVBCI only");
}

Test(ac97, pcm_in_paced_by_virtual_time)
{
    codec_up();
    nam_out(0x2a, 1);
    nam_out(0x32, 8000);                      /* 8 frames per ms */
    bd(0, BUF, 0x80000000u | 0xffff, BDL);    /* big enough */
    nabm_out(PI + BDBAR, 4, BDL);
    nabm_out(PI + LVI, 1, 0);
    nabm_out(PI + CR, 1, 0x11);
    run_ms(50);
    /* 50 ms at 8 kHz: 400 frames, 800 samples taken. */
    cr_assert_eq(nabm_in(PI + PICB, 2), 0xffff - 800);
    uint8_t got[1600];
    as_copy_from(&m->as, BUF, got, sizeof(got));
    for (unsigned i = 0; i < sizeof(got); i++)
        cr_assert_eq(got[i], (uint8_t)i);
    /* Pause: nothing more moves; resume: it goes on from there. */
    nabm_out(PI + CR, 1, 0x10);
    cr_assert_eq(nabm_in(PI + SR, 2) & 1, 1);
    run_ms(20);
    cr_assert_eq(nabm_in(PI + PICB, 2), 0xffff - 800);
    nabm_out(PI + CR, 1, 0x11);
    run_ms(10);
    cr_assert_eq(nabm_in(PI + PICB, 2), 0xffff - 960);
    /* The mic channel is mono. */
    bd(0, BUF, 20, BDL + 0x100);
    nabm_out(MC + BDBAR, 4, BDL + 0x100);
    nabm_out(MC + CR, 1, 0x01);
    run_ms(10);
    cr_assert_eq(nabm_in(MC + SR, 2) & 0x07, 0x07, "20 mono samples at 48 kHz: done");
}

Test(ac97, register_reset_only_when_halted)
{
    codec_up();
    bd(0, BUF, 100, BDL);
    nabm_out(PO + BDBAR, 4, BDL + 5);
    cr_assert_eq(nabm_in(PO + BDBAR, 4), BDL, "BDBAR is 8-byte aligned");
    nabm_out(PO + LVI, 1, 33);
    cr_assert_eq(nabm_in(PO + LVI, 1), 1, "LVI has 5 bits");
    nabm_out(PO + LVI, 1, 0);
    nabm_out(PO + CR, 1, 0x01);
    nabm_out(PO + CR, 1, 0x03);               /* RR while running: ignored */
    cr_assert_eq(nabm_in(PO + BDBAR, 4), BDL);
    nabm_out(PO + CR, 1, 0x00);
    nabm_out(PO + CR, 1, 0x02);
    cr_assert_eq(nabm_in(PO + BDBAR, 4), 0);
    cr_assert_eq(nabm_in(PO + SR, 2), 0x01);
    cr_assert_eq(nabm_in(PO + CR, 1), 0, "RR clears itself");
}

/* A hostile guest: lists and buffers outside RAM, zero lengths, a list
 * wrapping the 32-bit bus, bus mastering off.  Defined results, no crash. */
Test(ac97, hostile_descriptors)
{
    codec_up();
    /* BDBAR beyond RAM: the entry reads as zeros (a zero-length buffer),
     * FIFOE, and the channel walks to LVI and halts. */
    nabm_out(PO + BDBAR, 4, 0xfffffff8u);
    nabm_out(PO + LVI, 1, 31);
    nabm_out(PO + CR, 1, 0x09);               /* RPBM, FEIE */
    run_ms(6);
    uint16_t sr = (uint16_t)nabm_in(PO + SR, 2);
    cr_assert(sr & 0x10, "FIFOE: 0x%x", sr);
    cr_assert(sr & 0x01, "halted");
    cr_assert_eq(nabm_in(PO + CIV, 1), 31);
    cr_assert_eq(irq_level, 1);
    cr_assert_eq(played->len, 0);
    /* A buffer running off the end of RAM: what is RAM plays, the rest is
     * zeros; the recorder's writes past RAM are dropped. */
    nabm_out(PO + CR, 1, 0);
    nabm_out(PO + CR, 1, 0x02);
    bd(0, RAM - 64, 0xffff, BDL);
    nabm_out(PO + BDBAR, 4, BDL);
    nabm_out(PO + LVI, 1, 0);
    nabm_out(PO + CR, 1, 0x01);
    run_ms(1000);
    cr_assert_eq(played->len, 0xffff * 2);
    for (unsigned i = 64; i < played->len; i++)
        cr_assert_eq(played->data[i], 0);
    cr_assert(nabm_in(PO + SR, 2) & 0x10);
    bd(0, RAM - 16, 0xffff, BDL + 0x100);
    nabm_out(PI + BDBAR, 4, BDL + 0x100);
    nabm_out(PI + CR, 1, 0x01);
    run_ms(1000);
    cr_assert(nabm_in(PI + SR, 2) & 0x11, "FIFOE and halted");
    /* All 32 entries empty, LVI behind CIV: one lap, then a halt. */
    for (unsigned i = 0; i < 32; i++)
        bd(i, BUF, 0x80000000u, BDL + 0x200);
    nabm_out(MC + BDBAR, 4, BDL + 0x200);
    nabm_out(MC + LVI, 1, 31);
    nabm_out(MC + CR, 1, 0x11);
    run_ms(10);
    cr_assert_eq(nabm_in(MC + SR, 2) & 0x0f, 0x0f);
    cr_assert_eq(nabm_in(MC + CIV, 1), 31);
    /* Bus mastering off: descriptors read as zeros, FIFOE. */
    uint16_t cmd = (uint16_t)dev_pci_cfg_read(m, DEVFN, PCI_COMMAND, 2);
    dev_pci_cfg_write(m, DEVFN, PCI_COMMAND, 2, cmd & ~PCI_COMMAND_MASTER);
    nabm_out(PO + CR, 1, 0);
    nabm_out(PO + CR, 1, 0x02);
    bd(0, BUF, 10, BDL);
    nabm_out(PO + BDBAR, 4, BDL);
    nabm_out(PO + CR, 1, 0x01);
    cr_assert(nabm_in(PO + SR, 2) & 0x10);
    /* Odd sizes and offsets: unimplemented bytes read as zero, writes do
     * nothing. */
    cr_assert_eq(nabm_in(0x3c, 4), 0);
    nabm_out(0x3c, 4, 0xffffffff);
    cr_assert_eq(nam_in(0xfe), 0);
    nam_out(0xfe, 0xffff);
    dev_out(m, NAM + 0x81, 1, 0x55);
}

Test(ac97, snapshot_roundtrip)
{
    codec_up();
    nam_out(0x2a, 1);
    nam_out(0x2c, 11025);
    bd(0, BUF, 0x80000000u | 1000, BDL);
    nabm_out(PO + BDBAR, 4, BDL);
    nabm_out(PO + CR, 1, 0x11);
    run_ms(12);
    SnapWriter w;
    snap_writer_init(&w, &m->clock);
    for (int i = 0; i < m->ndevices; i++)
        if (!strcmp(m->devices[i].ops->name, "AC97"))
            cr_assert_eq(m->devices[i].ops->save(m->devices[i].dev, &w), 0);
    uint16_t picb = (uint16_t)nabm_in(PO + PICB, 2);
    uint64_t saved_at = icount;
    run_ms(12);
    cr_assert_neq(nabm_in(PO + PICB, 2), picb);
    icount = saved_at;                /* the clock goes back with the machine */
    size_t len;
    uint8_t *buf = snap_writer_steal(&w, &len);
    SnapReader r;
    snap_reader_init(&r, buf, len, "ac97");
    for (int i = 0; i < m->ndevices; i++)
        if (!strcmp(m->devices[i].ops->name, "AC97"))
            cr_assert_eq(m->devices[i].ops->load(m->devices[i].dev, &r), 0, "%s",
                         r.error ? r.error : "");
    snap_reader_free(&r);
    cr_assert_eq(nabm_in(PO + PICB, 2), picb);
    cr_assert_eq(nam_in(0x2c), 11025);
    /* A corrupt stream (CIV 40) is refused and leaves the card as it was. */
    buf[1 + 128 + 4 + 8 + 4] = 40;      /* PCM in's CIV */
    snap_reader_init(&r, buf, len, "ac97");
    for (int i = 0; i < m->ndevices; i++)
        if (!strcmp(m->devices[i].ops->name, "AC97"))
            cr_assert_neq(m->devices[i].ops->load(m->devices[i].dev, &r), 0);
    cr_assert(strstr(snap_reader_error(&r), "CIV"), "%s", snap_reader_error(&r));
    snap_reader_free(&r);
    cr_assert_eq(nabm_in(PO + PICB, 2), picb);
    g_free(buf);
}

/* A read of the position brings the channel up to the current instruction,
 * between the timer's ticks. */
Test(ac97, position_follows_virtual_time_between_ticks)
{
    codec_up();
    nam_out(0x2a, 1);
    nam_out(0x2c, 8000);
    bd(0, BUF, 0xfffe, BDL);
    nabm_out(PO + BDBAR, 4, BDL);
    nabm_out(PO + CR, 1, 0x01);
    run_ms(1.5);
    cr_assert_eq(nabm_in(PO + PICB, 2), 0xfffe - 24, "12 frames in 1.5 ms at 8 kHz");
    cr_assert_eq(played->len, 48);
    run_ms(0.125);
    cr_assert_eq(nabm_in(PO + PICB, 2), 0xfffe - 26, "one frame more");
}
