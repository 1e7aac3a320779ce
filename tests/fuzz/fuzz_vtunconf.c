/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * `tapline import-vtund`: any text through vtunconf_parse, and every file
 * it accepts through vtunimport_write.  The importer promises that what it
 * writes passes `tapline -t`, so the output is loaded with the real config
 * loader (next to the key files `tapline import-vtund` would write) and
 * must be accepted, with as many sessions as it says it wrote;
 * writing twice must give the same bytes (the output is deterministic).
 * A refused file must say why.  Leaks are failures.
 */
#include "config.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "fuzz_common.h"
#include "key.h"
#include "vtunconf.h"
#include "vtunimport.h"

#define FUZZ_VTUNCONF_PATH "/nonexistent-tapline-fuzz/vtund.conf"

/*
 * The loaded output never has a syntax error, so libconfig 1.5's leak of
 * discarded string tokens (see fuzz_conf.c) should not occur; it is
 * suppressed the same way, by its scanner's allocation sites only, in
 * case an output the importer wrongly made does trigger it: the check
 * below then reports that output as refused anyway.
 */
const char *__lsan_default_suppressions(void);
const char *
__lsan_default_suppressions(void)
{
	return "leak:strbuf_append\nleak:libconfig_yylex\n";
}

/* The import of vc as text; NULL when out of memory. */
static char *
fuzz_vtunconf_write(const struct vtunconf *vc, size_t *len,
    struct vtunimport_result *res)
{
	struct vtunimport_opts opts = { .source = FUZZ_VTUNCONF_PATH };
	struct vtunconf_diag diag = { 0 };
	char *out = NULL;
	FILE *mem;
	int r;

	if ((mem = open_memstream(&out, len)) == NULL)
		return NULL;
	r = vtunimport_write(vc, &opts, mem, &diag, res);
	if (fclose(mem) != 0)
		r = -1;
	vtunconf_diag_free(&diag);
	if (r == -1) {
		free(out);
		return NULL;
	}
	return out;
}

/*
 * The directory the output is loaded from, holding SESSION.key for every
 * session name met so far (a new random key each: two sessions of one
 * file must not share one).
 */
static char fuzz_dir[] = "/tmp/fuzz_vtunconf.XXXXXX";

static void
fuzz_vtunconf_cleanup(void)
{
	char path[sizeof(fuzz_dir) + 300];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(fuzz_dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", fuzz_dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(fuzz_dir);
}

/* What import-vtund does before it checks its output: the key files. */
static void
fuzz_vtunconf_keys(const struct vtunimport_result *res)
{
	char path[sizeof(fuzz_dir) + 300], err[256];
	uint8_t key[KEY_LEN];
	size_t i;

	for (i = 0; i < res->nkeys; i++) {
		snprintf(path, sizeof(path), "%s/%s.key", fuzz_dir,
		    res->keys[i]);
		if (access(path, F_OK) == 0)
			continue;
		FUZZ_CHECK(key_generate(key, err, sizeof(err)) == 0);
		FUZZ_CHECK(key_write_file(path, key, err, sizeof(err)) == 0);
	}
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	if (mkdtemp(fuzz_dir) == NULL)
		abort();
	atexit(fuzz_vtunconf_cleanup);
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vtunconf_diag diag = { 0 };
	struct vtunimport_result res, res2;
	struct conf_diag cd;
	struct vtunconf *vc;
	struct conf *c;
	char err[512], *out, *again, path[sizeof(fuzz_dir) + 16];
	size_t len = 0, len2 = 0;

	err[0] = '\0';
	vc = vtunconf_parse(FUZZ_VTUNCONF_PATH, (const char *)data, size,
	    &diag, err, sizeof(err));
	vtunconf_diag_free(&diag);
	if (vc == NULL) {
		FUZZ_CHECK(err[0] != '\0');
		return 0;
	}
	out = fuzz_vtunconf_write(vc, &len, &res);
	FUZZ_CHECK(out != NULL);
	again = fuzz_vtunconf_write(vc, &len2, &res2);
	FUZZ_CHECK(again != NULL && len2 == len && memcmp(out, again, len) == 0);
	FUZZ_CHECK(res2.imported == res.imported &&
	    res2.skipped == res.skipped);
	fuzz_vtunconf_keys(&res);
	snprintf(path, sizeof(path), "%s/tapline.conf", fuzz_dir);
	c = conf_load_buffer(path, out, len, &cd);
	if (c == NULL && cd.nerrors > 0)
		fprintf(stderr, "fuzz_vtunconf: the import does not load: %s\n"
		    "--- output:\n%.*s\n", cd.errors[0], (int)len, out);
	FUZZ_CHECK(c != NULL);
	FUZZ_CHECK(c->nsessions == res.imported);
	conf_free(c);
	conf_diag_free(&cd);
	vtunimport_result_free(&res);
	vtunimport_result_free(&res2);
	free(again);
	free(out);
	vtunconf_free(vc);
	return 0;
}
