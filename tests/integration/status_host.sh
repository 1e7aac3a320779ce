#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Every daemon of a host, as `tapline status` without a session sees
# them: a server with sessions cobra (UDP) and viper (TCP), and two
# client daemons, one per session, whose sockets share the server's
# control directory (the netns only splits the network, as if the three
# ran on one host).  Asserted:
# - `tapline wait cobra --timeout 1` with no daemon exits 1; once the
#   daemons run, `wait` returns 0 for each session.
# - `status` lists the server and both clients, each with its sessions;
#   --json is version 2 with three daemons, each holding its daemon's
#   own object (version 1), roles server, client, client.
# - `status --check` prints "tapline OK: 4 of 4 sessions up" and exits
#   0; with the viper client stopped it exits 3 and names viper (the
#   server's viper is waiting); `status cobra --check` still exits 0.
# - `--format prometheus` passes `promtool check metrics`; a broken
#   sample appended does not.  `--format openmetrics` ends in "# EOF",
#   has a "# UNIT" line only for families named by their unit, samples
#   of counter family X named X_total, and, renamed to the text format
#   (counter families get _total; UNIT and EOF dropped), passes promtool.
# - the server's metrics_listen (127.0.0.1 in its namespace): GET
#   /metrics is 200 with the OpenMetrics type when asked for it, else
#   the text format, which passes promtool; another path is 404, POST
#   is 405; no key appears.
# - a stale socket file next to the others is listed as "not running"
#   without failing the listing, and makes --check exit 3.
# - with the server stopped, `wait cobra --timeout 1` exits 1 (the
#   client daemon is reconnecting) and says why ("Connection refused").
# shellcheck disable=SC2317 # functions run through lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd jq ping curl python3
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"
command -v promtool >/dev/null 2>&1 ||
	lib_skip "promtool is not installed (Debian's prometheus package)"

lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli
lib_key cobra
lib_key viper

SOCK=$LIB_TMP/tapline.sock
SCONF=$LIB_TMP/server.conf
CCONF=$LIB_TMP/client.conf
cat >"$SCONF" <<CONF
options = { control = "$SOCK"; metrics_listen = "127.0.0.1:9479"; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  proto = "udp";
  device = "tl-cobra";
  address = [ "192.0.2.1/30" ];
};
viper = {
  key = "$LIB_TMP/viper.key";
  device = "tl-viper";
  address = [ "192.0.2.5/30" ];
};
CONF
cat >"$CCONF" <<CONF
options = { control = "$SOCK"; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  persist = true;
  device = "tl-cobra";
  address = [ "192.0.2.2/30" ];
};
viper = {
  key = "$LIB_TMP/viper.key";
  persist = true;
  device = "tl-viper";
  address = [ "192.0.2.6/30" ];
};
CONF

# tl CMD...: tapline with CCONF and a time bound; the answer in
# $LIB_TMP/out, messages in $LIB_TMP/err, the exit status in $rc.
tl() {
	lib_run 15 "$TAPLINE" "$@" -f "$CCONF" >"$LIB_TMP/out" 2>"$LIB_TMP/err"
	rc=$?
}
out() { cat "$LIB_TMP/out" "$LIB_TMP/err"; }

tl wait cobra --timeout 1
[ "$rc" = 1 ] && grep -q "cobra is not up after 1 s" "$LIB_TMP/err" ||
	lib_fail "wait without a daemon: status $rc, $(out)"

lib_server srv "$SCONF"
server=$LIB_BG_PID
lib_client cli "$CCONF" cobra "$LIB_UL4_A"
lib_client cli "$CCONF" viper "$LIB_UL4_A"
viper=$LIB_BG_PID
for s in cobra viper; do
	tl wait "$s" --timeout 20
	[ "$rc" = 0 ] || lib_fail "wait $s: status $rc, $(out)"
done
lib_wait_for 10 lib_ping cli 192.0.2.1 1 || lib_fail "no ping over cobra"

