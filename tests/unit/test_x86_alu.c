/* General-purpose x86 instructions (targets/x86/exec_alu.c, exec_ctl.c,
 * exec_str.c): short programs in RAM run through CpuOps in real mode, flat
 * 32-bit protected mode and 64-bit mode, checking results, flags, faults
 * (exceptions land on per-vector HLT stubs) and the retired-instruction and
 * conditional-branch counts; a few handlers are called directly. */
#include "targets/x86/flags.h"
#include "x86_fixture.h"

#define CODE 0x10000u
#define DATA 0x20000u
#define STACK 0x80000u
#define GDT 0x4000u
#define IDT 0x5000u
#define EXC 0x3000u          /* vector v's handler: HLT at EXC + 16 v */
#define PT 0x100000u
#define STACK16 0x8000u

static uint64_t code_ip;     /* CODE as an offset in CS */
static int cur_mode;

enum { M16, M32, M64 };

static void mode(int m)
{
    for (unsigned v = 0; v < 32; v++)
        ram[EXC + 16 * v] = 0xf4;
    code_ip = CODE;
    cur_mode = m;
    if (m == M16) {
        for (unsigned v = 0; v < 32; v++)
            ivt(v, 0, EXC + 16 * v);
        cpu->idt.base = 0;
        cpu->idt.limit = 0x3ff;
        /* CS = CODE >> 4, IP = 0; SS = 0, SP = STACK16. */
        cpu->seg[X86_CS].base = CODE;
        cpu->seg[X86_CS].selector = CODE >> 4;
        code_ip = 0;
    } else {
        wr64(GDT + 8, 0x00af9a000000ffffull);     /* 64-bit code */
        wr64(GDT + 16, 0x00cf92000000ffffull);    /* data */
        wr64(GDT + 24, 0x00cf9a000000ffffull);    /* 32-bit code */
        cpu->gdt.base = GDT;
        cpu->gdt.limit = 31;
        cpu->cr0 |= X86_CR0_PE;
        uint16_t cs = m == M64 ? 8 : 0x18;
        for (unsigned v = 0; v < 32; v++)
            idt_gate(IDT, v, m == M64, EXC + 16 * v, cs, 0xe, 0);
        cpu->idt.base = IDT;
        cpu->idt.limit = m == M64 ? 32 * 16 - 1 : 32 * 8 - 1;
        for (int s = 0; s < X86_NSEG; s++)
            seg_flat(s, 0x10, 0x3, true, false);
        if (m == M64) {
            /* Identity map of the first 4 MiB with 2 MiB pages. */
            map_4m(PT, false);
            cpu->cr3 = PT;
            cpu->cr4 |= X86_CR4_PAE;
            cpu->efer |= X86_EFER_LME | X86_EFER_LMA;
            cpu->cr0 |= X86_CR0_PG;
            seg_flat(X86_CS, 8, 0xb, false, true);
        } else {
            seg_flat(X86_CS, 0x18, 0xb, true, false);
        }
    }
    x86_update_hflags(cpu);
    x86_tlb_flush(cpu, false);
    cpu->regs[X86_RSP] = m == M16 ? STACK16 : STACK;
}

static void setup(void)
{
    x86f_setup(4);
    x86f_cs0();
}

static void setup16(void) { setup(); mode(M16); }
static void setup32(void) { setup(); mode(M32); }
static void setup64(void) { setup(); mode(M64); }

TestSuite(alu16, .init = setup16, .fini = x86f_teardown);
TestSuite(alu32, .init = setup32, .fini = x86f_teardown);
TestSuite(alu64, .init = setup64, .fini = x86f_teardown);

/* Run code (followed by HLT) at CODE; returns the exception vector taken,
 * or -1 when the program reached its own HLT. */
static int exec_n(const uint8_t *b, size_t n)
{
    memcpy(ram + CODE, b, n);
    ram[CODE + n] = 0xf4;
    x86_code_flush(cpu);                 /* RAM was written behind its back */
    if (cur_mode == M16) {
        /* An exception left CS at the handler's. */
        cpu->seg[X86_CS].base = CODE;
        cpu->seg[X86_CS].selector = CODE >> 4;
    }
    cpu->rip = code_ip;
    cpu->halted = false;
    cr_assert_eq(x86_cpu_ops.run(cpu, 10000000), CPU_EXIT_IDLE);
    if (cpu->rip == code_ip + n + 1)
        return -1;
    cr_assert(cpu->rip > EXC && cpu->rip <= EXC + 16 * 32 && (cpu->rip - EXC - 1) % 16 == 0,
              "stopped at %#llx", (unsigned long long)cpu->rip);
    return (int)((cpu->rip - EXC - 1) / 16);
}

#define EXEC(...) exec_n(BYTES(__VA_ARGS__))
#define R(r) (cpu->regs[X86_##r])
#define FL (x86_eflags(cpu) & X86_ARITH_FLAGS)

/* ---- ALU, sizes ---- */

Test(alu64, add_sizes)
{
    /* mov rax, -1; add rax, 1 */
    cr_assert_eq(EXEC(0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, 0x48, 0x83, 0xc0, 0x01), -1);
    cr_assert_eq(R(RAX), 0);
    cr_assert_eq(FL, X86_CF | X86_ZF | X86_AF | X86_PF);
    /* mov rax, -1; add eax, 1: the 32-bit result zero-extends */
    cr_assert_eq(EXEC(0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, 0x83, 0xc0, 0x01), -1);
    cr_assert_eq(R(RAX), 0);
    /* mov rax, -1; add ax, 1: merges */
    cr_assert_eq(EXEC(0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, 0x66, 0x83, 0xc0, 0x01), -1);
    cr_assert_eq(R(RAX), 0xffffffffffff0000ull);
    /* mov eax, 0x1234; add ah, 1; add al, 0x80 (no REX: AH) */
    cr_assert_eq(EXEC(0xb8, 0x34, 0x12, 0, 0, 0x80, 0xc4, 0x01, 0x04, 0x80), -1);
    cr_assert_eq(R(RAX), 0x13b4);
    cr_assert_eq(FL, X86_SF | X86_PF);
    /* mov esi, 0x1234; REX: 40 80 c6 01 is add sil, 1 */
    cr_assert_eq(EXEC(0xbe, 0x34, 0x12, 0, 0, 0x40, 0x80, 0xc6, 0x01), -1);
    cr_assert_eq(R(RSI), 0x1235);
}

