#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A peer killed with SIGKILL in the middle of a transfer (issue 7, fault
# tests), over UDP and over TCP, each side in turn:
#  1. client -> server transfer running, the client gets SIGKILL: the
#     server ends the session (summary logged, device gone) and keeps
#     serving; a new client comes up and a 16 MiB file crosses intact.
#  2. server -> client transfer running, the server gets SIGKILL: the
#     persistent client logs the lost connection and keeps running; a new
#     server comes up with the same file, the client returns by itself
#     (backoff) and a 16 MiB file crosses intact.
# Neither survivor may crash, and the killed transfer's receiver must not
# be handed a byte more than was sent (checked by the sha256 of the next
# transfer on a fresh receiver).
# shellcheck disable=SC2317 # functions run by lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"
# shellcheck source=udprelay_lib.sh
. "$(dirname "$lib")/udprelay_lib.sh"

lib_require_root
lib_require_cmd nc ss ping sha256sum
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

PORT=5001
lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli
lib_key cobra

data=$LIB_TMP/data
head -c $((16 << 20)) /dev/urandom >"$data" ||
	lib_hard_error "cannot create $data"
big=$LIB_TMP/big
head -c $((512 << 20)) /dev/zero >"$big" || lib_hard_error "cannot create $big"

# conf FILE PROTO ADDR: the session, persistent client by default.
conf() {
	cat >"$1" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  proto = "$2";
  device = "tl-cobra";
  address = [ "$3/30" ];
};
CONF
}

# slow_push FROM TO ADDR: start a long transfer (512 MiB, rate-limited by
# nothing but the tunnel) in the background; its PIDs in $push_pids.
slow_push() {
	local from=$1 to=$2 addr=$3
	lib_bg_ns "$to" nc -d -l "$addr" "$PORT" >/dev/null
	push_pids=$LIB_BG_PID
	lib_wait_for 5 lib__listening "$to" "$PORT" ||
		lib_fail "nc in $(lib_ns "$to") does not listen"
	# shellcheck disable=SC2016 # sh expands them
	lib_bg ip netns exec "$(lib_ns "$from")" \
	    sh -c 'exec nc "$1" "$2" <"$3" >/dev/null' sh "$addr" "$PORT" "$big"
	push_pids="$push_pids $LIB_BG_PID"
}

# moving SHORT: bytes are crossing the tunnel device in namespace SHORT.
rx_bytes() {
	lib_nsexec "$1" cat /sys/class/net/tl-cobra/statistics/rx_bytes \
	    2>/dev/null || echo 0
}
moving() {
	[ "$(rx_bytes "$1")" -gt $((4 << 20)) ]
}

# stop_push: end what is left of the interrupted transfer.
stop_push() {
	local p
	for p in $push_pids; do
		kill -TERM "$p" 2>/dev/null
		lib_wait_pid "$p" 5 >/dev/null 2>&1
	done
}

for proto in udp tcp; do
	lib_log "$proto: the client is killed during a client -> server transfer"
	conf "$LIB_TMP/server.conf" "$proto" "$LIB_TUN4_A"
	conf "$LIB_TMP/client.conf" "$proto" "$LIB_TUN4_B"
	rm -f "$LIB_TMP"/server-srv.log "$LIB_TMP"/client-cli-cobra.log
	lib_server srv "$LIB_TMP/server.conf"
	server=$LIB_BG_PID
	slog=$LIB_TMP/server-srv.log
	lib_client cli "$LIB_TMP/client.conf" cobra "$LIB_UL4_A"
	client=$LIB_BG_PID
	lib_wait_up cli tl-cobra 15 "$LIB_TUN4_B"
	lib_wait_up srv tl-cobra 5 "$LIB_TUN4_A"
	lib_wait_for 10 lib_ping cli "$LIB_TUN4_A" 1 || lib_fail "no ping"

	slow_push cli srv "$LIB_TUN4_A"
	lib_wait_for 15 moving srv || lib_fail "the transfer does not start"
	kill -KILL "$client"
	lib_wait_pid "$client" 5 2>/dev/null
	lib_wait_log "$slog" 20 "cobra: session with .* lasted" ||
		lib_fail "$proto: the server did not end the dead client's session"
	lib_wait_for 10 lib_not lib_nsexec srv ip link show tl-cobra ||
		lib_fail "$proto: the server kept the device of a dead session"
	stop_push
	kill -0 "$server" || lib_fail "$proto: the server died"

	lib_client cli "$LIB_TMP/client.conf" cobra "$LIB_UL4_A"
	client=$LIB_BG_PID
	lib_wait_up cli tl-cobra 15 "$LIB_TUN4_B"
	lib_wait_up srv tl-cobra 10 "$LIB_TUN4_A"
	lib_wait_for 10 lib_ping cli "$LIB_TUN4_A" 1 ||
		lib_fail "$proto: no ping after the client came back"
	lib_transfer cli srv "$LIB_TUN4_A" "$PORT" "$data"
	lib_log "$proto: a new client works: 16 MiB arrived intact"

	lib_log "$proto: the server is killed during a server -> client transfer"
	slow_push srv cli "$LIB_TUN4_B"
	lib_wait_for 15 moving cli || lib_fail "the transfer does not start"
	kill -KILL "$server"
	lib_wait_pid "$server" 5 2>/dev/null
	clog=$LIB_TMP/client-cli-cobra.log
	n_up=$(grep -c "cobra: up with" "$clog")
	lib_wait_log "$clog" 60 "reconnect|retry|connecting again|lost" ||
		lib_fail "$proto: the client did not notice the dead server"
	stop_push
	kill -0 "$client" || lib_fail "$proto: the client died with its server"

	lib_server srv "$LIB_TMP/server.conf"
	server=$LIB_BG_PID
	lib_wait_for 30 eval '[ "$(grep -c "cobra: up with" "$clog")" -gt "$n_up" ]' ||
		lib_fail "$proto: the client did not come back within 30 s"
	lib_wait_up cli tl-cobra 10 "$LIB_TUN4_B"
	lib_wait_up srv tl-cobra 10 "$LIB_TUN4_A"
	lib_wait_for 10 lib_ping srv "$LIB_TUN4_B" 1 ||
		lib_fail "$proto: no ping after the server came back"
	lib_transfer srv cli "$LIB_TUN4_B" "$PORT" "$data"
	lib_log "$proto: the client returned by itself: 16 MiB arrived intact"

	kill -TERM "$client" "$server"
	lib_wait_pid "$client" 10 || lib_fail "$proto: the client did not exit 0"
	lib_wait_pid "$server" 10 || lib_fail "$proto: the server did not exit 0"
done
lib_pass
