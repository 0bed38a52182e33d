#include "vmm/machine.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "block/drive.h"
#include "net/net.h"
#include "vmm/chardev.h"
#include "vmm/debug.h"
#include "vmm/hash.h"
#include "vmm/error.h"
#include "vmm/monitor.h"
#include "checkpoint/timeline.h"
#include "vmm/target.h"
#include "rr/rr.h"

void machine_add_device(Machine *m, const DeviceOps *ops, void *dev)
{
    if (m->ndevices == m->devices_cap) {
        m->devices_cap = m->devices_cap ? m->devices_cap * 2 : 16;
        m->devices = g_renew(DeviceEntry, m->devices, m->devices_cap);
    }
    m->devices[m->ndevices++] = (DeviceEntry){ ops, dev };
}

void machine_request_shutdown(Machine *m, int status)
{
    m->shutdown_requested = true;
    m->exit_status = status;
    m->exit_request = 1;
}

void machine_request_reset(Machine *m)
{
    m->reset_requested = true;
    m->exit_request = 1;
}

void machine_set_error(Machine *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (m->error)
        g_free(msg);        /* keep the first cause */
    else
        m->error = msg;
    m->exit_request = 1;
}

Chardev *machine_serial(Machine *m, int n)
{
    return n >= 0 && n < m->nserial ? m->serial[n] : NULL;
}

int64_t machine_host_clock_ns(Machine *m)
{
    return rr_host_clock(m);
}

uint64_t machine_guest_tsc(Machine *m, uint64_t value)
{
    return rr_tsc(m, value);
}

uint8_t *machine_alloc_ram_host(Machine *m, uint64_t size, GError **err)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        tn_error(err, "cannot allocate %llu MiB of guest RAM: %s",
                 (unsigned long long)(size >> 20), strerror(errno));
        return NULL;
    }
    m->ram = p;
    m->ram_size = size;
    return p;
}

int machine_alloc_ram(Machine *m, uint64_t base, uint64_t size, GError **err)
{
    uint8_t *p = machine_alloc_ram_host(m, size, err);
    if (!p)
        return -1;
    if (as_add_ram(&m->as, "ram", base, size, p, false) < 0) {
        tn_error(err, "guest RAM at 0x%llx overlaps another region",
                 (unsigned long long)base);
        return -1;        /* machine_destroy unmaps it */
    }
    m->ram_base = base;
    return 0;
}

const char *machine_take_device(Machine *m, const char *driver)
{
    for (int i = 0; i < m->opts->ndevices; i++) {
        if (m->device_taken[i])
            continue;
        char *d = device_spec_driver(m->opts->devices[i]);
        /* "nic" (-nic or -net nic without model=) is the board's own card. */
        bool match = !strcmp(d, driver) ||
                     (!strcmp(d, "nic") && m->board->nic_model &&
                      !strcmp(driver, m->board->nic_model));
        g_free(d);
        if (match) {
            m->device_taken[i] = true;
            return m->opts->devices[i];
        }
    }
    return NULL;
}

static void quit_cb(void *opaque)
{
    rr_user_quit(opaque);
}

static bool open_backends(Machine *m, const Options *o, GError **err)
{
    const char *specs[OPT_MAX_SERIAL];
    int n = 0;
    bool mux_stdio = false;
    const char *mon = o->monitor;

    if (o->serial_given) {
        for (int i = 0; i < o->nserial; i++)
            specs[n++] = o->serial[i];
    } else if (!o->nodefaults) {
        /* No display exists, so the default is what -nographic gives. */
        if (mon && !strcmp(mon, "stdio"))
            specs[n++] = "null";
        else
            specs[n++] = "mon:stdio";
    }
    for (int i = 0; i < n; i++) {
        const char *s = specs[i];
        if (!strcmp(s, "mon:stdio")) {
            mux_stdio = true;
            s = "stdio";
        }
        if (!strcmp(s, "stdio") && mon && !strcmp(mon, "stdio") && !mux_stdio) {
            tn_error(err, "cannot use stdio for both -serial and -monitor (use -serial mon:stdio)");
            return false;
        }
        m->serial[i] = chardev_open(s, err);
        if (!m->serial[i])
            return false;
        m->nserial = i + 1;
        if (mux_stdio && !strcmp(s, "stdio") && (!mon || !strcmp(mon, "stdio"))) {
            CharMux mux = { quit_cb, monitor_input_cb, m };
            chardev_set_mux(m->serial[i], &mux);
            m->monitor_chr = m->serial[i];
        }
    }
    if (mon && !strcmp(mon, "stdio") && !m->monitor_chr) {
        m->monitor_own = chardev_open("stdio", err);
        if (!m->monitor_own)
            return false;
        CharFrontend fe = { monitor_can_receive_cb, monitor_receive_cb, m };
        chardev_set_frontend(m->monitor_own, &fe);
        m->monitor_chr = m->monitor_own;
        monitor_prompt(m);
    }
    return true;
}