# The listing: the server first, then the clients by name.
tl status
[ "$rc" = 0 ] || lib_fail "status: $rc, $(out)"
[ "$(grep -c '^== ' "$LIB_TMP/out")" = 3 ] &&
    grep -qx "== server ($SOCK)" "$LIB_TMP/out" &&
    grep -qx "== client cobra ($LIB_TMP/tapline-cobra.sock)" \
    "$LIB_TMP/out" &&
    grep -qx "== client viper ($LIB_TMP/tapline-viper.sock)" \
    "$LIB_TMP/out" && [ "$(grep -c '^session ' "$LIB_TMP/out")" = 4 ] ||
	lib_fail "status lists: $(out)"
tl status --json
jq -e --arg s "$SOCK" '.version == 2 and (.daemons | length) == 3 and
    ([.daemons[].role] == ["server", "client", "client"]) and
    .daemons[0].socket == $s and .daemons[0].session == null and
    .daemons[1].session == "cobra" and
    ([.daemons[] | .error == null and .status.version == 1] | all) and
    ([.daemons[0].status.sessions[].state] == ["up", "up"]) and
    .daemons[2].status.sessions[0].name == "viper"' "$LIB_TMP/out" \
    >/dev/null || lib_fail "status --json: $(out)"

tl status --check
[ "$rc" = 0 ] && grep -qx "tapline OK: 4 of 4 sessions up" "$LIB_TMP/out" ||
	lib_fail "status --check: $rc, $(out)"

# Metrics: the text format straight to promtool.
tl status --format prometheus
[ "$rc" = 0 ] || lib_fail "status --format prometheus: $rc, $(out)"
promtool check metrics <"$LIB_TMP/out" >"$LIB_TMP/promtool.out" 2>&1 ||
	lib_fail "promtool on the text format: $(cat "$LIB_TMP/promtool.out")"
grep -qx 'tapline_session_up{session="cobra",role="server"} 1' \
    "$LIB_TMP/out" &&
    grep -qx 'tapline_session_up{session="viper",role="client"} 1' \
    "$LIB_TMP/out" &&
    grep -qE '^tapline_session_rx_packets_total\{session="cobra",role="client"\} [1-9]' \
    "$LIB_TMP/out" ||
	lib_fail "metrics lack a sample: $(out)"
# The check is worth something: a broken sample fails it.
{ cat "$LIB_TMP/out"; echo 'tapline_session_up{session="x" 1'; } |
    promtool check metrics >/dev/null 2>&1 &&
	lib_fail "promtool passed a broken sample"

# OpenMetrics: its own rules, then promtool on it renamed.
tl status --format openmetrics
[ "$rc" = 0 ] || lib_fail "status --format openmetrics: $rc, $(out)"
om=$LIB_TMP/out
[ "$(tail -n 1 "$om")" = "# EOF" ] && [ "$(grep -c '^# EOF' "$om")" = 1 ] ||
	lib_fail "OpenMetrics must end in one # EOF: $(tail -n 3 "$om")"
