/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Server mode: listen, authenticate, hand each client to a session. */
#ifndef TAPLINE_SERVER_H
#define TAPLINE_SERVER_H

#include "cli.h"
#include "conf.h"

/* Run until SIGTERM/SIGINT; returns the process exit status. */
int server_run(const struct conf *conf, const struct cli *cli);

#endif
