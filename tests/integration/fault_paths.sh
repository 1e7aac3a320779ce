#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Local resources missing at start (issue 7, fault tests):
#  1. the status socket's directory is on a full file system (a tmpfs
#     with no free inode): the server says which path it cannot create
#     and why, goes on without a status socket, and a client still gets a
#     working tunnel;
#  2. the status socket path is under /proc (no directory can be made):
#     the same;
#  2b. the status socket's directory is writable by others (mode 0777):
#     the server names it and the mode, makes no socket there, and
#     serves, the same tier;
#  3. /dev/net/tun is missing in the server's mount namespace (a tmpfs
#     over /dev/net): the server logs the device failure with the path
#     and the reason, closes the session with an error the client logs,
#     and keeps running; the persistent client keeps retrying.  Neither
#     crashes.
# shellcheck disable=SC2317 # functions run by lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping unshare mount touch
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli
lib_key cobra

# A full file system for case 1, mounted only in the server's own mount
# namespace (unshare -m below): a tmpfs whose inodes are all used up.
full=$LIB_TMP/full
mkdir -p "$full"
FILL='mount -t tmpfs -o size=64k,nr_inodes=4 tapline-full "$3" &&
    { for i in 1 2 3 4 5 6; do touch "$3/f$i" 2>/dev/null; done; true; }'

cat >"$LIB_TMP/client.conf" <<CONF
options = { control = "$LIB_TMP/cli.sock"; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_B/30" ];
};
CONF

# server_conf CONTROL
server_conf() {
	cat >"$LIB_TMP/server.conf" <<CONF
options = { control = "$1"; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
}

# still_works CONTROL WHY [PREP]: with the shell commands PREP run in the
# server's own mount namespace first, the server warns that it cannot
# create CONTROL (WHY, a regex after "status: "), and serves.
still_works() {
	local ctl=$1 why=$2 prep=${3:-:} server client
	local slog=$LIB_TMP/server-srv.log
	rm -f "$slog" "$LIB_TMP/client-cli-cobra.log"
	server_conf "$ctl"
	# shellcheck disable=SC2016 # sh expands them
	lib_bg_ns srv unshare -m sh -c "$prep"' && exec "$1" -n -v -s -f "$2"' \
	    sh "$TAPLINE" "$LIB_TMP/server.conf" "$full" >>"$slog" 2>&1
	server=$LIB_BG_PID
	lib_wait_for 10 grep -q "listening on" "$slog" ||
		lib_fail "the server did not start ($ctl): $(cat "$slog")"
	lib_wait_log "$slog" 5 "status: $why" ||
		lib_fail "no clear message for $ctl ($why): $(cat "$slog")"
	[ ! -S "$ctl" ] || lib_fail "a status socket was made at $ctl"
	lib_log "server: $(grep "status: " "$slog" | head -n 1)"
	lib_client cli "$LIB_TMP/client.conf" cobra "$LIB_UL4_A"
	client=$LIB_BG_PID
	lib_wait_up cli tl-cobra 15 "$LIB_TUN4_B"
	lib_wait_for 10 lib_ping cli "$LIB_TUN4_A" 1 ||
		lib_fail "no tunnel without a status socket ($ctl)"
	kill -TERM "$client" "$server"
	lib_wait_pid "$client" 10 || lib_fail "the client did not exit 0"
	lib_wait_pid "$server" 10 || lib_fail "the server did not exit 0"
}

still_works "$full/sub/tapline.sock" "cannot create .*No space left on device" \
    "$FILL"
still_works "/proc/tapline-test/tapline.sock" \
    "cannot create .*No such file or directory"
mkdir -m 0777 "$LIB_TMP/open"
chmod 0777 "$LIB_TMP/open"
still_works "$LIB_TMP/open/tapline.sock" \
    "$LIB_TMP/open is writable by group or others \\(mode 0777\\)"

# 3. No /dev/net/tun for the server.
rm -f "$LIB_TMP/server-srv.log" "$LIB_TMP/client-cli-cobra.log"
server_conf "$LIB_TMP/srv.sock"
slog=$LIB_TMP/server-srv.log
clog=$LIB_TMP/client-cli-cobra.log
# shellcheck disable=SC2016 # sh expands them
lib_bg_ns srv unshare -m sh -c 'mount -t tmpfs none /dev/net &&
    exec "$1" -n -v -s -f "$2"' sh "$TAPLINE" "$LIB_TMP/server.conf" \
    >>"$slog" 2>&1
server=$LIB_BG_PID
lib_wait_for 10 grep -q "listening on" "$slog" || lib_fail "no server"
lib_client cli "$LIB_TMP/client.conf" cobra "$LIB_UL4_A"
client=$LIB_BG_PID
lib_wait_log "$slog" 15 "device setup failed: .*/dev/net/tun: No such file" ||
	lib_fail "the server did not say /dev/net/tun is missing"
lib_wait_log "$clog" 15 "reconnecting in" ||
	lib_fail "the client did not go on retrying"
lib_log "server: $(grep -m1 "device setup failed" "$slog")"
lib_log "client: $(grep -m1 "closed\|CLOSE\|error" "$clog")"
lib_nsexec srv ip link show tl-cobra >/dev/null 2>&1 &&
	lib_fail "a device exists although /dev/net/tun does not"
kill -0 "$server" || lib_fail "the server died"
kill -0 "$client" || lib_fail "the client died"
kill -TERM "$client" "$server"
lib_wait_pid "$client" 10 || lib_fail "the client did not exit 0"
lib_wait_pid "$server" 10 || lib_fail "the server did not exit 0"
lib_pass
