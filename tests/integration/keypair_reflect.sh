#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Role reflection with key pairs (issue 21): the host in namespace "h"
# serves cobra with its private key H and the peer key of host "x", and
# also dials cobra with the same key pair (private key H, peer_key = X's
# public key).  Its client sent back to its own server, as a "Selfie"
# reflection would, must fail in the TLS handshake itself, since the two
# public keys go into the PSK in role order (client's, then server's):
# the server logs "authentication failed for unknown session", never
# reaches reflect_self.sh's later refusal ("comes from this host
# itself"), and the client logs its authentication failure, does not
# come up, makes no device and exits 1.  The genuine client in "x"
# (private key X, peer_key = H's public key) then comes up and pings.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"

H=$LIB_TMP/h
X=$LIB_TMP/x
mkdir -m 700 "$H" "$X" || lib_hard_error "mkdir failed"
lib_netns_add h
lib_netns_add x
lib_underlay h x

HPUB=$(lib_keypair h "$H/host.key") || exit 1
XPUB=$(lib_keypair x "$X/host.key") || exit 1

cat >"$H/server.conf" <<CONF
options = { private_key = "$H/host.key"; };
cobra = {
  peer_key = "$XPUB";
  device = "tl-srv";
  address = [ "$LIB_TUN4_A/30" ];
};
CONF
# Host h's client of the same session, with the same key pair.
cat >"$H/client.conf" <<CONF
options = { private_key = "$H/host.key"; };
cobra = {
  peer_key = "$XPUB";
  persist = false;
  device = "tl-cli";
  address = [ "$LIB_TUN4_B/30" ];
};
CONF
cat >"$X/client.conf" <<CONF
options = { private_key = "$X/host.key"; };
cobra = {
  peer_key = "$HPUB";
  persist = false;
  device = "tl-cli";
  address = [ "$LIB_TUN4_B/30" ];
};
CONF
chmod 600 "$H"/*.conf "$X"/*.conf
slog=$LIB_TMP/server-h.log

lib_server h "$H/server.conf"
server=$LIB_BG_PID

lib_client h "$H/client.conf" cobra "$LIB_UL4_A"
lib_wait_pid "$LIB_BG_PID" 15
rc=$?
clog=$LIB_TMP/client-h-cobra.log
[ "$rc" = 1 ] || lib_fail "the reflected client exited $rc, not 1"
CLIENT_FAIL="cobra: authentication with $LIB_UL4_A:5000 failed: "
CLIENT_FAIL+='.*\(wrong key or passphrase\?\)$'
SERVER_FAIL="authentication failed for unknown session from $LIB_UL4_A:"
SERVER_FAIL+='[0-9]+: .*\(identity [0-9a-f]{32}\)$'
grep -qE "$CLIENT_FAIL" "$clog" ||
	lib_fail "the reflected client logged no authentication failure"
lib_wait_log "$slog" 5 "$SERVER_FAIL" ||
	lib_fail "the server did not refuse its own client in the handshake"
grep -q "comes from this host itself" "$slog" &&
	lib_fail "the reflection got past the handshake to the host check"
grep -qE "cobra: (authenticated|up with)" "$slog" "$clog" &&
	lib_fail "the reflected connection authenticated"
lib_nsexec h ip link show tl-cli >/dev/null 2>&1 &&
	lib_fail "the reflected client made its device"
lib_nsexec h ip link show tl-srv >/dev/null 2>&1 &&
	lib_fail "the server made a device for its own client"
lib_log "refused: $(grep -o 'authentication failed for .*' "$slog" | head -n 1)"

lib_client x "$X/client.conf" cobra "$LIB_UL4_A"
lib_wait_up x tl-cli 15 "$LIB_TUN4_B"
lib_wait_for 10 lib_ping x "$LIB_TUN4_A" 1 ||
	lib_fail "no ping from the genuine client"
lib_ping x "$LIB_TUN4_A" 5 || lib_fail "echoes lost from the genuine client"
kill -0 "$server" || lib_fail "the server died"
lib_pass
