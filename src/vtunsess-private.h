/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The inside of a vtund session, shared by its two files: vtunsess.c (the
 * handshake, the life cycle, the timers) and vtundata.c (vtund's frames
 * both ways, the UDP socket and the port exchange).  Nothing else
 * includes it; the rest of the program sees struct vtunsess only through
 * vtunsess.h.
 */
#ifndef TAPLINE_VTUNSESS_PRIVATE_H
#define TAPLINE_VTUNSESS_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "compress.h"
#include "control.h"
#include "vtunsess.h"
#include "log.h"
#include "netcfg.h"
#include "script.h"
#include "timers.h"
#include "tunnel.h"
#include "util.h"
#include "vtun.h"
#include "wire.h"

/* Packets one device or socket wakeup handles before yielding. */
#define VTUNSESS_BATCH 64
/* Device MTU when the config leaves it at 0 (vtund's default). */
#define VTUNSESS_MTU 1500
/*
 * TCP output above this pauses device reads; below the low mark resumes.
 * Above it an echo request from the peer gets no reply, and the peer is
 * not read again until the output is below the low mark.
 */
#define VTUNSESS_TX_HIGH (256 * 1024)
#define VTUNSESS_TX_LOW (64 * 1024)
/* What one connection may hold unread. */
#define VTUNSESS_RX_HIGH (256 * 1024)
/* How long a closing TCP connection may take to send what is queued. */
#define VTUNSESS_LINGER_MS 2000

_Static_assert(CONF_LEGACY_NAME_MAX == VTUN_HOST_MAX,
    "the config allows the names a HOST line carries");

struct vtunsess {
	struct tunnel tun;	/* role, state, device, commands, the end */
	struct vtun_lib *lib;

	/* The TCP connection: the handshake, and TCP mode's frames. */
	struct bufferevent *bev;
	struct event *linger;
	bool tcp_done;		/* the connection is closed and freed */
	bool tcp_flush_close;	/* UDP mode: close it once our port is out */
	int step;		/* handshake message expected next */
	uint8_t chal[WIRE_VTUN_CHAL_LEN];
	char host[CONF_NAME_MAX + 1];	/* server: the HOST asked for */

	/* UDP mode: our socket, the peer's address and its two possible
	 * ports (vtund builds differ in the byte order they send). */
	int ufd;
	struct event *uev;
	struct sockaddr_storage upeer;
	socklen_t upeerlen;
	uint16_t uport_be, uport_le;
	bool uport_known;

	struct vtun_flags fl;	/* agreed: the server's */
	struct vtun_zlib *z;
	struct compress_stats zst;	/* what the zlib stream did, for status */
	struct vtun_crypt *cr;
	char cipher_label[32];	/* "vtun none", for status */
	bool peer_closed;
	struct event *dev_ev;
	bool reading;
	bool rx_paused;		/* TCP: the peer is not read until drained */
	int mtu;

	struct timers timers;
	struct event *tick;

	uint64_t bad_frames;	/* malformed or unexpected frames */
	uint64_t drop_echo;	/* echo replies refused: TCP output full */

	uint8_t pkt[WIRE_VTUN_PACKET_MAX];
	uint8_t zbuf[WIRE_VTUN_BODY_MAX];
	uint8_t frame[WIRE_VTUN_HDR_LEN + WIRE_VTUN_BODY_MAX];
	uint8_t rx[WIRE_VTUN_HDR_LEN + WIRE_VTUN_BODY_MAX + 1];
	uint8_t dec[WIRE_VTUN_BODY_MAX];
	uint8_t inf[WIRE_VTUN_PACKET_MAX + 1];
};

/* vtunsess.c: the handshake, the life cycle and the timers */
uint64_t vtunsess_now(void);
void vtunsess_tcp_free(struct vtunsess *l);
void vtunsess_pause_reads(struct vtunsess *l);
void vtunsess_setup(struct vtunsess *l);

/* vtundata.c: frames both ways, the UDP socket and port exchange */
void vtundata_resume_peer(struct vtunsess *l);
void vtundata_send_flag(struct vtunsess *l, uint16_t flag);
void vtundata_dev_readcb(evutil_socket_t fd, short what, void *arg);
void vtundata_tcp_frames(struct vtunsess *l, struct evbuffer *in);
void vtundata_ports_start(struct vtunsess *l);
void vtundata_ports_done(struct vtunsess *l, const uint8_t *b);

#endif
