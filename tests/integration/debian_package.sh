#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian package: `dpkg-buildpackage -us -uc -b` in a copy of the
# source tree (the files git knows, so no build output leaks in) builds a
# .deb whose file list is exactly the expected one, whose config is a
# conffile of mode 0600, whose units are installed but not enabled, and
# whose binary runs and is hardened (hardening-check, and the compiler
# flags recorded in the debug information).  Takes a minute or two: a
# whole configure and build.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

# Inside distcheck or a package build the tree is the one being built.
[ -z "${TAPLINE_SKIP_INTEGRATION:-}" ] ||
	lib_skip "TAPLINE_SKIP_INTEGRATION is set"
lib_require_cmd dpkg-buildpackage dpkg-deb dh git tar timeout \
    hardening-check readelf
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
[ -d "$top_srcdir/debian" ] ||
	lib_skip "no debian/ directory in $top_srcdir (a release tarball)"
git -C "$top_srcdir" rev-parse --git-dir >/dev/null 2>&1 ||
	lib_skip "$top_srcdir is not a git checkout"

version=$(dpkg-parsechangelog -l "$top_srcdir/debian/changelog" -S Version) ||
	lib_hard_error "cannot read debian/changelog"
upstream=${version%-*}
src=$LIB_TMP/build/tapline-$upstream
mkdir -p "$src"
# Tracked and new files, as they are in the work tree; ignored build
# output stays behind.
(cd "$top_srcdir" && git ls-files -z --cached --others --exclude-standard |
	tar --null --ignore-failed-read -T - -cf - 2>/dev/null) |
	tar -C "$src" -xf - || lib_hard_error "cannot copy the source tree"

lib_log "dpkg-buildpackage -us -uc -b in $src"
start=$SECONDS
# One job: make -j2 check runs another test beside this one, and timing
# tests (shaping, reload) must keep their core.
(cd "$src" && DEB_BUILD_OPTIONS="nocheck parallel=1" \
    timeout --kill-after=10 900 dpkg-buildpackage -us -uc -b) \
    >"$LIB_TMP/build.log" 2>&1 || {
	tail -n 60 "$LIB_TMP/build.log"
	lib_fail "dpkg-buildpackage failed (the end of its log is above)"
}
lib_log "the package built in $((SECONDS - start)) s"

debs=("$LIB_TMP/build/tapline_${version}_"*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] ||
	lib_fail "expected one tapline_${version}_*.deb, found: ${debs[*]}"
deb=${debs[0]}

# Every entry but directories, as "MODE PATH".
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $1, $6 }' | LC_ALL=C sort \
    >"$LIB_TMP/got"
LC_ALL=C sort >"$LIB_TMP/expected" <<'LIST'
-rw------- ./etc/tapline/tapline.conf
-rw-r--r-- ./lib/systemd/system/tapline-server.service
-rw-r--r-- ./lib/systemd/system/tapline@.service
-rwxr-xr-x ./usr/sbin/tapline
-rw-r--r-- ./usr/share/doc/tapline/README.Debian
-rw-r--r-- ./usr/share/doc/tapline/README.md.gz
-rw-r--r-- ./usr/share/doc/tapline/changelog.Debian.gz
-rw-r--r-- ./usr/share/doc/tapline/copyright
-rw-r--r-- ./usr/share/doc/tapline/examples/tapline.conf
-rw-r--r-- ./usr/share/man/man5/tapline.conf.5.gz
-rw-r--r-- ./usr/share/man/man8/tapline.8.gz
LIST
diff -u "$LIB_TMP/expected" "$LIB_TMP/got" ||
	lib_fail "the package's files differ from the expected list" \
	    "(- expected, + in the .deb)"

mkdir "$LIB_TMP/ctrl" "$LIB_TMP/root"
dpkg-deb -e "$deb" "$LIB_TMP/ctrl" && dpkg-deb -x "$deb" "$LIB_TMP/root" ||
	lib_fail "cannot unpack $deb"
grep -qx /etc/tapline/tapline.conf "$LIB_TMP/ctrl/conffiles" ||
	lib_fail "/etc/tapline/tapline.conf is not a conffile"
grep -q "tapline-server.service" "$LIB_TMP/ctrl/postinst" ||
	lib_fail "postinst does not handle tapline-server.service"
# The example's passphrases are public: nothing starts on its own.
# dh_installsystemd --no-enable re-enables only what was enabled before
# (under "debian-installed"); its default would enable on first install.
grep -q "deb-systemd-helper debian-installed 'tapline-server.service'" \
    "$LIB_TMP/ctrl/postinst" &&
	! grep -q "was-enabled defaults to true" "$LIB_TMP/ctrl/postinst" ||
	lib_fail "postinst would enable tapline-server.service:
$(cat "$LIB_TMP/ctrl/postinst")"
if dpkg-deb -f "$deb" Depends | grep -q libsystemd; then
	lib_fail "the package depends on libsystemd (the built-in" \
	    "sender needs none)"
fi
cmp -s "$top_srcdir/etc/tapline.conf" \
    "$LIB_TMP/root/etc/tapline/tapline.conf" ||
	lib_fail "the packaged /etc/tapline/tapline.conf is not the example"
grep -qx "ExecStart=/usr/sbin/tapline -n -s" \
    "$LIB_TMP/root/lib/systemd/system/tapline-server.service" ||
	lib_fail "tapline-server.service does not start /usr/sbin/tapline"
"$LIB_TMP/root/usr/sbin/tapline" version >"$LIB_TMP/version.out" 2>&1 ||
	lib_fail "the packaged binary does not run:" \
	    "$(cat "$LIB_TMP/version.out")"
grep -q "^tapline $upstream " "$LIB_TMP/version.out" ||
	lib_fail "the packaged binary says: $(cat "$LIB_TMP/version.out")"

# Hardened, as built and as packaged: PIE, stack protector, fortified
# functions, RELRO and immediate binding.  Not control-flow integrity:
# Debian 12's Scrt1.o, crti.o and crtn.o lack the IBT and SHSTK notes, so
# no program linked there gets them (its own ssh neither); and stack clash
# protection is only "unknown" (hardening-check's pattern misses gcc 12's
# probes).  Both flags are checked below in what the compiler recorded.
for bin in "$src/tapline" "$LIB_TMP/root/usr/sbin/tapline"; do
	hardening-check --nocfprotection "$bin" >"$LIB_TMP/hardening.out" \
	    2>&1 || lib_fail "hardening-check $bin:" \
	    "$(cat "$LIB_TMP/hardening.out")"
	lib_log "$(cat "$LIB_TMP/hardening.out")"
done
# Every compile unit of ours, from the unstripped build: the flags gcc
# recorded (DW_AT_producer comes before DW_AT_name in a unit).
readelf --debug-dump=info "$src/tapline" 2>/dev/null | awk '
	/DW_AT_producer/ { prod = $0 }
	/DW_AT_name/ && prod != "" {
		if ($NF ~ /^src\/.*\.c$/) {
			n++
			if (prod !~ /-fstack-clash-protection/ ||
			    prod !~ /-fcf-protection/) {
				sub(/.*\): /, "", prod)
				print $NF ": " prod
			}
		}
		prod = ""
	}
	END { if (n < 10) print "only " n + 0 " compile units of src/ found" }
' >"$LIB_TMP/units.out"
[ ! -s "$LIB_TMP/units.out" ] ||
	lib_fail "compiled without -fstack-clash-protection or" \
	    "-fcf-protection: $(cat "$LIB_TMP/units.out")"
lib_pass
