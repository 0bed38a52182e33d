/* x86_rm16 (rm16): real mode.  The runtime (gcc -m16) runs with CS = DS =
 * ES = SS = 0; the tests themselves are 16-bit assembly (below) that store
 * what they see in rr[] / rec[], checked and printed by test_main:
 *   - the 16-bit ModRM forms: all 8 bases with no displacement, disp8 and
 *     disp16, offsets wrapping at 64 KiB, SS as the default segment of BP
 *     forms, segment overrides (FS, GS, DS on BP, SS on BX), a BP-based
 *     read-modify-write landing in SS;
 *   - segment arithmetic: one linear address through several seg:off
 *     pairs, LDS/LES/LFS/LGS/LSS;
 *   - INT n / INT3 / INTO (taken and not) / #DE / #UD through the IVT:
 *     pushed IP, CS, FLAGS, IF and TF cleared in the handler, IRET restoring
 *     FLAGS; a handler in another segment (CS = 0x0080);
 *   - PUSHF/POPF (16 and 32 bit: IOPL, NT, AC, ID writable; VIP, VIF, VM
 *     kept, RF cleared);
 *   - far CALL/RET (direct, indirect m16:16, RET imm16, 32-bit operand size)
 *     and far JMP;
 *   - 32-bit operand and address size prefixes (SIB forms, LEA, PUSH sizes,
 *     LOOP with CX vs ECX);
 *   - string instructions with 16-bit SI/DI (wrapping, upper halves of
 *     ESI/EDI/ECX kept, DF = 1, REPE CMPS, REPNE SCAS, segment override on
 *     the source) and with an address size prefix (ESI/EDI/ECX).
 * Memory: 0x20000, 0x30000, 0x40000, 0x50000 hold a byte pattern
 * (pat(tag, off)) with tags 0x11, 0x22, 0x33, 0x44; 0x60000 is scratch. */
#include "rt.h"

RT_TEST_NAME("x86_rm16");

#define NRR 96
u32 rr[NRR];            /* results of the assembly tests (written via %cs:) */
struct rec { u16 vec, ip, cs, flags, inside; } __attribute__((packed));
struct rec rec[8];
u16 rec_count, rec_skip;

void rm_fill(void);
void rm_addr(void);
void rm_seg(void);
void rm_int(void);
void rm_flags(void);
void rm_far(void);
void rm_pfx(void);
void rm_str(void);
extern const char rm_stub0[], rm_stub3[], rm_stub4[], rm_stub6[], rm_stub40[], rm_int41[];
extern const char rm_ret1[], rm_ret2[], rm_ret3[], rm_ret4[], rm_div[], rm_ud[];
extern const char rm_fret1[], rm_fret2[], rm_fret3[], rm_fret4[], rm_far1[];

/* In .code16: functions called from C (calll) return with retl and keep
 * every register and segment register but EAX/ECX/EDX. */
