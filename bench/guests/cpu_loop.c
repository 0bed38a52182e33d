/* CPU-bound benchmark guest: an integer hash loop with memory traffic over a
 * 1 MiB table, then a checksum.  Prints the retired-instruction count
 * (minstret) and the checksum on the UART. */
#include <stdint.h>

#define UART ((volatile uint8_t *)0x10000000)
#define TABLE_WORDS (1u << 17)      /* 1 MiB of uint64_t */

static uint64_t table[TABLE_WORDS];

static void putc_(char c)
{
    while (!(UART[5] & 0x20))
        ;
    UART[0] = (uint8_t)c;
}

static void puts_(const char *s)
{
    while (*s)
        putc_(*s++);
}

static void puthex(uint64_t v)
{
    for (int i = 60; i >= 0; i -= 4)
        putc_("0123456789abcdef"[(v >> i) & 15]);
}

#ifndef ROUNDS
#define ROUNDS 160
#endif

int main(void)
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
    uint64_t instret;
    __asm__ volatile("csrr %0, minstret" : "=r"(instret));
    puts_("instret ");
    puthex(instret);
    puts_(" checksum ");
    puthex(sum);
    puts_("\n");
    return 0;
}
