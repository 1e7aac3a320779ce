#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The hub benchmark's smoke mode (bench/hub --smoke): 20 sessions from
# bench/hubload, one storm of 10, the probe pinging through.  Keeps
# bench/hub from rotting: it must exit 0, print the table row of N = 20
# with 2 descriptors or fewer per session and no probe loss, and write
# its CSV.  (Timings are the benchmark's, not asserted here.)
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=tests/integration/lib.sh
. "$lib"
lib_require_root
command -v jq >/dev/null || lib_skip "jq is missing"
srcdir=${top_srcdir:-$(dirname "$0")/../..}
bin=${TAPLINE:-${top_builddir:-$srcdir}/tapline}
hubload=${HUBLOAD:-${top_builddir:-$srcdir}/bench/hubload}
[ -x "$bin" ] || lib_hard_error "no tapline binary at $bin"
[ -x "$hubload" ] || lib_hard_error "no hubload binary at $hubload"
out=$LIB_TMP/hub.out	# removed by lib.sh's EXIT trap
csv=$LIB_TMP/hub.csv
timeout 120 bash "$srcdir/bench/hub" --smoke --tapline "$bin" \
    --hubload "$hubload" --csv "$csv" >"$out" 2>&1
rc=$?
cat "$out"
[ "$rc" = 77 ] && lib_skip "bench/hub skipped"
[ "$rc" = 0 ] || lib_fail "bench/hub --smoke exited $rc"
# The row: "| 20 | <all up s> | ... | <fds/session> | ..."
row=$(awk -F'|' '$2 ~ /^ 20 $/ { print; exit }' "$out")
[ -n "$row" ] || lib_fail "no table row for N = 20"
fds=$(awk -F'|' '{ gsub(/ /, "", $7); print $7 }' <<<"$row")
awk -v f="$fds" 'BEGIN { exit !(f + 0 > 0 && f + 0 <= 2) }' ||
	lib_fail "fds per session: '$fds', not in (0, 2]"
[ -s "$csv" ] || lib_fail "no CSV written"
lost=$(awk -F, 'NR == 2 { print $19 }' "$csv")
[ "$lost" = 0 ] || lib_fail "the probe lost $lost echoes in the storm"
lib_log "N = 20: $fds fds per session, no probe loss"
lib_pass
