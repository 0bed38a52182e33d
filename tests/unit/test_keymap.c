/* QEMU's sendkey key names (vmm/keymap.c). */
#include <criterion/criterion.h>
#include <linux/input-event-codes.h>
#include <string.h>

#include "vmm/keymap.h"

Test(keymap, names)
{
    cr_assert_eq(keymap_code("a"), KEY_A);
    cr_assert_eq(keymap_code("ret"), KEY_ENTER);
    cr_assert_eq(keymap_code("spc"), KEY_SPACE);
    cr_assert_eq(keymap_code("ctrl_r"), KEY_RIGHTCTRL);
    cr_assert_eq(keymap_code("kp_enter"), KEY_KPENTER);
    cr_assert_eq(keymap_code("f12"), KEY_F12);
    cr_assert_eq(keymap_code("0"), KEY_0);
    cr_assert_eq(keymap_code("minus"), KEY_MINUS);
    cr_assert_eq(keymap_code("0x1e"), KEY_A);
    cr_assert_eq(keymap_code("A"), -1, "names are lower case, as QEMU's");
    cr_assert_eq(keymap_code("enter"), -1);
    cr_assert_eq(keymap_code(""), -1);
    cr_assert_eq(keymap_code("0x"), -1);
    cr_assert_eq(keymap_code("0xzz"), -1);
    cr_assert_eq(keymap_code("0x100000"), -1);
}

Test(keymap, combinations)
{
    int c[KEYMAP_MAX_KEYS];
    GError *err = NULL;
    cr_assert_eq(keymap_parse("ctrl-alt-f1", c, KEYMAP_MAX_KEYS, &err), 3);
    cr_assert_eq(c[0], KEY_LEFTCTRL);
    cr_assert_eq(c[1], KEY_LEFTALT);
    cr_assert_eq(c[2], KEY_F1);
    cr_assert_eq(keymap_parse("shift-minus", c, KEYMAP_MAX_KEYS, &err), 2);
    cr_assert_eq(c[1], KEY_MINUS);
    cr_assert_eq(keymap_parse("x", c, KEYMAP_MAX_KEYS, &err), 1);
    cr_assert_eq(c[0], KEY_X);
}

Test(keymap, errors)
{
    int c[KEYMAP_MAX_KEYS];
    GError *err = NULL;
    cr_assert_eq(keymap_parse("ctrl-alt-foo", c, KEYMAP_MAX_KEYS, &err), -1);
    cr_assert(strstr(err->message, "unknown key: 'foo'"), "%s", err->message);
    g_clear_error(&err);
    cr_assert_eq(keymap_parse("ctrl--a", c, KEYMAP_MAX_KEYS, &err), -1);
    cr_assert(strstr(err->message, "invalid key combination 'ctrl--a'"), "%s", err->message);
    g_clear_error(&err);
    cr_assert_eq(keymap_parse("a-", c, KEYMAP_MAX_KEYS, &err), -1);
    g_clear_error(&err);
    cr_assert_eq(keymap_parse("", c, KEYMAP_MAX_KEYS, &err), -1);
    g_clear_error(&err);
    cr_assert_eq(keymap_parse("a-b-c", c, 2, &err), -1);
    cr_assert(strstr(err->message, "too many keys"), "%s", err->message);
    g_clear_error(&err);
}
