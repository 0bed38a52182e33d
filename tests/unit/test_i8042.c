#include <criterion/criterion.h>
#include <glib.h>
#include <limits.h>
#include <linux/input-event-codes.h>

#include "devices/i8042.h"
#include "devices/ps2.h"
#include "vmm/machine.h"

#include "dev_machine.h"

static uint64_t icount;
static Machine *m;
static I8042 *kbc;
static int level[2], edges[2];
static int a20_calls;
static bool a20_state;

static void rec_irq(void *opaque, int n, int lv)
{
    if (lv && !level[n])
        edges[n]++;
    level[n] = lv;
}

static void rec_a20(void *opaque, bool on)
{
    a20_calls++;
    a20_state = on;
}

static uint8_t inb(uint16_t port)
{
    uint64_t v = 0xdead;
    cr_assert_eq(as_read(&m->io, port, 1, &v), MEM_OK);
    cr_assert_lt(v, 0x100);
    return (uint8_t)v;
}

static void outb(uint16_t port, uint8_t v)
{
    cr_assert_eq(as_write(&m->io, port, 1, v), MEM_OK);
}

static uint8_t status(void) { return inb(0x64); }
static void cmd(uint8_t c) { outb(0x64, c); }
static void dat(uint8_t v) { outb(0x60, v); }

/* Reads one byte, which must be there. */
static uint8_t rd(void)
{
    cr_assert(status() & 0x01, "output buffer empty");
    return inb(0x60);
}

static void expect(const uint8_t *want, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        cr_assert(status() & 0x01, "byte %u of %u missing", i, n);
        uint8_t b = inb(0x60);
        cr_assert_eq(b, want[i], "byte %u: got 0x%02x, want 0x%02x", i, b, want[i]);
    }
    cr_assert_eq(status() & 0x01, 0, "more bytes than expected (0x%02x)", inb(0x60));
}

#define EXPECT(...) do { \
        static const uint8_t w_[] = { __VA_ARGS__ }; \
        expect(w_, sizeof(w_)); \
    } while (0)

static void set_ctr(uint8_t v)
{
    cmd(0x60);
    dat(v);
}

static uint8_t get_ctr(void)
{
    cmd(0x20);
    return rd();
}

static void key(int code, bool down)
{
    ps2_kbd_key(i8042_kbd(kbc), code, down);
}

static void aux(uint8_t b)
{
    cmd(0xd4);
    dat(b);
}

static void setup(void)
{
    m = dev_machine_new(&icount);
    level[0] = level[1] = edges[0] = edges[1] = 0;
    a20_calls = 0;
    kbc = i8042_create(m, &m->io, irq_line(rec_irq, NULL, 0), irq_line(rec_irq, NULL, 1));
    cr_assert_not_null(kbc);
    i8042_set_a20(kbc, rec_a20, NULL);
}

static void teardown(void)
{
    dev_machine_free(m);
}

TestSuite(i8042, .init = setup, .fini = teardown);

Test(i8042, power_on_state)
{
    cr_assert_eq(status(), 0x18);          /* not inhibited, A2 */
    cr_assert_eq(get_ctr(), 0x03);
    cr_assert(i8042_a20(kbc));
    cr_assert_eq(level[0] | level[1], 0);
    cr_assert_eq(ps2_kbd_scancode_set(i8042_kbd(kbc)), 2);
    cr_assert_eq(ps2_mouse_id(i8042_mouse(kbc)), 0);
}

Test(i8042, self_tests)
{
    cmd(0xaa);
    cr_assert_eq(status() & 0x21, 0x01);
    EXPECT(0x55);
    cmd(0xab);
    EXPECT(0x00);
    cmd(0xa9);
    EXPECT(0x00);
    cmd(0xa4);
    EXPECT(0xf1);
    cmd(0xc0);
    EXPECT(0x80);
    /* The data port keeps returning the last byte once empty. */
    cr_assert_eq(inb(0x60), 0x80);
    /* Replies wait while the buffer is full. */
    cmd(0xaa);
    cmd(0xab);
    EXPECT(0x55, 0x00);
}

