/* Multiboot (version 1) kernels for the pc board: `-kernel` with a kernel
 * that carries a multiboot header in its first 8 KiB, `-append` as its
 * command line and `-initrd` files (comma-separated) as modules, as QEMU
 * takes them.
 *
 * QEMU boots such a kernel through SeaBIOS and an option ROM; Tandem loads
 * it directly and starts the CPU in the state the specification defines
 * (32-bit protected mode, flat CS/DS/ES/FS/GS/SS, paging off, interrupts
 * off, EAX = 0x2BADB002, EBX = the multiboot information).  What the kernel
 * can see is the same; the BIOS data the kernel is not promised (the IVT,
 * the BDA) is not set up.  The images are loaded again on every reset. */
#include "targets/x86/multiboot.h"

#include <string.h>

#include "targets/x86/boot.h"
#include "vmm/error.h"
#include "vmm/loader.h"

#define MB_MAGIC       0x1badb002u
#define MB_BOOT_MAGIC  0x2badb002u
#define MB_SEARCH      8192
#define MB_AOUT_KLUDGE (1u << 16)
/* Header flags we honour: 0 page-align modules, 1 memory info, 16 a.out
 * kludge.  Bit 2 (video mode) is a request we may ignore (no display). */
#define MB_KNOWN_FLAGS (1u << 0 | 1u << 1 | 1u << 2 | MB_AOUT_KLUDGE)

/* Where the boot information goes (below 640 KiB, clear of the kernel). */
#define MB_INFO_ADDR   0x9000u
#define MB_GDT_ADDR    0x8f00u

struct Multiboot {
    uint8_t *kernel;
    size_t kernel_len;
    char *cmdline;
    uint8_t **mods;
    size_t *mod_len;
    char **mod_names;
    int nmods;
    uint64_t ram_low;
    uint32_t entry;
};

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Offset of a valid header in the first 8 KiB, or -1. */
static long find_header(const uint8_t *img, size_t len)
{
    size_t lim = len < MB_SEARCH ? len : MB_SEARCH;
    for (size_t off = 0; off + 12 <= lim; off += 4) {
        uint32_t magic = rd32(img + off), flags = rd32(img + off + 4);
        if (magic == MB_MAGIC && (uint32_t)(magic + flags + rd32(img + off + 8)) == 0)
            return (long)off;
    }
    return -1;
}

bool multiboot_is_multiboot(const uint8_t *img, size_t len)
{
    return find_header(img, len) >= 0;
}

/* Load the kernel into guest memory; sets mb->entry. */
static bool load_kernel(Multiboot *mb, AddressSpace *as, uint32_t *end, GError **err)
{
    const uint8_t *img = mb->kernel;
    long off = find_header(img, mb->kernel_len);
    uint32_t flags = rd32(img + off + 4);
    if (flags & 0xffff & ~MB_KNOWN_FLAGS) {
        tn_error(err, "multiboot kernel: header flags 0x%x ask for features Tandem does "
                 "not provide", flags);
        return false;
    }
    if (flags & MB_AOUT_KLUDGE) {
        if ((size_t)off + 32 > mb->kernel_len) {
            tn_error(err, "multiboot kernel: the a.out header is cut short");
            return false;
        }
        uint32_t header_addr = rd32(img + off + 12), load_addr = rd32(img + off + 16);
        uint32_t load_end = rd32(img + off + 20), bss_end = rd32(img + off + 24);
        mb->entry = rd32(img + off + 28);
        if (header_addr < load_addr || header_addr - load_addr > (uint32_t)off) {
            tn_error(err, "multiboot kernel: header_addr 0x%x is not inside the image "
                     "loaded at 0x%x", header_addr, load_addr);
            return false;
        }
        size_t file_off = (size_t)off - (header_addr - load_addr);
        size_t n = load_end ? (size_t)(load_end - load_addr) : mb->kernel_len - file_off;
        if (load_end && load_end < load_addr) {
            tn_error(err, "multiboot kernel: load_end_addr 0x%x is below load_addr 0x%x",
                     load_end, load_addr);
            return false;
        }
        if (file_off + n > mb->kernel_len)
            n = mb->kernel_len - file_off;
        if (!load_raw(as, load_addr, img + file_off, n, err))
            return false;
        *end = load_addr + (uint32_t)n;
        if (bss_end > *end) {
            uint8_t *bss = as_host_ptr(as, *end, bss_end - *end);
            if (!bss) {
                tn_error(err, "multiboot kernel: bss 0x%x-0x%x is not in RAM", *end, bss_end);
                return false;
            }
            memset(bss, 0, bss_end - *end);
            *end = bss_end;
        }
        return true;
    }
    if (!elf_is_elf(img, mb->kernel_len)) {
        tn_error(err, "multiboot kernel: neither ELF nor an a.out-kludge header");
        return false;
    }
    uint64_t entry, lo, hi;
    if (!load_elf(as, img, mb->kernel_len, 32, 3 /* EM_386 */, &entry, &lo, &hi, err))
        return false;
    mb->entry = (uint32_t)entry;
    *end = (uint32_t)hi;
    return true;
}

