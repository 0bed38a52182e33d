/* PS/2 keyboard (MF2, ID AB 83) and mouse (with the IntelliMouse and
 * IntelliMouse Explorer extensions).
 *
 * The keyboard builds every key's scan code set 2 sequence from a table
 * indexed by Linux keycode; set 1 is that sequence run through the 8042
 * translation (which is exactly how set 1 and set 2 relate), set 3 has its
 * own table.  In set 3 every key sends make and break codes (the key-type
 * commands F7-FD are acknowledged and change nothing: Linux selects "all
 * keys make/break" anyway).  The "fake shift" codes real keyboards wrap
 * around the grey navigation keys are not sent; Print Screen and Pause
 * depend on the modifiers held, as on the hardware. */
#include "devices/ps2.h"

#include <glib.h>
#include <linux/input-event-codes.h>
#include <string.h>

#include "devices/devsnap.h"

typedef struct Ps2Queue {
    uint8_t b[PS2_QUEUE_SIZE];
    unsigned head, count;
} Ps2Queue;

static void q_clear(Ps2Queue *q)
{
    q->head = q->count = 0;
}

static unsigned q_space(const Ps2Queue *q)
{
    return PS2_QUEUE_SIZE - q->count;
}

static bool q_push(Ps2Queue *q, uint8_t b)
{
    if (q->count >= PS2_QUEUE_SIZE)
        return false;
    q->b[(q->head + q->count) % PS2_QUEUE_SIZE] = b;
    q->count++;
    return true;
}

static int q_pop(Ps2Queue *q)
{
    if (!q->count)
        return -1;
    uint8_t b = q->b[q->head];
    q->head = (q->head + 1) % PS2_QUEUE_SIZE;
    q->count--;
    return b;
}

static void q_save(SnapWriter *w, const Ps2Queue *q)
{
    snap_put_bytes(w, q->b, sizeof(q->b));
    snap_put_u64(w, q->head);
    snap_put_u64(w, q->count);
}

static void q_load(SnapReader *r, Ps2Queue *q)
{
    snap_get_bytes(r, q->b, sizeof(q->b));
    q->head = (unsigned)snap_get_max(r, PS2_QUEUE_SIZE - 1, "PS/2 queue head");
    q->count = (unsigned)snap_get_max(r, PS2_QUEUE_SIZE, "PS/2 queue count");
}

/* ---- set 2 -> set 1 translation (the 8042's table) ---- */

static const uint8_t xlat_lo[128] = {
    0xff, 0x43, 0x41, 0x3f, 0x3d, 0x3b, 0x3c, 0x58, 0x64, 0x44, 0x42, 0x40, 0x3e, 0x0f, 0x29, 0x59,
    0x65, 0x38, 0x2a, 0x70, 0x1d, 0x10, 0x02, 0x5a, 0x66, 0x71, 0x2c, 0x1f, 0x1e, 0x11, 0x03, 0x5b,
    0x67, 0x2e, 0x2d, 0x20, 0x12, 0x05, 0x04, 0x5c, 0x68, 0x39, 0x2f, 0x21, 0x14, 0x13, 0x06, 0x5d,
    0x69, 0x31, 0x30, 0x23, 0x22, 0x15, 0x07, 0x5e, 0x6a, 0x72, 0x32, 0x24, 0x16, 0x08, 0x09, 0x5f,
    0x6b, 0x33, 0x25, 0x17, 0x18, 0x0b, 0x0a, 0x60, 0x6c, 0x34, 0x35, 0x26, 0x27, 0x19, 0x0c, 0x61,
    0x6d, 0x73, 0x28, 0x74, 0x1a, 0x0d, 0x62, 0x6e, 0x3a, 0x36, 0x1c, 0x1b, 0x75, 0x2b, 0x63, 0x76,
    0x55, 0x56, 0x77, 0x78, 0x79, 0x7a, 0x0e, 0x7b, 0x7c, 0x4f, 0x7d, 0x4b, 0x47, 0x7e, 0x7f, 0x6f,
    0x52, 0x53, 0x50, 0x4c, 0x4d, 0x48, 0x01, 0x45, 0x57, 0x4e, 0x51, 0x4a, 0x37, 0x49, 0x46, 0x54,
};

static uint8_t xlat_byte(uint8_t b)
{
    if (b < 0x80)
        return xlat_lo[b];
    /* Bytes from 0x80 pass unchanged (ACK, BAT, ID, E0/E1 prefixes), but
     * for the two keys set 2 puts there: F7 and Alt+SysRq. */
    if (b == 0x83)
        return 0x41;
    if (b == 0x84)
        return 0x54;
    return b;
}

int ps2_translate(bool *brk, uint8_t b)
{
    if (b == 0xf0) {
        *brk = true;
        return -1;
    }
    uint8_t r = xlat_byte(b);
    if (*brk) {
        r |= 0x80;
        *brk = false;
    }
    return r;
}

