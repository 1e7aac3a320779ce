/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dev.h"
#include "util.h"

#define DEV_TUN_PATH "/dev/net/tun"

/*
 * Linux's MTU limits for the two kinds (dev->min_mtu and max_mtu in the tun
 * driver); used only to make an EINVAL from SIOCSIFMTU readable.
 */
#define DEV_MIN_MTU 68
#define DEV_TUN_MAX_MTU 65535
#define DEV_TAP_MAX_MTU 65521

const char *
dev_type_name(enum dev_type type)
{
	switch (type) {
	case DEV_TUN:
		return "tun";
	case DEV_TAP:
		return "tap";
	}
	return "unknown";
}

/*
 * Put a possibly hostile name into a message: control bytes are escaped
 * and an overlong name is cut, so that the message stays one short line.
 */
static const char *
dev_quote(const char *name, char *buf, size_t buflen)
{
	util_escape(name, strlen(name), buf, buflen);
	return buf;
}

/*
 * The kernel's dev_valid_name() and dev_alloc_name() rules, checked here
 * so that a bad name is reported with the reason before anything is
 * created.  Control characters are refused as well although the kernel
 * takes them: a name goes into logs, up/down commands and ip(8) calls.
 */
bool
dev_name_valid(const char *name, char *err, size_t errlen)
{
	char q[64];
	size_t len, i;
	bool template = false;

	if (name == NULL || name[0] == '\0') {
		util_err(err, errlen, "the device name is empty");
		return false;
	}
	len = strlen(name);
	if (len >= IFNAMSIZ) {
		util_err(err, errlen,
		    "device name \"%s\" is %zu bytes long; at most %d are "
		    "allowed", dev_quote(name, q, sizeof(q)), len,
		    IFNAMSIZ - 1);
		return false;
	}
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
		util_err(err, errlen, "device name \"%s\" is reserved", name);
		return false;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/' || c == ':') {
			util_err(err, errlen,
			    "device name \"%s\" contains '%c', which Linux "
			    "does not allow", dev_quote(name, q, sizeof(q)),
			    c);
			return false;
		}
		/* The kernel's isspace() includes the Latin-1 NBSP (0xa0). */
		if (c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0) {
			util_err(err, errlen,
			    "device name \"%s\" contains white space",
			    dev_quote(name, q, sizeof(q)));
			return false;
		}
		if (c < 0x20 || c == 0x7f) {
			util_err(err, errlen,
			    "device name \"%s\" contains a control character",
			    dev_quote(name, q, sizeof(q)));
			return false;
		}
		if (c != '%')
			continue;
		if (name[i + 1] != 'd') {
			util_err(err, errlen,
			    "device name \"%s\" contains '%%' not followed by "
			    "'d'; only one \"%%d\" (the kernel's number) is "
			    "allowed", dev_quote(name, q, sizeof(q)));
			return false;
		}
		if (template) {
			util_err(err, errlen,
			    "device name \"%s\" contains \"%%d\" more than "
			    "once", dev_quote(name, q, sizeof(q)));
			return false;
		}
		template = true;
		i++;
	}
	return true;
}

/* A hint after strerror() for the errno values that have a usual cause. */
static const char *
dev_hint(int e)
{
	switch (e) {
	case EPERM:
		return " (needs CAP_NET_ADMIN)";
	case EACCES:
		return " (needs CAP_NET_ADMIN, unless a security policy "
		    "denied it)";
	default:
		return "";
	}
}

/*
 * Open /dev/net/tun for queue q of the device being made; -1 with the
 * reason when that fails.
 */
