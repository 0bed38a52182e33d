/* Intel 8042 keyboard controller.
 *
 * Bytes written to the controller are taken at once, so the input buffer
 * is never full (status IBF reads 0).  The output buffer holds one byte;
 * when it is empty the controller loads the next one: a reply of its own
 * first, then the keyboard's (translated to set 1 when command byte bit 6
 * is set), then the mouse's, each only while that port's clock is enabled.
 * No timeouts or parity errors ever happen: both devices are always there.
 *
 * Power-on values are those firmware and kernels expect of an emulated PC:
 * command byte 0x03 (both interrupts on, no translation until the BIOS
 * sets it), output port 0xcf (reset line inactive, A20 on). */
#include "devices/i8042.h"

#include <glib.h>
#include <string.h>

#include "devices/devsnap.h"
#include "vmm/machine.h"
#include "vmm/memory.h"

/* Status register. */
#define ST_OBF   0x01           /* output buffer full */
#define ST_IBF   0x02           /* input buffer full (never) */
#define ST_SYS   0x04           /* system flag (command byte bit 2) */
#define ST_A2    0x08           /* last write was to the command port */
#define ST_INH   0x10           /* 1: keyboard not inhibited */
#define ST_AUXB  0x20           /* the output buffer holds mouse data */

/* Command byte (controller RAM byte 0). */
#define CB_KBD_INT   0x01
#define CB_AUX_INT   0x02
#define CB_SYS       0x04
#define CB_KBD_OFF   0x10       /* keyboard clock disabled */
#define CB_AUX_OFF   0x20       /* aux clock disabled */
#define CB_XLAT      0x40

/* Output port. */
#define OP_RESET     0x01       /* 0: the CPU's reset line is asserted */
#define OP_A20       0x02
#define OP_KBD_OBF   0x10
#define OP_AUX_OBF   0x20

#define CB_POWER_ON  (CB_KBD_INT | CB_AUX_INT)
#define OP_POWER_ON  0xcf
#define INPUT_PORT   0x80       /* keyboard not inhibited */

#define RAM_SIZE     32
#define CTRL_QUEUE   4          /* controller replies waiting for the buffer */
#define FROM_AUX     0x100

struct I8042 {
    Machine *m;
    IrqLine kbd_irq, aux_irq;
    Ps2Kbd *kbd;
    Ps2Mouse *mouse;
    void (*a20)(void *opaque, bool on);
    void *a20_opaque;

    uint8_t ram[RAM_SIZE];      /* ram[0] is the command byte */
    uint8_t outport;
    uint8_t pending;            /* command waiting for a data byte, or 0 */
    bool a2;
    bool obf, obf_aux;
    uint8_t obuf;
    uint16_t ctrlq[CTRL_QUEUE]; /* byte | FROM_AUX */
    unsigned ctrl_n;
    bool xlat_brk;              /* translation saw an F0 prefix */
    int kbd_level, aux_level;
};

static void update_irq(I8042 *s)
{
    int kbd = s->obf && !s->obf_aux && (s->ram[0] & CB_KBD_INT);
    int aux = s->obf && s->obf_aux && (s->ram[0] & CB_AUX_INT);
    if (kbd != s->kbd_level) {
        s->kbd_level = kbd;
        irq_set(&s->kbd_irq, kbd);
    }
    if (aux != s->aux_level) {
        s->aux_level = aux;
        irq_set(&s->aux_irq, aux);
    }
}

