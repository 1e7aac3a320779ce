/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The worker pool (worker.h): a queue under one mutex, a condition
 * variable the idle threads wait on, and the finished jobs handed back
 * through an eventfd.  Every field a worker and the loop share is read
 * and written under the mutex; a job's arg is the worker's while its
 * work runs and the loop's again only once the mutex has passed the
 * result over, so nothing is shared without it.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <unistd.h>

#include <event2/event.h>

#include "util.h"
#include "worker.h"

enum worker_state {
	WORKER_QUEUED,		/* in queue, work not started */
	WORKER_RUNNING,		/* work under way on a thread */
	WORKER_DONE,		/* in done, waiting for the loop */
	WORKER_CANCELLED,	/* in queue (or running): cleanup, no done */
};

struct worker_job {
	TAILQ_ENTRY(worker_job) entry;
	struct worker_pool *pool;
	char key[WORKER_KEY_MAX];	/* "" = none */
	enum worker_state state;
	bool ran;		/* work has returned */
	worker_work_fn work;
	worker_done_fn done;
	worker_cleanup_fn cleanup;
	void *arg;
	const char *err;	/* what work returned */
};

/* cppcheck-suppress unusedStructMember ; used by the TAILQ macros */
TAILQ_HEAD(worker_list, worker_job);

struct worker_pool {
	struct event_base *base;
	struct event *ev;	/* the eventfd: results are back */
	struct event *more;	/* the next turn's batch */
	int efd;
	int nthreads;		/* at most */
	int started;		/* running (0 until the first job) */
	pthread_t *threads;
	size_t max_jobs;

	pthread_mutex_t mu;
	pthread_cond_t cv;	/* queue not empty, or stopping */
	struct worker_list queue;
	struct worker_list running;	/* work or cleanup under way */
	struct worker_list done;
	size_t njobs;		/* allocated: from submit to its end */
	size_t queued;		/* in queue: not yet taken by a thread */
	int idle;		/* threads waiting for a job */
	bool signalled;		/* the eventfd was written, not yet seen */
	bool stopping;
};

/* Account for a job that has ended; the caller holds the mutex. */
static void
worker_job_end(struct worker_pool *p, struct worker_job *j)
{
	p->njobs--;
	free(j);
}

/*
 * The oldest queued job that may run now: one whose key no job under way
 * has.  A later job of the same key is behind it, so jobs of one key run
 * one at a time, in the order they were submitted.
 */
static struct worker_job *
worker_next(struct worker_pool *p)
{
	struct worker_job *j, *r;

	TAILQ_FOREACH(j, &p->queue, entry) {
		if (j->key[0] == '\0')
			return j;
		TAILQ_FOREACH(r, &p->running, entry)
			if (strcmp(r->key, j->key) == 0)
				break;
		if (r == NULL)
			return j;
	}
	return NULL;
}

/* A job is no longer under way: a job of its key may go next. */
static void
worker_unrun(struct worker_pool *p, struct worker_job *j)
{
	TAILQ_REMOVE(&p->running, j, entry);
	if (j->key[0] != '\0' && !TAILQ_EMPTY(&p->queue))
		pthread_cond_broadcast(&p->cv);
}

/* A cancelled job: its cleanup, outside the mutex, then its end. */
static void
worker_run_cleanup(struct worker_pool *p, struct worker_job *j)
{
	pthread_mutex_unlock(&p->mu);
	if (j->cleanup != NULL)
		j->cleanup(j->arg, j->ran);
	pthread_mutex_lock(&p->mu);
	worker_unrun(p, j);
	worker_job_end(p, j);
}

/* Tell the loop that results are waiting; the caller holds the mutex. */
static void
worker_signal(struct worker_pool *p)
{
	uint64_t one = 1;
	ssize_t n;

	if (p->signalled)
		return;
	p->signalled = true;
	/* Cannot fail short of a counter at 2^64 - 1. */
	n = write(p->efd, &one, sizeof(one));
	(void)n;
}

/*
 * A worker: take the oldest job, run it without the mutex, hand its
 * result to the loop (or to cleanup, if it was cancelled meanwhile).
 * Once stopping, the queue is still run to its end.
 */
