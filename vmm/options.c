#include "vmm/options.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/error.h"
#include "vmm/gdbstub.h"
#include "audio/audio.h"
#include "block/drive.h"
#include "net/net.h"

G_DEFINE_QUARK(tandem-error-quark, tandem_error)

bool parse_size_mib(const char *s, uint64_t *out)
{
    char *end;
    if (!s || !*s)
        return false;
    double v = strtod(s, &end);
    if (end == s || v <= 0)
        return false;
    uint64_t mul = 1ull << 20;            /* plain numbers are MiB */
    if (*end) {
        switch (*end) {
        case 'k': case 'K': mul = 1ull << 10; break;
        case 'm': case 'M': mul = 1ull << 20; break;
        case 'g': case 'G': mul = 1ull << 30; break;
        case 't': case 'T': mul = 1ull << 40; break;
        case 'b': case 'B': mul = 1; break;
        default: return false;
        }
        end++;
        if (*end == 'i' || *end == 'B')
            end++;
        if (*end == 'B')
            end++;
        if (*end)
            return false;
    }
    double bytes = v * (double)mul;
    if (bytes >= 18446744073709551616.0)
        return false;
    *out = (uint64_t)bytes;
    return true;
}

/* Split "a=b,c=d" style option strings; the first element may be a bare
 * value (e.g. -M virt,dumpdtb=F). */
static bool parse_icount(Options *o, const char *arg, GError **err)
{
    gchar **kv = g_strsplit(arg, ",", -1);
    bool ok = false;
    o->icount = true;
    for (int i = 0; kv[i]; i++) {
        const char *k = kv[i];
        const char *eq = strchr(k, '=');
        g_autofree char *key = eq ? g_strndup(k, (gsize)(eq - k)) : g_strdup(k);
        const char *val = eq ? eq + 1 : NULL;
        if (i == 0 && !eq) {
            /* "-icount N" shorthand */
            val = k;
            g_free(key);
            key = g_strdup("shift");
        }
        if (!strcmp(key, "shift")) {
            if (!val) {
                tn_error(err, "-icount: shift needs a value (a number 0..10 or auto)");
                goto out;
            }
            if (!strcmp(val, "auto")) {
                o->icount_shift = -1;
            } else {
                char *end;
                long s = strtol(val, &end, 10);
                if (*end || end == val || s < 0 || s > 10) {
                    tn_error(err, "-icount: shift '%s' is not a number from 0 to 10 or 'auto'", val);
                    goto out;
                }
                o->icount_shift = (int)s;
            }
        } else if (!strcmp(key, "sleep") || !strcmp(key, "align")) {
            bool b;
            if (!val || !strcmp(val, "on")) b = true;
            else if (!strcmp(val, "off")) b = false;
            else {
                tn_error(err, "-icount: %s takes on or off, not '%s'", key, val);
                goto out;
            }
            if (!strcmp(key, "sleep"))
                o->icount_sleep = b;
            else if (b) {
                tn_error(err, "-icount: align=on is not supported by Tandem (its clock never runs ahead of host time)");
                goto out;
            }
        } else if (!strcmp(key, "rr")) {
            if (val && !strcmp(val, "record"))
                o->rr_mode = 1;
            else if (val && !strcmp(val, "replay"))
                o->rr_mode = 2;
            else {
                tn_error(err, "-icount: rr takes record or replay, not '%s'", val ? val : "");
                goto out;
            }
        } else if (!strcmp(key, "rrfile")) {
            if (!val || !*val) {
                tn_error(err, "-icount: rrfile needs a file name");
                goto out;
            }
            o->rr_file = g_intern_string(val);
        } else if (!strcmp(key, "rrsnapshot")) {
            /* checkpoint/vmsnap.c: record takes the snapshot before the
             * first instruction, replay starts from it. */
            if (!val || !*val) {
                tn_error(err, "-icount: rrsnapshot needs a snapshot name");
                goto out;
            }
            o->rr_snapshot = g_intern_string(val);
        } else {
            tn_error(err, "-icount: unknown parameter '%s' (known: shift, sleep, align, rr, rrfile, rrsnapshot)", key);
            goto out;
        }
    }
    if (o->rr_mode && !o->rr_file) {
        tn_error(err, "-icount: rr=%s needs rrfile=FILE", o->rr_mode == 1 ? "record" : "replay");
        goto out;
    }
    if (!o->rr_mode && o->rr_snapshot) {
        tn_error(err, "-icount: rrsnapshot=%s goes with rr=record or rr=replay (without "
                 "them, -loadvm %s starts from a snapshot)", o->rr_snapshot, o->rr_snapshot);
        goto out;
    }
    if (!o->rr_mode && o->rr_file) {
        tn_error(err, "-icount: rrfile=%s without rr=record or rr=replay", o->rr_file);
        goto out;
    }
    ok = true;
out:
    g_strfreev(kv);
    return ok;
}

/* One -accel property "key[=value]": the key (allocated), the value ("" when
 * none), and whether the value is a number in `base` (then in *n). */
static bool accel_prop(const char *kv, int base, char **key, const char **val,
                       unsigned long long *n)
{
    const char *eq = strchr(kv, '=');
    *key = eq ? g_strndup(kv, (gsize)(eq - kv)) : g_strdup(kv);
    *val = eq ? eq + 1 : "";
    char *end;
    errno = 0;
    *n = strtoull(*val, &end, base);
    return **val && !*end && errno == 0 && (*val)[0] != '-';
}

/* The kvm accelerator's properties: switch-test=SEED and switch-max=N
 * (Options.kvm_switch). */
