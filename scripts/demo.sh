#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The README's main job: install what is missing, build, and run a real
# tunnel between two network namespaces ("site A" runs the server with
# the shipped etc/tapline.conf, "site B" the client), then show ping and
# throughput through it, compression at work, and the session counters.
# Everything it creates is removed on exit; it takes well under a minute.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD

scripts/deps.sh || exit 1
scripts/build.sh || exit 1
[ "$(id -u)" = 0 ] || { echo "demo: needs root (network namespaces)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/tapline-demo.XXXXXX) || exit 1
nsa="tldemo$$a"
nsb="tldemo$$b"
pids=()

cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${pids[@]}"; do
		# Bounded: a daemon gets 5 s to close its session, then KILL.
		for _ in $(seq 50); do
			alive "$pid" || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	ip netns del "$nsa" 2>/dev/null
	ip netns del "$nsb" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

step() { printf '\n==> %s\n' "$*"; }
die() { echo "demo FAILED: $*" >&2; for f in "$tmp"/*.log; do echo "--- $f"; cat "$f"; done >&2; exit 1; }
inb() { ip netns exec "$nsb" "$@"; }
ina() { ip netns exec "$nsa" "$@"; }

# wait_for SECONDS CMD...: poll CMD every 0.1 s, bounded.
wait_for() {
	local n=$(($1 * 10))
	shift
	while ((n-- > 0)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}
# A process that has exited but is not reaped yet counts as gone.
alive() { [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z ' "/proc/$1/stat"; }
dev_up() { ip netns exec "$1" ip -o addr show dev tl-cobra 2>/dev/null | grep -q "$2/"; }

step "two hosts: namespaces $nsa (site A, server) and $nsb (site B, client), joined by a veth"
ip netns add "$nsa" && ip netns add "$nsb" || die "cannot create namespaces"
ip -n "$nsa" link add ul0 type veth peer name ul0 netns "$nsb" || die "veth"
ina ip addr add 198.51.100.1/30 dev ul0
inb ip addr add 198.51.100.2/30 dev ul0
for ns in "$nsa" "$nsb"; do
	ip -n "$ns" link set lo up
	ip -n "$ns" link set ul0 up
done
wait_for 5 inb ping -c 1 -W 1 198.51.100.1 || die "the underlay does not work"

step "a private key for each site; only the public keys cross over"
./tapline genkey --private "$tmp/site-a.key" || die "genkey"
./tapline genkey --private "$tmp/site-b.key" || die "genkey"
puba=$(./tapline pubkey "$tmp/site-a.key") || die "pubkey"
pubb=$(./tapline pubkey "$tmp/site-b.key") || die "pubkey"
echo "site A's public key: $puba"
echo "site B's public key: $pubb"

# The server runs the shipped example; only its private key is set and
# the example passphrase is swapped for site B's public key.
sed -e "s|^\([[:space:]]*\)passwd = \"change me: cobra example passphrase\";|\1peer_key = \"$pubb\";|" \
    -e "s|^\([[:space:]]*\)# private_key = \"/etc/tapline/host.key\";|\1private_key = \"$tmp/site-a.key\";|" \
    etc/tapline.conf >"$tmp/server.conf"
chmod 600 "$tmp/server.conf"	# it still holds the viper example's passphrase
grep -q "peer_key = \"$pubb\"" "$tmp/server.conf" &&
	grep -q "private_key = \"$tmp/site-a.key\"" "$tmp/server.conf" ||
	die "could not put the keys into the example"
# The client needs little: its key, site A's public key, where the
# server is, its addresses.
cat >"$tmp/client.conf" <<CONF
options = { private_key = "$tmp/site-b.key"; };
cobra = {
  peer_key = "$puba";
  server = "198.51.100.1";
  device = "tl-cobra";
  address = [ "192.0.2.2/30", "2001:db8:2::2/64" ];
};
CONF
step "site A: tapline -t on etc/tapline.conf (with the keys) says what the server will do"
./tapline -t -f "$tmp/server.conf" | sed -n '/^session cobra/,/^session viper/p' | head -n -1
step "site B: the whole client config"
cat "$tmp/client.conf"

# run_tunnel: start both daemons and wait for the tunnel.
run_tunnel() {
	ip netns exec "$nsa" "$top/tapline" -n -s -f "$tmp/server.conf" \
	    >>"$tmp/server.log" 2>&1 &
	pids+=($!)
	wait_for 10 grep -q "listening on" "$tmp/server.log" || die "the server did not start"
	ip netns exec "$nsb" "$top/tapline" -n -f "$tmp/client.conf" cobra \
	    >>"$tmp/client.log" 2>&1 &
	pids+=($!)
	wait_for 20 dev_up "$nsb" 192.0.2.2 || die "the client's tunnel did not come up"
	wait_for 10 dev_up "$nsa" 192.0.2.1 || die "the server's tunnel did not come up"
}

# stop_all: SIGTERM both daemons (they send CLOSE and log their counters).
stop_all() {
	local pid
	for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in "${pids[@]}"; do
		wait_for 10 eval "! alive $pid" || kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	pids=()
}

step "start: tapline -s at site A, tapline cobra at site B"
run_tunnel
cat "$tmp/client.log"

step "ping through the tunnel, IPv4 and IPv6 (site B -> site A)"
inb ping -c 3 -i 0.2 192.0.2.1 || die "no IPv4 ping through the tunnel"
inb ping -c 3 -i 0.2 2001:db8:2::1 || die "no IPv6 ping through the tunnel"

step "throughput through the tunnel: iperf3, 5 s, site B -> site A"
ip netns exec "$nsa" iperf3 -s -1 -B 192.0.2.1 >"$tmp/iperf3-server.out" 2>&1 &
pids+=($!)
wait_for 5 ina sh -c "ss -ltn | grep -q 192.0.2.1:5201" || die "iperf3 server did not start"
inb iperf3 -c 192.0.2.1 -t 5 -f m >"$tmp/iperf3.out" 2>&1 || { cat "$tmp/iperf3.out"; die "iperf3 failed"; }
grep -E "sender|receiver" "$tmp/iperf3.out"
rate=$(awk '/receiver/ { print $(NF-2), $(NF-1) }' "$tmp/iperf3.out")
echo "tapline over UDP (AES-256-GCM): $rate through the tunnel"

stop_all
step "the session counters each side logged when it closed"
grep -h "lasted" "$tmp/server.log" "$tmp/client.log"

step "the same over TCP (proto = \"tcp\" on the server's session; the client follows)"
sed -i 's|^\(  proto = \)"udp";|\1"tcp";|' "$tmp/server.conf"
grep -q 'proto = "tcp"' "$tmp/server.conf" || die "could not switch to tcp"
: >"$tmp/server.log"
: >"$tmp/client.log"
run_tunnel
ip netns exec "$nsa" iperf3 -s -1 -B 192.0.2.1 >"$tmp/iperf3-server.out" 2>&1 &
pids+=($!)
wait_for 5 ina sh -c "ss -ltn | grep -q 192.0.2.1:5201" || die "iperf3 server did not start"
inb iperf3 -c 192.0.2.1 -t 3 -f m >"$tmp/iperf3.out" 2>&1 || { cat "$tmp/iperf3.out"; die "iperf3 over tcp failed"; }
tcprate=$(awk '/receiver/ { print $(NF-2), $(NF-1) }' "$tmp/iperf3.out")
echo "tapline over TCP: $tcprate through the tunnel"
stop_all

step "again with compression on the server's session (compress = \"zlib:1\"; the client follows)"
sed -i 's|^\(  compress = \)"no";|\1"zlib:1";|' "$tmp/server.conf"
grep -q 'compress = "zlib:1"' "$tmp/server.conf" || die "could not turn compression on"
: >"$tmp/server.log"
: >"$tmp/client.log"
run_tunnel
grep -h "VORACLE\|as the server says" "$tmp/server.log" "$tmp/client.log"
# ping's default payload is a byte ramp, which deflates well.
inb ping -q -c 20 -i 0.05 -s 1200 192.0.2.1 || die "no ping with compression on"
stop_all
grep -h "lasted" "$tmp/server.log" "$tmp/client.log"

step "demo done: a tunnel between two namespaces, pinged, measured (udp ${rate:-?}, tcp ${tcprate:-?}), compressed, closed cleanly"
