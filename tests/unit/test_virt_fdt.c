/* The RISC-V virt board: its device tree (against QEMU 7.2's), the reset
 * vector, image placement, and whole-board builds through machine_create. */
#include <criterion/criterion.h>
#include <elf.h>
#include <inttypes.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <libfdt.h>
#include <stdarg.h>
#include <string.h>

#include "targets/riscv/cpu.h"
#include "targets/riscv/virt.h"
#include "vmm/machine.h"
#include "vmm/options.h"

/* ---- the generated tree ---- */

static void *fdt64, *fdt32;

static void build(void)
{
    GError *err = NULL;
    fdt64 = riscv_virt_create_fdt(64, 128ull << 20, &err);
    cr_assert_not_null(fdt64, "%s", err ? err->message : "");
    fdt32 = riscv_virt_create_fdt(32, 256ull << 20, &err);
    cr_assert_not_null(fdt32, "%s", err ? err->message : "");
}

static void unbuild(void)
{
    g_free(fdt64);
    g_free(fdt32);
}

TestSuite(virt_fdt, .init = build, .fini = unbuild);

static int node(const void *fdt, const char *path)
{
    int n = fdt_path_offset(fdt, path);
    cr_assert_geq(n, 0, "node %s: %s", path, fdt_strerror(n));
    return n;
}

static void expect_str(const void *fdt, const char *path, const char *prop,
                       const char *val)
{
    int len;
    const char *p = fdt_getprop(fdt, node(fdt, path), prop, &len);
    cr_assert_not_null(p, "%s:%s missing", path, prop);
    cr_assert_eq(len, (int)strlen(val) + 1, "%s:%s length", path, prop);
    cr_assert_str_eq(p, val);
}

/* A string list, given with its NULs. */
static void expect_strs(const void *fdt, const char *path, const char *prop,
                        const char *val, int vlen)
{
    int len;
    const char *p = fdt_getprop(fdt, node(fdt, path), prop, &len);
    cr_assert_not_null(p, "%s:%s missing", path, prop);
    cr_assert_eq(len, vlen, "%s:%s length", path, prop);
    cr_assert_eq(memcmp(p, val, (size_t)vlen), 0, "%s:%s", path, prop);
}
#define EXPECT_STRS(f, path, prop, lit) expect_strs(f, path, prop, lit, sizeof(lit))

static void expect_cells(const void *fdt, const char *path, const char *prop,
                         const uint32_t *v, int n)
{
    int len;
    const fdt32_t *p = fdt_getprop(fdt, node(fdt, path), prop, &len);
    cr_assert_not_null(p, "%s:%s missing", path, prop);
    cr_assert_eq(len, n * 4, "%s:%s has %d bytes", path, prop, len);
    for (int i = 0; i < n; i++)
        cr_assert_eq(fdt32_to_cpu(p[i]), v[i], "%s:%s cell %d = 0x%x", path,
                     prop, i, fdt32_to_cpu(p[i]));
}
#define EXPECT_CELLS(f, path, prop, ...) do { \
        const uint32_t v_[] = { __VA_ARGS__ }; \
        expect_cells(f, path, prop, v_, (int)G_N_ELEMENTS(v_)); \
    } while (0)

static void expect_empty(const void *fdt, const char *path, const char *prop)
{
    int len;
    cr_assert_not_null(fdt_getprop(fdt, node(fdt, path), prop, &len),
                       "%s:%s missing", path, prop);
    cr_assert_eq(len, 0);
}

Test(virt_fdt, root_chosen_memory)
{
    cr_assert_eq(fdt_check_full(fdt64, fdt_totalsize(fdt64)), 0);
    EXPECT_CELLS(fdt64, "/", "#address-cells", 2);
    EXPECT_CELLS(fdt64, "/", "#size-cells", 2);
    expect_str(fdt64, "/", "compatible", "riscv-virtio");
    expect_str(fdt64, "/", "model", "riscv-virtio,qemu");
    expect_str(fdt64, "/chosen", "stdout-path", "/soc/serial@10000000");
    cr_assert_null(fdt_getprop(fdt64, node(fdt64, "/chosen"), "rng-seed", NULL),
                   "rng-seed would be host randomness");
    cr_assert_null(fdt_getprop(fdt64, node(fdt64, "/chosen"), "bootargs", NULL));
    expect_str(fdt64, "/memory@80000000", "device_type", "memory");
    EXPECT_CELLS(fdt64, "/memory@80000000", "reg", 0, 0x80000000, 0, 0x8000000);
    EXPECT_CELLS(fdt32, "/memory@80000000", "reg", 0, 0x80000000, 0, 0x10000000);
}