static bool kvm_props(Options *o, const char *spec, const char *props, const char *opt,
                      GError **err)
{
    g_auto(GStrv) kv = g_strsplit(props, ",", -1);
    bool max_given = false;
    for (int i = 0; kv[i]; i++) {
        g_autofree char *key = NULL;
        const char *val;
        unsigned long long n;
        bool num = accel_prop(kv[i], 0, &key, &val, &n);
        if (!strcmp(key, "switch-test")) {
            if (!num) {
                tn_error(err, "%s %s: switch-test= wants a number (the seed), not '%s'", opt,
                         spec, val);
                return false;
            }
            o->kvm_switch = true;
            o->kvm_switch_seed = n;
        } else if (!strcmp(key, "switch-max") || !strcmp(key, "switch-kvm-max")) {
            if (!num || n < 1 || n > 1000000000ull) {
                tn_error(err, "%s %s: %s= wants a number from 1 to 1000000000, not '%s'", opt,
                         spec, key, val);
                return false;
            }
            if (!strcmp(key, "switch-kvm-max"))
                o->kvm_switch_kvm_max = n;
            else
                o->kvm_switch_max = n;
            max_given = true;
        } else if (!strcmp(key, "landing")) {
            static const char *const landings[] = {
                [KVM_LAND_AUTO] = "auto", [KVM_LAND_PMU] = "pmu",
                [KVM_LAND_BREAKPOINT] = "breakpoint", [KVM_LAND_STEP] = "step",
            };
            unsigned l = 0;
            while (l < G_N_ELEMENTS(landings) && strcmp(val, landings[l]))
                l++;
            if (l == G_N_ELEMENTS(landings)) {
                tn_error(err, "%s %s: landing= is auto, pmu, breakpoint or step, not '%s'", opt,
                         spec, val);
                return false;
            }
            o->kvm_landing = l;
            o->kvm_landing_set = true;
        } else {
            tn_error(err, "%s %s: unknown kvm property '%s' (switch-test=SEED, "
                     "switch-max=N, switch-kvm-max=N, landing=auto|pmu|breakpoint|step)", opt, spec,
                     key);
            return false;
        }
    }
    if (max_given && !o->kvm_switch) {
        tn_error(err, "%s %s: switch-max= and switch-kvm-max= go with switch-test=SEED", opt,
                 spec);
        return false;
    }
    return true;
}

/* The tcg accelerator's properties: Tandem's jit=on|off and
 * jit-threshold=N (the x86 code generator, docs/x86-jit.md), and QEMU's
 * thread=, tb-size= and one-insn-per-tb=, which have no counterpart
 * here: Tandem runs one vCPU thread, sizes its block cache itself, and
 * its blocks are exact at every instruction already. */
static bool tcg_props(Options *o, const char *spec, const char *props, const char *opt,
                      GError **err)
{
    g_auto(GStrv) kv = g_strsplit(props, ",", -1);
    for (int i = 0; kv[i]; i++) {
        g_autofree char *key = NULL;
        const char *val;
        unsigned long long n;
        bool num = accel_prop(kv[i], 10, &key, &val, &n);
        if (!strcmp(key, "jit")) {
            if (strcmp(val, "on") && strcmp(val, "off")) {
                tn_error(err, "%s %s: jit= is on or off, not '%s'", opt, spec, val);
                return false;
            }
            o->jit_off = !strcmp(val, "off");
        } else if (!strcmp(key, "jit-threshold")) {
            if (!num || n < 1 || n > 65535) {
                tn_error(err, "%s %s: jit-threshold= wants a number from 1 to 65535, not '%s'",
                         opt, spec, val);
                return false;
            }
            o->jit_threshold = (unsigned)n;
        } else if (!strcmp(key, "thread")) {
            if (strcmp(val, "single") && strcmp(val, "multi")) {
                tn_error(err, "%s %s: thread= is single or multi, not '%s'", opt, spec, val);
                return false;
            }
        } else if (!strcmp(key, "tb-size") || !strcmp(key, "one-insn-per-tb") ||
                   !strcmp(key, "split-wx")) {
            /* QEMU's; nothing to set here (see above). */
        } else {
            tn_error(err, "%s %s: unknown tcg property '%s' (jit=on|off, jit-threshold=N, "
                     "and QEMU's thread=, tb-size=, one-insn-per-tb=, split-wx=)", opt, spec, key);
            return false;
        }
    }
    return true;
}

/* One accelerator name (with QEMU's -accel properties) appended to the
 * list tried in order. */
static bool add_accel(Options *o, const char *spec, const char *opt, GError **err)
{
    const char *comma = strchr(spec, ',');
    g_autofree char *name = comma ? g_strndup(spec, (gsize)(comma - spec)) : g_strdup(spec);
    const char *accel;
    if (!strcmp(name, "tcg")) {
        accel = "tcg";
        if (comma && !tcg_props(o, spec, comma + 1, opt, err))
            return false;
    } else if (!strcmp(name, "kvm")) {
        accel = "kvm";
        if (comma && !kvm_props(o, spec, comma + 1, opt, err))
            return false;
    } else {
        tn_error(err, "%s %s: unknown accelerator '%s' (kvm, tcg)", opt, spec, name);
        return false;
    }
    if (o->naccel == OPT_MAX_ACCEL) {
        tn_error(err, "too many accelerators (at most %d)", OPT_MAX_ACCEL);
        return false;
    }
    o->accel[o->naccel++] = accel;
    return true;
}

/* Could KVM be the accelerator used (named before any tcg)? */
static bool kvm_may_run(const Options *o)
{
    for (int i = 0; i < o->naccel; i++) {
        if (!strcmp(o->accel[i], "tcg"))
            return false;
        if (!strcmp(o->accel[i], "kvm"))
            return true;
    }
    return false;
}

