/* The part of QEMU's TCG plugin C API (API version 1, QEMU 7.x) that
 * qemu_count_plugin.c uses, declared from the documented function names
 * and signatures (docs/devel/tcg-plugins.rst of QEMU).  Debian ships no
 * qemu-plugin.h, so these are our own declarations; the symbols are
 * resolved against the qemu-system binary when it dlopen()s the plugin.
 * Only what this plugin calls is declared. */
#ifndef TANDEM_QEMU_PLUGIN_API_H
#define TANDEM_QEMU_PLUGIN_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TQP_EXPORT __attribute__((visibility("default")))

/* A plugin's handle, passed to the registration functions. */
typedef uint64_t qemu_plugin_id_t;

/* What qemu_plugin_install() is told about the emulator. */
typedef struct {
    const char *target_name;            /* "x86_64" */
    struct {
        int min;                        /* oldest API version supported */
        int cur;                        /* current API version */
    } version;
    bool system_emulation;
    union {
        struct {
            int smp_vcpus;
            int max_vcpus;
        } system;
    };
} qemu_info_t;

/* Opaque handles valid only inside the translation callback. */
struct qemu_plugin_tb;
struct qemu_plugin_insn;

/* How much CPU state an exec callback may touch (we touch none). */
enum qemu_plugin_cb_flags {
    QEMU_PLUGIN_CB_NO_REGS,
    QEMU_PLUGIN_CB_R_REGS,
    QEMU_PLUGIN_CB_RW_REGS,
};

/* Inline operations (done by generated code, no call). */
enum qemu_plugin_op {
    QEMU_PLUGIN_INLINE_ADD_U64,
};

typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);

/* Translation: called once per translated block (TB). */
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);

/* Execution: cb runs each time the instruction is about to execute. */
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
                                            qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn,
                                                enum qemu_plugin_op op, void *ptr, uint64_t imm);

/* Memory accesses: cb runs after each access of the instruction that
 * completes (an access that faults does not call it). */
typedef uint32_t qemu_plugin_meminfo_t;
enum qemu_plugin_mem_rw {
    QEMU_PLUGIN_MEM_R = 1,
    QEMU_PLUGIN_MEM_W,
    QEMU_PLUGIN_MEM_RW,
};
typedef void (*qemu_plugin_vcpu_mem_cb_t)(unsigned int vcpu_index, qemu_plugin_meminfo_t info,
                                          uint64_t vaddr, void *userdata);
void qemu_plugin_register_vcpu_mem_cb(struct qemu_plugin_insn *insn,
                                      qemu_plugin_vcpu_mem_cb_t cb,
                                      enum qemu_plugin_cb_flags flags,
                                      enum qemu_plugin_mem_rw rw, void *userdata);

/* Called when QEMU exits (also through exit(), e.g. isa-debug-exit). */
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

/* Writes to QEMU's log (stderr unless -D). */
void qemu_plugin_outs(const char *string);

/* What the plugin exports. */
extern TQP_EXPORT int qemu_plugin_version;
TQP_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                   int argc, char **argv);

#endif
