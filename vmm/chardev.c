#include "vmm/chardev.h"
#include "vmm/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <pty.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

typedef enum { CHR_NULL, CHR_STDIO, CHR_FILE, CHR_PTY } ChrKind;

enum { CHR_BUF = 4096 };

struct Chardev {
    ChrKind kind;
    char *name;
    int in_fd, out_fd;
    bool own_fds;
    bool tty_raw;
    struct termios saved_tio;
    bool eof;

    CharFrontend fe;
    bool has_fe;

    /* Bytes read from the host, not yet taken by the frontend. */
    uint8_t buf[CHR_BUF];
    size_t head, len;

    bool mux;
    CharMux muxcb;
    bool escape;             /* saw Ctrl-A */
    bool monitor_focus;
    bool discard;            /* replay: guest-bound input is dropped */
    /* Guest output written so far, and output already shown up to which a
     * replay gone back in time writes nothing (chardev_output_rewind). */
    uint64_t out_count, shown;
};

static Chardev *stdio_owner;

static void stdio_restore(void)
{
    if (stdio_owner && stdio_owner->tty_raw) {
        tcsetattr(0, TCSANOW, &stdio_owner->saved_tio);
        stdio_owner->tty_raw = false;
    }
}

static void set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static bool open_stdio(Chardev *c, GError **err)
{
    if (stdio_owner) {
        tn_error(err,
                    "cannot use stdio by multiple character devices");
        return false;
    }
    c->in_fd = 0;
    c->out_fd = 1;
    if (isatty(0)) {
        struct termios tio;
        if (tcgetattr(0, &tio) == 0) {
            c->saved_tio = tio;
            /* Raw input, but keep output post-processing so the guest's \n
             * still lands at column 0 where it sends \r\n anyway. */
            tio.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
            tio.c_lflag &= ~(ECHO | ECHONL | ICANON | IEXTEN | ISIG);
            tio.c_cflag |= CS8;
            tio.c_cc[VMIN] = 1;
            tio.c_cc[VTIME] = 0;
            tcsetattr(0, TCSANOW, &tio);
            c->tty_raw = true;
            atexit(stdio_restore);
        }
    }
    set_nonblock(0);
    stdio_owner = c;
    return true;
}

Chardev *chardev_open(const char *spec, GError **err)
{
    Chardev *c = g_new0(Chardev, 1);
    c->in_fd = c->out_fd = -1;
    c->name = g_strdup(spec);
    if (!strcmp(spec, "null") || !strcmp(spec, "none")) {
        c->kind = CHR_NULL;
    } else if (!strcmp(spec, "stdio") || !strcmp(spec, "mon:stdio")) {
        c->kind = CHR_STDIO;
        if (!open_stdio(c, err))
            goto fail;
    } else if (!strncmp(spec, "file:", 5)) {
        c->kind = CHR_FILE;
        c->out_fd = open(spec + 5, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (c->out_fd < 0) {
            tn_error(err,
                        "cannot open '%s' for serial output: %s", spec + 5,
                        strerror(errno));
            goto fail;
        }
        c->own_fds = true;
    } else if (!strcmp(spec, "pty")) {
        int master, slave;
        char path[256];
        if (openpty(&master, &slave, path, NULL, NULL) < 0) {
            tn_error(err,
                        "cannot allocate a pty: %s", strerror(errno));
            goto fail;
        }
        struct termios tio;
        if (tcgetattr(slave, &tio) == 0) {
            cfmakeraw(&tio);
            tcsetattr(slave, TCSANOW, &tio);
        }
        /* Keep the slave open so output does not fail before a client attaches. */
        c->kind = CHR_PTY;
        c->in_fd = c->out_fd = master;
        c->own_fds = true;
        set_nonblock(master);
        fprintf(stderr, "char device redirected to %s\n", path);
        (void)slave;
    } else {
        tn_error(err,
                    "unknown character backend '%s' (use stdio, null, file:PATH, pty or none)",
                    spec);
        goto fail;
    }
    return c;
fail:
    g_free(c->name);
    g_free(c);
    return NULL;
}

void chardev_close(Chardev *c)
{
    if (!c)
        return;
    if (c == stdio_owner) {
        stdio_restore();
        stdio_owner = NULL;
    }
    if (c->own_fds) {
        if (c->in_fd >= 0 && c->in_fd != c->out_fd)
            close(c->in_fd);
        if (c->out_fd >= 0)
            close(c->out_fd);
    }
    g_free(c->name);
    g_free(c);
}

void chardev_set_frontend(Chardev *c, const CharFrontend *fe)
{
    c->fe = *fe;
    c->has_fe = true;
}

CharFrontend chardev_get_frontend(const Chardev *c)
{
    CharFrontend none = { 0 };
    return c->has_fe ? c->fe : none;
}

void chardev_discard_input(Chardev *c)
{
    c->discard = true;
    c->len = 0;
}

void chardev_set_mux(Chardev *c, const CharMux *mux)
{
    c->mux = true;
    c->muxcb = *mux;
}

bool chardev_monitor_focus(const Chardev *c)
{
    return c->monitor_focus;
}

const char *chardev_name(const Chardev *c)
{
    return c->name;
}

static void write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                /* stdout shares the file status of stdin (non-blocking): wait. */
                fd_set w;
                FD_ZERO(&w);
                FD_SET(fd, &w);
                select(fd + 1, NULL, &w, NULL, NULL);
                continue;
            }
            return;     /* output lost (closed pipe); the guest must go on */
        }
        buf += n;
        len -= (size_t)n;
    }
}

