#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A multi-queue tap made by dev.c.  devprobe opens "tlmq" with 4 queues;
# iproute2 must show multi_queue with 4 queues.  devprobe then checks each
# queue both ways (a frame written on queue i reaches the stack; flows
# sent out of the device are spread over the queues), detaches queue 1
# (iproute2 must show 3 queues, 1 disabled; no flow is steered to it),
# re-attaches it, and closes the device, which must then be gone.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
lib=${top_srcdir:+$top_srcdir/tests/integration/lib.sh}
[ -r "${lib:-}" ] || lib=$(dirname "$0")/lib.sh
# shellcheck source=lib.sh
. "$lib"

lib_require_root
lib_require_bin DEVPROBE "${top_builddir:-.}/tests/tools/devprobe"

queues=4
lib_netns_add a
ns=$(lib_ns a)

# show_queues: the "multi_queue numqueues N numdisabled M" part of
# ip -d link show (iproute2 6.1 prints it for multi-queue tun/tap).
show_queues() {
	ip -d -n "$ns" link show "$name" |
		grep -o "multi_queue numqueues [0-9]* numdisabled [0-9]*"
}

fail_with_log() {
	cat "$LIB_TMP/mq.log"
	lib_fail "$@"
}

lib_bg_ns a "$DEVPROBE" tap-mq tlmq "$queues" "$LIB_TMP/ready" 20 \
    >"$LIB_TMP/mq.log" 2>&1
probe=$LIB_BG_PID
lib_wait_file "$LIB_TMP/ready" 10 "$probe" ||
	fail_with_log "devprobe did not open its tap"
name=$(cat "$LIB_TMP/ready")
[ "$name" = tlmq ] || fail_with_log "the tap is named '$name', not tlmq"

link=$(ip -d -n "$ns" link show "$name") || fail_with_log "no $name in $ns"
echo "$link"
grep -q "tun type tap pi off" <<<"$link" || fail_with_log "not a tap, pi off"
grep -q "<[^>]*[<,]UP[,>]" <<<"$link" || fail_with_log "$name is not up"
q=$(show_queues)
[ "$q" = "multi_queue numqueues $queues numdisabled 0" ] ||
	fail_with_log "ip -d link shows '$q'"
kill -USR1 "$probe" || fail_with_log "cannot signal devprobe"

lib_wait_file "$LIB_TMP/ready.detached" 20 "$probe" ||
	fail_with_log "devprobe did not reach the detached checkpoint"
q=$(show_queues)
[ "$q" = "multi_queue numqueues $((queues - 1)) numdisabled 1" ] ||
	fail_with_log "after the detach ip -d link shows '$q'"
kill -USR1 "$probe" || fail_with_log "cannot signal devprobe"

lib_wait_pid "$probe" 30
rc=$?
cat "$LIB_TMP/mq.log"
[ "$rc" -eq 0 ] || lib_fail "devprobe tap-mq exited $rc"

lib_wait_for 5 lib_not ip -n "$ns" link show "$name" ||
	lib_fail "$name still exists after devprobe exited"
lib_pass
