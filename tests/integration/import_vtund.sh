#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tapline import-vtund as a user meets it: the vtund.conf examples that
# Debian's vtun package ships (read from the installed package) and a
# hand-written file.  Each output passes tapline -t, and tapline -t's
# summary has the sessions and settings of a table; what cannot be carried
# over is named on stderr as FILE:LINE; a broken file exits 2 and writes
# nothing; -o writes mode 0600 in one step; vtund's passwords are never
# copied: every session gets a new key file next to the output (mode
# 0600), and one already there is kept; README's side-by-side is what the
# importer writes today.  Needs no network and no namespaces; root
# only to install the vtun package if it is missing.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

: "${TAPLINE:?TAPLINE must point at the tapline binary}"

tmp=$(mktemp -d /tmp/tapline-import.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT
failures=0

fail() {
	echo "FAIL: $*" >&2
	failures=$((failures + 1))
}

examples=/usr/share/doc/vtun/examples
# scripts/deps.sh installs vtun; a machine without it gets one try here,
# unless this is a package build or distcheck (TAPLINE_SKIP_INTEGRATION),
# which must not install anything.
if [ ! -r "$examples/vtund.conf.gz" ] && [ "$(id -u)" -eq 0 ] &&
	[ -z "${TAPLINE_SKIP_INTEGRATION:-}" ] &&
	command -v apt-get >/dev/null; then
	echo "import_vtund: installing the vtun package for its examples"
	export DEBIAN_FRONTEND=noninteractive
	timeout 300 apt-get install -y -q --no-install-recommends vtun \
		>"$tmp/apt.log" 2>&1 ||
		{ timeout 300 apt-get update -q && timeout 300 apt-get install \
			-y -q --no-install-recommends vtun; } >>"$tmp/apt.log" 2>&1
fi
if [ ! -r "$examples/vtund.conf.gz" ]; then
	echo "SKIP: $examples/vtund.conf.gz is missing and the vtun package" \
		"cannot be installed here (scripts/deps.sh installs it)"
	exit 77
fi

# import VTUND OUT: import-vtund -o OUT, its stderr in $OUT.err; then
# tapline -t -f OUT with its summary in $OUT.sum.  Fails the test if
# either does not exit 0.
import() {
	local in=$1 out=$2
	if ! "$TAPLINE" import-vtund "$in" -o "$out" 2>"$out.err"; then
		fail "import-vtund $in exited $?: $(cat "$out.err")"
		return 1
	fi
	if ! "$TAPLINE" -t -f "$out" >"$out.sum" 2>"$out.check"; then
		fail "tapline -t rejects the import of $in: $(cat "$out.check")"
		return 1
	fi
	[ "$(stat -c %a "$out")" = 600 ] ||
		fail "$out has mode $(stat -c %a "$out"), not 600"
	# Every warning names the vtund file and a line; the last line sums up.
	if grep -v -e "^$in:[0-9]*: " -e '^tapline: import-vtund: ' "$out.err" |
		grep -q .; then
		fail "a warning without FILE:LINE for $in: $(cat "$out.err")"
	fi
	return 0
}

# setting SUMMARY SESSION KEY: the value tapline -t prints for KEY in
# SESSION ("options" for the options).
setting() {
	awk -v s="$2" -v k="$3" '
		/^session / { cur = $2 }
		/^options$/ { cur = "options" }
		cur == s && index($0, "  " k ": ") == 1 {
			print substr($0, length(k) + 5); exit
		}' "$1"
}

# check SUMMARY TABLE: every "SESSION|KEY|VALUE" line of TABLE holds.
check() {
	local sum=$1 s k v got
	while IFS='|' read -r s k v; do
		[ -n "$s" ] || continue
		got=$(setting "$sum" "$s" "$k")
		[ "$got" = "$v" ] ||
			fail "$(basename "$sum"): $s $k is '$got', wanted '$v'"
	done <<<"$2"
}

# sessions SUMMARY: the session names tapline -t lists, space-separated.
sessions() {
	awk '/^session / { printf "%s%s", sep, $2; sep = " " }' "$1"
}

# warned ERR REGEX: stderr of an import has a line matching REGEX.
warned() {
	grep -qE -- "$2" "$1" || fail "no warning /$2/ in $(basename "$1")"
}

# line_of FILE REGEX: the number of the first line matching REGEX.
line_of() {
	grep -n -m 1 -E -- "$2" "$1" | cut -d: -f1
}

# docaddr FILE: FILE with the private IPv4 addresses of Debian's examples
# (10.x) turned into documentation ones (192.0.2.N, N their last number),
# so that none stands in this test; the importer takes them as words.
docaddr() {
	sed -E 's/(^|[^0-9.])10\.[0-9]+\.[0-9]+\.([0-9]+)/\1192.0.2.\2/g' "$1"
}

# 1. Debian's example: a server part and a client part in one file.  vtund
# uses the first session of a name, so the server's cobra and lion are
# imported; viper (ppp), backup (pipe) and sz (tty) cannot be.
v=$tmp/vtund.conf
zcat "$examples/vtund.conf.gz" >"$tmp/debian.in"
docaddr "$tmp/debian.in" >"$v"
if import "$v" "$tmp/debian.conf"; then
	sum=$tmp/debian.conf.sum
	[ "$(sessions "$sum")" = "cobra lion" ] ||
		fail "Debian's example gave sessions '$(sessions "$sum")'"
	check "$sum" '
options|port|5000
options|listen|127.0.0.1
options|syslog|daemon
cobra|proto|udp
cobra|type|tun
cobra|keepalive|30 s
cobra|timeout|180 s
cobra|persist|no
cobra|compress|zlib:9
cobra|device|(kernel chooses tun%d)
cobra|speed|0 (unlimited)
cobra|multi|allow
cobra|up[0]|"/sbin/ifconfig" "%d" "192.0.2.1" "pointopoint" "192.0.2.2" "mtu" "1450"
cobra|down|(none)
cobra|legacy|none
lion|proto|udp
lion|type|tap
lion|device|tap0
lion|compress|zlib:1
lion|keepalive|30 s
lion|up[0]|"/sbin/ifconfig" "%d" "192.0.2.1" "netmask" "255.255.255.0"
lion|up[1]|"/sbin/route" "add" "-net" "192.0.2.0" "netmask" "255.255.255.0" "gw" "192.0.2.2"
lion|up[2]|"/sbin/ipchains" "-A" "forward" "-s" "192.0.2.0/24" "-d" "0.0.0.0/0" "-j" "MASQ"
lion|down[0]|"/sbin/ifconfig" "%d" "down"
lion|down[1]|"/sbin/ipchains" "-D" "forward" "-s" "192.0.2.0/24" "-d" "0.0.0.0/0" "-j" "MASQ"'
	check "$sum" "cobra|key|$tmp/cobra.key (32 bytes)"
	err=$tmp/debian.conf.err
	cobra=$(line_of "$v" '^cobra \{')
	warned "$err" "^$v:[0-9]+: cobra: passwd not carried over: treat vtund's password as exposed; cobra.key, a new key file"
	# Root's keys belong to the units' user when it exists, as genkey's.
	if [ "$(id -u)" = 0 ] && id -u tapline >/dev/null 2>&1; then
		owner=tapline
		warned "$err" "^tapline: import-vtund: wrote a new key to $tmp/cobra.key \\(mode 0600, owned by tapline\\)"
	else
		owner=$(id -un)
		warned "$err" "^tapline: import-vtund: wrote a new key to $tmp/cobra.key \\(mode 0600\\)"
	fi
	warned "$err" "^$v:[0-9]+: cobra: compress lzo:9: tapline has no LZO"
	warned "$err" "^$v:[0-9]+: lion: stat yes: tapline writes no statistics file"
	warned "$err" "^$v:$(line_of "$v" '^viper \{'): viper: session not imported: type tty \(vtund's default\) with ppp"
	warned "$err" "^$v:$(line_of "$v" '^backup \{'): backup: session not imported: type pipe"
	warned "$err" "^$v:$(line_of "$v" '^sz \{'): sz: session not imported: type tty"
	warned "$err" "^$v:[0-9]+: cobra: session defined again; vtund uses the first one \(line $cobra\)"
	warned "$err" "^$v:[0-9]+: options: timeout 60 \(vtund's general timeout\) is not carried over"
	warned "$err" "^tapline: import-vtund: 2 sessions imported, 3 not"
	grep -q 'legacy = "vtun";' "$tmp/debian.conf" ||
		fail "the output does not mention legacy = \"vtun\";"
	# vtund's password is nowhere in the output: a new key replaces it.
	grep -qF 'Ma&^TU' "$tmp/debian.conf" &&
		fail "the output holds vtund's password"
	grep -qx '  key = "cobra.key";.*' "$tmp/debian.conf" ||
		fail "cobra has no key = \"cobra.key\";"
	for k in cobra lion; do
		[ "$(stat -c %a "$tmp/$k.key")" = 600 ] ||
			fail "$k.key has mode $(stat -c %a "$tmp/$k.key"), not 600"
		[ "$(stat -c %U "$tmp/$k.key")" = "$owner" ] ||
			fail "$k.key belongs to $(stat -c %U "$tmp/$k.key"), not $owner"
		[[ $(cat "$tmp/$k.key") =~ ^[A-Za-z0-9+/]{43}=$ ]] ||
			fail "$k.key is not what tapline genkey writes"
	done
	cmp -s "$tmp/cobra.key" "$tmp/lion.key" && fail "two sessions, one key"
	cp "$tmp/cobra.key" "$tmp/cobra.key.before"
	# The same input gives the same bytes, on stdout (the keys then go to
	# the current directory) as with -o; keys already there are kept.
	(cd "$tmp" && "$TAPLINE" import-vtund "$v" >"$tmp/stdout.conf" \
		2>"$tmp/stdout.err") || fail "import-vtund to stdout failed"
	cmp -s "$tmp/cobra.key" "$tmp/cobra.key.before" ||
		fail "a second import replaced cobra.key"
	grep -q "^tapline: import-vtund: kept the existing key file ./cobra.key$" \
		"$tmp/stdout.err" || fail "no word of the kept key: $(cat "$tmp/stdout.err")"
	cmp -s "$tmp/stdout.conf" "$tmp/debian.conf" ||
		fail "stdout and -o give different files"
fi

# 2. The package's other examples, and its /etc/vtund.conf (all commented
# out): each imports and passes tapline -t.
for f in "$examples"/vtund-*.conf /etc/vtund.conf; do
	[ -r "$f" ] || continue
	docaddr "$f" >"$tmp/$(basename "$f")"
	import "$tmp/$(basename "$f")" "$tmp/$(basename "$f" .conf).out"
done
sum=$tmp/vtund-ipv6-server.out.sum
if [ -r "$sum" ]; then
	[ "$(sessions "$sum")" = "big-buck-bunny big-buck-bunny-ipv6" ] ||
		fail "vtund-ipv6-server.conf gave sessions '$(sessions "$sum")'"
	check "$sum" '
options|syslog|user
big-buck-bunny|proto|udp
big-buck-bunny|compress|zlib:1
big-buck-bunny|keepalive|30 s
big-buck-bunny|up[1]|"/sbin/ip" "-4" "addr" "add" "192.0.2.1" "peer" "192.0.2.2" "dev" "%d"
big-buck-bunny|down[0]|"/sbin/ip" "link" "set" "%d" "down"
big-buck-bunny-ipv6|up[1]|"/sbin/ip" "-6" "addr" "add" "fc00:170:0:6a::1/112" "dev" "%d"'
fi
sum=$tmp/vtund-client.out.sum
if [ -r "$sum" ]; then
	# Client sessions name no type: imported as tun, said so.
	[ "$(sessions "$sum")" = "cobra lion backup sz" ] ||
		fail "vtund-client.conf gave sessions '$(sessions "$sum")'"
	check "$sum" '
cobra|type|tun
cobra|device|tun1
cobra|persist|yes
lion|type|tap
lion|device|tap1
backup|up[0]|"/bin/sh" "-c" "cd /tmp; tar xf -"'
	warned "$tmp/vtund-client.out.err" ": cobra: no type: vtund's default is tty"
	warned "$tmp/vtund-client.out.err" ": backup: up: program /bin/sh without wait"
fi

# 3. A hand-written file with the keywords the examples lack.  First with
# a quoted password, which vtund refuses: the importer does too, at its line.
cat >"$tmp/hand.conf" <<'EOF'
options {
  port 5001;
  bindaddr { addr 198.51.100.1; };
  syslog local3;
  ip /usr/sbin/ip;
}
early { passwd first-session-pw; type tun; proto udp; }
default {
  type ether;
  proto udp;
  keepalive 10:3;
  persist keep;
  multi killold;
}
lan {
  passwd "quoted";
}
EOF
if "$TAPLINE" import-vtund "$tmp/hand.conf" -o "$tmp/hand.out" \
	2>"$tmp/hand.err"; then
	fail "a quoted passwd was accepted"
else
	rc=$?
	[ "$rc" -eq 2 ] || fail "a broken vtund.conf exited $rc, not 2"
	grep -q "^$tmp/hand.conf:16: passwd: expected the password as one word" \
		"$tmp/hand.err" || fail "no file:line error: $(cat "$tmp/hand.err")"
	[ ! -e "$tmp/hand.out" ] || fail "a broken vtund.conf wrote output"
fi
head -n 14 "$tmp/hand.conf" >"$tmp/hand.head"
cat "$tmp/hand.head" - >"$tmp/hand.conf" <<'EOF'
lan {
  passwd Lan&Pass;
  device tap9;
  speed 256:128;
  compress zlib:6;
  up {
    ip "link set %% master br0";
    program /usr/bin/logger "-t vtund '%h is up on %%'" wait;
  };
  srcaddr { addr 198.51.100.2; };
  stat yes;
}
late { passwd late-pw; encrypt no; keepalive no; }
EOF
# An existing output is replaced, and gets mode 0600 whatever it had.
echo old >"$tmp/hand.out"
chmod 644 "$tmp/hand.out"
if import "$tmp/hand.conf" "$tmp/hand.out"; then
	sum=$tmp/hand.out.sum
	[ "$(sessions "$sum")" = "early lan late" ] ||
		fail "hand.conf gave sessions '$(sessions "$sum")'"
	check "$sum" '
options|port|5001
options|listen|198.51.100.1
options|syslog|local3
early|type|tun
early|proto|udp
early|keepalive|10 s
early|persist|no
early|multi|allow
lan|type|tap
lan|device|tap9
lan|keepalive|10 s
lan|timeout|50 s
lan|persist|keep
lan|multi|killold
lan|compress|zlib:6
lan|speed|in 128 kbit/s, out 256 kbit/s
lan|up[0]|"/usr/sbin/ip" "link" "set" "%d" "master" "br0"
lan|up[1]|"/usr/bin/logger" "-t" "vtund" "%h is up on %d"
late|type|tap
late|keepalive|10 s
late|timeout|60 s'
	err=$tmp/hand.out.err
	h=$tmp/hand.conf
	warned "$err" "^$h:$(line_of "$h" 'srcaddr'): lan: srcaddr \{ addr 198.51.100.2; \}: .* run this client with -L 198.51.100.2"
	warned "$err" "^$h:$(line_of "$h" 'stat yes'): lan: stat yes"
	warned "$err" "^$h:$(line_of "$h" '^late'): late: encrypt no: tapline always encrypts"
	warned "$err" "^$h:$(line_of "$h" '^late'): late: keepalive no: tapline keeps its keepalive on"
	grep -q '^old$' "$tmp/hand.out" && fail "-o did not replace the file"
	ls "$tmp"/hand.out.* 2>/dev/null | grep -qv -e '\.err$' -e '\.sum$' \
		-e '\.check$' && fail "a temporary file was left next to -o"
fi

# 4. README's "Coming from vtund" shows a vtund.conf, its import and the
# warnings: they must be what the importer writes today.
readme=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}/README.md
# pre N: the Nth <pre> block of the side-by-side table, HTML unescaped.
pre() {
	awk -v n="$1" '
		/<td valign="top"><pre>$/ { i++; on = (i == n); next }
		/^<\/pre><\/td>/ { on = 0 }
		on' "$readme" | sed -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&amp;/\&/g'
}
mkdir "$tmp/readme"
pre 1 >"$tmp/readme/vtund.conf"
pre 2 >"$tmp/readme/want.conf"
awk '/^and on stderr:$/ { on = 1; next } on && /^```$/ { if (in_block) exit;
	in_block = 1; next } in_block' "$readme" >"$tmp/readme/want.err"
