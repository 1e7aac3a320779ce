#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The fault-injecting relay that the UDP tests rely on does what it says.
# Three namespaces, a - r - b: udprelay --send in a sends numbered
# datagrams to the relay in r, which forwards them to udprelay --sink in b;
# the sink echoes them back through the relay.  Every fault is checked
# against what the sink and the sender actually saw, with seeded, hence
# reproducible, decisions: clean delivery in order (IPv4 and IPv6), drop,
# duplicate, corrupt, reorder, delay, faults in one direction only, all at
# once, a NAT rebinding on SIGUSR2, two clients, TCP passed through and
# reset on SIGHUP, the sink's idle exit, the time limit, capture and
# replay (from the client's mapping and from another address), --record
# and --inject, the garbage and header floods, and the refusal of bad
# command lines.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"
# shellcheck source=udprelay_lib.sh
. "$(dirname "$lib")/udprelay_lib.sh"

lib_require_root
udprelay_require

N=1000
SIZE=200

lib_netns_add a
lib_netns_add r
lib_netns_add b
lib_veth a ar0 "198.51.100.1/30 2001:db8:1::101/120" \
    r ra0 "198.51.100.2/30 2001:db8:1::102/120"
lib_veth r rb0 "198.51.100.17/28 198.51.100.18/28 2001:db8:1::201/120" \
    b br0 "198.51.100.20/28 2001:db8:1::203/120"
udprelay_wait_ipv6 5 a ar0 r ra0 r rb0 b br0

# Bad command lines are refused with status 2 (run in a namespace all the
# same, so that a parser bug could never send anything from the host).
for args in "--listen 2001:db8:1::1:5000 --to 198.51.100.6:1" \
    "--listen 198.51.100.2:5000 --to 198.51.100.6:0" \
    "--listen 198.51.100.2:5000 --to 198.51.100.6:1 --drop 100.5" \
    "--listen 198.51.100.2:5000 --to 198.51.100.6:1 --count 3" \
    "--listen [198.51.100.2]:5000 --to 198.51.100.6:1" \
    "--listen 198.51.100.2:5000" \
    "--sink 198.51.100.2:5000 --send 198.51.100.6:1" \
    "--send 198.51.100.6:1 --count 3" \
    "--listen 198.51.100.2:5000 --to [2001:db8:1::1]:1 --src 198.51.100.2" \
    "--listen 198.51.100.2:5000 --to 198.51.100.6:1 --replay-src 198.51.100.2" \
    "--listen 198.51.100.2:5000 --to 198.51.100.6:1 --capture-every 2" \
    "--listen 198.51.100.2:5000 --to 198.51.100.6:1 --replay-after 1 --inject x" \
    "--send 198.51.100.6:1 --count 3 --size 100 --seed 1" \
    "--send 198.51.100.6:1 --inject x --count 3" \
    "--send 198.51.100.6:1 --flood header --count 3" \
    "--send 198.51.100.6:1 --flood garbage --count 3 --rid 1" \
    "--send 198.51.100.6:1 --flood header --count 3 --rid 0" \
    "--send 198.51.100.6:1 --flood noise --count 3"
do
	# Split on blanks without globbing the brackets.
	read -r -a argv <<<"$args"
	lib_nsexec a "$UDPRELAY" "${argv[@]}" >/dev/null 2>&1
	rc=$?
	[ "$rc" -eq 2 ] || lib_fail "udprelay $args: exit $rc, not 2"
done
lib_log "bad command lines refused"

RELAY4=198.51.100.2:6000
SINK4=198.51.100.20:7000
RELAY6="[2001:db8:1::102]:6000"
SINK6="[2001:db8:1::203]:7000"

# The value of KEY in $LIB_TMP/NAME.stats, or "?" (which no arithmetic
# check accepts).
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

