/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * vtunconf.c and its lexer vtunlex.c: every keyword of vtund.conf(5)
 * read as vtund 3.0.4 reads it, vtund's quirks (default applies to later
 * sessions, incomplete sessions dropped, first port wins, ';' ends a
 * value), and every way a file can fail, each with its line.  Table-driven: a case is a small file and what
 * its result must say.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "vtunconf.h"

#define PATH "t.conf"

/* One line per session with everything the parser resolved, for tables. */
static void
describe(const struct vtunconf_host *h, char *buf, size_t len)
{
	static const char *const comp[] = { "no", "zlib", "lzo" };
	const char *type = h->type == VTUNCONF_TYPE_TUN ? "tun" :
	    h->type == VTUNCONF_TYPE_ETHER ? "ether" :
	    h->type == VTUNCONF_TYPE_PIPE ? "pipe" : "tty";

	snprintf(buf, len, "name=%s line=%d passwd=%s device=%s type=%s/%d "
	    "proto=%s compress=%s:%d encrypt=%d:%lld keepalive=%d:%lld:%lld "
	    "stat=%d persist=%d multi=%d timeout=%lld shape=%d:%lld:%lld "
	    "nat=%d src=%d:%s:%lld up=%zu down=%zu ",
	    h->name, h->line, h->passwd != NULL ? h->passwd : "-",
	    h->device != NULL ? h->device : "-", type, h->type_src.line,
	    h->proto == VTUNCONF_PROTO_UDP ? "udp" : "tcp",
	    comp[h->compress], h->zlevel, h->encrypt, h->cipher, h->keepalive,
	    h->ka_interval, h->ka_maxfail, h->stat, (int)h->persist,
	    (int)h->multi, h->timeout, h->shape, h->spd_out, h->spd_in,
	    h->nat_hack, (int)h->src_type, h->src_name != NULL ? h->src_name :
	    "-", h->src_port, h->up != NULL ? h->up->n : 0,
	    h->down != NULL ? h->down->n : 0);
}

/* "prog|args|flags|line" for each command of a list, ';'-separated. */
static void
describe_cmds(const struct vtunconf_cmds *l, char *buf, size_t len)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; l != NULL && i < l->n && o < len; i++)
		o += (size_t)snprintf(buf + o, len - o, "%d:%s|%s|%d|%d;",
		    (int)l->v[i].kind, l->v[i].prog != NULL ? l->v[i].prog :
		    "-", l->v[i].args != NULL ? l->v[i].args : "-",
		    l->v[i].flags, l->v[i].line);
}

static struct vtunconf *
parse(const char *text, struct vtunconf_diag *d, char *err, size_t errlen)
{
	memset(d, 0, sizeof(*d));
	err[0] = '\0';
	return vtunconf_parse(PATH, text, strlen(text), d, err, errlen);
}

static bool
diag_has(const struct vtunconf_diag *d, const char *needle)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strstr(d->v[i].text, needle) != NULL)
			return true;
	return false;
}

static void
dump_diag(const struct vtunconf_diag *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		print_message("  warning: %s\n", d->v[i].text);
}

