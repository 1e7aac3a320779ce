#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `make install DESTDIR=...` from the build tree: exactly the expected
# files (binary in sbin, man pages, the skeleton config with no session
# and no secret, an empty conf.d/, the annotated example under
# docdir/examples, systemd units with the configured sbin path, the
# target, the sysusers.d entry), a binary with configure's hardening, a
# changed config survives a second install and an uninstall, and
# uninstall leaves nothing else behind.
# Needs no root: everything happens under a DESTDIR of the test's own.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_cmd make
: "${top_builddir:=.}" "${top_srcdir:=.}"
[ -f "$top_builddir/Makefile" ] ||
	lib_hard_error "no Makefile in $top_builddir (run through make check)"

# A fresh make of the build tree's own, not the one running the tests.
tl_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    make -s --no-print-directory -C "$top_builddir" "$@"
}

# mkvar NAME: a variable of the build tree's Makefile, fully expanded.
mkvar() {
	tl_make -f Makefile -f - tl-print-var TL_VAR="$1" <<'MK'
tl-print-var: ; @echo '$($(TL_VAR))'
MK
}

# The files under the DESTDIR, as installed paths, sorted.
installed() {
	(cd "$dest" && find . \( -type f -o -type l \) -printf '/%P\n') |
		LC_ALL=C sort
}

sbindir=$(mkvar sbindir) && mandir=$(mkvar mandir) &&
	sysconfdir=$(mkvar sysconfdir) && docdir=$(mkvar docdir) &&
	unitdir=$(mkvar systemdsystemunitdir) &&
	sysusersdir=$(mkvar sysusersdir) ||
	lib_hard_error "cannot read the install directories from the Makefile"
lib_log "sbindir=$sbindir sysconfdir=$sysconfdir unitdir=${unitdir:-none}"
conf=$sysconfdir/tapline/tapline.conf

{
	echo "$sbindir/tapline"
	echo "$mandir/man5/tapline.conf.5"
	echo "$mandir/man8/tapline.8"
	echo "$conf"
	echo "$docdir/examples/tapline.conf"
	if [ -n "$unitdir" ]; then
		echo "$unitdir/tapline-server.service"
		echo "$unitdir/tapline@.service"
		echo "$unitdir/tapline.target"
	fi
	[ -z "$sysusersdir" ] || echo "$sysusersdir/tapline.conf"
} | LC_ALL=C sort >"$LIB_TMP/expected"

dest=$LIB_TMP/root
tl_make install DESTDIR="$dest" >"$LIB_TMP/install.log" 2>&1 ||
	lib_fail "make install failed: $(cat "$LIB_TMP/install.log")"
installed >"$LIB_TMP/got"
if [ -n "$sysusersdir" ]; then
	cmp -s "$top_srcdir/systemd/tapline.sysusers" \
	    "$dest$sysusersdir/tapline.conf" ||
		lib_fail "$sysusersdir/tapline.conf is not systemd/tapline.sysusers"
	grep -q "systemd-sysusers" "$LIB_TMP/install.log" ||
		lib_fail "make install did not say to run systemd-sysusers"
fi
diff -u "$LIB_TMP/expected" "$LIB_TMP/got" ||
	lib_fail "make install put other files than expected (- expected," \
	    "+ installed)"

[ -x "$dest$sbindir/tapline" ] || lib_fail "$sbindir/tapline is not executable"
# The hardening flags that configure found the compiler to take are in
# the binary (debian_package.sh checks the build with dpkg-buildflags'):
# hardening-check asks for each of them, never for control-flow
# integrity, which Debian 12's crt files do not allow.  Without
# hardening-check (devscripts) only this check is left out.
if command -v hardening-check >/dev/null 2>&1; then
	harden="$(mkvar HARDEN_CFLAGS) $(mkvar HARDEN_LDFLAGS)" &&
		fortify=$(mkvar HARDEN_CPPFLAGS) ||
		lib_hard_error "cannot read the hardening flags of the Makefile"
	opts=(--nocfprotection)
	[[ $harden == *-fstack-protector-strong* ]] ||
		opts+=(--nostackprotector)
	[[ $harden == *-pie* ]] || opts+=(--nopie)
	[[ $harden == *-z,relro,-z,now* ]] || opts+=(--norelro --nobindnow)
	[[ $fortify == *-D_FORTIFY_SOURCE=* ]] || opts+=(--nofortify)
	lib_log "configure's hardening: $harden $fortify"
	hardening-check "${opts[@]}" "$dest$sbindir/tapline" \
	    >"$LIB_TMP/hardening.out" 2>&1 ||
		lib_fail "hardening-check ${opts[*]}:" \
		    "$(cat "$LIB_TMP/hardening.out")"
	lib_log "$(cat "$LIB_TMP/hardening.out")"
