#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# up and down commands over a TCP tunnel.
#  1. Session "site-a_1" ('-' and '_' in the name), over IPv4 and then
#     IPv6: each side's up command gets %d %h %a %p %A %P substituted
#     literally, next to arguments with ';', '$(...)', backticks, a quoted
#     space and "%%"; no shell sees them.  The addresses and ports are the
#     connection's as the kernel sees it (ss); the server's %p is the
#     client's %P.  A second up command (/usr/bin/env, logged) shows the
#     environment: PATH and the six TAPLINE_* variables, nothing else.
#     The down command runs only after the session ended, when the
#     device is gone, on both sides.
#  2. Session "site-b": the client's up commands are a ping through the
#     tunnel (must get no answer: nothing is forwarded before the up
#     commands have succeeded), then "false", then a marker writer that
#     must not run.  The client closes the session with a logged error,
#     exits 1 (persist = false) and the server forwarded nothing.
#  3. Session "site-c": the server's up command is "false"; the client is
#     refused with "up command failed", never creates a device, exits 1.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping ss
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli
lib_key sitea
lib_key siteb
lib_key sitec

T=$LIB_TMP
# The commands, written once for both files.  In libconfig strings \" is
# a quote and \\ a backslash; the command splitter then takes '...'
# literally.  $1 of each sh -c script is the file it writes.
# shellcheck disable=SC2016
{
	rec_up='"/bin/sh -c '\''f=$1; shift; printf \"%%s\\n\" \"$@\" >\"$f\"'\'' sh @F@ %d %h %a %p %A %P ; $(id) `id` '\''two words'\'' x%%y"'
	rec_down='"/bin/sh -c '\''f=$1; shift; printf \"%%s\\n\" \"$@\" >\"$f\"; if ip link show \"$1\" >/dev/null 2>&1; then echo device-present; else echo device-gone; fi >>\"$f\"'\'' sh @F@ %d %h %a %p %A %P"'
	probe='"/bin/sh -c '\''ping -n -c 2 -i 0.2 -W 1 \"$2\" >\"$1\" 2>&1; echo status=$? >>\"$1\"'\'' sh @F@ 192.0.2.5"'
	marker='"/bin/sh -c '\''echo ran >\"$1\"'\'' sh @F@"'
}
# cmd TEMPLATE FILE: a command string with its output file filled in.
cmd() {
	printf '%s' "${1//@F@/"$2"}"
}

cat >"$T/server.conf" <<CONF
default = {
  proto = "tcp";
};
site-a_1 = {
  key = "$T/sitea.key";
  device = "tl-up";
  address = [ "192.0.2.1/30" ];
  up = [ $(cmd "$rec_up" "$T/srv.up"), "/usr/bin/env" ];
  down = [ $(cmd "$rec_down" "$T/srv.down") ];
};
site-b = {
  key = "$T/siteb.key";
  device = "tl-b";
  address = [ "192.0.2.5/30" ];
};
site-c = {
  key = "$T/sitec.key";
  device = "tl-c";
  address = [ "192.0.2.9/30" ];
  up = [ "false", $(cmd "$marker" "$T/srv-c.up2") ];
  down = [ $(cmd "$marker" "$T/srv-c.down") ];
};
CONF
cat >"$T/client.conf" <<CONF
default = {
  persist = false;
};
site-a_1 = {
  key = "$T/sitea.key";
  device = "tl-up";
  address = [ "192.0.2.2/30" ];
  up = [ $(cmd "$rec_up" "$T/cli.up") ];
  down = [ $(cmd "$rec_down" "$T/cli.down") ];
};
site-b = {
  key = "$T/siteb.key";
  device = "tl-b";
  address = [ "192.0.2.6/30" ];
  up = [ $(cmd "$probe" "$T/cli-b.probe"), "false",
         $(cmd "$marker" "$T/cli-b.up2") ];
  down = [ $(cmd "$marker" "$T/cli-b.down") ];
};
site-c = {
  key = "$T/sitec.key";
  device = "tl-c";
  address = [ "192.0.2.10/30" ];
  up = [ $(cmd "$marker" "$T/cli-c.up") ];
};
CONF
"$TAPLINE" -t -f "$T/server.conf" >"$T/check.out" 2>&1 ||
	lib_fail "tapline -t refuses the server's file: $(cat "$T/check.out")"

