#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Site-to-site Ethernet bridging over a UDP tap tunnel: tcp_bridge.sh's
# checks (ARP across, far MACs learnt on the tap port, the LAN's MTU 1500
# on the taps, 1500-byte pings with DF, 8 MiB of sha256-checked TCP
# between LAN hosts each way), over UDP on the plain underlay, then
# across a router whose link to the server carries only 1280 bytes: an
# Ethernet segment cannot ask its hosts for less, so the datagrams are
# fragmented by IP.  Before issue 18 the tap got MTU 1425 over UDP and
# the bridge dropped every 1500-byte frame.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
body=${top_srcdir:+$top_srcdir/tests/integration/tcp_bridge.sh}
[ -r "${body:-}" ] || body=$(dirname "$0")/tcp_bridge.sh
export BRIDGE_NAME=udp_bridge BRIDGE_PROTO=udp
bash "$body" || exit
BRIDGE_HOP=1280 exec bash "$body"
