#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The server's name is resolved the way the system resolves it, at every
# attempt.  The client's namespace has its own hosts file (and an
# nsswitch.conf that asks only the files), in which vpn.example.net is
# the server's first underlay address; the session names its server
# only in the file (server = "vpn.example.net").  With the TCP tunnel up,
# the server stops; while it is away `tapline status` must say which
# server the client tries and why it is retrying (the refused connect).
# Then the server comes back listening on another address only, and the
# hosts file says so: the persistent client must be back up within its
# backoff (20 s), connected to the new address, and status must show it.
# shellcheck disable=SC2317 # functions run by lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd jq ping
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

OLD=$LIB_UL4_A
NEW=198.51.100.3
NAME=vpn.example.net

lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli
lib_addr_add srv ul0 "$NEW/$LIB_UL4_LEN"
lib_key cobra
# Before the client starts: ip netns exec binds these at its start.
lib_ns_etc cli nsswitch.conf "hosts: files"
lib_ns_etc cli hosts "$OLD $NAME"

cat >"$LIB_TMP/server.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  proto = "tcp";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
CCONF=$LIB_TMP/client.conf
cat >"$CCONF" <<CONF
options = { control = "$LIB_TMP/cli.sock"; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  server = "$NAME";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_B/30" ];
};
CONF
clog=$LIB_TMP/client-cli-cobra.log
slog=$LIB_TMP/server-srv.log

up_count_is() {
	[ "$(grep -c "cobra: up with " "$clog")" -eq "$1" ]
}

# status_has JQ-FILTER: the client's status answer satisfies the filter.
status_has() {
	lib_run 10 "$TAPLINE" status -f "$CCONF" --json cobra \
	    >"$LIB_TMP/status.json" 2>/dev/null &&
	    jq -e "$1" "$LIB_TMP/status.json" >/dev/null
}

lib_server srv "$LIB_TMP/server.conf" -L "$OLD"
server=$LIB_BG_PID
# No server on the command line: the one of the file.
lib_bg_ns cli "$TAPLINE" -n -v -f "$CCONF" cobra >>"$clog" 2>&1
client=$LIB_BG_PID
lib_wait_up cli tl-cobra 15 "$LIB_TUN4_B"
lib_ping cli "$LIB_TUN4_A" || lib_fail "no ping through the first session"
grep -q "cobra: connecting to $OLD:5000" "$clog" ||
	lib_fail "the client did not connect to $NAME's address $OLD"

lib_log "stopping the server on $OLD"
kill -TERM "$server" || lib_hard_error "cannot signal the server"
lib_wait_pid "$server" 10 || lib_fail "the server did not exit 0"
mv "$slog" "$LIB_TMP/server-srv-old.log"
# While the server is away: which server, and why the client retries.
lib_wait_for 10 status_has ".sessions[0].server == \"$NAME\" and
    (.sessions[0].last_error | test(\"$OLD:5000: Connection refused\"))" ||
	lib_fail "status did not show the server and the refused connect:" \
	    "$(cat "$LIB_TMP/status.json" 2>/dev/null)"

lib_log "moving $NAME to $NEW"
lib_ns_etc cli hosts "$NEW $NAME"
lib_server srv "$LIB_TMP/server.conf" -L "$NEW"
server=$LIB_BG_PID
lib_wait_for 20 up_count_is 2 ||
	lib_fail "the client was not back within 20 s of the move"
grep -q "cobra: connecting to $NEW:5000" "$clog" ||
	lib_fail "the client did not connect to the new address $NEW"
lib_wait_up cli tl-cobra 5 "$LIB_TUN4_B"
lib_ping cli "$LIB_TUN4_A" || lib_fail "no ping after the move"
lib_wait_for 5 status_has ".sessions[0].state == \"up\" and
    (.sessions[0].peer | startswith(\"$NEW:\")) and
    .sessions[0].server == \"$NAME\" and .sessions[0].last_error == null" ||
	lib_fail "status after the move: $(cat "$LIB_TMP/status.json")"

kill -TERM "$client"
lib_wait_pid "$client" 10 || lib_fail "the client did not exit 0"
lib_pass
