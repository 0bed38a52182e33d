/* KVM VM and vCPU set-up: /dev/kvm, capabilities, the interpreter's CPUID,
 * the MSR filter, dropping privileges.  (Documentation/virt/kvm/api.rst.) */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kvm/kvm_int.h"
#include "vmm/machine.h"
#include "vmm/options.h"

static const struct {
    int cap;
    const char *name;
} needed_caps[] = {
    { KVM_CAP_SET_GUEST_DEBUG, "KVM_CAP_SET_GUEST_DEBUG" },
    { KVM_CAP_VCPU_EVENTS, "KVM_CAP_VCPU_EVENTS" },
    { KVM_CAP_DEBUGREGS, "KVM_CAP_DEBUGREGS" },
    { KVM_CAP_READONLY_MEM, "KVM_CAP_READONLY_MEM" },
    { KVM_CAP_X86_USER_SPACE_MSR, "KVM_CAP_X86_USER_SPACE_MSR" },
    { KVM_CAP_X86_MSR_FILTER, "KVM_CAP_X86_MSR_FILTER" },
    { KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
};

bool kvm_ioctl_ok(int r, const char *what, GError **err)
{
    if (r >= 0)
        return true;
    tn_error(err, "KVM: %s: %s", what, strerror(errno));
    return false;
}

static int xioctl(int fd, unsigned long req, void *arg)
{
    int r;
    do {
        r = ioctl(fd, req, arg);
    } while (r < 0 && (errno == EINTR || errno == EAGAIN));
    return r;
}

/* PVM (kvm_pvm, "Pagetable-based Virtual Machine") also provides
 * /dev/kvm, but without VT-x/SVM: it runs PVM-enlightened guest kernels.
 * Other guests' code is emulated instruction by instruction (seen: SSE
 * and RDTSCP not emulated, CR0.PG refused outside long mode, TSC writes
 * lost), which can neither boot firmware nor replay. */
static bool pvm_only(void)
{
    return g_file_test("/sys/module/kvm_pvm", G_FILE_TEST_IS_DIR) &&
           !g_file_test("/sys/module/kvm_intel", G_FILE_TEST_IS_DIR) &&
           !g_file_test("/sys/module/kvm_amd", G_FILE_TEST_IS_DIR);
}

/* /dev/kvm opened, API version and capabilities checked. */
int kvm_open_dev(GError **err)
{
    if (pvm_only()) {
        tn_error(err, "/dev/kvm is PVM (module kvm_pvm), which runs only PVM guest "
                 "kernels; Tandem needs KVM on Intel VT-x or AMD SVM (kvm_intel, kvm_amd)");
        return -1;
    }
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        tn_error(err, "/dev/kvm: %s", strerror(errno));
        return -1;
    }
    int ver = ioctl(fd, KVM_GET_API_VERSION, 0);
    if (ver != KVM_API_VERSION) {
        tn_error(err, "/dev/kvm: API version %d, expected %d", ver, KVM_API_VERSION);
        close(fd);
        return -1;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(needed_caps); i++) {
        if (ioctl(fd, KVM_CHECK_EXTENSION, needed_caps[i].cap) <= 0) {
            tn_error(err, "KVM lacks %s (kernel too old)", needed_caps[i].name);
            close(fd);
            return -1;
        }
    }
    /* Without KVM_CAP_XSAVE, x87/SSE go through KVM_GET/SET_FPU, which
     * every KVM has. */
    return fd;
}