/* ---- keyboard ---- */

#define KBD_KEYS 256
#define E0 0x100                /* set 2 code with an E0 prefix */

/* Scan code set 2 by Linux keycode (0: no such key; KEY_SYSRQ (Print
 * Screen) and KEY_PAUSE are built by key_seq). */
static const uint16_t set2_of[KBD_KEYS] = {
    [KEY_ESC] = 0x76, [KEY_1] = 0x16, [KEY_2] = 0x1e, [KEY_3] = 0x26,
    [KEY_4] = 0x25, [KEY_5] = 0x2e, [KEY_6] = 0x36, [KEY_7] = 0x3d,
    [KEY_8] = 0x3e, [KEY_9] = 0x46, [KEY_0] = 0x45, [KEY_MINUS] = 0x4e,
    [KEY_EQUAL] = 0x55, [KEY_BACKSPACE] = 0x66, [KEY_TAB] = 0x0d,
    [KEY_Q] = 0x15, [KEY_W] = 0x1d, [KEY_E] = 0x24, [KEY_R] = 0x2d,
    [KEY_T] = 0x2c, [KEY_Y] = 0x35, [KEY_U] = 0x3c, [KEY_I] = 0x43,
    [KEY_O] = 0x44, [KEY_P] = 0x4d, [KEY_LEFTBRACE] = 0x54,
    [KEY_RIGHTBRACE] = 0x5b, [KEY_ENTER] = 0x5a, [KEY_LEFTCTRL] = 0x14,
    [KEY_A] = 0x1c, [KEY_S] = 0x1b, [KEY_D] = 0x23, [KEY_F] = 0x2b,
    [KEY_G] = 0x34, [KEY_H] = 0x33, [KEY_J] = 0x3b, [KEY_K] = 0x42,
    [KEY_L] = 0x4b, [KEY_SEMICOLON] = 0x4c, [KEY_APOSTROPHE] = 0x52,
    [KEY_GRAVE] = 0x0e, [KEY_LEFTSHIFT] = 0x12, [KEY_BACKSLASH] = 0x5d,
    [KEY_Z] = 0x1a, [KEY_X] = 0x22, [KEY_C] = 0x21, [KEY_V] = 0x2a,
    [KEY_B] = 0x32, [KEY_N] = 0x31, [KEY_M] = 0x3a, [KEY_COMMA] = 0x41,
    [KEY_DOT] = 0x49, [KEY_SLASH] = 0x4a, [KEY_RIGHTSHIFT] = 0x59,
    [KEY_KPASTERISK] = 0x7c, [KEY_LEFTALT] = 0x11, [KEY_SPACE] = 0x29,
    [KEY_CAPSLOCK] = 0x58, [KEY_F1] = 0x05, [KEY_F2] = 0x06,
    [KEY_F3] = 0x04, [KEY_F4] = 0x0c, [KEY_F5] = 0x03, [KEY_F6] = 0x0b,
    [KEY_F7] = 0x83, [KEY_F8] = 0x0a, [KEY_F9] = 0x01, [KEY_F10] = 0x09,
    [KEY_NUMLOCK] = 0x77, [KEY_SCROLLLOCK] = 0x7e, [KEY_KP7] = 0x6c,
    [KEY_KP8] = 0x75, [KEY_KP9] = 0x7d, [KEY_KPMINUS] = 0x7b,
    [KEY_KP4] = 0x6b, [KEY_KP5] = 0x73, [KEY_KP6] = 0x74,
    [KEY_KPPLUS] = 0x79, [KEY_KP1] = 0x69, [KEY_KP2] = 0x72,
    [KEY_KP3] = 0x7a, [KEY_KP0] = 0x70, [KEY_KPDOT] = 0x71,
    [KEY_102ND] = 0x61, [KEY_F11] = 0x78, [KEY_F12] = 0x07,
    [KEY_RO] = 0x51, [KEY_KATAKANAHIRAGANA] = 0x13, [KEY_HENKAN] = 0x64,
    [KEY_MUHENKAN] = 0x67, [KEY_YEN] = 0x6a,
    [KEY_KPENTER] = E0 | 0x5a, [KEY_RIGHTCTRL] = E0 | 0x14,
    [KEY_KPSLASH] = E0 | 0x4a, [KEY_RIGHTALT] = E0 | 0x11,
    [KEY_HOME] = E0 | 0x6c, [KEY_UP] = E0 | 0x75, [KEY_PAGEUP] = E0 | 0x7d,
    [KEY_LEFT] = E0 | 0x6b, [KEY_RIGHT] = E0 | 0x74, [KEY_END] = E0 | 0x69,
    [KEY_DOWN] = E0 | 0x72, [KEY_PAGEDOWN] = E0 | 0x7a,
    [KEY_INSERT] = E0 | 0x70, [KEY_DELETE] = E0 | 0x71,
    [KEY_MUTE] = E0 | 0x23, [KEY_VOLUMEDOWN] = E0 | 0x21,
    [KEY_VOLUMEUP] = E0 | 0x32, [KEY_POWER] = E0 | 0x37,
    [KEY_LEFTMETA] = E0 | 0x1f, [KEY_RIGHTMETA] = E0 | 0x27,
    [KEY_COMPOSE] = E0 | 0x2f, [KEY_SLEEP] = E0 | 0x3f,
    [KEY_WAKEUP] = E0 | 0x5e,
};