/* The first usable accelerator of -accel/-enable-kvm/-machine accel= (tcg
 * when none is named).  KVM that cannot be used is an error naming why, or,
 * with a later one to fall back on, a one-line note. */
static bool choose_accel(Machine *m, GError **err)
{
    const Options *o = m->opts;
    const BoardDesc *b = m->board;
    m->accel = "tcg";
    for (int i = 0; i < o->naccel; i++) {
        if (!strcmp(o->accel[i], "tcg"))
            return true;
        GError *e = NULL;
        if (!b->kvm_init) {
            tn_error(&e, "the %s machine does not support KVM (only the x86 pc machine does)",
                     b->name);
        } else if (b->kvm_init(m, &e)) {
            m->accel = "kvm";
            if (o->kvm_switch || o->rr_mode == 2)
                return true;     /* counted: the interpreter's clock modes */
            m->clock.auto_shift = false;
            vclock_set_realtime(&m->clock);
            return true;
        }
        if (i + 1 == o->naccel) {
            tn_error(err, "-accel kvm: %s", e->message);
            g_error_free(e);
            return false;
        }
        fprintf(stderr, "tandem: KVM is unusable (%s); using the next accelerator (%s)\n",
                e->message, !strcmp(o->accel[i + 1], "tcg") ? "tcg: the interpreter"
                                                            : o->accel[i + 1]);
        g_error_free(e);
    }
    return true;
}