Test(i8042, command_byte_and_ram)
{
    set_ctr(0x65);
    cr_assert_eq(status() & 0x0c, 0x04);   /* SYS; A2 clear after data */
    cr_assert_eq(get_ctr(), 0x65);
    cr_assert_eq(status() & 0x08, 0x08);   /* A2 after a command */
    set_ctr(0x00);
    cr_assert_eq(status() & 0x04, 0);
    cmd(0x7f);
    dat(0x5a);
    cmd(0x3f);
    EXPECT(0x5a);
    cmd(0xad);
    cr_assert_eq(get_ctr(), 0x10);
    cmd(0xa7);
    cr_assert_eq(get_ctr(), 0x30);
    cmd(0xae);
    cmd(0xa8);
    cr_assert_eq(get_ctr(), 0x00);
    /* A new command cancels one waiting for its data byte. */
    cmd(0x60);
    cmd(0xaa);
    EXPECT(0x55);
    cr_assert_eq(get_ctr(), 0x00);
}

Test(i8042, keyboard_reset_id_echo_leds)
{
    Ps2Kbd *k = i8042_kbd(kbc);
    set_ctr(0x00);
    dat(0xff);
    EXPECT(0xfa, 0xaa);
    dat(0xf2);
    EXPECT(0xfa, 0xab, 0x83);
    dat(0xee);
    EXPECT(0xee);
    dat(0xed);
    EXPECT(0xfa);
    dat(0x05);
    EXPECT(0xfa);
    cr_assert_eq(ps2_kbd_leds(k), 5);
    dat(0xf3);
    dat(0x20);
    EXPECT(0xfa, 0xfa);
    dat(0xf0);
    dat(0x00);
    EXPECT(0xfa, 0xfa, 0x02);
    dat(0xf0);
    dat(0x03);
    dat(0xf0);
    dat(0x00);
    EXPECT(0xfa, 0xfa, 0xfa, 0xfa, 0x03);
    dat(0xf0);
    dat(0x07);                  /* no set 7 */
    EXPECT(0xfa, 0xfe);
    dat(0x01);                  /* not a command */
    EXPECT(0xfe);
    dat(0xfe);                  /* resend */
    EXPECT(0xfe);
    /* A command where an argument was expected is a command. */
    dat(0xed);
    dat(0xee);
    EXPECT(0xfa, 0xee);
    /* Reset returns to set 2, LEDs off. */
    dat(0xff);
    EXPECT(0xfa, 0xaa);
    cr_assert_eq(ps2_kbd_scancode_set(k), 2);
    cr_assert_eq(ps2_kbd_leds(k), 0);
    /* Translated, the ID reads AB 41 (what Linux expects). */
    set_ctr(0x40);
    dat(0xf2);
    EXPECT(0xfa, 0xab, 0x41);
}

