#include "vmm/loader.h"

#include <elf.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/error.h"

static uint64_t rd_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

#define FIELD(img, type, field) \
    rd_le((img) + offsetof(type, field), sizeof(((type *)0)->field))

bool load_file(const char *what, const char *path, uint8_t **data,
               size_t *len, GError **err)
{
    gchar *buf;
    gsize n;
    GError *e = NULL;

    if (!g_file_get_contents(path, &buf, &n, &e)) {
        tn_error(err, "%s: %s", what, e->message);
        g_error_free(e);
        return false;
    }
    if (n == 0) {
        tn_error(err, "%s '%s' is empty", what, path);
        g_free(buf);
        return false;
    }
    *data = (uint8_t *)buf;
    *len = n;
    return true;
}

bool elf_is_elf(const uint8_t *img, size_t len)
{
    return len >= SELFMAG && memcmp(img, ELFMAG, SELFMAG) == 0;
}

typedef struct ElfSeg {
    uint64_t offset, paddr, filesz, memsz;
    int index;
} ElfSeg;

static int seg_cmp(const void *a, const void *b)
{
    const ElfSeg *x = a, *y = b;
    return x->paddr < y->paddr ? -1 : x->paddr > y->paddr;
}

/* Parse the ELF header and PT_LOAD segments (memsz != 0) into *segs. */
static bool elf_parse(const uint8_t *img, size_t len, int expect_class,
                      uint16_t expect_machine, uint64_t *entry, ElfSeg **segs,
                      int *nsegs, GError **err)
{
    bool is64;
    uint64_t phoff, phentsize, phnum, machine, type, minent;

    if (!elf_is_elf(img, len)) {
        tn_error(err, "not an ELF file");
        return false;
    }
    if (len < EI_NIDENT) {
        tn_error(err, "ELF header truncated");
        return false;
    }
    if (img[EI_CLASS] != ELFCLASS32 && img[EI_CLASS] != ELFCLASS64) {
        tn_error(err, "bad ELF class %u", img[EI_CLASS]);
        return false;
    }
    is64 = img[EI_CLASS] == ELFCLASS64;
    if ((is64 ? 64 : 32) != expect_class) {
        tn_error(err, "%d-bit ELF, but this machine needs a %d-bit one",
                 is64 ? 64 : 32, expect_class);
        return false;
    }
    if (img[EI_DATA] != ELFDATA2LSB) {
        tn_error(err, "ELF is not little-endian");
        return false;
    }
    if (len < (is64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr))) {
        tn_error(err, "ELF header truncated (file is %zu bytes)", len);
        return false;
    }
    if (is64) {
        type = FIELD(img, Elf64_Ehdr, e_type);
        machine = FIELD(img, Elf64_Ehdr, e_machine);
        *entry = FIELD(img, Elf64_Ehdr, e_entry);
        phoff = FIELD(img, Elf64_Ehdr, e_phoff);
        phentsize = FIELD(img, Elf64_Ehdr, e_phentsize);
        phnum = FIELD(img, Elf64_Ehdr, e_phnum);
        minent = sizeof(Elf64_Phdr);
    } else {
        type = FIELD(img, Elf32_Ehdr, e_type);
        machine = FIELD(img, Elf32_Ehdr, e_machine);
        *entry = FIELD(img, Elf32_Ehdr, e_entry);
        phoff = FIELD(img, Elf32_Ehdr, e_phoff);
        phentsize = FIELD(img, Elf32_Ehdr, e_phentsize);
        phnum = FIELD(img, Elf32_Ehdr, e_phnum);
        minent = sizeof(Elf32_Phdr);
    }
    if (type != ET_EXEC && type != ET_DYN) {
        tn_error(err, "ELF type %" PRIu64 " is not an executable", type);
        return false;
    }
    if (machine != expect_machine) {
        tn_error(err, "ELF machine %" PRIu64 ", but this machine needs %u",
                 machine, expect_machine);
        return false;
    }
    if (phnum == 0 || phnum == PN_XNUM) {
        tn_error(err, "ELF has %s program headers",
                 phnum ? "extended numbering of" : "no");
        return false;
    }
    if (phentsize < minent) {
        tn_error(err, "ELF program header size %" PRIu64 " is too small",
                 phentsize);
        return false;
    }
    /* phnum, phentsize < 2^16: the product cannot overflow. */
    if (phoff > len || phnum * phentsize > len - phoff) {
        tn_error(err, "ELF program headers (offset 0x%" PRIx64 ", %" PRIu64
                 " x %" PRIu64 " bytes) run past the end of the file "
                 "(%zu bytes)", phoff, phnum, phentsize, len);
        return false;
    }

    ElfSeg *s = g_new0(ElfSeg, phnum);
    int n = 0;
    for (uint64_t i = 0; i < phnum; i++) {
        const uint8_t *ph = img + phoff + i * phentsize;
        ElfSeg g = { .index = (int)i };
        if (is64) {
            if (FIELD(ph, Elf64_Phdr, p_type) != PT_LOAD)
                continue;
            g.offset = FIELD(ph, Elf64_Phdr, p_offset);
            g.paddr = FIELD(ph, Elf64_Phdr, p_paddr);
            g.filesz = FIELD(ph, Elf64_Phdr, p_filesz);
            g.memsz = FIELD(ph, Elf64_Phdr, p_memsz);
        } else {
            if (FIELD(ph, Elf32_Phdr, p_type) != PT_LOAD)
                continue;
            g.offset = FIELD(ph, Elf32_Phdr, p_offset);
            g.paddr = FIELD(ph, Elf32_Phdr, p_paddr);
            g.filesz = FIELD(ph, Elf32_Phdr, p_filesz);
            g.memsz = FIELD(ph, Elf32_Phdr, p_memsz);
        }
        if (g.memsz == 0)
            continue;
        if (g.filesz > g.memsz) {
            tn_error(err, "ELF segment %d: file size 0x%" PRIx64 " exceeds "
                     "memory size 0x%" PRIx64, g.index, g.filesz, g.memsz);
            goto fail;
        }
        if (g.offset > len || g.filesz > len - g.offset) {
            tn_error(err, "ELF segment %d (offset 0x%" PRIx64 ", 0x%" PRIx64
                     " bytes) runs past the end of the file (%zu bytes): "
                     "truncated?",
                     g.index, g.offset, g.filesz, len);
            goto fail;
        }
        if (g.paddr + g.memsz < g.paddr ||
            (!is64 && g.paddr + g.memsz > (1ull << 32))) {
            tn_error(err, "ELF segment %d at 0x%" PRIx64 " (0x%" PRIx64
                     " bytes) wraps around the address space", g.index,
                     g.paddr, g.memsz);
            goto fail;
        }
        s[n++] = g;
    }
    if (n == 0) {
        tn_error(err, "ELF has no loadable segments");
        goto fail;
    }
    qsort(s, (size_t)n, sizeof(*s), seg_cmp);
    for (int i = 1; i < n; i++) {
        if (s[i - 1].paddr + s[i - 1].memsz > s[i].paddr) {
            tn_error(err, "ELF segments %d and %d overlap at physical "
                     "address 0x%" PRIx64,
                     s[i - 1].index, s[i].index, s[i].paddr);
            goto fail;
        }
    }
    *segs = s;
    *nsegs = n;
    return true;

