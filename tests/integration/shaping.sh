#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# speed = 4000 (kbit/s, both ways, as vtund's `speed`): a 20 s iperf3
# transfer through a UDP session, and a 10 s one through a TCP session,
# land within a coarse band around 4 Mbit/s (50 % .. 110 %).  A functional
# bound, not a benchmark: without shaping the same path carries hundreds
# of Mbit/s.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd iperf3 ss
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli
lib_key cobra

# measure PROTO SECONDS: Mbit/s the receiver saw, client -> server, into
# $rate (not echoed: lib_bg must run in the main shell, not a subshell).
measure() {
	local proto=$1 secs=$2 server client iperf
	cat >"$LIB_TMP/server.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  proto = "$proto";
  speed = 4000;
  device = "tl-cobra";
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
	cat >"$LIB_TMP/client.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  speed = 4000;
  device = "tl-cobra";
  address = [ "$LIB_TUN4_B/30" ];
};
CONF
	rm -f "$LIB_TMP/server-srv.log"
	lib_server srv "$LIB_TMP/server.conf"
	server=$LIB_BG_PID
	lib_client cli "$LIB_TMP/client.conf" cobra "$LIB_UL4_A"
	client=$LIB_BG_PID
	lib_wait_up cli tl-cobra 15 "$LIB_TUN4_B"
	lib_wait_up srv tl-cobra 5 "$LIB_TUN4_A"
	lib_wait_for 5 lib_ping cli "$LIB_TUN4_A" 1 || lib_fail "no ping over $proto"
	lib_bg_ns srv iperf3 -s -1 -B "$LIB_TUN4_A" >"$LIB_TMP/iperf3-s.out" 2>&1
	iperf=$LIB_BG_PID
	lib_wait_for 5 lib_nsexec srv sh -c "ss -ltn | grep -q '$LIB_TUN4_A:5201'" ||
		lib_fail "iperf3 did not start"
	lib_run $((secs + 20)) ip netns exec "$(lib_ns cli)" iperf3 -c "$LIB_TUN4_A" \
	    -t "$secs" -f m >"$LIB_TMP/iperf3-$proto.out" 2>&1 ||
		{ cat "$LIB_TMP/iperf3-$proto.out"; lib_fail "iperf3 over $proto failed"; }
	lib_wait_pid "$iperf" 10
	rate=$(awk '/receiver/ { print $(NF-2) }' "$LIB_TMP/iperf3-$proto.out")
	lib_log "speed = 4000 over $proto: $rate Mbit/s"
	kill -TERM "$client" "$server"
	lib_wait_pid "$client" 10
	lib_wait_pid "$server" 10
}

check() {
	# 50 % .. 110 % of 4 Mbit/s, in Mbit/s with two decimals.
	awk -v r="$2" 'BEGIN { exit !(r >= 2.0 && r <= 4.4) }' ||
		lib_fail "speed = 4000 over $1 gave $2 Mbit/s, outside 2.0 .. 4.4"
}

measure udp 20
udp=$rate
check udp "$udp"
measure tcp 10
tcp=$rate
check tcp "$tcp"
lib_log "udp $udp Mbit/s, tcp $tcp Mbit/s"
lib_pass
