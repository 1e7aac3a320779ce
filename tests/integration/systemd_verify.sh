#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# `systemd-analyze verify` on both units and tapline.target as `make
# install` puts them,
# pointed at the binary and man pages installed under a DESTDIR (verify
# checks that ExecStart is executable and Documentation= man pages
# exist).  Any complaint that names a unit fails the test, warnings too:
# verify exits 0 on an unknown setting.  Where systemd-analyze can score
# a unit offline, the hardening must stay at its level ("OK", <= 3.5).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_cmd systemd-analyze make
: "${top_builddir:=.}"
[ -f "$top_builddir/Makefile" ] ||
	lib_hard_error "no Makefile in $top_builddir (run through make check)"

tl_make() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL \
	    make -s --no-print-directory -C "$top_builddir" "$@"
}

mkvar() {
	tl_make -f Makefile -f - tl-print-var TL_VAR="$1" <<'MK'
tl-print-var: ; @echo '$($(TL_VAR))'
MK
}

sbindir=$(mkvar sbindir) && mandir=$(mkvar mandir) &&
	unitdir=$(mkvar systemdsystemunitdir) ||
	lib_hard_error "cannot read the install directories from the Makefile"

dest=$LIB_TMP/root
tl_make install DESTDIR="$dest" >"$LIB_TMP/install.log" 2>&1 ||
	lib_fail "make install failed: $(cat "$LIB_TMP/install.log")"
# Built without a unit directory, the units are made but not installed.
from=$dest$unitdir
[ -n "$unitdir" ] || from=$top_builddir/systemd
mkdir "$LIB_TMP/units"
target=$dest$unitdir/tapline.target
[ -n "$unitdir" ] || target=${top_srcdir:-.}/systemd/tapline.target
cp "$target" "$LIB_TMP/units/" || lib_fail "$target is missing"
for unit in tapline-server.service tapline@.service; do
	[ -f "$from/$unit" ] || lib_fail "$from/$unit is missing"
	sed -E "s|^(Exec[A-Za-z]+=)$sbindir/|\\1$dest$sbindir/|" \
	    "$from/$unit" >"$LIB_TMP/units/$unit"
	grep -q "^ExecStart=$dest$sbindir/tapline " "$LIB_TMP/units/$unit" ||
		lib_fail "$unit does not start $sbindir/tapline"
	# A reload checks the file first, and signals only if it passed.
	grep -A1 "^ExecReload=$dest$sbindir/tapline -t -q" \
	    "$LIB_TMP/units/$unit" | grep -qx 'ExecReload=/bin/kill -HUP $MAINPID' ||
		lib_fail "$unit does not check the config before SIGHUP"
	# Unprivileged with one capability, in tapline.target.
	for line in User=tapline Group=tapline \
	    AmbientCapabilities=CAP_NET_ADMIN \
	    CapabilityBoundingSet=CAP_NET_ADMIN PartOf=tapline.target \
	    ReloadPropagatedFrom=tapline.target \
	    "WantedBy=multi-user.target tapline.target"; do
		grep -qx "$line" "$LIB_TMP/units/$unit" ||
			lib_fail "$unit has no $line"
	done
done

# Without man(1) verify cannot look the pages up; that is not the units'
# fault.
man=()
if ! command -v man >/dev/null 2>&1; then
	lib_log "no man command: Documentation= is not checked"
	man=(--man=no)
fi
cd "$LIB_TMP/units" || lib_hard_error "cd $LIB_TMP/units"
MANPATH=$dest$mandir systemd-analyze verify ${man[@]+"${man[@]}"} \
    ./tapline-server.service ./tapline@.service ./tapline.target \
    >"$LIB_TMP/verify.out" 2>&1
rc=$?
cat "$LIB_TMP/verify.out"
[ "$rc" -eq 0 ] || lib_fail "systemd-analyze verify exited $rc"
if grep -qE 'tapline(-server|@|\.target)' "$LIB_TMP/verify.out"; then
	lib_fail "systemd-analyze verify complained about the units"
fi

if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
	for unit in tapline-server.service tapline@.service; do
		MANPATH=$dest$mandir systemd-analyze security --offline=yes \
		    --threshold=35 "./$unit" >"$LIB_TMP/security.out" 2>&1 ||
			lib_fail "$unit is less hardened than before:
$(cat "$LIB_TMP/security.out")"
		lib_log "$(grep 'Overall exposure' "$LIB_TMP/security.out")"
	done
else
	lib_log "this systemd-analyze cannot score units offline; skipped"
fi
lib_pass
