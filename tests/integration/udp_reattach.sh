#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A UDP session outlives its TLS control connection (re-attach).  Three
# namespaces, cli - nat - srv; nat masquerades the client with random
# ports, as a home router or a carrier NAT does.
#  1. Mid-transfer the NAT forgets its mappings (conntrack flush): the
#     data channel follows the client's new port, the control connection
#     is dead (the server answers its next segment with a reset), and the
#     client dials again and re-attaches the live session.  The transfer
#     completes with the right sha256.
#  2. The client's own underlay address changes: the datagrams leave
#     from the new one at once, the control connection times out and is
#     re-attached from the new address.
#  3. Past the 120 s rekey: the keys were renewed over the re-attached
#     connection, each end brought the session up exactly once, the
#     devices are the ones first made (same ifindex), and pings pass
#     without a loss.
#  4. The server restarts: the client's re-attach is refused (the
#     session is gone) and it starts a new session.
# shellcheck disable=SC2317 # functions run by lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping nc nft conntrack
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

port=5000
keepalive=2
timeout=20
cli4=198.51.100.1
cli4b=198.51.100.3
nat4=198.51.100.6
nat4s=198.51.100.17
srv4=198.51.100.20

lib_netns_add cli
lib_netns_add nat
lib_netns_add srv
lib_veth cli ul0 "$cli4/29" nat ul0 "$nat4/29"
lib_veth nat ul1 "$nat4s/28" srv ul0 "$srv4/28"
lib_nsexec cli ip route add default via "$nat4" ||
	lib_hard_error "no default route in the client's namespace"
lib_nsexec nat sysctl -qw net.ipv4.ip_forward=1 ||
	lib_hard_error "cannot turn on forwarding in the NAT"
lib_nsexec nat nft -f - <<'NFT' || lib_hard_error "cannot set up the NAT"
table ip nat {
	chain post {
		type nat hook postrouting priority srcnat;
		oifname "ul1" masquerade random
	}
}
NFT
lib_key cobra

