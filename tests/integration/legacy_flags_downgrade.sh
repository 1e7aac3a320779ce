#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A legacy client whose session says cipher = "aes128ecb" against a fake
# vtund server (tests/tools/legacypeer) that takes any password and
# answers with a FLAGS line of its choosing: what a man in the middle can
# send, since vtund's FLAGS travel in clear (tests/ATTACKS.md: legacy
# downgrade).  A line without encryption, or with Blowfish, is refused:
# the client ends with exit status 1 and a log line naming the session,
# the server's cipher and the configured one, and makes no device.  A
# stronger cipher (aes256ecb) is followed, as the server decides.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"
# shellcheck source=legacy_lib.sh
. "$(dirname "$lib")/legacy_lib.sh"

lib_require_root
lib_require_bin TAPLINE "${top_builddir:-.}/tapline"
lib_require_bin LEGACYPEER "${top_builddir:-.}/tests/tools/legacypeer"
legacy_netns

cat >"$LIB_TMP/client.conf" <<CONF
options = { port = $LEGACY_PORT; control = "$LIB_TMP/client.sock"; };
r1 = {
  legacy = "vtun";
  passwd = "$LEGACY_PASS";
  persist = false;
  proto = "tcp"; type = "tun";
  cipher = "aes128ecb";
  device = "tl-r1";
  address = [ "192.0.2.2/30" ];
};
CONF
chmod 600 "$LIB_TMP/client.conf"

# fake_server FLAGS: the fake server in srv, up to 20 s; its output in
# $LIB_TMP/peer.out, its PID in $peer.
fake_server() {
	: >"$LIB_TMP/peer.out"
	lib_bg_ns srv "$LEGACYPEER" --server "$LIB_UL4_A" \
	    --port "$LEGACY_PORT" --flags "$1" --max-seconds 20 \
	    >"$LIB_TMP/peer.out" 2>&1
	peer=$LIB_BG_PID
	lib_wait_for 10 grep -q "^listening" "$LIB_TMP/peer.out" ||
		lib_fail "the fake vtund server does not listen"
}

# Refused: exit 1, the reason logged, no device, the connection closed.
for row in "<TuK>:none" "<TuKE1>:blowfish128ecb"; do
	flags=${row%%:*} offered=${row#*:}
	log=$LIB_TMP/client-cli-r1.log
	: >"$log"
	fake_server "$flags"
	lib_client cli "$LIB_TMP/client.conf" r1 "$LIB_UL4_A"
	lib_wait_pid "$LIB_BG_PID" 15
	rc=$?
	lib_wait_pid "$peer" 25 || lib_fail "the fake server did not finish"
	lib_log "FLAGS $flags: client exit $rc;" \
	    "$(tail -n 1 "$LIB_TMP/peer.out")"
	lib_log "$(grep -m 1 "r1: .*cipher" "$log")"
	[ "$rc" = 1 ] ||
		lib_fail "FLAGS $flags: the client's exit status is $rc, not 1"
	want="the server offers cipher $offered, weaker than this"
	want="$want session's aes128ecb; refusing it"
	grep -qE "error: r1: .*$want" "$log" ||
		lib_fail "FLAGS $flags: no refusal naming the ciphers"
	! grep -q "r1: up with" "$log" ||
		lib_fail "FLAGS $flags: the client brought the session up"
	! lib_nsexec cli ip link show tl-r1 >/dev/null 2>&1 ||
		lib_fail "FLAGS $flags: the client made its device"
	grep -q "client closed after" "$LIB_TMP/peer.out" ||
		lib_fail "FLAGS $flags: the client kept the connection"
done

# Stronger than configured: followed.
log=$LIB_TMP/client-cli-r1.log
: >"$log"
fake_server "<TuKE13>"
lib_client cli "$LIB_TMP/client.conf" r1 "$LIB_UL4_A"
client=$LIB_BG_PID
lib_wait_up cli tl-r1 15 192.0.2.2
grep -q "r1: up with .*vtun aes256ecb" "$log" ||
	lib_fail "FLAGS <TuKE13>: the client did not follow aes256ecb"
kill -TERM "$client"
lib_wait_pid "$client" 10 || lib_fail "the client did not exit 0 on SIGTERM"
lib_wait_pid "$peer" 25 || lib_fail "the fake server did not finish"
lib_log "FLAGS <TuKE13>: followed; $(tail -n 1 "$LIB_TMP/peer.out")"
lib_pass
