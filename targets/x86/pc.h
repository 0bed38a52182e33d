/* The x86 PC board (modelled on QEMU's i440FX "pc"). */
#ifndef TANDEM_X86_PC_H
#define TANDEM_X86_PC_H

#include "vmm/target.h"

extern const BoardDesc x86_pc_board;

#endif
