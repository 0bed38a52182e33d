/* x86 CPU state (i386 and x86_64 from one source) and the contract between
 * the parts of the x86 interpreter:
 *
 *   engine.c   block cache, run loop, icount, interrupt window, HLT
 *   decode.c   prefixes, ModRM/SIB, VEX, opcode tables merged from the
 *              per-file fragments (X86OpDef lists, insn.h)
 *   mem.c      software TLB, segmentation checks, guest loads/stores,
 *              MMIO and port I/O
 *   mmu.c      page walks (32-bit, PAE, 4-level), A/D bits, error codes
 *   excp.c     exception and interrupt delivery (real mode IVT, IDT gates,
 *              stack switches, double fault)
 *   seg.c      segment loads, far transfers, IRET, TSS, task switch
 *   sys.c      system instructions (CRs, DRs, MSRs, descriptor tables,
 *              CPUID, RDTSC, SYSCALL/SYSENTER, I/O instructions)
 *   flags.c    lazy condition codes
 *   exec_*.c   general-purpose instructions
 *   fpu.c      x87, FXSAVE/XSAVE
 *   sse.c      MMX, SSE..SSE4.2
 *   state.c    register views for record/replay, dump, digest
 *   pc.c       the board
 *
 * The register file follows the hardware encoding order (RAX RCX RDX RBX
 * RSP RBP RSI RDI R8..R15), segments follow struct kvm_segment field by
 * field and the descriptor tables struct kvm_dtable, so the KVM transfer
 * (kvm/) is a field copy plus a register permutation. */
#ifndef TANDEM_X86_CPU_H
#define TANDEM_X86_CPU_H

#include <stdbool.h>
#include <stdint.h>

#include "vmm/debug.h"
#include "vmm/machine.h"

/* The model's TSC rate: one tick per virtual nanosecond (docs/x86-cpu.md). */
#define X86_TSC_KHZ 1000000u

typedef struct X86CPU X86CPU;
typedef struct XInsn XInsn;

enum { X86_RAX, X86_RCX, X86_RDX, X86_RBX, X86_RSP, X86_RBP, X86_RSI, X86_RDI,
       X86_R8, X86_R9, X86_R10, X86_R11, X86_R12, X86_R13, X86_R14, X86_R15 };

/* Segment registers in encoding order (ModRM.reg of MOV Sreg). */
enum { X86_ES, X86_CS, X86_SS, X86_DS, X86_FS, X86_GS, X86_NSEG };

/* = struct kvm_segment.  limit is the expanded byte limit (G applied). */
typedef struct X86Seg {
    uint64_t base;
    uint32_t limit;
    uint16_t selector;
    uint8_t type, present, dpl, db, s, l, g, avl;
    uint8_t unusable, padding;
} X86Seg;

/* = struct kvm_dtable */
typedef struct X86Dtable {
    uint64_t base;
    uint16_t limit;
    uint16_t padding[3];
} X86Dtable;

/* EFLAGS */
#define X86_CF   (1u << 0)
#define X86_PF   (1u << 2)
#define X86_AF   (1u << 4)
#define X86_ZF   (1u << 6)
#define X86_SF   (1u << 7)
#define X86_TF   (1u << 8)
#define X86_IF   (1u << 9)
#define X86_DF   (1u << 10)
#define X86_OF   (1u << 11)
#define X86_IOPL (3u << 12)
#define X86_NT   (1u << 14)
#define X86_RF   (1u << 16)
#define X86_VM   (1u << 17)
#define X86_AC   (1u << 18)
#define X86_VIF  (1u << 19)
#define X86_VIP  (1u << 20)
#define X86_ID   (1u << 21)
#define X86_ARITH_FLAGS (X86_CF | X86_PF | X86_AF | X86_ZF | X86_SF | X86_OF)

