/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "cli.h"
#include "util.h"

enum { OPT_JSON = 256, OPT_FORMAT, OPT_CHECK, OPT_TIMEOUT, OPT_PRIVATE };

/* The leading ':' makes getopt report a missing value as ':'. */
static const char cli_shortopts[] = ":sf:P:L:npqvt46mo:hV";

static const struct option cli_longopts[] = {
	{ "server", no_argument, NULL, 's' },
	{ "config", required_argument, NULL, 'f' },
	{ "port", required_argument, NULL, 'P' },
	{ "local", required_argument, NULL, 'L' },
	{ "listen", required_argument, NULL, 'L' },
	{ "foreground", no_argument, NULL, 'n' },
	{ "persist", no_argument, NULL, 'p' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "test", no_argument, NULL, 't' },
	/* -t, except after status, where it checks the sessions. */
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "ipv4", no_argument, NULL, '4' },
	{ "ipv6", no_argument, NULL, '6' },
	{ "mlock", no_argument, NULL, 'm' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "output", required_argument, NULL, 'o' },
	{ "private", no_argument, NULL, OPT_PRIVATE },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

void
cli_usage(FILE *out)
{
	fputs(
"usage: tapline [options] SESSION [SERVER]   connect as a client\n"
"       tapline [options] -s                 run the server\n"
"       tapline -t [-f FILE] [SESSION]       check the config and print it\n"
"       tapline genkey [FILE]                make a new 32-byte session key\n"
"       tapline genkey --private [FILE]      make this host's private key\n"
"       tapline pubkey [FILE]                print the public key of a private\n"
"                                            key (FILE, or standard input)\n"
"       tapline status [SESSION] [--json | --format F] [--check]\n"
"                                            show the running sessions\n"
"       tapline wait SESSION [--timeout S]   wait until the session is up\n"
"       tapline import-vtund FILE [-o OUT]   convert a vtund.conf\n"
"       tapline version\n"
"\n"
"options:\n"
"  -s, --server          server mode\n"
"  -f, --config FILE     config file (default " CLI_DEFAULT_CONFIG ";\n"
"                        a client SESSION reads SESSION.conf there if it exists)\n"
"  -P, --port PORT       server: listen port; client: server port (default 5000)\n"
"  -L, --local ADDR      server: listen address; client: source address\n"
"  -n, --foreground      stay in the foreground and log to stderr\n"
"  -p, --persist         client: reconnect forever, with backoff\n"
"  -q, --quiet           log less (warnings and errors only)\n"
"  -v, --verbose         log more (repeat for debug)\n"
"  -t, --test            check the config file, print a summary, exit\n"
"  -4, --ipv4            use IPv4 for the underlay\n"
"  -6, --ipv6            use IPv6 for the underlay\n"
"  -m, --mlock           lock the daemon's memory (mlockall)\n"
"      --json            status: print JSON\n"
"      --format F        status: text, json, openmetrics or prometheus\n"
"      --check           status: one line; exit 3 if a session is not up\n"
"      --timeout S       wait: give up after S seconds (default 30)\n"
"  -o, --output FILE     import-vtund: write here (mode 0600), not to stdout\n"
"      --private         genkey: an X25519 private key (options.private_key)\n"
"  -h, --help            this text\n"
"  -V, --version         print the version\n"
"\n"
"exit status: 0 ok, 1 runtime failure, 2 usage or config error;\n"
"  status --check: 3 when a session is not up; wait: 1 on timeout\n"
"see tapline(8) and tapline.conf(5)\n",
	    out);
}

/* Strict decimal in [min, max]: no sign, no space, no trailing junk. */
static int
cli_parse_ranged(const char *s, long min, long max, int *out)
{
	char *end;
	long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int)v;
	return 0;
}

static int
cli_parse_port(const char *s, int *port)
{
	return cli_parse_ranged(s, 1, 65535, port);
}

/* Whole seconds, 0..CLI_WAIT_TIMEOUT_MAX_S. */
static int
cli_parse_seconds(const char *s, int *out)
{
	return cli_parse_ranged(s, 0, CLI_WAIT_TIMEOUT_MAX_S, out);
}

