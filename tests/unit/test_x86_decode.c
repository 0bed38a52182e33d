/* The x86 decoder (targets/x86/decode.c): prefixes, REX, VEX, ModRM/SIB in
 * 16/32/64-bit addressing, RIP-relative operands, immediates, relative
 * targets, the 15-byte limit, LOCK, mode-only opcodes, mandatory prefixes,
 * and the consistency of the merged opcode tables. */
#include <criterion/criterion.h>
#include <string.h>
#include <strings.h>

#include "targets/x86/insn.h"

#define M16 0u
#define M32 (X86_HF_CS32 | X86_HF_SS32 | X86_HF_PE)
#define M64 (X86_HF_CS64 | X86_HF_LMA | X86_HF_PE)

static XInsn in;

static unsigned dec_n(uint32_t hf, uint64_t rip, const uint8_t *b, unsigned n)
{
    return x86_decode(&in, b, n, rip, hf);
}

/* Decode the listed bytes (all of them available). */
#define DEC(hf, rip, ...)                                                      \
    dec_n(hf, rip, (const uint8_t[]){ __VA_ARGS__ },                           \
          sizeof((const uint8_t[]){ __VA_ARGS__ }))

/* The handler of the table entry named `name` (any of the four tables). */
static XHandler *fn_of(const char *name)
{
    const X86OpDef *const lists[] = { x86_ops_int, x86_ops_sys, x86_ops_fpu, x86_ops_sse };
    for (size_t l = 0; l < 4; l++)
        for (const X86OpDef *e = lists[l]; e->fn; e++)
            if (e->name && !strcasecmp(e->name, name))
                return e->fn;
    cr_assert_fail("no table entry named '%s'", name);
    return NULL;
}

static void assert_mem(uint8_t base, uint8_t index, uint8_t scale, int64_t disp, uint8_t seg)
{
    cr_assert_neq(in.mod, 3);
    cr_assert_eq(in.base, base, "base %u, expected %u", in.base, base);
    cr_assert_eq(in.index, index, "index %u, expected %u", in.index, index);
    cr_assert_eq(in.scale, scale);
    cr_assert_eq(in.disp, disp, "disp %#llx, expected %#llx", (unsigned long long)in.disp,
                 (unsigned long long)disp);
    cr_assert_eq(in.seg, seg, "seg %u, expected %u", in.seg, seg);
}

Test(decode, tables_consistent)
{
    char msg[2048];
    int n = x86_decode_check_tables(msg, sizeof(msg));
    cr_assert_eq(n, 0, "%d opcode-table problems:\n%s", n, msg);
}

/* ---- 64-bit addressing ---- */

Test(decode, modrm_sib_64)
{
    /* mov rax, [rsp+8] */
    cr_assert_eq(DEC(M64, 0x1000, 0x48, 0x8b, 0x44, 0x24, 0x08), 5);
    cr_assert_eq(in.len, 5);
    cr_assert_eq(in.osize, 8);
    cr_assert_eq(in.asize, 8);
    cr_assert_eq(in.reg, X86_RAX);
    cr_assert(in.pfx & X86_P_REXW);
    assert_mem(X86_RSP, X86_NONE, 0, 8, X86_SS);
    cr_assert_eq(in.op, X86_OP(X86_MAP_1B, 0x8b));
    cr_assert_eq(in.pc, 0x1000);

    /* mov r9, [rbp+rcx*4-0x10] */
    cr_assert_eq(DEC(M64, 0, 0x4c, 0x8b, 0x4c, 0x8d, 0xf0), 5);
    cr_assert_eq(in.reg, X86_R9);
    assert_mem(X86_RBP, X86_RCX, 2, -16, X86_SS);

    /* mov eax, [r12]: R12 is not a stack base (QEMU's rule) */
    cr_assert_eq(DEC(M64, 0, 0x41, 0x8b, 0x04, 0x24), 4);
    cr_assert_eq(in.osize, 4);
    assert_mem(X86_R12, X86_NONE, 0, 0, X86_DS);

    /* mov eax, [r13+0]: mod 01 needed for an R13 base */
    cr_assert_eq(DEC(M64, 0, 0x41, 0x8b, 0x45, 0x00), 4);
    assert_mem(X86_R13, X86_NONE, 0, 0, X86_DS);

    /* mov eax, [r12*1+0x10] via REX.X: index 12 is valid, base none */
    cr_assert_eq(DEC(M64, 0, 0x42, 0x8b, 0x04, 0x25, 0x10, 0, 0, 0), 8);
    assert_mem(X86_NONE, X86_R12, 0, 0x10, X86_DS);

    /* mov eax, [0x10] via SIB (no base, no index): not RIP-relative */
    cr_assert_eq(DEC(M64, 0x5000, 0x8b, 0x04, 0x25, 0x10, 0, 0, 0), 7);
    assert_mem(X86_NONE, X86_NONE, 0, 0x10, X86_DS);
}

