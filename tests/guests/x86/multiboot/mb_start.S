/* A multiboot (v1) test kernel: the header, a stack, then mb_main(eax, ebx). */
    .section .multiboot, "a"
    .align 4
    .long 0x1badb002            /* magic */
    .long 0x00000003            /* flags: page-align modules, memory info */
    .long -(0x1badb002 + 0x00000003)

    .text
    .globl _start
_start:
    mov $stack_top, %esp
    push %ebx
    push %eax
    call mb_main
1:  hlt
    jmp 1b

    .bss
    .align 16
    .skip 16384
stack_top:

    .section .note.GNU-stack, "", @progbits
