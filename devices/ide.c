/* ATA channel and ATA hard disk (see ide.h).
 *
 * Register writes while the selected device is busy are ignored, as the
 * standard allows, and a command written during a data transfer replaces
 * it; so a guest poking registers in any order cannot wedge the model.
 * The only long-lived wait is a DMA command whose bus master never starts
 * (the real drive waits the same way, busy); SRST or EXECUTE DEVICE
 * DIAGNOSTIC ends it. */
#include "devices/ide.h"

#include <stdio.h>
#include <string.h>

#include "devices/devsnap.h"
#include "vmm/clock.h"
#include "vmm/error.h"
#include "vmm/machine.h"

#define SECTOR 512
/* DMA and READ VERIFY go through the image in pieces of this size. */
#define CHUNK  (64 * 1024)

typedef enum Xfer {
    XFER_NONE,
    XFER_PIO_IN,           /* the guest reads buf */
    XFER_PIO_OUT,          /* the guest fills buf */
} Xfer;

/* What the armed timer completes. */
typedef enum Req {
    REQ_NONE,
    REQ_PIO_READ,          /* read the next DRQ block into buf */
    REQ_PIO_WRITE,         /* write buf */
    REQ_DMA,
    REQ_VERIFY,
    REQ_FLUSH,
} Req;

typedef struct IdeDrive {
    BlockDev *blk;          /* NULL: no device */
    uint64_t sectors;
    uint16_t cyls, heads, spt;          /* default geometry */
    uint16_t cur_heads, cur_spt;        /* INITIALIZE DEVICE PARAMETERS */
    uint8_t status, error;
    unsigned mult;                      /* sectors per block, 0: disabled */
    uint8_t xfer_mode;                  /* SET FEATURES 03h value */
    bool wcache;
    bool err_logged;
    char serial[21];
} IdeDrive;

struct IdeBus {
    Machine *m;
    AddressSpace *io;
    const char *name;
    uint16_t cmd_base, ctl_port;
    bool cmd_mapped, ctl_mapped;
    IrqLine irq;
    int irq_level;
    bool irq_pending;
    IdeDrive d[2];
    int sel;                            /* DEV bit of the device register */
    /* Task file (both devices see every write) and the previous values. */
    uint8_t feature, nsect, lbal, lbam, lbah, device;
    uint8_t hob_feature, hob_nsect, hob_lbal, hob_lbam, hob_lbah;
    uint8_t ctl;
    /* The command in progress. */
    int cur;                            /* the unit running it */
    uint8_t cmd;
    bool lba48, chs;
    uint64_t lba;                       /* next sector */
    uint32_t left;                      /* sectors still to move */
    unsigned block;                     /* sectors per DRQ block */
    Xfer xfer;
    unsigned pos, len;                  /* in buf */
    Req req;
    bool dma_pending, dma_write, dma_running;
    Timer timer;
    const IdeDmaOps *dma;
    void *dma_opaque;
    uint8_t buf[IDE_MAX_MULT * SECTOR];
    uint8_t *chunk;                     /* CHUNK bytes */
};

/* ---- interrupts ---- */

static void update_irq(IdeBus *b)
{
    int level = b->irq_pending && !(b->ctl & IDE_CTL_NIEN);
    if (level != b->irq_level) {
        b->irq_level = level;
        irq_set(&b->irq, level);
    }
}

static void raise_irq(IdeBus *b)
{
    b->irq_pending = true;
    if (b->dma && b->dma->irq)
        b->dma->irq(b->dma_opaque);
    update_irq(b);
}

/* ---- IDENTIFY ---- */

static void put_string(uint16_t *w, const char *s, unsigned nwords)
{
    size_t n = strlen(s);
    for (unsigned i = 0; i < nwords; i++) {
        uint8_t hi = 2 * i < n ? (uint8_t)s[2 * i] : ' ';
        uint8_t lo = 2 * i + 1 < n ? (uint8_t)s[2 * i + 1] : ' ';
        w[i] = (uint16_t)(hi << 8 | lo);
    }
}

