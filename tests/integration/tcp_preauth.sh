#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Pre-authentication limits of the TCP server (ATTACKS.md rows 18 and 19)
# while an established session keeps forwarding.  From a third namespace
# (atk, 198.51.100.3, routed to the server over its own veth):
#  1. slowloris: one connection that sends nothing, and one that sends a
#     plausible TLS record header and then one byte every 2 s (so a
#     per-read timeout would never fire, only a deadline for the whole
#     ClientHello does).  The server must close both by its 2 s
#     ClientHello deadline (asserted: within 25 s) and log each.
#  2. the per-address cap: 9 idle connections at once.  The server must
#     refuse the 9th at once ("refusing a connection ... (8 from there)",
#     while the other 8 are open), then close the 8 by the deadline.
#  3. the per-source token bucket: 24 idle connections at once.  Past its
#     burst of 16 connects the address is over its rate and the server
#     closes its connections at once ("more than 2 a second"); it never
#     holds more than the cap of 8.
# A ping runs through the tunnel the whole time and must lose nothing;
# lib_ping checks it before, during and after as well.
# shellcheck disable=SC2317 # functions run by lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping ss
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

port=5000
atk4=198.51.100.3

lib_netns_add srv
lib_netns_add cli
lib_netns_add atk
lib_underlay srv cli
# The attacker gets its own link to the server: a /32 at each end's route,
# so that it does not clash with the underlay's /24 on ul0.
lib_veth srv ul1 "" atk ul0 "$atk4/32"
lib_nsexec srv ip route add "$atk4/32" dev ul1 ||
	lib_fail "cannot route $atk4 in the server's namespace"
lib_nsexec atk ip route add "$LIB_UL4_A/32" dev ul0 ||
	lib_fail "cannot route $LIB_UL4_A in the attacker's namespace"
lib_key cobra

cat >"$LIB_TMP/server.conf" <<CONF
options = { port = $port; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  proto = "tcp";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
cat >"$LIB_TMP/client.conf" <<CONF
options = { port = $port; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_B/30" ];
};
CONF
slog=$LIB_TMP/server-srv.log

# The attacker, a bash script (its /dev/tcp does the connects):
#   atk.sh silent OUT	connect, send nothing, wait for the server's close
#   atk.sh dribble OUT	connect, send a TLS record header announcing 512
#			bytes and then its body, one byte every 2 s
#   atk.sh idle OUT N	N connections at once that send nothing; OUT
#			gets the order in which the server closed them
# Each writes "closed ..." to OUT once the server has closed (EOF, reset
# or a failed write), or "open ..." if it is still open after 30 s.
cat >"$LIB_TMP/atk.sh" <<'ATK'
set -u
trap '' PIPE
mode=$1 out=$2 n=${3:-1} host=__HOST__ port=__PORT__
end=$((SECONDS + 30))
fds=()
for ((i = 0; i < n; i++)); do
	exec {fd}<>"/dev/tcp/$host/$port" || { echo "connect failed" >"$out"; exit 1; }
	fds+=("$fd")
done
echo "connected $n" >"$out.connected"
# closed FD: the server closed FD (EOF or reset make it readable; data,
# such as an alert, is drained first).
closed() {
	local c
	while read -r -t 0 -u "$1"; do
		read -r -N 1 -t 1 -u "$1" c || return 0
	done
	return 1
}
case $mode in
silent)
	while [ "$SECONDS" -lt "$end" ]; do
		closed "${fds[0]}" && { echo "closed by the server" >"$out"; exit 0; }
		sleep 0.1
	done ;;
dribble)
	# TLS handshake record, TLS 1.0 version, length 512; then the start
	# of a ClientHello.  The record never completes.
	bytes=(16 03 01 02 00 01 00 01 fc 03 03 00 00 00 00)
	for b in "${bytes[@]}"; do
		closed "${fds[0]}" && { echo "closed by the server" >"$out"; exit 0; }
		printf "\\x$b" >&"${fds[0]}" 2>/dev/null ||
			{ echo "closed (write failed)" >"$out"; exit 0; }
		# Pacing for the slow sender, not synchronisation.
		sleep 2
	done
	closed "${fds[0]}" && { echo "closed by the server" >"$out"; exit 0; } ;;