/* Kernel, modules, then the information structure; returns its address. */
static bool load_all(Multiboot *mb, AddressSpace *as, GError **err)
{
    uint32_t end;
    if (!load_kernel(mb, as, &end, err))
        return false;
    /* Modules page-aligned after the kernel, then their names and the
     * command line in the information area. */
    uint8_t info[4096];
    memset(info, 0, sizeof(info));
    uint32_t mod_addr = (end + 0xfff) & ~0xfffu;
    uint32_t strings = MB_INFO_ADDR + 0x400;
    size_t str_off = 0x400;
    uint32_t flags = 1u << 0 | 1u << 2 | 1u << 6;   /* mem, cmdline, mmap */
    uint64_t low = mb->ram_low;
    wr32(info + 4, 640);                              /* mem_lower (KiB) */
    wr32(info + 8, (uint32_t)((low - 0x100000) >> 10)); /* mem_upper */
    size_t clen = strlen(mb->cmdline) + 1;
    if (str_off + clen > sizeof(info)) {
        tn_error(err, "multiboot: the command line is too long (%zu bytes)", clen - 1);
        return false;
    }
    memcpy(info + str_off, mb->cmdline, clen);
    wr32(info + 16, strings);
    str_off += clen;
    if (mb->nmods) {
        flags |= 1u << 3;
        uint32_t mods_table = MB_INFO_ADDR + 0x100;
        wr32(info + 20, (uint32_t)mb->nmods);
        wr32(info + 24, mods_table);
        for (int i = 0; i < mb->nmods; i++) {
            if (!load_raw(as, mod_addr, mb->mods[i], mb->mod_len[i], err))
                return false;
            size_t nlen = strlen(mb->mod_names[i]) + 1;
            if (str_off + nlen > sizeof(info) || 0x100 + 16 * (i + 1) > 0x200) {
                tn_error(err, "multiboot: too many modules or names too long");
                return false;
            }
            memcpy(info + str_off, mb->mod_names[i], nlen);
            uint8_t *e = info + 0x100 + 16 * i;
            wr32(e, mod_addr);
            wr32(e + 4, mod_addr + (uint32_t)mb->mod_len[i]);
            wr32(e + 8, MB_INFO_ADDR + (uint32_t)str_off);
            str_off += nlen;
            mod_addr = (mod_addr + (uint32_t)mb->mod_len[i] + 0xfff) & ~0xfffu;
        }
    }
    /* Memory map: each entry is size (20), base, length, type. */
    uint32_t mmap = MB_INFO_ADDR + 0x200;
    const uint64_t ents[3][3] = {
        { 0, 0x9fc00, 1 }, { 0x100000, low - 0x100000, 1 }, { 0xfffc0000, 0x40000, 2 },
    };
    for (int i = 0; i < 3; i++) {
        uint8_t *e = info + 0x200 + 24 * i;
        wr32(e, 20);
        wr32(e + 4, (uint32_t)ents[i][0]);
        wr32(e + 8, (uint32_t)(ents[i][0] >> 32));
        wr32(e + 12, (uint32_t)ents[i][1]);
        wr32(e + 16, (uint32_t)(ents[i][1] >> 32));
        wr32(e + 20, (uint32_t)ents[i][2]);
    }
    wr32(info + 44, 3 * 24);
    wr32(info + 48, mmap);
    wr32(info, flags);
    return load_raw(as, MB_INFO_ADDR, info, sizeof(info), err);
}

Multiboot *multiboot_load(X86CPU *cpu, const char *kernel, const uint8_t *img, size_t len,
                          const char *cmdline, const char *initrd, uint64_t ram_low,
                          GError **err)
{
    Multiboot *mb = g_new0(Multiboot, 1);
    mb->kernel = g_memdup2(img, len);
    mb->kernel_len = len;
    mb->cmdline = g_strdup_printf("%s%s%s", kernel, cmdline && *cmdline ? " " : "",
                                  cmdline ? cmdline : "");
    mb->ram_low = ram_low;
    if (initrd && *initrd) {
        gchar **names = g_strsplit(initrd, ",", -1);
        mb->nmods = (int)g_strv_length(names);
        mb->mods = g_new0(uint8_t *, mb->nmods);
        mb->mod_len = g_new0(size_t, mb->nmods);
        mb->mod_names = g_new0(char *, mb->nmods);
        for (int i = 0; i < mb->nmods; i++) {
            /* "file arguments": the file is the first word. */
            gchar **w = g_strsplit(names[i], " ", 2);
            mb->mod_names[i] = g_strdup(names[i]);
            bool ok = load_file("multiboot module", w[0], &mb->mods[i], &mb->mod_len[i], err);
            g_strfreev(w);
            if (!ok) {
                g_strfreev(names);
                multiboot_free(mb);
                return NULL;
            }
        }
        g_strfreev(names);
    }
    if (!multiboot_reset(mb, cpu, err)) {
        multiboot_free(mb);
        return NULL;
    }
    return mb;
}

bool multiboot_reset(Multiboot *mb, X86CPU *cpu, GError **err)
{
    if (!load_all(mb, cpu->as, err) ||
        !x86_boot_flat32(cpu, MB_GDT_ADDR, 0x08, 0x10, mb->entry, err))
        return false;
    cpu->regs[X86_RAX] = MB_BOOT_MAGIC;
    cpu->regs[X86_RBX] = MB_INFO_ADDR;
    return true;
}

void multiboot_free(Multiboot *mb)
{
    if (!mb)
        return;
    for (int i = 0; i < mb->nmods; i++) {
        g_free(mb->mods[i]);
        g_free(mb->mod_names[i]);
    }
    g_free(mb->mods);
    g_free(mb->mod_len);
    g_free(mb->mod_names);
    g_free(mb->cmdline);
    g_free(mb->kernel);
    g_free(mb);
}
