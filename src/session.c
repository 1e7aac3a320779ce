/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/uio.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/ssl.h>

#include "compress.h"
#include "frame.h"
#include "gso.h"
#include "handshake.h"
#include "log.h"
#include "netcfg.h"
#include "pkt.h"
#include "script.h"
#include "session.h"
#include "shaper.h"
#include "timers.h"
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

struct session_queue {
	struct session *s;
	int fd;
	struct event *ev;
};

struct session {
	struct event_base *base;
	enum session_role role;
	enum session_state state;
	const struct session_cbs *cbs;
	void *arg;
	const struct conf_session *cs;
	struct stream *t;
	bool transport_done;
	bool authenticated;
	bool was_up;
	uint64_t up_since_ms;
	/* For status: when TLS finished and when keys were last renewed. */
	uint64_t handshake_ms;
	uint64_t rekey_ms;
	uint64_t key_updates;	/* TCP mode's KeyUpdates sent */

	struct sockaddr_storage peer;
	socklen_t peerlen;
	char peer_str[INET6_ADDRSTRLEN + 16];
	char peer_host[INET6_ADDRSTRLEN];
	char peer_port[8];
	char local_host[INET6_ADDRSTRLEN];
	char local_port[8];

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
	uint64_t udp_rx;	/* datagrams that authenticated */
	struct seal_limits lim;

	/* speed: UDP mode's buckets (TCP mode uses libevent's). */
	struct shaper shape_in, shape_out;
	struct event *shape_ev;

	struct dev own_dev;	/* the device, unless kept by the client */
	struct dev *dev;	/* &own_dev or the client's kept device */
	bool dev_ready;		/* open and configured by us or kept */
	bool dev_fresh;		/* configured by this session: run up/down */
	struct session_queue *queues;
	bool reading;
	/* When the device reader last ran (the loop's cached clock, µs):
	 * see session_dev_batch. */
	uint64_t dev_read_us;

	/* With offloads on the tun: receive coalescing, flushed by coal_ev
	 * once the batch that filled it is done. */
	struct gso_coal *coal;
	struct event *coal_ev;
	bool coal_armed;
	bool udp_slots;		/* datagrams fit the socket's batch slots */

	struct compress *cz;
	struct script_run *script;
	bool down_running;
	struct timers timers;
	struct event *tick;
	struct event *reap;

	struct session_counters c;
	struct log_ratelimit rl_drop;
	struct log_ratelimit rl_tx;	/* own limiter: rarer, more telling */
	struct log_ratelimit *rl_preauth;
	uint8_t pkt[WIRE_PACKET_MAX];
	uint8_t seg[WIRE_PACKET_MAX];	/* one segment of a super-packet */
	uint8_t dgram[WIRE_UDP_MAX_LEN + WIRE_TAILROOM];
};

static void session_teardown(struct session *s);
static void session_dev_read_udp(struct session *s, int fd);

/*
 * The longest packet the session carries: the MTU both ends agreed on,
 * plus the Ethernet header (and a VLAN tag) on tap.  The device's own MTU
 * may be larger (an up command, an admin or a network manager can raise
 * it at any time), so every packet read from it is held to this.
 */
static size_t
session_pkt_limit(const struct session *s)
{
	return (size_t)s->mtu + (s->type == DEV_TAP ? SESSION_TAP_EXTRA : 0);
}

/* A line about a connection before authentication: rate-limited. */
static void LOG_PRINTF(3, 4)
session_preauth_log(const struct session *s, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (s->rl_preauth != NULL)
		log_vrl(s->rl_preauth, level, fmt, ap);
	else
		log_vmsg(level, fmt, ap);
	va_end(ap);
}

void
session_set_preauth_ratelimit(struct session *s, struct log_ratelimit *rl)
{
	s->rl_preauth = rl;
}

static uint64_t
session_now(void)
{
	return util_now_ms();
}

/*
 * "cobra: ", the start of every log line about a session; empty before
 * the peer has said which session it is (then the line names the peer).
 */
static const char *
session_tag(const struct session *s)
{
	return s->cs != NULL ? s->cs->tag : "";
}

/* A packet from the device longer than the session carries: dropped. */
static void
session_drop_oversize(struct session *s, size_t len)
{
	s->c.drop_oversize++;
	log_rl(&s->rl_drop, LOG_WARNING, "%sdropped a %zu-byte packet from "
	    "%s: the session's MTU is %d (is the device's MTU raised?)",
	    session_tag(s), len, s->dev->name, s->mtu);
}

/* Remember both ends' addresses as the kernel sees them (for %a %A). */
static void
session_note_addrs(struct session *s)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	int fd = stream_fd(s->t);

	if (fd >= 0 && getsockname(fd, (struct sockaddr *)&local, &len) == 0)
		util_sockaddr_parts((struct sockaddr *)&local, s->local_host,
		    sizeof(s->local_host), s->local_port,
		    sizeof(s->local_port));
}

/* Run the owner's gone callback from the loop, never from inside ours. */
static void
session_reapcb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	s->cbs->gone(s, s->arg);
}

/* Gone once the stream has ended and no down command is running. */
static void
session_maybe_gone(struct session *s)
{
	if (s->state == SESSION_CLOSING && s->transport_done &&
	    !s->down_running && s->script == NULL)
		event_active(s->reap, 0, 0);
}

static void
session_pause_reads(struct session *s)
{
	int i;

	if (!s->reading)
		return;
	for (i = 0; i < s->dev->nqueues; i++)
		event_del(s->queues[i].ev);
	s->reading = false;
}

static void
session_resume_reads(struct session *s)
{
	int i;

	if (s->reading || s->state != SESSION_UP)
		return;
	for (i = 0; i < s->dev->nqueues; i++)
		event_add(s->queues[i].ev, NULL);
	s->reading = true;
}

/*
 * A packet read from a tun with a vnet header (at buf, n bytes in all,
 * the packet at buf + GSO_VNET_LEN): the header into *h, and a checksum
 * the kernel left to us finished on a plain packet.  Returns 1 for a
 * super-packet, 0 for a plain packet, -1 when it is counted and dropped.
 */
static int
session_vnet_read(struct session *s, uint8_t *buf, size_t n,
    struct gso_vnet *h)
{
	if (n <= GSO_VNET_LEN) {
		s->c.dev_read_errors++;
		return -1;
	}
	memcpy(h, buf, sizeof(*h));
	if (h->gso_type != GSO_NONE)
		return 1;
	if ((h->flags & GSO_F_NEEDS_CSUM) != 0 &&
	    gso_finish_csum(buf + GSO_VNET_LEN, n - GSO_VNET_LEN, h) != 0) {
		s->c.dev_read_errors++;
		return -1;
	}
	return 0;
}

/* TCP mode: the vnet header in place becomes the wire's offload header. */
static void
session_gso_hdr_put(uint8_t *buf, const struct gso_vnet *h)
{
	buf[0] = h->flags;
	buf[1] = h->gso_type;
	pkt_store16(buf + 2, h->hdr_len);
	pkt_store16(buf + 4, h->gso_size);
	pkt_store16(buf + 6, h->csum_start);
	pkt_store16(buf + 8, h->csum_offset);
}

/*
 * How many packets this wake-up of the device reader takes.  A reader
 * woken again within SESSION_BURST_US of its last run is in a burst and
 * drains up to SESSION_BATCH; one woken from idle (a ping, a lone ACK)
 * takes one packet and leaves the rest, if any, to the loop, whose
 * level-triggered readiness calls it back at once (then in burst mode).
 * That saves the read that would only return EAGAIN, one system call
 * on the latency path of every lone packet.
 */
static int
session_dev_batch(struct session *s)
{
	struct timeval tv;
	uint64_t now, last = s->dev_read_us;

	if (event_base_gettimeofday_cached(s->base, &tv) != 0)
		return SESSION_BATCH;
	now = (uint64_t)tv.tv_sec * 1000000 + (uint64_t)tv.tv_usec;
	s->dev_read_us = now;
	return now - last < SESSION_BURST_US ? SESSION_BATCH : 1;
}

/*
 * Drain up to SESSION_BATCH packets from one queue into the stream:
 * straight into the staging extent when uncompressed, through the zlib
 * stage otherwise.  A tun with offloads hands over super-packets of up
 * to 64 KiB; they go whole, behind an offload header.  Errors are
 * counted; the session never ends here.
 */