static bool parse_machine(Options *o, const char *arg, GError **err)
{
    gchar **kv = g_strsplit(arg, ",", -1);
    bool ok = false;
    for (int i = 0; kv[i]; i++) {
        const char *k = kv[i];
        const char *eq = strchr(k, '=');
        if (i == 0 && !eq) {
            o->machine = g_intern_string(k);
            continue;
        }
        g_autofree char *key = eq ? g_strndup(k, (gsize)(eq - k)) : g_strdup(k);
        const char *val = eq ? eq + 1 : "";
        if (!strcmp(key, "type")) {
            o->machine = g_intern_string(val);
        } else if (!strcmp(key, "dumpdtb")) {
            o->dump_dtb = g_intern_string(val);
        } else if (!strcmp(key, "accel")) {
            /* accel=kvm:tcg: try in order */
            gchar **names = g_strsplit(val, ":", -1);
            bool good = names[0] != NULL;
            if (!good)
                tn_error(err, "-machine accel=: give kvm, tcg or kvm:tcg");
            for (int n = 0; good && names[n]; n++)
                good = add_accel(o, names[n], "-machine accel=", err);
            g_strfreev(names);
            if (!good)
                goto out;
        } else {
            tn_error(err, "-machine: unsupported property '%s'", key);
            goto out;
        }
    }
    ok = true;
out:
    g_strfreev(kv);
    return ok;
}

static bool parse_mem(Options *o, const char *arg, GError **err)
{
    const char *v = arg;
    if (!strncmp(v, "size=", 5))
        v += 5;
    if (strchr(v, ',')) {
        tn_error(err, "-m: only a size is supported ('%s')", arg);
        return false;
    }
    if (!parse_size_mib(v, &o->ram_size) || o->ram_size < (1u << 20)) {
        tn_error(err, "-m: invalid RAM size '%s' (examples: 512, 512M, 2G)", arg);
        return false;
    }
    return true;
}

void options_usage(const char *prog)
{
    printf("usage: %s [options]\n\n"
           "Tandem: a whole-system emulator with deterministic record/replay.\n\n"
           "  --arch ARCH          guest ISA (riscv64, riscv32); also from the program\n"
           "                       name tandem-system-ARCH\n"
           "  -M, -machine TYPE[,dumpdtb=FILE][,accel=A[:B]]  board (virt); -M help lists them\n"
           "  -cpu MODEL           CPU model (the board's default; -cpu help)\n"
           "  -m SIZE              RAM size (MiB, or with K/M/G suffix)\n"
           "  -smp 1               number of CPUs (1)\n"
           "  -bios FILE|none      firmware (ELF or raw)\n"
           "  -device DRIVER[,PROP=VALUE...]  add a device (pc: isa-debug-exit,\n"
           "                       ide-hd,drive=ID[,bus=ide.0|ide.1][,unit=0|1])\n"
           "  -drive file=F[,if=ide|none][,id=ID][,format=raw|qcow2][,snapshot=on]\n"
           "         [,readonly=on][,index=N]  a disk image (pc: IDE); also\n"
           "         driver=blkreplay,if=none,image=ID,id=ID2\n"
           "  -hda/-hdb/-hdc/-hdd FILE  -drive file=FILE,index=0..3\n"
           "  -audiodev none|wav|pa,id=ID[,path=OUT.wav][,in.path=IN.wav][,server=S]\n"
           "                       audio backend (wav: output to a file, input from one);\n"
           "                       pc: -device AC97,audiodev=ID\n"
           "  -audio DRIVER,model=ac97[,...]  the same as -audiodev DRIVER,id=audio0,...\n"
           "                       -device AC97,audiodev=audio0\n"
           "  -netdev user,id=ID[,hostfwd=tcp::HOSTPORT-:GUESTPORT][,net=A/M][,host=A][,dns=A]\n"
           "                       user networking (libslirp); pc: -device rtl8139|\n"
           "                       virtio-net-pci,netdev=ID[,mac=52:54:00:12:34:56]; virt:\n"
           "                       -device virtio-net-device,netdev=ID[,mac=...]\n"
           "  -object filter-replay,id=R,netdev=ID  record/replay the frames of netdev ID\n"
           "                       (required for each netdev under -icount rr=)\n"
           "  -nic user[,id=ID][,model=M][,mac=M][,hostfwd=...]  a netdev and its card\n"
           "                       (QEMU's form; the card: rtl8139 on pc, virtio-net on virt)\n"
           "  -net nic[,model=M][,macaddr=M][,netdev=ID] -net user[,id=ID][,...]\n"
           "                       QEMU's legacy form: one card joined to one user network\n"
           "  -net none, -nic none no network (also the default, with a note)\n"
           "  -kernel FILE         kernel (ELF, Linux Image, raw)\n"
           "  -initrd FILE         initial ram disk\n"
           "  -append CMDLINE      kernel command line\n"
           "  -dtb FILE            device tree blob instead of the generated one\n"
           "  -nographic           no display; serial and monitor on stdio (C-a h)\n"
           "  -display none        no display\n"
           "  -serial DEV          stdio, null, none, file:PATH, pty, mon:stdio\n"
           "  -monitor DEV         stdio, none\n"
           "  -no-reboot           exit instead of rebooting\n"
           "  -no-shutdown         (accepted; the machine exits on poweroff)\n"
           "  -icount shift=N|auto[,sleep=on|off]  instruction-counted virtual clock\n"
           "  -icount ...,rr=record|replay,rrfile=FILE[,rrsnapshot=NAME]  record/replay;\n"
           "                       rrsnapshot: record takes VM snapshot NAME at the start,\n"
           "                       replay starts from it (needs a writable qcow2 -drive)\n"
           "  -loadvm NAME         start from VM snapshot NAME (savevm in the monitor)\n"
           "  -accel kvm|tcg       kvm: run the guest on KVM (x86 pc only; host time is\n"
           "                       the virtual clock, no -icount/record/replay); tcg: the\n"
           "                       interpreter (default).  Several -accel: tried in order,\n"
           "                       e.g. -accel kvm -accel tcg falls back to the interpreter\n"
           "  -accel kvm,landing=auto|pmu|breakpoint|step  replay: run free between events,\n"
           "                   stopped near each by the host PMU's branch counter (pmu)\n"
           "                   and landed on with breakpoints (breakpoint: without the\n"
           "                   counter; auto, the default: the counter where it works);\n"
           "                   step: single-step every instruction\n"
           "  -accel kvm,switch-test=SEED[,switch-max=N][,switch-kvm-max=K]  test of the\n"
           "                       state transfer: the guest alternates between the\n"
           "                       interpreter and KVM (single-stepped) every 1..N\n"
           "                       instructions (N: 1000000; KVM's stretches 1..K, K: N)\n"
           "  -enable-kvm          -accel kvm\n"
           "  -gdb tcp::PORT       wait for gdb on PORT (also tcp:HOST:PORT); see docs/gdb.md\n"
           "  -s                   -gdb tcp::1234\n"
           "  -S                   do not start the CPU: gdb's continue (or the monitor's\n"
           "                       cont) starts it\n"
           "  -exit-state FILE     at exit, write icount, brcount and the CPU and RAM\n"
           "                       hashes to FILE (comparing runs)\n"
           "  -rr-snapshot-interval N\n"
           "                       replay under gdb: instructions between the in-memory\n"
           "                       snapshots reverse execution starts from (default 8388608)\n"
           "  -rr-perturb IC,REG   testing aid: flip bit 0 of register REG (0 = pc)\n"
           "                       when the guest has retired IC instructions\n"
           "  -rr-perturb IC,ram:ADDR\n"
           "                       ... of the RAM byte at guest-physical ADDR\n"
           "  -rr-perturb IC,gdb:N ... of the register gdb numbers N\n"
           "  -version, -h\n", prog);
}

