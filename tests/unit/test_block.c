/* The block layer against QEMU's own tools: images made by qemu-img and
 * qemu-io are read back through blk_pread; images written through
 * blk_pwrite must pass 'qemu-img check' and convert to the expected
 * bytes.  Hostile images (corrupted fields and tables) must fail with a
 * message, never crash (the ASan build runs this too). */
#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block.h"
#include "tmpdir.h"

static void setup(void)
{
    tmpdir_make("tandem-block-XXXXXX");
}

TestSuite(block, .init = setup, .fini = tmpdir_remove, .timeout = 300);

static void need_qemu(void)
{
    char *a = g_find_program_in_path("qemu-img"), *b = g_find_program_in_path("qemu-io");
    bool ok = a && b;
    g_free(a);
    g_free(b);
    /* Part of the test environment (./setup.sh): a failure, not a skip. */
    cr_assert(ok, "qemu-img/qemu-io not installed (Debian: qemu-utils; ./setup.sh installs "
              "them)");
}

/* Runs a shell command in tmpdir; returns its exit status. */
__attribute__((format(printf, 1, 2)))
static int sh(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int status = tmpdir_vsh(NULL, fmt, ap);
    va_end(ap);
    return status;
}

#define SH(...) cr_assert_eq(sh(__VA_ARGS__), 0)

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A mix of 4 KiB blocks: zeros, random bytes, and compressible text-ish
 * bytes (so 'convert -c' really stores compressed clusters). */
static uint8_t *make_pattern(size_t len, uint64_t seed)
{
    uint8_t *b = g_malloc(len);
    rng_state = seed;
    for (size_t off = 0; off < len; off += 4096) {
        size_t n = MIN(4096, len - off);
        unsigned kind = rnd() % 4;
        for (size_t i = 0; i < n; i++) {
            if (kind == 0)
                b[off + i] = 0;
            else if (kind == 1)
                b[off + i] = (uint8_t)rnd();
            else
                b[off + i] = (uint8_t)("tandem block "[(off / 4096 + i) % 13] + (i / 512));
        }
    }
    return b;
}

