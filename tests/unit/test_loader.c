#include <criterion/criterion.h>
#include <elf.h>
#include <glib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vmm/loader.h"
#include "vmm/memory.h"

#define RAM_BASE 0x80000000ull
#define RAM_SIZE 0x10000ull
#define ROM_BASE 0x1000ull
#define ROM_SIZE 0x1000ull

static AddressSpace as;
static uint8_t *ram, *rom;

static void setup(void)
{
    as_init(&as);
    ram = g_malloc(RAM_SIZE);
    rom = g_malloc0(ROM_SIZE);
    memset(ram, 0xaa, RAM_SIZE);
    cr_assert_eq(as_add_ram(&as, "ram", RAM_BASE, RAM_SIZE, ram, false), 0);
    cr_assert_eq(as_add_ram(&as, "rom", ROM_BASE, ROM_SIZE, rom, true), 0);
}

static void teardown(void)
{
    g_free(ram);
    g_free(rom);
}

TestSuite(loader, .init = setup, .fini = teardown);

/* ---- a tiny ELF writer ---- */

typedef struct Seg {
    uint32_t type;
    uint64_t paddr, memsz;
    const char *data;        /* file bytes (filesz = strlen) */
} Seg;

/* Builds an ELF of the given class with segments; data follows the program
 * headers.  Returns a g_malloc'ed image. */
static uint8_t *mk_elf(int cls, uint16_t machine, uint64_t entry,
                       const Seg *segs, int n, size_t *len)
{
    size_t eh = cls == 64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    size_t ph = cls == 64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
    size_t off = eh + ph * (size_t)n, total = off;
    for (int i = 0; i < n; i++)
        total += strlen(segs[i].data);
    uint8_t *img = g_malloc0(total);

    memcpy(img, ELFMAG, SELFMAG);
    img[EI_CLASS] = cls == 64 ? ELFCLASS64 : ELFCLASS32;
    img[EI_DATA] = ELFDATA2LSB;
    img[EI_VERSION] = EV_CURRENT;
    if (cls == 64) {
        Elf64_Ehdr h = { .e_type = ET_EXEC, .e_machine = machine,
                         .e_version = EV_CURRENT, .e_entry = entry,
                         .e_phoff = eh, .e_ehsize = (uint16_t)eh,
                         .e_phentsize = (uint16_t)ph, .e_phnum = (uint16_t)n };
        memcpy(h.e_ident, img, EI_NIDENT);
        memcpy(img, &h, sizeof(h));
    } else {
        Elf32_Ehdr h = { .e_type = ET_EXEC, .e_machine = machine,
                         .e_version = EV_CURRENT, .e_entry = (uint32_t)entry,
                         .e_phoff = (uint32_t)eh, .e_ehsize = (uint16_t)eh,
                         .e_phentsize = (uint16_t)ph, .e_phnum = (uint16_t)n };
        memcpy(h.e_ident, img, EI_NIDENT);
        memcpy(img, &h, sizeof(h));
    }
    for (int i = 0; i < n; i++) {
        size_t fsz = strlen(segs[i].data);
        if (cls == 64) {
            Elf64_Phdr p = { .p_type = segs[i].type, .p_offset = off,
                             .p_vaddr = segs[i].paddr, .p_paddr = segs[i].paddr,
                             .p_filesz = fsz, .p_memsz = segs[i].memsz };
            memcpy(img + eh + ph * (size_t)i, &p, sizeof(p));
        } else {
            Elf32_Phdr p = { .p_type = segs[i].type, .p_offset = (uint32_t)off,
                             .p_vaddr = (uint32_t)segs[i].paddr,
                             .p_paddr = (uint32_t)segs[i].paddr,
                             .p_filesz = (uint32_t)fsz,
                             .p_memsz = (uint32_t)segs[i].memsz };
            memcpy(img + eh + ph * (size_t)i, &p, sizeof(p));
        }
        memcpy(img + off, segs[i].data, fsz);
        off += fsz;
    }
    *len = total;
    return img;
}

static const Seg good[] = {
    { PT_LOAD, RAM_BASE + 0x100, 8, "CODECODE" },
    { PT_NOTE, 0, 4, "note" },
    { PT_LOAD, RAM_BASE + 0x2000, 0x20, "data" },     /* 0x1c bytes of bss */
};

static void expect_fail(const uint8_t *img, size_t len, int cls,
                        const char *needle)
{
    GError *err = NULL;
    uint8_t before[RAM_SIZE];
    memcpy(before, ram, RAM_SIZE);
    cr_assert_not(load_elf(&as, img, len, cls, EM_RISCV, NULL, NULL, NULL,
                           &err));
    cr_assert_not_null(err);
    cr_assert(strstr(err->message, needle), "message '%s' lacks '%s'",
              err->message, needle);
    cr_assert_eq(memcmp(before, ram, RAM_SIZE), 0, "RAM written on failure");
    g_error_free(err);
}

