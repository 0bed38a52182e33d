/* Networking: -netdev backends, the NetClient between a backend and the
 * network device (frontend) that carries its frames, and record/replay of
 * the frames the guest receives (-object filter-replay).
 *
 * A backend (net/slirp.c: -netdev user) hands incoming frames to its
 * netdev, which queues them; the main loop delivers them to the device
 * only where it stops the CPU (net_pump), like serial input, so record
 * logs each frame there (RR_EV_NET) and replay delivers it from the log at
 * the same instruction.  In replay no backend exists at all (no slirp, no
 * host sockets): frames come from the log and the guest's outgoing frames
 * are dropped.  Frames the device cannot take yet (its receive ring is
 * full) wait in the queue; at most NET_QUEUE_FRAMES are kept, later ones
 * are dropped (TCP retransmits them). */
#ifndef TANDEM_NET_H
#define TANDEM_NET_H

#include <glib.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct Machine Machine;
typedef struct Options Options;
typedef struct NetState NetState;

/* The largest frame a backend may deliver (bigger ones are dropped). */
#define NET_MAX_FRAME 65536
#define NET_QUEUE_FRAMES 512
/* Host descriptors one machine's backends poll at most. */
#define NET_MAX_FDS 64
#define NET_MAX_HOSTFWD 16

/* One netdev's two ends.  The frontend (device) fills the first half with
 * net_client_attach; the backend's transmit takes the device's frames. */
typedef struct NetClient {
    const char *id;             /* the -netdev id */
    /* Frontend. */
    const char *model;          /* "rtl8139"; NULL while none is attached */
    uint8_t mac[6];
    /* Would the device take a frame of len bytes now?  A device that
     * drops frames (receiver off) says yes. */
    bool (*can_receive)(void *opaque, size_t len);
    void (*receive)(void *opaque, const uint8_t *buf, size_t len);
    void *fe_opaque;
    /* Backend: a frame the guest sends (NULL: dropped, as in replay). */
    void (*transmit)(void *opaque, const uint8_t *buf, size_t len);
    void *be_opaque;
} NetClient;

/* The device side.  Fails (false) when the netdev has a device already. */
bool net_client_attach(NetClient *nc, const char *model, const uint8_t mac[6],
                       bool (*can_receive)(void *, size_t),
                       void (*receive)(void *, const uint8_t *, size_t), void *opaque,
                       GError **err);
static inline void net_client_transmit(NetClient *nc, const uint8_t *buf, size_t len)
{
    if (nc && nc->transmit)
        nc->transmit(nc->be_opaque, buf, len);
}

/* ---- -netdev user ---- */

typedef struct NetHostFwd {
    bool udp;
    struct in_addr host_addr;   /* INADDR_ANY when not given */
    int host_port;
    struct in_addr guest_addr;  /* the DHCP start address when not given */
    int guest_port;
} NetHostFwd;

typedef struct NetdevConf {
    char *id;
    char *type;                 /* "user" */
    bool restricted, ipv4, ipv6;
    struct in_addr net, mask, host, dns, dhcp_start;
    char *hostname;
    NetHostFwd fwd[NET_MAX_HOSTFWD];
    int nfwd;
} NetdevConf;

/* Parses a -netdev spec ("user,id=n1,hostfwd=tcp::5555-:22,...") with
 * QEMU's defaults (net=10.0.2.0/24, host .2, dns .3, dhcpstart .15); conf
 * may be NULL (check only).  Free with net_conf_clear. */
bool net_parse_netdev(const char *spec, NetdevConf *conf, GError **err);
void net_conf_clear(NetdevConf *conf);
/* A card's mac= property: six hex bytes "52:54:00:12:34:56", unicast. */
bool net_parse_mac(const char *s, uint8_t mac[6]);
/* Checks an -object spec: only filter-replay,id=ID,netdev=N is known.
 * *netdev (g_free) names its netdev when not NULL. */
bool net_parse_object(const char *spec, char **netdev, GError **err);

/* ---- the machine's netdevs ---- */

/* All -netdev of o, in command-line order (their index is what the log
 * records).  Starts the backends unless replaying; under record/replay
 * every netdev needs its filter-replay object. */
NetState *net_create(Machine *m, const Options *o, GError **err);
void net_free(NetState *ns);
/* The netdev with this id, or NULL. */
NetClient *net_find(NetState *ns, const char *id);
/* After the board: a note for each netdev no device uses (QEMU warns the
 * same way). */
void net_check_peers(NetState *ns);
/* "netdev.N=..." lines for the record/replay configuration text: what a
 * replay must have the same (ids, types, devices and their MACs). */
void net_config_text(const NetState *ns, GString *cfg);
unsigned net_count(const NetState *ns);

/* Main loop.  net_poll_fds adds the backends' descriptors to pfd (at most
 * max) and lowers *timeout_ns (-1: none) to their timers; after poll(),
 * net_poll_done lets them read (n: what net_poll_fds returned) and
 * delivers.  net_pump delivers queued frames the devices take now (record
 * logs each); true if any was delivered.  All are no-ops on a NULL
 * NetState or in replay. */
int net_poll_fds(NetState *ns, struct pollfd *pfd, int max, int64_t *timeout_ns);
bool net_poll_done(NetState *ns, const struct pollfd *pfd, int n, bool poll_failed);
bool net_pump(NetState *ns);
/* A backend may wake an idle guest (the main loop must poll it). */
bool net_has_input(const NetState *ns);

/* Record/replay: one logged piece of a frame.  Frames longer than a log
 * payload are cut into pieces (all but the last flagged "more"), logged
 * back to back at the same position.  net_split_frame calls piece() for
 * each; net_replay_piece gathers them for netdev idx and delivers the frame
 * with its last piece.  false with *why (g_free) when the log does not fit
 * this machine (no such netdev, no device, a device that cannot take it). */
#define NET_PIECE_MAX (65536 - 2)
void net_split_frame(const uint8_t *buf, size_t len,
                     void (*piece)(void *opaque, bool more, const uint8_t *p, size_t n),
                     void *opaque);
bool net_replay_piece(NetState *ns, unsigned idx, bool more, const uint8_t *p, size_t n,
                      char **why);

#endif
