/* x86_land (lm64): the events a KVM replay must land on, far apart
 * (tests/system/test_rr_kvm_x86.py, DESIGN.md "Hybrid replay").
 *
 * - RDTSC after long computations: each read is a logged event at the
 *   RDTSC, which a free run reaches with a breakpoint;
 * - PIT counter reads (a device access that reads the virtual clock: a
 *   checkpoint event, found by counting device accesses);
 * - the local APIC timer, periodic: its firings are checkpoint events
 *   wherever the computation stands (a breakpoint on a PC the guest passes
 *   several times: only the pass with the logged registers is the
 *   landing), and HLT waits (an idle event at the HLT), each interrupt
 *   delivered right there;
 * - the initial-count and EOI writes (MMIO writes on KVM);
 * - timer ticks with interrupts off (lazy checkpoints).
 * The code runs in ring 0 on a supervisor-only page, so a replay on a host
 * whose hardware breakpoints do not fire may patch it with HLT.
 *
 * Output is deterministic under Tandem (tandem-only: QEMU's timer
 * interrupts arrive elsewhere). */
#include "rt.h"

RT_TEST_NAME("x86_land");

#define APIC 0xfee00000ull
#define APIC_EOI 0xb0
#define APIC_SVR 0xf0
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_DIV 0x3e0
#define TIMER_VEC 0x40


static volatile u32 ticks;
static volatile u64 tick_sum;

static void apic_w(unsigned reg, u32 v)
{
    *(volatile u32 *)(uintptr_t)(APIC + reg) = v;
}

static void on_timer(rt_frame *f)
{
    ticks++;
    tick_sum = tick_sum * 31 + f->ip;   /* where the interrupt came */
    apic_w(APIC_EOI, 0);
}

/* Straight-line code, 3000 instructions: a timer firing in it lands on a
 * PC the guest passes once per call (a loop would pass it thousands of
 * times, each pass a breakpoint hit to look at). */
static u64 straight(u64 x)
{
    u64 y = 0x9e3779b97f4a7c15ull;
    __asm__ volatile(".rept 1000\n add %1, %0\n rol $7, %0\n xor %0, %1\n .endr"
                     : "+r"(x), "+r"(y));
    return x ^ y;
}

/* A computation of n steps that leaves its state in registers. */
static u64 work(u64 x, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        x = x * 6364136223846793005ull + 1442695040888963407ull + (x >> 29);
    return x;
}

static u64 rdtsc(void)
{
    u32 lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return (u64)hi << 32 | lo;
}

static u16 pit_count(void)
{
    outb(0x43, 0x00);                   /* latch channel 0 */
    u8 lo = inb(0x40);
    u8 hi = inb(0x40);
    return (u16)(lo | hi << 8);
}

void test_main(void)
{
    /* The first 2 MiB (this code, its data and stack) supervisor-only. */
    rt_pd[0][0] &= ~4ull;
    __asm__ volatile("mov %%cr3, %%rax; mov %%rax, %%cr3" ::: "rax", "memory");

    u64 x = 1, prev = rdtsc();
    unsigned up = 0;
    for (int i = 0; i < 12; i++) {
        x = work(x, 20000 + 977 * i);
        u64 t = rdtsc();
        up += t > prev;
        prev = t;
    }
    printf("tsc reads: %u of 12 increasing, work %016lx\n", up, x);
    CHECK_EQ(up, 12);

    /* PIT channel 0 counting down (mode 2) from 0 (65536). */
    outb(0x43, 0x34);
    outb(0x40, 0);
    outb(0x40, 0);
    unsigned moved = 0;
    u16 last = pit_count();
    for (int i = 0; i < 12; i++) {
        x = work(x, 15000 + 613 * i);
        u16 c = pit_count();
        moved += c != last;
        last = c;
    }
    printf("pit reads: %u of 12 moved, work %016lx\n", moved, x);
    CHECK(moved >= 10);

    /* Local APIC timer: periodic, vector 0x40, divide by 16. */
    rt_set_gate(TIMER_VEC, 0xe, 0);
    rt_set_hook(TIMER_VEC, on_timer);
    apic_w(APIC_SVR, 0x1ff);
    apic_w(APIC_TIMER_DIV, 0x3);
    apic_w(APIC_LVT_TIMER, TIMER_VEC | (1u << 17));
    apic_w(APIC_TIMER_INIT, 20000);
    __asm__ volatile("sti");
    /* Ticks during computation, then ticks waited for with HLT. */
    while (ticks < 10)
        x = straight(x);
    u32 busy = ticks;
    for (int i = 0; i < 10; i++) {
        u32 t = ticks;
        while (ticks == t)
            __asm__ volatile("hlt");
    }
    __asm__ volatile("cli");
    /* Ticks with interrupts off, in a loop: each fires into a masked
     * interrupt and nothing sees when until the current-count read, so the
     * recording logs them as lazy checkpoints and a KVM replay runs the
     * loop free and fires them at that read (rr/replay.c, "lazy timers"). */
    u32 off = ticks;
    x = work(x, 300000);
    u32 cur = *(volatile u32 *)(uintptr_t)(APIC + 0x390);
    u32 off_after = ticks;
    __asm__ volatile("sti; nop; cli");
    apic_w(APIC_LVT_TIMER, 1u << 16);   /* masked */
    apic_w(APIC_TIMER_INIT, 0);
    printf("apic timer: %u ticks busy, %u in all, work %016lx, where %016lx\n", busy,
           ticks, x, tick_sum);
    printf("apic timer with IF clear: %u ticks taken, then %u at STI, count %u\n",
           off_after - off, ticks - off_after, cur);
    CHECK(busy >= 10);
    CHECK(ticks >= 20);
    CHECK_EQ(off_after, off);
    CHECK_EQ(ticks - off_after, 1);
}
