/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tapline: command line and mode dispatch.  Everything else, the daemon
 * process's setup too (proc.c), lives in the internal library so that
 * tests can reach it.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <zlib.h>

#include "cli.h"
#include "client.h"
#include "conf.h"
#include "confdir.h"
#include "control.h"
#include "ctlsock.h"
#include "key.h"
#include "keypair.h"
#include "log.h"
#include "priv.h"
#include "proc.h"
#include "server.h"
#include "status.h"
#include "util.h"
#include "vtunconf.h"
#include "vtunimport.h"

#define EXIT_USAGE 2

/* Print config diagnostics, warnings first, as the loader wrote them. */
static void
main_print_diag(const struct conf_diag *d)
{
	size_t i;

	for (i = 0; i < d->nwarnings; i++)
		fprintf(stderr, "warning: %s\n", d->warnings[i]);
	for (i = 0; i < d->nerrors; i++)
		fprintf(stderr, "error: %s\n", d->errors[i]);
}

/* Load the config or explain why not; NULL means exit 2. */
static struct conf *
main_load_conf(const struct cli *c)
{
	struct conf_diag diag = { 0 };
	struct conf *conf;

	size_t i;

	conf = conf_load(c->config, &diag);
	main_print_diag(&diag);
	if (conf == NULL)
		fprintf(stderr, "tapline: %s: %zu error%s, nothing started\n",
		    c->config, diag.nerrors, diag.nerrors == 1 ? "" : "s");
	/*
	 * A file of include_dir with an error does not stop the others'
	 * sessions: one typo must not stop every tunnel (tapline.conf(5)).
	 */
	for (i = 0; conf != NULL && i < conf->nbroken; i++)
		fprintf(stderr, "tapline: %s: not loaded%s\n", conf->broken[i],
		    c->mode == CLI_CHECK ? "" : "; its sessions do not start, "
		    "the other files' do");
	conf_diag_free(&diag);
	return conf;
}

/* Exit 2 when a file of include_dir is broken too, after the summary. */
static int
main_check(const struct cli *c)
{
	struct conf *conf = main_load_conf(c);
	int rc;

	if (conf == NULL)
		return EXIT_USAGE;
	/* -q: errors only, for ExecReload= whose output lands in the log. */
	if (c->verbosity >= 0)
		conf_print(conf, stdout);
	rc = conf->nbroken > 0 ? EXIT_USAGE : 0;
	conf_free(conf);
	return rc;
}