Test(i8042, scan_codes_and_translation)
{
    set_ctr(0x00);
    key(KEY_A, true);
    key(KEY_A, false);
    EXPECT(0x1c, 0xf0, 0x1c);
    key(KEY_UP, true);
    key(KEY_UP, false);
    EXPECT(0xe0, 0x75, 0xe0, 0xf0, 0x75);

    set_ctr(0x40);
    key(KEY_A, true);
    key(KEY_A, false);
    EXPECT(0x1e, 0x9e);
    key(KEY_UP, true);
    key(KEY_UP, false);
    EXPECT(0xe0, 0x48, 0xe0, 0xc8);
    key(KEY_F7, true);
    key(KEY_F7, false);
    EXPECT(0x41, 0xc1);
    key(KEY_SYSRQ, true);
    key(KEY_SYSRQ, false);
    EXPECT(0xe0, 0x2a, 0xe0, 0x37, 0xe0, 0xb7, 0xe0, 0xaa);
    key(KEY_PAUSE, true);
    key(KEY_PAUSE, false);
    EXPECT(0xe1, 0x1d, 0x45, 0xe1, 0x9d, 0xc5);
    key(KEY_LEFTCTRL, true);
    key(KEY_PAUSE, true);
    key(KEY_LEFTCTRL, false);
    EXPECT(0x1d, 0xe0, 0x46, 0xe0, 0xc6, 0x9d);
    key(KEY_LEFTALT, true);
    key(KEY_SYSRQ, true);
    key(KEY_SYSRQ, false);
    key(KEY_LEFTALT, false);
    EXPECT(0x38, 0x54, 0xd4, 0xb8);
    key(KEY_RIGHTMETA, true);
    EXPECT(0xe0, 0x5c);
    key(0, true);
    key(KEY_MAX, true);
    key(-5, true);
    EXPECT();

    /* Linux keycodes 1-88 are the set 1 codes: the set 2 table translates
     * back to them. */
    for (int c = 1; c <= 88; c++) {
        if (c == 84 || c == 85)
            continue;
        key(c, true);
        cr_assert_eq(rd(), c, "keycode %d", c);
        key(c, false);
        cr_assert_eq(rd(), c | 0x80, "keycode %d", c);
        cr_assert_eq(status() & 1, 0);
    }

    /* The keyboard in set 1, untranslated. */
    set_ctr(0x00);
    dat(0xf0);
    dat(0x01);
    EXPECT(0xfa, 0xfa);
    key(KEY_A, true);
    key(KEY_RIGHTCTRL, false);
    EXPECT(0x1e, 0xe0, 0x9d);

    /* Set 3. */
    dat(0xf0);
    dat(0x03);
    dat(0xf8);                  /* all keys make/break */
    EXPECT(0xfa, 0xfa, 0xfa);
    key(KEY_ESC, true);
    key(KEY_ESC, false);
    key(KEY_UP, true);
    EXPECT(0x08, 0xf0, 0x08, 0x63);

    /* Scanning disabled: keys are dropped. */
    dat(0xf5);
    EXPECT(0xfa);
    key(KEY_A, true);
    EXPECT();
    dat(0xf4);
    EXPECT(0xfa);
    key(KEY_A, true);
    EXPECT(0x1c);
}

Test(i8042, output_queue_overflow)
{
    set_ctr(0x00);
    cmd(0xad);                  /* hold the bytes in the keyboard */
    static const int keys[] = { KEY_Q, KEY_W, KEY_E, KEY_R, KEY_T, KEY_Y, KEY_U,
                                KEY_I, KEY_O, KEY_P, KEY_A, KEY_S, KEY_D, KEY_F,
                                KEY_G, KEY_H, KEY_J, KEY_K, KEY_L, KEY_Z };
    for (unsigned i = 0; i < G_N_ELEMENTS(keys); i++)
        key(keys[i], true);
    cr_assert_eq(status() & 1, 0);
    cr_assert_eq(ps2_kbd_pending(i8042_kbd(kbc)), PS2_QUEUE_SIZE);
    cmd(0xae);
    EXPECT(0x15, 0x1d, 0x24, 0x2d, 0x2c, 0x35, 0x3c, 0x43, 0x44, 0x4d,
           0x1c, 0x1b, 0x23, 0x2b, 0x34, 0x00);
    /* An extended key never goes in half. */
    cmd(0xad);
    for (unsigned i = 0; i < 14; i++)
        key(KEY_A, true);
    key(KEY_UP, true);          /* 2 bytes, 2 free: overrun instead */
    key(KEY_B, true);           /* lost */
    cmd(0xae);
    for (unsigned i = 0; i < 14; i++)
        cr_assert_eq(rd(), 0x1c);
    EXPECT(0x00);
    /* Translated, the overrun code is set 1's FF. */
    set_ctr(0x40);
    cmd(0xad);
    for (unsigned i = 0; i < 20; i++)
        key(KEY_A, true);
    cmd(0xae);
    for (unsigned i = 0; i < 15; i++)
        cr_assert_eq(rd(), 0x1e);
    EXPECT(0xff);
}