awk '
	/^# TYPE / { fam = $3; type = $4; next }
	/^# UNIT / { if ($3 !~ ("_" $4 "$")) { print "unit " $0; bad = 1 }; next }
	/^#/ { next }
	{ name = $0; sub(/[{ ].*/, "", name)
	  want = type == "counter" ? fam "_total" : fam
	  if (name != want) { print "sample " $0 " in " fam; bad = 1 } }
	END { exit bad }' "$om" >"$LIB_TMP/awk.out" ||
	lib_fail "OpenMetrics names: $(cat "$LIB_TMP/awk.out")"
awk '
	NR == FNR { if ($0 ~ /^# TYPE .* counter$/) counter[$3] = 1; next }
	/^# EOF$/ || /^# UNIT / { next }
	/^# (HELP|TYPE) / && ($3 in counter) { $3 = $3 "_total" }
	{ print }' "$om" "$om" | promtool check metrics >"$LIB_TMP/promtool.out" 2>&1 ||
	lib_fail "promtool on OpenMetrics: $(cat "$LIB_TMP/promtool.out")"

# The HTTP endpoint in the server's namespace.
url=http://127.0.0.1:9479
http() {
	lib_nsexec srv curl -s -m 5 -o "$LIB_TMP/body" -D "$LIB_TMP/head" \
	    -w '%{http_code}' "$@"
}
code=$(http -H 'Accept: application/openmetrics-text; version=1.0.0' \
    "$url/metrics")
[ "$code" = 200 ] && grep -qi '^content-type: application/openmetrics-text' \
    "$LIB_TMP/head" && [ "$(tail -n 1 "$LIB_TMP/body")" = "# EOF" ] ||
	lib_fail "GET /metrics (OpenMetrics): $code $(cat "$LIB_TMP/head")"
code=$(http "$url/metrics")
[ "$code" = 200 ] && grep -qi '^content-type: text/plain; version=0.0.4' \
    "$LIB_TMP/head" ||
	lib_fail "GET /metrics: $code $(cat "$LIB_TMP/head")"
promtool check metrics <"$LIB_TMP/body" >"$LIB_TMP/promtool.out" 2>&1 ||
	lib_fail "promtool on /metrics: $(cat "$LIB_TMP/promtool.out")"
grep -qx 'tapline_session_up{session="viper",role="server"} 1' \
    "$LIB_TMP/body" || lib_fail "/metrics: $(cat "$LIB_TMP/body")"
for k in cobra viper; do
	! grep -qF "$(cat "$LIB_TMP/$k.key")" "$LIB_TMP/body" ||
		lib_fail "the $k key is in the metrics"
done
code=$(http "$url/")
[ "$code" = 404 ] || lib_fail "GET /: $code, want 404"
code=$(http -X POST -d x "$url/metrics")
[ "$code" = 405 ] || lib_fail "POST /metrics: $code, want 405"

# One session down: the server's viper waits for its client.
kill -TERM "$viper"
lib_wait_pid "$viper" 10 || lib_fail "the viper client did not exit 0"
check_down() {
	tl status --check
	[ "$rc" = 3 ]
}
lib_wait_for 10 check_down || lib_fail "status --check with viper down: $(out)"
grep -qE "^tapline CRITICAL: 1 of 3 sessions not up: viper \(server, waiting\)$" \
    "$LIB_TMP/out" || lib_fail "status --check line: $(out)"
tl status cobra --check
[ "$rc" = 0 ] || lib_fail "status cobra --check: $rc, $(out)"
tl status viper --check
[ "$rc" = 3 ] || lib_fail "status viper --check: $rc, $(out)"

# A stale socket file: listed, not fatal; --check counts it.
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])' "$LIB_TMP/tapline-ghost.sock" ||
	lib_hard_error "cannot make a stale socket"
tl status
[ "$rc" = 0 ] && grep -q "^== client ghost (.*): not running (stale socket" \
    "$LIB_TMP/out" || lib_fail "status with a stale socket: $rc, $(out)"
tl status --check
[ "$rc" = 3 ] && grep -q "client ghost: not answering" "$LIB_TMP/out" ||
	lib_fail "status --check with a stale socket: $rc, $(out)"
rm -f "$LIB_TMP/tapline-ghost.sock"

# No server: the cobra client reconnects, and wait gives up.
kill -TERM "$server"
lib_wait_pid "$server" 10 || lib_fail "the server did not exit 0"
# (The client's reason comes along: its last error, once it has one.)
refused() {
	tl wait cobra --timeout 0
	[ "$rc" = 1 ] && grep -q "cobra is not up after 0 s (reconnecting: .*Connection refused" "$LIB_TMP/err"
}
lib_wait_for 20 refused || lib_fail "wait without the server: status $rc, $(out)"
tl wait cobra --timeout 1
[ "$rc" = 1 ] && grep -q "cobra is not up after 1 s" "$LIB_TMP/err" ||
	lib_fail "wait without the server: status $rc, $(out)"
lib_pass
