/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A reload's scrypt on the worker pool (derive.h). */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "conf.h"
#include "derive.h"
#include "handshake.h"
#include "util.h"
#include "worker.h"

/* One session's keys: copies in, keys out; the worker's while it runs. */
struct derive_job {
	struct derive *d;	/* read on the loop only */
	size_t i;		/* which pending session of the plan */
	struct worker_job *job;
	char name[CONF_NAME_MAX + 1];
	char *passwd;
	struct handshake_keys keys;
	char err[256];
};

struct derive {
	struct handshake_plan *pl;
	struct derive_job **jobs;	/* NULL once delivered */
	size_t njobs;
	size_t left;			/* not delivered yet */
	char err[320];			/* the first failure */
	derive_done_fn done;
	void *arg;
};

/* Wipe what a job holds and free it: on either thread. */
static void
derive_job_free(struct derive_job *j)
{
	if (j->passwd != NULL) {
		OPENSSL_cleanse(j->passwd, strlen(j->passwd));
		free(j->passwd);
	}
	OPENSSL_cleanse(j, sizeof(*j));
	free(j);
}

/* On a worker: scrypt, then the PSK and identity. */
static const char *
derive_job_work(void *arg)
{
	struct derive_job *j = arg;

	return handshake_derive_passwd(j->name, j->passwd, &j->keys, j->err,
	    sizeof(j->err)) == 0 ? NULL : j->err;
}

static void
derive_job_cleanup(void *arg, bool ran)
{
	derive_job_free(arg);
}

/* Free d and what it still holds; no job of it is queued any more. */
static void
derive_free(struct derive *d)
{
	handshake_plan_free(d->pl);
	free(d->jobs);
	free(d);
}

/* On the loop: one session's keys (or why not); the last one ends it. */
static void
derive_job_done(void *arg, const char *err)
{
	struct derive_job *j = arg;
	struct derive *d = j->d;
	struct handshake_plan *pl;
	derive_done_fn done;
	void *darg;

	d->jobs[j->i] = NULL;
	if (err == NULL)
		handshake_plan_set(d->pl, j->i, &j->keys);
	else if (d->err[0] == '\0')
		snprintf(d->err, sizeof(d->err), "session %s: %s", j->name,
		    err);
	derive_job_free(j);
	if (--d->left > 0)
		return;
	done = d->done;
	darg = d->arg;
	if (d->err[0] != '\0') {
		char why[sizeof(d->err)];

		util_strlcpy(why, d->err, sizeof(why));
		derive_free(d);
		done(NULL, why, darg);
		return;
	}
	pl = d->pl;
	d->pl = NULL;
	derive_free(d);
	done(pl, NULL, darg);
}

struct derive *
derive_start(struct worker_pool *pool, struct handshake_plan *pl,
    derive_done_fn done, void *arg, char *err, size_t errlen)
{
	const struct conf_session *s;
	struct derive_job *j;
	struct derive *d;
	size_t i, n = handshake_plan_pending(pl);

	if ((d = calloc(1, sizeof(*d))) == NULL ||
	    (d->jobs = calloc(n > 0 ? n : 1, sizeof(*d->jobs))) == NULL) {
		free(d);
		util_err(err, errlen, "out of memory");
		return NULL;
	}
	d->done = done;
	d->arg = arg;
	for (i = 0; i < n; i++) {
		s = handshake_plan_session(pl, i);
		if ((j = calloc(1, sizeof(*j))) == NULL ||
		    (s->passwd != NULL &&
		    (j->passwd = strdup(s->passwd)) == NULL)) {
			if (j != NULL)
				derive_job_free(j);
			util_err(err, errlen, "out of memory");
			goto fail;
		}
		j->d = d;
		j->i = i;
		util_strlcpy(j->name, s->name, sizeof(j->name));
		if ((j->job = worker_submit(pool, NULL, derive_job_work,
		    derive_job_done, derive_job_cleanup, j)) == NULL) {
			derive_job_free(j);
			util_err(err, errlen, "the worker pool takes no more "
			    "jobs");
			goto fail;
		}
		d->jobs[i] = j;
		d->njobs++;
		d->left++;
	}
	if (n == 0) {
		/* Nothing to wait for, but done never runs from in here. */
		util_err(err, errlen, "no key to derive");
		goto fail;
	}
	d->pl = pl;
	return d;
fail:
	/* The plan stays the caller's. */
	derive_cancel(d);
	return NULL;
}

void
derive_cancel(struct derive *d)
{
	size_t i;

	if (d == NULL)
		return;
	for (i = 0; i < d->njobs; i++)
		if (d->jobs[i] != NULL)
			worker_cancel(d->jobs[i]->job);
	derive_free(d);
}
