/* VM snapshots in the machine's qcow2 images (checkpoint/vmsnap.h). */
#include "checkpoint/vmsnap.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "block/drive.h"
#include "checkpoint/checkpoint.h"
#include "checkpoint/snap.h"
#include "checkpoint/timeline.h"
#include "rr/rr.h"
#include "vmm/error.h"
#include "vmm/machine.h"

/* The drives that take a snapshot: every writable one (QEMU's
 * bdrv_all_can_snapshot), in -drive order; the first holds the VM state.
 * A blkreplay drive is a view of its image drive, which is in the set
 * itself.  Returns the count (0: none), or -1 with err when a writable
 * drive cannot hold snapshots. */
static int snap_drives(Machine *m, const char *cmd, Drive ***out, GError **err)
{
    DriveSet *s = m->drives;
    *out = g_new0(Drive *, s && s->n ? s->n : 1);
    int n = 0;
    for (int i = 0; s && i < s->n; i++) {
        Drive *d = &s->d[i];
        if (d->blkreplay || !d->blk || blk_is_read_only(d->blk))
            continue;
        const char *why = NULL;
        if (!blk_can_snapshot(d->blk, &why)) {
            tn_error(err, "%s: drive %s (%s) is writable but cannot hold snapshots: %s "
                     "(make it a qcow2 image, or readonly=on)", cmd, drive_name(d),
                     d->file ? d->file : "?", why ? why : "not supported");
            g_free(*out);
            *out = NULL;
            return -1;
        }
        (*out)[n++] = d;
    }
    return n;
}

static void no_drive(GError **err, const char *cmd)
{
    tn_error(err, "%s: no writable qcow2 drive to hold snapshots; add -drive "
             "file=X.qcow2,if=none,id=... (qemu-img create -f qcow2 X.qcow2 1M makes one)",
             cmd);
}

/* QEMU's lookup: the snapshot whose id is name_or_id, else the first whose
 * tag is. */
static const BlkSnapshotInfo *find_snap(const BlkSnapshotInfo *v, size_t n,
                                        const char *name_or_id)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(v[i].id, name_or_id))
            return &v[i];
    for (size_t i = 0; i < n; i++)
        if (v[i].name && !strcmp(v[i].name, name_or_id))
            return &v[i];
    return NULL;
}

static bool list_drive(Drive *d, const char *cmd, BlkSnapshotInfo **v, size_t *n,
                       GError **err)
{
    if (blk_snapshot_list(d->blk, v, n) < 0) {
        tn_error(err, "%s: drive %s: %s", cmd, drive_name(d), blk_last_error(d->blk));
        return false;
    }
    return true;
}

bool vmsnap_save(Machine *m, const char *name, GError **err)
{
    char autoname[64];
    if (!name) {
        /* QEMU's default name. */
        time_t t = time(NULL);
        struct tm tm;
        localtime_r(&t, &tm);
        strftime(autoname, sizeof(autoname), "vm-%Y%m%d%H%M%S", &tm);
        name = autoname;
    }
    if (!*name) {
        tn_error(err, "savevm: empty snapshot name");
        return false;
    }
    const char *why = checkpoint_unsupported(m);
    if (why) {
        tn_error(err, "savevm: %s", why);
        return false;
    }
    Drive **dr;
    int nd = snap_drives(m, "savevm", &dr, err);
    if (nd < 0)
        return false;
    if (nd == 0) {
        g_free(dr);
        no_drive(err, "savevm");
        return false;
    }
    GError *e = NULL;
    size_t len;
    uint8_t *blob = checkpoint_save_vm(m, &len, &e);
    if (!blob) {
        tn_error(err, "savevm: %s", e->message);
        g_error_free(e);
        g_free(dr);
        return false;
    }
    /* QEMU records the instruction count only under record/replay: it is
     * what replay_seek looks for. */
    uint64_t icount = m->rr_mode ? *m->icount : UINT64_MAX;
    bool ok = true;
    for (int i = 0; i < nd && ok; i++) {
        if (blk_snapshot_create(dr[i]->blk, name, i == 0 ? blob : NULL, i == 0 ? len : 0,
                                (uint64_t)machine_ns(m), icount) < 0) {
            tn_error(err, "savevm: drive %s: %s", drive_name(dr[i]),
                     blk_last_error(dr[i]->blk));
            /* No half snapshot: take back the ones made. */
            for (int j = 0; j < i; j++)
                blk_snapshot_delete(dr[j]->blk, name);
            ok = false;
        }
    }
    g_free(blob);
    g_free(dr);
    return ok;
}

