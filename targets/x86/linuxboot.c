/* Linux bzImage kernels for the pc board: `-kernel bzImage -initrd F
 * -append CMDLINE`, as QEMU takes them.
 *
 * QEMU hands the kernel to SeaBIOS through fw_cfg and boots it from an
 * option ROM in real mode.  Tandem loads it directly with the 32-bit boot
 * protocol (Documentation/arch/x86/boot.rst): the setup header is copied
 * into a zero page (struct boot_params) that also holds the command line
 * pointer, the initrd and the e820 memory map; the protected-mode kernel is
 * loaded at 1 MiB and entered in flat 32-bit protected mode with
 * ESI = the zero page.  The BIOS does not run first; the ACPI tables
 * (acpi.c: the APICs, the PIIX4 power management block) are placed below
 * the EBDA and passed in the zero page's acpi_rsdp_addr.  The images are
 * loaded again on every reset. */
#include "targets/x86/linuxboot.h"

#include <string.h>

#include "targets/x86/acpi.h"
#include "targets/x86/boot.h"
#include "vmm/error.h"
#include "vmm/loader.h"

/* Where things go (below 640 KiB; the kernel keeps the first MiB). */
#define LB_GDT_ADDR     0x6000u
#define LB_ZERO_PAGE    0x7000u
#define LB_CMDLINE_ADDR 0x20000u
#define LB_CMDLINE_MAX  0x10000u
#define LB_KERNEL_ADDR  0x100000u
#define LB_ACPI_ADDR    0x9f000u    /* up to the EBDA at 0x9fc00 */
#define LB_BOOT_CS      0x10
#define LB_BOOT_DS      0x18

/* Setup header fields (offsets in both the image and the zero page). */
#define SH_SETUP_SECTS  0x1f1
#define SH_BOOT_FLAG    0x1fe
#define SH_JUMP_LEN     0x201
#define SH_MAGIC        0x202
#define SH_VERSION      0x206
#define SH_LOADER_TYPE  0x210
#define SH_LOADFLAGS    0x211
#define SH_CODE32_START 0x214
#define SH_RAMDISK_IMG  0x218
#define SH_RAMDISK_SIZE 0x21c
#define SH_CMDLINE_PTR  0x228
#define SH_INITRD_MAX   0x22c
#define SH_CMDLINE_SIZE 0x238
#define ZP_EXT_RD_SIZE  0x0c4
#define ZP_ACPI_RSDP    0x070
#define ZP_E820_ENTRIES 0x1e8
#define ZP_E820_TABLE   0x2d0
#define ZP_E820_MAX     128

#define LOADED_HIGH     0x01
#define CAN_USE_HEAP    0x80

struct LinuxBoot {
    uint8_t *kernel;
    size_t kernel_len;
    char *cmdline;
    uint8_t *initrd;
    size_t initrd_len;
    uint64_t ram_low, ram_high;
};