Test(i8042, aux_port_commands)
{
    Ps2Mouse *ms = i8042_mouse(kbc);
    aux(0xf2);
    cr_assert_eq(status() & 0x21, 0x21);   /* AUXB */
    EXPECT(0xfa, 0x00);
    aux(0xff);
    EXPECT(0xfa, 0xaa, 0x00);
    aux(0xe9);
    EXPECT(0xfa, 0x00, 0x02, 100);
    aux(0xe7);
    aux(0xe8);
    aux(0x03);
    aux(0xf3);
    aux(40);
    aux(0xf0);
    EXPECT(0xfa, 0xfa, 0xfa, 0xfa, 0xfa, 0xfa);
    aux(0xf4);
    aux(0xe9);
    EXPECT(0xfa, 0xfa, 0x70, 0x03, 40);
    aux(0xf6);
    aux(0xe9);
    EXPECT(0xfa, 0xfa, 0x40, 0x02, 100);   /* defaults keep remote mode */
    /* Wrap mode echoes all but EC and FF. */
    aux(0xee);
    aux(0x12);
    aux(0xf2);
    aux(0xec);
    aux(0xf2);
    EXPECT(0xfa, 0x12, 0xf2, 0xfa, 0xfa, 0x00);
    aux(0x00);
    EXPECT(0xfe);
    /* D3 writes the aux output buffer, D2 the keyboard's. */
    cmd(0xd3);
    dat(0x77);
    cr_assert_eq(status() & 0x21, 0x21);
    EXPECT(0x77);
    cmd(0xd2);
    dat(0x66);
    cr_assert_eq(status() & 0x21, 0x01);
    EXPECT(0x66);
    /* Aux clock off: the mouse keeps its bytes. */
    cmd(0xa7);
    aux(0xf2);                  /* sending re-enables the port */
    EXPECT(0xfa, 0x00);
    cr_assert_eq(get_ctr() & 0x20, 0);
    cmd(0xa7);
    ps2_mouse_write(ms, 0xf2);
    EXPECT();
    cmd(0xa8);
    EXPECT(0xfa, 0x00);
}

Test(i8042, mouse_packets)
{
    Ps2Mouse *ms = i8042_mouse(kbc);
    ps2_mouse_move(ms, 5, 5, 0, 0);        /* reporting off: nothing */
    EXPECT();
    aux(0xf4);
    EXPECT(0xfa);
    ps2_mouse_move(ms, 10, -5, 0, PS2_BTN_LEFT);
    EXPECT(0x09, 0x0a, 0x05);
    ps2_mouse_move(ms, -3, 2, 0, PS2_BTN_RIGHT | PS2_BTN_MIDDLE);
    EXPECT(0x3e, 0xfd, 0xfe);
    ps2_mouse_move(ms, 0, 0, 0, PS2_BTN_RIGHT | PS2_BTN_MIDDLE);
    EXPECT();                   /* nothing changed */
    ps2_mouse_move(ms, 300, 300, 0, 0);
    EXPECT(0xe8, 0xff, 0x00);   /* X, Y overflow; Y negative (down) */
    ps2_mouse_move(ms, -1000, -255, 0, 0);
    EXPECT(0x58, 0x00, 0xff);
    ps2_mouse_move(ms, INT_MIN, INT_MAX, INT_MIN, ~0u);
    cr_assert_eq(rd(), 0xff);   /* overflow both ways, L/R/M */
    (void)rd();
    (void)rd();
    /* 2:1 scaling in stream mode. */
    aux(0xe7);
    EXPECT(0xfa);
    ps2_mouse_move(ms, 4, -5, 0, ~0u);
    EXPECT(0x0f, 0x06, 0x09);
    aux(0xe6);
    EXPECT(0xfa);
    /* Motion accumulates while the queue is full and goes out as room
     * appears. */
    cmd(0xa7);
    for (int i = 0; i < 7; i++)
        ps2_mouse_move(ms, 1, 0, 0, 0);
    cr_assert_eq(ps2_mouse_pending(ms), 15);
    cmd(0xa8);
    for (int i = 0; i < 15; i++)
        (void)rd();
    EXPECT(0x08, 0x02, 0x00);
    /* Remote mode: packets only on EB. */
    aux(0xf0);
    EXPECT(0xfa);
    ps2_mouse_move(ms, 7, 0, 0, PS2_BTN_LEFT);
    EXPECT();
    aux(0xeb);
    EXPECT(0xfa, 0x09, 0x07, 0x00);
    aux(0xeb);
    EXPECT(0xfa, 0x09, 0x00, 0x00);
}

