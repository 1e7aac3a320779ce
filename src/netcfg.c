/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * rtnetlink without a library.  A request is one message built in a small
 * fixed buffer and sent on a fresh socket; answers are read until the
 * kernel's acknowledgement of exactly that request (its sequence number,
 * our port id, sent by the kernel) arrives, or a deadline passes.
 *
 * The calls block, but only for as long as the kernel takes to process
 * one request: rtnetlink handles it synchronously in sendto(), so the
 * answer is already queued when recv() is called.  The receive timeout
 * only bounds a kernel that misbehaves.  That can still be long when
 * the kernel's rtnl lock is contended (many devices made or removed at
 * once), so sessions call netcfg_dev_setup and netcfg_dev_close from the
 * worker pool (tunnel.c); neither logs, because the log is the loop's.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/fib_rules.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "conf.h"
#include "dev.h"
#include "log.h"
#include "netcfg.h"
#include "script.h"
#include "util.h"

/* A request is a header and a few attributes of at most 16 bytes. */
#define NETCFG_REQ_SIZE 256
/* One answer datagram; a link description is a few KiB. */
#define NETCFG_RECV_SIZE 32768
#define NETCFG_TIMEOUT_MS 5000
/* Datagrams read for one request before giving up on its ACK. */
#define NETCFG_RECV_MAX 16
#define NETCFG_REASON_LEN 256
/* An interface name as it appears in messages, escaped. */
#define NETCFG_QNAME_LEN (4 * IFNAMSIZ + 4)
#define NETCFG_KIND_LEN 32
/*
 * The full tunnel's rule priorities: just before the main table's rule
 * (32766), where wg-quick's rules land on a system with the kernel's
 * three rules only.  Explicit, so that a rule left by a killed daemon is
 * recognised (EEXIST) instead of doubled.
 */
#define NETCFG_PREF_SUPPRESS 32764u
#define NETCFG_PREF_TUNNEL 32765u

/* A request being built, aligned for the netlink header. */
struct netcfg_req {
	union {
		struct nlmsghdr nh;
		char bytes[NETCFG_REQ_SIZE];
	} u;
};

/* Called for every answer to the request other than the ACK itself. */
typedef void (*netcfg_reply_fn)(const struct nlmsghdr *nh, void *arg);

/* What RTM_GETLINK told us about a would-be bridge. */
struct netcfg_link {
	bool found;
	int index;
	char kind[NETCFG_KIND_LEN]; /* "bridge", "veth", "" for hardware */
};

/* Append a line to buf ("" when empty): lines for the log, from a thread
 * that may not log.  What does not fit is cut. */
static void LOG_PRINTF(3, 4)
netcfg_line(char *buf, size_t len, const char *fmt, ...)
{
	size_t off;
	va_list ap;

	if (buf == NULL || len == 0)
		return;
	off = strnlen(buf, len);
	if (off > 0 && off + 1 < len)
		buf[off++] = '\n';
	if (off + 1 >= len)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(buf + off, len - off, fmt, ap);
	va_end(ap);
}

/* Names come from the config, but a message must stay one clean line. */
static const char *
netcfg_quote(const char *name, char *buf, size_t len)
{
	util_escape(name, strlen(name), buf, len);
	return buf;
}

/* Start a request of `type` whose fixed header is `hdrlen` zero bytes. */
static void *
netcfg_req_init(struct netcfg_req *req, uint16_t type, uint16_t flags,
    size_t hdrlen)
{
	memset(req, 0, sizeof(*req));
	req->u.nh.nlmsg_len = NLMSG_LENGTH(hdrlen);
	req->u.nh.nlmsg_type = type;
	req->u.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	return NLMSG_DATA(&req->u.nh);
}

/*
 * Append one attribute.  Every request here has a fixed, small set of
 * attributes, so running out of room is a programming error.
 */
static void
netcfg_attr(struct netcfg_req *req, uint16_t type, const void *data,
    size_t len)
{
	size_t off = NLMSG_ALIGN(req->u.nh.nlmsg_len);
	struct rtattr *rta;

	if (off + RTA_SPACE(len) > sizeof(req->u.bytes))
		fatalx("netcfg: attribute %u does not fit the request", type);
	rta = (void *)(req->u.bytes + off);
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	req->u.nh.nlmsg_len = (uint32_t)(off + RTA_SPACE(len));
}

