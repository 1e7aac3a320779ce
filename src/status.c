/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "control.h"
#include "ctlsock.h"
#include "metrics.h"
#include "status.h"
#include "util.h"

/* --- Finding the daemons ----------------------------------------------- */

/* [A-Za-z][A-Za-z0-9_-]{0,63}: a session name, as the config allows. */
static bool
status_name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > CONF_NAME_MAX ||
	    !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z')))
		return false;
	for (i = 1; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		    s[i] == '-'))
			return false;
	return true;
}

static int
status_daemon_cmp(const void *a, const void *b)
{
	return strcmp(((const struct status_daemon *)a)->session,
	    ((const struct status_daemon *)b)->session);
}

static bool
status_is_socket(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

struct status_daemon *
status_find(const char *base, size_t *n)
{
	struct status_daemon *d = NULL, *nd;
	char dir[PATH_MAX], path[PATH_MAX], stem[PATH_MAX];
	const char *file, *slash, *suffix;
	size_t blen = strlen(base), slen, sfx, flen, cap = 0, first;
	struct dirent *de;
	DIR *dh;

	*n = 0;
	/* The client sockets are "STEM-NAME.sock" (control_client_path). */
	suffix = blen > 5 && strcmp(base + blen - 5, ".sock") == 0 ?
	    ".sock" : "";
	sfx = strlen(suffix);
	slash = strrchr(base, '/');
	file = slash != NULL ? slash + 1 : base;
	snprintf(dir, sizeof(dir), "%.*s", slash == NULL ? 1 :
	    slash == base ? 1 : (int)(slash - base), slash == NULL ? "." :
	    base);
	snprintf(stem, sizeof(stem), "%.*s-", (int)(strlen(file) - sfx),
	    file);
	slen = strlen(stem);
	/* The server's first; its socket may be all there is. */
	if (status_is_socket(base) && (d = calloc(1, sizeof(*d))) != NULL) {
		util_strlcpy(d->path, base, sizeof(d->path));
		cap = *n = 1;
	}
	if ((dh = opendir(dir)) == NULL)
		return d;
	first = *n;
	/* cppcheck-suppress readdirCalled ; one thread, one directory */
	while ((de = readdir(dh)) != NULL) {
		flen = strlen(de->d_name);
		if (flen <= slen + sfx ||
		    strncmp(de->d_name, stem, slen) != 0 ||
		    strcmp(de->d_name + flen - sfx, suffix) != 0 ||
		    !status_name_ok(de->d_name + slen, flen - slen - sfx))
			continue;
		if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >=
		    (int)sizeof(((struct status_daemon *)0)->path) ||
		    !status_is_socket(path))
			continue;
		if (*n == cap) {
			cap = cap == 0 ? 8 : cap * 2;
			if ((nd = reallocarray(d, cap, sizeof(*d))) == NULL)
				break;
			d = nd;
		}
		memset(&d[*n], 0, sizeof(d[*n]));
		util_strlcpy(d[*n].path, path, sizeof(d[*n].path));
		snprintf(d[*n].session, sizeof(d[*n].session), "%.*s",
		    (int)(flen - slen - sfx), de->d_name + slen);
		(*n)++;
	}
	closedir(dh);
	if (*n > first)
		qsort(d + first, *n - first, sizeof(*d), status_daemon_cmp);
	return d;
}

/* "server" or "client cobra", for headers and the --check line. */
static void
status_daemon_label(const struct status_daemon *d, char *buf, size_t len)
{
	if (d->session[0] == '\0')
		snprintf(buf, len, "server");
	else
		snprintf(buf, len, "client %s", d->session);
}

/* --- The --check tally ------------------------------------------------- */

