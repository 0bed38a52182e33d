/* The host CPU's vendor, for the unit tests that compare the emulator with
 * the host's own instructions (test_x86_fpu_trans.c, test_x86_sse.c). */
#ifndef TANDEM_TESTS_UNIT_HOST_CPU_H
#define TANDEM_TESTS_UNIT_HOST_CPU_H

#include <cpuid.h>
#include <stdbool.h>
#include <string.h>

static inline bool host_is_amd(void)
{
    unsigned a, b, c, d;
    char v[13];
    if (!__get_cpuid(0, &a, &b, &c, &d))
        return false;
    memcpy(v, &b, 4);
    memcpy(v + 4, &d, 4);
    memcpy(v + 8, &c, 4);
    v[12] = 0;
    return strcmp(v, "AuthenticAMD") == 0;
}

#endif