Machine *machine_create(const Options *o, GError **err)
{
    const TargetDesc *t = target_find(o->arch);
    if (!t) {
        GString *s = g_string_new(NULL);
        for (int i = 0; tandem_targets[i]; i++)
            g_string_append_printf(s, "%s%s", i ? ", " : "", tandem_targets[i]->arch);
        tn_error(err, "unknown guest architecture '%s' (this build has: %s)", o->arch, s->str);
        g_string_free(s, TRUE);
        return NULL;
    }
    const BoardDesc *b = target_board(t, o->machine);
    if (!b) {
        tn_error(err, "unknown machine type '%s' for %s (use -M help)", o->machine, t->arch);
        return NULL;
    }
    if (o->cpu && strcmp(o->cpu, t->default_cpu) && strcmp(o->cpu, "max")) {
        tn_error(err, "unknown CPU model '%s' for %s (supported: %s)", o->cpu, t->arch, t->default_cpu);
        return NULL;
    }
    /* Boards with a disk controller list its device (ide-hd,
     * virtio-blk-device) and open the -drive images themselves. */
    bool has_disks = false;
    for (int k = 0; b->devices && b->devices[k]; k++)
        has_disks |= !strcmp(b->devices[k], "ide-hd") ||
                     !strcmp(b->devices[k], "virtio-blk-device");
    /* Without one, only if=none drives that no device uses: they hold VM
     * snapshots (savevm; QEMU's "orphan" drive of a diskless machine). */
    for (int i = 0; i < o->ndrives && !has_disks; i++) {
        Drive d = { 0 };
        if (drive_parse(o->drives[i], &d, NULL) && d.iface != DRIVE_IF_NONE) {
            drive_clear(&d);
            tn_error(err, "-drive %s: the %s machine has no disk controller yet (an "
                     "if=none drive, which holds VM snapshots, is possible)", o->drives[i],
                     b->name);
            return NULL;
        }
        drive_clear(&d);
    }

    Machine *m = g_new0(Machine, 1);
    m->opts = o;
    m->board = b;
    m->variant = t->variant;
    as_init(&m->as);
    as_init(&m->io);
    vclock_init(&m->clock, NULL, o->icount_shift >= 0 ? o->icount_shift : 3);
    m->clock.auto_shift = o->icount_shift < 0;
    m->clock.sleep = o->icount_sleep;
    m->clock.exit_request = &m->exit_request;
    m->as.in_access = &m->clock.in_access;
    m->io.in_access = &m->clock.in_access;
    if (!open_backends(m, o, err))
        goto fail;
    if (o->ndrives && !has_disks) {
        m->drives = drives_open(o->drives, o->ndrives, o->rr_mode, o->rr_snapshot != NULL,
                                err);
        if (!m->drives)
            goto fail;
        m->drives_owned = true;
    }
    /* Before the board: its network devices attach to the netdevs. */
    m->net = net_create(m, o, err);
    if (!m->net)
        goto fail;
    if (!b->init(m, t->variant, err))
        goto fail;
    net_check_peers(m->net);
    /* QEMU adds a card on user networking here; Tandem adds none, and
     * says so (docs/net.md). */
    if (b->nic_model && !o->nnetdevs && !o->net_none && !o->nodefaults)
        fprintf(stderr, "tandem: note: no network card (QEMU would add one on user "
                "networking): -nic user adds a %s on user networking; -net none "
                "silences this note\n", b->nic_model);
    for (int i = 0; i < o->ndevices; i++) {
        if (!m->device_taken[i]) {
            char *drv = device_spec_driver(o->devices[i]);
            GString *l = g_string_new(NULL);
            for (int k = 0; b->devices && b->devices[k]; k++)
                g_string_append_printf(l, "%s%s", k ? ", " : "", b->devices[k]);
            tn_error(err, "-device %s: the %s machine has no device '%s' (it has: %s)",
                     o->devices[i], b->name, drv, l->len ? l->str : "none");
            g_string_free(l, TRUE);
            g_free(drv);
            goto fail;
        }
    }
    if (!m->cpu || !m->cpu_ops || !m->icount) {
        tn_error(err, "board %s did not create a CPU", b->name);
        goto fail;
    }
    vclock_attach(&m->clock, m->icount);
    /* Last: KVM drops the process's privileges. */
    if (!choose_accel(m, err))
        goto fail;
    if (!rr_start(m, err))
        goto fail;
    return m;
fail:
    machine_destroy(m);
    return NULL;
}

void machine_destroy(Machine *m)
{
    if (!m)
        return;
    timeline_free(m->timeline);
    m->timeline = NULL;
    rr_free(m);
    for (int i = m->ndevices - 1; i >= 0; i--)
        if (m->devices[i].ops->destroy)
            m->devices[i].ops->destroy(m->devices[i].dev);
    g_free(m->devices);
    net_free(m->net);
    m->net = NULL;
    if (m->drives_owned)
        drives_close(m->drives);
    m->drives = NULL;
    if (m->cpu && m->cpu_ops && m->cpu_ops->destroy)
        m->cpu_ops->destroy(m->cpu);
    for (int i = 0; i < m->nserial; i++)
        chardev_close(m->serial[i]);
    chardev_close(m->monitor_own);
    if (m->ram)
        munmap(m->ram, m->ram_size);
    for (int i = 0; i < m->nfree; i++)
        g_free(m->to_free[i]);
    g_free(m->to_free);
    g_free(m->error);
    g_free(m);
}

void machine_reset(Machine *m)
{
    for (int i = 0; i < m->ndevices; i++)
        if (m->devices[i].ops->reset)
            m->devices[i].ops->reset(m->devices[i].dev);
    if (m->board_reset)
        m->board_reset(m);
    else
        m->cpu_ops->reset(m->cpu);
}

void machine_keep(Machine *m, void *p)
{
    m->to_free = g_renew(void *, m->to_free, m->nfree + 1);
    m->to_free[m->nfree++] = p;
}

