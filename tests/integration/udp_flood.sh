#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A UDP flood at the server's port (issue 4; ATTACKS.md rows 1 and 20)
# while an established session keeps forwarding.  The client reaches the
# server through udprelay in mid (no faults), which tells the test the
# receiver id and epoch of the live session; the attacker in atk has its
# own link to the server.  From atk, 50 000 datagrams in two parts:
#  a. 20 000 of random bytes, 0..1500 long;
#  b. 30 000 valid-looking datagrams for the live receiver id, each wrong
#     in one way (udprelay --flood header): half only a wrong tag (the
#     AEAD must refuse them), the rest a bad epoch, flags, reserved byte,
#     type, counter 0 or beyond the limit, too short or too long.
# Asserted:
#  - a ping through the tunnel runs throughout and loses at most the echo
#    in flight when it is stopped; one TLS handshake, one session;
#  - nothing is answered: the flooder's socket receives nothing (no
#    datagram, no ICMP error), and not one packet leaves the server for
#    the attacker's link (its rx_packets do not move; ARP is static there
#    and IPv6 off, so that nothing else may come);
#  - the server's resident memory grows by less than 2 MiB;
#  - the server's summary counts each kind of the valid-looking datagrams
#    under its own reason, exactly as many as were sent (less any the
#    kernel dropped from the full socket queue, which it counts);
#  - the drop log stays rate-limited.
# shellcheck disable=SC2317 # functions run by lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"
# shellcheck source=udprelay_lib.sh
. "$(dirname "$lib")/udprelay_lib.sh"

lib_require_root
lib_require_cmd ping
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"
udprelay_require

port=5000
cli4=198.51.100.1
mid4=198.51.100.2
mid4a=198.51.100.17
srv4=198.51.100.20
atk4=198.51.100.33
GARBAGE=20000
HEADERS=30000
# Memory growth allowed during the flood (VmRSS, kB): a coarse bound.
RSS_SLACK_KB=2048

lib_netns_add cli
lib_netns_add mid
lib_netns_add srv
lib_netns_add atk
lib_veth cli ul0 "$cli4/30" mid ul0 "$mid4/30"
lib_veth mid ul1 "$mid4a/28" srv ul0 "$srv4/28"
# The attacker's own link: /32 routes at both ends, IPv6 off and static
# ARP, so that any packet the server sends there is an answer to it.
lib_veth srv ul1 "" atk ul0 "$atk4/32"
lib_nsexec srv sysctl -qw net.ipv6.conf.ul1.disable_ipv6=1 ||
	lib_fail "cannot turn IPv6 off on the server's side of the link"
lib_nsexec atk sysctl -qw net.ipv6.conf.ul0.disable_ipv6=1 ||
	lib_fail "cannot turn IPv6 off on the attacker's side of the link"
lib_nsexec srv ip route add "$atk4/32" dev ul1 ||
	lib_fail "cannot route $atk4 in the server's namespace"
lib_nsexec atk ip route add "$srv4/32" dev ul0 ||
	lib_fail "cannot route $srv4 in the attacker's namespace"
mac() {
	lib_nsexec "$1" ip -o link show dev "$2" |
	    sed -n 's/.* link\/ether \([0-9a-f:]*\) .*/\1/p'
}
srv_mac=$(mac srv ul1) atk_mac=$(mac atk ul0)
[[ -n $srv_mac && -n $atk_mac ]] || lib_fail "no MAC addresses"
lib_nsexec srv ip neigh replace "$atk4" lladdr "$atk_mac" dev ul1 \
    nud permanent || lib_fail "cannot set a static ARP entry for $atk4"
lib_nsexec atk ip neigh replace "$srv4" lladdr "$srv_mac" dev ul0 \
    nud permanent || lib_fail "cannot set a static ARP entry for $srv4"
lib_key cobra