/* CR0 / CR4 / EFER */
#define X86_CR0_PE (1ull << 0)
#define X86_CR0_MP (1ull << 1)
#define X86_CR0_EM (1ull << 2)
#define X86_CR0_TS (1ull << 3)
#define X86_CR0_ET (1ull << 4)
#define X86_CR0_NE (1ull << 5)
#define X86_CR0_WP (1ull << 16)
#define X86_CR0_AM (1ull << 18)
#define X86_CR0_NW (1ull << 29)
#define X86_CR0_CD (1ull << 30)
#define X86_CR0_PG (1ull << 31)
#define X86_CR4_VME (1ull << 0)
#define X86_CR4_PVI (1ull << 1)
#define X86_CR4_TSD (1ull << 2)
#define X86_CR4_DE  (1ull << 3)
#define X86_CR4_PSE (1ull << 4)
#define X86_CR4_PAE (1ull << 5)
#define X86_CR4_MCE (1ull << 6)
#define X86_CR4_PGE (1ull << 7)
#define X86_CR4_PCE (1ull << 8)
#define X86_CR4_OSFXSR (1ull << 9)
#define X86_CR4_OSXMMEXCPT (1ull << 10)
#define X86_CR4_UMIP (1ull << 11)
#define X86_CR4_FSGSBASE (1ull << 16)
#define X86_CR4_OSXSAVE (1ull << 18)
/* IA32_MISC_ENABLE bit 2: x87 fopcode compatibility mode */
#define X86_MISC_FOPCODE_COMPAT (1ull << 2)
#define X86_EFER_SCE (1ull << 0)
#define X86_EFER_LME (1ull << 8)
#define X86_EFER_LMA (1ull << 10)
#define X86_EFER_NXE (1ull << 11)

/* Exception vectors */
enum {
    X86_EXC_DE = 0, X86_EXC_DB = 1, X86_EXC_NMI = 2, X86_EXC_BP = 3,
    X86_EXC_OF = 4, X86_EXC_BR = 5, X86_EXC_UD = 6, X86_EXC_NM = 7,
    X86_EXC_DF = 8, X86_EXC_TS = 10, X86_EXC_NP = 11, X86_EXC_SS = 12,
    X86_EXC_GP = 13, X86_EXC_PF = 14, X86_EXC_MF = 16, X86_EXC_AC = 17,
    X86_EXC_MC = 18, X86_EXC_XM = 19,
};
#define X86_NO_ERR (-1)

/* Page-fault error code bits */
#define X86_PFERR_P    (1u << 0)
#define X86_PFERR_W    (1u << 1)
#define X86_PFERR_U    (1u << 2)
#define X86_PFERR_RSVD (1u << 3)
#define X86_PFERR_I    (1u << 4)

/* hflags: mode bits derived from CR0, EFER, CS/SS caches and EFLAGS.VM,
 * recomputed by x86_update_hflags() whenever one of those changes.  The
 * decoder depends on CS32/CS64, on PE/VM (VEX exists only in protected
 * mode) and on FLAT32: X86_HF_DECODE, part of a block's key. */
#define X86_HF_CPL     3u          /* current privilege level */
#define X86_HF_CS32    (1u << 2)   /* default operand/address size 32 */
#define X86_HF_SS32    (1u << 3)   /* stack pointer is ESP (else SP) */
#define X86_HF_CS64    (1u << 4)   /* 64-bit submode of long mode */
#define X86_HF_LMA     (1u << 5)   /* long mode active */
#define X86_HF_PE      (1u << 6)   /* protected mode */
#define X86_HF_VM      (1u << 7)   /* virtual-8086 mode */
/* 32-bit protected (or compatibility) mode with ES, SS and DS flat: base
 * 0, limit 4 GiB, writable expand-up data.  The decoder then picks the
 * specialised handlers (exec_fast.c) for memory operands through them. */
#define X86_HF_FLAT32  (1u << 8)
#define X86_HF_DECODE  (X86_HF_CS32 | X86_HF_CS64 | X86_HF_PE | X86_HF_VM | X86_HF_FLAT32)

/* Access kinds (software TLB index, mmu.c) */
typedef enum X86Access { X86_ACC_READ = 0, X86_ACC_WRITE = 1, X86_ACC_EXEC = 2 } X86Access;

/* Software TLB: direct-mapped per (user/supervisor access, kind), keyed by
 * linear page; host address = linear + addend.  Entries are only made for
 * whole 4 KiB pages of one RAM/ROM region. */
#define X86_TLB_BITS 8
#define X86_TLB_SIZE (1u << X86_TLB_BITS)
typedef struct X86TlbEntry {
    uint64_t tag;            /* linear & ~0xfff, or ~0 when empty */
    uintptr_t addend;
    uint64_t pa_page;
} X86TlbEntry;

/* Software-TLB bookkeeping, private to mem.c: the slots filled since the
 * last flush (a flush clears only those), the slots holding global pages
 * (kept by a CR3 write) and the large pages cached (INVLPG of any address
 * in one drops all its 4 KiB slots). */
#define X86_TLB_FILLS 32
#define X86_TLB_LARGE 16
typedef struct X86TlbBook {
    uint16_t nfill[2][3];
    uint8_t fills[2][3][X86_TLB_FILLS];
    uint64_t global[2][3][X86_TLB_SIZE / 64];
    uint64_t large[X86_TLB_LARGE];   /* base | log2 size | 0x40 if global */
    uint8_t nlarge;
    bool large_lost, large_lost_global;  /* more than X86_TLB_LARGE */
} X86TlbBook;

