/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * worker.c: jobs run on the pool's threads and their results come back
 * to the loop; a job cancelled before it starts never runs, one
 * cancelled while it runs (or once its result is back) goes to its
 * cleanup on a worker instead of its done callback on the loop; the
 * pool holds at most its bound, delivers a batch per turn, and runs
 * what is still queued when it is freed.  Jobs block on semaphores the
 * test opens; every wait has a deadline.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <event2/event.h>

#include "worker.h"

/* How long any wait of the test may take before it fails. */
#define WAIT_S 10

/* One job's record: what ran, where, with what. */
struct job {
	sem_t *gate;		/* work waits for it, if set */
	sem_t *started;		/* work posts it first, if set */
	sem_t cleaned;		/* cleanup posts it */
	atomic_int works;
	atomic_int cleanups;
	atomic_bool cleanup_ran;	/* the ran argument of cleanup */
	int dones;
	const char *err;	/* what work returns */
	const char *got;	/* what done was given */
	pthread_t work_thread;
	pthread_t done_thread;
	int *order;		/* done appends its id here */
	int *norder;
	int id;
};

static void
job_init(struct job *j, int id)
{
	memset(j, 0, sizeof(*j));
	assert_int_equal(sem_init(&j->cleaned, 0, 0), 0);
	atomic_init(&j->works, 0);
	atomic_init(&j->cleanups, 0);
	atomic_init(&j->cleanup_ran, false);
	j->id = id;
}

/* Wait for s, at most WAIT_S. */
static void
sem_wait_bounded(sem_t *s)
{
	struct timespec ts;
	int r;

	assert_int_equal(clock_gettime(CLOCK_REALTIME, &ts), 0);
	ts.tv_sec += WAIT_S;
	while ((r = sem_timedwait(s, &ts)) == -1 && errno == EINTR)
		;
	assert_int_equal(r, 0);
}

static const char *
job_work(void *arg)
{
	struct job *j = arg;

	j->work_thread = pthread_self();
	atomic_fetch_add(&j->works, 1);
	if (j->started != NULL)
		sem_post(j->started);
	if (j->gate != NULL)
		sem_wait_bounded(j->gate);
	return j->err;
}

static void
job_done(void *arg, const char *err)
{
	struct job *j = arg;

	j->dones++;
	j->got = err;
	j->done_thread = pthread_self();
	if (j->order != NULL)
		j->order[(*j->norder)++] = j->id;
}

static void
job_cleanup(void *arg, bool ran)
{
	struct job *j = arg;

	atomic_store(&j->cleanup_ran, ran);
	atomic_fetch_add(&j->cleanups, 1);
	sem_post(&j->cleaned);
}

static struct worker_job *
submit(struct worker_pool *p, struct job *j)
{
	return worker_submit(p, NULL, job_work, job_done, job_cleanup, j);
}

static struct worker_job *
submit_key(struct worker_pool *p, const char *key, struct job *j)
{
	return worker_submit(p, key, job_work, job_done, job_cleanup, j);
}

/* Turn the loop until *counter reaches want (bounded). */
static void
loop_until(struct event_base *base, const int *counter, int want)
{
	int i;

	for (i = 0; i < WAIT_S * 100 && *counter < want; i++) {
		event_base_loopexit(base, &(struct timeval){ 0, 10000 });
		event_base_dispatch(base);
	}
	assert_int_equal(*counter, want);
}

static struct worker_pool *
pool_new(struct event_base *base, int threads, size_t max)
{
	struct worker_pool *p;
	char err[128];

	p = worker_pool_new(base, threads, max, err, sizeof(err));
	assert_non_null(p);
	return p;
}

