#!/bin/bash
# The warnings of `portmuxd -n' are documented in portmux.conf(5): an
# admin who meets one must find what it means and what to write instead.
# Each case below is a small config that draws one kind of warning;
# every warning it prints must appear, word for word, in the rendered
# man page, where the numbers and quoted values of the message may stand
# as placeholders (N, LO-HI, 'NAME').
. "$(dirname "$0")/lib.sh"

need_cmd mandoc

MAN=$top_builddir/man/portmux.conf.5
[ -f "$MAN" ] || fail "$MAN is missing"
mandoc -Tascii -Owidth=1000 "$MAN" | sed -e 's/.\x08//g' -e 's/^ *//' >"$T/man.txt" ||
    fail "mandoc cannot render $MAN"

# The kernel's own range, so that the port below is inside it.
read -r lo hi </proc/sys/net/ipv4/ip_local_port_range ||
    fail "cannot read net.ipv4.ip_local_port_range"

# case NAME: one config on stdin; its warnings must be documented.
checked=0
case_conf()
{
	local name=$1 msg re n=0

	cat >"$T/$name.conf"
	"$PORTMUXD" -n -f "$T/$name.conf" >"$T/$name.out" 2>&1
	while IFS= read -r msg; do
		n=$((n + 1))
		# A regular expression of the message: each number and
		# each quoted value may be a placeholder in the page.
		re=$(printf '%s' "$msg" | sed -E \
		    -e 's/[][\.*^$+?(){}|/]/\\&/g' \
		    -e "s/'[^']*'/'[^']*'/g" \
		    -e 's/[0-9]+/[A-Z0-9]+/g')
		grep -Eq -- "$re" "$T/man.txt" ||
		    fail "$name: the warning '$msg' is not in portmux.conf(5)"
		checked=$((checked + 1))
	done < <(sed -n -E "s/^[^:]+:[0-9]+: warning: (service '[^']*': )?//p" \
	    "$T/$name.out")
	[ "$n" -gt 0 ] ||
	    fail "$name: no warning printed: $(cat "$T/$name.out")"
}

case_conf ephemeral <<EOF
service e {
  protocol = tcp
  address  = {127.0.0.1}
  port     = $((lo + 1))
  builtin  = echo
}
EOF

# xinetd's habits (portmux.conf(5) "Migrating from xinetd").
printf '#!/bin/sh\nexit 0\n' >"$T/in.tftpd"
chmod 755 "$T/in.tftpd"
case_conf xinetd <<EOF
allow = {0.0.0.0}
service t {
  protocol = udp
  address  = {127.0.0.1}
  port     = 2069
  server   = $T/in.tftpd
  args     = {-s, /srv/tftp}
  wait     = true
  allow    = {10.1.0.0}
}
EOF

ok "$checked warnings documented"