Test(alu64, adc_sbb_cmp_setcc)
{
    /* stc; mov eax, 0; adc eax, 0; mov ecx, 5; stc; sbb ecx, 2 */
    cr_assert_eq(EXEC(0xf9, 0xb8, 0, 0, 0, 0, 0x83, 0xd0, 0x00, 0xb9, 5, 0, 0, 0, 0xf9,
                      0x83, 0xd9, 0x02), -1);
    cr_assert_eq(R(RAX), 1);
    cr_assert_eq(R(RCX), 2);
    /* mov eax, 1; cmp eax, 2; setl cl; setb dl; seta bl; setg bh */
    R(RBX) = 0xffff;
    cr_assert_eq(EXEC(0xb8, 1, 0, 0, 0, 0x83, 0xf8, 0x02, 0x0f, 0x9c, 0xc1, 0x0f, 0x92, 0xc2,
                      0x0f, 0x97, 0xc3, 0x0f, 0x9f, 0xc7), -1);
    cr_assert_eq(R(RCX) & 0xff, 1);
    cr_assert_eq(R(RDX) & 0xff, 1);
    cr_assert_eq(R(RBX) & 0xffff, 0);
    cr_assert_eq(FL, X86_CF | X86_SF | X86_AF | X86_PF);
}

Test(alu64, memory_destination)
{
    wr32(DATA, 10);
    /* mov ebx, DATA; add dword [rbx], 5; lock sub dword [rbx], 1; cmp dword [rbx], 14 */
    cr_assert_eq(EXEC(0xbb, 0x00, 0x00, 0x02, 0x00, 0x83, 0x03, 0x05, 0xf0, 0x83, 0x2b, 0x01,
                      0x83, 0x3b, 0x0e), -1);
    cr_assert_eq(rd32(DATA), 14);
    cr_assert_eq(FL, X86_ZF | X86_PF);
    /* LOCK on a register form: #UD */
    cr_assert_eq(EXEC(0xf0, 0x01, 0xc0), X86_EXC_UD);
}

Test(alu64, inc_dec_neg_not)
{
    /* stc; mov al, 0x7f; inc al: OF SF AF, CF kept */
    cr_assert_eq(EXEC(0xf9, 0xb0, 0x7f, 0xfe, 0xc0), -1);
    cr_assert_eq(R(RAX) & 0xff, 0x80);
    cr_assert_eq(FL, X86_CF | X86_OF | X86_SF | X86_AF);
    /* clc; mov ax, 0x8000; dec ax */
    cr_assert_eq(EXEC(0xf8, 0x66, 0xb8, 0x00, 0x80, 0x66, 0xff, 0xc8), -1);
    cr_assert_eq(R(RAX) & 0xffff, 0x7fff);
    cr_assert_eq(FL, X86_OF | X86_AF | X86_PF);
    /* mov eax, 5; neg eax; not ecx */
    R(RCX) = 0;
    cr_assert_eq(EXEC(0xb8, 5, 0, 0, 0, 0xf7, 0xd8, 0xf7, 0xd1), -1);
    cr_assert_eq(R(RAX), 0xfffffffbu);
    cr_assert_eq(R(RCX), 0xffffffffu);
    cr_assert_eq(FL, X86_CF | X86_SF | X86_AF);
    /* neg of 0: CF = 0 */
    cr_assert_eq(EXEC(0x31, 0xc0, 0xf7, 0xd8), -1);
    cr_assert_eq(FL, X86_ZF | X86_PF);
}

/* ---- MUL / DIV ---- */

Test(alu64, mul_imul)
{
    /* mov eax, 0x80000000; mov ecx, 4; mul ecx */
    cr_assert_eq(EXEC(0xb8, 0, 0, 0, 0x80, 0xb9, 4, 0, 0, 0, 0xf7, 0xe1), -1);
    cr_assert_eq(R(RAX), 0);
    cr_assert_eq(R(RDX), 2);
    cr_assert(FL & X86_CF && FL & X86_OF);
    /* mov rax, -2; mov rcx, 3; imul rcx */
    cr_assert_eq(EXEC(0x48, 0xc7, 0xc0, 0xfe, 0xff, 0xff, 0xff, 0x48, 0xc7, 0xc1, 3, 0, 0, 0,
                      0x48, 0xf7, 0xe9), -1);
    cr_assert_eq(R(RAX), (uint64_t)-6);
    cr_assert_eq(R(RDX), ~0ull);
    cr_assert_eq(FL & (X86_CF | X86_OF), 0);
    /* mov rax, 1<<62 (via shl); mov rcx, 4; mul rcx: RDX = 1 */
    cr_assert_eq(EXEC(0xb8, 1, 0, 0, 0, 0x48, 0xc1, 0xe0, 62, 0x48, 0xc7, 0xc1, 4, 0, 0, 0,
                      0x48, 0xf7, 0xe1), -1);
    cr_assert_eq(R(RAX), 0);
    cr_assert_eq(R(RDX), 1);
    /* imul eax, ecx, 5 with ecx = 3; imul ax, cx with ax = 0x4000, cx = 2 */
    cr_assert_eq(EXEC(0xb9, 3, 0, 0, 0, 0x6b, 0xc1, 0x05), -1);
    cr_assert_eq(R(RAX), 15);
    cr_assert_eq(FL & (X86_CF | X86_OF), 0);
    cr_assert_eq(EXEC(0x66, 0xb8, 0x00, 0x40, 0x66, 0xb9, 2, 0, 0x66, 0x0f, 0xaf, 0xc1), -1);
    cr_assert_eq(R(RAX) & 0xffff, 0x8000);
    cr_assert_eq(FL & (X86_CF | X86_OF), X86_CF | X86_OF);
    /* mov al, 0x10; mov cl, 0x10; mul cl: AX = 0x100 */
    cr_assert_eq(EXEC(0xb0, 0x10, 0xb1, 0x10, 0xf6, 0xe1), -1);
    cr_assert_eq(R(RAX) & 0xffff, 0x100);
    cr_assert_eq(FL & (X86_CF | X86_OF | X86_ZF), X86_CF | X86_OF | X86_ZF);
}

Test(alu64, div_idiv)
{
    /* mov edx, 1; xor eax, eax; mov ecx, 2; div rcx -> 2^63 */
    cr_assert_eq(EXEC(0xba, 1, 0, 0, 0, 0x31, 0xc0, 0xb9, 2, 0, 0, 0, 0x48, 0xf7, 0xf1), -1);
    cr_assert_eq(R(RAX), 1ull << 63);
    cr_assert_eq(R(RDX), 0);
    /* mov ax, -7; mov cl, 2; idiv cl -> AL = -3, AH = -1 */
    cr_assert_eq(EXEC(0x66, 0xb8, 0xf9, 0xff, 0xb1, 0x02, 0xf6, 0xf9), -1);
    cr_assert_eq(R(RAX) & 0xffff, 0xfffd);
    /* cqo with rax = INT64_MIN; mov rcx, -1; idiv rcx: #DE, nothing changed */
    R(RAX) = 1ull << 63;
    cr_assert_eq(EXEC(0x48, 0x99, 0x48, 0xc7, 0xc1, 0xff, 0xff, 0xff, 0xff, 0x48, 0xf7, 0xf9),
                 X86_EXC_DE);
    cr_assert_eq(R(RAX), 1ull << 63);
    cr_assert_eq(R(RDX), ~0ull);
    cr_assert_eq(rd64(STACK - 40), CODE + 9);   /* RIP of the IDIV */
    /* idiv: -128 fits in AL (al = -128 from ax = 256 / -2) */
    cr_assert_eq(EXEC(0x66, 0xb8, 0x00, 0x01, 0xb1, 0xfe, 0xf6, 0xf9), -1);
    cr_assert_eq(R(RAX) & 0xffff, 0x0080);
    /* 128 does not */
    cr_assert_eq(EXEC(0x66, 0xb8, 0x00, 0xff, 0xb1, 0xfe, 0xf6, 0xf9), X86_EXC_DE);
}

