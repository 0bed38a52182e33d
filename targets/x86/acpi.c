/* ACPI tables for the pc board, laid out from the ACPI specification
 * (version 1.0 table formats, which every Linux and the firmware of QEMU's
 * pc use):
 *
 *   RSDP -> RSDT -> FACP (FADT) -> FACS, DSDT
 *                -> APIC (MADT)
 *
 * The FADT points at the PIIX4 PM register block (devices/piix4_pm.c) with
 * SMI_CMD = 0, so ACPI mode is on from the start.  The DSDT holds the \_S5
 * soft-off package (SLP_TYP 0, as the PIIX4 takes it) and the PCI root
 * bridge \_SB.PCI0 (PNP0A03, no _CRS or _PRT: Linux then scans bus 0 with
 * its default windows, which finds the PIIX3 IDE function; its channels
 * are in legacy mode on IRQ 14/15, outside PCI routing).  The MADT lists
 * one local APIC, the I/O APIC with GSI base 0, the ISA overrides QEMU's pc
 * gives (IRQ 0 on GSI 2; the SCI and the PCI-routed IRQs 5, 9, 10, 11
 * level-triggered, active high) and the LINT1 NMI. */
#include "targets/x86/acpi.h"

#include <glib.h>
#include <string.h>

#include "vmm/memory.h"

#define HDR_LEN 36

typedef struct {
    uint8_t *buf;
    uint32_t addr;      /* guest address of buf[0] */
    size_t len;
} Tables;

static void put(uint8_t *p, unsigned size, uint64_t v)
{
    mem_store_le(p, size, v);
}

static uint8_t checksum(const uint8_t *p, size_t n)
{
    uint8_t s = 0;
    for (size_t i = 0; i < n; i++)
        s = (uint8_t)(s + p[i]);
    return (uint8_t)-s;
}

/* Start a table at the next `align` boundary; returns its offset. */
static size_t table_begin(Tables *t, const char *sig, unsigned align, uint8_t rev)
{
    t->len = (t->len + align - 1) & ~(size_t)(align - 1);
    size_t off = t->len;
    uint8_t *h = t->buf + off;
    memcpy(h, sig, 4);
    h[8] = rev;
    memcpy(h + 10, "TANDEM", 6);
    memcpy(h + 16, "TANDEMPC", 8);
    put(h + 24, 4, 1);              /* OEM revision */
    memcpy(h + 28, "TNDM", 4);      /* creator */
    put(h + 32, 4, 1);
    t->len += HDR_LEN;
    return off;
}

static void table_end(Tables *t, size_t off)
{
    uint8_t *h = t->buf + off;
    put(h + 4, 4, t->len - off);
    h[9] = 0;
    h[9] = checksum(h, t->len - off);
}

static uint8_t *grow(Tables *t, size_t n)
{
    uint8_t *p = t->buf + t->len;
    t->len += n;
    return p;
}

static uint32_t gaddr(const Tables *t, size_t off)
{
    return t->addr + (uint32_t)off;
}

/* Puts the AML PkgLength of the bytes from start to the end at start
 * (1 or 2 bytes: packages here stay under 4 KiB). */
static void aml_pkg_close(GByteArray *a, guint start)
{
    guint body = a->len - start;
    guint n = body + 1 < 64 ? 1 : 2, len = body + n;
    g_assert(len < 4096);
    uint8_t h[2] = { (uint8_t)(n == 1 ? len : 0x40 | (len & 0xf)), (uint8_t)(len >> 4) };
    g_byte_array_set_size(a, a->len + n);
    memmove(a->data + start + n, a->data + start, body);
    memcpy(a->data + start, h, n);
}