Test(decode, rip_relative)
{
    /* mov eax, [rip+0x10] */
    cr_assert_eq(DEC(M64, 0x1000, 0x8b, 0x05, 0x10, 0, 0, 0), 6);
    assert_mem(X86_NONE, X86_NONE, 0, 0x1016, X86_DS);
    /* with an immediate after the displacement: mov dword [rip-4], 1 */
    cr_assert_eq(DEC(M64, 0x1000, 0xc7, 0x05, 0xfc, 0xff, 0xff, 0xff, 1, 0, 0, 0), 10);
    assert_mem(X86_NONE, X86_NONE, 0, 0x1000 + 10 - 4, X86_DS);
    cr_assert_eq(in.imm, 1);
    /* 67: EIP-relative, wrapped to 32 bits */
    cr_assert_eq(DEC(M64, 0x200000000ull, 0x67, 0x8b, 0x05, 0xf0, 0xff, 0xff, 0xff), 7);
    cr_assert_eq(in.asize, 4);
    assert_mem(X86_NONE, X86_NONE, 0, 0xfffffff7ll, X86_DS);
    /* 32-bit mode: mod 00 rm 101 is an absolute disp32 */
    cr_assert_eq(DEC(M32, 0x1000, 0x8b, 0x05, 0x00, 0x20, 0, 0), 6);
    assert_mem(X86_NONE, X86_NONE, 0, 0x2000, X86_DS);
}

Test(decode, rex_rules)
{
    /* REX then 66: the REX is void */
    cr_assert_eq(DEC(M64, 0, 0x48, 0x66, 0x8b, 0x00), 4);
    cr_assert_eq(in.osize, 2);
    cr_assert_eq(in.pfx & X86_P_REX, 0);
    /* 66 then REX.W: W wins */
    cr_assert_eq(DEC(M64, 0, 0x66, 0x48, 0x8b, 0x00), 4);
    cr_assert_eq(in.osize, 8);
    /* mov al, spl vs mov al, ah */
    cr_assert_eq(DEC(M64, 0, 0x40, 0x88, 0xe0), 3);
    cr_assert_eq(in.reg, X86_RSP);
    cr_assert_eq(in.rm, X86_RAX);
    cr_assert_eq(in.osize, 1);
    cr_assert_eq(DEC(M64, 0, 0x88, 0xe0), 2);
    cr_assert_eq(in.reg, X86_AH);
    /* mov r12b, 5 / mov ah, 5 (B0+r) */
    cr_assert_eq(DEC(M64, 0, 0x41, 0xb4, 0x05), 3);
    cr_assert_eq(in.reg, X86_R12);
    cr_assert_eq(in.imm & 0xff, 5);
    cr_assert_eq(DEC(M32, 0, 0xb4, 0x05), 2);
    cr_assert_eq(in.reg, X86_AH);
    /* push r8: default 64, 66 gives 16 */
    cr_assert_eq(DEC(M64, 0, 0x41, 0x50), 2);
    cr_assert_eq(in.reg, X86_R8);
    cr_assert_eq(in.osize, 8);
    cr_assert_eq(DEC(M64, 0, 0x66, 0x41, 0x50), 3);
    cr_assert_eq(in.osize, 2);
    /* mov rax, imm64 */
    cr_assert_eq(DEC(M64, 0, 0x48, 0xb8, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11), 10);
    cr_assert_eq(in.imm, 0x1122334455667788ull);
    /* 40..4F are INC/DEC outside 64-bit mode */
    cr_assert_eq(DEC(M32, 0, 0x48, 0x8b, 0x00), 1);
}