/* -audiodev SPEC, and QEMU's -audio [driver=]DRIVER[,model=ac97][,PROP=V...]:
 * the backend "DRIVER,id=audio0,PROP=V..." plus, with model=, the card
 * -device AC97,audiodev=audio0. */
static bool parse_audio_option(Options *o, const char *opt, const char *arg, GError **err)
{
    if (o->naudiodevs == OPT_MAX_AUDIODEVS) {
        tn_error(err, "too many -audiodev options (at most %d)", OPT_MAX_AUDIODEVS);
        return false;
    }
    if (!strcmp(opt, "-audiodev")) {
        if (!audio_check_spec(arg, err))
            return false;
        g_autofree char *id = audio_spec_id(arg);
        for (int i = 0; i < o->naudiodevs; i++) {
            g_autofree char *other = audio_spec_id(o->audiodevs[i]);
            if (!strcmp(other, id)) {
                tn_error(err, "-audiodev %s: id=%s is used twice", arg, id);
                return false;
            }
        }
        o->audiodevs[o->naudiodevs++] = arg;
        return true;
    }
    if (o->audio_shorthand) {
        tn_error(err, "-audio %s: only one -audio option (use -audiodev for more)", arg);
        return false;
    }
    const char *spec = !strncmp(arg, "driver=", 7) ? arg + 7 : arg;
    gchar **parts = g_strsplit(spec, ",", -1);
    GString *dev = g_string_new(parts[0]);
    g_string_append(dev, ",id=audio0");
    const char *model = NULL;
    bool ok = true;
    for (int i = 1; parts[i] && ok; i++) {
        if (!strncmp(parts[i], "model=", 6)) {
            model = g_intern_string(parts[i] + 6);
        } else if (!strncmp(parts[i], "id=", 3)) {
            tn_error(err, "-audio %s: -audio names its backend audio0; use -audiodev for "
                     "another id", arg);
            ok = false;
        } else {
            g_string_append_printf(dev, ",%s", parts[i]);
        }
    }
    g_strfreev(parts);
    const char *adev = g_intern_string(dev->str);
    g_string_free(dev, TRUE);
    if (!ok)
        return false;
    if (!audio_check_spec(adev, err)) {
        g_prefix_error(err, "-audio %s: ", arg);
        return false;
    }
    if (model && strcmp(model, "ac97")) {
        tn_error(err, "-audio %s: model=%s is not supported (the pc machine has model=ac97)",
                 arg, model);
        return false;
    }
    if (model) {
        if (o->ndevices == OPT_MAX_DEVICES) {
            tn_error(err, "too many -device options (at most %d)", OPT_MAX_DEVICES);
            return false;
        }
        o->devices[o->ndevices++] = "AC97,audiodev=audio0";
    }
    o->audiodevs[o->naudiodevs++] = adev;
    o->audio_shorthand = true;
    return true;
}

/* An -audiodev no -device names is reported (QEMU accepts it silently). */
static void warn_unused_audiodevs(const Options *o)
{
    for (int i = 0; i < o->naudiodevs; i++) {
        g_autofree char *id = audio_spec_id(o->audiodevs[i]);
        bool used = o->audio_shorthand && !strcmp(id, "audio0");
        for (int d = 0; d < o->ndevices && !used; d++) {
            char *v = NULL;
            if (device_spec_prop(o->devices[d], "audiodev", &v))
                used = !strcmp(v, id);
            g_free(v);
        }
        if (!used)
            fprintf(stderr, "tandem: warning: -audiodev %s: no -device uses it (add "
                    "-device AC97,audiodev=%s)\n", o->audiodevs[i], id);
    }
}