Test(virt_fdt, cpus)
{
    EXPECT_CELLS(fdt64, "/cpus", "#address-cells", 1);
    EXPECT_CELLS(fdt64, "/cpus", "#size-cells", 0);
    EXPECT_CELLS(fdt64, "/cpus", "timebase-frequency", 10000000);
    EXPECT_CELLS(fdt64, "/cpus/cpu@0", "phandle", 1);
    expect_str(fdt64, "/cpus/cpu@0", "device_type", "cpu");
    EXPECT_CELLS(fdt64, "/cpus/cpu@0", "reg", 0);
    expect_str(fdt64, "/cpus/cpu@0", "status", "okay");
    expect_str(fdt64, "/cpus/cpu@0", "compatible", "riscv");
    expect_str(fdt64, "/cpus/cpu@0", "riscv,isa",
               "rv64imafdc_zicsr_zifencei_zihintpause");
    expect_str(fdt64, "/cpus/cpu@0", "mmu-type", "riscv,sv48");
    expect_str(fdt32, "/cpus/cpu@0", "riscv,isa",
               "rv32imafdc_zicsr_zifencei_zihintpause");
    expect_str(fdt32, "/cpus/cpu@0", "mmu-type", "riscv,sv32");

    const char *ic = "/cpus/cpu@0/interrupt-controller";
    EXPECT_CELLS(fdt64, ic, "#interrupt-cells", 1);
    expect_empty(fdt64, ic, "interrupt-controller");
    expect_str(fdt64, ic, "compatible", "riscv,cpu-intc");
    EXPECT_CELLS(fdt64, ic, "phandle", 2);
    cr_assert_eq(fdt_node_offset_by_phandle(fdt64, 2), node(fdt64, ic));
    EXPECT_CELLS(fdt64, "/cpus/cpu-map/cluster0/core0", "cpu", 1);
}

Test(virt_fdt, interrupt_controllers)
{
    const char *plic = "/soc/plic@c000000";
    EXPECT_CELLS(fdt64, "/soc", "#address-cells", 2);
    EXPECT_CELLS(fdt64, "/soc", "#size-cells", 2);
    expect_str(fdt64, "/soc", "compatible", "simple-bus");
    expect_empty(fdt64, "/soc", "ranges");

    EXPECT_CELLS(fdt64, plic, "phandle", 3);
    EXPECT_CELLS(fdt64, plic, "riscv,ndev", 0x60);
    EXPECT_CELLS(fdt64, plic, "reg", 0, 0xc000000, 0, 0x600000);
    EXPECT_CELLS(fdt64, plic, "interrupts-extended", 2, 11, 2, 9);
    expect_empty(fdt64, plic, "interrupt-controller");
    EXPECT_STRS(fdt64, plic, "compatible", "sifive,plic-1.0.0\0riscv,plic0");
    EXPECT_CELLS(fdt64, plic, "#address-cells", 0);
    EXPECT_CELLS(fdt64, plic, "#interrupt-cells", 1);

    const char *clint = "/soc/clint@2000000";
    EXPECT_CELLS(fdt64, clint, "interrupts-extended", 2, 3, 2, 7);
    EXPECT_CELLS(fdt64, clint, "reg", 0, 0x2000000, 0, 0x10000);
    EXPECT_STRS(fdt64, clint, "compatible", "sifive,clint0\0riscv,clint0");
}

