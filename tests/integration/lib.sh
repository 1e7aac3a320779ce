# SPDX-License-Identifier: GPL-2.0-or-later
# Shared helpers for tapline's integration tests (bash).  A test starts:
#
#	#!/bin/bash
#	[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
#	lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
#	[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
#	. "$lib"
#	lib_require_root
#	lib_netns_add a; lib_netns_add b
#	lib_underlay a b
#	lib_bg_ns a "$TAPLINE" -n -s -f ... >"$LIB_TMP/server.log" 2>&1
#	lib_wait_for 5 lib_nsexec b ping -c 1 -W 1 "$LIB_TUN4_A" ||
#		lib_fail "no ping through the tunnel"
#	lib_pass
#
# Exit codes follow automake: 0 pass, 1 fail, 77 skip, 99 broken harness.
# Namespaces are named "$LIB_PREFIX<short>" (lib_ns); everything a test
# creates goes into its own namespaces, never into the host's.  On exit
# (normal, lib_fail, INT or TERM) every process started with lib_bg is
# stopped by its PID, the namespaces are deleted, and so are $LIB_TMP and
# the files lib_ns_etc wrote under /etc/netns.
#
# Addresses: documentation ranges only (RFC 5737, RFC 3849).
#	underlay	198.51.100.0/24		2001:db8:1::/64
#	tunnel		192.0.2.0/24		2001:db8:2::/64
#	bridged LANs	203.0.113.0/24

set -u

if [ -n "${LIB_SH_LOADED:-}" ]; then
	return 0
fi
LIB_SH_LOADED=1

LIB_NAME=$(basename "$0" .sh)

# The address plan, for the tests that source this file.
# shellcheck disable=SC2034
{
	LIB_UL4_A=198.51.100.1
	LIB_UL4_B=198.51.100.2
	LIB_UL4_LEN=24
	LIB_UL6_A=2001:db8:1::1
	LIB_UL6_B=2001:db8:1::2
	LIB_UL6_LEN=64
	LIB_TUN4_A=192.0.2.1
	LIB_TUN4_B=192.0.2.2
	LIB_TUN4_LEN=24
	LIB_TUN6_A=2001:db8:2::1
	LIB_TUN6_B=2001:db8:2::2
	LIB_TUN6_LEN=64
	LIB_LAN4_PREFIX=203.0.113
	LIB_LAN4_LEN=24
}

# A short per-run prefix: "t", the shell's PID in hex (unique among
# running tests) and a random byte (against leftovers of a dead run with
# the same PID).  At most 9 characters, so that a suffix of up to 6 still
# fits an interface name (15).
LIB_PREFIX=$(printf 't%x%02x' "$$" $((RANDOM % 256)))

LIB_PIDS=()
LIB_NETNS=()
LIB_NS_ETC=()
LIB_NS_ETC_TOP=	# set when lib_ns_etc made /etc/netns itself
LIB_BG_PID=
LIB_TMP=

# Print a progress line into the test log.
lib_log() {
	echo "# $LIB_NAME: $*"
}

# Fail the test now; the EXIT trap cleans up.  The daemons' logs go to
# the test log first, since they usually say why.
lib_fail() {
	echo "FAIL: $LIB_NAME: $*" >&2
	lib_dump_logs >&2
	exit 1
}

