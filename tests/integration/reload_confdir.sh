#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# One file per tunnel: a server whose include_dir holds one file per
# session (alpha over UDP, the other over TCP), each with its client, and
# a broken third file that does not keep the server from starting them.
# `tapline -t` names every broken file with file:line and exits 2; a
# SIGHUP with one broken file loses no echo of a ping through the other
# tunnel, keeps the broken file's session running and applies the other
# files' changes; once fixed and changed, that session alone restarts.
# The TCP client runs as `tapline NAME` without -f, so it reads NAME.conf
# next to the default config (a uniquely named file that the trap
# removes, in a directory it removes too if it made it).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

# Where `tapline NAME` looks: the directory of the built-in default file.
etcdir=$("$TAPLINE" --help | sed -n 's/.*(default \(\/.*\)\/tapline\.conf;*$/\1/p')
[ -n "$etcdir" ] || lib_hard_error "no default config path in tapline --help"
# The session's name is unique to this run, and so is its file.
bn=cd$LIB_PREFIX
etcfile=$etcdir/$bn.conf
etcmade=
# shellcheck disable=SC2317 # run by the EXIT trap
confdir_cleanup() {
	local rc=$?
	rm -f "$etcfile"
	[ -z "$etcmade" ] || rmdir "$etcdir" 2>/dev/null
	(exit "$rc")
	lib__cleanup
}
trap confdir_cleanup EXIT
if [ ! -d "$etcdir" ]; then
	mkdir -p "$etcdir" || lib_hard_error "cannot make $etcdir"
	etcmade=1
fi

lib_netns_add srv
lib_netns_add ca
lib_netns_add cb
lib_veth srv ula "198.51.100.1/30" ca ul0 "198.51.100.2/30"
lib_veth srv ulb "198.51.100.5/30" cb ul0 "198.51.100.6/30"
lib_key alpha
lib_key beta

mkdir -m 700 "$LIB_TMP/conf.d"
cat >"$LIB_TMP/server.conf" <<CONF
options = { control = "$LIB_TMP/srv.sock"; include_dir = "conf.d"; };
default = { keepalive = 10; };
CONF
alpha_file=$LIB_TMP/conf.d/10-alpha.conf
beta_file=$LIB_TMP/conf.d/20-beta.conf
cat >"$alpha_file" <<CONF
alpha = {
  key = "$LIB_TMP/alpha.key";
  device = "tl-a";
  address = [ "192.0.2.1/30" ];
};
CONF
# beta_conf KEEPALIVE [KEY_LINE]: the server's file of the TCP session.
beta_conf() {
	local keyline=${2:-"key = \"$LIB_TMP/beta.key\";"}
	cat >"$beta_file" <<CONF
default = { proto = "tcp"; };
$bn = {
  $keyline
  device = "tl-b";
  keepalive = $1;
  address = [ "192.0.2.5/30" ];
};
CONF
}
beta_conf 10
# Left over by an editor: ignored.
echo "broken = {" >"$LIB_TMP/conf.d/20-beta.conf~"

cat >"$LIB_TMP/alpha.conf" <<CONF
options = { control = "$LIB_TMP/alpha.sock"; };
alpha = {
  key = "$LIB_TMP/alpha.key";
  device = "tl-a";
  address = [ "192.0.2.2/30" ];
};
CONF
cat >"$etcfile" <<CONF
options = { control = "$LIB_TMP/beta.sock"; };
$bn = {
  key = "$LIB_TMP/beta.key";
  proto = "tcp";
  device = "tl-b";
  address = [ "192.0.2.6/30" ];
};
CONF
chmod 600 "$etcfile"

"$TAPLINE" -t -f "$LIB_TMP/server.conf" >"$LIB_TMP/t.out" 2>&1 || {
	cat "$LIB_TMP/t.out"
	lib_fail "tapline -t refuses the good set"
}
if ! grep -q "^file $alpha_file\$" "$LIB_TMP/t.out" ||
    ! grep -q "^file $beta_file\$" "$LIB_TMP/t.out" ||
    grep -q "beta.conf~" "$LIB_TMP/t.out"; then
	lib_fail "tapline -t does not list exactly the two files"
fi
# -t NAME without -f checks NAME.conf, the file the client below reads.
"$TAPLINE" -t "$bn" >"$LIB_TMP/t.out" 2>&1 ||
	lib_fail "tapline -t $bn refuses $etcfile"
grep -q "^config $etcfile: 1 session" "$LIB_TMP/t.out" ||
	lib_fail "tapline -t $bn did not check $etcfile"

# A broken file at the start: the server starts the other files' sessions.
gamma_file=$LIB_TMP/conf.d/30-gamma.conf
printf 'gamma = {\n  key = "%s";\n  protoo = "udp";\n};\n' \
    "$LIB_TMP/beta.key" >"$gamma_file"
