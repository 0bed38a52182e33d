/* The machine's netdevs: option parsing, the frame queues between backends
 * and devices, and the record/replay hooks (see net.h). */
#include "net/net.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "net/slirp.h"
#include "rr/log.h"
#include "rr/rr.h"
#include "vmm/error.h"
#include "vmm/machine.h"
#include "vmm/options.h"

_Static_assert(NET_PIECE_MAX == RR_MAX_PAYLOAD - 2, "a piece and its two header bytes fill "
               "one log payload");
_Static_assert(OPT_MAX_NETDEVS <= 255, "the log names a netdev in one byte");

typedef struct Netdev {
    NetClient nc;
    NetState *ns;
    unsigned index;
    NetdevConf conf;
    bool filter;                /* has its -object filter-replay */
    NetSlirp *slirp;            /* NULL in replay */
    GQueue rxq;                 /* GBytes from the backend, oldest first */
    GByteArray *pieces;         /* replay: the frame being gathered */
    int poll_n;                 /* descriptors in the last net_poll_fds */
} Netdev;

struct NetState {
    Machine *m;
    bool replay;
    Netdev *nd[OPT_MAX_NETDEVS];
    unsigned n;
};

bool net_client_attach(NetClient *nc, const char *model, const uint8_t mac[6],
                       bool (*can_receive)(void *, size_t),
                       void (*receive)(void *, const uint8_t *, size_t), void *opaque,
                       GError **err)
{
    if (nc->model) {
        tn_error(err, "netdev %s is already used by a %s device", nc->id ? nc->id : "?",
                 nc->model);
        return false;
    }
    nc->model = model;
    memcpy(nc->mac, mac, 6);
    nc->can_receive = can_receive;
    nc->receive = receive;
    nc->fe_opaque = opaque;
    return true;
}

/* ---- option parsing ---- */

static bool parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true")) {
        *out = true;
        return true;
    }
    if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false")) {
        *out = false;
        return true;
    }
    return false;
}

static bool parse_port(const char *s, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (!*s || *end || v < 0 || v > 65535)
        return false;
    *out = (int)v;
    return true;
}

/* "ADDR:PORT" with ADDR possibly empty (then *addr is left alone). */
static bool parse_addr_port(const char *s, struct in_addr *addr, int *port)
{
    const char *c = strrchr(s, ':');
    if (!c)
        return false;
    g_autofree char *a = g_strndup(s, (gsize)(c - s));
    if (*a && !inet_aton(a, addr))
        return false;
    return parse_port(c + 1, port);
}

/* hostfwd=[tcp|udp]:[hostaddr]:hostport-[guestaddr]:guestport */
static bool parse_hostfwd(const char *v, NetHostFwd *f)
{
    const char *c = strchr(v, ':');
    if (!c)
        return false;
    g_autofree char *proto = g_strndup(v, (gsize)(c - v));
    if (!*proto || !strcmp(proto, "tcp"))
        f->udp = false;
    else if (!strcmp(proto, "udp"))
        f->udp = true;
    else
        return false;
    const char *dash = strchr(c + 1, '-');
    if (!dash)
        return false;
    g_autofree char *host = g_strndup(c + 1, (gsize)(dash - c - 1));
    f->host_addr.s_addr = htonl(INADDR_ANY);
    f->guest_addr.s_addr = 0;       /* filled with dhcpstart later */
    return parse_addr_port(host, &f->host_addr, &f->host_port) &&
           parse_addr_port(dash + 1, &f->guest_addr, &f->guest_port);
}

/* QEMU's default mask for a net= without one: the address class, with the
 * private ranges narrowed. */
static uint32_t classful_mask(uint32_t a)
{
    if (!(a & 0x80000000u))
        return 0xff000000u;
    if ((a & 0xfff00000u) == 0xac100000u)
        return 0xfff00000u;
    if ((a & 0xc0000000u) == 0x80000000u || (a & 0xffff0000u) == 0xc0a80000u)
        return 0xffff0000u;
    return 0xffffff00u;
}

