#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `make fuzz-smoke`: run each libFuzzer target for FUZZ_SECONDS (default
# 30) on a copy of its seed corpus (the committed one is never written),
# FUZZ_JOBS (default 1) at a time, and fail on any crash, sanitizer
# report, leak, timeout (10 s per input) or out-of-memory (2 GiB).
#
#   smoke.sh SRCDIR BUILDDIR TARGET...
#
# SRCDIR holds corpus/TARGET/ and TARGET.dict, BUILDDIR the programs.  A
# TARGET is a name (fuzz_conf) or a path ending in one, as Makefile.am's
# FUZZ_TARGETS lists them.  The targets given must be every fuzz_*.c of
# SRCDIR but fuzz_common.c and fuzz_seeds.c: one left out of the list
# would never be built or run, so that fails too.
# One line per target, in the order given:
#   fuzz-smoke: TARGET ok (N runs, R/s, cov: C)
#   fuzz-smoke: TARGET FAILED (...)          followed by its last lines
# BUILDDIR/TARGET.smoke.log keeps libFuzzer's output, and a failing input
# is saved as BUILDDIR/TARGET-crash-... (or -leak-, -timeout-, -oom-).
set -uo pipefail

if [[ $# -lt 3 ]]; then
	echo "usage: smoke.sh SRCDIR BUILDDIR TARGET..." >&2
	exit 2
fi
src=$1 build=$2
shift 2
names=()
for t in "$@"; do
	names+=("${t##*/}")
done
set -- "${names[@]}"
seconds=${FUZZ_SECONDS:-30}
jobs=${FUZZ_JOBS:-1}
work=$(mktemp -d "${TMPDIR:-/tmp}/tapline-fuzz.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

# Run one target into BUILDDIR/TARGET.smoke.log; its verdict line goes to
# $work/TARGET.result.
run_one() {
	local t=$1 log=$build/$1.smoke.log rc runs rate cov
	local corpus=$work/$1.corpus

	mkdir -p "$corpus"
	if ! cp "$src/corpus/$t/"* "$corpus/" 2>/dev/null ||
	    [[ ! -x $build/$t ]]; then
		echo "fuzz-smoke: $t FAILED (no program or no seed corpus)" \
		    >"$work/$t.result"
		return
	fi
	chmod -R u+w "$corpus"
	UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1} \
	"$build/$t" -max_total_time="$seconds" -timeout=10 \
	    -rss_limit_mb=2048 -detect_leaks=1 -dict="$src/$t.dict" \
	    -print_final_stats=1 -artifact_prefix="$build/$t-" "$corpus" \
	    >"$log" 2>&1 </dev/null
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
	    tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" |
	    tail -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | sed 's/cov: //')
	if [[ $rc -eq 0 && -n $runs ]]; then
		echo "fuzz-smoke: $t ok ($runs runs, ${rate:-?}/s," \
		    "cov: ${cov:-?})" >"$work/$t.result"
	else
		echo "fuzz-smoke: $t FAILED (exit $rc after ${runs:-?} runs;" \
		    "see $log)" >"$work/$t.result"
	fi
	rm -rf "$corpus"
}

echo "fuzz-smoke: $# targets, ${seconds} s each, $jobs at a time"

# A target's source file that is not in the list given.
unlisted=0
for f in "$src"/fuzz_*.c; do
	t=${f##*/}
	t=${t%.c}
	case " fuzz_common fuzz_seeds $* " in
	*" $t "*) continue ;;
	esac
	echo "fuzz-smoke: $t FAILED ($t.c is not in Makefile.am's" \
	    "FUZZ_TARGETS, so it is never built or run)"
	unlisted=$((unlisted + 1))
done

for t in "$@"; do
	while [[ $(jobs -rp | wc -l) -ge $jobs ]]; do
		wait -n
	done
	run_one "$t" &
done
wait

failed=0
for t in "$@"; do
	cat "$work/$t.result"
	if grep -q ' FAILED ' "$work/$t.result"; then
		failed=$((failed + 1))
		[[ -f $build/$t.smoke.log ]] &&
		    tail -n 40 "$build/$t.smoke.log" | sed "s/^/  $t: /"
	fi
done
[[ $failed -eq 0 && $unlisted -eq 0 ]]
