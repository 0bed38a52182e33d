/* Multiboot test kernel: prints what the loader passed (the parts QEMU and
 * Tandem both define the same way) on COM1 and exits through
 * isa-debug-exit (0 = pass).  Run with -append "ARGS" -initrd module.txt. */
#include <stdint.h>

static void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port)); }
static uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port)); return v; }

static void putc_(char c)
{
    while (!(inb(0x3fd) & 0x20))
        ;
    outb(0x3f8, (uint8_t)c);
}

static void puts_(const char *s)
{
    while (*s)
        putc_(*s++);
}

static void puthex(uint32_t v)
{
    for (int i = 28; i >= 0; i -= 4)
        putc_("0123456789abcdef"[(v >> i) & 15]);
}

static int fails;

static void check(const char *what, uint32_t got, uint32_t want)
{
    puts_(what);
    puts_(" = ");
    puthex(got);
    if (got != want) {
        puts_(" (want ");
        puthex(want);
        puts_(") FAIL");
        fails++;
    }
    puts_("\n");
}

static uint32_t rd(uint32_t addr) { return *(volatile uint32_t *)(uintptr_t)addr; }

void mb_main(uint32_t magic, uint32_t info)
{
    uint32_t cs, ds, cr0, eflags;
    __asm__ volatile("mov %%cs, %0; mov %%ds, %1; mov %%cr0, %2; pushf; pop %3"
                     : "=r"(cs), "=r"(ds), "=r"(cr0), "=r"(eflags));
    puts_("multiboot test kernel\n");
    check("eax", magic, 0x2badb002);
    uint32_t flags = rd(info);
    check("flags mem|cmdline|mods|mmap", flags & 0x4d, 0x4d);
    /* The amounts depend on what the loader keeps for itself (QEMU boots
     * through SeaBIOS, which reserves its EBDA and tables): ranges only. */
    uint32_t lower = rd(info + 4), upper = rd(info + 8);
    check("mem_lower in 600..640 KiB", lower >= 600 && lower <= 640, 1);
    check("mem_upper in 120..127 MiB", upper >= (120u << 10) && upper <= (127u << 10), 1);
    check("cr0.pe|pg", cr0 & 0x80000001u, 1);
    check("eflags.if|vm", eflags & 0x20200, 0);
    (void)cs;
    (void)ds;
    puts_("cmdline: ");
    const char *cmd = (const char *)(uintptr_t)rd(info + 16);
    /* The loader puts the kernel's path first; print what follows it. */
    while (*cmd && *cmd != ' ')
        cmd++;
    puts_(*cmd ? cmd + 1 : "");
    puts_("\n");
    check("mods_count", rd(info + 20), 1);
    uint32_t mod = rd(info + 24);
    uint32_t start = rd(mod), end = rd(mod + 4);
    check("module page-aligned", start & 0xfff, 0);
    puts_("module: ");
    for (uint32_t p = start; p < end && p < start + 200; p++) {
        char c = *(volatile char *)(uintptr_t)p;
        putc_(c == '\n' ? '|' : c);
    }
    puts_("\n");
    /* The memory map has a RAM entry starting at 1 MiB. */
    uint32_t mm = rd(info + 48), mmlen = rd(info + 44), found = 0;
    for (uint32_t p = mm; p < mm + mmlen; p += rd(p) + 4)
        if (rd(p + 4) == 0x100000 && rd(p + 20) == 1)
            found = 1;
    check("mmap has RAM at 1 MiB", found, 1);
    puts_(fails ? "FAIL\n" : "PASS\n");
    outb(0xf4, (uint8_t)(fails ? 1 : 0));
}
