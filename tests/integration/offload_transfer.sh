#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Offloads (options.offload) end to end: a tun session over
# UDP and over TCP, with offloads on at both ends, off at both ends, and
# on at the client only (the server then splits what arrives whole over
# TCP, and writes segments one by one over UDP).  In every case a 24 MiB
# file crosses each way with nc and arrives with the same sha256, client
# -> server over IPv4 inside and server -> client over IPv6 inside (TCPv4
# and TCPv6 super-packets).  The status counters must show super-packets
# where offloads are on and none where they are off, no packet may be
# dropped, and neither namespace's kernel may count a TCP or UDP checksum
# error.  In the UDP case with offloads on, an inner UDP flow (iperf3 -u
# at 50 Mbit/s for 2 s) crosses as well: datagrams arrive, almost none
# are lost, and none fails its checksum.
# shellcheck disable=SC2317 # functions run through lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"
# shellcheck source=udprelay_lib.sh
. "$(dirname "$lib")/udprelay_lib.sh"

lib_require_root
lib_require_cmd nc ss ping sha256sum jq iperf3
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

PORT=5001
MIB=24

lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli
udprelay_wait_ipv6 5 srv ul0 cli ul0
lib_key cobra

data=$LIB_TMP/data
head -c $((MIB << 20)) /dev/urandom >"$data" ||
	lib_hard_error "cannot create $data"

# conf FILE OFFLOAD PROTO ADDR4 ADDR6 SOCK
conf() {
	cat >"$1" <<CONF
options = { offload = $2; control = "$6"; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  proto = "$3";
  persist = false;
  device = "tl-cobra";
  address = [ "$4/$LIB_TUN4_LEN", "$5/$LIB_TUN6_LEN" ];
};
CONF
}

# csum_errors SHORT: the namespace's TCP and UDP InCsumErrors, summed.
csum_errors() {
	lib_nsexec "$1" cat /proc/net/snmp | awk '
	    $1 == "Tcp:" || $1 == "Udp:" {
		if (!($1 in hdr)) { hdr[$1] = 1; for (i = 2; i <= NF; i++)
		    col[$1, $i] = i; next }
		n += $(col[$1, "InCsumErrors"])
	    }
	    END { print n + 0 }'
}

# status CONF: the session's JSON status in $LIB_TMP/status.json.
status() {
	lib_run 10 "$TAPLINE" status -f "$1" --json cobra \
	    >"$LIB_TMP/status.json" 2>"$LIB_TMP/status.err" ||
		lib_fail "tapline status -f $1 failed:" \
		    "$(cat "$LIB_TMP/status.err")"
}

# supers CONF DIR: DIR (rx or tx) super-packets of the session.
supers() {
	status "$1"
	jq -e -r ".sessions[0].$2.super_packets" "$LIB_TMP/status.json" ||
		lib_fail "no $2.super_packets in $(cat "$LIB_TMP/status.json")"
}

# drops CONF: the session's drops, summed, but for "no_address": a fresh
# server device may send a router solicitation or two before the client's
# first datagram said where the client is.
drops() {
	status "$1"
	jq -e -r '[.sessions[0].drops | to_entries[] |
	    select(.key != "no_address") | .value] | add' \
	    "$LIB_TMP/status.json" ||
		lib_fail "no drops in $(cat "$LIB_TMP/status.json")"
}