static struct status_entry *
status_tally_entry(struct status_tally *t, const char *role, const char *name)
{
	struct status_entry *n;
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->e[i].role, role) == 0 &&
		    strcmp(t->e[i].name, name) == 0 && name[0] != '\0')
			return &t->e[i];
	if ((n = reallocarray(t->e, t->n + 1, sizeof(*n))) == NULL) {
		t->oom = true;
		return NULL;
	}
	t->e = n;
	n = &n[t->n++];
	memset(n, 0, sizeof(*n));
	util_strlcpy(n->role, role, sizeof(n->role));
	util_strlcpy(n->name, name, sizeof(n->name));
	return n;
}

void
status_tally_add(struct status_tally *t, const char *role,
    const char *answer)
{
	char line[512], *name, *state, *why, *save = NULL;
	struct status_entry *e;
	const char *p, *end;
	size_t len;

	for (p = answer; *p != '\0'; p = *end == '\n' ? end + 1 : end) {
		end = p + strcspn(p, "\n");
		len = (size_t)(end - p);
		if (len == 0)
			continue;
		snprintf(line, sizeof(line), "%.*s", (int)len, p);
		name = strtok_r(line, " ", &save);
		state = strtok_r(NULL, " ", &save);
		why = strtok_r(NULL, "", &save);
		if (name == NULL || state == NULL ||
		    (e = status_tally_entry(t, role, name)) == NULL)
			continue;
		if (strcmp(state, "up") == 0) {
			e->up = true;
			e->why[0] = '\0';
		} else if (!e->up) {
			snprintf(e->why, sizeof(e->why), "%s%s%s", state,
			    why != NULL ? ": " : "", why != NULL ? why : "");
		}
	}
}

void
status_tally_fail(struct status_tally *t, const char *what)
{
	struct status_entry *e = status_tally_entry(t, what, "");

	if (e != NULL)
		util_strlcpy(e->why, "not answering", sizeof(e->why));
}

int
status_tally_line(const struct status_tally *t, char *buf, size_t len)
{
	size_t i, up = 0, at;
	const char *sep = ": ";

	for (i = 0; i < t->n; i++)
		if (t->e[i].up)
			up++;
	if (t->oom) {
		snprintf(buf, len, "tapline UNKNOWN: out of memory");
		return 1;
	}
	if (t->n == 0) {
		snprintf(buf, len, "tapline CRITICAL: no tapline daemon "
		    "answers");
		return STATUS_EXIT_NOT_UP;
	}
	if (up == t->n) {
		snprintf(buf, len, "tapline OK: %zu of %zu session%s up", up,
		    t->n, t->n == 1 ? "" : "s");
		return 0;
	}
	snprintf(buf, len, "tapline CRITICAL: %zu of %zu session%s not up",
	    t->n - up, t->n, t->n == 1 ? "" : "s");
	for (i = 0; i < t->n; i++) {
		if (t->e[i].up)
			continue;
		at = strlen(buf);
		if (t->e[i].name[0] == '\0')
			snprintf(buf + at, len - at, "%s%s: %s", sep,
			    t->e[i].role, t->e[i].why);
		else
			snprintf(buf + at, len - at, "%s%s (%s, %s)", sep,
			    t->e[i].name, t->e[i].role, t->e[i].why);
		sep = "; ";
	}
	return STATUS_EXIT_NOT_UP;
}

void
status_tally_free(struct status_tally *t)
{
	free(t->e);
	memset(t, 0, sizeof(*t));
}

/* --- tapline status ---------------------------------------------------- */

static enum control_format
status_format(const struct cli *c)
{
	int f;

	if (c->status_check)
		return CONTROL_STATES;
	if (c->format == NULL || (f = control_format_parse(c->format)) < 0)
		return CONTROL_TEXT;
	return (enum control_format)f;
}

/* options.control of the config, or its default when it cannot be read. */
static void
status_base(const struct cli *c, char *base, size_t len)
{
	struct conf_diag diag = { 0 };
	struct conf *conf;

	/* Status should work even when the file is broken. */
	conf = conf_load(c->config, &diag);
	util_strlcpy(base, conf != NULL ? conf->options.control :
	    CONF_DEFAULT_CONTROL, len);
	conf_free(conf);
	conf_diag_free(&diag);
}