/* The record/replay section of a savevm blob (checkpoint/checkpoint.h):
 * the mode it was taken in and the events logged or replayed by then. */
static bool blob_rr(const uint8_t *p, size_t len, int *mode, uint64_t *nevents)
{
    if (len < 20 || memcmp(p, "TNDMVMSV", 8))
        return false;
    SnapReader r;
    snap_reader_init(&r, p + 20, len - 20, NULL);
    char magic[8];
    snap_get_bytes(&r, magic, 8);
    snap_get_u32(&r);
    g_free(snap_get_str(&r));
    for (int i = 0; i < 3; i++)
        snap_get_u64(&r);           /* icount, mmio, port accesses */
    snap_get_u32(&r);               /* clock: shift, auto, base_ns, base_icount */
    snap_get_u8(&r);
    snap_get_u64(&r);
    snap_get_u64(&r);
    snap_get_u32(&r);               /* armed timers */
    bool found = false;
    while (snap_reader_ok(&r) && snap_reader_left(&r) && !found) {
        char *sec = snap_get_str(&r);
        uint64_t n = snap_get_u64(&r);
        if (!snap_reader_ok(&r) || n > snap_reader_left(&r)) {
            g_free(sec);
            break;
        }
        if (sec && !strcmp(sec, "rr")) {
            snap_get_u8(&r);
            *mode = snap_get_u8(&r);
            *nevents = snap_get_u64(&r);
            found = snap_reader_ok(&r);
        } else {
            r.p += n;
        }
        g_free(sec);
    }
    bool ok = found && !memcmp(magic, "TNDMVMST", 8);
    snap_reader_free(&r);
    return ok;
}

bool vmsnap_load(Machine *m, const char *name, GError **err)
{
    if (!name || !*name) {
        tn_error(err, "loadvm: give a snapshot name or id (info snapshots lists them)");
        return false;
    }
    if (m->rr_mode == RR_MODE_RECORD) {
        tn_error(err, "loadvm: not while recording: a recording cannot go back in time "
                 "(loadvm works in the replay of this recording, -icount ...,rr=replay)");
        return false;
    }
    const char *why = checkpoint_unsupported(m);
    if (why) {
        tn_error(err, "loadvm: %s", why);
        return false;
    }
    Drive **dr;
    int nd = snap_drives(m, "loadvm", &dr, err);
    if (nd < 0)
        return false;
    if (nd == 0) {
        g_free(dr);
        tn_error(err, "loadvm: no writable qcow2 drive holds snapshots (give the -drive "
                 "that savevm wrote them to, without readonly=on)");
        return false;
    }
    bool ok = false;
    void *blob = NULL;
    size_t len = 0;
    /* Every drive must have it, and the first its VM state. */
    for (int i = 0; i < nd; i++) {
        BlkSnapshotInfo *v;
        size_t n;
        if (!list_drive(dr[i], "loadvm", &v, &n, err))
            goto out;
        const BlkSnapshotInfo *sn = find_snap(v, n, name);
        bool vmstate = sn && sn->vm_state_size > 0;
        blk_snapshot_list_free(v, n);
        if (!sn) {
            if (i == 0)
                tn_error(err, "loadvm: there is no snapshot '%s' (drive %s; info snapshots "
                         "lists them)", name, drive_name(dr[i]));
            else
                tn_error(err, "loadvm: snapshot '%s' is not on drive %s (it is on %s): the "
                         "disks would not match the machine", name, drive_name(dr[i]),
                         drive_name(dr[0]));
            goto out;
        }
        if (i == 0 && !vmstate) {
            tn_error(err, "loadvm: snapshot '%s' on drive %s holds no VM state (a disk-only "
                     "snapshot, e.g. from qemu-img snapshot -c)", name, drive_name(dr[i]));
            goto out;
        }
    }
    if (blk_snapshot_read_vmstate(dr[0]->blk, name, &blob, &len) < 0) {
        tn_error(err, "loadvm: drive %s: %s", drive_name(dr[0]), blk_last_error(dr[0]->blk));
        goto out;
    }
    GError *e = NULL;
    if (m->rr_mode == RR_MODE_REPLAY) {
        int mode = -1;
        uint64_t nev = 0, ic = 0;
        if (blob_rr(blob, len, &mode, &nev) && mode == RR_MODE_OFF) {
            tn_error(err, "loadvm: snapshot '%s' was taken outside record/replay: it is not "
                     "part of the recording %s (take snapshots while recording or "
                     "replaying it)", name, m->opts->rr_file);
            goto out;
        }
        if (mode != -1 && checkpoint_vm_icount(blob, len, &ic) &&
            !rr_snapshot_fits(m, nev, ic, &e)) {
            tn_error(err, "loadvm: snapshot '%s': %s", name, e->message);
            g_error_free(e);
            goto out;
        }
    }
    if (!checkpoint_load_vm(m, blob, len, &e)) {
        const char *msg = e->message;
        if (g_str_has_prefix(msg, "snapshot: "))
            msg += strlen("snapshot: ");
        tn_error(err, "loadvm: snapshot '%s': %s", name, msg);
        g_error_free(e);
        goto out;
    }
    /* The machine is the snapshot's now: its disks must follow. */
    for (int i = 0; i < nd; i++) {
        if (blk_snapshot_goto(dr[i]->blk, name, NULL, NULL) < 0) {
            tn_error(err, "loadvm: drive %s: %s", drive_name(dr[i]),
                     blk_last_error(dr[i]->blk));
            machine_set_error(m, "loadvm %s: the machine state was loaded but drive %s could "
                              "not go back to the snapshot: %s", name, drive_name(dr[i]),
                              blk_last_error(dr[i]->blk));
            goto out;
        }
    }
    ok = true;
out:
    g_free(blob);
    g_free(dr);
    return ok;
}

