/* Tandem x86 test guests: IDT entry stubs for all 256 vectors, the common
 * trap entry (builds an rt_frame and calls rt_trap in rt.c), and the
 * fault-recovery pair rt_catch / rt_fault_longjmp (setjmp/longjmp). */

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

    .text
    .balign 16
    .globl rt_trap_stubs_start
rt_trap_stubs_start:
    .set vec, 0
    .rept 256
    .balign 16
    .if HAS_ERR(vec) == 0
    push $0
    .endif
    push $vec
    jmp rt_trap_common
    .set vec, vec + 1
    .endr

#ifdef __x86_64__
    .code64
rt_trap_common:
    push %rax
    push %rcx
    push %rdx
    push %rbx
    push %rbp
    push %rsi
    push %rdi
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    cld
    mov %rsp, %rdi
    mov %rsp, %rbx
    and $-16, %rsp
    call rt_trap
    mov %rbx, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rdi
    pop %rsi
    pop %rbp
    pop %rbx
    pop %rdx
    pop %rcx
    pop %rax
    add $16, %rsp
    iretq

/* int rt_catch(void): like setjmp into rt_catch_buf. */
    .globl rt_catch
rt_catch:
    mov (%rsp), %rax
    mov %rax, rt_catch_buf + 0
    lea 8(%rsp), %rax
    mov %rax, rt_catch_buf + 8
    mov %rbx, rt_catch_buf + 16
    mov %rbp, rt_catch_buf + 24
    mov %r12, rt_catch_buf + 32
    mov %r13, rt_catch_buf + 40
    mov %r14, rt_catch_buf + 48
    mov %r15, rt_catch_buf + 56
    movl $1, rt_catch_armed
    xor %eax, %eax
    ret

/* void rt_fault_longjmp(void): back to the last rt_catch, returning 1. */
    .globl rt_fault_longjmp
rt_fault_longjmp:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov rt_catch_buf + 8, %rsp
    mov rt_catch_buf + 16, %rbx
    mov rt_catch_buf + 24, %rbp
    mov rt_catch_buf + 32, %r12
    mov rt_catch_buf + 40, %r13
    mov rt_catch_buf + 48, %r14
    mov rt_catch_buf + 56, %r15
    mov $1, %eax
    jmp *rt_catch_buf + 0

#else
    .code32
rt_trap_common:
    pushal
    push %ds
    push %es
    push %fs
    push %gs
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    cld
    push %esp
    call rt_trap
    add $4, %esp
    pop %gs
    pop %fs
    pop %es
    pop %ds
    popal
    add $8, %esp
    iret

    .globl rt_catch
rt_catch:
    mov (%esp), %eax
    mov %eax, rt_catch_buf + 0
    lea 4(%esp), %eax
    mov %eax, rt_catch_buf + 4
    mov %ebx, rt_catch_buf + 8
    mov %esi, rt_catch_buf + 12
    mov %edi, rt_catch_buf + 16
    mov %ebp, rt_catch_buf + 20
    movl $1, rt_catch_armed
    xor %eax, %eax
    ret

    .globl rt_fault_longjmp
rt_fault_longjmp:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    mov rt_catch_buf + 4, %esp
    mov rt_catch_buf + 8, %ebx
    mov rt_catch_buf + 12, %esi
    mov rt_catch_buf + 16, %edi
    mov rt_catch_buf + 20, %ebp
    mov $1, %eax
    jmp *rt_catch_buf + 0
#endif

    .bss
    .balign 8
    .globl rt_catch_buf, rt_catch_armed
rt_catch_buf: .skip 64
rt_catch_armed: .skip 4

    .section .note.GNU-stack, "", @progbits
