/* What the devices' DeviceOps.save/load share on top of the state stream
 * (checkpoint/snap.h).
 *
 * Every device's state starts with a u8 layout version.  A load reads its
 * fields into a copy of the device, checks them (the stream may be corrupt
 * or hostile: an index, count or length that addresses an array is range
 * checked before it is stored), re-arms its timers last and only then
 * installs the copy, so a rejected stream leaves the registers as they
 * were.  Loads set raw state: no interrupt line moves, no backend is
 * touched; host-side state derived from registers (mappings, board
 * callbacks that re-derive the memory map) is re-derived. */
#ifndef TANDEM_DEVSNAP_H
#define TANDEM_DEVSNAP_H

#include <stdbool.h>
#include <stdint.h>

#include "checkpoint/snap.h"

/* False (the reader failed, naming dev) unless the stream starts with
 * version. */
static inline bool devsnap_version(SnapReader *r, uint8_t version, const char *dev)
{
    uint8_t v = snap_get_u8(r);
    if (snap_reader_ok(r) && v != version)
        snap_reader_fail(r, "%s state layout version %u (this build reads %u)", dev, v,
                         version);
    return snap_reader_ok(r);
}

/* A value stored with snap_put_u64 that must lie in [lo, hi]; lo when not. */
static inline uint64_t devsnap_get_range(SnapReader *r, uint64_t lo, uint64_t hi,
                                         const char *field)
{
    uint64_t v = snap_get_max(r, hi, field);
    if (!snap_reader_ok(r))
        return lo;
    if (v < lo) {
        snap_reader_fail(r, "%s is %llu, at least %llu required", field,
                         (unsigned long long)v, (unsigned long long)lo);
        return lo;
    }
    return v;
}

/* Fails the reader when v has bits outside mask; returns v & mask. */
static inline uint64_t devsnap_check_mask(SnapReader *r, uint64_t v, uint64_t mask,
                                          const char *field)
{
    if (snap_reader_ok(r) && (v & ~mask))
        snap_reader_fail(r, "%s is 0x%llx: bits outside 0x%llx are set", field,
                         (unsigned long long)v, (unsigned long long)mask);
    return v & mask;
}

/* A cross-field check: fails the reader naming what when ok is false;
 * returns ok. */
static inline bool devsnap_require(SnapReader *r, bool ok, const char *what)
{
    if (!ok && snap_reader_ok(r))
        snap_reader_fail(r, "inconsistent state: %s", what);
    return ok;
}

#endif
