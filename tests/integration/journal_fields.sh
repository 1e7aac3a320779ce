#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Journal fields: a server and a client, each with stderr connected to a
# journald of the test's own (JOURNAL_STREAM set as systemd sets it),
# bring up two sessions, cobra and viper.  `journalctl
# TAPLINE_SESSION=cobra` must find cobra's lines, with the peer's address
# in TAPLINE_PEER=, a PRIORITY= and SYSLOG_IDENTIFIER=tapline, and none
# of viper's; every line of a client process names its session.
# journald runs in a private mount namespace (tmpfs over /run/systemd,
# /run/log and /var/log/journal), so the host's logs are never touched;
# the test runs itself again inside it.  Skips without libsystemd.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
if [ -z "${TL_JOURNAL_NS:-}" ] && [ -z "${TAPLINE_SKIP_INTEGRATION:-}" ] &&
    [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1; then
	TL_JOURNAL_NS=1 exec unshare -m --propagation private bash "$0" "$@"
fi
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd unshare journalctl systemd-cat stat ping
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"
[ -n "${TL_JOURNAL_NS:-}" ] || lib_skip "cannot make a private mount namespace"
grep -q '^#define HAVE_LIBSYSTEMD 1' "${top_builddir:-.}/config.h" ||
	lib_skip "built without libsystemd (plain stderr lines, no fields)"
journald=/lib/systemd/systemd-journald
[ -x "$journald" ] || lib_skip "needs $journald"

# The test's own journal: nothing of it reaches the host's directories.
for d in /run/systemd /run/log /var/log/journal; do
	mkdir -p "$d" && mount -t tmpfs -o mode=0755 tmpfs "$d" ||
		lib_skip "cannot mount a tmpfs on $d"
done
mkdir -p /run/systemd/journal /run/log/journal
lib_bg "$journald" >"$LIB_TMP/journald.log" 2>&1
lib_wait_for 10 test -S /run/systemd/journal/stdout ||
	lib_fail "journald did not open its stream socket: $(cat "$LIB_TMP/journald.log")"
lib_wait_for 10 test -S /run/systemd/journal/socket ||
	lib_fail "journald did not open its native socket"

lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli
lib_key cobra
lib_key viper

cat >"$LIB_TMP/server.conf" <<CONF
options = { control = "$LIB_TMP/srv.sock"; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  address = [ "192.0.2.1/30" ];
};
viper = {
  key = "$LIB_TMP/viper.key";
  proto = "tcp";
  device = "tl-viper";
  address = [ "192.0.2.5/30" ];
};
CONF
cat >"$LIB_TMP/client.conf" <<CONF
options = { control = "$LIB_TMP/cli.sock"; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  address = [ "192.0.2.2/30" ];
};
viper = {
  key = "$LIB_TMP/viper.key";
  proto = "tcp";
  device = "tl-viper";
  address = [ "192.0.2.6/30" ];
};
CONF

# in_journal SHORT TAG CMD...: run CMD in the namespace with stderr on a
# journal stream and JOURNAL_STREAM naming it, as systemd does.
in_journal() {
	local ns=$1 tag=$2
	shift 2
	# shellcheck disable=SC2016 # sh expands them
	lib_bg_ns "$ns" systemd-cat -t "$tag" sh -c \
	    'JOURNAL_STREAM=$(stat -L -c %d:%i /proc/self/fd/2) exec "$@"' \
	    sh "$@"
}

in_journal srv tl-server "$TAPLINE" -n -v -s -f "$LIB_TMP/server.conf"
in_journal cli tl-cobra "$TAPLINE" -n -v -f "$LIB_TMP/client.conf" cobra \
    "$LIB_UL4_A"
in_journal cli tl-viper "$TAPLINE" -n -v -f "$LIB_TMP/client.conf" viper \
    "$LIB_UL4_A"
lib_wait_up cli tl-cobra 15 192.0.2.2
lib_wait_up cli tl-viper 15 192.0.2.6
lib_ping cli 192.0.2.1 1 || lib_fail "no ping through cobra"
lib_ping cli 192.0.2.5 1 || lib_fail "no ping through viper"

# jfields FIELD=VALUE...: the matching entries, one line each, as
# "MESSAGE|TAPLINE_SESSION|TAPLINE_PEER|PRIORITY|SYSLOG_IDENTIFIER|_PID".
jfields() {
	journalctl --no-pager -o json "$@" | jq -r '[.MESSAGE,
	    .TAPLINE_SESSION // "", .TAPLINE_PEER // "", .PRIORITY,
	    .SYSLOG_IDENTIFIER, ._PID] | join("|")'
}
lib_require_cmd jq
authed() {
	jfields TAPLINE_SESSION=cobra >"$LIB_TMP/cobra.j" &&
		grep -q '^cobra: authenticated ' "$LIB_TMP/cobra.j"
}
lib_wait_for 10 authed || lib_fail "journalctl TAPLINE_SESSION=cobra" \
    "shows no \"cobra: authenticated\": $(cat "$LIB_TMP/cobra.j")"
cat "$LIB_TMP/cobra.j"
server_pid=$(pgrep -f -n -- "-s -f $LIB_TMP/server.conf") ||
	lib_fail "no server process"

# The server's line about cobra: its peer (the client's underlay address
# and port), priority and identifier.
grep -qE "^cobra: authenticated $LIB_UL4_B:[0-9]+\|cobra\|$LIB_UL4_B:[0-9]+\|6\|tapline\|$server_pid\$" \
    "$LIB_TMP/cobra.j" ||
	lib_fail "the server's \"authenticated\" entry lacks its fields"
grep -q viper "$LIB_TMP/cobra.j" && lib_fail "viper's lines under cobra"
# A client's lines all name its session, even those without a tag.
jfields SYSLOG_IDENTIFIER=tapline >"$LIB_TMP/all.j"
client_pid=$(pgrep -f -n -- "client.conf cobra") || lib_fail "no cobra client"
grep "|$client_pid\$" "$LIB_TMP/all.j" >"$LIB_TMP/client.j"
[ -s "$LIB_TMP/client.j" ] || lib_fail "no entries of the cobra client"
if grep -v '^[^|]*|cobra|' "$LIB_TMP/client.j"; then
	lib_fail "a line of the cobra client does not name cobra (above)"
fi
# The message text is the plain one: no "<N>" prefix, no "tapline: ".
if grep -E '^(<[0-9]>|tapline: )' "$LIB_TMP/all.j"; then
	lib_fail "a message kept a stderr prefix (above)"
fi
jfields TAPLINE_SESSION=viper | grep -q '^viper: authenticated ' ||
	lib_fail "journalctl TAPLINE_SESSION=viper finds no viper line"
lib_pass