static void put_file(const char *name, const void *buf, size_t len)
{
    char *p = tmpdir_path(name);
    cr_assert(g_file_set_contents(p, buf, (gssize)len, NULL));
    g_free(p);
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

static char *file_sum(const char *name)
{
    size_t n;
    uint8_t *b = get_file(name, &n);
    char *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, b, n);
    g_free(b);
    return sum;
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

static char *open_error(const char *name)
{
    char *p = tmpdir_path(name);
    GError *e = NULL;
    BlockDev *bs = blk_open(p, NULL, &e);
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

static void first_diff(const uint8_t *a, const uint8_t *b, size_t len, const char *what)
{
    for (size_t i = 0; i < len; i++)
        cr_assert_eq(a[i], b[i], "%s: byte %#zx is %#x, want %#x", what, i, a[i], b[i]);
}

/* Reads the whole disk at once and in random pieces. */
static void check_reads(BlockDev *bs, const uint8_t *truth, size_t len)
{
    cr_assert_eq(blk_size(bs), len);
    uint8_t *buf = g_malloc(len);
    cr_assert_eq(blk_pread(bs, 0, buf, len), 0, "%s", blk_last_error(bs));
    first_diff(buf, truth, len, "whole read");
    for (int i = 0; i < 200; i++) {
        size_t off = rnd() % len, n = 1 + rnd() % MIN(len - off, 200000);
        cr_assert_eq(blk_pread(bs, off, buf, n), 0, "%s", blk_last_error(bs));
        cr_assert(!memcmp(buf, truth + off, n), "read of %zu at %#zx differs", n, off);
    }
    cr_assert_lt(blk_pread(bs, len - 1, buf, 2), 0);
    cr_assert(strstr(blk_last_error(bs), "beyond the end"));
    g_free(buf);
}

static void check_image_reads(const char *name, const uint8_t *truth, size_t len)
{
    BlockDev *bs = open_img(name, &(BlockOpenOpts){.read_only = true});
    cr_assert_str_eq(blk_format(bs), "qcow2");
    check_reads(bs, truth, len);
    blk_close(bs);
}

#define MIB (1u << 20)

static void qemu_agrees(const char *name, const uint8_t *t, size_t len);
static void write_test(const char *name, uint8_t *t, size_t len, unsigned cs, int count);

/* ------------------------------------------------------------ reading */

Test(block, raw_probe_and_io)
{
    size_t len = MIB;
    uint8_t *t = make_pattern(len, 1);
    put_file("d.raw", t, len);
    BlockDev *bs = open_img("d.raw", NULL);
    cr_assert_str_eq(blk_format(bs), "raw");
    check_reads(bs, t, len);
    uint8_t w[5000];
    memset(w, 0x5a, sizeof(w));
    cr_assert_eq(blk_pwrite(bs, 12345, w, sizeof(w)), 0);
    memcpy(t + 12345, w, sizeof(w));
    cr_assert_eq(blk_flush(bs), 0);
    blk_close(bs);
    size_t n;
    uint8_t *f = get_file("d.raw", &n);
    cr_assert_eq(n, len);
    first_diff(f, t, len, "raw file");
    g_free(f);
    g_free(t);
}

Test(block, read_qcow2_versions_and_cluster_sizes)
{
    need_qemu();
    size_t len = 3 * MIB + 4096 * 3;           /* not a multiple of the cluster size */
    uint8_t *t = make_pattern(len, 2);
    put_file("t.raw", t, len);
    const char *compat[] = {"1.1", "0.10"};
    unsigned cs[] = {512, 4096, 65536, 2 * MIB};
    for (int v = 0; v < 2; v++) {
        for (int c = 0; c < 4; c++) {
            for (int z = 0; z < 2; z++) {
                SH("qemu-img convert -f raw -O qcow2 %s -o compat=%s,cluster_size=%u t.raw i.qcow2",
                   z ? "-c" : "", compat[v], cs[c]);
                check_image_reads("i.qcow2", t, len);
            }
        }
    }
    g_free(t);
}

Test(block, read_zero_clusters)
{
    need_qemu();
    size_t len = 2 * MIB;
    uint8_t *t = make_pattern(len, 3);
    put_file("t.raw", t, len);
    SH("qemu-img convert -f raw -O qcow2 t.raw z.qcow2");
    /* write -z keeps the preallocated cluster; -u drops it. */
    SH("qemu-io -c 'write -z 0 64k' -c 'write -z -u 192k 128k' -c 'write -z 1m 4k' z.qcow2");
    memset(t, 0, 65536);
    memset(t + 192 * 1024, 0, 128 * 1024);
    memset(t + MIB, 0, 4096);
    check_image_reads("z.qcow2", t, len);
    /* Partial writes into both kinds of zero cluster. */
    BlockDev *bs = open_img("z.qcow2", NULL);
    uint8_t w[100];
    memset(w, 0x42, sizeof(w));
    cr_assert_eq(blk_pwrite(bs, 1000, w, sizeof(w)), 0, "%s", blk_last_error(bs));
    cr_assert_eq(blk_pwrite(bs, 200 * 1024, w, sizeof(w)), 0, "%s", blk_last_error(bs));
    memcpy(t + 1000, w, sizeof(w));
    memcpy(t + 200 * 1024, w, sizeof(w));
    blk_close(bs);
    qemu_agrees("z.qcow2", t, len);
    rng_state = 10;
    write_test("z.qcow2", t, len, 65536, 100);
    g_free(t);
}

Test(block, read_backing_chains)
{
    need_qemu();
    size_t blen = 2 * MIB, len = 3 * MIB;
    uint8_t *base = make_pattern(blen, 4);
    uint8_t *t = g_malloc0(len);
    memcpy(t, base, blen);
    put_file("base.raw", base, blen);
    char *sub = tmpdir_path("sub");
    mkdir(sub, 0755);
    g_free(sub);
    SH("qemu-img convert -f raw -O qcow2 -c base.raw sub/base.qcow2");
    /* Backing names are relative to the image's directory. */
    SH("qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 sub/mid.qcow2 3M");
    SH("qemu-io -c 'write -P 0xab 100k 70k' -c 'write -z 300k 64k' sub/mid.qcow2");
    memset(t + 100 * 1024, 0xab, 70 * 1024);
    memset(t + 300 * 1024, 0, 64 * 1024);
    SH("qemu-img create -q -f qcow2 -b sub/mid.qcow2 -F qcow2 top.qcow2 3M");
    SH("qemu-io -c 'write -P 0xcd 2000k 100k' top.qcow2");
    memset(t + 2000 * 1024, 0xcd, 100 * 1024);
    check_image_reads("top.qcow2", t, len);
    BlockDev *bs = open_img("top.qcow2", NULL);
    cr_assert(blk_backing(bs) && blk_backing(blk_backing(bs)));
    cr_assert(blk_is_read_only(blk_backing(bs)));
    blk_close(bs);

    /* A raw backing file, and one whose format is probed. */
    SH("qemu-img create -q -f qcow2 -b base.raw -F raw r.qcow2 3M");
    memcpy(t, base, blen);
    memset(t + blen, 0, len - blen);
    check_image_reads("r.qcow2", t, len);
    char *p = tmpdir_path("p.qcow2");
    cr_assert(blk_create_qcow2(p, len, "sub/base.qcow2", NULL, NULL));
    g_free(p);
    check_image_reads("p.qcow2", t, len);
    bs = open_img("p.qcow2", NULL);
    cr_assert_str_eq(blk_format(blk_backing(bs)), "qcow2");
    blk_close(bs);
    g_free(base);
    g_free(t);
}

/* A three-image chain made by QEMU (v2 base, v3 middle with zero and
 * compressed clusters written by qemu-io), with the same writes put on
 * top once by Tandem (in an overlay Tandem created) and once by qemu-io
 * (in one qemu-img created): qemu-img check finds nothing in ours,
 * qemu-img compare finds them identical, qemu-img info follows our chain,
 * and qemu-img commit of ours into the middle gives QEMU's result. */
Test(block, interop_chain_overlay_compare)
{
    need_qemu();
    size_t len = 2 * MIB;
    uint8_t *t = make_pattern(len, 21);
    put_file("base.raw", t, len);
    SH("qemu-img convert -q -f raw -O qcow2 -o compat=0.10,cluster_size=4096 base.raw base.qcow2");
    SH("qemu-img create -q -f qcow2 -o compat=1.1,cluster_size=16384 -b base.qcow2 -F qcow2 "
       "mid.qcow2");
    SH("qemu-io -f qcow2 -c 'write -P 0x5a 64k 48k' -c 'write -z 256k 64k' "
       "-c 'write -c -P 0x3c 512k 16k' -c 'write -c -P 0x3d 1M 64k' mid.qcow2 >/dev/null");
    memset(t + 64 * 1024, 0x5a, 48 * 1024);
    memset(t + 256 * 1024, 0, 64 * 1024);
    memset(t + 512 * 1024, 0x3c, 16 * 1024);
    memset(t + MIB, 0x3d, 64 * 1024);
    check_image_reads("mid.qcow2", t, len);

    char *ours = tmpdir_path("ours.qcow2");
    cr_assert(blk_create_qcow2(ours, len, "mid.qcow2", "qcow2", NULL));
    g_free(ours);
    SH("qemu-img create -q -f qcow2 -b mid.qcow2 -F qcow2 theirs.qcow2 2M");
    /* Partial clusters, a boundary, over the zero and compressed ones, the end. */
    static const struct { unsigned off, len; uint8_t pat; } w[] = {
        { 1000, 3000, 0x11 }, { 60 * 1024, 10 * 1024, 0x22 }, { 250 * 1024, 20 * 1024, 0x33 },
        { 520 * 1024, 512, 0x44 }, { MIB + 4096, 70 * 1024, 0x55 }, { 2 * MIB - 512, 512, 0x66 },
    };
    BlockDev *bs = open_img("ours.qcow2", NULL);
    GString *io = g_string_new("qemu-io -f qcow2");
    for (size_t i = 0; i < G_N_ELEMENTS(w); i++) {
        uint8_t *buf = g_malloc(w[i].len);
        memset(buf, w[i].pat, w[i].len);
        cr_assert_eq(blk_pwrite(bs, w[i].off, buf, w[i].len), 0, "%s", blk_last_error(bs));
        memcpy(t + w[i].off, buf, w[i].len);
        g_free(buf);
        g_string_append_printf(io, " -c 'write -P %#x %u %u'", w[i].pat, w[i].off, w[i].len);
    }
    check_reads(bs, t, len);
    blk_close(bs);
    SH("%s theirs.qcow2 >/dev/null", io->str);
    g_string_free(io, TRUE);

    SH("qemu-img check -q ours.qcow2");
    SH("qemu-img compare -q ours.qcow2 theirs.qcow2");
    check_image_reads("theirs.qcow2", t, len);
    SH("qemu-img info --backing-chain ours.qcow2 > info.txt && grep -q '^backing file: mid.qcow2' "
       "info.txt && grep -q '^backing file: base.qcow2' info.txt && "
       "grep -q '^image: base.qcow2' info.txt");
    SH("qemu-img commit -q ours.qcow2");
    SH("qemu-img compare -q mid.qcow2 theirs.qcow2 && qemu-img check -q mid.qcow2");
    check_image_reads("mid.qcow2", t, len);
    g_free(t);

    /* Loops made by qemu-img (-u: it does not open the backing file): a
     * file backing onto itself, also under another spelling of its name. */
    SH("qemu-img create -q -f qcow2 -u -b ./self.qcow2 -F qcow2 self.qcow2 1M");
    SH("mkdir -p d && qemu-img create -q -f qcow2 -u -b ../d/../other.qcow2 -F qcow2 d/x.qcow2 1M");
    SH("qemu-img create -q -f qcow2 -u -b d/x.qcow2 -F qcow2 other.qcow2 1M");
    for (int i = 0; i < 2; i++) {
        char *m = open_error(i ? "other.qcow2" : "self.qcow2");
        cr_assert(m && strstr(m, "backing chain loop"), "%s", m ? m : "(opened)");
        g_free(m);
    }
}

Test(block, backing_loops_and_depth)
{
    char *a = tmpdir_path("a.qcow2"), *b = tmpdir_path("b.qcow2");
    cr_assert(blk_create_qcow2(a, MIB, "b.qcow2", "qcow2", NULL));
    cr_assert(blk_create_qcow2(b, MIB, "a.qcow2", "qcow2", NULL));
    char *m = open_error("a.qcow2");
    cr_assert(m && strstr(m, "loop"), "%s", m);
    g_free(m);
    char *fifo = tmpdir_path("fifo");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    g_free(fifo);
    cr_assert(blk_create_qcow2(b, MIB, "fifo", "raw", NULL));
    m = open_error("a.qcow2");
    cr_assert(m && strstr(m, "not a regular file"), "%s", m);
    g_free(m);
    cr_assert(blk_create_qcow2(b, MIB, "missing.qcow2", "qcow2", NULL));
    m = open_error("a.qcow2");
    cr_assert(m && strstr(m, "missing.qcow2"), "%s", m);
    g_free(m);
    for (int i = 0; i < BLK_MAX_BACKING_DEPTH + 3; i++) {
        char *n = g_strdup_printf("c%d.qcow2", i), *bn = g_strdup_printf("c%d.qcow2", i + 1);
        char *pn = tmpdir_path(n);
        cr_assert(blk_create_qcow2(pn, MIB, bn, "qcow2", NULL));
        g_free(n);
        g_free(bn);
        g_free(pn);
    }
    char *last = g_strdup_printf("c%d.qcow2", BLK_MAX_BACKING_DEPTH + 3), *pl = tmpdir_path(last);
    cr_assert(blk_create_qcow2(pl, MIB, NULL, NULL, NULL));
    m = open_error("c0.qcow2");
    cr_assert(m && strstr(m, "deeper"), "%s", m);
    g_free(m);
    g_free(last);
    g_free(pl);
    g_free(a);
    g_free(b);
}

/* ------------------------------------------------------------ writing */

/* Random writes: partial clusters, across boundaries, whole clusters. */
static void random_writes(BlockDev *bs, uint8_t *t, size_t len, unsigned cs, int count)
{
    uint8_t *buf = g_malloc(3 * cs + 8192);
    for (int i = 0; i < count; i++) {
        size_t off, n;
        switch (rnd() % 4) {
        case 0: off = rnd() % len; n = 1 + rnd() % 700; break;
        case 1: off = (rnd() % (len / cs)) * cs + cs - 100; n = 300; break;
        case 2: off = (rnd() % (len / cs)) * cs; n = cs; break;
        default: off = rnd() % len; n = 1 + rnd() % (3 * cs + 8000); break;
        }
        if (off >= len)
            off = len - 1;
        n = MIN(n, len - off);
        for (size_t j = 0; j < n; j++)
            buf[j] = (uint8_t)(rnd() >> 7);
        if (rnd() % 5 == 0)
            memset(buf, 0, n);
        cr_assert_eq(blk_pwrite(bs, off, buf, n), 0, "write %zu at %#zx: %s", n, off,
                     blk_last_error(bs));
        memcpy(t + off, buf, n);
    }
    g_free(buf);
}

/* qemu-img check finds nothing, and the converted image is t. */
static void qemu_agrees(const char *name, const uint8_t *t, size_t len)
{
    SH("qemu-img check -q %s", name);
    SH("rm -f out.raw && qemu-img convert -O raw %s out.raw", name);
    size_t n;
    uint8_t *f = get_file("out.raw", &n);
    cr_assert_eq(n, len);
    first_diff(f, t, len, name);
    g_free(f);
}

static void write_test(const char *name, uint8_t *t, size_t len, unsigned cs, int count)
{
    BlockDev *bs = open_img(name, NULL);
    random_writes(bs, t, len, cs, count);
    check_reads(bs, t, len);
    cr_assert_eq(blk_flush(bs), 0);
    blk_close(bs);
    qemu_agrees(name, t, len);
    check_image_reads(name, t, len);
}

Test(block, write_fresh_and_compressed)
{
    need_qemu();
    size_t len = 2 * MIB;
    uint8_t *t = g_malloc0(len);
    SH("qemu-img create -q -f qcow2 e.qcow2 2M");
    rng_state = 11;
    write_test("e.qcow2", t, len, 65536, 300);
    g_free(t);

    for (int v = 0; v < 2; v++) {
        t = make_pattern(len, 5);
        put_file("t.raw", t, len);
        SH("qemu-img convert -c -f raw -O qcow2 -o compat=%s,cluster_size=4096 t.raw c.qcow2",
           v ? "0.10" : "1.1");
        write_test("c.qcow2", t, len, 4096, 400);
        g_free(t);
    }
}

Test(block, write_over_backing_and_zero_clusters)
{
    need_qemu();
    size_t len = 2 * MIB;
    uint8_t *t = make_pattern(len, 6);
    put_file("t.raw", t, len);
    SH("qemu-img convert -c -f raw -O qcow2 t.raw base.qcow2");
    SH("qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 -o cluster_size=16384 ov.qcow2");
    SH("qemu-io -c 'write -z 64k 64k' -c 'write -z -u 256k 64k' ov.qcow2");
    memset(t + 65536, 0, 65536);
    memset(t + 256 * 1024, 0, 65536);
    rng_state = 12;
    write_test("ov.qcow2", t, len, 16384, 400);
    g_free(t);
}

Test(block, write_refcount_widths_and_table_growth)
{
    need_qemu();
    /* 512-byte clusters: one refcount table cluster covers 8 MiB of file at
     * 16 bits, so filling 12 MiB must grow the table. */
    size_t len = 12 * MIB;
    unsigned bits[] = {16, 1, 64};
    for (int i = 0; i < 3; i++) {
        uint8_t *t = g_malloc0(len);
        SH("qemu-img create -q -f qcow2 -o cluster_size=512,refcount_bits=%u g.qcow2 12M",
           bits[i]);
        BlockDev *bs = open_img("g.qcow2", NULL);
        uint8_t *chunk = g_malloc(MIB);
        for (size_t off = 0; off < len; off += MIB) {
            for (size_t j = 0; j < MIB; j++)
                chunk[j] = (uint8_t)(j * 7 + off / MIB + i);
            cr_assert_eq(blk_pwrite(bs, off, chunk, MIB), 0, "%s", blk_last_error(bs));
            memcpy(t + off, chunk, MIB);
        }
        g_free(chunk);
        rng_state = 13 + i;
        random_writes(bs, t, len, 512, 100);
        blk_close(bs);
        qemu_agrees("g.qcow2", t, len);
        size_t n;
        uint8_t *f = get_file("g.qcow2", &n);
        /* At 1 bit a refcount table cluster covers 128 MiB. */
        if (bits[i] != 1)
            cr_assert_gt(f[59], 1, "the refcount table did not grow");
        g_free(f);
        g_free(t);
    }
}

Test(block, write_with_internal_snapshot)
{
    need_qemu();
    size_t len = MIB;
    uint8_t *t = make_pattern(len, 7);
    put_file("t.raw", t, len);
    SH("qemu-img convert -f raw -O qcow2 -o cluster_size=4096 t.raw s.qcow2");
    SH("qemu-img snapshot -c s1 s.qcow2");
    uint8_t *old = g_memdup2(t, len);
    rng_state = 14;
    write_test("s.qcow2", t, len, 4096, 300);
    SH("qemu-img convert -O raw -l snapshot.name=s1 s.qcow2 snap.raw");
    size_t n;
    uint8_t *f = get_file("snap.raw", &n);
    cr_assert_eq(n, len);
    first_diff(f, old, len, "snapshot s1");
    g_free(f);
    g_free(old);
    g_free(t);
}

Test(block, write_created_by_tandem)
{
    need_qemu();
    size_t len = 3 * MIB;
    uint8_t *t = g_malloc0(len);
    char *p = tmpdir_path("n.qcow2");
    GError *e = NULL;
    cr_assert(blk_create_qcow2(p, len, NULL, NULL, &e));
    g_free(p);
    SH("qemu-img check -q n.qcow2");
    rng_state = 15;
    write_test("n.qcow2", t, len, 65536, 200);
    g_free(t);
}

Test(block, read_only_refuses_writes)
{
    need_qemu();
    SH("qemu-img create -q -f qcow2 e.qcow2 1M");
    BlockDev *bs = open_img("e.qcow2", &(BlockOpenOpts){.read_only = true});
    uint8_t b[16] = {1};
    cr_assert_eq(blk_pwrite(bs, 0, b, sizeof(b)), -EROFS);
    cr_assert(strstr(blk_last_error(bs), "read-only"));
    blk_close(bs);
}

Test(block, snapshot_mode_leaves_image_untouched)
{
    need_qemu();
    size_t len = 2 * MIB;
    uint8_t *t = make_pattern(len, 8);
    put_file("t.raw", t, len);
    SH("qemu-img convert -c -f raw -O qcow2 t.raw base.qcow2");
    SH("qemu-img create -q -f qcow2 -b base.qcow2 -F qcow2 top.qcow2");
    const char *imgs[] = {"top.qcow2", "t.raw"};
    for (int i = 0; i < 2; i++) {
        char *before = file_sum(imgs[i]), *bbase = file_sum("base.qcow2");
        uint8_t *w = g_memdup2(t, len);
        BlockDev *bs = open_img(imgs[i], &(BlockOpenOpts){.snapshot = true});
        cr_assert(!blk_is_read_only(bs));
        rng_state = 16 + i;
        random_writes(bs, w, len, 65536, 200);
        check_reads(bs, w, len);
        cr_assert_eq(blk_flush(bs), 0);
        blk_close(bs);
        char *after = file_sum(imgs[i]), *abase = file_sum("base.qcow2");
        cr_assert_str_eq(before, after, "%s changed in snapshot mode", imgs[i]);
        cr_assert_str_eq(bbase, abase);
        g_free(before);
        g_free(after);
        g_free(bbase);
        g_free(abase);
        g_free(w);
    }
    check_image_reads("top.qcow2", t, len);
    g_free(t);
}

/* ------------------------------------------------------ hostile images */

static void poke(uint8_t *img, size_t off, uint64_t v, int width)
{
    for (int i = 0; i < width; i++)
        img[off + i] = (uint8_t)(v >> 8 * (width - 1 - i));
}

static uint64_t peek(const uint8_t *img, size_t off, int width)
{
    uint64_t v = 0;
    for (int i = 0; i < width; i++)
        v = v << 8 | img[off + i];
    return v;
}

/* Opens the image (if it opens, reads and writes some of it); every
 * failure must come with a message.  Returns the open error or NULL. */
static char *exercise(const uint8_t *img, size_t n)
{
    put_file("h.qcow2", img, n);
    char *p = tmpdir_path("h.qcow2");
    GError *e = NULL;
    BlockDev *bs = blk_open(p, &(BlockOpenOpts){.format = "qcow2"}, &e);
    g_free(p);
    if (!bs) {
        cr_assert(e && e->message[0]);
        char *m = g_strdup(e->message);
        g_error_free(e);
        return m;
    }
    uint64_t size = blk_size(bs);
    uint8_t *buf = g_malloc(65536);
    for (uint64_t off = 0; off < MIN(size, 2 * MIB); off += 65536) {
        size_t len = (size_t)MIN(65536, size - off);
        if (blk_pread(bs, off, buf, len) < 0)
            cr_assert(strstr(blk_last_error(bs), "h.qcow2"), "%s", blk_last_error(bs));
    }
    for (int i = 0; i < 4 && size; i++) {
        uint64_t off = rnd() % size;
        size_t len = (size_t)MIN(1 + rnd() % 65536, size - off);
        memset(buf, i, len);
        if (blk_pwrite(bs, off, buf, len) < 0)
            cr_assert(blk_last_error(bs)[0]);
        if (blk_pread(bs, off, buf, len) < 0)
            cr_assert(blk_last_error(bs)[0]);
    }
    g_free(buf);
    blk_close(bs);
    return NULL;
}

static void expect_error(const uint8_t *good, size_t n, size_t off, uint64_t v, int width,
                         const char *needle)
{
    uint8_t *img = g_memdup2(good, n);
    poke(img, off, v, width);
    char *m = exercise(img, n);
    cr_assert(m, "poking %#" G_GINT64_MODIFIER "x at %zu: the image opened", v, off);
    cr_assert(strstr(m, needle), "poking %#" G_GINT64_MODIFIER "x at %zu: '%s' lacks '%s'",
              v, off, m, needle);
    g_free(m);
    g_free(img);
}

/* A read of the whole disk must fail with needle in the message. */
static void expect_read_error(const uint8_t *good, size_t n, size_t off, uint64_t v,
                              const char *needle)
{
    uint8_t *img = g_memdup2(good, n);
    poke(img, off, v, 8);
    put_file("h.qcow2", img, n);
    BlockDev *bs = open_img("h.qcow2", NULL);
    uint8_t *buf = g_malloc(blk_size(bs));
    cr_assert_eq(blk_pread(bs, 0, buf, blk_size(bs)), -EIO);
    cr_assert(strstr(blk_last_error(bs), needle), "'%s' lacks '%s'", blk_last_error(bs),
              needle);
    cr_assert_lt(blk_pwrite(bs, 0, buf, 4096), 0);
    g_free(buf);
    blk_close(bs);
    g_free(img);
}

static uint8_t *hostile_base(size_t *n)
{
    size_t len = MIB;
    uint8_t *t = make_pattern(len, 9);
    put_file("t.raw", t, len);
    g_free(t);
    SH("qemu-img convert -c -f raw -O qcow2 -o cluster_size=4096 t.raw g.qcow2");
    SH("qemu-img rebase -q -u -b t.raw -F raw g.qcow2");
    return get_file("g.qcow2", n);
}

Test(block, hostile_header_fields)
{
    need_qemu();
    size_t n;
    uint8_t *g = hostile_base(&n);
    cr_assert_null(exercise(g, n));
    uint64_t l1_off = peek(g, 40, 8), rt_off = peek(g, 48, 8);
    expect_error(g, n, 0, 0x12345678, 4, "not a qcow2");
    expect_error(g, n, 4, 4, 4, "version 4");
    expect_error(g, n, 4, 1, 4, "version 1");
    expect_error(g, n, 20, 8, 4, "cluster_bits 8");
    expect_error(g, n, 20, 22, 4, "cluster_bits 22");
    expect_error(g, n, 20, 0xffffffff, 4, "cluster_bits");
    expect_error(g, n, 100, 50, 4, "header_length");
    expect_error(g, n, 100, 4097, 4, "header_length");
    expect_error(g, n, 100, 0xfffffff8, 4, "header_length");
    expect_error(g, n, 36, 0, 4, "l1_size 0 is too small");
    expect_error(g, n, 36, 0xffffffff, 4, "l1_size");
    expect_error(g, n, 36, 100000, 4, "l1_table_offset");
    expect_error(g, n, 40, l1_off + 8, 8, "l1_table_offset");
    expect_error(g, n, 40, 1ull << 50, 8, "l1_table_offset");
    expect_error(g, n, 40, 0, 8, "l1_table_offset");
    expect_error(g, n, 40, rt_off, 8, "overlaps");
    expect_error(g, n, 24, 1ull << 62, 8, "too large");
    expect_error(g, n, 24, ~0ull, 8, "too large");
    expect_error(g, n, 24, 64 * MIB, 8, "l1_size");
    expect_error(g, n, 48, rt_off + 512, 8, "refcount_table_offset");
    expect_error(g, n, 48, 1ull << 60, 8, "refcount_table_offset");
    expect_error(g, n, 56, 0, 4, "refcount_table_clusters");
    expect_error(g, n, 56, 0x7fffffff, 4, "refcount_table_clusters");
    expect_error(g, n, 56, 1000, 4, "refcount_table_offset");
    expect_error(g, n, 16, 5000, 4, "backing_file_size");
    expect_error(g, n, 16, 0, 4, "backing_file_size");
    expect_error(g, n, 8, 4093, 8, "backing_file_offset");
    expect_error(g, n, 8, 8, 8, "backing_file_offset");
    expect_error(g, n, 8, 1ull << 40, 8, "backing_file_offset");
    expect_error(g, n, 32, 1, 4, "encrypted");
    expect_error(g, n, 60, 1000000, 4, "nb_snapshots");
    expect_error(g, n, 60, 1, 4, "snapshots_offset");
    expect_error(g, n, 96, 7, 4, "refcount_order");
    expect_error(g, n, 72, 1, 8, "dirty");
    expect_error(g, n, 72, 2, 8, "corrupt");
    expect_error(g, n, 72, 4, 8, "external data file");
    expect_error(g, n, 72, 8, 8, "compression");
    expect_error(g, n, 72, 16, 8, "extended L2");
    expect_error(g, n, 72, 1ull << 40, 8, "unsupported incompatible features");
    /* The first header extension's length. */
    expect_error(g, n, peek(g, 100, 4) + 4, 0xffffff00, 4, "header extension");
    g_free(g);
}

Test(block, hostile_tables)
{
    need_qemu();
    size_t n;
    uint8_t *g = hostile_base(&n);
    uint64_t l1_off = peek(g, 40, 8), rt_off = peek(g, 48, 8);
    uint64_t l2 = peek(g, l1_off, 8) & 0x00fffffffffffe00ull;
    uint64_t rb = peek(g, rt_off, 8);
    cr_assert(l2 && rb);
    expect_error(g, n, l1_off, 0x8000000000000000ull | (l2 + 512), 8, "L1 entry 0");
    expect_error(g, n, l1_off, 0x8000000000000000ull | (1ull << 45), 8, "L1 entry 0");
    expect_error(g, n, l1_off, 0x8000000000000000ull | rt_off, 8, "overlaps");
    expect_error(g, n, l1_off, 0x8000000000000000ull | l1_off, 8, "overlaps");
    expect_error(g, n, l1_off, 0x8000000000000000ull | l2 | 1, 8, "reserved");
    expect_error(g, n, l1_off, 0x8000000000000000ull | rb, 8, "overlaps");
    expect_error(g, n, rt_off, rb + 1, 8, "refcount table entry 0");
    expect_error(g, n, rt_off, 1ull << 50, 8, "refcount table entry 0");
    expect_error(g, n, rt_off, l2, 8, "overlaps");
    expect_error(g, n, rt_off + 8, rb, 8, "overlaps");
    /* L2 entries are checked when used. */
    expect_read_error(g, n, l2, 0x8000000000000000ull | (1ull << 50), "past the end");
    expect_read_error(g, n, l2, 0x8000000000000000ull | 0x1200, "not cluster aligned");
    expect_read_error(g, n, l2, 0x8000000000000000ull, "data offset 0");
    expect_read_error(g, n, l2, 0x0100000000010000ull, "reserved");
    expect_read_error(g, n, l2, 0x4000000000000000ull | (1ull << 40), "compressed");
    expect_read_error(g, n, l2, 0x4000000000000000ull | 100, "compressed");
    /* A compressed cluster whose data is garbage. */
    expect_read_error(g, n, l2, 0x4000000000000000ull | (3ull << 58) | l2, "decompress");
    g_free(g);
}

Test(block, hostile_writes_never_touch_metadata)
{
    need_qemu();
    SH("qemu-img create -q -f qcow2 -o cluster_size=4096 w.qcow2 1M");
    SH("qemu-io -c 'write -P 1 0 4k' w.qcow2");
    size_t n;
    uint8_t *g = get_file("w.qcow2", &n);
    uint64_t l1_off = peek(g, 40, 8);
    uint64_t l2 = peek(g, l1_off, 8) & 0x00fffffffffffe00ull;
    /* Guest cluster 0 claims to live on the L1 table, refcount 1. */
    poke(g, l2, 0x8000000000000000ull | l1_off, 8);
    put_file("w.qcow2", g, n);
    BlockDev *bs = open_img("w.qcow2", NULL);
    uint8_t buf[512] = {0xee};
    cr_assert_eq(blk_pwrite(bs, 0, buf, sizeof(buf)), -EIO);
    cr_assert(strstr(blk_last_error(bs), "overlaps the L1 table"), "%s", blk_last_error(bs));
    blk_close(bs);
    size_t n2;
    uint8_t *after = get_file("w.qcow2", &n2);
    cr_assert_eq(n, n2);
    cr_assert(!memcmp(g, after, n));
    g_free(after);
    g_free(g);
}

Test(block, hostile_random_corruption)
{
    need_qemu();
    size_t n;
    uint8_t *g = hostile_base(&n);
    /* Metadata sits in the first clusters (header, refcounts, L1, L2). */
    size_t meta = MIN(n, 12 * 4096);
    rng_state = 0x9e3779b97f4a7c15ull;
    /* TANDEM_BLOCK_FUZZ=N runs N rounds instead of 400. */
    const char *env = getenv("TANDEM_BLOCK_FUZZ");
    int rounds = env ? atoi(env) : 400, opened = 0;
    for (int it = 0; it < rounds; it++) {
        uint8_t *img = g_memdup2(g, n);
        int k = 1 + (int)(rnd() % 4);
        for (int j = 0; j < k; j++) {
            size_t at = rnd() % meta;
            switch (rnd() % 3) {
            case 0: img[at] ^= (uint8_t)(1u << (rnd() % 8)); break;
            case 1: img[at] = (uint8_t)rnd(); break;
            default:
                at &= ~(size_t)7;
                poke(img, MIN(at, meta - 8), rnd() >> (rnd() % 64), 8);
                break;
            }
        }
        char *m = exercise(img, n);
        opened += !m;
        g_free(m);
        g_free(img);
    }
    cr_log_info("random corruption: %d of %d opened", opened, rounds);
    g_free(g);
}