/* A job's work runs on a worker thread, its done on the loop's. */
static void
test_completion(void **state)
{
	struct event_base *base;
	struct worker_pool *p;
	struct job a, b;

	(void)state;
	assert_non_null(base = event_base_new());
	p = pool_new(base, 2, 16);
	job_init(&a, 1);
	job_init(&b, 2);
	b.err = "cannot make the device";
	assert_non_null(submit(p, &a));
	assert_non_null(submit(p, &b));
	/* Nothing is delivered outside the loop. */
	assert_int_equal(a.dones + b.dones, 0);
	loop_until(base, &a.dones, 1);
	loop_until(base, &b.dones, 1);
	assert_int_equal(atomic_load(&a.works), 1);
	assert_false(pthread_equal(a.work_thread, pthread_self()));
	assert_true(pthread_equal(a.done_thread, pthread_self()));
	assert_null(a.got);
	assert_string_equal(b.got, "cannot make the device");
	assert_int_equal(atomic_load(&a.cleanups) + atomic_load(&b.cleanups),
	    0);
	assert_int_equal(worker_pool_jobs(p), 0);
	/* Once is all: more turns deliver nothing again. */
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(a.dones + b.dones, 2);
	worker_pool_free(p);
	event_base_free(base);
}

/*
 * Cancelled before it ran (the one thread is busy): its work never
 * runs, its cleanup does, with ran false, and done never comes.
 */
static void
test_cancel_queued(void **state)
{
	struct event_base *base;
	struct worker_pool *p;
	struct worker_job *h;
	struct job busy, victim;
	sem_t gate, started;

	(void)state;
	assert_non_null(base = event_base_new());
	assert_int_equal(sem_init(&gate, 0, 0), 0);
	assert_int_equal(sem_init(&started, 0, 0), 0);
	p = pool_new(base, 1, 16);
	job_init(&busy, 1);
	job_init(&victim, 2);
	busy.gate = &gate;
	busy.started = &started;
	assert_non_null(submit(p, &busy));
	sem_wait_bounded(&started);
	assert_non_null(h = submit(p, &victim));
	worker_cancel(h);
	sem_post(&gate);
	sem_wait_bounded(&victim.cleaned);
	assert_int_equal(atomic_load(&victim.works), 0);
	assert_int_equal(atomic_load(&victim.cleanups), 1);
	assert_false(atomic_load(&victim.cleanup_ran));
	loop_until(base, &busy.dones, 1);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(victim.dones, 0);
	assert_int_equal(worker_pool_jobs(p), 0);
	worker_pool_free(p);
	sem_destroy(&gate);
	sem_destroy(&started);
	event_base_free(base);
}

/*
 * Cancelled while its work runs (blocked on a semaphore): the work
 * finishes on its thread, then cleanup (ran true) instead of done.
 */
static void
test_cancel_running(void **state)
{
	struct event_base *base;
	struct worker_pool *p;
	struct worker_job *h;
	struct job j, after;
	sem_t gate, started;

	(void)state;
	assert_non_null(base = event_base_new());
	assert_int_equal(sem_init(&gate, 0, 0), 0);
	assert_int_equal(sem_init(&started, 0, 0), 0);
	p = pool_new(base, 1, 16);
	job_init(&j, 1);
	job_init(&after, 2);
	j.gate = &gate;
	j.started = &started;
	assert_non_null(h = submit(p, &j));
	sem_wait_bounded(&started);
	worker_cancel(h);
	sem_post(&gate);
	sem_wait_bounded(&j.cleaned);
	assert_int_equal(atomic_load(&j.works), 1);
	assert_true(atomic_load(&j.cleanup_ran));
	/* The pool goes on: a later job is delivered, the cancelled not. */
	assert_non_null(submit(p, &after));
	loop_until(base, &after.dones, 1);
	assert_int_equal(j.dones, 0);
	worker_pool_free(p);
	sem_destroy(&gate);
	sem_destroy(&started);
	event_base_free(base);
}

/*
 * Cancelled once its result is back but before the loop delivered it
 * (the one thread has moved on to the next job): cleanup, ran true.
 */
static void
test_cancel_finished(void **state)
{
	struct event_base *base;
	struct worker_pool *p;
	struct worker_job *h;
	struct job j, next;
	sem_t started;

	(void)state;
	assert_non_null(base = event_base_new());
	assert_int_equal(sem_init(&started, 0, 0), 0);
	p = pool_new(base, 1, 16);
	job_init(&j, 1);
	job_init(&next, 2);
	next.started = &started;
	assert_non_null(h = submit(p, &j));
	assert_non_null(submit(p, &next));
	sem_wait_bounded(&started);	/* so j's result is back */
	worker_cancel(h);
	sem_wait_bounded(&j.cleaned);
	assert_int_equal(atomic_load(&j.works), 1);
	assert_true(atomic_load(&j.cleanup_ran));
	loop_until(base, &next.dones, 1);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(j.dones, 0);
	worker_pool_free(p);
	sem_destroy(&started);
	event_base_free(base);
}

