#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "vmm/chardev.h"

static uint8_t got[64];
static size_t ngot;
static int room = 4;
static int can(void *o) { return room; }
static void recv_(void *o, const uint8_t *b, size_t n)
{
    memcpy(got + ngot, b, n);
    ngot += n;
    room -= (int)n;
}

Test(chardev, file_backend_writes)
{
    char path[] = "/tmp/tandem-chr-XXXXXX";
    int fd = mkstemp(path);
    close(fd);
    char spec[64];
    snprintf(spec, sizeof(spec), "file:%s", path);
    GError *err = NULL;
    Chardev *c = chardev_open(spec, &err);
    cr_assert_not_null(c);
    chardev_write(c, (const uint8_t *)"hello", 5);
    cr_assert_eq(chardev_input_fd(c), -1);
    chardev_close(c);
    char buf[16] = { 0 };
    fd = open(path, O_RDONLY);
    cr_assert_eq(read(fd, buf, sizeof(buf)), 5);
    close(fd);
    unlink(path);
    cr_assert_str_eq(buf, "hello");
}

Test(chardev, errors_name_the_problem)
{
    GError *err = NULL;
    cr_assert_null(chardev_open("tcp:1234", &err));
    cr_assert_not_null(strstr(err->message, "unknown character backend 'tcp:1234'"));
    g_clear_error(&err);
    cr_assert_null(chardev_open("file:/nonexistent-dir/x", &err));
    cr_assert_not_null(strstr(err->message, "/nonexistent-dir/x"));
    g_clear_error(&err);
}

Test(chardev, pty_input_respects_frontend_room)
{
    GError *err = NULL;
    Chardev *c = chardev_open("pty", &err);
    cr_assert_not_null(c);
    CharFrontend fe = { can, recv_, NULL };
    chardev_set_frontend(c, &fe);
    int fd = chardev_input_fd(c);
    cr_assert_geq(fd, 0);
    char *slave = ptsname(fd);
    int s = open(slave, O_RDWR | O_NOCTTY);
    cr_assert_geq(s, 0);
    cr_assert_eq(write(s, "abcdef", 6), 6);
    usleep(20000);
    chardev_service(c);
    cr_assert_eq(ngot, 4);
    cr_assert_eq(chardev_pending(c), 2);
    room = 10;
    chardev_pump(c);
    cr_assert_eq(ngot, 6);
    cr_assert_arr_eq(got, "abcdef", 6);
    close(s);
    chardev_close(c);
}