bool kvm_probe(GError **err)
{
    int fd = kvm_open_dev(err);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

/* The pages KVM takes for itself on Intel must not hide anything. */
static bool private_range_free(AddressSpace *as, GError **err)
{
    for (int i = 0; i < as->nregions; i++) {
        const MemRegion *r = &as->regions[i];
        if (r->base < KVM_PRIVATE_END && r->base + r->size > KVM_IDENTITY_MAP_ADDR) {
            tn_error(err, "KVM: region %s at 0x%" G_GINT64_MODIFIER "x overlaps the "
                     "pages KVM keeps at 0x%llx-0x%llx", r->name, r->base,
                     KVM_IDENTITY_MAP_ADDR, KVM_PRIVATE_END - 1);
            return false;
        }
    }
    return true;
}

/* ---- can KVM run the interpreter's CPU model here? ---- */

static struct kvm_cpuid2 *supported_cpuid(int kvm_fd, GError **err)
{
    for (unsigned n = 128; n <= 4096; n *= 2) {
        struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + n * sizeof(c->entries[0]));
        c->nent = n;
        if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) == 0)
            return c;
        int e = errno;
        g_free(c);
        if (e != E2BIG) {
            tn_error(err, "KVM: KVM_GET_SUPPORTED_CPUID: %s", strerror(e));
            return NULL;
        }
    }
    tn_error(err, "KVM: KVM_GET_SUPPORTED_CPUID: too many leaves");
    return NULL;
}

static const struct kvm_cpuid_entry2 *find_leaf(const struct kvm_cpuid2 *c, uint32_t leaf,
                                                 uint32_t sub)
{
    for (uint32_t i = 0; i < c->nent; i++)
        if (c->entries[i].function == leaf && c->entries[i].index == sub)
            return &c->entries[i];
    return NULL;
}

/* The feature bits of the model, by name: KVM must support each, or a
 * guest that uses one gets #UD on KVM and not on the interpreter.  Leaf
 * 0xD: the XCR0 bits the model offers (0.EAX) and the XSAVE variants
 * (1.EAX), so XSETBV and the save-area format are the model's. */
static const struct {
    uint32_t leaf;
    uint8_t sub;
    uint8_t reg;            /* 0 EAX, 1 EBX, 2 ECX, 3 EDX */
    uint8_t bit;
    const char *name;
} model_features[] = {
    { 1, 0, 2, 0, "SSE3" }, { 1, 0, 2, 9, "SSSE3" }, { 1, 0, 2, 13, "CX16" },
    { 1, 0, 2, 19, "SSE4.1" }, { 1, 0, 2, 20, "SSE4.2" }, { 1, 0, 2, 22, "MOVBE" },
    { 1, 0, 2, 23, "POPCNT" }, { 1, 0, 2, 26, "XSAVE" },
    { 1, 0, 3, 0, "FPU" }, { 1, 0, 3, 2, "DE" }, { 1, 0, 3, 3, "PSE" }, { 1, 0, 3, 4, "TSC" },
    { 1, 0, 3, 5, "MSR" }, { 1, 0, 3, 6, "PAE" }, { 1, 0, 3, 8, "CX8" }, { 1, 0, 3, 11, "SEP" },
    { 1, 0, 3, 12, "MTRR" }, { 1, 0, 3, 13, "PGE" }, { 1, 0, 3, 15, "CMOV" }, { 1, 0, 3, 16, "PAT" },
    { 1, 0, 3, 17, "PSE36" }, { 1, 0, 3, 19, "CLFSH" }, { 1, 0, 3, 23, "MMX" }, { 1, 0, 3, 24, "FXSR" },
    { 1, 0, 3, 25, "SSE" }, { 1, 0, 3, 26, "SSE2" },
    { 7, 0, 1, 3, "BMI1" }, { 7, 0, 1, 8, "BMI2" },
    { 0xd, 0, 0, 0, "XCR0.x87" }, { 0xd, 0, 0, 1, "XCR0.SSE" }, { 0xd, 0, 0, 2, "XCR0.AVX" },
    { 0xd, 1, 0, 0, "XSAVEOPT" }, { 0xd, 1, 0, 1, "XSAVEC" }, { 0xd, 1, 0, 2, "XGETBV1" },
    { 0xd, 1, 0, 3, "XSAVES" },
    { 0x80000001, 0, 2, 0, "LAHF_LM" }, { 0x80000001, 0, 2, 5, "ABM" },
    { 0x80000001, 0, 3, 11, "SYSCALL" }, { 0x80000001, 0, 3, 20, "NX" },
    { 0x80000001, 0, 3, 26, "PDPE1GB" }, { 0x80000001, 0, 3, 27, "RDTSCP" },
    { 0x80000001, 0, 3, 29, "LM" },
};