/*
 * Many jobs on two threads: each done once, none lost; a turn of the
 * loop delivers at most a batch, so that other events get their turn.
 */
static void
test_many(void **state)
{
	enum { N = 1000 };
	static struct job jobs[N];
	static int order[N];
	struct event_base *base;
	struct worker_pool *p;
	int norder = 0, i, total;
	sem_t all;

	(void)state;
	assert_non_null(base = event_base_new());
	assert_int_equal(sem_init(&all, 0, 0), 0);
	p = pool_new(base, 2, N);
	for (i = 0; i < N; i++) {
		job_init(&jobs[i], i);
		jobs[i].started = &all;
		jobs[i].order = order;
		jobs[i].norder = &norder;
		assert_non_null(submit(p, &jobs[i]));
	}
	for (i = 0; i < N; i++)
		sem_wait_bounded(&all);
	/* Every work has run: one turn delivers a batch, not all of it. */
	event_base_loop(base, EVLOOP_ONCE);
	assert_true(norder >= 1 && norder <= WORKER_DELIVER_BATCH);
	loop_until(base, &norder, N);
	for (i = 0, total = 0; i < N; i++) {
		assert_int_equal(jobs[i].dones, 1);
		assert_int_equal(atomic_load(&jobs[i].works), 1);
		total += jobs[i].dones;
	}
	assert_int_equal(total, N);
	assert_int_equal(worker_pool_jobs(p), 0);
	worker_pool_free(p);
	sem_destroy(&all);
	event_base_free(base);
}

/*
 * Threads start with the jobs: jobs that all wait at once run at once,
 * up to the pool's size, because device removals mostly wait on the
 * kernel and overlap; one more waits until a thread is free.
 */
static void
test_grows(void **state)
{
	enum { T = 4 };
	struct job jobs[T + 1];
	struct event_base *base;
	struct worker_pool *p;
	sem_t gate, started;
	int i, n;

	(void)state;
	assert_non_null(base = event_base_new());
	assert_int_equal(sem_init(&gate, 0, 0), 0);
	assert_int_equal(sem_init(&started, 0, 0), 0);
	p = pool_new(base, T, 16);
	for (i = 0; i < T + 1; i++) {
		job_init(&jobs[i], i);
		jobs[i].gate = &gate;
		jobs[i].started = &started;
		assert_non_null(submit(p, &jobs[i]));
	}
	/* T of them under way together, each on a thread of its own. */
	for (i = 0; i < T; i++)
		sem_wait_bounded(&started);
	for (i = 0, n = 0; i < T + 1; i++)
		n += atomic_load(&jobs[i].works);
	assert_int_equal(n, T);
	for (i = 1; i < T; i++)
		assert_false(pthread_equal(jobs[i].work_thread,
		    jobs[0].work_thread));
	/* The last one starts once a thread is free. */
	sem_post(&gate);
	sem_wait_bounded(&started);
	for (i = 0; i < T; i++)
		sem_post(&gate);
	for (i = 0; i < T + 1; i++)
		loop_until(base, &jobs[i].dones, 1);
	assert_int_equal(worker_pool_jobs(p), 0);
	worker_pool_free(p);
	sem_destroy(&gate);
	sem_destroy(&started);
	event_base_free(base);
}

/* At its bound the pool refuses more, and takes them again later. */
static void
test_bounded(void **state)
{
	struct event_base *base;
	struct worker_pool *p;
	struct job a, b, c;
	sem_t gate, started;

	(void)state;
	assert_non_null(base = event_base_new());
	assert_int_equal(sem_init(&gate, 0, 0), 0);
	assert_int_equal(sem_init(&started, 0, 0), 0);
	p = pool_new(base, 1, 2);
	job_init(&a, 1);
	job_init(&b, 2);
	job_init(&c, 3);
	a.gate = &gate;
	a.started = &started;
	assert_non_null(submit(p, &a));
	assert_non_null(submit(p, &b));
	sem_wait_bounded(&started);
	assert_int_equal(worker_pool_jobs(p), 2);
	assert_null(submit(p, &c));
	sem_post(&gate);
	loop_until(base, &b.dones, 1);
	assert_int_equal(a.dones, 1);
	assert_non_null(submit(p, &c));
	loop_until(base, &c.dones, 1);
	worker_pool_free(p);
	sem_destroy(&gate);
	sem_destroy(&started);
	event_base_free(base);
}