/* Session settings: each case is one session after a fixed prologue. */
static void
test_session_keywords(void **state)
{
	static const struct {
		const char *body;	/* inside "s { passwd pw; ... }" */
		const char *want;	/* in describe()'s line */
	} cases[] = {
		{ "", "type=tty/0 proto=tcp compress=no:0 encrypt=0:0 "
		    "keepalive=0:30:4 stat=0 persist=0 multi=1 timeout=30 "
		    "shape=0:0:0 nat=0 src=0:-:0 up=0 down=0" },
		{ "password other;", "passwd=other " },
		{ "device tun7;", "device=tun7 " },
		{ "type tun;", "type=tun/3" },
		{ "type ether;", "type=ether/3" },
		{ "type pipe;", "type=pipe/3" },
		{ "type tty;", "type=tty/3" },
		{ "proto udp;", "proto=udp" },
		{ "proto tcp;", "proto=tcp" },
		{ "compress yes;", "compress=zlib:1" },
		{ "compress no;", "compress=no:0" },
		{ "compress 7;", "compress=zlib:7" },
		{ "compress zlib;", "compress=zlib:1" },
		{ "compress lzo;", "compress=zlib:2" },	/* vtund's quirk */
		{ "compress zlib:9;", "compress=zlib:9" },
		{ "compress lzo:9;", "compress=lzo:9" },
		{ "compress lzo:3;", "compress=lzo:1" },
		{ "compress no:5;", "compress=no:0" },
		{ "compress yes; compress no;", "compress=no:0" },
		{ "encrypt yes;", "encrypt=1:1 " },
		{ "encrypt no;", "encrypt=0:0 " },
		{ "encrypt aes256cbc;", "encrypt=1:14 " },
		{ "encrypt oldblowfish128ecb;", "encrypt=1:999 " },
		{ "keepalive yes;", "keepalive=1:30:4" },
		{ "keepalive no;", "keepalive=0:30:4" },
		{ "keepalive 10:3;", "keepalive=1:10:3" },
		{ "keepalive 0:5;", "keepalive=0:30:4" },
		{ "stat yes;", "stat=1" },
		{ "stat enable;", "stat=1" },
		{ "persist yes;", "persist=1" },
		{ "persist keep;", "persist=2" },
		{ "persist no;", "persist=0" },
		{ "multi yes;", "multi=1" },
		{ "multi deny;", "multi=0" },
		{ "multi no;", "multi=0" },
		{ "multi killold;", "multi=2" },
		{ "timeout 12;", "timeout=12" },
		{ "speed 64;", "shape=1:64:64" },
		{ "speed 256:128;", "shape=1:256:128" },
		{ "speed 64; speed 0;", "shape=0:" },
		{ "speed 0:0;", "shape=0:0:0" },
		{ "nat_hack server;", "nat=1" },
		{ "delay_udp client;", "nat=1" },
		{ "nat_hack no;", "nat=0" },
		{ "srcaddr { addr 198.51.100.7; port 4000; };",
		    "src=2:198.51.100.7:4000" },
		{ "srcaddr { iface eth0; };", "src=1:eth0:0" },
		{ "srcaddr { iface \"eth1\"; };", "src=1:eth1:0" },
		{ "srcaddr { };", "src=0:-:0" },
		{ "up { ifconfig \"%% up\";\n ip \"link\"; };", "up=2 down=0" },
		{ "down { route \"del\"; };", "up=0 down=1" },
		{ "up { ip \"a\";\n ip \"c\"; };\n up { ip \"b\"; };", "up=1" },
		/* Values that mean nothing to vtund keep the one before. */
		{ "type tun; type yes;", "type=tun/3" },
		{ "proto udp; proto 7;", "proto=udp" },
		{ "multi 9;", "multi=1" },
		{ "persist 5;", "persist=0" },
		{ "compress zlib:12;", "compress=no:0" },
		{ "compress tcp;", "compress=no:0" },
	};
	char err[512], desc[1024], text[512];
	struct vtunconf_diag d;
	struct vtunconf *vc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(text, sizeof(text), "s {\n passwd pw;\n %s\n}\n",
		    cases[i].body);
		vc = parse(text, &d, err, sizeof(err));
		if (vc == NULL || vc->nhosts != 1) {
			dump_diag(&d);
			fail_msg("case %zu (%s): %s", i, cases[i].body, err);
		}
		describe(&vc->hosts[0], desc, sizeof(desc));
		if (strstr(desc, cases[i].want) == NULL) {
			dump_diag(&d);
			fail_msg("case %zu (%s):\n  got  %s\n  want %s", i,
			    cases[i].body, desc, cases[i].want);
		}
		vtunconf_free(vc);
		vtunconf_diag_free(&d);
	}
}

