/* Character backends (-serial stdio|null|file:F|pty, -monitor stdio).
 * Input reaches a frontend (UART) only through chardev_deliver(), the single
 * place record/replay hooks serial input. */
#ifndef TANDEM_CHARDEV_H
#define TANDEM_CHARDEV_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Chardev Chardev;

typedef struct CharFrontend {
    /* How many bytes the device can take now (FIFO room). */
    int (*can_receive)(void *opaque);
    void (*receive)(void *opaque, const uint8_t *buf, size_t len);
    void *opaque;
} CharFrontend;

/* spec: "stdio", "null", "file:PATH", "pty", "none". */
Chardev *chardev_open(const char *spec, GError **err);
void chardev_close(Chardev *c);
void chardev_set_frontend(Chardev *c, const CharFrontend *fe);
/* The frontend set last (zeroed if none). */
CharFrontend chardev_get_frontend(const Chardev *c);
/* Replay: host input no longer reaches the guest (the log provides it);
 * the C-a escapes and the monitor keep working. */
void chardev_discard_input(Chardev *c);
/* Guest output; never blocks the machine for long. */
void chardev_write(Chardev *c, const uint8_t *buf, size_t len);
const char *chardev_name(const Chardev *c);
/* Guest output bytes written so far (chardev_write). */
uint64_t chardev_output_count(const Chardev *c);
/* A replay went back to where count bytes had been written: the output it
 * writes again, up to what was already shown, is not shown twice. */
void chardev_output_rewind(Chardev *c, uint64_t count);
/* Monitor and diagnostics output (\n becomes \r\n). */
void chardev_printf(Chardev *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Main-loop side.  Host input is read into a buffer and handed to the
 * frontend as it makes room. */
int chardev_input_fd(const Chardev *c);        /* -1 when no input */
/* Read what the host has (non-blocking) and deliver what the frontend takes.
 * Returns true if any byte reached the frontend. */
bool chardev_service(Chardev *c);
/* Bytes read from the host but not yet taken by the frontend. */
size_t chardev_pending(const Chardev *c);
/* Deliver already-buffered input only (no host read). */
bool chardev_pump(Chardev *c);

/* stdio multiplexing (-nographic): Ctrl-A x quits, Ctrl-A c switches between
 * the serial port and the monitor, Ctrl-A h lists the keys. */
typedef struct CharMux {
    void (*quit)(void *opaque);
    /* Monitor input (a whole line at a time is up to the callee). */
    void (*monitor_input)(void *opaque, const uint8_t *buf, size_t len);
    void *opaque;
} CharMux;
void chardev_set_mux(Chardev *c, const CharMux *mux);
bool chardev_monitor_focus(const Chardev *c);

#endif
