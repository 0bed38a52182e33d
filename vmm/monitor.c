#include "vmm/monitor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint/vmsnap.h"
#include "vmm/chardev.h"
#include "vmm/input.h"
#include "vmm/machine.h"
#include "vmm/target.h"
#include "rr/rr.h"

#define MPRINT(m, ...) chardev_printf((m)->monitor_chr, __VA_ARGS__)

void monitor_prompt(Machine *m)
{
    if (m->monitor_chr)
        MPRINT(m, "(tandem) ");
}

static void cmd_info(Machine *m, const char *what)
{
    if (!strcmp(what, "registers")) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (f) {
            m->cpu_ops->dump(m->cpu, f);
            fclose(f);
            MPRINT(m, "%s", buf);
            free(buf);
        }
    } else if (!strcmp(what, "mtree")) {
        MPRINT(m, "address-space: memory\n");
        for (int i = 0; i < m->as.nregions; i++) {
            const MemRegion *r = &m->as.regions[i];
            MPRINT(m, "  %016llx-%016llx (prio 0, %s): %s\n",
                   (unsigned long long)r->base,
                   (unsigned long long)(r->base + r->size - 1),
                   r->host ? (r->readonly ? "rom" : "ram") : "i/o", r->name);
        }
    } else if (!strcmp(what, "status")) {
        MPRINT(m, "VM status: %s\n", m->paused ? "paused" : "running");
    } else if (!strcmp(what, "version")) {
        MPRINT(m, "Tandem 0.1.0\n");
    } else if (!strcmp(what, "snapshots")) {
        char *t = vmsnap_info(m);
        MPRINT(m, "%s", t);
        g_free(t);
    } else if (!strcmp(what, "replay")) {
        char *t = vmsnap_replay_info(m);
        MPRINT(m, "%s", t);
        g_free(t);
    } else if (!strcmp(what, "icount")) {
        MPRINT(m, "icount %llu, virtual time %lld ns, shift %d\n",
               (unsigned long long)*m->icount, (long long)machine_ns(m), m->clock.shift);
    } else {
        MPRINT(m, "info: unknown item '%s' (registers, mtree, status, icount, snapshots, "
                  "replay, version)\n", what);
    }
}

static void cmd_xp(Machine *m, const char *args)
{
    /* xp /Nx ADDR : N 32-bit words of physical memory */
    unsigned long n = 1;
    const char *p = args;
    if (*p == '/') {
        n = strtoul(p + 1, (char **)&p, 0);
        while (*p && *p != ' ')
            p++;
    }
    char *end;
    unsigned long long addr = strtoull(p, &end, 0);
    if (end == p || n == 0 || n > 4096) {
        MPRINT(m, "usage: xp /Nx ADDRESS (N up to 4096)\n");
        return;
    }
    for (unsigned long i = 0; i < n; i++) {
        uint32_t v;
        if (i % 4 == 0)
            MPRINT(m, "%s%016llx:", i ? "\n" : "", addr + 4 * i);
        if (as_copy_from(&m->as, addr + 4 * i, &v, 4) != MEM_OK) {
            MPRINT(m, " Cannot access memory");
            break;
        }
        MPRINT(m, " 0x%08x", v);
    }
    MPRINT(m, "\n");
}

/* QEMU's HMP reports a failed command as "Error: ...". */
static void report(Machine *m, bool ok, GError **err)
{
    if (!ok)
        MPRINT(m, "Error: %s\n", *err ? (*err)->message : "failed");
    g_clear_error(err);
}

/* The one argument of a command ("" when none); false when more follow. */
static bool one_arg(Machine *m, const char *cmd, const char *args, char *out, size_t n)
{
    while (*args == ' ')
        args++;
    size_t len = strcspn(args, " ");
    const char *rest = args + len;
    while (*rest == ' ')
        rest++;
    if (*rest || len >= n) {
        MPRINT(m, "%s: %s\n", cmd, *rest ? "too many arguments" : "argument too long");
        return false;
    }
    memcpy(out, args, len);
    out[len] = 0;
    return true;
}

static bool icount_arg(Machine *m, const char *cmd, const char *args, uint64_t *v)
{
    char a[64];
    if (!one_arg(m, cmd, args, a, sizeof(a)))
        return false;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(a, &end, 0);
    if (!a[0] || *end || errno || a[0] == '-') {
        MPRINT(m, "usage: %s ICOUNT (an instruction count)\n", cmd);
        return false;
    }
    *v = n;
    return true;
}

/* Whole-word integer arguments: fills v[0..n-1] (at most max); false
 * with a usage message when one is not a number. */
static int int_args(const char *args, long *v, int max)
{
    int n = 0;
    for (;;) {
        while (*args == ' ')
            args++;
        if (!*args)
            return n;
        if (n == max)
            return -1;
        char *end;
        errno = 0;
        v[n] = strtol(args, &end, 0);
        if (end == args || (*end && *end != ' ') || errno || v[n] < INT32_MIN ||
            v[n] > INT32_MAX)
            return -1;
        n++;
        args = end;
    }
}

/* sendkey, mouse_move, mouse_button (vmm/input.c).  true when line was
 * one of them. */
