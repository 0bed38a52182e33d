/* A hostile guest: wild device accesses must end in the architectural fault
 * (access fault with the right mtval), never in a host crash.  Run on Tandem
 * only: where devices accept odd sizes is implementation-defined, and these
 * are Tandem's documented answers (docs/architecture.md). */
#include "rt.h"

RT_TEST_NAME("rv_hostile");

#define UART   0x10000000ul
#define CLINT  0x02000000ul
#define PLIC   0x0c000000ul
#define RTC    0x00101000ul
#define VIRTIO 0x10001000ul
#define MROM   0x00001000ul
#define RAM_END (0x80000000ul + (128ul << 20))

/* A misaligned access that runs off a region may report the address of the
 * faulting portion (priv spec 3.1.16) or the original address. */
static volatile ureg fault_tval_ok = 1;

static void expect_load_fault(ureg addr, int size)
{
    ureg v = 0;
    rt_trap_clear();
    switch (size) {
    case 1: __asm__ volatile("lb %0, 0(%1)" : "+r"(v) : "r"(addr) : "memory"); break;
    case 2: __asm__ volatile("lh %0, 0(%1)" : "+r"(v) : "r"(addr) : "memory"); break;
    case 4: __asm__ volatile("lw %0, 0(%1)" : "+r"(v) : "r"(addr) : "memory"); break;
#if IS_RV64
    case 8: __asm__ volatile("ld %0, 0(%1)" : "+r"(v) : "r"(addr) : "memory"); break;
#endif
    }
    CHECK_MTRAP(EXC_LOAD_ACCESS);
    if (rt_mtrap.tval != fault_tval_ok)
        CHECKEQ(rt_mtrap.tval, addr);
}

static void expect_store_fault(ureg addr, int size)
{
    ureg v = 0x5a5a5a5a;
    rt_trap_clear();
    switch (size) {
    case 1: __asm__ volatile("sb %0, 0(%1)" :: "r"(v), "r"(addr) : "memory"); break;
    case 2: __asm__ volatile("sh %0, 0(%1)" :: "r"(v), "r"(addr) : "memory"); break;
    case 4: __asm__ volatile("sw %0, 0(%1)" :: "r"(v), "r"(addr) : "memory"); break;
#if IS_RV64
    case 8: __asm__ volatile("sd %0, 0(%1)" :: "r"(v), "r"(addr) : "memory"); break;
#endif
    }
    CHECK_MTRAP(EXC_STORE_ACCESS);
    if (rt_mtrap.tval != fault_tval_ok)
        CHECKEQ(rt_mtrap.tval, addr);
}

static void expect_fetch_fault(ureg addr)
{
    rt_trap_clear();
    rt_recover = RT_RECOVER_RA;
    ((void (*)(void))addr)();
    CHECK_MTRAP(EXC_INSN_ACCESS);
    CHECKEQ(rt_mtrap.epc, addr);
    CHECKEQ(rt_mtrap.tval, addr);
}

/* Read every 32-bit word of a device window: no fault, no crash. */
static void sweep_reads(ureg base, ureg len)
{
    rt_trap_clear();
    for (ureg off = 0; off < len; off += 4)
        (void)MMIO32(base + off);
    CHECKEQ(rt_mtrap.count, 0);
}

int main(void)
{
    /* Sizes a device does not accept. */
    expect_load_fault(PLIC + 4, 1);           /* PLIC: 32-bit only */
    expect_load_fault(PLIC + 4, 2);
    expect_store_fault(PLIC + 0x2000, 1);
    expect_load_fault(RTC, 1);                /* goldfish: 32-bit only */
    expect_store_fault(0x100000, 1);          /* finisher: 16/32-bit only */
#if IS_RV64
    expect_load_fault(UART, 8);               /* UART: 1..4 bytes */
    expect_store_fault(PLIC, 8);
#endif
    /* Misaligned device accesses. */
    expect_load_fault(CLINT + 1, 4);
    expect_load_fault(PLIC + 2, 4);
    expect_store_fault(CLINT + 0x4002, 4);
    expect_load_fault(UART + 1, 2);
    /* Nothing there. */
    expect_load_fault(0x0, 4);
    expect_store_fault(0x20000, 4);
    expect_load_fault(0x3000000, 1);
    expect_load_fault(RAM_END, 4);
    fault_tval_ok = RAM_END;
    expect_load_fault(RAM_END - 2, 4);        /* straddles the end of RAM */
    expect_store_fault(RAM_END - 1, 2);
    fault_tval_ok = 1;
    /* ROM is read-only. */
    expect_store_fault(MROM, 4);
    expect_store_fault(MROM + 0x10, 1);
    /* Executing device or unmapped memory. */
    expect_fetch_fault(UART);
    expect_fetch_fault(PLIC + 0x200000);
    expect_fetch_fault(0x20000);
    expect_fetch_fault(RAM_END);

    /* Reads across whole device windows. */
    sweep_reads(UART, 8);
    sweep_reads(CLINT, 0x10000);
    sweep_reads(PLIC, 0x3000);
    sweep_reads(PLIC + 0x200000, 0x2000);
    sweep_reads(RTC, 0x1000);
    sweep_reads(VIRTIO, 8 * 0x1000);

    /* Garbage into an empty virtio slot and the PLIC: ignored, no crash. */
    rt_trap_clear();
    for (ureg off = 0; off < 0x100; off += 4)
        MMIO32(VIRTIO + off) = 0xffffffffu;
    MMIO32(VIRTIO + 0x080) = 0x7ffffff0u;     /* QueueDescLow outside RAM */
    MMIO32(VIRTIO + 0x044) = 1;               /* QueueReady */
    MMIO32(VIRTIO + 0x050) = 0;               /* QueueNotify */
    MMIO32(PLIC + 0x200004) = 0x12345;        /* complete an id that does not exist */
    MMIO32(PLIC + 0x3ffffc) = 0xffffffffu;    /* a context that does not exist */
    CHECKEQ(MMIO32(VIRTIO + 0x008), 0);       /* still "no device" */
    CHECKEQ(rt_mtrap.count, 0);
    return 0;
}
