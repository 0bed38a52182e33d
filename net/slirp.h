/* -netdev user: libslirp behind a netdev (net/net.c).  Slirp runs on host
 * time (its TCP timers, its sockets): it is outside the guest's
 * determinism, which is why record logs what it delivers. */
#ifndef TANDEM_NET_SLIRP_H
#define TANDEM_NET_SLIRP_H

#include <glib.h>
#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net/net.h"

typedef struct NetSlirp NetSlirp;

/* deliver() gets each frame slirp sends to the guest.  Fails when a
 * hostfwd port cannot be bound (the message names it). */
NetSlirp *net_slirp_new(const NetdevConf *c,
                        void (*deliver)(void *opaque, const uint8_t *buf, size_t len),
                        void *opaque, GError **err);
void net_slirp_free(NetSlirp *s);
/* A frame from the guest. */
void net_slirp_input(NetSlirp *s, const uint8_t *buf, size_t len);
/* Its descriptors into pfd (at most max); lowers *timeout_ns (-1: none)
 * to its next timer. */
int net_slirp_fill(NetSlirp *s, struct pollfd *pfd, int max, int64_t *timeout_ns);
/* After poll(): pfd holds the n entries net_slirp_fill returned. */
void net_slirp_poll(NetSlirp *s, const struct pollfd *pfd, int n, bool poll_failed);

#endif
