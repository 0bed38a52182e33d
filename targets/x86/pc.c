/* The PC board, laid out like QEMU's i440FX "pc":
 *
 *   0x00000000 - 0x0009ffff   RAM (conventional memory)
 *   0x000a0000 - 0x000dffff   unassigned (VGA window, option ROMs)
 *   0x000e0000 - 0x000fffff   the last 128 KiB of the BIOS image (read-only)
 *   0x00100000 - low end      RAM (up to 3.5 GiB)
 *   4 GiB - BIOS size         the whole BIOS image (read-only)
 *   4 GiB -                   RAM above 3.5 GiB
 *
 * 0xC0000-0xFFFFF is switched between the BIOS ROM (or nothing) and RAM by
 * the i440FX's PAM registers, in 16 KiB segments (64 KiB at 0xF0000), as
 * firmware shadows itself.
 *
 * Devices: the i8259 pair behind the local APIC's LINT0 (virtual wire) and
 * the I/O APIC (ISA IRQ n on pin n, the PIT's IRQ 0 on pin 2), the i8254
 * PIT with port 0x61, the MC146818 RTC/CMOS, the i8042 with PS/2 keyboard
 * and mouse, COM1..COM4 (16550A at 0x3f8, 0x2f8, 0x3e8, 0x2e8), fw_cfg at
 * 0x510, PCI configuration mechanism #1 with the i440FX host bridge,
 * PIIX3 and the PIIX4 power management function (00:01.3, ACPI: SCI on
 * IRQ 9, S5 soft-off), -device isa-debug-exit, and virtio-blk-pci /
 * virtio-net-pci (devices/virtio_pci.c, modern transport, INTx).  The default firmware is Debian's
 * SeaBIOS.  -kernel takes multiboot kernels (multiboot.c) and Linux
 * bzImage kernels (linuxboot.c), both loaded directly. */
#include "targets/x86/pc.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "block/drive.h"
#include "checkpoint/snap.h"
#include "devices/fw_cfg.h"
#include "devices/i440fx.h"
#include "devices/i8042.h"
#include "devices/i8254.h"
#include "devices/i8259.h"
#include "devices/ioapic.h"
#include "devices/isa_debug_exit.h"
#include "devices/lapic.h"
#include "devices/mc146818.h"
#include "devices/ns16550a.h"
#include "devices/pci.h"
#include "devices/piix4_pm.h"
#include "devices/piix_ide.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_pci.h"
#include "targets/x86/acpi.h"
#include "targets/x86/cpu.h"
#include "rr/rr.h"
#include "targets/x86/kvm_cpu.h"
#include "targets/x86/kvm_switch.h"
#include "targets/x86/linuxboot.h"
#include "targets/x86/multiboot.h"
#include "targets/x86/pc_audio.h"
#include "targets/x86/pc_net.h"
#include "vmm/error.h"
#include "vmm/input.h"
#include "vmm/loader.h"
#include "vmm/machine.h"

#define PC_LOW_RAM_END   0xa0000ull
#define PC_HIGH_RAM_BASE 0x100000ull
#define PC_BELOW_4G_MAX  0xe0000000ull
#define PC_4G            0x100000000ull
#define PC_ISA_BIOS_MAX  0x20000ull
#define PC_BIOS_MAX      (16ull << 20)
/* Where SeaBIOS puts the IDE bus master (its first PCI I/O address). */
#define PC_IDE_BMIBA     0xc000
/* QEMU's default firmware for pc, as Debian installs it (package seabios). */
#define PC_DEFAULT_BIOS  "/usr/share/seabios/bios.bin"

static const uint16_t pc_com_ports[4] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };
static const int pc_com_irqs[4] = { 4, 3, 4, 3 };