fail:
    g_free(s);
    return false;
}

bool load_elf(AddressSpace *as, const uint8_t *img, size_t len,
              int expect_class, uint16_t expect_machine, uint64_t *entry,
              uint64_t *lowest, uint64_t *highest, GError **err)
{
    ElfSeg *s;
    int n;
    uint64_t e;

    if (!elf_parse(img, len, expect_class, expect_machine, &e, &s, &n, err))
        return false;
    for (int i = 0; i < n; i++) {
        if (!as_host_ptr(as, s[i].paddr, s[i].memsz)) {
            tn_error(err, "ELF segment %d [0x%" PRIx64 ", 0x%" PRIx64
                     ") is not inside guest RAM", s[i].index, s[i].paddr,
                     s[i].paddr + s[i].memsz);
            g_free(s);
            return false;
        }
    }
    for (int i = 0; i < n; i++) {
        uint8_t *host = as_host_ptr(as, s[i].paddr, s[i].memsz);
        memcpy(host, img + s[i].offset, s[i].filesz);
        memset(host + s[i].filesz, 0, s[i].memsz - s[i].filesz);
        if (as->code_write)
            as->code_write(as->code_write_opaque, s[i].paddr, s[i].memsz);
    }
    if (entry)
        *entry = e;
    if (lowest)
        *lowest = s[0].paddr;
    if (highest)
        *highest = s[n - 1].paddr + s[n - 1].memsz;
    g_free(s);
    return true;
}

