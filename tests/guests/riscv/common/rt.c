/* Tandem RISC-V test guests: C runtime (UART output, checks, trap
 * handlers, the final register dump).  XLEN-neutral. */
#include <stdarg.h>
#include "rt.h"

volatile rt_trap_rec rt_mtrap, rt_strap;
volatile ureg rt_recover;
volatile rt_hook_t rt_mhook, rt_shook;
volatile int rt_cur_mode = PRV_M;
/* Set while the S handler forwards a runtime ecall to M: its frame on the
 * S trap stack is abandoned, so M resets sscratch. */
static volatile int rt_s_forwarding;

extern ureg rt_regs[32];
extern char rt_mode_resume[];
void rt_forward_ecall(ureg a0, ureg a1, ureg a2, ureg a3, ureg a4, ureg a5,
                      ureg a6, ureg a7) __attribute__((noreturn));
void rt_finish_c(int status) __attribute__((noreturn));

static struct {
    const char *file, *what;
    int line;
    u64 got, exp;
    int valid;
} rt_failinfo;

/* ------------------------------------------------------------------ */
void *memset(void *d, int c, size_t n)
{
    unsigned char *p = d;
    while (n--)
        *p++ = (unsigned char)c;
    return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
    unsigned char *p = d;
    const unsigned char *q = s;
    while (n--)
        *p++ = *q++;
    return d;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a, *q = b;
    for (; n; n--, p++, q++)
        if (*p != *q)
            return *p - *q;
    return 0;
}

/* ------------------------------------------------------------------ */
void rt_putc(char c)
{
    while (!(MMIO8(RT_UART_BASE + 5) & 0x20))
        ;
    MMIO8(RT_UART_BASE) = (uint8_t)c;
}

void rt_puts(const char *s)
{
    while (*s)
        rt_putc(*s++);
}

void rt_puthex(u64 v, int digits)
{
    for (int i = digits - 1; i >= 0; i--)
        rt_putc("0123456789abcdef"[(v >> (4 * i)) & 0xf]);
}

static void put_udec(ureg v, int width, char pad)
{
    char buf[24];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (width > n) {
        rt_putc(pad);
        width--;
    }
    while (n)
        rt_putc(buf[--n]);
}

void rt_printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            rt_putc(*fmt);
            continue;
        }
        fmt++;
        char pad = ' ';
        int width = 0, lng = 0;
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l') {
            lng++;
            fmt++;
        }
        switch (*fmt) {
        case 's': {
            const char *s = va_arg(ap, const char *);
            rt_puts(s ? s : "(null)");
            break;
        }
        case 'c':
            rt_putc((char)va_arg(ap, int));
            break;
        case 'd': {
            long v = lng ? va_arg(ap, long) : va_arg(ap, int);
            if (v < 0) {
                rt_putc('-');
                v = -v;
            }
            put_udec((ureg)v, width, pad);
            break;
        }
        case 'u':
            put_udec(lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned),
                     width, pad);
            break;
        case 'x': {
            u64 v = lng >= 2 ? va_arg(ap, u64)
                  : lng ? va_arg(ap, unsigned long) : va_arg(ap, unsigned);
            int digits = 1;
            for (u64 t = v >> 4; t; t >>= 4)
                digits++;
            if (width > digits) {
                if (pad == '0')
                    digits = width;
                else
                    for (int i = digits; i < width; i++)
                        rt_putc(' ');
            }
            rt_puthex(v, digits);
            break;
        }
        case '%':
            rt_putc('%');
            break;
        default:
            rt_putc('?');
            break;
        }
    }
    va_end(ap);
}

/* ------------------------------------------------------------------ */
static void rt_report_fail(void) __attribute__((noreturn));
static void rt_report_fail(void)
{
    rt_printf("TEST %s: FAIL at %s:%d: %s", rt_test_name, rt_failinfo.file,
              rt_failinfo.line, rt_failinfo.what);
    if (rt_failinfo.valid)
        rt_printf(": got 0x%llx expected 0x%llx", rt_failinfo.got,
                  rt_failinfo.exp);
    rt_puts("\n");
    rt_finish(1);
}

void rt_check_failed(const char *file, int line, const char *what,
                     u64 got, u64 exp, int has_vals)
{
    rt_failinfo.file = file;
    rt_failinfo.line = line;
    rt_failinfo.what = what;
    rt_failinfo.got = got;
    rt_failinfo.exp = exp;
    rt_failinfo.valid = has_vals;
    if (rt_cur_mode != PRV_M)
        rt_forward_ecall(0, 0, 0, 0, 0, 0, 0, RT_ECALL_FAIL);
    rt_report_fail();
}

void rt_trap_clear(void)
{
    rt_mtrap.count = 0;
    rt_mtrap.cause = rt_mtrap.epc = rt_mtrap.tval = (ureg)-1;
    rt_mtrap.status = rt_mtrap.vec = rt_mtrap.mode = (ureg)-1;
    rt_strap.count = 0;
    rt_strap.cause = rt_strap.epc = rt_strap.tval = (ureg)-1;
    rt_strap.status = rt_strap.vec = rt_strap.mode = (ureg)-1;
    rt_recover = 0;
}