static void *
worker_main(void *arg)
{
	struct worker_pool *p = arg;
	struct worker_job *j;
	const char *err;

	/*
	 * Below the loop: on a machine with as many cores as workers, two
	 * scrypt runs would otherwise take the CPU from the loop's packets.
	 * Linux keeps a nice value per thread; lowering one's own priority
	 * is always allowed, and a failure only leaves it as it was.
	 */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(),
	    getpriority(PRIO_PROCESS, (id_t)gettid()) + WORKER_NICE);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while ((j = worker_next(p)) == NULL &&
		    (!p->stopping || !TAILQ_EMPTY(&p->queue))) {
			p->idle++;
			pthread_cond_wait(&p->cv, &p->mu);
			p->idle--;
		}
		if (j == NULL)
			break;
		TAILQ_REMOVE(&p->queue, j, entry);
		p->queued--;
		TAILQ_INSERT_TAIL(&p->running, j, entry);
		if (j->state == WORKER_CANCELLED) {
			worker_run_cleanup(p, j);
			continue;
		}
		j->state = WORKER_RUNNING;
		pthread_mutex_unlock(&p->mu);
		err = j->work(j->arg);
		pthread_mutex_lock(&p->mu);
		j->ran = true;
		if (j->state == WORKER_CANCELLED) {
			worker_run_cleanup(p, j);
			continue;
		}
		j->state = WORKER_DONE;
		j->err = err;
		worker_unrun(p, j);
		TAILQ_INSERT_TAIL(&p->done, j, entry);
		worker_signal(p);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/*
 * Deliver finished jobs on the loop, one at a time so that a done
 * callback may cancel a job whose result is also back (it is then
 * still in the list, and cancelled properly).  At most a batch per
 * turn; the rest in the next turn, after the loop's other events.
 */
static void
worker_deliver(struct worker_pool *p, size_t max)
{
	struct worker_job *j;
	worker_done_fn done;
	const char *err;
	void *arg;
	size_t n;

	for (n = 0; n < max; n++) {
		pthread_mutex_lock(&p->mu);
		if ((j = TAILQ_FIRST(&p->done)) == NULL) {
			pthread_mutex_unlock(&p->mu);
			return;
		}
		TAILQ_REMOVE(&p->done, j, entry);
		done = j->done;
		arg = j->arg;
		err = j->err;
		worker_job_end(p, j);
		pthread_mutex_unlock(&p->mu);
		done(arg, err);
	}
}

/*
 * A batch, and the rest after the loop has polled again: a timer of 0 s
 * fires only in the next turn, whereas an event made active from its
 * own callback would run again in this one.
 */
static void
worker_batchcb(evutil_socket_t fd, short what, void *arg)
{
	struct worker_pool *p = arg;
	struct timeval now = { 0, 0 };
	bool more;

	worker_deliver(p, WORKER_DELIVER_BATCH);
	pthread_mutex_lock(&p->mu);
	more = !TAILQ_EMPTY(&p->done);
	if (!more)
		p->signalled = false;
	pthread_mutex_unlock(&p->mu);
	if (more)
		evtimer_add(p->more, &now);
}

static void
worker_evcb(evutil_socket_t fd, short what, void *arg)
{
	struct worker_pool *p = arg;
	uint64_t n;

	if (read(p->efd, &n, sizeof(n)) == -1)
		return;		/* EAGAIN: the batch timer has it */
	worker_batchcb(fd, what, arg);
}

struct worker_pool *
worker_pool_new(struct event_base *base, int nthreads, size_t max_jobs,
    char *err, size_t errlen)
{
	struct worker_pool *p;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		util_err(err, errlen, "out of memory");
		return NULL;
	}
	p->base = base;
	p->nthreads = nthreads > 0 ? nthreads : 1;
	p->max_jobs = max_jobs;
	TAILQ_INIT(&p->queue);
	TAILQ_INIT(&p->running);
	TAILQ_INIT(&p->done);
	p->threads = calloc((size_t)p->nthreads, sizeof(*p->threads));
	p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->threads == NULL || p->efd == -1) {
		util_err(err, errlen, "cannot make the worker pool: %s",
		    p->efd == -1 ? strerror(errno) : "out of memory");
		goto fail;
	}
	p->ev = event_new(base, p->efd, EV_READ | EV_PERSIST, worker_evcb, p);
	p->more = evtimer_new(base, worker_batchcb, p);
	if (p->ev == NULL || p->more == NULL || event_add(p->ev, NULL) != 0) {
		util_err(err, errlen, "cannot make the worker pool: out of "
		    "memory");
		goto fail;
	}
	if (pthread_mutex_init(&p->mu, NULL) != 0 ||
	    pthread_cond_init(&p->cv, NULL) != 0) {
		/* Neither can fail with default attributes on Linux. */
		util_err(err, errlen, "cannot make the worker pool's lock");
		goto fail;
	}
	return p;