/* Is the flag set when the mode does not use it?  Name it if so. */
static const char *
cli_misplaced_flag(const struct cli *c)
{
	bool daemon = c->mode == CLI_SERVER || c->mode == CLI_CLIENT;

	if (c->json && c->mode != CLI_STATUS)
		return "--json applies to 'tapline status' only";
	if (c->format != NULL && c->mode != CLI_STATUS)
		return "--format applies to 'tapline status' only";
	if (c->timeout_s >= 0 && c->mode != CLI_WAIT)
		return "--timeout applies to 'tapline wait' only";
	if (c->private_key && c->mode != CLI_GENKEY)
		return "--private applies to 'tapline genkey' only";
	if (c->output != NULL && c->mode != CLI_IMPORT_VTUND)
		return "-o applies to 'tapline import-vtund' only";
	if (c->config_given && c->mode == CLI_IMPORT_VTUND)
		return "-f does not apply to import-vtund: give the vtund.conf "
		    "as its argument";
	if (c->persist && c->mode != CLI_CLIENT)
		return "-p (persist) applies to client mode only";
	if (c->mode == CLI_STATUS && c->status_check && (c->json ||
	    (c->format != NULL && strcmp(c->format, "text") != 0)))
		return "--check prints one line of text; it takes no --format "
		    "or --json";
	if (!daemon && c->port != 0)
		return "-P applies to server and client mode only";
	if (!daemon && c->local != NULL)
		return "-L applies to server and client mode only";
	if (!daemon && c->family != AF_UNSPEC)
		return "-4/-6 apply to server and client mode only";
	if (!daemon && c->mlock)
		return "-m applies to server and client mode only";
	return NULL;
}