# Start an echoing sink in b and a relay with the given options in r;
# PIDs in $sink and $relay.
start_pair() {
	local name=$1 relay_at=$2 sink_at=$3
	shift 3
	udprelay_start b "$name-sink" --sink "$sink_at" --echo --max-seconds 30
	sink=$LIB_BG_PID
	udprelay_start r "$name-relay" --listen "$relay_at" --to "$sink_at" \
	    --max-seconds 30 "$@"
	relay=$LIB_BG_PID
}

# Once the senders are done, stop the relay, then the sink (which counts
# what is still queued for it); both must exit 0.
finish_pair() {
	local name=$1 rc
	udprelay_stop "$relay"
	rc=$?
	[ "$rc" -eq 0 ] || lib_fail "$name: the relay exited $rc"
	udprelay_stop "$sink"
	rc=$?
	[ "$rc" -eq 0 ] || lib_fail "$name: the sink exited $rc"
}

# run NAME FAMILY COUNT INTERVAL_US RELAY_OPTS...: one sender in a, N
# datagrams through a fresh relay and sink; stats in $LIB_TMP/NAME-*.stats.
# The sender returns when every echo is back or none came for 0.5 s, so
# nothing is still on its way when the relay and the sink are stopped.
run() {
	local name=$1 fam=$2 count=$3 interval=$4 rc relay_at sink_at
	shift 4
	relay_at=$RELAY4 sink_at=$SINK4
	if [ "$fam" = 6 ]; then
		relay_at=$RELAY6 sink_at=$SINK6
	fi
	start_pair "$name" "$relay_at" "$sink_at" "$@"
	lib_run 20 ip netns exec "$(lib_ns a)" "$UDPRELAY" --send "$relay_at" \
	    --count "$count" --size "$SIZE" --interval-us "$interval" \
	    --echo-wait-ms 500 --max-seconds 20 \
	    --stats "$LIB_TMP/$name-send.stats" >>"$LIB_TMP/$name-send.log" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] || lib_fail "$name: the sender exited $rc"
	finish_pair "$name"
	check "$name: every datagram was sent" \
	    "$(st "$name-send" sent) == $count"
	# Whatever the faults, the sink got exactly what the relay sent up
	# and the sender exactly what it sent down.
	check "$name: the sink got what the relay forwarded" \
	    "$(st "$name-sink" received) == $(st "$name-relay" up_forwarded)"
	check "$name: the sender got what the relay returned" \
	    "$(st "$name-send" echo_received) == \
	    $(st "$name-relay" down_forwarded)"
}

# Everything arrives intact, once and in order, both ways.
clean() {
	local name=$1
	check "$name: all arrive" "$(st "$name-sink" unique) == $N"
	check "$name: intact, no duplicates" "$(st "$name-sink" intact) == $N \
	    && $(st "$name-sink" duplicates) == 0"
	check "$name: in order" "$(st "$name-sink" reordered) == 0 && \
	    $(st "$name-sink" max_seq) == $N - 1"
	check "$name: every echo came back intact, in order" \
	    "$(st "$name-send" echo_intact) == $N && \
	    $(st "$name-send" echo_unique) == $N && \
	    $(st "$name-send" echo_reordered) == 0"
	check "$name: no overflow in the relay's socket queues" \
	    "$(st "$name-relay" kernel_rcvbuf_errors) == 0"
	check "$name: one client, no faults counted" \
	    "$(st "$name-relay" clients_total) == 1 && \
	    $(st "$name-relay" up_dropped) + $(st "$name-relay" up_corrupted) \
	    + $(st "$name-relay" down_duplicated) == 0"
}

run clean4 4 "$N" 100
clean clean4
run clean6 6 "$N" 100
clean clean6
grep -q "new client \[2001:db8:1::101\]:" "$LIB_TMP/clean6-relay.log" ||
	lib_fail "clean6: the relay did not log its IPv6 client"

# Drop 10 % upward: as many are missing as the relay dropped, the rest in
# order, and the same seed drops the same number again.
run drop 4 "$N" 100 --seed 7 --drop 10 --dir up
missing=$((N - $(st drop-sink unique)))
check "drop: missing = dropped" "$missing == $(st drop-relay up_dropped)"
check "drop: about 10 % missing" "$missing >= $N * 3 / 100 && \
    $missing <= $N * 20 / 100"
