#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Site-to-site Ethernet bridging over a TCP tap tunnel (udp_bridge.sh
# runs the same over UDP: BRIDGE_PROTO=udp, and BRIDGE_HOP=MTU puts a
# router between the sites whose link to the server carries only MTU
# bytes).  Two sites, sA (server) and sB (client), joined by the
# underlay; each has a bridge br0
# with two LAN hosts on veths (hA1 .11, hA2 .12 at A; hB1 .21, hB2 .22
# at B, all in one 203.0.113.0/24).  Both sessions say type = "tap" and
# bridge = "br0": tapline itself must make its tap a port of br0.  Then
# hosts at one site reach hosts at the other by ARP and ping: the
# neighbour entries must hold the far hosts' own MACs (ARP crossed the
# tunnel) and each bridge must have learnt the far MACs on its tap port;
# the taps have the LAN's MTU, 1500, and full-size (1500-byte) packets
# with DF cross too, as do 8 MiB of TCP between LAN hosts each way,
# sha256-checked (over UDP across a narrower hop the datagrams are
# fragmented by IP; before issue 18 the tap got MTU 1425 over UDP and
# the bridge dropped every 1500-byte frame).
# shellcheck disable=SC2317 # functions run by lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

LIB_NAME=${BRIDGE_NAME:-$LIB_NAME}
PROTO=${BRIDGE_PROTO:-tcp}
HOP=${BRIDGE_HOP:-}

lib_require_root
lib_require_cmd ping bridge nc sha256sum ss
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

lan=$LIB_LAN4_PREFIX
# host short name -> LAN address
declare -A ip4=([hA1]=$lan.11 [hA2]=$lan.12 [hB1]=$lan.21 [hB2]=$lan.22)

lib_netns_add sA
lib_netns_add sB
if [ -n "$HOP" ]; then
	lib_netns_add rtr
	lib_routed sB rtr sA
	lib_hop_mtu rtr sA "$HOP"
	SERVER=$LIB_RT4_SRV
	lib_log "over $PROTO, across a $HOP-byte hop"
else
	lib_underlay sA sB
	SERVER=$LIB_UL4_A
	lib_log "over $PROTO"
fi
for h in hA1 hA2 hB1 hB2; do
	lib_netns_add "$h"
	site=s${h:1:1}
	# Site side "v<host>", host side "eth0".
	lib_veth "$site" "v$h" "" "$h" eth0 "${ip4[$h]}/$LIB_LAN4_LEN"
done
lib_bridge sA br0 vhA1 vhA2
lib_bridge sB br0 vhB1 vhB2

lib_key lan
cat >"$LIB_TMP/server.conf" <<CONF
lan = {
  key = "$LIB_TMP/lan.key";
  proto = "$PROTO";
  type = "tap";
  device = "tl-lan";
  bridge = "br0";
};
CONF
cat >"$LIB_TMP/client.conf" <<CONF
lan = {
  key = "$LIB_TMP/lan.key";
  type = "tap";
  device = "tl-lan";
  bridge = "br0";
};
CONF

# mac SHORT DEV: the device's MAC address.
mac() {
	lib_nsexec "$1" cat "/sys/class/net/$2/address"
}

# enslaved SHORT: the site's tl-lan is up and a port of br0.
enslaved() {
	lib_nsexec "$1" ip -d link show dev tl-lan | grep -q " master br0 " &&
		lib_dev_up "$1" tl-lan
}

lib_server sA "$LIB_TMP/server.conf"
server=$LIB_BG_PID
lib_client sB "$LIB_TMP/client.conf" lan "$SERVER"
client=$LIB_BG_PID
for site in sA sB; do
	lib_wait_for 15 enslaved "$site" || {
		lib_nsexec "$site" ip -d link show
		lib_fail "tl-lan in $(lib_ns "$site") is not an up port of br0"
	}
	link=$(lib_nsexec "$site" ip -d link show dev tl-lan)
	echo "$link"
	grep -q "tun type tap" <<<"$link" ||
		lib_fail "tl-lan in $(lib_ns "$site") is not a tap"
	grep -q "bridge_slave" <<<"$link" ||
		lib_fail "ip -d link shows no bridge_slave data for tl-lan"
	grep -q " mtu 1500 " <<<"$link" ||
		lib_fail "tl-lan in $(lib_ns "$site") has not the LAN's MTU 1500"
