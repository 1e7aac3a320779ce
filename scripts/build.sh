#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Build tapline in the source tree: autoreconf, configure, make.  Reruns
# only the steps whose inputs changed.  Extra configure flags come from
# $TAPLINE_CONFIGURE_FLAGS (CI passes --enable-werror).
set -euo pipefail
cd "$(dirname "$0")/.."

flags="--sysconfdir=/etc --localstatedir=/var ${TAPLINE_CONFIGURE_FLAGS:-}"

if [[ ! -x configure || configure.ac -nt configure || Makefile.am -nt configure ]]; then
	echo "build: autoreconf"
	autoreconf -fi
fi
# Reconfigure when configure is newer or the flags differ from last time.
# shellcheck disable=SC2086,SC2116
if [[ ! -x config.status || configure -nt config.status ]] ||
	[[ "$(./config.status --config | tr -d "'")" != "$(echo $flags)" ]]; then
	echo "build: configure $flags"
	# shellcheck disable=SC2086
	./configure -q $flags
fi
echo "build: make"
make -j2 -s
