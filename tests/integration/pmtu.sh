#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Path MTU that just works over UDP (issue 18).  The client reaches the
# server through a router whose link to the server is a narrower hop:
# first 1420 bytes, then 1280.  The client learns the hop only from the
# router's ICMP, the server from its own interface.  Three sessions over
# it: "p4" (tun over the IPv4 underlay), "p6" (tun over IPv6) and "pt"
# (tap over IPv4).  For each hop:
# - a new TCP connection through p4 sends segments no larger than the
#   path carries: the SYN-ACK's MSS was clamped (mssfix; with
#   mssfix = false this failed: "mss 1387", not at most 1319);
# - a ping with DF at the full device MTU through each tun gets "frag
#   needed" (IPv6: "packet too big") naming the MTU the path carries
#   inside the tunnel (hop - outer IP/UDP header - 33), never more, and
#   for inner IPv6 never less than 1280;
# - 24 MiB of TCP cross each tun both ways with their sha256 intact (the
#   old code dropped every full-size datagram with "Message too long"
#   and the transfer never completed);
# - IPv4 without DF at the full device MTU, and 1280-byte IPv6 where the
#   path carries less inside, cross whole (fragmented outside);
# - the tap has MTU 1500 and a 1500-byte IP packet with DF crosses it
#   (the outer datagram is fragmented by IP instead);
# - `tapline status --json` shows the path MTU and drops for size.
# shellcheck disable=SC2317 # functions run through lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping nc jq sha256sum ss
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

lib_netns_add cli
lib_netns_add rtr
lib_netns_add srv
lib_routed cli rtr srv

data=$LIB_TMP/data
head -c $((24 << 20)) /dev/urandom >"$data" ||
	lib_hard_error "cannot create $data"

SCONF=$LIB_TMP/server.conf
CCONF=$LIB_TMP/client.conf
echo "options = { control = \"$LIB_TMP/srv.sock\"; };" >"$SCONF"
echo "options = { control = \"$LIB_TMP/cli.sock\"; };" >"$CCONF"
# name type underlay-family; session i uses 192.0.2.(4i+1|4i+2)/30 and
# 2001:db8:2:i::1|2/64.
SESSIONS=("p4 tun 4" "p6 tun 6" "pt tap 4")
i=0
for c in "${SESSIONS[@]}"; do
	read -r name type _ <<<"$c"
	lib_key "$name"
	for side in "$SCONF 1" "$CCONF 2"; do
		read -r conf n <<<"$side"
		cat >>"$conf" <<CONF
$name = {
  key = "$LIB_TMP/$name.key";
  type = "$type";
  device = "tl-$name";
  persist = false;
  address = [ "192.0.2.$((4 * i + n))/30", "2001:db8:2:$i::$n/64" ];
};
CONF
	done
	i=$((i + 1))
done

lib_server srv "$SCONF"
server=$LIB_BG_PID
for c in "${SESSIONS[@]}"; do
	read -r name _ fam <<<"$c"
	ul=$LIB_RT4_SRV
	[ "$fam" = 6 ] && ul=$LIB_RT6_SRV
	lib_client cli "$CCONF" "$name" "$ul"
done
i=0
for c in "${SESSIONS[@]}"; do
	read -r name _ <<<"$c"
	lib_wait_up srv "tl-$name" 15 "192.0.2.$((4 * i + 1))"
	lib_wait_up cli "tl-$name" 15 "192.0.2.$((4 * i + 2))"
	lib_wait_for 10 lib_ping cli "192.0.2.$((4 * i + 1))" 1 ||
		lib_fail "$name: no ping through the tunnel"
	i=$((i + 1))
done

# status NS NAME FILTER: a value from the JSON status of session NAME.
status() {
	local conf=$CCONF
	[ "$1" = srv ] && conf=$SCONF
	lib_run 10 "$TAPLINE" status -f "$conf" --json "$2" \
	    >"$LIB_TMP/status.out" 2>&1 || return 1
	jq -e -r ".sessions[0]$3" "$LIB_TMP/status.out"
}

# too_big NS ADDR SIZE WANT [-6]: a DF ping of SIZE bytes of data is
# answered with "frag needed" / "packet too big" naming MTU WANT (ping
# prints it as "mtu = N", "mtu=N" or, once the kernel holds it, as a
# local error "mtu: N").
too_big() {
	local out
	out=$(lib_nsexec "$1" ping ${5:+"$5"} -n -c 3 -i 0.3 -W 1 -M "do" \
	    -s "$3" "$2" 2>&1)
	grep -E "mtu ?[=:] ?$4([^0-9]|$)" <<<"$out" | head -1 \
	    >"$LIB_TMP/too_big.line"
	[ -s "$LIB_TMP/too_big.line" ] &&
		lib_log "ping -M do -s $3 $2: $(cat "$LIB_TMP/too_big.line")" \
		    >>"$LIB_TMP/too_big.log"
}

