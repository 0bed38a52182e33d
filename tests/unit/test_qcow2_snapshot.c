/* qcow2 internal snapshots (block/qcow2_snapshot.c) against QEMU's tools:
 * create/list/goto/delete round trips checked through our reads and
 * through qemu-img (check, convert -l, snapshot -l/-a/-d, info), qemu-io
 * reading our VM state, QEMU's savevm/loadvm trading VM state with us, and
 * corrupt snapshot tables refused with a message.  qemu-img, qemu-io and
 * qemu-system-x86_64 are required (./setup.sh installs them): a missing
 * one fails the test. */
#include <criterion/criterion.h>

#include <errno.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "block/block.h"
#include "tmpdir.h"

#define KIB 1024u
#define MIB (1u << 20)

static void setup(void)
{
    tmpdir_make("tandem-qsnap-XXXXXX");
}

TestSuite(qcow2_snapshot, .init = setup, .fini = tmpdir_remove, .timeout = 300);


/* The QEMU tools are part of the test environment (./setup.sh): without
 * them the interop checks cannot run, which is a failure, not a skip. */
static void need_tool(const char *tool)
{
    char *p = g_find_program_in_path(tool);
    cr_assert(p, "%s is not installed (Debian: qemu-utils / qemu-system-x86; ./setup.sh "
              "installs it)", tool);
    g_free(p);
}

static void need_qemu(void)
{
    need_tool("qemu-img");
    need_tool("qemu-io");
}

/* Runs a shell command in tmpdir; returns its exit status, and its
 * stdout in *out when out is not NULL. */
__attribute__((format(printf, 2, 3)))
static int sh_out(char **out, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int status = tmpdir_vsh(out, fmt, ap);
    va_end(ap);
    return status;
}

#define SH(...) cr_assert_eq(sh_out(NULL, __VA_ARGS__), 0)

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static uint8_t *random_bytes(size_t len, uint64_t seed)
{
    uint8_t *b = g_malloc(len ? len : 1);
    rng_state = seed | 1;
    for (size_t i = 0; i < len; i++)
        b[i] = (uint8_t)(rnd() >> 11);
    return b;
}

static uint8_t *get_file(const char *name, size_t *len)
{
    char *p = tmpdir_path(name), *buf = NULL;
    gsize n = 0;
    cr_assert(g_file_get_contents(p, &buf, &n, NULL), "cannot read %s", p);
    g_free(p);
    *len = n;
    return (uint8_t *)buf;
}

static void put_file(const char *name, const void *buf, size_t len)
{
    char *p = tmpdir_path(name);
    cr_assert(g_file_set_contents(p, buf, (gssize)len, NULL));
    g_free(p);
}

static BlockDev *open_img(const char *name, const BlockOpenOpts *o)
{
    char *p = tmpdir_path(name);
    GError *e = NULL;
    BlockDev *bs = blk_open(p, o, &e);
    cr_assert(bs, "open %s: %s", p, e ? e->message : "?");
    g_free(p);
    return bs;
}

/* The open error (NULL when it opened). */
static char *open_error(const char *name)
{
    char *p = tmpdir_path(name);
    GError *e = NULL;
    BlockDev *bs = blk_open(p, &(BlockOpenOpts){.format = "qcow2"}, &e);
    g_free(p);
    if (bs) {
        blk_close(bs);
        return NULL;
    }
    cr_assert(e && e->message[0]);
    char *m = g_strdup(e->message);
    g_error_free(e);
    return m;
}

static void same(const uint8_t *got, const uint8_t *want, size_t len, const char *what)
{
    for (size_t i = 0; i < len; i++)
        cr_assert_eq(got[i], want[i], "%s: byte %#zx is %#x, want %#x", what, i, got[i],
                     want[i]);
}

static void check_disk(BlockDev *bs, const uint8_t *want, const char *what)
{
    size_t len = blk_size(bs);
    uint8_t *buf = g_malloc(len);
    cr_assert_eq(blk_pread(bs, 0, buf, len), 0, "%s", blk_last_error(bs));
    same(buf, want, len, what);
    g_free(buf);
}

/* Random writes (partial clusters, across boundaries) applied to t too. */
static void scribble(BlockDev *bs, uint8_t *t, unsigned cs, int count, uint64_t seed)
{
    size_t len = blk_size(bs);
    uint8_t *buf = g_malloc(3 * cs + 4096);
    rng_state = seed | 1;
    for (int i = 0; i < count; i++) {
        size_t off = rnd() % len, n = 1 + rnd() % (rnd() % 2 ? 600 : 3 * cs + 4000);
        n = MIN(n, len - off);
        for (size_t j = 0; j < n; j++)
            buf[j] = (uint8_t)(rnd() >> 9);
        cr_assert_eq(blk_pwrite(bs, off, buf, n), 0, "write %zu at %#zx: %s", n, off,
                     blk_last_error(bs));
        memcpy(t + off, buf, n);
    }
    g_free(buf);
}

static void create(BlockDev *bs, const char *name, const void *vm, size_t len,
                   uint64_t clock, uint64_t icount)
{
    cr_assert_eq(blk_snapshot_create(bs, name, vm, len, clock, icount), 0, "create %s: %s",
                 name, blk_last_error(bs));
}

static void expect_vmstate(BlockDev *bs, const char *name, const void *want, size_t want_len,
                           bool revert)
{
    void *vm = (void *)1;
    size_t len = 12345;
    int r = revert ? blk_snapshot_goto(bs, name, &vm, &len)
                   : blk_snapshot_read_vmstate(bs, name, &vm, &len);
    cr_assert_eq(r, 0, "%s %s: %s", revert ? "goto" : "read vmstate", name,
                 blk_last_error(bs));
    cr_assert_eq(len, want_len, "vmstate of %s: %zu bytes, want %zu", name, len, want_len);
    if (!want_len)
        cr_assert_null(vm);
    else
        same(vm, want, len, "vmstate");
    g_free(vm);
}

