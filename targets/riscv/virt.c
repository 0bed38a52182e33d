/* The RISC-V "virt" board (QEMU 7.2 layout). */
#include "targets/riscv/virt.h"

#include <elf.h>
#include <inttypes.h>
#include <libfdt.h>
#include <stdarg.h>
#include <string.h>

#include "block/drive.h"
#include "checkpoint/snap.h"
#include "devices/goldfish_rtc.h"
#include "devices/ns16550a.h"
#include "devices/riscv_aclint.h"
#include "devices/riscv_plic.h"
#include "devices/sifive_test.h"
#include "devices/virtio_blk.h"
#include "devices/virtio_mmio.h"
#include "devices/virtio_net.h"
#include "rr/rr.h"
#include "targets/riscv/cpu.h"
#include "vmm/error.h"
#include "vmm/loader.h"
#include "vmm/machine.h"
#include "vmm/options.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define ALIGN_DOWN(x, a) ((x) / (a) * (a))

/* Room left in a tree for /chosen edits before it is packed. */
#define FDT_SLACK 0x10000

typedef struct RiscvVirt {
    Machine *m;
    RiscvCPU *cpu;
    uint8_t *mrom;
    VirtioMmio *virtio[VIRT_VIRTIO_COUNT];   /* by address */
    int virtio_used;         /* transports taken, in riscv_virt_virtio order */
    int nics;                /* virtio-net cards */
    DriveSet *drives;        /* -drive */
    LoadMap images;          /* written back on reset, as QEMU reloads ROMs */
} RiscvVirt;

/* ---- device tree ---- */

/* The sequential-write API with a sticky error, so the builder reads as a
 * listing of the tree. */
typedef struct FdtW {
    void *fdt;
    int err;
} FdtW;

static void fw_check(FdtW *w, int r)
{
    if (r < 0 && !w->err)
        w->err = r;
}

static void __attribute__((format(printf, 2, 3)))
fw_begin(FdtW *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *name = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    fw_check(w, fdt_begin_node(w->fdt, name));
    g_free(name);
}

static void fw_end(FdtW *w)
{
    fw_check(w, fdt_end_node(w->fdt));
}

static void fw_u32(FdtW *w, const char *name, uint32_t v)
{
    fw_check(w, fdt_property_u32(w->fdt, name, v));
}

static void fw_str(FdtW *w, const char *name, const char *s)
{
    fw_check(w, fdt_property_string(w->fdt, name, s));
}

static void fw_empty(FdtW *w, const char *name)
{
    fw_check(w, fdt_property(w->fdt, name, NULL, 0));
}

/* A string list; the strings are given with their NULs ("a\0b"). */
static void fw_strs(FdtW *w, const char *name, const char *s, size_t len)
{
    fw_check(w, fdt_property(w->fdt, name, s, (int)len));
}
#define FW_STRS(w, name, lit) fw_strs((w), (name), (lit), sizeof(lit))

static void fw_cells(FdtW *w, const char *name, const uint32_t *v, int n)
{
    fdt32_t be[8];
    g_assert(n <= 8);
    for (int i = 0; i < n; i++)
        be[i] = cpu_to_fdt32(v[i]);
    fw_check(w, fdt_property(w->fdt, name, be, n * (int)sizeof(fdt32_t)));
}

/* reg = <addr size> with #address-cells = #size-cells = 2. */
static void fw_reg(FdtW *w, uint64_t base, uint64_t size)
{
    uint32_t c[4] = { (uint32_t)(base >> 32), (uint32_t)base,
                      (uint32_t)(size >> 32), (uint32_t)size };
    fw_cells(w, "reg", c, 4);
}

/* A PLIC-routed device: interrupts, interrupt-parent, reg, compatible (the
 * property order QEMU writes). */
static void fw_plic_dev(FdtW *w, const char *name, uint64_t base,
                        uint64_t size, uint32_t irq, const char *compat)
{
    fw_begin(w, "%s@%" PRIx64, name, base);
    fw_u32(w, "interrupts", irq);
    fw_u32(w, "interrupt-parent", VIRT_PHANDLE_PLIC);
    if (!strcmp(name, "serial"))
        fw_u32(w, "clock-frequency", NS16550A_CLOCK_HZ);
    fw_reg(w, base, size);
    fw_str(w, "compatible", compat);
    fw_end(w);
}