static bool model_supported(int kvm_fd, X86CPU *cpu, GError **err)
{
    struct kvm_cpuid2 *sup = supported_cpuid(kvm_fd, err);
    if (!sup)
        return false;
    GString *missing = g_string_new(NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(model_features); i++) {
        uint32_t r[4];
        x86_cpuid(cpu, model_features[i].leaf, model_features[i].sub, r);
        unsigned reg = model_features[i].reg, bit = model_features[i].bit;
        if (!((r[reg] >> bit) & 1))
            continue;
        const struct kvm_cpuid_entry2 *e = find_leaf(sup, model_features[i].leaf,
                                                     model_features[i].sub);
        uint32_t have = !e ? 0 : reg == 0 ? e->eax : reg == 1 ? e->ebx : reg == 2 ? e->ecx
                                                                                : e->edx;
        if (!((have >> bit) & 1))
            g_string_append_printf(missing, " %s", model_features[i].name);
    }
    g_free(sup);
    bool ok = missing->len == 0;
    if (!ok)
        tn_error(err, "KVM on this host cannot run the CPU model (docs/x86-cpu.md): it lacks"
                 "%s", missing->str);
    g_string_free(missing, TRUE);
    return ok;
}

bool kvm_supports_cpu(X86CPU *cpu, GError **err)
{
    int fd = kvm_open_dev(err);
    if (fd < 0)
        return false;
    bool ok = model_supported(fd, cpu, err);
    close(fd);
    return ok;
}

static bool set_cpuid(int vcpu_fd, X86CPU *cpu, GError **err)
{
    X86CpuidLeaf leaves[64];
    unsigned n = x86_cpuid_leaves(cpu, leaves, G_N_ELEMENTS(leaves));
    g_assert(n <= G_N_ELEMENTS(leaves));
    struct kvm_cpuid2 *c = g_malloc0(sizeof(*c) + n * sizeof(c->entries[0]));
    c->nent = n;
    for (unsigned i = 0; i < n; i++) {
        struct kvm_cpuid_entry2 *e = &c->entries[i];
        e->function = leaves[i].leaf;
        e->index = leaves[i].sub;
        e->flags = leaves[i].indexed ? KVM_CPUID_FLAG_SIGNIFCANT_INDEX : 0;
        e->eax = leaves[i].r[0];
        e->ebx = leaves[i].r[1];
        e->ecx = leaves[i].r[2];
        e->edx = leaves[i].r[3];
    }
    bool ok = kvm_ioctl_ok(xioctl(vcpu_fd, KVM_SET_CPUID2, c), "KVM_SET_CPUID2", err);
    g_free(c);
    return ok;
}

/* Is this process running on QEMU's TCG (the nested harness)?  QEMU
 * names itself in the hypervisor leaf (CPUID 0x40000000) when TCG runs
 * it; kvm_int.h (KvmVcpu.tcg_host) says what that changes. */
static bool host_is_qemu_tcg(void)
{
    unsigned a, b, c, d;
    __cpuid(1, a, b, c, d);
    if (!(c & (1u << 31)))
        return false;               /* no hypervisor */
    __cpuid(0x40000000, a, b, c, d);
    char sig[13];
    memcpy(sig, &b, 4);
    memcpy(sig + 4, &c, 4);
    memcpy(sig + 8, &d, 4);
    sig[12] = 0;
    return !strcmp(sig, "TCGTCGTCGTCG");
}

/* ---- does KVM see the guest's XSETBV? ---- */

