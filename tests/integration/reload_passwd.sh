#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A reload that changes passphrase sessions derives their keys (scrypt,
# about half a second each) on the worker pool while the running
# sessions go on: a ping flood through an unchanged key session loses
# nothing and that session is not reconnected; a second SIGHUP while
# the keys are being derived is not lost (the file is read again); the
# new passphrase is the one that works afterwards, the old one fails.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

lib_netns_add srv
lib_netns_add ca
lib_netns_add cb
lib_veth srv ula "198.51.100.1/30" ca ul0 "198.51.100.2/30"
lib_veth srv ulb "198.51.100.5/30" cb ul0 "198.51.100.6/30"
lib_key alpha

# server_conf PASSPHRASE: alpha (a key) and six passphrase sessions.
server_conf() {
	{
		cat <<CONF
alpha = {
  key = "$LIB_TMP/alpha.key";
  device = "tl-a";
  address = [ "192.0.2.1/30" ];
};
CONF
		for i in 1 2 3 4 5 6; do
			cat <<CONF
p$i = {
  passwd = "$1 number $i";
  device = "tl-p$i";
  address = [ "192.0.2.$((4 * i + 1))/30" ];
};
CONF
		done
	} >"$LIB_TMP/server.conf"
	chmod 600 "$LIB_TMP/server.conf"
}
# p1_conf PASSPHRASE: the client of p1.
p1_conf() {
	cat >"$LIB_TMP/p1.conf" <<CONF
p1 = {
  passwd = "$1 number 1";
  device = "tl-p1";
  address = [ "192.0.2.6/30" ];
};
CONF
	chmod 600 "$LIB_TMP/p1.conf"
}
cat >"$LIB_TMP/alpha.conf" <<CONF
alpha = {
  key = "$LIB_TMP/alpha.key";
  device = "tl-a";
  address = [ "192.0.2.2/30" ];
};
CONF
server_conf "first passphrase"
p1_conf "first passphrase"

slog=$LIB_TMP/server-srv.log
lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
lib_client ca "$LIB_TMP/alpha.conf" alpha 198.51.100.1
lib_client cb "$LIB_TMP/p1.conf" p1 198.51.100.5
p1=$LIB_BG_PID
lib_wait_up ca tl-a 15 192.0.2.2
lib_wait_up cb tl-p1 30 192.0.2.6
lib_wait_for 5 lib_ping ca 192.0.2.1 1 || lib_fail "alpha does not ping"
lib_wait_for 5 lib_ping cb 192.0.2.5 1 || lib_fail "p1 does not ping"

# 600 echoes, 10 ms apart, through alpha while the keys are derived.
lib_bg_ns ca ping -n -q -i 0.01 -c 600 -W 2 192.0.2.1 >"$LIB_TMP/flood.out" 2>&1
flood=$LIB_BG_PID
server_conf "second passphrase"
kill -HUP "$server"
lib_wait_log "$slog" 10 "reload: deriving keys for 6 passphrase sessions" ||
	lib_fail "the reload did not derive the six changed passphrases"
# Again at once: read again after the first (or after it, if it was
# quick); either way the file is applied twice.
server_conf "third passphrase"
kill -HUP "$server"
if grep -q "the file is read again once it is done" "$slog"; then
	echo "# $LIB_NAME: the second SIGHUP came during the derivation"
fi
lib_wait_for 60 eval "[ \$(grep -c 'reloaded:' '$slog') -ge 2 ]" ||
	lib_fail "the two reloads did not both finish"
lib_wait_pid "$flood" 40
rc=$?
cat "$LIB_TMP/flood.out"
[ "$rc" -eq 0 ] || lib_fail "the ping flood through alpha lost echoes ($rc)"
grep -q " 0% packet loss" "$LIB_TMP/flood.out" || lib_fail "alpha lost packets"
[ "$(grep -c 'alpha: authenticated' "$slog")" = 1 ] ||
	lib_fail "alpha was reconnected by reloads that did not change it"
grep -q "p1: changed by the reload; closing it" "$slog" ||
	lib_fail "p1, whose passphrase changed, was not closed"

# p1's client still has the first passphrase: refused now (its
# identity is unknown).  With the third one it comes back.
lib_wait_log "$slog" 30 "authentication failed for unknown session from 198.51.100.6" ||
	lib_fail "the old passphrase was not refused"
lib__stop "$p1"
p1_conf "third passphrase"
lib_client cb "$LIB_TMP/p1.conf" p1 198.51.100.5
lib_wait_up cb tl-p1 30 192.0.2.6
lib_wait_for 5 lib_ping cb 192.0.2.5 1 || lib_fail "p1 does not ping with the new passphrase"
lib_ping ca 192.0.2.1 || lib_fail "alpha stopped"
lib_pass