# mss_clamped ADDR PORT MAX: a new TCP connection from the client to ADDR
# in the server sends segments of at most MAX bytes: the server's SYN-ACK
# crossed the tunnel with its MSS clamped (mssfix), before any ICMP.
mss_clamped() {
	local l c mss
	lib_bg_ns srv nc -d -l "$1" "$2"
	l=$LIB_BG_PID
	lib_wait_for 5 lib__listening srv "$2" || { lib__stop "$l"; return 1; }
	lib_bg_ns cli nc -d "$1" "$2"
	c=$LIB_BG_PID
	lib_wait_for 5 established "$1" "$2"
	mss=$(lib_nsexec cli ss -Hnti state established dst "$1" \
	    dport = ":$2" | grep -o ' mss:[0-9]*' | head -1)
	lib__stop "$c" "$l"
	mss=${mss#*:}
	echo "mss $mss" >"$LIB_TMP/mss.line"
	[ -n "$mss" ] && [ "$mss" -le "$3" ]
}

# established ADDR PORT: the client holds a connection to ADDR:PORT.
established() {
	lib_nsexec cli ss -Hnt state established dst "$1" dport = ":$2" |
		grep -q .
}

for hop in 1420 1280; do
	lib_hop_mtu rtr srv "$hop"
	lib_log "hop MTU $hop"
	i=0
	for c in "${SESSIONS[@]}"; do
		read -r name type fam <<<"$c"
		s4=192.0.2.$((4 * i + 1)) c4=192.0.2.$((4 * i + 2))
		s6=2001:db8:2:$i::1 c6=2001:db8:2:$i::2
		i=$((i + 1))
		dev=tl-$name
		mtu=$(lib_nsexec cli cat "/sys/class/net/$dev/mtu")
		if [ "$type" = tap ]; then
			[ "$mtu" = 1500 ] ||
				lib_fail "$name: tap MTU is $mtu, not 1500"
			lib_nsexec cli ping -n -q -c 3 -i 0.2 -W 2 -M "do" -s 1472 \
			    "$s4" >/dev/null 2>&1 ||
				lib_fail "$name: no 1500-byte ping across the" \
				    "$hop hop"
			lib_nsexec srv ping -n -q -c 3 -i 0.2 -W 2 -M "do" -s 1472 \
			    "$c4" >/dev/null 2>&1 ||
				lib_fail "$name: no 1500-byte ping back across" \
				    "the $hop hop"
			lib_log "$name: 1500-byte frames cross the $hop hop"
			continue
		fi
		hdr=28
		[ "$fam" = 6 ] && hdr=48
		eff=$((hop - hdr - 33))
		eff6=$eff
		[ "$eff6" -lt 1280 ] && eff6=1280
		lib_log "$name: device MTU $mtu, inside the path $eff"
		if [ "$name" = p4 ]; then
			lib_wait_for 15 mss_clamped "$s4" 5009 $((eff - 40)) ||
				lib_fail "$name: the SYN-ACK's MSS was not" \
				    "clamped to $((eff - 40)):" \
				    "$(cat "$LIB_TMP/mss.line" 2>/dev/null)"
			lib_log "$name: a new connection's $(cat \
			    "$LIB_TMP/mss.line"), at most $((eff - 40))"
		fi
		rm -f "$LIB_TMP/too_big.log"
		lib_transfer cli srv "$s4" 5001 "$data"
		lib_transfer srv cli "$c4" 5002 "$data"
		lib_log "$name: 24 MiB crossed the $hop hop both ways"
		# One byte more than the path carries inside: that size
		# reaches the tunnel whatever MTU the inner hosts still hold
		# from the wider hop before.
		if [ "$mtu" -gt "$eff" ]; then
			lib_wait_for 10 too_big cli "$s4" $((eff + 1 - 28)) \
			    "$eff" ||
				lib_fail "$name: no frag needed with mtu $eff"
			lib_wait_for 10 too_big srv "$c4" $((eff + 1 - 28)) \
			    "$eff" ||
				lib_fail "$name: no frag needed with mtu $eff" \
				    "at the server"
		fi
		if [ "$mtu" -gt "$eff6" ]; then
			lib_wait_for 10 too_big cli "$s6" $((eff6 + 1 - 48)) \
			    "$eff6" -6 ||
				lib_fail "$name: no packet too big with mtu $eff6"
			lib_wait_for 10 too_big srv "$c6" $((eff6 + 1 - 48)) \
			    "$eff6" -6 ||
				lib_fail "$name: no packet too big with mtu" \
				    "$eff6 at the server"
		fi
		cat "$LIB_TMP/too_big.log" 2>/dev/null
		# What may be fragmented crosses whole: IPv4 without DF at
		# the full device MTU, and IPv6 packets of 1280 bytes when
		# the path carries less inside (none smaller can be asked).
		lib_nsexec cli ping -n -q -c 3 -i 0.2 -W 2 -M dont \
		    -s $((mtu - 28)) "$s4" >/dev/null 2>&1 ||
			lib_fail "$name: no $mtu-byte ping without DF"
		lib_nsexec srv ping -n -q -c 3 -i 0.2 -W 2 -M dont \
		    -s $((mtu - 28)) "$c4" >/dev/null 2>&1 ||
			lib_fail "$name: no $mtu-byte ping back without DF"
		if [ "$eff" -lt 1280 ]; then
			lib_nsexec cli ping -6 -n -q -c 3 -i 0.2 -W 2 -M "do" \
			    -s 1232 "$s6" >/dev/null 2>&1 ||
				lib_fail "$name: no 1280-byte IPv6 ping"
			lib_nsexec srv ping -6 -n -q -c 3 -i 0.2 -W 2 -M "do" \
			    -s 1232 "$c6" >/dev/null 2>&1 ||
				lib_fail "$name: no 1280-byte IPv6 ping back"
		fi
		lib_log "$name: $mtu bytes without DF and 1280-byte IPv6 cross"
		pm=$(status cli "$name" .path_mtu) ||
			lib_fail "$name: no path_mtu in the client's status"
		[ "$pm" = "$hop" ] ||
			lib_fail "$name: the client's path MTU is $pm, not $hop"
		tb=$(status cli "$name" .drops.too_big) ||
			lib_fail "$name: no too_big drops in the client's status"
		lib_log "$name: client path MTU $pm, $tb dropped for size"
	done
done

kill -0 "$server" || lib_fail "the server died"
lib_pass
