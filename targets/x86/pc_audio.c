/* -device AC97 on the pc board (targets/x86/pc_audio.h). */
#include "targets/x86/pc_audio.h"

#include "audio/audio.h"
#include "devices/ac97.h"
#include "targets/x86/pc_net.h"
#include "vmm/error.h"
#include "vmm/machine.h"

#define PC_AUDIO_FIRST_SLOT 3

static bool pc_ac97(Machine *m, PciBus *bus, const char *spec, unsigned card, GError **err)
{
    static const char *const keys[] = { "audiodev", "addr", "id", NULL };
    g_autofree char *adev = NULL, *addr = NULL;
    if (!device_spec_check(spec, keys, err)) {
        g_prefix_error(err, "-device %s: ", spec);
        return false;
    }
    if (!device_spec_prop(spec, "audiodev", &adev)) {
        if (m->opts->naudiodevs != 1) {
            tn_error(err, "-device %s: name its backend with audiodev=ID (%s)", spec,
                     m->opts->naudiodevs ? "there are several -audiodev" :
                                           "and add -audiodev none|wav|pa,id=ID");
            return false;
        }
        adev = audio_spec_id(m->opts->audiodevs[0]);
    }
    int devfn;
    if (!pc_device_devfn(spec, &addr, &devfn, err))
        return false;
    for (int slot = PC_AUDIO_FIRST_SLOT; devfn < 0 && slot < 32; slot++)
        if (!pci_find_device(bus, PCI_DEVFN(slot, 0)))
            devfn = PCI_DEVFN(slot, 0);
    if (devfn < 0) {
        tn_error(err, "-device %s: no free PCI slot", spec);
        return false;
    }
    AudioDev *d = audio_get(m, adev, err);
    if (!d) {
        g_prefix_error(err, "-device %s: ", spec);
        return false;
    }
    AudioPort port;
    audio_port(d, card, &port);
    return ac97_create(m, bus, devfn, &m->io, &port, err) != NULL;
}

bool pc_audio_create(Machine *m, PciBus *bus, GError **err)
{
    const char *spec;
    unsigned card = 0;
    while ((spec = machine_take_device(m, "AC97")))
        if (!pc_ac97(m, bus, spec, card++, err))
            return false;
    return true;
}

void pc_audio_firmware(PciBus *bus)
{
    unsigned n = 0;
    for (int slot = 1; slot < 32; slot++) {
        PciDevice *d = pci_find_device(bus, PCI_DEVFN(slot, 0));
        if (!d || d->info->vendor_id != AC97_VENDOR || d->info->device_id != AC97_DEVICE)
            continue;
        if (!n)
            pc_pirq_firmware(bus);
        ac97_firmware_setup(d->opaque, (uint16_t)(0xd000 + 0x100 * n),
                            (uint16_t)(0xd800 + 0x40 * n), pc_pirq_irq(slot));
        n++;
    }
}