typedef struct Pc {
    Machine *m;
    X86CPU *cpu;
    uint8_t *bios;
    size_t bios_size;
    I8259 *pic;
    Lapic *lapic;
    Ioapic *ioapic;
    Mc146818 *rtc;
    FwCfg *fw_cfg;
    PciBus *pci;
    Multiboot *mb;           /* -kernel with a multiboot kernel */
    LinuxBoot *lb;           /* -kernel with a Linux bzImage */
    Piix4Pm *pm;
    PiixIde *ide;            /* 00:01.1 */
    PcNics nics;             /* -device rtl8139, virtio-net-pci (pc_net.c) */
    DriveSet *drives;        /* -drive */
    int disk_serial;         /* IDENTIFY serial numbers TD00001, ... */
    X86Kvm *kvm;             /* -accel kvm */
    /* ISA IRQ n: the 8259 input n and the I/O APIC pin (IRQ 0 on pin 2). */
    IrqLine pic_in[16], ioapic_in[16];
    uint8_t pam[I440FX_NPAM];
    bool pam_valid;
    bool smi_warned;         /* the guest asked for an SMI (apm_write) */
} Pc;

/* The APM ports 0xb2/0xb3 (PIIX4): a write to the control port asks the
 * chipset for a software SMI.  Tandem has no SMM, so nothing answers;
 * firmware that waits for its SMI handler (SeaBIOS's bios-256k.bin sets
 * 0xb3 and spins until the handler clears it) would hang without a word,
 * so the first such write says why.  Both ports read as unassigned. */
static uint64_t apm_read(void *opaque, uint64_t off, unsigned size)
{
    return ~0ull;
}

static void apm_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    Pc *pc = opaque;
    if (off == 0 && !pc->smi_warned) {
        pc->smi_warned = true;
        fprintf(stderr, "tandem: warning: the guest asked for a software SMI (APM control "
                "port 0xb2, value %#" PRIx64 "), and Tandem has no SMM: nothing handles it "
                "(firmware built with SMM support, such as SeaBIOS's bios-256k.bin, then "
                "waits forever; the default %s has none)\n", val & 0xff, PC_DEFAULT_BIOS);
    }
}

static const MemOps apm_ops = {
    .name = "apm",
    .read = apm_read,
    .write = apm_write,
    .min_access = 1,
    .max_access = 1,
};

static void pc_isa_irq(void *opaque, int n, int level)
{
    Pc *pc = opaque;
    irq_set(&pc->pic_in[n], level);
    irq_set(&pc->ioapic_in[n], level);
}

static IrqLine pc_isa(Pc *pc, int n)
{
    return irq_line(pc_isa_irq, pc, n);
}

static void pc_cpu_intr(void *opaque, int n, int level)
{
    Pc *pc = opaque;
    x86_cpu_set_intr(pc->cpu, level);
    if (level)
        x86_kvm_event(pc->kvm);
}

static void pc_cpu_nmi(void *opaque)
{
    Pc *pc = opaque;
    x86_cpu_nmi(pc->cpu);
    x86_kvm_event(pc->kvm);
}

static int pc_intr_ack(void *opaque)
{
    return lapic_intr_ack(opaque);
}

static void pc_apic_set_base(void *apic, uint64_t msr)
{
    lapic_set_base(apic, msr);
}

static void pc_apic_set_tpr(void *apic, uint8_t tpr)
{
    lapic_set_tpr(apic, tpr);
}

static uint8_t pc_apic_get_tpr(void *apic)
{
    return lapic_get_tpr(apic);
}

static int pc_pic_ack(void *opaque)
{
    return i8259_ack(opaque);
}

static bool pc_pic_pending(void *opaque)
{
    return i8259_pending(opaque);
}

/* One PAM segment: RAM (read-only without WE) when reads go to DRAM, else
 * the BIOS ROM where the image reaches (0xE0000 up for 128 KiB), else
 * nothing.  Writes-only-to-DRAM (WE without RE) reads the ROM and drops
 * the writes: no firmware we run uses that setting. */
static void pc_pam_segment(Pc *pc, uint64_t base, uint64_t size, unsigned attr)
{
    Machine *m = pc->m;
    size_t isa = pc->bios_size < PC_ISA_BIOS_MAX ? pc->bios_size : PC_ISA_BIOS_MAX;
    uint64_t isa_base = PC_HIGH_RAM_BASE - isa;
    as_remove(&m->as, base);
    if (attr & PAM_RE)
        as_add_ram(&m->as, "pam-ram", base, size, m->ram + base, !(attr & PAM_WE));
    else if (base >= isa_base)
        as_add_ram(&m->as, "isa-bios", base, size,
                   pc->bios + pc->bios_size - isa + (base - isa_base), true);
}