static bool parse_net(const char *v, struct in_addr *net, struct in_addr *mask)
{
    const char *slash = strchr(v, '/');
    g_autofree char *a = slash ? g_strndup(v, (gsize)(slash - v)) : g_strdup(v);
    if (!inet_aton(a, net))
        return false;
    uint32_t m;
    if (!slash) {
        m = classful_mask(ntohl(net->s_addr));
    } else if (strchr(slash + 1, '.')) {
        struct in_addr mm;
        if (!inet_aton(slash + 1, &mm))
            return false;
        m = ntohl(mm.s_addr);
        if (m & (~m >> 1))          /* not contiguous ones then zeros */
            return false;
    } else {
        char *end;
        long bits = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || bits < 0 || bits > 32)
            return false;
        m = bits ? 0xffffffffu << (32 - bits) : 0;
    }
    mask->s_addr = htonl(m);
    net->s_addr &= mask->s_addr;
    return true;
}

static const char *const user_keys =
    "id, net, host, dns, dhcpstart, hostfwd, restrict, hostname, ipv4, ipv6";

bool net_parse_netdev(const char *spec, NetdevConf *out, GError **err)
{
    NetdevConf c = { 0 };
    gchar **parts = g_strsplit(spec, ",", -1);
    bool ok = false, have_host = false, have_dns = false, have_dhcp = false;
    c.type = g_strdup(parts[0]);
    c.ipv4 = c.ipv6 = true;
    inet_aton("10.0.2.0", &c.net);
    inet_aton("255.255.255.0", &c.mask);
    if (strcmp(c.type, "user")) {
        tn_error(err, "-netdev %s: network backend '%s' is not supported (Tandem has user "
                 "networking: -netdev user,id=ID)", spec, c.type);
        goto out;
    }
    for (int i = 1; parts[i]; i++) {
        char *eq = strchr(parts[i], '=');
        if (!eq) {
            tn_error(err, "-netdev %s: '%s' needs a value (KEY=VALUE; keys: %s)", spec,
                     parts[i], user_keys);
            goto out;
        }
        *eq = 0;
        const char *k = parts[i], *v = eq + 1;
        bool good = true;
        if (!strcmp(k, "id")) {
            good = *v && !c.id;
            g_free(c.id);
            c.id = g_strdup(v);
        } else if (!strcmp(k, "net")) {
            good = parse_net(v, &c.net, &c.mask);
        } else if (!strcmp(k, "host")) {
            good = inet_aton(v, &c.host);
            have_host = true;
        } else if (!strcmp(k, "dns")) {
            good = inet_aton(v, &c.dns);
            have_dns = true;
        } else if (!strcmp(k, "dhcpstart")) {
            good = inet_aton(v, &c.dhcp_start);
            have_dhcp = true;
        } else if (!strcmp(k, "hostfwd")) {
            if (c.nfwd == NET_MAX_HOSTFWD) {
                tn_error(err, "-netdev %s: at most %d hostfwd rules", spec, NET_MAX_HOSTFWD);
                goto out;
            }
            good = parse_hostfwd(v, &c.fwd[c.nfwd++]);
            if (!good) {
                tn_error(err, "-netdev %s: hostfwd=%s: expected [tcp|udp]:[HOSTADDR]:HOSTPORT-"
                         "[GUESTADDR]:GUESTPORT", spec, v);
                goto out;
            }
        } else if (!strcmp(k, "restrict")) {
            good = parse_bool(v, &c.restricted);
        } else if (!strcmp(k, "ipv4")) {
            good = parse_bool(v, &c.ipv4);
        } else if (!strcmp(k, "ipv6")) {
            good = parse_bool(v, &c.ipv6);
        } else if (!strcmp(k, "hostname")) {
            g_free(c.hostname);
            c.hostname = g_strdup(v);
        } else {
            tn_error(err, "-netdev %s: unknown parameter '%s' (user networking takes: %s)",
                     spec, k, user_keys);
            goto out;
        }
        if (!good) {
            tn_error(err, "-netdev %s: bad value %s=%s", spec, k, v);
            goto out;
        }
    }
    if (!c.id) {
        tn_error(err, "-netdev %s: give it an id (-netdev user,id=ID), which -device ..."
                 ",netdev=ID names", spec);
        goto out;
    }
    if (!c.ipv4 && !c.ipv6) {
        tn_error(err, "-netdev %s: ipv4=off and ipv6=off leave nothing to route", spec);
        goto out;
    }
    uint32_t net = ntohl(c.net.s_addr), mask = ntohl(c.mask.s_addr);
    if (!have_host)
        c.host.s_addr = htonl(net | 2);
    if (!have_dns)
        c.dns.s_addr = htonl(net | 3);
    if (!have_dhcp)
        c.dhcp_start.s_addr = htonl(net | 15);
    const struct { const char *what; struct in_addr a; } in_net[] = {
        { "host", c.host }, { "dns", c.dns }, { "dhcpstart", c.dhcp_start },
    };
    for (size_t k = 0; k < G_N_ELEMENTS(in_net); k++) {
        if ((ntohl(in_net[k].a.s_addr) & mask) != net) {
            tn_error(err, "-netdev %s: %s=%s is outside net=%s/%d", spec, in_net[k].what,
                     inet_ntoa(in_net[k].a), inet_ntoa(c.net), __builtin_popcount(mask));
            goto out;
        }
    }
    for (int i = 0; i < c.nfwd; i++)
        if (!c.fwd[i].guest_addr.s_addr)
            c.fwd[i].guest_addr = c.dhcp_start;
    ok = true;
out:
    g_strfreev(parts);
    if (ok && out)
        *out = c;
    else
        net_conf_clear(&c);
    return ok;
}

