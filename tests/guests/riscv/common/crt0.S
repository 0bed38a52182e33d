/* Tandem RISC-V test guests: start-up, trap entries, lower-mode calls and
 * the register-capturing finish path.  XLEN-neutral (see asm.h). */
#include "asm.h"

    .section .text.init, "ax", @progbits
    .globl _start
_start:
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    csrr t0, mhartid
    bnez t0, rt_park
    la sp, rt_stack_top
    la t0, rt_mtrap_stack_top
    csrw mscratch, t0
    la t0, rt_strap_stack_top
    csrw sscratch, t0
    la t0, rt_mtrap_entry
    csrw mtvec, t0
    la t0, rt_strap_entry
    csrw stvec, t0

    /* Zero .bss (16-byte aligned bounds). */
    la t0, __bss_start
    la t1, __bss_end
1:  bgeu t0, t1, 2f
    SREG zero, 0(t0)
    addi t0, t0, REGBYTES
    j 1b
2:
    /* Known machine state: no interrupts, no delegation, bare addressing,
     * FP on (Initial), one PMP entry granting S/U everything. */
    csrw mie, zero
    csrw mideleg, zero
    csrw medeleg, zero
    csrw satp, zero
    csrw mcounteren, zero
    csrw scounteren, zero
    csrw mcountinhibit, zero
    csrw sepc, zero
    csrw scause, zero
    csrw stval, zero
    li t0, -1
    csrw pmpaddr0, t0
#if RT_XLEN == 64
    csrw pmpcfg2, zero
    li t0, 0x1f
    csrw pmpcfg0, t0
#else
    csrw pmpcfg1, zero
    csrw pmpcfg2, zero
    csrw pmpcfg3, zero
    li t0, 0x1f
    csrw pmpcfg0, t0
#endif
    li t0, (MSTATUS_SIE | MSTATUS_MIE | MSTATUS_SPIE | MSTATUS_MPIE | MSTATUS_SPP | MSTATUS_MPP | MSTATUS_FS)
    csrc mstatus, t0
    li t0, (MSTATUS_MPRV | MSTATUS_SUM | MSTATUS_MXR | MSTATUS_TVM | MSTATUS_TW | MSTATUS_TSR)
    csrc mstatus, t0
    li t0, 0x2000                   /* FS = Initial */
    csrs mstatus, t0
    li t0, 0x222                    /* SSIP | STIP | SEIP */
    csrc mip, t0
    /* CLINT: no software interrupt, timer compare at the far future. */
    li t0, RT_CLINT_MSIP
    sw zero, 0(t0)
    li t0, RT_CLINT_MTIMECMP
    li t1, -1
    sw t1, 0(t0)
    sw t1, 4(t0)
    csrw fcsr, zero
    fcvt.d.w f0, zero
    fcvt.d.w f1, zero
    fcvt.d.w f2, zero
    fcvt.d.w f3, zero
    fcvt.d.w f4, zero
    fcvt.d.w f5, zero
    fcvt.d.w f6, zero
    fcvt.d.w f7, zero
    fcvt.d.w f8, zero
    fcvt.d.w f9, zero
    fcvt.d.w f10, zero
    fcvt.d.w f11, zero
    fcvt.d.w f12, zero
    fcvt.d.w f13, zero
    fcvt.d.w f14, zero
    fcvt.d.w f15, zero
    fcvt.d.w f16, zero
    fcvt.d.w f17, zero
    fcvt.d.w f18, zero
    fcvt.d.w f19, zero
    fcvt.d.w f20, zero
    fcvt.d.w f21, zero
    fcvt.d.w f22, zero
    fcvt.d.w f23, zero
    fcvt.d.w f24, zero
    fcvt.d.w f25, zero
    fcvt.d.w f26, zero
    fcvt.d.w f27, zero
    fcvt.d.w f28, zero
    fcvt.d.w f29, zero
    fcvt.d.w f30, zero
    fcvt.d.w f31, zero
    /* Initial FS back to Initial (the writes above may have dirtied it). */
    li t0, MSTATUS_FS
    csrc mstatus, t0
    li t0, 0x2000
    csrs mstatus, t0

    /* Deterministic integer registers for main. */
    li tp, 0
    li t0, 0
    li t1, 0
    li t2, 0
    li s0, 0
    li s1, 0
    li a0, 0
    li a1, 0
    li a2, 0
    li a3, 0
    li a4, 0
    li a5, 0
    li a6, 0
    li a7, 0
    li s2, 0
    li s3, 0
    li s4, 0
    li s5, 0
    li s6, 0
    li s7, 0
    li s8, 0
    li s9, 0
    li s10, 0
    li s11, 0
    li t3, 0
    li t4, 0
    li t5, 0
    li t6, 0
    call main
    /* a0 = 0 pass, anything else fail. */
    j rt_finish

