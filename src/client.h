/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Client mode: connect, keep one session going (persist), reconnect. */
#ifndef TAPLINE_CLIENT_H
#define TAPLINE_CLIENT_H

#include "cli.h"
#include "conf.h"

/*
 * Run session cs against `server` (a host name or address from the
 * command line), or when it is NULL against the session's server list,
 * until the session ends for good; returns the process exit status.
 */
int client_run(const struct conf *conf, const struct conf_session *cs,
    const char *server, const struct cli *cli);

#endif