/* qemu-img check finds neither errors nor leaks. */
static void qemu_check(const char *img)
{
    char *out = NULL;
    int st = sh_out(&out, "qemu-img check %s", img);
    cr_assert_eq(st, 0, "qemu-img check %s exited %d:\n%s", img, st, out);
    cr_assert(strstr(out, "No errors were found"), "qemu-img check %s:\n%s", img, out);
    g_free(out);
}

/* What QEMU reads as snapshot snap (or the active disk when NULL). */
static void qemu_data(const char *img, const char *snap, const uint8_t *want, size_t len)
{
    if (snap)
        SH("rm -f out.raw && qemu-img convert -O raw -l snapshot.name=%s %s out.raw", snap,
           img);
    else
        SH("rm -f out.raw && qemu-img convert -O raw %s out.raw", img);
    size_t n;
    uint8_t *f = get_file("out.raw", &n);
    cr_assert_eq(n, len);
    same(f, want, len, snap ? snap : "active disk (qemu-img convert)");
    g_free(f);
}

/* QEMU's view of the snapshot table: one line per snapshot,
 * "id name vm_state_size icount vm_clock_ns date_sec date_nsec" (icount
 * -1 when qemu-img shows none). */
static char *qemu_info(const char *img)
{
    char *out = NULL;
    int st = sh_out(&out, "qemu-img info --output=json %s | python3 -c '"
                    "import json,sys\n"
                    "for s in json.load(sys.stdin).get(\"snapshots\", []):\n"
                    "  print(s[\"id\"], s[\"name\"], s[\"vm-state-size\"], s.get(\"icount\", -1),"
                    " s[\"vm-clock-sec\"] * 10**9 + s[\"vm-clock-nsec\"], s[\"date-sec\"],"
                    " s[\"date-nsec\"])'", img);
    cr_assert_eq(st, 0);
    return out;
}

/* Our list and QEMU's agree, and QEMU's matches want ("id name vmsize
 * icount clock" lines). */
static void lists_agree(BlockDev *bs, const char *img, const char *want)
{
    BlkSnapshotInfo *v;
    size_t n;
    cr_assert_eq(blk_snapshot_list(bs, &v, &n), 0, "%s", blk_last_error(bs));
    GString *ours = g_string_new(""), *short_ = g_string_new("");
    for (size_t i = 0; i < n; i++) {
        long long ic = v[i].icount == UINT64_MAX ? -1 : (long long)v[i].icount;
        g_string_append_printf(ours, "%s %s %" G_GUINT64_FORMAT " %lld %" G_GUINT64_FORMAT
                               " %u %u\n", v[i].id, v[i].name, v[i].vm_state_size, ic,
                               v[i].vm_clock_ns, v[i].date_sec, v[i].date_nsec);
        g_string_append_printf(short_, "%s %s %" G_GUINT64_FORMAT " %lld %" G_GUINT64_FORMAT
                               "\n", v[i].id, v[i].name, v[i].vm_state_size, ic,
                               v[i].vm_clock_ns);
    }
    blk_snapshot_list_free(v, n);
    if (want)
        cr_assert_str_eq(short_->str, want);
    char *q = qemu_info(img);
    cr_assert_str_eq(q, ours->str, "qemu-img info sees:\n%s\nwe see:\n%s", q, ours->str);
    g_free(q);
    g_string_free(ours, true);
    g_string_free(short_, true);
}

static void make_qcow2(const char *name, const char *opts, size_t size)
{
    SH("qemu-img create -q -f qcow2 %s%s %s %zu", opts[0] ? "-o " : "", opts, name, size);
}

/* ---------------------------------------------------------- round trips */

/* Pattern A, s1 (with VM state), pattern B, s2, goto s1, more writes,
 * delete s1, reopen: every step checked through us and through QEMU. */
static void round_trip(const char *img, size_t len, unsigned cs)
{
    BlockDev *bs = open_img(img, NULL);
    cr_assert(blk_can_snapshot(bs, NULL));
    uint8_t *a = g_malloc0(len);
    cr_assert_eq(blk_pread(bs, 0, a, len), 0);
    scribble(bs, a, cs, 150, 1);
    size_t vm1_len = 100 * KIB + 7, vm2_len = 3 * cs + 1;
    uint8_t *vm1 = random_bytes(vm1_len, 2), *vm2 = random_bytes(vm2_len, 3);
    create(bs, "s1", vm1, vm1_len, 1500000000ull, 777);
    uint8_t *b = g_memdup2(a, len);
    scribble(bs, b, cs, 150, 4);
    check_disk(bs, b, "after writes over s1");
    create(bs, "s2", vm2, vm2_len, 2500000001ull, UINT64_MAX);
    blk_flush(bs);
    char *want = g_strdup_printf("1 s1 %zu 777 1500000000\n2 s2 %zu -1 2500000001\n", vm1_len,
                                 vm2_len);
    lists_agree(bs, img, want);
    qemu_check(img);
    qemu_data(img, "s1", a, len);
    qemu_data(img, "s2", b, len);
    expect_vmstate(bs, "s2", vm2, vm2_len, false);
    check_disk(bs, b, "read vmstate left the disk alone");

    expect_vmstate(bs, "s1", vm1, vm1_len, true);
    check_disk(bs, a, "after goto s1");
    qemu_check(img);
    qemu_data(img, NULL, a, len);
    uint8_t *c = g_memdup2(a, len);
    scribble(bs, c, cs, 100, 5);
    check_disk(bs, c, "writes after goto s1");
    qemu_check(img);
    qemu_data(img, "s1", a, len);
    qemu_data(img, "s2", b, len);

    cr_assert_eq(blk_snapshot_delete(bs, "s1"), 0, "%s", blk_last_error(bs));
    qemu_check(img);
    g_free(want);
    want = g_strdup_printf("2 s2 %zu -1 2500000001\n", vm2_len);
    lists_agree(bs, img, want);
    cr_assert_eq(blk_snapshot_goto(bs, "s1", NULL, NULL), -ENOENT);
    cr_assert(strstr(blk_last_error(bs), "no snapshot 's1'"), "%s", blk_last_error(bs));
    blk_close(bs);

    bs = open_img(img, NULL);
    lists_agree(bs, img, want);
    check_disk(bs, c, "reopened");
    qemu_data(img, "s2", b, len);
    /* By id this time. */
    expect_vmstate(bs, "2", vm2, vm2_len, true);
    check_disk(bs, b, "after goto 2");
    qemu_check(img);
    scribble(bs, b, cs, 50, 6);
    blk_close(bs);
    qemu_check(img);
    qemu_data(img, NULL, b, len);
    g_free(want);
    g_free(a);
    g_free(b);
    g_free(c);
    g_free(vm1);
    g_free(vm2);
}