if [ ! -s "$tmp/readme/vtund.conf" ] || [ ! -s "$tmp/readme/want.conf" ] ||
	[ ! -s "$tmp/readme/want.err" ]; then
	fail "README.md has no vtund.conf / tapline.conf side by side"
elif (cd "$tmp/readme" && "$TAPLINE" import-vtund vtund.conf \
	-o tapline.conf 2>got.err); then
	diff -u "$tmp/readme/want.conf" "$tmp/readme/tapline.conf" ||
		fail "README.md's tapline.conf is not what the importer writes"
	# README shows root on a host with the units' user; elsewhere the
	# key files have no ", owned by tapline".
	sed -i 's/ (mode 0600, owned by tapline)/ (mode 0600)/' \
	    "$tmp/readme/want.err" "$tmp/readme/got.err"
	diff -u "$tmp/readme/want.err" "$tmp/readme/got.err" ||
		fail "README.md's warnings are not what the importer prints"
	"$TAPLINE" -t -f "$tmp/readme/tapline.conf" >/dev/null 2>&1 ||
		fail "README.md's tapline.conf does not pass tapline -t"
else
	fail "README.md's vtund.conf does not import"
fi

# 5. A SESSION.key next to the output that is no key file: nothing is
# written, and no new key either.
mkdir "$tmp/bad"
printf 'early { passwd pw-early; type tun; }\nlate { passwd pw-late; type tun; }\n' \
	>"$tmp/bad/vtund.conf"