rt_park:
    wfi
    j rt_park

/* ---------------------------------------------------------------------
 * rt_finish(status): capture x1..x31 as they are, then report and exit
 * (rt_finish_c never returns). */
    .text
    .globl rt_finish
    .align 2
rt_finish:
    csrci mstatus, MSTATUS_MIE
    addi sp, sp, -16
    SREG t6, 0(sp)
    la t6, rt_regs
    SREG x1, 1*REGBYTES(t6)
    SREG x3, 3*REGBYTES(t6)
    SREG x4, 4*REGBYTES(t6)
    SREG x5, 5*REGBYTES(t6)
    SREG x6, 6*REGBYTES(t6)
    SREG x7, 7*REGBYTES(t6)
    SREG x8, 8*REGBYTES(t6)
    SREG x9, 9*REGBYTES(t6)
    SREG x10, 10*REGBYTES(t6)
    SREG x11, 11*REGBYTES(t6)
    SREG x12, 12*REGBYTES(t6)
    SREG x13, 13*REGBYTES(t6)
    SREG x14, 14*REGBYTES(t6)
    SREG x15, 15*REGBYTES(t6)
    SREG x16, 16*REGBYTES(t6)
    SREG x17, 17*REGBYTES(t6)
    SREG x18, 18*REGBYTES(t6)
    SREG x19, 19*REGBYTES(t6)
    SREG x20, 20*REGBYTES(t6)
    SREG x21, 21*REGBYTES(t6)
    SREG x22, 22*REGBYTES(t6)
    SREG x23, 23*REGBYTES(t6)
    SREG x24, 24*REGBYTES(t6)
    SREG x25, 25*REGBYTES(t6)
    SREG x26, 26*REGBYTES(t6)
    SREG x27, 27*REGBYTES(t6)
    SREG x28, 28*REGBYTES(t6)
    SREG x29, 29*REGBYTES(t6)
    SREG x30, 30*REGBYTES(t6)
    LREG t5, 0(sp)
    SREG t5, 31*REGBYTES(t6)
    addi sp, sp, 16
    SREG sp, 2*REGBYTES(t6)
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    la sp, rt_stack_top
    j rt_finish_c

/* ---------------------------------------------------------------------
 * Trap entries.  scratch CSR holds the trap stack pointer; the frame is
 * pushed below it and the scratch CSR then points at the frame, so a trap
 * taken inside the C handler nests below.  C: handler(frame, vec). */
.macro TRAP_ENTRY name, scratch, vec, cfunc, ret
    .align 2
