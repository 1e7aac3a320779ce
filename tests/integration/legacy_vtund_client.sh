#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# legacy = "vtun" as the server of Debian's real vtund 3.0.4 client: for
# every row of legacy_lib.sh's table (TCP and UDP, tun and tap, encrypt
# none, the three ECB ciphers, zlib) a vtund client connects to the
# tapline server, and pings and a sha256-checked file go both ways; the
# first row is also shown by `tapline status` with its counters.  The
# same port still serves a native tapline client (the server tells the
# two apart by who speaks first).  A wrong password, a HOST naming the
# native session and an unknown HOST all fail alike and are logged, and
# the pre-authentication caps and deadline hold for vtund clients.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"
# shellcheck source=legacy_lib.sh
. "$(dirname "$lib")/legacy_lib.sh"

lib_require_root
lib_require_cmd jq
legacy_require
legacy_netns
lib_key native

legacy_tapline_conf server "$LIB_TMP/tapline.conf"
legacy_vtund_conf client "$LIB_TMP/vtund.conf"
# One native session next to the legacy ones, on the same port.
cat >>"$LIB_TMP/tapline.conf" <<CONF
nat = {
  legacy = "";
  key = "$LIB_TMP/native.key";
  proto = "tcp";
  device = "tl-nat";
  address = [ "192.0.2.101/30" ];
};
CONF
cat >"$LIB_TMP/native.conf" <<CONF
options = { port = $LEGACY_PORT; control = "$LIB_TMP/native.sock"; };
nat = {
  key = "$LIB_TMP/native.key";
  persist = false;
  device = "tl-nat";
  address = [ "192.0.2.102/30" ];
};
CONF

lib_server srv "$LIB_TMP/tapline.conf"
server=$LIB_BG_PID
slog=$LIB_TMP/server-srv.log
grep -q "legacy vtund sessions are configured" "$slog" ||
	lib_fail "the server did not warn that legacy sessions are served"

# vtund_client I [CONF]: a vtund client for session rI, PID in $vpid.
vtund_client() {
	lib_bg_ns cli env OPENSSL_CONF="$OPENSSL_CONF_VTUND" "$VTUND" -n \
	    -f "${2:-$LIB_TMP/vtund.conf}" -P "$LEGACY_PORT" "$1" \
	    "$LIB_UL4_A" >>"$LIB_TMP/vtund-$1.log" 2>&1
	vpid=$LIB_BG_PID
}

i=0
for row in "${LEGACY_ROWS[@]}"; do
	i=$((i + 1))
	vtund_client "r$i"
	legacy_check_row "$i" srv cli
	lib_wait_log "$slog" 5 "r$i: legacy vtund session with .*NOT secure" ||
		lib_fail "row $i: no insecurity warning at the start"
	if [ "$i" = 1 ]; then
		lib_run 10 "$TAPLINE" status -f "$LIB_TMP/tapline.conf" \
		    --json r1 >"$LIB_TMP/status.json" ||
			lib_fail "tapline status failed"
		jq -e '.sessions[0] | .state == "up" and
		    (.cipher | startswith("vtun")) and .rx.packets > 0 and
		    .tx.packets > 0' "$LIB_TMP/status.json" >/dev/null ||
			lib_fail "status does not show r1 up with counters:" \
			    "$(cat "$LIB_TMP/status.json")"
	fi
	kill -TERM "$vpid"
	lib_wait_pid "$vpid" 10
	# The server ends the session on vtund's close frame.
	lib_wait_log "$slog" 10 "r$i: session with .* lasted" ||
		lib_fail "row $i: the server logged no end of the session"
	lib_wait_for 10 lib_not lib_nsexec srv ip link show "tl-r$i" ||
		lib_fail "row $i: the server kept tl-r$i"
done

# A native client on the same port: the first byte tells TLS apart.
lib_client cli "$LIB_TMP/native.conf" nat "$LIB_UL4_A"
native=$LIB_BG_PID
lib_wait_up cli tl-nat 15 192.0.2.102
lib_wait_for 10 lib_ping cli 192.0.2.101 1 ||
	lib_fail "no ping through the native session next to legacy ones"
kill -TERM "$native"
lib_wait_pid "$native" 10 || lib_fail "the native client did not exit 0"

# Refused alike: a wrong password, the native session's name, no such
# session.  vtund says the server denied it; the server logs each.
legacy_vtund_conf client "$LIB_TMP/wrong.conf" NotThePassphrase
sed 's/^r1 {/nat {/; s/^r2 {/nosuch {/' "$LIB_TMP/wrong.conf" \
    >"$LIB_TMP/names.conf"
for try in "r1 wrong" "nat names" "nosuch names"; do
	read -r host conf <<<"$try"
	vtund_client "$host" "$LIB_TMP/$conf.conf"
	lib_wait_pid "$vpid" 15
	grep -q "Connection denied" "$LIB_TMP/vtund-$host.log" ||
		lib_fail "vtund as $host was not denied:" \
		    "$(cat "$LIB_TMP/vtund-$host.log")"
	lib_wait_log "$slog" 5 "vtund authentication from .* for \"$host\" failed" ||
		lib_fail "the server did not log the failure for $host"
done
! lib_nsexec srv ip link show tl-r1 >/dev/null 2>&1 ||
	lib_fail "a refused vtund client got a device"

# A silent client is greeted; garbage instead of HOST gets ERR, and the
# log shows the peer's bytes escaped.
# shellcheck disable=SC2016 # sh expands them
lib_run 15 ip netns exec "$(lib_ns cli)" sh -c '(sleep 1.5;
    { printf "\033[31mGET / HTTP/1.0\n"; head -c 50 /dev/zero; } |
    head -c 50; sleep 1) | nc -q 2 "$1" "$2" >"$3"' sh "$LIB_UL4_A" \
    "$LEGACY_PORT" "$LIB_TMP/garbage.out"
grep -qa "^VTUN server ver" "$LIB_TMP/garbage.out" ||
	lib_fail "a silent client was not greeted as by vtund"
grep -qa "ERR" "$LIB_TMP/garbage.out" ||
	lib_fail "garbage instead of HOST did not get ERR"
lib_wait_log "$slog" 5 'refused: expected HOST, got "\\x1b\[31mGET' ||
	lib_fail "the server did not log the garbage escaped"

# Pre-authentication limits hold for vtund clients too: of nine silent
# connections from one address the ninth is refused (8 per address), and
# the others are greeted and then dropped at the handshake deadline.
silent=()
for k in 1 2 3 4 5 6 7 8 9; do
	lib_bg_ns cli nc -d "$LIB_UL4_A" "$LEGACY_PORT" >/dev/null 2>&1
	silent+=("$LIB_BG_PID")
done
lib_wait_log "$slog" 10 "refusing a connection from 198\.51\.100\.2.*: 8 unauthenticated" ||
	lib_fail "the ninth silent connection was not refused"
lib_wait_log "$slog" 20 "did not finish the vtund handshake in 10 s" ||
	lib_fail "silent vtund connections were not dropped at the deadline"
for pid in "${silent[@]}"; do
	lib_wait_pid "$pid" 10 >/dev/null
done
lib_log "pre-auth: $(grep -c "did not finish the vtund handshake" "$slog")" \
    "silent connections dropped at the deadline, the ninth refused"

kill -0 "$server" || lib_fail "the server died"
lib_pass
