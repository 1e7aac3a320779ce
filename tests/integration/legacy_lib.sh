# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Helpers for the interop tests with Debian's vtund 3.0.4 (package vtun):
# legacy_vtund_server.sh (tapline client, vtund server) and
# legacy_vtund_client.sh (vtund client, tapline server).  Source it after
# lib.sh:
#
#	. "$(dirname "$lib")/legacy_lib.sh"
#	legacy_require
#	legacy_netns		# namespaces srv and cli, IPv6 off
#	legacy_vtund_conf server "$LIB_TMP/vtund.conf"
#	legacy_tapline_conf client "$LIB_TMP/tapline.conf"
#
# Both sides get one session per row of LEGACY_ROWS, named r1, r2, ...,
# each with its own /30 from 192.0.2.0/24 (server .4i+1, client .4i+2)
# and its own device (tapline tl-rI, vtund vtI).  Every row is checked
# with legacy_check_row: pings both ways and a sha256-checked transfer
# both ways.
#
# Measured on Debian 12 (DESIGN facts of issue 8): vtund needs OpenSSL's
# legacy provider for Blowfish or it segfaults after authentication
# (OPENSSL_CONF below); it runs its up commands while it already
# forwards, and a packet into its tun before that is up can end its
# session (EIO), so IPv6 is off in both namespaces (no router
# solicitations) and traffic starts only once both devices are up.

# proto type cipher compress
LEGACY_ROWS=(
	"tcp tun none no"
	"udp tun aes128ecb zlib:9"
	"tcp tap blowfish128ecb zlib:1"
	"udp tap aes256ecb no"
)
LEGACY_PORT=5001
LEGACY_NC_PORT=5002
LEGACY_PASS=LegacyInterop-2016

legacy_require() {
	lib_require_cmd nc ss sha256sum base64 tc
	lib_require_bin TAPLINE "${top_builddir:-.}/tapline"
	VTUND=${VTUND:-/usr/sbin/vtund}
	[ -x "$VTUND" ] || lib_skip "needs vtund (Debian package vtun)"
	IP=$(command -v ip)
	# vtund's own OpenSSL configuration: the legacy provider for Blowfish.
	export OPENSSL_CONF_VTUND=$LIB_TMP/openssl-vtund.cnf
	cat >"$OPENSSL_CONF_VTUND" <<'CNF'
openssl_conf = openssl_init
[openssl_init]
providers = provider_sect
[provider_sect]
default = default_sect
legacy = legacy_sect
[default_sect]
activate = 1
[legacy_sect]
activate = 1
CNF
	# A file of mixed content: random bytes and base64 text, so that
	# zlib rows send both compressed and incompressible frames.
	LEGACY_DATA=$LIB_TMP/data
	{
		head -c $((1 << 20)) /dev/urandom
		head -c $((768 << 10)) /dev/urandom | base64 -w 0
	} >"$LEGACY_DATA" || lib_hard_error "cannot create $LEGACY_DATA"
}

legacy_netns() {
	local ns
	lib_netns_add srv
	lib_netns_add cli
	lib_underlay srv cli
	for ns in srv cli; do
		lib_nsexec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		    net.ipv6.conf.default.disable_ipv6=1 ||
			lib_hard_error "cannot disable IPv6 in $ns"
	done
}

# legacy_addr ROW SIDE: the tunnel address of row ROW (1-based) on SIDE
# (server or client).
legacy_addr() {
	local base=$((($1 - 1) * 4))
	if [ "$2" = server ]; then
		echo "192.0.2.$((base + 1))"
	else
		echo "192.0.2.$((base + 2))"
	fi
}

# legacy_vtund_conf SIDE FILE [PASSWD]: vtund's file with every row.
legacy_vtund_conf() {
	local side=$1 file=$2 pass=${3:-$LEGACY_PASS} i=0 row proto type \
	    cipher compress vtype enc
	{
		echo "options { port $LEGACY_PORT; ip $IP; }"
		for row in "${LEGACY_ROWS[@]}"; do
			i=$((i + 1))
			read -r proto type cipher compress <<<"$row"
			vtype=$type
			[ "$type" = tap ] && vtype=ether
			enc=$cipher
			[ "$cipher" = none ] && enc=no
			echo "r$i {"
			echo "  passwd $pass;"
			echo "  type $vtype;"
			echo "  device vt$i;"
			echo "  persist no;"
			if [ "$side" = server ]; then
				echo "  proto $proto;"
				echo "  encrypt $enc;"
				echo "  compress $compress;"
				echo "  keepalive yes;"
			fi
			echo "  up {"
			echo "    ip \"addr add $(legacy_addr $i "$side")/30 dev %%\";"
			echo "    ip \"link set %% up\";"
			echo "  };"
			echo "}"
		done
	} >"$file"
}

