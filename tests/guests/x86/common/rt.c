/* Tandem x86 test guests: C runtime (serial, printf, checks, IDT/TSS/GDT,
 * exception records and recovery, final register dump, exit). */
#include "rt.h"

int rt_dump_fpu;
unsigned rt_failures;
volatile rt_fault_t rt_fault;

/* ------------------------------------------------------------ libc bits */
void *memset(void *d, int c, size_t n)
{
    u8 *p = d;
    while (n--)
        *p++ = (u8)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    u8 *p = d;
    const u8 *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const u8 *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p < *q ? -1 : 1;
    return 0;
}

size_t strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

/* ---------------------------------------------------------------- serial */
#define COM1 0x3f8

static void serial_init(void)
{
    outb(COM1 + 1, 0x00);   /* IER: no interrupts */
    outb(COM1 + 3, 0x80);   /* LCR: DLAB */
    outb(COM1 + 0, 0x01);   /* DLL: 115200 baud */
    outb(COM1 + 1, 0x00);   /* DLM */
    outb(COM1 + 3, 0x03);   /* LCR: 8N1 */
    outb(COM1 + 2, 0xC7);   /* FCR: FIFO on, cleared, 14-byte trigger */
    outb(COM1 + 4, 0x0B);   /* MCR: DTR RTS OUT2 */
}

void rt_putc(char c)
{
    while (!(inb(COM1 + 5) & 0x20))
        ;
    outb(COM1, (u8)c);
}

void rt_puts(const char *s)
{
    while (*s)
        rt_putc(*s++);
}

/* 64-bit unsigned divide by 10 without libgcc. */
static u64 div10(u64 n, unsigned *rem)
{
#ifdef RT_LM64
    *rem = (unsigned)(n % 10);
    return n / 10;
#else
    u32 hi = (u32)(n >> 32), lo = (u32)n, qhi = hi / 10, r = hi % 10, qlo;
    __asm__("divl %4" : "=a"(qlo), "=d"(r) : "a"(lo), "d"(r), "r"(10u));
    *rem = r;
    return ((u64)qhi << 32) | qlo;
#endif
}

static void put_num(u64 v, unsigned base, int width, char pad, int neg, int upper)
{
    char buf[24];
    int n = 0;
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    do {
        unsigned d;
        if (base == 16) {
            d = (unsigned)(v & 15);
            v >>= 4;
        } else {
            v = div10(v, &d);
        }
        buf[n++] = digits[d];
    } while (v);
    if (neg)
        buf[n++] = '-';
    while (n < width)
        buf[n++] = pad;
    while (n)
        rt_putc(buf[--n]);
}

void rt_vprintf(const char *fmt, va_list ap)
{
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            rt_putc(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, lng = 0, left = 0;
        if (*fmt == '-') {
            left = 1;
            fmt++;
        }
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'z') {
            lng += *fmt == 'z' ? (sizeof(size_t) == 8 ? 2 : 1) : 1;
            fmt++;
        }
        if (lng == 1 && sizeof(long) == 8)
            lng = 2;
        u64 v;
        switch (*fmt) {
        case 'd': {
            long long s = lng >= 2 ? va_arg(ap, long long) : lng ? va_arg(ap, long) : va_arg(ap, int);
            put_num(s < 0 ? -(u64)s : (u64)s, 10, width, pad, s < 0, 0);
            break;
        }
        case 'u': case 'x': case 'X':
            v = lng >= 2 ? va_arg(ap, unsigned long long) : lng ? va_arg(ap, unsigned long)
                                                              : va_arg(ap, unsigned);
            put_num(v, *fmt == 'u' ? 10 : 16, width, pad, 0, *fmt == 'X');
            break;
        case 'p':
            put_num((uintptr_t)va_arg(ap, void *), 16, width, pad, 0, 0);
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            int l = (int)strlen(s);
            if (left)
                rt_puts(s);
            while (l++ < width)
                rt_putc(' ');
            if (!left)
                rt_puts(s);
            break;
        }
        case 'c':
            rt_putc((char)va_arg(ap, int));
            break;
        case '%':
            rt_putc('%');
            break;
        default:
            rt_putc('?');
            break;
        }
    }
}

void rt_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    rt_vprintf(fmt, ap);
    va_end(ap);
}