else
	lib_log "no hardening-check (devscripts): hardening not checked"
fi
# The live config is the skeleton: no session, no secret, conf.d/ named
# with the configured sysconfdir.  (Its include_dir needs a tapline that
# knows the setting; the example below is what tapline -t checks here.)
cmp -s "$top_builddir/etc/skeleton.conf" "$dest$conf" ||
	lib_fail "$conf is not the skeleton config"
if grep -nE '^[[:space:]]*(passwd|key)[[:space:]]*=' "$dest$conf"; then
	lib_fail "the skeleton $conf holds a secret (above)"
fi
if grep -nE '^[A-Za-z][A-Za-z0-9_-]*[[:space:]]*=' "$dest$conf" |
    grep -vE ':(options|default)[[:space:]]*='; then
	lib_fail "the skeleton $conf holds a live session (above)"
fi
grep -qx "  include_dir = \"$sysconfdir/tapline/conf.d\";.*" "$dest$conf" ||
	lib_fail "the skeleton does not read $sysconfdir/tapline/conf.d"
[ -d "$dest$sysconfdir/tapline/conf.d" ] ||
	lib_fail "no $sysconfdir/tapline/conf.d directory"
mode=$(stat -c %a "$dest$conf")
[ "$mode" = 644 ] || lib_fail "$conf has mode $mode, not 644"
example=$dest$docdir/examples/tapline.conf
cmp -s "$top_srcdir/etc/tapline.conf" "$example" ||
	lib_fail "$docdir/examples/tapline.conf is not the example config"
install -m 600 "$example" "$LIB_TMP/example.conf"
"$dest$sbindir/tapline" -t -f "$LIB_TMP/example.conf" >/dev/null 2>&1 ||
	lib_fail "the installed example config does not pass tapline -t"
if [ -n "$unitdir" ]; then
	grep -qx "ExecStart=$sbindir/tapline -n -s" \
	    "$dest$unitdir/tapline-server.service" ||
		lib_fail "tapline-server.service does not run" \
		    "$sbindir/tapline -n -s"
	grep -qx "ExecStart=$sbindir/tapline -n -- %i" \
	    "$dest$unitdir/tapline@.service" ||
		lib_fail "tapline@.service does not run" \
		    "$sbindir/tapline -n -- %i"
	if grep -n '@[a-z_]*@' "$dest$unitdir"/tapline*.service; then
		lib_fail "a unit kept a template placeholder"
	fi
fi

# An admin's changes are never overwritten, nor uninstalled.
echo "# changed by the admin" >>"$dest$conf"
tl_make install DESTDIR="$dest" >"$LIB_TMP/install.log" 2>&1 ||
	lib_fail "the second make install failed: $(cat "$LIB_TMP/install.log")"
tail -n 1 "$dest$conf" | grep -qx "# changed by the admin" ||
	lib_fail "a second make install replaced the changed $conf"
tl_make uninstall DESTDIR="$dest" >"$LIB_TMP/uninstall.log" 2>&1 ||
	lib_fail "make uninstall failed: $(cat "$LIB_TMP/uninstall.log")"
[ "$(installed)" = "$conf" ] ||
	lib_fail "after uninstall, expected only the changed $conf; found:
$(installed)"

# The unchanged skeleton goes with the rest, and so do the directories.
cp "$top_builddir/etc/skeleton.conf" "$dest$conf"
tl_make uninstall DESTDIR="$dest" >"$LIB_TMP/uninstall.log" 2>&1 ||
	lib_fail "make uninstall failed: $(cat "$LIB_TMP/uninstall.log")"
[ -z "$(installed)" ] || lib_fail "make uninstall left files behind:
$(installed)"
for d in "$sysconfdir/tapline" "$docdir"; do
	[ ! -e "$dest$d" ] || lib_fail "make uninstall left $d behind"
done
lib_pass
