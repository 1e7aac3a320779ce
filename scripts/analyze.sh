#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Static analysis: cppcheck over the daemon (src/), the unit and
# integration test programs and the benchmark, configured as the build is
# (config.h, the include paths, the platform's own predefined macros).
# Prints every finding, then one line "analyze: N findings"; exits 1 if
# there is any.  A false positive is suppressed in the code, at its line,
# with "cppcheck-suppress <id> ; <reason>" in a comment; the only global
# suppressions are the ones listed below, each with its reason.
set -euo pipefail
cd "$(dirname "$0")/.."

cc=${CC:-cc}

if ! command -v cppcheck >/dev/null; then
	echo "analyze: cppcheck is not installed (apt-get install cppcheck)" >&2
	exit 2
fi
# config.h comes from configure; the build makes it when it is missing.
if [[ ! -f config.h ]]; then
	scripts/build.sh
fi

# The platform as the compiler sees it: only the predefined macros that
# the code tests (#if on the byte order and the architecture), with the
# compiler's values, so that cppcheck checks the configuration that is
# built here and no other.
defs=()
while read -r _ name value; do
	defs+=("-D$name=$value")
done < <("$cc" -dM -E -x c /dev/null | grep -E '^#define (__linux__|__x86_64__|__aarch64__|__i386__|__BYTE_ORDER__|__ORDER_(LITTLE|BIG)_ENDIAN__) ')

# System headers are not read (cppcheck's --library files describe libc,
# OpenSSL and zlib instead), except <sys/queue.h>: it is nothing but
# macros, and without them a TAILQ_HEAD() member is a syntax error that
# makes cppcheck skip the whole file.
queue_h=$(printf '#include <sys/queue.h>\n' | "$cc" -E -x c - |
	sed -n 's/^# [0-9]* "\(.*\/sys\/queue\.h\)".*/\1/p' | head -n 1)
if [[ -z $queue_h ]]; then
	echo "analyze: cannot find <sys/queue.h>" >&2
	exit 2
fi

files=(src/*.c tests/unit/*.c tests/tools/*.c bench/*.c)

# The global suppressions, each with its reason:
#  missingIncludeSystem: system headers are left out on purpose (above).
#  variableScope: a style rule ("this variable could be declared in an
#    inner block").  Declaring locals at the top of the function is the
#    KNF habit the code follows in many places, and the check finds no
#    bugs; suppressing its 123 hits one by one would bury the code in
#    comments.
# "information" stays off: cppcheck 2.10's unmatchedSuppression, which
# would point out stale inline suppressions, reports the global
# missingIncludeSystem, and calls a needed suppression unmatched
# (test_control.c's unreachableCode), so it cannot gate anything.
out=$(mktemp /tmp/tapline-analyze.XXXXXX)
trap 'rm -f "$out"' EXIT
start=$SECONDS
rc=0
cppcheck -q -j2 --std=c11 --platform=native \
	--enable=warning,style,performance,portability \
	--inline-suppr --error-exitcode=1 \
	--suppress=missingIncludeSystem \
	--suppress=variableScope \
	--library=posix --library=gnu --library=openssl --library=zlib \
	--library=scripts/analyze-cmocka.cfg \
	"${defs[@]}" --include="$queue_h" -I. -Isrc \
	--template='{file}:{line}:{column}: {severity}: {message} [{id}]' \
	"${files[@]}" 2>"$out" || rc=$?
cat "$out"

n=$(grep -cE '^[^ ]+:[0-9]+:[0-9]+: [a-z]+: .* \[[A-Za-z0-9_]+\]$' "$out" || true)
if [[ $rc -ne 0 && $n -eq 0 ]]; then
	echo "analyze: cppcheck failed (exit $rc)"
	exit 2
fi
echo "analyze: ${#files[@]} files in $((SECONDS - start)) s"
echo "analyze: $n findings"
[[ $n -eq 0 ]]
