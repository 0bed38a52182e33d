/* libFuzzer harness for the qcow2 driver (and the raw one, which gets
 * whatever does not start with the qcow2 magic).
 *
 * An input is
 *     flags (1 byte), n (4 bytes, little-endian), image a (n bytes), image b
 * written to the files a and b of a private folder; a is opened and read,
 * written and snapshotted as the flags say, then closed.  b exists only
 * with F_B: a backing file name "b" makes a two-image chain, "a" a file
 * backing onto itself, and b naming a a loop.  Besides "no crash, no hang,
 * no leak, no sanitizer report" it checks that
 *   - every failure has a message naming an image of the folder;
 *   - data written reads back as written;
 *   - nothing is written anywhere but to a (or to the temporary overlay of
 *     snapshot=on): every blk_fd_pwrite of the driver is checked against
 *     the file it lands in (linked with --wrap), b must keep its bytes and
 *     the folder must hold no other file afterwards.
 * Build and run: tests/fuzz/run.sh; seeds come from qemu-img there. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "block/block.h"
#include "vmm/error.h"

/* The error domain lives in vmm/options.c, which this harness does not need. */
G_DEFINE_QUARK(tandem-error-quark, tandem_error)

enum {
    F_B = 1,            /* b exists */
    F_WRITE = 2,        /* open a read-write and write to it */
    F_OVERLAY = 4,      /* snapshot=on: writes go to a temporary overlay */
    F_SNAPSHOTS = 8,    /* list, read, create, revert to, delete snapshots */
    F_QCOW2 = 16,       /* format=qcow2 instead of probing */
};

