/* XLEN-neutral helpers for the Tandem RISC-V test guests (assembly and C). */
#ifndef RT_ASM_H
#define RT_ASM_H

#if __riscv_xlen == 64
#define REGBYTES 8
#define LREG ld
#define SREG sd
#define RT_XLEN 64
#else
#define REGBYTES 4
#define LREG lw
#define SREG sw
#define RT_XLEN 32
#endif

/* Memory map of the virt board (QEMU-compatible). */
#define RT_UART_BASE     0x10000000
#define RT_FINISHER      0x00100000
#define RT_CLINT_BASE    0x02000000
#define RT_CLINT_MSIP    (RT_CLINT_BASE + 0x0)
#define RT_CLINT_MTIMECMP (RT_CLINT_BASE + 0x4000)
#define RT_CLINT_MTIME   (RT_CLINT_BASE + 0xbff8)
#define RT_PLIC_BASE     0x0c000000

/* ecall function codes understood by the M-mode runtime (in a7). */
#define RT_ECALL_RETURN  0x7e570001   /* lower-mode function finished: a0 = value */
#define RT_ECALL_FAIL    0x7e570002   /* a CHECK failed in a lower mode */

/* Trap frame: x0..x31, one XLEN word each (slot 0 unused). */
#define RT_FRAME_SIZE    (32 * REGBYTES)

/* Values of the `vec` argument the trap entries pass to C. */
#define RT_VEC_DIRECT    0
#define RT_VEC_TABLE     0x100   /* | vector number */

#define MSTATUS_SIE   0x2
#define MSTATUS_MIE   0x8
#define MSTATUS_SPIE  0x20
#define MSTATUS_MPIE  0x80
#define MSTATUS_SPP   0x100
#define MSTATUS_MPP   0x1800
#define MSTATUS_FS    0x6000
#define MSTATUS_MPRV  0x20000
#define MSTATUS_SUM   0x40000
#define MSTATUS_MXR   0x80000
#define MSTATUS_TVM   0x100000
#define MSTATUS_TW    0x200000
#define MSTATUS_TSR   0x400000

#endif