void rt_check_fail(const char *file, int line, const char *expr, u64 got, u64 want)
{
    rt_failures++;
    rt_printf("TEST %s: FAIL at %s:%d: %s: got 0x%llx expected 0x%llx\n",
              rt_test_name, file, line, expr, (unsigned long long)got, (unsigned long long)want);
}

void rt_panic(const char *fmt, ...)
{
    va_list ap;
    rt_printf("TEST %s: FAIL: ", rt_test_name);
    va_start(ap, fmt);
    rt_vprintf(fmt, ap);
    va_end(ap);
    rt_putc('\n');
    rt_exit(rt_failures + 1);
}

/* -------------------------------------------------------- register dump */
/* Filled by rt_exit (common/regs.S) on entry. */
#ifdef RT_LM64
extern ureg rt_regs[18];  /* rax rcx rdx rbx rsp rbp rsi rdi r8..r15 rflags rip */
static const char *const reg_names[16] = {
    "rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
};
#define NREGS 16
#define RW 16
#else
extern ureg rt_regs[10];  /* eax ecx edx ebx esp ebp esi edi eflags eip */
static const char *const reg_names[8] = {
    "eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi",
};
#define NREGS 8
#define RW 8
#endif

static u8 fx_area[512] __attribute__((aligned(16)));

static void dump_fpu(void)
{
    __asm__ volatile("fxsave %0" : "=m"(fx_area));
    u16 fcw = *(u16 *)&fx_area[0], fsw = *(u16 *)&fx_area[2];
    u8 ftw = fx_area[4];
    u32 mxcsr = *(u32 *)&fx_area[24];
    rt_printf("DUMP fcw=%04x fsw=%04x ftw=%02x mxcsr=%08x\n", fcw, fsw, ftw, mxcsr);
    for (int i = 0; i < 8; i++) {
        u8 *st = &fx_area[32 + 16 * i];
        rt_printf("DUMP st%d=%04x_%08x%08x\n", i, *(u16 *)&st[8], *(u32 *)&st[4], *(u32 *)&st[0]);
    }
#ifdef RT_LM64
    int nx = 16;
#else
    int nx = 8;
#endif
    for (int i = 0; i < nx; i++) {
        u32 *x = (u32 *)&fx_area[160 + 16 * i];
        rt_printf("DUMP xmm%d=%08x%08x%08x%08x\n", i, x[3], x[2], x[1], x[0]);
    }
}

__attribute__((noreturn, used)) void rt_exit_c(unsigned code)
{
    for (int i = 0; i < NREGS; i++)
        rt_printf(RW == 16 ? "%s%s=%016lx%c" : "%s%s=%08lx%c", (i % 4 == 0) ? "DUMP " : "",
                  reg_names[i], rt_regs[i], (i % 4 == 3) ? '\n' : ' ');
    rt_printf("DUMP flags=%08lx\n", rt_regs[NREGS]);
#ifndef RT_RM16
    rt_printf("DUMP cr0=%08lx cr2=%08lx cr3=%08lx cr4=%08lx efer=%llx\n",
              read_cr(0), read_cr(2), read_cr(3), read_cr(4),
              (unsigned long long)rdmsr(MSR_EFER));
#else
    rt_printf("DUMP cr0=%08lx\n", read_cr(0));
#endif
    rt_printf("DUMP cs=%04x ds=%04x es=%04x fs=%04x gs=%04x ss=%04x\n",
              read_seg(cs), read_seg(ds), read_seg(es), read_seg(fs), read_seg(gs), read_seg(ss));
#ifndef RT_RM16
    {
        struct __attribute__((packed)) { u16 lim; ureg base; } g, i;
        u16 tr, ldtr;
        __asm__ volatile("sgdt %0; sidt %1; str %2; sldt %3"
                         : "=m"(g), "=m"(i), "=r"(tr), "=r"(ldtr));
        rt_printf("DUMP gdtr=%lx/%x idtr=%lx/%x tr=%04x ldtr=%04x\n",
                  g.base, g.lim, i.base, i.lim, tr, ldtr);
    }
#endif
    if (rt_dump_fpu)
        dump_fpu();
    if (code == 0 && rt_failures)
        code = rt_failures;
    if (code > 100)
        code = 100;
    if (code == 0)
        rt_printf("TEST %s: PASS\n", rt_test_name);
    else
        rt_printf("TEST %s: FAIL (%u)\n", rt_test_name, code);
    outl(0xf4, code);
    for (;;)
        __asm__ volatile("cli; hlt");
}

