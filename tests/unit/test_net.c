/* The netdev layer (net/net.c): -netdev/-object parsing with QEMU's
 * defaults, the filter-replay rule under record/replay, frames cut into
 * log pieces and gathered again in replay, delivered to an RTL8139, and
 * the configuration lines a replay compares. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <glib.h>
#include <string.h>

#include "devices/pci.h"
#include "devices/rtl8139.h"
#include "net/net.h"
#include "vmm/machine.h"
#include "vmm/options.h"

#include "dev_machine.h"

static const char *ip(struct in_addr a)
{
    static char buf[4][INET_ADDRSTRLEN];
    static int k;
    k = (k + 1) % 4;
    return inet_ntop(AF_INET, &a, buf[k], sizeof(buf[k]));
}

Test(net, netdev_defaults_and_hostfwd)
{
    NetdevConf c;
    GError *e = NULL;
    cr_assert(net_parse_netdev("user,id=n1,hostfwd=tcp::5555-:22,hostfwd=udp:127.0.0.1:"
                               "6000-10.0.2.20:53", &c, &e), "%s", e ? e->message : "");
    cr_assert_str_eq(c.id, "n1");
    cr_assert_str_eq(ip(c.net), "10.0.2.0");
    cr_assert_str_eq(ip(c.mask), "255.255.255.0");
    cr_assert_str_eq(ip(c.host), "10.0.2.2");
    cr_assert_str_eq(ip(c.dns), "10.0.2.3");
    cr_assert_str_eq(ip(c.dhcp_start), "10.0.2.15");
    cr_assert_eq(c.nfwd, 2);
    cr_assert(!c.fwd[0].udp);
    cr_assert_eq(c.fwd[0].host_port, 5555);
    cr_assert_eq(c.fwd[0].guest_port, 22);
    cr_assert_str_eq(ip(c.fwd[0].host_addr), "0.0.0.0");
    cr_assert_str_eq(ip(c.fwd[0].guest_addr), "10.0.2.15");
    cr_assert(c.fwd[1].udp);
    cr_assert_str_eq(ip(c.fwd[1].host_addr), "127.0.0.1");
    cr_assert_str_eq(ip(c.fwd[1].guest_addr), "10.0.2.20");
    net_conf_clear(&c);

    cr_assert(net_parse_netdev("user,id=x,net=192.168.76.0/24,dhcpstart=192.168.76.9", &c,
                               &e));
    cr_assert_str_eq(ip(c.host), "192.168.76.2");
    cr_assert_str_eq(ip(c.dns), "192.168.76.3");
    cr_assert_str_eq(ip(c.dhcp_start), "192.168.76.9");
    net_conf_clear(&c);
    cr_assert(net_parse_netdev("user,id=x,net=10.9.0.0/255.255.0.0,ipv6=off,restrict=on", &c,
                               &e));
    cr_assert_str_eq(ip(c.mask), "255.255.0.0");
    cr_assert(!c.ipv6 && c.restricted);
    net_conf_clear(&c);
}

static void refused(const char *spec, const char *needle)
{
    GError *e = NULL;
    cr_assert(!net_parse_netdev(spec, NULL, &e), "%s accepted", spec);
    cr_assert(strstr(e->message, needle), "%s: %s", spec, e->message);
    g_error_free(e);
}

Test(net, netdev_errors)
{
    refused("tap,id=t0", "not supported");
    refused("user", "give it an id");
    refused("user,id=n1,hostfwd=tcp:5555:22", "hostfwd=");
    refused("user,id=n1,hostfwd=sctp::1-:2", "hostfwd=");
    refused("user,id=n1,hostfwd=tcp::70000-:22", "hostfwd=");
    refused("user,id=n1,smb=/tmp", "unknown parameter 'smb'");
    refused("user,id=n1,host=10.0.3.2", "outside net=");
    refused("user,id=n1,net=10.0.2.0/33", "bad value");
    refused("user,id=n1,ipv4=off,ipv6=off", "nothing to route");
    refused("user,id=n1,restrict", "needs a value");
    GError *e = NULL;
    char *nd = NULL;
    cr_assert(net_parse_object("filter-replay,id=r,netdev=n1", &nd, &e));
    cr_assert_str_eq(nd, "n1");
    g_free(nd);
    cr_assert(!net_parse_object("filter-dump,id=f,netdev=n1,file=x", NULL, &e));
    cr_assert(strstr(e->message, "filter-replay"), "%s", e->message);
    g_clear_error(&e);
    cr_assert(!net_parse_object("filter-replay,id=r", NULL, &e));
    cr_assert(strstr(e->message, "netdev="), "%s", e->message);
    g_clear_error(&e);
    cr_assert(!net_parse_object("filter-replay,id=r,netdev=n1,queue=tx", NULL, &e));
    g_clear_error(&e);
}

/* ---- a machine with netdevs (replay mode: no slirp, no sockets) ---- */

static uint64_t icount;

static Options opts(int rr_mode, const char *netdev, const char *object)
{
    Options o;
    memset(&o, 0, sizeof(o));
    o.rr_mode = rr_mode;
    o.netdevs[0] = netdev;
    o.nnetdevs = 1;
    if (object) {
        o.objects[0] = object;
        o.nobjects = 1;
    }
    return o;
}

Test(net, record_replay_needs_filter_replay)
{
    Machine *m = dev_machine_new(&icount);
    GError *e = NULL;
    for (int mode = 1; mode <= 2; mode++) {
        Options o = opts(mode, "user,id=n1", NULL);
        cr_assert_null(net_create(m, &o, &e));
        cr_assert(strstr(e->message, "-object filter-replay,id=replay0,netdev=n1"), "%s",
                  e->message);
        g_clear_error(&e);
    }
    Options o = opts(2, "user,id=n1", "filter-replay,id=r,netdev=n2");
    cr_assert_null(net_create(m, &o, &e));
    cr_assert(strstr(e->message, "no -netdev has id=n2"), "%s", e->message);
    g_clear_error(&e);
    dev_machine_free(m);
}