/* Loads the output buffer if it is empty and someone has a byte. */
static void fill(I8042 *s)
{
    if (s->obf)
        goto out;
    if (s->ctrl_n) {
        uint16_t e = s->ctrlq[0];
        s->ctrl_n--;
        for (unsigned i = 0; i < s->ctrl_n; i++)
            s->ctrlq[i] = s->ctrlq[i + 1];
        s->obuf = (uint8_t)e;
        s->obf_aux = e & FROM_AUX;
        s->obf = true;
        goto out;
    }
    if (!(s->ram[0] & CB_KBD_OFF)) {
        int b;
        while ((b = ps2_kbd_read(s->kbd)) >= 0) {
            if (s->ram[0] & CB_XLAT) {
                b = ps2_translate(&s->xlat_brk, (uint8_t)b);
                if (b < 0)
                    continue;   /* F0 folds into the next byte */
            }
            s->obuf = (uint8_t)b;
            s->obf_aux = false;
            s->obf = true;
            goto out;
        }
    }
    if (!(s->ram[0] & CB_AUX_OFF)) {
        int b = ps2_mouse_read(s->mouse);
        if (b >= 0) {
            s->obuf = (uint8_t)b;
            s->obf_aux = true;
            s->obf = true;
        }
    }
out:
    update_irq(s);
}

static void ps2_ready(void *opaque)
{
    fill(opaque);
}

/* A reply from the controller itself (or a byte written with D2/D3). */
static void reply(I8042 *s, uint16_t e)
{
    if (s->ctrl_n < CTRL_QUEUE)
        s->ctrlq[s->ctrl_n++] = e;
    fill(s);
}

static void set_a20(I8042 *s, bool on)
{
    if (s->a20)
        s->a20(s->a20_opaque, on);
}

static void write_outport(I8042 *s, uint8_t v)
{
    uint8_t old = s->outport;
    s->outport = v;
    if ((old ^ v) & OP_A20)
        set_a20(s, v & OP_A20);
    if (!(v & OP_RESET))
        machine_request_reset(s->m);
}

static uint8_t read_outport(const I8042 *s)
{
    uint8_t v = s->outport & ~(OP_KBD_OBF | OP_AUX_OBF);
    if (s->obf)
        v |= s->obf_aux ? OP_AUX_OBF : OP_KBD_OBF;
    return v;
}

static void write_command_byte(I8042 *s, uint8_t v)
{
    if (!(v & CB_XLAT))
        s->xlat_brk = false;
    s->ram[0] = v;
    fill(s);
}

static void command(I8042 *s, uint8_t c)
{
    s->pending = 0;
    if (c >= 0x20 && c < 0x40) {            /* read controller RAM */
        reply(s, s->ram[c & 0x1f]);
        return;
    }
    if (c >= 0x60 && c < 0x80) {            /* write controller RAM */
        s->pending = c;
        return;
    }
    if (c >= 0xf0) {
        /* Pulse the output port bits whose bit is 0 in the low nibble;
         * only the reset line's pulse has an effect. */
        if (!(c & OP_RESET))
            machine_request_reset(s->m);
        return;
    }
    switch (c) {
    case 0xa4:                  /* password installed? no */
        reply(s, 0xf1);
        break;
    case 0xa7:                  /* disable aux */
        write_command_byte(s, s->ram[0] | CB_AUX_OFF);
        break;
    case 0xa8:                  /* enable aux */
        write_command_byte(s, s->ram[0] & ~CB_AUX_OFF);
        break;
    case 0xa9:                  /* aux interface test: no error */
    case 0xab:                  /* keyboard interface test: no error */
        reply(s, 0x00);
        break;
    case 0xaa:                  /* self test passed */
        reply(s, 0x55);
        break;
    case 0xad:                  /* disable keyboard */
        write_command_byte(s, s->ram[0] | CB_KBD_OFF);
        break;
    case 0xae:                  /* enable keyboard */
        write_command_byte(s, s->ram[0] & ~CB_KBD_OFF);
        break;
    case 0xc0:                  /* read input port */
        reply(s, INPUT_PORT);
        break;
    case 0xd0:                  /* read output port */
        reply(s, read_outport(s));
        break;
    case 0xd1:                  /* write output port */
    case 0xd2:                  /* write keyboard output buffer */
    case 0xd3:                  /* write aux output buffer */
    case 0xd4:                  /* write to the mouse */
        s->pending = c;
        break;
    case 0xdd:                  /* A20 off (later controllers) */
    case 0xdf:                  /* A20 on */
        write_outport(s, (uint8_t)((s->outport & ~OP_A20) | (c == 0xdf ? OP_A20 : 0)));
        break;
    case 0xe0:                  /* read test inputs: clock and data low */
        reply(s, 0x00);
        break;
    default:                    /* vendor commands (A1, A5, C1, ...): ignored */
        break;
    }
}