\name:
    csrrw sp, \scratch, sp
    addi sp, sp, -RT_FRAME_SIZE
    SREG x1, 1*REGBYTES(sp)
    SREG x3, 3*REGBYTES(sp)
    SREG x4, 4*REGBYTES(sp)
    SREG x5, 5*REGBYTES(sp)
    SREG x6, 6*REGBYTES(sp)
    SREG x7, 7*REGBYTES(sp)
    SREG x8, 8*REGBYTES(sp)
    SREG x9, 9*REGBYTES(sp)
    SREG x10, 10*REGBYTES(sp)
    SREG x11, 11*REGBYTES(sp)
    SREG x12, 12*REGBYTES(sp)
    SREG x13, 13*REGBYTES(sp)
    SREG x14, 14*REGBYTES(sp)
    SREG x15, 15*REGBYTES(sp)
    SREG x16, 16*REGBYTES(sp)
    SREG x17, 17*REGBYTES(sp)
    SREG x18, 18*REGBYTES(sp)
    SREG x19, 19*REGBYTES(sp)
    SREG x20, 20*REGBYTES(sp)
    SREG x21, 21*REGBYTES(sp)
    SREG x22, 22*REGBYTES(sp)
    SREG x23, 23*REGBYTES(sp)
    SREG x24, 24*REGBYTES(sp)
    SREG x25, 25*REGBYTES(sp)
    SREG x26, 26*REGBYTES(sp)
    SREG x27, 27*REGBYTES(sp)
    SREG x28, 28*REGBYTES(sp)
    SREG x29, 29*REGBYTES(sp)
    SREG x30, 30*REGBYTES(sp)
    SREG x31, 31*REGBYTES(sp)
    csrr t0, \scratch
    SREG t0, 2*REGBYTES(sp)
    csrw \scratch, sp
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    mv a0, sp
    li a1, \vec
    call \cfunc
    addi t0, sp, RT_FRAME_SIZE
    csrw \scratch, t0
    LREG x1, 1*REGBYTES(sp)
    LREG x3, 3*REGBYTES(sp)
    LREG x4, 4*REGBYTES(sp)
    LREG x5, 5*REGBYTES(sp)
    LREG x6, 6*REGBYTES(sp)
    LREG x7, 7*REGBYTES(sp)
    LREG x8, 8*REGBYTES(sp)
    LREG x9, 9*REGBYTES(sp)
    LREG x10, 10*REGBYTES(sp)
    LREG x11, 11*REGBYTES(sp)
    LREG x12, 12*REGBYTES(sp)
    LREG x13, 13*REGBYTES(sp)
    LREG x14, 14*REGBYTES(sp)
    LREG x15, 15*REGBYTES(sp)
    LREG x16, 16*REGBYTES(sp)
    LREG x17, 17*REGBYTES(sp)
    LREG x18, 18*REGBYTES(sp)
    LREG x19, 19*REGBYTES(sp)
    LREG x20, 20*REGBYTES(sp)
    LREG x21, 21*REGBYTES(sp)
    LREG x22, 22*REGBYTES(sp)
    LREG x23, 23*REGBYTES(sp)
    LREG x24, 24*REGBYTES(sp)
    LREG x25, 25*REGBYTES(sp)
    LREG x26, 26*REGBYTES(sp)
    LREG x27, 27*REGBYTES(sp)
    LREG x28, 28*REGBYTES(sp)
    LREG x29, 29*REGBYTES(sp)
    LREG x30, 30*REGBYTES(sp)
    LREG x31, 31*REGBYTES(sp)
    LREG x2, 2*REGBYTES(sp)
    \ret
.endm

    .globl rt_mtrap_entry
    .globl rt_strap_entry
    .align 6
    TRAP_ENTRY rt_mtrap_entry, mscratch, RT_VEC_DIRECT, rt_mtrap_c, mret
    .align 6
    TRAP_ENTRY rt_strap_entry, sscratch, RT_VEC_DIRECT, rt_strap_c, sret

/* Vectored tables: entry i jumps to a copy of the entry that reports
 * vec = RT_VEC_TABLE | i.  Entries must be 4 bytes: no RVC here. */
.macro VEC_TABLE prefix, scratch, cfunc, ret
    .option push
    .option norvc
    .align 8
    .globl \prefix\()_table
\prefix\()_table:
    j \prefix\()_0
    j \prefix\()_1
    j \prefix\()_2
    j \prefix\()_3
    j \prefix\()_4
    j \prefix\()_5
    j \prefix\()_6
    j \prefix\()_7
    j \prefix\()_8
    j \prefix\()_9
    j \prefix\()_10
    j \prefix\()_11
    j \prefix\()_12
    j \prefix\()_13
    j \prefix\()_14
    j \prefix\()_15
    .option pop
    TRAP_ENTRY \prefix\()_0, \scratch, RT_VEC_TABLE|0, \cfunc, \ret
    TRAP_ENTRY \prefix\()_1, \scratch, RT_VEC_TABLE|1, \cfunc, \ret
    TRAP_ENTRY \prefix\()_2, \scratch, RT_VEC_TABLE|2, \cfunc, \ret
    TRAP_ENTRY \prefix\()_3, \scratch, RT_VEC_TABLE|3, \cfunc, \ret
    TRAP_ENTRY \prefix\()_4, \scratch, RT_VEC_TABLE|4, \cfunc, \ret
    TRAP_ENTRY \prefix\()_5, \scratch, RT_VEC_TABLE|5, \cfunc, \ret
    TRAP_ENTRY \prefix\()_6, \scratch, RT_VEC_TABLE|6, \cfunc, \ret
    TRAP_ENTRY \prefix\()_7, \scratch, RT_VEC_TABLE|7, \cfunc, \ret
    TRAP_ENTRY \prefix\()_8, \scratch, RT_VEC_TABLE|8, \cfunc, \ret
    TRAP_ENTRY \prefix\()_9, \scratch, RT_VEC_TABLE|9, \cfunc, \ret
    TRAP_ENTRY \prefix\()_10, \scratch, RT_VEC_TABLE|10, \cfunc, \ret
    TRAP_ENTRY \prefix\()_11, \scratch, RT_VEC_TABLE|11, \cfunc, \ret
    TRAP_ENTRY \prefix\()_12, \scratch, RT_VEC_TABLE|12, \cfunc, \ret
    TRAP_ENTRY \prefix\()_13, \scratch, RT_VEC_TABLE|13, \cfunc, \ret
    TRAP_ENTRY \prefix\()_14, \scratch, RT_VEC_TABLE|14, \cfunc, \ret
    TRAP_ENTRY \prefix\()_15, \scratch, RT_VEC_TABLE|15, \cfunc, \ret