static bool add_netdev(Options *o, const char *spec, GError **err)
{
    if (o->nnetdevs == OPT_MAX_NETDEVS) {
        tn_error(err, "too many -netdev options (at most %d)", OPT_MAX_NETDEVS);
        return false;
    }
    if (!net_parse_netdev(spec, NULL, err))
        return false;
    o->netdevs[o->nnetdevs++] = spec;
    return true;
}

static bool add_device(Options *o, const char *spec, GError **err)
{
    if (o->ndevices == OPT_MAX_DEVICES) {
        tn_error(err, "too many -device options (at most %d)", OPT_MAX_DEVICES);
        return false;
    }
    o->devices[o->ndevices++] = spec;
    return true;
}

/* QEMU's model= names to Tandem's -device drivers; none given: "nic", which
 * the board claims as its own card (BoardDesc.nic_model).  "virtio" is
 * QEMU's virtio-net-pci: pc's card of that name, which the virt board puts
 * on virtio-mmio as virtio-net-device. */
static const char *nic_driver(const char *model)
{
    if (!model)
        return "nic";
    if (!strcmp(model, "virtio"))
        return "virtio-net-pci";
    return model;
}

/* The card of -nic and -net nic: "DRIVER,netdev=ID[,mac=M][,addr=A]" (interned). */
static const char *nic_spec(const char *opt, const char *arg, const char *model,
                            const char *netdev, const char *mac, const char *addr,
                            GError **err)
{
    uint8_t m[6];
    if (mac && !net_parse_mac(mac, m)) {
        tn_error(err, "%s %s: bad MAC address '%s' (six hex bytes, unicast: "
                 "52:54:00:12:34:56)", opt, arg, mac);
        return NULL;
    }
    GString *s = g_string_new(nic_driver(model));
    g_string_append_printf(s, ",netdev=%s", netdev);
    if (mac)
        g_string_append_printf(s, ",mac=%s", mac);
    if (addr)
        g_string_append_printf(s, ",addr=%s", addr);
    const char *r = g_intern_string(s->str);
    g_string_free(s, TRUE);
    return r;
}

/* -nic user[,id=ID][,model=M][,mac=M][,user networking options]: a netdev
 * (id __org.qemu.nicN unless given, as QEMU names it) and its card. */
static bool parse_nic(Options *o, const char *arg, GError **err)
{
    gchar **parts = g_strsplit(arg, ",", -1);
    GString *nd = g_string_new(parts[0]);
    char *id = NULL, *model = NULL, *mac = NULL;
    bool ok = false;
    if (strcmp(parts[0], "user")) {
        tn_error(err, "-nic %s: network backend '%s' is not supported (Tandem has user "
                 "networking: -nic user[,model=rtl8139][,mac=M][,hostfwd=...])", arg,
                 parts[0]);
        goto out;
    }
    for (int i = 1; parts[i]; i++) {
        char *eq = strchr(parts[i], '=');
        const char *v = eq ? eq + 1 : "";
        char **to = NULL;
        if (eq && !strncmp(parts[i], "id=", 3))
            to = &id;
        else if (eq && !strncmp(parts[i], "model=", 6))
            to = &model;
        else if (eq && !strncmp(parts[i], "mac=", 4))
            to = &mac;
        if (!to) {
            g_string_append_printf(nd, ",%s", parts[i]);   /* net_parse_netdev checks it */
            continue;
        }
        if (!*v || *to) {
            tn_error(err, "-nic %s: %s needs one value", arg, parts[i]);
            goto out;
        }
        *to = g_strdup(v);
    }
    if (!id)
        id = g_strdup_printf("__org.qemu.nic%d", o->nnics);
    g_string_append_printf(nd, ",id=%s", id);
    const char *dev = nic_spec("-nic", arg, model, id, mac, NULL, err);
    ok = dev && add_netdev(o, g_intern_string(nd->str), err) && add_device(o, dev, err);
    o->nnics++;
out:
    g_strfreev(parts);
    g_string_free(nd, TRUE);
    g_free(id);
    g_free(model);
    g_free(mac);
    return ok;
}

/* QEMU's legacy -net nic / -net user.  Tandem has no hub (QEMU's vlan 0):
 * one -net user and one -net nic without netdev= are joined as a netdev
 * and its card; a -net nic with netdev= is that netdev's card. */
static bool parse_legacy_net(Options *o, const char *arg, GError **err)
{
    gchar **parts = g_strsplit(arg, ",", -1);
    bool ok = false;
    if (!strcmp(parts[0], "user")) {
        if (o->hub_user) {
            tn_error(err, "-net %s: one -net user at most (Tandem has no hub to join two; "
                     "use -netdev user,id=ID -device rtl8139,netdev=ID for each)", arg);
            goto out;
        }
        GString *nd = g_string_new("user");
        char *id = NULL;
        for (int i = 1; parts[i]; i++) {
            if (!strncmp(parts[i], "id=", 3) || !strncmp(parts[i], "name=", 5)) {
                g_free(id);
                id = g_strdup(strchr(parts[i], '=') + 1);
            } else {
                g_string_append_printf(nd, ",%s", parts[i]);
            }
        }
        o->hub_user = g_intern_string(id && *id ? id : "user.0");
        g_string_append_printf(nd, ",id=%s", o->hub_user);
        g_free(id);
        ok = add_netdev(o, g_intern_string(nd->str), err);
        g_string_free(nd, TRUE);
        goto out;
    }
    if (strcmp(parts[0], "nic")) {
        tn_error(err, "-net %s: '%s' is not supported (Tandem knows -net nic, -net user and "
                 "-net none)", arg, parts[0]);
        goto out;
    }
    const char *vals[4] = { 0 };
    static const char *const keys[4] = { "model", "macaddr", "netdev", "addr" };
    for (int i = 1; parts[i]; i++) {
        char *eq = strchr(parts[i], '=');
        int k = 0;
        if (eq)
            *eq = 0;
        while (k < 4 && strcmp(parts[i], keys[k]))
            k++;
        if (!eq || !eq[1] || k == 4 || vals[k]) {
            tn_error(err, "-net %s: %s%s%s is not supported (-net nic takes model=, macaddr=, "
                     "netdev=, addr=, once each)", arg, parts[i], eq ? "=" : "",
                     eq ? eq + 1 : "");
            goto out;
        }
        vals[k] = eq + 1;
    }
    if (!vals[2] && o->hub_nic) {
        tn_error(err, "-net %s: one -net nic without netdev= at most (Tandem has no hub to "
                 "join two cards; use -netdev/-device for each)", arg);
        goto out;
    }
    const char *dev = nic_spec("-net", arg, vals[0], vals[2] ? vals[2] : "?", vals[1],
                               vals[3], err);
    if (!dev || !add_device(o, dev, err))
        goto out;
    if (!vals[2]) {
        /* Its netdev is known at the end of the command line. */
        o->hub_nic = true;
        o->hub_nic_index = o->ndevices - 1;
        o->hub_nic_arg = arg;
    }
    ok = true;
out:
    g_strfreev(parts);
    return ok;
}

