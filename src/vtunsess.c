/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One legacy = "vtun" session (vtunsess.h): vtund's handshake as client or
 * server, the session's life cycle and timers.  Its frames and the UDP
 * socket are vtundata.c's.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/crypto.h>

#include "vtunsess-private.h"

static void vtunsess_free(struct tunnel *);

uint64_t
vtunsess_now(void)
{
	return util_now_ms();
}

/* Gone once the connection is closed and no down command is running. */
static void
vtunsess_maybe_gone(struct vtunsess *l)
{
	tunnel_maybe_gone(&l->tun, tunnel_closing(&l->tun) && l->tcp_done);
}

/* The TCP connection is over: free it (and stop any linger). */
void
vtunsess_tcp_free(struct vtunsess *l)
{
	if (l->bev != NULL) {
		bufferevent_free(l->bev);
		l->bev = NULL;
	}
	if (l->linger != NULL)
		evtimer_del(l->linger);
	l->tcp_done = true;
}

void
vtunsess_pause_reads(struct vtunsess *l)
{
	if (l->reading && l->dev_ev != NULL)
		event_del(l->dev_ev);
	l->reading = false;
}

static void
vtunsess_resume_reads(struct vtunsess *l)
{
	if (!l->reading && l->dev_ev != NULL && l->tun.state == TUNNEL_UP &&
	    event_add(l->dev_ev, NULL) == 0)
		l->reading = true;
}

/* --- Handshake --------------------------------------------------------- */

static void
vtunsess_send_msg(struct vtunsess *l, const uint8_t *m)
{
	bufferevent_write(l->bev, m, WIRE_VTUN_MSG_LEN);
}

/* The agreed flags: stages, cipher label, notices where ours differ. */
static int
vtunsess_adopt(struct vtunsess *l, const struct vtun_flags *f)
{
	const struct conf_session *cs = l->tun.cs;
	char err[256];

	l->fl = *f;
	snprintf(l->cipher_label, sizeof(l->cipher_label), "vtun %s",
	    f->cipher == 0 ? "none" : vtun_cipher_name(f->cipher));
	if (f->zlevel > 0 && (l->z = vtun_zlib_new(f->zlevel, err,
	    sizeof(err))) == NULL) {
		log_err("%s%s", tunnel_tag(&l->tun), err);
		return -1;
	}
	if (f->cipher != 0 && (l->cr = vtun_crypt_new(l->lib, f->cipher,
	    cs->passwd, err, sizeof(err))) == NULL) {
		log_err("%s%s", tunnel_tag(&l->tun), err);
		return -1;
	}
	return 0;
}

/* vtund's cipher number for a legacy session's `cipher`. */
static int
vtunsess_conf_cipher(const struct conf_session *cs)
{
	switch (cs->cipher) {
	case CONF_CIPHER_BLOWFISH128ECB:
		return VTUN_CIPHER_BF128ECB;
	case CONF_CIPHER_AES128ECB:
		return VTUN_CIPHER_AES128ECB;
	case CONF_CIPHER_AES256ECB:
		return VTUN_CIPHER_AES256ECB;
	default:
		return VTUN_CIPHER_NONE;
	}
}

/* A server's FLAGS from its session settings. */
static void
vtunsess_conf_flags(const struct conf_session *cs, struct vtun_flags *f)
{
	memset(f, 0, sizeof(*f));
	f->udp = cs->proto == CONF_PROTO_UDP;
	f->type = cs->type;
	f->zlevel = cs->compress;
	f->keepalive = cs->keepalive > 0;
	f->cipher = vtunsess_conf_cipher(cs);
}

/* Both roles, once the password is proven: note it and warn. */
static void
vtunsess_authenticated_common(struct vtunsess *l)
{
	socklen_t len = sizeof(struct sockaddr_storage);
	struct sockaddr_storage sa;

	l->tun.authenticated = true;
	l->tun.handshake_ms = vtunsess_now();
	if (getsockname(bufferevent_getfd(l->bev), (struct sockaddr *)&sa,
	    &len) == 0)
		util_sockaddr_parts((struct sockaddr *)&sa, l->tun.local_host,
		    sizeof(l->tun.local_host), l->tun.local_port,
		    sizeof(l->tun.local_port));
	log_warnx("%slegacy vtund session with %s (%s, %s, %s, zlib %s): "
	    "the vtund protocol is NOT secure (MD5 keys, ECB, no integrity, "
	    "flags in clear)", tunnel_tag(&l->tun), l->tun.peer_str,
	    l->fl.udp ? "udp" : "tcp", dev_type_name(l->fl.type),
	    l->cipher_label, l->fl.zlevel > 0 ? "on" : "off");
}

