/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The inside of a session, shared by the files that make one up:
 * session.c (life cycle, timers, accessors), send.c (device to peer),
 * receive.c (peer to device) and ctlmsg.c (the frames of the TLS stream:
 * HELLO, REKEY, CLOSE, DATA).  Nothing outside these four includes it;
 * the rest of the program sees struct session only through session.h.
 */
#ifndef TAPLINE_SESSION_PRIVATE_H
#define TAPLINE_SESSION_PRIVATE_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <event2/event.h>

#include "compress.h"
#include "frame.h"
#include "gso.h"
#include "handshake.h"
#include "log.h"
#include "netcfg.h"
#include "pkt.h"
#include "pmtu.h"
#include "scratch.h"
#include "script.h"
#include "session.h"
#include "shaper.h"
#include "timers.h"
#include "tunnel.h"
#include "stream.h"
#include "udpchan.h"
#include "udpsock.h"
#include "util.h"
#include "wire.h"

/* Packets one device wakeup may read before yielding to the loop. */
#define SESSION_BATCH 64
/* Device reads this close together (µs) are one burst. */
#define SESSION_BURST_US 200
/* MTU of a TCP-mode device when the config leaves it at 0. */
#define SESSION_TCP_MTU 1500
/* TCP flows the receive coalescer keeps open at once. */
#define SESSION_COAL_FLOWS 8
/* Ethernet header plus one VLAN tag on top of the MTU for tap frames. */
#define SESSION_TAP_EXTRA 18
/* How often (ms) the path MTU to the peer is asked again without an
 * ICMP error that says it changed (the kernel forgets a learnt one after
 * 10 minutes; a route may change), and at most how often with one. */
#define SESSION_PMTU_RECHECK_MS 5000
#define SESSION_PMTU_MIN_MS 100
/* ICMP too-big answers written into the tun per second at most. */
#define SESSION_ICMP_PER_SEC 50

struct session_queue {
	struct session *s;
	int fd;
	struct event *ev;
};

struct session {
	struct tunnel tun;	/* role, state, device, commands, the end */
	struct stream *t;	/* NULL while detached (reattach.c) */
	bool transport_done;
	/* For status: when keys were last renewed. */
	uint64_t rekey_ms;
	uint64_t key_updates;	/* TCP mode's KeyUpdates sent */

	/* What both ends agreed on (the server's settings). */
	enum dev_type type;
	int compress_level;
	int mtu;
	bool udp;		/* packets in UDP datagrams, not in TLS */
	enum wire_cipher cipher;

	/* UDP mode: the data channel, the socket (the server's shared one
	 * or the client's own), and where the peer's datagrams come from. */
	struct udp_chan *chan;
	struct udp_sock *usock;
	struct udp_sock *usock_own;
	uint32_t my_rid, peer_rid;
	struct sockaddr_storage udp_peer;
	socklen_t udp_peerlen;
	bool udp_peer_known;
	bool udp_pinned;	/* client: datagrams from the TCP source only */
	uint64_t udp_rx;	/* datagrams that authenticated */
	struct seal_limits lim;

	/* UDP mode's path MTU to the peer (send.c): the kernel's, 0 while
	 * unknown; the inner MTU it carries (never above mtu); when it was
	 * asked, and the socket's pmtu_events then; the ICMP answers sent
	 * in the current second. */
	int path_mtu;
	int inner_mtu;
	uint64_t pmtu_ms;
	uint64_t pmtu_events;
	uint64_t icmp_sec;
	unsigned int icmp_n;

	/* speed: UDP mode's buckets (TCP mode uses libevent's). */
	struct shaper shape_in, shape_out;
	struct event *shape_ev;

	struct session_queue *queues;
	bool reading;
	/* When the device reader last ran (the loop's cached clock, µs):
	 * see send_dev_batch. */
	uint64_t dev_read_us;

	/* With offloads on the tun: receive coalescing, flushed by coal_ev
	 * once the batch that filled it is done. */
	struct gso_coal *coal;
	struct event *coal_ev;
	bool coal_armed;
	bool udp_slots;		/* datagrams fit the socket's batch slots */