static void
session_dev_readcb(evutil_socket_t fd, short what, void *arg)
{
	struct session_queue *q = arg;
	struct session *s = q->s;
	size_t vh = s->dev->vnet ? GSO_VNET_LEN : 0;
	int i, batch;

	if (s->udp) {
		session_dev_read_udp(s, fd);
		return;
	}
	batch = session_dev_batch(s);
	for (i = 0; i < batch && s->state == SESSION_UP; i++) {
		uint8_t *dst = stream_data_reserve(s->t,
		    WIRE_DATA_MAX_BODY);
		uint8_t *buf = s->cz != NULL ? s->pkt : dst;
		size_t keep = 0, clen, plen;
		struct gso_vnet h;
		uint8_t flags = 0;
		ssize_t n;
		int r;

		if (dst == NULL)
			break;
		n = read(fd, buf, s->cz != NULL ? sizeof(s->pkt) :
		    WIRE_DATA_MAX_BODY);
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR) {
				s->c.dev_read_errors++;
				log_rl(&s->rl_drop, LOG_WARNING,
				    "%sreading %s: %s", session_tag(s),
				    s->dev->name, strerror(errno));
			}
			break;
		}
		if (vh > 0) {
			if ((r = session_vnet_read(s, buf, (size_t)n, &h)) < 0)
				continue;
			if (r == 1) {
				/* The offload header stays in front. */
				session_gso_hdr_put(buf, &h);
				keep = WIRE_GSO_HDR_LEN;
				flags = WIRE_FLAG_GSO;
				s->c.tx_super++;
			} else if (s->cz == NULL) {
				memmove(buf, buf + vh, (size_t)n - vh);
				n -= (ssize_t)vh;
			}
		}
		plen = (size_t)n - (keep > 0 || s->cz != NULL ? vh : 0);
		if (keep == 0 && plen > session_pkt_limit(s)) {
			session_drop_oversize(s, plen);
			continue;
		}
		s->c.tx_packets++;
		s->c.tx_bytes += plen;
		if (s->cz == NULL) {
			stream_data_commit(s->t, (size_t)n, flags);
			s->c.tx_bytes_wire += (uint64_t)n;
			goto next;
		}
		/* From s->pkt: the header (if kept), then the packet. */
		if (keep > 0)
			memcpy(dst, s->pkt, keep);
		if (compress_packet(s->cz, s->pkt + vh, plen, dst + keep,
		    plen, &clen) == 1) {
			stream_data_commit(s->t, keep + clen,
			    flags | WIRE_FLAG_ZLIB);
			s->c.tx_bytes_wire += keep + clen;
		} else {
			memcpy(dst + keep, s->pkt + vh, plen);
			stream_data_commit(s->t, keep + plen, flags);
			s->c.tx_bytes_wire += keep + plen;
		}
next:
		if (stream_congested(s->t))
			break;
	}
	stream_flush(s->t);
	timers_on_tx(&s->timers, session_now());
	/* Backpressure: stop reading the device until TLS drains. */
	if (stream_congested(s->t))
		session_pause_reads(s);
}

/*
 * Every write to the device: iov[0] is the vnet header (sent only when
 * the tun has one), the packet follows in iov[1..].  Counts the packet,
 * or its drop (EIO while the link is down, EINVAL, a full queue).  Also
 * the coalescer's write callback (gso.h).
 */
static int
session_dev_writev(void *arg, const struct iovec *iov, int iovcnt)
{
	struct session *s = arg;
	const struct gso_vnet *h = iov[0].iov_base;
	size_t len = 0;
	int i;

	for (i = 1; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (!s->dev->vnet) {
		iov++;
		iovcnt--;
	}
	if (writev(s->dev->fds[0], iov, iovcnt) < 0) {
		s->c.drop_dev_write++;
		log_rl(&s->rl_drop, LOG_WARNING, "%swriting %s: %s",
		    session_tag(s), s->dev->name, strerror(errno));
		return -1;
	}
	if (h->gso_type != GSO_NONE)
		s->c.rx_super++;
	s->c.rx_packets++;
	s->c.rx_bytes += len;
	return 0;
}

/* A plain packet (no offload) to the device. */
static void
session_dev_write(struct session *s, const uint8_t *p, size_t len)
{
	static const struct gso_vnet none;

	(void)session_dev_writev(s, (struct iovec[]){
	    { (void *)&none, sizeof(none) }, { (void *)p, len } }, 2);
}

/* After the batch that filled it: write what the coalescer holds. */
static void
session_coal_flushcb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	s->coal_armed = false;
	if (s->coal != NULL)
		gso_coal_flush(s->coal);
}

/*
 * TCP mode: a super-packet from the peer (behind its offload header).
 * Into a tun with offloads it goes whole; otherwise it is split into
 * segments here.  Either way no segment may exceed our MTU.
 */
static void
session_deliver_gso(struct session *s, const uint8_t *hdr, uint8_t *p,
    size_t len)
{
	uint8_t type = hdr[1] & (uint8_t)~GSO_ECN;
	uint16_t size = pkt_load16(hdr + 4);
	struct gso_split sp;
	struct gso_vnet vh;
	const char *why = "segments larger than the MTU";
	size_t i;

	if (gso_split_init(&sp, type, size, p, len, &why) != 0 ||
	    sp.hlen + sp.mss > (size_t)s->mtu) {
		s->c.drop_bad_packet++;
		log_rl(&s->rl_drop, LOG_WARNING, "%sdropped a super-packet "
		    "from %s: %s", session_tag(s), s->peer_str, why);
		return;
	}
	if (s->coal != NULL)
		gso_coal_flush(s->coal);	/* keep each flow in order */
	/* Whole into a tun that takes this kind, else split here. */
	if (s->dev->vnet && (type != GSO_UDP_L4 ||
	    (s->dev->offload & DEV_OFF_USO4) != 0)) {
		if (gso_prepare_write(type, size, p, len, &vh, &why) != 0) {
			s->c.drop_bad_packet++;
			return;
		}
		(void)session_dev_writev(s, (struct iovec[]){
		    { &vh, sizeof(vh) }, { p, len } }, 2);
		return;
	}
	for (i = 0; i < sp.nsegs; i++)
		session_dev_write(s, s->seg, gso_split_seg(&sp, i, s->seg));
}

/*
 * One packet from the peer (a DATA body or an opened datagram) into the
 * device, or counted and dropped.  With offloads on our tun, packets go
 * through the coalescer, which merges the segments of a TCP flow.
 */
static void
session_deliver(struct session *s, uint8_t *body, size_t blen, bool zlib,
    bool gso)
{
	size_t limit = session_pkt_limit(s);
	const uint8_t *p = body;
	size_t len = blen;
	const char *why;

	if (s->state != SESSION_UP) {
		s->c.drop_not_ready++;
		return;
	}
	if (gso) {
		/* A super-packet: its own, larger limit. */
		if (blen <= WIRE_GSO_HDR_LEN || s->type != DEV_TUN) {
			s->c.drop_bad_packet++;
			return;
		}
		p += WIRE_GSO_HDR_LEN;
		len -= WIRE_GSO_HDR_LEN;
		limit = sizeof(s->pkt);	/* inflated into it */
	}
	if (zlib) {
		if (s->cz == NULL || compress_inflate(s->cz, p, len,
		    s->pkt, limit, &len) != 0) {
			s->c.drop_inflate++;
			log_rl(&s->rl_drop, LOG_WARNING, "%sdropped a "
			    "packet that does not inflate within %zu bytes",
			    session_tag(s), limit);
			return;
		}
		p = s->pkt;
	}
	if (gso) {
		/* Fixed up in place: the body is ours (stream.h). */
		session_deliver_gso(s, body, zlib ? s->pkt : body +
		    WIRE_GSO_HDR_LEN, len);
		return;
	}
	if (frame_packet_check(s->type == DEV_TAP, p, len, (size_t)s->mtu,
	    &why) != 0) {
		s->c.drop_bad_packet++;
		log_rl(&s->rl_drop, LOG_WARNING, "%sdropped a packet from "
		    "%s: %s", session_tag(s), s->peer_str, why);
		return;
	}
	if (s->coal != NULL) {
		gso_coal_add(s->coal, p, len);
		if (!s->coal_armed && gso_coal_pending(s->coal)) {
			s->coal_armed = true;
			event_active(s->coal_ev, EV_TIMEOUT, 0);
		}
		return;
	}
	session_dev_write(s, p, len);
}

