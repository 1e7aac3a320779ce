/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tunnel.c: the life cycle both kinds of session share, on a real event
 * loop with real (harmless) commands: up commands run only on a fresh
 * device and report their result, down commands run when the session's
 * own device is given back (never for a kept one), and the owner is gone
 * only once the session is over and no command runs.
 *
 * With a worker pool and real tun devices (root only: the program first
 * moves into a network namespace of its own, else those tests skip):
 * the device is made off the loop and reported by dev_done, removed off
 * the loop before the owner may go, removed by the pool when the session
 * ends before it was ready (dev_done never comes), and a device of the
 * same name made right after a removal waits for it.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "tunnel.h"
#include "worker.h"

/* Set by main: the program runs in a network namespace of its own. */
static bool own_netns;

/* What the owner was told. */
struct owner {
	int up_calls, up_result, down_calls, gone_calls, teardowns;
	int dev_calls;
	char dev_err[256];
};

static void
owner_up_done(struct tunnel *t, int result)
{
	struct owner *o = t->owner;

	o->up_calls++;
	o->up_result = result;
}

static void
owner_down_done(struct tunnel *t)
{
	((struct owner *)t->owner)->down_calls++;
}

static void
owner_gone(struct tunnel *t, void *arg)
{
	((struct owner *)arg)->gone_calls++;
}

static void
owner_teardown(struct tunnel *t)
{
	((struct owner *)t->owner)->teardowns++;
}

static void
owner_dev_done(struct tunnel *t, const char *err)
{
	struct owner *o = t->owner;

	o->dev_calls++;
	snprintf(o->dev_err, sizeof(o->dev_err), "%s", err != NULL ? err : "");
}

static const struct tunnel_kind kind = {
	.teardown = owner_teardown,
	.dev_done = owner_dev_done,
	.up_done = owner_up_done,
	.down_done = owner_down_done,
};

static const struct tunnel_cbs cbs = {
	.gone = owner_gone,
};

/* A server's start from 198.51.100.2:40312, told to o, keeping keep. */
static void
start_init(struct tunnel_start *st, struct sockaddr_in *sin, struct dev *keep,
    struct owner *o)
{
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(40312);
	assert_int_equal(inet_pton(AF_INET, "198.51.100.2", &sin->sin_addr), 1);
	memset(st, 0, sizeof(*st));
	st->role = TUNNEL_SERVER;
	st->peer = (struct sockaddr *)sin;
	st->peerlen = sizeof(*sin);
	st->keep = keep;
	st->cbs = &cbs;
	st->arg = o;
}

/* A session whose up and down lists are one command each. */
static void
cs_init(struct conf_session *cs, struct script_argv *up,
    struct script_argv *down, const char *upcmd, const char *downcmd)
{
	char err[128];

	memset(cs, 0, sizeof(*cs));
	strcpy(cs->name, "cobra");
	assert_int_equal(script_split(upcmd, up, err, sizeof(err)), 0);
	assert_int_equal(script_split(downcmd, down, err, sizeof(err)), 0);
	cs->up = up;
	cs->nup = 1;
	cs->down = down;
	cs->ndown = 1;
}

/* Run the loop until *counter reaches want (at most 1000 turns of 10 ms). */
static void
loop_until(struct event_base *base, const int *counter, int want)
{
	int i;

	for (i = 0; i < 1000 && *counter < want; i++) {
		event_base_loopexit(base, &(struct timeval){ 0, 10000 });
		event_base_dispatch(base);
	}
	assert_int_equal(*counter, want);
}

