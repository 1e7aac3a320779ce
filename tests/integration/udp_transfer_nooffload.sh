#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# udp_transfer.sh with options.offload = false on both ends: one packet per
# device read and per datagram, the path every peer without offloads takes.
export TAPLINE_TEST_OFFLOAD=false
exec bash "$(dirname "$0")/udp_transfer.sh" "$@"
