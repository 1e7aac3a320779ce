#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Key pairs instead of a shared key (issue 21).  Each namespace makes its
# own private key with `tapline genkey --private` in a directory of its
# own ($LIB_TMP/srv, $LIB_TMP/cli); only the output of `tapline pubkey`
# crosses over.  No configuration has a key or passwd setting, every
# private key file is mode 0600, the files differ, and no file of one
# side holds the other side's private key.  `tapline pubkey FILE` and
# `tapline pubkey <FILE` print the same 44 base64 characters; -t prints
# each side's own public key and the peer's.  A UDP tunnel (cobra) and a
# TCP one (adder, the same two host keys) come up; 20 echoes through
# cobra lose none, and `tapline status` (text and JSON) shows on each
# side the key the peer used.
# Then the refusals, as tcp_auth_fail.sh's: a client with the wrong
# private key (a), with its genuine key for a session whose peer_key
# lists another (b), with the key pair of another session, viper (c),
# and for comparison a shared-key session with the wrong key file (d).
# Each one: the server logs "authentication failed for unknown session
# from 198.51.100.2:PORT: ... (identity HEX)", the client logs the same
# failure text in all four cases and exits 1, no device appears (ip
# monitor on both sides) and no up command runs.  The server's bytes on
# the wire (tcpdump on the underlay) in answer to the four ClientHellos
# are the same.  The tunnels up before keep working, and no log holds a
# private key.
# shellcheck disable=SC2317 # functions run through lib_wait_for
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping jq tcpdump cmp stat
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

PINGS=20
T=$LIB_TMP
S=$T/srv	# the server's own files
C=$T/cli	# the client's own files
mkdir -m 700 "$S" "$C" || lib_hard_error "mkdir failed"

lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli

# genkey NS FILE: a new private key, made inside the namespace.
genkey() {
	lib_nsexec "$1" "$TAPLINE" genkey --private "$2" \
	    >"$T/genkey.out" 2>&1 ||
		lib_fail "tapline genkey --private $2 failed:" \
		    "$(cat "$T/genkey.out")"
	[ "$(stat -c %a "$2")" = 600 ] ||
		lib_fail "$2 has mode $(stat -c %a "$2"), not 600"
}

# pubkey NS FILE: its public key, checked in both forms of the command.
B64PUB='^[A-Za-z0-9+/]{43}=$'
pubkey() {
	local a b
	a=$(lib_nsexec "$1" "$TAPLINE" pubkey "$2") ||
		lib_fail "tapline pubkey $2 failed"
	b=$(lib_nsexec "$1" "$TAPLINE" pubkey <"$2") ||
		lib_fail "tapline pubkey <$2 failed"
	[[ $a =~ $B64PUB ]] || lib_fail "pubkey $2: '$a' is not 44 base64 characters"
	[ "$a" = "$b" ] || lib_fail "pubkey $2: '$a' from the file, '$b' from stdin"
	[ "$a" != "$(tr -d '\n' <"$2")" ] ||
		lib_fail "pubkey $2 printed the private key"
	echo "$a"
}

genkey srv "$S/host.key"
genkey cli "$C/host.key"
SPUB=$(pubkey srv "$S/host.key") || exit 1
CPUB=$(pubkey cli "$C/host.key") || exit 1

# The commands' refusals: a private key is never replaced, and what is
# not a key gets a message naming where it came from and exit 1.
"$TAPLINE" genkey --private "$S/host.key" >"$T/again.out" 2>&1 &&
	lib_fail "genkey --private replaced $S/host.key"
[ "$("$TAPLINE" pubkey "$S/host.key")" = "$SPUB" ] ||
	lib_fail "a refused genkey changed $S/host.key"
for bad in "not a key" "AAAA" ""; do
	if out=$(printf '%s' "$bad" | "$TAPLINE" pubkey 2>&1); then
		lib_fail "pubkey took '$bad': $out"
	fi
	grep -q "^tapline: pubkey: standard input: " <<<"$out" ||
		lib_fail "pubkey of '$bad' said: $out"
done
chmod 644 "$C/host.key"
out=$("$TAPLINE" pubkey "$C/host.key" 2>&1) &&
	lib_fail "pubkey read a key file others can read: $out"
