/* Key names of QEMU's monitor (sendkey): QEMU's QKeyCode names ("a",
 * "ret", "spc", "ctrl", "alt_r", "f1", "kp_enter", ...) mapped to Linux
 * input keycodes (KEY_* of <linux/input-event-codes.h>), the codes the
 * PS/2 keyboard model takes. */
#ifndef TANDEM_KEYMAP_H
#define TANDEM_KEYMAP_H

#include <glib.h>
#include <stdbool.h>

#define KEYMAP_MAX_KEYS 16     /* keys in one sendkey combination */

/* The keycode of one key name, or -1 when there is no such name.  A hex
 * number ("0x1e") is taken as a Linux keycode (for the keys of the basic
 * PC keyboard it equals the scan code of set 1, as QEMU's numbers do). */
int keymap_code(const char *name);
/* A '-' separated combination ("ctrl-alt-f1"): fills codes in order and
 * returns how many (1..max), or -1 with err naming the unknown key. */
int keymap_parse(const char *keys, int *codes, int max, GError **err);

#endif