/* ---- 16/32-bit addressing ---- */

Test(decode, modrm_16)
{
    /* mov ax, [bp+si+4] */
    cr_assert_eq(DEC(M16, 0, 0x8b, 0x42, 0x04), 3);
    cr_assert_eq(in.osize, 2);
    cr_assert_eq(in.asize, 2);
    assert_mem(X86_RBP, X86_RSI, 0, 4, X86_SS);
    /* mov cx, [0x1234] */
    cr_assert_eq(DEC(M16, 0, 0x8b, 0x0e, 0x34, 0x12), 4);
    cr_assert_eq(in.reg, X86_RCX);
    assert_mem(X86_NONE, X86_NONE, 0, 0x1234, X86_DS);
    /* mov ax, [bp-2]: disp8 sign-extended, SS */
    cr_assert_eq(DEC(M16, 0, 0x8b, 0x46, 0xfe), 3);
    assert_mem(X86_RBP, X86_NONE, 0, -2, X86_SS);
    /* mov ax, [bx+di+0x8000] */
    cr_assert_eq(DEC(M16, 0, 0x8b, 0x81, 0x00, 0x80), 4);
    assert_mem(X86_RBX, X86_RDI, 0, -0x8000, X86_DS);
    /* mov ax, es:[bx] */
    cr_assert_eq(DEC(M16, 0, 0x26, 0x8b, 0x07), 3);
    assert_mem(X86_RBX, X86_NONE, 0, 0, X86_ES);
    /* the last segment override wins */
    cr_assert_eq(DEC(M16, 0, 0x26, 0x2e, 0x8b, 0x07), 4);
    cr_assert_eq(in.seg, X86_CS);
    /* 66 67 in 16-bit code: mov eax, [esp+8] */
    cr_assert_eq(DEC(M16, 0, 0x66, 0x67, 0x8b, 0x44, 0x24, 0x08), 6);
    cr_assert_eq(in.osize, 4);
    cr_assert_eq(in.asize, 4);
    assert_mem(X86_RSP, X86_NONE, 0, 8, X86_SS);
    /* 32-bit: SIB without base or index */
    cr_assert_eq(DEC(M32, 0, 0x8b, 0x04, 0x25, 0x00, 0x10, 0, 0), 7);
    assert_mem(X86_NONE, X86_NONE, 0, 0x1000, X86_DS);
    /* 32-bit: mov ax, word [ebx+esi*8] with 66 */
    cr_assert_eq(DEC(M32, 0, 0x66, 0x8b, 0x04, 0xf3), 4);
    cr_assert_eq(in.osize, 2);
    assert_mem(X86_RBX, X86_RSI, 3, 0, X86_DS);
}

Test(decode, segment_overrides_64)
{
    /* CS/DS/ES/SS overrides do not change the default in 64-bit mode */
    cr_assert_eq(DEC(M64, 0, 0x2e, 0x8b, 0x45, 0x00), 4);
    cr_assert_eq(in.seg, X86_SS);
    cr_assert_eq(DEC(M64, 0, 0x26, 0x8b, 0x00), 3);
    cr_assert_eq(in.seg, X86_DS);
    cr_assert_eq(DEC(M64, 0, 0x64, 0x8b, 0x45, 0x00), 4);
    cr_assert_eq(in.seg, X86_FS);
    cr_assert_eq(DEC(M64, 0, 0x65, 0x8b, 0x00), 3);
    cr_assert_eq(in.seg, X86_GS);
}

