/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cap-ng.h>

#include "priv.h"
#include "util.h"

/* "65534": the config allows numeric ids as well as names. */
static bool
priv_numeric(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

int
priv_drop(const char *user, const char *group, char *err, size_t errlen)
{
	struct passwd *pw;
	struct group *gr;
	gid_t gid;
	int r;

	if (user == NULL || user[0] == '\0')
		return PRIV_NONE;
	/*
	 * getpwnam() and its kin return static storage and are not
	 * reentrant, which is fine here: the daemon has one thread, and no
	 * other lookup runs while pw and gr are in use.
	 */
	/* cppcheck-suppress getpwnamCalled */
	pw = getpwnam(user);
	if (pw == NULL && priv_numeric(user)) {
		/* cppcheck-suppress getpwuidCalled */
		pw = getpwuid((uid_t)strtoul(user, NULL, 10));
	}
	if (pw == NULL)
		return util_err(err, errlen, "user \"%s\" does not exist",
		    user);
	gid = pw->pw_gid;
	if (group != NULL && group[0] != '\0') {
		/* cppcheck-suppress getgrnamCalled */
		gr = getgrnam(group);
		if (gr == NULL && priv_numeric(group)) {
			/* cppcheck-suppress getgrgidCalled */
			gr = getgrgid((gid_t)strtoul(group, NULL, 10));
		}
		if (gr == NULL)
			return util_err(err, errlen, "group \"%s\" does not "
			    "exist", group);
		gid = gr->gr_gid;
	}
	/*
	 * Started as that user already (systemd's User=tapline with
	 * AmbientCapabilities=CAP_NET_ADMIN, and options.user = "tapline"
	 * too): there is nothing to drop, and no CAP_SETUID to do it with.
	 * Whatever capabilities the service manager granted stay.
	 */
	if (getuid() == pw->pw_uid && geteuid() == pw->pw_uid &&
	    getgid() == gid && getegid() == gid)
		return PRIV_ALREADY;
	/*
	 * Not root and unable to change ids anyway: whoever started us
	 * chose who we are (a unit's User=), and failing here would only
	 * keep the tunnel down.  The caller says that options.user was
	 * not applied.
	 */
	if (getuid() != 0 && geteuid() != 0 &&
	    capng_get_caps_process() == 0 &&
	    capng_have_capability(CAPNG_EFFECTIVE, CAP_SETUID) == 0)
		return PRIV_UNPRIVILEGED;
	/*
	 * Exactly CAP_NET_ADMIN stays: effective and permitted for the
	 * daemon, inheritable and ambient so that up/down commands such as
	 * ip(8) keep it across execve.  The bounding set holds it alone, so
	 * no child can ever regain anything else.
	 */
	capng_clear(CAPNG_SELECT_BOTH);
	if (capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED |
	    CAPNG_INHERITABLE | CAPNG_BOUNDING_SET, CAP_NET_ADMIN) != 0)
		return util_err(err, errlen, "cannot keep CAP_NET_ADMIN");
	/* The bounding set needs CAP_SETPCAP: narrow it while still root. */
	if (capng_apply(CAPNG_SELECT_BOUNDS) != 0)
		return util_err(err, errlen, "cannot narrow the bounding set: "
		    "%s", strerror(errno));
	r = capng_change_id((int)pw->pw_uid, (int)gid, CAPNG_DROP_SUPP_GRP);
	if (r != 0)
		return util_err(err, errlen, "cannot become %s: %s (capng "
		    "error %d)", user, strerror(errno), r);
	/* Ambient after the switch: it needs permitted and inheritable. */
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, CAP_NET_ADMIN, 0, 0) !=
	    0)
		return util_err(err, errlen, "cannot pass CAP_NET_ADMIN to "
		    "commands: %s", strerror(errno));
	/* Setting ids made us dumpable again; core dumps may hold keys. */
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (getuid() != pw->pw_uid || geteuid() != pw->pw_uid ||
	    getgid() != gid || setuid(0) == 0)
		return util_err(err, errlen, "dropping to %s did not stick",
		    user);
	return PRIV_DROPPED;
}