Test(loader, elf64_good)
{
    size_t len;
    uint8_t *img = mk_elf(64, EM_RISCV, RAM_BASE + 0x104, good, 3, &len);
    uint64_t entry, lo, hi;
    GError *err = NULL;

    cr_assert(elf_is_elf(img, len));
    cr_assert(load_elf(&as, img, len, 64, EM_RISCV, &entry, &lo, &hi, &err),
              "%s", err ? err->message : "");
    cr_assert_eq(entry, RAM_BASE + 0x104);
    cr_assert_eq(lo, RAM_BASE + 0x100);
    cr_assert_eq(hi, RAM_BASE + 0x2020);
    cr_assert_eq(memcmp(ram + 0x100, "CODECODE", 8), 0);
    cr_assert_eq(memcmp(ram + 0x2000, "data", 4), 0);
    for (int i = 4; i < 0x20; i++)
        cr_assert_eq(ram[0x2000 + i], 0, "bss byte %d not zeroed", i);
    cr_assert_eq(ram[0x2020], 0xaa, "wrote past the segment");
    cr_assert_eq(ram[0xff], 0xaa);
    g_free(img);
}

Test(loader, elf32_good)
{
    size_t len;
    uint8_t *img = mk_elf(32, EM_RISCV, RAM_BASE + 0x100, good, 3, &len);
    uint64_t entry, lo, hi;
    GError *err = NULL;

    cr_assert(load_elf(&as, img, len, 32, EM_RISCV, &entry, &lo, &hi, &err),
              "%s", err ? err->message : "");
    cr_assert_eq(entry, RAM_BASE + 0x100);
    cr_assert_eq(lo, RAM_BASE + 0x100);
    cr_assert_eq(hi, RAM_BASE + 0x2020);
    cr_assert_eq(memcmp(ram + 0x2000, "data\0\0\0", 8), 0);
    g_free(img);
}

Test(loader, elf_into_rom)
{
    static const Seg s[] = { { PT_LOAD, ROM_BASE, 4, "rom!" } };
    size_t len;
    uint8_t *img = mk_elf(64, EM_RISCV, ROM_BASE, s, 1, &len);
    cr_assert(load_elf(&as, img, len, 64, EM_RISCV, NULL, NULL, NULL, NULL));
    cr_assert_eq(memcmp(rom, "rom!", 4), 0);
    g_free(img);
}

Test(loader, elf_wrong_class)
{
    size_t len;
    uint8_t *img = mk_elf(32, EM_RISCV, 0, good, 3, &len);
    expect_fail(img, len, 64, "32-bit ELF");
    g_free(img);
    img = mk_elf(64, EM_RISCV, 0, good, 3, &len);
    expect_fail(img, len, 32, "64-bit ELF");
    img[EI_CLASS] = 7;
    expect_fail(img, len, 64, "bad ELF class");
    g_free(img);
}

Test(loader, elf_wrong_machine_endian_type)
{
    size_t len;
    uint8_t *img = mk_elf(64, EM_X86_64, 0, good, 3, &len);
    expect_fail(img, len, 64, "ELF machine 62");
    g_free(img);

    img = mk_elf(64, EM_RISCV, 0, good, 3, &len);
    img[EI_DATA] = ELFDATA2MSB;
    expect_fail(img, len, 64, "little-endian");
    img[EI_DATA] = ELFDATA2LSB;
    img[offsetof(Elf64_Ehdr, e_type)] = ET_REL;
    expect_fail(img, len, 64, "not an executable");
    g_free(img);
}

Test(loader, elf_not_elf)
{
    const uint8_t junk[] = "\x7f" "ELX and more bytes here";
    cr_assert_not(elf_is_elf(junk, sizeof(junk)));
    cr_assert_not(elf_is_elf((const uint8_t *)"\x7f" "EL", 3));
    expect_fail(junk, sizeof(junk), 64, "not an ELF");
}

Test(loader, elf_truncated)
{
    size_t len;
    uint8_t *img = mk_elf(64, EM_RISCV, 0, good, 3, &len);

    expect_fail(img, 10, 64, "truncated");
    expect_fail(img, sizeof(Elf64_Ehdr) - 1, 64, "truncated");
    /* Program headers cut off. */
    expect_fail(img, sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr), 64,
                "past the end of the file");
    /* Last segment's data cut off. */
    expect_fail(img, len - 1, 64, "truncated?");
    g_free(img);
}

