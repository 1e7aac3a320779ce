#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tapline status and SIGUSR1 on both ends of a UDP tunnel.  Each daemon's
# status socket is options.control in $LIB_TMP: it must be a socket of
# mode 0600 owned by root.  With the tunnel up, `tapline status --json`
# on each side must parse (jq) and name the session, state "up", udp
# and its cipher, the device and the peer; PINGS echoes through the
# tunnel must raise the packet counters by at least PINGS each way on
# both sides (keepalives are not packets; a few stray packets of the
# kernel's own are allowed), and the bytes by at least 84 per echo (IPv4
# + ICMP + 56 bytes).  The text form names the session and its state;
# an unknown session is exit 1 "no session NAME".  SIGUSR1 logs the
# counters line.  With the server gone the persistent client reports
# "reconnecting" with the seconds to its next try; once both daemons
# have exited their sockets are gone and `tapline status` exits 1 with
# "is tapline running?".
# The fields of issue 19: the server's udp_peer is the client's
# underlay address; last_rx_age_s is at most 2 right after the echoes;
# start_time and handshake_time are unix times within a minute of now;
# totals are at least the connection's counters.  After the client
# restarts, the server's totals for cobra count 2 connections and more
# packets than the new connection's; after the server restarts, the
# client's totals count 2 connections and more than its new one.
# shellcheck disable=SC2317 # functions run through lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd jq ping stat
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

PINGS=20
SLACK=10	# packets of the kernel's own that may cross too

lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli
lib_key cobra

