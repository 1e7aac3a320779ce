#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The server restarts while three clients are connected (issue 7, fault
# tests): sessions "a" and "b" over UDP and "c" over TCP, each client in
# its own namespace (persist = true, the default).  The server is stopped
# with SIGTERM (it sends CLOSE), started again after 2 s, stopped with
# SIGKILL (no CLOSE at all) and started again.  After each restart every
# client must be back by itself within 30 s (a second, third "up" in its
# log), with ping through its tunnel both ways, and no client may have
# exited.
# shellcheck disable=SC2317 # functions run by lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping ip
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

lib_netns_add srv
lib_netns_add br
SESSIONS=(a b c)
declare -A PROTO=([a]=udp [b]=udp [c]=tcp) NET=([a]=0 [b]=4 [c]=8)

# One bridge in namespace br joins the server and the three clients on
# the underlay 198.51.100.0/24 (.1 the server, .11.. the clients).
lib_nsexec br ip link add br0 type bridge || lib_hard_error "no bridge"
lib_nsexec br ip link set br0 up
# join SHORT ADDR: a veth from namespace SHORT into the bridge.
join() {
	lib_veth "$1" ul0 "$2/24" br "p-$1" ""
	lib_nsexec br ip link set "p-$1" master br0 ||
		lib_hard_error "cannot add p-$1 to the bridge"
}
join srv "$LIB_UL4_A"
n=11
for s in "${SESSIONS[@]}"; do
	lib_netns_add "c$s"
	join "c$s" "198.51.100.$n"
	n=$((n + 1))
	lib_key "$s"
done

: >"$LIB_TMP/server.conf"
for s in "${SESSIONS[@]}"; do
	cat >>"$LIB_TMP/server.conf" <<CONF
$s = {
  key = "$LIB_TMP/$s.key";
  proto = "${PROTO[$s]}";
  device = "tl-$s";
  address = [ "192.0.2.$((NET[$s] + 1))/30" ];
};
CONF
	cat >"$LIB_TMP/client-$s.conf" <<CONF
$s = {
  key = "$LIB_TMP/$s.key";
  device = "tl-$s";
  address = [ "192.0.2.$((NET[$s] + 2))/30" ];
};
CONF
done

# ups S: how many times client S logged "up".
ups() {
	grep -c "$1: up with" "$LIB_TMP/client-c$1-$1.log" 2>/dev/null
}
# back S N: client S has been up more than N times and pings both ways.
back() {
	[ "$(ups "$1")" -gt "$2" ] &&
	    lib_ping "c$1" "192.0.2.$((NET[$1] + 1))" 1 &&
	    lib_ping srv "192.0.2.$((NET[$1] + 2))" 1
}

lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
declare -A CLIENT=()
for s in "${SESSIONS[@]}"; do
	lib_client "c$s" "$LIB_TMP/client-$s.conf" "$s" "$LIB_UL4_A"
	CLIENT[$s]=$LIB_BG_PID
done
for s in "${SESSIONS[@]}"; do
	lib_wait_for 30 back "$s" 0 ||
		lib_fail "client $s (${PROTO[$s]}) did not come up"
done
lib_log "three clients up (a, b over UDP; c over TCP)"

round=1
for sig in TERM KILL; do
	declare -A before=()
	for s in "${SESSIONS[@]}"; do
		before[$s]=$(ups "$s")
	done
	kill "-$sig" "$server"
	lib_wait_pid "$server" 10 2>/dev/null
	lib_wait_for 10 lib_not lib_nsexec srv ip link show tl-a ||
		lib_fail "the server's devices outlived it"
	sleep 2	# the server stays away for a while (not a synchronisation)
	lib_server srv "$LIB_TMP/server.conf"
	server=$LIB_BG_PID
	for s in "${SESSIONS[@]}"; do
		lib_wait_for 30 back "$s" "${before[$s]}" ||
			lib_fail "after SIG$sig, client $s did not come back" \
			    "within 30 s"
		kill -0 "${CLIENT[$s]}" || lib_fail "client $s exited"
	done
	lib_log "restart $round (SIG$sig): all three clients came back"
	round=$((round + 1))
done

kill -TERM "$server" "${CLIENT[@]}"
for p in "$server" "${CLIENT[@]}"; do
	lib_wait_pid "$p" 10 || lib_fail "PID $p did not exit 0 on SIGTERM"
done
lib_pass