/* Scan code set 3 by Linux keycode (0: none). */
static const uint8_t set3_of[KBD_KEYS] = {
    [KEY_ESC] = 0x08, [KEY_1] = 0x16, [KEY_2] = 0x1e, [KEY_3] = 0x26,
    [KEY_4] = 0x25, [KEY_5] = 0x2e, [KEY_6] = 0x36, [KEY_7] = 0x3d,
    [KEY_8] = 0x3e, [KEY_9] = 0x46, [KEY_0] = 0x45, [KEY_MINUS] = 0x4e,
    [KEY_EQUAL] = 0x55, [KEY_BACKSPACE] = 0x66, [KEY_TAB] = 0x0d,
    [KEY_Q] = 0x15, [KEY_W] = 0x1d, [KEY_E] = 0x24, [KEY_R] = 0x2d,
    [KEY_T] = 0x2c, [KEY_Y] = 0x35, [KEY_U] = 0x3c, [KEY_I] = 0x43,
    [KEY_O] = 0x44, [KEY_P] = 0x4d, [KEY_LEFTBRACE] = 0x54,
    [KEY_RIGHTBRACE] = 0x5b, [KEY_ENTER] = 0x5a, [KEY_LEFTCTRL] = 0x11,
    [KEY_A] = 0x1c, [KEY_S] = 0x1b, [KEY_D] = 0x23, [KEY_F] = 0x2b,
    [KEY_G] = 0x34, [KEY_H] = 0x33, [KEY_J] = 0x3b, [KEY_K] = 0x42,
    [KEY_L] = 0x4b, [KEY_SEMICOLON] = 0x4c, [KEY_APOSTROPHE] = 0x52,
    [KEY_GRAVE] = 0x0e, [KEY_LEFTSHIFT] = 0x12, [KEY_BACKSLASH] = 0x5c,
    [KEY_Z] = 0x1a, [KEY_X] = 0x22, [KEY_C] = 0x21, [KEY_V] = 0x2a,
    [KEY_B] = 0x32, [KEY_N] = 0x31, [KEY_M] = 0x3a, [KEY_COMMA] = 0x41,
    [KEY_DOT] = 0x49, [KEY_SLASH] = 0x4a, [KEY_RIGHTSHIFT] = 0x59,
    [KEY_KPASTERISK] = 0x7e, [KEY_LEFTALT] = 0x19, [KEY_SPACE] = 0x29,
    [KEY_CAPSLOCK] = 0x14, [KEY_F1] = 0x07, [KEY_F2] = 0x0f,
    [KEY_F3] = 0x17, [KEY_F4] = 0x1f, [KEY_F5] = 0x27, [KEY_F6] = 0x2f,
    [KEY_F7] = 0x37, [KEY_F8] = 0x3f, [KEY_F9] = 0x47, [KEY_F10] = 0x4f,
    [KEY_NUMLOCK] = 0x76, [KEY_SCROLLLOCK] = 0x5f, [KEY_KP7] = 0x6c,
    [KEY_KP8] = 0x75, [KEY_KP9] = 0x7d, [KEY_KPMINUS] = 0x84,
    [KEY_KP4] = 0x6b, [KEY_KP5] = 0x73, [KEY_KP6] = 0x74,
    [KEY_KPPLUS] = 0x7c, [KEY_KP1] = 0x69, [KEY_KP2] = 0x72,
    [KEY_KP3] = 0x7a, [KEY_KP0] = 0x70, [KEY_KPDOT] = 0x71,
    [KEY_102ND] = 0x13, [KEY_F11] = 0x56, [KEY_F12] = 0x5e,
    [KEY_KPENTER] = 0x79, [KEY_RIGHTCTRL] = 0x58, [KEY_KPSLASH] = 0x77,
    [KEY_SYSRQ] = 0x57, [KEY_RIGHTALT] = 0x39, [KEY_HOME] = 0x6e,
    [KEY_UP] = 0x63, [KEY_PAGEUP] = 0x6f, [KEY_LEFT] = 0x61,
    [KEY_RIGHT] = 0x6a, [KEY_END] = 0x65, [KEY_DOWN] = 0x60,
    [KEY_PAGEDOWN] = 0x6d, [KEY_INSERT] = 0x67, [KEY_DELETE] = 0x64,
    [KEY_PAUSE] = 0x62, [KEY_LEFTMETA] = 0x8b, [KEY_RIGHTMETA] = 0x8c,
    [KEY_COMPOSE] = 0x8d,
};

