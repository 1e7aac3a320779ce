#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# dev.c's failures come back as clear messages, never a crash: in an empty
# namespace, devprobe open-errors checks names taken, no CAP_NET_ADMIN, no
# /dev/net/tun, descriptor exhaustion, the 256-queue limit, the MTU range
# and queue detach/attach errors against the real kernel, and nothing may
# be left behind.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_bin DEVPROBE "${top_builddir:-.}/tests/tools/devprobe"

lib_netns_add a
ns=$(lib_ns a)

lib_run 60 ip netns exec "$ns" "$DEVPROBE" open-errors \
    >"$LIB_TMP/errors.log" 2>&1
rc=$?
cat "$LIB_TMP/errors.log"
[ "$rc" -eq 0 ] || lib_fail "devprobe open-errors exited $rc"
[ -z "$(ip -n "$ns" -o link show type tun)" ] ||
	lib_fail "open-errors left devices behind: $(ip -n "$ns" -o link)"
lib_pass
