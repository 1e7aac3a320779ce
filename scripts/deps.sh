#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Install the Debian 12 packages tapline needs to build, test and run its
# demo.  Idempotent: installs only what is missing, and says what it does.
set -euo pipefail

packages=(
	# build
	gcc make autoconf automake pkg-config
	libevent-dev libssl-dev zlib1g-dev libconfig-dev libcap-ng-dev
	libsystemd-dev
	# tests
	libcmocka-dev iproute2 iputils-ping procps netcat-openbsd jq
	# tests: systemd-analyze verify on the units, and systemd-journald for
	# the journal fields; the Debian package build, hardening-check on its
	# binary (devscripts, without recommends), lintian on the package
	systemd build-essential debhelper dpkg-dev devscripts lintian
	# tests: the server's bytes on the wire, captured on the underlay
	# (keypair.sh)
	tcpdump
	# tests: a NAT (masquerade) in front of a client, and forgetting
	# its mappings (udp_reattach.sh)
	nftables conntrack
	# tests: interop with Debian's vtund 3.0.4 (legacy = "vtun"), and
	# the vtund.conf examples import_vtund.sh reads
	vtun
	# tests: static analysis, and the fuzzers (libFuzzer comes with clang)
	cppcheck clang libclang-rt-14-dev
	# demo
	iperf3
)
# tests: promtool checks the OpenMetrics output (metrics.sh).  It comes
# with Debian's Prometheus server, which must not be started by the
# install: it is installed on its own, below, with a policy that
# forbids starting services.
quiet_packages=(prometheus)

missing=()
quiet_missing=()
for p in "${packages[@]}" "${quiet_packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[[ $status == "install ok installed" ]] && continue
	if [[ " ${quiet_packages[*]} " == *" $p "* ]]; then
		quiet_missing+=("$p")
	else
		missing+=("$p")
	fi
done

if ((${#missing[@]} + ${#quiet_missing[@]} == 0)); then
	echo "deps: all $((${#packages[@]} + ${#quiet_packages[@]})) packages present"
	exit 0
fi
if ((EUID != 0)); then
	echo "deps: missing packages: ${missing[*]}; run as root to install them" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
updated=false
# Install straight away when the package lists allow it; refresh them
# only if that fails (a fresh machine may have none, or stale ones).
install() {
	if ! apt-get install -y -q --no-install-recommends "$@"; then
		$updated || apt-get update -q
		updated=true
		apt-get install -y -q --no-install-recommends "$@"
	fi
}
if ((${#missing[@]} > 0)); then
	echo "deps: installing ${missing[*]}"
	install "${missing[@]}"
fi
if ((${#quiet_missing[@]} > 0)); then
	echo "deps: installing ${quiet_missing[*]} without starting services"
	# invoke-rc.d asks policy-rc.d: 101 means "do not start".  One
	# that is there already (a container's) is left as it is.
	policy=/usr/sbin/policy-rc.d
	if [[ ! -e $policy ]]; then
		printf '#!/bin/sh\nexit 101\n' >"$policy"
		chmod 755 "$policy"
		trap 'rm -f "$policy"' EXIT
	fi
	install "${quiet_missing[@]}"
fi