/* Commands: which program, which arguments, wait or not, which line. */
static void
test_commands(void **state)
{
	static const struct {
		const char *text;
		const char *want;	/* describe_cmds of up */
	} cases[] = {
		{ "s { passwd p; up {\n ifconfig \"%% 192.0.2.1\";\n "
		    "route \"add x\";\n firewall \"-A\";\n ip \"link\";\n "
		    "ppp \"noip\";\n }; }",
		    "2:/sbin/ifconfig|%% 192.0.2.1|1|2;3:/sbin/route|add x|1|3;"
		    "4:/sbin/ipchains|-A|1|4;5:/sbin/ip|link|1|5;"
		    "1:/usr/sbin/pppd|noip|2|6;" },
		/* program: path, arguments and wait in any order. */
		{ "s { passwd p; up { program /bin/echo \"a b\" wait; }; }",
		    "0:/bin/echo|a b|1|1;" },
		{ "s { passwd p; up { program \"x\" /bin/echo; }; }",
		    "0:/bin/echo|x|0|1;" },
		{ "s { passwd p; up { program \"-c 'ls'\"; }; }",
		    "0:-|-c 'ls'|0|1;" },
		{ "s { passwd p; up { program /sbin/x; }; }",
		    "0:/sbin/x|-|0|1;" },
		/* The programs of options, as they were when read. */
		{ "options { ifconfig /usr/bin/ifc; ip /bin/ip2; }\n"
		    "s { passwd p; up { ifconfig \"a\";\n ip \"b\"; }; }\n"
		    "options { ifconfig /late; }",
		    "2:/usr/bin/ifc|a|1|2;5:/bin/ip2|b|1|3;" },
		{ "options { ifcfg /x/ifc; firewall /sbin/iptables; "
		    "route /r; ppp /p; }\n"
		    "s { passwd p; up { ifconfig \"a\";\n firewall \"f\";\n"
		    "route \"r\";\n ppp \"p\"; }; }",
		    "2:/x/ifc|a|1|2;4:/sbin/iptables|f|1|3;3:/r|r|1|4;"
		    "1:/p|p|2|5;" },
		/* A string runs to the last quote of its line (flex's \".*\"). */
		{ "s { passwd p; up { ip \"a\" \"b\"; }; }",
		    "5:/sbin/ip|a\" \"b|1|1;" },
		{ "s { passwd p; up { ip \"a\"; ip \"b\"; }; }",
		    "5:/sbin/ip|a\"; ip \"b|1|1;" },
		{ "s { passwd p; up { }; }", "" },
	};
	char err[512], desc[1024];
	struct vtunconf_diag d;
	struct vtunconf *vc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vc = parse(cases[i].text, &d, err, sizeof(err));
		if (vc == NULL || vc->nhosts != 1)
			fail_msg("case %zu: %s", i, err);
		describe_cmds(vc->hosts[0].up, desc, sizeof(desc));
		if (strcmp(desc, cases[i].want) != 0)
			fail_msg("case %zu:\n  got  %s\n  want %s", i, desc,
			    cases[i].want);
		vtunconf_free(vc);
		vtunconf_diag_free(&d);
	}
}

