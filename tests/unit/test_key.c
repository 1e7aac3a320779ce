/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * key.c: base64 and hex round trips, every wrong length and shape, and key
 * files: created 0600, never overwritten, refused when group or others
 * have access, when missing, when not a regular file.  The tests run as
 * root, so "unreadable" is simulated by a missing file or a directory.
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

#include "key.h"
#include "util.h"

/* A fixed key and its two text forms. */
static const uint8_t k1[KEY_LEN] = {
	0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a,
	0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5,
	0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
};
static const char k1_b64[] = "AAECAwQFBgcICQoLDA0OD/Dx8vP09fb3+Pn6+/z9/v8=";
static const char k1_hex[] =
    "000102030405060708090a0b0c0d0e0ff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

struct dir {
	char path[64];
};

static int
setup_dir(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	if (d == NULL)
		return -1;
	strcpy(d->path, "/tmp/test_key.XXXXXX");
	if (mkdtemp(d->path) == NULL) {
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

static int
teardown_dir(void **state)
{
	struct dir *d = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->path);
	if (system(cmd) != 0)
		return -1;
	free(d);
	return 0;
}

/* Write text to dir/name with mode; returns the path in buf. */
static const char *
put_file(const struct dir *d, const char *name, const char *text, mode_t mode,
    char *buf, size_t len)
{
	int fd;

	snprintf(buf, len, "%s/%s", d->path, name);
	unlink(buf);
	fd = open(buf, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return buf;
}

static void
test_encode_known(void **state)
{
	char out[KEY_B64_LEN + 1];
	uint8_t k[KEY_LEN];
	char err[128];

	(void)state;
	key_encode(k1, out);
	assert_string_equal(out, k1_b64);
	assert_int_equal(strlen(out), KEY_B64_LEN);
	assert_int_equal(key_decode(k1_b64, strlen(k1_b64), k, err,
	    sizeof(err)), 0);
	assert_memory_equal(k, k1, KEY_LEN);
	assert_int_equal(key_decode(k1_hex, strlen(k1_hex), k, err,
	    sizeof(err)), 0);
	assert_memory_equal(k, k1, KEY_LEN);
}

static void
test_generate_round_trip(void **state)
{
	uint8_t a[KEY_LEN], b[KEY_LEN], c[KEY_LEN];
	char out[KEY_B64_LEN + 1], err[128];
	int i;

	(void)state;
	for (i = 0; i < 100; i++) {
		assert_int_equal(key_generate(a, err, sizeof(err)), 0);
		key_encode(a, out);
		assert_int_equal(key_decode(out, strlen(out), b, err,
		    sizeof(err)), 0);
		assert_memory_equal(a, b, KEY_LEN);
	}
	/* Two draws differ (2^-256 chance of a false failure). */
	assert_int_equal(key_generate(c, err, sizeof(err)), 0);
	assert_memory_not_equal(a, c, KEY_LEN);
}

struct decode_case {
	const char *text;
	const char *err; /* NULL: decodes to k1 */
};

static const struct decode_case decode_cases[] = {
	/* Surrounding whitespace is ignored. */
	{ "AAECAwQFBgcICQoLDA0OD/Dx8vP09fb3+Pn6+/z9/v8=\n", NULL },
	{ "  \tAAECAwQFBgcICQoLDA0OD/Dx8vP09fb3+Pn6+/z9/v8=\r\n\n", NULL },
	{ "000102030405060708090A0B0C0D0E0FF0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF",
	    NULL },
	{ "\n000102030405060708090a0b0c0d0e0ff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff "
	  "\n", NULL },
	/* Whitespace inside is not. */
	{ "AAECAwQFBgcICQoLDA0O D/Dx8vP09fb3+Pn6+/z9/v8=", "whitespace" },
	{ "AAECAwQFBgcICQoLDA0OD/Dx8vP0\n9fb3+Pn6+/z9/v8=", "whitespace" },
	{ "", "is empty" },
	{ " \n\t ", "is empty" },
	/* Wrong lengths, in base64 and hex. */
	{ "AAECAwQFBgcICQoLDA0OD/Dx8vP09fb3+Pn6+/z9/v8A", "decodes to 33" },
	{ "AAECAwQFBgcICQoLDA0OD/Dx8vP09fb3+Pn6+/z9/g==", "decodes to 31" },
	{ "AAECAwQFBgcICQoLDA0OD/Dx8vP09fb3+Pn6+/z9/v8AAA==",
	    "decodes to 34" },
	{ "AAECAwQFBgcICQoLDA0OD/Dx8vP09fb3+Pn6+/z9/v8", "not valid base64" },
	{ "AAECAwQF", "decodes to 6 bytes, need 32" },
	{ "000102030405060708090a0b0c0d0e0ff0f1f2f3f4f5f6f7f8f9fafbfcfdfe",
	    "decodes to 31 bytes, need 32" },
	{ "000102030405060708090a0b0c0d0e0ff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff00",
	    "decodes to 33 bytes, need 32" },
	{ "000102030405060708090a0b0c0d0e0ff0f1f2f3f4f5f6f7f8f9fafbfcfdfef",
	    "odd number of hex digits" },
	/* Neither alphabet. */
	{ "AAECAwQFBgcICQoLDA0OD/Dx8vP09fb3+Pn6+/z9/v8!", "neither base64" },
	{ "AAECAwQFBgcI=QoLDA0OD/Dx8vP09fb3+Pn6+/z9/v8=", "neither base64" },
	{ "AAECAwQFBgcICQoLDA0OD/Dx8vP09fb3+Pn6+/z9/v8===",
	    "not valid base64" },
	{ "correct horse battery staple", "whitespace" },
	{ "\xc3\xa9", "neither base64" },
};

static void
test_decode_table(void **state)
{
	uint8_t k[KEY_LEN];
	char err[128];
	size_t i;
	int r;

	(void)state;
	for (i = 0; i < UTIL_ARRAY_LEN(decode_cases); i++) {
		const struct decode_case *c = &decode_cases[i];

		err[0] = '\0';
		memset(k, 0xaa, sizeof(k));
		r = key_decode(c->text, strlen(c->text), k, err, sizeof(err));
		if (c->err == NULL) {
			if (r != 0)
				fail_msg("case %zu: %s", i, err);
			assert_memory_equal(k, k1, KEY_LEN);
		} else {
			if (r != -1)
				fail_msg("case %zu: accepted", i);
			if (strstr(err, c->err) == NULL)
				fail_msg("case %zu: error <%s>, want <%s>", i,
				    err, c->err);
		}
	}
}

static void
test_decode_not_terminated(void **state)
{
	char buf[sizeof(k1_b64) + 8];
	uint8_t k[KEY_LEN];
	char err[128];

	(void)state;
	/* Only len bytes are read: what follows must not matter. */
	memcpy(buf, k1_b64, KEY_B64_LEN);
	memcpy(buf + KEY_B64_LEN, "garbage", 8);
	assert_int_equal(key_decode(buf, KEY_B64_LEN, k, err, sizeof(err)), 0);
	assert_memory_equal(k, k1, KEY_LEN);
}

static void
test_write_read_file(void **state)
{
	struct dir *d = *state;
	char path[128], err[128], text[128];
	uint8_t k[KEY_LEN], back[KEY_LEN];
	struct stat st;
	mode_t old;
	FILE *f;

	snprintf(path, sizeof(path), "%s/new.key", d->path);
	assert_int_equal(key_generate(k, err, sizeof(err)), 0);
	/* A lax umask must not make the file readable by others. */
	old = umask(0);
	assert_int_equal(key_write_file(path, k, err, sizeof(err)), 0);
	umask(old);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	/* One line: base64 and a newline. */
	assert_int_equal(st.st_size, KEY_B64_LEN + 1);
	f = fopen(path, "r");
	assert_non_null(f);
	assert_non_null(fgets(text, sizeof(text), f));
	fclose(f);
	assert_int_equal(strlen(text), KEY_B64_LEN + 1);
	assert_int_equal(text[KEY_B64_LEN], '\n');

	assert_int_equal(key_read_file(path, back, err, sizeof(err)), 0);
	assert_memory_equal(k, back, KEY_LEN);

	/* Never overwrite: the old key may be the only copy. */
	assert_int_equal(key_write_file(path, k1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "already exists; refusing to overwrite"));
	assert_int_equal(key_read_file(path, back, err, sizeof(err)), 0);
	assert_memory_equal(k, back, KEY_LEN);
}

static void
test_write_errors(void **state)
{
	struct dir *d = *state;
	char path[128], target[128], err[128];

	/* A symlink at the path is refused, even a dangling one. */
	snprintf(target, sizeof(target), "%s/target", d->path);
	snprintf(path, sizeof(path), "%s/link.key", d->path);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(key_write_file(path, k1, err, sizeof(err)), -1);
	assert_int_equal(access(target, F_OK), -1);

	/* A missing directory gives the reason. */
	snprintf(path, sizeof(path), "%s/nodir/x.key", d->path);
	assert_int_equal(key_write_file(path, k1, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot create: No such file"));
}

/*
 * A key written for another user is that user's from birth, mode 0600;
 * root refuses to read a key of a user that is neither root nor the
 * service user (an unprivileged run cannot chown: skipped).
 */
static void
test_write_owned(void **state)
{
	struct dir *d = *state;
	char path[128], err[160];
	uint8_t back[KEY_LEN];
	struct stat st;
	uid_t svc_uid;
	gid_t svc_gid;
	const uid_t other = 65533;

	if (geteuid() != 0)
		skip();
	snprintf(path, sizeof(path), "%s/owned.key", d->path);
	assert_int_equal(key_write_file_owned(path, k1, other, other, err,
	    sizeof(err)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_uid, other);
	assert_int_equal(st.st_gid, other);
	assert_int_equal(st.st_mode & 07777, 0600);
	if (key_service_owner(&svc_uid, &svc_gid) && svc_uid == other)
		skip();
	assert_int_equal(key_read_file(path, back, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is owned by uid 65533"));
}

struct perm_case {
	mode_t mode;
	const char *err; /* NULL: accepted */
};

static const struct perm_case perm_cases[] = {
	{ 0600, NULL },
	{ 0400, NULL },
	{ 0700, NULL },
	{ 0640, "is readable by group or others (chmod 600 it)" },
	{ 0604, "is readable by group or others (chmod 600 it)" },
	{ 0644, "is readable by group or others (chmod 600 it)" },
	{ 0620, "gives group or others access (mode 0620; chmod 600 it)" },
	{ 0602, "gives group or others access" },
	{ 0610, "gives group or others access" },
	{ 0601, "gives group or others access" },
};

static void
test_read_permissions(void **state)
{
	struct dir *d = *state;
	char path[128], err[128];
	uint8_t k[KEY_LEN];
	size_t i;
	int r;

	for (i = 0; i < UTIL_ARRAY_LEN(perm_cases); i++) {
		const struct perm_case *c = &perm_cases[i];

		put_file(d, "perm.key", k1_b64, c->mode, path, sizeof(path));
		err[0] = '\0';
		r = key_read_file(path, k, err, sizeof(err));
		if (c->err == NULL) {
			if (r != 0)
				fail_msg("mode %04o: %s", c->mode, err);
			assert_memory_equal(k, k1, KEY_LEN);
		} else if (r != -1 || strstr(err, c->err) == NULL)
			fail_msg("mode %04o: r=%d err <%s>", c->mode, r, err);
	}
}

static void
test_read_errors(void **state)
{
	struct dir *d = *state;
	char path[128], target[128], err[128], big[5000];
	uint8_t k[KEY_LEN];

	/* Missing. */
	snprintf(path, sizeof(path), "%s/missing.key", d->path);
	assert_int_equal(key_read_file(path, k, err, sizeof(err)), -1);
	assert_string_equal(err, "cannot open: No such file or directory");

	/* A directory (what root cannot be kept out of otherwise). */
	assert_int_equal(key_read_file(d->path, k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is a directory"));

	/* Not a regular file. */
	assert_int_equal(key_read_file("/dev/null", k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));
	snprintf(path, sizeof(path), "%s/fifo", d->path);
	assert_int_equal(mkfifo(path, 0600), 0);
	/* O_NONBLOCK: a FIFO without a writer must not hang us. */
	assert_int_equal(key_read_file(path, k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "not a regular file"));

	/* Wrong content. */
	put_file(d, "short.key",
	    "000102030405060708090a0b0c0d0e0ff0f1f2f3f4f5f6f7f8f9fafbfcfdfe\n",
	    0600, path, sizeof(path));
	assert_int_equal(key_read_file(path, k, err, sizeof(err)), -1);
	assert_string_equal(err, "decodes to 31 bytes, need 32");
	put_file(d, "empty.key", "", 0600, path, sizeof(path));
	assert_int_equal(key_read_file(path, k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "is empty"));
	memset(big, 'A', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	put_file(d, "big.key", big, 0600, path, sizeof(path));
	assert_int_equal(key_read_file(path, k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "larger than 4096 bytes"));

	/*
	 * A symlink is followed, and the checks apply to the file it
	 * reaches: a 0600 target is fine, a 0644 target is not.
	 */
	put_file(d, "real.key", k1_hex, 0600, target, sizeof(target));
	snprintf(path, sizeof(path), "%s/sym.key", d->path);
	assert_int_equal(symlink(target, path), 0);
	assert_int_equal(key_read_file(path, k, err, sizeof(err)), 0);
	assert_memory_equal(k, k1, KEY_LEN);
	assert_int_equal(chmod(target, 0644), 0);
	assert_int_equal(key_read_file(path, k, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "readable by group or others"));

	/*
	 * Whoever owns the file can change the key: only root or the
	 * running user may.  Giving the file away needs root.
	 */
	put_file(d, "owned.key", k1_b64, 0600, path, sizeof(path));
	if (geteuid() == 0) {
		assert_int_equal(chown(path, 65534, 65534), 0);
		assert_int_equal(key_read_file(path, k, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "is owned by uid 65534"));
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_known),
		cmocka_unit_test(test_generate_round_trip),
		cmocka_unit_test(test_decode_table),
		cmocka_unit_test(test_decode_not_terminated),
		cmocka_unit_test_setup_teardown(test_write_read_file,
		    setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_write_owned, setup_dir,
		    teardown_dir),
		cmocka_unit_test_setup_teardown(test_write_errors, setup_dir,
		    teardown_dir),
		cmocka_unit_test_setup_teardown(test_read_permissions,
		    setup_dir, teardown_dir),
		cmocka_unit_test_setup_teardown(test_read_errors, setup_dir,
		    teardown_dir),
	};

	return cmocka_run_group_tests_name("key", tests, NULL, NULL);
}