/* VT-x and SVM hardware always make XSETBV exit to KVM, which keeps the
 * guest's XCR0 and loads it on every entry.  QEMU TCG's nested SVM (the
 * nested-KVM harness, QEMU 7.2) does not intercept it: the instruction
 * sets the emulated CPU's XCR0 directly, KVM keeps the old value and puts
 * it back at the next entry, so XSAVE/XRSTOR soon run with another XCR0
 * than the guest set (Linux: "bad frame in rt_sigreturn", an XRSTOR #GP
 * on its own signal frame).  A scratch VM runs `XSETBV(0, 3); HLT` in
 * 32-bit protected mode and reads XCR0 back: 1 if KVM saw it, 0 if not,
 * -1 on error. */
/* A scratch VM: one page of code at 0 run in flat 32-bit protected mode
 * (OSXSAVE on) until its first exit, with guest debugging dbg (NULL:
 * none).  Returns 0 with the exit reason and the XCR0 KVM holds then, -1
 * on error.  The probes below use it. */
int kvm_scratch_run(int kvm_fd, X86CPU *model, const char *what, const uint8_t *code,
                    size_t len, const struct kvm_guest_debug *dbg, uint32_t *exit_reason,
                    uint64_t *xcr0, GError **err)
{
    int vm = -1, vcpu = -1, ret = -1;
    struct kvm_run *run = MAP_FAILED;
    int run_size = 0;
    uint8_t *mem = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                        -1, 0);
    if (mem == MAP_FAILED) {
        tn_error(err, "KVM: %s probe: %s", what, strerror(errno));
        return -1;
    }
    memcpy(mem, code, len);
    do {
        vm = ioctl(kvm_fd, KVM_CREATE_VM, 0);
    } while (vm < 0 && errno == EINTR);
    if (!kvm_ioctl_ok(vm, "KVM_CREATE_VM (probe)", err))
        goto out;
    struct kvm_userspace_memory_region r = { .slot = 0, .guest_phys_addr = 0,
                                             .memory_size = 0x1000,
                                             .userspace_addr = (uintptr_t)mem };
    if (!kvm_ioctl_ok(ioctl(vm, KVM_SET_USER_MEMORY_REGION, &r),
                      "KVM_SET_USER_MEMORY_REGION (probe)", err))
        goto out;
    if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0 &&
        !kvm_ioctl_ok(ioctl(vm, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR),
                      "KVM_SET_TSS_ADDR (probe)", err))
        goto out;
    vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (!kvm_ioctl_ok(vcpu, "KVM_CREATE_VCPU (probe)", err))
        goto out;
    run_size = ioctl(kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (!kvm_ioctl_ok(run_size, "KVM_GET_VCPU_MMAP_SIZE", err))
        goto out;
    run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED) {
        tn_error(err, "KVM: %s probe: cannot map kvm_run: %s", what, strerror(errno));
        goto out;
    }
    if (!set_cpuid(vcpu, model, err))
        goto out;
    struct kvm_sregs sr;
    if (!kvm_ioctl_ok(ioctl(vcpu, KVM_GET_SREGS, &sr), "KVM_GET_SREGS (probe)", err))
        goto out;
    struct kvm_segment flat = { .base = 0, .limit = 0xffffffff, .selector = 0x10,
                                .type = 3, .present = 1, .dpl = 0, .db = 1, .s = 1,
                                .g = 1 };
    sr.ds = sr.es = sr.fs = sr.gs = sr.ss = flat;
    sr.cs = flat;
    sr.cs.selector = 0x08;
    sr.cs.type = 0xb;
    sr.cr0 = 0x11;                      /* PE, ET */
    sr.cr4 = 1u << 18;                  /* OSXSAVE */
    sr.efer = 0;
    if (!kvm_ioctl_ok(ioctl(vcpu, KVM_SET_SREGS, &sr), "KVM_SET_SREGS (probe)", err))
        goto out;
    struct kvm_regs rg;
    memset(&rg, 0, sizeof(rg));
    rg.rip = 0;
    rg.rflags = 2;
    rg.rsp = 0x1000;
    if (!kvm_ioctl_ok(ioctl(vcpu, KVM_SET_REGS, &rg), "KVM_SET_REGS (probe)", err))
        goto out;
    if (dbg && !kvm_ioctl_ok(ioctl(vcpu, KVM_SET_GUEST_DEBUG, dbg),
                             "KVM_SET_GUEST_DEBUG (probe)", err))
        goto out;
    int rr;
    do {
        rr = ioctl(vcpu, KVM_RUN, 0);
    } while (rr < 0 && (errno == EINTR || errno == EAGAIN));
    if (!kvm_ioctl_ok(rr, "KVM_RUN (probe)", err))
        goto out;
    *exit_reason = run->exit_reason;
    *xcr0 = 0;
    if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0) {
        struct kvm_xcrs x;
        memset(&x, 0, sizeof(x));
        if (!kvm_ioctl_ok(ioctl(vcpu, KVM_GET_XCRS, &x), "KVM_GET_XCRS (probe)", err))
            goto out;
        for (unsigned i = 0; i < x.nr_xcrs; i++)
            if (x.xcrs[i].xcr == 0)
                *xcr0 = x.xcrs[i].value;
    }
    ret = 0;
