/* The pc board's sound card: -device AC97[,audiodev=ID][,addr=SLOT]
 * (devices/ac97.c on a backend of audio/audio.h), also made by
 * -audio DRIVER,model=ac97. */
#ifndef TANDEM_X86_PC_AUDIO_H
#define TANDEM_X86_PC_AUDIO_H

#include <glib.h>

#include "devices/pci.h"

typedef struct Machine Machine;

/* Takes every -device AC97: each in the first free slot from 3 (after the
 * network cards), or at addr=.  audiodev= may be left out when there is
 * exactly one -audiodev. */
bool pc_audio_create(Machine *m, PciBus *bus, GError **err);
/* What SeaBIOS would do, for a Linux kernel booted directly: each card's
 * mixer at 0xd000 + 0x100 * n, bus master at 0xd800 + 0x40 * n, interrupt
 * line (and the PIRQ routing). */
void pc_audio_firmware(PciBus *bus);

#endif