__asm__(
    ".text\n"
    ".code16\n"
    ".macro REC reg, n\n"
    "  movl \\reg, %cs:rr + 4 * \\n\n"
    ".endm\n"
    ".macro RECW reg, n\n"
    "  movzwl \\reg, %eax\n"
    "  movl %eax, %cs:rr + 4 * \\n\n"
    ".endm\n"
    ".macro ENTER16\n"
    "  pushal\n"
    "  push %ds; push %es; push %fs; push %gs\n"
    ".endm\n"
    ".macro LEAVE16\n"
    "  pop %gs; pop %fs; pop %es; pop %ds\n"
    "  popal\n"
    "  retl\n"
    ".endm\n"

    /* ---- the byte pattern: pat(tag, o) = o ^ (o >> 8) ^ tag */
    ".globl rm_fill\n"
    "rm_fill:\n"
    "  ENTER16\n"
    "  mov $0x2000, %ax; mov $0x11, %bl; call 2f\n"
    "  mov $0x3000, %ax; mov $0x22, %bl; call 2f\n"
    "  mov $0x4000, %ax; mov $0x33, %bl; call 2f\n"
    "  mov $0x5000, %ax; mov $0x44, %bl; call 2f\n"
    "  LEAVE16\n"
    "2: mov %ax, %es\n"
    "  xor %di, %di\n"
    "1: mov %di, %ax\n"
    "  xor %ah, %al\n"
    "  xor %bl, %al\n"
    "  stosb\n"
    "  test %di, %di\n"
    "  jnz 1b\n"
    "  ret\n"

    /* ---- ModRM forms */
    ".globl rm_addr\n"
    "rm_addr:\n"
    "  ENTER16\n"
    "  mov %ss, %cs:saved_ss\n"
    "  mov $0x2000, %ax; mov %ax, %ds\n"
    "  mov $0x4000, %ax; mov %ax, %fs\n"
    "  mov $0x5000, %ax; mov %ax, %gs\n"
    "  mov $0x3000, %ax; mov %ax, %ss\n"   /* no stack use until SS is back */
    "  mov $0x1234, %bx; mov $0x0456, %si; mov $0xf0f0, %di; mov $0x8765, %bp\n"
    "  mov (%bx,%si), %ax;        RECW %ax, 0\n"
    "  mov (%bx,%di), %ax;        RECW %ax, 1\n"
    "  mov (%bp,%si), %ax;        RECW %ax, 2\n"
    "  mov (%bp,%di), %ax;        RECW %ax, 3\n"
    "  mov (%si), %ax;            RECW %ax, 4\n"
    "  mov (%di), %ax;            RECW %ax, 5\n"
    "  mov 0x2345, %cx;           RECW %cx, 6\n"
    "  mov (%bx), %ax;            RECW %ax, 7\n"
    "  mov -0x10(%bx,%si), %ax;   RECW %ax, 8\n"
    "  mov 0x7f(%bx,%di), %ax;    RECW %ax, 9\n"
    "  mov -0x10(%bp,%si), %ax;   RECW %ax, 10\n"
    "  mov 0x7f(%bp,%di), %ax;    RECW %ax, 11\n"
    "  mov -0x10(%si), %ax;       RECW %ax, 12\n"
    "  mov 0x7f(%di), %ax;        RECW %ax, 13\n"
    "  mov 0(%bp), %ax;           RECW %ax, 14\n"
    "  mov -0x80(%bx), %ax;       RECW %ax, 15\n"
    "  mov 0xe000(%bx,%si), %ax;  RECW %ax, 16\n"
    "  mov 0xe000(%bx,%di), %ax;  RECW %ax, 17\n"
    "  mov 0xe000(%bp,%si), %ax;  RECW %ax, 18\n"
    "  mov 0x0123(%bp,%di), %ax;  RECW %ax, 19\n"
    "  mov 0x1000(%si), %ax;      RECW %ax, 20\n"
    "  mov 0x2000(%di), %ax;      RECW %ax, 21\n"
    "  mov 0x8000(%bp), %ax;      RECW %ax, 22\n"
    "  mov 0xedc0(%bx), %ax;      RECW %ax, 23\n"
    "  mov %fs:(%bx,%si), %ax;    RECW %ax, 24\n"
    "  mov %gs:(%bp,%di), %ax;    RECW %ax, 25\n"
    "  mov %ds:4(%bp), %ax;       RECW %ax, 26\n"
    "  mov %ss:-2(%bx,%si), %ax;  RECW %ax, 27\n"
    "  movb 1(%bp), %cl;          RECW %cx, 28\n"
    /* read-modify-write through BP lands in SS (0x3000), seen through FS */
    "  mov $0x3000, %ax; mov %ax, %fs\n"
    "  addw $0x1111, 4(%bp)\n"
    "  mov %fs:4(%bp), %ax;       RECW %ax, 29\n"
    "  subw $0x1111, 4(%bp)\n"
    "  mov %fs:4(%bp), %ax;       RECW %ax, 30\n"
    "  mov %cs:saved_ss, %ss\n"
    "  LEAVE16\n"

    /* ---- segment arithmetic */
    ".globl rm_seg\n"
    "rm_seg:\n"
    "  ENTER16\n"
    "  mov $0x2101, %ax; mov %ax, %ds\n"
    "  mov 0x0000, %ax;           RECW %ax, 0\n"   /* 0x21010 = 2000:1010 */
    "  mov $0x2000, %ax; mov %ax, %ds\n"
    "  mov 0x1010, %ax;           RECW %ax, 1\n"
    "  mov $0x1f00, %ax; mov %ax, %ds\n"
    "  mov 0x2010, %ax;           RECW %ax, 2\n"   /* 0x21010 */
    /* write through one pair, read through others */
    "  mov $0x2345, %ax; mov %ax, %es\n"
    "  mov %es:0x0010, %dx\n"                     /* 0x23460 */
    "  movw $0x5aa5, %es:0x0010\n"
    "  mov $0x2000, %ax; mov %ax, %fs\n"
    "  mov %fs:0x3460, %ax;       RECW %ax, 3\n"
    "  mov $0x2346, %ax; mov %ax, %gs\n"
    "  mov %gs:0x0000, %ax;       RECW %ax, 4\n"
    "  mov %dx, %es:0x0010\n"
    "  mov %fs:0x3460, %ax;       RECW %ax, 5\n"
    /* far pointers */
    "  xor %ax, %ax; mov %ax, %ds\n"
    "  lds rm_fp1, %si\n"
    "  mov %ds, %ax;              RECW %ax, 6\n"
    "  RECW %si, 7\n"
    "  mov (%si), %ax;            RECW %ax, 8\n"   /* 2234:0005 = 0x22345 */
    "  xor %ax, %ax; mov %ax, %ds\n"
    "  les rm_fp2, %di\n"
    "  mov %es, %ax;              RECW %ax, 9\n"
    "  mov %es:(%di), %ax;        RECW %ax, 10\n"
    "  lfs rm_fp1, %bx\n"
    "  mov %fs, %ax;              RECW %ax, 11\n"
    "  lgs rm_fp2, %bx\n"
    "  mov %gs, %ax;              RECW %ax, 12\n"
    "  mov %ss, %cs:saved_ss\n"
    "  mov %sp, %cs:saved_sp\n"
    "  lss rm_fp3, %sp\n"
    "  mov %ss, %ax;              RECW %ax, 13\n"
    "  RECW %sp, 14\n"
    "  pop %ax;                   RECW %ax, 15\n"  /* 3000:8000 */
    "  mov %cs:saved_ss, %ss\n"
    "  mov %cs:saved_sp, %sp\n"
    "  LEAVE16\n"

    /* ---- interrupts through the IVT: recorder */
    ".globl rm_stub0, rm_stub3, rm_stub4, rm_stub6, rm_stub40, rm_int41\n"
    "rm_stub0:  pushf; pushw $0x00; jmp rm_rec\n"
    "rm_stub3:  pushf; pushw $0x03; jmp rm_rec\n"
    "rm_stub4:  pushf; pushw $0x04; jmp rm_rec\n"
    "rm_stub6:  pushf; pushw $0x06; jmp rm_rec\n"
    "rm_stub40: pushf; pushw $0x40; mov $0x4040, %ax; jmp rm_rec\n"
    "rm_rec:\n"                 /* [bp+2] vec, [bp+4] flags inside, [bp+6] ip, cs, flags */
    "  push %bp\n"
    "  mov %sp, %bp\n"
    "  push %bx; push %cx\n"
    "  mov %cs:rec_count, %bx\n"
    "  imul $10, %bx\n"
    "  mov 2(%bp), %cx; mov %cx, %cs:rec + 0(%bx)\n"
    "  mov 6(%bp), %cx; mov %cx, %cs:rec + 2(%bx)\n"
    "  mov 8(%bp), %cx; mov %cx, %cs:rec + 4(%bx)\n"
    "  mov 10(%bp), %cx; mov %cx, %cs:rec + 6(%bx)\n"
    "  mov 4(%bp), %cx; mov %cx, %cs:rec + 8(%bx)\n"
    "  incw %cs:rec_count\n"
    "  mov %cs:rec_skip, %cx\n"
    "  add %cx, 6(%bp)\n"
    "  pop %cx; pop %bx; pop %bp\n"
    "  add $4, %sp\n"
    "  iret\n"
    /* A handler run with CS = 0x0080 (code at linear rm_int41): position
     * independent; returns CS in AX, the pushed IP/CS/FLAGS in DX/CX/BX. */
    "rm_int41:\n"
    "  push %bp\n"
    "  mov %sp, %bp\n"
    "  mov 2(%bp), %dx\n"
    "  mov 4(%bp), %cx\n"
    "  mov 6(%bp), %bx\n"
    "  mov %cs, %ax\n"
    "  pop %bp\n"
    "  iret\n"

    ".globl rm_int, rm_ret1, rm_ret2, rm_ret3, rm_ret4, rm_div, rm_ud\n"
    "rm_int:\n"
    "  ENTER16\n"
    "  movw $0, %cs:rec_skip\n"
    "  mov $0x1111, %ax\n"
    "  pushw $0x0ad7; popf\n"
    "  int $0x40\n"
    "rm_ret1:\n"
    "  pushf; pop %dx; cli\n"
    "  RECW %ax, 1\n"                     /* AX from the handler */
    "  RECW %dx, 0\n"
    "  pushw $0x0002; popf\n"
    "  int3\n"
    "rm_ret2:\n"
    "  pushw $0x08c3; popf\n"             /* OF SF ZF CF */
    "  int $3\n"
    "rm_ret3:\n"
    "  pushw $0x0002; popf\n"
    "  into\n"                            /* OF = 0: nothing */
    "  pushw $0x0802; popf\n"
    "  into\n"
    "rm_ret4:\n"
    "  movw $2, %cs:rec_skip\n"
    "  xor %bl, %bl; mov $0x1234, %ax; pushw $0x0802; popf\n"
    "rm_div:\n"
    "  div %bl\n"                         /* #DE: IP of the DIV, skipped by 2 */
    "rm_ud:\n"
    "  ud2\n"
    "  movw $0, %cs:rec_skip\n"
    "  mov $0x5555, %ax; mov %ax, %bx; mov %ax, %cx; mov %ax, %dx\n"
    "  pushw $0x0246; popf\n"
    "  int $0x41\n"
    "rm_ret5:\n"
    "  pushf; cli\n"
    "  RECW %ax, 2\n"
    "  RECW %bx, 3\n"
    "  RECW %cx, 4\n"
    "  RECW %dx, 5\n"
    "  pop %ax\n"
    "  RECW %ax, 6\n"
    "  mov $rm_ret5, %ax\n"
    "  RECW %ax, 7\n"
    "  LEAVE16\n"

    /* ---- PUSHF/POPF */
    ".globl rm_flags\n"
    "rm_flags:\n"
    "  ENTER16\n"
    "  pushfl\n"
    "  pushw $0xfeff; popf; pushf; pop %ax\n"
    "  RECW %ax, 0\n"
    "  pushw $0x0000; popf; pushf; pop %ax\n"
    "  RECW %ax, 1\n"
    "  pushl $0x003f7ed7; popfl; pushfl; popl %eax\n"
    "  REC %eax, 2\n"
    "  pushl $0x00000002; popfl; pushfl; popl %eax\n"
    "  REC %eax, 3\n"
    /* SAHF/LAHF, CLC/STC/CMC, CLD/STD */
    "  mov $0xd5, %ah; sahf; lahf; stc; cmc; pushf; pop %bx\n"
    "  RECW %ax, 4\n"
    "  RECW %bx, 5\n"
    "  std; pushf; pop %bx; cld\n"
    "  RECW %bx, 6\n"
    /* 16-bit pushf is 2 bytes, 32-bit 4 */
    "  mov %sp, %bx; pushf; mov %sp, %cx; pushfl; mov %sp, %dx; add $6, %sp\n"
    "  sub %cx, %bx; sub %dx, %cx\n"
    "  RECW %bx, 7\n"
    "  RECW %cx, 8\n"
    "  popfl\n"
    "  LEAVE16\n"

    /* ---- far CALL / RET / JMP (targets in segment 0x0080) */
    ".globl rm_far, rm_far1, rm_fret1, rm_fret2, rm_fret3, rm_fret4\n"
    "rm_far:\n"
    "  ENTER16\n"
    "  mov %sp, %si\n"
    "  lcall $0x0080, $rm_far1 - 0x800\n"
    "rm_fret1:\n"
    "  RECW %ax, 0\n"
    "  RECW %cx, 1\n"
    "  RECW %dx, 2\n"
    "  sub %sp, %si; RECW %si, 3\n"
    "  lcall *%cs:rm_fp4\n"
    "rm_fret2:\n"
    "  RECW %ax, 4\n"
    "  RECW %cx, 5\n"
    "  RECW %dx, 6\n"
    "  mov %sp, %si\n"
    "  pushw $0x1234; pushw $0x5678\n"
    "  lcall $0x0080, $rm_far2 - 0x800\n"   /* lret $4 */
    "rm_fret3:\n"
    "  RECW %ax, 7\n"
    "  RECW %cx, 8\n"
    "  RECW %dx, 9\n"
    "  sub %sp, %si; RECW %si, 10\n"
    "  mov %sp, %si\n"
    "  mov $0x77777777, %ebx\n"
    "  lcalll $0x0080, $rm_far3 - 0x800\n"  /* 32-bit: EIP and CS in 4-byte slots */
    "rm_fret4:\n"
    "  REC %eax, 11\n"
    "  RECW %cx, 12\n"
    "  REC %edx, 13\n"
    "  mov %si, %di; sub %bx, %di; RECW %di, 14\n"
    "  sub %sp, %si; RECW %si, 15\n"
    "  ljmp $0x0080, $rm_far4 - 0x800\n"
    "rm_fjback:\n"
    "  RECW %ax, 16\n"
    "  mov %cs, %ax; RECW %ax, 17\n"
    "  LEAVE16\n"
    "rm_far1:\n"                          /* AX = CS, CX = pushed CS, DX = pushed IP */
    "  mov %sp, %bp\n"
    "  mov (%bp), %dx; mov 2(%bp), %cx; mov %cs, %ax\n"
    "  lret\n"
    "rm_far2:\n"                          /* AX = CS, CX/DX = the two arguments */
    "  mov %sp, %bp\n"
    "  mov 4(%bp), %dx; mov 6(%bp), %cx; mov %cs, %ax\n"
    "  lret $4\n"
    "rm_far3:\n"                          /* EDX = pushed EIP, CX = pushed CS (low half) */
    "  mov %sp, %bp\n"
    "  mov (%bp), %edx; mov 4(%bp), %cx; mov %cs, %ax\n"
    "  mov %sp, %bx\n"
    "  lretl\n"
    "rm_far4:\n"
    "  mov %cs, %ax\n"
    "  ljmp $0, $rm_fjback\n"

    /* ---- 32-bit operand / address size */
    ".globl rm_pfx\n"
    "rm_pfx:\n"
    "  ENTER16\n"
    "  mov $0x12345678, %eax; add $0x0f0f0f0f, %eax; pushfl; popl %edx\n"
    "  REC %eax, 0\n"
    "  and $0x8d5, %edx; REC %edx, 1\n"
    "  mov $0x100, %ebx; mov $3, %esi\n"
    "  movl rm_tab - 0x100(%ebx,%esi,4), %eax; REC %eax, 2\n"
    "  movw rm_tab + 2(,%esi,2), %ax; RECW %ax, 3\n"
    "  mov $rm_tab, %ecx; movzbl 5(%ecx), %eax; REC %eax, 4\n"
    "  movsbl 7(%ecx), %eax; REC %eax, 5\n"
    "  mov $0xffff0000, %ebx; mov $0x00020003, %esi\n"
    "  leal 0x10(%ebx,%esi,8), %eax; REC %eax, 6\n"
    "  mov $0xfff0, %bx; mov $0x0020, %si\n"
    "  leaw 0x10(%bx,%si), %ax; RECW %ax, 7\n"   /* 16-bit address: wraps */
    "  leal 0x10(%bx,%si), %eax; REC %eax, 8\n"  /* 16-bit address, 32-bit dest: zero-extended */
    "  mov %sp, %bx; pushl %eax; mov %sp, %cx; pushw %ax; mov %sp, %dx; add $6, %sp\n"
    "  sub %cx, %bx; sub %dx, %cx; RECW %bx, 9; RECW %cx, 10\n"
    "  mov $0x00010003, %ecx; xor %ax, %ax\n"
    "1: inc %ax; loop 1b\n"                      /* CX only */
    "  RECW %ax, 11; REC %ecx, 12\n"
    "  mov $0x00000103, %ecx; xor %eax, %eax\n"
    "1: inc %eax; addr32 loop 1b\n"              /* ECX */
    "  REC %eax, 13; REC %ecx, 14\n"
    "  mov $0x12340000, %ecx; mov $1, %ax\n"
    "  jcxz 1f; mov $2, %ax\n"
    "1: RECW %ax, 15\n"
    "  mov $0x12340000, %ecx; mov $1, %ax\n"
    "  jecxz 1f; mov $2, %ax\n"
    "1: RECW %ax, 16\n"
    "  mov $0x80000001, %eax; mov $0x10, %ecx; imul %ecx; REC %eax, 17; REC %edx, 18\n"
    "  mov $0x89abcdef, %eax; mov $0x01234567, %edx; shld $12, %edx, %eax; REC %eax, 19\n"
    "  mov $0x00000000, %edx; mov $0x00000100, %eax; mov $7, %ecx; divl %ecx\n"
    "  REC %eax, 20; REC %edx, 21\n"
    "  LEAVE16\n"

    /* ---- string instructions */
    ".globl rm_str\n"
    "rm_str:\n"
    "  ENTER16\n"
    "  mov $0x2000, %ax; mov %ax, %ds\n"
    "  mov $0x6000, %ax; mov %ax, %es\n"
    "  mov $0xabcdfff8, %esi; mov $0x12340100, %edi; mov $0x77770010, %ecx\n"
    "  rep movsb\n"                              /* SI wraps FFFF -> 0 */
    "  REC %esi, 0; REC %edi, 1; REC %ecx, 2\n"
    "  mov %es:0x100, %eax; REC %eax, 3\n"
    "  mov %es:0x107, %eax; REC %eax, 4\n"
    "  mov %es:0x10c, %eax; REC %eax, 5\n"
    "  mov $0x3000, %ax; mov %ax, %ds\n"
    "  mov $0x00000004, %esi; mov $0x00000200, %edi; mov $4, %ecx\n"
    "  std; rep movsw; cld\n"                    /* SI 4 2 0 FFFE */
    "  REC %esi, 6; REC %edi, 7; REC %ecx, 8\n"
    "  mov %es:0x1fa, %eax; REC %eax, 9\n"
    "  mov %es:0x1fe, %eax; REC %eax, 10\n"
    "  mov $0xa55a, %ax; mov $0x300, %di; mov $0xfedc0005, %ecx\n"
    "  rep stosw\n"
    "  REC %edi, 11; REC %ecx, 12\n"
    "  mov %es:0x306, %eax; REC %eax, 13\n"
    "  mov $0x2000, %ax; mov %ax, %ds\n"
    "  mov $0xfff8, %si; mov $0x100, %di; mov $16, %cx\n"
    "  repe cmpsb\n"
    "  pushf; pop %ax; and $0x8d5, %ax; RECW %ax, 14\n"
    "  RECW %si, 15; RECW %di, 16; RECW %cx, 17\n"
    "  xorb $0x40, %es:0x105\n"
    "  mov $0xfff8, %si; mov $0x100, %di; mov $16, %cx\n"
    "  repe cmpsb\n"
    "  pushf; pop %ax; and $0x8d5, %ax; RECW %ax, 18\n"
    "  RECW %si, 19; RECW %di, 20; RECW %cx, 21\n"
    "  mov $0x2000, %ax; mov %ax, %es\n"
    "  mov $0x26, %al; xor %di, %di; mov $0x100, %cx\n"
    "  repne scasb\n"
    "  pushf; pop %ax; and $0x8d5, %ax; RECW %ax, 22\n"
    "  RECW %di, 23; RECW %cx, 24\n"
    "  mov $0x4000, %ax; mov %ax, %fs\n"
    "  xor %ax, %ax; mov %ax, %ds\n"
    "  mov $0x1234, %si\n"
    "  lodsw %fs:(%si), %ax\n"
    "  RECW %ax, 25; RECW %si, 26\n"
    "  mov $0x2000, %ax; mov %ax, %ds\n"
    "  mov $0x6000, %ax; mov %ax, %es\n"
    "  mov $0x10, %esi; mov $0x400, %edi; mov $4, %ecx\n"
    "  addr32 rep movsl\n"
    "  REC %esi, 27; REC %edi, 28; REC %ecx, 29\n"
    "  mov %es:0x40c, %eax; REC %eax, 30\n"
    "  LEAVE16\n"

    ".balign 4\n"
    "rm_tab: .long 0x03020100, 0x87868584, 0x0b0a0908, 0x0f0e0d0c, 0x13121110\n"
    "rm_fp1: .word 0x0005, 0x2234\n"
    "rm_fp2: .word 0x1111, 0x4000\n"
    "rm_fp3: .word 0x8000, 0x3000\n"
    "rm_fp4: .word rm_far1 - 0x800, 0x0080\n"
    "saved_ss: .word 0\n"
    "saved_sp: .word 0\n"
    ".code16gcc\n");