static bool input_command(Machine *m, const char *line)
{
    size_t cl = strcspn(line, " ");
    const char *args = line + cl;
    GError *err = NULL;
    long v[3];
#define IS(c) (cl == strlen(c) && !strncmp(line, c, cl))
    if (IS("sendkey")) {
        while (*args == ' ')
            args++;
        size_t kl = strcspn(args, " ");
        char keys[128];
        long hold = 100;
        int n = int_args(args + kl, v, 1);
        if (!kl || kl >= sizeof(keys) || n < 0) {
            MPRINT(m, "usage: sendkey KEYS [HOLD_MS] (KEYS as in ctrl-alt-f1)\n");
            return true;
        }
        memcpy(keys, args, kl);
        keys[kl] = 0;
        if (n == 1)
            hold = v[0];
        report(m, input_sendkey(m, keys, hold, &err), &err);
    } else if (IS("mouse_move")) {
        int n = int_args(args, v, 3);
        if (n < 2) {
            MPRINT(m, "usage: mouse_move DX DY [DZ]\n");
            return true;
        }
        report(m, input_mouse_move(m, (int)v[0], (int)v[1], n == 3 ? (int)v[2] : 0, &err),
               &err);
    } else if (IS("mouse_button")) {
        int n = int_args(args, v, 1);
        if (n != 1 || v[0] < 0) {
            MPRINT(m, "usage: mouse_button STATE (1 left, 2 right, 4 middle, or-ed)\n");
            return true;
        }
        report(m, input_mouse_button(m, (unsigned)v[0], &err), &err);
    } else {
        return false;
    }
#undef IS
    return true;
}

/* savevm, loadvm, delvm, replay_break, replay_delete_break, replay_seek
 * (checkpoint/vmsnap.c).  true when line was one of them. */
static bool snapshot_command(Machine *m, const char *line)
{
    size_t cl = strcspn(line, " ");
    const char *args = line + cl;
    char name[256];
    GError *err = NULL;
    uint64_t ic;
#define IS(c) (cl == strlen(c) && !strncmp(line, c, cl))
    if (IS("savevm")) {
        if (one_arg(m, "savevm", args, name, sizeof(name)))
            report(m, vmsnap_save(m, name[0] ? name : NULL, &err), &err);
    } else if (IS("loadvm")) {
        if (one_arg(m, "loadvm", args, name, sizeof(name)))
            report(m, vmsnap_load(m, name, &err), &err);
    } else if (IS("delvm")) {
        if (one_arg(m, "delvm", args, name, sizeof(name)))
            report(m, vmsnap_delete(m, name, &err), &err);
    } else if (IS("replay_break")) {
        if (icount_arg(m, "replay_break", args, &ic))
            report(m, vmsnap_replay_break(m, ic, &err), &err);
    } else if (IS("replay_delete_break")) {
        if (one_arg(m, "replay_delete_break", args, name, sizeof(name)))
            report(m, vmsnap_replay_delete_break(m, &err), &err);
    } else if (IS("replay_seek")) {
        if (icount_arg(m, "replay_seek", args, &ic))
            report(m, vmsnap_replay_seek(m, ic, &err), &err);
    } else {
        return false;
    }
#undef IS
    return true;
}

void monitor_command(Machine *m, const char *line)
{
    while (*line == ' ')
        line++;
    if (!*line)
        return;
    if (!strcmp(line, "help") || !strcmp(line, "?")) {
        MPRINT(m, "info registers|mtree|status|icount|snapshots|replay|version\n"
                  "xp /Nx ADDR      dump physical memory\n"
                  "savevm [NAME]    save a VM snapshot in the qcow2 drives\n"
                  "loadvm NAME      go back to VM snapshot NAME (name or id)\n"
                  "delvm NAME       delete VM snapshot NAME\n"
                  "replay_break N   replay: pause when the instruction count reaches N\n"
                  "replay_delete_break  replay: remove the break\n"
                  "replay_seek N    replay: go to instruction count N and pause\n"
                  "sendkey KEYS [HOLD_MS]  press keys (ctrl-alt-f1), release after HOLD_MS\n"
                  "mouse_move DX DY [DZ]   move the mouse (DZ: wheel)\n"
                  "mouse_button STATE      mouse buttons down (1 left, 2 right, 4 middle)\n"
                  "stop, cont       pause / resume the guest\n"
                  "system_reset     reset the machine\n"
                  "quit             exit the emulator\n");
    } else if (snapshot_command(m, line) || input_command(m, line)) {
        /* done */
    } else if (!strncmp(line, "info ", 5)) {
        cmd_info(m, line + 5);
    } else if (!strcmp(line, "quit") || !strcmp(line, "q")) {
        rr_user_quit(m);
    } else if (!strcmp(line, "system_reset")) {
        rr_user_reset(m);
    } else if (!strcmp(line, "stop")) {
        m->paused = true;
    } else if (!strcmp(line, "cont") || !strcmp(line, "c")) {
        m->paused = false;
    } else if (!strncmp(line, "xp", 2) && (line[2] == ' ' || line[2] == '/')) {
        const char *a = line + 2;
        while (*a == ' ')
            a++;
        cmd_xp(m, a);
    } else {
        MPRINT(m, "unknown command: '%s' (help lists them)\n", line);
    }
}

void monitor_input_cb(void *opaque, const uint8_t *buf, size_t len)
{
    Machine *m = opaque;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = buf[i];
        if (c == '\r' || c == '\n') {
            MPRINT(m, "\n");
            m->monitor_line[m->monitor_len] = 0;
            m->monitor_len = 0;
            monitor_command(m, m->monitor_line);
            if (!m->shutdown_requested)
                monitor_prompt(m);
        } else if (c == 127 || c == 8) {
            if (m->monitor_len) {
                m->monitor_len--;
                MPRINT(m, "\b \b");
            }
        } else if (c >= 32 && m->monitor_len < (int)sizeof(m->monitor_line) - 1) {
            m->monitor_line[m->monitor_len++] = (char)c;
            chardev_printf(m->monitor_chr, "%c", (char)c);
        }
    }
}

int monitor_can_receive_cb(void *opaque)
{
    return 256;
}

void monitor_receive_cb(void *opaque, const uint8_t *buf, size_t len)
{
    monitor_input_cb(opaque, buf, len);
}