uint64_t machine_memory_hash(Machine *m)
{
    uint64_t h = 0x7a6e64656d72ull;
    for (int i = 0; i < m->as.nregions; i++) {
        const MemRegion *r = &m->as.regions[i];
        if (r->host)
            h = tn_hash_bytes(r->host, r->size, h ^ r->base);
    }
    return h;
}

size_t machine_memory_chunks(Machine *m, unsigned shift, uint64_t *hash, uint64_t *base,
                             size_t max)
{
    uint64_t chunk = 1ull << shift;
    size_t n = 0;
    for (int i = 0; i < m->as.nregions; i++) {
        const MemRegion *r = &m->as.regions[i];
        if (!r->host)
            continue;
        for (uint64_t off = 0; off < r->size; off += chunk, n++) {
            if (n >= max)
                continue;
            uint64_t len = r->size - off < chunk ? r->size - off : chunk;
            hash[n] = tn_hash_bytes(r->host + off, len, 0x6368756e6bull ^ (r->base + off));
            if (base)
                base[n] = r->base + off;
        }
    }
    return n;
}

unsigned machine_memory_chunk_shift(Machine *m, size_t max)
{
    unsigned shift = 16;
    /* (With room for none, machine_memory_chunks() only counts.) */
    while (shift < 40 && machine_memory_chunks(m, shift, NULL, NULL, 0) > max)
        shift++;
    return shift;
}

bool machine_write_exit_state(Machine *m, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "tandem: -exit-state %s: %s\n", path, strerror(errno));
        return false;
    }
    fprintf(f, "icount %" PRIu64 "\nbrcount %" PRIu64 "\ncpu-state %016" PRIx64
            "\nmemory %016" PRIx64 "\n", *m->icount, m->cpu_ops->brcount(m->cpu),
            m->cpu_ops->state_hash(m->cpu), machine_memory_hash(m));
    m->cpu_ops->dump(m->cpu, f);
    if (m->cpu_ops->dump_state)
        m->cpu_ops->dump_state(m->cpu, f);
    if (fclose(f) != 0) {
        fprintf(stderr, "tandem: -exit-state %s: %s\n", path, strerror(errno));
        return false;
    }
    return true;
}

void machine_perturb(Machine *m, const char *where)
{
    const Options *o = m->opts;
    m->perturbed = true;
    if (o->perturb_reg == OPT_PERTURB_RAM) {
        uint8_t *p = as_host_ptr(&m->as, o->perturb_addr, 1);
        if (!p) {
            machine_set_error(m, "-rr-perturb: guest-physical %#" PRIx64 " is not RAM",
                              o->perturb_addr);
            return;
        }
        as_write(&m->as, o->perturb_addr, 1, *p ^ 1);
        fprintf(stderr, "tandem: perturbed the RAM byte at %#" PRIx64 " %s\n", o->perturb_addr,
                where);
        return;
    }
    if (o->perturb_reg == OPT_PERTURB_GDB) {
        const CpuDebugOps *d = m->cpu_ops->debug;
        uint8_t buf[64];
        int n = (int)o->perturb_addr;
        int len = d && d->gdb_read_reg && d->gdb_write_reg ? d->gdb_read_reg(m->cpu, n, buf)
                                                           : -1;
        if (len > 0 && len <= (int)sizeof(buf))
            buf[0] ^= 1;
        if (len <= 0 || len > (int)sizeof(buf) || d->gdb_write_reg(m->cpu, n, buf, len) != 0) {
            machine_set_error(m, "-rr-perturb: the CPU (%s) has no register gdb numbers %d",
                              m->cpu_ops->name, n);
            return;
        }
        fprintf(stderr, "tandem: perturbed gdb register %d %s\n", n, where);
        return;
    }
    uint64_t regs[32];
    unsigned r = (unsigned)o->perturb_reg;
    m->cpu_ops->regs(m->cpu, regs);
    m->cpu_ops->set_reg(m->cpu, r, regs[r] ^ 1);
    fprintf(stderr, "tandem: perturbed %s %s\n", m->cpu_ops->reg_names[r], where);
}