# Nothing of the daemon's own environment may reach a command.
export TAPLINE_TEST_LEAK=leaked
lib_server srv "$T/server.conf"
server=$LIB_BG_PID
unset TAPLINE_TEST_LEAK
slog=$T/server-srv.log

# expect FILE LINE...: FILE holds exactly these lines.
expect() {
	local file=$1 want got
	shift
	want=$(printf '%s\n' "$@")
	got=$(cat "$file") || lib_fail "no $file"
	[ "$got" = "$want" ] || lib_fail "$(basename "$file") differs:" \
	    $'\n'"--- expected"$'\n'"$want"$'\n'"--- got"$'\n'"$got"
}

# run_a SERVER_ADDR CLIENT_ADDR: connect site-a_1 over one underlay
# family, check the up commands on both sides, stop the client, check
# the down commands.
run_a() {
	local saddr=$1 caddr=$2 client conn port env_got env_want
	rm -f "$T"/srv.* "$T"/cli.*
	lib_client cli "$T/client.conf" site-a_1 "$saddr"
	client=$LIB_BG_PID
	lib_wait_up cli tl-up 15 192.0.2.2
	lib_wait_up srv tl-up 5 192.0.2.1
	lib_ping cli 192.0.2.1 || lib_fail "no ping through site-a_1"
	# The client's end of the connection, as the kernel has it.
	conn=$(lib_nsexec cli ss -Htn state established "( dport = :5000 )")
	[[ $conn =~ \ \[?$caddr\]?:([0-9]+)\  ]] ||
		lib_fail "no connection from $caddr in ss: $conn"
	port=${BASH_REMATCH[1]}
	lib_log "site-a_1 over $saddr: client port $port"
	# Both up commands finished before forwarding began.
	# shellcheck disable=SC2016  # literal on purpose
	expect "$T/srv.up" tl-up site-a_1 "$caddr" "$port" "$saddr" 5000 \
	    ';' '$(id)' '`id`' 'two words' 'x%y'
	# shellcheck disable=SC2016  # literal on purpose
	expect "$T/cli.up" tl-up site-a_1 "$saddr" 5000 "$caddr" "$port" \
	    ';' '$(id)' '`id`' 'two words' 'x%y'
	# /usr/bin/env's output, logged line by line by the server.
	env_want=$(printf '%s\n' \
	    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
	    TAPLINE_DEVICE=tl-up TAPLINE_SESSION=site-a_1 \
	    "TAPLINE_REMOTE_ADDR=$caddr" "TAPLINE_REMOTE_PORT=$port" \
	    "TAPLINE_LOCAL_ADDR=$saddr" TAPLINE_LOCAL_PORT=5000 | sort)
	env_got=$(diff "$slog.mark" "$slog" |
	    sed -n 's/^> tapline: up\[1\] site-a_1: \([A-Za-z_]*=\)/\1/p' |
	    sort)
	[ "$env_got" = "$env_want" ] || lib_fail "the up command's" \
	    "environment over $saddr:"$'\n'"$env_got"
	# No down command while the session runs.
	if [ -e "$T/srv.down" ] || [ -e "$T/cli.down" ]; then
		lib_fail "a down command ran while the session was up"
	fi
	kill -TERM "$client"
	lib_wait_pid "$client" 10 || lib_fail "the client did not exit 0"
	lib_wait_file "$T/srv.down" 10 ||
		lib_fail "the server's down command did not run"
	[ -s "$T/cli.down" ] || lib_fail "the client's down command did not" \
	    "run before the client exited"
	expect "$T/srv.down" tl-up site-a_1 "$caddr" "$port" "$saddr" 5000 \
	    device-gone
	expect "$T/cli.down" tl-up site-a_1 "$saddr" 5000 "$caddr" "$port" \
	    device-gone
	cp "$slog" "$slog.mark"
}

