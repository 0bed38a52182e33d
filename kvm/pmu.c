/* Which retired-conditional-branch event each host CPU has (pmu.h).
 *
 * Intel: BR_INST_RETIRED.CONDITIONAL, event 0xC4 umask 0x01, up to the
 * Skylake-derived cores; from Ice Lake on the same count is umask 0x11
 * (BR_INST_RETIRED.COND).  AMD family 17h and later (Zen): PMCx0D1,
 * retired conditional branch instructions; Hygon's Dhyana is a Zen.
 *
 * Skid: Intel's precise enough in practice (rr uses 100 events of margin);
 * Zen's overflow interrupt arrives later (rr uses a larger margin there). */
#include "kvm/pmu.h"

#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

/* Intel family 6 models with the Ice Lake-style (0x11) umask. */
static const unsigned intel_cond_models[] = {
    0x6a, 0x6c, 0x7d, 0x7e,             /* Ice Lake server, client */
    0x8c, 0x8d, 0x8f,                   /* Tiger Lake, Sapphire Rapids */
    0x97, 0x9a, 0xa7,                   /* Alder Lake, Rocket Lake */
    0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, /* Meteor Lake, Granite/Sierra Forest */
    0xb7, 0xba, 0xbd, 0xbf,             /* Raptor Lake, Lunar Lake */
    0xc5, 0xc6, 0xcf,                   /* Arrow Lake, Emerald Rapids */
};

bool pmu_branch_event(const char *vendor, unsigned family, unsigned model, PmuEvent *ev)
{
    if (!strcmp(vendor, "GenuineIntel") && family == 6) {
        for (size_t i = 0; i < sizeof(intel_cond_models) / sizeof(intel_cond_models[0]); i++) {
            if (model == intel_cond_models[i]) {
                *ev = (PmuEvent){ "BR_INST_RETIRED.COND (0x11c4)", 0x11c4, 100 };
                return true;
            }
        }
        *ev = (PmuEvent){ "BR_INST_RETIRED.CONDITIONAL (0x01c4)", 0x01c4, 100 };
        return true;
    }
    if ((!strcmp(vendor, "AuthenticAMD") || !strcmp(vendor, "HygonGenuine")) && family >= 0x17) {
        *ev = (PmuEvent){ "Zen retired conditional branches (0xd1)", 0xd1, 1000 };
        return true;
    }
    return false;
}

void pmu_cpuid_family_model(uint32_t eax, unsigned *family, unsigned *model)
{
    unsigned fam = (eax >> 8) & 0xf, mod = (eax >> 4) & 0xf;
    if (fam == 0xf)
        fam += (eax >> 20) & 0xff;
    if (fam == 0x6 || fam >= 0xf)
        mod |= ((eax >> 16) & 0xf) << 4;
    *family = fam;
    *model = mod;
}

uint64_t pmu_overflow_after(uint64_t now, uint64_t target, unsigned skid, bool at_access,
                            bool *deferred)
{
    uint64_t margin = (uint64_t)skid + 1;
    *deferred = false;
    if (at_access)
        return target >= now ? target - now + 1 : 1;
    if (target <= now || target - now <= margin)
        return 0;
    *deferred = true;
    return target - now - margin;
}

#if defined(__x86_64__) || defined(__i386__)
void pmu_host_cpu(char vendor[13], unsigned *family, unsigned *model)
{
    unsigned a, b, c, d;
    __cpuid(0, a, b, c, d);
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    vendor[12] = 0;
    __cpuid(1, a, b, c, d);
    pmu_cpuid_family_model(a, family, model);
}
#endif