slog=$LIB_TMP/server-srv.log
lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
lib_client ca "$LIB_TMP/alpha.conf" alpha 198.51.100.1
lib_bg_ns cb "$TAPLINE" -n -v "$bn" 198.51.100.5 \
    >>"$LIB_TMP/client-cb.log" 2>&1
lib_wait_up ca tl-a 15 192.0.2.2
lib_wait_up cb tl-b 15 192.0.2.6
lib_wait_for 5 lib_ping ca 192.0.2.1 1 || lib_fail "alpha does not ping"
lib_wait_for 5 lib_ping cb 192.0.2.5 1 || lib_fail "$bn does not ping"
grep -q "$bn: authenticated" "$slog" || lib_fail "$bn is not authenticated"
grep -q "error: $gamma_file:3: gamma.protoo: unknown setting" "$slog" ||
	lib_fail "the server does not name $gamma_file:3"
grep -q "tapline: $gamma_file: not loaded; its sessions do not start" \
    "$slog" || lib_fail "the server does not say $gamma_file is left out"

# Break beta's file at line 3 too: -t names both files.
beta_conf 10 'key = ;'
"$TAPLINE" -t -f "$LIB_TMP/server.conf" >"$LIB_TMP/t.out" 2>&1
rc=$?
cat "$LIB_TMP/t.out"
[ "$rc" = 2 ] || lib_fail "tapline -t exits $rc with broken files, not 2"
grep -q "error: $beta_file:3: syntax error" "$LIB_TMP/t.out" ||
	lib_fail "tapline -t does not name $beta_file:3"
grep -q "error: $gamma_file:3: gamma.protoo: unknown setting; did you mean \"proto\"?" \
    "$LIB_TMP/t.out" || lib_fail "tapline -t does not name $gamma_file:3"
rm -f "$gamma_file"
# A new file beside the broken one: its session is added by the reload.
cat >"$LIB_TMP/conf.d/40-delta.conf" <<CONF
delta = { key = "$LIB_TMP/delta.key"; };
CONF
lib_key delta

# reloads: wait for the Nth "reloaded:" line after each SIGHUP.
reloads=0
hup() {
	reloads=$((reloads + 1))
	kill -HUP "$server"
	lib_wait_for 10 eval "[ \$(grep -c 'reloaded:' '$slog') -ge $reloads ]" ||
		lib_fail "reload $reloads did not finish"
}

# 40 echoes, 50 ms apart, through alpha while the server reloads.
lib_bg_ns ca ping -n -i 0.05 -c 40 -W 2 192.0.2.1 >"$LIB_TMP/ping.out" 2>&1
ping_pid=$LIB_BG_PID
# The reload comes once echoes flow, and well before the last one.
lib_wait_for 5 grep -q "icmp_seq=2 " "$LIB_TMP/ping.out" ||
	lib_fail "the ping through alpha does not start"
hup
lib_wait_pid "$ping_pid" 20
rc=$?
tail -n 3 "$LIB_TMP/ping.out"
[ "$rc" -eq 0 ] || lib_fail "the ping through alpha lost echoes ($rc)"
grep -q " 0% packet loss" "$LIB_TMP/ping.out" || lib_fail "alpha lost packets"
lib_wait_log "$slog" 5 "reload: $beta_file:3: syntax error" ||
	lib_fail "the server's log does not name $beta_file:3"
grep -q "reload: $beta_file has errors; its 1 running session stays" "$slog" ||
	lib_fail "the server does not say that $bn stays"
grep -q "reloaded: 3 sessions defined, 2 running unchanged, 0 closed" "$slog" ||
	lib_fail "the reload did not keep alpha and $bn and add delta"
lib_ping cb 192.0.2.5 || lib_fail "$bn stopped at a reload that broke its file"
[ "$(grep -c "$bn: authenticated" "$slog")" = 1 ] ||
	lib_fail "$bn was reconnected by the reload"

# Fixed and changed: that session alone restarts.
beta_conf 7
hup
grep -q "$bn: changed by the reload; closing it" "$slog" ||
	lib_fail "the changed session $bn was not closed"
grep -q "reloaded: 3 sessions defined, 1 running unchanged, 1 closed" "$slog" ||
	lib_fail "the reload did not close $bn alone"
lib_wait_for 15 eval "[ \$(grep -c '$bn: authenticated' '$slog') -ge 2 ]" ||
	lib_fail "$bn did not come back after its change"
lib_wait_for 10 lib_ping cb 192.0.2.5 1 || lib_fail "$bn does not ping after the reload"
lib_ping ca 192.0.2.1 || lib_fail "alpha does not ping after the reload"
[ "$(grep -c 'alpha: authenticated' "$slog")" = 1 ] ||
	lib_fail "alpha was reconnected by a reload that did not change it"
kill -0 "$server" || lib_fail "the server died"
lib_pass