static void
test_up(void **state)
{
	struct script_argv up, down;
	struct conf_session cs;
	struct event_base *base;
	struct owner o = { 0 };
	struct tunnel_start st;
	struct sockaddr_in sin;
	struct tunnel t;

	(void)state;
	assert_non_null(base = event_base_new());
	cs_init(&cs, &up, &down, "/bin/true", "/bin/true");
	start_init(&st, &sin, NULL, &o);
	assert_int_equal(tunnel_init(&t, base, &kind, &o, &st), 0);
	assert_ptr_equal(t.dev, &t.own_dev);
	/* Who the peer is, and where the session starts. */
	assert_string_equal(t.peer_str, "198.51.100.2:40312");
	assert_string_equal(t.peer_host, "198.51.100.2");
	assert_string_equal(t.peer_port, "40312");
	assert_int_equal(t.state, TUNNEL_HANDSHAKE);
	assert_false(tunnel_closing(&t) || tunnel_is_up(&t));
	assert_null(tunnel_conf(&t));

	/* A kept device (not fresh): no up command, done at once. */
	assert_int_equal(tunnel_up(&t, &cs), 0);
	assert_int_equal(o.up_calls, 1);
	assert_int_equal(o.up_result, 0);
	assert_null(t.script);

	/* A fresh device: the command runs, its result comes back. */
	t.dev_fresh = true;
	assert_int_equal(tunnel_up(&t, &cs), 0);
	assert_non_null(t.script);
	assert_int_equal(o.up_calls, 1);
	loop_until(base, &o.up_calls, 2);
	assert_int_equal(o.up_result, 0);
	assert_null(t.script);

	/* A failing one reports its failure. */
	script_argv_free(&up);
	assert_int_equal(script_split("/bin/false", &up, NULL, 0), 0);
	assert_int_equal(tunnel_up(&t, &cs), 0);
	loop_until(base, &o.up_calls, 3);
	assert_int_not_equal(o.up_result, 0);

	/* Cancelled while it runs: nothing is reported. */
	script_argv_free(&up);
	assert_int_equal(script_split("/bin/sleep 5", &up, NULL, 0), 0);
	assert_int_equal(tunnel_up(&t, &cs), 0);
	tunnel_cancel(&t);
	assert_null(t.script);
	assert_int_equal(o.up_calls, 3);

	/* Freed before it ended: torn down once, on the way out. */
	assert_int_equal(o.teardowns, 0);
	tunnel_free(&t);
	assert_int_equal(o.teardowns, 1);
	assert_true(tunnel_closing(&t));
	script_argv_free(&up);
	script_argv_free(&down);
	event_base_free(base);
}

static void
test_release_and_gone(void **state)
{
	struct script_argv up, down;
	struct conf_session cs;
	struct event_base *base;
	struct owner o = { 0 };
	struct tunnel_start st;
	struct sockaddr_in sin;
	struct tunnel t;
	struct dev kept;

	(void)state;
	assert_non_null(base = event_base_new());
	cs_init(&cs, &up, &down, "/bin/true", "/bin/true");

	/* A device that never got ready: nothing to give back. */
	start_init(&st, &sin, NULL, &o);
	assert_int_equal(tunnel_init(&t, base, &kind, &o, &st), 0);
	tunnel_release(&t, &cs);
	assert_null(t.script);

	/* Our own fresh device: the down command runs, then we may go. */
	t.dev_ready = t.dev_fresh = true;
	tunnel_release(&t, &cs);
	assert_false(t.dev_ready);
	assert_true(t.down_running);
	tunnel_maybe_gone(&t, true);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(o.gone_calls, 0);	/* down still running */
	loop_until(base, &o.down_calls, 1);
	assert_false(t.down_running);
	tunnel_maybe_gone(&t, false);		/* not over yet */
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(o.gone_calls, 0);
	tunnel_maybe_gone(&t, true);
	assert_int_equal(o.gone_calls, 0);	/* from the loop, not here */
	loop_until(base, &o.gone_calls, 1);
	/* Ended first: tunnel_end tears down once, free does not again. */
	tunnel_end(&t);
	tunnel_end(&t);
	assert_int_equal(o.teardowns, 1);
	tunnel_free(&t);
	assert_int_equal(o.teardowns, 1);

	/* The client's kept device: no down command, it stays. */
	memset(&kept, 0, sizeof(kept));
	start_init(&st, &sin, &kept, &o);
	assert_int_equal(tunnel_init(&t, base, &kind, &o, &st), 0);
	assert_ptr_equal(t.dev, &kept);
	t.dev_ready = t.dev_fresh = true;
	tunnel_release(&t, &cs);
	assert_false(t.dev_ready);
	assert_false(t.down_running);
	assert_null(t.script);
	tunnel_free(&t);

	script_argv_free(&up);
	script_argv_free(&down);
	event_base_free(base);
}

/* Run the loop until cond(arg) holds (at most 1000 turns of 10 ms). */
static void
loop_until_cond(struct event_base *base, bool (*cond)(void *), void *arg)
{
	int i;

	for (i = 0; i < 1000 && !cond(arg); i++) {
		event_base_loopexit(base, &(struct timeval){ 0, 10000 });
		event_base_dispatch(base);
	}
	assert_true(cond(arg));
}

static bool
pool_idle(void *arg)
{
	return worker_pool_jobs(arg) == 0;
}

static bool
dev_exists(const char *name)
{
	return if_nametoindex(name) != 0;
}

/* A session with a fixed device name and no commands. */
static void
cs_dev(struct conf_session *cs, const char *device)
{
	memset(cs, 0, sizeof(*cs));
	strcpy(cs->name, "cobra");
	strcpy(cs->device, device);
}

