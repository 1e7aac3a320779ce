#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The Debian package: `dpkg-buildpackage -us -uc -b` in a copy of the
# source tree (the files git knows, so no build output leaks in) builds a
# .deb that lintian passes (no error, no warning: debian/*.lintian-
# overrides says why for each tag it silences), whose file list is
# exactly the expected one (the skeleton config as the only conffile,
# the example under /usr/share/doc/tapline/examples, the sysusers entry,
# units where systemd.pc says), whose units are installed but not
# enabled, and whose binary is hardened and linked with libsystemd.
# Then, unless a tapline package is already installed (which is left
# alone): dpkg -i, the tapline user and the config's root:tapline modes,
# debian/tests/tunnel (the autopkgtest: a tunnel between two namespaces
# with the installed daemon), a reinstall (the upgrade path keeps the
# modes), and dpkg --purge, which must leave nothing behind but the
# tapline user (sysusers users stay, as Debian does with system users).
# The EXIT trap purges what the test installed, on any path.  PID 1 need
# not be systemd: the maintainer scripts skip their systemctl calls.
# Takes a minute or two: a whole configure and build.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

# Inside distcheck or a package build the tree is the one being built.
[ -z "${TAPLINE_SKIP_INTEGRATION:-}" ] ||
	lib_skip "TAPLINE_SKIP_INTEGRATION is set"
lib_require_cmd dpkg-buildpackage dpkg-deb dh git tar timeout \
    hardening-check readelf lintian pkg-config
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

# Where the units go: systemd.pc's answer, which is also where
# debhelper looks for them.
unitdir=$(pkg-config --variable=systemdsystemunitdir systemd) &&
	[ -n "$unitdir" ] || lib_skip "pkg-config does not know systemd"
[ "$unitdir" = /lib/systemd/system ] ||
	lib_log "note: systemd.pc's unit directory is $unitdir"

# lintian: no error and no warning; the overrides carry their reasons.
# (It warns that it runs as root; that goes to its stderr, not here.)
lintian --fail-on error,warning --no-tag-display-limit \
    "$LIB_TMP/build/tapline_${version}_"*.changes \
    >"$LIB_TMP/lintian.out" 2>"$LIB_TMP/lintian.err" ||
	lib_fail "lintian: $(cat "$LIB_TMP/lintian.out" "$LIB_TMP/lintian.err")"
lib_log "lintian: clean$(sed 's/^/; /' "$LIB_TMP/lintian.out" | tr -d '\n')"

