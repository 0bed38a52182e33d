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

/* A free run's counter overflow (targets/x86/kvm_switch.c): after how many
 * more guest branches, from branch count `now`, the counter stops the run
 * heading for an event at branch count `target`.  An event found by a
 * breakpoint: skid + 1 short of it, so that an interrupt up to skid late
 * still comes before the event's last branch, and *deferred is true (the
 * breakpoint waits for the overflow); when it is closer than that, 0
 * (disarmed) and *deferred false (the breakpoint at once).  An event the
 * guest's device access consumes: one branch past it, where the run has
 * diverged (*deferred false). */
uint64_t pmu_overflow_after(uint64_t now, uint64_t target, unsigned skid, bool at_access,
                            bool *deferred);

/* This host's CPU: CPUID's vendor string and display family and model
 * (x86 hosts only). */
void pmu_host_cpu(char vendor[13], unsigned *family, unsigned *model);

/* The display family and model of CPUID.1:EAX. */
void pmu_cpuid_family_model(uint32_t eax, unsigned *family, unsigned *model);

#endif