static void pc_pam_changed(void *opaque, const uint8_t pam[I440FX_NPAM])
{
    Pc *pc = opaque;
    if (pc->pam_valid && !memcmp(pc->pam, pam, sizeof(pc->pam)))
        return;
    for (int n = 0; n < I440FX_NPAM; n++) {
        if (n == 0) {
            pc_pam_segment(pc, 0xf0000, 0x10000, pam[0] >> 4);
            continue;
        }
        uint64_t b = 0xc0000 + (uint64_t)(n - 1) * 0x8000;
        pc_pam_segment(pc, b, 0x4000, pam[n] & 0xf);
        pc_pam_segment(pc, b + 0x4000, 0x4000, pam[n] >> 4);
    }
    memcpy(pc->pam, pam, sizeof(pc->pam));
    pc->pam_valid = true;
    /* Translations and decoded code of the old mappings are stale. */
    if (pc->cpu) {
        x86_tlb_flush(pc->cpu, false);
        x86_code_flush(pc->cpu);
    }
}

static void pc_describe_irqs(Machine *m, GString *s)
{
    Pc *pc = m->board_state;
    lapic_describe(pc->lapic, s);
    g_string_append(s, "\n  ");
    ioapic_describe(pc->ioapic, s);
    g_string_append(s, "\n  ");
    i8259_describe(pc->pic, s);
}

static void pc_reset(Machine *m)
{
    Pc *pc = m->board_state;
    /* RAM keeps its contents across a reset, as on QEMU's pc; the ROM is
     * read-only for the guest. */
    /* Through the CPU's ops: on KVM the state is put back before it runs. */
    m->cpu_ops->reset(m->cpu);
    if (pc->mb) {
        GError *err = NULL;
        if (!multiboot_reset(pc->mb, pc->cpu, &err)) {
            machine_set_error(m, "reset: %s", err->message);
            g_error_free(err);
        }
    }
    if (pc->lb) {
        GError *err = NULL;
        /* What the firmware would do: the ACPI tables name this block. */
        piix4_pm_set_base(pc->pm, PC_ACPI_PM_BASE);
        piix_ide_firmware_setup(pc->ide, PC_IDE_BMIBA);
        pc_nics_firmware(pc->pci, &pc->nics);
        pc_audio_firmware(pc->pci);
        pc_virtio_firmware(pc->pci);
        if (!linuxboot_reset(pc->lb, pc->cpu, &err)) {
            machine_set_error(m, "reset: %s", err->message);
            g_error_free(err);
        }
    }
}

static void pc_destroy(void *dev)
{
    Pc *pc = dev;
    multiboot_free(pc->mb);
    linuxboot_free(pc->lb);
    drives_close(pc->drives);
    g_free(pc->bios);
    g_free(pc);
}

/* Snapshots.  The board's guest-visible state is all in its devices:
 * PAM and SMRAM in the i440FX's configuration space, the reset control
 * register in the PIIX3 (i440fx.c), the A20 gate in the i8042's output
 * port (not wired to the CPU).  What the board keeps itself is derived:
 * the PAM mappings of 0xC0000-0xFFFFF and the copy of PAM they were made
 * from.  The board loads first (it registers before its devices), so its
 * load forgets that copy, and the i440FX's load, once the PCI bus has
 * restored the registers, maps the segments again exactly as a guest
 * write of those PAM values would, with no effect on the guest. */
#define PC_SNAP_VERSION 1

static int pc_save(void *dev, void *w)
{
    snap_put_u8(w, PC_SNAP_VERSION);
    return 0;
}

static int pc_load(void *dev, void *r)
{
    Pc *pc = dev;
    uint8_t v = snap_get_u8(r);
    if (snap_reader_ok(r) && v != PC_SNAP_VERSION)
        snap_reader_fail(r, "pc state layout version %u (this build reads %u)", v,
                         PC_SNAP_VERSION);
    if (!snap_reader_ok(r))
        return -1;
    pc->pam_valid = false;
    return 0;
}

static const DeviceOps pc_ops = {
    .name = "pc",
    .save = pc_save,
    .load = pc_load,
    .destroy = pc_destroy,
};

