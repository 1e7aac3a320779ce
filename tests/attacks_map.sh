#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/ATTACKS.md maps every row of the attack table (rows 1..ROWS) to the
# tests that cover it.  Fail if a row is missing, listed twice or has no
# test, or if a test it names does not exist: a unit test must be a
# function that its file registers with cmocka_unit_test, an integration
# test a script that Makefile.am runs in `make check`.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
top=${top_srcdir:-$(dirname "$0")/..}
map=$top/tests/ATTACKS.md
ROWS=47
fail=0
nrefs=0

bad() {
	echo "FAIL: attacks_map: $*" >&2
	fail=1
}

[ -r "$map" ] || { echo "FAIL: attacks_map: cannot read $map" >&2; exit 1; }
declare -A seen=()
while IFS='|' read -r _ row _ refs _; do
	row=${row// /}
	[[ $row =~ ^[0-9]+$ ]] || continue
	[ -z "${seen[$row]:-}" ] || bad "row $row is listed twice"
	seen[$row]=1
	n=0
	for ref in $(grep -o '`tests/[^`]*`' <<<"$refs" | tr -d '`'); do
		n=$((n + 1))
		file=${ref%%:*}
		if [ ! -f "$top/$file" ]; then
			bad "row $row: $file does not exist"
			continue
		fi
		case $ref in
		*.c:*)
			fn=${ref#*:}
			grep -q "cmocka_unit_test[a-z_]*($fn[,)]" "$top/$file" ||
				bad "row $row: $file does not register $fn"
			;;
		*.sh)
			grep -q "^[[:space:]]*$file \\\\\$\|^[[:space:]]*$file\$" \
			    "$top/Makefile.am" ||
				bad "row $row: $file is not in Makefile.am's tests"
			;;
		*)
			bad "row $row: cannot read the reference $ref"
			;;
		esac
	done
	[ "$n" -gt 0 ] || bad "row $row has no test"
	nrefs=$((nrefs + n))
done <"$map"
for ((r = 1; r <= ROWS; r++)); do
	[ -n "${seen[$r]:-}" ] || bad "row $r of the attack table has no line"
done
[ "${#seen[@]}" = "$ROWS" ] || bad "${#seen[@]} rows listed, the table has $ROWS"
[ "$fail" = 0 ] || exit 1
echo "# attacks_map: $ROWS rows, $nrefs test references, all found"
