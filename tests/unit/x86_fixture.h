/* The machine fixture shared by the x86 unit tests (test_x86_*.c): a
 * Machine with RAM at 0 and an empty port space, an X86CPU on it, helpers
 * to place bytes in RAM and read them back, descriptor/gate builders,
 * mode switches and a run helper.
 *
 * The globals below are the fixture's state; every test file links its own
 * copy of x86_fixture.c, and Criterion runs each test in its own process.
 *
 * A test file that wants the standard protected-mode layout under its short
 * names (GDT, IDT, TSS, STK0, STK, CODE, HND) defines X86F_STD_NAMES before
 * including this header. */
#ifndef TANDEM_TESTS_UNIT_X86_FIXTURE_H
#define TANDEM_TESTS_UNIT_X86_FIXTURE_H

#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "targets/x86/insn.h"
#include "targets/x86/seg.h"
#include "vmm/machine.h"

extern Machine mach;
extern uint8_t *ram;        /* mach's RAM at guest-physical 0 */
extern X86CPU *cpu;

/* ---- set-up and tear-down ---- */

/* mach zeroed, its memory and port spaces initialised, ram_mib MiB of RAM
 * at 0 (none for 0; also recorded in mach.ram / mach.ram_size).  No CPU. */
void x86f_machine(unsigned ram_mib);
/* cpu = a 64-bit X86CPU on mach, in its reset state (x86_cpu_create
 * resets it). */
void x86f_cpu(void);
/* Both of the above. */
void x86f_setup(unsigned ram_mib);
/* Frees the CPU (created by x86f_cpu; set cpu = NULL after freeing one of
 * your own), the RAM and mach.error. */
void x86f_teardown(void);

/* Real mode with CS = 0 (base and selector), hflags updated; RIP unchanged. */
void x86f_cs0(void);

/* ---- RAM contents ---- */

static inline void put(uint64_t pa, const uint8_t *b, size_t n) { memcpy(ram + pa, b, n); }
/* A byte list as (pointer, length) arguments. */
#define BYTES(...) (const uint8_t[]){ __VA_ARGS__ }, sizeof((const uint8_t[]){ __VA_ARGS__ })
#define PUT(pa, ...) put(pa, BYTES(__VA_ARGS__))

static inline uint16_t rd16(uint64_t pa) { uint16_t v; memcpy(&v, ram + pa, 2); return v; }
static inline uint32_t rd32(uint64_t pa) { uint32_t v; memcpy(&v, ram + pa, 4); return v; }
static inline uint64_t rd64(uint64_t pa) { uint64_t v; memcpy(&v, ram + pa, 8); return v; }
static inline void wr16(uint64_t pa, uint16_t v) { memcpy(ram + pa, &v, 2); }
static inline void wr32(uint64_t pa, uint32_t v) { memcpy(ram + pa, &v, 4); }
static inline void wr64(uint64_t pa, uint64_t v) { memcpy(ram + pa, &v, 8); }

/* Run at most n instructions through CpuOps (stops at HLT: CPU_EXIT_IDLE). */
static inline CpuExit run(uint64_t n) { return x86_cpu_ops.run(cpu, n); }

/* xorshift64 pseudo-random numbers; every test process starts from the
 * same seed. */
uint64_t rnd(void);

/* ---- descriptors, gates, tables ---- */

/* A segment descriptor; flags nibble: 1 AVL, 2 L, 4 D/B, 8 G. */
uint64_t mkdesc(uint32_t base, uint32_t limit, unsigned type, unsigned dpl, unsigned flags,
                bool s);
/* The low quadword of a present gate (the high one of a 64-bit gate is
 * off >> 32). */
uint64_t mkgate(uint64_t off, uint16_t sel, unsigned type, unsigned dpl);
/* Gate vec of the IDT at idt: 8-byte entries, or 16-byte ones when lm. */
void idt_gate(uint64_t idt, unsigned vec, bool lm, uint64_t off, uint16_t sel, unsigned type,
              unsigned dpl);
/* Real-mode IVT entry v -> seg:off. */
void ivt(unsigned v, uint16_t seg, uint16_t off);
/* Identity map of the first 4 MiB with two 2 MiB pages: PML4 at pml4,
 * PDPT and PD in the next two pages; user-accessible when user. */
void map_4m(uint64_t pml4, bool user);

/* ---- segment registers and modes ---- */

/* Cached segment s: present code/data segment at base, byte-granular limit,
 * selector 0. */
void set_seg(int s, uint64_t base, uint32_t limit, uint8_t type, bool db);
/* Cached segment s: flat 4 GiB (page-granular), selector sel. */
void seg_flat(int s, uint16_t sel, uint8_t type, bool db, bool l);
/* Real mode: CR0 = 0, hflags 0, every segment at 0 with a 64 KiB limit;
 * TLB flushed. */
void real_mode(void);

/* ---- the standard protected-mode layout ---- */

#define X86F_GDT   0x0800u
#define X86F_IDT   0x1000u
#define X86F_TSS   0x3000u
#define X86F_STK0  0x7000u      /* ring-0 stack top (TSS) */
#define X86F_STK   0x9000u      /* current stack top */
#define X86F_CODE  0x10000u
#define X86F_HND   0x20000u     /* handler for vector v at HND + 16 * v: HLT */

#ifdef X86F_STD_NAMES
#define GDT   X86F_GDT
#define IDT   X86F_IDT
#define TSS   X86F_TSS
#define STK0  X86F_STK0
#define STK   X86F_STK
#define CODE  X86F_CODE
#define HND   X86F_HND
#endif

/* Selectors of std_gdt(). */
enum {
    S_CODE0 = 0x08, S_DATA0 = 0x10, S_CODE3 = 0x1b, S_DATA3 = 0x23, S_TSS = 0x28,
    S_CODE64 = 0x30, S_NP = 0x38, S_TSS64 = 0x40, S_CODE16 = 0x50,
};

/* x86f_setup with 4 MiB, real mode at 0000:CODE, every handler a HLT. */
void x86f_setup_std(void);
/* GDT entry idx. */
void gdt(unsigned idx, uint64_t d);
/* Flat ring-0/ring-3 code and data, the TSSes, 64-bit and 16-bit code and a
 * not-present segment; GDTR set. */
void std_gdt(void);
/* Segment register seg from GDT selector sel (marked accessed). */
void load(int seg, uint16_t sel);
/* 32-bit gate vec -> HND + 16 * vec in S_CODE0. */
void idt32(unsigned vec, unsigned type, unsigned dpl);
/* 32-bit protected mode at CPL cpl, flat segments, IDT with interrupt
 * gates for every vector (DPL 0) and a TSS with ESP0 = STK0. */
void enter_pm32(unsigned cpl);
/* (Re)start at CODE in protected mode; RAM was written behind the
 * CPU's back, so drop decoded blocks. */
void go(unsigned cpl);
/* Ran into the HLT of vector v's handler? */
void assert_in_handler(unsigned v);

#endif