idle)
	order=() open=("${!fds[@]}")
	while [ "${#open[@]}" -gt 0 ] && [ "$SECONDS" -lt "$end" ]; do
		for i in "${!open[@]}"; do
			if closed "${fds[${open[$i]}]}"; then
				order+=("$((open[i] + 1))")
				unset "open[$i]"
			fi
		done
		sleep 0.1
	done
	if [ "${#open[@]}" -eq 0 ]; then
		echo "closed in the order ${order[*]}" >"$out"
		exit 0
	fi ;;
esac
echo "open after 30 s" >"$out"
ATK
sed -i -e "s/__HOST__/$LIB_UL4_A/" -e "s/__PORT__/$port/" "$LIB_TMP/atk.sh"

# preauth_conns: the number of established connections from the attacker
# on the server's side (a dual-stack socket shows [::ffff:198.51.100.3]).
atk_re="(ffff:${atk4//./\\.}\\]|[[:space:]]${atk4//./\\.}):[0-9]+"
preauth_conns() {
	lib_nsexec srv ss -Htn state established "( sport = :$port )" |
		grep -cE -- "$atk_re"
}

# conns_are N: exactly N such connections.
conns_are() {
	[ "$(preauth_conns)" -eq "$1" ]
}

# count PATTERN: lines of the server's log matching (grep -E).
count() {
	grep -cE -- "$1" "$slog"
}

# count_at_least N PATTERN: at least N such lines.
count_at_least() {
	[ "$(count "$2")" -ge "$1" ]
}
deadline_re="$atk4:[0-9]+ sent no complete ClientHello in 2 s"

lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
lib_client cli "$LIB_TMP/client.conf" cobra "$LIB_UL4_A"
client=$LIB_BG_PID
lib_wait_up cli tl-cobra 15 "$LIB_TUN4_B"
lib_wait_up srv tl-cobra 5 "$LIB_TUN4_A"
lib_ping cli "$LIB_TUN4_A" || lib_fail "no ping through the tunnel before"
lib_nsexec atk ping -n -q -c 1 -W 2 "$LIB_UL4_A" >/dev/null ||
	lib_hard_error "the attacker cannot reach the server's address"

# The ping that runs through both attacks (stopped with SIGINT below).
lib_bg_ns cli ping -n -i 0.2 -c 1000 -W 2 "$LIB_TUN4_A" \
    >"$LIB_TMP/ping.out" 2>&1
pinger=$LIB_BG_PID

# ----- 1. slowloris: one silent connection, one dribbling
lib_log "slowloris: a silent and a dribbling connection"
lib_bg_ns atk bash "$LIB_TMP/atk.sh" silent "$LIB_TMP/silent.out"
silent=$LIB_BG_PID
lib_bg_ns atk bash "$LIB_TMP/atk.sh" dribble "$LIB_TMP/dribble.out"
dribble=$LIB_BG_PID
lib_wait_file "$LIB_TMP/silent.out.connected" 5 "$silent" ||
	lib_fail "the silent connection did not connect"
lib_wait_file "$LIB_TMP/dribble.out.connected" 5 "$dribble" ||
	lib_fail "the dribbling connection did not connect"
lib_wait_for 5 conns_are 2 ||
	lib_fail "the server does not show the 2 attacking connections" \
	    "($(preauth_conns))"
lib_ping cli "$LIB_TUN4_A" ||
	lib_fail "no ping through the tunnel while the slowloris runs"
lib_wait_for 25 conns_are 0 ||
	lib_fail "$(preauth_conns) slowloris connection(s) still open after 25 s"
for who in silent dribble; do
	lib_wait_pid "${!who}" 35
	out=$(cat "$LIB_TMP/$who.out" 2>/dev/null)
	lib_log "$who connection: $out"
	[[ $out == closed* ]] ||
		lib_fail "the $who connection says '$out', not closed"
done
lib_wait_for 5 count_at_least 2 "$deadline_re"
n=$(count "$deadline_re")
[ "$n" -eq 2 ] ||
	lib_fail "the server logged $n handshake deadlines for $atk4, not 2"
