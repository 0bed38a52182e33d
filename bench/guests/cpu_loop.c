/* CPU-bound benchmark guest: an integer hash loop with memory traffic over a
 * 1 MiB table, then a checksum.  Prints the retired-instruction count
 * (minstret) and the checksum on the UART. */
#include <stdint.h>

#include "cpu_kernel.h"

#define UART ((volatile uint8_t *)0x10000000)

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

int main(void)
{
    uint64_t sum = cpu_kernel(table);
    uint64_t instret;
    __asm__ volatile("csrr %0, minstret" : "=r"(instret));
    puts_("instret ");
    puthex(instret);
    puts_(" checksum ");
    puthex(sum);
    puts_("\n");
    return 0;
}