SCONF=$LIB_TMP/server.conf
CCONF=$LIB_TMP/client.conf
SSOCK=$LIB_TMP/srv.sock
# A client daemon puts its session name into the socket path.
CSOCK=$LIB_TMP/cli-cobra.sock
cat >"$SCONF" <<CONF
options = { control = "$SSOCK"; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  proto = "udp";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
cat >"$CCONF" <<CONF
options = { control = "$LIB_TMP/cli.sock"; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  persist = true;
  device = "tl-cobra";
  address = [ "$LIB_TUN4_B/30" ];
};
CONF

lib_server srv "$SCONF"
server=$LIB_BG_PID
slog=$LIB_TMP/server-srv.log
lib_client cli "$CCONF" cobra "$LIB_UL4_A"
client=$LIB_BG_PID
clog=$LIB_TMP/client-cli-cobra.log
lib_wait_up srv tl-cobra 15 "$LIB_TUN4_A"
lib_wait_up cli tl-cobra 15 "$LIB_TUN4_B"

# status CONF ARGS...: tapline status with a time bound; the answer in
# $LIB_TMP/status.out, messages in $LIB_TMP/status.err.
status() {
	local conf=$1
	shift
	lib_run 10 "$TAPLINE" status -f "$conf" "$@" \
	    >"$LIB_TMP/status.out" 2>"$LIB_TMP/status.err"
}

# jget FILTER: one value of the last JSON answer (jq -e: null fails).
jget() {
	jq -e -r "$1" "$LIB_TMP/status.out"
}

# is_up CONF: does the daemon report cobra up?
is_up() {
	status "$1" --json cobra &&
	    [ "$(jget '.sessions[0].state')" = up ]
}

# The server learns the client's UDP address from its first datagram.
lib_wait_for 10 is_up "$SCONF" || lib_fail "the server never said up"
lib_wait_for 10 is_up "$CCONF" || lib_fail "the client never said up"
lib_wait_for 10 lib_ping cli "$LIB_TUN4_A" 1 ||
	lib_fail "no ping through the tunnel"

# The sockets: root's alone.
for s in "$SSOCK" "$CSOCK"; do
	[ -S "$s" ] || lib_fail "$s is not a socket"
	[ "$(stat -c %a:%u "$s")" = 600:0 ] ||
		lib_fail "$s has mode:owner $(stat -c %a:%u "$s"), want 600:0"
done

# counters SIDE CONF: the JSON answer, checked, in $LIB_TMP/SIDE.json.
counters() {
	local side=$1 conf=$2 mode=$3
	status "$conf" --json cobra || lib_fail "$side: tapline status --json" \
	    "failed: $(cat "$LIB_TMP/status.err")"
	jq -e . "$LIB_TMP/status.out" >/dev/null ||
		lib_fail "$side: the answer is not JSON:" \
		    "$(cat "$LIB_TMP/status.out")"
	jq -e --arg mode "$mode" '.version == 1 and .mode == $mode and
	    (.sessions | length) == 1 and
	    (.sessions[0] | .name == "cobra" and .state == "up" and
	     .transport == "udp" and (.cipher | type) == "string" and
	     .device == "tl-cobra" and (.peer | type) == "string" and
	     (.uptime_s | type) == "number" and
	     (.handshake_age_s | type) == "number" and
	     (.rx.packets | type) == "number" and
	     (.udp.datagrams_in | type) == "number" and
	     (.drops | type) == "object")' "$LIB_TMP/status.out" \
	    >/dev/null || lib_fail "$side: unexpected status:" \
	    "$(cat "$LIB_TMP/status.out")"
	cp "$LIB_TMP/status.out" "$LIB_TMP/$side.json"
}

# delta SIDE FIELD: how much .sessions[0].FIELD grew since SIDE-0.json.
delta() {
	local a b
	a=$(jq -r ".sessions[0].$2" "$LIB_TMP/$1-0.json")
	b=$(jq -r ".sessions[0].$2" "$LIB_TMP/$1.json")
	echo $((b - a))
}

counters srv "$SCONF" server
mv "$LIB_TMP/srv.json" "$LIB_TMP/srv-0.json"
counters cli "$CCONF" client
mv "$LIB_TMP/cli.json" "$LIB_TMP/cli-0.json"
lib_log "sending $PINGS echoes through the tunnel"
lib_ping cli "$LIB_TUN4_A" "$PINGS" || lib_fail "echoes were lost"
counters srv "$SCONF" server
counters cli "$CCONF" client
for side in srv cli; do
	for f in rx.packets tx.packets; do
		d=$(delta "$side" "$f")
		lib_log "$side: $f +$d"
		[ "$d" -ge "$PINGS" ] && [ "$d" -le $((PINGS + SLACK)) ] ||
			lib_fail "$side: $f grew by $d for $PINGS echoes"
	done
	for f in rx.bytes tx.bytes; do
		d=$(delta "$side" "$f")
		[ "$d" -ge $((PINGS * 84)) ] ||
			lib_fail "$side: $f grew by $d for $PINGS echoes"
	done
	d=$(delta "$side" udp.datagrams_in)
	[ "$d" -ge "$PINGS" ] ||
		lib_fail "$side: only $d datagrams in for $PINGS echoes"
done
# The new fields: where datagrams come from, liveness, times, totals.
now=$(date +%s)
jq -e --arg a "$LIB_UL4_B" --argjson now "$now" '.sessions[0] |
    (.udp_peer | startswith($a + ":")) and .last_rx_age_s <= 2 and
    (.start_time - ($now - .uptime_s) | fabs) <= 60 and
    (.handshake_time - $now | fabs) <= 3600 and
    .totals.connections == 1 and .totals.rx.packets >= .rx.packets and
    .totals.tx.bytes >= .tx.bytes and
    .totals.udp.datagrams_in >= .udp.datagrams_in' \
    "$LIB_TMP/srv.json" >/dev/null ||
	lib_fail "server: new fields: $(jq -c '.sessions[0] | {udp_peer,
	    last_rx_age_s, start_time, handshake_time, totals}' \
	    "$LIB_TMP/srv.json")"
jq -e --arg a "$LIB_UL4_A" '.sessions[0] |
    (.udp_peer | startswith($a + ":")) and .last_rx_age_s <= 2' \
    "$LIB_TMP/cli.json" >/dev/null || lib_fail "client: new fields"
# Each side sees the other's underlay address.
jq -e --arg a "$LIB_UL4_B" '.sessions[0].peer | startswith($a + ":")' \
    "$LIB_TMP/srv.json" >/dev/null || lib_fail "server: wrong peer"
jq -e --arg a "$LIB_UL4_A" '.sessions[0].peer | startswith($a + ":")' \
    "$LIB_TMP/cli.json" >/dev/null || lib_fail "client: wrong peer"

# The text form.
status "$SCONF" cobra || lib_fail "tapline status cobra failed"
grep -qx "session cobra" "$LIB_TMP/status.out" &&
    grep -qE "^  state +up$" "$LIB_TMP/status.out" &&
    grep -qE "^  rx +[0-9]+ packets, [0-9]+ bytes$" "$LIB_TMP/status.out" ||
	lib_fail "text form: $(cat "$LIB_TMP/status.out")"
