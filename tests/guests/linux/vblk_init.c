/* /init for the virtio-blk system test (tests/system/test_virtio_blk.py):
 * a static program (riscv64-linux-gnu-gcc -static) standing in for busybox
 * dd and md5sum, which Debian does not ship for riscv64 here.
 *
 * It reports what Linux's virtio_blk made of /dev/vda and /dev/vdb (size,
 * read-only flag, serial through GET_ID), hashes their first 4 MiB,
 * writes a pattern to vda at sector 100, flushes it (fsync: a FLUSH
 * request), drops the page cache and reads it back, checks that a write
 * to vdb (a read-only drive) is refused, then powers off.
 * Every line starts with "vblk: " for the host to parse. */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <unistd.h>

#define SPAN (4u << 20)
#define WRITE_OFF (100u * 512)
#define WRITE_LEN 8192u

static uint64_t fnv1a(uint64_t h, const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

static void show_attr(const char *disk, const char *attr)
{
    char path[64], buf[64] = "";
    snprintf(path, sizeof(path), "/sys/block/%s/%s", disk, attr);
    int fd = open(path, O_RDONLY);
    ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
    if (fd >= 0)
        close(fd);
    if (n < 0) {
        printf("vblk: %s %s error %s\n", disk, attr, strerror(errno));
        return;
    }
    buf[n] = 0;
    buf[strcspn(buf, "\n")] = 0;
    printf("vblk: %s %s [%s]\n", disk, attr, buf);
}

static uint64_t hash_range(int fd, off_t off, size_t len)
{
    static uint8_t buf[65536];
    uint64_t h = 0xcbf29ce484222325ull;
    while (len) {
        size_t n = len < sizeof(buf) ? len : sizeof(buf);
        ssize_t r = pread(fd, buf, n, off);
        if (r <= 0) {
            printf("vblk: read error at %lld: %s\n", (long long)off, strerror(errno));
            return 0;
        }
        h = fnv1a(h, buf, (size_t)r);
        off += r;
        len -= (size_t)r;
    }
    return h;
}

static void report_disk(const char *disk)
{
    char dev[32];
    show_attr(disk, "size");
    show_attr(disk, "ro");
    show_attr(disk, "serial");
    snprintf(dev, sizeof(dev), "/dev/%s", disk);
    int fd = open(dev, O_RDONLY);
    if (fd < 0) {
        printf("vblk: open %s: %s\n", dev, strerror(errno));
        return;
    }
    printf("vblk: %s hash4m %016llx\n", disk, (unsigned long long)hash_range(fd, 0, SPAN));
    close(fd);
}

static void write_vda(void)
{
    static uint8_t pat[WRITE_LEN];
    for (unsigned i = 0; i < WRITE_LEN; i++)
        pat[i] = (uint8_t)(i * 31 + 7);
    memcpy(pat, "tandem-vblk-write", 17);
    int fd = open("/dev/vda", O_RDWR);
    if (fd < 0 || pwrite(fd, pat, WRITE_LEN, WRITE_OFF) != WRITE_LEN || fsync(fd) < 0) {
        printf("vblk: write vda: %s\n", strerror(errno));
        return;
    }
    /* Drop vda's cached pages so the read below goes to the device. */
    if (ioctl(fd, BLKFLSBUF, 0) < 0)
        printf("vblk: BLKFLSBUF: %s\n", strerror(errno));
    printf("vblk: vda written, readback %016llx want %016llx\n",
           (unsigned long long)hash_range(fd, WRITE_OFF, WRITE_LEN),
           (unsigned long long)fnv1a(0xcbf29ce484222325ull, pat, WRITE_LEN));
    close(fd);
}

int main(void)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    mount("proc", "/proc", "proc", 0, NULL);
    mount("sysfs", "/sys", "sysfs", 0, NULL);
    if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) < 0)
        printf("vblk: mount devtmpfs: %s\n", strerror(errno));
    printf("vblk: start\n");
    report_disk("vda");
    report_disk("vdb");
    write_vda();
    /* Linux opens a read-only disk for writing but refuses the write. */
    int fd = open("/dev/vdb", O_RDWR);
    char sector[512] = "no";
    if (fd >= 0 && pwrite(fd, sector, sizeof(sector), 0) < 0)
        printf("vblk: vdb write: %s\n", strerror(errno));
    else
        printf("vblk: vdb write: %s\n", fd < 0 ? strerror(errno) : "allowed");
    if (fd >= 0)
        close(fd);
    printf("vblk: done\n");
    sync();
    reboot(RB_POWER_OFF);
    return 0;
}