cat >"$LIB_TMP/server.conf" <<CONF
options = { port = $port; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  keepalive = 2;
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
cat >"$LIB_TMP/client.conf" <<CONF
options = { port = $port; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  keepalive = 2;
  persist = false;
  address = [ "$LIB_TUN4_B/30" ];
};
CONF
slog=$LIB_TMP/server-srv.log

# The value of KEY in $LIB_TMP/NAME.stats, or "?" (no check accepts it).
st() {
	udprelay_stat "$LIB_TMP/$1.stats" "$2" || echo "?"
}

# check DESCRIPTION EXPR: the arithmetic EXPR must hold.
check() {
	local e=${2//[$'\t\n']/ }
	while [[ $e == *'  '* ]]; do
		e=${e//  / }
	done
	# shellcheck disable=SC2004 # $e is an expression, not a number
	if [[ $e != *'?'* ]] && (($e)) 2>/dev/null; then
		lib_log "ok: $1 ($e)"
	else
		lib_fail "$1: $e does not hold"
	fi
}

# count FILE PATTERN: lines matching (grep -E).
count() {
	grep -cE -- "$2" "$1"
}

# UDP receive-queue overflows in the server's namespace (IPv4).
rcvbuf_errors() {
	lib_nsexec srv cat /proc/net/snmp | awk '
	    $1 == "Udp:" && !h { for (i = 2; i <= NF; i++) n[i] = $i; h = 1; next }
	    $1 == "Udp:" { for (i = 2; i <= NF; i++)
		if (n[i] == "RcvbufErrors") print $i }'
}

# Packets the attacker's interface has received.
atk_rx() {
	lib_nsexec atk cat /sys/class/net/ul0/statistics/rx_packets
}

# The server's resident set in kB.
rss() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$server/status"
}

# flood NAME ARGS...: one part of the flood from atk, bounded in count
# and time; the flooder listens 1 s more for answers.
flood() {
	local name=$1
	shift
	lib_run 30 ip netns exec "$(lib_ns atk)" "$UDPRELAY" \
	    --send "$srv4:$port" --count "$@" --interval-us 100 \
	    --echo-wait-ms 1000 --max-seconds 25 \
	    --stats "$LIB_TMP/$name.stats" >>"$LIB_TMP/$name.log" 2>&1 ||
		lib_fail "$name: the flooder failed"
	lib_log "$name: $(tr '\n' ' ' <"$LIB_TMP/$name.stats")"
	check "$name: nothing answered" "$(st "$name" answers) == 0 && \
	    $(st "$name" answer_errors) == 0"
}

lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
udprelay_start mid relay --listen "$mid4:$port" --to "$srv4:$port" --tcp \
    --max-seconds 120
relay=$LIB_BG_PID
lib_client cli "$LIB_TMP/client.conf" cobra "$mid4"
client=$LIB_BG_PID
lib_wait_up cli tl-cobra 15 "$LIB_TUN4_B"
lib_wait_up srv tl-cobra 5 "$LIB_TUN4_A"
lib_ping cli "$LIB_TUN4_A" || lib_fail "no ping through the tunnel"
lib_nsexec atk ping -n -q -c 1 -W 2 "$srv4" >/dev/null ||
	lib_hard_error "the attacker cannot reach the server's address"

# The live session's receiver id and epoch, as the relay saw them go up.
udprelay_snapshot relay "$relay" || lib_fail "no stats from the relay"
rid=$(st relay up_rid) epoch=$(st relay up_epoch)
[[ $rid =~ ^[0-9a-f]{8}$ && $epoch =~ ^[0-9]+$ ]] ||
	lib_fail "the relay saw no tapline datagram (rid $rid, epoch $epoch)"
lib_log "the session's receiver id is $rid, epoch $epoch"

lib_bg_ns cli ping -n -i 0.2 -c 1000 -W 2 "$LIB_TUN4_A" \
    >"$LIB_TMP/ping.out" 2>&1
pinger=$LIB_BG_PID
lib_wait_for 5 grep -q "bytes from" "$LIB_TMP/ping.out" ||
	lib_fail "the background ping does not get through"

rss0=$(rss) rx0=$(atk_rx) rcv0=$(rcvbuf_errors) t0=$(lib__now_ms)
[[ $rss0 =~ ^[0-9]+$ && $rx0 =~ ^[0-9]+$ && $rcv0 =~ ^[0-9]+$ ]] ||
	lib_hard_error "cannot read RSS ($rss0), rx_packets ($rx0) or" \
	    "RcvbufErrors ($rcv0)"

lib_log "a. $GARBAGE random datagrams"
flood garbage "$GARBAGE" --flood garbage --seed 1
check "a: all sent" "$(st garbage sent) == $GARBAGE"
rss1=$(rss)
lib_ping cli "$LIB_TUN4_A" || lib_fail "no ping through the tunnel after part a"

lib_log "b. $HEADERS valid-looking datagrams for receiver id $rid"
flood headers "$HEADERS" --flood header --rid "$rid" --epoch "$epoch" --seed 2
check "b: all sent" "$(st headers sent) == $HEADERS"
rss2=$(rss) rx2=$(atk_rx) rcv2=$(rcvbuf_errors)
lib_ping cli "$LIB_TUN4_A" || lib_fail "no ping through the tunnel after part b"

lib_log "server VmRSS: $rss0 kB before, $rss1 after a, $rss2 after b"
check "the server's memory stays flat" "$rss1 - $rss0 < $RSS_SLACK_KB && \
    $rss2 - $rss0 < $RSS_SLACK_KB"
check "no packet to the attacker" "$rx2 - $rx0 == 0"
lost=$((rcv2 - rcv0))
lib_log "datagrams the server's kernel dropped (full queue): $lost"

kill -INT "$pinger"
lib_wait_pid "$pinger" 10
stats=$(grep "packets transmitted" "$LIB_TMP/ping.out")
lib_log "ping during the flood: $stats"
[[ $stats =~ ^([0-9]+)\ packets\ transmitted,\ ([0-9]+)\ received ]] ||
	lib_fail "no statistics from the background ping"
sent=${BASH_REMATCH[1]} got=${BASH_REMATCH[2]}
# SIGINT may catch one echo in flight.
check "the tunnel kept forwarding" "$sent >= 10 && $sent - $got <= 1"
! grep -q "DUP!" "$LIB_TMP/ping.out" || lib_fail "duplicated echoes"

# ----- the session survived and counted every valid-looking datagram.
check "one TLS handshake, one session" \
    "$(count "$slog" "cobra: authenticated ") == 1 && \
    $(count "$slog" "cobra: up with ") == 1"
[ "$(count "$slog" "peer moved from")" -eq 0 ] ||
	lib_fail "the flood moved the peer"
lib__is_child "$client" || lib_fail "the client died"
kill -TERM "$client"
lib_wait_pid "$client" 10 || lib_fail "the client did not exit 0 on SIGTERM"
lib_wait_log "$slog" 10 "cobra: session with .* lasted " ||
	lib_fail "no session summary from the server"
sum=$(grep "cobra: session with .* lasted " "$slog")
lib_log "server: ${sum#*lasted }"
# The reasons sit between "dropped:" and the send-side counters.
drops=" ${sum#*; udp: * dropped: }"
drops="${drops% no-address *} "
lib_log "drop reasons: $drops"
for why in auth epoch flags reserved type zero limit short long; do
	n=0
	if [[ $drops =~ \ $why\ ([0-9]+)\  ]]; then
		n=${BASH_REMATCH[1]}
	fi
	check "'$why' drops = datagrams sent so" \
	    "$n <= $(st headers "flood_$why") && \
	    $n + $lost >= $(st headers "flood_$why") && $n > 0"
done
for why in replay too_old expired receiver kind inner_len error; do
	[[ $drops != *" $why "* ]] ||
		lib_fail "the server counted '$why' drops"
done
# The drop log is rate-limited (10 lines per 5 s): bounded by the time
# the flood took, whatever its rate.
lines=$(count "$slog" "dropped a datagram")
windows=$((($(lib__now_ms) - t0) / 5000 + 2))
check "the drop log is bounded" "$lines <= 10 * $windows"
kill -0 "$server" || lib_fail "the server died"
lib_pass