/* options { }: each keyword, and the first port/timeout/type winning. */
static void
test_options(void **state)
{
	static const char text[] =
	    "options {\n"
	    "  port 5001;\n"
	    "  bindaddr { addr 198.51.100.1; };\n"
	    "  syslog local3;\n"
	    "  timeout 40;\n"
	    "  type stand;\n"
	    "  iface \"eth9\";\n"
	    "  ipv6;\n"
	    "}\n"
	    "options {\n"
	    "  port 6000;\n"
	    "  bindaddr { iface lo; };\n"
	    "  timeout 50;\n"
	    "  type inetd;\n"
	    "  syslog 24;\n"
	    "  ipv4;\n"
	    "}\n";
	char err[512];
	struct vtunconf_diag d;
	struct vtunconf *vc;

	(void)state;
	vc = parse(text, &d, err, sizeof(err));
	assert_non_null(vc);
	assert_int_equal(vc->opts.port, 5001);
	assert_int_equal(vc->opts.port_src.line, 2);
	assert_true(diag_has(&d, "t.conf:11: options: port 6000 is ignored: "
	    "vtund keeps the first port (5001, line 2)"));
	assert_int_equal(vc->opts.timeout, 40);
	assert_true(diag_has(&d, "t.conf:13: options: timeout 50 is ignored"));
	assert_int_equal(vc->opts.svr_type, 0);
	assert_true(diag_has(&d, "t.conf:14: options: type inetd is ignored"));
	/* bindaddr and syslog: the last one counts. */
	assert_int_equal(vc->opts.bind_type, VTUNCONF_ADDR_IFACE);
	assert_string_equal(vc->opts.bind_name, "lo");
	assert_int_equal(vc->opts.bind_src.line, 12);
	assert_int_equal(vc->opts.syslog, LOG_DAEMON);
	assert_int_equal(vc->opts.syslog_src.line, 15);
	assert_string_equal(vc->opts.iface, "eth9");
	assert_int_equal(vc->opts.family, 4);
	assert_int_equal(vc->opts.family_src.line, 16);
	assert_int_equal(vc->nhosts, 0);
	vtunconf_free(vc);
	vtunconf_diag_free(&d);

	vc = parse("options { syslog daemon; bindaddr { addr vpn.example; }; }",
	    &d, err, sizeof(err));
	assert_non_null(vc);
	assert_int_equal(vc->opts.syslog, LOG_DAEMON);
	assert_int_equal(vc->opts.bind_type, VTUNCONF_ADDR_NAME);
	assert_string_equal(vc->opts.bind_name, "vpn.example");
	assert_int_equal(vc->opts.port, -1);
	vtunconf_free(vc);
	vtunconf_diag_free(&d);
}

/*
 * vtund's quirks: default applies to the sessions after it (and default
 * blocks add up); a session without passwd is dropped; a second session
 * of one name is kept after the first; up in default is inherited until a
 * session has its own.
 */
static void
test_quirks(void **state)
{
	static const char text[] =
	    "early { passwd a; }\n"				/* 1 */
	    "default { proto udp; compress yes; up { ip \"d\"; }; }\n"
	    "mid { passwd b; }\n"				/* 3 */
	    "default { compress no; keepalive 10:2; passwd x; }\n"
	    "late { passwd c; up { ip \"own\"; program /bin/two; }; }\n"
	    "nopass { type tun; }\n"				/* 6 */
	    "mid { passwd again; }\n"				/* 7 */
	    "# a comment { with braces }\n"
	    "last { passwd d; };\n";				/* 9 */
	char err[512], desc[1024];
	struct vtunconf_diag d;
	struct vtunconf *vc;

	(void)state;
	vc = parse(text, &d, err, sizeof(err));
	assert_non_null(vc);
	assert_int_equal(vc->nhosts, 5);
	describe(&vc->hosts[0], desc, sizeof(desc));
	assert_non_null(strstr(desc, "name=early line=1 passwd=a "));
	assert_non_null(strstr(desc, "proto=tcp compress=no:0 "));
	assert_non_null(strstr(desc, "up=0 "));
	describe(&vc->hosts[1], desc, sizeof(desc));
	assert_non_null(strstr(desc, "name=mid line=3 passwd=b "));
	assert_non_null(strstr(desc, "proto=udp compress=zlib:1 "));
	assert_non_null(strstr(desc, "keepalive=0:30:4 "));
	assert_non_null(strstr(desc, "up=1 "));
	describe(&vc->hosts[2], desc, sizeof(desc));
	assert_non_null(strstr(desc, "name=late line=5 passwd=c "));
	assert_non_null(strstr(desc, "proto=udp compress=no:0 "));
	assert_non_null(strstr(desc, "keepalive=1:10:2 "));
	assert_non_null(strstr(desc, "up=2 "));
	describe(&vc->hosts[3], desc, sizeof(desc));
	assert_non_null(strstr(desc, "name=mid line=7 passwd=again "));
	describe(&vc->hosts[4], desc, sizeof(desc));
	assert_non_null(strstr(desc, "name=last line=9 passwd=d "));
	/* The inherited up list is the default's own, shared. */
	assert_ptr_equal(vc->hosts[1].up, vc->hosts[3].up);
	assert_true(diag_has(&d, "t.conf:4: default: passwd is ignored"));
	assert_true(diag_has(&d, "t.conf:6: session nopass has no passwd; "
	    "vtund ignores it"));
	/* "};" after a session: vtund logs the ';' and reads on. */
	assert_true(diag_has(&d, "t.conf:9: invalid character ';' ignored"));
	vtunconf_free(vc);
	vtunconf_diag_free(&d);

	/* Two strings on one line are one string to vtund: say so. */
	vc = parse("s { passwd p;\n up { ip \"a\"; ip \"b\"; };\n}", &d, err,
	    sizeof(err));
	assert_non_null(vc);
	assert_int_equal(vc->hosts[0].up->n, 1);
	assert_true(diag_has(&d, "t.conf:2: this string runs to the last '\"' "
	    "of its line"));
	vtunconf_free(vc);
	vtunconf_diag_free(&d);
}