/* Physical address width (CPUID 0x80000008 EAX = 0x3028: 40 physical,
 * 48 linear bits). */
#define X86_PHYS_BITS 40

/* x87 register: 64-bit significand (explicit integer bit) and sign+exponent. */
typedef struct X86Float80 {
    uint64_t mant;
    uint16_t sexp;
    uint16_t pad[3];
} X86Float80;

typedef union X86Xmm {
    uint8_t b[16];
    uint16_t w[8];
    uint32_t d[4];
    uint64_t q[2];
    float s[4];
    double f[2];
} X86Xmm;

typedef struct X86Fpu {
    X86Float80 st[8];        /* physical registers R0..R7; MMX mmN = st[N].mant */
    uint16_t fcw, fsw;       /* control; status with TOP in bits 11-13 */
    uint8_t ftw;             /* abridged tag (FXSAVE form): bit i = R[i] valid */
    uint8_t pad;
    uint16_t fop;
    uint64_t fip, fdp;       /* last instruction / operand pointers */
    uint16_t fcs, fds;
    uint32_t mxcsr;
    X86Xmm xmm[16];
    uint64_t xcr0;
} X86Fpu;

struct X86CPU {
    /* Hot state first. */
    uint64_t regs[16];
    uint64_t rip;
    uint64_t icount;         /* retired instructions (DESIGN.md: the position) */
    uint64_t brcount;        /* retired conditional branches (interp/icount.md) */
    /* Blocks may enter the next block directly while icount stays within
     * this (engine.c sets it for each run-loop pass; 0: no chaining). */
    uint64_t chain_end;
    /* Compiled blocks that branch to themselves loop while icount stays
     * within this: the run loop's whole budget (0 with chain_end). */
    uint64_t loop_end;
    /* Lazy condition codes (flags.h). */
    uint32_t cc_op;
    uint32_t hflags;
    uint64_t cc_dst, cc_src, cc_src2;
    /* EFLAGS; the arithmetic bits are valid only while cc_op is CC_EFLAGS:
     * read through x86_eflags(). */
    uint64_t eflags;

    X86Seg seg[X86_NSEG];
    X86Seg ldt, tr;
    X86Dtable gdt, idt;
    uint64_t cr0, cr2, cr3, cr4, cr8;
    uint64_t efer;
    uint64_t dr[8];

    /* MSRs */
    uint64_t apic_base;
    uint64_t star, lstar, cstar, fmask, kernel_gs_base, tsc_aux;
    uint64_t sysenter_cs, sysenter_esp, sysenter_eip;
    uint64_t pat, misc_enable, mtrr_def_type;
    uint64_t mtrr_fixed[11], mtrr_var[16];
    /* TSC = virtual clock (ns, 1 GHz: X86_TSC_KHZ) + tsc_offset; WRMSR
     * to the TSC moves the offset (sys.c). */
    int64_t tsc_offset;

    X86Fpu fpu;
    /* The opcode of the x87 instruction being executed: it becomes FOP
     * when that instruction signals an unmasked exception, or always in
     * the fopcode compatibility mode (IA32_MISC_ENABLE bit 2; off by
     * default, as on Intel CPUs since the Pentium 4). */
    uint16_t fop_cur;

    /* Interrupt state */
    bool halted;             /* HLT: wait for an interrupt */
    bool inhibit_irq;        /* MOV SS / POP SS / STI shadow over the next insn */
    bool nmi_pending, nmi_blocked;
    volatile int intr;       /* INTR line level (the board's interrupt controller) */
    /* Acknowledge INTR: the interrupt controller returns the vector. */
    int (*intr_ack)(void *opaque);
    void *intr_opaque;
    /* Exception delivery in progress (excp.c): for double/triple fault. */
    int exc_depth;
    int exc_first;           /* vector of the exception being delivered */
    /* A fault raised by a memory access made with in == NULL (during
     * delivery, engine fetches): vector and error code, -1 = none. */
    int pending_vec;
    int pending_err;

    /* Software TLB (mem.c owns it, mmu.c fills it); [0] supervisor, [1] user. */
    X86TlbEntry tlb[2][3][X86_TLB_SIZE];

    void *bcache;            /* block cache (engine.c) */
    /* An attached debugger (debug.c): its breakpoints and watchpoints
     * (NULL: none, and the engine takes its usual paths), and
     * single-stepping (NULL: off; a REP string instruction then runs one
     * iteration per step and sets *dbg_step when it stops unretired). */
    CpuDebug *dbg;
    bool *dbg_step;

