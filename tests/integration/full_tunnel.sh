#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A full tunnel: routes = [ "0.0.0.0/0", "::/0" ] on a client whose
# namespace already has default routes (through a router namespace).
# Everything crosses the tunnel except the tunnel's own traffic to the
# server, which keeps the original default route (tapline's fwmark on
# its sockets, policy rules and a table of its own):
#
#	cli ---- rtr ---- srv ---- far
#	   underlay      lan 203.0.113.0/24, 2001:db8:3::/64
#
# The router knows nothing of 203.0.113.0/24, 2001:db8:3::/64 or the
# tunnel's addresses, and far has routes only back to the tunnel's
# addresses, so a reply from far proves the packet crossed the tunnel
# with the client's tunnel address as its source.  The session must stay
# up and carry a bulk transfer (its own datagrams do not loop into the
# tunnel), the main table's default routes stay as they were, and once
# the client has exited every route of every table and every rule are
# exactly as before.  Both transports, UDP and TCP, and a third round
# with persist = "keep": the kept full tunnel (its rules and routes)
# outlives a server that is killed, the client's reconnect (its TCP
# connect marked before it starts) gets through while the rules are in
# place, and the rules go when the client exits.
#
# dns: the client runs resolvectl (UDP round) or resolvconf (TCP round)
# with the right arguments; both are stubs that only log, bind-mounted
# over /usr/local/sbin (the first directory tapline looks in) in the
# client's own mount namespace, so the host's resolver is never touched.
# shellcheck disable=SC2317 # functions run by lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping nc ss
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"
# The DNS stubs are mounted over it (in the client's mount namespace).
[ -d /usr/local/sbin ] || lib_skip "needs a directory /usr/local/sbin"

lib_netns_add cli
lib_netns_add rtr
lib_netns_add srv
lib_netns_add far

# Two underlay links through the router, both in the documentation ranges.
lib_veth cli ul0 "198.51.100.2/25 2001:db8:1::1:2/112" \
    rtr ul0 "198.51.100.1/25 2001:db8:1::1:1/112"
lib_veth rtr ul1 "198.51.100.129/25 2001:db8:1::2:1/112" \
    srv ul0 "198.51.100.130/25 2001:db8:1::2:2/112"
lib_veth srv lan0 "203.0.113.1/24 2001:db8:3::1/64" \
    far lan0 "203.0.113.2/24 2001:db8:3::2/64"
lib_nsexec rtr sysctl -q -w net.ipv4.ip_forward=1 \
    net.ipv6.conf.all.forwarding=1 || lib_fail "no forwarding in rtr"
lib_nsexec srv sysctl -q -w net.ipv4.ip_forward=1 \
    net.ipv6.conf.all.forwarding=1 || lib_fail "no forwarding in srv"
# Loose reverse path filtering, as most distributions set it.
lib_nsexec cli sysctl -q -w net.ipv4.conf.all.rp_filter=2 ||
	lib_fail "cannot set rp_filter in cli"
lib_nsexec cli ip route add default via 198.51.100.1 ||
	lib_fail "no default route in cli"
lib_nsexec cli ip -6 route add default via 2001:db8:1::1:1 ||
	lib_fail "no IPv6 default route in cli"
lib_nsexec srv ip route add default via 198.51.100.129 ||
	lib_fail "no default route in srv"
lib_nsexec srv ip -6 route add default via 2001:db8:1::2:1 ||
	lib_fail "no IPv6 default route in srv"
# far answers only the tunnel's addresses, through the server.
lib_nsexec far ip route add 192.0.2.0/24 via 203.0.113.1 ||
	lib_fail "no tunnel route in far"
lib_nsexec far ip -6 route add 2001:db8:2::/64 via 2001:db8:3::1 ||
	lib_fail "no IPv6 tunnel route in far"

lib_ping cli 198.51.100.130 1 || lib_fail "the underlay does not work"
lib_wait_for 10 lib_ping cli 2001:db8:1::2:2 1 || lib_fail "the IPv6 underlay does not work"
lib_ping cli 203.0.113.2 1 && lib_fail "far is reachable without the tunnel"

lib_key cobra
srvaddr=198.51.100.130

# The DNS stubs, one directory each.
dnslog=$LIB_TMP/dns.log
mkdir -p "$LIB_TMP/stub-resolvectl" "$LIB_TMP/stub-resolvconf"
cat >"$LIB_TMP/stub-resolvectl/resolvectl" <<STUB
#!/bin/sh
echo "resolvectl \$*" >>"$dnslog"
STUB
cat >"$LIB_TMP/stub-resolvconf/resolvconf" <<STUB
#!/bin/sh
echo "resolvconf \$*" >>"$dnslog"
[ "\$1" = -a ] && sed 's/^/stdin: /' >>"$dnslog"
exit 0
STUB
chmod 755 "$LIB_TMP/stub-resolvectl/resolvectl" \
    "$LIB_TMP/stub-resolvconf/resolvconf"
