/* The human monitor (HMP subset): lines typed on the monitor chardev. */
#ifndef TANDEM_MONITOR_H
#define TANDEM_MONITOR_H

#include <stddef.h>
#include <stdint.h>

typedef struct Machine Machine;

/* Execute one command line; output goes to the monitor chardev. */
void monitor_command(Machine *m, const char *line);
void monitor_prompt(Machine *m);

/* Chardev callbacks (opaque = Machine). */
void monitor_input_cb(void *opaque, const uint8_t *buf, size_t len);
int monitor_can_receive_cb(void *opaque);
void monitor_receive_cb(void *opaque, const uint8_t *buf, size_t len);

#endif