/* Tokens as vtund's flex lexer cuts them. */
static void
test_lexer(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		/* A word may hold # $ & ^ % \ and more. */
		{ "s { passwd Ma&^TU#x$y%z\\w~.@+=!*; }", "passwd=Ma&^TU#x$y%z"
		    "\\w~.@+=!* " },
		/* Session names: letters, digits, '-' and '_'. */
		{ "big-buck_bunny2 { passwd p; }", "name=big-buck_bunny2 " },
		{ "9lives { passwd p; }", "name=9lives " },
		/* Comments in blocks, tabs, CRLF-free lines, blank lines. */
		{ "\n\n# c\ns {\t# c2\n\tpasswd p;\t# c3\n\n\tdevice tap3;\n}",
		    "name=s line=4 passwd=p device=tap3 " },
		/* A value may continue on the next line; ';' ends it. */
		{ "s { passwd\n p\n ; type\n tun\n; }", "passwd=p " },
		/* Garbage bytes are skipped, as vtund skips them. */
		{ "s { passwd p; type tun,; }", "type=tun/1" },
		{ "s { passwd p; type tun;; }", "type=tun/1" },
	};
	char err[512], desc[1024];
	struct vtunconf_diag d;
	struct vtunconf *vc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vc = parse(cases[i].text, &d, err, sizeof(err));
		if (vc == NULL || vc->nhosts != 1)
			fail_msg("case %zu: %s", i, err);
		describe(&vc->hosts[0], desc, sizeof(desc));
		if (strstr(desc, cases[i].want) == NULL)
			fail_msg("case %zu:\n  got  %s\n  want %s", i, desc,
			    cases[i].want);
		vtunconf_free(vc);
		vtunconf_diag_free(&d);
	}
}