static unsigned pat(unsigned tag, unsigned o)
{
    o &= 0xffff;
    return (o ^ (o >> 8) ^ tag) & 0xff;
}
static unsigned patw(unsigned tag, unsigned o)
{
    return pat(tag, o) | pat(tag, o + 1) << 8;
}
static unsigned patl(unsigned tag, unsigned o)
{
    return patw(tag, o) | (u32)patw(tag, o + 2) << 16;
}

static void show(const char *what, u32 got, u32 want)
{
    printf("  %-28s = %lx%s\n", what, (unsigned long)got, got == want ? "" : "  <-- wrong");
}
#define SHOW(what, got, want) do { show(what, got, want); CHECK_EQ(got, want); } while (0)

static void clear_rr(void)
{
    for (int i = 0; i < NRR; i++)
        rr[i] = 0xdeadbeef;
}

#define BX 0x1234
#define SI 0x0456
#define DI 0xf0f0
#define BP 0x8765
#define DS_T 0x11
#define SS_T 0x22
#define FS_T 0x33
#define GS_T 0x44

static void test_addr(void)
{
    static const struct { const char *name; unsigned tag, ea; } f[] = {
        { "[bx+si]", DS_T, BX + SI }, { "[bx+di]", DS_T, BX + DI },
        { "[bp+si]", SS_T, BP + SI }, { "[bp+di]", SS_T, BP + DI },
        { "[si]", DS_T, SI }, { "[di]", DS_T, DI }, { "[disp16]", DS_T, 0x2345 },
        { "[bx]", DS_T, BX },
        { "[bx+si+d8]", DS_T, BX + SI - 0x10 }, { "[bx+di+d8]", DS_T, BX + DI + 0x7f },
        { "[bp+si+d8]", SS_T, BP + SI - 0x10 }, { "[bp+di+d8]", SS_T, BP + DI + 0x7f },
        { "[si+d8]", DS_T, SI - 0x10 }, { "[di+d8]", DS_T, DI + 0x7f },
        { "[bp+d8]", SS_T, BP }, { "[bx+d8]", DS_T, BX - 0x80 },
        { "[bx+si+d16]", DS_T, BX + SI + 0xe000 }, { "[bx+di+d16]", DS_T, BX + DI + 0xe000 },
        { "[bp+si+d16]", SS_T, BP + SI + 0xe000 }, { "[bp+di+d16]", SS_T, BP + DI + 0x123 },
        { "[si+d16]", DS_T, SI + 0x1000 }, { "[di+d16]", DS_T, DI + 0x2000 },
        { "[bp+d16]", SS_T, BP + 0x8000 }, { "[bx+d16]", DS_T, BX + 0xedc0 },
        { "fs:[bx+si]", FS_T, BX + SI }, { "gs:[bp+di]", GS_T, BP + DI },
        { "ds:[bp+4]", DS_T, BP + 4 }, { "ss:[bx+si-2]", SS_T, BX + SI - 2 },
    };
    printf("16-bit addressing (DS=2000 SS=3000 FS=4000 GS=5000, bx=%x si=%x di=%x bp=%x):\n",
           BX, SI, DI, BP);
    clear_rr();
    rm_addr();
    for (unsigned i = 0; i < sizeof(f) / sizeof(f[0]); i++) {
        unsigned ea = f[i].ea & 0xffff;
        printf("  %-14s ea=%04x -> %04lx\n", f[i].name, ea, (unsigned long)rr[i]);
        if (rr[i] != patw(f[i].tag, ea))
            printf("    <-- wrong, expected %04x\n", patw(f[i].tag, ea));
        CHECK_EQ(rr[i], patw(f[i].tag, ea));
    }
    SHOW("byte [bp+1] (ss)", rr[28] & 0xff, pat(SS_T, BP + 1));
    SHOW("add [bp+4] seen via fs=3000", rr[29], (patw(SS_T, BP + 4) + 0x1111) & 0xffff);
    SHOW("after sub", rr[30], patw(SS_T, BP + 4));
}

