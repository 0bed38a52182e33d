/* -netdev and -object filter-replay option parsing (net/net.h), apart from
 * the backends so that tools and the option fuzzer link it alone. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net.h"
#include "vmm/error.h"
#include "vmm/options.h"

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

bool net_parse_mac(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    char tail;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5],
               &tail) != 6)
        return false;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)v[i];
    return !(mac[0] & 1);           /* a card's own address is unicast */
}