# Print every daemon log of this test (files $LIB_TMP/*.log).
lib_dump_logs() {
	local f
	for f in "${LIB_TMP:-/nonexistent}"/*.log; do
		[ -f "$f" ] || continue
		echo "----- $(basename "$f")"
		cat "$f"
	done
}

# Skip the test (missing privilege or tool).
lib_skip() {
	echo "SKIP: $LIB_NAME: $*" >&2
	exit 77
}

# The harness itself is broken (a binary missing, a helper misused).
lib_hard_error() {
	echo "ERROR: $LIB_NAME: $*" >&2
	exit 99
}

lib_pass() {
	echo "PASS: $LIB_NAME"
	exit 0
}

# Milliseconds on the wall clock; only differences are used.
lib__now_ms() {
	if [ -n "${EPOCHREALTIME:-}" ]; then
		local t=${EPOCHREALTIME//[!0-9]/}
		echo $((10#$t / 1000))
	else
		date +%s%3N
	fi
}

# Seconds ("5", "2.5") to milliseconds; hard error on anything else.
lib__secs_to_ms() {
	local frac
	if [[ $1 =~ ^([0-9]+)(\.([0-9]{1,3}))?$ ]]; then
		frac=${BASH_REMATCH[3]:-0}
		while [ ${#frac} -lt 3 ]; do
			frac=${frac}0
		done
		echo $((10#${BASH_REMATCH[1]} * 1000 + 10#$frac))
	else
		lib_hard_error "not a number of seconds: '$1'"
	fi
}

# lib_wait_for SECONDS CMD...: run CMD (output discarded) every 0.1 s
# until it succeeds (0) or SECONDS have passed (1).  An iteration cap
# bounds the loop even if the clock jumps.
lib_wait_for() {
	local ms end tries=0 max
	ms=$(lib__secs_to_ms "$1") || exit 99
	shift
	end=$(($(lib__now_ms) + ms))
	max=$((ms / 100 + 10))
	while :; do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		tries=$((tries + 1))
		if [ "$(lib__now_ms)" -ge "$end" ] ||
		    [ "$tries" -gt "$max" ]; then
			return 1
		fi
		sleep 0.1
	done
}

# Invert a command's status, for conditions such as "the device is gone".
lib_not() {
	! "$@"
}

# Is PID a live (not zombie) child of this shell?  Checking the parent
# keeps a recycled PID from ever being mistaken for ours.
lib__is_child() {
	local stat rest state ppid
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	rest=${stat##*) }
	read -r state ppid _ <<<"$rest"
	[ "$ppid" = "$$" ] && [ "$state" != Z ]
}

lib__all_gone() {
	local pid
	for pid in "$@"; do
		if lib__is_child "$pid"; then
			return 1
		fi
	done
	return 0
}

# lib_bg CMD...: start CMD in the background (redirect the call to
# capture its output) and record its PID, also in $LIB_BG_PID.  Call it
# from the test's main shell, not from a $(...) subshell, and give it a
# program rather than a shell function: a function would run in a
# subshell whose PID is not the program's.
lib_bg() {
	"$@" &
	LIB_BG_PID=$!
	LIB_PIDS+=("$LIB_BG_PID")
}

# lib_bg_ns SHORT CMD...: lib_bg inside a namespace ("ip netns exec" execs
# CMD, so the recorded PID is CMD's own).
lib_bg_ns() {
	local ns
	ns=$(lib_ns "$1")
	shift
	lib_bg ip netns exec "$ns" "$@"
}

# Stop processes by PID: TERM, up to 5 s, then KILL, up to 2 s; reap them.
lib__stop() {
	local pid live=()
	for pid in "$@"; do
		if lib__is_child "$pid"; then
			kill -TERM "$pid" 2>/dev/null
			live+=("$pid")
		fi
	done
	[ ${#live[@]} -gt 0 ] || return 0
	if ! lib_wait_for 5 lib__all_gone "${live[@]}"; then
		for pid in "${live[@]}"; do
			if lib__is_child "$pid"; then
				echo "# $LIB_NAME: PID $pid ignored SIGTERM;" \
				    "sending SIGKILL" >&2
				kill -KILL "$pid" 2>/dev/null
			fi
		done
		lib_wait_for 2 lib__all_gone "${live[@]}"
	fi
	for pid in "${live[@]}"; do
		# Only reap what is gone: wait must never block.
		if ! lib__is_child "$pid"; then
			wait "$pid" 2>/dev/null
		fi
	done
}

# lib_wait_pid PID SECONDS: wait for a lib_bg process to exit and return
# its exit status; on timeout stop it and return 124.
lib_wait_pid() {
	local pid=$1
	if ! lib_wait_for "$2" lib_not lib__is_child "$pid"; then
		echo "# $LIB_NAME: PID $pid still running after $2 s;" \
		    "stopping it" >&2
		lib__stop "$pid"
		return 124
	fi
	wait "$pid"
}

# lib_run SECONDS CMD...: run CMD in the foreground with a time bound;
# returns its status, or 124 if it had to be stopped.
lib_run() {
	local secs=$1
	shift
	lib_bg "$@"
	lib_wait_pid "$LIB_BG_PID" "$secs"
}

lib__file_or_exit() {
	[ -s "$1" ] || { [ -n "$2" ] && ! lib__is_child "$2"; }
}

# lib_wait_file FILE SECONDS [PID]: wait until FILE is non-empty (0), the
# time is up (1) or PID, if given, has exited first (2).
lib_wait_file() {
	local file=$1 secs=$2 pid=${3:-}
	lib_wait_for "$secs" lib__file_or_exit "$file" "$pid" || return 1
	[ -s "$file" ] && return 0
	return 2
}

# The full name of the test's namespace SHORT (names already carrying the
# prefix pass through).
lib_ns() {
	case $1 in
	"$LIB_PREFIX"*) echo "$1" ;;
	*) echo "$LIB_PREFIX$1" ;;
	esac
}

# lib_netns_add SHORT: create namespace "$LIB_PREFIX$SHORT", recorded for
# deletion, with lo up.
lib_netns_add() {
	local ns
	ns=$(lib_ns "$1")
	if [ ${#ns} -gt 15 ] || ! [[ $1 =~ ^[A-Za-z0-9_-]+$ ]]; then
		lib_hard_error "namespace name '$1': use 1 to 6 of" \
		    "[A-Za-z0-9_-]"
	fi
	ip netns add "$ns" || lib_fail "cannot create network namespace $ns"
	LIB_NETNS+=("$ns")
	ip -n "$ns" link set lo up || lib_fail "cannot bring up lo in $ns"
}

# lib_ns_etc SHORT FILE TEXT: write TEXT as /etc/netns/<ns>/FILE, which
# "ip netns exec" binds over /etc/FILE for each program it starts in the
# namespace (hosts, nsswitch.conf, resolv.conf), for programs started
# after the file first exists.  A later call rewrites the same file in
# place, so that a program already running sees the new text (a bind
# mount holds the inode: the file is never replaced).  The directory is
# removed on exit.
lib_ns_etc() {
	local ns dir
	ns=$(lib_ns "$1")
	dir=/etc/netns/$ns
	if [ ! -d "$dir" ]; then
		[ -d /etc/netns ] || LIB_NS_ETC_TOP=1
		mkdir -p "$dir" || lib_fail "cannot create $dir"
		LIB_NS_ETC+=("$dir")
	fi
	printf '%s\n' "$3" >"$dir/$2" || lib_fail "cannot write $dir/$2"
}

# lib_nsexec SHORT CMD...: run CMD inside the namespace.
lib_nsexec() {
	local ns
	ns=$(lib_ns "$1")
	shift
	ip netns exec "$ns" "$@"
}

# Refuse any address outside the documentation ranges.
lib__check_addr() {
	case $1 in
	198.51.100.* | 192.0.2.* | 203.0.113.* | 2001:db8:*) return 0 ;;
	esac
	lib_hard_error "address $1 is not in a documentation range"
}

# lib_addr_add SHORT IFNAME ADDR/LEN...: add addresses; IPv6 ones without
# duplicate address detection, so that they are usable at once.
lib_addr_add() {
	local ns=$1 dev=$2 a
	shift 2
	for a in "$@"; do
		lib__check_addr "$a"
		case $a in
		*:*) lib_nsexec "$ns" ip addr add "$a" dev "$dev" nodad ;;
		*) lib_nsexec "$ns" ip addr add "$a" dev "$dev" ;;
		esac || lib_fail "cannot add $a to $dev in $(lib_ns "$ns")"
	done
}

# lib_veth NS_A IF_A "ADDRS_A" NS_B IF_B "ADDRS_B": a veth pair between two
# namespaces (created inside them, so the names never touch the host),
# with space-separated addresses on each end, both ends up.
lib_veth() {
	local nsa nsb a b
	nsa=$(lib_ns "$1")
	nsb=$(lib_ns "$4")
	ip -n "$nsa" link add "$2" type veth peer name "$5" netns "$nsb" ||
		lib_fail "cannot create veth $2/$5 between $nsa and $nsb"
	read -r -a a <<<"$3"
	read -r -a b <<<"$6"
	lib_addr_add "$1" "$2" ${a[@]+"${a[@]}"}
	lib_addr_add "$4" "$5" ${b[@]+"${b[@]}"}
	ip -n "$nsa" link set "$2" up || lib_fail "cannot bring up $2 in $nsa"
	ip -n "$nsb" link set "$5" up || lib_fail "cannot bring up $5 in $nsb"
}

# lib_underlay NS_A NS_B: the standard underlay, "ul0" on both sides with
# $LIB_UL4_A/$LIB_UL6_A in NS_A and $LIB_UL4_B/$LIB_UL6_B in NS_B.
lib_underlay() {
	lib_veth "$1" ul0 "$LIB_UL4_A/$LIB_UL4_LEN $LIB_UL6_A/$LIB_UL6_LEN" \
	    "$2" ul0 "$LIB_UL4_B/$LIB_UL4_LEN $LIB_UL6_B/$LIB_UL6_LEN"
}

# lib_bridge SHORT BRIDGE [IFNAME...]: a bridge in the namespace with the
# given ports, all up (for the bridged-LAN tests).
lib_bridge() {
	local ns=$1 br=$2 port
	shift 2
	lib_nsexec "$ns" ip link add "$br" type bridge ||
		lib_fail "cannot create bridge $br in $(lib_ns "$ns")"
	for port in "$@"; do
		lib_nsexec "$ns" ip link set "$port" master "$br" up ||
			lib_fail "cannot add $port to $br in $(lib_ns "$ns")"
	done
	lib_nsexec "$ns" ip link set "$br" up ||
		lib_fail "cannot bring up $br in $(lib_ns "$ns")"
}

# lib_require_cmd CMD...: skip unless every command exists.
lib_require_cmd() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || lib_skip "needs $c"
	done
}

# lib_require_bin VAR DEFAULT: the program in $VAR (or DEFAULT) must be
# executable; make check builds it, so its absence is a harness error.
lib_require_bin() {
	local var=$1 path
	path=${!var:-$2}
	[ -x "$path" ] || lib_hard_error "$var: $path is not an executable" \
	    "(run the test through make check)"
	printf -v "$var" '%s' "$path"
}

# ----- tapline daemons -----

# lib_key NAME: a fresh key file $LIB_TMP/NAME.key (mode 0600).
lib_key() {
	"$TAPLINE" genkey "$LIB_TMP/$1.key" 2>/dev/null ||
		lib_fail "tapline genkey $LIB_TMP/$1.key failed"
}

# lib_keypair NS FILE: a new private key made in namespace NS (as a host
# makes its own); prints its public key, the other host's peer_key.
lib_keypair() {
	lib_nsexec "$1" "$TAPLINE" genkey --private "$2" >/dev/null 2>&1 ||
		lib_fail "tapline genkey --private $2 failed"
	lib_nsexec "$1" "$TAPLINE" pubkey "$2" ||
		lib_fail "tapline pubkey $2 failed"
}

# lib_server SHORT CONF [ARGS...]: start "tapline -n -v -s -f CONF" in the
# namespace, log in $LIB_TMP/server-SHORT.log, PID in $LIB_BG_PID, and
# wait (10 s) until it listens.
lib_server() {
	local ns=$1 conf=$2 log
	shift 2
	log="$LIB_TMP/server-$ns.log"
	lib_bg_ns "$ns" "$TAPLINE" -n -v -s -f "$conf" "$@" >>"$log" 2>&1
	lib_wait_for 10 grep -q "listening on" "$log" ||
		lib_fail "the server in $(lib_ns "$ns") did not start listening"
}

# lib_client SHORT CONF SESSION SERVER [ARGS...]: start a client in the
# namespace, log in $LIB_TMP/client-SHORT-SESSION.log, PID in $LIB_BG_PID.
lib_client() {
	local ns=$1 conf=$2 session=$3 server=$4
	shift 4
	lib_bg_ns "$ns" "$TAPLINE" -n -v -f "$conf" "$@" "$session" \
	    "$server" >>"$LIB_TMP/client-$ns-$session.log" 2>&1
}

# Is device DEV in namespace SHORT up (and, if given, has address ADDR)?
lib_dev_up() {
	local out
	out=$(lib_nsexec "$1" ip -o addr show dev "$2" 2>/dev/null) || return 1
	lib_nsexec "$1" ip -o link show dev "$2" | grep -q "[<,]UP[,>]" ||
		return 1
	[ -z "${3:-}" ] || grep -qF " $3/" <<<"$out"
}

# lib_wait_up SHORT DEV SECONDS [ADDR]: wait until the tunnel device is up.
lib_wait_up() {
	lib_wait_for "$3" lib_dev_up "$1" "$2" "${4:-}" ||
		lib_fail "$2 did not come up in $(lib_ns "$1") within $3 s"
}

# lib_wait_log FILE SECONDS PATTERN: wait until a log line matches
# (grep -E).
lib_wait_log() {
	lib_wait_for "$2" grep -qE -- "$3" "$1"
}

# lib_ping SHORT ADDR [COUNT]: ping from the namespace; every echo must
# come back (bounded: at most 2 s per echo).
lib_ping() {
	local n=${3:-3}
	lib_nsexec "$1" ping -n -q -c "$n" -i 0.2 -W 2 "$2" >/dev/null 2>&1
}

# lib_transfer FROM TO ADDR PORT FILE: send FILE with nc from namespace
# FROM to a receiver listening on ADDR:PORT in namespace TO and fail unless
# the same sha256 arrives (60 s for the send, 10 s for the receiver).
lib_transfer() {
	local from=$1 to=$2 addr=$3 port=$4 file=$5 out rx rc want got
	out=$LIB_TMP/transfer.out
	want=$(sha256sum <"$file") || lib_hard_error "sha256sum $file failed"
	lib_bg_ns "$to" nc -d -l "$addr" "$port" >"$out"
	rx=$LIB_BG_PID
	lib_wait_for 5 lib__listening "$to" "$port" ||
		lib_fail "nc in $(lib_ns "$to") does not listen on $addr"
	# shellcheck disable=SC2016 # sh expands them
	lib_run 60 ip netns exec "$(lib_ns "$from")" \
	    sh -c 'exec nc -N "$1" "$2" <"$3"' sh "$addr" "$port" "$file"
	rc=$?
	[ "$rc" = 0 ] || lib_fail "sending $from -> $to ($addr) failed" \
	    "(status $rc); UDP and reassembly errors: $(lib__net_errors "$from")" \
	    "in $from, $(lib__net_errors "$to") in $to"
	lib_wait_pid "$rx" 10 ||
		lib_fail "the receiver in $(lib_ns "$to") did not finish"
	got=$(sha256sum <"$out")
	[ "$got" = "$want" ] || lib_fail "$from -> $to ($addr): sha256" \
	    "differs ($(stat -c %s "$out") of $(stat -c %s "$file") bytes" \
	    "arrived)"
	rm -f "$out"
}

# The kernel's counters of datagrams it dropped in namespace $1: a lost
# datagram explains a stalled transfer through a tunnel that cannot
# recover from loss.
lib__net_errors() {
	lib_nsexec "$1" nstat -az UdpRcvbufErrors UdpSndbufErrors \
	    UdpInErrors IpReasmFails 2>/dev/null |
		awk 'NR > 1 { printf "%s%s %s", sep, $1, $2; sep = ", " }'
}

# Is something listening on TCP port $2 in namespace $1?
lib__listening() {
	lib_nsexec "$1" ss -Hltn "sport = :$2" | grep -q .
}

# Skip unless this is root with CAP_NET_ADMIN, ip netns works and
# /dev/net/tun exists.
lib_require_root() {
	local capeff probe
	# make distcheck sets this: the tests already ran on the real tree.
	[ -z "${TAPLINE_SKIP_INTEGRATION:-}" ] ||
		lib_skip "TAPLINE_SKIP_INTEGRATION is set"
	[ "$(id -u)" = 0 ] || lib_skip "needs root"
	capeff=$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status)
	# CAP_NET_ADMIN is capability bit 12.
	if [ -z "$capeff" ] || ! (((0x$capeff >> 12) & 1)); then
		lib_skip "needs CAP_NET_ADMIN"
	fi
	lib_require_cmd ip
	[ -c /dev/net/tun ] || lib_skip "needs /dev/net/tun"
	probe=$(lib_ns p)
	ip netns add "$probe" 2>/dev/null ||
		lib_skip "ip netns add does not work here"
	LIB_NETNS+=("$probe")
	ip netns del "$probe" 2>/dev/null
}

# The EXIT trap: stop our processes, delete our namespaces and files, and
# keep the test's exit status.
lib__cleanup() {
	local rc=$? ns pid strays
	trap - EXIT INT TERM
	lib__stop ${LIB_PIDS[@]+"${LIB_PIDS[@]}"}
	for ns in ${LIB_NETNS[@]+"${LIB_NETNS[@]}"}; do
		[ -e "/run/netns/$ns" ] || continue
		# Whatever still runs inside our own namespace (say, a child
		# of the daemon) is ours too; stop it by PID.
		strays=$(ip netns pids "$ns" 2>/dev/null)
		for pid in $strays; do
			kill -KILL "$pid" 2>/dev/null
		done
		ip netns del "$ns" 2>/dev/null ||
			echo "# $LIB_NAME: could not delete namespace $ns" >&2
	done
	for ns in ${LIB_NS_ETC[@]+"${LIB_NS_ETC[@]}"}; do
		rm -rf "$ns"
	done
	# /etc/netns itself if this test made it and nothing else is in it.
	[ -z "$LIB_NS_ETC_TOP" ] || rmdir /etc/netns 2>/dev/null
	[ -n "$LIB_TMP" ] && rm -rf "$LIB_TMP"
	exit "$rc"
}

trap lib__cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

LIB_TMP=$(mktemp -d "${TMPDIR:-/tmp}/tapline-$LIB_NAME.XXXXXX") ||
	lib_hard_error "mktemp failed"

# ----- A routed underlay: client, router, server (pmtu.sh, udp_bridge.sh) ---
# lib_routed CLI RTR SRV: CLI's "ul0" to RTR's "rc0" (198.51.100.0/25,
# 2001:db8:1:1::/64), RTR's "rs0" to SRV's "ul0" (198.51.100.128/25,
# 2001:db8:1:2::/64), forwarding on in RTR, default routes through it.
# Nothing filters ICMP: the router's "fragmentation needed" and "packet
# too big" must reach the ends.  lib_hop_mtu sets the MTU of the hop.
# shellcheck disable=SC2034
{
	LIB_RT4_CLI=198.51.100.2
	LIB_RT4_RC=198.51.100.1
	LIB_RT4_SRV=198.51.100.130
	LIB_RT4_RS=198.51.100.129
	LIB_RT6_CLI=2001:db8:1:1::2
	LIB_RT6_RC=2001:db8:1:1::1
	LIB_RT6_SRV=2001:db8:1:2::2
	LIB_RT6_RS=2001:db8:1:2::1
}
lib_routed() {
	local cli=$1 rtr=$2 srv=$3
	lib_veth "$cli" ul0 "$LIB_RT4_CLI/25 $LIB_RT6_CLI/64" \
	    "$rtr" rc0 "$LIB_RT4_RC/25 $LIB_RT6_RC/64"
	lib_veth "$rtr" rs0 "$LIB_RT4_RS/25 $LIB_RT6_RS/64" \
	    "$srv" ul0 "$LIB_RT4_SRV/25 $LIB_RT6_SRV/64"
	lib_nsexec "$rtr" sysctl -q -w net.ipv4.ip_forward=1 \
	    net.ipv6.conf.all.forwarding=1 >/dev/null ||
		lib_fail "cannot turn on forwarding in $(lib_ns "$rtr")"
	lib_nsexec "$cli" ip route add default via "$LIB_RT4_RC" &&
		lib_nsexec "$cli" ip -6 route add default via "$LIB_RT6_RC" &&
		lib_nsexec "$srv" ip route add default via "$LIB_RT4_RS" &&
		lib_nsexec "$srv" ip -6 route add default via "$LIB_RT6_RS" ||
		lib_fail "cannot route through $(lib_ns "$rtr")"
}

# lib_hop_mtu RTR SRV MTU: the router-server link carries MTU bytes (both
# ends, as a real link: a veth drops frames above its own MTU silently).
# The client learns it only from the router's ICMP; the server from its
# own interface.
lib_hop_mtu() {
	lib_nsexec "$1" ip link set rs0 mtu "$3" &&
		lib_nsexec "$2" ip link set ul0 mtu "$3" ||
		lib_fail "cannot set the hop MTU $3"
}
