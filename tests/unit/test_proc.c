/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * proc.c: the configurations a reload replaces stay allocated (sessions
 * may still point into them) and are all freed at the end, the caller's
 * own never.  Config files go to a mkdtemp directory per test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "proc.h"

struct fixture {
	char dir[64];
	char conf[96];	/* dir/t.conf */
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/tapline-proc.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->conf, sizeof(f->conf), "%s/t.conf", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->conf);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* A one-session file whose port tells the versions apart. */
static void
write_conf(const struct fixture *f, int port)
{
	char text[256];
	int fd, n;

	n = snprintf(text, sizeof(text), "options = { port = %d; };\n"
	    "cobra = { passwd = \"correct horse battery staple\"; };\n", port);
	unlink(f->conf);
	fd = open(f->conf, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, (size_t)n), n);
	close(fd);
}

static struct conf *
load_conf(const struct fixture *f, int port)
{
	struct conf *c;

	write_conf(f, port);
	c = conf_reload(f->conf);
	assert_non_null(c);
	assert_int_equal(c->options.port, port);
	return c;
}

/*
 * Three reloads: the running configuration is always the newest, every
 * one it replaced is still readable, the caller's is never kept (it is
 * the caller's to free).  Under ASan, nothing leaks.
 */
static void
test_conf_keeping(void **state)
{
	struct fixture *f = *state;
	struct conf *first = load_conf(f, 5000), *nc;
	struct proc p;
	int i;

	proc_init(&p, first);
	assert_ptr_equal(p.conf, first);
	assert_int_equal(p.nold_confs, 0);
	for (i = 1; i <= 3; i++) {
		nc = load_conf(f, 5000 + i);
		assert_int_equal(proc_conf_reserve(&p), 0);
		proc_conf_replace(&p, nc);
		assert_ptr_equal(p.conf, nc);
		assert_int_equal(p.nold_confs, (size_t)(i - 1));
	}
	for (i = 0; i < 2; i++)
		assert_int_equal(p.old_confs[i]->options.port, 5001 + i);
	assert_int_equal(first->options.port, 5000);
	proc_free(&p);
	assert_ptr_equal(p.conf, first);
	assert_int_equal(p.nold_confs, 0);
	conf_free(first);
}

/*
 * A reload that fails after its reserve (a bad session, say) replaces
 * nothing; the next one still keeps exactly one configuration.
 */
static void
test_conf_reserve_unused(void **state)
{
	struct fixture *f = *state;
	struct conf *first = load_conf(f, 5000), *nc;
	struct proc p;

	proc_init(&p, first);
	nc = load_conf(f, 5001);
	assert_int_equal(proc_conf_reserve(&p), 0);
	proc_conf_replace(&p, nc);
	assert_int_equal(proc_conf_reserve(&p), 0);
	assert_int_equal(proc_conf_reserve(&p), 0);
	assert_ptr_equal(p.conf, nc);
	assert_int_equal(p.nold_confs, 0);
	nc = load_conf(f, 5002);
	proc_conf_replace(&p, nc);
	assert_int_equal(p.nold_confs, 1);
	assert_int_equal(p.old_confs[0]->options.port, 5001);
	proc_free(&p);
	conf_free(first);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_conf_keeping, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_conf_reserve_unused,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
