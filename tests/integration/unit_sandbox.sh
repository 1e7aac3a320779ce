#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The daemons as the shipped units start them, without systemd: User=,
# AmbientCapabilities=, CapabilityBoundingSet=, ExecStart= and
# ExecReload= are read from the generated units (systemd/*.service in
# the build tree) and applied with setpriv, and the test is the service
# manager (NOTIFY_SOCKET, tests/tools/notifyrecv).  With the key files
# made by root's `tapline genkey` (tapline's, 0600) and the config
# root:tapline 0640:
#   - the client started before its server says "connecting to ...
#     (attempt 1)" and "attempt N failed: ...; next in S s", and no
#     READY=1;
#   - both daemons run as tapline with CAP_NET_ADMIN alone (effective,
#     permitted, bounding, ambient); the server's options.user =
#     "tapline" is a no-op, the client's options.user = "nobody" is
#     not applied (not root, no CAP_SETUID) and neither fails;
#   - the server says READY=1 once it listens; the client says READY=1
#     only when the tunnel is up: at that moment its device exists, its
#     up command has run (with CAP_NET_ADMIN ambient and effective,
#     as tapline) and a ping goes through;
#   - root's `tapline status` reads the client's socket in the
#     tapline-owned runtime directory;
#   - the unit's ExecReload check passes as tapline, and fails with the
#     error for a broken file;
#   - a new key on both sides and SIGHUP: both re-read the key files as
#     tapline, the session comes back and pings; every READY=1 after
#     the first answers a RELOADING=1.
# The test creates the tapline system user if it is missing (with the
# repository's sysusers.d entry, else useradd) and leaves it.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping setpriv
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"
lib_require_bin NOTIFYRECV "${top_builddir:-.}/tests/tools/notifyrecv"
: "${top_builddir:=.}" "${top_srcdir:=.}"
units=$top_builddir/systemd
for u in tapline@.service tapline-server.service; do
	[ -f "$units/$u" ] || lib_hard_error "no $units/$u (run through make check)"
done

if ! id tapline >/dev/null 2>&1; then
	if command -v systemd-sysusers >/dev/null 2>&1; then
		systemd-sysusers "$top_srcdir/systemd/tapline.sysusers" ||
			lib_hard_error "systemd-sysusers could not create tapline"
	else
		useradd --system --user-group --no-create-home \
		    --home-dir /nonexistent --shell /usr/sbin/nologin tapline ||
			lib_hard_error "useradd could not create tapline"
	fi
	lib_log "created the system user tapline (left in place)"
fi
uid=$(id -u tapline) && gid=$(id -g tapline) ||
	lib_hard_error "no tapline user"

# unit_get UNIT KEY: the values of KEY= in the generated unit, one a line.
unit_get() {
	sed -n "s/^$2=//p" "$units/$1"
}

