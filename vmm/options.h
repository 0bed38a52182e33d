/* The parsed command line (QEMU spelling). */
#ifndef TANDEM_OPTIONS_H
#define TANDEM_OPTIONS_H

/* Options.perturb_reg for -rr-perturb ICOUNT,ram:ADDR. */
#define OPT_PERTURB_RAM 32
/* ... and for ICOUNT,gdb:N (perturb_addr: the debugger's register N). */
#define OPT_PERTURB_GDB 33

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

enum { OPT_MAX_SERIAL = 4, OPT_MAX_DEVICES = 16, OPT_MAX_ACCEL = 8, OPT_MAX_DRIVES = 16 };
enum { OPT_MAX_NETDEVS = 8, OPT_MAX_OBJECTS = 8, OPT_MAX_AUDIODEVS = 8 };

typedef struct Options {
    const char *arch;          /* "riscv64", "riscv32" */
    const char *machine;       /* -M / -machine type */
    const char *cpu;           /* -cpu model, NULL = board default */
    bool nodefaults;
    uint64_t ram_size;         /* -m, bytes */
    int smp;
    const char *bios;          /* -bios: path, "none", or NULL (board default) */
    const char *kernel;
    const char *initrd;
    const char *append;
    const char *dtb;
    bool nographic;
    bool display_none;
    bool no_reboot;
    bool no_shutdown;
    const char *serial[OPT_MAX_SERIAL];  /* backend specs in -serial order */
    int nserial;
    bool serial_given;
    const char *monitor;       /* "stdio", "none", NULL = default */
    /* -icount */
    bool icount;
    int icount_shift;          /* -1 = auto */
    bool icount_sleep;
    int rr_mode;               /* RrMode: 0 off, 1 record, 2 replay */
    const char *rr_file;
    const char *rr_snapshot;   /* rrsnapshot=NAME, or NULL */
    const char *loadvm;        /* -loadvm NAME, or NULL */
    /* -rr-perturb ICOUNT,REG: fault injection for tests: flip the low bit of
     * register REG (0 = PC) when the guest reaches ICOUNT; ICOUNT,ram:ADDR:
     * of the RAM byte at guest-physical ADDR (perturb_reg OPT_PERTURB_RAM);
     * ICOUNT,gdb:N: of the register gdb numbers N (OPT_PERTURB_GDB: one
     * the events do not log, an x86 XMM register, say). */
    uint64_t perturb_icount;
    int perturb_reg;          /* -1: none */
    uint64_t perturb_addr;
    /* -rr-snapshot-interval N: instructions between the in-memory
     * snapshots of a replay under gdb (0: the default). */
    uint64_t rr_snapshot_interval;
    /* -device DRIVER[,prop=value...] in command-line order; the board
     * claims the ones it supports (machine_take_device). */
    const char *devices[OPT_MAX_DEVICES];
    int ndevices;
    /* -drive specs in command-line order (-hda F is "file=F,index=0,
     * media=disk"); checked by drive_parse (block/drive.h), opened by
     * the board. */
    const char *drives[OPT_MAX_DRIVES];
    int ndrives;
    /* -netdev specs (net/net.h) in command-line order: the index is the
     * netdev's number in record/replay logs.  -object specs
     * (filter-replay).  -net none / -nic none: no network (what Tandem
     * does without any of these too). */
    const char *netdevs[OPT_MAX_NETDEVS];
    int nnetdevs;
    const char *objects[OPT_MAX_OBJECTS];
    int nobjects;
    bool net_none;
    /* -audiodev specs (audio/audio.h) in command-line order; QEMU's
     * -audio DRIVER[,model=ac97][,...] adds "DRIVER,id=audio0,..." here
     * (and -device AC97,audiodev=audio0 with model=ac97). */
    const char *audiodevs[OPT_MAX_AUDIODEVS];
    int naudiodevs;
    bool audio_shorthand;
    /* -nic and -net nic/user become netdevs and devices above (a card
     * without model= has the driver "nic": the board's own).  nnics counts
     * -nic (QEMU's netdev ids __org.qemu.nicN); hub_user is the -net user
     * netdev's id, hub_nic the -net nic without netdev= at devices[hub_nic_index]. */
    int nnics;
    const char *hub_user;
    bool hub_nic;
    int hub_nic_index;
    const char *hub_nic_arg;
    /* Accelerators to try, in order ("kvm", "tcg" = the interpreter): -accel
     * (repeatable), -enable-kvm, -machine accel=A:B.  None given: tcg. */
    const char *accel[OPT_MAX_ACCEL];
    int naccel;
    /* -accel kvm,switch-test=SEED[,switch-max=N]: the x86 CPU alternates
     * between the interpreter and KVM (single-stepped, so counted) every N
     * instructions, N drawn from 1..switch-max (default 1000000) by a
     * generator seeded with SEED.  A test of the state transfer: the guest
     * must not notice (targets/x86/kvm_switch.c). */
    bool kvm_switch;
    uint64_t kvm_switch_seed;
    uint64_t kvm_switch_max;
    uint64_t kvm_switch_kvm_max;   /* switch-kvm-max=: KVM's legs (0: switch-max) */
    /* -accel kvm,landing=: how a KVM replay finds the log's events.
     * auto (the default): free runs with the PMU counter where it works,
     * else breakpoints; pmu: free runs stopped near each event by the host
     * PMU's branch counter, then landed with breakpoints (an error where
     * there is no usable counter); breakpoint: breakpoints alone; step:
     * every instruction single-stepped, no free runs. */
    enum { KVM_LAND_AUTO, KVM_LAND_PMU, KVM_LAND_BREAKPOINT, KVM_LAND_STEP } kvm_landing;
    /* -accel tcg,jit=off: the x86 interpreter without its code generator;
     * jit-threshold=N: compile a block at its N-th entry (0: the default). */
    bool jit_off;
    unsigned jit_threshold;
    bool kvm_landing_set;          /* landing= was given */
    /* -exit-state FILE: at exit, write the position (icount, brcount), the
     * CPU state hash, the RAM hash and the register dump to FILE. */
    const char *exit_state;
    const char *dump_dtb;      /* -machine dumpdtb=F */
    /* -gdb tcp::PORT / tcp:HOST:PORT (-s: tcp::1234); NULL: no gdb stub. */
    const char *gdb;
    bool start_stopped;        /* -S: the CPU waits for gdb or the monitor */
} Options;

/* Parse argv; on error returns false and sets err naming the bad option. */
bool options_parse(Options *o, int argc, char **argv, GError **err);
void options_usage(const char *prog);
/* Property key of a -device spec ("isa-debug-exit,iobase=0xf4"): returns
 * true and *val (free with g_free) when present. */
bool device_spec_prop(const char *spec, const char *key, char **val);
/* The driver name of a -device spec (free with g_free). */
char *device_spec_driver(const char *spec);
/* Checks that every property of spec is one of keys (NULL-terminated). */
bool device_spec_check(const char *spec, const char *const *keys, GError **err);
/* Parse an unsigned property value (decimal or 0x hex) no larger than max. */
bool device_spec_uint(const char *spec, const char *key, uint64_t def, uint64_t max,
                      uint64_t *out, GError **err);

/* Parse a size like "512", "512M", "2G" (plain numbers are MiB, as QEMU). */
bool parse_size_mib(const char *s, uint64_t *out);

#endif
