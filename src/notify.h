/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Telling a service manager how the daemon is doing: systemd's readiness
 * protocol (sd_notify(3)).  The manager passes an AF_UNIX datagram socket
 * in $NOTIFY_SOCKET ("/path", or "@name" for the abstract namespace) and
 * each message is one datagram of newline-separated VAR=value lines.
 *
 * Without $NOTIFY_SOCKET (no systemd, a plain `tapline -n` in a shell)
 * every call does nothing, so the daemon runs the same with or without a
 * manager.  Builds configured with libsystemd send through sd_notify();
 * the others use the built-in sender below, which is all the protocol
 * needs.
 *
 * Like the log destination, the socket is process-wide by nature (one
 * environment); nothing here keeps state between calls.
 *
 * When to call what:
 *   notify_ready()      the daemon does its job, after any drop of root:
 *                       the server listens, the client's tunnel is up
 *                       (proc_ready() sends it once); again after a
 *                       reload has finished, once it was sent
 *   notify_status()     one line for `systemctl status`
 *   notify_reloading()  a reload (SIGHUP) begins; notify_ready() ends it
 *   notify_stopping()   a stop (SIGTERM/SIGINT) begins
 *   notify_watchdog_new() once the event loop exists: pings WATCHDOG=1
 *                       at half the manager's WatchdogSec, from the loop,
 *                       so that a stuck loop stops the pings
 */
#ifndef TAPLINE_NOTIFY_H
#define TAPLINE_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

struct event;
struct event_base;

/*
 * Send one message (e.g. "READY=1").  Returns 1 when it was sent, 0 when
 * no manager asked for messages ($NOTIFY_SOCKET unset or empty), and a
 * negative errno value when sending failed.
 */
int notify_send(const char *state);

int notify_ready(void);
int notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int notify_reloading(void);
int notify_stopping(void);
int notify_watchdog(void);

/*
 * The watchdog interval the manager asked this process for, in
 * microseconds ($WATCHDOG_USEC, if $WATCHDOG_PID is unset or ours), or 0.
 */
uint64_t notify_watchdog_usec(void);

/*
 * A timer on base that sends WATCHDOG=1 every half interval; NULL when no
 * watchdog is asked for (or out of memory, which is logged).  The caller
 * owns it: event_free() it with the loop.
 */
struct event *notify_watchdog_new(struct event_base *base);

/*
 * The built-in sender: one datagram with `state` to `addr` (the value of
 * $NOTIFY_SOCKET).  Same return values as notify_send(); -EINVAL for an
 * address that is neither "/path" nor "@name".  Always compiled, so that
 * the unit tests reach it in every build.
 */
int notify_builtin_send(const char *addr, const char *state);

#endif
