#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# systemd's readiness protocol, with the test as the service manager: a
# datagram socket of its own in NOTIFY_SOCKET and WATCHDOG_USEC=2000000,
# as Type=notify with WatchdogSec=2 would pass them.  The server says
# READY=1 once it listens and STATUS= with the sessions up; the client,
# started the way tapline@.service starts it (its server from the config),
# says "connecting to ... (attempt 1)", then READY=1 only once the tunnel
# is up (its device configured: a ping goes through at that moment) and
# "connected to ...", and "...; reconnecting in N s" and "attempt N
# failed: ...; next in N s" when the server goes, never READY=1 again;
# both ping WATCHDOG=1 every second and say STOPPING=1 on SIGTERM.  A
# client without persist whose server is not there exits non-zero and
# never says READY=1 (so `systemctl start` fails).  Every message must
# come from the daemon's own PID.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"
lib_require_bin NOTIFYRECV "${top_builddir:-.}/tests/tools/notifyrecv"

lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli
lib_key cobra

cat >"$LIB_TMP/server.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  keepalive = 1;
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
cat >"$LIB_TMP/client.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  server = "$LIB_UL4_A";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_B/30" ];
};
CONF

# The managers' ends: path sockets work across network namespaces.
lib_bg "$NOTIFYRECV" "$LIB_TMP/srv.sock" 90 >"$LIB_TMP/srv.notify" \
    2>>"$LIB_TMP/notifyrecv.log"
lib_bg "$NOTIFYRECV" "$LIB_TMP/cli.sock" 90 >"$LIB_TMP/cli.notify" \
    2>>"$LIB_TMP/notifyrecv.log"
lib_wait_for 5 test -S "$LIB_TMP/srv.sock" ||
	lib_hard_error "notifyrecv did not bind $LIB_TMP/srv.sock"
lib_wait_for 5 test -S "$LIB_TMP/cli.sock" ||
	lib_hard_error "notifyrecv did not bind $LIB_TMP/cli.sock"

# has FILE PID REGEX: a message from PID whose VAR=value matches REGEX.
has() {
	grep -qE "^$2 ($3)\$" "$1"
}

# count FILE PID REGEX: how many such messages.
count() {
	grep -cE "^$2 ($3)\$" "$1"
}

# at_least N FILE PID REGEX
at_least() {
	[ "$(count "$2" "$3" "$4")" -ge "$1" ]
}

# expect SECONDS FILE PID REGEX WHAT: wait for a message or fail.
expect() {
	lib_wait_for "$1" has "$2" "$3" "$4" ||
		lib_fail "no $5 from PID $3 within $1 s; got:
$(cat "$2")"
}

# "ip netns exec" and env exec the daemon: the recorded PID is its own.
lib_bg_ns srv env NOTIFY_SOCKET="$LIB_TMP/srv.sock" WATCHDOG_USEC=2000000 \
    "$TAPLINE" -n -v -s -f "$LIB_TMP/server.conf" \
    >>"$LIB_TMP/server-srv.log" 2>&1
server=$LIB_BG_PID
expect 10 "$LIB_TMP/srv.notify" "$server" "READY=1" "server READY=1"
grep -q "listening on" "$LIB_TMP/server-srv.log" ||
	lib_fail "the server said READY=1 before it listened"
expect 2 "$LIB_TMP/srv.notify" "$server" "STATUS=0 sessions up" \
    "server STATUS"
# WATCHDOG_USEC=2 s: a ping at once and then every second.
lib_wait_for 5 at_least 3 "$LIB_TMP/srv.notify" "$server" "WATCHDOG=1" ||
	lib_fail "the server did not ping the watchdog every second:
$(cat "$LIB_TMP/srv.notify")"

# As tapline@cobra.service runs it: no SERVER argument.
lib_bg_ns cli env NOTIFY_SOCKET="$LIB_TMP/cli.sock" WATCHDOG_USEC=2000000 \
    "$TAPLINE" -n -v -f "$LIB_TMP/client.conf" -- cobra \
    >>"$LIB_TMP/client-cli-cobra.log" 2>&1