Test(alu16, divide_error)
{
    /* xor cx, cx; div cx */
    cr_assert_eq(EXEC(0x31, 0xc9, 0xf7, 0xf1), X86_EXC_DE);
    cr_assert_eq(rd16(STACK16 - 6), 2);          /* IP of the DIV */
    cr_assert_eq(rd16(STACK16 - 4), CODE >> 4);
    cr_assert_eq(cpu->icount, 2);                 /* xor + the handler's HLT */
    /* mov dx, 1; xor ax, ax; mov cx, 1; div cx: quotient overflow */
    R(RSP) = STACK16;
    cr_assert_eq(EXEC(0xba, 1, 0, 0x31, 0xc0, 0xb9, 1, 0, 0xf7, 0xf1), X86_EXC_DE);
    cr_assert_eq(R(RDX) & 0xffff, 1);
    /* aam 0: #DE */
    R(RSP) = STACK16;
    cr_assert_eq(EXEC(0xd4, 0x00), X86_EXC_DE);
}

/* ---- shifts and rotates ---- */

Test(alu64, shifts)
{
    /* mov rax, -1; shl eax, 0: flags untouched, the 32-bit result written */
    cr_assert_eq(EXEC(0x48, 0xc7, 0xc0, 0xff, 0xff, 0xff, 0xff, 0x31, 0xc9, 0xc1, 0xe0, 0x00), -1);
    cr_assert_eq(R(RAX), 0xffffffffu);
    cr_assert_eq(FL, X86_ZF | X86_PF);
    /* mov al, 0x81; stc; rcl al, 9: a full circle through CF, nothing moves */
    cr_assert_eq(EXEC(0xb0, 0x81, 0xf9, 0xc0, 0xd0, 0x09), -1);
    cr_assert_eq(R(RAX) & 0xff, 0x81);
    cr_assert(FL & X86_CF);
    /* clc; mov al, 1; rcr al, 1 -> 0, CF = 1, OF = 0 */
    cr_assert_eq(EXEC(0xf8, 0xb0, 0x01, 0xd0, 0xd8), -1);
    cr_assert_eq(R(RAX) & 0xff, 0);
    cr_assert_eq(FL & (X86_CF | X86_OF), X86_CF);
    /* stc; mov al, 0x40; rcl al, 2 -> 0x01 | CF=1 -> 0x02? : 1:01000000 -> 0x01 carry 1 */
    cr_assert_eq(EXEC(0xf9, 0xb0, 0x40, 0xc0, 0xd0, 0x02), -1);
    cr_assert_eq(R(RAX) & 0xff, 0x02);
    cr_assert_eq(FL & X86_CF, X86_CF);
    /* mov al, 0x81; rol al, 8: value unchanged, CF = LSB, OF = CF ^ MSB */
    cr_assert_eq(EXEC(0xb0, 0x81, 0xc0, 0xc0, 0x08), -1);
    cr_assert_eq(R(RAX) & 0xff, 0x81);
    cr_assert_eq(FL & (X86_CF | X86_OF), X86_CF);
    /* mov al, 0x01; ror al, 1 -> 0x80, CF = 1, OF = 1 */
    cr_assert_eq(EXEC(0xb0, 0x01, 0xd0, 0xc8), -1);
    cr_assert_eq(R(RAX) & 0xff, 0x80);
    cr_assert_eq(FL & (X86_CF | X86_OF), X86_CF | X86_OF);
    /* mov rax, 1<<63 (shl); sar rax, 63 -> -1, CF = 0 */
    cr_assert_eq(EXEC(0xb8, 1, 0, 0, 0, 0x48, 0xc1, 0xe0, 63, 0x48, 0xc1, 0xf8, 63), -1);
    cr_assert_eq(R(RAX), ~0ull);
    cr_assert_eq(FL & (X86_CF | X86_OF | X86_SF), X86_SF);
    /* mov eax, 0x81; mov cl, 33; shr eax, cl: count masked to 1 -> 0x40, CF, OF = 0 */
    cr_assert_eq(EXEC(0xb8, 0x81, 0, 0, 0, 0xb1, 33, 0xd3, 0xe8), -1);
    cr_assert_eq(R(RAX), 0x40);
    cr_assert_eq(FL & (X86_CF | X86_OF), X86_CF);
    /* mov al, 0x81; shr al, 1: OF = MSB of the operand */
    cr_assert_eq(EXEC(0xb0, 0x81, 0xd0, 0xe8), -1);
    cr_assert_eq(FL & (X86_CF | X86_OF), X86_CF | X86_OF);
    /* mov al, 0x40; shl al, 1 (d0 /6, the SAL alias): OF = 1, CF = 0 */
    cr_assert_eq(EXEC(0xb0, 0x40, 0xd0, 0xf0), -1);
    cr_assert_eq(R(RAX) & 0xff, 0x80);
    cr_assert_eq(FL & (X86_CF | X86_OF | X86_SF), X86_OF | X86_SF);
}

Test(alu64, shld_shrd)
{
    /* mov eax, 0x12345678; mov edx, 0x9abcdef0; shld eax, edx, 8; */
    cr_assert_eq(EXEC(0xb8, 0x78, 0x56, 0x34, 0x12, 0xba, 0xf0, 0xde, 0xbc, 0x9a,
                      0x0f, 0xa4, 0xd0, 0x08), -1);
    cr_assert_eq(R(RAX), 0x3456789a);
    cr_assert_eq(FL & X86_CF, 0);       /* last bit out: bit 24 of 0x12345678 = 0 */
    /* shrd rax, rdx, 4 with rax = 0x...78, rdx = 0x...f0 (64-bit) */
    R(RAX) = 0x1122334455667788ull;
    R(RDX) = 0x99aabbccddeeff00ull;
    cr_assert_eq(EXEC(0x48, 0x0f, 0xac, 0xd0, 0x04), -1);
    cr_assert_eq(R(RAX), 0x0112233445566778ull);
    cr_assert_eq(FL & X86_CF, X86_CF);  /* bit 3 of ...88 */
    /* 16-bit, count 20: dst:src:dst (Intel) -> shld ax, dx, 20 */
    R(RAX) = 0x1234;
    R(RDX) = 0xabcd;
    cr_assert_eq(EXEC(0x66, 0x0f, 0xa4, 0xd0, 20), -1);
    cr_assert_eq(R(RAX) & 0xffff, 0xbcd1);
}

