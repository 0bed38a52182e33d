/* The gdb stub: GDB's remote serial protocol on a TCP socket (-gdb, -s).
 *
 * No thread: the listening and client sockets are polled by the main loop
 * with the other host inputs, and the stub tells the loop whether the CPU
 * may run (gdbstub_holds), how far (gdbstub_budget), and looks at every
 * return of the CPU (gdbstub_cpu_stopped).  Every function accepts a NULL
 * stub (no -gdb) and then does nothing. */
#ifndef TANDEM_GDBSTUB_H
#define TANDEM_GDBSTUB_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

#include "vmm/machine.h"

typedef struct GdbStub GdbStub;
struct pollfd;

/* Sockets the stub may ask the main loop to poll at most. */
enum { GDBSTUB_MAX_FDS = 2 };

/* Check a -gdb device spec: "tcp::PORT", "tcp:HOST:PORT" (QEMU's
 * spelling; also ":PORT").  On success *host (may be NULL: every
 * interface; free with g_free) and *port. */
bool gdbstub_parse_spec(const char *spec, char **host, int *port, GError **err);

/* Listen on spec.  start_stopped (-S): the CPU waits for the debugger's
 * first continue or step. */
GdbStub *gdbstub_create(Machine *m, const char *spec, bool start_stopped, GError **err);
void gdbstub_destroy(GdbStub *g);

/* Main-loop hooks. */
int gdbstub_poll_fds(GdbStub *g, struct pollfd *pfd, int max);
/* Handle what poll reported on one of those fds; true if the run state
 * changed (the CPU was stopped or resumed). */
bool gdbstub_service(GdbStub *g, const struct pollfd *pfd);
/* The debugger has the CPU stopped: the loop must not run it. */
bool gdbstub_holds(const GdbStub *g);
/* The most instructions the next run may retire (1 while stepping). */
uint64_t gdbstub_budget(const GdbStub *g, uint64_t budget);
/* After every CpuOps.run: a breakpoint, watchpoint or finished step stops
 * the CPU and sends the stop reply. */
void gdbstub_cpu_stopped(GdbStub *g, CpuExit ex);
/* The machine is ending: tell the debugger (W/X) and close. */
void gdbstub_machine_exit(GdbStub *g);

#endif