static size_t build_dsdt(Tables *t)
{
    size_t off = table_begin(t, "DSDT", 16, 1);
    /* Name (_S5, Package (4) { 0, 0, 0, 0 }) */
    static const uint8_t aml[] = {
        0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00,
    };
    memcpy(grow(t, sizeof(aml)), aml, sizeof(aml));
    /* Scope (\_SB) { Device (PCI0) { Name (_HID, EisaId ("PNP0A03"))
     *   Name (_ADR, 0)  Name (_UID, 0)  Name (_CRS, ResourceTemplate () {
     *   buses 0-255, the config ports, I/O 0-0xcf7 and 0xd00-0xffff, the
     *   VGA window and the PCI hole 0xe0000000-0xfebfffff }) } } */
    static const uint8_t crs[] = {
        0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00, 0, 0, 0x00, 0x00, 0xff, 0x00, 0, 0, 0x00, 0x01,
        0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c, 0x01, 0x08,
        0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0, 0, 0x00, 0x00, 0xf7, 0x0c, 0, 0, 0xf8, 0x0c,
        0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03, 0, 0, 0x00, 0x0d, 0xff, 0xff, 0, 0, 0x00, 0xf3,
        0x87, 0x17, 0x00, 0x00, 0x0c, 0x03, 0, 0, 0, 0, 0x00, 0x00, 0x0a, 0x00,
        0xff, 0xff, 0x0b, 0x00, 0, 0, 0, 0, 0x00, 0x00, 0x02, 0x00,
        0x87, 0x17, 0x00, 0x00, 0x0c, 0x03, 0, 0, 0, 0, 0x00, 0x00, 0x00, 0xe0,
        0xff, 0xff, 0xbf, 0xfe, 0, 0, 0, 0, 0x00, 0x00, 0xc0, 0x1e,
        0x79, 0x00,
    };
    static const uint8_t ids[] = {
        0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x0a, 0x03,
        0x08, '_', 'A', 'D', 'R', 0x00,
        0x08, '_', 'U', 'I', 'D', 0x00,
    };
    GByteArray *a = g_byte_array_new();
    g_byte_array_append(a, (const uint8_t[]){ 0x10 }, 1);                   /* Scope */
    guint scope = a->len;
    g_byte_array_append(a, (const uint8_t[]){ '\\', '_', 'S', 'B', '_' }, 5);
    g_byte_array_append(a, (const uint8_t[]){ 0x5b, 0x82 }, 2);             /* Device */
    guint dev = a->len;
    g_byte_array_append(a, (const uint8_t[]){ 'P', 'C', 'I', '0' }, 4);
    g_byte_array_append(a, ids, sizeof(ids));
    g_byte_array_append(a, (const uint8_t[]){ 0x08, '_', 'C', 'R', 'S', 0x11 }, 6);
    guint buf = a->len;
    g_byte_array_append(a, (const uint8_t[]){ 0x0a, sizeof(crs) }, 2);      /* BufferSize */
    g_byte_array_append(a, crs, sizeof(crs));
    aml_pkg_close(a, buf);
    aml_pkg_close(a, dev);
    aml_pkg_close(a, scope);
    memcpy(grow(t, a->len), a->data, a->len);
    g_byte_array_free(a, TRUE);
    table_end(t, off);
    return off;
}

static size_t build_facs(Tables *t)
{
    t->len = (t->len + 63) & ~(size_t)63;
    size_t off = t->len;
    uint8_t *f = grow(t, 64);
    memcpy(f, "FACS", 4);
    put(f + 4, 4, 64);
    return off;
}

