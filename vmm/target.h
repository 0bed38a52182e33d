/* Guest ISAs and their boards.  Each targets/<arch>/ exports TargetDesc
 * objects; the build generates the list (vmm/targets_gen.c), so nothing
 * outside targets/ names an ISA. */
#ifndef TANDEM_TARGET_H
#define TANDEM_TARGET_H

#include <glib.h>
#include <stdbool.h>

typedef struct Machine Machine;

typedef struct BoardDesc {
    const char *name;
    const char *desc;
    /* Builds the board into m (RAM, devices, CPU, images).  variant is the
     * target's (e.g. XLEN for RISC-V). */
    bool (*init)(Machine *m, int variant, GError **err);
    /* -device drivers the board accepts (NULL-terminated), or NULL. */
    const char *const *devices;
    /* The card -nic and -net nic give without model= (one of devices), or
     * NULL: the board has none. */
    const char *nic_model;
    /* -accel kvm: move the board's CPU onto KVM after init (it replaces
     * m->cpu and m->cpu_ops; m->icount stays, frozen).  Fails with the
     * reason KVM cannot be used.  NULL: the board has no KVM support. */
    bool (*kvm_init)(Machine *m, GError **err);
} BoardDesc;

typedef struct TargetDesc {
    const char *arch;            /* "riscv64" */
    int variant;
    const char *default_cpu;     /* -cpu name accepted */
    const BoardDesc *const *boards;   /* NULL-terminated; first is the default */
} TargetDesc;

const TargetDesc *target_find(const char *arch);
/* NULL-terminated list of every built target. */
extern const TargetDesc *const tandem_targets[];
const BoardDesc *target_board(const TargetDesc *t, const char *name);

#endif