Test(qcow2_snapshot, round_trip_cluster_sizes)
{
    need_qemu();
    unsigned sizes[] = {512, 4096, 65536};
    for (int i = 0; i < 3; i++) {
        make_qcow2("r.qcow2", sizes[i] == 65536 ? "" : (sizes[i] == 512 ? "cluster_size=512"
                                                                      : "cluster_size=4096"),
                   2 * MIB);
        round_trip("r.qcow2", 2 * MIB, sizes[i]);
    }
}

Test(qcow2_snapshot, round_trip_created_by_tandem)
{
    need_qemu();
    char *p = tmpdir_path("n.qcow2");
    GError *e = NULL;
    cr_assert(blk_create_qcow2(p, 3 * MIB + 4096, NULL, NULL, &e));
    g_free(p);
    round_trip("n.qcow2", 3 * MIB + 4096, 65536);
}

/* Compressed clusters (shared host clusters), qcow2 v2, a backing file
 * under the image, and a disk past one L1 entry. */
Test(qcow2_snapshot, round_trip_compressed_v2_backing)
{
    need_qemu();
    size_t len = 2 * MIB;
    uint8_t *t = random_bytes(len, 9);
    for (size_t i = 0; i < len; i += 8192)
        memset(t + i, (int)(i >> 13), 4096);   /* compressible halves */
    put_file("t.raw", t, len);
    SH("qemu-img convert -c -f raw -O qcow2 -o cluster_size=4096 t.raw c.qcow2");
    round_trip("c.qcow2", len, 4096);
    SH("qemu-img convert -f raw -O qcow2 -o compat=0.10,cluster_size=4096 t.raw v2.qcow2");
    round_trip("v2.qcow2", len, 4096);
    SH("qemu-img create -q -f qcow2 -b t.raw -F raw -o cluster_size=16384 o.qcow2");
    round_trip("o.qcow2", len, 16384);
    /* 512-byte clusters: one L1 entry maps 32 KiB. */
    make_qcow2("w.qcow2", "cluster_size=512", 300 * KIB);
    round_trip("w.qcow2", 300 * KIB, 512);
    g_free(t);
}

Test(qcow2_snapshot, replace_same_name)
{
    need_qemu();
    make_qcow2("x.qcow2", "cluster_size=4096", MIB);
    BlockDev *bs = open_img("x.qcow2", NULL);
    uint8_t *t = g_malloc0(MIB);
    scribble(bs, t, 4096, 40, 11);
    uint8_t *vm1 = random_bytes(50000, 12), *vm2 = random_bytes(9000, 13);
    create(bs, "x", vm1, 50000, 1, 1);
    create(bs, "keep", NULL, 0, 2, 2);
    uint8_t *t2 = g_memdup2(t, MIB);
    scribble(bs, t2, 4096, 40, 14);
    create(bs, "x", vm2, 9000, 3, 3);
    lists_agree(bs, "x.qcow2", "2 keep 0 2 2\n3 x 9000 3 3\n");
    qemu_check("x.qcow2");
    qemu_data("x.qcow2", "x", t2, MIB);
    qemu_data("x.qcow2", "keep", t, MIB);
    expect_vmstate(bs, "x", vm2, 9000, true);
    expect_vmstate(bs, "keep", NULL, 0, true);
    check_disk(bs, t, "goto keep");
    blk_close(bs);
    qemu_check("x.qcow2");
    g_free(t);
    g_free(t2);
    g_free(vm1);
    g_free(vm2);
}