lib_ping cli "$LIB_TUN4_A" || lib_fail "no ping through the tunnel after the slowloris"

# ----- 2. the per-address cap: 8 idle connections from one address
lib_log "9 idle connections from $atk4"
lib_bg_ns atk bash "$LIB_TMP/atk.sh" idle "$LIB_TMP/idle.out" 9
idle=$LIB_BG_PID
lib_wait_file "$LIB_TMP/idle.out.connected" 5 "$idle" ||
	lib_fail "the 9 idle connections did not connect"
lib_wait_log "$slog" 5 "refusing a connection from $atk4:[0-9]+: [0-9]+ unauthenticated connections \(8 from there\)" ||
	lib_fail "the server did not refuse the 9th connection from $atk4"
# The 8 may already be gone (2 s after their accept), never more open.
n=$(preauth_conns)
[ "$n" -le 8 ] || lib_fail "$n connections from $atk4 are open, over the cap of 8"
lib_ping cli "$LIB_TUN4_A" ||
	lib_fail "no ping through the tunnel after 8 idle connections"
lib_wait_for 25 conns_are 0 ||
	lib_fail "$(preauth_conns) idle connection(s) still open after 25 s"
lib_wait_pid "$idle" 35
out=$(cat "$LIB_TMP/idle.out" 2>/dev/null)
lib_log "idle connections: $out"
[[ $out =~ ^closed\ in\ the\ order\ 9(\ [1-8]){8}$ ]] ||
	lib_fail "the idle connections say '$out': the 9th was not closed first"
lib_wait_for 5 count_at_least 10 "$deadline_re"
n=$(count "$deadline_re")
[ "$n" -eq 10 ] ||
	lib_fail "the server logged $n handshake deadlines for $atk4, not 2 + 8"

# ----- 3. the token bucket: 24 connects at once from one address
lib_log "24 idle connections from $atk4"
lib_bg_ns atk bash "$LIB_TMP/atk.sh" idle "$LIB_TMP/burst.out" 24
burst=$LIB_BG_PID
lib_wait_file "$LIB_TMP/burst.out.connected" 5 "$burst" ||
	lib_fail "the 24 idle connections did not connect"
lib_wait_log "$slog" 5 "closing a connection from $atk4:[0-9]+ at once: more than 2 a second from there" ||
	lib_fail "the server did not close connections over the rate at once"
n=$(preauth_conns)
[ "$n" -le 8 ] || lib_fail "$n connections from $atk4 are open, over the cap of 8"
lib_wait_for 25 conns_are 0 ||
	lib_fail "$(preauth_conns) idle connection(s) still open after 25 s"
lib_wait_pid "$burst" 35
lib_log "burst connections: $(cat "$LIB_TMP/burst.out" 2>/dev/null)"

# ----- after: the session never noticed
lib_ping cli "$LIB_TUN4_A" || lib_fail "no ping through the tunnel afterwards"
lib_ping srv "$LIB_TUN4_B" || lib_fail "no server -> client ping afterwards"
kill -INT "$pinger"
lib_wait_pid "$pinger" 10
stats=$(grep "packets transmitted" "$LIB_TMP/ping.out")
lib_log "ping during the attacks: $stats"
if ! [[ $stats =~ ^([0-9]+)\ packets\ transmitted,\ ([0-9]+)\ received ]]; then
	lib_fail "no statistics from the background ping"
fi
sent=${BASH_REMATCH[1]} got=${BASH_REMATCH[2]}
# SIGINT may catch one echo in flight.
if [ "$sent" -eq 0 ] || [ $((sent - got)) -gt 1 ]; then
	lib_fail "the tunnel lost echoes during the attacks: $stats"
fi
grep -q "cobra: up with " "$slog" || lib_fail "no session in the server's log"
[ "$(count "cobra: up with ")" -eq 1 ] ||
	lib_fail "the session went down and up again during the attacks"
lib__is_child "$client" || lib_fail "the client died"
kill -0 "$server" || lib_fail "the server died"
lib_pass