	struct compress *cz;
	struct timers timers;
	struct event *tick;

	/* UDP mode: the control connection lost and found (reattach.c). */
	uint8_t token[WIRE_REATTACH_TOKEN_LEN];
	bool token_ok;		/* exported from the current connection */
	bool redialing;		/* client: t is new, not re-attached yet */
	bool redial_connected;	/* ... and its TLS handshake is done */
	uint64_t redial_ms;
	uint64_t ctl_tx_ms;	/* client: last frame sent on t */

	struct log_ratelimit rl_tx;	/* own limiter: rarer, more telling */
	/* The loop's packet buffers, shared with its other sessions: what
	 * a callback puts there is gone (written, sealed, queued) before it
	 * returns (scratch.h). */
	struct scratch *scratch;
};

/*
 * The longest packet the session carries: the MTU both ends agreed on,
 * plus the Ethernet header (and a VLAN tag) on tap.  The device's own MTU
 * may be larger (an up command, an admin or a network manager can raise
 * it at any time), so every packet read from it is held to this.
 */
static inline size_t
session_pkt_limit(const struct session *s)
{
	return (size_t)s->mtu + (s->type == DEV_TAP ? SESSION_TAP_EXTRA : 0);
}

/*
 * UDP mode: the longest inner packet (tun: IP packet; tap: without the
 * Ethernet header) that crosses the path to the peer unfragmented, as
 * far as it is known; the session's MTU until then.
 */
static inline int
session_inner_mtu(const struct session *s)
{
	return s->inner_mtu > 0 ? s->inner_mtu : s->mtu;
}

/* session.c: the life cycle, timers and accessors */
extern const struct stream_cbs session_transport_cbs;
uint64_t session_now(void);
void session_maybe_gone(struct session *s);
void session_note_addrs(struct session *s);
void session_pause_reads(struct session *s);
void session_udp_maybe_rekey(struct session *s);
int session_derive_mtu(const struct session *s);
void session_setup(struct session *s);
int session_udp_client_start(struct session *s, const struct frame_hello *h);

/* send.c: device to peer */
void send_dev_readcb(evutil_socket_t fd, short what, void *arg);
void send_pmtu_check(struct session *s, bool now);
void send_udp_dgram(struct session *s, uint8_t kind, size_t len);

/* receive.c: peer to device */
int receive_dev_writev(void *arg, const struct iovec *iov, int iovcnt);
int receive_dev_inject(struct session *s, const uint8_t *p, size_t len);
void receive_coal_flushcb(evutil_socket_t fd, short what, void *arg);
void receive_deliver(struct session *s, uint8_t *body, size_t blen, bool zlib,
    bool gso);
void receive_udp_cb(void *arg, uint8_t *dgram, size_t len,
    const struct sockaddr *from, socklen_t fromlen);

/* ctlmsg.c: the frames of the TLS stream */
void ctlmsg_hello_fill(const struct session *s, struct frame_hello *h);
int ctlmsg_send_hello(struct session *s, uint8_t type, uint8_t flags);
int ctlmsg_framecb(void *arg, const struct frame_hdr *h, uint8_t *body);
void ctlmsg_connectedcb(void *arg);

/* reattach.c: UDP mode, the control connection lost and found again */
void reattach_token_export(struct session *s);
void reattach_conn_timeout(struct session *s);
/* The stream ended: true if the session goes on without it. */
bool reattach_detach(struct session *s, enum stream_end end,
    const char *why);
void reattach_send_hello(struct session *s);
/* Server: a HELLO with WIRE_FLAG_REATTACH on fresh's new connection. */
int reattach_adopt(struct session *fresh, const struct frame_hello *h,
    const uint8_t *token);
/* Client: the HELLO_ACK to a re-attach. */
int reattach_rx_hello_ack(struct session *s, const struct frame_hdr *fh,
    const struct frame_hello *h);
/* Once a second: deadlines, and the client's word on the connection. */
void reattach_tick(struct session *s);

#endif
