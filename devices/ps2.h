/* PS/2 keyboard and mouse: the devices at the other end of a PS/2 port
 * (the i8042's keyboard and aux ports, or any other PS/2 host).
 *
 * Each device keeps a 16-byte queue of bytes for the host.  The host sends
 * a byte with ps2_*_write and takes bytes with ps2_*_read while it has room
 * (the i8042 takes one whenever its output buffer is empty and the port's
 * clock is enabled).  The notify callback runs whenever the device queued
 * something, so the host can take it.
 *
 * Host input (ps2_kbd_key, ps2_mouse_move) is non-deterministic: the board
 * calls these only through the record/replay layer, at logged positions.
 * The devices are deterministic functions of those calls and of the bytes
 * the host sends and takes; they never look at host time, so typematic
 * repeat is not generated (the F3 rate is stored and otherwise ignored) and
 * the mouse's sample rate does not pace its packets. */
#ifndef TANDEM_PS2_H
#define TANDEM_PS2_H

#include <stdbool.h>
#include <stdint.h>

#include "checkpoint/snap.h"

#define PS2_QUEUE_SIZE 16

#define PS2_ACK    0xfa
#define PS2_RESEND 0xfe
#define PS2_BAT_OK 0xaa

typedef struct Ps2Kbd Ps2Kbd;
typedef struct Ps2Mouse Ps2Mouse;

/* Called after the device queued bytes for the host. */
typedef void (*Ps2Notify)(void *opaque);

/* ---- keyboard ---- */

/* A keyboard in its power-on state (scan code set 2, scanning enabled,
 * queue empty). */
Ps2Kbd *ps2_kbd_new(Ps2Notify notify, void *opaque);
void ps2_kbd_free(Ps2Kbd *k);
/* Back to the power-on state; queues nothing. */
void ps2_kbd_reset(Ps2Kbd *k);
/* A byte from the host (command or command argument). */
void ps2_kbd_write(Ps2Kbd *k, uint8_t b);
/* The next queued byte, or -1 when the queue is empty. */
int ps2_kbd_read(Ps2Kbd *k);
unsigned ps2_kbd_pending(const Ps2Kbd *k);
/* A key went down or up.  keycode is a Linux input keycode (KEY_* from
 * <linux/input-event-codes.h>); codes the keyboard has no key for are
 * ignored.  Queues the make or break sequence of the current scan code set
 * (nothing while scanning is disabled).  A "down" for a key already down is
 * sent again as a typematic repeat would be. */
void ps2_kbd_key(Ps2Kbd *k, int keycode, bool down);
/* LED state set by the host with ED: bit 0 Scroll, 1 Num, 2 Caps Lock. */
uint8_t ps2_kbd_leds(const Ps2Kbd *k);
/* 1, 2 or 3. */
int ps2_kbd_scancode_set(const Ps2Kbd *k);

/* The 8042's set-2 to set-1 translation of one byte from the keyboard.
 * *brk carries the F0 (break) prefix between calls and must start false.
 * Returns the translated byte, or -1 when the byte was an F0 prefix that is
 * folded into the next byte (its bit 7). */
int ps2_translate(bool *brk, uint8_t b);

/* Snapshots: the whole keyboard state (queue, pending command, scan code
 * set, LEDs, keys down).  load reads it back as raw state (no notify) and
 * leaves k unchanged when the stream is bad (false; the reader says why). */
void ps2_kbd_save(const Ps2Kbd *k, SnapWriter *w);
bool ps2_kbd_load(Ps2Kbd *k, SnapReader *r);

/* ---- mouse ---- */

/* Mouse buttons for ps2_mouse_move. */
#define PS2_BTN_LEFT   0x01
#define PS2_BTN_RIGHT  0x02
#define PS2_BTN_MIDDLE 0x04
#define PS2_BTN_SIDE   0x08   /* button 4: IntelliMouse Explorer mode only */
#define PS2_BTN_EXTRA  0x10   /* button 5: IntelliMouse Explorer mode only */

/* A mouse in its power-on state (stream mode, reporting disabled, ID 0). */
Ps2Mouse *ps2_mouse_new(Ps2Notify notify, void *opaque);
void ps2_mouse_free(Ps2Mouse *ms);
void ps2_mouse_reset(Ps2Mouse *ms);
void ps2_mouse_write(Ps2Mouse *ms, uint8_t b);
int ps2_mouse_read(Ps2Mouse *ms);
unsigned ps2_mouse_pending(const Ps2Mouse *ms);
/* Relative motion and the new button state (PS2_BTN_*), in the host's
 * conventions: dx > 0 right, dy > 0 down (screen), dz > 0 wheel turned
 * away from the user (Linux REL_WHEEL).  Motion accumulates in the mouse's
 * counters; in stream mode with reporting enabled a packet (3 bytes, 4 with
 * IntelliMouse ID 3 or 4) goes out when the queue has room for it.  A
 * counter beyond the 9-bit range is reported clamped with its overflow bit
 * set and the excess is lost, as on the hardware. */
void ps2_mouse_move(Ps2Mouse *ms, int dx, int dy, int dz, unsigned buttons);
/* 0 (standard), 3 (IntelliMouse, wheel) or 4 (IntelliMouse Explorer). */
int ps2_mouse_id(const Ps2Mouse *ms);
/* Snapshots, as ps2_kbd_save/ps2_kbd_load. */
void ps2_mouse_save(const Ps2Mouse *ms, SnapWriter *w);
bool ps2_mouse_load(Ps2Mouse *ms, SnapReader *r);

#endif