/* Where vtund stops reading, we stop too: the line and why. */
static void
test_errors(void **state)
{
	static const struct {
		const char *text;
		const char *want;	/* err starts with it */
	} cases[] = {
		{ "s {\n passwd p;\n comp yes;\n}",
		    "t.conf:3: unknown keyword 'comp' in s; did you mean "
		    "'compress'? (vtund 3.0 reads keywords in full" },
		{ "s {\n passwd p;\n keepalve yes;\n}",
		    "t.conf:3: unknown keyword 'keepalve' in s; did you mean "
		    "'keepalive'?" },
		{ "s {\n passwd p\n type tun;\n}",
		    "t.conf:3: 'type' where a keyword should start the next "
		    "setting of s (a ';' missing before it, or a value in two "
		    "words?)" },
		{ "s {\n passwd \"secret\";\n}",
		    "t.conf:2: passwd: expected the password as one word "
		    "without quotes, got the string \"secret\"" },
		{ "s {\n passwd 1234;\n}",
		    "t.conf:2: passwd: expected the password as one word" },
		{ "s {\n passwd p;\n device tun;\n}",
		    "t.conf:3: device: expected a device name, got 'tun' (one "
		    "of vtund's value words" },
		{ "s {\n passwd p;\n type; }",
		    "t.conf:3: type: expected a number or a word" },
		{ "s {\n}", "t.conf:2: s { } is empty" },
		{ "options {\n}", "t.conf:2: options { } is empty" },
		{ "default { }", "t.conf:1: default { } is empty" },
		{ "s {\n passwd p;\n up { ip \"x\"; }\n persist yes;\n}",
		    "t.conf:4: 'persist' where a keyword should start" },
		{ "options {\n passwd p;\n}",
		    "t.conf:2: 'passwd' cannot be used in options { }; it "
		    "belongs in a session" },
		{ "s {\n passwd p;\n port 5000;\n}",
		    "t.conf:3: s: 'port' cannot be used here; it belongs in "
		    "options" },
		{ "s {\n passwd p;\n ifconfig /sbin/ifconfig;\n}",
		    "t.conf:3: s: 'ifconfig' cannot be set here" },
		{ "s {\n passwd p;\n up { ifconfig /sbin/x; };\n}",
		    "t.conf:3: ifconfig: expected its arguments as a "
		    "\"string\", got the path /sbin/x" },
		{ "s {\n passwd p;\n up { echo \"x\"; };\n}",
		    "t.conf:3: unknown keyword 'echo' in up { } / down { }" },
		{ "s {\n passwd p;\n up { stat yes; };\n}",
		    "t.conf:3: 'stat' is not a command" },
		{ "s {\n passwd p;\n up { program; };\n}",
		    "t.conf:3: program: expected a /path" },
		{ "options {\n syslog lokal0;\n}",
		    "t.conf:2: syslog: unknown facility 'lokal0'" },
		{ "options {\n ipv6 yes;\n}",
		    "t.conf:2: 'yes' where a keyword should start" },
		{ "options {\n port fast;\n}",
		    "t.conf:2: port: expected a port number, got 'fast'" },
		{ "options {\n bindaddr { addr a; iface b; };\n}",
		    "t.conf:2: expected '}' after the one setting of bindaddr" },
		{ "options {\n bindaddr { port 1; };\n}",
		    "t.conf:2: bindaddr { } takes one 'addr NAME;'" },
		{ "s {\n passwd p;\n srcaddr { bindaddr x; };\n}",
		    "t.conf:3: srcaddr { } takes addr, iface and port" },
		{ "my.host {\n passwd p;\n}",
		    "t.conf:1: 'my.host' is not a section name" },
		{ "port {\n}", "t.conf:1: 'port' cannot start a section" },
		{ "s {\n passwd p;\n", "t.conf:3: the file ends inside s" },
		{ "s { passwd p; }\n}\n", "t.conf:2: '}' without a block" },
		{ "{ }", "t.conf:1: '{' where a section" },
		{ "s { passwd p; up { ip \"x\"; } }\nt { passwd q; }",
		    "t.conf:2: 't' cannot start a section here: vtund still "
		    "reads the block above" },
		{ "s { passwd p; type tun }\nt { passwd q; }",
		    "t.conf:2: 't' cannot start a section here" },
	};
	char err[512];
	struct vtunconf_diag d;
	struct vtunconf *vc;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		vc = parse(cases[i].text, &d, err, sizeof(err));
		if (vc != NULL || strncmp(err, cases[i].want,
		    strlen(cases[i].want)) != 0 || strchr(err, '\n') != NULL)
			fail_msg("case %zu: %s\n  got  \"%s\"\n  want \"%s\"",
			    i, vc != NULL ? "parsed" : "failed", err,
			    cases[i].want);
		vtunconf_diag_free(&d);
	}
}

