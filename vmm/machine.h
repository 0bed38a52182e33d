/* A whole machine: address space, clock, CPU, devices, backends.
 * No globals: two machines can live in one process. */
#ifndef TANDEM_MACHINE_H
#define TANDEM_MACHINE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "vmm/clock.h"
#include "vmm/device.h"
#include "vmm/memory.h"
#include "vmm/options.h"

typedef struct Chardev Chardev;

/* Why CpuOps.run returned. */
typedef enum CpuExit {
    CPU_EXIT_BUDGET,         /* executed the instruction budget */
    CPU_EXIT_IDLE,           /* WFI/HLT with nothing pending */
    CPU_EXIT_REQUEST,        /* machine_request_* / device asked to stop */
    CPU_EXIT_ERROR,          /* unrecoverable: m->error says why */
    CPU_EXIT_DEBUG,          /* breakpoint/watchpoint (vmm/debug.h) */
} CpuExit;

/* What the main loop needs from a CPU; targets/<arch>/ provides it. */
typedef struct CpuOps {
    const char *name;
    /* Run at most max_insns retired instructions. */
    CpuExit (*run)(void *cpu, uint64_t max_insns);
    void (*reset)(void *cpu);
    /* Human-readable register dump (monitor "info registers", errors). */
    void (*dump)(void *cpu, FILE *f);
    /* Conditional branches retired (the replay position's second number). */
    uint64_t (*brcount)(void *cpu);
    /* Digest of PC + general registers (record/replay checks). */
    uint64_t (*digest)(void *cpu);
    /* PC then the general registers, as logged with every event; returns
     * how many (at most 32).  reg_names[i] names out[i]. */
    unsigned (*regs)(void *cpu, uint64_t *out);
    const char *const *reg_names;
    void (*set_reg)(void *cpu, unsigned idx, uint64_t val);
    /* Hash of the whole architectural state (FP, CSRs, ...). */
    uint64_t (*state_hash)(void *cpu);
    /* Every field state_hash covers, one "name=value" line each (NULL: the
     * target has none; -exit-state then writes only dump). */
    void (*dump_state)(void *cpu, FILE *f);
    void (*destroy)(void *cpu);
    /* Snapshots (checkpoint/): the whole CPU state into a SnapWriter (w)
     * and back from a SnapReader (r), raw: load has no side effects beyond
     * the CPU (it drops cached translations and blocks, since RAM changes
     * with it) and fails with the reader's error on a bad stream.  NULL:
     * this CPU cannot be snapshotted (savevm says so). */
    void (*save)(void *cpu, void *w);
    bool (*load)(void *cpu, void *r);
    /* Debugger hooks (vmm/debug.h); NULL: no gdb stub on this CPU. */
    const struct CpuDebugOps *debug;
} CpuOps;

typedef struct DeviceEntry {
    const DeviceOps *ops;
    void *dev;
} DeviceEntry;

enum { MACHINE_MAX_SERIAL = 4 };

typedef struct BoardDesc BoardDesc;

struct Machine {
    const Options *opts;
    const BoardDesc *board;
    int variant;
    AddressSpace as;
    /* Port I/O (x86): a second address space of 64 KiB; empty elsewhere. */
    AddressSpace io;
    VClock clock;

    void *cpu;
    const CpuOps *cpu_ops;
    /* The accelerator in use: "tcg" (the interpreter) or "kvm" (then the
     * clock is in realtime mode). */
    const char *accel;
    uint64_t *icount;        /* the CPU's retired-instruction counter */

    uint8_t *ram;
    uint64_t ram_base, ram_size;

    DeviceEntry *devices;
    int ndevices, devices_cap;

    Chardev *serial[MACHINE_MAX_SERIAL];
    int nserial;
    /* Monitor: muxed on a serial stdio (Ctrl-A c) or its own stdio. */
    Chardev *monitor_chr, *monitor_own;
    char monitor_line[256];
    int monitor_len;
    bool paused;             /* monitor "stop" */

    /* Board hook run after device resets (reloads images, resets the CPU).
     * NULL: just reset the CPU. */
    void (*board_reset)(Machine *m);
    void *board_state;
    /* Board hook: the interrupt controllers' state (what holds an
     * interrupt back), a line per controller joined by "\n  ", for the
     * message on a guest that cannot wake up.  NULL: nothing to say. */
    void (*board_describe_irqs)(Machine *m, GString *s);
    void **to_free;          /* board allocations released with the machine */
    int nfree;

    /* Set by devices (finisher, reset controller) and the monitor. */
    bool shutdown_requested;
    int exit_status;
    bool reset_requested;
    /* Set when the CPU must leave its run loop at the next block boundary. */
    volatile int exit_request;

    char *error;             /* CPU_EXIT_ERROR reason */

    /* -device options the board has taken (machine_take_device). */
    bool device_taken[OPT_MAX_DEVICES];

    /* Record/replay (rr/). */
    int rr_mode;             /* RrMode */
    struct Rr *rr;

