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

/* Option parsing: net_spec.c. */

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
                    "rtl8139,netdev=%s on pc, virtio-net-device,netdev=%s on virt)\n",
                    ns->nd[i]->conf.id, ns->nd[i]->conf.id, ns->nd[i]->conf.id);
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
