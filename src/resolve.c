/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A server's name to a connected socket (resolve.h): getaddrinfo on a
 * thread of its own, then connects raced over every address.
 *
 * Why a thread and not glibc's getaddrinfo_a: getaddrinfo_a tells of
 * its answer by a signal (which the loop's own signal handling would
 * have to share) or on a thread of its own anyway (SIGEV_THREAD); its
 * gai_cancel cannot stop a lookup that has started (EAI_NOTCANCELED),
 * so the request must outlive a cancelled attempt all the same; and it
 * lives in libanl before glibc 2.34.  A detached thread per lookup, an
 * eventfd for its answer and a reference count shared by the thread and
 * the loop do the same with nothing hidden: the thread only calls
 * getaddrinfo and writes the eventfd, and touches no libevent object,
 * so libevent stays single-threaded (no evthread, no libevent_pthreads).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/event.h>

#include "log.h"
#include "resolve.h"
#include "util.h"

/* "[2001:db8:1::1]:5000" */
#define RESOLVE_WHERE_MAX (INET6_ADDRSTRLEN + 16)

/*
 * One getaddrinfo on its thread.  Two references, the loop's and the
 * thread's; whoever drops the last frees it, so that a cancelled
 * attempt need not wait for a lookup stuck in a DNS timeout.
 */
struct resolve_job {
	atomic_int refs;
	atomic_bool done;	/* rc, err and res are set (release) */
	int efd;		/* written once the answer is in */
	char *host;
	char *port;
	int family;
	int rc;			/* getaddrinfo's */
	int err;		/* errno, for EAI_SYSTEM */
	struct addrinfo *res;	/* the loop takes it; else freed here */
};

/* One connect under way. */
struct resolve_try {
	struct resolve *r;
	int fd;			/* -1: not started, or over */
	struct event *ev;
	char where[RESOLVE_WHERE_MAX];
};

struct resolve {
	struct event_base *base;
	char *host;
	char port[8];
	char *local;		/* numeric source address, or NULL */
	uint32_t mark;		/* SO_MARK of the sockets, 0 = none */
	const char *tag;	/* "cobra: ", for log lines */
	resolve_cb cb;
	void *arg;

	struct resolve_job *job;	/* the lookup, until its answer */
	struct event *job_ev;
	struct addrinfo *res;
	const struct addrinfo *addrs[RESOLVE_ADDR_MAX];
	size_t naddrs;
	size_t next;		/* the next address to try */
	struct resolve_try tries[RESOLVE_ADDR_MAX];
	size_t active;		/* tries with a connect under way */
	struct event *stagger;	/* starts the next try */
	struct event *deadline;	/* gives up the tries under way */
	char trying[RESOLVE_WHERE_MAX];
	char err[RESOLVE_ERR_MAX];
};

/* ------------------------------------------------------------------ */
/* Orders */

/* Are two answers the same address (getaddrinfo may repeat one)? */
static bool
resolve_same(const struct addrinfo *a, const struct addrinfo *b)
{
	return a->ai_family == b->ai_family && a->ai_addrlen == b->ai_addrlen &&
	    memcmp(a->ai_addr, b->ai_addr, a->ai_addrlen) == 0;
}

size_t
resolve_order(const struct addrinfo *res, const struct addrinfo **out,
    size_t max)
{
	const struct addrinfo *fam[2] = { NULL, NULL }, *ai;
	size_t n = 0, i;
	int first, turn;

	if (res == NULL || max == 0)
		return 0;
	first = res->ai_family;
	/* fam[0] walks the first answer's family, fam[1] all the others. */
	fam[0] = res;
	for (ai = res; ai != NULL && fam[1] == NULL; ai = ai->ai_next)
		if (ai->ai_family != first)
			fam[1] = ai;
	turn = 0;
	while (n < max && (fam[0] != NULL || fam[1] != NULL)) {
		const struct addrinfo *pick;
		bool dup = false;

		if (fam[turn] == NULL)
			turn = !turn;
		pick = fam[turn];
		/* Move this family's cursor on to its next answer. */
		for (ai = pick->ai_next; ai != NULL; ai = ai->ai_next)
			if ((ai->ai_family == first) == (turn == 0))
				break;
		fam[turn] = ai;
		turn = !turn;
		if (pick->ai_addr == NULL || (pick->ai_family != AF_INET &&
		    pick->ai_family != AF_INET6))
			continue;
		for (i = 0; i < n && !dup; i++)
			dup = resolve_same(out[i], pick);
		if (!dup)
			out[n++] = pick;
	}
	return n;
}

