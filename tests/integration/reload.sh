#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# SIGHUP reloads the server's file.  A ping flood through an unchanged
# session loses nothing while the server reloads three times; a session
# whose settings changed is closed and its client comes back with the new
# ones; a broken file is refused with file:line and changes nothing.
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
lib_key beta

# server_conf BETA_KEEPALIVE [BROKEN]
server_conf() {
	cat >"$LIB_TMP/server.conf" <<CONF
alpha = {
  key = "$LIB_TMP/alpha.key";
  device = "tl-a";
  address = [ "192.0.2.1/30" ];
};
beta = {
  key = "$LIB_TMP/beta.key";
  device = "tl-b";
  keepalive = $1;
  address = [ "192.0.2.5/30" ];
};
${2:-}
CONF
}
client_conf() {
	cat >"$LIB_TMP/$1.conf" <<CONF
$1 = {
  key = "$LIB_TMP/$1.key";
  device = "tl-$2";
  address = [ "$3/30" ];
};
CONF
}
client_conf alpha a 192.0.2.2
client_conf beta b 192.0.2.6
server_conf 10

slog=$LIB_TMP/server-srv.log
lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
lib_client ca "$LIB_TMP/alpha.conf" alpha 198.51.100.1
lib_client cb "$LIB_TMP/beta.conf" beta 198.51.100.5
lib_wait_up ca tl-a 15 192.0.2.2
lib_wait_up cb tl-b 15 192.0.2.6
lib_wait_for 5 lib_ping ca 192.0.2.1 1 || lib_fail "alpha does not ping"
lib_wait_for 5 lib_ping cb 192.0.2.5 1 || lib_fail "beta does not ping"

# reloads: wait for the Nth "reloaded:" line after each SIGHUP.
reloads=0
hup() {
	reloads=$((reloads + 1))
	kill -HUP "$server"
	lib_wait_for 10 eval "[ \$(grep -c 'reloaded:' '$slog') -ge $reloads ]" ||
		lib_fail "reload $reloads did not finish"
}

# 1000 echoes, 10 ms apart, through alpha while the server reloads.
lib_bg_ns ca ping -n -q -i 0.01 -c 1000 -W 2 192.0.2.1 >"$LIB_TMP/flood.out" 2>&1
flood=$LIB_BG_PID
hup				# nothing changed
server_conf 7			# beta changes
hup
server_conf 7
hup				# nothing changed again
lib_wait_pid "$flood" 40
rc=$?
cat "$LIB_TMP/flood.out"
[ "$rc" -eq 0 ] || lib_fail "the ping flood through alpha lost echoes ($rc)"
grep -q " 0% packet loss" "$LIB_TMP/flood.out" || lib_fail "alpha lost packets"
[ "$(grep -c 'alpha: authenticated' "$slog")" = 1 ] ||
	lib_fail "alpha was reconnected by a reload that did not change it"
grep -q "beta: changed by the reload; closing it" "$slog" ||
	lib_fail "the changed session beta was not closed"
lib_wait_for 15 eval "[ \$(grep -c 'beta: authenticated' '$slog') -ge 2 ]" ||
	lib_fail "beta did not come back after its change"
lib_wait_for 10 lib_ping cb 192.0.2.5 1 || lib_fail "beta does not ping after the reload"
grep -q "reloaded: 2 sessions defined, 2 running unchanged, 0 closed" "$slog" ||
	lib_fail "the third reload did not keep both sessions"

# A broken file: refused with file and line, everything keeps running.
server_conf 7 "gamma = { key = ; };"
kill -HUP "$server"
lib_wait_log "$slog" 10 "reload: .*server.conf:1[0-9]: " ||
	lib_fail "the broken file's error does not name file:line"
lib_wait_log "$slog" 5 "has errors; the running configuration stays" ||
	lib_fail "the broken file was not refused"
lib_ping ca 192.0.2.1 || lib_fail "alpha stopped after a refused reload"
lib_ping cb 192.0.2.5 || lib_fail "beta stopped after a refused reload"
kill -0 "$server" || lib_fail "the server died"
lib_pass
