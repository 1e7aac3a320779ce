/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A small pool of worker threads for what can take milliseconds and so
 * must not run on the event loop: making, configuring and removing
 * tun/tap devices (rtnetlink, the kernel's rtnl lock, RCU grace periods
 * when a device goes) and scrypt.  One loop serves every session, so a
 * call that blocks it for 20 ms holds up every established tunnel's
 * packets for as long; a reconnect storm of hundreds of sessions would
 * hold them for seconds.
 *
 * A job is three functions and an argument:
 *
 *	work(arg)	on a worker thread: the slow part.  NULL when it
 *			worked, else why not (a string that lives in arg,
 *			or a literal).  It touches no libevent object and
 *			logs nothing: the log and the loop are the loop
 *			thread's alone.
 *	done(arg, err)	on the loop thread, once work has returned, with
 *			what it returned: logs, uses and frees arg.
 *	cleanup(arg, ran)  on a worker thread, instead of done, for a job
 *			that was cancelled: undoes what work made (ran says
 *			whether work ran at all) and frees arg.  NULL: there
 *			is nothing to undo or free.
 *
 * Results come back through one eventfd that one event of the loop
 * watches, so that libevent stays single-threaded (no evthread, no
 * libevent_pthreads).  Done callbacks run in the order the jobs
 * finished, which is not the order they were submitted in; at most
 * WORKER_DELIVER_BATCH of them in one turn of the loop, so that a storm
 * of finished jobs is spread over turns between which packets flow.
 *
 * The threads start with the jobs, not with the pool: the first with the
 * first job, one more whenever a job comes while every thread is busy,
 * up to the pool's size.  A daemon drops root (and keeps CAP_NET_ADMIN
 * on its one thread) before any session exists, and threads made later
 * inherit what the loop thread has then; a daemon of one session keeps
 * one thread.
 */
#ifndef TAPLINE_WORKER_H
#define TAPLINE_WORKER_H

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct worker_pool;
struct worker_job;

/*
 * The pool for scrypt: two threads, each of which takes a core and 128
 * MiB while it runs.
 */
#define WORKER_THREADS 2
/*
 * The pool for devices: sixteen threads at most.  Device work costs
 * little CPU but waits: the removal of a device waits for RCU grace
 * periods, and those waits overlap across threads although the rtnl
 * lock serialises the rest.  Measured on a 2-core VM, 300 tun devices
 * closed in 7.0 s from one thread, 3.5 s from two, 0.78 s from eight,
 * 0.36 s from thirty-two; a hub's reconnect storm waits for exactly
 * these removals (a session's new device takes its old one's name).
 */
#define WORKER_DEV_THREADS 16
/*
 * Jobs the pool holds at once (queued, running or with their result not
 * yet delivered): two per session of a hub of a few thousand (a device
 * being made, an old one being removed), and a bound on the memory a
 * storm can tie up.
 */
#define WORKER_JOBS_MAX 8192
/* Done callbacks run in one turn of the loop, at most. */
#define WORKER_DELIVER_BATCH 32
/* How much nicer than the loop the workers run. */
#define WORKER_NICE 5
/* A job's key: a device name fits (IFNAMSIZ). */
#define WORKER_KEY_MAX 32

typedef const char *(*worker_work_fn)(void *arg);
typedef void (*worker_done_fn)(void *arg, const char *err);
typedef void (*worker_cleanup_fn)(void *arg, bool ran);

/*
 * A pool of nthreads threads (started at the first job) holding at most
 * max_jobs jobs, delivering results on base.  NULL with err set when
 * out of memory or descriptors.
 */
struct worker_pool *worker_pool_new(struct event_base *base, int nthreads,
    size_t max_jobs, char *err, size_t errlen);

/*
 * Queue a job (see above).  Jobs with the same key (shorter than
 * WORKER_KEY_MAX; NULL: none) run one at a time in the order they were
 * submitted, cleanups included: a device that is being removed is gone
 * before a new one of its name is made.  The returned handle is valid
 * until done has been called or worker_cancel returned; arg belongs to
 * the job from here on.  NULL when the pool is full, stopping, out of
 * memory or has no thread it could start (or the key is too long):
 * nothing was queued and arg is still the caller's.
 */
struct worker_job *worker_submit(struct worker_pool *p, const char *key,
    worker_work_fn work, worker_done_fn done, worker_cleanup_fn cleanup,
    void *arg);

/*
 * From the loop thread: the caller no longer wants the result.  A job
 * that has not started never runs its work; a job that is running
 * finishes on its thread; either way done is not called, cleanup is
 * (on a worker thread), and arg belongs to the pool.  A result already
 * back but not yet delivered is handed to cleanup the same way.  The
 * handle is invalid afterwards.  NULL is ignored.
 */
void worker_cancel(struct worker_job *j);

/* Jobs held: queued, running, or finished and not yet delivered. */
size_t worker_pool_jobs(struct worker_pool *p);

/*
 * Shut the pool down, from the loop thread once the loop no longer
 * runs: every job still queued runs (a device waiting to be removed is
 * removed, cancelled jobs get their cleanup), the threads are joined,
 * and the done callbacks not yet delivered are called from here.  NULL
 * is ignored.
 */
void worker_pool_free(struct worker_pool *p);

#endif