#define KBD_TYPEMATIC_DEFAULT 0x2b   /* 10.9 characters/s after 500 ms */

struct Ps2Kbd {
    Ps2Notify notify;
    void *opaque;
    Ps2Queue q;
    uint8_t cmd;                /* command waiting for its argument, or 0 */
    uint8_t set;                /* scan code set: 1, 2 or 3 */
    uint8_t leds;
    uint8_t typematic;          /* stored only: repeats are not generated */
    bool scanning;
    bool overrun;               /* the overrun code is queued */
    uint8_t last;               /* last byte the host took, for RESEND */
    uint8_t down[KBD_KEYS / 8];
};

static void kbd_notify(Ps2Kbd *k)
{
    if (k->q.count && k->notify)
        k->notify(k->opaque);
}

static void kbd_reply(Ps2Kbd *k, uint8_t b)
{
    q_push(&k->q, b);
}

static void kbd_defaults(Ps2Kbd *k)
{
    k->typematic = KBD_TYPEMATIC_DEFAULT;
}

void ps2_kbd_reset(Ps2Kbd *k)
{
    q_clear(&k->q);
    k->cmd = 0;
    k->set = 2;
    k->leds = 0;
    k->scanning = true;
    k->overrun = false;
    k->last = 0;
    memset(k->down, 0, sizeof(k->down));
    kbd_defaults(k);
}

Ps2Kbd *ps2_kbd_new(Ps2Notify notify, void *opaque)
{
    Ps2Kbd *k = g_new0(Ps2Kbd, 1);
    k->notify = notify;
    k->opaque = opaque;
    ps2_kbd_reset(k);
    return k;
}

void ps2_kbd_free(Ps2Kbd *k)
{
    g_free(k);
}

static bool is_down(const Ps2Kbd *k, int key)
{
    return k->down[key / 8] & (1u << (key % 8));
}

/* The set 2 sequence for a key event; returns its length (0: no key). */
static unsigned key_seq(const Ps2Kbd *k, int key, bool down, uint8_t *out)
{
    bool ctrl = is_down(k, KEY_LEFTCTRL) || is_down(k, KEY_RIGHTCTRL);
    bool alt = is_down(k, KEY_LEFTALT) || is_down(k, KEY_RIGHTALT);
    bool shift = is_down(k, KEY_LEFTSHIFT) || is_down(k, KEY_RIGHTSHIFT);
    unsigned n = 0;

    if (key == KEY_PAUSE) {
        if (!down)
            return 0;           /* Pause has no break sequence */
        if (ctrl) {             /* Ctrl+Pause is Break */
            static const uint8_t brk[] = { 0xe0, 0x7e, 0xe0, 0xf0, 0x7e };
            memcpy(out, brk, sizeof(brk));
            return sizeof(brk);
        }
        static const uint8_t pause[] = { 0xe1, 0x14, 0x77, 0xe1, 0xf0, 0x14, 0xf0, 0x77 };
        memcpy(out, pause, sizeof(pause));
        return sizeof(pause);
    }
    if (key == KEY_SYSRQ) {
        if (alt) {              /* Alt+Print Screen is SysRq */
            if (!down)
                out[n++] = 0xf0;
            out[n++] = 0x84;
            return n;
        }
        if (ctrl || shift) {
            out[n++] = 0xe0;
            if (!down)
                out[n++] = 0xf0;
            out[n++] = 0x7c;
            return n;
        }
        static const uint8_t make[] = { 0xe0, 0x12, 0xe0, 0x7c };
        static const uint8_t brk[] = { 0xe0, 0xf0, 0x7c, 0xe0, 0xf0, 0x12 };
        memcpy(out, down ? make : brk, down ? sizeof(make) : sizeof(brk));
        return down ? sizeof(make) : sizeof(brk);
    }
    uint16_t c = set2_of[key];
    if (!c)
        return 0;
    if (c & E0)
        out[n++] = 0xe0;
    if (!down)
        out[n++] = 0xf0;
    out[n++] = (uint8_t)c;
    return n;
}

/* Queues a key's bytes whole or not at all, keeping the last slot for the
 * overrun code, which tells the host keystrokes were lost. */
static void kbd_queue_key(Ps2Kbd *k, const uint8_t *seq, unsigned n)
{
    unsigned space = q_space(&k->q);
    if (n < space) {
        for (unsigned i = 0; i < n; i++)
            q_push(&k->q, seq[i]);
    } else if (!k->overrun && space) {
        q_push(&k->q, k->set == 1 ? 0xff : 0x00);
        k->overrun = true;
    }
}

