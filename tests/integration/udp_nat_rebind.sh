#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# NAT rebinding over UDP (issue 4, ATTACKS.md row 8, second half).  Three
# namespaces, cli - nat - srv: the client reaches the server through
# udprelay, which stands for a NAT (its TLS control connection passes
# through it with --tcp).  On SIGUSR2 the relay moves the client to a new
# upstream socket on its other address, so the server sees the client's
# datagrams come from a new address and port, as after a NAT rebinding.
#  1. An idle client: only the server pings (so only the client's
#     keepalives can tell the server where it went).  After the rebinding
#     the server's pings must get through again within 2 keepalive
#     intervals (+ 1 s), the server logs "peer moved from" the old to the
#     new address, and the pings pass from then on.
#  2. A busy client: a ping from the client runs through a second
#     rebinding and goes on passing; the server moves the peer back.
# Through both the TLS control connection stays up: the server logs
# "authenticated" exactly once and the relay passed one TCP connection.
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
keepalive=2
# The deadline of the issue: 2 keepalive intervals, + 1 s for the pings
# (one every 0.2 s) and the poll interval.
resume_s=$((2 * keepalive + 1))
cli4=198.51.100.1
nat4=198.51.100.2
nat4a=198.51.100.17
nat4b=198.51.100.18
srv4=198.51.100.20

lib_netns_add cli
lib_netns_add nat
lib_netns_add srv
lib_veth cli ul0 "$cli4/30" nat ul0 "$nat4/30"
lib_veth nat ul1 "$nat4a/28 $nat4b/28" srv ul0 "$srv4/28"
lib_key cobra