static void test_seg(void)
{
    printf("segment arithmetic:\n");
    clear_rr();
    rm_seg();
    SHOW("2101:0000", rr[0], patw(DS_T, 0x1010));
    SHOW("2000:1010", rr[1], patw(DS_T, 0x1010));
    SHOW("1f00:2010", rr[2], patw(DS_T, 0x1010));
    SHOW("write 2345:0010, read 2000:3460", rr[3], 0x5aa5);
    SHOW("read 2346:0000", rr[4], 0x5aa5);
    SHOW("restored", rr[5], patw(DS_T, 0x3460));
    SHOW("lds: ds", rr[6], 0x2234);
    SHOW("lds: si", rr[7], 0x0005);
    SHOW("[2234:0005]", rr[8], patw(DS_T, 0x2345));
    SHOW("les: es", rr[9], 0x4000);
    SHOW("es:[di]", rr[10], patw(FS_T, 0x1111));
    SHOW("lfs: fs", rr[11], 0x2234);
    SHOW("lgs: gs", rr[12], 0x4000);
    SHOW("lss: ss", rr[13], 0x3000);
    SHOW("lss: sp", rr[14], 0x8000);
    SHOW("pop from 3000:8000", rr[15], patw(SS_T, 0x8000));
}

static void test_int(void)
{
    printf("INT n / exceptions through the IVT:\n");
    rt_ivt_set(0x00, 0, (u16)(uintptr_t)rm_stub0);
    rt_ivt_set(0x03, 0, (u16)(uintptr_t)rm_stub3);
    rt_ivt_set(0x04, 0, (u16)(uintptr_t)rm_stub4);
    rt_ivt_set(0x06, 0, (u16)(uintptr_t)rm_stub6);
    rt_ivt_set(0x40, 0, (u16)(uintptr_t)rm_stub40);
    rt_ivt_set(0x41, 0x0080, (u16)((uintptr_t)rm_int41 - 0x800));
    rec_count = 0;
    clear_rr();
    rm_int();
    static const struct { const char *name; unsigned vec; const char *ip; unsigned flags; } e[] = {
        { "int 0x40", 0x40, rm_ret1, 0x0ad7 },
        { "int3", 3, rm_ret2, 0x0002 },
        { "int 3", 3, rm_ret3, 0x08c3 },
        { "into (OF=1)", 4, rm_ret4, 0x0802 },
        { "div by 0 (#DE)", 0, rm_div, 0x0802 },
        { "ud2 (#UD)", 6, rm_ud, 0x0802 },
    };
    SHOW("events", rec_count, 6);
    for (unsigned i = 0; i < 6 && i < rec_count; i++) {
        printf("  %-16s vec=%02x ip=%04x cs=%04x flags=%04x in handler=%04x\n", e[i].name,
               rec[i].vec, rec[i].ip, rec[i].cs, rec[i].flags, rec[i].inside);
        CHECK_EQ(rec[i].vec, e[i].vec);
        CHECK_EQ(rec[i].ip, (u16)(uintptr_t)e[i].ip);
        CHECK_EQ(rec[i].cs, 0);
        CHECK_EQ(rec[i].flags, e[i].flags);
        CHECK_EQ(rec[i].inside, rec[i].flags & ~0x300u);
    }
    SHOW("flags after iret", rr[0], 0x0ad7);
    SHOW("ax from handler", rr[1], 0x4040);
    SHOW("int 0x41: cs in handler", rr[2], 0x0080);
    SHOW("int 0x41: pushed flags", rr[3], 0x0246);
    SHOW("int 0x41: pushed cs", rr[4], 0);
    SHOW("int 0x41: pushed ip", rr[5], rr[7]);
    SHOW("flags after iret", rr[6], 0x0246);
    for (unsigned v = 0; v < 0x42; v++)
        rt_ivt_default(v);
}