Test(qcow2_snapshot, many_snapshots)
{
    need_qemu();
    const int n = 120;
    size_t len = 512 * KIB;
    make_qcow2("m.qcow2", "cluster_size=4096", len);
    BlockDev *bs = open_img("m.qcow2", NULL);
    uint8_t **disks = g_new0(uint8_t *, n);
    uint8_t *t = g_malloc0(len);
    for (int i = 0; i < n; i++) {
        scribble(bs, t, 4096, 3, 100 + i);
        disks[i] = g_memdup2(t, len);
        char name[32], vm[64];
        snprintf(name, sizeof(name), "snap-%03d", i);
        int vlen = snprintf(vm, sizeof(vm), "vmstate of snapshot %d", i);
        create(bs, name, vm, (size_t)vlen, (uint64_t)i * 1000, (uint64_t)i);
    }
    blk_flush(bs);
    qemu_check("m.qcow2");
    lists_agree(bs, "m.qcow2", NULL);
    for (int i = 0; i < n; i += 17) {
        char name[32];
        snprintf(name, sizeof(name), "snap-%03d", i);
        qemu_data("m.qcow2", name, disks[i], len);
    }
    /* Delete the odd ones, then revert to some of the rest. */
    for (int i = 1; i < n; i += 2) {
        char name[32];
        snprintf(name, sizeof(name), "snap-%03d", i);
        cr_assert_eq(blk_snapshot_delete(bs, name), 0, "%s", blk_last_error(bs));
    }
    qemu_check("m.qcow2");
    blk_close(bs);
    bs = open_img("m.qcow2", NULL);
    BlkSnapshotInfo *v;
    size_t cnt;
    cr_assert_eq(blk_snapshot_list(bs, &v, &cnt), 0);
    cr_assert_eq(cnt, (size_t)n / 2);
    for (size_t k = 0; k < cnt; k++) {
        char name[32], id[16];
        snprintf(name, sizeof(name), "snap-%03zu", 2 * k);
        snprintf(id, sizeof(id), "%zu", 2 * k + 1);
        cr_assert_str_eq(v[k].name, name);
        cr_assert_str_eq(v[k].id, id);
    }
    blk_snapshot_list_free(v, cnt);
    for (int i = 0; i < n; i += 14) {
        char name[32], vm[64];
        snprintf(name, sizeof(name), "snap-%03d", i);
        int vlen = snprintf(vm, sizeof(vm), "vmstate of snapshot %d", i);
        expect_vmstate(bs, name, vm, (size_t)vlen, true);
        check_disk(bs, disks[i], name);
    }
    /* A new one gets the next id after the largest. */
    create(bs, "last", NULL, 0, 0, 0);
    cr_assert_eq(blk_snapshot_list(bs, &v, &cnt), 0);
    cr_assert_str_eq(v[cnt - 1].id, "120");
    blk_snapshot_list_free(v, cnt);
    blk_close(bs);
    qemu_check("m.qcow2");
    for (int i = 0; i < n; i++)
        g_free(disks[i]);
    g_free(disks);
    g_free(t);
}

/* Several MiB of VM state: the L1 table grows (many times its first
 * cluster with 512-byte clusters); qemu-io reads it where QEMU puts it. */
Test(qcow2_snapshot, big_vmstate)
{
    need_qemu();
    unsigned sizes[] = {512, 65536};
    for (int k = 0; k < 2; k++) {
        make_qcow2("b.qcow2", sizes[k] == 512 ? "cluster_size=512" : "", MIB);
        size_t vlen = 6 * MIB + 1234;
        uint8_t *vm = random_bytes(vlen, 21 + k);
        memset(vm, 0x5a, 2 * MIB);
        memset(vm + 6 * MIB, 0xc3, 1024);           /* qemu-io reads whole sectors */
        BlockDev *bs = open_img("b.qcow2", NULL);
        uint8_t *t = g_malloc0(MIB);
        scribble(bs, t, sizes[k], 30, 23);
        create(bs, "big", vm, vlen, 5, 6);
        uint8_t *t2 = g_memdup2(t, MIB);
        scribble(bs, t2, sizes[k], 30, 24);
        blk_close(bs);
        qemu_check("b.qcow2");
        size_t n;
        uint8_t *f = get_file("b.qcow2", &n);
        uint32_t l1_size = (uint32_t)f[36] << 24 | f[37] << 16 | f[38] << 8 | f[39];
        g_free(f);
        /* 1 MiB disk + 6 MiB state: 224 entries of 32 KiB or 1 of 512 MiB. */
        cr_assert_eq(l1_size, sizes[k] == 512 ? 32 + 193 : 2, "l1_size %u", l1_size);

        bs = open_img("b.qcow2", NULL);
        expect_vmstate(bs, "big", vm, vlen, false);
        check_disk(bs, t2, "disk after big vmstate");
        blk_close(bs);
        /* QEMU reverts to it and finds the state where it expects it. */
        SH("qemu-img snapshot -a big b.qcow2");
        qemu_check("b.qcow2");
        qemu_data("b.qcow2", NULL, t, MIB);
        char *out = NULL;
        cr_assert_eq(sh_out(&out, "qemu-io -c 'read -b -P 0x5a 0 2M' -c 'read -b -P 0xc3 6M "
                            "1k' b.qcow2 2>&1"), 0);
        cr_assert_null(strstr(out, "verification failed"), "%s", out);
        cr_assert(strstr(out, "read 2097152/2097152") && strstr(out, "read 1024/1024"), "%s",
                  out);
        g_free(out);
        g_free(t);
        g_free(t2);
        g_free(vm);
    }
}

/* ------------------------------------------------------------- interop */

Test(qcow2_snapshot, qemu_disk_only_snapshot)
{
    need_qemu();
    size_t len = MIB;
    uint8_t *t = random_bytes(len, 31);
    put_file("t.raw", t, len);
    SH("qemu-img convert -f raw -O qcow2 -o cluster_size=4096 t.raw q.qcow2");
    SH("qemu-img snapshot -c q1 q.qcow2");
    BlockDev *bs = open_img("q.qcow2", NULL);
    BlkSnapshotInfo *v;
    size_t n;
    cr_assert_eq(blk_snapshot_list(bs, &v, &n), 0);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(v[0].id, "1");
    cr_assert_str_eq(v[0].name, "q1");
    cr_assert_eq(v[0].vm_state_size, 0);
    blk_snapshot_list_free(v, n);
    lists_agree(bs, "q.qcow2", NULL);
    uint8_t *t2 = g_memdup2(t, len);
    scribble(bs, t2, 4096, 80, 32);
    create(bs, "ours", NULL, 0, 0, UINT64_MAX);
    scribble(bs, t2, 4096, 80, 33);
    expect_vmstate(bs, "q1", NULL, 0, true);
    check_disk(bs, t, "after goto q1");
    qemu_check("q.qcow2");
    cr_assert_eq(blk_snapshot_delete(bs, "q1"), 0, "%s", blk_last_error(bs));
    qemu_check("q.qcow2");
    check_disk(bs, t, "after delete q1");
    blk_close(bs);
    SH("qemu-img snapshot -l q.qcow2 | grep -q ours");
    g_free(t);
    g_free(t2);
}