int
cli_parse(int argc, char **argv, struct cli *c, char *err, size_t errlen)
{
	bool server = false, check = false, help = false, version = false;
	bool dashdash, short_t = false, long_check = false;
	const char *misplaced, *sub = NULL;
	int opt, npos;
	char **pos;

	memset(c, 0, sizeof(*c));
	c->mode = CLI_CLIENT;
	c->config = CLI_DEFAULT_CONFIG;
	c->family = AF_UNSPEC;
	c->timeout_s = -1;

	/* optind = 0 makes glibc reinitialise, so tests can parse again. */
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, cli_shortopts, cli_longopts,
	    NULL)) != -1) {
		switch (opt) {
		case 's':
			server = true;
			break;
		case 'f':
			if (*optarg == '\0')
				return util_err(err, errlen,
				    "-f needs a file name");
			c->config = optarg;
			c->config_given = true;
			break;
		case 'P':
			if (cli_parse_port(optarg, &c->port) != 0)
				return util_err(err, errlen,
				    "bad port '%s': use a number 1..65535",
				    optarg);
			break;
		case 'L':
			if (*optarg == '\0')
				return util_err(err, errlen,
				    "-L needs an address");
			c->local = optarg;
			break;
		case 'n':
			c->foreground = true;
			break;
		case 'p':
			c->persist = true;
			break;
		case 'q':
			c->verbosity--;
			break;
		case 'v':
			c->verbosity++;
			break;
		case 't':
			check = true;
			short_t = true;
			break;
		case OPT_CHECK:
			long_check = true;
			break;
		case '4':
		case '6':
			if (c->family != AF_UNSPEC &&
			    c->family != (opt == '4' ? AF_INET : AF_INET6))
				return util_err(err, errlen,
				    "-4 and -6 exclude each other");
			c->family = opt == '4' ? AF_INET : AF_INET6;
			break;
		case 'm':
			c->mlock = true;
			break;
		case OPT_JSON:
			c->json = true;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "text") != 0 &&
			    strcmp(optarg, "json") != 0 &&
			    strcmp(optarg, "openmetrics") != 0 &&
			    strcmp(optarg, "prometheus") != 0)
				return util_err(err, errlen, "unknown format "
				    "'%s': use text, json, openmetrics or "
				    "prometheus", optarg);
			if (c->format != NULL && strcmp(c->format,
			    optarg) != 0)
				return util_err(err, errlen,
				    "--format given twice");
			c->format = optarg;
			break;
		case OPT_TIMEOUT:
			if (cli_parse_seconds(optarg, &c->timeout_s) != 0)
				return util_err(err, errlen, "bad timeout "
				    "'%s': use whole seconds 0..%d", optarg,
				    CLI_WAIT_TIMEOUT_MAX_S);
			break;
		case OPT_PRIVATE:
			c->private_key = true;
			break;
		case 'o':
			if (*optarg == '\0')
				return util_err(err, errlen,
				    "-o needs a file name");
			c->output = optarg;
			break;
		case 'h':
			help = true;
			break;
		case 'V':
			version = true;
			break;
		case ':':
			return util_err(err, errlen, "option %s needs a value",
			    argv[optind - 1]);
		default:
			if (optopt != 0 && optopt < 256)
				return util_err(err, errlen,
				    "unknown option -%c", optopt);
			return util_err(err, errlen, "unknown option %s",
			    argv[optind - 1]);
		}
	}

	pos = argv + optind;
	npos = argc - optind;
	dashdash = optind > 1 && strcmp(argv[optind - 1], "--") == 0;

	if (help) {
		c->mode = CLI_HELP;
		return 0;
	}
	if (version) {
		c->mode = CLI_VERSION;
		return 0;
	}

	/* A first word that names a subcommand is one, unless after "--". */
	if (npos > 0 && !dashdash &&
	    (strcmp(pos[0], "genkey") == 0 || strcmp(pos[0], "pubkey") == 0 ||
	    strcmp(pos[0], "status") == 0 ||
	    strcmp(pos[0], "wait") == 0 ||
	    strcmp(pos[0], "import-vtund") == 0 ||
	    strcmp(pos[0], "version") == 0))
		sub = pos[0];

	/* --check: the sessions' check after status, else the config's. */
	if (long_check && sub != NULL && strcmp(sub, "status") == 0 &&
	    !short_t)
		c->status_check = true;
	else if (long_check)
		check = true;
	if (sub != NULL && (server || check))
		return util_err(err, errlen, "'%s' cannot be combined with %s",
		    sub, server ? "-s" : "-t");
	/* -s -t checks the config, as -t alone does. */
	if (check)
		c->mode = CLI_CHECK;
	else if (server)
		c->mode = CLI_SERVER;

	if (sub != NULL && strcmp(sub, "genkey") == 0) {
		c->mode = CLI_GENKEY;
		if (npos > 2)
			return util_err(err, errlen,
			    "genkey takes at most one FILE");
		c->keyfile = npos == 2 ? pos[1] : NULL;
	} else if (sub != NULL && strcmp(sub, "pubkey") == 0) {
		c->mode = CLI_PUBKEY;
		if (npos > 2)
			return util_err(err, errlen,
			    "pubkey takes at most one FILE");
		c->keyfile = npos == 2 ? pos[1] : NULL;
	} else if (sub != NULL && strcmp(sub, "status") == 0) {
		c->mode = CLI_STATUS;
		if (npos > 2)
			return util_err(err, errlen,
			    "status takes at most one SESSION");
		c->session = npos == 2 ? pos[1] : NULL;
	} else if (sub != NULL && strcmp(sub, "wait") == 0) {
		c->mode = CLI_WAIT;
		if (npos != 2)
			return util_err(err, errlen, npos < 2 ?
			    "wait needs the SESSION to wait for" :
			    "wait takes one SESSION");
		c->session = pos[1];
	} else if (sub != NULL && strcmp(sub, "import-vtund") == 0) {
		c->mode = CLI_IMPORT_VTUND;
		if (npos != 2)
			return util_err(err, errlen, npos < 2 ?
			    "import-vtund needs the vtund.conf to read" :
			    "import-vtund takes one FILE");
		if (*pos[1] == '\0')
			return util_err(err, errlen,
			    "import-vtund needs a file name");
		c->vtund_conf = pos[1];
	} else if (sub != NULL) {
		c->mode = CLI_VERSION;
		if (npos > 1)
			return util_err(err, errlen, "version takes no arguments");
	} else if (c->mode == CLI_CHECK && !server && npos <= 1) {
		/* -t SESSION checks the file that `tapline SESSION` reads. */
		c->session = npos == 1 ? pos[0] : NULL;
	} else if (c->mode == CLI_SERVER || c->mode == CLI_CHECK) {
		if (npos > 0)
			return util_err(err, errlen,
			    "unexpected argument '%s' with %s",
			    pos[c->mode == CLI_CHECK && !server ? 1 : 0],
			    server ? "-s" : "-t");
	} else {
		if (npos == 0)
			return util_err(err, errlen,
			    "missing SESSION (or -s to run the server)");
		if (npos > 2)
			return util_err(err, errlen,
			    "unexpected argument '%s' after SESSION SERVER",
			    pos[2]);
		c->session = pos[0];
		c->server = npos == 2 ? pos[1] : NULL;
	}

	if ((misplaced = cli_misplaced_flag(c)) != NULL)
		return util_err(err, errlen, "%s", misplaced);
	if (c->json && c->format != NULL && strcmp(c->format, "json") != 0)
		return util_err(err, errlen, "--json and --format %s exclude "
		    "each other", c->format);
	if (c->json)
		c->format = "json";
	if (c->mode == CLI_WAIT && c->timeout_s < 0)
		c->timeout_s = CLI_WAIT_TIMEOUT_S;
	return 0;
}