static bool pc_map_ram(Machine *m, uint64_t size, GError **err)
{
    if (size < PC_HIGH_RAM_BASE + (1u << 20)) {
        tn_error(err, "pc: -m %" G_GUINT64_FORMAT "M is too small (at least 2M)", size >> 20);
        return false;
    }
    uint8_t *ram = machine_alloc_ram_host(m, size, err);
    if (!ram)
        return false;
    uint64_t low = size < PC_BELOW_4G_MAX ? size : PC_BELOW_4G_MAX;
    if (as_add_ram(&m->as, "pc.ram", 0, PC_LOW_RAM_END, ram, false) < 0 ||
        as_add_ram(&m->as, "pc.ram", PC_HIGH_RAM_BASE, low - PC_HIGH_RAM_BASE,
                   ram + PC_HIGH_RAM_BASE, false) < 0 ||
        (size > low &&
         as_add_ram(&m->as, "pc.ram-above-4g", PC_4G, size - low, ram + low, false) < 0)) {
        tn_error(err, "pc: cannot map RAM");
        return false;
    }
    return true;
}

static bool pc_load_bios(Pc *pc, const char *path, GError **err)
{
    gchar *data = NULL;
    gsize len = 0;
    GError *e = NULL;
    if (!g_file_get_contents(path, &data, &len, &e)) {
        tn_error(err, "pc: cannot read BIOS image: %s", e->message);
        g_error_free(e);
        return false;
    }
    if (len == 0 || len % 0x10000 || len > PC_BIOS_MAX) {
        tn_error(err, "pc: BIOS image '%s' is %zu bytes; it must be a non-zero multiple "
                 "of 64 KiB, at most 16 MiB", path, (size_t)len);
        g_free(data);
        return false;
    }
    pc->bios = (uint8_t *)data;
    pc->bios_size = len;
    /* The low alias (0xE0000 up) is mapped by the PAM segments. */
    if (as_add_ram(&pc->m->as, "pc.bios", PC_4G - len, len, pc->bios, true) < 0) {
        tn_error(err, "pc: cannot map the BIOS image");
        return false;
    }
    return true;
}

/* CMOS contents as QEMU's pc sets them (memory sizes, CPUs, checksum). */
static void pc_cmos(Pc *pc, uint64_t ram)
{
    Mc146818 *r = pc->rtc;
    uint64_t low = ram < PC_BELOW_4G_MAX ? ram : PC_BELOW_4G_MAX;
    uint64_t ext = (low - PC_HIGH_RAM_BASE) >> 10;    /* KiB above 1 MiB */
    if (ext > 0xffff)
        ext = 0xffff;
    uint64_t above16 = low > (16u << 20) ? (low - (16u << 20)) >> 16 : 0;
    if (above16 > 0xffff)
        above16 = 0xffff;
    uint64_t above4g = (ram - low) >> 16;
    mc146818_cmos_set(r, 0x14, 0x06);                 /* FPU, 80x25 colour */
    mc146818_cmos_set(r, 0x15, 640 & 0xff);
    mc146818_cmos_set(r, 0x16, 640 >> 8);
    mc146818_cmos_set(r, 0x17, ext & 0xff);
    mc146818_cmos_set(r, 0x18, ext >> 8);
    mc146818_cmos_set(r, 0x30, ext & 0xff);
    mc146818_cmos_set(r, 0x31, ext >> 8);
    mc146818_cmos_set(r, 0x34, above16 & 0xff);
    mc146818_cmos_set(r, 0x35, above16 >> 8);
    mc146818_cmos_set(r, 0x5b, above4g & 0xff);
    mc146818_cmos_set(r, 0x5c, (above4g >> 8) & 0xff);
    mc146818_cmos_set(r, 0x5d, (above4g >> 16) & 0xff);
    mc146818_cmos_set(r, 0x5f, 0);                    /* CPUs - 1 */
    /* Boot order: QEMU's default "cad" (hard disk, floppy, CD-ROM; codes
     * 2, 1, 3), floppy boot-sector check on. */
    mc146818_cmos_set(r, 0x3d, 0x12);
    mc146818_cmos_set(r, 0x38, 0x30);
    unsigned sum = 0;
    for (unsigned i = 0x10; i <= 0x2d; i++)
        sum += mc146818_cmos_get(r, i);
    mc146818_cmos_set(r, 0x2e, (uint8_t)(sum >> 8));
    mc146818_cmos_set(r, 0x2f, (uint8_t)sum);
}

