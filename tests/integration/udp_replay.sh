#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Replayed datagrams (issue 4; ATTACKS.md rows 3 and 8).  Three
# namespaces, cli - mid - srv; udprelay in mid is the on-path attacker.
# It captures every 4th datagram the client sends (400 in all), sends
# each again 3 datagrams later from the client's own mapping, and records
# them, so that they can be sent again later from a new source address.
#  1. Immediate replays: a UDP stream of 2000 numbered datagrams and a
#     ping run through the tunnel while the relay replays.  Nothing
#     arrives twice: the sink in the server's namespace counts no
#     duplicates (and the echoes none), ping prints no "DUP!".
#  2. The 400 recorded datagrams again, from another address and port
#     (spoofed source, within the replay window): no "peer moved", no
#     answer to the injector, and the server's traffic still reaches the
#     client where it really is.
#  3. 10000 more datagrams through the tunnel (at least 8192 must arrive,
#     so that the window moves past the recording), then the 400 again:
#     now too old; same checks.
# Loss inside the tunnel (a busy machine may overflow a device queue) is
# logged, not judged here; duplicates are.
# The server's summary must then count exactly the copies: "replay" =
# relay replays + 400, "too_old" = 400 (less any the server's socket
# queue overflowed, counted by the kernel), and the TLS session must be
# the one it was.
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
spoof4=198.51.100.18
srv4=198.51.100.20
SINK1="$LIB_TUN4_A:7000"
SINK3="$LIB_TUN4_A:7001"
CAPTURES=400
N1=2000
N3=10000
# Replay windows are 8192 bits; beyond that a counter is too old.
WINDOW=8192

lib_netns_add cli
lib_netns_add mid
lib_netns_add srv
lib_veth cli ul0 "$cli4/30" mid ul0 "$mid4/30"
lib_veth mid ul1 "$mid4a/28 $spoof4/28" srv ul0 "$srv4/28"
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
clog=$LIB_TMP/client-cli-cobra.log
rec=$LIB_TMP/capture.rec

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

# Packets the tunnel devices dropped, for the log.
tunnel_drops() {
	local ns d out=""
	for ns in cli srv; do
		d=$(lib_nsexec "$ns" cat /sys/class/net/tl-cobra/statistics/tx_dropped)
		out+="$ns tun tx_dropped ${d:-?}, "
	done
	udprelay_snapshot relay "$relay" >/dev/null 2>&1
	echo "${out}server UDP RcvbufErrors $(($(rcvbuf_errors) - rcv0)),"\
	    "relay: $(st relay up_received) up, queue overflows" \
	    "$(st relay kernel_rcvbuf_errors)"
}

# UDP receive-queue overflows in the server's namespace (IPv4).
rcvbuf_errors() {
	lib_nsexec srv cat /proc/net/snmp | awk '
	    $1 == "Udp:" && !h { for (i = 2; i <= NF; i++) n[i] = $i; h = 1; next }
	    $1 == "Udp:" { for (i = 2; i <= NF; i++)
		if (n[i] == "RcvbufErrors") print $i }'
}

# stream NAME SINK COUNT INTERVAL_US: COUNT numbered datagrams from the
# client's namespace through the tunnel to an echoing sink; the sender
# returns once every echo is back or none came for 1 s.
stream() {
	lib_run 40 ip netns exec "$(lib_ns cli)" "$UDPRELAY" --send "$2" \
	    --count "$3" --size 200 --interval-us "$4" \
	    --echo-wait-ms 1000 --max-seconds 35 --stats "$LIB_TMP/$1.stats" \
	    >>"$LIB_TMP/$1.log" 2>&1 || lib_fail "$1: the sender failed"
}

# inject NAME: send the recording from the spoofed address, to the
# server's port, and listen 1 s for an answer.
inject() {
	lib_run 20 ip netns exec "$(lib_ns mid)" "$UDPRELAY" \
	    --send "$srv4:$port" --inject "$rec" --bind "$spoof4:0" \
	    --interval-us 200 --echo-wait-ms 1000 --max-seconds 15 \
	    --stats "$LIB_TMP/$1.stats" >>"$LIB_TMP/$1.log" 2>&1 ||
		lib_fail "$1: the injector failed"
	check "$1: all $CAPTURES sent" "$(st "$1" sent) == $CAPTURES && \
	    $(st "$1" send_errors) == 0"
	check "$1: nothing answered" "$(st "$1" answers) == 0 && \
	    $(st "$1" answer_errors) == 0"
}

# The peer is where it was, the server's traffic still reaches it, and
# no replayed datagram of the first stream reached its sink again.
still_there() {
	udprelay_snapshot sink1 "$sink1" || lib_fail "no stats from the sink"
	check "$1: nothing delivered again" \
	    "$(st sink1 received) == $got1 && $(st sink1 duplicates) == 0"
	[ "$(count "$slog" "peer moved from")" -eq 0 ] ||
		lib_fail "$1: the replayed datagrams moved the peer:" \
		    "$(grep "peer moved from" "$slog")"
	lib_ping srv "$LIB_TUN4_B" 5 ||
		lib_fail "$1: server -> client pings lost after the replay"
	lib_ping cli "$LIB_TUN4_A" 3 ||
		lib_fail "$1: client -> server pings lost after the replay"
}

lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
udprelay_start mid relay --listen "$mid4:$port" --to "$srv4:$port" --tcp \
    --src "$mid4a" --capture-every 4 --capture-max "$CAPTURES" \
    --replay-after 3 --record "$rec" --max-seconds 120
