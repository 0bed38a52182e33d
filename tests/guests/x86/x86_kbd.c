/* x86_kbd (pm32): reads the PS/2 keyboard and mouse through the 8042 by
 * polling (no interrupts), for the monitor's sendkey / mouse_move /
 * mouse_button under record/replay (tests/system/test_input_x86.py).
 * Sets the command byte to translated scan codes (set 1) with both
 * interrupts off, enables the mouse's reporting (D4 F4), prints "ready",
 * then prints every byte it reads as "k XX" (keyboard) or "m XX" (mouse)
 * and exits (PASS) after the break code of Q (0x90). */
#include "rt.h"

RT_TEST_NAME("x86_kbd");

#define KBC_DATA 0x60
#define KBC_CMD  0x64

static void kbc_wait_write(void)
{
    while (inb(KBC_CMD) & 0x02)
        ;
}

static u8 kbc_read(unsigned *aux)
{
    u8 st;
    while (!((st = inb(KBC_CMD)) & 0x01))
        ;
    *aux = (st >> 5) & 1;
    return inb(KBC_DATA);
}

void test_main(void)
{
    unsigned aux;
    kbc_wait_write();
    outb(KBC_CMD, 0x60);            /* write the command byte */
    kbc_wait_write();
    outb(KBC_DATA, 0x44);           /* translate, system flag, no interrupts */
    kbc_wait_write();
    outb(KBC_CMD, 0xa8);            /* enable the aux port */
    kbc_wait_write();
    outb(KBC_CMD, 0xd4);            /* next byte to the mouse */
    kbc_wait_write();
    outb(KBC_DATA, 0xf4);           /* enable reporting */
    u8 ack = kbc_read(&aux);
    CHECK_EQ(ack, 0xfa);
    CHECK_EQ(aux, 1);
    printf("ready\n");
    for (;;) {
        u8 b = kbc_read(&aux);
        printf("%c %02x\n", aux ? 'm' : 'k', b);
        if (!aux && b == 0x90)
            break;
    }
    rt_exit(0);
}