static void fdt_build(FdtW *w, int xlen, uint64_t ram_size)
{
    const char *isa = xlen == 32 ? "rv32imafdc_zicsr_zifencei_zihintpause"
                                 : "rv64imafdc_zicsr_zifencei_zihintpause";

    fw_check(w, fdt_finish_reservemap(w->fdt));
    fw_begin(w, "%s", "");
    fw_u32(w, "#address-cells", 2);
    fw_u32(w, "#size-cells", 2);
    fw_str(w, "compatible", "riscv-virtio");
    fw_str(w, "model", "riscv-virtio,qemu");

    /* No rng-seed: a host-random seed would break record/replay. */
    fw_begin(w, "chosen");
    fw_str(w, "stdout-path", "/soc/serial@10000000");
    fw_end(w);

    fw_begin(w, "poweroff");
    fw_u32(w, "value", SIFIVE_TEST_PASS);
    fw_u32(w, "offset", 0);
    fw_u32(w, "regmap", VIRT_PHANDLE_TEST);
    fw_str(w, "compatible", "syscon-poweroff");
    fw_end(w);

    fw_begin(w, "reboot");
    fw_u32(w, "value", SIFIVE_TEST_RESET);
    fw_u32(w, "offset", 0);
    fw_u32(w, "regmap", VIRT_PHANDLE_TEST);
    fw_str(w, "compatible", "syscon-reboot");
    fw_end(w);

    fw_begin(w, "memory@%" PRIx64, VIRT_DRAM_BASE);
    fw_str(w, "device_type", "memory");
    fw_reg(w, VIRT_DRAM_BASE, ram_size);
    fw_end(w);

    fw_begin(w, "cpus");
    fw_u32(w, "#address-cells", 1);
    fw_u32(w, "#size-cells", 0);
    fw_u32(w, "timebase-frequency", RISCV_ACLINT_TIMEBASE_HZ);
    fw_begin(w, "cpu@0");
    fw_u32(w, "phandle", VIRT_PHANDLE_CPU0);
    fw_str(w, "device_type", "cpu");
    fw_u32(w, "reg", 0);
    fw_str(w, "status", "okay");
    fw_str(w, "compatible", "riscv");
    fw_str(w, "riscv,isa", isa);
    fw_str(w, "mmu-type", xlen == 32 ? "riscv,sv32" : "riscv,sv48");
    fw_begin(w, "interrupt-controller");
    fw_u32(w, "#interrupt-cells", 1);
    fw_empty(w, "interrupt-controller");
    fw_str(w, "compatible", "riscv,cpu-intc");
    fw_u32(w, "phandle", VIRT_PHANDLE_INTC0);
    fw_end(w);
    fw_end(w);                           /* cpu@0 */
    fw_begin(w, "cpu-map");
    fw_begin(w, "cluster0");
    fw_begin(w, "core0");
    fw_u32(w, "cpu", VIRT_PHANDLE_CPU0);
    fw_end(w);
    fw_end(w);
    fw_end(w);                           /* cpu-map */
    fw_end(w);                           /* cpus */

    fw_begin(w, "soc");
    fw_u32(w, "#address-cells", 2);
    fw_u32(w, "#size-cells", 2);
    fw_str(w, "compatible", "simple-bus");
    fw_empty(w, "ranges");

    fw_plic_dev(w, "rtc", VIRT_RTC_BASE, VIRT_RTC_SIZE, VIRT_RTC_IRQ,
                "google,goldfish-rtc");
    fw_plic_dev(w, "serial", VIRT_UART0_BASE, VIRT_UART0_SIZE, VIRT_UART0_IRQ,
                "ns16550a");

    fw_begin(w, "test@%" PRIx64, VIRT_TEST_BASE);
    fw_u32(w, "phandle", VIRT_PHANDLE_TEST);
    fw_reg(w, VIRT_TEST_BASE, VIRT_TEST_SIZE);
    FW_STRS(w, "compatible", "sifive,test1\0sifive,test0\0syscon");
    fw_end(w);

    /* Highest transport first, as QEMU: Linux probes in tree order, so the
     * first virtio device given on the command line (placed on the last
     * transport) becomes vda / eth0. */
    for (int i = VIRT_VIRTIO_COUNT - 1; i >= 0; i--)
        fw_plic_dev(w, "virtio_mmio", VIRT_VIRTIO_BASE + i * VIRT_VIRTIO_SIZE,
                    VIRT_VIRTIO_SIZE, VIRT_VIRTIO_IRQ + i, "virtio,mmio");

    fw_begin(w, "plic@%" PRIx64, VIRT_PLIC_BASE);
    fw_u32(w, "phandle", VIRT_PHANDLE_PLIC);
    fw_u32(w, "riscv,ndev", VIRT_PLIC_NDEV);
    fw_reg(w, VIRT_PLIC_BASE, VIRT_PLIC_SIZE);
    fw_cells(w, "interrupts-extended", (const uint32_t[]){
        VIRT_PHANDLE_INTC0, RV_IRQ_MEIP, VIRT_PHANDLE_INTC0, RV_IRQ_SEIP }, 4);
    fw_empty(w, "interrupt-controller");
    FW_STRS(w, "compatible", "sifive,plic-1.0.0\0riscv,plic0");
    fw_u32(w, "#address-cells", 0);
    fw_u32(w, "#interrupt-cells", 1);
    fw_end(w);

    fw_begin(w, "clint@%" PRIx64, VIRT_CLINT_BASE);
    fw_cells(w, "interrupts-extended", (const uint32_t[]){
        VIRT_PHANDLE_INTC0, RV_IRQ_MSIP, VIRT_PHANDLE_INTC0, RV_IRQ_MTIP }, 4);
    fw_reg(w, VIRT_CLINT_BASE, VIRT_CLINT_SIZE);
    FW_STRS(w, "compatible", "sifive,clint0\0riscv,clint0");
    fw_end(w);

    fw_end(w);                           /* soc */
    fw_end(w);                           /* root */
    fw_check(w, fdt_finish(w->fdt));
}