.endm

    VEC_TABLE rt_mvec, mscratch, rt_mtrap_c, mret
    VEC_TABLE rt_svec, sscratch, rt_strap_c, sret

/* ---------------------------------------------------------------------
 * ureg rt_call_in_mode(int mode, ureg (*fn)(ureg), ureg arg)
 * Runs fn(arg) in U (0) or S (1) mode; returns fn's value when fn returns
 * (through rt_lower_return: an ecall the M handler turns into a resume).
 * Callee-saved state is kept in rt_mctx. */
    .globl rt_call_in_mode
    .align 2
rt_call_in_mode:
    la t0, rt_mctx
    SREG ra, 0*REGBYTES(t0)
    SREG sp, 1*REGBYTES(t0)
    SREG s0, 2*REGBYTES(t0)
    SREG s1, 3*REGBYTES(t0)
    SREG s2, 4*REGBYTES(t0)
    SREG s3, 5*REGBYTES(t0)
    SREG s4, 6*REGBYTES(t0)
    SREG s5, 7*REGBYTES(t0)
    SREG s6, 8*REGBYTES(t0)
    SREG s7, 9*REGBYTES(t0)
    SREG s8, 10*REGBYTES(t0)
    SREG s9, 11*REGBYTES(t0)
    SREG s10, 12*REGBYTES(t0)
    SREG s11, 13*REGBYTES(t0)
    SREG tp, 14*REGBYTES(t0)
    la t0, rt_cur_mode
    sw a0, 0(t0)
    csrw mepc, a1
    li t0, (MSTATUS_MPP | MSTATUS_MPIE)
    csrc mstatus, t0
    slli t0, a0, 11
    csrs mstatus, t0
    la ra, rt_lower_return
    mv a0, a2
    /* No stale runtime ecall codes (or anything else) in temporaries. */
    li a1, 0
    li a2, 0
    li a3, 0
    li a4, 0
    li a5, 0
    li a6, 0
    li a7, 0
    li t0, 0
    li t1, 0
    li t2, 0
    li t3, 0
    li t4, 0
    li t5, 0
    li t6, 0
    mret

    .globl rt_lower_return
    .align 2
rt_lower_return:
    li a7, RT_ECALL_RETURN
    ecall
1:  j 1b

    .globl rt_mode_resume
    .align 2
rt_mode_resume:
    la t0, rt_mctx
    LREG ra, 0*REGBYTES(t0)
    LREG sp, 1*REGBYTES(t0)
    LREG s0, 2*REGBYTES(t0)
    LREG s1, 3*REGBYTES(t0)
    LREG s2, 4*REGBYTES(t0)
    LREG s3, 5*REGBYTES(t0)
    LREG s4, 6*REGBYTES(t0)
    LREG s5, 7*REGBYTES(t0)
    LREG s6, 8*REGBYTES(t0)
    LREG s7, 9*REGBYTES(t0)
    LREG s8, 10*REGBYTES(t0)
    LREG s9, 11*REGBYTES(t0)
    LREG s10, 12*REGBYTES(t0)
    LREG s11, 13*REGBYTES(t0)
    LREG tp, 14*REGBYTES(t0)
    .option push
    .option norelax
    la gp, __global_pointer$
    .option pop
    li a7, 0
    ret

/* Forward a runtime ecall (RETURN / FAIL) from the S handler to M: the M
 * handler resumes M context, so this never returns. a0..a7 as given. */
    .globl rt_forward_ecall
    .align 2
rt_forward_ecall:
    ecall
1:  j 1b

    .bss
    .align 4
    .globl rt_mctx
rt_mctx:
    .space 16*REGBYTES
    .globl rt_regs
rt_regs:
    .space 32*REGBYTES
