/* The RISC-V guest ISAs and their boards. */
#include "vmm/target.h"
#include "targets/riscv/virt.h"

static const BoardDesc *const riscv_boards[] = { &riscv_virt_board, NULL };

const TargetDesc riscv64_target = {
    .arch = "riscv64", .variant = 64, .default_cpu = "rv64", .boards = riscv_boards,
};

const TargetDesc riscv32_target = {
    .arch = "riscv32", .variant = 32, .default_cpu = "rv32", .boards = riscv_boards,
};