/* ---- immediates, moffs, branches ---- */

Test(decode, immediates)
{
    /* mov word [rsp+8], 0x1234 */
    cr_assert_eq(DEC(M64, 0, 0x66, 0xc7, 0x44, 0x24, 0x08, 0x34, 0x12), 7);
    cr_assert_eq(in.osize, 2);
    cr_assert_eq(in.imm & 0xffff, 0x1234);
    /* add rax, -1 (Iz sign-extended) */
    cr_assert_eq(DEC(M64, 0, 0x48, 0x05, 0xff, 0xff, 0xff, 0xff), 6);
    cr_assert_eq(in.imm, ~0ull);
    /* add ecx, -2 (83 /0 ib) */
    cr_assert_eq(DEC(M32, 0, 0x83, 0xc1, 0xfe), 3);
    cr_assert_eq(in.mod, 3);
    cr_assert_eq(in.rm, X86_RCX);
    cr_assert_eq(in.imm, (uint64_t)-2);
    /* enter 0x10, 1 */
    cr_assert_eq(DEC(M32, 0, 0xc8, 0x10, 0x00, 0x01), 4);
    cr_assert_eq(in.imm, 0x10);
    cr_assert_eq(in.imm2, 1);
    /* jmp far ptr16:32 / ptr16:16 */
    cr_assert_eq(DEC(M32, 0, 0xea, 0x78, 0x56, 0x34, 0x12, 0x00, 0xf0), 7);
    cr_assert_eq(in.imm, 0x12345678);
    cr_assert_eq(in.imm2, 0xf000);
    cr_assert_eq(DEC(M16, 0, 0xea, 0x34, 0x12, 0x00, 0xf0), 5);
    cr_assert_eq(in.imm, 0x1234);
    cr_assert_eq(in.imm2, 0xf000);
}

Test(decode, moffs)
{
    cr_assert_eq(DEC(M64, 0, 0xa1, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11), 9);
    cr_assert_eq(in.asize, 8);
    assert_mem(X86_NONE, X86_NONE, 0, 0x1122334455667788ll, X86_DS);
    cr_assert_eq(DEC(M64, 0, 0x67, 0xa1, 0x44, 0x33, 0x22, 0x11), 6);
    cr_assert_eq(in.disp, 0x11223344);
    cr_assert_eq(DEC(M32, 0, 0x64, 0xa1, 0x78, 0x56, 0x34, 0x12), 6);
    assert_mem(X86_NONE, X86_NONE, 0, 0x12345678, X86_FS);
    cr_assert_eq(DEC(M16, 0, 0xa0, 0x34, 0x12), 3);
    cr_assert_eq(in.osize, 1);
    cr_assert_eq(in.disp, 0x1234);
    cr_assert_eq(DEC(M16, 0, 0x67, 0xa0, 0x78, 0x56, 0x34, 0x12), 6);
    cr_assert_eq(in.disp, 0x12345678);
}

