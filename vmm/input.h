/* Host input for the guest's keyboard and mouse: the monitor's sendkey,
 * mouse_move and mouse_button (and any display that comes later).
 *
 * The board registers its devices with input_register; every event then
 * goes through record/replay (rr_input_key, rr_input_mouse): record logs it
 * at the main-loop stop where it happens, replay delivers the logged ones
 * and refuses the commands ("replaying: input comes from the recording"). */
#ifndef TANDEM_INPUT_H
#define TANDEM_INPUT_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct Machine Machine;

typedef struct InputOps {
    /* keycode: Linux KEY_*; buttons: PS2_BTN_* bits (1 left, 2 right,
     * 4 middle, as QEMU's mouse_button). */
    void (*key)(void *opaque, int keycode, bool down);
    void (*mouse)(void *opaque, int dx, int dy, int dz, unsigned buttons);
} InputOps;

/* The board's keyboard and mouse (one set per machine). */
void input_register(Machine *m, const InputOps *ops, void *opaque);
/* Deliver one event to the devices (rr/ calls these; nothing is logged). */
bool input_deliver_key(Machine *m, int keycode, bool down);
bool input_deliver_mouse(Machine *m, int dx, int dy, int dz, unsigned buttons);

/* The main loop, where it services host input: releases sendkey's keys
 * once their hold time has passed (record logs the release there). */
void input_poll(Machine *m);
/* Virtual time of the next release, INT64_MAX when none (an idle CPU
 * waits no longer than that). */
int64_t input_deadline(const Machine *m);

/* The monitor's commands.  sendkey presses the keys in order and releases
 * them in reverse order hold_ms milliseconds of virtual time later (a
 * sendkey while keys are still held releases those first).  false with
 * err when the machine has no such device, in replay, or on a bad key. */
bool input_sendkey(Machine *m, const char *keys, long hold_ms, GError **err);
bool input_mouse_move(Machine *m, int dx, int dy, int dz, GError **err);
bool input_mouse_button(Machine *m, unsigned state, GError **err);

#endif
