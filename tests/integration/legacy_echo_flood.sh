#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A vtund peer that authenticates to a legacy TCP session, then streams
# echo requests (20 00) and never reads (tests/ATTACKS.md: legacy echo
# flood).  Every request asks for a 2-byte reply; if the server kept
# reading and queueing replies, its memory would grow with what the peer
# sends until the whole daemon, native sessions included, is killed.  The
# server must stop reading the connection while its output is above the
# high-water mark and drop the replies it cannot queue (and count them):
# its VmRSS stays within a fixed bound of where it started while the peer
# pushes at it for up to 256 MiB or 10 s, and a native session on the
# same server pings through its tunnel all along.  Then the peer reads
# and sends vtund's close frame: the server reads it again, answers every
# request it did not drop, and its summary counts the dropped ones.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"
# shellcheck source=legacy_lib.sh
. "$(dirname "$lib")/legacy_lib.sh"

lib_require_root
lib_require_cmd ping
legacy_require
lib_require_bin LEGACYPEER "${top_builddir:-.}/tests/tools/legacypeer"
legacy_netns

# What the server's RSS may grow by during the flood: far above the
# connection's buffers (a few hundred KiB), far below what the peer can
# send when nothing stops it.
BOUND_KIB=$((64 << 10))
FLOOD_BYTES=$((256 << 20))
FLOOD_SECONDS=10
DRAIN_SECONDS=20

lib_key nat
cat >"$LIB_TMP/server.conf" <<CONF
options = { port = $LEGACY_PORT; control = "$LIB_TMP/server.sock"; };
default = { proto = "tcp"; };
nat = {
  key = "$LIB_TMP/nat.key";
  device = "tl-n";
  address = [ "192.0.2.1/30" ];
};
flood = {
  legacy = "vtun";
  passwd = "$LEGACY_PASS";
  type = "tun";
  device = "tl-f";
  address = [ "192.0.2.5/30" ];
};
CONF
cat >"$LIB_TMP/client.conf" <<CONF
options = { port = $LEGACY_PORT; control = "$LIB_TMP/client.sock"; };
default = { proto = "tcp"; persist = false; };
nat = {
  key = "$LIB_TMP/nat.key";
  device = "tl-n";
  address = [ "192.0.2.2/30" ];
};
CONF
chmod 600 "$LIB_TMP/server.conf" "$LIB_TMP/client.conf"

lib_server srv "$LIB_TMP/server.conf"
server=$LIB_BG_PID
slog=$LIB_TMP/server-srv.log
lib_client cli "$LIB_TMP/client.conf" nat "$LIB_UL4_A"
lib_wait_up cli tl-n 15 192.0.2.2
lib_wait_up srv tl-n 5 192.0.2.1
lib_wait_for 10 lib_ping cli 192.0.2.1 1 ||
	lib_fail "no ping through the native tunnel before the flood"

# VmRSS of the server in KiB.
rss() {
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB$/\1/p' "/proc/$server/status"
}
base=$(rss)
[ -n "$base" ] || lib_hard_error "cannot read the server's VmRSS"

plog=$LIB_TMP/peer.out
lib_bg_ns cli "$LEGACYPEER" --client "$LIB_UL4_A" --port "$LEGACY_PORT" \
    --host flood --passwd "$LEGACY_PASS" --flood "$FLOOD_BYTES" \
    --max-seconds "$FLOOD_SECONDS" --drain "$DRAIN_SECONDS" >"$plog" 2>&1
peer=$LIB_BG_PID
lib_wait_for 10 grep -q "^authenticated" "$plog" ||
	lib_fail "the fake vtund peer did not authenticate: $(cat "$plog")"
lib_wait_log "$slog" 10 "flood: up with" ||
	lib_fail "the server did not bring the legacy session up"

# The native tunnel during the flood: every echo must come back.
lib_bg_ns cli ping -n -q -c $((FLOOD_SECONDS * 4)) -i 0.25 -W 2 192.0.2.1 \
    >"$LIB_TMP/ping.out" 2>&1
ping=$LIB_BG_PID

# Sample the server's RSS until the peer is done (bounded: the peer's own
# deadlines, then 10 s more; each pass sleeps 0.1 s).
peak=$base
for ((i = 0; i < (FLOOD_SECONDS + DRAIN_SECONDS + 10) * 10; i++)); do
	now=$(rss)
	[ -n "$now" ] || lib_fail "the server died during the flood"
	[ "$now" -le "$peak" ] || peak=$now
	lib__is_child "$peer" || break
	sleep 0.1
done
lib_wait_pid "$peer" 5 || lib_fail "the fake vtund peer did not finish"
lib_log "$(grep "^flood:" "$plog")"
lib_log "$(grep "^drain:" "$plog")"
lib_log "server VmRSS: $base KiB before, peak $peak KiB" \
    "(+$((peak - base)) KiB; bound +$BOUND_KIB KiB)"
sent=$(sed -n 's/^flood: sent \([0-9]*\) bytes.*/\1/p' "$plog")
# The flood was real: more than the output mark of echo requests went in.
[ "${sent:-0}" -gt $((256 << 10)) ] ||
	lib_fail "the peer sent only ${sent:-0} bytes: no flood"
[ $((peak - base)) -le "$BOUND_KIB" ] ||
	lib_fail "the server's RSS grew by $((peak - base)) KiB (bound" \
	    "$BOUND_KIB KiB) while the peer sent $sent bytes of echo requests"

lib_wait_pid "$ping" 15 ||
	lib_fail "the native tunnel lost pings during the flood:" \
	    "$(tail -n 2 "$LIB_TMP/ping.out")"
lib_log "native pings during the flood: $(grep -o "[0-9]* received" \
    "$LIB_TMP/ping.out")"

# The close frame ended the session, which says what it dropped; every
# request the peer sent was either answered or counted as dropped.
lib_wait_log "$slog" 15 "flood: closing the session .*: closed by the peer" ||
	lib_fail "the server did not read the peer's close frame after" \
	    "the flood"
lib_wait_log "$slog" 15 "flood: session with .* lasted" ||
	lib_fail "the server did not end the flooding session"
dropped=$(sed -n 's/.*flood: session with .* echo replies \([0-9]*\);.*/\1/p' \
    "$slog")
replies=$(sed -n 's/^drain: \([0-9]*\) echo replies.*(eof)$/\1/p' "$plog")
lib_log "the server dropped ${dropped:-?} echo replies and sent" \
    "${replies:-?} of $(((sent + 1) / 2)) requests"
[ "${dropped:-0}" -gt 0 ] ||
	lib_fail "the server counted no dropped echo replies"
[ -n "$replies" ] ||
	lib_fail "the peer did not read up to the server's close"
[ $((replies + dropped)) = $(((sent + 1) / 2)) ] ||
	lib_fail "$replies replies and $dropped drops for" \
	    "$(((sent + 1) / 2)) echo requests"
lib_ping cli 192.0.2.1 ||
	lib_fail "the native tunnel stopped forwarding after the flood"
kill -0 "$server" || lib_fail "the server died"
lib_pass