/* SESSION's daemon: its own client socket, else the server's. */
static void
status_session_path(const char *base, const char *session, char *path,
    size_t len)
{
	control_client_path(base, session, path, len);
	if (!status_is_socket(path))
		util_strlcpy(path, base, len);
}

/* A JSON string of what we made ourselves (paths, errors): escaped. */
static void
status_json_str(FILE *out, const char *s)
{
	const unsigned char *p;

	fputc('"', out);
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p == '"' || *p == '\\')
			fprintf(out, "\\%c", *p);
		else if (*p < 0x20 || *p > 0x7e)
			fprintf(out, "\\u%04x", *p);
		else
			fputc(*p, out);
	fputc('"', out);
}

/* Why a daemon did not answer, in words for the listing. */
static void
status_why(int e, const char *err, char *buf, size_t len)
{
	if (e == ECONNREFUSED || e == ENOENT)
		snprintf(buf, len, "not running (stale socket: %s)",
		    strerror(e));
	else
		util_strlcpy(buf, err, len);
}

/* `tapline status SESSION`: the one daemon that has it. */
static int
status_one(const struct cli *c, const char *base)
{
	enum control_format f = status_format(c);
	struct status_tally t = { 0 };
	char path[PATH_MAX], err[512], line[2048], *ans;
	size_t len = 0;
	int e, rc;
	bool client;

	status_session_path(base, c->session, path, sizeof(path));
	client = strcmp(path, base) != 0;
	ans = ctlsock_ask(path, c->session, f, &len, &e, err, sizeof(err));
	if (c->status_check) {
		if (ans != NULL)
			status_tally_add(&t, client ? "client" : "server",
			    ans);
		else
			status_tally_fail(&t, err);
		rc = status_tally_line(&t, line, sizeof(line));
		printf("%s\n", line);
		status_tally_free(&t);
		free(ans);
		return fflush(stdout) == 0 ? rc : 1;
	}
	if (ans == NULL) {
		fprintf(stderr, "tapline: status: %s\n", err);
		return 1;
	}
	rc = ctlsock_print(stdout, ans, len) == 0 ? 0 : 1;
	free(ans);
	return rc;
}

/*
 * `tapline status` alone: every daemon of the host.  Text: a header
 * and the report of each; JSON: one object listing each daemon's own
 * (tapline(8) gives the schema); metrics: one exposition of all.
 */