static Machine *m;
static NetState *ns;
static Rtl8139 *nic;

static void rig(void)
{
    m = dev_machine_new(&icount);
    cr_assert_eq(machine_alloc_ram(m, 0, 1 << 20, NULL), 0);
    static Options o;
    o = opts(2, "user,id=n1", "filter-replay,id=replay,netdev=n1");
    GError *e = NULL;
    ns = net_create(m, &o, &e);
    cr_assert_not_null(ns, "%s", e ? e->message : "");
    m->net = ns;
    PciBus *bus = pci_bus_create(m, &m->io);
    static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
    nic = rtl8139_create(m, bus, PCI_DEVFN(3, 0), &m->io, mac, net_find(ns, "n1"), &e);
    cr_assert_not_null(nic);
    rtl8139_firmware_setup(nic, 0xc100, 0xfebff000u, 11);
    /* The receiver on, a 64K ring at 0x10000, all frames. */
    dev_out(m, 0xc100 + 0x30, 4, 0x10000);
    dev_out(m, 0xc100 + 0x37, 1, 0x0c);
    dev_out(m, 0xc100 + 0x44, 4, 3u << 11 | 0x0f);
}

static void unrig(void)
{
    dev_machine_free(m);
    net_free(ns);
}

TestSuite(net_replay, .init = rig, .fini = unrig);

Test(net_replay, pieces_make_one_frame)
{
    static uint8_t f[60000];
    memset(f, 0xff, 6);
    for (size_t i = 6; i < sizeof(f); i++)
        f[i] = (uint8_t)(i * 13);
    char *why = NULL;
    cr_assert(net_replay_piece(ns, 0, true, f, 1000, &why));
    cr_assert_eq(dev_in(m, 0xc100 + 0x3a, 2), 0, "nothing before the last piece");
    cr_assert(net_replay_piece(ns, 0, false, f + 1000, sizeof(f) - 1000, &why), "%s", why);
    uint32_t hdr;
    memcpy(&hdr, m->ram + 0x10000, 4);
    cr_assert_eq(hdr >> 16, sizeof(f) + 4);
    cr_assert(!memcmp(m->ram + 0x10004, f, sizeof(f)));
    /* Another netdev number, or a frame too long: the replay stops. */
    cr_assert(!net_replay_piece(ns, 1, false, f, 60, &why));
    cr_assert(strstr(why, "netdev 1, but this machine has 1"), "%s", why);
    g_free(why);
    cr_assert(net_replay_piece(ns, 0, true, f, 40000, &why));
    cr_assert(!net_replay_piece(ns, 0, false, f, 40000, &why));
    cr_assert(strstr(why, "longer than"), "%s", why);
    g_free(why);
}

/* The record side's cut (rr_net_frame): replayed piece by piece, the
 * device gets the frame whole. */
static int npieces, nmore;

static void replay_piece_cb(void *opaque, bool more, const uint8_t *p, size_t n)
{
    char *why = NULL;
    cr_assert_leq(n, NET_PIECE_MAX);
    npieces++;
    nmore += more;
    cr_assert(net_replay_piece(ns, 0, more, p, n, &why), "%s", why);
}

Test(net_replay, split_then_gathered)
{
    static uint8_t f[NET_MAX_FRAME];
    for (size_t i = 0; i < sizeof(f); i++)
        f[i] = (uint8_t)(i * 7 + 1);
    memcpy(f, "\x52\x54\x00\x12\x34\x56", 6);
    /* The largest frame takes two pieces (the RTL8139 then drops it: its
     * ring header holds at most 65535 bytes with the CRC). */
    net_split_frame(f, sizeof(f), replay_piece_cb, NULL);
    cr_assert_eq(npieces, 2);
    cr_assert_eq(nmore, 1);
    cr_assert_eq(dev_in(m, 0xc100 + 0x4c, 4), 1, "counted as missed");
    npieces = nmore = 0;
    net_split_frame(f, 65000, replay_piece_cb, NULL);
    cr_assert_eq(npieces, 1);
    uint32_t hdr;
    memcpy(&hdr, m->ram + 0x10000, 4);
    cr_assert_eq(hdr & 0xffff, 0x4001, "physical match, ROK");
    cr_assert_eq(hdr >> 16, 65000 + 4);
    cr_assert(!memcmp(m->ram + 0x10004, f, 65000));
    npieces = nmore = 0;
    net_split_frame(f, 60, replay_piece_cb, NULL);
    cr_assert_eq(npieces, 1);
    cr_assert_eq(nmore, 0);
}

Test(net_replay, config_lines)
{
    GString *s = g_string_new(NULL);
    net_config_text(ns, s);
    cr_assert_str_eq(s->str, "netdev.0=n1 type=user device=rtl8139 mac=52:54:00:12:34:56\n");
    g_string_free(s, TRUE);
    cr_assert_eq(net_count(ns), 1);
    /* Replay: no backend, nothing to poll, outgoing frames vanish. */
    cr_assert(!net_has_input(ns));
    int64_t t = -1;
    struct pollfd pfd[4];
    cr_assert_eq(net_poll_fds(ns, pfd, 4, &t), 0);
    cr_assert_eq(t, -1);
    NetClient *nc = net_find(ns, "n1");
    cr_assert_null(nc->transmit);
}