Test(decode, relative_targets)
{
    /* jmp short in 16-bit code wraps at 64 KiB */
    cr_assert_eq(DEC(M16, 0xfff0, 0xeb, 0x20), 2);
    cr_assert_eq(in.imm, 0x12);
    /* backwards past 0 */
    cr_assert_eq(DEC(M16, 0x0002, 0xeb, 0xf0), 2);
    cr_assert_eq(in.imm, 0xfff4);
    /* 32-bit wrap */
    cr_assert_eq(DEC(M32, 0xfffffff0, 0xeb, 0x20), 2);
    cr_assert_eq(in.imm, 0x12);
    /* call rel32 to itself */
    cr_assert_eq(DEC(M32, 0x1000, 0xe8, 0xfb, 0xff, 0xff, 0xff), 5);
    cr_assert_eq(in.imm, 0x1000);
    /* 66 call in 32-bit code: rel16, target wrapped to 16 bits */
    cr_assert_eq(DEC(M32, 0x12340, 0x66, 0xe8, 0x00, 0x10), 4);
    cr_assert_eq(in.osize, 2);
    cr_assert_eq(in.imm, 0x3344);
    /* jcc rel32 in 64-bit mode: no wrap, sign-extended */
    cr_assert_eq(DEC(M64, 0, 0x0f, 0x84, 0x00, 0x00, 0x00, 0x80), 6);
    cr_assert_eq(in.imm, 0xffffffff80000006ull);
    cr_assert_eq(in.cc, 4);
    /* 66 is ignored by near branches in 64-bit mode (Intel) */
    cr_assert_eq(DEC(M64, 0x10000, 0x66, 0xeb, 0x10), 3);
    cr_assert_eq(in.imm, 0x10013);
    cr_assert_eq(in.osize, 8);
    /* jg rel8: the condition comes from the opcode */
    cr_assert_eq(DEC(M32, 0, 0x7f, 0x00), 2);
    cr_assert_eq(in.cc, 15);
    cr_assert_eq(in.imm, 2);
    cr_assert(in.dflags & X86_D_END);
}

/* ---- limits and invalid encodings ---- */

Test(decode, length_limit)
{
    uint8_t b[16];
    memset(b, 0x66, sizeof(b));
    /* 14 prefixes + NOP: 15 bytes, fine */
    b[14] = 0x90;
    cr_assert_eq(dec_n(M32, 0, b, 15), 15);
    cr_assert_neq(in.fn, x86_ud);
    XHandler *nop = in.fn;
    /* 15 prefixes + NOP: #GP, not #UD */
    b[14] = 0x66;
    b[15] = 0x90;
    cr_assert_eq(dec_n(M32, 0, b, 16), 15);
    cr_assert_neq(in.fn, x86_ud);
    cr_assert_neq(in.fn, nop);
    cr_assert(in.dflags & X86_D_END);
    /* a long instruction over the limit: 5 prefixes + 11 bytes */
    cr_assert_eq(DEC(M64, 0, 0x66, 0x66, 0x66, 0x66, 0x66, 0x48, 0xc7, 0x84, 0x24, 0, 1, 0, 0,
                     0x78, 0x56, 0x34, 0x12), 15);
    cr_assert_neq(in.fn, x86_ud);
    /* not enough bytes yet: 0, the engine fetches more */
    cr_assert_eq(dec_n(M64, 0, (const uint8_t[]){ 0x48, 0x8b }, 2), 0);
    cr_assert_eq(dec_n(M32, 0, (const uint8_t[]){ 0xe8, 0, 0 }, 3), 0);
    cr_assert_eq(dec_n(M32, 0, (const uint8_t[]){ 0xc4 }, 1), 0);
    cr_assert_eq(dec_n(M16, 0, (const uint8_t[]){ 0x8b, 0x0e, 0x34 }, 3), 0);
}

Test(decode, lock)
{
    /* lock add [rax], eax */
    cr_assert_eq(DEC(M64, 0, 0xf0, 0x01, 0x00), 3);
    cr_assert_neq(in.fn, x86_ud);
    cr_assert(in.pfx & X86_P_LOCK);
    /* lock add eax, eax: register operand */
    DEC(M64, 0, 0xf0, 0x01, 0xc0);
    cr_assert_eq(in.fn, x86_ud);
    /* lock mov [rax], eax: not lockable */
    DEC(M64, 0, 0xf0, 0x89, 0x00);
    cr_assert_eq(in.fn, x86_ud);
    /* lock nop */
    DEC(M32, 0, 0xf0, 0x90);
    cr_assert_eq(in.fn, x86_ud);
}

