/* Small non-cryptographic hashing helpers shared by digests and logs. */
#ifndef TANDEM_HASH_H
#define TANDEM_HASH_H

#include <stdint.h>

/* The 64-bit finalizer of MurmurHash3: every input bit reaches every
 * output bit. */
static inline uint64_t tn_mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

static inline uint64_t tn_rotl64(uint64_t v, int r)
{
    return v << r | v >> (64 - r);
}

/* Digest of a CPU's position registers (record/replay): xxhash64-style
 * rounds over pc and regs[0..n), then the finalizer.  Every target's
 * CpuOps.digest is this over its PC and general registers. */
static inline uint64_t tn_reg_digest(uint64_t pc, const uint64_t *regs, unsigned n)
{
    const uint64_t p1 = 0x9e3779b185ebca87ull, p2 = 0xc2b2ae3d27d4eb4full;
    uint64_t h = 0x27d4eb2f165667c5ull;
    h = tn_rotl64(h ^ (pc * p2), 31) * p1;
    for (unsigned i = 0; i < n; i++)
        h = tn_rotl64(h ^ (regs[i] * p2), 31) * p1;
    return tn_mix64(h);
}

#endif
