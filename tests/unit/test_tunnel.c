/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tunnel.c: the life cycle both kinds of session share, on a real event
 * loop with real (harmless) commands: up commands run only on a fresh
 * device and report their result, down commands run when the session's
 * own device is given back (never for a kept one), and the owner is gone
 * only once the session is over and no command runs.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include <event2/event.h>

#include "tunnel.h"

/* What the owner was told. */
struct owner {
	int up_calls, up_result, down_calls, gone_calls, teardowns;
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

static const struct tunnel_kind kind = {
	.teardown = owner_teardown,
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_up),
		cmocka_unit_test(test_release_and_gone),
	};

	return cmocka_run_group_tests_name("tunnel", tests, NULL, NULL);
}
