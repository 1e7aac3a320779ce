#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Key rollover with key pairs (issue 21), as a sysadmin does it.
# The client's key: the server lists the client's old and new public keys
# (peer_key = [ OLD, NEW ]); the client comes up with the old one, and
# the server's status names OLD.  While a ping runs from the server's
# side, the client's file is pointed at the new private key and the
# client gets SIGHUP: it reconnects, the server's status names NEW, the
# running ping gets replies again after the reconnect, and 30 further
# echoes lose none.  Then the old key leaves the server's list (SIGHUP):
# the session, which uses the new key, stays up on its connection (no
# second "authenticated" or "up with" on either side, no echo lost), and
# a client that still has the old key is refused.
# The server's key: the client lists the server's old and new public
# keys (SIGHUP, it reconnects with the first), then the server restarts
# with its new private key: the client's old key for the server fails,
# it logs "trying the server's next public key" and comes up with the
# new one, which its status then names.
# shellcheck disable=SC2317 # functions run through lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping jq
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

T=$LIB_TMP
S=$T/srv
C=$T/cli
mkdir -m 700 "$S" "$C" || lib_hard_error "mkdir failed"
lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli

SOLD=$(lib_keypair srv "$S/old.key") || exit 1
SNEW=$(lib_keypair srv "$S/new.key") || exit 1
COLD=$(lib_keypair cli "$C/old.key") || exit 1
CNEW=$(lib_keypair cli "$C/new.key") || exit 1

