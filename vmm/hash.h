/* Small non-cryptographic hashing helpers shared by digests and logs. */
#ifndef TANDEM_HASH_H
#define TANDEM_HASH_H

#include <stdint.h>
#include <string.h>

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

/* Word-at-a-time hash of guest memory (fast enough for 1 GiB at start-up
 * and at the end of a recording). */
static inline uint64_t tn_hash_bytes(const uint8_t *p, uint64_t len, uint64_t h)
{
    uint64_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        h = (h ^ w) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
    }
    for (; i < len; i++)
        h = (h ^ p[i]) * 0x100000001b3ull;
    return tn_mix64(h ^ len);
}

#endif
