/* The replay timeline (checkpoint/timeline.h). */
#include "checkpoint/timeline.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "checkpoint/checkpoint.h"
#include "block/drive.h"
#include "vmm/chardev.h"
#include "vmm/error.h"
#include "vmm/machine.h"

#define PAGE 4096u
/* Undo pages that can be held at once (reserved address space, committed
 * only as used): 64 GiB. */
#define UNDO_MAX_PAGES (16ull << 20)

typedef struct Snap {
    uint64_t icount;
    uint8_t *state;
    size_t state_len;
    uint64_t undo_start;         /* first undo slot of its interval */
    uint64_t out[MACHINE_MAX_SERIAL];   /* guest output written so far */
    guint disk_start;            /* first disk undo record of its interval */
} Snap;

/* What a disk write overwrote (the disks' copy-on-write). */
typedef struct DiskUndo {
    BlockDev *bs;
    uint64_t off;
    size_t len;
    uint8_t *old;
} DiskUndo;

struct Timeline {
    Machine *m;
    uint64_t spacing;
    uint8_t *ram;
    uint64_t npages;
    GArray *snaps;               /* of Snap, by icount */
    uint64_t restores;
    GArray *disk;                /* of DiskUndo, oldest first */
    uint64_t disk_bytes;
    bool disk_restoring;
    bool disk_failed;

    /* Written by the fault handler. */
    uint8_t *undo;               /* UNDO_MAX_PAGES pages, reserved */
    uint32_t *undo_page;         /* the RAM page each slot holds */
    volatile uint64_t undo_used;
    uint8_t *dirty;              /* a byte per page: writable (written since protected) */
    uint32_t *dirty_list;        /* those pages, in the order they became writable */
    volatile uint64_t ndirty;
    volatile uint64_t faults;
    volatile int overflow;
};

static Timeline *active;         /* the fault handler's */
static struct sigaction old_segv, old_bus;

static void hook_disks(Timeline *t, bool on);

static void chain(int sig, siginfo_t *si, void *uc)
{
    struct sigaction *o = sig == SIGSEGV ? &old_segv : &old_bus;
    if (o->sa_flags & SA_SIGINFO) {
        o->sa_sigaction(sig, si, uc);
        return;
    }
    if (o->sa_handler == SIG_IGN)
        return;
    if (o->sa_handler != SIG_DFL) {
        o->sa_handler(sig);
        return;
    }
    /* Default action: die with this signal as if nobody caught it. */
    signal(sig, SIG_DFL);
    raise(sig);
}

