/* Local APIC (xAPIC mode, one CPU), after the Intel SDM vol. 3 chapter
 * "Advanced Programmable Interrupt Controller".
 *
 * The CPU side: the LAPIC drives the CPU's INTR through an IrqLine and its
 * NMI through a callback; the CPU acknowledges INTR with lapic_intr_ack.
 * The board side: the 8259 INTR output goes to lapic_lint0 (ExtINT or
 * virtual wire), the IOAPIC (and MSI) call lapic_deliver. */
#ifndef TANDEM_LAPIC_H
#define TANDEM_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "vmm/device.h"

typedef struct Machine Machine;
typedef struct Lapic Lapic;

#define LAPIC_BASE       0xfee00000ull
#define LAPIC_MMIO_SIZE  0x1000
/* Version 0x14 (integrated xAPIC), 6 LVT entries (max LVT entry 5: timer,
 * thermal, performance, LINT0, LINT1, error; no CMCI), no EOI-broadcast
 * suppression. */
#define LAPIC_VERSION    0x00050014u
/* The timer counts at 1 GHz / divide: one tick per divide virtual ns. */
#define LAPIC_TIMER_HZ   1000000000ull

/* IA32_APIC_BASE bits. */
#define LAPIC_BASE_BSP   0x100ull
#define LAPIC_BASE_EN    0x800ull

/* Delivery modes (ICR, LVT, IOAPIC redirection entries, MSI). */
enum {
    LAPIC_DM_FIXED = 0, LAPIC_DM_LOWEST = 1, LAPIC_DM_SMI = 2,
    LAPIC_DM_NMI = 4, LAPIC_DM_INIT = 5, LAPIC_DM_SIPI = 6, LAPIC_DM_EXTINT = 7,
};

/* Maps the LAPIC at LAPIC_BASE in m->as.  intr is the CPU's INTR input
 * (level); nmi(nmi_opaque) raises an NMI on the CPU.  Returns NULL
 * (machine_set_error) on failure. */
Lapic *lapic_create(Machine *m, IrqLine intr, void (*nmi)(void *opaque),
                    void *nmi_opaque);

/* The 8259: ack() runs its INTA cycle and returns the vector; pending()
 * says whether it still has an interrupt to give (NULL: trust its INTR
 * level).  Used for LINT0 in ExtINT mode, ExtINT messages from the IOAPIC
 * and, with the APIC globally disabled, for every acknowledge. */
void lapic_set_extint(Lapic *l, int (*ack)(void *), bool (*pending)(void *),
                      void *opaque);
/* Called with the vector on an EOI for a level-triggered interrupt (the
 * IOAPIC's EOI broadcast; ioapic_create registers itself here). */
void lapic_set_eoi_cb(Lapic *l, void (*eoi)(void *opaque, int vector),
                      void *opaque);

/* IA32_APIC_BASE.  Clearing EN (global disable) returns the APIC to its
 * power-up state and makes LINT0/LINT1 the CPU's INTR/NMI pins, as on a CPU
 * without an APIC.  The base address is stored and read back, but the
 * registers stay at LAPIC_BASE (relocation is not modelled; no PC firmware
 * or OS moves it).  BSP stays set. */
void lapic_set_base(Lapic *l, uint64_t msr);
uint64_t lapic_get_base(const Lapic *l);

/* TPR (8 bits).  MOV to CR8 is lapic_set_tpr(l, cr8 << 4); MOV from CR8 is
 * lapic_get_tpr(l) >> 4. */
void lapic_set_tpr(Lapic *l, uint8_t tpr);
uint8_t lapic_get_tpr(const Lapic *l);

/* One line on what can hold an interrupt back (TPR, in-service and
 * requested vectors, the timer), for a guest that cannot wake up. */
void lapic_describe(const Lapic *l, GString *s);

/* The CPU side: INTR is high exactly when this is true. */
bool lapic_intr_pending(Lapic *l);
/* INTA: moves the highest deliverable IRR vector to ISR and returns it,
 * runs the 8259's acknowledge for ExtINT, returns the spurious vector when
 * nothing is deliverable any more (-1 with the APIC globally disabled and
 * no 8259). */
int lapic_intr_ack(Lapic *l);

/* An interrupt message from the IOAPIC or an MSI, already known to be for
 * this APIC (lapic_match_dest).  level: level-triggered (sets TMR, EOI is
 * broadcast); assert: false for a deassert message (INIT level de-assert;
 * for ExtINT, the 8259's INTR going low).  INIT, SIPI and SMI are ignored:
 * the CPU model has no wait-for-SIPI or SMM state. */
void lapic_deliver(Lapic *l, int vector, int delivery_mode, bool level, bool assert);
/* Whether an interrupt message for dest (physical APIC ID, or logical with
 * the LDR/DFR) reaches this APIC. */
bool lapic_match_dest(const Lapic *l, uint8_t dest, bool logical);

/* The LINT0 and LINT1 pins (the 8259 INTR output; LINT1 is the NMI pin).
 * Polarity bits are kept but not applied: the line level is the asserted
 * state, as devices drive IrqLines. */
IrqLine lapic_lint0(Lapic *l);
IrqLine lapic_lint1(Lapic *l);

#endif