/*
 * Client: start a rekey when the packet or time limit of either
 * direction is near.  Checked after every batch, not only once a second,
 * because at high rates an epoch can be used up within a second.
 */
static void
session_udp_maybe_rekey(struct session *s)
{
	uint8_t body[UDP_REKEY_LEN];
	char err[200];

	if (s->role != SESSION_CLIENT || s->chan == NULL ||
	    !udp_chan_rekey_wanted(s->chan, session_now()))
		return;
	if (udp_chan_rekey_start(s->chan, body, err, sizeof(err)) != 0)
		log_warnx("%srekey: %s", session_tag(s), err);
	else
		(void)stream_send(s->t, WIRE_REKEY, 0, body, sizeof(body));
}

static void
session_udp_send_failed(struct session *s, int n, int e)
{
	s->c.drop_udp_send += (uint64_t)n;
	log_rl(&s->rl_drop, LOG_WARNING, "%ssending to %s: %s",
	    session_tag(s), s->peer_str, strerror(e));
}

/*
 * Seal the datagram whose payload (len bytes) is at buf + 17, then queue
 * it in the socket's batch when buf is its slot, or send it at once
 * (s->dgram: keepalives, and packets too big for a slot).
 */
static void
session_udp_emit(struct session *s, uint8_t *buf, size_t cap, uint8_t kind,
    size_t len)
{
	size_t outlen;
	int r, e = 0;

	if (!s->udp_peer_known) {
		s->c.drop_no_addr++;
		return;
	}
	r = udp_chan_seal(s->chan, kind, buf, cap, len, &outlen,
	    session_now());
	if (r == SEAL_E_ARG) {
		/* Callers hold packets to the room; a bug if it happens. */
		session_drop_oversize(s, len);
		return;
	}
	if (r != 0) {
		s->c.drop_tx_limit++;
		log_rl(&s->rl_tx, LOG_WARNING, "%scannot send: the key "
		    "epoch is used up and no new one is ready yet",
		    session_tag(s));
		return;
	}
	if (buf != s->dgram) {
		if ((r = udp_sock_tx_commit(s->usock, outlen,
		    (struct sockaddr *)&s->udp_peer, s->udp_peerlen, &e)) > 0)
			session_udp_send_failed(s, r, e);
	} else if (udp_sock_send(s->usock, s->dgram, outlen,
	    (struct sockaddr *)&s->udp_peer, s->udp_peerlen) != 0) {
		session_udp_send_failed(s, 1, errno);
		return;
	}
	s->c.tx_bytes_wire += len;
}

/* Seal and send one datagram whose payload is at s->dgram + 17. */
static void
session_udp_send(struct session *s, uint8_t kind, size_t len)
{
	session_udp_emit(s, s->dgram, sizeof(s->dgram), kind, len);
	timers_on_tx(&s->timers, session_now());
}

/* Where the next datagram is built: a batch slot when it fits. */
static uint8_t *
session_udp_buf(struct session *s, size_t *cap)
{
	if (s->udp_slots) {
		*cap = UDP_TX_SLOT;
		return udp_sock_tx_slot(s->usock);
	}
	*cap = sizeof(s->dgram);
	return s->dgram;
}

/* One packet (checksums complete) into a datagram, compressed if it pays. */
static void
session_udp_packet(struct session *s, const uint8_t *p, size_t len)
{
	size_t cap, clen, room;
	uint8_t *buf = session_udp_buf(s, &cap);
	uint8_t *payload = buf + WIRE_UDP_PAYLOAD_OFF;

	/* Checked before a byte is written: the slot holds one datagram. */
	room = cap - WIRE_UDP_PAYLOAD_OFF - WIRE_UDP_TAG_LEN;
	if (len > session_pkt_limit(s) || len > room) {
		session_drop_oversize(s, len);
		return;
	}
	if (s->cz != NULL && compress_packet(s->cz, p, len, payload, room,
	    &clen) == 1) {
		session_udp_emit(s, buf, cap, WIRE_INNER_ZLIB, clen);
		return;
	}
	memcpy(payload, p, len);
	session_udp_emit(s, buf, cap, WIRE_INNER_RAW, len);
}

/*
 * UDP mode: a super-packet from the tun becomes MTU-size segments with
 * their own headers and checksums, one datagram each, all queued in the
 * batch (they leave in one or two UDP GSO messages).
 */
static void
session_udp_super(struct session *s, const uint8_t *p, size_t len,
    const struct gso_vnet *h)
{
	const char *why = "segments larger than the MTU";
	struct gso_split sp;
	size_t i, cap, n;
	uint8_t *buf;

	if (gso_split_init(&sp, h->gso_type, h->gso_size, p, len, &why) != 0 ||
	    sp.hlen + sp.mss > (size_t)s->mtu) {
		s->c.dev_read_errors++;
		log_rl(&s->rl_drop, LOG_WARNING, "%sdropped a super-packet "
		    "from %s: %s", session_tag(s), s->dev->name, why);
		return;
	}
	s->c.tx_super++;
	for (i = 0; i < sp.nsegs; i++) {
		if (s->cz != NULL) {
			n = gso_split_seg(&sp, i, s->seg);
			session_udp_packet(s, s->seg, n);
			continue;
		}
		buf = session_udp_buf(s, &cap);
		n = gso_split_seg(&sp, i, buf + WIRE_UDP_PAYLOAD_OFF);
		session_udp_emit(s, buf, cap, WIRE_INNER_RAW, n);
	}
}

/*
 * UDP mode's device reader: each packet becomes one datagram, read (or
 * compressed) straight into a batch slot behind the datagram header; a
 * tun with offloads gives super-packets, split into many.  The batch
 * leaves with sendmmsg at the end.
 */
static void
session_dev_read_udp(struct session *s, int fd)
{
	bool direct = s->cz == NULL && !s->dev->vnet && s->udp_slots;
	size_t vh = s->dev->vnet ? GSO_VNET_LEN : 0;
	struct gso_vnet h;
	uint8_t *buf;
	ssize_t n;
	int i, e = 0, r, batch = session_dev_batch(s);

	for (i = 0; i < batch && s->state == SESSION_UP; i++) {
		if (direct) {
			/* One byte more than the session carries: a longer
			 * packet is cut there by the read, and refused. */
			buf = udp_sock_tx_slot(s->usock);
			n = read(fd, buf + WIRE_UDP_PAYLOAD_OFF,
			    session_pkt_limit(s) + 1);
		} else {
			n = read(fd, s->pkt, sizeof(s->pkt));
		}
		if (n <= 0) {
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				s->c.dev_read_errors++;
			break;
		}
		if (direct && (size_t)n > session_pkt_limit(s)) {
			session_drop_oversize(s, (size_t)n);
			continue;
		}
		s->c.tx_packets++;
		s->c.tx_bytes += (uint64_t)n - vh;
		if (direct) {
			session_udp_emit(s, buf, UDP_TX_SLOT, WIRE_INNER_RAW,
			    (size_t)n);
		} else if (vh == 0) {
			session_udp_packet(s, s->pkt, (size_t)n);
		} else if ((r = session_vnet_read(s, s->pkt, (size_t)n,
		    &h)) == 0) {
			session_udp_packet(s, s->pkt + vh, (size_t)n - vh);
		} else if (r == 1) {
			session_udp_super(s, s->pkt + vh, (size_t)n - vh, &h);
		}
		/* speed: when the bucket is in debt, stop reading the device
		 * until it is paid; the tun queue holds what comes. */
		if (shaper_on(&s->shape_out)) {
			uint64_t now = session_now();
			uint32_t wait;

			(void)shaper_take(&s->shape_out,
			    (uint32_t)n + WIRE_UDP_MIN_LEN, now);
			if ((wait = shaper_wait_ms(&s->shape_out, now)) > 0) {
				session_pause_reads(s);
				event_add(s->shape_ev, &(struct timeval){
				    .tv_sec = wait / 1000,
				    .tv_usec = (wait % 1000) * 1000 });
				break;
			}
		}
	}
	if ((r = udp_sock_tx_flush(s->usock, &e)) > 0)
		session_udp_send_failed(s, r, e);
	if (i > 0)
		timers_on_tx(&s->timers, session_now());
	session_udp_maybe_rekey(s);
}