# A real resolvectl elsewhere in tapline's PATH would win over the
# resolvconf stub.
real_resolvectl=
for d in /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
	[ -x "$d/resolvectl" ] && real_resolvectl=$d/resolvectl
done

# What the client's namespace looks like before any tunnel, once ul0's
# link-local address (and its local route) is there for good.
ll_ready() {
	local out
	out=$(lib_nsexec cli ip -6 addr show dev ul0 scope link) || return 1
	grep -q "fe80::" <<<"$out" && ! grep -q tentative <<<"$out"
}
lib_wait_for 10 ll_ready || lib_fail "ul0 in cli has no link-local address"
snapshot() {
	{
		lib_nsexec cli ip route show table all
		lib_nsexec cli ip rule show
		lib_nsexec cli ip -6 rule show
	} 2>&1
}
before=$(snapshot)
main_before=$({ lib_nsexec cli ip route show table main
    lib_nsexec cli ip -6 route show table main; } 2>&1)

# A server in srv; lib_server waits for "listening on" in its log, so the
# log of the one before is set aside first (still dumped on failure).
nserver=0
start_server() {
	nserver=$((nserver + 1))
	[ -f "$LIB_TMP/server-srv.log" ] &&
		mv "$LIB_TMP/server-srv.log" "$LIB_TMP/server-srv-$nserver.log"
	lib_server srv "$1"
}

# tx packets of a device in the client's namespace.
tx_packets() {
	lib_nsexec cli cat "/sys/class/net/$1/statistics/tx_packets"
}

for round in udp tcp keep; do
	lib_log "--- round $round"
	case $round in
	udp) proto=udp stub=resolvectl persist=false ;;
	tcp) proto=tcp stub=resolvconf persist=false ;;
	keep) proto=udp stub=resolvectl persist='"keep"' ;;
	esac
	: >"$dnslog"
	cat >"$LIB_TMP/server-$proto.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  proto = "$proto";
  device = "tl-full";
  address = [ "$LIB_TUN4_A/24", "$LIB_TUN6_A/64" ];
};
CONF
	cat >"$LIB_TMP/client-$proto.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  proto = "$proto";
  device = "tl-full";
  persist = $persist;
  address = [ "$LIB_TUN4_B/24", "$LIB_TUN6_B/64" ];
  routes = [ "0.0.0.0/0", "::/0" ];
  dns = [ "192.0.2.53", "2001:db8:2::53" ];
};
CONF
	start_server "$LIB_TMP/server-$proto.conf"
	server=$LIB_BG_PID
	log=$LIB_TMP/client-cli-cobra.log
	: >"$log"
	# shellcheck disable=SC2016 # sh expands them
	lib_bg_ns cli sh -c 'mount --bind "$1" /usr/local/sbin &&
	    exec "$2" -n -v -f "$3" cobra "$4"' sh "$LIB_TMP/stub-$stub" \
	    "$TAPLINE" "$LIB_TMP/client-$proto.conf" "$srvaddr" >>"$log" 2>&1
	client=$LIB_BG_PID
	lib_wait_up cli tl-full 15 "$LIB_TUN4_B"
	lib_wait_log "$log" 10 "up with " ||
		lib_fail "$round: the client did not report the session up"
	lib_nsexec cli ip rule show
	lib_nsexec cli ip -6 rule show
	lib_nsexec cli ip route show table all | grep -v "table local"

	# The default routes of the main table are untouched.
	main_now=$({ lib_nsexec cli ip route show table main
	    lib_nsexec cli ip -6 route show table main; } 2>&1)
	grep -q "^default via 198.51.100.1 dev ul0" <<<"$main_now" ||
		lib_fail "$round: the main table lost its default route"
	grep -q "^default via 2001:db8:1::1:1 dev ul0" <<<"$main_now" ||
		lib_fail "$round: the main table lost its IPv6 default route"

	# Everything else goes through the tunnel, from the tunnel address.
	tx0=$(tx_packets tl-full)
	lib_wait_for 10 lib_ping cli 203.0.113.2 1 ||
		lib_fail "$round: far (203.0.113.2) does not answer through" \
		    "the tunnel"
	lib_ping cli 2001:db8:3::2 3 ||
		lib_fail "$round: far (2001:db8:3::2) does not answer through" \
		    "the tunnel"
	tx1=$(tx_packets tl-full)
	[ "$tx1" -ge $((tx0 + 4)) ] ||
		lib_fail "$round: the pings did not leave by tl-full" \
		    "($tx0 -> $tx1 packets)"
	route=$(lib_nsexec cli ip route get 203.0.113.2)
	grep -q "dev tl-full" <<<"$route" ||
		lib_fail "$round: 203.0.113.2 is not routed into the tunnel: $route"
	# The server itself, from a socket without the mark, too.
	route=$(lib_nsexec cli ip route get "$srvaddr")
	grep -q "dev tl-full" <<<"$route" ||
		lib_fail "$round: unmarked traffic to the server bypasses" \
		    "the tunnel: $route"

	# Bulk data both ways keeps the session up: no loop.
	head -c 2000000 /dev/urandom >"$LIB_TMP/bulk"
	lib_transfer cli far 203.0.113.2 7001 "$LIB_TMP/bulk"
	lib_transfer far cli "$LIB_TUN4_B" 7002 "$LIB_TMP/bulk"
	lib__is_child "$client" || lib_fail "$round: the client died"
	grep -qE "reconnecting|connection with .* lost|closing" "$log" &&
		lib_fail "$round: the session did not stay up"

	if [ "$round" = keep ]; then
		kill -KILL "$server"
		lib_wait_pid "$server" 5
		lib_wait_log "$log" 15 "reconnecting in" ||
			lib_fail "keep: the client did not notice the lost server"
		lib_nsexec cli ip rule show | grep -q "not from all fwmark" ||
			lib_fail "keep: the rules went with the session"
		lib_nsexec cli ip route show table 5000 | grep -q "dev tl-full" ||
			lib_fail "keep: the tunnel's default route went"
		start_server "$LIB_TMP/server-$proto.conf"
		server=$LIB_BG_PID
		lib_wait_for 20 lib_ping cli 203.0.113.2 1 ||
			lib_fail "keep: no way through the tunnel after the" \
			    "server's restart"
		[ "$(grep -c "up with" "$log")" -ge 2 ] ||
			lib_fail "keep: the client did not reconnect"
	fi

	# The device's DNS servers, set once it was up.
	if [ "$stub" = resolvectl ] || [ -z "$real_resolvectl" ]; then
		cat "$dnslog"
		case $stub in
		resolvectl) want="resolvectl dns tl-full 192.0.2.53 2001:db8:2::53
