/* Tandem x86 test guests: reset vector, real mode -> 32-bit protected mode
 * (pm32 guests) -> 4-level paging and 64-bit long mode (lm64 guests), then
 * rt_start() in C.  rm16 guests (RT_RM16) copy their payload to low RAM and
 * stay in real mode.
 *
 * Boot log at 0x600 (rt_bootlog in rt.h): EDX/CR0/EFLAGS/CS/SS at reset,
 * CR0 after PE, CR0/CR4/EFER in 64-bit mode. */

#define BOOTLOG 0x600

/* ---------------------------------------------------------------- reset */
    .section .reset, "ax"
    .code16
    .globl _reset
_reset:
    ljmp $0xf000, $start16_off     /* start16 - 0xf0000 (link.ld) */

/* ------------------------------------------------------------ real mode */
    .section .text16, "ax"
    .code16
    .globl start16, boot_gdt_desc
start16:
    mov %edx, %ebp              /* EDX at reset: the CPU signature */
    pushfl
    popl %ebx
    xor %ax, %ax
    mov %ax, %ds
    mov %ebp, BOOTLOG + 0
    mov %cr0, %eax
    mov %eax, BOOTLOG + 4
    mov %ebx, BOOTLOG + 8
    mov %cs, BOOTLOG + 12
    mov %ss, BOOTLOG + 14
    cli
    cld
    xor %ax, %ax
    mov %ax, %es
    mov %ax, %ss
    mov $0x7000, %sp
#ifdef RT_RM16
    /* Copy the real-mode payload (linked at 0x1000) to RAM: CS=DS=ES=SS=0. */
    mov $0xe000, %ax
    mov %ax, %ds
    mov $__rm16_load_off, %si
    mov $__rm16_start, %di
    mov $__rm16_size, %cx
    rep movsb
    xor %ax, %ax
    mov %ax, %ds
    mov $__rm16_bss, %di
    mov $__rm16_bss_size, %cx
    rep stosb
    mov $0xfff0, %esp
    ljmp $0, $rm16_entry
#else
    lgdtl %cs:boot_gdt_desc_off
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x08, $start32
#endif

    .balign 8
    /* Every descriptor has its accessed bit set: this GDT is in ROM
     * until rt_start copies it, and a CPU loading a descriptor whose bit
     * is clear writes it.  Plain hardware drops that write to ROM; on
     * KVM, ROM is a read-only memory slot and the guest hangs on the
     * segment load (as on QEMU with KVM). */
    .globl rt_boot_gdt
rt_boot_gdt:
    .quad 0                         /* 0x00 */
    .quad 0x00CF9B000000FFFF        /* 0x08 kernel code32 */
    .quad 0x00CF93000000FFFF        /* 0x10 kernel data */
#ifdef __x86_64__
    .quad 0x00AF9B000000FFFF        /* 0x18 kernel code64 */
#else
    .quad 0x00CF9B000000FFFF        /* 0x18 kernel code32 (SYSENTER_CS) */
#endif
    .quad 0x00CF93000000FFFF        /* 0x20 kernel data */
    .quad 0x00CFFB000000FFFF        /* 0x28 user code32 */
    .quad 0x00CFF3000000FFFF        /* 0x30 user data */
    .quad 0x00AFFB000000FFFF        /* 0x38 user code64 */
    .quad 0x00CFF3000000FFFF        /* 0x40 user data */
    .quad 0x00009B000000FFFF        /* 0x48 code16, base 0, limit 64K */
    .quad 0x000093000000FFFF        /* 0x50 data16 */
    .quad 0, 0                      /* 0x58 TSS (filled by rt_start) */
    .quad 0, 0, 0, 0, 0, 0, 0       /* 0x68..0x98 free */
    .globl rt_boot_gdt_end
rt_boot_gdt_end:
boot_gdt_desc:
    .word rt_boot_gdt_end - rt_boot_gdt - 1
    .long rt_boot_gdt

#ifndef RT_RM16
/* ------------------------------------------------------ protected mode */
    .section .text.entry, "ax"
    .code32
