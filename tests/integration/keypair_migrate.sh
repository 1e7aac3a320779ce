#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Moving a running shared-key session to key pairs (issue 21, old_key),
# the four steps of tapline.conf(5) KEY PAIRS, with no more than one
# reconnect at each step.  cobra runs over UDP with a shared key.
# 1. Each side gets options.private_key; SIGHUP both: nothing reconnects.
# 2. The server replaces key by peer_key (the client's public key) and
#    old_key (the key file); SIGHUP: cobra reconnects once, the client
#    gets in with the shared key, the server logs "authenticated with
#    old_key" and its status says so ("peer key  none: old_key", JSON
#    "old_key": true).
# 3. The client does the same with the server's public key; SIGHUP: it
#    reconnects at once ("reconnecting in 0.0 s") with its key pair, which the
#    server's status then names; a ping running across the step loses no
#    echo after the reconnect.
# 4. old_key leaves the server, then the client (SIGHUP each): no
#    reconnect; the shared key files are deleted, 20 echoes lose none,
#    and a client that still has only the shared key is refused.
# Then the other order: the client moves first; the server, not moved
# yet, refuses its key pair, so it tries "the server's next public key
# (2 of 2)", old_key, and comes up with it; the server moves (SIGHUP) and
# the client comes back with its key pair.
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

# shared: a new shared key, one copy on each host and one kept aside
# for the stale client.
shared() {
	rm -f "$S/cobra.key" "$C/cobra.key" "$C/stale.key"
	"$TAPLINE" genkey "$S/cobra.key" >/dev/null 2>&1 ||
		lib_fail "tapline genkey $S/cobra.key failed"
	cp -p "$S/cobra.key" "$C/cobra.key" &&
		cp -p "$S/cobra.key" "$C/stale.key" ||
		lib_hard_error "cannot copy the shared key"
}

