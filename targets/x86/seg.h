/* Segmentation internals shared by excp.c, seg.c and sys.c: descriptor
 * fetches, segment-register loads, far transfers, the task switch.
 * Internal to targets/x86/.
 *
 * Faults: every function here takes the instruction `in` that caused the
 * work.  With in != NULL a fault is raised at once (x86_raise: the
 * instruction does not retire); with in == NULL (exception delivery) it is
 * recorded with x86_pending_fault() and the caller decides (double fault).
 * Either way the function returns false and changes no register.
 *
 * Selector error codes carry the EXT bit (`ext`, 0 or 1) of the event
 * being delivered: 1 for hardware interrupts and exceptions, 0 for
 * instructions and INT n / INT3 / INTO. */
#ifndef TANDEM_X86_SEG_H
#define TANDEM_X86_SEG_H

#include "targets/x86/insn.h"

/* Descriptor fields of a raw 8-byte descriptor d (SDM vol. 3 3.4.5). */
#define X86_D_TYPE(d)  ((unsigned)((d) >> 40) & 15)
#define X86_D_S(d)     ((unsigned)((d) >> 44) & 1)
#define X86_D_DPL(d)   ((unsigned)((d) >> 45) & 3)
#define X86_D_P(d)     ((unsigned)((d) >> 47) & 1)
#define X86_D_L(d)     ((unsigned)((d) >> 53) & 1)
#define X86_D_DB(d)    ((unsigned)((d) >> 54) & 1)
#define X86_DESC_A     (1ull << 40)
#define X86_DESC_BUSY  (2ull << 40)    /* TSS busy bit (type bit 1) */

/* System descriptor types */
enum {
    X86_SYS_TSS16 = 1, X86_SYS_LDT = 2, X86_SYS_TSS16_BUSY = 3,
    X86_SYS_CALL16 = 4, X86_SYS_TASK = 5, X86_SYS_INT16 = 6, X86_SYS_TRAP16 = 7,
    X86_SYS_TSS = 9, X86_SYS_TSS_BUSY = 11, X86_SYS_CALL = 12,
    X86_SYS_INT = 14, X86_SYS_TRAP = 15,
};

/* Task switch reasons (SDM vol. 3 7.3). */
enum { X86_TS_JMP, X86_TS_CALL, X86_TS_IRET, X86_TS_INT };

/* Raise (in != NULL) or record (in == NULL) a fault; returns false. */
bool x86_fault(X86CPU *cpu, const XInsn *in, int vec, int err);

/* Linear addresses are 32 bits outside long mode. */
static inline uint64_t x86_lin_mask(const X86CPU *cpu)
{
    return (cpu->hflags & X86_HF_LMA) ? ~0ull : 0xffffffffull;
}

/* Read the 8-byte descriptor of sel (GDT or LDT).  Outside the table
 * limit (or TI with an unusable LDT): fault vec with (sel & ~3) | ext.
 * *addr: its linear address. */
bool x86_desc_read(X86CPU *cpu, const XInsn *in, uint16_t sel, int vec, int ext,
                   uint64_t *d, uint64_t *addr);
/* The upper 8 bytes of a 16-byte long-mode system descriptor (same
 * limit rule for the 16 bytes). */
bool x86_desc_read_hi(X86CPU *cpu, const XInsn *in, uint16_t sel, int vec, int ext,
                      uint64_t *hi);
/* Set the accessed bit of a descriptor read from addr (if clear). */
bool x86_desc_touch(X86CPU *cpu, const XInsn *in, uint64_t addr, uint64_t *d);
/* Segment cache from a descriptor (limit expanded by G). */
void x86_seg_from_desc(X86Seg *s, uint16_t sel, uint64_t d);
/* Does [off, off + len) lie inside the segment (expand-down aware)? */
bool x86_seg_range_ok(const X86Seg *s, uint64_t off, unsigned len);

/* MOV/POP Sreg, LDS..LGS: load DS/ES/FS/GS/SS with every check of the
 * current mode.  The caller ends the block after SS. */
bool x86_seg_load(X86CPU *cpu, const XInsn *in, int seg, uint16_t sel);

/* Inner stack for privilege level dpl from the current TSS (16/32-bit);
 * #TS(TR) beyond the TSS limit. */
bool x86_tss_stack(X86CPU *cpu, const XInsn *in, unsigned dpl, int ext,
                   uint16_t *ss, uint64_t *sp);
/* 64-bit TSS: RSPn (ist == 0, n = dpl) or IST ist. */
bool x86_tss_stack64(X86CPU *cpu, const XInsn *in, unsigned dpl, unsigned ist,
                     int ext, uint64_t *sp);
/* Check the inner stack segment of a privilege change to cpl (#TS/#SS
 * rules of call gates and interrupt gates); fills *s. */
bool x86_inner_ss(X86CPU *cpu, const XInsn *in, uint16_t sel, unsigned cpl, int ext,
                  X86Seg *s, uint64_t *addr, uint64_t *d);

/* Far transfers: each ends the block (returns NULL), retiring `in` on
 * success.  off is the target offset as the instruction read it. */
const XInsn *x86_far_jmp(X86CPU *cpu, const XInsn *in, uint16_t sel, uint64_t off);
const XInsn *x86_far_call(X86CPU *cpu, const XInsn *in, uint16_t sel, uint64_t off);
const XInsn *x86_far_ret(X86CPU *cpu, const XInsn *in, unsigned imm);
const XInsn *x86_iret(X86CPU *cpu, const XInsn *in);

/* Switch to the task whose TSS descriptor (desc, read from GDT selector
 * sel) was validated by the caller (present, type).  ret_rip: the EIP
 * saved in the old TSS.  Returns 0 when it faulted before the commit
 * point (nothing changed), 1 when the new task runs (cpu->rip set), 2
 * when a fault in loading the new task's state was delivered in the new
 * task. */
int x86_task_switch(X86CPU *cpu, const XInsn *in, uint16_t sel, uint64_t desc,
                    uint64_t desc_addr, int reason, uint64_t ret_rip, int ext);

/* INT n / INT3 / INTO / INT1 (excp.c): deliver vec as a software
 * interrupt from instruction in (return address after it); dpl_check
 * false for INT1.  Ends the block. */
const XInsn *x86_soft_int(X86CPU *cpu, const XInsn *in, int vec, bool dpl_check);
/* Deliver an exception after an instruction committed (task switch
 * faults in the new task): rip is the saved return address. */
void x86_deliver_exc(X86CPU *cpu, int vec, int err);

/* Port I/O permission (sys.c): true if CPL/IOPL or the TSS bitmap allow
 * [port, port + size); raises #GP(0) otherwise. */
bool x86_io_allowed(X86CPU *cpu, const XInsn *in, uint16_t port, unsigned size);

#endif