Test(decode, modes)
{
    /* push es: invalid in 64-bit mode */
    DEC(M64, 0, 0x06);
    cr_assert_eq(in.fn, x86_ud);
    cr_assert_eq(DEC(M32, 0, 0x06), 1);
    cr_assert_neq(in.fn, x86_ud);
    /* 63: ARPL outside 64-bit mode, MOVSXD in it */
    cr_assert_eq(DEC(M32, 0, 0x63, 0xc1), 2);
    XHandler *arpl = in.fn;
    cr_assert_neq(arpl, x86_ud);
    cr_assert_eq(DEC(M64, 0, 0x48, 0x63, 0xc1), 3);
    cr_assert_neq(in.fn, x86_ud);
    cr_assert_neq(in.fn, arpl);
    cr_assert_eq(in.osize, 8);
}

Test(decode, mov_cr_ignores_mod)
{
    /* mov eax, cr0 / mov cr3, rax written with mod 00: still registers,
     * no displacement */
    cr_assert_eq(DEC(M32, 0, 0x0f, 0x20, 0x00), 3);
    cr_assert_eq(in.mod, 3);
    cr_assert_eq(in.rm, X86_RAX);
    cr_assert_eq(in.reg, 0);
    cr_assert_neq(in.fn, x86_ud);
    cr_assert_eq(DEC(M64, 0, 0x0f, 0x22, 0x58), 3);
    cr_assert_eq(in.mod, 3);
    cr_assert_eq(in.reg, 3);
}

Test(decode, string_prefixes)
{
    /* the last of F2/F3 counts */
    cr_assert_eq(DEC(M32, 0, 0xf2, 0xf3, 0xa4), 3);
    cr_assert(in.pfx & X86_P_REP);
    cr_assert_eq(in.pfx & X86_P_REPNE, 0);
    cr_assert_eq(in.osize, 1);
    cr_assert_eq(in.seg, X86_DS);
    cr_assert_eq(DEC(M16, 0, 0xf3, 0x26, 0xf2, 0xa7), 4);
    cr_assert(in.pfx & X86_P_REPNE);
    cr_assert_eq(in.seg, X86_ES);
    cr_assert_eq(in.osize, 2);
}

Test(decode, mandatory_prefixes)
{
    /* bsf / tzcnt / popcnt: F3 selects, 66 still sets the size */
    DEC(M64, 0, 0x0f, 0xbc, 0xc1);
    cr_assert_eq(in.fn, fn_of("bsf"));
    DEC(M64, 0, 0xf3, 0x0f, 0xbc, 0xc1);
    cr_assert_eq(in.fn, fn_of("tzcnt"));
    cr_assert_eq(DEC(M64, 0, 0x66, 0xf3, 0x0f, 0xb8, 0xc1), 5);
    cr_assert_eq(in.fn, fn_of("popcnt"));
    cr_assert_eq(in.osize, 2);
    /* 0F B8 without F3 is not POPCNT */
    DEC(M64, 0, 0x0f, 0xb8, 0xc1);
    cr_assert_eq(in.fn, x86_ud);
    /* SSE: the prefix picks the entry exactly, F3/F2 over 66, no osize change */
    XHandler *f[4];
    DEC(M64, 0, 0x0f, 0x10, 0xc1);
    f[0] = in.fn;
    DEC(M64, 0, 0x66, 0x0f, 0x10, 0xc1);
    f[1] = in.fn;
    cr_assert_eq(in.osize, 4);
    DEC(M64, 0, 0xf3, 0x0f, 0x10, 0xc1);
    f[2] = in.fn;
    DEC(M64, 0, 0xf2, 0x0f, 0x10, 0xc1);
    f[3] = in.fn;
    /* movups and movupd may share a handler; movss and movsd differ */
    for (int i = 0; i < 4; i++)
        cr_assert_neq(f[i], x86_ud);
    cr_assert_neq(f[2], f[0]);
    cr_assert_neq(f[3], f[0]);
    cr_assert_neq(f[3], f[2]);
    DEC(M64, 0, 0x66, 0xf3, 0x0f, 0x10, 0xc1);
    cr_assert_eq(in.fn, f[2]);
    /* three-byte maps: pshufb (66 0F 38 00), palignr (66 0F 3A 0F ib) */
    cr_assert_eq(DEC(M64, 0, 0x66, 0x0f, 0x38, 0x00, 0xc1), 5);
    cr_assert_eq(in.op, X86_OP(X86_MAP_0F38, 0x00));
    cr_assert_eq(DEC(M64, 0, 0x66, 0x0f, 0x3a, 0x0f, 0xc1, 0x08), 6);
    cr_assert_eq(in.op, X86_OP(X86_MAP_0F3A, 0x0f));
    cr_assert_eq(in.imm, 8);
}