grep -q "readable by group or others" <<<"$out" ||
	lib_fail "pubkey of a 0644 key file said: $out"
chmod 600 "$C/host.key"
[ "$SPUB" != "$CPUB" ] || lib_fail "both hosts have the public key $SPUB"
! cmp -s "$S/host.key" "$C/host.key" ||
	lib_fail "both hosts have the same private key"
lib_log "server $SPUB, client $CPUB"

# up MARKER: an up command that appends a line to its marker file.
# shellcheck disable=SC2016  # sh expands $1
up() {
	printf '"/bin/sh -c '\''echo ran >>\\"$1\\"'\'' sh %s"' "$1"
}

# The other client keys of the refusals, and viper's client; their
# public keys go to the server as they would from their hosts.
genkey cli "$C/wrong.key"
genkey cli "$C/viper.key"
genkey cli "$C/unused.key"
VPUB=$(pubkey cli "$C/viper.key") || exit 1
UPUB=$(pubkey cli "$C/unused.key") || exit 1

# server_conf [EXTRA]: the server's file; EXTRA for the refusal phase.
server_conf() {
	cat >"$S/server.conf" <<CONF
options = {
  private_key = "$S/host.key";
  control = "$S/ctl.sock";
};
cobra = {
  peer_key = "$CPUB";
  proto = "udp";
  device = "tl-cobra";
  address = [ "192.0.2.1/30" ];
  up = [ $(up "$S/up") ];
};
adder = {
  peer_key = "$CPUB";
  proto = "tcp";
  device = "tl-adder";
  address = [ "192.0.2.5/30" ];
  up = [ $(up "$S/up") ];
};
viper = {
  peer_key = "$VPUB";
  device = "tl-viper";
  address = [ "192.0.2.9/30" ];
  up = [ $(up "$S/up") ];
};
krait = {
  peer_key = "$UPUB";
  device = "tl-krait";
  address = [ "192.0.2.13/30" ];
  up = [ $(up "$S/up") ];
};
${1:-}
CONF
	chmod 600 "$S/server.conf"
}
server_conf
cat >"$C/client.conf" <<CONF
options = {
  private_key = "$C/host.key";
  control = "$C/ctl.sock";
};
cobra = {
  peer_key = "$SPUB";
  device = "tl-cobra";
  address = [ "192.0.2.2/30" ];
};
adder = {
  peer_key = "$SPUB";
  device = "tl-adder";
  address = [ "192.0.2.6/30" ];
};
CONF
chmod 600 "$C/client.conf"

# No shared secret anywhere: no key or passwd setting, the key file and
# socket of each side's file are in its own directory, no file of one
# side holds the other's private key.
for f in "$S/server.conf" "$C/client.conf"; do
	! grep -qE '^[[:space:]]*(key|passwd)[[:space:]]*=' "$f" ||
		lib_fail "$(basename "$f") has a key or passwd setting"
done
for side in "$S:server" "$C:client"; do
	dir=${side%%:*}
	paths=$(sed -nE 's/^ *(private_key|control) *= *"([^"]*)".*/\2/p' \
	    "$dir/${side#*:}.conf")
	[ -n "$paths" ] || lib_hard_error "no paths in the ${side#*:} file"
	for p in $paths; do
		[ "${p#"$dir"/}" != "$p" ] ||
			lib_fail "the ${side#*:} file names $p, outside its own" \
			    "directory"
	done
done
grep -rqF -- "$(tr -d '\n' <"$S/host.key")" "$C" &&
	lib_fail "a client file holds the server's private key"
grep -rqF -- "$(tr -d '\n' <"$C/host.key")" "$S" &&
	lib_fail "a server file holds the client's private key"

