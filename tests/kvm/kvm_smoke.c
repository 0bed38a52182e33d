/*
 * Smallest possible KVM check, run by the kvm-nested-selftest meson test
 * inside the nested guest (tests/kvm/nested.py): open /dev/kvm, make a VM
 * with one page of memory and one vCPU, run three real-mode instructions
 *     mov al, 0x42 ; out 0x10, al ; hlt
 * and check that KVM_RUN stops first on the OUT (port 0x10, one byte, 0x42)
 * and then on the HLT.  Exit status 0 on success; otherwise a message on
 * stderr and status 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#define GUEST_ADDR 0x1000
#define PAGE 0x1000

static int fail(const char *what)
{
    fprintf(stderr, "kvm_smoke: FAILED: %s: %s\n", what,
            errno ? strerror(errno) : "unexpected result");
    return 1;
}

static const char *exit_name(uint32_t r)
{
    switch (r) {
    case KVM_EXIT_IO: return "KVM_EXIT_IO";
    case KVM_EXIT_HLT: return "KVM_EXIT_HLT";
    case KVM_EXIT_MMIO: return "KVM_EXIT_MMIO";
    case KVM_EXIT_SHUTDOWN: return "KVM_EXIT_SHUTDOWN";
    case KVM_EXIT_FAIL_ENTRY: return "KVM_EXIT_FAIL_ENTRY";
    case KVM_EXIT_INTERNAL_ERROR: return "KVM_EXIT_INTERNAL_ERROR";
    default: return "another exit";
    }
}

int main(void)
{
    static const uint8_t code[] = {
        0xb0, 0x42,     /* mov al, 0x42 */
        0xe6, 0x10,     /* out 0x10, al */
        0xf4,           /* hlt */
    };
    struct kvm_userspace_memory_region region;
    struct kvm_sregs sregs;
    struct kvm_regs regs;
    struct kvm_run *run;
    uint8_t *mem;
    int kvm, vm, vcpu, api, mmap_size;

    errno = 0;
    kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0) {
        return fail("open /dev/kvm");
    }
    api = ioctl(kvm, KVM_GET_API_VERSION, 0);
    if (api != KVM_API_VERSION) {
        fprintf(stderr, "kvm_smoke: FAILED: KVM API version %d, want %d\n",
                api, KVM_API_VERSION);
        return 1;
    }
    vm = ioctl(kvm, KVM_CREATE_VM, 0);
    if (vm < 0) {
        return fail("KVM_CREATE_VM");
    }
    mem = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        return fail("mmap guest memory");
    }
    memcpy(mem, code, sizeof(code));
    memset(&region, 0, sizeof(region));
    region.slot = 0;
    region.guest_phys_addr = GUEST_ADDR;
    region.memory_size = PAGE;
    region.userspace_addr = (uintptr_t)mem;
    if (ioctl(vm, KVM_SET_USER_MEMORY_REGION, &region) < 0) {
        return fail("KVM_SET_USER_MEMORY_REGION");
    }
    vcpu = ioctl(vm, KVM_CREATE_VCPU, 0);
    if (vcpu < 0) {
        return fail("KVM_CREATE_VCPU");
    }
    mmap_size = ioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    if (mmap_size < (int)sizeof(*run)) {
        return fail("KVM_GET_VCPU_MMAP_SIZE");
    }
    run = mmap(NULL, mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, 0);
    if (run == MAP_FAILED) {
        return fail("mmap kvm_run");
    }

    /* Real mode, CS base 0, IP at the code. */
    if (ioctl(vcpu, KVM_GET_SREGS, &sregs) < 0) {
        return fail("KVM_GET_SREGS");
    }
    sregs.cs.base = 0;
    sregs.cs.selector = 0;
    if (ioctl(vcpu, KVM_SET_SREGS, &sregs) < 0) {
        return fail("KVM_SET_SREGS");
    }
    memset(&regs, 0, sizeof(regs));
    regs.rip = GUEST_ADDR;
    regs.rflags = 0x2;
    if (ioctl(vcpu, KVM_SET_REGS, &regs) < 0) {
        return fail("KVM_SET_REGS");
    }

    if (ioctl(vcpu, KVM_RUN, 0) < 0) {
        return fail("KVM_RUN (first)");
    }
    if (run->exit_reason != KVM_EXIT_IO) {
        fprintf(stderr, "kvm_smoke: FAILED: first exit %s (%u), want "
                "KVM_EXIT_IO\n", exit_name(run->exit_reason),
                run->exit_reason);
        return 1;
    }
    {
        const uint8_t *data = (const uint8_t *)run + run->io.data_offset;
        if (run->io.direction != KVM_EXIT_IO_OUT || run->io.port != 0x10 ||
            run->io.size != 1 || run->io.count != 1 || data[0] != 0x42) {
            fprintf(stderr, "kvm_smoke: FAILED: I/O exit dir %u port 0x%x "
                    "size %u count %u data 0x%02x, want out 0x10 size 1 "
                    "count 1 data 0x42\n", run->io.direction, run->io.port,
                    run->io.size, run->io.count, data[0]);
            return 1;
        }
        printf("kvm_smoke: KVM_EXIT_IO out port 0x%x value 0x%02x\n",
               run->io.port, data[0]);
    }

    if (ioctl(vcpu, KVM_RUN, 0) < 0) {
        return fail("KVM_RUN (second)");
    }
    if (run->exit_reason != KVM_EXIT_HLT) {
        fprintf(stderr, "kvm_smoke: FAILED: second exit %s (%u), want "
                "KVM_EXIT_HLT\n", exit_name(run->exit_reason),
                run->exit_reason);
        return 1;
    }
    if (ioctl(vcpu, KVM_GET_REGS, &regs) < 0) {
        return fail("KVM_GET_REGS");
    }
    if (regs.rip != GUEST_ADDR + sizeof(code)) {
        fprintf(stderr, "kvm_smoke: FAILED: rip 0x%llx after hlt, want "
                "0x%llx\n", (unsigned long long)regs.rip,
                (unsigned long long)(GUEST_ADDR + sizeof(code)));
        return 1;
    }
    printf("kvm_smoke: KVM_EXIT_HLT at rip 0x%llx\nkvm_smoke: OK\n",
           (unsigned long long)regs.rip);
    return 0;
}