static void test_flags(void)
{
    printf("PUSHF/POPF:\n");
    clear_rr();
    rm_flags();
    SHOW("popf feff", rr[0], 0x7ed7);
    SHOW("popf 0000", rr[1], 0x0002);
    SHOW("popfd 003f7ed7", rr[2], 0x00247ed7);
    SHOW("popfd 00000002", rr[3], 0x00000002);
    SHOW("sahf d5; lahf: ax", rr[4] & 0xff00, 0xd700);
    SHOW("stc; cmc", rr[5] & 0x8d5, 0x00d4);
    SHOW("std", rr[6] & 0x400, 0x400);
    SHOW("pushf size", rr[7], 2);
    SHOW("pushfd size", rr[8], 4);
}

static void test_far(void)
{
    printf("far CALL/RET/JMP (target segment 0080):\n");
    clear_rr();
    rm_far();
    SHOW("lcall: cs in callee", rr[0], 0x0080);
    SHOW("lcall: pushed cs", rr[1], 0);
    SHOW("lcall: pushed ip", rr[2], (u16)(uintptr_t)rm_fret1);
    SHOW("lcall: sp after ret", rr[3], 0);
    SHOW("lcall m16:16: cs", rr[4], 0x0080);
    SHOW("lcall m16:16: pushed cs", rr[5], 0);
    SHOW("lcall m16:16: pushed ip", rr[6], (u16)(uintptr_t)rm_fret2);
    SHOW("lret 4: cs", rr[7], 0x0080);
    SHOW("lret 4: arg 1", rr[8], 0x1234);
    SHOW("lret 4: arg 2", rr[9], 0x5678);
    SHOW("lret 4: sp change", rr[10], 0);
    SHOW("lcalll: cs", rr[11] & 0xffff, 0x0080);
    SHOW("lcalll: pushed cs (low)", rr[12], 0);
    SHOW("lcalll: pushed eip", rr[13], (u16)(uintptr_t)rm_fret4);
    SHOW("lcalll: sp drop", rr[14], 8);
    SHOW("lretl: sp change", rr[15], 0);
    SHOW("ljmp: cs at target", rr[16], 0x0080);
    SHOW("ljmp back: cs", rr[17], 0);
}