/* After the command line: the hub's card gets the hub's netdev. */
static bool finish_net(Options *o, GError **err)
{
    if (!o->hub_nic)
        return true;
    if (!o->hub_user) {
        tn_error(err, "-net %s: the card has no network (QEMU's hub 0 would stay unconnected): "
                 "add -net user, give netdev=ID, or use -net none", o->hub_nic_arg);
        return false;
    }
    const char *spec = o->devices[o->hub_nic_index];
    const char *q = strstr(spec, ",netdev=?");
    GString *s = g_string_new_len(spec, q - spec);
    g_string_append_printf(s, ",netdev=%s%s", o->hub_user, q + strlen(",netdev=?"));
    o->devices[o->hub_nic_index] = g_intern_string(s->str);
    g_string_free(s, TRUE);
    return true;
}

/* -netdev, -object, -nic, -net (net/net.h checks the specs). */
static bool parse_net_option(Options *o, const char *opt, const char *arg, GError **err)
{
    if (!strcmp(opt, "-netdev"))
        return add_netdev(o, arg, err);
    if (!strcmp(opt, "-object")) {
        if (o->nobjects == OPT_MAX_OBJECTS) {
            tn_error(err, "too many -object options (at most %d)", OPT_MAX_OBJECTS);
            return false;
        }
        if (!net_parse_object(arg, NULL, err))
            return false;
        o->objects[o->nobjects++] = arg;
        return true;
    }
    if (!strcmp(arg, "none")) {
        o->net_none = true;
        return true;
    }
    return !strcmp(opt, "-nic") ? parse_nic(o, arg, err) : parse_legacy_net(o, arg, err);
}

/* -hda F is -drive file=F,index=N,media=disk (commas in F doubled). */
static const char *hd_spec(const char *file, int index)
{
    GString *s = g_string_new("file=");
    for (const char *p = file; *p; p++)
        g_string_append(s, *p == ',' ? ",," : (char[]){ *p, 0 });
    g_string_append_printf(s, ",index=%d,media=disk", index);
    const char *r = g_intern_string(s->str);
    g_string_free(s, TRUE);
    return r;
}

char *device_spec_driver(const char *spec)
{
    const char *c = strchr(spec, ',');
    return c ? g_strndup(spec, (gsize)(c - spec)) : g_strdup(spec);
}

bool device_spec_prop(const char *spec, const char *key, char **val)
{
    gchar **parts = g_strsplit(spec, ",", -1);
    bool found = false;
    size_t klen = strlen(key);
    for (int i = 1; parts[i]; i++) {
        if (!strncmp(parts[i], key, klen) && parts[i][klen] == '=') {
            g_free(found ? *val : NULL);
            *val = g_strdup(parts[i] + klen + 1);
            found = true;
        }
    }
    g_strfreev(parts);
    return found;
}

bool device_spec_check(const char *spec, const char *const *keys, GError **err)
{
    gchar **parts = g_strsplit(spec, ",", -1);
    bool ok = true;
    for (int i = 1; parts[i] && ok; i++) {
        char *eq = strchr(parts[i], '=');
        size_t n = eq ? (size_t)(eq - parts[i]) : strlen(parts[i]);
        bool known = false;
        for (int k = 0; keys[k]; k++)
            if (strlen(keys[k]) == n && !strncmp(keys[k], parts[i], n))
                known = true;
        if (!known || !eq) {
            GString *l = g_string_new(NULL);
            for (int k = 0; keys[k]; k++)
                g_string_append_printf(l, "%s%s", k ? ", " : "", keys[k]);
            tn_error(err, "-device %s: %s '%.*s' (properties: %s)", spec,
                     known ? "no value for property" : "unknown property",
                     (int)n, parts[i], l->len ? l->str : "none");
            g_string_free(l, TRUE);
            ok = false;
        }
    }
    g_strfreev(parts);
    return ok;
}

bool device_spec_uint(const char *spec, const char *key, uint64_t def, uint64_t max,
                      uint64_t *out, GError **err)
{
    char *v = NULL;
    *out = def;
    if (!device_spec_prop(spec, key, &v))
        return true;
    char *end = NULL;
    errno = 0;
    guint64 n = g_ascii_strtoull(v, &end, 0);
    bool ok = v[0] && !*end && errno == 0 && n <= max;
    if (ok)
        *out = n;
    else
        tn_error(err, "-device %s: %s=%s is not a number from 0 to 0x%" G_GINT64_MODIFIER "x",
                 spec, key, v, max);
    g_free(v);
    return ok;
}

