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

/* What priv_drop() did, when it succeeded. */
#define PRIV_NONE		0	/* no user asked for */
#define PRIV_DROPPED		1	/* was root; now user, CAP_NET_ADMIN */
#define PRIV_ALREADY		2	/* ran as user (and group) already */
#define PRIV_UNPRIVILEGED	3	/* ran as someone else, not root and
					 * without CAP_SETUID: stayed */

/* The system user the systemd units run tapline as (User=). */
#define PRIV_SERVICE_USER	"tapline"

/*
 * Become user (and group; "" = the user's primary group) keeping only
 * CAP_NET_ADMIN.  user "" = stay as we are.  A process that already is
 * user, or that is not root and cannot change ids, stays as it is: the
 * service manager started it as its unit says (User=, ambient
 * CAP_NET_ADMIN).  One of PRIV_*, or -1 with a sentence in err.
 */
int priv_drop(const char *user, const char *group, char *err, size_t errlen);

#endif