/* Server: "HOST: name" in, challenge out. */
static int
vtunsess_srv_host(struct vtunsess *l, const uint8_t *m)
{
	uint8_t out[WIRE_VTUN_MSG_LEN];
	char esc[4 * WIRE_VTUN_MSG_LEN];

	if (vtun_parse_host(m, l->host, sizeof(l->host)) != 0) {
		util_escape(m, strnlen((const char *)m, WIRE_VTUN_MSG_LEN),
		    esc, sizeof(esc));
		tunnel_preauth_log(&l->tun, LOG_NOTICE,
		    "vtund handshake from %s refused: expected HOST, "
		    "got \"%s\"", l->tun.peer_str, esc);
		return -1;
	}
	if (getrandom(l->chal, sizeof(l->chal), 0) != sizeof(l->chal))
		return -1;
	vtun_msg_ok_chal(l->chal, out);
	vtunsess_send_msg(l, out);
	l->step = 1;
	return 0;
}

/* Server: the answer to the challenge; a wrong password, an unknown
 * session and a non-legacy session all look the same to the peer. */
static int
vtunsess_srv_chal(struct vtunsess *l, const uint8_t *m)
{
	uint8_t resp[WIRE_VTUN_CHAL_LEN], out[WIRE_VTUN_MSG_LEN];
	const struct conf_session *cs;
	char esc[4 * (CONF_NAME_MAX + 1)];
	const char *msg = NULL;
	uint8_t reason;
	struct vtun_flags f;
	bool ok;

	cs = l->tun.cbs->lookup != NULL ?
	    l->tun.cbs->lookup(l->host, l->tun.arg) : NULL;
	/* No such session costs the same work as a wrong password. */
	ok = vtun_parse_chal(m, resp) == 0 &&
	    vtun_chal_crypt(l->lib, cs != NULL ? cs->passwd :
	    "no such legacy session", resp, false) == 0 && cs != NULL &&
	    CRYPTO_memcmp(resp, l->chal, sizeof(resp)) == 0;
	OPENSSL_cleanse(l->chal, sizeof(l->chal));
	if (!ok) {
		util_escape(l->host, strlen(l->host), esc, sizeof(esc));
		tunnel_preauth_log(&l->tun, LOG_NOTICE,
		    "vtund authentication from %s for \"%s\" failed (wrong "
		    "password, or no such legacy session)", l->tun.peer_str,
		    esc);
		return -1;
	}
	l->tun.cs = cs;
	vtunsess_conf_flags(cs, &f);
	if (vtunsess_adopt(l, &f) != 0)
		return -1;
	if (l->tun.cbs->authenticated != NULL &&
	    l->tun.cbs->authenticated(&l->tun, cs, &reason, &msg,
	    l->tun.arg) != 0) {
		/* vtund has no refusal message: the reason stays in our log. */
		log_notice("%srefusing vtund client %s: %s", cs->tag,
		    l->tun.peer_str, msg);
		return -1;
	}
	if (vtun_msg_ok_flags(&f, out) != 0)
		return -1;
	vtunsess_authenticated_common(l);
	vtunsess_send_msg(l, out);
	if (f.udp)
		vtundata_ports_start(l);
	else
		vtunsess_setup(l);
	return 0;
}

/* Client: where our settings differ from the server's, say so. */
static void
vtunsess_cli_notices(const struct vtunsess *l, const struct vtun_flags *f)
{
	const struct conf_session *cs = l->tun.cs;
	int mine = vtunsess_conf_cipher(cs);

	if (f->udp != (cs->proto == CONF_PROTO_UDP))
		log_notice("%sthe server says proto %s", tunnel_tag(&l->tun),
		    f->udp ? "udp" : "tcp");
	if (f->type != cs->type)
		log_notice("%sthe server says type %s", tunnel_tag(&l->tun),
		    dev_type_name(f->type));
	if (f->zlevel != cs->compress)
		log_notice("%sthe server says compress %s%d",
		    tunnel_tag(&l->tun),
		    f->zlevel > 0 ? "zlib:" : "no, level ", f->zlevel);
	if (f->cipher != mine)
		log_notice("%sthe server says cipher %s", tunnel_tag(&l->tun),
		    f->cipher == 0 ? "none" : vtun_cipher_name(f->cipher));
	if (f->shape > 0)
		log_notice("%sthe server asks for a speed of %d kbit/s; "
		    "tapline does not shape legacy sessions",
		    tunnel_tag(&l->tun),
		    f->shape);
}