void ps2_kbd_key(Ps2Kbd *k, int keycode, bool down)
{
    if (keycode <= 0 || keycode >= KBD_KEYS)
        return;
    uint8_t seq[8], out[8];
    unsigned n = 0;

    if (k->scanning) {
        if (k->set == 3) {
            uint8_t c = set3_of[keycode];
            if (c) {
                if (!down)
                    seq[n++] = 0xf0;
                seq[n++] = c;
            }
        } else {
            n = key_seq(k, keycode, down, seq);
            if (k->set == 1) {
                bool brk = false;
                unsigned m = 0;
                for (unsigned i = 0; i < n; i++) {
                    int b = ps2_translate(&brk, seq[i]);
                    if (b >= 0)
                        out[m++] = (uint8_t)b;
                }
                memcpy(seq, out, m);
                n = m;
            }
        }
    }
    if (down)
        k->down[keycode / 8] |= (uint8_t)(1u << (keycode % 8));
    else
        k->down[keycode / 8] &= (uint8_t)~(1u << (keycode % 8));
    if (n) {
        kbd_queue_key(k, seq, n);
        kbd_notify(k);
    }
}

/* Bytes from ED upwards are commands, even where an argument is expected. */
#define KBD_FIRST_CMD 0xed

static void kbd_argument(Ps2Kbd *k, uint8_t cmd, uint8_t b)
{
    switch (cmd) {
    case 0xed:
        k->leds = b & 7;
        kbd_reply(k, PS2_ACK);
        break;
    case 0xf0:
        if (b == 0) {
            kbd_reply(k, PS2_ACK);
            kbd_reply(k, k->set);
        } else if (b <= 3) {
            k->set = b;
            kbd_reply(k, PS2_ACK);
        } else {
            kbd_reply(k, PS2_RESEND);
        }
        break;
    case 0xf3:
        k->typematic = b & 0x7f;
        kbd_reply(k, PS2_ACK);
        break;
    default:                    /* FB-FD: a list of set 3 keys */
        kbd_reply(k, PS2_ACK);
        k->cmd = cmd;           /* the list goes on until the next command */
        break;
    }
}

void ps2_kbd_write(Ps2Kbd *k, uint8_t b)
{
    if (k->cmd && b < KBD_FIRST_CMD) {
        uint8_t cmd = k->cmd;
        k->cmd = 0;
        kbd_argument(k, cmd, b);
        kbd_notify(k);
        return;
    }
    k->cmd = 0;
    switch (b) {
    case 0xed:                  /* set LEDs */
    case 0xf0:                  /* get/set scan code set */
    case 0xf3:                  /* typematic rate and delay */
    case 0xfb: case 0xfc: case 0xfd:   /* set 3 key types, key list follows */
        kbd_reply(k, PS2_ACK);
        k->cmd = b;
        break;
    case 0xee:                  /* echo */
        kbd_reply(k, 0xee);
        break;
    case 0xf2:                  /* identify: MF2 keyboard */
        kbd_reply(k, PS2_ACK);
        kbd_reply(k, 0xab);
        kbd_reply(k, 0x83);
        break;
    case 0xf4:                  /* enable scanning; clears the buffer */
        q_clear(&k->q);
        k->overrun = false;
        k->scanning = true;
        kbd_reply(k, PS2_ACK);
        break;
    case 0xf5:                  /* defaults, scanning off */
    case 0xf6:                  /* defaults, scanning unchanged */
        q_clear(&k->q);
        k->overrun = false;
        kbd_defaults(k);
        if (b == 0xf5)
            k->scanning = false;
        kbd_reply(k, PS2_ACK);
        break;
    case 0xf7: case 0xf8: case 0xf9: case 0xfa:   /* set 3: all keys ... */
        kbd_reply(k, PS2_ACK);
        break;
    case 0xfe:                  /* resend the last byte */
        kbd_reply(k, k->last);
        break;
    case 0xff:                  /* reset and self test */
        ps2_kbd_reset(k);
        kbd_reply(k, PS2_ACK);
        kbd_reply(k, PS2_BAT_OK);
        break;
    default:
        kbd_reply(k, PS2_RESEND);
        break;
    }
    kbd_notify(k);
}

int ps2_kbd_read(Ps2Kbd *k)
{
    int b = q_pop(&k->q);
    if (b >= 0)
        k->last = (uint8_t)b;
    if (!k->q.count)
        k->overrun = false;
    return b;
}

unsigned ps2_kbd_pending(const Ps2Kbd *k)
{
    return k->q.count;
}

uint8_t ps2_kbd_leds(const Ps2Kbd *k)
{
    return k->leds;
}

