#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A handshake flood (issue 7; ATTACKS.md rows 18-20) while an established
# UDP session forwards.  From its own namespace (atk, 198.51.100.3) the
# attacker makes FLOOD_CONNECTS (3000) TCP connections to the server's
# port in waves of 100 at once: each sends a TLS handshake record header
# and 200 random bytes, holds the connection for up to 0.3 s (or until
# the server closes it) and goes; every
# tenth sends nothing at all.  Meanwhile udprelay floods the server's UDP
# port with 20 000 random datagrams.  Asserted:
#  - a ping through the tunnel, running the whole time, loses at most one
#    echo, and the session is the same one afterwards (one "up");
#  - the server never holds more connections than its per-address cap
#    allows: its descriptors, sampled every 0.1 s, never exceed the
#    count before the flood by more than 8 (the cap) + 2;
#  - it stays up and answers a new client afterwards;
#  - its CPU time for the flood is reported (utime + stime from /proc).
# shellcheck disable=SC2317 # functions run by lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping ss
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"
lib_require_bin UDPRELAY "${top_builddir:-.}/tests/tools/udprelay"

N=${FLOOD_CONNECTS:-3000}
port=5000
atk4=198.51.100.3

lib_netns_add srv
lib_netns_add cli
lib_netns_add atk
lib_underlay srv cli
lib_veth srv ul1 "" atk ul0 "$atk4/32"
lib_nsexec srv ip route add "$atk4/32" dev ul1 ||
	lib_fail "cannot route $atk4 in the server's namespace"
lib_nsexec atk ip route add "$LIB_UL4_A/32" dev ul0 ||
	lib_fail "cannot route $LIB_UL4_A in the attacker's namespace"
# A connect the server's full backlog ignores gives up after one SYN
# retry (about 3 s) instead of two minutes.
lib_nsexec atk sysctl -qw net.ipv4.tcp_syn_retries=1 ||
	lib_fail "cannot set tcp_syn_retries in the attacker's namespace"
lib_key cobra

cat >"$LIB_TMP/server.conf" <<CONF
options = { port = $port; control = "$LIB_TMP/srv.sock"; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
cat >"$LIB_TMP/client.conf" <<CONF
options = { port = $port; control = "$LIB_TMP/cli.sock"; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_B/30" ];
};
CONF

lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
slog=$LIB_TMP/server-srv.log
lib_client cli "$LIB_TMP/client.conf" cobra "$LIB_UL4_A"
client=$LIB_BG_PID
lib_wait_up cli tl-cobra 15 "$LIB_TUN4_B"
lib_wait_for 10 lib_ping cli "$LIB_TUN4_A" 1 || lib_fail "no ping"

# The attacker: waves of 100 connections, each in a subshell of its own.
cat >"$LIB_TMP/atk.sh" <<'ATK'
set -u
trap '' PIPE
n=$1 host=$2 port=$3
# 200 random bytes as printf escapes, made once: each connection is then
# one subshell and builtins only (printf, read), so that the attacker can
# make thousands of them on a small machine.
garbage=$(head -c 200 /dev/urandom | od -An -v -tx1 | tr -d ' \n' |
    sed 's/../\\x&/g')
for ((i = 0; i < n; i++)); do
	(
		exec 3<>"/dev/tcp/$host/$port" || exit 0
		if ((i % 10 != 0)); then
			printf '\x16\x03\x01\x01\x00' >&3
			printf "$garbage" >&3
		fi
		read -r -t 0.3 -u 3 _
	) 2>/dev/null &
	((i % 100 == 99)) && wait
done
wait
echo done
ATK

cpu() { awk '{ print $14 + $15 }' "/proc/$server/stat"; }
fds() { find "/proc/$server/fd" -mindepth 1 -maxdepth 1 | wc -l; }

fd0=$(fds) cpu0=$(cpu)
lib_bg_ns cli ping -n -q -i 0.1 "$LIB_TUN4_A" >"$LIB_TMP/ping.out" 2>&1
pinger=$LIB_BG_PID
lib_bg_ns atk bash "$LIB_TMP/atk.sh" "$N" "$LIB_UL4_A" "$port" \
    >"$LIB_TMP/atk.out" 2>&1
attacker=$LIB_BG_PID
lib_bg_ns atk "$UDPRELAY" --send "$LIB_UL4_A:$port" --flood garbage \
    --count 20000 >"$LIB_TMP/udpflood.out" 2>&1
udpflood=$LIB_BG_PID
start=$SECONDS maxfd=$fd0
while lib__is_child "$attacker" && [ $((SECONDS - start)) -lt 120 ]; do
	f=$(fds)
	[ "$f" -gt "$maxfd" ] && maxfd=$f
	sleep 0.1	# the sampling period, not a synchronisation
done
lib_wait_pid "$attacker" 5 || lib_fail "the attacker did not finish in 120 s"
secs=$((SECONDS - start))
lib_wait_pid "$udpflood" 30 || lib_fail "the UDP flood failed: $(cat "$LIB_TMP/udpflood.out")"
grep -q done "$LIB_TMP/atk.out" || lib_fail "the attacker did not finish"
cpu1=$(cpu)
hz=$(getconf CLK_TCK)
lib_log "$N connection attempts and 20000 datagrams in $secs s: server" \
    "CPU $(awk -v t=$((cpu1 - cpu0)) -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }') s," \
    "descriptors $fd0 -> at most $maxfd"
[ "$maxfd" -le $((fd0 + 8 + 2)) ] ||
	lib_fail "the server held $((maxfd - fd0)) more descriptors (cap 8)"

lib_wait_for 5 lib_ping cli "$LIB_TUN4_A" 1 || lib_fail "no ping after the flood"
kill -INT "$pinger"
lib_wait_pid "$pinger" 5
loss=$(sed -n 's/.* \([0-9]*\) received.*/\1/p;' "$LIB_TMP/ping.out")
sent=$(sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p' "$LIB_TMP/ping.out")
lib_log "ping during the flood: $loss of $sent echoes answered"
[ -n "$sent" ] && [ "$sent" -gt 10 ] || lib_fail "the ping did not run: $(cat "$LIB_TMP/ping.out")"
[ $((sent - loss)) -le 1 ] || lib_fail "the ping lost $((sent - loss)) echoes"
[ "$(grep -c "cobra: up with" "$LIB_TMP/client-cli-cobra.log")" = 1 ] ||
	lib_fail "the session went down during the flood"
kill -0 "$server" || lib_fail "the server died"

# A new client still gets in: the same one, reconnected.
kill -TERM "$client"
lib_wait_pid "$client" 10 || lib_fail "the client did not exit 0"
lib_client cli "$LIB_TMP/client.conf" cobra "$LIB_UL4_A"
client=$LIB_BG_PID
lib_wait_for 15 lib_ping cli "$LIB_TUN4_A" 1 ||
	lib_fail "no new session after the flood"
kill -TERM "$client" "$server"
lib_wait_pid "$client" 10 || lib_fail "the client did not exit 0"
lib_wait_pid "$server" 10 || lib_fail "the server did not exit 0"
lib_pass