static int
dev_open_node(const struct dev *d, int q, char *err, size_t errlen)
{
	const char *hint = "";
	char what[64];
	int fd, e;

	/*
	 * O_NONBLOCK at open time: the fds are for an event loop, and the
	 * flag belongs to the file, so TUNSETIFF keeps it.
	 */
	fd = open(DEV_TUN_PATH, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0)
		return fd;
	e = errno;
	/* A missing driver concerns every device alike. */
	if (e == ENOENT || e == ENODEV || e == ENXIO)
		return util_err(err, errlen,
		    "cannot open " DEV_TUN_PATH ": %s (is the tun module "
		    "loaded?)", strerror(e));
	if (e == EACCES || e == EPERM)
		hint = " (tapline needs read and write access to it and "
		    "CAP_NET_ADMIN)";
	if (q > 0)
		snprintf(what, sizeof(what), "queue %d of ", q);
	else
		what[0] = '\0';
	return util_err(err, errlen,
	    "cannot open " DEV_TUN_PATH " for %s%s device \"%s\": %s%s", what,
	    dev_type_name(d->type), d->name, strerror(e), hint);
}

/* Explain a failed TUNSETIFF for the first queue, which creates the device. */
static int
dev_create_error(enum dev_type type, const char *name, int e, char *err,
    size_t errlen)
{
	const char *kind = dev_type_name(type);

	switch (e) {
	case EBUSY:
	case EEXIST:
		/*
		 * IFF_TUN_EXCL turns every existing interface of that name
		 * into EBUSY: another tunnel's device, a persistent tun or
		 * an interface of a different kind such as "lo".
		 */
		return util_err(err, errlen,
		    "cannot create %s device \"%s\": an interface with that "
		    "name already exists", kind, name);
	case ENFILE:
		return util_err(err, errlen,
		    "cannot create %s device \"%s\": no free number for the "
		    "template (%s)", kind, name, strerror(e));
	case EINVAL:
		return util_err(err, errlen,
		    "cannot create %s device \"%s\": %s (the kernel refused "
		    "the name or the flags)", kind, name, strerror(e));
	default:
		return util_err(err, errlen,
		    "cannot create %s device \"%s\": %s%s", kind, name,
		    strerror(e), dev_hint(e));
	}
}

/*
 * Offloads on a queue fd opened with IFF_VNET_HDR: everything first, then
 * without USO (older kernels), then checksum and TSO only.  USO4 and USO6
 * go together and both need CSUM (the kernel refuses them otherwise).  If
 * even that fails the
 * vnet header stays (it cannot be taken back) and simply says nothing.
 */
static unsigned int
dev_set_offload(int fd)
{
	static const unsigned int tries[] = {
		DEV_OFF_CSUM | DEV_OFF_TSO4 | DEV_OFF_TSO6 | DEV_OFF_USO4 |
		    DEV_OFF_USO6,
		DEV_OFF_CSUM | DEV_OFF_TSO4 | DEV_OFF_TSO6,
		DEV_OFF_CSUM,
	};
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(tries); i++)
		if (ioctl(fd, TUNSETOFFLOAD, (unsigned long)tries[i]) == 0)
			return tries[i];
	(void)ioctl(fd, TUNSETOFFLOAD, 0UL);
	return 0;
}

/*
 * Create the device with its first queue, then attach the others by the
 * name the kernel returned, so that a template such as "tl%d" gives one
 * device with all the queues rather than several devices.
 */
