#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A device MTU larger than the session's (an up command, an admin or
# NetworkManager raised it) must never let a packet overrun the UDP send
# path: every packet read from the device that does not fit the session's
# MTU is counted as "oversize" in `tapline status` and dropped, never
# sent, and the tunnel keeps working.  Two UDP tun sessions on one
# server: "ov" plain (offloads on: the device is read into a 64 KiB
# buffer) and "oz" with zlib (packets are compressed into the send slot).
# On both ends the device MTU is raised to 65535; then, through each
# session at once, iperf3 runs 4 streams with a 1200-byte MSS (TSO
# super-packets split into segments, which must all still cross) while
# ping floods 65000-byte echoes with DF set both ways.  Afterwards both
# daemons are alive, both sides count the big echoes as oversize (at
# least one per echo sent), iperf3 finished, and a normal ping crosses.
# Built with AddressSanitizer, the old code aborted here
# (memcpy-param-overlap in the UDP packet path).
# shellcheck disable=SC2317 # functions run through lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd jq ping iperf3
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

ECHOES=40

lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli

SCONF=$LIB_TMP/server.conf
CCONF=$LIB_TMP/client.conf
echo "options = { control = \"$LIB_TMP/srv.sock\"; };" >"$SCONF"
echo "options = { control = \"$LIB_TMP/cli.sock\"; };" >"$CCONF"
# name compress; session i uses 192.0.2.(4i+1|4i+2)/30.
SESSIONS=("ov no" "oz zlib:1")
i=0
for c in "${SESSIONS[@]}"; do
	read -r name z <<<"$c"
	lib_key "$name"
	cat >>"$SCONF" <<CONF
$name = {
  key = "$LIB_TMP/$name.key";
  proto = "udp";
  compress = "$z";
  device = "tl-$name";
  address = [ "192.0.2.$((4 * i + 1))/30" ];
};
CONF
	cat >>"$CCONF" <<CONF
$name = {
  key = "$LIB_TMP/$name.key";
  persist = false;
  device = "tl-$name";
  address = [ "192.0.2.$((4 * i + 2))/30" ];
};
CONF
	i=$((i + 1))
done

lib_server srv "$SCONF"
server=$LIB_BG_PID
declare -A CLIENT
for c in "${SESSIONS[@]}"; do
	read -r name _ <<<"$c"
	lib_client cli "$CCONF" "$name" "$LIB_UL4_A"
	CLIENT[$name]=$LIB_BG_PID
done

# oversize CONF NAME: the session's "oversize" drop count; fails when
# status has no such reason.
oversize() {
	lib_run 10 "$TAPLINE" status -f "$1" --json "$2" \
	    >"$LIB_TMP/status.out" 2>&1 || return 1
	jq -e -r '.sessions[0].drops.oversize' "$LIB_TMP/status.out"
}

i=0
for c in "${SESSIONS[@]}"; do
	read -r name _ <<<"$c"
	s4=192.0.2.$((4 * i + 1)) c4=192.0.2.$((4 * i + 2))
	dev=tl-$name
	lib_wait_up srv "$dev" 15 "$s4"
	lib_wait_up cli "$dev" 15 "$c4"
	lib_wait_for 10 lib_ping cli "$s4" 1 ||
		lib_fail "$name: no ping through the tunnel"
	mtu=$(lib_nsexec cli cat "/sys/class/net/$dev/mtu")
	lib_log "$name: session MTU $mtu; raising $dev to 65535 on both ends"
	for ns in srv cli; do
		lib_nsexec "$ns" ip link set "$dev" mtu 65535 ||
			lib_hard_error "cannot raise the MTU of $dev"
	done

	out=$LIB_TMP/iperf3-$name.json
	lib_bg_ns srv iperf3 -s -1 -B "$s4" >/dev/null 2>&1
	lib_wait_for 5 lib__listening srv 5201 ||
		lib_fail "$name: iperf3 server did not start"
	lib_bg_ns cli iperf3 -c "$s4" -P 4 -M 1200 -t 4 -J >"$out" 2>&1
	iperf=$LIB_BG_PID
	# Big echoes both ways while the streams run; none can cross.
	lib_nsexec cli ping -n -q -f -c "$ECHOES" -w 5 -M do -s 65000 \
	    "$s4" >/dev/null 2>&1
	lib_nsexec srv ping -n -q -f -c "$ECHOES" -w 5 -M do -s 65000 \
	    "$c4" >/dev/null 2>&1
	lib_wait_pid "$iperf" 20 || lib_fail "$name: iperf3 failed:" \
	    "$(jq -r '.error // empty' "$out" 2>/dev/null)"
	bps=$(jq -r '.end.sum_received.bits_per_second' "$out")
	lib_log "$name: iperf3 -P 4 -M 1200: $((${bps%.*} / 1000000)) Mbit/s"

	kill -0 "$server" || lib_fail "the server died"
	kill -0 "${CLIENT[$name]}" || lib_fail "the $name client died"
	for side in "srv $SCONF" "cli $CCONF"; do
		read -r ns conf <<<"$side"
		n=$(oversize "$conf" "$name") ||
			lib_fail "$name: $ns's status has no oversize drops"
		lib_log "$name: $ns dropped $n oversize packets"
		[ "$n" -ge "$ECHOES" ] ||
			lib_fail "$name: $ns counted $n oversize, sent $ECHOES"
	done
	lib_ping cli "$s4" || lib_fail "$name: no ping after the big echoes"
	lib_ping srv "$c4" || lib_fail "$name: no ping back after them"
	i=$((i + 1))
done

lib_pass
