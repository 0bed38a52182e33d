/* gdb_guest: the target of the gdb stub's system test (tests/system/
 * test_gdb.py), not a self-checking ISA test.  It has functions to break
 * at, a variable to watch and straight-line code to step through; the test
 * finds them through the ELF's symbols.  Run alone it passes like the
 * others (PASS through the finisher). */
#include "rt.h"

RT_TEST_NAME("gdb_guest");

volatile ureg gdb_counter;      /* watched by the test */
volatile ureg gdb_result;

__attribute__((noinline)) ureg gdb_add(ureg a, ureg b)
{
    ureg r = a + b;
    __asm__ volatile("" : "+r"(r));
    return r;
}

__attribute__((noinline)) void gdb_tick(ureg i)
{
    gdb_counter = gdb_counter + i;
}

int main(void)
{
    ureg sum = 0;
    for (ureg i = 1; i <= 10; i++) {
        sum = gdb_add(sum, i);
        gdb_tick(i);
    }
    gdb_result = sum;
    CHECKEQ(sum, 55);
    CHECKEQ(gdb_counter, 55);
    return 0;
}