# server_conf PRIVATE PEER_KEYS
server_conf() {
	cat >"$S/server.conf" <<CONF
options = {
  private_key = "$S/$1.key";
  control = "$S/ctl.sock";
};
cobra = {
  peer_key = $2;
  proto = "udp";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
	chmod 600 "$S/server.conf"
}
# client_conf FILE PRIVATE PEER_KEYS PERSIST DEVICE
client_conf() {
	cat >"$C/$1.conf" <<CONF
options = {
  private_key = "$C/$2.key";
  control = "$C/ctl-$1.sock";
};
cobra = {
  peer_key = $3;
  persist = $4;
  device = "$5";
  address = [ "$LIB_TUN4_B/30" ];
};
CONF
	chmod 600 "$C/$1.conf"
}
server_conf old "[ \"$COLD\", \"$CNEW\" ]"
client_conf client old "\"$SOLD\"" true tl-cobra

# status NS CONF: cobra's JSON status in $T/status.out.
status() {
	lib_run 10 ip netns exec "$(lib_ns "$1")" "$TAPLINE" status \
	    -f "$2" --json cobra >"$T/status.out" 2>"$T/status.err"
}
# up_with NS CONF KEY: cobra is up and the peer used KEY.
up_with() {
	status "$1" "$2" && jq -e --arg k "$3" \
	    '.sessions[0] | .state == "up" and .peer_key == $k' \
	    "$T/status.out" >/dev/null
}
# count PATTERN LOG
count() {
	grep -cE -- "$1" "$2"
}
# pings NS ADDR N: N echoes, none lost.
pings() {
	local out
	out=$(lib_nsexec "$1" ping -n -q -c "$3" -i 0.2 -W 2 "$2" 2>&1)
	lib_log "$1 -> $2: $(grep transmitted <<<"$out")"
	grep -q "^$3 packets transmitted, $3 received, 0% packet loss" <<<"$out"
}

lib_server srv "$S/server.conf"
server=$LIB_BG_PID
slog=$T/server-srv.log
lib_client cli "$C/client.conf" cobra "$LIB_UL4_A"
client=$LIB_BG_PID
clog=$T/client-cli-cobra.log
lib_wait_up cli tl-cobra 15 "$LIB_TUN4_B"
lib_wait_for 10 up_with srv "$S/server.conf" "$COLD" ||
	lib_fail "the server does not show cobra up with the client's old" \
	    "key: $(cat "$T/status.out")"
lib_wait_for 10 lib_ping srv "$LIB_TUN4_B" 1 ||
	lib_fail "no ping through the tunnel with the old key"

# ----- The client's key -----
# A ping from the server's side runs across the switch (12 s).
lib_bg_ns srv ping -n -D -i 0.2 -c 60 -W 1 "$LIB_TUN4_B" \
    >"$T/ping-across.out" 2>&1
across=$LIB_BG_PID
lib_wait_for 5 grep -q "icmp_seq=" "$T/ping-across.out" ||
	lib_fail "the ping across the switch got no reply before it"
client_conf client new "\"$SOLD\"" true tl-cobra
kill -HUP "$client"
lib_wait_log "$clog" 10 "reloaded: cobra changed; reconnecting" ||
	lib_fail "the client did not reconnect for its new key"
lib_wait_for 15 up_with srv "$S/server.conf" "$CNEW" ||
	lib_fail "the server does not show cobra up with the client's new" \
	    "key: $(cat "$T/status.out")"
back=$(date +%s.%N)
lib_wait_for 10 eval "[ \$(count 'cobra: up with' '$clog') -ge 2 ]" ||
	lib_fail "the client did not come up again"
lib_wait_up cli tl-cobra 10 "$LIB_TUN4_B"
lib_wait_for 10 lib_ping srv "$LIB_TUN4_B" 1 ||
	lib_fail "no ping through the tunnel with the new key"
pings srv "$LIB_TUN4_B" 30 || lib_fail "echoes lost after the switch"
lib_wait_pid "$across" 30
[ $? != 124 ] || lib_fail "the ping across the switch did not finish"
# Replies (with -D: "[seconds] ... icmp_seq=N") after the reconnect.
after=$(awk -v t="$back" '/icmp_seq=/ { s = $1; gsub(/[][]/, "", s);
    if (s + 0 > t + 0) n++ } END { print n + 0 }' "$T/ping-across.out")
lib_log "the ping across the switch: $(grep transmitted \
    "$T/ping-across.out"), $after replies after the reconnect"
[ "$after" -gt 0 ] ||
	lib_fail "the ping across the switch got no reply after it"
[ "$(count 'cobra: authenticated' "$slog")" = 2 ] ||
	lib_fail "the server authenticated cobra $(count 'cobra: authenticated' \
	    "$slog") times, not 2"

# The old key leaves the server's list: the session stays.
server_conf old "\"$CNEW\""
kill -HUP "$server"
lib_wait_log "$slog" 10 "reloaded: " || lib_fail "the server did not reload"
grep -q "cobra: .* by the reload; closing it" "$slog" &&
	lib_fail "the reload closed cobra, whose key is still listed"
pings srv "$LIB_TUN4_B" 10 || lib_fail "echoes lost after the reload"
[ "$(count 'cobra: authenticated' "$slog")" = 2 ] &&
    [ "$(count 'cobra: up with' "$slog")" = 2 ] &&
    [ "$(count 'cobra: up with' "$clog")" = 2 ] ||
	lib_fail "cobra reconnected after the old key left the list"
up_with srv "$S/server.conf" "$CNEW" ||
	lib_fail "after the reload: $(cat "$T/status.out")"

# A client that still has the old key is refused now.
client_conf stale old "\"$SOLD\"" false tl-stale
n=$(count "authentication failed for" "$slog")
lib_bg_ns cli "$TAPLINE" -n -v -f "$C/stale.conf" cobra "$LIB_UL4_A" \
    >"$T/client-stale.log" 2>&1
lib_wait_pid "$LIB_BG_PID" 15
rc=$?
[ "$rc" = 1 ] || lib_fail "the client with the old key exited $rc, not 1"
grep -q "cobra: authentication with $LIB_UL4_A:5000 failed: " \
    "$T/client-stale.log" ||
	lib_fail "the client with the old key logged no authentication failure"
lib_wait_for 5 eval \
    "[ \$(count 'authentication failed for' '$slog') -gt $n ]" ||
	lib_fail "the server logged no failure for the old key"
SERVER_FAIL="authentication failed for unknown session from $LIB_UL4_B:"
SERVER_FAIL+='[0-9]+: .*\(identity [0-9a-f]{32}\)$'
grep "authentication failed for" "$slog" | tail -n 1 |
    grep -qE "$SERVER_FAIL" ||
	lib_fail "the old key's failure: $(grep "authentication failed" "$slog")"
lib_nsexec cli ip link show tl-stale >/dev/null 2>&1 &&
	lib_fail "the client with the old key made its device"
pings srv "$LIB_TUN4_B" 3 || lib_fail "cobra stopped after the stale client"
lib_log "the client's key rolled over"

# ----- The server's key -----
client_conf client new "[ \"$SOLD\", \"$SNEW\" ]" true tl-cobra
kill -HUP "$client"
# The key in use stays listed: the session goes on, not reconnected.
lib_wait_log "$clog" 10 "reloaded: cobra's keys changed; the one in use stays" ||
	lib_fail "the client did not reload its list of server keys"
pings cli "$LIB_TUN4_A" 5 || lib_fail "echoes lost after the client's reload"
[ "$(count 'cobra: up with' "$clog")" = 2 ] ||
	lib_fail "the client reconnected although the server's key stayed listed"
lib_wait_for 10 up_with cli "$C/client.conf" "$SOLD" ||
	lib_fail "the client is not up with the server's old key:" \
	    "$(cat "$T/status.out")"
server_conf new "\"$CNEW\""
kill -TERM "$server"
lib_wait_pid "$server" 10 || lib_fail "the server did not exit 0"
lib_server srv "$S/server.conf"
server=$LIB_BG_PID
lib_wait_log "$clog" 30 "trying the server's next public key" ||
	lib_fail "the client did not try the server's next key"
lib_wait_for 30 up_with cli "$C/client.conf" "$SNEW" ||
	lib_fail "the client is not up with the server's new key:" \
	    "$(cat "$T/status.out")"
lib_wait_up cli tl-cobra 10 "$LIB_TUN4_B"
lib_wait_for 10 lib_ping cli "$LIB_TUN4_A" 1 ||
	lib_fail "no ping after the server's new key"
pings cli "$LIB_TUN4_A" 10 || lib_fail "echoes lost with the server's new key"
up_with srv "$S/server.conf" "$CNEW" ||
	lib_fail "the new server: $(cat "$T/status.out")"
kill -0 "$client" || lib_fail "the client died"
lib_pass