/* Limits: string length, size, NUL, word length, commands per block. */
static void
test_limits(void **state)
{
	char err[512], *big;
	struct vtunconf_diag d = { 0 };
	struct vtunconf *vc;
	size_t i, o;

	(void)state;
	big = malloc(VTUNCONF_FILE_MAX + 2);
	assert_non_null(big);

	/* A string of 252 bytes is read, one of 253 is not. */
	o = (size_t)sprintf(big, "s { passwd p; up { ip \"");
	memset(big + o, 'a', VTUNCONF_STRING_MAX);
	strcpy(big + o + VTUNCONF_STRING_MAX, "\"; }; }");
	vc = vtunconf_parse(PATH, big, strlen(big), &d, err, sizeof(err));
	assert_non_null(vc);
	vtunconf_free(vc);
	o = (size_t)sprintf(big, "s { passwd p; up { ip \"");
	memset(big + o, 'a', VTUNCONF_STRING_MAX + 1);
	strcpy(big + o + VTUNCONF_STRING_MAX + 1, "\"; }; }");
	assert_null(vtunconf_parse(PATH, big, strlen(big), &d, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "t.conf:1: string longer than 252"));

	/* More than VTUNCONF_CMDS_MAX commands in one block. */
	o = (size_t)sprintf(big, "s { passwd p; up {");
	for (i = 0; i <= VTUNCONF_CMDS_MAX; i++)
		o += (size_t)sprintf(big + o, "\n ip \"x\";");
	strcpy(big + o, " }; }");
	assert_null(vtunconf_parse(PATH, big, strlen(big), &d, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "more than 256 commands"));

	/* A NUL byte, and a file above the size limit. */
	assert_null(vtunconf_parse(PATH, "s { passwd p;\0 }", 16, &d, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "t.conf: contains a NUL byte"));
	memset(big, '#', VTUNCONF_FILE_MAX + 1);
	assert_null(vtunconf_parse(PATH, big, VTUNCONF_FILE_MAX + 1, &d, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "larger than"));

	/* A word longer than VTUNCONF_TOKEN_MAX. */
	o = (size_t)sprintf(big, "s { passwd ");
	memset(big + o, 'x', VTUNCONF_TOKEN_MAX + 1);
	strcpy(big + o + VTUNCONF_TOKEN_MAX + 1, "; }");
	assert_null(vtunconf_parse(PATH, big, strlen(big), &d, err,
	    sizeof(err)));
	assert_non_null(strstr(err, "longer than 4096"));

	/* Garbage: warnings are capped and counted. */
	memset(big, ',', 3000);
	vc = vtunconf_parse(PATH, big, 3000, &d, err, sizeof(err));
	assert_non_null(vc);
	assert_int_equal(d.n, VTUNCONF_DIAG_MAX);
	assert_int_equal(d.dropped, 3000 - VTUNCONF_DIAG_MAX);
	vtunconf_free(vc);
	vtunconf_diag_free(&d);
	free(big);
}

/* Warnings come out in line order, stable within a line. */
static void
test_diag_sort(void **state)
{
	struct vtunconf_diag d = { 0 };

	(void)state;
	vtunconf_warn(&d, "f", 9, "c");
	vtunconf_warn(&d, "f", 2, "a");
	vtunconf_warn(&d, "f", 9, "d");
	vtunconf_warn(&d, "f", 0, "z");
	vtunconf_diag_sort(&d);
	assert_int_equal(d.n, 4);
	assert_string_equal(d.v[0].text, "f: z");
	assert_string_equal(d.v[1].text, "f:2: a");
	assert_string_equal(d.v[2].text, "f:9: c");
	assert_string_equal(d.v[3].text, "f:9: d");
	vtunconf_diag_free(&d);
	assert_string_equal(vtunconf_cipher_name(1), "blowfish128ecb");
	assert_string_equal(vtunconf_cipher_name(16), "aes256ofb");
	assert_null(vtunconf_cipher_name(0));
	assert_string_equal(vtunconf_cipher_name(999), "oldblowfish128ecb");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_keywords),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_quirks),
		cmocka_unit_test(test_lexer),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_diag_sort),
	};

	return cmocka_run_group_tests_name("vtunconf", tests, NULL, NULL);
}
