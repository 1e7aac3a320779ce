#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A tun tunnel over TCP between two namespaces, over an IPv4 and then an
# IPv6 underlay: ping both ways, IPv4 and IPv6 inside.  The client's file
# holds only key, addresses and device; it follows the server's settings.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli
lib_key cobra

cat >"$LIB_TMP/server.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  proto = "tcp";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_A/30", "$LIB_TUN6_A/64" ];
};
CONF
cat >"$LIB_TMP/client.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_B/30", "$LIB_TUN6_B/64" ];
};
CONF

lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID

# run_over UNDERLAY_ADDR: connect, ping both ways and both families inside,
# then stop the client and check that its device is gone.
run_over() {
	local client
	lib_client cli "$LIB_TMP/client.conf" cobra "$1"
	client=$LIB_BG_PID
	lib_wait_up cli tl-cobra 15 "$LIB_TUN4_B"
	lib_wait_up srv tl-cobra 5 "$LIB_TUN4_A"
	lib_ping cli "$LIB_TUN4_A" || lib_fail "client -> server IPv4 ping over $1"
	lib_ping srv "$LIB_TUN4_B" || lib_fail "server -> client IPv4 ping over $1"
	lib_ping cli "$LIB_TUN6_A" || lib_fail "client -> server IPv6 ping over $1"
	lib_ping srv "$LIB_TUN6_B" || lib_fail "server -> client IPv6 ping over $1"
	kill -TERM "$client"
	lib_wait_pid "$client" 10 || lib_fail "the client did not exit 0 on SIGTERM"
	lib_wait_for 5 lib_not lib_nsexec cli ip link show tl-cobra ||
		lib_fail "the client's device survived the client"
	lib_wait_for 5 lib_not lib_nsexec srv ip link show tl-cobra ||
		lib_fail "the server's device survived the session"
}

run_over "$LIB_UL4_A"
run_over "$LIB_UL6_A"

grep -q "using proto tcp as the server says" "$LIB_TMP/client-cli-cobra.log" ||
	lib_fail "the client did not note the server's proto"
kill -0 "$server" || lib_fail "the server died"
lib_pass