# -t: each side's own public key beside its key file, the peer's key per
# session, and no private key.
check_t() {
	local ns=$1 conf=$2 own=$3 peer=$4 key=$5 out
	out=$(lib_nsexec "$ns" "$TAPLINE" -t -f "$conf" 2>&1) ||
		lib_fail "tapline -t -f $conf failed: $out"
	grep -qxF "  private_key: $key (public key $own)" <<<"$out" ||
		lib_fail "-t on $(basename "$conf") does not show" \
		    "'  private_key: $key (public key $own)':"$'\n'"$out"
	[ "$(sed -n '/^session cobra /,/^session /p' <<<"$out" |
	    grep -cxF "  peer_key[0]: $peer")" = 1 ] ||
		lib_fail "-t on $(basename "$conf") does not show cobra's" \
		    "peer_key[0]: $peer:"$'\n'"$out"
	! grep -qF -- "$(tr -d '\n' <"$key")" <<<"$out" ||
		lib_fail "-t on $(basename "$conf") printed the private key"
}
check_t srv "$S/server.conf" "$SPUB" "$CPUB" "$S/host.key"
check_t cli "$C/client.conf" "$CPUB" "$SPUB" "$C/host.key"

lib_server srv "$S/server.conf"
server=$LIB_BG_PID
slog=$T/server-srv.log
lib_client cli "$C/client.conf" cobra "$LIB_UL4_A"
lib_client cli "$C/client.conf" adder "$LIB_UL4_A"
lib_wait_up cli tl-cobra 15 192.0.2.2
lib_wait_up cli tl-adder 15 192.0.2.6
lib_wait_up srv tl-cobra 5 192.0.2.1
lib_wait_up srv tl-adder 5 192.0.2.5

# status SIDE CONF ARGS...: tapline status, answer in $T/status.out.
status() {
	local ns=$1 conf=$2
	shift 2
	lib_run 10 ip netns exec "$(lib_ns "$ns")" "$TAPLINE" status \
	    -f "$conf" "$@" >"$T/status.out" 2>"$T/status.err"
}
is_up() {
	status "$1" "$2" --json "$3" &&
	    [ "$(jq -r '.sessions[0].state' "$T/status.out")" = up ]
}
for s in cobra adder; do
	lib_wait_for 10 is_up srv "$S/server.conf" "$s" ||
		lib_fail "the server never said $s up"
	lib_wait_for 10 is_up cli "$C/client.conf" "$s" ||
		lib_fail "the client never said $s up"
done

out=$(lib_nsexec cli ping -n -q -c "$PINGS" -i 0.2 -W 2 192.0.2.1 2>&1)
lib_log "udp: $(grep transmitted <<<"$out")"
grep -q "^$PINGS packets transmitted, $PINGS received, 0% packet loss" \
    <<<"$out" || lib_fail "echoes through cobra (udp) were lost: $out"
out=$(lib_nsexec cli ping -n -q -c 5 -i 0.2 -W 2 192.0.2.5 2>&1)
lib_log "tcp: $(grep transmitted <<<"$out")"
grep -q "^5 packets transmitted, 5 received, 0% packet loss" <<<"$out" ||
	lib_fail "echoes through adder (tcp) were lost: $out"

# The key the peer used, in both forms of tapline status.
check_status() {
	local ns=$1 conf=$2 s=$3 peer=$4
	status "$ns" "$conf" --json "$s" ||
		lib_fail "$ns: tapline status --json $s failed"
	jq -e --arg k "$peer" '.sessions[0].peer_key == $k' \
	    "$T/status.out" >/dev/null || lib_fail "$ns: $s's peer_key is" \
	    "not $peer: $(jq -c '.sessions[0]' "$T/status.out")"
	status "$ns" "$conf" "$s" || lib_fail "$ns: tapline status $s failed"
	grep -E "^  peer key" "$T/status.out" | grep -qF -- "$peer" ||
		lib_fail "$ns: no '  peer key ... $peer' line in the text" \
		    "form:"$'\n'"$(cat "$T/status.out")"
}
for s in cobra adder; do
	check_status srv "$S/server.conf" "$s" "$CPUB"
	check_status cli "$C/client.conf" "$s" "$SPUB"
done
[ "$(wc -l <"$S/up")" = 2 ] ||
	lib_fail "the server ran $(wc -l <"$S/up") up commands, not 2"

# ----- The refusals -----
# (d)'s shared-key session joins the server by a reload.
genkey srv "$S/mamba.key"
genkey cli "$C/mamba.key"
server_conf "mamba = {
  key = \"$S/mamba.key\";
  device = \"tl-mamba\";
  address = [ \"192.0.2.17/30\" ];
  up = [ $(up "$S/up") ];
};"
kill -HUP "$server"
lib_wait_log "$slog" 10 \
    "reloaded: 5 sessions defined, 2 running unchanged, 0 closed" ||
	lib_fail "the server did not reload to 5 sessions, cobra and adder kept"