out:
    if (run != MAP_FAILED)
        munmap(run, (size_t)run_size);
    if (vcpu >= 0)
        close(vcpu);
    if (vm >= 0)
        close(vm);
    munmap(mem, 0x1000);
    return ret;
}

static int xsetbv_seen(int kvm_fd, X86CPU *model, GError **err)
{
    static const uint8_t code[] = {
        0x31, 0xc9,                     /* xor ecx, ecx */
        0xb8, 0x03, 0x00, 0x00, 0x00,   /* mov eax, 3 (x87 | SSE) */
        0x31, 0xd2,                     /* xor edx, edx */
        0x0f, 0x01, 0xd1,               /* xsetbv */
        0xf4,                           /* hlt */
    };
    uint32_t exit_reason;
    uint64_t xcr0;
    if (kvm_scratch_run(kvm_fd, model, "XSETBV", code, sizeof(code), NULL, &exit_reason, &xcr0,
                    err) < 0)
        return -1;
    if (exit_reason != KVM_EXIT_HLT) {
        tn_error(err, "KVM: XSETBV probe: exit reason %u instead of HLT", exit_reason);
        return -1;
    }
    return xcr0 == 3;
}

/* Do hardware breakpoints set through KVM_SET_GUEST_DEBUG fire?  Not in
 * QEMU 7.2's TCG emulation of SVM (the nested harness): it loads the
 * guest's DR7 from the VMCB without arming it.  A scratch VM runs
 * `NOP; NOP; HLT` with a breakpoint on the second NOP: 1 if it stops
 * there, 0 if it reaches the HLT, -1 on error. */
int kvm_hw_breakpoints_work(KvmVcpu *v, GError **err)
{
    static const uint8_t code[] = { 0x90, 0x90, 0xf4 };
    struct kvm_guest_debug d;
    memset(&d, 0, sizeof(d));
    d.control = KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
    d.arch.debugreg[0] = 1;
    d.arch.debugreg[7] = 2;             /* G0, execute, 1 byte */
    uint32_t exit_reason;
    uint64_t xcr0;
    if (kvm_scratch_run(v->kvm_fd, v->cpu, "hardware breakpoint", code, sizeof(code), &d,
                    &exit_reason, &xcr0, err) < 0)
        return -1;
    if (exit_reason == KVM_EXIT_DEBUG)
        return 1;
    if (exit_reason == KVM_EXIT_HLT)
        return 0;
    tn_error(err, "KVM: hardware breakpoint probe: exit reason %u", exit_reason);
    return -1;
}