int
dev_open(struct dev *d, enum dev_type type, const char *name, int queues,
    bool offload, char *err, size_t errlen)
{
	const char *kind = dev_type_name(type);
	char reason[256];
	int i;

	memset(d, 0, sizeof(*d));
	d->type = type;
	for (i = 0; i < DEV_MAX_QUEUES; i++)
		d->fds[i] = -1;

	if (type != DEV_TUN && type != DEV_TAP)
		return util_err(err, errlen,
		    "cannot open a device of unknown type %d", (int)type);
	if (name == NULL || name[0] == '\0')
		name = type == DEV_TUN ? "tun%d" : "tap%d";
	if (!dev_name_valid(name, reason, sizeof(reason)))
		return util_err(err, errlen, "cannot open %s device: %s",
		    kind, reason);
	if (queues < 1 || queues > DEV_MAX_QUEUES)
		return util_err(err, errlen,
		    "cannot open %s device \"%s\" with %d queues: the number "
		    "of queues must be 1 to %d", kind, name, queues,
		    DEV_MAX_QUEUES);
	util_strlcpy(d->name, name, sizeof(d->name));
	/* The vnet header is in the host's order: little-endian hosts only. */
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	d->vnet = offload && type == DEV_TUN;
#else
	(void)offload;
#endif

	for (i = 0; i < queues; i++) {
		struct ifreq ifr;
		unsigned int flags;
		int fd, e;

		fd = dev_open_node(d, i, err, errlen);
		if (fd < 0) {
			dev_close(d);
			return -1;
		}
		/* Counted at once so that dev_close() unwinds it on error. */
		d->fds[i] = fd;
		d->nqueues = i + 1;

		flags = (type == DEV_TUN ? IFF_TUN : IFF_TAP) | IFF_NO_PI;
		if (queues > 1)
			flags |= IFF_MULTI_QUEUE;
		if (d->vnet)
			flags |= IFF_VNET_HDR;
		/*
		 * Only ever create, never join: without IFF_TUN_EXCL the
		 * first TUNSETIFF would silently attach to a multi-queue
		 * device of the same name that another process owns.
		 */
		if (i == 0)
			flags |= IFF_TUN_EXCL;
		memset(&ifr, 0, sizeof(ifr));
		util_strlcpy(ifr.ifr_name, d->name, sizeof(ifr.ifr_name));
		ifr.ifr_flags = (short)flags;
		if (ioctl(fd, TUNSETIFF, &ifr) == -1) {
			e = errno;
			dev_close(d);
			if (i == 0)
				return dev_create_error(type, name, e, err,
				    errlen);
			return util_err(err, errlen,
			    "cannot attach queue %d to %s device \"%s\": "
			    "%s%s", i, kind, d->name, strerror(e),
			    dev_hint(e));
		}
		if (i == 0)
			util_strlcpy(d->name, ifr.ifr_name, sizeof(d->name));
		if (d->vnet)
			d->offload = dev_set_offload(fd);
	}
	return 0;
}

/*
 * A socket for the interface ioctls.  Any family reaches the generic
 * netdevice ioctls; AF_INET is tried first and the others cover kernels
 * built without IPv4 or IPv6.
 */
static int
dev_ctl_socket(void)
{
	static const int families[] = { AF_INET, AF_INET6, AF_PACKET,
		AF_UNIX };
	int e = EAFNOSUPPORT;
	size_t i;

	for (i = 0; i < UTIL_ARRAY_LEN(families); i++) {
		int s = socket(families[i], SOCK_DGRAM | SOCK_CLOEXEC, 0);

		if (s >= 0)
			return s;
		e = errno;
	}
	errno = e;
	return -1;
}

/* The common start of dev_set_mtu and dev_set_up. */
static int
dev_ctl_begin(const struct dev *d, const char *what, struct ifreq *ifr,
    char *err, size_t errlen)
{
	int s;

	if (d->nqueues < 1)
		return util_err(err, errlen, "cannot %s %s device \"%s\": it "
		    "is not open", what, dev_type_name(d->type), d->name);
	s = dev_ctl_socket();
	if (s < 0)
		return util_err(err, errlen,
		    "cannot %s %s device \"%s\": no socket for interface "
		    "ioctls: %s", what, dev_type_name(d->type), d->name,
		    strerror(errno));
	memset(ifr, 0, sizeof(*ifr));
	util_strlcpy(ifr->ifr_name, d->name, sizeof(ifr->ifr_name));
	return s;
}

/* Explain a failed SIOCSIFMTU or SIOCxIFFLAGS. */
static int
dev_ctl_error(const struct dev *d, const char *what, int e, char *err,
    size_t errlen)
{
	const char *kind = dev_type_name(d->type);

	if (e == ENODEV)
		return util_err(err, errlen,
		    "cannot %s %s device \"%s\": the device no longer exists",
		    what, kind, d->name);
	return util_err(err, errlen, "cannot %s %s device \"%s\": %s%s",
	    what, kind, d->name, strerror(e), dev_hint(e));
}