#ifndef RT_RM16
/* ----------------------------------------------------- GDT / IDT / TSS */
extern const u64 rt_boot_gdt[], rt_boot_gdt_end[];
u64 rt_gdt[RT_GDT_ENTRIES] __attribute__((aligned(16)));
#ifdef RT_LM64
u64 rt_idt[512] __attribute__((aligned(16)));
static u32 rt_tss[26] __attribute__((aligned(16)));   /* 104 bytes */
#else
u64 rt_idt[256] __attribute__((aligned(16)));
static u32 rt_tss[26] __attribute__((aligned(16)));
#endif
extern const u8 rt_trap_stubs_start[];
extern u8 rt_df_stack_top[];
extern volatile u32 rt_catch_armed;
void rt_fault_longjmp(void) __attribute__((noreturn));
static rt_hook_fn rt_hooks[256];

void rt_gdt_set(unsigned sel, u64 desc)
{
    rt_gdt[sel >> 3] = desc;
}

u64 rt_seg_desc(u32 base, u32 limit, unsigned access, unsigned flags4)
{
    return (u64)(limit & 0xffff) | ((u64)(base & 0xffffff) << 16) | ((u64)(access & 0xff) << 40) |
           ((u64)((limit >> 16) & 15) << 48) | ((u64)(flags4 & 15) << 52) |
           ((u64)(base >> 24) << 56);
}

void rt_set_gate_target(unsigned v, unsigned type, unsigned dpl, unsigned sel, ureg target)
{
    u64 lo = (u64)(target & 0xffff) | ((u64)sel << 16) |
             ((u64)(0x80 | (dpl << 5) | type) << 40) | ((u64)((target >> 16) & 0xffff) << 48);
#ifdef RT_LM64
    rt_idt[2 * v] = lo;
    rt_idt[2 * v + 1] = (u64)target >> 32;
#else
    rt_idt[v] = lo;
#endif
}

void rt_set_gate(unsigned v, unsigned type, unsigned dpl)
{
#ifdef RT_LM64
    unsigned sel = SEL_KCODE;
#else
    unsigned sel = SEL_KCODE32;
#endif
    rt_set_gate_target(v, type, dpl, sel, (ureg)(rt_trap_stubs_start + 16 * v));
}

void rt_set_hook(unsigned v, rt_hook_fn fn)
{
    rt_hooks[v & 255] = fn;
}

void rt_tss_set_sp0(ureg sp)
{
#ifdef RT_LM64
    rt_tss[1] = (u32)sp;
    rt_tss[2] = (u32)((u64)sp >> 32);
#else
    rt_tss[1] = sp;
    rt_tss[2] = SEL_KDATA;
#endif
}

void rt_uncatch(void)
{
    rt_catch_armed = 0;
}

static void print_frame(const rt_frame *f)
{
    rt_printf("  vector %lu err %lx ip %lx cs %lx flags %lx cr2 %lx\n",
              f->vector, f->err, f->ip, f->cs, f->flags, rt_fault.cr2);
}

__attribute__((used)) void rt_trap(rt_frame *f)
{
    unsigned v = (unsigned)f->vector;
    rt_fault.count++;
    rt_fault.vector = v;
    rt_fault.err = f->err;
    rt_fault.ip = f->ip;
    rt_fault.cs = f->cs;
    rt_fault.flags = f->flags;
    rt_fault.cr2 = v == EXC_PF ? read_cr(2) : 0;
    if (rt_hooks[v]) {
        rt_hooks[v](f);
        return;
    }
    if (rt_catch_armed) {
        rt_catch_armed = 0;
        rt_fault_longjmp();
    }
    rt_printf("TEST %s: FAIL: unexpected exception\n", rt_test_name);
    print_frame(f);
    rt_exit(rt_failures + 1);
}

