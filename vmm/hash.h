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

#endif
