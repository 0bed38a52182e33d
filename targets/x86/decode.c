/* The x86 decoder: legacy prefixes, REX, VEX, the four opcode maps,
 * ModRM/SIB/displacement in 16/32/64-bit addressing, immediates and
 * relative targets.  It alone decides an instruction's length.
 *
 * The opcode tables are the X86OpDef fragments of exec_*.c, sys.c, fpu.c
 * and sse.c, merged on first use into one candidate list per (map, opcode
 * byte).  An encoding is matched against its candidates by ModRM fields,
 * mode and prefixes (match()); the best-ranked candidate wins, and
 * x86_decode_check_tables() reports encodings that two entries claim. */
#include <glib.h>
#include <stdio.h>
#include <string.h>

#include "targets/x86/insn.h"

#define NSLOT (4 * 256)
#define MAX_LEN 15

typedef struct Slot {
    uint32_t first;          /* index of the first candidate in cands */
    uint16_t count;
    bool modrm;              /* the opcode is followed by a ModRM byte */
    bool mixed;              /* candidates disagree on ModRM (a table bug) */
} Slot;

typedef struct Tables {
    Slot slot[NSLOT];
    const X86OpDef **cands;
    unsigned ncands;
} Tables;

static Tables tables;

static const X86OpDef *const table_lists[] = {
    x86_ops_int, x86_ops_sys, x86_ops_fpu, x86_ops_sse,
};

/* How many consecutive opcode bytes an entry covers. */
static unsigned entry_span(const X86OpDef *e)
{
    return (e->flags & X86_D_CC) ? 16 : (e->flags & X86_D_PLUSR) ? 8 : 1;
}

static void build_tables(void)
{
    uint16_t count[NSLOT] = { 0 };
    unsigned total = 0;
    for (size_t t = 0; t < G_N_ELEMENTS(table_lists); t++) {
        for (const X86OpDef *e = table_lists[t]; e->fn; e++) {
            for (unsigned k = 0; k < entry_span(e); k++) {
                unsigned s = (unsigned)e->op + k;
                if (s < NSLOT) {
                    count[s]++;
                    total++;
                }
            }
        }
    }
    tables.cands = g_new(const X86OpDef *, total ? total : 1);
    tables.ncands = total;
    unsigned pos = 0;
    for (unsigned s = 0; s < NSLOT; s++) {
        tables.slot[s].first = pos;
        pos += count[s];
    }
    for (size_t t = 0; t < G_N_ELEMENTS(table_lists); t++) {
        for (const X86OpDef *e = table_lists[t]; e->fn; e++) {
            for (unsigned k = 0; k < entry_span(e); k++) {
                unsigned s = (unsigned)e->op + k;
                if (s >= NSLOT)
                    continue;
                Slot *sl = &tables.slot[s];
                bool m = (e->flags & X86_D_MODRM) != 0;
                if (sl->count && sl->modrm != m)
                    sl->mixed = true;
                sl->modrm |= m;
                tables.cands[sl->first + sl->count++] = e;
            }
        }
    }
}

static const Tables *get_tables(void)
{
    static gsize once;
    if (g_once_init_enter(&once)) {
        build_tables();
        g_once_init_leave(&once, 1);
    }
    return &tables;
}

/* What the candidates of one opcode are matched against. */
typedef struct Key {
    uint8_t modrm;
    bool mode64;
    bool vex;
    uint8_t eff;             /* X86_PF_* selecting SSE entries (VEX: pp) */
    uint8_t rep;             /* last F2/F3 as X86_PF_F2/F3, or X86_PF_NONE */
} Key;

/* 0: no match; 1: a prefix-less general entry (a REP prefix or 66 is then
 * an ordinary prefix); 2: an entry selected by its mandatory prefix. */
