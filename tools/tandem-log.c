/* tandem-log: inspects a record/replay log without running anything.
 *
 *   tandem-log info FILE          header, frame and event statistics
 *   tandem-log dump [--json] FILE one line per event
 *   tandem-log verify FILE        checks every frame and the index
 *
 * Exit status: 0 fine, 1 corrupt or unreadable log, 2 (verify only) the log
 * was cut short, 64 usage error. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "rr/log.h"
#include "rr/varint.h"

enum { EXIT_CORRUPT = 1, EXIT_TRUNCATED = 2, EXIT_USAGE = 64 };

/* The machine starts shift=auto at this shift (vmm/machine.c) and logs
 * every change after it. */
#define AUTO_SHIFT_START 3

static const char usage_text[] =
    "usage: tandem-log info FILE\n"
    "       tandem-log dump [--json] FILE\n"
    "       tandem-log verify FILE\n"
    "\n"
    "  info    the log header (arch, configuration, shift, snapshot) and\n"
    "          statistics: frames, events by kind, icount range, duration\n"
    "  dump    one line per event (--json: one JSON object per line)\n"
    "  verify  check every frame's checksum and contents and the index;\n"
    "          exit 0 if sound, 1 if corrupt, 2 if the recording was cut short\n";

static int usage(FILE *f, int rc)
{
    fputs(usage_text, f);
    return rc;
}

static void fail(const char *path, const GError *e)
{
    if (strstr(e->message, path))
        fprintf(stderr, "tandem-log: %s\n", e->message);
    else
        fprintf(stderr, "tandem-log: %s: %s\n", path, e->message);
}

static int finish_output(void)
{
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "tandem-log: error writing the output\n");
        return EXIT_CORRUPT;
    }
    return 0;
}

/* ---------------------------------------------------------------- payloads */

static void put_escaped(FILE *f, const uint8_t *p, size_t n, bool json)
{
    fputc('"', f);
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        switch (c) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (c >= 0x20 && c < 0x7f)
                fputc(c, f);
            else if (json)
                fprintf(f, "\\u%04x", c);
            else
                fprintf(f, "\\x%02x", c);
        }
    }
    fputc('"', f);
}

/* "2024-05-01T12:34:56.123456789Z", or "" where gmtime cannot say. */
static void iso_time(int64_t ns, char *buf, size_t len)
{
    int64_t sec = ns / 1000000000, frac = ns % 1000000000;
    if (frac < 0) {
        frac += 1000000000;
        sec--;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    char date[64];
    buf[0] = 0;
    if (!gmtime_r(&t, &tm) || !strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm))
        return;
    snprintf(buf, len, "%s.%09" PRId64 "Z", date, frac);
}

static uint64_t warp_ns(const RrEvent *ev)
{
    const uint8_t *p = ev->data;
    uint64_t v = 0;
    if (!varint_get(&p, ev->data + ev->len, &v))
        return 0;
    return v;
}

/* The reader has checked each payload's shape (rr/log.h), so the fixed
 * offsets below are inside it. */
