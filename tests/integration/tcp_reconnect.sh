#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A persistent client outlives its server.  With a TCP tun tunnel up and
# pinging, the server gets SIGKILL (no CLOSE frame, no clean TLS end); the
# client must log the lost connection and a reconnect, and keep running,
# also through a refused connect while the server is down.  The server is
# started again with the same file: within 15 s the client
# must be back, with ping through the tunnel both ways, and must have
# logged the second "up".
# shellcheck disable=SC2317 # functions run by lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli
lib_key cobra

cat >"$LIB_TMP/server.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  proto = "tcp";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
# persist is left at its default (true) on purpose.
cat >"$LIB_TMP/client.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_B/30" ];
};
CONF
clog=$LIB_TMP/client-cli-cobra.log
slog=$LIB_TMP/server-srv.log

# count PATTERN FILE: the number of lines matching (grep -E).
count() {
	grep -cE -- "$1" "$2"
}

# up_count_is N: the client has logged "up" N times.
up_count_is() {
	[ "$(count "cobra: up with " "$clog")" -eq "$1" ]
}

# reconnects_at_least N: the client has scheduled N reconnects or more.
reconnects_at_least() {
	[ "$(count "cobra: reconnecting in " "$clog")" -ge "$1" ]
}

lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
lib_client cli "$LIB_TMP/client.conf" cobra "$LIB_UL4_A"
client=$LIB_BG_PID
lib_wait_up cli tl-cobra 15 "$LIB_TUN4_B"
lib_wait_up srv tl-cobra 5 "$LIB_TUN4_A"
lib_ping cli "$LIB_TUN4_A" || lib_fail "no ping through the first session"
up_count_is 1 || lib_fail "the client did not log exactly one 'up'"

lib_log "killing the server (PID $server) with SIGKILL"
kill -KILL "$server" || lib_hard_error "cannot signal the server"
lib_wait_pid "$server" 5
rc=$?
[ "$rc" -eq $((128 + 9)) ] || lib_fail "the server ended with $rc, not by SIGKILL"

# The client notices the dead peer (the kernel closed the server's
# socket) and schedules a reconnect rather than exiting.
lib_wait_log "$clog" 10 "cobra: connection with .* lost" ||
	lib_fail "the client did not log the lost connection"
lib_wait_log "$clog" 5 "cobra: reconnecting in [0-9.]+ s" ||
	lib_fail "the client did not log a reconnect"
lib_wait_for 5 lib_not lib_nsexec srv ip link show tl-cobra ||
	lib_fail "the dead server's device is still there"
# persist = true (not "keep"): the client gives its device up meanwhile.
lib_wait_for 5 lib_not lib_nsexec cli ip link show tl-cobra ||
	lib_fail "the client kept its device without persist = \"keep\""
lib__is_child "$client" || lib_fail "the client exited after losing the server"
# Let one attempt hit the closed port first: a refused connect must lead
# to the next, longer backoff, not to an exit.
lib_wait_for 10 reconnects_at_least 2 ||
	lib_fail "the client did not retry after a refused connect"
lib__is_child "$client" || lib_fail "the client exited after a refused connect"

# The same config again.  lib_server waits for "listening on" in
# server-srv.log, so the first server's log moves aside first.
mv "$slog" "$LIB_TMP/server-srv-killed.log"
lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
lib_log "server restarted (PID $server)"

lib_wait_for 15 up_count_is 2 ||
	lib_fail "the client was not back up within 15 s of the restart"
lib_wait_up cli tl-cobra 5 "$LIB_TUN4_B"
lib_wait_up srv tl-cobra 5 "$LIB_TUN4_A"
lib_ping cli "$LIB_TUN4_A" || lib_fail "no client -> server ping after the restart"
lib_ping srv "$LIB_TUN4_B" || lib_fail "no server -> client ping after the restart"
lib__is_child "$client" || lib_fail "the client exited"
grep -q "cobra: up with " "$slog" ||
	lib_fail "the restarted server did not log the session up"

kill -TERM "$client"
lib_wait_pid "$client" 10 || lib_fail "the client did not exit 0 on SIGTERM"
kill -0 "$server" || lib_fail "the restarted server died"
lib_pass
