#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Refused clients.  The server runs "cobra" (a key) and "viper" (a
# passphrase); three clients (persist = false) must all be refused:
#   wrong key      session "cobra" with another key file;
#   unknown name   session "mamba" with viper's passphrase (the name salts
#                  the passphrase, so the identity is one the server does
#                  not know);
#   renamed key    session "krait" with cobra's key file (the identity
#                  matches cobra, but the session name is part of the
#                  TLS PSK).
# For each: the server logs "authentication failed for NAME from
# 198.51.100.2:PORT: ... (identity HEX)" (NAME is "cobra" for the renamed
# key, else "unknown session"), the client logs its authentication failure and
# exits 1 within 15 s.  No tunnel device appears on either side (ip monitor
# watches both namespaces throughout) and no up command runs on either
# side (each writes a marker file).  The client cannot tell the three
# cases apart: it sees the same error each time.
# The right client then still gets in.  Every daemon runs at the highest
# verbosity (-v -v), and at the end no log may contain the passphrase or a
# key (ATTACKS.md row 26), in base64 or in hex.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

lib_netns_add srv
lib_netns_add cli
lib_underlay srv cli
lib_key cobra
lib_key other

T=$LIB_TMP
pass="a long passphrase for the viper tunnel"
# up MARKER: an up command that writes its marker file.
# shellcheck disable=SC2016  # sh expands $1
up() {
	printf '"/bin/sh -c '\''echo ran >\\"$1\\"'\'' sh %s"' "$1"
}

cat >"$T/server.conf" <<CONF
default = {
  proto = "tcp";
};
cobra = {
  key = "$T/cobra.key";
  device = "tl-cobra";
  address = [ "192.0.2.1/30" ];
  up = [ $(up "$T/up-server-cobra") ];
};
viper = {
  passwd = "$pass";
  device = "tl-viper";
  address = [ "192.0.2.5/30" ];
  up = [ $(up "$T/up-server-viper") ];
};
CONF
cat >"$T/client.conf" <<CONF
default = {
  persist = false;
  address = [ "192.0.2.2/30" ];
};
cobra = {
  key = "$T/other.key";
  device = "tl-cobra";
  up = [ $(up "$T/up-client-cobra") ];
};
mamba = {
  passwd = "$pass";
  device = "tl-mamba";
  up = [ $(up "$T/up-client-mamba") ];
};
krait = {
  key = "$T/cobra.key";
  device = "tl-krait";
  up = [ $(up "$T/up-client-krait") ];
};
CONF
# The right client, to show that the server still lets it in.
cat >"$T/good.conf" <<CONF
cobra = {
  key = "$T/cobra.key";
  persist = false;
  device = "tl-cobra";
  address = [ "192.0.2.2/30" ];
  up = [ $(up "$T/up-client-cobra") ];
};
CONF
chmod 600 "$T"/*.conf

lib_bg_ns srv ip -o monitor link >"$T/links-srv"
lib_bg_ns cli ip -o monitor link >"$T/links-cli"
lib_server srv "$T/server.conf" -v
server=$LIB_BG_PID
slog=$T/server-srv.log

# Has the server logged more than $1 authentication failures?
# shellcheck disable=SC2317  # called through lib_wait_for
failures_above() {
	[ "$(grep -c "authentication failed for" "$slog")" -gt "$1" ]
}

# refused SESSION NAME: the client for SESSION is refused, and the server
# names the attempt NAME.
refused() {
	local session=$1 name=$2 client rc log=$T/client-cli-$1.log n
	n=$(grep -c "authentication failed for" "$slog")
	lib_client cli "$T/client.conf" "$session" "$LIB_UL4_A" -v
	client=$LIB_BG_PID
	lib_wait_pid "$client" 15
	rc=$?
	[ "$rc" = 1 ] || lib_fail "$session: the client exited with $rc," \
	    "not 1"
	grep -q "$session: authentication with $LIB_UL4_A:5000 failed: " \
	    "$log" || lib_fail "$session: the client logged no" \
	    "authentication failure"
	lib_wait_for 5 failures_above "$n" ||
		lib_fail "$session: the server logged no authentication failure"
	grep "authentication failed for" "$slog" | tail -n 1 |
	    grep -qE "authentication failed for $name from $LIB_UL4_B:[0-9]+: .*\(identity [0-9a-f]{32}\)$" ||
		lib_fail "$session: the server's log line does not name" \
		    "$name, $LIB_UL4_B and the identity"
	! grep -qE "up with|authenticated " "$log" ||
		lib_fail "$session: the client got a session"
	lib_log "$session: refused"
}

refused cobra "unknown session"
refused mamba "unknown session"
refused krait cobra
why=$(sed -n 's/.*: authentication with [^ ]* failed: //p' \
    "$T"/client-cli-{cobra,mamba,krait}.log | sort -u)
[ "$(wc -l <<<"$why")" = 1 ] ||
	lib_fail "the clients saw different failures:"$'\n'"$why"

! grep -qE "(cobra|viper): (authenticated|up with)" "$slog" ||
	lib_fail "the server accepted a refused client"
for f in "$T"/up-*; do
	[ -e "$f" ] && lib_fail "an up command ran: $(basename "$f")"
done

# Checking the monitors: a tun device made now must show up in both, and
# it must be the only tun or tapline device they saw (the underlay's veth
# may still report carrier changes).
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

# The server still serves: cobra with the right key gets in.
lib_client cli "$T/good.conf" cobra "$LIB_UL4_A" -v
client=$LIB_BG_PID
lib_wait_up cli tl-cobra 15 192.0.2.2
if [ ! -s "$T/up-server-cobra" ] || [ ! -s "$T/up-client-cobra" ]; then
	lib_fail "the right client's up commands did not run (are the" \
	    "markers wrong?)"
fi
kill -TERM "$client"
lib_wait_pid "$client" 10 || lib_fail "the right client did not exit 0"

kill -0 "$server" || lib_fail "the server died"

# No secret in any log, at debug level.
for k in "$T"/*.key; do
	b64=$(tr -d '\n' <"$k")
	hex=$(base64 -d <"$k" | od -An -tx1 | tr -d ' \n')
	for secret in "$b64" "$hex" "${hex:0:16}"; do
		if grep -rqiF -- "$secret" "$T"/*.log; then
			lib_fail "a log contains the key of $(basename "$k")"
		fi
	done
done
if grep -rqF -- "$pass" "$T"/*.log; then
	lib_fail "a log contains the viper passphrase"
fi
lib_log "no key or passphrase in $(cat "$T"/*.log | wc -l) log lines"
lib_pass