/* Client: the next server line (greeting, challenge, flags). */
static int
vtunsess_cli_msg(struct vtunsess *l, const uint8_t *m)
{
	uint8_t out[WIRE_VTUN_MSG_LEN], chal[WIRE_VTUN_CHAL_LEN];
	struct vtun_flags f;
	char err[200];

	switch (l->step) {
	case 0:
		if (!vtun_msg_is_greeting(m)) {
			log_warnx("%s%s is not a vtund server",
			    tunnel_tag(&l->tun),
			    l->tun.peer_str);
			return -1;
		}
		if (vtun_msg_host(l->tun.cs->name, out) != 0)
			return -1;
		vtunsess_send_msg(l, out);
		break;
	case 1:
		if (vtun_parse_ok_chal(m, chal) != 0) {
			log_warnx("%s%s sent no challenge", tunnel_tag(&l->tun),
			    l->tun.peer_str);
			return -1;
		}
		if (vtun_chal_crypt(l->lib, l->tun.cs->passwd, chal, true) != 0)
			return -1;
		vtun_msg_chal(chal, out);
		vtunsess_send_msg(l, out);
		break;
	case 2:
		if (vtun_parse_ok_flags(m, &f, err, sizeof(err)) != 0) {
			log_err("%s%s: %s", tunnel_tag(&l->tun),
			    l->tun.peer_str, err);
			return -1;
		}
		/* The FLAGS come in clear: never follow them below the
		 * cipher this session is configured with. */
		if (vtun_cipher_check(f.cipher, vtunsess_conf_cipher(l->tun.cs),
		    err, sizeof(err)) != 0) {
			log_err("%s%s: %s; refusing it (vtund's FLAGS travel "
			    "in clear: a man in the middle may have rewritten "
			    "them)", tunnel_tag(&l->tun), l->tun.peer_str, err);
			return -1;
		}
		vtunsess_cli_notices(l, &f);
		if (vtunsess_adopt(l, &f) != 0)
			return -1;
		vtunsess_authenticated_common(l);
		if (f.udp)
			vtundata_ports_start(l);
		else
			vtunsess_setup(l);
		break;
	default:
		return -1;
	}
	l->step++;
	return 0;
}

/* The TCP stream: handshake lines, the UDP port, or frames. */
static void
vtunsess_tcp_readcb(struct bufferevent *bev, void *arg)
{
	struct vtunsess *l = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint8_t m[WIRE_VTUN_MSG_LEN];
	int rc;

	while (l->tun.state == TUNNEL_HANDSHAKE &&
	    evbuffer_get_length(in) >= WIRE_VTUN_MSG_LEN) {
		evbuffer_remove(in, m, sizeof(m));
		if (l->tun.role == TUNNEL_CLIENT)
			rc = vtunsess_cli_msg(l, m);
		else
			rc = l->step == 0 ? vtunsess_srv_host(l, m) :
			    vtunsess_srv_chal(l, m);
		if (rc != 0) {
			if (l->tun.role == TUNNEL_SERVER) {
				vtun_msg_err(m);
				vtunsess_send_msg(l, m);
			}
			vtunsess_close(l, "handshake failed");
			return;
		}
	}
	if (l->tun.state == TUNNEL_HELLO &&
	    evbuffer_get_length(in) >= WIRE_VTUN_PORT_LEN) {
		uint8_t b[WIRE_VTUN_PORT_LEN];

		evbuffer_remove(in, b, sizeof(b));
		vtundata_ports_done(l, b);
		return;
	}
	if ((l->tun.state == TUNNEL_SETUP || l->tun.state == TUNNEL_UP) &&
	    l->ufd == -1)
		vtundata_tcp_frames(l, in);
}

/* Output drained: resume device and peer reads, or finish a close. */
static void
vtunsess_tcp_writecb(struct bufferevent *bev, void *arg)
{
	struct vtunsess *l = arg;

	if (l->tun.state == TUNNEL_CLOSING || l->tcp_flush_close) {
		vtunsess_tcp_free(l);
		vtunsess_maybe_gone(l);
		return;
	}
	vtunsess_resume_reads(l);
	vtundata_resume_peer(l);
}