/* ---- bit operations ---- */

Test(alu64, bt_memory_offsets)
{
    wr32(DATA, 0x80000000);
    wr32(DATA + 4, 0);
    /* mov ebx, DATA+4; mov ecx, -1; bt [rbx], ecx: bit 31 of the dword below */
    cr_assert_eq(EXEC(0xbb, 0x04, 0x00, 0x02, 0x00, 0xb9, 0xff, 0xff, 0xff, 0xff,
                      0x0f, 0xa3, 0x0b), -1);
    cr_assert_eq(FL & X86_CF, X86_CF);
    /* mov ebx, DATA; mov ecx, 33; bts [rbx], ecx -> bit 1 of DATA+4 */
    cr_assert_eq(EXEC(0xbb, 0x00, 0x00, 0x02, 0x00, 0xb9, 33, 0, 0, 0, 0x0f, 0xab, 0x0b), -1);
    cr_assert_eq(rd32(DATA + 4), 2);
    cr_assert_eq(FL & X86_CF, 0);
    /* btc word [rbx], 17 (imm: masked to the operand, bit 1) */
    cr_assert_eq(EXEC(0xbb, 0x04, 0x00, 0x02, 0x00, 0x66, 0x0f, 0xba, 0x3b, 17), -1);
    cr_assert_eq(rd32(DATA + 4), 0);
    cr_assert_eq(FL & X86_CF, X86_CF);
    /* btr rax, 63 on a register */
    R(RAX) = ~0ull;
    cr_assert_eq(EXEC(0x48, 0x0f, 0xba, 0xf0, 63), -1);
    cr_assert_eq(R(RAX), ~0ull >> 1);
}

Test(alu64, bsf_bsr_cnt)
{
    /* mov ecx, 0x00f0; bsf eax, ecx; bsr edx, ecx */
    cr_assert_eq(EXEC(0xb9, 0xf0, 0, 0, 0, 0x0f, 0xbc, 0xc1, 0x0f, 0xbd, 0xd1), -1);
    cr_assert_eq(R(RAX), 4);
    cr_assert_eq(R(RDX), 7);
    cr_assert_eq(FL & X86_ZF, 0);
    /* zero source: ZF, destination kept (32-bit: upper half cleared) */
    R(RAX) = 0x1234567812345678ull;
    cr_assert_eq(EXEC(0x31, 0xc9, 0x0f, 0xbc, 0xc1), -1);
    cr_assert_eq(R(RAX), 0x12345678);
    cr_assert(FL & X86_ZF);
    R(RAX) = 0x1234567812345678ull;
    cr_assert_eq(EXEC(0x31, 0xc9, 0x48, 0x0f, 0xbd, 0xc1), -1);
    cr_assert_eq(R(RAX), 0x1234567812345678ull);
    /* tzcnt/lzcnt/popcnt of 0 and of 0x00f0 */
    cr_assert_eq(EXEC(0x31, 0xc9, 0xf3, 0x0f, 0xbc, 0xc1), -1);
    cr_assert_eq(R(RAX), 32);
    cr_assert_eq(FL & (X86_CF | X86_ZF), X86_CF);
    cr_assert_eq(EXEC(0xb9, 0xf0, 0, 0, 0, 0xf3, 0x48, 0x0f, 0xbd, 0xc1), -1);
    cr_assert_eq(R(RAX), 56);
    cr_assert_eq(EXEC(0xb9, 0xf0, 0, 0, 0, 0x66, 0xf3, 0x0f, 0xb8, 0xc1), -1);
    cr_assert_eq(R(RAX) & 0xffff, 4);
    cr_assert_eq(FL, 0);
    cr_assert_eq(EXEC(0x31, 0xc9, 0xf3, 0x0f, 0xb8, 0xc1), -1);
    cr_assert_eq(FL, X86_ZF);
}

Test(alu64, bswap_movbe)
{
    R(RAX) = 0x11223344;
    R(RCX) = 0x0102030405060708ull;
    R(RDX) = 0xaaaabbbbccccddddull;
    /* bswap eax; bswap rcx; bswap dx (undefined: 0 in the low half) */
    cr_assert_eq(EXEC(0x0f, 0xc8, 0x48, 0x0f, 0xc9, 0x66, 0x0f, 0xca), -1);
    cr_assert_eq(R(RAX), 0x44332211);
    cr_assert_eq(R(RCX), 0x0807060504030201ull);
    cr_assert_eq(R(RDX), 0xaaaabbbbcccc0000ull);
    wr32(DATA, 0x11223344);
    /* mov ebx, DATA; movbe eax, [rbx]; movbe [rbx+4], eax; movbe cx, [rbx] */
    cr_assert_eq(EXEC(0xbb, 0x00, 0x00, 0x02, 0x00, 0x0f, 0x38, 0xf0, 0x03,
                      0x0f, 0x38, 0xf1, 0x43, 0x04, 0x66, 0x0f, 0x38, 0xf0, 0x0b), -1);
    cr_assert_eq(R(RAX), 0x44332211);
    cr_assert_eq(rd32(DATA + 4), 0x11223344);
    cr_assert_eq(R(RCX) & 0xffff, 0x4433);
}

/* ---- CMPXCHG XADD XCHG ---- */

Test(alu64, cmpxchg_xadd)
{
    wr32(DATA, 5);
    /* mov ebx, DATA; mov eax, 5; mov ecx, 9; lock cmpxchg [rbx], ecx */
    cr_assert_eq(EXEC(0xbb, 0x00, 0x00, 0x02, 0x00, 0xb8, 5, 0, 0, 0, 0xb9, 9, 0, 0, 0,
                      0xf0, 0x0f, 0xb1, 0x0b), -1);
    cr_assert_eq(rd32(DATA), 9);
    cr_assert(FL & X86_ZF);
    /* again: fails, EAX = 9 */
    cr_assert_eq(EXEC(0xb8, 5, 0, 0, 0, 0x0f, 0xb1, 0x0b), -1);
    cr_assert_eq(R(RAX), 9);
    cr_assert_eq(FL & X86_ZF, 0);
    /* register destination, failing: the destination keeps its upper half */
    R(RDX) = 0xffffffff00000001ull;
    cr_assert_eq(EXEC(0xb8, 5, 0, 0, 0, 0x0f, 0xb1, 0xca), -1);
    cr_assert_eq(R(RDX), 0xffffffff00000001ull);
    cr_assert_eq(R(RAX), 1);
    /* mov ecx, 3; lock xadd [rbx], ecx */
    cr_assert_eq(EXEC(0xb9, 3, 0, 0, 0, 0xf0, 0x0f, 0xc1, 0x0b), -1);
    cr_assert_eq(rd32(DATA), 12);
    cr_assert_eq(R(RCX), 9);
    /* xchg [rbx], eax with eax = 7 */
    cr_assert_eq(EXEC(0xb8, 7, 0, 0, 0, 0x87, 0x03), -1);
    cr_assert_eq(rd32(DATA), 7);
    cr_assert_eq(R(RAX), 12);
}

