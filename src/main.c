/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tapline: command line, mode dispatch and process setup.  Everything else
 * lives in the internal library so that tests can reach it.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/event.h>
#include <openssl/crypto.h>
#include <zlib.h>

#include "cli.h"
#include "conf.h"
#include "key.h"
#include "log.h"
#include "util.h"

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
main_load_conf(const struct cli *c, bool quiet_ok)
{
	struct conf_diag diag = { 0 };
	struct conf *conf;

	conf = conf_load(c->config, &diag);
	if (conf == NULL || !quiet_ok || diag.nwarnings > 0)
		main_print_diag(&diag);
	if (conf == NULL)
		fprintf(stderr, "tapline: %s: %zu error%s, nothing started\n",
		    c->config, diag.nerrors, diag.nerrors == 1 ? "" : "s");
	conf_diag_free(&diag);
	return conf;
}

static int
main_check(const struct cli *c)
{
	struct conf *conf = main_load_conf(c, true);

	if (conf == NULL)
		return EXIT_USAGE;
	conf_print(conf, stdout);
	conf_free(conf);
	return 0;
}

static int
main_genkey(const struct cli *c)
{
	uint8_t key[KEY_LEN];
	char b64[KEY_B64_LEN + 1], err[256];
	int rc = 1;

	if (key_generate(key, err, sizeof(err)) != 0) {
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
	if (key_write_file(c->keyfile, key, err, sizeof(err)) != 0) {
		fprintf(stderr, "tapline: genkey: %s\n", err);
		goto out;
	}
	fprintf(stderr, "tapline: wrote a new key to %s (mode 0600)\n",
	    c->keyfile);
	rc = 0;
out:
	OPENSSL_cleanse(key, sizeof(key));
	return rc;
}

/*
 * The status socket arrives with the operations work; until then say
 * plainly that nothing answers rather than pretend.
 */
static int
main_status(const struct cli *c)
{
	const char *path = "/run/tapline/tapline.sock";
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, rc = 1;

	util_strlcpy(sun.sun_path, path, sizeof(sun.sun_path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		fprintf(stderr,
		    "tapline: status: cannot connect to %s: %s (is tapline "
		    "running?)\n", path, strerror(errno));
	} else {
		fprintf(stderr, "tapline: status: this build cannot query "
		    "%s yet\n", path);
	}
	if (fd != -1)
		close(fd);
	return rc;
}

static void
main_version(void)
{
	printf("tapline %s (%s, libevent %s, zlib %s)\n", PACKAGE_VERSION,
	    OpenSSL_version(OPENSSL_VERSION), event_get_version(),
	    zlibVersion());
}

/*
 * Process hygiene for the daemon modes: a peer closing a socket must not
 * kill us (SIGPIPE), and a core dump must not carry keys.
 */
static void
main_harden(void)
{
	signal(SIGPIPE, SIG_IGN);
	umask(077);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) == -1)
		log_warnx("cannot disable core dumps: %s", strerror(errno));
}

static int
main_daemon(const struct cli *c)
{
	struct conf *conf;
	const struct conf_session *s;

	main_harden();
	log_init("tapline", c->foreground, LOG_DAEMON);
	log_set_level(LOG_NOTICE + c->verbosity);
	log_route_libevent();

	if ((conf = main_load_conf(c, false)) == NULL)
		return EXIT_USAGE;
	if (c->mode == CLI_CLIENT &&
	    (s = conf_session_find(conf, c->session)) == NULL) {
		fprintf(stderr, "tapline: %s: no session '%s'\n", c->config,
		    c->session);
		conf_free(conf);
		return EXIT_USAGE;
	}
	log_err("%s mode is not available in this build yet: the tunnel "
	    "arrives with the TCP transport", c->mode == CLI_SERVER ?
	    "server" : "client");
	conf_free(conf);
	return 1;
}

int
main(int argc, char **argv)
{
	struct cli c;
	char err[256];

	if (cli_parse(argc, argv, &c, err, sizeof(err)) != 0) {
		fprintf(stderr, "tapline: %s (see tapline --help)\n", err);
		return EXIT_USAGE;
	}
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
	case CLI_STATUS:
		return main_status(&c);
	case CLI_SERVER:
	case CLI_CLIENT:
		return main_daemon(&c);
	}
	return 1;
}
