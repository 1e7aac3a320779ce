#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# legacy = "vtun" as a client of Debian's real vtund 3.0.4 server: for
# every row of legacy_lib.sh's table (TCP and UDP, tun and tap, encrypt
# none, the three ECB ciphers, zlib) a tapline client connects, and pings
# and a sha256-checked file go both ways.  The client follows the
# server's flags (its own file says tcp/tun/none for every row and must
# log where it differs).  A wrong password is refused: the client exits
# 1 and says the server denied it, and no device appears.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"
# shellcheck source=legacy_lib.sh
. "$(dirname "$lib")/legacy_lib.sh"

lib_require_root
legacy_require
legacy_netns

legacy_vtund_conf server "$LIB_TMP/vtund.conf"
legacy_tapline_conf client "$LIB_TMP/tapline.conf"
# The client's own settings differ from the server's on purpose in row 2
# (udp/aes128ecb/zlib:9 there): it must follow the server.
sed -i '/^r2 = {/,/^};/{s/proto = "udp"/proto = "tcp"/;s/cipher = "aes128ecb"/cipher = "none"/;s/compress = "zlib:9"/compress = "no"/}' \
    "$LIB_TMP/tapline.conf"

vlog=$LIB_TMP/vtund-server.log
lib_bg_ns srv env OPENSSL_CONF="$OPENSSL_CONF_VTUND" "$VTUND" -n -s \
    -f "$LIB_TMP/vtund.conf" -P "$LEGACY_PORT" >"$vlog" 2>&1
vtund=$LIB_BG_PID
lib_wait_for 10 lib__listening srv "$LEGACY_PORT" ||
	lib_fail "vtund does not listen on port $LEGACY_PORT"

i=0
for row in "${LEGACY_ROWS[@]}"; do
	i=$((i + 1))
	clog=$LIB_TMP/client-cli-r$i.log
	lib_client cli "$LIB_TMP/tapline.conf" "r$i" "$LIB_UL4_A"
	client=$LIB_BG_PID
	legacy_check_row "$i" cli srv
	grep -q "r$i: legacy vtund session with .*NOT secure" "$clog" ||
		lib_fail "row $i: no insecurity warning at the start"
	kill -TERM "$client"
	lib_wait_pid "$client" 10 ||
		lib_fail "row $i: the client did not exit 0 on SIGTERM"
	grep -q "r$i: session with .* lasted" "$clog" ||
		lib_fail "row $i: the client logged no summary"
	# vtund's session ends on our close frame and removes its device.
	lib_wait_for 10 lib_not lib_nsexec srv ip link show "vt$i" ||
		lib_fail "row $i: vtund kept vt$i after the close frame"
done

grep -q "r2: the server says proto udp" "$LIB_TMP/client-cli-r2.log" &&
    grep -q "r2: the server says cipher aes128ecb" \
    "$LIB_TMP/client-cli-r2.log" &&
    grep -q "r2: the server says compress zlib:9" \
    "$LIB_TMP/client-cli-r2.log" ||
	lib_fail "the client did not say where the server's flags differ"
grep -q "r2: up with .*udp.*aes128ecb, zlib on" \
    "$LIB_TMP/client-cli-r2.log" ||
	lib_fail "the client did not follow the server's flags"

# persist: when vtund's side of the session dies (its per-session
# process is killed), the client reconnects by itself and the tunnel
# carries traffic again.
lib_client cli "$LIB_TMP/tapline.conf" r1 "$LIB_UL4_A" -p
client=$LIB_BG_PID
plog=$LIB_TMP/client-cli-r1.log
lib_wait_up cli tl-r1 15 "$(legacy_addr 1 client)"
lib_wait_for 10 lib_ping cli "$(legacy_addr 1 server)" 1 ||
	lib_fail "persist: no ping before the peer died"
ups=$(grep -c "r1: up with" "$plog")
child=$(pgrep -P "$vtund") || lib_fail "vtund has no session process"
# shellcheck disable=SC2086 # one PID per word
kill -KILL $child
lib_wait_log "$plog" 15 "r1: reconnecting in" ||
	lib_fail "persist: the client did not notice the peer was gone"
lib_wait_for 20 eval '[ "$(grep -c "r1: up with" "$plog")" -gt "$ups" ]' ||
	lib_fail "persist: the client did not come back up"
lib_wait_up srv vt1 15 "$(legacy_addr 1 server)"
lib_wait_for 10 lib_ping cli "$(legacy_addr 1 server)" 1 ||
	lib_fail "persist: no ping after the reconnect"
kill -TERM "$client"
lib_wait_pid "$client" 10 || lib_fail "persist: the client did not exit 0"
lib_log "persist: the client came back after vtund's session died"

# A wrong password: refused, exit 1, no device.
legacy_tapline_conf client "$LIB_TMP/wrong.conf" NotThePassphrase
wlog=$LIB_TMP/client-cli-wrong.log
lib_bg_ns cli "$TAPLINE" -n -v -f "$LIB_TMP/wrong.conf" r1 "$LIB_UL4_A" \
    >"$wlog" 2>&1
lib_wait_pid "$LIB_BG_PID" 15
rc=$?
[ "$rc" = 1 ] || lib_fail "a wrong password: exit status $rc, not 1"
grep -q "r1: .* refused us: access denied" "$wlog" ||
	lib_fail "a wrong password: no 'access denied' in the client's log"
! lib_nsexec cli ip link show tl-r1 >/dev/null 2>&1 ||
	lib_fail "a wrong password: the client made its device"

lib_pass