static int
status_all(const struct cli *c, const char *base)
{
	enum control_format f = status_format(c);
	struct status_tally t = { 0 };
	struct status_daemon *d;
	char err[512], why[600], label[96], line[4096], **texts = NULL;
	char *ans, *merged;
	size_t n, i, len, ntexts = 0, answered = 0;
	int e, rc = 0;

	d = status_find(base, &n);
	if (n == 0 && !c->status_check) {
		fprintf(stderr, "tapline: status: no daemon: no socket at "
		    "%s or next to it (is tapline running?)\n", base);
		return 1;
	}
	if (f == CONTROL_JSON)
		printf("{\"version\":2,\"daemons\":[");
	if ((f == CONTROL_OPENMETRICS || f == CONTROL_PROMETHEUS) &&
	    (texts = calloc(n > 0 ? n : 1, sizeof(*texts))) == NULL) {
		free(d);
		return 1;
	}
	for (i = 0; i < n; i++) {
		status_daemon_label(&d[i], label, sizeof(label));
		len = 0;
		ans = ctlsock_ask(d[i].path, NULL, f, &len, &e, err,
		    sizeof(err));
		if (ans == NULL)
			status_why(e, err, why, sizeof(why));
		else
			answered++;
		switch (f) {
		case CONTROL_STATES:
			if (ans != NULL)
				status_tally_add(&t, label, ans);
			else
				status_tally_fail(&t, label);
			break;
		case CONTROL_JSON:
			printf("%s{\"socket\":", i > 0 ? "," : "");
			status_json_str(stdout, d[i].path);
			printf(",\"role\":\"%s\",\"session\":",
			    d[i].session[0] == '\0' ? "server" : "client");
			if (d[i].session[0] == '\0')
				printf("null");
			else
				status_json_str(stdout, d[i].session);
			printf(",\"error\":");
			if (ans == NULL)
				status_json_str(stdout, why);
			else
				printf("null");
			printf(",\"status\":");
			/* The daemon's own object; its newline dropped. */
			if (ans == NULL) {
				printf("null}");
			} else {
				while (len > 0 && ans[len - 1] == '\n')
					len--;
				rc |= ctlsock_print(stdout, ans, len);
				printf("}");
			}
			break;
		case CONTROL_OPENMETRICS:
		case CONTROL_PROMETHEUS:
			if (ans != NULL) {
				texts[ntexts++] = ans;
				ans = NULL;
			} else {
				fprintf(stderr, "tapline: status: %s (%s): "
				    "%s\n", label, d[i].path, why);
			}
			break;
		default:
			printf("%s== %s (%s)%s%s\n", i > 0 ? "\n" : "", label,
			    d[i].path, ans == NULL ? ": " : "",
			    ans == NULL ? why : "");
			if (ans != NULL)
				rc |= ctlsock_print(stdout, ans, len);
			break;
		}
		free(ans);
	}
	free(d);
	if (f == CONTROL_JSON)
		printf("]}\n");
	if (f == CONTROL_OPENMETRICS || f == CONTROL_PROMETHEUS) {
		merged = metrics_merge(texts, ntexts,
		    f == CONTROL_OPENMETRICS);
		if (merged == NULL || fputs(merged, stdout) == EOF)
			rc = 1;
		free(merged);
		for (i = 0; i < ntexts; i++)
			free(texts[i]);
		free(texts);
	}
	if (f == CONTROL_STATES) {
		rc = status_tally_line(&t, line, sizeof(line));
		printf("%s\n", line);
		status_tally_free(&t);
	} else if (answered == 0) {
		rc = 1;
	}
	if (fflush(stdout) != 0)
		rc = 1;
	return rc;
}

int
status_run(const struct cli *c)
{
	char base[PATH_MAX];

	status_base(c, base, sizeof(base));
	return c->session != NULL ? status_one(c, base) : status_all(c, base);
}

/* --- tapline wait ------------------------------------------------------ */

int
status_wait(const struct cli *c)
{
	uint64_t end = util_now_ms() + (uint64_t)c->timeout_s * 1000, now;
	char base[PATH_MAX], path[PATH_MAX], err[512], last[600] = "";
	struct status_tally t;
	size_t len;
	char *ans;
	int e;

	status_base(c, base, sizeof(base));
	for (;;) {
		/* Asked afresh each time: the daemon may start meanwhile. */
		status_session_path(base, c->session, path, sizeof(path));
		memset(&t, 0, sizeof(t));
		ans = ctlsock_ask(path, c->session, CONTROL_STATES, &len, &e,
		    err, sizeof(err));
		if (ans != NULL) {
			status_tally_add(&t, "", ans);
			free(ans);
			if (t.n > 0 && t.e[0].up) {
				status_tally_free(&t);
				if (c->verbosity > 0)
					fprintf(stderr, "tapline: wait: %s is "
					    "up\n", c->session);
				return 0;
			}
			if (t.n > 0)
				util_strlcpy(last, t.e[0].why, sizeof(last));
		} else {
			util_strlcpy(last, err, sizeof(last));
		}
		status_tally_free(&t);
		now = util_now_ms();
		if (now >= end)
			break;
		(void)poll(NULL, 0, (int)(end - now < STATUS_WAIT_POLL_MS ?
		    end - now : STATUS_WAIT_POLL_MS));
	}
	fprintf(stderr, "tapline: wait: %s is not up after %d s (%s)\n",
	    c->session, c->timeout_s, last);
	return 1;
}
