#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every address of a name is tried, the families interleaved (RFC 8305).
# In the client's own hosts file vpn.example.net has an IPv6 address
# whose packets are dropped without an answer (routed to the server's
# namespace, which does not forward: a connect hangs) and the server's
# IPv4 address; getaddrinfo puts the IPv6 one first.  The client must
# try it and then, 250 ms later, the IPv4 one: up within 2 s, connected
# over IPv4.
# shellcheck disable=SC2317 # functions run by lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

HOLE6=2001:db8:1::98

lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli
[ "$(lib_nsexec srv sysctl -n net.ipv6.conf.all.forwarding)" = 0 ] ||
	lib_hard_error "a new namespace forwards IPv6"
lib_nsexec cli ip -6 route add "$HOLE6/128" via "$LIB_UL6_A" ||
	lib_fail "cannot route $HOLE6 into the server's namespace"
lib_key cobra
lib_ns_etc cli nsswitch.conf "hosts: files"
lib_ns_etc cli hosts "$HOLE6 vpn.example.net
$LIB_UL4_A vpn.example.net"

cat >"$LIB_TMP/server.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  proto = "tcp";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
cat >"$LIB_TMP/client.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_B/30" ];
};
CONF
clog=$LIB_TMP/client-cli-cobra.log

lib_server srv "$LIB_TMP/server.conf"
# The name on the command line, as `tapline SESSION SERVER` gives it.
lib_client cli "$LIB_TMP/client.conf" cobra vpn.example.net
client=$LIB_BG_PID
lib_wait_up cli tl-cobra 2 "$LIB_TUN4_B"
lib_ping cli "$LIB_TUN4_A" || lib_fail "no ping through the tunnel"
# The IPv6 address was tried first, and IPv4 won.
first=$(grep -m 1 -o "cobra: connecting to .*" "$clog")
[ "$first" = "cobra: connecting to [$HOLE6]:5000" ] ||
	lib_fail "the first address tried was not the IPv6 one: '$first'"
grep -q "cobra: connecting to $LIB_UL4_A:5000" "$clog" ||
	lib_fail "the client did not try the IPv4 address"
grep -q "cobra: up with $LIB_UL4_A:5000 " "$clog" ||
	lib_fail "the session is not up over IPv4 with $LIB_UL4_A"

kill -TERM "$client"
lib_wait_pid "$client" 10 || lib_fail "the client did not exit 0"
lib_pass