Test(alu64, cmpxchg8b_16b)
{
    wr64(DATA, 0x1111111122222222ull);
    wr64(DATA + 8, 0x3333333344444444ull);
    R(RAX) = 0x22222222;
    R(RDX) = 0x11111111;
    R(RBX) = 0xaaaaaaaa;
    R(RCX) = 0xbbbbbbbb;
    R(RSI) = DATA;
    /* cmpxchg8b [rsi] */
    cr_assert_eq(EXEC(0x0f, 0xc7, 0x0e), -1);
    cr_assert_eq(rd64(DATA), 0xbbbbbbbbaaaaaaaaull);
    cr_assert(FL & X86_ZF);
    /* cmpxchg16b [rsi]: fails, RDX:RAX = memory */
    cr_assert_eq(EXEC(0x48, 0x0f, 0xc7, 0x0e), -1);
    cr_assert_eq(R(RAX), 0xbbbbbbbbaaaaaaaaull);
    cr_assert_eq(R(RDX), 0x3333333344444444ull);
    cr_assert_eq(FL & X86_ZF, 0);
    /* succeeds now */
    cr_assert_eq(EXEC(0x48, 0x0f, 0xc7, 0x0e), -1);
    cr_assert_eq(rd64(DATA), R(RBX));
    cr_assert_eq(rd64(DATA + 8), R(RCX));
    /* misaligned: #GP(0) */
    R(RSI) = DATA + 8;
    cr_assert_eq(EXEC(0x48, 0x0f, 0xc7, 0x0e), X86_EXC_GP);
}

Test(alu64, xchg_nop_cmov)
{
    /* 90 is NOP even with the upper half set; 49 90 is xchg r8, rax */
    R(RAX) = 0xffffffff00000001ull;
    R(R8) = 2;
    cr_assert_eq(EXEC(0x90, 0x49, 0x90), -1);
    cr_assert_eq(R(RAX), 2);
    cr_assert_eq(R(R8), 0xffffffff00000001ull);
    /* xor eax, eax (ZF); cmovnz ecx, edx: not taken but ECX zero-extends */
    R(RCX) = 0xffffffff00000003ull;
    cr_assert_eq(EXEC(0x31, 0xc0, 0x0f, 0x45, 0xca), -1);
    cr_assert_eq(R(RCX), 3);
    /* cmovz rcx, rdx */
    R(RDX) = 0x123456789ull;
    cr_assert_eq(EXEC(0x31, 0xc0, 0x48, 0x0f, 0x44, 0xca), -1);
    cr_assert_eq(R(RCX), 0x123456789ull);
}

Test(alu64, moves)
{
    /* mov rax, imm64; movsxd rcx, eax; movzx edx, ah; movsx esi, al */
    cr_assert_eq(EXEC(0x48, 0xb8, 0x80, 0x90, 0x00, 0x80, 0x55, 0x44, 0x33, 0x22,
                      0x48, 0x63, 0xc8, 0x0f, 0xb6, 0xd4, 0x0f, 0xbe, 0xf0), -1);
    cr_assert_eq(R(RAX), 0x2233445580009080ull);
    cr_assert_eq(R(RCX), 0xffffffff80009080ull);
    cr_assert_eq(R(RDX), 0x90);
    cr_assert_eq(R(RSI), 0xffffff80u);
    /* lea eax, [rcx + rcx*2 + 5] with 64-bit address, 32-bit operand */
    R(RCX) = 0x100000000ull;
    cr_assert_eq(EXEC(0x8d, 0x44, 0x49, 0x05), -1);
    cr_assert_eq(R(RAX), 5);
    /* cbw / cwde / cdqe / cqo */
    R(RAX) = 0x80;
    cr_assert_eq(EXEC(0x66, 0x98, 0x98, 0x48, 0x98, 0x48, 0x99), -1);
    cr_assert_eq(R(RAX), ~0ull << 7);
    cr_assert_eq(R(RDX), ~0ull);
    /* mov al, [moffs64]; mov [moffs64], eax */
    ram[DATA] = 0x5a;
    cr_assert_eq(EXEC(0xa0, 0x00, 0x00, 0x02, 0, 0, 0, 0, 0,
                      0xa3, 0x10, 0x00, 0x02, 0, 0, 0, 0, 0), -1);
    cr_assert_eq(R(RAX) & 0xff, 0x5a);
    cr_assert_eq(rd32(DATA + 16), (uint32_t)R(RAX));
    /* lahf / sahf: stc; lahf; clc; sahf -> CF back */
    cr_assert_eq(EXEC(0xf9, 0x9f, 0xf8, 0x9e), -1);
    cr_assert(FL & X86_CF);
    cr_assert_eq((R(RAX) >> 8) & 0x3, 3);
}

/* ---- control transfers and the stack ---- */

Test(alu64, branches_count)
{
    /*  xor ecx, ecx
     *  jz +0           (taken)        1
     *  jnz +0          (not taken)    2
     *  jz rel32 +0                    3
     *  jrcxz +0        (taken)        4
     *  mov cl, 2
     *  loop $          (taken, not)   5 6
     *  loope +0        (ZF from xor)  7
     *  loopne +0                      8
     *  jmp +0          (unconditional, not counted) */
    cr_assert_eq(EXEC(0x31, 0xc9, 0x74, 0x00, 0x75, 0x00, 0x0f, 0x84, 0, 0, 0, 0, 0xe3, 0x00,
                      0xb1, 0x02, 0xe2, 0xfe, 0xe1, 0x00, 0xe0, 0x00, 0xeb, 0x00), -1);
    cr_assert_eq(x86_cpu_ops.brcount(cpu), 8);
    cr_assert_eq(cpu->icount, 12);
    cr_assert_eq(R(RCX), ~1ull);          /* LOOPE/LOOPNE count RCX down from 0 */
}