static uint32_t rd16(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t rd32(const uint8_t *p)
{
    return rd16(p) | rd16(p + 2) << 16;
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void wr64(uint8_t *p, uint64_t v)
{
    wr32(p, (uint32_t)v);
    wr32(p + 4, (uint32_t)(v >> 32));
}

bool linuxboot_is_linux(const uint8_t *img, size_t len)
{
    return len > SH_VERSION + 2 && !memcmp(img + SH_MAGIC, "HdrS", 4);
}

/* Validate the header; *setup_len: bytes of the real-mode part. */
static bool check_header(const LinuxBoot *lb, size_t *setup_len, GError **err)
{
    const uint8_t *img = lb->kernel;
    uint32_t version = rd16(img + SH_VERSION);
    if (rd16(img + SH_BOOT_FLAG) != 0xaa55) {
        tn_error(err, "Linux kernel: boot flag 0x%x is not 0xaa55", rd16(img + SH_BOOT_FLAG));
        return false;
    }
    if (version < 0x202 || !(img[SH_LOADFLAGS] & LOADED_HIGH)) {
        tn_error(err, "Linux kernel: boot protocol %u.%02u%s; Tandem loads bzImage kernels "
                 "of protocol 2.02 or later", version >> 8, version & 0xff,
                 img[SH_LOADFLAGS] & LOADED_HIGH ? "" : " and not a bzImage (zImage)");
        return false;
    }
    size_t sects = img[SH_SETUP_SECTS] ? img[SH_SETUP_SECTS] : 4;
    *setup_len = (sects + 1) * 512;
    if (*setup_len >= lb->kernel_len) {
        tn_error(err, "Linux kernel: the image (%zu bytes) ends inside its %zu-byte setup "
                 "code", lb->kernel_len, *setup_len);
        return false;
    }
    size_t hdr_end = SH_MAGIC + img[SH_JUMP_LEN];
    if (hdr_end > *setup_len || hdr_end > 0x290) {
        tn_error(err, "Linux kernel: setup header length 0x%zx is out of range", hdr_end);
        return false;
    }
    return true;
}

/* The e820 map: what the pc board has, as SeaBIOS reports it on QEMU. */
static int build_e820(const LinuxBoot *lb, uint8_t *zp)
{
    const uint64_t ents[][3] = {
        { 0, LB_ACPI_ADDR, 1 },
        { LB_ACPI_ADDR, 0x9fc00 - LB_ACPI_ADDR, 3 },     /* ACPI tables */
        { 0x9fc00, 0x400, 2 },
        { 0xf0000, 0x10000, 2 },
        { 0x100000, lb->ram_low - 0x100000, 1 },
        { 0xfffc0000, 0x40000, 2 },
        { 0x100000000ull, lb->ram_high, 1 },
    };
    int n = 0;
    for (size_t i = 0; i < sizeof(ents) / sizeof(ents[0]); i++) {
        if (!ents[i][1])
            continue;
        uint8_t *e = zp + ZP_E820_TABLE + 20 * n++;
        wr64(e, ents[i][0]);
        wr64(e + 8, ents[i][1]);
        wr32(e + 16, (uint32_t)ents[i][2]);
    }
    return n;
}

static bool load_all(LinuxBoot *lb, X86CPU *cpu, GError **err)
{
    size_t setup_len;
    if (!check_header(lb, &setup_len, err))
        return false;
    const uint8_t *img = lb->kernel;
    uint32_t version = rd16(img + SH_VERSION);
    uint8_t zp[4096];
    memset(zp, 0, sizeof(zp));
    size_t hdr_end = SH_MAGIC + img[SH_JUMP_LEN];
    memcpy(zp + SH_SETUP_SECTS, img + SH_SETUP_SECTS, hdr_end - SH_SETUP_SECTS);

    zp[SH_LOADER_TYPE] = 0xff;                  /* a loader with no assigned id */
    zp[SH_LOADFLAGS] &= (uint8_t)~CAN_USE_HEAP; /* no real-mode setup runs */
    wr32(zp + SH_CODE32_START, LB_KERNEL_ADDR);

    size_t clen = strlen(lb->cmdline);
    uint32_t cmax = version >= 0x206 ? rd32(img + SH_CMDLINE_SIZE) : 255;
    if (clen > cmax || clen >= LB_CMDLINE_MAX) {
        tn_error(err, "Linux kernel: the command line is %zu bytes; this kernel takes at "
                 "most %u", clen, cmax);
        return false;
    }
    if (!load_raw(cpu->as, LB_CMDLINE_ADDR, (const uint8_t *)lb->cmdline, clen + 1, err))
        return false;
    wr32(zp + SH_CMDLINE_PTR, LB_CMDLINE_ADDR);

    size_t kern_len = lb->kernel_len - setup_len;
    if (LB_KERNEL_ADDR + kern_len > lb->ram_low) {
        tn_error(err, "Linux kernel: %zu bytes do not fit in %llu MiB of RAM", kern_len,
                 (unsigned long long)(lb->ram_low >> 20));
        return false;
    }
    if (!load_raw(cpu->as, LB_KERNEL_ADDR, img + setup_len, kern_len, err))
        return false;

    if (lb->initrd) {
        /* As high as the kernel allows, page-aligned (as QEMU places it). */
        uint64_t max = version >= 0x203 ? rd32(img + SH_INITRD_MAX) : 0x37ffffff;
        if (max > lb->ram_low - 1)
            max = lb->ram_low - 1;
        uint64_t kend = LB_KERNEL_ADDR + kern_len;
        if (lb->initrd_len > max + 1 || ((max + 1 - lb->initrd_len) & ~0xfffull) < kend) {
            tn_error(err, "Linux initrd: %zu bytes do not fit between the kernel and "
                     "0x%llx", lb->initrd_len, (unsigned long long)max);
            return false;
        }
        uint64_t at = (max + 1 - lb->initrd_len) & ~0xfffull;
        if (!load_raw(cpu->as, at, lb->initrd, lb->initrd_len, err))
            return false;
        wr32(zp + SH_RAMDISK_IMG, (uint32_t)at);
        wr32(zp + SH_RAMDISK_SIZE, (uint32_t)lb->initrd_len);
        wr32(zp + ZP_EXT_RD_SIZE, (uint32_t)((uint64_t)lb->initrd_len >> 32));
    }
    zp[ZP_E820_ENTRIES] = (uint8_t)build_e820(lb, zp);
    /* ACPI tables where the e820 map says, found through the zero page
     * (boot protocol 2.14; older kernels run without ACPI). */
    uint8_t acpi[PC_ACPI_TABLES_MAX];
    uint32_t rsdp;
    size_t acpi_len = pc_acpi_build(acpi, LB_ACPI_ADDR, &rsdp);
    if (!load_raw(cpu->as, LB_ACPI_ADDR, acpi, acpi_len, err))
        return false;
    wr64(zp + ZP_ACPI_RSDP, rsdp);
    if (!load_raw(cpu->as, LB_ZERO_PAGE, zp, sizeof(zp), err))
        return false;
    if (!x86_boot_flat32(cpu, LB_GDT_ADDR, LB_BOOT_CS, LB_BOOT_DS, LB_KERNEL_ADDR, err))
        return false;
    cpu->regs[X86_RSI] = LB_ZERO_PAGE;
    cpu->regs[X86_RBP] = cpu->regs[X86_RDI] = cpu->regs[X86_RBX] = 0;
    return true;
}

LinuxBoot *linuxboot_load(X86CPU *cpu, const uint8_t *img, size_t len, const char *cmdline,
                          const char *initrd, uint64_t ram_low, uint64_t ram_high,
                          GError **err)
{
    LinuxBoot *lb = g_new0(LinuxBoot, 1);
    lb->kernel = g_memdup2(img, len);
    lb->kernel_len = len;
    lb->cmdline = g_strdup(cmdline ? cmdline : "");
    lb->ram_low = ram_low;
    lb->ram_high = ram_high;
    if (initrd && *initrd && !load_file("initrd", initrd, &lb->initrd, &lb->initrd_len, err)) {
        linuxboot_free(lb);
        return NULL;
    }
    if (!linuxboot_reset(lb, cpu, err)) {
        linuxboot_free(lb);
        return NULL;
    }
    return lb;
}

bool linuxboot_reset(LinuxBoot *lb, X86CPU *cpu, GError **err)
{
    return load_all(lb, cpu, err);
}

void linuxboot_free(LinuxBoot *lb)
{
    if (!lb)
        return;
    g_free(lb->kernel);
    g_free(lb->cmdline);
    g_free(lb->initrd);
    g_free(lb);
}