Test(qcow2_snapshot, qemu_reverts_and_deletes_ours)
{
    need_qemu();
    size_t len = MIB;
    make_qcow2("o.qcow2", "cluster_size=4096", len);
    BlockDev *bs = open_img("o.qcow2", NULL);
    uint8_t *a = g_malloc0(len);
    scribble(bs, a, 4096, 80, 41);
    uint8_t *vm = random_bytes(70000, 42);
    create(bs, "mine", vm, 70000, 61000000000ull + 250000000ull, 99999);
    uint8_t *b = g_memdup2(a, len);
    scribble(bs, b, 4096, 80, 43);
    create(bs, "second", NULL, 0, 0, UINT64_MAX);
    blk_close(bs);
    /* The text listing too: name, VM size, clock and icount columns. */
    char *out = NULL;
    cr_assert_eq(sh_out(&out, "qemu-img snapshot -l o.qcow2"), 0);
    cr_assert(strstr(out, "ICOUNT"), "%s", out);
    char **lines = g_strsplit(out, "\n", -1);
    bool seen = false;
    for (char **l = lines; *l; l++) {
        if (!strstr(*l, " mine "))
            continue;
        seen = true;
        cr_assert(g_str_has_prefix(*l, "1 "), "%s", *l);
        cr_assert(strstr(*l, "68.4 KiB"), "VM SIZE: %s", *l);
        cr_assert(strstr(*l, "00:01:01.250"), "VM CLOCK: %s", *l);
        cr_assert(g_str_has_suffix(g_strchomp(*l), " 99999"), "ICOUNT: %s", *l);
    }
    cr_assert(seen, "%s", out);
    g_strfreev(lines);
    g_free(out);

    SH("qemu-img snapshot -a mine o.qcow2");
    qemu_check("o.qcow2");
    qemu_data("o.qcow2", NULL, a, len);
    SH("qemu-img snapshot -d mine o.qcow2");
    qemu_check("o.qcow2");
    bs = open_img("o.qcow2", NULL);
    lists_agree(bs, "o.qcow2", "2 second 0 -1 0\n");
    check_disk(bs, a, "after QEMU reverted");
    expect_vmstate(bs, "second", NULL, 0, true);
    check_disk(bs, b, "after goto second");
    blk_close(bs);
    qemu_check("o.qcow2");
    g_free(a);
    g_free(b);
    g_free(vm);
}

/* QEMU's savevm writes a real migration stream; we read it back, store it
 * in a snapshot of our own, and QEMU's loadvm takes ours. */
Test(qcow2_snapshot, qemu_savevm_loadvm)
{
    need_qemu();
    need_tool("qemu-system-x86_64");
    make_qcow2("v.qcow2", "", 4 * MIB);
    const char *qemu = "timeout 60 qemu-system-x86_64 -machine none -nodefaults -display none "
                       "-monitor stdio -drive file=v.qcow2,if=none,id=d0";
    char *out = NULL;
    cr_assert_eq(sh_out(&out, "printf 'savevm qs\\nquit\\n' | %s", qemu), 0);
    g_free(out);
    BlockDev *bs = open_img("v.qcow2", NULL);
    void *vm;
    size_t len;
    cr_assert_eq(blk_snapshot_read_vmstate(bs, "qs", &vm, &len), 0, "%s", blk_last_error(bs));
    cr_assert_geq(len, 8);
    cr_assert(!memcmp(vm, "QEVM\0\0\0\3", 8), "QEMU's VM state starts with its magic");
    lists_agree(bs, "v.qcow2", NULL);
    create(bs, "ours", vm, len, 42, UINT64_MAX);
    cr_assert_eq(blk_snapshot_delete(bs, "qs"), 0);
    blk_close(bs);
    qemu_check("v.qcow2");
    cr_assert_eq(sh_out(&out, "printf 'loadvm ours\\ninfo snapshots\\nquit\\n' | %s 2>&1",
                        qemu), 0);
    cr_assert(strstr(out, "ours"), "%s", out);
    cr_assert_null(strstr(out, "rror"), "QEMU's loadvm of our snapshot:\n%s", out);
    g_free(out);
    qemu_check("v.qcow2");
    g_free(vm);
}

/* ----------------------------------------------------- limits and views */

