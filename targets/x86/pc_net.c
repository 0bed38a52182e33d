/* The pc board's network cards (see pc_net.h). */
#include "targets/x86/pc_net.h"

#include <stdio.h>
#include <string.h>

#include "devices/i440fx.h"
#include "devices/virtio_net.h"
#include "devices/virtio_pci.h"
#include "net/net.h"
#include "vmm/error.h"
#include "vmm/machine.h"

#define PC_NIC_FIRST_SLOT 3
#define PC_NIC_IOBASE     0xc100      /* after the IDE bus master at 0xc000 */
#define PC_NIC_MMIO_TOP   0xfec00000u /* below the I/O APIC */
/* virtio-pci BARs, 16 KiB each, upwards from where SeaBIOS puts QEMU's
 * prefetchable BARs on pc (below the rtl8139 registers). */
#define PC_VIRTIO_MMIO_BASE 0xfe000000u
/* SeaBIOS's PIRQ A-D routing on the i440FX. */
static const uint8_t pc_pirq_irqs[4] = { 10, 10, 11, 11 };

bool pc_parse_pci_addr(const char *s, int *devfn)
{
    char *end;
    unsigned long slot = strtoul(s, &end, 16), fn = 0;
    if (end == s)
        return false;
    if (*end == '.') {
        const char *f = end + 1;
        fn = strtoul(f, &end, 16);
        if (end == f)
            return false;
    }
    if (*end || slot < 1 || slot > 31 || fn > 7)
        return false;
    *devfn = PCI_DEVFN((int)slot, (int)fn);
    return true;
}

bool pc_device_devfn(const char *spec, char **addr, int *devfn, GError **err)
{
    *devfn = -1;
    if (!*addr && !device_spec_prop(spec, "addr", addr))
        return true;
    if (pc_parse_pci_addr(*addr, devfn))
        return true;
    tn_error(err, "-device %s: addr=%s: expected a PCI slot 1-1f (hex), optionally .function",
             spec, *addr);
    return false;
}

int pc_pci_free_devfn(PciBus *bus)
{
    for (int slot = PC_NIC_FIRST_SLOT; slot < 32; slot++)
        if (!pci_find_device(bus, PCI_DEVFN(slot, 0)))
            return PCI_DEVFN(slot, 0);
    return -1;
}

/* -device rtl8139 or virtio-net-pci (virtio set). */
static bool pc_nic(Machine *m, PciBus *bus, PcNics *nics, const char *spec, bool virtio,
                   GError **err)
{
    static const char *const keys[] = { "netdev", "mac", "addr", "id", "romfile", NULL };
    g_autofree char *netdev = NULL, *mac = NULL, *addr = NULL;
    if (!device_spec_check(spec, keys, err))
        return false;
    if (nics->cards == PC_MAX_NICS) {
        tn_error(err, "-device %s: at most %d network cards", spec, PC_MAX_NICS);
        return false;
    }
    uint8_t a[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, (uint8_t)(0x56 + nics->cards) };
    if (device_spec_prop(spec, "mac", &mac) && !net_parse_mac(mac, a)) {
        tn_error(err, "-device %s: mac=%s: expected a unicast address like "
                 "52:54:00:12:34:56", spec, mac);
        return false;
    }
    NetClient *nc = NULL;
    if (device_spec_prop(spec, "netdev", &netdev)) {
        nc = net_find(m->net, netdev);
        if (!nc) {
            tn_error(err, "-device %s: netdev=%s: no -netdev has id=%s", spec, netdev, netdev);
            return false;
        }
    }
    int devfn;
    if (!pc_device_devfn(spec, &addr, &devfn, err))
        return false;
    if (devfn < 0)
        devfn = pc_pci_free_devfn(bus);
    if (devfn < 0) {
        tn_error(err, "-device %s: no free PCI slot", spec);
        return false;
    }
    GError *e = NULL;
    if (virtio) {
        VirtioPci *t = virtio_pci_create(m, bus, devfn, &m->as, VIRTIO_ID_NET, &e);
        if (!t || !virtio_net_create(m, virtio_pci_slot(t), "virtio-net-pci", a, nc, &e)) {
            tn_error(err, "-device %s: %s", spec, e->message);
            g_error_free(e);
            return false;
        }
        nics->cards++;
        return true;
    }
    Rtl8139 *s = rtl8139_create(m, bus, devfn, &m->io, a, nc, &e);
    if (!s) {
        tn_error(err, "-device %s: %s", spec, e->message);
        g_error_free(e);
        return false;
    }
    nics->slot[nics->n] = PCI_SLOT(devfn);
    nics->nic[nics->n++] = s;
    nics->cards++;
    return true;
}

bool pc_nics_create(Machine *m, PciBus *bus, PcNics *nics, GError **err)
{
    const char *spec;
    while ((spec = machine_take_device(m, "rtl8139")))
        if (!pc_nic(m, bus, nics, spec, false, err))
            return false;
    while ((spec = machine_take_device(m, "virtio-net-pci")))
        if (!pc_nic(m, bus, nics, spec, true, err))
            return false;
    return true;
}

void pc_pirq_firmware(PciBus *bus)
{
    PciDevice *piix3 = pci_find_device(bus, PCI_DEVFN(1, 0));
    for (int p = 0; piix3 && p < 4; p++)
        pci_config_write(piix3, PIIX3_PIRQRC + (unsigned)p, pc_pirq_irqs[p], 1);
}

uint8_t pc_pirq_irq(int slot)
{
    /* INTA# of slot s reaches PIRQ (s - 1) & 3 (devices/i440fx.h). */
    return pc_pirq_irqs[(slot - 1) & 3];
}

void pc_nics_firmware(PciBus *bus, const PcNics *nics)
{
    if (!nics->n)
        return;
    pc_pirq_firmware(bus);
    for (int i = 0; i < nics->n; i++) {
        uint8_t irq = pc_pirq_irq(nics->slot[i]);
        rtl8139_firmware_setup(nics->nic[i], (uint16_t)(PC_NIC_IOBASE + 0x100 * i),
                               PC_NIC_MMIO_TOP - 0x1000u * (uint32_t)(i + 1), irq);
    }
}

void pc_virtio_firmware(PciBus *bus)
{
    uint32_t n = 0;
    for (int devfn = PCI_DEVFN(1, 0); devfn < 256; devfn++) {
        PciDevice *d = pci_find_device(bus, devfn);
        if (!d || d->info->vendor_id != VIRTIO_PCI_VENDOR)
            continue;
        if (!n)
            pc_pirq_firmware(bus);
        uint64_t bars[PCI_NUM_BARS] = { 0 };
        bars[VIRTIO_PCI_BAR] = PC_VIRTIO_MMIO_BASE + VIRTIO_PCI_BAR_SIZE * n++;
        pci_firmware_setup(d, bars, pc_pirq_irq(PCI_SLOT(devfn)));
    }
}