relay=$LIB_BG_PID
lib_client cli "$LIB_TMP/client.conf" cobra "$mid4"
client=$LIB_BG_PID
lib_wait_up cli tl-cobra 15 "$LIB_TUN4_B"
lib_wait_up srv tl-cobra 5 "$LIB_TUN4_A"
lib_ping cli "$LIB_TUN4_A" || lib_fail "no ping through the tunnel"
# The sinks listen on the server's tunnel address, one per stream.
udprelay_start srv sink1 --sink "$SINK1" --echo --max-seconds 120
sink1=$LIB_BG_PID
udprelay_start srv sink3 --sink "$SINK3" --echo --max-seconds 120
sink3=$LIB_BG_PID
rcv0=$(rcvbuf_errors)
[[ $rcv0 =~ ^[0-9]+$ ]] || lib_hard_error "cannot read RcvbufErrors"

# ----- 1. immediate replays from the client's own mapping.
lib_log "1. $N1 datagrams and a ping while the relay replays"
lib_bg_ns cli ping -n -i 0.05 -c 40 -W 2 "$LIB_TUN4_A" >"$LIB_TMP/ping.out" 2>&1
pinger=$LIB_BG_PID
stream stream1 "$SINK1" "$N1" 1000
lib_wait_pid "$pinger" 15
stats=$(grep "packets transmitted" "$LIB_TMP/ping.out")
lib_log "ping while the relay replays: $stats"
if ! [[ $stats =~ ^40\ packets\ transmitted,\ ([0-9]+)\ received ]] ||
    [ "${BASH_REMATCH[1]}" -eq 0 ]; then
	lib_fail "ping: $stats"
fi
! grep -q "DUP!" "$LIB_TMP/ping.out" ||
	lib_fail "ping saw duplicates: $(grep -c "DUP!" "$LIB_TMP/ping.out")"
udprelay_snapshot sink1 "$sink1" || lib_fail "no stats from the sink"
udprelay_snapshot relay "$relay" || lib_fail "no stats from the relay"
check "1: every capture replayed" "$(st relay captured) == $CAPTURES && \
    $(st relay replayed) == $CAPTURES && $(st relay replay_pending) == 0 && \
    $(st relay replay_errors) + $(st relay replay_stale) == 0"
check "1: every capture recorded" "$(st relay recorded) == $CAPTURES"
got1=$(st sink1 received)
lib_log "1: $got1 of $(st stream1 sent) datagrams sent ($(st stream1 \
    send_errors) send errors) arrived; $(tunnel_drops)"
check "1: the stream arrived, intact" "$got1 > 0 && \
    $(st sink1 unique) == $got1 && $(st sink1 corrupt) == 0"
check "1: nothing delivered twice" "$(st sink1 duplicates) == 0"
check "1: no echo twice" "$(st stream1 echo_duplicates) == 0 && \
    $(st stream1 echo_unique) == $(st stream1 echo_received)"
replayed=$(st relay replayed)

# ----- 2. the recording again, from a new source, within the window.
lib_log "2. $CAPTURES recorded datagrams from $spoof4"
inject inject2
still_there 2

# ----- 3. 9000 newer datagrams, then the recording once more: too old.
lib_log "3. $N3 datagrams, then the recording again"
stream stream3 "$SINK3" "$N3" 250
udprelay_snapshot sink3 "$sink3" || lib_fail "no stats from the sink"
lib_log "3: $(st sink3 received) of $(st stream3 sent) datagrams sent" \
    "($(st stream3 send_errors) send errors) arrived; $(tunnel_drops)"
# Each one that arrived went through the server's window: it has moved
# at least that far beyond the recording (its counters are below the
# ones of the first stream's last datagram).
check "3: the window moved past the recording" \
    "$(st sink3 unique) >= $WINDOW"
check "3: nothing delivered twice" "$(st sink3 duplicates) == 0 && \
    $(st sink3 unique) == $(st sink3 received) && \
    $(st stream3 echo_duplicates) == 0"
inject inject3
still_there 3

# ----- the summary counts every copy.
kill -TERM "$client"
lib_wait_pid "$client" 10 || lib_fail "the client did not exit 0 on SIGTERM"
lib_wait_log "$slog" 10 "cobra: session with .* lasted " ||
	lib_fail "no session summary from the server"
sum=$(grep "cobra: session with .* lasted " "$slog")
lib_log "server: ${sum#*lasted }"
lost=$(($(rcvbuf_errors) - rcv0))
[[ $sum =~ \ replay\ ([0-9]+) ]] || lib_fail "no replay drops in the summary"
rp=${BASH_REMATCH[1]}
[[ $sum =~ \ too_old\ ([0-9]+) ]] || lib_fail "no too_old drops in the summary"
old=${BASH_REMATCH[1]}
check "replay drops = relay replays + one injection" \
    "$rp <= $replayed + $CAPTURES && $rp + $lost >= $replayed + $CAPTURES"
check "too_old drops = the late injection" \
    "$old <= $CAPTURES && $old + $lost >= $CAPTURES"
[[ $sum != *" auth "* ]] || lib_fail "datagrams failed to authenticate"
csum=$(grep "cobra: session with .* lasted " "$clog")
[[ $csum != *" replay "* && $csum != *" too_old "* ]] ||
	lib_fail "the client saw replays: ${csum#*lasted }"
[ "$(count "$slog" "cobra: authenticated ")" -eq 1 ] ||
	lib_fail "more than one TLS handshake"
kill -0 "$server" || lib_fail "the server died"
lib_pass
