/* Intel 82801AA (ICH) AC'97 audio controller, PCI 8086:2415, with one
 * AC'97 codec on its primary link, as Linux's snd-intel8x0 drives it.
 *
 * BAR0: 256 I/O ports, the codec's mixer registers (NAM: 16-bit registers
 * 00 reset, 02 master volume, ..., 26 power-down, 28/2A extended audio ID
 * and control (VRA, VRM), 2C front DAC rate, 32 ADC rate, 34 mic rate,
 * 7C/7E vendor ID).  BAR1: 64 I/O ports, the bus master (NABM): three DMA
 * channels at 00 (PCM in, stereo), 10 (PCM out, stereo), 20 (mic, mono),
 * each with BDBAR, CIV, LVI, SR, PICB, PIV, CR; 2C GLOB_CNT, 30 GLOB_STA,
 * 34 CAS.  INTA#.
 *
 * Each channel walks its buffer descriptor list (32 entries of 8 bytes:
 * buffer address, then bits 15:0 samples, bit 30 BUP, bit 31 IOC) by DMA,
 * paced by the virtual clock at the codec's sample rate (16-bit samples;
 * a timer every AC97_TICK_NS moves the samples due since the channel
 * started), so a run is a function of the guest and virtual time.
 * Samples go to, or come from, the card's AudioPort (the -audiodev
 * backend through record/replay).
 *
 * Defined behaviour for anything a guest writes: a descriptor list or a
 * buffer outside RAM reads as zeros (writes to it are dropped) and sets
 * FIFOE; zero-length buffers complete at once; with bus mastering off in
 * the PCI command register nothing is read or written (FIFOE too). */
#ifndef TANDEM_AC97_H
#define TANDEM_AC97_H

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#include "devices/pci.h"

typedef struct Machine Machine;
typedef struct Ac97 Ac97;

#define AC97_VENDOR   0x8086
#define AC97_DEVICE   0x2415
#define AC97_NAM_SIZE  0x100
#define AC97_NABM_SIZE 0x40
#define AC97_TICK_NS  5000000      /* 5 ms of virtual time */

enum { AC97_PCM_IN = 0, AC97_PCM_OUT = 1, AC97_MIC_IN = 2 };

/* Where the card's samples go (S16LE, interleaved; 2 channels for PCM,
 * 1 for the mic).  in fills exactly nbytes (silence where the source has
 * none); source is AC97_PCM_IN or AC97_MIC_IN. */
typedef struct AudioPort {
    void (*out)(void *opaque, const uint8_t *buf, size_t nbytes, unsigned channels,
                unsigned rate);
    void (*in)(void *opaque, unsigned source, uint8_t *buf, size_t nbytes, unsigned channels,
               unsigned rate);
    void *opaque;
} AudioPort;

/* Adds the function at devfn; registers in io, DMA to m->as. */
Ac97 *ac97_create(Machine *m, PciBus *bus, int devfn, AddressSpace *io, const AudioPort *port,
                  GError **err);
PciDevice *ac97_pci(Ac97 *s);
/* What firmware does before a direct kernel boot or a bare-metal test:
 * BAR0 at nam, BAR1 at nabm, the interrupt line, I/O and bus mastering
 * enabled. */
void ac97_firmware_setup(Ac97 *s, uint16_t nam, uint16_t nabm, uint8_t irq_line);

#endif