static void rate(uint8_t r)
{
    aux(0xf3);
    aux(r);
    EXPECT(0xfa, 0xfa);
}

Test(i8042, intellimouse)
{
    Ps2Mouse *ms = i8042_mouse(kbc);
    rate(200);
    rate(200);
    rate(80);                   /* Explorer knock first: no effect */
    aux(0xf2);
    EXPECT(0xfa, 0x00);
    rate(200);
    rate(100);
    rate(80);
    aux(0xf2);
    EXPECT(0xfa, 0x03);
    aux(0xf4);
    EXPECT(0xfa);
    ps2_mouse_move(ms, 1, 1, 1, 0);
    EXPECT(0x28, 0x01, 0xff, 0xff);   /* wheel away: z = -1 */
    ps2_mouse_move(ms, 0, 0, -20, 0);
    EXPECT(0x08, 0x00, 0x00, 0x07, 0x08, 0x00, 0x00, 0x07, 0x08, 0x00, 0x00, 0x06);
    rate(200);
    rate(200);
    rate(80);
    aux(0xf2);
    EXPECT(0xfa, 0x04);
    cr_assert_eq(ps2_mouse_id(ms), 4);
    ps2_mouse_move(ms, 0, 0, 2, PS2_BTN_SIDE | PS2_BTN_EXTRA);
    EXPECT(0x08, 0x00, 0x00, 0x3e);
    aux(0xff);
    EXPECT(0xfa, 0xaa, 0x00);
    cr_assert_eq(ps2_mouse_id(ms), 0);
}

Test(i8042, irq_per_command_byte)
{
    /* Keyboard data with IRQ1 enabled. */
    set_ctr(0x01);
    key(KEY_A, true);
    cr_assert_eq(level[0], 1);
    cr_assert_eq(level[1], 0);
    (void)rd();
    cr_assert_eq(level[0], 0);
    /* Several bytes: one edge each. */
    edges[0] = 0;
    key(KEY_UP, true);
    key(KEY_UP, false);
    cr_assert_eq(edges[0], 1);
    for (int i = 0; i < 5; i++)
        (void)rd();
    cr_assert_eq(edges[0], 5);
    cr_assert_eq(level[0], 0);
    /* Controller replies use IRQ1 too. */
    cmd(0xaa);
    cr_assert_eq(level[0], 1);
    /* Disabling the interrupt drops the line; enabling raises it again. */
    set_ctr(0x00);
    cr_assert_eq(level[0], 0);
    set_ctr(0x01);
    cr_assert_eq(level[0], 1);
    EXPECT(0x55);
    /* Mouse data: IRQ12 only with bit 1. */
    aux(0xf2);
    cr_assert_eq(level[0], 0);
    cr_assert_eq(level[1], 0);
    EXPECT(0xfa, 0x00);
    set_ctr(0x03);
    edges[1] = 0;
    aux(0xf2);
    cr_assert_eq(level[1], 1);
    cr_assert_eq(level[0], 0);
    (void)rd();
    (void)rd();
    cr_assert_eq(edges[1], 2);
    cr_assert_eq(level[1], 0);
    /* Keyboard clock off: nothing loaded, no interrupt. */
    cmd(0xad);
    key(KEY_A, true);
    cr_assert_eq(level[0], 0);
    cr_assert_eq(status() & 1, 0);
    cmd(0xae);
    cr_assert_eq(level[0], 1);
    /* Output port bits 4/5 show which buffer is full. */
    cmd(0xd0);                  /* the reply waits behind the key byte */
    EXPECT(0x1c, 0xdf);
}

