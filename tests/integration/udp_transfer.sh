#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Bulk data through UDP tunnels (proto "udp", the default): four sessions
# on one server, one at a time, cover IPv4 and IPv6 underlays, tun and
# tap, AES-256-GCM and ChaCha20-Poly1305 (each cipher twice).  For each:
# the client follows the server (its file says nothing about proto and
# type and asks for the other cipher); the device MTU is the one derived
# from the underlay (1439 / 1419 for tun over IPv4 / IPv6, 14 less for
# tap); full-size packets with DF set cross; ping works both ways in both
# families inside; a 64 MiB file goes client -> server and server ->
# client with nc and arrives with the same sha256.  Then both sides'
# summaries must show datagrams in and nothing dropped.  The server may
# read a packet or two from its fresh device (IPv6 router solicitations)
# before the client's first datagram told it where the client is: those
# few are counted as "no-address", nothing else may be.  64 MiB each way
# in all four runs: about 5 s each here, 25-40 s in all.
# shellcheck disable=SC2317 # functions run through lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"
# shellcheck source=udprelay_lib.sh
. "$(dirname "$lib")/udprelay_lib.sh"

lib_require_root
lib_require_cmd nc ss ping sha256sum
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

PORT=5001
# TAPLINE_TEST_OFFLOAD=false (udp_transfer_nooffload.sh) runs it all again
# without the offloads (options.offload), which are on by default.
OFFLOAD=${TAPLINE_TEST_OFFLOAD:-true}
case $OFFLOAD in
true | false) ;;
*) lib_hard_error "TAPLINE_TEST_OFFLOAD must be true or false" ;;
esac
lib_log "options.offload = $OFFLOAD"
MIB=64

lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli
# Fresh veths drop IPv6 neighbour solicitations for a moment.
udprelay_wait_ipv6 5 srv ul0 cli ul0

# name underlay type cipher; session i uses 192.0.2.(4i+1|4i+2)/30
# and 2001:db8:2::i:1|2/112 on device tl-NAME.
COMBOS=(
	"t4 4 tun aes-256-gcm"
	"t6 6 tun chacha20-poly1305"
	"p4 4 tap chacha20-poly1305"
	"p6 6 tap aes-256-gcm"
)
# The cipher's name in the log, and the other cipher.
declare -A LOGNAME=([aes-256-gcm]=AES-256-GCM
    [chacha20-poly1305]=ChaCha20-Poly1305)
declare -A OTHER=([aes-256-gcm]=chacha20-poly1305
    [chacha20-poly1305]=aes-256-gcm)

echo "options = { offload = $OFFLOAD; };" >"$LIB_TMP/server.conf"
echo "options = { offload = $OFFLOAD; };" >"$LIB_TMP/client.conf"
i=0
for c in "${COMBOS[@]}"; do
	read -r name _ type cipher _ <<<"$c"
	lib_key "$name"
	cat >>"$LIB_TMP/server.conf" <<CONF
$name = {
  key = "$LIB_TMP/$name.key";
  proto = "udp";
  type = "$type";
  cipher = "$cipher";
  device = "tl-$name";
  address = [ "192.0.2.$((4 * i + 1))/30", "2001:db8:2::$i:1/112" ];
};
CONF
	# The client's file asks for the other cipher and says nothing
	# about proto and type: the server decides.
	cat >>"$LIB_TMP/client.conf" <<CONF
$name = {
  key = "$LIB_TMP/$name.key";
  persist = false;
  cipher = "${OTHER[$cipher]}";
  device = "tl-$name";
  address = [ "192.0.2.$((4 * i + 2))/30", "2001:db8:2::$i:2/112" ];
};
CONF
	i=$((i + 1))
done

data=$LIB_TMP/data
head -c $((MIB << 20)) /dev/urandom >"$data" ||
	lib_hard_error "cannot create $data"
[ "$(stat -c %s "$data")" = $((MIB << 20)) ] ||
	lib_hard_error "$data is not $MIB MiB"

lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
slog=$LIB_TMP/server-srv.log

# push FROM TO ADDR: send the file from namespace FROM to a receiver in
# namespace TO listening on ADDR; it must arrive with the same sha256.
push() {
	lib_transfer "$1" "$2" "$3" "$PORT" "$data"
	lib_log "$1 -> $2 ($3): $MIB MiB arrived intact"
}

# mtu SHORT DEV: the device's MTU.
mtu() {
	lib_nsexec "$1" cat "/sys/class/net/$2/mtu"
}

# df_ping SHORT ADDR MTU FAM: two packets of exactly MTU bytes, DF set.
df_ping() {
	local hdr=28
	[ "$4" = 6 ] && hdr=48
	lib_nsexec "$1" ping -"$4" -n -q -c 2 -i 0.2 -W 2 -M "do" \
	    -s $(($3 - hdr)) "$2" >/dev/null 2>&1
}