bool vmsnap_delete(Machine *m, const char *name, GError **err)
{
    if (!name || !*name) {
        tn_error(err, "delvm: give a snapshot name or id (info snapshots lists them)");
        return false;
    }
    Drive **dr;
    int nd = snap_drives(m, "delvm", &dr, err);
    if (nd < 0)
        return false;
    if (nd == 0) {
        g_free(dr);
        no_drive(err, "delvm");
        return false;
    }
    bool ok = true, found = false;
    for (int i = 0; i < nd && ok; i++) {
        BlkSnapshotInfo *v;
        size_t n;
        if (!list_drive(dr[i], "delvm", &v, &n, err)) {
            ok = false;
            break;
        }
        bool has = find_snap(v, n, name) != NULL;
        blk_snapshot_list_free(v, n);
        if (!has)
            continue;
        found = true;
        if (blk_snapshot_delete(dr[i]->blk, name) < 0) {
            tn_error(err, "delvm: drive %s: %s", drive_name(dr[i]), blk_last_error(dr[i]->blk));
            ok = false;
        }
    }
    if (ok && !found) {
        tn_error(err, "delvm: there is no snapshot '%s' (info snapshots lists them)", name);
        ok = false;
    }
    g_free(dr);
    return ok;
}

/* QEMU's size_to_str: three significant digits and a binary unit. */
static void size_str(char *buf, size_t n, uint64_t val)
{
    static const char *const suffixes[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei" };
    int e;
    frexp((double)val / (1000.0 / 1024.0), &e);
    int i = (e - 1) / 10;
    if (i < 0)
        i = 0;
    if (i > 6)
        i = 6;
    uint64_t div = 1ull << (i * 10);
    snprintf(buf, n, "%0.3g %sB", (double)val / (double)div, suffixes[i]);
}

/* QEMU's bdrv_snapshot_dump (7.2): the header, or one snapshot. */
static void dump_header(GString *s)
{
    g_string_append_printf(s, "%-10s%-17s%8s%20s%13s%11s\n", "ID", "TAG", "VM SIZE", "DATE",
                           "VM CLOCK", "ICOUNT");
}

static void dump_snap(GString *s, const BlkSnapshotInfo *sn, const char *id)
{
    char date[64], clock[64], size[32], icount[32] = "";
    time_t t = (time_t)sn->date_sec;
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S", &tm);
    uint64_t secs = sn->vm_clock_ns / 1000000000u;
    snprintf(clock, sizeof(clock), "%02d:%02d:%02d.%03d", (int)(secs / 3600),
             (int)((secs / 60) % 60), (int)(secs % 60),
             (int)((sn->vm_clock_ns / 1000000u) % 1000));
    size_str(size, sizeof(size), sn->vm_state_size);
    if (sn->icount != UINT64_MAX)
        snprintf(icount, sizeof(icount), "%" PRId64, (int64_t)sn->icount);
    g_string_append_printf(s, "%-9s %-16s %8s%20s%13s%11s\n", id, sn->name ? sn->name : "",
                           size, date, clock, icount);
}

char *vmsnap_info(Machine *m)
{
    GString *s = g_string_new(NULL);
    GError *e = NULL;
    Drive **dr;
    int nd = snap_drives(m, "info snapshots", &dr, &e);
    if (nd < 0) {
        g_string_append_printf(s, "%s\n", e->message);
        g_error_free(e);
        return g_string_free(s, FALSE);
    }
    if (nd == 0) {
        g_free(dr);
        g_string_append(s, "No available block device supports snapshots\n");
        return g_string_free(s, FALSE);
    }
    BlkSnapshotInfo **lists = g_new0(BlkSnapshotInfo *, nd);
    size_t *counts = g_new0(size_t, nd);
    bool **onall = g_new0(bool *, nd);
    for (int i = 0; i < nd; i++) {
        if (!list_drive(dr[i], "info snapshots", &lists[i], &counts[i], &e)) {
            g_string_append_printf(s, "%s\n", e->message);
            g_clear_error(&e);
            goto out;
        }
        onall[i] = g_new0(bool, counts[i] ? counts[i] : 1);
    }
    if (counts[0] == 0) {
        g_string_append(s, "There is no snapshot available.\n");
        goto out;
    }
    /* A snapshot loadvm can take is on every drive (by tag). */
    for (size_t k = 0; k < counts[0]; k++) {
        bool all = true;
        for (int i = 1; i < nd && all; i++)
            all = lists[0][k].name && find_snap(lists[i], counts[i], lists[0][k].name);
        if (!all)
            continue;
        onall[0][k] = true;
        for (int i = 1; i < nd; i++) {
            for (size_t j = 0; j < counts[i]; j++)
                if (lists[i][j].name && !strcmp(lists[i][j].name, lists[0][k].name))
                    onall[i][j] = true;
        }
    }
    bool any = false;
    for (size_t k = 0; k < counts[0]; k++)
        any |= onall[0][k];
    if (any) {
        g_string_append(s, "List of snapshots present on all disks:\n");
        dump_header(s);
        for (size_t k = 0; k < counts[0]; k++)
            if (onall[0][k])
                dump_snap(s, &lists[0][k], "--");   /* ids differ between images */
    } else {
        g_string_append(s, "None\n");
    }
    for (int i = 0; i < nd; i++) {
        bool partial = false;
        for (size_t j = 0; j < counts[i]; j++)
            partial |= !onall[i][j];
        if (!partial)
            continue;
        g_string_append_printf(s, "\nList of partial (non-loadable) snapshots on '%s':\n",
                               drive_name(dr[i]));
        dump_header(s);
        for (size_t j = 0; j < counts[i]; j++)
            if (!onall[i][j])
                dump_snap(s, &lists[i][j], lists[i][j].id);
    }
out:
    for (int i = 0; i < nd; i++) {
        blk_snapshot_list_free(lists[i], counts[i]);
        g_free(onall[i]);
    }
    g_free(lists);
    g_free(counts);
    g_free(onall);
    g_free(dr);
    return g_string_free(s, FALSE);
}

char *vmsnap_replay_info(Machine *m)
{
    if (m->rr_mode == RR_MODE_OFF)
        return g_strdup("Record/replay is not active\n");
    return g_strdup_printf("%s execution '%s': instruction count = %" PRIu64 "\n",
                           m->rr_mode == RR_MODE_RECORD ? "Recording" : "Replaying",
                           m->opts->rr_file, *m->icount);
}

/* rrsnapshot's snapshot must outlive the run. */
static bool check_rr_drives(Machine *m, GError **err)
{
    const char *name = m->opts->rr_snapshot;
    Drive **dr;
    int nd = snap_drives(m, "savevm", &dr, err);
    if (nd < 0)
        return false;
    bool ok = true;
    for (int i = 0; i < nd && ok; i++) {
        if (dr[i]->snapshot) {
            tn_error(err, "drive %s has snapshot=on: snapshot %s would go into its "
                     "temporary overlay and vanish at exit; drop snapshot=on (snapshot %s "
                     "takes the disk back for the replay, as QEMU's documentation says)",
                     drive_name(dr[i]), name, name);
            ok = false;
        }
    }
    g_free(dr);
    return ok;
}

bool vmsnap_start(Machine *m)
{
    const Options *o = m->opts;
    GError *err = NULL;
    bool ok = true;
    const char *what = NULL;
    if (o->rr_snapshot) {
        what = "-icount rrsnapshot";
        ok = check_rr_drives(m, &err);
        if (ok && m->rr_mode == RR_MODE_RECORD)
            ok = vmsnap_save(m, o->rr_snapshot, &err);
        else if (ok && m->rr_mode == RR_MODE_REPLAY)
            ok = vmsnap_load(m, o->rr_snapshot, &err);
    } else if (o->loadvm) {
        what = "-loadvm";
        ok = vmsnap_load(m, o->loadvm, &err);
    }
    if (!ok) {
        if (!m->error)
            machine_set_error(m, "%s=%s: %s", what, o->rr_snapshot ? o->rr_snapshot : o->loadvm,
                              err->message);
        g_error_free(err);
    }
    return ok;
}

/* ---- replay_break, replay_seek ---- */

bool vmsnap_replay_break(Machine *m, uint64_t icount, GError **err)
{
    if (m->rr_mode != RR_MODE_REPLAY) {
        tn_error(err, "replay_break: setting the breakpoint is allowed only in replay "
                 "(-icount ...,rr=replay)");
        return false;
    }
    if (icount < *m->icount) {
        tn_error(err, "replay_break: icount %" PRIu64 " is in the past (the replay is at %"
                 PRIu64 "; replay_seek goes back)", icount, *m->icount);
        return false;
    }
    m->replay_break_set = true;
    m->replay_break = icount;
    return true;
}

bool vmsnap_replay_delete_break(Machine *m, GError **err)
{
    if (m->rr_mode != RR_MODE_REPLAY) {
        tn_error(err, "replay_delete_break: replay breakpoints are allowed only in replay "
                 "(-icount ...,rr=replay)");
        return false;
    }
    m->replay_break_set = false;
    return true;
}

/* The qcow2 snapshot taken under record/replay nearest at or before
 * target (g_free'd name), or NULL. */
static char *nearest_snapshot(Machine *m, uint64_t target, uint64_t *at)
{
    Drive **dr;
    int nd = snap_drives(m, "replay_seek", &dr, NULL);
    if (nd <= 0) {
        g_free(dr);
        return NULL;
    }
    BlkSnapshotInfo *v;
    size_t n;
    char *best = NULL;
    if (blk_snapshot_list(dr[0]->blk, &v, &n) == 0) {
        for (size_t i = 0; i < n; i++) {
            if (v[i].icount == UINT64_MAX || v[i].icount > target || !v[i].vm_state_size ||
                !v[i].name)
                continue;
            if (!best || v[i].icount > *at) {
                g_free(best);
                best = g_strdup(v[i].name);
                *at = v[i].icount;
            }
        }
        blk_snapshot_list_free(v, n);
    }
    g_free(dr);
    return best;
}

bool vmsnap_replay_seek(Machine *m, uint64_t target, GError **err)
{
    if (m->rr_mode != RR_MODE_REPLAY) {
        tn_error(err, "replay_seek: replay must be enabled to seek (-icount ...,rr=replay)");
        return false;
    }
    uint64_t now = *m->icount;
    /* The nearest snapshot at or before target: the timeline's (reverse
     * debugging), a qcow2 one, or rrsnapshot's at the start. */
    uint64_t tl_at = UINT64_MAX, q_at = 0;
    if (m->timeline)
        tl_at = timeline_prev(m->timeline, target == UINT64_MAX ? target : target + 1);
    char *q = nearest_snapshot(m, target, &q_at);
    if (!q && m->opts->rr_snapshot) {
        q = g_strdup(m->opts->rr_snapshot);
        q_at = 0;
    }
    bool use_tl = tl_at != UINT64_MAX && (!q || tl_at >= q_at);
    uint64_t at = use_tl ? tl_at : q ? q_at : UINT64_MAX;
    bool ok = true;
    /* Restore only when it gets closer: going back, or a snapshot between
     * here and the target. */
    if (at != UINT64_MAX && (target < now || now < at)) {
        GError *e = NULL;
        if (use_tl) {
            uint64_t got;
            ok = timeline_restore(m->timeline, target, &got, &e);
        } else {
            ok = vmsnap_load(m, q, &e);
        }
        if (!ok) {
            tn_error(err, "replay_seek: %s", e->message);
            g_error_free(e);
        }
    }
    g_free(q);
    if (!ok)
        return false;
    if (*m->icount > target) {
        tn_error(err, "replay_seek: cannot go back to icount %" PRIu64 ": no snapshot at or "
                 "before it (the replay is at %" PRIu64 "; record with rrsnapshot=NAME, or "
                 "savevm earlier in the replay)", target, *m->icount);
        return false;
    }
    m->replay_break_set = true;
    m->replay_break = target;
    m->paused = false;
    return true;
}

void vmsnap_check_break(Machine *m)
{
    if (!m->replay_break_set || *m->icount < m->replay_break)
        return;
    m->replay_break_set = false;
    m->paused = true;
    fprintf(stderr, "tandem: replay paused at icount %" PRIu64 "\n", *m->icount);
}

uint64_t vmsnap_budget(Machine *m, uint64_t budget)
{
    if (m->replay_break_set && *m->icount < m->replay_break &&
        m->replay_break - *m->icount < budget)
        budget = m->replay_break - *m->icount;
    return budget;
}
