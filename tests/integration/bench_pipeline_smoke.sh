#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# bench/pipeline --smoke, so that the in-memory benchmark cannot rot: it
# must run, pass its own self-check (our seal and the plain EVP loop agree
# byte for byte) and print every crypto and zlib row with a positive MB/s,
# as a markdown table and as CSV.  Needs no privileges and no network.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
bench="$top_builddir/bench/pipeline"
[ -x "$bench" ] || { echo "SKIP: $bench not built" >&2; exit 77; }

tmp=$(mktemp -d /tmp/tapline-bench.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

if ! "$bench" --smoke >"$tmp/md" 2>"$tmp/err"; then
	fail "bench/pipeline --smoke failed: $(cat "$tmp/err")"
fi
cat "$tmp/md"
# Column 5 of a markdown row is MB/s ("| stage | ... | MB/s |" splits
# with an empty field 1).  Seal and open must have 12 positive rows (two
# ciphers, three sizes) with a ratio to EVP; deflate must have 6.
for stage in seal open; do
	n=$(awk -F'|' -v s="$stage" '$2 ~ "^ " s " " && $5 + 0 > 0 &&
		$7 + 0 > 0 && $8 + 0 > 0' "$tmp/md" | wc -l)
	[ "$n" -eq 6 ] || fail "$stage: $n of 6 rows with positive MB/s"
done
n=$(awk -F'|' '$2 ~ /^ deflate / && $5 + 0 > 0' "$tmp/md" | wc -l)
[ "$n" -eq 6 ] || fail "deflate: $n of 6 rows with positive MB/s"
# Text is compressible at 1400 bytes and up, so those inflate rows exist.
n=$(awk -F'|' '$2 ~ /^ inflate / && $3 ~ /text/ && $5 + 0 > 0' \
	"$tmp/md" | wc -l)
[ "$n" -ge 2 ] || fail "inflate text: $n rows with positive MB/s, wanted 2+"

if ! "$bench" --smoke --csv >"$tmp/csv" 2>"$tmp/err"; then
	fail "bench/pipeline --smoke --csv failed: $(cat "$tmp/err")"
fi
head -n 1 "$tmp/csv" | grep -q '^stage,variant,payload_bytes,mb_s,' ||
	fail "CSV header missing"
n=$(awk -F, '($1 == "seal" || $1 == "open") && $4 + 0 > 0' "$tmp/csv" |
	wc -l)
[ "$n" -eq 12 ] || fail "CSV: $n of 12 crypto rows with positive MB/s"

"$bench" --seconds nope >/dev/null 2>&1
[ $? -eq 2 ] || fail "a bad --seconds did not exit 2"

[ "$failures" -eq 0 ] || exit 1
echo "PASS: bench/pipeline smoke"
