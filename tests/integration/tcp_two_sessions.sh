#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# One server, two sessions at the same time: "alpha" (device tl-a,
# 192.0.2.0/30) from one client namespace over an IPv4 underlay and
# "beta" (device tl-b, 192.0.2.4/30) from another over IPv6, each with its
# own key.  Both forward at once; stopping alpha's client ends alpha's
# session on the server and leaves beta's connection forwarding.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

# The server has one underlay link to each client namespace.
lib_netns_add srv
lib_netns_add ca
lib_netns_add cb
lib_veth srv ula "198.51.100.1/30" ca ul0 "198.51.100.2/30"
lib_veth srv ulb "198.51.100.5/30 2001:db8:1::5/126" \
    cb ul0 "198.51.100.6/30 2001:db8:1::6/126"
lib_key alpha
lib_key beta

cat >"$LIB_TMP/server.conf" <<CONF
default = {
  proto = "tcp";
};
alpha = {
  key = "$LIB_TMP/alpha.key";
  device = "tl-a";
  address = [ "192.0.2.1/30" ];
};
beta = {
  key = "$LIB_TMP/beta.key";
  device = "tl-b";
  address = [ "192.0.2.5/30" ];
};
CONF
cat >"$LIB_TMP/client.conf" <<CONF
default = {
  persist = false;
};
alpha = {
  key = "$LIB_TMP/alpha.key";
  device = "tl-a";
  address = [ "192.0.2.2/30" ];
};
beta = {
  key = "$LIB_TMP/beta.key";
  device = "tl-b";
  address = [ "192.0.2.6/30" ];
};
CONF

lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
slog=$LIB_TMP/server-srv.log

lib_client ca "$LIB_TMP/client.conf" alpha 198.51.100.1
client_a=$LIB_BG_PID
lib_client cb "$LIB_TMP/client.conf" beta 2001:db8:1::5
client_b=$LIB_BG_PID
alog=$LIB_TMP/client-ca-alpha.log
blog=$LIB_TMP/client-cb-beta.log

lib_wait_up ca tl-a 15 192.0.2.2
lib_wait_up cb tl-b 15 192.0.2.6
lib_wait_up srv tl-a 5 192.0.2.1
lib_wait_up srv tl-b 5 192.0.2.5
grep -q "alpha: up with 198.51.100.2:" "$slog" ||
	lib_fail "the server did not run alpha with the IPv4 client"
grep -q "beta: up with \[2001:db8:1::6\]:" "$slog" ||
	lib_fail "the server did not run beta with the IPv6 client"

# Both at once: the pings of the two tunnels overlap.
lib_bg_ns ca ping -n -q -c 10 -i 0.2 -W 2 192.0.2.1 >/dev/null
ping_a=$LIB_BG_PID
lib_bg_ns cb ping -n -q -c 10 -i 0.2 -W 2 192.0.2.5 >/dev/null
ping_b=$LIB_BG_PID
lib_wait_pid "$ping_a" 15 || lib_fail "no ping through alpha while beta was busy"
lib_wait_pid "$ping_b" 15 || lib_fail "no ping through beta while alpha was busy"
lib_ping srv 192.0.2.2 || lib_fail "server -> alpha client: no ping"
lib_ping srv 192.0.2.6 || lib_fail "server -> beta client: no ping"

# Stop alpha's client: alpha ends on both sides, beta goes on.
kill -TERM "$client_a"
lib_wait_pid "$client_a" 10 || lib_fail "alpha's client did not exit 0"
lib_wait_for 5 lib_not lib_nsexec srv ip link show tl-a ||
	lib_fail "the server kept tl-a after alpha's client left"
lib_wait_log "$slog" 5 "alpha: session with .* lasted" ||
	lib_fail "the server logged no end of alpha"
lib_ping cb 192.0.2.5 || lib_fail "beta stopped forwarding (client -> server)"
lib_ping srv 192.0.2.6 || lib_fail "beta stopped forwarding (server -> client)"
lib_dev_up srv tl-b 192.0.2.5 || lib_fail "the server's tl-b is not up"
lib__is_child "$client_b" || lib_fail "beta's client exited"

# The same beta connection all along: no second connect, no end.
[ "$(grep -c "beta: up with" "$slog")" = 1 ] ||
	lib_fail "beta was set up more than once on the server"
[ "$(grep -c "connecting to" "$blog")" = 1 ] ||
	lib_fail "beta's client reconnected"
! grep -qE "beta: (session with|closing)" "$slog" ||
	lib_fail "the server ended beta along with alpha"

kill -TERM "$client_b"
lib_wait_pid "$client_b" 10 || lib_fail "beta's client did not exit 0"
lib_wait_for 5 lib_not lib_nsexec srv ip link show tl-b ||
	lib_fail "the server kept tl-b after beta's client left"
grep -q "alpha: session with .* received [1-9][0-9]* packets" "$alog" ||
	lib_fail "alpha's client received nothing"
kill -0 "$server" || lib_fail "the server died"
lib_pass