static void put_payload(FILE *f, const RrEvent *ev, bool json)
{
    const char *sep = json ? "," : " ";
    const char *eq = json ? "\":" : "=";
    const char *q = json ? "\"" : "";
    char iso[96];

    switch (ev->kind) {
    case RR_EV_SERIAL_INPUT:
        fprintf(f, "%s%sport%s%u%s%sdata%s", sep, q, eq, ev->data[0], sep, q, eq);
        put_escaped(f, ev->data + 1, ev->len - 1, json);
        break;
    case RR_EV_HOST_CLOCK: {
        int64_t ns = (int64_t)le64_get(ev->data);
        iso_time(ns, iso, sizeof(iso));
        if (json)
            fprintf(f, ",\"host_ns\":%" PRId64 ",\"host_time\":\"%s\"", ns, iso);
        else
            fprintf(f, " host_ns=%" PRId64 " (%s)", ns, iso[0] ? iso : "out of range");
        break;
    }
    case RR_EV_TSC:
        fprintf(f, "%s%stsc%s%" PRIu64, sep, q, eq, ev->len >= 8 ? le64_get(ev->data) : 0);
        if (ev->len >= 16)
            fprintf(f, json ? ",\"ram_hash\":\"%#" PRIx64 "\"" : " ram_hash=%#" PRIx64,
                    le64_get(ev->data + 8));
        if (ev->len >= 24) {
            /* A state check: the CPU's hash, then one per device. */
            fprintf(f, json ? ",\"cpu_hash\":\"%#" PRIx64 "\",\"device_hashes\":["
                            : " cpu_hash=%#" PRIx64 " device_hashes=", le64_get(ev->data + 16));
            for (uint32_t off = 24; off + 8 <= ev->len; off += 8)
                fprintf(f, json ? "%s\"%#" PRIx64 "\"" : "%s%#" PRIx64, off > 24 ? "," : "",
                        le64_get(ev->data + off));
            if (json)
                fputc(']', f);
        }
        break;
    case RR_EV_BLOCK: {
        uint64_t v[2] = { 0, 0 };
        uint32_t pos = 2;
        for (int k = 0; k < 2; k++)
            for (int shift = 0; shift < 64 && pos < ev->len; shift += 7) {
                uint8_t b = ev->data[pos++];
                v[k] |= (uint64_t)(b & 0x7f) << shift;
                if (!(b & 0x80))
                    break;
            }
        static const char *const ops[] = { "read", "write", "flush" };
        fprintf(f, "%s%sdrive%s%u%s%sop%s%s%s%s%s%soffset%s%" PRIu64 "%s%slength%s%" PRIu64
                "%s%sdata_hash%s%s0x%016" PRIx64 "%s",
                sep, q, eq, ev->data[0], sep, q, eq, q, ev->data[1] < 3 ? ops[ev->data[1]] : "?",
                q, sep, q, eq, v[0], sep, q, eq, v[1], sep, q, eq, q,
                pos + 8 <= ev->len ? le64_get(ev->data + pos) : 0, q);
        break;
    }
    case RR_EV_NET: {
        /* A frame (or a piece of a long one, "more" until its last): its
         * first bytes are the destination and source MACs and the type. */
        uint32_t n = ev->len - 2, head = n < 16 ? n : 16;
        fprintf(f, "%s%snetdev%s%u%s%smore%s%u%s%sbytes%s%" PRIu32 "%s%shead%s%s", sep, q, eq,
                ev->data[0], sep, q, eq, ev->data[1] & 1, sep, q, eq, n, sep, q, eq, q);
        for (uint32_t i = 0; i < head; i++)
            fprintf(f, "%02x", ev->data[2 + i]);
        fputs(q, f);
        break;
    }
    case RR_EV_INPUT:
        if (ev->data[0] == 0)
            fprintf(f, "%s%sdevice%s%skeyboard%s%s%skeycode%s%u%s%sdown%s%u", sep, q, eq, q, q,
                    sep, q, eq, ev->data[1] | ev->data[2] << 8, sep, q, eq, ev->data[3]);
        else
            fprintf(f, "%s%sdevice%s%smouse%s%s%sdx%s%" PRId32 "%s%sdy%s%" PRId32 "%s%sdz%s%"
                    PRId32 "%s%sbuttons%s%u", sep, q, eq, q, q, sep, q, eq,
                    (int32_t)le32_get(ev->data + 1), sep, q, eq, (int32_t)le32_get(ev->data + 5),
                    sep, q, eq, (int32_t)le32_get(ev->data + 9), sep, q, eq, ev->data[13]);
        break;
    case RR_EV_AUDIO:
        fprintf(f, "%s%scard%s%u%s%ssource%s%s%s%s%s%sbytes%s%" PRIu32, sep, q, eq, ev->data[0],
                sep, q, eq, q, ev->data[1] ? "mic" : "pcm_in", q, sep, q, eq, ev->len - 2);
        break;
    case RR_EV_CHECKPOINT: {
        static const char *const whys[] = { "timers", "clock_read", "timers_lazy" };
        fprintf(f, "%s%swhy%s%s%s%s", sep, q, eq, q, ev->data[0] < 3 ? whys[ev->data[0]] : "?",
                q);
        break;
    }
    case RR_EV_SHIFT:
        fprintf(f, "%s%sshift%s%u", sep, q, eq, ev->data[0]);
        break;
    case RR_EV_WARP:
        fprintf(f, "%s%swarp_ns%s%" PRIu64, sep, q, eq, warp_ns(ev));
        break;
    case RR_EV_END:
        fprintf(f, "%s%sstatus%s%" PRId32 "%s%sram_hash%s%s0x%016" PRIx64 "%s"
                "%s%scpu_hash%s%s0x%016" PRIx64 "%s",
                sep, q, eq, (int32_t)le32_get(ev->data),
                sep, q, eq, q, le64_get(ev->data + 4), q,
                sep, q, eq, q, le64_get(ev->data + 12), q);
        if (ev->len >= 28)
            fprintf(f, "%s%sram_map_chunks%s%" PRIu32 "%s%sram_map_chunk_bytes%s%" PRIu64,
                    sep, q, eq, le32_get(ev->data + 24), sep, q, eq,
                    (uint64_t)1 << le32_get(ev->data + 20));
        break;
    default:
        break;
    }
}