static void test_pfx(void)
{
    printf("32-bit operand/address size:\n");
    clear_rr();
    rm_pfx();
    SHOW("add eax", rr[0], 0x21436587);
    SHOW("flags", rr[1], 0x0014);
    SHOW("[ebx+esi*4+d32]", rr[2], 0x0f0e0d0c);
    SHOW("[esi*2+d32] word", rr[3], 0x0908);
    SHOW("movzx [ecx+5]", rr[4], 0x85);
    SHOW("movsx [ecx+7]", rr[5], 0xffffff87);
    SHOW("lea32 [ebx+esi*8+10]", rr[6], 0x000f0028);
    SHOW("lea16 [bx+si+10]", rr[7], 0x0020);
    SHOW("lea [bx+si+10] -> eax", rr[8], 0x00000020);
    SHOW("pushl size", rr[9], 4);
    SHOW("pushw size", rr[10], 2);
    SHOW("loop (cx) count", rr[11], 3);
    SHOW("loop (cx): ecx", rr[12], 0x00010000);
    SHOW("addr32 loop count", rr[13], 0x103);
    SHOW("addr32 loop: ecx", rr[14], 0);
    SHOW("jcxz (cx=0)", rr[15], 1);
    SHOW("jecxz (ecx!=0)", rr[16], 2);
    SHOW("imul ecx: eax", rr[17], 0x00000010);
    SHOW("imul ecx: edx", rr[18], 0xfffffff8);
    SHOW("shld 12", rr[19], 0xbcdef012);
    SHOW("div ecx: eax", rr[20], 0x24);
    SHOW("div ecx: edx", rr[21], 0x4);
}