/* Our settings as HELLO / HELLO_ACK carry them. */
static void
session_hello_fill(const struct session *s, struct frame_hello *h)
{
	memset(h, 0, sizeof(*h));
	h->version = WIRE_VERSION;
	h->transport = s->udp ? WIRE_TRANSPORT_UDP : WIRE_TRANSPORT_TCP;
	h->type = s->type == DEV_TAP ? WIRE_DEV_TAP : WIRE_DEV_TUN;
	h->compress = (uint8_t)s->compress_level;
	h->cipher = (uint8_t)s->cipher;
	h->mtu = (uint16_t)s->mtu;
	h->udp_receiver_id = s->my_rid;
	if (s->role == SESSION_SERVER && s->udp)
		h->udp_port = (uint16_t)atoi(s->local_port);
}

/* A random, non-zero receiver id for the peer to address us by. */
static uint32_t
session_new_rid(void)
{
	uint32_t rid = 0;

	while (rid == 0)
		if (getrandom(&rid, sizeof(rid), 0) != sizeof(rid))
			rid = (uint32_t)util_now_ms() | 1;
	return rid;
}

/* Is this address IPv4, or IPv4 carried in IPv6 (a dual-stack peer)? */
static bool
session_addr_is_v4(const struct sockaddr *sa)
{
	const struct sockaddr_in6 *in6 = (const void *)sa;

	return sa->sa_family == AF_INET || (sa->sa_family == AF_INET6 &&
	    IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr));
}

/*
 * MTU when the config says 0: TCP mode carries Ethernet-size packets;
 * UDP mode keeps every datagram within a 1500-byte underlay packet:
 * 33 bytes of datagram overhead (16 header, 1 inner kind, 16 tag) and the
 * IP and UDP headers (28 for IPv4, 48 for IPv6), and for tap the
 * Ethernet header too.
 */
static int
session_derive_mtu(const struct session *s)
{
	int mtu = SESSION_TCP_MTU;

	if (!s->udp)
		return mtu;
	mtu -= WIRE_UDP_MIN_LEN;
	mtu -= session_addr_is_v4((const struct sockaddr *)&s->peer) ? 28 : 48;
	if (s->type == DEV_TAP)
		mtu -= 14;
	return mtu;
}

static int
session_send_hello(struct session *s, uint8_t type)
{
	uint8_t body[WIRE_HELLO_LEN];
	struct frame_hello h;

	session_hello_fill(s, &h);
	frame_hello_encode(&h, body);
	return stream_send(s->t, type, 0, body, sizeof(body));
}

static void
session_shape_resumecb(evutil_socket_t fd, short what, void *arg)
{
	session_resume_reads(arg);
}

/* speed = "IN:OUT" in kbit/s, each side by its own file (as vtund). */
static void
session_start_shaping(struct session *s)
{
	uint64_t now = session_now();

	if (s->cs->speed_in == 0 && s->cs->speed_out == 0)
		return;
	if (!s->udp) {
		if (stream_set_rate(s->t, s->cs->speed_in,
		    s->cs->speed_out) != 0)
			log_warnx("%scannot limit the speed", session_tag(s));
		return;
	}
	shaper_init(&s->shape_in, s->cs->speed_in, now);
	shaper_init(&s->shape_out, s->cs->speed_out, now);
}

static void
session_up_done(int result, void *arg)
{
	struct session *s = arg;
	char err[200];

	s->script = NULL;
	if (result != 0) {
		session_close(s, WIRE_CLOSE_ERROR, "up command failed");
		return;
	}
	if (s->role == SESSION_SERVER && s->udp && s->chan == NULL &&
	    (s->chan = udp_chan_new(stream_ssl(s->t), SEAL_ROLE_SERVER,
	    s->cipher, s->my_rid, s->peer_rid, &s->lim, err,
	    sizeof(err))) == NULL) {
		log_err("%s%s", session_tag(s), err);
		session_close(s, WIRE_CLOSE_ERROR, "udp setup failed");
		return;
	}
	if (s->role == SESSION_SERVER &&
	    session_send_hello(s, WIRE_HELLO_ACK) != 0) {
		session_close(s, WIRE_CLOSE_ERROR, "cannot send HELLO_ACK");
		return;
	}
	s->state = SESSION_UP;
	s->was_up = true;
	s->up_since_ms = session_now();
	session_start_shaping(s);
	timers_set_liveness(&s->timers, s->cs->keepalive, s->cs->timeout);
	timers_set_phase(&s->timers, TIMERS_UP, session_now());
	session_resume_reads(s);
	log_notice("%sup with %s (%s, %s %s, mtu %d, %s)", session_tag(s),
	    s->peer_str, s->udp ? seal_cipher_name(s->cipher) : "tcp",
	    dev_type_name(s->type), s->dev->name, s->mtu,
	    s->compress_level > 0 ? "zlib on" : "compression off");
	if (s->cbs->up != NULL)
		s->cbs->up(s, s->arg);
}

static void
session_script_env(const struct session *s, struct script_env *env)
{
	env->device = s->dev->name;
	env->session = s->cs->name;
	env->raddr = s->peer_host;
	env->rport = s->peer_port;
	env->laddr = s->local_host;
	env->lport = s->local_port;
}

/*
 * Create (or take over the kept) device, configure it, then run the up
 * commands; forwarding starts when they have all succeeded.
 */
static void
session_setup(struct session *s)
{
	struct script_env env;
	char err[256];
	int i;

	s->state = SESSION_SETUP;
	timers_set_phase(&s->timers, TIMERS_SETUP, session_now());
	if (s->dev->nqueues > 0 && s->dev->type != s->type)
		dev_close(s->dev);	/* the kept device has the wrong type */
	if (s->dev->nqueues == 0) {
		if (dev_open(s->dev, s->type, s->cs->device, s->cs->queues,
		    s->cs->offload, err, sizeof(err)) != 0 ||
		    netcfg_dev_setup(s->dev, s->mtu, s->cs, err,
		    sizeof(err)) != 0) {
			log_err("%sdevice setup failed: %s", session_tag(s),
			    err);
			/* Half-configured: never keep it for a retry. */
			dev_close(s->dev);
			session_close(s, WIRE_CLOSE_ERROR,
			    "device setup failed");
			return;
		}
		s->dev_fresh = true;
	} else if (dev_set_mtu(s->dev, s->mtu, err, sizeof(err)) != 0) {
		/* A kept device whose MTU is not ours is no use either. */
		log_err("%sdevice setup failed: %s", session_tag(s), err);
		dev_close(s->dev);
		session_close(s, WIRE_CLOSE_ERROR, "device setup failed");
		return;
	}
	s->dev_ready = true;
	/* Strictly smaller: a direct read asks for one byte more. */
	s->udp_slots = s->udp && WIRE_UDP_PAYLOAD_OFF + session_pkt_limit(s) +
	    WIRE_UDP_TAG_LEN < UDP_TX_SLOT;
	if (s->dev->vnet && s->coal == NULL) {
		s->coal = gso_coal_new(SESSION_COAL_FLOWS, session_dev_writev,
		    s);
		s->coal_ev = event_new(s->base, -1, 0, session_coal_flushcb,
		    s);
		if (s->coal == NULL || s->coal_ev == NULL) {
			session_close(s, WIRE_CLOSE_ERROR, "out of memory");
			return;
		}
	}
	s->queues = calloc((size_t)s->dev->nqueues, sizeof(*s->queues));
	if (s->queues == NULL) {
		session_close(s, WIRE_CLOSE_ERROR, "out of memory");
		return;
	}
	for (i = 0; i < s->dev->nqueues; i++) {
		s->queues[i].s = s;
		s->queues[i].fd = s->dev->fds[i];
		s->queues[i].ev = event_new(s->base, s->dev->fds[i],
		    EV_READ | EV_PERSIST, session_dev_readcb, &s->queues[i]);
		if (s->queues[i].ev == NULL) {
			session_close(s, WIRE_CLOSE_ERROR, "out of memory");
			return;
		}
	}
	if (!s->dev_fresh || s->cs->nup == 0) {
		session_up_done(0, s);
		return;
	}
	session_script_env(s, &env);
	s->script = script_run_start(s->base, "up", s->cs->up, s->cs->nup,
	    &env, SCRIPT_TIMEOUT_MS, session_up_done, s);
	if (s->script == NULL)
		session_close(s, WIRE_CLOSE_ERROR, "cannot run up commands");
}

