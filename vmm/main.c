/* tandem: one binary for every guest ISA; tandem-system-ARCH picks one. */
#include <stdio.h>
#include <string.h>

#include "vmm/gdbstub.h"
#include "vmm/machine.h"
#include "vmm/options.h"
#include "vmm/target.h"

static const char *arch_from_argv0(const char *argv0)
{
    const char *base = strrchr(argv0, '/');
    base = base ? base + 1 : argv0;
    const char *pfx = "tandem-system-";
    if (!strncmp(base, pfx, strlen(pfx)))
        return base + strlen(pfx);
    return NULL;
}

static void list_boards(const TargetDesc *t)
{
    printf("Supported machines are:\n");
    for (int i = 0; t->boards[i]; i++)
        printf("%-20s %s%s\n", t->boards[i]->name, t->boards[i]->desc,
               i == 0 ? " (default)" : "");
}

int main(int argc, char **argv)
{
    Options o;
    GError *err = NULL;
    if (!options_parse(&o, argc, argv, &err)) {
        fprintf(stderr, "tandem: %s\n", err->message);
        g_error_free(err);
        return 1;
    }
    if (!o.arch)
        o.arch = arch_from_argv0(argv[0]);
    if (!o.arch) {
        fprintf(stderr, "tandem: no guest architecture: use --arch ARCH or run as tandem-system-ARCH (");
        for (int i = 0; tandem_targets[i]; i++)
            fprintf(stderr, "%s%s", i ? ", " : "", tandem_targets[i]->arch);
        fprintf(stderr, ")\n");
        return 1;
    }
    const TargetDesc *t = target_find(o.arch);
    if (t && o.machine && (!strcmp(o.machine, "help") || !strcmp(o.machine, "?"))) {
        list_boards(t);
        return 0;
    }
    if (t && o.cpu && !strcmp(o.cpu, "help")) {
        printf("Available CPUs:\n  %s\n", t->default_cpu);
        return 0;
    }
    Machine *m = machine_create(&o, &err);
    if (!m) {
        fprintf(stderr, "tandem: %s\n", err->message);
        g_error_free(err);
        return 1;
    }
    if (o.gdb && !o.dump_dtb) {
        m->gdb = gdbstub_create(m, o.gdb, o.start_stopped, &err);
        if (!m->gdb) {
            fprintf(stderr, "tandem: %s\n", err->message);
            g_error_free(err);
            machine_destroy(m);
            return 1;
        }
    } else if (o.start_stopped) {
        /* Without gdb, the monitor's cont starts the CPU. */
        if (!m->monitor_chr) {
            fprintf(stderr, "tandem: -S waits for gdb's continue or the monitor's cont, but "
                            "there is neither: add -gdb tcp::PORT (or -s), or a monitor "
                            "(-monitor stdio, -nographic)\n");
            machine_destroy(m);
            return 1;
        }
        m->paused = true;
    }
    int status = 0;
    if (!o.dump_dtb)
        status = machine_run(m);
    else
        printf("dtb dumped to %s. Exiting.\n", o.dump_dtb);
    if (o.exit_state && !o.dump_dtb && !machine_write_exit_state(m, o.exit_state) &&
        status == 0)
        status = 1;
    gdbstub_destroy(m->gdb);
    m->gdb = NULL;
    machine_destroy(m);
    return status;
}