    Machine *m;
    AddressSpace *as;        /* memory */
    AddressSpace *io;        /* port I/O, 64 KiB */
    int variant;             /* 64: x86_64, 32: i386 (no long mode in CPUID) */

    X86TlbBook tlb_book;     /* mem.c */
    /* The board has a local APIC: CPUID.1:EDX.APIC and IA32_APIC_BASE
     * exist (sys.c). */
    bool has_apic;
    /* The board's local APIC, when it has one: the APIC base MSR and CR8
     * (the TPR's priority class) go to it. */
    void *apic;
    void (*apic_set_base)(void *apic, uint64_t msr);
    void (*apic_set_tpr)(void *apic, uint8_t tpr);
    uint8_t (*apic_get_tpr)(void *apic);
};

/* ---- engine.c ---- */
X86CPU *x86_cpu_create(Machine *m, int variant);
void x86_cpu_free(X86CPU *cpu);
/* Power-on/RESET state (Intel SDM vol. 3 table 9-1): CS.sel F000 base
 * FFFF0000, RIP FFF0, EDX = CPUID(1).EAX. */
void x86_cpu_reset(X86CPU *cpu);
void x86_cpu_set_intr(X86CPU *cpu, int level);
void x86_cpu_nmi(X86CPU *cpu);
/* Drop every translated block (writes to RAM behind the code_write hook). */
void x86_code_flush(X86CPU *cpu);
/* Physical [pa, pa+len) was written by a CPU slow-path store: drop the
 * blocks decoded from it (mem.c calls this). */
void x86_code_written(X86CPU *cpu, uint64_t pa, uint64_t len);
/* Is this physical page a code page (stores must take the slow path)? */
bool x86_is_code_page(X86CPU *cpu, uint64_t pa);
/* Exact instructions retired before `in` executes. */
uint64_t x86_icount_at(const X86CPU *cpu, const XInsn *in);
extern const CpuOps x86_cpu_ops;

/* ---- mem.c ---- */
/* Drop cached translations: all, or all but global ones (CR3 write). */
void x86_tlb_flush(X86CPU *cpu, bool keep_global);
void x86_tlb_flush_page(X86CPU *cpu, uint64_t lin);
/* A page became a code page: no write entries for it may stay. */
void x86_tlb_drop_writable(X86CPU *cpu, uint64_t pa_page);
/* Translate an instruction fetch at linear address lin for the current
 * CPL; fills the fetch TLB.  Returns 0 or an exception vector (with
 * *err the error code; CR2 already set for #PF). */
int x86_fetch_xlate(X86CPU *cpu, uint64_t lin, uint64_t *pa, int *err);

/* ---- debug.c (gdb stub hooks, vmm/debug.h) ---- */
extern const CpuDebugOps x86_debug_ops;
/* Read [lin, lin + len) as the debugger does: the current page tables,
 * no permission checks, no A/D bits, no device reads.  False if a byte is
 * not mapped to RAM/ROM. */
bool x86_debug_read(X86CPU *cpu, uint64_t lin, void *buf, size_t len);
/* A data access of `in` to [lin, lin + size) (kind DEBUG_WATCH_READ or
 * _WRITE) meets a watchpoint (cpu->dbg is set): true after leaving the
 * block before `in` as a fault would, without one (the access must not
 * happen; the caller returns false). */
bool x86_watch_stop(X86CPU *cpu, const XInsn *in, uint64_t lin, uint64_t size,
                    unsigned kind);

/* ---- mmu.c ---- */
/* Walk the page tables for lin.  user: CPL 3 access (implicit supervisor
 * accesses such as descriptor loads pass false).  On success *pa and
 * *pte_flags (the combined permissions: bit 1 W, bit 2 U, bit 63 NX, bit 8
 * G) and returns 0; on a fault sets CR2 and *err and returns X86_EXC_PF.
 * Sets A (and D for writes) like the hardware. */
int x86_translate(X86CPU *cpu, uint64_t lin, X86Access acc, bool user,
                  uint64_t *pa, uint64_t *pte_flags, int *err);
/* PAE paging (CR4.PAE, not long mode): are the four PDPTEs that cr3
 * points to free of reserved bits?  The hardware loads them on MOV to CR3
 * (and on the CR0/CR4 writes that enable PAE paging) and raises #GP(0)
 * there when one is not. */
bool x86_pae_pdptes_ok(X86CPU *cpu, uint64_t cr3);
/* A debugger's look at lin: the current page tables walked without
 * permission checks, A/D updates or a fault (CR2 untouched); lin as is
 * when paging is off.  false: not mapped. */
