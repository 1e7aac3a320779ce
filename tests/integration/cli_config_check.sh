#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The tapline binary as a user meets it: -t on the shipped example (and
# its passphrases refused in a file others can read), a file with three
# mistakes, genkey, key file permissions, usage errors.
# Needs no privileges and no network.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

: "${TAPLINE:?TAPLINE must point at the tapline binary}"
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"

tmp=$(mktemp -d /tmp/tapline-cli.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

# run EXPECTED_RC CMD...: run with stdout/stderr captured in $out/$err.
run() {
	local want=$1 rc
	shift
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	out=$(cat "$tmp/out")
	err=$(cat "$tmp/err")
	if [ "$rc" -ne "$want" ]; then
		fail "'$*' exited $rc, wanted $want; stderr: $err"
		return 1
	fi
	return 0
}

# 1. The shipped example, copied with mode 0600 as its comments ask,
# validates and -t prints every session, no secret.
# As git checks it out (0644) its passphrases are refused, each at its line.
example="$top_srcdir/etc/tapline.conf"
cp "$example" "$tmp/example-644.conf"
chmod 644 "$tmp/example-644.conf"
if run 2 "$TAPLINE" -t -f "$tmp/example-644.conf"; then
	for s in cobra viper; do
		line=$(grep -n -m 1 "^  passwd = \"change me: $s " "$example" |
			cut -d: -f1)
		grep -q "example-644.conf:$line: $s.passwd: .* is readable by group or others (mode 0644)" \
			<<<"$err" || fail "no error for $s's passphrase: $err"
	done
fi
install -m 600 "$example" "$tmp/example.conf"
example=$tmp/example.conf
if run 0 "$TAPLINE" -t -f "$example"; then
	for s in $(sed -n 's/^\([A-Za-z][A-Za-z0-9_-]*\) *= *{.*/\1/p' "$example" |
		grep -v -x -e options -e default); do
		grep -q "$s" <<<"$out" || fail "-t output does not show session $s"
	done
	while IFS= read -r pw; do
		[ -n "$pw" ] || continue
		if grep -qF -- "$pw" <<<"$out$err"; then
			fail "-t output shows a passphrase"
		fi
	done < <(sed -n 's/^[[:space:]]*passwd *= *"\(.*\)";.*/\1/p' "$example")
fi

# 2. Three different mistakes: all three named, with their lines, exit 2.
cat >"$tmp/bad.conf" <<'CONF'
options = {
  port = 70000;
};
cobra = {
  passwd = "a long enough passphrase";
  proto = "udpp";
  kepalive = 10;
};
CONF
if run 2 "$TAPLINE" -t -f "$tmp/bad.conf"; then
	grep -q "bad.conf:2: .*port" <<<"$err" || fail "port error missing: $err"
	grep -q "bad.conf:6: .*proto" <<<"$err" || fail "proto error missing: $err"
	grep -q "bad.conf:7: .*kepalive.*keepalive" <<<"$err" ||
		fail "unknown-setting error with hint missing: $err"
fi

# 3. genkey: stdout and file forms, mode 0600, no overwrite.
if run 0 "$TAPLINE" genkey; then
	[[ $out =~ ^[A-Za-z0-9+/]{43}=$ ]] || fail "genkey printed '$out'"
	first=$out
	run 0 "$TAPLINE" genkey && [ "$out" != "$first" ] ||
		fail "two genkey runs gave the same key"
fi
if run 0 "$TAPLINE" genkey "$tmp/cobra.key"; then
	[ "$(stat -c %a "$tmp/cobra.key")" = 600 ] ||
		fail "key file mode is $(stat -c %a "$tmp/cobra.key")"
	[ "$(wc -c <"$tmp/cobra.key")" -eq 45 ] || fail "key file is not 44 chars + newline"
	cp "$tmp/cobra.key" "$tmp/saved.key"
	run 1 "$TAPLINE" genkey "$tmp/cobra.key"
	cmp -s "$tmp/cobra.key" "$tmp/saved.key" || fail "genkey overwrote a key"
fi

# 4. A config using the key checks out; a world-readable key is refused.
cat >"$tmp/key.conf" <<CONF
cobra = {
  key = "$tmp/cobra.key";
  device = "tl-cobra";
};
CONF
if run 0 "$TAPLINE" -t -f "$tmp/key.conf"; then
	grep -qF "$(cat "$tmp/cobra.key")" <<<"$out$err" && fail "-t printed the key"
fi
chmod 644 "$tmp/cobra.key"
if run 2 "$TAPLINE" -t -f "$tmp/key.conf"; then
	grep -q "key.conf:2: .*cobra.key" <<<"$err" || fail "permission error lacks file:line: $err"
	grep -qi "group or others" <<<"$err" || fail "permission error unclear: $err"
fi

# 5. A missing config file is a config error (2) that names the file.
if run 2 "$TAPLINE" -t -f "$tmp/nonexistent.conf"; then
	grep -q "nonexistent.conf" <<<"$err" || fail "missing file not named: $err"
fi

# 6. Usage errors: exit 2, one line.
if run 2 "$TAPLINE" -P 0 cobra; then
	[ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "usage error is not one line: $err"
	grep -q "bad port" <<<"$err" || fail "usage error unclear: $err"
fi
run 2 "$TAPLINE"
run 0 "$TAPLINE" --help && { grep -q "genkey" <<<"$out" || fail "--help lacks genkey"; }
run 0 "$TAPLINE" version && { grep -q "^tapline [0-9]" <<<"$out" || fail "version: $out"; }

if [ "$failures" -ne 0 ]; then
	echo "cli_config_check: $failures failure(s)" >&2
	exit 1
fi
echo "cli_config_check: ok"