Test(loader, elf_hostile_headers)
{
    size_t len;
    uint8_t *img = mk_elf(64, EM_RISCV, 0, good, 3, &len);
    Elf64_Ehdr h;
    Elf64_Phdr p;

    memcpy(&h, img, sizeof(h));
    h.e_phoff = ~0ull;
    memcpy(img, &h, sizeof(h));
    expect_fail(img, len, 64, "past the end of the file");
    h.e_phoff = sizeof(h);
    h.e_phentsize = 8;
    memcpy(img, &h, sizeof(h));
    expect_fail(img, len, 64, "too small");
    h.e_phentsize = sizeof(Elf64_Phdr);
    h.e_phnum = 0;
    memcpy(img, &h, sizeof(h));
    expect_fail(img, len, 64, "no program headers");
    h.e_phnum = 3;
    memcpy(img, &h, sizeof(h));

    /* Offset that overflows when the size is added. */
    memcpy(&p, img + sizeof(h), sizeof(p));
    Elf64_Phdr bad = p;
    bad.p_offset = ~0ull - 2;
    memcpy(img + sizeof(h), &bad, sizeof(bad));
    expect_fail(img, len, 64, "past the end of the file");
    /* filesz > memsz. */
    bad = p;
    bad.p_memsz = 2;
    memcpy(img + sizeof(h), &bad, sizeof(bad));
    expect_fail(img, len, 64, "exceeds memory size");
    /* Address wrap-around. */
    bad = p;
    bad.p_paddr = ~0ull - 3;
    memcpy(img + sizeof(h), &bad, sizeof(bad));
    expect_fail(img, len, 64, "wraps around");
    /* Outside RAM: nothing may be written, even the valid segments. */
    bad = p;
    bad.p_paddr = RAM_BASE + RAM_SIZE - 4;
    memcpy(img + sizeof(h), &bad, sizeof(bad));
    expect_fail(img, len, 64, "not inside guest RAM");
    g_free(img);
}

Test(loader, elf32_address_space)
{
    static const Seg s[] = { { PT_LOAD, 0xfffffff0ull, 0x20, "x" } };
    size_t len;
    uint8_t *img = mk_elf(32, EM_RISCV, 0, s, 1, &len);
    expect_fail(img, len, 32, "wraps around");
    g_free(img);
}

Test(loader, elf_overlap)
{
    static const Seg s[] = {
        { PT_LOAD, RAM_BASE + 0x1000, 0x100, "a" },
        { PT_LOAD, RAM_BASE + 0x10ff, 0x10, "b" },
    };
    size_t len;
    uint8_t *img = mk_elf(64, EM_RISCV, 0, s, 2, &len);
    expect_fail(img, len, 64, "overlap");
    g_free(img);
}

Test(loader, elf_no_load)
{
    static const Seg s[] = {
        { PT_NOTE, RAM_BASE, 4, "note" },
        { PT_LOAD, RAM_BASE, 0, "" },          /* empty: ignored */
    };
    size_t len;
    uint8_t *img = mk_elf(64, EM_RISCV, 0, s, 2, &len);
    expect_fail(img, len, 64, "no loadable segments");
    g_free(img);
}

/* Random corruption and truncation must give errors, never crashes or
 * writes outside RAM. */
Test(loader, elf_fuzz)
{
    size_t len;
    uint8_t *img = mk_elf(64, EM_RISCV, 0, good, 3, &len);
    GRand *r = g_rand_new_with_seed(1234);

    for (int iter = 0; iter < 20000; iter++) {
        uint8_t *m = g_memdup2(img, len);
        int flips = g_rand_int_range(r, 1, 6);
        for (int k = 0; k < flips; k++)
            m[g_rand_int_range(r, 0, (gint32)len)] = (uint8_t)g_rand_int(r);
        size_t l = g_rand_boolean(r) ? len : (size_t)g_rand_int_range(r, 0, (gint32)len);
        GError *err = NULL;
        uint64_t lo, hi;
        if (load_elf(&as, m, l, 64, EM_RISCV, NULL, &lo, &hi, &err)) {
            cr_assert(lo >= ROM_BASE && hi <= RAM_BASE + RAM_SIZE);
        } else {
            cr_assert_not_null(err);
            g_error_free(err);
        }
        g_free(m);
    }
    g_rand_free(r);
    g_free(img);
}