static void identify(const IdeDrive *d, uint8_t *out)
{
    uint16_t w[256] = { 0 };
    uint64_t lba28 = d->sectors < 0x0fffffff ? d->sectors : 0x0fffffff;
    uint32_t cur_cyls = 0, cur_cap = 0;
    if (d->cur_heads && d->cur_spt) {
        uint64_t c = d->sectors / ((uint64_t)d->cur_heads * d->cur_spt);
        cur_cyls = c > 65535 ? 65535 : (uint32_t)c;
        cur_cap = cur_cyls * d->cur_heads * d->cur_spt;
    }
    w[0] = 0x0040;                              /* fixed device */
    w[1] = d->cyls;
    w[3] = d->heads;
    w[6] = d->spt;
    put_string(&w[10], d->serial, 10);
    put_string(&w[23], "0.1.0", 4);
    put_string(&w[27], "TANDEM HARDDISK", 20);
    w[47] = 0x8000 | IDE_MAX_MULT;
    w[49] = 1u << 11 | 1u << 9 | 1u << 8;      /* IORDY, LBA, DMA */
    w[50] = 0x4000;
    w[51] = 0x0200;                             /* PIO mode 2 timing (obsolete) */
    w[53] = 0x0007;                             /* words 54-58, 64-70, 88 valid */
    w[54] = (uint16_t)cur_cyls;
    w[55] = d->cur_heads;
    w[56] = d->cur_spt;
    w[57] = (uint16_t)cur_cap;
    w[58] = (uint16_t)(cur_cap >> 16);
    w[59] = d->mult ? (uint16_t)(0x0100 | d->mult) : 0;
    w[60] = (uint16_t)lba28;
    w[61] = (uint16_t)(lba28 >> 16);
    w[63] = 0x0007;                             /* MWDMA 0-2 */
    w[64] = 0x0003;                             /* PIO 3-4 */
    w[65] = w[66] = w[67] = w[68] = 120;
    w[80] = 0x007e;                             /* ATA-1 .. ATA-6 */
    w[82] = 1u << 14 | 1u << 5 | 1u << 3;       /* NOP, write cache, PM */
    w[83] = 0x4000 | 1u << 13 | 1u << 12 | 1u << 10;  /* FLUSH (EXT), LBA48 */
    w[84] = 0x4000;
    w[85] = (uint16_t)(1u << 14 | (d->wcache ? 1u << 5 : 0) | 1u << 3);
    w[86] = 1u << 13 | 1u << 12 | 1u << 10;
    w[87] = 0x4000;
    w[88] = 0x003f;                             /* UDMA 0-5 */
    w[93] = 0x600b;                             /* reset results, 80-wire cable */
    for (int i = 0; i < 4; i++)
        w[100 + i] = (uint16_t)(d->sectors >> (16 * i));
    switch (d->xfer_mode >> 3) {
    case 4: w[63] |= (uint16_t)(0x100 << (d->xfer_mode & 7)); break;
    case 8: w[88] |= (uint16_t)(0x100 << (d->xfer_mode & 7)); break;
    }
    w[255] = 0x00a5;
    for (int i = 0; i < 256; i++) {
        out[2 * i] = (uint8_t)w[i];
        out[2 * i + 1] = (uint8_t)(w[i] >> 8);
    }
    uint8_t sum = 0;
    for (int i = 0; i < 511; i++)
        sum = (uint8_t)(sum + out[i]);
    out[511] = (uint8_t)-sum;
}

/* ---- command state ---- */

static IdeDrive *sel_drive(IdeBus *b) { return &b->d[b->sel]; }
static bool present(const IdeDrive *d) { return d->blk != NULL; }

/* Drops whatever the channel was doing (no status change). */
static void cancel(IdeBus *b)
{
    timer_del(&b->m->clock, &b->timer);
    b->req = REQ_NONE;
    b->xfer = XFER_NONE;
    b->pos = b->len = 0;
    b->dma_pending = false;
}

static void arm(IdeBus *b, Req r)
{
    b->req = r;
    timer_mod(&b->m->clock, &b->timer, machine_ns(b->m) + IDE_REQUEST_NS);
}

static void signature(IdeBus *b)
{
    for (int u = 0; u < 2; u++) {
        IdeDrive *d = &b->d[u];
        d->status = present(d) ? IDE_STAT_DRDY | IDE_STAT_DSC : 0;
        d->error = 0x01;                        /* no error detected */
    }
    b->nsect = b->lbal = 1;
    b->lbam = b->lbah = 0;
    b->device = 0;
    b->sel = 0;
}

static void done_ok(IdeBus *b)
{
    IdeDrive *d = &b->d[b->cur];
    d->status = IDE_STAT_DRDY | IDE_STAT_DSC;
    b->xfer = XFER_NONE;
    raise_irq(b);
}

static void done_err(IdeBus *b, uint8_t error)
{
    IdeDrive *d = &b->d[b->cur];
    cancel(b);
    d->error = error;
    d->status = IDE_STAT_DRDY | IDE_STAT_DSC | IDE_STAT_ERR;
    raise_irq(b);
}

/* The task file shows the next (or failing) sector, as after a command. */
static void set_sector(IdeBus *b, uint64_t lba)
{
    IdeDrive *d = &b->d[b->cur];
    if (b->lba48) {
        b->lbal = (uint8_t)lba;
        b->lbam = (uint8_t)(lba >> 8);
        b->lbah = (uint8_t)(lba >> 16);
        b->hob_lbal = (uint8_t)(lba >> 24);
        b->hob_lbam = (uint8_t)(lba >> 32);
        b->hob_lbah = (uint8_t)(lba >> 40);
    } else if (!b->chs) {
        b->lbal = (uint8_t)lba;
        b->lbam = (uint8_t)(lba >> 8);
        b->lbah = (uint8_t)(lba >> 16);
        b->device = (uint8_t)((b->device & 0xf0) | ((lba >> 24) & 0x0f));
    } else if (d->cur_heads && d->cur_spt) {
        uint64_t per_cyl = (uint64_t)d->cur_heads * d->cur_spt;
        uint64_t cyl = lba / per_cyl, r = lba % per_cyl;
        b->lbam = (uint8_t)cyl;
        b->lbah = (uint8_t)(cyl >> 8);
        b->device = (uint8_t)((b->device & 0xf0) | (r / d->cur_spt));
        b->lbal = (uint8_t)(r % d->cur_spt + 1);
    }
}