Test(alu16, loop_address_size)
{
    /* mov ecx, 0x10001 (66); loop $: only CX counts -> one pass */
    cr_assert_eq(EXEC(0x66, 0xb9, 0x01, 0x00, 0x01, 0x00, 0xe2, 0xfe), -1);
    cr_assert_eq(R(RCX), 0x10000);
    cr_assert_eq(x86_cpu_ops.brcount(cpu), 1);
    /* 67 e2: ECX counts */
    cr_assert_eq(EXEC(0x66, 0xb9, 0x02, 0x00, 0x01, 0x00, 0x67, 0xe2, 0xfd), -1);
    cr_assert_eq(R(RCX), 0);
    cr_assert_eq(x86_cpu_ops.brcount(cpu), 1 + 0x10002);
}

Test(alu64, call_ret_push_pop)
{
    /*  call +1 ; (skipped) hlt? no: call to next+1 over an int3 byte
     *  0: e8 01 00 00 00   call 6
     *  5: cc
     *  6: 58               pop rax (return address)
     *  7: 6a ff            push -1
     *  9: 5b               pop rbx
     *  a: 48 8d 0d 03 00 00 00  lea rcx, [rip+3]
     * 11: ff e1            jmp rcx  -> 0x16
     * 13: cc cc cc
     * 16: 66 6a 05         push word 5
     * 19: 66 5a            pop dx */
    R(RDX) = 0;
    cr_assert_eq(EXEC(0xe8, 1, 0, 0, 0, 0xcc, 0x58, 0x6a, 0xff, 0x5b,
                      0x48, 0x8d, 0x0d, 0x05, 0, 0, 0, 0xff, 0xe1, 0xcc, 0xcc, 0xcc,
                      0x66, 0x6a, 0x05, 0x66, 0x5a), -1);
    cr_assert_eq(R(RAX), CODE + 5);
    cr_assert_eq(R(RBX), ~0ull);
    cr_assert_eq(R(RDX), 5);
    cr_assert_eq(R(RSP), STACK);
    /* push rsp pushes the old value; pop [rsp] addresses with the new RSP */
    cr_assert_eq(EXEC(0x54, 0x8f, 0x04, 0x24), -1);
    cr_assert_eq(R(RSP), STACK);
    cr_assert_eq(rd64(STACK), STACK);
    /* ret 8 */
    wr64(STACK - 16, CODE + 20);
    R(RSP) = STACK - 16;
    memset(ram + CODE, 0xcc, 32);
    ram[CODE + 20] = 0xf4;
    ram[CODE] = 0xc2;
    ram[CODE + 1] = 8;
    ram[CODE + 2] = 0;
    x86_code_flush(cpu);
    cpu->rip = CODE;
    cpu->halted = false;
    cr_assert_eq(x86_cpu_ops.run(cpu, 100), CPU_EXIT_IDLE);
    cr_assert_eq(cpu->rip, CODE + 21);
    cr_assert_eq(R(RSP), STACK);
}

Test(alu64, noncanonical_jump)
{
    /* mov rax, 1<<47; jmp rax: #GP on the jump */
    cr_assert_eq(EXEC(0xb8, 1, 0, 0, 0, 0x48, 0xc1, 0xe0, 47, 0xff, 0xe0), X86_EXC_GP);
    cr_assert_eq(rd64(STACK - 40), CODE + 9);
}

Test(alu32, enter_leave_pusha)
{
    R(RBP) = 0x7000;
    wr32(0x7000 - 4, 0xaaaa);
    /* enter 16, 2; leave */
    cr_assert_eq(EXEC(0xc8, 0x10, 0x00, 0x02), -1);
    uint32_t frame = STACK - 4;
    cr_assert_eq(R(RBP), frame);
    cr_assert_eq(rd32(STACK - 4), 0x7000);
    cr_assert_eq(rd32(STACK - 8), 0xaaaa);     /* [old ebp - 4] */
    cr_assert_eq(rd32(STACK - 12), frame);
    cr_assert_eq(R(RSP), STACK - 12 - 16);
    cr_assert_eq(EXEC(0xc9), -1);
    cr_assert_eq(R(RSP), STACK);
    cr_assert_eq(R(RBP), 0x7000);
    /* pusha; popa round trip with a changed register */
    R(RAX) = 1; R(RCX) = 2; R(RDX) = 3; R(RBX) = 4; R(RSI) = 6; R(RDI) = 7;
    cr_assert_eq(EXEC(0x60, 0xb8, 9, 0, 0, 0, 0x61), -1);
    cr_assert_eq(R(RAX), 1);
    cr_assert_eq(R(RDI), 7);
    cr_assert_eq(R(RSP), STACK);
    cr_assert_eq(rd32(STACK - 20), STACK);     /* ESP slot: before PUSHA */
}

Test(alu32, bcd_and_bound)
{
    /* mov al, 0x79; add al, 0x35; daa -> 0x14, CF */
    cr_assert_eq(EXEC(0xb0, 0x79, 0x04, 0x35, 0x27), -1);
    cr_assert_eq(R(RAX) & 0xff, 0x14);
    cr_assert(FL & X86_CF);
    /* mov al, 0x10; sub al, 0x01; das -> 0x09 */
    cr_assert_eq(EXEC(0xb0, 0x10, 0x2c, 0x01, 0x2f), -1);
    cr_assert_eq(R(RAX) & 0xff, 0x09);
    /* mov ax, 0x0009; add al, 3; aaa -> 0x0102 */
    cr_assert_eq(EXEC(0x66, 0xb8, 0x09, 0x00, 0x04, 0x03, 0x37), -1);
    cr_assert_eq(R(RAX) & 0xffff, 0x0102);
    cr_assert(FL & X86_CF);
    /* mov al, 47; aam -> 0x0407; aad -> 47 */
    cr_assert_eq(EXEC(0xb0, 47, 0xd4, 0x0a), -1);
    cr_assert_eq(R(RAX) & 0xffff, 0x0407);
    cr_assert_eq(EXEC(0xd5, 0x0a), -1);
    cr_assert_eq(R(RAX) & 0xffff, 47);
    /* salc after stc */
    cr_assert_eq(EXEC(0xf9, 0xd6), -1);
    cr_assert_eq(R(RAX) & 0xff, 0xff);
    /* bound eax, [DATA] with bounds 0..10 */
    wr32(DATA, 0);
    wr32(DATA + 4, 10);
    R(RAX) = 10;
    cr_assert_eq(EXEC(0x62, 0x05, 0x00, 0x00, 0x02, 0x00), -1);
    R(RAX) = 11;
    cr_assert_eq(EXEC(0x62, 0x05, 0x00, 0x00, 0x02, 0x00), X86_EXC_BR);
}