# legacy_tapline_conf SIDE FILE [PASSWD]: tapline's file with every row.
legacy_tapline_conf() {
	local side=$1 file=$2 pass=${3:-$LEGACY_PASS} i=0 row proto type \
	    cipher compress
	{
		echo "options = { port = $LEGACY_PORT;"
		echo "  control = \"$LIB_TMP/tapline-$side.sock\"; };"
		echo "default = { legacy = \"vtun\"; persist = false; };"
		for row in "${LEGACY_ROWS[@]}"; do
			i=$((i + 1))
			read -r proto type cipher compress <<<"$row"
			echo "r$i = {"
			echo "  passwd = \"$pass\";"
			echo "  proto = \"$proto\"; type = \"$type\";"
			echo "  cipher = \"$cipher\"; compress = \"$compress\";"
			echo "  device = \"tl-r$i\";"
			echo "  address = [ \"$(legacy_addr $i "$side")/30\" ];"
			echo "};"
		done
	} >"$file"
	chmod 600 "$file"
}

# legacy_pace_udp_zlib I NS: vtund's zlib is one stream per connection,
# also over UDP, so one datagram lost garbles every later frame (vtund
# then writes garbage to its device and fails with EINVAL).  tapline
# sends faster than vtund reads, and on a busy machine vtund's socket
# buffer overflowed about one run in three, always in the tapline ->
# vtund direction.  For a UDP zlib row, tapline's device is shaped to
# 20 Mbit/s, so that a bulk transfer's excess is dropped in the qdisc,
# before deflate, where TCP recovers from it.
legacy_pace_udp_zlib() {
	local proto compress
	read -r proto _ _ compress <<<"${LEGACY_ROWS[$(($1 - 1))]}"
	[ "$proto" = udp ] && [ "$compress" != no ] || return 0
	lib_nsexec "$2" tc qdisc replace dev "tl-r$1" root tbf rate 20mbit \
	    burst 16kb latency 1s ||
		lib_hard_error "cannot shape tl-r$1 in $(lib_ns "$2")"
}

# legacy_check_row I TNS VNS [VDEV]: both devices of row I up, then pings
# and the file both ways.  TNS/VNS: tapline's and the peer's namespace
# (srv or cli) for this direction of the test; VDEV: the peer's device
# name prefix (vtund's "vt" unless given).
legacy_check_row() {
	local i=$1 tns=$2 vns=$3 vdev=${4:-vt} tside vside taddr vaddr
	if [ "$tns" = srv ]; then
		tside=server vside=client
	else
		tside=client vside=server
	fi
	taddr=$(legacy_addr "$i" $tside)
	vaddr=$(legacy_addr "$i" $vside)
	lib_wait_up "$tns" "tl-r$i" 15 "$taddr"
	lib_wait_up "$vns" "$vdev$i" 15 "$vaddr"
	lib_wait_for 10 lib_ping "$tns" "$vaddr" 1 ||
		lib_fail "row $i (${LEGACY_ROWS[$((i - 1))]}): no ping" \
		    "tapline -> vtund"
	lib_ping "$tns" "$vaddr" 3 ||
		lib_fail "row $i: pings tapline -> vtund lost"
	lib_ping "$vns" "$taddr" 3 ||
		lib_fail "row $i: pings vtund -> tapline lost"
	legacy_pace_udp_zlib "$i" "$tns"
	lib_transfer "$tns" "$vns" "$vaddr" "$LEGACY_NC_PORT" "$LEGACY_DATA"
	lib_transfer "$vns" "$tns" "$taddr" "$LEGACY_NC_PORT" "$LEGACY_DATA"
	lib_log "row $i (${LEGACY_ROWS[$((i - 1))]}): ping and" \
	    "$(stat -c %s "$LEGACY_DATA") bytes both ways intact"
}