uint8_t *kvm_guest_ram_ptr(KvmVcpu *v, uint64_t gpa)
{
    for (unsigned i = 0; i < G_N_ELEMENTS(v->slots); i++) {
        const KvmSlot *sl = &v->slots[i];
        if (sl->used && gpa >= sl->gpa && gpa - sl->gpa < sl->size)
            return (uint8_t *)(sl->uaddr + (gpa - sl->gpa));
    }
    return NULL;
}

/* MSRs KVM handles itself: those whose behaviour (and state, moved by
 * kvm_put_state/kvm_get_state) is the same on KVM and the interpreter and
 * which guests touch often.  Every other guest RDMSR/WRMSR exits to us
 * and is answered by the interpreter's MSR code, so the TSC, TSC_AUX, the
 * APIC base, MISC_ENABLE, identity MSRs and MSRs the interpreter lacks
 * read the same on both. */
static void allow(struct kvm_msr_filter_range *r, uint8_t *bm, uint32_t base, uint32_t n,
                  const uint32_t *msrs, unsigned count)
{
    r->flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE;
    r->base = base;
    r->nmsrs = n;
    r->bitmap = bm;
    for (unsigned i = 0; i < count; i++) {
        uint32_t bit = msrs[i] - base;
        bm[bit / 8] |= (uint8_t)(1u << (bit % 8));
    }
}

static bool set_msr_filter(KvmVcpu *v, GError **err)
{
    uint8_t bm[4][0x100 / 8];
    static const uint32_t sysenter[] = { 0x174, 0x175, 0x176 };
    static const uint32_t mtrr_pat[] = {
        0x200, 0x201, 0x202, 0x203, 0x204, 0x205, 0x206, 0x207,
        0x208, 0x209, 0x20a, 0x20b, 0x20c, 0x20d, 0x20e, 0x20f,
        0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e, 0x26f,
        0x277, 0x2ff,
    };
    /* EFER; STAR LSTAR CSTAR FMASK; FS/GS base, KernelGSbase.  The
     * i386 model has no long-mode MSRs: the interpreter's #GP then. */
    static const uint32_t efer[] = { 0xc0000080, 0xc0000081, 0xc0000082, 0xc0000083,
                                     0xc0000084 };
    static const uint32_t bases[] = { 0xc0000100, 0xc0000101, 0xc0000102 };
    bool lm = v->cpu->variant == 64;
    struct kvm_msr_filter f;
    struct kvm_enable_cap cap;

    memset(&cap, 0, sizeof(cap));
    cap.cap = KVM_CAP_X86_USER_SPACE_MSR;
    cap.args[0] = KVM_MSR_EXIT_REASON_FILTER | KVM_MSR_EXIT_REASON_UNKNOWN;
    if (!kvm_ioctl_ok(xioctl(v->vm_fd, KVM_ENABLE_CAP, &cap),
                      "KVM_ENABLE_CAP(KVM_CAP_X86_USER_SPACE_MSR)", err))
        return false;

    memset(bm, 0, sizeof(bm));
    memset(&f, 0, sizeof(f));
    f.flags = KVM_MSR_FILTER_DEFAULT_DENY;
    allow(&f.ranges[0], bm[0], 0x174, 3, sysenter, G_N_ELEMENTS(sysenter));
    allow(&f.ranges[1], bm[1], 0x200, 0x100, mtrr_pat, G_N_ELEMENTS(mtrr_pat));
    allow(&f.ranges[2], bm[2], 0xc0000080, 5, efer, lm ? G_N_ELEMENTS(efer) : 1);
    allow(&f.ranges[3], bm[3], 0xc0000100, 3, bases, lm ? G_N_ELEMENTS(bases) : 0);
    return kvm_ioctl_ok(xioctl(v->vm_fd, KVM_X86_SET_MSR_FILTER, &f),
                        "KVM_X86_SET_MSR_FILTER", err);
}