static int satp_on(void)
{
    ureg satp = csr_read(satp);
#if IS_RV64
    return (satp >> 60) != 0;
#else
    return (satp >> 31) != 0;
#endif
}

/* Length of the instruction at epc as the trapped mode sees it. */
unsigned rt_insn_len_at(ureg epc, int from_mode)
{
    ureg h;
    if (from_mode == PRV_M || !satp_on()) {
        h = *(volatile uint16_t *)epc;
    } else if (rt_cur_mode == PRV_M) {
        /* M handler: MPRV with MPP = trapped mode (as left by the trap). */
        ureg bits = MSTATUS_MPRV | MSTATUS_MXR, old;
        __asm__ volatile("csrrs %1, mstatus, %2\n\t"
                         "lhu %0, 0(%3)\n\t"
                         "csrw mstatus, %1"
                         : "=&r"(h), "=&r"(old) : "r"(bits), "r"(epc) : "memory");
    } else {
        ureg bits = MSTATUS_SUM | MSTATUS_MXR, old;
        __asm__ volatile("csrrs %1, sstatus, %2\n\t"
                         "lhu %0, 0(%3)\n\t"
                         "csrw sstatus, %1"
                         : "=&r"(h), "=&r"(old) : "r"(bits), "r"(epc) : "memory");
    }
    return (h & 3) == 3 ? 4 : 2;
}

static void trap_storm(volatile rt_trap_rec *r, const char *who)
{
    rt_printf("TEST %s: FAIL: trap storm in %s handler: cause 0x%lx epc 0x%lx "
              "tval 0x%lx\n", rt_test_name, who, r->cause, r->epc, r->tval);
    rt_finish(1);
}

void rt_mtrap_c(rt_frame *f, ureg vec)
{
    ureg cause = csr_read(mcause), epc = csr_read(mepc);
    ureg tval = csr_read(mtval), st = csr_read(mstatus);
    int prev = rt_cur_mode;
    int from = (int)((st & MSTATUS_MPP) >> 11);

    rt_cur_mode = PRV_M;
    /* Runtime ecalls come from the lower modes only (an M-mode ecall is
     * always the test's own). */
    if (!(cause & CAUSE_INT) && (cause == EXC_ECALL_U || cause == EXC_ECALL_S)) {
        if (f->x[17] == RT_ECALL_RETURN) {
            csr_write(mepc, (ureg)rt_mode_resume);
            csr_clear(mstatus, MSTATUS_MPIE);
            csr_set(mstatus, MSTATUS_MPP);
            if (rt_s_forwarding) {
                csr_write(sscratch, (ureg)rt_strap_stack_top);
                rt_s_forwarding = 0;
            }
            rt_cur_mode = PRV_M;
            return;
        }
        if (f->x[17] == RT_ECALL_FAIL)
            rt_report_fail();
    }
    rt_mtrap.count++;
    rt_mtrap.cause = cause;
    rt_mtrap.epc = epc;
    rt_mtrap.tval = tval;
    rt_mtrap.status = st;
    rt_mtrap.vec = vec;
    rt_mtrap.mode = (ureg)from;
    if (rt_mtrap.count > 200)
        trap_storm(&rt_mtrap, "M");
    if (rt_mhook && rt_mhook(f, cause, epc, tval)) {
        rt_cur_mode = prev;
        return;
    }
    if (cause & CAUSE_INT) {
        csr_clear(mie, (ureg)1 << (cause & (XLEN - 1)));
    } else if (rt_recover == RT_RECOVER_RA) {
        rt_recover = 0;
        csr_write(mepc, f->x[1]);
    } else if (rt_recover) {
        csr_write(mepc, rt_recover);
        rt_recover = 0;
    } else {
        csr_write(mepc, epc + rt_insn_len_at(epc, from));
    }
    rt_cur_mode = prev;
}