void *riscv_virt_create_fdt(int xlen, uint64_t ram_size, GError **err)
{
    const int size = 0x10000;
    FdtW w = { g_malloc0(size), 0 };

    fw_check(&w, fdt_create(w.fdt, size));
    if (!w.err)
        fdt_build(&w, xlen, ram_size);
    if (w.err) {
        tn_error(err, "building the device tree: %s", fdt_strerror(w.err));
        g_free(w.fdt);
        return NULL;
    }
    return w.fdt;
}

static int fdt_set_addr(void *fdt, int node, const char *name, uint64_t v)
{
    /* 32-bit cells when they suffice, as QEMU writes them. */
    if (v >> 32)
        return fdt_setprop_u64(fdt, node, name, v);
    return fdt_setprop_u32(fdt, node, name, (uint32_t)v);
}

bool riscv_virt_fdt_chosen(void **fdt, const char *bootargs,
                           uint64_t initrd_start, uint64_t initrd_end,
                           GError **err)
{
    size_t extra = FDT_SLACK + (bootargs ? strlen(bootargs) : 0);
    int size = (int)(fdt_totalsize(*fdt) + extra);
    void *buf = g_malloc0((size_t)size);
    int r, node;

    r = fdt_open_into(*fdt, buf, size);
    if (r < 0)
        goto fail;
    node = fdt_path_offset(buf, "/chosen");
    if (node == -FDT_ERR_NOTFOUND)
        node = fdt_add_subnode(buf, 0, "chosen");
    if (node < 0) {
        r = node;
        goto fail;
    }
    if (bootargs && *bootargs) {
        r = fdt_setprop_string(buf, node, "bootargs", bootargs);
        if (r < 0)
            goto fail;
    }
    if (initrd_end > initrd_start) {
        r = fdt_set_addr(buf, node, "linux,initrd-start", initrd_start);
        if (r >= 0)
            r = fdt_set_addr(buf, node, "linux,initrd-end", initrd_end);
        if (r < 0)
            goto fail;
    }
    r = fdt_pack(buf);
    if (r < 0)
        goto fail;
    g_free(*fdt);
    *fdt = buf;
    return true;

fail:
    tn_error(err, "device tree /chosen: %s", fdt_strerror(r));
    g_free(buf);
    return false;
}

uint64_t riscv_virt_fdt_addr(uint64_t ram_base, uint64_t ram_size,
                             uint64_t fdt_size)
{
    uint64_t end = ram_base + ram_size;
    /* Below 3 GiB so that 32-bit code can reach it. */
    uint64_t top = ram_base < 3 * GiB ? MIN(end, 3 * GiB) : end;

    if (top < ram_base + fdt_size)
        return 0;
    uint64_t addr = ALIGN_DOWN(top - fdt_size, 2 * MiB);
    return addr >= ram_base ? addr : 0;
}

/* ---- reset vector ---- */

enum { RV_T0 = 5, RV_A0 = 10, RV_A1 = 11, RV_A2 = 12 };