static void io_error(IdeBus *b, const char *what)
{
    IdeDrive *d = &b->d[b->cur];
    if (!d->err_logged) {
        d->err_logged = true;
        fprintf(stderr, "tandem: %s unit %d: %s failed: %s (the guest sees an "
                "uncorrectable error; further errors on this disk are not shown)\n",
                b->name, b->cur, what, blk_last_error(d->blk));
    }
    set_sector(b, b->lba);
    done_err(b, IDE_ERR_UNC);
}

/* Decodes the address and count of a read/write command; false (IDNF
 * posted) when it lies outside the disk. */
static bool start_rw(IdeBus *b, bool lba48)
{
    IdeDrive *d = &b->d[b->cur];
    b->lba48 = lba48;
    b->chs = false;
    uint64_t lba;
    uint32_t n;
    if (lba48) {
        lba = (uint64_t)b->hob_lbah << 40 | (uint64_t)b->hob_lbam << 32 |
              (uint64_t)b->hob_lbal << 24 | (uint64_t)b->lbah << 16 |
              (uint64_t)b->lbam << 8 | b->lbal;
        n = (uint32_t)b->hob_nsect << 8 | b->nsect;
        if (!n)
            n = 65536;
    } else {
        n = b->nsect ? b->nsect : 256;
        if (b->device & 0x40) {
            lba = (uint64_t)(b->device & 0x0f) << 24 | (uint64_t)b->lbah << 16 |
                  (uint64_t)b->lbam << 8 | b->lbal;
        } else {
            unsigned cyl = (unsigned)b->lbah << 8 | b->lbam, head = b->device & 0x0f;
            b->chs = true;
            if (!b->lbal || b->lbal > d->cur_spt || head >= d->cur_heads) {
                done_err(b, IDE_ERR_IDNF);
                return false;
            }
            lba = ((uint64_t)cyl * d->cur_heads + head) * d->cur_spt + b->lbal - 1;
        }
    }
    if (lba >= d->sectors || n > d->sectors - lba) {
        done_err(b, IDE_ERR_IDNF);
        return false;
    }
    b->lba = lba;
    b->left = n;
    return true;
}

static void pio_out_next(IdeBus *b)
{
    IdeDrive *d = &b->d[b->cur];
    unsigned n = b->left < b->block ? b->left : b->block;
    b->len = n * SECTOR;
    b->pos = 0;
    b->xfer = XFER_PIO_OUT;
    d->status = IDE_STAT_DRDY | IDE_STAT_DSC | IDE_STAT_DRQ;
}

/* ---- request completion: all data movement happens here ---- */

static void complete_dma(IdeBus *b)
{
    IdeDrive *d = &b->d[b->cur];
    bool short_table = false;
    uint64_t off = b->lba * SECTOR;
    uint64_t total = (uint64_t)b->left * SECTOR;
    b->dma_pending = false;
    while (total) {
        size_t n = total < CHUNK ? (size_t)total : CHUNK;
        if (!b->dma_write) {
            if (blk_pread(d->blk, off, b->chunk, n) < 0) {
                b->dma->end(b->dma_opaque, false);
                io_error(b, "DMA read");
                return;
            }
            if (b->dma->rw(b->dma_opaque, b->chunk, n, true) < n) {
                short_table = true;
                break;
            }
        } else {
            if (b->dma->rw(b->dma_opaque, b->chunk, n, false) < n) {
                short_table = true;
                break;
            }
            if (blk_pwrite(d->blk, off, b->chunk, n) < 0) {
                b->dma->end(b->dma_opaque, false);
                io_error(b, "DMA write");
                return;
            }
        }
        off += n;
        total -= n;
        b->lba += n / SECTOR;
        b->left -= (uint32_t)(n / SECTOR);
    }
    set_sector(b, b->lba);
    b->dma->end(b->dma_opaque, short_table);
    if (short_table) {
        /* The PRDs covered less than the command: the bus master stops
         * without an interrupt; the driver's timeout deals with it. */
        d->status = IDE_STAT_DRDY | IDE_STAT_DSC;
        b->xfer = XFER_NONE;
        return;
    }
    done_ok(b);
}

static void complete_verify(IdeBus *b)
{
    IdeDrive *d = &b->d[b->cur];
    while (b->left) {
        uint32_t n = b->left < CHUNK / SECTOR ? b->left : CHUNK / SECTOR;
        if (blk_pread(d->blk, b->lba * SECTOR, b->chunk, (size_t)n * SECTOR) < 0) {
            io_error(b, "read verify");
            return;
        }
        b->lba += n;
        b->left -= n;
    }
    set_sector(b, b->lba);
    done_ok(b);
}