check "drop: the rest intact and in order" "$(st drop-sink corrupt) == 0 &&
    $(st drop-sink duplicates) == 0 && $(st drop-sink reordered) == 0"
check "drop: no faults downward" "$(st drop-relay down_dropped) == 0 &&
    $(st drop-send echo_unique) == $(st drop-sink unique)"
run drop-again 4 "$N" 100 --seed 7 --drop 10 --dir up
check "drop: the seed decides" \
    "$(st drop-again-relay up_dropped) == $(st drop-relay up_dropped)"

# Duplicate 10 % upward: nothing lost, duplicates seen as counted.
run dup 4 "$N" 100 --seed 3 --dup 10 --dir up
check "dup: all arrive" "$(st dup-sink unique) == $N"
check "dup: duplicates seen" "$(st dup-sink duplicates) > 0 && \
    $(st dup-sink duplicates) == $(st dup-relay up_duplicated)"

# Corrupt every datagram upward: none arrives as it was sent.
run corrupt 4 "$N" 100 --seed 4 --corrupt 100 --dir up
check "corrupt: every datagram differs" "$(st corrupt-sink intact) == 0 && \
    $(st corrupt-sink corrupt) == $N && \
    $(st corrupt-relay up_corrupted) == $N"

# Reorder 20 % upward: the order differs, the set is complete.
run reorder 4 "$N" 100 --seed 5 --reorder 20 --reorder-depth 3 --dir up
check "reorder: all arrive once" "$(st reorder-sink unique) == $N && \
    $(st reorder-sink duplicates) == 0 && $(st reorder-sink corrupt) == 0"
check "reorder: out of order" "$(st reorder-sink reordered) > 0 && \
    $(st reorder-relay up_reordered) > 0"

# Faults downward only: the sink sees everything, the echoes suffer.
run down 4 "$N" 100 --seed 9 --drop 10 --dir down
check "down: all arrive upward" "$(st down-sink unique) == $N && \
    $(st down-relay up_dropped) == 0"
check "down: echoes dropped" "$(st down-relay down_dropped) > 0 && \
    $(st down-send echo_unique) == $N - $(st down-relay down_dropped)"

# 100 ms each way: the last echo comes at least 200 ms after the first
# send; a constant delay keeps the order.
run delay 4 20 1000 --delay-ms 100
check "delay: all arrive in order" "$(st delay-sink unique) == 20 && \
    $(st delay-sink reordered) == 0 && $(st delay-relay up_delayed) == 20"
check "delay: round trip >= 200 ms" "$(st delay-send echo_span_ms) >= 200 \
    && $(st delay-send echo_unique) == 20"

# Everything at once, both ways, as the tunnel tests use it.
run mixed 4 "$N" 100 --seed 11 --drop 3 --dup 3 --reorder 5 --corrupt 1
check "mixed: every fault happened" "$(st mixed-relay up_dropped) > 0 && \
    $(st mixed-relay up_duplicated) > 0 && \
    $(st mixed-relay up_reordered) > 0 && \
    $(st mixed-relay up_corrupted) > 0 && \
    $(st mixed-relay down_corrupted) > 0"
check "mixed: the sink saw the corruption" \
    "$(st mixed-sink corrupt) >= $(st mixed-relay up_corrupted)"
check "mixed: nothing held at exit" "$(st mixed-relay held) == 0"

# NAT rebinding: on SIGUSR2 the relay moves its client to a new upstream
# socket on the second --src address; the sink sees a new source and
# nothing is lost upward.
start_pair rebind "$RELAY4" "$SINK4" --src 198.51.100.17 --src 198.51.100.18
lib_bg_ns a "$UDPRELAY" --send "$RELAY4" --count "$N" --size "$SIZE" \
    --interval-us 1000 --echo-wait-ms 500 --max-seconds 20 \
    --stats "$LIB_TMP/rebind-send.stats" >>"$LIB_TMP/rebind-send.log" 2>&1