/*
 * The kernel's own explanation from an extended ACK, escaped into buf, or
 * NULL.  The attributes follow the error header and, unless the ACK is
 * capped, a copy of our request.
 */
static const char *
netcfg_extack(const struct nlmsghdr *nh, const struct nlmsgerr *ne,
    char *buf, size_t buflen)
{
	size_t off, end = nh->nlmsg_len;

	if (!(nh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	off = NLMSG_HDRLEN + sizeof(*ne);
	if (!(nh->nlmsg_flags & NLM_F_CAPPED)) {
		if (ne->msg.nlmsg_len < NLMSG_HDRLEN)
			return NULL;
		off += NLMSG_ALIGN(ne->msg.nlmsg_len - NLMSG_HDRLEN);
	}
	off = NLMSG_ALIGN(off);
	while (off + sizeof(struct rtattr) <= end) {
		const void *p = (const char *)nh + off;
		const struct rtattr *rta = p;

		if (rta->rta_len < sizeof(*rta) || rta->rta_len > end - off)
			return NULL;
		if ((rta->rta_type & NLA_TYPE_MASK) == NLMSGERR_ATTR_MSG) {
			const char *s = RTA_DATA(rta);
			size_t n = strnlen(s, rta->rta_len - RTA_LENGTH(0));

			if (n == 0)
				return NULL;
			util_escape(s, n, buf, buflen);
			return buf;
		}
		off += RTA_ALIGN(rta->rta_len);
	}
	return NULL;
}

/* Turn NLMSG_ERROR into 0 (an ACK) or -1 with errno and a reason. */
static int
netcfg_ack(const struct nlmsghdr *nh, char *reason, size_t reasonlen)
{
	const struct nlmsgerr *ne;
	char ext[NETCFG_REASON_LEN / 2];
	int e;

	if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ne))) {
		util_err(reason, reasonlen, "short netlink error message");
		errno = EPROTO;
		return -1;
	}
	ne = NLMSG_DATA(nh);
	if (ne->error == 0)
		return 0;
	e = ne->error < 0 ? -ne->error : EPROTO;
	if (netcfg_extack(nh, ne, ext, sizeof(ext)) != NULL)
		util_err(reason, reasonlen, "%s (%s)", strerror(e), ext);
	else
		util_err(reason, reasonlen, "%s", strerror(e));
	errno = e;
	return -1;
}

/*
 * Read one datagram and look for the answer to request `seq`.  Returns 0
 * on its ACK, -1 on its error (errno, reason), 1 to keep reading.
 */
static int
netcfg_recv_one(int s, char *buf, uint32_t seq, uint32_t portid,
    netcfg_reply_fn reply, void *arg, char *reason, size_t reasonlen)
{
	struct sockaddr_nl from;
	socklen_t fromlen = sizeof(from);
	size_t off, len;
	ssize_t n;
	int e;

	memset(&from, 0, sizeof(from));
	n = recvfrom(s, buf, NETCFG_RECV_SIZE, MSG_TRUNC,
	    (struct sockaddr *)&from, &fromlen);
	if (n == -1) {
		if (errno == EINTR)
			return 1;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			util_err(reason, reasonlen, "no answer from the kernel "
			    "within %d ms", NETCFG_TIMEOUT_MS);
			errno = ETIMEDOUT;
			return -1;
		}
		e = errno;
		util_err(reason, reasonlen, "netlink receive: %s",
		    strerror(e));
		errno = e;
		return -1;
	}
	/* Only the kernel (port 0) may answer; anything else is noise. */
	if (fromlen < sizeof(from) || from.nl_pid != 0)
		return 1;
	if ((size_t)n > NETCFG_RECV_SIZE) {
		util_err(reason, reasonlen, "netlink answer of %zd bytes is "
		    "too large", n);
		errno = EMSGSIZE;
		return -1;
	}
	len = (size_t)n;
	for (off = 0; off + NLMSG_HDRLEN <= len;) {
		const void *p = buf + off;
		const struct nlmsghdr *nh = p;

		if (nh->nlmsg_len < NLMSG_HDRLEN || nh->nlmsg_len > len - off)
			break;
		if (nh->nlmsg_seq == seq && nh->nlmsg_pid == portid) {
			if (nh->nlmsg_type == NLMSG_ERROR)
				return netcfg_ack(nh, reason, reasonlen);
			if (reply != NULL && nh->nlmsg_type >= RTM_BASE)
				reply(nh, arg);
		}
		off += NLMSG_ALIGN(nh->nlmsg_len);
	}
	return 1;
}