/* EOF or error on the TCP connection ends the session. */
static void
vtunsess_tcp_eventcb(struct bufferevent *bev, short what, void *arg)
{
	struct vtunsess *l = arg;
	int e = EVUTIL_SOCKET_ERROR();

	vtunsess_tcp_free(l);
	if (l->tun.state == TUNNEL_CLOSING || l->tcp_flush_close) {
		vtunsess_maybe_gone(l);
		return;
	}
	if (l->tun.state == TUNNEL_HANDSHAKE)
		tunnel_preauth_log(&l->tun, LOG_NOTICE,
		    "%s%s: %s during the vtund handshake", tunnel_tag(&l->tun),
		    l->tun.peer_str,
		    (what & BEV_EVENT_EOF) ? "connection closed" :
		    strerror(e));
	vtunsess_close(l, (what & BEV_EVENT_EOF) ? "connection closed" :
	    "connection broken");
}

/* A close that could not flush in time: drop the connection. */
static void
vtunsess_lingercb(evutil_socket_t fd, short what, void *arg)
{
	struct vtunsess *l = arg;

	vtunsess_tcp_free(l);
	vtunsess_maybe_gone(l);
}

/* --- Device and up commands ------------------------------------------ */

/* Up commands done: forwarding starts. */
static void
vtunsess_up_done(struct tunnel *t, int result)
{
	struct vtunsess *l = t->owner;

	if (result != 0) {
		vtunsess_close(l, "up command failed");
		return;
	}
	l->tun.state = TUNNEL_UP;
	l->tun.was_up = true;
	l->tun.up_since_ms = vtunsess_now();
	timers_set_liveness(&l->timers, l->tun.cs->keepalive, l->tun.cs->timeout);
	timers_set_phase(&l->timers, TIMERS_UP, vtunsess_now());
	timers_on_rx(&l->timers, vtunsess_now());
	timers_on_key_update(&l->timers, vtunsess_now());
	vtunsess_resume_reads(l);
	log_notice("%sup with %s (vtund legacy, %s, %s %s, mtu %d, %s, "
	    "zlib %s)", tunnel_tag(&l->tun), l->tun.peer_str,
	    l->fl.udp ? "udp" : "tcp",
	    dev_type_name(l->fl.type), l->tun.dev->name, l->mtu,
	    l->cipher_label, l->fl.zlevel > 0 ? "on" : "off");
	if (l->tun.cbs->up != NULL)
		l->tun.cbs->up(&l->tun, l->tun.arg);
}

/*
 * Create (or take over the kept) device and configure it, off the loop;
 * vtunsess_dev_done goes on from there.
 */
void
vtunsess_setup(struct vtunsess *l)
{
	char err[256];

	if (l->tun.state == TUNNEL_CLOSING)
		return;
	l->tun.state = TUNNEL_SETUP;
	timers_set_phase(&l->timers, TIMERS_SETUP, vtunsess_now());
	l->mtu = l->tun.cs->mtu != 0 ? l->tun.cs->mtu : VTUNSESS_MTU;
	if (tunnel_dev_open(&l->tun, l->tun.cs, l->fl.type, l->mtu, 1, false,
	    err, sizeof(err)) != 0) {
		log_err("%sdevice setup failed: %s", tunnel_tag(&l->tun), err);
		vtunsess_close(l, "device setup failed");
	}
}

/* The device is ready (or not): its reading event, then the up commands;
 * forwarding starts when they have all succeeded. */
static void
vtunsess_dev_done(struct tunnel *t, const char *err)
{
	struct vtunsess *l = t->owner;

	if (err != NULL) {
		log_err("%sdevice setup failed: %s", tunnel_tag(&l->tun), err);
		vtunsess_close(l, "device setup failed");
		return;
	}
	l->dev_ev = event_new(l->tun.base, l->tun.dev->fds[0], EV_READ | EV_PERSIST,
	    vtundata_dev_readcb, l);
	if (l->dev_ev == NULL) {
		vtunsess_close(l, "out of memory");
		return;
	}
	if (tunnel_up(&l->tun, l->tun.cs) != 0)
		vtunsess_close(l, "cannot run up commands");
}

static void
vtunsess_down_done(struct tunnel *t)
{
	vtunsess_maybe_gone(t->owner);
}

/* --- Timers -------------------------------------------------------------- */

