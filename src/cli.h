/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Command line: flags, subcommands and their checks (tapline(8)). */
#ifndef TAPLINE_CLI_H
#define TAPLINE_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#define CLI_DEFAULT_CONFIG SYSCONFDIR "/tapline/tapline.conf"

enum cli_mode {
	CLI_CLIENT,
	CLI_SERVER,
	CLI_CHECK,
	CLI_GENKEY,
	CLI_PUBKEY,
	CLI_STATUS,
	CLI_WAIT,
	CLI_IMPORT_VTUND,
	CLI_VERSION,
	CLI_HELP,
};

struct cli {
	enum cli_mode mode;
	const char *config;	/* -f; CLI_DEFAULT_CONFIG when not given */
	bool config_given;
	int port;		/* -P; 0 when not given */
	const char *local;	/* -L; NULL when not given */
	bool foreground;	/* -n */
	bool persist;		/* -p */
	bool mlock;		/* -m */
	int verbosity;		/* +1 per -v, -1 per -q */
	int family;		/* AF_UNSPEC, or AF_INET for -4, AF_INET6 for -6 */
	const char *session;	/* client, wait: SESSION; status, -t: optional */
	const char *server;	/* client: SERVER, or NULL to take it from the config */
	const char *keyfile;	/* genkey: FILE, or NULL for stdout;
				 * pubkey: FILE, or NULL for stdin */
	bool private_key;	/* genkey --private: an X25519 private key */
	bool json;		/* status --json */
	/* status --format: "text", "json", "openmetrics" or "prometheus";
	 * NULL when not given (--json gives "json"). */
	const char *format;
	bool status_check;	/* status --check */
	int timeout_s;		/* wait --timeout; -1 when not given */
	const char *vtund_conf;	/* import-vtund: FILE */
	const char *output;	/* import-vtund -o: FILE, or NULL for stdout */
};

/*
 * Parse argv into c.  Returns 0, or -1 with one line in err that says what
 * is wrong (the caller prints it and exits 2).  Reentrant for tests: it
 * resets getopt's state itself.
 */
int cli_parse(int argc, char **argv, struct cli *c, char *err, size_t errlen);

/* wait: the default of --timeout, and its limit. */
#define CLI_WAIT_TIMEOUT_S 30
#define CLI_WAIT_TIMEOUT_MAX_S 86400

/* The --help text. */
void cli_usage(FILE *out);

#endif