cat >"$LIB_TMP/server.conf" <<CONF
options = { port = $port; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  keepalive = $keepalive;
  timeout = 20;
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
cat >"$LIB_TMP/client.conf" <<CONF
options = { port = $port; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  keepalive = $keepalive;
  timeout = 20;
  persist = false;
  address = [ "$LIB_TUN4_B/30" ];
};
CONF
slog=$LIB_TMP/server-srv.log
clog=$LIB_TMP/client-cli-cobra.log

# count FILE PATTERN: lines matching (grep -E).
count() {
	grep -cE -- "$2" "$1"
}

# The source address the server last moved the peer to ("" before any).
moved_to() {
	sed -n 's/.*cobra: peer moved from .* to \([^ ]*\)$/\1/p' "$slog" |
	    tail -n 1
}

lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
udprelay_start nat relay --listen "$nat4:$port" --to "$srv4:$port" --tcp \
    --src "$nat4a" --src "$nat4b" --max-seconds 120
relay=$LIB_BG_PID
lib_client cli "$LIB_TMP/client.conf" cobra "$nat4"
client=$LIB_BG_PID
lib_wait_up cli tl-cobra 15 "$LIB_TUN4_B"
lib_wait_up srv tl-cobra 5 "$LIB_TUN4_A"
lib_ping cli "$LIB_TUN4_A" || lib_fail "no ping through the tunnel"
lib_ping srv "$LIB_TUN4_B" || lib_fail "no ping back through the tunnel"
grep -qE "cobra: up with .*\((AES-256-GCM|ChaCha20-Poly1305)," "$slog" ||
	lib_fail "the session is not over udp"
[ "$(count "$slog" "cobra: peer moved from")" -eq 0 ] ||
	lib_fail "the peer moved before any rebinding"
udprelay_snapshot relay "$relay" || lib_fail "no stats from the relay"
[ "$(udprelay_stat "$LIB_TMP/relay.stats" clients)" = 1 ] ||
	lib_fail "the relay does not show one UDP client"
old=$(sed -n 's/.*rebound client .* via \(.*\)$/\1/p;
    s/.*new client .* via \(.*\)$/\1/p' "$LIB_TMP/relay.log" | tail -n 1)
[[ $old == "$nat4a":* ]] || lib_fail "the client's mapping is '$old'"
lib_log "the server sees the client as $old"

# ----- 1. an idle client: only its keepalives can show the new address.
lib_log "rebinding an idle client"
udprelay_rebind "$relay" || lib_fail "cannot signal the relay"
t0=$(lib__now_ms)
# Pings from the server only, started after the rebinding so that no
# answer of the client's can show the new address: they reach the client
# once the server follows it there, and only the client's keepalives can
# tell the server where that is.
lib_bg_ns srv ping -n -i 0.2 -c 100 -W 1 "$LIB_TUN4_B" \
    >"$LIB_TMP/ping-idle.out" 2>&1
pinger=$LIB_BG_PID
lib_wait_for "$resume_s" grep -q "bytes from" "$LIB_TMP/ping-idle.out" ||
	lib_fail "no server -> client ping within $resume_s s of the" \
	    "rebinding (keepalive $keepalive s)"
lib_log "server -> client pings pass again after $(($(lib__now_ms) - t0)) ms"
kill -INT "$pinger"
lib_wait_pid "$pinger" 5
lib_wait_log "$slog" 2 "cobra: peer moved from $old to " ||
	lib_fail "the server did not log the move from $old"
new=$(moved_to)
[[ $new == "$nat4b":* ]] ||
	lib_fail "the server moved the peer to '$new', not to $nat4b"
udprelay_snapshot relay "$relay" || lib_fail "no stats from the relay"
[ "$(udprelay_stat "$LIB_TMP/relay.stats" rebinds)" = 1 ] ||
	lib_fail "the relay did not rebind"
lib_ping srv "$LIB_TUN4_B" 5 || lib_fail "server -> client pings lost after the move"
lib_ping cli "$LIB_TUN4_A" 5 || lib_fail "client -> server pings lost after the move"

# ----- 2. a busy client: a ping from the client runs through a second
# rebinding (back to the first address, on a new port).
lib_log "rebinding a busy client"
lib_bg_ns cli ping -n -i 0.1 -c 60 -W 1 "$LIB_TUN4_A" >"$LIB_TMP/ping.out" 2>&1
pinger=$LIB_BG_PID
# The ping is under way: some replies are in.
lib_wait_for 5 grep -q "bytes from" "$LIB_TMP/ping.out" ||
	lib_fail "the background ping does not get through"
udprelay_rebind "$relay" || lib_fail "cannot signal the relay"
lib_wait_log "$slog" "$resume_s" "cobra: peer moved from $new to $nat4a:" ||
	lib_fail "the server did not follow the busy client within $resume_s s"
lib_wait_pid "$pinger" 20
stats=$(grep "packets transmitted" "$LIB_TMP/ping.out")
lib_log "ping through the second rebinding: $stats"
[[ $stats =~ ^([0-9]+)\ packets\ transmitted,\ ([0-9]+)\ received ]] ||
	lib_fail "no statistics from the background ping"
sent=${BASH_REMATCH[1]} got=${BASH_REMATCH[2]}
[ "$sent" -eq 60 ] || lib_fail "the ping sent $sent, not 60"
# Replies in flight to the old mapping are lost, as behind a real NAT;
# the client's next request moves the server at once.
[ $((sent - got)) -le 2 ] ||
	lib_fail "the busy client lost $((sent - got)) echoes: $stats"
# Each reply is the answer to the request it belongs to, no duplicates.
! grep -q "DUP!" "$LIB_TMP/ping.out" || lib_fail "duplicated echoes"
lib_ping srv "$LIB_TUN4_B" || lib_fail "server -> client ping after the second move"

# ----- the control connection never noticed.
[ "$(count "$slog" "cobra: peer moved from")" -eq 2 ] ||
	lib_fail "$(count "$slog" "cobra: peer moved from") moves, not 2"
[ "$(count "$slog" "cobra: authenticated ")" -eq 1 ] ||
	lib_fail "the server authenticated $(count "$slog" \
	    "cobra: authenticated ") times: a new TLS handshake"
[ "$(count "$slog" "cobra: up with ")" -eq 1 ] ||
	lib_fail "the session went down and up again"
[ "$(count "$clog" "cobra: authenticated ")" -eq 1 ] ||
	lib_fail "the client made a new TLS handshake"
udprelay_snapshot relay "$relay" || lib_fail "no stats from the relay"
if [ "$(udprelay_stat "$LIB_TMP/relay.stats" tcp_accepted)" != 1 ] ||
    [ "$(udprelay_stat "$LIB_TMP/relay.stats" rebinds)" != 2 ] ||
    [ "$(udprelay_stat "$LIB_TMP/relay.stats" rebind_errors)" != 0 ]; then
	lib_fail "not one TCP connection and two rebindings:" \
	    "$(tr '\n' ' ' <"$LIB_TMP/relay.stats")"
fi
lib__is_child "$client" || lib_fail "the client died"

# Both ends' summaries: no datagram failed to authenticate, and none was
# dropped for want of an address.
kill -TERM "$client"
lib_wait_pid "$client" 10 || lib_fail "the client did not exit 0 on SIGTERM"
lib_wait_log "$slog" 10 "cobra: session with .* lasted " ||
	lib_fail "no session summary from the server"
sum=$(grep "cobra: session with .* lasted " "$slog")
lib_log "server: ${sum#*lasted }"
[[ $sum == *"; udp: "* ]] || lib_fail "no udp counters in the summary"
[[ $sum != *" auth "* ]] || lib_fail "datagrams failed to authenticate"
kill -0 "$server" || lib_fail "the server died"
lib_pass