static void
session_udp_recvcb(void *arg, uint8_t *dgram, size_t len,
    const struct sockaddr *from, socklen_t fromlen)
{
	session_udp_input(arg, dgram, len, from, fromlen);
}

/*
 * Client, UDP mode: a socket of our own from the TCP connection's source
 * address, the data channel's first keys, and a keepalive at once so
 * that the server learns where we are.
 */
static int
session_udp_client_start(struct session *s, const struct frame_hello *h)
{
	struct sockaddr_storage local;
	socklen_t len = sizeof(local);
	char err[200];

	if (h->udp_receiver_id == 0 || h->cipher == WIRE_CIPHER_AUTO) {
		session_close(s, WIRE_CLOSE_PROTOCOL, "bad udp parameters");
		return -1;
	}
	s->peer_rid = h->udp_receiver_id;
	s->cipher = h->cipher;
	if (getsockname(stream_fd(s->t), (struct sockaddr *)&local,
	    &len) != 0) {
		session_close(s, WIRE_CLOSE_ERROR, "no local address");
		return -1;
	}
	((struct sockaddr_in *)&local)->sin_port = 0;	/* same offset in v6 */
	s->usock_own = udp_sock_new(s->base, (struct sockaddr *)&local, len,
	    0, s->cs->offload, session_udp_recvcb, s, err, sizeof(err));
	s->usock = s->usock_own;
	memcpy(&s->udp_peer, &s->peer, s->peerlen);
	s->udp_peerlen = s->peerlen;
	if (h->udp_port != 0)
		((struct sockaddr_in *)&s->udp_peer)->sin_port =
		    htons(h->udp_port);
	s->udp_peer_known = true;
	if (s->usock != NULL)
		s->chan = udp_chan_new(stream_ssl(s->t), SEAL_ROLE_CLIENT,
		    s->cipher, s->my_rid, s->peer_rid, &s->lim, err,
		    sizeof(err));
	if (s->usock == NULL || s->chan == NULL) {
		log_err("%s%s", session_tag(s), err);
		session_close(s, WIRE_CLOSE_ERROR, "udp setup failed");
		return -1;
	}
	session_udp_send(s, WIRE_INNER_KEEPALIVE, 0);
	return 0;
}

void
session_udp_input(struct session *s, uint8_t *dgram, size_t len,
    const struct sockaddr *from, socklen_t fromlen)
{
	size_t max = WIRE_UDP_MIN_LEN + (size_t)s->mtu +
	    (s->type == DEV_TAP ? SESSION_TAP_EXTRA : 0);
	char was[INET6_ADDRSTRLEN + 16], now[INET6_ADDRSTRLEN + 16];
	struct seal_opened op;
	enum seal_drop d;

	if (s->chan == NULL || s->state == SESSION_CLOSING)
		return;
	d = udp_chan_open(s->chan, dgram, len, max, &op, session_now());
	if (d != SEAL_OK) {
		/* Name the datagram's own source: it may not be the peer. */
		util_sockaddr_str(from, now, sizeof(now));
		log_rl(&s->rl_drop, LOG_INFO, "%sdropped a datagram from %s: "
		    "%s", session_tag(s), now, seal_drop_name(d));
		return;
	}
	s->udp_rx++;
	timers_on_rx(&s->timers, session_now());
	/* The server's counter shows here; it cannot ask for a rekey. */
	if ((op.counter & 63) == 0)
		session_udp_maybe_rekey(s);
	/*
	 * The server follows the client to a new address (roaming, NAT
	 * rebinding), but only for an authenticated datagram newer than any
	 * before it: a replayed one from elsewhere moves nothing.
	 */
	if (s->role == SESSION_SERVER && (!s->udp_peer_known ||
	    (op.newest && (fromlen != s->udp_peerlen ||
	    memcmp(from, &s->udp_peer, fromlen) != 0)))) {
		if (s->udp_peer_known) {
			util_sockaddr_str((struct sockaddr *)&s->udp_peer, was,
			    sizeof(was));
			util_sockaddr_str(from, now, sizeof(now));
			log_notice("%speer moved from %s to %s", session_tag(s),
			    was, now);
		}
		memcpy(&s->udp_peer, from, fromlen);
		s->udp_peerlen = fromlen;
		s->udp_peer_known = true;
	}
	/*
	 * The client sends under the new epoch, so we do too from now on;
	 * say so at once.  Until the client hears from us under it, it may
	 * not start the next rekey, and an idle or one-way session would
	 * otherwise run into the reject limit (nothing else of ours might
	 * come for `keepalive` seconds, or ever with keepalive = 0).
	 */
	if (op.promoted && s->role == SESSION_SERVER) {
		session_udp_send(s, WIRE_INNER_KEEPALIVE, 0);
		s->c.keepalives_sent++;
	}
	if (op.kind == WIRE_INNER_KEEPALIVE)
		return;
	/* speed, incoming: a datagram over the rate is dropped (the inner
	 * flows slow down as they would on a slower link). */
	if (!shaper_take(&s->shape_in, (uint32_t)len, session_now())) {
		s->c.drop_shaped++;
		return;
	}
	session_deliver(s, op.payload, op.payload_len,
	    op.kind == WIRE_INNER_ZLIB, false);
}

/*
 * Server: is the client this very host?  Then our own client was sent
 * back to us (the key serves both roles), and the tunnel would only loop.
 */
static bool
session_from_self(struct session *s, uint32_t peer_rid)
{
	SSL *ssl = stream_ssl(s->t);
	const uint8_t *hk = handshake_ssl_host_key(ssl);
	uint32_t tag;

	return hk != NULL && handshake_self_tag(ssl, hk, &tag) == 0 &&
	    tag == peer_rid;
}

/* Server: the client's HELLO; our session settings decide. */
static int
session_rx_hello(struct session *s, const uint8_t *body, size_t len)
{
	struct frame_hello h;
	char err[160];

	if (frame_hello_decode(body, len, &h, err, sizeof(err)) != 0) {
		log_warnx("%sbad HELLO from %s: %s", session_tag(s),
		    s->peer_str, err);
		session_close(s, WIRE_CLOSE_PROTOCOL, "bad HELLO");
		return -1;
	}
	if (session_from_self(s, h.udp_receiver_id)) {
		log_warnx("%srefusing %s: the connection comes from this host "
		    "itself, a client of ours sent back to us (this host "
		    "serves and dials %s with one key)", session_tag(s),
		    s->peer_str, s->cs->name);
		session_close(s, WIRE_CLOSE_REFUSED, "a connection from this "
		    "host itself");
		return -1;
	}
	if (s->udp) {
		if (s->usock == NULL || h.udp_receiver_id == 0) {
			log_err("%scannot serve %s over udp: %s",
			    session_tag(s), s->peer_str, s->usock == NULL ?
			    "no udp socket" : "the client gave no receiver id");
			session_close(s, WIRE_CLOSE_REFUSED, "udp unavailable");
			return -1;
		}
		s->peer_rid = h.udp_receiver_id;
		/* Offers matter only where this side left the choice open. */
		if (s->cs->cipher == CONF_CIPHER_AUTO &&
		    h.cipher != WIRE_CIPHER_AUTO)
			s->cipher = h.cipher;
	}
	session_setup(s);
	return s->state == SESSION_CLOSING ? -1 : 0;
}

/*
 * Client: the server's decision.  As with vtund, the server's settings
 * win; a notice names each one our own file has otherwise.
 */