static void test_str(void)
{
    printf("string instructions:\n");
    clear_rr();
    rm_str();
    SHOW("rep movsb: esi (wrapped)", rr[0], 0xabcd0008);
    SHOW("rep movsb: edi", rr[1], 0x12340110);
    SHOW("rep movsb: ecx", rr[2], 0x77770000);
    SHOW("copy [0..3]", rr[3], patl(DS_T, 0xfff8));
    SHOW("copy [7..10]", rr[4], pat(DS_T, 0xffff) | patw(DS_T, 0) << 8 | pat(DS_T, 2) << 24);
    SHOW("copy [12..15]", rr[5], patl(DS_T, 4));
    SHOW("std rep movsw: esi", rr[6], 0x0000fffc);
    SHOW("std rep movsw: edi", rr[7], 0x000001f8);
    SHOW("std rep movsw: ecx", rr[8], 0);
    SHOW("copy [1fa]", rr[9], patw(SS_T, 0xfffe) | patw(SS_T, 0) << 16);
    SHOW("copy [1fe]", rr[10], patw(SS_T, 2) | (u32)patw(SS_T, 4) << 16);
    SHOW("rep stosw: edi", rr[11], 0x0000030a);
    SHOW("rep stosw: ecx", rr[12], 0xfedc0000);
    SHOW("stored", rr[13], 0xa55aa55a);
    SHOW("repe cmpsb equal: flags", rr[14], 0x0044);
    SHOW("  si", rr[15], 0x0008);
    SHOW("  di", rr[16], 0x0110);
    SHOW("  cx", rr[17], 0);
    SHOW("repe cmpsb differ: flags", rr[18] & FL_ZF, 0);
    SHOW("  si", rr[19], 0xfffe);
    SHOW("  di", rr[20], 0x0106);
    SHOW("  cx", rr[21], 10);
    SHOW("repne scasb: zf", rr[22] & FL_ZF, FL_ZF);
    SHOW("  di", rr[23], 0x38);
    SHOW("  cx", rr[24], 0xc8);
    SHOW("fs lodsw: ax", rr[25], patw(FS_T, 0x1234));
    SHOW("  si", rr[26], 0x1236);
    SHOW("addr32 rep movsd: esi", rr[27], 0x20);
    SHOW("  edi", rr[28], 0x410);
    SHOW("  ecx", rr[29], 0);
    SHOW("  [40c]", rr[30], patl(DS_T, 0x1c));
}

void test_main(void)
{
    rm_fill();
    test_addr();
    test_seg();
    test_int();
    test_flags();
    test_far();
    test_pfx();
    test_str();
}