#define CHECK(c)                                                          \
    do {                                                                  \
        if (!(c)) {                                                       \
            fprintf(stderr, "fuzz_qcow2: %s:%d: %s\n", __FILE__, __LINE__, #c); \
            abort();                                                      \
        }                                                                 \
    } while (0)

/* Past this offset a write is wild whatever the image says: with the
 * largest inputs the allocator may legitimately skip clusters that the
 * refcounts claim, up to some tens of GiB into a sparse file. */
#define WILD_OFFSET (1ull << 40)

typedef struct Dir {
    char *path, *a, *b;
    dev_t a_dev;
    ino_t a_ino;
} Dir;

static Dir d;

static void remove_dir(void)
{
    unlink(d.a);
    unlink(d.b);
    rmdir(d.path);
}

static Dir *dir(void)
{
    if (!d.path) {
        /* a GError set twice, a g_return_if_fail: bugs, so crashes */
        g_log_set_always_fatal(G_LOG_LEVEL_WARNING | G_LOG_LEVEL_CRITICAL);
        /* Images and snapshot=on overlays in memory where there is
         * /dev/shm: the driver flushes often. */
        if (access("/dev/shm", W_OK) == 0)
            setenv("TMPDIR", "/dev/shm", 1);
        d.path = g_dir_make_tmp("fuzz-qcow2-XXXXXX", NULL);
        CHECK(d.path);
        d.a = g_build_filename(d.path, "a", NULL);
        d.b = g_build_filename(d.path, "b", NULL);
        int fd = open(d.a, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        CHECK(fd >= 0);
        struct stat st;
        CHECK(fstat(fd, &st) == 0);
        d.a_dev = st.st_dev;
        d.a_ino = st.st_ino;
        close(fd);
        atexit(remove_dir);
    }
    return &d;
}

int __real_blk_fd_pwrite(int fd, const void *buf, size_t len, uint64_t off);

/* Every write of the block layer: to a, or to an unlinked temporary file
 * (the snapshot=on overlay), never past WILD_OFFSET. */
int __wrap_blk_fd_pwrite(int fd, const void *buf, size_t len, uint64_t off)
{
    Dir *d = dir();
    struct stat st;
    CHECK(fstat(fd, &st) == 0);
    bool to_a = st.st_dev == d->a_dev && st.st_ino == d->a_ino;
    if (!to_a && st.st_nlink != 0) {
        fprintf(stderr, "fuzz_qcow2: write of %zu bytes at %#" PRIx64 " to a file other "
                "than the image (inode %ju)\n", len, off, (uintmax_t)st.st_ino);
        abort();
    }
    if (off > WILD_OFFSET || len > WILD_OFFSET - off) {
        fprintf(stderr, "fuzz_qcow2: write of %zu bytes at wild offset %#" PRIx64 "\n",
                len, off);
        abort();
    }
    return __real_blk_fd_pwrite(fd, buf, len, off);
}

static void put_file(const char *path, const uint8_t *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    CHECK(n == 0 || write(fd, p, n) == (ssize_t)n);
    close(fd);
}

static bool file_is(const char *path, const uint8_t *p, size_t n)
{
    gchar *got;
    gsize len;
    CHECK(g_file_get_contents(path, &got, &len, NULL));
    bool same = len == n && !memcmp(got, p, n);
    g_free(got);
    return same;
}

/* Every message names the image it is about, which lies in the folder
 * (the top image, its backing file, or "DIR/a (snapshot overlay)"). */
static void check_message(const char *m)
{
    if (!m || !*m || !strstr(m, dir()->path)) {
        fprintf(stderr, "fuzz_qcow2: error message without the image name: '%s'\n",
                m ? m : "(null)");
        abort();
    }
}

/* r is a block call's result: 0, or an error with its message. */
static int checked(BlockDev *bs, int r)
{
    CHECK(r <= 0);
    if (r < 0)
        check_message(blk_last_error(bs));
    return r;
}

static void read_all(BlockDev *bs, uint8_t *buf, size_t chunk)
{
    uint64_t size = blk_size(bs);
    if (size <= 64 * chunk) {
        for (uint64_t off = 0; off < size; off += chunk)
            checked(bs, blk_pread(bs, off, buf, MIN(chunk, size - off)));
        return;
    }
    /* A large disk: its start, then spread samples and its end. */
    for (uint64_t off = 0; off < 16 * chunk; off += chunk)
        checked(bs, blk_pread(bs, off, buf, chunk));
    for (uint64_t i = 1; i <= 48; i++) {
        uint64_t off = size / 48 * i - chunk / 2;
        off = MIN(off, size - chunk);
        checked(bs, blk_pread(bs, off, buf, chunk));
    }
}

/* A write of n bytes at off that reads back as written when it worked. */
static void write_back(BlockDev *bs, uint64_t off, size_t n, uint8_t fill)
{
    uint64_t size = blk_size(bs);
    if (size < n)
        return;
    off = MIN(off, size - n);
    uint8_t *w = g_malloc(n), *r = g_malloc(n);
    for (size_t i = 0; i < n; i++)
        w[i] = (uint8_t)(fill + i * 7);
    if (checked(bs, blk_pwrite(bs, off, w, n)) == 0 &&
        checked(bs, blk_pread(bs, off, r, n)) == 0 && memcmp(w, r, n)) {
        fprintf(stderr, "fuzz_qcow2: %zu bytes written at %#" PRIx64 " read back otherwise\n",
                n, off);
        abort();
    }
    g_free(w);
    g_free(r);
}

static void snapshots(BlockDev *bs)
{
    BlkSnapshotInfo *v;
    size_t n;
    if (checked(bs, blk_snapshot_list(bs, &v, &n)) == 0) {
        for (size_t i = 0; i < n && i < 4; i++) {
            void *vm = NULL;
            size_t len = 0;
            /* An id may be there twice: the first one is found. */
            size_t first = 0;
            while (strcmp(v[first].id, v[i].id))
                first++;
            if (checked(bs, blk_snapshot_read_vmstate(bs, v[i].id, &vm, &len)) == 0)
                CHECK(len == v[first].vm_state_size);
            g_free(vm);
        }
        blk_snapshot_list_free(v, n);
    }
    if (!blk_can_snapshot(bs, NULL))
        return;
    static const char state[] = "fuzz_qcow2 vm state";
    if (checked(bs, blk_snapshot_create(bs, "fz", state, sizeof(state), 1, 2)) < 0)
        return;
    write_back(bs, 0, 512, 0x33);
    void *vm = NULL;
    size_t len = 0;
    if (checked(bs, blk_snapshot_goto(bs, "fz", &vm, &len)) == 0)
        CHECK(len == sizeof(state) && !memcmp(vm, state, len));
    g_free(vm);
    checked(bs, blk_snapshot_delete(bs, "fz"));
}

static void only_a_and_b(void)
{
    GDir *g = g_dir_open(dir()->path, 0, NULL);
    CHECK(g);
    const char *name;
    while ((name = g_dir_read_name(g))) {
        if (strcmp(name, "a") && strcmp(name, "b")) {
            fprintf(stderr, "fuzz_qcow2: the image folder gained a file '%s'\n", name);
            abort();
        }
    }
    g_dir_close(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 5)
        return 0;
    Dir *d = dir();
    uint8_t flags = data[0];
    uint32_t na = (uint32_t)data[1] | (uint32_t)data[2] << 8 | (uint32_t)data[3] << 16 |
                  (uint32_t)data[4] << 24;
    data += 5;
    size -= 5;
    if (na > size)
        na = (uint32_t)size;
    const uint8_t *b = data + na;
    size_t nb = size - na;
    put_file(d->a, data, na);
    if (flags & F_B)
        put_file(d->b, b, nb);
    else
        unlink(d->b);

    BlockOpenOpts o = {
        .format = flags & F_QCOW2 ? "qcow2" : NULL,
        .read_only = !(flags & (F_WRITE | F_SNAPSHOTS)),
        .snapshot = flags & F_OVERLAY,
    };
    GError *err = NULL;
    BlockDev *bs = blk_open(d->a, &o, &err);
    if (!bs) {
        CHECK(err);
        check_message(err->message);
        g_error_free(err);
    } else {
        CHECK(!err);
        uint8_t *buf = g_malloc(65536);
        read_all(bs, buf, 65536);
        read_all(bs, buf, 4096);
        g_free(buf);
        if (flags & F_WRITE && !blk_is_read_only(bs)) {
            uint64_t s = blk_size(bs);
            write_back(bs, 0, 512, 0x11);
            write_back(bs, s / 2 + 1000, 70000, 0x22);
            write_back(bs, s - 512, 512, 0x44);
            checked(bs, blk_flush(bs));
        }
        if (flags & F_SNAPSHOTS)
            snapshots(bs);
        blk_close(bs);
    }
    if (flags & F_B)
        CHECK(file_is(d->b, b, nb));
    if (!(flags & (F_WRITE | F_SNAPSHOTS)) || flags & F_OVERLAY)
        CHECK(file_is(d->a, data, na));
    only_a_and_b();
    return 0;
}