static size_t build_fadt(Tables *t, size_t facs, size_t dsdt)
{
    size_t off = table_begin(t, "FACP", 16, 1);
    uint8_t *f = grow(t, 116 - HDR_LEN) - HDR_LEN;
    put(f + 36, 4, gaddr(t, facs));
    put(f + 40, 4, gaddr(t, dsdt));
    f[44] = 1;                                  /* INT_MODEL: APIC */
    put(f + 46, 2, PC_ACPI_SCI_IRQ);
    put(f + 48, 4, 0);                          /* SMI_CMD: ACPI always on */
    put(f + 56, 4, PC_ACPI_PM_BASE);            /* PM1a_EVT_BLK */
    put(f + 64, 4, PC_ACPI_PM_BASE + 4);        /* PM1a_CNT_BLK */
    put(f + 76, 4, PC_ACPI_PM_BASE + 8);        /* PM_TMR_BLK */
    f[88] = 4;                                  /* PM1_EVT_LEN */
    f[89] = 2;                                  /* PM1_CNT_LEN */
    f[91] = 4;                                  /* PM_TMR_LEN */
    put(f + 96, 2, 0xfff);                      /* no C2 */
    put(f + 98, 2, 0xfff);                      /* no C3 */
    f[108] = 0x32;                              /* CMOS century byte */
    /* WBINVD, C1 supported, no sleep button; the power button is the
     * fixed-feature one; 24-bit PM timer. */
    put(f + 112, 4, 1u << 0 | 1u << 2 | 1u << 5);
    table_end(t, off);
    return off;
}

static size_t build_madt(Tables *t)
{
    size_t off = table_begin(t, "APIC", 16, 1);
    uint8_t *p = grow(t, 8);
    put(p, 4, PC_LAPIC_ADDR);
    put(p + 4, 4, 1);                           /* PCAT_COMPAT: 8259s present */
    p = grow(t, 8);                             /* processor local APIC */
    p[0] = 0, p[1] = 8, p[2] = 0, p[3] = 0;
    put(p + 4, 4, 1);                           /* enabled */
    p = grow(t, 12);                            /* I/O APIC */
    p[0] = 1, p[1] = 12, p[2] = 0, p[3] = 0;
    put(p + 4, 4, PC_IOAPIC_ADDR);
    put(p + 8, 4, 0);                           /* GSI base */
    static const uint8_t irqs[][3] = {
        /* ISA IRQ, GSI, flags (polarity bits 1:0, trigger bits 3:2) */
        { 0, 2, 0x0 }, { 5, 5, 0xd }, { 9, 9, 0xd }, { 10, 10, 0xd }, { 11, 11, 0xd },
    };
    for (size_t i = 0; i < sizeof(irqs) / sizeof(irqs[0]); i++) {
        p = grow(t, 10);                        /* interrupt source override */
        p[0] = 2, p[1] = 10, p[2] = 0, p[3] = irqs[i][0];
        put(p + 4, 4, irqs[i][1]);
        put(p + 8, 2, irqs[i][2]);
    }
    p = grow(t, 6);                             /* local APIC NMI on LINT1 */
    p[0] = 4, p[1] = 6, p[2] = 0xff;
    put(p + 3, 2, 0);
    p[5] = 1;
    table_end(t, off);
    return off;
}

size_t pc_acpi_build(uint8_t *buf, uint32_t addr, uint32_t *rsdp)
{
    memset(buf, 0, PC_ACPI_TABLES_MAX);
    Tables t = { .buf = buf, .addr = addr, .len = 0 };
    /* RSDP first (16-byte aligned at the start). */
    uint8_t *r = grow(&t, 20);
    size_t facs = build_facs(&t);
    size_t dsdt = build_dsdt(&t);
    size_t fadt = build_fadt(&t, facs, dsdt);
    size_t madt = build_madt(&t);
    size_t rsdt = table_begin(&t, "RSDT", 16, 1);
    uint8_t *e = grow(&t, 8);
    put(e, 4, gaddr(&t, fadt));
    put(e + 4, 4, gaddr(&t, madt));
    table_end(&t, rsdt);

    memcpy(r, "RSD PTR ", 8);
    memcpy(r + 9, "TANDEM", 6);
    r[15] = 0;                                  /* ACPI 1.0 RSDP */
    put(r + 16, 4, gaddr(&t, rsdt));
    r[8] = checksum(r, 20);
    *rsdp = addr;
    g_assert(t.len <= PC_ACPI_TABLES_MAX);
    return t.len;
}
