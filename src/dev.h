/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * TUN/TAP devices: open one or several queue fds (IFF_NO_PI, and
 * IFF_MULTI_QUEUE when queues > 1), set MTU and link state, detach and
 * attach queues.  Closing every fd removes the device.
 */
#ifndef TAPLINE_DEV_H
#define TAPLINE_DEV_H

#include <net/if.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The kernel's limit (MAX_TAP_QUEUES) is 256. */
#define DEV_MAX_QUEUES 256

enum dev_type { DEV_TUN, DEV_TAP };

/* TUNSETOFFLOAD bits (Debian 12's headers lack the USO ones). */
#define DEV_OFF_CSUM 0x01
#define DEV_OFF_TSO4 0x02
#define DEV_OFF_TSO6 0x04
#define DEV_OFF_USO4 0x20
#define DEV_OFF_USO6 0x40

struct dev {
	enum dev_type type;
	char name[IFNAMSIZ];
	int nqueues;
	int fds[DEV_MAX_QUEUES];
	/*
	 * IFF_VNET_HDR: every read and write starts with the 10-byte
	 * virtio_net_hdr (gso.h), and `offload` holds the TUNSETOFFLOAD bits
	 * the kernel took.
	 */
	bool vnet;
	unsigned int offload;
	/*
	 * A full tunnel's policy rules, which outlive the device unless
	 * netcfg_dev_close removes them: which ones netcfg added
	 * (NETCFG_RULE_* bits), with the mark and table they name.
	 */
	unsigned int rules;
	uint32_t rules_fwmark;
	uint32_t rules_table;
};

/* "tun" or "tap". */
const char *dev_type_name(enum dev_type type);

/*
 * Check a device name or template ("tl%d"): 1..15 bytes, no '/', ':',
 * whitespace or control characters, not "." or "..", at most one "%d" and
 * no other '%'.
 */
bool dev_name_valid(const char *name, char *err, size_t errlen);

/*
 * Open a device of `type` named `name` (a fixed name, a template with
 * "%d", or NULL/"" for the kernel's "tun%d"/"tap%d") with `queues` fds,
 * all non-blocking and close-on-exec.  With `offload`, a tun gets
 * IFF_VNET_HDR and the offloads the kernel accepts (checksum, TSO4/6,
 * USO4/6 when it has them); a tap, or a big-endian host, gets none.  On
 * success d->name holds the name the kernel chose.  On error returns -1
 * with a complete sentence in err and leaves nothing open.
 */
int dev_open(struct dev *d, enum dev_type type, const char *name, int queues,
    bool offload, char *err, size_t errlen);

int dev_set_mtu(const struct dev *d, int mtu, char *err, size_t errlen);
int dev_set_up(const struct dev *d, bool up, char *err, size_t errlen);

/* Detach (attach = false) or re-attach queue q with TUNSETQUEUE. */
int dev_queue_attach(const struct dev *d, int q, bool attach, char *err,
    size_t errlen);

/* Close every queue fd; the device disappears with the last one. */
void dev_close(struct dev *d);

#endif
