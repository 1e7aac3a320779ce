# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Helpers around tests/tools/udprelay, the fault-injecting UDP relay
# (see the comment at the top of udprelay.c for its options).  Source it
# after lib.sh:
#
#	. "$(dirname "$lib")/udprelay_lib.sh"
#	udprelay_require
#	udprelay_start r relay --listen 198.51.100.2:6000 \
#	    --to 198.51.100.20:7000 --seed 1 --drop 3 --corrupt 1
#	relay=$LIB_BG_PID
#	...
#	udprelay_stop "$relay" || lib_fail "the relay failed"
#	dropped=$(udprelay_stat "$LIB_TMP/relay.stats" up_dropped)
#
# A relay or sink started here keeps its files in $LIB_TMP: NAME.ready (the
# bound address), NAME.stats ("key value" lines) and NAME.log.
#
# A tunnel's TLS control connection must take the same path as its
# datagrams: start the relay with --tcp and point the client at it.

if [ -n "${UDPRELAY_LIB_LOADED:-}" ]; then
	return 0
fi
UDPRELAY_LIB_LOADED=1

# udprelay_require: $UDPRELAY (default: the one make check builds) must be
# executable.
udprelay_require() {
	lib_require_bin UDPRELAY \
	    "${top_builddir:-.}/tests/tools/udprelay"
}

# Has IFNAME in namespace SHORT its IPv6 multicast route yet?
udprelay__mroute() {
	lib_nsexec "$1" ip -6 route show table local |
	    grep -q "^multicast ff00::/8 dev $2 "
}

# udprelay_wait_ipv6 SECONDS SHORT IFNAME [SHORT IFNAME]...: wait until
# IPv6 works on fresh interfaces.  The kernel adds an interface's
# ff00::/8 route a moment (here up to a few hundred ms) after the link
# comes up; until then a neighbour solicitation arriving there is
# dropped (Ip6InNoRoutes), so the first datagrams to a new neighbour
# wait a second for the retry, or are lost with their socket's queue.
udprelay_wait_ipv6() {
	local secs=$1
	shift
	while [ $# -ge 2 ]; do
		lib_wait_for "$secs" udprelay__mroute "$1" "$2" ||
			lib_fail "IPv6 did not come up on $2 in $(lib_ns "$1")"
		shift 2
	done
}

# udprelay_start SHORT NAME ARGS...: start "udprelay ARGS" (a relay or a
# --sink) in the namespace with --ready and --stats in $LIB_TMP/NAME.*,
# output in $LIB_TMP/NAME.log, and wait (5 s) until its socket is bound.
# The PID is in $LIB_BG_PID.
udprelay_start() {
	local ns=$1 name=$2
	shift 2
	rm -f "$LIB_TMP/$name.ready" "$LIB_TMP/$name.stats"
	lib_bg_ns "$ns" "$UDPRELAY" "$@" --ready "$LIB_TMP/$name.ready" \
	    --stats "$LIB_TMP/$name.stats" >>"$LIB_TMP/$name.log" 2>&1
	lib_wait_file "$LIB_TMP/$name.ready" 5 "$LIB_BG_PID" ||
		lib_fail "udprelay $name did not bind its socket within 5 s"
}

# udprelay_stop PID: SIGTERM (it writes its stats and exits 0) and wait
# up to 5 s; returns its exit status (124 if it had to be killed).
udprelay_stop() {
	# Only signal our own live child: a reaped PID may be someone else's.
	if lib__is_child "$1"; then
		kill -TERM "$1" 2>/dev/null
	fi
	lib_wait_pid "$1" 5
}

# udprelay_stat FILE KEY: print KEY's value from a stats file; status 1
# (and no output) if the file or the key is missing.
udprelay_stat() {
	local k v
	[ -r "$1" ] || return 1
	while read -r k v; do
		if [ "$k" = "$2" ]; then
			echo "$v"
			return 0
		fi
	done <"$1"
	return 1
}

# Is the stats file's serial number above $2?  (For lib_wait_for.)
udprelay__serial_above() {
	local s
	s=$(udprelay_stat "$1" stats_serial) || return 1
	[ "$s" -gt "$2" ]
}

# udprelay_snapshot NAME PID: have a running relay or sink rewrite
# $LIB_TMP/NAME.stats now (SIGUSR1) and wait (5 s) until it has.
udprelay_snapshot() {
	local file=$LIB_TMP/$1.stats before
	before=$(udprelay_stat "$file" stats_serial) || before=0
	lib__is_child "$2" || return 1
	kill -USR1 "$2" 2>/dev/null || return 1
	lib_wait_for 5 udprelay__serial_above "$file" "$before"
}

# udprelay_rebind PID: make a running relay move every client to a new
# upstream socket (a new source port, and the next --src address).
udprelay_rebind() {
	lib__is_child "$1" || return 1
	kill -USR2 "$1" 2>/dev/null
}

# udprelay_tcp_cut PID: make a running relay started with --tcp reset
# every TCP connection it passes through (both ends get an RST).
udprelay_tcp_cut() {
	lib__is_child "$1" || return 1
	kill -HUP "$1" 2>/dev/null
}
