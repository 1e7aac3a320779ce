#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# options.user = "nobody": once its sockets are open the server runs as
# nobody with CAP_NET_ADMIN alone (effective, permitted, bounding,
# ambient), and still creates a device for every session that connects,
# configures it, and runs up commands that need CAP_NET_ADMIN themselves.
# A client started as nobody already (setpriv, as a unit's User= would)
# with options.user = "nobody" finds nothing to drop and runs.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_cmd ping
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"
id nobody >/dev/null 2>&1 || lib_skip "needs the user nobody"

lib_netns_add srv
lib_netns_add ca
lib_netns_add cb
lib_veth srv ula "198.51.100.1/30" ca ul0 "198.51.100.2/30"
lib_veth srv ulb "198.51.100.5/30" cb ul0 "198.51.100.6/30"
lib_key alpha
lib_key beta

cat >"$LIB_TMP/server.conf" <<CONF
options = { user = "nobody"; control = "$LIB_TMP/srv.sock"; };
alpha = {
  key = "$LIB_TMP/alpha.key";
  device = "tl-a";
  address = [ "192.0.2.1/30" ];
  up = [ "ip link set %d txqueuelen 777" ];
};
beta = {
  key = "$LIB_TMP/beta.key";
  device = "tl-b";
  address = [ "192.0.2.5/30" ];
  up = [ "ip link set %d txqueuelen 778" ];
};
CONF
for s in alpha:a:192.0.2.2 beta:b:192.0.2.6; do
	IFS=: read -r name dev addr <<<"$s"
	cat >"$LIB_TMP/$name.conf" <<CONF
$name = { key = "$LIB_TMP/$name.key"; device = "tl-$dev"; address = [ "$addr/30" ]; };
CONF
done

# On Debian /dev/net/tun is 0666 (udev); this machine may keep it 0600.
# Give the server's own mount namespace (ip netns exec makes one) a node
# with the usual mode instead of touching the host's.
mknod -m 0666 "$LIB_TMP/tun" c 10 200 || lib_skip "cannot make a tun node"
lib_bg_ns srv sh -c "mount --bind '$LIB_TMP/tun' /dev/net/tun &&
    exec '$TAPLINE' -n -v -s -f '$LIB_TMP/server.conf'" \
    >>"$LIB_TMP/server-srv.log" 2>&1
server=$LIB_BG_PID
lib_wait_log "$LIB_TMP/server-srv.log" 10 "running as nobody" ||
	lib_fail "the server did not drop to nobody"

status=/proc/$server/status
grep -q "^Uid:[[:space:]]*65534[[:space:]]*65534[[:space:]]*65534" "$status" ||
	lib_fail "the server's uid is not nobody: $(grep ^Uid "$status")"
for set in CapEff CapPrm CapBnd CapAmb; do
	v=$(sed -n "s/^$set:[[:space:]]*//p" "$status")
	[ "$v" = 0000000000001000 ] ||
		lib_fail "$set is $v, not CAP_NET_ADMIN (0000000000001000) alone"
done

lib_client ca "$LIB_TMP/alpha.conf" alpha 198.51.100.1
alpha=$LIB_BG_PID
lib_wait_up srv tl-a 15 192.0.2.1
lib_wait_for 10 lib_ping ca 192.0.2.1 1 || lib_fail "alpha does not ping"
# A second session after the drop still gets its device.
lib_client cb "$LIB_TMP/beta.conf" beta 198.51.100.5
lib_wait_up srv tl-b 15 192.0.2.5
lib_wait_for 10 lib_ping cb 192.0.2.5 1 || lib_fail "beta does not ping"
# The up commands ran as nobody and still could change the devices.
[ "$(lib_nsexec srv cat /sys/class/net/tl-a/tx_queue_len)" = 777 ] ||
	lib_fail "the up command for tl-a could not use CAP_NET_ADMIN"
[ "$(lib_nsexec srv cat /sys/class/net/tl-b/tx_queue_len)" = 778 ] ||
	lib_fail "the up command for tl-b could not use CAP_NET_ADMIN"
# Already that user (as a unit's User= starts it, with CAP_NET_ADMIN
# ambient): options.user is a no-op, not a failure for lack of
# CAP_SETUID, and the client still makes its device.
chmod 0711 "$LIB_TMP" || lib_hard_error "chmod $LIB_TMP"
cp "$LIB_TMP/alpha.key" "$LIB_TMP/alpha-nobody.key" &&
	chown nobody "$LIB_TMP/alpha-nobody.key" ||
	lib_hard_error "cannot make nobody's key"
cat >"$LIB_TMP/alpha-nobody.conf" <<CONF
options = { user = "nobody"; control = "$LIB_TMP/alpha-nobody.sock"; };
alpha = { key = "$LIB_TMP/alpha-nobody.key"; device = "tl-a"; address = [ "192.0.2.2/30" ]; };
CONF
kill -TERM "$alpha"
lib_wait_pid "$alpha" 15 || lib_fail "the alpha client did not exit 0"
lib_bg_ns ca sh -c "mount --bind '$LIB_TMP/tun' /dev/net/tun &&
    exec setpriv --reuid=nobody --regid=$(id -g nobody) --clear-groups \
    --inh-caps=-all,+net_admin --ambient-caps=+net_admin \
    --bounding-set=-all,+net_admin \
    '$TAPLINE' -n -v -f '$LIB_TMP/alpha-nobody.conf' alpha 198.51.100.1" \
    >>"$LIB_TMP/client-nobody.log" 2>&1
lib_wait_log "$LIB_TMP/client-nobody.log" 10 \
    "already running as nobody; nothing to drop" ||
	lib_fail "options.user = nobody, already nobody, was not a no-op"
lib_wait_for 15 lib_ping ca 192.0.2.1 1 ||
	lib_fail "the client that already ran as nobody does not ping"
lib_pass