sender=$LIB_BG_PID
# shellcheck disable=SC2317 # called through lib_wait_for
has_client() {
	udprelay_snapshot rebind-relay "$relay" &&
	    [ "$(st rebind-relay clients)" = 1 ]
}
lib_wait_for 5 has_client || lib_fail "rebind: the relay got no client"
udprelay_rebind "$relay" || lib_fail "rebind: cannot signal the relay"
lib_wait_pid "$sender" 20 || lib_fail "rebind: the sender failed"
finish_pair rebind
check "rebind: one rebinding" "$(st rebind-relay rebinds) == 1 && \
    $(st rebind-relay rebind_errors) == 0"
check "rebind: the sink saw two sources" "$(st rebind-sink sources) == 2"
[[ $(st rebind-sink source_0) == 198.51.100.17:* &&
    $(st rebind-sink source_1) == 198.51.100.18:* ]] ||
	lib_fail "rebind: sources $(st rebind-sink source_0)," \
	    "$(st rebind-sink source_1)"
check "rebind: nothing lost upward" "$(st rebind-sink unique) == $N"
# Echoes in flight to the old socket are lost, as behind a real NAT.
check "rebind: echoes resume" "$(st rebind-send echo_unique) >= $N - 10 && \
    $(st rebind-send echo_max_seq) == $N - 1"

# Two clients at once: each gets its own upstream socket and only its own
# echoes back.
start_pair two "$RELAY4" "$SINK4"
pids=()
for s in 1 2; do
	lib_bg_ns a "$UDPRELAY" --send "$RELAY4" --count "$N" --size "$SIZE" \
	    --stream "$s" --interval-us 200 --echo-wait-ms 500 \
	    --max-seconds 20 --stats "$LIB_TMP/two-send$s.stats" \
	    >>"$LIB_TMP/two-send$s.log" 2>&1
	pids+=("$LIB_BG_PID")
done
for p in "${pids[@]}"; do
	lib_wait_pid "$p" 20 || lib_fail "two: a sender failed"
done
finish_pair two
check "two: two clients, two sources" "$(st two-relay clients_total) == 2 \
    && $(st two-sink sources) == 2 && $(st two-sink received) == 2 * $N"
for s in 1 2; do
	check "two: sender $s got its own echoes" \
	    "$(st "two-send$s" echo_unique) == $N && \
	    $(st "two-send$s" echo_foreign) == 0"
done

# With --tcp, TCP passes through untouched (the UDP faults do not apply)
# and SIGHUP resets it; this is the path of a tunnel's control channel.
udprelay_start b tcp-sink --sink "$SINK4" --echo --tcp --max-seconds 30
sink=$LIB_BG_PID
udprelay_start r tcp-relay --listen "$RELAY4" --to "$SINK4" --tcp \
    --drop 100 --corrupt 100 --max-seconds 30
relay=$LIB_BG_PID
# shellcheck disable=SC2016 # expanded by the inner bash
lib_bg_ns a bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1##*:}" || exit 3
	printf "hello through the relay\n" >&3
	IFS= read -r -t 5 line <&3 || exit 4
	echo "$line" >"$2.tmp" && mv "$2.tmp" "$2"
	IFS= read -r -t 10 line <&3
	echo "after the cut: $?" >"$3"' _ "$RELAY4" "$LIB_TMP/tcp-echo" \
    "$LIB_TMP/tcp-cut" 2>/dev/null
client=$LIB_BG_PID
lib_wait_file "$LIB_TMP/tcp-echo" 5 "$client" ||
	lib_fail "tcp: no echo through the relay"
[ "$(cat "$LIB_TMP/tcp-echo")" = "hello through the relay" ] ||
	lib_fail "tcp: the echo differs: $(cat "$LIB_TMP/tcp-echo")"
