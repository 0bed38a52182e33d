/* -netdev user on libslirp (see slirp.h).
 *
 * Slirp asks for its sockets to be polled (slirp_pollfds_fill/poll, once
 * per main-loop look at host input) and for timers in milliseconds of the
 * clock it is given: host CLOCK_MONOTONIC, since slirp's TCP must follow
 * the real peers' time, not the guest's. */
#include "net/slirp.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <slirp/libslirp.h>

#include "vmm/clock.h"
#include "vmm/error.h"

typedef struct SlirpTimer {
    SlirpTimerId id;            /* timer_new_opaque */
    SlirpTimerCb cb;            /* timer_new (older slirp) */
    void *cb_opaque;
    int64_t expire_ms;          /* -1: not armed */
    struct SlirpTimer *next;
} SlirpTimer;

struct NetSlirp {
    Slirp *slirp;
    void (*deliver)(void *opaque, const uint8_t *buf, size_t len);
    void *opaque;
    SlirpTimer *timers;
    /* Filled by net_slirp_fill for add_poll, read back by get_revents. */
    struct pollfd *pfd;
    int npfd, max;
};

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
    NetSlirp *s = opaque;
    s->deliver(s->opaque, buf, len);
    return (ssize_t)len;
}

static void cb_guest_error(const char *msg, void *opaque)
{
    /* What the guest sent slirp could not parse: QEMU logs it only with
     * -d guest_errors; a wrong frame is the guest's business. */
    (void)msg;
    (void)opaque;
}

static int64_t cb_clock_get_ns(void *opaque)
{
    return vclock_host_ns();
}

static SlirpTimer *timer_add(NetSlirp *s, SlirpTimerId id, SlirpTimerCb cb, void *cb_opaque)
{
    SlirpTimer *t = g_new0(SlirpTimer, 1);
    t->id = id;
    t->cb = cb;
    t->cb_opaque = cb_opaque;
    t->expire_ms = -1;
    t->next = s->timers;
    s->timers = t;
    return t;
}

static void *cb_timer_new(SlirpTimerCb cb, void *cb_opaque, void *opaque)
{
    return timer_add(opaque, SLIRP_TIMER_NUM, cb, cb_opaque);
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque, void *opaque)
{
    return timer_add(opaque, id, NULL, cb_opaque);
}

static void cb_timer_free(void *timer, void *opaque)
{
    NetSlirp *s = opaque;
    for (SlirpTimer **p = &s->timers; *p; p = &(*p)->next) {
        if (*p == timer) {
            *p = ((SlirpTimer *)timer)->next;
            g_free(timer);
            return;
        }
    }
}

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
    ((SlirpTimer *)timer)->expire_ms = expire_ms < 0 ? 0 : expire_ms;
}

static void cb_register_poll_fd(int fd, void *opaque) {}
static void cb_unregister_poll_fd(int fd, void *opaque) {}
static void cb_notify(void *opaque) {}

static const SlirpCb slirp_cbs = {
    .send_packet = cb_send_packet,
    .guest_error = cb_guest_error,
    .clock_get_ns = cb_clock_get_ns,
    .timer_new = cb_timer_new,
    .timer_free = cb_timer_free,
    .timer_mod = cb_timer_mod,
    .register_poll_fd = cb_register_poll_fd,
    .unregister_poll_fd = cb_unregister_poll_fd,
    .notify = cb_notify,
    .timer_new_opaque = cb_timer_new_opaque,
};

NetSlirp *net_slirp_new(const NetdevConf *c,
                        void (*deliver)(void *opaque, const uint8_t *buf, size_t len),
                        void *opaque, GError **err)
{
    NetSlirp *s = g_new0(NetSlirp, 1);
    s->deliver = deliver;
    s->opaque = opaque;
    SlirpConfig cfg = {
        .version = 4,
        .restricted = c->restricted,
        .in_enabled = c->ipv4,
        .vnetwork = c->net,
        .vnetmask = c->mask,
        .vhost = c->host,
        .in6_enabled = c->ipv6,
        .vprefix_len = 64,
        .vhostname = c->hostname,
        .vdhcp_start = c->dhcp_start,
        .vnameserver = c->dns,
    };
    /* QEMU's IPv6 defaults: fec0::/64, host ::2, DNS ::3. */
    inet_pton(AF_INET6, "fec0::", &cfg.vprefix_addr6);
    inet_pton(AF_INET6, "fec0::2", &cfg.vhost6);
    inet_pton(AF_INET6, "fec0::3", &cfg.vnameserver6);
    s->slirp = slirp_new(&cfg, &slirp_cbs, s);
    if (!s->slirp) {
        tn_error(err, "-netdev user,id=%s: libslirp refused the configuration (check net=, "
                 "host=, dns= and dhcpstart=: they must lie in one network)", c->id);
        g_free(s);
        return NULL;
    }
    for (int i = 0; i < c->nfwd; i++) {
        const NetHostFwd *f = &c->fwd[i];
        if (slirp_add_hostfwd(s->slirp, f->udp, f->host_addr, f->host_port, f->guest_addr,
                              f->guest_port) < 0) {
            char h[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];
            inet_ntop(AF_INET, &f->host_addr, h, sizeof(h));
            inet_ntop(AF_INET, &f->guest_addr, g, sizeof(g));
            tn_error(err, "-netdev user,id=%s: hostfwd %s %s:%d -> %s:%d: cannot listen on "
                     "the host port (%s)", c->id, f->udp ? "udp" : "tcp", h, f->host_port, g,
                     f->guest_port, errno ? g_strerror(errno) : "in use or not permitted");
            net_slirp_free(s);
            return NULL;
        }
    }
    return s;
}