void net_conf_clear(NetdevConf *c)
{
    g_free(c->id);
    g_free(c->type);
    g_free(c->hostname);
    memset(c, 0, sizeof(*c));
}

bool net_parse_object(const char *spec, char **netdev, GError **err)
{
    gchar **parts = g_strsplit(spec, ",", -1);
    bool ok = false;
    g_autofree char *id = NULL, *nd = NULL;
    if (strcmp(parts[0], "filter-replay")) {
        tn_error(err, "-object %s: object type '%s' is not supported (Tandem knows "
                 "filter-replay,id=ID,netdev=NETDEV)", spec, parts[0]);
        goto out;
    }
    for (int i = 1; parts[i]; i++) {
        char *eq = strchr(parts[i], '=');
        const char *v = eq ? eq + 1 : "";
        if (eq)
            *eq = 0;
        const char *k = parts[i];
        if (!strcmp(k, "id") && *v) {
            g_free(id);
            id = g_strdup(v);
        } else if (!strcmp(k, "netdev") && *v) {
            g_free(nd);
            nd = g_strdup(v);
        } else if (!strcmp(k, "queue") && (!strcmp(v, "all") || !strcmp(v, "rx"))) {
            /* The replay filter records what the guest receives either way. */
        } else if (!strcmp(k, "status") && !strcmp(v, "on")) {
        } else {
            tn_error(err, "-object %s: %s%s%s is not supported (filter-replay takes id=, "
                     "netdev=, queue=all|rx)", spec, k, eq ? "=" : "", v);
            goto out;
        }
    }
    if (!id || !nd) {
        tn_error(err, "-object %s: filter-replay needs id=ID and netdev=NETDEV", spec);
        goto out;
    }
    if (netdev)
        *netdev = g_steal_pointer(&nd);
    ok = true;
out:
    g_strfreev(parts);
    return ok;
}

/* ---- the machine's netdevs ---- */

static void backend_deliver(void *opaque, const uint8_t *buf, size_t len)
{
    Netdev *nd = opaque;
    if (len == 0 || len > NET_MAX_FRAME || g_queue_get_length(&nd->rxq) >= NET_QUEUE_FRAMES)
        return;
    g_queue_push_tail(&nd->rxq, g_bytes_new(buf, len));
}

static void backend_transmit(void *opaque, const uint8_t *buf, size_t len)
{
    Netdev *nd = opaque;
    if (nd->slirp)
        net_slirp_input(nd->slirp, buf, len);
}

