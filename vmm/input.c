/* Host keyboard and mouse input (vmm/input.h). */
#include "vmm/input.h"

#include "rr/rr.h"
#include "vmm/error.h"
#include "vmm/keymap.h"
#include "vmm/machine.h"

typedef struct InputState InputState;

struct InputState {
    const InputOps *ops;
    void *opaque;
    Machine *m;
    unsigned buttons;            /* mouse buttons down (mouse_button) */
    int held[KEYMAP_MAX_KEYS];   /* sendkey's keys, released by release_timer */
    int nheld;
    /* Virtual time at which the held keys go up (INT64_MAX: none).  Not a
     * guest timer: the release is host input like the press, logged where
     * the main loop's input_poll finds it due. */
    int64_t release_at;
};

static void release_held(InputState *s)
{
    s->release_at = INT64_MAX;
    while (s->nheld > 0)
        rr_input_key(s->m, s->held[--s->nheld], false);
}

void input_poll(Machine *m)
{
    InputState *s = m->input;
    if (s && s->nheld && machine_ns(m) >= s->release_at)
        release_held(s);
}

int64_t input_deadline(const Machine *m)
{
    return m->input && m->input->nheld ? m->input->release_at : INT64_MAX;
}

void input_register(Machine *m, const InputOps *ops, void *opaque)
{
    InputState *s = g_new0(InputState, 1);
    s->ops = ops;
    s->opaque = opaque;
    s->m = m;
    s->release_at = INT64_MAX;
    machine_keep(m, s);
    m->input = s;
}

bool input_deliver_key(Machine *m, int keycode, bool down)
{
    if (!m->input || !m->input->ops->key)
        return false;
    m->input->ops->key(m->input->opaque, keycode, down);
    return true;
}

bool input_deliver_mouse(Machine *m, int dx, int dy, int dz, unsigned buttons)
{
    if (!m->input || !m->input->ops->mouse)
        return false;
    m->input->ops->mouse(m->input->opaque, dx, dy, dz, buttons);
    return true;
}

/* The commands are host input: refused in replay, where the log has it. */
static bool input_allowed(Machine *m, bool mouse, GError **err)
{
    if (m->rr_mode == RR_MODE_REPLAY) {
        tn_error(err, "replaying: input comes from the recording");
        return false;
    }
    if (!m->input || !(mouse ? m->input->ops->mouse != NULL : m->input->ops->key != NULL)) {
        tn_error(err, "this machine has no %s", mouse ? "mouse" : "keyboard");
        return false;
    }
    return true;
}

bool input_sendkey(Machine *m, const char *keys, long hold_ms, GError **err)
{
    int codes[KEYMAP_MAX_KEYS];
    if (!input_allowed(m, false, err))
        return false;
    int n = keymap_parse(keys, codes, KEYMAP_MAX_KEYS, err);
    if (n < 0)
        return false;
    if (hold_ms <= 0 || hold_ms > 60000) {
        tn_error(err, "hold time %ld ms is out of range (1..60000)", hold_ms);
        return false;
    }
    InputState *s = m->input;
    release_held(s);
    for (int i = 0; i < n; i++) {
        rr_input_key(m, codes[i], true);
        s->held[s->nheld++] = codes[i];
    }
    s->release_at = machine_ns(m) + hold_ms * 1000000;
    return true;
}

bool input_mouse_move(Machine *m, int dx, int dy, int dz, GError **err)
{
    if (!input_allowed(m, true, err))
        return false;
    rr_input_mouse(m, dx, dy, dz, m->input->buttons);
    return true;
}

bool input_mouse_button(Machine *m, unsigned state, GError **err)
{
    if (!input_allowed(m, true, err))
        return false;
    if (state > 7) {
        tn_error(err, "mouse_button: state %u is not a mask of 1 (left), 2 (right) and "
                 "4 (middle)", state);
        return false;
    }
    m->input->buttons = state;
    rr_input_mouse(m, 0, 0, 0, state);
    return true;
}