void net_slirp_free(NetSlirp *s)
{
    if (!s)
        return;
    if (s->slirp)
        slirp_cleanup(s->slirp);
    while (s->timers) {
        SlirpTimer *t = s->timers;
        s->timers = t->next;
        g_free(t);
    }
    g_free(s);
}

void net_slirp_input(NetSlirp *s, const uint8_t *buf, size_t len)
{
    if (len <= INT32_MAX)
        slirp_input(s->slirp, buf, (int)len);
}

static int to_poll(int ev)
{
    return (ev & SLIRP_POLL_IN ? POLLIN : 0) | (ev & SLIRP_POLL_OUT ? POLLOUT : 0) |
           (ev & SLIRP_POLL_PRI ? POLLPRI : 0) | (ev & SLIRP_POLL_ERR ? POLLERR : 0) |
           (ev & SLIRP_POLL_HUP ? POLLHUP : 0);
}

static int from_poll(int re)
{
    return (re & POLLIN ? SLIRP_POLL_IN : 0) | (re & POLLOUT ? SLIRP_POLL_OUT : 0) |
           (re & POLLPRI ? SLIRP_POLL_PRI : 0) | (re & POLLERR ? SLIRP_POLL_ERR : 0) |
           (re & POLLHUP ? SLIRP_POLL_HUP : 0) | (re & POLLNVAL ? SLIRP_POLL_ERR : 0);
}

static int cb_add_poll(int fd, int events, void *opaque)
{
    NetSlirp *s = opaque;
    if (s->npfd >= s->max)
        return -1;          /* polled next time; slirp's timers still run */
    s->pfd[s->npfd] = (struct pollfd){ .fd = fd, .events = (short)to_poll(events) };
    return s->npfd++;
}

static int cb_get_revents(int idx, void *opaque)
{
    NetSlirp *s = opaque;
    return idx >= 0 && idx < s->npfd ? from_poll(s->pfd[idx].revents) : 0;
}

int net_slirp_fill(NetSlirp *s, struct pollfd *pfd, int max, int64_t *timeout_ns)
{
    s->pfd = pfd;
    s->npfd = 0;
    s->max = max;
    uint32_t ms = UINT32_MAX;
    slirp_pollfds_fill(s->slirp, &ms, cb_add_poll, s);
    int64_t t = (int64_t)ms * 1000000;
    int64_t now_ms = vclock_host_ns() / 1000000;
    for (SlirpTimer *tm = s->timers; tm; tm = tm->next) {
        if (tm->expire_ms < 0)
            continue;
        int64_t d = tm->expire_ms > now_ms ? (tm->expire_ms - now_ms) * 1000000 : 0;
        if (d < t)
            t = d;
    }
    if (*timeout_ns < 0 || t < *timeout_ns)
        *timeout_ns = t;
    return s->npfd;
}

void net_slirp_poll(NetSlirp *s, const struct pollfd *pfd, int n, bool poll_failed)
{
    /* get_revents reads the caller's array, filled by poll(). */
    s->pfd = (struct pollfd *)pfd;
    s->npfd = n;
    slirp_pollfds_poll(s->slirp, poll_failed, cb_get_revents, s);
    s->pfd = NULL;
    s->npfd = 0;
    int64_t now_ms = vclock_host_ns() / 1000000;
    /* A callback may free or re-arm timers: rescan after each one. */
    for (bool fired = true; fired;) {
        fired = false;
        for (SlirpTimer *tm = s->timers; tm; tm = tm->next) {
            if (tm->expire_ms < 0 || tm->expire_ms > now_ms)
                continue;
            tm->expire_ms = -1;
            if (tm->cb)
                tm->cb(tm->cb_opaque);
            else
                slirp_handle_timer(s->slirp, tm->id, tm->cb_opaque);
            fired = true;
            break;
        }
    }
}
