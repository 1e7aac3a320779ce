/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon process that server and client alike are: what a reload
 * leaves behind (the configurations it replaced).  The role (server.c or
 * client.c) owns one struct proc and reads its fields; only proc_*
 * functions change them.
 */
#ifndef TAPLINE_PROC_H
#define TAPLINE_PROC_H

#include <stddef.h>

#include "conf.h"

struct proc {
	const struct conf *conf;	/* the running configuration */
	const struct conf *conf_first;	/* the caller's; the others are ours */
	/*
	 * Configurations replaced by a reload stay allocated until exit:
	 * sessions that were closing or handshaking may still point into
	 * them.  One small struct per reload is cheap next to chasing
	 * those pointers.
	 */
	struct conf **old_confs;
	size_t nold_confs;
};

/* A process running conf, which stays the caller's to free. */
void proc_init(struct proc *p, const struct conf *conf);

/*
 * Room to keep the running configuration when a reload replaces it,
 * made before the reload commits to anything; 0, or -1 when out of
 * memory (the running configuration then stays).
 */
int proc_conf_reserve(struct proc *p);

/*
 * nc (from conf_reload) is the running configuration from now on; the
 * one it replaces stays allocated until proc_free().  Needs a
 * successful proc_conf_reserve() since the last replace.
 */
void proc_conf_replace(struct proc *p, struct conf *nc);

/* Free what the process holds, the configurations reloads made too. */
void proc_free(struct proc *p);

#endif
