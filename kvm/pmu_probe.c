/*
 * tandem-pmu-probe: does this host support the hybrid replay, and does its
 * PMU count what the interpreter counts?
 *
 * Reports /dev/kvm (API version, the capabilities hybrid replay needs) and
 * the retired-conditional-branch event the KVM replay will use (kvm/pmu.c,
 * picked from CPUID).  Where the event exists, it runs
 * short user-mode sequences of each instruction family whose counting rule
 * interp/icount.md states (Jcc, LOOP/LOOPE/LOOPNE, JrCXZ, JMP/CALL/RET,
 * CMOVcc/SETcc, REP string instructions) and compares the hardware's
 * branch and instruction counts with the interpreter's rule.
 *
 * Exit status: 0 every rule confirmed, 1 a rule disagrees with this CPU,
 * 2 no usable PMU event here (nothing could be checked).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <linux/perf_event.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kvm/pmu.h"

#define N 1000          /* iterations per sequence */
#define REPS 25         /* measurements per sequence; the minimum is kept */

static int perf_open(uint32_t type, uint64_t config)
{
    struct perf_event_attr attr;
    memset(&attr, 0, sizeof(attr));
    attr.size = sizeof(attr);
    attr.type = type;
    attr.config = config;
    attr.disabled = 1;
    attr.exclude_kernel = 1;
    attr.exclude_hv = 1;
    return (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0);
}