Test(qcow2_snapshot, refcount_width_limits)
{
    need_qemu();
    make_qcow2("one.qcow2", "refcount_bits=1", MIB);
    BlockDev *bs = open_img("one.qcow2", NULL);
    const char *why = NULL;
    cr_assert_not(blk_can_snapshot(bs, &why));
    cr_assert(why && strstr(why, "1-bit refcounts"), "%s", why);
    cr_assert_eq(blk_snapshot_create(bs, "s", NULL, 0, 0, 0), -ENOTSUP);
    cr_assert(strstr(blk_last_error(bs), "one.qcow2"), "%s", blk_last_error(bs));
    blk_close(bs);
    qemu_check("one.qcow2");

    /* 4-bit refcounts: the active table and 14 snapshots, no more. */
    make_qcow2("four.qcow2", "refcount_bits=4,cluster_size=4096", MIB);
    bs = open_img("four.qcow2", NULL);
    uint8_t *t = g_malloc0(MIB);
    scribble(bs, t, 4096, 20, 51);
    int made = 0, r = 0;
    for (int i = 0; i < 20; i++) {
        char name[16];
        snprintf(name, sizeof(name), "s%d", i);
        if ((r = blk_snapshot_create(bs, name, "vm", 2, 0, 0)) < 0)
            break;
        made++;
    }
    cr_assert_eq(made, 14, "made %d snapshots", made);
    cr_assert_eq(r, -ERANGE, "%d %s", r, blk_last_error(bs));
    cr_assert(strstr(blk_last_error(bs), "overflow"), "%s", blk_last_error(bs));
    check_disk(bs, t, "after the refused snapshot");
    blk_close(bs);
    qemu_check("four.qcow2");
    qemu_data("four.qcow2", "s13", t, MIB);
    g_free(t);
}

static int observed_calls;

static int observer(void *opaque, unsigned tag, BlkOp op, uint64_t off, const void *data,
                    size_t len)
{
    (void)opaque, (void)tag, (void)op, (void)off, (void)data, (void)len;
    observed_calls++;
    return 0;
}

Test(qcow2_snapshot, raw_readonly_views_and_overlays)
{
    need_qemu();
    /* Raw images cannot hold snapshots. */
    uint8_t *t = random_bytes(MIB, 61);
    put_file("d.raw", t, MIB);
    BlockDev *bs = open_img("d.raw", NULL);
    const char *why = NULL;
    cr_assert_not(blk_can_snapshot(bs, &why));
    cr_assert_str_eq(why, "raw images cannot hold snapshots");
    BlkSnapshotInfo *v;
    size_t n;
    cr_assert_eq(blk_snapshot_list(bs, &v, &n), -ENOTSUP);
    cr_assert(strstr(blk_last_error(bs), "d.raw: raw images cannot hold snapshots"), "%s",
              blk_last_error(bs));
    cr_assert_eq(blk_snapshot_create(bs, "s", NULL, 0, 0, 0), -ENOTSUP);
    blk_close(bs);

    /* Read-only qcow2: listed and read, not changed. */
    SH("qemu-img convert -f raw -O qcow2 d.raw q.qcow2 && qemu-img snapshot -c base q.qcow2");
    bs = open_img("q.qcow2", &(BlockOpenOpts){.read_only = true});
    cr_assert_not(blk_can_snapshot(bs, &why));
    cr_assert(strstr(why, "read-only"), "%s", why);
    cr_assert_eq(blk_snapshot_list(bs, &v, &n), 0);
    cr_assert_eq(n, 1);
    blk_snapshot_list_free(v, n);
    expect_vmstate(bs, "base", NULL, 0, false);
    cr_assert_eq(blk_snapshot_create(bs, "s", NULL, 0, 0, 0), -EROFS);
    cr_assert_eq(blk_snapshot_goto(bs, "base", NULL, NULL), -EROFS);
    cr_assert_eq(blk_snapshot_delete(bs, "base"), -EROFS);
    blk_close(bs);

    /* An observed view forwards to the image; the observer sees only
     * guest requests. */
    BlockDev *img = open_img("q.qcow2", NULL);
    BlockDev *view = blk_observe(img, observer, NULL, 0);
    cr_assert(blk_can_snapshot(view, NULL));
    uint8_t buf[4096];
    memset(buf, 0xee, sizeof(buf));
    observed_calls = 0;
    cr_assert_eq(blk_pwrite(view, 8192, buf, sizeof(buf)), 0);
    cr_assert_eq(observed_calls, 1);
    create(view, "v1", "state", 5, 1, 2);
    expect_vmstate(view, "base", NULL, 0, true);
    expect_vmstate(view, "v1", "state", 5, false);
    cr_assert_eq(observed_calls, 1);
    cr_assert_eq(blk_snapshot_goto(view, "nope", NULL, NULL), -ENOENT);
    cr_assert(strstr(blk_last_error(view), "q.qcow2: no snapshot 'nope'"), "%s",
              blk_last_error(view));
    check_disk(view, t, "view after goto base");
    blk_close(view);
    blk_close(img);
    qemu_check("q.qcow2");

    /* snapshot=on: the snapshots go into the temporary overlay; the
     * image is never written. */
    char *sum = NULL;
    sh_out(&sum, "sha256sum q.qcow2");
    bs = open_img("q.qcow2", &(BlockOpenOpts){.snapshot = true});
    cr_assert(blk_can_snapshot(bs, NULL));
    cr_assert_eq(blk_snapshot_list(bs, &v, &n), 0);
    cr_assert_eq(n, 0, "the overlay starts without snapshots");
    blk_snapshot_list_free(v, n);
    uint8_t *t2 = g_memdup2(t, MIB);
    scribble(bs, t2, 65536, 30, 62);
    create(bs, "tmp", "overlay", 7, 0, 0);
    uint8_t *t3 = g_memdup2(t2, MIB);
    scribble(bs, t3, 65536, 30, 63);
    expect_vmstate(bs, "tmp", "overlay", 7, true);
    check_disk(bs, t2, "overlay after goto");
    blk_close(bs);
    char *sum2 = NULL;
    sh_out(&sum2, "sha256sum q.qcow2");
    cr_assert_str_eq(sum, sum2);
    g_free(sum);
    g_free(sum2);
    g_free(t);
    g_free(t2);
    g_free(t3);
}

/* ------------------------------------------------------ corrupt tables */

static uint64_t peek(const uint8_t *img, size_t off, int width)
{
    uint64_t v = 0;
    for (int i = 0; i < width; i++)
        v = v << 8 | img[off + i];
    return v;
}

