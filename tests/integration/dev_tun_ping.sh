#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A tun made by dev.c carries traffic both ways.  In a namespace, devprobe
# opens "tlping%d" (MTU 1400, up); ping sends one echo request with a
# 5-byte pattern, devprobe checks it byte by byte and writes the reply
# into the tun, and ping must get it.  The device must vanish when
# devprobe exits.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping
# The payload check knows where iputils ping puts the -p pattern.
ping -V 2>&1 | grep -q iputils || lib_skip "needs iputils ping"
lib_require_bin DEVPROBE "${top_builddir:-.}/tests/tools/devprobe"

pattern=a1b2c3d4e5
size=100
src=$LIB_TUN4_A
dst=$LIB_TUN4_B

lib_netns_add a
ns=$(lib_ns a)

lib_bg_ns a "$DEVPROBE" tun-echo "tlping%d" "$LIB_TMP/ready" 20 \
    "$src" "$dst" "$pattern" "$size" >"$LIB_TMP/echo.log" 2>&1
probe=$LIB_BG_PID
lib_wait_file "$LIB_TMP/ready" 10 "$probe"
case $? in
1) cat "$LIB_TMP/echo.log"; lib_fail "devprobe made no tun within 10 s" ;;
2) cat "$LIB_TMP/echo.log"; lib_fail "devprobe exited before its tun was up" ;;
esac
name=$(cat "$LIB_TMP/ready")
lib_log "devprobe opened $name"

# What dev.c set, as iproute2 sees it: a tun without packet information,
# single queue, MTU 1400, administratively up.
link=$(ip -d -n "$ns" link show "$name") || lib_fail "no device $name in $ns"
echo "$link"
grep -q "tun type tun pi off" <<<"$link" || lib_fail "not a tun with pi off"
grep -q "multi_queue" <<<"$link" && lib_fail "a single-queue tun is multi_queue"
grep -q "mtu 1400 " <<<"$link" || lib_fail "MTU is not 1400"
grep -q "<[^>]*[<,]UP[,>]" <<<"$link" || lib_fail "$name is not up"

lib_addr_add a "$name" "$src/30"
ip netns exec "$ns" ping -n -c 1 -W 5 -p "$pattern" -s "$size" "$dst" \
    >"$LIB_TMP/ping.log" 2>&1
ping_rc=$?
lib_wait_pid "$probe" 15
probe_rc=$?
cat "$LIB_TMP/echo.log" "$LIB_TMP/ping.log"

[ "$probe_rc" -eq 0 ] || lib_fail "devprobe tun-echo exited $probe_rc"
[ "$ping_rc" -eq 0 ] || lib_fail "ping exited $ping_rc"
grep -q "1 received" "$LIB_TMP/ping.log" || lib_fail "ping got no reply"

# Closing the last queue fd removes the device.
lib_wait_for 5 lib_not ip -n "$ns" link show "$name" ||
	lib_fail "$name still exists after devprobe exited"
lib_pass
