/* x86_audio (pm32): plays and records through the AC'97 controller
 * (devices/ac97.c) by polling, for tests/system/test_audio_x86.py.
 * Finds 8086:2415 on PCI bus 0, puts its BARs at 0xd000 (mixer) and
 * 0xd100 (bus master), takes the codec out of cold reset, sets 8 kHz
 * (VRA), plays 1600 samples (two descriptors, a counting pattern the test
 * computes too), then records 1600 samples and prints their FNV-1a hash
 * and the first four, and exits (PASS). */
#include "rt.h"

RT_TEST_NAME("x86_audio");

#define NAM   0xd000
#define NABM  0xd100
#define PO    0x10
#define PI    0x00
#define NSAMPLES 1600

static inline u16 inw(u16 port) { u16 v; __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port)); return v; }
static inline u32 inl(u16 port) { u32 v; __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static u32 cfg_read(unsigned devfn, unsigned reg)
{
    outl(0xcf8, 0x80000000u | devfn << 8 | reg);
    return inl(0xcfc);
}

static void cfg_write(unsigned devfn, unsigned reg, u32 v)
{
    outl(0xcf8, 0x80000000u | devfn << 8 | reg);
    outl(0xcfc, v);
}

static void run_channel(unsigned box, u32 bdl, unsigned lvi)
{
    outl(NABM + box + 0x00, bdl);
    outb(NABM + box + 0x05, (u8)lvi);
    outb(NABM + box + 0x0b, 0x01);               /* run */
    while (!(inw(NABM + box + 0x06) & 0x01))     /* until halted */
        ;
    printf("box %02x: sr=%04x civ=%u picb=%u\n", box, inw(NABM + box + 0x06),
           inb(NABM + box + 0x04), inw(NABM + box + 0x08));
    outb(NABM + box + 0x0b, 0x00);
    outw(NABM + box + 0x06, 0x1c);
}

void test_main(void)
{
    int devfn = -1;
    for (unsigned d = 0; d < 256 && devfn < 0; d += 8)
        if (cfg_read(d, 0) == 0x24158086u)
            devfn = (int)d;
    if (devfn < 0)
        rt_panic("no AC'97 controller on PCI bus 0");
    printf("ac97 at slot %u\n", (unsigned)devfn >> 3);
    cfg_write((unsigned)devfn, 0x10, NAM);
    cfg_write((unsigned)devfn, 0x14, NABM);
    cfg_write((unsigned)devfn, 0x04, 0x5);       /* I/O, bus master */
    outl(NABM + 0x2c, 0x2);                      /* out of cold reset */
    while (!(inl(NABM + 0x30) & 0x100))
        ;
    printf("codec %04x:%04x ready\n", inw(NAM + 0x7c), inw(NAM + 0x7e));
    outw(NAM + 0x02, 0x0000);                    /* master volume */
    outw(NAM + 0x18, 0x0808);                    /* PCM out volume */
    outw(NAM + 0x2a, 0x0001);                    /* VRA */
    outw(NAM + 0x2c, 8000);
    outw(NAM + 0x32, 8000);
    CHECK_EQ(inw(NAM + 0x2c), 8000);

    volatile u16 *play = (volatile u16 *)0x400000;
    volatile u16 *rec = (volatile u16 *)0x500000;
    volatile u32 *bdl = (volatile u32 *)0x600000;
    for (unsigned i = 0; i < NSAMPLES; i++) {
        play[i] = (u16)(i * 40503u);
        rec[i] = 0xdead;
    }
    bdl[0] = 0x400000;
    bdl[1] = NSAMPLES / 2;
    bdl[2] = 0x400000 + NSAMPLES;
    bdl[3] = 0x80000000u | NSAMPLES / 2;         /* IOC on the last */
    run_channel(PO, 0x600000, 1);

    bdl[8] = 0x500000;
    bdl[9] = NSAMPLES;
    run_channel(PI, 0x600000 + 32, 0);
    u32 h = 0x811c9dc5u;
    const volatile u8 *b = (const volatile u8 *)rec;
    for (unsigned i = 0; i < 2 * NSAMPLES; i++) {
        h ^= b[i];
        h *= 0x01000193u;
    }
    printf("recorded fnv=%08x first=%04x %04x %04x %04x\n", h, rec[0], rec[1], rec[2], rec[3]);
    rt_exit(0);
}
