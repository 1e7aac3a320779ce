/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `tapline import-vtund`: a parsed vtund.conf (vtunconf.h) written out as
 * an equivalent tapline.conf (tapline.conf(5)).  Sans I/O: the text goes
 * to a FILE the caller chose (a file, stdout, a memory stream); whatever
 * cannot be carried over is added to the warnings as "FILE:LINE: what and
 * why", and noted in the output too.
 */
#ifndef TAPLINE_VTUNIMPORT_H
#define TAPLINE_VTUNIMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "vtunconf.h"

struct vtunimport_opts {
	/* The vtund.conf as the output's first comment names it. */
	const char *source;
	/*
	 * Does the program at this absolute path exist on this host?  NULL
	 * skips the check (tests, and output meant for another host).
	 */
	bool (*exists)(const char *path, void *arg);
	void *exists_arg;
};

/* What was carried over, for the caller's summary. */
struct vtunimport_result {
	size_t imported;	/* sessions written */
	size_t skipped;		/* sessions vtund would run that are not */
	/*
	 * The sessions whose key = "SESSION.key" the caller must create
	 * next to the output (vc's names: valid while vc is).
	 */
	const char **keys;
	size_t nkeys;
};

/*
 * Write the tapline.conf for vc to out.  Deterministic: the same input
 * gives the same bytes.  vtund's passwords are never written: each
 * session gets key = "SESSION.key" instead, listed in res->keys.
 * Returns 0, or -1 when out of memory or when writing to out failed
 * (ferror).  Free res with vtunimport_result_free either way.
 */
int vtunimport_write(const struct vtunconf *vc,
    const struct vtunimport_opts *opts, FILE *out, struct vtunconf_diag *diag,
    struct vtunimport_result *res);

void vtunimport_result_free(struct vtunimport_result *res);

#endif
