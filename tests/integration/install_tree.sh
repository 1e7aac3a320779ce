#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `make install DESTDIR=...` from the build tree: exactly the expected
# files (binary in sbin, man pages, example config 0600, systemd units
# with the configured sbin path), a binary with configure's hardening, a
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
	sysconfdir=$(mkvar sysconfdir) &&
	unitdir=$(mkvar systemdsystemunitdir) ||
	lib_hard_error "cannot read the install directories from the Makefile"
lib_log "sbindir=$sbindir sysconfdir=$sysconfdir unitdir=${unitdir:-none}"
conf=$sysconfdir/tapline/tapline.conf

{
	echo "$sbindir/tapline"
	echo "$mandir/man5/tapline.conf.5"
	echo "$mandir/man8/tapline.8"
	echo "$conf"
	if [ -n "$unitdir" ]; then
		echo "$unitdir/tapline-server.service"
		echo "$unitdir/tapline@.service"
	fi
} | LC_ALL=C sort >"$LIB_TMP/expected"

dest=$LIB_TMP/root
tl_make install DESTDIR="$dest" >"$LIB_TMP/install.log" 2>&1 ||
	lib_fail "make install failed: $(cat "$LIB_TMP/install.log")"
installed >"$LIB_TMP/got"
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
"$dest$sbindir/tapline" -t -f "$dest$conf" >/dev/null 2>&1 ||
	lib_fail "the installed example config does not pass tapline -t"
mode=$(stat -c %a "$dest$conf")
[ "$mode" = 600 ] || lib_fail "$conf has mode $mode, not 600 (passphrases)"
cmp -s "$top_srcdir/etc/tapline.conf" "$dest$conf" ||
	lib_fail "$conf is not the example config"
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

# The unchanged example goes with the rest.
cp "$top_srcdir/etc/tapline.conf" "$dest$conf"
tl_make uninstall DESTDIR="$dest" >"$LIB_TMP/uninstall.log" 2>&1 ||
	lib_fail "make uninstall failed: $(cat "$LIB_TMP/uninstall.log")"
[ -z "$(installed)" ] || lib_fail "make uninstall left files behind:
$(installed)"
lib_pass