static void rt_setup_cpu(void)
{
    memcpy(rt_gdt, rt_boot_gdt, (size_t)((const u8 *)rt_boot_gdt_end - (const u8 *)rt_boot_gdt));
    /* TSS: ring-0 stack for traps from ring 3, no I/O bitmap. */
    memset(rt_tss, 0, sizeof(rt_tss));
    rt_tss_set_sp0((ureg)rt_trap_stack_top);
    rt_tss[25] = 104u << 16;  /* I/O map base = limit + 1: no bitmap */
#ifdef RT_LM64
    rt_tss[9] = (u32)(uintptr_t)rt_df_stack_top;   /* IST1 */
#endif
    uintptr_t tb = (uintptr_t)rt_tss;
    rt_gdt[SEL_TSS >> 3] = rt_seg_desc((u32)tb, 103, 0x89, 0);
#ifdef RT_LM64
    rt_gdt[(SEL_TSS >> 3) + 1] = (u64)tb >> 32;
#endif
    struct __attribute__((packed)) { u16 lim; ureg base; } d;
    d.lim = sizeof(rt_gdt) - 1;
    d.base = (ureg)rt_gdt;
    __asm__ volatile("lgdt %0" :: "m"(d) : "memory");
    __asm__ volatile("ltr %w0" :: "r"((u16)SEL_TSS) : "memory");
    for (unsigned v = 0; v < 256; v++)
        rt_set_gate(v, 0xE, 0);
    {
        extern const u8 rt_user_ret_entry[];
#ifdef RT_LM64
        rt_set_gate_target(RT_VEC_USER_RET, 0xE, 3, SEL_KCODE, (ureg)rt_user_ret_entry);
#else
        rt_set_gate_target(RT_VEC_USER_RET, 0xE, 3, SEL_KCODE32, (ureg)rt_user_ret_entry);
#endif
    }
    d.lim = sizeof(rt_idt) - 1;
    d.base = (ureg)rt_idt;
    __asm__ volatile("lidt %0" :: "m"(d) : "memory");
    /* x87 and SSE: CR0.MP=1 EM=0 NE=1, CR4.OSFXSR|OSXMMEXCPT. */
    write_cr(0, (read_cr(0) & ~(ureg)0x4) | 0x22);
    write_cr(4, read_cr(4) | 0x600);
    __asm__ volatile("fninit");
    u32 mx = 0x1f80;
    __asm__ volatile("ldmxcsr %0" :: "m"(mx));
}

__attribute__((noreturn, used)) void rt_start(void)
{
    /* PIT counter 0 to mode 0 with no count: stopped.  The guests take no
     * timer interrupts (those that use the PIT program it themselves), and
     * the 18.2 Hz square wave it runs from reset would put a timer event
     * into every long loop of a recording, which a KVM replay without a
     * PMU lands on by breakpoint hits, one per iteration
     * (tests/system/test_rr_kvm_x86.py). */
    outb(0x43, 0x30);
    outb(0x21, 0xff);   /* both 8259s masked: guests may run with IF = 1 */
    outb(0xa1, 0xff);   /* (x86_land, with its APIC timer) */
    serial_init();
    rt_setup_cpu();
    rt_printf("TEST %s: start (%s)\n", rt_test_name, RT_MODE);
    test_main();
    rt_exit(0);
}
#else  /* RT_RM16 */
/* Real mode: the IVT at 0.  Every vector starts at a stub in start.S that
 * fails the test (rt_rm_unexpected); guests install their own handlers with
 * rt_ivt_set. */
extern const u8 rt_rm_stubs[];

static volatile u16 *ivt_base(void)
{
    volatile u16 *p;
    __asm__("xor %0, %0" : "=r"(p));   /* address 0, hidden from the compiler */
    return p;
}

void rt_ivt_set(unsigned vec, u16 seg, u16 off)
{
    volatile u16 *ivt = ivt_base();
    ivt[2 * (vec & 255)] = off;
    ivt[2 * (vec & 255) + 1] = seg;
}

void rt_ivt_default(unsigned vec)
{
    rt_ivt_set(vec, 0, (u16)(uintptr_t)(rt_rm_stubs + 8 * (vec & 255)));
}

__attribute__((noreturn, used)) void rt_rm_unexpected(unsigned vec, unsigned ip, unsigned cs, unsigned flags)
{
    rt_printf("TEST %s: FAIL: unexpected interrupt %u at %04x:%04x flags %04x\n",
              rt_test_name, vec, cs, ip, flags);
    rt_exit(rt_failures + 1);
}

__attribute__((noreturn, used)) void rt_start(void)
{
    for (unsigned v = 0; v < 256; v++)
        rt_ivt_default(v);
    outb(0x21, 0xff);   /* both 8259s masked: guests may run with IF = 1 */
    outb(0xa1, 0xff);
    serial_init();
    rt_printf("TEST %s: start (%s)\n", rt_test_name, RT_MODE);
    test_main();
    rt_exit(0);
}
#endif
