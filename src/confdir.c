/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The disk side of the configuration: read a file into memory that can
 * be wiped, and for one file per tunnel (tapline.conf(5), include_dir)
 * list the files to read in a fixed order and choose a client's file.
 * What a file may hold, and what happens when one does not load, is
 * conf.c's business.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "conf.h"
#include "confdir.h"
#include "util.h"

#define CONFDIR_SUFFIX ".conf"

/*
 * Read it ourselves: libconfig reports I/O errors without errno, and its
 * own reading would leave us no copy to wipe.
 */
int
confdir_read(const char *path, char **bufp, size_t *lenp, struct stat *st,
    char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd, rc = -1;

	*bufp = NULL;
	*lenp = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd == -1)
		return util_err(err, errlen, "cannot open: %s",
		    strerror(errno));
	if (fstat(fd, st) == -1) {
		util_err(err, errlen, "cannot stat: %s", strerror(errno));
		goto out;
	}
	if (S_ISDIR(st->st_mode)) {
		util_err(err, errlen, "is a directory");
		goto out;
	}
	/*
	 * Whoever can change the file can run commands as the daemon, with
	 * CAP_NET_ADMIN (up/down): a file anyone may write is refused, as
	 * sshd refuses one (chmod o-w).
	 */
	if ((st->st_mode & S_IWOTH) != 0) {
		util_err(err, errlen, "is writable by anyone (mode %04o); "
		    "whoever can change it can run commands as the daemon: "
		    "chmod o-w it", (unsigned)(st->st_mode & 07777));
		goto out;
	}
	for (;;) {
		ssize_t n;

		if (len == cap) {
			char *nb;

			/* Full with one byte more than allowed. */
			if (cap >= CONFDIR_FILE_MAX + 1) {
				util_err(err, errlen, "is larger than %d bytes",
				    CONFDIR_FILE_MAX);
				goto out;
			}
			cap = cap ? cap * 2 : 8192;
			if (cap > CONFDIR_FILE_MAX + 1)
				cap = CONFDIR_FILE_MAX + 1;
			nb = malloc(cap);
			if (nb == NULL) {
				util_err(err, errlen, "out of memory");
				goto out;
			}
			/* Copy by hand so the old buffer can be wiped. */
			if (buf != NULL) {
				memcpy(nb, buf, len);
				OPENSSL_cleanse(buf, len);
				free(buf);
			}
			buf = nb;
		}
		n = read(fd, buf + len, cap - len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			util_err(err, errlen, "cannot read: %s",
			    strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	rc = 0;
out:
	close(fd);
	*bufp = buf;
	*lenp = len;
	return rc;
}

bool
confdir_name_ok(const char *name)
{
	size_t n = strlen(name), s = strlen(CONFDIR_SUFFIX);

	/* Hidden files are editors' locks and swap files, or disabled. */
	if (name[0] == '.' || n <= s)
		return false;
	return strcmp(name + n - s, CONFDIR_SUFFIX) == 0;
}

void
confdir_free(char **paths, size_t npaths)
{
	size_t i;

	for (i = 0; i < npaths; i++)
		free(paths[i]);
	free(paths);
}

/* qsort on strcmp: byte order, so the order does not follow a locale. */
static int
confdir_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Keep dir/name if it is a regular file, or cannot be stat'ed. */
static int
confdir_add(const char *dir, const char *name, char ***v, size_t *n,
    size_t *cap)
{
	struct stat st;
	char *path;

	if (asprintf(&path, "%s/%s", dir, name) == -1)
		return -1;
	/* A directory or a socket named x.conf is not a config file. */
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		free(path);
		return 0;
	}
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		char **nv = realloc(*v, ncap * sizeof(*nv));

		if (nv == NULL) {
			free(path);
			return -1;
		}
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = path;
	return 0;
}

int
confdir_scan(const char *dir, char ***paths, size_t *npaths, char *err,
    size_t errlen)
{
	struct dirent *de;
	struct stat st;
	char **v = NULL;
	size_t n = 0, cap = 0;
	DIR *d;

	*paths = NULL;
	*npaths = 0;
	if ((d = opendir(dir)) == NULL) {
		/* As empty: a package may ship the setting before the
		 * directory, and no file means no session from it. */
		if (errno == ENOENT)
			return 0;
		return util_err(err, errlen, "cannot read the directory %s: "
		    "%s", dir, strerror(errno));
	}
	/* Anyone could add a file of sessions and up commands to it. */
	if (fstat(dirfd(d), &st) == 0 && (st.st_mode & S_IWOTH) != 0) {
		closedir(d);
		return util_err(err, errlen, "the directory %s is writable by "
		    "anyone (mode %04o); whoever can add a file to it can run "
		    "commands as the daemon: chmod o-w it", dir,
		    (unsigned)(st.st_mode & 07777));
	}
	for (;;) {
		errno = 0;
		/* cppcheck-suppress readdirCalled ; one thread, and glibc
		 * deprecates readdir_r */
		if ((de = readdir(d)) == NULL)
			break;
		if (!confdir_name_ok(de->d_name))
			continue;
		if (confdir_add(dir, de->d_name, &v, &n, &cap) == -1) {
			closedir(d);
			confdir_free(v, n);
			return util_err(err, errlen, "out of memory");
		}
	}
	if (errno != 0) {
		util_err(err, errlen, "cannot read the directory %s: %s", dir,
		    strerror(errno));
		closedir(d);
		confdir_free(v, n);
		return -1;
	}
	closedir(d);
	if (n > 1)
		qsort(v, n, sizeof(*v), confdir_cmp);
	*paths = v;
	*npaths = n;
	return 0;
}

int
confdir_client_path(const char *etcdir, const char *session, char *buf,
    size_t len)
{
	struct stat st;
	int r;

	/* The name becomes a path: only a session name may. */
	if (session != NULL && conf_name_valid(session)) {
		r = snprintf(buf, len, "%s/%s.conf", etcdir, session);
		if (r < 0 || (size_t)r >= len)
			return -1;
		if (stat(buf, &st) == 0)
			return 0;
	}
	r = snprintf(buf, len, "%s/tapline.conf", etcdir);
	return r < 0 || (size_t)r >= len ? -1 : 0;
}