static void
test_dev_pool(void **state)
{
	struct conf_session cs;
	struct event_base *base;
	struct worker_pool *pool;
	struct owner o = { 0 }, o2 = { 0 };
	struct tunnel_start st;
	struct sockaddr_in sin;
	struct tunnel t, t2;
	char err[256];

	(void)state;
	if (!own_netns)
		skip();
	assert_non_null(base = event_base_new());
	assert_non_null(pool = worker_pool_new(base, 2, 16, err,
	    sizeof(err)));
	cs_dev(&cs, "tltest0");
	start_init(&st, &sin, NULL, &o);
	st.pool = pool;

	/* Made off the loop: dev_done comes from the loop, not before. */
	assert_int_equal(tunnel_init(&t, base, &kind, &o, &st), 0);
	assert_int_equal(tunnel_dev_open(&t, &cs, DEV_TUN, 1400, 1, false,
	    err, sizeof(err)), 0);
	assert_int_equal(o.dev_calls, 0);
	assert_false(t.dev_ready);
	loop_until(base, &o.dev_calls, 1);
	assert_string_equal(o.dev_err, "");
	assert_true(t.dev_ready && t.dev_fresh);
	assert_int_equal(t.dev->nqueues, 1);
	assert_true(dev_exists("tltest0"));

	/* Removed off the loop; the owner may go only once it is gone. */
	tunnel_release(&t, &cs);
	assert_false(t.dev_ready);
	assert_int_equal(t.dev->nqueues, 0);
	assert_non_null(t.closejob);
	tunnel_maybe_gone(&t, true);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(o.gone_calls, 0);
	loop_until(base, &o.down_calls, 1);
	assert_false(dev_exists("tltest0"));
	tunnel_maybe_gone(&t, true);
	loop_until(base, &o.gone_calls, 1);
	tunnel_free(&t);

	/* Ended before its device was ready: dev_done never comes, and the
	 * pool removes whatever it made. */
	cs_dev(&cs, "tltest1");
	assert_int_equal(tunnel_init(&t, base, &kind, &o, &st), 0);
	assert_int_equal(tunnel_dev_open(&t, &cs, DEV_TUN, 1400, 1, false,
	    err, sizeof(err)), 0);
	tunnel_release(&t, &cs);
	assert_null(t.devjob);
	loop_until_cond(base, pool_idle, pool);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(o.dev_calls, 1);
	assert_false(dev_exists("tltest1"));
	tunnel_free(&t);

	/* A new device of a name being removed waits for the removal. */
	cs_dev(&cs, "tltest2");
	assert_int_equal(tunnel_init(&t, base, &kind, &o, &st), 0);
	assert_int_equal(tunnel_dev_open(&t, &cs, DEV_TUN, 1400, 1, false,
	    err, sizeof(err)), 0);
	loop_until(base, &o.dev_calls, 2);
	assert_string_equal(o.dev_err, "");
	st.arg = &o2;
	assert_int_equal(tunnel_init(&t2, base, &kind, &o2, &st), 0);
	tunnel_release(&t, &cs);
	assert_int_equal(tunnel_dev_open(&t2, &cs, DEV_TUN, 1400, 1, false,
	    err, sizeof(err)), 0);
	loop_until(base, &o2.dev_calls, 1);
	assert_string_equal(o2.dev_err, "");
	assert_true(t2.dev_ready);
	assert_true(dev_exists("tltest2"));

	/* Freed while its removal runs: the removal still happens. */
	tunnel_release(&t2, &cs);
	tunnel_free(&t2);
	tunnel_free(&t);
	worker_pool_free(pool);
	assert_false(dev_exists("tltest2"));
	event_base_free(base);
}

/*
 * Into a network namespace of our own, if we may (root): the device
 * tests then never touch the host's.  Before any thread exists, so
 * that the pool's threads are in it too.
 */
static bool
enter_own_netns(void)
{
	struct stat before, after;

	if (access("/dev/net/tun", R_OK | W_OK) != 0 ||
	    stat("/proc/self/ns/net", &before) != 0 ||
	    unshare(CLONE_NEWNET) != 0)
		return false;
	return stat("/proc/self/ns/net", &after) == 0 &&
	    (after.st_dev != before.st_dev || after.st_ino != before.st_ino);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_up),
		cmocka_unit_test(test_release_and_gone),
		cmocka_unit_test(test_dev_pool),
	};

	own_netns = enter_own_netns();
	return cmocka_run_group_tests_name("tunnel", tests, NULL, NULL);
}