void
resolve_servers_order(size_t n, bool shuffle, const uint32_t *rnd,
    size_t *order)
{
	size_t i, j, t;

	for (i = 0; i < n; i++)
		order[i] = i;
	if (!shuffle)
		return;
	/* Fisher-Yates from the end; the modulo's bias is of no matter. */
	for (i = n; i > 1; i--) {
		j = rnd[i - 1] % i;
		t = order[i - 1];
		order[i - 1] = order[j];
		order[j] = t;
	}
}

/* ------------------------------------------------------------------ */
/* The lookup's thread */

/* Drop one reference; the last one frees the job and what it holds. */
static void
resolve_job_unref(struct resolve_job *j)
{
	if (atomic_fetch_sub_explicit(&j->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (j->res != NULL)
		freeaddrinfo(j->res);
	if (j->efd != -1)
		close(j->efd);
	free(j->host);
	free(j->port);
	free(j);
}

/* The thread: one getaddrinfo, its answer stored, the eventfd written. */
static void *
resolve_job_run(void *arg)
{
	struct resolve_job *j = arg;
	struct addrinfo hints = { .ai_family = j->family,
		.ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP,
		.ai_flags = AI_ADDRCONFIG };
	uint64_t one = 1;
	ssize_t n;

	j->rc = getaddrinfo(j->host, j->port, &hints, &j->res);
	j->err = errno;
	atomic_store_explicit(&j->done, true, memory_order_release);
	/*
	 * The eventfd lives until the last reference, ours included; a
	 * write to it cannot fail short of a counter at 2^64 - 1.  Nothing
	 * is logged from here: the log is the loop's.
	 */
	n = write(j->efd, &one, sizeof(one));
	(void)n;
	resolve_job_unref(j);
	return NULL;
}

/*
 * Start the lookup of host: NULL on failure (err says why).  The thread
 * gets every signal blocked, so that they all stay with the loop.
 */
static struct resolve_job *
resolve_job_start(const char *host, const char *port, int family, char *err,
    size_t errlen)
{
	struct resolve_job *j;
	pthread_attr_t attr;
	pthread_t tid;
	sigset_t all, old;
	int rc;

	if ((j = calloc(1, sizeof(*j))) == NULL) {
		util_err(err, errlen, "out of memory");
		return NULL;
	}
	atomic_init(&j->refs, 2);
	atomic_init(&j->done, false);
	j->family = family;
	j->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	j->host = strdup(host);
	j->port = strdup(port);
	if (j->efd == -1 || j->host == NULL || j->port == NULL) {
		util_err(err, errlen, "cannot start a lookup: %s",
		    j->efd == -1 ? strerror(errno) : "out of memory");
		goto fail;
	}
	if ((rc = pthread_attr_init(&attr)) != 0) {
		util_err(err, errlen, "cannot start a lookup: %s",
		    strerror(rc));
		goto fail;
	}
	(void)pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	sigfillset(&all);
	(void)pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&tid, &attr, resolve_job_run, j);
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	(void)pthread_attr_destroy(&attr);
	if (rc != 0) {
		util_err(err, errlen, "cannot start a lookup thread: %s",
		    strerror(rc));
		goto fail;
	}
	return j;
fail:
	/* No thread: both references are ours. */
	atomic_store(&j->refs, 1);
	resolve_job_unref(j);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Connecting */

static void resolve_next(struct resolve *r);

/* Close one try's socket and event. */
static void
resolve_try_close(struct resolve_try *t)
{
	if (t->ev != NULL) {
		event_free(t->ev);
		t->ev = NULL;
	}
	if (t->fd != -1) {
		close(t->fd);
		t->fd = -1;
	}
}

/* Free r with everything it holds; a lookup still running goes on alone. */
static void
resolve_free(struct resolve *r)
{
	size_t i;

	for (i = 0; i < RESOLVE_ADDR_MAX; i++)
		resolve_try_close(&r->tries[i]);
	if (r->job_ev != NULL)
		event_free(r->job_ev);
	if (r->job != NULL)
		resolve_job_unref(r->job);
	if (r->stagger != NULL)
		event_free(r->stagger);
	if (r->deadline != NULL)
		event_free(r->deadline);
	if (r->res != NULL)
		freeaddrinfo(r->res);
	free(r->host);
	free(r->local);
	free(r);
}

/* The end: free r first, then tell the caller (who may start anew). */
static void
resolve_finish(struct resolve *r, int fd, const struct sockaddr_storage *ss,
    socklen_t sslen)
{
	resolve_cb cb = r->cb;
	void *arg = r->arg;
	char err[RESOLVE_ERR_MAX];

	util_strlcpy(err, r->err, sizeof(err));
	resolve_free(r);
	cb(fd, fd == -1 ? NULL : (const struct sockaddr *)ss, sslen,
	    fd == -1 ? err : NULL, arg);
}

/* Nothing is under way and nothing is left to try: report the last error. */
static void
resolve_fail(struct resolve *r)
{
	resolve_finish(r, -1, NULL, 0);
}

/* A try has connected: it wins, the others are closed. */
static void
resolve_won(struct resolve *r, struct resolve_try *t)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int fd = t->fd;

	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1) {
		util_err(r->err, sizeof(r->err), "connect to %s: %s",
		    t->where, strerror(errno));
		resolve_try_close(t);
		r->active--;
		if (r->active == 0)
			resolve_next(r);
		return;
	}
	t->fd = -1;
	resolve_try_close(t);
	resolve_finish(r, fd, &ss, len);
}