static void ide_complete(IdeBus *b)
{
    IdeDrive *d = &b->d[b->cur];
    Req r = b->req;
    b->req = REQ_NONE;
    switch (r) {
    case REQ_NONE:
        break;
    case REQ_PIO_READ: {
        unsigned n = b->left < b->block ? b->left : b->block;
        if (blk_pread(d->blk, b->lba * SECTOR, b->buf, (size_t)n * SECTOR) < 0) {
            io_error(b, "read");
            return;
        }
        b->lba += n;
        b->left -= n;
        set_sector(b, b->lba);
        b->pos = 0;
        b->len = n * SECTOR;
        b->xfer = XFER_PIO_IN;
        d->status = IDE_STAT_DRDY | IDE_STAT_DSC | IDE_STAT_DRQ;
        raise_irq(b);
        break;
    }
    case REQ_PIO_WRITE: {
        unsigned n = b->len / SECTOR;
        if (blk_pwrite(d->blk, b->lba * SECTOR, b->buf, b->len) < 0) {
            io_error(b, "write");
            return;
        }
        b->lba += n;
        b->left -= n;
        set_sector(b, b->lba);
        if (b->left) {
            pio_out_next(b);
            raise_irq(b);
        } else {
            done_ok(b);
        }
        break;
    }
    case REQ_DMA:
        complete_dma(b);
        break;
    case REQ_VERIFY:
        complete_verify(b);
        break;
    case REQ_FLUSH:
        if (blk_flush(d->blk) < 0) {
            io_error(b, "flush");
            return;
        }
        done_ok(b);
        break;
    }
}

static void ide_timer_cb(void *opaque)
{
    ide_complete(opaque);
}

/* ---- commands ---- */

static void cmd_rw(IdeBus *b, bool lba48, bool write, unsigned block)
{
    if (!start_rw(b, lba48))
        return;
    b->block = block;
    b->d[b->cur].status = IDE_STAT_BSY | IDE_STAT_DRDY | IDE_STAT_DSC;
    if (write)
        pio_out_next(b);
    else
        arm(b, REQ_PIO_READ);
}

static void cmd_dma(IdeBus *b, bool lba48, bool write)
{
    if (!b->dma) {
        done_err(b, IDE_ERR_ABRT);
        return;
    }
    if (!start_rw(b, lba48))
        return;
    b->dma_write = write;
    b->dma_pending = true;
    b->d[b->cur].status = IDE_STAT_BSY | IDE_STAT_DRDY | IDE_STAT_DSC | IDE_STAT_DRQ;
    if (b->dma_running)
        arm(b, REQ_DMA);
}

static void cmd_set_features(IdeBus *b)
{
    IdeDrive *d = &b->d[b->cur];
    switch (b->feature) {
    case 0x03: {                                /* set transfer mode */
        unsigned kind = b->nsect >> 3, mode = b->nsect & 7;
        bool ok = (kind == 0 && mode <= 1) || (kind == 1 && mode <= 4) ||
                  (kind == 4 && mode <= 2) || (kind == 8 && mode <= 5);
        if (!ok) {
            done_err(b, IDE_ERR_ABRT);
            return;
        }
        d->xfer_mode = b->nsect;
        break;
    }
    case 0x02: d->wcache = true; break;
    case 0x82: d->wcache = false; break;
    case 0x55: case 0xaa:                       /* read look-ahead */
    case 0x66: case 0xcc:                       /* revert to defaults */
        break;
    default:
        done_err(b, IDE_ERR_ABRT);
        return;
    }
    done_ok(b);
}

