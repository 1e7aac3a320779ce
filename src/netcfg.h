/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Native device configuration over rtnetlink: addresses, routes and bridge
 * membership, so that no `ip` command or script is needed for the common
 * case.  Every call opens its own netlink socket,
 * waits for the kernel's acknowledgement and closes it again; nothing is
 * kept between calls.
 *
 * Order matters: the kernel refuses a route out of a device that is not up
 * ("Network is down"), so routes go after dev_set_up().  Addresses and the
 * bridge may come before.
 */
#ifndef TAPLINE_NETCFG_H
#define TAPLINE_NETCFG_H

#include <stdbool.h>
#include <stddef.h>

struct conf_cidr;

/*
 * Put address `a` on `ifname`, like "ip addr add A dev IFNAME": the prefix
 * route of the address appears (on point-to-point tun devices too) and an
 * IPv6 address skips duplicate address detection so that it works at once.
 * An address the device already has is an error (EEXIST).
 *
 * All three functions return 0, or -1 with errno set (to the kernel's
 * error where there is one) and a sentence in err naming device, value
 * and reason: "tl-cobra: cannot add address 192.0.2.1/30: File exists".
 */
int netcfg_addr_add(const char *ifname, const struct conf_cidr *a, char *err,
    size_t errlen);

/*
 * Route the network `r` out of `ifname` (scope link, main table).  A
 * route to the same network that exists already is an error (EEXIST):
 * it belongs to someone else.
 */
int netcfg_route_add(const char *ifname, const struct conf_cidr *r, char *err,
    size_t errlen);

/*
 * Make `ifname` a port of the existing bridge `bridge`.  A missing bridge
 * (ENODEV) or a device that is not a bridge (ENOTSUP) is reported by name
 * before the kernel is asked to enslave anything.
 */
int netcfg_bridge_attach(const char *ifname, const char *bridge, char *err,
    size_t errlen);

struct conf_session;
struct dev;

/*
 * A session's freshly opened device made ready, in the order the kernel
 * needs: MTU, addresses, bridge (tap), link up, routes.  0, or -1 with
 * err set by the step that failed (and no rule of it left behind).
 * Nothing is logged (it runs on the worker pool): what the operator
 * should know although it worked goes into note, one line per '\n'
 * ("" when nothing), for the caller to log at info level.
 *
 * A route of prefix length 0 makes a full tunnel of that family, as
 * wg-quick does: the default route goes out of the device in table
 * cs->table, and two policy rules send there everything that does not
 * carry cs->fwmark (the client's own sockets do, netcfg_sock_mark), so
 * that the tunnel's traffic to the server keeps the main table's default
 * route, which is never touched:
 *
 *	32764:	from all lookup main suppress_prefixlength 0
 *	32765:	not from all fwmark M lookup T
 *
 * The first rule lets every more specific route of the main table (the
 * LAN, the tunnel's own prefixes) win over the tunnel's default route.
 * A rule that exists already (a daemon killed before it could remove
 * its own) is left as it was found, and kept on close (a line in note).  The routes go
 * with the device; the rules added are recorded in dev and removed by
 * netcfg_dev_close.
 */
int netcfg_dev_setup(struct dev *dev, int mtu, const struct conf_session *cs,
    char *note, size_t notelen, char *err, size_t errlen);

/* Bits of dev->rules: the suppress rule and the fwmark rule, per family. */
#define NETCFG_RULE_SUPPRESS4	0x1
#define NETCFG_RULE_TUNNEL4	0x2
#define NETCFG_RULE_SUPPRESS6	0x4
#define NETCFG_RULE_TUNNEL6	0x8

/*
 * Remove the rules netcfg_dev_setup added, then close the device (its
 * routes go with it).  0, or -1 when a rule could not be removed, with
 * a line in err for each (the device is closed all the same).  Nothing
 * is logged: the caller logs err as warnings.
 */
int netcfg_dev_close(struct dev *dev, char *err, size_t errlen);

/*
 * Mark a socket of the client's session cs with its fwmark if cs is a
 * full tunnel (SO_MARK, which takes CAP_NET_ADMIN), so that it keeps the
 * main table's routes; nothing otherwise.  0, or -1 with err set.
 */
int netcfg_sock_mark(int fd, const struct conf_session *cs, char *err,
    size_t errlen);

struct script_argv;

/*
 * The commands that give cs->dns to the system's resolver for the device
 * named by "%d" (undo = false), or take them back (undo = true), run
 * like up and down commands (no shell, PATH = SCRIPT_PATH):
 *
 *   resolvectl found:  resolvectl dns %d ADDR...; resolvectl domain %d ~.
 *                      (undo: none; systemd-resolved forgets a link's
 *                      servers when the link is removed)
 *   else resolvconf:   resolvconf -a %d, "nameserver ADDR" lines on stdin
 *                      (undo: resolvconf -d %d)
 *   else:              none, and a notice saying so (undo = false only)
 *
 * Returns the number of commands in *cmds (0: none; free them with
 * netcfg_dns_cmds_free), or -1 when out of memory.
 */
int netcfg_dns_cmds(const struct conf_session *cs, bool undo,
    struct script_argv **cmds);
void netcfg_dns_cmds_free(struct script_argv *cmds, int n);

#endif
