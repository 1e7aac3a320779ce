#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The benchmark's smoke mode (bench/run --smoke): tapline over UDP only,
# one run of 2 s, no peers.  Keeps bench/run from rotting: it must print
# a table row for tapline with a positive throughput.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=tests/integration/lib.sh
. "$lib"
lib_require_root
command -v iperf3 >/dev/null || lib_skip "iperf3 is missing"
command -v jq >/dev/null || lib_skip "jq is missing"
srcdir=${top_srcdir:-$(dirname "$0")/../..}
bin=${TAPLINE:-$srcdir/tapline}
[ -x "$bin" ] || lib_hard_error "no tapline binary at $bin"
out=$LIB_TMP/bench.out	# removed by lib.sh's EXIT trap
csv=$LIB_TMP/bench.csv
timeout 120 bash "$srcdir/bench/run" --smoke --tapline "$bin" --csv "$csv" >"$out" 2>&1
rc=$?
cat "$out"
[ "$rc" = 77 ] && lib_skip "bench/run skipped"
[ "$rc" = 0 ] || lib_fail "bench/run --smoke exited $rc"
# The row: "| tapline udp aes-256-gcm | <Mbit/s> | ..."
mbit=$(awk -F'|' '$2 ~ /^ tapline udp / { gsub(/ /, "", $3); print $3; exit }' "$out")
[ -n "$mbit" ] || lib_fail "no table row for tapline udp"
awk -v m="$mbit" 'BEGIN { exit !(m + 0 > 0) }' || lib_fail "throughput is not positive: '$mbit'"
[ -s "$csv" ] || lib_fail "no CSV written"
lib_log "tapline udp: $mbit Mbit/s in smoke mode"
lib_pass