static void command(IdeBus *b, uint8_t cmd)
{
    IdeDrive *d = sel_drive(b);
    if (cmd == 0x90) {                          /* EXECUTE DEVICE DIAGNOSTIC */
        cancel(b);
        signature(b);
        b->cur = 0;
        b->irq_pending = false;
        raise_irq(b);
        return;
    }
    if (!present(d) || (d->status & IDE_STAT_BSY) || (b->ctl & IDE_CTL_SRST))
        return;
    /* A new command ends any transfer still in progress. */
    cancel(b);
    b->ctl &= (uint8_t)~IDE_CTL_HOB;
    b->cur = b->sel;
    b->cmd = cmd;
    b->irq_pending = false;
    update_irq(b);
    d->error = 0;
    switch (cmd) {
    case 0xec:                                  /* IDENTIFY DEVICE */
        identify(d, b->buf);
        b->pos = 0;
        b->len = SECTOR;
        b->left = 0;
        b->xfer = XFER_PIO_IN;
        d->status = IDE_STAT_DRDY | IDE_STAT_DSC | IDE_STAT_DRQ;
        raise_irq(b);
        break;
    case 0x20: case 0x21: cmd_rw(b, false, false, 1); break;
    case 0x24:            cmd_rw(b, true, false, 1); break;
    case 0x30: case 0x31: cmd_rw(b, false, true, 1); break;
    case 0x34:            cmd_rw(b, true, true, 1); break;
    case 0xc4: case 0x29: case 0xc5: case 0x39:  /* READ/WRITE MULTIPLE (EXT) */
        if (!d->mult) {
            done_err(b, IDE_ERR_ABRT);
            break;
        }
        cmd_rw(b, cmd == 0x29 || cmd == 0x39, cmd == 0xc5 || cmd == 0x39, d->mult);
        break;
    case 0xc6:                                  /* SET MULTIPLE MODE */
        if (b->nsect > IDE_MAX_MULT || (b->nsect & (b->nsect - 1))) {
            done_err(b, IDE_ERR_ABRT);
            break;
        }
        d->mult = b->nsect;
        done_ok(b);
        break;
    case 0xc8: case 0xc9: cmd_dma(b, false, false); break;
    case 0x25:            cmd_dma(b, true, false); break;
    case 0xca: case 0xcb: cmd_dma(b, false, true); break;
    case 0x35:            cmd_dma(b, true, true); break;
    case 0x40: case 0x41: case 0x42:            /* READ VERIFY SECTORS (EXT) */
        if (start_rw(b, cmd == 0x42)) {
            d->status = IDE_STAT_BSY | IDE_STAT_DRDY | IDE_STAT_DSC;
            arm(b, REQ_VERIFY);
        }
        break;
    case 0xe7: case 0xea:                       /* FLUSH CACHE (EXT) */
        d->status = IDE_STAT_BSY | IDE_STAT_DRDY | IDE_STAT_DSC;
        arm(b, REQ_FLUSH);
        break;
    case 0xef:
        cmd_set_features(b);
        break;
    case 0xe5: case 0x98:                       /* CHECK POWER MODE */
        b->nsect = 0xff;                        /* active or idle */
        done_ok(b);
        break;
    case 0xe0: case 0xe1: case 0xe2: case 0xe3: /* STANDBY/IDLE (IMMEDIATE) */
    case 0x94: case 0x95: case 0x96: case 0x97:
    case 0xe6: case 0x99:                       /* SLEEP: no power state kept */
    case 0x70:                                  /* SEEK */
        done_ok(b);
        break;
    case 0x91:                                  /* INITIALIZE DEVICE PARAMETERS */
        d->cur_spt = b->nsect;
        d->cur_heads = (uint16_t)((b->device & 0x0f) + 1);
        done_ok(b);
        break;
    default:
        if (cmd >= 0x10 && cmd <= 0x1f) {       /* RECALIBRATE */
            done_ok(b);
            break;
        }
        done_err(b, IDE_ERR_ABRT);              /* NOP (00h) and the unknown */
        break;
    }
}

/* ---- PIO data ---- */

static void pio_block_done(IdeBus *b)
{
    IdeDrive *d = &b->d[b->cur];
    if (b->xfer == XFER_PIO_IN) {
        b->xfer = XFER_NONE;
        if (b->left) {
            d->status = IDE_STAT_BSY | IDE_STAT_DRDY | IDE_STAT_DSC;
            arm(b, REQ_PIO_READ);
        } else {
            d->status = IDE_STAT_DRDY | IDE_STAT_DSC;
        }
    } else {
        b->xfer = XFER_NONE;
        d->status = IDE_STAT_BSY | IDE_STAT_DRDY | IDE_STAT_DSC;
        arm(b, REQ_PIO_WRITE);
    }
}

static bool data_ready(IdeBus *b, Xfer want)
{
    return b->xfer == want && b->cur == b->sel && (b->d[b->cur].status & IDE_STAT_DRQ);
}

static uint32_t data_read(IdeBus *b, unsigned size)
{
    uint32_t v = 0;
    unsigned words = size == 4 ? 2 : 1;
    for (unsigned i = 0; i < words && data_ready(b, XFER_PIO_IN); i++) {
        v |= (uint32_t)(b->buf[b->pos] | b->buf[b->pos + 1] << 8) << (16 * i);
        b->pos += 2;
        if (b->pos >= b->len)
            pio_block_done(b);
    }
    return v;
}

static void data_write(IdeBus *b, uint32_t v, unsigned size)
{
    unsigned words = size == 4 ? 2 : 1;
    for (unsigned i = 0; i < words && data_ready(b, XFER_PIO_OUT); i++) {
        uint16_t w = (uint16_t)(v >> (16 * i));
        b->buf[b->pos] = (uint8_t)w;
        b->buf[b->pos + 1] = (uint8_t)(w >> 8);
        b->pos += 2;
        if (b->pos >= b->len)
            pio_block_done(b);
    }
}

/* ---- registers ---- */