# caps_setpriv "CAP_A CAP_B": "+a,+b", setpriv's form.
caps_setpriv() {
	local c out=
	for c in $1; do
		c=${c#CAP_}
		out+=${out:+,}+${c,,}
	done
	echo "$out"
}

# sandbox UNIT: the setpriv command line for the unit's User=, Group=,
# AmbientCapabilities= and CapabilityBoundingSet=, into the array SP.
sandbox() {
	local user group amb bnd
	user=$(unit_get "$1" User) && group=$(unit_get "$1" Group) &&
		amb=$(unit_get "$1" AmbientCapabilities) &&
		bnd=$(unit_get "$1" CapabilityBoundingSet) ||
		lib_hard_error "cannot read $1"
	[ "$user" = tapline ] && [ "$group" = tapline ] ||
		lib_fail "$1 runs as $user:$group, not tapline:tapline"
	[ -n "$amb" ] && [ -n "$bnd" ] ||
		lib_fail "$1 sets no AmbientCapabilities= or bounding set"
	SP=(setpriv --reuid="$user" --regid="$group" --clear-groups
	    --inh-caps="-all,$(caps_setpriv "$amb")"
	    --ambient-caps="$(caps_setpriv "$amb")"
	    --bounding-set="-all,$(caps_setpriv "$bnd")")
}

# exec_line UNIT KEY CONF [EXTRA...]: the unit's KEY= command line (the
# first one) with the build's binary, "-f CONF EXTRA..." before any
# "--" (else at the end) and %i = cobra, into the array CMD.
exec_line() {
	local unit=$1 key=$2 conf=$3 words w placed=
	shift 3
	words=$(unit_get "$unit" "$key" | head -n 1)
	[ -n "$words" ] || lib_fail "$unit has no $key="
	# shellcheck disable=SC2206 # the unit's words, as systemd splits them
	words=($words)
	[[ ${words[0]} == */tapline ]] ||
		lib_fail "$key= of $unit runs ${words[0]}"
	CMD=("$TAPLINE")
	for w in "${words[@]:1}"; do
		if [ "$w" = -- ] && [ -z "$placed" ]; then
			CMD+=(-f "$conf" "$@")
			placed=1
		fi
		CMD+=("${w//%i/cobra}")
	done
	[ -n "$placed" ] || CMD+=(-f "$conf" "$@")
}

lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli

# The test's directory stands in for /etc/tapline and /run/tapline: the
# service user must reach into it, and own the runtime directory.
chmod 0711 "$LIB_TMP" || lib_hard_error "chmod $LIB_TMP"
install -d -m 0700 -o tapline -g tapline "$LIB_TMP/run" "$LIB_TMP/out" ||
	lib_hard_error "cannot make the tapline directories"

# Root's genkey makes the keys tapline's (and says so).
"$TAPLINE" genkey "$LIB_TMP/new.key" 2>"$LIB_TMP/genkey.err" ||
	lib_fail "genkey failed: $(cat "$LIB_TMP/genkey.err")"
grep -q "owned by the user and group of tapline" "$LIB_TMP/genkey.err" ||
	lib_fail "genkey did not say the key is tapline's: $(cat "$LIB_TMP/genkey.err")"
[ "$(stat -c '%u:%g %a' "$LIB_TMP/new.key")" = "$uid:$gid 600" ] ||
	lib_fail "genkey made $(stat -c '%U:%G %a' "$LIB_TMP/new.key"), not tapline:tapline 600"
mv "$LIB_TMP/new.key" "$LIB_TMP/srv.key" &&
	cp -p "$LIB_TMP/srv.key" "$LIB_TMP/cli.key" ||
	lib_hard_error "cannot place the keys"

# config NAME TEXT: NAME.conf, root:tapline 0640 as tapline(8) says.
config() {
	printf '%s\n' "$2" >"$LIB_TMP/$1.conf" &&
		chgrp tapline "$LIB_TMP/$1.conf" &&
		chmod 0640 "$LIB_TMP/$1.conf" ||
		lib_hard_error "cannot write $1.conf"
}
config server "options = { user = \"tapline\"; control = \"$LIB_TMP/run/server.sock\"; };
cobra = {
  key = \"$LIB_TMP/srv.key\";
  device = \"tl-cobra\";
  keepalive = 1;
  address = [ \"$LIB_TUN4_A/30\" ];
};"
config client "options = { user = \"nobody\"; control = \"$LIB_TMP/run/tapline.sock\"; };
cobra = {
  key = \"$LIB_TMP/cli.key\";
  server = \"$LIB_UL4_A\";
  device = \"tl-cobra\";
  address = [ \"$LIB_TUN4_B/30\" ];
  up = [ \"rm -f $LIB_TMP/out/up.status\",
         \"cp /proc/self/status $LIB_TMP/out/up.status\",
         \"ip link set %d txqueuelen 777\" ];
};"

# The managers' ends, which the service user may write to.
for side in srv cli; do
	lib_bg "$NOTIFYRECV" "$LIB_TMP/$side.sock" 90 >"$LIB_TMP/$side.notify" \
	    2>>"$LIB_TMP/notifyrecv.log"
	lib_wait_for 5 test -S "$LIB_TMP/$side.sock" ||
		lib_hard_error "notifyrecv did not bind $LIB_TMP/$side.sock"
	chown tapline "$LIB_TMP/$side.sock" ||
		lib_hard_error "chown $LIB_TMP/$side.sock"
done

has() {
	grep -qE "^$2 ($3)\$" "$1"
}
count() {
	grep -cE "^$2 ($3)\$" "$1"
}
expect() {
	lib_wait_for "$1" has "$2" "$3" "$4" ||
		lib_fail "no $5 from PID $3 within $1 s; got:
$(cat "$2")"
}

# /dev/net/tun with Debian's mode in the daemons' own mount namespaces
# (ip netns exec makes one), whatever this machine has.
mknod -m 0666 "$LIB_TMP/tun" c 10 200 || lib_skip "cannot make a tun node"

# start SHORT UNIT CONF LOG: the daemon as UNIT runs it, in SHORT.
start() {
	sandbox "$2"
	exec_line "$2" ExecStart "$3" -v
	lib_bg_ns "$1" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
	    NOTIFY_SOCKET="$LIB_TMP/$1.sock" sh -c \
	    'mount --bind "$0" /dev/net/tun && exec "$@"' "$LIB_TMP/tun" \
	    "${SP[@]}" "${CMD[@]}" >>"$4" 2>&1
}

# caps_only PID WHAT: the process runs as tapline with CAP_NET_ADMIN
# alone in every set.
caps_only() {
	local st=/proc/$1/status set v
	grep -qE "^Uid:[[:space:]]+$uid[[:space:]]+$uid[[:space:]]+$uid[[:space:]]" "$st" ||
		lib_fail "$2 does not run as tapline: $(grep ^Uid "$st")"
	grep -qE "^Gid:[[:space:]]+$gid[[:space:]]+$gid[[:space:]]+$gid[[:space:]]" "$st" ||
		lib_fail "$2 does not run as group tapline: $(grep ^Gid "$st")"
	for set in CapEff CapPrm CapBnd CapAmb; do
		v=$(sed -n "s/^$set:[[:space:]]*//p" "$st")
		[ "$v" = 0000000000001000 ] ||
			lib_fail "$2: $set is $v, not CAP_NET_ADMIN (0000000000001000) alone"
	done
}

# 1. The client first, its server not there yet: attempts, no READY=1.
start cli tapline@.service "$LIB_TMP/client.conf" "$LIB_TMP/client.log"
client=$LIB_BG_PID
expect 10 "$LIB_TMP/cli.notify" "$client" \
    "STATUS=connecting to $LIB_UL4_A \\(attempt 1\\)" "client STATUS=connecting"
expect 10 "$LIB_TMP/cli.notify" "$client" \
    "STATUS=attempt 1 failed: .*; next in [0-9.]+ s" \
    "client STATUS=attempt 1 failed ... next in"
caps_only "$client" "the client"
grep -q 'options.user = "nobody" not applied' "$LIB_TMP/client.log" ||
	lib_fail "the client did not say options.user was not applied"
if has "$LIB_TMP/cli.notify" "$client" "READY=1"; then
	lib_fail "the client said READY=1 without a server"
fi
[ ! -e "$LIB_TMP/out/up.status" ] || lib_fail "an up command ran without a tunnel"

# 2. The server, as tapline-server.service runs it.
start srv tapline-server.service "$LIB_TMP/server.conf" "$LIB_TMP/server.log"
server=$LIB_BG_PID
expect 10 "$LIB_TMP/srv.notify" "$server" "READY=1" "server READY=1"
grep -q "listening on" "$LIB_TMP/server.log" ||
	lib_fail "the server said READY=1 before it listened"
grep -q "already running as tapline; nothing to drop" "$LIB_TMP/server.log" ||
	lib_fail "the server's options.user = tapline was not a no-op"
caps_only "$server" "the server"

# 3. READY=1 from the client means the tunnel is up, right then.
expect 20 "$LIB_TMP/cli.notify" "$client" "READY=1" "client READY=1"
lib_ping cli "$LIB_TUN4_A" 1 ||
	lib_fail "READY=1 came before a ping went through"
lib_dev_up cli tl-cobra "$LIB_TUN4_B" ||
	lib_fail "READY=1 came before the device was configured"
[ -f "$LIB_TMP/out/up.status" ] ||
	lib_fail "READY=1 came before the up command ran"
expect 5 "$LIB_TMP/cli.notify" "$client" \
    "STATUS=connected to $LIB_UL4_A:5000" "client STATUS=connected"
grep -qE "^Uid:[[:space:]]+$uid[[:space:]]" "$LIB_TMP/out/up.status" ||
	lib_fail "the up command did not run as tapline"
for set in CapAmb CapEff; do
	v=$(sed -n "s/^$set:[[:space:]]*//p" "$LIB_TMP/out/up.status")
	(( (16#$v & 16#1000) != 0 )) ||
		lib_fail "the up command's $set is $v, without CAP_NET_ADMIN"
done
[ "$(lib_nsexec cli cat /sys/class/net/tl-cobra/tx_queue_len)" = 777 ] ||
	lib_fail "the up command could not use CAP_NET_ADMIN"

# 4. Root reads the status socket the daemon (tapline) made.
[ "$(stat -c %u "$LIB_TMP/run/tapline-cobra.sock")" = "$uid" ] ||
	lib_fail "the client's status socket is not tapline's"
"$TAPLINE" status -f "$LIB_TMP/client.conf" cobra >"$LIB_TMP/status.out" 2>&1 ||
	lib_fail "root's tapline status failed: $(cat "$LIB_TMP/status.out")"
grep -q "up" "$LIB_TMP/status.out" ||
	lib_fail "tapline status does not show the session up: $(cat "$LIB_TMP/status.out")"

# 5. ExecReload's check, as tapline: quiet success, loud failure.
sandbox tapline@.service
exec_line tapline@.service ExecReload "$LIB_TMP/client.conf"
"${SP[@]}" "${CMD[@]}" >"$LIB_TMP/check.out" 2>&1 ||
	lib_fail "the unit's reload check fails as tapline: $(cat "$LIB_TMP/check.out")"
[ ! -s "$LIB_TMP/check.out" ] ||
	lib_fail "the unit's reload check printed on success (-q):" \
	    "$(head -n 5 "$LIB_TMP/check.out")"
cp -p "$LIB_TMP/client.conf" "$LIB_TMP/broken.conf" &&
	echo "cobra.bogus = 1;" >>"$LIB_TMP/broken.conf" ||
	lib_hard_error "cannot write broken.conf"
exec_line tapline@.service ExecReload "$LIB_TMP/broken.conf"
if "${SP[@]}" "${CMD[@]}" >"$LIB_TMP/check.out" 2>&1; then
	lib_fail "the unit's reload check passed a broken file"
fi
grep -q "broken.conf:" "$LIB_TMP/check.out" ||
	lib_fail "the reload check did not name the file: $(cat "$LIB_TMP/check.out")"

# 6. A new key on both sides, then SIGHUP: read as tapline, back up.
ups=$(grep -c "up with" "$LIB_TMP/client.log")
"$TAPLINE" genkey "$LIB_TMP/new.key" 2>/dev/null ||
	lib_fail "genkey failed"
cp -p "$LIB_TMP/new.key" "$LIB_TMP/srv.key.new" &&
	mv -f "$LIB_TMP/srv.key.new" "$LIB_TMP/srv.key" &&
	mv -f "$LIB_TMP/new.key" "$LIB_TMP/cli.key" ||
	lib_hard_error "cannot place the new keys"
kill -HUP "$server"
lib_wait_log "$LIB_TMP/server.log" 5 "reloaded" ||
	lib_fail "the server did not reload"
kill -HUP "$client"
lib_wait_log "$LIB_TMP/client.log" 5 "reloaded: cobra changed; reconnecting" ||
	lib_fail "the client did not reload the new key"
if grep -E "cannot open|Permission denied" "$LIB_TMP/server.log" \
    "$LIB_TMP/client.log"; then
	lib_fail "a reload could not read a key file as tapline"
fi
lib_wait_for 20 bash -c '[ "$(grep -c "up with" "$1")" -gt "$2" ]' sh \
    "$LIB_TMP/client.log" "$ups" ||
	lib_fail "the session did not come back with the new key"
lib_wait_for 10 lib_ping cli "$LIB_TUN4_A" 1 ||
	lib_fail "no ping with the new key"
ready=$(count "$LIB_TMP/cli.notify" "$client" "READY=1")
reloading=$(count "$LIB_TMP/cli.notify" "$client" "RELOADING=1")
[ "$ready" -eq $((reloading + 1)) ] ||
	lib_fail "the client said READY=1 $ready times for $reloading reloads:
$(cat "$LIB_TMP/cli.notify")"

kill -TERM "$client"
lib_wait_pid "$client" 15 || lib_fail "the client did not exit 0 on SIGTERM"
kill -TERM "$server"
lib_wait_pid "$server" 15 || lib_fail "the server did not exit 0 on SIGTERM"
lib_pass