static void write_raw(Chardev *c, const uint8_t *buf, size_t len)
{
    if (!c || c->out_fd < 0)
        return;
    write_all(c->out_fd, buf, len);
}

void chardev_write(Chardev *c, const uint8_t *buf, size_t len)
{
    if (!c)
        return;
    uint64_t at = c->out_count;
    c->out_count += len;
    if (at < c->shown) {
        /* Shown once already: a replay going over it again stays quiet. */
        uint64_t skip = c->shown - at;
        if (skip >= len)
            return;
        buf += skip;
        len -= (size_t)skip;
    }
    write_raw(c, buf, len);
}

uint64_t chardev_output_count(const Chardev *c)
{
    return c ? c->out_count : 0;
}

void chardev_output_rewind(Chardev *c, uint64_t count)
{
    if (!c)
        return;
    if (c->out_count > c->shown)
        c->shown = c->out_count;
    c->out_count = count;
}

void chardev_printf(Chardev *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    /* Terminals in raw mode need \r\n. */
    for (char *p = s; *p; p++) {
        if (*p == '\n')
            write_raw(c, (const uint8_t *)"\r", 1);
        write_raw(c, (const uint8_t *)p, 1);
    }
    g_free(s);
}

int chardev_input_fd(const Chardev *c)
{
    return (c && !c->eof && c->kind != CHR_FILE) ? c->in_fd : -1;
}

size_t chardev_pending(const Chardev *c)
{
    return c ? c->len : 0;
}

static void mux_help(Chardev *c)
{
    static const char help[] =
        "\r\nC-a h    print this help\r\n"
        "C-a x    exit emulator\r\n"
        "C-a c    switch between console and monitor\r\n"
        "C-a C-a  sends C-a\r\n";
    write_all(c->out_fd, (const uint8_t *)help, sizeof(help) - 1);
}

/* Queue one host byte, handling the Ctrl-A escapes of a muxed stdio. */
static void queue_byte(Chardev *c, uint8_t b)
{
    if (c->mux) {
        if (c->escape) {
            c->escape = false;
            switch (b) {
            case 'x':
                write_all(c->out_fd, (const uint8_t *)"\r\nTandem: terminating on signal from console\r\n", 47);
                if (c->muxcb.quit)
                    c->muxcb.quit(c->muxcb.opaque);
                return;
            case 'c':
                c->monitor_focus = !c->monitor_focus;
                if (c->monitor_focus)
                    write_all(c->out_fd, (const uint8_t *)"\r\n(tandem) ", 11);
                return;
            case 'h': case '?':
                mux_help(c);
                return;
            case 1:
                break;       /* literal Ctrl-A */
            default:
                return;
            }
        } else if (b == 1) {
            c->escape = true;
            return;
        }
        if (c->monitor_focus) {
            if (c->muxcb.monitor_input)
                c->muxcb.monitor_input(c->muxcb.opaque, &b, 1);
            return;
        }
    }
    if (c->discard)
        return;
    if (c->len == CHR_BUF)
        return;     /* host typed faster than 4 KiB ahead of the guest: drop */
    c->buf[(c->head + c->len) % CHR_BUF] = b;
    c->len++;
}

bool chardev_pump(Chardev *c)
{
    if (!c || !c->has_fe || !c->len)
        return false;
    bool any = false;
    while (c->len) {
        int room = c->fe.can_receive ? c->fe.can_receive(c->fe.opaque) : 0;
        if (room <= 0)
            break;
        size_t n = (size_t)room < c->len ? (size_t)room : c->len;
        if (c->head + n > CHR_BUF)
            n = CHR_BUF - c->head;
        c->fe.receive(c->fe.opaque, c->buf + c->head, n);
        c->head = (c->head + n) % CHR_BUF;
        c->len -= n;
        any = true;
    }
    return any;
}

bool chardev_service(Chardev *c)
{
    int fd = chardev_input_fd(c);
    if (fd >= 0 && c->len < CHR_BUF) {
        uint8_t tmp[512];
        size_t want = CHR_BUF - c->len < sizeof(tmp) ? CHR_BUF - c->len : sizeof(tmp);
        ssize_t n = read(fd, tmp, want);
        if (n > 0) {
            for (ssize_t i = 0; i < n; i++)
                queue_byte(c, tmp[i]);
        } else if (n == 0 && c->kind == CHR_STDIO) {
            c->eof = true;      /* stdin closed: keep running, no more input */
        }
    }
    return chardev_pump(c);
}