# refused_conf CASE PRIVATE SESSION SETTING: a client file for a case.
refused_conf() {
	cat >"$C/$1.conf" <<CONF
options = {
  ${2:+private_key = \"$2\";}
  control = "$C/ctl-$1.sock";
};
$3 = {
  $4;
  persist = false;
  device = "tl-r$1";
  address = [ "192.0.2.30/30" ];
  up = [ $(up "$C/up-$1") ];
};
CONF
	chmod 600 "$C/$1.conf"
}
refused_conf a "$C/wrong.key" cobra "peer_key = \"$SPUB\""
refused_conf b "$C/host.key" krait "peer_key = \"$SPUB\""
refused_conf c "$C/viper.key" cobra "peer_key = \"$SPUB\""
refused_conf d "" mamba "key = \"$C/mamba.key\""

lib_bg_ns srv ip -o monitor link >"$T/links-srv"
lib_bg_ns cli ip -o monitor link >"$T/links-cli"
# --immediate-mode: otherwise what still waits in the kernel's ring at
# the SIGTERM is never written.
lib_bg_ns srv tcpdump -i ul0 -n -U --immediate-mode -w "$T/refused.pcap" \
    "tcp port 5000" >"$T/tcpdump.log" 2>&1
tcpdump=$LIB_BG_PID
lib_wait_log "$T/tcpdump.log" 10 "listening on ul0" ||
	lib_fail "tcpdump did not start"

failures() {
	grep -c "authentication failed for" "$slog"
}
# The lines of a refusal: the client's (after "SESSION: "), the server's.
CLIENT_FAIL="authentication with $LIB_UL4_A:5000 failed: "
CLIENT_FAIL+='.*\(wrong key or passphrase\?\)$'
SERVER_FAIL="authentication failed for unknown session from $LIB_UL4_B:"
SERVER_FAIL+='([0-9]+): .*\(identity [0-9a-f]{32}\)$'
failures_above() {
	[ "$(failures)" -gt "$1" ]
}

# refused CASE SESSION: the client of the case is refused; its port on
# the server's side goes into $T/port-CASE.
refused() {
	local c=$1 s=$2 rc n line log=$T/client-$1.log
	n=$(failures)
	lib_bg_ns cli "$TAPLINE" -n -v -f "$C/$c.conf" "$s" "$LIB_UL4_A" \
	    >"$log" 2>&1
	lib_wait_pid "$LIB_BG_PID" 15
	rc=$?
	[ "$rc" = 1 ] || lib_fail "($c) the client exited with $rc, not 1"
	grep -qE "$s: $CLIENT_FAIL" "$log" ||
		lib_fail "($c) the client logged no authentication failure"
	lib_wait_for 5 failures_above "$n" ||
		lib_fail "($c) the server logged no authentication failure"
	line=$(grep "authentication failed for" "$slog" | tail -n 1)
	[[ $line =~ $SERVER_FAIL ]] ||
		lib_fail "($c) the server's line is not 'authentication failed" \
		    "for unknown session from $LIB_UL4_B:PORT: ... (identity" \
		    "HEX)': $line"
	echo "${BASH_REMATCH[1]}" >"$T/port-$c"
	! grep -qE "up with|authenticated" "$log" ||
		lib_fail "($c) the client got a session"
	lib_log "($c) $s refused: ${line#*: }"
}
refused a cobra		# the wrong private key
refused b krait		# a key the server does not list for krait
refused c cobra		# viper's key pair
refused d mamba		# a shared key, the wrong one
why=$(sed -n 's/.*: authentication with [^ ]* failed: //p' \
    "$T"/client-[abcd].log | sort -u)
[ "$(wc -l <<<"$why")" = 1 ] ||
	lib_fail "the clients saw different failures:"$'\n'"$why"
lib_log "every client saw: $why"

! grep -qE "(viper|krait|mamba): (authenticated|up with)" "$slog" ||
	lib_fail "the server accepted a refused client"
[ "$(grep -cE "(cobra|adder): authenticated" "$slog")" = 2 ] ||
	lib_fail "the server authenticated cobra or adder again"
[ "$(wc -l <"$S/up")" = 2 ] ||
	lib_fail "the server ran an up command for a refused client"
for f in "$C"/up-*; do
	[ -e "$f" ] && lib_fail "a refused client ran its up command: $f"
done

# No device: a device made now must show in both monitors, and be the
# only one they saw.
for ns in srv cli; do
	lib_nsexec "$ns" ip tuntap add dev tl-probe mode tun ||
		lib_fail "cannot add a tun device in $(lib_ns "$ns")"
done
for ns in srv cli; do
	lib_wait_for 5 grep -q tl-probe "$T/links-$ns" ||
		lib_fail "ip monitor in $(lib_ns "$ns") saw no new link"
	if grep -v tl-probe "$T/links-$ns" | grep -qE "tl-|link/none"; then
		lib_fail "a tunnel device appeared in $(lib_ns "$ns"):" \
		    $'\n'"$(cat "$T/links-$ns")"
	fi
	lib_nsexec "$ns" ip link del tl-probe
done

# The same bytes on the wire: the TCP payload the server sent on each
# refused connection (TLS records; an alert is in clear).
kill -TERM "$tcpdump"
lib_wait_pid "$tcpdump" 10 || lib_fail "tcpdump did not exit"
tcpdump -r "$T/refused.pcap" -n -x \
    "tcp and src host $LIB_UL4_A and src port 5000" 2>/dev/null | awk '
	function num(h,   i, n) {	# hex digits to a number (mawk has no strtonum)
		n = 0
		for (i = 1; i <= length(h); i++)
			n = n * 16 + index("0123456789abcdef", substr(h, i, 1)) - 1
		return n
	}
	function flush(   ihl, len, doff, start) {
		if (port == "")
			return
		ihl = num(substr(hex, 2, 1)) * 4
		len = num(substr(hex, 5, 4))
		doff = num(substr(hex, (ihl + 12) * 2 + 1, 1)) * 4
		start = (ihl + doff) * 2 + 1
		pay[port] = pay[port] substr(hex, start, len * 2 - start + 1)
		port = ""
	}
	/^[0-9]/ {
		flush()
		for (i = 1; i <= NF; i++)
			if ($i == ">") {
				port = $(i + 1)
				sub(/:$/, "", port)
				sub(/.*\./, "", port)
			}
		hex = ""
		next
	}
	/^[ \t]+0x[0-9a-f]+:/ {
		for (i = 2; i <= NF; i++)
			hex = hex $i
	}
	END {
		flush()
		for (p in pay)
			print p, pay[p]
	}' >"$T/replies" || lib_hard_error "cannot read the capture"
for c in a b c d; do
	port=$(cat "$T/port-$c")
	reply=$(awk -v p="$port" '$1 == p { print $2 }' "$T/replies")
	[ -n "$reply" ] || lib_fail "($c) no reply from the server to port" \
	    "$port in the capture:"$'\n'"$(cat "$T/replies")"
	echo "$reply" >"$T/reply-$c"
	lib_log "($c) the server sent ${#reply} hex digits: ${reply:0:64}"
done
for c in b c d; do
	cmp -s "$T/reply-a" "$T/reply-$c" ||
		lib_fail "the server answered (a) and ($c) differently:" \
		    "$(cat "$T/reply-a") vs $(cat "$T/reply-$c")"
done
[ "$(cut -c1-6 "$T/reply-a")" = 150303 ] ||
	lib_fail "the server's answer is not a TLS alert: $(cat "$T/reply-a")"

# The tunnels up before still work; the server lives.
lib_ping cli 192.0.2.1 3 || lib_fail "cobra stopped after the refusals"
lib_ping cli 192.0.2.5 3 || lib_fail "adder stopped after the refusals"
kill -0 "$server" || lib_fail "the server died"

# No private key in any log, at -v.
for k in "$S"/*.key "$C"/*.key; do
	b64=$(tr -d '\n' <"$k")
	hex=$(base64 -d <"$k" | od -An -tx1 | tr -d ' \n')
	for secret in "$b64" "$hex" "${hex:0:16}"; do
		if grep -rqiF -- "$secret" "$T"/*.log; then
			lib_fail "a log contains the key of $k"
		fi
	done
done
lib_pass