bool x86_translate_debug(X86CPU *cpu, uint64_t lin, uint64_t *pa);
/* 0 if the access would pass the page walk's checks (the physical address
 * in *pa), else the vector (#PF): no A/D bits set, CR2 unchanged. */
int x86_translate_probe(X86CPU *cpu, uint64_t lin, X86Access acc, bool user, uint64_t *pa);

/* ---- excp.c ---- */
/* Fault at `in` (it does not retire): fixes icount and RIP, delivers the
 * exception (err = X86_NO_ERR when the vector has none).  Returns NULL so
 * handlers can `return x86_raise(...)`. */
const XInsn *x86_raise(X86CPU *cpu, const XInsn *in, int vec, int err);
/* Deliver an exception/interrupt with RIP already set to the return
 * address.  soft: INT n / INT3 / INTO (DPL check against CPL, gate type).
 * Returns false if the delivery itself faulted and that fault (or a double
 * fault) was delivered instead. */
bool x86_deliver(X86CPU *cpu, int vec, int err, bool soft);
/* Between instructions: take a pending NMI or INTR if the state allows.
 * Returns true if one was delivered. */
bool x86_check_interrupts(X86CPU *cpu);
/* Record a fault from an access made without an instruction (in == NULL). */
void x86_pending_fault(X86CPU *cpu, int vec, int err);

/* ---- seg.c / sys.c ---- */
void x86_update_hflags(X86CPU *cpu);
static inline unsigned x86_cpl(const X86CPU *cpu) { return cpu->hflags & X86_HF_CPL; }
/* Real-mode / VM86 style segment load (base = sel << 4). */
void x86_seg_load_real(X86CPU *cpu, int seg, uint16_t sel);
/* CPUID leaf/subleaf as the modelled CPU reports it (sys.c). */
void x86_cpuid(X86CPU *cpu, uint32_t leaf, uint32_t sub, uint32_t out[4]);
/* TSC value now (virtual clock based). */
uint64_t x86_rdtsc(X86CPU *cpu, const XInsn *in);
/* One CPUID leaf/subleaf of the model, for a hypervisor's table (kvm/):
 * indexed when the subleaf (ECX) selects different values. */
typedef struct X86CpuidLeaf {
    uint32_t leaf, sub;
    bool indexed;
    uint32_t r[4];           /* EAX EBX ECX EDX */
} X86CpuidLeaf;
/* Every leaf and subleaf x86_cpuid() defines (unlisted subleaves of an
 * indexed leaf read as zero, but leaf 0xB's ECX[7:0] echoes the subleaf).
 * Writes at most max entries; returns how many exist. */
unsigned x86_cpuid_leaves(X86CPU *cpu, X86CpuidLeaf *out, unsigned max);
/* RDMSR/WRMSR made outside an instruction (kvm/ user-space MSR exits):
 * false where the instruction raises #GP. */
bool x86_msr_read(X86CPU *cpu, uint32_t msr, uint64_t *v);
bool x86_msr_write(X86CPU *cpu, uint32_t msr, uint64_t v);
/* fpu.c: the FXSAVE legacy region (512 bytes) of the whole x87/SSE state,
 * all sixteen XMM registers; w64: the 64-bit pointer format. */
void x86_fx_image_save(const X86CPU *cpu, uint8_t *b, bool w64);
void x86_fx_image_load(X86CPU *cpu, const uint8_t *b, bool w64);
/* The full x87 tag word (FSTENV's) from the abridged one and the contents. */
uint16_t x86_fpu_full_tag(const X86CPU *cpu);

/* ---- flags.c ---- */
uint64_t x86_eflags(X86CPU *cpu);
/* Write the bits of mask from v (arithmetic bits included); leaves cc_op
 * as CC_EFLAGS. Recomputes hflags when VM changes. */
void x86_set_eflags(X86CPU *cpu, uint64_t v, uint64_t mask);

/* ---- state.c ---- */
extern const char *const x86_reg_names[];
unsigned x86_regs(void *cpu, uint64_t *out);
void x86_set_reg(void *cpu, unsigned idx, uint64_t val);
uint64_t x86_state_hash(void *cpu);
/* Every field x86_state_hash covers, one "name=value" line each. */
void x86_dump_state(void *cpu, FILE *f);
/* Snapshots: CpuOps.save/load. */
void x86_save(void *cpu, void *writer);
bool x86_load(void *cpu, void *reader);
void x86_dump(void *cpu, FILE *f);

#endif