static void poke(uint8_t *img, size_t off, uint64_t v, int width)
{
    for (int i = 0; i < width; i++)
        img[off + i] = (uint8_t)(v >> 8 * (width - 1 - i));
}

/* Opening the image with one field changed fails, naming the image and
 * saying what is wrong. */
static void expect_open_error(const uint8_t *good, size_t n, size_t off, uint64_t v, int width,
                              const char *needle)
{
    uint8_t *img = g_memdup2(good, n);
    poke(img, off, v, width);
    put_file("h.qcow2", img, n);
    char *m = open_error("h.qcow2");
    cr_assert(m, "poking %#" G_GINT64_MODIFIER "x at %zu: the image opened", v, off);
    cr_assert(strstr(m, "h.qcow2"), "'%s' does not name the image", m);
    cr_assert(strstr(m, needle), "poking %#" G_GINT64_MODIFIER "x at %zu: '%s' lacks '%s'",
              v, off, m, needle);
    g_free(m);
    g_free(img);
}

static void expect_op_error(const uint8_t *good, size_t n, size_t off, uint64_t v, int width,
                            const char *needle)
{
    uint8_t *img = g_memdup2(good, n);
    poke(img, off, v, width);
    put_file("h.qcow2", img, n);
    BlockDev *bs = open_img("h.qcow2", NULL);
    void *vm = NULL;
    size_t len = 0;
    int r = blk_snapshot_read_vmstate(bs, "s1", &vm, &len);
    if (r == 0) {
        g_free(vm);
        r = blk_snapshot_goto(bs, "s1", &vm, &len);
    }
    cr_assert_lt(r, 0, "poking %#" G_GINT64_MODIFIER "x at %zu: no error", v, off);
    cr_assert(strstr(blk_last_error(bs), "h.qcow2"), "%s", blk_last_error(bs));
    cr_assert(strstr(blk_last_error(bs), needle), "'%s' lacks '%s'", blk_last_error(bs),
              needle);
    cr_assert_null(vm);
    blk_close(bs);
    g_free(img);
}

Test(qcow2_snapshot, corrupt_tables)
{
    need_qemu();
    make_qcow2("g.qcow2", "cluster_size=4096", MIB);
    BlockDev *bs = open_img("g.qcow2", NULL);
    uint8_t *t = g_malloc0(MIB);
    scribble(bs, t, 4096, 20, 71);
    create(bs, "s1", "0123456789", 10, 0, 0);
    create(bs, "s2", NULL, 0, 0, 0);
    blk_close(bs);
    size_t n;
    uint8_t *g = get_file("g.qcow2", &n);
    uint64_t so = peek(g, 64, 8), l1_off = peek(g, 40, 8), rt_off = peek(g, 48, 8);
    cr_assert_eq(peek(g, 60, 4), 2);
    uint64_t e2 = (so + 40 + 24 + 1 + 2 + 7) & ~7ull;     /* second entry */
    uint64_t sn_l1 = peek(g, so, 8);

    expect_open_error(g, n, 64, 1ull << 40, 8, "snapshots_offset");
    expect_open_error(g, n, 64, so + 8, 8, "snapshots_offset");
    expect_open_error(g, n, 60, 70000, 4, "nb_snapshots");
    /* More entries than the table holds: they run off the file. */
    expect_open_error(g, n, 60, 60000, 4, "snapshot table");
    expect_open_error(g, n, so + 12, 0, 2, "id string of 0 bytes");
    expect_open_error(g, n, so + 12, 1000, 2, "id string of 1000 bytes");
    expect_open_error(g, n, e2 + 14, 0xffff, 2, "runs past the end of the file");
    expect_open_error(g, n, so + 36, 5000, 4, "extra data size 5000");
    expect_open_error(g, n, so + 36, 0xffffffff, 4, "extra data size");
    expect_open_error(g, n, so, sn_l1 + 8, 8, "L1 table offset");
    expect_open_error(g, n, so, 1ull << 50, 8, "L1 table offset");
    expect_open_error(g, n, so, 0, 8, "L1 table offset");
    expect_open_error(g, n, so + 8, 0x7fffffff, 4, "too large");
    expect_open_error(g, n, so + 8, 100000, 4, "L1 table offset");
    expect_open_error(g, n, so, l1_off, 8, "overlaps");
    expect_open_error(g, n, so, rt_off, 8, "overlaps");
    expect_open_error(g, n, so + 40 + 8, ~0ull, 8, "disk size");
    expect_open_error(g, n, e2, sn_l1, 8, "overlaps");
    expect_open_error(g, n, so + 40 + 24, 0, 1, "NUL");

    /* Found when used: the snapshot's L1 entries and its VM state size. */
    expect_op_error(g, n, sn_l1, 1ull << 50, 8, "snapshot 's1' (id 1): L1 entry 0");
    expect_op_error(g, n, sn_l1, 0x1200, 8, "snapshot 's1' (id 1): L1 entry 0");
    expect_op_error(g, n, sn_l1, rt_off, 8, "overlaps the refcount table");
    expect_op_error(g, n, sn_l1 + 8, 3, 8, "reserved bits");
    expect_op_error(g, n, so + 40, 1ull << 40, 8, "past the end of its L1 table");
    expect_op_error(g, n, so + 40, ~0ull, 8, "VM state");
    /* A snapshot disk size other than the image's: not reverted to. */
    {
        uint8_t *img = g_memdup2(g, n);
        poke(img, so + 48, 2 * MIB, 8);
        put_file("h.qcow2", img, n);
        bs = open_img("h.qcow2", NULL);
        cr_assert_eq(blk_snapshot_goto(bs, "s1", NULL, NULL), -ENOTSUP);
        cr_assert(strstr(blk_last_error(bs), "disk of 2097152 bytes"), "%s",
                  blk_last_error(bs));
        blk_close(bs);
        g_free(img);
    }
    /* The untouched image still works. */
    put_file("h.qcow2", g, n);
    bs = open_img("h.qcow2", NULL);
    expect_vmstate(bs, "s1", "0123456789", 10, true);
    check_disk(bs, t, "intact image");
    blk_close(bs);
    qemu_check("h.qcow2");
    g_free(g);
    g_free(t);
}

