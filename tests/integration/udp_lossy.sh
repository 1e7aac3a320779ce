#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A UDP tunnel over a bad network.  Three namespaces, cli - r - srv: the
# client connects to the fault-injecting relay in r (udprelay --tcp, so
# that the TLS control connection passes through untouched) and the
# relay forwards to the server.  Both ways, seeded, it drops 3 %,
# duplicates 3 %, reorders 3 % (held back behind up to 5 later ones) and
# corrupts 1 % of the datagrams (one flipped bit).  A 64 MiB file goes
# client -> server and server -> client with nc over TCP inside the
# tunnel, which recovers from the loss; it must arrive with the same
# sha256.  Then the daemons' summaries must account for the faults the
# relay reports: per direction, every datagram the relay forwarded is
# counted once (opened or dropped for a reason), those rejected as forged
# (auth, or a header, limit or window check when the bit was in the
# header) are about as many as the relay corrupted, and the replays
# about as many as it duplicated; nothing bad ever reached a device
# (kind, inner_len and "dropped" all 0).
# shellcheck disable=SC2317 # functions run through lib_wait_for
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
udprelay_require

PORT=5001
MIB=${LOSSY_MIB:-64}
RELAY=198.51.100.2
SERVER=198.51.100.20
FAULTS=(--seed 20240601 --drop 3 --dup 3 --reorder 3 --reorder-depth 5
    --corrupt 1)

lib_netns_add cli
lib_netns_add r
lib_netns_add srv
lib_veth cli ul0 "198.51.100.1/30" r ul0 "$RELAY/30"
lib_veth r ul1 "198.51.100.17/28" srv ul0 "$SERVER/28"