static int match(const X86OpDef *e, const Key *k)
{
    if (((e->flags & X86_D_VEX) != 0) != k->vex)
        return 0;
    if ((e->flags & X86_D_NO64) && k->mode64)
        return 0;
    if ((e->flags & X86_D_ONLY64) && !k->mode64)
        return 0;
    if (e->flags & X86_D_MODRM) {
        unsigned mod = k->modrm >> 6, reg = (k->modrm >> 3) & 7, rm = k->modrm & 7;
        if (e->reg >= 0 && (unsigned)e->reg != reg)
            return 0;
        if (e->mod == X86_M_REG && mod != 3)
            return 0;
        if (e->mod == X86_M_MEM && mod == 3)
            return 0;
        if (e->rm >= 0 && (mod != 3 || (unsigned)e->rm != rm))
            return 0;
    }
    if (k->vex || (e->flags & X86_D_SSE) || e->pfx == X86_PF_66)
        return e->pfx == k->eff ? 2 : 0;
    if (e->pfx != X86_PF_NONE)
        return e->pfx == k->rep ? 2 : 0;
    return 1;
}

/* The winning candidate (NULL for none); *ties counts the candidates that
 * rank equal with it (more than one is a table clash). */
static const X86OpDef *select_entry(const Tables *t, const Slot *s, const Key *k,
                                    unsigned *ties, const X86OpDef **second)
{
    const X86OpDef *best = NULL;
    int best_level = 0;
    unsigned n = 0;
    for (unsigned i = 0; i < s->count; i++) {
        const X86OpDef *e = t->cands[s->first + i];
        int l = match(e, k);
        if (l == 0 || l < best_level)
            continue;
        if (l > best_level) {
            best = e;
            best_level = l;
            n = 1;
            if (second)
                *second = NULL;
        } else {
            if (n == 1 && second)
                *second = e;
            n++;
        }
    }
    if (ties)
        *ties = n;
    return best;
}

/* ---- handlers the decoder hands out ---- */

const XInsn *x86_ud(X86CPU *cpu, const XInsn *in)
{
    return x86_raise(cpu, in, X86_EXC_UD, X86_NO_ERR);
}

/* More than 15 bytes (SDM vol. 2, 2.3.11: #GP(0)). */
static const XInsn *too_long(X86CPU *cpu, const XInsn *in)
{
    return x86_raise(cpu, in, X86_EXC_GP, 0);
}

const XInsn *x86_block_end(X86CPU *cpu, const XInsn *in)
{
    cpu->rip = in->pc;
    return NULL;
}

/* ---- decoding ---- */

static inline uint64_t rd_le(const uint8_t *p, unsigned n)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < n; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static inline uint8_t byte_reg(unsigned r, bool rex)
{
    return (uint8_t)(!rex && r >= 4 && r < 8 ? X86_AH + r - 4 : r);
}

/* 16-bit addressing: ModRM.rm -> base, index (SDM vol. 2, table 2-1). */
static const uint8_t base16[8] = { X86_RBX, X86_RBX, X86_RBP, X86_RBP,
                                   X86_RSI, X86_RDI, X86_RBP, X86_RBX };
static const uint8_t index16[8] = { X86_RSI, X86_RDI, X86_RSI, X86_RDI,
                                    X86_NONE, X86_NONE, X86_NONE, X86_NONE };

static unsigned fail(XInsn *out, XHandler *fn, unsigned len)
{
    out->fn = fn;
    out->dflags = X86_D_END;
    out->len = (uint8_t)len;
    return len;
}