Test(virt_fdt, devices)
{
    const char *uart = "/soc/serial@10000000";
    EXPECT_CELLS(fdt64, uart, "interrupts", 10);
    EXPECT_CELLS(fdt64, uart, "interrupt-parent", 3);
    EXPECT_CELLS(fdt64, uart, "clock-frequency", 0x384000);
    EXPECT_CELLS(fdt64, uart, "reg", 0, 0x10000000, 0, 0x100);
    expect_str(fdt64, uart, "compatible", "ns16550a");

    const char *rtc = "/soc/rtc@101000";
    EXPECT_CELLS(fdt64, rtc, "interrupts", 11);
    EXPECT_CELLS(fdt64, rtc, "interrupt-parent", 3);
    EXPECT_CELLS(fdt64, rtc, "reg", 0, 0x101000, 0, 0x1000);
    expect_str(fdt64, rtc, "compatible", "google,goldfish-rtc");

    const char *test = "/soc/test@100000";
    EXPECT_CELLS(fdt64, test, "phandle", 4);
    EXPECT_CELLS(fdt64, test, "reg", 0, 0x100000, 0, 0x1000);
    EXPECT_STRS(fdt64, test, "compatible", "sifive,test1\0sifive,test0\0syscon");

    expect_str(fdt64, "/poweroff", "compatible", "syscon-poweroff");
    EXPECT_CELLS(fdt64, "/poweroff", "regmap", 4);
    EXPECT_CELLS(fdt64, "/poweroff", "offset", 0);
    EXPECT_CELLS(fdt64, "/poweroff", "value", 0x5555);
    expect_str(fdt64, "/reboot", "compatible", "syscon-reboot");
    EXPECT_CELLS(fdt64, "/reboot", "regmap", 4);
    EXPECT_CELLS(fdt64, "/reboot", "offset", 0);
    EXPECT_CELLS(fdt64, "/reboot", "value", 0x7777);
}

Test(virt_fdt, virtio_order)
{
    /* Eight transports, highest address first (Linux probes tree order). */
    int soc = node(fdt64, "/soc"), n, i = 0;
    uint64_t expect = 0x10008000;
    fdt_for_each_subnode(n, fdt64, soc) {
        const char *name = fdt_get_name(fdt64, n, NULL);
        if (strncmp(name, "virtio_mmio@", 12))
            continue;
        char want[32];
        snprintf(want, sizeof(want), "virtio_mmio@%" PRIx64, expect);
        cr_assert_str_eq(name, want);
        char path[64];
        snprintf(path, sizeof(path), "/soc/%s", name);
        EXPECT_CELLS(fdt64, path, "interrupts", (uint32_t)(8 - i));
        EXPECT_CELLS(fdt64, path, "interrupt-parent", 3);
        EXPECT_CELLS(fdt64, path, "reg", 0, (uint32_t)expect, 0, 0x1000);
        expect_str(fdt64, path, "compatible", "virtio,mmio");
        expect -= 0x1000;
        i++;
    }
    cr_assert_eq(i, 8);
}

Test(virt_fdt, no_pci_no_flash)
{
    cr_assert_lt(fdt_path_offset(fdt64, "/soc/pci@30000000"), 0);
    cr_assert_lt(fdt_path_offset(fdt64, "/flash@20000000"), 0);
    cr_assert_lt(fdt_path_offset(fdt64, "/fw-cfg@10100000"), 0);
}

Test(virt_fdt, chosen_patch)
{
    GError *err = NULL;
    void *f = g_memdup2(fdt64, fdt_totalsize(fdt64));

    cr_assert(riscv_virt_fdt_chosen(&f, "console=ttyS0 root=/dev/vda",
                                    0x88200000, 0x88200003, &err));
    cr_assert_eq(fdt_check_full(f, fdt_totalsize(f)), 0);
    expect_str(f, "/chosen", "bootargs", "console=ttyS0 root=/dev/vda");
    expect_str(f, "/chosen", "stdout-path", "/soc/serial@10000000");
    EXPECT_CELLS(f, "/chosen", "linux,initrd-start", 0x88200000);
    EXPECT_CELLS(f, "/chosen", "linux,initrd-end", 0x88200003);

    /* Above 4 GiB the addresses take two cells. */
    cr_assert(riscv_virt_fdt_chosen(&f, "", 0x100000000ull, 0x100001000ull,
                                    &err));
    EXPECT_CELLS(f, "/chosen", "linux,initrd-start", 1, 0);
    EXPECT_CELLS(f, "/chosen", "linux,initrd-end", 1, 0x1000);
    /* An empty command line leaves bootargs alone. */
    expect_str(f, "/chosen", "bootargs", "console=ttyS0 root=/dev/vda");

    /* A long command line does not run out of room. */
    char *big = g_strnfill(200000, 'x');
    cr_assert(riscv_virt_fdt_chosen(&f, big, 0, 0, &err));
    expect_str(f, "/chosen", "bootargs", big);
    g_free(big);
    g_free(f);
}

