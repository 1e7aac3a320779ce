#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A host that serves a session and also dials it, with the one key both
# roles share, must not be made to talk to itself (a "Selfie"
# reflection: whoever sits in the path sends the host's client back to
# the host's own server, and both ends authenticate).  Here the client
# in namespace "h" dials the server in "h" itself, which is what such a
# reflection delivers: the server must refuse ("comes from this host
# itself"), the client must not come up and must exit non-zero.  The
# same client settings from namespace "x" (another host as far as the
# network goes, on the same machine) must still come up and ping.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

lib_netns_add h
lib_netns_add x
lib_underlay h x
lib_key cobra

cat >"$LIB_TMP/server.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-srv";
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
cat >"$LIB_TMP/client.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  persist = false;
  device = "tl-cli";
  address = [ "$LIB_TUN4_B/30" ];
};
CONF
slog=$LIB_TMP/server-h.log

lib_server h "$LIB_TMP/server.conf"
server=$LIB_BG_PID

lib_client h "$LIB_TMP/client.conf" cobra "$LIB_UL4_A"
client=$LIB_BG_PID
lib_wait_pid "$client" 15
rc=$?
clog=$LIB_TMP/client-h-cobra.log
[ "$rc" != 0 ] && [ "$rc" != 124 ] ||
	lib_fail "the reflected client exited $rc, not with an error"
grep -q "cobra: refusing .*: the connection comes from this host itself" \
    "$slog" || lib_fail "the server did not refuse its own client"
grep -q "cobra: up with" "$clog" &&
	lib_fail "the reflected client came up"
lib_nsexec h ip link show tl-cli >/dev/null 2>&1 &&
	lib_fail "the reflected client made its device"
lib_log "refused: $(grep -o 'refusing .*' "$slog" | head -n 1)"

lib_client x "$LIB_TMP/client.conf" cobra "$LIB_UL4_A"
lib_wait_up x tl-cli 15 "$LIB_TUN4_B"
lib_wait_for 10 lib_ping x "$LIB_TUN4_A" 1 ||
	lib_fail "no ping from the other namespace"
kill -0 "$server" || lib_fail "the server died"
lib_pass