unsigned x86_decode(XInsn *out, const uint8_t *b, unsigned avail, uint64_t rip,
                    uint32_t hflags)
{
    const Tables *t = get_tables();
    const bool m64 = (hflags & X86_HF_CS64) != 0;
    const bool d32 = m64 || (hflags & X86_HF_CS32);
    unsigned i = 0;
    unsigned rep = X86_PF_NONE, rex = 0, pfx = 0;
    int seg_ovr = -1;
    bool vex = false;
    unsigned vex_pp = 0, vex_w = 0, vex_l = 0, vvvv = 0;

    memset(out, 0, sizeof(*out));
    out->pc = rip;
    out->base = out->index = X86_NONE;

/* Bytes [i, i + n) are needed: over the limit is #GP, beyond avail asks
 * the engine for the next page. */
#define NEED(n)                                                                \
    do {                                                                       \
        if (i + (n) > MAX_LEN)                                                 \
            return fail(out, too_long, MAX_LEN);                               \
        if (i + (n) > avail)                                                   \
            return 0;                                                          \
    } while (0)

    for (;; i++) {
        NEED(1);
        uint8_t c = b[i];
        switch (c) {
        case 0xf0: pfx |= X86_P_LOCK; break;
        case 0xf2: rep = X86_PF_F2; break;
        case 0xf3: rep = X86_PF_F3; break;
        case 0x66: pfx |= X86_P_OPSIZE; break;
        case 0x67: pfx |= X86_P_ADSIZE; break;
        case 0x26: seg_ovr = X86_ES; break;
        case 0x2e: seg_ovr = X86_CS; break;
        case 0x36: seg_ovr = X86_SS; break;
        case 0x3e: seg_ovr = X86_DS; break;
        case 0x64: seg_ovr = X86_FS; break;
        case 0x65: seg_ovr = X86_GS; break;
        default:
            if (m64 && (c & 0xf0) == 0x40) {
                rex = c;     /* counts only if the opcode follows */
                continue;
            }
            goto prefixes_done;
        }
        rex = 0;             /* a legacy prefix after REX voids the REX */
    }
prefixes_done:
    if (rep == X86_PF_F3)
        pfx |= X86_P_REP;
    else if (rep == X86_PF_F2)
        pfx |= X86_P_REPNE;

    unsigned map = X86_MAP_1B;
    uint8_t c = b[i];
    if (c == 0xc4 || c == 0xc5) {
        /* Outside 64-bit mode these are LES/LDS unless the next byte has
         * mod == 11 (an invalid form of LES/LDS); in real and virtual-8086
         * mode there is no VEX at all (SDM vol. 2, 2.3.2). */
        NEED(2);
        bool pm = (hflags & (X86_HF_PE | X86_HF_VM)) == X86_HF_PE;
        if (m64 || (pm && (b[i + 1] >> 6) == 3))
            vex = true;
    }
    if (vex) {
        if (rex || rep || (pfx & (X86_P_OPSIZE | X86_P_LOCK)))
            return fail(out, x86_ud, i + 1);
        unsigned r, x = 1, bb = 1, mmmmm = 1, p2;
        if (c == 0xc5) {
            NEED(2);
            r = b[i + 1] >> 7;
            p2 = b[i + 1];
            i += 2;
        } else {
            NEED(3);
            r = b[i + 1] >> 7;
            x = (b[i + 1] >> 6) & 1;
            bb = (b[i + 1] >> 5) & 1;
            mmmmm = b[i + 1] & 0x1f;
            p2 = b[i + 2];
            vex_w = p2 >> 7;
            i += 3;
        }
        vvvv = (~p2 >> 3) & 15;
        vex_l = (p2 >> 2) & 1;
        vex_pp = p2 & 3;
        if (m64) {
            /* The inverted R/X/B act as REX.R/X/B. */
            rex = 0x40 | (!r) << 2 | (!x) << 1 | (!bb);
            if (vex_w)
                rex |= 8;
        } else {
            vvvv &= 7;
            rex = 0;
        }
        pfx |= X86_P_VEX;
        if (mmmmm < 1 || mmmmm > 3 || vex_l)
            return fail(out, x86_ud, i);
        map = mmmmm;
        NEED(1);
        c = b[i];
    } else if (c == 0x0f) {
        NEED(2);
        c = b[++i];
        map = X86_MAP_0F;
        if (c == 0x38 || c == 0x3a) {
            map = c == 0x38 ? X86_MAP_0F38 : X86_MAP_0F3A;
            NEED(2);
            c = b[++i];
        }
    }
    i++;                     /* past the opcode byte */
    if (rex) {
        pfx |= X86_P_REX;
        if (rex & 8)
            pfx |= X86_P_REXW;
    }
    out->pfx = (uint8_t)pfx;
    out->op = X86_OP(map, c);
    out->vreg = (uint8_t)vvvv;
    out->vexl = (uint8_t)vex_l;

    const Slot *s = &t->slot[map << 8 | c];
    if (s->count == 0)
        return fail(out, x86_ud, i);
    unsigned modrm = 0;
    if (s->modrm) {
        NEED(1);
        modrm = b[i++];
        /* MOV to/from CRn/DRn: mod is ignored, the operand is always a
         * register (SDM vol. 2, MOV-Move to/from Control Registers). */
        if (map == X86_MAP_0F && (c & 0xfc) == 0x20)
            modrm |= 0xc0;
    }
    Key k = {
        .modrm = (uint8_t)modrm,
        .mode64 = m64,
        .vex = vex,
        .eff = (uint8_t)(vex ? vex_pp
                         : rep ? rep : (pfx & X86_P_OPSIZE) ? X86_PF_66 : X86_PF_NONE),
        .rep = (uint8_t)rep,
    };
    const X86OpDef *e = select_entry(t, s, &k, NULL, NULL);
    if (!e)
        return fail(out, x86_ud, i);
    const unsigned f = e->flags;
    const bool opsize = (pfx & X86_P_OPSIZE) != 0;
    const bool rexw = (rex & 8) != 0;

    /* Operand and address size. */
    unsigned osize;
    if (f & X86_D_BYTE)
        osize = 1;
    else if (f & X86_D_SIZE16)
        osize = 2;
    else if (vex || (f & (X86_D_VEXW | X86_D_SSE)))
        osize = m64 && rexw ? 8 : 4;
    else if (m64 && (f & X86_D_F64))
        osize = 8;
    else if (m64)
        osize = rexw ? 8 : opsize ? 2 : (f & X86_D_DEF64) ? 8 : 4;
    else
        osize = d32 != opsize ? 4 : 2;
    const bool adsize = (pfx & X86_P_ADSIZE) != 0;
    const unsigned asize = m64 ? (adsize ? 4 : 8) : d32 != adsize ? 4 : 2;
    out->osize = (uint8_t)osize;
    out->asize = (uint8_t)asize;
    out->fn = e->fn;
    out->dflags = (uint16_t)f;
    out->cc = (uint8_t)((f & X86_D_CC) ? (c & 15) : (c & 7));

    /* Segment: FS/GS overrides always count; the others only outside
     * 64-bit mode, where the default is not flat. */
    int seg = X86_DS;
    bool ovr = seg_ovr >= 0 && (!m64 || seg_ovr >= X86_FS);

    /* Registers. */
    const bool anyrex = rex != 0 || vex;
    const unsigned rexr = (rex & 4) << 1, rexx = (rex & 2) << 2, rexb = (rex & 1) << 3;
    bool riprel = false;
    if (f & X86_D_MODRM) {
        unsigned mod = modrm >> 6;
        out->mod = (uint8_t)mod;
        out->reg = (uint8_t)(((modrm >> 3) & 7) | rexr);
        out->rm = (uint8_t)((modrm & 7) | rexb);
        if ((pfx & X86_P_LOCK) && (!(f & X86_D_LOCK) || mod == 3))
            return fail(out, x86_ud, i);
        if (mod != 3) {
            unsigned rm = modrm & 7, dsize = mod == 1 ? 1 : mod == 2 ? asize == 2 ? 2 : 4 : 0;
            if (asize == 2) {
                if (mod == 0 && rm == 6) {
                    dsize = 2;
                } else {
                    out->base = base16[rm];
                    out->index = index16[rm];
                    if (rm == 2 || rm == 3 || rm == 6)
                        seg = X86_SS;
                }
            } else {
                unsigned base = rm;
                bool sib = rm == 4;
                if (sib) {
                    NEED(1);
                    unsigned sb = b[i++];
                    unsigned idx = ((sb >> 3) & 7) | rexx;
                    out->scale = (uint8_t)(sb >> 6);
                    out->index = (uint8_t)(idx == 4 ? X86_NONE : idx);
                    base = sb & 7;
                }
                if (mod == 0 && base == 5) {
                    dsize = 4;
                    riprel = m64 && !sib;
                } else {
                    base |= rexb;
                    out->base = (uint8_t)base;
                    if (base == X86_RSP || base == X86_RBP)
                        seg = X86_SS;
                }
            }
            if (dsize) {
                NEED(dsize);
                out->disp = (int64_t)x86_sext(rd_le(b + i, dsize), dsize);
                i += dsize;
            }
        }
    } else {
        out->mod = 3;
        if ((pfx & X86_P_LOCK))
            return fail(out, x86_ud, i);
        if (f & X86_D_PLUSR)
            out->reg = out->rm = (uint8_t)((c & 7) | rexb);
    }
    if (f & X86_D_BYTE) {
        out->reg = byte_reg(out->reg, anyrex);
        if (out->mod == 3)
            out->rm = byte_reg(out->rm, anyrex);
    } else if ((f & X86_D_RMBYTE) && out->mod == 3) {
        out->rm = byte_reg(out->rm, anyrex);
    }

    /* Immediates. */
    switch (e->imm) {
    case X86_I_B:
        NEED(1);
        out->imm = x86_sext(b[i], 1);
        i += 1;
        break;
    case X86_I_UB:
        NEED(1);
        out->imm = b[i];
        i += 1;
        break;
    case X86_I_W:
        NEED(2);
        out->imm = rd_le(b + i, 2);
        i += 2;
        break;
    case X86_I_Z: {
        unsigned n = osize == 2 ? 2 : 4;
        NEED(n);
        out->imm = x86_sext(rd_le(b + i, n), n);
        i += n;
        break;
    }
    case X86_I_V:
        NEED(osize);
        out->imm = rd_le(b + i, osize);
        i += osize;
        break;
    case X86_I_WB:
        NEED(3);
        out->imm = rd_le(b + i, 2);
        out->imm2 = b[i + 2];
        i += 3;
        break;
    case X86_I_FAR: {
        unsigned n = osize == 2 ? 2 : 4;
        NEED(n + 2);
        out->imm = rd_le(b + i, n);
        out->imm2 = rd_le(b + i + n, 2);
        i += n + 2;
        break;
    }
    case X86_I_MOFFS:
        NEED(asize);
        out->disp = (int64_t)rd_le(b + i, asize);
        out->mod = 0;
        i += asize;
        break;
    case X86_I_REL8:
    case X86_I_RELZ: {
        unsigned n = e->imm == X86_I_REL8 ? 1 : osize == 2 ? 2 : 4;
        NEED(n);
        uint64_t target = rip + i + n + x86_sext(rd_le(b + i, n), n);
        i += n;
        if (osize == 2)
            target &= 0xffff;
        else if (osize == 4 && !m64)
            target &= 0xffffffff;
        out->imm = target;
        break;
    }
    default:
        break;
    }
#undef NEED

    if (riprel) {
        uint64_t a = rip + i + (uint64_t)out->disp;
        out->disp = (int64_t)(asize == 4 ? (uint32_t)a : a);
    }
    out->seg = (uint8_t)(ovr ? seg_ovr : seg);
    out->len = (uint8_t)i;
    /* A variant specialised for this form (insn.h: X86Fast): register
     * forms in any mode; memory forms with 64-bit addressing through a
     * segment without a base, or 32-bit addressing through a flat ES, SS
     * or DS (X86_HF_FLAT32; CS is left out: it is not writable there). */
    if (e->fast && (osize == 4 || osize == 8)) {
        bool flat_mem = m64 ? asize == 8 && out->seg < X86_FS
                            : (hflags & X86_HF_FLAT32) && asize == 4 &&
                              (out->seg == X86_ES || out->seg == X86_SS || out->seg == X86_DS);
        XHandler *v = out->mod == 3 ? e->fast->reg[osize == 8]
                    : flat_mem ? e->fast->mem[osize == 8] : NULL;
        if (v)
            out->fn = v;
    }
    return i;
}