int
dev_set_mtu(const struct dev *d, int mtu, char *err, size_t errlen)
{
	struct ifreq ifr;
	char what[48];
	int s, e;

	snprintf(what, sizeof(what), "set MTU %d on", mtu);
	s = dev_ctl_begin(d, what, &ifr, err, errlen);
	if (s < 0)
		return -1;
	ifr.ifr_mtu = mtu;
	if (ioctl(s, SIOCSIFMTU, &ifr) == 0) {
		close(s);
		return 0;
	}
	e = errno;
	close(s);
	if (e == EINVAL)
		return util_err(err, errlen,
		    "cannot set MTU %d on %s device \"%s\": out of range "
		    "(Linux allows %d to %d on a %s device)", mtu,
		    dev_type_name(d->type), d->name, DEV_MIN_MTU,
		    d->type == DEV_TAP ? DEV_TAP_MAX_MTU : DEV_TUN_MAX_MTU,
		    dev_type_name(d->type));
	return dev_ctl_error(d, what, e, err, errlen);
}

/* Read-modify-write of the flags, so that only IFF_UP changes. */
int
dev_set_up(const struct dev *d, bool up, char *err, size_t errlen)
{
	const char *what = up ? "bring up" : "bring down";
	struct ifreq ifr;
	int s, e;

	s = dev_ctl_begin(d, what, &ifr, err, errlen);
	if (s < 0)
		return -1;
	if (ioctl(s, SIOCGIFFLAGS, &ifr) == -1)
		goto fail;
	if (up)
		ifr.ifr_flags |= IFF_UP;
	else
		ifr.ifr_flags &= ~IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) == -1)
		goto fail;
	close(s);
	return 0;
fail:
	e = errno;
	close(s);
	return dev_ctl_error(d, what, e, err, errlen);
}

/*
 * A detached queue gets no more packets from the kernel (transmit steering
 * skips it); the kernel still accepts writes on it.
 */
int
dev_queue_attach(const struct dev *d, int q, bool attach, char *err,
    size_t errlen)
{
	const char *kind = dev_type_name(d->type);
	const char *what = attach ? "attach" : "detach";
	struct ifreq ifr;
	int e;

	if (q < 0 || q >= d->nqueues || d->fds[q] < 0)
		return util_err(err, errlen,
		    "cannot %s queue %d of %s device \"%s\": it has %d open "
		    "queue%s", what, q, kind, d->name, d->nqueues,
		    d->nqueues == 1 ? "" : "s");
	if (d->nqueues == 1)
		return util_err(err, errlen,
		    "cannot %s queue %d of %s device \"%s\": only multi-queue "
		    "devices (queues > 1) can detach and attach queues", what,
		    q, kind, d->name);
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = attach ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
	if (ioctl(d->fds[q], TUNSETQUEUE, &ifr) == 0)
		return 0;
	e = errno;
	if (e == EINVAL)
		return util_err(err, errlen,
		    "cannot %s queue %d of %s device \"%s\": it is already "
		    "%s", what, q, kind, d->name,
		    attach ? "attached" : "detached");
	return util_err(err, errlen, "cannot %s queue %d of %s device "
	    "\"%s\": %s%s", what, q, kind, d->name, strerror(e),
	    dev_hint(e));
}

/*
 * Only the first nqueues entries are trusted, so that a zeroed struct
 * never closes descriptor 0.
 */
void
dev_close(struct dev *d)
{
	int n = d->nqueues, i;

	if (n > DEV_MAX_QUEUES)
		n = DEV_MAX_QUEUES;
	for (i = 0; i < n; i++)
		if (d->fds[i] >= 0)
			close(d->fds[i]);
	for (i = 0; i < DEV_MAX_QUEUES; i++)
		d->fds[i] = -1;
	d->nqueues = 0;
}
