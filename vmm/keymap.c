/* QEMU's key names (its QKeyCode enumeration) to Linux keycodes. */
#include "vmm/keymap.h"

#include <errno.h>
#include <linux/input-event-codes.h>
#include <stdlib.h>
#include <string.h>

#include "vmm/error.h"

static const struct {
    const char *name;
    int code;
} keys[] = {
    { "shift", KEY_LEFTSHIFT }, { "shift_r", KEY_RIGHTSHIFT },
    { "alt", KEY_LEFTALT }, { "alt_r", KEY_RIGHTALT }, { "altgr", KEY_RIGHTALT },
    { "altgr_r", KEY_RIGHTALT }, { "ctrl", KEY_LEFTCTRL }, { "ctrl_r", KEY_RIGHTCTRL },
    { "menu", KEY_COMPOSE }, { "esc", KEY_ESC },
    { "1", KEY_1 }, { "2", KEY_2 }, { "3", KEY_3 }, { "4", KEY_4 }, { "5", KEY_5 },
    { "6", KEY_6 }, { "7", KEY_7 }, { "8", KEY_8 }, { "9", KEY_9 }, { "0", KEY_0 },
    { "minus", KEY_MINUS }, { "equal", KEY_EQUAL }, { "backspace", KEY_BACKSPACE },
    { "tab", KEY_TAB },
    { "q", KEY_Q }, { "w", KEY_W }, { "e", KEY_E }, { "r", KEY_R }, { "t", KEY_T },
    { "y", KEY_Y }, { "u", KEY_U }, { "i", KEY_I }, { "o", KEY_O }, { "p", KEY_P },
    { "bracket_left", KEY_LEFTBRACE }, { "bracket_right", KEY_RIGHTBRACE },
    { "ret", KEY_ENTER },
    { "a", KEY_A }, { "s", KEY_S }, { "d", KEY_D }, { "f", KEY_F }, { "g", KEY_G },
    { "h", KEY_H }, { "j", KEY_J }, { "k", KEY_K }, { "l", KEY_L },
    { "semicolon", KEY_SEMICOLON }, { "apostrophe", KEY_APOSTROPHE },
    { "grave_accent", KEY_GRAVE }, { "backslash", KEY_BACKSLASH },
    { "z", KEY_Z }, { "x", KEY_X }, { "c", KEY_C }, { "v", KEY_V }, { "b", KEY_B },
    { "n", KEY_N }, { "m", KEY_M },
    { "comma", KEY_COMMA }, { "dot", KEY_DOT }, { "slash", KEY_SLASH },
    { "asterisk", KEY_KPASTERISK }, { "spc", KEY_SPACE }, { "caps_lock", KEY_CAPSLOCK },
    { "f1", KEY_F1 }, { "f2", KEY_F2 }, { "f3", KEY_F3 }, { "f4", KEY_F4 },
    { "f5", KEY_F5 }, { "f6", KEY_F6 }, { "f7", KEY_F7 }, { "f8", KEY_F8 },
    { "f9", KEY_F9 }, { "f10", KEY_F10 }, { "f11", KEY_F11 }, { "f12", KEY_F12 },
    { "num_lock", KEY_NUMLOCK }, { "scroll_lock", KEY_SCROLLLOCK },
    { "kp_divide", KEY_KPSLASH }, { "kp_multiply", KEY_KPASTERISK },
    { "kp_subtract", KEY_KPMINUS }, { "kp_add", KEY_KPPLUS }, { "kp_enter", KEY_KPENTER },
    { "kp_decimal", KEY_KPDOT }, { "sysrq", KEY_SYSRQ }, { "print", KEY_SYSRQ },
    { "kp_0", KEY_KP0 }, { "kp_1", KEY_KP1 }, { "kp_2", KEY_KP2 }, { "kp_3", KEY_KP3 },
    { "kp_4", KEY_KP4 }, { "kp_5", KEY_KP5 }, { "kp_6", KEY_KP6 }, { "kp_7", KEY_KP7 },
    { "kp_8", KEY_KP8 }, { "kp_9", KEY_KP9 },
    { "less", KEY_102ND },
    { "home", KEY_HOME }, { "pgup", KEY_PAGEUP }, { "pgdn", KEY_PAGEDOWN }, { "end", KEY_END },
    { "left", KEY_LEFT }, { "up", KEY_UP }, { "down", KEY_DOWN }, { "right", KEY_RIGHT },
    { "insert", KEY_INSERT }, { "delete", KEY_DELETE },
    { "meta_l", KEY_LEFTMETA }, { "meta_r", KEY_RIGHTMETA }, { "compose", KEY_COMPOSE },
    { "pause", KEY_PAUSE }, { "ro", KEY_RO }, { "yen", KEY_YEN }, { "henkan", KEY_HENKAN },
    { "muhenkan", KEY_MUHENKAN }, { "katakanahiragana", KEY_KATAKANAHIRAGANA },
    { "power", KEY_POWER }, { "sleep", KEY_SLEEP }, { "wake", KEY_WAKEUP },
    { "audiomute", KEY_MUTE }, { "volumeup", KEY_VOLUMEUP }, { "volumedown", KEY_VOLUMEDOWN },
};

int keymap_code(const char *name)
{
    for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
        if (!strcmp(keys[i].name, name))
            return keys[i].code;
    if (name[0] == '0' && (name[1] == 'x' || name[1] == 'X') && name[2]) {
        char *end;
        errno = 0;
        unsigned long v = strtoul(name + 2, &end, 16);
        if (!*end && !errno && v > 0 && v <= KEY_MAX)
            return (int)v;
    }
    return -1;
}

int keymap_parse(const char *keys_str, int *codes, int max, GError **err)
{
    int n = 0;
    const char *p = keys_str;
    if (!*p) {
        tn_error(err, "no key given");
        return -1;
    }
    for (;;) {
        /* "minus" is the name of '-': a key name never contains one. */
        size_t len = strcspn(p, "-");
        char name[32];
        if (len == 0 || len >= sizeof(name)) {
            tn_error(err, "invalid key combination '%s' (keys are joined by '-', as in "
                     "ctrl-alt-f1)", keys_str);
            return -1;
        }
        memcpy(name, p, len);
        name[len] = 0;
        int c = keymap_code(name);
        if (c < 0) {
            tn_error(err, "unknown key: '%s' (QEMU's key names: a, 1, ret, spc, ctrl, alt, "
                     "shift, esc, f1, kp_enter, ...)", name);
            return -1;
        }
        if (n == max) {
            tn_error(err, "too many keys in '%s' (at most %d)", keys_str, max);
            return -1;
        }
        codes[n++] = c;
        if (!p[len])
            return n;
        p += len + 1;
    }
}