Test(alu32, xlat_and_jump_limit)
{
    ram[DATA + 5] = 0x77;
    R(RBX) = DATA;
    R(RAX) = 5;
    cr_assert_eq(EXEC(0xd7), -1);
    cr_assert_eq(R(RAX) & 0xff, 0x77);
    /* A near jump beyond the CS limit faults on the jump. */
    cpu->seg[X86_CS].limit = 0xfffff;
    R(RAX) = 0x100000;
    cr_assert_eq(EXEC(0xff, 0xe0), X86_EXC_GP);
    cr_assert_eq(rd32(STACK - 12), CODE);
}

/* ---- BMI ---- */

Test(alu64, bmi)
{
    R(RCX) = 0xf0f0;
    R(RDX) = 0xff00;
    /* andn eax, ecx, edx */
    cr_assert_eq(EXEC(0xc4, 0xe2, 0x70, 0xf2, 0xc2), -1);
    cr_assert_eq(R(RAX), 0x0f00);
    /* blsr eax, ecx; blsi ebx... (blsmsk /2 into eax) */
    cr_assert_eq(EXEC(0xc4, 0xe2, 0x78, 0xf3, 0xc9), -1);
    cr_assert_eq(R(RAX), 0xf0e0);
    cr_assert_eq(FL & (X86_CF | X86_ZF), 0);
    cr_assert_eq(EXEC(0xc4, 0xe2, 0x78, 0xf3, 0xd9), -1);   /* blsi eax, ecx */
    cr_assert_eq(R(RAX), 0x10);
    cr_assert_eq(FL & X86_CF, X86_CF);
    /* pdep eax, ecx, edx: deposit the low bits of ecx into edx's mask */
    R(RCX) = 0x5;
    cr_assert_eq(EXEC(0xc4, 0xe2, 0x73, 0xf5, 0xc2), -1);
    cr_assert_eq(R(RAX), 0x0500);
    /* pext eax, ecx, edx with ecx = 0xa5a5 */
    R(RCX) = 0xa5a5;
    cr_assert_eq(EXEC(0xc4, 0xe2, 0x72, 0xf5, 0xc2), -1);
    cr_assert_eq(R(RAX), 0xa5);
    /* mulx rax, rcx, rbx: rdx * rbx */
    R(RDX) = 1ull << 63;
    R(RBX) = 4;
    cr_assert_eq(EXEC(0xc4, 0xe2, 0xf3, 0xf6, 0xc3), -1);
    cr_assert_eq(R(RAX), 2);
    cr_assert_eq(R(RCX), 0);
    /* shlx eax, edx, ecx with ecx = 33 (masked to 1) */
    R(RDX) = 3;
    R(RCX) = 33;
    cr_assert_eq(EXEC(0xc4, 0xe2, 0x71, 0xf7, 0xc2), -1);
    cr_assert_eq(R(RAX), 6);
    /* rorx eax, ecx, 8 with ecx = 0x12345678 */
    R(RCX) = 0x12345678;
    cr_assert_eq(EXEC(0xc4, 0xe3, 0x7b, 0xf0, 0xc1, 0x08), -1);
    cr_assert_eq(R(RAX), 0x78123456);
    /* bzhi eax, edx, ecx: index 4; index 40 sets CF */
    R(RDX) = 0xff;
    R(RCX) = 4;
    cr_assert_eq(EXEC(0xc4, 0xe2, 0x70, 0xf5, 0xc2), -1);
    cr_assert_eq(R(RAX), 0xf);
    cr_assert_eq(FL & X86_CF, 0);
    R(RCX) = 40;
    cr_assert_eq(EXEC(0xc4, 0xe2, 0x70, 0xf5, 0xc2), -1);
    cr_assert_eq(R(RAX), 0xff);
    cr_assert_eq(FL & X86_CF, X86_CF);
    /* bextr eax, edx, ecx: start 4, length 4 */
    R(RDX) = 0xabcd;
    R(RCX) = 0x0404;
    cr_assert_eq(EXEC(0xc4, 0xe2, 0x70, 0xf7, 0xc2), -1);
    cr_assert_eq(R(RAX), 0xc);
    /* VEX.L = 1: #UD */
    cr_assert_eq(EXEC(0xc4, 0xe2, 0x74, 0xf2, 0xc2), X86_EXC_UD);
}

/* ---- string instructions ---- */

Test(alu64, rep_movs_stos)
{
    for (unsigned i = 0; i < 10000; i++)
        ram[DATA + i] = (uint8_t)(i * 7);
    /* mov esi, DATA; mov edi, DATA+0x10000; mov ecx, 10000; rep movsb */
    cr_assert_eq(EXEC(0xbe, 0x00, 0x00, 0x02, 0x00, 0xbf, 0x00, 0x00, 0x03, 0x00,
                      0xb9, 0x10, 0x27, 0x00, 0x00, 0xf3, 0xa4), -1);
    cr_assert_eq(memcmp(ram + DATA, ram + DATA + 0x10000, 10000), 0);
    cr_assert_eq(R(RCX), 0);
    cr_assert_eq(R(RSI), DATA + 10000);
    cr_assert_eq(R(RDI), DATA + 0x10000 + 10000);
    cr_assert_eq(cpu->icount, 5);                /* the REP retires once */
    /* overlap by one byte forward: byte-by-byte semantics replicate */
    ram[DATA] = 'A';
    cr_assert_eq(EXEC(0xbe, 0x00, 0x00, 0x02, 0x00, 0xbf, 0x01, 0x00, 0x02, 0x00,
                      0xb9, 0x00, 0x20, 0x00, 0x00, 0xf3, 0xa4), -1);
    for (unsigned i = 0; i <= 0x2000; i++)
        cr_assert_eq(ram[DATA + i], 'A', "byte %u", i);
    /* overlap by 2 with dwords: element semantics */
    for (unsigned i = 0; i < 64; i++)
        ram[DATA + i] = (uint8_t)i;
    cr_assert_eq(EXEC(0xbe, 0x00, 0x00, 0x02, 0x00, 0xbf, 0x02, 0x00, 0x02, 0x00,
                      0xb9, 0x03, 0x00, 0x00, 0x00, 0xf3, 0xa5), -1);
    static const uint8_t want[14] = { 0, 1, 0, 1, 2, 3, 2, 3, 6, 7, 6, 7, 10, 11 };
    cr_assert_eq(memcmp(ram + DATA, want, sizeof(want)), 0);
    /* std; rep stosq backwards from DATA+8*999 with rax = pattern; cld */
    R(RAX) = 0x0123456789abcdefull;
    cr_assert_eq(EXEC(0xfd, 0xbf, 0x38, 0x1f, 0x02, 0x00, 0xb9, 0xe8, 0x03, 0x00, 0x00,
                      0xf3, 0x48, 0xab, 0xfc), -1);
    for (unsigned i = 0; i < 1000; i++)
        cr_assert_eq(rd64(DATA + 8 * i), R(RAX));
    cr_assert_eq(R(RDI), DATA - 8);
    /* std; rep movsw backwards, overlapping upwards (memmove-like) */
    for (unsigned i = 0; i < 16; i++)
        ram[DATA + i] = (uint8_t)i;
    cr_assert_eq(EXEC(0xfd, 0xbe, 0x06, 0x00, 0x02, 0x00, 0xbf, 0x08, 0x00, 0x02, 0x00,
                      0xb9, 0x04, 0x00, 0x00, 0x00, 0x66, 0xf3, 0xa5, 0xfc), -1);
    static const uint8_t want2[10] = { 0, 1, 0, 1, 2, 3, 4, 5, 6, 7 };
    cr_assert_eq(memcmp(ram + DATA, want2, sizeof(want2)), 0);
    /* rep with rcx = 0 does nothing and retires */
    R(RDI) = DATA;
    cr_assert_eq(EXEC(0x31, 0xc9, 0xf3, 0xaa), -1);
    cr_assert_eq(R(RDI), DATA);
}