udprelay_tcp_cut "$relay" || lib_fail "tcp: cannot signal the relay"
lib_wait_pid "$client" 5 || lib_fail "tcp: the client did not see the cut"
# read fails (1) on the reset; it would time out (> 128) without one.
grep -qx "after the cut: 1" "$LIB_TMP/tcp-cut" ||
	lib_fail "tcp: $(cat "$LIB_TMP/tcp-cut" 2>/dev/null)"
finish_pair tcp
check "tcp: one connection, passed through and cut" \
    "$(st tcp-relay tcp_accepted) == 1 && $(st tcp-relay tcp_cut) == 1 && \
    $(st tcp-relay tcp_up_bytes) == 24 && \
    $(st tcp-relay tcp_down_bytes) == 24 && $(st tcp-sink tcp_bytes) == 24"

# A sink with --idle-exit-ms ends on its own once the traffic stops.
udprelay_start b idle --sink "$SINK4" --idle-exit-ms 300 --max-seconds 10
sink=$LIB_BG_PID
lib_run 10 ip netns exec "$(lib_ns r)" "$UDPRELAY" --send "$SINK4" \
    --count 5 --size 100 >/dev/null 2>&1 || lib_fail "idle: send failed"
lib_wait_pid "$sink" 5 || lib_fail "idle: the sink did not exit 0"
check "idle: stats at exit" "$(st idle received) == 5 && \
    $(st idle unique) == 5"

# The time limit ends a relay, with its stats written.  Its target does
# not listen: a TCP client is reset, as if it had reached the target.
udprelay_start r limit --listen "$RELAY4" --to "$SINK4" --tcp \
    --max-seconds 1
relay=$LIB_BG_PID
# shellcheck disable=SC2016 # expanded by the inner bash
lib_run 5 ip netns exec "$(lib_ns a)" bash -c \
    'exec 3<>"/dev/tcp/${1%:*}/${1##*:}" && read -r -t 3 line <&3
    echo "read: $?" >"$2"' _ "$RELAY4" "$LIB_TMP/limit-tcp" 2>/dev/null
lib_wait_pid "$relay" 5 || lib_fail "limit: the relay did not exit 0"
check "limit: stats at exit" "$(st limit stats_serial) == 1"
grep -qx "read: 1" "$LIB_TMP/limit-tcp" ||
	lib_fail "limit: TCP to a closed target: $(cat "$LIB_TMP/limit-tcp")"
check "limit: the TCP client was reset" "$(st limit tcp_connect_errors) == 1"
grep -q "max-seconds 1 reached" "$LIB_TMP/limit.log" ||
	lib_fail "limit: no message about the time limit"

# Capture and replay: every 10th datagram up, 30 at most, sent again 5
# datagrams later: the sink sees those 30 twice and nothing else changes;
# the recording holds the same 30.
start_pair replay "$RELAY4" "$SINK4" --capture-every 10 --capture-max 30 \
    --replay-after 5 --record "$LIB_TMP/replay.rec"
lib_run 20 ip netns exec "$(lib_ns a)" "$UDPRELAY" --send "$RELAY4" \
    --count "$N" --size "$SIZE" --interval-us 100 --echo-wait-ms 500 \
    --max-seconds 20 --stats "$LIB_TMP/replay-send.stats" \
    >>"$LIB_TMP/replay-send.log" 2>&1 || lib_fail "replay: the sender failed"
finish_pair replay
check "replay: 30 captured, recorded and replayed" \
    "$(st replay-relay captured) == 30 && $(st replay-relay recorded) == 30 \
    && $(st replay-relay replayed) == 30 && \
    $(st replay-relay replay_pending) == 0"
check "replay: the sink saw each capture twice" "$(st replay-sink unique) == \
    $N && $(st replay-sink duplicates) == 30 && \
    $(st replay-sink received) == $(st replay-relay up_forwarded) + 30"
check "replay: the recording holds 30 datagrams" \
    "$(stat -c %s "$LIB_TMP/replay.rec") == 30 * (2 + $SIZE)"

