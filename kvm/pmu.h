/* The host PMU event that counts the replay position on KVM (hybrid
 * replay, DESIGN.md "Hybrid replay"): retired conditional branches, the
 * count interp/icount.md defines as brcount.  Pure data and selection;
 * no system calls (tandem-pmu-probe and the KVM replay open the event). */
#ifndef TANDEM_KVM_PMU_H
#define TANDEM_KVM_PMU_H

#include <stdbool.h>
#include <stdint.h>

struct PmuEvent {
    const char *name;
    uint64_t config;        /* perf_event_attr.config for PERF_TYPE_RAW */
    /* How many events may retire after the counter's overflow before the
     * interrupt stops the guest: the replay stops the counter this many
     * branches short of its target and lands with breakpoints. */
    unsigned skid;
};
typedef struct PmuEvent PmuEvent;

/* The event for a CPU identified by CPUID (vendor string of leaf 0, the
 * display family and model of leaf 1); false for a CPU we do not know
 * the event of (the replay then says so and lands without a PMU). */
bool pmu_branch_event(const char *vendor, unsigned family, unsigned model, PmuEvent *ev);

/* The display family and model of CPUID.1:EAX. */
void pmu_cpuid_family_model(uint32_t eax, unsigned *family, unsigned *model);

#endif
