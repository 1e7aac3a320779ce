/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * One file per tunnel (confdir.c, and conf.c's include_dir): which files
 * a directory contributes and in what order; each file's own `default`;
 * what a file of include_dir may not hold; a broken file leaves the
 * others' sessions loaded, and at a reload keeps its running sessions;
 * the file a client `tapline NAME` reads.  Everything lives in a
 * mkdtemp directory per test.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "confdir.h"

static const char key_a[] = "AAECAwQFBgcICQoLDA0OD/Dx8vP09fb3+Pn6+/z9/v8=\n";
static const char key_b[] =
    "1111111111111111111111111111111111111111111111111111111111111111\n";
static const char key_c[] =
    "2222222222222222222222222222222222222222222222222222222222222222\n";
static const char key_d[] =
    "3333333333333333333333333333333333333333333333333333333333333333\n";

struct fixture {
	char dir[64];
	char main[96];	/* dir/main.conf */
	char sub[96];	/* dir/conf.d */
	struct conf *c;
	struct conf_diag d;
};

static void
write_path(const char *path, const char *text)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Write dir/name; name may be "conf.d/x.conf". */
static void
put(const struct fixture *f, const char *name, const char *text)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", f->dir, name);
	write_path(path, text);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/test_confdir.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->main, sizeof(f->main), "%s/main.conf", f->dir);
	snprintf(f->sub, sizeof(f->sub), "%s/conf.d", f->dir);
	if (mkdir(f->sub, 0700) != 0) {
		free(f);
		return -1;
	}
	put(f, "a.key", key_a);
	put(f, "b.key", key_b);
	put(f, "c.key", key_c);
	put(f, "d.key", key_d);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	conf_free(f->c);
	conf_diag_free(&f->d);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void
dump(const struct fixture *f)
{
	size_t i;

	for (i = 0; i < f->d.nerrors; i++)
		print_message("error:   %s\n", f->d.errors[i]);
	for (i = 0; i < f->d.nwarnings; i++)
		print_message("warning: %s\n", f->d.warnings[i]);
}

/* Load main.conf (with old as the fallback); the result stays in f. */
static struct conf *
load(struct fixture *f, const struct conf *old)
{
	conf_free(f->c);
	conf_diag_free(&f->d);
	f->c = conf_load_fallback(f->main, old, &f->d);
	return f->c;
}

/* Is there an error that starts with "DIR/" rest? */
static void
expect_error(const struct fixture *f, const char *rest)
{
	char want[512];
	size_t i;

	snprintf(want, sizeof(want), "%s/%s", f->dir, rest);
	for (i = 0; i < f->d.nerrors; i++)
		if (strncmp(f->d.errors[i], want, strlen(want)) == 0)
			return;
	dump(f);
	fail_msg("no error \"%s\"", want);
}

/* Does some error contain text? */
static void
expect_error_has(const struct fixture *f, const char *text)
{
	size_t i;

	for (i = 0; i < f->d.nerrors; i++)
		if (strstr(f->d.errors[i], text) != NULL)
			return;
	dump(f);
	fail_msg("no error containing \"%s\"", text);
}

/* Session names of c, in order, as "a b c". */
static void
expect_sessions(const struct conf *c, const char *want)
{
	char got[512] = "";
	size_t i;

	assert_non_null(c);
	for (i = 0; i < c->nsessions; i++) {
		if (i > 0)
			strcat(got, " ");
		strcat(got, c->sessions[i].name);
	}
	assert_string_equal(got, want);
}

/* The path of dir/name, for comparisons. */
static const char *
path_of(const struct fixture *f, const char *name)
{
	static char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s/%s", f->dir, name);
	return buf;
}

/* ---------------------------------------------------------------- */