static int
main_genkey(const struct cli *c)
{
	const char *what = c->private_key ? "private key" : "key";
	uint8_t key[KEY_LEN];
	char b64[KEY_B64_LEN + 1], err[256];
	bool service;
	int rc = 1;

	if ((c->private_key ? keypair_generate(key, err, sizeof(err)) :
	    key_generate(key, err, sizeof(err))) != 0) {
		fprintf(stderr, "tapline: genkey: %s\n", err);
		goto out;
	}
	if (c->keyfile == NULL) {
		key_encode(key, b64);
		printf("%s\n", b64);
		OPENSSL_cleanse(b64, sizeof(b64));
		rc = fflush(stdout) == 0 ? 0 : 1;
		goto out;
	}
	/* Root makes keys for the units, which run as the service user. */
	if (key_write_file_service(c->keyfile, key, &service, err,
	    sizeof(err)) != 0) {
		fprintf(stderr, "tapline: genkey: %s: %s\n", c->keyfile, err);
		goto out;
	}
	if (service)
		fprintf(stderr, "tapline: wrote a new %s to %s (mode 0600, "
		    "owned by the user and group of %s, which the systemd "
		    "units run as)\n", what, c->keyfile, PRIV_SERVICE_USER);
	else
		fprintf(stderr, "tapline: wrote a new %s to %s (mode 0600)\n",
		    what, c->keyfile);
	if (c->private_key)
		fprintf(stderr, "tapline: its public key, for the peers' "
		    "peer_key: tapline pubkey %s\n", c->keyfile);
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/*
 * The public key of a private key file, or of the key on standard input
 * (as `wg pubkey` reads it), in base64 on one line.
 */
static int
main_pubkey(const struct cli *c)
{
	uint8_t priv[KEY_LEN], pub[KEY_LEN];
	char text[4096], b64[KEY_B64_LEN + 1], err[256];
	const char *from = c->keyfile != NULL ? c->keyfile : "standard input";
	size_t len;
	int rc = 1;

	if (c->keyfile != NULL) {
		if (key_read_file(c->keyfile, priv, err, sizeof(err)) != 0)
			goto fail;
	} else {
		len = fread(text, 1, sizeof(text) - 1, stdin);
		if (ferror(stdin)) {
			util_err(err, sizeof(err), "cannot read: %s",
			    strerror(errno));
			goto fail;
		}
		if (len == sizeof(text) - 1) {
			util_err(err, sizeof(err), "more than %zu bytes: not "
			    "a key", sizeof(text) - 2);
			goto fail;
		}
		if (key_decode(text, len, priv, err, sizeof(err)) != 0)
			goto fail;
	}
	if (keypair_public(priv, pub, err, sizeof(err)) != 0)
		goto fail;
	key_encode(pub, b64);
	printf("%s\n", b64);
	rc = fflush(stdout) == 0 ? 0 : 1;
	goto out;
fail:
	fprintf(stderr, "tapline: pubkey: %s: %s\n", from, err);
out:
	OPENSSL_cleanse(text, sizeof(text));
	OPENSSL_cleanse(priv, sizeof(priv));
	return rc;
}

/*
 * The whole file, at most VTUNCONF_FILE_MAX + 1 bytes (the parser refuses
 * more).  -1 with errno; EINVAL means "not a regular file".
 */
static int
main_read_file(const char *path, char **buf, size_t *len)
{
	size_t cap = VTUNCONF_FILE_MAX + 1, n = 0;
	struct stat st;
	ssize_t r = 0;
	int fd, e = 0;

	*buf = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		e = errno;
	else if (!S_ISREG(st.st_mode))
		e = EINVAL;
	else if ((*buf = malloc(cap)) == NULL)
		e = ENOMEM;
	while (e == 0 && n < cap && (r = read(fd, *buf + n, cap - n)) != 0) {
		if (r == -1 && errno != EINTR)
			e = errno;
		else if (r > 0)
			n += (size_t)r;
	}
	close(fd);
	if (e != 0) {
		free(*buf);
		*buf = NULL;
		errno = e;
		return -1;
	}
	*len = n;
	return 0;
}

/*
 * Replace path with the bytes in one step: a temporary file next to it
 * (mode 0600, since it holds passwords), then rename.
 */
static int
main_write_atomic(const char *path, const char *buf, size_t len, char *err,
    size_t errlen)
{
	char tmp[PATH_MAX];
	size_t off = 0;
	ssize_t r;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path) >= (int)sizeof(tmp))
		return util_err(err, errlen, "path too long");
	if ((fd = mkstemp(tmp)) == -1)
		return util_err(err, errlen, "cannot create a file next to it: "
		    "%s", strerror(errno));
	if (fchmod(fd, 0600) == -1)
		goto fail;
	while (off < len) {
		r = write(fd, buf + off, len - off);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1)
			goto fail;
		off += (size_t)r;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	return 0;
fail:
	util_err(err, errlen, "%s", strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	return -1;
}

static bool
main_program_exists(const char *path, void *arg)
{
	(void)arg;
	return access(path, X_OK) == 0;
}

/* Warnings as the importer wrote them, in the order of their lines. */
static void
main_print_import_diag(struct vtunconf_diag *d)
{
	size_t i;

	vtunconf_diag_sort(d);
	for (i = 0; i < d->n; i++)
		fprintf(stderr, "%s\n", d->v[i].text);
	if (d->dropped > 0)
		fprintf(stderr, "tapline: import-vtund: %zu more warnings not "
		    "shown\n", d->dropped);
}

/*
 * The output must load as a tapline.conf; if it does not, that is our
 * bug, and the file is not written.
 */
static int
main_import_check(const char *name, const char *buf, size_t len)
{
	struct conf_diag d = { 0 };
	struct conf *conf;
	size_t i;

	conf = conf_load_buffer(name, buf, len, &d);
	if (conf == NULL) {
		fprintf(stderr, "tapline: import-vtund: the converted file "
		    "does not pass tapline -t (a bug in the importer; please "
		    "report it with the vtund.conf):\n");
		for (i = 0; i < d.nerrors; i++)
			fprintf(stderr, "error: %s\n", d.errors[i]);
	}
	conf_free(conf);
	conf_diag_free(&d);
	return conf != NULL ? 0 : -1;
}

/*
 * The key file of every imported session: SESSION.key in dir, the
 * output's directory, which is where the output's relative key path
 * points.  One that is there already and reads as a key is kept (its
 * peer may have a copy by now); otherwise a new one is written as
 * tapline genkey writes it (mode 0600).  made[i] says which ones this run
 * wrote, for main_import_unkey.  0, or -1 after a message.
 */