int ps2_kbd_scancode_set(const Ps2Kbd *k)
{
    return k->set;
}

void ps2_kbd_save(const Ps2Kbd *k, SnapWriter *w)
{
    q_save(w, &k->q);
    snap_put_u8(w, k->cmd);
    snap_put_u8(w, k->set);
    snap_put_u8(w, k->leds);
    snap_put_u8(w, k->typematic);
    snap_put_bool(w, k->scanning);
    snap_put_bool(w, k->overrun);
    snap_put_u8(w, k->last);
    snap_put_bytes(w, k->down, sizeof(k->down));
}

bool ps2_kbd_load(Ps2Kbd *k, SnapReader *r)
{
    Ps2Kbd t = *k;
    q_load(r, &t.q);
    t.cmd = snap_get_u8(r);
    t.set = snap_get_u8(r);
    devsnap_require(r, t.set >= 1 && t.set <= 3, "PS/2 keyboard scan code set");
    t.leds = (uint8_t)devsnap_check_mask(r, snap_get_u8(r), 7, "PS/2 keyboard LEDs");
    t.typematic = (uint8_t)devsnap_check_mask(r, snap_get_u8(r), 0x7f, "PS/2 typematic");
    t.scanning = snap_get_bool(r);
    t.overrun = snap_get_bool(r);
    t.last = snap_get_u8(r);
    snap_get_bytes(r, t.down, sizeof(t.down));
    if (!snap_reader_ok(r))
        return false;
    *k = t;
    return true;
}

/* ---- mouse ---- */

/* Counters are kept within this bound so host input cannot overflow them;
 * anything beyond 9 bits is reported as overflow anyway. */
#define MOUSE_COUNT_MAX (1 << 20)

struct Ps2Mouse {
    Ps2Notify notify;
    void *opaque;
    Ps2Queue q;
    uint8_t cmd;                /* command waiting for its argument, or 0 */
    bool remote, wrap, enabled, scale21;
    uint8_t resolution, rate, id;
    uint8_t rates[3];           /* last three sample rates, newest last */
    int dx, dy, dz;             /* counters, PS/2 orientation: y up, z down */
    unsigned buttons, sent_buttons;
    uint8_t last;
};

static void mouse_notify(Ps2Mouse *ms)
{
    if (ms->q.count && ms->notify)
        ms->notify(ms->opaque);
}

static void mouse_reply(Ps2Mouse *ms, uint8_t b)
{
    q_push(&ms->q, b);
}

static void mouse_clear_counters(Ps2Mouse *ms)
{
    ms->dx = ms->dy = ms->dz = 0;
}

static void mouse_defaults(Ps2Mouse *ms)
{
    ms->rate = 100;
    ms->resolution = 2;         /* 4 counts/mm */
    ms->scale21 = false;
    ms->enabled = false;
    mouse_clear_counters(ms);
}

void ps2_mouse_reset(Ps2Mouse *ms)
{
    q_clear(&ms->q);
    ms->cmd = 0;
    ms->remote = ms->wrap = false;
    ms->id = 0;
    memset(ms->rates, 0, sizeof(ms->rates));
    ms->buttons = ms->sent_buttons = 0;
    ms->last = 0;
    mouse_defaults(ms);
}

Ps2Mouse *ps2_mouse_new(Ps2Notify notify, void *opaque)
{
    Ps2Mouse *ms = g_new0(Ps2Mouse, 1);
    ms->notify = notify;
    ms->opaque = opaque;
    ps2_mouse_reset(ms);
    return ms;
}

void ps2_mouse_free(Ps2Mouse *ms)
{
    g_free(ms);
}

static unsigned packet_len(const Ps2Mouse *ms)
{
    return ms->id ? 4 : 3;
}

/* 2:1 scaling (stream mode only). */
static int scale21(int v)
{
    int a = v < 0 ? -v : v;
    static const int small[6] = { 0, 1, 1, 3, 6, 9 };
    int r = a < 6 ? small[a] : 2 * a;
    return v < 0 ? -r : r;
}