/* ---------------------------------------------------------------- dump */

static int cmd_dump(const char *path, bool json)
{
    GError *e = NULL;
    RrReader *r = rr_reader_open(path, &e);
    if (!r) {
        fail(path, e);
        g_error_free(e);
        return EXIT_CORRUPT;
    }
    RrEvent *ev = g_new(RrEvent, 1);
    int rc;
    while ((rc = rr_reader_next(r, ev, &e)) > 0) {
        uint64_t idx = rr_reader_event_index(r) - 1;
        if (json) {
            printf("{\"index\":%" PRIu64 ",\"kind\":\"%s\",\"icount\":%" PRIu64
                   ",\"brcount\":%" PRIu64 ",\"mmio\":%" PRIu64,
                   idx, rr_event_name(ev->kind), ev->icount, ev->brcount, ev->mmio);
            if (ev->nregs) {
                printf(",\"pc\":\"0x%" PRIx64 "\",\"regs\":[", ev->regs[0]);
                for (uint32_t i = 0; i < ev->nregs; i++)
                    printf("%s\"0x%" PRIx64 "\"", i ? "," : "", ev->regs[i]);
                putchar(']');
            }
            put_payload(stdout, ev, true);
            fputs("}\n", stdout);
        } else {
            printf("%" PRIu64 " %s icount=%" PRIu64 " brcount=%" PRIu64 " mmio=%" PRIu64,
                   idx, rr_event_name(ev->kind), ev->icount, ev->brcount, ev->mmio);
            if (ev->nregs)
                printf(" pc=0x%" PRIx64, ev->regs[0]);
            put_payload(stdout, ev, false);
            putchar('\n');
        }
    }
    int out = finish_output();
    if (rc < 0) {
        fail(path, e);
        g_error_free(e);
        out = EXIT_CORRUPT;
    } else if (rr_reader_truncated(r)) {
        fprintf(stderr, "tandem-log: %s: %s\n", path, rr_reader_tail_message(r));
    }
    g_free(ev);
    rr_reader_close(r);
    return out;
}

/* ---------------------------------------------------------------- info */

typedef struct Stats {
    uint64_t events;
    uint64_t by_kind[RR_EV__COUNT];
    uint64_t first_icount, last_icount;
    long double vtime_ns;           /* from the first event to the last */
    /* How a KVM replay would split the run (from icount 0): free runs
     * between events at least RR_KVM_FREE_RUN_MIN apart (asynchronous
     * ones RR_KVM_ASYNC_FREE_RUN_MIN, as without a PMU), by length in
     * powers of ten from 1e2, and what it interprets.  Lazy events
     * (timers, shift changes) fire inside free runs without ending them. */
    uint64_t free_runs, free_insns, stepped_insns, free_by_len[6], lazy;
    uint64_t mem_checks;            /* TSC events with a RAM hash */
    uint64_t state_checks;          /* ... and the CPU's and devices' (version 10) */
    uint64_t split_icount;
} Stats;

