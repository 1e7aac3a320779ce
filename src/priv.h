/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Dropping root (options.user / options.group): after the sockets are
 * open the daemon becomes that user, keeping only CAP_NET_ADMIN, which
 * creating devices, configuring them over netlink and the up/down
 * commands (which get it as an ambient capability) still need.
 */
#ifndef TAPLINE_PRIV_H
#define TAPLINE_PRIV_H

#include <stddef.h>

/*
 * Become user (and group; "" = the user's primary group) keeping only
 * CAP_NET_ADMIN.  user "" = stay as we are (returns 0).  0, or -1 with
 * a sentence in err.
 */
int priv_drop(const char *user, const char *group, char *err, size_t errlen);

#endif
