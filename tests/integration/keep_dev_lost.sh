#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# persist = "keep" with a kept device the client can no longer configure:
# while the server is away, the device is moved into another namespace
# (as a stand-in for anything that makes setting its MTU fail).  When the
# server is back, setting the session's MTU on the kept device fails; that
# must end the session like any device setup failure ("device setup
# failed"), close the device, and the next attempt must build a fresh
# device in the client's namespace that carries traffic again.  Before,
# the failure was only a warning and the session came up on a device it
# could not configure, one whose MTU was not the session's.
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
lib_netns_add aside
lib_underlay srv cli
lib_key cobra

cat >"$LIB_TMP/server.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
cat >"$LIB_TMP/client.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-keep";
  persist = "keep";
  address = [ "$LIB_TUN4_B/30" ];
};
CONF
clog=$LIB_TMP/client-cli-cobra.log

lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
lib_client cli "$LIB_TMP/client.conf" cobra "$LIB_UL4_A"
lib_wait_up cli tl-keep 15 "$LIB_TUN4_B"
lib_wait_for 10 lib_ping cli "$LIB_TUN4_A" 1 ||
	lib_fail "no ping before the outage"

kill -KILL "$server"
lib_wait_pid "$server" 5
lib_wait_log "$clog" 15 "reconnecting in" ||
	lib_fail "the client did not notice the lost server"
lib_nsexec cli ip link set tl-keep netns "$(lib_ns aside)" ||
	lib_hard_error "cannot move tl-keep aside"

lib_server srv "$LIB_TMP/server.conf"
lib_wait_log "$clog" 20 "cobra: device setup failed: .*MTU" ||
	lib_fail "the client did not refuse the kept device it cannot set up"
lib_wait_for 5 lib_not lib_nsexec aside ip link show tl-keep ||
	lib_fail "the unusable kept device was not closed"
lib_wait_up cli tl-keep 20 "$LIB_TUN4_B"
lib_wait_for 10 lib_ping cli "$LIB_TUN4_A" 1 ||
	lib_fail "no ping through the fresh device"
lib_pass