bool load_raw(AddressSpace *as, uint64_t addr, const uint8_t *img, size_t len,
              GError **err)
{
    if (addr + len < addr || !as_host_ptr(as, addr, len)) {
        tn_error(err, "0x%zx bytes at 0x%" PRIx64 " do not fit in guest RAM",
                 len, addr);
        return false;
    }
    as_copy_to(as, addr, img, len);
    return true;
}

bool linux_riscv_image_parse(const uint8_t *img, size_t len,
                             LinuxRiscvImage *h)
{
    if (len < 64 || rd_le(img + 0x38, 4) != LINUX_RISCV_IMAGE_MAGIC2)
        return false;
    h->text_offset = rd_le(img + 0x08, 8);
    h->image_size = rd_le(img + 0x10, 8);
    h->flags = rd_le(img + 0x18, 8);
    h->version = (uint32_t)rd_le(img + 0x20, 4);
    return true;
}

void loadmap_init(LoadMap *lm)
{
    memset(lm, 0, sizeof(*lm));
}

void loadmap_free(LoadMap *lm)
{
    for (int i = 0; i < lm->n; i++) {
        g_free(lm->r[i].what);
        g_free(lm->r[i].file);
        g_free(lm->r[i].saved);
    }
    g_free(lm->r);
    loadmap_init(lm);
}

static char *range_name(const char *what, const char *file, uint64_t start,
                        uint64_t end)
{
    return g_strdup_printf("%s%s%s%s [0x%" PRIx64 ", 0x%"
                           PRIx64 ")", what, file ? " '" : "",
                           file ? file : "", file ? "'" : "", start, end);
}

bool loadmap_add(LoadMap *lm, const char *what, const char *file,
                 uint64_t start, uint64_t end, GError **err)
{
    if (end <= start)
        return true;
    for (int i = 0; i < lm->n; i++) {
        const LoadRange *o = &lm->r[i];
        if (start < o->end && o->start < end) {
            char *a = range_name(what, file, start, end);
            char *b = range_name(o->what, o->file, o->start, o->end);
            tn_error(err, "%s overlaps %s", a, b);
            g_free(a);
            g_free(b);
            return false;
        }
    }
    if (lm->n == lm->cap) {
        lm->cap = lm->cap ? lm->cap * 2 : 4;
        lm->r = g_renew(LoadRange, lm->r, lm->cap);
    }
    LoadRange *r = &lm->r[lm->n++];
    r->what = g_strdup(what);
    r->file = g_strdup(file);
    r->start = start;
    r->end = end;
    r->saved = NULL;
    return true;
}

bool loadmap_snapshot(LoadMap *lm, AddressSpace *as, GError **err)
{
    for (int i = 0; i < lm->n; i++) {
        LoadRange *r = &lm->r[i];
        uint8_t *buf = g_malloc(r->end - r->start);
        if (as_copy_from(as, r->start, buf, r->end - r->start) != MEM_OK) {
            char *a = range_name(r->what, r->file, r->start, r->end);
            tn_error(err, "%s is not inside guest RAM", a);
            g_free(a);
            g_free(buf);
            return false;
        }
        g_free(r->saved);
        r->saved = buf;
    }
    return true;
}

void loadmap_restore(const LoadMap *lm, AddressSpace *as)
{
    for (int i = 0; i < lm->n; i++) {
        const LoadRange *r = &lm->r[i];
        if (r->saved)
            as_copy_to(as, r->start, r->saved, r->end - r->start);
    }
}
