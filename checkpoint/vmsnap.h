/* VM snapshots as QEMU keeps them: in the machine's qcow2 images.
 *
 * savevm NAME gives every writable drive of the machine (block/drive.h,
 * m->drives) an internal snapshot NAME of its disk; the first of them (in
 * -drive order) also holds the VM state, checkpoint_save_vm's blob (CPU,
 * devices, clock, RAM, record/replay log position).  A writable drive that
 * cannot hold snapshots (a raw image) makes savevm fail, as in QEMU;
 * read-only drives are left out.  A blkreplay drive is a view of its image
 * drive, which takes the snapshot.  A diskless machine keeps its snapshots
 * in an "orphan" drive no device uses: -drive file=empty.qcow2,if=none,id=rr.
 *
 * loadvm NAME loads the VM state first (a snapshot of another machine
 * configuration, or a damaged one, is refused before anything changes),
 * then takes every disk back to the snapshot.  Under record it is refused
 * (a recording cannot go back); under replay the replay continues from the
 * snapshot, its log position included.
 *
 * -icount ...,rrsnapshot=NAME: record takes snapshot NAME after the reset,
 * before the first instruction, and names it in the log header; replay
 * loads it there.  replay_break/replay_seek pause a replay at an
 * instruction count (the main loop asks vmsnap_check_break and
 * vmsnap_budget). */
#ifndef TANDEM_VMSNAP_H
#define TANDEM_VMSNAP_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct Machine Machine;

/* name NULL: QEMU's automatic "vm-YYYYMMDDHHMMSS". */
bool vmsnap_save(Machine *m, const char *name, GError **err);
/* name_or_id as QEMU: a snapshot whose id is it, else whose tag is. */
bool vmsnap_load(Machine *m, const char *name_or_id, GError **err);
bool vmsnap_delete(Machine *m, const char *name_or_id, GError **err);
/* QEMU's "info snapshots" text (g_free it). */
char *vmsnap_info(Machine *m);
/* QEMU's "info replay" text (g_free it). */
char *vmsnap_replay_info(Machine *m);

/* After the machine's first reset, before its first instruction:
 * rrsnapshot= (record: savevm, replay: loadvm) and -loadvm.  false with
 * m->error set when that fails. */
bool vmsnap_start(Machine *m);

/* Replay: pause when icount reaches icount (QEMU's replay_break). */
bool vmsnap_replay_break(Machine *m, uint64_t icount, GError **err);
bool vmsnap_replay_delete_break(Machine *m, GError **err);
/* Replay: go to icount, from the nearest snapshot at or before it (the
 * reverse-debugging timeline, else a qcow2 snapshot taken during this
 * recording or its replay, else rrsnapshot's) when it lies behind, then
 * run forward and pause there. */
bool vmsnap_replay_seek(Machine *m, uint64_t icount, GError **err);

/* Main loop, between slices: pauses the machine (m->paused) when the
 * replay break is reached. */
void vmsnap_check_break(Machine *m);
/* Main loop: the CPU budget, cut at the replay break. */
uint64_t vmsnap_budget(Machine *m, uint64_t budget);

#endif
