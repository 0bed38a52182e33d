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
    mov %eax, %ss                   /* null after a fault from ring 3 */
    mov rt_catch_buf + 8, %rsp
    mov rt_catch_buf + 16, %rbx
    mov rt_catch_buf + 24, %rbp
    mov rt_catch_buf + 32, %r12
    mov rt_catch_buf + 40, %r13
    mov rt_catch_buf + 48, %r14
    mov rt_catch_buf + 56, %r15
    mov $1, %eax
    jmp *rt_catch_buf + 0

/* ureg rt_user_call(ureg (*fn)(ureg), ureg arg): runs fn(arg) at CPL 3
 * (CS 0x3b, SS 0x33, RFLAGS rt_user_flags, stack rt_user_stack_top); fn
 * returns to a trampoline that raises INT RT_VEC_USER_RET (DPL 3), whose
 * handler resumes here with fn's result. */
    .globl rt_user_call
rt_user_call:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, rt_user_ksp
    mov $rt_user_stack_top, %rax
    pushq $0x33
    pushq %rax
    pushq rt_user_flags
    pushq $0x3b
    pushq $rt_user_tramp
    iretq
rt_user_tramp:
    mov %rdi, %rcx
    mov %rsi, %rdi
    call *%rcx
    int $0xfe
    ud2
    .globl rt_user_ret_entry
rt_user_ret_entry:
    mov $0x10, %ecx
    mov %ecx, %ds
    mov %ecx, %es
    mov %ecx, %ss
    mov rt_user_ksp, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

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

/* ureg rt_user_call(ureg (*fn)(ureg), ureg arg): see the 64-bit version
 * (CS 0x2b, SS = DS = ES 0x33). */
    .globl rt_user_call
rt_user_call:
    push %ebp
    push %ebx
    push %esi
    push %edi
    mov %esp, rt_user_ksp
    mov 20(%esp), %ecx
    mov 24(%esp), %edx
    pushl $0x33
    pushl $rt_user_stack_top
    pushl rt_user_flags
    pushl $0x2b
    pushl $rt_user_tramp
    mov $0x33, %eax
    mov %eax, %ds
    mov %eax, %es
    iret
rt_user_tramp:
    push %edx
    call *%ecx
    add $4, %esp
    int $0xfe
    ud2
    .globl rt_user_ret_entry
rt_user_ret_entry:
    mov $0x10, %ecx
    mov %ecx, %ds
    mov %ecx, %es
    mov %ecx, %ss
    mov rt_user_ksp, %esp
    pop %edi
    pop %esi
    pop %ebx
    pop %ebp
    ret
#endif

    .bss
    .balign 8
    .globl rt_catch_buf, rt_catch_armed
rt_catch_buf: .skip 64
rt_catch_armed: .skip 4
    .balign 8
rt_user_ksp: .skip 8
    .balign 16
    .globl rt_user_stack, rt_user_stack_top
rt_user_stack: .skip 16384
rt_user_stack_top:

    .data
    .balign 8
    .globl rt_user_flags
rt_user_flags: .quad 0x2

    .section .note.GNU-stack, "", @progbits