Test(loader, raw)
{
    GError *err = NULL;
    cr_assert(load_raw(&as, RAM_BASE + 0x10, (const uint8_t *)"raw", 3, &err));
    cr_assert_eq(memcmp(ram + 0x10, "raw", 3), 0);
    cr_assert(load_raw(&as, RAM_BASE + RAM_SIZE - 3, (const uint8_t *)"end", 3,
                       NULL));
    cr_assert_not(load_raw(&as, RAM_BASE + RAM_SIZE - 2,
                           (const uint8_t *)"end", 3, &err));
    cr_assert(strstr(err->message, "do not fit in guest RAM"), "%s",
              err->message);
    g_clear_error(&err);
    cr_assert_not(load_raw(&as, ~0ull - 1, (const uint8_t *)"end", 3, &err));
    g_clear_error(&err);
    cr_assert_not(load_raw(&as, 0x40000000, (const uint8_t *)"x", 1, &err));
    g_clear_error(&err);
}

Test(loader, linux_image_header)
{
    uint8_t h[64] = { 0 };
    LinuxRiscvImage li;

    h[0x08] = 0x00; h[0x0a] = 0x20;              /* text_offset 0x200000 */
    h[0x10] = 0x00; h[0x12] = 0x40; h[0x13] = 0x01;  /* image_size 0x1400000 */
    h[0x20] = 0x02;                              /* version 0.2 */
    cr_assert_not(linux_riscv_image_parse(h, sizeof(h), &li));
    memcpy(h + 0x38, "RSC\x05", 4);
    cr_assert(linux_riscv_image_parse(h, sizeof(h), &li));
    cr_assert_eq(li.text_offset, 0x200000);
    cr_assert_eq(li.image_size, 0x1400000);
    cr_assert_eq(li.flags, 0);
    cr_assert_eq(li.version, 2);
    cr_assert_not(linux_riscv_image_parse(h, 63, &li));
}

Test(loader, load_file_errors)
{
    GError *err = NULL;
    uint8_t *d;
    size_t n;
    char path[] = "/tmp/tandem-loader-XXXXXX";

    cr_assert_not(load_file("kernel", "/nonexistent/vmlinux", &d, &n, &err));
    cr_assert(strstr(err->message, "kernel"), "%s", err->message);
    cr_assert(strstr(err->message, "/nonexistent/vmlinux"), "%s", err->message);
    g_clear_error(&err);

    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    close(fd);
    cr_assert_not(load_file("initrd", path, &d, &n, &err));
    cr_assert(strstr(err->message, "is empty"), "%s", err->message);
    g_clear_error(&err);
    cr_assert(g_file_set_contents(path, "abc", 3, NULL));
    cr_assert(load_file("initrd", path, &d, &n, &err));
    cr_assert_eq(n, 3);
    cr_assert_eq(memcmp(d, "abc", 3), 0);
    g_free(d);
    unlink(path);

    cr_assert_not(load_file("firmware", "/tmp", &d, &n, &err));
    cr_assert(strstr(err->message, "firmware"), "%s", err->message);
    g_clear_error(&err);
}

Test(loader, loadmap)
{
    LoadMap lm;
    GError *err = NULL;

    loadmap_init(&lm);
    cr_assert(loadmap_add(&lm, "firmware", "fw.bin", RAM_BASE, RAM_BASE + 0x100,
                          &err));
    cr_assert(loadmap_add(&lm, "kernel", "Image", RAM_BASE + 0x100,
                          RAM_BASE + 0x200, &err));
    cr_assert(loadmap_add(&lm, "empty", NULL, RAM_BASE, RAM_BASE, &err));
    cr_assert_eq(lm.n, 2);
    cr_assert_not(loadmap_add(&lm, "initrd", "rd", RAM_BASE + 0x1ff,
                              RAM_BASE + 0x300, &err));
    cr_assert(strstr(err->message, "initrd 'rd' [0x800001ff, 0x80000300) "
                     "overlaps kernel 'Image' [0x80000100, 0x80000200)"),
              "%s", err->message);
    g_clear_error(&err);

    memset(ram, 0x11, 0x200);
    cr_assert(loadmap_snapshot(&lm, &as, &err));
    memset(ram, 0x22, 0x300);
    loadmap_restore(&lm, &as);
    for (int i = 0; i < 0x200; i++)
        cr_assert_eq(ram[i], 0x11);
    cr_assert_eq(ram[0x200], 0x22);
    loadmap_free(&lm);

    loadmap_init(&lm);
    cr_assert(loadmap_add(&lm, "far", NULL, 0x40000000, 0x40000010, &err));
    cr_assert_not(loadmap_snapshot(&lm, &as, &err));
    cr_assert(strstr(err->message, "far [0x40000000"), "%s", err->message);
    g_clear_error(&err);
    loadmap_free(&lm);
}
