#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The README's test command: install what is missing, build, run every test
# (unit and integration: `make check`), check the release tarball
# (`make distcheck`), run the static analysis (scripts/analyze.sh, cppcheck),
# run the whole suite again under AddressSanitizer and
# UndefinedBehaviorSanitizer, and end with one line "N passed, N failed".
# Integration tests need root (network namespaces); without it they skip.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh || exit 1
scripts/build.sh || { echo "0 passed, 1 failed"; exit 1; }

passed=0 failed=0 skipped=0

# Count one test program's results: cmocka prints how many cases passed
# and failed; a script or a crashed program counts as one.
count_log() {
	local trs=$1 log=${1%.trs}.log result n
	result=$(sed -n 's/^:test-result: //p' "$trs" | head -n 1)
	n=$(sed -n 's/.*\[  PASSED  \] \([0-9]*\) test(s)\..*/\1/p' "$log" | tail -n 1)
	if [[ -n $n ]]; then
		passed=$((passed + n))
		n=$(sed -n 's/.*\[  FAILED  \] \([0-9]*\) test(s), listed below:.*/\1/p' "$log" | tail -n 1)
		failed=$((failed + ${n:-0}))
		if [[ $result != PASS && -z $n ]]; then failed=$((failed + 1)); fi
		return
	fi
	case $result in
	PASS) passed=$((passed + 1)) ;;
	SKIP) skipped=$((skipped + 1)); echo "skipped: ${trs%.trs}" ;;
	*) failed=$((failed + 1)); echo "failed: ${trs%.trs}" ;;
	esac
}

echo "test: make check"
find tests -name '*.trs' -delete 2>/dev/null
make -j2 check
status=$?
while IFS= read -r trs; do count_log "$trs"; done < <(find tests -name '*.trs' | sort)
if [[ $status -ne 0 && $failed -eq 0 ]]; then failed=1; fi
if [[ -f test-suite.log ]] && grep -q '^# \(FAIL\|ERROR\): *[1-9]' test-suite.log; then
	sed -n '/^=\+$/,$p' test-suite.log | head -n 200
fi

# The tarball must build and pass its unit tests on its own; integration
# tests already ran above, so they skip inside distcheck.
echo "test: make distcheck"
if TAPLINE_SKIP_INTEGRATION=1 make -s distcheck >distcheck.log 2>&1; then
	passed=$((passed + 1))
	echo "distcheck: ok"
else
	failed=$((failed + 1))
	tail -n 40 distcheck.log
	echo "distcheck: FAILED (see distcheck.log)"
fi

# Static analysis: cppcheck with zero findings (inline suppressions carry
# their reasons).
echo "test: static analysis (scripts/analyze.sh)"
if scripts/analyze.sh >analyze.log 2>&1; then
	passed=$((passed + 1))
	tail -n 1 analyze.log
else
	failed=$((failed + 1))
	tail -n 40 analyze.log
	echo "analyze: FAILED (see analyze.log)"
fi

# The whole suite once more under ASan and UBSan, halting on the first
# report, in a copy of the tree (tracked and new files as they are now) so
# that the normal build stays as it is.  TAPLINE_NO_ASAN=1 skips it.
if [[ -n ${TAPLINE_NO_ASAN:-} ]]; then
	echo "test: sanitizer run skipped (TAPLINE_NO_ASAN is set)"
elif ! git rev-parse --git-dir >/dev/null 2>&1; then
	echo "test: sanitizer run skipped (not a git checkout)"
else
	echo "test: make check under AddressSanitizer and UBSan"
	asan=$(mktemp -d /tmp/tapline-asan.XXXXXX)
	git ls-files -z --cached --others --exclude-standard |
		xargs -0 cp --parents -t "$asan" 2>/dev/null
	(
		cd "$asan" &&
		autoreconf -fi >/dev/null 2>&1 &&
		./configure -q --enable-asan ${TAPLINE_CONFIGURE_FLAGS:-} \
		    --sysconfdir=/etc >/dev/null &&
		make -j2 -s >/dev/null 2>&1 &&
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		    make -j2 check >asan-check.log 2>&1
	)
	status=$?
	before=$failed
	while IFS= read -r trs; do
		count_log "$trs"
	done < <(find "$asan/tests" -name '*.trs' | sort)
	if [[ $status -ne 0 && $failed -eq $before ]]; then
		failed=$((failed + 1))
		tail -n 40 "$asan/asan-check.log" 2>/dev/null
		echo "asan: the sanitizer build or run failed"
	fi
	[[ -f $asan/test-suite.log ]] && grep -q '^# \(FAIL\|ERROR\): *[1-9]' \
	    "$asan/test-suite.log" && sed -n '/^=\+$/,$p' "$asan/test-suite.log" |
	    head -n 200
	rm -rf "$asan"
fi

# The fuzz smoke run: every libFuzzer target of tests/fuzz for
# FUZZ_SECONDS (30) on its seed corpus, built with clang, ASan and UBSan in
# a copy of the tree; each target counts once.  TAPLINE_NO_FUZZ=1 skips it.
if [[ -n ${TAPLINE_NO_FUZZ:-} ]]; then
	echo "test: fuzz smoke run skipped (TAPLINE_NO_FUZZ is set)"
else
	echo "test: fuzz smoke run (scripts/fuzz-smoke.sh)"
	fuzzlog=$(mktemp /tmp/tapline-fuzzlog.XXXXXX)
	scripts/fuzz-smoke.sh 2>&1 | tee "$fuzzlog"
	status=${PIPESTATUS[0]}
	ok=$(grep -c '^fuzz: [a-z_]* ok ' "$fuzzlog")
	bad=$(grep -c '^fuzz: [a-z_]* FAILED' "$fuzzlog")
	passed=$((passed + ok))
	failed=$((failed + bad))
	if [[ $status -ne 0 && $bad -eq 0 ]]; then failed=$((failed + 1)); fi
	if [[ $ok -eq 0 && $bad -eq 0 && $status -eq 0 ]]; then
		echo "fuzz: no target ran"
		failed=$((failed + 1))
	fi
	rm -f "$fuzzlog"
fi

echo "$skipped skipped"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