/*
 * Send one request on a fresh socket and wait for the kernel's answer.
 * Returns 0 on its ACK; -1 with errno and a reason ("File exists", with
 * the kernel's extended message if it gave one) otherwise.  Answers other
 * than the ACK (the reply to a GET) go to `reply`.
 */
static int
netcfg_talk(struct netcfg_req *req, netcfg_reply_fn reply, void *arg,
    char *reason, size_t reasonlen)
{
	struct sockaddr_nl sa;
	struct timeval tv = {
		.tv_sec = NETCFG_TIMEOUT_MS / 1000,
		.tv_usec = (NETCFG_TIMEOUT_MS % 1000) * 1000,
	};
	socklen_t salen = sizeof(sa);
	uint32_t seq, portid;
	char *buf = NULL;
	int s, one = 1, r = -1, e = 0, i;

	s = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (s == -1) {
		e = errno;
		util_err(reason, reasonlen, "no netlink socket: %s",
		    strerror(e));
		goto out;
	}
	/*
	 * Extended ACKs carry the kernel's explanation ("Nexthop device is
	 * not up"); capped ACKs leave our request out of error messages.
	 * Both only improve messages, so a kernel without them is fine.
	 */
	(void)setsockopt(s, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	(void)setsockopt(s, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    bind(s, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    getsockname(s, (struct sockaddr *)&sa, &salen) == -1) {
		e = errno;
		util_err(reason, reasonlen, "netlink socket setup: %s",
		    strerror(e));
		goto out;
	}
	portid = sa.nl_pid;
	/* Any value will do on a fresh socket; the clock varies it. */
	seq = (uint32_t)util_now_ms();
	req->u.nh.nlmsg_seq = seq;
	req->u.nh.nlmsg_pid = portid;
	memset(&sa, 0, sizeof(sa));
	sa.nl_family = AF_NETLINK;
	if (sendto(s, req->u.bytes, req->u.nh.nlmsg_len, 0,
	    (struct sockaddr *)&sa, sizeof(sa)) !=
	    (ssize_t)req->u.nh.nlmsg_len) {
		e = errno != 0 ? errno : EIO;
		util_err(reason, reasonlen, "netlink send: %s", strerror(e));
		goto out;
	}
	buf = malloc(NETCFG_RECV_SIZE);
	if (buf == NULL) {
		e = ENOMEM;
		util_err(reason, reasonlen, "out of memory");
		goto out;
	}
	for (i = 0; i < NETCFG_RECV_MAX; i++) {
		int st = netcfg_recv_one(s, buf, seq, portid, reply, arg,
		    reason, reasonlen);

		if (st == 0) {
			r = 0;
			goto out;
		}
		if (st == -1) {
			e = errno;
			goto out;
		}
	}
	e = EPROTO;
	util_err(reason, reasonlen, "no acknowledgement from the kernel");
out:
	free(buf);
	if (s != -1)
		close(s);
	if (r == -1)
		errno = e;
	return r;
}

/* Address length of a family; -1 with errno for anything else. */
static int
netcfg_addr_len(const struct conf_cidr *c, size_t *len, char *reason,
    size_t reasonlen)
{
	int max;

	switch (c->family) {
	case AF_INET:
		*len = 4;
		max = 32;
		break;
	case AF_INET6:
		*len = 16;
		max = 128;
		break;
	default:
		util_err(reason, reasonlen, "unknown address family %d",
		    c->family);
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (c->prefix < 0 || c->prefix > max) {
		util_err(reason, reasonlen, "prefix length out of range");
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/* The index of `ifname`, or 0 with a reason. */
static unsigned int
netcfg_index(const char *ifname, char *reason, size_t reasonlen)
{
	unsigned int idx = if_nametoindex(ifname);

	if (idx == 0) {
		int e = errno != 0 ? errno : ENODEV;

		util_err(reason, reasonlen, "%s", strerror(e));
		errno = e;
	}
	return idx;
}

int
netcfg_addr_add(const char *ifname, const struct conf_cidr *a, char *err,
    size_t errlen)
{
	char qname[NETCFG_QNAME_LEN], cidr[CONF_CIDR_STRLEN];
	char reason[NETCFG_REASON_LEN];
	struct netcfg_req req;
	struct ifaddrmsg *ifa;
	unsigned int idx;
	size_t alen;
	int r = -1, e;

	if (netcfg_addr_len(a, &alen, reason, sizeof(reason)) == -1)
		goto out;
	if ((idx = netcfg_index(ifname, reason, sizeof(reason))) == 0)
		goto out;
	ifa = netcfg_req_init(&req, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL,
	    sizeof(*ifa));
	ifa->ifa_family = (uint8_t)a->family;
	ifa->ifa_prefixlen = (uint8_t)a->prefix;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = idx;
	/* Duplicate address detection would hold the address back ~1 s. */
	if (a->family == AF_INET6)
		ifa->ifa_flags = IFA_F_NODAD;
	/*
	 * IFA_ADDRESS equal to IFA_LOCAL means "no peer address", which is
	 * what `ip addr add` sends: then the kernel installs the prefix
	 * route even on a point-to-point tun device, where IFA_ADDRESS
	 * would otherwise name the peer.
	 */
	netcfg_attr(&req, IFA_LOCAL, a->addr, alen);
	netcfg_attr(&req, IFA_ADDRESS, a->addr, alen);
	r = netcfg_talk(&req, NULL, NULL, reason, sizeof(reason));
out:
	if (r == -1) {
		e = errno;
		conf_cidr_format(a, cidr, sizeof(cidr));
		util_err(err, errlen, "%s: cannot add address %s: %s",
		    netcfg_quote(ifname, qname, sizeof(qname)), cidr, reason);
		errno = e;
	}
	return r;
}

/*
 * Route rt out of ifname in table.  Never replace: a route that already
 * exists belongs to someone else (often the route to the peer itself,
 * which replacing would cut).  A fresh device cannot have routes of its
 * own yet.
 */
static int
netcfg_route_add_table(const char *ifname, const struct conf_cidr *rt,
    uint32_t table, char *err, size_t errlen)
{
	char qname[NETCFG_QNAME_LEN], cidr[CONF_CIDR_STRLEN];
	char reason[NETCFG_REASON_LEN], intable[32] = "";
	struct netcfg_req req;
	struct rtmsg *rtm;
	unsigned int idx;
	uint32_t oif;
	size_t alen;
	int r = -1, e;

	if (netcfg_addr_len(rt, &alen, reason, sizeof(reason)) == -1)
		goto out;
	if ((idx = netcfg_index(ifname, reason, sizeof(reason))) == 0)
		goto out;
	rtm = netcfg_req_init(&req, RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL,
	    sizeof(*rtm));
	rtm->rtm_family = (uint8_t)rt->family;
	rtm->rtm_dst_len = (uint8_t)rt->prefix;
	/* rtm_table has 8 bits; RTA_TABLE says it in full. */
	rtm->rtm_table = table < 256 ? (uint8_t)table : RT_TABLE_UNSPEC;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	netcfg_attr(&req, RTA_TABLE, &table, sizeof(table));
	/* A default route has no destination attribute, as with ip(8). */
	if (rt->prefix > 0)
		netcfg_attr(&req, RTA_DST, rt->addr, alen);
	oif = idx;
	netcfg_attr(&req, RTA_OIF, &oif, sizeof(oif));
	r = netcfg_talk(&req, NULL, NULL, reason, sizeof(reason));
out:
	if (r == -1) {
		e = errno;
		conf_cidr_format(rt, cidr, sizeof(cidr));
		if (table != RT_TABLE_MAIN)
			snprintf(intable, sizeof(intable), " in table %" PRIu32,
			    table);
		util_err(err, errlen, "%s: cannot add route %s%s: %s",
		    netcfg_quote(ifname, qname, sizeof(qname)), cidr, intable,
		    reason);
		errno = e;
	}
	return r;
}

int
netcfg_route_add(const char *ifname, const struct conf_cidr *rt, char *err,
    size_t errlen)
{
	return netcfg_route_add_table(ifname, rt, RT_TABLE_MAIN, err, errlen);
}

/* The rule of bit (NETCFG_RULE_*) as ip-rule(8) shows it, for messages. */
static void
netcfg_rule_text(unsigned int bit, uint32_t fwmark, uint32_t table,
    char *buf, size_t len)
{
	const char *fam = bit >= NETCFG_RULE_SUPPRESS6 ? "-6 " : "";

	if (bit == NETCFG_RULE_SUPPRESS4 || bit == NETCFG_RULE_SUPPRESS6)
		snprintf(buf, len, "ip %srule %u: lookup main "
		    "suppress_prefixlength 0", fam, NETCFG_PREF_SUPPRESS);
	else
		snprintf(buf, len, "ip %srule %u: not fwmark 0x%" PRIx32
		    " lookup %" PRIu32, fam, NETCFG_PREF_TUNNEL, fwmark, table);
}

/*
 * Add (RTM_NEWRULE, never over an equal rule) or delete (RTM_DELRULE)
 * one of a full tunnel's rules.  0, or -1 with errno and a reason.
 */
static int
netcfg_rule(uint16_t type, unsigned int bit, uint32_t fwmark, uint32_t table,
    char *reason, size_t reasonlen)
{
	bool suppress = bit == NETCFG_RULE_SUPPRESS4 ||
	    bit == NETCFG_RULE_SUPPRESS6;
	uint32_t pref, tbl, zero = 0;
	struct fib_rule_hdr *frh;
	struct netcfg_req req;

	frh = netcfg_req_init(&req, type, type == RTM_NEWRULE ?
	    NLM_F_CREATE | NLM_F_EXCL : 0, sizeof(*frh));
	frh->family = bit >= NETCFG_RULE_SUPPRESS6 ? AF_INET6 : AF_INET;
	frh->action = FR_ACT_TO_TBL;
	if (suppress) {
		pref = NETCFG_PREF_SUPPRESS;
		tbl = RT_TABLE_MAIN;
		netcfg_attr(&req, FRA_SUPPRESS_PREFIXLEN, &zero, sizeof(zero));
	} else {
		pref = NETCFG_PREF_TUNNEL;
		tbl = table;
		frh->flags = FIB_RULE_INVERT;
		netcfg_attr(&req, FRA_FWMARK, &fwmark, sizeof(fwmark));
	}
	frh->table = tbl < 256 ? (uint8_t)tbl : RT_TABLE_UNSPEC;
	netcfg_attr(&req, FRA_TABLE, &tbl, sizeof(tbl));
	netcfg_attr(&req, FRA_PRIORITY, &pref, sizeof(pref));
	return netcfg_talk(&req, NULL, NULL, reason, reasonlen);
}

/*
 * Add rule bit to dev's: recorded when we made it, left alone (and not
 * recorded) when an equal rule was there already.
 */
static int
netcfg_rule_add(struct dev *dev, unsigned int bit, char *note, size_t notelen,
    char *err, size_t errlen)
{
	char reason[NETCFG_REASON_LEN], what[96], qname[NETCFG_QNAME_LEN];

	netcfg_rule_text(bit, dev->rules_fwmark, dev->rules_table, what,
	    sizeof(what));
	if (netcfg_rule(RTM_NEWRULE, bit, dev->rules_fwmark, dev->rules_table,
	    reason, sizeof(reason)) == 0) {
		dev->rules |= bit;
		return 0;
	}
	if (errno == EEXIST) {
		netcfg_line(note, notelen, "%s: \"%s\" exists already; it is "
		    "left as it is", netcfg_quote(dev->name, qname,
		    sizeof(qname)), what);
		return 0;
	}
	return util_err(err, errlen, "%s: cannot add \"%s\": %s",
	    netcfg_quote(dev->name, qname, sizeof(qname)), what, reason);
}

/*
 * One family of a full tunnel: the default route in its table first
 * (refused if the table has one: another tunnel's), then the suppress
 * rule, and only then the rule that sends traffic to the table, so that
 * the main table's more specific routes are never bypassed.
 */
static int
netcfg_full_tunnel_add(struct dev *dev, const struct conf_cidr *rt,
    char *note, size_t notelen, char *err, size_t errlen)
{
	bool v6 = rt->family == AF_INET6;

	if (netcfg_route_add_table(dev->name, rt, dev->rules_table, err,
	    errlen) != 0)
		return -1;
	if (netcfg_rule_add(dev, v6 ? NETCFG_RULE_SUPPRESS6 :
	    NETCFG_RULE_SUPPRESS4, note, notelen, err, errlen) != 0)
		return -1;
	return netcfg_rule_add(dev, v6 ? NETCFG_RULE_TUNNEL6 :
	    NETCFG_RULE_TUNNEL4, note, notelen, err, errlen);
}

/* Remove the rules recorded in dev, the fwmark rules first; a line in
 * err for each that could not be removed. */
static int
netcfg_rules_del(struct dev *dev, char *err, size_t errlen)
{
	static const unsigned int order[] = { NETCFG_RULE_TUNNEL6,
	    NETCFG_RULE_SUPPRESS6, NETCFG_RULE_TUNNEL4,
	    NETCFG_RULE_SUPPRESS4 };
	char reason[NETCFG_REASON_LEN], what[96], qname[NETCFG_QNAME_LEN];
	size_t i;
	int r = 0;

	for (i = 0; i < UTIL_ARRAY_LEN(order); i++) {
		if (!(dev->rules & order[i]))
			continue;
		dev->rules &= ~order[i];
		if (netcfg_rule(RTM_DELRULE, order[i], dev->rules_fwmark,
		    dev->rules_table, reason, sizeof(reason)) == 0)
			continue;
		netcfg_rule_text(order[i], dev->rules_fwmark, dev->rules_table,
		    what, sizeof(what));
		netcfg_line(err, errlen, "%s: cannot remove \"%s\": %s",
		    netcfg_quote(dev->name, qname, sizeof(qname)), what,
		    reason);
		r = -1;
	}
	return r;
}

int
netcfg_dev_close(struct dev *dev, char *err, size_t errlen)
{
	int r;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	r = netcfg_rules_del(dev, err, errlen);
	dev_close(dev);
	return r;
}

int
netcfg_sock_mark(int fd, const struct conf_session *cs, char *err,
    size_t errlen)
{
	uint32_t mark = cs->fwmark;

	if (!conf_session_full_tunnel(cs, AF_UNSPEC))
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) == -1)
		return util_err(err, errlen, "cannot give the socket the full "
		    "tunnel's fwmark 0x%" PRIx32 " (SO_MARK): %s", mark,
		    strerror(errno));
	return 0;
}

/* Collect index and IFLA_INFO_KIND from an RTM_NEWLINK answer. */
static void
netcfg_link_reply(const struct nlmsghdr *nh, void *arg)
{
	struct netcfg_link *l = arg;
	const struct ifinfomsg *ifi;
	size_t off, end = nh->nlmsg_len;

	if (nh->nlmsg_type != RTM_NEWLINK ||
	    nh->nlmsg_len < NLMSG_LENGTH(sizeof(*ifi)))
		return;
	ifi = NLMSG_DATA(nh);
	l->found = true;
	l->index = ifi->ifi_index;
	for (off = NLMSG_LENGTH(NLMSG_ALIGN(sizeof(*ifi)));
	    off + sizeof(struct rtattr) <= end;) {
		const void *p = (const char *)nh + off;
		const struct rtattr *rta = p;
		size_t noff, nend;

		if (rta->rta_len < sizeof(*rta) || rta->rta_len > end - off)
			return;
		off += RTA_ALIGN(rta->rta_len);
		if ((rta->rta_type & NLA_TYPE_MASK) != IFLA_LINKINFO)
			continue;
		/* IFLA_LINKINFO nests IFLA_INFO_KIND, a string. */
		nend = RTA_PAYLOAD(rta);
		for (noff = 0; noff + sizeof(struct rtattr) <= nend;) {
			const void *np = (const char *)RTA_DATA(rta) + noff;
			const struct rtattr *n = np;

			if (n->rta_len < sizeof(*n) || n->rta_len > nend - noff)
				return;
			if ((n->rta_type & NLA_TYPE_MASK) == IFLA_INFO_KIND) {
				size_t len = strnlen(RTA_DATA(n),
				    RTA_PAYLOAD(n));

				if (len >= sizeof(l->kind))
					len = sizeof(l->kind) - 1;
				memcpy(l->kind, RTA_DATA(n), len);
				l->kind[len] = '\0';
				return;
			}
			noff += RTA_ALIGN(n->rta_len);
		}
	}
}

/*
 * Look `bridge` up by name.  Returns 0 with its index if it is a bridge;
 * -1 with errno ENODEV, ENOTSUP or the kernel's error and a reason.
 */
static int
netcfg_bridge_lookup(const char *bridge, int *index, char *reason,
    size_t reasonlen)
{
	char qbr[NETCFG_QNAME_LEN], qkind[2 * NETCFG_KIND_LEN];
	struct netcfg_link link;
	struct netcfg_req req;
	struct ifinfomsg *ifi;

	netcfg_quote(bridge, qbr, sizeof(qbr));
	ifi = netcfg_req_init(&req, RTM_GETLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	if (strlen(bridge) >= IFNAMSIZ) {
		util_err(reason, reasonlen, "%s does not exist", qbr);
		errno = ENODEV;
		return -1;
	}
	netcfg_attr(&req, IFLA_IFNAME, bridge, strlen(bridge) + 1);
	memset(&link, 0, sizeof(link));
	if (netcfg_talk(&req, netcfg_link_reply, &link, reason,
	    reasonlen) == -1) {
		int e = errno;

		if (e == ENODEV)
			util_err(reason, reasonlen, "%s does not exist", qbr);
		errno = e;
		return -1;
	}
	if (!link.found) {
		util_err(reason, reasonlen, "the kernel did not describe %s",
		    qbr);
		errno = EPROTO;
		return -1;
	}
	if (strcmp(link.kind, "bridge") != 0) {
		if (link.kind[0] != '\0')
			util_err(reason, reasonlen, "%s is not a bridge but a "
			    "%s device", qbr, netcfg_quote(link.kind, qkind,
			    sizeof(qkind)));
		else
			util_err(reason, reasonlen, "%s is not a bridge", qbr);
		errno = ENOTSUP;
		return -1;
	}
	*index = link.index;
	return 0;
}

/*
 * The bridge is checked first because the kernel's answer to enslaving a
 * device to a non-bridge ("Operation not supported") would not say what
 * is actually wrong.
 */
int
netcfg_bridge_attach(const char *ifname, const char *bridge, char *err,
    size_t errlen)
{
	char qname[NETCFG_QNAME_LEN], qbr[NETCFG_QNAME_LEN];
	char reason[NETCFG_REASON_LEN];
	struct netcfg_req req;
	struct ifinfomsg *ifi;
	unsigned int idx;
	uint32_t master;
	int r = -1, e, bridx;

	if ((idx = netcfg_index(ifname, reason, sizeof(reason))) == 0)
		goto out;
	if (netcfg_bridge_lookup(bridge, &bridx, reason, sizeof(reason)) == -1)
		goto out;
	ifi = netcfg_req_init(&req, RTM_SETLINK, 0, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)idx;
	master = (uint32_t)bridx;
	netcfg_attr(&req, IFLA_MASTER, &master, sizeof(master));
	r = netcfg_talk(&req, NULL, NULL, reason, sizeof(reason));
out:
	if (r == -1) {
		e = errno;
		util_err(err, errlen, "%s: cannot attach to bridge %s: %s",
		    netcfg_quote(ifname, qname, sizeof(qname)),
		    netcfg_quote(bridge, qbr, sizeof(qbr)), reason);
		errno = e;
	}
	return r;
}

int
netcfg_dev_setup(struct dev *dev, int mtu, const struct conf_session *cs,
    char *note, size_t notelen, char *err, size_t errlen)
{
	char e2[NETCFG_REASON_LEN];
	size_t i;

	if (note != NULL && notelen > 0)
		note[0] = '\0';
	if (dev_set_mtu(dev, mtu, err, errlen) != 0)
		return -1;
	for (i = 0; i < cs->naddress; i++)
		if (netcfg_addr_add(dev->name, &cs->address[i], err,
		    errlen) != 0)
			return -1;
	if (dev->type == DEV_TAP && cs->bridge[0] != '\0' &&
	    netcfg_bridge_attach(dev->name, cs->bridge, err, errlen) != 0)
		return -1;
	if (dev_set_up(dev, true, err, errlen) != 0)
		return -1;
	dev->rules = 0;
	dev->rules_fwmark = cs->fwmark;
	dev->rules_table = cs->table;
	for (i = 0; i < cs->nroutes; i++) {
		const struct conf_cidr *rt = &cs->routes[i];

		if ((rt->prefix == 0 ? netcfg_full_tunnel_add(dev, rt, note,
		    notelen, err, errlen) : netcfg_route_add(dev->name, rt,
		    err, errlen)) != 0) {
			/* A rule that would not go is named after the
			 * failure that made it go. */
			e2[0] = '\0';
			if (netcfg_rules_del(dev, e2, sizeof(e2)) != 0 &&
			    err != NULL) {
				size_t off = strnlen(err, errlen);

				if (off + 1 < errlen)
					snprintf(err + off, errlen - off,
					    "; and %s", e2);
			}
			return -1;
		}
	}
	return 0;
}

/* A command of argc words (copied), its stdin text (copied) or NULL. */
static int
netcfg_cmd(struct script_argv *c, const char *const *words, int argc,
    const char *input)
{
	int i;

	c->argc = 0;
	c->input = NULL;
	c->argv = calloc((size_t)argc + 1, sizeof(*c->argv));
	if (c->argv == NULL)
		return -1;
	for (i = 0; i < argc; i++) {
		if ((c->argv[i] = strdup(words[i])) == NULL)
			return -1;
		c->argc = i + 1;
	}
	if (input != NULL && (c->input = strdup(input)) == NULL)
		return -1;
	return 0;
}

void
netcfg_dns_cmds_free(struct script_argv *cmds, int n)
{
	int i;

	if (cmds == NULL)
		return;
	for (i = 0; i < n; i++)
		script_argv_free(&cmds[i]);
	free(cmds);
}

int
netcfg_dns_cmds(const struct conf_session *cs, bool undo,
    struct script_argv **cmds)
{
	char path[4096], addrs[CONF_LIST_MAX][INET6_ADDRSTRLEN];
	const char *words[CONF_LIST_MAX + 3];
	char *input = NULL;
	size_t i, off = 0, cap;
	int n = 0, r = -1;

	*cmds = NULL;
	if (cs->ndns == 0 || cs->ndns > CONF_LIST_MAX)
		return 0;
	for (i = 0; i < cs->ndns; i++)
		if (inet_ntop(cs->dns[i].family, cs->dns[i].addr, addrs[i],
		    sizeof(addrs[i])) == NULL)
			return 0;
	if ((*cmds = calloc(2, sizeof(**cmds))) == NULL)
		return -1;
	if (script_find("resolvectl", path, sizeof(path)) == 0) {
		if (undo)
			goto none;
		words[0] = "resolvectl";
		words[1] = "dns";
		words[2] = "%d";
		for (i = 0; i < cs->ndns; i++)
			words[3 + i] = addrs[i];
		if (netcfg_cmd(&(*cmds)[n++], words, 3 + (int)cs->ndns,
		    NULL) == -1)
			goto out;
		/* "~." makes the device's servers those of every name. */
		words[1] = "domain";
		words[3] = "~.";
		if (netcfg_cmd(&(*cmds)[n++], words, 4, NULL) == -1)
			goto out;
		return n;
	}
	if (script_find("resolvconf", path, sizeof(path)) == 0) {
		words[0] = "resolvconf";
		words[1] = undo ? "-d" : "-a";
		words[2] = "%d";
		if (!undo) {
			cap = cs->ndns * (sizeof(addrs[0]) + 12) + 1;
			if ((input = malloc(cap)) == NULL)
				goto out;
			for (i = 0; i < cs->ndns; i++)
				off += (size_t)snprintf(input + off, cap - off,
				    "nameserver %s\n", addrs[i]);
		}
		if (netcfg_cmd(&(*cmds)[n++], words, 3, input) == -1)
			goto out;
		free(input);
		return n;
	}
	if (!undo)
		log_notice("%sdns: neither resolvectl nor resolvconf is "
		    "installed (looked in %s); the DNS servers are not set",
		    cs->tag, SCRIPT_PATH);
none:
	netcfg_dns_cmds_free(*cmds, n);
	*cmds = NULL;
	return 0;
out:
	free(input);
	netcfg_dns_cmds_free(*cmds, n);
	*cmds = NULL;
	return r;
}
