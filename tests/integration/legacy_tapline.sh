#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# legacy = "vtun" on both ends: a tapline client and a tapline server
# speak vtund's protocol to each other over every row of legacy_lib.sh's
# table (both ends' UDP ports are read the same in either byte order, and
# the server closes the TCP connection only after both ports went out).
# Pings and a sha256-checked file go both ways per row.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"
# shellcheck source=legacy_lib.sh
. "$(dirname "$lib")/legacy_lib.sh"

lib_require_root
legacy_require
legacy_netns

legacy_tapline_conf server "$LIB_TMP/server.conf"
legacy_tapline_conf client "$LIB_TMP/client.conf"
lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
slog=$LIB_TMP/server-srv.log

i=0
for row in "${LEGACY_ROWS[@]}"; do
	i=$((i + 1))
	lib_client cli "$LIB_TMP/client.conf" "r$i" "$LIB_UL4_A"
	client=$LIB_BG_PID
	legacy_check_row "$i" cli srv tl-r
	kill -TERM "$client"
	lib_wait_pid "$client" 10 ||
		lib_fail "row $i: the client did not exit 0 on SIGTERM"
	lib_wait_log "$slog" 10 "r$i: session with .* lasted" ||
		lib_fail "row $i: the server did not end the session"
done
# A tapline peer's UDP port reads the same in both byte orders.
grep -qE "r2: UDP to .* port ([0-9]+) \(or \1\)" "$slog" ||
	lib_fail "the client's UDP port was not the same in both byte orders"

kill -0 "$server" || lib_fail "the server died"
lib_pass