fail:
	if (p->ev != NULL)
		event_free(p->ev);
	if (p->more != NULL)
		event_free(p->more);
	if (p->efd != -1)
		close(p->efd);
	free(p->threads);
	free(p);
	return NULL;
}

/*
 * Start one more thread, with every signal blocked so that signals stay
 * with the loop.  -1 when it cannot be started; those that run serve.
 */
static int
worker_grow(struct worker_pool *p)
{
	sigset_t all, old;
	int rc;

	sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&p->threads[p->started], NULL, worker_main, p);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return -1;
	p->started++;
	return 0;
}

struct worker_job *
worker_submit(struct worker_pool *p, const char *key, worker_work_fn work,
    worker_done_fn done, worker_cleanup_fn cleanup, void *arg)
{
	struct worker_job *j;
	bool grow;

	if (key != NULL && strlen(key) >= sizeof(j->key))
		return NULL;

	if (p->stopping || (p->started == 0 && worker_grow(p) != 0))
		return NULL;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return NULL;
	j->pool = p;
	if (key != NULL)
		memcpy(j->key, key, strlen(key) + 1);
	j->state = WORKER_QUEUED;
	j->work = work;
	j->done = done;
	j->cleanup = cleanup;
	j->arg = arg;
	pthread_mutex_lock(&p->mu);
	if (p->njobs >= p->max_jobs) {
		pthread_mutex_unlock(&p->mu);
		free(j);
		return NULL;
	}
	p->njobs++;
	TAILQ_INSERT_TAIL(&p->queue, j, entry);
	p->queued++;
	pthread_cond_signal(&p->cv);
	/*
	 * More jobs waiting than threads waiting: one more thread, up to
	 * the pool's size.  An idle thread that has been signalled but not
	 * yet woken still counts as idle, so "no thread idle" alone would
	 * leave a burst of jobs to the one thread that was: comparing the
	 * two counts starts a thread for each job no waiting thread will
	 * take.  Only the loop thread starts threads and reads `started`.
	 * A thread that cannot be started leaves the job to those that run.
	 */
	grow = p->queued > (size_t)p->idle && p->started < p->nthreads;
	pthread_mutex_unlock(&p->mu);
	if (grow)
		(void)worker_grow(p);
	return j;
}

void
worker_cancel(struct worker_job *j)
{
	struct worker_pool *p;

	if (j == NULL)
		return;
	p = j->pool;
	pthread_mutex_lock(&p->mu);
	switch (j->state) {
	case WORKER_QUEUED:
	case WORKER_RUNNING:
		/* Still queued: a worker runs only its cleanup.  Running:
		 * the worker sees this when work returns. */
		j->state = WORKER_CANCELLED;
		break;
	case WORKER_DONE:
		/* Back already: its cleanup goes first in the queue. */
		TAILQ_REMOVE(&p->done, j, entry);
		j->state = WORKER_CANCELLED;
		TAILQ_INSERT_HEAD(&p->queue, j, entry);
		p->queued++;
		pthread_cond_signal(&p->cv);
		break;
	case WORKER_CANCELLED:
		break;
	}
	pthread_mutex_unlock(&p->mu);
}

size_t
worker_pool_jobs(struct worker_pool *p)
{
	size_t n;

	pthread_mutex_lock(&p->mu);
	n = p->njobs;
	pthread_mutex_unlock(&p->mu);
	return n;
}

void
worker_pool_free(struct worker_pool *p)
{
	int i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (i = 0; i < p->started; i++)
		(void)pthread_join(p->threads[i], NULL);
	/* No thread left: what came back is delivered from here. */
	worker_deliver(p, SIZE_MAX);
	event_free(p->ev);
	event_free(p->more);
	close(p->efd);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->threads);
	free(p);
}