status "$CCONF" cobra || lib_fail "tapline status cobra (client) failed"
grep -qx "session cobra" "$LIB_TMP/status.out" ||
	lib_fail "client text form: $(cat "$LIB_TMP/status.out")"
status "$SCONF" viper
rc=$?
[ "$rc" = 1 ] && grep -q "no session viper" "$LIB_TMP/status.err" ||
	lib_fail "unknown session: status $rc," \
	    "'$(cat "$LIB_TMP/status.err")'"

# SIGUSR1: the same counters, one line per session, in the log.
for pair in "$server:$slog" "$client:$clog"; do
	kill -USR1 "${pair%%:*}" || lib_hard_error "cannot signal ${pair%%:*}"
	lib_wait_log "${pair#*:}" 5 \
	    "cobra: state up; peer .*; rx [0-9]+ packets, [0-9]+ bytes; tx " ||
		lib_fail "no counters line after SIGUSR1 in ${pair#*:}"
done

# Lifetime totals survive reconnects.  The client again: the server's
# totals for cobra count both connections.
kill -TERM "$client"
lib_wait_pid "$client" 10 || lib_fail "the client did not exit 0"
lib_client cli "$CCONF" cobra "$LIB_UL4_A"
client=$LIB_BG_PID
clog=$LIB_TMP/client-cli-cobra.log
lib_wait_for 15 is_up "$CCONF" || lib_fail "the client did not come back"
lib_wait_for 10 lib_ping cli "$LIB_TUN4_A" 1 || lib_fail "no ping after"
lib_wait_for 10 is_up "$SCONF" || lib_fail "the server's cobra not up"
jq -e '.sessions[0] | .totals.connections == 2 and
    .totals.rx.packets > .rx.packets and
    .totals.rx.packets >= '"$(jq '.sessions[0].rx.packets' \
    "$LIB_TMP/srv.json")"'' "$LIB_TMP/status.out" >/dev/null ||
	lib_fail "server totals after a reconnect: $(jq -c \
	    '.sessions[0] | {rx, totals}' "$LIB_TMP/status.out")"
# The server again: the client's totals count both connections.
kill -TERM "$server"
lib_wait_pid "$server" 10 || lib_fail "the server did not exit 0"
lib_server srv "$SCONF"
server=$LIB_BG_PID
slog=$LIB_TMP/server-srv.log
lib_wait_for 20 is_up "$CCONF" || lib_fail "the client did not reconnect"
lib_wait_for 10 lib_ping cli "$LIB_TUN4_A" 1 || lib_fail "no ping after"
lib_wait_for 5 is_up "$CCONF" || lib_fail "the client is not up"
jq -e '.sessions[0] | .totals.connections == 2 and
    .totals.rx.packets > .rx.packets and .totals.tx.packets > .tx.packets' \
    "$LIB_TMP/status.out" >/dev/null ||
	lib_fail "client totals after a reconnect: $(jq -c \
	    '.sessions[0] | {rx, tx, totals}' "$LIB_TMP/status.out")"

# Without its server the client says when it tries again.
kill -TERM "$server"
lib_wait_pid "$server" 10 || lib_fail "the server did not exit 0"
[ ! -e "$SSOCK" ] || lib_fail "the server left $SSOCK behind"
is_reconnecting() {
	status "$CCONF" --json cobra &&
	    [ "$(jget '.sessions[0].state')" = reconnecting ] &&
	    jget '.sessions[0].retry_in_s | numbers' >/dev/null
}
lib_wait_for 10 is_reconnecting ||
	lib_fail "the client never said reconnecting:" \
	    "$(cat "$LIB_TMP/status.out")"
kill -TERM "$client"
lib_wait_pid "$client" 10 || lib_fail "the client did not exit 0"
[ ! -e "$CSOCK" ] || lib_fail "the client left $CSOCK behind"

# Nobody home.
status "$SCONF"
rc=$?
[ "$rc" = 1 ] && grep -q "is tapline running?" "$LIB_TMP/status.err" ||
	lib_fail "status without a daemon: status $rc," \
	    "'$(cat "$LIB_TMP/status.err")'"
lib_pass