cat >"$LIB_TMP/server.conf" <<CONF
options = { port = $port; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  keepalive = $keepalive;
  timeout = $timeout;
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
cat >"$LIB_TMP/client.conf" <<CONF
options = { port = $port; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  keepalive = $keepalive;
  timeout = $timeout;
  speed = 32000;
  address = [ "$LIB_TUN4_B/30" ];
};
CONF
slog=$LIB_TMP/server-srv.log
clog=$LIB_TMP/client-cli-cobra.log

# count FILE PATTERN: lines matching (grep -E).
count() {
	grep -cE -- "$2" "$1"
}

# ifindex SHORT: the tunnel device's interface index in the namespace.
ifindex() {
	lib_nsexec "$1" cat /sys/class/net/tl-cobra/ifindex
}

# The source the server sees the client's datagrams come from.
moved_to() {
	sed -n 's/.*cobra: peer moved from .* to \([^ ]*\)$/\1/p' "$slog" |
	    tail -n 1
}

lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
lib_client cli "$LIB_TMP/client.conf" cobra "$srv4"
client=$LIB_BG_PID
lib_wait_up cli tl-cobra 15 "$LIB_TUN4_B"
lib_wait_up srv tl-cobra 5 "$LIB_TUN4_A"
up_ms=$(lib__now_ms)
lib_ping cli "$LIB_TUN4_A" || lib_fail "no ping through the tunnel"
grep -qE "cobra: up with .*\((AES-256-GCM|ChaCha20-Poly1305)," "$slog" ||
	lib_fail "the session is not over udp"
cli_if=$(ifindex cli) srv_if=$(ifindex srv)
[ "$(lib_nsexec nat conntrack -L 2>/dev/null | grep -c "dport=$port")" -ge 2 ] ||
	lib_fail "the NAT does not track the tunnel's TCP and UDP flows"

# ----- 1. the NAT forgets everything in the middle of a transfer.
head -c $((24 * 1024 * 1024)) /dev/urandom >"$LIB_TMP/blob" ||
	lib_hard_error "cannot make the test file"
want=$(sha256sum <"$LIB_TMP/blob")
lib_bg_ns srv nc -d -l "$LIB_TUN4_A" 7000 >"$LIB_TMP/blob.out"
rx=$LIB_BG_PID
lib_wait_for 5 lib__listening srv 7000 || lib_fail "nc does not listen"
# The client's speed limit makes the transfer last some 6 s, so that the
# flush falls into it.
# shellcheck disable=SC2016 # sh expands them
lib_bg_ns cli sh -c 'exec nc -N "$1" 7000 <"$2"' sh "$LIB_TUN4_A" \
    "$LIB_TMP/blob"
tx=$LIB_BG_PID
lib_wait_for 10 test -s "$LIB_TMP/blob.out" ||
	lib_fail "the transfer does not start"
lib_log "flushing the NAT's connection tracking"
lib_nsexec nat conntrack -F 2>/dev/null ||
	lib_hard_error "conntrack -F failed"
lib_wait_log "$clog" 15 "cobra: control connection with .* lost" ||
	lib_fail "the client did not notice the lost control connection"
lib_wait_log "$clog" 15 "cobra: re-attached to " ||
	lib_fail "the client did not re-attach"
lib_wait_log "$slog" 5 "cobra: .* re-attached" ||
	lib_fail "the server did not log the re-attach"
lib_wait_pid "$tx" 60 || lib_fail "the sender did not finish"
lib_wait_pid "$rx" 10 || lib_fail "the receiver did not finish"
[ "$(sha256sum <"$LIB_TMP/blob.out")" = "$want" ] ||
	lib_fail "the transfer across the flush arrived damaged" \
	    "($(stat -c %s "$LIB_TMP/blob.out") bytes)"
lib_log "24 MiB crossed the NAT flush intact; the server sees $(moved_to)"
lib_ping cli "$LIB_TUN4_A" 25 || lib_fail "pings lost after the re-attach"
lib_ping srv "$LIB_TUN4_B" 25 || lib_fail "pings back lost after the re-attach"

# ----- 2. the client's own address changes.
lib_log "moving the client from $cli4 to $cli4b"
# The new address stays when the old, primary one goes.
lib_nsexec cli sysctl -qw net.ipv4.conf.ul0.promote_secondaries=1
lib_nsexec cli ip addr add "$cli4b/29" dev ul0
lib_nsexec cli ip addr del "$cli4/29" dev ul0
lib_nsexec cli ip route replace default via "$nat4"
lib_ping cli "$LIB_TUN4_A" 10 ||
	lib_fail "the data channel did not follow the new address at once"
# shellcheck disable=SC2016 # bash expands them
lib_wait_for $((timeout + 15)) bash -c \
    '[ "$(grep -c "cobra: re-attached to " "$1")" -ge 2 ]' sh "$clog" ||
	lib_fail "the client did not re-attach from its new address"
lib_nsexec cli ss -Htn state established "dport = :$port" |
	grep -qF "$cli4b:" ||
	lib_fail "the control connection is not from $cli4b"
lib_ping cli "$LIB_TUN4_A" 25 || lib_fail "pings lost after the move"

# ----- 3. past the rekey, the first session still.
left=$(((up_ms + 130000 - $(lib__now_ms)) / 1000))
if ((left > 0)); then
	lib_log "waiting ${left} s, past the 120 s rekey"
	lib_wait_log "$slog" $((left + 15)) "cobra: rekey: epoch 1 keys ready" ||
		lib_fail "no rekey over the re-attached connection"
fi
lib_wait_log "$clog" 10 "cobra: rekey: sending under epoch 1" ||
	lib_fail "the client did not switch to epoch 1"
[ "$(count "$slog" "cobra: up with ")" -eq 1 ] ||
	lib_fail "the server brought the session up more than once"
[ "$(count "$clog" "cobra: up with ")" -eq 1 ] ||
	lib_fail "the client brought the session up more than once"
[ "$(ifindex cli)" = "$cli_if" ] && [ "$(ifindex srv)" = "$srv_if" ] ||
	lib_fail "a device was made anew"
! grep -qE "cobra: closing the session|session with .* lasted" \
    "$slog" "$clog" || lib_fail "a session ended"
lib_ping cli "$LIB_TUN4_A" 25 || lib_fail "pings lost after the rekey"
kill -0 "$server" || lib_fail "the server died"

# ----- 4. the server restarts while the NAT is cut off: the session the
# client asks to re-attach to is gone, so the new server refuses it and
# the client starts a new session.
lib_log "restarting the server behind a cut-off NAT"
lib_nsexec nat ip link set ul1 down
kill -KILL "$server"
lib_wait_pid "$server" 5 2>/dev/null
lib_nsexec nat conntrack -F 2>/dev/null
lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
lib_nsexec nat ip link set ul1 up
lib_wait_log "$slog" $((timeout + 15)) \
    "asks to re-attach to a session that is not here" ||
	lib_fail "the new server was not asked to re-attach"
# shellcheck disable=SC2016 # bash expands them
lib_wait_for 30 bash -c '[ "$(grep -c "cobra: up with " "$1")" -ge 2 ]' \
    sh "$clog" ||
	lib_fail "the client did not start a new session after the refusal"
lib_wait_for 10 lib_ping cli "$LIB_TUN4_A" 1 ||
	lib_fail "no ping through the new session"
lib__is_child "$client" || lib_fail "the client died"
lib_pass
