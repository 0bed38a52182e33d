/* The benchmark's work, shared by every ISA's benchmark guest: an
 * xorshift hash loop with loads/stores over a 1 MiB table and a streaming
 * pass.  Returns the checksum. */
#ifndef BENCH_CPU_KERNEL_H
#define BENCH_CPU_KERNEL_H

#include <stdint.h>

#define TABLE_WORDS (1u << 17)      /* 1 MiB of uint64_t */

#ifndef ROUNDS
#define ROUNDS 160
#endif

static uint64_t cpu_kernel(uint64_t *table)
{
    uint64_t x = 0x9e3779b97f4a7c15ull, sum = 0;
    for (unsigned i = 0; i < TABLE_WORDS; i++)
        table[i] = i * 0x100000001b3ull;
    for (int r = 0; r < ROUNDS; r++) {
        for (unsigned i = 0; i < 4 * TABLE_WORDS; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            unsigned idx = (unsigned)(x >> 40) & (TABLE_WORDS - 1);
            uint64_t v = table[idx];
            table[idx] = v + x;
            sum += v ^ (sum >> 3);
            if (v & 1)
                sum += i;
        }
        /* streaming pass */
        for (unsigned i = 1; i < TABLE_WORDS; i++)
            table[i] += table[i - 1] >> 1;
    }
    return sum;
}

#endif
