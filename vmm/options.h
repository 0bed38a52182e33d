/* The parsed command line (QEMU spelling). */
#ifndef TANDEM_OPTIONS_H
#define TANDEM_OPTIONS_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

enum { OPT_MAX_SERIAL = 4 };

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
    const char *rr_snapshot;
    /* -rr-perturb ICOUNT,REG: fault injection for tests: flip the low bit of
     * register REG (0 = PC) when the guest reaches ICOUNT. */
    uint64_t perturb_icount;
    int perturb_reg;          /* -1: none */
    const char *accel;
    const char *dump_dtb;      /* -machine dumpdtb=F */
} Options;

/* Parse argv; on error returns false and sets err naming the bad option. */
bool options_parse(Options *o, int argc, char **argv, GError **err);
void options_usage(const char *prog);
/* Parse a size like "512", "512M", "2G" (plain numbers are MiB, as QEMU). */
bool parse_size_mib(const char *s, uint64_t *out);

#endif