bool options_parse(Options *o, int argc, char **argv, GError **err)
{
    memset(o, 0, sizeof(*o));
    o->ram_size = 128ull << 20;
    o->smp = 1;
    o->icount_shift = -1;
    o->icount_sleep = true;
    o->perturb_reg = -1;
    o->kvm_switch_max = 1000000;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1] == '-' && a[2])
            a++;                 /* QEMU accepts --opt as -opt */
#define NEED_ARG() do { \
            if (i + 1 >= argc) { \
                tn_error(err, "option '%s' needs an argument", argv[i]); \
                return false; \
            } \
        } while (0)
#define ARG (argv[++i])
        if (!strcmp(a, "-h") || !strcmp(a, "-help")) {
            options_usage(argv[0]);
            exit(0);
        } else if (!strcmp(a, "-version")) {
            printf("Tandem emulator version 0.1.0\n");
            exit(0);
        } else if (!strcmp(a, "-arch")) {
            NEED_ARG(); o->arch = ARG;
        } else if (!strcmp(a, "-M") || !strcmp(a, "-machine")) {
            NEED_ARG();
            if (!parse_machine(o, ARG, err))
                return false;
        } else if (!strcmp(a, "-device")) {
            NEED_ARG();
            const char *spec = ARG;
            if (!strcmp(spec, "help") || !spec[0] || spec[0] == ',') {
                tn_error(err, "-device %s: give a driver name and its properties, e.g. "
                         "-device isa-debug-exit,iobase=0xf4,iosize=0x04", spec);
                return false;
            }
            if (o->ndevices == OPT_MAX_DEVICES) {
                tn_error(err, "too many -device options (at most %d)", OPT_MAX_DEVICES);
                return false;
            }
            o->devices[o->ndevices++] = spec;
        } else if (!strcmp(a, "-drive") || (!strncmp(a, "-hd", 3) && a[3] >= 'a' &&
                                             a[3] <= 'd' && !a[4])) {
            NEED_ARG();
            const char *spec = ARG;
            if (a[1] == 'h')
                spec = hd_spec(spec, a[3] - 'a');
            if (o->ndrives == OPT_MAX_DRIVES) {
                tn_error(err, "too many -drive options (at most %d)", OPT_MAX_DRIVES);
                return false;
            }
            if (!drive_parse(spec, NULL, err))
                return false;
            o->drives[o->ndrives++] = spec;
        } else if (!strcmp(a, "-cpu")) {
            NEED_ARG(); o->cpu = ARG;
        } else if (!strcmp(a, "-m")) {
            NEED_ARG();
            if (!parse_mem(o, ARG, err))
                return false;
        } else if (!strcmp(a, "-smp")) {
            NEED_ARG();
            const char *v = ARG;
            if (strcmp(v, "1") && strcmp(v, "cpus=1")) {
                tn_error(err, "-smp %s: Tandem runs one CPU per machine for now", v);
                return false;
            }
        } else if (!strcmp(a, "-bios")) {
            NEED_ARG(); o->bios = ARG;
        } else if (!strcmp(a, "-kernel")) {
            NEED_ARG(); o->kernel = ARG;
        } else if (!strcmp(a, "-initrd")) {
            NEED_ARG(); o->initrd = ARG;
        } else if (!strcmp(a, "-append")) {
            NEED_ARG(); o->append = ARG;
        } else if (!strcmp(a, "-dtb")) {
            NEED_ARG(); o->dtb = ARG;
        } else if (!strcmp(a, "-nographic")) {
            o->nographic = true;
        } else if (!strcmp(a, "-display")) {
            NEED_ARG();
            const char *v = ARG;
            if (strcmp(v, "none")) {
                tn_error(err, "-display %s: Tandem has no graphical display; use -display none or -nographic", v);
                return false;
            }
            o->display_none = true;
        } else if (!strcmp(a, "-serial")) {
            NEED_ARG();
            if (o->nserial == OPT_MAX_SERIAL) {
                tn_error(err, "too many -serial options (at most %d)", OPT_MAX_SERIAL);
                return false;
            }
            o->serial[o->nserial++] = ARG;
            o->serial_given = true;
        } else if (!strcmp(a, "-monitor")) {
            NEED_ARG();
            const char *v = ARG;
            if (strcmp(v, "stdio") && strcmp(v, "none") && strcmp(v, "null")) {
                tn_error(err, "-monitor %s: supported monitor backends are stdio and none", v);
                return false;
            }
            o->monitor = v;
        } else if (!strcmp(a, "-no-reboot")) {
            o->no_reboot = true;
        } else if (!strcmp(a, "-no-shutdown")) {
            o->no_shutdown = true;
        } else if (!strcmp(a, "-nodefaults")) {
            o->nodefaults = true;
        } else if (!strcmp(a, "-icount")) {
            NEED_ARG();
            if (!parse_icount(o, ARG, err))
                return false;
        } else if (!strcmp(a, "-rr-perturb")) {
            NEED_ARG();
            const char *v = ARG;
            char *end;
            unsigned long long ic = strtoull(v, &end, 0);
            long reg = -1;
            if (end == v) {
                end = (char *)"?";          /* no ICOUNT */
            } else if (*end == ',' && !strncmp(end + 1, "ram:", 4)) {
                const char *a = end + 5;
                o->perturb_addr = strtoull(a, &end, 0);
                if (end != a && !*end)
                    reg = OPT_PERTURB_RAM;
            } else if (*end == ',' && !strncmp(end + 1, "gdb:", 4)) {
                const char *a = end + 5;
                o->perturb_addr = strtoull(a, &end, 10);
                if (end != a && !*end && o->perturb_addr < 1024)
                    reg = OPT_PERTURB_GDB;
            } else if (*end == ',') {
                const char *r = end + 1;
                reg = strtol(r, &end, 0);
                if (end == r || reg > 31)
                    reg = -1;
            }
            if (*end || reg < 0) {
                tn_error(err, "-rr-perturb %s: expected ICOUNT,REG with REG 0..31 (0 = pc), "
                         "ICOUNT,ram:ADDR or ICOUNT,gdb:N", v);
                return false;
            }
            o->perturb_icount = ic;
            o->perturb_reg = (int)reg;
        } else if (!strcmp(a, "-rr-snapshot-interval")) {
            NEED_ARG();
            const char *v = ARG;
            char *end;
            errno = 0;
            unsigned long long n = strtoull(v, &end, 0);
            if (!*v || *end || errno || n < 1000 || v[0] == '-') {
                tn_error(err, "-rr-snapshot-interval %s: expected a number of instructions, "
                         "at least 1000", v);
                return false;
            }
            o->rr_snapshot_interval = n;
        } else if (!strcmp(a, "-loadvm")) {
            NEED_ARG();
            o->loadvm = ARG;
            if (!*o->loadvm) {
                tn_error(err, "-loadvm needs a snapshot name or id");
                return false;
            }
        } else if (!strcmp(a, "-exit-state")) {
            NEED_ARG();
            o->exit_state = ARG;
        } else if (!strcmp(a, "-accel")) {
            NEED_ARG();
            const char *v = ARG;
            if (!strcmp(v, "help") || !strcmp(v, "?")) {
                printf("Accelerators supported in this binary:\ntcg\nkvm\n");
                exit(0);
            }
            if (!add_accel(o, v, "-accel", err))
                return false;
        } else if (!strcmp(a, "-gdb") || !strcmp(a, "-s")) {
            /* The gdb stub (vmm/gdbstub.c). */
            const char *spec = "tcp::1234";
            if (!strcmp(a, "-gdb")) {
                NEED_ARG();
                spec = ARG;
            }
            char *host = NULL;
            int port;
            if (!gdbstub_parse_spec(spec, &host, &port, err))
                return false;
            g_free(host);
            if (o->gdb && strcmp(o->gdb, spec)) {
                tn_error(err, "-gdb %s: only one gdb stub (already -gdb %s)", spec, o->gdb);
                return false;
            }
            o->gdb = spec;
        } else if (!strcmp(a, "-S")) {
            o->start_stopped = true;
        } else if (!strcmp(a, "-enable-kvm")) {
            if (!add_accel(o, "kvm", "-enable-kvm", err))
                return false;
        } else if (!strcmp(a, "-netdev") || !strcmp(a, "-object") || !strcmp(a, "-net") ||
                   !strcmp(a, "-nic")) {
            NEED_ARG();
            if (!parse_net_option(o, a, ARG, err))
                return false;
        } else if (!strcmp(a, "-audiodev") || !strcmp(a, "-audio")) {
            NEED_ARG();
            if (!parse_audio_option(o, a, ARG, err))
                return false;
        } else {
            if (a[0] == '-')
                tn_error(err, "unknown option '%s' (see -h)", argv[i]);
            else
                tn_error(err, "unexpected argument '%s' (options start with '-'; see -h)", a);
            return false;
        }
