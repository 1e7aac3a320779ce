#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The underlay goes down for 20 s and comes back (issue 7, fault tests),
# over UDP and over TCP.  Before the outage an inner TCP connection
# (nc, client -> server through the tunnel) carries a first line; the
# client's underlay link is then down for 20 s, shorter than the
# session's `timeout` (60 s) and than the inner TCP's retry time.  When
# it is back, the same daemons (no restart: the client's PID is the same
# and its log shows no second "up") must carry ping again within 60 s,
# and the same inner TCP connection must deliver a second line, so that
# the server's nc receives exactly both lines.
# shellcheck disable=SC2317 # functions run by lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd nc ss ping mkfifo
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

PORT=5001
OUTAGE=20
lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli
lib_key cobra

for proto in udp tcp; do
	lib_log "$proto: the underlay is down for $OUTAGE s"
	cat >"$LIB_TMP/server.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  proto = "$proto";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
	cat >"$LIB_TMP/client.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_B/30" ];
};
CONF
	rm -f "$LIB_TMP"/server-srv.log "$LIB_TMP"/client-cli-cobra.log
	lib_server srv "$LIB_TMP/server.conf"
	server=$LIB_BG_PID
	lib_client cli "$LIB_TMP/client.conf" cobra "$LIB_UL4_A"
	client=$LIB_BG_PID
	clog=$LIB_TMP/client-cli-cobra.log
	lib_wait_up cli tl-cobra 15 "$LIB_TUN4_B"
	lib_wait_up srv tl-cobra 5 "$LIB_TUN4_A"
	lib_wait_for 10 lib_ping cli "$LIB_TUN4_A" 1 || lib_fail "no ping"

	# The inner connection: the client's nc reads a fifo kept open.
	out=$LIB_TMP/inner-$proto.out fifo=$LIB_TMP/inner-$proto.fifo
	rm -f "$fifo"
	mkfifo "$fifo"
	lib_bg_ns srv nc -d -l "$LIB_TUN4_A" "$PORT" >"$out"
	rx=$LIB_BG_PID
	lib_wait_for 5 lib__listening srv "$PORT" || lib_fail "nc does not listen"
	# Read-write: opening a fifo so never blocks, and fd 9 stays its
	# one writer until closed (then nc sees the end of its input).
	exec 9<>"$fifo"
	# (sh redirects: a background job's own stdin would be /dev/null)
	# shellcheck disable=SC2016 # sh expands them
	# and it must not hold fd 9, a writer of its own input, either.
	lib_bg_ns cli sh -c 'exec 9>&- nc -N "$1" "$2" <"$3"' sh \
	    "$LIB_TUN4_A" "$PORT" "$fifo"
	tx=$LIB_BG_PID
	echo "before the outage" >&9
	lib_wait_for 10 grep -q "before the outage" "$out" ||
		lib_fail "$proto: the first line did not cross"

	lib_nsexec cli ip link set ul0 down
	sleep "$OUTAGE"	# the outage itself, not a synchronisation
	lib_nsexec cli ip link set ul0 up
	echo "after the outage" >&9
	lib_wait_for 60 lib_ping cli "$LIB_TUN4_A" 1 ||
		lib_fail "$proto: no ping within 60 s after the outage"
	lib_wait_for 60 grep -q "after the outage" "$out" ||
		lib_fail "$proto: the inner TCP connection did not survive"
	exec 9>&-
	lib_wait_pid "$tx" 10 || lib_fail "$proto: the inner sender failed"
	lib_wait_pid "$rx" 10 || lib_fail "$proto: the inner receiver failed"
	[ "$(cat "$out")" = "before the outage
after the outage" ] || lib_fail "$proto: the inner stream is not the two" \
	    "lines: $(head -c 200 "$out")"
	kill -0 "$client" || lib_fail "$proto: the client exited"
	[ "$(grep -c "cobra: up with" "$clog")" = 1 ] ||
		lib_fail "$proto: the client reconnected instead of riding it out"
	lib_log "$proto: same session, same inner TCP connection after" \
	    "$OUTAGE s without a link"
	kill -TERM "$client" "$server"
	lib_wait_pid "$client" 10 || lib_fail "$proto: the client did not exit 0"
	lib_wait_pid "$server" 10 || lib_fail "$proto: the server did not exit 0"
done
lib_pass