# The end of a summary with no receive drop reason and no send or limit
# drops: rekeys, datagrams in, no-address.
UDP_CLEAN='; udp: ([0-9]+) rekeys, ([0-9]+) datagrams in, dropped: '
UDP_CLEAN+='no-address ([0-9]+) send 0 tx-limit 0$'

# check_summary LOG NAME: the session's summary line shows datagrams in,
# no receive drop reason at all, zero packets dropped, no send or limit
# drops and at most a few "no-address" ones.
check_summary() {
	local log=$1 name=$2 line
	line=$(grep "$name: session with .* lasted" "$log")
	[ -n "$line" ] || lib_fail "$(basename "$log"): no summary for $name"
	lib_log "$(basename "$log"): ${line#*lasted}"
	[ "$(wc -l <<<"$line")" = 1 ] ||
		lib_fail "$(basename "$log"): $name has several summaries"
	grep -q "; dropped 0 (" <<<"$line" ||
		lib_fail "$(basename "$log"): $name dropped packets: $line"
	[[ $line =~ $UDP_CLEAN ]] ||
		lib_fail "$(basename "$log"): $name's UDP counters show drops" \
		    "or are missing: $line"
	[ "${BASH_REMATCH[2]}" -gt 0 ] ||
		lib_fail "$(basename "$log"): $name got no datagrams: $line"
	[ "${BASH_REMATCH[3]}" -le 5 ] ||
		lib_fail "$(basename "$log"): $name could not send" \
		    "${BASH_REMATCH[3]} packets for want of an address: $line"
	if ! [[ $line =~ received\ ([0-9]+)\ packets ]] ||
	    [ "${BASH_REMATCH[1]}" -le 1000 ]; then
		lib_fail "$(basename "$log"): $name received too few" \
		    "packets: $line"
	fi
}

i=0
for c in "${COMBOS[@]}"; do
	read -r name fam type cipher <<<"$c"
	dev=tl-$name
	s4=192.0.2.$((4 * i + 1)) c4=192.0.2.$((4 * i + 2))
	s6=2001:db8:2::$i:1 c6=2001:db8:2::$i:2
	if [ "$fam" = 6 ]; then
		ul=$LIB_UL6_A want=1419
	else
		ul=$LIB_UL4_A want=1439
	fi
	[ "$type" = tap ] && want=1500
	lib_log "$name: $type over IPv$fam, $cipher"

	lib_client cli "$LIB_TMP/client.conf" "$name" "$ul"
	client=$LIB_BG_PID
	clog=$LIB_TMP/client-cli-$name.log
	lib_wait_up cli "$dev" 15 "$c4"
	lib_wait_up srv "$dev" 5 "$s4"

	# What the session runs with: the server's settings, on both sides.
	cn=${LOGNAME[$cipher]}
	for log in "$slog" "$clog"; do
		grep -q "$name: up with .* ($cn, $type $dev, mtu $want," \
		    "$log" || lib_fail "$(basename "$log"): $name is not up" \
		    "with $cn, $type $dev, mtu $want"
	done
	grep -q "$name: using cipher $cn as the server says" "$clog" ||
		lib_fail "the client did not note the server's cipher $cn"
	for ns in srv cli; do
		got=$(mtu "$ns" "$dev")
		[ "$got" = "$want" ] || lib_fail "$dev in $(lib_ns "$ns") has" \
		    "MTU $got, not $want"
	done

	lib_ping cli "$s4" || lib_fail "$name: client -> server IPv4 ping"
	lib_ping srv "$c4" || lib_fail "$name: server -> client IPv4 ping"
	lib_ping cli "$s6" || lib_fail "$name: client -> server IPv6 ping"
	lib_ping srv "$c6" || lib_fail "$name: server -> client IPv6 ping"
	df_ping cli "$s4" "$want" 4 ||
		lib_fail "$name: no $want-byte IPv4 packet with DF to the server"
	df_ping srv "$c6" "$want" 6 ||
		lib_fail "$name: no $want-byte IPv6 packet to the client"

	# Over the IPv6 underlay the data goes over IPv6 inside, too.
	sa=$s4 ca=$c4
	[ "$fam" = 6 ] && sa=$s6 ca=$c6
	push cli srv "$sa"
	push srv cli "$ca"

	kill -TERM "$client"
	lib_wait_pid "$client" 10 ||
		lib_fail "the $name client did not exit 0 on SIGTERM"
	lib_wait_log "$slog" 10 "$name: session with .* lasted" ||
		lib_fail "the server logged no summary for $name"
	lib_wait_for 5 lib_not lib_nsexec srv ip link show "$dev" ||
		lib_fail "the server's $dev survived the session"
	check_summary "$slog" "$name"
	check_summary "$clog" "$name"
	i=$((i + 1))
done

kill -0 "$server" || lib_fail "the server died"
lib_pass