# server_conf PRIVATE AUTH: PRIVATE is a key file name in $S or "";
# AUTH the session's authentication settings.
server_conf() {
	cat >"$S/server.conf" <<CONF
options = {
  ${1:+private_key = \"$S/$1\";}
  control = "$S/ctl.sock";
};
cobra = {
  $2
  proto = "udp";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
	chmod 600 "$S/server.conf"
}
# client_conf FILE PRIVATE AUTH PERSIST DEVICE
client_conf() {
	cat >"$C/$1.conf" <<CONF
options = {
  ${2:+private_key = \"$C/$2\";}
  control = "$C/ctl-$1.sock";
};
cobra = {
  $3
  persist = $4;
  device = "$5";
  address = [ "$LIB_TUN4_B/30" ];
};
CONF
	chmod 600 "$C/$1.conf"
}

# status NS CONF [--json]: cobra's status in $T/status.out.
status() {
	lib_run 10 ip netns exec "$(lib_ns "$1")" "$TAPLINE" status \
	    -f "$2" ${3:+"$3"} cobra >"$T/status.out" 2>"$T/status.err"
}
# up_with NS CONF KEY OLD: cobra is up, the peer used KEY ("" for none)
# and old_key is OLD (true or false).
up_with() {
	status "$1" "$2" --json && jq -e --arg k "$3" --argjson o "$4" \
	    '.sessions[0] | .state == "up" and (.peer_key // "") == $k and
	    .old_key == $o' "$T/status.out" >/dev/null
}
# count PATTERN LOG
count() {
	grep -cE -- "$1" "$2"
}
# seen N PATTERN LOG: at least N lines of LOG match PATTERN.
seen() {
	[ "$(count "$2" "$3")" -ge "$1" ]
}
# ups N: cobra came up N times on each side, no more.
ups() {
	local s c
	s=$(count 'cobra: up with' "$slog")
	c=$(count 'cobra: up with' "$clog")
	[ "$s" = "$1" ] && [ "$c" = "$1" ] ||
		lib_fail "$2: cobra came up $s times on the server and $c on" \
		    "the client, not $1"
}
# pings NS ADDR N: N echoes, none lost.
pings() {
	local out
	out=$(lib_nsexec "$1" ping -n -q -c "$3" -i 0.2 -W 2 "$2" 2>&1)
	lib_log "$1 -> $2: $(grep transmitted <<<"$out")"
	grep -q "^$3 packets transmitted, $3 received, 0% packet loss" <<<"$out"
}

SPUB=$(lib_keypair srv "$S/host.key") || exit 1
CPUB=$(lib_keypair cli "$C/host.key") || exit 1
shared
server_conf "" "key = \"$S/cobra.key\";"
client_conf client "" "key = \"$C/cobra.key\";" true tl-cobra
slog=$T/server-srv.log
clog=$T/client-cli-cobra.log
lib_server srv "$S/server.conf"
server=$LIB_BG_PID
lib_client cli "$C/client.conf" cobra "$LIB_UL4_A"
client=$LIB_BG_PID
lib_wait_up cli tl-cobra 15 "$LIB_TUN4_B"
lib_wait_for 10 up_with srv "$S/server.conf" "" false ||
	lib_fail "the server does not show cobra up: $(cat "$T/status.out")"
lib_wait_for 10 lib_ping srv "$LIB_TUN4_B" 1 ||
	lib_fail "no ping through the tunnel with the shared key"
lib_wait_for 10 seen 1 'cobra: up with' "$clog" ||
	lib_fail "the client logged no 'up with'"
ups 1 "with the shared key"

# ----- 1. Private keys on both hosts: nothing reconnects -----
server_conf host.key "key = \"$S/cobra.key\";"
client_conf client host.key "key = \"$C/cobra.key\";" true tl-cobra
kill -HUP "$server"
lib_wait_log "$slog" 10 "reloaded: " || lib_fail "the server did not reload"
lib_log "step 1, server: $(grep "reloaded: " "$slog")"
grep -q "reloaded: 1 session defined, 1 running unchanged, 0 closed" \
    "$slog" || lib_fail "step 1: the server's reload touched cobra"
kill -HUP "$client"
lib_wait_log "$clog" 10 "reloaded: " || lib_fail "the client did not reload"
lib_log "step 1, client: $(grep "reloaded: " "$clog")"
grep -q "reloaded: cobra unchanged" "$clog" ||
	lib_fail "step 1: the client's reload touched cobra"
pings srv "$LIB_TUN4_B" 5 || lib_fail "step 1: echoes lost"
ups 1 "step 1"

# ----- 2. The server moves: peer_key and old_key -----
server_conf host.key "peer_key = \"$CPUB\"; old_key = \"$S/cobra.key\";"
kill -HUP "$server"
lib_wait_for 10 seen 2 "reloaded: " "$slog" ||
	lib_fail "step 2: the server did not reload"
lib_log "step 2, server: $(grep "reloaded: " "$slog" | tail -n 1)"
grep -q "cobra: changed by the reload; closing it" "$slog" ||
	lib_fail "step 2: the server did not close cobra"
OLDKEY_LOG="cobra: $LIB_UL4_B:[0-9]+ authenticated with old_key, the shared"
OLDKEY_LOG+=" key: once both ends have key pairs, remove old_key$"
lib_wait_log "$slog" 15 "$OLDKEY_LOG" ||
	lib_fail "step 2: no 'authenticated with old_key' on the server"
lib_log "step 2: $(grep -E "$OLDKEY_LOG" "$slog")"
lib_wait_for 10 up_with srv "$S/server.conf" "" true ||
	lib_fail "step 2: the server's status: $(cat "$T/status.out")"
status srv "$S/server.conf" ||
	lib_fail "step 2: tapline status failed: $(cat "$T/status.err")"
grep -qx "  peer key     none: old_key, the shared key, let it in" \
    "$T/status.out" ||
	lib_fail "step 2: no 'peer key  none: old_key' line in:" \
	    "$(cat "$T/status.out")"
lib_wait_for 10 seen 2 'cobra: up with' "$clog" ||
	lib_fail "step 2: the client did not come up again"
lib_wait_up cli tl-cobra 10 "$LIB_TUN4_B"
lib_wait_for 10 lib_ping srv "$LIB_TUN4_B" 1 ||
	lib_fail "step 2: no ping through the tunnel"
pings srv "$LIB_TUN4_B" 5 || lib_fail "step 2: echoes lost"
ups 2 "step 2"
[ "$(count 'cobra: authenticated' "$slog")" = 2 ] ||
	lib_fail "step 2: the server authenticated cobra" \
	    "$(count 'cobra: authenticated' "$slog") times, not 2"

# ----- 3. The client moves, a ping running across -----
# 60 echoes from the server's side (12 s); -D stamps each reply.
lib_bg_ns srv ping -n -D -i 0.2 -c 60 -W 1 "$LIB_TUN4_B" \
    >"$T/ping-across.out" 2>&1
across=$LIB_BG_PID
lib_wait_for 5 grep -q "bytes from" "$T/ping-across.out" ||
	lib_fail "the ping across step 3 got no reply before it"
backoffs=$(count "cobra: reconnecting in" "$clog")
client_conf client host.key \
    "peer_key = \"$SPUB\"; old_key = \"$C/cobra.key\";" true tl-cobra
kill -HUP "$client"
lib_wait_log "$clog" 10 "reloaded: cobra changed; reconnecting" ||
	lib_fail "step 3: the client did not reconnect: $(grep "reloaded: " \
	    "$clog" | tail -n 1)"
lib_wait_for 10 up_with srv "$S/server.conf" "$CPUB" false ||
	lib_fail "step 3: the server does not show cobra up with the" \
	    "client's public key: $(cat "$T/status.out")"
back=$(date +%s.%N)
status srv "$S/server.conf" ||
	lib_fail "step 3: tapline status failed: $(cat "$T/status.err")"
grep -qxF "  peer key     $CPUB" "$T/status.out" ||
	lib_fail "step 3: no 'peer key  $CPUB' line in: $(cat "$T/status.out")"
lib_wait_for 10 seen 3 'cobra: up with' "$clog" ||
	lib_fail "step 3: the client did not come up again"
# At once: the reload's redial says "reconnecting in 0.0 s".
waits=$(grep "cobra: reconnecting in" "$clog" | tail -n +$((backoffs + 1)))
lib_log "step 3, client: ${waits:-no 'reconnecting in' line}"
[ "$waits" = "tapline: cobra: reconnecting in 0.0 s" ] ||
	lib_fail "step 3: the client did not redial at once: ${waits:-}"
lib_wait_up cli tl-cobra 10 "$LIB_TUN4_B"
ups 3 "step 3"
lib_wait_pid "$across" 30
[ $? != 124 ] || lib_fail "the ping across step 3 did not finish"
# The replies after the reconnect ("[seconds] ... icmp_seq=N ..."): from
# the first, every later echo (to the 60th) came back.
read -r after first missing < <(awk -v t="$back" '/bytes from .*icmp_seq=/ {
    s = $1; gsub(/[][]/, "", s); q = $0
    sub(/.*icmp_seq=/, "", q); sub(/ .*/, "", q)
    got[q + 0] = 1; if (s + 0 > t + 0) { n++; if (!f || q + 0 < f) f = q + 0 } }
    END { m = 0; if (f) for (i = f; i <= 60; i++) if (!got[i]) m++
    print n + 0, f + 0, m }' "$T/ping-across.out")
lib_log "the ping across step 3: $(grep transmitted \
    "$T/ping-across.out"); $after replies after the reconnect, from" \
    "icmp_seq=$first, $missing missing from there"
[ "$after" -gt 0 ] || lib_fail "the ping across step 3 got no reply after it"
[ "$missing" = 0 ] ||
	lib_fail "the ping across step 3 lost $missing echoes after the" \
	    "reconnect: $(cat "$T/ping-across.out")"
[ "$(count "authenticated with old_key" "$slog")" = 1 ] ||
	lib_fail "step 3: the client got in with old_key again"

# ----- 4. old_key goes, then the shared key -----
server_conf host.key "peer_key = \"$CPUB\";"
kill -HUP "$server"
lib_wait_for 10 seen 3 "reloaded: " "$slog" ||
	lib_fail "step 4: the server did not reload"
lib_log "step 4, server: $(grep "reloaded: " "$slog" | tail -n 1)"
grep "reloaded: " "$slog" | tail -n 1 |
    grep -q "reloaded: 1 session defined, 1 running unchanged, 0 closed" ||
	lib_fail "step 4: the server's reload touched cobra"
client_conf client host.key "peer_key = \"$SPUB\";" true tl-cobra
kill -HUP "$client"
lib_wait_for 10 seen 3 "reloaded: " "$clog" ||
	lib_fail "step 4: the client did not reload"
lib_log "step 4, client: $(grep "reloaded: " "$clog" | tail -n 1)"
grep "reloaded: " "$clog" | tail -n 1 | grep -q \
    "reloaded: cobra's keys changed; the one in use stays, the session goes on" ||
	lib_fail "step 4: the client's reload touched cobra"
rm "$S/cobra.key" "$C/cobra.key" || lib_hard_error "rm failed"
pings srv "$LIB_TUN4_B" 20 || lib_fail "step 4: echoes lost"
ups 3 "step 4"
up_with srv "$S/server.conf" "$CPUB" false ||
	lib_fail "step 4: the server's status: $(cat "$T/status.out")"
up_with cli "$C/client.conf" "$SPUB" false ||
	lib_fail "step 4: the client's status: $(cat "$T/status.out")"

# A client that still has only the shared key is refused now.
client_conf stale "" "key = \"$C/stale.key\";" false tl-stale
n=$(count "authentication failed for" "$slog")
lib_bg_ns cli "$TAPLINE" -n -v -f "$C/stale.conf" cobra "$LIB_UL4_A" \
    >"$T/client-stale.log" 2>&1
lib_wait_pid "$LIB_BG_PID" 15
rc=$?
[ "$rc" = 1 ] ||
	lib_fail "the client with the shared key exited $rc, not 1"
lib_wait_for 5 seen $((n + 1)) "authentication failed for" "$slog" ||
	lib_fail "the server logged no failure for the shared key"
lib_log "the stale client: $(grep "authentication failed for" "$slog" |
    tail -n 1)"
grep "authentication failed for" "$slog" | tail -n 1 |
    grep -q "authentication failed for unknown session" ||
	lib_fail "the shared key's failure: $(grep "authentication failed" \
	    "$slog" | tail -n 1)"
lib_nsexec cli ip link show tl-stale >/dev/null 2>&1 &&
	lib_fail "the client with the shared key made its device"
pings srv "$LIB_TUN4_B" 3 || lib_fail "cobra stopped after the stale client"
ups 3 "after the stale client"
lib_log "moved to key pairs, the server first"

# ----- The other order: the client moves first -----
kill -TERM "$client"
lib_wait_pid "$client" 10 || lib_fail "the client did not exit 0"
kill -TERM "$server"
lib_wait_pid "$server" 10 || lib_fail "the server did not exit 0"
mv "$slog" "$T/server-first.log" && mv "$clog" "$T/client-first.log" ||
	lib_hard_error "mv failed"
shared
server_conf host.key "key = \"$S/cobra.key\";"
client_conf client host.key "key = \"$C/cobra.key\";" true tl-cobra
lib_server srv "$S/server.conf"
server=$LIB_BG_PID
lib_client cli "$C/client.conf" cobra "$LIB_UL4_A"
client=$LIB_BG_PID
lib_wait_up cli tl-cobra 15 "$LIB_TUN4_B"
lib_wait_for 10 seen 1 'cobra: up with' "$clog" ||
	lib_fail "client first: the client logged no 'up with'"
lib_wait_for 10 up_with srv "$S/server.conf" "" false ||
	lib_fail "client first: the server: $(cat "$T/status.out")"
client_conf client host.key \
    "peer_key = \"$SPUB\"; old_key = \"$C/cobra.key\";" true tl-cobra
kill -HUP "$client"
lib_wait_log "$clog" 10 "reloaded: cobra changed; reconnecting" ||
	lib_fail "client first: the client did not reconnect"
lib_wait_log "$clog" 10 "cobra: trying the server's next public key \(2 of 2\)" ||
	lib_fail "client first: the client did not try old_key"
lib_log "client first: $(grep "trying the server's next" "$clog")"
lib_wait_for 10 seen 2 'cobra: up with' "$clog" ||
	lib_fail "client first: the client did not come up with old_key"
lib_wait_for 10 up_with srv "$S/server.conf" "" false ||
	lib_fail "client first: the server: $(cat "$T/status.out")"
lib_wait_for 10 up_with cli "$C/client.conf" "" true ||
	lib_fail "client first: the client's status: $(cat "$T/status.out")"
lib_wait_up cli tl-cobra 10 "$LIB_TUN4_B"
lib_wait_for 10 lib_ping cli "$LIB_TUN4_A" 1 ||
	lib_fail "client first: no ping with old_key"
server_conf host.key "peer_key = \"$CPUB\"; old_key = \"$S/cobra.key\";"
kill -HUP "$server"
lib_wait_log "$slog" 10 "reloaded: " ||
	lib_fail "client first: the server did not reload"
lib_log "client first, server: $(grep "reloaded: " "$slog")"
lib_wait_for 15 seen 3 'cobra: up with' "$clog" ||
	lib_fail "client first: the client did not come up again"
lib_wait_for 10 up_with srv "$S/server.conf" "$CPUB" false ||
	lib_fail "client first: the client came back, but not with its key" \
	    "pair: $(grep "authenticated with old_key" "$slog" | tail -n 1);" \
	    "the server's status: $(cat "$T/status.out")"
lib_wait_up cli tl-cobra 10 "$LIB_TUN4_B"
lib_wait_for 10 lib_ping cli "$LIB_TUN4_A" 1 ||
	lib_fail "client first: no ping with the key pair"
pings cli "$LIB_TUN4_A" 5 || lib_fail "client first: echoes lost"
up_with cli "$C/client.conf" "$SPUB" false ||
	lib_fail "client first: the client's status: $(cat "$T/status.out")"
ups 3 "client first"
kill -0 "$client" || lib_fail "the client died"
lib_log "moved to key pairs, the client first"
lib_pass