lib_key lossy
cat >"$LIB_TMP/server.conf" <<CONF
lossy = {
  key = "$LIB_TMP/lossy.key";
  proto = "udp";
  device = "tl-lossy";
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
cat >"$LIB_TMP/client.conf" <<CONF
lossy = {
  key = "$LIB_TMP/lossy.key";
  persist = false;
  device = "tl-lossy";
  address = [ "$LIB_TUN4_B/30" ];
};
CONF

data=$LIB_TMP/data
head -c $((MIB << 20)) /dev/urandom >"$data" ||
	lib_hard_error "cannot create $data"
[ "$(stat -c %s "$data")" = $((MIB << 20)) ] ||
	lib_hard_error "$data is not $MIB MiB"
sum=$(sha256sum <"$data") || lib_hard_error "sha256sum failed"

lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
slog=$LIB_TMP/server-srv.log
clog=$LIB_TMP/client-cli-lossy.log

udprelay_start r relay --listen "$RELAY:5000" --to "$SERVER:5000" --tcp \
    --max-seconds 300 "${FAULTS[@]}"
relay=$LIB_BG_PID

lib_client cli "$LIB_TMP/client.conf" lossy "$RELAY"
client=$LIB_BG_PID
lib_wait_up cli tl-lossy 15 "$LIB_TUN4_B"
lib_wait_up srv tl-lossy 5 "$LIB_TUN4_A"
grep -q "lossy: up with 198.51.100.17:" "$slog" ||
	lib_fail "the server did not see the client through the relay"

# Is something listening on TCP port $PORT in namespace $1?
listening() {
	lib_nsexec "$1" ss -Hltn "sport = :$PORT" | grep -q .
}

# push FROM TO ADDR OUT: send the file from namespace FROM to a receiver
# in namespace TO listening on ADDR, and compare what arrived.
push() {
	local from=$1 to=$2 addr=$3 out=$4 rx rc got
	lib_bg_ns "$to" nc -d -l "$addr" "$PORT" >"$out"
	rx=$LIB_BG_PID
	lib_wait_for 5 listening "$to" ||
		lib_fail "nc in $(lib_ns "$to") does not listen on $addr"
	# shellcheck disable=SC2016 # sh expands them
	lib_run 90 ip netns exec "$(lib_ns "$from")" \
	    sh -c 'exec nc -N "$1" "$2" <"$3"' sh "$addr" "$PORT" "$data"
	rc=$?
	[ "$rc" = 0 ] || lib_fail "sending $from -> $to ($addr) failed" \
	    "(status $rc)"
	lib_wait_pid "$rx" 20 ||
		lib_fail "the receiver in $(lib_ns "$to") did not finish"
	got=$(sha256sum <"$out")
	[ "$got" = "$sum" ] || lib_fail "$from -> $to: sha256 differs" \
	    "($(stat -c %s "$out") of $((MIB << 20)) bytes arrived)"
	rm -f "$out"
	lib_log "$from -> $to: $MIB MiB arrived intact"
}

push cli srv "$LIB_TUN4_A" "$LIB_TMP/at-server"
push srv cli "$LIB_TUN4_B" "$LIB_TMP/at-client"

# The session ends; then nothing more reaches the daemons, and the
# relay's counters can be set against theirs.
kill -TERM "$client"
lib_wait_pid "$client" 10 || lib_fail "the client did not exit 0 on SIGTERM"
lib_wait_log "$slog" 10 "lossy: session with .* lasted" ||
	lib_fail "the server logged no summary"
udprelay_stop "$relay" || lib_fail "the relay did not exit 0"
kill -0 "$server" || lib_fail "the server died"

# st KEY: the relay's counter, or "?" (which no arithmetic check takes).
st() {
	udprelay_stat "$LIB_TMP/relay.stats" "$1" || echo "?"
}

# drops SIDE LOG: the session summary's receive drop counters into
# D[SIDE.name] (a reason not named is 0), D[SIDE.in] the datagrams that
# opened.
declare -A D
UDP_SUMMARY='; udp: [0-9]+ rekeys, ([0-9]+) datagrams in, dropped:'
UDP_SUMMARY+='(( [a-z_]+ [0-9]+)*) no-address [0-9]+ send 0 tx-limit 0$'
drops() {
	local side=$1 log=$2 line pairs i
	line=$(grep "lossy: session with .* lasted" "$log")
	if [ -z "$line" ] || [ "$(wc -l <<<"$line")" != 1 ]; then
		lib_fail "$(basename "$log"): not exactly one summary"
	fi
	lib_log "$(basename "$log"): ${line#*lasted}"
	grep -q "; dropped 0 (" <<<"$line" ||
		lib_fail "$(basename "$log"): packets were dropped: $line"
	[[ $line =~ $UDP_SUMMARY ]] ||
		lib_fail "$(basename "$log"): no UDP counters, or send or" \
		    "limit drops: $line"
	D[$side.in]=${BASH_REMATCH[1]}
	read -r -a pairs <<<"${BASH_REMATCH[2]}"
	for ((i = 0; i + 1 < ${#pairs[@]}; i += 2)); do
		D[$side.${pairs[i]}]=${pairs[i + 1]}
	done
}
d() {
	echo "${D[$1.$2]:-0}"
}

# check DESCRIPTION EXPR: the arithmetic EXPR must hold.
check() {
	# shellcheck disable=SC2004 # $2 is an expression, not a number
	if [[ $2 != *'?'* ]] && (($2)) 2>/dev/null; then
		lib_log "ok: $1 ($2)"
	else
		lib_fail "$1: $2 does not hold"
	fi
}

drops srv "$slog"
drops cli "$clog"

lib_log "relay: $(tr '\n' ' ' <"$LIB_TMP/relay.stats")"
check "the relay injected every fault" "$(st up_dropped) > 0 && \
$(st up_duplicated) > 0 && $(st up_reordered) > 0 && $(st up_corrupted) > 0 \
&& $(st down_dropped) > 0 && $(st down_duplicated) > 0 && \
$(st down_reordered) > 0 && $(st down_corrupted) > 0"
check "the control connection passed the relay" "$(st tcp_accepted) >= 1"

# The server receives what the relay sends up, the client what it sends
# down.  A corrupted datagram fails one of the checks before or at the
# tag: a header field, the limit or the window when the flipped bit is in
# the counter (rarely "replay"), else "auth"; twice when also duplicated.
# Each duplicate that is not also corrupted is one replay.  A few may be
# lost in a socket queue or come after the session's end, hence the
# margins (a quarter, 1 % of the whole).
for side in srv cli; do
	dir=up
	[ "$side" = cli ] && dir=down
	forged=0
	for k in type flags reserved receiver epoch expired zero limit \
	    too_old auth; do
		forged=$((forged + $(d "$side" "$k")))
	done
	all=$(($(d "$side" in) + forged + $(d "$side" replay) + \
	    $(d "$side" kind) + $(d "$side" inner_len) + $(d "$side" short) + \
	    $(d "$side" long) + $(d "$side" error)))
	corrupted=$(st "${dir}_corrupted")
	dups=$(st "${dir}_duplicated")
	fwd=$(st "${dir}_forwarded")
	replays=$(d "$side" replay)
	lib_log "$side: $all of $fwd datagrams accounted for; $forged" \
	    "forged of $corrupted corrupted, $replays replays of $dups" \
	    "duplicated"
	check "$side: datagrams came in" "$(d "$side" in) > 1000"
	check "$side: every datagram counted once" \
	    "$all <= $fwd && $all * 100 >= $fwd * 99"
	check "$side: the corrupted datagrams were rejected" "$forged > 0 && \
$forged * 4 >= $corrupted * 3 && $forged * 4 <= $corrupted * 5"
	check "$side: the duplicates were rejected as replays" \
	    "$replays > 0 && $replays * 4 >= $dups * 3 && \
$replays * 4 <= $dups * 5"
	check "$side: nothing forged got through authentication" \
	    "$(d "$side" kind) + $(d "$side" inner_len) == 0"
done

lib_pass
