#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The fuzz smoke test: copy the tree (tracked and new files as they are
# now, as test.sh does for its sanitizer run), configure the copy with
# CC=clang --enable-fuzzing, build it, and run `make fuzz-smoke`: every
# libFuzzer target of tests/fuzz for FUZZ_SECONDS (default 30) on a copy
# of its seed corpus.  Prints one line per target,
#   fuzz: TARGET ok (N runs)      or      fuzz: TARGET FAILED
# and exits non-zero if any failed or the build did.  Needs clang and
# libFuzzer (Debian: clang libclang-rt-14-dev) besides the build
# dependencies.  FUZZ_JOBS (default 2) targets run at a time; extra
# configure flags come from $TAPLINE_CONFIGURE_FLAGS (CI: --enable-werror);
# TAPLINE_FUZZ_KEEP=1 keeps the copy (a failure always keeps it).
set -uo pipefail
cd "$(dirname "$0")/.."

if ! command -v clang >/dev/null 2>&1; then
	echo "fuzz: clang is not installed" \
	    "(apt-get install clang libclang-rt-14-dev)"
	echo "fuzz: FAILED"
	exit 1
fi
if ! git rev-parse --git-dir >/dev/null 2>&1; then
	echo "fuzz: not a git checkout; run make fuzz-smoke in a build" \
	    "configured with CC=clang --enable-fuzzing instead"
	exit 1
fi

tree=$(mktemp -d /tmp/tapline-fuzz.XXXXXX) || exit 1
keep=${TAPLINE_FUZZ_KEEP:-}
# The copy goes at the end unless asked for, or kept for its failing
# inputs (tests/fuzz/TARGET-crash-...) and logs.
trap '[[ -n $keep ]] || rm -rf "$tree"' EXIT
git ls-files -z --cached --others --exclude-standard |
	xargs -0 cp --parents -t "$tree" 2>/dev/null

log=$tree/fuzz-build.log
echo "fuzz: building with clang and libFuzzer in $tree"
# shellcheck disable=SC2086
if ! (cd "$tree" &&
	autoreconf -fi &&
	CC=clang ./configure -q --enable-fuzzing \
	    ${TAPLINE_CONFIGURE_FLAGS:-} --sysconfdir=/etc &&
	make -j2 -s) >"$log" 2>&1; then
	tail -n 40 "$log"
	echo "fuzz: the fuzzing build FAILED"
	keep=1
	echo "fuzz: kept $tree"
	exit 1
fi

(cd "$tree" && make -s fuzz-smoke FUZZ_SECONDS="${FUZZ_SECONDS:-30}" \
    FUZZ_JOBS="${FUZZ_JOBS:-2}") >"$tree/fuzz-smoke.log" 2>&1
status=$?

# make fuzz-smoke's verdict lines, shortened; its failures in full.
failed=0
while IFS= read -r line; do
	t=${line#fuzz-smoke: }
	t=${t%% *}
	case $line in
	*" ok ("*)
		runs=${line#* ok (}
		runs=${runs%% runs*}
		echo "fuzz: $t ok ($runs runs)"
		;;
	*" FAILED"*)
		echo "fuzz: $t FAILED"
		failed=$((failed + 1))
		;;
	esac
done < <(grep -E '^fuzz-smoke: [a-z_]+ (ok|FAILED)' "$tree/fuzz-smoke.log")
if [[ $status -ne 0 || $failed -gt 0 ]]; then
	grep -v -E '^fuzz-smoke: [a-z_]+ ok ' "$tree/fuzz-smoke.log" |
	    tail -n 80
	[[ $failed -gt 0 ]] || echo "fuzz: make fuzz-smoke FAILED"
	keep=1
	echo "fuzz: logs and failing inputs kept in $tree/tests/fuzz"
	exit 1
fi