done

# The LAN hosts start with no neighbour entries at all.
for h in hA1 hA2 hB1 hB2; do
	lib_nsexec "$h" ip neigh flush dev eth0 2>/dev/null
done

# cross FROM TO: ping across the tunnel; FROM must then have TO's own MAC
# in its neighbour table, learnt by ARP through the tunnel.
cross() {
	local from=$1 to=$2 want got
	want=$(mac "$to" eth0)
	lib_ping "$from" "${ip4[$to]}" ||
		lib_fail "$from (${ip4[$from]}) cannot ping $to (${ip4[$to]})"
	got=$(lib_nsexec "$from" ip neigh show "${ip4[$to]}" dev eth0)
	lib_log "$from: $got"
	grep -qi "lladdr $want " <<<"$got " ||
		lib_fail "$from's neighbour entry for ${ip4[$to]} is '$got'," \
		    "not $to's MAC $want"
}

cross hA1 hB1
cross hA2 hB2
cross hB1 hA2
cross hB2 hA1

# Full-size frames (1500-byte IP packets, DF set) cross as well.
lib_nsexec hA1 ping -n -q -c 2 -i 0.2 -W 2 -M "do" -s 1472 "${ip4[hB2]}" \
    >/dev/null 2>&1 || lib_fail "no 1500-byte ping from hA1 to hB2"
lib_nsexec hB1 ping -n -q -c 2 -i 0.2 -W 2 -M "do" -s 1472 "${ip4[hA2]}" \
    >/dev/null 2>&1 || lib_fail "no 1500-byte ping from hB1 to hA2"

# 8 MiB of TCP between LAN hosts, each way, intact.
data=$LIB_TMP/data
head -c $((8 << 20)) /dev/urandom >"$data" ||
	lib_hard_error "cannot create $data"
lib_transfer hA1 hB1 "${ip4[hB1]}" 5001 "$data"
lib_transfer hB2 hA2 "${ip4[hA2]}" 5002 "$data"
lib_log "8 MiB crossed between the LANs both ways"

# Each bridge learnt the far hosts' MACs on its tap port, and only there.
for site in sA sB; do
	far=B
	[ "$site" = sB ] && far=A
	for h in "h${far}1" "h${far}2"; do
		m=$(mac "$h" eth0)
		fdb=$(lib_nsexec "$site" bridge fdb show br br0 | grep -i "^$m ")
		lib_log "$site fdb: $fdb"
		grep -q " dev tl-lan " <<<"$fdb " ||
			lib_fail "br0 in $(lib_ns "$site") did not learn $h's" \
			    "MAC $m on tl-lan: '$fdb'"
	done
done

up_re="lan: up with .*\\($PROTO, tap tl-lan, mtu 1500,"
[ "$PROTO" = udp ] &&
	up_re="lan: up with .*\\([A-Za-z0-9-]+, tap tl-lan, mtu 1500,"
grep -qE "$up_re" "$LIB_TMP/server-sA.log" ||
	lib_fail "the server did not log the tap session up over $PROTO"
grep -qE "$up_re" "$LIB_TMP/client-sB-lan.log" ||
	lib_fail "the client did not log the tap session up over $PROTO"

# A clean stop: the client exits 0 and both taps leave their bridges.
kill -TERM "$client"
lib_wait_pid "$client" 10 || lib_fail "the client did not exit 0 on SIGTERM"
lib_wait_for 5 lib_not lib_nsexec sB ip link show tl-lan ||
	lib_fail "the client's tap survived the client"
lib_wait_for 5 lib_not lib_nsexec sA ip link show tl-lan ||
	lib_fail "the server's tap survived the session"
lib_nsexec sA ip link show br0 >/dev/null ||
	lib_fail "the server's bridge went away with the tap"
kill -0 "$server" || lib_fail "the server died"
lib_pass
