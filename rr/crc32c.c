/* CRC-32C (Castagnoli), the checksum of the log's header, frames and index.
 * Slicing-by-8 in software; the SSE4.2 instruction where the host has it. */
#include "rr/log.h"

#include <string.h>

#define CRC32C_POLY 0x82f63b78u    /* reflected 0x1edc6f41 */

static uint32_t crc_tab[8][256];

static void crc_tab_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (CRC32C_POLY & -(c & 1));
        crc_tab[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            crc_tab[t][i] = (crc_tab[t - 1][i] >> 8) ^ crc_tab[0][crc_tab[t - 1][i] & 0xff];
}

static uint32_t crc_sw(uint32_t c, const uint8_t *p, size_t len)
{
    while (len && ((uintptr_t)p & 7)) {
        c = (c >> 8) ^ crc_tab[0][(c ^ *p++) & 0xff];
        len--;
    }
    while (len >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
        lo = GUINT32_FROM_LE(lo) ^ c;
        hi = GUINT32_FROM_LE(hi);
        c = crc_tab[7][lo & 0xff] ^ crc_tab[6][(lo >> 8) & 0xff] ^
            crc_tab[5][(lo >> 16) & 0xff] ^ crc_tab[4][lo >> 24] ^
            crc_tab[3][hi & 0xff] ^ crc_tab[2][(hi >> 8) & 0xff] ^
            crc_tab[1][(hi >> 16) & 0xff] ^ crc_tab[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        c = (c >> 8) ^ crc_tab[0][(c ^ *p++) & 0xff];
    return c;
}

#if defined(__x86_64__)
#include <nmmintrin.h>

__attribute__((target("sse4.2")))
static uint32_t crc_hw(uint32_t c, const uint8_t *p, size_t len)
{
    uint64_t c64 = c;
    while (len && ((uintptr_t)p & 7)) {
        c64 = _mm_crc32_u8((uint32_t)c64, *p++);
        len--;
    }
    while (len >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c64 = _mm_crc32_u64(c64, v);
        p += 8;
        len -= 8;
    }
    while (len--)
        c64 = _mm_crc32_u8((uint32_t)c64, *p++);
    return (uint32_t)c64;
}
#endif

enum { CRC_SW = 1, CRC_HW = 2 };

static int crc_impl(void)
{
    static gsize impl;
    if (g_once_init_enter(&impl)) {
        gsize which = CRC_SW;
#if defined(__x86_64__)
        if (__builtin_cpu_supports("sse4.2"))
            which = CRC_HW;
#endif
        if (which == CRC_SW)
            crc_tab_init();
        g_once_init_leave(&impl, which);
    }
    return (int)impl;
}

uint32_t rr_crc32c(uint32_t crc, const void *buf, size_t len)
{
    uint32_t c = ~crc;
#if defined(__x86_64__)
    if (crc_impl() == CRC_HW)
        return ~crc_hw(c, buf, len);
#else
    crc_impl();
#endif
    return ~crc_sw(c, buf, len);
}
