#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A pre-authentication slot flood from many addresses (ATTACKS.md rows 18
# and 30) must not lock out a legitimate client.  From its own namespace
# (atk, its own veth to the server) preauthflood keeps 8 connections
# open from every one of
#  - 32 IPv6 addresses of one /64 (2001:db8:3::/64), sending nothing;
#  - 16 IPv4 addresses (198.51.100.16/28, the /24 of the legitimate
#    client's own underlay), each sending a partial ClientHello;
#  - 20 IPv6 addresses in 20 different /48s (2001:db8:100::1 ...), so
#    that the flood asks for 544 slots, far over the global cap of 128;
# and reconnects 0.2 s after the server closes one.  Once the flood holds
# at least 40 of the server's descriptors, a legitimate client (a fresh
# process each time, from 198.51.100.2 and 2001:db8:1::2 in turn, which
# no attacker uses) must bring its tunnel up and pass a ping within 5 s,
# in each of 20 tries.  Asserted besides: the server stays alive, and its
# descriptors for pre-authentication connections never exceed the
# global cap (128) by more than a few.
# shellcheck disable=SC2317 # functions run by lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"
lib_require_bin PREAUTHFLOOD "${top_builddir:-.}/tests/tools/preauthflood"

port=5000
tries=${PREAUTH_TRIES:-20}

lib_netns_add srv
lib_netns_add cli
lib_netns_add atk
lib_underlay srv cli
# IPv6 neighbour discovery answers only for the receiving interface's
# addresses: the server's address goes on its end of the veth too.
lib_veth srv ul1 "$LIB_UL6_A/128" atk ul0 ""
# The attacker's addresses, and routes for them on the server's side
# (more specific than the underlay's /24 and /64 on ul0).
v6net=() v4src=() v6far=()
for ((i = 1; i <= 32; i++)); do
	v6net+=("2001:db8:3::$(printf '%x' $((0x100 + i)))")
done
for ((i = 16; i < 32; i++)); do
	v4src+=("198.51.100.$i")
done
for ((i = 0; i < 20; i++)); do
	v6far+=("2001:db8:$(printf '%x' $((0x100 + i)))::1")
done
for a in "${v6net[@]}" "${v6far[@]}"; do
	lib_addr_add atk ul0 "$a/128"
done
for a in "${v4src[@]}"; do
	lib_addr_add atk ul0 "$a/32"
done
for r in 198.51.100.16/28 2001:db8:3::/64 2001:db8:100::/40; do
	lib_nsexec srv ip route add "$r" dev ul1 ||
		lib_fail "cannot route $r to the attacker in the server's namespace"
done
for r in "$LIB_UL4_A/32" "$LIB_UL6_A/128"; do
	lib_nsexec atk ip route add "$r" dev ul0 ||
		lib_fail "cannot route $r in the attacker's namespace"
done
lib_key cobra

cat >"$LIB_TMP/server.conf" <<CONF
options = { port = $port; control = "$LIB_TMP/srv.sock"; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
cat >"$LIB_TMP/client.conf" <<CONF
options = { port = $port; control = "$LIB_TMP/cli.sock"; };
cobra = {
  key = "$LIB_TMP/cobra.key";
  device = "tl-cobra";
  address = [ "$LIB_TUN4_B/30" ];
};
CONF
slog=$LIB_TMP/server-srv.log

lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
fds() { find "/proc/$server/fd" -mindepth 1 -maxdepth 1 | wc -l; }
fd0=$(fds)

# The three floods.
flood() {
	local name=$1
	shift
	lib_bg_ns atk "$PREAUTHFLOOD" --per-src 8 --pause-ms 200 \
	    --max-seconds 400 --ready "$LIB_TMP/$name.ready" \
	    --stats "$LIB_TMP/$name.stats" "$@" >"$LIB_TMP/$name.out" 2>&1
}
flood v6net --to "[$LIB_UL6_A]:$port" "${v6net[@]}"
f1=$LIB_BG_PID
flood v4 --partial --to "$LIB_UL4_A:$port" "${v4src[@]}"
f2=$LIB_BG_PID
flood v6far --to "[$LIB_UL6_A]:$port" "${v6far[@]}"
f3=$LIB_BG_PID
for f in v6net v4 v6far; do
	lib_wait_file "$LIB_TMP/$f.ready" 20 ||
		lib_fail "the $f flood did not connect every slot in 20 s:" \
		    "$(cat "$LIB_TMP/$f.out")"
done
held_at_least() { [ $(($(fds) - fd0)) -ge "$1" ]; }
lib_wait_for 10 held_at_least 40 ||
	lib_fail "the flood holds only $(($(fds) - fd0)) of the server's descriptors"
lib_log "the flood holds $(($(fds) - fd0)) of the server's descriptors"

# One try: a fresh client to SERVER_ADDR must be up and pass a ping
# within 5 s; then it is stopped and the server's session must go.
maxfd=0 failed=0
for ((t = 1; t <= tries; t++)); do
	if ((t % 2)); then to=$LIB_UL4_A; else to=$LIB_UL6_A; fi
	t0=$(lib__now_ms)
	lib_client cli "$LIB_TMP/client.conf" cobra "$to"
	client=$LIB_BG_PID
	if lib_wait_for 5 lib_ping cli "$LIB_TUN4_A" 1; then
		lib_log "try $t ($to): up and answering after" \
		    "$(($(lib__now_ms) - t0)) ms"
	else
		lib_log "try $t ($to): no tunnel within 5 s"
		failed=$((failed + 1))
	fi
	f=$(fds)
	[ "$f" -gt "$maxfd" ] && maxfd=$f
	kill -TERM "$client"
	lib_wait_pid "$client" 10
	lib_wait_for 10 lib_not lib_dev_up srv tl-cobra ||
		lib_fail "the server's session did not end after try $t"
	kill -0 "$server" || lib_fail "the server died"
	for g in "$f1" "$f2" "$f3"; do
		lib__is_child "$g" || lib_fail "a flood generator stopped early"
	done
done
kill -TERM "$f1" "$f2" "$f3"
for f in "$f1" "$f2" "$f3"; do
	lib_wait_pid "$f" 10
done
for f in v6net v4 v6far; do
	lib_log "$f flood: $(tr '\n' ' ' <"$LIB_TMP/$f.stats" 2>/dev/null)"
done
lib_log "server descriptors: $fd0 before the flood, at most $maxfd" \
    "during the tries"
lib_log "refusals logged: $(grep -c "refusing a connection" "$slog")," \
    "evictions logged: $(grep -c "evicting" "$slog")"
[ "$failed" -eq 0 ] ||
	lib_fail "$failed of $tries tries got no tunnel within 5 s"
# 128 pre-authentication slots, the session's own descriptors, and some
# for connections being accepted, evicted or refused at that moment,
# whose close the loop has not reached yet: 2 to 4 over the cap in plain
# builds, up to 15 seen under ASan, which slows the loop down.  A cap
# that did not hold would show hundreds.
[ "$maxfd" -le $((fd0 + 128 + 24)) ] ||
	lib_fail "the server held $((maxfd - fd0)) more descriptors (cap 128)"
kill -TERM "$server"
lib_wait_pid "$server" 10 || lib_fail "the server did not exit 0"
lib_log "server: $(grep "unauthenticated connections:" "$slog")"
lib_pass
