/* The CPU-bound benchmark (cpu_kernel.h) as an x86_64 long-mode guest on
 * the test-guest runtime (tests/guests/x86/common): prints the checksum and
 * exits through isa-debug-exit.  The table lives at 8 MiB, inside the
 * runtime's identity map and clear of its data.  Built twice: with the
 * PIT ticking (cpu_loop: cpu-x86), and with it stopped (-DQUIET_PIT,
 * cpu_quiet: kvm-replay-x86). */
#include "rt.h"

#define ROUNDS 40
#include "cpu_kernel.h"

RT_TEST_NAME("bench_cpu");

void test_main(void)
{
#ifndef QUIET_PIT
    /* PIT counter 0 back to the 18.2 Hz square wave it runs from reset
     * (mode 3, count 65536), which the test-guest runtime stops: this
     * variant, cpu_loop, has a timer event inside the hash loop every
     * 3.4e6 instructions, like a guest that leaves the timer ticking;
     * cpu_quiet (-DQUIET_PIT) keeps it stopped, so that its recording is
     * one long stretch between events (kvm-replay-x86, kvm-pmu-replay). */
    outb(0x43, 0x36);
    outb(0x40, 0);
    outb(0x40, 0);
#endif
    uint64_t sum = cpu_kernel((uint64_t *)(uintptr_t)0x800000);
    printf("checksum %016llx\n", (unsigned long long)sum);
}
