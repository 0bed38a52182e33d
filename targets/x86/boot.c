/* Direct kernel loading on the pc board: the flat 32-bit entry state that
 * both the multiboot specification and Linux's 32-bit boot protocol ask
 * for. */
#include "targets/x86/boot.h"

#include <string.h>

#include "targets/x86/seg.h"
#include "vmm/error.h"
#include "vmm/loader.h"

#define FLAT_CODE 0x00cf9b000000ffffull
#define FLAT_DATA 0x00cf93000000ffffull

bool x86_boot_flat32(X86CPU *cpu, uint32_t gdt_base, uint16_t cs, uint16_t ds, uint32_t eip,
                     GError **err)
{
    uint8_t gdt[64];
    g_assert((cs & 7) == 0 && (ds & 7) == 0 && cs < sizeof(gdt) && ds < sizeof(gdt));
    memset(gdt, 0, sizeof(gdt));
    for (int i = 0; i < 8; i++) {
        gdt[cs + i] = (uint8_t)(FLAT_CODE >> (8 * i));
        gdt[ds + i] = (uint8_t)(FLAT_DATA >> (8 * i));
    }
    uint16_t limit = (uint16_t)((cs > ds ? cs : ds) + 7);
    if (!load_raw(cpu->as, gdt_base, gdt, limit + 1u, err))
        return false;
    cpu->cr0 |= X86_CR0_PE;
    for (int s = 0; s < X86_NSEG; s++)
        x86_seg_from_desc(&cpu->seg[s], s == X86_CS ? cs : ds,
                          s == X86_CS ? FLAT_CODE : FLAT_DATA);
    cpu->gdt.base = gdt_base;
    cpu->gdt.limit = limit;
    cpu->rip = eip;
    x86_set_eflags(cpu, 0x2, ~0ull);
    x86_update_hflags(cpu);
    x86_tlb_flush(cpu, false);
    x86_code_flush(cpu);
    return true;
}