static void stats_add(Stats *st, const RrEvent *ev, int *shift)
{
    uint64_t gap = ev->icount - st->split_icount;
    if (ev->kind == RR_EV_TSC && ev->len >= 16)
        st->mem_checks++;
    if (ev->kind == RR_EV_TSC && ev->len >= 24)
        st->state_checks++;
    if (rr_event_lazy(ev)) {
        st->lazy++;
    } else if (gap >= RR_KVM_FREE_RUN_MIN &&
               (gap >= RR_KVM_ASYNC_FREE_RUN_MIN || !rr_event_async(ev))) {
        unsigned b = 0;
        for (uint64_t l = gap / 1000; l && b < 5; l /= 10)
            b++;
        st->free_runs++;
        st->free_insns += gap;
        st->free_by_len[b]++;
    } else {
        st->stepped_insns += gap;
    }
    if (!rr_event_lazy(ev))
        st->split_icount = ev->icount;
    if (st->events)
        st->vtime_ns += (long double)(ev->icount - st->last_icount) *
                        (long double)(1ull << *shift);
    else
        st->first_icount = ev->icount;
    st->last_icount = ev->icount;
    st->events++;
    st->by_kind[ev->kind]++;
    if (ev->kind == RR_EV_WARP)
        st->vtime_ns += (long double)warp_ns(ev);
    else if (ev->kind == RR_EV_SHIFT)
        *shift = ev->data[0];
}

static void print_header(const char *path, const RrHeader *h, uint64_t size)
{
    printf("file:          %s (%" PRIu64 " bytes)\n", path, size);
    printf("format:        version %" PRIu32 "\n", h->version);
    printf("arch:          %s\n", h->arch);
    printf("registers:     %" PRIu32 " per event\n", h->nregs);
    if (h->shift < 0)
        printf("shift:         auto (virtual time follows the logged shift events, "
               "starting at %d)\n", AUTO_SHIFT_START);
    else
        printf("shift:         %" PRId32 " (%llu ns per instruction)\n", h->shift,
               1ull << h->shift);
    printf("snapshot:      %s\n", h->snapshot[0] ? h->snapshot : "none");
    printf("config:        hash 0x%016" PRIx64 "\n", h->config_hash);
    const char *p = h->config;
    while (*p) {
        const char *nl = strchr(p, '\n');
        int n = nl ? (int)(nl - p) : (int)strlen(p);
        printf("  %.*s\n", n, p);
        p += n + (nl ? 1 : 0);
    }
}

static void print_stats(const Stats *st, uint64_t size, int32_t shift)
{
    printf("events:        %" PRIu64, st->events);
    if (st->events)
        printf(" (%.1f bytes per event)", (double)size / (double)st->events);
    putchar('\n');
    for (int k = 0; k < RR_EV__COUNT; k++)
        printf("  %-13s %" PRIu64 "\n", rr_event_name(k), st->by_kind[k]);
    if (st->mem_checks)
        printf("memory checks: %" PRIu64 " (TSC events with a RAM hash), %" PRIu64
               " of them state checks (and the CPU's and devices' state hashes)\n",
               st->mem_checks, st->state_checks);
    if (!st->events)
        return;
    printf("icount:        %" PRIu64 " .. %" PRIu64 " (%" PRIu64 " instructions)\n",
           st->first_icount, st->last_icount, st->last_icount - st->first_icount);
    printf("virtual time:  %.9Lf s between the first and last event%s\n",
           st->vtime_ns / 1e9L, shift < 0 ? " (following the logged shifts)" : "");
    uint64_t all = st->free_insns + st->stepped_insns;
    printf("KVM replay:    %" PRIu64 " free runs of %" PRIu64 " instructions (%.1f%%), %" PRIu64
           " interpreted up to events closer than %d, or asynchronous ones closer than %d "
           "(at most: real mode and the like are interpreted too; with a PMU, asynchronous "
           "events need no more than the others); %" PRIu64 " lazy events fire inside free "
           "runs\n",
           st->free_runs, st->free_insns,
           all ? 100.0 * (double)st->free_insns / (double)all : 0.0, st->stepped_insns,
           RR_KVM_FREE_RUN_MIN, RR_KVM_ASYNC_FREE_RUN_MIN, st->lazy);
    static const char *const len[6] = { "< 1e3", "< 1e4", "< 1e5", "< 1e6", "< 1e7", ">= 1e7" };
    if (st->free_runs) {
        printf("  free runs by length:");
        for (int i = 0; i < 6; i++)
            printf(" %s: %" PRIu64 "%s", len[i], st->free_by_len[i], i < 5 ? "," : "\n");
    }
}