/* Found by tests/fuzz/fuzz_qcow2.c: the snapshot table's own refcount is
 * 0, so freeing the old table after the header switched to the new one
 * fails.  The new table is in use by then and must stay the image's (it
 * was freed, and freed again at close). */
Test(qcow2_snapshot, old_table_refcount_corrupt)
{
    need_qemu();
    make_qcow2("g.qcow2", "cluster_size=512", 64 * KIB);
    SH("qemu-img snapshot -c s1 g.qcow2 && qemu-img snapshot -c s2 g.qcow2");
    size_t n;
    uint8_t *g = get_file("g.qcow2", &n);
    uint64_t so = peek(g, 64, 8), rt_off = peek(g, 48, 8);
    uint64_t rb = peek(g, rt_off, 8);
    cr_assert_eq(peek(g, rb + (so / 512) * 2, 2), 1);
    poke(g, rb + (so / 512) * 2, 0, 2);
    put_file("h.qcow2", g, n);
    for (int op = 0; op < 2; op++) {
        SH("cp h.qcow2 op.qcow2");
        BlockDev *bs = open_img("op.qcow2", NULL);
        int r = op ? blk_snapshot_delete(bs, "s1") : blk_snapshot_create(bs, "s3", "x", 1, 0, 0);
        cr_assert_lt(r, 0, "op %d: no error", op);
        cr_assert(strstr(blk_last_error(bs), "op.qcow2") &&
                  strstr(blk_last_error(bs), "below zero"), "%s", blk_last_error(bs));
        BlkSnapshotInfo *v;
        size_t nv;
        cr_assert_eq(blk_snapshot_list(bs, &v, &nv), 0);
        cr_assert_eq(nv, op ? 1 : 3);
        cr_assert_str_eq(v[0].name, op ? "s2" : "s1");
        blk_snapshot_list_free(v, nv);
        blk_close(bs);
        char *out = NULL;
        cr_assert_eq(sh_out(&out, "qemu-img snapshot -l op.qcow2"), 0);
        cr_assert(strstr(out, op ? "s2" : "s3") && (op == 0 || !strstr(out, "s1")), "%s", out);
        g_free(out);
    }
    g_free(g);
}

/* Random damage to the snapshot table and the snapshot L1 tables: every
 * outcome is a message or a working image, never a crash (ASan runs it). */
Test(qcow2_snapshot, corrupt_random)
{
    need_qemu();
    make_qcow2("g.qcow2", "cluster_size=512", 256 * KIB);
    BlockDev *bs = open_img("g.qcow2", NULL);
    uint8_t *t = g_malloc0(256 * KIB);
    scribble(bs, t, 512, 20, 81);
    create(bs, "s1", "vmstate-one", 11, 0, 0);
    scribble(bs, t, 512, 20, 82);
    create(bs, "s2", "vmstate-two", 11, 0, 0);
    blk_close(bs);
    size_t n;
    uint8_t *g = get_file("g.qcow2", &n);
    uint64_t so = peek(g, 64, 8), l1a = peek(g, so, 8);
    rng_state = 0x51a95;
    int opened = 0;
    for (int it = 0; it < 300; it++) {
        uint8_t *img = g_memdup2(g, n);
        for (int k = 1 + (int)(rnd() % 3); k > 0; k--) {
            uint64_t base = rnd() % 2 ? so : l1a;
            size_t at = (size_t)(base + rnd() % 120);
            if (rnd() % 2)
                img[at] ^= (uint8_t)(1u << (rnd() % 8));
            else
                img[at] = (uint8_t)rnd();
        }
        put_file("h.qcow2", img, n);
        char *p = tmpdir_path("h.qcow2");
        GError *e = NULL;
        bs = blk_open(p, NULL, &e);
        g_free(p);
        if (!bs) {
            cr_assert(e && strstr(e->message, "h.qcow2"));
            g_error_free(e);
            g_free(img);
            continue;
        }
        opened++;
        BlkSnapshotInfo *v;
        size_t cnt;
        cr_assert_eq(blk_snapshot_list(bs, &v, &cnt), 0);
        for (size_t i = 0; i < cnt; i++) {
            void *vm = NULL;
            size_t len = 0;
            if (blk_snapshot_read_vmstate(bs, v[i].id, &vm, &len) < 0)
                cr_assert(strstr(blk_last_error(bs), "h.qcow2"), "%s", blk_last_error(bs));
            g_free(vm);
            if (blk_snapshot_goto(bs, v[i].id, &vm, &len) < 0)
                cr_assert(strstr(blk_last_error(bs), "h.qcow2"), "%s", blk_last_error(bs));
            g_free(vm);
        }
        if (cnt && blk_snapshot_delete(bs, v[0].id) < 0)
            cr_assert(blk_last_error(bs)[0]);
        if (blk_snapshot_create(bs, "new", "x", 1, 0, 0) < 0)
            cr_assert(blk_last_error(bs)[0]);
        blk_snapshot_list_free(v, cnt);
        blk_close(bs);
        g_free(img);
    }
    cr_log_info("random snapshot table damage: %d of 300 opened", opened);
    g_free(g);
    g_free(t);
}