Test(virt_fdt, chosen_created_in_user_tree)
{
    char buf[512];
    GError *err = NULL;
    cr_assert_eq(fdt_create_empty_tree(buf, sizeof(buf)), 0);
    void *f = g_memdup2(buf, fdt_totalsize(buf));
    cr_assert(riscv_virt_fdt_chosen(&f, "quiet", 0, 0, &err));
    expect_str(f, "/chosen", "bootargs", "quiet");
    cr_assert_null(fdt_getprop(f, node(f, "/chosen"), "linux,initrd-start",
                               NULL));
    g_free(f);
}

/* ---- placement and the reset vector ---- */

Test(virt_place, fdt_addr)
{
    /* QEMU 7.2 puts a small tree at 0x87e00000 with 128 MiB. */
    cr_assert_eq(riscv_virt_fdt_addr(0x80000000, 128ull << 20, 3000),
                 0x87e00000);
    cr_assert_eq(riscv_virt_fdt_addr(0x80000000, 512ull << 20, 0x100000),
                 0x9fe00000);
    /* Capped below 3 GiB. */
    cr_assert_eq(riscv_virt_fdt_addr(0x80000000, 4ull << 30, 3000),
                 0xbfe00000);
    /* Not 2 MiB-aligned RAM end. */
    cr_assert_eq(riscv_virt_fdt_addr(0x80000000, 129ull << 20, 3000),
                 0x88000000);
    /* Too small. */
    cr_assert_eq(riscv_virt_fdt_addr(0x80000000, 1ull << 20, 3000),
                 0x80000000);
    cr_assert_eq(riscv_virt_fdt_addr(0x80000000, 4096, 8192), 0);
}

