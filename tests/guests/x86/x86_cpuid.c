/* x86_cpuid (lm64): prints CPUID leaves 0, 1, 7.0, 0xd.0/1, 0x80000000 to
 * 0x80000008 (with the brand string) so that the differential test compares
 * Tandem's CPU model with QEMU run with the -cpu string of run_qemu.sh
 * (docs/x86-cpu.md).  Bits that depend on the board are masked and the masks
 * printed: leaf 1 EBX[31:24] (initial APIC id), EDX bit 9 (APIC present),
 * ECX bit 31 (hypervisor).  Self-checks: vendor, signature, the features the
 * other guests rely on. */
#include "rt.h"

RT_TEST_NAME("x86_cpuid");

static void show(u32 leaf, u32 sub, const u32 mask[4])
{
    u32 r[4];
    cpuid(leaf, sub, r);
    printf("cpuid %08x.%x: eax=%08x ebx=%08x ecx=%08x edx=%08x\n", leaf, sub,
           r[0] & mask[0], r[1] & mask[1], r[2] & mask[2], r[3] & mask[3]);
}

void test_main(void)
{
    static const u32 all[4] = { ~0u, ~0u, ~0u, ~0u };
    static const u32 m1[4] = { ~0u, 0x00ffffffu, 0x7fffffffu, ~(1u << 9) };
    u32 r[4];
    printf("masks: leaf 1 ebx %08x ecx %08x edx %08x\n", m1[1], m1[2], m1[3]);

    cpuid(0, 0, r);
    char vendor[13];
    memcpy(vendor, &r[1], 4);
    memcpy(vendor + 4, &r[3], 4);
    memcpy(vendor + 8, &r[2], 4);
    vendor[12] = 0;
    printf("vendor %s, max leaf %x\n", vendor, r[0]);
    CHECK(memcmp(vendor, "GenuineIntel", 12) == 0);
    CHECK(r[0] >= 0xd);
    u32 maxleaf = r[0];
    show(0, 0, all);
    show(1, 0, m1);
    cpuid(1, 0, r);
    u32 fam = (r[0] >> 8) & 15, model = ((r[0] >> 4) & 15) | (((r[0] >> 16) & 15) << 4);
    printf("family %u model %u stepping %u\n", fam, model, r[0] & 15);
    CHECK_EQ(fam, 6);
    CHECK_EQ(model, 15);
    CHECK_EQ(r[0] & 15, 11);
    CHECK_EQ((r[1] >> 8) & 0xff, 8);                 /* CLFLUSH line 64 bytes */
    /* EDX: FPU TSC MSR PAE CX8 SEP CMOV CLFSH MMX FXSR SSE SSE2 */
    static const int edx_bits[] = { 0, 4, 5, 6, 8, 11, 15, 19, 23, 24, 25, 26 };
    for (unsigned i = 0; i < sizeof(edx_bits) / sizeof(edx_bits[0]); i++)
        if (!((r[3] >> edx_bits[i]) & 1))
            rt_check_fail(__FILE__, __LINE__, "cpuid.1:edx bit", (u64)edx_bits[i], 1);
    /* ECX: SSE3 SSSE3 CX16 SSE4.1 SSE4.2 MOVBE POPCNT XSAVE */
    static const int ecx_bits[] = { 0, 9, 13, 19, 20, 22, 23, 26 };
    for (unsigned i = 0; i < sizeof(ecx_bits) / sizeof(ecx_bits[0]); i++)
        if (!((r[2] >> ecx_bits[i]) & 1))
            rt_check_fail(__FILE__, __LINE__, "cpuid.1:ecx bit", (u64)ecx_bits[i], 1);
    CHECK_EQ((r[2] >> 27) & 1, 0);                   /* OSXSAVE follows CR4.OSXSAVE = 0 */
    if (maxleaf >= 7) {
        show(7, 0, all);
        cpuid(7, 0, r);
        CHECK((r[1] >> 3) & 1);                      /* BMI1 */
        CHECK((r[1] >> 8) & 1);                      /* BMI2 */
    }
    if (maxleaf >= 0xd) {
        show(0xd, 0, all);
        show(0xd, 1, all);
    }
    cpuid(0x80000000, 0, r);
    u32 maxext = r[0];
    printf("max extended leaf %x\n", maxext);
    CHECK(maxext >= 0x80000008);
    for (u32 l = 0x80000000; l <= maxext && l <= 0x80000008; l++)
        show(l, 0, all);
    cpuid(0x80000001, 0, r);
    CHECK((r[2] >> 0) & 1);                          /* LAHF/SAHF in 64-bit mode */
    CHECK((r[2] >> 5) & 1);                          /* ABM (LZCNT) */
    CHECK((r[3] >> 11) & 1);                         /* SYSCALL */
    CHECK((r[3] >> 20) & 1);                         /* NX */
    CHECK((r[3] >> 26) & 1);                         /* 1 GiB pages */
    CHECK((r[3] >> 27) & 1);                         /* RDTSCP */
    CHECK((r[3] >> 29) & 1);                         /* LM */
    if (maxext >= 0x80000004) {
        char brand[49];
        for (u32 l = 0; l < 3; l++) {
            cpuid(0x80000002 + l, 0, r);
            memcpy(brand + 16 * l, r, 16);
        }
        brand[48] = 0;
        printf("brand \"%s\"\n", brand);
    }
    cpuid(0x80000008, 0, r);
    printf("physical address bits %u, linear %u\n", r[0] & 0xff, (r[0] >> 8) & 0xff);
    CHECK_EQ((r[0] >> 8) & 0xff, 48);
}