static int
session_rx_hello_ack(struct session *s, const uint8_t *body, size_t len)
{
	struct frame_hello h, mine;
	char err[160];

	if (frame_hello_decode(body, len, &h, err, sizeof(err)) != 0 ||
	    frame_hello_ack_check(&h, err, sizeof(err)) != 0) {
		log_warnx("%sbad HELLO_ACK from %s: %s", session_tag(s),
		    s->peer_str, err);
		session_close(s, WIRE_CLOSE_PROTOCOL, "bad HELLO_ACK");
		return -1;
	}
	session_hello_fill(s, &mine);
	if (h.transport != mine.transport)
		log_notice("%susing proto %s as the server says (this file: "
		    "%s)", session_tag(s), h.transport == WIRE_TRANSPORT_UDP ?
		    "udp" : "tcp", mine.transport == WIRE_TRANSPORT_UDP ?
		    "udp" : "tcp");
	if (h.transport == WIRE_TRANSPORT_UDP && mine.cipher !=
	    WIRE_CIPHER_AUTO && h.cipher != mine.cipher)
		log_notice("%susing cipher %s as the server says (this file: "
		    "%s)", session_tag(s), seal_cipher_name(h.cipher),
		    seal_cipher_name(mine.cipher));
	if (h.type != mine.type)
		log_notice("%susing type %s as the server says (this file: "
		    "%s)", session_tag(s), h.type == WIRE_DEV_TAP ? "tap" :
		    "tun", mine.type == WIRE_DEV_TAP ? "tap" : "tun");
	if (h.compress != mine.compress)
		log_notice("%susing compress %s%.0d as the server says "
		    "(this file: %s%.0d)", session_tag(s),
		    h.compress ? "zlib:" : "no", h.compress,
		    mine.compress ? "zlib:" : "no", mine.compress);
	if (h.mtu != mine.mtu)
		log_notice("%susing mtu %u as the server says (this file: "
		    "%u)", session_tag(s), h.mtu, mine.mtu);
	s->type = h.type == WIRE_DEV_TAP ? DEV_TAP : DEV_TUN;
	s->mtu = h.mtu;
	s->compress_level = h.compress;
	/* The server decides, so the warning belongs here, not at start. */
	if (s->compress_level > 0)
		log_warnx("%scompression is on: packet sizes can reveal what "
		    "the tunnel carries (VORACLE); see tapline.conf(5)",
		    session_tag(s));
	if (s->compress_level > 0 && (s->cz = compress_new(s->compress_level,
	    err, sizeof(err))) == NULL) {
		log_err("%s%s", session_tag(s), err);
		session_close(s, WIRE_CLOSE_ERROR, "compression unavailable");
		return -1;
	}
	s->udp = h.transport == WIRE_TRANSPORT_UDP;
	if (s->udp && session_udp_client_start(s, &h) != 0)
		return -1;
	session_setup(s);
	return s->state == SESSION_CLOSING ? -1 : 0;
}

static int
session_rx_close(struct session *s, const uint8_t *body, size_t len)
{
	char msg[WIRE_CLOSE_MSG_MAX * 4 + 1], err[160];
	uint8_t reason;

	if (frame_close_decode(body, len, &reason, msg, sizeof(msg), err,
	    sizeof(err)) != 0)
		log_notice("%s%s closed the session (unreadable reason: "
		    "%s)", session_tag(s), s->peer_str, err);
	else
		log_notice("%s%s closed the session: %s%s%s",
		    session_tag(s), s->peer_str,
		    frame_close_reason_name(reason), msg[0] ? ": " : "", msg);
	s->state = SESSION_CLOSING;
	session_teardown(s);
	stream_close(s->t);
	return -1;
}

/* Server: the client asks for a new epoch (ATTACKS.md row 21). */
static int
session_rx_rekey(struct session *s, const uint8_t *body, size_t len)
{
	uint8_t ack[UDP_REKEY_LEN];
	char err[200];

	if (udp_chan_rekey_answer(s->chan, body, len, ack, session_now(), err,
	    sizeof(err)) != 0) {
		log_warnx("%sprotocol error from %s: %s", session_tag(s),
		    s->peer_str, err);
		session_close(s, WIRE_CLOSE_PROTOCOL, "bad REKEY");
		return -1;
	}
	(void)stream_send(s->t, WIRE_REKEY_ACK, 0, ack, sizeof(ack));
	s->rekey_ms = session_now();
	log_info("%srekey: epoch %llu keys ready", session_tag(s),
	    (unsigned long long)pkt_load64(ack));
	return 0;
}

/* Client: the server's share; send under the new epoch at once. */
static int
session_rx_rekey_ack(struct session *s, const uint8_t *body, size_t len)
{
	char err[200];

	if (udp_chan_rekey_finish(s->chan, body, len, session_now(), err,
	    sizeof(err)) != 0) {
		log_warnx("%sprotocol error from %s: %s", session_tag(s),
		    s->peer_str, err);
		session_close(s, WIRE_CLOSE_PROTOCOL, "bad REKEY_ACK");
		return -1;
	}
	session_udp_send(s, WIRE_INNER_KEEPALIVE, 0);
	s->rekey_ms = session_now();
	log_info("%srekey: sending under epoch %llu", session_tag(s),
	    (unsigned long long)pkt_load64(body));
	return 0;
}

static int
session_framecb(void *arg, const struct frame_hdr *h, uint8_t *body)
{
	struct session *s = arg;

	/* In UDP mode liveness is the datagrams' business alone. */
	if (!s->udp || s->chan == NULL)
		timers_on_rx(&s->timers, session_now());
	switch (h->type) {
	case WIRE_DATA:
		if (s->udp) {
			/* Packets come in datagrams in UDP mode, never here. */
			break;
		}
		session_deliver(s, body, h->len, h->flags & WIRE_FLAG_ZLIB,
		    h->flags & WIRE_FLAG_GSO);
		return 0;
	case WIRE_KEEPALIVE:
		return 0;
	case WIRE_CLOSE:
		return session_rx_close(s, body, h->len);
	case WIRE_HELLO:
		if (s->role == SESSION_SERVER && s->state == SESSION_HELLO)
			return session_rx_hello(s, body, h->len);
		break;
	case WIRE_HELLO_ACK:
		if (s->role == SESSION_CLIENT && s->state == SESSION_HELLO)
			return session_rx_hello_ack(s, body, h->len);
		break;
	case WIRE_REKEY:
		if (s->role == SESSION_SERVER && s->chan != NULL)
			return session_rx_rekey(s, body, h->len);
		break;
	case WIRE_REKEY_ACK:
		if (s->role == SESSION_CLIENT && s->chan != NULL)
			return session_rx_rekey_ack(s, body, h->len);
		break;
	default:
		break;
	}
	log_warnx("%sprotocol error from %s: unexpected %s frame",
	    session_tag(s), s->peer_str, frame_type_name(h->type));
	session_close(s, WIRE_CLOSE_PROTOCOL, "unexpected frame");
	return -1;
}

/* TLS is up: check what was negotiated and who the peer is. */
static void
session_connectedcb(void *arg)
{
	struct session *s = arg;
	SSL *ssl = stream_ssl(s->t);
	const char *msg = NULL;
	uint8_t reason = WIRE_CLOSE_REFUSED;
	char err[160];

	if (handshake_verify(ssl, err, sizeof(err)) != 0) {
		log_warnx("%srefusing %s: %s", session_tag(s), s->peer_str,
		    err);
		session_close(s, WIRE_CLOSE_PROTOCOL, "handshake check failed");
		return;
	}
	if (s->role == SESSION_SERVER) {
		s->cs = handshake_matched_session(ssl);
		if (s->cs == NULL) {
			session_close(s, WIRE_CLOSE_REFUSED, NULL);
			return;
		}
	}
	s->authenticated = true;
	s->handshake_ms = session_now();
	/* From here on a refusal reaches the peer as a CLOSE frame. */
	s->state = SESSION_HELLO;
	timers_set_phase(&s->timers, TIMERS_HELLO, session_now());
	session_note_addrs(s);
	log_info("%sauthenticated %s", session_tag(s), s->peer_str);
	if (s->role == SESSION_SERVER) {
		if (s->cbs->authenticated(s, s->cs, &reason, &msg,
		    s->arg) != 0) {
			session_close(s, reason, msg);
			return;
		}
		s->type = s->cs->type;
		s->udp = s->cs->proto == CONF_PROTO_UDP;
		s->cipher = s->cs->cipher != CONF_CIPHER_AUTO ?
		    (enum wire_cipher)s->cs->cipher : udp_cipher_auto();
		s->mtu = s->cs->mtu != 0 ? s->cs->mtu : session_derive_mtu(s);
		s->compress_level = s->cs->compress;
		if (s->compress_level > 0 && (s->cz = compress_new(
		    s->compress_level, err, sizeof(err))) == NULL) {
			log_err("%s%s", session_tag(s), err);
			session_close(s, WIRE_CLOSE_ERROR, "no compression");
			return;
		}
	}
	if (s->role == SESSION_CLIENT) {
		/* Our receiver id says "this host" to a server that can
		 * check it (handshake.h: connections back to this host). */
		const uint8_t *hk = handshake_ssl_host_key(ssl);
		uint32_t tag;

		if (hk != NULL && handshake_self_tag(ssl, hk, &tag) == 0)
			s->my_rid = tag;
		if (session_send_hello(s, WIRE_HELLO) != 0)
			session_close(s, WIRE_CLOSE_ERROR, "cannot send HELLO");
	}
}