static void
vtunsess_tickcb(evutil_socket_t fd, short what, void *arg)
{
	struct vtunsess *l = arg;

	if (l->tun.state == TUNNEL_CLOSING)
		return;
	switch (timers_due(&l->timers, vtunsess_now())) {
	case TIMERS_NONE:
		break;
	case TIMERS_SEND_KEEPALIVE:
		vtundata_send_flag(l, WIRE_VTUN_ECHO_REQ);
		l->tun.c.keepalives_sent++;
		break;
	case TIMERS_HANDSHAKE_EXPIRED:
		tunnel_preauth_log(&l->tun, LOG_INFO,
		    "%s%s did not finish the vtund handshake in %d s",
		    tunnel_tag(&l->tun), l->tun.peer_str,
		    WIRE_HANDSHAKE_DEADLINE_SECONDS);
		vtunsess_close(l, "handshake deadline");
		break;
	case TIMERS_HELLO_EXPIRED:
		log_warnx("%s%s sent no UDP port within %d s",
		    tunnel_tag(&l->tun),
		    l->tun.peer_str, WIRE_HELLO_DEADLINE_SECONDS);
		vtunsess_close(l, "no UDP port");
		break;
	case TIMERS_KEY_UPDATE:
		/* vtund has no rekeying; only the timer is reset. */
		timers_on_key_update(&l->timers, vtunsess_now());
		break;
	case TIMERS_PEER_DEAD:
		log_notice("%snothing heard from %s for %d s, closing",
		    tunnel_tag(&l->tun), l->tun.peer_str, l->tun.cs->timeout);
		vtunsess_close(l, "peer silent");
		break;
	}
}

/* --- Life ---------------------------------------------------------------- */

static void
vtunsess_log_summary(const struct vtunsess *l)
{
	log_notice("%ssession with %s lasted %llu s: sent %llu packets (%llu "
	    "bytes, %llu on the wire), received %llu packets (%llu bytes); "
	    "dropped: not ready %llu, undecryptable %llu, device %llu, "
	    "udp send %llu, echo replies %llu; malformed frames %llu",
	    tunnel_tag(&l->tun), l->tun.peer_str,
	    (unsigned long long)((vtunsess_now() - l->tun.up_since_ms) / 1000),
	    (unsigned long long)l->tun.c.tx_packets,
	    (unsigned long long)l->tun.c.tx_bytes,
	    (unsigned long long)l->tun.c.tx_bytes_wire,
	    (unsigned long long)l->tun.c.rx_packets,
	    (unsigned long long)l->tun.c.rx_bytes,
	    (unsigned long long)l->tun.c.drop_not_ready,
	    (unsigned long long)l->tun.c.drop_bad_packet,
	    (unsigned long long)l->tun.c.drop_dev_write,
	    (unsigned long long)l->tun.c.drop_udp_send,
	    (unsigned long long)l->drop_echo,
	    (unsigned long long)l->bad_frames);
}

/* Stop forwarding, give the device back, run the down commands. */
static void
vtunsess_teardown(struct tunnel *t)
{
	struct vtunsess *l = t->owner;

	if (l->tun.was_up)
		vtunsess_log_summary(l);
	vtunsess_pause_reads(l);
	if (l->dev_ev != NULL) {
		event_free(l->dev_ev);
		l->dev_ev = NULL;
	}
	if (l->uev != NULL) {
		event_free(l->uev);
		l->uev = NULL;
	}
	if (l->ufd != -1) {
		close(l->ufd);
		l->ufd = -1;
	}
	tunnel_release(&l->tun, l->tun.cs);
}

void
vtunsess_close(struct vtunsess *l, const char *why)
{
	if (l->tun.state == TUNNEL_CLOSING)
		return;
	/* vtund's close frame, where the peer can still read frames. */
	if (l->tun.state == TUNNEL_SETUP || l->tun.state == TUNNEL_UP) {
		if (!l->peer_closed)
			vtundata_send_flag(l, WIRE_VTUN_CONN_CLOSE);
	}
	tunnel_log_close(&l->tun, why);
	tunnel_end(&l->tun);
	if (l->bev != NULL && !l->tcp_done) {
		/* Let what is queued (ERR, a close frame) go out first. */
		bufferevent_disable(l->bev, EV_READ);
		if (evbuffer_get_length(bufferevent_get_output(l->bev)) == 0) {
			vtunsess_tcp_free(l);
		} else {
			bufferevent_setwatermark(l->bev, EV_WRITE, 0, 0);
			struct timeval tv = {
				.tv_sec = VTUNSESS_LINGER_MS / 1000,
				.tv_usec = (VTUNSESS_LINGER_MS % 1000) * 1000,
			};

			evtimer_add(l->linger, &tv);
		}
	} else {
		l->tcp_done = true;
	}
	vtunsess_maybe_gone(l);
}

