/* Internal to kvm/: the vCPU handle shared by the VM set-up (kvm.c), the
 * memory slots (slots.c), the state transfer (state.c) and the run loop
 * (run.c). */
#ifndef TANDEM_KVM_INT_H
#define TANDEM_KVM_INT_H

#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>

#include "kvm/kvm.h"
#include "targets/x86/cpu.h"
#include "vmm/error.h"

/* Pages KVM keeps for itself on Intel hosts (real-mode TSS, EPT identity
 * map): 0xfeffc000 + 4 pages, where the pc board has nothing (below the
 * largest BIOS image it accepts, 16 MiB under 4 GiB). */
#define KVM_IDENTITY_MAP_ADDR 0xfeffc000ull
#define KVM_TSS_ADDR          0xfeffd000ull
#define KVM_PRIVATE_END       0xff000000ull

#define KVM_KICK_SIGNAL SIGUSR1
/* The PMU counter's overflow (counter.c). */
#define KVM_PMU_SIGNAL (SIGRTMIN + 1)

/* One memory slot = one RAM/ROM region of the address space. */
typedef struct KvmSlot {
    bool used;
    bool readonly;
    uint64_t gpa, size;
    uintptr_t uaddr;
} KvmSlot;

/* A page-aligned copy of a ROM region whose host memory is not page
 * aligned (KVM maps whole host pages): read-only to the guest, refreshed
 * from the original by kvm_put_state(). */
typedef struct KvmRomCopy {
    const uint8_t *src;
    uint64_t size;
    uint8_t *copy;
} KvmRomCopy;

struct KvmVcpu {
    Machine *m;
    X86CPU *cpu;
    AddressSpace *as;
    int kvm_fd, vm_fd, fd;
    struct kvm_run *run;
    size_t run_size;
    bool has_xsave, has_xcrs, has_tsc_offset;
    bool tsc_scaled;         /* KVM_SET_TSC_KHZ: RDTSC at X86_TSC_KHZ */
    /* Non-zero where the host does not intercept XSETBV (kvm.c,
     * xsetbv_seen): the XCR0 KVM always holds. */
    uint64_t xcr0_pinned;
    /* The host is QEMU's TCG (CPUID 0x40000000 says "TCGTCGTCGTCG": the
     * nested harness).  Its SVM hands the guest's TR to its own interrupt
     * code, which aborts on a busy 32-bit TSS type ("invalid tss type",
     * QEMU 7.2's get_ss_esp_from_tss), where hardware only ever holds a
     * busy one in TR: KVM is given the available type there, and the busy
     * type comes back (state.c, sregs_put/sregs_get). */
    bool tcg_host;
    /* The PMU position counter (counter.c), opened by kvm_create() for a
     * replay that may land with it (before the capabilities go), or why
     * not. */
    KvmCounter *counter;
    char *counter_why;

    KvmSlot slots[AS_MAX_REGIONS];
    KvmRomCopy roms[AS_MAX_REGIONS];
    int nroms;
    bool map_dirty;

    /* No in-kernel irqchip: KVM keeps no halted state, we do. */
    bool halted;
    bool ready;              /* an interrupt can be injected now */
    uint64_t cr8;            /* CR8 handed to KVM on the last entry */
    KvmDebugExit dbg;
    /* The last KVM_SET_GUEST_DEBUG, and an MMIO exit since: KVM's
     * emulation of an MMIO instruction writes RFLAGS back without the
     * single-step TF (KVM adds it only at the RIP where debugging was
     * set), so kvm_run() sets it again after such an exit. */
    struct kvm_guest_debug guest_debug;
    bool rearm_debug;

    /* PAE paging: the four PDPTEs as kvm_put_state() found them.  The
     * hardware never writes PDPTEs, but QEMU TCG's nested paging (the
     * harness's host) sets the accessed bit, reserved there, in those it
     * walks; kvm_get_state() takes back exactly that change. */
    bool pdpte_saved;
    uint64_t pdpte_pa, pdpte[4];

    /* The last exit (I/O, MMIO, MSR) completes on the next KVM_RUN. */
    bool pending_op;
    /* kvm_set_access_hook(): called before each device access an I/O or
     * MMIO exit makes, and whether kvm_run() then returns
     * KVM_STOP_ACCESS. */
    bool (*access_hook)(void *opaque, bool mmio_write, unsigned n);
    void *access_opaque;
    bool stop_after_access;

    pthread_t thread;        /* the thread inside kvm_run() */
    int in_run;
    int kick_pending;        /* kvm_kick() since the last KVM_STOP_KICK */
};

/* kvm.c */
int kvm_open_dev(GError **err);
bool kvm_ioctl_ok(int r, const char *what, GError **err);

/* slots.c */
bool kvm_slots_sync(KvmVcpu *v, GError **err);
void kvm_roms_refresh(KvmVcpu *v);
void kvm_slots_free(KvmVcpu *v);

/* run.c */
bool kvm_complete_pending(KvmVcpu *v, GError **err);

/* state.c */
bool kvm_get_tsc(KvmVcpu *v, uint64_t *tsc, GError **err);
bool kvm_set_tsc(KvmVcpu *v, uint64_t tsc, GError **err);
bool kvm_set_msr(KvmVcpu *v, uint32_t index, uint64_t value, GError **err);

/* A scratch VM (kvm.c): one page of code at 0 run in flat 32-bit
 * protected mode until its first exit; the probes use it. */
int kvm_scratch_run(int kvm_fd, X86CPU *model, const char *what, const uint8_t *code,
                    size_t len, const struct kvm_guest_debug *dbg, uint32_t *exit_reason,
                    uint64_t *xcr0, GError **err);
KvmCounter *kvm_counter_open(KvmVcpu *v, GError **err);
void kvm_counter_close(KvmCounter *c);

#endif