/* The VM exists and /dev/kvm is open: nothing left needs privileges. */
static bool drop_caps(GError **err)
{
    cap_t none = cap_init();
    if (!none) {
        tn_error(err, "KVM: cannot drop capabilities: %s", strerror(errno));
        return false;
    }
    int r = cap_set_proc(none);
    int e = errno;
    cap_free(none);
    if (r < 0) {
        tn_error(err, "KVM: cannot drop capabilities: %s", strerror(e));
        return false;
    }
    return true;
}

/* The PMU counter, for a replay that may land with it (Options.kvm_landing):
 * opened while the process may still count the guest's kernel (CAP_PERFMON
 * or root, where perf_event_paranoid asks for it).  Where it cannot be
 * had, landing=pmu is an error and landing=auto goes on without it. */
static bool open_counter(KvmVcpu *v, GError **err)
{
    const Options *o = v->m->opts;
    if (!o || o->rr_mode != 2 || o->kvm_switch ||
        (o->kvm_landing != KVM_LAND_AUTO && o->kvm_landing != KVM_LAND_PMU))
        return true;
    GError *why = NULL;
    v->counter = kvm_counter_open(v, &why);
    if (v->counter)
        return true;
    if (o->kvm_landing == KVM_LAND_PMU) {
        g_propagate_prefixed_error(err, why, "-accel kvm,landing=pmu: ");
        return false;
    }
    v->counter_why = g_strdup(why->message);
    g_error_free(why);
    return true;
}

static void kick_handler(int sig)
{
    /* Interrupting KVM_RUN is all it is for; kvm_kick() already set
     * immediate_exit. */
}

static void map_changed(void *opaque)
{
    KvmVcpu *v = opaque;
    v->map_dirty = true;
}