/* What SeaBIOS reads from fw_cfg: RAM size, CPUs, the e820 map, and the
 * serial console when there is no display. */
static void pc_fw_cfg(Pc *pc, uint64_t ram)
{
    FwCfg *f = pc->fw_cfg;
    uint64_t low = ram < PC_BELOW_4G_MAX ? ram : PC_BELOW_4G_MAX;
    fw_cfg_add_i64(f, FW_CFG_RAM_SIZE, ram);
    fw_cfg_add_i16(f, FW_CFG_NB_CPUS, 1);
    fw_cfg_add_i16(f, FW_CFG_MAX_CPUS, 1);
    fw_cfg_add_i16(f, FW_CFG_NOGRAPHIC, pc->m->opts->nographic);
    fw_cfg_add_i16(f, FW_CFG_BOOT_DEVICE, 'c');       /* QEMU's default order "cad" */
    uint8_t e820[2 * 20] = { 0 };
    size_t n = 0;
    uint64_t ents[2][2] = { { 0, low }, { PC_4G, ram - low } };
    for (int i = 0; i < 2; i++) {
        if (!ents[i][1])
            continue;
        uint8_t *e = e820 + 20 * n++;
        for (int b = 0; b < 8; b++) {
            e[b] = (uint8_t)(ents[i][0] >> (8 * b));
            e[8 + b] = (uint8_t)(ents[i][1] >> (8 * b));
        }
        e[16] = 1;                                    /* E820_RAM */
    }
    fw_cfg_add_file(f, "etc/e820", e820, 20 * n);
    if (pc->m->opts->nographic) {
        uint8_t port[2] = { 0xf8, 0x03 };             /* COM1 */
        fw_cfg_add_file(f, "etc/sercon-port", port, sizeof(port));
    }
    /* QEMU's default -boot reboot-timeout: SeaBIOS does not retry. */
    uint8_t no_retry[4] = { 0xff, 0xff, 0xff, 0xff };
    fw_cfg_add_file(f, "etc/boot-fail-wait", no_retry, sizeof(no_retry));
}

static bool pc_attach_disk(Pc *pc, Drive *d, int bus, int unit, const char *serial,
                           GError **err)
{
    char user[32], sn[21];
    g_snprintf(user, sizeof(user), "ide-hd on ide.%d unit %d", bus, unit);
    if (!serial) {
        g_snprintf(sn, sizeof(sn), "TD%05d", ++pc->disk_serial);
        serial = sn;
    }
    if (!drive_claim(d, user, err))
        return false;
    GError *e = NULL;
    if (!ide_attach_disk(piix_ide_bus(pc->ide, bus), unit, d->blk, serial, &e)) {
        tn_error(err, "drive %s: %s", drive_name(d), e->message);
        g_error_free(e);
        return false;
    }
    return true;
}

/* -device ide-hd,drive=ID[,bus=ide.0|ide.1][,unit=0|1][,serial=S]. */
static bool pc_ide_hd(Pc *pc, const char *spec, GError **err)
{
    static const char *const keys[] = { "drive", "bus", "unit", "serial", NULL };
    g_autofree char *busname = NULL, *serial = NULL, *unitval = NULL;
    uint64_t unit = 0;
    if (!device_spec_check(spec, keys, err))
        return false;
    Drive *d = drives_for_device(pc->drives, spec, "ide", err);
    if (!d)
        return false;
    bool has_unit = device_spec_prop(spec, "unit", &unitval);
    if (!device_spec_uint(spec, "unit", 0, 1, &unit, err))
        return false;
    int bus = -1;
    if (device_spec_prop(spec, "bus", &busname)) {
        if (!strcmp(busname, "ide.0")) {
            bus = 0;
        } else if (!strcmp(busname, "ide.1")) {
            bus = 1;
        } else {
            tn_error(err, "-device %s: bus=%s: the pc has ide.0 and ide.1", spec, busname);
            return false;
        }
    }
    device_spec_prop(spec, "serial", &serial);
    if (serial && strlen(serial) > 20) {
        tn_error(err, "-device %s: serial=%s is longer than 20 characters", spec, serial);
        return false;
    }
    /* Without bus/unit: the first free position, as QEMU does. */
    for (int pos = 0; pos < 4 && (bus < 0 || !has_unit); pos++) {
        int b = pos / 2, u = pos % 2;
        if ((bus >= 0 && b != bus) || ide_unit_used(piix_ide_bus(pc->ide, b), u))
            continue;
        bus = b;
        unit = (uint64_t)u;
        has_unit = true;
    }
    if (bus < 0 || !has_unit) {
        tn_error(err, "-device %s: no free IDE position%s", spec, bus < 0 ? "s" : " on this bus");
        return false;
    }
    if (ide_unit_used(piix_ide_bus(pc->ide, bus), (int)unit)) {
        tn_error(err, "-device %s: ide.%d unit %d already has a disk", spec, bus, (int)unit);
        return false;
    }
    return pc_attach_disk(pc, d, bus, (int)unit, serial, err);
}