static void data(I8042 *s, uint8_t v)
{
    uint8_t c = s->pending;
    s->pending = 0;
    switch (c) {
    case 0:
        /* To the keyboard; sending it a byte enables its clock again. */
        s->ram[0] &= ~CB_KBD_OFF;
        ps2_kbd_write(s->kbd, v);
        fill(s);
        break;
    case 0xd1:
        write_outport(s, v);
        break;
    case 0xd2:
        reply(s, v);
        break;
    case 0xd3:
        reply(s, FROM_AUX | v);
        break;
    case 0xd4:
        s->ram[0] &= ~CB_AUX_OFF;
        ps2_mouse_write(s->mouse, v);
        fill(s);
        break;
    default:                    /* 0x60-0x7f: write controller RAM */
        if ((c & 0x1f) == 0)
            write_command_byte(s, v);
        else
            s->ram[c & 0x1f] = v;
        break;
    }
}

static uint8_t read_data(I8042 *s)
{
    uint8_t v = s->obuf;
    if (s->obf) {
        s->obf = false;
        /* Drop the line first: the next byte makes a new edge. */
        update_irq(s);
        fill(s);
    }
    return v;
}

static uint8_t read_status(const I8042 *s)
{
    uint8_t v = ST_INH;
    if (s->obf)
        v |= ST_OBF | (s->obf_aux ? ST_AUXB : 0);
    if (s->ram[0] & CB_SYS)
        v |= ST_SYS;
    if (s->a2)
        v |= ST_A2;
    return v;
}

static uint64_t data_read(void *opaque, uint64_t off, unsigned size)
{
    return read_data(opaque);
}

static void data_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    I8042 *s = opaque;
    s->a2 = false;
    data(s, (uint8_t)val);
}

static uint64_t cmd_read(void *opaque, uint64_t off, unsigned size)
{
    return read_status(opaque);
}

static void cmd_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    I8042 *s = opaque;
    s->a2 = true;
    command(s, (uint8_t)val);
}

static const MemOps i8042_data_ops = {
    .name = "i8042-data",
    .read = data_read,
    .write = data_write,
    .min_access = 1,
    .max_access = 1,
};

static const MemOps i8042_cmd_ops = {
    .name = "i8042-cmd",
    .read = cmd_read,
    .write = cmd_write,
    .min_access = 1,
    .max_access = 1,
};

static void i8042_reset(void *dev)
{
    I8042 *s = dev;
    ps2_kbd_reset(s->kbd);
    ps2_mouse_reset(s->mouse);
    memset(s->ram, 0, sizeof(s->ram));
    s->ram[0] = CB_POWER_ON;
    s->outport = OP_POWER_ON;
    s->pending = 0;
    s->a2 = true;
    s->obf = s->obf_aux = false;
    s->obuf = 0;
    s->ctrl_n = 0;
    s->xlat_brk = false;
    update_irq(s);
    set_a20(s, true);
}

static void i8042_destroy(void *dev)
{
    I8042 *s = dev;
    ps2_kbd_free(s->kbd);
    ps2_mouse_free(s->mouse);
    g_free(s);
}

/* ---- snapshots ---- */

#define SNAP_VERSION 1

static int i8042_save(void *dev, void *wp)
{
    I8042 *s = dev;
    SnapWriter *w = wp;
    snap_put_u8(w, SNAP_VERSION);
    snap_put_bytes(w, s->ram, sizeof(s->ram));
    snap_put_u8(w, s->outport);
    snap_put_u8(w, s->pending);
    snap_put_bool(w, s->a2);
    snap_put_bool(w, s->obf);
    snap_put_bool(w, s->obf_aux);
    snap_put_u8(w, s->obuf);
    for (unsigned i = 0; i < CTRL_QUEUE; i++)
        snap_put_u16(w, s->ctrlq[i]);
    snap_put_u64(w, s->ctrl_n);
    snap_put_bool(w, s->xlat_brk);
    snap_put_bool(w, s->kbd_level);
    snap_put_bool(w, s->aux_level);
    ps2_kbd_save(s->kbd, w);
    ps2_mouse_save(s->mouse, w);
    return 0;
}

