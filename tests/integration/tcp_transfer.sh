#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Bulk data through a TCP tunnel: a 64 MiB file goes client -> server and
# server -> client with nc and must arrive with the same sha256, first in
# a session without compression, then in one whose server side says
# compress = "zlib:1" (the client's file does not: it follows the
# server).  The file is mostly /dev/urandom output (incompressible: zlib
# falls back to raw frames) plus zeros and base64 text, so that the zlib
# run really sends compressed frames both ways; the server's summary line
# must say so.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd nc ss sha256sum cmp base64
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

PORT=5001
# TAPLINE_TEST_OFFLOAD=false (tcp_transfer_nooffload.sh) runs it all again
# without the offloads (options.offload), which are on by default.
OFFLOAD=${TAPLINE_TEST_OFFLOAD:-true}
case $OFFLOAD in
true | false) ;;
*) lib_hard_error "TAPLINE_TEST_OFFLOAD must be true or false" ;;
esac
lib_log "options.offload = $OFFLOAD"

lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli
lib_key plain
lib_key zipped

# Two sessions on one server: the same key cannot serve both.
cat >"$LIB_TMP/server.conf" <<CONF
options = { offload = $OFFLOAD; };
default = {
  proto = "tcp";
};
plain = {
  key = "$LIB_TMP/plain.key";
  device = "tl-plain";
  address = [ "192.0.2.1/30" ];
};
zipped = {
  key = "$LIB_TMP/zipped.key";
  device = "tl-zip";
  compress = "zlib:1";
  address = [ "192.0.2.5/30" ];
};
CONF
cat >"$LIB_TMP/client.conf" <<CONF
options = { offload = $OFFLOAD; };
default = {
  persist = false;
};
plain = {
  key = "$LIB_TMP/plain.key";
  device = "tl-plain";
  address = [ "192.0.2.2/30" ];
};
zipped = {
  key = "$LIB_TMP/zipped.key";
  device = "tl-zip";
  address = [ "192.0.2.6/30" ];
};
CONF

# 64 MiB: 28 MiB random, 4 MiB zeros, 32 MiB base64 of 24 MiB random.
data=$LIB_TMP/data
{
	head -c $((28 << 20)) /dev/urandom
	head -c $((4 << 20)) /dev/zero
	head -c $((24 << 20)) /dev/urandom | base64 -w 0
} >"$data" || lib_hard_error "cannot create $data"
[ "$(stat -c %s "$data")" = $((64 << 20)) ] ||
	lib_hard_error "$data is not 64 MiB"
sum=$(sha256sum <"$data") || lib_hard_error "sha256sum failed"

lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
slog=$LIB_TMP/server-srv.log

# Is something listening on TCP port $PORT in namespace $1?
# shellcheck disable=SC2317  # called through lib_wait_for
listening() {
	lib_nsexec "$1" ss -Hltn "sport = :$PORT" | grep -q .
}

# push FROM TO TO_ADDR OUT: send the file from namespace FROM to a
# receiver in namespace TO and compare what arrived.
push() {
	local from=$1 to=$2 addr=$3 out=$4 rx rc got
	lib_bg_ns "$to" nc -d -l "$addr" "$PORT" >"$out"
	rx=$LIB_BG_PID
	lib_wait_for 5 listening "$to" ||
		lib_fail "nc in $(lib_ns "$to") does not listen on $addr"
	# shellcheck disable=SC2016  # sh expands them
	lib_run 60 ip netns exec "$(lib_ns "$from")" \
	    sh -c 'exec nc -N "$1" "$2" <"$3"' sh "$addr" "$PORT" "$data"
	rc=$?
	[ "$rc" = 0 ] || lib_fail "sending $from -> $to ($addr) failed" \
	    "(status $rc)"
	lib_wait_pid "$rx" 10 ||
		lib_fail "the receiver in $(lib_ns "$to") did not finish"
	got=$(sha256sum <"$out")
	[ "$got" = "$sum" ] || lib_fail "$from -> $to: sha256 differs" \
	    "($(stat -c %s "$out") of $((64 << 20)) bytes arrived)"
	lib_log "$from -> $to: 64 MiB arrived intact"
}

# run SESSION DEV SRV_ADDR CLI_ADDR: one client session, the file both
# ways, then the client stops.
run() {
	local session=$1 dev=$2 saddr=$3 caddr=$4 client
	lib_client cli "$LIB_TMP/client.conf" "$session" "$LIB_UL4_A"
	client=$LIB_BG_PID
	lib_wait_up cli "$dev" 15 "$caddr"
	lib_wait_up srv "$dev" 5 "$saddr"
	push cli srv "$saddr" "$LIB_TMP/$session.at-server"
	push srv cli "$caddr" "$LIB_TMP/$session.at-client"
	kill -TERM "$client"
	lib_wait_pid "$client" 10 ||
		lib_fail "the $session client did not exit 0 on SIGTERM"
	lib_wait_log "$slog" 10 "$session: session with .* lasted" ||
		lib_fail "the server logged no summary for $session"
}

run plain tl-plain 192.0.2.1 192.0.2.2
run zipped tl-zip 192.0.2.5 192.0.2.6

# The zlib run: byte for byte, not only by checksum.
cmp -s "$data" "$LIB_TMP/zipped.at-server" ||
	lib_fail "client -> server with zlib: the file differs (cmp)"
cmp -s "$data" "$LIB_TMP/zipped.at-client" ||
	lib_fail "server -> client with zlib: the file differs (cmp)"

# VORACLE: the server warns for the compressed session only.
grep -q "zipped: compression is on: .*VORACLE" "$slog" ||
	lib_fail "the server did not warn about compression (VORACLE)"
! grep -q "plain: compression is on" "$slog" ||
	lib_fail "the server warned about compression for 'plain'"
grep -q "zipped: using compress zlib:1 as the server says" \
    "$LIB_TMP/client-cli-zipped.log" ||
	lib_fail "the client did not follow the server's compress setting"
grep -q "zipped: up with .*zlib on" "$LIB_TMP/client-cli-zipped.log" ||
	lib_fail "the client's zipped session did not run with zlib on"
grep -q "plain: up with .*compression off" "$LIB_TMP/client-cli-plain.log" ||
	lib_fail "the client's plain session did not run without compression"

# Compressed frames really went both ways, and nothing was dropped.
summary=$(grep "zipped: session with .* lasted" "$slog")
[[ $summary =~ zlib:\ ([0-9]+)\ of\ ([0-9]+)\ packets\ compressed ]] ||
	lib_fail "no zlib figures in the server's summary: $summary"
[ "${BASH_REMATCH[1]}" -gt 0 ] ||
	lib_fail "the server compressed no packet: $summary"
[ "${BASH_REMATCH[1]}" -lt "${BASH_REMATCH[2]}" ] ||
	lib_fail "the server compressed every packet, even random data:" \
	    "$summary"
for log in "$slog" "$LIB_TMP"/client-cli-*.log; do
	grep "session with .* lasted" "$log" | grep -qv "dropped 0 " &&
		lib_fail "$(basename "$log"): packets were dropped"
done
grep -q "compression off" <<<"$(grep "plain: session with" "$slog")" ||
	lib_fail "the plain session's summary does not say compression off"

kill -0 "$server" || lib_fail "the server died"
lib_pass
