/* Random-snippet runner: rand_run(code) loads rand_in (general registers
 * except the stack pointer, flags, MXCSR, XMM), jumps to the snippet, which
 * ends with "jmp rand_done"; rand_done stores everything into rand_out and
 * returns to the caller.  Layout of a state (rand_rt.c, struct rstate):
 *   gpr[16 or 8] (ax cx dx bx sp bp si di r8..r15), flags, mxcsr (4 bytes),
 *   pad, xmm[16 or 8][16] at a 16-byte aligned offset.  Three versions:
 * lm64, rm16 (real mode, .code16) and pm32. */
#ifdef __x86_64__
#define G(i) (8 * (i))
#define FL 128
#define MX 136
#define XM 144
    .code64
    .text
    .globl rand_run, rand_done
rand_run:
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, rand_saved_sp
    mov %rdi, rand_target
    ldmxcsr rand_in + MX
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    movdqu rand_in + XM + 16 * \i, %xmm\i
    .endr
    pushq rand_in + FL
    popfq
    mov rand_in + G(0), %rax
    mov rand_in + G(1), %rcx
    mov rand_in + G(2), %rdx
    mov rand_in + G(3), %rbx
    mov rand_in + G(5), %rbp
    mov rand_in + G(6), %rsi
    mov rand_in + G(7), %rdi
    mov rand_in + G(8), %r8
    mov rand_in + G(9), %r9
    mov rand_in + G(10), %r10
    mov rand_in + G(11), %r11
    mov rand_in + G(12), %r12
    mov rand_in + G(13), %r13
    mov rand_in + G(14), %r14
    mov rand_in + G(15), %r15
    jmp *rand_target
rand_done:
    mov %rax, rand_out + G(0)
    mov %rcx, rand_out + G(1)
    mov %rdx, rand_out + G(2)
    mov %rbx, rand_out + G(3)
    mov %rsp, rand_out + G(4)
    mov %rbp, rand_out + G(5)
    mov %rsi, rand_out + G(6)
    mov %rdi, rand_out + G(7)
    mov %r8, rand_out + G(8)
    mov %r9, rand_out + G(9)
    mov %r10, rand_out + G(10)
    mov %r11, rand_out + G(11)
    mov %r12, rand_out + G(12)
    mov %r13, rand_out + G(13)
    mov %r14, rand_out + G(14)
    mov %r15, rand_out + G(15)
    pushfq
    popq rand_out + FL
    stmxcsr rand_out + MX
    .irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
    movdqu %xmm\i, rand_out + XM + 16 * \i
    .endr
    mov rand_saved_sp, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbp
    pop %rbx
    ret
#elif defined(RT_RM16)
/* Real mode (rm16): called from gcc -m16 code (calll, cdecl, retl); CS =
 * DS = SS = 0, every address below 64 KiB.  The snippets are .code16. */
#define G(i) (4 * (i))
#define FL 32
#define MX 36
#define XM 48
    .code16
    .text
    .globl rand_run, rand_done
rand_run:
    pushl %ebx
    pushl %ebp
    pushl %esi
    pushl %edi
    movl 20(%esp), %eax
    movl %esp, rand_saved_sp
    movl %eax, rand_target
    ldmxcsr rand_in + MX
    .irp i, 0,1,2,3,4,5,6,7
    movdqu rand_in + XM + 16 * \i, %xmm\i
    .endr
    pushl rand_in + FL
    popfl
    movl rand_in + G(0), %eax
    movl rand_in + G(1), %ecx
    movl rand_in + G(2), %edx
    movl rand_in + G(3), %ebx
    movl rand_in + G(5), %ebp
    movl rand_in + G(6), %esi
    movl rand_in + G(7), %edi
    jmpw *rand_target
rand_done:
    movl %eax, rand_out + G(0)
    movl %ecx, rand_out + G(1)
    movl %edx, rand_out + G(2)
    movl %ebx, rand_out + G(3)
    movl %esp, rand_out + G(4)
    movl %ebp, rand_out + G(5)
    movl %esi, rand_out + G(6)
    movl %edi, rand_out + G(7)
    pushfl
    popl rand_out + FL
    stmxcsr rand_out + MX
    .irp i, 0,1,2,3,4,5,6,7
    movdqu %xmm\i, rand_out + XM + 16 * \i
    .endr
    movl rand_saved_sp, %esp
    popl %edi
    popl %esi
    popl %ebp
    popl %ebx
    retl
#else
#define G(i) (4 * (i))
#define FL 32
#define MX 36
#define XM 48
    .code32
    .text
    .globl rand_run, rand_done
rand_run:
    push %ebx
    push %ebp
    push %esi
    push %edi
    mov 20(%esp), %eax
    mov %esp, rand_saved_sp
    mov %eax, rand_target
    ldmxcsr rand_in + MX
    .irp i, 0,1,2,3,4,5,6,7
    movdqu rand_in + XM + 16 * \i, %xmm\i
    .endr
    pushl rand_in + FL
    popfl
    mov rand_in + G(0), %eax
    mov rand_in + G(1), %ecx
    mov rand_in + G(2), %edx
    mov rand_in + G(3), %ebx
    mov rand_in + G(5), %ebp
    mov rand_in + G(6), %esi
    mov rand_in + G(7), %edi
    jmp *rand_target
rand_done:
    mov %eax, rand_out + G(0)
    mov %ecx, rand_out + G(1)
    mov %edx, rand_out + G(2)
    mov %ebx, rand_out + G(3)
    mov %esp, rand_out + G(4)
    mov %ebp, rand_out + G(5)
    mov %esi, rand_out + G(6)
    mov %edi, rand_out + G(7)
    pushfl
    popl rand_out + FL
    stmxcsr rand_out + MX
    .irp i, 0,1,2,3,4,5,6,7
    movdqu %xmm\i, rand_out + XM + 16 * \i
    .endr
    mov rand_saved_sp, %esp
    pop %edi
    pop %esi
    pop %ebp
    pop %ebx
    ret
#endif
    .bss
    .balign 8
rand_saved_sp: .skip 8
rand_target: .skip 8
    .section .note.GNU-stack, "", @progbits