/*
 * Jobs of one key (a device's name) run one at a time and in order: with
 * a's work blocked, b (a's key, queued before c) waits while c (no key)
 * runs on the other thread; b runs once a is done.
 */
static void
test_keyed(void **state)
{
	struct event_base *base;
	struct worker_pool *p;
	struct job a, b, c;
	sem_t gate, started;
	char longkey[WORKER_KEY_MAX + 1];

	(void)state;
	assert_non_null(base = event_base_new());
	assert_int_equal(sem_init(&gate, 0, 0), 0);
	assert_int_equal(sem_init(&started, 0, 0), 0);
	p = pool_new(base, 2, 16);
	job_init(&a, 1);
	job_init(&b, 2);
	job_init(&c, 3);
	a.gate = &gate;
	a.started = &started;
	assert_non_null(submit_key(p, "tl-cobra", &a));
	sem_wait_bounded(&started);
	assert_non_null(submit_key(p, "tl-cobra", &b));
	assert_non_null(submit_key(p, "tl-viper", &c));
	loop_until(base, &c.dones, 1);
	assert_int_equal(atomic_load(&b.works), 0);
	sem_post(&gate);
	loop_until(base, &b.dones, 1);
	assert_int_equal(a.dones, 1);
	/* A key that does not fit is refused. */
	memset(longkey, 'k', sizeof(longkey) - 1);
	longkey[sizeof(longkey) - 1] = '\0';
	assert_null(submit_key(p, longkey, &c));
	worker_pool_free(p);
	sem_destroy(&gate);
	sem_destroy(&started);
	event_base_free(base);
}

/*
 * Freed with jobs still queued behind a busy thread: the queued ones
 * run and their done callbacks come from worker_pool_free, a cancelled
 * one gets only its cleanup; nothing is left behind.
 */
static void
test_shutdown(void **state)
{
	enum { N = 8 };
	struct event_base *base;
	struct worker_pool *p;
	struct worker_job *h[N];
	struct job busy, jobs[N];
	sem_t gate, started;
	int i;

	(void)state;
	assert_non_null(base = event_base_new());
	assert_int_equal(sem_init(&gate, 0, 0), 0);
	assert_int_equal(sem_init(&started, 0, 0), 0);
	p = pool_new(base, 1, 64);
	job_init(&busy, 100);
	busy.gate = &gate;
	busy.started = &started;
	assert_non_null(submit(p, &busy));
	sem_wait_bounded(&started);
	for (i = 0; i < N; i++) {
		job_init(&jobs[i], i);
		assert_non_null(h[i] = submit(p, &jobs[i]));
	}
	worker_cancel(h[3]);
	sem_post(&gate);
	worker_pool_free(p);
	assert_int_equal(busy.dones, 1);
	for (i = 0; i < N; i++) {
		if (i == 3) {
			assert_int_equal(atomic_load(&jobs[i].works), 0);
			assert_int_equal(atomic_load(&jobs[i].cleanups), 1);
			assert_int_equal(jobs[i].dones, 0);
			continue;
		}
		assert_int_equal(atomic_load(&jobs[i].works), 1);
		assert_int_equal(jobs[i].dones, 1);
		assert_true(pthread_equal(jobs[i].done_thread,
		    pthread_self()));
	}
	/* A pool that never ran a job frees as well. */
	worker_pool_free(pool_new(base, 2, 4));
	worker_pool_free(NULL);
	worker_cancel(NULL);
	sem_destroy(&gate);
	sem_destroy(&started);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_completion),
		cmocka_unit_test(test_cancel_queued),
		cmocka_unit_test(test_cancel_running),
		cmocka_unit_test(test_cancel_finished),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_grows),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_keyed),
		cmocka_unit_test(test_shutdown),
	};

	return cmocka_run_group_tests_name("worker", tests, NULL, NULL);
}