resolvectl domain tl-full ~." ;;
		resolvconf) want="resolvconf -a tl-full
stdin: nameserver 192.0.2.53
stdin: nameserver 2001:db8:2::53" ;;
		esac
		# A kept device gets its servers once.
		[ "$(cat "$dnslog")" = "$want" ] ||
			lib_fail "$round: $stub did not run as it should"
	else
		lib_log "$real_resolvectl exists: resolvconf not checked"
	fi

	kill -TERM "$client"
	lib_wait_pid "$client" 10 ||
		lib_fail "$round: the client did not exit 0 on SIGTERM"
	# resolvconf is told to forget them; systemd-resolved forgets a
	# link's servers by itself when the link goes.
	if [ "$stub" = resolvconf ] && [ -z "$real_resolvectl" ]; then
		lib_wait_for 5 grep -qx "resolvconf -d tl-full" "$dnslog" ||
			lib_fail "$round: resolvconf -d did not run"
	fi
	lib_wait_for 5 lib_not lib_nsexec cli ip link show tl-full ||
		lib_fail "$round: tl-full survived the client"
	after=$(snapshot)
	if [ "$after" != "$before" ]; then
		diff <(echo "$before") <(echo "$after")
		lib_fail "$round: routes or rules differ after the client exited"
	fi
	kill -TERM "$server"
	lib_wait_pid "$server" 10 || lib_fail "the server did not exit 0"
done
# A server refuses a session that would take its host's default route.
lib_log "--- a full tunnel on the server's end"
cat >"$LIB_TMP/server-full.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-full";
  address = [ "$LIB_TUN4_A/24" ];
  routes = [ "0.0.0.0/0" ];
};
CONF
cat >"$LIB_TMP/client-plain.conf" <<CONF
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-full";
  persist = false;
  address = [ "$LIB_TUN4_B/24" ];
};
CONF
start_server "$LIB_TMP/server-full.conf"
server=$LIB_BG_PID
lib_client cli "$LIB_TMP/client-plain.conf" cobra "$srvaddr"
client=$LIB_BG_PID
lib_wait_log "$LIB_TMP/server-srv.log" 15 "are for the client's end only" ||
	lib_fail "the server did not refuse a full tunnel of its own"
lib_wait_pid "$client" 15
lib_nsexec srv ip rule show | grep -q fwmark &&
	lib_fail "the server made full-tunnel rules"
kill -TERM "$server"
lib_wait_pid "$server" 10

main_after=$({ lib_nsexec cli ip route show table main
    lib_nsexec cli ip -6 route show table main; } 2>&1)
[ "$main_after" = "$main_before" ] || lib_fail "the main table changed"
lib_pass