struct vtunsess *
vtunsess_new(struct event_base *base, const struct tunnel_start *st, int fd,
    struct vtun_lib *lib)
{
	uint8_t m[WIRE_VTUN_MSG_LEN];
	struct vtunsess *l;

	if ((l = calloc(1, sizeof(*l))) == NULL) {
		evutil_closesocket(fd);
		return NULL;
	}
	if (tunnel_init(&l->tun, base, &vtunsess_kind, l, st) != 0) {
		evutil_closesocket(fd);
		free(l);
		return NULL;
	}
	l->lib = lib;
	l->ufd = -1;
	util_strlcpy(l->cipher_label, "vtun", sizeof(l->cipher_label));
	timers_init(&l->timers, vtunsess_now());
	timers_set_phase(&l->timers, TIMERS_HANDSHAKE, vtunsess_now());
	l->tick = event_new(base, -1, EV_PERSIST, vtunsess_tickcb, l);
	l->linger = evtimer_new(base, vtunsess_lingercb, l);
	l->bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (l->bev == NULL)
		evutil_closesocket(fd);
	if (l->tick == NULL || l->linger == NULL ||
	    l->bev == NULL) {
		vtunsess_free(&l->tun);
		return NULL;
	}
	bufferevent_setcb(l->bev, vtunsess_tcp_readcb, vtunsess_tcp_writecb,
	    vtunsess_tcp_eventcb, l);
	bufferevent_setwatermark(l->bev, EV_WRITE, VTUNSESS_TX_LOW, 0);
	/* Read no further ahead than this: a fast peer waits in TCP. */
	bufferevent_setwatermark(l->bev, EV_READ, 0, VTUNSESS_RX_HIGH);
	bufferevent_enable(l->bev, EV_READ | EV_WRITE);
	event_add(l->tick, &(struct timeval){ .tv_sec = 1 });
	if (st->role == TUNNEL_SERVER) {
		vtun_msg_greeting(m);
		vtunsess_send_msg(l, m);
	} else {
		log_warnx("%sconnecting to %s with vtund's legacy protocol, "
		    "which is NOT secure", tunnel_tag(&l->tun),
		    l->tun.peer_str);
	}
	return l;
}

static void
vtunsess_free(struct tunnel *t)
{
	struct vtunsess *l = t->owner;

	tunnel_free(&l->tun);
	if (l->bev != NULL)
		bufferevent_free(l->bev);
	if (l->tick != NULL)
		event_free(l->tick);
	if (l->linger != NULL)
		event_free(l->linger);
	vtun_zlib_free(l->z);
	vtun_crypt_free(l->cr);
	OPENSSL_cleanse(l->chal, sizeof(l->chal));
	free(l);
}

struct tunnel *
vtunsess_tunnel(struct vtunsess *l)
{
	return &l->tun;
}

/* What status shows of a vtund session beyond what every kind has. */
static void
vtunsess_kind_fill(struct control_session *e, const struct tunnel *t,
    uint64_t now_ms)
{
	const struct vtunsess *l = t->owner;

	e->udp = l->fl.udp;
	e->cipher = t->authenticated ? l->cipher_label : NULL;
	e->compress_level = l->fl.zlevel;
	e->z = l->z != NULL ? &l->zst : NULL;
	if (t->handshake_ms != 0)
		e->rx_age_ms = control_age(now_ms, l->timers.last_rx_ms);
}

/* --- The table server.c and client.c drive a session through ----------- */

/* vtund's close has no reason code: the words are what it logs. */
static void
vtunsess_kind_close(struct tunnel *t, uint8_t reason, const char *msg)
{
	vtunsess_close(t->owner, msg);
}

const struct tunnel_kind vtunsess_kind = {
	.close = vtunsess_kind_close,
	.fill = vtunsess_kind_fill,
	.free = vtunsess_free,
	.teardown = vtunsess_teardown,
	.dev_done = vtunsess_dev_done,
	.up_done = vtunsess_up_done,
	.down_done = vtunsess_down_done,
};