static void on_fault(int sig, siginfo_t *si, void *uc)
{
    Timeline *t = active;
    uint8_t *a = si->si_addr;
    if (!t || a < t->ram || a >= t->ram + t->npages * PAGE) {
        chain(sig, si, uc);
        return;
    }
    uint64_t p = (uint64_t)(a - t->ram) / PAGE;
    uint8_t *page = t->ram + p * PAGE;
    if (!t->dirty[p]) {
        if (t->undo_used >= UNDO_MAX_PAGES) {
            /* Out of undo room: stop tracking (the main loop reports it). */
            t->overflow = 1;
        } else {
            uint64_t s = t->undo_used;
            memcpy(t->undo + s * PAGE, page, PAGE);
            t->undo_page[s] = (uint32_t)p;
            t->undo_used = s + 1;
        }
        t->dirty[p] = 1;
        t->dirty_list[t->ndirty] = (uint32_t)p;
        t->ndirty = t->ndirty + 1;
        t->faults++;
    }
    if (mprotect(page, PAGE, PROT_READ | PROT_WRITE) != 0)
        chain(sig, si, uc);
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Make every writable page read-only again: only those, in runs, so the
 * cost follows the pages written, not the size of RAM. */
static bool protect_all(Timeline *t)
{
    uint64_t n = t->ndirty;
    qsort(t->dirty_list, n, sizeof(uint32_t), cmp_u32);
    for (uint64_t i = 0; i < n;) {
        uint64_t j = i + 1;
        while (j < n && t->dirty_list[j] == t->dirty_list[j - 1] + 1)
            j++;
        if (mprotect(t->ram + (uint64_t)t->dirty_list[i] * PAGE, (j - i) * PAGE,
                     PROT_READ) != 0)
            return false;
        for (uint64_t k = i; k < j; k++)
            t->dirty[t->dirty_list[k]] = 0;
        i = j;
    }
    t->ndirty = 0;
    return true;
}

/* The whole of RAM read-only (at the start). */
static bool protect_ram(Timeline *t)
{
    if (mprotect(t->ram, t->npages * PAGE, PROT_READ) != 0)
        return false;
    memset(t->dirty, 0, t->npages);
    t->ndirty = 0;
    return true;
}

Timeline *timeline_new(Machine *m, uint64_t spacing, GError **err)
{
    if (active) {
        tn_error(err, "reverse execution: only one replay timeline per process");
        return NULL;
    }
    const char *why = checkpoint_unsupported(m);
    if (why) {
        tn_error(err, "reverse execution is not available: %s", why);
        return NULL;
    }
    if (m->kvm_maps_ram) {
        tn_error(err, "reverse execution is not available on KVM (KVM writes guest RAM past the "
                 "page tracking): replay with -accel tcg to go backwards");
        return NULL;
    }
    if (!m->ram || m->ram_size % PAGE || (uintptr_t)m->ram % PAGE ||
        m->ram_size / PAGE > UINT32_MAX) {
        tn_error(err, "reverse execution: guest RAM cannot be tracked");
        return NULL;
    }
    Timeline *t = g_new0(Timeline, 1);
    t->m = m;
    t->spacing = spacing ? spacing : TIMELINE_DEFAULT_SPACING;
    t->ram = m->ram;
    t->npages = m->ram_size / PAGE;
    t->snaps = g_array_new(FALSE, FALSE, sizeof(Snap));
    t->dirty = g_malloc0(t->npages);
    t->dirty_list = g_new(uint32_t, t->npages);
    t->undo = mmap(NULL, UNDO_MAX_PAGES * PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    t->undo_page = mmap(NULL, UNDO_MAX_PAGES * sizeof(uint32_t), PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (t->undo == MAP_FAILED || t->undo_page == MAP_FAILED) {
        tn_error(err, "reverse execution: cannot reserve the undo area: %s", strerror(errno));
        if (t->undo != MAP_FAILED)
            munmap(t->undo, UNDO_MAX_PAGES * PAGE);
        if (t->undo_page != MAP_FAILED)
            munmap(t->undo_page, UNDO_MAX_PAGES * sizeof(uint32_t));
        g_array_free(t->snaps, TRUE);
        g_free(t->dirty);
        g_free(t);
        return NULL;
    }
    t->disk = g_array_new(FALSE, FALSE, sizeof(DiskUndo));
    hook_disks(t, true);
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, &old_segv);
    sigaction(SIGBUS, &sa, &old_bus);
    active = t;
    return t;
}

/* Before a guest write reaches a disk: keep what it overwrites. */
static void disk_hook(void *opaque, BlockDev *bs, uint64_t off, size_t len)
{
    Timeline *t = opaque;
    if (t->disk_restoring || !t->snaps->len)
        return;
    DiskUndo u = { bs, off, len, g_try_malloc(len ? len : 1) };
    if (!u.old || blk_pread(bs, off, u.old, len) < 0) {
        g_free(u.old);
        t->disk_failed = true;
        return;
    }
    g_array_append_val(t->disk, u);
    t->disk_bytes += len;
}

static void hook_disks(Timeline *t, bool on)
{
    DriveSet *ds = t->m->drives;
    for (int i = 0; ds && i < ds->n; i++) {
        Drive *d = &ds->d[i];
        if (!d->blkreplay && d->blk && !blk_is_read_only(d->blk))
            blk_set_write_hook(d->blk, on ? disk_hook : NULL, on ? t : NULL);
    }
}

static void drop_snaps_after(Timeline *t, guint keep)
{
    for (guint i = keep; i < t->snaps->len; i++)
        g_free(g_array_index(t->snaps, Snap, i).state);
    g_array_set_size(t->snaps, keep);
}

void timeline_free(Timeline *t)
{
    if (!t)
        return;
    mprotect(t->ram, t->npages * PAGE, PROT_READ | PROT_WRITE);
    active = NULL;
    sigaction(SIGSEGV, &old_segv, NULL);
    sigaction(SIGBUS, &old_bus, NULL);
    drop_snaps_after(t, 0);
    g_array_free(t->snaps, TRUE);
    hook_disks(t, false);
    for (guint i = 0; i < t->disk->len; i++)
        g_free(g_array_index(t->disk, DiskUndo, i).old);
    g_array_free(t->disk, TRUE);
    munmap(t->undo, UNDO_MAX_PAGES * PAGE);
    munmap(t->undo_page, UNDO_MAX_PAGES * sizeof(uint32_t));
    g_free(t->dirty);
    g_free(t->dirty_list);
    g_free(t);
}

static const Snap *last_snap(const Timeline *t)
{
    return t->snaps->len ? &g_array_index(t->snaps, Snap, t->snaps->len - 1) : NULL;
}

bool timeline_tick(Timeline *t)
{
    Machine *m = t->m;
    if (t->overflow) {
        machine_set_error(m, "reverse execution: the undo area is full (%llu pages written)",
                          (unsigned long long)UNDO_MAX_PAGES);
        return false;
    }
    if (t->disk_failed) {
        machine_set_error(m, "reverse execution: cannot keep what a disk write overwrites "
                          "(out of memory or a read error)");
        return false;
    }
    const Snap *last = last_snap(t);
    uint64_t now = *m->icount;
    if (last && now < last->icount + t->spacing)
        return true;
    if (last && now == last->icount)
        return true;
    GError *err = NULL;
    Snap s = { .icount = now, .undo_start = t->undo_used, .disk_start = t->disk->len };
    for (int i = 0; i < m->nserial; i++)
        s.out[i] = chardev_output_count(m->serial[i]);
    s.state = checkpoint_save_state(m, &s.state_len, &err);
    if (!s.state) {
        machine_set_error(m, "reverse execution: cannot take a snapshot at icount %" PRIu64
                          ": %s", now, err->message);
        g_error_free(err);
        return false;
    }
    if (!(last ? protect_all(t) : protect_ram(t))) {
        g_free(s.state);
        machine_set_error(m, "reverse execution: cannot protect guest RAM: %s",
                          strerror(errno));
        return false;
    }
    g_array_append_val(t->snaps, s);
    return true;
}

uint64_t timeline_budget(const Timeline *t, uint64_t budget)
{
    const Snap *last = last_snap(t);
    if (!last)
        return budget;
    uint64_t due = last->icount + t->spacing, now = *t->m->icount;
    if (due > now && due - now < budget)
        return due - now;
    return budget;
}

uint64_t timeline_begin(const Timeline *t)
{
    return t->snaps->len ? g_array_index(t->snaps, Snap, 0).icount : UINT64_MAX;
}

/* Index of the last snapshot at or before icount x (snapshots are in
 * icount order), or -1. */
static gint last_at_or_before(const Timeline *t, uint64_t x)
{
    gint k = -1;
    for (guint i = 0; i < t->snaps->len && g_array_index(t->snaps, Snap, i).icount <= x; i++)
        k = (gint)i;
    return k;
}

uint64_t timeline_prev(const Timeline *t, uint64_t before)
{
    gint k = before ? last_at_or_before(t, before - 1) : -1;
    return k < 0 ? UINT64_MAX : g_array_index(t->snaps, Snap, k).icount;
}

bool timeline_restore(Timeline *t, uint64_t target, uint64_t *at, GError **err)
{
    Machine *m = t->m;
    gint k = last_at_or_before(t, target);
    if (k < 0) {
        tn_error(err, "icount %" PRIu64 " is before the beginning of the replay timeline "
                 "(icount %" PRIu64 ")", target, timeline_begin(t));
        return false;
    }
    Snap *s = &g_array_index(t->snaps, Snap, k);
    /* RAM first: newest undo first, so the oldest copy of a page (its
     * contents at the snapshot) is the one left.  A page to write back that
     * is read-only now becomes writable, and is protected again below. */
    for (uint64_t i = t->undo_used; i > s->undo_start; i--) {
        uint64_t slot = i - 1;
        uint32_t p = t->undo_page[slot];
        uint8_t *page = t->ram + (uint64_t)p * PAGE;
        if (!t->dirty[p]) {
            if (mprotect(page, PAGE, PROT_READ | PROT_WRITE) != 0) {
                tn_error(err, "reverse execution: cannot unprotect guest RAM: %s",
                         strerror(errno));
                machine_set_error(m, "%s", (*err)->message);
                return false;
            }
            t->dirty[p] = 1;
            t->dirty_list[t->ndirty] = p;
            t->ndirty = t->ndirty + 1;
        }
        memcpy(page, t->undo + slot * PAGE, PAGE);
    }
    uint64_t freed = t->undo_used - s->undo_start;
    t->undo_used = s->undo_start;
    if (freed > 256)
        madvise(t->undo + s->undo_start * PAGE, freed * PAGE, MADV_DONTNEED);
    /* The disks, newest write first. */
    t->disk_restoring = true;
    for (guint i = t->disk->len; i > s->disk_start; i--) {
        DiskUndo *u = &g_array_index(t->disk, DiskUndo, i - 1);
        if (blk_pwrite(u->bs, u->off, u->old, u->len) < 0) {
            t->disk_restoring = false;
            tn_error(err, "reverse execution: cannot restore %s: %s", blk_filename(u->bs),
                     blk_last_error(u->bs));
            machine_set_error(m, "%s", (*err)->message);
            return false;
        }
        t->disk_bytes -= u->len;
        g_free(u->old);
    }
    t->disk_restoring = false;
    g_array_set_size(t->disk, s->disk_start);
    if (!checkpoint_load_state(m, s->state, s->state_len, err)) {
        protect_all(t);
        return false;
    }
    for (int i = 0; i < m->nserial; i++)
        chardev_output_rewind(m->serial[i], s->out[i]);
    drop_snaps_after(t, (guint)k + 1);
    if (!protect_all(t)) {
        tn_error(err, "reverse execution: cannot protect guest RAM: %s", strerror(errno));
        machine_set_error(m, "%s", (*err)->message);
        return false;
    }
    t->restores++;
    *at = s->icount;
    return true;
}

void timeline_stats(const Timeline *t, TimelineStats *st)
{
    memset(st, 0, sizeof(*st));
    st->snapshots = t->snaps->len;
    st->pages_saved = t->undo_used;
    for (guint i = 0; i < t->snaps->len; i++)
        st->state_bytes += g_array_index(t->snaps, Snap, i).state_len;
    st->restores = t->restores;
    st->disk_bytes = t->disk_bytes;
    st->faults = t->faults;
}
