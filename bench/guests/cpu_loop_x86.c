/* The CPU-bound benchmark (cpu_kernel.h) as an x86_64 long-mode guest on
 * the test-guest runtime (tests/guests/x86/common): prints the checksum and
 * exits through isa-debug-exit.  The table lives at 8 MiB, inside the
 * runtime's identity map and clear of its data.  Built twice: as it is
 * (cpu-x86), and with -DQUIET_PIT (kvm-replay-x86). */
#include "rt.h"

#define ROUNDS 40
#include "cpu_kernel.h"

RT_TEST_NAME("bench_cpu");

void test_main(void)
{
#ifdef QUIET_PIT
    /* PIT counter 0 to mode 0 with no count loaded: it stops, and with it
     * the 18.2 Hz square wave it runs from reset (what a tickless kernel
     * does to a timer it does not use).  kvm-replay-x86 replays this
     * variant: its stretches have no timer events inside the loop. */
    outb(0x43, 0x30);
#endif
    uint64_t sum = cpu_kernel((uint64_t *)(uintptr_t)0x800000);
    printf("checksum %016llx\n", (unsigned long long)sum);
}