cp "$slog" "$slog.mark"
run_a "$LIB_UL4_A" "$LIB_UL4_B"
run_a "$LIB_UL6_A" "$LIB_UL6_B"

# 2. The client's second up command fails.
lib_client cli "$T/client.conf" site-b "$LIB_UL4_A"
client=$LIB_BG_PID
blog=$T/client-cli-site-b.log
lib_wait_pid "$client" 20
rc=$?
[ "$rc" = 1 ] || lib_fail "site-b's client exited with $rc, not 1"
grep -q "up\[1\] site-b: exited with status 1" "$blog" ||
	lib_fail "the client did not log the failed up command"
grep -q "site-b: closing the session with .*: up command failed" "$blog" ||
	lib_fail "the client did not close the session for the failed up"
lib_wait_log "$slog" 5 "site-b: .* closed the session: .*up command failed" ||
	lib_fail "the server did not hear why site-b closed"
grep -q "^status=1$" "$T/cli-b.probe" ||
	lib_fail "a ping went through before the up commands had succeeded:" \
	    "$(cat "$T/cli-b.probe")"
[ ! -e "$T/cli-b.up2" ] || lib_fail "an up command after the failed one ran"
! grep -q "site-b: up with" "$blog" || lib_fail "site-b came up on the client"
lib_wait_log "$slog" 5 "site-b: session with .* lasted" ||
	lib_fail "no summary of site-b on the server"
grep -q "site-b: session with .* received 0 packets" "$slog" ||
	lib_fail "the server received packets of site-b"
lib_wait_for 5 lib_not lib_nsexec cli ip link show tl-b ||
	lib_fail "the client kept tl-b after the failed up"
lib_wait_for 5 lib_not lib_nsexec srv ip link show tl-b ||
	lib_fail "the server kept tl-b after site-b closed"
# Observed, not required by the man page: down runs after a failed up.
if [ -e "$T/cli-b.down" ]; then
	lib_log "site-b: the client ran its down command after the failed up"
else
	lib_log "site-b: the client did not run its down command"
fi

# 3. The server's up command fails.
lib_client cli "$T/client.conf" site-c "$LIB_UL4_A"
client=$LIB_BG_PID
clog=$T/client-cli-site-c.log
lib_wait_pid "$client" 20
rc=$?
[ "$rc" = 1 ] || lib_fail "site-c's client exited with $rc, not 1"
grep -q "up\[0\] site-c: exited with status 1" "$slog" ||
	lib_fail "the server did not log the failed up command"
grep -q "site-c: closing the session with .*: up command failed" "$slog" ||
	lib_fail "the server did not close site-c for the failed up"
grep -q "site-c: .* closed the session: .*up command failed" "$clog" ||
	lib_fail "the client did not log why site-c was closed"
! grep -q "site-c: up with" "$clog" "$slog" || lib_fail "site-c came up"
[ ! -e "$T/srv-c.up2" ] || lib_fail "the server ran a second up command"
[ ! -e "$T/cli-c.up" ] || lib_fail "the client ran its up command"
lib_wait_for 5 lib_not lib_nsexec srv ip link show tl-c ||
	lib_fail "the server kept tl-c after the failed up"
lib_nsexec cli ip link show tl-c >/dev/null 2>&1 &&
	lib_fail "the client created tl-c"
if lib_wait_file "$T/srv-c.down" 5; then
	lib_log "site-c: the server ran its down command after the failed up"
else
	lib_log "site-c: the server did not run its down command"
fi

kill -0 "$server" || lib_fail "the server died"
lib_pass
