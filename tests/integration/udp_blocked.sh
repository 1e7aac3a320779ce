#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A path that passes TCP but no UDP datagram: the TLS handshake works,
# the session comes up, but no datagram ever arrives.  After `timeout`
# seconds both sides end the session and say what is probably wrong
# ("UDP blocked? try proto = tcp"); a server switched to proto = tcp then
# works over the very same path.
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

# client (cli) --- relay (mid) --- server (srv), on 198.51.100.0/30 and /28.
lib_netns_add srv
lib_netns_add mid
lib_netns_add cli
lib_veth cli ul0 "198.51.100.1/30" mid ulc "198.51.100.2/30"
lib_veth mid uls "198.51.100.17/28" srv ul0 "198.51.100.18/28"
lib_nsexec cli ip route add 198.51.100.16/28 via 198.51.100.2
lib_nsexec srv ip route add 198.51.100.0/30 via 198.51.100.17
lib_nsexec mid sysctl -q -w net.ipv4.ip_forward=0
lib_key cobra

write_server_conf() {
	cat >"$LIB_TMP/server.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  proto = "$1";
  device = "tl-cobra";
  keepalive = 1;
  timeout = 4;
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
}
cat >"$LIB_TMP/client.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  persist = false;
  address = [ "$LIB_TUN4_B/30" ];
};
CONF

write_server_conf udp
lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
# Every datagram is dropped, both ways; TCP passes untouched.
udprelay_start mid relay --listen 198.51.100.2:5000 \
    --to 198.51.100.18:5000 --tcp --drop 100 --max-seconds 60
relay=$LIB_BG_PID

lib_client cli "$LIB_TMP/client.conf" cobra 198.51.100.2
client=$LIB_BG_PID
lib_wait_up cli tl-cobra 15 "$LIB_TUN4_B"
lib_ping cli "$LIB_TUN4_A" 1 && lib_fail "a ping crossed a path that drops all UDP"
lib_wait_log "$LIB_TMP/server-srv.log" 15 "UDP blocked\? try proto = \"tcp\"" ||
	lib_fail "the server did not report the blocked UDP path"
lib_wait_log "$LIB_TMP/client-cli-cobra.log" 15 "UDP blocked\? try proto = \"tcp\"" ||
	lib_fail "the client did not report the blocked UDP path"
# Without persist the client gives up: the session never carried a packet.
lib_wait_pid "$client" 15
rc=$?
[ "$rc" -eq 0 ] || [ "$rc" -eq 1 ] || lib_fail "the client exited $rc"
udprelay_snapshot relay "$relay"
dropped=$(udprelay_stat "$LIB_TMP/relay.stats" up_dropped) ||
	lib_fail "no relay stats"
[ "$dropped" -gt 0 ] || lib_fail "the client sent no datagram to be dropped"

# The same path with proto = tcp on the server: the client follows.
kill -TERM "$server"
lib_wait_pid "$server" 10
mv "$LIB_TMP/server-srv.log" "$LIB_TMP/server-srv-udp.log.old"
write_server_conf tcp
lib_server srv "$LIB_TMP/server.conf"
lib_client cli "$LIB_TMP/client.conf" cobra 198.51.100.2
lib_wait_up cli tl-cobra 15 "$LIB_TUN4_B"
lib_wait_for 10 lib_ping cli "$LIB_TUN4_A" 1 ||
	lib_fail "no ping over tcp through the same path"
udprelay_stop "$relay" >/dev/null
lib_pass