Test(virt_place, kernel_start)
{
    /* Debian's fw_dynamic.bin is 0x1c280 bytes. */
    cr_assert_eq(riscv_virt_kernel_start(64, 0x8001c280), 0x80200000);
    cr_assert_eq(riscv_virt_kernel_start(32, 0x8001c280), 0x80400000);
    cr_assert_eq(riscv_virt_kernel_start(64, 0x80000000), 0x80000000);
    cr_assert_eq(riscv_virt_kernel_start(64, 0x80200001), 0x80400000);
}

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The words QEMU 7.2 leaves at 0x1000 (read with its monitor's xp). */
Test(virt_place, rom_rv64)
{
    static const uint32_t qemu[] = {
        0x00000297, 0x02828613, 0xf1402573, 0x0202b583,
        0x0182b283, 0x00028067, 0x80000000, 0x00000000,
        0x87e00000, 0x00000000, 0x4942534f, 0x00000000,
        0x00000002, 0x00000000, 0x80200000, 0x00000000,
        0x00000001, 0x00000000, 0, 0, 0, 0,
    };
    uint8_t rom[256] = { 0 };
    size_t n = riscv_virt_rom(rom, 64, 0x80000000, 0x87e00000, 0x80200000);
    cr_assert_eq(n, 0x28 + 48);
    for (size_t i = 0; i < G_N_ELEMENTS(qemu); i++)
        cr_assert_eq(rd32(rom + 4 * i), qemu[i], "word %zu: 0x%08x", i,
                     rd32(rom + 4 * i));
}

Test(virt_place, rom_rv32)
{
    static const uint32_t qemu[] = {
        0x00000297, 0x02828613, 0xf1402573, 0x0202a583,
        0x0182a283, 0x00028067, 0x80000000, 0x00000000,
        0x87e00000, 0x00000000, 0x4942534f, 0x00000002,
        0x00000000, 0x00000001, 0x00000000, 0x00000000,
    };
    uint8_t rom[256] = { 0 };
    size_t n = riscv_virt_rom(rom, 32, 0x80000000, 0x87e00000, 0);
    cr_assert_eq(n, 0x28 + 24);
    for (size_t i = 0; i < G_N_ELEMENTS(qemu); i++)
        cr_assert_eq(rd32(rom + 4 * i), qemu[i], "word %zu: 0x%08x", i,
                     rd32(rom + 4 * i));
}

/* ---- whole boards ---- */

static char *tmpdir;

static void mk_tmp(void)
{
    tmpdir = g_dir_make_tmp("tandem-virt-XXXXXX", NULL);
    cr_assert_not_null(tmpdir);
}

static void rm_tmp(void)
{
    GDir *d = g_dir_open(tmpdir, 0, NULL);
    const char *n;
    while (d && (n = g_dir_read_name(d))) {
        char *p = g_build_filename(tmpdir, n, NULL);
        g_unlink(p);
        g_free(p);
    }
    if (d)
        g_dir_close(d);
    g_rmdir(tmpdir);
    g_free(tmpdir);
}

TestSuite(virt_board, .init = mk_tmp, .fini = rm_tmp);

static char *mk_file(const char *name, const void *data, size_t len)
{
    char *p = g_build_filename(tmpdir, name, NULL);
    cr_assert(g_file_set_contents(p, data, (gssize)len, NULL));
    return p;
}

/* A raw "firmware" of n bytes filled with 0x5a. */
static char *mk_fw(size_t n)
{
    uint8_t *b = g_malloc(n);
    memset(b, 0x5a, n);
    char *p = mk_file("fw.bin", b, n);
    g_free(b);
    return p;
}

/* A Linux RISC-V Image of file size n with image_size isz. */
static char *mk_image(size_t n, uint64_t isz)
{
    uint8_t *b = g_malloc0(n);
    memset(b + 64, 0x4b, n - 64);
    b[0x0a] = 0x20;                          /* text_offset 0x200000 */
    for (int i = 0; i < 8; i++)
        b[0x10 + i] = (uint8_t)(isz >> (8 * i));
    memcpy(b + 0x38, "RSC\x05", 4);
    char *p = mk_file("Image", b, n);
    g_free(b);
    return p;
}

/* A one-segment RV64 ELF at paddr with entry. */
static char *mk_elf(const char *name, uint64_t paddr, uint64_t entry,
                    uint64_t memsz)
{
    struct {
        Elf64_Ehdr h;
        Elf64_Phdr p;
        uint8_t code[16];
    } e = {
        .h = { .e_type = ET_EXEC, .e_machine = EM_RISCV,
               .e_version = EV_CURRENT, .e_entry = entry,
               .e_phoff = sizeof(Elf64_Ehdr), .e_ehsize = sizeof(Elf64_Ehdr),
               .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = 1 },
        .p = { .p_type = PT_LOAD, .p_offset = sizeof(Elf64_Ehdr) +
               sizeof(Elf64_Phdr), .p_paddr = paddr, .p_vaddr = paddr,
               .p_filesz = 16, .p_memsz = memsz },
        .code = "ELFCODE-ELFCODE",
    };
    memcpy(e.h.e_ident, ELFMAG, SELFMAG);
    e.h.e_ident[EI_CLASS] = ELFCLASS64;
    e.h.e_ident[EI_DATA] = ELFDATA2LSB;
    e.h.e_ident[EI_VERSION] = EV_CURRENT;
    return mk_file(name, &e, sizeof(e));
}

static Options opts;

/* machine_create with "-nodefaults" plus args (NULL-terminated). */
static Machine *boot(GError **err, const char *arch, ...)
{
    const char *argv[32] = { "tandem", "-arch", arch, "-M", "virt",
                             "-nodefaults" };
    int argc = 6;
    va_list ap;
    va_start(ap, arch);
    const char *a;
    while ((a = va_arg(ap, const char *)))
        argv[argc++] = a;
    va_end(ap);
    cr_assert(options_parse(&opts, argc, (char **)argv, err), "%s",
              *err ? (*err)->message : "");
    return machine_create(&opts, err);
}

static void expect_error(Machine *m, GError *err, const char *needle)
{
    cr_assert_null(m, "board built despite a bad configuration");
    cr_assert_not_null(err);
    cr_assert(strstr(err->message, needle), "message '%s' lacks '%s'",
              err->message, needle);
    g_error_free(err);
}

static uint8_t *ram_at(Machine *m, uint64_t pa, uint64_t len)
{
    uint8_t *p = as_host_ptr(&m->as, pa, len);
    cr_assert_not_null(p, "0x%" PRIx64 " not mapped", pa);
    return p;
}

Test(virt_board, linux_boot_layout)
{
    GError *err = NULL;
    char *fw = mk_fw(0x1c280);
    char *k = mk_image(0x10000, 0x200000);
    char *rd = mk_file("initrd", "RD!", 3);
    char *dump = g_build_filename(tmpdir, "dump.dtb", NULL);
    char *mopt = g_strdup_printf("virt,dumpdtb=%s", dump);
    Machine *m = boot(&err, "riscv64", "-m", "256", "-bios", fw, "-kernel", k,
                      "-initrd", rd, "-append", "console=ttyS0", "-M", mopt,
                      NULL);
    cr_assert_not_null(m, "%s", err ? err->message : "");

    cr_assert_eq(ram_at(m, 0x80000000, 1)[0], 0x5a);
    cr_assert_eq(ram_at(m, 0x8001c27f, 1)[0], 0x5a);
    cr_assert_eq(memcmp(ram_at(m, 0x80200038, 4), "RSC\x05", 4), 0);
    cr_assert_eq(ram_at(m, 0x80200040, 1)[0], 0x4b);
    /* initrd at kernel + min(ram / 2, 128 MiB). */
    cr_assert_eq(memcmp(ram_at(m, 0x88200000, 3), "RD!", 3), 0);

    const uint8_t *rom = ram_at(m, VIRT_MROM_BASE, 0x40);
    cr_assert_eq(rd32(rom + 0x18), 0x80000000);     /* start */
    uint64_t fdt_addr = rd32(rom + 0x20);
    cr_assert_eq(fdt_addr, 0x8fe00000);
    cr_assert_eq(rd32(rom + 0x28), 0x4942534f);
    cr_assert_eq(rd32(rom + 0x38), 0x80200000);     /* next_addr */
    cr_assert_eq(rd32(rom + 0x40), 1);              /* next_mode S */

    const void *fdt = ram_at(m, fdt_addr, 0x1000);
    cr_assert_eq(fdt_check_header(fdt), 0);
    expect_str(fdt, "/chosen", "bootargs", "console=ttyS0");
    EXPECT_CELLS(fdt, "/chosen", "linux,initrd-start", 0x88200000);
    EXPECT_CELLS(fdt, "/chosen", "linux,initrd-end", 0x88200003);
    EXPECT_CELLS(fdt, "/memory@80000000", "reg", 0, 0x80000000, 0, 0x10000000);

    gchar *dumped;
    gsize dlen;
    cr_assert(g_file_get_contents(dump, &dumped, &dlen, NULL));
    cr_assert_eq(dlen, fdt_totalsize(fdt));
    cr_assert_eq(memcmp(dumped, fdt, dlen), 0);
    g_free(dumped);

    RiscvCPU *cpu = m->cpu;
    cr_assert_eq(cpu->pc, VIRT_MROM_BASE);
    cr_assert_eq(cpu->priv, RV_PRIV_M);
    cr_assert_eq(cpu->xlen, 64);
    cr_assert_eq(m->icount, &cpu->icount);

    /* Reset reloads the images. */
    memset(ram_at(m, 0x80200000, 0x100), 0, 0x100);
    memset(ram_at(m, fdt_addr, 0x100), 0, 0x100);
    cpu->pc = 0x80200000;
    machine_reset(m);
    cr_assert_eq(memcmp(ram_at(m, 0x80200038, 4), "RSC\x05", 4), 0);
    cr_assert_eq(fdt_check_header(fdt), 0);
    cr_assert_eq(cpu->pc, VIRT_MROM_BASE);

    machine_destroy(m);
    g_free(fw); g_free(k); g_free(rd); g_free(dump); g_free(mopt);
}

Test(virt_board, default_bios_rv64)
{
    GError *err = NULL;
    if (!g_file_test(VIRT_DEFAULT_BIOS64, G_FILE_TEST_EXISTS))
        cr_skip_test("opensbi not installed");
    Machine *m = boot(&err, "riscv64", NULL);
    cr_assert_not_null(m, "%s", err ? err->message : "");
    const uint8_t *rom = ram_at(m, VIRT_MROM_BASE, 0x40);
    cr_assert_eq(rd32(rom + 0x20), 0x87e00000);
    cr_assert_eq(rd32(rom + 0x38), 0);               /* no kernel */
    machine_destroy(m);
}

Test(virt_board, bios_none_elf)
{
    GError *err = NULL;
    char *k = mk_elf("k.elf", 0x80000000, 0x80000008, 0x1000);
    Machine *m = boot(&err, "riscv64", "-bios", "none", "-kernel", k, NULL);
    cr_assert_not_null(m, "%s", err ? err->message : "");
    cr_assert_eq(memcmp(ram_at(m, 0x80000000, 16), "ELFCODE-ELFCODE", 16), 0);
    const uint8_t *rom = ram_at(m, VIRT_MROM_BASE, 0x40);
    cr_assert_eq(rd32(rom + 0x18), 0x80000008);      /* jumps to the entry */
    cr_assert_eq(rd32(rom + 0x38), 0x80000000);      /* lowest address */
    machine_destroy(m);
    g_free(k);
}

Test(virt_board, elf_firmware_end)
{
    /* An ELF firmware's end (with bss) decides where the kernel goes. */
    GError *err = NULL;
    char *fw = mk_elf("fw.elf", 0x80000000, 0x80000000, 0x200001);
    char *k = mk_image(0x1000, 0);
    Machine *m = boot(&err, "riscv64", "-bios", fw, "-kernel", k, NULL);
    cr_assert_not_null(m, "%s", err ? err->message : "");
    cr_assert_eq(memcmp(ram_at(m, 0x80400038, 4), "RSC\x05", 4), 0);
    cr_assert_eq(rd32(ram_at(m, VIRT_MROM_BASE + 0x38, 4)), 0x80400000);
    machine_destroy(m);
    g_free(fw); g_free(k);
}

Test(virt_board, rv32_rules)
{
    GError *err = NULL;
    Machine *m = boot(&err, "riscv32", NULL);
    expect_error(m, err, "-bios");

    err = NULL;
    m = boot(&err, "riscv32", "-bios", "none", "-m", "4G", NULL);
    expect_error(m, err, "32-bit address space");

    err = NULL;
    char *fw = mk_fw(0x1000);
    char *k = mk_image(0x1000, 0);
    m = boot(&err, "riscv32", "-bios", fw, "-kernel", k, NULL);
    cr_assert_not_null(m, "%s", err ? err->message : "");
    cr_assert_eq(((RiscvCPU *)m->cpu)->xlen, 32);
    /* 4 MiB kernel alignment on RV32; 32-bit fw_dynamic_info. */
    cr_assert_eq(rd32(ram_at(m, VIRT_MROM_BASE + 0x30, 4)), 0x80400000);
    cr_assert_eq(rd32(ram_at(m, VIRT_MROM_BASE + 0x34, 4)), 1);
    const void *fdt = ram_at(m, 0x87e00000, 0x1000);
    expect_str(fdt, "/cpus/cpu@0", "mmu-type", "riscv,sv32");
    machine_destroy(m);
    g_free(fw); g_free(k);
}

Test(virt_board, missing_and_bad_files)
{
    GError *err = NULL;
    Machine *m = boot(&err, "riscv64", "-bios", "/no/such/fw.bin", NULL);
    expect_error(m, err, "/no/such/fw.bin");

    char *fw = mk_fw(0x1000);
    err = NULL;
    m = boot(&err, "riscv64", "-bios", fw, "-kernel", "/no/such/Image", NULL);
    expect_error(m, err, "/no/such/Image");

    char *k = mk_image(0x1000, 0);
    err = NULL;
    m = boot(&err, "riscv64", "-bios", fw, "-kernel", k, "-initrd",
             "/no/such/initrd", NULL);
    expect_error(m, err, "/no/such/initrd");

    char *bad = mk_file("bad.dtb", "\xd0\x0d\xfe\xed garbage", 13);
    err = NULL;
    m = boot(&err, "riscv64", "-bios", fw, "-dtb", bad, NULL);
    expect_error(m, err, "not a valid blob");

    char *empty = mk_file("empty", "", 0);
    err = NULL;
    m = boot(&err, "riscv64", "-bios", fw, "-kernel", empty, NULL);
    expect_error(m, err, "is empty");

    /* A truncated ELF kernel. */
    char *elf = mk_elf("k.elf", 0x80200000, 0x80200000, 0x100);
    gchar *data;
    gsize len;
    cr_assert(g_file_get_contents(elf, &data, &len, NULL));
    char *trunc = mk_file("trunc.elf", data, len - 4);
    g_free(data);
    err = NULL;
    m = boot(&err, "riscv64", "-bios", fw, "-kernel", trunc, NULL);
    expect_error(m, err, "trunc.elf");

    err = NULL;
    m = boot(&err, "riscv64", "-bios", fw, "-initrd", k, NULL);
    expect_error(m, err, "-initrd only allowed with -kernel");
    g_free(fw); g_free(k); g_free(bad); g_free(empty); g_free(elf);
    g_free(trunc);
}

Test(virt_board, overlaps_and_ram)
{
    GError *err = NULL;
    char *fw = mk_fw(0x300000);
    /* An ELF kernel on top of the firmware. */
    char *k = mk_elf("k.elf", 0x80100000, 0x80100000, 0x1000);
    Machine *m = boot(&err, "riscv64", "-bios", fw, "-kernel", k, NULL);
    expect_error(m, err, "overlaps firmware");
    g_free(k);

    /* An ELF kernel outside RAM. */
    k = mk_elf("k2.elf", 0x40000000, 0x40000000, 0x1000);
    err = NULL;
    m = boot(&err, "riscv64", "-bios", fw, "-kernel", k, NULL);
    expect_error(m, err, "not inside guest RAM");
    g_free(k);

    /* initrd (at 0x80a00000 with 16 MiB) running into the device tree at
     * 0x80e00000. */
    char *fw2 = mk_fw(0x1000);
    k = mk_image(0x1000, 0);
    uint8_t *big = g_malloc0(9 << 20);
    char *rd = mk_file("rd", big, 5 << 20);
    err = NULL;
    m = boot(&err, "riscv64", "-m", "16", "-bios", fw2, "-kernel", k,
             "-initrd", rd, NULL);
    expect_error(m, err, "overlaps initrd");
    g_free(rd);

    /* An initrd past the end of RAM. */
    rd = mk_file("rd", big, 9 << 20);
    err = NULL;
    m = boot(&err, "riscv64", "-m", "16", "-bios", fw2, "-kernel", k,
             "-initrd", rd, NULL);
    expect_error(m, err, "outside RAM");
    g_free(rd);

    /* A Linux Image whose bss (image_size) would cover the initrd. */
    g_free(k);
    k = mk_image(0x1000, 9 << 20);
    rd = mk_file("rd", "x", 1);
    err = NULL;
    m = boot(&err, "riscv64", "-m", "16", "-bios", fw2, "-kernel", k,
             "-initrd", rd, NULL);
    expect_error(m, err, "initrd");
    g_free(big); g_free(fw); g_free(fw2); g_free(k); g_free(rd);
}

Test(virt_board, user_dtb)
{
    GError *err = NULL;
    char buf[256];
    cr_assert_eq(fdt_create_empty_tree(buf, sizeof(buf)), 0);
    char *dtb = mk_file("user.dtb", buf, fdt_totalsize(buf));
    char *fw = mk_fw(0x1000);
    char *k = mk_image(0x1000, 0);
    Machine *m = boot(&err, "riscv64", "-bios", fw, "-kernel", k, "-dtb", dtb,
                      "-append", "root=/dev/vda", NULL);
    cr_assert_not_null(m, "%s", err ? err->message : "");
    const void *fdt = ram_at(m, 0x87e00000, 0x100);
    expect_str(fdt, "/chosen", "bootargs", "root=/dev/vda");
    cr_assert_lt(fdt_path_offset(fdt, "/cpus"), 0);
    machine_destroy(m);
    g_free(dtb); g_free(fw); g_free(k);
}