/* ---- table check ---- */

static const char *map_name(unsigned map)
{
    static const char *const names[] = { "", "0F ", "0F 38 ", "0F 3A " };
    return names[map & 3];
}

static const char *const pf_name[] = { "", "66 ", "F3 ", "F2 " };

int x86_decode_check_tables(char *msg, size_t n)
{
    const Tables *t = get_tables();
    int problems = 0;
    size_t used = 0;
    if (n)
        msg[0] = 0;
#define REPORT(...)                                                            \
    do {                                                                       \
        if (problems++ < 8 && used < n) {                                      \
            int w = snprintf(msg + used, n - used, __VA_ARGS__);               \
            if (w > 0)                                                         \
                used += (size_t)w < n - used ? (size_t)w : n - used - 1;       \
        }                                                                      \
    } while (0)

    /* Entries that cannot be right whatever else is in the tables. */
    for (size_t l = 0; l < G_N_ELEMENTS(table_lists); l++) {
        for (const X86OpDef *e = table_lists[l]; e->fn; e++) {
            unsigned span = entry_span(e), byte = e->op & 0xff;
            if ((e->op >> 8) > X86_MAP_0F3A || (byte & (span - 1)) ||
                ((e->flags & X86_D_PLUSR) && (e->flags & X86_D_CC)) ||
                e->reg > 7 || e->rm > 7 ||
                (e->imm == X86_I_MOFFS && (e->flags & X86_D_MODRM)) ||
                e->pfx > X86_PF_F2 || e->imm > X86_I_RELZ)
                REPORT("bad entry '%s' (op %03x)\n", e->name ? e->name : "?", e->op);
            /* .rm applies to register forms only: an .rm without .mod =
             * X86_M_REG is most likely a forgotten .rm = -1. */
            else if ((e->flags & X86_D_MODRM) && e->rm >= 0 && e->mod != X86_M_REG)
                REPORT("entry '%s' (op %03x): .rm = %d without .mod = X86_M_REG "
                       "(forgot .rm = -1?)\n", e->name ? e->name : "?", e->op, e->rm);
        }
    }

    for (unsigned sl = 0; sl < NSLOT; sl++) {
        const Slot *s = &t->slot[sl];
        if (!s->count)
            continue;
        unsigned map = sl >> 8, byte = sl & 0xff;
        if (s->mixed)
            REPORT("%s%02X: entries disagree on ModRM\n", map_name(map), byte);
        bool clash = false;
        for (unsigned modrm = 0; modrm < (s->modrm ? 256u : 1u) && !clash; modrm++) {
            for (unsigned v = 0; v < 20 && !clash; v++) {
                /* v < 12: legacy (66 x rep x mode); else VEX (pp x mode). */
                Key k = { .modrm = (uint8_t)modrm, .mode64 = v & 1 };
                if (v < 12) {
                    unsigned rep = (v >> 1) % 3, op66 = v / 6;
                    k.rep = (uint8_t)(rep ? rep + 1 : 0);
                    k.eff = (uint8_t)(k.rep ? k.rep : op66 ? X86_PF_66 : X86_PF_NONE);
                } else {
                    k.vex = true;
                    k.eff = (uint8_t)((v - 12) >> 1);
                }
                unsigned ties;
                const X86OpDef *second = NULL;
                const X86OpDef *e = select_entry(t, s, &k, &ties, &second);
                if (ties > 1) {
                    clash = true;
                    REPORT("%s%s%s%02X modrm %02X (%s-bit mode): '%s' and '%s'\n",
                           k.vex ? "VEX " : "", pf_name[k.eff], map_name(map), byte,
                           modrm, k.mode64 ? "64" : "16/32", e->name ? e->name : "?",
                           second && second->name ? second->name : "?");
                }
            }
        }
    }
    if (problems > 8 && used + 1 < n)
        snprintf(msg + used, n - used, "... %d problems in all\n", problems);
#undef REPORT
    return problems;
}