/* A virtio-blk-pci disk at devfn (-1: the first free slot from 3). */
static bool pc_virtio_blk(Pc *pc, Drive *d, const char *serial, int devfn, GError **err)
{
    if (devfn < 0)
        devfn = pc_pci_free_devfn(pc->pci);
    if (devfn < 0) {
        tn_error(err, "drive %s: no free PCI slot for its virtio-blk-pci", drive_name(d));
        return false;
    }
    char user[48];
    g_snprintf(user, sizeof(user), "virtio-blk-pci at 00:%02x.%x", PCI_SLOT(devfn),
               PCI_FUNC(devfn));
    if (!drive_claim(d, user, err))
        return false;
    GError *e = NULL;
    VirtioPci *t = virtio_pci_create(pc->m, pc->pci, devfn, &pc->m->as, VIRTIO_ID_BLOCK, &e);
    if (!t || !virtio_blk_create(pc->m, virtio_pci_slot(t), d->blk, serial, &e)) {
        tn_error(err, "drive %s: %s", drive_name(d), e->message);
        g_error_free(e);
        return false;
    }
    return true;
}

/* -device virtio-blk-pci,drive=ID[,serial=S][,addr=SLOT[.FN]]. */
static bool pc_virtio_blk_device(Pc *pc, const char *spec, GError **err)
{
    static const char *const keys[] = { "drive", "serial", "addr", "id", NULL };
    g_autofree char *serial = NULL, *addr = NULL;
    if (!device_spec_check(spec, keys, err))
        return false;
    Drive *d = drives_for_device(pc->drives, spec, "virtio", err);
    if (!d)
        return false;
    int devfn;
    if (!pc_device_devfn(spec, &addr, &devfn, err))
        return false;
    device_spec_prop(spec, "serial", &serial);
    return pc_virtio_blk(pc, d, serial, devfn, err);
}

/* -drive if=ide drives (-hda ...) first, at their index, then -device
 * ide-hd; then -device virtio-blk-pci and the if=virtio drives (QEMU's
 * order: the -device ones first). */
static bool pc_disks(Pc *pc, GError **err)
{
    Machine *m = pc->m;
    pc->drives = drives_open(m->opts->drives, m->opts->ndrives, m->opts->rr_mode,
                             m->opts->rr_snapshot != NULL, err);
    m->drives = pc->drives;          /* savevm/loadvm find them there */
    /* blkreplay drives: each request logged (record) or checked (replay). */
    drives_observe(pc->drives, rr_block_observer, m);
    if (!pc->drives)
        return false;
    for (int i = 0; i < DRIVE_IDE_INDEXES; i++) {
        Drive *d = drives_ide(pc->drives, i);
        if (d && !pc_attach_disk(pc, d, i / 2, i % 2, NULL, err))
            return false;
    }
    const char *spec;
    while ((spec = machine_take_device(m, "ide-hd")))
        if (!pc_ide_hd(pc, spec, err))
            return false;
    while ((spec = machine_take_device(m, "virtio-blk-pci")))
        if (!pc_virtio_blk_device(pc, spec, err))
            return false;
    for (int i = 0; i < pc->drives->n; i++) {
        Drive *d = &pc->drives->d[i];
        if (d->iface == DRIVE_IF_VIRTIO && !pc_virtio_blk(pc, d, NULL, -1, err))
            return false;
    }
    return true;
}

static void pc_key(void *opaque, int keycode, bool down)
{
    ps2_kbd_key(i8042_kbd(opaque), keycode, down);
}