/* A connect has completed or failed (the socket became writable). */
static void
resolve_try_cb(evutil_socket_t fd, short what, void *arg)
{
	struct resolve_try *t = arg;
	struct resolve *r = t->r;
	socklen_t len = sizeof(int);
	int soerr = 0;

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) == -1)
		soerr = errno;
	if (soerr == 0) {
		resolve_won(r, t);
		return;
	}
	util_err(r->err, sizeof(r->err), "connect to %s: %s", t->where,
	    strerror(soerr));
	/* The last error goes to the caller, which logs it. */
	if (r->naddrs > 1)
		log_info("%s%s", r->tag, r->err);
	resolve_try_close(t);
	r->active--;
	/* RFC 8305: a failed attempt starts the next one at once. */
	evtimer_del(r->stagger);
	resolve_next(r);
}

/* Bind fd to the -L address, in the family of the destination. */
static int
resolve_bind(struct resolve *r, int fd, int family)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_PASSIVE,
		.ai_family = family, .ai_socktype = SOCK_STREAM };
	struct addrinfo *local = NULL;
	int rc;

	/* A numeric address: getaddrinfo does not block. */
	if ((rc = getaddrinfo(r->local, NULL, &hints, &local)) != 0)
		return util_err(r->err, sizeof(r->err), "source address %s: "
		    "%s", r->local, gai_strerror(rc));
	rc = bind(fd, local->ai_addr, local->ai_addrlen);
	freeaddrinfo(local);
	if (rc == -1)
		return util_err(r->err, sizeof(r->err), "cannot bind to %s: "
		    "%s", r->local, strerror(errno));
	return 0;
}

/*
 * Start a connect to ai in slot t: 0 when it is under way (or already
 * done: the event fires at once), -1 with r->err set.
 */
static int
resolve_try_start(struct resolve *r, struct resolve_try *t,
    const struct addrinfo *ai)
{
	int fd;

	t->r = r;
	util_sockaddr_str(ai->ai_addr, t->where, sizeof(t->where));
	util_strlcpy(r->trying, t->where, sizeof(r->trying));
	log_info("%sconnecting to %s", r->tag, t->where);
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd == -1)
		return util_err(r->err, sizeof(r->err), "socket: %s",
		    strerror(errno));
	t->fd = fd;
	/* Before connect: a kept full tunnel's routes exist already. */
	if (r->mark != 0 && setsockopt(fd, SOL_SOCKET, SO_MARK, &r->mark,
	    sizeof(r->mark)) == -1) {
		util_err(r->err, sizeof(r->err), "cannot give the socket the "
		    "full tunnel's fwmark 0x%" PRIx32 " (SO_MARK): %s", r->mark,
		    strerror(errno));
		goto fail;
	}
	if (r->local != NULL && resolve_bind(r, fd, ai->ai_family) == -1)
		goto fail;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1 &&
	    errno != EINPROGRESS) {
		util_err(r->err, sizeof(r->err), "connect to %s: %s",
		    t->where, strerror(errno));
		goto fail;
	}
	t->ev = event_new(r->base, fd, EV_WRITE, resolve_try_cb, t);
	if (t->ev == NULL || event_add(t->ev, NULL) == -1) {
		util_err(r->err, sizeof(r->err), "out of memory");
		goto fail;
	}
	r->active++;
	return 0;
fail:
	if (r->naddrs > 1)
		log_info("%s%s", r->tag, r->err);
	resolve_try_close(t);
	return -1;
}

