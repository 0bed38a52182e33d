/* The PC board, laid out like QEMU's i440FX "pc":
 *
 *   0x00000000 - 0x0009ffff   RAM (conventional memory)
 *   0x000a0000 - 0x000dffff   unassigned (VGA window, option ROMs)
 *   0x000e0000 - 0x000fffff   the last 128 KiB of the BIOS image (read-only)
 *   0x00100000 - low end      RAM (up to 3.5 GiB)
 *   4 GiB - BIOS size         the whole BIOS image (read-only)
 *   4 GiB -                   RAM above 3.5 GiB
 *
 * Port I/O: COM1..COM4 (16550A at 0x3f8, 0x2f8, 0x3e8, 0x2e8) and the
 * -device isa-debug-exit port.  The chipset (i8259, PIT, RTC/CMOS, fw_cfg,
 * PCI), the local/IO APIC and the loading of SeaBIOS, multiboot and Linux
 * images are the PC machine's work (issue 5): until then the board runs
 * bare-metal images given with -bios, and says so for anything else. */
#include "targets/x86/pc.h"

#include <errno.h>
#include <string.h>

#include "devices/isa_debug_exit.h"
#include "devices/ns16550a.h"
#include "targets/x86/cpu.h"
#include "vmm/error.h"
#include "vmm/machine.h"

#define PC_LOW_RAM_END   0xa0000ull
#define PC_HIGH_RAM_BASE 0x100000ull
#define PC_BELOW_4G_MAX  0xe0000000ull
#define PC_4G            0x100000000ull
#define PC_ISA_BIOS_MAX  0x20000ull
#define PC_BIOS_MAX      (16ull << 20)

static const uint16_t pc_com_ports[4] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };

typedef struct Pc {
    Machine *m;
    X86CPU *cpu;
    uint8_t *bios;
    size_t bios_size;
} Pc;

static void pc_reset(Machine *m)
{
    Pc *pc = m->board_state;
    /* RAM keeps its contents across a reset, as on QEMU's pc; the ROM is
     * read-only for the guest. */
    x86_cpu_reset(pc->cpu);
}

static void pc_destroy(void *dev)
{
    Pc *pc = dev;
    g_free(pc->bios);
    g_free(pc);
}

static const DeviceOps pc_ops = {
    .name = "pc",
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
    size_t isa = len < PC_ISA_BIOS_MAX ? len : PC_ISA_BIOS_MAX;
    if (as_add_ram(&pc->m->as, "pc.bios", PC_4G - len, len, pc->bios, true) < 0 ||
        as_add_ram(&pc->m->as, "isa-bios", PC_HIGH_RAM_BASE - isa, isa,
                   pc->bios + len - isa, true) < 0) {
        tn_error(err, "pc: cannot map the BIOS image");
        return false;
    }
    return true;
}

static bool pc_devices(Pc *pc, GError **err)
{
    Machine *m = pc->m;
    if (m->nserial > 4) {
        tn_error(err, "pc has 4 serial ports, but %d were given", m->nserial);
        return false;
    }
    /* COM1 exists even without a backend (output discarded), as on a PC. */
    int ncom = m->nserial > 1 ? m->nserial : 1;
    for (int i = 0; i < ncom; i++) {
        /* No interrupt controller yet: the UARTs are polled. */
        if (!ns16550a_create_in(m, &m->io, pc_com_ports[i], NS16550A_PIO_SIZE,
                                machine_serial(m, i), irq_line(NULL, NULL, 0))) {
            tn_error(err, "pc: %s", m->error ? m->error : "cannot create COM port");
            return false;
        }
    }
    const char *spec;
    while ((spec = machine_take_device(m, "isa-debug-exit")))
        if (!isa_debug_exit_from_spec(m, &m->io, spec, err))
            return false;
    return true;
}

static bool pc_init(Machine *m, int variant, GError **err)
{
    const Options *o = m->opts;
    if (o->kernel || o->initrd || o->append) {
        tn_error(err, "pc: -kernel/-initrd/-append (Linux and multiboot loading) are not "
                 "implemented yet; run a bare-metal image with -bios FILE");
        return false;
    }
    if (!o->bios || !strcmp(o->bios, "none")) {
        tn_error(err, "pc: booting the default firmware (SeaBIOS) needs the PC chipset "
                 "(i8259, PIT, RTC, fw_cfg, PCI), which is not implemented yet; give a "
                 "bare-metal image with -bios FILE");
        return false;
    }
    Pc *pc = g_new0(Pc, 1);
    pc->m = m;
    machine_add_device(m, &pc_ops, pc);
    m->board_state = pc;

    if (!pc_map_ram(m, o->ram_size ? o->ram_size : 128ull << 20, err) ||
        !pc_load_bios(pc, o->bios, err))
        return false;

    pc->cpu = x86_cpu_create(m, variant);
    if (!pc->cpu) {
        tn_error(err, "pc: cannot create the CPU");
        return false;
    }
    m->cpu = pc->cpu;
    m->cpu_ops = &x86_cpu_ops;
    m->icount = &pc->cpu->icount;

    if (!pc_devices(pc, err))
        return false;
    m->board_reset = pc_reset;
    x86_cpu_reset(pc->cpu);
    return true;
}

static const char *const pc_device_list[] = { "isa-debug-exit", NULL };

const BoardDesc x86_pc_board = {
    .name = "pc",
    .desc = "Standard PC (i440FX layout; bare-metal images, chipset pending)",
    .init = pc_init,
    .devices = pc_device_list,
};