Test(decode, vex)
{
    /* andn eax, ecx, ebx: C4 RXB=111 map 0F38, W0 vvvv=~1 L0 pp0 */
    cr_assert_eq(DEC(M64, 0, 0xc4, 0xe2, 0x70, 0xf2, 0xc3), 5);
    XHandler *andn = in.fn;
    cr_assert_neq(andn, x86_ud);
    cr_assert(in.pfx & X86_P_VEX);
    cr_assert_eq(in.op, X86_OP(X86_MAP_0F38, 0xf2));
    cr_assert_eq(in.vreg, 1);
    cr_assert_eq(in.reg, X86_RAX);
    cr_assert_eq(in.rm, X86_RBX);
    cr_assert_eq(in.osize, 4);
    /* W1: 64-bit; inverted R and B reach r8..r15; vvvv=~7 */
    cr_assert_eq(DEC(M64, 0, 0xc4, 0x42, 0xc0, 0xf2, 0xc3), 5);
    cr_assert_eq(in.osize, 8);
    cr_assert_eq(in.vreg, 7);
    cr_assert_eq(in.reg, X86_R8);
    cr_assert_eq(in.rm, X86_R11);
    /* 32-bit mode: C4 with mod == 11 after it is VEX ... */
    cr_assert_eq(DEC(M32, 0, 0xc4, 0xe2, 0x70, 0xf2, 0xc3), 5);
    cr_assert_eq(in.fn, andn);
    /* ... but never in real or virtual-8086 mode: LES with a register
     * operand, #UD */
    DEC(0, 0, 0xc4, 0xe2, 0x70, 0xf2, 0xc3);
    cr_assert_eq(in.fn, x86_ud);
    DEC(X86_HF_PE | X86_HF_VM, 0, 0xc5, 0xf8, 0x10, 0xc1);
    cr_assert_eq(in.fn, x86_ud);
    /* ... else LES */
    cr_assert_eq(DEC(M32, 0, 0xc4, 0x00), 2);
    cr_assert_neq(in.fn, x86_ud);
    cr_assert_eq(in.op, X86_OP(X86_MAP_1B, 0xc4));
    /* VEX after 66, F3, REX, or with L=1: #UD */
    DEC(M64, 0, 0x66, 0xc4, 0xe2, 0x70, 0xf2, 0xc3);
    cr_assert_eq(in.fn, x86_ud);
    DEC(M64, 0, 0xf3, 0xc4, 0xe2, 0x70, 0xf2, 0xc3);
    cr_assert_eq(in.fn, x86_ud);
    DEC(M64, 0, 0x40, 0xc4, 0xe2, 0x70, 0xf2, 0xc3);
    cr_assert_eq(in.fn, x86_ud);
    DEC(M64, 0, 0xc4, 0xe2, 0x74, 0xf2, 0xc3);
    cr_assert_eq(in.fn, x86_ud);
    /* a VEX form nobody implements (vmovups): #UD */
    DEC(M64, 0, 0xc5, 0xf8, 0x10, 0xc1);
    cr_assert_eq(in.fn, x86_ud);
    /* the same opcode without VEX is another instruction (0F38 F2 is empty) */
    DEC(M64, 0, 0x0f, 0x38, 0xf2, 0xc3);
    cr_assert_neq(in.fn, andn);
}
