/* The KVM API where the backend is not built (not an x86-64 Linux host,
 * no x86 target, or -Dkvm=disabled): every call says why. */
#include "kvm/kvm.h"
#include "vmm/error.h"

#ifndef TANDEM_KVM_STUB_REASON
#define TANDEM_KVM_STUB_REASON "KVM needs an x86-64 Linux host"
#endif

static bool no_kvm(GError **err)
{
    tn_error(err, "%s", TANDEM_KVM_STUB_REASON);
    return false;
}

bool kvm_probe(GError **err) { return no_kvm(err); }
bool kvm_supports_cpu(X86CPU *cpu, GError **err) { return no_kvm(err); }

KvmVcpu *kvm_create(Machine *m, X86CPU *cpu, GError **err)
{
    no_kvm(err);
    return NULL;
}

void kvm_destroy(KvmVcpu *v) {}
bool kvm_put_state(KvmVcpu *v, const X86CPU *cpu, GError **err) { return no_kvm(err); }
bool kvm_get_state(KvmVcpu *v, X86CPU *cpu, GError **err) { return no_kvm(err); }
bool kvm_get_regs(KvmVcpu *v, X86CPU *cpu, GError **err) { return no_kvm(err); }
bool kvm_peek_regs(KvmVcpu *v, X86CPU *cpu, GError **err) { return no_kvm(err); }
bool kvm_resume_past_breakpoint(KvmVcpu *v, GError **err) { return no_kvm(err); }
int kvm_hw_breakpoints_work(KvmVcpu *v, GError **err) { no_kvm(err); return -1; }
bool kvm_unhalt_at(KvmVcpu *v, uint64_t rip, GError **err) { return no_kvm(err); }
uint8_t *kvm_guest_ram_ptr(KvmVcpu *v, uint64_t gpa) { return NULL; }
void kvm_set_access_hook(KvmVcpu *v, bool (*hook)(void *opaque, bool mmio_write, unsigned n),
                         void *opaque, bool stop)
{
}
void kvm_pdptes_fixup(KvmVcpu *v) {}

KvmStop kvm_run(KvmVcpu *v, GError **err)
{
    no_kvm(err);
    return KVM_STOP_ERROR;
}

const char *kvm_stop_name(KvmStop s) { return "error"; }

int kvm_inject_interrupt(KvmVcpu *v, uint8_t vector, GError **err)
{
    no_kvm(err);
    return -1;
}

bool kvm_interrupt_ready(const KvmVcpu *v) { return false; }
bool kvm_inject_nmi(KvmVcpu *v, GError **err) { return no_kvm(err); }

bool kvm_set_guest_debug(KvmVcpu *v, bool singlestep, const uint64_t *hw_bp, int n,
                         GError **err)
{
    return no_kvm(err);
}

const KvmDebugExit *kvm_debug_exit(const KvmVcpu *v) { return NULL; }
void kvm_kick(KvmVcpu *v) {}

uint64_t kvm_xcr0_pinned(const KvmVcpu *v) { return 0; }

KvmCounter *kvm_counter(KvmVcpu *v) { return NULL; }
const char *kvm_counter_why(const KvmVcpu *v) { return TANDEM_KVM_STUB_REASON; }
uint64_t kvm_counter_read(KvmCounter *c) { return 0; }
bool kvm_counter_arm(KvmCounter *c, uint64_t n, GError **err) { return no_kvm(err); }
bool kvm_counter_fired(const KvmCounter *c) { return false; }
const PmuEvent *kvm_counter_event(const KvmCounter *c) { return NULL; }
void kvm_request_irq_window(KvmVcpu *v, bool on) {}