static uint8_t reg_read(IdeBus *b, unsigned reg)
{
    IdeDrive *d = sel_drive(b);
    bool hob = b->ctl & IDE_CTL_HOB;
    /* A missing device (and an empty channel) reads 0 everywhere. */
    if (!present(d))
        return 0;
    switch (reg) {
    case 1: return d->error;
    case 2: return hob ? b->hob_nsect : b->nsect;
    case 3: return hob ? b->hob_lbal : b->lbal;
    case 4: return hob ? b->hob_lbam : b->lbam;
    case 5: return hob ? b->hob_lbah : b->lbah;
    case 6: return b->device | 0xa0;            /* obsolete bits 7 and 5 read 1 */
    default:
        b->irq_pending = false;
        update_irq(b);
        return d->status;
    }
}

static void reg_write(IdeBus *b, unsigned reg, uint8_t v)
{
    if (reg == 7) {
        command(b, v);
        return;
    }
    if ((sel_drive(b)->status & IDE_STAT_BSY) || (b->ctl & IDE_CTL_SRST))
        return;
    b->ctl &= (uint8_t)~IDE_CTL_HOB;            /* a write clears HOB */
    switch (reg) {
    case 1: b->hob_feature = b->feature; b->feature = v; break;
    case 2: b->hob_nsect = b->nsect; b->nsect = v; break;
    case 3: b->hob_lbal = b->lbal; b->lbal = v; break;
    case 4: b->hob_lbam = b->lbam; b->lbam = v; break;
    case 5: b->hob_lbah = b->lbah; b->lbah = v; break;
    case 6:
        b->device = v & 0x5f;
        b->sel = (v >> 4) & 1;
        break;
    }
}

static uint64_t cmd_read(void *opaque, uint64_t off, unsigned size)
{
    IdeBus *b = opaque;
    if (off == 0)
        return present(sel_drive(b)) ? data_read(b, size) : 0;
    uint64_t v = 0;
    for (unsigned i = 0; i < size && off + i < 8; i++)
        v |= (uint64_t)reg_read(b, (unsigned)off + i) << (8 * i);
    return v;
}

static void cmd_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    IdeBus *b = opaque;
    if (off == 0) {
        data_write(b, (uint32_t)val, size);
        return;
    }
    for (unsigned i = 0; i < size && off + i < 8; i++)
        reg_write(b, (unsigned)off + i, (uint8_t)(val >> (8 * i)));
}

static uint64_t ctl_read(void *opaque, uint64_t off, unsigned size)
{
    IdeBus *b = opaque;
    IdeDrive *d = sel_drive(b);
    return present(d) ? d->status : 0;
}

static void ctl_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
    IdeBus *b = opaque;
    uint8_t old = b->ctl;
    b->ctl = (uint8_t)val;
    if ((val & IDE_CTL_SRST) && !(old & IDE_CTL_SRST)) {
        cancel(b);
        for (int u = 0; u < 2; u++)
            if (present(&b->d[u]))
                b->d[u].status = IDE_STAT_BSY | IDE_STAT_DSC;
        b->irq_pending = false;
    } else if (!(val & IDE_CTL_SRST) && (old & IDE_CTL_SRST)) {
        signature(b);
    }
    update_irq(b);
}

static const MemOps cmd_ops = {
    .name = "ide",
    .read = cmd_read,
    .write = cmd_write,
    .min_access = 1,
    .max_access = 4,
};

static const MemOps ctl_ops = {
    .name = "ide-ctl",
    .read = ctl_read,
    .write = ctl_write,
    .min_access = 1,
    .max_access = 1,
};

/* ---- DMA hand-shake with the bus master ---- */

void ide_dma_start(IdeBus *b)
{
    b->dma_running = true;
    if (b->dma_pending && b->req == REQ_NONE)
        arm(b, REQ_DMA);
}

void ide_dma_stop(IdeBus *b)
{
    b->dma_running = false;
    if (b->req == REQ_DMA) {
        timer_del(&b->m->clock, &b->timer);
        b->req = REQ_NONE;       /* the command waits for the next start */
    }
}

/* ---- lifecycle ---- */

static void drive_power_on(IdeDrive *d)
{
    d->cur_heads = d->heads;
    d->cur_spt = d->spt;
    d->mult = IDE_MAX_MULT;
    d->xfer_mode = 0;
    d->wcache = true;
}

static void ide_reset(void *dev)
{
    IdeBus *b = dev;
    cancel(b);
    b->ctl = 0;
    b->dma_running = false;
    b->feature = b->hob_feature = b->hob_nsect = b->hob_lbal = b->hob_lbam = b->hob_lbah = 0;
    for (int u = 0; u < 2; u++)
        drive_power_on(&b->d[u]);
    signature(b);
    b->irq_pending = false;
    update_irq(b);
}

static void ide_destroy(void *dev)
{
    IdeBus *b = dev;
    timer_del(&b->m->clock, &b->timer);
    if (b->cmd_mapped)
        as_remove(b->io, b->cmd_base);
    if (b->ctl_mapped)
        as_remove(b->io, b->ctl_port);
    g_free(b->chunk);
    g_free(b);
}

/* ---- snapshots ---- */

#define SNAP_VERSION 1