Test(alu64, rep_scas_cmps_lods)
{
    memcpy(ram + DATA, "hello, world", 13);
    memcpy(ram + DATA + 32, "hello, there", 13);
    /* mov edi, DATA; mov ecx, -1; xor eax, eax; repne scasb -> strlen */
    cr_assert_eq(EXEC(0xbf, 0x00, 0x00, 0x02, 0x00, 0x48, 0xc7, 0xc1, 0xff, 0xff, 0xff, 0xff,
                      0x31, 0xc0, 0xf2, 0xae), -1);
    cr_assert_eq(~R(RCX) - 1, 12);
    cr_assert(FL & X86_ZF);
    /* mov esi, DATA; mov edi, DATA+32; mov ecx, 13; repe cmpsb */
    cr_assert_eq(EXEC(0xbe, 0x00, 0x00, 0x02, 0x00, 0xbf, 0x20, 0x00, 0x02, 0x00,
                      0xb9, 13, 0, 0, 0, 0xf3, 0xa6), -1);
    cr_assert_eq(R(RSI), DATA + 8);      /* stopped after 'w' vs 't' */
    cr_assert_eq(R(RCX), 5);
    cr_assert_eq(FL & (X86_ZF | X86_CF), 0);   /* 'w' > 't' */
    /* lodsd with a segment override is fine in 64-bit mode (FS base) */
    cpu->seg[X86_FS].base = DATA;
    wr32(DATA + 4, 0xcafe);
    R(RSI) = 4;
    cr_assert_eq(EXEC(0x64, 0xad), -1);
    cr_assert_eq(R(RAX), 0xcafe);
    cr_assert_eq(R(RSI), 8);
}

Test(alu16, rep_movs_wraps_si)
{
    /* 16-bit addresses wrap within the segment: SI from 0xfffe */
    cpu->seg[X86_DS].base = DATA;
    cpu->seg[X86_DS].selector = DATA >> 4;
    cpu->seg[X86_ES].base = 0x40000;
    cpu->seg[X86_ES].selector = 0x4000;
    ram[DATA + 0xfffe] = 1;
    ram[DATA + 0xffff] = 2;
    ram[DATA + 0] = 3;
    ram[DATA + 1] = 4;
    /* mov si, 0xfffe; xor di, di; mov cx, 4; rep movsb */
    cr_assert_eq(EXEC(0xbe, 0xfe, 0xff, 0x31, 0xff, 0xb9, 4, 0, 0xf3, 0xa4), -1);
    cr_assert_eq(ram[0x40000], 1);
    cr_assert_eq(ram[0x40003], 4);
    cr_assert_eq(R(RSI), 2);
    cr_assert_eq(R(RDI), 4);
}

/* A fault in the middle of a REP leaves the registers at that iteration. */
Test(alu64, rep_fault_midway)
{
    /* Unmap the second 2 MiB page; store from 0x1ffffc upwards. */
    wr64(PT + 0x2008, 0);
    x86_tlb_flush(cpu, false);
    R(RAX) = 0x11;
    cr_assert_eq(EXEC(0xbf, 0xf0, 0xff, 0x1f, 0x00, 0xb9, 0x20, 0x00, 0x00, 0x00, 0xf3, 0xaa),
                 X86_EXC_PF);
    cr_assert_eq(R(RCX), 0x10);
    cr_assert_eq(R(RDI), 0x200000);
    cr_assert_eq(cpu->cr2, 0x200000);
    cr_assert_eq(ram[0x1fffff], 0x11);
}

static bool stopped;
static const XInsn *stop(X86CPU *c, const XInsn *in)
{
    (void)c;
    (void)in;
    stopped = true;
    return NULL;
}

/* The handler itself: a long REP STOS stops after X86_REP_CHUNK
 * iterations without retiring and goes on where it stopped. */
Test(alu64, rep_restart)
{
    XInsn in[2];
    memset(in, 0, sizeof(in));
    const uint8_t code[] = { 0xf3, 0xaa };
    cr_assert_eq(x86_decode(&in[0], code, sizeof(code), CODE, cpu->hflags), 2);
    in[0].rem = 0;
    in[1].fn = stop;
    R(RCX) = 10000;
    R(RDI) = DATA;
    R(RAX) = 0x5a;
    for (int pass = 0; pass < 2; pass++) {
        cpu->icount = 1;                      /* the block's pre-added count */
        stopped = false;
        cr_assert_null(in[0].fn(cpu, &in[0]));
        cr_assert(!stopped);
        cr_assert_eq(cpu->icount, 0);
        cr_assert_eq(cpu->rip, CODE);
        cr_assert_eq(R(RCX), 10000 - 4096 * (pass + 1));
        cr_assert_eq(R(RDI), DATA + 4096 * (pass + 1));
    }
    cpu->icount = 1;
    cr_assert_null(in[0].fn(cpu, &in[0]));
    cr_assert(stopped);
    cr_assert_eq(cpu->icount, 1);
    cr_assert_eq(R(RCX), 0);
    cr_assert_eq(R(RDI), DATA + 10000);
    cr_assert_eq(ram[DATA + 9999], 0x5a);
    cr_assert_eq(ram[DATA + 10000], 0);
}

/* A REP STOS into the code that follows it: the slow path sees the code
 * page (no write TLB entry for it) and the later instruction is the new one. */
Test(alu64, rep_stos_over_code)
{
    /* mov edi, CODE+16; mov ecx, 2; mov al, 0x90; rep stosb; (CODE+16:) int3 int3 */
    const uint8_t prog[] = { 0xbf, 0x10, 0x00, 0x01, 0x00, 0xb9, 2, 0, 0, 0, 0xb0, 0x90,
                             0xf3, 0xaa, 0x90, 0x90, 0xcc, 0xcc };
    cr_assert_eq(exec_n(prog, sizeof(prog)), -1);
    cr_assert_eq(ram[CODE + 16], 0x90);
}