static int clamp(int v, int lo, int hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Queues one packet from the counters and clears them (the wheel keeps
 * what did not fit in the packet's 4 bits). */
static void mouse_packet(Ps2Mouse *ms, bool stream)
{
    int x = ms->dx, y = ms->dy;
    if (stream && ms->scale21) {
        x = scale21(x);
        y = scale21(y);
    }
    uint8_t b0 = 0x08 | (ms->buttons & 7);
    if (x < -256 || x > 255) {
        b0 |= 0x40;
        x = clamp(x, -256, 255);
    }
    if (y < -256 || y > 255) {
        b0 |= 0x80;
        y = clamp(y, -256, 255);
    }
    if (x < 0)
        b0 |= 0x10;
    if (y < 0)
        b0 |= 0x20;
    mouse_reply(ms, b0);
    mouse_reply(ms, (uint8_t)x);
    mouse_reply(ms, (uint8_t)y);
    if (ms->id) {
        int z = clamp(ms->dz, -8, 7);
        ms->dz -= z;
        if (ms->id == 3)
            mouse_reply(ms, (uint8_t)z);
        else
            mouse_reply(ms, (uint8_t)((z & 0x0f) | ((ms->buttons >> 3) & 3) << 4));
    } else {
        ms->dz = 0;
    }
    ms->dx = ms->dy = 0;
    ms->sent_buttons = ms->buttons;
}

/* Stream mode: report what changed while whole packets fit. */
static void mouse_stream(Ps2Mouse *ms)
{
    if (!ms->enabled || ms->remote || ms->wrap)
        return;
    while ((ms->dx || ms->dy || ms->dz || ms->buttons != ms->sent_buttons) &&
           q_space(&ms->q) >= packet_len(ms))
        mouse_packet(ms, true);
}

void ps2_mouse_move(Ps2Mouse *ms, int dx, int dy, int dz, unsigned buttons)
{
    ms->dx = clamp(clamp(dx, -MOUSE_COUNT_MAX, MOUSE_COUNT_MAX) + ms->dx,
                   -MOUSE_COUNT_MAX, MOUSE_COUNT_MAX);
    ms->dy = clamp(ms->dy - clamp(dy, -MOUSE_COUNT_MAX, MOUSE_COUNT_MAX),
                   -MOUSE_COUNT_MAX, MOUSE_COUNT_MAX);
    ms->dz = clamp(ms->dz - clamp(dz, -MOUSE_COUNT_MAX, MOUSE_COUNT_MAX),
                   -MOUSE_COUNT_MAX, MOUSE_COUNT_MAX);
    ms->buttons = buttons & 0x1f;
    mouse_stream(ms);
    mouse_notify(ms);
}

static void mouse_sample_rate(Ps2Mouse *ms, uint8_t rate)
{
    ms->rate = rate;
    ms->rates[0] = ms->rates[1];
    ms->rates[1] = ms->rates[2];
    ms->rates[2] = rate;
    /* The IntelliMouse knocks: 200, 100, 80 turns on the wheel (ID 3);
     * then 200, 200, 80 turns on buttons 4 and 5 (ID 4). */
    if (ms->rates[0] == 200 && ms->rates[2] == 80) {
        if (ms->rates[1] == 100 && ms->id == 0)
            ms->id = 3;
        else if (ms->rates[1] == 200 && ms->id == 3)
            ms->id = 4;
    }
}

void ps2_mouse_write(Ps2Mouse *ms, uint8_t b)
{
    if (ms->wrap && b != 0xec && b != 0xff) {
        mouse_reply(ms, b);     /* wrap mode echoes everything else */
        mouse_notify(ms);
        return;
    }
    if (ms->cmd) {
        uint8_t cmd = ms->cmd;
        ms->cmd = 0;
        if (cmd == 0xe8) {
            ms->resolution = b & 3;
            mouse_clear_counters(ms);
        } else {
            mouse_sample_rate(ms, b);
        }
        mouse_reply(ms, PS2_ACK);
        mouse_notify(ms);
        return;
    }
    switch (b) {
    case 0xe6:                  /* scaling 1:1 */
    case 0xe7:                  /* scaling 2:1 */
        ms->scale21 = b == 0xe7;
        mouse_reply(ms, PS2_ACK);
        break;
    case 0xe8:                  /* set resolution */
    case 0xf3:                  /* set sample rate */
        ms->cmd = b;
        mouse_reply(ms, PS2_ACK);
        break;
    case 0xe9: {                /* status request */
        unsigned bt = ms->buttons;
        mouse_reply(ms, PS2_ACK);
        mouse_reply(ms, (uint8_t)((ms->remote ? 0x40 : 0) | (ms->enabled ? 0x20 : 0) |
                                  (ms->scale21 ? 0x10 : 0) |
                                  ((bt & PS2_BTN_LEFT) ? 0x04 : 0) |
                                  ((bt & PS2_BTN_MIDDLE) ? 0x02 : 0) |
                                  ((bt & PS2_BTN_RIGHT) ? 0x01 : 0)));
        mouse_reply(ms, ms->resolution);
        mouse_reply(ms, ms->rate);
        break;
    }
    case 0xea:                  /* stream mode */
    case 0xf0:                  /* remote mode */
        ms->remote = b == 0xf0;
        mouse_clear_counters(ms);
        mouse_reply(ms, PS2_ACK);
        break;
    case 0xeb:                  /* read data */
        mouse_reply(ms, PS2_ACK);
        if (q_space(&ms->q) >= packet_len(ms))
            mouse_packet(ms, false);
        break;
    case 0xec:                  /* leave wrap mode */
        ms->wrap = false;
        mouse_reply(ms, PS2_ACK);
        break;
    case 0xee:                  /* wrap mode */
        ms->wrap = true;
        mouse_clear_counters(ms);
        mouse_reply(ms, PS2_ACK);
        break;
    case 0xf2:                  /* identify */
        mouse_reply(ms, PS2_ACK);
        mouse_reply(ms, ms->id);
        break;
    case 0xf4:                  /* enable reporting */
    case 0xf5:                  /* disable reporting */
        q_clear(&ms->q);
        ms->enabled = b == 0xf4;
        mouse_clear_counters(ms);
        ms->sent_buttons = ms->buttons;
        mouse_reply(ms, PS2_ACK);
        break;
    case 0xf6:                  /* defaults */
        q_clear(&ms->q);
        mouse_defaults(ms);
        mouse_reply(ms, PS2_ACK);
        break;
    case 0xfe:                  /* resend */
        mouse_reply(ms, ms->last);
        break;
    case 0xff:                  /* reset and self test */
        ps2_mouse_reset(ms);
        mouse_reply(ms, PS2_ACK);
        mouse_reply(ms, PS2_BAT_OK);
        mouse_reply(ms, 0x00);
        break;
    default:
        mouse_reply(ms, PS2_RESEND);
        break;
    }
    mouse_notify(ms);
}

int ps2_mouse_read(Ps2Mouse *ms)
{
    int b = q_pop(&ms->q);
    if (b >= 0)
        ms->last = (uint8_t)b;
    /* Room again: motion that waited goes out now.  No notify here: the
     * host is in the middle of taking bytes and sees the count. */
    mouse_stream(ms);
    return b;
}

unsigned ps2_mouse_pending(const Ps2Mouse *ms)
{
    return ms->q.count;
}

int ps2_mouse_id(const Ps2Mouse *ms)
{
    return ms->id;
}

void ps2_mouse_save(const Ps2Mouse *ms, SnapWriter *w)
{
    q_save(w, &ms->q);
    snap_put_u8(w, ms->cmd);
    snap_put_bool(w, ms->remote);
    snap_put_bool(w, ms->wrap);
    snap_put_bool(w, ms->enabled);
    snap_put_bool(w, ms->scale21);
    snap_put_u8(w, ms->resolution);
    snap_put_u8(w, ms->rate);
    snap_put_u8(w, ms->id);
    snap_put_bytes(w, ms->rates, sizeof(ms->rates));
    snap_put_i64(w, ms->dx);
    snap_put_i64(w, ms->dy);
    snap_put_i64(w, ms->dz);
    snap_put_u8(w, (uint8_t)ms->buttons);
    snap_put_u8(w, (uint8_t)ms->sent_buttons);
    snap_put_u8(w, ms->last);
}

/* The counters are summed with host motion in ps2_mouse_move: a value
 * beyond the bound it keeps would overflow there. */
static int get_counter(SnapReader *r, const char *field)
{
    int64_t v = snap_get_i64(r);
    if (snap_reader_ok(r) && (v < -MOUSE_COUNT_MAX || v > MOUSE_COUNT_MAX)) {
        snap_reader_fail(r, "%s is %lld, beyond +-%d", field, (long long)v, MOUSE_COUNT_MAX);
        return 0;
    }
    return (int)v;
}

bool ps2_mouse_load(Ps2Mouse *ms, SnapReader *r)
{
    Ps2Mouse t = *ms;
    q_load(r, &t.q);
    t.cmd = snap_get_u8(r);
    t.remote = snap_get_bool(r);
    t.wrap = snap_get_bool(r);
    t.enabled = snap_get_bool(r);
    t.scale21 = snap_get_bool(r);
    t.resolution = (uint8_t)devsnap_check_mask(r, snap_get_u8(r), 3, "PS/2 mouse resolution");
    t.rate = snap_get_u8(r);
    t.id = snap_get_u8(r);
    devsnap_require(r, t.id == 0 || t.id == 3 || t.id == 4, "PS/2 mouse ID");
    snap_get_bytes(r, t.rates, sizeof(t.rates));
    t.dx = get_counter(r, "PS/2 mouse x counter");
    t.dy = get_counter(r, "PS/2 mouse y counter");
    t.dz = get_counter(r, "PS/2 mouse wheel counter");
    t.buttons = (unsigned)devsnap_check_mask(r, snap_get_u8(r), 0x1f, "PS/2 mouse buttons");
    t.sent_buttons = (unsigned)devsnap_check_mask(r, snap_get_u8(r), 0x1f,
                                                  "PS/2 mouse buttons sent");
    t.last = snap_get_u8(r);
    if (!snap_reader_ok(r))
        return false;
    *ms = t;
    return true;
}