/*
 * Start the next address that can be started; the one after it follows
 * when the stagger runs out or this one fails.  With none left and none
 * under way, the whole attempt has failed.
 */
static void
resolve_next(struct resolve *r)
{
	struct timeval stagger = { 0, RESOLVE_STAGGER_MS * 1000 };
	struct timeval limit = { RESOLVE_CONNECT_TIMEOUT_MS / 1000,
		(RESOLVE_CONNECT_TIMEOUT_MS % 1000) * 1000 };

	while (r->next < r->naddrs) {
		size_t i = r->next++;

		if (resolve_try_start(r, &r->tries[i], r->addrs[i]) == -1)
			continue;
		if (r->next < r->naddrs)
			evtimer_add(r->stagger, &stagger);
		/* Each new try gets the whole time from its start. */
		evtimer_add(r->deadline, &limit);
		return;
	}
	if (r->active == 0)
		resolve_fail(r);
}

/* The stagger ran out with nothing connected yet: the next address. */
static void
resolve_staggercb(evutil_socket_t fd, short what, void *arg)
{
	resolve_next(arg);
}

/* Nothing connected in time: close the tries and give up this name. */
static void
resolve_deadlinecb(evutil_socket_t fd, short what, void *arg)
{
	struct resolve *r = arg;

	util_err(r->err, sizeof(r->err), "connect to %s: no answer within "
	    "%d s", r->trying, RESOLVE_CONNECT_TIMEOUT_MS / 1000);
	resolve_fail(r);
}

/* The thread's answer is in: order the addresses and start connecting. */
static void
resolve_lookedupcb(evutil_socket_t fd, short what, void *arg)
{
	struct resolve *r = arg;
	struct resolve_job *j = r->job;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) == -1 && errno == EAGAIN)
		return;	/* not yet: spurious */
	if (!atomic_load_explicit(&j->done, memory_order_acquire))
		return;
	event_free(r->job_ev);
	r->job_ev = NULL;
	r->res = j->res;
	j->res = NULL;
	if (j->rc != 0) {
		util_err(r->err, sizeof(r->err), "cannot resolve %s: %s",
		    r->host, j->rc == EAI_SYSTEM ? strerror(j->err) :
		    gai_strerror(j->rc));
		r->job = NULL;
		resolve_job_unref(j);
		resolve_fail(r);
		return;
	}
	r->job = NULL;
	resolve_job_unref(j);
	r->naddrs = resolve_order(r->res, r->addrs, RESOLVE_ADDR_MAX);
	if (r->naddrs == 0) {
		util_err(r->err, sizeof(r->err), "%s has no address to "
		    "connect to", r->host);
		resolve_fail(r);
		return;
	}
	resolve_next(r);
}

void
resolve_set_mark(struct resolve *r, uint32_t mark)
{
	r->mark = mark;
}

struct resolve *
resolve_connect(struct event_base *base, const char *host, const char *port,
    int family, const char *local, const char *tag, resolve_cb cb,
    void *arg)
{
	struct resolve *r;
	size_t i;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		log_err("%sout of memory", tag);
		return NULL;
	}
	r->base = base;
	r->tag = tag;
	r->cb = cb;
	r->arg = arg;
	for (i = 0; i < RESOLVE_ADDR_MAX; i++)
		r->tries[i].fd = -1;
	util_strlcpy(r->port, port, sizeof(r->port));
	r->host = strdup(host);
	if (local != NULL)
		r->local = strdup(local);
	r->stagger = evtimer_new(base, resolve_staggercb, r);
	r->deadline = evtimer_new(base, resolve_deadlinecb, r);
	if (r->host == NULL || (local != NULL && r->local == NULL) ||
	    r->stagger == NULL || r->deadline == NULL) {
		log_err("%sout of memory", tag);
		goto fail;
	}
	r->job = resolve_job_start(host, port, family, r->err,
	    sizeof(r->err));
	if (r->job == NULL) {
		log_err("%s%s", tag, r->err);
		goto fail;
	}
	r->job_ev = event_new(base, r->job->efd, EV_READ | EV_PERSIST,
	    resolve_lookedupcb, r);
	if (r->job_ev == NULL || event_add(r->job_ev, NULL) == -1) {
		log_err("%sout of memory", tag);
		goto fail;
	}
	return r;
fail:
	resolve_free(r);
	return NULL;
}

void
resolve_cancel(struct resolve *r)
{
	if (r != NULL)
		resolve_free(r);
}

const char *
resolve_trying(const struct resolve *r)
{
	return r->trying;
}
