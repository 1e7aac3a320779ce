/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A reload's scrypt off the loop: the passphrase sessions of a
 * handshake plan (handshake.h) whose keys must be derived afresh, one
 * job each on the worker pool, and the plan handed back once all are
 * in.  scrypt takes about 0.5 s and 128 MiB per session; on the loop,
 * a reload that changed a few passphrases would hold every running
 * session's packets for seconds.
 *
 * Each job works on copies (the name, the passphrase, wiped when done),
 * so that a cancelled derivation may outlive the configuration it came
 * from.
 */
#ifndef TAPLINE_DERIVE_H
#define TAPLINE_DERIVE_H

#include <stddef.h>

struct handshake_plan;
struct worker_pool;
struct derive;

/*
 * All keys are in: pl is the caller's (to finish), or NULL with err
 * when one could not be derived (the plan is freed).  The derivation is
 * over and freed before this is called.
 */
typedef void (*derive_done_fn)(struct handshake_plan *pl, const char *err,
    void *arg);

/*
 * Derive the pending keys of pl on pool; done follows from the loop
 * (never from inside this call).  pl belongs to the derivation from
 * here on.  NULL when the jobs cannot be queued (err says why; pl is
 * still the caller's).
 */
struct derive *derive_start(struct worker_pool *pool,
    struct handshake_plan *pl, derive_done_fn done, void *arg, char *err,
    size_t errlen);

/* Give it up: done is not called, the plan is freed.  NULL is ignored. */
void derive_cancel(struct derive *d);

#endif
