#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# server as a list, tried in order (OpenVPN's remote lines).  The
# client's namespace has its own hosts file: vpn1.example.net is an
# address whose packets are dropped without an answer (routed to the
# server's namespace, which does not forward: a connect to it hangs, no
# RST), vpn2.example.net the server.  With server = [ vpn1, vpn2 ] the
# client must try vpn1 first and be up through vpn2 within 10 s; status
# then names vpn2 as the server in use.  `tapline -t` prints the list.
# shellcheck disable=SC2317 # functions run by lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd jq ping
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

HOLE=198.51.100.98

lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli
[ "$(lib_nsexec srv sysctl -n net.ipv4.ip_forward)" = 0 ] ||
	lib_hard_error "a new namespace forwards IPv4"
lib_nsexec cli ip route add "$HOLE/32" via "$LIB_UL4_A" ||
	lib_fail "cannot route $HOLE into the server's namespace"
lib_key cobra
lib_ns_etc cli nsswitch.conf "hosts: files"
lib_ns_etc cli hosts "$HOLE vpn1.example.net
$LIB_UL4_A vpn2.example.net"

cat >"$LIB_TMP/server.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
CCONF=$LIB_TMP/client.conf
cat >"$CCONF" <<CONF
options = { control = "$LIB_TMP/cli.sock"; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  server = [ "vpn1.example.net", "vpn2.example.net" ];
  device = "tl-cobra";
  address = [ "$LIB_TUN4_B/30" ];
};
CONF
clog=$LIB_TMP/client-cli-cobra.log

"$TAPLINE" -t -f "$CCONF" >"$LIB_TMP/check.out" 2>&1 ||
	lib_fail "tapline -t refused the list: $(cat "$LIB_TMP/check.out")"
if ! grep -q "^  server: vpn1.example.net, vpn2.example.net$" \
    "$LIB_TMP/check.out" ||
    ! grep -q "^  server_random: no$" "$LIB_TMP/check.out"; then
	lib_fail "tapline -t did not print the list: $(cat "$LIB_TMP/check.out")"
fi

lib_server srv "$LIB_TMP/server.conf"
lib_bg_ns cli "$TAPLINE" -n -v -f "$CCONF" cobra >>"$clog" 2>&1
client=$LIB_BG_PID
lib_wait_up cli tl-cobra 10 "$LIB_TUN4_B"
lib_ping cli "$LIB_TUN4_A" || lib_fail "no ping through the tunnel"
grep -q "cobra: connecting to $HOLE:5000" "$clog" ||
	lib_fail "the client did not try vpn1.example.net ($HOLE) first"
grep -q "cobra: connecting to $LIB_UL4_A:5000" "$clog" ||
	lib_fail "the client did not connect to vpn2.example.net"
lib_run 10 "$TAPLINE" status -f "$CCONF" --json cobra \
    >"$LIB_TMP/status.json" 2>&1 ||
	lib_fail "status failed: $(cat "$LIB_TMP/status.json")"
jq -e '.sessions[0].state == "up" and
    .sessions[0].server == "vpn2.example.net"' "$LIB_TMP/status.json" \
    >/dev/null || lib_fail "status: $(cat "$LIB_TMP/status.json")"

kill -TERM "$client"
lib_wait_pid "$client" 10 || lib_fail "the client did not exit 0"
lib_pass