echo "not a key" >"$tmp/bad/late.key"
chmod 600 "$tmp/bad/late.key"
if "$TAPLINE" import-vtund "$tmp/bad/vtund.conf" -o "$tmp/bad/out.conf" \
	2>"$tmp/bad/err"; then
	fail "a broken late.key was accepted"
else
	grep -q "^tapline: import-vtund: $tmp/bad/late.key exists and is no key file" \
		"$tmp/bad/err" || fail "no word of the broken key: $(cat "$tmp/bad/err")"
	[ ! -e "$tmp/bad/out.conf" ] || fail "output written despite a broken key"
	[ ! -e "$tmp/bad/early.key" ] || fail "early.key left behind"
fi

# 6. Usage errors exit 2.
"$TAPLINE" import-vtund >/dev/null 2>&1
[ $? -eq 2 ] || fail "import-vtund without FILE did not exit 2"
"$TAPLINE" import-vtund "$tmp/nonexistent.conf" >/dev/null 2>&1
[ $? -eq 1 ] || fail "import-vtund of a missing file did not exit 1"

if [ "$failures" -gt 0 ]; then
	echo "import_vtund: $failures failure(s)"
	exit 1
fi
echo "import_vtund: Debian's examples and a hand-written file imported; tapline -t passes on each"
exit 0