static void netdev_free(Netdev *nd)
{
    if (!nd)
        return;
    net_slirp_free(nd->slirp);
    g_queue_clear_full(&nd->rxq, (GDestroyNotify)g_bytes_unref);
    if (nd->pieces)
        g_byte_array_unref(nd->pieces);
    net_conf_clear(&nd->conf);
    g_free(nd);
}

NetState *net_create(Machine *m, const Options *o, GError **err)
{
    NetState *ns = g_new0(NetState, 1);
    ns->m = m;
    ns->replay = o->rr_mode == RR_MODE_REPLAY;
    for (int i = 0; i < o->nnetdevs; i++) {
        Netdev *nd = g_new0(Netdev, 1);
        nd->ns = ns;
        nd->index = (unsigned)i;
        g_queue_init(&nd->rxq);
        ns->nd[ns->n++] = nd;
        if (!net_parse_netdev(o->netdevs[i], &nd->conf, err))
            goto fail;
        nd->nc.id = nd->conf.id;
        for (unsigned k = 0; k + 1 < ns->n; k++) {
            if (!strcmp(ns->nd[k]->conf.id, nd->conf.id)) {
                tn_error(err, "-netdev %s: id %s is used twice", o->netdevs[i], nd->conf.id);
                goto fail;
            }
        }
    }
    for (int i = 0; i < o->nobjects; i++) {
        g_autofree char *target = NULL;
        if (!net_parse_object(o->objects[i], &target, err))
            goto fail;
        Netdev *nd = (Netdev *)net_find(ns, target);
        if (!nd) {
            tn_error(err, "-object %s: no -netdev has id=%s", o->objects[i], target);
            goto fail;
        }
        if (nd->filter) {
            tn_error(err, "-object %s: netdev %s has a filter-replay already (one per "
                     "netdev)", o->objects[i], target);
            goto fail;
        }
        nd->filter = true;
    }
    for (unsigned i = 0; i < ns->n; i++) {
        Netdev *nd = ns->nd[i];
        if (o->rr_mode && !nd->filter) {
            tn_error(err, "-netdev %s: record/replay needs a replay filter on it: add -object "
                     "filter-replay,id=replay%u,netdev=%s (QEMU's documentation asks the same: "
                     "it logs the frames the guest receives), or use -net none",
                     o->netdevs[i], i, nd->conf.id);
            goto fail;
        }
        if (ns->replay)
            continue;            /* cut off: the log has the frames */
        nd->slirp = net_slirp_new(&nd->conf, backend_deliver, nd, err);
        if (!nd->slirp)
            goto fail;
        nd->nc.transmit = backend_transmit;
        nd->nc.be_opaque = nd;
    }
    return ns;
fail:
    net_free(ns);
    return NULL;
}

void net_free(NetState *ns)
{
    if (!ns)
        return;
    for (unsigned i = 0; i < ns->n; i++)
        netdev_free(ns->nd[i]);
    g_free(ns);
}

NetClient *net_find(NetState *ns, const char *id)
{
    for (unsigned i = 0; ns && id && i < ns->n; i++)
        if (!strcmp(ns->nd[i]->conf.id, id))
            return &ns->nd[i]->nc;
    return NULL;
}

unsigned net_count(const NetState *ns)
{
    return ns ? ns->n : 0;
}

void net_check_peers(NetState *ns)
{
    for (unsigned i = 0; ns && i < ns->n; i++)
        if (!ns->nd[i]->nc.model)
            fprintf(stderr, "tandem: warning: netdev %s has no network device (add -device "
                    "rtl8139,netdev=%s)\n", ns->nd[i]->conf.id, ns->nd[i]->conf.id);
}

void net_config_text(const NetState *ns, GString *cfg)
{
    for (unsigned i = 0; ns && i < ns->n; i++) {
        const Netdev *nd = ns->nd[i];
        const uint8_t *a = nd->nc.mac;
        g_string_append_printf(cfg, "netdev.%u=%s type=%s device=%s", i, nd->conf.id,
                               nd->conf.type, nd->nc.model ? nd->nc.model : "none");
        if (nd->nc.model)
            g_string_append_printf(cfg, " mac=%02x:%02x:%02x:%02x:%02x:%02x", a[0], a[1], a[2],
                                   a[3], a[4], a[5]);
        g_string_append_c(cfg, '\n');
    }
}

