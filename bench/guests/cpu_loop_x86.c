/* The CPU-bound benchmark (cpu_kernel.h) as an x86_64 long-mode guest on
 * the test-guest runtime (tests/guests/x86/common): prints the checksum and
 * exits through isa-debug-exit.  The table lives at 8 MiB, inside the
 * runtime's identity map and clear of its data. */
#include "rt.h"

#define ROUNDS 40
#include "cpu_kernel.h"

RT_TEST_NAME("bench_cpu");

void test_main(void)
{
    uint64_t sum = cpu_kernel((uint64_t *)(uintptr_t)0x800000);
    printf("checksum %016llx\n", (unsigned long long)sum);
}
