/* Whole-machine snapshots: the CPU, every device, the virtual clock, the
 * position (icount, device accesses), the record/replay log position, and
 * (for savevm) RAM.
 *
 * The state stream (no RAM), all integers little-endian:
 *
 *   "TNDMVMST" u32 version
 *   str  machine identity ("riscv64/virt ram=134217728 devices=...")
 *   u64  icount, u64 mmio accesses, u64 port accesses
 *   clock: u32 shift, bool auto, i64 base_ns, u64 base_icount
 *   u32  armed timers
 *   section "cpu", then one section per device in registration order:
 *        str name, u64 length, bytes
 *   section "rr": the record/replay position (rr_save_state)
 *
 * A savevm blob is "TNDMVMSV" u32 version, u64 state length, the state,
 * u64 RAM size, u64 compressed length, zstd(RAM).
 *
 * Loading checks the identity and every section's name and length first,
 * so a snapshot of another machine is refused with the difference named
 * before anything changes; a device that then rejects its bytes leaves the
 * machine stopped with the error (its state would be half loaded). */
#ifndef TANDEM_CHECKPOINT_H
#define TANDEM_CHECKPOINT_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Machine Machine;

/* Why the machine cannot be snapshotted (a CPU or device without
 * save/load), or NULL. */
const char *checkpoint_unsupported(Machine *m);

/* The state stream without RAM; g_malloc'd. */
uint8_t *checkpoint_save_state(Machine *m, size_t *len, GError **err);
/* Restores it.  RAM must already hold the snapshot's contents (the caller
 * restores RAM first: the CPU's load drops its code cache). */
bool checkpoint_load_state(Machine *m, const uint8_t *p, size_t len, GError **err);

/* State checks (rr/replay.c, "memory checks"): a hash of each device's
 * saved state, in machine order, into out; returns how many (the first
 * max devices at most).  A device that cannot save hashes as 0. */
unsigned checkpoint_device_hashes(Machine *m, uint64_t *out, unsigned max);

/* savevm / loadvm blobs: the state and RAM (zstd). */
uint8_t *checkpoint_save_vm(Machine *m, size_t *len, GError **err);
bool checkpoint_load_vm(Machine *m, const uint8_t *p, size_t len, GError **err);
/* The icount a savevm blob was taken at (false: not a blob). */
bool checkpoint_vm_icount(const uint8_t *p, size_t len, uint64_t *icount);

#endif
