#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# persist = "keep" (vtund's "persist keep"): while the server is gone the
# client keeps its device, addresses and routes; when the server is back
# the same device carries traffic again.  The up commands ran once, when
# the device was made; the down commands run once, when the client exits.
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
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
cat >"$LIB_TMP/client.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-keep";
  persist = "keep";
  address = [ "$LIB_TUN4_B/30" ];
  routes = [ "203.0.113.0/24" ];
  up = [ "/bin/sh -c 'echo up %d >> $LIB_TMP/updown'" ];
  down = [ "/bin/sh -c 'echo down %d >> $LIB_TMP/updown'" ];
};
CONF

lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
lib_client cli "$LIB_TMP/client.conf" cobra "$LIB_UL4_A"
client=$LIB_BG_PID
lib_wait_up cli tl-keep 15 "$LIB_TUN4_B"
lib_wait_up srv tl-cobra 5 "$LIB_TUN4_A"
lib_ping cli "$LIB_TUN4_A" || lib_fail "no ping before the outage"
ifindex=$(lib_nsexec cli cat /sys/class/net/tl-keep/ifindex)

# The server vanishes without a word.
kill -KILL "$server"
lib_wait_pid "$server" 5
lib_wait_log "$LIB_TMP/client-cli-cobra.log" 15 "reconnecting in" ||
	lib_fail "the client did not notice the lost server"
lib_dev_up cli tl-keep "$LIB_TUN4_B" ||
	lib_fail "the kept device or its address is gone during the outage"
lib_nsexec cli ip route show 203.0.113.0/24 | grep -q "dev tl-keep" ||
	lib_fail "the kept route is gone during the outage"

lib_server srv "$LIB_TMP/server.conf"
lib_wait_for 20 lib_ping cli "$LIB_TUN4_A" 1 ||
	lib_fail "no ping within 20 s of the server's restart"
[ "$(lib_nsexec cli cat /sys/class/net/tl-keep/ifindex)" = "$ifindex" ] ||
	lib_fail "the client made a new device instead of keeping it"
[ "$(grep -c '^up tl-keep$' "$LIB_TMP/updown")" = 1 ] ||
	lib_fail "up commands ran $(grep -c '^up' "$LIB_TMP/updown") times, not once"
grep -q '^down' "$LIB_TMP/updown" && lib_fail "down ran while the device was kept"

kill -TERM "$client"
lib_wait_pid "$client" 10 || lib_fail "the client did not exit 0 on SIGTERM"
grep -q '^down tl-keep$' "$LIB_TMP/updown" || lib_fail "down did not run at exit"
lib_wait_for 5 lib_not lib_nsexec cli ip link show tl-keep ||
	lib_fail "the kept device survived the client"
lib_pass