static void
session_drainedcb(void *arg)
{
	session_resume_reads(arg);
}

/* Words for a failed handshake that an operator can act on. */
static void
session_log_end(struct session *s, enum stream_end end, const char *why)
{
	SSL *ssl;

	if (s->state == SESSION_CLOSING || end == STREAM_CLOSED)
		return;
	if (s->state != SESSION_TLS) {
		log_notice("%sconnection with %s lost: %s", session_tag(s),
		    s->peer_str, why);
		return;
	}
	if (end != STREAM_TLS) {
		session_preauth_log(s, LOG_INFO,
		    "%s%s went away during the handshake: %s",
		    session_tag(s), s->peer_str, why);
		return;
	}
	ssl = stream_ssl(s->t);
	if (s->role == SESSION_SERVER)
		session_preauth_log(s, LOG_WARNING,
		    "authentication failed for %s from %s: %s "
		    "(identity %s)", handshake_matched_name(ssl)[0] != '\0' ?
		    handshake_matched_name(ssl) : "unknown session",
		    s->peer_str, why, handshake_peer_identity(ssl));
	else
		log_warnx("%sauthentication with %s failed: %s (wrong key "
		    "or passphrase?)", session_tag(s), s->peer_str, why);
}

static void
session_endedcb(void *arg, enum stream_end end, const char *why)
{
	struct session *s = arg;

	session_log_end(s, end, why);
	s->transport_done = true;
	if (s->state != SESSION_CLOSING) {
		s->state = SESSION_CLOSING;
		session_teardown(s);
	}
	session_maybe_gone(s);
}

static const struct stream_cbs session_transport_cbs = {
	.connected = session_connectedcb,
	.frame = session_framecb,
	.drained = session_drainedcb,
	.ended = session_endedcb,
};

/* UDP mode, once a second: rekey when due, expire old keys. */
static void
session_udp_tick(struct session *s)
{
	session_udp_maybe_rekey(s);
	udp_chan_expire(s->chan, session_now());
}

static void
session_tickcb(evutil_socket_t fd, short what, void *arg)
{
	struct session *s = arg;

	if (s->state == SESSION_CLOSING)
		return;
	if (s->chan != NULL && s->state == SESSION_UP)
		session_udp_tick(s);
	switch (timers_due(&s->timers, session_now())) {
	case TIMERS_NONE:
		break;
	case TIMERS_SEND_KEEPALIVE:
		if (s->chan != NULL) {
			session_udp_send(s, WIRE_INNER_KEEPALIVE, 0);
			s->c.keepalives_sent++;
		} else if (stream_send(s->t, WIRE_KEEPALIVE, 0, NULL,
		    0) == 0) {
			s->c.keepalives_sent++;
			timers_on_tx(&s->timers, session_now());
		}
		break;
	case TIMERS_HANDSHAKE_EXPIRED:
		session_preauth_log(s, LOG_INFO,
		    "%s%s did not finish the handshake in %d s",
		    session_tag(s), s->peer_str,
		    WIRE_HANDSHAKE_DEADLINE_SECONDS);
		session_close(s, WIRE_CLOSE_TIMEOUT, NULL);
		break;
	case TIMERS_HELLO_EXPIRED:
		log_warnx("%s%s sent no %s within %d s", session_tag(s),
		    s->peer_str, s->role == SESSION_SERVER ? "HELLO" :
		    "HELLO_ACK", WIRE_HELLO_DEADLINE_SECONDS);
		session_close(s, WIRE_CLOSE_TIMEOUT, "no HELLO");
		break;
	case TIMERS_KEY_UPDATE:
		/* TCP mode renews its keys with TLS 1.3 KeyUpdate; asking the
		 * peer to update too renews both directions. */
		if (SSL_key_update(stream_ssl(s->t),
		    SSL_KEY_UPDATE_REQUESTED) != 1)
			log_ssl_errors(LOG_WARNING, s->cs->name);
		timers_on_key_update(&s->timers, session_now());
		s->rekey_ms = session_now();
		s->key_updates++;
		log_debug("%sTLS key update", session_tag(s));
		break;
	case TIMERS_PEER_DEAD:
		log_notice("%snothing heard from %s for %d s, closing",
		    session_tag(s), s->peer_str, s->cs->timeout);
		session_close(s, WIRE_CLOSE_TIMEOUT, "peer silent");
		break;
	}
}

static void
session_down_done(int result, void *arg)
{
	struct session *s = arg;

	s->script = NULL;
	s->down_running = false;
	session_maybe_gone(s);
}

/* "; udp: 5 rekeys, 1234 datagrams in, dropped: auth 3 replay 2". */
static void
session_udp_summary(const struct session *s, char *buf, size_t len)
{
	const struct seal_stats *st = udp_chan_stats(s->chan);
	size_t off;
	int d, n;

	n = snprintf(buf, len, "; udp: %llu rekeys, %llu datagrams in, "
	    "dropped:", (unsigned long long)udp_chan_rekeys(s->chan),
	    (unsigned long long)st->opened);
	off = n > 0 ? (size_t)n : 0;
	for (d = SEAL_OK + 1; d < SEAL_DROP_COUNT && off < len; d++) {
		if (st->drop[d] == 0)
			continue;
		n = snprintf(buf + off, len - off, " %s %llu",
		    seal_drop_name((enum seal_drop)d),
		    (unsigned long long)st->drop[d]);
		off += n > 0 ? (size_t)n : 0;
	}
	if (off < len)
		snprintf(buf + off, len - off, " no-address %llu send %llu "
		    "tx-limit %llu", (unsigned long long)s->c.drop_no_addr,
		    (unsigned long long)s->c.drop_udp_send,
		    (unsigned long long)s->c.drop_tx_limit);
}

/* One line with what the session moved, for the operator's log. */
static void
session_log_summary(const struct session *s)
{
	const struct compress_stats *z = s->cz != NULL ?
	    compress_stats(s->cz) : NULL;
	char zline[160] = "compression off", uline[400] = "";

	if (z != NULL)
		snprintf(zline, sizeof(zline), "zlib: %llu of %llu packets "
		    "compressed, %llu -> %llu bytes",
		    (unsigned long long)z->compressed,
		    (unsigned long long)(z->compressed + z->raw),
		    (unsigned long long)z->bytes_in,
		    (unsigned long long)z->bytes_out);
	if (s->chan != NULL)
		session_udp_summary(s, uline, sizeof(uline));
	log_notice("%ssession with %s lasted %llu s: sent %llu packets "
	    "(%llu bytes, %llu on the wire), received %llu packets (%llu "
	    "bytes); %s; dropped %llu (not ready %llu, bad %llu, inflate "
	    "%llu, device %llu, oversize %llu)%s", session_tag(s),
	    s->peer_str,
	    (unsigned long long)((session_now() - s->up_since_ms) / 1000),
	    (unsigned long long)s->c.tx_packets,
	    (unsigned long long)s->c.tx_bytes,
	    (unsigned long long)s->c.tx_bytes_wire,
	    (unsigned long long)s->c.rx_packets,
	    (unsigned long long)s->c.rx_bytes, zline,
	    (unsigned long long)(s->c.drop_not_ready + s->c.drop_bad_packet +
	    s->c.drop_inflate + s->c.drop_dev_write + s->c.drop_oversize),
	    (unsigned long long)s->c.drop_not_ready,
	    (unsigned long long)s->c.drop_bad_packet,
	    (unsigned long long)s->c.drop_inflate,
	    (unsigned long long)s->c.drop_dev_write,
	    (unsigned long long)s->c.drop_oversize, uline);
}

