/* rt_exit(code): records every general register and the flags as they are
 * on entry (rt_regs), then continues in rt_exit_c (rt.c). */
    .text
    .globl rt_exit
#ifdef __x86_64__
    .code64
rt_exit:
    mov %rax, rt_regs + 0
    mov %rcx, rt_regs + 8
    mov %rdx, rt_regs + 16
    mov %rbx, rt_regs + 24
    lea 8(%rsp), %rax
    mov %rax, rt_regs + 32
    mov %rbp, rt_regs + 40
    mov %rsi, rt_regs + 48
    mov %rdi, rt_regs + 56
    mov %r8, rt_regs + 64
    mov %r9, rt_regs + 72
    mov %r10, rt_regs + 80
    mov %r11, rt_regs + 88
    mov %r12, rt_regs + 96
    mov %r13, rt_regs + 104
    mov %r14, rt_regs + 112
    mov %r15, rt_regs + 120
    pushfq
    pop %rax
    mov %rax, rt_regs + 128
    mov (%rsp), %rax
    mov %rax, rt_regs + 136
    and $-16, %rsp
    call rt_exit_c
    .bss
    .balign 8
    .globl rt_regs
rt_regs: .skip 18 * 8
#else
#ifdef RT_RM16
    .code16gcc
#else
    .code32
#endif
rt_exit:
    mov %eax, rt_regs + 0
    mov %ecx, rt_regs + 4
    mov %edx, rt_regs + 8
    mov %ebx, rt_regs + 12
    lea 4(%esp), %eax
    mov %eax, rt_regs + 16
    mov %ebp, rt_regs + 20
    mov %esi, rt_regs + 24
    mov %edi, rt_regs + 28
    pushfl
    popl %eax
    mov %eax, rt_regs + 32
    mov (%esp), %eax
    mov %eax, rt_regs + 36
    jmp rt_exit_c
    .bss
    .balign 4
    .globl rt_regs
rt_regs: .skip 10 * 4
#endif

    .section .note.GNU-stack, "", @progbits