/* The task file, each drive's settings, and the command in flight: its
 * position on the disk, the PIO block and how far the guest got in it,
 * the request the timer completes and the DMA hand-shake.  The disks
 * themselves (their presence and size) are the machine's configuration
 * and must match; their contents are the block layer's. */
static int ide_save(void *dev, void *wp)
{
    IdeBus *b = dev;
    SnapWriter *w = wp;
    snap_put_u8(w, SNAP_VERSION);
    snap_put_bool(w, b->irq_level);
    snap_put_bool(w, b->irq_pending);
    for (int u = 0; u < 2; u++) {
        const IdeDrive *d = &b->d[u];
        snap_put_bool(w, present(d));
        snap_put_u64(w, d->sectors);
        snap_put_u16(w, d->cur_heads);
        snap_put_u16(w, d->cur_spt);
        snap_put_u8(w, d->status);
        snap_put_u8(w, d->error);
        snap_put_u64(w, d->mult);
        snap_put_u8(w, d->xfer_mode);
        snap_put_bool(w, d->wcache);
    }
    snap_put_u64(w, (uint64_t)b->sel);
    const uint8_t tf[12] = { b->feature, b->nsect, b->lbal, b->lbam, b->lbah, b->device,
                             b->hob_feature, b->hob_nsect, b->hob_lbal, b->hob_lbam,
                             b->hob_lbah, b->ctl };
    snap_put_bytes(w, tf, sizeof(tf));
    snap_put_u64(w, (uint64_t)b->cur);
    snap_put_u8(w, b->cmd);
    snap_put_bool(w, b->lba48);
    snap_put_bool(w, b->chs);
    snap_put_u64(w, b->lba);
    snap_put_u32(w, b->left);
    snap_put_u64(w, b->block);
    snap_put_u64(w, b->xfer);
    snap_put_u64(w, b->pos);
    snap_put_u64(w, b->len);
    snap_put_u64(w, b->req);
    snap_put_bool(w, b->dma_pending);
    snap_put_bool(w, b->dma_write);
    snap_put_bool(w, b->dma_running);
    snap_put_bytes(w, b->buf, b->len);
    snap_put_timer(w, &b->timer);
    return 0;
}

/* Block sizes and positions become buffer lengths and disk offsets when
 * the request completes: each is checked against buf and the disk. */
static int ide_load(void *dev, void *rp)
{
    IdeBus *b = dev;
    SnapReader *r = rp;
    if (!devsnap_version(r, SNAP_VERSION, "ide"))
        return -1;
    IdeBus *t = g_memdup2(b, sizeof(*b));
    t->irq_level = snap_get_bool(r);
    t->irq_pending = snap_get_bool(r);
    for (int u = 0; u < 2 && snap_reader_ok(r); u++) {
        IdeDrive *d = &t->d[u];
        bool was_present = snap_get_bool(r);
        uint64_t sectors = snap_get_u64(r);
        if (snap_reader_ok(r) && was_present != present(d))
            snap_reader_fail(r, "%s unit %d: the snapshot has %s, this machine %s", b->name, u,
                             was_present ? "a disk" : "no disk", present(d) ? "one" : "none");
        else if (snap_reader_ok(r) && sectors != d->sectors)
            snap_reader_fail(r, "%s unit %d: the snapshot's disk has %llu sectors, this one "
                             "%llu", b->name, u, (unsigned long long)sectors,
                             (unsigned long long)d->sectors);
        d->cur_heads = snap_get_u16(r);
        d->cur_spt = snap_get_u16(r);
        d->status = snap_get_u8(r);
        d->error = snap_get_u8(r);
        d->mult = (unsigned)snap_get_max(r, IDE_MAX_MULT, "IDE sectors per block (multiple)");
        d->xfer_mode = snap_get_u8(r);
        d->wcache = snap_get_bool(r);
    }
    t->sel = (int)snap_get_max(r, 1, "IDE selected unit");
    uint8_t tf[12];
    snap_get_bytes(r, tf, sizeof(tf));
    t->feature = tf[0];
    t->nsect = tf[1];
    t->lbal = tf[2];
    t->lbam = tf[3];
    t->lbah = tf[4];
    t->device = tf[5];
    t->hob_feature = tf[6];
    t->hob_nsect = tf[7];
    t->hob_lbal = tf[8];
    t->hob_lbam = tf[9];
    t->hob_lbah = tf[10];
    t->ctl = tf[11];
    t->cur = (int)snap_get_max(r, 1, "IDE unit running the command");
    t->cmd = snap_get_u8(r);
    t->lba48 = snap_get_bool(r);
    t->chs = snap_get_bool(r);
    t->lba = snap_get_u64(r);
    t->left = snap_get_u32(r);
    t->block = (unsigned)snap_get_max(r, IDE_MAX_MULT, "IDE sectors per DRQ block");
    t->xfer = (Xfer)snap_get_max(r, XFER_PIO_OUT, "IDE transfer phase");
    t->pos = (unsigned)snap_get_max(r, sizeof(t->buf), "IDE PIO position");
    t->len = (unsigned)snap_get_max(r, sizeof(t->buf), "IDE PIO block length");
    t->req = (Req)snap_get_max(r, REQ_FLUSH, "IDE request");
    t->dma_pending = snap_get_bool(r);
    t->dma_write = snap_get_bool(r);
    t->dma_running = snap_get_bool(r);
    if (snap_reader_ok(r))
        snap_get_bytes(r, t->buf, t->len);
    bool busy = t->req != REQ_NONE || t->xfer != XFER_NONE || t->dma_pending;
    const IdeDrive *cd = &t->d[t->cur];
    devsnap_require(r, t->pos <= t->len && !(t->pos & 1) && !(t->len & 1),
                    "IDE PIO position past its block");
    devsnap_require(r, !busy || present(cd), "an IDE command on a unit without a disk");
    devsnap_require(r, !busy || (t->lba <= cd->sectors && t->left <= cd->sectors - t->lba),
                    "an IDE command past the end of the disk");
    devsnap_require(r, !(t->xfer == XFER_PIO_OUT || t->req == REQ_PIO_WRITE) ||
                    t->len / SECTOR <= t->left, "an IDE PIO write block past its command");
    devsnap_require(r, !(t->dma_pending || t->req == REQ_DMA) || t->dma,
                    "IDE DMA on a channel without a bus master");
    if (snap_reader_ok(r))
        snap_get_timer(r, &b->m->clock, &b->timer);
    if (snap_reader_ok(r)) {
        t->timer = b->timer;
        memcpy(b, t, sizeof(*b));
    }
    g_free(t);
    return snap_reader_ok(r) ? 0 : -1;
}