/*
 * Stop forwarding and give the device back: the device disappears with
 * its fds (unless the client keeps it), then the down commands run.
 */
static void
session_teardown(struct session *s)
{
	struct script_env env;
	int i;

	if (s->script != NULL) {
		script_run_cancel(s->script);
		s->script = NULL;
	}
	if (s->was_up)
		session_log_summary(s);
	/* Whichever side ends it, a session that never got one datagram
	 * through most likely ran over a path that drops UDP. */
	if (s->was_up && s->chan != NULL && s->udp_rx == 0)
		log_warnx("%sno UDP datagram from %s arrived in %llu s: UDP "
		    "blocked? try proto = \"tcp\"", session_tag(s),
		    s->peer_str, (unsigned long long)((session_now() -
		    s->up_since_ms) / 1000));
	session_pause_reads(s);
	if (s->shape_ev != NULL)
		evtimer_del(s->shape_ev);
	/* What the coalescer holds goes out before the device may go. */
	if (s->coal != NULL && s->dev_ready)
		gso_coal_flush(s->coal);
	if (s->coal_ev != NULL)
		event_del(s->coal_ev);
	/* No datagram is sent or opened after the session ends. */
	udp_chan_free(s->chan);
	s->chan = NULL;
	udp_sock_free(s->usock_own);
	s->usock_own = s->usock = NULL;
	if (s->queues != NULL) {
		for (i = 0; i < s->dev->nqueues; i++)
			if (s->queues[i].ev != NULL)
				event_free(s->queues[i].ev);
		free(s->queues);
		s->queues = NULL;
	}
	if (!s->dev_ready)
		return;
	s->dev_ready = false;
	if (s->dev != &s->own_dev)
		return;
	session_script_env(s, &env);
	dev_close(s->dev);
	if (s->dev_fresh && s->cs->ndown > 0) {
		s->down_running = true;
		s->script = script_run_start(s->base, "down", s->cs->down,
		    s->cs->ndown, &env, SCRIPT_TIMEOUT_MS,
		    session_down_done, s);
		if (s->script == NULL)
			s->down_running = false;
	}
}

void
session_close(struct session *s, uint8_t reason, const char *msg)
{
	uint8_t body[1 + WIRE_CLOSE_MSG_MAX];
	size_t len;

	if (s->state == SESSION_CLOSING)
		return;
	if (s->state != SESSION_TLS && frame_close_encode(reason,
	    msg != NULL ? msg : "", body, sizeof(body), &len) == 0)
		(void)stream_send(s->t, WIRE_CLOSE, 0, body, len);
	if (s->was_up)
		log_notice("%sclosing the session with %s: %s", session_tag(s),
		    s->peer_str, msg != NULL ? msg :
		    frame_close_reason_name(reason));
	else if (s->authenticated)
		log_info("%sclosing the session with %s: %s",
		    session_tag(s), s->peer_str, msg != NULL ? msg :
		    frame_close_reason_name(reason));
	s->state = SESSION_CLOSING;
	session_teardown(s);
	stream_close(s->t);
}

struct session *
session_new(struct event_base *base, enum session_role role,
    struct bufferevent *bev, const struct sockaddr *peer, socklen_t peerlen,
    const struct conf_session *cs, struct dev *keep,
    const struct session_cbs *cbs, void *arg)
{
	struct session *s;

	s = calloc(1, sizeof(*s));
	if (s == NULL) {
		bufferevent_free(bev);
		return NULL;
	}
	s->base = base;
	s->role = role;
	s->state = SESSION_TLS;
	s->cbs = cbs;
	s->arg = arg;
	s->cs = cs;
	s->dev = keep != NULL ? keep : &s->own_dev;
	s->rl_drop = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	s->rl_tx = (struct log_ratelimit)LOG_RATELIMIT_INIT;
	if (peerlen > sizeof(s->peer))
		peerlen = sizeof(s->peer);
	memcpy(&s->peer, peer, peerlen);
	s->peerlen = peerlen;
	util_sockaddr_parts(peer, s->peer_host, sizeof(s->peer_host),
	    s->peer_port, sizeof(s->peer_port));
	util_sockaddr_str(peer, s->peer_str, sizeof(s->peer_str));
	s->my_rid = session_new_rid();
	udp_chan_limits(&s->lim);
	if (cs != NULL) {
		s->type = cs->type;
		s->udp = cs->proto == CONF_PROTO_UDP;
		s->cipher = (enum wire_cipher)cs->cipher;
		s->compress_level = cs->compress;
		s->mtu = cs->mtu != 0 ? cs->mtu : session_derive_mtu(s);
	}
	timers_init(&s->timers, session_now());
	s->tick = event_new(base, -1, EV_PERSIST, session_tickcb, s);
	s->reap = event_new(base, -1, 0, session_reapcb, s);
	s->shape_ev = evtimer_new(base, session_shape_resumecb, s);
	s->t = stream_new(bev, &session_transport_cbs, s);
	if (s->tick == NULL || s->reap == NULL || s->shape_ev == NULL ||
	    s->t == NULL) {
		if (s->t == NULL)
			bufferevent_free(bev);
		session_free(s);
		return NULL;
	}
	event_add(s->tick, &(struct timeval){ .tv_sec = 1 });
	return s;
}

void
session_free(struct session *s)
{
	if (s == NULL)
		return;
	/* Normally the session is closed and gone by now; when the owner
	 * frees it early (out of memory, exit) nothing more may run. */
	if (s->state != SESSION_CLOSING) {
		s->state = SESSION_CLOSING;
		session_teardown(s);
	}
	if (s->script != NULL)
		script_run_cancel(s->script);
	if (s->tick != NULL)
		event_free(s->tick);
	if (s->reap != NULL)
		event_free(s->reap);
	if (s->shape_ev != NULL)
		event_free(s->shape_ev);
	stream_free(s->t);
	compress_free(s->cz);
	gso_coal_free(s->coal);
	if (s->coal_ev != NULL)
		event_free(s->coal_ev);
	if (s->dev == &s->own_dev)
		dev_close(&s->own_dev);
	OPENSSL_cleanse(s->pkt, sizeof(s->pkt));
	OPENSSL_cleanse(s->seg, sizeof(s->seg));
	free(s);
}

enum session_state
session_state(const struct session *s)
{
	return s->state;
}

const struct conf_session *
session_conf(const struct session *s)
{
	return s->cs;
}

const char *
session_peer(const struct session *s)
{
	return s->peer_str;
}

void
session_set_conf(struct session *s, const struct conf_session *cs)
{
	s->cs = cs;
}

bool
session_authenticated(const struct session *s)
{
	return s->authenticated;
}

bool
session_was_up(const struct session *s)
{
	return s->was_up;
}

const struct session_counters *
session_counters(const struct session *s)
{
	return &s->c;
}

void
session_set_udp(struct session *s, struct udp_sock *u)
{
	s->usock = u;
}

uint32_t
session_udp_rid(const struct session *s)
{
	return s->chan != NULL || s->udp ? s->my_rid : 0;
}

void
session_info(const struct session *s, struct session_info *info)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = stream_fd(s->t);

	memset(info, 0, sizeof(*info));
	/* A client's connect(2) may still be under way in the TLS state. */
	info->connected = s->role == SESSION_SERVER || (fd >= 0 &&
	    getpeername(fd, (struct sockaddr *)&ss, &len) == 0);
	info->udp = s->udp;
	if (s->udp && (s->chan != NULL || s->was_up))
		info->cipher = seal_cipher_name(s->cipher);
	if (s->dev_ready)
		info->device = s->dev->name;
	if (s->state == SESSION_UP)
		info->up_since_ms = s->up_since_ms;
	info->handshake_ms = s->handshake_ms;
	info->rekey_ms = s->rekey_ms;
	info->rekeys = s->chan != NULL ? udp_chan_rekeys(s->chan) :
	    s->key_updates;
	info->compress_level = s->cz != NULL ? s->compress_level : 0;
	info->z = s->cz != NULL ? compress_stats(s->cz) : NULL;
	info->seal = s->chan != NULL ? udp_chan_stats(s->chan) : NULL;
}
