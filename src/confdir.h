/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Configuration files on the disk: reading one, which files
 * options.include_dir contributes, and which file a client started as
 * `tapline NAME` reads.  File system only; conf.c parses what these read.
 */
#ifndef TAPLINE_CONFDIR_H
#define TAPLINE_CONFDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

/* A config file is text written by hand; a megabyte is plenty. */
#define CONFDIR_FILE_MAX (1024 * 1024)

/*
 * Read the whole file at path into *buf (*len bytes, not terminated) and
 * its stat into *st.  Not only regular files: -f /dev/stdin is handy for
 * checks; a directory or a file over CONFDIR_FILE_MAX bytes is refused.
 * Returns 0, or -1 with err saying why ("cannot open: ...").  *buf may
 * hold a passphrase: the caller wipes it (OPENSSL_cleanse) and frees it,
 * also on failure.
 */
int confdir_read(const char *path, char **buf, size_t *len, struct stat *st,
    char *err, size_t errlen);

/*
 * Is name a file that include_dir reads: "*.conf", not hidden?  Editors'
 * and package managers' leftovers ("x.conf~", "x.conf.dpkg-old",
 * ".#x.conf", ".x.conf.swp") are not.
 */
bool confdir_name_ok(const char *name);

/*
 * The files of dir that confdir_name_ok accepts and that are regular
 * files (or cannot be stat'ed, so that a dangling link is reported when
 * it is read), as "dir/name", sorted by name in byte order (the C
 * locale's, whatever the daemon's locale is).  A directory that does
 * not exist holds no files.  Returns 0, or -1 with err set; the caller
 * frees the list with confdir_free.
 */
int confdir_scan(const char *dir, char ***paths, size_t *npaths, char *err,
    size_t errlen);
void confdir_free(char **paths, size_t npaths);

/*
 * The file `tapline SESSION` reads without -f: etcdir/SESSION.conf when
 * it exists (tapline@SESSION's own file, as wg-quick and openvpn-client@
 * read theirs), else etcdir/tapline.conf.  A name that is not a valid
 * session name never selects a file of its own.  Returns 0, or -1 if the
 * path does not fit in buf.
 */
int confdir_client_path(const char *etcdir, const char *session, char *buf,
    size_t len);

#endif