static bool create_vcpu(KvmVcpu *v, GError **err)
{
    uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
    if (!private_range_free(v->as, err))
        return false;
    /* Intel only (real-mode emulation without unrestricted guest, EPT);
     * harmless elsewhere.  Before the vCPU exists, as the API requires. */
    if (ioctl(v->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_IDENTITY_MAP_ADDR) > 0 &&
        !kvm_ioctl_ok(ioctl(v->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap),
                      "KVM_SET_IDENTITY_MAP_ADDR", err))
        return false;
    if (ioctl(v->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_SET_TSS_ADDR) > 0 &&
        !kvm_ioctl_ok(ioctl(v->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR),
                      "KVM_SET_TSS_ADDR", err))
        return false;
    if (!set_msr_filter(v, err) || !kvm_slots_sync(v, err))
        return false;
    v->fd = ioctl(v->vm_fd, KVM_CREATE_VCPU, 0);
    if (!kvm_ioctl_ok(v->fd, "KVM_CREATE_VCPU", err))
        return false;
    int sz = ioctl(v->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (!kvm_ioctl_ok(sz, "KVM_GET_VCPU_MMAP_SIZE", err))
        return false;
    void *run = mmap(NULL, (size_t)sz, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
    if (run == MAP_FAILED) {
        tn_error(err, "KVM: cannot map the vCPU's kvm_run: %s", strerror(errno));
        return false;
    }
    v->run = run;
    v->run_size = (size_t)sz;
    if (!set_cpuid(v->fd, v->cpu, err))
        return false;
    /* RDTSC at the model's rate (the virtual clock is host time under
     * KVM), where the host can scale the TSC; elsewhere it runs at the
     * host's rate (docs/architecture.md). */
    if (ioctl(v->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_CONTROL) > 0) {
        if (!kvm_ioctl_ok(ioctl(v->fd, KVM_SET_TSC_KHZ, (unsigned long)X86_TSC_KHZ),
                          "KVM_SET_TSC_KHZ", err))
            return false;
        v->tsc_scaled = true;
    }
    struct kvm_device_attr a = { .group = KVM_VCPU_TSC_CTRL, .attr = KVM_VCPU_TSC_OFFSET };
    v->has_tsc_offset = ioctl(v->fd, KVM_HAS_DEVICE_ATTR, &a) == 0;
    return true;
}

KvmVcpu *kvm_create(Machine *m, X86CPU *cpu, GError **err)
{
    KvmVcpu *v = g_new0(KvmVcpu, 1);
    v->m = m;
    v->cpu = cpu;
    m->kvm_maps_ram = true;
    v->as = cpu->as;
    v->vm_fd = v->fd = -1;
    if (v->as->map_changed) {
        tn_error(err, "KVM: the CPU's address space is already mirrored by another VM");
        g_free(v);
        return NULL;
    }
    v->kvm_fd = kvm_open_dev(err);
    if (v->kvm_fd < 0) {
        g_free(v);
        return NULL;
    }
    if (!model_supported(v->kvm_fd, cpu, err)) {
        kvm_destroy(v);
        return NULL;
    }
    v->tcg_host = host_is_qemu_tcg();
    v->has_xsave = ioctl(v->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XSAVE) > 0;
    v->has_xcrs = ioctl(v->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_XCRS) > 0;
    if (v->has_xcrs) {
        int seen = xsetbv_seen(v->kvm_fd, cpu, err);
        if (seen < 0) {
            kvm_destroy(v);
            return NULL;
        }
        if (!seen) {
            /* The guest's XSETBV is lost: XCR0 stays at every state
             * component the model offers (CPUID 0xD.0), which is what a
             * guest that enables XSAVE sets (Linux does). */
            uint32_t r[4];
            x86_cpuid(cpu, 0xd, 0, r);
            v->xcr0_pinned = r[0] | ((uint64_t)r[3] << 32);
            fprintf(stderr, "tandem: KVM: this host does not intercept the guest's XSETBV "
                    "(QEMU TCG's nested SVM?); XCR0 is kept at 0x%" G_GINT64_MODIFIER "x "
                    "(docs/architecture.md)\n", v->xcr0_pinned);
        }
    }
    do {
        v->vm_fd = ioctl(v->kvm_fd, KVM_CREATE_VM, 0);
    } while (v->vm_fd < 0 && errno == EINTR);
    if (!kvm_ioctl_ok(v->vm_fd, "KVM_CREATE_VM", err) || !create_vcpu(v, err) ||
        !open_counter(v, err) || !drop_caps(err))
        goto fail;
    /* SA_RESTART for the other system calls it may interrupt: KVM_RUN
     * returns EINTR all the same. */
    struct sigaction sa = { .sa_handler = kick_handler, .sa_flags = SA_RESTART };
    sigemptyset(&sa.sa_mask);
    sigaction(KVM_KICK_SIGNAL, &sa, NULL);
    v->as->map_changed = map_changed;
    v->as->map_changed_opaque = v;
    return v;
fail:
    kvm_destroy(v);
    return NULL;
}

void kvm_destroy(KvmVcpu *v)
{
    if (!v)
        return;
    if (v->as && v->as->map_changed_opaque == v) {
        v->as->map_changed = NULL;
        v->as->map_changed_opaque = NULL;
    }
    kvm_counter_close(v->counter);
    g_free(v->counter_why);
    if (v->run)
        munmap(v->run, v->run_size);
    if (v->fd >= 0)
        close(v->fd);
    if (v->vm_fd >= 0)
        close(v->vm_fd);
    if (v->kvm_fd >= 0)
        close(v->kvm_fd);
    kvm_slots_free(v);
    g_free(v);
}

void kvm_kick(KvmVcpu *v)
{
    __atomic_store_n(&v->kick_pending, 1, __ATOMIC_SEQ_CST);
    if (v->run)
        __atomic_store_n(&v->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
    if (__atomic_load_n(&v->in_run, __ATOMIC_SEQ_CST) &&
        !pthread_equal(v->thread, pthread_self()))
        pthread_kill(v->thread, KVM_KICK_SIGNAL);
}

uint64_t kvm_xcr0_pinned(const KvmVcpu *v)
{
    return v->xcr0_pinned;
}