static int
main_import_keys(const char *dir, const struct vtunimport_result *res,
    bool *made)
{
	uint8_t key[KEY_LEN];
	char path[PATH_MAX], err[256];
	struct stat st;
	bool service;
	size_t i;
	int rc = -1;

	for (i = 0; i < res->nkeys; i++) {
		if (snprintf(path, sizeof(path), "%s/%s.key", dir,
		    res->keys[i]) >= (int)sizeof(path)) {
			fprintf(stderr, "tapline: import-vtund: %s: path too "
			    "long\n", dir);
			goto out;
		}
		if (lstat(path, &st) == 0) {
			if (key_read_file(path, key, err, sizeof(err)) != 0) {
				fprintf(stderr, "tapline: import-vtund: %s "
				    "exists and is no key file tapline takes: "
				    "%s\n", path, err);
				goto out;
			}
			fprintf(stderr, "tapline: import-vtund: kept the "
			    "existing key file %s\n", path);
			continue;
		}
		/* As genkey: root's keys are for the units' user. */
		if (key_generate(key, err, sizeof(err)) != 0 ||
		    key_write_file_service(path, key, &service, err,
		    sizeof(err)) != 0) {
			fprintf(stderr, "tapline: import-vtund: %s: %s\n", path,
			    err);
			goto out;
		}
		made[i] = true;
		fprintf(stderr, "tapline: import-vtund: wrote a new key to %s "
		    "(mode 0600%s); copy it to the peer\n", path, service ?
		    ", owned by " PRIV_SERVICE_USER : "");
	}
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/* Nothing written after all: remove the key files this run made. */
static void
main_import_unkey(const char *dir, const struct vtunimport_result *res,
    const bool *made)
{
	char path[PATH_MAX];
	size_t i;

	for (i = 0; i < res->nkeys; i++)
		if (made[i] && snprintf(path, sizeof(path), "%s/%s.key", dir,
		    res->keys[i]) < (int)sizeof(path))
			(void)unlink(path);
}

/*
 * tapline import-vtund FILE [-o OUT]: read a vtund.conf, write the same
 * sessions as tapline.conf, and say on stderr what did not carry over.
 */
static int
main_import_vtund(const struct cli *c)
{
	struct vtunimport_opts opts = {
		.source = c->vtund_conf,
		.exists = main_program_exists,
	};
	struct vtunconf_diag diag = { 0 };
	struct vtunimport_result res = { 0 };
	struct vtunconf *vc = NULL;
	char *in = NULL, *outbuf = NULL, err[1024], dir[PATH_MAX], *slash;
	size_t inlen = 0, outlen = 0;
	bool *made = NULL;
	FILE *mem;
	int r, rc = 1;

	if (main_read_file(c->vtund_conf, &in, &inlen) == -1) {
		fprintf(stderr, "tapline: import-vtund: %s: %s\n", c->vtund_conf,
		    errno == EINVAL ? "not a regular file" : strerror(errno));
		return 1;
	}
	vc = vtunconf_parse(c->vtund_conf, in, inlen, &diag, err, sizeof(err));
	if (vc == NULL) {
		main_print_import_diag(&diag);
		fprintf(stderr, "%s\ntapline: import-vtund: nothing written\n",
		    err);
		rc = EXIT_USAGE;
		goto out;
	}
	if ((mem = open_memstream(&outbuf, &outlen)) == NULL) {
		fprintf(stderr, "tapline: import-vtund: out of memory\n");
		goto out;
	}
	r = vtunimport_write(vc, &opts, mem, &diag, &res);
	if (fclose(mem) != 0 || r == -1) {
		fprintf(stderr, "tapline: import-vtund: out of memory\n");
		goto out;
	}
	main_print_import_diag(&diag);
	/* The key files go next to the output: the current directory
	 * for standard output. */
	util_strlcpy(dir, c->output != NULL ? c->output : ".", sizeof(dir));
	if ((slash = strrchr(dir, '/')) == NULL)
		util_strlcpy(dir, ".", sizeof(dir));
	else
		slash[slash == dir ? 1 : 0] = '\0';
	if ((made = calloc(res.nkeys + 1, sizeof(*made))) == NULL) {
		fprintf(stderr, "tapline: import-vtund: out of memory\n");
		goto out;
	}
	if (main_import_keys(dir, &res, made) == -1)
		goto unkey;
	if (main_import_check(c->output != NULL ? c->output :
	    "import-vtund output", outbuf, outlen) == -1)
		goto unkey;
	if (c->output != NULL) {
		if (main_write_atomic(c->output, outbuf, outlen, err,
		    sizeof(err)) == -1) {
			fprintf(stderr, "tapline: import-vtund: %s: %s\n",
			    c->output, err);
			goto unkey;
		}
	} else if (fwrite(outbuf, 1, outlen, stdout) != outlen ||
	    fflush(stdout) != 0) {
		fprintf(stderr, "tapline: import-vtund: writing to standard "
		    "output: %s\n", strerror(errno));
		goto unkey;
	}
	fprintf(stderr, "tapline: import-vtund: %zu session%s imported, %zu "
	    "not%s; check the result with tapline -t -f %s\n", res.imported,
	    res.imported == 1 ? "" : "s", res.skipped, diag.n > 0 ?
	    " (warnings above)" : "", c->output != NULL ? c->output : "FILE");
	rc = 0;
	goto out;
unkey:
	main_import_unkey(dir, &res, made);
out:
	free(made);
	vtunimport_result_free(&res);
	vtunconf_free(vc);
	vtunconf_diag_free(&diag);
	if (in != NULL)
		OPENSSL_cleanse(in, inlen);
	free(in);
	if (outbuf != NULL)
		OPENSSL_cleanse(outbuf, outlen);
	free(outbuf);
	return rc;
}

static void
main_version(void)
{
	printf("tapline %s (%s, libevent %s, zlib %s)\n", PACKAGE_VERSION,
	    OpenSSL_version(OPENSSL_VERSION), event_get_version(),
	    zlibVersion());
}

static int
main_daemon(const struct cli *c)
{
	const struct conf_session *cs = NULL;
	const char *server = NULL;
	struct conf *conf;
	int rc;

	proc_harden();
	if ((conf = main_load_conf(c)) == NULL)
		return EXIT_USAGE;
	if (c->mode == CLI_CLIENT) {
		if ((cs = conf_session_find(conf, c->session)) == NULL) {
			fprintf(stderr, "tapline: %s: no session '%s'\n",
			    c->config, c->session);
			conf_free(conf);
			return EXIT_USAGE;
		}
		/* The command line's server stands for the session's list. */
		server = c->server;
		if (server == NULL && cs->nserver == 0) {
			fprintf(stderr, "tapline: %s: no server to connect to: "
			    "give it as 'tapline %s SERVER' or set server in "
			    "the session\n", c->config, cs->name);
			conf_free(conf);
			return EXIT_USAGE;
		}
	}
	log_init("tapline", c->foreground, conf->options.syslog_facility);
	log_set_level(LOG_NOTICE + c->verbosity);
	log_route_libevent();
	if (!c->foreground && daemon(0, 0) == -1) {
		log_err("cannot become a daemon: %s", strerror(errno));
		conf_free(conf);
		return 1;
	}
	if (c->mlock && mlockall(MCL_CURRENT | MCL_FUTURE) == -1)
		log_warnx("mlockall: %s", strerror(errno));
	if (c->mode == CLI_SERVER)
		rc = server_run(conf, c);
	else
		rc = client_run(conf, cs, server, c);
	conf_free(conf);
	return rc;
}

int
main(int argc, char **argv)
{
	struct cli c;
	char err[256], config[PATH_MAX];

	if (cli_parse(argc, argv, &c, err, sizeof(err)) != 0) {
		fprintf(stderr, "tapline: %s (see tapline --help)\n", err);
		return EXIT_USAGE;
	}
	/* tapline@NAME: NAME's own file, when there is one. */
	if (!c.config_given && c.session != NULL && (c.mode == CLI_CLIENT ||
	    c.mode == CLI_CHECK || c.mode == CLI_STATUS) &&
	    confdir_client_path(SYSCONFDIR "/tapline", c.session, config,
	    sizeof(config)) == 0)
		c.config = config;
	switch (c.mode) {
	case CLI_HELP:
		cli_usage(stdout);
		return 0;
	case CLI_VERSION:
		main_version();
		return 0;
	case CLI_CHECK:
		return main_check(&c);
	case CLI_GENKEY:
		return main_genkey(&c);
	case CLI_PUBKEY:
		return main_pubkey(&c);
	case CLI_STATUS:
		return status_run(&c);
	case CLI_WAIT:
		return status_wait(&c);
	case CLI_IMPORT_VTUND:
		return main_import_vtund(&c);
	case CLI_SERVER:
	case CLI_CLIENT:
		return main_daemon(&c);
	}
	return 1;
}