# From another address: the copies come from a third source, and the
# sink's echoes to it are counted as answers.
start_pair rsrc "$RELAY4" "$SINK4" --src 198.51.100.17 --capture-every 10 \
    --capture-max 30 --replay-after 0 --replay-src 198.51.100.18
lib_run 20 ip netns exec "$(lib_ns a)" "$UDPRELAY" --send "$RELAY4" \
    --count "$N" --size "$SIZE" --interval-us 100 --echo-wait-ms 500 \
    --max-seconds 20 --stats "$LIB_TMP/rsrc-send.stats" \
    >>"$LIB_TMP/rsrc-send.log" 2>&1 || lib_fail "rsrc: the sender failed"
finish_pair rsrc
check "rsrc: two sources, 30 copies" "$(st rsrc-sink sources) == 2 && \
    $(st rsrc-sink duplicates) == 30 && $(st rsrc-relay replayed) == 30"
[[ $(st rsrc-sink source_1) == 198.51.100.18:* ]] ||
	lib_fail "rsrc: the copies came from $(st rsrc-sink source_1)"
check "rsrc: the echoes of the copies counted" \
    "$(st rsrc-relay replay_answers) == 30"
check "rsrc: the sender's echoes are not doubled" \
    "$(st rsrc-send echo_duplicates) == 0"

# --inject sends the recording again, as it was, and counts the answers.
udprelay_start b inject-sink --sink "$SINK4" --echo --max-seconds 30
sink=$LIB_BG_PID
lib_run 20 ip netns exec "$(lib_ns r)" "$UDPRELAY" --send "$SINK4" \
    --inject "$LIB_TMP/replay.rec" --echo-wait-ms 500 --max-seconds 20 \
    --stats "$LIB_TMP/inject.stats" >>"$LIB_TMP/inject.log" 2>&1 ||
	lib_fail "inject: the injector failed"
udprelay_stop "$sink" || lib_fail "inject: the sink failed"
check "inject: 30 intact datagrams, each answered" \
    "$(st inject sent) == 30 && $(st inject-sink intact) == 30 && \
    $(st inject-sink unique) == 30 && $(st inject answers) == 30"

# Floods: garbage of random length, and tapline headers for a receiver
# id, one kind of damage each; the seed decides, the sink counts.
for f in garbage header header-again; do
	udprelay_start b "$f-sink" --sink "$SINK4" --echo --max-seconds 30
	sink=$LIB_BG_PID
	case $f in
	garbage) args=(--flood garbage --size 300 --seed 1) ;;
	*) args=(--flood header --rid 1a2b3c4d --epoch 7 --seed 2) ;;
	esac
	lib_run 20 ip netns exec "$(lib_ns r)" "$UDPRELAY" --send "$SINK4" \
	    --count 400 "${args[@]}" --echo-wait-ms 500 --max-seconds 20 \
	    --stats "$LIB_TMP/$f.stats" >>"$LIB_TMP/$f.log" 2>&1 ||
		lib_fail "$f: the flooder failed"
	udprelay_stop "$sink" || lib_fail "$f: the sink failed"
	check "$f: 400 sent, arrived and answered" "$(st "$f" sent) == 400 && \
	    $(st "$f-sink" received) == 400 && $(st "$f" answers) == 400"
done
check "garbage: all garbage, 0..300 bytes" \
    "$(st garbage flood_garbage) == 400 && \
    $(st garbage-sink bytes) <= 400 * 300 && $(st garbage-sink intact) == 0"
kinds=0
for k in auth epoch flags reserved type zero limit short long; do
	check "header: some '$k', as with the same seed" \
	    "$(st header "flood_$k") > 0 && \
	    $(st header "flood_$k") == $(st header-again "flood_$k")"
	kinds=$((kinds + $(st header "flood_$k")))
done
check "header: half 'auth', every one of a kind" \
    "$kinds == 400 && $(st header flood_auth) >= 150 && \
    $(st header flood_auth) <= 250"

lib_pass