static void report_kvm(void)
{
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        printf("/dev/kvm: not usable (%s)\n", strerror(errno));
        return;
    }
    int api = ioctl(fd, KVM_GET_API_VERSION, 0);
    printf("/dev/kvm: API version %d\n", api);
    static const struct { int cap; const char *name; } caps[] = {
        { KVM_CAP_SET_GUEST_DEBUG, "KVM_CAP_SET_GUEST_DEBUG" },
        { KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS" },
        { KVM_CAP_XSAVE, "KVM_CAP_XSAVE" },
        { KVM_CAP_X86_USER_SPACE_MSR, "KVM_CAP_X86_USER_SPACE_MSR" },
        { KVM_CAP_X86_MSR_FILTER, "KVM_CAP_X86_MSR_FILTER" },
        { KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
        { KVM_CAP_SYNC_REGS, "KVM_CAP_SYNC_REGS" },
    };
    for (size_t i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
        printf("  %-28s %d\n", caps[i].name,
               ioctl(fd, KVM_CHECK_EXTENSION, caps[i].cap));
    }
    close(fd);
}

/* ---- the measured sequences (each runs its construct N times) ---------- */

static void seq_empty(void)
{
    __asm__ volatile("" ::: "memory");
}

static void seq_jcc(void)
{
    __asm__ volatile("mov %0, %%ecx\n1: dec %%ecx\n jnz 1b"
                     :: "i"(N) : "ecx", "cc");
}

static void seq_jcc_rel32(void)
{
    __asm__ volatile("mov %0, %%ecx\n1: dec %%ecx\n .byte 0x0f, 0x85\n"
                     " .long 1b - 2f\n2:"
                     :: "i"(N) : "ecx", "cc");
}

static void seq_loop(void)
{
    __asm__ volatile("mov %0, %%ecx\n1: loop 1b" :: "i"(N) : "ecx", "cc");
}

static void seq_loope(void)
{
    __asm__ volatile("mov %0, %%ecx\n cmp %%ecx, %%ecx\n1: loope 1b"
                     :: "i"(N) : "ecx", "cc");
}

static void seq_loopne(void)
{
    __asm__ volatile("mov %0, %%ecx\n test %%ecx, %%ecx\n1: loopne 1b"
                     :: "i"(N) : "ecx", "cc");
}

/* N+1 JRCXZ (the last one taken), N DEC, N JMP */
static void seq_jrcxz(void)
{
    __asm__ volatile("mov %0, %%ecx\n1: jrcxz 2f\n dec %%ecx\n jmp 1b\n2:"
                     :: "i"(N) : "rcx", "cc");
}

/* N CALL, N RET, N JMP, N DEC+JNZ: only the JNZ should count */
static void seq_call_ret_jmp(void)
{
    __asm__ volatile("mov %0, %%ecx\n"
                     "1: call 3f\n jmp 2f\n"
                     "3: ret\n"
                     "2: dec %%ecx\n jnz 1b"
                     :: "i"(N) : "ecx", "cc", "memory");
}

/* N CMOVcc, N SETcc inside a Jcc loop: N branches */
static void seq_cmov_setcc(void)
{
    __asm__ volatile("mov %0, %%ecx\n"
                     "1: cmp $500, %%ecx\n cmovb %%ecx, %%eax\n setb %%dl\n"
                     " dec %%ecx\n jnz 1b"
                     :: "i"(N) : "eax", "ecx", "edx", "cc");
}

static unsigned char src_buf[4 * N], dst_buf[4 * N];

/* one REP MOVSB of N bytes */
static void seq_rep_movsb(void)
{
    void *s = src_buf, *d = dst_buf;
    size_t c = N;
    __asm__ volatile("rep movsb" : "+S"(s), "+D"(d), "+c"(c) :: "memory");
}

/* one REP STOSQ of N quadwords (in the 4N-byte buffer: N/2) */
static void seq_rep_stosq(void)
{
    void *d = dst_buf;
    size_t c = N / 2;
    __asm__ volatile("rep stosq" : "+D"(d), "+c"(c) : "a"(0) : "memory");
}

/* one REPE CMPSB stopping at the first difference after N/2 bytes */
static void seq_repe_cmpsb(void)
{
    memset(src_buf, 7, N);
    memset(dst_buf, 7, N);
    dst_buf[N / 2] = 8;
    void *s = src_buf, *d = dst_buf;
    size_t c = N;
    __asm__ volatile("cld\n repe cmpsb" : "+S"(s), "+D"(d), "+c"(c) :: "memory", "cc");
}

/* REP MOVSB with RCX = 0: retires once, moves nothing */
static void seq_rep_zero(void)
{
    void *s = src_buf, *d = dst_buf;
    size_t c = 0;
    for (int i = 0; i < N; i++) {
        __asm__ volatile("rep movsb" : "+S"(s), "+D"(d), "+c"(c) :: "memory");
    }
}

typedef struct {
    const char *name;
    void (*fn)(void);
    long exp_br;    /* the interpreter's rule, over the empty baseline */
    long exp_insn;  /* -1: not checked (compiler-generated loop around it) */
    const char *rule;
} Seq;

static const Seq seqs[] = {
    { "dec+jnz rel8", seq_jcc, N, 2 * N + 1, "Jcc counts, taken or not" },
    { "dec+jnz rel32", seq_jcc_rel32, N, 2 * N + 1, "Jcc (0F 8x) counts" },
    { "loop", seq_loop, N, N + 1, "LOOP counts as a conditional branch" },
    { "loope", seq_loope, N, N + 2, "LOOPE counts" },
    { "loopne", seq_loopne, N, N + 2, "LOOPNE counts" },
    { "jrcxz", seq_jrcxz, N + 1, 3 * N + 2, "JrCXZ counts" },
    { "call/ret/jmp", seq_call_ret_jmp, N, 5 * N + 1,
      "CALL, RET, JMP do not count" },
    { "cmov/setcc", seq_cmov_setcc, N, 5 * N + 1,
      "CMOVcc, SETcc do not count" },
    { "rep movsb x1000", seq_rep_movsb, 0, 1,
      "a REP string instruction retires once and is no branch" },
    { "rep stosq x500", seq_rep_stosq, 0, 1, "REP STOSQ retires once" },
    { "repe cmpsb (stops)", seq_repe_cmpsb, 0, -1,
      "REPE CMPSB ending on ZF=0 is no branch" },
    { "rep movsb rcx=0", seq_rep_zero, 0, -1,
      "REP with RCX=0 is no branch" },
};

static long measure(int fd, void (*fn)(void))
{
    long best = -1;
    for (int r = 0; r < REPS; r++) {
        uint64_t v = 0;
        ioctl(fd, PERF_EVENT_IOC_RESET, 0);
        ioctl(fd, PERF_EVENT_IOC_ENABLE, 0);
        fn();
        ioctl(fd, PERF_EVENT_IOC_DISABLE, 0);
        if (read(fd, &v, sizeof(v)) != sizeof(v)) {
            return -1;
        }
        if (best < 0 || (long)v < best) {
            best = (long)v;
        }
    }
    return best;
}

int main(void)
{
    char vendor[13];
    unsigned family, model;
    setvbuf(stdout, NULL, _IOLBF, 0);
    pmu_host_cpu(vendor, &family, &model);
    printf("cpu: %s family 0x%x model 0x%x\n", vendor, family, model);
    report_kvm();

    PmuEvent ev;
    if (!pmu_branch_event(vendor, family, model, &ev)) {
        printf("pmu: no known retired-conditional-branch event for this CPU\n");
        return 2;
    }
    int fbr = perf_open(PERF_TYPE_RAW, ev.config);
    if (fbr < 0) {
        printf("pmu: %s cannot be opened (%s): no usable PMU here\n",
               ev.name, strerror(errno));
        return 2;
    }
    int fin = perf_open(PERF_TYPE_HARDWARE, PERF_COUNT_HW_INSTRUCTIONS);
    printf("pmu: %s opened (skid margin %u); instructions retired %s\n", ev.name, ev.skid,
           fin < 0 ? "not available" : "opened");

    long base_br = measure(fbr, seq_empty);
    long base_in = fin >= 0 ? measure(fin, seq_empty) : 0;
    if (base_br < 0) {
        printf("pmu: reading the counter failed\n");
        return 2;
    }
    printf("baseline (counter overhead): %ld branches, %ld instructions\n",
           base_br, base_in);
    int bad = 0;
    printf("%-20s %8s %8s %10s %10s  rule\n", "sequence", "br", "expect",
           "insn", "expect");
    for (size_t i = 0; i < sizeof(seqs) / sizeof(seqs[0]); i++) {
        const Seq *s = &seqs[i];
        long br = measure(fbr, s->fn) - base_br;
        long in = fin >= 0 ? measure(fin, s->fn) - base_in : -1;
        /* the C around the asm may add a few instructions but no branch */
        int br_ok = br == s->exp_br;
        int in_ok = s->exp_insn < 0 || fin < 0
                    || (in >= s->exp_insn && in <= s->exp_insn + 16);
        printf("%-20s %8ld %8ld %10ld %10ld  %s: %s\n", s->name, br, s->exp_br,
               in, s->exp_insn, s->rule,
               br_ok && in_ok ? "confirmed" : "DISAGREES");
        bad |= !(br_ok && in_ok);
    }
    printf(bad ? "result: this CPU disagrees with a rule above\n"
               : "result: every rule confirmed on this CPU\n");
    return bad;
}
