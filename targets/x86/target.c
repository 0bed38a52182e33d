/* The x86 guest ISAs and their boards. */
#include "vmm/target.h"
#include "targets/x86/pc.h"

static const BoardDesc *const x86_boards[] = { &x86_pc_board, NULL };

const TargetDesc x86_64_target = {
    .arch = "x86_64", .variant = 64, .default_cpu = "tandem", .boards = x86_boards,
};

const TargetDesc i386_target = {
    .arch = "i386", .variant = 32, .default_cpu = "tandem", .boards = x86_boards,
};