/* ---- main loop ---- */

int net_poll_fds(NetState *ns, struct pollfd *pfd, int max, int64_t *timeout_ns)
{
    int n = 0;
    for (unsigned i = 0; ns && i < ns->n; i++) {
        Netdev *nd = ns->nd[i];
        nd->poll_n = nd->slirp ? net_slirp_fill(nd->slirp, pfd + n, max - n, timeout_ns) : 0;
        n += nd->poll_n;
    }
    return n;
}

bool net_poll_done(NetState *ns, const struct pollfd *pfd, int n, bool poll_failed)
{
    int at = 0;
    for (unsigned i = 0; ns && i < ns->n; i++) {
        Netdev *nd = ns->nd[i];
        if (!nd->slirp)
            continue;
        /* Each backend's slice, as net_poll_fds filled them. */
        int k = at + nd->poll_n <= n ? nd->poll_n : 0;
        net_slirp_poll(nd->slirp, pfd + at, k, poll_failed);
        at += k;
        nd->poll_n = 0;
    }
    return net_pump(ns);
}

bool net_pump(NetState *ns)
{
    bool any = false;
    for (unsigned i = 0; ns && i < ns->n; i++) {
        Netdev *nd = ns->nd[i];
        while (!g_queue_is_empty(&nd->rxq)) {
            GBytes *b = g_queue_peek_head(&nd->rxq);
            gsize len;
            const uint8_t *p = g_bytes_get_data(b, &len);
            NetClient *nc = &nd->nc;
            if (nc->model && !nc->can_receive(nc->fe_opaque, len))
                break;
            g_queue_pop_head(&nd->rxq);
            if (nc->model) {
                rr_net_frame(ns->m, nd->index, p, len);
                nc->receive(nc->fe_opaque, p, len);
                any = true;
            }
            g_bytes_unref(b);
        }
    }
    return any;
}

bool net_has_input(const NetState *ns)
{
    for (unsigned i = 0; ns && i < ns->n; i++)
        if (ns->nd[i]->slirp)
            return true;
    return false;
}

/* ---- record/replay ---- */

void net_split_frame(const uint8_t *buf, size_t len,
                     void (*piece)(void *opaque, bool more, const uint8_t *p, size_t n),
                     void *opaque)
{
    do {
        size_t n = len < NET_PIECE_MAX ? len : NET_PIECE_MAX;
        piece(opaque, len > n, buf, n);
        buf += n;
        len -= n;
    } while (len);
}

bool net_replay_piece(NetState *ns, unsigned idx, bool more, const uint8_t *p, size_t n,
                      char **why)
{
    if (!ns || idx >= ns->n) {
        *why = g_strdup_printf("a frame for netdev %u, but this machine has %u", idx,
                               net_count(ns));
        return false;
    }
    Netdev *nd = ns->nd[idx];
    if (!nd->pieces)
        nd->pieces = g_byte_array_new();
    if (nd->pieces->len + n > NET_MAX_FRAME) {
        g_byte_array_set_size(nd->pieces, 0);
        *why = g_strdup_printf("a frame for netdev %s longer than %d bytes", nd->conf.id,
                               NET_MAX_FRAME);
        return false;
    }
    g_byte_array_append(nd->pieces, p, (guint)n);
    if (more)
        return true;
    NetClient *nc = &nd->nc;
    size_t len = nd->pieces->len;
    bool ok = nc->model && nc->can_receive(nc->fe_opaque, len);
    if (!nc->model)
        *why = g_strdup_printf("a frame for netdev %s, which has no device here", nd->conf.id);
    else if (!ok)
        *why = g_strdup_printf("the %s on netdev %s cannot take the %zu-byte frame the "
                               "recording delivered here", nc->model, nd->conf.id, len);
    else
        nc->receive(nc->fe_opaque, nd->pieces->data, len);
    g_byte_array_set_size(nd->pieces, 0);
    return ok;
}