Test(i8042, reset_and_a20)
{
    cmd(0xff);                  /* pulse nothing */
    cmd(0xfd);                  /* pulse A20 only */
    cr_assert(!m->reset_requested);
    cmd(0xfe);
    cr_assert(m->reset_requested);
    m->reset_requested = false;
    cmd(0xf0);
    cr_assert(m->reset_requested);
    m->reset_requested = false;

    cmd(0xd0);
    EXPECT(0xcf);
    a20_calls = 0;
    cmd(0xd1);
    dat(0xcd);                  /* A20 off */
    cr_assert_eq(a20_calls, 1);
    cr_assert(!a20_state);
    cr_assert(!i8042_a20(kbc));
    cr_assert(!m->reset_requested);
    cmd(0xd0);
    EXPECT(0xcd);
    cmd(0xdf);
    cr_assert(a20_state);
    cmd(0xdd);
    cr_assert(!a20_state);
    cr_assert_eq(a20_calls, 3);
    cmd(0xd1);
    dat(0x02);                  /* reset line low, A20 on */
    cr_assert(m->reset_requested);
    cr_assert(a20_state);

    /* Machine reset restores the power-on state and tells the board. */
    set_ctr(0x47);
    key(KEY_A, true);
    a20_calls = 0;
    m->devices[0].ops->reset(m->devices[0].dev);
    cr_assert_eq(a20_calls, 1);
    cr_assert(a20_state);
    cr_assert_eq(status(), 0x18);
    cr_assert_eq(level[0], 0);
    cr_assert_eq(get_ctr(), 0x03);
}

Test(i8042, hostile_sweep)
{
    uint64_t v;
    cr_assert_eq(as_read(&m->io, 0x60, 2, &v), MEM_BAD_ACCESS);
    cr_assert_eq(as_write(&m->io, 0x64, 4, 0), MEM_BAD_ACCESS);
    cr_assert_eq(as_read(&m->io, 0x61, 1, &v), MEM_UNMAPPED);

    /* Every command, then every data byte after it. */
    for (unsigned c = 0; c < 256; c++) {
        for (unsigned d = 0; d < 256; d += 17) {
            cmd((uint8_t)c);
            dat((uint8_t)d);
            for (int i = 0; i < 8; i++)
                (void)inb(0x60);
            (void)status();
        }
    }
    /* Random traffic mixed with host input. */
    GRand *r = g_rand_new_with_seed(42);
    for (int i = 0; i < 200000; i++) {
        guint32 x = g_rand_int(r);
        switch (x & 7) {
        case 0: cmd((uint8_t)(x >> 8)); break;
        case 1: case 2: dat((uint8_t)(x >> 8)); break;
        case 3: (void)status(); break;
        case 4: (void)inb(0x60); break;
        case 5: key((int)(x >> 8) % 300 - 20, x & 0x80000000u); break;
        case 6: ps2_mouse_move(i8042_mouse(kbc), (int)(x >> 8) - 0x800000,
                               (int)(x >> 3), (int)(x >> 20) - 2048, x >> 27);
            break;
        default: aux((uint8_t)(x >> 8)); break;
        }
        cr_assert(level[0] + level[1] <= 1);
    }
    g_rand_free(r);
}

Test(i8042, ports_taken)
{
    Machine *m2 = dev_machine_new(&icount);
    cr_assert_not_null(i8042_create(m2, &m2->io, irq_line(NULL, NULL, 0),
                                    irq_line(NULL, NULL, 0)));
    cr_assert_null(i8042_create(m2, &m2->io, irq_line(NULL, NULL, 0),
                                irq_line(NULL, NULL, 0)));
    cr_assert_not_null(m2->error);
    dev_machine_free(m2);
}