client=$LIB_BG_PID
expect 10 "$LIB_TMP/cli.notify" "$client" \
    "STATUS=connecting to $LIB_UL4_A \\(attempt 1\\)" "client STATUS=connecting"
expect 15 "$LIB_TMP/cli.notify" "$client" "READY=1" "client READY=1"
# READY=1 means up: the device is there and carries a ping right now.
lib_ping cli "$LIB_TUN4_A" 1 || lib_fail "READY=1 came before a ping worked"
grep -q "up with" "$LIB_TMP/client-cli-cobra.log" ||
	lib_fail "READY=1 came before the client logged the tunnel up"
expect 5 "$LIB_TMP/cli.notify" "$client" \
    "STATUS=connected to $LIB_UL4_A:5000" "client STATUS=connected"
expect 5 "$LIB_TMP/srv.notify" "$server" "STATUS=1 session up" \
    "server STATUS=1 session up"
lib_wait_for 5 at_least 3 "$LIB_TMP/cli.notify" "$client" "WATCHDOG=1" ||
	lib_fail "the client did not ping the watchdog every second:
$(cat "$LIB_TMP/cli.notify")"
lib_ping cli "$LIB_TUN4_A" 1 || lib_fail "no ping through the tunnel"

# The server stops: it says so, and the client starts reconnecting.
kill -TERM "$server"
expect 5 "$LIB_TMP/srv.notify" "$server" "STOPPING=1" "server STOPPING=1"
lib_wait_pid "$server" 15 || lib_fail "the server did not exit 0 on SIGTERM"
expect 15 "$LIB_TMP/cli.notify" "$client" \
    "STATUS=the session with .* ended; reconnecting in [0-9.]+ s" \
    "client STATUS=...; reconnecting"
expect 15 "$LIB_TMP/cli.notify" "$client" \
    "STATUS=attempt [0-9]+ failed: .*; next in [0-9.]+ s" \
    "client STATUS=attempt N failed: ...; next in"
[ "$(count "$LIB_TMP/cli.notify" "$client" "READY=1")" = 1 ] ||
	lib_fail "the client said READY=1 more than once:
$(cat "$LIB_TMP/cli.notify")"

kill -TERM "$client"
expect 5 "$LIB_TMP/cli.notify" "$client" "STOPPING=1" "client STOPPING=1"
lib_wait_pid "$client" 15 || lib_fail "the client did not exit 0 on SIGTERM"

# Without persist and without a server: exit non-zero, never READY=1.
sed 's/^cobra = {$/cobra = {\n  persist = false;/' "$LIB_TMP/client.conf" \
    >"$LIB_TMP/once.conf"
grep -q "persist = false" "$LIB_TMP/once.conf" ||
	lib_hard_error "cannot make the config without persist"
lib_bg "$NOTIFYRECV" "$LIB_TMP/once.sock" 30 >"$LIB_TMP/once.notify" \
    2>>"$LIB_TMP/notifyrecv.log"
lib_wait_for 5 test -S "$LIB_TMP/once.sock" ||
	lib_hard_error "notifyrecv did not bind $LIB_TMP/once.sock"
lib_bg_ns cli env NOTIFY_SOCKET="$LIB_TMP/once.sock" \
    "$TAPLINE" -n -v -f "$LIB_TMP/once.conf" -- cobra \
    >>"$LIB_TMP/client-cli-once.log" 2>&1
once=$LIB_BG_PID
lib_wait_pid "$once" 15
rc=$?
[ "$rc" -ne 124 ] ||
	lib_fail "the client without persist and server did not exit"
[ "$rc" -ne 0 ] || lib_fail "the client without a server exited 0"
if has "$LIB_TMP/once.notify" "$once" "READY=1"; then
	lib_fail "the client said READY=1 without a tunnel"
fi

# Nothing may come from anyone else (an up command, a child).
if grep -vE "^($server|$client) " "$LIB_TMP/srv.notify" \
    "$LIB_TMP/cli.notify"; then
	lib_fail "messages from a PID that is not the daemon's"
fi
lib_pass