#undef NEED_ARG
#undef ARG
    }
    if (!finish_net(o, err))
        return false;
    warn_unused_audiodevs(o);
    if (o->loadvm && o->rr_mode == 1) {
        tn_error(err, "-loadvm %s: a recording starts from reset, or from a snapshot it "
                 "takes itself: use -icount ...,rr=record,rrsnapshot=NAME", o->loadvm);
        return false;
    }
    if (o->loadvm && o->rr_snapshot) {
        tn_error(err, "-loadvm %s: the replay starts from rrsnapshot=%s; loadvm in the "
                 "monitor goes elsewhere", o->loadvm, o->rr_snapshot);
        return false;
    }
    /* What needs an instruction count cannot run on KVM (QEMU refuses
     * -icount with hardware virtualization the same way). */
    if (o->kvm_landing_set && !(kvm_may_run(o) && o->rr_mode == 2 && !o->kvm_switch)) {
        tn_error(err, "-accel kvm,landing= applies to a replay on KVM (-accel kvm with "
                 "-icount ...,rr=replay)");
        return false;
    }
    if (kvm_may_run(o) && o->kvm_switch) {
        /* The switch test counts every instruction (single-stepping on
         * KVM): the interpreter's clock modes all work. */
        if (o->rr_mode) {
            tn_error(err, "-accel kvm,switch-test= does not record or replay yet (drop "
                     "-icount rr=)");
            return false;
        }
    } else if (kvm_may_run(o) && o->rr_mode == 2) {
        /* Replay on KVM: free runs landed on the log's events, or every
         * instruction single-stepped and counted (targets/x86/kvm_switch.c). */
        if (o->perturb_reg >= 0 && o->kvm_landing == KVM_LAND_STEP) {
            tn_error(err, "-rr-perturb with -accel kvm needs free runs to perturb "
                     "(landing=auto, pmu or breakpoint)");
            return false;
        }
    } else if (kvm_may_run(o)) {
        if (o->rr_mode) {
            tn_error(err, "-icount rr=record is not allowed with -accel kvm: recordings are "
                     "made on the interpreter (use -accel tcg); they replay on either");
            return false;
        }
        if (o->icount) {
            tn_error(err, "-icount is not allowed with hardware virtualization (-accel kvm): "
                     "KVM has no instruction count (use -accel tcg)");
            return false;
        }
        if (o->perturb_reg >= 0) {
            tn_error(err, "-rr-perturb needs the interpreter's instruction count; it is not "
                     "allowed with -accel kvm");
            return false;
        }
    }
    return true;
}