static void pc_mouse(void *opaque, int dx, int dy, int dz, unsigned buttons)
{
    ps2_mouse_move(i8042_mouse(opaque), dx, dy, dz, buttons);
}

static const InputOps pc_input = { .key = pc_key, .mouse = pc_mouse };

static bool pc_devices(Pc *pc, uint64_t ram, GError **err)
{
    Machine *m = pc->m;
    X86CPU *cpu = pc->cpu;
    if (m->nserial > 4) {
        tn_error(err, "pc has 4 serial ports, but %d were given", m->nserial);
        return false;
    }
#define NEED(x, what) do { if (!(x)) { \
        tn_error(err, "pc: %s: %s", what, m->error ? m->error : "cannot create"); \
        return false; } } while (0)
    /* Interrupts: 8259 -> LAPIC LINT0 (ExtINT) -> CPU; ISA IRQs also go to
     * the I/O APIC. */
    pc->lapic = lapic_create(m, irq_line(pc_cpu_intr, pc, 0), pc_cpu_nmi, pc);
    NEED(pc->lapic, "local APIC");
    cpu->has_apic = true;
    cpu->apic = pc->lapic;
    cpu->apic_set_base = pc_apic_set_base;
    cpu->apic_set_tpr = pc_apic_set_tpr;
    cpu->apic_get_tpr = pc_apic_get_tpr;
    cpu->intr_ack = pc_intr_ack;
    cpu->intr_opaque = pc->lapic;
    pc->pic = i8259_create(m, &m->io, lapic_lint0(pc->lapic));
    NEED(pc->pic, "i8259");
    lapic_set_extint(pc->lapic, pc_pic_ack, pc_pic_pending, pc->pic);
    pc->ioapic = ioapic_create(m, pc->lapic);
    NEED(pc->ioapic, "I/O APIC");
    for (int i = 0; i < 16; i++) {
        pc->pic_in[i] = i8259_input(pc->pic, i);
        pc->ioapic_in[i] = ioapic_input(pc->ioapic, i == 0 ? 2 : i);
    }
    NEED(i8254_create(m, &m->io, pc_isa(pc, 0)), "i8254");
    if (as_add_mmio(&m->io, "apm", 0xb2, 2, &apm_ops, pc) < 0) {
        tn_error(err, "pc: cannot map the APM ports");
        return false;
    }
    pc->rtc = mc146818_create(m, &m->io, 0x70, pc_isa(pc, 8));
    NEED(pc->rtc, "RTC");
    pc_cmos(pc, ram);
    I8042 *kbc = i8042_create(m, &m->io, pc_isa(pc, 1), pc_isa(pc, 12));
    NEED(kbc, "i8042");
    input_register(m, &pc_input, kbc);
    pc->fw_cfg = fw_cfg_create(m, &m->io, FW_CFG_IO_BASE);
    NEED(pc->fw_cfg, "fw_cfg");
    pc_fw_cfg(pc, ram);
    pc->pci = pci_bus_create(m, &m->io);
    NEED(pc->pci, "PCI bus");
    I440fxConfig c = { .pam_changed = pc_pam_changed, .opaque = pc };
    for (int i = 0; i < 16; i++)
        c.isa_irq[i] = pc_isa(pc, i);
    NEED(i440fx_create(m, pc->pci, &c), "i440FX");
    pc->pm = piix4_pm_create(m, pc->pci, PCI_DEVFN(1, 3), &m->io, pc_isa(pc, PC_ACPI_SCI_IRQ));
    NEED(pc->pm, "PIIX4 power management");
    pc->ide = piix_ide_create(m, pc->pci, PCI_DEVFN(1, 1), &m->io, pc_isa(pc, 14),
                              pc_isa(pc, 15), err);
    if (!pc->ide)
        return false;
#undef NEED
    /* COM1 exists even without a backend (output discarded), as on a PC. */
    int ncom = m->nserial > 1 ? m->nserial : 1;
    for (int i = 0; i < ncom; i++) {
        if (!ns16550a_create_in(m, &m->io, pc_com_ports[i], NS16550A_PIO_SIZE,
                                machine_serial(m, i), pc_isa(pc, pc_com_irqs[i]))) {
            tn_error(err, "pc: %s", m->error ? m->error : "cannot create COM port");
            return false;
        }
    }
    const char *spec;
    while ((spec = machine_take_device(m, "isa-debug-exit")))
        if (!isa_debug_exit_from_spec(m, &m->io, spec, err))
            return false;
    if (!pc_nics_create(m, pc->pci, &pc->nics, err))
        return false;
    if (!pc_audio_create(m, pc->pci, err))
        return false;
    return pc_disks(pc, err);
}