# run PROTO SERVER_OFFLOAD CLIENT_OFFLOAD
run() {
	local proto=$1 so=$2 co=$3 server client s c n
	local sconf=$LIB_TMP/server.conf cconf=$LIB_TMP/client.conf
	lib_log "$proto, offload: server $so, client $co"
	conf "$sconf" "$so" "$proto" "$LIB_TUN4_A" "$LIB_TUN6_A" \
	    "$LIB_TMP/srv.sock"
	conf "$cconf" "$co" "$proto" "$LIB_TUN4_B" "$LIB_TUN6_B" \
	    "$LIB_TMP/cli.sock"
	lib_server srv "$sconf"
	server=$LIB_BG_PID
	lib_client cli "$cconf" cobra "$LIB_UL4_A"
	client=$LIB_BG_PID
	lib_wait_up cli tl-cobra 15 "$LIB_TUN4_B"
	lib_wait_up srv tl-cobra 5 "$LIB_TUN4_A"
	lib_wait_for 10 lib_ping cli "$LIB_TUN6_A" 1 ||
		lib_fail "no IPv6 ping through the tunnel"

	lib_transfer cli srv "$LIB_TUN4_A" "$PORT" "$data"
	lib_transfer srv cli "$LIB_TUN6_B" "$PORT" "$data"
	lib_log "$MIB MiB each way arrived intact"

	# Super-packets where offloads are on, none where they are off.
	s=$(supers "$sconf" tx) c=$(supers "$cconf" tx)
	lib_log "super-packets read: server $s, client $c"
	if [ "$so" = true ]; then
		[ "$s" -gt 0 ] || lib_fail "the server read no super-packet"
	else
		[ "$s" = 0 ] || lib_fail "the server read super-packets"
	fi
	if [ "$co" = true ]; then
		[ "$c" -gt 0 ] || lib_fail "the client read no super-packet"
	else
		[ "$c" = 0 ] || lib_fail "the client read super-packets"
	fi
	# Over TCP they are written whole where the receiver has offloads.
	if [ "$proto" = tcp ] && [ "$co" = true ]; then
		n=$(supers "$sconf" rx)
		if [ "$so" = true ]; then
			[ "$n" -gt 0 ] ||
				lib_fail "the server wrote no super-packet"
		else
			[ "$n" = 0 ] || lib_fail "the server (offload off)" \
			    "wrote super-packets"
		fi
	fi
	# Over UDP the receiver merges segments again.
	if [ "$proto" = udp ] && [ "$so" = true ] && [ "$co" = true ]; then
		n=$(supers "$sconf" rx)
		[ "$n" -gt 0 ] || lib_fail "the server merged no segments"
		udp_flow
	fi
	for f in "$sconf" "$cconf"; do
		n=$(drops "$f")
		[ "$n" = 0 ] || lib_fail "$(basename "$f"): $n drops:" \
		    "$(jq -c '.sessions[0].drops' "$LIB_TMP/status.json")"
	done
	for ns in srv cli; do
		n=$(csum_errors "$ns")
		[ "$n" = 0 ] || lib_fail "$(lib_ns "$ns") counted $n checksum" \
		    "errors"
	done
	kill -TERM "$client" "$server"
	lib_wait_pid "$client" 10 || lib_fail "the client did not exit 0"
	lib_wait_pid "$server" 10 || lib_fail "the server did not exit 0"
	rm -f "$LIB_TMP/server-srv.log" "$LIB_TMP/client-cli-cobra.log"
}

# An inner UDP flow at a fixed rate, client -> server.
udp_flow() {
	local out=$LIB_TMP/iperf3-u.json iperf got lost
	lib_bg_ns srv iperf3 -s -1 -B "$LIB_TUN4_A" >/dev/null 2>&1
	iperf=$LIB_BG_PID
	lib_wait_for 5 lib__listening srv 5201 || lib_fail "iperf3 -s did not start"
	lib_run 20 ip netns exec "$(lib_ns cli)" iperf3 -c "$LIB_TUN4_A" -u \
	    -b 50M -l 1200 -t 2 -J >"$out" 2>&1 ||
		lib_fail "iperf3 -u failed: $(head -c 500 "$out")"
	lib_wait_pid "$iperf" 10
	got=$(jq -r '.end.sum.packets - .end.sum.lost_packets' "$out")
	lost=$(jq -r '.end.sum.lost_percent' "$out")
	lib_log "iperf3 -u: $got datagrams arrived, $lost % lost"
	[ "$got" -gt 1000 ] || lib_fail "only $got UDP datagrams arrived"
	awk -v l="$lost" 'BEGIN { exit !(l < 5) }' ||
		lib_fail "iperf3 -u lost $lost % at 50 Mbit/s"
}

run udp true true
run udp false false
run udp false true
run tcp true true
run tcp false false
run tcp false true
lib_pass