static int cmd_info(const char *path)
{
    GError *e = NULL;
    struct stat sb;
    RrReader *r = rr_reader_open(path, &e);
    if (!r) {
        fail(path, e);
        g_error_free(e);
        return EXIT_CORRUPT;
    }
    const RrHeader *h = rr_reader_header(r);
    uint64_t size = stat(path, &sb) == 0 ? (uint64_t)sb.st_size : 0;
    print_header(path, h, size);

    RrEvent *ev = g_new(RrEvent, 1);
    Stats st = { 0 };
    int shift = h->shift < 0 ? AUTO_SHIFT_START : h->shift;
    int rc;
    while ((rc = rr_reader_next(r, ev, &e)) > 0)
        stats_add(&st, ev, &shift);
    g_free(ev);

    RrFrameInfo *frames = NULL;
    size_t nframes = 0;
    bool has_index = false;
    if (rc == 0 && !rr_log_frames(path, &frames, &nframes, &has_index, &e))
        rc = -1;
    g_free(frames);
    if (rc == 0)
        printf("frames:        %zu\n", nframes);
    print_stats(&st, size, h->shift);
    if (rc == 0) {
        printf("index:         %s\n", has_index ? "present" : "absent");
        if (rr_reader_truncated(r))
            printf("status:        cut short: %s\n", rr_reader_tail_message(r));
        else
            printf("status:        complete\n");
    }
    int out = finish_output();
    if (rc < 0) {
        fail(path, e);
        g_error_free(e);
        out = EXIT_CORRUPT;
    }
    rr_reader_close(r);
    return out;
}

/* ---------------------------------------------------------------- verify */

static int cmd_verify(const char *path)
{
    GError *e = NULL;
    RrReader *r = rr_reader_open(path, &e);
    if (!r) {
        fail(path, e);
        g_error_free(e);
        return EXIT_CORRUPT;
    }
    RrEvent *ev = g_new(RrEvent, 1);
    int rc;
    while ((rc = rr_reader_next(r, ev, &e)) > 0)
        ;
    g_free(ev);

    RrFrameInfo *frames = NULL;
    size_t nframes = 0;
    bool has_index = false;
    if (rc == 0 && !rr_log_frames(path, &frames, &nframes, &has_index, &e))
        rc = -1;
    g_free(frames);
    int out;
    if (rc < 0) {
        fail(path, e);
        g_error_free(e);
        out = EXIT_CORRUPT;
    } else if (rr_reader_truncated(r)) {
        printf("cut short: %zu complete frames, %" PRIu64 " events: %s\n", nframes,
               rr_reader_event_index(r), rr_reader_tail_message(r));
        out = finish_output() ? EXIT_CORRUPT : EXIT_TRUNCATED;
    } else {
        printf("ok: %zu frames, %" PRIu64 " events\n", nframes, rr_reader_event_index(r));
        out = finish_output();
    }
    rr_reader_close(r);
    return out;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") ||
                      !strcmp(argv[1], "help")))
        return usage(stdout, 0);
    if (argc < 3)
        return usage(stderr, EXIT_USAGE);
    const char *cmd = argv[1];
    if (!strcmp(cmd, "dump")) {
        bool json = false;
        int i = 2;
        if (!strcmp(argv[i], "--json")) {
            json = true;
            i++;
        }
        if (argc != i + 1 || argv[i][0] == '-')
            return usage(stderr, EXIT_USAGE);
        return cmd_dump(argv[i], json);
    }
    if (argc != 3 || argv[2][0] == '-')
        return usage(stderr, EXIT_USAGE);
    if (!strcmp(cmd, "info"))
        return cmd_info(argv[2]);
    if (!strcmp(cmd, "verify"))
        return cmd_verify(argv[2]);
    return usage(stderr, EXIT_USAGE);
}