/* The A20 gate is board state derived from the output port: the board's
 * callback hears the loaded value, as it does at reset. */
static int i8042_load(void *dev, void *rp)
{
    I8042 *s = dev;
    SnapReader *r = rp;
    if (!devsnap_version(r, SNAP_VERSION, "i8042"))
        return -1;
    I8042 t = *s;
    snap_get_bytes(r, t.ram, sizeof(t.ram));
    t.outport = snap_get_u8(r);
    t.pending = snap_get_u8(r);
    t.a2 = snap_get_bool(r);
    t.obf = snap_get_bool(r);
    t.obf_aux = snap_get_bool(r);
    t.obuf = snap_get_u8(r);
    for (unsigned i = 0; i < CTRL_QUEUE; i++)
        t.ctrlq[i] = (uint16_t)devsnap_check_mask(r, snap_get_u16(r), FROM_AUX | 0xff,
                                                  "i8042 reply queue entry");
    t.ctrl_n = (unsigned)snap_get_max(r, CTRL_QUEUE, "i8042 reply queue length");
    t.xlat_brk = snap_get_bool(r);
    t.kbd_level = snap_get_bool(r);
    t.aux_level = snap_get_bool(r);
    if (!snap_reader_ok(r) || !ps2_kbd_load(s->kbd, r) || !ps2_mouse_load(s->mouse, r))
        return -1;
    *s = t;
    set_a20(s, s->outport & OP_A20);
    return 0;
}

static const DeviceOps i8042_device_ops = {
    .name = "i8042",
    .reset = i8042_reset,
    .save = i8042_save,
    .load = i8042_load,
    .destroy = i8042_destroy,
};

I8042 *i8042_create(Machine *m, AddressSpace *io, IrqLine kbd_irq, IrqLine aux_irq)
{
    /* Both ports or neither: a region cannot be taken back. */
    if (as_find(io, I8042_DATA_PORT) || as_find(io, I8042_CMD_PORT) ||
        io->nregions + 2 > AS_MAX_REGIONS) {
        machine_set_error(m, "i8042: cannot map ports 0x%x and 0x%x (taken, or no room)",
                          I8042_DATA_PORT, I8042_CMD_PORT);
        return NULL;
    }
    I8042 *s = g_new0(I8042, 1);
    s->m = m;
    s->kbd_irq = kbd_irq;
    s->aux_irq = aux_irq;
    s->kbd = ps2_kbd_new(ps2_ready, s);
    s->mouse = ps2_mouse_new(ps2_ready, s);
    i8042_reset(s);

    int err = as_add_mmio(io, "i8042", I8042_DATA_PORT, 1, &i8042_data_ops, s);
    if (!err)
        err = as_add_mmio(io, "i8042", I8042_CMD_PORT, 1, &i8042_cmd_ops, s);
    /* Registered even on (unexpected) failure: a mapped region may point
     * at s, which must live as long as the machine. */
    machine_add_device(m, &i8042_device_ops, s);
    if (err) {
        machine_set_error(m, "i8042: cannot map ports: %s", g_strerror(-err));
        return NULL;
    }
    return s;
}

void i8042_set_a20(I8042 *s, void (*a20)(void *opaque, bool on), void *opaque)
{
    s->a20 = a20;
    s->a20_opaque = opaque;
}

bool i8042_a20(const I8042 *s)
{
    return s->outport & OP_A20;
}

Ps2Kbd *i8042_kbd(I8042 *s)
{
    return s->kbd;
}

Ps2Mouse *i8042_mouse(I8042 *s)
{
    return s->mouse;
}
