/* SiFive test finisher: lets a guest power off, fail with an exit code, or
 * reset the machine. */
#ifndef TANDEM_SIFIVE_TEST_H
#define TANDEM_SIFIVE_TEST_H

#include <stdint.h>

typedef struct Machine Machine;
typedef struct SifiveTest SifiveTest;

#define SIFIVE_TEST_MMIO_SIZE 0x1000

/* Status word written at offset 0: low 16 bits the command, high 16 bits
 * the exit code for FAIL. */
#define SIFIVE_TEST_FAIL  0x3333
#define SIFIVE_TEST_PASS  0x5555
#define SIFIVE_TEST_RESET 0x7777

/* Returns NULL (machine_set_error) on failure. */
SifiveTest *sifive_test_create(Machine *m, uint64_t base);

#endif