static void
test_name_ok(void **state)
{
	static const struct {
		const char *name;
		bool ok;
	} cases[] = {
		{ "cobra.conf", true },
		{ "10-cobra.conf", true },
		{ "x.conf", true },
		{ ".conf", false },
		{ ".cobra.conf", false },
		{ ".#cobra.conf", false },	/* Emacs' lock */
		{ ".cobra.conf.swp", false },	/* vim's swap file */
		{ "cobra.conf~", false },
		{ "cobra.conf.dpkg-old", false },
		{ "cobra.conf.dpkg-dist", false },
		{ "cobra.conf.bak", false },
		{ "cobra.CONF", false },
		{ "cobra", false },
		{ "conf", false },
		{ "", false },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		if (confdir_name_ok(cases[i].name) != cases[i].ok)
			fail_msg("%s: expected %s", cases[i].name,
			    cases[i].ok ? "ok" : "ignored");
}

/* Byte order whatever the locale; other suffixes and hidden ignored. */
static void
test_scan(void **state)
{
	struct fixture *f = *state;
	static const char *const want[] = { "10-z.conf", "9.conf", "B.conf",
		"a.conf", "b.conf" };
	char **paths, err[256], link[PATH_MAX];
	size_t n, i;

	put(f, "conf.d/b.conf", "");
	put(f, "conf.d/a.conf", "");
	put(f, "conf.d/B.conf", "");
	put(f, "conf.d/9.conf", "");
	put(f, "conf.d/10-z.conf", "");
	put(f, "conf.d/a.conf~", "");
	put(f, "conf.d/a.conf.dpkg-old", "");
	put(f, "conf.d/.#a.conf", "");
	put(f, "conf.d/.a.conf.swp", "");
	put(f, "conf.d/README", "");
	snprintf(link, sizeof(link), "%s/conf.d/sub.conf", f->dir);
	assert_int_equal(mkdir(link, 0700), 0);
	assert_int_equal(confdir_scan(f->sub, &paths, &n, err, sizeof(err)),
	    0);
	assert_int_equal(n, sizeof(want) / sizeof(want[0]));
	for (i = 0; i < n; i++) {
		snprintf(link, sizeof(link), "%s/%s", f->sub, want[i]);
		assert_string_equal(paths[i], link);
	}
	confdir_free(paths, n);

	/* A missing directory holds no files; a file is no directory. */
	snprintf(link, sizeof(link), "%s/none", f->dir);
	assert_int_equal(confdir_scan(link, &paths, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
	assert_null(paths);
	snprintf(link, sizeof(link), "%s/a.key", f->dir);
	assert_int_equal(confdir_scan(link, &paths, &n, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "Not a directory"));
}

/* `tapline NAME`: etc/NAME.conf when it exists, else etc/tapline.conf. */
static void
test_client_path(void **state)
{
	struct fixture *f = *state;
	char buf[PATH_MAX], want[PATH_MAX], tiny[8];

	put(f, "cobra.conf", "");
	assert_int_equal(confdir_client_path(f->dir, "cobra", buf,
	    sizeof(buf)), 0);
	snprintf(want, sizeof(want), "%s/cobra.conf", f->dir);
	assert_string_equal(buf, want);
	snprintf(want, sizeof(want), "%s/tapline.conf", f->dir);
	assert_int_equal(confdir_client_path(f->dir, "viper", buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, want);
	/* Not a session name: never a file of its own. */
	put(f, ".x.conf", "");
	assert_int_equal(confdir_client_path(f->dir, ".x", buf, sizeof(buf)),
	    0);
	assert_string_equal(buf, want);
	assert_int_equal(confdir_client_path(f->dir, "../x", buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, want);
	assert_int_equal(confdir_client_path(f->dir, NULL, buf, sizeof(buf)),
	    0);
	assert_string_equal(buf, want);
	assert_int_equal(confdir_client_path(f->dir, "cobra", tiny,
	    sizeof(tiny)), -1);
}

/*
 * Sessions in file order (main, then include_dir's by name); each
 * file's `default` on top of the main file's, for its own sessions.
 */
static void
test_load_order_defaults(void **state)
{
	struct fixture *f = *state;
	const struct conf_session *s;

	put(f, "main.conf",
	    "options = { include_dir = \"conf.d\"; };\n"
	    "default = { keepalive = 5; mtu = 1400; };\n"
	    "m = { key = \"a.key\"; };\n");
	put(f, "conf.d/20-beta.conf",
	    "beta = { key = \"../c.key\"; };\n");
	put(f, "conf.d/10-alpha.conf",
	    "default = { proto = \"tcp\"; mtu = 1300; };\n"
	    "\n"
	    "alpha = { key = \"../b.key\"; mtu = 1280; };\n"
	    "alpha2 = { passwd = \"correct horse battery staple\"; };\n");
	put(f, "conf.d/30-off.conf.dpkg-old", "junk");
	if (load(f, NULL) == NULL || f->d.nerrors != 0) {
		dump(f);
		fail_msg("refused");
	}
	expect_sessions(f->c, "m alpha alpha2 beta");
	assert_string_equal(f->c->options.include_dir, path_of(f, "conf.d"));
	assert_int_equal(f->c->nfiles, 2);
	assert_int_equal(f->c->nbroken, 0);

	s = conf_session_find(f->c, "m");
	assert_int_equal(s->proto, CONF_PROTO_UDP);
	assert_int_equal(s->keepalive, 5);
	assert_string_equal(s->origin, f->main);
	s = conf_session_find(f->c, "alpha");
	assert_int_equal(s->proto, CONF_PROTO_TCP);
	assert_int_equal(s->keepalive, 5);
	assert_int_equal(s->mtu, 1280);
	assert_string_equal(s->file, path_of(f, "conf.d/10-alpha.conf"));
	assert_string_equal(s->origin, s->file);
	assert_int_equal(s->line, 3);
	s = conf_session_find(f->c, "alpha2");
	assert_int_equal(s->mtu, 1300);
	assert_int_equal(s->auth, CONF_AUTH_PASSWD);
	/* Another file's default does not reach beta. */
	s = conf_session_find(f->c, "beta");
	assert_int_equal(s->proto, CONF_PROTO_UDP);
	assert_int_equal(s->mtu, 1400);
	assert_int_equal(s->keepalive, 5);
	assert_string_equal(s->file, path_of(f, "conf.d/20-beta.conf"));
	assert_int_equal(s->line, 1);
}

/*
 * Options belong in the main file; a file that has them is refused
 * (file:line), and the other files' sessions load.
 */
static void
test_options_refused(void **state)
{
	struct fixture *f = *state;

	put(f, "main.conf", "options = { include_dir = \"conf.d\"; };\n");
	put(f, "conf.d/a.conf", "alpha = { key = \"../b.key\"; };\n");
	put(f, "conf.d/b.conf",
	    "# one tunnel\n"
	    "options = { port = 6000; };\n"
	    "beta = { key = \"../c.key\"; };\n");
	assert_non_null(load(f, NULL));
	expect_error(f, "conf.d/b.conf:2: options: not allowed in a file "
	    "of include_dir");
	expect_sessions(f->c, "alpha");
	assert_int_equal(f->c->options.port, CONF_DEFAULT_PORT);
	assert_int_equal(f->c->nbroken, 1);
	assert_string_equal(f->c->broken[0], path_of(f, "conf.d/b.conf"));
}

/*
 * old_key lets a connection in alone, as a shared key does: across
 * files it may be no other session's key or old_key, nor they its.
 */
static void
test_duplicate_old_key(void **state)
{
	struct fixture *f = *state;
	const char *pk = "AAECAwQFBgcICQoLDA0OD/Dx8vP09fb3+Pn6+/z9/v8=";
	char text[512];

	snprintf(text, sizeof(text), "options = { include_dir = \"conf.d\";"
	    " private_key = \"d.key\"; };\n"
	    "m = { key = \"a.key\"; };\n"
	    "n = { peer_key = \"%s\"; old_key = \"b.key\"; };\n", pk);
	put(f, "main.conf", text);
	snprintf(text, sizeof(text), "alpha = {\n peer_key = \"%s\";\n"
	    " old_key = \"../a.key\"; };\n", pk);
	put(f, "conf.d/a.conf", text);
	snprintf(text, sizeof(text), "beta = { peer_key = \"%s\";\n"
	    " old_key = \"../b.key\"; };\n", pk);
	put(f, "conf.d/b.conf", text);
	put(f, "conf.d/c.conf", "gamma = { key = \"../b.key\"; };\n");
	put(f, "conf.d/d.conf", "delta = { key = \"../c.key\"; };\n");
	assert_non_null(load(f, NULL));
	expect_sessions(f->c, "m n delta");
	expect_error(f, "conf.d/a.conf:3: alpha.old_key: same key as session "
	    "\"m\"");
	expect_error(f, "conf.d/b.conf:2: beta.old_key: same key as session "
	    "\"n\"");
	expect_error(f, "conf.d/c.conf:1: gamma.key: same key as session "
	    "\"n\"");
	assert_int_equal(f->c->nbroken, 3);
}

/* A session name or key in two files: the later file names both. */
static void
test_duplicates(void **state)
{
	struct fixture *f = *state;
	char want[PATH_MAX + 32];

	put(f, "main.conf",
	    "options = { include_dir = \"conf.d\"; };\n"
	    "m = { key = \"a.key\"; };\n");
	put(f, "conf.d/a.conf",
	    "\n"
	    "alpha = { key = \"../b.key\"; };\n");
	put(f, "conf.d/b.conf",
	    "\n"
	    "\n"
	    "alpha = { key = \"../c.key\"; };\n");
	put(f, "conf.d/c.conf",
	    "gamma = {\n"
	    "  key = \"../a.key\";\n"
	    "};\n");
	put(f, "conf.d/d.conf", "m = { key = \"../c.key\"; };\n");
	assert_non_null(load(f, NULL));
	expect_sessions(f->c, "m alpha");
	expect_error(f, "conf.d/b.conf:3: alpha: session \"alpha\" is also "
	    "defined in ");
	snprintf(want, sizeof(want), "defined in %s:2;",
	    path_of(f, "conf.d/a.conf"));
	expect_error_has(f, want);
	expect_error(f, "conf.d/c.conf:2: gamma.key: same key as session "
	    "\"m\"");
	snprintf(want, sizeof(want), "(%s:2)", f->main);
	expect_error_has(f, want);
	expect_error(f, "conf.d/d.conf:1: m: session \"m\" is also defined");
	assert_int_equal(f->c->nbroken, 3);
}

/*
 * A file that does not parse, or has a bad value, is named with its
 * line; the others load.  A problem with a value it inherits from the
 * main file's default names the main file.  A main file with an error
 * refuses everything, as before.
 */
static void
test_broken_at_load(void **state)
{
	struct fixture *f = *state;
	char want[PATH_MAX + 64];

	put(f, "main.conf",
	    "options = { include_dir = \"conf.d\"; };\n"
	    "default = { type = \"tap\";\n"
	    "  bridge = \"br0\"; };\n");
	put(f, "conf.d/a.conf", "alpha = { key = \"../b.key\"; };\n");
	put(f, "conf.d/b.conf",
	    "beta = { key = \"../c.key\";\n"
	    "  proto = \"udp\"\n"
	    "  mtu = ; };\n");
	put(f, "conf.d/c.conf",
	    "default = { type = \"tun\"; };\n"
	    "gamma = { key = \"../a.key\"; };\n");
	put(f, "conf.d/d.conf", "delta = { key = \"../a.key\"; protoo = 1; };\n");
	assert_non_null(load(f, NULL));
	expect_sessions(f->c, "alpha");
	expect_error(f, "conf.d/b.conf:3: syntax error");
	snprintf(want, sizeof(want), "%s:3: default.bridge: only a tap",
	    f->main);
	expect_error_has(f, want);
	expect_error(f, "conf.d/d.conf:1: delta.protoo: unknown setting; did "
	    "you mean \"proto\"?");
	assert_int_equal(f->c->nbroken, 3);
	assert_string_equal(f->c->broken[0], path_of(f, "conf.d/b.conf"));
	assert_string_equal(f->c->broken[1], path_of(f, "conf.d/c.conf"));
	assert_string_equal(f->c->broken[2], path_of(f, "conf.d/d.conf"));
}

/*
 * Whoever can write a config file can run up commands as the daemon: a
 * file or an include_dir anyone may write is refused, naming it; a file
 * only its group may write is the admin's business.
 */
static void
test_world_writable(void **state)
{
	struct fixture *f = *state;

	put(f, "main.conf", "options = { include_dir = \"conf.d\"; };\n");
	put(f, "conf.d/a.conf", "alpha = { key = \"../a.key\"; };\n");
	put(f, "conf.d/b.conf", "beta = { key = \"../b.key\"; };\n");
	assert_int_equal(chmod(path_of(f, "conf.d/b.conf"), 0666), 0);
	assert_int_equal(chmod(path_of(f, "conf.d/a.conf"), 0660), 0);
	assert_non_null(load(f, NULL));
	expect_sessions(f->c, "alpha");
	expect_error(f, "conf.d/b.conf: is writable by anyone (mode 0666)");
	assert_int_equal(f->c->nbroken, 1);

	/* The directory: nothing of it is read. */
	assert_int_equal(chmod(path_of(f, "conf.d/b.conf"), 0600), 0);
	assert_int_equal(chmod(f->sub, 01777), 0);
	assert_null(load(f, NULL));
	expect_error_has(f, "is writable by anyone (mode 1777)");

	/* The main file. */
	assert_int_equal(chmod(f->sub, 0700), 0);
	assert_int_equal(chmod(f->main, 0646), 0);
	assert_null(load(f, NULL));
	expect_error(f, "main.conf: is writable by anyone (mode 0646)");
}

/* The same, with the broken files listed. */
static void
test_broken_list(void **state)
{
	struct fixture *f = *state;

	put(f, "main.conf",
	    "options = { include_dir = \"conf.d\"; };\n"
	    "m = { key = \"a.key\"; };\n");
	put(f, "conf.d/a.conf", "alpha = { key = \"../b.key\"; };\n");
	put(f, "conf.d/b.conf", "beta = { key = \"../c.key\"; mtu = 1; };\n");
	put(f, "conf.d/c.conf", "gamma = {\n");
	assert_non_null(load(f, NULL));
	expect_sessions(f->c, "m alpha");
	expect_error(f, "conf.d/b.conf:1: beta.mtu: ");
	expect_error(f, "conf.d/c.conf:1: ");
	assert_int_equal(f->c->nfiles, 3);
	assert_int_equal(f->c->nbroken, 2);
	assert_string_equal(f->c->broken[0], path_of(f, "conf.d/b.conf"));
	assert_string_equal(f->c->broken[1], path_of(f, "conf.d/c.conf"));

	/* An error in the main file refuses all. */
	put(f, "main.conf",
	    "options = { include_dir = \"conf.d\"; prot = 1; };\n");
	assert_null(load(f, NULL));
	expect_error(f, "main.conf:1: options.prot: unknown setting; did "
	    "you mean \"port\"?");
	/* So does a directory that cannot be read. */
	put(f, "main.conf", "options = {\n include_dir = \"a.key\"; };\n");
	assert_null(load(f, NULL));
	expect_error(f, "main.conf:2: options.include_dir: cannot read the "
	    "directory");
}

/* Text from memory does not read include_dir (fuzzers, import-vtund). */
static void
test_buffer_no_dir(void **state)
{
	struct fixture *f = *state;
	static const char text[] =
	    "options = { include_dir = \"conf.d\"; };\n";

	put(f, "conf.d/a.conf", "alpha = { key = \"../b.key\"; };\n");
	f->c = conf_load_buffer(f->main, text, strlen(text), &f->d);
	assert_non_null(f->c);
	assert_int_equal(f->c->nsessions, 0);
	assert_int_equal(f->c->nfiles, 0);
}

/*
 * A reload with one broken file: that file's running sessions are
 * copied as they ran (so the reload finds them unchanged), every other
 * file's changes apply.  Kept sessions that now clash refuse the whole
 * reload.
 */
static void
test_reload_fallback(void **state)
{
	struct fixture *f = *state;
	const struct conf_session *s, *os;
	struct conf *old;

	put(f, "main.conf",
	    "options = { include_dir = \"conf.d\"; };\n"
	    "m = { key = \"a.key\"; };\n");
	put(f, "conf.d/a.conf", "alpha = { key = \"../b.key\"; mtu = 1400; };\n");
	put(f, "conf.d/b.conf",
	    "beta = { passwd = \"correct horse battery staple\";\n"
	    "  up = ( \"ip link set %d up\" ); mtu = 1300; };\n"
	    "beta2 = { key = \"../c.key\"; };\n");
	assert_non_null(load(f, NULL));
	expect_sessions(f->c, "m alpha beta beta2");
	old = f->c;
	f->c = NULL;

	/* b.conf breaks, a.conf changes. */
	put(f, "conf.d/a.conf", "alpha = { key = \"../b.key\"; mtu = 1380; };\n");
	put(f, "conf.d/b.conf",
	    "beta = { passwd = \"correct horse battery staple\";\n"
	    "  mtu = 1200 };\n"
	    "beta2 = { key = \"../c.key\"; bogus = 1; };\n");
	assert_non_null(load(f, old));
	expect_error(f, "conf.d/b.conf:3: beta2.bogus: unknown setting");
	expect_sessions(f->c, "m alpha beta beta2");
	assert_int_equal(f->c->nbroken, 1);
	s = conf_session_find(f->c, "alpha");
	assert_int_equal(s->mtu, 1380);
	assert_false(conf_session_equal(s, conf_session_find(old, "alpha")));
	s = conf_session_find(f->c, "beta");
	os = conf_session_find(old, "beta");
	assert_true(s != os);
	assert_true(conf_session_equal(s, os));
	assert_int_equal(s->mtu, 1300);
	assert_string_equal(s->passwd, os->passwd);
	assert_true(s->passwd != os->passwd);
	assert_string_equal(s->file, os->file);
	assert_int_equal(s->line, os->line);
	assert_true(conf_session_equal(conf_session_find(f->c, "beta2"),
	    conf_session_find(old, "beta2")));
	assert_true(conf_session_equal(conf_session_find(f->c, "m"),
	    conf_session_find(old, "m")));

	/* Without a fallback (a start) the broken file's sessions stay out. */
	assert_non_null(load(f, NULL));
	expect_sessions(f->c, "m alpha");

	/* a.conf now defines beta2 too: the kept one would clash. */
	put(f, "conf.d/a.conf",
	    "alpha = { key = \"../b.key\"; };\n"
	    "beta2 = { key = \"../d.key\"; };\n");
	assert_null(load(f, old));
	expect_error(f, "conf.d/b.conf: cannot keep its running session "
	    "\"beta2\"");

	/* A file that is gone takes its sessions with it. */
	put(f, "conf.d/a.conf", "alpha = { key = \"../b.key\"; };\n");
	{
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/conf.d/b.conf", f->dir);
		assert_int_equal(unlink(path), 0);
	}
	assert_non_null(load(f, old));
	assert_int_equal(f->d.nerrors, 0);
	expect_sessions(f->c, "m alpha");
	conf_free(old);
}

/*
 * A kept session whose key is now another session's old_key (which lets
 * a connection in alone, as a key does) refuses the reload too.
 */
static void
test_reload_old_key_clash(void **state)
{
	struct fixture *f = *state;
	struct conf *old;

	put(f, "main.conf",
	    "options = { include_dir = \"conf.d\"; private_key = \"d.key\"; "
	    "};\n"
	    "m = { key = \"a.key\"; };\n");
	put(f, "conf.d/a.conf", "alpha = { key = \"../b.key\"; };\n");
	put(f, "conf.d/b.conf", "beta = { key = \"../c.key\"; };\n");
	assert_non_null(load(f, NULL));
	expect_sessions(f->c, "m alpha beta");
	old = f->c;
	f->c = NULL;

	put(f, "conf.d/a.conf", "alpha = { key = \"../b.key\"; };\n"
	    "gamma = { peer_key = "
	    "\"AAECAwQFBgcICQoLDA0OD/Dx8vP09fb3+Pn6+/z9/v8=\";\n"
	    "  old_key = \"../c.key\"; };\n");
	put(f, "conf.d/b.conf", "beta = { key = \"../c.key\"; bogus = 1; };\n");
	assert_null(load(f, old));
	expect_error(f, "conf.d/b.conf: cannot keep its running session "
	    "\"beta\": it has the same key as session \"gamma\"");
	conf_free(old);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name_ok),
		cmocka_unit_test_setup_teardown(test_scan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_path, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_load_order_defaults, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_options_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_duplicates, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_broken_at_load, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_world_writable, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_old_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_broken_list, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_buffer_no_dir, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_reload_old_key_clash,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_reload_fallback, setup,
		    teardown),
	};

	return cmocka_run_group_tests_name("confdir", tests, NULL, NULL);
}
