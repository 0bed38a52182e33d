/* virtio over PCI, the modern (virtio 1.x, non-transitional) transport.
 *
 * One PCI function per device: vendor 0x1af4, device 0x1040 + the virtio
 * device type (0x1041 net, 0x1042 block), revision 1, subsystem
 * 0x1af4:0x1100 (QEMU's, at least 0x40 as the spec asks of modern-only
 * devices), class from the device type, INTA#.
 *
 * The registers live in one 16 KiB 64-bit prefetchable memory BAR, BAR 4
 * as on QEMU, a 4 KiB page per structure:
 *
 *   0x0000  common configuration (virtio_pci_common_cfg, 0x38 bytes)
 *   0x1000  ISR status (1 byte; a read returns and clears it, and lowers INTx)
 *   0x2000  device configuration (the backend's config_size)
 *   0x3000  notifications: queue n at 0x3000 + 4 * n (notify_off_multiplier 4)
 *
 * Four vendor-specific capabilities (cfg_type 1, 3, 4, 2) in configuration
 * space from 0x40 describe them, and a fifth (cfg_type 5, at 0x84) is the
 * VIRTIO_PCI_CAP_PCI_CFG window: the driver writes cap.bar (4), cap.offset
 * and cap.length (1, 2 or 4, offset a multiple of it), then reading or
 * writing pci_cfg_data (0x94) reads or writes the BAR there, whether or
 * not the BAR is mapped.  Any other window reads 0 and writes nothing.
 * No MSI-X (not advertised; the MSI-X vector fields read NO_VECTOR) and no
 * legacy I/O BAR.
 *
 * The device touches guest memory only while the command register's bus
 * master bit is set; a queue kicked while it is clear is processed when it
 * is set (a device reset forgets the kick).  virtio-net frames arriving
 * meanwhile wait in the netdev's queue. */
#ifndef TANDEM_VIRTIO_PCI_H
#define TANDEM_VIRTIO_PCI_H

#include <glib.h>
#include <stdint.h>

#include "devices/pci.h"
#include "devices/virtio.h"

typedef struct Machine Machine;
typedef struct VirtioPci VirtioPci;

#define VIRTIO_PCI_VENDOR        0x1af4
#define VIRTIO_PCI_DEVICE_BASE   0x1040
#define VIRTIO_PCI_SUBSYSTEM     0x1100
#define VIRTIO_PCI_REVISION      1
#define VIRTIO_PCI_BAR           4
#define VIRTIO_PCI_BAR_SIZE      0x4000

/* Where each structure sits in the BAR. */
#define VIRTIO_PCI_COMMON_OFF    0x0000
#define VIRTIO_PCI_COMMON_LEN    0x38
#define VIRTIO_PCI_ISR_OFF       0x1000
#define VIRTIO_PCI_DEVICE_OFF    0x2000
#define VIRTIO_PCI_NOTIFY_OFF    0x3000
#define VIRTIO_PCI_NOTIFY_MULT   4
#define VIRTIO_PCI_REGION_SIZE   0x1000

/* Capability cfg_type values, and where the list starts. */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG    3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG    5
#define VIRTIO_PCI_CAP_FIRST      0x40
#define PCI_CAP_ID_VNDR           0x09
/* struct virtio_pci_cap fields, from the capability's start. */
#define VIRTIO_PCI_CAP_BAR        4
#define VIRTIO_PCI_CAP_OFFSET     8
#define VIRTIO_PCI_CAP_LENGTH     12
/* The PCI_CFG capability and its pci_cfg_data. */
#define VIRTIO_PCI_CFG_CAP        0x84
#define VIRTIO_PCI_CFG_DATA       (VIRTIO_PCI_CFG_CAP + 16)

/* struct virtio_pci_common_cfg. */
enum {
    VIRTIO_PCI_COMMON_DFSELECT  = 0x00,
    VIRTIO_PCI_COMMON_DF        = 0x04,
    VIRTIO_PCI_COMMON_GFSELECT  = 0x08,
    VIRTIO_PCI_COMMON_GF        = 0x0c,
    VIRTIO_PCI_COMMON_MSIX      = 0x10,
    VIRTIO_PCI_COMMON_NUMQ      = 0x12,
    VIRTIO_PCI_COMMON_STATUS    = 0x14,
    VIRTIO_PCI_COMMON_CFGGENERATION = 0x15,
    VIRTIO_PCI_COMMON_Q_SELECT  = 0x16,
    VIRTIO_PCI_COMMON_Q_SIZE    = 0x18,
    VIRTIO_PCI_COMMON_Q_MSIX    = 0x1a,
    VIRTIO_PCI_COMMON_Q_ENABLE  = 0x1c,
    VIRTIO_PCI_COMMON_Q_NOFF    = 0x1e,
    VIRTIO_PCI_COMMON_Q_DESCLO  = 0x20,
    VIRTIO_PCI_COMMON_Q_DESCHI  = 0x24,
    VIRTIO_PCI_COMMON_Q_AVAILLO = 0x28,
    VIRTIO_PCI_COMMON_Q_AVAILHI = 0x2c,
    VIRTIO_PCI_COMMON_Q_USEDLO  = 0x30,
    VIRTIO_PCI_COMMON_Q_USEDHI  = 0x34,
};
#define VIRTIO_MSI_NO_VECTOR 0xffff

/* Adds an empty function for virtio device type (1..0x3f) at devfn on bus,
 * its BAR in as.  NULL with err when devfn is taken or out of range. */
VirtioPci *virtio_pci_create(Machine *m, PciBus *bus, int devfn, AddressSpace *as,
                             uint32_t type, GError **err);
/* Plugs the backend (ops->device_id must be the function's type); the
 * VirtioDevice it drives its queues through, or NULL (machine_set_error). */
VirtioDevice *virtio_pci_plug(VirtioPci *t, const VirtioDeviceOps *ops, void *backend);
/* The same as a slot for virtio_blk_create / virtio_net_create. */
VirtioSlot virtio_pci_slot(VirtioPci *t);
PciDevice *virtio_pci_device(VirtioPci *t);

#endif
