#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Rekeying under load.  With the limits lowered for tests
# (TAPLINE_TEST_REKEY=500:1000: a new epoch after 500 packets or 1 s),
# two ping floods of 5000 echoes each run at once, client -> server and
# server -> client, so that both directions use up epoch after epoch.
# The link is clean (no relay), so nothing may be lost: both floods
# must get every reply, and both daemons' summaries must show at least 5
# rekeys, no datagram dropped for any reason (no "limit", no epoch or
# window trouble at the switches) and no packet dropped.  It stays one
# session on one TLS connection throughout.  Then 3 s of slow pings
# (below the packet limit) must rekey at least twice on the time limit,
# again without loss.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

COUNT=5000
MIN_REKEYS=5

lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli
lib_key flood

cat >"$LIB_TMP/server.conf" <<CONF
flood = {
  key = "$LIB_TMP/flood.key";
  proto = "udp";
  device = "tl-flood";
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
cat >"$LIB_TMP/client.conf" <<CONF
flood = {
  key = "$LIB_TMP/flood.key";
  persist = false;
  device = "tl-flood";
  address = [ "$LIB_TUN4_B/30" ];
};
CONF

# Both daemons inherit the lowered limits.
export TAPLINE_TEST_MODE=1 TAPLINE_TEST_REKEY=500:1000

lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
slog=$LIB_TMP/server-srv.log
lib_client cli "$LIB_TMP/client.conf" flood "$LIB_UL4_A"
client=$LIB_BG_PID
clog=$LIB_TMP/client-cli-flood.log
lib_wait_up cli tl-flood 15 "$LIB_TUN4_B"
lib_wait_up srv tl-flood 5 "$LIB_TUN4_A"
for log in "$slog" "$clog"; do
	grep -q "TEST MODE: rekey after 500 packets or 1000 ms" "$log" ||
		lib_fail "$(basename "$log"): the test limits are not in effect"
done
lib_ping cli "$LIB_TUN4_A" || lib_fail "no ping through the tunnel"

# Both floods at once, each bounded by ping's own deadline and by
# lib_wait_pid; 500-byte payloads.
pids=()
for dir in cli:$LIB_TUN4_A srv:$LIB_TUN4_B; do
	ns=${dir%%:*}
	lib_bg_ns "$ns" ping -n -q -f -c "$COUNT" -s 500 -w 40 "${dir#*:}" \
	    >"$LIB_TMP/ping-$ns.out" 2>&1
	pids+=("$LIB_BG_PID")
done
for p in "${pids[@]}"; do
	lib_wait_pid "$p" 50 || {
		cat "$LIB_TMP"/ping-*.out
		lib_fail "a ping flood lost packets or did not finish"
	}
done
for ns in cli srv; do
	out=$(cat "$LIB_TMP/ping-$ns.out")
	lib_log "ping from $ns: $(grep -E "transmitted|rtt" <<<"$out" |
	    tr '\n' ' ')"
	grep -q "^$COUNT packets transmitted, $COUNT received, 0% packet loss" \
	    <<<"$out" || lib_fail "the flood from $ns lost packets: $out"
done

# The rekeys as they happened: the server installs the keys of each new
# epoch, the client then sends under it.
ready=$(grep -c "flood: rekey: epoch [0-9]* keys ready" "$slog")
sending=$(grep -c "flood: rekey: sending under epoch [0-9]*" "$clog")
lib_log "rekeys logged: $ready by the server, $sending by the client"
[ "$ready" -ge "$MIN_REKEYS" ] ||
	lib_fail "only $ready rekeys on the server, not $MIN_REKEYS"
[ "$sending" -ge "$MIN_REKEYS" ] ||
	lib_fail "only $sending rekeys on the client, not $MIN_REKEYS"
# Epochs count up one by one from 1.
want=1
while read -r e; do
	[ "$e" = "$want" ] || lib_fail "the client went to epoch $e," \
	    "expected $want"
	want=$((want + 1))
done < <(sed -n 's/.*flood: rekey: sending under epoch \([0-9]*\).*/\1/p' \
    "$clog")
bad=$(cat "$slog" "$clog" |
    grep -e "rekey:" -e "protocol error" -e "epoch is used up" |
    grep -v -e "flood: rekey: epoch [0-9]* keys ready$" \
    -e "flood: rekey: sending under epoch [0-9]*$")
[ -z "$bad" ] || lib_fail "a rekey went wrong: $bad"

# Then slow traffic (100 packets a second each way, at least 3 s): far
# below the packet limit, so only the time limit rekeys now, at least
# twice; again nothing may be lost.
before=$sending
lib_run 30 ip netns exec "$(lib_ns cli)" ping -n -q -i 0.01 -c 300 -s 500 \
    -w 25 "$LIB_TUN4_A" >"$LIB_TMP/ping-slow.out" 2>&1
rc=$?
out=$(cat "$LIB_TMP/ping-slow.out")
lib_log "slow ping: $(grep -E "transmitted" <<<"$out")"
[ "$rc" = 0 ] || lib_fail "the slow ping failed ($rc): $out"
grep -q "^300 packets transmitted, 300 received, 0% packet loss" <<<"$out" ||
	lib_fail "the slow ping lost packets: $out"
sending=$(grep -c "flood: rekey: sending under epoch [0-9]*" "$clog")
lib_log "$((sending - before)) rekeys on time"
[ $((sending - before)) -ge 2 ] ||
	lib_fail "only $((sending - before)) rekeys in 3 s at a limit of 1 s"

kill -TERM "$client"
lib_wait_pid "$client" 10 || lib_fail "the client did not exit 0 on SIGTERM"
lib_wait_log "$slog" 10 "flood: session with .* lasted" ||
	lib_fail "the server logged no summary"
kill -0 "$server" || lib_fail "the server died"

UDP_SUMMARY='; udp: ([0-9]+) rekeys, ([0-9]+) datagrams in, dropped:(.*) '
UDP_SUMMARY+='no-address ([0-9]+) send ([0-9]+) tx-limit ([0-9]+)$'
for log in "$slog" "$clog"; do
	name=$(basename "$log")
	[ "$(grep -c "flood: authenticated" "$log")" = 1 ] ||
		lib_fail "$name: more than one TLS connection"
	line=$(grep "flood: session with .* lasted" "$log")
	lib_log "$name: ${line#*lasted}"
	grep -q "; dropped 0 (" <<<"$line" ||
		lib_fail "$name: packets were dropped: $line"
	[[ $line =~ $UDP_SUMMARY ]] ||
		lib_fail "$name: no UDP counters in the summary: $line"
	[ "${BASH_REMATCH[1]}" -ge "$MIN_REKEYS" ] ||
		lib_fail "$name: ${BASH_REMATCH[1]} rekeys, not $MIN_REKEYS"
	[ "${BASH_REMATCH[2]}" -ge $((2 * COUNT)) ] ||
		lib_fail "$name: only ${BASH_REMATCH[2]} datagrams came in"
	[ -z "${BASH_REMATCH[3]}" ] ||
		lib_fail "$name: datagrams dropped:${BASH_REMATCH[3]}"
	[ "${BASH_REMATCH[5]}${BASH_REMATCH[6]}" = 00 ] ||
		lib_fail "$name: packets not sent (send or limit): $line"
	# A packet or two from a fresh device may precede the client's first
	# datagram; never more than that.
	[ "${BASH_REMATCH[4]}" -le 5 ] ||
		lib_fail "$name: ${BASH_REMATCH[4]} packets had no address"
done
lib_pass