start32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %ax, %ax
    mov %ax, %fs
    mov %ax, %gs
    mov %cr0, %eax
    mov %eax, BOOTLOG + 16
    mov $__stack_top, %esp
    mov $__data_load, %esi
    mov $__data_start, %edi
    mov $__data_end, %ecx
    sub %edi, %ecx
    shr $2, %ecx
    rep movsl
    mov $__bss_start, %edi
    mov $__bss_end, %ecx
    sub %edi, %ecx
    shr $2, %ecx
    xor %eax, %eax
    rep stosl
#ifdef __x86_64__
    /* Identity map 0..4 GiB with 2 MiB pages, user/writable. */
    mov $rt_pdpt, %eax
    or $7, %eax
    mov %eax, rt_pml4
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $12, %eax
    add $rt_pd, %eax
    or $7, %eax
    mov %eax, rt_pdpt(,%ecx,8)
    inc %ecx
    cmp $4, %ecx
    jne 1b
    xor %ecx, %ecx
1:  mov %ecx, %eax
    shl $21, %eax
    or $0x87, %eax                  /* P RW US PS */
    mov %eax, rt_pd(,%ecx,8)
    mov %ecx, %eax
    shr $11, %eax                   /* bits 32+ of the address */
    mov %eax, rt_pd+4(,%ecx,8)
    inc %ecx
    cmp $2048, %ecx
    jne 1b
    mov %cr4, %eax
    or $0x20, %eax                  /* PAE */
    mov %eax, %cr4
    mov $rt_pml4, %eax
    mov %eax, %cr3
    mov $0xC0000080, %ecx
    rdmsr
    or $0x100, %eax                 /* LME */
    wrmsr
    mov %cr0, %eax
    or $0x80000000, %eax            /* PG */
    mov %eax, %cr0
    ljmp $0x18, $start64

    .code64
start64:
    mov %cr0, %rax
    mov %eax, BOOTLOG + 20
    mov %cr4, %rax
    mov %eax, BOOTLOG + 24
    mov $0xC0000080, %ecx
    rdmsr
    mov %eax, BOOTLOG + 28
    mov $__stack_top, %rsp
    xor %ebp, %ebp
    call rt_start
1:  hlt
    jmp 1b

    .bss
    .balign 4096
    .globl rt_pml4, rt_pdpt, rt_pd
rt_pml4: .skip 4096
rt_pdpt: .skip 4096
rt_pd:   .skip 4096 * 4
#else
    xor %ebp, %ebp
    call rt_start
1:  hlt
    jmp 1b
#endif
#else  /* RT_RM16 */
/* ------------------------------------------------------------ real mode */
    .section .text.entry, "ax"
    .code16
    .globl rm16_entry
rm16_entry:
    xor %ax, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %fs
    mov %ax, %gs
    mov %ax, %ss
    mov $0xfff0, %esp
    xor %ebp, %ebp
    cld
    calll rt_start
1:  hlt
    jmp 1b

/* Default IVT handlers (rt_rm_setup_ivt in rt.c points all 256 vectors
 * here): each stub pushes its vector number; the common part calls
 * rt_rm_unexpected(vector, ip, cs, flags), which fails the test. */
    .balign 16
    .globl rt_rm_stubs
rt_rm_stubs:
    .set vec, 0
    .rept 256
    .balign 8
    pushw $vec
    jmp rt_rm_stub_common
    .set vec, vec + 1
    .endr
rt_rm_stub_common:
    mov %sp, %bp
    movzwl %ss:6(%bp), %eax     /* flags */
    movzwl %ss:4(%bp), %ebx     /* cs */
    movzwl %ss:2(%bp), %ecx     /* ip */
    movzwl %ss:0(%bp), %edx     /* vector */
    xor %si, %si
    mov %si, %ds
    mov %si, %es
    mov %si, %ss
    mov $0xf000, %esp
    pushl %eax
    pushl %ebx
    pushl %ecx
    pushl %edx
    cld
    calll rt_rm_unexpected
1:  hlt
    jmp 1b
#endif

    .section .note.GNU-stack, "", @progbits