void rt_strap_c(rt_frame *f, ureg vec)
{
    ureg cause = csr_read(scause), epc = csr_read(sepc);
    ureg tval = csr_read(stval), st = csr_read(sstatus);
    int prev = rt_cur_mode;
    int from = (st & MSTATUS_SPP) ? PRV_S : PRV_U;

    rt_cur_mode = PRV_S;
    if (!(cause & CAUSE_INT) && (cause == EXC_ECALL_U || cause == EXC_ECALL_S) &&
        (f->x[17] == RT_ECALL_RETURN || f->x[17] == RT_ECALL_FAIL)) {
        rt_s_forwarding = 1;
        rt_forward_ecall(f->x[10], f->x[11], f->x[12], f->x[13], f->x[14],
                         f->x[15], f->x[16], f->x[17]);
    }
    rt_strap.count++;
    rt_strap.cause = cause;
    rt_strap.epc = epc;
    rt_strap.tval = tval;
    rt_strap.status = st;
    rt_strap.vec = vec;
    rt_strap.mode = (ureg)from;
    if (rt_strap.count > 200)
        trap_storm(&rt_strap, "S");
    if (rt_shook && rt_shook(f, cause, epc, tval)) {
        rt_cur_mode = prev;
        return;
    }
    if (cause & CAUSE_INT) {
        csr_clear(sie, (ureg)1 << (cause & (XLEN - 1)));
    } else if (rt_recover == RT_RECOVER_RA) {
        rt_recover = 0;
        csr_write(sepc, f->x[1]);
    } else if (rt_recover) {
        csr_write(sepc, rt_recover);
        rt_recover = 0;
    } else {
        csr_write(sepc, epc + rt_insn_len_at(epc, from));
    }
    rt_cur_mode = prev;
}

/* ------------------------------------------------------------------ */
static void dump(const char *name, u64 v, int digits)
{
    rt_printf("DUMP %s ", name);
    rt_puthex(v, digits);
    rt_putc('\n');
}

#define DUMPCSR(c) dump(#c, csr_read(c), XLEN / 4)

void rt_finish_c(int status)
{
    static const char *xn[32] = {
        "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10",
        "x11", "x12", "x13", "x14", "x15", "x16", "x17", "x18", "x19", "x20",
        "x21", "x22", "x23", "x24", "x25", "x26", "x27", "x28", "x29", "x30",
        "x31" };
    static const char *fn[32] = {
        "f0", "f1", "f2", "f3", "f4", "f5", "f6", "f7", "f8", "f9", "f10",
        "f11", "f12", "f13", "f14", "f15", "f16", "f17", "f18", "f19", "f20",
        "f21", "f22", "f23", "f24", "f25", "f26", "f27", "f28", "f29", "f30",
        "f31" };
    static u64 fregs[32];

    /* Make the dump independent of timing: no interrupt pending. */
    csr_write(mie, 0);
    MMIO32(RT_CLINT_MSIP) = 0;
    MMIO32(RT_CLINT_MTIMECMP) = 0xffffffffu;
    MMIO32(RT_CLINT_MTIMECMP + 4) = 0xffffffffu;
    csr_clear(mip, MIP_SSIP | MIP_STIP | MIP_SEIP);
    csr_clear(mstatus, MSTATUS_MPRV);
    csr_set(mstatus, MSTATUS_FS);       /* FS = Dirty: a fixed value */
    ureg fcsr = csr_read(fcsr);
    __asm__ volatile(
        "fsd f0, 0(%0)\n fsd f1, 8(%0)\n fsd f2, 16(%0)\n fsd f3, 24(%0)\n"
        "fsd f4, 32(%0)\n fsd f5, 40(%0)\n fsd f6, 48(%0)\n fsd f7, 56(%0)\n"
        "fsd f8, 64(%0)\n fsd f9, 72(%0)\n fsd f10, 80(%0)\n fsd f11, 88(%0)\n"
        "fsd f12, 96(%0)\n fsd f13, 104(%0)\n fsd f14, 112(%0)\n fsd f15, 120(%0)\n"
        "fsd f16, 128(%0)\n fsd f17, 136(%0)\n fsd f18, 144(%0)\n fsd f19, 152(%0)\n"
        "fsd f20, 160(%0)\n fsd f21, 168(%0)\n fsd f22, 176(%0)\n fsd f23, 184(%0)\n"
        "fsd f24, 192(%0)\n fsd f25, 200(%0)\n fsd f26, 208(%0)\n fsd f27, 216(%0)\n"
        "fsd f28, 224(%0)\n fsd f29, 232(%0)\n fsd f30, 240(%0)\n fsd f31, 248(%0)\n"
        :: "r"(fregs) : "memory");

    for (int i = 1; i < 32; i++)
        dump(xn[i], rt_regs[i], XLEN / 4);
    for (int i = 0; i < 32; i++)
        dump(fn[i], fregs[i], 16);
    dump("fcsr", fcsr, 8);
    DUMPCSR(misa);
    DUMPCSR(mhartid);
    DUMPCSR(mstatus);
    DUMPCSR(mie);
    DUMPCSR(mip);
    DUMPCSR(medeleg);
    DUMPCSR(mideleg);
    DUMPCSR(mtvec);
    DUMPCSR(mscratch);
    DUMPCSR(mcounteren);
    DUMPCSR(stvec);
    DUMPCSR(sscratch);
    DUMPCSR(scounteren);
    DUMPCSR(satp);
    DUMPCSR(pmpcfg0);
    DUMPCSR(pmpaddr0);
    rt_printf("TEST %s: %s\n", rt_test_name, status ? "FAIL" : "PASS");
    MMIO32(RT_FINISHER) = status ? ((1u << 16) | 0x3333) : 0x5555;
    for (;;)
        __asm__ volatile("wfi");
}