# Every entry but directories, as "MODE PATH"; the units are those of
# systemd/ in the tree.
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { print $1, $6 }' | LC_ALL=C sort \
    >"$LIB_TMP/got"
{
	cat <<'LIST'
-rw-r--r-- ./etc/tapline/tapline.conf
-rw-r--r-- ./usr/lib/sysusers.d/tapline.conf
-rwxr-xr-x ./usr/sbin/tapline
-rw-r--r-- ./usr/share/doc/tapline/README.Debian
-rw-r--r-- ./usr/share/doc/tapline/README.md.gz
-rw-r--r-- ./usr/share/doc/tapline/changelog.Debian.gz
-rw-r--r-- ./usr/share/doc/tapline/copyright
-rw-r--r-- ./usr/share/doc/tapline/examples/tapline.conf
-rw-r--r-- ./usr/share/lintian/overrides/tapline
-rw-r--r-- ./usr/share/man/man5/tapline.conf.5.gz
-rw-r--r-- ./usr/share/man/man8/tapline.8.gz
LIST
	for u in "$top_srcdir"/systemd/*.service.in \
	    "$top_srcdir"/systemd/*.target "$top_srcdir"/systemd/*.target.in; do
		[ -e "$u" ] || continue
		u=$(basename "$u" .in)
		echo "-rw-r--r-- .$unitdir/$u"
	done
} | LC_ALL=C sort >"$LIB_TMP/expected"
diff -u "$LIB_TMP/expected" "$LIB_TMP/got" ||
	lib_fail "the package's files differ from the expected list" \
	    "(- expected, + in the .deb)"
dpkg-deb -c "$deb" | grep -q ' \./etc/tapline/conf\.d/$' ||
	lib_fail "the package has no /etc/tapline/conf.d/"

mkdir "$LIB_TMP/ctrl" "$LIB_TMP/root"
dpkg-deb -e "$deb" "$LIB_TMP/ctrl" && dpkg-deb -x "$deb" "$LIB_TMP/root" ||
	lib_fail "cannot unpack $deb"
[ "$(cat "$LIB_TMP/ctrl/conffiles")" = /etc/tapline/tapline.conf ] ||
	lib_fail "the conffiles are not just /etc/tapline/tapline.conf:" \
	    "$(cat "$LIB_TMP/ctrl/conffiles")"
grep -q "tapline-server.service" "$LIB_TMP/ctrl/postinst" ||
	lib_fail "postinst does not handle tapline-server.service"
grep -q "systemd-sysusers .*tapline.conf" "$LIB_TMP/ctrl/postinst" ||
	lib_fail "postinst does not create the tapline user"
# Nothing starts on its own: there is no session until the admin
# writes one.  dh_installsystemd --no-enable re-enables only what was
# enabled before (under "debian-installed"); its default would enable
# on first install.
grep -q "deb-systemd-helper debian-installed 'tapline-server.service'" \
    "$LIB_TMP/ctrl/postinst" &&
	! grep -q "was-enabled defaults to true" "$LIB_TMP/ctrl/postinst" ||
	lib_fail "postinst would enable tapline-server.service:
$(cat "$LIB_TMP/ctrl/postinst")"
dpkg-deb -f "$deb" Depends | grep -q 'libsystemd0' ||
	lib_fail "the package does not use libsystemd (journal fields)"
cmp -s "$top_srcdir/etc/tapline.conf" \
    "$LIB_TMP/root/usr/share/doc/tapline/examples/tapline.conf" ||
	lib_fail "the packaged example is not etc/tapline.conf"
conf=$LIB_TMP/root/etc/tapline/tapline.conf
if grep -nE '^[[:space:]]*(passwd|key)[[:space:]]*=' "$conf"; then
	lib_fail "the packaged /etc/tapline/tapline.conf holds a secret"
fi
if grep -nE '^[A-Za-z][A-Za-z0-9_-]*[[:space:]]*=' "$conf" |
    grep -vE ':(options|default)[[:space:]]*='; then
	lib_fail "the packaged /etc/tapline/tapline.conf holds a session"
fi
grep -qx '  include_dir = "/etc/tapline/conf.d";.*' "$conf" ||
	lib_fail "the packaged config does not read /etc/tapline/conf.d"
cmp -s "$top_srcdir/systemd/tapline.sysusers" \
    "$LIB_TMP/root/usr/lib/sysusers.d/tapline.conf" ||
	lib_fail "the sysusers entry is not systemd/tapline.sysusers"
grep -qx "ExecStart=/usr/sbin/tapline -n -s" \
    "$LIB_TMP/root$unitdir/tapline-server.service" ||
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

# ----- Installed on this machine, then purged -----
if dpkg-query -W -f='${Status}' tapline 2>/dev/null | grep -q installed; then
	lib_log "a tapline package is installed here: not installing over it"
	lib_pass
fi
lib_require_root

# The package's state on exit, whatever the path: purged.
installed=
tl_purge() {
	[ -n "$installed" ] || return 0
	timeout 120 dpkg --purge tapline >>"$LIB_TMP/dpkg.log" 2>&1 ||
		echo "# $LIB_NAME: dpkg --purge tapline failed" >&2
	installed=
}
trap 'tl_rc=$?; tl_purge; (exit $tl_rc); lib__cleanup' EXIT

# modes PATH...: "OWNER:GROUP MODE PATH" for each.
modes() {
	stat -c '%U:%G %a %n' "$@"
}
check_modes() {
	modes /etc/tapline/tapline.conf /etc/tapline/conf.d \
	    >"$LIB_TMP/modes.out" 2>&1
	diff -u - "$LIB_TMP/modes.out" <<'MODES' ||
root:tapline 640 /etc/tapline/tapline.conf
root:tapline 750 /etc/tapline/conf.d
MODES
		lib_fail "$1: the config's owners and modes differ (- expected)"
}

installed=1
timeout 300 dpkg -i "$deb" >"$LIB_TMP/dpkg.log" 2>&1 ||
	lib_fail "dpkg -i failed: $(cat "$LIB_TMP/dpkg.log")"
getent passwd tapline >/dev/null || lib_fail "no tapline user after install"
check_modes "after install"
cmp -s "$conf" /etc/tapline/tapline.conf ||
	lib_fail "the installed /etc/tapline/tapline.conf is not the skeleton"
[ -f /usr/share/doc/tapline/examples/tapline.conf ] ||
	lib_fail "no installed example"
[ -z "$(ls -A /etc/tapline/conf.d)" ] || lib_fail "conf.d/ is not empty"
for u in "$unitdir"/tapline*; do
	if deb-systemd-helper is-enabled "$(basename "$u")"; then
		lib_fail "$(basename "$u") is enabled on install"
	fi
done

lib_log "debian/tests/tunnel (the autopkgtest) with the installed package"
mkdir "$LIB_TMP/autopkgtest"
AUTOPKGTEST_TMP=$LIB_TMP/autopkgtest timeout 120 \
    "$top_srcdir/debian/tests/tunnel" >"$LIB_TMP/autopkgtest.log" 2>&1 ||
	lib_fail "debian/tests/tunnel failed: $(cat "$LIB_TMP/autopkgtest.log")"
tail -n 1 "$LIB_TMP/autopkgtest.log"

# The upgrade path (here the same version again): dpkg keeps the modes
# through the stat overrides.
timeout 300 dpkg -i "$deb" >>"$LIB_TMP/dpkg.log" 2>&1 ||
	lib_fail "the second dpkg -i failed: $(cat "$LIB_TMP/dpkg.log")"
check_modes "after reinstall"

timeout 120 dpkg --purge tapline >>"$LIB_TMP/dpkg.log" 2>&1 ||
	lib_fail "dpkg --purge failed: $(cat "$LIB_TMP/dpkg.log")"
installed=
left=()
for f in /etc/tapline /usr/sbin/tapline /usr/share/doc/tapline \
    /usr/lib/sysusers.d/tapline.conf "$unitdir"/tapline*; do
	[ ! -e "$f" ] || left+=("$f")
done
[ ${#left[@]} -eq 0 ] || lib_fail "dpkg --purge left ${left[*]}"
if dpkg-statoverride --list | grep -E ' /etc/tapline(/|$)'; then
	lib_fail "dpkg --purge left stat overrides (above)"
fi
if dpkg-query -W tapline >/dev/null 2>&1 &&
    ! dpkg-query -W -f='${Status}' tapline | grep -q not-installed; then
	lib_fail "dpkg still knows tapline: $(dpkg-query -W -f='${Status}' tapline)"
fi
lib_pass