static bool pc_init(Machine *m, int variant, GError **err)
{
    const Options *o = m->opts;
    if (!o->kernel && (o->initrd || o->append)) {
        tn_error(err, "pc: -initrd and -append need -kernel");
        return false;
    }
    if (o->bios && !strcmp(o->bios, "none")) {
        tn_error(err, "pc: -bios none: the PC starts in its BIOS ROM; give a BIOS image "
                 "(the default is Debian's SeaBIOS, %s)", PC_DEFAULT_BIOS);
        return false;
    }
    Pc *pc = g_new0(Pc, 1);
    pc->m = m;
    machine_add_device(m, &pc_ops, pc);
    m->board_state = pc;

    uint64_t ram = o->ram_size ? o->ram_size : 128ull << 20;
    if (!pc_map_ram(m, ram, err) || !pc_load_bios(pc, o->bios ? o->bios : PC_DEFAULT_BIOS, err))
        return false;

    pc->cpu = x86_cpu_create(m, variant);
    if (!pc->cpu) {
        tn_error(err, "pc: cannot create the CPU");
        return false;
    }
    m->cpu = pc->cpu;
    m->cpu_ops = &x86_cpu_ops;
    m->icount = &pc->cpu->icount;

    if (!pc_devices(pc, ram, err))
        return false;
    m->board_reset = pc_reset;
    m->board_describe_irqs = pc_describe_irqs;
    x86_cpu_reset(pc->cpu);
    if (o->kernel) {
        uint8_t *img;
        size_t len;
        if (!load_file("kernel", o->kernel, &img, &len, err))
            return false;
        uint64_t low = ram < PC_BELOW_4G_MAX ? ram : PC_BELOW_4G_MAX;
        if (multiboot_is_multiboot(img, len)) {
            pc->mb = multiboot_load(pc->cpu, o->kernel, img, len, o->append, o->initrd, low,
                                    err);
        } else if (linuxboot_is_linux(img, len)) {
            piix4_pm_set_base(pc->pm, PC_ACPI_PM_BASE);
            piix_ide_firmware_setup(pc->ide, PC_IDE_BMIBA);
            pc_nics_firmware(pc->pci, &pc->nics);
            pc_audio_firmware(pc->pci);
            pc_virtio_firmware(pc->pci);
            pc->lb = linuxboot_load(pc->cpu, img, len, o->append, o->initrd, low, ram - low,
                                    err);
        } else {
            tn_error(err, "pc: -kernel %s: not a multiboot kernel (no multiboot header in "
                     "its first 8 KiB) and not a Linux bzImage (no \"HdrS\" setup header)",
                     o->kernel);
        }
        g_free(img);
        if (!pc->mb && !pc->lb) {
            if (err && !*err)
                tn_error(err, "pc: -kernel %s: cannot be loaded", o->kernel);
            return false;
        }
    }
    return true;
}

static bool pc_kvm_init(Machine *m, GError **err)
{
    Pc *pc = m->board_state;
    if (m->opts->rr_mode == 2 && !m->opts->kvm_switch)
        return x86_stepper_attach(m, pc->cpu, err) != NULL;
    if (m->opts->kvm_switch)
        return x86_switch_attach(m, pc->cpu, m->opts->kvm_switch_seed,
                                 m->opts->kvm_switch_max, m->opts->kvm_switch_kvm_max,
                                 err) != NULL;
    pc->kvm = x86_kvm_attach(m, pc->cpu, err);
    return pc->kvm != NULL;
}

static const char *const pc_device_list[] = { "isa-debug-exit", "ide-hd", "rtl8139",
                                              "virtio-blk-pci", "virtio-net-pci", NULL };

const BoardDesc x86_pc_board = {
    .name = "pc",
    .desc = "Standard PC (i440FX + PIIX3; -bios images)",
    .init = pc_init,
    .devices = pc_device_list,
    .nic_model = "rtl8139",
    .kvm_init = pc_kvm_init,
};