static const DeviceOps ide_device_ops = {
    .name = "ide",
    .reset = ide_reset,
    .save = ide_save,
    .load = ide_load,
    .destroy = ide_destroy,
};

IdeBus *ide_bus_create(Machine *m, AddressSpace *io, const char *name, uint16_t cmd_base,
                       uint16_t ctl_port, IrqLine irq, GError **err)
{
    IdeBus *b = g_new0(IdeBus, 1);
    b->m = m;
    b->io = io;
    b->name = name;
    b->cmd_base = cmd_base;
    b->ctl_port = ctl_port;
    b->irq = irq;
    b->chunk = g_malloc(CHUNK);
    timer_init(&b->timer, ide_timer_cb, b);
    if (as_add_mmio(io, name, cmd_base, 8, &cmd_ops, b) < 0 ||
        !(b->cmd_mapped = true) ||
        as_add_mmio(io, name, ctl_port, 1, &ctl_ops, b) < 0) {
        tn_error(err, "%s: ports 0x%x-0x%x or 0x%x are taken by another device", name,
                 cmd_base, cmd_base + 7, ctl_port);
        ide_destroy(b);
        return NULL;
    }
    b->ctl_mapped = true;
    ide_reset(b);
    machine_add_device(m, &ide_device_ops, b);
    return b;
}

bool ide_unit_used(const IdeBus *b, int unit)
{
    return unit >= 0 && unit < 2 && present(&b->d[unit]);
}

bool ide_attach_disk(IdeBus *b, int unit, BlockDev *blk, const char *serial, GError **err)
{
    if (unit < 0 || unit > 1) {
        tn_error(err, "%s: unit %d does not exist (0 master, 1 slave)", b->name, unit);
        return false;
    }
    if (present(&b->d[unit])) {
        tn_error(err, "%s: unit %d already has a disk", b->name, unit);
        return false;
    }
    if (blk_is_read_only(blk)) {
        tn_error(err, "%s: an ATA hard disk cannot use the read-only image %s (use "
                 "snapshot=on to keep the image unchanged)", b->name, blk_filename(blk));
        return false;
    }
    uint64_t sectors = blk_size(blk) / SECTOR;
    if (!sectors) {
        tn_error(err, "%s: image %s is smaller than one 512-byte sector", b->name,
                 blk_filename(blk));
        return false;
    }
    if (sectors >> 48) {
        tn_error(err, "%s: image %s is larger than LBA48 addresses", b->name,
                 blk_filename(blk));
        return false;
    }
    IdeDrive *d = &b->d[unit];
    d->blk = blk;
    d->sectors = sectors;
    /* The usual translation: 16 heads, 63 sectors, 2..16383 cylinders. */
    d->heads = 16;
    d->spt = 63;
    uint64_t c = sectors / (16 * 63);
    d->cyls = (uint16_t)(c > 16383 ? 16383 : c < 2 ? 2 : c);
    g_strlcpy(d->serial, serial ? serial : "", sizeof(d->serial));
    drive_power_on(d);
    if (b->sel == unit || !present(&b->d[b->sel]))
        signature(b);
    else
        d->status = IDE_STAT_DRDY | IDE_STAT_DSC;
    return true;
}

void ide_set_dma(IdeBus *b, const IdeDmaOps *ops, void *opaque)
{
    b->dma = ops;
    b->dma_opaque = opaque;
}