static uint32_t enc_i(uint32_t imm, uint32_t rs1, uint32_t f3, uint32_t rd,
                      uint32_t op)
{
    return (imm & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t riscv_virt_kernel_start(int xlen, uint64_t fw_end)
{
    uint64_t a = xlen == 32 ? 4 * MiB : 2 * MiB;
    return (fw_end + a - 1) / a * a;
}

size_t riscv_virt_rom(uint8_t *rom, int xlen, uint64_t start_addr,
                      uint64_t fdt_addr, uint64_t kernel_entry)
{
    /* Layout: code at 0x00, start_addr at 0x18, fdt_addr at 0x20 (both
     * 8 bytes; RV32 loads the low word), fw_dynamic_info at 0x28. */
    const uint32_t ld = xlen == 32 ? 2 : 3;   /* LW / LD funct3 */
    const uint32_t code[6] = {
        RV_T0 << 7 | 0x17,                           /* auipc t0, 0 */
        enc_i(VIRT_FW_DYN_OFFSET, RV_T0, 0, RV_A2, 0x13), /* addi a2, t0, 40 */
        enc_i(0xf14, 0, 2, RV_A0, 0x73),             /* csrr a0, mhartid */
        enc_i(0x20, RV_T0, ld, RV_A1, 0x03),         /* l[wd] a1, 32(t0) */
        enc_i(0x18, RV_T0, ld, RV_T0, 0x03),         /* l[wd] t0, 24(t0) */
        enc_i(0, RV_T0, 0, 0, 0x67),                 /* jr t0 */
    };
    const int w = xlen / 8;
    /* struct fw_dynamic_info: magic, version, next_addr, next_mode,
     * options, boot_hart; each an unsigned long. */
    const uint64_t info[6] = {
        FW_DYNAMIC_INFO_MAGIC, FW_DYNAMIC_INFO_VERSION, kernel_entry,
        FW_DYNAMIC_INFO_NEXT_MODE_S, 0, 0,
    };

    for (int i = 0; i < 6; i++)
        put_le(rom + 4 * i, code[i], 4);
    put_le(rom + 0x18, start_addr, 8);
    put_le(rom + 0x20, fdt_addr, 8);
    for (int i = 0; i < 6; i++)
        put_le(rom + VIRT_FW_DYN_OFFSET + i * w, info[i], w);
    return VIRT_FW_DYN_OFFSET + 6 * (size_t)w;
}

/* ---- images ---- */

/* Record an image, which must lie in DRAM and overlap no other. */
static bool virt_add_image(RiscvVirt *v, const char *what, const char *file,
                           uint64_t start, uint64_t end, GError **err)
{
    Machine *m = v->m;
    uint64_t ram_end = m->ram_base + m->ram_size;

    if (start < m->ram_base || end > ram_end || end < start) {
        tn_error(err, "%s%s%s%s [0x%" PRIx64 ", 0x%" PRIx64 ") is outside RAM "
                 "[0x%" PRIx64 ", 0x%" PRIx64 ")%s", what, file ? " '" : "",
                 file ? file : "", file ? "'" : "", start, end, m->ram_base,
                 ram_end, end > ram_end ? ": give the machine more memory "
                 "with -m" : "");
        return false;
    }
    return loadmap_add(&v->images, what, file, start, end, err);
}

/* Load an ELF (at its physical addresses) or a raw image at raw_addr.
 * Raw images occupy max(file size, mem_size) bytes. */
static bool virt_load(RiscvVirt *v, const char *what, const char *path,
                      const uint8_t *img, size_t len, uint64_t raw_addr,
                      uint64_t mem_size, uint64_t *lo, uint64_t *hi,
                      uint64_t *entry, GError **err)
{
    int xlen = v->cpu->xlen;
    AddressSpace *as = &v->m->as;

    if (elf_is_elf(img, len)) {
        if (!load_elf(as, img, len, xlen, EM_RISCV, entry, lo, hi, err)) {
            g_prefix_error(err, "%s '%s': ", what, path);
            return false;
        }
    } else {
        *lo = raw_addr;
        *hi = raw_addr + MAX(len, mem_size);
        *entry = raw_addr;
        if (!virt_add_image(v, what, path, *lo, *hi, err))
            return false;
        return load_raw(as, raw_addr, img, len, err);
    }
    return virt_add_image(v, what, path, *lo, *hi, err);
}

typedef struct VirtBoot {
    uint64_t start_addr;     /* where the reset vector jumps */
    uint64_t kernel_entry;   /* fw_dynamic_info.next_addr */
    uint64_t initrd_start, initrd_end;
} VirtBoot;

static bool virt_load_firmware(RiscvVirt *v, uint64_t *fw_end, GError **err)
{
    const char *bios = v->m->opts->bios;
    uint8_t *img;
    size_t len;
    uint64_t lo, hi, entry;

    *fw_end = VIRT_DRAM_BASE;
    if (!bios || !strcmp(bios, "default")) {
        if (v->cpu->xlen == 32) {
            tn_error(err, "no default firmware for riscv32 (Debian ships "
                     "OpenSBI for riscv64 only): pass -bios FILE with an "
                     "rv32 OpenSBI fw_dynamic/fw_jump build, or -bios none "
                     "to start -kernel directly in M mode");
            return false;
        }
        bios = VIRT_DEFAULT_BIOS64;
    }
    if (!strcmp(bios, "none"))
        return true;
    if (!load_file("firmware", bios, &img, &len, err))
        return false;
    /* The reset vector enters firmware at the start of DRAM whatever its
     * ELF entry says, as QEMU. */
    bool ok = virt_load(v, "firmware", bios, img, len, VIRT_DRAM_BASE, 0,
                        &lo, &hi, &entry, err);
    g_free(img);
    if (ok)
        *fw_end = hi;
    return ok;
}

static bool virt_load_kernel(RiscvVirt *v, uint64_t fw_end, bool no_fw,
                             VirtBoot *b, GError **err)
{
    const Options *o = v->m->opts;
    uint8_t *img;
    size_t len;
    uint64_t lo, hi, entry, kstart, mem_size = 0;
    LinuxRiscvImage hdr;

    if (!load_file("kernel", o->kernel, &img, &len, err))
        return false;
    kstart = riscv_virt_kernel_start(v->cpu->xlen, fw_end);
    if (!elf_is_elf(img, len) && linux_riscv_image_parse(img, len, &hdr)) {
        if (hdr.flags & 1) {
            tn_error(err, "kernel '%s' is a big-endian Linux Image", o->kernel);
            g_free(img);
            return false;
        }
        mem_size = hdr.image_size;       /* includes bss */
    }
    bool ok = virt_load(v, "kernel", o->kernel, img, len, kstart, mem_size,
                        &lo, &hi, &entry, err);
    g_free(img);
    if (!ok)
        return false;
    /* Firmware is told the lowest loaded address, not the ELF entry (QEMU:
     * kernels may have an SBI entry distinct from their ELF one).  Without
     * firmware, the reset vector starts the kernel at its entry. */
    b->kernel_entry = lo;
    if (no_fw)
        b->start_addr = entry;

    if (o->initrd) {
        uint64_t start = lo + MIN(v->m->ram_size / 2, 128 * MiB);
        if (!load_file("initrd", o->initrd, &img, &len, err))
            return false;
        ok = virt_add_image(v, "initrd", o->initrd, start, start + len, err) &&
             load_raw(&v->m->as, start, img, len, err);
        g_free(img);
        if (!ok)
            return false;
        b->initrd_start = start;
        b->initrd_end = start + len;
    }
    return true;
}

static void *virt_load_dtb(const char *path, GError **err)
{
    uint8_t *img;
    size_t len;
    int r;

    if (!load_file("device tree", path, &img, &len, err))
        return NULL;
    r = len < sizeof(struct fdt_header) ? -FDT_ERR_TRUNCATED
                                        : fdt_check_header(img);
    if (r == 0 && fdt_totalsize(img) > len)
        r = -FDT_ERR_TRUNCATED;
    if (r == 0)
        r = fdt_check_full(img, len);
    if (r < 0) {
        tn_error(err, "device tree '%s' is not a valid blob: %s", path,
                 fdt_strerror(r));
        g_free(img);
        return NULL;
    }
    return img;
}

static bool virt_boot(RiscvVirt *v, GError **err)
{
    Machine *m = v->m;
    const Options *o = m->opts;
    bool no_fw = o->bios && !strcmp(o->bios, "none");
    VirtBoot b = { .start_addr = VIRT_DRAM_BASE };
    uint64_t fw_end, fdt_addr, fdt_size;
    void *fdt;

    if (!o->kernel && o->initrd) {
        tn_error(err, "-initrd only allowed with -kernel option");
        return false;
    }
    if (!o->kernel && o->append && *o->append) {
        tn_error(err, "-append only allowed with -kernel option");
        return false;
    }
    if (!virt_load_firmware(v, &fw_end, err))
        return false;
    if (o->kernel && !virt_load_kernel(v, fw_end, no_fw, &b, err))
        return false;

    fdt = o->dtb ? virt_load_dtb(o->dtb, err)
                 : riscv_virt_create_fdt(v->cpu->xlen, m->ram_size, err);
    if (!fdt)
        return false;
    if (!riscv_virt_fdt_chosen(&fdt, o->append, b.initrd_start, b.initrd_end,
                               err))
        goto fail;
    fdt_size = fdt_totalsize(fdt);
    fdt_addr = riscv_virt_fdt_addr(m->ram_base, m->ram_size, fdt_size);
    if (!fdt_addr) {
        tn_error(err, "no room for the %" PRIu64 "-byte device tree in %"
                 PRIu64 " MiB of RAM", fdt_size, m->ram_size >> 20);
        goto fail;
    }
    if (!virt_add_image(v, "device tree", o->dtb, fdt_addr,
                        fdt_addr + fdt_size, err) ||
        !load_raw(&m->as, fdt_addr, fdt, fdt_size, err))
        goto fail;

    riscv_virt_rom(v->mrom, v->cpu->xlen, b.start_addr, fdt_addr,
                   b.kernel_entry);

    if (o->dump_dtb) {
        GError *e = NULL;
        if (!g_file_set_contents(o->dump_dtb, fdt, (gssize)fdt_size, &e)) {
            tn_error(err, "dumpdtb: %s", e->message);
            g_error_free(e);
            goto fail;
        }
    }
    g_free(fdt);
    return loadmap_snapshot(&v->images, &m->as, err);

fail:
    g_free(fdt);
    return false;
}

/* ---- board ---- */

static void virt_cpu_irq(void *opaque, int n, int level)
{
    riscv_cpu_set_irq(opaque, n, level);
}

static void virt_reset(Machine *m)
{
    RiscvVirt *v = m->board_state;
    loadmap_restore(&v->images, &m->as);
    riscv_cpu_reset(v->cpu, VIRT_MROM_BASE);
}

static void virt_destroy(void *opaque)
{
    RiscvVirt *v = opaque;
    loadmap_free(&v->images);
    drives_close(v->drives);
    g_free(v->mrom);
    g_free(v);
}

/* Snapshots: the board has no guest-visible state of its own (the MROM
 * is read-only and built from the command line, the boot images are
 * written back only at reset), so its stream is the layout version. */
#define VIRT_SNAP_VERSION 1

static int virt_snap_save(void *opaque, void *w)
{
    snap_put_u8(w, VIRT_SNAP_VERSION);
    return 0;
}

static int virt_snap_load(void *opaque, void *r)
{
    uint8_t v = snap_get_u8(r);
    if (snap_reader_ok(r) && v != VIRT_SNAP_VERSION)
        snap_reader_fail(r, "riscv-virt state layout version %u (this build reads %u)", v,
                         VIRT_SNAP_VERSION);
    return snap_reader_ok(r) ? 0 : -1;
}

static const DeviceOps virt_ops = {
    .name = "riscv-virt",
    .save = virt_snap_save,
    .load = virt_snap_load,
    .destroy = virt_destroy,
};

/* Device constructors report failures through machine_set_error. */
static bool dev_ok(Machine *m, const void *dev, const char *name, GError **err)
{
    if (!dev)
        tn_error(err, "%s: %s", name, m->error ? m->error : "creation failed");
    return dev != NULL;
}

static bool virt_devices(RiscvVirt *v, GError **err)
{
    Machine *m = v->m;
    RiscvCPU *cpu = v->cpu;
    IrqLine msip = irq_line(virt_cpu_irq, cpu, RV_IRQ_MSIP);
    IrqLine mtip = irq_line(virt_cpu_irq, cpu, RV_IRQ_MTIP);
    IrqLine ctx[2] = { irq_line(virt_cpu_irq, cpu, RV_IRQ_MEIP),
                       irq_line(virt_cpu_irq, cpu, RV_IRQ_SEIP) };

    RiscvAclint *clint = riscv_aclint_create(m, VIRT_CLINT_BASE, 1, &msip,
                                             &mtip);
    if (!dev_ok(m, clint, "CLINT", err))
        return false;
    cpu->rdtime = riscv_aclint_mtime;
    cpu->rdtime_opaque = clint;

    /* 96 source ids (1..95) while the tree says riscv,ndev = 96: both as
     * QEMU 7.2. */
    RiscvPlic *plic = riscv_plic_create(m, VIRT_PLIC_BASE, VIRT_PLIC_SIZE,
                                        RISCV_PLIC_VIRT_SOURCES, 2, ctx);
    if (!dev_ok(m, plic, "PLIC", err))
        return false;
    if (!dev_ok(m, sifive_test_create(m, VIRT_TEST_BASE), "sifive_test", err))
        return false;
    if (!dev_ok(m, goldfish_rtc_create(m, VIRT_RTC_BASE,
                                       riscv_plic_input(plic, VIRT_RTC_IRQ)),
                "goldfish-rtc", err))
        return false;
    if (!dev_ok(m, ns16550a_create(m, VIRT_UART0_BASE, machine_serial(m, 0),
                                   riscv_plic_input(plic, VIRT_UART0_IRQ)),
                "ns16550a", err))
        return false;
    for (int i = 0; i < VIRT_VIRTIO_COUNT; i++) {
        IrqLine irq = riscv_plic_input(plic, VIRT_VIRTIO_IRQ + i);
        v->virtio[i] = virtio_mmio_create(m, VIRT_VIRTIO_BASE +
                                          i * VIRT_VIRTIO_SIZE, irq);
        if (!dev_ok(m, v->virtio[i], "virtio-mmio", err))
            return false;
    }
    return true;
}

/* A virtio-blk disk on the next free transport (QEMU's order: the highest
 * address first, which Linux probes first, so the first disk is vda). */
static bool virt_attach_blk(RiscvVirt *v, Drive *d, const char *serial, GError **err)
{
    VirtioMmio *t = riscv_virt_virtio(v->m, v->virtio_used);
    if (!t) {
        tn_error(err, "drive %s: all %d virtio-mmio transports are taken", drive_name(d),
                 VIRT_VIRTIO_COUNT);
        return false;
    }
    char user[64];
    g_snprintf(user, sizeof(user), "virtio-blk-device on virtio_mmio@%" PRIx64,
               VIRT_VIRTIO_BASE + (uint64_t)(VIRT_VIRTIO_COUNT - 1 - v->virtio_used) *
               VIRT_VIRTIO_SIZE);
    if (!drive_claim(d, user, err))
        return false;
    GError *e = NULL;
    if (!virtio_blk_create(v->m, virtio_mmio_slot(t), d->blk, serial, &e)) {
        tn_error(err, "drive %s: %s", drive_name(d), e->message);
        g_error_free(e);
        return false;
    }
    v->virtio_used++;
    return true;
}

/* -device virtio-blk-device,drive=ID[,serial=S]. */
static bool virt_blk_device(RiscvVirt *v, const char *spec, GError **err)
{
    static const char *const keys[] = { "drive", "serial", NULL };
    g_autofree char *serial = NULL;
    if (!device_spec_check(spec, keys, err))
        return false;
    Drive *d = drives_for_device(v->drives, spec, "virtio", err);
    if (!d)
        return false;
    device_spec_prop(spec, "serial", &serial);
    return virt_attach_blk(v, d, serial, err);
}

/* -device virtio-blk-device in command-line order, then the if=virtio
 * drives (QEMU makes those virtio-blk-pci on its PCIe bus, which this
 * board does not have). */
static bool virt_disks(RiscvVirt *v, GError **err)
{
    Machine *m = v->m;
    const Options *o = m->opts;
    v->drives = drives_open(o->drives, o->ndrives, o->rr_mode, o->rr_snapshot != NULL, err);
    m->drives = v->drives;           /* savevm/loadvm find them there */
    /* blkreplay drives: each request logged (record) or checked (replay). */
    drives_observe(v->drives, rr_block_observer, m);
    if (!v->drives)
        return false;
    for (int i = 0; i < v->drives->n; i++) {
        if (v->drives->d[i].iface == DRIVE_IF_IDE) {
            tn_error(err, "-drive %s: the virt machine has no disk controller for if=ide "
                     "(the default): use if=virtio, or if=none with -device "
                     "virtio-blk-device,drive=ID", o->drives[i]);
            return false;
        }
    }
    const char *spec;
    while ((spec = machine_take_device(m, "virtio-blk-device")))
        if (!virt_blk_device(v, spec, err))
            return false;
    for (int i = 0; i < v->drives->n; i++) {
        Drive *d = &v->drives->d[i];
        if (d->iface == DRIVE_IF_VIRTIO && !virt_attach_blk(v, d, NULL, err))
            return false;
    }
    return true;
}

/* -device virtio-net-device[,netdev=ID][,mac=M] on the next free transport,
 * after the disks; MACs 52:54:00:12:34:56, ...:57, ... as QEMU assigns
 * them. */
static bool virt_net_device(RiscvVirt *v, const char *spec, GError **err)
{
    static const char *const keys[] = { "netdev", "mac", NULL };
    g_autofree char *netdev = NULL, *mac = NULL;
    if (!device_spec_check(spec, keys, err))
        return false;
    VirtioMmio *t = riscv_virt_virtio(v->m, v->virtio_used);
    if (!t) {
        tn_error(err, "-device %s: all %d virtio-mmio transports are taken", spec,
                 VIRT_VIRTIO_COUNT);
        return false;
    }
    uint8_t a[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, (uint8_t)(0x56 + v->nics) };
    if (device_spec_prop(spec, "mac", &mac) && !net_parse_mac(mac, a)) {
        tn_error(err, "-device %s: mac=%s: expected a unicast address like "
                 "52:54:00:12:34:56", spec, mac);
        return false;
    }
    NetClient *nc = NULL;
    if (device_spec_prop(spec, "netdev", &netdev)) {
        nc = net_find(v->m->net, netdev);
        if (!nc) {
            tn_error(err, "-device %s: netdev=%s: no -netdev has id=%s", spec, netdev, netdev);
            return false;
        }
    }
    GError *e = NULL;
    if (!virtio_net_create(v->m, virtio_mmio_slot(t), "virtio-net-device", a, nc, &e)) {
        tn_error(err, "-device %s: %s", spec, e->message);
        g_error_free(e);
        return false;
    }
    v->virtio_used++;
    v->nics++;
    return true;
}

static bool virt_nics(RiscvVirt *v, GError **err)
{
    const char *spec;
    while ((spec = machine_take_device(v->m, "virtio-net-device")))
        if (!virt_net_device(v, spec, err))
            return false;
    /* QEMU's virt has it on its PCIe bus (-nic model=virtio makes one);
     * here it is a virtio-net-device on virtio-mmio, the same card to the
     * guest, as for -drive if=virtio. */
    while ((spec = machine_take_device(v->m, "virtio-net-pci")))
        if (!virt_net_device(v, spec, err))
            return false;
    return true;
}

bool riscv_virt_init(Machine *m, int xlen, GError **err)
{
    const Options *o = m->opts;
    uint64_t ram_size = o->ram_size ? o->ram_size : VIRT_DRAM_DEFAULT;

    if (o->smp > 1) {
        tn_error(err, "virt: only one hart is supported (-smp %d)", o->smp);
        return false;
    }
    if (m->nserial > 1) {
        tn_error(err, "virt has one UART, but %d serial ports were given",
                 m->nserial);
        return false;
    }
    /* RV32 firmware and bare kernels address RAM with 32-bit pointers. */
    const uint64_t rv32_max = (UINT64_C(1) << 32) - VIRT_DRAM_BASE;
    if (xlen == 32 && ram_size > rv32_max) {
        tn_error(err, "riscv32 virt: -m %" PRIu64 "M does not fit the 32-bit "
                 "address space (at most %" PRIu64 "M above 0x80000000)",
                 ram_size >> 20, rv32_max >> 20);
        return false;
    }

    RiscvVirt *v = g_new0(RiscvVirt, 1);
    v->m = m;
    loadmap_init(&v->images);
    v->mrom = g_malloc0(VIRT_MROM_SIZE);
    machine_add_device(m, &virt_ops, v);
    m->board_state = v;

    if (machine_alloc_ram(m, VIRT_DRAM_BASE, ram_size, err) < 0)
        return false;
    if (as_add_ram(&m->as, "riscv_virt.mrom", VIRT_MROM_BASE, VIRT_MROM_SIZE,
                   v->mrom, true) < 0) {
        tn_error(err, "virt: cannot map the MROM");
        return false;
    }

    v->cpu = riscv_cpu_create(m, xlen);
    if (!dev_ok(m, v->cpu, "CPU", err))
        return false;
    m->cpu = v->cpu;
    m->cpu_ops = &riscv_cpu_ops;
    m->icount = &v->cpu->icount;

    if (!virt_devices(v, err) || !virt_disks(v, err) || !virt_nics(v, err) ||
        !virt_boot(v, err))
        return false;

    m->board_reset = virt_reset;
    riscv_cpu_reset(v->cpu, VIRT_MROM_BASE);
    return true;
}

VirtioMmio *riscv_virt_virtio(Machine *m, int n)
{
    RiscvVirt *v = m->board_state;
    if (m->board != &riscv_virt_board || !v || n < 0 ||
        n >= VIRT_VIRTIO_COUNT)
        return NULL;
    return v->virtio[VIRT_VIRTIO_COUNT - 1 - n];
}

static const char *const virt_device_list[] = { "virtio-blk-device", "virtio-net-device",
                                                 NULL };

const BoardDesc riscv_virt_board = {
    .name = "virt",
    .desc = "RISC-V VirtIO board",
    .init = riscv_virt_init,
    .devices = virt_device_list,
    .nic_model = "virtio-net-device",
};
