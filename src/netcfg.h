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
 * Route the network `r` out of `ifname` (scope link, main table).  An
 * existing route to the same network is replaced, so that a restarted
 * session does not fail on the route its predecessor left behind.
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
 * err set by the step that failed.
 */
int netcfg_dev_setup(struct dev *dev, int mtu, const struct conf_session *cs,
    char *err, size_t errlen);

#endif