    /* The gdb stub (vmm/gdbstub.c), NULL without -gdb/-s. */
    struct GdbStub *gdb;
    /* Replay with a debugger: the in-memory snapshots reverse execution
     * uses (checkpoint/timeline.h), else NULL. */
    struct Timeline *timeline;
    /* -rr-perturb has flipped its bit (the main loop, or a KVM replay's
     * free run through that position). */
    bool perturbed;
    /* A KVM VM maps guest RAM (kvm_create): KVM writes it behind the back
     * of page protections, so the reverse-execution timeline cannot track
     * it. */
    bool kvm_maps_ram;
    /* Replaying an x86 log before format 9, recorded when a memory-mapped
     * device access that raised an interrupt did not end its block
     * (targets/x86/mem.c): the interrupt is taken where the block ends, as
     * then. */
    bool mmio_irq_at_block_end;
    /* Replay: rr found the run off the recording's (why: the message).
     * A KVM replay that will go back to a snapshot and interpret the
     * stretch again returns true (rr then only asks the CPU to stop);
     * false, or no hook: the replay ends with that error. */
    bool (*replay_diverged)(void *opaque, const char *why);
    void *replay_diverged_opaque;
    /* The board's keyboard and mouse (vmm/input.h), NULL: none. */
    struct InputState *input;
    /* The -netdev backends and their frame queues (net/net.h). */
    struct NetState *net;

    /* The -drive images (block/drive.h), for savevm/loadvm
     * (checkpoint/vmsnap.h): opened by the board that has a disk
     * controller (then its own), else by machine_create for if=none
     * drives no device uses, such as the orphan drive that holds a
     * diskless machine's snapshots (then drives_owned). */
    struct DriveSet *drives;
    bool drives_owned;
    /* replay_break / replay_seek: pause the replay when icount reaches
     * replay_break (checkpoint/vmsnap.c). */
    bool replay_break_set;
    uint64_t replay_break;
};

/* Lifecycle. machine_create builds the board named in opts. */
Machine *machine_create(const Options *opts, GError **err);
void machine_destroy(Machine *m);
void machine_reset(Machine *m);
/* The main loop; returns the process exit status. */
int machine_run(Machine *m);
/* The signal (SIGINT, SIGTERM, SIGHUP) that asked the run to end, or 0.  It
 * also raises the machine's exit_request, so a CPU run loop returns. */
int machine_quit_signal(void);

/* Board-side helpers. */
int machine_alloc_ram(Machine *m, uint64_t base, uint64_t size, GError **err);
/* Only the host memory (m->ram, m->ram_size), for boards that map RAM in
 * pieces (the PC's hole below 1 MiB). */
uint8_t *machine_alloc_ram_host(Machine *m, uint64_t size, GError **err);
void machine_request_shutdown(Machine *m, int status);
void machine_request_reset(Machine *m);
/* Free p with the machine. */
void machine_keep(Machine *m, void *p);
void machine_set_error(Machine *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The next -device spec for driver the board has not taken yet, or NULL.
 * machine_create fails on specs no board took. */
const char *machine_take_device(Machine *m, const char *driver);
/* Serial port n's backend, or NULL (the device then discards output). */
Chardev *machine_serial(Machine *m, int n);

/* Host wall-clock time (ns since the Unix epoch) for guest-visible clocks
 * such as an RTC.  The only place device models may read host time: record
 * logs the value, replay returns the logged one. */
int64_t machine_host_clock_ns(Machine *m);

/* Device accesses (MMIO and port I/O) since reset: part of the
 * record/replay position. */
static inline uint64_t machine_device_accesses(const Machine *m)
{
    return m->as.mmio_accesses + m->io.mmio_accesses;
}

/* A guest-visible time-stamp counter read (x86 RDTSC), computed from the
 * virtual clock by the CPU: record/replay logs it (rr_tsc). */
uint64_t machine_guest_tsc(Machine *m, uint64_t value);

static inline int64_t machine_ns(const Machine *m) { return vclock_ns(&m->clock); }
/* Hash of every RAM and ROM region's bytes (record/replay checks,
 * -exit-state). */
uint64_t machine_memory_hash(Machine *m);
/* The guest memory machine_memory_hash() covers, in chunks of 2^shift
 * bytes (each region's last one shorter): their hashes and guest-physical
 * bases (base may be NULL), at most max (returns how many there are, even
 * beyond max).
 * machine_memory_chunk_shift() is the smallest shift from 16 that keeps
 * them at most max. */
size_t machine_memory_chunks(Machine *m, unsigned shift, uint64_t *hash, uint64_t *base,
                             size_t max);
unsigned machine_memory_chunk_shift(Machine *m, size_t max);
/* -exit-state: the position, the CPU state and RAM hashes and the
 * register dump, to compare the ends of two runs. */
bool machine_write_exit_state(Machine *m, const char *path);
/* -rr-perturb: flip the register's or RAM byte's low bit now, saying so
 * (where: how the position is described); sets m->perturbed, or the error
 * where ADDR is not RAM. */
void machine_perturb(Machine *m, const char *where);

#endif
