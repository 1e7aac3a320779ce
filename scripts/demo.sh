#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The README's main job.  Installs what is missing, builds, and shows what
# tapline can do today: the config checker on the shipped example and on
# a broken file, key generation, and the TUN/TAP device layer at work in
# network namespaces of its own (a ping answered through a tun device, a
# 4-queue tap).  The tunnel between two hosts is the next milestone.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD

scripts/deps.sh || exit 1
scripts/build.sh || exit 1
make -s tests/integration/devprobe || exit 1

tmp=$(mktemp -d /tmp/tapline-demo.XXXXXX) || exit 1
trap 'rm -rf "$tmp"' EXIT

step() { printf '\n==> %s\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "tapline version"
show ./tapline version

step "check the shipped example config"
show ./tapline -t -f etc/tapline.conf || exit 1

step "a config with three mistakes: every one is named with file and line"
cat >"$tmp/bad.conf" <<'CONF'
options = { port = 70000; };
cobra = {
  passwd = "a long enough passphrase";
  proto = "udpp";
  kepalive = 10;
};
CONF
show ./tapline -t -f "$tmp/bad.conf"
echo "(exit status $?)"

step "make a session key (file mode 0600) and use it"
show ./tapline genkey "$tmp/cobra.key" || exit 1
ls -l "$tmp/cobra.key"
printf 'cobra = {\n  key = "%s";\n  device = "tl-cobra";\n  address = [ "192.0.2.1/30" ];\n};\n' \
    "$tmp/cobra.key" >"$tmp/key.conf"
show ./tapline -t -f "$tmp/key.conf" || exit 1

# The device layer: the integration tests build real devices in their own
# namespaces and remove them again; their output is the demonstration.
export top_srcdir=$top top_builddir=$top TAPLINE=$top/tapline \
    DEVPROBE=$top/tests/integration/devprobe
rc=0
step "a tun device: ping 192.0.2.2 through it, answered by tapline's device layer"
bash tests/integration/dev_tun_ping.sh || rc=1
step "a tap device with 4 queues (IFF_MULTI_QUEUE), one frame per queue"
bash tests/integration/dev_tap_multiqueue.sh || rc=1

if [ "$rc" -eq 0 ]; then
	step "demo done: config checker, keys and device layer all work"
else
	step "demo FAILED (see above)"
fi
exit "$rc"
